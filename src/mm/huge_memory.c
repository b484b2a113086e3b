// SPDX-License-Identifier: MIT
/*
 * mm/huge_memory.c - transparent huge pages for private anonymous memory.
 *
 * Design
 * ------
 * A THP is an order-9 compound page (mm_types.h) mapped by one level-2
 * block descriptor, a "huge PMD" (arch/arm64/pgtable.h).  The MMU walks it
 * like any block; the TLB keeps filling 4 KiB entries from it.
 *
 *   fault      A first touch of a PMD-sized, PMD-aligned range inside a VMA
 *              that may have THPs (enabled=always, or madvise with
 *              MADV_HUGEPAGE; never with MADV_NOHUGEPAGE or the prctl)
 *              allocates the THP zeroed (tagged VMAs: __GFP_TAGGED, so the
 *              allocator reserves its tag blocks) and maps the PMD.  A
 *              read maps the huge zero page instead.  When the allocation
 *              fails the fault falls back to PTEs (thp_fault_fallback).
 *   write      to a PMD-mapped THP that only this mapping can reach reuses
 *              it; anything else splits the PMD and lets the PTE path copy
 *              the one page written (COW stays 4 KiB, as in Linux).  A
 *              write to the huge zero page splits it into 512 zero-page
 *              PTEs, or with thp_zero_wp=alloc allocates a THP (seed 003).
 *   split PMD  __split_huge_pmd turns the block into a PTE table mapping
 *              the same 512 pages with the same rights (break-before-make).
 *              Partial munmap, mprotect, MADV_DONTNEED, mremap and VMA
 *              splits do this; the folio itself stays whole.
 *   split page split_huge_page turns the folio into 512 order-0 pages, for
 *              whoever needs them (reclaim to swap, migration, and a folio
 *              partly unmapped, which Linux leaves to the deferred-split
 *              shrinker and the model splits at once).
 *   fork       shares the THP copy-on-write: both PMDs read-only.
 *   protnone   mprotect(PROT_MTE) with dynamic tag storage marks a whole
 *              PMD PAGE_METADATA_NONE (spec §4.2) and the NUMA scanner marks
 *              whole PMDs PAGE_NONE; the fault on such a PMD goes through
 *              handle_huge_pmd_protnone (mm/numa_balancing.c), which
 *              reserves the THP's tag storage at order 9 and maps the PMD
 *              back read-only (§4.6), or counts the NUMA hint.
 *
 * Counting, as Linux counts: every mapping (a PMD, or a PTE of any of its
 * pages) holds one reference on the head; a PMD map counts in the head's
 * entire_mapcount, a PTE map in that page's mapcount.  A PMD map costs
 * MM_ANONPAGES 512 and NR_ANON_THPS 512.  Every huge PMD has a PTE table
 * deposited for it (mm->pmd_huge_pte), so splitting never allocates; the
 * tables count in the mm's VmPTE as in Linux.  mmsim_check() verifies all
 * of it (check.c).
 *
 * Locks, as Linux takes them: a huge PMD changes only under the PMD lock
 * (mm->page_table_lock, pmd_lock()), after checking it is still what the
 * caller saw; anything that may sleep (allocation, a split of other
 * mappings) runs outside it.  A fault that finds its PMD changed under the
 * lock returns 0 and the access faults again.
 *
 * Not modelled: khugepaged (collapse), THP swap-out as one unit, THP
 * migration as one unit (the folio is split first), shmem/file THPs,
 * mTHP orders below PMD size, and the shrinker that frees the huge zero
 * page when unused.  In a VM_MTE mapping the huge zero page is not used: a
 * read fault there allocates the THP (its tags need reserved storage, which
 * the shared huge zero page does not have).
 */
#include "mm/fault_on_access.h"
#include "mm/internal.h"

/* ---------------------------------------------------------------- policy */

bool thp_vma_allowable(const struct vm_area_struct *vma)
{
	struct mmsim_machine *m = vma->vm_mm->machine;

	if (!vma_is_anonymous(vma) || (vma->vm_flags & (VM_SHARED | VM_MAYSHARE | VM_HUGETLB | VM_NOHUGEPAGE)))
		return false;
	if (vma->vm_mm->thp_disabled)
		return false;
	if (m->thp_enabled == THP_ENABLED_ALWAYS)
		return true;
	return m->thp_enabled == THP_ENABLED_MADVISE && (vma->vm_flags & VM_HUGEPAGE);
}

bool thp_vma_suitable(const struct vm_area_struct *vma, uint64_t haddr)
{
	/* The page index must be huge-aligned where the address is. */
	if (((vma->vm_start >> PAGE_SHIFT) - vma->vm_pgoff) & (HPAGE_PMD_NR - 1))
		return false;
	return haddr >= vma->vm_start && haddr + HPAGE_PMD_SIZE <= vma->vm_end;
}

/*
 * Linux's vma_thp_gfp_mask: direct reclaim only where the defrag setting
 * allows it for this VMA (always; madvise and defer+madvise for
 * MADV_HUGEPAGE areas), kswapd wakeups for the defer settings.
 */
gfp_t vma_thp_gfp_mask(const struct vm_area_struct *vma)
{
	bool madvised = vma->vm_flags & VM_HUGEPAGE;
	gfp_t light = (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOWARN) & ~__GFP_RECLAIM;

	switch (vma->vm_mm->machine->thp_defrag) {
	case THP_DEFRAG_ALWAYS:
		return light | __GFP_DIRECT_RECLAIM;
	case THP_DEFRAG_DEFER:
		return light | __GFP_KSWAPD_RECLAIM;
	case THP_DEFRAG_DEFER_MADVISE:
		return light | (madvised ? __GFP_DIRECT_RECLAIM : __GFP_KSWAPD_RECLAIM);
	case THP_DEFRAG_MADVISE:
		return light | (madvised ? __GFP_DIRECT_RECLAIM : 0);
	default:
		return light;
	}
}

/* The lock of a huge PMD (Linux's pmd_lock: the mm's page_table_lock). */
static spinlock_t *pmd_lock(struct mm_struct *mm, pteval_t *pmdp)
{
	(void)pmdp;
	spin_lock(&mm->page_table_lock);
	return &mm->page_table_lock;
}

/* ------------------------------------------------------- deposited tables */

void pgtable_trans_huge_deposit(struct mm_struct *mm, uint64_t table_pfn)
{
	list_add(&pfn_to_page(mm->machine, table_pfn)->lru, &mm->pmd_huge_pte);
}

uint64_t pgtable_trans_huge_withdraw(struct mm_struct *mm)
{
	struct page *p;

	if (list_empty(&mm->pmd_huge_pte))
		return 0;
	p = list_first_entry(&mm->pmd_huge_pte, struct page, lru);
	list_del(&p->lru);
	return page_to_pfn(mm->machine, p);
}

uint64_t nr_deposited_pgtables(struct mm_struct *mm)
{
	struct list_head *pos;
	uint64_t n = 0;

	list_for_each(pos, &mm->pmd_huge_pte)
		n++;
	return n;
}

/* ------------------------------------------------------- the huge zero page */

struct page *mm_get_huge_zero_page(struct mmsim_machine *m)
{
	struct page *p;

	if (m->huge_zero_pfn)
		return pfn_to_page(m, m->huge_zero_pfn);
	/* Linux: GFP_TRANSHUGE | __GFP_ZERO without __GFP_MOVABLE - it never moves. */
	p = alloc_pages_node(m, -1, GFP_HIGHUSER | __GFP_COMP | __GFP_ZERO | __GFP_NOWARN, HPAGE_PMD_ORDER);
	if (!p) {
		count_vm_event(m, THP_ZERO_PAGE_ALLOC_FAILED);
		return NULL;
	}
	/* Another task's allocation won meanwhile (Linux's cmpxchg): use that one. */
	if (m->huge_zero_pfn) {
		put_page(m, p);
		return pfn_to_page(m, m->huge_zero_pfn);
	}
	for (uint64_t i = 0; i < HPAGE_PMD_NR; i++)
		p[i].flags |= PG_zero;
	m->huge_zero_pfn = page_to_pfn(m, p);
	count_vm_event(m, THP_ZERO_PAGE_ALLOC);
	return p;
}

/* Map the huge zero page read-only at haddr, with its deposited table. */
static void set_huge_zero_page(struct vm_fault *vmf, uint64_t haddr, uint64_t table)
{
	struct mmsim_machine *m = vmf->mm->machine;
	pteval_t entry = pfn_pmd(m->huge_zero_pfn, vmf->vma->vm_page_prot);

	pgtable_trans_huge_deposit(vmf->mm, table);
	set_pmd_at(vmf->mm, haddr, vmf->pmd, pmd_wrprotect(entry));
}

/* ----------------------------------------------------------------- faults */

static void trace_huge_fault(struct vm_fault *vmf, const char *kind)
{
	TRACE(vmf->mm->machine, "fault:handle_mm_fault", (int)vmf->task->cpu, vmf->task->pid,
	      vmf->address, pmd_pfn(*vmf->pmd), HPAGE_PMD_ORDER, "address=0x%llx kind=%s write=%d",
	      (unsigned long long)vmf->address, kind, !!(vmf->flags & FAULT_FLAG_WRITE));
}

/*
 * thp_fault_alloc - a zeroed THP for a fault at haddr, on the policy's
 * node; NULL (and thp_fault_fallback) when there is none.
 * A tagged VMA's THP is allocated __GFP_TAGGED: its tag storage is
 * reserved with it, and its tags are cleared with its data.
 */
static struct page *thp_fault_alloc(struct vm_fault *vmf, uint64_t haddr)
{
	struct mmsim_machine *m = vmf->mm->machine;
	struct vm_area_struct *vma = vmf->vma;
	gfp_t gfp = vma_thp_gfp_mask(vma) | __GFP_ZERO | vma_tagged_gfp(vma);
	struct page *folio;

	folio = alloc_pages_node(m, policy_node(vmf->task, vma, haddr), gfp, HPAGE_PMD_ORDER);
	if (!folio) {
		count_vm_event(m, THP_FAULT_FALLBACK);
		return NULL;
	}
	return folio;
}

/*
 * map_pmd_thp - map a new THP at haddr, dirty and writable when the VMA is
 * (seed 003's helper), and put it on the LRU.  A non-empty PMD (the huge
 * zero page) is cleared and flushed first and keeps its deposited table;
 * table is the one to deposit for an empty PMD.  Under the PMD lock.
 */
static void map_pmd_thp(struct page *folio, struct vm_fault *vmf, uint64_t haddr, uint64_t table)
{
	struct mmsim_machine *m = vmf->mm->machine;
	struct vm_area_struct *vma = vmf->vma;
	pteval_t entry = pfn_pmd(page_to_pfn(m, folio), vma->vm_page_prot);

	if (vma->vm_flags & VM_WRITE)
		entry = pmd_mkwrite(pmd_mkdirty(entry));
	lru_add(m, folio);
	folio_add_new_anon_rmap(folio, vma, haddr);
	if (!pmd_none(*vmf->pmd))
		pmdp_huge_clear_flush(vmf->mm, haddr, vmf->pmd);
	if (table)
		pgtable_trans_huge_deposit(vmf->mm, table);
	set_pmd_at(vmf->mm, haddr, vmf->pmd, pmd_mkyoung(entry));
	vmf->mm->rss[MM_ANONPAGES] += HPAGE_PMD_NR;
	count_vm_event(m, THP_FAULT_ALLOC);
}

/*
 * do_huge_pmd_anonymous_page - first touch of an empty PMD in a VMA that may
 * have THPs.  VM_FAULT_FALLBACK when the range does not fit or no THP can
 * be had: the caller maps a 4 KiB page instead.
 */
vm_fault_t do_huge_pmd_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vmf->mm;
	struct mmsim_machine *m = mm->machine;
	uint64_t haddr = vmf->address & HPAGE_PMD_MASK, table;
	struct page *folio;
	spinlock_t *ptl;

	if (!thp_vma_suitable(vma, haddr))
		return VM_FAULT_FALLBACK;
	if (anon_vma_prepare(mm, vma))
		return VM_FAULT_OOM;
	if (!(vmf->flags & FAULT_FLAG_WRITE) && m->thp_use_zero_page && !(vma->vm_flags & VM_MTE)) {
		table = pgtable_alloc(mm);
		if (!table)
			return VM_FAULT_OOM;
		if (!mm_get_huge_zero_page(m)) {
			pgtable_free(mm, table);
			count_vm_event(m, THP_FAULT_FALLBACK);
			return VM_FAULT_FALLBACK;
		}
		ptl = pmd_lock(mm, vmf->pmd);
		if (pmd_none(*vmf->pmd)) {
			set_huge_zero_page(vmf, haddr, table);
			table = 0;
		}
		spin_unlock(ptl);
		if (table) {
			pgtable_free(mm, table);
			trace_huge_fault(vmf, "thp-overtaken");
			return 0;
		}
		trace_huge_fault(vmf, "thp-zero");
		return 0;
	}
	folio = thp_fault_alloc(vmf, haddr);
	if (!folio)
		return VM_FAULT_FALLBACK;
	table = pgtable_alloc(mm);
	if (!table) {
		put_page(m, folio);
		return VM_FAULT_OOM;
	}
	ptl = pmd_lock(mm, vmf->pmd);
	if (!pmd_none(*vmf->pmd)) {
		/* Another fault mapped something here meanwhile. */
		spin_unlock(ptl);
		put_page(m, folio);
		pgtable_free(mm, table);
		trace_huge_fault(vmf, "thp-overtaken");
		return 0;
	}
	map_pmd_thp(folio, vmf, haddr, table);
	spin_unlock(ptl);
	trace_huge_fault(vmf, "thp-anon");
	return 0;
}

/*
 * do_huge_zero_wp_pmd - seed 003: a write to the huge zero page gets a THP
 * in its place; the table deposited at the read fault stays.  FALLBACK
 * when no THP can be allocated (the caller splits).
 */
static vm_fault_t do_huge_zero_wp_pmd(struct vm_fault *vmf, uint64_t haddr)
{
	struct page *folio = thp_fault_alloc(vmf, haddr);
	spinlock_t *ptl;

	if (!folio)
		return VM_FAULT_FALLBACK;
	ptl = pmd_lock(vmf->mm, vmf->pmd);
	if (*vmf->pmd != vmf->orig_pmd) {
		/* Changed meanwhile: the access faults again.  (The seed leaks folio here.) */
		spin_unlock(ptl);
		put_page(vmf->mm->machine, folio);
		return 0;
	}
	map_pmd_thp(folio, vmf, haddr, 0);
	spin_unlock(ptl);
	trace_huge_fault(vmf, "thp-zero-wp");
	return 0;
}

/*
 * do_huge_pmd_wp_page - a write hit a read-only huge PMD.  A THP that is
 * this mapping's alone (exclusive, or its only reference) becomes writable
 * in place; otherwise the PMD is split and the PTE path copies the page
 * written.
 */
vm_fault_t do_huge_pmd_wp_page(struct vm_fault *vmf)
{
	struct mmsim_machine *m = vmf->mm->machine;
	uint64_t haddr = vmf->address & HPAGE_PMD_MASK;
	pteval_t orig = vmf->orig_pmd, entry;
	struct page *folio;
	spinlock_t *ptl;

	if (is_huge_zero_pmd(m, orig)) {
		if (m->thp_zero_wp_alloc) {
			vm_fault_t ret = do_huge_zero_wp_pmd(vmf, haddr);

			if (!(ret & VM_FAULT_FALLBACK))
				return ret;
		}
		goto fallback;
	}
	ptl = pmd_lock(vmf->mm, vmf->pmd);
	if (*vmf->pmd != orig) {
		spin_unlock(ptl);
		return 0;
	}
	folio = pfn_to_page(m, pmd_pfn(orig));
	if (!PageAnon(folio) || (!(folio->flags & PG_anon_exclusive) && folio->refcount != 1)) {
		spin_unlock(ptl);
		goto fallback;
	}
	/* Exclusive, or only this PMD holds it: nobody else can see a write. */
	folio->flags |= PG_anon_exclusive;
	entry = pmd_mkyoung(pmd_mkdirty(orig));
	if (vmf->vma->vm_flags & VM_WRITE)
		entry = pmd_mkwrite(entry);
	set_pmd_at(vmf->mm, haddr, vmf->pmd, entry);
	spin_unlock(ptl);
	trace_huge_fault(vmf, "thp-wp-reuse");
	return 0;

fallback:
	__split_huge_pmd(vmf->vma, vmf->pmd, haddr);
	trace_huge_fault(vmf, "thp-wp-split");
	return VM_FAULT_FALLBACK;
}

/* Access flag (and dirty state) of a huge PMD: the fault only records the access. */
static void huge_pmd_set_accessed(struct vm_fault *vmf)
{
	pteval_t entry = pmd_mkyoung(vmf->orig_pmd);
	spinlock_t *ptl = pmd_lock(vmf->mm, vmf->pmd);

	if (vmf->flags & FAULT_FLAG_WRITE)
		entry = pmd_mkdirty(entry);
	if (*vmf->pmd == vmf->orig_pmd && entry != vmf->orig_pmd) {
		*vmf->pmd = entry;
		charge(vmf->mm->machine, COST_PTE_UPDATE);
	}
	spin_unlock(ptl);
	trace_huge_fault(vmf, "thp-young-dirty");
}

vm_fault_t handle_huge_pmd_fault(struct vm_fault *vmf)
{
	pteval_t orig = vmf->orig_pmd;

	if (pmd_protnone(orig) && (vmf->vma->vm_flags & VM_ACCESS_FLAGS))
		return handle_huge_pmd_protnone(vmf);
	if ((vmf->flags & FAULT_FLAG_WRITE) && !pmd_write(orig))
		return do_huge_pmd_wp_page(vmf);
	huge_pmd_set_accessed(vmf);
	return 0;
}

/* -------------------------------------------------------- splitting a PMD */

/*
 * __split_huge_pmd - the huge PMD at haddr becomes a table of 512 PTEs:
 * the zero page for the huge zero page, else the THP's own pages with the
 * PMD's write, dirty and young state and the VMA's protection (a protnone
 * PMD's pages come back through set_pte_at, which marks pages without tag
 * storage METADATA_NONE again).  Each PTE holds its own reference, and an
 * exclusive THP's pages all become exclusive.
 */
void __split_huge_pmd(struct vm_area_struct *vma, pteval_t *pmdp, uint64_t haddr)
{
	struct mm_struct *mm = vma->vm_mm;
	struct mmsim_machine *m = mm->machine;
	spinlock_t *ptl = pmd_lock(mm, pmdp);
	pteval_t old = *pmdp, *ptes;
	uint64_t table, pfn;
	struct page *head;
	bool write, young, dirty, exclusive;

	if (!pmd_trans_huge(old)) {
		spin_unlock(ptl);
		return;
	}
	table = pgtable_trans_huge_withdraw(mm);
	if (!table) {
		spin_unlock(ptl);
		printk(m, "BUG: huge PMD at 0x%llx of mm %llu has no deposited table",
		       (unsigned long long)haddr, (unsigned long long)mm->id);
		return;
	}
	count_vm_event(m, THP_SPLIT_PMD);
	TRACE(m, "thp:split_huge_pmd", (int)smp_processor_id(m), -1, haddr, pmd_pfn(old), HPAGE_PMD_ORDER,
	      "addr=0x%llx pmd=0x%llx", (unsigned long long)haddr, (unsigned long long)old);
	/* Break-before-make: nothing may use the block while the table replaces it. */
	pmdp_huge_clear_flush(mm, haddr, pmdp);
	ptes = table_entries(m, table);
	if (is_huge_zero_pmd(m, old)) {
		for (uint64_t i = 0; i < HPAGE_PMD_NR; i++)
			set_pte_at(mm, haddr + (i << PAGE_SHIFT), &ptes[i],
				   pte_mkspecial(pfn_pte(m->zero_pfn, vma->vm_page_prot)));
		pmd_populate(mm, pmdp, table);
		spin_unlock(ptl);
		return;
	}
	pfn = pmd_pfn(old);
	head = pfn_to_page(m, pfn);
	write = pmd_write(old);
	young = pmd_young(old);
	dirty = pmd_dirty(old);
	exclusive = head->flags & PG_anon_exclusive;
	head->refcount += HPAGE_PMD_NR - 1;
	for (uint64_t i = 0; i < HPAGE_PMD_NR; i++) {
		struct page *p = head + i;
		pteval_t e = pfn_pte(pfn + i, vma->vm_page_prot);

		if (write)
			e = pte_mkwrite(e);
		if (dirty)
			e = pte_mkdirty(e);
		e = young ? pte_mkyoung(e) : pte_mkold(e);
		if (exclusive)
			p->flags |= PG_anon_exclusive;
		page_dup_rmap(m, p);
		set_pte_at(mm, haddr + (i << PAGE_SHIFT), &ptes[i], e);
	}
	folio_remove_rmap_pmd(m, head);
	pmd_populate(mm, pmdp, table);
	spin_unlock(ptl);
}

void split_huge_pmd_address(struct vm_area_struct *vma, uint64_t addr)
{
	pteval_t *pmdp = mm_find_pmd(vma->vm_mm, addr & HPAGE_PMD_MASK);

	if (pmdp && pmd_trans_huge(*pmdp))
		__split_huge_pmd(vma, pmdp, addr & HPAGE_PMD_MASK);
}

void vma_adjust_trans_huge(struct vm_area_struct *vma, uint64_t addr)
{
	uint64_t haddr = addr & HPAGE_PMD_MASK;

	if (addr != haddr && haddr >= vma->vm_start && haddr + HPAGE_PMD_SIZE <= vma->vm_end)
		split_huge_pmd_address(vma, addr);
}

/* ----------------------------------------------- PMD mappings of a folio */

typedef int (*pmd_map_fn)(struct vm_area_struct *vma, uint64_t haddr, pteval_t *pmdp, void *arg);

/*
 * Call fn on every huge PMD that maps head: the candidates are the VMAs of
 * its anon_vma, at the address its index gives in each.
 */
static int for_each_pmd_mapping(struct mmsim_machine *m, struct page *head, pmd_map_fn fn, void *arg)
{
	struct anon_vma *av = page_anon_vma(head);
	uint64_t pfn = page_to_pfn(m, head);
	struct list_head *pos, *n;
	int ret;

	if (!av || !head->entire_mapcount)
		return 0;
	list_for_each_safe(pos, n, &av->vmas) {
		struct vm_area_struct *vma = list_entry(pos, struct vm_area_struct, anon_vma_node);
		uint64_t haddr;
		pteval_t *pmdp;

		if (head->index < vma->vm_pgoff || head->index - vma->vm_pgoff >= vma_pages(vma))
			continue;
		haddr = vma->vm_start + ((head->index - vma->vm_pgoff) << PAGE_SHIFT);
		if (haddr & ~HPAGE_PMD_MASK)
			continue;
		pmdp = mm_find_pmd(vma->vm_mm, haddr);
		if (!pmdp || !pmd_trans_huge(*pmdp) || pmd_pfn(*pmdp) != pfn)
			continue;
		if ((ret = fn(vma, haddr, pmdp, arg)))
			return ret;
	}
	return 0;
}

static int split_one_pmd(struct vm_area_struct *vma, uint64_t haddr, pteval_t *pmdp, void *arg)
{
	(void)arg;
	__split_huge_pmd(vma, pmdp, haddr);
	return 0;
}

struct referenced_pmds {
	int young;
	bool clear;
};

static int pmd_referenced_one(struct vm_area_struct *vma, uint64_t haddr, pteval_t *pmdp, void *arg)
{
	struct referenced_pmds *r = arg;
	spinlock_t *ptl = pmd_lock(vma->vm_mm, pmdp);

	if (pmd_trans_huge(*pmdp) && pmd_young(*pmdp) && !pmd_protnone(*pmdp)) {
		r->young++;
		if (r->clear) {
			*pmdp = pmd_mkold(*pmdp);
			flush_pmd_tlb_range(vma->vm_mm, haddr);
		}
	}
	spin_unlock(ptl);
	return 0;
}

int folio_referenced_pmds(struct mmsim_machine *m, struct page *head, bool clear)
{
	struct referenced_pmds r = { 0, clear };

	for_each_pmd_mapping(m, compound_head(head), pmd_referenced_one, &r);
	return r.young;
}

/* ------------------------------------------------------- splitting a folio */

int split_huge_page_to_list(struct mmsim_machine *m, struct page *page, struct list_head *list)
{
	struct page *head = compound_head(page);
	uint64_t nr, carried;
	unsigned int order;
	bool was_lru;

	if (!(head->flags & PG_head))
		return 0;
	if (!PageAnon(head) || (head->flags & PG_zero)) {
		count_vm_event(m, THP_SPLIT_PAGE_FAILED);
		return -MMSIM_EBUSY;
	}
	/* can_split_folio: the mappings and the caller's reference, nothing else. */
	if (head->refcount != folio_mapcount(head) + 1) {
		count_vm_event(m, THP_SPLIT_PAGE_FAILED);
		return -MMSIM_EAGAIN;
	}
	folio_lock(head);
	for_each_pmd_mapping(m, head, split_one_pmd, NULL);
	/* Taking the PMD locks let others run: look again before committing. */
	if (!(head->flags & PG_head) || head->entire_mapcount || head->refcount != folio_mapcount(head) + 1) {
		folio_unlock(head);
		count_vm_event(m, THP_SPLIT_PAGE_FAILED);
		return -MMSIM_EAGAIN;
	}
	nr = 1ULL << head->order;
	carried = head->flags & (PG_swapbacked | PG_uptodate | PG_dirty);
	was_lru = head->flags & PG_lru;
	if (was_lru)
		lru_del(m, head);
	order = head->order;
	for (uint64_t i = 0; i < nr; i++) {
		struct page *p = head + i;

		p->flags = (p->flags & ~(PG_head | PG_tail)) | carried;
		p->order = 0;
		p->compound_offset = 0;
		/* One reference per mapping; the caller's stays on page. */
		p->refcount = p->mapcount + (p == page ? 1 : 0);
	}
	folio_unlock(head);
	tag_storage_split_folio(m, head, order);
	for (uint64_t i = 0; i < nr; i++) {
		struct page *p = head + i;

		if (p == page) {
			if (was_lru)
				lru_add(m, p);
		} else if (!p->refcount) {
			/* Nobody maps it any more: it goes back to the allocator. */
			p->refcount = 1;
			__free_pages(m, p, 0);
		} else if (list && !was_lru) {
			get_page(p);
			list_add_tail(&p->lru, list);
		} else {
			lru_add(m, p);
		}
	}
	count_vm_event(m, THP_SPLIT_PAGE);
	TRACE(m, "thp:split_huge_page", (int)smp_processor_id(m), -1, 0, page_to_pfn(m, head), HPAGE_PMD_ORDER,
	      "pfn=0x%llx", (unsigned long long)page_to_pfn(m, head));
	return 0;
}

void deferred_split_folio(struct mmsim_machine *m, struct page *head)
{
	uint64_t nr = 1ULL << head->order;
	bool partly = false;

	if (!(head->flags & PG_head) || !PageAnon(head) || !folio_mapcount(head))
		return;
	for (uint64_t i = 0; i < nr && !partly; i++)
		partly = page_mapcount(head + i) == 0;
	if (!partly)
		return;
	count_vm_event(m, THP_DEFERRED_SPLIT_PAGE);
	/* The shrinker's work, done now; a pinned folio stays whole. */
	split_huge_page(m, head);
}

/* ------------------------------------------------- unmap, fork, mprotect */

/*
 * zap_huge_pmd - clear the huge PMD at haddr and free its deposited table
 * (see huge_mm.h).
 */
bool zap_huge_pmd(struct vm_area_struct *vma, pteval_t *pmdp, uint64_t haddr, struct page **folio)
{
	struct mm_struct *mm = vma->vm_mm;
	struct mmsim_machine *m = mm->machine;
	spinlock_t *ptl = pmd_lock(mm, pmdp);
	pteval_t old = *pmdp;
	uint64_t table;

	(void)haddr;
	*folio = NULL;
	if (!pmd_trans_huge(old)) {
		spin_unlock(ptl);
		return false;
	}
	*pmdp = 0;
	charge(m, COST_PTE_UPDATE);
	table = pgtable_trans_huge_withdraw(mm);
	if (!is_huge_zero_pmd(m, old)) {
		*folio = pfn_to_page(m, pmd_pfn(old));
		folio_remove_rmap_pmd(m, *folio);
		mm->rss[MM_ANONPAGES] -= HPAGE_PMD_NR;
	}
	spin_unlock(ptl);
	if (table)
		pgtable_free(mm, table);
	return true;
}

/* Could any page of the folio be pinned for DMA? */
static bool folio_maybe_dma_pinned(struct page *head)
{
	for (uint64_t i = 0; i < (1ULL << head->order); i++)
		if (head[i].pincount)
			return true;
	return false;
}

/*
 * copy_huge_pmd - fork: the child maps the THP too, both read-only, and it
 * is no longer exclusive.  A folio that may be pinned must stay the
 * parent's: the PMD is split and -EAGAIN tells the caller to copy PTEs
 * (copy_present_page then gives the child its own copy of pinned pages).
 */
int copy_huge_pmd(struct vm_area_struct *dst, struct vm_area_struct *src, pteval_t *src_pmd,
		  uint64_t haddr)
{
	struct mm_struct *dst_mm = dst->vm_mm;
	struct mmsim_machine *m = dst_mm->machine;
	spinlock_t *dst_ptl, *src_ptl;
	pteval_t pmd, *dst_pmd;
	uint64_t table;
	struct page *head;

	dst_pmd = pmd_offset_alloc(dst_mm, haddr);
	if (!dst_pmd)
		return -MMSIM_ENOMEM;
	table = pgtable_alloc(dst_mm);
	if (!table)
		return -MMSIM_ENOMEM;
	charge(m, COST_FORK_PTE);
	dst_ptl = pmd_lock(dst_mm, dst_pmd);
	src_ptl = pmd_lock(src->vm_mm, src_pmd);
	pmd = *src_pmd;
	if (!pmd_trans_huge(pmd)) {
		/* Split meanwhile (reclaim): copy its PTEs instead. */
		spin_unlock(src_ptl);
		spin_unlock(dst_ptl);
		pgtable_free(dst_mm, table);
		return -MMSIM_EAGAIN;
	}
	if (is_huge_zero_pmd(m, pmd)) {
		pgtable_trans_huge_deposit(dst_mm, table);
		set_pmd_at(dst_mm, haddr, dst_pmd, pmd_wrprotect(pfn_pmd(m->huge_zero_pfn, dst->vm_page_prot)));
		spin_unlock(src_ptl);
		spin_unlock(dst_ptl);
		return 0;
	}
	head = pfn_to_page(m, pmd_pfn(pmd));
	if (folio_maybe_dma_pinned(head)) {
		spin_unlock(src_ptl);
		spin_unlock(dst_ptl);
		pgtable_free(dst_mm, table);
		__split_huge_pmd(src, src_pmd, haddr);
		return -MMSIM_EAGAIN;
	}
	get_page(head);
	folio_dup_rmap_pmd(m, head);
	head->flags &= ~PG_anon_exclusive;
	dst_mm->rss[MM_ANONPAGES] += HPAGE_PMD_NR;
	pgtable_trans_huge_deposit(dst_mm, table);
	if (pmd_write(pmd)) {
		pmd = pmd_wrprotect(pmd);
		*src_pmd = pmd;
	}
	set_pmd_at(dst_mm, haddr, dst_pmd, pmd_mkold(pmd));
	spin_unlock(src_ptl);
	spin_unlock(dst_ptl);
	return 0;
}

/*
 * can_change_pmd_writable - mprotect, or a NUMA hint fault mapping a PMD
 * back, may make a private PMD writable at once only when its THP is this
 * mapping's alone.
 */
bool can_change_pmd_writable(struct vm_area_struct *vma, pteval_t pmd)
{
	struct mmsim_machine *m = vma->vm_mm->machine;
	struct page *head;

	if (!(vma->vm_flags & VM_WRITE) || (vma->vm_flags & (VM_SHARED | VM_UFFD_WP)))
		return false;
	if (pmd_protnone(pmd) || !pte_valid(pmd) || is_huge_zero_pmd(m, pmd))
		return false;
	head = pfn_to_page(m, pmd_pfn(pmd));
	return PageAnon(head) && (head->flags & PG_anon_exclusive);
}

/*
 * change_huge_pmd - change_protection of a whole huge PMD, under the PMD
 * lock; the caller flushes.
 *
 *   MM_CP_PROT_NUMA           a NUMA hint: PAGE_NONE, except on the huge
 *                             zero page, an entry already protnone (a hint,
 *                             or an arch's entry), or when only memory
 *                             tiering is on (every node is top tier here).
 *   MM_CP_PROT_METADATA_NONE  a VMA turning tagged (spec §4.2): the PMD
 *                             becomes PAGE_METADATA_NONE unless it already
 *                             is or its THP already holds tags.
 *   otherwise                 the VMA's new protection, writable at once
 *                             with MM_CP_TRY_CHANGE_WRITABLE when
 *                             can_change_pmd_writable().
 *
 * A tagged VMA maps no huge zero page: there the PMD is split instead and
 * 0 returned (its PTEs map the tagged zero page).
 */
long change_huge_pmd(struct vm_area_struct *vma, pteval_t *pmdp, uint64_t haddr,
		     unsigned long cp_flags)
{
	struct mmsim_machine *m = vma->vm_mm->machine;
	spinlock_t *ptl = pmd_lock(vma->vm_mm, pmdp);
	pteval_t old = *pmdp, new = old;

	if (!pmd_trans_huge(old))
		goto unlock;
	if (cp_flags & MM_CP_PROT_NUMA) {
		if (is_huge_zero_pmd(m, old) || pmd_protnone(old) ||
		    !(m->numa_balancing & NUMA_BALANCING_NORMAL))
			goto unlock;
		new = pmd_modify(old, PAGE_NONE);
		goto set;
	}
	if (is_huge_zero_pmd(m, old) && (vma->vm_flags & VM_MTE)) {
		spin_unlock(ptl);
		__split_huge_pmd(vma, pmdp, haddr);
		return 0;
	}
	if (cp_flags & MM_CP_PROT_METADATA_NONE) {
		if (pmd_metadata_none(old) || (pfn_to_page(m, pmd_pfn(old))->flags & PG_mte_tagged))
			goto unlock;
		new = pmd_modify(old, PAGE_METADATA_NONE);
		goto set;
	}
	new = pmd_modify(old, vma->vm_page_prot);
	if ((cp_flags & MM_CP_TRY_CHANGE_WRITABLE) && !pmd_write(new) && can_change_pmd_writable(vma, new))
		new = pmd_mkwrite(new);
set:
	if (new != old)
		set_pmd_at(vma->vm_mm, haddr, pmdp, new);
unlock:
	spin_unlock(ptl);
	return new != old ? (long)HPAGE_PMD_NR : 0;
}

/*
 * move_huge_pmd - mremap of a whole huge PMD to an empty PMD slot: the
 * block moves as it is, its deposited table stays with the mm.  False when
 * the destination is not empty (the caller splits and moves PTEs).
 */
bool move_huge_pmd(struct vm_area_struct *vma, uint64_t old_addr, uint64_t new_addr,
		   pteval_t *old_pmd, pteval_t *new_pmd)
{
	/* One mm, one PMD lock for both ends. */
	spinlock_t *ptl = pmd_lock(vma->vm_mm, old_pmd);
	bool moved = pmd_none(*new_pmd) && pmd_trans_huge(*old_pmd);

	if (moved)
		set_pmd_at(vma->vm_mm, new_addr, new_pmd,
			   pmdp_huge_clear_flush(vma->vm_mm, old_addr, old_pmd));
	spin_unlock(ptl);
	return moved;
}
