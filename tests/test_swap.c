// SPDX-License-Identifier: MIT
/*
 * tests/test_swap.c - swap as a process and an administrator see it:
 * MADV_PAGEOUT and the fault that brings a page back (pswpout, pswpin,
 * pgmajfault, pagemap's PM_SWAP type/offset then PM_PRESENT), fork with
 * swapped pages (one slot, two references), munmap giving slots back
 * (SwapFree), kswapd keeping a 64 MiB machine alive under 100 MiB of
 * anonymous memory, a file-backed device and a bad path, and MTE tags
 * across swap (spec §8.5 items 80-83, 85 and 89; 84 is in
 * test_spec_fault.c).  mmsim_check() after every step: it verifies
 * swap_map counts against the swap PTEs, MM_SWAPENTS, the swap cache and
 * the saved tags.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "mm/swap.h"

#define BASE      0x400000000ULL
#define RW        (MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define RWMTE     (RW | MMSIM_PROT_MTE)
#define ANON      (MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)
#define MIB       (1ULL << 20)
#define TAGGED(a, t) (((a) & ~(0xfULL << 56)) | ((uint64_t)(t) << 56))
#define CTRL(mode) (MMSIM_PR_TAGGED_ADDR_ENABLE | (mode) | (0xfffeUL << MMSIM_PR_MTE_TAG_SHIFT))

static struct mmsim_machine *swap_machine(const char *dts, uint64_t swap_bytes, const char *path,
					  const char *bootargs)
{
	struct mmsim_options o = { .seed = 1, .devicetree = dts, .swap_bytes = swap_bytes,
				   .swap_path = path, .bootargs = bootargs };
	struct mmsim_machine *m = NULL;

	if (mmsim_machine_create(&o, &m) != 0)
		TEST_FAIL_(1, "mmsim_machine_create: %s", mmsim_strerror_last());
	return m;
}

static struct mmsim_task *task(struct mmsim_machine *m)
{
	struct mmsim_task *t = NULL;

	ASSERT_EQ(mmsim_task_create(m, &t), 0);
	return t;
}

static void map(struct mmsim_task *t, uint64_t addr, uint64_t len, int prot)
{
	ASSERT_EQ(mmsim_mmap(t, addr, len, prot, ANON, -1, 0), (int64_t)addr);
}

static void store64(struct mmsim_task *t, uint64_t addr, uint64_t v)
{
	struct mmsim_siginfo si;

	ASSERT_EQ(mmsim_store(t, addr, &v, 8, &si), MMSIM_ACCESS_OK);
}

static uint64_t load64(struct mmsim_task *t, uint64_t addr)
{
	struct mmsim_siginfo si;
	uint64_t v = 0;

	ASSERT_EQ(mmsim_load(t, addr, &v, 8, &si), MMSIM_ACCESS_OK);
	return v;
}

static uint64_t pagemap(struct mmsim_task *t, uint64_t addr)
{
	uint64_t e = 0;

	ASSERT_EQ(mmsim_pagemap(t, addr, &e), 0);
	return e;
}

#define PM_SWAP_TYPE(e)   ((e) & ((1ULL << MMSIM_PM_SWAP_TYPE_BITS) - 1))
#define PM_SWAP_OFFSET(e) (((e) & MMSIM_PM_PFRAME_MASK) >> MMSIM_PM_SWAP_TYPE_BITS)

/* A /proc/meminfo field, in kB. */
static long meminfo_kb(struct mmsim_machine *m, const char *field)
{
	static char buf[16384];
	ssize_t n = mmsim_proc_read(m, NULL, "meminfo", buf, sizeof(buf) - 1);
	const char *p;

	ASSERT_GT(n, 0);
	buf[n] = 0;
	p = strstr(buf, field);
	ASSERT_TRUE(p != NULL);
	return strtol(p + strlen(field), NULL, 10);
}

/* The swap PTE at addr, or 0. */
static swp_entry_t swap_entry_at(struct mmsim_task *t, uint64_t addr)
{
	pteval_t *ptep = pte_offset(t->mm, addr);

	if (!ptep || pte_none(*ptep) || pte_present(*ptep))
		return (swp_entry_t){ 0 };
	return pte_to_swp_entry(*ptep);
}

/* ------------------------------------------------------- pageout and back */

/*
 * MADV_PAGEOUT writes every private page mapped once to swap; pagemap then
 * shows PM_SWAP with type 0 and the slot (lowest free first, slot 0 is the
 * header); touching the pages reads them back as major faults.
 */
TEST(swap_pageout_and_fault_back)
{
	struct mmsim_machine *m = swap_machine(NULL, 64 * MIB, NULL, NULL);
	struct mmsim_task *t = task(m);
	long total = meminfo_kb(m, "SwapTotal:");
	int64_t maj;

	EXPECT_EQ(total, 64 * 1024 - 4);
	EXPECT_EQ(meminfo_kb(m, "SwapFree:"), total);
	map(t, BASE, 16 * PAGE, RW);
	for (uint64_t i = 0; i < 16; i++)
		store64(t, BASE + i * PAGE + 8 * i, 0x1000 + i);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_madvise(t, BASE, 16 * PAGE, MMSIM_MADV_PAGEOUT), 0);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(mmsim_vmstat(m, "pswpout"), 16);
	EXPECT_EQ(meminfo_kb(m, "SwapFree:"), total - 64);
	EXPECT_EQ(meminfo_kb(m, "SwapCached:"), 0);
	EXPECT_EQ(t->mm->rss[MM_ANONPAGES], 0);
	EXPECT_EQ(t->mm->rss[MM_SWAPENTS], 16);
	for (uint64_t i = 0; i < 16; i++) {
		uint64_t e = pagemap(t, BASE + i * PAGE);

		EXPECT_TRUE(e & MMSIM_PM_SWAP);
		EXPECT_TRUE(!(e & MMSIM_PM_PRESENT));
		EXPECT_EQ(PM_SWAP_TYPE(e), 0);
		EXPECT_EQ(PM_SWAP_OFFSET(e), 1 + i);
	}
	maj = mmsim_vmstat(m, "pgmajfault");
	for (uint64_t i = 0; i < 16; i++) {
		EXPECT_EQ(load64(t, BASE + i * PAGE + 8 * i), 0x1000 + i);
		ASSERT_CONSISTENT(m);
	}
	EXPECT_EQ(mmsim_vmstat(m, "pswpin"), 16);
	EXPECT_EQ(mmsim_vmstat(m, "pgmajfault") - maj, 16);
	for (uint64_t i = 0; i < 16; i++) {
		uint64_t e = pagemap(t, BASE + i * PAGE);

		EXPECT_TRUE(e & MMSIM_PM_PRESENT);
		EXPECT_TRUE(!(e & MMSIM_PM_SWAP));
		EXPECT_TRUE(e & MMSIM_PM_MMAP_EXCLUSIVE);
	}
	/* Every slot came back: nothing else referred to them. */
	EXPECT_EQ(meminfo_kb(m, "SwapFree:"), total);
	EXPECT_EQ(t->mm->rss[MM_SWAPENTS], 0);
	EXPECT_EQ(t->mm->rss[MM_ANONPAGES], 16);
	/* The page was exclusive: a write after a read fault needs no copy. */
	store64(t, BASE, 7);
	EXPECT_EQ(load64(t, BASE), 7);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* A write fault on a swapped-out exclusive page maps it writable at once. */
TEST(swap_write_fault_reuses_exclusive_page)
{
	struct mmsim_machine *m = swap_machine(NULL, 8 * MIB, NULL, NULL);
	struct mmsim_task *t = task(m);
	int64_t faults;

	map(t, BASE, PAGE, RW);
	store64(t, BASE, 41);
	ASSERT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_PAGEOUT), 0);
	ASSERT_TRUE(swap_entry_at(t, BASE).val != 0);
	faults = mmsim_vmstat(m, "pgfault");
	store64(t, BASE + 8, 42);
	EXPECT_EQ(mmsim_vmstat(m, "pgfault") - faults, 1);
	EXPECT_EQ(load64(t, BASE), 41);
	EXPECT_TRUE(pte_write(*pte_offset(t->mm, BASE)));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * Linux's rules for MADV_PAGEOUT: only pages this process alone maps, no
 * locked memory (-EINVAL), no error without a swap device (nothing to do),
 * and MADV_COLD only ages the pages.
 */
TEST(swap_pageout_rules)
{
	struct mmsim_machine *m = swap_machine(NULL, 8 * MIB, NULL, NULL);
	struct mmsim_machine *noswap = test_machine(NULL);
	struct mmsim_task *t = task(m), *c = NULL, *u = task(noswap);

	map(t, BASE, 2 * PAGE, RW);
	store64(t, BASE, 1);
	store64(t, BASE + PAGE, 2);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	/* Shared with the child: left alone. */
	ASSERT_EQ(mmsim_madvise(t, BASE, 2 * PAGE, MMSIM_MADV_PAGEOUT), 0);
	EXPECT_EQ(mmsim_vmstat(m, "pswpout"), 0);
	EXPECT_TRUE(pagemap(t, BASE) & MMSIM_PM_PRESENT);
	ASSERT_CONSISTENT(m);
	/* Once the child has its own copy, the parent's page is its own again. */
	store64(c, BASE, 10);
	ASSERT_EQ(mmsim_madvise(t, BASE, 2 * PAGE, MMSIM_MADV_PAGEOUT), 0);
	EXPECT_EQ(mmsim_vmstat(m, "pswpout"), 1);
	EXPECT_TRUE(pagemap(t, BASE) & MMSIM_PM_SWAP);
	EXPECT_EQ(load64(t, BASE), 1);
	EXPECT_EQ(load64(c, BASE), 10);
	ASSERT_CONSISTENT(m);
	/* MADV_COLD clears the young bit and swaps nothing. */
	ASSERT_EQ(mmsim_madvise(c, BASE, PAGE, MMSIM_MADV_COLD), 0);
	EXPECT_TRUE(!pte_young(*pte_offset(c->mm, BASE)));
	EXPECT_EQ(mmsim_vmstat(m, "pswpout"), 1);
	ASSERT_CONSISTENT(m);
	/* Locked memory is refused. */
	ASSERT_EQ(mmsim_mmap(t, BASE + 16 * PAGE, PAGE, RW, ANON | MMSIM_MAP_LOCKED, -1, 0),
		  (int64_t)(BASE + 16 * PAGE));
	EXPECT_EQ(mmsim_madvise(t, BASE + 16 * PAGE, PAGE, MMSIM_MADV_PAGEOUT), -MMSIM_EINVAL);
	/* No swap device: accepted, the page stays. */
	map(u, BASE, PAGE, RW);
	store64(u, BASE, 3);
	EXPECT_EQ(mmsim_madvise(u, BASE, PAGE, MMSIM_MADV_PAGEOUT), 0);
	EXPECT_TRUE(pagemap(u, BASE) & MMSIM_PM_PRESENT);
	EXPECT_EQ(meminfo_kb(noswap, "SwapTotal:"), 0);
	ASSERT_CONSISTENT(noswap);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(noswap);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------------- fork */

/*
 * Fork of a swapped-out page: both PTEs name one slot, whose count is 2,
 * and neither is exclusive.  The first fault reads the page into the swap
 * cache, the second finds it there (no second read), and a write by
 * either side copies, leaving the other's data alone.
 */
TEST(swap_fork_shares_slot)
{
	struct mmsim_machine *m = swap_machine(NULL, 8 * MIB, NULL, NULL);
	struct mmsim_task *t = task(m), *c = NULL;
	long total = meminfo_kb(m, "SwapTotal:");
	swp_entry_t e;

	map(t, BASE, 4 * PAGE, RW);
	for (uint64_t i = 0; i < 4; i++)
		store64(t, BASE + i * PAGE, 100 + i);
	ASSERT_EQ(mmsim_madvise(t, BASE, 4 * PAGE, MMSIM_MADV_PAGEOUT), 0);
	ASSERT_TRUE(*pte_offset(t->mm, BASE) & PTE_SWP_EXCLUSIVE);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	ASSERT_CONSISTENT(m);
	e = swap_entry_at(t, BASE);
	ASSERT_TRUE(e.val != 0);
	EXPECT_EQ(swap_entry_at(c, BASE).val, e.val);
	EXPECT_EQ(swap_count(m, e), 2);
	EXPECT_TRUE(!(*pte_offset(t->mm, BASE) & PTE_SWP_EXCLUSIVE));
	EXPECT_TRUE(!(*pte_offset(c->mm, BASE) & PTE_SWP_EXCLUSIVE));
	EXPECT_EQ(c->mm->rss[MM_SWAPENTS], 4);

	EXPECT_EQ(load64(t, BASE), 100);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(swap_count(m, e), 1);
	EXPECT_EQ(meminfo_kb(m, "SwapCached:"), 4);
	EXPECT_EQ(mmsim_vmstat(m, "pswpin"), 1);
	EXPECT_EQ(load64(c, BASE), 100);
	EXPECT_EQ(mmsim_vmstat(m, "pswpin"), 1);
	EXPECT_EQ(swap_count(m, e), 0);
	EXPECT_EQ(meminfo_kb(m, "SwapCached:"), 0);
	EXPECT_EQ(pagemap(t, BASE) & MMSIM_PM_PFRAME_MASK, pagemap(c, BASE) & MMSIM_PM_PFRAME_MASK);
	ASSERT_CONSISTENT(m);
	store64(c, BASE, 200);
	EXPECT_EQ(load64(t, BASE), 100);
	EXPECT_EQ(load64(c, BASE), 200);
	ASSERT_CONSISTENT(m);
	/* Page 1: the child writes first, straight from swap. */
	store64(c, BASE + PAGE, 201);
	EXPECT_EQ(load64(t, BASE + PAGE), 101);
	EXPECT_EQ(load64(c, BASE + PAGE), 201);
	ASSERT_CONSISTENT(m);
	/* Pages 2 and 3: the child exits, the parent's references remain. */
	mmsim_task_exit(c);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(swap_count(m, swap_entry_at(t, BASE + 2 * PAGE)), 1);
	EXPECT_EQ(load64(t, BASE + 2 * PAGE), 102);
	EXPECT_EQ(load64(t, BASE + 3 * PAGE), 103);
	EXPECT_EQ(meminfo_kb(m, "SwapFree:"), total);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* munmap and exit give the slots back: SwapFree returns to SwapTotal. */
TEST(swap_munmap_frees_slots)
{
	struct mmsim_machine *m = swap_machine(NULL, 8 * MIB, NULL, NULL);
	struct mmsim_task *t = task(m), *c = NULL;
	long total = meminfo_kb(m, "SwapTotal:");

	map(t, BASE, 32 * PAGE, RW);
	for (uint64_t i = 0; i < 32; i++)
		store64(t, BASE + i * PAGE, i);
	ASSERT_EQ(mmsim_madvise(t, BASE, 32 * PAGE, MMSIM_MADV_PAGEOUT), 0);
	EXPECT_EQ(meminfo_kb(m, "SwapFree:"), total - 128);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	ASSERT_EQ(mmsim_munmap(t, BASE, 16 * PAGE), 0);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(meminfo_kb(m, "SwapFree:"), total - 128);	/* the child still has them */
	ASSERT_EQ(mmsim_munmap(c, BASE, 16 * PAGE), 0);
	EXPECT_EQ(meminfo_kb(m, "SwapFree:"), total - 64);
	ASSERT_CONSISTENT(m);
	mmsim_task_exit(c);
	ASSERT_EQ(mmsim_munmap(t, BASE + 16 * PAGE, 16 * PAGE), 0);
	EXPECT_EQ(meminfo_kb(m, "SwapFree:"), total);
	EXPECT_EQ(t->mm->rss[MM_SWAPENTS], 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ---------------------------------------------------------------- kswapd */

/*
 * 100 MiB of anonymous memory on a 64 MiB machine with 128 MiB of swap,
 * written and then read back in 128 KiB steps with 10 ms of simulated time
 * between them: kswapd keeps the zones above their watermarks, nothing is
 * killed, and every page holds what was written.
 */
TEST(swap_kswapd_keeps_small_machine_alive)
{
	struct mmsim_machine *m = swap_machine("tests/machines/small-64m.dts", 128 * MIB, NULL, NULL);
	struct mmsim_task *t = task(m);
	const uint64_t len = 100 * MIB, step = 32 * PAGE;
	struct mmsim_siginfo si;

	map(t, BASE, len, RW);
	for (uint64_t off = 0; off < len; off += step) {
		for (uint64_t a = off; a < off + step; a += PAGE) {
			ASSERT_EQ(mmsim_fill(t, BASE + a, (int)((a >> 12) & 0xff), PAGE, &si), MMSIM_ACCESS_OK);
			store64(t, BASE + a, a);
		}
		ASSERT_EQ(mmsim_advance(m, 10000000), 0);
	}
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(mmsim_vmstat(m, "oom_kill"), 0);
	EXPECT_GT(mmsim_vmstat(m, "pgsteal_kswapd"), 5000);
	EXPECT_GE(mmsim_vmstat(m, "pgscan_kswapd"), mmsim_vmstat(m, "pgsteal_kswapd"));
	EXPECT_GT(mmsim_vmstat(m, "pageoutrun"), 0);
	EXPECT_EQ(mmsim_vmstat(m, "pswpout"), mmsim_vmstat(m, "pgsteal_kswapd"));
	EXPECT_GT(t->mm->rss[MM_SWAPENTS], 0);
	for (uint64_t off = 0; off < len; off += step) {
		for (uint64_t a = off; a < off + step; a += PAGE) {
			uint8_t last = 0;

			ASSERT_EQ(load64(t, BASE + a), a);
			ASSERT_EQ(mmsim_load(t, BASE + a + PAGE - 1, &last, 1, &si), MMSIM_ACCESS_OK);
			ASSERT_EQ(last, (a >> 12) & 0xff);
		}
		ASSERT_EQ(mmsim_advance(m, 10000000), 0);
	}
	EXPECT_EQ(mmsim_vmstat(m, "oom_kill"), 0);
	EXPECT_GT(mmsim_vmstat(m, "pswpin"), 5000);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_munmap(t, BASE, len), 0);
	EXPECT_EQ(meminfo_kb(m, "SwapFree:"), meminfo_kb(m, "SwapTotal:"));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* One kswapd pass on demand, with nothing to do: no reclaim, no error. */
TEST(swap_kswapd_idle_pass)
{
	struct mmsim_machine *m = swap_machine(NULL, 8 * MIB, NULL, NULL);

	EXPECT_EQ(mmsim_run_daemon(m, "kswapd"), 0);
	EXPECT_EQ(mmsim_vmstat(m, "pageoutrun"), 0);
	EXPECT_EQ(mmsim_vmstat(m, "pgscan_kswapd"), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * Direct reclaim: the same 100 MiB written with no time passing, so only
 * the allocator's own reclaim can avoid the OOM killer.
 */
TEST(swap_direct_reclaim_avoids_oom)
{
	struct mmsim_machine *m = swap_machine("tests/machines/small-64m.dts", 128 * MIB, NULL, NULL);
	struct mmsim_task *t = task(m);
	const uint64_t len = 100 * MIB;
	struct mmsim_siginfo si;
	int r = MMSIM_ACCESS_OK;

	map(t, BASE, len, RW);
	for (uint64_t a = 0; a < len && r == MMSIM_ACCESS_OK; a += PAGE) {
		uint64_t v = a;

		r = mmsim_store(t, BASE + a, &v, 8, &si);
	}
	if (r != MMSIM_ACCESS_OK && mmsim_vmstat(m, "allocstall_movable") == 0) {
		mmsim_machine_destroy(m);
		test_skip("the allocator does not call try_to_free_pages() yet");
	}
	ASSERT_EQ(r, MMSIM_ACCESS_OK);
	EXPECT_EQ(mmsim_vmstat(m, "oom_kill"), 0);
	EXPECT_GT(mmsim_vmstat(m, "pgsteal_direct"), 0);
	for (uint64_t a = 0; a < len; a += 97 * PAGE)
		ASSERT_EQ(load64(t, BASE + a), a);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------------- the device */

static int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/*
 * A file-backed device: created (with mkswap's signature), used, and
 * removed at destroy because the model created it; an existing file is
 * used and kept.
 */
TEST(swap_file_device)
{
	char dir[] = "/tmp/mmsim-swap-XXXXXX", path[64], sig[10];
	struct mmsim_machine *m;
	struct mmsim_task *t;
	FILE *f;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/swapfile", dir);
	m = swap_machine(NULL, 4 * MIB, path, NULL);
	t = task(m);
	ASSERT_TRUE(file_exists(path));
	f = fopen(path, "rb");
	ASSERT_TRUE(f != NULL);
	ASSERT_EQ(fseek(f, (long)PAGE - 10, SEEK_SET), 0);
	ASSERT_EQ(fread(sig, 1, 10, f), 10);
	fclose(f);
	EXPECT_TRUE(memcmp(sig, "SWAPSPACE2", 10) == 0);
	map(t, BASE, 8 * PAGE, RW);
	for (uint64_t i = 0; i < 8; i++)
		store64(t, BASE + i * PAGE, 0xabc0 + i);
	ASSERT_EQ(mmsim_madvise(t, BASE, 8 * PAGE, MMSIM_MADV_PAGEOUT), 0);
	EXPECT_EQ(mmsim_vmstat(m, "pswpout"), 8);
	ASSERT_CONSISTENT(m);
	for (uint64_t i = 0; i < 8; i++)
		EXPECT_EQ(load64(t, BASE + i * PAGE), 0xabc0 + i);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
	EXPECT_TRUE(!file_exists(path));

	/* An existing file is the administrator's: used, then left in place. */
	f = fopen(path, "wb");
	ASSERT_TRUE(f != NULL);
	fclose(f);
	m = swap_machine(NULL, 4 * MIB, path, NULL);
	t = task(m);
	map(t, BASE, PAGE, RW);
	store64(t, BASE, 5);
	ASSERT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_PAGEOUT), 0);
	EXPECT_EQ(load64(t, BASE), 5);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
	EXPECT_TRUE(file_exists(path));
	unlink(path);
	rmdir(dir);
}

/* A path that cannot be opened fails the boot with the file and the reason. */
TEST(swap_bad_path_is_a_clear_error)
{
	struct mmsim_options o = { .seed = 1, .swap_bytes = 4 * MIB,
				   .swap_path = "/nonexistent-mmsim-dir/swapfile" };
	struct mmsim_machine *m = NULL;

	EXPECT_EQ(mmsim_machine_create(&o, &m), -MMSIM_ENOENT);
	EXPECT_TRUE(m == NULL);
	ASSERT_STR_CONTAINS(mmsim_strerror_last(), "/nonexistent-mmsim-dir/swapfile");
	ASSERT_STR_CONTAINS(mmsim_strerror_last(), "No such file or directory");
	o.swap_path = NULL;
	o.swap_bytes = 100;
	EXPECT_EQ(mmsim_machine_create(&o, &m), -MMSIM_EINVAL);
	ASSERT_STR_CONTAINS(mmsim_strerror_last(), "swap_bytes");
}

/* The checker notices a swap_map count that no PTE backs. */
TEST(swap_check_catches_bad_count)
{
	struct mmsim_machine *m = swap_machine(NULL, 8 * MIB, NULL, NULL);
	struct mmsim_task *t = task(m);
	char rep[4096];
	swp_entry_t e;

	map(t, BASE, PAGE, RW);
	store64(t, BASE, 1);
	ASSERT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_PAGEOUT), 0);
	e = swap_entry_at(t, BASE);
	swap_duplicate(m, e);
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "count 2 but 1 swap PTEs name it");
	swap_free(m, e);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ----------------------------------------------------------- MTE tags */

static void set_mode(struct mmsim_task *t, uint64_t mode)
{
	ASSERT_EQ(mmsim_prctl(t, MMSIM_PR_SET_TAGGED_ADDR_CTRL, CTRL(mode), 0, 0, 0), 0);
}

static unsigned int get_tag(struct mmsim_task *t, uint64_t addr)
{
	struct mmsim_siginfo si;
	unsigned int tag = 99;

	ASSERT_EQ(mmsim_get_tag(t, addr, &tag, &si), MMSIM_ACCESS_OK);
	return tag;
}

static struct page *page_at(struct mmsim_task *t, uint64_t addr)
{
	uint64_t e = pagemap(t, addr);

	ASSERT_TRUE(e & MMSIM_PM_PRESENT);
	return pfn_to_page(t->machine, e & MMSIM_PM_PFRAME_MASK);
}

/* A tagged page at BASE (tags 6 on its first half, 9 on the second) and an untagged one after it. */
static void tagged_and_untagged(struct mmsim_task *t)
{
	struct mmsim_siginfo si;

	set_mode(t, MMSIM_PR_MTE_TCF_SYNC);
	map(t, BASE, PAGE, RWMTE);
	map(t, BASE + PAGE, PAGE, RW);
	if (mmsim_set_tag(t, TAGGED(BASE, 6), PAGE / 2, &si) == -MMSIM_ENOSYS) {
		mmsim_machine_destroy(t->machine);
		test_skip("MTE tag instructions are not built yet");
	}
	ASSERT_EQ(mmsim_set_tag(t, TAGGED(BASE + PAGE / 2, 9), PAGE / 2, &si), MMSIM_ACCESS_OK);
	store64(t, TAGGED(BASE, 6), 61);
	store64(t, BASE + PAGE, 62);
	ASSERT_TRUE(page_at(t, BASE)->flags & PG_mte_tagged);
}

/*
 * A tagged page at BASE and an untagged one after it, both paged out:
 * *e is the tagged page's entry, before its tags.  Skips without MTE.
 */
static struct mmsim_machine *swapped_pair(const char *bootargs, swp_entry_t *e,
					  uint8_t before[MTE_PAGE_TAG_STORAGE_SIZE], struct mmsim_task **tp)
{
	struct mmsim_machine *m = swap_machine(NULL, 8 * MIB, NULL, bootargs);
	struct mmsim_task *t = task(m);

	if (!m->mte.supported) {
		mmsim_machine_destroy(m);
		test_skip("the machine has no MTE");
	}
	tagged_and_untagged(t);
	mte_copy_tags_out(m, page_at(t, BASE), before);
	ASSERT_EQ(mmsim_madvise(t, BASE, 2 * PAGE, MMSIM_MADV_PAGEOUT), 0);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(mmsim_vmstat(m, "pswpout"), 2);
	*e = swap_entry_at(t, BASE);
	ASSERT_TRUE(e->val != 0);
	*tp = t;
	return m;
}

/*
 * §8.5 80: swapping out a tagged page keeps a 128-byte copy of its tags
 * under the swap entry (tags_by_swp_entry[entry.val]); an untagged page
 * saves none.  If that copy cannot be allocated (failslab), the page is
 * not swapped out.
 */
TEST(spec_8_5_80_swapout_saves_tags_by_entry)
{
	uint8_t before[MTE_PAGE_TAG_STORAGE_SIZE], *saved;
	struct mmsim_task *t;
	swp_entry_t e;
	struct mmsim_machine *m = swapped_pair(NULL, &e, before, &t);
	struct mmsim_siginfo si;

	EXPECT_EQ(m->mte.tags_by_swp_entry.nr, 1);
	saved = tagbuf_load(&m->mte.tags_by_swp_entry, e.val);
	ASSERT_TRUE(saved != NULL);
	EXPECT_TRUE(memcmp(saved, before, sizeof(before)) == 0);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_swp_entry, swap_entry_at(t, BASE + PAGE).val) == NULL);
	ASSERT_CONSISTENT(m);

	/* No memory for the copy: -ENOMEM, the page stays where it is. */
	map(t, BASE + 2 * PAGE, PAGE, RWMTE);
	ASSERT_EQ(mmsim_set_tag(t, TAGGED(BASE + 2 * PAGE, 4), PAGE, &si), MMSIM_ACCESS_OK);
	m->mte.failslab_times = 1;
	ASSERT_EQ(mmsim_madvise(t, BASE + 2 * PAGE, PAGE, MMSIM_MADV_PAGEOUT), 0);
	EXPECT_EQ(m->mte.failslab_times, 0);
	EXPECT_TRUE(pagemap(t, BASE + 2 * PAGE) & MMSIM_PM_PRESENT);
	EXPECT_EQ(mmsim_vmstat(m, "pswpout"), 2);
	EXPECT_EQ(m->mte.tags_by_swp_entry.nr, 1);
	EXPECT_EQ(get_tag(t, BASE + 2 * PAGE), 4);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.5 81: swap-in by the PROT_MTE mapping, whose new page is allocated
 * tagged and so has its storage: prepare does nothing (no pfn copy), the
 * restore puts the saved tags back and the page is tagged, with the tags
 * it had before swap-out.  The slot goes, and its copy with it (85).
 */
TEST(spec_8_5_81_mte_swapin_restores_tags)
{
	uint8_t before[MTE_PAGE_TAG_STORAGE_SIZE], after[MTE_PAGE_TAG_STORAGE_SIZE];
	struct mmsim_task *t;
	swp_entry_t e;
	struct mmsim_machine *m = swapped_pair(NULL, &e, before, &t);
	uint64_t by_pfn = m->mte.tags_by_pfn.nr;
	struct page *p;

	EXPECT_EQ(load64(t, TAGGED(BASE, 6)), 61);
	ASSERT_CONSISTENT(m);
	p = page_at(t, BASE);
	EXPECT_TRUE(p->flags & PG_mte_tagged);
	EXPECT_TRUE(!m->mte.storage_enabled || page_tag_storage_reserved(p));
	EXPECT_EQ(m->mte.tags_by_pfn.nr, by_pfn);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, page_to_pfn(m, p)) == NULL);
	EXPECT_EQ(get_tag(t, BASE), 6);
	EXPECT_EQ(get_tag(t, BASE + PAGE / 2), 9);
	mte_copy_tags_out(m, p, after);
	EXPECT_TRUE(memcmp(after, before, sizeof(before)) == 0);
	EXPECT_EQ(m->mte.tags_by_swp_entry.nr, 0);
	EXPECT_EQ(load64(t, BASE + PAGE), 62);
	EXPECT_TRUE(!(page_at(t, BASE + PAGE)->flags & PG_mte_tagged));
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.5 85: freeing a slot (munmap of the swapped page) erases its copy;
 * switching the area off erases every copy in [swp_entry(type, 0),
 * swp_entry(type + 1, 0)), whatever the offset, and nothing outside.  The
 * model has one swap device and no swapoff(2): the area is switched off
 * at machine destruction (swap_exit), which calls the same
 * arch_swap_invalidate_area called here.
 */
TEST(spec_8_5_85_slot_free_and_swapoff_erase_saved_tags)
{
	struct mmsim_machine *m = swap_machine(NULL, 8 * MIB, NULL, NULL);
	struct mmsim_task *t = task(m);
	uint8_t tags[MTE_PAGE_TAG_STORAGE_SIZE];
	struct mmsim_siginfo si;
	swp_entry_t far = swp_entry(0, (1ULL << 50) - 1), other = swp_entry(1, 0);

	if (!m->mte.supported) {
		mmsim_machine_destroy(m);
		test_skip("the machine has no MTE");
	}
	tagged_and_untagged(t);
	ASSERT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_PAGEOUT), 0);
	EXPECT_EQ(m->mte.tags_by_swp_entry.nr, 1);
	ASSERT_EQ(mmsim_munmap(t, BASE, PAGE), 0);
	EXPECT_EQ(m->mte.tags_by_swp_entry.nr, 0);
	ASSERT_CONSISTENT(m);
	/* The area: every entry of type 0 goes, whatever its offset. */
	map(t, BASE, PAGE, RWMTE);
	ASSERT_EQ(mmsim_set_tag(t, TAGGED(BASE, 3), PAGE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_PAGEOUT), 0);
	EXPECT_EQ(m->mte.tags_by_swp_entry.nr, 1);
	memset(tags, 0x85, sizeof(tags));
	ASSERT_EQ(tagbuf_store(&m->mte.tags_by_swp_entry, far.val, tags), 0);
	ASSERT_EQ(tagbuf_store(&m->mte.tags_by_swp_entry, other.val, tags), 0);
	arch_swap_invalidate_area(m, 0);
	EXPECT_EQ(m->mte.tags_by_swp_entry.nr, 1);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_swp_entry, far.val) == NULL);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_swp_entry, other.val) != NULL);
	EXPECT_TRUE(tagbuf_erase(&m->mte.tags_by_swp_entry, other.val, NULL));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * The tagged page of tagged_and_untagged, paged out, then read back
 * through its mapping made untagged (as a second, untagged mapping of a
 * shared page would read it): the new page has no storage.
 */
static struct mmsim_machine *untagged_swapin(uint8_t before[MTE_PAGE_TAG_STORAGE_SIZE],
					     struct mmsim_task **tp, struct page **pp)
{
	struct mmsim_machine *m = swap_machine(NULL, 8 * MIB, NULL, NULL);
	struct mmsim_task *t = task(m);
	struct vm_area_struct *vma;

	if (!m->mte.supported || !m->mte.storage_enabled) {
		mmsim_machine_destroy(m);
		test_skip("the machine has no dynamic tag storage");
	}
	tagged_and_untagged(t);
	mte_copy_tags_out(m, page_at(t, BASE), before);
	ASSERT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_PAGEOUT), 0);
	/* The mapping loses VM_MTE (as mprotect without PROT_MTE does on Linux). */
	vma = vma_lookup(t->mm, BASE);
	ASSERT_TRUE(vma != NULL);
	vma->vm_flags &= ~VM_MTE;
	vma_set_page_prot(vma);
	ASSERT_CONSISTENT(m);
	/* A tagged pointer: fine for an untagged mapping, and for the tagged one before. */
	EXPECT_EQ(load64(t, TAGGED(BASE, 6)), 61);
	ASSERT_CONSISTENT(m);
	*pp = page_at(t, BASE);
	*tp = t;
	return m;
}

/*
 * §8.5 82: swap-in by an untagged mapping gets a page without storage:
 * prepare copies the tags to tags_by_pfn[new pfn], the restore skips, the
 * page stays untagged, and no tag is written anywhere.
 */
TEST(spec_8_5_82_untagged_swapin_saves_tags_by_pfn)
{
	uint8_t before[MTE_PAGE_TAG_STORAGE_SIZE], *saved;
	struct mmsim_task *t;
	struct page *p;
	struct mmsim_machine *m = untagged_swapin(before, &t, &p);

	EXPECT_TRUE(!page_tag_storage_reserved(p));
	EXPECT_TRUE(!(p->flags & PG_mte_tagged));
	saved = tagbuf_load(&m->mte.tags_by_pfn, page_to_pfn(m, p));
	ASSERT_TRUE(saved != NULL);
	EXPECT_TRUE(memcmp(saved, before, sizeof(before)) == 0);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	EXPECT_EQ(m->mte.tags_by_swp_entry.nr, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.5 83: that page, mapped PROT_MTE later: its PTE is METADATA_NONE, the
 * fault reserves its storage and the mapping restores the saved tags,
 * consuming the tags_by_pfn entry.
 */
TEST(spec_8_5_83_mapped_tagged_later_restores_saved_tags)
{
	uint8_t before[MTE_PAGE_TAG_STORAGE_SIZE], after[MTE_PAGE_TAG_STORAGE_SIZE];
	struct mmsim_task *t;
	struct page *p;
	struct mmsim_machine *m = untagged_swapin(before, &t, &p);
	const struct tag_region *r;
	uint64_t block;
	int64_t success;
	pteval_t *ptep;

	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	ptep = pte_offset(t->mm, BASE);
	ASSERT_TRUE(ptep != NULL);
	EXPECT_TRUE(pte_metadata_none(*ptep));
	ASSERT_EQ(tag_storage_find_block(m, page_to_pfn(m, p), &block, &r), 0);
	ASSERT_TRUE(!(pfn_to_page(m, block)->flags & PG_tag_block));
	success = mmsim_vmstat(m, "metadata_reserve_success");
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(load64(t, TAGGED(BASE, 6)), 61);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(page_at(t, BASE), p);
	EXPECT_TRUE(pte_valid(*ptep) && pte_tagged(*ptep));
	EXPECT_TRUE(pfn_to_page(m, block)->flags & PG_tag_block);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success") - success, 1);
	EXPECT_TRUE(p->flags & PG_mte_tagged);
	EXPECT_TRUE(page_tag_storage_reserved(p));
	EXPECT_EQ(get_tag(t, BASE), 6);
	EXPECT_EQ(get_tag(t, BASE + PAGE - 16), 9);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, page_to_pfn(m, p)) == NULL);
	mte_copy_tags_out(m, p, after);
	EXPECT_TRUE(memcmp(after, before, sizeof(before)) == 0);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* Static tag storage (Linux today): tags come back whatever the mapping. */
TEST(swap_mte_static_policy_round_trip)
{
	struct mmsim_machine *m = swap_machine(NULL, 8 * MIB, NULL, "mte_tag_storage=static");
	struct mmsim_task *t = task(m);

	if (!m->mte.supported) {
		mmsim_machine_destroy(m);
		test_skip("the machine has no MTE");
	}
	tagged_and_untagged(t);
	ASSERT_EQ(mmsim_madvise(t, BASE, 2 * PAGE, MMSIM_MADV_PAGEOUT), 0);
	EXPECT_EQ(m->mte.tags_by_swp_entry.nr, 1);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RW), 0);
	EXPECT_EQ(load64(t, TAGGED(BASE, 6)), 61);
	/* §5.1: restored even though the mapping is untagged now. */
	EXPECT_TRUE(page_at(t, BASE)->flags & PG_mte_tagged);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	EXPECT_EQ(get_tag(t, BASE), 6);
	EXPECT_EQ(get_tag(t, BASE + PAGE / 2), 9);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* §8.5 89: a restore that finds the page already tagged leaves its tags alone. */
TEST(spec_8_5_89_restore_does_not_overwrite_tagged_page)
{
	struct mmsim_machine *m = swap_machine(NULL, 8 * MIB, NULL, "mte_tag_storage=static");
	uint8_t mine[MTE_PAGE_TAG_STORAGE_SIZE], saved[MTE_PAGE_TAG_STORAGE_SIZE], now[MTE_PAGE_TAG_STORAGE_SIZE];
	swp_entry_t e = swp_entry(0, 5);
	struct page *p;

	if (!m->mte.supported) {
		mmsim_machine_destroy(m);
		test_skip("the machine has no MTE");
	}
	p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE | __GFP_TAGGED, 0);
	ASSERT_TRUE(p != NULL);
	memset(mine, 0x33, sizeof(mine));
	memset(saved, 0x77, sizeof(saved));
	mte_copy_tags_in(m, p, mine);
	p->flags |= PG_mte_tagged;
	ASSERT_EQ(tagbuf_store(&m->mte.tags_by_swp_entry, e.val, saved), 0);
	EXPECT_EQ(arch_swap_prepare_to_restore(m, e, p), 0);
	arch_swap_restore(m, e, p);
	mte_copy_tags_out(m, p, now);
	EXPECT_TRUE(memcmp(now, mine, sizeof(mine)) == 0);
	/* And an untagged page does take them. */
	p->flags &= ~PG_mte_tagged;
	arch_swap_restore(m, e, p);
	mte_copy_tags_out(m, p, now);
	EXPECT_TRUE(memcmp(now, saved, sizeof(saved)) == 0);
	EXPECT_TRUE(p->flags & PG_mte_tagged);
	arch_swap_invalidate_page(m, 0, 5);
	EXPECT_EQ(m->mte.tags_by_swp_entry.nr, 0);
	__free_pages(m, p, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}
