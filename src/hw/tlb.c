// SPDX-License-Identifier: MIT
/* hw/tlb.c - TLB invalidation primitives of one CPU (what TLBI does locally). */
#include "hw/tlb.h"

/* An empty TLB: every key invalid. */
void tlb_init(struct tlb *tlb)
{
	for (unsigned int i = 0; i < TLB_ENTRIES; i++)
		tlb->e[i].key = TLB_KEY_INVALID;
	tlb->hits = tlb->misses = tlb->flushes = 0;
}

/* TLBI VAE1: the entry for one page of one ASID. */
void tlb_flush_va_asid(struct tlb *tlb, uint64_t va, uint16_t asid)
{
	struct tlb_entry *e = tlb_slot(tlb, va);

	if (e->key == tlb_key(va, asid))
		e->key = TLB_KEY_INVALID;
	tlb->flushes++;
}

/*
 * A block descriptor filled 4 KiB entries, one per page used: the one TLBI
 * that drops the block's translation drops each of them here.
 */
void tlb_flush_block_asid(struct tlb *tlb, uint64_t start, uint64_t end, uint16_t asid)
{
	for (uint64_t va = start; va < end; va += 1ULL << 12) {
		struct tlb_entry *e = tlb_slot(tlb, va);

		if (e->key == tlb_key(va, asid))
			e->key = TLB_KEY_INVALID;
	}
	tlb->flushes++;
}

/* TLBI ASIDE1: every entry of one ASID. */
void tlb_flush_asid(struct tlb *tlb, uint16_t asid)
{
	for (unsigned int i = 0; i < TLB_ENTRIES; i++)
		if (tlb->e[i].key != TLB_KEY_INVALID && (uint16_t)tlb->e[i].key == asid)
			tlb->e[i].key = TLB_KEY_INVALID;
	tlb->flushes++;
}

/* TLBI VMALLE1: everything. */
void tlb_flush_all(struct tlb *tlb)
{
	for (unsigned int i = 0; i < TLB_ENTRIES; i++)
		tlb->e[i].key = TLB_KEY_INVALID;
	tlb->flushes++;
}
