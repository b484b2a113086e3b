// SPDX-License-Identifier: MIT
/*
 * mm/mmap.c - the VMAs of an address space, mmap() and munmap().
 *
 * How the VMAs are kept
 * ---------------------
 * An mm_struct keeps its VMAs in one array of pointers sorted by vm_start
 * (mm->vmas, mm->nr_vmas used of mm->cap_vmas), plus mm->vmacache, the last
 * VMA a lookup found.  VMAs never overlap, so sorting by vm_start also sorts
 * by vm_end, and "the first VMA that ends above addr" is a binary search.
 *
 * Why an array and not a tree.  Linux moved from an rbtree to the maple
 * tree, a B-tree whose nodes are arrays of pivots, because walking pointers
 * between small nodes is what costs time: every hop is a cache miss.  A
 * process has a few hundred VMAs (a large one a few thousand), and at that
 * size the maple tree is one or two nodes - it has degenerated into a sorted
 * array.  So the model keeps exactly that:
 *
 *   - lookup is O(log n): a binary search over contiguous pointers, and the
 *     vmacache answers the common case (the fault after the fault on the
 *     same VMA) in O(1);
 *   - insert and remove are O(n): a memmove of at most a few KiB of
 *     pointers, which is cheaper than rebalancing a tree until n is in the
 *     tens of thousands, and vm.max_map_count (65530) bounds n anyway;
 *   - iteration in address order is a for loop, which is what munmap,
 *     mprotect, madvise, fork and /proc/pid/maps all do.
 *
 * The array holds pointers, not VMAs, so a struct vm_area_struct never moves
 * and the anon_vma and i_mmap lists can link the VMAs themselves.
 *
 * Invariants: vmas[i]->vm_end <= vmas[i+1]->vm_start, every VMA is
 * non-empty and page aligned, vm_mm points back at the mm (mmsim_check
 * verifies these), and the vmacache is NULL or one of the VMAs (vma_remove,
 * do_munmap and vm_area_free clear it, so it never dangles).
 *
 * The system calls follow Linux's ksys_mmap_pgoff(), do_mmap(), mmap_region()
 * and do_vmi_munmap(): the same checks in the same order, so the same errno.
 */
#include <stdlib.h>

#include "mm/vma.h"

#define MAP_HUGE_SHIFT  26
#define MAP_HUGE_2MB    (21 << MAP_HUGE_SHIFT)
#define MAP_HUGE_1GB    (30 << MAP_HUGE_SHIFT)
/* What MAP_SHARED silently accepts and MAP_SHARED_VALIDATE checks against. */
#define LEGACY_MAP_MASK (MMSIM_MAP_SHARED | MMSIM_MAP_PRIVATE | MMSIM_MAP_FIXED | \
			 MMSIM_MAP_ANONYMOUS | MMSIM_MAP_DENYWRITE |                  \
			 MMSIM_MAP_EXECUTABLE | MMSIM_MAP_UNINITIALIZED |             \
			 MMSIM_MAP_GROWSDOWN | MMSIM_MAP_LOCKED | MMSIM_MAP_NORESERVE | \
			 MMSIM_MAP_POPULATE | MMSIM_MAP_NONBLOCK | MMSIM_MAP_STACK |  \
			 MMSIM_MAP_HUGETLB | MAP_HUGE_2MB | MAP_HUGE_1GB)

#define OVERCOMMIT_NEVER 2

/* ------------------------------------------------------------- lookup */

/*
 * vma_index - index of the first VMA whose vm_end is above @addr, or
 * mm->nr_vmas when there is none.  Plain binary search; no side effects.
 */
int vma_index(struct mm_struct *mm, uint64_t addr)
{
	int lo = 0, hi = mm->nr_vmas;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (mm->vmas[mid]->vm_end > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * find_vma - the first VMA that ends above @addr (it may start above @addr
 * too: callers that want containment use vma_lookup).  NULL when every VMA
 * ends at or below @addr.  Remembers the answer in mm->vmacache.
 */
struct vm_area_struct *find_vma(struct mm_struct *mm, uint64_t addr)
{
	/* Threads of mm look VMAs up at once (faults under per-VMA locks): the cache word is shared. */
	struct vm_area_struct *v = __atomic_load_n(&mm->vmacache, __ATOMIC_RELAXED);
	int i;

	/* A hit needs containment: a VMA below it could also end above addr. */
	if (v && v->vm_start <= addr && addr < v->vm_end)
		return v;
	i = vma_index(mm, addr);
	if (i == mm->nr_vmas)
		return NULL;
	v = mm->vmas[i];
	__atomic_store_n(&mm->vmacache, v, __ATOMIC_RELAXED);
	return v;
}

/* vma_lookup - the VMA that contains @addr, or NULL. */
struct vm_area_struct *vma_lookup(struct mm_struct *mm, uint64_t addr)
{
	struct vm_area_struct *v = find_vma(mm, addr);

	return v && v->vm_start <= addr ? v : NULL;
}

/* Index of @v in the array; @v must be linked into @mm. */
static int vma_pos(struct mm_struct *mm, struct vm_area_struct *v)
{
	int i = vma_index(mm, v->vm_start);

	while (i < mm->nr_vmas && mm->vmas[i] != v)
		i++;
	return i;
}

/* Whether any VMA intersects [start, end). */
static bool range_mapped(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	struct vm_area_struct *v = find_vma(mm, start);

	return v && v->vm_start < end;
}

/* ---------------------------------------------------- VMA objects */

/*
 * vm_area_alloc - a zeroed VMA of @mm, not linked anywhere yet.  NULL when
 * the host is out of memory.
 */
struct vm_area_struct *vm_area_alloc(struct mm_struct *mm)
{
	struct vm_area_struct *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->vm_mm = mm;
	INIT_LIST_HEAD(&v->anon_vma_node);
	INIT_LIST_HEAD(&v->shared_node);
	v->mempolicy_mode = MMSIM_MPOL_DEFAULT;
	v->vm_lock = (struct rw_semaphore)RWSEM_INIT("vm_lock");
	v->vm_lock_seq = mm->mm_lock_seq;	/* created under mmap_write_lock */
	return v;
}

/*
 * vm_area_dup - a copy of @v that shares its file (with a reference of its
 * own).  The copy is in no mm's array, not yet on the inode's i_mmap and
 * not on the anon_vma's list: the caller sets its vm_mm and range, then
 * puts it there with vma_link_file() and anon_vma_clone() (each under its
 * lock for write), so no rmap walk meets a half-made copy.
 */
struct vm_area_struct *vm_area_dup(struct vm_area_struct *v)
{
	struct vm_area_struct *n = malloc(sizeof(*n));

	if (!n)
		return NULL;
	*n = *v;
	n->vm_lock = (struct rw_semaphore)RWSEM_INIT("vm_lock");
	n->vm_lock_seq = v->vm_mm->mm_lock_seq;	/* a copy made under mmap_write_lock */
	n->anon_vma = NULL;
	n->vm_file = NULL;
	INIT_LIST_HEAD(&n->anon_vma_node);
	INIT_LIST_HEAD(&n->shared_node);
	if (v->vm_file) {
		shmem_inode_get(v->vm_file);
		n->vm_file = v->vm_file;
	}
	return n;
}

/*
 * vma_link_file - put @n, a finished copy of @v, on their file's i_mmap
 * right after @v, under i_mmap_rwsem for write, as dup_mmap's
 * vma_interval_tree_insert_after: an rmap walk (migration, truncation)
 * runs under the lock for read, so it sees the copy either not at all or
 * after @v - it has passed @v before fork copies @v's PTEs only if it also
 * still reaches the copy.  At the head of the list a walk could pass the
 * copy, and the child kept a page the walk had moved away.
 */
void vma_link_file(struct vm_area_struct *n, struct vm_area_struct *v)
{
	if (!n->vm_file)
		return;
	down_write(&n->vm_file->i_mmap_rwsem);
	list_add(&n->shared_node, &v->shared_node);
	up_write(&n->vm_file->i_mmap_rwsem);
}

/*
 * vm_area_free - drop @v's anon_vma and file references and free it.  @v
 * must already be out of the mm's array and have no PTEs left.
 */
void vm_area_free(struct mmsim_machine *m, struct vm_area_struct *v)
{
	if (!v)
		return;
	if (v->anon_vma)
		unlink_anon_vma(m, v);
	if (v->vm_file) {
		down_write(&v->vm_file->i_mmap_rwsem);
		list_del(&v->shared_node);
		up_write(&v->vm_file->i_mmap_rwsem);
		shmem_inode_put(m, v->vm_file);
		v->vm_file = NULL;
	}
	if (v->vm_mm && v->vm_mm->vmacache == v)
		v->vm_mm->vmacache = NULL;
	free(v);
}

/* ------------------------------------------------ the sorted array */

/* Reverse a[i..j): three of these rotate a range in place. */
static void vmas_reverse(struct vm_area_struct **a, int i, int j)
{
	while (i < --j) {
		struct vm_area_struct *t = a[i];

		a[i++] = a[j];
		a[j] = t;
	}
}

/* Make room for one more pointer; -ENOMEM when the host has none. */
static int vmas_reserve(struct mm_struct *mm)
{
	struct vm_area_struct **a;
	int cap;

	if (mm->nr_vmas < mm->cap_vmas)
		return 0;
	cap = mm->cap_vmas ? mm->cap_vmas * 2 : 16;
	a = realloc(mm->vmas, (size_t)cap * sizeof(*a));
	if (!a)
		return -MMSIM_ENOMEM;
	mm->vmas = a;
	mm->cap_vmas = cap;
	return 0;
}

/*
 * vma_insert - link @v into @mm's array at its place.  @v's range must be
 * free: -EEXIST if it overlaps a VMA (a bug in the caller), -ENOMEM when the
 * array cannot grow.  Does not touch the vm counters (callers account).
 */
int vma_insert(struct mm_struct *mm, struct vm_area_struct *v)
{
	int i = vma_index(mm, v->vm_start);

	if (i < mm->nr_vmas && mm->vmas[i]->vm_start < v->vm_end)
		return -MMSIM_EEXIST;
	if (vmas_reserve(mm))
		return -MMSIM_ENOMEM;
	memmove(&mm->vmas[i + 1], &mm->vmas[i], (size_t)(mm->nr_vmas - i) * sizeof(*mm->vmas));
	mm->vmas[i] = v;
	mm->nr_vmas++;
	v->vm_mm = mm;
	charge(mm->machine, COST_VMA_OP);
	return 0;
}

/*
 * vma_remove - unlink @v from @mm's array (it stays allocated, with its
 * anon_vma and file links; vm_area_free drops those).  @v must be linked.
 */
void vma_remove(struct mm_struct *mm, struct vm_area_struct *v)
{
	int i = vma_pos(mm, v);

	if (i == mm->nr_vmas)
		return;
	memmove(&mm->vmas[i], &mm->vmas[i + 1], (size_t)(mm->nr_vmas - i - 1) * sizeof(*mm->vmas));
	mm->nr_vmas--;
	if (mm->vmacache == v)
		mm->vmacache = NULL;
	charge(mm->machine, COST_VMA_OP);
}

/* ------------------------------------------------------ split, merge */

/*
 * __split_vma - cut @v at @addr (page aligned, strictly inside @v) into two
 * VMAs.  The new one is the part below @addr when @new_below, else the part
 * above; @v keeps the other part.  Both keep the anon_vma and file, and the
 * upper part's vm_pgoff advances by the pages below, so every page's rmap
 * index still resolves to the same address.  No map-count check.
 */
int __split_vma(struct mm_struct *mm, struct vm_area_struct *v, uint64_t addr, int new_below)
{
	struct vm_area_struct *n;
	uint64_t delta = (addr - v->vm_start) >> PAGE_SHIFT;
	int err;

	if (addr <= v->vm_start || addr >= v->vm_end || offset_in_page(addr))
		return -MMSIM_EINVAL;
	n = vm_area_dup(v);
	/* No huge PMD may straddle the cut (Linux's vma_adjust_trans_huge). */
	if (n)
		vma_adjust_trans_huge(v, addr);
	if (!n)
		return -MMSIM_ENOMEM;
	/*
	 * Rmap walks see @v whole, or both parts (vma_prepare): of the file,
	 * under i_mmap_rwsem; of the anonymous pages, under the anon_vma's
	 * rwsem, which @n joins with its range final.
	 */
	if (v->vm_file)
		down_write(&v->vm_file->i_mmap_rwsem);
	if (v->anon_vma)
		down_write(&v->anon_vma->rwsem);
	if (new_below) {
		n->vm_end = addr;
		v->vm_start = addr;
		v->vm_pgoff += delta;
	} else {
		n->vm_start = addr;
		n->vm_pgoff += delta;
		v->vm_end = addr;
	}
	if (v->anon_vma) {
		__anon_vma_link(n, v->anon_vma);
		up_write(&v->anon_vma->rwsem);
	}
	if (v->vm_file) {
		list_add(&n->shared_node, &v->shared_node);
		up_write(&v->vm_file->i_mmap_rwsem);
	}
	/* @v was trimmed first, so the array stays sorted and n's slot is free. */
	err = vma_insert(mm, n);
	if (err) {
		uint64_t start = n->vm_start, end = n->vm_end;

		vm_area_free(mm->machine, n);
		if (new_below) {
			v->vm_start = start;
			v->vm_pgoff -= delta;
		} else {
			v->vm_end = end;
		}
	}
	return err;
}

/*
 * split_vma - __split_vma, refused with -ENOMEM once the mm has
 * vm.max_map_count VMAs (the split would add one).
 */
int split_vma(struct mm_struct *mm, struct vm_area_struct *v, uint64_t addr, int new_below)
{
	if (mm->nr_vmas >= mm->machine->max_map_count)
		return -MMSIM_ENOMEM;
	return __split_vma(mm, v, addr, new_below);
}

/*
 * Whether @a, directly followed by @b, can become one VMA: adjacent, same
 * flags, same file at contiguous offsets, same NUMA policy, and anonymous
 * pages that one anon_vma can describe - the same anon_vma, or one side
 * that has none (it has never had an anonymous page), as Linux's
 * is_mergeable_anon_vma() allows.
 */
static bool vmas_mergeable(const struct vm_area_struct *a, const struct vm_area_struct *b)
{
	if (a->vm_end != b->vm_start)
		return false;
	if ((a->vm_flags ^ b->vm_flags) & ~VM_NO_MERGE_IGNORE)
		return false;
	if (a->vm_flags & VM_DONTEXPAND)
		return false;
	if (a->vm_file != b->vm_file)
		return false;
	if (a->anon_vma && b->anon_vma && a->anon_vma != b->anon_vma)
		return false;
	if (a->vm_pgoff + vma_pages(a) != b->vm_pgoff)
		return false;
	return a->mempolicy_mode == b->mempolicy_mode &&
	       a->mempolicy_nodes == b->mempolicy_nodes;
}

/*
 * Grow @a over its neighbour @b (a below b) and free @b.  @a inherits @b's
 * anon_vma when it had none, so @b's anonymous pages stay reachable.
 */
static void vma_absorb_next(struct mm_struct *mm, struct vm_area_struct *a,
			    struct vm_area_struct *b)
{
	vma_remove(mm, b);
	a->vm_end = b->vm_end;
	if (!a->anon_vma && b->anon_vma)
		anon_vma_link(a, b->anon_vma);
	vm_area_free(mm->machine, b);
}

/*
 * vma_merge_neighbours - merge @v into its predecessor and/or its successor
 * when vmas_mergeable() says so.  Returns the VMA that now covers @v's
 * range; @v is freed when it was merged into the one below.
 */
struct vm_area_struct *vma_merge_neighbours(struct mm_struct *mm, struct vm_area_struct *v)
{
	int i = vma_pos(mm, v);

	if (i == mm->nr_vmas)
		return v;
	if (i > 0 && vmas_mergeable(mm->vmas[i - 1], v)) {
		struct vm_area_struct *prev = mm->vmas[i - 1];

		vma_absorb_next(mm, prev, v);
		v = prev;
		i--;
	}
	if (i + 1 < mm->nr_vmas && vmas_mergeable(v, mm->vmas[i + 1]))
		vma_absorb_next(mm, v, mm->vmas[i + 1]);
	return v;
}

/* vma_try_merge_around - vma_merge_neighbours for callers done with @v. */
void vma_try_merge_around(struct mm_struct *mm, struct vm_area_struct *v)
{
	vma_merge_neighbours(mm, v);
}

/*
 * vma_modify_flags - see vma.h.  Splits only where [start, end) does not
 * reach @v's edges; when the flags do not change nothing is split at all.
 */
int vma_modify_flags(struct mm_struct *mm, struct vm_area_struct **vp,
		     uint64_t start, uint64_t end, uint64_t newflags)
{
	struct vm_area_struct *v = *vp;
	int err;

	if (v->vm_flags == newflags)
		return 0;
	if (start > v->vm_start) {
		err = split_vma(mm, v, start, 0);
		if (err)
			return err;
		v = vma_lookup(mm, start);
		*vp = v;
	}
	if (end < v->vm_end) {
		err = split_vma(mm, v, end, 0);
		if (err)
			return err;
	}
	v->vm_flags = newflags;
	vma_set_page_prot(v);
	*vp = vma_merge_neighbours(mm, v);
	return 0;
}

/* ----------------------------------------------------------- munmap */

/*
 * do_munmap - unmap [start, start + len): split the VMAs that straddle the
 * edges, zap their pages (the zap flushes the TLB), drop them, and free the
 * page tables that now map only the hole.  Linux's do_vmi_munmap checks:
 * -EINVAL for an unaligned start, a range past TASK_SIZE or len 0; -ENOMEM
 * when a split in the middle of a VMA would pass vm.max_map_count.  An
 * empty range is not an error.
 */
int do_munmap(struct mm_struct *mm, uint64_t start, uint64_t len)
{
	struct mmsim_machine *m = mm->machine;
	struct vm_area_struct *v;
	uint64_t end, floor, ceiling;
	int first, last, err;

	if (offset_in_page(start) || start > TASK_SIZE || len > TASK_SIZE - start)
		return -MMSIM_EINVAL;
	end = start + PAGE_ALIGN(len);
	if (end == start)
		return -MMSIM_EINVAL;

	first = vma_index(mm, start);
	if (first == mm->nr_vmas || mm->vmas[first]->vm_start >= end)
		return 0;
	v = mm->vmas[first];
	if (v->vm_start < start) {
		/* A hole in the middle of one VMA leaves one more VMA behind. */
		if (end < v->vm_end && mm->nr_vmas >= m->max_map_count)
			return -MMSIM_ENOMEM;
		err = __split_vma(mm, v, start, 0);
		if (err)
			return err;
		first++;
	}
	last = first;
	while (last < mm->nr_vmas && mm->vmas[last]->vm_start < end)
		last++;
	v = mm->vmas[last - 1];
	if (v->vm_end > end) {
		/* The lower part, [v->vm_start, end), is the new VMA at last - 1. */
		err = __split_vma(mm, v, end, 1);
		if (err)
			return err;
	}

	for (int i = first; i < last; i++) {
		v = mm->vmas[i];
		zap_page_range(v, v->vm_start, v->vm_end);
		vm_stat_account(mm, v->vm_flags, -(int64_t)vma_pages(v));
		if (v->vm_flags & VM_LOCKED)
			mm->locked_vm -= vma_pages(v);
	}
	/*
	 * Out of the array first, freed after, as Linux frees a VMA only once
	 * the maple tree no longer leads to it: freeing sleeps (the anon_vma
	 * and i_mmap locks), and meanwhile a fault's lock_vma_under_rcu reads
	 * the array without mmap_lock.  The gone VMAs are rotated past the
	 * end of the array, where no lookup looks.
	 */
	vmas_reverse(mm->vmas, first, last);
	vmas_reverse(mm->vmas, last, mm->nr_vmas);
	vmas_reverse(mm->vmas, first, mm->nr_vmas);
	mm->nr_vmas -= last - first;
	for (int i = mm->nr_vmas; i < mm->nr_vmas + (last - first); i++) {
		v = mm->vmas[i];
		charge(m, COST_VMA_OP);
		if (mm->vmacache == v)
			mm->vmacache = NULL;
		v->vm_mm = NULL;
		vm_area_free(m, v);
	}

	floor = first > 0 ? mm->vmas[first - 1]->vm_end : 0;
	ceiling = first < mm->nr_vmas ? mm->vmas[first]->vm_start : TASK_SIZE;
	free_pgtables(mm, floor, ceiling);
	return 0;
}

/* ------------------------------------------------------- placement */

/* Lowest address a gap above @v may use (room for a growing stack's guard). */
static uint64_t vm_end_gap(const struct vm_area_struct *v)
{
	return v->vm_end;
}

/* Highest address a gap below @v may use: a VM_GROWSDOWN VMA keeps a guard. */
static uint64_t vm_start_gap(const struct vm_area_struct *v)
{
	if ((v->vm_flags & VM_GROWSDOWN) && v->vm_start > STACK_GUARD_GAP)
		return v->vm_start - STACK_GUARD_GAP;
	return (v->vm_flags & VM_GROWSDOWN) ? 0 : v->vm_start;
}

/* Bounds of the gap below vmas[i] (i == nr_vmas: the gap above the last). */
static void gap_below(struct mm_struct *mm, int i, uint64_t *lo, uint64_t *hi)
{
	*lo = i > 0 ? vm_end_gap(mm->vmas[i - 1]) : 0;
	*hi = i < mm->nr_vmas ? vm_start_gap(mm->vmas[i]) : TASK_SIZE;
}

/* Whether [addr, addr + len) fits between the VMAs and their guard gaps. */
static bool area_free(struct mm_struct *mm, uint64_t addr, uint64_t len)
{
	int i = vma_index(mm, addr);
	uint64_t lo, hi;

	gap_below(mm, i, &lo, &hi);
	return addr >= lo && addr + len <= hi;
}

/*
 * get_unmapped_area - where a mapping of @len bytes goes, as Linux's
 * generic top-down layout places it: the @hint when it is page aligned,
 * at or above mmap_min_addr and free; else the highest gap below
 * mm->mmap_base that fits; else the lowest gap above TASK_UNMAPPED_BASE.
 * Returns the address, or -ENOMEM (as a uint64_t) when nothing fits.
 * @len is page aligned and non-zero.
 */
uint64_t get_unmapped_area(struct mm_struct *mm, uint64_t hint, uint64_t len)
{
	uint64_t high = mm->mmap_base && mm->mmap_base <= TASK_SIZE ? mm->mmap_base : TASK_SIZE;
	uint64_t low = MMAP_MIN_ADDR > PAGE_SIZE ? MMAP_MIN_ADDR : PAGE_SIZE;

	if (len > TASK_SIZE - MMAP_MIN_ADDR)
		return (uint64_t)-MMSIM_ENOMEM;
	if (hint && hint <= TASK_SIZE) {
		hint = PAGE_ALIGN(hint);
		if (hint <= TASK_SIZE - len && hint >= MMAP_MIN_ADDR && area_free(mm, hint, len))
			return hint;
	}
	/* Top down: gaps from the highest to the lowest. */
	for (int i = mm->nr_vmas; i >= 0; i--) {
		uint64_t lo, hi;

		gap_below(mm, i, &lo, &hi);
		if (lo >= high)
			continue;
		if (hi > high)
			hi = high;
		if (lo < low)
			lo = low;
		if (hi > lo && hi - lo >= len)
			return hi - len;
		if (hi <= low)
			break;
	}
	/* Bottom up from TASK_UNMAPPED_BASE, as arch_get_unmapped_area_topdown falls back. */
	for (int i = 0; i <= mm->nr_vmas; i++) {
		uint64_t lo, hi;

		gap_below(mm, i, &lo, &hi);
		if (hi <= TASK_UNMAPPED_BASE)
			continue;
		if (lo < TASK_UNMAPPED_BASE)
			lo = TASK_UNMAPPED_BASE;
		if (hi > lo && hi - lo >= len)
			return lo;
	}
	return (uint64_t)-MMSIM_ENOMEM;
}

/*
 * Placement of an anonymous private mapping whose length is a multiple of
 * 2 MiB and that has no hint: Linux pads the search by one PMD and aligns
 * the result, so the mapping can be backed by huge pages from the start
 * (__thp_get_unmapped_area).  Falls back to the plain search.
 */
static uint64_t thp_get_unmapped_area(struct mm_struct *mm, uint64_t len)
{
	uint64_t addr, off_sub;

	if (len + PMD_SIZE < len)
		return get_unmapped_area(mm, 0, len);
	addr = get_unmapped_area(mm, 0, len + PMD_SIZE);
	if (IS_ERR_ADDR(addr))
		return get_unmapped_area(mm, 0, len);
	off_sub = (0 - addr) & (PMD_SIZE - 1);
	/* Top-down: an aligned gap start means the aligned slot at its top is next to the VMA above. */
	if (!off_sub)
		return addr + PMD_SIZE;
	return addr + off_sub;
}

/* get_unmapped_area_anon - see vma.h. */
uint64_t get_unmapped_area_anon(struct mm_struct *mm, uint64_t hint, uint64_t len,
				bool anon_private)
{
	if (anon_private && !hint && !(len & (PMD_SIZE - 1)))
		return thp_get_unmapped_area(mm, len);
	return get_unmapped_area(mm, hint, len);
}

/* ------------------------------------------------------ accounting */

/* vma_set_page_prot - the PTE bits new mappings of @v get. */
void vma_set_page_prot(struct vm_area_struct *v)
{
	v->vm_page_prot = vm_get_page_prot(v->vm_flags);
}

/*
 * vm_stat_account - add @npages (negative to remove) to the mm's counters
 * as Linux sorts them: total_vm always; stack_vm for VM_STACK; data_vm for
 * private writable non-stack memory; executable mappings count in neither.
 * The high-water mark is taken before a mapping goes away.
 */
void vm_stat_account(struct mm_struct *mm, uint64_t flags, int64_t npages)
{
	if (npages < 0 && mm->hiwater_vm < mm->total_vm)
		mm->hiwater_vm = mm->total_vm;
	mm->total_vm += npages;
	if ((flags & (VM_EXEC | VM_WRITE | VM_STACK)) == VM_EXEC)
		return;
	if (flags & VM_STACK)
		mm->stack_vm += npages;
	else if ((flags & (VM_WRITE | VM_SHARED)) == VM_WRITE)
		mm->data_vm += npages;
}

/* calc_vm_prot_bits - PROT_* to VM_*; PROT_MTE asks for VM_MTE (arm64). */
uint64_t calc_vm_prot_bits(int prot)
{
	uint64_t f = 0;

	if (prot & MMSIM_PROT_READ)
		f |= VM_READ;
	if (prot & MMSIM_PROT_WRITE)
		f |= VM_WRITE;
	if (prot & MMSIM_PROT_EXEC)
		f |= VM_EXEC;
	if (prot & MMSIM_PROT_MTE)
		f |= VM_MTE;
	return f;
}

/*
 * MAP_* to VM_*.  MAP_STACK implies VM_NOHUGEPAGE (Linux 6.7+: stacks are
 * sparse).  Anonymous and shmem mappings may carry MTE tags, so they get
 * VM_MTE_ALLOWED; memfds are shmem.
 */
static uint64_t calc_vm_flag_bits(int flags)
{
	uint64_t f = VM_MTE_ALLOWED;

	if (flags & MMSIM_MAP_GROWSDOWN)
		f |= VM_GROWSDOWN;
	if (flags & MMSIM_MAP_LOCKED)
		f |= VM_LOCKED;
	if (flags & MMSIM_MAP_STACK)
		f |= VM_NOHUGEPAGE;
	return f;
}

/*
 * mm_populate - see vma.h.  Linux's __mm_populate with ignore_errors: a VMA
 * that fails is left as it is and the next one is tried.
 */
void mm_populate(struct mmsim_task *t, uint64_t start, uint64_t end)
{
	struct mm_struct *mm = t->mm;
	uint64_t addr = start;

	while (addr < end) {
		struct vm_area_struct *v = find_vma(mm, addr);
		uint64_t s, e;
		bool write;

		if (!v || v->vm_start >= end)
			break;
		s = addr > v->vm_start ? addr : v->vm_start;
		e = end < v->vm_end ? end : v->vm_end;
		write = (v->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
		/* populate_range may change the array: remember where we are. */
		addr = e;
		if (v->vm_flags & VM_ACCESS_FLAGS)
			populate_range(t, s, e, write);
	}
}

/* ----------------------------------------------------- system calls */

/* round_hint_to_min - a non-fixed hint below mmap_min_addr moves up to it. */
static uint64_t round_hint_to_min(uint64_t hint)
{
	hint &= PAGE_MASK;
	if (hint && hint < MMAP_MIN_ADDR)
		return PAGE_ALIGN(MMAP_MIN_ADDR);
	return hint;
}

/*
 * mmap_region - map [addr, addr + len) with @vm_flags: unmap what is there
 * (MAP_FIXED), build the VMA with its backing object, link it, account it
 * and merge it with its neighbours.  @file is NULL for anonymous memory.
 * Returns 0 or -errno (with the message set).
 */
static int mmap_region(struct mm_struct *mm, struct file *file, uint64_t addr, uint64_t len,
		       uint64_t vm_flags, uint64_t pgoff)
{
	struct mmsim_machine *m = mm->machine;
	struct vm_area_struct *v;
	struct shmem_inode *in = NULL;
	int err;

	/* arch_validate_flags: tags only where the memory can hold them. */
	if ((vm_flags & VM_MTE) && !(vm_flags & VM_MTE_ALLOWED))
		return seterr(-MMSIM_EINVAL, "mmap: PROT_MTE on a mapping that cannot hold tags");

	err = do_munmap(mm, addr, len);
	if (err)
		return seterr(err, "mmap: cannot unmap [%#llx, %#llx) for MAP_FIXED",
			      (unsigned long long)addr, (unsigned long long)(addr + len));

	/* Private writable memory is charged against the commit limit. */
	if ((vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE)
		vm_flags |= VM_ACCOUNT;

	v = vm_area_alloc(mm);
	if (!v)
		return seterr(-MMSIM_ENOMEM, "mmap: out of host memory for a VMA");
	v->vm_start = addr;
	v->vm_end = addr + len;
	v->vm_flags = vm_flags;
	v->vm_pgoff = pgoff;
	if (file) {
		in = file->inode;
		shmem_inode_get(in);
	} else if (vm_flags & VM_SHARED) {
		/* shmem_zero_setup: a private object exactly len long. */
		in = shmem_inode_create(m, "dev/zero", true);
		if (!in) {
			vm_area_free(m, v);
			return seterr(-MMSIM_ENOMEM, "mmap: out of host memory for a shared object");
		}
		in->size = len;
	}
	if (in) {
		v->vm_file = in;
		list_add(&v->shared_node, &in->i_mmap);
	}
	vma_set_page_prot(v);
	err = vma_insert(mm, v);
	if (err) {
		vm_area_free(m, v);
		return seterr(err, "mmap: cannot link the VMA");
	}
	vm_stat_account(mm, vm_flags, (int64_t)(len >> PAGE_SHIFT));
	if (vm_flags & VM_LOCKED)
		mm->locked_vm += len >> PAGE_SHIFT;
	vma_merge_neighbours(mm, v);
	return 0;
}

/*
 * mmsim_mmap - mmap(2).  The checks and their order are arm64's sys_mmap,
 * then ksys_mmap_pgoff, do_mmap and mmap_region.  Anonymous private memory
 * gets vm_pgoff = addr >> PAGE_SHIFT (its pages' rmap index); anonymous
 * shared memory a fresh shmem object; a memfd its inode at offset @off.
 */
static int64_t ksys_mmap(struct mmsim_task *t, uint64_t addr, uint64_t len, int prot, int flags,
			 int fd, uint64_t off, bool *populate)
{
	struct mmsim_machine *m;
	struct mm_struct *mm;
	struct file *file = NULL;
	uint64_t vm_flags, pgoff;
	int type = flags & MMSIM_MAP_TYPE;
	int err;

	err = syscall_enter(t);
	if (err)
		return err;
	m = t->machine;
	mm = t->mm;

	if (offset_in_page(off))
		return seterr(-MMSIM_EINVAL, "mmap: offset %#llx is not a multiple of the page size",
			      (unsigned long long)off);
	if (!(flags & MMSIM_MAP_ANONYMOUS)) {
		file = fget(t, fd);
		if (!file)
			return seterr(-MMSIM_EBADF, "mmap: fd %d is not an open file", fd);
		if (flags & MMSIM_MAP_HUGETLB)
			return seterr(-MMSIM_EINVAL, "mmap: MAP_HUGETLB on fd %d, which is not hugetlbfs", fd);
	} else if (flags & MMSIM_MAP_HUGETLB) {
		return seterr(-MMSIM_ENOMEM, "mmap: MAP_HUGETLB: no huge pages reserved "
			      "(vm.nr_hugepages is 0; hugetlbfs is not modelled)");
	}

	if (!len)
		return seterr(-MMSIM_EINVAL, "mmap: length is 0");
	if (flags & MMSIM_MAP_FIXED_NOREPLACE)
		flags |= MMSIM_MAP_FIXED;
	if (!(flags & MMSIM_MAP_FIXED))
		addr = round_hint_to_min(addr);
	if (len > UINT64_MAX - (PAGE_SIZE - 1))
		return seterr(-MMSIM_ENOMEM, "mmap: length %#llx overflows when rounded to pages",
			      (unsigned long long)len);
	len = PAGE_ALIGN(len);
	pgoff = off >> PAGE_SHIFT;
	if (pgoff + (len >> PAGE_SHIFT) < pgoff)
		return seterr(-MMSIM_EOVERFLOW, "mmap: offset + length overflows");
	if (mm->nr_vmas > m->max_map_count)
		return seterr(-MMSIM_ENOMEM, "mmap: %d mappings exceed vm.max_map_count (%d)",
			      mm->nr_vmas, m->max_map_count);

	/* __get_unmapped_area */
	if (len > TASK_SIZE || len > TASK_SIZE - MMAP_MIN_ADDR)
		return seterr(-MMSIM_ENOMEM, "mmap: length %#llx is larger than the address space",
			      (unsigned long long)len);
	if (!(flags & MMSIM_MAP_FIXED)) {
		addr = get_unmapped_area_anon(mm, addr, len, !file && type == MMSIM_MAP_PRIVATE);
		if (IS_ERR_ADDR(addr))
			return seterr((int)(int64_t)addr, "mmap: no free range of %#llx bytes",
				      (unsigned long long)len);
	}
	if (addr > TASK_SIZE - len)
		return seterr(-MMSIM_ENOMEM, "mmap: [%#llx, +%#llx) ends above TASK_SIZE",
			      (unsigned long long)addr, (unsigned long long)len);
	if (offset_in_page(addr))
		return seterr(-MMSIM_EINVAL, "mmap: MAP_FIXED address %#llx is not page aligned",
			      (unsigned long long)addr);
	if (addr < MMAP_MIN_ADDR)
		return seterr(-MMSIM_EPERM, "mmap: address %#llx is below vm.mmap_min_addr (%#llx)",
			      (unsigned long long)addr, (unsigned long long)MMAP_MIN_ADDR);
	if ((flags & MMSIM_MAP_FIXED_NOREPLACE) && range_mapped(mm, addr, addr + len))
		return seterr(-MMSIM_EEXIST, "mmap: MAP_FIXED_NOREPLACE and [%#llx, %#llx) is mapped",
			      (unsigned long long)addr, (unsigned long long)(addr + len));

	vm_flags = calc_vm_prot_bits(prot) | calc_vm_flag_bits(flags) |
		   VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

	if (file) {
		/* file_mmap_ok: shmem files end at MAX_LFS_FILESIZE. */
		if (len > (uint64_t)INT64_MAX || pgoff > ((uint64_t)INT64_MAX - len) >> PAGE_SHIFT)
			return seterr(-MMSIM_EOVERFLOW, "mmap: offset + length passes the largest file size");
		switch (type) {
		case MMSIM_MAP_SHARED:
			flags &= LEGACY_MAP_MASK;
			/* fallthrough */
		case MMSIM_MAP_SHARED_VALIDATE:
			if (flags & ~LEGACY_MAP_MASK)
				return seterr(-MMSIM_EOPNOTSUPP, "mmap: MAP_SHARED_VALIDATE with unsupported flags %#x",
					      flags & ~LEGACY_MAP_MASK);
			/* memfds are opened read-write, so PROT_WRITE is allowed. */
			vm_flags |= VM_SHARED | VM_MAYSHARE;
			/* fallthrough */
		case MMSIM_MAP_PRIVATE:
			if (file->type != FILE_MEMFD)
				return seterr(-MMSIM_ENODEV, "mmap: fd %d cannot be mapped", fd);
			if (vm_flags & VM_GROWSDOWN)
				return seterr(-MMSIM_EINVAL, "mmap: MAP_GROWSDOWN on a file");
			break;
		default:
			return seterr(-MMSIM_EINVAL, "mmap: flags %#x: need MAP_SHARED, MAP_PRIVATE "
				      "or MAP_SHARED_VALIDATE", flags);
		}
	} else {
		switch (type) {
		case MMSIM_MAP_SHARED:
			if (vm_flags & VM_GROWSDOWN)
				return seterr(-MMSIM_EINVAL, "mmap: MAP_GROWSDOWN with MAP_SHARED");
			pgoff = 0;
			vm_flags |= VM_SHARED | VM_MAYSHARE;
			break;
		case MMSIM_MAP_PRIVATE:
			/* The rmap index of the pages: their address at creation. */
			pgoff = addr >> PAGE_SHIFT;
			break;
		default:
			return seterr(-MMSIM_EINVAL, "mmap: flags %#x: anonymous memory needs "
				      "MAP_SHARED or MAP_PRIVATE", flags);
		}
	}
	if ((flags & MMSIM_MAP_NORESERVE) && m->overcommit_memory != OVERCOMMIT_NEVER)
		vm_flags |= VM_NORESERVE;

	err = mmap_region(mm, file, addr, len, vm_flags, pgoff);
	if (err)
		return err;
	*populate = (vm_flags & VM_LOCKED) ||
		    (flags & (MMSIM_MAP_POPULATE | MMSIM_MAP_NONBLOCK)) == MMSIM_MAP_POPULATE;
	return (int64_t)addr;
}

/*
 * mmsim_mmap - mmap(2) under mmap_lock for write; MAP_POPULATE faults the
 * range in afterwards under the read lock, as vm_mmap_pgoff does.
 */
int64_t mmsim_mmap(struct mmsim_task *t, uint64_t addr, uint64_t len, int prot, int flags,
		   int fd, uint64_t off)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	bool populate = false;
	int64_t ret;

	if (task_check_alive(t) || !t->mm)
		return ksys_mmap(t, addr, len, prot, flags, fd, off, &populate);
	mmap_write_lock(t->mm);
	ret = ksys_mmap(t, addr, len, prot, flags, fd, off, &populate);
	mmap_write_unlock(t->mm);
	if (ret >= 0 && populate) {
		mmap_read_lock(t->mm);
		mm_populate(t, (uint64_t)ret, (uint64_t)ret + PAGE_ALIGN(len));
		mmap_read_unlock(t->mm);
	}
	return ret;
}

/* mmsim_munmap - munmap(2): do_munmap on the untagged address. */
int mmsim_munmap(struct mmsim_task *t, uint64_t addr, uint64_t len)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	int err;

	err = syscall_enter(t);
	if (err)
		return err;
	addr = untagged_addr(addr);
	mmap_write_lock(t->mm);
	err = do_munmap(t->mm, addr, len);
	mmap_write_unlock(t->mm);
	if (err == -MMSIM_EINVAL)
		return seterr(err, "munmap: [%#llx, +%#llx): address not page aligned, "
			      "length 0 or range past TASK_SIZE",
			      (unsigned long long)addr, (unsigned long long)len);
	if (err)
		return seterr(err, "munmap: splitting a mapping would exceed vm.max_map_count");
	return 0;
}

/* ------------------------------------------------ mmap_lock and VMA locks */

/* Wait for the VMA's faults to leave it, and keep new ones out until unlock. */
void vma_start_write(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;

	if (vma->vm_lock_seq == mm->mm_lock_seq)
		return;
	down_write(&vma->vm_lock);
	vma->vm_lock_seq = mm->mm_lock_seq;
	up_write(&vma->vm_lock);
}

void mmap_write_lock(struct mm_struct *mm)
{
	down_write(&mm->mmap_lock);
	for (int i = 0; i < mm->nr_vmas; i++)
		vma_start_write(mm->vmas[i]);
}

/* Every VMA write-locked under this hold becomes readable again at once. */
void mmap_write_unlock(struct mm_struct *mm)
{
	mm->mm_lock_seq++;
	up_write(&mm->mmap_lock);
}

/*
 * lock_vma_under_rcu - the fault path's first try: the VMA at addr,
 * read-locked, when no writer has marked it.  Anonymous VMAs without an
 * anon_vma yet go to mmap_lock (preparing one needs it), as in Linux.
 */
struct vm_area_struct *lock_vma_under_rcu(struct mm_struct *mm, uint64_t addr)
{
	struct vm_area_struct *vma;

	sched_point("lock_vma_under_rcu");
	vma = vma_lookup(mm, addr);
	/* anon_vma is set under page_table_lock only: read it as one word. */
	if (!vma || (vma_is_anonymous(vma) && !__atomic_load_n(&vma->anon_vma, __ATOMIC_ACQUIRE)))
		return NULL;
	if (vma->vm_lock_seq == mm->mm_lock_seq || !down_read_trylock(&vma->vm_lock))
		return NULL;
	return vma;
}
