/* SPDX-License-Identifier: MIT */
/*
 * mm/compaction.h - memory compaction: what the allocator, reclaim, the
 * sysctl layer, the daemons and the checker call in mm/compaction.c.
 * Names and values follow Linux's include/linux/compaction.h and
 * mm/internal.h.
 */
#ifndef MMSIM_MM_COMPACTION_H
#define MMSIM_MM_COMPACTION_H

#include "mm/internal.h"

#define COMPACT_CLUSTER_MAX     32      /* SWAP_CLUSTER_MAX: pages per isolation batch */
#define COMPACTION_HPAGE_ORDER  pageblock_order  /* HPAGE_PMD_ORDER on arm64 4K */
#define COMPACT_MAX_DEFER_SHIFT 6
#define HPAGE_FRAG_CHECK_INTERVAL_MSEC 500

/* Outcomes, in Linux's order: a larger value is a better outcome. */
enum compact_result {
	COMPACT_NOT_SUITABLE_ZONE,
	COMPACT_SKIPPED,
	COMPACT_DEFERRED,
	COMPACT_NO_SUITABLE_PAGE,
	COMPACT_CONTINUE,
	COMPACT_COMPLETE,
	COMPACT_PARTIAL_SKIPPED,
	COMPACT_CONTENDED,
	COMPACT_SUCCESS,
};

/* How hard direct compaction tries: lower is harder. */
enum compact_priority {
	COMPACT_PRIO_SYNC_FULL,
	MIN_COMPACT_PRIORITY = COMPACT_PRIO_SYNC_FULL,
	COMPACT_PRIO_SYNC_LIGHT,
	MIN_COMPACT_COSTLY_PRIORITY = COMPACT_PRIO_SYNC_LIGHT,
	DEF_COMPACT_PRIORITY = COMPACT_PRIO_SYNC_LIGHT,
	COMPACT_PRIO_ASYNC,
	INIT_COMPACT_PRIORITY = COMPACT_PRIO_ASYNC,
};

/* include/linux/migrate_mode.h */
enum migrate_mode { MIGRATE_ASYNC, MIGRATE_SYNC_LIGHT, MIGRATE_SYNC };

/* One compaction run over one zone (mm/internal.h's struct compact_control). */
struct compact_control {
	struct mmsim_machine *m;        /* the machine (Linux: implicit)            */
	struct list_head freepages;     /* isolated free pages, split to order 0    */
	struct list_head migratepages;  /* isolated source pages (PG_isolated)      */
	uint64_t nr_freepages;          /* pages on freepages                       */
	uint64_t nr_migratepages;       /* pages on migratepages                    */
	uint64_t free_pfn;              /* the free scanner: next block to scan     */
	uint64_t migrate_pfn;           /* the migrate scanner: next pfn to scan    */
	uint64_t fast_start_pfn;        /* lowest block fast search found, or ~0    */
	struct zone *zone;
	uint64_t total_migrate_scanned; /* pages the migrate scanner looked at      */
	uint64_t total_free_scanned;    /* pages the free scanner looked at         */
	unsigned int fast_search_fail;  /* failed fast free-list searches in a row  */
	int search_order;               /* where fast_isolate_freepages starts      */
	gfp_t gfp_mask;                 /* of the allocation, or GFP_KERNEL          */
	int order;                      /* wanted order; -1 = the whole zone         */
	int migratetype;                /* of the allocation                         */
	unsigned int alloc_flags;       /* ALLOC_* of the allocation                 */
	int highest_zoneidx;            /* highest zone the allocation may use       */
	enum migrate_mode mode;         /* async, sync-light or sync                 */
	bool ignore_skip_hint;          /* scan blocks marked skip too               */
	bool no_set_skip_hint;          /* do not mark blocks skip                   */
	bool ignore_block_suitable;     /* any block may give free pages             */
	bool direct_compaction;         /* for an allocation, not kcompactd          */
	bool proactive_compaction;      /* kcompactd's proactive pass                */
	bool whole_zone;                /* the scanners start at the zone's ends     */
	bool contended;                 /* a fatal signal (or contention) stopped it */
	bool finish_pageblock;          /* scan the current block to its end         */
	bool alloc_contig;              /* for alloc_contig_range (unused here)      */
	bool source_has_metadata;       /* RFC v1 patch 10: a tagged page was isolated */
	bool reserve_metadata;          /* RFC v1 patch 20: reserve for targets (as written) */
};

/* A page freed during direct compaction may be handed straight to it. */
struct capture_control {
	struct compact_control *cc;
	struct page *page;              /* the captured block, NULL until one is   */
};

/* current->capture_control and PF_MEMALLOC: the task's, or the machine's with no task current. */
static inline struct capture_control **current_capture_control(struct mmsim_machine *m)
{
	return get_current(m) ? &get_current(m)->capture_control : &m->capture_control;
}

static inline unsigned int *current_compacting(struct mmsim_machine *m)
{
	return get_current(m) ? &get_current(m)->compacting : &m->compacting;
}

/* ------------------------------------------------------- compaction.c */
int  kcompactd_init(struct mmsim_machine *m);
void kcompactd_exit(struct mmsim_machine *m);
/* The "kcompactd" daemon: one pass over every node (work if woken, else proactive). */
int  kcompactd_run(struct mmsim_machine *m);
/* The same from mmsim_advance(): nodes whose timeout ended or that were woken. */
int  kcompactd_tick(struct mmsim_machine *m);
void wakeup_kcompactd(struct mmsim_machine *m, struct pglist_data *pgdat, int order,
		      int highest_zoneidx);
/* kswapd going back to sleep on a balanced node (mm/vmscan.c). */
void reset_isolation_suitable(struct mmsim_machine *m, struct pglist_data *pgdat);
/* /proc/sys/vm/compact_memory: compact every zone of every node. */
void compact_nodes(struct mmsim_machine *m);
enum compact_result try_to_compact_pages(struct mmsim_machine *m, int nid, gfp_t gfp,
					 unsigned int order, unsigned int alloc_flags,
					 enum compact_priority prio, struct page **capture);
void compaction_defer_reset(struct zone *z, int order, bool alloc_success);
/* Called from __free_one_page: true when the block went to the direct compactor. */
bool compaction_capture(struct mmsim_machine *m, struct zone *z, uint64_t pfn,
			unsigned int order, int mt);
/* The compaction flavour of too_many_isolated() (§3.8): exported for the tests. */
bool compaction_too_many_isolated(struct mmsim_machine *m, struct zone *z, gfp_t gfp);
int  fragmentation_index(struct zone *z, unsigned int order);
/* The state compaction keeps, for mmsim_check(); appends to buf. */
int  compaction_check(struct mmsim_machine *m, char *buf, size_t len);

/* ------------------------------------------------ page_alloc.c helpers */
unsigned int __isolate_free_page(struct mmsim_machine *m, struct page *page, unsigned int order);
void post_alloc_hook(struct mmsim_machine *m, struct page *p, unsigned int order, gfp_t gfp);
void drain_local_pages(struct mmsim_machine *m, struct zone *z);
int  find_suitable_fallback(struct free_area *area, unsigned int order, int migratetype,
			    bool only_stealable, bool *can_steal);

#endif
