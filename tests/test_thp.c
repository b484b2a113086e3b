// SPDX-License-Identifier: MIT
/*
 * tests/test_thp.c - transparent huge pages for private anonymous memory:
 * the PMD fault and its fallback, the huge zero page, write-protect faults,
 * splitting a PMD (partial munmap, mprotect, MADV_DONTNEED, mremap) and a
 * THP (partial unmap, swap-out, migration), fork, the counters in
 * /proc/vmstat, /proc/meminfo, smaps and pagemap, what mmsim_check() finds
 * when a THP's bookkeeping is damaged, and the tag storage of tagged THPs.
 * Tests named spec_8_x_N_... check spec §8.x item N.
 *
 * Addresses: BASE is 2 MiB aligned; one "huge page" is HP = 2 MiB = 512
 * pages.  The built-in machine has 1 GiB in one node and THP "always".
 */
#include <stdlib.h>

#include "harness.h"
#include "mm/internal.h"

#define BASE      0x400000000ULL
#define HP        (2ULL << 20)
#define MIB       (1ULL << 20)
#define RW        (MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define ANON      (MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)
#define FVP       "examples/fvp-tag-storage.dts"
#define NUMA4G    "examples/numa-4g.dts"

/* --------------------------------------------------------------- helpers */

static struct mmsim_machine *boot_opts(const char *dts, const char *bootargs, uint64_t swap)
{
	struct mmsim_options o = { .seed = 1, .devicetree = dts, .bootargs = bootargs, .swap_bytes = swap };
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

static int64_t ev(struct mmsim_machine *m, const char *name)
{
	return mmsim_vmstat(m, name);
}

static uint64_t pm(struct mmsim_task *t, uint64_t addr)
{
	uint64_t e = 0;

	ASSERT_EQ(mmsim_pagemap(t, addr, &e), 0);
	return e;
}

#define PRESENT(e)   (((e) & MMSIM_PM_PRESENT) != 0)
#define EXCLUSIVE(e) (((e) & MMSIM_PM_MMAP_EXCLUSIVE) != 0)

static uint64_t pfn_at(struct mmsim_task *t, uint64_t addr)
{
	uint64_t e = pm(t, addr);

	ASSERT_TRUE(PRESENT(e));
	return e & MMSIM_PM_PFRAME_MASK;
}

static int put8(struct mmsim_task *t, uint64_t addr, uint8_t v)
{
	struct mmsim_siginfo si;

	return mmsim_store(t, addr, &v, 1, &si);
}

static int get8(struct mmsim_task *t, uint64_t addr)
{
	struct mmsim_siginfo si;
	uint8_t b = 0;

	if (mmsim_load(t, addr, &b, 1, &si) != MMSIM_ACCESS_OK)
		return -1;
	return b;
}

/* A byte pattern that differs from page to page and within a page. */
static uint8_t pat(uint64_t off, unsigned int seed)
{
	return (uint8_t)(off * 7 + (off >> 12) * 13 + seed);
}

static void write_pattern(struct mmsim_task *t, uint64_t addr, uint64_t len, unsigned int seed)
{
	uint8_t *buf = malloc(len);
	struct mmsim_siginfo si;

	ASSERT_TRUE(buf != NULL);
	for (uint64_t i = 0; i < len; i++)
		buf[i] = pat(i, seed);
	ASSERT_EQ(mmsim_store(t, addr, buf, len, &si), MMSIM_ACCESS_OK);
	free(buf);
}

/* Does [addr, addr + len) hold the pattern written from base with seed? */
static bool has_pattern(struct mmsim_task *t, uint64_t addr, uint64_t len, uint64_t base, unsigned int seed)
{
	uint8_t *buf = malloc(len);
	struct mmsim_siginfo si;
	bool ok;

	ASSERT_TRUE(buf != NULL);
	ok = mmsim_load(t, addr, buf, len, &si) == MMSIM_ACCESS_OK;
	for (uint64_t i = 0; ok && i < len; i++)
		ok = buf[i] == pat(addr - base + i, seed);
	free(buf);
	return ok;
}

static bool all_zero(struct mmsim_task *t, uint64_t addr, uint64_t len)
{
	uint8_t *buf = malloc(len);
	struct mmsim_siginfo si;
	bool ok;

	ASSERT_TRUE(buf != NULL);
	ok = mmsim_load(t, addr, buf, len, &si) == MMSIM_ACCESS_OK;
	for (uint64_t i = 0; ok && i < len; i++)
		ok = buf[i] == 0;
	free(buf);
	return ok;
}

/*
 * The "field: N kB" value of a /proc file; with vma set, the one in the
 * smaps block of the VMA starting there.
 */
static long proc_kb(struct mmsim_machine *m, struct mmsim_task *t, const char *path, uint64_t vma,
		    const char *field)
{
	static char buf[1 << 16];
	ssize_t n = mmsim_proc_read(m, t, path, buf, sizeof(buf) - 1);
	const char *p = buf;

	ASSERT_GT(n, 0);
	buf[n] = 0;
	if (vma) {
		char head[32];

		snprintf(head, sizeof(head), "%08llx-", (unsigned long long)vma);
		p = strstr(buf, head);
		ASSERT_TRUE(p != NULL);
	}
	p = strstr(p, field);
	ASSERT_TRUE(p != NULL);
	return strtol(p + strlen(field), NULL, 10);
}

#define MEMINFO(m, f)   proc_kb(m, NULL, "meminfo", 0, f)
#define STATUS(t, f)    proc_kb((t)->machine, t, "self/status", 0, f)
#define SMAPS(t, a, f)  proc_kb((t)->machine, t, "self/smaps", a, f)

/*
 * Leave no free block of order 9 or more: take them all (untagged movable,
 * so tag storage pages go too, last), then give back every other page of
 * the first eight (ordinary memory, which any allocation may use).  Plenty
 * of free pages remain, none of them in a 2 MiB block.  Records the blocks
 * taken, for fragment_undo().
 */
struct fragmenter {
	struct page *blocks[4096];
	int nr;
	uint64_t contig[256];           /* 2 MiB ranges claimed past the watermarks */
	int nr_contig;
};

static void fragment(struct mmsim_machine *m, struct fragmenter *f)
{
	struct page *p;

	f->nr = 0;
	while (f->nr < 4096 && (p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE | __GFP_COMP, 9)))
		f->blocks[f->nr++] = p;
	ASSERT_GT(f->nr, 8);
	for (int b = 0; b < 8; b++) {
		ASSERT_EQ(get_pageblock_migratetype(m, page_to_pfn(m, f->blocks[b])), MIGRATE_MOVABLE);
		/* split_page(): each page of the block its own allocation. */
		for (int i = 0; i < 512; i++) {
			f->blocks[b][i].flags &= ~(PG_head | PG_tail);
			f->blocks[b][i].order = 0;
			f->blocks[b][i].compound_offset = 0;
			f->blocks[b][i].refcount = 1;
		}
		for (int i = 1; i < 512; i += 2)
			__free_pages(m, &f->blocks[b][i], 0);
	}
	/* The watermarks stopped the loop above early: claim what is left. */
	f->nr_contig = 0;
	for (unsigned int r = 0; r < m->nr_usable; r++)
		for (uint64_t pfn = m->usable[r].start; pfn < m->usable[r].end; pfn++) {
			struct page *q = pfn_to_page(m, pfn);

			if (!(q->flags & PG_buddy))
				continue;
			if (q->order >= 9 && f->nr_contig < 256) {
				for (uint64_t c = 0; c < (1ULL << q->order); c += 512) {
					ASSERT_EQ(alloc_contig_range(m, pfn + c, pfn + c + 512, MIGRATE_MOVABLE), 0);
					f->contig[f->nr_contig++] = pfn + c;
				}
				pfn += 511;
				continue;
			}
			pfn += (1ULL << q->order) - 1;
		}
}

static void fragment_undo(struct mmsim_machine *m, struct fragmenter *f)
{
	for (int b = 0; b < f->nr; b++) {
		if (b < 8) {
			for (int i = 0; i < 512; i += 2)
				__free_pages(m, &f->blocks[b][i], 0);
		} else {
			__free_pages(m, f->blocks[b], 9);
		}
	}
	for (int i = 0; i < f->nr_contig; i++)
		free_contig_range(m, f->contig[i], 512);
	f->nr = f->nr_contig = 0;
}

/* ----------------------------------------------------- the PMD fault */

/*
 *   BASE                      BASE+2M                   BASE+4M
 *   | THP: one PMD, 512 pages  | untouched               |
 *        ^ store at BASE+0x1234
 */
TEST(thp_fault_alloc_maps_pmd)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	int64_t faults, alloc = ev(m, "thp_fault_alloc");
	uint64_t pfn0;

	map(t, BASE, 2 * HP, RW);
	EXPECT_EQ(SMAPS(t, BASE, "THPeligible:"), 1);
	faults = ev(m, "pgfault");
	ASSERT_EQ(put8(t, BASE + 0x1234, 0xab), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "pgfault") - faults, 1);
	EXPECT_EQ(ev(m, "thp_fault_alloc") - alloc, 1);
	EXPECT_EQ(ev(m, "thp_fault_fallback"), 0);
	pfn0 = pfn_at(t, BASE);
	EXPECT_EQ(pfn0 & 511, 0);
	EXPECT_TRUE(EXCLUSIVE(pm(t, BASE)));
	for (uint64_t i = 1; i < 512; i += 85)
		EXPECT_EQ(pfn_at(t, BASE + i * PAGE), pfn0 + i);
	EXPECT_EQ(pfn_at(t, BASE + HP - PAGE), pfn0 + 511);
	EXPECT_TRUE(!PRESENT(pm(t, BASE + HP)));
	/* The rest is zeroed; reading it all takes no fault (TLB fills from the block). */
	EXPECT_EQ(get8(t, BASE + 0x1234), 0xab);
	EXPECT_TRUE(all_zero(t, BASE, 0x1234));
	EXPECT_TRUE(all_zero(t, BASE + 0x1235, HP - 0x1235));
	EXPECT_EQ(ev(m, "pgfault") - faults, 1);
	/* Counted as Linux counts it. */
	EXPECT_EQ(MEMINFO(m, "AnonHugePages:"), 2048);
	EXPECT_EQ(ev(m, "nr_anon_transparent_hugepages"), 1);
	EXPECT_EQ(ev(m, "nr_anon_pages"), 512);
	EXPECT_EQ(STATUS(t, "RssAnon:"), 2048);
	EXPECT_EQ(SMAPS(t, BASE, "AnonHugePages:"), 2048);
	EXPECT_EQ(SMAPS(t, BASE, "Rss:"), 2048);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_munmap(t, BASE, 2 * HP), 0);
	EXPECT_EQ(MEMINFO(m, "AnonHugePages:"), 0);
	EXPECT_EQ(ev(m, "nr_anon_transparent_hugepages"), 0);
	EXPECT_EQ(ev(m, "nr_anon_pages"), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * No THP where none fits: a VMA with no aligned 2 MiB inside, and
 * MADV_NOHUGEPAGE.  Not a fallback: nothing was tried.
 *
 *   BASE  BASE+4K                    BASE+2M+4K
 *   |     | 2 MiB, not aligned        |
 */
TEST(thp_fault_no_thp_where_none_fits)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);

	map(t, BASE + PAGE, HP, RW);
	EXPECT_EQ(SMAPS(t, BASE + PAGE, "THPeligible:"), 0);
	ASSERT_EQ(put8(t, BASE + 2 * PAGE, 1), MMSIM_ACCESS_OK);
	EXPECT_TRUE(!PRESENT(pm(t, BASE + 3 * PAGE)));
	map(t, BASE + 4 * HP, HP, RW);
	ASSERT_EQ(mmsim_madvise(t, BASE + 4 * HP, HP, MMSIM_MADV_NOHUGEPAGE), 0);
	EXPECT_EQ(SMAPS(t, BASE + 4 * HP, "THPeligible:"), 0);
	ASSERT_EQ(put8(t, BASE + 4 * HP, 1), MMSIM_ACCESS_OK);
	EXPECT_TRUE(!PRESENT(pm(t, BASE + 4 * HP + PAGE)));
	EXPECT_EQ(ev(m, "thp_fault_alloc"), 0);
	EXPECT_EQ(ev(m, "thp_fault_fallback"), 0);
	EXPECT_EQ(STATUS(t, "RssAnon:"), 8);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * No free 2 MiB block: the fault counts thp_fault_fallback and maps a
 * 4 KiB page; the PMD then holds a PTE table, so later faults in it do not
 * try again.
 */
TEST(thp_fault_fallback_without_free_block)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	struct fragmenter *f = malloc(sizeof(*f));

	ASSERT_TRUE(f != NULL);
	map(t, BASE, HP, RW);
	fragment(m, f);
	ASSERT_EQ(put8(t, BASE, 7), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "thp_fault_fallback"), 1);
	EXPECT_EQ(ev(m, "thp_fault_alloc"), 0);
	EXPECT_TRUE(PRESENT(pm(t, BASE)));
	EXPECT_TRUE(!PRESENT(pm(t, BASE + PAGE)));
	ASSERT_EQ(put8(t, BASE + PAGE, 8), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "thp_fault_fallback"), 1);
	EXPECT_EQ(MEMINFO(m, "AnonHugePages:"), 0);
	EXPECT_EQ(get8(t, BASE), 7);
	EXPECT_EQ(get8(t, BASE + PAGE), 8);
	ASSERT_CONSISTENT(m);
	fragment_undo(m, f);
	free(f);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* sysfs enabled=never/madvise/always, MADV_HUGEPAGE/NOHUGEPAGE, the prctl. */
TEST(thp_enabled_modes_and_advice)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	int64_t alloc = 0;

	ASSERT_EQ(mmsim_sysfs_write(m, "kernel/mm/transparent_hugepage/enabled", "never"), 0);
	map(t, BASE, HP, RW);
	EXPECT_EQ(SMAPS(t, BASE, "THPeligible:"), 0);
	ASSERT_EQ(put8(t, BASE, 1), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "thp_fault_alloc"), alloc);

	ASSERT_EQ(mmsim_sysfs_write(m, "kernel/mm/transparent_hugepage/enabled", "madvise"), 0);
	map(t, BASE + 2 * HP, HP, RW);
	ASSERT_EQ(put8(t, BASE + 2 * HP, 1), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "thp_fault_alloc"), alloc);
	map(t, BASE + 4 * HP, HP, RW);
	ASSERT_EQ(mmsim_madvise(t, BASE + 4 * HP, HP, MMSIM_MADV_HUGEPAGE), 0);
	EXPECT_EQ(SMAPS(t, BASE + 4 * HP, "THPeligible:"), 1);
	ASSERT_EQ(put8(t, BASE + 4 * HP, 1), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "thp_fault_alloc"), ++alloc);
	EXPECT_EQ(SMAPS(t, BASE + 4 * HP, "AnonHugePages:"), 2048);

	ASSERT_EQ(mmsim_sysfs_write(m, "kernel/mm/transparent_hugepage/enabled", "always"), 0);
	map(t, BASE + 6 * HP, HP, RW);
	ASSERT_EQ(mmsim_madvise(t, BASE + 6 * HP, HP, MMSIM_MADV_NOHUGEPAGE), 0);
	ASSERT_EQ(put8(t, BASE + 6 * HP, 1), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "thp_fault_alloc"), alloc);
	map(t, BASE + 8 * HP, HP, RW);
	ASSERT_EQ(put8(t, BASE + 8 * HP, 1), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "thp_fault_alloc"), ++alloc);

	ASSERT_EQ(mmsim_prctl(t, MMSIM_PR_SET_THP_DISABLE, 1, 0, 0, 0), 0);
	map(t, BASE + 10 * HP, HP, RW);
	EXPECT_EQ(SMAPS(t, BASE + 10 * HP, "THPeligible:"), 0);
	ASSERT_EQ(put8(t, BASE + 10 * HP, 1), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "thp_fault_alloc"), alloc);
	EXPECT_EQ(MEMINFO(m, "AnonHugePages:"), 4096);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ---------------------------------------------------- the huge zero page */

/*
 * A read maps the huge zero page; a write splits it into 512 zero-page
 * PTEs and takes the ordinary anonymous write fault for its one page.
 *
 *   BASE                                BASE+2M
 *   | huge zero page, read-only          |
 *   after the write at BASE+0x3000:
 *   | zero | zero | zero | new | zero ... |   (4 KiB PTEs)
 */
TEST(thp_zero_page_read_then_write_splits)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	uint64_t z;

	map(t, BASE, HP, RW);
	map(t, BASE + 2 * HP, HP, RW | MMSIM_PROT_EXEC);
	EXPECT_EQ(get8(t, BASE + 0x10), 0);
	EXPECT_EQ(ev(m, "thp_zero_page_alloc"), 1);
	z = pfn_at(t, BASE);
	EXPECT_EQ(z, m->huge_zero_pfn);
	EXPECT_EQ(pfn_at(t, BASE + 100 * PAGE), z + 100);
	EXPECT_TRUE(all_zero(t, BASE, HP));
	/* Shared by every mapping: allocated once. */
	EXPECT_EQ(get8(t, BASE + 2 * HP), 0);
	EXPECT_EQ(pfn_at(t, BASE + 2 * HP), z);
	EXPECT_EQ(ev(m, "thp_zero_page_alloc"), 1);
	EXPECT_EQ(ev(m, "thp_fault_alloc"), 0);
	EXPECT_EQ(MEMINFO(m, "AnonHugePages:"), 0);
	EXPECT_EQ(STATUS(t, "RssAnon:"), 0);
	ASSERT_CONSISTENT(m);

	ASSERT_EQ(put8(t, BASE + 0x3000, 0x5c), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 1);
	EXPECT_EQ(ev(m, "thp_fault_alloc"), 0);
	EXPECT_TRUE(pfn_at(t, BASE + 0x3000) < z || pfn_at(t, BASE + 0x3000) >= z + 512);
	EXPECT_EQ(pfn_at(t, BASE), m->zero_pfn);
	EXPECT_EQ(pfn_at(t, BASE + HP - PAGE), m->zero_pfn);
	EXPECT_EQ(get8(t, BASE + 0x3000), 0x5c);
	EXPECT_TRUE(all_zero(t, BASE, 0x3000));
	EXPECT_TRUE(all_zero(t, BASE + 0x3001, HP - 0x3001));
	EXPECT_EQ(STATUS(t, "RssAnon:"), 4);
	EXPECT_EQ(pfn_at(t, BASE + 2 * HP), z);   /* the other mapping keeps it */
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * A tagged VMA maps no huge zero page: its tags would need storage the
 * shared page does not have.  A read fault there allocates the THP; a
 * huge zero PMD of a VMA that becomes tagged is split into zero-page PTEs.
 */
TEST(thp_zero_page_not_in_tagged_vma)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);

	map(t, BASE, HP, RW | MMSIM_PROT_MTE);
	EXPECT_EQ(get8(t, BASE + 0x100), 0);
	EXPECT_EQ(ev(m, "thp_zero_page_alloc"), 0);
	EXPECT_EQ(ev(m, "thp_fault_alloc"), 1);
	EXPECT_EQ(SMAPS(t, BASE, "AnonHugePages:"), 2048);
	ASSERT_CONSISTENT(m);

	map(t, BASE + 2 * HP, HP, RW);
	EXPECT_EQ(get8(t, BASE + 2 * HP), 0);
	EXPECT_EQ(pfn_at(t, BASE + 2 * HP), m->huge_zero_pfn);
	ASSERT_EQ(mmsim_mprotect(t, BASE + 2 * HP, HP, RW | MMSIM_PROT_MTE), 0);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 1);
	EXPECT_EQ(pfn_at(t, BASE + 2 * HP + 7 * PAGE), m->zero_pfn);
	EXPECT_TRUE(all_zero(t, BASE + 2 * HP, HP));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * Spec §8.9 item 114 (seed 003, thp_zero_wp=alloc): a write to the huge
 * zero PMD gets a writable, dirty, exclusive THP in its place; MM_ANONPAGES
 * +512, no new page table (the one deposited at the read fault serves),
 * thp_fault_alloc +1, no split.
 */
TEST(spec_8_9_114_huge_zero_wp_allocates_thp)
{
	struct mmsim_machine *m = test_machine("thp_zero_wp=alloc");
	struct mmsim_task *t = task(m);
	long vmpte;

	map(t, BASE, HP, RW);
	EXPECT_EQ(get8(t, BASE), 0);
	EXPECT_EQ(pfn_at(t, BASE), m->huge_zero_pfn);
	vmpte = STATUS(t, "VmPTE:");
	ASSERT_EQ(put8(t, BASE + 0x3000, 0x5c), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "thp_fault_alloc"), 1);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 0);
	EXPECT_EQ(STATUS(t, "VmPTE:"), vmpte);
	EXPECT_EQ(STATUS(t, "RssAnon:"), 2048);
	EXPECT_EQ(MEMINFO(m, "AnonHugePages:"), 2048);
	EXPECT_NE(pfn_at(t, BASE), m->huge_zero_pfn);
	EXPECT_EQ(pfn_at(t, BASE) & 511, 0);
	EXPECT_TRUE(EXCLUSIVE(pm(t, BASE)));
	EXPECT_EQ(get8(t, BASE + 0x3000), 0x5c);
	EXPECT_TRUE(all_zero(t, BASE, 0x3000));
	EXPECT_TRUE(all_zero(t, BASE + 0x3001, HP - 0x3001));
	/* Writable and dirty already: the next store takes no fault. */
	{
		int64_t f = ev(m, "pgfault");

		ASSERT_EQ(put8(t, BASE + HP - 1, 1), MMSIM_ACCESS_OK);
		EXPECT_EQ(ev(m, "pgfault"), f);
	}
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * Spec §8.9 item 115: the THP allocation on the huge-zero write fails, so
 * thp_fault_fallback +1, the PMD is split into 512 zero-page PTEs and the
 * write completes at PTE level.
 */
TEST(spec_8_9_115_huge_zero_wp_fallback_splits)
{
	struct mmsim_machine *m = test_machine("thp_zero_wp=alloc");
	struct mmsim_task *t = task(m);
	struct fragmenter *f = malloc(sizeof(*f));

	ASSERT_TRUE(f != NULL);
	map(t, BASE, HP, RW);
	EXPECT_EQ(get8(t, BASE), 0);
	fragment(m, f);
	ASSERT_EQ(put8(t, BASE + PAGE, 3), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "thp_fault_fallback"), 1);
	EXPECT_EQ(ev(m, "thp_fault_alloc"), 0);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 1);
	EXPECT_EQ(pfn_at(t, BASE), m->zero_pfn);
	EXPECT_EQ(get8(t, BASE + PAGE), 3);
	EXPECT_EQ(STATUS(t, "RssAnon:"), 4);
	ASSERT_CONSISTENT(m);
	fragment_undo(m, f);
	free(f);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ---------------------------------------------------- write protection */

/*
 * fork shares the THP read-only; once the child is gone the parent's write
 * finds the THP referenced by its PMD alone and reuses it: no copy, no
 * split, exclusive again.
 */
TEST(thp_wp_fault_reuses_when_alone)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m), *c = NULL;
	uint64_t pfn;
	int64_t faults;

	map(t, BASE, HP, RW);
	write_pattern(t, BASE, HP, 1);
	pfn = pfn_at(t, BASE);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	EXPECT_TRUE(!EXCLUSIVE(pm(t, BASE)));
	mmsim_task_exit(c);
	ASSERT_CONSISTENT(m);
	faults = ev(m, "pgfault");
	ASSERT_EQ(put8(t, BASE + 5 * PAGE, 0xee), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "pgfault") - faults, 1);
	EXPECT_EQ(pfn_at(t, BASE), pfn);
	EXPECT_EQ(pfn_at(t, BASE + 5 * PAGE), pfn + 5);
	EXPECT_TRUE(EXCLUSIVE(pm(t, BASE)));
	EXPECT_EQ(ev(m, "thp_split_pmd"), 0);
	EXPECT_EQ(MEMINFO(m, "AnonHugePages:"), 2048);
	EXPECT_EQ(get8(t, BASE + 5 * PAGE), 0xee);
	EXPECT_TRUE(has_pattern(t, BASE, 5 * PAGE, BASE, 1));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * fork and copy-on-write of a THP.
 *
 *   parent  [ THP (PMD, RO) ]  --fork-->  child [ same THP (PMD, RO) ]
 *   child writes page 3:  child's PMD split, page 3 copied (4 KiB COW)
 *   parent writes page 7: parent's PMD split, page 7 copied
 *   child exits: page 7 of the THP has no mapping left -> deferred split
 */
TEST(thp_fork_cow)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m), *c = NULL;
	uint64_t pfn;

	map(t, BASE, HP, RW);
	write_pattern(t, BASE, HP, 2);
	pfn = pfn_at(t, BASE);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	EXPECT_EQ(pfn_at(c, BASE), pfn);
	EXPECT_TRUE(!EXCLUSIVE(pm(t, BASE)) && !EXCLUSIVE(pm(c, BASE)));
	EXPECT_EQ(SMAPS(c, BASE, "AnonHugePages:"), 2048);
	EXPECT_EQ(SMAPS(c, BASE, "Pss:"), 1024);
	EXPECT_EQ(MEMINFO(m, "AnonHugePages:"), 2048);
	ASSERT_CONSISTENT(m);

	ASSERT_EQ(put8(c, BASE + 3 * PAGE, 0x11), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 1);
	EXPECT_NE(pfn_at(c, BASE + 3 * PAGE), pfn + 3);
	EXPECT_EQ(pfn_at(c, BASE + 4 * PAGE), pfn + 4);
	EXPECT_EQ(pfn_at(t, BASE + 3 * PAGE), pfn + 3);
	EXPECT_EQ(get8(c, BASE + 3 * PAGE), 0x11);
	EXPECT_TRUE(has_pattern(t, BASE, HP, BASE, 2));
	EXPECT_TRUE(has_pattern(c, BASE + 3 * PAGE + 1, HP - 3 * PAGE - 1, BASE, 2));
	EXPECT_EQ(MEMINFO(m, "AnonHugePages:"), 2048);   /* the parent's PMD */
	ASSERT_CONSISTENT(m);

	ASSERT_EQ(put8(t, BASE + 7 * PAGE, 0x22), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 2);
	EXPECT_NE(pfn_at(t, BASE + 7 * PAGE), pfn + 7);
	EXPECT_EQ(MEMINFO(m, "AnonHugePages:"), 0);
	EXPECT_EQ(get8(c, BASE + 7 * PAGE), pat(7 * PAGE, 2));
	ASSERT_CONSISTENT(m);

	EXPECT_EQ(ev(m, "thp_split_page"), 0);
	mmsim_task_exit(c);
	EXPECT_EQ(ev(m, "thp_deferred_split_page"), 1);
	EXPECT_EQ(ev(m, "thp_split_page"), 1);
	EXPECT_EQ(get8(t, BASE + 7 * PAGE), 0x22);
	EXPECT_TRUE(has_pattern(t, BASE, 7 * PAGE, BASE, 2));
	EXPECT_TRUE(has_pattern(t, BASE + 8 * PAGE, HP - 8 * PAGE, BASE, 2));
	EXPECT_EQ(ev(m, "nr_anon_pages"), 512);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------------- splitting a PMD */

/*
 * munmap of half a THP: the PMD is split, the half still mapped keeps its
 * pages and bytes, and the THP itself is split so the other half is freed.
 *
 *   BASE              BASE+1M             BASE+2M
 *   | kept (256 pages) | unmapped          |
 */
TEST(thp_partial_munmap_splits)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	uint64_t pfn;

	map(t, BASE, HP, RW);
	write_pattern(t, BASE, HP, 3);
	pfn = pfn_at(t, BASE);
	ASSERT_EQ(mmsim_munmap(t, BASE + MIB, MIB), 0);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 1);
	EXPECT_EQ(ev(m, "thp_deferred_split_page"), 1);
	EXPECT_EQ(ev(m, "thp_split_page"), 1);
	EXPECT_TRUE(has_pattern(t, BASE, MIB, BASE, 3));
	EXPECT_EQ(pfn_at(t, BASE + MIB - PAGE), pfn + 255);
	EXPECT_EQ(ev(m, "nr_anon_pages"), 256);
	EXPECT_EQ(STATUS(t, "RssAnon:"), 1024);
	EXPECT_EQ(MEMINFO(m, "AnonHugePages:"), 0);
	ASSERT_CONSISTENT(m);
	/* The freed half is ordinary free memory again. */
	EXPECT_EQ(page_count(pfn_to_page(m, pfn + 256)), 0);
	EXPECT_TRUE(!PageCompound(pfn_to_page(m, pfn)));
	mmsim_machine_destroy(m);
}

/*
 * mprotect of part of a THP splits the PMD but not the THP; of all of it,
 * changes the PMD.  Making an exclusive THP writable again needs no fault.
 *
 *   BASE         BASE+1M        BASE+2M      BASE+4M               BASE+6M
 *   | rw (PTEs)   | r (PTEs)     |            | whole THP: r, then rw |
 */
TEST(thp_mprotect_partial_splits_whole_keeps)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	struct mmsim_siginfo si;
	uint8_t b = 1;
	int64_t faults;

	map(t, BASE, HP, RW);
	write_pattern(t, BASE, HP, 4);
	ASSERT_EQ(mmsim_mprotect(t, BASE + MIB, MIB, MMSIM_PROT_READ), 0);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 1);
	EXPECT_EQ(ev(m, "thp_split_page"), 0);
	faults = ev(m, "pgfault");
	ASSERT_EQ(put8(t, BASE, 0x31), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "pgfault"), faults);
	ASSERT_EQ(mmsim_store(t, BASE + MIB, &b, 1, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.signo, MMSIM_SIGSEGV);
	EXPECT_EQ(si.code, MMSIM_SEGV_ACCERR);
	EXPECT_TRUE(has_pattern(t, BASE + 1, HP - 1, BASE, 4));
	ASSERT_CONSISTENT(m);

	map(t, BASE + 2 * HP, HP, RW);
	write_pattern(t, BASE + 2 * HP, HP, 5);
	ASSERT_EQ(mmsim_mprotect(t, BASE + 2 * HP, HP, MMSIM_PROT_READ), 0);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 1);
	EXPECT_EQ(SMAPS(t, BASE + 2 * HP, "AnonHugePages:"), 2048);
	ASSERT_EQ(mmsim_store(t, BASE + 2 * HP, &b, 1, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.code, MMSIM_SEGV_ACCERR);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_mprotect(t, BASE + 2 * HP, HP, RW), 0);
	faults = ev(m, "pgfault");
	ASSERT_EQ(put8(t, BASE + 2 * HP + 9, 0x32), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "pgfault"), faults);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 1);
	EXPECT_TRUE(has_pattern(t, BASE + 2 * HP + 10, HP - 10, BASE + 2 * HP, 5));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * MADV_DONTNEED of half a THP: that half reads zeros again, the other
 * keeps its bytes, and the THP is split to free the dropped half.
 *
 *   BASE                BASE+1M             BASE+2M
 *   | dropped: zeros     | kept               |
 */
TEST(thp_madv_dontneed_half)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);

	map(t, BASE, HP, RW);
	write_pattern(t, BASE, HP, 6);
	ASSERT_EQ(mmsim_madvise(t, BASE, MIB, MMSIM_MADV_DONTNEED), 0);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 1);
	EXPECT_EQ(ev(m, "thp_split_page"), 1);
	EXPECT_EQ(STATUS(t, "RssAnon:"), 1024);
	EXPECT_TRUE(all_zero(t, BASE, MIB));
	EXPECT_TRUE(has_pattern(t, BASE + MIB, MIB, BASE, 6));
	EXPECT_EQ(ev(m, "nr_anon_pages"), 256);
	ASSERT_CONSISTENT(m);
	/* Dropping all of a THP unmaps it whole. */
	map(t, BASE + 2 * HP, HP, RW);
	write_pattern(t, BASE + 2 * HP, HP, 7);
	ASSERT_EQ(mmsim_madvise(t, BASE + 2 * HP, HP, MMSIM_MADV_DONTNEED), 0);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 1);
	EXPECT_EQ(ev(m, "nr_anon_pages"), 256);
	EXPECT_TRUE(all_zero(t, BASE + 2 * HP, HP));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * mremap: an aligned move carries the PMD whole (same frames, still a
 * THP); a move to an unaligned address splits it and moves 512 PTEs.
 *
 *   BASE [THP] -> BASE+8M [THP, same PMD] -> BASE+16M+4K [512 PTEs]
 */
TEST(thp_mremap_moves_or_splits)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	const int flags = MMSIM_MREMAP_MAYMOVE | MMSIM_MREMAP_FIXED;
	uint64_t pfn, dst = BASE + 8 * MIB, dst2 = BASE + 16 * MIB + PAGE;

	map(t, BASE, HP, RW);
	write_pattern(t, BASE, HP, 8);
	pfn = pfn_at(t, BASE);
	ASSERT_EQ(mmsim_mremap(t, BASE, HP, HP, flags, dst), (int64_t)dst);
	EXPECT_EQ(pfn_at(t, dst), pfn);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 0);
	EXPECT_EQ(SMAPS(t, dst, "AnonHugePages:"), 2048);
	EXPECT_TRUE(has_pattern(t, dst, HP, dst, 8));
	EXPECT_TRUE(!PRESENT(pm(t, BASE)));
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_mremap(t, dst, HP, HP, flags, dst2), (int64_t)dst2);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 1);
	EXPECT_EQ(ev(m, "thp_split_page"), 0);
	EXPECT_EQ(pfn_at(t, dst2 + 511 * PAGE), pfn + 511);
	EXPECT_EQ(MEMINFO(m, "AnonHugePages:"), 0);
	EXPECT_TRUE(has_pattern(t, dst2, HP, dst2, 8));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* --------------------------------------------------- splitting the THP */

/*
 * MADV_PAGEOUT with a swap device: a THP goes out as 512 pages (split,
 * thp_swpout_fallback) and comes back byte-exact.
 */
TEST(thp_pageout_splits_and_swaps)
{
	struct mmsim_machine *m = boot_opts(NULL, NULL, 64 * MIB);
	struct mmsim_task *t = task(m);

	map(t, BASE, HP, RW);
	write_pattern(t, BASE, HP, 9);
	ASSERT_EQ(mmsim_madvise(t, BASE, HP, MMSIM_MADV_PAGEOUT), 0);
	EXPECT_EQ(ev(m, "thp_split_page"), 1);
	EXPECT_EQ(ev(m, "thp_swpout_fallback"), 1);
	EXPECT_EQ(ev(m, "pswpout"), 512);
	EXPECT_EQ(STATUS(t, "VmSwap:"), 2048);
	EXPECT_EQ(STATUS(t, "RssAnon:"), 0);
	ASSERT_CONSISTENT(m);
	EXPECT_TRUE(has_pattern(t, BASE, HP, BASE, 9));
	EXPECT_EQ(ev(m, "pswpin"), 512);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * move_pages of one page of a THP: the THP is split (thp_migration_split)
 * and only that page moves; every byte stays.
 */
TEST(thp_migration_splits_first)
{
	struct mmsim_machine *m = boot_opts(NUMA4G, NULL, 0);
	struct mmsim_task *t = task(m);
	uint64_t pages[2] = { BASE + 5 * PAGE, BASE + 6 * PAGE };
	int nodes[2] = { 1, 0 }, status[2] = { -1, -1 };

	ASSERT_EQ(mmsim_task_set_cpu(t, 0), 0);
	map(t, BASE, HP, RW);
	write_pattern(t, BASE, HP, 10);
	ASSERT_EQ(mmsim_move_pages(t, 1, pages, NULL, status, 0), 0);
	ASSERT_EQ(status[0], 0);
	ASSERT_EQ(mmsim_move_pages(t, 1, pages, nodes, status, 0), 0);
	EXPECT_EQ(status[0], 1);
	EXPECT_EQ(ev(m, "thp_migration_split"), 1);
	EXPECT_EQ(ev(m, "thp_split_page"), 1);
	ASSERT_EQ(mmsim_move_pages(t, 2, pages, NULL, status, 0), 0);
	EXPECT_EQ(status[0], 1);
	EXPECT_EQ(status[1], 0);
	EXPECT_TRUE(has_pattern(t, BASE, HP, BASE, 10));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * A pinned page keeps its THP whole (no split while pinned) and makes
 * fork copy: the parent's PMD is split and the child gets its own copy of
 * the pinned page, the rest shared.
 */
TEST(thp_pinned_fork_copies_pinned_page)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m), *c = NULL;
	struct mmsim_pin *pin = NULL;
	uint64_t pfn;
	uint8_t b = 0;

	map(t, BASE, HP, RW);
	write_pattern(t, BASE, HP, 11);
	pfn = pfn_at(t, BASE);
	ASSERT_EQ(mmsim_pin(t, BASE + 2 * PAGE, PAGE, MMSIM_FOLL_WRITE | MMSIM_FOLL_PIN, &pin), 0);
	EXPECT_EQ(pfn_at(t, BASE), pfn);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 0);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 1);
	EXPECT_EQ(pfn_at(t, BASE + 2 * PAGE), pfn + 2);
	EXPECT_NE(pfn_at(c, BASE + 2 * PAGE), pfn + 2);
	EXPECT_EQ(pfn_at(c, BASE + 3 * PAGE), pfn + 3);
	EXPECT_TRUE(has_pattern(c, BASE, HP, BASE, 11));
	ASSERT_CONSISTENT(m);
	/* The device still sees the parent's page. */
	ASSERT_EQ(put8(t, BASE + 2 * PAGE, 0x99), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_pin_read(pin, 0, &b, 1), 0);
	EXPECT_EQ(b, 0x99);
	EXPECT_EQ(get8(c, BASE + 2 * PAGE), pat(2 * PAGE, 11));
	/* A pinned THP is not split behind the pin. */
	ASSERT_EQ(mmsim_munmap(c, BASE, HP), 0);
	ASSERT_EQ(mmsim_madvise(t, BASE + MIB, MIB, MMSIM_MADV_DONTNEED), 0);
	EXPECT_EQ(ev(m, "thp_split_page"), 0);
	EXPECT_EQ(pfn_at(t, BASE + 2 * PAGE), pfn + 2);
	ASSERT_CONSISTENT(m);
	mmsim_unpin(pin);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------ the checker */

/* mmsim_check() reports a THP whose bookkeeping is damaged, one fault at a time. */
TEST(thp_check_reports_damage)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	char rep[4096];
	struct page *head;
	pteval_t *pmdp, saved;
	struct list_head *dep;

	map(t, BASE, HP, RW);
	write_pattern(t, BASE, HP, 12);
	head = pfn_to_page(m, pfn_at(t, BASE));
	ASSERT_CONSISTENT(m);

	head->entire_mapcount++;
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "entire_mapcount");
	head->entire_mapcount--;
	ASSERT_CONSISTENT(m);

	head[7].mapcount = 1;
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "mapcount 1 but 0 PTEs");
	head[7].mapcount = 0;

	head[5].pincount++;	/* a pin without its reference */
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "THP refcount");
	head[5].pincount--;

	head[300].flags |= PG_tag_storage_reserved;
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "tag-storage reserved");
	head[300].flags &= ~PG_tag_storage_reserved;

	head[9].index++;
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "mapping/index");
	head[9].index--;
	ASSERT_CONSISTENT(m);

	dep = t->mm->pmd_huge_pte.next;
	list_del(dep);
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "0 tables deposited for 1 huge PMDs");
	list_add(dep, &t->mm->pmd_huge_pte);
	ASSERT_CONSISTENT(m);

	/* The TLB holds a writable entry from the block; a read-only PMD must flush it. */
	pmdp = mm_find_pmd(t->mm, BASE);
	ASSERT_TRUE(pmdp && pmd_trans_huge(*pmdp) && pmd_write(*pmdp));
	saved = *pmdp;
	*pmdp = pmd_wrprotect(saved);
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "TLB grants write");
	*pmdp = saved;
	ASSERT_CONSISTENT(m);

	/* A huge PMD across a VMA boundary. */
	{
		struct vm_area_struct *v = vma_lookup(t->mm, BASE);

		v->vm_end -= PAGE;
		EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
		ASSERT_STR_CONTAINS(rep, "not inside one VMA");
		v->vm_end += PAGE;
	}
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------ tag storage */

/*
 * Spec §8.3 item 42 on the FVP layout: a tagged order-9 THP at data PFN
 * 0x80000 reserves tag blocks 0xFC000-0xFC00F (one tag page per 32 data
 * pages): metadata_reserve_success +16, each block's refcount 1 + 32, all
 * 512 pages PG_tag_storage_reserved.  Unmapping it frees the THP and the
 * blocks: metadata_reserve_free +16.
 *
 * To make the THP land at 0x80000, the test leaves the higher zone no
 * 2 MiB block (so the fault falls back to the zone of memory0) and puts the
 * block at 0x80000 first on that zone's order-9 list.
 */
TEST(spec_8_3_42_tagged_thp_reserves_16_blocks)
{
	struct mmsim_machine *m = boot_opts(FVP, NULL, 0);
	struct mmsim_task *t = task(m);
	struct zone *z0 = pfn_zone(m, 0x80000);
	struct page **held = calloc(4096, sizeof(*held)), *p, *blk;
	int nheld = 0;
	int64_t success, freed;

	ASSERT_TRUE(held != NULL);
	while (nheld < 4096 && (p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE | __GFP_COMP, 9)) &&
	       page_zone(m, p) != z0)
		held[nheld++] = p;
	ASSERT_TRUE(p != NULL);
	__free_pages(m, p, 9);
	/* Claim 0x80000-0x803ff, give back the lower half alone: its buddy stays busy. */
	ASSERT_EQ(alloc_contig_range(m, 0x80000, 0x80400, MIGRATE_MOVABLE), 0);
	blk = pfn_to_page(m, 0x80000);
	for (int i = 1; i < 512; i++)
		blk[i].refcount = 0;
	__free_pages(m, blk, 9);

	map(t, BASE, HP, RW | MMSIM_PROT_MTE);
	success = ev(m, "metadata_reserve_success");
	freed = ev(m, "metadata_reserve_free");
	ASSERT_EQ(put8(t, BASE + 0x40, 0x42), MMSIM_ACCESS_OK);
	ASSERT_EQ(ev(m, "thp_fault_alloc"), 1);
	ASSERT_EQ(pfn_at(t, BASE), 0x80000);
	EXPECT_EQ(ev(m, "metadata_reserve_success") - success, 16);
	for (uint64_t b = 0xfc000; b <= 0xfc00f; b++) {
		EXPECT_TRUE(pfn_to_page(m, b)->flags & PG_tag_block);
		EXPECT_EQ(pfn_to_page(m, b)->refcount, 33);
	}
	EXPECT_TRUE(!(pfn_to_page(m, 0xfc010)->flags & PG_tag_block));
	for (uint64_t i = 0; i < 512; i++)
		EXPECT_TRUE(blk[i].flags & PG_tag_storage_reserved);
	EXPECT_TRUE(blk[511].flags & PG_mte_tagged);
	EXPECT_EQ(get8(t, BASE + 0x40), 0x42);
	ASSERT_CONSISTENT(m);

	ASSERT_EQ(mmsim_munmap(t, BASE, HP), 0);
	EXPECT_EQ(ev(m, "metadata_reserve_free") - freed, 16);
	for (uint64_t b = 0xfc000; b <= 0xfc00f; b++)
		EXPECT_TRUE(!(pfn_to_page(m, b)->flags & PG_tag_block));
	ASSERT_CONSISTENT(m);

	for (int i = 0; i < 512; i++)
		pfn_to_page(m, 0x80200 + (uint64_t)i)->refcount = i ? 0 : 1;
	__free_pages(m, pfn_to_page(m, 0x80200), 9);
	while (nheld)
		__free_pages(m, held[--nheld], 9);
	free(held);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * A tagged THP split by a partial munmap: its pages keep their
 * reservation and give it back one by one, so the blocks of the unmapped
 * half are freed with it and the others stay (mte_fixes=off, as written,
 * block size 1: the order-9 shares equal 512 order-0 shares).
 */
TEST(thp_tagged_split_releases_per_page)
{
	struct mmsim_machine *m = test_machine("mte_fixes=off");
	struct mmsim_task *t = task(m);
	int64_t freed;

	map(t, BASE, HP, RW | MMSIM_PROT_MTE);
	ASSERT_EQ(put8(t, BASE, 1), MMSIM_ACCESS_OK);
	ASSERT_EQ(MEMINFO(m, "AnonHugePages:"), 2048);
	ASSERT_CONSISTENT(m);
	freed = ev(m, "metadata_reserve_free");
	ASSERT_EQ(mmsim_munmap(t, BASE + MIB, MIB), 0);
	EXPECT_EQ(ev(m, "thp_split_page"), 1);
	EXPECT_EQ(ev(m, "metadata_reserve_free") - freed, 8);
	EXPECT_EQ(get8(t, BASE), 1);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_munmap(t, BASE, MIB), 0);
	EXPECT_EQ(ev(m, "metadata_reserve_free") - freed, 16);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------ concurrent THP faults */

/*
 * Two threads of one process, on two CPUs, under the deterministic
 * scheduler: each stores its value at its own offset of one empty 2 MiB
 * range, or one reads while the other writes.  Whatever the interleaving,
 * one THP (or, after a read mapped the huge zero page first, one 4 KiB
 * page) ends up mapped, nothing leaks, and every store is visible.
 *
 *   BASE                                   BASE+2M
 *   | a's store at +0x1000   b's at +0x1ff000 |
 */
struct thp_body {
	uint64_t addr;
	bool write;
	uint8_t value;
	int ret, seen;
};

static void thp_body_fn(struct mmsim_task *t, void *arg)
{
	struct thp_body *b = arg;
	struct mmsim_siginfo si;
	uint8_t v = b->value;

	if (b->write)
		b->ret = mmsim_store(t, b->addr, &v, 1, &si);
	else
		b->ret = mmsim_load(t, b->addr, &v, 1, &si);
	b->seen = v;
}

static void run_pair(uint64_t seed, bool a_writes, bool b_writes, int64_t *anon_pages)
{
	struct mmsim_machine *m = boot_opts(NULL, NULL, 0);
	struct mmsim_task *a = task(m), *b = NULL;
	struct thp_body ba = { BASE + 0x1000, a_writes, 0xa1, -1, -1 };
	struct thp_body bb = { BASE + 0x1ff000, b_writes, 0xb2, -1, -1 };
	struct mmsim_sched_options o = { .seed = seed, .policy = seed & 1 ? MMSIM_SCHED_RANDOM : MMSIM_SCHED_PCT };

	ASSERT_EQ(mmsim_thread_create(a, &b), 0);
	ASSERT_EQ(mmsim_task_set_cpu(b, 1), 0);
	map(a, BASE, HP, RW);
	ASSERT_EQ(mmsim_sched_set(m, &o), 0);
	ASSERT_EQ(mmsim_spawn(a, thp_body_fn, &ba), 0);
	ASSERT_EQ(mmsim_spawn(b, thp_body_fn, &bb), 0);
	ASSERT_EQ(mmsim_run_tasks(m), 0);
	EXPECT_EQ(ba.ret, MMSIM_ACCESS_OK);
	EXPECT_EQ(bb.ret, MMSIM_ACCESS_OK);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(get8(a, ba.addr), a_writes ? 0xa1 : 0);
	EXPECT_EQ(get8(a, bb.addr), b_writes ? 0xb2 : 0);
	if (!b_writes)
		EXPECT_EQ(bb.seen, 0);
	*anon_pages = ev(m, "nr_anon_pages");
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(thp_concurrent_faults_one_thp)
{
	int64_t anon;

	for (uint64_t seed = 1; seed <= 24; seed++) {
		run_pair(seed, true, true, &anon);
		EXPECT_EQ(anon, 512);
	}
}

TEST(thp_concurrent_read_and_write)
{
	int thp = 0, small = 0;
	int64_t anon;

	for (uint64_t seed = 1; seed <= 24; seed++) {
		run_pair(seed, true, false, &anon);
		/* The write first: a THP.  The read first: the huge zero page, then one COW page. */
		EXPECT_TRUE(anon == 512 || anon == 1);
		thp += anon == 512;
		small += anon == 1;
	}
	EXPECT_GT(thp, 0);
	EXPECT_GT(small, 0);
}

/*
 * One thread writes both halves of a THP while the other drops the upper
 * half with MADV_DONTNEED (mmap_lock for read, like the faults): the PMD is
 * zapped whole, split, or its PTEs zapped, depending on the interleaving;
 * the lower half always keeps its byte, and nothing leaks.
 */
struct dontneed_body {
	int ret;
};

static void dontneed_fn(struct mmsim_task *t, void *arg)
{
	struct dontneed_body *d = arg;

	d->ret = mmsim_madvise(t, BASE + MIB, MIB, MMSIM_MADV_DONTNEED);
}

static void writer2_fn(struct mmsim_task *t, void *arg)
{
	struct thp_body *b = arg;

	b->ret = put8(t, BASE, 0x11);
	if (!b->ret)
		b->ret = put8(t, BASE + MIB + PAGE, 0x22);
}

TEST(thp_concurrent_dontneed_and_fault)
{
	for (uint64_t seed = 1; seed <= 24; seed++) {
		struct mmsim_machine *m = boot_opts(NULL, NULL, 0);
		struct mmsim_task *a = task(m), *b = NULL;
		struct thp_body w = { 0 };
		struct dontneed_body d = { -1 };
		struct mmsim_sched_options o = { .seed = seed, .policy = seed & 1 ? MMSIM_SCHED_RANDOM : MMSIM_SCHED_PCT };
		int upper;

		ASSERT_EQ(mmsim_thread_create(a, &b), 0);
		ASSERT_EQ(mmsim_task_set_cpu(b, 1), 0);
		map(a, BASE, HP, RW);
		ASSERT_EQ(mmsim_sched_set(m, &o), 0);
		ASSERT_EQ(mmsim_spawn(a, writer2_fn, &w), 0);
		ASSERT_EQ(mmsim_spawn(b, dontneed_fn, &d), 0);
		ASSERT_EQ(mmsim_run_tasks(m), 0);
		EXPECT_EQ(w.ret, MMSIM_ACCESS_OK);
		EXPECT_EQ(d.ret, 0);
		ASSERT_CONSISTENT(m);
		EXPECT_EQ(get8(a, BASE), 0x11);
		upper = get8(a, BASE + MIB + PAGE);
		EXPECT_TRUE(upper == 0x22 || upper == 0);
		ASSERT_CONSISTENT(m);
		mmsim_machine_destroy(m);
	}
}

/* ------------------------------------------------- protnone huge PMDs */

#include "mm/fault_on_access.h"

static pteval_t *pmd_of(struct mmsim_task *t, uint64_t addr)
{
	pteval_t *pmdp = mm_find_pmd(t->mm, addr);

	ASSERT_TRUE(pmdp != NULL && pmd_trans_huge(*pmdp));
	return pmdp;
}

/*
 * Spec §8.4 item 73: mprotect(PROT_MTE) of a PMD-mapped THP marks the PMD
 * PAGE_METADATA_NONE (spec §4.2: no reservation yet).  The first access
 * reserves the THP's tag storage at order 9 - metadata_reserve_success
 * +16 for 16 fresh blocks - and maps the PMD back with the VMA's
 * protection and young, but not writable; the following write takes an
 * ordinary write-protect fault, which reuses the THP.  No split.
 *
 *   BASE [ THP, untagged ] --mprotect(+MTE)--> [ METADATA_NONE PMD ]
 *        --read--> [ tagged, read-only PMD ] --write--> [ writable PMD ]
 */
TEST(spec_8_4_73_metadata_none_pmd_reserves_order9)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	const struct tag_region *r;
	uint64_t block, pfn;
	int64_t success, faults;
	pteval_t pmd;

	ASSERT_TRUE(m->mte.storage_enabled);
	map(t, BASE, HP, RW);
	write_pattern(t, BASE, HP, 13);
	pfn = pfn_at(t, BASE);
	ASSERT_EQ(tag_storage_find_block(m, pfn, &block, &r), 0);
	for (uint64_t b = 0; b < 16; b++)
		ASSERT_TRUE(!(pfn_to_page(m, block + b)->flags & PG_tag_block));   /* fresh */
	success = ev(m, "metadata_reserve_success");

	ASSERT_EQ(mmsim_mprotect(t, BASE, HP, RW | MMSIM_PROT_MTE), 0);
	pmd = *pmd_of(t, BASE);
	EXPECT_TRUE(pmd_metadata_none(pmd));
	EXPECT_EQ(ev(m, "metadata_reserve_success"), success);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 0);
	ASSERT_CONSISTENT(m);

	faults = ev(m, "pgfault");
	EXPECT_EQ(get8(t, BASE + 100), pat(100, 13));
	EXPECT_EQ(ev(m, "pgfault") - faults, 1);
	EXPECT_EQ(ev(m, "metadata_reserve_success") - success, 16);
	EXPECT_EQ(ev(m, "numa_hint_faults"), 0);
	pmd = *pmd_of(t, BASE);
	EXPECT_TRUE(pte_valid(pmd) && !pmd_write(pmd) && pmd_young(pmd) && pte_tagged(pmd));
	for (uint64_t b = 0; b < 16; b++)
		EXPECT_EQ(pfn_to_page(m, block + b)->refcount, 33);
	for (uint64_t i = 0; i < 512; i += 73)
		EXPECT_TRUE((pfn_to_page(m, pfn + i)->flags & (PG_tag_storage_reserved | PG_mte_tagged)) ==
			    (PG_tag_storage_reserved | PG_mte_tagged));
	EXPECT_TRUE(has_pattern(t, BASE, HP, BASE, 13));
	ASSERT_CONSISTENT(m);

	faults = ev(m, "pgfault");
	ASSERT_EQ(put8(t, BASE + 5, 0x77), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "pgfault") - faults, 1);
	EXPECT_TRUE(pmd_write(*pmd_of(t, BASE)));
	EXPECT_EQ(pfn_at(t, BASE), pfn);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 0);
	EXPECT_EQ(ev(m, "metadata_reserve_success") - success, 16);
	EXPECT_EQ(get8(t, BASE + 5), 0x77);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_munmap(t, BASE, HP), 0);
	for (uint64_t b = 0; b < 16; b++)
		EXPECT_TRUE(!(pfn_to_page(m, block + b)->flags & PG_tag_block));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* The test's stand-in for an arch: bit 59 on a protnone entry is "ours". */
#define HOOK_BIT (1ULL << 59)

struct pmd_hook {
	int calls;
	bool map;
};

static bool hook_pred(void *ctx, pteval_t e)
{
	(void)ctx;
	return pte_protnone(e) && (e & HOOK_BIT);
}

static vm_fault_t hook_handle(void *ctx, struct page *folio, struct vm_fault *vmf, bool *map_pte)
{
	struct pmd_hook *h = ctx;

	h->calls++;
	put_page(vmf->mm->machine, folio);
	*map_pte = h->map;
	return 0;
}

/*
 * Spec §8.6 item 97: the callback returns 0 with map_pte on a PMD: the PMD
 * is mapped back read-only (writable forced false) although the VMA is
 * writable and the THP exclusive; no NUMA accounting; the contract holds.
 */
TEST(spec_8_6_97_pmd_remapped_read_only)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = task(m);
	struct pmd_hook h = { 0, true };
	struct fault_on_access_test_hook hook = { hook_pred, hook_handle, &h };
	pteval_t *pmdp, pmd;
	int64_t faults;

	map(t, BASE, HP, RW);
	write_pattern(t, BASE, HP, 14);
	pmdp = pmd_of(t, BASE);
	ASSERT_TRUE(pmd_write(*pmdp));
	m->fault_on_access_test_hook = &hook;
	*pmdp = pmd_modify(*pmdp, PAGE_NONE) | HOOK_BIT;
	flush_pmd_tlb_range(t->mm, BASE);
	ASSERT_CONSISTENT(m);

	EXPECT_EQ(get8(t, BASE + 3 * PAGE), pat(3 * PAGE, 14));
	EXPECT_EQ(h.calls, 1);
	pmd = *pmd_of(t, BASE);
	EXPECT_TRUE(pte_valid(pmd) && !pmd_write(pmd) && pmd_young(pmd) && !(pmd & HOOK_BIT));
	EXPECT_EQ(ev(m, "numa_hint_faults"), 0);
	EXPECT_EQ(m->fault_contract_violations, 0);
	ASSERT_CONSISTENT(m);
	/* A write then takes an ordinary write-protect fault and reuses the THP. */
	faults = ev(m, "pgfault");
	ASSERT_EQ(put8(t, BASE, 1), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "pgfault") - faults, 1);
	EXPECT_TRUE(pmd_write(*pmd_of(t, BASE)));
	EXPECT_EQ(h.calls, 1);
	m->fault_on_access_test_hook = NULL;
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * The NUMA scanner marks a whole huge PMD protnone (numa_pte_updates +512,
 * numa_huge_pte_updates +1); the hinting fault counts once and maps it
 * back writable (the THP is this process's alone).  A misplaced THP is not
 * moved.  A range that covers only part of a PMD splits it.
 */
TEST(thp_numa_scan_marks_pmd_protnone)
{
	struct mmsim_machine *m = boot_opts(NUMA4G, NULL, 0);
	struct mmsim_task *t = task(m);
	int64_t faults;
	uint64_t pfn;

	ASSERT_EQ(mmsim_sysctl_write(m, "kernel.numa_balancing", "1"), 0);
	ASSERT_EQ(mmsim_task_set_cpu(t, 0), 0);
	map(t, BASE, HP, RW);
	write_pattern(t, BASE, HP, 15);
	pfn = pfn_at(t, BASE);
	ASSERT_EQ(mmsim_task_set_cpu(t, 2), 0);         /* now on node 1 */
	ASSERT_EQ(mmsim_run_daemon(m, "numa_scan"), 0);
	EXPECT_EQ(ev(m, "numa_pte_updates"), 512);
	EXPECT_EQ(ev(m, "numa_huge_pte_updates"), 1);
	EXPECT_TRUE(pmd_protnone(*pmd_of(t, BASE)));
	ASSERT_CONSISTENT(m);

	faults = ev(m, "pgfault");
	EXPECT_EQ(get8(t, BASE + 9), pat(9, 15));
	EXPECT_EQ(ev(m, "numa_hint_faults"), 1);
	EXPECT_EQ(ev(m, "numa_hint_faults_local"), 0);
	EXPECT_EQ(ev(m, "numa_pages_migrated"), 0);
	EXPECT_EQ(pfn_at(t, BASE), pfn);
	EXPECT_TRUE(pmd_write(*pmd_of(t, BASE)));
	ASSERT_EQ(put8(t, BASE + 10, 0x42), MMSIM_ACCESS_OK);
	EXPECT_EQ(ev(m, "pgfault") - faults, 1);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 0);
	ASSERT_CONSISTENT(m);

	/* Part of a PMD in the range: split, and only those PTEs marked. */
	EXPECT_EQ(change_prot_numa(vma_lookup(t->mm, BASE), BASE, BASE + MIB, NUMA_NO_NODE), 256);
	EXPECT_EQ(ev(m, "thp_split_pmd"), 1);
	EXPECT_TRUE(pte_protnone(*pte_offset(t->mm, BASE)));
	EXPECT_TRUE(pte_valid(*pte_offset(t->mm, BASE + MIB)));
	EXPECT_TRUE(has_pattern(t, BASE + 11, HP - 11, BASE, 15));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}
