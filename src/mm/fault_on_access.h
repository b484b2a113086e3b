/* SPDX-License-Identifier: MIT */
/*
 * mm/fault_on_access.h - the generic "fault-on-access" hook: an architecture
 * marks an entry PAGE_NONE (protnone) so that the next access faults, tells
 * its own entries apart from NUMA hinting ones by a bit of its choosing, and
 * gets those faults routed to it by handle_pte_protnone().
 *
 * The arch side is two functions.  mm/numa_balancing.c defines them weak,
 * with the behaviour of an arch that has no such entries (predicate false,
 * callback SIGBUS); an arch overrides them with ordinary (strong)
 * definitions in an object that is linked anyway (arm64:
 * arch/arm64/tag_storage.c), and the linker then takes the arch's.
 *
 * The callback contract, which handle_pte_protnone() checks on every call
 * (a breach is counted in machine->fault_contract_violations and logged):
 *
 *   entry   the fault lock is held (vmf->fault_lock_held), the PT lock is
 *           not, and the caller holds one extra reference on the page.
 *   always  the callback drops that reference before returning.
 *   RETRY or COMPLETED in the result:
 *           without FAULT_FLAG_RETRY_NOWAIT the callback has released the
 *           fault lock (release_fault_lock()); with it, it has not.
 *   anything else: the fault lock is still held on return; the generic
 *           fault path releases it.
 *   *map_pte  only read on a 0 return: true asks the generic code to make
 *           the entry present again if it did not change meanwhile.
 */
#ifndef MMSIM_MM_FAULT_ON_ACCESS_H
#define MMSIM_MM_FAULT_ON_ACCESS_H

#include <stdbool.h>

#include "mm/internal.h"

#ifndef FAULT_FLAG_VMA_LOCK
#define FAULT_FLAG_VMA_LOCK     0x1000U  /* fault runs under the per-VMA lock   */
#endif
#ifndef NUMA_NO_NODE
#define NUMA_NO_NODE            (-1)
#endif

/* The arch hooks (weak defaults in mm/numa_balancing.c). */
bool arch_fault_on_access_pte(struct mmsim_machine *m, pteval_t pte);
bool arch_fault_on_access_pmd(struct mmsim_machine *m, pteval_t pmd);
vm_fault_t arch_handle_folio_fault_on_access(struct page *folio, struct vm_fault *vmf,
					     bool *map_pte);

/*
 * The behaviour of an arch without fault-on-access entries, under names of
 * their own so it stays reachable (and testable) after an arch overrides
 * the weak hooks.
 */
bool generic_fault_on_access_pte(struct mmsim_machine *m, pteval_t pte);
vm_fault_t generic_handle_folio_fault_on_access(struct page *folio, struct vm_fault *vmf,
						bool *map_pte);

/*
 * release_fault_lock - drop the lock the fault runs under (mmap_lock or the
 * per-VMA lock, after FAULT_FLAG_VMA_LOCK).  Like Linux's, it does not look
 * at FAULT_FLAG_RETRY_NOWAIT.  Releasing a lock that is not held is itself
 * a contract violation and is counted.
 */
void release_fault_lock(struct vm_fault *vmf);

/*
 * TEST ONLY.  When machine->fault_on_access_test_hook is set, its two
 * functions stand in for the arch predicate and callback, so tests can
 * drive every branch of the contract whichever arch code is linked.  The
 * model itself never sets it.
 */
struct fault_on_access_test_hook {
	bool (*pte)(void *ctx, pteval_t pte);
	vm_fault_t (*handle)(void *ctx, struct page *folio, struct vm_fault *vmf, bool *map_pte);
	void *ctx;
};

/* kernel.numa_balancing modes (the sysctl's bits). */
#define NUMA_BALANCING_DISABLED       0x0
#define NUMA_BALANCING_NORMAL         0x1
#define NUMA_BALANCING_MEMORY_TIERING 0x2

/* Scanner defaults (Linux's sysctl_numa_balancing_scan_*). */
#define NUMA_BALANCING_SCAN_PERIOD_MIN_MS 1000ULL
#define NUMA_BALANCING_SCAN_SIZE_MB       256ULL
/* The "numa_scan" daemon's period in simulated ns: one pass per scan period. */
#define NUMA_SCAN_PERIOD_NS (NUMA_BALANCING_SCAN_PERIOD_MIN_MS * 1000000ULL)

/* The "numa_scan" daemon: one pass of task_numa_work over every mm. */
int task_numa_work(struct mmsim_machine *m);
/*
 * change_prot_numa - mark the present PTEs of [start, end) of vma protnone
 * as NUMA hints, skipping what Linux's prot_numa path skips; flushes what
 * it changed.  target_nid: pages already there are left alone
 * (NUMA_NO_NODE: none are).  Returns the number of PTEs changed.
 */
uint64_t change_prot_numa(struct vm_area_struct *vma, uint64_t start, uint64_t end,
			  int target_nid);

#endif
