// SPDX-License-Identifier: MIT
/*
 * mm/swap.c - LRU bookkeeping.  User pages (anonymous and shmem, both
 * swap-backed) start on the inactive anon list, as Linux puts them; the
 * counters behind Active(anon)/Inactive(anon) follow from here only.
 *
 * The list is real: page->lru links an in-use user page into its node's
 * inactive anon list (free pages use the same field for the buddy and pcp
 * lists, which is why free_pages_prepare takes a page off the LRU before it
 * reuses lru).  New pages go to the head; reclaim (vmscan.c) scans from the
 * tail, oldest first.  The lists sit in struct swap_info_struct for now
 * (see mm/swap.h); before swap_init() and after swap_exit() m->swap is NULL
 * and only the counters move.
 */
#include "mm/swap.h"

/*
 * Put p at the head (newest end) of its node's inactive anon list.  A THP
 * is one entry, its head, and counts all its pages, as a folio does.
 */
void lru_add(struct mmsim_machine *m, struct page *p)
{
	int64_t nr = (int64_t)compound_nr(p);

	p->flags |= PG_lru;
	mod_node_page_state(&m->nodes[p->nid], NR_INACTIVE_ANON, nr);
	mod_zone_page_state(page_zone(m, p), NR_ZONE_INACTIVE_ANON, nr);
	if (m->swap) {
		struct lruvec *lv = &m->swap->lruvec[p->nid];

		spin_lock(&lv->lru_lock);
		list_add(&p->lru, &lv->inactive_anon);
		lv->nr_pages++;
		spin_unlock(&lv->lru_lock);
	}
}

/* Take p off the LRU (it is being freed or isolated for reclaim). */
void lru_del(struct mmsim_machine *m, struct page *p)
{
	int64_t nr = (int64_t)compound_nr(p);

	p->flags &= ~PG_lru;
	mod_node_page_state(&m->nodes[p->nid], NR_INACTIVE_ANON, -nr);
	mod_zone_page_state(page_zone(m, p), NR_ZONE_INACTIVE_ANON, -nr);
	if (m->swap) {
		struct lruvec *lv = &m->swap->lruvec[p->nid];

		spin_lock(&lv->lru_lock);
		list_del(&p->lru);
		lv->nr_pages--;
		spin_unlock(&lv->lru_lock);
	}
}

/* A referenced page gets another trip through the list: move it to the head. */
void lru_rotate_head(struct mmsim_machine *m, struct page *p)
{
	if (m->swap && (p->flags & PG_lru)) {
		struct lruvec *lv = &m->swap->lruvec[p->nid];

		spin_lock(&lv->lru_lock);
		list_move(&p->lru, &lv->inactive_anon);
		spin_unlock(&lv->lru_lock);
	}
}
