// SPDX-License-Identifier: MIT
/*
 * mm/swap.c - LRU bookkeeping.  User pages (anonymous and shmem, both
 * swap-backed) start on the inactive anon list, as Linux puts them; the
 * counters behind Active(anon)/Inactive(anon) follow from here only.
 */
#include "mm/internal.h"

void lru_add(struct mmsim_machine *m, struct page *p)
{
	p->flags |= PG_lru;
	mod_node_page_state(&m->nodes[p->nid], NR_INACTIVE_ANON, 1);
	mod_zone_page_state(page_zone(m, p), NR_ZONE_INACTIVE_ANON, 1);
}

void lru_del(struct mmsim_machine *m, struct page *p)
{
	p->flags &= ~PG_lru;
	mod_node_page_state(&m->nodes[p->nid], NR_INACTIVE_ANON, -1);
	mod_zone_page_state(page_zone(m, p), NR_ZONE_INACTIVE_ANON, -1);
}
