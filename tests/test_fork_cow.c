// SPDX-License-Identifier: MIT
/*
 * tests/test_fork_cow.c - fork and copy-on-write as a process sees them:
 * bytes, /proc/pid/pagemap entries (bit 63 present, bits 0-54 PFN, bit 56
 * exclusively mapped), MADV_WIPEONFORK / MADV_DONTFORK, threads sharing one
 * address space, the pgfault counter, and memory coming back on exit.
 */
#include <stdlib.h>

#include "harness.h"

#define BASE		0x400000000ULL
#define RW		(MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define ANON_PRIV	(MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)
#define ANON_SHARED	(MMSIM_MAP_SHARED | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)

static struct mmsim_task *new_task(struct mmsim_machine *m)
{
	struct mmsim_task *t = NULL;

	ASSERT_EQ(mmsim_task_create(m, &t), 0);
	ASSERT_TRUE(t != NULL);
	return t;
}

static struct mmsim_task *fork_of(struct mmsim_task *t)
{
	struct mmsim_task *c = NULL;

	ASSERT_EQ(mmsim_fork(t, &c), 0);
	ASSERT_TRUE(c != NULL);
	return c;
}

static int put(struct mmsim_task *t, uint64_t addr, uint8_t byte)
{
	struct mmsim_siginfo si;

	return mmsim_store(t, addr, &byte, 1, &si);
}

static int get(struct mmsim_task *t, uint64_t addr)
{
	struct mmsim_siginfo si;
	uint8_t b;

	if (mmsim_load(t, addr, &b, 1, &si) != MMSIM_ACCESS_OK)
		return -1;
	return b;
}

static int fill(struct mmsim_task *t, uint64_t addr, int byte, uint64_t len)
{
	struct mmsim_siginfo si;

	return mmsim_fill(t, addr, byte, len, &si);
}

static uint64_t pagemap(struct mmsim_task *t, uint64_t addr)
{
	uint64_t e = 0;

	ASSERT_EQ(mmsim_pagemap(t, addr, &e), 0);
	return e;
}

#define PFN(e)		((e) & MMSIM_PM_PFRAME_MASK)
#define PRESENT(e)	(((e) & MMSIM_PM_PRESENT) != 0)
#define EXCLUSIVE(e)	(((e) & MMSIM_PM_MMAP_EXCLUSIVE) != 0)

/* MemFree in kB, from /proc/meminfo's text. */
static long mem_free_kb(struct mmsim_machine *m)
{
	static char buf[16384];
	ssize_t n = mmsim_proc_read(m, NULL, "meminfo", buf, sizeof(buf) - 1);
	const char *p;

	ASSERT_GT(n, 0);
	buf[n] = 0;
	p = strstr(buf, "MemFree:");
	ASSERT_TRUE(p != NULL);
	return strtol(p + strlen("MemFree:"), NULL, 10);
}

TEST(fork_cow_bytes_private_after_write)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *p = new_task(m), *c;

	ASSERT_EQ(mmsim_mmap(p, BASE, 4 * PAGE, RW, ANON_PRIV, -1, 0), (int64_t)BASE);
	ASSERT_EQ(fill(p, BASE, 0x31, 4 * PAGE), MMSIM_ACCESS_OK);
	c = fork_of(p);
	ASSERT_CONSISTENT(m);
	for (uint64_t a = BASE; a < BASE + 4 * PAGE; a += 1021) {
		EXPECT_EQ(get(p, a), 0x31);
		EXPECT_EQ(get(c, a), 0x31);
	}
	/* The child's write is its own ... */
	ASSERT_EQ(put(c, BASE + 10, 0x41), MMSIM_ACCESS_OK);
	EXPECT_EQ(get(c, BASE + 10), 0x41);
	EXPECT_EQ(get(p, BASE + 10), 0x31);
	/* ... and so is the parent's, on another page and on the same one. */
	ASSERT_EQ(put(p, BASE + PAGE, 0x51), MMSIM_ACCESS_OK);
	ASSERT_EQ(put(p, BASE + 11, 0x52), MMSIM_ACCESS_OK);
	EXPECT_EQ(get(c, BASE + PAGE), 0x31);
	EXPECT_EQ(get(c, BASE + 11), 0x31);
	EXPECT_EQ(get(p, BASE + 10), 0x31);
	ASSERT_CONSISTENT(m);
	/* The child keeps its copy when the parent goes away. */
	mmsim_task_exit(p);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(get(c, BASE + 10), 0x41);
	EXPECT_EQ(get(c, BASE + 3 * PAGE), 0x31);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * After fork an anonymous page is mapped by both processes (same PFN, so not
 * exclusive in either); the child's write gives it its own page, after which
 * each side maps its page exclusively.
 */
TEST(fork_cow_pagemap_shared_until_written)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *p = new_task(m), *c;
	uint64_t e0, ep, ec;

	ASSERT_EQ(mmsim_mmap(p, BASE, PAGE, RW, ANON_PRIV, -1, 0), (int64_t)BASE);
	ASSERT_EQ(put(p, BASE, 1), MMSIM_ACCESS_OK);
	e0 = pagemap(p, BASE);
	EXPECT_TRUE(PRESENT(e0));
	EXPECT_TRUE(EXCLUSIVE(e0));
	c = fork_of(p);
	ep = pagemap(p, BASE);
	ec = pagemap(c, BASE);
	EXPECT_TRUE(PRESENT(ep));
	EXPECT_TRUE(PRESENT(ec));
	EXPECT_EQ(PFN(ep), PFN(e0));
	EXPECT_EQ(PFN(ec), PFN(ep));
	EXPECT_TRUE(!EXCLUSIVE(ep));
	EXPECT_TRUE(!EXCLUSIVE(ec));
	/* Reading does not break the sharing. */
	EXPECT_EQ(get(c, BASE), 1);
	EXPECT_EQ(PFN(pagemap(c, BASE)), PFN(e0));
	ASSERT_EQ(put(c, BASE, 2), MMSIM_ACCESS_OK);
	ASSERT_CONSISTENT(m);
	ep = pagemap(p, BASE);
	ec = pagemap(c, BASE);
	EXPECT_TRUE(PRESENT(ec));
	EXPECT_NE(PFN(ec), PFN(ep));
	EXPECT_EQ(PFN(ep), PFN(e0));
	EXPECT_TRUE(EXCLUSIVE(ec));
	EXPECT_TRUE(EXCLUSIVE(ep));
	EXPECT_EQ(get(p, BASE), 1);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* Reading untouched anonymous memory maps the one shared zero page. */
TEST(fork_zero_page_shared_between_processes)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *a = new_task(m), *b = new_task(m);
	uint64_t ea, eb, ea2;

	ASSERT_EQ(mmsim_mmap(a, BASE, 2 * PAGE, MMSIM_PROT_READ, ANON_PRIV, -1, 0), (int64_t)BASE);
	ASSERT_EQ(mmsim_mmap(b, BASE + 8 * PAGE, PAGE, RW, ANON_PRIV, -1, 0),
		  (int64_t)(BASE + 8 * PAGE));
	/* Not touched yet: nothing present. */
	EXPECT_TRUE(!PRESENT(pagemap(a, BASE)));
	EXPECT_EQ(get(a, BASE), 0);
	EXPECT_EQ(get(a, BASE + PAGE), 0);
	EXPECT_EQ(get(b, BASE + 8 * PAGE), 0);
	ea = pagemap(a, BASE);
	ea2 = pagemap(a, BASE + PAGE);
	eb = pagemap(b, BASE + 8 * PAGE);
	EXPECT_TRUE(PRESENT(ea));
	EXPECT_TRUE(PRESENT(eb));
	EXPECT_EQ(PFN(ea), PFN(eb));
	EXPECT_EQ(PFN(ea), PFN(ea2));
	/* The zero page is no process's own page. */
	EXPECT_TRUE(!EXCLUSIVE(ea));
	/* A write replaces it with a private page. */
	ASSERT_EQ(put(b, BASE + 8 * PAGE, 3), MMSIM_ACCESS_OK);
	eb = pagemap(b, BASE + 8 * PAGE);
	EXPECT_NE(PFN(eb), PFN(ea));
	EXPECT_EQ(PFN(pagemap(a, BASE)), PFN(ea));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 *   BASE    +P      +2P
 *   | wipe  | keep  |     MADV_WIPEONFORK on the first page
 */
TEST(fork_wipeonfork_child_reads_zeros)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *p = new_task(m), *c;

	ASSERT_EQ(mmsim_mmap(p, BASE, 2 * PAGE, RW, ANON_PRIV, -1, 0), (int64_t)BASE);
	ASSERT_EQ(fill(p, BASE, 0x66, 2 * PAGE), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_madvise(p, BASE, PAGE, MMSIM_MADV_WIPEONFORK), 0);
	c = fork_of(p);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(get(c, BASE), 0);
	EXPECT_EQ(get(c, BASE + PAGE - 1), 0);
	EXPECT_EQ(get(c, BASE + PAGE), 0x66);
	EXPECT_EQ(get(p, BASE), 0x66);
	/* The range is still mapped in the child, and private to it. */
	EXPECT_EQ(put(c, BASE, 1), MMSIM_ACCESS_OK);
	EXPECT_EQ(get(p, BASE), 0x66);
	/* KEEPONFORK undoes it for the next fork. */
	ASSERT_EQ(mmsim_madvise(p, BASE, PAGE, MMSIM_MADV_KEEPONFORK), 0);
	c = fork_of(p);
	EXPECT_EQ(get(c, BASE), 0x66);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(fork_dontfork_child_maperr)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *p = new_task(m), *c;
	struct mmsim_siginfo si = { 0 };
	uint8_t b;

	ASSERT_EQ(mmsim_mmap(p, BASE, 2 * PAGE, RW, ANON_PRIV, -1, 0), (int64_t)BASE);
	ASSERT_EQ(fill(p, BASE, 0x77, 2 * PAGE), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_madvise(p, BASE + PAGE, PAGE, MMSIM_MADV_DONTFORK), 0);
	c = fork_of(p);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(get(c, BASE), 0x77);
	EXPECT_EQ(mmsim_load(c, BASE + PAGE + 8, &b, 1, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.signo, MMSIM_SIGSEGV);
	EXPECT_EQ(si.code, MMSIM_SEGV_MAPERR);
	EXPECT_EQ(si.addr, BASE + PAGE + 8);
	EXPECT_EQ(get(p, BASE + PAGE + 8), 0x77);
	/* The hole in the child is free to map. */
	EXPECT_EQ(mmsim_mmap(c, BASE + PAGE, PAGE, RW, ANON_PRIV | MMSIM_MAP_FIXED_NOREPLACE, -1, 0),
		  (int64_t)(BASE + PAGE));
	ASSERT_EQ(mmsim_madvise(p, BASE + PAGE, PAGE, MMSIM_MADV_DOFORK), 0);
	c = fork_of(p);
	EXPECT_EQ(get(c, BASE + PAGE + 8), 0x77);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(fork_shared_anon_stays_shared)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *p = new_task(m), *c, *g;

	ASSERT_EQ(mmsim_mmap(p, BASE, 2 * PAGE, RW, ANON_SHARED, -1, 0), (int64_t)BASE);
	ASSERT_EQ(put(p, BASE, 1), MMSIM_ACCESS_OK);
	c = fork_of(p);
	g = fork_of(c);
	EXPECT_EQ(get(g, BASE), 1);
	ASSERT_EQ(put(c, BASE + PAGE, 2), MMSIM_ACCESS_OK);
	EXPECT_EQ(get(p, BASE + PAGE), 2);
	EXPECT_EQ(get(g, BASE + PAGE), 2);
	ASSERT_EQ(put(g, BASE, 3), MMSIM_ACCESS_OK);
	EXPECT_EQ(get(p, BASE), 3);
	/* All three map the same page, so none maps it exclusively. */
	EXPECT_EQ(PFN(pagemap(p, BASE)), PFN(pagemap(g, BASE)));
	EXPECT_TRUE(!EXCLUSIVE(pagemap(c, BASE)));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(fork_threads_share_address_space)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *p = new_task(m), *th = NULL, *c;

	ASSERT_EQ(mmsim_thread_create(p, &th), 0);
	ASSERT_TRUE(th != NULL);
	EXPECT_NE(mmsim_task_pid(th), mmsim_task_pid(p));
	EXPECT_EQ(mmsim_task_tgid(th), mmsim_task_tgid(p));
	/* A mapping made by one thread is there for the other. */
	ASSERT_EQ(mmsim_mmap(th, BASE, PAGE, RW, ANON_PRIV, -1, 0), (int64_t)BASE);
	ASSERT_EQ(put(p, BASE, 5), MMSIM_ACCESS_OK);
	EXPECT_EQ(get(th, BASE), 5);
	ASSERT_EQ(put(th, BASE + 1, 6), MMSIM_ACCESS_OK);
	EXPECT_EQ(get(p, BASE + 1), 6);
	EXPECT_EQ(pagemap(p, BASE), pagemap(th, BASE));
	/* A fork from the thread copies the one address space. */
	c = fork_of(th);
	EXPECT_EQ(get(c, BASE + 1), 6);
	ASSERT_EQ(put(c, BASE + 1, 7), MMSIM_ACCESS_OK);
	EXPECT_EQ(get(p, BASE + 1), 6);
	/* munmap by one thread is seen by the other; exit of a thread keeps it. */
	mmsim_task_exit(th);
	EXPECT_EQ(get(p, BASE), 5);
	ASSERT_EQ(mmsim_munmap(p, BASE, PAGE), 0);
	EXPECT_EQ(get(p, BASE), -1);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(fork_pgfault_counts)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *p = new_task(m), *c;
	int64_t f0, f1, f2;

	ASSERT_EQ(mmsim_mmap(p, BASE, 4 * PAGE, RW, ANON_PRIV, -1, 0), (int64_t)BASE);
	f0 = mmsim_vmstat(m, "pgfault");
	ASSERT_GE(f0, 0);
	ASSERT_EQ(put(p, BASE, 1), MMSIM_ACCESS_OK);
	f1 = mmsim_vmstat(m, "pgfault");
	EXPECT_GT(f1, f0);
	/* A second access to a mapped, writable page needs no fault. */
	ASSERT_EQ(put(p, BASE + 1, 1), MMSIM_ACCESS_OK);
	EXPECT_EQ(mmsim_vmstat(m, "pgfault"), f1);
	c = fork_of(p);
	/* The COW break in the child is a fault too. */
	ASSERT_EQ(put(c, BASE, 2), MMSIM_ACCESS_OK);
	f2 = mmsim_vmstat(m, "pgfault");
	EXPECT_GT(f2, f1);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* A parent and a child each dirty 2 MiB of private memory, then exit. */
static void dirty_and_exit(struct mmsim_machine *m, uint64_t pages, long *during)
{
	struct mmsim_task *p = new_task(m), *c;

	/* One CPU, so that one set of per-CPU page lists is involved. */
	ASSERT_EQ(mmsim_task_set_cpu(p, 0), 0);
	ASSERT_EQ(mmsim_mmap(p, BASE, pages * PAGE, RW, ANON_PRIV, -1, 0), (int64_t)BASE);
	ASSERT_EQ(fill(p, BASE, 0x12, pages * PAGE), MMSIM_ACCESS_OK);
	c = fork_of(p);
	ASSERT_EQ(mmsim_task_set_cpu(c, 0), 0);
	ASSERT_EQ(fill(c, BASE, 0x34, pages * PAGE), MMSIM_ACCESS_OK);
	ASSERT_CONSISTENT(m);
	*during = mem_free_kb(m);
	mmsim_task_exit(c);
	mmsim_task_exit(p);
	ASSERT_CONSISTENT(m);
}

/*
 * Memory a process touched comes back when it exits.  Freed order-0 pages
 * first land on per-CPU lists, which MemFree does not count (as in Linux),
 * so one warm-up round fills those lists; after that the same round must
 * leave MemFree exactly where it started.
 */
TEST(fork_exit_frees_memory)
{
	struct mmsim_machine *m = test_machine(NULL);
	const uint64_t pages = 512;
	long before, during, after;

	dirty_and_exit(m, pages, &during);
	before = mem_free_kb(m);
	dirty_and_exit(m, pages, &during);
	/*
	 * Two private copies of 2 MiB were in use; part of them came from the
	 * per-CPU lists, so MemFree dropped by less than 4 MiB.
	 */
	EXPECT_LT(during, before);
	after = mem_free_kb(m);
	if (after != before)
		test_diag("MemFree: %ld kB before, %ld kB with both, %ld kB after exit",
			  before, during, after);
	EXPECT_EQ(after, before);
	mmsim_machine_destroy(m);
}
