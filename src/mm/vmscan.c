// SPDX-License-Identifier: MIT
/*
 * mm/vmscan.c - page reclaim: shrink_folio_list for anonymous pages, and
 * its three callers - kswapd, direct reclaim and MADV_PAGEOUT.
 *
 * Design.  Each node has one anon LRU list (mm/swap.c), newest at the
 * head.  Reclaim takes pages from the tail.  A page whose PTEs were
 * accessed since the last look (any young PTE) has the young bits cleared
 * and goes back to the head: Linux would promote it to the active list and
 * age it back later; the model's single list gives it the same second
 * chance without a second list.  An unreferenced anonymous page gets a
 * swap slot and enters the swap cache, its MTE tags are saved, every PTE
 * becomes a swap entry (through the rmap, as migration does), it is
 * written to the device if dirty, and leaves the cache and is freed.
 *
 * Pages reclaim leaves alone: shmem pages (shmem swap is not built),
 * pinned pages, pages in a VM_LOCKED VMA, pages someone holds an extra
 * reference on (a migration in flight), and everything when there is no
 * swap device or it is full.
 *
 * kswapd runs when a zone of a node is below its low watermark and
 * reclaims until it would be above the high one.  Direct reclaim takes
 * SWAP_CLUSTER_MAX pages for an allocation that failed.  Both drain the
 * per-CPU lists afterwards so the freed pages count for the watermarks at
 * once (Linux's allocator drains before giving up; the model's does not).
 * Counters: pgscan_{kswapd,direct} and pgscan_anon per page looked at,
 * pgsteal_{kswapd,direct} and pgsteal_anon per page freed, pageoutrun per
 * kswapd balancing pass, allocstall_movable per direct reclaim (the zone
 * user-page allocations ask for), pswpout per page written.
 */
#include "mm/swap.h"
#include "mm/compaction.h"

enum reclaimer { RECLAIM_KSWAPD, RECLAIM_DIRECT, RECLAIM_MADVISE };

/* ------------------------------------------------------------- references */

struct referenced_arg {
	int referenced;                 /* young PTEs found                       */
	bool locked;                    /* a VM_LOCKED VMA maps the page          */
	bool clear;                     /* clear the young bits found             */
};

/*
 * Linux's folio_referenced_one: note and (when asked) clear the Access
 * flag of one PTE.  The TLB entry goes too, so the next access sets AF
 * again (in hardware or through an access-flag fault).
 */
static int folio_referenced_one(struct vm_area_struct *vma, uint64_t addr, pteval_t *ptep, void *arg)
{
	struct referenced_arg *a = arg;
	pteval_t pte = *ptep;

	if (vma->vm_flags & VM_LOCKED)
		a->locked = true;
	if (!pte_valid(pte) || !pte_young(pte))
		return 0;
	a->referenced++;
	if (a->clear) {
		*ptep = pte_mkold(pte);
		flush_tlb_page(vma->vm_mm, addr);
	}
	return 0;
}

/* ------------------------------------------------------------------ unmap */

struct unmap_arg {
	struct mmsim_machine *m;
	struct page *page;
	swp_entry_t entry;
	bool exclusive;                 /* PG_anon_exclusive before the unmap     */
	bool dirty;                     /* some PTE was dirty                     */
};

/*
 * try_to_unmap_one for a page in the swap cache: the PTE becomes a swap
 * entry for its slot (exclusive when the page was), the mm trades an anon
 * page for a swap entry, and the PTE's reference on the page goes.
 */
static int try_to_unmap_one(struct vm_area_struct *vma, uint64_t addr, pteval_t *ptep, void *arg)
{
	struct unmap_arg *a = arg;
	pteval_t old, swp;

	if (!pte_present(*ptep))
		return 0;
	old = ptep_clear_flush(vma->vm_mm, addr, ptep);
	if (pte_dirty(old))
		a->dirty = true;
	swp = swp_entry_to_pte(a->entry) | (a->exclusive ? PTE_SWP_EXCLUSIVE : 0);
	swap_duplicate(a->m, a->entry);
	set_pte_at(vma->vm_mm, addr, ptep, swp);
	page_remove_rmap(a->m, a->page);
	vma->vm_mm->rss[MM_ANONPAGES]--;
	vma->vm_mm->rss[MM_SWAPENTS]++;
	put_page(a->m, a->page);
	return 0;
}

/* ----------------------------------------------------- shrink_folio_list */

enum page_outcome { PAGE_KEEP, PAGE_RECLAIMED };

/*
 * Try to reclaim one isolated page (off the LRU, with the caller's
 * reference).  ignore_references is MADV_PAGEOUT's: the caller asked for
 * this page whatever its young bits say.  On PAGE_RECLAIMED the page is
 * out of the swap cache and the caller's reference is the last one.
 */
static enum page_outcome shrink_page(struct mmsim_machine *m, struct page *p, bool ignore_references,
				     struct list_head *split_list)
{
	struct referenced_arg ref = { .clear = !ignore_references };
	bool cached;

	if (PageCompound(p)) {
		/*
		 * A THP is swapped out as 512 pages (no THP swap): unless a PMD
		 * mapping was used lately, split it; the other pages join
		 * split_list, or the LRU.
		 */
		if (!ignore_references && folio_referenced_pmds(m, p, true))
			return PAGE_KEEP;
		if (split_huge_page_to_list(m, p, split_list))
			return PAGE_KEEP;
		count_vm_event(m, THP_SWPOUT_FALLBACK);
	}
	cached = p->flags & PG_swapcache;
	if (!PageAnon(p) || p->pincount || (p->flags & (PG_locked | PG_isolated)))
		return PAGE_KEEP;
	/* Mappings, the swap cache and ours: anything more is a user we cannot see. */
	if (p->refcount != p->mapcount + (cached ? 1 : 0) + 1)
		return PAGE_KEEP;
	if (p->mapcount) {
		rmap_walk(m, p, folio_referenced_one, &ref);
		if (ref.locked || (!ignore_references && ref.referenced))
			return PAGE_KEEP;
	}
	if (!cached) {
		if (!add_to_swap(m, p))
			return PAGE_KEEP;
		/* Tags are saved under the entry before the page can go. */
		if (arch_prepare_to_swap(m, p)) {
			delete_from_swap_cache(m, p);
			return PAGE_KEEP;
		}
	}
	if (p->mapcount) {
		struct unmap_arg u = {
			.m = m, .page = p, .entry = { p->private },
			.exclusive = p->flags & PG_anon_exclusive,
		};

		rmap_walk(m, p, try_to_unmap_one, &u);
		if (u.dirty)
			p->flags |= PG_dirty;
		if (p->mapcount)
			return PAGE_KEEP;
	}
	if (p->flags & PG_dirty) {
		/* A failed write keeps the page cached: the swap PTEs still find it. */
		if (swap_writepage(m, p))
			return PAGE_KEEP;
		p->flags &= ~PG_dirty;
	}
	if (p->refcount != 2)
		return PAGE_KEEP;
	delete_from_swap_cache(m, p);
	return PAGE_RECLAIMED;
}

/* Take p off the LRU for reclaim, holding a reference (isolate_lru_folio). */
static void isolate_page(struct mmsim_machine *m, struct page *p)
{
	lru_del(m, p);
	get_page(p);
}

/* Finish with an isolated page: freed, or back at the head of the LRU. */
static void putback_page(struct mmsim_machine *m, struct page *p, enum page_outcome o)
{
	if (o == PAGE_KEEP)
		lru_add(m, p);
	put_page(m, p);
}

/*
 * shrink_inactive_list - reclaim up to nr_to_reclaim pages of node nid,
 * oldest first, looking at each page at most twice (once to clear its
 * young bits, once more to take it).  Returns the pages freed; *scanned
 * gets the pages looked at.
 */
static uint64_t shrink_inactive_list(struct mmsim_machine *m, int nid, uint64_t nr_to_reclaim,
				     uint64_t *scanned)
{
	struct lruvec *lv = &m->swap->lruvec[nid];
	uint64_t max_scan = lv->nr_pages * 2, reclaimed = 0;

	*scanned = 0;
	while (reclaimed < nr_to_reclaim && *scanned < max_scan && !list_empty(&lv->inactive_anon)) {
		struct page *p = list_last_entry(&lv->inactive_anon, struct page, lru);
		enum page_outcome o;

		(*scanned)++;
		isolate_page(m, p);
		o = shrink_page(m, p, false, NULL);
		reclaimed += o == PAGE_RECLAIMED;
		putback_page(m, p, o);
	}
	return reclaimed;
}

static bool can_reclaim_anon_pages(struct mmsim_machine *m)
{
	return swap_device(m) && m->swap->inuse_pages < m->swap->pages;
}

/*
 * too_many_isolated - reclaim's test: more anon pages isolated (by
 * compaction) than inactive ones (an eighth of them when the caller may do
 * I/O) makes direct reclaim wait.  Never kswapd, nor a task taking tag
 * blocks (§3.8 PF_MEMALLOC_ISOLATE, checked after kswapd as in the seed).
 */
bool vmscan_too_many_isolated(struct mmsim_machine *m, int nid, bool kswapd, gfp_t gfp)
{
	struct pglist_data *pg = &m->nodes[nid];
	int64_t inactive = pg->vm_stat[NR_INACTIVE_ANON];

	if (kswapd)
		return false;
	if (get_current(m) && get_current(m)->memalloc_isolate)
		return false;
	if ((gfp & (__GFP_IO | __GFP_FS)) == (__GFP_IO | __GFP_FS))
		inactive >>= 3;
	return pg->vm_stat[NR_ISOLATED_ANON] > inactive;
}

/* Reclaim from one node and count it as reclaimer r does. */
static uint64_t shrink_node(struct mmsim_machine *m, int nid, uint64_t nr_to_reclaim, enum reclaimer r)
{
	uint64_t scanned, reclaimed;

	if (!can_reclaim_anon_pages(m))
		return 0;
	/*
	 * Linux throttles once and gives up if still too many: in the model
	 * no one else runs to put the isolated pages back, so it gives up.
	 */
	if (vmscan_too_many_isolated(m, nid, r == RECLAIM_KSWAPD, GFP_KERNEL)) {
		TRACE(m, "vmscan:mm_vmscan_throttled", (int)smp_processor_id(m), get_current(m) ? get_current(m)->pid : -1,
		      0, 0, 0, "nid=%d usec_timeout=20000 usect_delayed=20000 reason=VMSCAN_THROTTLE_ISOLATED",
		      nid);
		return 0;
	}
	reclaimed = shrink_inactive_list(m, nid, nr_to_reclaim, &scanned);
	count_vm_events(m, r == RECLAIM_KSWAPD ? PGSCAN_KSWAPD : PGSCAN_DIRECT, (int64_t)scanned);
	count_vm_events(m, PGSCAN_ANON, (int64_t)scanned);
	count_vm_events(m, r == RECLAIM_KSWAPD ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT, (int64_t)reclaimed);
	count_vm_events(m, PGSTEAL_ANON, (int64_t)reclaimed);
	TRACE(m, "vmscan:mm_vmscan_lru_shrink_inactive", (int)smp_processor_id(m), -1, 0, 0, 0,
	      "nid=%d nr_scanned=%llu nr_reclaimed=%llu", nid, (unsigned long long)scanned,
	      (unsigned long long)reclaimed);
	return reclaimed;
}

/* --------------------------------------------------------------- kswapd */

/* Pages node nid needs to free for every zone to reach its mark (0: none). */
static uint64_t node_deficit(struct mmsim_machine *m, int nid, enum zone_watermarks mark)
{
	uint64_t need = 0;

	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		struct zone *z = &m->nodes[nid].node_zones[zi];
		uint64_t free;

		if (!populated_zone(z) || zone_watermark_ok(z, 0, z->watermark[mark]))
			continue;
		free = z->vm_stat[NR_FREE_PAGES] > 0 ? (uint64_t)z->vm_stat[NR_FREE_PAGES] : 0;
		need += z->watermark[mark] > free ? z->watermark[mark] - free : 1;
	}
	return need;
}

/*
 * kswapd_try_to_sleep - a node with no zone below its low watermark lets
 * kswapd sleep: the pageblock skip hints of a finished direct compaction
 * are cleared, and a high-order request kswapd was woken for goes to
 * kcompactd (reclaim made the free pages; compaction makes the block).
 */
static void kswapd_try_to_sleep(struct mmsim_machine *m, struct pglist_data *pgdat)
{
	if (node_deficit(m, pgdat->node_id, WMARK_LOW))
		return;
	reset_isolation_suitable(m, pgdat);
	if (pgdat->kswapd_order) {
		wakeup_kcompactd(m, pgdat, pgdat->kswapd_order, pgdat->kswapd_highest_zoneidx);
		pgdat->kswapd_order = 0;
		pgdat->kswapd_highest_zoneidx = 0;
	}
}

/*
 * kswapd_run - one pass of every node's kswapd: a node with a zone below
 * its low watermark reclaims what it takes to bring each such zone to the
 * high watermark (balance_pgdat).  Returns 0.
 */
int kswapd_run(struct mmsim_machine *m)
{
	uint64_t total = 0;

	for (unsigned int n = 0; n < m->nr_nodes; n++) {
		uint64_t target, reclaimed;

		if (!node_deficit(m, (int)n, WMARK_LOW) || !can_reclaim_anon_pages(m))
			continue;
		target = node_deficit(m, (int)n, WMARK_HIGH);
		count_vm_event(m, PAGEOUTRUN);
		TRACE(m, "vmscan:mm_vmscan_kswapd_wake", (int)smp_processor_id(m), -1, 0, 0, 0, "nid=%u order=0", n);
		reclaimed = shrink_node(m, (int)n, target, RECLAIM_KSWAPD);
		total += reclaimed;
	}
	if (total)
		drain_all_pages(m);
	for (unsigned int n = 0; n < m->nr_nodes; n++)
		kswapd_try_to_sleep(m, &m->nodes[n]);
	return 0;
}

/*
 * try_to_free_pages - direct reclaim for an allocation of 2^order pages
 * that found no free memory on node nid (-1: the current CPU's node).
 * Reclaims SWAP_CLUSTER_MAX pages (or 2^order, if more) from nid, then
 * from the other nodes if nid had nothing to give.  Returns the number of
 * pages freed; 0 means the caller should go on to the OOM killer.
 */
uint64_t try_to_free_pages(struct mmsim_machine *m, int nid, unsigned int order)
{
	uint64_t want = SWAP_CLUSTER_MAX > (1ULL << order) ? SWAP_CLUSTER_MAX : 1ULL << order, got;

	if (!can_reclaim_anon_pages(m))
		return 0;
	if (nid < 0 || nid >= (int)m->nr_nodes)
		nid = numa_node_of_cpu(m, smp_processor_id(m));
	count_vm_event(m, ALLOCSTALL_MOVABLE);
	TRACE(m, "vmscan:mm_vmscan_direct_reclaim_begin", (int)smp_processor_id(m),
	      get_current(m) ? get_current(m)->pid : -1, 0, 0, order, "order=%u nid=%d", order, nid);
	got = shrink_node(m, nid, want, RECLAIM_DIRECT);
	for (unsigned int n = 0; !got && n < m->nr_nodes; n++)
		if ((int)n != nid)
			got = shrink_node(m, (int)n, want, RECLAIM_DIRECT);
	if (got)
		drain_all_pages(m);
	return got;
}

/* ------------------------------------------------- MADV_COLD / PAGEOUT */

struct pageout_walk {
	struct list_head isolated;
	bool pageout;
};

/*
 * madvise_cold_or_pageout_pte_range, one PTE: a page mapped only here and
 * on the LRU loses its young bit (so reclaim sees it cold); for PAGEOUT an
 * anonymous one is isolated for reclaim.  Pages other processes map are
 * left alone, as Linux does, so one process cannot push out what another
 * is using.
 */
static int pageout_pte(pteval_t *ptep, uint64_t addr, struct mm_walk *walk)
{
	struct pageout_walk *w = walk->private;
	struct mmsim_machine *m = walk->mm->machine;
	pteval_t pte = *ptep;
	struct page *p;

	if (!pte_valid(pte))
		return 0;
	p = vm_normal_page(walk->vma, addr, pte);
	if (p && PageCompound(p)) {
		/* A PTE-mapped THP: split it first if only this process maps it. */
		int err;

		if (folio_mapcount(compound_head(p)) != (int)compound_nr(p))
			return 0;
		get_page(p);
		err = split_huge_page(m, p);
		put_page(m, p);
		if (err)
			return 0;
	}
	if (!p || !(p->flags & PG_lru) || p->mapcount != 1)
		return 0;
	if (pte_young(pte)) {
		*ptep = pte_mkold(pte);
		flush_tlb_page(walk->mm, addr);
	}
	if (w->pageout && PageAnon(p)) {
		isolate_page(m, p);
		list_add_tail(&p->lru, &w->isolated);
	}
	return 0;
}

/*
 * A huge PMD: its THP, if only this mapping has it, loses its young bit
 * and (PAGEOUT) is isolated whole, to be split when reclaimed; a PMD only
 * partly in the range, or shared, is split and its PTEs looked at.
 */
static int pageout_pmd(pteval_t *pmdp, uint64_t addr, uint64_t next, struct mm_walk *walk)
{
	struct pageout_walk *w = walk->private;
	struct mmsim_machine *m = walk->mm->machine;
	uint64_t haddr = addr & PMD_MASK;
	spinlock_t *ptl = &walk->mm->page_table_lock;	/* the PMD lock */
	pteval_t pmd;
	struct page *head;

	spin_lock(ptl);
	pmd = *pmdp;
	if (!pmd_trans_huge(pmd) || !pte_valid(pmd) || is_huge_zero_pmd(m, pmd)) {
		spin_unlock(ptl);
		return 0;
	}
	head = pfn_to_page(m, pmd_pfn(pmd));
	if (addr != haddr || next != haddr + PMD_SIZE || folio_mapcount(head) != 1) {
		spin_unlock(ptl);
		__split_huge_pmd(walk->vma, pmdp, haddr);
		return 0;
	}
	if (pmd_young(pmd)) {
		*pmdp = pmd_mkold(pmd);
		flush_pmd_tlb_range(walk->mm, haddr);
	}
	if (w->pageout && (head->flags & PG_lru)) {
		isolate_page(m, head);
		list_add_tail(&head->lru, &w->isolated);
	}
	spin_unlock(ptl);
	return 0;
}

/*
 * madvise_cold_or_pageout - MADV_COLD (pageout false) or MADV_PAGEOUT on
 * [start, end) of v.  -EINVAL on locked or hugetlb memory; shared
 * mappings of a file are left alone (shmem is not swapped).  The isolated
 * pages are reclaimed at once whatever their young bits (reclaim_pages).
 */
int madvise_cold_or_pageout(struct vm_area_struct *v, uint64_t start, uint64_t end, bool pageout)
{
	static const struct mm_walk_ops ops = { .pmd_entry = pageout_pmd, .pte_entry = pageout_pte };
	struct mmsim_machine *m = v->vm_mm->machine;
	struct pageout_walk w = { .pageout = pageout };

	if (v->vm_flags & (VM_LOCKED | VM_HUGETLB))
		return seterr(-MMSIM_EINVAL, "madvise: %s on locked memory at %#llx",
			      pageout ? "MADV_PAGEOUT" : "MADV_COLD", (unsigned long long)start);
	if (!vma_is_anonymous(v) && (v->vm_flags & VM_MAYSHARE))
		return 0;
	INIT_LIST_HEAD(&w.isolated);
	walk_page_range(v->vm_mm, v, start, end, &ops, &w);
	while (!list_empty(&w.isolated)) {
		struct page *p = list_first_entry(&w.isolated, struct page, lru);

		list_del(&p->lru);
		putback_page(m, p, can_reclaim_anon_pages(m) ? shrink_page(m, p, true, &w.isolated) : PAGE_KEEP);
	}
	return 0;
}
