/* SPDX-License-Identifier: MIT */
/*
 * arch/arm64/mte.h - the Memory Tagging Extension and dynamic tag storage.
 *
 * Where tags live.  Every 16-byte granule of data has a 4-bit allocation
 * tag; a 4 KiB page has 128 bytes of tags.  For data memory covered by a tag
 * storage region of the device tree, those 128 bytes are at the static place
 * the hardware uses (spec §1.2): tag page tag_start + (pfn - mem_start) / 32,
 * offset ((pfn - mem_start) % 32) * 128, in simulated RAM.  So a tag write for
 * a page whose tag block is not reserved really lands in whatever the
 * allocator put in that tag page - corruption is observable, and it is
 * counted (mte.bad_tag_writes) and reported by mmsim_check().  Memory no
 * region covers keeps its tags in hardware-owned storage the OS cannot see
 * (a host buffer here), as on a machine with a static carve-out.
 *
 * Granule g of a page has its tag in byte g/2 of the page's 128 bytes, low
 * nibble for even g.
 *
 * Policies (bootargs mte_tag_storage=): "static" (Linux today: the carve-out
 * is never data memory), "rfc-v1" (the seed series: MIGRATE_METADATA),
 * "cma" (the reviewers' design: tag storage is CMA, tagged allocations never
 * come from CMA, the carve-out itself is taggable).
 */
#ifndef MMSIM_ARCH_ARM64_MTE_H
#define MMSIM_ARCH_ARM64_MTE_H

#include "kernel/fault_inject.h"
#include "kernel/locking.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/arm64/pgtable.h"

struct mmsim_machine;
struct page;
struct dt_machine;

#define MTE_GRANULE_SIZE            16
#define MTE_GRANULES_PER_PAGE       256
#define MTE_TAG_SHIFT               56
#define MTE_PAGE_TAG_STORAGE_SIZE   128
#define MAX_TAG_REGIONS             32

enum tag_storage_policy {
	TS_POLICY_STATIC,
	TS_POLICY_RFC_V1,
	TS_POLICY_CMA,
};

/* One region, as tag_storage_find_block sees it (PFNs, inclusive ends). */
struct tag_region {
	uint64_t mem_start, mem_end;    /* data PFNs the region holds tags for  */
	uint64_t tag_start, tag_end;    /* tag storage PFNs                     */
	unsigned int block_size;        /* pages, lcm(PAGE_SIZE, bytes)/PAGE_SIZE */
	int nid;
};

/* 128-byte tag buffers keyed by pfn or by swap entry (the seed's xarrays). */
struct tagbuf_map {
	uint64_t *keys;                 /* key + 1; 0 = empty slot              */
	uint8_t **bufs;
	uint64_t cap, nr;
};

/*
 * Race fixes that can be switched off, one bit per race of spec §5.6
 * (bootargs mte_race_fix_off=R1,R4,...), so a test can show the corruption
 * each fix prevents.  Bit n-1 is race Rn.
 */
#define MTE_FIX_OFF(m, n) (((m)->mte.race_fix_off >> ((n) - 1)) & 1)

/* Test hook: called inside reserve_metadata_storage after the existing
 * blocks were pinned (step 7) and before new ones are taken (step 9). */
typedef void (*mte_reserve_hook_fn)(struct mmsim_machine *m, void *ctx);

struct mte_state {
	bool supported;                 /* system_supports_mte(); arm64.nomte clears it */
	bool kasan_hw;                  /* kasan=on with HW tags: storage stays off   */
	enum tag_storage_policy policy;
	bool storage_enabled;           /* metadata_storage_enabled()           */
	bool fixed;                     /* mte_fixes=on: the §6.6 fixes          */
	unsigned int nr_regions;
	struct tag_region regions[MAX_TAG_REGIONS];
	uint64_t totalmetadata_pages;
	uint8_t *hidden_tags;           /* tags of memory no region covers        */
	uint64_t hidden_bytes;
	struct tagbuf_map tags_by_pfn;
	struct tagbuf_map tags_by_swp_entry;
	uint64_t bad_tag_writes;        /* tag writes into unreserved tag storage */
	uint64_t first_bad_tag_pfn;
	uint64_t warned_once;           /* WARN_ONCE bits                          */
	uint32_t race_fix_off;          /* MTE_FIX_OFF bits                        */
	struct mutex tag_blocks_lock;   /* serialises reservations (not frees)     */
	spinlock_t xa_lock;             /* tag_blocks_reserved and block refcounts */
	mte_reserve_hook_fn reserve_hook;   /* test only                            */
	void *reserve_hook_ctx;
	/*
	 * Test only, Linux's failslab with probability 100 and "times": the
	 * next failslab_times kmallocs of a 128-byte tag buffer fail (-ENOMEM).
	 */
	unsigned int failslab_times;
	/*
	 * bootargs fail_tag_storage_reserve=<interval>,<probability>,<space>,<times>:
	 * taking a tag block for a reservation fails (-ENOMEM) when it says so,
	 * the zero page's at activation included (spec §8.1 item 16); size is
	 * the block's pages.
	 */
	struct fault_attr fail_reserve;
};

/* ------------------------------------------------ boot (tag_storage_init.c) */
/*
 * mte_tag_storage_init - validate the arm,mte-tag-storage nodes (§1.4) and
 * record the regions.  Runs after the command line is parsed and before the
 * memory map is laid out: each region's tag range becomes memory of its node,
 * reserved.  Logs as the kernel does; a validation failure disables the
 * feature (regions dropped) but is not a boot failure.
 */
int  mte_tag_storage_init(struct mmsim_machine *m, const struct dt_machine *dt);
/* mte_tag_storage_activate - §1.5, after the buddy allocator is up. */
int  mte_tag_storage_activate(struct mmsim_machine *m);

/* ------------------------------------------------------- tags (mte.c) */
/* The 128 tag bytes of data frame pfn, and whether they are in the carve-out. */
uint8_t *mte_page_tags(struct mmsim_machine *m, uint64_t pfn, uint64_t *tag_pfn);
unsigned int mte_get_granule_tag(struct mmsim_machine *m, uint64_t pfn, unsigned int granule);
void mte_set_granule_tag(struct mmsim_machine *m, uint64_t pfn, unsigned int granule, unsigned int tag);
void mte_clear_page_tags(struct mmsim_machine *m, struct page *p);
void mte_copy_page_tags(struct mmsim_machine *m, struct page *to, struct page *from);
void mte_copy_tags_out(struct mmsim_machine *m, struct page *p, uint8_t *buf);
void mte_copy_tags_in(struct mmsim_machine *m, struct page *p, const uint8_t *buf);

/* Kernel tag handling (spec §4.7, §4.8, §5.4). */
void set_page_mte_tagged(struct mmsim_machine *m, struct page *p);
void tag_clear_highpage(struct mmsim_machine *m, struct page *p);
void copy_highpage(struct mmsim_machine *m, struct page *to, struct page *from);
void mte_sync_tags(struct mmsim_machine *m, pteval_t *pte);

/* Whether the kmalloc of a 128-byte tag buffer fails now (failslab_times). */
bool mte_should_failslab(struct mmsim_machine *m);

/* 128-byte buffers by key. */
int      tagbuf_store(struct tagbuf_map *map, uint64_t key, const uint8_t *tags);
uint8_t *tagbuf_load(struct tagbuf_map *map, uint64_t key);
bool     tagbuf_erase(struct tagbuf_map *map, uint64_t key, uint8_t *out);
void     tagbuf_free_all(struct tagbuf_map *map);

/* ---------------------------------------------- reservation (tag_storage.c) */
int  tag_storage_find_block(struct mmsim_machine *m, uint64_t pfn, uint64_t *block,
			    const struct tag_region **region);
int  reserve_metadata_storage(struct mmsim_machine *m, struct page *page, unsigned int order,
			      unsigned int gfp);
void free_metadata_storage(struct mmsim_machine *m, struct page *page, unsigned int order);
/* A reserved compound page becomes order-0 pages: match the blocks' shares. */
void tag_storage_split_folio(struct mmsim_machine *m, struct page *head, unsigned int order);
bool page_tag_storage_reserved(const struct page *p);
/* The tag storage invariants (§3.12) for mmsim_check(); appends to buf. */
int  mte_check(struct mmsim_machine *m, char *buf, size_t len);

#endif
