/* SPDX-License-Identifier: MIT */
/*
 * mm/mm_types.h - the memory-management objects of the model.
 *
 * struct page     one per physical frame (the memmap), 64 bytes.  A compound
 *                 page (a THP) is a naturally aligned block whose first
 *                 frame is PG_head (order, refcount, entire_mapcount) and
 *                 whose others are PG_tail (compound_offset back to it);
 *                 each frame keeps its own mapcount, mapping and index.
 * struct zone     a buddy allocator over a node's frames of one zone type.
 * struct pglist_data   a NUMA node.
 * struct vm_area_struct, struct mm_struct   address spaces.
 * struct anon_vma      who may map an anonymous page (for rmap walks).
 * struct shmem_inode   a memfd / shared anonymous object and its page cache.
 *
 * The memmap lives in host memory (not in simulated RAM), mapped with
 * MAP_NORESERVE so holes in the physical map cost nothing.
 */
#ifndef MMSIM_MM_MM_TYPES_H
#define MMSIM_MM_MM_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/locking.h"

#include "kernel/list.h"
#include "arch/arm64/pgtable.h"
#include "mm/vmstat.h"

struct mmsim_machine;
struct mmsim_task;
struct anon_vma;
struct shmem_inode;

/* ---------------------------------------------------------------- pages */

enum pageflags {
	PG_locked      = 1U << 0,
	PG_buddy       = 1U << 1,   /* free, head of a buddy block of page->order   */
	PG_pcp         = 1U << 2,   /* free, on a per-CPU list (model bookkeeping)  */
	PG_reserved    = 1U << 3,   /* never given to the allocator                 */
	PG_head        = 1U << 4,   /* first page of a compound page                */
	PG_tail        = 1U << 5,
	PG_lru         = 1U << 6,   /* on an LRU list: a user page                  */
	PG_anon_exclusive = 1U << 7,/* mapped by exactly one process, may be reused */
	PG_swapbacked  = 1U << 8,
	PG_dirty       = 1U << 9,
	PG_uptodate    = 1U << 10,
	PG_table       = 1U << 11,  /* a page-table page                            */
	PG_isolated    = 1U << 12,  /* taken off the LRU for migration              */
	PG_zero        = 1U << 13,  /* the shared zero page                         */
	PG_mte_tagged  = 1U << 14,  /* tags initialised (arch PG_arch_2)            */
	PG_tag_storage_reserved = 1U << 15, /* its tag block is reserved (PG_arch_4)  */
	PG_swapcache   = 1U << 16,  /* in the swap cache; private = swap entry      */
	PG_tag_block   = 1U << 17,  /* a tag-storage page of a reserved tag block   */
};

#define PAGE_MAPPING_ANON 0x1UL

struct page {
	uint32_t flags;
	int32_t  refcount;          /* _refcount: 0 when free                       */
	int32_t  mapcount;          /* number of PTEs mapping it (0-based, unlike   */
	                            /* Linux's -1-based _mapcount)                  */
	uint8_t  order;             /* buddy order when free; compound order (head) */
	uint8_t  pcp_mt;            /* migratetype of the pcp list it sits on       */
	uint8_t  nid;
	uint8_t  zid;
	struct list_head lru;       /* buddy / pcp free lists; LRU when in use      */
	union {
		struct {
			uintptr_t mapping;  /* anon_vma | PAGE_MAPPING_ANON, or shmem inode */
			uint64_t index;     /* page offset in the mapping                   */
		};
		spinlock_t ptl;     /* PG_table: its split page-table lock          */
	};
	uint64_t private;           /* swap entry; head: compound data              */
	int32_t  pincount;          /* FOLL_PIN references (also in refcount)       */
	union {
		int32_t  entire_mapcount;   /* PG_head: PMDs mapping the whole compound */
		                            /* page (0-based, like mapcount)            */
		uint32_t compound_offset;   /* PG_tail: frames back to its head page    */
	};
};

/* ----------------------------------------------------- zones and nodes */

enum migratetype {
	MIGRATE_UNMOVABLE,
	MIGRATE_MOVABLE,
	MIGRATE_RECLAIMABLE,
	MIGRATE_PCPTYPES,            /* the number of types on the pcp lists */
	MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES,
	MIGRATE_CMA,
	MIGRATE_METADATA,            /* tag storage as data memory (RFC v1)  */
	MIGRATE_ISOLATE,
	MIGRATE_TYPES
};

enum zone_type { ZONE_DMA, ZONE_NORMAL, ZONE_MOVABLE, MAX_NR_ZONES };

#define MAX_PAGE_ORDER    10
#define NR_PAGE_ORDERS    (MAX_PAGE_ORDER + 1)
#define PAGE_ALLOC_COSTLY_ORDER 3    /* above it the allocator never OOM-kills */
#define pageblock_order   9
#define pageblock_nr_pages (1UL << pageblock_order)
#define MAX_NUMNODES      8
#define MAX_CPUS          64

enum zone_watermarks { WMARK_MIN, WMARK_LOW, WMARK_HIGH, NR_WMARK };

struct free_area {
	struct list_head free_list[MIGRATE_TYPES];
	uint64_t nr_free;            /* blocks of this order, all types           */
};

struct per_cpu_pages {
	/* Each CPU's lists on lines of their own: the CPUs allocate at once. */
	_Alignas(64) int count;                   /* pages on the lists                        */
	int high;                    /* free back to the buddy above this          */
	int batch;                   /* pages moved per refill / drain             */
	struct list_head lists[MIGRATE_PCPTYPES];
	spinlock_t lock;             /* pcp->lock                                  */
};

struct pglist_data;

struct zone {
	struct pglist_data *zone_pgdat;
	enum zone_type idx;
	const char *name;
	uint64_t zone_start_pfn;
	uint64_t spanned_pages;
	uint64_t present_pages;
	uint64_t managed_pages;
	uint64_t metadata_pages;      /* tag storage pageblocks (zone->metadata_pages) */
	uint64_t watermark[NR_WMARK];
	uint64_t lowmem_reserve[MAX_NR_ZONES];
	int64_t  vm_stat[NR_VM_ZONE_STAT_ITEMS];
	struct free_area free_area[NR_PAGE_ORDERS];
	uint8_t *pageblock_mt;       /* migratetype of each pageblock of the span  */
	struct per_cpu_pages pcp[MAX_CPUS];
	spinlock_t lock;             /* zone->lock: the buddy free lists            */
	/* Compaction (mm/compaction.c). */
	uint8_t *pageblock_skip;     /* PB_migrate_skip of each pageblock: nothing */
	                             /* to isolate there lately, scanners pass by */
	uint64_t compact_cached_free_pfn;       /* where the free scanner resumes */
	uint64_t compact_cached_migrate_pfn[2]; /* ... the migrate scanner: [0] */
	                                        /* async, [1] sync              */
	uint64_t compact_init_migrate_pfn;      /* lowest source block and      */
	uint64_t compact_init_free_pfn;         /* highest target block found   */
	                                        /* at the last skip-hint reset  */
	unsigned int compact_considered;        /* attempts since deferral began */
	unsigned int compact_defer_shift;       /* skip up to 1 << shift of them */
	int compact_order_failed;               /* lowest order that failed      */
	bool compact_blockskip_flush;           /* scanners met in direct        */
	                                        /* compaction: kswapd resets hints */
};

static inline bool populated_zone(const struct zone *z) { return z->present_pages != 0; }

struct pglist_data {
	int node_id;
	struct zone node_zones[MAX_NR_ZONES];
	uint64_t node_start_pfn;
	uint64_t node_present_pages;
	uint64_t node_spanned_pages;
	int64_t  vm_stat[NR_VM_NODE_STAT_ITEMS];
	int64_t  numa_stat[NR_VM_NUMA_EVENT_ITEMS];
	int distance[MAX_NUMNODES];
	/* kswapd and kcompactd wakeups (mm/vmscan.c, mm/compaction.c). */
	int kswapd_order;               /* highest order kswapd was woken for    */
	int kswapd_highest_zoneidx;     /* ... and the highest zone it may use   */
	int kcompactd_max_order;        /* woken for this order; 0 = asleep      */
	int kcompactd_highest_zoneidx;  /* highest zone of the wakeups           */
	bool proactive_compact_trigger; /* vm.compaction_proactiveness written   */
	uint64_t kcompactd_next_proactive; /* when the proactive timeout expires */
};

/* ------------------------------------------------------ address spaces */

/* vm_flags, Linux's values. */
#define VM_NONE         0x00000000ULL
#define VM_READ         0x00000001ULL
#define VM_WRITE        0x00000002ULL
#define VM_EXEC         0x00000004ULL
#define VM_SHARED       0x00000008ULL
#define VM_MAYREAD      0x00000010ULL
#define VM_MAYWRITE     0x00000020ULL
#define VM_MAYEXEC      0x00000040ULL
#define VM_MAYSHARE     0x00000080ULL
#define VM_GROWSDOWN    0x00000100ULL
#define VM_UFFD_MISSING 0x00000200ULL
#define VM_UFFD_WP      0x00001000ULL
#define VM_LOCKED       0x00002000ULL
#define VM_SEQ_READ     0x00008000ULL
#define VM_RAND_READ    0x00010000ULL
#define VM_DONTCOPY     0x00020000ULL
#define VM_DONTEXPAND   0x00040000ULL
#define VM_ACCOUNT      0x00100000ULL
#define VM_NORESERVE    0x00200000ULL
#define VM_HUGETLB      0x00400000ULL
#define VM_WIPEONFORK   0x02000000ULL
#define VM_DONTDUMP     0x04000000ULL
#define VM_SOFTDIRTY    0x08000000ULL
#define VM_HUGEPAGE     0x20000000ULL
#define VM_NOHUGEPAGE   0x40000000ULL
#define VM_MERGEABLE    0x80000000ULL
#define VM_MTE          (1ULL << 36)     /* arm64 VM_HIGH_ARCH_4 */
#define VM_MTE_ALLOWED  (1ULL << 37)     /* arm64 VM_HIGH_ARCH_5 */
#define VM_UFFD_MINOR   (1ULL << 41)

#define VM_ACCESS_FLAGS (VM_READ | VM_WRITE | VM_EXEC)
/* Flags whose difference does not stop two neighbouring VMAs merging. */
#define VM_NO_MERGE_IGNORE (VM_SOFTDIRTY)

struct vm_area_struct {
	uint64_t vm_start, vm_end;      /* [start, end), page aligned              */
	uint64_t vm_flags;
	uint64_t vm_pgoff;              /* offset in the file, in pages; for anon  */
	                                /* private memory the page index of start  */
	pteval_t vm_page_prot;          /* PTE bits a new mapping gets             */
	struct mm_struct *vm_mm;
	struct anon_vma *anon_vma;      /* NULL until the first anonymous fault    */
	struct shmem_inode *vm_file;    /* shared anonymous / memfd backing        */
	struct list_head anon_vma_node; /* on anon_vma->vmas                       */
	struct list_head shared_node;   /* on vm_file->i_mmap                      */
	int mempolicy_mode;             /* MPOL_* for mbind, MPOL_DEFAULT = none   */
	uint64_t mempolicy_nodes;
	/*
	 * The per-VMA lock: faults take it for read instead of mmap_lock; a
	 * writer holding mmap_lock marks the VMA write-locked by setting
	 * vm_lock_seq to mm->mm_lock_seq (vma_start_write), which stays so
	 * until mmap_write_unlock bumps mm_lock_seq.
	 */
	struct rw_semaphore vm_lock;
	uint64_t vm_lock_seq;
};

static inline bool vma_is_anonymous(const struct vm_area_struct *v) { return v->vm_file == NULL; }
static inline bool is_cow_mapping(uint64_t f) { return (f & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE; }
static inline uint64_t vma_pages(const struct vm_area_struct *v) { return (v->vm_end - v->vm_start) >> PAGE_SHIFT; }
static inline uint64_t linear_page_index(const struct vm_area_struct *v, uint64_t addr)
{
	return ((addr - v->vm_start) >> PAGE_SHIFT) + v->vm_pgoff;
}

/*
 * anon_vma: the set of VMAs that may map the anonymous pages created in any
 * of them.  Linux keeps one per VMA and links a child's to its parent's
 * through anon_vma_chain; the model keeps one per family (a VMA and every
 * copy fork made of it), which visits a superset of the VMAs Linux would.
 * An rmap walk checks each candidate PTE, so the superset is harmless.
 */
struct anon_vma {
	int refcount;                   /* VMAs + pages pointing at it              */
	struct list_head vmas;          /* vm_area_struct.anon_vma_node             */
	uint64_t id;                    /* for deterministic reports                */
	struct rw_semaphore rwsem;      /* rmap walks read, VMA (un)linking writes  */
};

enum mm_counter { MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES, NR_MM_COUNTERS };

struct mm_struct {
	struct mmsim_machine *machine;
	uint64_t pgd;                   /* pfn of the L0 table                      */
	uint16_t asid;
	int users;                      /* tasks sharing it                         */
	struct vm_area_struct **vmas;   /* sorted by vm_start; see mm/mmap.c        */
	int nr_vmas, cap_vmas;
	struct vm_area_struct *vmacache;/* last VMA found                           */
	uint64_t mmap_base;             /* where top-down placement starts          */
	int64_t rss[NR_MM_COUNTERS];
	int64_t pgtables_bytes;
	uint64_t total_vm, locked_vm, data_vm, stack_vm, hiwater_rss, hiwater_vm;
	uint64_t cpumask;               /* CPUs that may hold its TLB entries       */
	uint64_t id;                    /* creation order, for deterministic walks  */
	struct list_head mm_list;       /* machine->mms                             */
	bool thp_disabled;              /* prctl(PR_SET_THP_DISABLE)                */
	/*
	 * PTE tables put aside for the huge PMDs of this mm (Linux's
	 * pgtable_trans_huge_deposit on arm64): one per PMD-mapped THP or huge
	 * zero page, linked through page->lru, so that splitting a PMD never
	 * needs an allocation.  Counted in pgtables_bytes.
	 */
	struct list_head pmd_huge_pte;
	/* NUMA balancing scanner (mm/numa_balancing.c, task_numa_work).           */
	uint64_t numa_scan_offset;      /* where the next pass resumes              */
	uint64_t numa_scan_seq;         /* completed passes over the whole space    */
	struct rw_semaphore mmap_lock;  /* VMA tree: faults read, mmap & co write   */
	uint64_t mm_lock_seq;           /* bumped by each mmap_write_unlock         */
	spinlock_t page_table_lock;     /* upper table levels (and PMD leaves)      */
};

/* ------------------------------------------------------------- shmem */

struct shmem_inode {
	int refcount;                   /* open files + VMAs                        */
	uint64_t size;                  /* i_size in bytes                          */
	uint64_t *pages;                /* page cache: pfn + 1 per index, 0 = hole  */
	uint64_t nr_slots;
	uint64_t nr_pages;              /* pages in the cache                       */
	struct list_head i_mmap;        /* VMAs mapping it                          */
	struct rw_semaphore i_mmap_rwsem;/* rmap walks read, (un)linking VMAs writes */
	char name[64];
	bool anon_shared;               /* MAP_SHARED|MAP_ANONYMOUS, not a memfd    */
	uint64_t id;
};

#endif
