// SPDX-License-Identifier: MIT
/*
 * mm/page_alloc.c - the buddy allocator.
 *
 * Design.  Each zone keeps, per order 0..MAX_PAGE_ORDER and per migratetype,
 * a list of free blocks; a free block is 2^order naturally aligned frames whose
 * head page carries PG_buddy and its order.  Freeing merges a block with its
 * buddy (pfn ^ 2^order) while the buddy is a free block of the same order in
 * the same zone.  Every pageblock (2^pageblock_order frames) has a
 * migratetype, and a free block sits on the list of its pageblock's type:
 * when a pageblock changes type its free pages move with it, so the lists and
 * the pageblock types never disagree (mmsim_check() verifies it).
 *
 * Allocation takes the smallest block of the wanted type and splits it; when
 * the type has nothing it falls back to the other types in Linux's order,
 * stealing the whole pageblock when the fallback block is large or at least
 * half of its pageblock is free, which is what keeps unmovable allocations
 * from scattering through movable memory.
 *
 * Order-0 pages go through per-CPU lists (pcp): refilled and drained in
 * batches from the buddy lists, so the common fault path touches no zone
 * state.  Pages on a pcp list are not counted in NR_FREE_PAGES, as in Linux.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mm/compaction.h"

static const int fallbacks[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES - 1] = {
	[MIGRATE_UNMOVABLE]   = { MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE },
	[MIGRATE_MOVABLE]     = { MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE },
	[MIGRATE_RECLAIMABLE] = { MIGRATE_UNMOVABLE, MIGRATE_MOVABLE },
};

/* Types whose blocks may merge with blocks of another type. */
static bool migratetype_is_mergeable(int mt)
{
	return mt < MIGRATE_PCPTYPES;
}

static uint8_t *pageblock_slot(struct mmsim_machine *m, uint64_t pfn)
{
	struct page *p = pfn_to_page(m, pfn);
	struct zone *z = page_zone(m, p);

	return &z->pageblock_mt[(pfn >> pageblock_order) - (z->zone_start_pfn >> pageblock_order)];
}

int get_pageblock_migratetype(struct mmsim_machine *m, uint64_t pfn)
{
	return *pageblock_slot(m, pfn);
}

void set_pageblock_migratetype(struct mmsim_machine *m, uint64_t pfn, int mt)
{
	*pageblock_slot(m, pfn) = (uint8_t)mt;
}

/* Set the type of every pageblock a block of 2^order frames covers. */
static void set_block_migratetype(struct mmsim_machine *m, uint64_t pfn, unsigned int order, int mt)
{
	uint64_t n = order >= pageblock_order ? 1UL << (order - pageblock_order) : 1;

	for (uint64_t i = 0; i < n; i++)
		set_pageblock_migratetype(m, pfn + (i << pageblock_order), mt);
}

/* Free-page accounting lives with the lists, so no path can forget it. */
static void account_freepages(struct zone *z, int64_t nr, int mt)
{
	if (mt == MIGRATE_ISOLATE)
		return;
	mod_zone_page_state(z, NR_FREE_PAGES, nr);
	if (mt == MIGRATE_CMA)
		mod_zone_page_state(z, NR_FREE_CMA_PAGES, nr);
	else if (mt == MIGRATE_METADATA)
		mod_zone_page_state(z, NR_FREE_METADATA_PAGES, nr);
}

static void add_to_free_list(struct zone *z, struct page *p, unsigned int order, int mt, bool tail)
{
	struct free_area *area = &z->free_area[order];

	p->flags |= PG_buddy;
	p->order = (uint8_t)order;
	if (tail)
		list_add_tail(&p->lru, &area->free_list[mt]);
	else
		list_add(&p->lru, &area->free_list[mt]);
	area->nr_free++;
	account_freepages(z, 1L << order, mt);
}

static void del_page_from_free_list(struct zone *z, struct page *p, unsigned int order, int mt)
{
	list_del(&p->lru);
	p->flags &= ~PG_buddy;
	p->order = 0;
	z->free_area[order].nr_free--;
	account_freepages(z, -(1L << order), mt);
}

/*
 * __free_one_page - return a block to the buddy lists, merging upwards.
 * Assumes the block's frames are all free and the block is aligned.
 */
static void __free_one_page_to(struct mmsim_machine *m, struct zone *z, uint64_t pfn,
			       unsigned int order, int mt, bool tail)
{
	while (order < MAX_PAGE_ORDER) {
		uint64_t buddy_pfn = pfn ^ (1ULL << order);
		struct page *buddy;

		/* A direct compactor waiting for this order takes the block as it forms. */
		if (*current_capture_control(m) && compaction_capture(m, z, pfn, order, mt))
			return;
		if (!pfn_valid(m, buddy_pfn))
			break;
		buddy = pfn_to_page(m, buddy_pfn);
		if (!(buddy->flags & PG_buddy) || buddy->order != order || page_zone(m, buddy) != z)
			break;
		if (order >= pageblock_order) {
			int buddy_mt = get_pageblock_migratetype(m, buddy_pfn);

			if (buddy_mt != mt) {
				/* Isolated or special blocks never merge with others. */
				if (!migratetype_is_mergeable(buddy_mt) || !migratetype_is_mergeable(mt))
					break;
				del_page_from_free_list(z, buddy, order, buddy_mt);
				set_block_migratetype(m, buddy_pfn, order, mt);
				goto merged;
			}
		}
		del_page_from_free_list(z, buddy, order, mt);
merged:
		pfn &= buddy_pfn;
		order++;
	}
	add_to_free_list(z, pfn_to_page(m, pfn), order, mt, tail);
}

/*
 * Free one buddy block under zone->lock, onto the list of its pageblock's
 * type as it is under the lock: read before, it may have changed while
 * this task waited for the lock (alloc_contig_range isolating the
 * pageblock on another CPU), which is why Linux's free_one_page reads it
 * again there.
 */
static void __free_one_page(struct mmsim_machine *m, struct zone *z, uint64_t pfn, unsigned int order)
{
	spin_lock(&z->lock);
	__free_one_page_to(m, z, pfn, order, get_pageblock_migratetype(m, pfn), false);
	spin_unlock(&z->lock);
}

/* Split a block of order high down to order low, freeing the upper halves. */
static void expand(struct zone *z, struct mmsim_machine *m, uint64_t pfn, unsigned int low,
		   unsigned int high, int mt)
{
	while (high > low) {
		high--;
		add_to_free_list(z, pfn_to_page(m, pfn + (1ULL << high)), high, mt, false);
	}
}

static struct page *__rmqueue_smallest(struct mmsim_machine *m, struct zone *z,
				       unsigned int order, int mt)
{
	for (unsigned int o = order; o < NR_PAGE_ORDERS; o++) {
		struct list_head *list = &z->free_area[o].free_list[mt];
		struct page *p;

		if (list_empty(list))
			continue;
		p = list_first_entry(list, struct page, lru);
		del_page_from_free_list(z, p, o, mt);
		expand(z, m, page_to_pfn(m, p), order, o, mt);
		return p;
	}
	return NULL;
}

/* The free block containing pfn: its head pfn and order, or false. */
static bool find_free_block(struct mmsim_machine *m, uint64_t pfn, uint64_t *head, unsigned int *order);

/*
 * split_large_buddy - a free block bigger than a pageblock that covers the
 * pageblock at pfn is broken into pageblock-sized blocks, each on the list
 * of its own pageblock's type, so that one pageblock can change type alone
 * (Linux splits such blocks when it isolates a single pageblock).
 */
static void split_large_buddy(struct mmsim_machine *m, struct zone *z, uint64_t pfn)
{
	uint64_t head;
	unsigned int order;

	if (!find_free_block(m, pfn, &head, &order) || order <= pageblock_order)
		return;
	del_page_from_free_list(z, pfn_to_page(m, head), order, get_pageblock_migratetype(m, head));
	for (uint64_t pb = head; pb < head + (1ULL << order); pb += pageblock_nr_pages)
		add_to_free_list(z, pfn_to_page(m, pb), pageblock_order, get_pageblock_migratetype(m, pb), true);
}

/*
 * move_freepages_block - move the free blocks of the pageblock holding pfn to
 * the lists of type mt and retype the pageblock.  Returns the number of free
 * pages moved.  A larger free block around it is split first.
 */
int move_freepages_block(struct mmsim_machine *m, uint64_t pfn, int mt)
{
	uint64_t start = pfn & ~(pageblock_nr_pages - 1), end = start + pageblock_nr_pages;
	int old_mt = get_pageblock_migratetype(m, start);
	struct zone *z = page_zone(m, pfn_to_page(m, start));
	int moved = 0;

	split_large_buddy(m, z, start);
	for (uint64_t p = start; p < end;) {
		struct page *pg = pfn_to_page(m, p);
		unsigned int o = pg->order;

		if (!(pg->flags & PG_buddy)) {
			p++;
			continue;
		}
		del_page_from_free_list(z, pg, o, old_mt);
		add_to_free_list(z, pg, o, mt, true);
		moved += 1 << o;
		p += 1ULL << o;
	}
	set_pageblock_migratetype(m, start, mt);
	return moved;
}

/* The free block containing pfn: its head pfn and order, or false. */
static bool find_free_block(struct mmsim_machine *m, uint64_t pfn, uint64_t *head, unsigned int *order)
{
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		uint64_t h = pfn & ~((1ULL << o) - 1);
		struct page *p;

		if (!pfn_valid(m, h))
			break;
		p = pfn_to_page(m, h);
		if ((p->flags & PG_buddy) && p->order >= o && h + (1ULL << p->order) > pfn) {
			*head = h;
			*order = p->order;
			return true;
		}
	}
	return false;
}

/*
 * take_page_off_buddy - remove one free frame from the buddy lists, giving the
 * rest of its block back.  Used by alloc_contig_range() to claim a range
 * frame by frame.  Returns false when the frame is not free in the buddy.
 */
bool take_page_off_buddy(struct mmsim_machine *m, struct page *page)
{
	uint64_t pfn = page_to_pfn(m, page), head;
	unsigned int order;
	struct zone *z = page_zone(m, page);
	int mt;

	if (!find_free_block(m, pfn, &head, &order))
		return false;
	mt = get_pageblock_migratetype(m, head);
	del_page_from_free_list(z, pfn_to_page(m, head), order, mt);
	/* Halve the block around pfn, freeing the half without it each time. */
	while (order > 0) {
		uint64_t half = 1ULL << (order - 1);

		order--;
		if (pfn >= head + half) {
			add_to_free_list(z, pfn_to_page(m, head), order, mt, false);
			head += half;
		} else {
			add_to_free_list(z, pfn_to_page(m, head + half), order, mt, false);
		}
	}
	return true;
}

/*
 * init_reserved_pageblock - free one reserved pageblock to the buddy with
 * type mt and count it as managed memory (adjust_managed_page_count).  The
 * frames must be PG_reserved boot memory no one uses.
 */
void init_reserved_pageblock(struct mmsim_machine *m, uint64_t pfn, int mt)
{
	struct zone *z = pfn_zone(m, pfn);

	pfn &= ~(pageblock_nr_pages - 1);
	for (uint64_t i = 0; i < pageblock_nr_pages; i++) {
		struct page *p = pfn_to_page(m, pfn + i);

		p->flags = 0;
		p->refcount = 0;
	}
	set_pageblock_migratetype(m, pfn, mt);
	__free_one_page(m, z, pfn, pageblock_order);
	z->managed_pages += pageblock_nr_pages;
	m->totalram_pages += pageblock_nr_pages;
}

/* Linux's rule for taking a whole pageblock when falling back. */
static bool can_steal_fallback(unsigned int order, int start_mt)
{
	return order >= pageblock_order / 2 || start_mt == MIGRATE_RECLAIMABLE ||
	       start_mt == MIGRATE_UNMOVABLE;
}

/*
 * __rmqueue_fallback - allocate from another type's lists, largest blocks
 * first so a stolen pageblock is as empty as possible.  Claims the pageblock
 * for start_mt when the block is big or at least half of it is free.
 */
static struct page *__rmqueue_fallback(struct mmsim_machine *m, struct zone *z,
				       unsigned int order, int start_mt)
{
	for (int o = MAX_PAGE_ORDER; o >= (int)order; o--) {
		for (int i = 0; i < MIGRATE_PCPTYPES - 1; i++) {
			int fmt = fallbacks[start_mt][i];
			struct list_head *list = &z->free_area[o].free_list[fmt];
			struct page *p;
			uint64_t pfn;

			if (list_empty(list))
				continue;
			p = list_first_entry(list, struct page, lru);
			pfn = page_to_pfn(m, p);
			TRACE(m, "kmem:mm_page_alloc_extfrag", (int)smp_processor_id(m), -1, 0, pfn, order,
			      "page=%llx pfn=0x%llx alloc_order=%u fallback_order=%d alloc_migratetype=%d fallback_migratetype=%d",
			      (unsigned long long)pfn, (unsigned long long)pfn, order, o, start_mt, fmt);
			if (can_steal_fallback((unsigned int)o, start_mt)) {
				if (o >= pageblock_order) {
					del_page_from_free_list(z, p, (unsigned int)o, fmt);
					set_block_migratetype(m, pfn, (unsigned int)o, start_mt);
					add_to_free_list(z, p, (unsigned int)o, start_mt, false);
				} else {
					int free = 0;
					uint64_t bs = pfn & ~(pageblock_nr_pages - 1);

					for (uint64_t q = bs; q < bs + pageblock_nr_pages;) {
						struct page *pg = pfn_to_page(m, q);

						if (pg->flags & PG_buddy) {
							free += 1 << pg->order;
							q += 1ULL << pg->order;
						} else {
							q++;
						}
					}
					if (free >= (int)pageblock_nr_pages / 2)
						move_freepages_block(m, pfn, start_mt);
				}
				p = __rmqueue_smallest(m, z, order, start_mt);
				if (p)
					return p;
				continue;
			}
			del_page_from_free_list(z, p, (unsigned int)o, fmt);
			expand(z, m, pfn, order, (unsigned int)o, fmt);
			return p;
		}
	}
	return NULL;
}

/*
 * find_suitable_fallback - the first type migratetype falls back to that has
 * a free block on area; with only_stealable, only a type whose pageblock
 * the request would claim.  -1 if none.  (Compaction asks it whether a
 * request can already be served.)
 */
int find_suitable_fallback(struct free_area *area, unsigned int order, int migratetype,
			   bool only_stealable, bool *can_steal)
{
	*can_steal = false;
	if (!area->nr_free || migratetype >= MIGRATE_PCPTYPES)
		return -1;
	for (int i = 0; i < MIGRATE_PCPTYPES - 1; i++) {
		int fmt = fallbacks[migratetype][i];

		if (list_empty(&area->free_list[fmt]))
			continue;
		if (can_steal_fallback(order, migratetype))
			*can_steal = true;
		if (!only_stealable || *can_steal)
			return fmt;
	}
	return -1;
}

/*
 * alloc_flags (mm/internal.h): which special free lists an allocation may
 * use.  CMA is for movable allocations (never tagged ones under the cma
 * policy: tag storage cannot hold its own tags there); MIGRATE_METADATA is
 * for untagged movable allocations with tag storage enabled, and only as a
 * last resort (§2.2).
 */
unsigned int gfp_to_alloc_flags(struct mmsim_machine *m, gfp_t gfp)
{
	unsigned int flags = 0;

	if (gfp_migratetype(gfp) != MIGRATE_MOVABLE)
		return 0;
	if (m->mte.policy != TS_POLICY_CMA || !(gfp & __GFP_TAGGED))
		flags |= ALLOC_CMA;
	if (m->mte.storage_enabled && m->mte.policy == TS_POLICY_RFC_V1 && !(gfp & __GFP_TAGGED))
		flags |= ALLOC_FROM_METADATA;
	return flags;
}

/*
 * __rmqueue - Linux's order with the seed's METADATA step (§2.3): CMA first
 * when it holds over half the free memory, then the wanted type, then CMA,
 * then METADATA, then stealing from the other ordinary types.
 */
static struct page *__rmqueue(struct mmsim_machine *m, struct zone *z, unsigned int order, int mt,
			      unsigned int alloc_flags)
{
	struct page *p = NULL;

	if ((alloc_flags & ALLOC_CMA) &&
	    zone_page_state(z, NR_FREE_CMA_PAGES) > zone_page_state(z, NR_FREE_PAGES) / 2)
		p = __rmqueue_smallest(m, z, order, MIGRATE_CMA);
	if (!p)
		p = __rmqueue_smallest(m, z, order, mt);
	if (!p && (alloc_flags & ALLOC_CMA))
		p = __rmqueue_smallest(m, z, order, MIGRATE_CMA);
	if (!p && (alloc_flags & ALLOC_FROM_METADATA))
		p = __rmqueue_smallest(m, z, order, MIGRATE_METADATA);
	if (!p && mt < MIGRATE_PCPTYPES)
		p = __rmqueue_fallback(m, z, order, mt);
	return p;
}

/* Move up to count order-0 pages from the buddy to a pcp list. */
static int rmqueue_bulk(struct mmsim_machine *m, struct zone *z, int count, int mt,
			unsigned int alloc_flags, struct list_head *list)
{
	int i;

	spin_lock(&z->lock);
	for (i = 0; i < count; i++) {
		struct page *p = __rmqueue(m, z, 0, mt, alloc_flags);

		if (!p)
			break;
		p->flags |= PG_pcp;
		p->pcp_mt = (uint8_t)mt;
		list_add_tail(&p->lru, list);
	}
	spin_unlock(&z->lock);
	return i;
}

/* Give count pages of a pcp back to the buddy, oldest first, list by list. */
static void free_pcppages_bulk(struct mmsim_machine *m, struct zone *z, struct per_cpu_pages *pcp,
			       int count)
{
	int mt = 0;

	while (count > 0 && pcp->count > 0) {
		struct list_head *list = &pcp->lists[mt];

		if (!list_empty(list)) {
			struct page *p = list_last_entry(list, struct page, lru);
			uint64_t pfn = page_to_pfn(m, p);

			list_del(&p->lru);
			p->flags &= ~PG_pcp;
			pcp->count--;
			count--;
			__free_one_page(m, z, pfn, 0);
		}
		mt = (mt + 1) % MIGRATE_PCPTYPES;
	}
}

void drain_all_pages(struct mmsim_machine *m)
{
	for (unsigned int n = 0; n < m->nr_nodes; n++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &m->nodes[n].node_zones[zi];

			if (!populated_zone(z))
				continue;
			for (unsigned int c = 0; c < m->nr_cpus; c++) {
				spin_lock(&z->pcp[c].lock);
				free_pcppages_bulk(m, z, &z->pcp[c], z->pcp[c].count);
				spin_unlock(&z->pcp[c].lock);
			}
		}
}

/* This CPU's pcp pages of z back to the buddy (Linux's drain_local_pages(zone)). */
void drain_local_pages(struct mmsim_machine *m, struct zone *z)
{
	struct per_cpu_pages *pcp = &z->pcp[smp_processor_id(m)];

	spin_lock(&pcp->lock);
	free_pcppages_bulk(m, z, pcp, pcp->count);
	spin_unlock(&pcp->lock);
}

static struct page *rmqueue_pcplist(struct mmsim_machine *m, struct zone *z, int mt,
				    unsigned int alloc_flags)
{
	struct per_cpu_pages *pcp = &z->pcp[smp_processor_id(m)];
	struct list_head *list = &pcp->lists[mt];
	struct page *p = NULL;

	spin_lock(&pcp->lock);
	if (list_empty(list))
		pcp->count += rmqueue_bulk(m, z, pcp->batch, mt, alloc_flags, list);
	if (!list_empty(list)) {
		p = list_first_entry(list, struct page, lru);
		list_del(&p->lru);
		p->flags &= ~PG_pcp;
		pcp->count--;
	}
	spin_unlock(&pcp->lock);
	return p;
}

/*
 * The MOVABLE pcp list may hold CMA and METADATA pages, so a movable request
 * that may not have them must bypass it (§2.4).  The seed tests for METADATA
 * at compile time (every MOVABLE request skips the pcp lists on a kernel
 * built with the option, as written); mte_fixes=on tests the runtime key.
 * "Built with the option" is the rfc-v1 policy: the others have no
 * METADATA pages, whatever their storage state.
 */
static bool movable_pcp_allowed(struct mmsim_machine *m, unsigned int alloc_flags)
{
	bool cma_built = m->mte.policy == TS_POLICY_CMA;
	bool metadata_built = m->mte.policy == TS_POLICY_RFC_V1 && (!m->mte.fixed || m->mte.storage_enabled);

	return (!cma_built || (alloc_flags & ALLOC_CMA)) &&
	       (!metadata_built || (alloc_flags & ALLOC_FROM_METADATA));
}

static struct page *rmqueue(struct mmsim_machine *m, struct zone *z, unsigned int order, int mt,
			    unsigned int alloc_flags)
{
	struct page *p;

	if (order == 0 && mt < MIGRATE_PCPTYPES &&
	    (mt != MIGRATE_MOVABLE || movable_pcp_allowed(m, alloc_flags)))
		return rmqueue_pcplist(m, z, mt, alloc_flags);
	spin_lock(&z->lock);
	p = __rmqueue(m, z, order, mt, alloc_flags);
	spin_unlock(&z->lock);
	return p;
}

/*
 * zone_watermark_ok - would the zone stay above mark after this allocation,
 * and does it have a block big enough?  Linux's __zone_watermark_ok without
 * the high-atomic and ALLOC_* refinements.
 */
bool __zone_watermark_ok(struct zone *z, unsigned int order, uint64_t mark,
			 unsigned int alloc_flags)
{
	int64_t free = zone_page_state(z, NR_FREE_PAGES) - ((1L << order) - 1);

	/* Free pages this request may not use do not count (§2.5). */
	if (!(alloc_flags & ALLOC_CMA))
		free -= zone_page_state(z, NR_FREE_CMA_PAGES);
	if (!(alloc_flags & ALLOC_FROM_METADATA))
		free -= zone_page_state(z, NR_FREE_METADATA_PAGES);
	if (free <= (int64_t)mark)
		return false;
	if (order == 0)
		return true;
	for (unsigned int o = order; o < NR_PAGE_ORDERS; o++) {
		for (int mt = 0; mt < MIGRATE_PCPTYPES; mt++)
			if (!list_empty(&z->free_area[o].free_list[mt]))
				return true;
		if ((alloc_flags & ALLOC_CMA) && !list_empty(&z->free_area[o].free_list[MIGRATE_CMA]))
			return true;
		if ((alloc_flags & ALLOC_FROM_METADATA) &&
		    !list_empty(&z->free_area[o].free_list[MIGRATE_METADATA]))
			return true;
	}
	return false;
}

/* The watermark test for a request that may use every kind of free page. */
bool zone_watermark_ok(struct zone *z, unsigned int order, uint64_t mark)
{
	return __zone_watermark_ok(z, order, mark, ALLOC_CMA | ALLOC_FROM_METADATA);
}

/* Turn a block just taken from the lists into an allocated page. */
static void prep_new_page(struct mmsim_machine *m, struct page *p, unsigned int order, gfp_t gfp)
{
	uint64_t n = 1ULL << order;

	for (uint64_t i = 0; i < n; i++) {
		struct page *q = p + i;

		q->flags &= PG_tag_storage_reserved;	/* set by the reservation just made */
		q->refcount = 0;
		q->mapcount = 0;
		q->mapping = 0;
		q->index = 0;
		q->private = 0;
		q->pincount = 0;
		q->order = 0;
		q->compound_offset = 0;
	}
	p->refcount = 1;
	{
		struct zone *z = page_zone(m, p);

		for (uint64_t i = 0; i < n; i++) {
			p[i].nid = (uint8_t)z->zone_pgdat->node_id;
			p[i].zid = (uint8_t)z->idx;
		}
	}
	if ((gfp & __GFP_COMP) && order) {
		p->flags |= PG_head;
		p->order = (uint8_t)order;
		for (uint64_t i = 1; i < n; i++) {
			p[i].flags |= PG_tail;
			p[i].compound_offset = (uint32_t)i;
		}
	}
	if (gfp & __GFP_ZERO) {
		if ((gfp & __GFP_TAGGED) && m->mte.supported) {
			for (uint64_t i = 0; i < n; i++)
				tag_clear_highpage(m, p + i);
		} else {
			memset(page_address(m, p), 0, n << PAGE_SHIFT);
		}
		charge_ns(m, m->costs[COST_ZERO_PAGE] * n);
	}
}

/* Compaction's name for it: a block taken off the lists becomes allocated. */
void post_alloc_hook(struct mmsim_machine *m, struct page *p, unsigned int order, gfp_t gfp)
{
	prep_new_page(m, p, order, gfp);
}

/*
 * __isolate_free_page - take the free block at page off the buddy lists for
 * compaction, if the zone stays above its min watermark (METADATA and CMA
 * pages count, §2.5).  The caller holds zone->lock.  A block of at least half a pageblock turns its
 * ordinary pageblocks MOVABLE, as the pages will hold movable data.
 * Returns the number of pages taken, 0 if none.  The pages are left free
 * (refcount 0, not PG_buddy): post_alloc_hook() makes them allocated.
 */
unsigned int __isolate_free_page(struct mmsim_machine *m, struct page *page, unsigned int order)
{
	uint64_t pfn = page_to_pfn(m, page);
	struct zone *z = page_zone(m, page);
	int mt = get_pageblock_migratetype(m, pfn);

	if (mt != MIGRATE_ISOLATE &&
	    !__zone_watermark_ok(z, 0, z->watermark[WMARK_MIN] + (1ULL << order),
				 ALLOC_CMA | ALLOC_FROM_METADATA))
		return 0;
	del_page_from_free_list(z, page, order, mt);
	if (order >= pageblock_order - 1)
		for (uint64_t pb = pfn; pb < pfn + (1ULL << order); pb += pageblock_nr_pages)
			if (migratetype_is_mergeable(get_pageblock_migratetype(m, pb)))
				move_freepages_block(m, pb, MIGRATE_MOVABLE);
	return 1U << order;
}

static const enum vm_event_item pgalloc_event[MAX_NR_ZONES] = {
	PGALLOC_DMA, PGALLOC_NORMAL, PGALLOC_MOVABLE,
};

int numa_node_of_cpu(struct mmsim_machine *m, unsigned int cpu)
{
	return cpu < m->nr_cpus ? m->cpus[cpu].nid : 0;
}

/* Nodes in the order an allocation preferring nid tries them: nearest first. */
int node_order(struct mmsim_machine *m, int nid, int *order)
{
	int n = 0;

	order[n++] = nid;
	for (int d = 1; d <= 255 && n < (int)m->nr_nodes; d++)
		for (unsigned int i = 0; i < m->nr_nodes; i++)
			if ((int)i != nid && m->nodes[nid].distance[i] == d)
				order[n++] = (int)i;
	for (unsigned int i = 0; i < m->nr_nodes && n < (int)m->nr_nodes; i++) {
		bool seen = false;

		for (int j = 0; j < n; j++)
			seen |= order[j] == (int)i;
		if (!seen)
			order[n++] = (int)i;
	}
	return n;
}

/* NUMA_HIT/MISS/FOREIGN and LOCAL/OTHER for a page of zone z that nid preferred. */
static void zone_statistics(struct mmsim_machine *m, int nid, struct zone *z, int64_t nr)
{
	struct pglist_data *pgdat = z->zone_pgdat;
	int local = numa_node_of_cpu(m, smp_processor_id(m));

	if (pgdat->node_id == nid) {
		count_numa_events(pgdat, NUMA_HIT, nr);
	} else {
		count_numa_events(pgdat, NUMA_MISS, nr);
		count_numa_events(&m->nodes[nid], NUMA_FOREIGN, nr);
	}
	count_numa_events(pgdat, pgdat->node_id == local ? NUMA_LOCAL : NUMA_OTHER, nr);
}

static struct page *get_page_from_freelist(struct mmsim_machine *m, int nid, gfp_t gfp,
					   unsigned int order, int wmark)
{
	int nodes[MAX_NUMNODES], nr = node_order(m, nid, nodes);
	int mt = gfp_migratetype(gfp);
	unsigned int alloc_flags = gfp_to_alloc_flags(m, gfp);

	if (gfp & __GFP_THISNODE)
		nr = 1;
	for (int i = 0; i < nr; i++) {
		struct pglist_data *pgdat = &m->nodes[nodes[i]];

		for (int zi = gfp_zone(gfp); zi >= 0; zi--) {
			struct zone *z = &pgdat->node_zones[zi];
			struct page *p;

			if (!populated_zone(z))
				continue;
			if (!__zone_watermark_ok(z, order, z->watermark[wmark], alloc_flags))
				continue;
			p = rmqueue(m, z, order, mt, alloc_flags);
			if (!p)
				continue;
			if (m->mte.storage_enabled && (gfp & __GFP_TAGGED) &&
			    reserve_metadata_storage(m, p, order, gfp)) {
				/* No tag storage: back to the tail, try elsewhere (§3.3). */
				__free_one_page_to(m, z, page_to_pfn(m, p), order,
						   get_pageblock_migratetype(m, page_to_pfn(m, p)), true);
				continue;
			}
			prep_new_page(m, p, order, gfp);
			count_vm_events(m, pgalloc_event[zi], 1L << order);
			zone_statistics(m, nid, z, 1);
			return p;
		}
	}
	return NULL;
}

/*
 * wake_all_kswapds - a request failed the low watermark: note the order for
 * each node's kswapd (which runs on its period, mm/vmscan.c).  A node that
 * is balanced for the order at its high watermark, yet could not serve the
 * request, is fragmented rather than short of memory: kswapd has nothing
 * to do there, and a request that will not compact itself wakes kcompactd
 * (Linux's wakeup_kswapd).
 */
static void wake_all_kswapds(struct mmsim_machine *m, int nid, gfp_t gfp, unsigned int order)
{
	int nodes[MAX_NUMNODES], nr = node_order(m, nid, nodes);
	int highest = (gfp & __GFP_MOVABLE) ? ZONE_MOVABLE : ZONE_NORMAL;

	if (gfp & __GFP_THISNODE)
		nr = 1;
	for (int i = 0; i < nr; i++) {
		struct pglist_data *pgdat = &m->nodes[nodes[i]];
		bool balanced = false;

		if (pgdat->kswapd_order < (int)order)
			pgdat->kswapd_order = (int)order;
		if (pgdat->kswapd_highest_zoneidx < highest)
			pgdat->kswapd_highest_zoneidx = highest;
		for (int zi = 0; zi <= highest; zi++) {
			struct zone *z = &pgdat->node_zones[zi];

			/* As pgdat_balanced(): free CMA and METADATA pages do not count. */
			balanced |= populated_zone(z) && __zone_watermark_ok(z, order, z->watermark[WMARK_HIGH], 0);
		}
		if (balanced && !(gfp & __GFP_DIRECT_RECLAIM))
			wakeup_kcompactd(m, pgdat, (int)order, highest);
	}
}

/*
 * __alloc_pages_direct_compact - compact for this request, then take the
 * page compaction captured or try the free lists again.  compact_stall
 * counts every attempt that compacted at least one zone; compact_success
 * and compact_fail say whether the request was then served.  A captured
 * page of a tagged request needs its tag storage like any other (§3.3 2):
 * when that fails it goes back to the tail of its free list.
 */
static struct page *__alloc_pages_direct_compact(struct mmsim_machine *m, int nid, gfp_t gfp,
						 unsigned int order, enum compact_priority prio,
						 enum compact_result *result)
{
	struct page *page = NULL;

	if (!order)
		return NULL;
	*result = try_to_compact_pages(m, nid, gfp, order, gfp_to_alloc_flags(m, gfp), prio, &page);
	if (*result == COMPACT_SKIPPED)
		return NULL;
	count_vm_event(m, COMPACTSTALL);
	if (page && m->mte.storage_enabled && (gfp & __GFP_TAGGED) &&
	    reserve_metadata_storage(m, page, order, gfp)) {
		uint64_t pfn = page_to_pfn(m, page);
		struct zone *z = page_zone(m, page);

		spin_lock(&z->lock);
		__free_one_page_to(m, z, pfn, order, get_pageblock_migratetype(m, pfn), true);
		spin_unlock(&z->lock);
		page = NULL;
	}
	if (page)
		prep_new_page(m, page, order, gfp);
	else
		page = get_page_from_freelist(m, nid, gfp, order, WMARK_MIN);
	if (page) {
		compaction_defer_reset(page_zone(m, page), (int)order, true);
		count_vm_event(m, COMPACTSUCCESS);
		return page;
	}
	count_vm_event(m, COMPACTFAIL);
	return NULL;
}

/*
 * should_compact_retry, simplified: a non-costly request whose compaction
 * did not end in success retries at the next harder priority, until the
 * hardest one has been tried.
 */
static bool should_compact_retry(unsigned int order, enum compact_result result,
				 enum compact_priority *prio)
{
	enum compact_priority min = order > PAGE_ALLOC_COSTLY_ORDER ? MIN_COMPACT_COSTLY_PRIORITY
								    : MIN_COMPACT_PRIORITY;

	if (!order || result == COMPACT_SUCCESS || *prio <= min)
		return false;
	(*prio)--;
	return true;
}

/*
 * __alloc_pages_slowpath - the request failed its low watermark.  In
 * Linux's order: wake kswapd; try the min watermark; a costly request
 * (order > 3), or a high-order one that is not movable, compacts first
 * (asynchronously: it may well have enough free pages, only scattered);
 * then rounds of direct reclaim, each followed by direct compaction for
 * order > 0.  A costly request gives up after one round (the model has no
 * __GFP_RETRY_MAYFAIL); the others retry while reclaim makes progress or
 * compaction can try harder.  Failing all that returns NULL and the caller
 * handles it (the fault path invokes the OOM killer).
 */
static struct page *__alloc_pages_slowpath(struct mmsim_machine *m, int nid, gfp_t gfp,
					   unsigned int order)
{
	/* Inside compaction (PF_MEMALLOC) an allocation may not recurse into it. */
	bool can_direct_reclaim = (gfp & __GFP_DIRECT_RECLAIM) && !*current_compacting(m);
	bool costly_order = order > PAGE_ALLOC_COSTLY_ORDER;
	enum compact_priority prio = INIT_COMPACT_PRIORITY;
	enum compact_result result = COMPACT_SKIPPED;
	struct page *p;

	/* Reclaim and compaction have not been made safe beside other CPUs. */
	kernel_exclusive();
	if (gfp & __GFP_KSWAPD_RECLAIM)
		wake_all_kswapds(m, nid, gfp, order);
	p = get_page_from_freelist(m, nid, gfp, order, WMARK_MIN);
	if (p)
		return p;
	if (can_direct_reclaim && order && (costly_order || gfp_migratetype(gfp) != MIGRATE_MOVABLE)) {
		p = __alloc_pages_direct_compact(m, nid, gfp, order, prio, &result);
		if (p)
			return p;
	}
	if (!can_direct_reclaim)
		return NULL;
	for (int i = 0; i < 16; i++) {
		uint64_t progress = try_to_free_pages(m, nid, order);

		if (progress && (p = get_page_from_freelist(m, nid, gfp, order, WMARK_MIN)))
			return p;
		p = __alloc_pages_direct_compact(m, nid, gfp, order, prio, &result);
		if (p || costly_order)
			return p;
		if (!progress && !should_compact_retry(order, result, &prio))
			return NULL;
	}
	return NULL;
}

/*
 * alloc_pages_node - allocate 2^order frames, preferring node nid (-1: the
 * current CPU's node).  The fast path obeys the low watermark; the slow
 * path (above) may dig down to the min watermark, reclaim and compact.
 */
struct page *alloc_pages_node(struct mmsim_machine *m, int nid, gfp_t gfp, unsigned int order)
{
	struct page *p;

	if (order > MAX_PAGE_ORDER)
		return NULL;
	if (nid < 0 || nid >= (int)m->nr_nodes)
		nid = numa_node_of_cpu(m, smp_processor_id(m));
	charge(m, COST_PAGE_ALLOC);
	p = get_page_from_freelist(m, nid, gfp, order, WMARK_LOW);
	if (!p)
		p = __alloc_pages_slowpath(m, nid, gfp, order);
	/* Where Linux would now kill (__alloc_pages_may_oom): the fault handler does. */
	if (!p && (gfp & __GFP_DIRECT_RECLAIM) && order <= PAGE_ALLOC_COSTLY_ORDER &&
	    !*current_compacting(m))	/* PF_MEMALLOC never OOM-kills */
		m->oom_alloc_failures++;
	if (p)
		TRACE(m, "kmem:mm_page_alloc", (int)smp_processor_id(m), get_current(m) ? get_current(m)->pid : -1, 0,
		      page_to_pfn(m, p), order, "pfn=0x%llx order=%u gfp_flags=0x%x migratetype=%d",
		      (unsigned long long)page_to_pfn(m, p), order, gfp, gfp_migratetype(gfp));
	return p;
}

/*
 * alloc_pages_bulk - up to nr order-0 pages into array (Linux's
 * __alloc_pages_bulk, array form), straight off the pcp list of the first
 * zone with room for all of them: no reservation, no zeroing per page
 * beyond prep_new_page, one pass.  When the pcp list may not be used it
 * takes the "failed" path instead and allocates one page the normal way:
 * a single page, no zone with room, or a movable request that may not have
 * the special pages a MOVABLE pcp list can hold (§2.4).  The METADATA half
 * of that test is a runtime one in the seed (storage enabled), unlike
 * rmqueue's as written; so a tagged request, which needs a reservation the
 * pcp path would skip, always gets exactly one page here.  Returns the
 * number of pages stored.  Nothing in the model calls it yet; Linux's
 * callers are vmalloc, the network stack's page pools and sunrpc.
 */
unsigned long alloc_pages_bulk(struct mmsim_machine *m, int nid, gfp_t gfp, unsigned long nr,
			       struct page **array)
{
	int mt = gfp_migratetype(gfp);
	unsigned int alloc_flags = gfp_to_alloc_flags(m, gfp);
	bool metadata_on = m->mte.storage_enabled && m->mte.policy == TS_POLICY_RFC_V1;
	bool cma_on = m->mte.policy == TS_POLICY_CMA;
	struct zone *z = NULL;
	unsigned long got = 0;
	struct page *p;

	if (!nr || !array)
		return 0;
	if (nid < 0 || nid >= (int)m->nr_nodes)
		nid = numa_node_of_cpu(m, smp_processor_id(m));
	if (nr == 1 || mt >= MIGRATE_PCPTYPES)
		goto failed;
	if (mt == MIGRATE_MOVABLE && ((metadata_on && !(alloc_flags & ALLOC_FROM_METADATA)) ||
				      (cma_on && !(alloc_flags & ALLOC_CMA))))
		goto failed;
	for (int zi = gfp_zone(gfp); zi >= 0 && !z; zi--) {
		struct zone *c = &m->nodes[nid].node_zones[zi];

		if (populated_zone(c) && __zone_watermark_ok(c, 0, c->watermark[WMARK_LOW] + nr, alloc_flags))
			z = c;
	}
	if (!z)
		goto failed;
	charge(m, COST_PAGE_ALLOC);
	while (got < nr && (p = rmqueue_pcplist(m, z, mt, alloc_flags)) != NULL) {
		prep_new_page(m, p, 0, gfp);
		array[got++] = p;
	}
	if (!got)
		goto failed;
	count_vm_events(m, pgalloc_event[z->idx], (int64_t)got);
	zone_statistics(m, nid, z, (int64_t)got);
	return got;

failed:
	p = alloc_pages_node(m, nid, gfp, 0);
	if (!p)
		return 0;
	array[0] = p;
	return 1;
}

/*
 * free_tag_state - a freed page gives back its tag storage (§3.6).  As
 * written the free path keys on PG_mte_tagged, so a tagged allocation freed
 * before being tagged leaks its block share (§6.6 #7); mte_fixes=on keys on
 * the reservation itself and also purges pfn-saved tags of untagged pages
 * (#8).  Clears the tag flags either way.
 */
static void free_tag_state(struct mmsim_machine *m, struct page *p, unsigned int order)
{
	uint64_t n = 1ULL << order;
	bool release = m->mte.fixed ? (p->flags & PG_tag_storage_reserved) : (p->flags & PG_mte_tagged);

	if (!m->mte.storage_enabled)
		;
	else if (release)
		free_metadata_storage(m, p, order);
	else if (m->mte.fixed)
		for (uint64_t i = 0; i < n; i++)
			tagbuf_erase(&m->mte.tags_by_pfn, page_to_pfn(m, p + i), NULL);
	for (uint64_t i = 0; i < n; i++)
		p[i].flags &= ~(PG_mte_tagged | PG_tag_storage_reserved);
}

/*
 * A page being freed must be unused; if it is not, Linux prints "Bad page
 * state" and leaks it.  So does the model, and mmsim_check() reports it.
 */
static bool free_pages_prepare(struct mmsim_machine *m, struct page *p, unsigned int order)
{
	uint64_t n = 1ULL << order;

	/* Nor has freeing (tag state, LRU lists); a fault seldom frees. */
	kernel_exclusive();
	for (uint64_t i = 0; i < n; i++) {
		struct page *q = p + i;

		if (q->flags & PG_lru)
			lru_del(m, q);
		if (q->mapcount != 0 || q->pincount != 0 || (q->flags & (PG_buddy | PG_pcp | PG_reserved)) ||
		    (i == 0 && (q->flags & PG_head) && q->entire_mapcount != 0)) {
			printk(m, "BUG: Bad page state: pfn:0x%llx mapcount:%d pincount:%d flags:0x%x",
			       (unsigned long long)page_to_pfn(m, q), q->mapcount, q->pincount, q->flags);
			m->bad_pages++;
			return false;
		}
		q->flags &= PG_mte_tagged | PG_tag_storage_reserved;	/* for free_tag_state */
		q->mapping = 0;
		q->index = 0;
		q->private = 0;
		q->order = 0;
		q->compound_offset = 0;
	}
	count_vm_events(m, PGFREE, (int64_t)n);
	charge(m, COST_PAGE_FREE);
	free_tag_state(m, p, order);
	TRACE(m, "kmem:mm_page_free", (int)smp_processor_id(m), -1, 0, page_to_pfn(m, p), order,
	      "pfn=0x%llx order=%u", (unsigned long long)page_to_pfn(m, p), order);
	return true;
}

/* Free an order-0 page through the current CPU's pcp list. */
void free_unref_page(struct mmsim_machine *m, struct page *p)
{
	uint64_t pfn = page_to_pfn(m, p);
	struct zone *z = page_zone(m, p);
	int mt = get_pageblock_migratetype(m, pfn);
	struct per_cpu_pages *pcp;

	if (!free_pages_prepare(m, p, 0))
		return;
	/* METADATA and ISOLATE pages bypass the pcp lists (§2.4); CMA joins MOVABLE. */
	if (mt == MIGRATE_CMA) {
		mt = MIGRATE_MOVABLE;
	} else if (mt >= MIGRATE_PCPTYPES) {
		__free_one_page(m, z, pfn, 0);
		return;
	}
	pcp = &z->pcp[smp_processor_id(m)];
	spin_lock(&pcp->lock);
	p->flags |= PG_pcp;
	p->pcp_mt = (uint8_t)mt;
	list_add(&p->lru, &pcp->lists[mt]);
	if (++pcp->count > pcp->high)
		free_pcppages_bulk(m, z, pcp, pcp->batch);
	spin_unlock(&pcp->lock);
}

/* Free 2^order frames whose refcount the caller already dropped to zero. */
static void free_the_page(struct mmsim_machine *m, struct page *p, unsigned int order)
{
	uint64_t pfn = page_to_pfn(m, p);

	if (order == 0) {
		free_unref_page(m, p);
		return;
	}
	if (!free_pages_prepare(m, p, order))
		return;
	__free_one_page(m, page_zone(m, p), pfn, order);
}

void __free_pages(struct mmsim_machine *m, struct page *p, unsigned int order)
{
	if (--p->refcount == 0)
		free_the_page(m, p, order);
}

void put_page(struct mmsim_machine *m, struct page *p)
{
	p = compound_head(p);
	if (par_cpu) {
		int32_t r = __atomic_load_n(&p->refcount, __ATOMIC_RELAXED);

		while (r > 1)
			if (__atomic_compare_exchange_n(&p->refcount, &r, r - 1, false, __ATOMIC_ACQ_REL,
							__ATOMIC_RELAXED))
				return;
		kernel_exclusive();
	}
	if (--p->refcount == 0)
		free_the_page(m, p, (p->flags & PG_head) ? p->order : 0);
}

uint64_t global_free_pages(struct mmsim_machine *m)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < m->nr_nodes; i++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++)
			n += (uint64_t)m->nodes[i].node_zones[zi].vm_stat[NR_FREE_PAGES];
	return n;
}

static uint64_t int_sqrt(uint64_t x)
{
	uint64_t r = 0;

	while ((r + 1) * (r + 1) <= x)
		r++;
	return r;
}

/* Linux's default min_free_kbytes: sqrt(16 * lowmem_kbytes), within [128, 262144]. */
static void init_min_free_kbytes(struct mmsim_machine *m)
{
	uint64_t lowmem_kb = m->totalram_pages * (PAGE_SIZE / 1024);

	m->min_free_kbytes = int_sqrt(lowmem_kb * 16);
	if (m->min_free_kbytes < 128)
		m->min_free_kbytes = 128;
	if (m->min_free_kbytes > 262144)
		m->min_free_kbytes = 262144;
}

/*
 * setup_per_zone_wmarks - Linux's watermarks: min_free_kbytes split between
 * zones by size, low and high each a further max(min/4, managed * scale/10000)
 * above.
 */
void setup_per_zone_wmarks(struct mmsim_machine *m)
{
	uint64_t pages_min, total = 0;

	pages_min = m->min_free_kbytes >> (PAGE_SHIFT - 10);
	for (unsigned int n = 0; n < m->nr_nodes; n++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++)
			total += m->nodes[n].node_zones[zi].managed_pages;
	for (unsigned int n = 0; n < m->nr_nodes; n++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &m->nodes[n].node_zones[zi];
			uint64_t min, gap;

			if (!z->managed_pages)
				continue;
			min = total ? pages_min * z->managed_pages / total : 0;
			gap = min / 4;
			if (gap < z->managed_pages * (uint64_t)m->watermark_scale_factor / 10000)
				gap = z->managed_pages * (uint64_t)m->watermark_scale_factor / 10000;
			z->watermark[WMARK_MIN] = min;
			z->watermark[WMARK_LOW] = min + gap;
			z->watermark[WMARK_HIGH] = min + 2 * gap;
		}
}

/* pcp batch as Linux sizes it: a quarter of managed/1024, capped, 2^n - 1. */
static int zone_batchsize(struct zone *z)
{
	uint64_t batch = z->managed_pages >> 10;
	int b = 1;

	if (batch > (1024 * 1024) / PAGE_SIZE)
		batch = (1024 * 1024) / PAGE_SIZE;
	batch /= 4;
	if (batch < 1)
		batch = 1;
	while ((uint64_t)b * 2 <= batch + batch / 2)
		b *= 2;
	return b - 1 > 0 ? b - 1 : 1;
}

static void zone_init_lists(struct mmsim_machine *m, struct zone *z)
{
	for (int o = 0; o < NR_PAGE_ORDERS; o++) {
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			INIT_LIST_HEAD(&z->free_area[o].free_list[mt]);
		z->free_area[o].nr_free = 0;
	}
	for (unsigned int c = 0; c < m->nr_cpus; c++) {
		for (int mt = 0; mt < MIGRATE_PCPTYPES; mt++)
			INIT_LIST_HEAD(&z->pcp[c].lists[mt]);
		z->pcp[c].count = 0;
		z->pcp[c].lock = (spinlock_t)SPINLOCK_INIT("pcp->lock");
	}
}

/*
 * Free a run of boot memory in the largest aligned blocks it holds, as
 * memblock_free_all() hands memory to the buddy at the end of boot.
 */
static void free_boot_range(struct mmsim_machine *m, uint64_t start, uint64_t end)
{
	uint64_t pfn = start;

	while (pfn < end) {
		unsigned int order = MAX_PAGE_ORDER;
		struct page *p = pfn_to_page(m, pfn);
		struct zone *z = page_zone(m, p);

		while (order && ((pfn & ((1ULL << order) - 1)) || pfn + (1ULL << order) > end))
			order--;
		__free_one_page(m, z, pfn, order);
		z->managed_pages += 1ULL << order;
		m->totalram_pages += 1ULL << order;
		pfn += 1ULL << order;
	}
}

/*
 * page_alloc_init - build the zones' lists over the layout boot prepared
 * (zone spans, the pageblock zone map, the usable ranges) and free every
 * usable frame to the buddy.  All pageblocks start MOVABLE, as in Linux.
 */
int page_alloc_init(struct mmsim_machine *m)
{
	for (unsigned int n = 0; n < m->nr_nodes; n++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &m->nodes[n].node_zones[zi];
			uint64_t blocks;

			zone_init_lists(m, z);
			if (!z->spanned_pages)
				continue;
			blocks = ((z->zone_start_pfn + z->spanned_pages + pageblock_nr_pages - 1) >> pageblock_order) -
				 (z->zone_start_pfn >> pageblock_order);
			z->pageblock_mt = malloc(blocks);
			if (!z->pageblock_mt)
				return seterr(-MMSIM_ENOMEM, "out of host memory for pageblock flags");
			memset(z->pageblock_mt, MIGRATE_MOVABLE, blocks);
		}
	for (unsigned int i = 0; i < m->nr_usable; i++)
		free_boot_range(m, m->usable[i].start, m->usable[i].end);
	for (unsigned int n = 0; n < m->nr_nodes; n++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &m->nodes[n].node_zones[zi];
			int batch = zone_batchsize(z);

			for (unsigned int c = 0; c < m->nr_cpus; c++) {
				z->pcp[c].batch = batch;
				z->pcp[c].high = 6 * batch;
			}
		}
	if (!m->min_free_kbytes_set)
		init_min_free_kbytes(m);
	setup_per_zone_wmarks(m);
	return 0;
}
