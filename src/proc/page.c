// SPDX-License-Identifier: MIT
/*
 * proc/page.c - /proc/kpageflags and /proc/kpagecount: one 64-bit entry per
 * page frame, frame pfn at byte offset pfn * 8, as Linux's fs/proc/page.c
 * exports them.
 *
 * Design.  These are binary files, so they are not built as text: a read
 * asks for a range of entries (offset and length multiples of 8, or
 * -EINVAL, as in Linux) and each entry is computed from the frame's struct
 * page when it is read.  The files span frames 0 .. max_pfn - 1; a frame
 * that is no memory (below the first bank, a hole between banks) reads as
 * KPF_NOPAGE in kpageflags and 0 in kpagecount, like a frame Linux's
 * pfn_to_online_page() does not find.
 *
 * kpageflags maps the model's page flags to Linux's KPF_* bits; folio-wide
 * flags are read from the compound head, as Linux reads folio->flags.  The
 * arm64 MTE flags go where the arm64 kernel puts them: PG_mte_tagged is
 * PG_arch_2 (KPF_ARCH_2) and the seed's PG_tag_storage_reserved is
 * PG_arch_4 (KPF_ARCH_4, bit 43).  Model-only flags (PG_pcp, PG_tag_block,
 * PG_isolated) have no KPF bit.
 */
#include <errno.h>
#include <string.h>

#include "proc/proc.h"
#include "mm/internal.h"

#define KPMSIZE 8ULL

/* The frame as pfn_to_online_page() would give it: NULL for no memory. */
static struct page *online_page(struct mmsim_machine *m, uint64_t pfn)
{
	if (!pfn_valid(m, pfn) || !pfn_zone(m, pfn))
		return NULL;
	return pfn_to_page(m, pfn);
}

/* Is pfn inside a free buddy block (Linux's is_free_buddy_page)? */
static bool in_free_buddy_block(struct mmsim_machine *m, uint64_t pfn)
{
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		uint64_t head = pfn & ~((1ULL << o) - 1);
		struct page *h;

		if (!pfn_valid(m, head))
			break;
		h = pfn_to_page(m, head);
		if ((h->flags & PG_buddy) && h->order >= o)
			return true;
	}
	return false;
}

#define KPF(bit) (1ULL << MMSIM_KPF_##bit)

/* stable_page_flags(): the KPF_* bits of one frame. */
static uint64_t stable_page_flags(struct mmsim_machine *m, uint64_t pfn)
{
	struct page *p = online_page(m, pfn), *head;
	uint64_t u = 0;
	uint32_t k;

	if (!p)
		return KPF(NOPAGE);
	head = compound_head(p);
	k = head->flags;
	/* page_mapcount: PTE maps of the frame and PMD maps of its THP. */
	if (page_mapcount(p) > 0)
		u |= KPF(MMAP);
	if (head->mapping & PAGE_MAPPING_ANON)
		u |= KPF(ANON);
	if (p != head)
		u |= KPF(COMPOUND_TAIL);
	else if (k & PG_head)
		u |= KPF(COMPOUND_HEAD);
	/* A large folio that user memory maps (on the LRU) is a THP. */
	if ((k & PG_head) && (k & PG_lru))
		u |= KPF(THP);
	if (k & PG_zero)
		u |= KPF(ZERO_PAGE);
	if ((p->flags & PG_buddy) || (p->refcount == 0 && in_free_buddy_block(m, pfn)))
		u |= KPF(BUDDY);
	if (k & PG_table)
		u |= KPF(PGTABLE);
	if (k & PG_locked)
		u |= KPF(LOCKED);
	if (k & PG_dirty)
		u |= KPF(DIRTY);
	if (k & PG_uptodate)
		u |= KPF(UPTODATE);
	if (k & PG_lru)
		u |= KPF(LRU);
	if ((k & (PG_swapcache | PG_swapbacked)) == (PG_swapcache | PG_swapbacked))
		u |= KPF(SWAPCACHE);
	if (k & PG_swapbacked)
		u |= KPF(SWAPBACKED);
	if (k & PG_reserved)
		u |= KPF(RESERVED);
	if (k & PG_mte_tagged)
		u |= KPF(ARCH_2);
	if (k & PG_tag_storage_reserved)
		u |= KPF(ARCH_4);
	return u;
}

/* kpagecount: how many page-table entries map the frame. */
static uint64_t page_mapcount_entry(struct mmsim_machine *m, uint64_t pfn)
{
	struct page *p = online_page(m, pfn);

	return p && page_mapcount(p) > 0 ? (uint64_t)page_mapcount(p) : 0;
}

bool proc_is_kpage_file(const char *name)
{
	return !strcmp(name, "kpageflags") || !strcmp(name, "kpagecount");
}

uint64_t proc_kpage_size(struct mmsim_machine *m)
{
	return m->max_pfn * KPMSIZE;
}

ssize_t proc_kpage_read(struct mmsim_machine *m, const char *name, void *buf, size_t len, uint64_t off)
{
	bool flags = !strcmp(name, "kpageflags");
	uint64_t size = proc_kpage_size(m), n;
	uint8_t *out = buf;

	if ((off & (KPMSIZE - 1)) || (len & (KPMSIZE - 1)))
		return seterr(-EINVAL, "%s: offset %llu and length %zu must be multiples of 8 (one entry per page frame)",
			      name, (unsigned long long)off, len);
	if (off >= size)
		return 0;
	if (!buf && len)
		return seterr(-EFAULT, "%s: no buffer", name);
	n = size - off < len ? size - off : len;
	for (uint64_t i = 0; i < n; i += KPMSIZE) {
		uint64_t pfn = (off + i) / KPMSIZE;
		uint64_t v = flags ? stable_page_flags(m, pfn) : page_mapcount_entry(m, pfn);

		memcpy(out + i, &v, sizeof(v));
	}
	return (ssize_t)n;
}
