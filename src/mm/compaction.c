// SPDX-License-Identifier: MIT
/*
 * mm/compaction.c - memory compaction: moving movable pages out of the way
 * so that free pages come together into high-order blocks.
 *
 * Design.  One compaction run (compact_zone) works on one zone with two
 * scanners, pageblock by pageblock, as Linux's does:
 *
 *   zone start                                                 zone end
 *   |migrate scanner -->                           <-- free scanner|
 *   [ used | free | used ][ used | used | free ] ... [ free | used ]
 *
 * The migrate scanner (isolate_migratepages_block) takes movable user pages
 * (anonymous and shmem pages on the LRU, not pinned, not compound) off the
 * LRU, COMPACT_CLUSTER_MAX at a time; the free scanner
 * (isolate_freepages_block) takes free buddy blocks off the lists and
 * splits them to order 0.  migrate_pages() moves each isolated page to one
 * of the isolated free pages (compaction_alloc/compaction_free), the moved
 * pages are freed, and the run stops when a free block of the wanted order
 * exists (__compact_finished) or the scanners meet.  Pages that did not
 * move go back to the LRU; free pages not used go back to the buddy.
 *
 * Direct compaction runs for an allocation of order > 0 from the
 * allocator's slow path (mm/page_alloc.c) and may capture the block it
 * needs as it forms (compaction_capture).  kcompactd runs per node when
 * woken by kswapd or a failed high-order request, and proactively when a
 * node's fragmentation score is high.  /proc/sys/vm/compact_memory compacts
 * every zone.  Pageblock skip hints, cached scanner positions and deferral
 * after failures follow Linux, so repeated attempts do not rescan in vain.
 *
 * Tag storage (spec §2.6).  Under mte_tag_storage=rfc-v1 the seed's rules
 * apply: METADATA pageblocks are no migration source for a request without
 * ALLOC_FROM_METADATA (item 30); once a tagged page is isolated no target
 * comes from a METADATA pageblock (31); a METADATA block is never captured
 * (32); a MOVABLE request with ALLOC_FROM_METADATA is done when the METADATA
 * list of its order has a block (33); fast_isolate_freepages looks only at
 * MOVABLE.  The seed as written keeps free METADATA pages isolated before
 * the first tagged page and may still give them to it; mte_fixes=on (the
 * default) hands them back when the first tagged page is isolated.  The
 * reservation of tag storage for targets (patch 20), dropped by the author
 * because it sleeps under the zone lock (§2.6.5, race R10), runs only with
 * mte_race_fix_off=R10, and then trips reserve_metadata_storage's
 * !preemptible() warning (§8.3 item 60); in a run of task bodies it is the
 * self-deadlock on zone->lock it would be in Linux.  Under
 * mte_tag_storage=cma, CMA
 * pageblocks follow Linux's CMA rules.  Tags move with the data:
 * copy_highpage saves them by PFN when the target has no reserved storage,
 * and the first access restores them (§5.4).
 *
 * The model runs one context at a time, so nothing else frees isolated
 * pages while compaction waits: where Linux throttles on too many isolated
 * pages, the model throttles once and gives up (-EAGAIN).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "mm/compaction.h"

#define pageblock_start_pfn(pfn) ((pfn) & ~(uint64_t)(pageblock_nr_pages - 1))
#define pageblock_end_pfn(pfn)   (pageblock_start_pfn(pfn) + pageblock_nr_pages)
#define pageblock_aligned(pfn)   (((pfn) & (pageblock_nr_pages - 1)) == 0)
#define block_start_pfn(pfn, order) ((pfn) & ~((1ULL << (order)) - 1))
#define block_end_pfn(pfn, order)   (block_start_pfn(pfn, order) + (1ULL << (order)))

#define NSEC_PER_MSEC 1000000ULL
#define KCOMPACTD_NEVER UINT64_MAX

static const char *const compact_result_names[] = {
	"not_suitable_zone", "skipped", "deferred", "no_suitable_page", "continue",
	"complete", "partial_skipped", "contended", "success",
};
static const char *const migrate_mode_names[] = { "async", "sync_light", "sync" };
static const char *const zone_names[MAX_NR_ZONES] = { "DMA", "Normal", "Movable" };

static inline uint64_t zone_end_pfn(const struct zone *z)
{
	return z->zone_start_pfn + z->spanned_pages;
}

static int current_pid(struct mmsim_machine *m)
{
	return m->current ? m->current->pid : -1;
}

static bool fatal_signal_pending(struct mmsim_machine *m)
{
	return m->current && (m->current->fatal_signal_pending || m->current->killed);
}

/* PF_MEMALLOC_ISOLATE (§3.8): the caller is taking tag blocks out of the allocator. */
static bool current_memalloc_isolate(struct mmsim_machine *m)
{
	return m->current && m->current->memalloc_isolate;
}

/* compact_lock_irqsave(&zone->lock) and its unlock, tracking whether it is held. */
static void zone_lock(struct compact_control *cc, bool *locked)
{
	if (!*locked) {
		spin_lock(&cc->zone->lock);
		*locked = true;
	}
}

static void zone_unlock(struct compact_control *cc, bool *locked)
{
	if (*locked) {
		spin_unlock(&cc->zone->lock);
		*locked = false;
	}
}

/* ------------------------------------------------------------ skip hints */

static uint8_t *pageblock_skip_slot(struct zone *z, uint64_t pfn)
{
	return &z->pageblock_skip[(pfn >> pageblock_order) - (z->zone_start_pfn >> pageblock_order)];
}

static bool get_pageblock_skip(struct zone *z, uint64_t pfn)
{
	return *pageblock_skip_slot(z, pfn);
}

static void set_pageblock_skip(struct zone *z, uint64_t pfn)
{
	*pageblock_skip_slot(z, pfn) = 1;
}

static void clear_pageblock_skip(struct zone *z, uint64_t pfn)
{
	*pageblock_skip_slot(z, pfn) = 0;
}

/* The first page of [start, end) if the whole range is memory of zone z. */
static struct page *pageblock_pfn_to_page(struct mmsim_machine *m, uint64_t start, uint64_t end,
					  struct zone *z)
{
	if (!pfn_valid(m, start) || !pfn_valid(m, end - 1))
		return NULL;
	if (pfn_zone(m, start) != z || pfn_zone(m, end - 1) != z)
		return NULL;
	return pfn_to_page(m, start);
}

/* A compound page of at least a pageblock is never worth moving. */
static bool pageblock_skip_persistent(struct page *p)
{
	if (!(p->flags & (PG_head | PG_tail)))
		return false;
	while (p->flags & PG_tail)
		p--;
	return p->order >= pageblock_order;
}

static bool isolation_suitable(struct compact_control *cc, uint64_t pfn)
{
	return cc->ignore_skip_hint || !get_pageblock_skip(cc->zone, pfn);
}

static void reset_cached_positions(struct zone *z)
{
	z->compact_cached_migrate_pfn[0] = z->zone_start_pfn;
	z->compact_cached_migrate_pfn[1] = z->zone_start_pfn;
	z->compact_cached_free_pfn = pageblock_start_pfn(zone_end_pfn(z) - 1);
}

/*
 * Clear the skip hint of the block holding pfn if a sample of it shows an
 * LRU page (for the migrate scanner) or a free page (for the free one).
 */
static bool __reset_isolation_pfn(struct mmsim_machine *m, struct zone *z, uint64_t pfn,
				  bool check_source, bool check_target)
{
	uint64_t start, last;
	struct page *p;

	if (!pfn_valid(m, pfn) || pfn_zone(m, pfn) != z)
		return false;
	if (pageblock_skip_persistent(pfn_to_page(m, pfn)))
		return false;
	if (check_source && check_target && !get_pageblock_skip(z, pfn))
		return true;
	if (!check_source && check_target && get_pageblock_migratetype(m, pfn) != MIGRATE_MOVABLE)
		return false;
	start = pageblock_start_pfn(pfn);
	if (start < z->zone_start_pfn)
		start = z->zone_start_pfn;
	last = pageblock_end_pfn(pfn) - 1;
	if (last > zone_end_pfn(z) - 1)
		last = zone_end_pfn(z) - 1;
	if (!pageblock_pfn_to_page(m, start, last + 1, z))
		return false;
	for (uint64_t q = start; q <= last; q += 1ULL << PAGE_ALLOC_COSTLY_ORDER) {
		p = pfn_to_page(m, q);
		if ((check_source && (p->flags & PG_lru)) || (check_target && (p->flags & PG_buddy))) {
			clear_pageblock_skip(z, q);
			return true;
		}
	}
	return false;
}

/* Walk the zone from both ends clearing stale skip hints; reset the scanners. */
static void __reset_isolation_suitable(struct mmsim_machine *m, struct zone *z)
{
	uint64_t migrate_pfn = z->zone_start_pfn, free_pfn = zone_end_pfn(z) - 1;
	uint64_t reset_migrate = free_pfn, reset_free = migrate_pfn;
	bool source_set = false, free_set = false;

	if (!z->compact_blockskip_flush)
		return;
	z->compact_blockskip_flush = false;
	for (; migrate_pfn < free_pfn; migrate_pfn += pageblock_nr_pages, free_pfn -= pageblock_nr_pages) {
		if (__reset_isolation_pfn(m, z, migrate_pfn, true, source_set) && migrate_pfn < reset_migrate) {
			source_set = true;
			reset_migrate = migrate_pfn;
			z->compact_init_migrate_pfn = reset_migrate;
			z->compact_cached_migrate_pfn[0] = reset_migrate;
			z->compact_cached_migrate_pfn[1] = reset_migrate;
		}
		if (__reset_isolation_pfn(m, z, free_pfn, free_set, true) && free_pfn > reset_free) {
			free_set = true;
			reset_free = free_pfn;
			z->compact_init_free_pfn = reset_free;
			z->compact_cached_free_pfn = reset_free;
		}
		if (free_pfn < pageblock_nr_pages)
			break;
	}
	if (reset_migrate >= reset_free) {
		z->compact_cached_migrate_pfn[0] = migrate_pfn;
		z->compact_cached_migrate_pfn[1] = migrate_pfn;
		z->compact_cached_free_pfn = free_pfn;
	}
}

void reset_isolation_suitable(struct mmsim_machine *m, struct pglist_data *pgdat)
{
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct zone *z = &pgdat->node_zones[zi];

		if (populated_zone(z) && z->compact_blockskip_flush)
			__reset_isolation_suitable(m, z);
	}
}

/* Mark the block skip as isolation starts in it; true if it already was. */
static bool test_and_set_skip(struct compact_control *cc, uint64_t pfn)
{
	bool skip;

	if (cc->ignore_skip_hint)
		return false;
	skip = get_pageblock_skip(cc->zone, pfn);
	if (!skip && !cc->no_set_skip_hint)
		set_pageblock_skip(cc->zone, pfn);
	return skip;
}

static void update_cached_migrate(struct compact_control *cc, uint64_t pfn)
{
	struct zone *z = cc->zone;

	if (cc->no_set_skip_hint)
		return;
	pfn = pageblock_end_pfn(pfn);
	if (pfn > z->compact_cached_migrate_pfn[0])
		z->compact_cached_migrate_pfn[0] = pfn;
	if (cc->mode != MIGRATE_ASYNC && pfn > z->compact_cached_migrate_pfn[1])
		z->compact_cached_migrate_pfn[1] = pfn;
}

static void update_pageblock_skip(struct compact_control *cc, uint64_t block_pfn, uint64_t pfn)
{
	struct zone *z = cc->zone;

	if (cc->no_set_skip_hint)
		return;
	set_pageblock_skip(z, block_pfn);
	if (pfn < z->compact_cached_free_pfn)
		z->compact_cached_free_pfn = pfn;
}

/* ------------------------------------------------------------- deferral */

static void trace_defer(struct mmsim_machine *m, const char *ev, struct zone *z, int order)
{
	TRACE(m, ev, (int)smp_processor_id(m), current_pid(m), 0, 0, order < 0 ? 0 : (unsigned int)order,
	      "node=%d zone=%-8s order=%d order_failed=%d consider=%u limit=%lu",
	      z->zone_pgdat->node_id, zone_names[z->idx], order, z->compact_order_failed,
	      z->compact_considered, 1UL << z->compact_defer_shift);
}

/* A compaction that should have helped did not: skip the next 1 << shift. */
static void defer_compaction(struct mmsim_machine *m, struct zone *z, int order)
{
	z->compact_considered = 0;
	z->compact_defer_shift++;
	if (order < z->compact_order_failed)
		z->compact_order_failed = order;
	if (z->compact_defer_shift > COMPACT_MAX_DEFER_SHIFT)
		z->compact_defer_shift = COMPACT_MAX_DEFER_SHIFT;
	trace_defer(m, "compaction:mm_compaction_defer_compaction", z, order);
}

static bool compaction_deferred(struct mmsim_machine *m, struct zone *z, int order)
{
	unsigned int limit = 1U << z->compact_defer_shift;

	if (order < z->compact_order_failed)
		return false;
	if (++z->compact_considered >= limit) {
		z->compact_considered = limit;
		return false;
	}
	trace_defer(m, "compaction:mm_compaction_deferred", z, order);
	return true;
}

void compaction_defer_reset(struct zone *z, int order, bool alloc_success)
{
	if (alloc_success) {
		z->compact_considered = 0;
		z->compact_defer_shift = 0;
	}
	if (order >= z->compact_order_failed)
		z->compact_order_failed = order + 1;
}

static bool compaction_restarting(struct zone *z, int order)
{
	if (order < z->compact_order_failed)
		return false;
	return z->compact_defer_shift == COMPACT_MAX_DEFER_SHIFT &&
	       z->compact_considered >= 1U << z->compact_defer_shift;
}

/* ---------------------------------------------------------- free pages */

/* Give isolated free pages back to the allocator; the highest pfn, 0 if none. */
static uint64_t release_freepages(struct mmsim_machine *m, struct list_head *list)
{
	uint64_t high = 0;

	while (!list_empty(list)) {
		struct page *p = list_first_entry(list, struct page, lru);
		uint64_t pfn = page_to_pfn(m, p);

		list_del(&p->lru);
		__free_pages(m, p, 0);
		if (pfn > high)
			high = pfn;
	}
	return high;
}

/*
 * split_map_pages - the blocks isolated from the buddy (order in
 * page->private) become order-0 allocated pages, each on the list.
 */
static void split_map_pages(struct mmsim_machine *m, struct list_head *list)
{
	struct list_head tmp;

	INIT_LIST_HEAD(&tmp);
	while (!list_empty(list)) {
		struct page *p = list_first_entry(list, struct page, lru);
		unsigned int order = (unsigned int)p->private;

		list_del(&p->lru);
		post_alloc_hook(m, p, order, __GFP_MOVABLE);
		for (uint64_t i = 0; i < (1ULL << order); i++) {
			p[i].refcount = 1;	/* split_page */
			list_add(&p[i].lru, &tmp);
		}
	}
	while (!list_empty(&tmp))
		list_move_tail(tmp.next, list);
}

/*
 * too_many_isolated - compaction's test: more pages isolated from the LRU
 * than half the LRU (an eighth when the caller may enter the filesystem)
 * means wait.  Never for a task taking tag blocks (§3.8 PF_MEMALLOC_ISOLATE).
 */
static bool too_many_isolated(struct compact_control *cc)
{
	struct pglist_data *pg = cc->zone->zone_pgdat;
	int64_t inactive, active, isolated;

	if (current_memalloc_isolate(cc->m))
		return false;
	inactive = pg->vm_stat[NR_INACTIVE_FILE] + pg->vm_stat[NR_INACTIVE_ANON];
	active = pg->vm_stat[NR_ACTIVE_FILE] + pg->vm_stat[NR_ACTIVE_ANON];
	isolated = pg->vm_stat[NR_ISOLATED_FILE] + pg->vm_stat[NR_ISOLATED_ANON];
	if (cc->gfp_mask & __GFP_FS) {
		inactive >>= 3;
		active >>= 3;
	}
	return isolated > (inactive + active) / 2;
}

bool compaction_too_many_isolated(struct mmsim_machine *m, struct zone *z, gfp_t gfp)
{
	struct compact_control cc = { .m = m, .zone = z, .gfp_mask = gfp };

	return too_many_isolated(&cc);
}

/*
 * isolate_freepages_block - take the free blocks of [*start_pfn, end_pfn)
 * onto freelist, looking at every stride-th pfn, until there are as many
 * free pages as pages to migrate (strict: all of the range or nothing).
 * The zone lock is taken at the first free page and dropped every
 * COMPACT_CLUSTER_MAX pfns.  Returns the pages isolated; *start_pfn gets
 * where the scan stopped.
 */
static uint64_t isolate_freepages_block(struct compact_control *cc, uint64_t *start_pfn,
					uint64_t end_pfn, struct list_head *freelist,
					unsigned int stride, bool strict)
{
	struct mmsim_machine *m = cc->m;
	uint64_t nr_scanned = 0, total_isolated = 0, blockpfn = *start_pfn;
	bool locked = false;

	if (strict)
		stride = 1;
	for (; blockpfn < end_pfn; blockpfn += stride) {
		struct page *p = pfn_to_page(m, blockpfn);
		unsigned int order, isolated;

		if (!(blockpfn % COMPACT_CLUSTER_MAX)) {
			zone_unlock(cc, &locked);
			if (fatal_signal_pending(m)) {
				cc->contended = true;
				break;
			}
		}
		nr_scanned++;
		if ((p->flags & PG_head) && p->refcount > 0) {
			/* An allocated compound page: skip it whole. */
			blockpfn += (1ULL << p->order) - 1;
			nr_scanned += (1ULL << p->order) - 1;
			goto isolate_fail;
		}
		if (!(p->flags & PG_buddy))
			goto isolate_fail;
		if (!locked) {
			zone_lock(cc, &locked);
			/* Someone may have taken it while we waited for the lock. */
			if (!(p->flags & PG_buddy))
				goto isolate_fail;
		}
		order = p->order;
		/*
		 * RFC v1 patch 20, as written (race R10): reserve the target's
		 * tag storage here, under the zone lock.  The author dropped it.
		 */
		if (m->mte.storage_enabled && cc->reserve_metadata) {
			if (reserve_metadata_storage(m, p, order, cc->gfp_mask))
				goto isolate_fail;
			/* The reservation may have used this very block for its migrations. */
			if (!(p->flags & PG_buddy) || p->order != order)
				goto isolate_fail;
		}
		isolated = __isolate_free_page(m, p, order);
		if (!isolated)
			break;
		p->private = order;
		nr_scanned += isolated - 1;
		total_isolated += isolated;
		cc->nr_freepages += isolated;
		list_add_tail(&p->lru, freelist);
		if (!strict && cc->nr_migratepages <= cc->nr_freepages) {
			blockpfn += isolated;
			break;
		}
		blockpfn += isolated - 1;
		continue;
isolate_fail:
		if (strict)
			break;
	}
	zone_unlock(cc, &locked);
	if (blockpfn > end_pfn)
		blockpfn = end_pfn;
	TRACE(m, "compaction:mm_compaction_isolate_freepages", (int)smp_processor_id(m), current_pid(m), 0,
	      *start_pfn, 0, "range=(0x%llx ~ 0x%llx) nr_scanned=%llu nr_taken=%llu",
	      (unsigned long long)*start_pfn, (unsigned long long)blockpfn,
	      (unsigned long long)nr_scanned, (unsigned long long)total_isolated);
	*start_pfn = blockpfn;
	if (strict && blockpfn < end_pfn)
		total_isolated = 0;
	cc->total_free_scanned += nr_scanned;
	if (total_isolated)
		count_vm_events(m, COMPACTISOLATED, (int64_t)total_isolated);
	return total_isolated;
}


/* ------------------------------------------------------- migrate pages */

/* Undo the isolation of a page that was not migrated: back to the LRU. */
static void putback_movable_page(struct mmsim_machine *m, struct page *p)
{
	p->flags &= ~PG_isolated;
	mod_node_page_state(&m->nodes[p->nid], NR_ISOLATED_ANON, -1);
	lru_add(m, p);
	put_page(m, p);
}

static void putback_movable_pages(struct compact_control *cc)
{
	while (!list_empty(&cc->migratepages)) {
		struct page *p = list_first_entry(&cc->migratepages, struct page, lru);

		list_del(&p->lru);
		putback_movable_page(cc->m, p);
	}
	cc->nr_migratepages = 0;
}

/*
 * With mte_fixes=on: free pages of METADATA pageblocks isolated before the
 * first tagged source go back to the allocator, so that no tagged page
 * lands on tag storage (§2.6.4).  The seed as written keeps them.
 */
static void release_metadata_freepages(struct compact_control *cc)
{
	struct mmsim_machine *m = cc->m;
	struct list_head *pos, *n;

	list_for_each_safe(pos, n, &cc->freepages) {
		struct page *p = list_entry(pos, struct page, lru);

		if (get_pageblock_migratetype(m, page_to_pfn(m, p)) != MIGRATE_METADATA)
			continue;
		list_del(&p->lru);
		__free_pages(m, p, 0);
		cc->nr_freepages--;
	}
}

/*
 * Take p off the LRU for migration (isolate_lru_folio).  The scan saw
 * PG_lru without the lock: false when the page was off the LRU by the
 * time lru_del looked under it.
 */
static bool isolate_page_for_migration(struct compact_control *cc, struct page *p)
{
	struct mmsim_machine *m = cc->m;

	get_page(p);
	if (!lru_del(m, p)) {
		put_page(m, p);
		return false;
	}
	p->flags |= PG_isolated;
	mod_node_page_state(&m->nodes[p->nid], NR_ISOLATED_ANON, 1);
	list_add(&p->lru, &cc->migratepages);
	cc->nr_migratepages++;
	/* RFC v1 patch 10: a tagged source rules out METADATA targets from now on. */
	if ((p->flags & PG_mte_tagged) && !cc->source_has_metadata) {
		cc->source_has_metadata = true;
		if (m->mte.fixed && m->mte.storage_enabled)
			release_metadata_freepages(cc);
	}
	return true;
}

/*
 * isolate_migratepages_block - isolate the movable pages of [low_pfn,
 * end_pfn), within one pageblock, onto cc->migratepages; stop after
 * COMPACT_CLUSTER_MAX unless the block must be finished.  Async direct
 * compaction gives up on an order-aligned chunk at its first page that
 * cannot move, since the chunk could not become free anyway.  Returns 0,
 * -EAGAIN (too many isolated) or -EINTR (fatal signal); cc->migrate_pfn
 * gets where to go on.
 */
static int isolate_migratepages_block(struct compact_control *cc, uint64_t low_pfn, uint64_t end_pfn)
{
	struct mmsim_machine *m = cc->m;
	uint64_t nr_scanned = 0, nr_isolated = 0, start_pfn = low_pfn, next_skip_pfn = 0;
	uint64_t valid_pfn = 0;
	bool valid = false, skip_on_failure = false, skip_updated = false;
	int ret = 0;

	cc->migrate_pfn = low_pfn;
	if (too_many_isolated(cc)) {
		if (cc->nr_migratepages || cc->mode == MIGRATE_ASYNC)
			return -MMSIM_EAGAIN;
		/*
		 * Linux waits for other isolators to finish; in the model no
		 * one else runs, so the wait cannot end.  Throttle once, give up.
		 */
		TRACE(m, "vmscan:mm_vmscan_throttled", (int)smp_processor_id(m), current_pid(m), 0, 0, 0,
		      "nid=%d usec_timeout=20000 usect_delayed=20000 reason=VMSCAN_THROTTLE_ISOLATED",
		      cc->zone->zone_pgdat->node_id);
		m->now += 20 * NSEC_PER_MSEC;
		if (fatal_signal_pending(m))
			return -MMSIM_EINTR;
		if (too_many_isolated(cc))
			return -MMSIM_EAGAIN;
	}
	if (cc->direct_compaction && cc->mode == MIGRATE_ASYNC) {
		skip_on_failure = true;
		next_skip_pfn = block_end_pfn(low_pfn, cc->order);
	}
	for (; low_pfn < end_pfn; low_pfn++) {
		struct page *p;

		if (skip_on_failure && low_pfn >= next_skip_pfn) {
			/* The previous order-aligned chunk is all isolated: migrate it. */
			if (nr_isolated)
				break;
			next_skip_pfn = block_end_pfn(low_pfn, cc->order);
		}
		if (!(low_pfn % COMPACT_CLUSTER_MAX) && fatal_signal_pending(m)) {
			cc->contended = true;
			ret = -MMSIM_EINTR;
			goto fatal_pending;
		}
		nr_scanned++;
		p = pfn_to_page(m, low_pfn);
		if (!valid && (pageblock_aligned(low_pfn) || low_pfn == cc->zone->zone_start_pfn)) {
			if (!isolation_suitable(cc, low_pfn)) {
				low_pfn = end_pfn;
				goto isolate_abort;
			}
			valid = true;
			valid_pfn = low_pfn;
		}
		if (p->flags & PG_buddy) {
			if (p->order > 0 && p->order <= MAX_PAGE_ORDER) {
				low_pfn += (1ULL << p->order) - 1;
				nr_scanned += (1ULL << p->order) - 1;
			}
			continue;
		}
		/*
		 * Inside a free block, not its head: free memory, no obstacle.
		 * Linux only knows block heads, and with its larger pcp lists
		 * the pages freed by the batch before rarely merge mid-scan;
		 * the model's few pcp pages overflow to the buddy at once.
		 */
		if (!p->refcount && !(p->flags & (PG_pcp | PG_reserved | PG_lru | PG_head | PG_tail)))
			continue;
		if ((p->flags & (PG_head | PG_tail)) && !cc->alloc_contig) {
			if ((p->flags & PG_head) && p->order <= MAX_PAGE_ORDER) {
				low_pfn += (1ULL << p->order) - 1;
				nr_scanned += (1ULL << p->order) - 1;
			}
			goto isolate_fail;
		}
		if (!(p->flags & PG_lru) || p->refcount <= 0)
			goto isolate_fail;
		/* Anonymous pages with references beyond their mappings are pinned. */
		if (PageAnon(p) && !(p->flags & PG_swapcache) && p->refcount > p->mapcount)
			goto isolate_fail;
		/* Only anonymous pages move for a caller that may not enter the fs. */
		if (!PageAnon(p) && !(cc->gfp_mask & __GFP_FS))
			goto isolate_fail;
		/* The model's migration cannot move a swap-cache page (mm/migrate.c). */
		if (p->flags & PG_swapcache)
			goto isolate_fail;
		if (!skip_updated && valid) {
			skip_updated = true;
			if (test_and_set_skip(cc, valid_pfn) && !cc->finish_pageblock) {
				low_pfn = end_pfn;
				goto isolate_abort;
			}
		}
		if (!isolate_page_for_migration(cc, p))
			goto isolate_fail;
		nr_isolated++;
		if (cc->nr_migratepages >= COMPACT_CLUSTER_MAX && !cc->finish_pageblock && !cc->contended) {
			++low_pfn;
			break;
		}
		continue;
isolate_fail:
		if (!skip_on_failure)
			continue;
		/* This chunk cannot become free: put back what it gave. */
		if (nr_isolated) {
			putback_movable_pages(cc);
			nr_isolated = 0;
		}
		if (low_pfn < next_skip_pfn) {
			low_pfn = next_skip_pfn - 1;
			next_skip_pfn += 1ULL << cc->order;
		}
	}
	if (low_pfn > end_pfn)
		low_pfn = end_pfn;
isolate_abort:
	/* A block scanned to its end that gave nothing is skipped next time. */
	if (low_pfn == end_pfn && (!nr_isolated || cc->finish_pageblock)) {
		if (!cc->no_set_skip_hint && valid && !skip_updated)
			set_pageblock_skip(cc->zone, valid_pfn);
		update_cached_migrate(cc, low_pfn);
	}
	TRACE(m, "compaction:mm_compaction_isolate_migratepages", (int)smp_processor_id(m), current_pid(m), 0,
	      start_pfn, 0, "range=(0x%llx ~ 0x%llx) nr_scanned=%llu nr_taken=%llu",
	      (unsigned long long)start_pfn, (unsigned long long)low_pfn,
	      (unsigned long long)nr_scanned, (unsigned long long)nr_isolated);
fatal_pending:
	cc->total_migrate_scanned += nr_scanned;
	if (nr_isolated)
		count_vm_events(m, COMPACTISOLATED, (int64_t)nr_isolated);
	cc->migrate_pfn = low_pfn;
	return ret;
}

/* -------------------------------------------- block suitability (§2.6) */

static bool is_migrate_movable(int mt)
{
	return mt == MIGRATE_MOVABLE || mt == MIGRATE_CMA || mt == MIGRATE_METADATA;
}

/*
 * suitable_migration_source - may the migrate scanner take pages from this
 * block?  Async direct compaction only empties blocks of the request's
 * type.  RFC v1 patch 09 (§2.6.2, item 30): in direct compaction a METADATA
 * block is no source for a request that may not use METADATA pages -
 * freeing them would not help it.
 */
static bool suitable_migration_source(struct compact_control *cc, uint64_t pfn)
{
	struct mmsim_machine *m = cc->m;
	int block_mt;

	if (pageblock_skip_persistent(pfn_to_page(m, pfn)))
		return false;
	block_mt = get_pageblock_migratetype(m, pfn);
	if (m->mte.storage_enabled && cc->direct_compaction && block_mt == MIGRATE_METADATA &&
	    !(cc->alloc_flags & ALLOC_FROM_METADATA))
		return false;
	if (cc->mode != MIGRATE_ASYNC || !cc->direct_compaction)
		return true;
	if (cc->migratetype == MIGRATE_MOVABLE)
		return is_migrate_movable(block_mt);
	return block_mt == cc->migratetype;
}

/*
 * suitable_migration_target - may the free scanner take pages from this
 * block?  Movable blocks (MOVABLE, CMA, METADATA) only, and not a block
 * that is one free pageblock already.  RFC v1 patch 10 (§2.6.4, item 31):
 * once a tagged page is isolated, no METADATA block - tag storage cannot
 * hold tagged data.
 */
static bool suitable_migration_target(struct compact_control *cc, uint64_t pfn)
{
	struct mmsim_machine *m = cc->m;
	int block_mt = get_pageblock_migratetype(m, pfn);
	struct page *p = pfn_to_page(m, pfn);

	if (block_mt == MIGRATE_METADATA && cc->source_has_metadata)
		return false;
	if ((p->flags & PG_buddy) && p->order >= pageblock_order)
		return false;
	if (cc->ignore_block_suitable)
		return true;
	return is_migrate_movable(block_mt);
}

static unsigned int freelist_scan_limit(struct compact_control *cc)
{
	unsigned int shift = cc->fast_search_fail < 31 ? cc->fast_search_fail : 31;

	return (COMPACT_CLUSTER_MAX >> shift) + 1;
}

static bool compact_scanners_met(struct compact_control *cc)
{
	return (cc->free_pfn >> pageblock_order) <= (cc->migrate_pfn >> pageblock_order);
}

/*
 * Rotate list so that p is first: the entries before it go to the tail, so
 * the next search starts with the ones not looked at (the list head moves).
 */
static void move_freelist_head(struct list_head *list, struct page *p)
{
	struct list_head *prev = p->lru.prev;

	if (prev == list)	/* first already */
		return;
	list_del(list);
	__list_add(list, prev, &p->lru);
}

/* Rotate list so that p is last: it and the entries before it go to the tail. */
static void move_freelist_tail(struct list_head *list, struct page *p)
{
	struct list_head *next = p->lru.next;

	if (next == list)	/* last already */
		return;
	list_del(list);
	__list_add(list, &p->lru, next);
}

/* After a fast find, take the free pages around it (sync compaction). */
static void fast_isolate_around(struct compact_control *cc, uint64_t pfn)
{
	uint64_t start, end;

	if (cc->nr_freepages >= cc->nr_migratepages)
		return;
	if (cc->direct_compaction && cc->mode == MIGRATE_ASYNC)
		return;
	start = pageblock_start_pfn(pfn);
	if (start < cc->zone->zone_start_pfn)
		start = cc->zone->zone_start_pfn;
	end = pageblock_end_pfn(pfn);
	if (end > zone_end_pfn(cc->zone))
		end = zone_end_pfn(cc->zone);
	if (!pageblock_pfn_to_page(cc->m, start, end, cc->zone))
		return;
	isolate_freepages_block(cc, &start, end, &cc->freepages, 1, false);
	if (start == end && !cc->no_set_skip_hint)
		set_pageblock_skip(cc->zone, start - 1);
}

static int next_search_order(struct compact_control *cc, int order)
{
	order--;
	if (order < 0)
		order = cc->order - 1;
	if (order == cc->search_order) {
		cc->search_order--;
		if (cc->search_order < 0)
			cc->search_order = cc->order - 1;
		return -1;
	}
	return order;
}

/*
 * fast_isolate_freepages - before scanning, look for a free block of an
 * order below the request in the top quarter (or half) of the space
 * between the scanners, on the MOVABLE lists only - never METADATA or CMA
 * (§2.6.4: so no METADATA check is needed here).
 */
static void fast_isolate_freepages(struct compact_control *cc)
{
	struct mmsim_machine *m = cc->m;
	struct zone *z = cc->zone;
	unsigned int limit = freelist_scan_limit(cc) >> 1;
	uint64_t nr_scanned = 0, total_isolated = 0, low_pfn, min_pfn, highest = 0, distance;
	struct page *page = NULL;
	bool scan_start = false;
	int order;

	if (limit < 1)
		limit = 1;
	/* A whole-zone run has no order; scanners that met leave no space to search. */
	if (cc->order <= 0 || cc->free_pfn <= cc->migrate_pfn)
		return;
	if (cc->free_pfn >= z->compact_init_free_pfn) {
		limit = pageblock_nr_pages >> 1;
		scan_start = true;
	}
	distance = cc->free_pfn - cc->migrate_pfn;
	low_pfn = pageblock_start_pfn(cc->free_pfn - (distance >> 2));
	min_pfn = pageblock_start_pfn(cc->free_pfn - (distance >> 1));
	if (min_pfn > low_pfn)
		low_pfn = min_pfn;
	if (cc->search_order > cc->order - 1)
		cc->search_order = cc->order - 1;
	for (order = cc->search_order; !page && order >= 0; order = next_search_order(cc, order)) {
		struct free_area *area = &z->free_area[order];
		struct list_head *freelist = &area->free_list[MIGRATE_MOVABLE];
		struct list_head *pos;
		struct page *freepage = NULL;
		unsigned int order_scanned = 0;
		uint64_t high_pfn = 0;

		if (!area->nr_free)
			continue;
		spin_lock(&z->lock);
		for (pos = freelist->prev; pos != freelist; pos = pos->prev) {
			uint64_t pfn;

			freepage = list_entry(pos, struct page, lru);
			order_scanned++;
			nr_scanned++;
			pfn = page_to_pfn(m, freepage);
			if (pfn >= highest)
				highest = pageblock_start_pfn(pfn) > z->zone_start_pfn ?
					  pageblock_start_pfn(pfn) : z->zone_start_pfn;
			if (pfn >= low_pfn) {
				cc->fast_search_fail = 0;
				cc->search_order = order;
				page = freepage;
				break;
			}
			if (pfn >= min_pfn && pfn > high_pfn) {
				high_pfn = pfn;
				limit >>= 1;
			}
			if (order_scanned >= limit)
				break;
		}
		if (!page && high_pfn) {
			page = pfn_to_page(m, high_pfn);
			freepage = page;
		}
		if (freepage)
			move_freelist_head(freelist, freepage);
		if (page) {
			unsigned int nr = __isolate_free_page(m, page, (unsigned int)order);

			if (nr) {
				page->private = (uint64_t)order;
				nr_scanned += nr - 1;
				total_isolated += nr;
				cc->nr_freepages += nr;
				list_add_tail(&page->lru, &cc->freepages);
				count_vm_events(m, COMPACTISOLATED, nr);
			} else {
				order = cc->search_order + 1;
				page = NULL;
			}
		}
		spin_unlock(&z->lock);
		if (cc->nr_freepages >= cc->nr_migratepages)
			break;
		if (order_scanned >= limit)
			limit = limit >> 1 ? limit >> 1 : 1;
	}
	TRACE(m, "compaction:mm_compaction_fast_isolate_freepages", (int)smp_processor_id(m), current_pid(m), 0,
	      min_pfn, 0, "range=(0x%llx ~ 0x%llx) nr_scanned=%llu nr_taken=%llu",
	      (unsigned long long)min_pfn, (unsigned long long)cc->free_pfn,
	      (unsigned long long)nr_scanned, (unsigned long long)total_isolated);
	if (!page) {
		cc->fast_search_fail++;
		if (scan_start) {
			if (highest >= min_pfn) {
				page = pfn_to_page(m, highest);
				cc->free_pfn = highest;
			} else if (cc->direct_compaction && pfn_valid(m, min_pfn)) {
				uint64_t end = pageblock_end_pfn(min_pfn);

				if (end > zone_end_pfn(z))
					end = zone_end_pfn(z);
				page = pageblock_pfn_to_page(m, min_pfn, end, z);
				cc->free_pfn = min_pfn;
			}
		}
	}
	if (highest && highest >= z->compact_cached_free_pfn)
		z->compact_cached_free_pfn = highest - pageblock_nr_pages;
	cc->total_free_scanned += nr_scanned;
	if (!page)
		return;
	fast_isolate_around(cc, page_to_pfn(m, page));
}

/*
 * isolate_freepages - fill cc->freepages: a fast search of the free lists
 * first, then the free scanner, block by block down from cc->free_pfn,
 * over suitable targets, until enough pages or the migrate scanner's block.
 */
static void isolate_freepages(struct compact_control *cc)
{
	struct mmsim_machine *m = cc->m;
	struct zone *z = cc->zone;
	uint64_t isolate_start_pfn, block_start, block_end, low_pfn;
	unsigned int stride;

	/* low_pfn is at least one pageblock: block_start never wraps below 0. */

	fast_isolate_freepages(cc);
	if (cc->nr_freepages)
		goto splitmap;
	isolate_start_pfn = cc->free_pfn;
	block_start = pageblock_start_pfn(isolate_start_pfn);
	block_end = block_start + pageblock_nr_pages;
	if (block_end > zone_end_pfn(z))
		block_end = zone_end_pfn(z);
	low_pfn = pageblock_end_pfn(cc->migrate_pfn);
	stride = cc->mode == MIGRATE_ASYNC ? COMPACT_CLUSTER_MAX : 1;
	for (; block_start >= low_pfn; block_end = block_start, block_start -= pageblock_nr_pages,
	     isolate_start_pfn = block_start) {
		uint64_t nr_isolated;

		if (!pageblock_pfn_to_page(m, block_start, block_end, z))
			continue;
		if (!suitable_migration_target(cc, block_start))
			continue;
		if (!isolation_suitable(cc, block_start))
			continue;
		nr_isolated = isolate_freepages_block(cc, &isolate_start_pfn, block_end, &cc->freepages,
						      stride, false);
		if (isolate_start_pfn == block_end)
			update_pageblock_skip(cc, block_start, block_start - pageblock_nr_pages);	/* >= 0 */
		if (cc->nr_freepages >= cc->nr_migratepages) {
			/* Enough: resume in this block next time, or the one below. */
			if (isolate_start_pfn >= block_end)
				isolate_start_pfn = block_start - pageblock_nr_pages;
			break;
		} else if (isolate_start_pfn < block_end) {
			break;	/* stopped early (watermark, fatal signal) */
		}
		if (nr_isolated) {
			stride = 1;
			continue;
		}
		stride = stride * 2 < COMPACT_CLUSTER_MAX ? stride * 2 : COMPACT_CLUSTER_MAX;
	}
	cc->free_pfn = isolate_start_pfn;
splitmap:
	split_map_pages(m, &cc->freepages);
}

/*
 * compaction_alloc - migrate_pages' allocator: a page from the isolated
 * free pages, isolating more when none are left.  As written in the seed
 * (mte_race_fix_off=R10), a tagged source asks the free scanner to reserve
 * tag storage for what it isolates.
 */
static struct page *compaction_alloc(struct page *src, struct compact_control *cc)
{
	struct mmsim_machine *m = cc->m;
	struct page *dst;

	if (m->mte.storage_enabled && MTE_FIX_OFF(m, 10))
		cc->reserve_metadata = src->flags & PG_mte_tagged;
	if (list_empty(&cc->freepages)) {
		isolate_freepages(cc);
		if (list_empty(&cc->freepages))
			return NULL;
	}
	dst = list_first_entry(&cc->freepages, struct page, lru);
	list_del(&dst->lru);
	cc->nr_freepages--;
	return dst;
}

/* migrate_pages' put_new_folio: an unused target goes back to the list. */
static void compaction_free(struct page *dst, struct compact_control *cc)
{
	list_add(&dst->lru, &cc->freepages);
	cc->nr_freepages++;
}

/*
 * migrate_pages - move every page of cc->migratepages to a page from
 * compaction_alloc.  A page that cannot move now stays on the list (the
 * caller puts it back); with no target left the rest stay too and the
 * result is -ENOMEM.  Otherwise returns the number that failed.
 */
static int migrate_pages(struct compact_control *cc, uint64_t *nr_succeeded)
{
	struct mmsim_machine *m = cc->m;
	struct list_head failed;
	int nr_failed = 0, rc = 0;

	INIT_LIST_HEAD(&failed);
	*nr_succeeded = 0;
	while (!list_empty(&cc->migratepages)) {
		struct page *src = list_first_entry(&cc->migratepages, struct page, lru);
		struct page *dst = compaction_alloc(src, cc);

		if (!dst) {
			count_vm_event(m, PGMIGRATE_FAIL);
			rc = -MMSIM_ENOMEM;
			break;
		}
		list_del(&src->lru);
		if (migrate_page_to(m, src, dst)) {
			compaction_free(dst, cc);
			list_add_tail(&src->lru, &failed);
			nr_failed++;
			continue;
		}
		(*nr_succeeded)++;
		put_page(m, dst);
		/* The old frame: no longer isolated, and its last reference goes. */
		src->flags &= ~PG_isolated;
		mod_node_page_state(&m->nodes[src->nid], NR_ISOLATED_ANON, -1);
		put_page(m, src);
	}
	while (!list_empty(&failed))
		list_move_tail(failed.next, &cc->migratepages);
	return rc ? rc : nr_failed;
}

/* ------------------------------------------------------ the migrate scanner */

typedef enum { ISOLATE_ABORT, ISOLATE_NONE, ISOLATE_SUCCESS } isolate_migrate_t;

static void update_fast_start_pfn(struct compact_control *cc, uint64_t pfn)
{
	if (cc->fast_start_pfn == UINT64_MAX)
		return;
	if (!cc->fast_start_pfn || pfn < cc->fast_start_pfn)
		cc->fast_start_pfn = pfn;
}

static uint64_t reinit_migrate_pfn(struct compact_control *cc)
{
	if (!cc->fast_start_pfn || cc->fast_start_pfn == UINT64_MAX)
		return cc->migrate_pfn;
	cc->migrate_pfn = cc->fast_start_pfn;
	cc->fast_start_pfn = UINT64_MAX;
	return cc->migrate_pfn;
}

/*
 * fast_find_migrateblock - for a costly order, start the migrate scanner at
 * a MOVABLE block low in the zone that already has free pages of order 3
 * or more, so fewer pages must move to free it.
 */
static uint64_t fast_find_migrateblock(struct compact_control *cc)
{
	struct mmsim_machine *m = cc->m;
	struct zone *z = cc->zone;
	unsigned int limit = freelist_scan_limit(cc), nr_scanned = 0;
	uint64_t pfn = cc->migrate_pfn, distance, high_pfn;
	bool found = false;

	if (cc->ignore_skip_hint || cc->finish_pageblock)
		return pfn;
	if (pfn != z->zone_start_pfn && pfn != pageblock_start_pfn(pfn))
		return pfn;
	if (cc->order <= PAGE_ALLOC_COSTLY_ORDER)
		return pfn;
	if (cc->direct_compaction && cc->migratetype != MIGRATE_MOVABLE)
		return pfn;
	distance = (cc->free_pfn - cc->migrate_pfn) >> 1;
	if (cc->migrate_pfn != z->zone_start_pfn)
		distance >>= 2;
	high_pfn = pageblock_start_pfn(cc->migrate_pfn + distance);
	for (int order = cc->order - 1; order >= PAGE_ALLOC_COSTLY_ORDER && !found && nr_scanned < limit;
	     order--) {
		struct list_head *freelist = &z->free_area[order].free_list[MIGRATE_MOVABLE];
		struct list_head *pos;

		if (!z->free_area[order].nr_free)
			continue;
		spin_lock(&z->lock);
		for (pos = freelist->next; pos != freelist; pos = pos->next) {
			struct page *fp = list_entry(pos, struct page, lru);
			uint64_t free_pfn;

			if (nr_scanned++ >= limit) {
				move_freelist_tail(freelist, fp);
				break;
			}
			free_pfn = page_to_pfn(m, fp);
			if (free_pfn < high_pfn) {
				if (get_pageblock_skip(z, free_pfn))
					continue;
				move_freelist_tail(freelist, fp);
				update_fast_start_pfn(cc, free_pfn);
				pfn = pageblock_start_pfn(free_pfn);
				if (pfn < z->zone_start_pfn)
					pfn = z->zone_start_pfn;
				cc->fast_search_fail = 0;
				found = true;
				break;
			}
		}
		spin_unlock(&z->lock);
	}
	cc->total_migrate_scanned += nr_scanned;
	if (!found) {
		cc->fast_search_fail++;
		pfn = reinit_migrate_pfn(cc);
	}
	return pfn;
}

/*
 * isolate_migratepages - from the migrate scanner's position, find the
 * first block that is a suitable source and isolate from it.
 */
static isolate_migrate_t isolate_migratepages(struct compact_control *cc)
{
	struct mmsim_machine *m = cc->m;
	struct zone *z = cc->zone;
	uint64_t low_pfn = fast_find_migrateblock(cc), block_start, block_end;
	bool fast_find_block;

	block_start = pageblock_start_pfn(low_pfn);
	if (block_start < z->zone_start_pfn)
		block_start = z->zone_start_pfn;
	fast_find_block = low_pfn != cc->migrate_pfn && !cc->fast_search_fail;
	block_end = pageblock_end_pfn(low_pfn);
	for (; block_end <= cc->free_pfn; fast_find_block = false,
	     cc->migrate_pfn = low_pfn = block_end, block_start = block_end,
	     block_end += pageblock_nr_pages) {
		if (!pageblock_pfn_to_page(m, block_start, block_end, z))
			continue;
		if ((pageblock_aligned(low_pfn) || low_pfn == z->zone_start_pfn) && !fast_find_block &&
		    !isolation_suitable(cc, low_pfn))
			continue;
		if (!suitable_migration_source(cc, block_start)) {
			update_cached_migrate(cc, block_end);
			continue;
		}
		if (isolate_migratepages_block(cc, low_pfn, block_end))
			return ISOLATE_ABORT;
		break;
	}
	return cc->nr_migratepages ? ISOLATE_SUCCESS : ISOLATE_NONE;
}

/* ------------------------------------------------------------ scores */

/* Free blocks of z: total, pages, and how many blocks of order could be cut. */
static void fill_contig_page_info(struct zone *z, unsigned int order, uint64_t *total,
				  uint64_t *free_pages, uint64_t *suitable)
{
	*total = *free_pages = *suitable = 0;
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		uint64_t blocks = z->free_area[o].nr_free;

		*total += blocks;
		*free_pages += blocks << o;
		if (o >= order)
			*suitable += blocks << (o - order);
	}
}

/*
 * fragmentation_index - for a failed request of this order, -1000 if it
 * would succeed, else 0..1000: towards 0 it failed for lack of memory,
 * towards 1000 because the free memory is in pieces.
 */
int fragmentation_index(struct zone *z, unsigned int order)
{
	uint64_t total, free_pages, suitable;

	fill_contig_page_info(z, order, &total, &free_pages, &suitable);
	if (!total)
		return 0;
	if (suitable)
		return -1000;
	return (int)(1000 - (1000 + free_pages * 1000 / (1ULL << order)) / total);
}

/* Percent of z's free memory in blocks smaller than order. */
static unsigned int extfrag_for_order(struct zone *z, unsigned int order)
{
	uint64_t total, free_pages, suitable;

	fill_contig_page_info(z, order, &total, &free_pages, &suitable);
	if (!free_pages)
		return 0;
	return (unsigned int)((free_pages - (suitable << order)) * 100 / free_pages);
}

static unsigned int fragmentation_score_zone(struct zone *z)
{
	return extfrag_for_order(z, COMPACTION_HPAGE_ORDER);
}

/* Weighted by the zone's share of the node, so small zones matter little. */
static unsigned int fragmentation_score_zone_weighted(struct zone *z)
{
	return (unsigned int)(z->present_pages * fragmentation_score_zone(z) /
			      (z->zone_pgdat->node_present_pages + 1));
}

static unsigned int fragmentation_score_node(struct pglist_data *pgdat)
{
	unsigned int score = 0;

	for (int zi = 0; zi < MAX_NR_ZONES; zi++)
		if (populated_zone(&pgdat->node_zones[zi]))
			score += fragmentation_score_zone_weighted(&pgdat->node_zones[zi]);
	return score;
}

static unsigned int fragmentation_score_wmark(struct mmsim_machine *m, bool low)
{
	unsigned int wmark_low = 100U - (unsigned int)m->compaction_proactiveness;

	if (wmark_low < 5)
		wmark_low = 5;
	return low ? wmark_low : (wmark_low + 10 < 100 ? wmark_low + 10 : 100);
}

static bool should_proactive_compact_node(struct mmsim_machine *m, struct pglist_data *pgdat)
{
	if (!m->compaction_proactiveness)
		return false;
	return fragmentation_score_node(pgdat) > fragmentation_score_wmark(m, false);
}

/* --------------------------------------------------------- when to stop */

static bool is_via_compact_memory(int order)
{
	return order == -1;
}

static enum compact_result __compact_finished(struct compact_control *cc)
{
	struct mmsim_machine *m = cc->m;
	const int migratetype = cc->migratetype;
	enum compact_result ret;

	if (compact_scanners_met(cc)) {
		reset_cached_positions(cc->zone);
		/* kswapd clears the skip hints when it next sleeps. */
		if (cc->direct_compaction)
			cc->zone->compact_blockskip_flush = true;
		return cc->whole_zone ? COMPACT_COMPLETE : COMPACT_PARTIAL_SKIPPED;
	}
	if (cc->proactive_compaction) {
		ret = fragmentation_score_zone(cc->zone) > fragmentation_score_wmark(m, true) ?
		      COMPACT_CONTINUE : COMPACT_SUCCESS;
		goto out;
	}
	if (is_via_compact_memory(cc->order))
		return COMPACT_CONTINUE;
	/* Finish the pageblock, so it is as free as it can be. */
	if (!pageblock_aligned(cc->migrate_pfn))
		return COMPACT_CONTINUE;
	ret = COMPACT_NO_SUITABLE_PAGE;
	for (unsigned int order = (unsigned int)cc->order; order < NR_PAGE_ORDERS; order++) {
		struct free_area *area = &cc->zone->free_area[order];
		bool can_steal;

		if (!list_empty(&area->free_list[migratetype]))
			return COMPACT_SUCCESS;
		if (migratetype == MIGRATE_MOVABLE && !list_empty(&area->free_list[MIGRATE_CMA]))
			return COMPACT_SUCCESS;
		/* RFC v1 patch 08 (§2.6.1, item 33). */
		if (m->mte.storage_enabled && migratetype == MIGRATE_MOVABLE &&
		    (cc->alloc_flags & ALLOC_FROM_METADATA) &&
		    !list_empty(&area->free_list[MIGRATE_METADATA]))
			return COMPACT_SUCCESS;
		if (find_suitable_fallback(area, order, migratetype, true, &can_steal) != -1)
			return COMPACT_SUCCESS;
	}
out:
	if (cc->contended || fatal_signal_pending(m))
		ret = COMPACT_CONTENDED;
	return ret;
}

static enum compact_result compact_finished(struct compact_control *cc)
{
	struct mmsim_machine *m = cc->m;
	enum compact_result ret = __compact_finished(cc);

	TRACE(m, "compaction:mm_compaction_finished", (int)smp_processor_id(m), current_pid(m), 0, 0,
	      cc->order < 0 ? 0 : (unsigned int)cc->order, "node=%d zone=%-8s order=%d ret=%s",
	      cc->zone->zone_pgdat->node_id, zone_names[cc->zone->idx], cc->order,
	      compact_result_names[ret]);
	if (ret == COMPACT_NO_SUITABLE_PAGE)
		ret = COMPACT_CONTINUE;
	return ret;
}

/*
 * __compaction_suitable - enough free pages above the watermark to hold
 * the pages that must move: the low watermark for costly orders (else
 * min) plus twice the request.  CMA pages count, METADATA pages do not.
 */
static bool __compaction_suitable(struct zone *z, int order)
{
	uint64_t watermark = z->watermark[order > PAGE_ALLOC_COSTLY_ORDER ? WMARK_LOW : WMARK_MIN];

	watermark += 2ULL << order;	/* compact_gap */
	return __zone_watermark_ok(z, 0, watermark, ALLOC_CMA);
}

/*
 * compaction_suitable - is compacting z worth it for this order?  Not
 * without the free pages; and for a costly order not when the
 * fragmentation index says the failure is for lack of memory
 * (vm.extfrag_threshold).
 */
static bool compaction_suitable(struct mmsim_machine *m, struct zone *z, int order)
{
	enum compact_result result = COMPACT_SKIPPED;
	bool suitable = __compaction_suitable(z, order);

	if (suitable) {
		result = COMPACT_CONTINUE;
		if (order > PAGE_ALLOC_COSTLY_ORDER) {
			int fragindex = fragmentation_index(z, (unsigned int)order);

			if (fragindex >= 0 && fragindex <= m->extfrag_threshold) {
				suitable = false;
				result = COMPACT_NOT_SUITABLE_ZONE;
			}
		}
	}
	TRACE(m, "compaction:mm_compaction_suitable", (int)smp_processor_id(m), current_pid(m), 0, 0,
	      (unsigned int)order, "node=%d zone=%-8s order=%d ret=%s", z->zone_pgdat->node_id,
	      zone_names[z->idx], order, compact_result_names[result]);
	return suitable;
}

/* ------------------------------------------------------------ compact_zone */

static void trace_compaction_range(struct compact_control *cc, const char *ev, uint64_t start,
				   uint64_t end, const char *status)
{
	struct mmsim_machine *m = cc->m;

	TRACE(m, ev, (int)smp_processor_id(m), current_pid(m), 0, start, cc->order < 0 ? 0 : (unsigned int)cc->order,
	      "zone_start=0x%llx migrate_pfn=0x%llx free_pfn=0x%llx zone_end=0x%llx, mode=%s%s%s",
	      (unsigned long long)start, (unsigned long long)cc->migrate_pfn,
	      (unsigned long long)cc->free_pfn, (unsigned long long)end, migrate_mode_names[cc->mode],
	      status ? " status=" : "", status ? status : "");
}

/*
 * compact_zone - one compaction run over cc->zone: see the design note.
 * capc, for direct compaction, receives a block of the wanted order if a
 * free forms one (checked after each migration batch).
 */
static enum compact_result compact_zone(struct compact_control *cc, struct capture_control *capc)
{
	struct mmsim_machine *m = cc->m;
	struct zone *z = cc->zone;
	uint64_t start_pfn = z->zone_start_pfn, end_pfn = zone_end_pfn(z), last_migrated_pfn = 0;
	const bool sync = cc->mode != MIGRATE_ASYNC;
	enum compact_result ret;
	bool update_cached;

	cc->total_migrate_scanned = 0;
	cc->total_free_scanned = 0;
	cc->nr_migratepages = 0;
	cc->nr_freepages = 0;
	INIT_LIST_HEAD(&cc->freepages);
	INIT_LIST_HEAD(&cc->migratepages);
	cc->migratetype = gfp_migratetype(cc->gfp_mask);
	if (!is_via_compact_memory(cc->order)) {
		/* The allocation would succeed already: nothing to do. */
		if (__zone_watermark_ok(z, (unsigned int)cc->order, z->watermark[WMARK_MIN], cc->alloc_flags))
			return COMPACT_SUCCESS;
		if (!compaction_suitable(m, z, cc->order))
			return COMPACT_SKIPPED;
	}
	if (compaction_restarting(z, cc->order))
		__reset_isolation_suitable(m, z);
	cc->fast_start_pfn = 0;
	if (cc->whole_zone) {
		cc->migrate_pfn = start_pfn;
		cc->free_pfn = pageblock_start_pfn(end_pfn - 1);
	} else {
		cc->migrate_pfn = z->compact_cached_migrate_pfn[sync];
		cc->free_pfn = z->compact_cached_free_pfn;
		if (cc->free_pfn < start_pfn || cc->free_pfn >= end_pfn) {
			cc->free_pfn = pageblock_start_pfn(end_pfn - 1);
			z->compact_cached_free_pfn = cc->free_pfn;
		}
		if (cc->migrate_pfn < start_pfn || cc->migrate_pfn >= end_pfn) {
			cc->migrate_pfn = start_pfn;
			z->compact_cached_migrate_pfn[0] = cc->migrate_pfn;
			z->compact_cached_migrate_pfn[1] = cc->migrate_pfn;
		}
		if (cc->migrate_pfn <= z->compact_init_migrate_pfn)
			cc->whole_zone = true;
	}
	update_cached = !sync && z->compact_cached_migrate_pfn[0] == z->compact_cached_migrate_pfn[1];
	trace_compaction_range(cc, "compaction:mm_compaction_begin", start_pfn, end_pfn, NULL);
	(*current_compacting(m))++;
	while ((ret = compact_finished(cc)) == COMPACT_CONTINUE) {
		uint64_t iteration_start_pfn = cc->migrate_pfn, nr_succeeded;
		int err;

		/* Rescanning the block just migrated from: finish it this time. */
		cc->finish_pageblock = pageblock_start_pfn(last_migrated_pfn) ==
				       pageblock_start_pfn(iteration_start_pfn);
rescan:
		switch (isolate_migratepages(cc)) {
		case ISOLATE_ABORT:
			ret = COMPACT_CONTENDED;
			putback_movable_pages(cc);
			goto out;
		case ISOLATE_NONE:
			if (update_cached)
				z->compact_cached_migrate_pfn[1] = z->compact_cached_migrate_pfn[0];
			goto check_drain;
		case ISOLATE_SUCCESS:
			update_cached = false;
			last_migrated_pfn = pageblock_start_pfn(cc->migrate_pfn - 1);
			if (last_migrated_pfn < z->zone_start_pfn)
				last_migrated_pfn = z->zone_start_pfn;
		}
		err = migrate_pages(cc, &nr_succeeded);
		TRACE(m, "compaction:mm_compaction_migratepages", (int)smp_processor_id(m), current_pid(m), 0, 0, 0,
		      "nr_migrated=%llu nr_failed=%llu", (unsigned long long)nr_succeeded,
		      (unsigned long long)(cc->nr_migratepages - nr_succeeded));
		cc->nr_migratepages = 0;
		if (err) {
			putback_movable_pages(cc);
			if (err == -MMSIM_ENOMEM && !compact_scanners_met(cc)) {
				ret = COMPACT_CONTENDED;
				goto out;
			}
			/* A failure inside a block: scan the rest of it, then mark it skip. */
			if (!pageblock_aligned(cc->migrate_pfn) && !cc->ignore_skip_hint &&
			    !cc->finish_pageblock && cc->mode < MIGRATE_SYNC) {
				cc->finish_pageblock = true;
				if (cc->order == COMPACTION_HPAGE_ORDER)
					last_migrated_pfn = 0;
				goto rescan;
			}
		}
		if (capc && capc->page) {
			ret = COMPACT_SUCCESS;
			break;
		}
check_drain:
		/* Left the order-aligned chunk just emptied: let its pages merge now. */
		if (cc->order > 0 && last_migrated_pfn &&
		    last_migrated_pfn < block_start_pfn(cc->migrate_pfn, (unsigned int)cc->order)) {
			drain_local_pages(m, z);
			last_migrated_pfn = 0;
		}
	}
out:
	(*current_compacting(m))--;
	if (cc->nr_freepages > 0) {
		uint64_t free_pfn = release_freepages(m, &cc->freepages);

		cc->nr_freepages = 0;
		free_pfn = pageblock_start_pfn(free_pfn);
		if (free_pfn > z->compact_cached_free_pfn)
			z->compact_cached_free_pfn = free_pfn;
	}
	count_vm_events(m, COMPACTMIGRATE_SCANNED, (int64_t)cc->total_migrate_scanned);
	count_vm_events(m, COMPACTFREE_SCANNED, (int64_t)cc->total_free_scanned);
	trace_compaction_range(cc, "compaction:mm_compaction_end", start_pfn, end_pfn,
			       compact_result_names[ret]);
	return ret;
}

/* ------------------------------------------------------ direct compaction */

/*
 * compaction_capture - __free_one_page found a free block of order forming
 * while a direct compactor of that order runs on z: hand it over instead of
 * listing it.  Never CMA, ISOLATE or (RFC v1 patch 09, §2.6.3, item 32)
 * METADATA blocks, and no smaller-than-pageblock piece of a MOVABLE block.
 */
bool compaction_capture(struct mmsim_machine *m, struct zone *z, uint64_t pfn, unsigned int order, int mt)
{
	struct capture_control *capc = *current_capture_control(m);

	if (!capc || capc->page || capc->cc->zone != z || (int)order != capc->cc->order)
		return false;
	if (mt == MIGRATE_CMA || mt == MIGRATE_METADATA || mt == MIGRATE_ISOLATE)
		return false;
	if (order < pageblock_order && mt == MIGRATE_MOVABLE)
		return false;
	capc->page = pfn_to_page(m, pfn);
	return true;
}

static enum compact_result compact_zone_order(struct mmsim_machine *m, struct zone *z, int order,
					      gfp_t gfp, enum compact_priority prio,
					      unsigned int alloc_flags, int highest_zoneidx,
					      struct page **capture)
{
	struct compact_control cc = {
		.m = m,
		.order = order,
		.search_order = order,
		.gfp_mask = gfp,
		.zone = z,
		.mode = prio == COMPACT_PRIO_ASYNC ? MIGRATE_ASYNC : MIGRATE_SYNC_LIGHT,
		.alloc_flags = alloc_flags,
		.highest_zoneidx = highest_zoneidx,
		.direct_compaction = true,
		.whole_zone = prio == MIN_COMPACT_PRIORITY,
		.ignore_skip_hint = prio == MIN_COMPACT_PRIORITY,
		.ignore_block_suitable = prio == MIN_COMPACT_PRIORITY,
	};
	struct capture_control capc = { .cc = &cc, .page = NULL };
	struct capture_control **slot = current_capture_control(m), *outer = *slot;
	enum compact_result ret;

	*slot = &capc;
	ret = compact_zone(&cc, &capc);
	*current_capture_control(m) = outer;
	*capture = capc.page;
	if (*capture)
		ret = COMPACT_SUCCESS;
	return ret;
}

/*
 * try_to_compact_pages - direct compaction for an allocation of 2^order
 * pages that failed: compact the zones it may use, nearest node first,
 * until one says the allocation should now succeed.  A zone that failed
 * recently is deferred (except at the hardest priority).  Returns the best
 * result; *capture gets a captured block, if any.
 */
enum compact_result try_to_compact_pages(struct mmsim_machine *m, int nid, gfp_t gfp,
					 unsigned int order, unsigned int alloc_flags,
					 enum compact_priority prio, struct page **capture)
{
	int nodes[MAX_NUMNODES], nr = node_order(m, nid, nodes);
	int highest = (gfp & __GFP_MOVABLE) ? ZONE_MOVABLE : ZONE_NORMAL;
	enum compact_result rc = COMPACT_SKIPPED;

	*capture = NULL;
	if (!(gfp & __GFP_IO))
		return COMPACT_SKIPPED;
	TRACE(m, "compaction:mm_compaction_try_to_compact_pages", (int)smp_processor_id(m), current_pid(m), 0, 0,
	      order, "order=%u gfp_mask=0x%x priority=%d", order, gfp, (int)prio);
	if (gfp & __GFP_THISNODE)
		nr = 1;
	for (int i = 0; i < nr; i++) {
		for (int zi = highest; zi >= 0; zi--) {
			struct zone *z = &m->nodes[nodes[i]].node_zones[zi];
			enum compact_result status;

			if (!populated_zone(z))
				continue;
			if (prio > MIN_COMPACT_PRIORITY && compaction_deferred(m, z, (int)order)) {
				if (rc < COMPACT_DEFERRED)
					rc = COMPACT_DEFERRED;
				continue;
			}
			status = compact_zone_order(m, z, (int)order, gfp, prio, alloc_flags, highest, capture);
			if (status > rc)
				rc = status;
			if (status == COMPACT_SUCCESS) {
				compaction_defer_reset(z, (int)order, false);
				return rc;
			}
			if (prio != COMPACT_PRIO_ASYNC &&
			    (status == COMPACT_COMPLETE || status == COMPACT_PARTIAL_SKIPPED))
				defer_compaction(m, z, (int)order);
			if (fatal_signal_pending(m))
				return rc;
		}
	}
	return rc;
}

/* ------------------------------------------------------ compact_memory */

/* Compact every zone of every node, as far as it goes (order -1). */
void compact_nodes(struct mmsim_machine *m)
{
	for (unsigned int n = 0; n < m->nr_nodes; n++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct compact_control cc = {
				.m = m,
				.order = -1,
				.mode = MIGRATE_SYNC,
				.ignore_skip_hint = true,
				.whole_zone = true,
				.gfp_mask = GFP_KERNEL,
				.zone = &m->nodes[n].node_zones[zi],
			};

			if (populated_zone(cc.zone))
				compact_zone(&cc, NULL);
		}
}

/* ------------------------------------------------------------ kcompactd */

static int pgdat_nr_zones(struct pglist_data *pgdat)
{
	int nr = 0;

	for (int zi = 0; zi < MAX_NR_ZONES; zi++)
		if (populated_zone(&pgdat->node_zones[zi]))
			nr = zi + 1;
	return nr;
}

static bool kcompactd_node_suitable(struct mmsim_machine *m, struct pglist_data *pgdat)
{
	int highest = pgdat->kcompactd_highest_zoneidx;

	for (int zi = 0; zi <= highest && zi < MAX_NR_ZONES; zi++) {
		struct zone *z = &pgdat->node_zones[zi];

		if (!populated_zone(z))
			continue;
		if (__zone_watermark_ok(z, (unsigned int)pgdat->kcompactd_max_order, z->watermark[WMARK_MIN], 0))
			continue;
		if (compaction_suitable(m, z, pgdat->kcompactd_max_order))
			return true;
	}
	return false;
}

/*
 * wakeup_kcompactd - ask node pgdat's kcompactd for a free block of this
 * order.  The request is remembered; kcompactd is woken now only when
 * compaction looks useful, else it sees the request when its timeout ends.
 */
void wakeup_kcompactd(struct mmsim_machine *m, struct pglist_data *pgdat, int order, int highest_zoneidx)
{
	if (!order)
		return;
	if (pgdat->kcompactd_max_order < order)
		pgdat->kcompactd_max_order = order;
	if (pgdat->kcompactd_highest_zoneidx > highest_zoneidx)
		pgdat->kcompactd_highest_zoneidx = highest_zoneidx;
	if (!kcompactd_node_suitable(m, pgdat))
		return;
	TRACE(m, "compaction:mm_compaction_wakeup_kcompactd", (int)smp_processor_id(m), current_pid(m), 0, 0,
	      (unsigned int)order, "nid=%d order=%d highest_zoneidx=%-8s", pgdat->node_id, order,
	      zone_names[highest_zoneidx < MAX_NR_ZONES ? highest_zoneidx : MAX_NR_ZONES - 1]);
	pgdat->kcompactd_next_proactive = m->now;
}

/* kcompactd's work for a wakeup: compact each zone for the order asked. */
static void kcompactd_do_work(struct mmsim_machine *m, struct pglist_data *pgdat)
{
	struct compact_control cc = {
		.m = m,
		.order = pgdat->kcompactd_max_order,
		.search_order = pgdat->kcompactd_max_order,
		.highest_zoneidx = pgdat->kcompactd_highest_zoneidx,
		.mode = MIGRATE_SYNC_LIGHT,
		.gfp_mask = GFP_KERNEL,
	};

	TRACE(m, "compaction:mm_compaction_kcompactd_wake", (int)smp_processor_id(m), -1, 0, 0,
	      (unsigned int)cc.order, "nid=%d order=%d highest_zoneidx=%-8s", pgdat->node_id, cc.order,
	      zone_names[cc.highest_zoneidx < MAX_NR_ZONES ? cc.highest_zoneidx : MAX_NR_ZONES - 1]);
	count_vm_event(m, KCOMPACTD_WAKE);
	for (int zi = 0; zi <= cc.highest_zoneidx && zi < MAX_NR_ZONES; zi++) {
		struct zone *z = &pgdat->node_zones[zi];
		enum compact_result status;

		if (!populated_zone(z))
			continue;
		if (compaction_deferred(m, z, cc.order))
			continue;
		if (__zone_watermark_ok(z, (unsigned int)cc.order, z->watermark[WMARK_MIN], 0))
			continue;
		if (!compaction_suitable(m, z, cc.order))
			continue;
		cc.zone = z;
		status = compact_zone(&cc, NULL);
		if (status == COMPACT_SUCCESS) {
			compaction_defer_reset(z, cc.order, false);
		} else if (status == COMPACT_PARTIAL_SKIPPED || status == COMPACT_COMPLETE) {
			/* Pages stranded on pcp lists could complete a block: free them. */
			drain_all_pages(m);
			defer_compaction(m, z, cc.order);
		}
		count_vm_events(m, KCOMPACTD_MIGRATE_SCANNED, (int64_t)cc.total_migrate_scanned);
		count_vm_events(m, KCOMPACTD_FREE_SCANNED, (int64_t)cc.total_free_scanned);
	}
	if (pgdat->kcompactd_max_order <= cc.order)
		pgdat->kcompactd_max_order = 0;
	if (pgdat->kcompactd_highest_zoneidx >= cc.highest_zoneidx)
		pgdat->kcompactd_highest_zoneidx = pgdat_nr_zones(pgdat) - 1;
}

/* Proactive compaction: every zone, until its score is below the low mark. */
static void proactive_compact_node(struct mmsim_machine *m, struct pglist_data *pgdat)
{
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct compact_control cc = {
			.m = m,
			.order = -1,
			.mode = MIGRATE_SYNC_LIGHT,
			.ignore_skip_hint = true,
			.whole_zone = true,
			.gfp_mask = GFP_KERNEL,
			.proactive_compaction = true,
			.zone = &pgdat->node_zones[zi],
		};

		if (!populated_zone(cc.zone))
			continue;
		compact_zone(&cc, NULL);
		count_vm_events(m, KCOMPACTD_MIGRATE_SCANNED, (int64_t)cc.total_migrate_scanned);
		count_vm_events(m, KCOMPACTD_FREE_SCANNED, (int64_t)cc.total_free_scanned);
	}
}

/*
 * kcompactd_run - one pass of every node's kcompactd, as the thread's loop
 * body: a node whose kcompactd was woken (or whose timeout ended with a
 * request pending) compacts for the order asked; a node whose timeout ended
 * compacts proactively when its fragmentation score is above
 * vm.compaction_proactiveness's mark.  Each then sleeps for 500 ms (64
 * times that after a proactive pass that did not help; for ever with
 * proactiveness 0).  kcompactd is a kernel thread: no task is current.
 * mmsim_run_daemon() runs it with every timeout expired.
 */
static void kcompactd_pass(struct mmsim_machine *m, bool on_demand)
{
	struct mmsim_task *cur = m->current;
	const uint64_t timeout = HPAGE_FRAG_CHECK_INTERVAL_MSEC * NSEC_PER_MSEC;

	m->current = NULL;
	for (unsigned int n = 0; n < m->nr_nodes; n++) {
		struct pglist_data *pgdat = &m->nodes[n];
		uint64_t next = timeout;

		if (!pgdat_nr_zones(pgdat))
			continue;
		if (!on_demand && !pgdat->proactive_compact_trigger && m->now < pgdat->kcompactd_next_proactive)
			continue;
		if (pgdat->kcompactd_max_order > 0 && !pgdat->proactive_compact_trigger) {
			kcompactd_do_work(m, pgdat);
		} else {
			TRACE(m, "compaction:mm_compaction_kcompactd_sleep", (int)smp_processor_id(m), -1, 0, 0, 0,
			      "nid=%d", pgdat->node_id);
			if (should_proactive_compact_node(m, pgdat)) {
				unsigned int prev = fragmentation_score_node(pgdat);

				proactive_compact_node(m, pgdat);
				if (fragmentation_score_node(pgdat) >= prev)
					next = timeout << COMPACT_MAX_DEFER_SHIFT;
			}
			pgdat->proactive_compact_trigger = false;
		}
		pgdat->kcompactd_next_proactive = m->compaction_proactiveness ? m->now + next : KCOMPACTD_NEVER;
	}
	m->current = cur;
}

int kcompactd_run(struct mmsim_machine *m)
{
	kcompactd_pass(m, true);
	return 0;
}

/* The periodic form, from mmsim_advance(): only nodes whose timeout ended or that were woken. */

int kcompactd_tick(struct mmsim_machine *m)
{
	kcompactd_pass(m, false);
	return 0;
}

/* ------------------------------------------------------------- set up */

/* Boot: skip hints, scanner positions and each node's kcompactd (kcompactd_init). */
int kcompactd_init(struct mmsim_machine *m)
{
	for (unsigned int n = 0; n < m->nr_nodes; n++) {
		struct pglist_data *pgdat = &m->nodes[n];

		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &pgdat->node_zones[zi];
			uint64_t blocks;

			if (!z->spanned_pages)
				continue;
			blocks = ((zone_end_pfn(z) + pageblock_nr_pages - 1) >> pageblock_order) -
				 (z->zone_start_pfn >> pageblock_order);
			z->pageblock_skip = calloc(blocks, 1);
			if (!z->pageblock_skip)
				return seterr(-MMSIM_ENOMEM, "out of host memory for pageblock skip hints");
			reset_cached_positions(z);
		}
		pgdat->kcompactd_max_order = 0;
		pgdat->kcompactd_highest_zoneidx = pgdat_nr_zones(pgdat) - 1;
		pgdat->kcompactd_next_proactive = HPAGE_FRAG_CHECK_INTERVAL_MSEC * NSEC_PER_MSEC;
		pgdat->kswapd_order = 0;
		pgdat->kswapd_highest_zoneidx = 0;
	}
	return 0;
}

void kcompactd_exit(struct mmsim_machine *m)
{
	for (unsigned int n = 0; n < MAX_NUMNODES; n++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			free(m->nodes[n].node_zones[zi].pageblock_skip);
			m->nodes[n].node_zones[zi].pageblock_skip = NULL;
		}
}

/* ----------------------------------------------------------- invariants */

struct ccheck {
	char *buf;
	size_t len, off;
	int problems;
};

static void cproblem(struct ccheck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cproblem(struct ccheck *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->problems++ >= 16 || !c->buf || c->off + 2 >= c->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(c->buf + c->off, c->len - c->off - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	c->off += (size_t)n < c->len - c->off - 1 ? (size_t)n : c->len - c->off - 2;
	c->buf[c->off++] = '\n';
	c->buf[c->off] = '\0';
}

/*
 * compaction_check - outside a compaction run: no page is isolated and the
 * isolation counters say so, nothing is being captured, no compaction is
 * marked running (a leaked zone->lock is check_locks()'s); each zone's
 * scanner positions lie in the zone and its deferral
 * state is in range; each node's kcompactd request names a real order and
 * zone.  Appends findings to buf; returns their number.
 */
int compaction_check(struct mmsim_machine *m, char *buf, size_t len)
{
	struct ccheck c = { buf, len, buf ? strlen(buf) : 0, 0 };
	int64_t isolated[MAX_NUMNODES] = { 0 };

	struct list_head *pos;
	bool idle = !sched_in_run(m);	/* else a task may be compacting right now */

	if (idle && m->capture_control)
		cproblem(&c, "compaction: a capture control is set outside direct compaction");
	if (idle && m->compacting)
		cproblem(&c, "compaction: %u compaction runs still marked active", m->compacting);
	list_for_each(pos, &m->tasks) {
		struct mmsim_task *t = list_entry(pos, struct mmsim_task, tasks_node);

		if (idle && (t->capture_control || t->compacting))
			cproblem(&c, "compaction: task %d still has a capture control or a compaction run", t->pid);
	}
	for (unsigned int u = 0; u < m->nr_usable; u++)
		for (uint64_t pfn = m->usable[u].start; pfn < m->usable[u].end; pfn++) {
			struct page *p = pfn_to_page(m, pfn);

			if (p->flags & PG_buddy) {
				pfn += (1ULL << p->order) - 1;
				continue;
			}
			if (!(p->flags & PG_isolated))
				continue;
			if (p->nid < MAX_NUMNODES)
				isolated[p->nid]++;
			if (p->flags & PG_lru)
				cproblem(&c, "compaction: pfn 0x%llx is isolated and on the LRU",
					 (unsigned long long)pfn);
		}
	for (unsigned int n = 0; n < m->nr_nodes; n++) {
		struct pglist_data *pg = &m->nodes[n];
		int64_t counted = pg->vm_stat[NR_ISOLATED_ANON] + pg->vm_stat[NR_ISOLATED_FILE];

		if (counted != isolated[n])
			cproblem(&c, "node %u: nr_isolated_anon + nr_isolated_file = %lld but %lld pages are isolated",
				 n, (long long)counted, (long long)isolated[n]);
		if (pg->kcompactd_max_order < 0 || pg->kcompactd_max_order > MAX_PAGE_ORDER ||
		    pg->kcompactd_highest_zoneidx < -1 || pg->kcompactd_highest_zoneidx >= MAX_NR_ZONES)
			cproblem(&c, "node %u: kcompactd request order %d zone %d out of range", n,
				 pg->kcompactd_max_order, pg->kcompactd_highest_zoneidx);
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &pg->node_zones[zi];
			uint64_t s = z->zone_start_pfn, e = zone_end_pfn(z);

			if (!populated_zone(z))
				continue;
			if (!z->pageblock_skip)
				cproblem(&c, "zone %s: no pageblock skip hints", z->name);
			/*
			 * The cached positions are hints compact_zone() checks
			 * before use, but they never point past a pageblock beyond
			 * the zone (one above it for the migrate scanner, as Linux
			 * caches the end of the block after the one scanned).
			 */
			for (int k = 0; k < 2; k++)
				if (z->compact_cached_migrate_pfn[k] < s ||
				    z->compact_cached_migrate_pfn[k] > e + pageblock_nr_pages)
					cproblem(&c, "zone %s: cached migrate pfn 0x%llx outside [0x%llx, 0x%llx]",
						 z->name, (unsigned long long)z->compact_cached_migrate_pfn[k],
						 (unsigned long long)s, (unsigned long long)(e + pageblock_nr_pages));
			if (z->compact_cached_free_pfn >= e ||
			    z->compact_cached_free_pfn + 2 * pageblock_nr_pages < pageblock_start_pfn(s))
				cproblem(&c, "zone %s: cached free pfn 0x%llx outside [0x%llx, 0x%llx)", z->name,
					 (unsigned long long)z->compact_cached_free_pfn, (unsigned long long)s,
					 (unsigned long long)e);
			if (z->compact_defer_shift > COMPACT_MAX_DEFER_SHIFT ||
			    z->compact_considered > (1U << z->compact_defer_shift))
				cproblem(&c, "zone %s: deferral shift %u considered %u out of range", z->name,
					 z->compact_defer_shift, z->compact_considered);
		}
	}
	return c.problems;
}
