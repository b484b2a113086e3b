// SPDX-License-Identifier: MIT
/*
 * mm/swap_state.c - the swap cache: which page holds the data of a slot.
 *
 * Design.  Linux keeps swap-cache folios in an xarray per 64 MiB of swap;
 * the model keeps one array with a word per slot (pfn + 1, 0 = none), which
 * is as deterministic and costs 8 bytes per slot of host memory.  A cached
 * page has PG_swapcache, page->private = the entry's value, and one
 * reference held by the cache; it is counted in NR_FILE_PAGES and
 * NR_SWAPCACHE, which is how /proc/meminfo derives SwapCached and leaves it
 * out of Cached.  The slot carries SWAP_HAS_CACHE in swap_map meanwhile.
 *
 * A page is in the cache while reclaim writes it out (then it leaves and
 * is freed), and after a swap-in for as long as another swap PTE still
 * refers to its slot (fork's copies), so every process faulting the slot
 * finds the same page instead of reading its own copy.
 */
#include "mm/swap.h"

static void swapcache_stat(struct mmsim_machine *m, struct page *p, int d)
{
	mod_node_page_state(&m->nodes[p->nid], NR_FILE_PAGES, d);
	mod_node_page_state(&m->nodes[p->nid], NR_SWAPCACHE, d);
	m->swap->nr_cached += (uint64_t)(int64_t)d;
}

/* The page cached for e, or NULL; no reference is taken. */
struct page *swap_cache_get_folio(struct mmsim_machine *m, swp_entry_t e)
{
	struct swap_info_struct *si = m->swap;
	uint64_t off = swp_offset(e);

	if (!swap_device(m) || swp_type(e) != si->type || off >= si->max || !si->swap_cache[off])
		return NULL;
	return pfn_to_page(m, si->swap_cache[off] - 1);
}

/*
 * Insert p for e.  Assumes the slot is already marked SWAP_HAS_CACHE
 * (get_swap_page or swapcache_prepare) and nothing is cached there.
 */
void add_to_swap_cache(struct mmsim_machine *m, struct page *p, swp_entry_t e)
{
	get_page(p);
	p->flags |= PG_swapcache;
	p->private = e.val;
	m->swap->swap_cache[swp_offset(e)] = page_to_pfn(m, p) + 1;
	swapcache_stat(m, p, 1);
}

/*
 * Remove p from the swap cache: the slot loses SWAP_HAS_CACHE (and is
 * freed if no PTE refers to it) and the cache's reference is dropped, which
 * frees p unless someone else holds it.
 */
void delete_from_swap_cache(struct mmsim_machine *m, struct page *p)
{
	swp_entry_t e = { p->private };

	m->swap->swap_cache[swp_offset(e)] = 0;
	swapcache_stat(m, p, -1);
	p->flags &= ~PG_swapcache;
	p->private = 0;
	put_swap_folio(m, e);
	put_page(m, p);
}

/*
 * add_to_swap - give p a slot and put it in the swap cache, dirty so
 * reclaim writes it.  False when swap is absent or full.
 */
bool add_to_swap(struct mmsim_machine *m, struct page *p)
{
	swp_entry_t e = get_swap_page(m);

	if (!e.val)
		return false;
	add_to_swap_cache(m, p, e);
	p->flags |= PG_dirty;
	return true;
}
