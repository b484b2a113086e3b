// SPDX-License-Identifier: MIT
/*
 * tests/test_mte.c - MTE as a process sees it (tags, checks, modes, tags
 * following the data) and dynamic tag storage as the kernel keeps it
 * (reservation and release, PAGE_METADATA_NONE marking and faults, the
 * policies).  Test names carry the spec's numbers where there is one
 * (mte_8_3_38_... is §8.3 item 38).
 *
 * The built-in machine has 1 GiB of data memory and a 32 MiB tag storage
 * region; the default policy is rfc-v1 with tag storage enabled.
 */
#include <stdlib.h>

#include "harness.h"
#include "mm/internal.h"

#define RW        (MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define RWMTE     (RW | MMSIM_PROT_MTE)
#define ANON      (MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)
#define BASE      0x20000000ULL
#define TAGGED(a, t) (((a) & ~(0xfULL << 56)) | ((uint64_t)(t) << 56))
#define CTRL(mode) (MMSIM_PR_TAGGED_ADDR_ENABLE | (mode) | (0xfffeUL << MMSIM_PR_MTE_TAG_SHIFT))

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

static void set_mode(struct mmsim_task *t, uint64_t mode)
{
	ASSERT_EQ(mmsim_prctl(t, MMSIM_PR_SET_TAGGED_ADDR_CTRL, CTRL(mode), 0, 0, 0), 0);
}

static int store8(struct mmsim_task *t, uint64_t addr, uint64_t v, struct mmsim_siginfo *si)
{
	return mmsim_store(t, addr, &v, 8, si);
}

static uint64_t load8(struct mmsim_task *t, uint64_t addr)
{
	struct mmsim_siginfo si;
	uint64_t v = 0;

	ASSERT_EQ(mmsim_load(t, addr, &v, 8, &si), MMSIM_ACCESS_OK);
	return v;
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
	uint64_t e = 0;

	ASSERT_EQ(mmsim_pagemap(t, addr, &e), 0);
	ASSERT_TRUE(e & MMSIM_PM_PRESENT);
	return pfn_to_page(t->machine, e & MMSIM_PM_PFRAME_MASK);
}

static struct mmsim_machine *boot(const char *args)
{
	return test_machine(args);
}

/* ------------------------------------------------------------- user ABI */

/* PROT_MTE: anonymous and memfd mappings get it; the PTE is Normal-Tagged. */
TEST(mte_prot_mte_anon_and_memfd)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct mmsim_siginfo si;
	pteval_t *ptep;
	int fd;

	map(t, BASE, PAGE, RWMTE);
	ASSERT_EQ(store8(t, BASE, 1, &si), MMSIM_ACCESS_OK);
	ptep = pte_offset(t->mm, BASE);
	ASSERT_TRUE(ptep && pte_tagged(*ptep));
	EXPECT_TRUE(page_at(t, BASE)->flags & PG_mte_tagged);
	fd = mmsim_memfd_create(t, "tagged", 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(mmsim_ftruncate(t, fd, PAGE), 0);
	EXPECT_EQ(mmsim_mmap(t, BASE + 16 * PAGE, PAGE, RWMTE, MMSIM_MAP_SHARED | MMSIM_MAP_FIXED, fd, 0),
		  (int64_t)(BASE + 16 * PAGE));
	EXPECT_EQ(get_tag(t, BASE + 16 * PAGE), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* New tagged memory has tag 0 in every granule; STG and LDG round-trip. */
TEST(mte_tags_zero_then_stg_ldg)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct mmsim_siginfo si;

	map(t, BASE, PAGE, RWMTE);
	for (uint64_t g = 0; g < PAGE; g += 16 * 37)
		EXPECT_EQ(get_tag(t, BASE + g), 0);
	ASSERT_EQ(mmsim_set_tag(t, TAGGED(BASE + 32, 7), 32, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(get_tag(t, BASE + 16), 0);
	EXPECT_EQ(get_tag(t, BASE + 32), 7);
	EXPECT_EQ(get_tag(t, BASE + 48), 7);
	EXPECT_EQ(get_tag(t, BASE + 64), 0);
	EXPECT_EQ(mmsim_set_tag(t, TAGGED(BASE + 8, 7), 16, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.signo, MMSIM_SIGBUS);
	EXPECT_EQ(si.code, MMSIM_BUS_ADRALN);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* SYNC: a mismatch is SIGSEGV/SEGV_MTESERR at the address, the store not done. */
TEST(mte_sync_mismatch_is_mteserr_and_not_performed)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct mmsim_siginfo si;

	set_mode(t, MMSIM_PR_MTE_TCF_SYNC);
	map(t, BASE, PAGE, RWMTE);
	ASSERT_EQ(mmsim_set_tag(t, TAGGED(BASE, 3), 16, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(store8(t, TAGGED(BASE, 3), 0x1111, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(store8(t, TAGGED(BASE, 5), 0x2222, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.signo, MMSIM_SIGSEGV);
	EXPECT_EQ(si.code, MMSIM_SEGV_MTESERR);
	EXPECT_EQ(si.addr, BASE);
	EXPECT_EQ(load8(t, TAGGED(BASE, 3)), 0x1111);
	/* An access that reaches into the next, differently tagged granule. */
	ASSERT_EQ(store8(t, TAGGED(BASE + 12, 3), 1, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.addr, BASE + 16);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ASYNC: the access is done; SEGV_MTEAERR with si_addr 0 after the next kernel entry. */
TEST(mte_async_mismatch_reported_at_next_kernel_entry)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct mmsim_siginfo si;
	uint64_t v = 0;

	set_mode(t, MMSIM_PR_MTE_TCF_ASYNC);
	map(t, BASE, PAGE, RWMTE);
	ASSERT_EQ(store8(t, TAGGED(BASE, 9), 0x4242, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(mmsim_load(t, BASE, &v, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(v, 0x4242);
	ASSERT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_NORMAL), 0);
	EXPECT_EQ(mmsim_load(t, BASE, &v, 8, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.code, MMSIM_SEGV_MTEAERR);
	EXPECT_EQ(si.addr, 0);
	EXPECT_EQ(mmsim_load(t, BASE, &v, 8, &si), MMSIM_ACCESS_OK);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ASYMM: reads are checked synchronously, writes asynchronously; NONE: no checks. */
TEST(mte_asymm_and_none_modes)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct mmsim_siginfo si;
	uint64_t v;

	map(t, BASE, PAGE, RWMTE);
	set_mode(t, MMSIM_PR_MTE_TCF_SYNC | MMSIM_PR_MTE_TCF_ASYNC);
	EXPECT_EQ(mmsim_load(t, TAGGED(BASE, 1), &v, 8, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.code, MMSIM_SEGV_MTESERR);
	EXPECT_EQ(store8(t, TAGGED(BASE, 1), 5, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(load8(t, BASE), 5);
	/* The write's asynchronous fault is reported after prctl entered the kernel. */
	set_mode(t, MMSIM_PR_MTE_TCF_NONE);
	EXPECT_EQ(mmsim_load(t, TAGGED(BASE, 1), &v, 8, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.code, MMSIM_SEGV_MTEAERR);
	EXPECT_EQ(mmsim_load(t, TAGGED(BASE, 1), &v, 8, &si), MMSIM_ACCESS_OK);
	mmsim_machine_destroy(m);
}

/* IRG never produces an excluded tag and is deterministic per seed. */
TEST(mte_irg_honours_masks)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	uint64_t out = 0, first[8];

	set_mode(t, MMSIM_PR_MTE_TCF_SYNC);
	for (int i = 0; i < 200; i++) {
		ASSERT_EQ(mmsim_irg(t, BASE, 0x00f0, &out), 0);
		EXPECT_NE((out >> 56) & 0xf, 0);		/* tag 0 not in the include mask */
		EXPECT_TRUE(((out >> 56) & 0xf) < 4 || ((out >> 56) & 0xf) > 7);
		if (i < 8)
			first[i] = out;
	}
	ASSERT_EQ(mmsim_irg(t, BASE, 0xffff, &out), 0);
	EXPECT_EQ(out, BASE);
	mmsim_machine_destroy(m);
	m = boot(NULL);
	t = task(m);
	set_mode(t, MMSIM_PR_MTE_TCF_SYNC);
	for (int i = 0; i < 8; i++) {
		ASSERT_EQ(mmsim_irg(t, BASE, 0x00f0, &out), 0);
		EXPECT_EQ(out, first[i]);
	}
	mmsim_machine_destroy(m);
}

/* Tags follow the data through fork and the COW copy. */
TEST(mte_tags_follow_cow)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m), *c = NULL;
	struct mmsim_siginfo si;

	set_mode(t, MMSIM_PR_MTE_TCF_SYNC);
	map(t, BASE, PAGE, RWMTE);
	ASSERT_EQ(mmsim_set_tag(t, TAGGED(BASE + 64, 0xa), 16, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(store8(t, TAGGED(BASE + 64, 0xa), 77, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	ASSERT_EQ(store8(c, TAGGED(BASE + 64, 0xa), 78, &si), MMSIM_ACCESS_OK);	/* COW copy */
	EXPECT_NE(page_to_pfn(m, page_at(c, BASE)), page_to_pfn(m, page_at(t, BASE)));
	EXPECT_EQ(get_tag(c, BASE + 64), 0xa);
	ASSERT_EQ(mmsim_set_tag(c, TAGGED(BASE + 64, 0x2), 16, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(get_tag(t, BASE + 64), 0xa);
	EXPECT_EQ(load8(t, TAGGED(BASE + 64, 0xa)), 77);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------------ tag storage */

/* The built-in machine reserves its zero page's block at boot (§8.3 55). */
TEST(mte_8_3_55_zero_page_block_reserved)
{
	struct mmsim_machine *m = boot(NULL);
	struct page *z = pfn_to_page(m, m->zero_pfn);
	uint64_t block;
	const struct tag_region *r;

	ASSERT_TRUE(m->mte.storage_enabled);
	EXPECT_TRUE(z->flags & PG_tag_storage_reserved);
	ASSERT_EQ(tag_storage_find_block(m, m->zero_pfn, &block, &r), 0);
	EXPECT_TRUE(pfn_to_page(m, block)->flags & PG_tag_block);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success"), 1);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.3 38-41: two tagged pages sharing a block take one reservation and two
 * shares; the block goes back only when the last one is freed.
 */
TEST(mte_8_3_38_41_block_refcount)
{
	struct mmsim_machine *m = boot(NULL);
	struct page *a, *b = NULL;
	uint64_t ba, bb, pa;
	const struct tag_region *r;
	int64_t success = mmsim_vmstat(m, "metadata_reserve_success");
	int64_t freed = mmsim_vmstat(m, "metadata_reserve_free");

	a = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE | __GFP_TAGGED | __GFP_ZERO, 0);
	ASSERT_TRUE(a != NULL);
	pa = page_to_pfn(m, a);
	ASSERT_EQ(tag_storage_find_block(m, pa, &ba, &r), 0);
	EXPECT_TRUE(a->flags & PG_tag_storage_reserved);
	EXPECT_TRUE(a->flags & PG_mte_tagged);
	EXPECT_EQ(pfn_to_page(m, ba)->refcount, 2);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success") - success, 1);
	/* Find a second tagged page that shares a's block. */
	for (int i = 0; i < 64 && !b; i++) {
		struct page *c = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE | __GFP_TAGGED | __GFP_ZERO, 0);

		ASSERT_TRUE(c != NULL);
		ASSERT_EQ(tag_storage_find_block(m, page_to_pfn(m, c), &bb, &r), 0);
		if (bb == ba)
			b = c;
		else
			__free_pages(m, c, 0);
	}
	ASSERT_TRUE(b != NULL);
	EXPECT_EQ(pfn_to_page(m, ba)->refcount, 3);
	ASSERT_CONSISTENT(m);
	__free_pages(m, b, 0);
	EXPECT_EQ(pfn_to_page(m, ba)->refcount, 2);
	EXPECT_TRUE(pfn_to_page(m, ba)->flags & PG_tag_block);
	__free_pages(m, a, 0);
	EXPECT_TRUE(!(pfn_to_page(m, ba)->flags & PG_tag_block));
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_free") - freed, 1);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* §8.3 42: an order-9 tagged allocation reserves 16 blocks, +32 each. */
TEST(mte_8_3_42_thp_order_reserves_16_blocks)
{
	struct mmsim_machine *m = boot(NULL);
	int64_t success = mmsim_vmstat(m, "metadata_reserve_success");
	struct page *p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE | __GFP_TAGGED | __GFP_ZERO | __GFP_COMP, 9);
	uint64_t block;
	const struct tag_region *r;

	ASSERT_TRUE(p != NULL);
	ASSERT_EQ(tag_storage_find_block(m, page_to_pfn(m, p), &block, &r), 0);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success") - success, 16);
	for (int i = 0; i < 16; i++)
		EXPECT_EQ(pfn_to_page(m, block + (uint64_t)i)->refcount, 33);
	for (int i = 0; i < 512; i++)
		EXPECT_TRUE(p[i].flags & PG_tag_storage_reserved);
	ASSERT_CONSISTENT(m);
	__free_pages(m, p, 9);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_free"), 16);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* §8.2 19/22: untagged movable requests avoid tag storage while anything else is free; tagged never. */
TEST(mte_8_2_19_22_metadata_last_resort)
{
	struct mmsim_machine *m = boot(NULL);

	for (int i = 0; i < 2000; i++) {
		struct page *p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE | (i & 1 ? __GFP_TAGGED : 0), 0);

		ASSERT_TRUE(p != NULL);
		EXPECT_NE(get_pageblock_migratetype(m, page_to_pfn(m, p)), MIGRATE_METADATA);
		__free_pages(m, p, 0);
	}
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.4 61: mprotect(PROT_MTE) marks the PTEs of 3 ordinary untagged pages
 * PAGE_METADATA_NONE (not valid, PROT_NONE bit 58, bit 59, same frame)
 * without reserving; the first access (item 66, in full in
 * test_spec_fault.c) maps the page tagged, with zero tags, and the data
 * intact.
 */
TEST(spec_8_4_61_mprotect_marks_three_ptes_metadata_none)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct mmsim_siginfo si;
	uint64_t pfns[3];
	int64_t before;
	pteval_t *ptep;

	map(t, BASE, 3 * PAGE, RW);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(store8(t, BASE + (uint64_t)i * PAGE, 100 + (uint64_t)i, &si), MMSIM_ACCESS_OK);
	before = mmsim_vmstat(m, "metadata_reserve_success") + mmsim_vmstat(m, "metadata_reserve_fail");
	for (int i = 0; i < 3; i++)
		pfns[i] = page_to_pfn(m, page_at(t, BASE + (uint64_t)i * PAGE));
	ASSERT_EQ(mmsim_mprotect(t, BASE, 3 * PAGE, RWMTE), 0);
	for (int i = 0; i < 3; i++) {
		ptep = pte_offset(t->mm, BASE + (uint64_t)i * PAGE);
		ASSERT_TRUE(ptep != NULL);
		EXPECT_TRUE(pte_metadata_none(*ptep));
		EXPECT_TRUE(!pte_valid(*ptep));
		EXPECT_TRUE((*ptep & PTE_PROT_NONE) && (*ptep & PTE_METADATA_NONE));
		EXPECT_EQ(page_to_pfn(m, page_at(t, BASE + (uint64_t)i * PAGE)), pfns[i]);
		EXPECT_TRUE(!(page_at(t, BASE + (uint64_t)i * PAGE)->flags & PG_tag_storage_reserved));
	}
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success") + mmsim_vmstat(m, "metadata_reserve_fail"), before);
	ASSERT_CONSISTENT(m);
	set_mode(t, MMSIM_PR_MTE_TCF_SYNC);
	EXPECT_EQ(load8(t, BASE + PAGE), 101);
	ptep = pte_offset(t->mm, BASE + PAGE);
	EXPECT_TRUE(pte_valid(*ptep) && pte_tagged(*ptep) && !pte_metadata_none(*ptep));
	EXPECT_TRUE(page_at(t, BASE + PAGE)->flags & PG_mte_tagged);
	EXPECT_EQ(get_tag(t, BASE + PAGE + 256), 0);
	EXPECT_EQ(mmsim_vmstat(m, "numa_hint_faults"), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* §8.4 62: changing only R/W of an MTE VMA marks nothing. */
TEST(spec_8_4_62_already_mte_no_marking)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct mmsim_siginfo si;
	int64_t success;

	map(t, BASE, PAGE, RWMTE);
	ASSERT_EQ(store8(t, BASE, 1, &si), MMSIM_ACCESS_OK);
	success = mmsim_vmstat(m, "metadata_reserve_success");
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, MMSIM_PROT_READ | MMSIM_PROT_MTE), 0);
	EXPECT_TRUE(pte_valid(*pte_offset(t->mm, BASE)));
	EXPECT_TRUE(!pte_metadata_none(*pte_offset(t->mm, BASE)) && pte_tagged(*pte_offset(t->mm, BASE)));
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	EXPECT_TRUE(pte_valid(*pte_offset(t->mm, BASE)) && !pte_metadata_none(*pte_offset(t->mm, BASE)));
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success"), success);
	EXPECT_EQ(load8(t, BASE), 1);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* A tag write into unreserved tag storage is corruption, and the checker says so. */
TEST(mte_check_catches_tag_write_without_storage)
{
	struct mmsim_machine *m = boot(NULL);
	struct page *p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE, 0);
	char rep[2048];

	ASSERT_TRUE(p != NULL);
	ASSERT_TRUE(!(p->flags & PG_tag_storage_reserved));
	mte_set_granule_tag(m, page_to_pfn(m, p), 0, 5);
	EXPECT_EQ(m->mte.bad_tag_writes, 1);
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "tag writes landed in tag storage that was not reserved");
	mmsim_machine_destroy(m);
}

/* Static policy: the carve-out is never data; tagged memory needs no reservation. */
TEST(mte_static_policy_no_reservation)
{
	struct mmsim_machine *m = boot("mte_tag_storage=static");
	struct mmsim_task *t = task(m);
	struct mmsim_siginfo si;
	char mi[4096];

	EXPECT_TRUE(!m->mte.storage_enabled);
	set_mode(t, MMSIM_PR_MTE_TCF_SYNC);
	map(t, BASE, 4 * PAGE, RWMTE);
	ASSERT_EQ(mmsim_set_tag(t, TAGGED(BASE, 6), PAGE, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(store8(t, TAGGED(BASE + 8, 6), 1, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(store8(t, TAGGED(BASE + 8, 2), 1, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success"), 0);
	ASSERT_GT(mmsim_proc_read(m, NULL, "meminfo", mi, sizeof(mi)), 0);
	ASSERT_STR_CONTAINS(mi, "MetadataTotal:         0 kB");
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* CMA policy: tagged allocations never come from the carve-out. */
TEST(mte_cma_policy_tagged_never_from_cma)
{
	struct mmsim_machine *m = boot("mte_tag_storage=cma");

	for (int i = 0; i < 2000; i++) {
		struct page *p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE | __GFP_TAGGED | __GFP_ZERO, 0);

		ASSERT_TRUE(p != NULL);
		EXPECT_NE(get_pageblock_migratetype(m, page_to_pfn(m, p)), MIGRATE_CMA);
		__free_pages(m, p, 0);
	}
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}
