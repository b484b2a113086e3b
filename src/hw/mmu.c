// SPDX-License-Identifier: MIT
/*
 * hw/mmu.c - what the MMU does on a TLB miss: walk four levels of
 * descriptors in simulated RAM, check the leaf's permissions for an EL0
 * access, and produce either a TLB entry or a fault syndrome.  The walker
 * knows nothing of Linux: it reads only hardware fields.  A leaf may be a
 * page (level 3) or a block (level 1: 1 GiB, level 2: 2 MiB, bits[1:0] =
 * 01); a block fills the TLB with the 4 KiB entry of the page accessed.
 */
#include "hw/mmu.h"

static const unsigned int level_shift[4] = { PGDIR_SHIFT, PUD_SHIFT, PMD_SHIFT, PAGE_SHIFT };

/*
 * A hardware update of the access flag or dirty state is an atomic
 * read-modify-write of the descriptor (FEAT_HAFDBS): it happens only if
 * the descriptor is still what the walk read, else software changed it
 * meanwhile and the walk sees the new one.
 */
static bool hw_update(pteval_t *slot, pteval_t *desc, pteval_t want)
{
	if (!__atomic_compare_exchange_n(slot, desc, want, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return false;
	*desc = want;
	return true;
}

int mmu_walk(struct mmsim_machine *m, struct mm_struct *mm, uint64_t va, bool write,
	     struct tlb_entry *e, uint32_t *esr)
{
	uint64_t table = mm->pgd;
	pteval_t *slot = NULL, desc = 0;
	unsigned int level;

	charge(m, COST_TLB_WALK);
	if (va >= TASK_SIZE) {
		*esr = esr_dabt(ESR_ELx_FSC_FAULT, 0, write);
		return -1;
	}
	for (level = 0; level < 4; level++) {
		slot = (pteval_t *)pfn_to_virt(m, table) + ((va >> level_shift[level]) & (PTRS_PER_TABLE - 1));
		desc = ptep_get(slot);
		if (!(desc & PTE_VALID)) {
			*esr = esr_dabt(ESR_ELx_FSC_FAULT, level, write);
			return -1;
		}
		if (level == 3 || !(desc & PTE_TABLE_BIT))
			break;
		table = table_pfn(desc);
		if (!pfn_valid(m, table))
			goto external_abort;
	}
	/* A block at level 0, or a reserved encoding at level 3, is a translation fault. */
	if (level == 0 || (level == 3 && !(desc & PTE_TABLE_BIT))) {
		*esr = esr_dabt(ESR_ELx_FSC_FAULT, level, write);
		return -1;
	}
	if (!(desc & PTE_AF)) {
		if (!m->hw_afdbm) {
			*esr = esr_dabt(ESR_ELx_FSC_ACCESS, level, write);
			return -1;
		}
		if (!hw_update(slot, &desc, desc | PTE_AF)) {
			*esr = esr_dabt(ESR_ELx_FSC_FAULT, level, write);	/* changed under us: walk again */
			return -1;
		}
	}
	if (!(desc & PTE_USER)) {
		*esr = esr_dabt(ESR_ELx_FSC_PERM, level, write);
		return -1;
	}
	if (write && (desc & PTE_RDONLY)) {
		if (!m->hw_afdbm || !(desc & PTE_DBM)) {
			*esr = esr_dabt(ESR_ELx_FSC_PERM, level, write);
			return -1;
		}
		/* Hardware dirty-state update. */
		if (!hw_update(slot, &desc, desc & ~PTE_RDONLY)) {
			*esr = esr_dabt(ESR_ELx_FSC_FAULT, level, write);
			return -1;
		}
	}
	{
		/*
		 * A block's output address is bits [47:shift] (the bits below
		 * are RES0 there); the entry the TLB gets is the 4 KiB page of
		 * the block that va falls in.
		 */
		uint64_t block_mask = (1ULL << level_shift[level]) - 1;
		uint64_t offset = va & block_mask & PAGE_MASK;
		uint64_t pfn = (((desc & PTE_ADDR_MASK) & ~block_mask) + offset) >> PAGE_SHIFT;

		if (!pfn_valid(m, pfn))
			goto external_abort;
		e->key = tlb_key(va, mm->asid);
		e->pfn = pfn;
		e->host = pfn_to_virt(m, pfn);
		e->level = level;
		e->perm = TLB_R | ((desc & PTE_RDONLY) ? 0 : TLB_W) |
			  (((desc & PTE_ATTRINDX_MASK) == PTE_ATTRINDX(MT_NORMAL_TAGGED)) ? TLB_TAGGED : 0);
	}
	return 0;

external_abort:
	/* A descriptor naming memory that does not exist: synchronous external abort. */
	*esr = esr_dabt(ESR_ELx_FSC_EXTABT, 0, write);
	return -1;
}
