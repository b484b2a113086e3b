// SPDX-License-Identifier: MIT
/*
 * arch/arm64/tag_storage.c - reserving and freeing tag storage blocks for
 * tagged allocations (spec §3).
 */
#include "mm/internal.h"

bool page_tag_storage_reserved(const struct page *p)
{
	return p->flags & PG_tag_storage_reserved;
}

int reserve_metadata_storage(struct mmsim_machine *m, struct page *page, unsigned int order,
			     unsigned int gfp)
{
	(void)m;
	(void)page;
	(void)order;
	(void)gfp;
	return 0;
}

void free_metadata_storage(struct mmsim_machine *m, struct page *page, unsigned int order)
{
	(void)m;
	(void)page;
	(void)order;
}
