// SPDX-License-Identifier: MIT
/*
 * tests/test_races_explored.c - races of spec §5.6 found, not scripted.
 *
 * tests/test_races.c drives each race's interleaving step by step.  Here
 * the same races are plain concurrent task bodies - a fault, an munmap, a
 * migration, an mprotect - run under the deterministic scheduler with one
 * seed after another, the way `mmsim explore` does.  A run "finds" the race
 * when mmsim_check() reports a broken invariant afterwards (a tag write into
 * unreserved tag storage, a tag block's refcount that no allocation
 * explains).  With the race's fix switched off (mte_race_fix_off=Rn) some
 * seed must find it; with the fix on, no seed may.
 *
 * Runs per search: MMSIM_EXPLORE_RUNS (default 2000 with the fix off,
 * 500 with it on, to keep `make test` quick); the figures in the README
 * come from MMSIM_EXPLORE_RUNS=100000.
 *
 *   0x20000000  +------+  X1 / S: the page the race is about
 *   0x20001000  +------+  X2: its neighbour (same 32-page tag group)
 */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "mm/internal.h"

#define BASE   0x20000000ULL
#define RW     (MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define RWMTE  (RW | MMSIM_PROT_MTE)
#define ANON   (MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)
#define TAGGED(a, t) (((a) & ~(0xfULL << 56)) | ((uint64_t)(t) << 56))

/* One run of a scenario: boot with args, set up, run the bodies under seed. */
typedef struct mmsim_machine *(*scenario_fn)(const char *args, uint64_t seed);

static uint64_t explore_runs(uint64_t dflt)
{
	const char *e = getenv("MMSIM_EXPLORE_RUNS");

	return e && atoll(e) > 0 ? (uint64_t)atoll(e) : dflt;
}

/* The first seed in [1, runs] whose run breaks an invariant, 0 if none. */
static uint64_t explore(scenario_fn run, const char *args, uint64_t runs)
{
	for (uint64_t seed = 1; seed <= runs; seed++) {
		struct mmsim_machine *m;
		char rep[512];
		int bad;

		m = run(args, seed);
		if (!m)
			return 0;
		bad = mmsim_check(m, rep, sizeof(rep));
		mmsim_machine_destroy(m);
		if (bad)
			return seed;
	}
	return 0;
}

static struct mmsim_machine *boot(const char *args, uint64_t seed)
{
	struct mmsim_options o = { .seed = 1, .nr_cpus = 2, .bootargs = args };
	struct mmsim_sched_options so = { .seed = seed,
					  .policy = seed & 1 ? MMSIM_SCHED_PCT : MMSIM_SCHED_RANDOM };
	struct mmsim_machine *m = NULL;

	if (mmsim_machine_create(&o, &m))
		TEST_FAIL_(1, "boot [%s]: %s", args ? args : "", mmsim_strerror_last());
	ASSERT_EQ(mmsim_sched_set(m, &so), 0);
	return m;
}

/* Run the bodies; a run that cannot finish is a finding too: say which and why. */
static void run_checked(struct mmsim_machine *m, uint64_t seed)
{
	if (mmsim_run_tasks(m))
		TEST_FAIL_(1, "seed %llu: %s", (unsigned long long)seed, mmsim_strerror_last());
}

static void body_load(struct mmsim_task *t, void *arg)
{
	struct mmsim_siginfo si;
	uint64_t v;

	mmsim_load(t, *(uint64_t *)arg, &v, 8, &si);
}

static void body_store(struct mmsim_task *t, void *arg)
{
	struct mmsim_siginfo si;
	uint64_t v = 0x77;

	mmsim_store(t, *(uint64_t *)arg, &v, 8, &si);
}

static void body_dontneed(struct mmsim_task *t, void *arg)
{
	mmsim_madvise(t, *(uint64_t *)arg, PAGE, MMSIM_MADV_DONTNEED);
}

/* Report and check one race: found with the fix off, never with it on. */
static void race_pair(const char *name, scenario_fn run, int fix_bit)
{
	char off[64];
	uint64_t runs_off = explore_runs(2000), runs_on = explore_runs(500), found, clean;

	snprintf(off, sizeof(off), "mte_race_fix_off=R%d", fix_bit);
	found = explore(run, off, runs_off);
	test_diag("%s, fix off: found by run %llu of %llu", name, (unsigned long long)found,
		  (unsigned long long)runs_off);
	EXPECT_GT(found, 0);
	clean = explore(run, NULL, runs_on);
	test_diag("%s, fix on: %s in %llu runs", name, clean ? "FOUND" : "nothing",
		  (unsigned long long)runs_on);
	EXPECT_EQ(clean, 0);
}

/* ------------------------------------------------------------------ R5 */

/*
 * R5: two threads load the same METADATA_NONE page (mprotect(PROT_MTE)
 * over a touched page) at once.  Both may pass the PTE check before either
 * remaps; without the re-check under the tag-block mutex the second takes
 * another share of the block, which no allocation explains.
 */
static uint64_t r5_addr = BASE;

static struct mmsim_machine *r5(const char *args, uint64_t seed)
{
	struct mmsim_machine *m = boot(args, seed);
	struct mmsim_task *a = NULL, *b = NULL;
	struct mmsim_siginfo si;
	uint64_t v = 1;

	ASSERT_EQ(mmsim_task_create(m, &a), 0);
	ASSERT_EQ(mmsim_thread_create(a, &b), 0);
	ASSERT_EQ(mmsim_task_set_cpu(b, 1), 0);
	ASSERT_EQ(mmsim_mmap(a, BASE, PAGE, RW, ANON, -1, 0), (int64_t)BASE);
	ASSERT_EQ(mmsim_store(a, BASE, &v, 8, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_mprotect(a, BASE, PAGE, RWMTE), 0);
	ASSERT_EQ(mmsim_spawn(a, body_load, &r5_addr), 0);
	ASSERT_EQ(mmsim_spawn(b, body_load, &r5_addr), 0);
	run_checked(m, seed);
	return m;
}

TEST(explore_r05_concurrent_metadata_none_faults)
{
	race_pair("R5", r5, 5);
}

/* ------------------------------------------------------------------ R7 */

/*
 * R7: X1 is tagged and holds its tag block; a thread's first store to X2
 * (same block) reserves while another thread drops X1 (MADV_DONTNEED).
 * Without pinning the already-reserved block first, the drop frees it
 * under the reservation, which then takes a share of a free block.
 */
static uint64_t r7_x1 = BASE, r7_x2 = BASE + PAGE;

static struct mmsim_machine *r7(const char *args, uint64_t seed)
{
	struct mmsim_machine *m = boot(args, seed);
	struct mmsim_task *a = NULL, *b = NULL;
	struct mmsim_siginfo si;
	uint64_t v = 1;

	ASSERT_EQ(mmsim_task_create(m, &a), 0);
	ASSERT_EQ(mmsim_thread_create(a, &b), 0);
	ASSERT_EQ(mmsim_task_set_cpu(b, 1), 0);
	ASSERT_EQ(mmsim_mmap(a, BASE, 2 * PAGE, RWMTE, ANON, -1, 0), (int64_t)BASE);
	ASSERT_EQ(mmsim_store(a, r7_x1, &v, 8, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_spawn(a, body_store, &r7_x2), 0);
	ASSERT_EQ(mmsim_spawn(b, body_dontneed, &r7_x1), 0);
	run_checked(m, seed);
	return m;
}

TEST(explore_r07_reserve_vs_free)
{
	race_pair("R7", r7, 7);
}

/* ------------------------------------------------------------------ R1 */

/*
 * R1: a migrator (a kernel thread, as kcompactd would be) moves S while a
 * thread mprotects S's VMA PROT_MTE and tags S.  The destination was
 * chosen while S was untagged, so it has no tag storage; without the fix
 * copy_highpage writes S's tags into that storage anyway.
 */
struct r1_ctx {
	struct page *s;
	uint64_t addr;
};

static void r1_migrator(struct mmsim_task *t, void *arg)
{
	struct r1_ctx *c = arg;

	migrate_held_page_to_node(t->machine, c->s, -1, GFP_HIGHUSER_MOVABLE);
	put_page(t->machine, c->s);	/* the isolation reference */
}

static void r1_tagger(struct mmsim_task *t, void *arg)
{
	struct r1_ctx *c = arg;
	struct mmsim_siginfo si;

	if (mmsim_mprotect(t, c->addr, PAGE, RWMTE))
		return;
	mmsim_set_tag(t, TAGGED(c->addr, 0xa), 64, &si);
}

static struct r1_ctx r1_ctx;

static struct mmsim_machine *r1(const char *args, uint64_t seed)
{
	struct mmsim_machine *m = boot(args, seed);
	struct mmsim_task *a = NULL, *k = NULL;
	struct mmsim_siginfo si;
	uint64_t v = 1;
	pteval_t *ptep;

	ASSERT_EQ(mmsim_task_create(m, &a), 0);
	ASSERT_EQ(mmsim_task_create(m, &k), 0);	/* the migrator's own context */
	ASSERT_EQ(mmsim_task_set_cpu(k, 1), 0);
	ASSERT_EQ(mmsim_mmap(a, BASE, PAGE, RW, ANON, -1, 0), (int64_t)BASE);
	ASSERT_EQ(mmsim_store(a, BASE, &v, 8, &si), MMSIM_ACCESS_OK);
	ptep = pte_offset(a->mm, BASE);
	ASSERT_TRUE(ptep && pte_present(*ptep));
	r1_ctx.s = pfn_to_page(m, pte_pfn(*ptep));
	r1_ctx.addr = BASE;
	get_page(r1_ctx.s);	/* isolated for migration */
	ASSERT_EQ(mmsim_spawn(k, r1_migrator, &r1_ctx), 0);
	ASSERT_EQ(mmsim_spawn(a, r1_tagger, &r1_ctx), 0);
	run_checked(m, seed);
	return m;
}

TEST(explore_r01_migration_vs_mprotect)
{
	race_pair("R1", r1, 1);
}

/* R3: the same migration, seen from copy_highpage (its fix alone switched off). */
TEST(explore_r03_copy_highpage_no_storage)
{
	race_pair("R3", r1, 3);
}
