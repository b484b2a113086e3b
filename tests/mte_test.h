/* SPDX-License-Identifier: MIT */
/*
 * tests/mte_test.h - what the tag-storage tests (test_races.c,
 * test_spec_fault.c, test_spec_reserve.c) share: their address layout and
 * the one-line task operations that fail the test when the access does.
 */
#ifndef MMSIM_TESTS_MTE_TEST_H
#define MMSIM_TESTS_MTE_TEST_H

#include "harness.h"
#include "mm/internal.h"

#define RW        (MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define RWMTE     (RW | MMSIM_PROT_MTE)
#define ANON      (MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)
#define BASE      0x20000000ULL             /* the page a test is about        */
#define VICTIM    0x30000000ULL             /* a bystander's page              */
#define TAGGED(a, t) (((a) & ~(0xfULL << 56)) | ((uint64_t)(t) << 56))

static inline struct mmsim_task *task(struct mmsim_machine *m)
{
	struct mmsim_task *t = NULL;

	ASSERT_EQ(mmsim_task_create(m, &t), 0);
	return t;
}

static inline void store8(struct mmsim_task *t, uint64_t addr, uint64_t v)
{
	struct mmsim_siginfo si;

	ASSERT_EQ(mmsim_store(t, addr, &v, 8, &si), MMSIM_ACCESS_OK);
}

static inline uint64_t load8(struct mmsim_task *t, uint64_t addr)
{
	struct mmsim_siginfo si;
	uint64_t v = 0;

	if (mmsim_load(t, addr, &v, 8, &si) != MMSIM_ACCESS_OK)
		TEST_FAIL_(1, "load at 0x%llx: signal %d code %d", (unsigned long long)addr, si.signo, si.code);
	return v;
}

/* STG the whole page at addr with tag. */
static inline void set_tags(struct mmsim_task *t, uint64_t addr, unsigned int tag)
{
	struct mmsim_siginfo si;

	ASSERT_EQ(mmsim_set_tag(t, TAGGED(addr, tag), PAGE, &si), MMSIM_ACCESS_OK);
}

/* LDG at addr. */
static inline unsigned int get_tag(struct mmsim_task *t, uint64_t addr)
{
	struct mmsim_siginfo si;
	unsigned int tag = 99;

	ASSERT_EQ(mmsim_get_tag(t, addr, &tag, &si), MMSIM_ACCESS_OK);
	return tag;
}

/* The descriptor at addr (the table must exist). */
static inline pteval_t pte_at(struct mmsim_task *t, uint64_t addr)
{
	pteval_t *ptep = pte_offset(t->mm, addr);

	ASSERT_TRUE(ptep != NULL);
	return *ptep;
}

#endif
