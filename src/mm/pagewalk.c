// SPDX-License-Identifier: MIT
/*
 * mm/pagewalk.c - page tables in simulated RAM, walked level by level.
 *
 * Tables are ordinary frames from the page allocator (PG_table, counted in
 * nr_page_table_pages and the mm's VmPTE), so a page-table walk really reads
 * simulated memory and a machine short of memory really fails to grow its
 * tables.  Every walker here has the same shape as Linux's: pgd -> p4d
 * (folded) -> pud -> pmd -> pte, each level skipping empty entries.
 */
#include "mm/internal.h"

/* Allocate a zeroed table frame for mm; returns its pfn, 0 when out of memory. */
uint64_t pgtable_alloc(struct mm_struct *mm)
{
	struct mmsim_machine *m = mm->machine;
	struct page *p = alloc_pages_node(m, -1, GFP_PGTABLE_USER, 0);

	if (!p)
		return 0;
	p->flags |= PG_table;
	p->ptl = (spinlock_t)SPINLOCK_INIT("ptl");
	__atomic_fetch_add(&mm->pgtables_bytes, PAGE_SIZE, __ATOMIC_RELAXED);	/* threads fault at once */
	mod_node_page_state(&m->nodes[p->nid], NR_PAGETABLE, 1);
	return page_to_pfn(m, p);
}

void pgtable_free(struct mm_struct *mm, uint64_t pfn)
{
	struct mmsim_machine *m = mm->machine;
	struct page *p = pfn_to_page(m, pfn);

	p->flags &= ~PG_table;
	p->mapping = 0;		/* the lock shared these words */
	p->index = 0;
	__atomic_fetch_sub(&mm->pgtables_bytes, PAGE_SIZE, __ATOMIC_RELAXED);
	mod_node_page_state(&m->nodes[p->nid], NR_PAGETABLE, -1);
	__free_pages(m, p, 0);
}

/*
 * The next-level table behind entry *slot, allocating it when alloc is set.
 * Returns NULL when there is none (or no memory), or when the entry is a
 * block mapping rather than a table.
 */
static pteval_t *next_table(struct mm_struct *mm, pteval_t *slot, bool alloc)
{
	pteval_t entry = ptep_get(slot);

	if (pmd_none(entry)) {
		uint64_t pfn;

		if (!alloc || !(pfn = pgtable_alloc(mm)))
			return NULL;
		/* The allocation may have let a concurrent fault install one. */
		spin_lock(&mm->page_table_lock);
		if (pmd_none(ptep_get(slot))) {
			set_pte(slot, (pfn << PAGE_SHIFT) | PAGE_TABLE_DESC);
			pfn = 0;
		}
		spin_unlock(&mm->page_table_lock);
		if (pfn)
			pgtable_free(mm, pfn);
		entry = ptep_get(slot);
	}
	if (!pmd_table(entry))
		return NULL;
	return table_entries(mm->machine, table_pfn(entry));
}

static pteval_t *pgd_offset(struct mm_struct *mm, uint64_t addr)
{
	return table_entries(mm->machine, mm->pgd) + pgd_index(addr);
}

/* The p4d level is folded into the pgd on 4-level arm64. */
static pteval_t *p4d_offset(pteval_t *pgd, uint64_t addr)
{
	(void)addr;
	return pgd;
}

static pteval_t *pud_offset(struct mm_struct *mm, pteval_t *p4d, uint64_t addr, bool alloc)
{
	pteval_t *t = next_table(mm, p4d, alloc);

	return t ? t + pud_index(addr) : NULL;
}

static pteval_t *pmd_offset(struct mm_struct *mm, pteval_t *pud, uint64_t addr, bool alloc)
{
	pteval_t *t = next_table(mm, pud, alloc);

	return t ? t + pmd_index(addr) : NULL;
}

static pteval_t *pte_lookup(struct mm_struct *mm, uint64_t addr, bool alloc)
{
	pteval_t *pud, *pmd, *pte;

	pud = pud_offset(mm, p4d_offset(pgd_offset(mm, addr), addr), addr, alloc);
	if (!pud)
		return NULL;
	pmd = pmd_offset(mm, pud, addr, alloc);
	if (!pmd)
		return NULL;
	pte = next_table(mm, pmd, alloc);
	return pte ? pte + pte_index(addr) : NULL;
}

pteval_t *pte_offset(struct mm_struct *mm, uint64_t addr)
{
	return pte_lookup(mm, addr, false);
}

pteval_t *pte_offset_alloc(struct mm_struct *mm, uint64_t addr)
{
	return pte_lookup(mm, addr, true);
}

pteval_t *pmd_offset_alloc(struct mm_struct *mm, uint64_t addr)
{
	pteval_t *pud = pud_offset(mm, p4d_offset(pgd_offset(mm, addr), addr), addr, true);

	return pud ? pmd_offset(mm, pud, addr, true) : NULL;
}

pteval_t *mm_find_pmd(struct mm_struct *mm, uint64_t addr)
{
	pteval_t *pud = pud_offset(mm, p4d_offset(pgd_offset(mm, addr), addr), addr, false);

	return pud ? pmd_offset(mm, pud, addr, false) : NULL;
}

/* The PTE slot for addr behind the PMD slot pmdp, allocating the table. */
pteval_t *pte_alloc_map(struct mm_struct *mm, pteval_t *pmdp, uint64_t addr)
{
	pteval_t *t = next_table(mm, pmdp, true);

	return t ? t + pte_index(addr) : NULL;
}

void pmd_populate(struct mm_struct *mm, pteval_t *pmdp, uint64_t table_pfn)
{
	*pmdp = (table_pfn << PAGE_SHIFT) | PAGE_TABLE_DESC;
	charge(mm->machine, COST_PTE_UPDATE);
}

pteval_t follow_pte_value(struct mm_struct *mm, uint64_t addr)
{
	pteval_t *pmdp = mm_find_pmd(mm, addr), *t;
	struct mmsim_machine *m = mm->machine;

	if (!pmdp || pmd_none(*pmdp))
		return 0;
	if (pmd_trans_huge(*pmdp)) {
		/* The huge zero page, like the zero page, has no struct page to use. */
		if (is_huge_zero_pmd(m, *pmdp))
			return pte_mkspecial(pmd_pte_at(*pmdp, addr));
		return pmd_pte_at(*pmdp, addr);
	}
	if (!pmd_table(*pmdp))
		return 0;
	t = table_entries(m, table_pfn(*pmdp));
	return t[pte_index(addr)];
}

/* ------------------------------------------------------------ range walks */

static uint64_t level_end(uint64_t addr, uint64_t end, uint64_t size)
{
	uint64_t boundary = (addr + size) & ~(size - 1);

	return (boundary - 1 < end - 1) ? boundary : end;
}

static int walk_pte_range(pteval_t *pmd, uint64_t addr, uint64_t end, struct mm_walk *w)
{
	spinlock_t *ptl;
	pteval_t *pte;
	int err;

	if (!pmd_table(*pmd) || !w->ops->pte_entry)
		return 0;
	pte = table_entries(w->mm->machine, table_pfn(*pmd)) + pte_index(addr);
	ptl = pte_lockptr(w->mm, pte);
	spin_lock(ptl);
	for (err = 0; addr != end && !err; addr += PAGE_SIZE, pte++)
		if (!pte_none(*pte))
			err = w->ops->pte_entry(pte, addr, w);
	spin_unlock(ptl);
	return err;
}

static int walk_pmd_range(pteval_t *pud, uint64_t addr, uint64_t end, struct mm_walk *w)
{
	pteval_t *pmd;
	uint64_t next;
	int err;

	if (!pmd_table(*pud))
		return 0;
	pmd = table_entries(w->mm->machine, table_pfn(*pud)) + pmd_index(addr);
	for (; addr != end; addr = next, pmd++) {
		next = level_end(addr, end, PMD_SIZE);
		if (pmd_trans_huge(*pmd) && w->ops->pmd_entry &&
		    (err = w->ops->pmd_entry(pmd, addr, next, w)))
			return err;
		/* A huge PMD left whole is done; one split into a table is walked on. */
		if (!pmd_none(*pmd) && (err = walk_pte_range(pmd, addr, next, w)))
			return err;
	}
	return 0;
}

static int walk_pud_range(pteval_t *p4d, uint64_t addr, uint64_t end, struct mm_walk *w)
{
	pteval_t *pud;
	uint64_t next;
	int err;

	if (!pmd_table(*p4d))
		return 0;
	pud = table_entries(w->mm->machine, table_pfn(*p4d)) + pud_index(addr);
	for (; addr != end; addr = next, pud++) {
		next = level_end(addr, end, PUD_SIZE);
		if (!pmd_none(*pud) && (err = walk_pmd_range(pud, addr, next, w)))
			return err;
	}
	return 0;
}

/*
 * walk_page_range - call ops->pmd_entry on every huge PMD and ops->pte_entry
 * on every non-empty PTE of [start, end).  Assumes start and end page
 * aligned, start < end <= TASK_SIZE.
 */
int walk_page_range(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t start,
		    uint64_t end, const struct mm_walk_ops *ops, void *private)
{
	struct mm_walk w = { .ops = ops, .mm = mm, .vma = vma, .private = private };
	pteval_t *pgd = pgd_offset(mm, start);
	uint64_t next;
	int err;

	for (uint64_t addr = start; addr != end; addr = next, pgd++) {
		next = level_end(addr, end, PGDIR_SIZE);
		if (!pmd_none(*pgd) && (err = walk_pud_range(p4d_offset(pgd, addr), addr, next, &w)))
			return err;
	}
	return 0;
}

/* ------------------------------------------------------- freeing tables */

/* Free the table behind *slot if every entry in it is empty. */
static void free_table_if_empty(struct mm_struct *mm, pteval_t *slot)
{
	pteval_t *t = table_entries(mm->machine, table_pfn(*slot));

	for (int i = 0; i < PTRS_PER_TABLE; i++)
		if (!pmd_none(t[i]))
			return;
	pgtable_free(mm, table_pfn(*slot));
	*slot = 0;
}

/*
 * A table may go only if the whole span it maps lies in [floor, ceiling): the
 * gap between two VMAs, which munmap has emptied.  A non-empty PTE there is
 * a kernel bug (a leaked mapping); it is logged and the table is kept.
 */
static bool span_inside(uint64_t addr, uint64_t size, uint64_t floor, uint64_t ceiling)
{
	uint64_t start = addr & ~(size - 1);

	return start >= floor && start + size - 1 <= ceiling - 1;
}

static void free_pte_table(struct mm_struct *mm, pteval_t *pmd, uint64_t addr)
{
	pteval_t *pte = table_entries(mm->machine, table_pfn(*pmd));

	for (int i = 0; i < PTRS_PER_TABLE; i++)
		if (!pte_none(pte[i])) {
			printk(mm->machine, "BUG: non-empty pte 0x%llx at 0x%llx in a freed range",
			       (unsigned long long)pte[i],
			       (unsigned long long)(addr + ((uint64_t)i << PAGE_SHIFT)));
			return;
		}
	pgtable_free(mm, table_pfn(*pmd));
	*pmd = 0;
}

static void free_pmd_range(struct mm_struct *mm, pteval_t *pud, uint64_t addr, uint64_t end,
			   uint64_t floor, uint64_t ceiling)
{
	pteval_t *pmd = table_entries(mm->machine, table_pfn(*pud)) + pmd_index(addr);
	uint64_t next;

	for (; addr != end; addr = next, pmd++) {
		next = level_end(addr, end, PMD_SIZE);
		if (pmd_table(*pmd) && span_inside(addr, PMD_SIZE, floor, ceiling))
			free_pte_table(mm, pmd, addr & PMD_MASK);
	}
	if (span_inside(addr - 1, PUD_SIZE, floor, ceiling))
		free_table_if_empty(mm, pud);
}

static void free_pud_range(struct mm_struct *mm, pteval_t *p4d, uint64_t addr, uint64_t end,
			   uint64_t floor, uint64_t ceiling)
{
	pteval_t *pud = table_entries(mm->machine, table_pfn(*p4d)) + pud_index(addr);
	uint64_t next;

	for (; addr != end; addr = next, pud++) {
		next = level_end(addr, end, PUD_SIZE);
		if (pmd_table(*pud))
			free_pmd_range(mm, pud, addr, next, floor, ceiling);
	}
	if (span_inside(addr - 1, PGDIR_SIZE, floor, ceiling))
		free_table_if_empty(mm, p4d);
}

/*
 * free_pgtables - free every page table that maps only addresses in
 * [floor, ceiling).  Callers pass the gap munmap left between two VMAs (or
 * [0, TASK_SIZE) at exit).  floor and ceiling are page aligned.
 */
void free_pgtables(struct mm_struct *mm, uint64_t floor, uint64_t ceiling)
{
	pteval_t *pgd;
	uint64_t next;

	if (floor >= ceiling)
		return;
	pgd = pgd_offset(mm, floor);
	for (uint64_t addr = floor; addr != ceiling; addr = next, pgd++) {
		next = level_end(addr, ceiling, PGDIR_SIZE);
		if (pmd_table(*pgd))
			free_pud_range(mm, p4d_offset(pgd, addr), addr, next, floor, ceiling);
	}
}

/* Free all tables and the pgd itself; the address space must be empty. */
void free_pgd(struct mm_struct *mm)
{
	free_pgtables(mm, 0, TASK_SIZE);
	pgtable_free(mm, mm->pgd);
	mm->pgd = 0;
}
