/* SPDX-License-Identifier: MIT */
/*
 * arch/arm64/tlbflush.h - the receiving end of a TLB shootdown (see the
 * design note of tlbflush.c).  The body that holds a CPU applies the
 * requests other CPUs posted to its mailbox: whenever it takes the CPU
 * (sched.c, par_hold), at every scheduling point, and before each
 * translation.  Checking costs one load.
 */
#ifndef MMSIM_ARCH_ARM64_TLBFLUSH_H
#define MMSIM_ARCH_ARM64_TLBFLUSH_H

#include "kernel/machine.h"

/* Apply every request waiting in c's mailbox to c's TLB; the caller holds c. */
void tlb_ipi_handle(struct mmsim_machine *m, struct cpu *c);

/* Does c's mailbox hold requests?  Pairs with the sender's post (seq_cst: see tlbflush.c). */
static inline bool tlb_ipi_pending(struct cpu *c)
{
	return __atomic_load_n(&c->ipi.pending, __ATOMIC_SEQ_CST) != 0;
}

static inline void tlb_ipi_check(struct mmsim_machine *m, struct cpu *c)
{
	if (tlb_ipi_pending(c))
		tlb_ipi_handle(m, c);
}

/* Apply what every CPU's mailbox holds; nothing may run beside the caller. */
void tlb_ipi_drain_all(struct mmsim_machine *m);

#endif
