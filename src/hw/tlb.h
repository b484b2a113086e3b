/* SPDX-License-Identifier: MIT */
/*
 * hw/tlb.h - a per-CPU, ASID-tagged, direct-mapped TLB.
 *
 * An entry caches one 4 KiB translation of one ASID: the frame, its host
 * address, and the permissions the descriptor granted when it was walked.
 * The key packs the virtual page number and the ASID so a hit costs one
 * compare.  The TLB never makes up permissions: a fill copies what the page
 * tables say at that moment, and it is the kernel's duty to invalidate an
 * entry before the tables grant less (mmsim_check() verifies it).
 */
#ifndef MMSIM_HW_TLB_H
#define MMSIM_HW_TLB_H

#include <stdbool.h>
#include <stdint.h>

#define TLB_ENTRIES     1024U            /* power of two                      */
#define TLB_KEY_INVALID (~0ULL)

enum tlb_perm {
	TLB_R      = 1U << 0,
	TLB_W      = 1U << 1,
	TLB_TAGGED = 1U << 2,            /* Normal-Tagged memory: check tags   */
};

struct tlb_entry {
	uint64_t key;                    /* vpn << 16 | asid                   */
	uint8_t *host;                   /* host address of the frame          */
	uint64_t pfn;
	uint32_t perm;
	uint32_t level;                  /* level of the leaf descriptor       */
};

struct tlb {
	struct tlb_entry e[TLB_ENTRIES];
	uint64_t hits, misses, flushes;
};

static inline uint64_t tlb_key(uint64_t va, uint16_t asid)
{
	return ((va >> 12) << 16) | asid;
}
static inline struct tlb_entry *tlb_slot(struct tlb *tlb, uint64_t va)
{
	return &tlb->e[(va >> 12) & (TLB_ENTRIES - 1)];
}

void tlb_init(struct tlb *tlb);
void tlb_flush_va_asid(struct tlb *tlb, uint64_t va, uint16_t asid);
void tlb_flush_asid(struct tlb *tlb, uint16_t asid);
/* TLBI VAE1 with a level hint on a block: every page of [start, end), one op. */
void tlb_flush_block_asid(struct tlb *tlb, uint64_t start, uint64_t end, uint16_t asid);
void tlb_flush_all(struct tlb *tlb);

#endif
