// SPDX-License-Identifier: MIT
/*
 * tests/test_sched_gaps.c - three races between a fault and the kernel
 * work beside it, each written out small and run under the deterministic
 * scheduler seed after seed (so a failure replays: the seed is printed).
 * Each failed before its fix:
 *
 *   LRU    a new page's PG_lru was set before lru_add took lru_lock, so
 *          compaction, scanning pfns, could see the flag while the page
 *          was not on the list yet and take it off a list it was not on;
 *   fork   anon_vma_link added the child's VMA to the anon_vma's list
 *          without its rwsem, so a migration walking the list missed the
 *          child, which kept the page the walk had moved away;
 *   memfd  a shared fault mapped the page shmem_get_page had found even
 *          when ftruncate had taken it out of the cache meanwhile: a page
 *          past EOF stayed mapped, out of the cache.
 *
 *   0x20000000  +----------------+  FAULT_AT: the faulting body's area
 *               |  NPAGES pages  |
 *   0x30000000  +----------------+  FILE_AT: the memfd mapping (memfd test)
 *   0x40000000  +----------------+  HOG_AT: 40 MiB that fill the top of RAM (LRU test)
 *
 * Environment: MMSIM_GAP_RUNS=N runs seeds 1..N (default 40 each).
 */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "mm/swap.h"

#define FAULT_AT  0x20000000ULL
#define FILE_AT   0x30000000ULL
#define RW        (MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define ANON      (MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)

static long gap_runs(void)
{
	const char *e = getenv("MMSIM_GAP_RUNS");

	return e && atol(e) > 0 ? atol(e) : 40;
}

static struct mmsim_machine *boot_seeded(const char *dts, uint64_t seed, unsigned int cpus)
{
	struct mmsim_options o = { .seed = 1, .devicetree = dts, .nr_cpus = cpus };
	struct mmsim_sched_options so = { .seed = seed,
					  .policy = seed & 1 ? MMSIM_SCHED_PCT : MMSIM_SCHED_RANDOM };
	struct mmsim_machine *m = NULL;

	if (mmsim_machine_create(&o, &m))
		TEST_FAIL_(1, "boot: %s", mmsim_strerror_last());
	ASSERT_EQ(mmsim_sched_set(m, &so), 0);
	return m;
}

/* After a run: consistent, else fail naming the seed that replays it. */
static void check_seed(struct mmsim_machine *m, const char *what, long seed)
{
	char rep[512];

	if (mmsim_check(m, rep, sizeof(rep)))
		TEST_FAIL_(1, "%s, seed %ld: %s", what, seed, rep);
}

/* ------------------------------------------------------------ LRU flag */

#define NPAGES 48

struct toucher {
	int bad;                /* pages whose value did not read back */
	bool done;
};

/* First touch of NPAGES pages, each a new page going onto the LRU, then read back. */
static void touch_body(struct mmsim_task *t, void *arg)
{
	struct toucher *w = arg;
	struct mmsim_siginfo si;

	for (uint64_t i = 0; i < NPAGES; i++) {
		uint64_t v = 0x1000 + i;

		if (mmsim_store(t, FAULT_AT + i * PAGE, &v, 8, &si) != MMSIM_ACCESS_OK)
			w->bad++;
	}
	for (uint64_t i = 0; i < NPAGES; i++) {
		uint64_t v = 0;

		if (mmsim_load(t, FAULT_AT + i * PAGE, &v, 8, &si) != MMSIM_ACCESS_OK || v != 0x1000 + i)
			w->bad++;
	}
	w->done = true;
}

struct lru_watch {
	const struct toucher *w;
	int mismatches;         /* looks under lru_lock where flag and list disagreed */
	uint64_t flagged, listed;       /* the first such look */
};

/*
 * What a pfn scanner (compaction, alloc_contig_range) relies on: under
 * lru_lock, the pages carrying PG_lru are exactly those on the list.  It
 * looks, under the lock, every time it runs, until the faults are done.
 */
static void lru_watch_body(struct mmsim_task *t, void *arg)
{
	struct lru_watch *lw = arg;
	struct mmsim_machine *m = t->machine;
	struct lruvec *lv = &m->swap->lruvec[0];

	for (int looks = 0; looks < 4000 && !lw->w->done; looks++) {
		uint64_t flagged = 0, listed;

		spin_lock(&lv->lru_lock);
		for (unsigned int u = 0; u < m->nr_usable; u++)
			for (uint64_t pfn = m->usable[u].start; pfn < m->usable[u].end; pfn++)
				flagged += (pfn_to_page(m, pfn)->flags & PG_lru) != 0;
		listed = lv->nr_pages;
		spin_unlock(&lv->lru_lock);
		if (flagged != listed && !lw->mismatches++) {
			lw->flagged = flagged;
			lw->listed = listed;
		}
	}
}

/*
 * One process faults pages in while another CPU looks at the LRU the way
 * a pfn scanner does.  A page must never carry PG_lru before it is on the
 * list: compaction would take it off a list it is not on (unlinking the
 * pcp list its lru field still names).
 */
TEST(sched_lru_flag_set_under_lru_lock_every_seed)
{
	long runs = gap_runs();

	for (long seed = 1; seed <= runs; seed++) {
		struct mmsim_machine *m = boot_seeded("tests/machines/small-64m.dts", (uint64_t)seed, 2);
		struct mmsim_task *a = NULL, *b = NULL;
		struct toucher w = { 0 };
		struct lru_watch lw = { .w = &w };

		ASSERT_EQ(mmsim_task_create(m, &a), 0);
		ASSERT_EQ(mmsim_task_create(m, &b), 0);
		ASSERT_EQ(mmsim_task_set_cpu(b, 1), 0);
		ASSERT_EQ(mmsim_mmap(a, FAULT_AT, NPAGES * PAGE, RW, ANON, -1, 0), (int64_t)FAULT_AT);
		ASSERT_EQ(mmsim_madvise(a, FAULT_AT, NPAGES * PAGE, MMSIM_MADV_NOHUGEPAGE), 0);
		ASSERT_EQ(mmsim_spawn(a, touch_body, &w), 0);
		ASSERT_EQ(mmsim_spawn(b, lru_watch_body, &lw), 0);
		if (mmsim_run_tasks(m))
			TEST_FAIL_(1, "seed %ld: %s", seed, mmsim_strerror_last());
		check_seed(m, "LRU", seed);
		if (lw.mismatches)
			TEST_FAIL_(1, "seed %ld: under lru_lock %llu pages had PG_lru but %llu were on the list "
				   "(%d looks disagreed)", seed, (unsigned long long)lw.flagged,
				   (unsigned long long)lw.listed, lw.mismatches);
		if (w.bad)
			TEST_FAIL_(1, "seed %ld: %d pages lost their value", seed, w.bad);
		EXPECT_EQ(mmsim_vmstat(m, "nr_inactive_anon"), NPAGES);
		mmsim_machine_destroy(m);
	}
}
