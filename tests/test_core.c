// SPDX-License-Identifier: MIT
/*
 * tests/test_core.c - the machine's insides, white box: the buddy allocator,
 * the MMU's syndromes, TLB coherence, migration entries, alloc_contig_range,
 * pins, OOM, determinism, trace events, and mmsim_check() catching damage.
 *
 * These tests include the internal headers: they look at struct page, the
 * free lists and the page tables directly, because that is what they test.
 */
#include <stdlib.h>

#include "harness.h"
#include "hw/mmu.h"
#include "mm/internal.h"

#define RW        (MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define ANON      (MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS)
#define BASE      0x10000000ULL

static struct mmsim_task *task(struct mmsim_machine *m)
{
	struct mmsim_task *t = NULL;

	ASSERT_EQ(mmsim_task_create(m, &t), 0);
	return t;
}

static uint64_t map(struct mmsim_task *t, uint64_t addr, uint64_t len, int prot)
{
	int64_t a = mmsim_mmap(t, addr, len, prot, ANON | (addr ? MMSIM_MAP_FIXED : 0), -1, 0);

	ASSERT_GE(a, 0);
	return (uint64_t)a;
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

static uint64_t pfn_of(struct mmsim_task *t, uint64_t addr)
{
	uint64_t e = 0;

	ASSERT_EQ(mmsim_pagemap(t, addr, &e), 0);
	ASSERT_TRUE(e & MMSIM_PM_PRESENT);
	return e & MMSIM_PM_PFRAME_MASK;
}

static struct zone *zone0(struct mmsim_machine *m)
{
	return &m->nodes[0].node_zones[ZONE_DMA];
}

/* ------------------------------------------------------------ allocator */

/* Allocate and free one page of every order: the free lists come back whole. */
TEST(buddy_alloc_free_restores_free_lists)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct zone *z = zone0(m);
	uint64_t before[NR_PAGE_ORDERS];
	struct page *p[NR_PAGE_ORDERS];

	drain_all_pages(m);
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		before[o] = z->free_area[o].nr_free;
	for (unsigned int o = 1; o < NR_PAGE_ORDERS; o++) {
		p[o] = alloc_pages_node(m, 0, GFP_KERNEL | __GFP_COMP, o);
		ASSERT_TRUE(p[o] != NULL);
		EXPECT_EQ(page_to_pfn(m, p[o]) & ((1ULL << o) - 1), 0);
		EXPECT_TRUE(p[o]->flags & PG_head);
	}
	ASSERT_CONSISTENT(m);
	for (unsigned int o = 1; o < NR_PAGE_ORDERS; o++)
		__free_pages(m, p[o], o);
	drain_all_pages(m);
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		EXPECT_EQ(z->free_area[o].nr_free, before[o]);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * Boot leaves every pageblock MOVABLE; the first unmovable allocation must
 * fall back, and steals a whole pageblock because the block it takes is big.
 */
TEST(buddy_unmovable_fallback_steals_pageblock)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct page *p = alloc_pages_node(m, 0, GFP_KERNEL, 0);
	uint64_t pfn;

	ASSERT_TRUE(p != NULL);
	pfn = page_to_pfn(m, p);
	EXPECT_EQ(get_pageblock_migratetype(m, pfn), MIGRATE_UNMOVABLE);
	/* The rest of the pageblock now serves unmovable requests directly. */
	EXPECT_TRUE(!list_empty(&zone0(m)->pcp[0].lists[MIGRATE_UNMOVABLE]) ||
		    !list_empty(&zone0(m)->free_area[0].free_list[MIGRATE_UNMOVABLE]) ||
		    zone0(m)->free_area[1].nr_free > 0);
	ASSERT_CONSISTENT(m);
	__free_pages(m, p, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* Order-0 frees go to the CPU's pcp list and drain in batches above high. */
TEST(buddy_pcp_high_drains_a_batch)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct per_cpu_pages *pcp = &zone0(m)->pcp[0];
	int n = pcp->high + 1;
	struct page **pages = calloc((size_t)n, sizeof(*pages));

	ASSERT_TRUE(pages != NULL);
	drain_all_pages(m);
	for (int i = 0; i < n; i++)
		ASSERT_TRUE((pages[i] = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE, 0)) != NULL);
	drain_all_pages(m);
	for (int i = 0; i < pcp->high; i++)
		__free_pages(m, pages[i], 0);
	EXPECT_EQ(pcp->count, pcp->high);
	EXPECT_TRUE(pages[0]->flags & PG_pcp);
	__free_pages(m, pages[n - 1], 0);
	EXPECT_EQ(pcp->count, pcp->high + 1 - pcp->batch);
	ASSERT_CONSISTENT(m);
	free(pages);
	mmsim_machine_destroy(m);
}

/* Watermarks: min < low < high, and a zone below min refuses order 0. */
TEST(buddy_watermarks_ordered_and_enforced)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct zone *z = zone0(m);

	EXPECT_GT(z->watermark[WMARK_MIN], 0);
	EXPECT_LT(z->watermark[WMARK_MIN], z->watermark[WMARK_LOW]);
	EXPECT_LT(z->watermark[WMARK_LOW], z->watermark[WMARK_HIGH]);
	EXPECT_TRUE(zone_watermark_ok(z, 0, z->watermark[WMARK_HIGH]));
	EXPECT_TRUE(!zone_watermark_ok(z, 0, (uint64_t)z->vm_stat[NR_FREE_PAGES]));
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------------ MMU */

/*
 * The syndrome names the level where the walk stopped:
 *
 *   BASE          mapped, written (tables down to L3 exist)
 *   BASE+4K       mapped, untouched          -> translation fault, level 3
 *   BASE+1G       nothing, no L2 table there -> translation fault, level 1
 *   BASE (write after mprotect PROT_READ)    -> permission fault, level 3
 */
TEST(mmu_fault_syndromes_name_level)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	struct tlb_entry e;
	uint32_t esr = 0;

	map(t, BASE, 2 * PAGE, RW);
	store64(t, BASE, 1);
	ASSERT_EQ(mmu_walk(m, t->mm, BASE, true, &e, &esr), 0);
	EXPECT_TRUE(e.perm & TLB_W);
	EXPECT_EQ(mmu_walk(m, t->mm, BASE + PAGE, false, &e, &esr), -1);
	EXPECT_EQ(esr_fsc_type(esr), ESR_ELx_FSC_FAULT);
	EXPECT_EQ(esr_fsc_level(esr), 3);
	EXPECT_EQ(esr >> ESR_ELx_EC_SHIFT, ESR_ELx_EC_DABT_LOW);
	EXPECT_EQ(mmu_walk(m, t->mm, BASE + (1ULL << 30), false, &e, &esr), -1);
	EXPECT_EQ(esr_fsc_level(esr), 1);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, MMSIM_PROT_READ), 0);
	EXPECT_EQ(mmu_walk(m, t->mm, BASE, true, &e, &esr), -1);
	EXPECT_EQ(esr_fsc_type(esr), ESR_ELx_FSC_PERM);
	EXPECT_TRUE(esr & ESR_ELx_WNR);
	EXPECT_EQ(esr_fsc_level(esr), 3);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * Without hardware Access-flag management (id_aa64mmfr1.hafdbm=0) the
 * child's first read of a page fork copied old takes an access-flag fault;
 * with it (the default) the walk sets AF and there is no fault.
 */
TEST(mmu_access_flag_fault_without_hafdbm)
{
	for (int hw = 0; hw <= 1; hw++) {
		struct mmsim_machine *m = test_machine(hw ? NULL : "id_aa64mmfr1.hafdbm=0");
		struct mmsim_task *t = task(m), *c = NULL;
		int64_t before;

		map(t, BASE, PAGE, RW);
		store64(t, BASE, 42);
		ASSERT_EQ(mmsim_fork(t, &c), 0);
		before = mmsim_vmstat(m, "pgfault");
		EXPECT_EQ(load64(c, BASE), 42);
		EXPECT_EQ(mmsim_vmstat(m, "pgfault") - before, hw ? 0 : 1);
		ASSERT_CONSISTENT(m);
		mmsim_machine_destroy(m);
	}
}

/* ------------------------------------------------------------------ TLB */

/*
 * A thread on CPU 1 caches a writable translation; mprotect from CPU 0 must
 * shoot it down, or CPU 1 could keep writing a read-only page.
 */
TEST(tlb_mprotect_shoots_down_other_cpu)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m), *th = NULL;
	struct mmsim_siginfo si;
	uint64_t v = 7;

	ASSERT_EQ(mmsim_thread_create(t, &th), 0);
	ASSERT_EQ(mmsim_task_set_cpu(th, 1), 0);
	map(t, BASE, PAGE, RW);
	store64(th, BASE, 1);
	ASSERT_TRUE(m->cpus[1].tlb.e[(BASE >> 12) & (TLB_ENTRIES - 1)].perm & TLB_W);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, MMSIM_PROT_READ), 0);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_store(th, BASE, &v, 8, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.signo, MMSIM_SIGSEGV);
	EXPECT_EQ(si.code, MMSIM_SEGV_ACCERR);
	EXPECT_EQ(si.addr, BASE);
	EXPECT_EQ(load64(th, BASE), 1);
	mmsim_machine_destroy(m);
}

/* munmap from one thread: the other thread's cached entry must be gone. */
TEST(tlb_munmap_shoots_down_and_frees_after_flush)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m), *th = NULL;
	struct mmsim_siginfo si;
	uint64_t v;

	ASSERT_EQ(mmsim_thread_create(t, &th), 0);
	ASSERT_EQ(mmsim_task_set_cpu(th, 1), 0);
	map(t, BASE, PAGE, RW);
	store64(th, BASE, 1);
	ASSERT_EQ(mmsim_munmap(t, BASE, PAGE), 0);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_load(th, BASE, &v, 8, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.code, MMSIM_SEGV_MAPERR);
	mmsim_machine_destroy(m);
}

/* The checker must notice a TLB entry that outlives a permission downgrade. */
TEST(check_catches_stale_writable_tlb_entry)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	char rep[1024];
	pteval_t *ptep;

	map(t, BASE, PAGE, RW);
	store64(t, BASE, 1);
	ptep = pte_offset(t->mm, BASE);
	ASSERT_TRUE(ptep != NULL);
	*ptep = pte_wrprotect(*ptep);		/* a kernel bug: no flush */
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "TLB grants write");
	flush_tlb_page(t->mm, BASE);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* A COW-shared page made writable in one process: the checker flags it. */
TEST(check_catches_writable_shared_anon_page)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m), *c = NULL;
	char rep[1024];
	pteval_t *ptep;

	map(t, BASE, PAGE, RW);
	store64(t, BASE, 1);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	ptep = pte_offset(c->mm, BASE);
	*ptep = pte_mkwrite(pte_mkdirty(*ptep));
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "COW broken");
	*ptep = pte_wrprotect(*ptep);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* Refcount and mapcount disagreeing with the page tables are reported. */
TEST(check_catches_mapcount_and_free_list_damage)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	struct page *p;
	char rep[2048];

	map(t, BASE, PAGE, RW);
	store64(t, BASE, 1);
	p = pfn_to_page(m, pfn_of(t, BASE));
	p->mapcount++;
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "mapcount 2 but 1 PTEs map it");
	p->mapcount--;
	zone0(m)->vm_stat[NR_FREE_PAGES]++;
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "NR_FREE_PAGES");
	zone0(m)->vm_stat[NR_FREE_PAGES]--;
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------ migration */

/*
 * An access to a page under migration sleeps (BLOCKED) until the move is
 * done, then completes on the new frame with the data intact.
 */
TEST(migration_entry_blocks_access_until_moved)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m), *th = NULL;
	struct mmsim_siginfo si;
	struct page *src, *dst;
	uint64_t v = 0, newval = 0x5555;

	ASSERT_EQ(mmsim_thread_create(t, &th), 0);
	map(t, BASE, PAGE, RW);
	store64(t, BASE, 0x1234);
	src = pfn_to_page(m, pfn_of(t, BASE));
	dst = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE, 0);
	ASSERT_TRUE(dst != NULL);
	get_page(src);
	page_anon_vma(src)->refcount++;
	ASSERT_EQ(migrate_folio_unmap(m, src), 0);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(mmsim_load(th, BASE, &v, 8, &si), MMSIM_ACCESS_BLOCKED);
	EXPECT_EQ(mmsim_store(t, BASE, &newval, 8, &si), MMSIM_ACCESS_BLOCKED);
	migrate_folio_move(m, src, dst);
	anon_vma_put(page_anon_vma(dst));
	put_page(m, src);
	put_page(m, dst);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(mmsim_task_resume(th, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(v, 0x1234);
	EXPECT_EQ(mmsim_task_resume(t, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(load64(th, BASE), 0x5555);
	EXPECT_EQ(pfn_of(t, BASE), page_to_pfn(m, dst));
	EXPECT_EQ(mmsim_vmstat(m, "pgmigrate_success"), 1);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

static struct mmsim_machine *numa_machine(void)
{
	struct mmsim_options o = { .seed = 1, .devicetree = "examples/numa-4g.dts" };
	struct mmsim_machine *m = NULL;

	if (mmsim_machine_create(&o, &m))
		TEST_FAIL_(1, "boot numa-4g: %s", mmsim_strerror_last());
	return m;
}

/*
 * move_pages on two nodes, Linux's status codes:
 *   page 0: written       -> moved, status 1
 *   page 1: untouched     -> -ENOENT
 *   page 2: zero page     -> -EFAULT
 *   page 3: unmapped      -> -EFAULT
 */
TEST(move_pages_statuses_and_data)
{
	struct mmsim_machine *m = numa_machine();
	struct mmsim_task *t = task(m);
	uint64_t pages[4] = { BASE, BASE + PAGE, BASE + 2 * PAGE, BASE + 16 * PAGE };
	int nodes[4] = { 1, 1, 1, 1 }, status[4];
	uint64_t v;
	struct mmsim_siginfo si;

	map(t, BASE, 3 * PAGE, RW);
	store64(t, BASE, 0xabcdef);
	ASSERT_EQ(mmsim_load(t, BASE + 2 * PAGE, &v, 8, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_move_pages(t, 4, pages, NULL, status, 0), 0);
	EXPECT_EQ(status[0], 0);
	EXPECT_EQ(status[1], -MMSIM_ENOENT);
	ASSERT_EQ(mmsim_move_pages(t, 4, pages, nodes, status, MMSIM_MPOL_MF_MOVE), 0);
	EXPECT_EQ(status[0], 1);
	EXPECT_EQ(status[1], -MMSIM_ENOENT);
	EXPECT_EQ(status[2], -MMSIM_EFAULT);
	EXPECT_EQ(status[3], -MMSIM_EFAULT);
	EXPECT_EQ(load64(t, BASE), 0xabcdef);
	ASSERT_EQ(mmsim_move_pages(t, 1, pages, NULL, status, 0), 0);
	EXPECT_EQ(status[0], 1);
	nodes[0] = 5;
	EXPECT_EQ(mmsim_move_pages(t, 1, pages, nodes, status, 0), -MMSIM_ENODEV);
	nodes[0] = 9;
	EXPECT_EQ(mmsim_move_pages(t, 1, pages, nodes, status, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_move_pages(t, 1, pages, nodes, status, 0x100), -MMSIM_EINVAL);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* A page shared after fork needs MPOL_MF_MOVE_ALL; a pinned page never moves. */
TEST(move_pages_shared_and_pinned)
{
	struct mmsim_machine *m = numa_machine();
	struct mmsim_task *t = task(m), *c = NULL;
	uint64_t page = BASE;
	int node = 1, status = 0;
	struct mmsim_pin *pin = NULL;

	map(t, BASE, 2 * PAGE, RW);
	store64(t, BASE, 1);
	store64(t, BASE + PAGE, 2);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	ASSERT_EQ(mmsim_move_pages(t, 1, &page, &node, &status, MMSIM_MPOL_MF_MOVE), 0);
	EXPECT_EQ(status, -MMSIM_EACCES);
	ASSERT_EQ(mmsim_move_pages(t, 1, &page, &node, &status, MMSIM_MPOL_MF_MOVE_ALL), 0);
	EXPECT_EQ(status, 1);
	EXPECT_EQ(load64(c, BASE), 1);
	EXPECT_EQ(pfn_of(c, BASE), pfn_of(t, BASE));
	ASSERT_CONSISTENT(m);
	page = BASE + PAGE;
	ASSERT_EQ(mmsim_pin(t, page, PAGE, MMSIM_FOLL_WRITE | MMSIM_FOLL_LONGTERM, &pin), 0);
	EXPECT_EQ(mmsim_move_pages(t, 1, &page, &node, &status, MMSIM_MPOL_MF_MOVE_ALL), 1);
	EXPECT_EQ(status, -MMSIM_EBUSY);
	mmsim_unpin(pin);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * alloc_contig_range migrates the user pages out of the range and hands the
 * frames over; a pinned page in the range makes it -EBUSY.
 */
TEST(alloc_contig_range_evacuates_user_pages)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	struct mmsim_pin *pin = NULL;
	uint64_t pfn, start;

	map(t, BASE, 8 * PAGE, RW);
	for (int i = 0; i < 8; i++)
		store64(t, BASE + (uint64_t)i * PAGE, 100 + (uint64_t)i);
	pfn = pfn_of(t, BASE + 3 * PAGE);
	start = pfn & ~(pageblock_nr_pages - 1);
	ASSERT_EQ(mmsim_pin(t, BASE + 3 * PAGE, PAGE, 0, &pin), 0);
	EXPECT_EQ(alloc_contig_range(m, start, start + pageblock_nr_pages, MIGRATE_MOVABLE), -MMSIM_EBUSY);
	ASSERT_CONSISTENT(m);
	mmsim_unpin(pin);
	ASSERT_EQ(alloc_contig_range(m, start, start + pageblock_nr_pages, MIGRATE_MOVABLE), 0);
	ASSERT_CONSISTENT(m);
	for (int i = 0; i < 8; i++) {
		uint64_t p = pfn_of(t, BASE + (uint64_t)i * PAGE);

		EXPECT_EQ(load64(t, BASE + (uint64_t)i * PAGE), 100 + (uint64_t)i);
		EXPECT_TRUE(p < start || p >= start + pageblock_nr_pages);
	}
	for (uint64_t p = start; p < start + pageblock_nr_pages; p++)
		EXPECT_EQ(pfn_to_page(m, p)->refcount, 1);
	free_contig_range(m, start, pageblock_nr_pages);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------- pins, OOM */

/* A pinned page keeps what was written even after the process unmaps it. */
TEST(pin_outlives_munmap_and_is_copied_at_fork)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m), *c = NULL;
	struct mmsim_pin *pin = NULL;
	uint64_t v = 0;

	map(t, BASE, PAGE, RW);
	store64(t, BASE, 77);
	ASSERT_EQ(mmsim_pin(t, BASE, PAGE, MMSIM_FOLL_WRITE | MMSIM_FOLL_LONGTERM, &pin), 0);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	/* The pinned page stayed the parent's; the child got a copy at once. */
	EXPECT_NE(pfn_of(c, BASE), pfn_of(t, BASE));
	store64(t, BASE, 78);
	EXPECT_EQ(load64(c, BASE), 77);
	ASSERT_EQ(mmsim_pin_read(pin, 0, &v, 8), 0);
	EXPECT_EQ(v, 78);
	ASSERT_EQ(mmsim_munmap(t, BASE, PAGE), 0);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_pin_read(pin, 0, &v, 8), 0);
	EXPECT_EQ(v, 78);
	EXPECT_EQ(mmsim_pin_read(pin, 4090, &v, 8), -MMSIM_EINVAL);
	mmsim_unpin(pin);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* 64 MiB machine: the biggest process is killed, the machine stays sound. */
TEST(oom_kills_biggest_process)
{
	struct mmsim_options o = { .seed = 1, .devicetree = "tests/machines/small-64m.dts" };
	struct mmsim_machine *m = NULL;
	struct mmsim_task *hog, *small;
	struct mmsim_siginfo si;
	uint64_t a, v = 1;
	int r = MMSIM_ACCESS_OK;

	ASSERT_EQ(mmsim_machine_create(&o, &m), 0);
	hog = task(m);
	small = task(m);
	map(small, BASE, PAGE, RW);
	store64(small, BASE, 5);
	a = map(hog, 0, 128ULL << 20, RW);
	for (uint64_t off = 0; off < (128ULL << 20) && r == MMSIM_ACCESS_OK; off += PAGE)
		r = mmsim_store(hog, a + off, &v, 8, &si);
	ASSERT_EQ(r, MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.signo, MMSIM_SIGKILL);
	EXPECT_EQ(mmsim_task_killed(hog), 1);
	EXPECT_EQ(mmsim_vmstat(m, "oom_kill"), 1);
	EXPECT_EQ(mmsim_munmap(hog, a, PAGE), -MMSIM_ESRCH);
	EXPECT_EQ(load64(small, BASE), 5);
	ASSERT_CONSISTENT(m);
	{
		char log[8192];

		ASSERT_GT(mmsim_proc_read(m, NULL, "kmsg", log, sizeof(log)), 0);
		ASSERT_STR_CONTAINS(log, "Out of memory: Killed process");
	}
	mmsim_machine_destroy(m);
}

/* ---------------------------------------------------- determinism, trace */

struct trace_count { int allocs, faults; uint64_t hash; };

static void count_event(void *ctx, const struct mmsim_event *ev)
{
	struct trace_count *tc = ctx;

	if (!strcmp(ev->name, "kmem:mm_page_alloc"))
		tc->allocs++;
	if (!strcmp(ev->name, "exceptions:page_fault_user"))
		tc->faults++;
	for (const char *s = ev->text; *s; s++)
		tc->hash = (tc->hash ^ (uint8_t)*s) * 0x100000001b3ULL;
	tc->hash = (tc->hash ^ ev->ts) * 0x100000001b3ULL;
}

static void workload(struct mmsim_machine *m)
{
	struct mmsim_task *t = task(m), *c = NULL;

	map(t, BASE, 64 * PAGE, RW);
	for (int i = 0; i < 64; i++)
		store64(t, BASE + (uint64_t)i * PAGE, (uint64_t)i);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	for (int i = 0; i < 64; i += 3)
		store64(c, BASE + (uint64_t)i * PAGE, 1);
	mmsim_task_exit(c);
	ASSERT_EQ(mmsim_munmap(t, BASE, 32 * PAGE), 0);
}

/* Same seed, same calls: same trace, same counters, same simulated time. */
TEST(determinism_same_seed_same_trace)
{
	struct trace_count tc[2] = { { 0, 0, 1469598103934665603ULL }, { 0, 0, 1469598103934665603ULL } };
	char vm[2][16384];
	uint64_t now[2];

	for (int i = 0; i < 2; i++) {
		struct mmsim_machine *m = test_machine(NULL);

		ASSERT_EQ(mmsim_trace_subscribe(m, "*", count_event, &tc[i]), 0);
		workload(m);
		ASSERT_GT(mmsim_proc_read(m, NULL, "vmstat", vm[i], sizeof(vm[i])), 0);
		now[i] = mmsim_now(m);
		ASSERT_CONSISTENT(m);
		mmsim_machine_destroy(m);
	}
	EXPECT_EQ(tc[0].hash, tc[1].hash);
	EXPECT_EQ(now[0], now[1]);
	EXPECT_TRUE(!strcmp(vm[0], vm[1]));
	EXPECT_GT(tc[0].allocs, 64);
	EXPECT_EQ(tc[0].faults, 64 + 22);
}

/* kmem:* events match the counters they shadow. */
TEST(trace_kmem_matches_pgalloc)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct trace_count tc = { 0 };
	int64_t before = mmsim_vmstat(m, "pgalloc_dma");

	ASSERT_EQ(mmsim_trace_subscribe(m, "kmem:*", count_event, &tc), 0);
	workload(m);
	EXPECT_EQ(tc.allocs, mmsim_vmstat(m, "pgalloc_dma") - before);
	EXPECT_EQ(tc.faults, 0);
	ASSERT_EQ(mmsim_trace_unsubscribe(m, count_event, &tc), 0);
	mmsim_machine_destroy(m);
}

/* Bad arguments to library calls: an errno and a sentence, never an abort. */
TEST(bad_arguments_are_errors)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	struct mmsim_siginfo si;
	uint64_t v = 0;

	EXPECT_EQ(mmsim_machine_create(NULL, NULL), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_load(NULL, BASE, &v, 8, &si), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_load(t, BASE, NULL, 8, &si), -MMSIM_EFAULT);
	EXPECT_EQ(mmsim_load(t, BASE, &v, UINT64_MAX, &si), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_task_set_cpu(t, 99), -MMSIM_EINVAL);
	ASSERT_STR_CONTAINS(mmsim_strerror_last(), "cpu 99 does not exist");
	EXPECT_EQ(mmsim_cost_set(m, "nope", 1), -MMSIM_ENOENT);
	EXPECT_EQ(mmsim_check(NULL, NULL, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_trace_subscribe(m, NULL, count_event, NULL), -MMSIM_EINVAL);
	/* An access far beyond the address space is SEGV_MAPERR, not a crash. */
	EXPECT_EQ(mmsim_load(t, 0x00ff000000000000ULL, &v, 8, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.code, MMSIM_SEGV_MAPERR);
	{
		struct mmsim_options o = { .devicetree = "/nonexistent.dtb" };
		struct mmsim_machine *bad = NULL;

		EXPECT_EQ(mmsim_machine_create(&o, &bad), -MMSIM_ENOENT);
		EXPECT_TRUE(bad == NULL);
		ASSERT_STR_CONTAINS(mmsim_strerror_last(), "/nonexistent.dtb");
	}
	{
		struct mmsim_options o = { .bootargs = "transparent_hugepage=sometimes" };
		struct mmsim_machine *bad = NULL;

		EXPECT_EQ(mmsim_machine_create(&o, &bad), -MMSIM_EINVAL);
		ASSERT_STR_CONTAINS(mmsim_strerror_last(), "transparent_hugepage=sometimes");
	}
	mmsim_machine_destroy(m);
}

/* The 4 GiB two-node example boots with both nodes' memory managed. */
TEST(boot_numa_4g_two_nodes)
{
	struct mmsim_machine *m = numa_machine();

	EXPECT_EQ(mmsim_nr_nodes(m), 2);
	EXPECT_EQ(mmsim_nr_cpus(m), 4);
	EXPECT_GT(m->nodes[0].node_present_pages, 500000);
	EXPECT_GT(m->nodes[1].node_present_pages, 500000);
	/* All of it, but the 2 MiB no-map region and the memmap (1/64). */
	EXPECT_GE(m->totalram_pages, (4ULL << 30) / PAGE * 98 / 100);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}
