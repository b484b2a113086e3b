// SPDX-License-Identifier: MIT
/*
 * mm/rmap.c - reverse mapping: from a page to the PTEs that map it.
 *
 * An anonymous page points at its anon_vma and records its linear index
 * (page->index, in the units of vm_pgoff); every VMA on the anon_vma that
 * covers that index may map it at vm_start + (index - vm_pgoff) pages.  A
 * shmem page points at its inode, whose i_mmap lists the VMAs mapping it.
 * The walk looks at each candidate PTE and reports only those that really
 * map the frame (present, or a migration entry naming it).
 *
 * Pages hold no reference on their anon_vma (as in Linux): once the last
 * VMA is gone every PTE is gone, so an unmapped page's mapping is never
 * followed.  Migration, which walks unmapped pages, holds a reference.
 */
#include <stdlib.h>

#include "mm/internal.h"

/*
 * Give vma an anon_vma before its first anonymous page.  As Linux's
 * anon_vma_prepare: the new anon_vma's rwsem for write, then
 * page_table_lock, under which two faults of one VMA race to install one.
 */
int anon_vma_prepare(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct anon_vma *av;

	if (__atomic_load_n(&vma->anon_vma, __ATOMIC_ACQUIRE))
		return 0;
	av = calloc(1, sizeof(*av));
	if (!av)
		return -MMSIM_ENOMEM;
	INIT_LIST_HEAD(&av->vmas);
	av->id = __atomic_fetch_add(&mm->machine->next_anon_vma_id, 1, __ATOMIC_RELAXED);
	av->rwsem = (struct rw_semaphore)RWSEM_INIT("anon_vma");
	down_write(&av->rwsem);
	spin_lock(&mm->page_table_lock);
	if (vma->anon_vma) {
		spin_unlock(&mm->page_table_lock);
		up_write(&av->rwsem);
		free(av);
		return 0;
	}
	__anon_vma_link(vma, av);
	spin_unlock(&mm->page_table_lock);
	up_write(&av->rwsem);
	return 0;
}

/*
 * Put vma on av's list; the caller holds av->rwsem for write (Linux's
 * anon_vma_chain_link, whose callers all hold anon_vma_lock_write).  vma's
 * mm and range must be final: a walk that finds it maps its pages there.
 */
void __anon_vma_link(struct vm_area_struct *vma, struct anon_vma *av)
{
	list_add_tail(&vma->anon_vma_node, &av->vmas);
	av->refcount++;
	/* Published last: a lockless anon_vma_prepare sees it with the link done. */
	__atomic_store_n(&vma->anon_vma, av, __ATOMIC_RELEASE);
}

/*
 * anon_vma_link - __anon_vma_link under av->rwsem for write: an rmap walk
 * (migration, reclaim) holds it for read across its whole pass over the
 * list, and a VMA added in the middle of that pass could be missed - the
 * walk passes the tail before fork copies a PTE the walk then changes.
 */
void anon_vma_link(struct vm_area_struct *vma, struct anon_vma *av)
{
	down_write(&av->rwsem);
	__anon_vma_link(vma, av);
	up_write(&av->rwsem);
}

/* anon_vma_clone: dst, a finished copy of src, joins src's anon_vma (if any). */
void anon_vma_clone(struct vm_area_struct *dst, struct vm_area_struct *src)
{
	if (src->anon_vma)
		anon_vma_link(dst, src->anon_vma);
}

void anon_vma_put(struct anon_vma *av)
{
	if (--av->refcount == 0)
		free(av);
}

void unlink_anon_vma(struct mmsim_machine *m, struct vm_area_struct *vma)
{
	struct anon_vma *av = vma->anon_vma;

	(void)m;
	if (!av)
		return;
	down_write(&av->rwsem);
	list_del(&vma->anon_vma_node);
	vma->anon_vma = NULL;
	up_write(&av->rwsem);
	anon_vma_put(av);
}

/*
 * A freshly allocated anonymous page, mapped once, by this process only.
 * For a THP (a compound head) the one mapping is a PMD at addr: every page
 * gets the anon_vma and its own index, the head counts the PMD map and
 * carries the exclusive flag for the whole.
 */
void folio_add_new_anon_rmap(struct page *p, struct vm_area_struct *vma, uint64_t addr)
{
	struct mmsim_machine *m = vma->vm_mm->machine;

	if (p->flags & PG_head) {
		uint64_t nr = 1ULL << p->order, index = linear_page_index(vma, addr);

		for (uint64_t i = 0; i < nr; i++) {
			p[i].mapping = (uintptr_t)vma->anon_vma | PAGE_MAPPING_ANON;
			p[i].index = index + i;
			p[i].flags |= PG_swapbacked | PG_uptodate;
		}
		p->entire_mapcount = 1;
		p->flags |= PG_anon_exclusive;
		mod_node_page_state(&m->nodes[p->nid], NR_ANON_MAPPED, (int64_t)nr);
		mod_node_page_state(&m->nodes[p->nid], NR_ANON_THPS, (int64_t)nr);
		return;
	}
	p->mapping = (uintptr_t)vma->anon_vma | PAGE_MAPPING_ANON;
	p->index = linear_page_index(vma, addr);
	p->mapcount = 1;
	p->flags |= PG_anon_exclusive | PG_swapbacked | PG_uptodate;
	mod_node_page_state(&m->nodes[p->nid], NR_ANON_MAPPED, 1);
}

/* Is p a page of a compound page that a PMD maps (so already counted mapped)? */
static bool pmd_mapped(struct page *p)
{
	return PageCompound(p) && compound_head(p)->entire_mapcount;
}

/* One more PTE maps an existing page (fork, or a page-cache page). */
void page_dup_rmap(struct mmsim_machine *m, struct page *p)
{
	if (p->mapcount++ == 0 && !pmd_mapped(p))
		mod_node_page_state(&m->nodes[p->nid], PageAnon(p) ? NR_ANON_MAPPED : NR_FILE_MAPPED, 1);
}

void page_remove_rmap(struct mmsim_machine *m, struct page *p)
{
	/* A COW fault of another process may unmap the same page on another CPU. */
	int left = par_cpu ? __atomic_sub_fetch(&p->mapcount, 1, __ATOMIC_ACQ_REL) : --p->mapcount;

	if (left == 0 && !pmd_mapped(p)) {
		mod_node_page_state(&m->nodes[p->nid], PageAnon(p) ? NR_ANON_MAPPED : NR_FILE_MAPPED, -1);
		page_clear_flag(p, PG_anon_exclusive);
	}
}

int folio_mapcount(struct page *head)
{
	uint64_t nr;
	int n;

	if (!(head->flags & PG_head))
		return head->mapcount;
	nr = 1ULL << head->order;
	n = head->entire_mapcount;
	for (uint64_t i = 0; i < nr; i++)
		n += head[i].mapcount;
	return n;
}

/*
 * The first PMD map of a THP makes its PTE-unmapped pages mapped (and the
 * whole of it an AnonHugePages THP); the last one undoes that.
 */
static void pmd_mapped_account(struct mmsim_machine *m, struct page *head, int sign)
{
	uint64_t nr = 1ULL << head->order;
	int64_t unmapped = 0;

	for (uint64_t i = 0; i < nr; i++)
		unmapped += head[i].mapcount == 0;
	mod_node_page_state(&m->nodes[head->nid], NR_ANON_MAPPED, sign * unmapped);
	mod_node_page_state(&m->nodes[head->nid], NR_ANON_THPS, sign * (int64_t)nr);
}

void folio_dup_rmap_pmd(struct mmsim_machine *m, struct page *head)
{
	if (head->entire_mapcount++ == 0)
		pmd_mapped_account(m, head, 1);
}

void folio_remove_rmap_pmd(struct mmsim_machine *m, struct page *head)
{
	if (--head->entire_mapcount == 0) {
		pmd_mapped_account(m, head, -1);
		if (!folio_mapcount(head))
			head->flags &= ~PG_anon_exclusive;
	}
}

/* Does this descriptor map pfn, or stand for it during migration? */
static bool pte_maps_pfn(pteval_t pte, uint64_t pfn)
{
	if (pte_present(pte))
		return pte_pfn(pte) == pfn;
	if (!pte_none(pte)) {
		swp_entry_t e = pte_to_swp_entry(pte);

		return is_migration_entry(e) && swp_offset(e) == pfn;
	}
	return false;
}

static int rmap_one(struct vm_area_struct *vma, struct page *p, uint64_t pfn, rmap_one_fn fn,
		    void *arg)
{
	uint64_t addr;
	pteval_t *ptep;
	spinlock_t *ptl;
	int ret;

	if (p->index < vma->vm_pgoff || p->index - vma->vm_pgoff >= vma_pages(vma))
		return 0;
	addr = vma->vm_start + ((p->index - vma->vm_pgoff) << PAGE_SHIFT);
	ptep = pte_offset(vma->vm_mm, addr);
	if (!ptep)
		return 0;
	ptl = pte_lockptr(vma->vm_mm, ptep);
	spin_lock(ptl);
	ret = pte_maps_pfn(*ptep, pfn) ? fn(vma, addr, ptep, arg) : 0;
	spin_unlock(ptl);
	return ret;
}

/*
 * rmap_walk - call fn on each PTE mapping p; stops early when fn returns
 * nonzero and returns that value.  The caller guarantees p->mapping is alive
 * (p is mapped, or the caller holds a reference on the anon_vma/inode).
 */
int rmap_walk(struct mmsim_machine *m, struct page *p, rmap_one_fn fn, void *arg)
{
	uint64_t pfn = page_to_pfn(m, p);
	struct list_head *pos, *n;
	int ret = 0;

	if (!p->mapping)
		return 0;
	if (PageAnon(p)) {
		struct anon_vma *av = page_anon_vma(p);

		down_read(&av->rwsem);
		list_for_each_safe(pos, n, &av->vmas) {
			struct vm_area_struct *vma = list_entry(pos, struct vm_area_struct, anon_vma_node);

			if ((ret = rmap_one(vma, p, pfn, fn, arg)))
				break;
		}
		up_read(&av->rwsem);
	} else {
		struct shmem_inode *in = (struct shmem_inode *)p->mapping;

		down_read(&in->i_mmap_rwsem);
		list_for_each_safe(pos, n, &in->i_mmap) {
			struct vm_area_struct *vma = list_entry(pos, struct vm_area_struct, shared_node);

			if ((ret = rmap_one(vma, p, pfn, fn, arg)))
				break;
		}
		up_read(&in->i_mmap_rwsem);
	}
	return ret;
}
