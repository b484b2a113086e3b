// SPDX-License-Identifier: MIT
/*
 * tests/test_tlb_shootdown.c - TLB shootdown by IPI (arch/arm64/tlbflush.c).
 *
 * Two threads of one process on two CPUs and one page that a forked child
 * keeps copy-on-write.  The reader's CPU holds a read-only entry for the
 * page; the writer's COW fault switches the PTE to a copy and must drop
 * that entry from the reader's TLB before the fault returns, or the reader
 * goes on reading the old frame (the child's) and never sees the write.
 *
 *   X = 0x40000000  +-----------+  private anonymous, MADV_NOHUGEPAGE,
 *                   |  COW page |  shared with the forked child
 *   X + 0x1000      +-----------+
 *
 *   CPU 0: writer (t0)                   CPU 1: reader (t1, same mm)
 *                                          load X -> OLD  (read-only entry)
 *     store NEW -> COW fault
 *       ptep_clear_flush -- shootdown --> entry dropped (IPI, or directly)
 *                                          load X -> NEW  (missed: OLD)
 *
 * The tests run it deterministically (every seed), in parallel mode from
 * plain host calls (where the request waits in the mailbox of a CPU
 * nobody holds), as a parallel stress under ThreadSanitizer, and with the
 * shootdown switched off, which they must catch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "arch/arm64/tlbflush.h"
#include "mm/internal.h"

#define X      0x40000000ULL
#define SPIN   0x50080000ULL   /* TLB slot 128: never evicts X's entries (slots 0..15) */
#define RW     (MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define ANON   (MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)
#define OLD    0x01d01d01d01d01dULL
#define NEW    0x0e00e00e00e00e0ULL

static struct mmsim_machine *boot2(uint64_t seed)
{
	struct mmsim_options o = { .seed = seed, .nr_cpus = 2 };
	struct mmsim_machine *m = NULL;

	if (mmsim_machine_create(&o, &m))
		TEST_FAIL_(1, "boot: %s", mmsim_strerror_last());
	return m;
}

/* A private anonymous area of n pages without huge pages (those hold the whole machine). */
static void map_small(struct mmsim_task *t, uint64_t addr, uint64_t n)
{
	ASSERT_EQ(mmsim_mmap(t, addr, n * PAGE, RW, ANON, -1, 0), (int64_t)addr);
	ASSERT_EQ(mmsim_madvise(t, addr, n * PAGE, MMSIM_MADV_NOHUGEPAGE), 0);
}

struct cow_setup {
	struct mmsim_machine *m;
	struct mmsim_task *t0, *t1;     /* writer on CPU 0, reader on CPU 1: one process */
	struct mmsim_task *child;       /* keeps the old frame mapped                   */
};

static void cow_setup(struct cow_setup *s, uint64_t seed, bool parallel, bool no_remote)
{
	struct mmsim_siginfo si;
	uint64_t v = OLD;

	s->m = boot2(seed);
	if (parallel) {
		struct mmsim_sched_options o = { .mode = MMSIM_SCHED_PARALLEL };

		ASSERT_EQ(mmsim_sched_set(s->m, &o), 0);
	}
	s->m->debug_no_remote_tlb_flush = no_remote;
	ASSERT_EQ(mmsim_task_create(s->m, &s->t0), 0);
	ASSERT_EQ(mmsim_thread_create(s->t0, &s->t1), 0);
	ASSERT_EQ(mmsim_task_set_cpu(s->t1, 1), 0);
	map_small(s->t0, X, 1);
	map_small(s->t0, SPIN, 1);
	ASSERT_EQ(mmsim_store(s->t0, X, &v, 8, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_fork(s->t0, &s->child), 0);
	ASSERT_CONSISTENT(s->m);
}

/* --------------------------------------------------- deterministic runs */

struct cow_race {
	int step;                       /* 1: the reader has the entry; 2: written */
	uint64_t before, after;         /* what the reader saw                      */
	int errors;
};

static int step_get(struct cow_race *c) { return __atomic_load_n(&c->step, __ATOMIC_ACQUIRE); }

static void reader_body(struct mmsim_task *t, void *arg)
{
	struct cow_race *c = arg;
	struct mmsim_siginfo si;
	uint64_t v;

	if (mmsim_load(t, X, &c->before, 8, &si) != MMSIM_ACCESS_OK)
		c->errors++;
	__atomic_store_n(&c->step, 1, __ATOMIC_RELEASE);
	/* Spin as a program would: each load is an access, where IPIs are taken. */
	while (step_get(c) != 2)
		if (mmsim_load(t, SPIN, &v, 8, &si) != MMSIM_ACCESS_OK)
			c->errors++;
	if (mmsim_load(t, X, &c->after, 8, &si) != MMSIM_ACCESS_OK)
		c->errors++;
}

static void writer_body(struct mmsim_task *t, void *arg)
{
	struct cow_race *c = arg;
	struct mmsim_siginfo si;
	uint64_t v = NEW;

	while (step_get(c) != 1)
		if (mmsim_load(t, SPIN, &v, 8, &si) != MMSIM_ACCESS_OK)
			c->errors++;
	v = NEW;
	if (mmsim_store(t, X, &v, 8, &si) != MMSIM_ACCESS_OK)
		c->errors++;
	__atomic_store_n(&c->step, 2, __ATOMIC_RELEASE);
}

/* One deterministic run of the scenario under seed; the trace goes to path if given. */
static struct cow_race det_run(uint64_t seed, bool no_remote, const char *path, char *report, size_t len)
{
	struct cow_setup s;
	struct cow_race c = { 0 };
	struct mmsim_sched_options o = { .seed = seed, .policy = MMSIM_SCHED_RANDOM };
	struct mmsim_siginfo si;
	int64_t remote0, recv0;
	uint64_t v = 0;

	cow_setup(&s, 1, false, no_remote);
	ASSERT_EQ(mmsim_sched_set(s.m, &o), 0);
	if (path)
		ASSERT_EQ(mmsim_trace_file(s.m, path), 0);
	remote0 = mmsim_vmstat(s.m, "nr_tlb_remote_flush");
	recv0 = mmsim_vmstat(s.m, "nr_tlb_remote_flush_received");
	ASSERT_EQ(mmsim_spawn(s.t1, reader_body, &c), 0);
	ASSERT_EQ(mmsim_spawn(s.t0, writer_body, &c), 0);
	ASSERT_EQ(mmsim_run_tasks(s.m), 0);
	if (path)
		ASSERT_EQ(mmsim_trace_file_close(s.m), 0);
	EXPECT_EQ(c.errors, 0);
	/* The child kept the old frame; the parent's copy has the write. */
	ASSERT_EQ(mmsim_load(s.child, X, &v, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(v, OLD);
	ASSERT_EQ(mmsim_load(s.t0, X, &v, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(v, NEW);
	if (!no_remote) {
		/* The COW reached CPU 1 once; with two CPUs each remote flush is one receipt. */
		EXPECT_GE(mmsim_vmstat(s.m, "nr_tlb_remote_flush") - remote0, 1);
		EXPECT_EQ(mmsim_vmstat(s.m, "nr_tlb_remote_flush_received") - recv0,
			  mmsim_vmstat(s.m, "nr_tlb_remote_flush") - remote0);
	} else {
		EXPECT_EQ(mmsim_vmstat(s.m, "nr_tlb_remote_flush"), remote0);
	}
	report[0] = 0;
	if (mmsim_check(s.m, report, len) == 0)
		report[0] = 0;
	mmsim_machine_destroy(s.m);
	return c;
}

TEST(tlb_shootdown_cow_reader_sees_copy_every_seed)
{
	char report[4096];

	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct cow_race c = det_run(seed, false, NULL, report, sizeof(report));

		EXPECT_EQ(c.before, OLD);
		EXPECT_EQ(c.after, NEW);
		if (report[0])
			TEST_FAIL_(1, "seed %llu: mmsim_check: %s", (unsigned long long)seed, report);
	}
}

/* Without the shootdown the same runs read the old frame, and the checker sees the stale entry. */
TEST(tlb_shootdown_missed_is_caught)
{
	char report[4096];

	for (uint64_t seed = 1; seed <= 5; seed++) {
		struct cow_race c = det_run(seed, true, NULL, report, sizeof(report));

		EXPECT_EQ(c.before, OLD);
		EXPECT_EQ(c.after, OLD);	/* the stale read */
		ASSERT_STR_CONTAINS(report, "stale entry");
	}
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long sz;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)sz + 1);
	if (buf && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[sz] = 0;
	*n = (size_t)sz;
	fclose(f);
	return buf;
}

/*
 * A shootdown is a scheduling point of a deterministic run: some seed
 * switches there, and a seed replays its trace byte for byte.
 */
TEST(tlb_shootdown_is_a_scheduling_point_and_replays)
{
	char path[64], report[4096];
	bool switched = false;

	snprintf(path, sizeof(path), "/tmp/mmsim-tlb-%d.json", (int)getpid());
	for (uint64_t seed = 1; seed <= 12; seed++) {
		size_t n1 = 0, n2 = 0;
		char *t1, *t2;

		det_run(seed, false, path, report, sizeof(report));
		t1 = slurp(path, &n1);
		det_run(seed, false, path, report, sizeof(report));
		t2 = slurp(path, &n2);
		ASSERT_TRUE(t1 && t2);
		EXPECT_TRUE(n1 == n2 && !memcmp(t1, t2, n1));
		ASSERT_STR_CONTAINS(t1, "tlb:tlb_flush");
		switched |= strstr(t1, "\"tlb shootdown\"") != NULL;
		free(t1);
		free(t2);
	}
	unlink(path);
	EXPECT_TRUE(switched);
}

/* ------------------------------------ parallel mode, plain host calls */

/*
 * In parallel mode, calls from the caller's own thread, one at a time:
 * the COW runs shared, holding CPU 0 only; CPU 1 is held by nobody, so the
 * request waits in its mailbox and the fault goes on.  The reader's next
 * access takes CPU 1 - its fast path sees the mailbox and goes the slow
 * way, which applies the request first - and reads the copy.
 */
static void parallel_host_calls(bool no_remote)
{
	struct cow_setup s;
	struct mmsim_siginfo si;
	uint64_t v = 0, w = NEW;
	int64_t remote0, recv0, hits0;

	cow_setup(&s, 1, true, no_remote);
	/* The reader's CPU caches the read-only entry; the second load is a TLB hit. */
	ASSERT_EQ(mmsim_load(s.t1, X, &v, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(v, OLD);
	hits0 = (int64_t)s.m->cpus[1].tlb.hits;
	ASSERT_EQ(mmsim_load(s.t1, X, &v, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(v, OLD);
	/* The fast path served it: translate() counted no hit. */
	EXPECT_EQ((int64_t)s.m->cpus[1].tlb.hits, hits0);
	EXPECT_EQ(s.m->cpus[1].ipi.posted, 0);
	remote0 = s.m->vm_events[NR_TLB_REMOTE_FLUSH];
	recv0 = s.m->vm_events[NR_TLB_REMOTE_FLUSH_RECEIVED];

	ASSERT_EQ(mmsim_store(s.t0, X, &w, 8, &si), MMSIM_ACCESS_OK);	/* COW on CPU 0 */
	if (!no_remote) {
		/* Posted, not applied: nobody holds CPU 1. */
		EXPECT_EQ(s.m->cpus[1].ipi.posted, 1);
		EXPECT_EQ(s.m->cpus[1].ipi.acked, 0);
		EXPECT_EQ(s.m->cpus[1].ipi.nr, 1);
		EXPECT_TRUE(tlb_ipi_pending(&s.m->cpus[1]));
		EXPECT_EQ(s.m->cpus[1].ipi.req[0].start, X);
		EXPECT_EQ(s.m->cpus[1].ipi.req[0].asid, s.t0->mm->asid);
	}
	ASSERT_EQ(mmsim_load(s.t1, X, &v, 8, &si), MMSIM_ACCESS_OK);
	if (no_remote) {
		EXPECT_EQ(v, OLD);	/* the fast path hit the stale entry */
	} else {
		EXPECT_EQ(v, NEW);
		EXPECT_TRUE(!tlb_ipi_pending(&s.m->cpus[1]));
		/* Applied by the reader's own CPU: the receipt is counted there. */
		EXPECT_EQ(s.m->cpus[1].ipi.acked, 1);
		EXPECT_EQ(mmsim_vmstat(s.m, "nr_tlb_remote_flush") - remote0, 1);
		EXPECT_EQ(mmsim_vmstat(s.m, "nr_tlb_remote_flush_received") - recv0, 1);
	}
	ASSERT_EQ(mmsim_load(s.child, X, &v, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(v, OLD);
	if (no_remote) {
		char report[4096];

		EXPECT_GT(mmsim_check(s.m, report, sizeof(report)), 0);
		ASSERT_STR_CONTAINS(report, "stale entry");
	} else {
		ASSERT_CONSISTENT(s.m);
	}
	mmsim_machine_destroy(s.m);
}

TEST(tlb_shootdown_parallel_request_waits_for_next_holder)
{
	parallel_host_calls(false);
}

TEST(tlb_shootdown_parallel_missed_is_caught)
{
	parallel_host_calls(true);
}

/* --------------------------------------------- parallel stress (TSan) */

/*
 * Parallel mode, two bodies: threads t0 (CPU 0) and t1 (CPU 1) of one
 * process.  Each round t0 forks a child (so every page is COW again; every
 * third round the child exits at once, so the writes reuse the page), and
 * each of the PAGES pages gets a writer and a reader, alternating:
 *
 *   reader: load page, expect last round's value      (read-only entry)
 *   writer: once the reader has, store this round's   (COW + shootdown)
 *   reader: once written, load page, expect it        (stale: last round's)
 *
 * Both bodies write in the same pass, so they shoot each other down at
 * once.  Flags between the bodies are host atomics, so every access to a
 * page's bytes is ordered for ThreadSanitizer; waiting is a loop of loads,
 * as a program spins, so each waiter still takes IPIs.
 */
#define SPAGES  16
#define SROUNDS 30

struct stress {
	struct mmsim_task *t[2];
	struct mmsim_task *child;
	int round;                      /* the round t0 opened                 */
	int done[2];                    /* the last round each body finished  */
	int rd[SPAGES], wr[SPAGES];     /* the round a page was read / written */
	int errors[2];
	int copies;                     /* rounds whose child stayed (COW)     */
};

static int ld(const int *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void st(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static uint64_t value(int page, int round) { return (uint64_t)round * 1000 + (uint64_t)page + 1; }

/* Spin until *p == v, loading as a program spins. */
static void spin_until(struct mmsim_task *t, const int *p, int v, int *errors)
{
	struct mmsim_siginfo si;
	uint64_t x;

	while (ld(p) != v)
		if (mmsim_load(t, SPIN, &x, 8, &si) != MMSIM_ACCESS_OK)
			(*errors)++;
}

static void stress_round(struct stress *s, int me, int r)
{
	struct mmsim_task *t = s->t[me];
	struct mmsim_siginfo si;
	uint64_t v;

	for (int j = 0; j < SPAGES; j++)
		if (((j + r) & 1) != me) {	/* reader of page j */
			if (mmsim_load(t, X + (uint64_t)j * PAGE, &v, 8, &si) != MMSIM_ACCESS_OK ||
			    v != value(j, r - 1))
				s->errors[me]++;
			st(&s->rd[j], r);
		}
	for (int j = 0; j < SPAGES; j++)
		if (((j + r) & 1) == me) {	/* writer of page j */
			spin_until(t, &s->rd[j], r, &s->errors[me]);
			v = value(j, r);
			if (mmsim_store(t, X + (uint64_t)j * PAGE, &v, 8, &si) != MMSIM_ACCESS_OK)
				s->errors[me]++;
			st(&s->wr[j], r);
		}
	for (int j = 0; j < SPAGES; j++)
		if (((j + r) & 1) != me) {
			spin_until(t, &s->wr[j], r, &s->errors[me]);
			if (mmsim_load(t, X + (uint64_t)j * PAGE, &v, 8, &si) != MMSIM_ACCESS_OK ||
			    v != value(j, r))
				s->errors[me]++;
		}
}

static void stress_body(struct mmsim_task *t, void *arg)
{
	struct stress *s = arg;
	int me = t == s->t[1];

	for (int r = 1; r <= SROUNDS; r++) {
		if (me == 0) {
			spin_until(t, &s->done[1], r - 1, &s->errors[0]);
			if (s->child)
				mmsim_task_exit(s->child);
			s->child = NULL;
			if (mmsim_fork(t, &s->child))
				s->errors[0]++;
			if (r % 3 == 0) {
				mmsim_task_exit(s->child);
				s->child = NULL;
			} else {
				s->copies++;
			}
			st(&s->round, r);
		} else {
			spin_until(t, &s->round, r, &s->errors[1]);
		}
		stress_round(s, me, r);
		st(&s->done[me], r);
	}
}

TEST(tlb_shootdown_parallel_cow_stress)
{
	struct mmsim_machine *m = boot2(1);
	struct mmsim_sched_options o = { .mode = MMSIM_SCHED_PARALLEL };
	struct mmsim_siginfo si;
	struct stress *s = calloc(1, sizeof(*s));
	int64_t remote0, recv0, reuse0;
	uint64_t posted = 0;

	ASSERT_TRUE(s != NULL);
	ASSERT_EQ(mmsim_sched_set(m, &o), 0);
	ASSERT_EQ(mmsim_task_create(m, &s->t[0]), 0);
	ASSERT_EQ(mmsim_thread_create(s->t[0], &s->t[1]), 0);
	ASSERT_EQ(mmsim_task_set_cpu(s->t[1], 1), 0);
	map_small(s->t[0], X, SPAGES);
	map_small(s->t[0], SPIN, 1);
	for (int j = 0; j < SPAGES; j++) {
		uint64_t v = value(j, 0);

		ASSERT_EQ(mmsim_store(s->t[0], X + (uint64_t)j * PAGE, &v, 8, &si), MMSIM_ACCESS_OK);
	}
	ASSERT_CONSISTENT(m);
	remote0 = mmsim_vmstat(m, "nr_tlb_remote_flush");
	recv0 = mmsim_vmstat(m, "nr_tlb_remote_flush_received");
	reuse0 = mmsim_vmstat(m, "pgreuse");
	ASSERT_EQ(mmsim_spawn(s->t[0], stress_body, s), 0);
	ASSERT_EQ(mmsim_spawn(s->t[1], stress_body, s), 0);
	ASSERT_EQ(mmsim_run_tasks(m), 0);
	EXPECT_EQ(s->errors[0], 0);
	EXPECT_EQ(s->errors[1], 0);
	ASSERT_CONSISTENT(m);
	/* Some shootdowns went by mailbox (the COW faults ran shared) ... */
	for (unsigned int c = 0; c < 2; c++) {
		EXPECT_EQ(m->cpus[c].ipi.acked, m->cpus[c].ipi.posted);
		posted += m->cpus[c].ipi.posted;
	}
	EXPECT_GT(posted, 0);
	test_diag("%llu shootdowns by IPI, %lld remote flushes in all, %d rounds with a child",
		  (unsigned long long)posted, (long long)(mmsim_vmstat(m, "nr_tlb_remote_flush") - remote0),
		  s->copies);
	/* ... and every remote flush was received exactly once (two CPUs). */
	EXPECT_GE(mmsim_vmstat(m, "nr_tlb_remote_flush") - remote0, (int64_t)posted);
	EXPECT_EQ(mmsim_vmstat(m, "nr_tlb_remote_flush_received") - recv0,
		  mmsim_vmstat(m, "nr_tlb_remote_flush") - remote0);
	/* Rounds whose child left at once reused pages. */
	EXPECT_GT(mmsim_vmstat(m, "pgreuse") - reuse0, 0);
	EXPECT_GT(s->copies, 0);
	if (s->child)
		mmsim_task_exit(s->child);
	ASSERT_CONSISTENT(m);
	free(s);
	mmsim_machine_destroy(m);
}

/* ----------------------------------------------- counters, cost, checker */

/*
 *   A = 0x60000000: 4 pages, written by a thread on CPU 0, read by one on CPU 1;
 *   mprotect(PROT_READ) shoots them down (the caller holds the machine and
 *   flushes both TLBs itself).  A process that only ran on CPU 0 flushes
 *   locally, and counts no remote flush.
 */
#define A 0x60000000ULL

TEST(tlb_shootdown_counters_and_cost)
{
	struct mmsim_machine *m = boot2(1);
	struct mmsim_task *t0, *t1, *solo;
	struct mmsim_siginfo si;
	int64_t remote0, recv0, one0, now0, d1, d2;
	uint64_t v = 7;
	char buf[65536], costs[8192], want[256];

	ASSERT_EQ(mmsim_task_create(m, &t0), 0);
	ASSERT_EQ(mmsim_thread_create(t0, &t1), 0);
	ASSERT_EQ(mmsim_task_set_cpu(t1, 1), 0);
	ASSERT_EQ(mmsim_task_create(m, &solo), 0);
	map_small(t0, A, 4);
	map_small(solo, A, 4);
	for (uint64_t i = 0; i < 4; i++) {
		ASSERT_EQ(mmsim_store(t0, A + i * PAGE, &v, 8, &si), MMSIM_ACCESS_OK);
		ASSERT_EQ(mmsim_load(t1, A + i * PAGE, &v, 8, &si), MMSIM_ACCESS_OK);
		ASSERT_EQ(mmsim_store(solo, A + i * PAGE, &v, 8, &si), MMSIM_ACCESS_OK);
	}
	ASSERT_CONSISTENT(m);
	remote0 = mmsim_vmstat(m, "nr_tlb_remote_flush");
	recv0 = mmsim_vmstat(m, "nr_tlb_remote_flush_received");
	one0 = mmsim_vmstat(m, "nr_tlb_local_flush_one");
	now0 = (int64_t)mmsim_now(m);
	ASSERT_EQ(mmsim_mprotect(t0, A, 4 * PAGE, MMSIM_PROT_READ), 0);
	d1 = (int64_t)mmsim_now(m) - now0;
	EXPECT_EQ(mmsim_vmstat(m, "nr_tlb_remote_flush") - remote0, 1);
	EXPECT_EQ(mmsim_vmstat(m, "nr_tlb_remote_flush_received") - recv0, 1);
	EXPECT_EQ(mmsim_vmstat(m, "nr_tlb_local_flush_one") - one0, 4);
	ASSERT_CONSISTENT(m);

	/* The same flush again with the IPI 1000 ns dearer costs 1000 ns more. */
	ASSERT_EQ(mmsim_mprotect(t0, A, 4 * PAGE, RW), 0);
	for (uint64_t i = 0; i < 4; i++)
		ASSERT_EQ(mmsim_load(t1, A + i * PAGE, &v, 8, &si), MMSIM_ACCESS_OK);
	ASSERT_GT(mmsim_cost_list(m, costs, sizeof(costs)), 0);
	ASSERT_STR_CONTAINS(costs, "tlb_ipi");
	ASSERT_EQ(mmsim_cost_set(m, "tlb_ipi", m->costs[COST_TLB_IPI] + 1000), 0);
	now0 = (int64_t)mmsim_now(m);
	ASSERT_EQ(mmsim_mprotect(t0, A, 4 * PAGE, MMSIM_PROT_READ), 0);
	d2 = (int64_t)mmsim_now(m) - now0;
	EXPECT_EQ(d2 - d1, 1000);

	/* One CPU only: a local flush, no IPI. */
	remote0 = mmsim_vmstat(m, "nr_tlb_remote_flush");
	one0 = mmsim_vmstat(m, "nr_tlb_local_flush_one");
	ASSERT_EQ(mmsim_mprotect(solo, A, 4 * PAGE, MMSIM_PROT_READ), 0);
	EXPECT_EQ(mmsim_vmstat(m, "nr_tlb_remote_flush"), remote0);
	EXPECT_EQ(mmsim_vmstat(m, "nr_tlb_local_flush_one") - one0, 4);

	/* /proc/vmstat lists all four, in Linux's place (after balloon_migrate). */
	ASSERT_GT(mmsim_proc_read(m, NULL, "vmstat", buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "balloon_migrate 0\nnr_tlb_remote_flush %lld\n"
		 "nr_tlb_remote_flush_received %lld\nnr_tlb_local_flush_all 0\nnr_tlb_local_flush_one %lld\n",
		 (long long)mmsim_vmstat(m, "nr_tlb_remote_flush"),
		 (long long)mmsim_vmstat(m, "nr_tlb_remote_flush_received"),
		 (long long)mmsim_vmstat(m, "nr_tlb_local_flush_one"));
	ASSERT_STR_CONTAINS(buf, want);
	/* Three mprotects of the two-CPU process reached CPU 1; the solo one did not. */
	EXPECT_EQ(mmsim_vmstat(m, "nr_tlb_remote_flush"), 3);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* mmsim_check validates the mailboxes: a request left behind, an unanswered post. */
TEST(tlb_shootdown_checker_finds_pending_requests)
{
	struct mmsim_machine *m = boot2(1);
	struct tlb_mailbox *mb = &m->cpus[1].ipi;
	struct mmsim_task *t;
	char report[4096];
	int64_t recv0;

	ASSERT_EQ(mmsim_task_create(m, &t), 0);
	ASSERT_CONSISTENT(m);
	recv0 = mmsim_vmstat(m, "nr_tlb_remote_flush_received");
	/* A request nobody applied. */
	mb->req[0] = (struct tlb_flush_req){ .start = X, .end = X + PAGE, .asid = t->mm->asid,
					     .kind = TLB_REQ_PAGES };
	mb->nr = 1;
	mb->posted = 1;
	mb->pending = 1;
	EXPECT_GT(mmsim_check(m, report, sizeof(report)), 0);
	ASSERT_STR_CONTAINS(report, "cpu 1: 1 TLB flush requests (and 0 more) left pending");
	ASSERT_STR_CONTAINS(report, "cpu 1: 1 TLB flush requests posted but 0 acknowledged");
	/* The holder's handler applies and acknowledges it. */
	tlb_ipi_handle(m, &m->cpus[1]);
	EXPECT_EQ(mb->acked, 1);
	EXPECT_EQ(mmsim_vmstat(m, "nr_tlb_remote_flush_received") - recv0, 1);
	ASSERT_CONSISTENT(m);
	/* An acknowledgement of something never posted. */
	mb->acked = 5;
	EXPECT_GT(mmsim_check(m, report, sizeof(report)), 0);
	ASSERT_STR_CONTAINS(report, "posted but 5 acknowledged");
	mb->acked = 1;
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}
