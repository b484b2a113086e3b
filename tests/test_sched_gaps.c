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

/* --------------------------------------------- fork against anon migration */

#define NANON 6

struct forker {
	struct mmsim_task *child;
	int err;
};

static void fork_body(struct mmsim_task *t, void *arg)
{
	struct forker *f = arg;

	f->err = mmsim_fork(t, &f->child);
}

/* move_pages of the anonymous pages to node 1: migrates without mmap_lock held. */
static void migrate_anon_body(struct mmsim_task *t, void *arg)
{
	uint64_t pages[NANON];
	int nodes[NANON], status[NANON];

	for (int i = 0; i < NANON; i++) {
		pages[i] = FAULT_AT + (uint64_t)i * PAGE;
		nodes[i] = 1;
	}
	*(int64_t *)arg = mmsim_move_pages(t, NANON, pages, nodes, status, MMSIM_MPOL_MF_MOVE_ALL);
}

/* Pages of t's anonymous area that do not read what was written before the run. */
static int anon_wrong(struct mmsim_task *t)
{
	int bad = 0;

	for (uint64_t pg = 0; pg < NANON; pg++) {
		struct mmsim_siginfo si = { 0 };
		uint64_t v = 0;

		if (mmsim_load(t, FAULT_AT + pg * PAGE, &v, 8, &si) != MMSIM_ACCESS_OK || v != 0xa000 + pg)
			bad++;
	}
	return bad;
}

/*
 * One thread forks while another migrates the process's anonymous pages
 * (move_pages to the other node).  The migration's rmap walk holds the
 * anon_vma's rwsem for read across its pass over the list; fork adds the
 * child's VMA to that list, which must wait for the walk, or the walk
 * passes the list's tail before the child's VMA is there, fork copies a
 * PTE of the parent's that the walk then turns into a migration entry, and
 * the child keeps mapping the old page, which the migration freed from
 * under it.  Whatever the order, afterwards both read what was written.
 *
 *   FAULT_AT  +-- NANON private anonymous pages, written --+
 */
TEST(sched_fork_against_anon_migration_every_seed)
{
	long runs = gap_runs();
	FILE *dts = fopen("examples/numa-4g.dts", "r");

	if (!dts) {
		test_skip("examples/numa-4g.dts not found (run from the source tree)");
		return;
	}
	fclose(dts);
	for (long seed = 1; seed <= runs; seed++) {
		struct mmsim_machine *m = boot_seeded("examples/numa-4g.dts", (uint64_t)seed, 0);
		struct mmsim_task *t0 = NULL, *t1 = NULL;
		struct forker f = { 0 };
		int64_t moved = 99;

		ASSERT_EQ(mmsim_task_create(m, &t0), 0);
		ASSERT_EQ(mmsim_thread_create(t0, &t1), 0);
		ASSERT_EQ(mmsim_task_set_cpu(t1, 1), 0);
		ASSERT_EQ(mmsim_mmap(t0, FAULT_AT, NANON * PAGE, RW, ANON, -1, 0), (int64_t)FAULT_AT);
		ASSERT_EQ(mmsim_madvise(t0, FAULT_AT, NANON * PAGE, MMSIM_MADV_NOHUGEPAGE), 0);
		for (uint64_t pg = 0; pg < NANON; pg++) {
			struct mmsim_siginfo si;
			uint64_t v = 0xa000 + pg;

			ASSERT_EQ(mmsim_store(t0, FAULT_AT + pg * PAGE, &v, 8, &si), MMSIM_ACCESS_OK);
		}
		ASSERT_EQ(mmsim_spawn(t0, migrate_anon_body, &moved), 0);
		ASSERT_EQ(mmsim_spawn(t1, fork_body, &f), 0);
		if (mmsim_run_tasks(m))
			TEST_FAIL_(1, "seed %ld: %s", seed, mmsim_strerror_last());
		EXPECT_EQ(moved, 0);
		ASSERT_EQ(f.err, 0);
		check_seed(m, "fork against anon migration", seed);
		if (anon_wrong(t0) || anon_wrong(f.child))
			TEST_FAIL_(1, "seed %ld: %d of the parent's and %d of the child's pages read wrong", seed,
				   anon_wrong(t0), anon_wrong(f.child));
		mmsim_task_exit(f.child);
		mmsim_machine_destroy(m);
	}
}

/* ------------------------------------------------ ftruncate against a fault */

#define NFILE 4

struct file_writer {
	int ok, sigbus, other;  /* how the stores ended */
};

/* A shared write to each page of the memfd mapping: a fault that fills the cache. */
static void file_store_body(struct mmsim_task *t, void *arg)
{
	struct file_writer *w = arg;

	for (uint64_t pg = 0; pg < NFILE; pg++) {
		struct mmsim_siginfo si = { 0 };
		uint64_t v = 0xf00 + pg;
		int r = mmsim_store(t, FILE_AT + pg * PAGE, &v, 8, &si);

		if (r == MMSIM_ACCESS_OK)
			w->ok++;
		else if (r == MMSIM_ACCESS_SIGNAL && si.signo == MMSIM_SIGBUS)
			w->sigbus++;
		else
			w->other++;
	}
}

struct truncater {
	int fd;
	int err;
};

static void truncate_body(struct mmsim_task *t, void *arg)
{
	struct truncater *tr = arg;

	tr->err = mmsim_ftruncate(t, tr->fd, 0);
}

/*
 * One thread writes each page of a MAP_SHARED memfd mapping (each store a
 * fault that finds or creates the page-cache page and maps it) while
 * another truncates the file to nothing.  A fault that got its page before
 * the truncation took the page out of the cache must not map it after:
 * once both are done nothing of the file is left, every access is SIGBUS,
 * and no page is mapped out of the cache.
 *
 *   FILE_AT  +-- MAP_SHARED memfd, NFILE pages, then size 0 --+
 */
TEST(sched_ftruncate_against_shmem_fault_every_seed)
{
	long runs = gap_runs();

	for (long seed = 1; seed <= runs; seed++) {
		struct mmsim_machine *m = boot_seeded(NULL, (uint64_t)seed, 2);
		struct mmsim_task *t0 = NULL, *t1 = NULL;
		struct file_writer w = { 0 };
		struct truncater tr = { .err = 99 };

		ASSERT_EQ(mmsim_task_create(m, &t0), 0);
		ASSERT_EQ(mmsim_thread_create(t0, &t1), 0);
		ASSERT_EQ(mmsim_task_set_cpu(t1, 1), 0);
		tr.fd = mmsim_memfd_create(t0, "truncated", 0);
		ASSERT_GE(tr.fd, 0);
		ASSERT_EQ(mmsim_ftruncate(t0, tr.fd, NFILE * PAGE), 0);
		ASSERT_EQ(mmsim_mmap(t0, FILE_AT, NFILE * PAGE, RW, MMSIM_MAP_SHARED | MMSIM_MAP_FIXED, tr.fd, 0),
			  (int64_t)FILE_AT);
		ASSERT_EQ(mmsim_spawn(t0, file_store_body, &w), 0);
		ASSERT_EQ(mmsim_spawn(t1, truncate_body, &tr), 0);
		if (mmsim_run_tasks(m))
			TEST_FAIL_(1, "seed %ld: %s", seed, mmsim_strerror_last());
		EXPECT_EQ(tr.err, 0);
		EXPECT_EQ(w.other, 0);
		EXPECT_EQ(w.ok + w.sigbus, NFILE);
		check_seed(m, "ftruncate against a shmem fault", seed);
		for (uint64_t pg = 0; pg < NFILE; pg++) {
			struct mmsim_siginfo si = { 0 };
			uint64_t v;

			if (mmsim_load(t0, FILE_AT + pg * PAGE, &v, 8, &si) != MMSIM_ACCESS_SIGNAL ||
			    si.signo != MMSIM_SIGBUS)
				TEST_FAIL_(1, "seed %ld: page %llu of the truncated file is still mapped "
					   "(reads 0x%llx)", seed, (unsigned long long)pg, (unsigned long long)v);
		}
		EXPECT_EQ(mmsim_vmstat(m, "nr_shmem"), 0);
		mmsim_machine_destroy(m);
	}
}
