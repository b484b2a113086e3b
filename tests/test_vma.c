// SPDX-License-Identifier: MIT
/*
 * tests/test_vma.c - the VMA layer as a process sees it: how mmap, munmap,
 * mprotect, madvise and mremap split and merge mappings (read back from
 * /proc/self/maps and from what loads and stores do), that bytes travel
 * with a moved mapping, and Linux's errno for each malformed call.
 *
 * Diagrams show pages left to right: "rw" and "r-" are VMAs with their
 * protection, "|" a VMA boundary, "...." unmapped.
 */
#include <stdlib.h>

#include "harness.h"

#define BASE		0x400000000ULL
#define RW		(MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define RO		MMSIM_PROT_READ
#define ANON		(MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS)
#define ANON_FIXED	(ANON | MMSIM_MAP_FIXED)
#define SHARED_FIXED	(MMSIM_MAP_SHARED | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)

static struct mmsim_task *new_task(struct mmsim_machine *m)
{
	struct mmsim_task *t = NULL;

	ASSERT_EQ(mmsim_task_create(m, &t), 0);
	ASSERT_TRUE(t != NULL);
	return t;
}

/* Store one byte; returns 0, or the si_code of the SIGSEGV/SIGBUS. */
static int put(struct mmsim_task *t, uint64_t addr, uint8_t byte)
{
	struct mmsim_siginfo si = { 0 };

	if (mmsim_store(t, addr, &byte, 1, &si) == MMSIM_ACCESS_OK)
		return 0;
	return si.code ? si.code : -1;
}

/* Load one byte; returns it, or -(si_code) when the load faults. */
static int get(struct mmsim_task *t, uint64_t addr)
{
	struct mmsim_siginfo si = { 0 };
	uint8_t b;

	if (mmsim_load(t, addr, &b, 1, &si) != MMSIM_ACCESS_OK)
		return si.code ? -si.code : -100;
	return b;
}

/* mmap that must succeed at @addr (MAP_FIXED) with @len bytes. */
static void map_at(struct mmsim_task *t, uint64_t addr, uint64_t len, int prot, int flags)
{
	ASSERT_EQ(mmsim_mmap(t, addr, len, prot, flags | MMSIM_MAP_FIXED, -1, 0), (int64_t)addr);
}

/* Fill page @i of the range at @base with the byte 0x10 + i. */
static void stamp(struct mmsim_task *t, uint64_t base, int npages)
{
	for (int i = 0; i < npages; i++)
		ASSERT_EQ(put(t, base + i * PAGE + 7, (uint8_t)(0x10 + i)), 0);
}

static void expect_stamps(struct mmsim_task *t, uint64_t base, int first, int npages)
{
	for (int i = 0; i < npages; i++)
		EXPECT_EQ(get(t, base + i * PAGE + 7), 0x10 + first + i);
}

/* Mappings read back from /proc/self/maps. */
struct maps_view {
	int n;
	uint64_t start[64], end[64];
	char perms[64][5];
};

/* The lines of /proc/self/maps that intersect [lo, hi), in @mv; returns how many. */
static int maps_in(struct mmsim_machine *m, struct mmsim_task *t, uint64_t lo, uint64_t hi,
		   struct maps_view *mv)
{
	static char buf[1 << 16];
	ssize_t len = mmsim_proc_read(m, t, "self/maps", buf, sizeof(buf) - 1);
	char *line;

	mv->n = 0;
	if (len < 0) {
		test_fail(__FILE__, __LINE__, "proc_read(self/maps): %s", mmsim_strerror_last());
		longjmp(test_abort_jmp, 1);
	}
	buf[len] = '\0';
	for (line = buf; *line && mv->n < 64; ) {
		unsigned long long s, e;
		char perms[5] = "";
		char *nl = strchr(line, '\n');

		if (sscanf(line, "%llx-%llx %4s", &s, &e, perms) == 3 && s < hi && e > lo) {
			mv->start[mv->n] = s;
			mv->end[mv->n] = e;
			memcpy(mv->perms[mv->n], perms, 5);
			mv->n++;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return mv->n;
}

/* Expect VMA @i of the view to be [s, e) with permissions @perms. */
#define EXPECT_VMA(mv, i, s, e, p) do {                                         \
	EXPECT_EQ((mv)->start[i], (s));                                         \
	EXPECT_EQ((mv)->end[i], (e));                                           \
	if (strcmp((mv)->perms[i], (p)))                                        \
		test_fail(__FILE__, __LINE__, "VMA %d perms '%s', expected '%s'", \
			  (i), (mv)->perms[i], (p));                            \
} while (0)

/* ------------------------------------------------------- split / merge */

/*
 * mprotect of the middle page splits one VMA in three; giving it back its
 * old protection merges them again.
 *
 *   mmap 3 pages       |rw rw rw|
 *   mprotect(+1, R)    |rw|r-|rw|     store to +1: SEGV_ACCERR
 *   mprotect(+1, RW)   |rw rw rw|
 */
TEST(vma_mprotect_split_merge)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	struct maps_view mv;

	map_at(t, BASE, 3 * PAGE, RW, ANON);
	stamp(t, BASE, 3);
	ASSERT_EQ(maps_in(m, t, BASE, BASE + 3 * PAGE, &mv), 1);
	ASSERT_CONSISTENT(m);

	ASSERT_EQ(mmsim_mprotect(t, BASE + PAGE, PAGE, RO), 0);
	ASSERT_EQ(maps_in(m, t, BASE, BASE + 3 * PAGE, &mv), 3);
	EXPECT_VMA(&mv, 0, BASE, BASE + PAGE, "rw-p");
	EXPECT_VMA(&mv, 1, BASE + PAGE, BASE + 2 * PAGE, "r--p");
	EXPECT_VMA(&mv, 2, BASE + 2 * PAGE, BASE + 3 * PAGE, "rw-p");
	EXPECT_EQ(put(t, BASE + PAGE, 1), MMSIM_SEGV_ACCERR);
	EXPECT_EQ(put(t, BASE, 0x10), 0);
	EXPECT_EQ(put(t, BASE + 2 * PAGE, 0x12), 0);
	expect_stamps(t, BASE, 0, 3);
	ASSERT_CONSISTENT(m);

	ASSERT_EQ(mmsim_mprotect(t, BASE + PAGE, PAGE, RW), 0);
	ASSERT_EQ(maps_in(m, t, BASE, BASE + 3 * PAGE, &mv), 1);
	EXPECT_VMA(&mv, 0, BASE, BASE + 3 * PAGE, "rw-p");
	EXPECT_EQ(put(t, BASE + PAGE + 7, 0x11), 0);
	expect_stamps(t, BASE, 0, 3);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * Two separate mmaps next to each other become one VMA; different
 * protections keep them apart.
 *
 *   mmap A            |rw|
 *   mmap B above      |rw rw|          one VMA
 *   mmap C above, R   |rw rw|r-|
 */
TEST(vma_mmap_merges_neighbours)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	struct maps_view mv;

	map_at(t, BASE, PAGE, RW, ANON);
	ASSERT_EQ(put(t, BASE, 1), 0);          /* A gets an anon_vma, B has none */
	map_at(t, BASE + PAGE, PAGE, RW, ANON);
	ASSERT_EQ(maps_in(m, t, BASE, BASE + 3 * PAGE, &mv), 1);
	EXPECT_VMA(&mv, 0, BASE, BASE + 2 * PAGE, "rw-p");
	ASSERT_EQ(put(t, BASE + PAGE, 2), 0);
	map_at(t, BASE + 2 * PAGE, PAGE, RO, ANON);
	ASSERT_EQ(maps_in(m, t, BASE, BASE + 3 * PAGE, &mv), 2);
	EXPECT_VMA(&mv, 1, BASE + 2 * PAGE, BASE + 3 * PAGE, "r--p");
	EXPECT_EQ(get(t, BASE), 1);
	EXPECT_EQ(get(t, BASE + PAGE), 2);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * munmap of the middle page leaves a hole.
 *
 *   mmap 3 pages       |rw rw rw|
 *   munmap(+1)         |rw|....|rw|   load from +1: SEGV_MAPERR
 */
TEST(vma_munmap_hole)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	struct maps_view mv;

	map_at(t, BASE, 3 * PAGE, RW, ANON);
	stamp(t, BASE, 3);
	ASSERT_EQ(mmsim_munmap(t, BASE + PAGE, PAGE), 0);
	ASSERT_EQ(maps_in(m, t, BASE, BASE + 3 * PAGE, &mv), 2);
	EXPECT_VMA(&mv, 0, BASE, BASE + PAGE, "rw-p");
	EXPECT_VMA(&mv, 1, BASE + 2 * PAGE, BASE + 3 * PAGE, "rw-p");
	EXPECT_EQ(get(t, BASE + PAGE), -MMSIM_SEGV_MAPERR);
	EXPECT_EQ(put(t, BASE + PAGE, 1), MMSIM_SEGV_MAPERR);
	EXPECT_EQ(get(t, BASE + 7), 0x10);
	EXPECT_EQ(get(t, BASE + 2 * PAGE + 7), 0x12);
	ASSERT_CONSISTENT(m);

	/* Unmapping a range that is already a hole, or spans one, is fine. */
	EXPECT_EQ(mmsim_munmap(t, BASE + PAGE, PAGE), 0);
	EXPECT_EQ(mmsim_munmap(t, BASE, 3 * PAGE), 0);
	EXPECT_EQ(maps_in(m, t, BASE, BASE + 3 * PAGE, &mv), 0);
	EXPECT_EQ(get(t, BASE + 7), -MMSIM_SEGV_MAPERR);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------ MAP_FIXED */

/*
 * MAP_FIXED over a mapping replaces it: the old bytes are gone.
 *
 *   mmap 2 pages, write   |rw rw|      bytes 0x10 0x11
 *   MAP_FIXED over +1     |rw|rw|      +1 reads 0 (the VMAs merge again)
 */
TEST(vma_map_fixed_replaces)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	map_at(t, BASE, 2 * PAGE, RW, ANON);
	stamp(t, BASE, 2);
	map_at(t, BASE + PAGE, PAGE, RW, ANON);
	EXPECT_EQ(get(t, BASE + 7), 0x10);
	EXPECT_EQ(get(t, BASE + PAGE + 7), 0);
	ASSERT_CONSISTENT(m);

	/* A shared mapping over a private one: a different object. */
	map_at(t, BASE, PAGE, RW, MMSIM_MAP_SHARED | MMSIM_MAP_ANONYMOUS);
	EXPECT_EQ(get(t, BASE + 7), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * MAP_FIXED_NOREPLACE fails with -EEXIST when any page of the range is
 * mapped, and leaves the mapping alone.
 *
 *   |rw|....
 *   NOREPLACE at +0, 1 page   -EEXIST
 *   NOREPLACE at +0, 2 pages  -EEXIST (partial overlap)
 *   NOREPLACE at +1           ok: |rw|rw|
 */
TEST(vma_fixed_noreplace)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	const int nr = ANON | MMSIM_MAP_FIXED_NOREPLACE;

	map_at(t, BASE, PAGE, RW, ANON);
	ASSERT_EQ(put(t, BASE, 0x5a), 0);
	EXPECT_EQ(mmsim_mmap(t, BASE, PAGE, RW, nr, -1, 0), -MMSIM_EEXIST);
	EXPECT_EQ(mmsim_mmap(t, BASE - PAGE, 2 * PAGE, RW, nr, -1, 0), -MMSIM_EEXIST);
	EXPECT_EQ(get(t, BASE), 0x5a);
	EXPECT_EQ(mmsim_mmap(t, BASE + PAGE, PAGE, RW, nr, -1, 0), (int64_t)(BASE + PAGE));
	EXPECT_EQ(get(t, BASE), 0x5a);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ---------------------------------------------------------------- mremap */

/*
 * mremap grows in place when the space above is free, moves when it is not
 * (MREMAP_MAYMOVE), and shrinks in place; the bytes go with the mapping.
 *
 *   |rw rw|........          2 pages, stamped
 *   grow to 4                |rw rw rw rw|      same address, new pages read 0
 *   blocker above            |rw rw rw rw|rw|
 *   grow to 6, no MAYMOVE    -ENOMEM
 *   grow to 6, MAYMOVE       moved: old range SEGV_MAPERR, bytes at the new place
 *   shrink to 1              |rw|......
 */
TEST(vma_mremap_grow_shrink_move)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	int64_t r;
	uint64_t at;

	map_at(t, BASE, 2 * PAGE, RW, ANON);
	stamp(t, BASE, 2);
	r = mmsim_mremap(t, BASE, 2 * PAGE, 4 * PAGE, 0, 0);
	ASSERT_EQ(r, (int64_t)BASE);
	expect_stamps(t, BASE, 0, 2);
	EXPECT_EQ(get(t, BASE + 3 * PAGE + 7), 0);
	ASSERT_EQ(put(t, BASE + 2 * PAGE + 7, 0x12), 0);
	ASSERT_EQ(put(t, BASE + 3 * PAGE + 7, 0x13), 0);
	ASSERT_CONSISTENT(m);

	map_at(t, BASE + 4 * PAGE, PAGE, RO, ANON);
	EXPECT_EQ(mmsim_mremap(t, BASE, 4 * PAGE, 6 * PAGE, 0, 0), -MMSIM_ENOMEM);
	expect_stamps(t, BASE, 0, 4);

	r = mmsim_mremap(t, BASE, 4 * PAGE, 6 * PAGE, MMSIM_MREMAP_MAYMOVE, 0);
	ASSERT_GT(r, 0);
	ASSERT_TRUE(r != (int64_t)BASE);
	at = (uint64_t)r;
	expect_stamps(t, at, 0, 4);
	EXPECT_EQ(get(t, at + 5 * PAGE), 0);
	EXPECT_EQ(get(t, BASE + 7), -MMSIM_SEGV_MAPERR);
	ASSERT_CONSISTENT(m);

	/* Writes after the move are private COW-free stores to the same pages. */
	ASSERT_EQ(put(t, at + 7, 0x20), 0);
	EXPECT_EQ(get(t, at + 7), 0x20);

	r = mmsim_mremap(t, at, 6 * PAGE, PAGE, 0, 0);
	ASSERT_EQ(r, (int64_t)at);
	EXPECT_EQ(get(t, at + 7), 0x20);
	EXPECT_EQ(get(t, at + PAGE + 7), -MMSIM_SEGV_MAPERR);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * MREMAP_FIXED moves to the given address, replacing what was there; part
 * of a VMA can move, which splits it.
 *
 *   |rw rw rw|   ....   |r-|           old, and a target mapping
 *   move +1 (1 page) onto the target   |rw|....|rw|   ....   |rw|
 */
TEST(vma_mremap_fixed_part)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	const uint64_t dst = BASE + 64 * PAGE;
	struct maps_view mv;

	map_at(t, BASE, 3 * PAGE, RW, ANON);
	stamp(t, BASE, 3);
	map_at(t, dst, PAGE, RO, ANON);
	ASSERT_EQ(mmsim_mremap(t, BASE + PAGE, PAGE, PAGE,
			       MMSIM_MREMAP_MAYMOVE | MMSIM_MREMAP_FIXED, dst), (int64_t)dst);
	EXPECT_EQ(get(t, dst + 7), 0x11);
	EXPECT_EQ(put(t, dst + 7, 0x21), 0);          /* it took the old VMA's rw */
	EXPECT_EQ(get(t, BASE + PAGE), -MMSIM_SEGV_MAPERR);
	EXPECT_EQ(get(t, BASE + 7), 0x10);
	EXPECT_EQ(get(t, BASE + 2 * PAGE + 7), 0x12);
	ASSERT_EQ(maps_in(m, t, BASE, dst + PAGE, &mv), 3);
	EXPECT_VMA(&mv, 2, dst, dst + PAGE, "rw-p");
	ASSERT_CONSISTENT(m);

	/* Moving it back into the hole merges the three pieces again. */
	ASSERT_EQ(mmsim_mremap(t, dst, PAGE, PAGE,
			       MMSIM_MREMAP_MAYMOVE | MMSIM_MREMAP_FIXED, BASE + PAGE),
		  (int64_t)(BASE + PAGE));
	ASSERT_EQ(maps_in(m, t, BASE, dst + PAGE, &mv), 1);
	EXPECT_VMA(&mv, 0, BASE, BASE + 3 * PAGE, "rw-p");
	EXPECT_EQ(get(t, BASE + PAGE + 7), 0x21);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * MREMAP_DONTUNMAP moves the pages and leaves the old range mapped and
 * empty: private anonymous memory there reads zeros.
 *
 *   |rw rw|            stamped
 *   DONTUNMAP          |rw rw| (zeros)   ...   |rw rw| (the bytes)
 */
TEST(vma_mremap_dontunmap)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	const int f = MMSIM_MREMAP_MAYMOVE | MMSIM_MREMAP_DONTUNMAP;
	int64_t r;

	map_at(t, BASE, 2 * PAGE, RW, ANON);
	stamp(t, BASE, 2);
	r = mmsim_mremap(t, BASE, 2 * PAGE, 2 * PAGE, f, 0);
	ASSERT_GT(r, 0);
	ASSERT_TRUE(r != (int64_t)BASE);
	expect_stamps(t, (uint64_t)r, 0, 2);
	EXPECT_EQ(get(t, BASE + 7), 0);
	EXPECT_EQ(get(t, BASE + PAGE + 7), 0);
	EXPECT_EQ(put(t, BASE + 7, 0x33), 0);
	EXPECT_EQ(get(t, (uint64_t)r + 7), 0x10);
	ASSERT_CONSISTENT(m);

	/* Size changes and missing MAYMOVE are refused. */
	EXPECT_EQ(mmsim_mremap(t, BASE, 2 * PAGE, 3 * PAGE, f, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mremap(t, BASE, 2 * PAGE, 2 * PAGE, MMSIM_MREMAP_DONTUNMAP, 0),
		  -MMSIM_EINVAL);
	mmsim_machine_destroy(m);
}

/* ---------------------------------------------------------------- madvise */

/*
 * MADV_DONTNEED: private anonymous memory reads zeros afterwards, shared
 * memory keeps its bytes in the page cache.
 */
TEST(vma_madvise_dontneed)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	const uint64_t shm = BASE + 16 * PAGE;

	map_at(t, BASE, 2 * PAGE, RW, ANON);
	stamp(t, BASE, 2);
	map_at(t, shm, 2 * PAGE, RW, MMSIM_MAP_SHARED | MMSIM_MAP_ANONYMOUS);
	stamp(t, shm, 2);
	EXPECT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_DONTNEED), 0);
	EXPECT_EQ(get(t, BASE + 7), 0);
	EXPECT_EQ(get(t, BASE + PAGE + 7), 0x11);
	EXPECT_EQ(mmsim_madvise(t, shm, 2 * PAGE, MMSIM_MADV_DONTNEED), 0);
	expect_stamps(t, shm, 0, 2);
	ASSERT_CONSISTENT(m);

	/* MADV_FREE is for private anonymous memory only. */
	EXPECT_EQ(mmsim_madvise(t, shm, PAGE, MMSIM_MADV_FREE), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_madvise(t, BASE + PAGE, PAGE, MMSIM_MADV_FREE), 0);
	EXPECT_EQ(get(t, BASE + PAGE + 7), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * Flag advice splits VMAs like mprotect, and a hole gives -ENOMEM after the
 * mapped parts were advised.
 *
 *   |rw rw|....|rw|       MADV_DONTFORK over all 4 pages: -ENOMEM
 *   fork: the child has none of it
 */
TEST(vma_madvise_flags_and_holes)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m), *c = NULL;
	struct maps_view mv;

	map_at(t, BASE, 4 * PAGE, RW, ANON);
	stamp(t, BASE, 4);
	ASSERT_EQ(mmsim_munmap(t, BASE + 2 * PAGE, PAGE), 0);
	EXPECT_EQ(mmsim_madvise(t, BASE, 4 * PAGE, MMSIM_MADV_DONTFORK), -MMSIM_ENOMEM);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	EXPECT_EQ(get(c, BASE + 7), -MMSIM_SEGV_MAPERR);
	EXPECT_EQ(get(c, BASE + 3 * PAGE + 7), -MMSIM_SEGV_MAPERR);
	EXPECT_EQ(get(t, BASE + 3 * PAGE + 7), 0x13);
	ASSERT_CONSISTENT(m);

	/* Advice on part of a VMA splits it; undoing it merges again. */
	ASSERT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_DOFORK), 0);
	ASSERT_EQ(maps_in(m, t, BASE, BASE + 2 * PAGE, &mv), 2);
	ASSERT_EQ(mmsim_madvise(t, BASE + PAGE, PAGE, MMSIM_MADV_DOFORK), 0);
	ASSERT_EQ(maps_in(m, t, BASE, BASE + 2 * PAGE, &mv), 1);

	/* WIPEONFORK only on private anonymous memory. */
	map_at(t, BASE + 8 * PAGE, PAGE, RW, MMSIM_MAP_SHARED | MMSIM_MAP_ANONYMOUS);
	EXPECT_EQ(mmsim_madvise(t, BASE + 8 * PAGE, PAGE, MMSIM_MADV_WIPEONFORK), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_WIPEONFORK), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * MADV_POPULATE_*: a hole is -ENOMEM, a mapping without the access -EINVAL
 * (GUP's check_vma_flags), and the pages before the failure stay populated.
 */
TEST(vma_madvise_populate)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	uint64_t pm = 0;

	map_at(t, BASE, 2 * PAGE, RW, ANON);
	map_at(t, BASE + 2 * PAGE, PAGE, RO, ANON);
	EXPECT_EQ(mmsim_madvise(t, BASE, 3 * PAGE, MMSIM_MADV_POPULATE_WRITE), -MMSIM_EINVAL);
	ASSERT_EQ(mmsim_pagemap(t, BASE + PAGE, &pm), 0);
	EXPECT_TRUE(pm & MMSIM_PM_PRESENT);
	EXPECT_EQ(mmsim_madvise(t, BASE, 3 * PAGE, MMSIM_MADV_POPULATE_READ), 0);
	EXPECT_EQ(mmsim_madvise(t, BASE, 4 * PAGE, MMSIM_MADV_POPULATE_READ), -MMSIM_ENOMEM);
	EXPECT_EQ(mmsim_madvise(t, BASE, 3 * PAGE, MMSIM_MADV_PAGEOUT), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ----------------------------------------------------- COW and mprotect */

/*
 * mprotect(RW) after mprotect(R) must not hand a page shared with a child
 * back as writable: the next store copies it.  A page this process alone
 * maps may become writable at once; either way the bytes are right.
 */
TEST(vma_mprotect_keeps_cow)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m), *c = NULL;

	map_at(t, BASE, 2 * PAGE, RW, ANON);
	stamp(t, BASE, 2);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	ASSERT_EQ(mmsim_mprotect(t, BASE, 2 * PAGE, RO), 0);
	EXPECT_EQ(put(t, BASE + 7, 1), MMSIM_SEGV_ACCERR);
	ASSERT_EQ(mmsim_mprotect(t, BASE, 2 * PAGE, RW), 0);
	ASSERT_EQ(put(t, BASE + 7, 0x77), 0);
	EXPECT_EQ(get(t, BASE + 7), 0x77);
	EXPECT_EQ(get(c, BASE + 7), 0x10);
	ASSERT_CONSISTENT(m);

	/* The page the parent now owns alone: R then RW, the store still lands. */
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RO), 0);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RW), 0);
	ASSERT_EQ(put(t, BASE + 7, 0x78), 0);
	EXPECT_EQ(get(t, BASE + 7), 0x78);
	EXPECT_EQ(get(c, BASE + 7), 0x10);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ---------------------------------------------------------- placement */

/*
 * Without a hint mappings go top down below mmap_base; a free hint is
 * honoured; anonymous private mappings of a multiple of 2 MiB are 2 MiB
 * aligned.
 */
TEST(vma_placement)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	int64_t a, b, h, huge;

	a = mmsim_mmap(t, 0, PAGE, RW, ANON, -1, 0);
	b = mmsim_mmap(t, 0, PAGE, RW, ANON, -1, 0);
	ASSERT_GT(a, 0);
	ASSERT_GT(b, 0);
	EXPECT_LT(b, a);
	EXPECT_LT(a, (int64_t)(1ULL << 48));
	h = mmsim_mmap(t, BASE + 5 * PAGE, PAGE, RW, ANON, -1, 0);
	EXPECT_EQ(h, (int64_t)(BASE + 5 * PAGE));
	/* A taken hint is ignored, not an error. */
	h = mmsim_mmap(t, BASE + 5 * PAGE, PAGE, RW, ANON, -1, 0);
	ASSERT_GT(h, 0);
	EXPECT_NE(h, (int64_t)(BASE + 5 * PAGE));
	huge = mmsim_mmap(t, 0, 4ULL << 20, RW, ANON, -1, 0);
	ASSERT_GT(huge, 0);
	EXPECT_EQ(huge & ((2LL << 20) - 1), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ---------------------------------------------------------------- errno */

TEST(vma_mmap_errno)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	EXPECT_EQ(mmsim_mmap(t, 0, 0, RW, ANON, -1, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mmap(t, 0, PAGE, RW, ANON, -1, 1), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mmap(t, BASE + 1, PAGE, RW, ANON_FIXED, -1, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mmap(t, 0, UINT64_MAX - 10, RW, ANON, -1, 0), -MMSIM_ENOMEM);
	EXPECT_EQ(mmsim_mmap(t, 0, (1ULL << 48) + PAGE, RW, ANON, -1, 0), -MMSIM_ENOMEM);
	EXPECT_EQ(mmsim_mmap(t, (1ULL << 48) - PAGE, 2 * PAGE, RW, ANON_FIXED, -1, 0),
		  -MMSIM_ENOMEM);
	EXPECT_EQ(mmsim_mmap(t, 0, PAGE, RW, MMSIM_MAP_ANONYMOUS, -1, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mmap(t, 0, PAGE, RW,
			     MMSIM_MAP_SHARED_VALIDATE | MMSIM_MAP_ANONYMOUS, -1, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mmap(t, 0, PAGE, RW, MMSIM_MAP_PRIVATE, 77, 0), -MMSIM_EBADF);
	/* An unaligned hint is rounded, not refused. */
	EXPECT_GT(mmsim_mmap(t, BASE + 1, PAGE, RW, ANON, -1, 0), 0);
	/* MAP_FIXED below vm.mmap_min_addr needs CAP_SYS_RAWIO. */
	EXPECT_EQ(mmsim_mmap(t, PAGE, PAGE, RW, ANON_FIXED, -1, 0), -MMSIM_EPERM);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(vma_memfd_mmap)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	const int sv = MMSIM_MAP_SHARED_VALIDATE;
	int fd = mmsim_memfd_create(t, "vma-test", 0);
	int64_t a, b;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(mmsim_ftruncate(t, fd, 4 * PAGE), 0);
	EXPECT_EQ(mmsim_mmap(t, 0, PAGE, RW, sv | MMSIM_MAP_SYNC, fd, 0), -MMSIM_EOPNOTSUPP);
	/* MAP_SHARED drops unknown flags silently. */
	a = mmsim_mmap(t, 0, 2 * PAGE, RW, MMSIM_MAP_SHARED | MMSIM_MAP_SYNC, fd, 0);
	ASSERT_GT(a, 0);
	b = mmsim_mmap(t, 0, PAGE, RW, sv, fd, PAGE);
	ASSERT_GT(b, 0);
	ASSERT_EQ(put(t, (uint64_t)a + PAGE + 3, 0x42), 0);
	EXPECT_EQ(get(t, (uint64_t)b + 3), 0x42);
	EXPECT_EQ(mmsim_mmap(t, 0, PAGE, RW, 0, fd, 0), -MMSIM_EINVAL);
	/* MADV_REMOVE punches a hole: both views read zeros. */
	EXPECT_EQ(mmsim_madvise(t, (uint64_t)b, PAGE, MMSIM_MADV_REMOVE), 0);
	EXPECT_EQ(get(t, (uint64_t)a + PAGE + 3), 0);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(mmsim_close(t, fd), 0);
	/* The mappings keep the file alive. */
	ASSERT_EQ(put(t, (uint64_t)a + 3, 0x43), 0);
	EXPECT_EQ(mmsim_munmap(t, (uint64_t)a, 2 * PAGE), 0);
	EXPECT_EQ(mmsim_munmap(t, (uint64_t)b, PAGE), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(vma_mprotect_errno)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	map_at(t, BASE, PAGE, RW, ANON);
	map_at(t, BASE + 2 * PAGE, PAGE, RW, ANON);
	EXPECT_EQ(mmsim_mprotect(t, BASE + 1, PAGE, RO), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mprotect(t, BASE, 0, RO), 0);
	EXPECT_EQ(mmsim_mprotect(t, BASE, PAGE, 0x40), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mprotect(t, BASE, PAGE,
				 RO | MMSIM_PROT_GROWSDOWN | MMSIM_PROT_GROWSUP), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mprotect(t, BASE - PAGE, PAGE, RO), -MMSIM_ENOMEM);
	/* The hole stops the walk; the page before it was changed. */
	EXPECT_EQ(mmsim_mprotect(t, BASE, 3 * PAGE, RO), -MMSIM_ENOMEM);
	EXPECT_EQ(put(t, BASE, 1), MMSIM_SEGV_ACCERR);
	EXPECT_EQ(put(t, BASE + 2 * PAGE, 1), 0);
	/* A tagged pointer is untagged. */
	EXPECT_EQ(mmsim_mprotect(t, BASE | (3ULL << 56), PAGE, RW), 0);
	EXPECT_EQ(put(t, BASE, 1), 0);
	/* PROT_MTE on anonymous memory is allowed. */
	EXPECT_EQ(mmsim_mprotect(t, BASE, PAGE, RW | MMSIM_PROT_MTE), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(vma_munmap_madvise_errno)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	map_at(t, BASE, PAGE, RW, ANON);
	EXPECT_EQ(mmsim_munmap(t, BASE + 1, PAGE), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_munmap(t, BASE, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_munmap(t, (1ULL << 48) - PAGE, 2 * PAGE), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_madvise(t, BASE, PAGE, 77), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_madvise(t, BASE + 1, PAGE, MMSIM_MADV_NORMAL), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_madvise(t, BASE, 0, MMSIM_MADV_NORMAL), 0);
	EXPECT_EQ(mmsim_madvise(t, BASE, UINT64_MAX, MMSIM_MADV_NORMAL), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_madvise(t, BASE + PAGE, PAGE, MMSIM_MADV_NORMAL), -MMSIM_ENOMEM);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(vma_mremap_errno)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	const int mf = MMSIM_MREMAP_MAYMOVE | MMSIM_MREMAP_FIXED;

	map_at(t, BASE, 2 * PAGE, RW, ANON);
	map_at(t, BASE + 2 * PAGE, PAGE, RO, ANON);
	EXPECT_EQ(mmsim_mremap(t, BASE, PAGE, PAGE, 8, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mremap(t, BASE, PAGE, PAGE, MMSIM_MREMAP_FIXED, BASE + 9 * PAGE),
		  -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mremap(t, BASE + 1, PAGE, PAGE, 0, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mremap(t, BASE, PAGE, 0, 0, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mremap(t, BASE + 8 * PAGE, PAGE, 2 * PAGE, 0, 0), -MMSIM_EFAULT);
	/* Two VMAs are not one mapping. */
	EXPECT_EQ(mmsim_mremap(t, BASE, 3 * PAGE, 4 * PAGE, MMSIM_MREMAP_MAYMOVE, 0),
		  -MMSIM_EFAULT);
	/* Overlapping old and new ranges. */
	EXPECT_EQ(mmsim_mremap(t, BASE, 2 * PAGE, 2 * PAGE, mf, BASE + PAGE), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mremap(t, BASE, 2 * PAGE, 2 * PAGE, mf, BASE + 1), -MMSIM_EINVAL);
	/* old_len 0 cannot duplicate private memory. */
	EXPECT_EQ(mmsim_mremap(t, BASE, 0, PAGE, MMSIM_MREMAP_MAYMOVE, 0), -MMSIM_EINVAL);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* vm.max_map_count bounds the number of VMAs a split may create. */
TEST(vma_max_map_count)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	char buf[32];
	int base_count, i;

	map_at(t, BASE, 64 * PAGE, RW, ANON);
	ASSERT_GE(mmsim_sysctl_read(m, "vm.max_map_count", buf, sizeof(buf)), 0);
	EXPECT_EQ(atoi(buf), 65530);
	/* Leave room for a few splits above what the task already has. */
	base_count = 0;
	{
		struct maps_view mv;

		base_count = maps_in(m, t, 0, 1ULL << 48, &mv);
	}
	snprintf(buf, sizeof(buf), "%d", base_count + 4);
	ASSERT_EQ(mmsim_sysctl_write(m, "vm.max_map_count", buf), 0);
	for (i = 0; i < 32; i++) {
		int err = mmsim_mprotect(t, BASE + (2 * i + 1) * PAGE, PAGE, RO);

		if (err) {
			EXPECT_EQ(err, -MMSIM_ENOMEM);
			break;
		}
	}
	EXPECT_EQ(i, 2);
	EXPECT_EQ(mmsim_madvise(t, BASE + 40 * PAGE, PAGE, MMSIM_MADV_DONTFORK), -MMSIM_EAGAIN);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * PROT_NONE keeps the pages: access faults with SEGV_ACCERR, and giving the
 * access back shows the same bytes.
 *
 *   |rw rw|  ->  |-- --|  ->  |rw rw|
 */
TEST(vma_prot_none_keeps_bytes)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	map_at(t, BASE, 2 * PAGE, RW, ANON);
	stamp(t, BASE, 2);
	ASSERT_EQ(mmsim_mprotect(t, BASE, 2 * PAGE, MMSIM_PROT_NONE), 0);
	EXPECT_EQ(get(t, BASE + 7), -MMSIM_SEGV_ACCERR);
	EXPECT_EQ(put(t, BASE + PAGE + 7, 1), MMSIM_SEGV_ACCERR);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_mprotect(t, BASE, 2 * PAGE, RW), 0);
	expect_stamps(t, BASE, 0, 2);
	EXPECT_EQ(put(t, BASE + 7, 0x30), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * MAP_POPULATE faults the pages in before mmap returns (write faults for a
 * writable private mapping); MAP_NONBLOCK turns it off.
 */
TEST(vma_map_populate)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	uint64_t pm = 0;

	ASSERT_EQ(mmsim_mmap(t, BASE, 4 * PAGE, RW, ANON_FIXED | MMSIM_MAP_POPULATE, -1, 0),
		  (int64_t)BASE);
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(mmsim_pagemap(t, BASE + i * PAGE, &pm), 0);
		EXPECT_TRUE(pm & MMSIM_PM_PRESENT);
		EXPECT_TRUE(pm & MMSIM_PM_MMAP_EXCLUSIVE);
	}
	ASSERT_EQ(mmsim_mmap(t, BASE + 8 * PAGE, PAGE, RW,
			     ANON_FIXED | MMSIM_MAP_POPULATE | MMSIM_MAP_NONBLOCK, -1, 0),
		  (int64_t)(BASE + 8 * PAGE));
	ASSERT_EQ(mmsim_pagemap(t, BASE + 8 * PAGE, &pm), 0);
	EXPECT_TRUE(!(pm & MMSIM_PM_PRESENT));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * Shared anonymous memory is an object of the size first mapped: growing
 * the mapping in place gives addresses past its end, which SIGBUS as on
 * Linux.  The bytes inside stay shared with a child.
 */
TEST(vma_mremap_shared_anon)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m), *c = NULL;
	struct mmsim_siginfo si = { 0 };
	uint8_t b;

	map_at(t, BASE, PAGE, RW, MMSIM_MAP_SHARED | MMSIM_MAP_ANONYMOUS);
	ASSERT_EQ(put(t, BASE + 7, 0x44), 0);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	ASSERT_EQ(mmsim_mremap(t, BASE, PAGE, 2 * PAGE, 0, 0), (int64_t)BASE);
	EXPECT_EQ(mmsim_load(t, BASE + PAGE, &b, 1, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.signo, MMSIM_SIGBUS);
	ASSERT_EQ(put(c, BASE + 7, 0x45), 0);
	EXPECT_EQ(get(t, BASE + 7), 0x45);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}
