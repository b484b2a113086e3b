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
 * is one entry, its head, and counts all its pages, as a folio does.  The
 * flag is set under the lock, so that whoever sees PG_lru finds p listed.
 */
static void __lru_add(struct mmsim_machine *m, struct page *p)
{
	int64_t nr = (int64_t)compound_nr(p);
	struct lruvec *lv = m->swap ? &m->swap->lruvec[p->nid] : NULL;

	if (lv) {
		spin_lock(&lv->lru_lock);
		list_add(&p->lru, &lv->inactive_anon);
		lv->nr_pages++;
	}
	/* Atomic: in a parallel run another CPU may update p's other flags. */
	__atomic_fetch_or(&p->flags, PG_lru, __ATOMIC_RELAXED);
	if (lv)
		spin_unlock(&lv->lru_lock);
	mod_node_page_state(&m->nodes[p->nid], NR_INACTIVE_ANON, nr);
	mod_zone_page_state(page_zone(m, p), NR_ZONE_INACTIVE_ANON, nr);
}

/* Move c's batched pages onto their LRU lists (Linux's lru_add_drain_cpu). */
static void lru_add_drain_cpu(struct mmsim_machine *m, struct cpu *c)
{
	for (unsigned int i = 0; i < c->lru_add.nr; i++)
		__lru_add(m, c->lru_add.pages[i]);
	c->lru_add.nr = 0;
}

/*
 * lru_add - a new user page joins the LRU.  A fault running beside other
 * CPUs (parallel mode, shared) batches it per CPU, as Linux's folio_add_lru
 * does, so that the node's lru_lock is taken once per LRU_ADD_BATCH pages
 * rather than by every fault of every CPU.  A batched page has no PG_lru
 * yet; every path that needs the lists complete (reclaim, isolation,
 * freeing) runs with the machine whole, and taking it whole drains every
 * CPU's batch first (lru_add_drain_all), so that such a path never meets
 * one.  Without parallelism there is no batch: the lists are exact at
 * every step, as the deterministic scheduler and the tests expect.
 */
void lru_add(struct mmsim_machine *m, struct page *p)
{
	struct cpu *c = par_cpu;

	if (!c || !m->swap) {
		__lru_add(m, p);
		return;
	}
	c->lru_add.pages[c->lru_add.nr++] = p;
	if (c->lru_add.nr == LRU_ADD_BATCH)
		lru_add_drain_cpu(m, c);
}

/* Drain every CPU's batch: the caller holds the machine whole. */
void lru_add_drain_all(struct mmsim_machine *m)
{
	for (unsigned int c = 0; c < m->nr_cpus; c++)
		if (m->cpus[c].lru_add.nr)
			lru_add_drain_cpu(m, &m->cpus[c]);
}

/*
 * Take p off the LRU (it is being freed or isolated).  Linux's
 * folio_test_clear_lru under the lock: of two that both saw PG_lru (a pfn
 * scanner looks without the lock), only one takes the page off; false for
 * the other.
 */
bool lru_del(struct mmsim_machine *m, struct page *p)
{
	int64_t nr = (int64_t)compound_nr(p);

	if (m->swap) {
		struct lruvec *lv = &m->swap->lruvec[p->nid];

		spin_lock(&lv->lru_lock);
		if (!(page_flags(p) & PG_lru)) {
			spin_unlock(&lv->lru_lock);
			return false;
		}
		page_clear_flag(p, PG_lru);
		list_del(&p->lru);
		lv->nr_pages--;
		spin_unlock(&lv->lru_lock);
	} else {
		if (!(page_flags(p) & PG_lru))
			return false;
		page_clear_flag(p, PG_lru);
	}
	mod_node_page_state(&m->nodes[p->nid], NR_INACTIVE_ANON, -nr);
	mod_zone_page_state(page_zone(m, p), NR_ZONE_INACTIVE_ANON, -nr);
	return true;
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
