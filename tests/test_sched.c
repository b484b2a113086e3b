// SPDX-License-Identifier: MIT
/*
 * tests/test_sched.c - task bodies under the deterministic scheduler.
 *
 * Each test spawns bodies (plain functions playing a task) and runs them
 * with mmsim_run_tasks(): one runs at a time, switching at lock operations,
 * kernel entries and accesses, the seed choosing.  The tests show that a
 * seed is one interleaving (same seed, same trace bytes; other seeds, other
 * orders), that concurrent faults on one page resolve to one mapping, that
 * an access to a page under migration sleeps until the move ends, and that
 * a run nobody can finish is reported as a deadlock naming who waits.
 *
 *   0x10000000  +--------+  one page both bodies fault on
 *               | shared |
 *   0x10001000  +--------+
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "kernel/locking.h"
#include "mm/internal.h"

#define ADDR   0x10000000ULL
#define RW     (MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define ANON   (MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)

static struct mmsim_machine *boot(const char *dts, uint64_t seed, unsigned int cpus)
{
	struct mmsim_options o = { .seed = seed, .devicetree = dts, .nr_cpus = cpus };
	struct mmsim_machine *m = NULL;

	if (mmsim_machine_create(&o, &m))
		TEST_FAIL_(1, "boot: %s", mmsim_strerror_last());
	return m;
}

static struct mmsim_task *task(struct mmsim_machine *m, unsigned int cpu)
{
	struct mmsim_task *t = NULL;

	ASSERT_EQ(mmsim_task_create(m, &t), 0);
	ASSERT_EQ(mmsim_task_set_cpu(t, cpu), 0);
	return t;
}

static void set_seed(struct mmsim_machine *m, uint64_t seed, int policy)
{
	struct mmsim_sched_options o = { .seed = seed, .policy = policy };

	ASSERT_EQ(mmsim_sched_set(m, &o), 0);
}

/* ------------------------------------------------ two writers, one page */

/* Each body writes its own value into the shared page, then reads it back. */
struct writer {
	uint64_t value;
	uint64_t seen;
	int ret;
};

static void writer_body(struct mmsim_task *t, void *arg)
{
	struct writer *w = arg;
	struct mmsim_siginfo si;

	w->ret = mmsim_store(t, ADDR, &w->value, 8, &si);
	if (!w->ret)
		w->ret = mmsim_load(t, ADDR + 8, &w->seen, 8, &si);
}

/*
 * Two threads of one process fault on the same empty PTE (the VMA has no
 * anon_vma yet, so both go through mmap_lock and race in the allocation):
 * whatever the interleaving, one page ends up mapped and the value is the
 * last writer's.  Returns that value.
 */
static uint64_t two_writers(uint64_t seed, int policy, uint64_t *steps)
{
	struct mmsim_machine *m = boot(NULL, 1, 2);
	struct mmsim_task *a = task(m, 0), *b = NULL;
	struct writer wa = { .value = 0xaaaa }, wb = { .value = 0xbbbb };
	struct mmsim_siginfo si;
	uint64_t v = 0, entry = 0;

	ASSERT_EQ(mmsim_thread_create(a, &b), 0);
	ASSERT_EQ(mmsim_task_set_cpu(b, 1), 0);
	ASSERT_EQ(mmsim_mmap(a, ADDR, PAGE, RW, ANON, -1, 0), (int64_t)ADDR);
	set_seed(m, seed, policy);
	ASSERT_EQ(mmsim_spawn(a, writer_body, &wa), 0);
	ASSERT_EQ(mmsim_spawn(b, writer_body, &wb), 0);
	ASSERT_EQ(mmsim_run_tasks(m), 0);
	EXPECT_EQ(wa.ret, MMSIM_ACCESS_OK);
	EXPECT_EQ(wb.ret, MMSIM_ACCESS_OK);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_load(a, ADDR, &v, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_TRUE(v == 0xaaaa || v == 0xbbbb);
	ASSERT_EQ(mmsim_pagemap(a, ADDR, &entry), 0);
	EXPECT_TRUE(entry >> 63);			/* present */
	EXPECT_EQ(mmsim_vmstat(m, "nr_anon_pages"), 1);	/* one page, not two */
	*steps = mmsim_sched_steps(m);
	mmsim_machine_destroy(m);
	return v;
}

TEST(sched_two_faults_one_page_every_seed_consistent)
{
	int seen_a = 0, seen_b = 0;
	uint64_t steps;

	for (uint64_t seed = 1; seed <= 40; seed++) {
		uint64_t v = two_writers(seed, seed & 1 ? MMSIM_SCHED_RANDOM : MMSIM_SCHED_PCT, &steps);

		seen_a += v == 0xaaaa;
		seen_b += v == 0xbbbb;
		EXPECT_GT(steps, 4);
	}
	/* The schedule really varies: both orders of the two stores happen. */
	EXPECT_GT(seen_a, 0);
	EXPECT_GT(seen_b, 0);
}

TEST(sched_same_seed_same_interleaving)
{
	uint64_t s1, s2;

	for (uint64_t seed = 1; seed <= 10; seed++) {
		uint64_t v1 = two_writers(seed, MMSIM_SCHED_RANDOM, &s1);
		uint64_t v2 = two_writers(seed, MMSIM_SCHED_RANDOM, &s2);

		EXPECT_EQ(v1, v2);
		EXPECT_EQ(s1, s2);
	}
}

/* ------------------------------------------------------ the trace file */

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

/* One traced run of two processes faulting side by side; returns the file's bytes. */
static char *traced_run(uint64_t seed, const char *path, size_t *n)
{
	struct mmsim_machine *m = boot(NULL, 1, 2);
	struct mmsim_task *a = task(m, 0), *b = task(m, 1);
	struct writer wa = { .value = 1 }, wb = { .value = 2 };

	ASSERT_EQ(mmsim_mmap(a, ADDR, PAGE, RW, ANON, -1, 0), (int64_t)ADDR);
	ASSERT_EQ(mmsim_mmap(b, ADDR, PAGE, RW, ANON, -1, 0), (int64_t)ADDR);
	set_seed(m, seed, MMSIM_SCHED_RANDOM);
	ASSERT_EQ(mmsim_trace_file(m, path), 0);
	ASSERT_EQ(mmsim_spawn(a, writer_body, &wa), 0);
	ASSERT_EQ(mmsim_spawn(b, writer_body, &wb), 0);
	ASSERT_EQ(mmsim_run_tasks(m), 0);
	ASSERT_EQ(mmsim_trace_file_close(m), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
	return slurp(path, n);
}

TEST(sched_trace_is_byte_identical_per_seed)
{
	char path[64];
	size_t n1, n2, n3;
	char *t1, *t2, *t3;

	snprintf(path, sizeof(path), "/tmp/mmsim-trace-%d.json", (int)getpid());
	t1 = traced_run(7, path, &n1);
	t2 = traced_run(7, path, &n2);
	t3 = traced_run(8, path, &n3);
	unlink(path);
	ASSERT_TRUE(t1 && t2 && t3);
	EXPECT_EQ(n1, n2);
	EXPECT_TRUE(n1 == n2 && !memcmp(t1, t2, n1));
	/* A Chrome/Perfetto trace: the object form, run slices, lock events, faults. */
	ASSERT_STR_CONTAINS(t1, "{\"displayTimeUnit\":\"ns\"");
	ASSERT_STR_CONTAINS(t1, "\"ph\":\"X\",\"cat\":\"sched\",\"name\":\"run\"");
	ASSERT_STR_CONTAINS(t1, "\"name\":\"lock\"");
	ASSERT_STR_CONTAINS(t1, "exceptions:page_fault_user");
	ASSERT_STR_CONTAINS(t1, "\"name\":\"thread_name\"");
	EXPECT_TRUE(n1 != n3 || memcmp(t1, t3, n1));
	free(t1);
	free(t2);
	free(t3);
}

/* ------------------------------------------- an access during migration */

struct mover {
	uint64_t addr;
	int status;
	int64_t ret;
};

static void mover_body(struct mmsim_task *t, void *arg)
{
	struct mover *mv = arg;
	int node = 1;

	mv->ret = mmsim_move_pages(t, 1, &mv->addr, &node, &mv->status, MMSIM_MPOL_MF_MOVE);
}

static void toucher_body(struct mmsim_task *t, void *arg)
{
	struct writer *w = arg;
	struct mmsim_siginfo si;

	for (uint64_t i = 0; i < 8 && !w->ret; i++)
		w->ret = mmsim_store(t, ADDR + 8 * i, &w->value, 8, &si);
}

/*
 * move_pages moves the page to node 1 while a second thread keeps storing
 * to it.  A store that finds the migration entry sleeps until the move ends:
 * no store is lost and no body sees BLOCKED, whatever the seed.
 */
TEST(sched_store_during_migration_sleeps_and_lands)
{
	int slept = 0;

	for (uint64_t seed = 1; seed <= 30; seed++) {
		struct mmsim_machine *m = boot("examples/numa-4g.dts", 1, 0);
		struct mmsim_task *a = task(m, 0), *b = NULL;
		struct mover mv = { .addr = ADDR };
		struct writer w = { .value = 0x5eed0000 + seed };
		struct mmsim_siginfo si;
		char path[64];
		size_t n;
		char *trace;

		ASSERT_EQ(mmsim_thread_create(a, &b), 0);
		ASSERT_EQ(mmsim_mmap(a, ADDR, PAGE, RW, ANON, -1, 0), (int64_t)ADDR);
		ASSERT_EQ(mmsim_fill(a, ADDR, 0x11, PAGE, &si), MMSIM_ACCESS_OK);
		set_seed(m, seed, MMSIM_SCHED_RANDOM);
		snprintf(path, sizeof(path), "/tmp/mmsim-mig-%d.json", (int)getpid());
		ASSERT_EQ(mmsim_trace_file(m, path), 0);
		ASSERT_EQ(mmsim_spawn(a, mover_body, &mv), 0);
		ASSERT_EQ(mmsim_spawn(b, toucher_body, &w), 0);
		ASSERT_EQ(mmsim_run_tasks(m), 0);
		mmsim_trace_file_close(m);
		trace = slurp(path, &n);
		unlink(path);
		slept += trace && strstr(trace, "\"name\":\"sleep\"") != NULL;
		free(trace);
		EXPECT_EQ(mv.ret, 0);
		EXPECT_EQ(mv.status, 1);
		EXPECT_EQ(w.ret, MMSIM_ACCESS_OK);
		for (uint64_t i = 0; i < 8; i++) {
			uint64_t v = 0;

			ASSERT_EQ(mmsim_load(a, ADDR + 8 * i, &v, 8, &si), MMSIM_ACCESS_OK);
			EXPECT_EQ(v, w.value);
		}
		ASSERT_CONSISTENT(m);
		mmsim_machine_destroy(m);
	}
	/* Some schedule put a store inside the migration window. */
	EXPECT_GT(slept, 0);
}

/* ------------------------------------ kernel paths that run side by side */

/*
 * These tests come from exploring the races of spec §5.6
 * (tests/test_races_explored.c) with the fixes on: kernel paths that were
 * right one at a time and wrong side by side.
 */

static uint64_t pfn_at(struct mmsim_task *t, uint64_t addr)
{
	pteval_t *ptep = pte_offset(t->mm, addr);

	ASSERT_TRUE(ptep && pte_present(*ptep));
	return pte_pfn(*ptep);
}

struct contig {
	struct mmsim_machine *m;
	uint64_t pfn;           /* the frame to claim or evacuate */
	int mt;                 /* its pageblock's type           */
	struct page *page;      /* the page to free or migrate    */
	int ret;
};

/* alloc_contig_range of one frame, as a reservation does, then give it back. */
static void contig_body(struct mmsim_task *t, void *arg)
{
	struct contig *c = arg;

	(void)t;
	c->ret = alloc_contig_range(c->m, c->pfn, c->pfn + 1, c->mt);
	if (!c->ret)
		free_contig_range(c->m, c->pfn, 1);
}

static void free_body(struct mmsim_task *t, void *arg)
{
	struct contig *c = arg;

	(void)t;
	__free_pages(c->m, c->page, 0);
}

/*
 * One CPU frees a page of a tag-storage pageblock while the other claims
 * another frame of it with alloc_contig_range, which makes the pageblock
 * MIGRATE_ISOLATE meanwhile.  The free waits for zone->lock, and must put
 * the page on the list of the type the pageblock has then, not the one it
 * had before: otherwise the lists and their counters part ways (I5).
 */
TEST(sched_free_while_pageblock_isolated_keeps_free_lists)
{
	for (uint64_t seed = 1; seed <= 100; seed++) {
		struct mmsim_machine *m = boot(NULL, 1, 2);
		struct mmsim_task *k = task(m, 0), *f = task(m, 1);
		uint64_t tag = m->mte.regions[0].tag_start + 0x100;
		struct contig claim = { .m = m, .pfn = tag, .mt = MIGRATE_METADATA };

		ASSERT_EQ(alloc_contig_range(m, tag + 1, tag + 2, MIGRATE_METADATA), 0);
		claim.page = pfn_to_page(m, tag + 1);
		set_seed(m, seed, seed & 1 ? MMSIM_SCHED_RANDOM : MMSIM_SCHED_PCT);
		ASSERT_EQ(mmsim_spawn(k, contig_body, &claim), 0);
		ASSERT_EQ(mmsim_spawn(f, free_body, &claim), 0);
		ASSERT_EQ(mmsim_run_tasks(m), 0);
		EXPECT_EQ(claim.ret, 0);
		EXPECT_EQ(get_pageblock_migratetype(m, tag), MIGRATE_METADATA);
		ASSERT_CONSISTENT(m);
		mmsim_machine_destroy(m);
	}
}

/* A kernel thread migrates the page (as move_pages would), dropping its reference after. */
static void migrate_body(struct mmsim_task *t, void *arg)
{
	struct contig *c = arg;

	(void)t;
	c->ret = migrate_page_to_node(c->m, c->page, -1, GFP_HIGHUSER_MOVABLE);
}

/*
 * One CPU migrates a page while the other's alloc_contig_range evacuates
 * the frame it sits in: two migrations of one page.  The one that gets the
 * page lock second finds it already moved and must leave it alone; the
 * data is in one place afterwards and nothing is left half-done.
 */
TEST(sched_two_migrations_of_one_page_move_it_once)
{
	for (uint64_t seed = 1; seed <= 100; seed++) {
		struct mmsim_machine *m = boot(NULL, 1, 2);
		struct mmsim_task *a = task(m, 0), *k = task(m, 0), *e = task(m, 1);
		struct contig mig = { .m = m }, evac = { .m = m, .mt = MIGRATE_MOVABLE };
		struct mmsim_siginfo si;
		uint64_t v = 0;

		ASSERT_EQ(mmsim_mmap(a, ADDR, PAGE, RW, ANON, -1, 0), (int64_t)ADDR);
		ASSERT_EQ(mmsim_fill(a, ADDR, 0x42, PAGE, &si), MMSIM_ACCESS_OK);
		evac.pfn = pfn_at(a, ADDR);
		mig.page = pfn_to_page(m, evac.pfn);
		set_seed(m, seed, seed & 1 ? MMSIM_SCHED_RANDOM : MMSIM_SCHED_PCT);
		ASSERT_EQ(mmsim_spawn(k, migrate_body, &mig), 0);
		ASSERT_EQ(mmsim_spawn(e, contig_body, &evac), 0);
		ASSERT_EQ(mmsim_run_tasks(m), 0);
		ASSERT_EQ(mmsim_load(a, ADDR + PAGE - 8, &v, 8, &si), MMSIM_ACCESS_OK);
		EXPECT_EQ(v, 0x4242424242424242ULL);
		/* Moved at least once, by one or the other. */
		EXPECT_NE(pfn_at(a, ADDR), evac.pfn);
		ASSERT_CONSISTENT(m);
		mmsim_machine_destroy(m);
	}
}

/* Hold the pageblock of c->pfn isolated across a few zone->lock round trips, as a migration would. */
static void isolate_body(struct mmsim_task *t, void *arg)
{
	struct contig *c = arg;
	struct zone *z = page_zone(c->m, pfn_to_page(c->m, c->pfn));

	(void)t;
	spin_lock(&z->lock);
	move_freepages_block(c->m, c->pfn, MIGRATE_ISOLATE);
	spin_unlock(&z->lock);
	for (int i = 0; i < 20; i++) {
		spin_lock(&z->lock);
		spin_unlock(&z->lock);
	}
	spin_lock(&z->lock);
	move_freepages_block(c->m, c->pfn, c->mt);
	spin_unlock(&z->lock);
}

static void load_body(struct mmsim_task *t, void *arg)
{
	struct contig *c = arg;
	struct mmsim_siginfo si;
	uint64_t v = 0;

	c->ret = mmsim_load(t, ADDR, &v, 8, &si);
	if (!c->ret && v != 0x4242424242424242ULL)
		c->ret = -1;
}

/*
 * A thread touches M, data that compaction moved into tag storage, mapped
 * METADATA_NONE (mprotect(PROT_MTE)), while another CPU holds M's
 * pageblock isolated: the fault asks to be retried for as long as the
 * isolation lasts, and the access comes back each time.  It must complete
 * once the isolation ends, however many times it came back meanwhile.
 */
TEST(sched_fault_retried_while_pageblock_isolated_completes)
{
	for (uint64_t seed = 1; seed <= 100; seed++) {
		struct mmsim_machine *m = boot(NULL, 1, 2);
		struct mmsim_task *a = task(m, 0), *k = task(m, 1);
		struct contig hold = { .m = m, .mt = MIGRATE_METADATA }, touch = { .m = m };
		struct mmsim_siginfo si;

		ASSERT_EQ(mmsim_mmap(a, ADDR, PAGE, RW, ANON, -1, 0), (int64_t)ADDR);
		ASSERT_EQ(mmsim_fill(a, ADDR, 0x42, PAGE, &si), MMSIM_ACCESS_OK);
		ASSERT_EQ(mmsim_sysctl_write(m, "vm/compact_memory", "1"), 0);
		hold.pfn = pfn_at(a, ADDR);
		ASSERT_EQ(get_pageblock_migratetype(m, hold.pfn), MIGRATE_METADATA);
		ASSERT_EQ(mmsim_mprotect(a, ADDR, PAGE, RW | MMSIM_PROT_MTE), 0);
		set_seed(m, seed, seed & 1 ? MMSIM_SCHED_RANDOM : MMSIM_SCHED_PCT);
		ASSERT_EQ(mmsim_spawn(a, load_body, &touch), 0);
		ASSERT_EQ(mmsim_spawn(k, isolate_body, &hold), 0);
		ASSERT_EQ(mmsim_run_tasks(m), 0);
		EXPECT_EQ(touch.ret, MMSIM_ACCESS_OK);
		/* The data left tag storage (a METADATA page is never mapped tagged). */
		EXPECT_NE(get_pageblock_migratetype(m, pfn_at(a, ADDR)), MIGRATE_METADATA);
		ASSERT_CONSISTENT(m);
		mmsim_machine_destroy(m);
	}
}

/* --------------------------------------------------- deadlock reported */

/*
 * Two kernel paths that take two mutexes in opposite orders (the model has
 * none: this one is built for the test from the kernel's own lock type).
 * Some schedule lets each take its first lock: nobody can go on, and the
 * run ends with -EDEADLK naming what each task waits for.
 */
static struct mutex lock_a = MUTEX_INIT("lock_a"), lock_b = MUTEX_INIT("lock_b");

static void ab_body(struct mmsim_task *t, void *arg)
{
	(void)t;
	(void)arg;
	mutex_lock(&lock_a);
	mutex_lock(&lock_b);
	mutex_unlock(&lock_b);
	mutex_unlock(&lock_a);
}

static void ba_body(struct mmsim_task *t, void *arg)
{
	(void)t;
	(void)arg;
	mutex_lock(&lock_b);
	mutex_lock(&lock_a);
	mutex_unlock(&lock_a);
	mutex_unlock(&lock_b);
}

TEST(sched_abba_deadlock_found_and_reported)
{
	int deadlocks = 0, clean = 0;

	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct mmsim_machine *m = boot(NULL, 1, 2);
		struct mmsim_task *a = task(m, 0), *b = task(m, 1);
		int ret;

		lock_a.owner = lock_b.owner = NULL;
		set_seed(m, seed, MMSIM_SCHED_RANDOM);
		ASSERT_EQ(mmsim_spawn(a, ab_body, NULL), 0);
		ASSERT_EQ(mmsim_spawn(b, ba_body, NULL), 0);
		ret = mmsim_run_tasks(m);
		if (ret) {
			EXPECT_EQ(ret, -MMSIM_EDEADLK);
			ASSERT_STR_CONTAINS(mmsim_strerror_last(), "waits for lock_a");
			ASSERT_STR_CONTAINS(mmsim_strerror_last(), "waits for lock_b");
			deadlocks++;
		} else {
			EXPECT_TRUE(!lock_a.owner && !lock_b.owner);
			clean++;
		}
		mmsim_machine_destroy(m);
	}
	EXPECT_GT(deadlocks, 0);
	EXPECT_GT(clean, 0);
}

/* ------------------------------------------------------- bad arguments */

TEST(sched_bad_arguments)
{
	struct mmsim_machine *m = boot(NULL, 1, 2);
	struct mmsim_task *t = task(m, 0);
	struct mmsim_sched_options o = { .mode = 7 };

	EXPECT_EQ(mmsim_sched_set(m, &o), -MMSIM_EINVAL);
	ASSERT_STR_CONTAINS(mmsim_strerror_last(), "mode 7");
	o.mode = MMSIM_SCHED_DETERMINISTIC;
	o.policy = 9;
	EXPECT_EQ(mmsim_sched_set(m, &o), -MMSIM_EINVAL);
	ASSERT_STR_CONTAINS(mmsim_strerror_last(), "policy 9");
	EXPECT_EQ(mmsim_sched_set(NULL, &o), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_spawn(NULL, writer_body, NULL), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_spawn(t, NULL, NULL), -MMSIM_EINVAL);
	ASSERT_EQ(mmsim_spawn(t, writer_body, NULL), 0);
	EXPECT_EQ(mmsim_spawn(t, writer_body, NULL), -MMSIM_EBUSY);
	EXPECT_EQ(mmsim_run_tasks(NULL), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_trace_file(m, "/nonexistent-dir/x.json"), -MMSIM_EIO);
	ASSERT_STR_CONTAINS(mmsim_strerror_last(), "/nonexistent-dir/x.json");
	mmsim_machine_destroy(m);	/* the queued body is dropped, never run */
}

/* --------------------------------------------------- parallel mode stress */

/*
 * Parallel mode: two processes of two threads each, on two CPUs, every
 * thread on its own host thread.  Each thread works in a private window of
 * its process's shared 64-page area (faults on neighbouring pages race in
 * the same PTE table), mprotects, drops and refills it, and checks every
 * byte it wrote.  Afterwards the machine must be consistent.  Under
 * ThreadSanitizer (make SAN=tsan) this is the data-race check of the
 * kernel locking.
 *
 *   AREA  +-- thread 0: pages 0..15 --+-- thread 1: pages 16..31 --+ ...
 */
#define AREA    0x30000000ULL
#define WINDOW  16

struct stress {
	uint64_t base;                  /* this thread's window                   */
	uint64_t seed;
	int errors;
};

static void stress_body(struct mmsim_task *t, void *arg)
{
	struct stress *st = arg;
	struct mmsim_siginfo si;
	uint64_t x = st->seed | 1;

	for (int round = 0; round < 40; round++) {
		uint64_t page = (x >> 7) % WINDOW, addr = st->base + page * PAGE, v = x, got = 0;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch (round % 4) {
		case 0:
		case 1:
			if (mmsim_store(t, addr, &v, 8, &si) != MMSIM_ACCESS_OK ||
			    mmsim_load(t, addr, &got, 8, &si) != MMSIM_ACCESS_OK || got != v)
				st->errors++;
			break;
		case 2:
			if (mmsim_madvise(t, addr, PAGE, MMSIM_MADV_DONTNEED) ||
			    mmsim_load(t, addr, &got, 8, &si) != MMSIM_ACCESS_OK || got != 0)
				st->errors++;
			break;
		default:
			if (mmsim_mprotect(t, st->base, WINDOW * PAGE, MMSIM_PROT_READ) ||
			    mmsim_mprotect(t, st->base, WINDOW * PAGE, RW))
				st->errors++;
			break;
		}
	}
}

TEST(sched_parallel_threads_and_processes_stress)
{
	struct mmsim_machine *m = boot(NULL, 1, 2);
	struct mmsim_sched_options o = { .mode = MMSIM_SCHED_PARALLEL };
	struct mmsim_task *t[4] = { 0 };
	struct stress st[4];

	ASSERT_EQ(mmsim_sched_set(m, &o), 0);
	ASSERT_EQ(mmsim_task_create(m, &t[0]), 0);
	ASSERT_EQ(mmsim_task_create(m, &t[2]), 0);
	ASSERT_EQ(mmsim_thread_create(t[0], &t[1]), 0);
	ASSERT_EQ(mmsim_thread_create(t[2], &t[3]), 0);
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(mmsim_task_set_cpu(t[i], (unsigned int)i % 2), 0);
		if (i % 2 == 0)
			ASSERT_EQ(mmsim_mmap(t[i], AREA, 2 * WINDOW * PAGE, RW, ANON, -1, 0), (int64_t)AREA);
		st[i] = (struct stress){ .base = AREA + (uint64_t)(i % 2) * WINDOW * PAGE, .seed = 77 + (uint64_t)i };
		ASSERT_EQ(mmsim_spawn(t[i], stress_body, &st[i]), 0);
	}
	ASSERT_EQ(mmsim_run_tasks(m), 0);
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(st[i].errors, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * The C API driven straight from the caller's own host threads, no
 * mmsim_run_tasks: once the machine is in parallel mode each call runs as a
 * body for its length.  Same four tasks and windows as above; each host
 * thread also faults in a window of fresh pages of its own (the shared
 * anonymous-fault path) and checks that its process's rss counts them.
 */
struct host_thread {
	struct mmsim_task *t;
	struct stress st;
	uint64_t fresh;                 /* a VMA of FRESH pages only this thread touches */
	int errors;
};
#define FRESH 64

static void *host_thread_fn(void *arg)
{
	struct host_thread *h = arg;
	struct mmsim_siginfo si;

	stress_body(h->t, &h->st);
	for (uint64_t p = 0; p < FRESH; p++) {
		uint64_t v = h->fresh + p, got = 0;

		if (mmsim_store(h->t, h->fresh + p * PAGE, &v, 8, &si) != MMSIM_ACCESS_OK ||
		    mmsim_load(h->t, h->fresh + p * PAGE, &got, 8, &si) != MMSIM_ACCESS_OK || got != v)
			h->errors++;
	}
	return NULL;
}

TEST(sched_host_threads_call_the_api_in_parallel)
{
	struct mmsim_machine *m = boot(NULL, 1, 2);
	struct mmsim_sched_options o = { .mode = MMSIM_SCHED_PARALLEL };
	struct host_thread h[4];
	pthread_t host[4];
	char report[256];
	int64_t faults0;

	memset(h, 0, sizeof(h));
	ASSERT_EQ(mmsim_sched_set(m, &o), 0);
	ASSERT_EQ(mmsim_task_create(m, &h[0].t), 0);
	ASSERT_EQ(mmsim_task_create(m, &h[2].t), 0);
	ASSERT_EQ(mmsim_thread_create(h[0].t, &h[1].t), 0);
	ASSERT_EQ(mmsim_thread_create(h[2].t, &h[3].t), 0);
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(mmsim_task_set_cpu(h[i].t, (unsigned int)i % 2), 0);
		if (i % 2 == 0)
			ASSERT_EQ(mmsim_mmap(h[i].t, AREA, 2 * WINDOW * PAGE, RW, ANON, -1, 0), (int64_t)AREA);
		h[i].fresh = AREA + 0x1000000ULL * (uint64_t)(i + 1);
		ASSERT_EQ(mmsim_mmap(h[i].t, h[i].fresh, FRESH * PAGE, RW, ANON, -1, 0), (int64_t)h[i].fresh);
		h[i].st = (struct stress){ .base = AREA + (uint64_t)(i % 2) * WINDOW * PAGE, .seed = 91 + (uint64_t)i };
	}
	faults0 = mmsim_vmstat(m, "pgfault");
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(pthread_create(&host[i], NULL, host_thread_fn, &h[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(host[i], NULL);
	for (int i = 0; i < 4; i++) {
		EXPECT_EQ(h[i].st.errors, 0);
		EXPECT_EQ(h[i].errors, 0);
	}
	/* Every fresh page faulted exactly once, whichever CPU counted it. */
	EXPECT_GE(mmsim_vmstat(m, "pgfault") - faults0, 4 * FRESH);
	EXPECT_EQ(mmsim_check(m, report, sizeof(report)), 0);
	for (int i = 0; i < 4; i += 2) {
		char status[4096];
		ssize_t n = mmsim_proc_read(m, h[i].t, "self/status", status, sizeof(status));
		unsigned long long anon = 0;
		const char *line;

		ASSERT_GT(n, 0);
		line = strstr(status, "RssAnon:");
		ASSERT_TRUE(line != NULL);
		sscanf(line, "RssAnon: %llu", &anon);
		/* Both threads' fresh windows are resident in this process. */
		EXPECT_GE(anon, 2 * FRESH * 4);
	}
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* The same bodies, deterministic: every seed ends consistent with no wrong byte. */
TEST(sched_deterministic_stress_many_seeds)
{
	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct mmsim_machine *m = boot(NULL, 1, 2);
		struct mmsim_task *t[4] = { 0 };
		struct stress st[4];

		set_seed(m, seed, seed & 1 ? MMSIM_SCHED_PCT : MMSIM_SCHED_RANDOM);
		ASSERT_EQ(mmsim_task_create(m, &t[0]), 0);
		ASSERT_EQ(mmsim_task_create(m, &t[2]), 0);
		ASSERT_EQ(mmsim_thread_create(t[0], &t[1]), 0);
		ASSERT_EQ(mmsim_thread_create(t[2], &t[3]), 0);
		for (int i = 0; i < 4; i++) {
			ASSERT_EQ(mmsim_task_set_cpu(t[i], (unsigned int)i % 2), 0);
			if (i % 2 == 0)
				ASSERT_EQ(mmsim_mmap(t[i], AREA, 2 * WINDOW * PAGE, RW, ANON, -1, 0), (int64_t)AREA);
			st[i] = (struct stress){ .base = AREA + (uint64_t)(i % 2) * WINDOW * PAGE,
						 .seed = seed * 10 + (uint64_t)i };
			ASSERT_EQ(mmsim_spawn(t[i], stress_body, &st[i]), 0);
		}
		ASSERT_EQ(mmsim_run_tasks(m), 0);
		for (int i = 0; i < 4; i++)
			EXPECT_EQ(st[i].errors, 0);
		ASSERT_CONSISTENT(m);
		mmsim_machine_destroy(m);
	}
}

/*
 * Parallel faults batch new pages per CPU before they join the LRU (Linux's
 * folio_add_lru), and taking the machine whole drains every batch.  Two
 * processes on two CPUs fault LRU_PAGES pages each - not a multiple of the
 * batch, so both CPUs end the run with pages still batched - and then:
 * the run's end has put every page on the list with PG_lru, the counter
 * says so, and MADV_PAGEOUT (which reclaims only listed pages) swaps all of
 * them out.  The same from host threads, where nothing ends a run: the
 * next call that takes the whole machine drains.
 *
 *   LRU_AREA  +---------------- LRU_PAGES pages ----------------+
 *             | one write fault each, in each of the 2 processes |
 */
#define LRU_AREA  0x40000000ULL
#define LRU_PAGES 100

static void lru_fault_body(struct mmsim_task *t, void *arg)
{
	struct mmsim_siginfo si;
	int *errors = arg;

	for (uint64_t p = 0; p < LRU_PAGES; p++) {
		uint64_t v = p + 1;

		if (mmsim_store(t, LRU_AREA + p * PAGE, &v, 8, &si) != MMSIM_ACCESS_OK)
			(*errors)++;
	}
}

static void *lru_fault_host(void *arg)
{
	void **a = arg;

	lru_fault_body(a[0], a[1]);
	return NULL;
}

static void expect_all_listed(struct mmsim_machine *m, struct mmsim_task *t)
{
	for (uint64_t p = 0; p < LRU_PAGES; p++)
		EXPECT_TRUE(pfn_to_page(m, pfn_at(t, LRU_AREA + p * PAGE))->flags & PG_lru);
}

static void expect_paged_out(struct mmsim_machine *m, struct mmsim_task *t)
{
	int64_t out0 = mmsim_vmstat(m, "pswpout");
	struct mmsim_siginfo si;
	uint64_t v = 0;

	ASSERT_EQ(mmsim_madvise(t, LRU_AREA, LRU_PAGES * PAGE, MMSIM_MADV_PAGEOUT), 0);
	EXPECT_EQ(mmsim_vmstat(m, "pswpout") - out0, LRU_PAGES);
	ASSERT_EQ(mmsim_load(t, LRU_AREA + 7 * PAGE, &v, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(v, 8);
}

TEST(sched_parallel_lru_batches_drain_into_the_lists)
{
	struct mmsim_options opt = { .seed = 1, .nr_cpus = 2, .swap_bytes = 64ULL << 20 };
	struct mmsim_sched_options o = { .mode = MMSIM_SCHED_PARALLEL };
	struct mmsim_machine *m = NULL;
	struct mmsim_task *t[2];
	int errors[2] = { 0, 0 };
	int64_t inactive0;

	ASSERT_EQ(mmsim_machine_create(&opt, &m), 0);
	ASSERT_EQ(mmsim_sched_set(m, &o), 0);
	for (int i = 0; i < 2; i++) {
		t[i] = task(m, (unsigned int)i);
		ASSERT_EQ(mmsim_mmap(t[i], LRU_AREA, LRU_PAGES * PAGE, RW, ANON, -1, 0), (int64_t)LRU_AREA);
		ASSERT_EQ(mmsim_madvise(t[i], LRU_AREA, LRU_PAGES * PAGE, MMSIM_MADV_NOHUGEPAGE), 0);
	}
	inactive0 = mmsim_vmstat(m, "nr_inactive_anon");

	/* Bodies: the run's end drains. */
	ASSERT_EQ(mmsim_spawn(t[0], lru_fault_body, &errors[0]), 0);
	ASSERT_EQ(mmsim_spawn(t[1], lru_fault_body, &errors[1]), 0);
	ASSERT_EQ(mmsim_run_tasks(m), 0);
	EXPECT_EQ(errors[0] + errors[1], 0);
	for (unsigned int c = 0; c < 2; c++)
		EXPECT_EQ(m->cpus[c].lru_add.nr, 0);
	ASSERT_CONSISTENT(m);
	EXPECT_GE(mmsim_vmstat(m, "nr_inactive_anon") - inactive0, 2 * LRU_PAGES);
	for (int i = 0; i < 2; i++) {
		expect_all_listed(m, t[i]);
		expect_paged_out(m, t[i]);
		ASSERT_CONSISTENT(m);
	}

	/* Host threads: the pages wait in the batches until a call takes the machine whole. */
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(mmsim_munmap(t[i], LRU_AREA, LRU_PAGES * PAGE), 0);
		ASSERT_EQ(mmsim_mmap(t[i], LRU_AREA, LRU_PAGES * PAGE, RW, ANON, -1, 0), (int64_t)LRU_AREA);
		ASSERT_EQ(mmsim_madvise(t[i], LRU_AREA, LRU_PAGES * PAGE, MMSIM_MADV_NOHUGEPAGE), 0);
	}
	{
		pthread_t host[2];
		void *args[2][2] = { { t[0], &errors[0] }, { t[1], &errors[1] } };

		for (int i = 0; i < 2; i++)
			ASSERT_EQ(pthread_create(&host[i], NULL, lru_fault_host, args[i]), 0);
		for (int i = 0; i < 2; i++)
			pthread_join(host[i], NULL);
	}
	EXPECT_EQ(errors[0] + errors[1], 0);
	EXPECT_EQ(m->cpus[0].lru_add.nr + m->cpus[1].lru_add.nr, 2 * (LRU_PAGES % LRU_ADD_BATCH));
	ASSERT_CONSISTENT(m);	/* mmsim_check takes the machine whole: drained */
	EXPECT_EQ(m->cpus[0].lru_add.nr + m->cpus[1].lru_add.nr, 0);
	for (int i = 0; i < 2; i++) {
		expect_all_listed(m, t[i]);
		expect_paged_out(m, t[i]);
		ASSERT_CONSISTENT(m);
	}
	mmsim_machine_destroy(m);
}

/* The checker reports a page left in a CPU's LRU batch between calls. */
TEST(sched_check_reports_a_page_left_in_an_lru_batch)
{
	struct mmsim_machine *m = boot(NULL, 1, 2);
	struct mmsim_task *t = task(m, 1);
	struct mmsim_siginfo si;
	char report[512];
	uint64_t v = 1;

	ASSERT_EQ(mmsim_mmap(t, LRU_AREA, PAGE, RW, ANON, -1, 0), (int64_t)LRU_AREA);
	ASSERT_EQ(mmsim_store(t, LRU_AREA, &v, 8, &si), MMSIM_ACCESS_OK);
	ASSERT_CONSISTENT(m);
	m->cpus[1].lru_add.pages[0] = pfn_to_page(m, pfn_at(t, LRU_AREA));
	m->cpus[1].lru_add.nr = 1;
	EXPECT_NE(mmsim_check(m, report, sizeof(report)), 0);
	ASSERT_STR_CONTAINS(report, "cpu 1: 1 pages left in its LRU batch");
	m->cpus[1].lru_add.nr = 0;
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * Threads of one process faulting on two CPUs cache their rss changes per
 * CPU; whatever takes the machine whole adds them up first.  Two host
 * threads fault RSS_PAGES pages each in windows of their own; RssAnon is
 * then exact, and before anything took the machine whole the changes were
 * still cached on the CPUs (RSS_PAGES is not a multiple of the sync batch).
 *
 *   LRU_AREA             +RSS_PAGES pages         +2*RSS_PAGES
 *   | thread 0, on CPU 0 | thread 1, on CPU 1     |
 */
#define RSS_PAGES 100

static void *rss_fault_host(void *arg)
{
	void **a = arg;
	struct mmsim_task *t = a[0];
	uint64_t base = *(uint64_t *)a[1];
	struct mmsim_siginfo si;

	for (uint64_t p = 0; p < RSS_PAGES; p++) {
		uint64_t v = base + p;

		if (mmsim_store(t, base + p * PAGE, &v, 8, &si) != MMSIM_ACCESS_OK)
			(*(int *)a[2])++;
	}
	return NULL;
}

static long long rss_anon_kb(struct mmsim_machine *m, struct mmsim_task *t)
{
	char status[4096];
	unsigned long long kb = 0;
	const char *line;

	if (mmsim_proc_read(m, t, "self/status", status, sizeof(status)) <= 0 ||
	    !(line = strstr(status, "RssAnon:")) || sscanf(line, "RssAnon: %llu", &kb) != 1)
		return -1;
	return (long long)kb;
}

TEST(sched_parallel_thread_rss_cached_per_cpu_and_synced)
{
	struct mmsim_machine *m = boot(NULL, 1, 2);
	struct mmsim_sched_options o = { .mode = MMSIM_SCHED_PARALLEL };
	struct mmsim_task *t[2];
	uint64_t base[2] = { LRU_AREA, LRU_AREA + RSS_PAGES * PAGE };
	int errors = 0;
	pthread_t host[2];
	char report[512];
	long long before;

	ASSERT_EQ(mmsim_sched_set(m, &o), 0);
	t[0] = task(m, 0);
	ASSERT_EQ(mmsim_thread_create(t[0], &t[1]), 0);
	ASSERT_EQ(mmsim_task_set_cpu(t[1], 1), 0);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(mmsim_mmap(t[i], base[i], RSS_PAGES * PAGE, RW, ANON, -1, 0), (int64_t)base[i]);
		ASSERT_EQ(mmsim_madvise(t[i], base[i], RSS_PAGES * PAGE, MMSIM_MADV_NOHUGEPAGE), 0);
	}
	before = rss_anon_kb(m, t[0]);
	{
		void *args[2][3] = { { t[0], &base[0], &errors }, { t[1], &base[1], &errors } };

		for (int i = 0; i < 2; i++)
			ASSERT_EQ(pthread_create(&host[i], NULL, rss_fault_host, args[i]), 0);
		for (int i = 0; i < 2; i++)
			pthread_join(host[i], NULL);
	}
	EXPECT_EQ(errors, 0);
	/* Cached on both CPUs: the checker, run without taking the machine, would say so. */
	EXPECT_TRUE(m->cpus[0].rss_mm == t[0]->mm && m->cpus[1].rss_mm == t[0]->mm);
	EXPECT_EQ(m->cpus[0].rss_events + m->cpus[1].rss_events, 2 * (RSS_PAGES % 64));
	EXPECT_EQ(rss_anon_kb(m, t[0]) - before, 2 * RSS_PAGES * 4);
	EXPECT_TRUE(m->cpus[0].rss_mm == NULL && m->cpus[1].rss_mm == NULL);
	ASSERT_CONSISTENT(m);

	/*
	 * The checker reports changes left cached between calls (out of
	 * parallel mode, where taking the machine whole would sync them).
	 */
	o.mode = MMSIM_SCHED_DETERMINISTIC;
	ASSERT_EQ(mmsim_sched_set(m, &o), 0);
	m->cpus[1].rss_mm = t[0]->mm;
	EXPECT_NE(mmsim_check(m, report, sizeof(report)), 0);
	ASSERT_STR_CONTAINS(report, "cpu 1: rss changes of mm");
	m->cpus[1].rss_mm = NULL;
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}
