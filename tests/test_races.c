// SPDX-License-Identifier: MIT
/*
 * tests/test_races.c - the races and corner cases of spec §5.6 (R1-R14),
 * each driven step by step, and the latent issues of §6.6 the model
 * reproduces, each as written (mte_fixes=off) and fixed (the default).
 *
 * The model is single-threaded, so a race is scripted: the test calls the
 * kernel's internal steps in the order of the interleaving - the two halves
 * of a migration (migrate_folio_unmap, migrate_folio_move) with an mprotect
 * and an access in between, the reservation test hook (which runs inside
 * reserve_metadata_storage after it pinned the blocks already reserved and
 * before it takes new ones), the fault-on-access test hook (to run a second
 * thread's callback inside the first one's), a fault at a time through
 * handle_mm_fault, t->fatal_signal_pending.
 *
 * For a corruption race the pair of tests shows: with the fix (default
 * boot) the data and tags are what they should be, no tag write reached
 * unreserved tag storage and mmsim_check() is clean; with the fix off
 * (bootargs mte_race_fix_off=Rn) the corruption happens and mmsim_check()
 * says so.  Races that are not about corruption (R9, R10, R12, R13, R14)
 * show the mechanism the model has, and say what it does not model.
 *
 * The built-in machine: 1 GiB of data at pfn 0x40000, its 32 MiB of tag
 * storage at pfn 0x80000 (one tag page holds the tags of 32 data pages,
 * block size 1), rfc-v1 policy, storage enabled.  Tag pages the allocator
 * lends out as data are MIGRATE_METADATA pageblocks, which untagged movable
 * allocations get only as a last resort, so a test that needs data in a
 * given tag page puts it there (place_on): it claims that frame with
 * alloc_contig_range and migrates a user page onto it.
 */
#include <stdlib.h>
#include <unistd.h>

#include "mte_test.h"
#include "mm/fault_on_access.h"

#define TAGGED_GFP (GFP_HIGHUSER_MOVABLE | __GFP_TAGGED | __GFP_ZERO)
#define VBYTE     0x5a                      /* the victim's data               */

/* ------------------------------------------------------------- helpers */

static struct mmsim_machine *boot_dt(const char *dts, uint64_t swap_bytes, const char *args)
{
	struct mmsim_options o = { .seed = 1, .devicetree = dts, .swap_bytes = swap_bytes, .bootargs = args };
	struct mmsim_machine *m = NULL;

	if (mmsim_machine_create(&o, &m) != 0)
		TEST_FAIL_(1, "boot [%s]: %s", args ? args : "", mmsim_strerror_last());
	return m;
}

static struct mmsim_machine *boot(const char *args)
{
	struct mmsim_machine *m = test_machine(args);

	ASSERT_TRUE(m->mte.storage_enabled);
	return m;
}

static void map(struct mmsim_task *t, uint64_t addr, uint64_t len, int prot)
{
	ASSERT_EQ(mmsim_mmap(t, addr, len, prot, ANON, -1, 0), (int64_t)addr);
}

/* The page mapped (present, METADATA_NONE included) at addr. */
static struct page *page_at(struct mmsim_task *t, uint64_t addr)
{
	pteval_t pte = pte_at(t, addr);

	ASSERT_TRUE(pte_present(pte));
	return pfn_to_page(t->machine, pte_pfn(pte));
}

static uint64_t pfn_of(struct mmsim_machine *m, struct page *p)
{
	return page_to_pfn(m, p);
}

/* The first page of pfn's tag block; where pfn's 128 tag bytes sit in it. */
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

/* The tag page that holds pfn's tags is free data memory (not reserved, not in use). */
static bool tag_page_free(struct mmsim_machine *m, uint64_t tag_pfn)
{
	struct page *tp = pfn_to_page(m, tag_pfn);

	return get_pageblock_migratetype(m, tag_pfn) == MIGRATE_METADATA &&
	       !(tp->flags & PG_tag_block) && tp->refcount == 0;
}

/*
 * An untagged movable page (no storage) whose tag page is free data memory
 * and is neither avoid1 nor avoid2.
 */
static struct page *alloc_untagged(struct mmsim_machine *m, uint64_t avoid1, uint64_t avoid2)
{
	struct page *keep[256], *res = NULL;
	int n = 0;

	while (!res && n < 256) {
		struct page *p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE, 0);
		uint64_t b;

		ASSERT_TRUE(p != NULL);
		b = block_of(m, pfn_of(m, p), NULL);
		if (b != avoid1 && b != avoid2 && tag_page_free(m, b))
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
 * does, then migrate the user page onto it.  Afterwards it is an ordinary
 * mapped, movable page that happens to sit in tag storage.
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
	ASSERT_EQ(get_pageblock_migratetype(m, pfn), MIGRATE_METADATA);
	return dst;
}

/* The 8 bytes at addr + off read back as the victim's fill byte. */
static bool victim_intact(struct mmsim_task *t, uint64_t addr, uint64_t off)
{
	return load8(t, addr + off) == 0x5a5a5a5a5a5a5a5aULL;
}

/* mmsim_check() finds problems, and its report names what. */
static void expect_reported(struct mmsim_machine *m, const char *what)
{
	static char rep[16384];

	rep[0] = '\0';
	EXPECT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, what);
}

/* The model's "current": handle_mm_fault called directly runs for t. */
static void run_as(struct mmsim_task *t)
{
	t->machine->current = t;
	t->machine->this_cpu = t->cpu;
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

/* ------------------------------------------------ R1 migration vs mprotect */

/*
 * R1 setup.  S is the page being migrated, D its destination, chosen while
 * S was untagged (so D has no storage); D's tag page T holds a bystander's
 * data (V, placed there):
 *
 *   VMA [BASE] RW         S (data)          tags -> block(S), free
 *   D (allocated, no __GFP_TAGGED)          tags -> T
 *   VMA [VICTIM] RW       V lives in frame T (a METADATA page lent as data)
 *
 * Then, in the race's order:
 *   T0  D = alloc untagged        (migration starts, S untagged)
 *   T1  mprotect(BASE, PROT_MTE)  S's PTE -> METADATA_NONE
 *   T1  STG tag 0xa over S        fault: reserve block(S), S tagged
 *   T0  migrate_folio_unmap(S)    S's PTE -> migration entry
 *   T0  migrate_folio_move(S, D)  copy_highpage(D, S); D mapped
 */
struct r1 {
	struct mmsim_machine *m;
	struct mmsim_task *t;
	struct page *s, *d;
	uint64_t tpfn, toff;
};

static void r1_run(struct r1 *r, const char *args)
{
	struct anon_vma *av;
	uint64_t sblock;

	r->m = boot(args);
	r->t = task(r->m);
	map(r->t, BASE, PAGE, RW);
	map(r->t, VICTIM, PAGE, RW);
	store8(r->t, BASE, 0x1234);
	r->s = page_at(r->t, BASE);
	sblock = block_of(r->m, pfn_of(r->m, r->s), NULL);
	r->d = alloc_untagged(r->m, sblock, 0);
	r->tpfn = block_of(r->m, pfn_of(r->m, r->d), &r->toff);
	place_on(r->t, VICTIM, r->tpfn, VBYTE);
	ASSERT_TRUE(!block_reserved(r->m, r->tpfn));

	/* T1: the VMA becomes PROT_MTE and S is tagged by its first access. */
	ASSERT_EQ(mmsim_mprotect(r->t, BASE, PAGE, RWMTE), 0);
	ASSERT_TRUE(pte_metadata_none(pte_at(r->t, BASE)));
	set_tags(r->t, BASE, 0xa);
	ASSERT_TRUE(r->s->flags & PG_mte_tagged);
	ASSERT_EQ(r->m->mte.bad_tag_writes, 0);

	/* T0: the migration, which chose D before S was tagged, completes. */
	av = page_anon_vma(r->s);
	av->refcount++;
	get_page(r->s);
	ASSERT_EQ(migrate_folio_unmap(r->m, r->s), 0);
	migrate_folio_move(r->m, r->s, r->d);
	anon_vma_put(av);
	put_page(r->m, r->s);
	put_page(r->m, r->d);
	ASSERT_EQ(pfn_of(r->m, page_at(r->t, BASE)), pfn_of(r->m, r->d));
}

/*
 * R1, fix on (spec §8.5 87): D comes out METADATA_NONE with S's tags saved under its pfn;
 * the first access reserves D's block (migrating the bystander out of T),
 * restores the tags.  Data, tags and the bystander are intact.
 */
TEST(spec_8_5_87_r01_migration_vs_mprotect_fix_on)
{
	struct r1 r;
	uint8_t *saved;

	r1_run(&r, NULL);
	EXPECT_TRUE(pte_metadata_none(pte_at(r.t, BASE)));
	EXPECT_TRUE(!(r.d->flags & PG_mte_tagged));
	saved = tagbuf_load(&r.m->mte.tags_by_pfn, pfn_of(r.m, r.d));
	ASSERT_TRUE(saved != NULL);
	EXPECT_EQ(saved[0], 0xaa);
	EXPECT_EQ(r.m->mte.bad_tag_writes, 0);
	EXPECT_TRUE(victim_intact(r.t, VICTIM, r.toff));
	ASSERT_CONSISTENT(r.m);
	/* The first access: reserve (T's bystander moves away), map, restore. */
	EXPECT_EQ(load8(r.t, BASE), 0x1234);
	EXPECT_TRUE(block_reserved(r.m, r.tpfn));
	EXPECT_NE(pfn_of(r.m, page_at(r.t, VICTIM)), r.tpfn);
	EXPECT_EQ(get_tag(r.t, BASE), 0xa);
	EXPECT_EQ(get_tag(r.t, BASE + PAGE - 16), 0xa);
	EXPECT_TRUE(tagbuf_load(&r.m->mte.tags_by_pfn, pfn_of(r.m, r.d)) == NULL);
	EXPECT_TRUE(victim_intact(r.t, VICTIM, r.toff));
	EXPECT_EQ(r.m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(r.m);
	mmsim_machine_destroy(r.m);
}

/* R1, fix off (§8.5 87 without the fix): the copy writes S's tags into T, over the bystander's data. */
TEST(spec_8_5_87_r01_migration_vs_mprotect_fix_off)
{
	struct r1 r;

	r1_run(&r, "mte_race_fix_off=R1");
	EXPECT_GT(r.m->mte.bad_tag_writes, 0);
	EXPECT_TRUE(r.d->flags & PG_mte_tagged);
	EXPECT_TRUE(!victim_intact(r.t, VICTIM, r.toff));
	EXPECT_EQ(load8(r.t, VICTIM + r.toff), 0xaaaaaaaaaaaaaaaaULL);
	expect_reported(r.m, "tag writes landed in tag storage that was not reserved");
	expect_reported(r.m, "is tagged without reserved tag storage (I1)");
	mmsim_machine_destroy(r.m);
}

/* ------------------------------------------------ R2 untagged swap-in */

/*
 * R2: a tagged page is swapped out (tags kept by swap entry), its mapping
 * loses PROT_MTE (as a second, untagged mapping of a shared page would
 * be), and the swap-in allocates an untagged page N without storage:
 *
 *   [BASE] RW|MTE  P, tags 6      --MADV_PAGEOUT-->  swap slot + tags by entry
 *   VMA loses VM_MTE; load         --swap-in-->      N (no storage)
 *   arch_swap_prepare_to_restore   tags -> tags_by_pfn[N]
 *   arch_swap_restore              fix: skip N;  off: tags -> N's tag page
 */
static struct mmsim_machine *r2_run(const char *args, struct mmsim_task **tp, struct page **np)
{
	struct mmsim_machine *m = boot_dt(NULL, 8ULL << 20, args);
	struct mmsim_task *t = task(m);
	struct vm_area_struct *vma;

	ASSERT_TRUE(m->mte.storage_enabled);
	map(t, BASE, PAGE, RWMTE);
	store8(t, BASE, 61);
	set_tags(t, BASE, 6);
	ASSERT_EQ(mmsim_madvise(t, BASE, PAGE, MMSIM_MADV_PAGEOUT), 0);
	ASSERT_TRUE(!pte_present(pte_at(t, BASE)));
	vma = vma_lookup(t->mm, BASE);
	ASSERT_TRUE(vma != NULL);
	vma->vm_flags &= ~VM_MTE;
	vma_set_page_prot(vma);
	EXPECT_EQ(load8(t, BASE), 61);
	*np = page_at(t, BASE);
	ASSERT_TRUE(!page_tag_storage_reserved(*np));
	ASSERT_TRUE(!block_reserved(m, block_of(m, pfn_of(m, *np), NULL)));
	*tp = t;
	return m;
}

/* R2, fix on: the tags wait by pfn, and come back when the page is mapped tagged. */
TEST(races_r02_swapin_untagged_fix_on)
{
	struct mmsim_task *t;
	struct page *n;
	struct mmsim_machine *m = r2_run(NULL, &t, &n);

	EXPECT_TRUE(!(n->flags & PG_mte_tagged));
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, pfn_of(m, n)) != NULL);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	EXPECT_EQ(get_tag(t, BASE), 6);
	EXPECT_EQ(load8(t, BASE), 61);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* R2, fix off: the restore writes the tags into tag storage nobody reserved. */
TEST(races_r02_swapin_untagged_fix_off)
{
	struct mmsim_task *t;
	struct page *n;
	struct mmsim_machine *m = r2_run("mte_race_fix_off=R2", &t, &n);

	EXPECT_TRUE(n->flags & PG_mte_tagged);
	EXPECT_GT(m->mte.bad_tag_writes, 0);
	expect_reported(m, "tag writes landed in tag storage that was not reserved");
	expect_reported(m, "is tagged without reserved tag storage (I1)");
	mmsim_machine_destroy(m);
}

/* ------------------------------------------ R3 copy_highpage, no storage */

/*
 * R3: copy_highpage itself, in a migration whose destination D was
 * allocated untagged while the source S became tagged (one call,
 * migrate_page_to, after the mprotect and the access):
 *
 *   D = alloc untagged; mprotect(PROT_MTE) + STG 3 on S; migrate S -> D
 *   copy_highpage(D, S): fix: tags -> tags_by_pfn[D], D untagged
 *                        off: tags -> D's unreserved tag page
 */
static struct mmsim_machine *r3_run(const char *args, struct mmsim_task **tp, struct page **dp)
{
	struct mmsim_machine *m = boot(args);
	struct mmsim_task *t = task(m);
	struct page *s, *d;

	map(t, BASE, PAGE, RW);
	store8(t, BASE, 0x33);
	s = page_at(t, BASE);
	d = alloc_untagged(m, block_of(m, pfn_of(m, s), NULL), 0);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	set_tags(t, BASE, 3);
	get_page(s);
	ASSERT_EQ(migrate_page_to(m, s, d), 0);
	put_page(m, s);
	put_page(m, d);
	ASSERT_EQ(pfn_of(m, page_at(t, BASE)), pfn_of(m, d));
	*tp = t;
	*dp = d;
	return m;
}

/* R3, fix on: the copy keeps S's tags under D's pfn; D's first access restores them. */
TEST(races_r03_copy_highpage_no_storage_fix_on)
{
	struct mmsim_task *t;
	struct page *d;
	struct mmsim_machine *m = r3_run(NULL, &t, &d);
	uint8_t *saved = tagbuf_load(&m->mte.tags_by_pfn, pfn_of(m, d));

	ASSERT_TRUE(saved != NULL);
	for (int i = 0; i < MTE_PAGE_TAG_STORAGE_SIZE; i++)
		EXPECT_EQ(saved[i], 0x33);
	EXPECT_TRUE(!(d->flags & PG_mte_tagged));
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	EXPECT_EQ(get_tag(t, BASE + 512), 3);
	EXPECT_EQ(load8(t, BASE), 0x33);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, pfn_of(m, d)) == NULL);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* R3, fix off: the copy writes S's tags into D's unreserved tag page. */
TEST(races_r03_copy_highpage_no_storage_fix_off)
{
	struct mmsim_task *t;
	struct page *d;
	struct mmsim_machine *m = r3_run("mte_race_fix_off=R3", &t, &d);

	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, pfn_of(m, d)) == NULL);
	EXPECT_GT(m->mte.bad_tag_writes, 0);
	expect_reported(m, "tag writes landed in tag storage that was not reserved");
	mmsim_machine_destroy(m);
}

/* ------------------------------------- R4 a mapped page that is tag storage */

/*
 * R4: M1, a page of tag storage lent out as data, is P1's own tag page,
 * and both are mapped untagged.  mprotect(PROT_MTE) marks both; touching
 * P1 must reserve M1, so M1's data moves to P2 - allocated untagged on
 * purpose (reserve strips __GFP_TAGGED) - and P2 is mapped in the now
 * VM_MTE VMA without storage:
 *
 *   [BASE]   P1  --tags in-->  M1 = frame T  <--  [VICTIM] maps M1
 *   mprotect both PROT_MTE; load P1
 *     reserve(P1) -> alloc_contig_range(T) -> migrate M1 -> P2
 *     remove_migration_pte: set_pte_at(P2, tagged)
 *       fix: PTE METADATA_NONE     off: tags zeroed in P2's tag page
 */
static struct mmsim_machine *r4_run(const char *args, struct mmsim_task **tp, struct page **p2,
				    uint64_t *toff)
{
	struct mmsim_machine *m = boot(args);
	struct mmsim_task *t = task(m);
	uint64_t tpfn;
	pteval_t pte;

	map(t, BASE, PAGE, RW);
	map(t, VICTIM, PAGE, RW);
	store8(t, BASE, 0x4444);
	tpfn = block_of(m, pfn_of(m, page_at(t, BASE)), toff);
	ASSERT_TRUE(tag_page_free(m, tpfn));
	place_on(t, VICTIM, tpfn, VBYTE);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	ASSERT_EQ(mmsim_mprotect(t, VICTIM, PAGE, RWMTE), 0);
	ASSERT_TRUE(pte_metadata_none(pte_at(t, BASE)) && pte_metadata_none(pte_at(t, VICTIM)));
	EXPECT_EQ(load8(t, BASE), 0x4444);
	EXPECT_TRUE(block_reserved(m, tpfn));
	pte = pte_at(t, VICTIM);
	*p2 = pfn_to_page(m, pte_pfn(pte));
	ASSERT_NE(pte_pfn(pte), tpfn);
	ASSERT_TRUE(!page_tag_storage_reserved(*p2));
	*tp = t;
	return m;
}

/*
 * R4, fix on (spec §8.4 79): P2 is mapped METADATA_NONE; its first access
 * reserves P2's own block (P2 is not moved), data intact.
 */
TEST(spec_8_4_79_r04_tag_storage_page_mapped_fix_on)
{
	struct mmsim_task *t;
	struct page *p2;
	uint64_t off;
	struct mmsim_machine *m = r4_run(NULL, &t, &p2, &off);

	EXPECT_TRUE(pte_metadata_none(pte_at(t, VICTIM)));
	EXPECT_TRUE(!(p2->flags & PG_mte_tagged));
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	/* P2's first access reserves P2's own block (maybe T, already held for P1). */
	EXPECT_TRUE(victim_intact(t, VICTIM, off));
	EXPECT_EQ(page_at(t, VICTIM), p2);
	EXPECT_TRUE(block_reserved(m, block_of(m, pfn_of(m, p2), NULL)));
	EXPECT_TRUE(page_tag_storage_reserved(page_at(t, VICTIM)));
	EXPECT_EQ(get_tag(t, VICTIM), 0);
	EXPECT_EQ(get_tag(t, BASE), 0);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* R4, fix off (§8.4 79 without the fix): P2 is mapped tagged without storage; its zero tags land in unreserved storage. */
TEST(spec_8_4_79_r04_tag_storage_page_mapped_fix_off)
{
	struct mmsim_task *t;
	struct page *p2;
	uint64_t off;
	struct mmsim_machine *m = r4_run("mte_race_fix_off=R4", &t, &p2, &off);

	EXPECT_TRUE(pte_valid(pte_at(t, VICTIM)) && pte_tagged(pte_at(t, VICTIM)));
	EXPECT_TRUE(p2->flags & PG_mte_tagged);
	EXPECT_GT(m->mte.bad_tag_writes, 0);
	expect_reported(m, "tag writes landed in tag storage that was not reserved");
	expect_reported(m, "is tagged without reserved tag storage (I1)");
	mmsim_machine_destroy(m);
}

/* ------------------------------------------- R5 two faults on one page */

/*
 * R5: threads A and B fault on the same METADATA_NONE PTE; both read the
 * PTE and took a reference.  A reserves and sets PG_tag_storage_reserved;
 * B's callback runs after that (inside A's, through the fault-on-access
 * test hook), then A maps and B's pte_same recheck finds the PTE changed:
 *
 *   A: callback -> reserve (new block, +1)            -> map
 *   B:               callback -> reserve (flag set?)  -> PTE changed, no-op
 */
struct r5 {
	struct mmsim_machine *m;
	vm_fault_t b_ret;
	bool b_map;
	pteval_t b_orig;
	int calls;
};

static vm_fault_t r5_handle(void *ctx, struct page *folio, struct vm_fault *vmf, bool *map_pte)
{
	struct r5 *c = ctx;
	struct vm_fault b = *vmf;	/* B read the same PTE, holds the fault lock of its own */
	vm_fault_t ret;

	c->calls++;
	get_page(folio);		/* B's reference */
	ret = arch_handle_folio_fault_on_access(folio, vmf, map_pte);
	c->b_orig = b.orig_pte;
	c->b_ret = arch_handle_folio_fault_on_access(folio, &b, &c->b_map);
	return ret;
}

static struct mmsim_machine *r5_run(const char *args, struct mmsim_task **tp, uint64_t *blockp,
				    struct r5 *c)
{
	struct mmsim_machine *m = boot(args);
	struct mmsim_task *t = task(m);
	struct fault_on_access_test_hook *h = calloc(1, sizeof(*h));
	int64_t success;

	ASSERT_TRUE(h != NULL);
	map(t, BASE, PAGE, RW);
	store8(t, BASE, 0x55);
	*blockp = block_of(m, pfn_of(m, page_at(t, BASE)), NULL);
	ASSERT_TRUE(!block_reserved(m, *blockp));
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	memset(c, 0, sizeof(*c));
	c->m = m;
	h->handle = r5_handle;
	h->ctx = c;
	m->fault_on_access_test_hook = h;
	success = mmsim_vmstat(m, "metadata_reserve_success");
	EXPECT_EQ(load8(t, BASE), 0x55);	/* A's fault, with B's inside */
	m->fault_on_access_test_hook = NULL;
	free(h);
	EXPECT_EQ(c->calls, 1);
	EXPECT_EQ(c->b_ret, 0);
	/* B's generic code would now re-take the PT lock: the PTE is not what B saw. */
	EXPECT_NE(pte_at(t, BASE), c->b_orig);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success") - success, 1);
	*tp = t;
	return m;
}

/* R5, fix on: B sees PG_tag_storage_reserved and takes nothing; one share, one reservation. */
TEST(races_r05_concurrent_metadata_none_faults_fix_on)
{
	struct mmsim_task *t;
	uint64_t block;
	struct r5 c;
	struct mmsim_machine *m = r5_run(NULL, &t, &block, &c);

	EXPECT_EQ(pfn_to_page(m, block)->refcount, 2);
	EXPECT_EQ(get_tag(t, BASE), 0);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_munmap(t, BASE, PAGE), 0);
	EXPECT_TRUE(!block_reserved(m, block));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* R5, fix off: B takes a second share for the same page; the block leaks when the page goes. */
TEST(races_r05_concurrent_metadata_none_faults_fix_off)
{
	struct mmsim_task *t;
	uint64_t block;
	struct r5 c;
	struct mmsim_machine *m = r5_run("mte_race_fix_off=R5", &t, &block, &c);

	/* B took a second share for the same page. */
	EXPECT_EQ(pfn_to_page(m, block)->refcount, 3);
	expect_reported(m, "has refcount 3, its users' shares say 2 (I2)");
	/* And when the page goes, the block stays reserved for nobody. */
	ASSERT_EQ(mmsim_munmap(t, BASE, PAGE), 0);
	EXPECT_TRUE(block_reserved(m, block));
	expect_reported(m, "is reserved but 0 allocations' shares use it (I2)");
	mmsim_machine_destroy(m);
}

/* --------------------------------- R6 a page whose pageblock is isolated */

/*
 * R6: M, a tag-storage page lent out as data and mapped, is marked
 * METADATA_NONE; alloc_contig_range (for another page of its pageblock)
 * has made the pageblock MIGRATE_ISOLATE when M's fault comes.  The
 * handler must not take M for an ordinary page: isolated, M is still tag
 * storage.
 *
 *   [VICTIM] M in a METADATA pageblock; mprotect(PROT_MTE)
 *   start_isolate: pageblock(M) -> ISOLATE      (move_freepages_block)
 *   fault on M (handle_mm_fault, one at a time)
 *       fix: isolate branch, no reservation     off: reserve(M) and map it tagged
 *   undo_isolate: pageblock(M) -> METADATA
 */
static struct mmsim_machine *r6_run(const char *args, struct mmsim_task **tp, struct page **mp,
				    vm_fault_t *first)
{
	struct mmsim_machine *m = boot(args);
	struct mmsim_task *t = task(m);
	struct vm_area_struct *vma;
	uint64_t mpfn;

	map(t, BASE, PAGE, RW);
	map(t, VICTIM, PAGE, RW);
	store8(t, BASE, 1);
	mpfn = block_of(m, pfn_of(m, page_at(t, BASE)), NULL) + 7;
	ASSERT_TRUE(tag_page_free(m, mpfn));
	*mp = place_on(t, VICTIM, mpfn, VBYTE);
	ASSERT_EQ(mmsim_mprotect(t, VICTIM, PAGE, RWMTE), 0);
	ASSERT_TRUE(pte_metadata_none(pte_at(t, VICTIM)));
	move_freepages_block(m, mpfn, MIGRATE_ISOLATE);
	vma = vma_lookup(t->mm, VICTIM);
	run_as(t);
	*first = fault_locked(t, vma, VICTIM, FAULT_FLAG_USER);
	if (*first & VM_FAULT_RETRY)
		EXPECT_EQ(fault_locked(t, vma, VICTIM, FAULT_FLAG_USER | FAULT_FLAG_TRIED), 0);
	move_freepages_block(m, mpfn, MIGRATE_METADATA);
	*tp = t;
	return m;
}

/* R6, fix on: no reservation while isolated; afterwards the data moves off tag storage. */
TEST(races_r06_fault_on_isolated_page_fix_on)
{
	struct mmsim_task *t;
	struct page *mp;
	vm_fault_t first;
	int64_t success = 0;
	struct mmsim_machine *m = r6_run(NULL, &t, &mp, &first);

	EXPECT_EQ(first, VM_FAULT_RETRY);	/* fixed (§6.6 #2): the intended retry */
	EXPECT_TRUE(pte_metadata_none(pte_at(t, VICTIM)));
	EXPECT_TRUE(!(mp->flags & (PG_mte_tagged | PG_tag_storage_reserved)));
	ASSERT_CONSISTENT(m);
	/* Isolation over, the next access moves the data off tag storage. */
	success = mmsim_vmstat(m, "metadata_reserve_success");
	EXPECT_TRUE(victim_intact(t, VICTIM, 0));
	EXPECT_NE(get_pageblock_migratetype(m, pfn_of(m, page_at(t, VICTIM))), MIGRATE_METADATA);
	EXPECT_TRUE(page_at(t, VICTIM)->flags & PG_mte_tagged);
	EXPECT_GE(mmsim_vmstat(m, "metadata_reserve_success"), success);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* R6, fix off: the handler reserves for a tag-storage page and it is mapped tagged (I3). */
TEST(races_r06_fault_on_isolated_page_fix_off)
{
	struct mmsim_task *t;
	struct page *mp;
	vm_fault_t first;
	struct mmsim_machine *m = r6_run("mte_race_fix_off=R6", &t, &mp, &first);

	EXPECT_EQ(first, 0);
	/* A page of tag storage now carries tags of its own. */
	EXPECT_TRUE(mp->flags & PG_mte_tagged);
	EXPECT_TRUE(pte_valid(pte_at(t, VICTIM)) && pte_tagged(pte_at(t, VICTIM)));
	expect_reported(m, "is tag storage (METADATA) and tagged (I3)");
	mmsim_machine_destroy(m);
}

/* ------------------------------------- R7 reserve vs free of a shared block */

/*
 * R7: B is tagged and holds block X; A, in the same 32-page group, is
 * being reserved.  B is freed between A's decision that X is already
 * reserved and A's use of it (the reservation hook):
 *
 *   A: reserve: X present -> (fix: pin X now)   hook: free(B)   -> take share
 *   fix: X's count never reaches 1             off: X freed, A's share on a free page
 */
struct r7 {
	struct mmsim_machine *m;
	struct page *b;
	int calls;
};

static void r7_free_b(struct mmsim_machine *m, void *ctx)
{
	struct r7 *c = ctx;

	c->calls++;
	__free_pages(m, c->b, 0);
}

static struct mmsim_machine *r7_run(const char *args, struct page **ap, uint64_t *xp)
{
	struct mmsim_machine *m = boot(args);
	struct page *b = alloc_pages_node(m, 0, TAGGED_GFP, 0), *a = NULL, *keep[64];
	struct r7 c = { m, b, 0 };
	int n = 0;

	ASSERT_TRUE(b != NULL);
	*xp = block_of(m, pfn_of(m, b), NULL);
	ASSERT_EQ(pfn_to_page(m, *xp)->refcount, 2);
	while (!a && n < 64) {
		struct page *p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE, 0);

		ASSERT_TRUE(p != NULL);
		if (block_of(m, pfn_of(m, p), NULL) == *xp)
			a = p;
		else
			keep[n++] = p;
	}
	while (n)
		__free_pages(m, keep[--n], 0);
	ASSERT_TRUE(a != NULL);
	/* A's reservation, as get_page_from_freelist makes it, with B's free inside. */
	m->mte.reserve_hook = r7_free_b;
	m->mte.reserve_hook_ctx = &c;
	EXPECT_EQ(reserve_metadata_storage(m, a, 0, TAGGED_GFP), 0);
	m->mte.reserve_hook = NULL;
	EXPECT_EQ(c.calls, 1);
	tag_clear_highpage(m, a);	/* prep_new_page of a __GFP_ZERO|__GFP_TAGGED page */
	*ap = a;
	return m;
}

/* R7, fix on: X was pinned before B's free, so it stays reserved for A. */
TEST(races_r07_reserve_vs_free_fix_on)
{
	struct page *a;
	uint64_t x;
	struct mmsim_machine *m = r7_run(NULL, &a, &x);

	EXPECT_TRUE(block_reserved(m, x));
	EXPECT_EQ(pfn_to_page(m, x)->refcount, 2);
	EXPECT_TRUE(a->flags & PG_mte_tagged);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	__free_pages(m, a, 0);
	EXPECT_TRUE(!block_reserved(m, x));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* R7, fix off: B's free releases X; A's share and A's tags go to a block nobody holds. */
TEST(races_r07_reserve_vs_free_fix_off)
{
	struct page *a;
	uint64_t x;
	struct mmsim_machine *m = r7_run("mte_race_fix_off=R7", &a, &x);

	EXPECT_TRUE(!block_reserved(m, x));
	EXPECT_TRUE(page_tag_storage_reserved(a));
	EXPECT_GT(m->mte.bad_tag_writes, 0);
	expect_reported(m, "is not reserved but 1 allocations' shares use it (I2)");
	expect_reported(m, "tag writes landed in tag storage that was not reserved");
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------------ R8 fatal signal */

/*
 * R8: a task with SIGKILL pending faults on PROT_MTE memory.  The tagged
 * __GFP_ZERO allocation's reservation gets -EINTR from alloc_contig_range
 * and returns 0 without storage:
 *
 *   fault -> alloc tagged -> reserve: -EINTR -> 0, fail +1, no storage
 *   tag_clear_highpage: fix: zero tags saved by pfn     off: zero tags written
 *   set_pte_at: METADATA_NONE; the next fault changes nothing; kill
 */
static struct mmsim_machine *r8_run(const char *args, struct mmsim_task **tp, struct page **pp)
{
	struct mmsim_machine *m = boot(args);
	struct mmsim_task *t = task(m);
	struct vm_area_struct *vma;
	int64_t fail = mmsim_vmstat(m, "metadata_reserve_fail");
	pteval_t pte;

	map(t, BASE, PAGE, RWMTE);
	vma = vma_lookup(t->mm, BASE);
	t->fatal_signal_pending = true;
	run_as(t);
	EXPECT_EQ(fault_locked(t, vma, BASE, FAULT_FLAG_USER | FAULT_FLAG_WRITE), 0);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_fail") - fail, 1);
	pte = pte_at(t, BASE);
	EXPECT_TRUE(pte_metadata_none(pte));
	*pp = pfn_to_page(m, pte_pfn(pte));
	EXPECT_TRUE(!page_tag_storage_reserved(*pp));
	ASSERT_TRUE(!block_reserved(m, block_of(m, pte_pfn(pte), NULL)));
	*tp = t;
	return m;
}

/*
 * R8, fix on (spec §8.3 item 47): zero tags wait by pfn (a zeroed 128-byte
 * buffer), no tag write, the PTE stays METADATA_NONE until the kill.
 */
TEST(races_r08_8_3_47_fatal_signal_fix_on)
{
	struct mmsim_task *t;
	struct page *p;
	struct mmsim_machine *m = r8_run(NULL, &t, &p);
	uint64_t pfn = pfn_of(m, p);
	uint8_t *saved = tagbuf_load(&m->mte.tags_by_pfn, pfn);

	ASSERT_TRUE(saved != NULL);
	for (int i = 0; i < MTE_PAGE_TAG_STORAGE_SIZE; i++)
		EXPECT_EQ(saved[i], 0);
	EXPECT_TRUE(!(p->flags & PG_mte_tagged));
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	/* Accesses keep faulting until the signal is acted on. */
	run_as(t);
	EXPECT_EQ(fault_locked(t, vma_lookup(t->mm, BASE), BASE, FAULT_FLAG_USER), 0);
	EXPECT_TRUE(pte_metadata_none(pte_at(t, BASE)));
	ASSERT_EQ(mmsim_kill(t, MMSIM_SIGKILL), 0);
	EXPECT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, pfn) == NULL);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* R8, fix off: tag_clear_highpage writes the zero tags into unreserved storage. */
TEST(races_r08_fatal_signal_fix_off)
{
	struct mmsim_task *t;
	struct page *p;
	struct mmsim_machine *m = r8_run("mte_race_fix_off=R8", &t, &p);

	EXPECT_TRUE(p->flags & PG_mte_tagged);
	EXPECT_GT(m->mte.bad_tag_writes, 0);
	expect_reported(m, "tag writes landed in tag storage that was not reserved");
	expect_reported(m, "is tagged without reserved tag storage (I1)");
	mmsim_machine_destroy(m);
}

/* ------------------------------------------- R9 PF_MEMALLOC_ISOLATE */

/*
 * R9: while reserve_metadata_storage takes tag blocks (alloc_contig_range,
 * which isolates them), the task carries PF_MEMALLOC_ISOLATE, and gets its
 * previous value back afterwards.  Observed at the reservation hook (step
 * 7, before the flag is raised) and at each mte:dcache_inval_poc event
 * (step 9, a block just taken).
 *
 * Modelled: the flag, its save and restore, and the two
 * too_many_isolated() that read it (mm/compaction.c, mm/vmscan.c; §8.3
 * item 53 in tests/test_compaction.c).  The livelock itself needs a
 * compaction isolating sources while alloc_contig_range isolates the tag
 * pages; the model's alloc_contig_range migrates page by page without
 * isolating from the LRU, so with mte_race_fix_off=R9 the test only shows
 * the flag is not raised.
 */
struct r9 {
	struct mmsim_task *t;
	int hook_calls, inval_events;
	bool at_hook, in_loop;
};

static void r9_hook(struct mmsim_machine *m, void *ctx)
{
	struct r9 *c = ctx;

	c->hook_calls++;
	c->at_hook = m->current == c->t && c->t->memalloc_isolate;
}

static void r9_event(void *ctx, const struct mmsim_event *ev)
{
	struct r9 *c = ctx;

	(void)ev;
	c->inval_events++;
	c->in_loop = c->t->memalloc_isolate;
}


/* One tagged fault on a fresh machine, t's flag set to prior beforehand. */
static void r9_run(const char *args, bool prior, struct r9 *c)
{
	struct mmsim_machine *m = boot(args);
	struct mmsim_task *t = task(m);

	memset(c, 0, sizeof(*c));
	c->t = t;
	map(t, BASE, PAGE, RWMTE);
	t->memalloc_isolate = prior;
	m->mte.reserve_hook = r9_hook;
	m->mte.reserve_hook_ctx = c;
	ASSERT_EQ(mmsim_trace_subscribe(m, "mte:dcache_inval_poc", r9_event, c), 0);
	store8(t, BASE, 9);
	mmsim_trace_unsubscribe(m, r9_event, c);
	m->mte.reserve_hook = NULL;
	EXPECT_EQ(c->hook_calls, 1);
	EXPECT_EQ(c->inval_events, 1);
	EXPECT_EQ(c->at_hook, prior);
	EXPECT_EQ(t->memalloc_isolate, prior);	/* restored */
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* R9, fix on: the flag is up while blocks are taken, and restored (also when already set). */
TEST(races_r09_memalloc_isolate_fix_on)
{
	struct r9 c;

	r9_run(NULL, false, &c);
	EXPECT_TRUE(c.in_loop);
	r9_run(NULL, true, &c);		/* already set: stays set */
	EXPECT_TRUE(c.in_loop);
}

/* R9, fix off: the flag is never raised (no livelock to show: see above). */
TEST(races_r09_memalloc_isolate_fix_off)
{
	struct r9 c;

	r9_run("mte_race_fix_off=R9", false, &c);
	EXPECT_TRUE(!c.in_loop);
}

/* ----------------------------------- R10 reservation under the zone lock */

/*
 * R10: the seed's compaction reserved tag storage from
 * isolate_freepages_block, with the zone lock held and preemption off; the
 * next version dropped it.  mte_race_fix_off=R10 restores it, and the
 * reservation's !preemptible() warning fires (§8.3 item 60,
 * tests/test_compaction.c).  With the fix, tested here: a reservation runs
 * only after the allocator took the page off the free lists
 * (get_page_from_freelist after rmqueue: where Linux has dropped the zone
 * lock) or from the METADATA_NONE fault, in a task's context.  At every
 * reservation (the hook) each zone's free lists agree with its free count:
 * no free-list operation is under way.
 */
struct r10 {
	struct mmsim_machine *m;
	int calls, bad_zone, no_task;
};

static bool zone_lists_settled(struct zone *z)
{
	int64_t free = 0;

	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			struct list_head *pos;

			if (mt == MIGRATE_ISOLATE)
				continue;
			list_for_each(pos, &z->free_area[o].free_list[mt])
				free += 1L << o;
		}
	return free == z->vm_stat[NR_FREE_PAGES];
}

static void r10_hook(struct mmsim_machine *m, void *ctx)
{
	struct r10 *c = ctx;

	c->calls++;
	if (!m->current)
		c->no_task++;
	for (unsigned int n = 0; n < m->nr_nodes; n++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &m->nodes[n].node_zones[zi];

			if (populated_zone(z) && !zone_lists_settled(z))
				c->bad_zone++;
		}
}

/* R10: at each reservation the free lists are settled and a task is current. */
TEST(races_r10_no_reservation_inside_the_allocator)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct r10 c = { m, 0, 0, 0 };
	static const unsigned int orders[] = { 0, 5, 9 };

	map(t, BASE, PAGE, RW);
	store8(t, BASE, 10);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	run_as(t);
	m->mte.reserve_hook = r10_hook;
	m->mte.reserve_hook_ctx = &c;
	for (unsigned int i = 0; i < 3; i++) {
		struct page *p = alloc_pages_node(m, 0, TAGGED_GFP | __GFP_COMP, orders[i]);

		ASSERT_TRUE(p != NULL);
		__free_pages(m, p, orders[i]);
	}
	EXPECT_EQ(load8(t, BASE), 10);		/* the METADATA_NONE fault */
	m->mte.reserve_hook = NULL;
	EXPECT_EQ(c.calls, 4);
	EXPECT_EQ(c.bad_zone, 0);
	EXPECT_EQ(c.no_task, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ------------------------------------- R11 a pinned page in a tag block */

/*
 * R11: P's tag page T holds a bystander's page V under a short-term pin
 * (as for DMA: not migratable while pinned):
 *
 *   [BASE] P untagged            [VICTIM] V in frame T, pinned
 *   the other 31 data pages whose tags live in T: held (fence)
 *   mprotect(BASE, PROT_MTE); access P -> reserve(P):
 *       alloc_contig_range(T) = -EBUSY, 5 tries
 *     fix: the reservation fails (fail +1); P is migrated to a page that
 *          has storage; V is untouched
 *     off: T is taken although V still lives there; P's tags land on V
 */
static int busy_events;
static struct page *fence[32];
static int nfence;

static void count_busy(void *ctx, const struct mmsim_event *ev)
{
	(void)ctx;
	(void)ev;
	busy_events++;
}

static struct mmsim_machine *r11_run(const char *args, struct mmsim_task **tp, struct mmsim_pin **pin,
				     uint64_t *pfn, uint64_t *toff, int64_t *fail)
{
	struct mmsim_machine *m = boot(args);
	struct mmsim_task *t = task(m);
	uint64_t tpfn;

	nfence = 0;
	map(t, BASE, PAGE, RW);
	map(t, VICTIM, PAGE, RW);
	store8(t, BASE, 0x1111);
	*pfn = pfn_of(m, page_at(t, BASE));
	tpfn = block_of(m, *pfn, toff);
	ASSERT_TRUE(tag_page_free(m, tpfn));
	place_on(t, VICTIM, tpfn, VBYTE);
	ASSERT_EQ(mmsim_pin(t, VICTIM, PAGE, 0, pin), 0);
	ASSERT_EQ(pfn_of(m, page_at(t, VICTIM)), tpfn);
	/*
	 * The rest of T's 32 data pages are taken, so the tagged page the
	 * fault migrates P to cannot need T too.
	 */
	drain_all_pages(m);
	for (uint64_t q = *pfn & ~31ULL; q < (*pfn & ~31ULL) + 32; q++)
		if (take_page_off_buddy(m, pfn_to_page(m, q))) {
			pfn_to_page(m, q)->refcount = 1;
			fence[nfence++] = pfn_to_page(m, q);
		}
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	*fail = mmsim_vmstat(m, "metadata_reserve_fail");
	busy_events = 0;
	ASSERT_EQ(mmsim_trace_subscribe(m, "cma:cma_alloc_busy_retry", count_busy, NULL), 0);
	EXPECT_EQ(load8(t, BASE), 0x1111);
	mmsim_trace_unsubscribe(m, count_busy, NULL);
	EXPECT_EQ(busy_events, 5);
	*tp = t;
	return m;
}

/* R11, fix on: 5 busy tries, fail +1, P migrated to a page with storage, V untouched. */
TEST(races_r11_pinned_tag_page_fix_on)
{
	struct mmsim_task *t;
	struct mmsim_pin *pin;
	uint64_t pfn, off;
	int64_t fail;
	struct mmsim_machine *m = r11_run(NULL, &t, &pin, &pfn, &off, &fail);

	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_fail") - fail, 1);
	EXPECT_NE(pfn_of(m, page_at(t, BASE)), pfn);		/* moved */
	EXPECT_TRUE(page_tag_storage_reserved(page_at(t, BASE)));
	EXPECT_EQ(get_tag(t, BASE), 0);
	EXPECT_TRUE(victim_intact(t, VICTIM, off));
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_unpin(pin);
	while (nfence)
		__free_pages(m, fence[--nfence], 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* R11, fix off: T is taken with V still in it; P's zero tags overwrite V's data (I2). */
TEST(races_r11_pinned_tag_page_fix_off)
{
	struct mmsim_task *t;
	struct mmsim_pin *pin;
	uint64_t pfn, off;
	int64_t fail;
	struct mmsim_machine *m = r11_run("mte_race_fix_off=R11", &t, &pin, &pfn, &off, &fail);

	EXPECT_EQ(pfn_of(m, page_at(t, BASE)), pfn);		/* mapped in place */
	EXPECT_EQ(load8(t, VICTIM + off), 0);			/* V's data: P's zero tags */
	expect_reported(m, "its users' shares say 2 (I2)");
	mmsim_unpin(pin);
	mmsim_machine_destroy(m);
}

/* ---------------------------------------------------------- R12 HW KASAN */

/*
 * R12: HW tag-based KASAN tags kernel allocations in atomic context, where
 * a reservation (a migration) cannot run, so tag storage is never
 * exposed: the carve-out stays reserved, tagged memory needs no
 * reservation.  The mechanism is the boot decision; there is no race to
 * switch off.
 */
TEST(races_r12_kasan_hw_keeps_storage_off)
{
	struct mmsim_machine *m = test_machine("kasan=on");
	struct mmsim_task *t = task(m);

	EXPECT_TRUE(kmsg_has(m, "KASAN HW tags enabled, disabling tag storage"));
	EXPECT_TRUE(!kmsg_has(m, "MTE tag storage enabled"));
	EXPECT_TRUE(!m->mte.storage_enabled);
	EXPECT_EQ(mmsim_vmstat(m, "nr_free_metadata"), 0);
	map(t, BASE, PAGE, RWMTE);
	set_tags(t, BASE, 5);
	EXPECT_EQ(get_tag(t, BASE + 16), 5);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success"), 0);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
	m = boot(NULL);
	EXPECT_TRUE(kmsg_has(m, "MTE tag storage enabled"));
	mmsim_machine_destroy(m);
}

/* --------------------------------------------------- R13 cache write-backs */

/*
 * R13: the model has no caches; it records the maintenance the seed does,
 * as trace events, so their order can be checked:
 *   reserve: the bystander in T is migrated out, then
 *            mte:dcache_inval_poc(T) (stale data lines dropped), then the
 *            block is marked reserved (mte:tag_block_reserve) and used;
 *   free:    mte:dcache_inval_tags_poc(P) (P's dirty tag lines dropped)
 *            before mte:tag_block_free(T) gives T back as data memory.
 * A missing invalidation would corrupt nothing in the model, so there is
 * no fix-off variant.
 */
struct ev_log {
	int n;
	char name[64][48];
	uint64_t pfn[64];
};

static void log_event(void *ctx, const struct mmsim_event *ev)
{
	struct ev_log *l = ctx;

	if (l->n == 64)
		return;
	snprintf(l->name[l->n], sizeof(l->name[0]), "%s", ev->name);
	l->pfn[l->n++] = ev->pfn;
}

static int find_event(const struct ev_log *l, const char *name, uint64_t pfn)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->name[i], name) && (pfn == ~0ULL || l->pfn[i] == pfn))
			return i;
	return -1;
}

/* R13: the order of the invalidations around one reservation and one release. */
TEST(races_r13_cache_maintenance_order)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m);
	struct ev_log *l = calloc(1, sizeof(*l));
	uint64_t pfn, tpfn;
	int mig, inval, resv, tinval, rel;

	ASSERT_TRUE(l != NULL);
	map(t, BASE, PAGE, RW);
	map(t, VICTIM, PAGE, RW);
	store8(t, BASE, 13);
	pfn = pfn_of(m, page_at(t, BASE));
	tpfn = block_of(m, pfn, NULL);
	ASSERT_TRUE(tag_page_free(m, tpfn));
	place_on(t, VICTIM, tpfn, VBYTE);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	ASSERT_EQ(mmsim_trace_subscribe(m, "mte:*", log_event, l), 0);
	ASSERT_EQ(mmsim_trace_subscribe(m, "migrate:*", log_event, l), 0);
	EXPECT_EQ(load8(t, BASE), 13);
	ASSERT_EQ(mmsim_munmap(t, BASE, PAGE), 0);
	mmsim_trace_unsubscribe(m, log_event, l);
	mig = find_event(l, "migrate:mm_migrate_pages", ~0ULL);
	inval = find_event(l, "mte:dcache_inval_poc", tpfn);
	resv = find_event(l, "mte:tag_block_reserve", tpfn);
	tinval = find_event(l, "mte:dcache_inval_tags_poc", pfn);
	rel = find_event(l, "mte:tag_block_free", tpfn);
	EXPECT_GE(mig, 0);
	EXPECT_GT(inval, mig);
	EXPECT_GT(resv, inval);
	EXPECT_GT(tinval, resv);
	EXPECT_GT(rel, tinval);
	EXPECT_TRUE(victim_intact(t, VICTIM, 0));
	ASSERT_CONSISTENT(m);
	free(l);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------ R14 COW and page_count */

/*
 * R14 (spec §8.4 65): mprotect(PROT_MTE) marks a page METADATA_NONE even when its
 * page_count is above one (on the LRU, or shared copy-on-write after
 * fork), which NUMA's prot_numa would skip.  Reserving for a page that is
 * then copied is harmless; leaving it mapped untagged would be wrong.
 *
 *   parent [BASE] RW: S; fork: the child shares S (mapcount 2)
 *   parent mprotect(PROT_MTE): S -> METADATA_NONE (child's PTE unchanged)
 *   parent reads: reserve S, map it tagged, read-only (still COW)
 *   parent STG: COW copy into a tagged allocation; the child keeps S
 *
 * The rule lives in mm/mprotect.c (metadata_none_pte), which this test's
 * files do not switch: fix on only.
 */
TEST(spec_8_4_65_r14_cow_shared_page_marked)
{
	struct mmsim_machine *m = boot(NULL);
	struct mmsim_task *t = task(m), *c = NULL;
	struct page *s;

	map(t, BASE, PAGE, RW);
	store8(t, BASE, 14);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	s = page_at(t, BASE);
	ASSERT_EQ(s->mapcount, 2);
	ASSERT_GT(s->refcount, 1);
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	EXPECT_TRUE(pte_metadata_none(pte_at(t, BASE)));
	EXPECT_TRUE(pte_valid(pte_at(c, BASE)) && !pte_tagged(pte_at(c, BASE)));
	EXPECT_EQ(load8(t, BASE), 14);
	EXPECT_EQ(page_at(t, BASE), s);
	EXPECT_TRUE(page_tag_storage_reserved(s) && (s->flags & PG_mte_tagged));
	set_tags(t, BASE, 0xe);
	EXPECT_NE(page_at(t, BASE), s);
	EXPECT_EQ(get_tag(t, BASE + 32), 0xe);
	EXPECT_EQ(load8(t, BASE), 14);
	EXPECT_EQ(page_at(c, BASE), s);
	EXPECT_EQ(load8(c, BASE), 14);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ====================================================== §6.6 latent issues */

/*
 * §6.6 #2 (spec §8.4 72): do_metadata_none_page's isolate branch computes
 * a retry and returns 0 (as written); fixed, the first try returns
 * VM_FAULT_RETRY with the fault lock released, the second
 * (FAULT_FLAG_TRIED) 0.  Either way nothing is reserved and the PTE stays.  The PMD
 * handler's double put_page is not modelled (no PMD METADATA_NONE path).
 *
 *   [BASE] P (MOVABLE pageblock); mprotect(PROT_MTE); pageblock -> ISOLATE
 *   handle_mm_fault(P): written: 0     fixed: RETRY, then 0 with TRIED
 */
static void latent2(const char *args, vm_fault_t want)
{
	struct mmsim_machine *m = boot(args);
	struct mmsim_task *t = task(m);
	struct vm_area_struct *vma;
	int64_t success, fail;
	pteval_t marked;
	uint64_t pfn;

	map(t, BASE, PAGE, RW);
	store8(t, BASE, 2);
	pfn = pfn_of(m, page_at(t, BASE));
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, RWMTE), 0);
	ASSERT_EQ(get_pageblock_migratetype(m, pfn), MIGRATE_MOVABLE);
	move_freepages_block(m, pfn, MIGRATE_ISOLATE);
	vma = vma_lookup(t->mm, BASE);
	marked = pte_at(t, BASE);
	success = mmsim_vmstat(m, "metadata_reserve_success");
	fail = mmsim_vmstat(m, "metadata_reserve_fail");
	run_as(t);
	EXPECT_EQ(fault_locked(t, vma, BASE, FAULT_FLAG_USER), want);
	EXPECT_EQ(pte_at(t, BASE), marked);
	EXPECT_EQ(fault_locked(t, vma, BASE, FAULT_FLAG_USER | FAULT_FLAG_TRIED), 0);
	EXPECT_EQ(pte_at(t, BASE), marked);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success"), success);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_fail"), fail);
	EXPECT_TRUE(!page_tag_storage_reserved(pfn_to_page(m, pfn)));
	ASSERT_CONSISTENT(m);
	move_freepages_block(m, pfn, MIGRATE_MOVABLE);
	EXPECT_EQ(m->fault_contract_violations, 0);
	EXPECT_EQ(load8(t, BASE), 2);
	EXPECT_EQ(get_tag(t, BASE), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* §6.6 #2 as written: the isolate branch returns 0. */
TEST(spec_8_4_72_latent_02_isolate_branch_as_written)
{
	latent2("mte_fixes=off", 0);
}

/* §6.6 #2 fixed: VM_FAULT_RETRY first, 0 on the retry. */
TEST(spec_8_4_72_latent_02_isolate_branch_fixed)
{
	latent2(NULL, VM_FAULT_RETRY);
}

/*
 * §6.6 #5: order_to_num_blocks ignores block_size.  With 2-page blocks
 * (tests/dt/race-bs2.dts) an order-6 allocation (64 pages, exactly one
 * block's worth) reserves 2 blocks as written, 1 fixed; freeing gives
 * back what was taken, so nothing leaks either way.
 */
static void latent5(const char *args, int64_t want_pages)
{
	struct mmsim_machine *m = boot_dt("tests/dt/race-bs2.dts", 0, args);
	int64_t success = mmsim_vmstat(m, "metadata_reserve_success");
	int64_t freed = mmsim_vmstat(m, "metadata_reserve_free");
	struct page *p;
	uint64_t block;

	ASSERT_TRUE(m->mte.storage_enabled);
	ASSERT_EQ(m->mte.regions[0].block_size, 2);
	p = alloc_pages_node(m, 0, TAGGED_GFP | __GFP_COMP, 6);
	ASSERT_TRUE(p != NULL);
	block = block_of(m, pfn_of(m, p), NULL);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success") - success, want_pages);
	EXPECT_EQ(pfn_to_page(m, block)->refcount, 65);
	EXPECT_EQ(block_reserved(m, block + 2), want_pages == 4);
	if (want_pages == 4)
		EXPECT_EQ(pfn_to_page(m, block + 2)->refcount, 65);	/* +64 each */
	ASSERT_CONSISTENT(m);
	__free_pages(m, p, 6);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_free") - freed, want_pages);
	EXPECT_TRUE(!block_reserved(m, block) && !block_reserved(m, block + 2));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* §6.6 #5 (spec §8.3 item 51) as written: 2 blocks (4 tag pages) for 64 pages. */
TEST(races_latent_05_8_3_51_bs2_order6_as_written)
{
	latent5("mte_fixes=off", 4);
}

/* §6.6 #5 (spec §8.3 item 51) fixed: 1 block (2 tag pages). */
TEST(races_latent_05_8_3_51_bs2_order6_fixed)
{
	latent5(NULL, 2);
}

/*
 * §6.6 #6: a page no tag storage region covers.  As written
 * reserve_metadata_storage returns 0 without PG_tag_storage_reserved, so
 * set_pte_at maps it METADATA_NONE at every fault: the access never
 * completes (the model gives up after 8 faults with SIGBUS and "BUG:
 * unresolvable fault").  Fixed, such memory needs no reservation.  The
 * machine is the built-in one plus 256 MiB at 4 GiB that no region covers
 * (ZONE_NORMAL, which allocations try first); the tree is written to a
 * temporary file.
 */
static struct mmsim_machine *boot_uncovered(const char *args)
{
	const char *dts = mmsim_default_dts(), *chosen = strstr(dts, "\tchosen {");
	char path[] = "/tmp/mmsim-races-XXXXXX.dts";
	struct mmsim_machine *m;
	int fd = mkstemps(path, 4);
	FILE *f;

	ASSERT_TRUE(chosen != NULL && fd >= 0);
	f = fdopen(fd, "w");
	ASSERT_TRUE(f != NULL);
	fwrite(dts, 1, (size_t)(chosen - dts), f);
	fputs("\tmemory1: memory@100000000 {\n\t\tdevice_type = \"memory\";\n"
	      "\t\treg = <0x1 0x0 0x0 0x10000000>;\n\t};\n\n", f);
	fputs(chosen, f);
	fclose(f);
	m = boot_dt(path, 0, args);
	unlink(path);
	ASSERT_TRUE(m->mte.storage_enabled);
	return m;
}

static uint64_t uncovered_pfn(struct mmsim_task *t)
{
	uint64_t block;
	const struct tag_region *r;
	uint64_t pfn = pte_pfn(pte_at(t, BASE));

	ASSERT_NE(tag_storage_find_block(t->machine, pfn, &block, &r), 0);
	return pfn;
}

/* §6.6 #6 as written: the access never completes. */
TEST(races_latent_06_uncovered_page_as_written)
{
	struct mmsim_machine *m = boot_uncovered("mte_fixes=off");
	struct mmsim_task *t = task(m);
	struct mmsim_siginfo si;
	uint64_t v = 6;

	map(t, BASE, PAGE, RWMTE);
	EXPECT_EQ(mmsim_store(t, BASE, &v, 8, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.signo, MMSIM_SIGBUS);
	EXPECT_TRUE(kmsg_has(m, "BUG: unresolvable fault"));
	uncovered_pfn(t);
	EXPECT_TRUE(pte_metadata_none(pte_at(t, BASE)));
	EXPECT_TRUE(!page_tag_storage_reserved(page_at(t, BASE)));
	mmsim_machine_destroy(m);
}

/* §6.6 #6 fixed: the page is mapped tagged at once. */
TEST(races_latent_06_uncovered_page_fixed)
{
	struct mmsim_machine *m = boot_uncovered(NULL);
	struct mmsim_task *t = task(m);

	map(t, BASE, PAGE, RWMTE);
	store8(t, BASE, 6);
	uncovered_pfn(t);
	EXPECT_TRUE(page_tag_storage_reserved(page_at(t, BASE)));
	EXPECT_TRUE(page_at(t, BASE)->flags & PG_mte_tagged);
	set_tags(t, BASE, 4);
	EXPECT_EQ(get_tag(t, BASE + 64), 4);
	EXPECT_EQ(load8(t, TAGGED(BASE, 4)), 6);
	EXPECT_TRUE(!kmsg_has(m, "BUG: unresolvable fault"));
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §6.6 #7: a __GFP_TAGGED allocation freed before it was tagged (no
 * __GFP_ZERO, never mapped - a migration destination whose migration
 * failed).  As written the free path keys on PG_mte_tagged and the block
 * keeps the share: I2 reports a block reserved for nobody.  Fixed, it keys
 * on the reservation.
 */
static struct mmsim_machine *latent7(const char *args, uint64_t *block)
{
	struct mmsim_machine *m = boot(args);
	struct page *p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE | __GFP_TAGGED, 0);

	ASSERT_TRUE(p != NULL);
	ASSERT_TRUE(page_tag_storage_reserved(p) && !(p->flags & PG_mte_tagged));
	*block = block_of(m, pfn_of(m, p), NULL);
	ASSERT_EQ(pfn_to_page(m, *block)->refcount, 2);
	ASSERT_CONSISTENT(m);
	__free_pages(m, p, 0);
	return m;
}

/* §6.6 #7 (spec §8.3 item 58) as written: the block keeps the freed page's share (I2). */
TEST(races_latent_07_8_3_58_tagged_alloc_freed_untagged_as_written)
{
	uint64_t block;
	struct mmsim_machine *m = latent7("mte_fixes=off", &block);

	EXPECT_TRUE(block_reserved(m, block));
	EXPECT_EQ(pfn_to_page(m, block)->refcount, 2);
	expect_reported(m, "is reserved but 0 allocations' shares use it (I2)");
	mmsim_machine_destroy(m);
}

/* §6.6 #7 (spec §8.3 item 58) fixed: the share goes with the page. */
TEST(races_latent_07_8_3_58_tagged_alloc_freed_untagged_fixed)
{
	uint64_t block;
	struct mmsim_machine *m = latent7(NULL, &block);

	EXPECT_TRUE(!block_reserved(m, block));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * §6.6 #8: tags saved by pfn for a page freed untagged.  copy_highpage
 * into D (no storage) saves S's tags under D's pfn; D is freed before it
 * was ever mapped tagged.  As written the entry stays; the next user of
 * that frame, once mapped PROT_MTE, gets the old owner's tags instead of
 * zeros.  Fixed, freeing D purges the entry.
 *
 *   S tagged (tags 7); D untagged; copy_highpage(D, S); free(D)
 *   fault [BASE+PAGE] RW -> D again; mprotect(PROT_MTE); LDG
 */
static void latent8(const char *args, unsigned int want_tag, uint64_t want_entries)
{
	struct mmsim_machine *m = boot(args);
	struct mmsim_task *t = task(m);
	struct page *s, *d;
	uint64_t dpfn;

	map(t, BASE, 2 * PAGE, RW);
	store8(t, BASE, 8);
	s = alloc_pages_node(m, 0, TAGGED_GFP, 0);
	ASSERT_TRUE(s != NULL);
	for (unsigned int g = 0; g < MTE_GRANULES_PER_PAGE; g++)
		mte_set_granule_tag(m, pfn_of(m, s), g, 7);
	d = alloc_untagged(m, block_of(m, pfn_of(m, s), NULL), 0);
	dpfn = pfn_of(m, d);
	copy_highpage(m, d, s);
	ASSERT_TRUE(tagbuf_load(&m->mte.tags_by_pfn, dpfn) != NULL);
	__free_pages(m, d, 0);
	EXPECT_EQ(m->mte.tags_by_pfn.nr, want_entries);
	store8(t, BASE + PAGE, 88);
	ASSERT_EQ(pfn_of(m, page_at(t, BASE + PAGE)), dpfn);
	ASSERT_EQ(mmsim_mprotect(t, BASE + PAGE, PAGE, RWMTE), 0);
	EXPECT_EQ(get_tag(t, BASE + PAGE), want_tag);
	EXPECT_EQ(load8(t, BASE + PAGE), 88);
	EXPECT_EQ(m->mte.tags_by_pfn.nr, 0);
	__free_pages(m, s, 0);
	EXPECT_EQ(m->mte.bad_tag_writes, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* §6.6 #8 as written: the next user of the frame gets tags 7. */
TEST(races_latent_08_stale_pfn_tags_as_written)
{
	latent8("mte_fixes=off", 7, 1);
}

/* §6.6 #8 fixed: the next user of the frame gets zero tags. */
TEST(races_latent_08_stale_pfn_tags_fixed)
{
	latent8(NULL, 0, 0);
}

/*
 * §6.6 #9: the pcp test for METADATA is compile time as written.  With
 * the rfc-v1 policy built but storage off at run time (kasan=on), every
 * movable order-0 allocation bypasses the pcp lists as written; fixed, it
 * uses them.  Shown by the pcp count: a page freed to the pcp list is
 * taken back from it (fixed) or left there (as written).
 */
static void latent9(const char *args, bool want_pcp)
{
	struct mmsim_machine *m = test_machine(args);
	struct page *p, *q;
	struct per_cpu_pages *pcp;
	int before;

	ASSERT_TRUE(!m->mte.storage_enabled && m->mte.policy == TS_POLICY_RFC_V1);
	p = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE, 0);
	ASSERT_TRUE(p != NULL);
	pcp = &page_zone(m, p)->pcp[m->this_cpu];
	__free_pages(m, p, 0);
	before = pcp->count;
	ASSERT_GT(before, 0);
	q = alloc_pages_node(m, 0, GFP_HIGHUSER_MOVABLE, 0);
	ASSERT_TRUE(q != NULL);
	EXPECT_EQ(pcp->count, want_pcp ? before - 1 : before);
	EXPECT_EQ(q == p, want_pcp);
	__free_pages(m, q, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* §6.6 #9 as written: the pcp list is bypassed. */
TEST(races_latent_09_pcp_bypass_as_written)
{
	latent9("kasan=on mte_fixes=off", false);
}

/* §6.6 #9 fixed: the pcp list is used. */
TEST(races_latent_09_pcp_bypass_fixed)
{
	latent9("kasan=on", true);
}
