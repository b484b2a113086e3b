/* SPDX-License-Identifier: MIT */
/*
 * mm/swap.h - the swap device, the swap cache and the anon LRU lists.
 *
 * Design.  The machine has at most one swap device, type 0, like a system
 * with one swapon'd file.  Slot 0 holds the swap header (mkswap's layout,
 * "SWAPSPACE2" at the end of the page), as on Linux, so a device of N pages
 * gives N - 1 usable slots and no swap entry has the value 0 (page->private
 * == 0 then always means "no entry").  The device's bytes live in a host
 * buffer (MAP_NORESERVE) or in a file accessed with pread/pwrite.
 *
 * swap_map[offset] counts what refers to a slot, as Linux's does: one per
 * swap PTE (and per fork copy of it), plus the flag SWAP_HAS_CACHE while a
 * page sits in the swap cache for that slot.  A slot is free when its word
 * is 0.  The swap cache (swap_state.c) is an array, pfn + 1 per slot.
 *
 * The anon LRU lists live here too, per node, until struct pglist_data gets
 * its lruvec: they must exist with or without a swap device, so this struct
 * is allocated by swap_init() on every machine and m->swap is never NULL
 * after boot; si->max == 0 means "no device".
 */
#ifndef MMSIM_MM_SWAP_H
#define MMSIM_MM_SWAP_H

#include "mm/internal.h"

#define SWAP_HAS_CACHE  0x80000000U     /* a page is in the swap cache       */
#define SWAP_COUNT_MASK 0x7fffffffU
#define SWAP_CLUSTER_MAX 32             /* pages reclaimed per batch         */

/* One node's LRU: a single inactive anon list, head = newest. */
struct lruvec {
	spinlock_t lru_lock;            /* the list; CPUs add pages at once    */
	struct list_head inactive_anon;
	uint64_t nr_pages;
};

struct swap_info_struct {
	/* The device. */
	unsigned int type;              /* always 0: one device              */
	uint64_t max;                   /* slots including the header; 0 = none */
	uint64_t pages;                 /* usable slots: SwapTotal           */
	uint64_t inuse_pages;           /* allocated slots: SwapTotal - SwapFree */
	uint64_t lowest_bit;            /* no free slot below this offset    */
	uint32_t *swap_map;             /* per slot: count | SWAP_HAS_CACHE  */
	uint64_t *swap_cache;           /* per slot: pfn + 1 of the cached page */
	uint64_t nr_cached;             /* pages in the swap cache           */
	uint8_t *mem;                   /* in-memory device, NULL for a file */
	int fd;                         /* file device, -1 for memory        */
	char *path;
	bool created;                   /* we created the file: unlink at exit */
	size_t map_bytes, cache_bytes, mem_bytes;
	uint64_t io_errors;

	/* Reclaim. */
	struct lruvec lruvec[MAX_NUMNODES];
};

static inline bool swap_device(const struct mmsim_machine *m)
{
	return m->swap && m->swap->max;
}

/* Is e an entry of a swap device (not migration, hwpoison or marker)? */
static inline bool is_swap_device_entry(swp_entry_t e)
{
	return swp_type(e) < MAX_SWAPFILES;
}

/* What /proc/meminfo shows, in pages. */
static inline uint64_t swap_total_pages(const struct mmsim_machine *m)
{
	return m->swap ? m->swap->pages : 0;
}
static inline uint64_t swap_free_pages(const struct mmsim_machine *m)
{
	return m->swap ? m->swap->pages - m->swap->inuse_pages : 0;
}

/* ------------------------------------------------------- swapfile.c */
swp_entry_t get_swap_page(struct mmsim_machine *m);
void swap_free(struct mmsim_machine *m, swp_entry_t e);
int  swapcache_prepare(struct mmsim_machine *m, swp_entry_t e);
void put_swap_folio(struct mmsim_machine *m, swp_entry_t e);
unsigned int swap_count(struct mmsim_machine *m, swp_entry_t e);
int  swap_writepage(struct mmsim_machine *m, struct page *p);
int  swap_readpage(struct mmsim_machine *m, struct page *p);
int  swap_check(struct mmsim_machine *m, char *buf, size_t len);

/* ----------------------------------------------------- swap_state.c */
struct page *swap_cache_get_folio(struct mmsim_machine *m, swp_entry_t e);
void add_to_swap_cache(struct mmsim_machine *m, struct page *p, swp_entry_t e);
void delete_from_swap_cache(struct mmsim_machine *m, struct page *p);
bool add_to_swap(struct mmsim_machine *m, struct page *p);

/* ---------------------------------------------------------- vmscan.c */
int  kswapd_run(struct mmsim_machine *m);
/* vmscan's too_many_isolated() (§3.8): exported for the tests. */
bool vmscan_too_many_isolated(struct mmsim_machine *m, int nid, bool kswapd, gfp_t gfp);
int  madvise_cold_or_pageout(struct vm_area_struct *v, uint64_t start, uint64_t end, bool pageout);

/* ------------------------------------------------ arch/arm64/mteswap.c */
int  arch_prepare_to_swap(struct mmsim_machine *m, struct page *p);
int  arch_swap_prepare_to_restore(struct mmsim_machine *m, swp_entry_t e, struct page *p);
void arch_swap_restore(struct mmsim_machine *m, swp_entry_t e, struct page *p);
void arch_swap_invalidate_page(struct mmsim_machine *m, unsigned int type, uint64_t offset);
void arch_swap_invalidate_area(struct mmsim_machine *m, unsigned int type);

/* ------------------------------------------------------------ swap.c */
void lru_rotate_head(struct mmsim_machine *m, struct page *p);

#endif
