/* SPDX-License-Identifier: MIT */
/*
 * mm/internal.h - what the memory-management files call in each other.
 * Names and meanings follow Linux's mm/ wherever the model does the same job.
 */
#ifndef MMSIM_MM_INTERNAL_H
#define MMSIM_MM_INTERNAL_H

#include "kernel/machine.h"

/* ------------------------------------------------------------ gfp flags */
typedef unsigned int gfp_t;
#define __GFP_DMA        0x01U
#define __GFP_MOVABLE    0x08U
#define __GFP_RECLAIMABLE 0x10U
#define __GFP_HIGH       0x20U
#define __GFP_IO         0x40U
#define __GFP_FS         0x80U
#define __GFP_ZERO       0x100U
#define __GFP_DIRECT_RECLAIM 0x400U
#define __GFP_KSWAPD_RECLAIM 0x800U
#define __GFP_NOWARN     0x2000U
#define __GFP_COMP       0x40000U
#define __GFP_THISNODE   0x200000U
#define __GFP_ACCOUNT    0x400000U
#define __GFP_TAGGED     0x800000U      /* needs MTE tag storage (RFC v1)      */
#define __GFP_RECLAIM    (__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL       (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_NOWAIT       (__GFP_KSWAPD_RECLAIM)
#define GFP_USER         (__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_HIGHUSER     GFP_USER
#define GFP_HIGHUSER_MOVABLE (GFP_HIGHUSER | __GFP_MOVABLE)
#define GFP_PGTABLE_USER (GFP_KERNEL | __GFP_ZERO | __GFP_ACCOUNT)

/* vma_alloc_folio adds __GFP_TAGGED for VM_MTE mappings (RFC v1 patch 27). */
static inline gfp_t vma_tagged_gfp(const struct vm_area_struct *vma)
{
	return (vma->vm_flags & VM_MTE) ? __GFP_TAGGED : 0;
}

/*
 * gfp_zone - the highest zone a request may use (Linux's zone modifiers):
 * __GFP_DMA keeps it in ZONE_DMA, __GFP_MOVABLE lets it into ZONE_MOVABLE.
 */
static inline int gfp_zone(gfp_t gfp)
{
	if (gfp & __GFP_DMA)
		return ZONE_DMA;
	return (gfp & __GFP_MOVABLE) ? ZONE_MOVABLE : ZONE_NORMAL;
}

static inline int gfp_migratetype(gfp_t gfp)
{
	if (gfp & __GFP_MOVABLE)
		return MIGRATE_MOVABLE;
	if (gfp & __GFP_RECLAIMABLE)
		return MIGRATE_RECLAIMABLE;
	return MIGRATE_UNMOVABLE;
}

/* ------------------------------------------------------- page_alloc.c */
/*
 * alloc_flags: the special free lists an allocation may use (CMA; the
 * RFC v1 METADATA lists, §2.2).
 */
#define ALLOC_CMA            0x80U
#define ALLOC_FROM_METADATA  0x400U
unsigned int gfp_to_alloc_flags(struct mmsim_machine *m, gfp_t gfp);
bool __zone_watermark_ok(struct zone *z, unsigned int order, uint64_t mark,
			 unsigned int alloc_flags);
/* Nodes in the order an allocation preferring nid tries them; returns how many. */
int  node_order(struct mmsim_machine *m, int nid, int *order);
int  page_alloc_init(struct mmsim_machine *m);
struct page *alloc_pages_node(struct mmsim_machine *m, int nid, gfp_t gfp, unsigned int order);
void __free_pages(struct mmsim_machine *m, struct page *page, unsigned int order);
/* Up to nr order-0 pages into array, from one pcp list when it may be used. */
unsigned long alloc_pages_bulk(struct mmsim_machine *m, int nid, gfp_t gfp, unsigned long nr,
			       struct page **array);
void free_unref_page(struct mmsim_machine *m, struct page *page);
void drain_all_pages(struct mmsim_machine *m);
int  get_pageblock_migratetype(struct mmsim_machine *m, uint64_t pfn);
void set_pageblock_migratetype(struct mmsim_machine *m, uint64_t pfn, int mt);
int  move_freepages_block(struct mmsim_machine *m, uint64_t pfn, int mt);
void setup_per_zone_wmarks(struct mmsim_machine *m);
uint64_t global_free_pages(struct mmsim_machine *m);
int  numa_node_of_cpu(struct mmsim_machine *m, unsigned int cpu);
bool zone_watermark_ok(struct zone *z, unsigned int order, uint64_t mark);
/* Take one free page (any order block containing it) out of the buddy. */
bool take_page_off_buddy(struct mmsim_machine *m, struct page *page);
/* Hand a reserved pageblock to the buddy as type mt (tag storage activation). */
void init_reserved_pageblock(struct mmsim_machine *m, uint64_t pfn, int mt);

/*
 * Compound pages (mm_types.h): the head holds the references of the whole
 * block, so get_page/put_page on any of its frames act on the head.
 */
/*
 * Page flags that may change while other CPUs look at the page (a mapped
 * page: its folio lock is a bit of the same word) are set and cleared
 * atomically and read whole, as Linux's set_bit/clear_bit/test_bit.
 * Plain |= and &= stay for pages nobody else can reach yet.
 */
static inline uint32_t page_flags(const struct page *p) { return __atomic_load_n(&p->flags, __ATOMIC_RELAXED); }
static inline void page_set_flag(struct page *p, uint32_t f) { __atomic_fetch_or(&p->flags, f, __ATOMIC_RELAXED); }
static inline void page_clear_flag(struct page *p, uint32_t f) { __atomic_fetch_and(&p->flags, ~f, __ATOMIC_RELAXED); }

static inline struct page *compound_head(struct page *p)
{
	return (page_flags(p) & PG_tail) ? p - p->compound_offset : p;
}
static inline bool PageCompound(const struct page *p) { return page_flags(p) & (PG_head | PG_tail); }
static inline unsigned int compound_order(struct page *p)
{
	p = compound_head(p);
	return (p->flags & PG_head) ? p->order : 0;
}
static inline uint64_t compound_nr(struct page *p) { return 1ULL << compound_order(p); }
/* Reference and map counts: a COW fault on another CPU may be changing them (atomically). */
static inline int page_count(struct page *p)
{
	return __atomic_load_n(&compound_head(p)->refcount, __ATOMIC_RELAXED);
}
/* PTEs mapping this frame plus PMDs mapping its whole compound page. */
static inline int page_mapcount(struct page *p)
{
	int n = __atomic_load_n(&p->mapcount, __ATOMIC_RELAXED);

	return PageCompound(p) ? n + compound_head(p)->entire_mapcount : n;
}
static inline void get_page(struct page *p)
{
	if (par_cpu)
		__atomic_fetch_add(&compound_head(p)->refcount, 1, __ATOMIC_RELAXED);
	else
		compound_head(p)->refcount++;
}
/*
 * Drop a reference; the last one frees the page (and its compound tail).
 * Beside other CPUs, a reference that may be the last is dropped only
 * after taking the whole machine: freeing is not audited for that.
 */
void put_page(struct mmsim_machine *m, struct page *p);
/* The folio lock: held across a migration, a swap-out, a swap-in. */
static inline void folio_lock(struct page *p) { bit_lock(&p->flags, PG_locked, "folio_lock"); }
static inline void folio_unlock(struct page *p) { bit_unlock(&p->flags, PG_locked, "folio_lock"); }
static inline bool folio_trylock(struct page *p) { return bit_trylock(&p->flags, PG_locked, "folio_lock"); }

/* --------------------------------------------------------- pagewalk.c */
/*
 * Level-by-level page-table walking.  pte_offset_alloc() and friends return a
 * host pointer to the descriptor in simulated RAM, allocating missing tables
 * when asked.  walk_page_range() visits every PTE slot of a range that has a
 * table, calling ops->pte_entry; tables themselves are never freed by it.
 */
pteval_t *pte_offset(struct mm_struct *mm, uint64_t addr);           /* NULL if no table */
pteval_t *pte_offset_alloc(struct mm_struct *mm, uint64_t addr);     /* NULL on ENOMEM  */
pteval_t *pmd_offset_alloc(struct mm_struct *mm, uint64_t addr);
pteval_t *mm_find_pmd(struct mm_struct *mm, uint64_t addr);          /* NULL if no table */
/*
 * The entry that translates addr: the PTE, or for a huge PMD the 4 KiB
 * descriptor equivalent to it at addr (special for the huge zero page, so
 * vm_normal_page() finds no page); 0 when nothing does.  For lookups that
 * only read.
 */
pteval_t  follow_pte_value(struct mm_struct *mm, uint64_t addr);
uint64_t  pgtable_alloc(struct mm_struct *mm);                       /* pfn, 0 on ENOMEM */
void      pgtable_free(struct mm_struct *mm, uint64_t pfn);
void      free_pgtables(struct mm_struct *mm, uint64_t floor, uint64_t ceiling);
void      free_pgd(struct mm_struct *mm);
static inline pteval_t *table_entries(struct mmsim_machine *m, uint64_t pfn)
{
	return (pteval_t *)pfn_to_virt(m, pfn);
}
/* The split page-table lock of the PTE table holding *ptep (Linux's pte_lockptr). */
static inline spinlock_t *pte_lockptr(struct mm_struct *mm, const pteval_t *ptep)
{
	struct mmsim_machine *m = mm->machine;

	return &pfn_to_page(m, m->min_pfn + (uint64_t)(((const uint8_t *)ptep - m->ram) >> PAGE_SHIFT))->ptl;
}

struct mm_walk;
struct mm_walk_ops {
	/*
	 * Huge PMD leaves (pmd_trans_huge) of [addr, next), present or
	 * protnone.  Without it they are skipped.  If the callback split the
	 * PMD into a table, the walk goes on into its PTEs.
	 */
	int (*pmd_entry)(pteval_t *pmd, uint64_t addr, uint64_t next, struct mm_walk *walk);
	/* Return nonzero to stop the walk (that value is returned). */
	int (*pte_entry)(pteval_t *pte, uint64_t addr, struct mm_walk *walk);
};
struct mm_walk {
	const struct mm_walk_ops *ops;
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	void *private;
};
int walk_page_range(struct mm_struct *mm, struct vm_area_struct *vma, uint64_t start,
		    uint64_t end, const struct mm_walk_ops *ops, void *private);

/* ------------------------------------------------------ tlbflush.c */
void flush_tlb_page(struct mm_struct *mm, uint64_t addr);
void flush_tlb_range(struct mm_struct *mm, uint64_t start, uint64_t end);
void flush_tlb_mm(struct mm_struct *mm);
int  asid_alloc(struct mmsim_machine *m, uint16_t *asid);
void asid_free(struct mmsim_machine *m, uint16_t asid);
void set_pte_at(struct mm_struct *mm, uint64_t addr, pteval_t *ptep, pteval_t pte);
/* Clear a present PTE and flush it from every TLB; returns the old value. */
pteval_t ptep_clear_flush(struct mm_struct *mm, uint64_t addr, pteval_t *ptep);

/* --------------------------------------------------------- memory.c */
typedef unsigned int vm_fault_t;
#define VM_FAULT_OOM      0x0001U
#define VM_FAULT_SIGBUS   0x0002U
#define VM_FAULT_MAJOR    0x0004U
#define VM_FAULT_SIGSEGV  0x0040U
#define VM_FAULT_RETRY    0x0400U   /* replay the fault (FAULT_FLAG_TRIED)   */
#define VM_FAULT_BLOCKED  0x10000U  /* model: the task sleeps (e.g. on a migration
				       entry) until woken; the access is BLOCKED */
#define VM_FAULT_COMPLETED 0x4000U  /* handled, fault lock already dropped */
#define VM_FAULT_ERROR    (VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV)

/* Linux's vmf_error: the fault result for an errno (-ENOMEM is OOM, the rest SIGBUS). */
static inline vm_fault_t vmf_error(int err)
{
	return err == -MMSIM_ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
}

#define FAULT_FLAG_WRITE       0x01U
#define FAULT_FLAG_USER        0x40U
#define FAULT_FLAG_REMOTE      0x80U
#define FAULT_FLAG_UNSHARE     0x400U

#define FAULT_FLAG_RETRY_NOWAIT 0x08U
#define FAULT_FLAG_TRIED       0x20U
#define FAULT_FLAG_VMA_LOCK    0x1000U  /* under the per-VMA lock, not mmap_lock */

/*
 * mmap_lock and the per-VMA locks (Linux's mmap_lock.h).  A writer marks
 * every VMA it may change write-locked before changing it; the model's
 * writers mark them all (vma_start_write_all), which Linux allows and which
 * only makes faults of other VMAs fall back to mmap_lock meanwhile.
 */
static inline void mmap_read_lock(struct mm_struct *mm) { down_read(&mm->mmap_lock); }
static inline void mmap_read_unlock(struct mm_struct *mm) { up_read(&mm->mmap_lock); }
void mmap_write_lock(struct mm_struct *mm);
void mmap_write_unlock(struct mm_struct *mm);
void vma_start_write(struct vm_area_struct *vma);
static inline void vma_end_read(struct vm_area_struct *vma) { up_read(&vma->vm_lock); }
/* The VMA at addr read-locked without mmap_lock, or NULL: take mmap_lock. */
struct vm_area_struct *lock_vma_under_rcu(struct mm_struct *mm, uint64_t addr);

/* What a fault handler knows about the fault it is resolving. */
struct vm_fault {
	struct mmsim_task *task;
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	uint64_t address;               /* page aligned                           */
	unsigned int flags;             /* FAULT_FLAG_*                           */
	pteval_t *pmd;                  /* the PMD slot covering address          */
	pteval_t orig_pmd;              /* its value, when it is a huge PMD       */
	pteval_t *pte;                  /* the PTE slot, in simulated RAM         */
	pteval_t orig_pte;              /* its value when the fault started       */
	spinlock_t *ptl;                /* the PT lock of pte, when taken         */
	/*
	 * The fault lock (mmap_lock, or the VMA lock with FAULT_FLAG_VMA_LOCK)
	 * as the fault-on-access contract sees it: set while held, and how
	 * often release_fault_lock() ran (mm/fault_on_access.h).
	 */
	bool fault_lock_held;
	unsigned int fault_lock_releases;
};

void trace_fault(struct vm_fault *vmf, const char *kind);
/* mm/numa_balancing.c: a protnone PTE in an accessible VMA (NUMA hint or arch). */
vm_fault_t handle_pte_protnone(struct vm_fault *vmf);
/* mm/swapfile.c: the PTE holds a swap entry of a swap device. */
vm_fault_t do_swap_page_swapin(struct vm_fault *vmf, swp_entry_t entry);
int  swap_init(struct mmsim_machine *m, uint64_t bytes, const char *path);
void swap_exit(struct mmsim_machine *m);

void release_fault_lock(struct vm_fault *vmf);
void fault_lock_release(struct mm_struct *mm, struct vm_area_struct *vma, unsigned int flags);
vm_fault_t handle_mm_fault(struct mmsim_task *t, struct vm_area_struct *vma,
			   uint64_t addr, unsigned int flags);
struct page *vm_normal_page(struct vm_area_struct *vma, uint64_t addr, pteval_t pte);
void zap_page_range(struct vm_area_struct *vma, uint64_t start, uint64_t end);
int  copy_page_range(struct vm_area_struct *dst, struct vm_area_struct *src);
pteval_t vm_get_page_prot(uint64_t vm_flags);
void inc_mm_counter_page(struct mm_struct *mm, struct page *p, int delta);
void copy_user_highpage(struct mmsim_machine *m, struct page *to, struct page *from);
void clear_user_highpage(struct mmsim_machine *m, struct page *p);
/* Populate [start,end) as the faults of a task would (MAP_POPULATE, ...). */
int  populate_range(struct mmsim_task *t, uint64_t start, uint64_t end, bool write);

/* ----------------------------------------------------------- rmap.c */
int  anon_vma_prepare(struct mm_struct *mm, struct vm_area_struct *vma);
void anon_vma_link(struct vm_area_struct *vma, struct anon_vma *av);	/* takes av->rwsem */
void __anon_vma_link(struct vm_area_struct *vma, struct anon_vma *av);	/* av->rwsem held */
void anon_vma_clone(struct vm_area_struct *dst, struct vm_area_struct *src);
void unlink_anon_vma(struct mmsim_machine *m, struct vm_area_struct *vma);
void folio_add_new_anon_rmap(struct page *p, struct vm_area_struct *vma, uint64_t addr);
void page_dup_rmap(struct mmsim_machine *m, struct page *p);
void anon_vma_put(struct anon_vma *av);
void page_remove_rmap(struct mmsim_machine *m, struct page *p);
static inline bool PageAnon(const struct page *p) { return p->mapping & PAGE_MAPPING_ANON; }
static inline struct anon_vma *page_anon_vma(const struct page *p)
{
	return PageAnon(p) ? (struct anon_vma *)(p->mapping & ~PAGE_MAPPING_ANON) : NULL;
}
/* Call fn on every PTE that maps pfn (present or a migration entry to it). */
typedef int (*rmap_one_fn)(struct vm_area_struct *vma, uint64_t addr, pteval_t *ptep,
			   void *arg);
int rmap_walk(struct mmsim_machine *m, struct page *p, rmap_one_fn fn, void *arg);

/* ----------------------------------------------------------- mmap.c */
struct mm_struct *mm_alloc(struct mmsim_machine *m);
void mmput(struct mm_struct *mm);
struct vm_area_struct *find_vma(struct mm_struct *mm, uint64_t addr);   /* first end > addr */
struct vm_area_struct *vma_lookup(struct mm_struct *mm, uint64_t addr); /* containing addr */
int  vma_index(struct mm_struct *mm, uint64_t addr);                    /* first end > addr */
struct vm_area_struct *vm_area_alloc(struct mm_struct *mm);
struct vm_area_struct *vm_area_dup(struct vm_area_struct *v);
void vma_link_file(struct vm_area_struct *n, struct vm_area_struct *v); /* i_mmap, after v */
void vm_area_free(struct mmsim_machine *m, struct vm_area_struct *v);
int  vma_insert(struct mm_struct *mm, struct vm_area_struct *v);
void vma_remove(struct mm_struct *mm, struct vm_area_struct *v);
int  split_vma(struct mm_struct *mm, struct vm_area_struct *v, uint64_t addr, int new_below);
void vma_try_merge_around(struct mm_struct *mm, struct vm_area_struct *v);
int  do_munmap(struct mm_struct *mm, uint64_t start, uint64_t len);
uint64_t get_unmapped_area(struct mm_struct *mm, uint64_t hint, uint64_t len);
void vma_set_page_prot(struct vm_area_struct *v);
void vm_stat_account(struct mm_struct *mm, uint64_t flags, int64_t npages);

/* ---------------------------------------------------------- shmem.c */
struct shmem_inode *shmem_inode_create(struct mmsim_machine *m, const char *name, bool anon);
void shmem_inode_get(struct shmem_inode *in);
void shmem_inode_put(struct mmsim_machine *m, struct shmem_inode *in);
/* Find or create the page cache page at index, locked; NULL past EOF (SIGBUS) or ENOMEM. */
struct page *shmem_get_page(struct mmsim_task *t, struct shmem_inode *in, uint64_t index,
			    gfp_t extra_gfp, vm_fault_t *ret);
int  shmem_truncate(struct mmsim_machine *m, struct shmem_inode *in, uint64_t size);
int  shmem_punch_hole(struct mmsim_machine *m, struct shmem_inode *in, uint64_t start, uint64_t end);
struct page *shmem_find_page(struct mmsim_machine *m, struct shmem_inode *in, uint64_t index);
struct file *fget(struct mmsim_task *t, int fd);
void shmem_replace_page(struct mmsim_machine *m, struct shmem_inode *in, struct page *old,
			struct page *new);

/* -------------------------------------------------------- migrate.c */
int  migrate_held_page_to_node(struct mmsim_machine *m, struct page *p, int nid, gfp_t gfp);
int  migrate_page_to_node(struct mmsim_machine *m, struct page *p, int nid, gfp_t gfp);
int  migrate_page_to(struct mmsim_machine *m, struct page *p, struct page *dst);
bool page_is_movable(struct mmsim_machine *m, struct page *p);
int  migrate_folio_unmap(struct mmsim_machine *m, struct page *src);
void migrate_folio_move(struct mmsim_machine *m, struct page *src, struct page *dst);

/* -------------------------------------------------- page_isolation.c */
int  alloc_contig_range(struct mmsim_machine *m, uint64_t start, uint64_t end, int mt);
void free_contig_range(struct mmsim_machine *m, uint64_t pfn, uint64_t nr);

/* -------------------------------------------------------- mempolicy.c */
int  policy_node(struct mmsim_task *t, struct vm_area_struct *vma, uint64_t addr);

/* ----------------------------------------------------------- swap.c */
void lru_add(struct mmsim_machine *m, struct page *p);
bool lru_del(struct mmsim_machine *m, struct page *p);	/* false: not on the LRU (any more) */

/* --------------------------------------------------------- memblock.c */
int  memblock_add_node(struct mmsim_machine *m, uint64_t base, uint64_t size, int nid);
int  memblock_reserve(struct mmsim_machine *m, uint64_t base, uint64_t size, const char *name);
int  memblock_reserve_nomap(struct mmsim_machine *m, uint64_t base, uint64_t size, const char *name);
void memblock_remove(struct mmsim_machine *m, uint64_t base, uint64_t size);
uint64_t memblock_start_of_DRAM(struct mmsim_machine *m);
uint64_t memblock_end_of_DRAM(struct mmsim_machine *m);

/* ------------------------------------------------------------- oom */
void out_of_memory(struct mmsim_task *t);

/* ------------------------------------------------------------- swap */
/* mm/swapfile.c, mm/vmscan.c; the rest of the swap interface is mm/swap.h. */
/* fork copies a swap PTE: the slot gains a reference; returns the child's PTE. */
pteval_t copy_swap_pte(struct mm_struct *dst_mm, pteval_t *src_pte);
void swap_duplicate(struct mmsim_machine *m, swp_entry_t e);
/* zap of a swap PTE: the slot loses a reference, the cached page the last. */
void free_swap_and_cache(struct mmsim_machine *m, swp_entry_t e);
/* Direct reclaim before OOM: pages freed on nid (-1: this CPU's node). */
uint64_t try_to_free_pages(struct mmsim_machine *m, int nid, unsigned int order);

#include "mm/huge_mm.h"

#endif
