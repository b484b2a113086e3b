// SPDX-License-Identifier: MIT
/*
 * tests/test_spec_fault.c - spec §8.4 (mprotect(PROT_MTE) and
 * PAGE_METADATA_NONE faults, items 61-79) and §8.5 (swap, copy and the
 * races, items 80-89), one test per behaviour, named spec_8_<sec>_<item>_...
 *
 * Items shown exactly by an older test keep that test where it is, renamed
 * to carry the number:
 *   61, 62          tests/test_mte.c
 *   65 (R14), 72 (§6.6 #2), 79 (R4), 87 (R1)   tests/test_races.c
 *   80-83, 85, 89   tests/test_swap.c
 * Item 73 (the PMD handler) needs THP and is not here.  Zone-device pages
 * (item 63) do not exist in the model; shmem is never swapped and there is
 * no swapoff(2), so item 84's shmem_swapin_folio and unuse_pte call sites
 * have nothing to run (do_swap_page's has).
 *
 * The built-in machine: 1 GiB of data from pfn 0x40000, 32 MiB of tag
 * storage from pfn 0x80000 (one tag page holds the tags of 32 data pages,
 * block size 1), policy rfc-v1, storage enabled, mte_fixes=on.  A tag page
 * the allocator lends out as data is in a MIGRATE_METADATA pageblock:
 *
 *   data pfn P  --tags at-->  tag page 0x80000 + (P - 0x40000) / 32
 *   [BASE]    the page an item is about
 *   [VICTIM]  a bystander, moved into a chosen tag page when needed
 *
 * Races are scripted as in tests/test_races.c: a second thread's fault
 * runs inside the first one's through the fault-on-access test hook, or
 * between a fault's entry (vmf->orig_pte read) and its PT-lock recheck by
 * calling handle_pte_protnone() with an old orig_pte.
 */
#include <stdlib.h>

#include "mte_test.h"
#include "mm/fault_on_access.h"
#include "mm/swap.h"
#include "mm/vma.h"

#define MIB       (1ULL << 20)
#define VBYTE     0x5a

/* ------------------------------------------------------------- helpers */

static struct mmsim_machine *boot_with(const char *args, uint64_t swap_bytes)
{
	struct mmsim_options o = { .seed = 1, .swap_bytes = swap_bytes, .bootargs = args };
	struct mmsim_machine *m = NULL;

	if (mmsim_machine_create(&o, &m) != 0)
		TEST_FAIL_(1, "boot [%s]: %s", args ? args : "", mmsim_strerror_last());
	return m;
}

/* The built-in machine with dynamic tag storage on. */
static struct mmsim_machine *boot(const char *args)
{
	struct mmsim_machine *m = boot_with(args, 0);

	ASSERT_TRUE(m->mte.supported && m->mte.storage_enabled);
	return m;
}

static void map(struct mmsim_task *t, uint64_t addr, uint64_t len, int prot)
{
	ASSERT_EQ(mmsim_mmap(t, addr, len, prot, ANON, -1, 0), (int64_t)addr);
}

/* pagemap's view: the page mapped at addr (protnone entries are present). */
static struct page *page_at(struct mmsim_task *t, uint64_t addr)
{
	uint64_t e = 0;

	ASSERT_EQ(mmsim_pagemap(t, addr, &e), 0);
	ASSERT_TRUE(e & MMSIM_PM_PRESENT);
	return pfn_to_page(t->machine, e & MMSIM_PM_PFRAME_MASK);
}

static uint64_t pfn_of(struct mmsim_machine *m, struct page *p)
{
	return page_to_pfn(m, p);
}

/* The tag block holding pfn's tags; where pfn's 128 bytes sit in it. */
static uint64_t block_of(struct mmsim_machine *m, uint64_t pfn, uint64_t *off)
{
	const struct tag_region *r;
	uint64_t block;

	ASSERT_EQ(tag_storage_find_block(m, pfn, &block, &r), 0);
	if (off)
		*off = ((pfn - r->mem_start) % 32) * MTE_PAGE_TAG_STORAGE_SIZE;
	return block;
}

static bool block_reserved(struct mmsim_machine *m, uint64_t block)
{
	return pfn_to_page(m, block)->flags & PG_tag_block;
}

static bool is_metadata(struct mmsim_machine *m, uint64_t pfn)
{
	return get_pageblock_migratetype(m, pfn) == MIGRATE_METADATA;
}

/* The tag page is free data memory: METADATA, not reserved, not in use. */
static bool tag_page_free(struct mmsim_machine *m, uint64_t tag_pfn)
{
	struct page *tp = pfn_to_page(m, tag_pfn);

	return is_metadata(m, tag_pfn) && !(tp->flags & PG_tag_block) && tp->refcount == 0;
}

/* An untagged movable page whose tag page is free data memory and not avoid. */
static struct page *alloc_untagged(struct mmsim_machine *m, uint64_t avoid)
{
	struct page *keep[256], *res = NULL;
	int n = 0;

	while (!res && n < 256) {
		struct page *p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE, 0);
		uint64_t b;

		ASSERT_TRUE(p != NULL);
		b = block_of(m, pfn_of(m, p), NULL);
		if (b != avoid && tag_page_free(m, b))
			res = p;
		else
			keep[n++] = p;
	}
	while (n)
		__free_pages(m, keep[--n], 0);
	ASSERT_TRUE(res != NULL);
	return res;
}

/*
 * place_on - make the page at addr of t (filled with byte) live in frame
 * pfn, a free tag-storage page: claim the frame as alloc_contig_range
 * does, then migrate the user page onto it.
 */
static struct page *place_on(struct mmsim_task *t, uint64_t addr, uint64_t pfn, int byte)
{
	struct mmsim_machine *m = t->machine;
	struct mmsim_siginfo si;
	struct page *src, *dst;

	ASSERT_EQ(mmsim_fill(t, addr, byte, PAGE, &si), MMSIM_ACCESS_OK);
	src = page_at(t, addr);
	ASSERT_EQ(alloc_contig_range(m, pfn, pfn + 1, MIGRATE_METADATA), 0);
	dst = pfn_to_page(m, pfn);
	get_page(src);
	ASSERT_EQ(migrate_page_to(m, src, dst), 0);
	put_page(m, dst);
	put_page(m, src);
	ASSERT_EQ(pfn_of(m, page_at(t, addr)), pfn);
	ASSERT_TRUE(is_metadata(m, pfn));
	return dst;
}

/* The 8 bytes at addr + off still hold the bystander's fill. */
static bool victim_intact(struct mmsim_task *t, uint64_t addr, uint64_t off)
{
	return load8(t, addr + off) == 0x5a5a5a5a5a5a5a5aULL;
}

/* The model's "current": a handle_mm_fault called directly runs for t. */
static void run_as(struct mmsim_task *t)
{
	t->machine->current = t;
	t->machine->this_cpu = t->cpu;
}

/* handle_mm_fault at addr as t's user access enters it. */
static vm_fault_t fault_at(struct mmsim_task *t, uint64_t addr, unsigned int flags)
{
	struct vm_area_struct *vma = vma_lookup(t->mm, addr);

	ASSERT_TRUE(vma != NULL);
	run_as(t);
	return fault_locked(t, vma, addr, FAULT_FLAG_USER | flags);
}

static int64_t ev(struct mmsim_machine *m, const char *name)
{
	return mmsim_vmstat(m, name);
}

static bool kmsg_has(struct mmsim_machine *m, const char *what)
{
	static char buf[1 << 16];
	ssize_t n = mmsim_proc_read(m, NULL, "kmsg", buf, sizeof(buf) - 1);

	if (n < 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, what) != NULL;
}

/* Counts one trace event; keeps the text of the last one. */
struct ev_count {
	int n;
	char text[128];
};

static void count_event(void *ctx, const struct mmsim_event *e)
{
	struct ev_count *c = ctx;

	c->n++;
	snprintf(c->text, sizeof(c->text), "%s", e->text);
}

/* Every one of the 128 tag bytes of p is byte. */
static bool tags_all(struct mmsim_machine *m, struct page *p, uint8_t byte)
{
	uint8_t buf[MTE_PAGE_TAG_STORAGE_SIZE];

	mte_copy_tags_out(m, p, buf);
	for (int i = 0; i < MTE_PAGE_TAG_STORAGE_SIZE; i++)
		if (buf[i] != byte)
			return false;
	return true;
}

/*
 * Hold every free page of the 32 whose tags share pfn's tag page, so no
 * allocation made during the test can need that tag page too.
 */
static int fence_group(struct mmsim_machine *m, uint64_t pfn, struct page **fence)
{
	int n = 0;

	drain_all_pages(m);
	for (uint64_t q = pfn & ~31ULL; q < (pfn & ~31ULL) + 32; q++)
		if (take_page_off_buddy(m, pfn_to_page(m, q))) {
			pfn_to_page(m, q)->refcount = 1;
			fence[n++] = pfn_to_page(m, q);
		}
	return n;
}

/* ================================== §8.4 mprotect(PROT_MTE), METADATA_NONE */

/*
 * §8.4 63: mprotect(PROT_MTE) over a zero-page PTE leaves it exactly as it
 * was (vm_normal_page is NULL), Normal and read-only; nothing is reserved.
 */
TEST(spec_8_4_63_zero_page_pte_unchanged)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	int64_t success = ev(m, "metadata_reserve_success");
	pteval_t before;

	map(t, BASE, PAGE, RW);
	EXPECT_EQ(load8(t, BASE), 0);
	before = pte_at(t, BASE);
	ASSERT_EQ(pte_pfn(before), m->zero_pfn);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	EXPECT_EQ(pte_at(t, BASE), before);
	EXPECT_TRUE(!pte_metadata_none(pte_at(t, BASE)) && !pte_tagged(pte_at(t, BASE)));
	EXPECT_EQ(ev(m, "metadata_reserve_success"), success);
	EXPECT_EQ(load8(t, BASE), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.4 63: a page already tagged through another VMA (a memfd page mapped
 * PROT_MTE at A and plain at B) keeps B's PTE unchanged when B becomes
 * PROT_MTE: the page has its storage and tags already.
 *
 *   [BASE]          memfd page 0, RW|MTE, written: tagged, reserved
 *   [BASE + 16 p]   memfd page 0, RW, read: Normal PTE to the same page
 *   mprotect(BASE + 16 p, RW|MTE): that PTE stays as it was
 */
TEST(spec_8_4_63_page_tagged_through_other_vma_unchanged)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	uint64_t b = BASE + 16 * PAGE;
	int64_t success;
	pteval_t before;
	int fd;

	fd = mmsim_memfd_create(t, "shared", 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(mmsim_ftruncate(t, fd, PAGE), 0);
	ASSERT_EQ(mmsim_mmap(t, BASE, PAGE, RWMTE, MMSIM_MAP_SHARED | MMSIM_MAP_FIXED, fd, 0), (int64_t)BASE);
	ASSERT_EQ(mmsim_mmap(t, b, PAGE, RW, MMSIM_MAP_SHARED | MMSIM_MAP_FIXED, fd, 0), (int64_t)b);
	store8(t, BASE, 63);
	set_tags(t, BASE, 3);
	EXPECT_EQ(load8(t, b), 63);
	ASSERT_EQ(page_at(t, b), page_at(t, BASE));
	ASSERT_TRUE(page_at(t, b)->flags & PG_mte_tagged);
	before = pte_at(t, b);
	ASSERT_TRUE(pte_valid(before) && !pte_tagged(before));
	success = ev(m, "metadata_reserve_success");
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_mprotect(t, b, PAGE, RWMTE), 0);
	EXPECT_EQ(pte_at(t, b), before);
	EXPECT_EQ(ev(m, "metadata_reserve_success"), success);
	EXPECT_EQ(load8(t, b), 63);
	EXPECT_EQ(get_tag(t, BASE), 3);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.4 64: a NUMA-hinting protnone PTE becomes METADATA_NONE when its VMA
 * becomes PROT_MTE (the hint is lost: the access counts no hinting
 * fault); a PTE already METADATA_NONE is left as it is.
 */
TEST(spec_8_4_64_numa_hint_becomes_metadata_none)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct vm_area_struct *vma;
	uint64_t pfn;
	pteval_t hint, marked;

	ASSERT_EQ(mmsim_sysctl_write(m, "kernel.numa_balancing", "1"), 0);
	map(t, BASE, 2 * PAGE, RW);
	store8(t, BASE, 64);
	store8(t, BASE + PAGE, 65);
	pfn = pfn_of(m, page_at(t, BASE));
	vma = vma_lookup(t->mm, BASE);
	ASSERT_EQ(change_prot_numa(vma, BASE, BASE + PAGE, NUMA_NO_NODE), 1);
	hint = pte_at(t, BASE);
	ASSERT_TRUE(pte_protnone(hint) && !pte_metadata_none(hint));
	ASSERT_CONSISTENT(m);

	ASSERT_EQ(mmsim_mprotect(t, BASE, 2 * PAGE, RWMTE), 0);
	EXPECT_TRUE(pte_metadata_none(pte_at(t, BASE)));
	EXPECT_EQ(pte_pfn(pte_at(t, BASE)), pfn);
	EXPECT_TRUE(pte_metadata_none(pte_at(t, BASE + PAGE)));
	ASSERT_CONSISTENT(m);

	/* Already METADATA_NONE: change_protection's marking leaves it. */
	vma = vma_lookup(t->mm, BASE);
	marked = pte_at(t, BASE + PAGE);
	change_protection_flags(vma, BASE + PAGE, BASE + 2 * PAGE, true);
	EXPECT_EQ(pte_at(t, BASE + PAGE), marked);
	ASSERT_CONSISTENT(m);

	/* One fault for the old hint page, and it is not a NUMA one. */
	EXPECT_EQ(load8(t, BASE), 64);
	EXPECT_EQ(ev(m, "numa_hint_faults"), 0);
	EXPECT_TRUE(page_at(t, BASE)->flags & PG_mte_tagged);
	EXPECT_EQ(load8(t, BASE + PAGE), 65);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.4 66: the first read of a METADATA_NONE page whose tag block is free
 * reserves it (success +1) and maps the page with the VMA's protection,
 * young, and writable (an exclusive anonymous page of a private writable
 * mapping may be); the page is tagged, all tags 0.  The fault returns 0 and
 * is not a NUMA hinting fault.
 */
TEST(spec_8_4_66_first_read_reserves_maps_writable)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct vm_area_struct *vma;
	int64_t success, hints;
	pteval_t old, want;
	struct page *p;

	map(t, BASE, PAGE, RW);
	store8(t, BASE, 0x66);
	p = page_at(t, BASE);
	ASSERT_TRUE(!block_reserved(m, block_of(m, pfn_of(m, p), NULL)));
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	old = pte_at(t, BASE);
	ASSERT_TRUE(pte_metadata_none(old));
	vma = vma_lookup(t->mm, BASE);
	want = pte_mkwrite(pte_mkyoung(pte_modify(old, vma->vm_page_prot)));
	success = ev(m, "metadata_reserve_success");
	hints = ev(m, "numa_hint_faults");
	ASSERT_CONSISTENT(m);

	EXPECT_EQ(fault_at(t, BASE, 0), 0);
	EXPECT_EQ(ev(m, "metadata_reserve_success") - success, 1);
	EXPECT_TRUE(block_reserved(m, block_of(m, pfn_of(m, p), NULL)));
	EXPECT_EQ(pte_at(t, BASE), want);
	EXPECT_TRUE(pte_valid(want) && pte_tagged(want) && pte_young(want) && pte_write(want));
	EXPECT_EQ(page_at(t, BASE), p);
	EXPECT_TRUE((p->flags & PG_mte_tagged) && page_tag_storage_reserved(p));
	EXPECT_TRUE(tags_all(m, p, 0));
	EXPECT_EQ(ev(m, "numa_hint_faults"), hints);
	ASSERT_CONSISTENT(m);
	/* The write needs no further fault, and the data was kept. */
	store8(t, BASE + 8, 1);
	EXPECT_EQ(load8(t, BASE), 0x66);
	EXPECT_EQ(get_tag(t, BASE + PAGE - 16), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.4 66: the same fault on a page shared copy-on-write with a child maps
 * it read-only (writable only "if it would be"): the write still copies.
 */
TEST(spec_8_4_66_shared_page_mapped_read_only)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m), *c = NULL;
	struct vm_area_struct *vma;
	int64_t success;
	pteval_t old, child;
	struct page *p;

	map(t, BASE, PAGE, RW);
	store8(t, BASE, 0x67);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	p = page_at(t, BASE);
	child = pte_at(c, BASE);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	old = pte_at(t, BASE);
	ASSERT_TRUE(pte_metadata_none(old));
	vma = vma_lookup(t->mm, BASE);
	success = ev(m, "metadata_reserve_success");
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(fault_at(t, BASE, 0), 0);
	EXPECT_EQ(pte_at(t, BASE), pte_mkyoung(pte_modify(old, vma->vm_page_prot)));
	EXPECT_TRUE(!pte_write(pte_at(t, BASE)));
	EXPECT_EQ(ev(m, "metadata_reserve_success") - success, 1);
	EXPECT_TRUE(p->flags & PG_mte_tagged);
	EXPECT_EQ(pte_at(c, BASE), child);
	ASSERT_CONSISTENT(m);
	store8(t, BASE, 1);
	EXPECT_NE(page_at(t, BASE), p);
	EXPECT_EQ(load8(c, BASE), 0x67);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.4 67: a METADATA_NONE fault on a page that is itself tag storage (a
 * MIGRATE_METADATA pageblock) reserves nothing for it: the page is
 * migrated (one migrate_pages try, reason metadata_none) to a tagged
 * allocation, which has its storage and is never tag storage.  The handler
 * returns 0 without touching the PTE: the new PTE is migration's, which
 * restores the entry's rights (read-only here, the old entry not being
 * writable), where the handler's own remap would have made it writable.
 *
 *   [VICTIM] M in tag page (METADATA)  mprotect(PROT_MTE) -> METADATA_NONE
 *   fault: migrate M -> N (tagged gfp: N reserved)   PTE -> N, tagged
 */
TEST(spec_8_4_67_metadata_page_migrated_not_reserved)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct ev_count starts = { 0 };
	int64_t fail, migrated;
	uint64_t mpfn;
	struct page *n;
	pteval_t pte;

	map(t, BASE, PAGE, RW);
	map(t, VICTIM, PAGE, RW);
	store8(t, BASE, 1);
	mpfn = block_of(m, pfn_of(m, page_at(t, BASE)), NULL) + 7;
	ASSERT_TRUE(tag_page_free(m, mpfn));
	place_on(t, VICTIM, mpfn, VBYTE);
	ASSERT_EQ(mmsim_mprotect(t, VICTIM, PAGE, RWMTE), 0);
	ASSERT_TRUE(pte_metadata_none(pte_at(t, VICTIM)));
	fail = ev(m, "metadata_reserve_fail");
	migrated = ev(m, "pgmigrate_success");
	ASSERT_CONSISTENT(m);

	ASSERT_EQ(mmsim_trace_subscribe(m, "migrate:mm_migrate_pages_start", count_event, &starts), 0);
	EXPECT_EQ(fault_at(t, VICTIM, 0), 0);
	mmsim_trace_unsubscribe(m, count_event, &starts);
	EXPECT_EQ(starts.n, 1);
	ASSERT_STR_CONTAINS(starts.text, "reason=metadata_none");
	EXPECT_EQ(ev(m, "pgmigrate_success") - migrated, 1);
	EXPECT_EQ(ev(m, "metadata_reserve_fail"), fail);
	pte = pte_at(t, VICTIM);
	EXPECT_TRUE(pte_valid(pte) && pte_tagged(pte) && !pte_write(pte));
	n = page_at(t, VICTIM);
	EXPECT_NE(pfn_of(m, n), mpfn);
	EXPECT_TRUE(!is_metadata(m, pfn_of(m, n)));
	EXPECT_TRUE(page_tag_storage_reserved(n) && (n->flags & PG_mte_tagged));
	EXPECT_TRUE(tag_page_free(m, mpfn));		/* M went back to the allocator */
	ASSERT_CONSISTENT(m);
	EXPECT_TRUE(victim_intact(t, VICTIM, 0));
	store8(t, VICTIM, 7);				/* exclusive: reused in place */
	EXPECT_EQ(page_at(t, VICTIM), n);
	EXPECT_EQ(get_tag(t, VICTIM), 0);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.4 68: the reservation fails (P's tag page T holds a bystander V under
 * a short-term pin) and P has no pfn-saved tags: P is migrated instead.
 * While P itself is pinned, migration fails too (5 tries): the PTE stays
 * METADATA_NONE and the next access faults again.  Once P is unpinned the
 * access migrates it to a page that has storage.
 *
 *   [BASE] P, pinned          [VICTIM] V in frame T (P's tag page), pinned
 *   the other 31 data pages whose tags live in T: held
 */
TEST(spec_8_4_68_reserve_fails_then_migrates)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct mmsim_pin *vpin = NULL, *ppin = NULL;
	struct ev_count starts = { 0 };
	struct page *fence[32], *n;
	uint64_t pfn, tpfn, toff;
	int64_t fail, faults;
	pteval_t marked;
	int nfence;

	map(t, BASE, PAGE, RW);
	map(t, VICTIM, PAGE, RW);
	store8(t, BASE, 0x68);
	pfn = pfn_of(m, page_at(t, BASE));
	tpfn = block_of(m, pfn, &toff);
	ASSERT_TRUE(tag_page_free(m, tpfn));
	place_on(t, VICTIM, tpfn, VBYTE);
	ASSERT_EQ(mmsim_pin(t, VICTIM, PAGE, 0, &vpin), 0);
	nfence = fence_group(m, pfn, fence);
	ASSERT_EQ(mmsim_pin(t, BASE, PAGE, 0, &ppin), 0);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	marked = pte_at(t, BASE);
	ASSERT_TRUE(pte_metadata_none(marked));
	ASSERT_CONSISTENT(m);

	/* Reservation fails, migration fails: nothing changes. */
	ASSERT_EQ(mmsim_trace_subscribe(m, "migrate:mm_migrate_pages_start", count_event, &starts), 0);
	for (int i = 0; i < 2; i++) {
		fail = ev(m, "metadata_reserve_fail");
		faults = ev(m, "pgfault");
		starts.n = 0;
		EXPECT_EQ(fault_at(t, BASE, 0), 0);
		EXPECT_EQ(ev(m, "pgfault") - faults, 1);
		EXPECT_EQ(ev(m, "metadata_reserve_fail") - fail, 1);
		EXPECT_EQ(starts.n, 5);
		ASSERT_STR_CONTAINS(starts.text, "reason=metadata_none");
		EXPECT_EQ(pte_at(t, BASE), marked);
		EXPECT_TRUE(!page_tag_storage_reserved(pfn_to_page(m, pfn)));
		EXPECT_TRUE(!block_reserved(m, tpfn));
		ASSERT_CONSISTENT(m);
	}

	/* Unpinned, the access moves P to a page that has storage. */
	mmsim_unpin(ppin);
	starts.n = 0;
	fail = ev(m, "metadata_reserve_fail");
	EXPECT_EQ(load8(t, BASE), 0x68);
	mmsim_trace_unsubscribe(m, count_event, &starts);
	EXPECT_EQ(starts.n, 1);
	EXPECT_EQ(ev(m, "metadata_reserve_fail") - fail, 1);
	n = page_at(t, BASE);
	EXPECT_NE(pfn_of(m, n), pfn);
	EXPECT_TRUE(page_tag_storage_reserved(n) && (n->flags & PG_mte_tagged));
	EXPECT_EQ(get_tag(t, BASE), 0);
	EXPECT_TRUE(victim_intact(t, VICTIM, toff));
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_unpin(vpin);
	while (nfence)
		__free_pages(m, fence[--nfence], 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.4 69: the reservation fails and the page has pfn-saved tags (they
 * could not follow a migration): the first try returns VM_FAULT_RETRY
 * (with the fault lock released), the retry with FAULT_FLAG_TRIED
 * VM_FAULT_OOM; the page is not migrated and keeps its saved tags.  The
 * OOM is no page allocator's: nobody is killed.  When the tag page can be
 * had again the access maps the page with the saved tags.
 *
 *   S tagged (tag 9) in [BASE]; migrated to D allocated untagged: D is
 *   METADATA_NONE with S's tags in tags_by_pfn[D]; D's tag page holds V,
 *   pinned
 */
TEST(spec_8_4_69_reserve_fails_with_saved_tags_retry_then_oom)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct mmsim_pin *vpin = NULL;
	struct ev_count starts = { 0 };
	uint64_t dpfn, tpfn, toff;
	int64_t fail, migrated;
	struct page *s, *d;
	pteval_t marked;

	map(t, BASE, PAGE, RW);
	map(t, VICTIM, PAGE, RW);
	store8(t, BASE, 0x69);
	s = page_at(t, BASE);
	d = alloc_untagged(m, block_of(m, pfn_of(m, s), NULL));
	dpfn = pfn_of(m, d);
	tpfn = block_of(m, dpfn, &toff);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	set_tags(t, BASE, 9);
	get_page(s);
	ASSERT_EQ(migrate_page_to(m, s, d), 0);
	put_page(m, s);
	put_page(m, d);
	ASSERT_EQ(pfn_of(m, page_at(t, BASE)), dpfn);
	marked = pte_at(t, BASE);
	ASSERT_TRUE(pte_metadata_none(marked));
	ASSERT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, dpfn) != NULL);
	place_on(t, VICTIM, tpfn, VBYTE);
	ASSERT_EQ(mmsim_pin(t, VICTIM, PAGE, 0, &vpin), 0);
	fail = ev(m, "metadata_reserve_fail");
	migrated = ev(m, "pgmigrate_success");
	ASSERT_CONSISTENT(m);

	ASSERT_EQ(mmsim_trace_subscribe(m, "migrate:mm_migrate_pages_start", count_event, &starts), 0);
	EXPECT_EQ(fault_at(t, BASE, 0), VM_FAULT_RETRY);
	EXPECT_EQ(m->fault_contract_violations, 0);
	EXPECT_EQ(fault_at(t, BASE, FAULT_FLAG_TRIED), VM_FAULT_OOM);
	EXPECT_EQ(m->fault_contract_violations, 0);
	mmsim_trace_unsubscribe(m, count_event, &starts);
	EXPECT_EQ(starts.n, 0);
	EXPECT_EQ(ev(m, "metadata_reserve_fail") - fail, 2);
	EXPECT_EQ(ev(m, "pgmigrate_success"), migrated);
	EXPECT_EQ(pte_at(t, BASE), marked);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, dpfn) != NULL);
	EXPECT_TRUE(!(d->flags & PG_mte_tagged));
	EXPECT_EQ(ev(m, "oom_kill"), 0);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);

	/* The pin goes: the access reserves D's block (V moves) and restores tag 9. */
	mmsim_unpin(vpin);
	EXPECT_EQ(load8(t, BASE), 0x69);
	EXPECT_EQ(page_at(t, BASE), d);
	EXPECT_EQ(get_tag(t, BASE), 9);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, dpfn) == NULL);
	EXPECT_TRUE(victim_intact(t, VICTIM, toff));
	EXPECT_EQ(ev(m, "oom_kill"), 0);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.4 70: threads A and B fault on the same METADATA_NONE PTE.  Both have
 * read it; B's whole fault runs either inside A's callback after A's
 * reservation, or before A's callback.  Either way one block is reserved
 * once (success +1, one share), both faults return 0 and the PTE ends up
 * valid, written once: the second remap finds the PTE changed.  (To see
 * that A writes nothing, B's PTE is aged - AF cleared, as reclaim's aging
 * does - before A goes on: a remap by A would make it young again.)
 *
 *   b_first = false   A: reserve ........................ recheck: changed, 0
 *                     B:          fault: reserve (set) -> map, 0
 *   b_first = true    A: (read PTE) ............ reserve (set) -> recheck: changed, 0
 *                     B:            fault: reserve -> map, 0
 */
struct t70 {
	struct mmsim_task *b;
	bool b_first;
	int depth;
	vm_fault_t b_ret;
	int b_faults;
	pteval_t b_pte;                 /* B's PTE, aged                          */
};

static vm_fault_t t70_handle(void *ctx, struct page *folio, struct vm_fault *vmf, bool *map_pte)
{
	struct t70 *c = ctx;
	struct mmsim_task *a = vmf->task;
	vm_fault_t ret = 0;

	if (c->depth++) {		/* B's own callback */
		ret = arch_handle_folio_fault_on_access(folio, vmf, map_pte);
		c->depth--;
		return ret;
	}
	if (!c->b_first)
		ret = arch_handle_folio_fault_on_access(folio, vmf, map_pte);
	run_as(c->b);
	c->b_ret = fault_locked(c->b, vmf->vma, vmf->address, FAULT_FLAG_USER);
	c->b_faults++;
	c->b_pte = pte_mkold(*vmf->pte);
	*vmf->pte = c->b_pte;
	flush_tlb_page(vmf->mm, vmf->address);
	run_as(a);
	if (c->b_first)
		ret = arch_handle_folio_fault_on_access(folio, vmf, map_pte);
	c->depth--;
	return ret;
}

static void run70(bool b_first)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *a = task(m), *b = NULL;
	struct fault_on_access_test_hook hook = { NULL, t70_handle, NULL };
	struct t70 c = { .b_first = b_first };
	int64_t success;
	uint64_t block;
	pteval_t old;
	struct page *p;

	ASSERT_EQ(mmsim_thread_create(a, &b), 0);
	ASSERT_EQ(mmsim_task_set_cpu(b, 1), 0);
	c.b = b;
	hook.ctx = &c;
	map(a, BASE, PAGE, RW);
	store8(a, BASE, 0x70);
	p = page_at(a, BASE);
	block = block_of(m, pfn_of(m, p), NULL);
	ASSERT_TRUE(!block_reserved(m, block));
	ASSERT_EQ(mmsim_mprotect(a, BASE, PAGE, RWMTE), 0);
	old = pte_at(a, BASE);
	ASSERT_TRUE(pte_metadata_none(old));
	success = ev(m, "metadata_reserve_success");
	ASSERT_CONSISTENT(m);

	m->fault_on_access_test_hook = &hook;
	EXPECT_EQ(fault_at(a, BASE, 0), 0);
	m->fault_on_access_test_hook = NULL;
	EXPECT_EQ(c.b_faults, 1);
	EXPECT_EQ(c.b_ret, 0);
	EXPECT_EQ(pte_at(a, BASE), c.b_pte);		/* one remap: B's */
	EXPECT_EQ(ev(m, "metadata_reserve_success") - success, 1);
	EXPECT_EQ(pfn_to_page(m, block)->refcount, 2);	/* 1 + one page's share */
	EXPECT_TRUE(pte_valid(pte_at(a, BASE)) && pte_tagged(pte_at(a, BASE)));
	EXPECT_EQ(pte_pfn(pte_at(a, BASE)), pfn_of(m, p));
	EXPECT_EQ(m->fault_contract_violations, 0);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(load8(b, BASE), 0x70);
	EXPECT_EQ(get_tag(a, BASE), 0);
	ASSERT_EQ(mmsim_munmap(a, BASE, PAGE), 0);
	EXPECT_TRUE(!block_reserved(m, block));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(spec_8_4_70_two_threads_same_pte_b_inside_a)
{
	run70(false);
}

TEST(spec_8_4_70_two_threads_same_pte_b_before_a)
{
	run70(true);
}

/*
 * §8.4 71: the PTE changes between the fault's entry (orig_pte read) and
 * the PT-lock recheck.  The handler returns 0, reserves nothing and writes
 * no PTE.  Two ways it changes: another thread completed the same fault;
 * the page was unmapped (MADV_DONTNEED).
 */
static void run71(bool unmap)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *a = task(m), *b = NULL;
	struct ev_count callbacks = { 0 };
	struct vm_fault vmf;
	int64_t success, fail;
	pteval_t *ptep, after;
	uint64_t block;
	int32_t refs;

	ASSERT_EQ(mmsim_thread_create(a, &b), 0);
	map(a, BASE, PAGE, RW);
	store8(a, BASE, 0x71);
	block = block_of(m, pfn_of(m, page_at(a, BASE)), NULL);
	ASSERT_EQ(mmsim_mprotect(a, BASE, PAGE, RWMTE), 0);
	ptep = pte_offset(a->mm, BASE);
	ASSERT_TRUE(ptep && pte_metadata_none(*ptep));
	/* A enters the fault: it has read the PTE, not yet taken the PT lock. */
	vmf = (struct vm_fault){
		.task = a, .vma = vma_lookup(a->mm, BASE), .mm = a->mm, .address = BASE,
		.flags = FAULT_FLAG_USER, .pte = ptep, .orig_pte = *ptep, .fault_lock_held = true,
	};
	if (unmap) {
		ASSERT_EQ(mmsim_madvise(b, BASE, PAGE, MMSIM_MADV_DONTNEED), 0);
		ASSERT_EQ(pte_offset(a->mm, BASE), ptep);
		ASSERT_TRUE(pte_none(*ptep));
	} else {
		EXPECT_EQ(fault_at(b, BASE, 0), 0);
		ASSERT_TRUE(pte_valid(*ptep));
	}
	after = *ptep;
	refs = unmap ? 0 : page_at(a, BASE)->refcount;
	success = ev(m, "metadata_reserve_success");
	fail = ev(m, "metadata_reserve_fail");
	ASSERT_CONSISTENT(m);

	ASSERT_EQ(mmsim_trace_subscribe(m, "fault:*", count_event, &callbacks), 0);
	run_as(a);
	EXPECT_EQ(handle_pte_protnone(&vmf), 0);
	mmsim_trace_unsubscribe(m, count_event, &callbacks);
	EXPECT_EQ(callbacks.n, 0);			/* no callback, no remap */
	EXPECT_EQ(*ptep, after);
	EXPECT_EQ(ev(m, "metadata_reserve_success"), success);
	EXPECT_EQ(ev(m, "metadata_reserve_fail"), fail);
	if (unmap)
		EXPECT_TRUE(!block_reserved(m, block));
	else
		EXPECT_EQ(page_at(a, BASE)->refcount, refs);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(load8(a, BASE), unmap ? 0 : 0x71);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(spec_8_4_71_pte_changed_before_pt_lock_mapped_by_other)
{
	run71(false);
}

TEST(spec_8_4_71_pte_changed_before_pt_lock_unmapped)
{
	run71(true);
}

/*
 * §8.4 74: dispatch of protnone faults.  Without bit 59: the NUMA hinting
 * handler (numa_hint_faults +1).  With bit 59 and storage enabled: the
 * METADATA_NONE handler (a reservation, no NUMA counter).  With bit 59 but
 * storage off (static carve-out), the arch does not claim it: NUMA again.
 */
TEST(spec_8_4_74_dispatch_numa_or_metadata_none)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	int64_t success;
	pteval_t *ptep;

	ASSERT_EQ(mmsim_sysctl_write(m, "kernel.numa_balancing", "1"), 0);
	map(t, BASE, PAGE, RW);
	map(t, VICTIM, PAGE, RW);
	store8(t, BASE, 1);
	store8(t, VICTIM, 2);
	ASSERT_EQ(change_prot_numa(vma_lookup(t->mm, BASE), BASE, BASE + PAGE, NUMA_NO_NODE), 1);
	ASSERT_EQ(mmsim_mprotect(t, VICTIM, PAGE, RWMTE), 0);
	ASSERT_TRUE(pte_protnone(pte_at(t, BASE)) && !(pte_at(t, BASE) & PTE_METADATA_NONE));
	ASSERT_TRUE(pte_metadata_none(pte_at(t, VICTIM)));
	success = ev(m, "metadata_reserve_success");
	ASSERT_CONSISTENT(m);

	EXPECT_EQ(fault_at(t, BASE, 0), 0);
	EXPECT_EQ(ev(m, "numa_hint_faults"), 1);
	EXPECT_EQ(ev(m, "metadata_reserve_success"), success);
	EXPECT_TRUE(pte_valid(pte_at(t, BASE)) && !pte_tagged(pte_at(t, BASE)));
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(fault_at(t, VICTIM, 0), 0);
	EXPECT_EQ(ev(m, "numa_hint_faults"), 1);
	EXPECT_EQ(ev(m, "numa_hint_faults_local"), 1);
	EXPECT_EQ(ev(m, "metadata_reserve_success") - success, 1);
	EXPECT_TRUE(pte_valid(pte_at(t, VICTIM)) && pte_tagged(pte_at(t, VICTIM)));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);

	/* Storage off: bit 59 means nothing to the arch. */
	m = boot_with("mte_tag_storage=static", 0);
	ASSERT_TRUE(!m->mte.storage_enabled);
	t = task(m);
	map(t, BASE, PAGE, RWMTE);
	store8(t, BASE, 3);
	ptep = pte_offset(t->mm, BASE);
	ASSERT_TRUE(ptep != NULL);
	*ptep = pte_modify(*ptep, PAGE_METADATA_NONE);
	flush_tlb_page(t->mm, BASE);
	ASSERT_TRUE(pte_metadata_none(*ptep));
	EXPECT_EQ(fault_at(t, BASE, 0), 0);
	EXPECT_EQ(ev(m, "numa_hint_faults"), 1);
	EXPECT_TRUE(pte_valid(*ptep) && pte_tagged(*ptep));
	EXPECT_EQ(load8(t, BASE), 3);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.4 75: pte_modify with the VMA's protection clears bit 59 (it is in the
 * replaced bits); pte_modify with PAGE_METADATA_NONE sets it; a valid PTE
 * with bit 59 set is not METADATA_NONE (bit 59 means it only with
 * PROT_NONE), and the arch does not claim it.
 */
TEST(spec_8_4_75_pte_modify_and_bit_59)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct vm_area_struct *vma;
	pteval_t md, normal, valid59;

	map(t, BASE, PAGE, RW);
	store8(t, BASE, 75);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	md = pte_at(t, BASE);
	ASSERT_TRUE(pte_metadata_none(md));
	EXPECT_TRUE(!(md & PTE_VALID) && (md & PTE_PROT_NONE) && (md & PTE_METADATA_NONE));
	vma = vma_lookup(t->mm, BASE);
	normal = pte_modify(md, vma->vm_page_prot);
	EXPECT_EQ(normal & PTE_METADATA_NONE, 0);
	EXPECT_EQ(normal & PTE_PROT_NONE, 0);
	EXPECT_TRUE(pte_valid(normal) && pte_tagged(normal) && !pte_metadata_none(normal));
	EXPECT_EQ(pte_pfn(normal), pte_pfn(md));
	EXPECT_EQ(pte_modify(normal, PAGE_METADATA_NONE), md);
	valid59 = normal | PTE_METADATA_NONE;
	EXPECT_TRUE(!pte_metadata_none(valid59) && !pte_protnone(valid59));
	EXPECT_TRUE(!arch_fault_on_access_pte(m, valid59));
	EXPECT_TRUE(arch_fault_on_access_pte(m, md));
	EXPECT_EQ(pte_modify(valid59, vma->vm_page_prot) & PTE_METADATA_NONE, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* A tagged, user, young PTE for pfn with a private RW|MTE VMA's protection. */
static pteval_t tagged_pte(uint64_t pfn)
{
	return pte_mkyoung(pfn_pte(pfn, vm_get_page_prot(VM_READ | VM_WRITE | VM_MTE)));
}

/*
 * §8.4 76: set_pte_at of a tagged, access-permitted, non-special PTE for a
 * page without reserved storage installs that PTE changed to
 * PAGE_METADATA_NONE, and leaves the page's tags (in a tag page that is
 * someone's data) alone.  A special PTE is installed as given.
 */
TEST(spec_8_4_76_set_pte_at_without_storage_installs_metadata_none)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	uint8_t before[MTE_PAGE_TAG_STORAGE_SIZE], now[MTE_PAGE_TAG_STORAGE_SIZE];
	struct page *p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE, 0);
	pteval_t pte, slot = 0;
	uint64_t pfn, entries = m->mte.tags_by_pfn.nr;

	ASSERT_TRUE(p != NULL);
	ASSERT_TRUE(!page_tag_storage_reserved(p));
	pfn = pfn_of(m, p);
	mte_copy_tags_out(m, p, before);
	pte = tagged_pte(pfn);
	ASSERT_TRUE(pte_valid(pte) && pte_user(pte) && pte_tagged(pte) && !pte_special(pte));
	set_pte_at(t->mm, BASE, &slot, pte);
	EXPECT_EQ(slot, pte_modify(pte, PAGE_METADATA_NONE));
	EXPECT_TRUE(pte_metadata_none(slot));
	EXPECT_EQ(pte_pfn(slot), pfn);
	EXPECT_TRUE(!(p->flags & PG_mte_tagged));
	mte_copy_tags_out(m, p, now);
	EXPECT_TRUE(memcmp(now, before, sizeof(now)) == 0);
	EXPECT_EQ(m->mte.tags_by_pfn.nr, entries);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	/* Special mappings have no struct page to sync. */
	set_pte_at(t->mm, BASE, &slot, pte_mkspecial(pte));
	EXPECT_EQ(slot, pte_mkspecial(pte));
	EXPECT_TRUE(!(p->flags & PG_mte_tagged));
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	__free_pages(m, p, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.4 77: set_pte_at of a tagged PTE for a reserved, untagged page: with
 * no pfn-saved tags the tags are zeroed; with saved tags those are
 * restored and the entry erased (its buffer freed).  The PTE is installed
 * as given, and the page becomes tagged.
 */
TEST(spec_8_4_77_set_pte_at_reserved_zeroes_or_restores)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	uint8_t junk[MTE_PAGE_TAG_STORAGE_SIZE], saved[MTE_PAGE_TAG_STORAGE_SIZE];
	struct page *p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE | __GFP_TAGGED, 0);
	struct page *q = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE | __GFP_TAGGED, 0);
	pteval_t slot = 0;
	uint64_t entries;

	ASSERT_TRUE(p && q);
	ASSERT_TRUE(page_tag_storage_reserved(p) && page_tag_storage_reserved(q));
	ASSERT_TRUE(!(p->flags & PG_mte_tagged) && !(q->flags & PG_mte_tagged));
	memset(junk, 0xd7, sizeof(junk));
	memset(saved, 0x77, sizeof(saved));
	mte_copy_tags_in(m, p, junk);		/* whatever was in the reserved block */
	ASSERT_EQ(tagbuf_store(&m->mte.tags_by_pfn, pfn_of(m, q), saved), 0);
	entries = m->mte.tags_by_pfn.nr;

	set_pte_at(t->mm, BASE, &slot, tagged_pte(pfn_of(m, p)));
	EXPECT_EQ(slot, tagged_pte(pfn_of(m, p)));
	EXPECT_TRUE(p->flags & PG_mte_tagged);
	EXPECT_TRUE(tags_all(m, p, 0));
	EXPECT_EQ(m->mte.tags_by_pfn.nr, entries);

	set_pte_at(t->mm, BASE + PAGE, &slot, tagged_pte(pfn_of(m, q)));
	EXPECT_EQ(slot, tagged_pte(pfn_of(m, q)));
	EXPECT_TRUE(q->flags & PG_mte_tagged);
	EXPECT_TRUE(tags_all(m, q, 0x77));
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, pfn_of(m, q)) == NULL);
	EXPECT_EQ(m->mte.tags_by_pfn.nr, entries - 1);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	__free_pages(m, p, 0);
	__free_pages(m, q, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.4 78: set_pte_at of an untagged PTE (a VMA without VM_MTE): no tag
 * activity, whether the page has storage or not, saved tags or not.
 */
TEST(spec_8_4_78_set_pte_at_untagged_no_tag_activity)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	uint8_t saved[MTE_PAGE_TAG_STORAGE_SIZE], bu[MTE_PAGE_TAG_STORAGE_SIZE], br[MTE_PAGE_TAG_STORAGE_SIZE];
	uint8_t now[MTE_PAGE_TAG_STORAGE_SIZE];
	struct page *u = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE, 0);
	struct page *r = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE | __GFP_TAGGED, 0);
	pteval_t prot = vm_get_page_prot(VM_READ | VM_WRITE), pte, slot = 0;

	ASSERT_TRUE(u && r);
	ASSERT_TRUE(!page_tag_storage_reserved(u) && page_tag_storage_reserved(r));
	memset(saved, 0x44, sizeof(saved));
	ASSERT_EQ(tagbuf_store(&m->mte.tags_by_pfn, pfn_of(m, u), saved), 0);
	mte_copy_tags_out(m, u, bu);
	mte_copy_tags_out(m, r, br);

	pte = pte_mkyoung(pfn_pte(pfn_of(m, u), prot));
	ASSERT_TRUE(!pte_tagged(pte));
	set_pte_at(t->mm, BASE, &slot, pte);
	EXPECT_EQ(slot, pte);
	EXPECT_TRUE(!(u->flags & PG_mte_tagged));
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, pfn_of(m, u)) != NULL);
	mte_copy_tags_out(m, u, now);
	EXPECT_TRUE(memcmp(now, bu, sizeof(now)) == 0);

	pte = pte_mkyoung(pfn_pte(pfn_of(m, r), prot));
	set_pte_at(t->mm, BASE + PAGE, &slot, pte);
	EXPECT_EQ(slot, pte);
	EXPECT_TRUE(!(r->flags & PG_mte_tagged));
	mte_copy_tags_out(m, r, now);
	EXPECT_TRUE(memcmp(now, br, sizeof(now)) == 0);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	__free_pages(m, u, 0);
	__free_pages(m, r, 0);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, pfn_of(m, u)) == NULL);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ======================================================= §8.5 swap, copy */

/*
 * §8.5 84: arch_swap_prepare_to_restore cannot allocate its 128-byte copy
 * (failslab): -ENOMEM, and do_swap_page fails the fault, leaving the page
 * in the swap cache and the swap PTE in place.  As written it returns the
 * whole VM_FAULT_ERROR mask (§6.6 #12); fixed, VM_FAULT_OOM (vmf_error).
 * arm64 handles both as OOM; with no page allocation failed nobody is
 * killed: the access is retried ("Huh VM_FAULT_OOM leaked out ...") and
 * succeeds once the copy can be made.  The tags then come back when the
 * page is mapped tagged.
 *
 * shmem_swapin_folio and unuse_pte, the other two call sites, have no
 * counterpart in the model (shmem is not swapped, there is no swapoff).
 *
 *   [BASE] RW|MTE, tags 6 --PAGEOUT--> slot e, tags_by_swp_entry[e]
 *   VMA loses VM_MTE; fault with failslab: prepare -ENOMEM
 */
static void run84(const char *args, vm_fault_t want)
{
	struct mmsim_machine *m = boot_with(args, 8 * MIB);
	struct mmsim_task *t = task(m);
	struct vm_area_struct *vma;
	uint64_t pfn, in = 0;
	pteval_t swapped;
	swp_entry_t e;
	struct page *p;

	ASSERT_TRUE(m->mte.storage_enabled);
	map(t, BASE, PAGE, RWMTE);
	store8(t, BASE, 84);
	set_tags(t, BASE, 6);
	ASSERT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_PAGEOUT), 0);
	swapped = pte_at(t, BASE);
	ASSERT_TRUE(!pte_none(swapped) && !pte_present(swapped));
	e = pte_to_swp_entry(swapped);
	ASSERT_TRUE(tagbuf_load(&m->mte.tags_by_swp_entry, e.val) != NULL);
	vma = vma_lookup(t->mm, BASE);
	vma->vm_flags &= ~VM_MTE;
	vma_set_page_prot(vma);
	ASSERT_CONSISTENT(m);

	m->mte.failslab_times = 1;
	EXPECT_EQ(fault_at(t, BASE, 0), want);
	EXPECT_EQ(m->mte.failslab_times, 0);
	EXPECT_TRUE(kmsg_has(m, "FAULT_INJECTION: forcing a failure"));
	EXPECT_EQ(pte_at(t, BASE), swapped);
	p = swap_cache_get_folio(m, e);
	ASSERT_TRUE(p != NULL);
	pfn = pfn_of(m, p);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, pfn) == NULL);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_swp_entry, e.val) != NULL);
	EXPECT_TRUE(!(p->flags & PG_mte_tagged));
	ASSERT_CONSISTENT(m);

	/* The user's view: one more failure, retried, then the access is done. */
	m->mte.failslab_times = 1;
	in = (uint64_t)ev(m, "pswpin");
	EXPECT_EQ(load8(t, BASE), 84);
	EXPECT_EQ((uint64_t)ev(m, "pswpin"), in);	/* read once, before: the cache had it */
	EXPECT_TRUE(kmsg_has(m, "Huh VM_FAULT_OOM leaked out to the #PF handler. Retrying PF"));
	EXPECT_EQ(ev(m, "oom_kill"), 0);
	EXPECT_TRUE(!t->killed);
	EXPECT_EQ(page_at(t, BASE), p);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, pfn) != NULL);
	EXPECT_TRUE(!(p->flags & PG_mte_tagged));
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	EXPECT_EQ(get_tag(t, BASE), 6);
	EXPECT_EQ(load8(t, BASE), 84);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(spec_8_5_84_prepare_enomem_fault_oom_fixed)
{
	run84(NULL, VM_FAULT_OOM);
}

TEST(spec_8_5_84_prepare_enomem_fault_error_as_written)
{
	run84("mte_fixes=off", VM_FAULT_ERROR);
}

/* A tagged page (tags 0xc) and a page for the copy, allocated as gfp asks. */
static void copy_pair(struct mmsim_machine *m, gfp_t to_gfp, bool from_tagged, struct page **from,
		      struct page **to)
{
	uint8_t tags[MTE_PAGE_TAG_STORAGE_SIZE];

	*from = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE | (from_tagged ? __GFP_TAGGED : 0), 0);
	*to = alloc_pages_node(m, 0, to_gfp, 0);
	ASSERT_TRUE(*from && *to);
	memset(page_address(m, *from), 0x86, PAGE);
	if (from_tagged) {
		memset(tags, 0xcc, sizeof(tags));
		mte_copy_tags_in(m, *from, tags);
		set_page_mte_tagged(m, *from);
	}
}

/* §8.5 86: from tagged, to reserved: data and tags copied, to tagged. */
TEST(spec_8_5_86_copy_highpage_reserved_copies_tags)
{
	struct mmsim_machine *m = boot(NULL);
	struct page *from, *to;
	uint64_t entries = m->mte.tags_by_pfn.nr;

	copy_pair(m, GFP_HIGHUSER_MOVABLE | __GFP_TAGGED, true, &from, &to);
	ASSERT_TRUE(page_tag_storage_reserved(to) && !(to->flags & PG_mte_tagged));
	copy_highpage(m, to, from);
	EXPECT_TRUE(memcmp(page_address(m, to), page_address(m, from), PAGE) == 0);
	EXPECT_TRUE(to->flags & PG_mte_tagged);
	EXPECT_TRUE(tags_all(m, to, 0xcc));
	EXPECT_EQ(m->mte.tags_by_pfn.nr, entries);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	__free_pages(m, from, 0);
	__free_pages(m, to, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.5 86: from tagged, to without storage: the data is copied, from's
 * tags go to tags_by_pfn[pfn(to)], to stays untagged and its tag page (free
 * data memory) is not written.
 */
TEST(spec_8_5_86_copy_highpage_unreserved_saves_by_pfn)
{
	struct mmsim_machine *m = boot(NULL);
	uint8_t before[MTE_PAGE_TAG_STORAGE_SIZE], now[MTE_PAGE_TAG_STORAGE_SIZE], *saved;
	struct page *from, *to;

	copy_pair(m, GFP_HIGHUSER_MOVABLE, true, &from, &to);
	ASSERT_TRUE(!page_tag_storage_reserved(to));
	mte_copy_tags_out(m, to, before);
	copy_highpage(m, to, from);
	EXPECT_TRUE(memcmp(page_address(m, to), page_address(m, from), PAGE) == 0);
	EXPECT_TRUE(!(to->flags & PG_mte_tagged));
	saved = tagbuf_load(&m->mte.tags_by_pfn, pfn_of(m, to));
	ASSERT_TRUE(saved != NULL);
	for (int i = 0; i < MTE_PAGE_TAG_STORAGE_SIZE; i++)
		EXPECT_EQ(saved[i], 0xcc);
	mte_copy_tags_out(m, to, now);
	EXPECT_TRUE(memcmp(now, before, sizeof(now)) == 0);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	__free_pages(m, from, 0);
	__free_pages(m, to, 0);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, pfn_of(m, to)) == NULL);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* §8.5 86: from untagged: a data copy only, wherever it goes. */
TEST(spec_8_5_86_copy_highpage_untagged_source_data_only)
{
	struct mmsim_machine *m = boot(NULL);
	uint8_t before[MTE_PAGE_TAG_STORAGE_SIZE], now[MTE_PAGE_TAG_STORAGE_SIZE];
	uint64_t entries = m->mte.tags_by_pfn.nr;
	struct page *from, *to;

	for (int reserved = 0; reserved < 2; reserved++) {
		copy_pair(m, GFP_HIGHUSER_MOVABLE | (reserved ? __GFP_TAGGED : 0), false, &from, &to);
		mte_copy_tags_out(m, to, before);
		copy_highpage(m, to, from);
		EXPECT_TRUE(memcmp(page_address(m, to), page_address(m, from), PAGE) == 0);
		EXPECT_TRUE(!(to->flags & PG_mte_tagged));
		mte_copy_tags_out(m, to, now);
		EXPECT_TRUE(memcmp(now, before, sizeof(now)) == 0);
		EXPECT_EQ(m->mte.tags_by_pfn.nr, entries);
		EXPECT_EQ(m->mte.bad_tag_writes, 0);
		ASSERT_CONSISTENT(m);
		__free_pages(m, from, 0);
		__free_pages(m, to, 0);
	}
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.5 88: tag_clear_highpage on a page without reserved storage: the data
 * is cleared, a zero tag buffer is saved by pfn, the page is not tagged
 * and its tag page (free data memory) is not written.
 */
TEST(spec_8_5_88_tag_clear_highpage_unreserved_saves_zero_tags)
{
	struct mmsim_machine *m = boot(NULL);
	uint8_t before[MTE_PAGE_TAG_STORAGE_SIZE], now[MTE_PAGE_TAG_STORAGE_SIZE], *saved;
	struct page *p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE, 0);
	uint8_t *data;

	ASSERT_TRUE(p && !page_tag_storage_reserved(p));
	data = page_address(m, p);
	memset(data, 0x88, PAGE);
	mte_copy_tags_out(m, p, before);
	tag_clear_highpage(m, p);
	for (uint64_t i = 0; i < PAGE; i += 64)
		EXPECT_EQ(data[i], 0);
	EXPECT_TRUE(!(p->flags & PG_mte_tagged));
	saved = tagbuf_load(&m->mte.tags_by_pfn, pfn_of(m, p));
	ASSERT_TRUE(saved != NULL);
	for (int i = 0; i < MTE_PAGE_TAG_STORAGE_SIZE; i++)
		EXPECT_EQ(saved[i], 0);
	mte_copy_tags_out(m, p, now);
	EXPECT_TRUE(memcmp(now, before, sizeof(now)) == 0);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	__free_pages(m, p, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* §8.5 88: on a page with storage: data and tags zeroed, the page tagged. */
TEST(spec_8_5_88_tag_clear_highpage_reserved_zeroes_and_tags)
{
	struct mmsim_machine *m = boot(NULL);
	struct page *p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE | __GFP_TAGGED, 0);
	uint8_t junk[MTE_PAGE_TAG_STORAGE_SIZE];
	uint64_t entries = m->mte.tags_by_pfn.nr;
	uint8_t *data;

	ASSERT_TRUE(p && page_tag_storage_reserved(p) && !(p->flags & PG_mte_tagged));
	data = page_address(m, p);
	memset(data, 0x88, PAGE);
	memset(junk, 0xee, sizeof(junk));
	mte_copy_tags_in(m, p, junk);
	tag_clear_highpage(m, p);
	for (uint64_t i = 0; i < PAGE; i += 64)
		EXPECT_EQ(data[i], 0);
	EXPECT_TRUE(p->flags & PG_mte_tagged);
	EXPECT_TRUE(tags_all(m, p, 0));
	EXPECT_EQ(m->mte.tags_by_pfn.nr, entries);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	__free_pages(m, p, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §8.5 88: on a METADATA page (tag storage lent out as data) it warns;
 * such a page has no storage of its own, so the zero tags wait by pfn and
 * no tag page is written.
 */
TEST(spec_8_5_88_tag_clear_highpage_metadata_page_warns)
{
	struct mmsim_machine *m = boot(NULL);
	struct page *p, *q = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE, 0);
	uint64_t pfn;

	ASSERT_TRUE(q != NULL);
	pfn = block_of(m, pfn_of(m, q), NULL) + 3;
	__free_pages(m, q, 0);
	ASSERT_TRUE(tag_page_free(m, pfn));
	ASSERT_EQ(alloc_contig_range(m, pfn, pfn + 1, MIGRATE_METADATA), 0);
	p = pfn_to_page(m, pfn);
	ASSERT_TRUE(!kmsg_has(m, "tag_clear_highpage"));
	tag_clear_highpage(m, p);
	EXPECT_TRUE(kmsg_has(m, "WARNING: tag_clear_highpage"));
	EXPECT_TRUE(!(p->flags & PG_mte_tagged));
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, pfn) != NULL);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	free_contig_range(m, pfn, 1);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, pfn) == NULL);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}
