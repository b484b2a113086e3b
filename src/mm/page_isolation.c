// SPDX-License-Identifier: MIT
/*
 * mm/page_isolation.c - alloc_contig_range(): claim a given physical range,
 * migrating whatever user pages live there.
 *
 * The pageblocks covering the range are first made MIGRATE_ISOLATE, which
 * takes their free pages off the allocatable lists (and out of
 * NR_FREE_PAGES), so nothing freed or migrated during the operation can land
 * back in the range.  Then every in-use page is migrated out, up to five
 * tries for pages that are busy for a moment; a page that cannot move
 * (pinned, page table, reserved) fails the whole range with -EBUSY and the
 * isolation is undone.  Finally the now-free frames are taken off the buddy
 * one by one and the pageblocks get their type back.  Each call leaves one
 * kmem:mm_alloc_contig_migrate_range_info record, as Linux's did while it
 * had the event, so the calls a caller makes can be counted.
 */
#include <stdlib.h>

#include "mm/internal.h"

#define CONTIG_RETRIES 5

/* Retype the pageblocks of [start, end) under zone->lock, as set_migratetype_isolate does. */
static void set_range_migratetype(struct mmsim_machine *m, uint64_t start, uint64_t end,
				  const uint8_t *old, int mt)
{
	uint64_t first = start & ~(pageblock_nr_pages - 1);
	struct zone *z = page_zone(m, pfn_to_page(m, start));

	spin_lock(&z->lock);
	for (uint64_t pb = first, i = 0; pb < end; pb += pageblock_nr_pages, i++)
		move_freepages_block(m, pb, old ? old[i] : mt);
	spin_unlock(&z->lock);
}

/* Migrate one in-use page out of the isolated range; 0, -EAGAIN or -EBUSY. */
static int evacuate_page(struct mmsim_machine *m, struct page *p)
{
	if (!page_is_movable(m, p))
		return -MMSIM_EBUSY;
	return migrate_page_to_node(m, p, p->nid, GFP_HIGHUSER_MOVABLE);
}

int alloc_contig_range(struct mmsim_machine *m, uint64_t start, uint64_t end, int mt)
{
	uint64_t first = start & ~(pageblock_nr_pages - 1), nblocks;
	struct zone *z;
	uint64_t nr_migrated = 0, nr_mapped = 0;
	uint8_t *old;
	int err = 0;

	if (start >= end || !pfn_valid(m, start) || !pfn_valid(m, end - 1))
		return -MMSIM_EINVAL;
	/* A task with SIGKILL pending gets no new memory from here. */
	if (get_current(m) && get_current(m)->fatal_signal_pending)
		return -MMSIM_EINTR;
	z = page_zone(m, pfn_to_page(m, start));
	for (uint64_t pfn = start; pfn < end; pfn++) {
		struct page *p = pfn_to_page(m, pfn);

		if (page_zone(m, p) != z)
			return -MMSIM_EINVAL;
	}
	nblocks = (end - first + pageblock_nr_pages - 1) / pageblock_nr_pages;
	old = malloc(nblocks);
	if (!old)
		return -MMSIM_ENOMEM;
	for (uint64_t i = 0; i < nblocks; i++)
		old[i] = (uint8_t)get_pageblock_migratetype(m, first + i * pageblock_nr_pages);
	set_range_migratetype(m, start, end, NULL, MIGRATE_ISOLATE);
	drain_all_pages(m);
	for (uint64_t pfn = start; pfn < end && !err; pfn++) {
		struct page *p = pfn_to_page(m, pfn);
		int tries = 0;

		if (p->flags & PG_buddy) {
			pfn += (1ULL << p->order) - 1;
			continue;
		}
		if (page_mapcount(p))
			nr_mapped++;
		/* A page of a THP is in use while its head is (page_count). */
		while (page_count(p) > 0 && tries++ < CONTIG_RETRIES) {
			err = evacuate_page(m, p);
			if (!err)
				nr_migrated++;
			if (err != -MMSIM_EAGAIN)
				break;
		}
		if (page_count(p) > 0)
			err = -MMSIM_EBUSY;
		drain_all_pages(m);
	}
	/* One record per call, whatever the outcome: how many calls a caller made shows. */
	TRACE(m, "kmem:mm_alloc_contig_migrate_range_info", (int)smp_processor_id(m), get_current(m) ? get_current(m)->pid : -1,
	      0, start, 0, "start=0x%llx end=0x%llx migratetype=%d nr_migrated=%llu nr_reclaimed=0 nr_mapped=%llu",
	      (unsigned long long)start, (unsigned long long)end, mt, (unsigned long long)nr_migrated,
	      (unsigned long long)nr_mapped);
	if (!err) {
		for (uint64_t pfn = start; pfn < end; pfn++) {
			struct page *p = pfn_to_page(m, pfn);

			if (!take_page_off_buddy(m, p)) {
				/* Cannot happen after a successful evacuation; free what we took. */
				for (uint64_t q = start; q < pfn; q++)
					__free_pages(m, pfn_to_page(m, q), 0);
				err = -MMSIM_EBUSY;
				break;
			}
			p->refcount = 1;
		}
	}
	set_range_migratetype(m, start, end, old, 0);
	free(old);
	if (err)
		TRACE(m, "cma:cma_alloc_busy_retry", (int)smp_processor_id(m), -1, 0, start, 0,
		      "pfn=0x%llx count=%llu", (unsigned long long)start, (unsigned long long)(end - start));
	return err;
}

void free_contig_range(struct mmsim_machine *m, uint64_t pfn, uint64_t nr)
{
	for (uint64_t i = 0; i < nr; i++)
		__free_pages(m, pfn_to_page(m, pfn + i), 0);
}
