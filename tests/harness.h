/* SPDX-License-Identifier: MIT */
/*
 * tests/harness.h - a small kselftest-style harness.
 *
 * Every tests/test_*.c file is linked into one program, build/mmsim-tests.
 * TEST(name) registers a test; it runs in a fresh state and fails on the first
 * failed ASSERT_* (the rest of that test is skipped) or any EXPECT_* (the test
 * goes on).  The program prints TAP 13 as kselftest does and ends with one line
 * "N passed, N failed".  `build/mmsim-tests PATTERN` runs the tests whose name
 * contains PATTERN; `-l` lists them.
 */
#ifndef MMSIM_TESTS_HARNESS_H
#define MMSIM_TESTS_HARNESS_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mmsim.h"

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn, const char *file);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void test_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void test_skip(const char *why);
extern jmp_buf test_abort_jmp;

#define TEST(name)                                                              \
	static void name(void);                                                 \
	__attribute__((constructor)) static void test_reg_##name(void)          \
	{ test_register(#name, name, __FILE__); }                               \
	static void name(void)

#define TEST_FAIL_(fatal, ...) do {                                             \
	test_fail(__FILE__, __LINE__, __VA_ARGS__);                             \
	if (fatal) longjmp(test_abort_jmp, 1);                                  \
} while (0)

#define CHECK_(fatal, cond) do { if (!(cond))                                   \
	TEST_FAIL_(fatal, "%s", #cond); } while (0)
#define CHECK_INT_(fatal, a, op, b) do {                                        \
	long long _a = (long long)(a), _b = (long long)(b);                     \
	if (!(_a op _b))                                                        \
		TEST_FAIL_(fatal, "%s %s %s (%lld vs %lld)", #a, #op, #b, _a, _b); \
} while (0)

#define ASSERT_TRUE(c)     CHECK_(1, c)
#define EXPECT_TRUE(c)     CHECK_(0, c)
#define ASSERT_EQ(a, b)    CHECK_INT_(1, a, ==, b)
#define EXPECT_EQ(a, b)    CHECK_INT_(0, a, ==, b)
#define ASSERT_NE(a, b)    CHECK_INT_(1, a, !=, b)
#define EXPECT_NE(a, b)    CHECK_INT_(0, a, !=, b)
#define ASSERT_GE(a, b)    CHECK_INT_(1, a, >=, b)
#define EXPECT_GE(a, b)    CHECK_INT_(0, a, >=, b)
#define ASSERT_GT(a, b)    CHECK_INT_(1, a, >, b)
#define EXPECT_GT(a, b)    CHECK_INT_(0, a, >, b)
#define ASSERT_LE(a, b)    CHECK_INT_(1, a, <=, b)
#define EXPECT_LE(a, b)    CHECK_INT_(0, a, <=, b)
#define ASSERT_LT(a, b)    CHECK_INT_(1, a, <, b)
#define EXPECT_LT(a, b)    CHECK_INT_(0, a, <, b)
#define ASSERT_STR_CONTAINS(hay, needle) do { const char *_h = (hay);           \
	if (!_h || !strstr(_h, (needle)))                                       \
		TEST_FAIL_(1, "'%s' does not contain '%s'", _h ? _h : "(null)", (needle)); \
} while (0)

/* mmsim_check() must pass: fails the test with the checker's report. */
#define ASSERT_CONSISTENT(m) do {                                               \
	char _rep[4096];                                                        \
	if (mmsim_check((m), _rep, sizeof(_rep)) != 0)                          \
		TEST_FAIL_(1, "mmsim_check: %s", _rep);                         \
} while (0)

/* Helpers most tests want. */
struct mmsim_machine *test_machine(const char *bootargs);   /* built-in machine, seed 1 */
/*
 * handle_mm_fault as the arch fault handler calls it: under mmap_lock for
 * read, released afterwards unless the handler already released it (RETRY
 * or COMPLETED).  For tests that drive one fault at a time.
 */
struct vm_area_struct;
unsigned int fault_locked(struct mmsim_task *t, struct vm_area_struct *vma, uint64_t addr,
			  unsigned int flags);
#define PAGE 4096ULL

#endif
