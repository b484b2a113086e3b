// SPDX-License-Identifier: MIT
/*
 * mm/shmem.c - shared memory objects: memfd_create() files and the object
 * behind MAP_SHARED|MAP_ANONYMOUS.
 *
 * An inode's page cache maps a page index to a frame.  It is a two-level
 * table of 512-entry chunks allocated on demand, so a huge sparse object
 * (a 1 TiB shared mapping touched in three places) costs three chunks.  The
 * cache holds one reference on each page; each PTE mapping it holds another.
 * Truncation and hole punching first unmap the pages from every VMA on
 * i_mmap, then drop the cache's reference - so a later access past EOF is
 * SIGBUS and a punched hole reads zeros, as on Linux.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mm/internal.h"

#define CHUNK_SHIFT 9
#define CHUNK_SIZE  (1ULL << CHUNK_SHIFT)

struct shmem_inode *shmem_inode_create(struct mmsim_machine *m, const char *name, bool anon)
{
	struct shmem_inode *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->refcount = 1;
	INIT_LIST_HEAD(&in->i_mmap);
	in->i_mmap_rwsem = (struct rw_semaphore)RWSEM_INIT("i_mmap_rwsem");
	snprintf(in->name, sizeof(in->name), "%s", name ? name : "");
	in->anon_shared = anon;
	in->id = m->next_inode_id++;
	return in;
}

void shmem_inode_get(struct shmem_inode *in)
{
	in->refcount++;
}

static uint64_t *cache_slot(struct shmem_inode *in, uint64_t index, bool alloc)
{
	uint64_t chunk = index >> CHUNK_SHIFT;
	uint64_t **chunks = (uint64_t **)in->pages;

	if (chunk >= in->nr_slots) {
		uint64_t n = in->nr_slots ? in->nr_slots : 1;

		if (!alloc)
			return NULL;
		while (n <= chunk)
			n *= 2;
		chunks = realloc(chunks, n * sizeof(*chunks));
		if (!chunks)
			return NULL;
		memset(chunks + in->nr_slots, 0, (n - in->nr_slots) * sizeof(*chunks));
		in->pages = (uint64_t *)chunks;
		in->nr_slots = n;
	}
	if (!chunks[chunk]) {
		if (!alloc || !(chunks[chunk] = calloc(CHUNK_SIZE, sizeof(uint64_t))))
			return NULL;
	}
	return &chunks[chunk][index & (CHUNK_SIZE - 1)];
}

struct page *shmem_find_page(struct mmsim_machine *m, struct shmem_inode *in, uint64_t index)
{
	uint64_t *slot = cache_slot(in, index, false);

	return slot && *slot ? pfn_to_page(m, *slot - 1) : NULL;
}

/*
 * shmem_get_page - the page at index, created zeroed if absent, locked and
 * with a reference for the caller, who maps it (or copies it) and then
 * unlocks it: truncation takes each page's lock before it takes the page
 * out of the cache, so a page the caller holds locked and finds still in
 * the cache is not past EOF until the caller lets go (Linux's
 * shmem_get_folio returns it locked, and checks folio->mapping after
 * locking).  NULL with *ret = VM_FAULT_SIGBUS past EOF, or VM_FAULT_OOM
 * when memory is short.
 */
struct page *shmem_get_page(struct mmsim_task *t, struct shmem_inode *in, uint64_t index,
			    gfp_t extra_gfp, vm_fault_t *ret)
{
	struct mmsim_machine *m = t->machine;
	struct page *p = NULL;
	uint64_t *slot;

	for (;;) {
		if (index >= (in->size + PAGE_SIZE - 1) >> PAGE_SHIFT) {
			if (p)
				__free_pages(m, p, 0);
			*ret = VM_FAULT_SIGBUS;
			return NULL;
		}
		slot = cache_slot(in, index, true);
		if (!slot) {
			if (p)
				__free_pages(m, p, 0);
			*ret = VM_FAULT_OOM;
			return NULL;
		}
		if (*slot) {
			struct page *found = pfn_to_page(m, *slot - 1);

			/* Another task's page got in first: use it, as -EEXIST does. */
			if (p) {
				__free_pages(m, p, 0);
				p = NULL;
			}
			get_page(found);
			folio_lock(found);
			/*
			 * Truncated (or migrated) while we waited for its lock:
			 * look again - the size first, which truncation set
			 * before it took pages out.
			 */
			if (found->mapping != (uintptr_t)in || found->index != index ||
			    index >= (in->size + PAGE_SIZE - 1) >> PAGE_SHIFT) {
				folio_unlock(found);
				put_page(m, found);
				continue;
			}
			return found;
		}
		if (p)
			break;
		/*
		 * The allocation may sleep, and meanwhile another task may
		 * fill the slot (two faults on one hole) or truncate the file:
		 * look again before the page goes in (shmem_add_to_page_cache).
		 */
		p = alloc_pages_node(m, policy_node(t, NULL, 0),
				     GFP_HIGHUSER_MOVABLE | __GFP_ZERO | extra_gfp, 0);
		if (!p) {
			*ret = VM_FAULT_OOM;
			return NULL;
		}
	}
	/*
	 * Into the cache locked (nobody can see it yet: no waiting, no
	 * switch), and before anything that may switch tasks (the LRU lock).
	 */
	folio_trylock(p);
	p->mapping = (uintptr_t)in;
	p->index = index;
	p->flags |= PG_swapbacked | PG_uptodate;
	*slot = page_to_pfn(m, p) + 1;
	in->nr_pages++;
	mod_node_page_state(&m->nodes[p->nid], NR_FILE_PAGES, 1);
	mod_node_page_state(&m->nodes[p->nid], NR_SHMEM, 1);
	get_page(p);
	lru_add(m, p);
	return p;
}

/* Migration: the cache slot of old now holds new, with the cache's reference. */
void shmem_replace_page(struct mmsim_machine *m, struct shmem_inode *in, struct page *old,
			struct page *new)
{
	uint64_t *slot = cache_slot(in, old->index, false);

	*slot = page_to_pfn(m, new) + 1;
	get_page(new);
	mod_node_page_state(&m->nodes[old->nid], NR_FILE_PAGES, -1);
	mod_node_page_state(&m->nodes[old->nid], NR_SHMEM, -1);
	mod_node_page_state(&m->nodes[new->nid], NR_FILE_PAGES, 1);
	mod_node_page_state(&m->nodes[new->nid], NR_SHMEM, 1);
	put_page(m, old);
}

/* Remove the page at index from the cache (it must be unmapped). */
static void shmem_delete_page(struct mmsim_machine *m, struct shmem_inode *in, uint64_t index)
{
	uint64_t *slot = cache_slot(in, index, false);
	struct page *p;

	if (!slot || !*slot)
		return;
	p = pfn_to_page(m, *slot - 1);
	*slot = 0;
	in->nr_pages--;
	mod_node_page_state(&m->nodes[p->nid], NR_FILE_PAGES, -1);
	mod_node_page_state(&m->nodes[p->nid], NR_SHMEM, -1);
	p->mapping = 0;
	put_page(m, p);
}

/*
 * Unmap file pages [start, end) (page indices) from every VMA mapping the
 * inode.  even_cows also removes private COW copies: truncation does (the
 * range is past EOF and must SIGBUS), hole punching does not (a private
 * copy is the process's own data), as in Linux.
 */
static void unmap_mapping_pages(struct shmem_inode *in, uint64_t start, uint64_t end, bool even_cows)
{
	struct list_head *pos;

	/* i_mmap_lock_read: a fork or an exit elsewhere may not relink VMAs meanwhile. */
	down_read(&in->i_mmap_rwsem);
	list_for_each(pos, &in->i_mmap) {
		struct vm_area_struct *vma = list_entry(pos, struct vm_area_struct, shared_node);
		uint64_t vs = vma->vm_pgoff, ve = vma->vm_pgoff + vma_pages(vma);
		uint64_t s = start > vs ? start : vs, e = end < ve ? end : ve;

		if (s >= e)
			continue;
		if (!even_cows && !(vma->vm_flags & VM_SHARED) && vma->anon_vma) {
			/* Zap only PTEs that still map page-cache pages. */
			for (uint64_t i = s; i < e; i++) {
				uint64_t addr = vma->vm_start + ((i - vs) << PAGE_SHIFT);
				pteval_t *ptep = pte_offset(vma->vm_mm, addr);
				struct page *p;

				if (!ptep || !pte_present(*ptep))
					continue;
				p = vm_normal_page(vma, addr, *ptep);
				if (p && !PageAnon(p))
					zap_page_range(vma, addr, addr + PAGE_SIZE);
			}
			continue;
		}
		zap_page_range(vma, vma->vm_start + ((s - vs) << PAGE_SHIFT),
			       vma->vm_start + ((e - vs) << PAGE_SHIFT));
	}
	up_read(&in->i_mmap_rwsem);
}

/*
 * Drop every cached page with index in [start, end), each under its lock
 * (truncate_inode_pages_range): a fault that found the page before it went
 * holds the lock until its PTE is in, and then the page is mapped again
 * after the unmap_mapping_pages() the caller did - so it is unmapped once
 * more under the lock, as truncate_cleanup_folio does.  even_cows as for
 * unmap_mapping_pages.
 */
static void shmem_drop_range(struct mmsim_machine *m, struct shmem_inode *in, uint64_t start, uint64_t end,
			     bool even_cows)
{
	uint64_t last = in->nr_slots << CHUNK_SHIFT;

	if (end > last)
		end = last;
	for (uint64_t i = start; i < end; i++) {
		uint64_t **chunks = (uint64_t **)in->pages;
		struct page *p;

		if (!chunks[i >> CHUNK_SHIFT]) {
			i |= CHUNK_SIZE - 1;
			continue;
		}
		p = shmem_find_page(m, in, i);
		if (!p)
			continue;
		get_page(p);
		folio_lock(p);
		if (p->mapping == (uintptr_t)in && p->index == i) {
			if (page_mapcount(p))
				unmap_mapping_pages(in, i, i + 1, even_cows);
			shmem_delete_page(m, in, i);
		}
		folio_unlock(p);
		put_page(m, p);
	}
}

/* ftruncate: shrinking unmaps and frees the pages past the new size. */
int shmem_truncate(struct mmsim_machine *m, struct shmem_inode *in, uint64_t size)
{
	uint64_t first = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;

	if (size < in->size) {
		/* i_size first (truncate_setsize): a fault from now on finds EOF. */
		in->size = size;
		unmap_mapping_pages(in, first, UINT64_MAX, true);
		shmem_drop_range(m, in, first, UINT64_MAX, true);
		/* The tail of a partial last page reads as zeros from now on. */
		if (size & ~PAGE_MASK) {
			struct page *p = shmem_find_page(m, in, size >> PAGE_SHIFT);

			if (p)
				memset(page_address(m, p) + (size & ~PAGE_MASK), 0, PAGE_SIZE - (size & ~PAGE_MASK));
		}
	}
	in->size = size;
	return 0;
}

/* FALLOC_FL_PUNCH_HOLE over bytes [start, end). */
int shmem_punch_hole(struct mmsim_machine *m, struct shmem_inode *in, uint64_t start, uint64_t end)
{
	uint64_t first = (start + PAGE_SIZE - 1) >> PAGE_SHIFT, last = end >> PAGE_SHIFT;

	/* Partial pages at the edges are zeroed in place. */
	for (uint64_t b = start; b < end && b < first << PAGE_SHIFT; b++) {
		struct page *p = shmem_find_page(m, in, b >> PAGE_SHIFT);

		if (p)
			page_address(m, p)[b & ~PAGE_MASK] = 0;
	}
	for (uint64_t b = last << PAGE_SHIFT > start ? last << PAGE_SHIFT : end; b < end; b++) {
		struct page *p = shmem_find_page(m, in, b >> PAGE_SHIFT);

		if (p)
			page_address(m, p)[b & ~PAGE_MASK] = 0;
	}
	if (first < last) {
		unmap_mapping_pages(in, first, last, false);
		shmem_drop_range(m, in, first, last, false);
	}
	return 0;
}

void shmem_inode_put(struct mmsim_machine *m, struct shmem_inode *in)
{
	if (--in->refcount > 0)
		return;
	shmem_drop_range(m, in, 0, UINT64_MAX, true);
	for (uint64_t c = 0; c < in->nr_slots; c++)
		free(((uint64_t **)in->pages)[c]);
	free(in->pages);
	free(in);
}
