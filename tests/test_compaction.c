// SPDX-License-Identifier: MIT
/*
 * tests/test_compaction.c - memory compaction (mm/compaction.c): direct
 * compaction from the allocator, kcompactd, vm.compact_memory, tags that
 * move with the data, and the tag-storage rules of spec §2.6 (§8.2 items
 * 30-33, §8.3 items 53 and 60).
 *
 * Most tests first fragment a zone the same way: a task writes a pattern
 * into anonymous pages until no free block of order 9 or more is left,
 * then gives back every page whose frame number is odd, so that each
 * pageblock is half free but no two free frames are buddies:
 *
 *   pfn    0   1   2   3   4   5   6   7  ...  511 | 512 ...
 *   used  [D]     [D]     [D]     [D]     ...      | [D]      D = the task's data
 *   free      [ ]     [ ]     [ ]     [ ] ... [ ]  |      [ ]
 *
 * Half the memory is free, yet no order-1 block exists until pages move.
 * Every step is followed by mmsim_check().
 */
#include <stdlib.h>

#include "harness.h"
#include "mm/compaction.h"
#include "mm/swap.h"

#define RW        (MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define RWMTE     (RW | MMSIM_PROT_MTE)
#define ANON      (MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)
#define BASE      0x10000000ULL
#define MAXPAGES  (64ULL << 20 >> 12)
#define TAGGED(a, t) (((a) & ~(0xfULL << 56)) | ((uint64_t)(t) << 56))
#define HUGE_GFP  (GFP_HIGHUSER_MOVABLE | __GFP_COMP)
#define MS        1000000ULL

/* ------------------------------------------------------------- helpers */

static struct mmsim_machine *boot(const char *dts, const char *args)
{
	struct mmsim_options o = { .seed = 1, .devicetree = dts, .bootargs = args };
	struct mmsim_machine *m = NULL;

	if (mmsim_machine_create(&o, &m) != 0)
		TEST_FAIL_(1, "boot %s [%s]: %s", dts ? dts : "built-in", args ? args : "",
			   mmsim_strerror_last());
	return m;
}

static struct mmsim_task *task(struct mmsim_machine *m)
{
	struct mmsim_task *t = NULL;

	ASSERT_EQ(mmsim_task_create(m, &t), 0);
	m->current = t;
	m->this_cpu = t->cpu;
	return t;
}

static struct zone *zone0(struct mmsim_machine *m)
{
	return &m->nodes[0].node_zones[ZONE_DMA];
}

static int64_t vm(struct mmsim_machine *m, const char *name)
{
	return mmsim_vmstat(m, name);
}

/* The pfn mapped at addr, from /proc/self/pagemap's entry (0 if none). */
static uint64_t pfn_at(struct mmsim_task *t, uint64_t addr)
{
	uint64_t e = 0;

	ASSERT_EQ(mmsim_pagemap(t, addr, &e), 0);
	return (e >> 63) ? e & ((1ULL << 55) - 1) : 0;
}

static bool in_metadata(struct mmsim_machine *m, uint64_t pfn)
{
	return get_pageblock_migratetype(m, pfn) == MIGRATE_METADATA;
}

/* Free blocks of order >= order on the zone's lists, every type. */
static uint64_t free_blocks_from(struct zone *z, unsigned int order)
{
	uint64_t n = 0;

	for (unsigned int o = order; o < NR_PAGE_ORDERS; o++)
		n += z->free_area[o].nr_free;
	return n;
}

/* The 64-bit words of page i's pattern. */
static uint64_t word(uint64_t i, uint64_t w)
{
	return (i * 0x9e3779b97f4a7c15ULL) ^ (w << 3) ^ 0xc0ffee;
}

static void fill_page(struct mmsim_task *t, uint64_t i)
{
	uint64_t buf[PAGE / 8];
	struct mmsim_siginfo si;

	for (uint64_t w = 0; w < PAGE / 8; w++)
		buf[w] = word(i, w);
	ASSERT_EQ(mmsim_store(t, BASE + i * PAGE, buf, PAGE, &si), MMSIM_ACCESS_OK);
}

/* Page i holds its pattern, read through a pointer with this tag. */
static bool page_intact_tagged(struct mmsim_task *t, uint64_t i, unsigned int tag)
{
	uint64_t buf[PAGE / 8];
	struct mmsim_siginfo si;

	if (mmsim_load(t, TAGGED(BASE + i * PAGE, tag), buf, PAGE, &si) != MMSIM_ACCESS_OK)
		return false;
	for (uint64_t w = 0; w < PAGE / 8; w++)
		if (buf[w] != word(i, w))
			return false;
	return true;
}

/*
 * The fragmented region: pages [0, n) of BASE were written; keep[i] says
 * whether page i is still there; pfn[i] is where it lived after the split.
 */
struct frag {
	uint64_t n;
	uint8_t keep[MAXPAGES];
	uint64_t pfn[MAXPAGES];
	uint64_t kept;
	uint8_t tag[MAXPAGES];  /* the allocation tag of page i's granules */
};

/*
 * fragment - write pages until no free block of order >= 9 is left (and,
 * with meta_pages, until that many pages came from METADATA pageblocks),
 * then drop every page whose pfn is odd (see the diagram at the top).
 * Tagged regions (prot has PROT_MTE) get tag (i % 15) + 1 on page i.
 */
static void fragment(struct frag *f, struct mmsim_task *t, int prot, uint64_t meta_pages)
{
	struct mmsim_machine *m = t->machine;
	struct mmsim_siginfo si;
	uint64_t meta = 0;

	memset(f, 0, sizeof(*f));
	ASSERT_EQ(mmsim_mmap(t, BASE, MAXPAGES * PAGE, prot, ANON, -1, 0), (int64_t)BASE);
	/* 4 KiB pages: the pattern is made page by page (THP faults: test_thp.c). */
	ASSERT_EQ(mmsim_madvise(t, BASE, MAXPAGES * PAGE, MMSIM_MADV_NOHUGEPAGE), 0);
	for (f->n = 0; f->n < MAXPAGES; f->n++) {
		if (f->n % 64 == 0) {
			drain_all_pages(m);
			if (!free_blocks_from(zone0(m), pageblock_order) && meta >= meta_pages)
				break;
		}
		fill_page(t, f->n);
		if (prot & MMSIM_PROT_MTE)
			ASSERT_EQ(mmsim_set_tag(t, TAGGED(BASE + f->n * PAGE, f->n % 15 + 1), PAGE, &si),
				  MMSIM_ACCESS_OK);
		meta += in_metadata(m, pfn_at(t, BASE + f->n * PAGE));
	}
	ASSERT_LT(f->n, MAXPAGES);
	if (prot & MMSIM_PROT_MTE)
		for (uint64_t i = 0; i < f->n; i++)
			f->tag[i] = (uint8_t)(i % 15 + 1);
	for (uint64_t i = 0; i < f->n; i++) {
		f->pfn[i] = pfn_at(t, BASE + i * PAGE);
		ASSERT_NE(f->pfn[i], 0);
		if (f->pfn[i] & 1) {
			ASSERT_EQ(mmsim_madvise(t, BASE + i * PAGE, PAGE, MMSIM_MADV_DONTNEED), 0);
		} else {
			f->keep[i] = 1;
			f->kept++;
		}
	}
	drain_all_pages(m);
	EXPECT_EQ(free_blocks_from(zone0(m), pageblock_order), 0);
	ASSERT_CONSISTENT(m);
}

/* Every kept page still holds its pattern; returns how many moved. */
static uint64_t check_data(struct frag *f, struct mmsim_task *t)
{
	uint64_t moved = 0;

	for (uint64_t i = 0; i < f->n; i++) {
		if (!f->keep[i])
			continue;
		if (!page_intact_tagged(t, i, f->tag[i]))
			TEST_FAIL_(1, "page %llu lost its data", (unsigned long long)i);
		moved += pfn_at(t, BASE + i * PAGE) != f->pfn[i];
	}
	return moved;
}

/* Counters a test compares before and after. */
struct counters {
	int64_t migrate_scanned, free_scanned, isolated, stall, fail, success;
	int64_t daemon_wake, daemon_migrate_scanned, daemon_free_scanned;
	int64_t pgmigrate_success, pgmigrate_fail;
};

static void snap(struct mmsim_machine *m, struct counters *c)
{
	c->migrate_scanned = vm(m, "compact_migrate_scanned");
	c->free_scanned = vm(m, "compact_free_scanned");
	c->isolated = vm(m, "compact_isolated");
	c->stall = vm(m, "compact_stall");
	c->fail = vm(m, "compact_fail");
	c->success = vm(m, "compact_success");
	c->daemon_wake = vm(m, "compact_daemon_wake");
	c->daemon_migrate_scanned = vm(m, "compact_daemon_migrate_scanned");
	c->daemon_free_scanned = vm(m, "compact_daemon_free_scanned");
	c->pgmigrate_success = vm(m, "pgmigrate_success");
	c->pgmigrate_fail = vm(m, "pgmigrate_fail");
}

/* Trace events, kept by name with their text. */
struct evlog {
	int n;
	char name[256][48];
	char text[256][160];
	uint64_t pfn[256];
};

static void log_ev(void *ctx, const struct mmsim_event *ev)
{
	struct evlog *l = ctx;

	if (l->n == 256)
		return;
	snprintf(l->name[l->n], sizeof(l->name[0]), "%s", ev->name);
	snprintf(l->text[l->n], sizeof(l->text[0]), "%s", ev->text);
	l->pfn[l->n++] = ev->pfn;
}

static int count_ev(const struct evlog *l, const char *name, const char *text)
{
	int n = 0;

	for (int i = 0; i < l->n; i++)
		n += !strcmp(l->name[i], name) && (!text || strstr(l->text[i], text));
	return n;
}

static bool kmsg_has(struct mmsim_machine *m, const char *what)
{
	static char buf[1 << 16];
	ssize_t n = mmsim_proc_read(m, NULL, "kmsg", buf, sizeof(buf) - 1);

	if (n < 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, what) != NULL;
}

static struct frag *new_frag(void)
{
	struct frag *f = malloc(sizeof(*f));

	ASSERT_TRUE(f != NULL);
	return f;
}

/* ------------------------------------------- direct compaction, order 9 */

/*
 * A fragmented 64 MiB zone; an order-9 movable allocation (a THP-sized
 * block) fails its watermark, and being costly compacts at once, async:
 * the migrate scanner empties the first pageblock into free pages the free
 * scanner takes from the top of the zone, and the block is captured as it
 * forms.  One stall, one success; the data of every page is intact.
 */
TEST(compaction_direct_order9_after_fragmentation)
{
	struct mmsim_machine *m = boot("tests/machines/small-64m.dts", NULL);
	struct mmsim_task *t = task(m);
	struct frag *f = new_frag();
	struct counters a, b;
	struct evlog *l = calloc(1, sizeof(*l));
	struct page *p;
	uint64_t pfn, moved;
	char vmstat[16384];

	ASSERT_TRUE(l != NULL);
	fragment(f, t, RW, 0);
	ASSERT_GT(f->kept, 4000);
	snap(m, &a);
	ASSERT_EQ(mmsim_trace_subscribe(m, "compaction:*", log_ev, l), 0);
	p = alloc_pages_node(m, 0, HUGE_GFP, pageblock_order);
	mmsim_trace_unsubscribe(m, log_ev, l);
	ASSERT_TRUE(p != NULL);
	snap(m, &b);
	pfn = page_to_pfn(m, p);
	EXPECT_EQ(pfn & (pageblock_nr_pages - 1), 0);
	EXPECT_TRUE(p->flags & PG_head);
	EXPECT_EQ(p->refcount, 1);
	EXPECT_EQ(b.stall - a.stall, 1);
	EXPECT_EQ(b.success - a.success, 1);
	EXPECT_EQ(b.fail - a.fail, 0);
	EXPECT_GT(b.migrate_scanned - a.migrate_scanned, 0);
	EXPECT_GT(b.free_scanned - a.free_scanned, 0);
	/* Every page moved was isolated twice: as a source, and its target. */
	EXPECT_GE(b.isolated - a.isolated, 2 * (b.pgmigrate_success - a.pgmigrate_success));
	EXPECT_EQ(b.daemon_wake - a.daemon_wake, 0);
	EXPECT_EQ(b.pgmigrate_fail - a.pgmigrate_fail, 0);
	EXPECT_EQ(count_ev(l, "compaction:mm_compaction_try_to_compact_pages", "order=9"), 1);
	EXPECT_EQ(count_ev(l, "compaction:mm_compaction_begin", "mode=async"), 1);
	EXPECT_EQ(count_ev(l, "compaction:mm_compaction_end", "status=success"), 1);
	/* Each page migrated is one whose pfn changed, and its data came along. */
	moved = check_data(f, t);
	EXPECT_EQ((int64_t)moved, b.pgmigrate_success - a.pgmigrate_success);
	for (uint64_t i = 0; i < f->n; i++)
		if (f->keep[i]) {
			uint64_t now = pfn_at(t, BASE + i * PAGE);

			if (now >= pfn && now < pfn + pageblock_nr_pages)
				TEST_FAIL_(0, "page %llu lives in the allocated block", (unsigned long long)i);
		}
	ASSERT_GT(mmsim_proc_read(m, NULL, "vmstat", vmstat, sizeof(vmstat) - 1), 0);
	{
		char line[64];

		snprintf(line, sizeof(line), "\ncompact_success %lld\n", (long long)b.success);
		ASSERT_STR_CONTAINS(vmstat, line);
	}
	ASSERT_CONSISTENT(m);
	__free_pages(m, p, pageblock_order);
	ASSERT_CONSISTENT(m);
	free(l);
	free(f);
	mmsim_machine_destroy(m);
}

/*
 * The same request without __GFP_DIRECT_RECLAIM does not compact: it fails,
 * noting the order for kswapd.  kswapd, finding nothing to reclaim, goes
 * back to sleep and hands the order to kcompactd; kcompactd's pass
 * compacts (sync-light) until an order-9 block is free.  Then the request
 * succeeds from the free lists, without stalling.
 */
TEST(compaction_kcompactd_woken_by_kswapd)
{
	struct mmsim_machine *m = boot("tests/machines/small-64m.dts", NULL);
	struct mmsim_task *t = task(m);
	struct frag *f = new_frag();
	struct counters a, b;
	struct evlog *l = calloc(1, sizeof(*l));
	const gfp_t nowait = HUGE_GFP & ~__GFP_DIRECT_RECLAIM;
	struct page *p;

	ASSERT_TRUE(l != NULL);
	/* No proactive compaction here: kcompactd works only when woken. */
	ASSERT_EQ(mmsim_sysctl_write(m, "vm.compaction_proactiveness", "0"), 0);
	fragment(f, t, RW, 0);
	snap(m, &a);
	EXPECT_TRUE(alloc_pages_node(m, 0, nowait, pageblock_order) == NULL);
	snap(m, &b);
	EXPECT_EQ(b.stall, a.stall);
	EXPECT_EQ(b.migrate_scanned, a.migrate_scanned);
	EXPECT_EQ(m->nodes[0].kswapd_order, (int)pageblock_order);
	ASSERT_CONSISTENT(m);

	/* kcompactd has no work yet: its pass does nothing. */
	ASSERT_EQ(mmsim_run_daemon(m, "kcompactd"), 0);
	snap(m, &b);
	EXPECT_EQ(b.daemon_wake, a.daemon_wake);

	ASSERT_EQ(mmsim_trace_subscribe(m, "compaction:*", log_ev, l), 0);
	ASSERT_EQ(mmsim_run_daemon(m, "kswapd"), 0);
	EXPECT_EQ(count_ev(l, "compaction:mm_compaction_wakeup_kcompactd", "order=9"), 1);
	EXPECT_EQ(m->nodes[0].kswapd_order, 0);
	EXPECT_EQ(m->nodes[0].kcompactd_max_order, (int)pageblock_order);
	ASSERT_EQ(mmsim_run_daemon(m, "kcompactd"), 0);
	mmsim_trace_unsubscribe(m, log_ev, l);
	snap(m, &b);
	EXPECT_EQ(b.daemon_wake - a.daemon_wake, 1);
	EXPECT_EQ(count_ev(l, "compaction:mm_compaction_kcompactd_wake", "order=9"), 1);
	EXPECT_EQ(count_ev(l, "compaction:mm_compaction_begin", "mode=sync_light"), 1);
	EXPECT_GT(b.daemon_migrate_scanned - a.daemon_migrate_scanned, 0);
	/* kcompactd counts its scans in both sets of counters. */
	EXPECT_EQ(b.daemon_migrate_scanned - a.daemon_migrate_scanned, b.migrate_scanned - a.migrate_scanned);
	EXPECT_EQ(b.daemon_free_scanned - a.daemon_free_scanned, b.free_scanned - a.free_scanned);
	EXPECT_EQ(b.stall, a.stall);
	EXPECT_EQ(m->nodes[0].kcompactd_max_order, 0);
	EXPECT_GT(free_blocks_from(zone0(m), pageblock_order), 0);
	ASSERT_CONSISTENT(m);

	p = alloc_pages_node(m, 0, nowait, pageblock_order);
	ASSERT_TRUE(p != NULL);
	snap(m, &a);
	EXPECT_EQ(a.stall, b.stall);
	check_data(f, t);
	__free_pages(m, p, pageblock_order);
	ASSERT_CONSISTENT(m);
	free(l);
	free(f);
	mmsim_machine_destroy(m);
}

/*
 * The same through simulated time: after the failed request, mmsim_advance
 * runs kswapd (every 10 ms) and then kcompactd (which looks every 10 ms for
 * a wakeup).  Proactive compaction is off.
 */
TEST(compaction_kcompactd_in_simulated_time)
{
	struct mmsim_machine *m = boot("tests/machines/small-64m.dts", NULL);
	struct mmsim_task *t = task(m);
	struct frag *f = new_frag();
	const gfp_t nowait = HUGE_GFP & ~__GFP_DIRECT_RECLAIM;
	int64_t wake, scanned;
	struct page *p;

	ASSERT_EQ(mmsim_sysctl_write(m, "vm.compaction_proactiveness", "0"), 0);
	fragment(f, t, RW, 0);
	ASSERT_EQ(mmsim_advance(m, 600 * MS), 0);	/* nothing to do */
	wake = vm(m, "compact_daemon_wake");
	scanned = vm(m, "compact_daemon_migrate_scanned");
	EXPECT_EQ(scanned, 0);
	EXPECT_TRUE(alloc_pages_node(m, 0, nowait, pageblock_order) == NULL);
	ASSERT_EQ(mmsim_advance(m, 25 * MS), 0);
	EXPECT_EQ(vm(m, "compact_daemon_wake") - wake, 1);
	EXPECT_GT(vm(m, "compact_daemon_migrate_scanned"), scanned);
	p = alloc_pages_node(m, 0, nowait, pageblock_order);
	ASSERT_TRUE(p != NULL);
	check_data(f, t);
	__free_pages(m, p, pageblock_order);
	ASSERT_CONSISTENT(m);
	free(f);
	mmsim_machine_destroy(m);
}

/*
 * Proactive compaction (vm.compaction_proactiveness = 20, the default):
 * kcompactd's 500 ms timeout finds the node's fragmentation score (the
 * share of free memory in blocks below order 9) above 90, and compacts
 * until each zone's score is at most 80 - without any wakeup, so
 * compact_daemon_wake does not move.  The next timeouts find nothing to do.
 */
TEST(compaction_kcompactd_proactive)
{
	struct mmsim_machine *m = boot("tests/machines/small-64m.dts", NULL);
	struct mmsim_task *t = task(m);
	struct frag *f = new_frag();
	struct counters a, b;
	uint64_t total, free_pages, suitable;

	fragment(f, t, RW, 0);
	snap(m, &a);
	ASSERT_EQ(mmsim_advance(m, 400 * MS), 0);	/* before the timeout */
	snap(m, &b);
	EXPECT_EQ(b.daemon_migrate_scanned, a.daemon_migrate_scanned);
	ASSERT_EQ(mmsim_advance(m, 200 * MS), 0);
	snap(m, &b);
	EXPECT_EQ(b.daemon_wake, a.daemon_wake);
	EXPECT_GT(b.daemon_migrate_scanned - a.daemon_migrate_scanned, 0);
	EXPECT_EQ(b.daemon_migrate_scanned - a.daemon_migrate_scanned, b.migrate_scanned - a.migrate_scanned);
	EXPECT_EQ(b.stall, a.stall);
	/* The zone's score: the percentage of free pages outside order-9+ blocks. */
	drain_all_pages(m);
	total = free_pages = suitable = 0;
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		free_pages += zone0(m)->free_area[o].nr_free << o;
		if (o >= pageblock_order)
			suitable += zone0(m)->free_area[o].nr_free << o;
	}
	total = (free_pages - suitable) * 100 / free_pages;
	EXPECT_LE(total, 80);
	check_data(f, t);
	ASSERT_CONSISTENT(m);
	a = b;
	ASSERT_EQ(mmsim_advance(m, 2000 * MS), 0);
	snap(m, &b);
	EXPECT_EQ(b.daemon_migrate_scanned, a.daemon_migrate_scanned);
	ASSERT_CONSISTENT(m);
	free(f);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------ vm.compact_memory */

/*
 * Writing 1 to /proc/sys/vm/compact_memory compacts every zone whole
 * (sync, skip hints ignored): the pages end up at the top of the zone and
 * the freed space merges into large blocks.  It is write-only, and takes
 * only 1.  No allocation stalled; kcompactd did not run.
 */
TEST(compaction_sysctl_compact_memory)
{
	struct mmsim_machine *m = boot("tests/machines/small-64m.dts", NULL);
	struct mmsim_task *t = task(m);
	struct frag *f = new_frag();
	struct counters a, b;
	char buf[64];
	uint64_t moved, before_big = 0;

	fragment(f, t, RW, 0);
	before_big = free_blocks_from(zone0(m), pageblock_order);
	EXPECT_EQ(before_big, 0);
	snap(m, &a);
	EXPECT_EQ(mmsim_sysctl_read(m, "vm.compact_memory", buf, sizeof(buf)), -MMSIM_EACCES);
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.compact_memory", "0"), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.compact_memory", "2"), -MMSIM_EINVAL);
	snap(m, &b);
	EXPECT_EQ(b.migrate_scanned, a.migrate_scanned);
	ASSERT_EQ(mmsim_sysctl_write(m, "/proc/sys/vm/compact_memory", "1\n"), 0);
	snap(m, &b);
	EXPECT_GT(b.migrate_scanned - a.migrate_scanned, (int64_t)f->kept);
	EXPECT_GT(b.free_scanned - a.free_scanned, 0);
	EXPECT_EQ(b.stall, a.stall);
	EXPECT_EQ(b.daemon_wake, a.daemon_wake);
	EXPECT_EQ(b.daemon_migrate_scanned, a.daemon_migrate_scanned);
	moved = check_data(f, t);
	EXPECT_EQ((int64_t)moved, b.pgmigrate_success - a.pgmigrate_success);
	/* About half the zone is free, most of it now in blocks of order 9 or more. */
	drain_all_pages(m);
	{
		uint64_t big = 0;

		for (unsigned int o = pageblock_order; o < NR_PAGE_ORDERS; o++)
			big += zone0(m)->free_area[o].nr_free << o;
		EXPECT_GT(big, (uint64_t)zone0(m)->vm_stat[NR_FREE_PAGES] * 3 / 4);
	}
	ASSERT_CONSISTENT(m);
	free(f);
	mmsim_machine_destroy(m);
}

/* vm.extfrag_threshold and vm.compaction_proactiveness: Linux's ranges and defaults. */
TEST(compaction_sysctl_knobs)
{
	struct mmsim_machine *m = boot("tests/machines/small-64m.dts", NULL);
	char buf[64];

	ASSERT_EQ(mmsim_sysctl_read(m, "vm.extfrag_threshold", buf, sizeof(buf)), 4);
	EXPECT_TRUE(!strcmp(buf, "500\n"));
	ASSERT_EQ(mmsim_sysctl_read(m, "vm/compaction_proactiveness", buf, sizeof(buf)), 3);
	EXPECT_TRUE(!strcmp(buf, "20\n"));
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.extfrag_threshold", "1001"), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.extfrag_threshold", "-1"), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.compaction_proactiveness", "101"), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.extfrag_threshold", "1000"), 0);
	EXPECT_EQ(m->extfrag_threshold, 1000);
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.compaction_proactiveness", "0"), 0);
	EXPECT_EQ(m->compaction_proactiveness, 0);
	EXPECT_TRUE(!m->nodes[0].proactive_compact_trigger);
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.compaction_proactiveness", "40"), 0);
	EXPECT_TRUE(m->nodes[0].proactive_compact_trigger);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * vm.extfrag_threshold at 1000 says every failure is for lack of memory:
 * compaction_suitable() refuses costly orders, so the order-9 request is
 * not compacted (no stall) and fails.
 */
TEST(compaction_extfrag_threshold_refuses)
{
	struct mmsim_machine *m = boot("tests/machines/small-64m.dts", NULL);
	struct mmsim_task *t = task(m);
	struct frag *f = new_frag();
	int64_t stall;

	fragment(f, t, RW, 0);
	EXPECT_GT(fragmentation_index(zone0(m), pageblock_order), 900);
	ASSERT_EQ(mmsim_sysctl_write(m, "vm.extfrag_threshold", "1000"), 0);
	stall = vm(m, "compact_stall");
	EXPECT_TRUE(alloc_pages_node(m, 0, HUGE_GFP, pageblock_order) == NULL);
	EXPECT_EQ(vm(m, "compact_stall"), stall);
	EXPECT_EQ(check_data(f, t), 0);
	ASSERT_CONSISTENT(m);
	free(f);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------------ tags move along */

/*
 * Tagged pages compacted keep their tags.  Under rfc-v1 a target has no
 * reserved tag storage (reservation in compaction was dropped, §2.6.5), so
 * copy_highpage saves the tags by PFN and the new PTE is METADATA_NONE;
 * the first access reserves storage and puts the tags back (§5.4).  A
 * wrong tag still faults.
 */
static void tags_survive(const char *dts, const char *args)
{
	struct mmsim_machine *m = boot(dts, args);
	struct mmsim_task *t = task(m);
	struct frag *f = new_frag();
	struct mmsim_siginfo si;
	int64_t migrated;
	uint64_t moved = 0, checked = 0;

	ASSERT_EQ(mmsim_prctl(t, MMSIM_PR_SET_TAGGED_ADDR_CTRL, MMSIM_PR_TAGGED_ADDR_ENABLE |
			      MMSIM_PR_MTE_TCF_SYNC | (0xfffeULL << MMSIM_PR_MTE_TAG_SHIFT), 0, 0, 0), 0);
	fragment(f, t, RWMTE, 0);
	migrated = vm(m, "pgmigrate_success");
	ASSERT_EQ(mmsim_sysctl_write(m, "vm.compact_memory", "1"), 0);
	migrated = vm(m, "pgmigrate_success") - migrated;
	EXPECT_GT(migrated, 100);
	ASSERT_CONSISTENT(m);
	for (uint64_t i = 0; i < f->n; i++) {
		uint64_t addr = BASE + i * PAGE, v;
		unsigned int tag = 99;

		if (!f->keep[i])
			continue;
		moved += pfn_at(t, addr) != f->pfn[i];
		/* Every 16th page: the whole page through its tagged pointer. */
		if (i % 16 == 0) {
			uint64_t buf[PAGE / 8];

			ASSERT_EQ(mmsim_load(t, TAGGED(addr, i % 15 + 1), buf, PAGE, &si), MMSIM_ACCESS_OK);
			for (uint64_t w = 0; w < PAGE / 8; w++)
				ASSERT_EQ(buf[w], word(i, w));
			checked++;
		}
		ASSERT_EQ(mmsim_get_tag(t, addr + 16 * (i % 256), &tag, &si), MMSIM_ACCESS_OK);
		ASSERT_EQ(tag, i % 15 + 1);
		if (i % 64 == 0) {
			EXPECT_EQ(mmsim_load(t, TAGGED(addr, (i + 1) % 15 + 1), &v, 8, &si), MMSIM_ACCESS_SIGNAL);
			EXPECT_EQ(si.signo, MMSIM_SIGSEGV);
			EXPECT_EQ(si.code, MMSIM_SEGV_MTESERR);
		}
	}
	EXPECT_EQ((int64_t)moved, migrated);
	EXPECT_GT(checked, 100);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	free(f);
	mmsim_machine_destroy(m);
}

TEST(compaction_tagged_pages_keep_tags_rfc_v1)
{
	tags_survive("tests/machines/small-tags.dts", NULL);
}

TEST(compaction_tagged_pages_keep_tags_cma)
{
	tags_survive("tests/machines/small-tags.dts", "mte_tag_storage=cma");
}

TEST(compaction_tagged_pages_keep_tags_static)
{
	tags_survive("tests/machines/small-tags.dts", "mte_tag_storage=static");
}

/* ------------------------------------------------ spec §8.2 items 30-33 */

/* Hold every free block of order >= order (compound, so no scanner moves them). */
struct held {
	struct page *p[4096];
	unsigned int order[4096];
	int n;
};

static void eat_blocks(struct mmsim_machine *m, struct held *h, unsigned int order)
{
	const gfp_t gfp = (GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM) | __GFP_COMP;

	drain_all_pages(m);
	while (free_blocks_from(zone0(m), order) && h->n < 4096) {
		struct page *p = alloc_pages_node(m, 0, gfp, order);

		ASSERT_TRUE(p != NULL);
		h->order[h->n] = order;
		h->p[h->n++] = p;
		drain_all_pages(m);
	}
	ASSERT_EQ(free_blocks_from(zone0(m), order), 0);
}

static void release_held(struct mmsim_machine *m, struct held *h)
{
	while (h->n) {
		h->n--;
		__free_pages(m, h->p[h->n], h->order[h->n]);
	}
}

/* The isolate_migratepages events whose range starts in [lo, hi), and pages they took. */
static int ranges_in(const struct evlog *l, uint64_t lo, uint64_t hi, uint64_t *taken)
{
	int n = 0;

	*taken = 0;
	for (int i = 0; i < l->n; i++) {
		unsigned long long from, to, scanned, got;

		if (strcmp(l->name[i], "compaction:mm_compaction_isolate_migratepages"))
			continue;
		if (sscanf(l->text[i], "range=(0x%llx ~ 0x%llx) nr_scanned=%llu nr_taken=%llu",
			   &from, &to, &scanned, &got) != 4)
			continue;
		if (from >= lo && from < hi) {
			n++;
			*taken += got;
		}
	}
	return n;
}

#define META_LO 0x3fe00ULL      /* tags-low.dts: the METADATA pageblock */
#define META_HI 0x40000ULL

/*
 * Items 30 and 33 on tags-low.dts, after the zone was fragmented with
 * untagged data in every pageblock, tag storage included, and every free
 * block of order >= 4 held:
 *
 *   pfn 0x3fe00        0x40000                                   0x44000
 *       [ METADATA: D.D.D. ][ MOVABLE: D.D.D. ] ... [ MOVABLE: D.D. ]
 *        ^ the migrate scanner starts here        the free scanner ^
 *
 * One sync-light direct compaction for an order-4 request, run for gfp.
 * Returns the number of pages of the METADATA block that moved.
 */
struct run33 {
	struct mmsim_machine *m;
	int successes;            /* mm_compaction_finished ret=success events      */
	int metadata_only;        /* ... with only the METADATA lists holding >= 4  */
};

static void finished_ev(void *ctx, const struct mmsim_event *ev)
{
	struct run33 *r = ctx;
	struct zone *z = zone0(r->m);
	bool meta = false, other = false;

	if (!strstr(ev->text, "ret=success"))
		return;
	r->successes++;
	for (int o = 4; o < NR_PAGE_ORDERS; o++)
		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			bool some = !list_empty(&z->free_area[o].free_list[mt]);

			if (mt == MIGRATE_METADATA)
				meta |= some;
			else if (mt != MIGRATE_ISOLATE)
				other |= some;
		}
	r->metadata_only += meta && !other;
}

static uint64_t compact_for(gfp_t gfp, struct evlog *l, struct run33 *r, struct frag *f,
			    enum compact_result *res)
{
	struct mmsim_machine *m = boot("tests/machines/tags-low.dts", NULL);
	struct mmsim_task *t = task(m);
	struct held *h = calloc(1, sizeof(*h));
	struct page *cap = (struct page *)1;
	uint64_t moved = 0, inmeta = 0;

	ASSERT_TRUE(h != NULL);
	ASSERT_TRUE(m->mte.storage_enabled);
	ASSERT_TRUE(in_metadata(m, META_LO));
	fragment(f, t, RW, 64);
	eat_blocks(m, h, 4);
	ASSERT_CONSISTENT(m);
	memset(r, 0, sizeof(*r));
	r->m = m;
	ASSERT_EQ(mmsim_trace_subscribe(m, "compaction:mm_compaction_isolate_migratepages", log_ev, l), 0);
	ASSERT_EQ(mmsim_trace_subscribe(m, "compaction:mm_compaction_finished", finished_ev, r), 0);
	*res = try_to_compact_pages(m, 0, gfp, 4, gfp_to_alloc_flags(m, gfp), COMPACT_PRIO_SYNC_LIGHT, &cap);
	mmsim_trace_unsubscribe(m, log_ev, l);
	mmsim_trace_unsubscribe(m, finished_ev, r);
	/* Order 4 < pageblock order: MOVABLE and METADATA blocks are never captured. */
	EXPECT_TRUE(cap == NULL);
	ASSERT_CONSISTENT(m);
	for (uint64_t i = 0; i < f->n; i++)
		if (f->keep[i] && in_metadata(m, f->pfn[i])) {
			inmeta++;
			moved += pfn_at(t, BASE + i * PAGE) != f->pfn[i];
		}
	EXPECT_GE(inmeta, 32);
	check_data(f, t);
	/*
	 * The success was real: the request is served - from tag storage
	 * when it may (item 33's block), never when tagged.
	 */
	{
		struct page *p = alloc_pages_node(m, 0, (gfp & ~__GFP_DIRECT_RECLAIM) | __GFP_COMP, 4);

		ASSERT_TRUE(p != NULL);
		EXPECT_EQ(in_metadata(m, page_to_pfn(m, p)), !(gfp & __GFP_TAGGED));
		ASSERT_CONSISTENT(m);
		__free_pages(m, p, 4);
	}
	release_held(m, h);
	ASSERT_CONSISTENT(m);
	free(h);
	mmsim_machine_destroy(m);
	return moved;
}

/*
 * §8.2 30: direct compaction for a request without ALLOC_FROM_METADATA (a
 * tagged one) never takes pages from a METADATA pageblock, even in sync
 * mode where any movable block is a source; one with it (untagged) does.
 */
TEST(spec_8_2_30_metadata_block_no_source_without_alloc_from_metadata)
{
	struct evlog *l = calloc(1, sizeof(*l));
	struct frag *f = new_frag();
	struct run33 r;
	enum compact_result res;
	uint64_t taken, moved;

	ASSERT_TRUE(l != NULL);
	moved = compact_for(GFP_HIGHUSER_MOVABLE | __GFP_TAGGED, l, &r, f, &res);
	EXPECT_EQ(ranges_in(l, META_LO, META_HI, &taken), 0);
	EXPECT_EQ(moved, 0);
	EXPECT_GT(ranges_in(l, META_HI, ~0ULL, &taken), 0);	/* it compacted elsewhere */
	EXPECT_GT(taken, 0);

	memset(l, 0, sizeof(*l));
	moved = compact_for(GFP_HIGHUSER_MOVABLE, l, &r, f, &res);
	EXPECT_GT(ranges_in(l, META_LO, META_HI, &taken), 0);
	EXPECT_GT(taken, 0);
	EXPECT_GT(moved, 0);
	free(l);
	free(f);
}

/*
 * §8.2 33: the untagged request (ALLOC_FROM_METADATA) empties the METADATA
 * block first; __compact_finished() says success when the METADATA list of
 * order >= 4 has a block, with every other list of that order empty.
 */
TEST(spec_8_2_33_compact_finished_counts_metadata_blocks)
{
	struct evlog *l = calloc(1, sizeof(*l));
	struct frag *f = new_frag();
	struct run33 r;
	enum compact_result res;

	ASSERT_TRUE(l != NULL);
	compact_for(GFP_HIGHUSER_MOVABLE, l, &r, f, &res);
	EXPECT_EQ(res, COMPACT_SUCCESS);
	EXPECT_EQ(r.successes, 1);
	EXPECT_EQ(r.metadata_only, 1);
	/* The tagged request may not use them: its compaction does not stop there. */
	memset(l, 0, sizeof(*l));
	compact_for(GFP_HIGHUSER_MOVABLE | __GFP_TAGGED, l, &r, f, &res);
	EXPECT_EQ(r.metadata_only, 0);
	free(l);
	free(f);
}

/*
 * §8.2 32: a block freed while a direct compaction waits for its order is
 * captured - unless it lies in a METADATA pageblock (or is a piece of a
 * MOVABLE pageblock smaller than a pageblock).  On small-tags.dts:
 *
 *   UNMOVABLE block, order 4, freed  -> captured for an order-4 compactor
 *   MOVABLE pageblock, order 9       -> captured for an order-9 compactor
 *   METADATA block, order o >= 4     -> not captured: back on the METADATA
 *                                       list (nr_free_metadata grows)
 */
static struct page *free_captured(struct mmsim_machine *m, struct page *p, unsigned int order)
{
	struct compact_control cc = { .m = m, .zone = page_zone(m, p), .order = (int)order,
				       .direct_compaction = true };
	struct capture_control capc = { .cc = &cc, .page = NULL };

	*current_capture_control(m) = &capc;
	__free_pages(m, p, order);
	*current_capture_control(m) = NULL;
	return capc.page;
}

TEST(spec_8_2_32_metadata_block_never_captured)
{
	struct mmsim_machine *m = boot("tests/machines/small-tags.dts", NULL);
	struct zone *z = zone0(m);
	struct page *p, *got, *meta = NULL;
	int64_t free_before, meta_before;
	unsigned int order = 0;

	/* UNMOVABLE, order 4: captured, and the zone's free count does not see it. */
	p = alloc_pages_node(m, 0, GFP_KERNEL | __GFP_COMP, 4);
	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(get_pageblock_migratetype(m, page_to_pfn(m, p)), MIGRATE_UNMOVABLE);
	free_before = z->vm_stat[NR_FREE_PAGES];
	got = free_captured(m, p, 4);
	EXPECT_TRUE(got == p);
	EXPECT_EQ(z->vm_stat[NR_FREE_PAGES], free_before);
	post_alloc_hook(m, got, 4, GFP_KERNEL | __GFP_COMP);
	__free_pages(m, got, 4);
	ASSERT_CONSISTENT(m);

	/* MOVABLE pageblock, order 9: captured. */
	p = alloc_pages_node(m, 0, HUGE_GFP, pageblock_order);
	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(get_pageblock_migratetype(m, page_to_pfn(m, p)), MIGRATE_MOVABLE);
	got = free_captured(m, p, pageblock_order);
	EXPECT_TRUE(got == p);
	post_alloc_hook(m, got, pageblock_order, HUGE_GFP);
	__free_pages(m, got, pageblock_order);
	ASSERT_CONSISTENT(m);

	/* METADATA, the largest free block there (the zero page's tag page splits the block). */
	for (unsigned int o = NR_PAGE_ORDERS - 1; o >= 4 && !meta; o--)
		if (!list_empty(&z->free_area[o].free_list[MIGRATE_METADATA])) {
			meta = list_first_entry(&z->free_area[o].free_list[MIGRATE_METADATA], struct page, lru);
			order = o;
		}
	ASSERT_TRUE(meta != NULL);
	ASSERT_EQ(__isolate_free_page(m, meta, order), 1U << order);
	post_alloc_hook(m, meta, order, HUGE_GFP);
	meta_before = mmsim_vmstat(m, "nr_free_metadata");
	got = free_captured(m, meta, order);
	EXPECT_TRUE(got == NULL);
	EXPECT_EQ(mmsim_vmstat(m, "nr_free_metadata") - meta_before, 1 << order);
	EXPECT_TRUE(meta->flags & PG_buddy);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.2 31: once compaction has isolated a tagged page, no target comes
 * from a METADATA pageblock.  small-tags.dts puts tag storage at the top
 * of the zone, where the free scanner starts:
 *
 *   0x40000                                   0x44000      0x44200
 *   [ MOVABLE: D.D.D. ] ... [ MOVABLE: D.D. ] [ METADATA: free ]
 *    migrate scanner ->                        <- free scanner
 *
 * With tagged data nothing lands in tag storage; with untagged data the
 * same compaction fills it.
 */
static uint64_t landed_in_metadata(const char *args, int prot, struct frag *f)
{
	struct mmsim_machine *m = boot("tests/machines/small-tags.dts", args);
	struct mmsim_task *t = task(m);
	uint64_t n = 0;

	fragment(f, t, prot, 0);
	ASSERT_EQ(mmsim_sysctl_write(m, "vm.compact_memory", "1"), 0);
	ASSERT_CONSISTENT(m);
	for (uint64_t i = 0; i < f->n; i++)
		n += f->keep[i] && in_metadata(m, pfn_at(t, BASE + i * PAGE));
	check_data(f, t);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
	return n;
}

TEST(spec_8_2_31_no_metadata_target_after_tagged_source)
{
	struct frag *f = new_frag();

	EXPECT_EQ(landed_in_metadata(NULL, RWMTE, f), 0);
	EXPECT_GT(landed_in_metadata(NULL, RW, f), 64);
	free(f);
}

/*
 * The seed as written (mte_fixes=off) keeps the free METADATA pages it
 * isolated before the first tagged source, and hands them to tagged pages
 * afterwards: item 31 holds only for what is isolated later.  Here the
 * region is PROT_MTE but only the pages in the top 64 frames of the
 * zone's first pageblock are accessed, hence tagged (few: tag storage
 * stays mostly free):
 *
 *   0x40000 0x4003f                   0x401c0  0x40200   0x44000     0x44200
 *   [ D.D.  | D.D.D. untagged ...     | D.D. tagged ] ...[ METADATA, free ]
 *    batch 1: 32 untagged sources; the free scanner takes a whole free
 *    buddy block of tag storage, more than 32 pages.  Batch 2 finishes
 *    the pageblock; migrated last-isolated first, the tagged pages are
 *    given what batch 1 left over.
 */
static void tagged_in_metadata(const char *args, uint64_t *landed, uint64_t *lost)
{
	struct mmsim_machine *m = boot("tests/machines/small-tags.dts", args);
	struct mmsim_task *t = task(m);
	struct frag *f = new_frag();
	struct mmsim_siginfo si;
	uint64_t low = zone0(m)->zone_start_pfn + pageblock_nr_pages - 64;

	ASSERT_EQ(mmsim_prctl(t, MMSIM_PR_SET_TAGGED_ADDR_CTRL, MMSIM_PR_TAGGED_ADDR_ENABLE |
			      MMSIM_PR_MTE_TCF_SYNC | (0xfffeULL << MMSIM_PR_MTE_TAG_SHIFT), 0, 0, 0), 0);
	fragment(f, t, RW, 0);
	/* Tag storage is given back whole: its free buddy blocks are large again. */
	for (uint64_t i = 0; i < f->n; i++)
		if (f->keep[i] && in_metadata(m, f->pfn[i])) {
			ASSERT_EQ(mmsim_madvise(t, BASE + i * PAGE, PAGE, MMSIM_MADV_DONTNEED), 0);
			f->keep[i] = 0;
		}
	drain_all_pages(m);
	ASSERT_GT(zone0(m)->free_area[8].nr_free, 0);
	ASSERT_EQ(mmsim_mprotect(t, BASE, f->n * PAGE, RWMTE), 0);
	for (uint64_t i = 0; i < f->n; i++)
		if (f->keep[i] && f->pfn[i] >= low && f->pfn[i] < zone0(m)->zone_start_pfn + pageblock_nr_pages) {
			ASSERT_EQ(mmsim_set_tag(t, TAGGED(BASE + i * PAGE, 3), PAGE, &si), MMSIM_ACCESS_OK);
			f->tag[i] = 3;
		}
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_sysctl_write(m, "vm.compact_memory", "1"), 0);
	ASSERT_CONSISTENT(m);
	*landed = *lost = 0;
	for (uint64_t i = 0; i < f->n; i++) {
		unsigned int tag = 99;

		if (!f->keep[i])
			continue;
		*landed += f->tag[i] && in_metadata(m, pfn_at(t, BASE + i * PAGE));
		/* The access moves a page off tag storage; its tags should come along. */
		ASSERT_EQ(mmsim_get_tag(t, BASE + i * PAGE, &tag, &si), MMSIM_ACCESS_OK);
		*lost += tag != f->tag[i];
		ASSERT_TRUE(page_intact_tagged(t, i, tag));
	}
	ASSERT_CONSISTENT(m);
	free(f);
	mmsim_machine_destroy(m);
}

/*
 * Fixed: nothing tagged lands in tag storage.  As written: some does, and
 * the fault that moves it off again loses its tags - copy_highpage moves
 * only the tags of a page already tagged, not those saved by PFN (§5.4).
 */
TEST(compaction_seed_leftover_metadata_targets_as_written)
{
	uint64_t landed, lost;

	tagged_in_metadata(NULL, &landed, &lost);
	EXPECT_EQ(landed, 0);
	EXPECT_EQ(lost, 0);
	tagged_in_metadata("mte_fixes=off", &landed, &lost);
	EXPECT_GT(landed, 0);
	EXPECT_EQ(lost, landed);
}

/* ------------------------------------------------- spec §8.3 items 53, 60 */

/* Isolate n of t's pages from the LRU, as a concurrent compactor would. */
static void isolate_as_other(struct mmsim_task *t, uint64_t base, uint64_t n, bool undo)
{
	struct mmsim_machine *m = t->machine;

	for (uint64_t i = 0; i < n; i++) {
		struct page *p = pfn_to_page(m, pfn_at(t, base + i * PAGE));

		if (!undo) {
			ASSERT_TRUE(p->flags & PG_lru);
			get_page(p);
			lru_del(m, p);
			p->flags |= PG_isolated;
			mod_node_page_state(&m->nodes[p->nid], NR_ISOLATED_ANON, 1);
		} else {
			ASSERT_TRUE(p->flags & PG_isolated);
			p->flags &= ~PG_isolated;
			mod_node_page_state(&m->nodes[p->nid], NR_ISOLATED_ANON, -1);
			lru_add(m, p);
			put_page(m, p);
		}
	}
}

struct r53 {
	struct mmsim_machine *m;
	struct mmsim_task *t;
	int events;
	bool flag, compaction, vmscan;   /* at the first migration inside the loop */
};

static void r53_ev(void *ctx, const struct mmsim_event *ev)
{
	struct r53 *r = ctx;

	(void)ev;
	if (r->events++)
		return;
	r->flag = r->t->memalloc_isolate;
	r->compaction = compaction_too_many_isolated(r->m, zone0(r->m), GFP_KERNEL);
	r->vmscan = vmscan_too_many_isolated(r->m, 0, false, GFP_KERNEL);
}

#define R53_DATA   0x20000000ULL   /* the page that becomes tagged            */
#define R53_VICTIM 0x30000000ULL   /* data living in the tag page it needs   */
#define R53_OTHER  0x40000000ULL   /* pages "another compactor" isolated     */
#define R53_OTHERS 1024ULL

/*
 * §8.3 53, on the built-in machine.  The tag page T that the data page P
 * needs holds V's data (a METADATA page lent out), and many pages are
 * isolated from the LRU by someone else, so both too_many_isolated() say
 * "wait" for an ordinary task:
 *
 *   [R53_DATA]   P, untagged, then mprotect(PROT_MTE) and accessed
 *   [R53_VICTIM] V, living in frame T = P's tag page
 *   [R53_OTHER]  1024 pages, half of them isolated
 *
 * P's access reserves T: alloc_contig_range(T) migrates V away.  At that
 * migration the task has PF_MEMALLOC_ISOLATE and both functions say no;
 * before and after, the flag has its prior value.
 */
static void run_8_3_53(bool prior)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	struct mmsim_siginfo si;
	struct r53 r = { .m = m, .t = t };
	const struct tag_region *reg;
	uint64_t pfn, tpfn, v = 0x5353;
	struct page *src, *dst;

	ASSERT_TRUE(m->mte.storage_enabled);
	ASSERT_EQ(mmsim_mmap(t, R53_DATA, PAGE, RW, ANON, -1, 0), (int64_t)R53_DATA);
	ASSERT_EQ(mmsim_mmap(t, R53_VICTIM, PAGE, RW, ANON, -1, 0), (int64_t)R53_VICTIM);
	ASSERT_EQ(mmsim_mmap(t, R53_OTHER, R53_OTHERS * PAGE, RW, ANON, -1, 0), (int64_t)R53_OTHER);
	ASSERT_EQ(mmsim_madvise(t, R53_OTHER, R53_OTHERS * PAGE, MMSIM_MADV_NOHUGEPAGE), 0);
	ASSERT_EQ(mmsim_store(t, R53_DATA, &v, 8, &si), MMSIM_ACCESS_OK);
	for (uint64_t i = 0; i < R53_OTHERS; i++)
		ASSERT_EQ(mmsim_store(t, R53_OTHER + i * PAGE, &i, 8, &si), MMSIM_ACCESS_OK);
	/* V goes into T. */
	pfn = pfn_at(t, R53_DATA);
	ASSERT_EQ(tag_storage_find_block(m, pfn, &tpfn, &reg), 0);
	ASSERT_EQ(pfn_to_page(m, tpfn)->refcount, 0);
	ASSERT_EQ(mmsim_fill(t, R53_VICTIM, 0x5a, PAGE, &si), MMSIM_ACCESS_OK);
	src = pfn_to_page(m, pfn_at(t, R53_VICTIM));
	ASSERT_EQ(alloc_contig_range(m, tpfn, tpfn + 1, MIGRATE_METADATA), 0);
	dst = pfn_to_page(m, tpfn);
	get_page(src);
	ASSERT_EQ(migrate_page_to(m, src, dst), 0);
	put_page(m, dst);
	put_page(m, src);
	ASSERT_EQ(pfn_at(t, R53_VICTIM), tpfn);
	isolate_as_other(t, R53_OTHER, R53_OTHERS / 2, false);
	ASSERT_CONSISTENT(m);

	t->memalloc_isolate = prior;
	EXPECT_EQ(compaction_too_many_isolated(m, zone0(m), GFP_KERNEL), !prior);
	EXPECT_EQ(vmscan_too_many_isolated(m, 0, false, GFP_KERNEL), !prior);
	EXPECT_TRUE(!vmscan_too_many_isolated(m, 0, true, GFP_KERNEL));	/* never kswapd */
	ASSERT_EQ(mmsim_mprotect(t, R53_DATA, PAGE, RWMTE), 0);
	ASSERT_EQ(mmsim_trace_subscribe(m, "migrate:mm_migrate_pages", r53_ev, &r), 0);
	v = 0;
	ASSERT_EQ(mmsim_load(t, R53_DATA, &v, 8, &si), MMSIM_ACCESS_OK);
	mmsim_trace_unsubscribe(m, r53_ev, &r);
	EXPECT_EQ(v, 0x5353);
	EXPECT_GE(r.events, 1);
	EXPECT_TRUE(r.flag);
	EXPECT_TRUE(!r.compaction);
	EXPECT_TRUE(!r.vmscan);
	EXPECT_NE(pfn_at(t, R53_VICTIM), tpfn);		/* V was moved out of T */
	EXPECT_TRUE(pfn_to_page(m, tpfn)->flags & PG_tag_block);
	EXPECT_EQ(t->memalloc_isolate, prior);		/* restored */
	EXPECT_EQ(compaction_too_many_isolated(m, zone0(m), GFP_KERNEL), !prior);
	EXPECT_EQ(vmscan_too_many_isolated(m, 0, false, GFP_KERNEL), !prior);
	ASSERT_CONSISTENT(m);
	isolate_as_other(t, R53_OTHER, R53_OTHERS / 2, true);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(spec_8_3_53_memalloc_isolate_during_alloc_contig_range)
{
	run_8_3_53(false);
	run_8_3_53(true);	/* already set: stays set */
}

/*
 * §8.3 60 and race R10: the seed's compaction reserved tag storage for its
 * targets in isolate_freepages_block(), under the zone lock.  As written
 * (mte_race_fix_off=R10) compacting tagged pages reserves storage during
 * the compaction and trips reserve_metadata_storage's
 * VM_WARN_ON_ONCE(!preemptible()); the tags land in reserved storage at
 * once.  Fixed (the next version dropped it): no reservation during
 * compaction, no warning; the first access reserves instead.  Either way
 * data and tags survive.
 */
static void run_8_3_60(const char *args, bool as_written)
{
	struct mmsim_machine *m = boot("tests/machines/small-tags.dts", args);
	struct mmsim_task *t = task(m);
	struct frag *f = new_frag();
	struct mmsim_siginfo si;
	int64_t success, migrated;

	ASSERT_EQ(mmsim_prctl(t, MMSIM_PR_SET_TAGGED_ADDR_CTRL, MMSIM_PR_TAGGED_ADDR_ENABLE |
			      MMSIM_PR_MTE_TCF_SYNC | (0xfffeULL << MMSIM_PR_MTE_TAG_SHIFT), 0, 0, 0), 0);
	fragment(f, t, RWMTE, 0);
	EXPECT_TRUE(!kmsg_has(m, "VM_WARN_ON_ONCE(!preemptible())"));
	success = vm(m, "metadata_reserve_success");
	migrated = vm(m, "pgmigrate_success");
	ASSERT_EQ(mmsim_sysctl_write(m, "vm.compact_memory", "1"), 0);
	EXPECT_GT(vm(m, "pgmigrate_success") - migrated, 100);
	EXPECT_EQ(kmsg_has(m, "VM_WARN_ON_ONCE(!preemptible())"), as_written);
	if (as_written)
		EXPECT_GT(vm(m, "metadata_reserve_success"), success);
	else
		EXPECT_EQ(vm(m, "metadata_reserve_success"), success);
	EXPECT_TRUE(!spin_is_locked(&zone0(m)->lock));
	ASSERT_CONSISTENT(m);
	for (uint64_t i = 0; i < f->n; i++) {
		unsigned int tag = 99;

		if (!f->keep[i])
			continue;
		ASSERT_EQ(mmsim_get_tag(t, BASE + i * PAGE, &tag, &si), MMSIM_ACCESS_OK);
		ASSERT_EQ(tag, i % 15 + 1);
		ASSERT_TRUE(page_intact_tagged(t, i, i % 15 + 1));
	}
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	free(f);
	mmsim_machine_destroy(m);
}

TEST(spec_8_3_60_reservation_in_compaction_warns_as_written)
{
	run_8_3_60("mte_race_fix_off=R10", true);
	run_8_3_60(NULL, false);
}

/* ------------------------------------------------------- the checker */

static void expect_reported(struct mmsim_machine *m, const char *what)
{
	static char rep[16384];

	rep[0] = '\0';
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, what);
}

/* mmsim_check() sees compaction state that is damaged on purpose. */
TEST(compaction_check_reports_damage)
{
	struct mmsim_machine *m = boot("tests/machines/small-64m.dts", NULL);
	struct mmsim_task *t = task(m);
	struct zone *z = zone0(m);
	struct capture_control capc = { 0 };
	struct page *p;
	uint64_t saved;
	uint64_t v = 1;
	struct mmsim_siginfo si;

	ASSERT_EQ(mmsim_mmap(t, BASE, PAGE, RW, ANON, -1, 0), (int64_t)BASE);
	ASSERT_EQ(mmsim_store(t, BASE, &v, 8, &si), MMSIM_ACCESS_OK);
	p = pfn_to_page(m, pfn_at(t, BASE));
	ASSERT_CONSISTENT(m);

	mod_node_page_state(&m->nodes[0], NR_ISOLATED_ANON, 1);
	expect_reported(m, "nr_isolated_anon + nr_isolated_file = 1 but 0 pages are isolated");
	mod_node_page_state(&m->nodes[0], NR_ISOLATED_ANON, -1);

	p->flags |= PG_isolated;
	expect_reported(m, "is isolated and on the LRU");
	p->flags &= ~PG_isolated;

	m->compacting = 1;
	expect_reported(m, "compaction runs still marked active");
	m->compacting = 0;

	m->capture_control = &capc;
	expect_reported(m, "capture control is set outside direct compaction");
	m->capture_control = NULL;

	t->capture_control = &capc;
	expect_reported(m, "still has a capture control or a compaction run");
	t->capture_control = NULL;

	spin_lock(&z->lock);
	expect_reported(m, "zone->lock");
	spin_unlock(&z->lock);

	saved = z->compact_cached_migrate_pfn[1];
	z->compact_cached_migrate_pfn[1] = z->zone_start_pfn + z->spanned_pages + 2 * pageblock_nr_pages;
	expect_reported(m, "cached migrate pfn");
	z->compact_cached_migrate_pfn[1] = saved;

	saved = z->compact_cached_free_pfn;
	z->compact_cached_free_pfn = z->zone_start_pfn + z->spanned_pages;
	expect_reported(m, "cached free pfn");
	z->compact_cached_free_pfn = saved;

	z->compact_defer_shift = COMPACT_MAX_DEFER_SHIFT + 1;
	expect_reported(m, "deferral shift");
	z->compact_defer_shift = 0;

	m->nodes[0].kcompactd_max_order = MAX_PAGE_ORDER + 1;
	expect_reported(m, "kcompactd request order");
	m->nodes[0].kcompactd_max_order = 0;
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}
