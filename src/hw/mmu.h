/* SPDX-License-Identifier: MIT */
/*
 * hw/mmu.h - the stage-1 translation table walk of a CPU.
 */
#ifndef MMSIM_HW_MMU_H
#define MMSIM_HW_MMU_H

#include "kernel/machine.h"

/*
 * mmu_walk - translate va for an EL0 access of the given kind under mm.
 * On success fills *e (key, host address, pfn, permissions) and returns 0.
 * On a fault returns -1 with the ESR value (translation, access-flag or
 * permission fault, and the level) in *esr.  With hardware AF/DBM the walk
 * sets the Access flag and clears AP[2] on a write to a DBM page in the
 * descriptor itself, as FEAT_HAFDBM hardware does.
 */
int mmu_walk(struct mmsim_machine *m, struct mm_struct *mm, uint64_t va, bool write,
	     struct tlb_entry *e, uint32_t *esr);

#endif
