// SPDX-License-Identifier: MIT
/*
 * mm/migrate.c - moving a user page to another frame while it is mapped.
 *
 * Migration happens in two steps, as in Linux:
 *
 *   unmap   every PTE mapping the page becomes a migration entry naming the
 *           old frame (write, read or read-exclusive, so the new PTE can be
 *           rebuilt with the same rights); TLBs are flushed.  From here on an
 *           access to the page faults and the task sleeps until the move ends
 *           (do_swap_page returns VM_FAULT_RETRY): no store can be lost.
 *   move    the data is copied, the page cache (for shmem) points to the new
 *           frame, every migration entry becomes a PTE to the new frame, and
 *           the old frame is freed.
 *
 * A page with references the model cannot account for (a pin, a
 * concurrent user) is refused with -EAGAIN, which is why pinned pages never
 * move.  The two steps are separate functions so tests can run an access
 * between them.
 */
#include "mm/internal.h"
#include "mm/vma.h"

bool page_is_movable(struct mmsim_machine *m, struct page *p)
{
	struct page *head = compound_head(p);

	(void)m;
	return (head->flags & PG_lru) && !(head->flags & (PG_reserved | PG_table | PG_zero)) &&
	       p->pincount == 0 && head->refcount > 0;
}

/* References a migratable page may have: its mappings, the page cache, ours. */
static int expected_refs(struct page *p)
{
	return p->mapcount + (PageAnon(p) ? 0 : 1) + 1;
}

struct unmap_arg {
	struct mmsim_machine *m;
	struct page *page;
};

static int install_migration_entry(struct vm_area_struct *vma, uint64_t addr, pteval_t *ptep, void *arg)
{
	struct unmap_arg *a = arg;
	pteval_t old = ptep_clear_flush(vma->vm_mm, addr, ptep);
	unsigned int type;

	if (!pte_present(old))
		return 0;
	if (pte_write(old))
		type = SWP_MIGRATION_WRITE;
	else if (a->page->flags & PG_anon_exclusive)
		type = SWP_MIGRATION_READ_EXCLUSIVE;
	else
		type = SWP_MIGRATION_READ;
	set_pte_at(vma->vm_mm, addr, ptep,
		   swp_entry_to_pte(swp_entry(type, page_to_pfn(a->m, a->page))));
	page_remove_rmap(a->m, a->page);
	return 0;
}

/*
 * migrate_folio_unmap - step one.  src must be movable, and the caller holds
 * one extra reference on it.  For anonymous pages the caller must also keep
 * the anon_vma alive until migrate_folio_move() (anon_vma refcount).
 */
int migrate_folio_unmap(struct mmsim_machine *m, struct page *src)
{
	struct unmap_arg a = { m, src };
	bool exclusive = src->flags & PG_anon_exclusive;

	/*
	 * No mapping: the page was migrated (or dropped by its owner) while
	 * this migrator waited for its lock - a second migrator, say
	 * alloc_contig_range evacuating a page a fault is already moving.
	 * Nothing is left to move; the caller retries or finds it freed.
	 * (Linux's second migrator would not get this far: the first one took
	 * the page off the LRU, so the second's isolation fails.)
	 */
	if (!src->mapping)
		return -MMSIM_EAGAIN;
	/*
	 * A page compaction isolated from the LRU is its to move: no one else
	 * may (alloc_contig_range finds it busy), but its migration may.
	 */
	if (src->flags & PG_isolated) {
		if (src->pincount || src->refcount != expected_refs(src))
			return -MMSIM_EAGAIN;
	} else if (!page_is_movable(m, src) || src->refcount != expected_refs(src)) {
		return -MMSIM_EAGAIN;
	}
	rmap_walk(m, src, install_migration_entry, &a);
	if (exclusive)
		src->flags |= PG_anon_exclusive;	/* remembered for the new page */
	return 0;
}

struct remap_arg {
	struct mmsim_machine *m;
	struct page *src, *dst;
};

static int remove_migration_pte(struct vm_area_struct *vma, uint64_t addr, pteval_t *ptep, void *arg)
{
	struct remap_arg *a = arg;
	swp_entry_t e = pte_to_swp_entry(*ptep);
	pteval_t pte;

	if (pte_present(*ptep) || !is_migration_entry(e))
		return 0;
	pte = pte_mkyoung(pfn_pte(page_to_pfn(a->m, a->dst), vma->vm_page_prot));
	if (swp_type(e) == SWP_MIGRATION_WRITE)
		pte = pte_mkwrite(pte_mkdirty(pte));
	else
		pte = pte_wrprotect(pte);
	if (swp_type(e) != SWP_MIGRATION_READ && PageAnon(a->dst))
		a->dst->flags |= PG_anon_exclusive;
	/* The entry's reference on the old frame becomes the PTE's on the new. */
	get_page(a->dst);
	put_page(a->m, a->src);
	page_dup_rmap(a->m, a->dst);
	set_pte_at(vma->vm_mm, addr, ptep, pte);
	return 0;
}

/*
 * migrate_folio_move - step two: copy src into dst (fresh, refcount 1),
 * move the page-cache slot, turn the migration entries into PTEs to dst.
 * Afterwards src holds only the caller's reference and dst holds the
 * mappings' and the cache's plus the caller's one.
 */
void migrate_folio_move(struct mmsim_machine *m, struct page *src, struct page *dst)
{
	struct remap_arg a = { m, src, dst };

	copy_user_highpage(m, dst, src);
	dst->mapping = src->mapping;
	dst->index = src->index;
	dst->flags |= src->flags & (PG_swapbacked | PG_uptodate | PG_dirty);
	lru_add(m, dst);
	if (!PageAnon(src)) {
		struct shmem_inode *in = (struct shmem_inode *)src->mapping;

		shmem_replace_page(m, in, src, dst);
	}
	src->flags &= ~PG_anon_exclusive;
	rmap_walk(m, src, remove_migration_pte, &a);
	src->mapping = 0;
	count_vm_event(m, PGMIGRATE_SUCCESS);
	charge(m, COST_MIGRATE_PAGE);
	TRACE(m, "migrate:mm_migrate_pages", (int)smp_processor_id(m), -1, 0, page_to_pfn(m, dst), 0,
	      "src_pfn=0x%llx dst_pfn=0x%llx", (unsigned long long)page_to_pfn(m, src),
	      (unsigned long long)page_to_pfn(m, dst));
}

/*
 * migrate_page_to - move src (caller holds an extra reference) to the fresh
 * page dst.  Returns 0, or -EAGAIN when src cannot move now.  Either way
 * the caller drops its references on src and dst afterwards.
 */
int migrate_page_to(struct mmsim_machine *m, struct page *src, struct page *dst)
{
	struct anon_vma *av;
	int err;

	/* dst is one page: a page of a THP moves alone, after the THP is split. */
	if (PageCompound(src)) {
		if (split_huge_page(m, src))
			return -MMSIM_EAGAIN;
		count_vm_event(m, THP_MIGRATION_SPLIT);
	}
	av = page_anon_vma(src);

	if (av)
		av->refcount++;
	folio_lock(src);
	folio_lock(dst);
	err = migrate_folio_unmap(m, src);
	if (!err) {
		/* Unmapped, not yet copied: an access now waits for the move. */
		sched_point("migrate: unmapped");
		migrate_folio_move(m, src, dst);
	} else {
		count_vm_event(m, PGMIGRATE_FAIL);
	}
	folio_unlock(dst);
	folio_unlock(src);
	if (av)
		anon_vma_put(av);
	return err;
}

/*
 * Move p, on which the caller holds a reference (as isolation would), to a
 * new page on node nid.  A page of a THP moves alone: the THP is split
 * first (thp_migration_split); a page of it nobody maps has nothing to
 * move, and the caller's put frees it.
 */
int migrate_held_page_to_node(struct mmsim_machine *m, struct page *p, int nid, gfp_t gfp)
{
	struct page *dst;
	int err;

	if (PageCompound(p)) {
		if (split_huge_page(m, p))
			return -MMSIM_EAGAIN;
		count_vm_event(m, THP_MIGRATION_SPLIT);
		if (page_count(p) == 1)
			return 0;
	}
	/* A tagged page moves to a tagged allocation: storage, never tag storage (§2.7). */
	if (p->flags & PG_mte_tagged)
		gfp |= __GFP_TAGGED;
	dst = alloc_pages_node(m, nid, gfp | (nid >= 0 ? __GFP_THISNODE : 0), 0);
	if (!dst)
		return -MMSIM_ENOMEM;
	err = migrate_page_to(m, p, dst);
	put_page(m, dst);
	return err;
}

/* Move p to a new page on node nid. */
int migrate_page_to_node(struct mmsim_machine *m, struct page *p, int nid, gfp_t gfp)
{
	int err;

	get_page(p);
	err = migrate_held_page_to_node(m, p, nid, gfp);
	put_page(m, p);
	return err;
}

/* ------------------------------------------------------------ move_pages */

/*
 * The page move_pages() sees at addr: like follow_page(FOLL_DUMP), NULL with
 * *err = -ENOENT when nothing is mapped, -EFAULT for no VMA or the zero page.
 */
static struct page *follow_page_dump(struct mmsim_task *t, uint64_t addr, int *err)
{
	struct vm_area_struct *vma = vma_lookup(t->mm, addr);
	struct page *p;
	pteval_t pte;

	*err = -MMSIM_EFAULT;
	if (!vma)
		return NULL;
	pte = follow_pte_value(t->mm, addr);
	*err = -MMSIM_ENOENT;
	if (!pte_present(pte))
		return NULL;
	p = vm_normal_page(vma, addr, pte);
	if (!p)
		*err = -MMSIM_EFAULT;
	return p;
}

int64_t mmsim_move_pages(struct mmsim_task *t, uint64_t count, const uint64_t *pages,
			 const int *nodes, int *status, int flags)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	struct mmsim_machine *m;
	int64_t not_moved = 0;
	int err;

	if ((err = syscall_enter(t)))
		return err;
	m = t->machine;
	if (flags & ~(MMSIM_MPOL_MF_MOVE | MMSIM_MPOL_MF_MOVE_ALL))
		return seterr(-MMSIM_EINVAL, "move_pages: unknown flags 0x%x", flags);
	if (!count)
		return 0;
	if (!pages || !status)
		return seterr(-MMSIM_EFAULT, "move_pages: %s is NULL", !pages ? "pages" : "status");
	for (uint64_t i = 0; i < count; i++) {
		uint64_t addr = untagged_addr(pages[i]) & PAGE_MASK;
		struct page *p;
		int node;

		/*
		 * The lookup runs under mmap_lock; the move itself, as in
		 * do_pages_move, after it is dropped: the page is held by its
		 * reference, and an mprotect may run meanwhile.
		 */
		mmap_read_lock(t->mm);
		p = follow_page_dump(t, addr, &err);
		if (p)
			get_page(p);
		mmap_read_unlock(t->mm);

		if (!nodes) {
			status[i] = p ? p->nid : err;
			if (p)
				put_page(m, p);
			continue;
		}
		node = nodes[i];
		if (node < 0 || node >= MAX_NUMNODES || node >= (int)m->nr_nodes) {
			if (p)
				put_page(m, p);
			if (node < 0 || node >= MAX_NUMNODES)
				return seterr(-MMSIM_EINVAL, "move_pages: nodes[%llu] = %d is not a node number",
					      (unsigned long long)i, node);
			return seterr(-MMSIM_ENODEV, "move_pages: node %d has no memory", node);
		}
		if (!p) {
			status[i] = err;
			continue;
		}
		if (p->nid == node) {
			put_page(m, p);
			status[i] = node;
			continue;
		}
		if (page_mapcount(p) > 1 && !(flags & MMSIM_MPOL_MF_MOVE_ALL)) {
			put_page(m, p);
			status[i] = -MMSIM_EACCES;
			continue;
		}
		err = migrate_held_page_to_node(m, p, node, GFP_HIGHUSER_MOVABLE);
		put_page(m, p);
		if (err) {
			status[i] = err == -MMSIM_EAGAIN ? -MMSIM_EBUSY : err;
			not_moved++;
		} else {
			status[i] = node;
		}
	}
	return not_moved;
}
