// SPDX-License-Identifier: MIT
/*
 * tests/test_races_explored.c - races of spec §5.6 found, not scripted.
 *
 * tests/test_races.c drives each race's interleaving step by step.  Here
 * the same races are plain concurrent task bodies - a fault, an munmap, a
 * migration, an mprotect, the end of a DMA - run under the deterministic
 * scheduler with one seed after another, the way `mmsim explore` does.
 * A run "finds" the race when mmsim_check() reports a broken invariant
 * afterwards (a tag write into unreserved tag storage, a tag block's
 * refcount that no allocation explains, tag storage that is tagged) or a
 * body saw data that is not what was stored.  With the race's fix switched
 * off (mte_race_fix_off=Rn) some seed must find it; with the fix on, no
 * seed may.
 *
 * Setup before the run is direct and deterministic: where a race needs a
 * page in a given frame (a bystander living in a tag-storage page, as
 * test_races.c's place_on does) or a pin, it is arranged before the bodies
 * are spawned; only the racing part is left to the scheduler.
 *
 * Runs per search: MMSIM_EXPLORE_RUNS (default 2000 with the fix off,
 * 500 with it on, to keep `make test` quick); the figures quoted for these
 * races come from MMSIM_EXPLORE_RUNS=100000.  MMSIM_EXPLORE_COUNT=1 goes on
 * after the first finding and says in how many of the runs the race was
 * found.
 *
 *   0x20000000  +------+  BASE: X1 / S / P: the page the race is about
 *   0x20001000  +------+  X2: its neighbour (same 32-page tag group)
 *       ...
 *   0x30000000  +------+  VICTIM: a bystander, placed in a tag-storage
 *                         frame before the run (R4, R6, R11)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "mte_test.h"

#define VBYTE  0x5a                 /* the bystander's data */

/* One run of a scenario: boot with args, set up, run the bodies under seed. */
typedef struct mmsim_machine *(*scenario_fn)(const char *args, uint64_t seed);

static uint64_t explore_runs(uint64_t dflt)
{
	const char *e = getenv("MMSIM_EXPLORE_RUNS");

	return e && atoll(e) > 0 ? (uint64_t)atoll(e) : dflt;
}

/*
 * What a body or a scenario's own check saw wrong in this run (the first
 * thing only), NULL if nothing; explore() clears it before each run.
 */
static const char *data_bad;
static char data_bad_buf[160];

static void saw_wrong(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void saw_wrong(const char *fmt, ...)
{
	va_list ap;

	if (data_bad)
		return;
	va_start(ap, fmt);
	vsnprintf(data_bad_buf, sizeof(data_bad_buf), fmt, ap);
	va_end(ap);
	data_bad = data_bad_buf;
}

/* What the first finding of the last search was. */
static char found_report[1024];

/*
 * The first seed in [1, runs] whose run breaks an invariant or sees wrong
 * data, 0 if none.  *hits (if not NULL) counts every such run, and the
 * search then goes on to the end.
 */
static uint64_t explore(scenario_fn run, const char *args, uint64_t runs, uint64_t *hits)
{
	uint64_t first = 0;

	for (uint64_t seed = 1; seed <= runs; seed++) {
		struct mmsim_machine *m;
		char rep[512];
		int bad;

		data_bad = NULL;
		m = run(args, seed);
		if (!m)
			return first;
		bad = mmsim_check(m, rep, sizeof(rep));
		mmsim_machine_destroy(m);
		if (!bad && !data_bad)
			continue;
		if (!first) {
			first = seed;
			snprintf(found_report, sizeof(found_report), "%.200s%s%s", data_bad ? data_bad : "",
				 data_bad ? "\n" : "", bad ? rep : "");
		}
		if (!hits)
			break;
		++*hits;
	}
	return first;
}

static struct mmsim_machine *boot_swap(const char *args, uint64_t seed, uint64_t swap_bytes)
{
	struct mmsim_options o = { .seed = 1, .nr_cpus = 2, .bootargs = args, .swap_bytes = swap_bytes };
	struct mmsim_sched_options so = { .seed = seed,
					  .policy = seed & 1 ? MMSIM_SCHED_PCT : MMSIM_SCHED_RANDOM };
	struct mmsim_machine *m = NULL;

	if (mmsim_machine_create(&o, &m))
		TEST_FAIL_(1, "boot [%s]: %s", args ? args : "", mmsim_strerror_last());
	ASSERT_EQ(mmsim_sched_set(m, &so), 0);
	ASSERT_TRUE(m->mte.storage_enabled);
	return m;
}

static struct mmsim_machine *boot(const char *args, uint64_t seed)
{
	return boot_swap(args, seed, 0);
}

/* Run the bodies; a run that cannot finish is a finding too: say which and why. */
static void run_checked(struct mmsim_machine *m, uint64_t seed)
{
	if (mmsim_run_tasks(m))
		TEST_FAIL_(1, "seed %llu: %s", (unsigned long long)seed, mmsim_strerror_last());
}

/* One body's access: where, and (a load) the value it must read. */
struct op {
	uint64_t addr;
	uint64_t want;
};

static void body_load(struct mmsim_task *t, void *arg)
{
	const struct op *o = arg;
	struct mmsim_siginfo si;
	uint64_t v = 0;

	if (mmsim_load(t, o->addr, &v, 8, &si) != MMSIM_ACCESS_OK)
		saw_wrong("task %d: load at 0x%llx: signal %d code %d", t->pid,
			  (unsigned long long)o->addr, si.signo, si.code);
	else if (v != o->want)
		saw_wrong("task %d: load at 0x%llx read 0x%llx, not 0x%llx", t->pid,
			  (unsigned long long)o->addr, (unsigned long long)v, (unsigned long long)o->want);
}

static void body_store(struct mmsim_task *t, void *arg)
{
	const struct op *o = arg;
	struct mmsim_siginfo si;

	if (mmsim_store(t, o->addr, &o->want, 8, &si) != MMSIM_ACCESS_OK)
		saw_wrong("task %d: store at 0x%llx: signal %d code %d", t->pid,
			  (unsigned long long)o->addr, si.signo, si.code);
}

static void body_dontneed(struct mmsim_task *t, void *arg)
{
	const struct op *o = arg;

	if (mmsim_madvise(t, o->addr, PAGE, MMSIM_MADV_DONTNEED))
		saw_wrong("task %d: MADV_DONTNEED at 0x%llx: %s", t->pid, (unsigned long long)o->addr,
			  mmsim_strerror_last());
}

/* The page mapped (present, METADATA_NONE included) at addr of t. */
static struct page *page_at(struct mmsim_task *t, uint64_t addr)
{
	pteval_t pte = pte_at(t, addr);

	ASSERT_TRUE(pte_present(pte));
	return pfn_to_page(t->machine, pte_pfn(pte));
}

/* The first page of pfn's tag block; *off: where pfn's 128 tag bytes sit in it. */
static uint64_t block_of(struct mmsim_machine *m, uint64_t pfn, uint64_t *off)
{
	const struct tag_region *r;
	uint64_t block;

	ASSERT_EQ(tag_storage_find_block(m, pfn, &block, &r), 0);
	if (off)
		*off = ((pfn - r->mem_start) % 32) * MTE_PAGE_TAG_STORAGE_SIZE;
	return block;
}

/* Tag page tag_pfn is free data memory: a METADATA frame nobody reserved or uses. */
static bool tag_page_free(struct mmsim_machine *m, uint64_t tag_pfn)
{
	struct page *tp = pfn_to_page(m, tag_pfn);

	return get_pageblock_migratetype(m, tag_pfn) == MIGRATE_METADATA &&
	       !(tp->flags & PG_tag_block) && tp->refcount == 0;
}

/*
 * place_on - make t's page at addr (filled with byte) live in frame pfn, a
 * free tag-storage page, as test_races.c does: claim the frame the way
 * alloc_contig_range does, migrate the page onto it.  It stays an
 * ordinary mapped, movable page that happens to sit in tag storage.
 */
static void place_on(struct mmsim_task *t, uint64_t addr, uint64_t pfn, int byte)
{
	struct mmsim_machine *m = t->machine;
	struct mmsim_siginfo si;
	struct page *src, *dst;

	ASSERT_TRUE(tag_page_free(m, pfn));
	ASSERT_EQ(mmsim_fill(t, addr, byte, PAGE, &si), MMSIM_ACCESS_OK);
	src = page_at(t, addr);
	ASSERT_EQ(alloc_contig_range(m, pfn, pfn + 1, MIGRATE_METADATA), 0);
	dst = pfn_to_page(m, pfn);
	get_page(src);
	ASSERT_EQ(migrate_page_to(m, src, dst), 0);
	put_page(m, dst);
	put_page(m, src);
	ASSERT_EQ(page_to_pfn(m, page_at(t, addr)), pfn);
}

/*
 * fence - take the free pages of pfn's 32-page tag group off the buddy
 * (held for good, refcount 1), as test_races.c's R11 does.  A tagged
 * allocation in a race then cannot land in the group whose tag page the
 * race is about.  It would, on a fresh machine: the group's pages are the
 * next free ones, a destination there needs that very tag page, which the
 * page being migrated occupies, and a page whose reservation failed goes
 * back to a free list on which it is the next one handed out again - the
 * fault would come back for ever, with or without the fix.
 */
static void fence(struct mmsim_machine *m, uint64_t pfn)
{
	drain_all_pages(m);
	for (uint64_t q = pfn & ~31ULL; q < (pfn & ~31ULL) + 32; q++)
		if (take_page_off_buddy(m, pfn_to_page(m, q)))
			pfn_to_page(m, q)->refcount = 1;
}

/* Report and check one race: found with the fix off, never with it on. */
static void race_pair(const char *name, scenario_fn run, int fix_bit)
{
	char off[64];
	uint64_t runs_off = explore_runs(2000), runs_on = explore_runs(500), found, clean, hits = 0;
	const char *count = getenv("MMSIM_EXPLORE_COUNT");
	bool counting = count && atoi(count) > 0;

	snprintf(off, sizeof(off), "mte_race_fix_off=R%d", fix_bit);
	found = explore(run, off, runs_off, counting ? &hits : NULL);
	test_diag("%s, fix off: found by run %llu of %llu", name, (unsigned long long)found,
		  (unsigned long long)runs_off);
	if (counting)
		test_diag("%s, fix off: found in %llu of %llu runs", name, (unsigned long long)hits,
			  (unsigned long long)runs_off);
	if (found)
		test_diag("%s, first finding: %.*s", name, (int)strcspn(found_report, "\n"), found_report);
	EXPECT_GT(found, 0);
	clean = explore(run, NULL, runs_on, NULL);
	test_diag("%s, fix on: %s in %llu runs", name, clean ? "FOUND" : "nothing",
		  (unsigned long long)runs_on);
	if (clean)
		test_diag("%s, seed %llu: %s", name, (unsigned long long)clean, found_report);
	EXPECT_EQ(clean, 0);
}

/* ------------------------------------------------------------------ R5 */

/*
 * R5: two threads load the same METADATA_NONE page (mprotect(PROT_MTE)
 * over a touched page) at once.  Both may pass the PTE check before either
 * remaps; without the re-check under the tag-block mutex the second takes
 * another share of the block, which no allocation explains.
 */
static struct op r5_load = { BASE, 1 };

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
	ASSERT_EQ(mmsim_spawn(a, body_load, &r5_load), 0);
	ASSERT_EQ(mmsim_spawn(b, body_load, &r5_load), 0);
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
static struct op r7_x1 = { BASE, 0 }, r7_x2 = { BASE + PAGE, 0x77 };

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
	ASSERT_EQ(mmsim_store(a, r7_x1.addr, &v, 8, &si), MMSIM_ACCESS_OK);
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

/* ------------------------------------------------------------------ R2 */

/*
 * R2: a tagged page's swap entry is shared by a mapping with PROT_MTE and
 * one without (a fork child's), and both touch it at once.  Whichever
 * reads the slot in first allocates the page: through the untagged
 * mapping it has no tag storage, and the swap tags must not go into its
 * unreserved tag page (the fix keeps them by pfn until the tagged
 * mapping's fault reserves storage).
 *
 * The page can only be tagged and in a VMA without VM_MTE (mprotect never
 * removes PROT_MTE) when a tagged mapping tagged it while they shared it:
 *
 *   A [BASE] RW: P  --fork-->  C [BASE] RW: P (COW);  C: mprotect MTE, load
 *                              -> P reserved, tagged (zero tags)
 *   C exits; A: MADV_PAGEOUT   -> slot E, tags of E saved, P freed
 *   A --fork--> C2; C2: mprotect(PROT_MTE)           (E: A's and C2's)
 *   race:  A: load BASE   ||   C2 (CPU 1): load BASE
 *     A first: N = untagged page; fix: tags -> tags_by_pfn[N]
 *                                 off: tags -> N's tag page (not reserved)
 *
 * Nothing else may hold N's tag block.  With a tagged neighbour in N's
 * 32-page group (C breaking COW with a store instead of exiting leaves its
 * tagged copy there) the restore writes into N's own slot of a reserved
 * block, which is harmless, and C2's fault then reserves for N as well:
 * 0 of 2,000 seeds find anything, nor should they.
 */
static struct op r2_load = { BASE, 61 };

/* The tagged mapping reads the data, and the tags the page was swapped out with. */
static void r2_tagged_load(struct mmsim_task *t, void *arg)
{
	struct mmsim_siginfo si;
	unsigned int tag = 99;

	body_load(t, arg);
	if (mmsim_get_tag(t, BASE, &tag, &si) != MMSIM_ACCESS_OK)
		saw_wrong("task %d: LDG at 0x%llx: signal %d code %d", t->pid, (unsigned long long)BASE,
			  si.signo, si.code);
	else if (tag != 0)
		saw_wrong("task %d: LDG at 0x%llx: tag %u, not 0", t->pid, (unsigned long long)BASE, tag);
}

static struct mmsim_machine *r2(const char *args, uint64_t seed)
{
	struct mmsim_machine *m = boot_swap(args, seed, 8ULL << 20);
	struct mmsim_task *a = NULL, *c = NULL, *c2 = NULL;
	struct page *p;
	pteval_t pte;

	ASSERT_EQ(mmsim_task_create(m, &a), 0);
	ASSERT_EQ(mmsim_mmap(a, BASE, PAGE, RW, ANON, -1, 0), (int64_t)BASE);
	store8(a, BASE, 61);
	ASSERT_EQ(mmsim_fork(a, &c), 0);
	ASSERT_EQ(mmsim_mprotect(c, BASE, PAGE, RWMTE), 0);
	ASSERT_EQ(load8(c, BASE), 61);
	p = page_at(a, BASE);
	ASSERT_TRUE(p == page_at(c, BASE) && (p->flags & PG_mte_tagged));
	mmsim_task_exit(c);
	ASSERT_EQ(mmsim_madvise(a, BASE, PAGE, MMSIM_MADV_PAGEOUT), 0);
	pte = pte_at(a, BASE);
	ASSERT_TRUE(!pte_present(pte));
	ASSERT_TRUE(tagbuf_load(&m->mte.tags_by_swp_entry, pte_to_swp_entry(pte).val) != NULL);
	ASSERT_EQ(mmsim_fork(a, &c2), 0);
	ASSERT_EQ(mmsim_mprotect(c2, BASE, PAGE, RWMTE), 0);
	ASSERT_EQ(mmsim_task_set_cpu(c2, 1), 0);
	ASSERT_EQ(mmsim_spawn(a, body_load, &r2_load), 0);
	ASSERT_EQ(mmsim_spawn(c2, r2_tagged_load, &r2_load), 0);
	run_checked(m, seed);
	return m;
}

TEST(explore_r02_untagged_swapin)
{
	race_pair("R2", r2, 2);
}

/* ------------------------------------------------------------------ R4 */

/*
 * R4: M1, a tag-storage page lent out as data, is P1's own tag page, and
 * both are mapped; mprotect(PROT_MTE) made both METADATA_NONE.  Two
 * threads touch them at once.  If P1's fault comes first it reserves M1's
 * frame, so alloc_contig_range migrates M1 to P2 - allocated untagged on
 * purpose - which is mapped back into the VM_MTE VMA without storage: the
 * fix maps it METADATA_NONE, without the fix mte_sync_tags zeroes tags in
 * P2's unreserved tag page.  If M1's own fault comes first, it moves M1 to
 * a tagged page and nothing goes wrong either way.  The free pages of P1's
 * group are fenced off before the run: a tagged destination for M1 there
 * would need T, which M1 itself occupies (see fence()).
 *
 *   [BASE]   P1 --tags in--> frame T <-- [VICTIM] M1 (placed before the run)
 *   race:  load BASE   ||   (CPU 1) load VICTIM
 */
static struct op r4_p1 = { BASE, 0x4444 }, r4_m1 = { VICTIM, 0x5a5a5a5a5a5a5a5aULL };

static struct mmsim_machine *r4(const char *args, uint64_t seed)
{
	struct mmsim_machine *m = boot(args, seed);
	struct mmsim_task *a = NULL, *b = NULL;

	ASSERT_EQ(mmsim_task_create(m, &a), 0);
	ASSERT_EQ(mmsim_thread_create(a, &b), 0);
	ASSERT_EQ(mmsim_task_set_cpu(b, 1), 0);
	ASSERT_EQ(mmsim_mmap(a, BASE, PAGE, RW, ANON, -1, 0), (int64_t)BASE);
	ASSERT_EQ(mmsim_mmap(a, VICTIM, PAGE, RW, ANON, -1, 0), (int64_t)VICTIM);
	store8(a, BASE, 0x4444);
	place_on(a, VICTIM, block_of(m, page_to_pfn(m, page_at(a, BASE)), NULL), VBYTE);
	fence(m, page_to_pfn(m, page_at(a, BASE)));
	ASSERT_EQ(mmsim_mprotect(a, BASE, PAGE, RWMTE), 0);
	ASSERT_EQ(mmsim_mprotect(a, VICTIM, PAGE, RWMTE), 0);
	ASSERT_TRUE(pte_metadata_none(pte_at(a, BASE)) && pte_metadata_none(pte_at(a, VICTIM)));
	ASSERT_EQ(mmsim_spawn(a, body_load, &r4_p1), 0);
	ASSERT_EQ(mmsim_spawn(b, body_load, &r4_m1), 0);
	run_checked(m, seed);
	return m;
}

TEST(explore_r04_tag_storage_page_mapped)
{
	race_pair("R4", r4, 4);
}

/* ------------------------------------------------------------------ R6 */

/*
 * R6: M, a tag-storage page lent out as data, is mapped METADATA_NONE.
 * A thread's first access to Q reserves Q's tag page T, in M's pageblock:
 * alloc_contig_range makes the whole pageblock MIGRATE_ISOLATE while it
 * works.  Another thread touching M in that window finds M isolated; the
 * fix still treats it as tag storage (retry, then migrate it away),
 * without the fix the handler reserves for M and maps it tagged: a page of
 * tag storage carrying tags (I3).
 *
 *   [BASE]   Q --tags in--> T     [VICTIM] M in frame T+k, same pageblock
 *   race:  load BASE (isolates T's pageblock)   ||   (CPU 1) load VICTIM
 */
static struct op r6_q = { BASE, 1 }, r6_m = { VICTIM, 0x5a5a5a5a5a5a5a5aULL };

static struct mmsim_machine *r6(const char *args, uint64_t seed)
{
	struct mmsim_machine *m = boot(args, seed);
	struct mmsim_task *a = NULL, *b = NULL;
	uint64_t t, mpfn;

	ASSERT_EQ(mmsim_task_create(m, &a), 0);
	ASSERT_EQ(mmsim_thread_create(a, &b), 0);
	ASSERT_EQ(mmsim_task_set_cpu(b, 1), 0);
	ASSERT_EQ(mmsim_mmap(a, BASE, PAGE, RW, ANON, -1, 0), (int64_t)BASE);
	ASSERT_EQ(mmsim_mmap(a, VICTIM, PAGE, RW, ANON, -1, 0), (int64_t)VICTIM);
	store8(a, BASE, 1);
	t = block_of(m, page_to_pfn(m, page_at(a, BASE)), NULL);
	ASSERT_TRUE(tag_page_free(m, t));
	/* Another tag page of T's pageblock. */
	mpfn = (t & (pageblock_nr_pages - 1)) >= 7 ? t - 7 : t + 7;
	place_on(a, VICTIM, mpfn, VBYTE);
	ASSERT_EQ(mmsim_mprotect(a, BASE, PAGE, RWMTE), 0);
	ASSERT_EQ(mmsim_mprotect(a, VICTIM, PAGE, RWMTE), 0);
	ASSERT_TRUE(pte_metadata_none(pte_at(a, BASE)) && pte_metadata_none(pte_at(a, VICTIM)));
	ASSERT_EQ(mmsim_spawn(a, body_load, &r6_q), 0);
	ASSERT_EQ(mmsim_spawn(b, body_load, &r6_m), 0);
	run_checked(m, seed);
	return m;
}

TEST(explore_r06_fault_on_isolated_page)
{
	race_pair("R6", r6, 6);
}

/* ----------------------------------------------------------------- R11 */

/*
 * R11: P's tag page T holds a bystander V that a device is reading
 * (pinned short-term, as for DMA, before the run).  A thread's first
 * access to P must reserve T while the DMA may still be going on: as long
 * as V is pinned alloc_contig_range cannot move it (-EBUSY, 5 tries).
 * The fix fails the reservation and moves P to a page that has storage;
 * without it T is taken with V still in it, and P's zero tags overwrite
 * V's data - which the device may read.  P's group is fenced, as in
 * test_races.c, so that the page P moves to does not need T too.
 *
 *   [BASE] P --tags in--> T = [VICTIM] V, pinned
 *   race:  load BASE   ||   (CPU 1) the DMA: read V through the pin, unpin
 */
struct r11_ctx {
	struct op p;            /* P's first access                  */
	struct mmsim_pin *pin;  /* V's short-term pin                */
	uint64_t toff;          /* where P's tags sit in V           */
};

static struct r11_ctx r11_ctx;

static void r11_dma(struct mmsim_task *t, void *arg)
{
	struct r11_ctx *c = arg;
	uint8_t buf[PAGE];

	(void)t;
	if (mmsim_pin_read(c->pin, 0, buf, sizeof(buf)))
		saw_wrong("R11: the pinned page cannot be read: %s", mmsim_strerror_last());
	for (uint64_t i = 0; i < sizeof(buf); i++)
		if (buf[i] != VBYTE) {
			saw_wrong("R11: the device read 0x%02x at offset %llu of V", buf[i],
				  (unsigned long long)i);
			break;
		}
	mmsim_unpin(c->pin);
}

static struct mmsim_machine *r11(const char *args, uint64_t seed)
{
	struct mmsim_machine *m = boot(args, seed);
	struct mmsim_task *a = NULL, *b = NULL;
	uint64_t t;

	ASSERT_EQ(mmsim_task_create(m, &a), 0);
	ASSERT_EQ(mmsim_thread_create(a, &b), 0);
	ASSERT_EQ(mmsim_task_set_cpu(b, 1), 0);
	ASSERT_EQ(mmsim_mmap(a, BASE, PAGE, RW, ANON, -1, 0), (int64_t)BASE);
	ASSERT_EQ(mmsim_mmap(a, VICTIM, PAGE, RW, ANON, -1, 0), (int64_t)VICTIM);
	store8(a, BASE, 0x1111);
	t = block_of(m, page_to_pfn(m, page_at(a, BASE)), &r11_ctx.toff);
	place_on(a, VICTIM, t, VBYTE);
	fence(m, page_to_pfn(m, page_at(a, BASE)));
	ASSERT_EQ(mmsim_pin(a, VICTIM, PAGE, 0, &r11_ctx.pin), 0);
	ASSERT_EQ(mmsim_mprotect(a, BASE, PAGE, RWMTE), 0);
	r11_ctx.p = (struct op){ BASE, 0x1111 };
	ASSERT_EQ(mmsim_spawn(a, body_load, &r11_ctx.p), 0);
	ASSERT_EQ(mmsim_spawn(b, r11_dma, &r11_ctx), 0);
	run_checked(m, seed);
	/* V, pinned or not, must still hold its data. */
	if (load8(a, VICTIM + r11_ctx.toff) != 0x5a5a5a5a5a5a5a5aULL)
		saw_wrong("R11: V's data at offset %llu overwritten", (unsigned long long)r11_ctx.toff);
	return m;
}

TEST(explore_r11_pinned_tag_page)
{
	race_pair("R11", r11, 11);
}
