/* SPDX-License-Identifier: MIT */
/*
 * mm/huge_mm.h - transparent huge pages for private anonymous memory, as
 * mm/huge_memory.c builds them (Linux's include/linux/huge_mm.h).  Included
 * by mm/internal.h; the descriptor helpers are in arch/arm64/pgtable.h.
 */
#ifndef MMSIM_MM_HUGE_MM_H
#define MMSIM_MM_HUGE_MM_H

/* Not handled at PMD level: the caller goes on with PTEs. */
#define VM_FAULT_FALLBACK 0x0800U

/* m->thp_enabled values (sysfs kernel/mm/transparent_hugepage/enabled). */
#define THP_ENABLED_NEVER   0
#define THP_ENABLED_MADVISE 1
#define THP_ENABLED_ALWAYS  2
/* m->thp_defrag values, in the order sysfs lists them. */
enum thp_defrag { THP_DEFRAG_ALWAYS, THP_DEFRAG_DEFER, THP_DEFRAG_DEFER_MADVISE,
		  THP_DEFRAG_MADVISE, THP_DEFRAG_NEVER };

/* May faults in vma get PMD-sized pages (VMA kind, flags, prctl, sysfs)? */
bool thp_vma_allowable(const struct vm_area_struct *vma);
/* Does the huge page at haddr fit in vma, at a huge-page-aligned offset? */
bool thp_vma_suitable(const struct vm_area_struct *vma, uint64_t haddr);
/* The gfp of a THP fault in vma under the defrag setting. */
gfp_t vma_thp_gfp_mask(const struct vm_area_struct *vma);

/* The fault path (memory.c calls these with vmf->pmd set). */
vm_fault_t do_huge_pmd_anonymous_page(struct vm_fault *vmf);
/* A fault on a huge PMD (vmf->orig_pmd): protnone, write-protect or access. */
vm_fault_t handle_huge_pmd_fault(struct vm_fault *vmf);
vm_fault_t do_huge_pmd_wp_page(struct vm_fault *vmf);
/* mm/numa_balancing.c: a protnone huge PMD (NUMA hint or arch fault-on-access). */
vm_fault_t handle_huge_pmd_protnone(struct vm_fault *vmf);

/* The huge zero page: allocated at its first use, kept for the machine's life. */
struct page *mm_get_huge_zero_page(struct mmsim_machine *m);
static inline bool is_huge_zero_pmd(struct mmsim_machine *m, pteval_t pmd)
{
	return m->huge_zero_pfn && pmd_pfn(pmd) == m->huge_zero_pfn;
}

/* Deposited PTE tables (mm->pmd_huge_pte): any one serves any PMD. */
void     pgtable_trans_huge_deposit(struct mm_struct *mm, uint64_t table_pfn);
uint64_t pgtable_trans_huge_withdraw(struct mm_struct *mm);   /* 0 if none */
uint64_t nr_deposited_pgtables(struct mm_struct *mm);

/* Splitting.  A PMD into 512 PTEs of the same folio; a folio into pages. */
void __split_huge_pmd(struct vm_area_struct *vma, pteval_t *pmd, uint64_t haddr);
void split_huge_pmd_address(struct vm_area_struct *vma, uint64_t addr);
/* Before vma is cut at addr: no huge PMD may straddle the cut. */
void vma_adjust_trans_huge(struct vm_area_struct *vma, uint64_t addr);
/*
 * split_huge_page_to_list - turn the compound page holding page into
 * order-0 pages.  The caller holds exactly one reference, which ends on
 * page; every other page keeps one reference per mapping, and pages nobody
 * maps are freed.  When the head was isolated and list is given, the other
 * pages are isolated onto list (one reference each); otherwise they go on
 * the LRU.  Returns 0, or -EAGAIN when someone else holds a reference (a
 * pin) and -EBUSY for a page that is not anonymous.
 */
int  split_huge_page_to_list(struct mmsim_machine *m, struct page *page, struct list_head *list);
static inline int split_huge_page(struct mmsim_machine *m, struct page *page)
{
	return split_huge_page_to_list(m, page, NULL);
}
/*
 * A PTE-mapped THP lost some of its mappings: Linux queues it for the
 * deferred-split shrinker; the model splits it at once (freeing the pages
 * nobody maps any more).  The caller holds a reference on head.
 */
void deferred_split_folio(struct mmsim_machine *m, struct page *head);

/*
 * Unmap, fork, mprotect, mremap of a whole huge PMD, each under the PMD
 * lock.  zap_huge_pmd: false when the PMD is no longer huge; else *folio is
 * the THP whose mapping reference the caller drops after the TLB flush
 * (NULL for the huge zero page).
 */
bool zap_huge_pmd(struct vm_area_struct *vma, pteval_t *pmd, uint64_t haddr, struct page **folio);
int  copy_huge_pmd(struct vm_area_struct *dst, struct vm_area_struct *src, pteval_t *src_pmd,
		   uint64_t haddr);
/* change_protection's cp_flags, Linux's values (MM_CP_PROT_METADATA_NONE: RFC v1). */
#define MM_CP_TRY_CHANGE_WRITABLE  (1UL << 0)
#define MM_CP_PROT_NUMA            (1UL << 1)
#define MM_CP_PROT_METADATA_NONE   (1UL << 4)
/* Pages changed: HPAGE_PMD_NR, or 0 when the PMD was left (or split). */
long change_huge_pmd(struct vm_area_struct *vma, pteval_t *pmd, uint64_t haddr,
		     unsigned long cp_flags);
/* May a private huge PMD of vma become writable without a write fault? */
bool can_change_pmd_writable(struct vm_area_struct *vma, pteval_t pmd);
bool move_huge_pmd(struct vm_area_struct *vma, uint64_t old_addr, uint64_t new_addr,
		   pteval_t *old_pmd, pteval_t *new_pmd);
/* Young PMD mappings of head (cleared when clear is set), for reclaim. */
int  folio_referenced_pmds(struct mmsim_machine *m, struct page *head, bool clear);

/* rmap of a PMD mapping (rmap.c). */
void folio_dup_rmap_pmd(struct mmsim_machine *m, struct page *head);
void folio_remove_rmap_pmd(struct mmsim_machine *m, struct page *head);
/* Every mapping of the folio: PTE maps of each page plus PMD maps. */
int  folio_mapcount(struct page *head);

/* arch/arm64/tlbflush.c */
void set_pmd_at(struct mm_struct *mm, uint64_t addr, pteval_t *pmdp, pteval_t pmd);
pteval_t pmdp_huge_clear_flush(struct mm_struct *mm, uint64_t haddr, pteval_t *pmdp);
/* TLBI by VA with a level-2 hint: one operation drops the whole block. */
void flush_pmd_tlb_range(struct mm_struct *mm, uint64_t haddr);

/* pagewalk.c: a PTE table behind a PMD slot. */
void pmd_populate(struct mm_struct *mm, pteval_t *pmdp, uint64_t table_pfn);
pteval_t *pte_alloc_map(struct mm_struct *mm, pteval_t *pmdp, uint64_t addr);

#endif
