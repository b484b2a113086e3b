// SPDX-License-Identifier: MIT
/*
 * arch/arm64/mteswap.c - MTE tags across swap (spec §5.1-§5.3).
 *
 * Design.  A swap device stores data only, so the 128 tag bytes of a
 * tagged page are kept in m->mte.tags_by_swp_entry under the swap entry's
 * value while the page is out (arch_prepare_to_swap), and put back when a
 * page is read in for that entry (arch_swap_restore).  The copy lives as
 * long as the slot: freeing a slot erases it (arch_swap_invalidate_page),
 * switching the device off erases all of its type (..._area).
 *
 * With dynamic tag storage, a page read in without reserved storage
 * cannot take tags (its tag block may be someone's data): §5.3's
 * arch_swap_prepare_to_restore then copies them to tags_by_pfn under the
 * new page's pfn, and restore leaves the page untagged; mapping it with
 * PROT_MTE later reserves storage and consumes that copy (mte_sync_tags).
 */
#include "mm/swap.h"

/*
 * arch_prepare_to_swap - mte_save_page_tags_by_swp_entry for p, which is
 * in the swap cache (page->private = entry).  An untagged page saves
 * nothing.  Returns 0 or -ENOMEM (the page then stays in memory).
 */
int arch_prepare_to_swap(struct mmsim_machine *m, struct page *p)
{
	uint8_t tags[MTE_PAGE_TAG_STORAGE_SIZE];

	if (!m->mte.supported || !(p->flags & PG_mte_tagged))
		return 0;
	mte_copy_tags_out(m, p, tags);
	/* tagbuf_store replaces (and frees) an older copy under the same key. */
	if (mte_should_failslab(m) || tagbuf_store(&m->mte.tags_by_swp_entry, p->private, tags)) {
		printk(m, "WARNING: mte: cannot save the tags of pfn 0x%llx for swap",
		       (unsigned long long)page_to_pfn(m, p));
		return -MMSIM_ENOMEM;
	}
	return 0;
}

/*
 * arch_swap_prepare_to_restore - §5.3: before mapping a page read for e.
 * Nothing to do without dynamic storage, for a page already tagged or
 * with reserved storage, or when e saved no tags; otherwise the tags are
 * copied to tags_by_pfn[pfn of p].  Returns 0 or -ENOMEM.
 */
int arch_swap_prepare_to_restore(struct mmsim_machine *m, swp_entry_t e, struct page *p)
{
	uint8_t *tags;

	if (!m->mte.storage_enabled || (p->flags & PG_mte_tagged) || page_tag_storage_reserved(p))
		return 0;
	tags = tagbuf_load(&m->mte.tags_by_swp_entry, e.val);
	if (!tags)
		return 0;
	/* The copy is a kmalloc of its own, which may fail. */
	if (mte_should_failslab(m))
		return -MMSIM_ENOMEM;
	return tagbuf_store(&m->mte.tags_by_pfn, page_to_pfn(m, p), tags) ? -MMSIM_ENOMEM : 0;
}

/*
 * arch_swap_restore - §5.1 restore: the tags saved for e go back into p
 * and p becomes tagged, unless p lacks reserved storage (prepare saved
 * them by pfn) or is already tagged (try_page_mte_tagging fails: its tags
 * are not overwritten).  Done whether or not the mapping is PROT_MTE, so
 * a later mprotect(PROT_MTE) finds the right tags.
 */
void arch_swap_restore(struct mmsim_machine *m, swp_entry_t e, struct page *p)
{
	uint8_t *tags;

	if (!m->mte.supported)
		return;
	tags = tagbuf_load(&m->mte.tags_by_swp_entry, e.val);
	if (!tags)
		return;
	/* R2: without the fix the tags go into the new page's unreserved tag storage. */
	if (m->mte.storage_enabled && !page_tag_storage_reserved(p) && !MTE_FIX_OFF(m, 2))
		return;
	if (p->flags & PG_mte_tagged)
		return;
	mte_copy_tags_in(m, p, tags);
	/* Storage is reserved or static here, so the page may be tagged. */
	p->flags |= PG_mte_tagged;
}

/* A slot was freed: its saved tags go with it. */
void arch_swap_invalidate_page(struct mmsim_machine *m, unsigned int type, uint64_t offset)
{
	uint8_t tags[MTE_PAGE_TAG_STORAGE_SIZE];

	tagbuf_erase(&m->mte.tags_by_swp_entry, swp_entry(type, offset).val, tags);
}

/* swapoff of a device: every saved tag buffer of its type goes. */
void arch_swap_invalidate_area(struct mmsim_machine *m, unsigned int type)
{
	struct tagbuf_map *map = &m->mte.tags_by_swp_entry;
	uint64_t lo = swp_entry(type, 0).val, hi = swp_entry(type + 1, 0).val;
	uint8_t tags[MTE_PAGE_TAG_STORAGE_SIZE];
	bool again = true;

	/* Erasing may reorder the table, so rescan until a pass erases nothing. */
	while (again) {
		again = false;
		for (uint64_t i = 0; i < map->cap; i++) {
			uint64_t key;

			if (!map->keys[i])
				continue;
			key = map->keys[i] - 1;
			if (key >= lo && key < hi) {
				tagbuf_erase(map, key, tags);
				again = true;
			}
		}
	}
}
