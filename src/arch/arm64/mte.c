// SPDX-License-Identifier: MIT
/*
 * arch/arm64/mte.c - allocation tags: where they are, how they are read and
 * written, and when the kernel initialises, copies and saves them.
 *
 * See mte.h for the storage layout.  Three rules of Linux are kept here:
 *  - a page's tags are set up (zeroed, or restored from a saved copy) the
 *    first time it is mapped with the Normal-Tagged attribute: mte_sync_tags,
 *    called from set_pte_at;
 *  - copying a tagged page copies its tags (COW, migration, fork's copy);
 *  - with dynamic tag storage, tags are written only to storage that is
 *    reserved for them: a page without reserved storage is mapped
 *    PAGE_METADATA_NONE and its tags wait in tags_by_pfn (spec §4.7, §5.2).
 * A tag write that still reaches unreserved storage is a corruption: it is
 * performed (the data in that tag page really changes) and counted.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "mm/internal.h"

/* ------------------------------------------------------- where tags live */

static const struct tag_region *region_of(struct mmsim_machine *m, uint64_t pfn)
{
	for (unsigned int i = 0; i < m->mte.nr_regions; i++) {
		const struct tag_region *r = &m->mte.regions[i];

		if (pfn >= r->mem_start && pfn <= r->mem_end)
			return r;
	}
	return NULL;
}

/* Hardware-owned tag RAM for memory no region covers: 1/32 of the span. */
static uint8_t *hidden_tags(struct mmsim_machine *m, uint64_t pfn)
{
	if (!m->mte.hidden_tags) {
		uint64_t bytes = (m->max_pfn - m->min_pfn) * MTE_PAGE_TAG_STORAGE_SIZE;
		void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED)
			return NULL;
		m->mte.hidden_tags = p;
		m->mte.hidden_bytes = bytes;
	}
	return m->mte.hidden_tags + (pfn - m->min_pfn) * MTE_PAGE_TAG_STORAGE_SIZE;
}

uint8_t *mte_page_tags(struct mmsim_machine *m, uint64_t pfn, uint64_t *tag_pfn)
{
	const struct tag_region *r = region_of(m, pfn);
	uint64_t off;

	if (!r) {
		if (tag_pfn)
			*tag_pfn = 0;
		return hidden_tags(m, pfn);
	}
	off = pfn - r->mem_start;
	if (tag_pfn)
		*tag_pfn = r->tag_start + off / 32;
	return pfn_to_virt(m, r->tag_start + off / 32) + (off % 32) * MTE_PAGE_TAG_STORAGE_SIZE;
}

/*
 * May the tags of data frame pfn be written?  Storage outside any region,
 * boot-reserved carve-out (static policy) and reserved tag blocks may; a tag
 * page the allocator could have handed out as data may not.
 */
static bool tag_write_allowed(struct mmsim_machine *m, uint64_t tag_pfn)
{
	struct page *tp;

	if (!tag_pfn)
		return true;
	tp = pfn_to_page(m, tag_pfn);
	return (tp->flags & (PG_reserved | PG_tag_block)) != 0;
}

/* Every tag store goes through here, so a write to data is always seen. */
static uint8_t *tags_for_write(struct mmsim_machine *m, uint64_t pfn)
{
	uint64_t tag_pfn;
	uint8_t *t = mte_page_tags(m, pfn, &tag_pfn);

	if (!tag_write_allowed(m, tag_pfn)) {
		if (!m->mte.bad_tag_writes++)
			m->mte.first_bad_tag_pfn = pfn;
		printk(m, "BUG: tags of pfn 0x%llx written to tag page 0x%llx, which is not reserved tag storage",
		       (unsigned long long)pfn, (unsigned long long)tag_pfn);
		TRACE(m, "mte:bad_tag_write", (int)smp_processor_id(m), -1, 0, pfn, 0, "pfn=0x%llx tag_pfn=0x%llx",
		      (unsigned long long)pfn, (unsigned long long)tag_pfn);
	}
	return t;
}

unsigned int mte_get_granule_tag(struct mmsim_machine *m, uint64_t pfn, unsigned int granule)
{
	const uint8_t *t = mte_page_tags(m, pfn, NULL);

	if (!t)
		return 0;
	return (t[granule / 2] >> ((granule & 1) * 4)) & 0xf;
}

void mte_set_granule_tag(struct mmsim_machine *m, uint64_t pfn, unsigned int granule, unsigned int tag)
{
	uint8_t *t = tags_for_write(m, pfn);
	unsigned int shift = (granule & 1) * 4;

	if (t)
		t[granule / 2] = (uint8_t)((t[granule / 2] & ~(0xf << shift)) | ((tag & 0xf) << shift));
}

void mte_copy_tags_out(struct mmsim_machine *m, struct page *p, uint8_t *buf)
{
	const uint8_t *t = mte_page_tags(m, page_to_pfn(m, p), NULL);

	if (t)
		memcpy(buf, t, MTE_PAGE_TAG_STORAGE_SIZE);
	else
		memset(buf, 0, MTE_PAGE_TAG_STORAGE_SIZE);
}

void mte_copy_tags_in(struct mmsim_machine *m, struct page *p, const uint8_t *buf)
{
	uint8_t *t = tags_for_write(m, page_to_pfn(m, p));

	if (t)
		memcpy(t, buf, MTE_PAGE_TAG_STORAGE_SIZE);
}

void mte_clear_page_tags(struct mmsim_machine *m, struct page *p)
{
	static const uint8_t zero[MTE_PAGE_TAG_STORAGE_SIZE];

	mte_copy_tags_in(m, p, zero);
	charge(m, COST_TAG_CLEAR);
}

void mte_copy_page_tags(struct mmsim_machine *m, struct page *to, struct page *from)
{
	uint8_t buf[MTE_PAGE_TAG_STORAGE_SIZE];

	mte_copy_tags_out(m, from, buf);
	mte_copy_tags_in(m, to, buf);
}

/* ------------------------------------------------ 128-byte tag buffers */

/*
 * mte_should_failslab - the fault injection behind the tag buffers'
 * kmalloc(MTE_PAGE_TAG_STORAGE_SIZE): true, logged as Linux's fail_dump
 * does, and one use of the budget gone, while mte.failslab_times is
 * non-zero.
 */
bool mte_should_failslab(struct mmsim_machine *m)
{
	if (!m->mte.failslab_times)
		return false;
	/* fail_dump's first line, with the attributes this knob stands for. */
	printk(m, "FAULT_INJECTION: forcing a failure. name failslab, interval 1, probability 100, space 0, times %u",
	       m->mte.failslab_times);
	m->mte.failslab_times--;
	return true;
}

static uint64_t tagbuf_hash(uint64_t key, uint64_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return key & (cap - 1);
}

static int tagbuf_grow(struct tagbuf_map *map)
{
	uint64_t cap = map->cap ? map->cap * 2 : 64;
	uint64_t *keys = calloc(cap, sizeof(*keys));
	uint8_t **bufs = calloc(cap, sizeof(*bufs));

	if (!keys || !bufs) {
		free(keys);
		free(bufs);
		return -MMSIM_ENOMEM;
	}
	for (uint64_t i = 0; i < map->cap; i++) {
		uint64_t h;

		if (!map->keys[i])
			continue;
		for (h = tagbuf_hash(map->keys[i] - 1, cap); keys[h]; h = (h + 1) & (cap - 1))
			;
		keys[h] = map->keys[i];
		bufs[h] = map->bufs[i];
	}
	free(map->keys);
	free(map->bufs);
	map->keys = keys;
	map->bufs = bufs;
	map->cap = cap;
	return 0;
}

static int64_t tagbuf_find(const struct tagbuf_map *map, uint64_t key)
{
	if (!map->cap)
		return -1;
	for (uint64_t h = tagbuf_hash(key, map->cap); map->keys[h]; h = (h + 1) & (map->cap - 1))
		if (map->keys[h] == key + 1)
			return (int64_t)h;
	return -1;
}

/* Store a copy of tags under key, replacing (and freeing) an older copy. */
int tagbuf_store(struct tagbuf_map *map, uint64_t key, const uint8_t *tags)
{
	int64_t i = tagbuf_find(map, key);
	uint8_t *buf;
	uint64_t h;

	if (i >= 0) {
		memcpy(map->bufs[i], tags, MTE_PAGE_TAG_STORAGE_SIZE);
		return 0;
	}
	if ((map->nr + 1) * 2 > map->cap && tagbuf_grow(map))
		return -MMSIM_ENOMEM;
	buf = malloc(MTE_PAGE_TAG_STORAGE_SIZE);
	if (!buf)
		return -MMSIM_ENOMEM;
	memcpy(buf, tags, MTE_PAGE_TAG_STORAGE_SIZE);
	for (h = tagbuf_hash(key, map->cap); map->keys[h]; h = (h + 1) & (map->cap - 1))
		;
	map->keys[h] = key + 1;
	map->bufs[h] = buf;
	map->nr++;
	return 0;
}

uint8_t *tagbuf_load(struct tagbuf_map *map, uint64_t key)
{
	int64_t i = tagbuf_find(map, key);

	return i >= 0 ? map->bufs[i] : NULL;
}

/* Remove key; its tags go to out (if not NULL).  False if it was absent. */
bool tagbuf_erase(struct tagbuf_map *map, uint64_t key, uint8_t *out)
{
	int64_t i = tagbuf_find(map, key);
	uint64_t j;

	if (i < 0)
		return false;
	if (out)
		memcpy(out, map->bufs[i], MTE_PAGE_TAG_STORAGE_SIZE);
	free(map->bufs[i]);
	map->keys[i] = 0;
	map->bufs[i] = NULL;
	map->nr--;
	/* Re-insert the rest of the probe run so lookups still find them. */
	for (j = ((uint64_t)i + 1) & (map->cap - 1); map->keys[j]; j = (j + 1) & (map->cap - 1)) {
		uint64_t k = map->keys[j], h;
		uint8_t *b = map->bufs[j];

		map->keys[j] = 0;
		map->bufs[j] = NULL;
		for (h = tagbuf_hash(k - 1, map->cap); map->keys[h]; h = (h + 1) & (map->cap - 1))
			;
		map->keys[h] = k;
		map->bufs[h] = b;
	}
	return true;
}

void tagbuf_free_all(struct tagbuf_map *map)
{
	for (uint64_t i = 0; i < map->cap; i++)
		free(map->bufs[i]);
	free(map->keys);
	free(map->bufs);
	memset(map, 0, sizeof(*map));
}

/* ------------------------------------------------- kernel tag handling */

static bool storage_enabled(struct mmsim_machine *m)
{
	return m->mte.storage_enabled;
}

/* A page whose tags may be written now: storage reserved, or none needed. */
static bool page_tag_writable(struct mmsim_machine *m, struct page *p)
{
	return !storage_enabled(m) || page_tag_storage_reserved(p);
}

/*
 * set_page_mte_tagged - the page's tags are now valid.  Invariant I1: with
 * dynamic storage, only a page with reserved storage may become tagged.
 */
void set_page_mte_tagged(struct mmsim_machine *m, struct page *p)
{
	if (storage_enabled(m) && !page_tag_storage_reserved(p) && !(m->mte.warned_once & 1)) {
		m->mte.warned_once |= 1;
		printk(m, "WARNING: set_page_mte_tagged: pfn 0x%llx has no reserved tag storage",
		       (unsigned long long)page_to_pfn(m, p));
	}
	p->flags |= PG_mte_tagged;
}

/*
 * tag_clear_highpage - zero a page and, for a tagged allocation, its tags
 * (§4.8, §3.9): without reserved storage the zero tags are saved by PFN
 * instead and the page stays untagged until it is mapped with storage.
 */
void tag_clear_highpage(struct mmsim_machine *m, struct page *p)
{
	static const uint8_t zero[MTE_PAGE_TAG_STORAGE_SIZE];
	uint64_t pfn = page_to_pfn(m, p);

	memset(page_address(m, p), 0, PAGE_SIZE);
	if (get_pageblock_migratetype(m, pfn) == MIGRATE_METADATA && !(m->mte.warned_once & 2)) {
		m->mte.warned_once |= 2;
		printk(m, "WARNING: tag_clear_highpage: pfn 0x%llx is tag storage", (unsigned long long)pfn);
	}
	/* R8: a fatal signal left the page without storage; without the fix its zero tags are written anyway. */
	if (!page_tag_writable(m, p) && !MTE_FIX_OFF(m, 8)) {
		tagbuf_store(&m->mte.tags_by_pfn, pfn, zero);
		return;
	}
	mte_clear_page_tags(m, p);
	set_page_mte_tagged(m, p);
}

/*
 * copy_highpage - copy data, and tags when the source is tagged (§5.4): a
 * destination without reserved storage gets them saved by its PFN and stays
 * untagged, to be restored when it is mapped with storage.
 */
void copy_highpage(struct mmsim_machine *m, struct page *to, struct page *from)
{
	uint8_t buf[MTE_PAGE_TAG_STORAGE_SIZE];

	memcpy(page_address(m, to), page_address(m, from), PAGE_SIZE);
	if (!m->mte.supported)
		return;
	if (!(from->flags & PG_mte_tagged)) {
		uint8_t *saved;

		/*
		 * Tags still waiting under from's PFN (it was copied or swapped
		 * in without storage and not mapped tagged since) go along with
		 * the data, or a second migration - compaction moving the page
		 * again, alloc_contig_range emptying a tag block - loses them.
		 * The seed as written (mte_fixes=off) leaves them behind.
		 */
		if (m->mte.fixed && storage_enabled(m) &&
		    (saved = tagbuf_load(&m->mte.tags_by_pfn, page_to_pfn(m, from))))
			tagbuf_store(&m->mte.tags_by_pfn, page_to_pfn(m, to), saved);
		return;
	}
	mte_copy_tags_out(m, from, buf);
	/* R1/R3: without the fix the tags go where the destination's tags live, reserved or not. */
	if (!page_tag_writable(m, to) && !MTE_FIX_OFF(m, 1) && !MTE_FIX_OFF(m, 3)) {
		tagbuf_store(&m->mte.tags_by_pfn, page_to_pfn(m, to), buf);
		return;
	}
	mte_copy_tags_in(m, to, buf);
	set_page_mte_tagged(m, to);
}

/*
 * mte_sync_tags - set_pte_at of a tagged, accessible, non-special PTE.  A
 * page without reserved storage is mapped PAGE_METADATA_NONE instead (§4.7);
 * a page mapped tagged for the first time gets its saved tags back, or zero
 * tags.
 */
void mte_sync_tags(struct mmsim_machine *m, pteval_t *pte)
{
	struct page *p;
	uint8_t buf[MTE_PAGE_TAG_STORAGE_SIZE];
	uint64_t pfn = pte_pfn(*pte);

	if (!pfn_valid(m, pfn))
		return;
	p = pfn_to_page(m, pfn);
	/* R4: without the fix a page lacking storage is mapped tagged regardless. */
	if (storage_enabled(m) && !page_tag_storage_reserved(p) && !MTE_FIX_OFF(m, 4)) {
		*pte = pte_modify(*pte, PAGE_METADATA_NONE);
		return;
	}
	if (p->flags & PG_mte_tagged)
		return;
	if (storage_enabled(m) && tagbuf_erase(&m->mte.tags_by_pfn, pfn, buf))
		mte_copy_tags_in(m, p, buf);
	else
		mte_clear_page_tags(m, p);
	set_page_mte_tagged(m, p);
}
