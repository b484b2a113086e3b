// SPDX-License-Identifier: MIT
/*
 * tests/test_tag_policy.c - the MIGRATE_METADATA allocation policy of spec
 * §8.2, item by item, on a machine small enough to exhaust: 64 MiB of data
 * memory and one 2 MiB pageblock of tag storage (tests/machines/small-tags.dts).
 *
 *   0x40000000 +------------------------------+  data memory, MOVABLE etc.
 *              |          64 MiB              |
 *   0x44000000 +------------------------------+  tag storage: MIGRATE_METADATA
 *              |  2 MiB (512 pages)           |  (the zero page's block is
 *   0x44200000 +------------------------------+   reserved at boot)
 */
#include <stdlib.h>

#include "harness.h"
#include "mm/internal.h"

static struct mmsim_machine *small(void)
{
	struct mmsim_options o = { .seed = 1, .devicetree = "tests/machines/small-tags.dts" };
	struct mmsim_machine *m = NULL;

	if (mmsim_machine_create(&o, &m))
		TEST_FAIL_(1, "boot: %s", mmsim_strerror_last());
	return m;
}

static struct zone *zone0(struct mmsim_machine *m)
{
	return &m->nodes[0].node_zones[ZONE_DMA];
}

static bool is_metadata(struct mmsim_machine *m, struct page *p)
{
	return get_pageblock_migratetype(m, page_to_pfn(m, p)) == MIGRATE_METADATA;
}

/*
 * Take every page a gfp can get that is not tag storage, keeping them on a
 * list; returns how many.  The pages are freed by release_all().
 */
struct held { struct page **p; int n, cap; unsigned int order; /* of every page held */ };

static void hold(struct held *h, struct page *p)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->p = realloc(h->p, sizeof(*h->p) * (size_t)h->cap);
		ASSERT_TRUE(h->p != NULL);
	}
	h->p[h->n++] = p;
}

static void release_all(struct mmsim_machine *m, struct held *h)
{
	for (int i = 0; i < h->n; i++)
		__free_pages(m, h->p[i], h->order);
	free(h->p);
	h->p = NULL;
	h->n = h->cap = 0;
}

/* Allocate untagged movable pages until one comes from tag storage (or none). */
static struct page *fill_until_metadata(struct mmsim_machine *m, struct held *h)
{
	for (;;) {
		struct page *p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM, 0);

		if (!p)
			return NULL;
		if (is_metadata(m, p))
			return p;
		hold(h, p);
	}
}

/* §8.2 19: while ordinary free memory remains, untagged movable pages avoid tag storage. */
TEST(policy_8_2_19_metadata_not_used_while_movable_free)
{
	struct mmsim_machine *m = small();
	struct held h = { 0 };
	struct page *first_meta = fill_until_metadata(m, &h);

	ASSERT_TRUE(first_meta != NULL);
	/*
	 * By then the MOVABLE lists are empty.  Free pages of other types may
	 * remain: METADATA comes before stealing from them (§2.3).
	 */
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		EXPECT_TRUE(list_empty(&zone0(m)->free_area[o].free_list[MIGRATE_MOVABLE]));
	__free_pages(m, first_meta, 0);
	release_all(m, &h);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.2 20 and 25: once MOVABLE is exhausted the next untagged movable page
 * comes from METADATA and nr_free_metadata drops by one; freeing it puts it
 * straight back on the buddy list, never on a pcp list.
 */
TEST(policy_8_2_20_25_metadata_last_resort_and_free_bypasses_pcp)
{
	struct mmsim_machine *m = small();
	struct held h = { 0 };
	struct page *p;
	int64_t before;

	/*
	 * The first METADATA page comes through a pcp refill, which may move a
	 * batch of METADATA pages to the MOVABLE pcp list (§2.4, "as intended"
	 * when memory runs low); so the drop is counted on the free side only.
	 */
	p = fill_until_metadata(m, &h);
	ASSERT_TRUE(p != NULL);
	EXPECT_TRUE(is_metadata(m, p));
	before = mmsim_vmstat(m, "nr_free_metadata");
	__free_pages(m, p, 0);
	EXPECT_TRUE(!(p->flags & PG_pcp));
	EXPECT_EQ(mmsim_vmstat(m, "nr_free_metadata"), before + 1);
	release_all(m, &h);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.2 21 and 22: with only tag storage left, an unmovable or a tagged
 * request never gets a METADATA page.
 */
TEST(policy_8_2_21_22_unmovable_and_tagged_never_metadata)
{
	struct mmsim_machine *m = small();
	struct held h = { 0 }, extra = { 0 };
	struct page *p = fill_until_metadata(m, &h);

	ASSERT_TRUE(p != NULL);
	hold(&h, p);
	for (int i = 0; i < 256; i++) {
		struct page *u = alloc_pages_node(m, 0, GFP_KERNEL & ~__GFP_DIRECT_RECLAIM, 0);
		struct page *t = alloc_pages_node(m, 0, (GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM) |
						  __GFP_TAGGED | __GFP_ZERO, 0);

		if (u) {
			EXPECT_TRUE(!is_metadata(m, u));
			hold(&extra, u);
		}
		if (t) {
			EXPECT_TRUE(!is_metadata(m, t));
			hold(&extra, t);
		}
	}
	release_all(m, &extra);
	release_all(m, &h);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.2 23: when the free pages are all METADATA, an unmovable request fails
 * its watermark test (they do not count for it) while an untagged movable
 * one is served from them.
 */
TEST(policy_8_2_23_metadata_unusable_for_watermarks)
{
	struct mmsim_machine *m = small();
	struct held h = { 0 };
	struct page *p = fill_until_metadata(m, &h), *u;
	struct zone *z = zone0(m);

	ASSERT_TRUE(p != NULL);
	hold(&h, p);
	/* Use up everything unmovable requests may have. */
	while ((u = alloc_pages_node(m, 0, GFP_KERNEL & ~__GFP_DIRECT_RECLAIM, 0)) != NULL) {
		EXPECT_TRUE(!is_metadata(m, u));
		hold(&h, u);
	}
	ASSERT_GT(z->vm_stat[NR_FREE_METADATA_PAGES], (int64_t)z->watermark[WMARK_MIN]);
	EXPECT_LE(z->vm_stat[NR_FREE_PAGES] - z->vm_stat[NR_FREE_METADATA_PAGES],
		  (int64_t)z->watermark[WMARK_MIN]);
	p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM, 0);
	ASSERT_TRUE(p != NULL);
	EXPECT_TRUE(is_metadata(m, p));
	hold(&h, p);
	release_all(m, &h);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* Free blocks of order >= order on z's lists of type mt. */
static uint64_t free_blocks(struct zone *z, int mt, unsigned int order)
{
	uint64_t n = 0;

	for (unsigned int o = order; o < NR_PAGE_ORDERS; o++) {
		struct list_head *pos;

		list_for_each(pos, &z->free_area[o].free_list[mt])
			n++;
	}
	return n;
}

/* The same, from /proc/pagetypeinfo's line for type name (the model's text). */
static uint64_t pagetypeinfo_blocks(struct mmsim_machine *m, const char *name, unsigned int order)
{
	static char text[8192];
	char want[64], *line;
	uint64_t n = 0;
	int len;

	ASSERT_GT(mmsim_proc_read(m, NULL, "pagetypeinfo", text, sizeof(text)), 0);
	snprintf(want, sizeof(want), "zone      DMA, type %12s", name);
	line = strstr(text, want);
	ASSERT_TRUE(line != NULL);
	line += strlen(want);
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		unsigned long long c;

		ASSERT_EQ(sscanf(line, "%llu%n", &c, &len), 1);
		line += len;
		if (o >= order)
			n += c;
	}
	return n;
}

/*
 * §8.2 24: an order >= 1 request when the only free blocks of that order
 * are on the METADATA list.  Built on small-tags.dts: take every ordinary
 * page (untagged movable pages until the next one would be tag storage),
 * give back one page of each pair of buddies held, then take every
 * ordinary block of order >= 1 that is left (order-1 unmovable requests
 * until they fail).  Half the data memory is free, so the free-page count
 * passes for every request, but in single pages no two of which merge:
 *
 *   data pfn  2k   2k+1 | 2k+2 2k+3 | ...        METADATA (tag storage)
 *             free held | free held | ...        511 free, orders 0-8
 *                                                (the zero page's block is
 *                                                 the one page reserved)
 *
 * Only the suitable-block loop of __zone_watermark_ok tells the requests
 * apart: it finds the METADATA blocks with ALLOC_FROM_METADATA (untagged
 * movable) and nothing without it (tagged, unmovable).  So the untagged
 * order-1 request is served from tag storage, the others fail, and an
 * order-0 tagged request - the count alone - still succeeds.
 */
TEST(policy_8_2_24_high_order_only_metadata_block)
{
	struct mmsim_machine *m = small();
	struct zone *z = zone0(m);
	/* No reclaim, no kswapd: a request the free lists cannot serve just fails. */
	const gfp_t movable = (GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM) | __GFP_COMP;
	const gfp_t tagged = movable | __GFP_TAGGED | __GFP_ZERO;
	const gfp_t unmovable = (GFP_KERNEL & ~__GFP_RECLAIM) | __GFP_COMP;
	const unsigned int meta_flags = gfp_to_alloc_flags(m, movable);
	const unsigned int tagged_flags = gfp_to_alloc_flags(m, tagged);
	const uint64_t low = z->watermark[WMARK_LOW];
	struct held h = { 0 }, pairs = { .order = 1 };
	uint8_t *held_pfn = calloc(m->max_pfn - m->min_pfn, 1);
	int64_t free_pages, free_meta, success, fail;
	unsigned int top = 0;
	struct page *p;

	ASSERT_TRUE(held_pfn != NULL);
	ASSERT_TRUE(meta_flags & ALLOC_FROM_METADATA);
	ASSERT_TRUE(!(tagged_flags & ALLOC_FROM_METADATA));

	/* Every ordinary page a movable request gets, in single pages. */
	p = fill_until_metadata(m, &h);
	ASSERT_TRUE(p != NULL);
	__free_pages(m, p, 0);
	drain_all_pages(m);
	ASSERT_CONSISTENT(m);
	for (int i = 0; i < h.n; i++)
		held_pfn[page_to_pfn(m, h.p[i]) - m->min_pfn] = 1;
	/* Give back the even page of each pair held whole: nothing can merge. */
	for (int i = 0; i < h.n; i++) {
		uint64_t pfn = page_to_pfn(m, h.p[i]);

		if (!(pfn & 1) && held_pfn[pfn + 1 - m->min_pfn]) {
			__free_pages(m, h.p[i], 0);
			held_pfn[pfn - m->min_pfn] = 0;
			h.p[i--] = h.p[--h.n];
		}
	}
	drain_all_pages(m);
	ASSERT_CONSISTENT(m);
	/* What is left of order >= 1 outside tag storage: the unmovable pageblocks' rest. */
	while ((p = alloc_pages_node(m, 0, unmovable, 1)) != NULL) {
		EXPECT_TRUE(!is_metadata(m, p));
		hold(&pairs, p);
	}
	drain_all_pages(m);
	ASSERT_CONSISTENT(m);

	/* The state, from the lists and from /proc/pagetypeinfo. */
	for (int mt = 0; mt < MIGRATE_TYPES; mt++)
		if (mt != MIGRATE_METADATA)
			ASSERT_EQ(free_blocks(z, mt, 1), 0);
	ASSERT_EQ(pagetypeinfo_blocks(m, "Unmovable", 1) + pagetypeinfo_blocks(m, "Movable", 1) +
		  pagetypeinfo_blocks(m, "Reclaimable", 1), 0);
	ASSERT_GT(pagetypeinfo_blocks(m, "Metadata", 1), 0);
	ASSERT_EQ(pagetypeinfo_blocks(m, "Metadata", 1), free_blocks(z, MIGRATE_METADATA, 1));
	for (unsigned int o = 1; o < NR_PAGE_ORDERS; o++)
		if (!list_empty(&z->free_area[o].free_list[MIGRATE_METADATA]))
			top = o;
	ASSERT_GE(top, 1);
	ASSERT_LT(top, pageblock_order);	/* the zero page's reserved page split the block */
	free_pages = mmsim_vmstat(m, "nr_free_pages");
	free_meta = mmsim_vmstat(m, "nr_free_metadata");
	/* The count passes without the METADATA pages, at every order up to a pageblock. */
	ASSERT_GT(free_pages - free_meta - ((1 << pageblock_order) - 1), (int64_t)low);

	/* The predicate: the suitable-block loop alone decides. */
	EXPECT_TRUE(__zone_watermark_ok(z, 0, low, tagged_flags));
	for (unsigned int o = 1; o <= top; o++) {
		EXPECT_TRUE(__zone_watermark_ok(z, o, low, meta_flags));
		EXPECT_TRUE(!__zone_watermark_ok(z, o, low, tagged_flags));
		EXPECT_TRUE(!__zone_watermark_ok(z, o, low, 0));
	}
	/* Past the largest METADATA block the flag does not help either. */
	EXPECT_TRUE(!__zone_watermark_ok(z, top + 1, low, meta_flags));
	ASSERT_CONSISTENT(m);

	/* Behaviour: tagged and unmovable order-1 requests fail, and take nothing. */
	success = mmsim_vmstat(m, "metadata_reserve_success");
	fail = mmsim_vmstat(m, "metadata_reserve_fail");
	EXPECT_TRUE(alloc_pages_node(m, 0, tagged, 1) == NULL);
	EXPECT_TRUE(alloc_pages_node(m, 0, unmovable, 1) == NULL);
	EXPECT_EQ(mmsim_vmstat(m, "nr_free_pages"), free_pages);
	EXPECT_EQ(mmsim_vmstat(m, "nr_free_metadata"), free_meta);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success"), success);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_fail"), fail);
	ASSERT_CONSISTENT(m);

	/* A tagged order-0 request passes on the count alone, from an ordinary page. */
	p = alloc_pages_node(m, 0, tagged, 0);
	ASSERT_TRUE(p != NULL);
	EXPECT_TRUE(!is_metadata(m, p));
	EXPECT_TRUE(page_tag_storage_reserved(p));
	ASSERT_CONSISTENT(m);
	__free_pages(m, p, 0);
	drain_all_pages(m);
	ASSERT_CONSISTENT(m);

	/* The untagged movable order-1 request is served from tag storage. */
	free_meta = mmsim_vmstat(m, "nr_free_metadata");
	p = alloc_pages_node(m, 0, movable, 1);
	ASSERT_TRUE(p != NULL);
	EXPECT_TRUE(is_metadata(m, p));
	EXPECT_EQ(page_to_pfn(m, p) & 1, 0);
	EXPECT_EQ(mmsim_vmstat(m, "nr_free_metadata"), free_meta - 2);
	ASSERT_CONSISTENT(m);
	__free_pages(m, p, 1);
	EXPECT_EQ(mmsim_vmstat(m, "nr_free_metadata"), free_meta);
	ASSERT_CONSISTENT(m);

	release_all(m, &pairs);
	release_all(m, &h);
	free(held_pfn);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.2 29: a FOLL_LONGTERM pin of a page in a METADATA pageblock moves the
 * page first; the pin lands on an ordinary page with the same data.
 */
TEST(policy_8_2_29_longterm_pin_moves_off_tag_storage)
{
	struct mmsim_machine *m = small();
	struct mmsim_task *t = NULL;
	struct held h = { 0 };
	struct mmsim_pin *pin = NULL;
	struct mmsim_siginfo si;
	const uint64_t addr = 0x30000000ULL;
	uint64_t v = 0x5151, e = 0;
	struct page *meta;

	ASSERT_EQ(mmsim_task_create(m, &t), 0);
	ASSERT_EQ(mmsim_mmap(t, addr, PAGE, MMSIM_PROT_READ | MMSIM_PROT_WRITE,
			     MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED, -1, 0), (int64_t)addr);
	/* Leave exactly tag storage free, so the fault's page comes from it. */
	meta = fill_until_metadata(m, &h);
	ASSERT_TRUE(meta != NULL);
	__free_pages(m, meta, 0);
	ASSERT_EQ(mmsim_store(t, addr, &v, 8, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_pagemap(t, addr, &e), 0);
	ASSERT_TRUE(is_metadata(m, pfn_to_page(m, e & MMSIM_PM_PFRAME_MASK)));
	release_all(m, &h);
	ASSERT_EQ(mmsim_pin(t, addr, PAGE, MMSIM_FOLL_WRITE | MMSIM_FOLL_LONGTERM, &pin), 0);
	ASSERT_EQ(mmsim_pagemap(t, addr, &e), 0);
	EXPECT_TRUE(!is_metadata(m, pfn_to_page(m, e & MMSIM_PM_PFRAME_MASK)));
	v = 0;
	ASSERT_EQ(mmsim_pin_read(pin, 0, &v, 8), 0);
	EXPECT_EQ(v, 0x5151);
	mmsim_unpin(pin);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* §8.2 36: MetadataFree = 4 x nr_free_metadata; MetadataTotal = 4 x the METADATA pageblocks. */
TEST(policy_8_2_36_counter_coherence)
{
	struct mmsim_machine *m = small();
	char mi[4096];
	unsigned long long total = 0, freekb = 0;
	const char *s;

	ASSERT_GT(mmsim_proc_read(m, NULL, "meminfo", mi, sizeof(mi)), 0);
	s = strstr(mi, "MetadataTotal:");
	ASSERT_TRUE(s && sscanf(s, "MetadataTotal: %llu kB", &total) == 1);
	s = strstr(mi, "MetadataFree:");
	ASSERT_TRUE(s && sscanf(s, "MetadataFree: %llu kB", &freekb) == 1);
	EXPECT_EQ(total, 2048);
	EXPECT_EQ(total, m->mte.totalmetadata_pages * 4);
	EXPECT_EQ(freekb, (unsigned long long)mmsim_vmstat(m, "nr_free_metadata") * 4);
	/* The zero page's block is the one page of tag storage in use. */
	EXPECT_EQ(freekb, total - 4);
	mmsim_machine_destroy(m);
}

/*
 * §8.2 37: alloc_contig_range over a METADATA pageblock as METADATA
 * succeeds; the seed's check refusing it as MOVABLE is the isolation's, and
 * the model's isolation does not compare types, so only the first half is
 * asserted.
 */
TEST(policy_8_2_37_contig_range_on_metadata)
{
	struct mmsim_machine *m = small();
	const struct tag_region *r = &m->mte.regions[0];
	uint64_t pfn = r->tag_end;	/* the last tag page: not the zero page's */

	ASSERT_EQ(alloc_contig_range(m, pfn, pfn + 1, MIGRATE_METADATA), 0);
	EXPECT_EQ(pfn_to_page(m, pfn)->refcount, 1);
	ASSERT_CONSISTENT(m);
	free_contig_range(m, pfn, 1);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}
