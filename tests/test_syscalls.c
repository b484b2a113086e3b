// SPDX-License-Identifier: MIT
/*
 * tests/test_syscalls.c - Linux errno and fault semantics of the memory
 * system calls, through the public API only.
 *
 * Each expectation is what Linux (arm64, 4K pages, 48-bit VA) returns; the
 * comments name the check in mm/mmap.c, mm/mremap.c, mm/mprotect.c or
 * mm/madvise.c that produces it.  Layouts are drawn as in the kernel's
 * tools/testing/vma tests: one column per page, P = PAGE.
 */
#include <stdbool.h>

#include "harness.h"

#define BASE		0x300000000ULL
#define RW		(MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define ANON_PRIV	(MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS)
#define ANON_SHARED	(MMSIM_MAP_SHARED | MMSIM_MAP_ANONYMOUS)
#define FIXED		MMSIM_MAP_FIXED

static struct mmsim_task *new_task(struct mmsim_machine *m)
{
	struct mmsim_task *t = NULL;

	ASSERT_EQ(mmsim_task_create(m, &t), 0);
	ASSERT_TRUE(t != NULL);
	return t;
}

static int64_t map_anon(struct mmsim_task *t, uint64_t addr, uint64_t pages, int prot, int flags)
{
	return mmsim_mmap(t, addr, pages * PAGE, prot, flags, -1, 0);
}

static int put(struct mmsim_task *t, uint64_t addr, uint8_t byte)
{
	struct mmsim_siginfo si;

	return mmsim_store(t, addr, &byte, 1, &si);
}

/* The byte at addr, or -1 when the load raised a signal. */
static int get(struct mmsim_task *t, uint64_t addr)
{
	struct mmsim_siginfo si;
	uint8_t b;

	if (mmsim_load(t, addr, &b, 1, &si) != MMSIM_ACCESS_OK)
		return -1;
	return b;
}

/* A one-byte access at addr must raise signo/code with si_addr == at. */
#define EXPECT_FAULT(t_, va_, write_, signo_, code_, at_) do {                 \
	struct mmsim_siginfo si_ = { 0 };                                       \
	uint8_t byte_ = 0x5a;                                                   \
	int rc_ = (write_) ? mmsim_store((t_), (va_), &byte_, 1, &si_)          \
			   : mmsim_load((t_), (va_), &byte_, 1, &si_);          \
	EXPECT_EQ(rc_, MMSIM_ACCESS_SIGNAL);                                    \
	EXPECT_EQ(si_.signo, (signo_));                                         \
	EXPECT_EQ(si_.code, (code_));                                           \
	EXPECT_EQ(si_.addr, (at_));                                             \
} while (0)

/* ------------------------------------------------------------------- mmap */

TEST(syscall_mmap_len_zero_einval)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	/* do_mmap: "if (!len) return -EINVAL", with or without MAP_FIXED. */
	EXPECT_EQ(mmsim_mmap(t, 0, 0, RW, ANON_PRIV, -1, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mmap(t, BASE, 0, RW, ANON_PRIV | FIXED, -1, 0), -MMSIM_EINVAL);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(syscall_mmap_fixed_unaligned_einval)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	/* get_unmapped_area: offset_in_page(addr) -> -EINVAL for MAP_FIXED. */
	EXPECT_EQ(map_anon(t, BASE + 1, 1, RW, ANON_PRIV | FIXED), -MMSIM_EINVAL);
	EXPECT_EQ(map_anon(t, BASE + 0x800, 1, RW, ANON_PRIV | MMSIM_MAP_FIXED_NOREPLACE),
		  -MMSIM_EINVAL);
	/* An unaligned file offset fails first, in sys_mmap. */
	EXPECT_EQ(mmsim_mmap(t, BASE, PAGE, RW, ANON_PRIV | FIXED, -1, 100), -MMSIM_EINVAL);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(syscall_mmap_no_type_einval)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	/* Neither MAP_PRIVATE nor MAP_SHARED: the MAP_TYPE switch's default. */
	EXPECT_EQ(map_anon(t, 0, 1, RW, MMSIM_MAP_ANONYMOUS), -MMSIM_EINVAL);
	EXPECT_EQ(map_anon(t, BASE, 1, RW, MMSIM_MAP_ANONYMOUS | FIXED), -MMSIM_EINVAL);
	/* and nothing was mapped there */
	EXPECT_FAULT(t, BASE, false, MMSIM_SIGSEGV, MMSIM_SEGV_MAPERR, BASE);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 *   BASE    +P      +2P     +3P
 *   |  A    |  A    |       |
 *           |<-- NOREPLACE ->|     overlaps A: -EEXIST, A untouched
 *                   |<-NR ->|      free: mapped
 */
TEST(syscall_mmap_fixed_noreplace_eexist)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 2, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	ASSERT_EQ(put(t, BASE + PAGE, 0x11), MMSIM_ACCESS_OK);
	EXPECT_EQ(map_anon(t, BASE + PAGE, 2, RW, ANON_PRIV | MMSIM_MAP_FIXED_NOREPLACE),
		  -MMSIM_EEXIST);
	EXPECT_EQ(get(t, BASE + PAGE), 0x11);
	EXPECT_EQ(map_anon(t, BASE + 2 * PAGE, 1, RW, ANON_PRIV | MMSIM_MAP_FIXED_NOREPLACE),
		  (int64_t)(BASE + 2 * PAGE));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 *   BASE    +P
 *   |  A    |          MAP_FIXED over A: A's bytes are gone, reads zero
 */
TEST(syscall_mmap_fixed_replaces)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 3, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	ASSERT_EQ(put(t, BASE, 1), MMSIM_ACCESS_OK);
	ASSERT_EQ(put(t, BASE + PAGE, 2), MMSIM_ACCESS_OK);
	ASSERT_EQ(put(t, BASE + 2 * PAGE, 3), MMSIM_ACCESS_OK);
	ASSERT_EQ(map_anon(t, BASE + PAGE, 1, MMSIM_PROT_READ, ANON_PRIV | FIXED),
		  (int64_t)(BASE + PAGE));
	EXPECT_EQ(get(t, BASE), 1);
	EXPECT_EQ(get(t, BASE + PAGE), 0);
	EXPECT_EQ(get(t, BASE + 2 * PAGE), 3);
	EXPECT_FAULT(t, BASE + PAGE + 9, true, MMSIM_SIGSEGV, MMSIM_SEGV_ACCERR, BASE + PAGE + 9);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(syscall_mmap_hint_honoured)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	int64_t a;

	/* A free, aligned hint is used as is. */
	EXPECT_EQ(map_anon(t, BASE, 2, RW, ANON_PRIV), (int64_t)BASE);
	/* An unaligned hint is rounded down to its page (round_hint_to_min). */
	EXPECT_EQ(map_anon(t, BASE + 4 * PAGE + 100, 1, RW, ANON_PRIV),
		  (int64_t)(BASE + 4 * PAGE));
	/* A busy hint is not an error: the kernel places it elsewhere. */
	a = map_anon(t, BASE + PAGE, 2, RW, ANON_PRIV);
	EXPECT_GT(a, 0);
	EXPECT_EQ(a & (int64_t)(PAGE - 1), 0);
	EXPECT_TRUE((uint64_t)a + 2 * PAGE <= BASE || (uint64_t)a >= BASE + 2 * PAGE);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(syscall_mmap_len_overflow)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	/* PAGE_ALIGN(len) wraps to 0: -ENOMEM. */
	EXPECT_EQ(mmsim_mmap(t, 0, UINT64_MAX, RW, ANON_PRIV, -1, 0), -MMSIM_ENOMEM);
	EXPECT_EQ(mmsim_mmap(t, 0, UINT64_MAX - PAGE + 2, RW, ANON_PRIV, -1, 0), -MMSIM_ENOMEM);
	/* Longer than TASK_SIZE: get_unmapped_area's -ENOMEM. */
	EXPECT_EQ(mmsim_mmap(t, 0, 1ULL << 63, RW, ANON_PRIV, -1, 0), -MMSIM_ENOMEM);
	/* MAP_FIXED running past TASK_SIZE (2^48 on arm64 with 48-bit VA). */
	EXPECT_EQ(mmsim_mmap(t, BASE, 1ULL << 48, RW, ANON_PRIV | FIXED, -1, 0), -MMSIM_ENOMEM);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(syscall_mmap_bad_fd_ebadf)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	int fd;

	/* ksys_mmap_pgoff: fget fails before any other check. */
	EXPECT_EQ(mmsim_mmap(t, 0, PAGE, RW, MMSIM_MAP_SHARED, 77, 0), -MMSIM_EBADF);
	EXPECT_EQ(mmsim_mmap(t, 0, PAGE, RW, MMSIM_MAP_SHARED, -1, 0), -MMSIM_EBADF);
	/* With MAP_ANONYMOUS the fd is ignored. */
	EXPECT_GT(mmsim_mmap(t, 0, PAGE, RW, ANON_PRIV, 77, 0), 0);
	fd = mmsim_memfd_create(t, "x", 0);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(mmsim_close(t, fd), 0);
	EXPECT_EQ(mmsim_close(t, fd), -MMSIM_EBADF);
	EXPECT_EQ(mmsim_mmap(t, 0, PAGE, RW, MMSIM_MAP_SHARED, fd, 0), -MMSIM_EBADF);
	EXPECT_EQ(mmsim_ftruncate(t, fd, PAGE), -MMSIM_EBADF);
	EXPECT_EQ(mmsim_close(t, 12345), -MMSIM_EBADF);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ----------------------------------------------------------------- munmap */

TEST(syscall_munmap_errors)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 2, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	/* __vm_munmap: unaligned start, or zero length, -EINVAL. */
	EXPECT_EQ(mmsim_munmap(t, BASE + 1, PAGE), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_munmap(t, BASE, 0), -MMSIM_EINVAL);
	/* len > TASK_SIZE - start: -EINVAL. */
	EXPECT_EQ(mmsim_munmap(t, BASE, UINT64_MAX - BASE), -MMSIM_EINVAL);
	/* Unmapping nothing succeeds. */
	EXPECT_EQ(mmsim_munmap(t, BASE + 64 * PAGE, 4 * PAGE), 0);
	/* An unaligned length is rounded up. */
	EXPECT_EQ(mmsim_munmap(t, BASE, 1), 0);
	EXPECT_FAULT(t, BASE + 5, false, MMSIM_SIGSEGV, MMSIM_SEGV_MAPERR, BASE + 5);
	EXPECT_EQ(get(t, BASE + PAGE), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 *   BASE    +P      +2P     +3P
 *   |  1    |  2    |  3    |      one mapping
 *           |unmap  |              -> two mappings and a hole
 */
TEST(syscall_munmap_splits)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 3, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(put(t, BASE + i * PAGE, 1 + i), MMSIM_ACCESS_OK);
	EXPECT_EQ(mmsim_munmap(t, BASE + PAGE, PAGE), 0);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(get(t, BASE), 1);
	EXPECT_FAULT(t, BASE + PAGE, false, MMSIM_SIGSEGV, MMSIM_SEGV_MAPERR, BASE + PAGE);
	EXPECT_EQ(get(t, BASE + 2 * PAGE), 3);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* --------------------------------------------------------------- mprotect */

/*
 *   BASE    +P      +2P     +3P
 *   |  A    | hole  |  B    |
 *   |<---- mprotect(PROT_READ) ---->|
 * mprotect walks VMAs in order: A becomes read-only, the hole stops the walk
 * with -ENOMEM, and B is left as it was.
 */
TEST(syscall_mprotect_hole_enomem)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 1, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	ASSERT_EQ(map_anon(t, BASE + 2 * PAGE, 1, RW, ANON_PRIV | FIXED), (int64_t)(BASE + 2 * PAGE));
	EXPECT_EQ(mmsim_mprotect(t, BASE, 3 * PAGE, MMSIM_PROT_READ), -MMSIM_ENOMEM);
	ASSERT_CONSISTENT(m);
	EXPECT_FAULT(t, BASE, true, MMSIM_SIGSEGV, MMSIM_SEGV_ACCERR, BASE);
	EXPECT_EQ(put(t, BASE + 2 * PAGE, 7), MMSIM_ACCESS_OK);
	/* Starting in a hole changes nothing. */
	EXPECT_EQ(mmsim_mprotect(t, BASE + PAGE, 2 * PAGE, MMSIM_PROT_NONE), -MMSIM_ENOMEM);
	EXPECT_EQ(get(t, BASE + 2 * PAGE), 7);
	/* Nothing mapped at all. */
	EXPECT_EQ(mmsim_mprotect(t, BASE + 16 * PAGE, PAGE, MMSIM_PROT_READ), -MMSIM_ENOMEM);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(syscall_mprotect_errors)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 2, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	/* arch_validate_prot: a bit arm64 does not know. */
	EXPECT_EQ(mmsim_mprotect(t, BASE, PAGE, MMSIM_PROT_READ | 0x40), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mprotect(t, BASE, PAGE, MMSIM_PROT_READ | 0x100), -MMSIM_EINVAL);
	/* GROWSDOWN and GROWSUP together. */
	EXPECT_EQ(mmsim_mprotect(t, BASE, PAGE, MMSIM_PROT_READ | MMSIM_PROT_GROWSDOWN |
			   MMSIM_PROT_GROWSUP), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mprotect(t, BASE + 8, PAGE, MMSIM_PROT_READ), -MMSIM_EINVAL);
	/* A zero length is a successful no-op, even over nothing. */
	EXPECT_EQ(mmsim_mprotect(t, BASE + 32 * PAGE, 0, MMSIM_PROT_READ), 0);
	/* PAGE_ALIGN(len) wraps, end <= start: -ENOMEM. */
	EXPECT_EQ(mmsim_mprotect(t, BASE, UINT64_MAX, MMSIM_PROT_READ), -MMSIM_ENOMEM);
	/* The failed calls changed nothing. */
	EXPECT_EQ(put(t, BASE, 1), MMSIM_ACCESS_OK);
	/* An unaligned length covers the whole last page. */
	EXPECT_EQ(mmsim_mprotect(t, BASE, PAGE + 1, MMSIM_PROT_NONE), 0);
	EXPECT_FAULT(t, BASE + PAGE + 100, false, MMSIM_SIGSEGV, MMSIM_SEGV_ACCERR, BASE + PAGE + 100);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ---------------------------------------------------------------- madvise */

TEST(syscall_madvise_errors)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 2, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	/* madvise_behavior_valid fails first. */
	EXPECT_EQ(mmsim_madvise(t, BASE, PAGE, 7), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_madvise(t, BASE, PAGE, 999), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_madvise(t, BASE + 8, PAGE, MMSIM_MADV_DONTNEED), -MMSIM_EINVAL);
	/* len_in rounds up to zero: -EINVAL; a zero len_in: 0. */
	EXPECT_EQ(mmsim_madvise(t, BASE, UINT64_MAX, MMSIM_MADV_DONTNEED), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_madvise(t, BASE + 64 * PAGE, 0, MMSIM_MADV_DONTNEED), 0);
	/* Nothing mapped there: -ENOMEM. */
	EXPECT_EQ(mmsim_madvise(t, BASE + 64 * PAGE, PAGE, MMSIM_MADV_DONTNEED), -MMSIM_ENOMEM);
	EXPECT_EQ(mmsim_madvise(t, BASE + 64 * PAGE, PAGE, MMSIM_MADV_WILLNEED), -MMSIM_ENOMEM);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 *   BASE    +P      +2P     +3P
 *   |  A=1  | hole  |  B=2  |
 *   |<---- MADV_DONTNEED --------->|
 * Unlike mprotect, madvise goes on past a hole: both A and B are zapped, and
 * the hole makes the result -ENOMEM.
 */
TEST(syscall_madvise_hole_applies_and_enomem)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 3, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	ASSERT_EQ(put(t, BASE, 1), MMSIM_ACCESS_OK);
	ASSERT_EQ(put(t, BASE + 2 * PAGE, 2), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_munmap(t, BASE + PAGE, PAGE), 0);
	EXPECT_EQ(mmsim_madvise(t, BASE, 3 * PAGE, MMSIM_MADV_DONTNEED), -MMSIM_ENOMEM);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(get(t, BASE), 0);
	EXPECT_EQ(get(t, BASE + 2 * PAGE), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(syscall_madvise_dontneed_private_vs_shared)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 1, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	ASSERT_EQ(map_anon(t, BASE + PAGE, 1, RW, ANON_SHARED | FIXED), (int64_t)(BASE + PAGE));
	ASSERT_EQ(put(t, BASE, 0x42), MMSIM_ACCESS_OK);
	ASSERT_EQ(put(t, BASE + PAGE, 0x43), MMSIM_ACCESS_OK);
	EXPECT_EQ(mmsim_madvise(t, BASE, 2 * PAGE, MMSIM_MADV_DONTNEED), 0);
	/* Private anonymous memory is gone; shmem keeps its page. */
	EXPECT_EQ(get(t, BASE), 0);
	EXPECT_EQ(get(t, BASE + PAGE), 0x43);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(syscall_madvise_wipeonfork_needs_private_anon)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 1, RW, ANON_SHARED | FIXED), (int64_t)BASE);
	ASSERT_EQ(map_anon(t, BASE + PAGE, 1, RW, ANON_PRIV | FIXED), (int64_t)(BASE + PAGE));
	/* Shared anonymous memory is a shmem file: -EINVAL. */
	EXPECT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_WIPEONFORK), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_madvise(t, BASE + PAGE, PAGE, MMSIM_MADV_WIPEONFORK), 0);
	EXPECT_EQ(mmsim_madvise(t, BASE + PAGE, PAGE, MMSIM_MADV_KEEPONFORK), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(syscall_madvise_populate_errors)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	int fd;

	ASSERT_EQ(map_anon(t, BASE, 1, MMSIM_PROT_READ, ANON_PRIV | FIXED), (int64_t)BASE);
	ASSERT_EQ(map_anon(t, BASE + PAGE, 1, MMSIM_PROT_NONE, ANON_PRIV | FIXED),
		  (int64_t)(BASE + PAGE));
	EXPECT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_POPULATE_READ), 0);
	/* Insufficient permission: -EINVAL (the GUP flags check). */
	EXPECT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_POPULATE_WRITE), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_madvise(t, BASE + PAGE, PAGE, MMSIM_MADV_POPULATE_READ), -MMSIM_EINVAL);
	/* No VMA: -ENOMEM. */
	EXPECT_EQ(mmsim_madvise(t, BASE + 8 * PAGE, PAGE, MMSIM_MADV_POPULATE_READ), -MMSIM_ENOMEM);
	/* A page past EOF would SIGBUS: -EFAULT. */
	fd = mmsim_memfd_create(t, "pop", 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(mmsim_ftruncate(t, fd, PAGE), 0);
	ASSERT_EQ(mmsim_mmap(t, BASE + 4 * PAGE, 2 * PAGE, RW, MMSIM_MAP_SHARED | FIXED, fd, 0),
		  (int64_t)(BASE + 4 * PAGE));
	EXPECT_EQ(mmsim_madvise(t, BASE + 4 * PAGE, 2 * PAGE, MMSIM_MADV_POPULATE_WRITE),
		  -MMSIM_EFAULT);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ----------------------------------------------------------------- mremap */

/*
 *   BASE    +P      +2P     +3P     +4P
 *   |  1    |  2    |  3    |  4    |    mremap(BASE, 4P, 2P, 0)
 *   |  1    |  2    |                    same address, tail unmapped
 */
TEST(syscall_mremap_shrink_in_place)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 4, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(put(t, BASE + i * PAGE, 1 + i), MMSIM_ACCESS_OK);
	EXPECT_EQ(mmsim_mremap(t, BASE, 4 * PAGE, 2 * PAGE, 0, 0), (int64_t)BASE);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(get(t, BASE), 1);
	EXPECT_EQ(get(t, BASE + PAGE), 2);
	EXPECT_FAULT(t, BASE + 2 * PAGE, false, MMSIM_SIGSEGV, MMSIM_SEGV_MAPERR, BASE + 2 * PAGE);
	EXPECT_FAULT(t, BASE + 3 * PAGE, false, MMSIM_SIGSEGV, MMSIM_SEGV_MAPERR, BASE + 3 * PAGE);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 *   BASE    +P      +2P     +3P     +4P
 *   |  1    |  2    |       |       |       room above
 *   |  1    |  2    |  0    |  0    |       grown in place
 */
TEST(syscall_mremap_grow_in_place)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 2, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	ASSERT_EQ(put(t, BASE, 1), MMSIM_ACCESS_OK);
	ASSERT_EQ(put(t, BASE + PAGE, 2), MMSIM_ACCESS_OK);
	EXPECT_EQ(mmsim_mremap(t, BASE, 2 * PAGE, 4 * PAGE, 0, 0), (int64_t)BASE);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(get(t, BASE), 1);
	EXPECT_EQ(get(t, BASE + PAGE), 2);
	EXPECT_EQ(get(t, BASE + 3 * PAGE), 0);
	EXPECT_EQ(put(t, BASE + 3 * PAGE, 4), MMSIM_ACCESS_OK);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 *   BASE    +P      +2P     +3P
 *   |  1    |  2    |  X    |      X blocks growing in place:
 *   mremap(BASE, 2P, 4P, 0)        -ENOMEM
 *   mremap(BASE, 2P, 4P, MAYMOVE)  moved elsewhere with its bytes,
 *                                  BASE..+2P unmapped, X untouched
 */
TEST(syscall_mremap_grow_blocked_and_maymove)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	int64_t n;

	ASSERT_EQ(map_anon(t, BASE, 2, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	ASSERT_EQ(map_anon(t, BASE + 2 * PAGE, 1, MMSIM_PROT_READ, ANON_SHARED | FIXED),
		  (int64_t)(BASE + 2 * PAGE));
	ASSERT_EQ(put(t, BASE, 1), MMSIM_ACCESS_OK);
	ASSERT_EQ(put(t, BASE + PAGE + 7, 2), MMSIM_ACCESS_OK);
	EXPECT_EQ(mmsim_mremap(t, BASE, 2 * PAGE, 4 * PAGE, 0, 0), -MMSIM_ENOMEM);
	EXPECT_EQ(get(t, BASE), 1);
	n = mmsim_mremap(t, BASE, 2 * PAGE, 4 * PAGE, MMSIM_MREMAP_MAYMOVE, 0);
	ASSERT_GT(n, 0);
	ASSERT_CONSISTENT(m);
	EXPECT_NE(n, (int64_t)BASE);
	EXPECT_EQ(n & (int64_t)(PAGE - 1), 0);
	EXPECT_EQ(get(t, n), 1);
	EXPECT_EQ(get(t, n + PAGE + 7), 2);
	EXPECT_EQ(get(t, n + 3 * PAGE), 0);
	EXPECT_FAULT(t, BASE, false, MMSIM_SIGSEGV, MMSIM_SEGV_MAPERR, BASE);
	EXPECT_EQ(get(t, BASE + 2 * PAGE), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 *   BASE    +P      ...     +16P    +17P
 *   |  1    |               |       |     mremap FIXED to +16P: moved
 */
TEST(syscall_mremap_fixed)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	const int flags = MMSIM_MREMAP_MAYMOVE | MMSIM_MREMAP_FIXED;

	ASSERT_EQ(map_anon(t, BASE, 2, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	ASSERT_EQ(put(t, BASE, 9), MMSIM_ACCESS_OK);
	/* MREMAP_FIXED needs MREMAP_MAYMOVE. */
	EXPECT_EQ(mmsim_mremap(t, BASE, PAGE, PAGE, MMSIM_MREMAP_FIXED, BASE + 16 * PAGE),
		  -MMSIM_EINVAL);
	/* Unknown flag bits. */
	EXPECT_EQ(mmsim_mremap(t, BASE, PAGE, PAGE, 0x80, 0), -MMSIM_EINVAL);
	/* Old and new ranges overlap. */
	EXPECT_EQ(mmsim_mremap(t, BASE, 2 * PAGE, 2 * PAGE, flags, BASE + PAGE), -MMSIM_EINVAL);
	/* Unaligned new address. */
	EXPECT_EQ(mmsim_mremap(t, BASE, PAGE, PAGE, flags, BASE + 16 * PAGE + 1), -MMSIM_EINVAL);
	EXPECT_EQ(get(t, BASE), 9);
	EXPECT_EQ(mmsim_mremap(t, BASE, 2 * PAGE, 2 * PAGE, flags, BASE + 16 * PAGE),
		  (int64_t)(BASE + 16 * PAGE));
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(get(t, BASE + 16 * PAGE), 9);
	EXPECT_FAULT(t, BASE, false, MMSIM_SIGSEGV, MMSIM_SEGV_MAPERR, BASE);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(syscall_mremap_errors)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 2, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	EXPECT_EQ(mmsim_mremap(t, BASE + 1, PAGE, PAGE, 0, 0), -MMSIM_EINVAL);
	/* new_len 0, and new_len whose PAGE_ALIGN wraps to 0. */
	EXPECT_EQ(mmsim_mremap(t, BASE, PAGE, 0, MMSIM_MREMAP_MAYMOVE, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_mremap(t, BASE, PAGE, UINT64_MAX, MMSIM_MREMAP_MAYMOVE, 0), -MMSIM_EINVAL);
	/* DONTUNMAP needs MAYMOVE and equal lengths. */
	EXPECT_EQ(mmsim_mremap(t, BASE, PAGE, 2 * PAGE,
			       MMSIM_MREMAP_MAYMOVE | MMSIM_MREMAP_DONTUNMAP, 0), -MMSIM_EINVAL);
	/* No VMA at the old address: -EFAULT. */
	EXPECT_EQ(mmsim_mremap(t, BASE + 8 * PAGE, PAGE, 2 * PAGE, MMSIM_MREMAP_MAYMOVE, 0),
		  -MMSIM_EFAULT);
	/* Growing a range that runs past its VMA: -EFAULT. */
	EXPECT_EQ(mmsim_mremap(t, BASE, 3 * PAGE, 4 * PAGE, MMSIM_MREMAP_MAYMOVE, 0),
		  -MMSIM_EFAULT);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* A shared anonymous mapping is a shmem file of the original length. */
TEST(syscall_mremap_grow_shared_anon_sigbus)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 1, RW, ANON_SHARED | FIXED), (int64_t)BASE);
	ASSERT_EQ(put(t, BASE, 5), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_mremap(t, BASE, PAGE, 2 * PAGE, 0, 0), (int64_t)BASE);
	EXPECT_EQ(get(t, BASE), 5);
	EXPECT_FAULT(t, BASE + PAGE + 3, false, MMSIM_SIGBUS, MMSIM_BUS_ADRERR, BASE + PAGE + 3);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------------ memfd */

/*
 * One memfd, mapped shared by a parent at BASE and by its child (which
 * inherited the fd) at BASE + 8P, and a second time by the parent: all
 * three mappings see the same bytes.
 */
TEST(syscall_memfd_shared_two_processes)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m), *c = NULL;
	uint64_t a2 = BASE + 8 * PAGE, a3 = BASE + 16 * PAGE;
	int fd = mmsim_memfd_create(t, "shared", 0);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(mmsim_ftruncate(t, fd, 2 * PAGE), 0);
	ASSERT_EQ(mmsim_mmap(t, BASE, 2 * PAGE, RW, MMSIM_MAP_SHARED | FIXED, fd, 0), (int64_t)BASE);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	ASSERT_EQ(mmsim_mmap(c, a2, 2 * PAGE, RW, MMSIM_MAP_SHARED | FIXED, fd, 0), (int64_t)a2);
	ASSERT_EQ(mmsim_mmap(t, a3, PAGE, MMSIM_PROT_READ, MMSIM_MAP_SHARED | FIXED, fd, PAGE),
		  (int64_t)a3);
	ASSERT_EQ(put(t, BASE + PAGE + 10, 0x77), MMSIM_ACCESS_OK);
	EXPECT_EQ(get(c, a2 + PAGE + 10), 0x77);
	EXPECT_EQ(get(c, BASE + PAGE + 10), 0x77);	/* the inherited mapping */
	EXPECT_EQ(get(t, a3 + 10), 0x77);
	ASSERT_EQ(put(c, a2 + 20, 0x88), MMSIM_ACCESS_OK);
	EXPECT_EQ(get(t, BASE + 20), 0x88);
	ASSERT_CONSISTENT(m);
	/* The mapping outlives the descriptor. */
	EXPECT_EQ(mmsim_close(t, fd), 0);
	EXPECT_EQ(get(t, BASE + 20), 0x88);
	mmsim_task_exit(c);
	EXPECT_EQ(get(t, BASE + PAGE + 10), 0x77);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 *   BASE    +P      +2P
 *   | file  | past EOF |      a 1-page memfd mapped over 2 pages
 */
TEST(syscall_memfd_past_eof_sigbus)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	int fd = mmsim_memfd_create(t, "eof", 0);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(mmsim_ftruncate(t, fd, PAGE), 0);
	ASSERT_EQ(mmsim_mmap(t, BASE, 2 * PAGE, RW, MMSIM_MAP_SHARED | FIXED, fd, 0), (int64_t)BASE);
	EXPECT_EQ(put(t, BASE + 1, 1), MMSIM_ACCESS_OK);
	EXPECT_FAULT(t, BASE + PAGE + 1, false, MMSIM_SIGBUS, MMSIM_BUS_ADRERR, BASE + PAGE + 1);
	EXPECT_FAULT(t, BASE + PAGE + 2, true, MMSIM_SIGBUS, MMSIM_BUS_ADRERR, BASE + PAGE + 2);
	/* Growing the file makes the page reachable, and it reads zero. */
	ASSERT_EQ(mmsim_ftruncate(t, fd, 2 * PAGE), 0);
	EXPECT_EQ(get(t, BASE + PAGE + 1), 0);
	/* Shrinking it again takes the page away. */
	ASSERT_EQ(mmsim_ftruncate(t, fd, PAGE), 0);
	EXPECT_FAULT(t, BASE + PAGE, false, MMSIM_SIGBUS, MMSIM_BUS_ADRERR, BASE + PAGE);
	EXPECT_EQ(get(t, BASE + 1), 1);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ---------------------------------------------------------- access faults */

TEST(syscall_store_readonly_accerr)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 1, MMSIM_PROT_READ, ANON_PRIV | FIXED), (int64_t)BASE);
	EXPECT_EQ(get(t, BASE + 123), 0);
	EXPECT_FAULT(t, BASE + 123, true, MMSIM_SIGSEGV, MMSIM_SEGV_ACCERR, BASE + 123);
	/* The failed store did not happen. */
	EXPECT_EQ(get(t, BASE + 123), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(syscall_prot_none_accerr)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	ASSERT_EQ(map_anon(t, BASE, 1, MMSIM_PROT_NONE, ANON_PRIV | FIXED), (int64_t)BASE);
	EXPECT_FAULT(t, BASE + 5, false, MMSIM_SIGSEGV, MMSIM_SEGV_ACCERR, BASE + 5);
	EXPECT_FAULT(t, BASE + 6, true, MMSIM_SIGSEGV, MMSIM_SEGV_ACCERR, BASE + 6);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(syscall_load_unmapped_maperr)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);

	EXPECT_FAULT(t, BASE + 0x345, false, MMSIM_SIGSEGV, MMSIM_SEGV_MAPERR, BASE + 0x345);
	EXPECT_FAULT(t, BASE + 0x346, true, MMSIM_SIGSEGV, MMSIM_SEGV_MAPERR, BASE + 0x346);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 *   BASE    +P      +2P
 *   |  rw   | (x)   |      x = unmapped, or read-only
 *        |<-16->|          an access straddling the boundary
 *
 * An access split at a page boundary is performed page by page.  What is
 * asserted: the signal, si_addr = the first byte of the access in the page
 * that faults (here BASE + P), and that nothing was written to the faulting
 * page.  What is not: whether the first 8 bytes (in BASE's page) were
 * stored before the fault - a real CPU may or may not have done so.
 */
TEST(syscall_access_spanning_pages)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	struct mmsim_siginfo si = { 0 };
	uint8_t buf[16];
	const uint64_t a = BASE + PAGE - 8;

	memset(buf, 0xee, sizeof(buf));
	ASSERT_EQ(map_anon(t, BASE, 1, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	EXPECT_EQ(mmsim_store(t, a, buf, 16, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.signo, MMSIM_SIGSEGV);
	EXPECT_EQ(si.code, MMSIM_SEGV_MAPERR);
	EXPECT_EQ(si.addr, BASE + PAGE);
	memset(&si, 0, sizeof(si));
	EXPECT_EQ(mmsim_load(t, a, buf, 16, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.signo, MMSIM_SIGSEGV);
	EXPECT_EQ(si.code, MMSIM_SEGV_MAPERR);
	EXPECT_EQ(si.addr, BASE + PAGE);

	/* Read-only second page: the store faults there with ACCERR. */
	ASSERT_EQ(map_anon(t, BASE + PAGE, 1, MMSIM_PROT_READ, ANON_PRIV | FIXED),
		  (int64_t)(BASE + PAGE));
	memset(&si, 0, sizeof(si));
	EXPECT_EQ(mmsim_store(t, a, buf, 16, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.signo, MMSIM_SIGSEGV);
	EXPECT_EQ(si.code, MMSIM_SEGV_ACCERR);
	EXPECT_EQ(si.addr, BASE + PAGE);
	EXPECT_EQ(get(t, BASE + PAGE), 0);
	/* A load across both works, and a fault in the first page comes first. */
	EXPECT_EQ(mmsim_load(t, a, buf, 16, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, MMSIM_PROT_NONE), 0);
	memset(&si, 0, sizeof(si));
	EXPECT_EQ(mmsim_load(t, a, buf, 16, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.code, MMSIM_SEGV_ACCERR);
	EXPECT_EQ(si.addr, a);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ---------------------------------------------------------------- /proc */

TEST(syscall_proc_meminfo_and_pgfault)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	static char buf[16384];
	ssize_t n;
	int64_t before, after;

	n = mmsim_proc_read(m, NULL, "meminfo", buf, sizeof(buf) - 1);
	ASSERT_GT(n, 0);
	buf[n] = 0;
	ASSERT_STR_CONTAINS(buf, "MemTotal:");
	ASSERT_STR_CONTAINS(buf, "MemFree:");
	before = mmsim_vmstat(m, "pgfault");
	ASSERT_GE(before, 0);
	ASSERT_EQ(map_anon(t, BASE, 1, RW, ANON_PRIV | FIXED), (int64_t)BASE);
	ASSERT_EQ(put(t, BASE, 1), MMSIM_ACCESS_OK);
	after = mmsim_vmstat(m, "pgfault");
	EXPECT_GT(after, before);
	n = mmsim_proc_read(m, NULL, "vmstat", buf, sizeof(buf) - 1);
	ASSERT_GT(n, 0);
	buf[n] = 0;
	ASSERT_STR_CONTAINS(buf, "pgfault ");
	n = mmsim_proc_read(m, t, "self/maps", buf, sizeof(buf) - 1);
	ASSERT_GT(n, 0);
	buf[n] = 0;
	/* /proc/self/maps prints addresses as %08lx without 0x. */
	ASSERT_STR_CONTAINS(buf, "300000000-300001000 rw-p");
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}
