// SPDX-License-Identifier: MIT
/*
 * arch/arm64/tlbflush.c - TLB maintenance and ASIDs.
 *
 * A TLBI ...IS instruction is broadcast in the inner-shareable domain: every
 * CPU drops the entry.  The model delivers it to the CPUs in mm->cpumask (the
 * CPUs the mm has ever run on - no other CPU can hold its entries, since
 * entries are tagged with the mm's ASID) and charges one TLBI + DSB.  Like
 * Linux, a range of more than MAX_TLBI_OPS pages is flushed by ASID instead.
 */
#include "mm/internal.h"

#define MAX_TLBI_OPS 512

static void trace_flush(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	TRACE(mm->machine, "tlb:tlb_flush", (int)smp_processor_id(mm->machine), -1, start, 0, 0,
	      "asid=%u start=0x%llx end=0x%llx", mm->asid, (unsigned long long)start,
	      (unsigned long long)end);
}

void flush_tlb_page(struct mm_struct *mm, uint64_t addr)
{
	struct mmsim_machine *m = mm->machine;

	for (unsigned int c = 0; c < m->nr_cpus; c++)
		if (mm->cpumask & (1ULL << c))
			tlb_flush_va_asid(&m->cpus[c].tlb, addr, mm->asid);
	charge(m, COST_TLBI_PAGE);
	trace_flush(mm, addr, addr + PAGE_SIZE);
}

void flush_tlb_mm(struct mm_struct *mm)
{
	struct mmsim_machine *m = mm->machine;

	for (unsigned int c = 0; c < m->nr_cpus; c++)
		if (mm->cpumask & (1ULL << c))
			tlb_flush_asid(&m->cpus[c].tlb, mm->asid);
	charge(m, COST_TLBI_ASID);
	trace_flush(mm, 0, TASK_SIZE);
}

void flush_tlb_range(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	struct mmsim_machine *m = mm->machine;

	if ((end - start) >> PAGE_SHIFT > MAX_TLBI_OPS) {
		flush_tlb_mm(mm);
		return;
	}
	for (unsigned int c = 0; c < m->nr_cpus; c++)
		if (mm->cpumask & (1ULL << c))
			for (uint64_t a = start; a < end; a += PAGE_SIZE)
				tlb_flush_va_asid(&m->cpus[c].tlb, a, mm->asid);
	charge_ns(m, m->costs[COST_TLBI_PAGE] * ((end - start) >> PAGE_SHIFT));
	trace_flush(mm, start, end);
}

void flush_pmd_tlb_range(struct mm_struct *mm, uint64_t haddr)
{
	struct mmsim_machine *m = mm->machine;

	for (unsigned int c = 0; c < m->nr_cpus; c++)
		if (mm->cpumask & (1ULL << c))
			tlb_flush_block_asid(&m->cpus[c].tlb, haddr, haddr + PMD_SIZE, mm->asid);
	charge(m, COST_TLBI_PAGE);
	trace_flush(mm, haddr, haddr + PMD_SIZE);
}

/*
 * ASIDs are 16 bits; 0 is never handed out.  Freed ASIDs are flushed from
 * every CPU before reuse so a new mm can never hit a dead mm's entries.
 */
int asid_alloc(struct mmsim_machine *m, uint16_t *asid)
{
	for (unsigned int w = 0; w < 1024; w++) {
		uint64_t free = ~m->asid_map[w];

		if (w == 0)
			free &= ~1ULL;
		if (free) {
			unsigned int bit = (unsigned int)__builtin_ctzll(free);

			m->asid_map[w] |= 1ULL << bit;
			*asid = (uint16_t)(w * 64 + bit);
			return 0;
		}
	}
	return -MMSIM_ENOMEM;
}

void asid_free(struct mmsim_machine *m, uint16_t asid)
{
	for (unsigned int c = 0; c < m->nr_cpus; c++)
		tlb_flush_asid(&m->cpus[c].tlb, asid);
	m->asid_map[asid / 64] &= ~(1ULL << (asid % 64));
}

/*
 * Write a descriptor.  Callers flush first when the old one was more
 * permissive.  A user-accessible Normal-Tagged mapping of a real page goes
 * through mte_sync_tags first, which may turn it into PAGE_METADATA_NONE.
 */
void set_pte_at(struct mm_struct *mm, uint64_t addr, pteval_t *ptep, pteval_t pte)
{
	struct mmsim_machine *m = mm->machine;

	(void)addr;
	if (m->mte.supported && pte_valid(pte) && pte_user(pte) && pte_tagged(pte) && !pte_special(pte))
		mte_sync_tags(m, &pte);
	set_pte(ptep, pte);
	charge(m, COST_PTE_UPDATE);
}

/* Break-before-make: clear, invalidate everywhere, then the caller may write. */
pteval_t ptep_clear_flush(struct mm_struct *mm, uint64_t addr, pteval_t *ptep)
{
	pteval_t old = *ptep;

	*ptep = 0;
	charge(mm->machine, COST_PTE_UPDATE);
	if (pte_valid(old))
		flush_tlb_page(mm, addr);
	return old;
}

/*
 * set_pmd_at - write a huge PMD.  arm64's set_pmd_at goes through the same
 * __set_pte_at: a user-accessible Normal-Tagged block has its tags synced
 * page by page (mte_sync_tags over compound_nr pages), and if any of its
 * pages lacks reserved tag storage the whole PMD is installed
 * PAGE_METADATA_NONE (spec §4.7).
 */
void set_pmd_at(struct mm_struct *mm, uint64_t addr, pteval_t *pmdp, pteval_t pmd)
{
	struct mmsim_machine *m = mm->machine;

	(void)addr;
	if (m->mte.supported && pte_valid(pmd) && pte_user(pmd) && pte_tagged(pmd) && !pte_special(pmd) &&
	    !is_huge_zero_pmd(m, pmd)) {
		bool none = false;

		for (uint64_t i = 0; i < HPAGE_PMD_NR; i++) {
			pteval_t pte = pmd_pte_at(pmd, i << PAGE_SHIFT);

			mte_sync_tags(m, &pte);
			none |= !pte_valid(pte);
		}
		if (none)
			pmd = pmd_modify(pmd, PAGE_METADATA_NONE);
	}
	*pmdp = pmd;
	charge(m, COST_PTE_UPDATE);
}

/* Break-before-make of a huge PMD: clear it, drop the block from every TLB. */
pteval_t pmdp_huge_clear_flush(struct mm_struct *mm, uint64_t haddr, pteval_t *pmdp)
{
	pteval_t old = *pmdp;

	*pmdp = 0;
	charge(mm->machine, COST_PTE_UPDATE);
	if (pte_valid(old))
		flush_pmd_tlb_range(mm, haddr);
	return old;
}
