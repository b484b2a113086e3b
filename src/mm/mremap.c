// SPDX-License-Identifier: MIT
/*
 * mm/mremap.c - mremap(2).
 *
 * Three ways a remap can go, tried in Linux's order:
 *   shrink   unmap the tail, the mapping stays where it is;
 *   grow     in place, when the range ends its VMA and the addresses above
 *            are free;
 *   move     (MREMAP_MAYMOVE) build a VMA at the new place and carry the
 *            page-table entries over one by one.
 *
 * A move keeps every page where it is in memory: the PTE moves, the page
 * keeps its mapcount, and its rmap index (page->index) still resolves
 * because the new VMA keeps the old vm_pgoff, advanced by the offset of the
 * moved range in the old VMA.  Only anonymous memory that never had a page
 * (no anon_vma) takes a fresh vm_pgoff from its new address, which lets it
 * merge with its new neighbours as Linux's copy_vma() arranges.
 */
#include "mm/vma.h"

#define MREMAP_KNOWN (MMSIM_MREMAP_MAYMOVE | MMSIM_MREMAP_FIXED | MMSIM_MREMAP_DONTUNMAP)

/*
 * Move the entries of [old_addr, old_addr + len) to new_addr, present ones
 * with break-before-make (clear and flush, then set), swap and migration
 * entries as they are.  Returns how many bytes were moved: less than @len
 * only when a page table for the destination could not be allocated.
 */
static uint64_t move_page_tables(struct mm_struct *mm, uint64_t old_addr, uint64_t new_addr,
				 uint64_t len)
{
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		pteval_t *src, *dst, pte, *src_pmd = mm_find_pmd(mm, old_addr + off);

		if (src_pmd && pmd_trans_huge(*src_pmd)) {
			/* A huge PMD moves whole when both ends are aligned and it all moves. */
			struct vm_area_struct *v = vma_lookup(mm, old_addr + off);
			pteval_t *dst_pmd;

			if (!((old_addr + off) & ~PMD_MASK) && !((new_addr + off) & ~PMD_MASK) &&
			    len - off >= PMD_SIZE) {
				dst_pmd = pmd_offset_alloc(mm, new_addr + off);
				if (!dst_pmd)
					return off;
				if (move_huge_pmd(v, old_addr + off, new_addr + off, src_pmd, dst_pmd)) {
					off += PMD_SIZE - PAGE_SIZE;
					continue;
				}
			}
			__split_huge_pmd(v, src_pmd, (old_addr + off) & PMD_MASK);
		}
		src = pte_offset(mm, old_addr + off);

		if (!src || pte_none(*src))
			continue;
		dst = pte_offset_alloc(mm, new_addr + off);
		if (!dst)
			return off;
		if (pte_present(*src)) {
			pte = ptep_clear_flush(mm, old_addr + off, src);
		} else {
			pte = *src;
			set_pte_at(mm, old_addr + off, src, 0);
		}
		set_pte_at(mm, new_addr + off, dst, pte);
	}
	return len;
}

/*
 * Linux's vma_to_resize: the VMA at @addr if [addr, addr + old_len) may
 * become @new_len bytes long.  NULL with the errno in *@err otherwise.
 */
static struct vm_area_struct *vma_to_resize(struct mm_struct *mm, uint64_t addr,
					    uint64_t old_len, uint64_t new_len, int flags,
					    int *err)
{
	struct vm_area_struct *v = vma_lookup(mm, addr);
	uint64_t pgoff;

	if (!v) {
		*err = seterr(-MMSIM_EFAULT, "mremap: %#llx is not mapped", (unsigned long long)addr);
		return NULL;
	}
	/* old_len 0 duplicates a shared mapping; a private one has nothing to share. */
	if (!old_len && !(v->vm_flags & (VM_SHARED | VM_MAYSHARE))) {
		*err = seterr(-MMSIM_EINVAL, "mremap: old_len 0 on a private mapping");
		return NULL;
	}
	if ((flags & MMSIM_MREMAP_DONTUNMAP) && (v->vm_flags & VM_DONTEXPAND)) {
		*err = seterr(-MMSIM_EINVAL, "mremap: MREMAP_DONTUNMAP on a special mapping");
		return NULL;
	}
	if (old_len > v->vm_end - addr) {
		*err = seterr(-MMSIM_EFAULT, "mremap: [%#llx, %#llx) is not one mapping",
			      (unsigned long long)addr, (unsigned long long)(addr + old_len));
		return NULL;
	}
	if (new_len == old_len)
		return v;
	pgoff = ((addr - v->vm_start) >> PAGE_SHIFT) + v->vm_pgoff;
	if (pgoff + (new_len >> PAGE_SHIFT) < pgoff) {
		*err = seterr(-MMSIM_EINVAL, "mremap: file offset overflows");
		return NULL;
	}
	if (v->vm_flags & VM_DONTEXPAND) {
		*err = seterr(-MMSIM_EFAULT, "mremap: the mapping at %#llx cannot grow",
			      (unsigned long long)addr);
		return NULL;
	}
	return v;
}

/*
 * Whether @v can grow by @delta bytes where it is: no overflow, nothing
 * mapped above it, and still inside the address space.
 */
static bool vma_expandable(struct mm_struct *mm, struct vm_area_struct *v, uint64_t delta)
{
	uint64_t end = v->vm_end + delta;
	struct vm_area_struct *next;

	if (end < v->vm_end || end > TASK_SIZE || end - v->vm_start > TASK_SIZE - MMAP_MIN_ADDR)
		return false;
	next = find_vma(mm, v->vm_end);
	return !next || next->vm_start >= end;
}

/*
 * move_vma - move [old_addr, old_addr + old_len) of @v to a new VMA at
 * [new_addr, new_addr + new_len), which is free.  Unless
 * MREMAP_DONTUNMAP, the old range is unmapped after; with it, the old range
 * stays mapped and empty (private anonymous memory then reads zeros).
 */
static int64_t move_vma(struct mmsim_task *t, struct vm_area_struct *v, uint64_t old_addr,
			uint64_t old_len, uint64_t new_len, uint64_t new_addr, int flags)
{
	struct mm_struct *mm = t->mm;
	struct mmsim_machine *m = t->machine;
	struct vm_area_struct *n;
	uint64_t moved, hiwater, vm_flags = v->vm_flags;
	int err;

	/* Unmapping the old range may split its VMA into three. */
	if (mm->nr_vmas >= m->max_map_count - 3)
		return seterr(-MMSIM_ENOMEM, "mremap: too close to vm.max_map_count (%d)",
			      m->max_map_count);

	n = vm_area_dup(v);
	if (!n)
		return seterr(-MMSIM_ENOMEM, "mremap: out of host memory for a VMA");
	n->vm_start = new_addr;
	n->vm_end = new_addr + new_len;
	n->vm_pgoff = v->vm_pgoff + ((old_addr - v->vm_start) >> PAGE_SHIFT);
	if (vma_is_anonymous(v) && !v->anon_vma)
		n->vm_pgoff = new_addr >> PAGE_SHIFT;
	vma_link_file(n, v);
	anon_vma_clone(n, v);
	err = vma_insert(mm, n);
	if (err) {
		vm_area_free(m, n);
		return seterr(-MMSIM_ENOMEM, "mremap: cannot link the new VMA");
	}

	moved = move_page_tables(mm, old_addr, new_addr, old_len);
	if (moved < old_len) {
		/* The old tables are all still there: moving back cannot fail. */
		move_page_tables(mm, new_addr, old_addr, moved);
		vma_remove(mm, n);
		vm_area_free(m, n);
		free_pgtables(mm, new_addr, new_addr + new_len);
		return seterr(-MMSIM_ENOMEM, "mremap: out of memory for page tables");
	}

	/* total_vm counts both ranges for a moment; that is not a new peak. */
	hiwater = mm->hiwater_vm;
	vm_stat_account(mm, vm_flags, (int64_t)(new_len >> PAGE_SHIFT));

	if (flags & MMSIM_MREMAP_DONTUNMAP) {
		/* The lock stays with the pages; the old range is plain memory now. */
		v->vm_flags &= ~VM_LOCKED;
		/* Its anonymous pages all went: it needs no anon_vma any more. */
		if (v->vm_start == old_addr && v->vm_end == old_addr + old_len && v->anon_vma)
			unlink_anon_vma(m, v);
	} else if (old_len) {
		err = do_munmap(mm, old_addr, old_len);
		if (err)
			seterr(err, "mremap: the old range could not be unmapped");
	}
	if (vm_flags & VM_LOCKED)
		mm->locked_vm += new_len >> PAGE_SHIFT;
	mm->hiwater_vm = hiwater;

	n = vma_lookup(mm, new_addr);
	if (n)
		vma_merge_neighbours(mm, n);
	if ((vm_flags & VM_LOCKED) && new_len > old_len)
		mm_populate(t, new_addr + old_len, new_addr + new_len);
	return (int64_t)new_addr;
}

/*
 * mremap_to - MREMAP_FIXED or MREMAP_DONTUNMAP: the new place is given
 * (FIXED, replacing what is there) or hinted (DONTUNMAP alone).
 */
static int64_t mremap_to(struct mmsim_task *t, uint64_t addr, uint64_t old_len,
			 uint64_t new_addr, uint64_t new_len, int flags)
{
	struct mm_struct *mm = t->mm;
	struct vm_area_struct *v;
	uint64_t dst;
	int err;

	if (offset_in_page(new_addr))
		return seterr(-MMSIM_EINVAL, "mremap: new address %#llx is not page aligned",
			      (unsigned long long)new_addr);
	if (new_len > TASK_SIZE || new_addr > TASK_SIZE - new_len)
		return seterr(-MMSIM_EINVAL, "mremap: new range ends above TASK_SIZE");
	if (addr + old_len > new_addr && new_addr + new_len > addr)
		return seterr(-MMSIM_EINVAL, "mremap: old and new ranges overlap");
	/* Both ranges may be split in three: leave room before unmapping anything. */
	if (mm->nr_vmas + 2 >= t->machine->max_map_count - 3)
		return seterr(-MMSIM_ENOMEM, "mremap: too close to vm.max_map_count");

	if (flags & MMSIM_MREMAP_FIXED) {
		err = do_munmap(mm, new_addr, new_len);
		if (err)
			return seterr(err, "mremap: cannot unmap the target range");
	}
	if (old_len > new_len) {
		err = do_munmap(mm, addr + new_len, old_len - new_len);
		if (err)
			return seterr(err, "mremap: cannot unmap the old tail");
		old_len = new_len;
	}
	v = vma_to_resize(mm, addr, old_len, new_len, flags, &err);
	if (!v)
		return err;

	if (flags & MMSIM_MREMAP_FIXED) {
		/* get_unmapped_area with MAP_FIXED: only the security check is left. */
		if (new_len > TASK_SIZE - MMAP_MIN_ADDR)
			return seterr(-MMSIM_ENOMEM, "mremap: new length too large");
		if (new_addr < MMAP_MIN_ADDR)
			return seterr(-MMSIM_EPERM, "mremap: %#llx is below vm.mmap_min_addr",
				      (unsigned long long)new_addr);
		dst = new_addr;
	} else {
		dst = get_unmapped_area_anon(mm, new_addr, new_len,
					     !v->vm_file && !(v->vm_flags & VM_MAYSHARE));
		if (IS_ERR_ADDR(dst))
			return seterr((int)(int64_t)dst, "mremap: no free range of %#llx bytes",
				      (unsigned long long)new_len);
	}
	return move_vma(t, v, addr, old_len, new_len, dst, flags);
}

/*
 * mmsim_mremap - mremap(2), Linux's checks in Linux's order: -EINVAL for
 * unknown flags, FIXED without MAYMOVE, DONTUNMAP without MAYMOVE or with a
 * size change, an unaligned old address, new_len 0, overlapping ranges;
 * -EFAULT when the old range is not inside one VMA; -ENOMEM when the
 * mapping must move and may not.  Returns the (new) address.
 */
static int64_t do_mremap(struct mmsim_task *t, uint64_t old, uint64_t old_len, uint64_t new_len,
		     int flags, uint64_t new_addr)
{
	struct mm_struct *mm;
	struct vm_area_struct *v;
	uint64_t addr, dst;
	int err;

	err = syscall_enter(t);
	if (err)
		return err;
	mm = t->mm;

	/* The old address is untagged, the new one is not (as in Linux). */
	addr = untagged_addr(old);
	if (flags & ~MREMAP_KNOWN)
		return seterr(-MMSIM_EINVAL, "mremap: unknown flags %#x", flags & ~MREMAP_KNOWN);
	if ((flags & MMSIM_MREMAP_FIXED) && !(flags & MMSIM_MREMAP_MAYMOVE))
		return seterr(-MMSIM_EINVAL, "mremap: MREMAP_FIXED without MREMAP_MAYMOVE");
	if ((flags & MMSIM_MREMAP_DONTUNMAP) &&
	    (!(flags & MMSIM_MREMAP_MAYMOVE) || old_len != new_len))
		return seterr(-MMSIM_EINVAL, "mremap: MREMAP_DONTUNMAP needs MREMAP_MAYMOVE "
			      "and old_len == new_len");
	if (offset_in_page(addr))
		return seterr(-MMSIM_EINVAL, "mremap: old address %#llx is not page aligned",
			      (unsigned long long)addr);
	old_len = PAGE_ALIGN(old_len);
	new_len = PAGE_ALIGN(new_len);
	if (!new_len)
		return seterr(-MMSIM_EINVAL, "mremap: new length is 0");

	if (!vma_lookup(mm, addr))
		return seterr(-MMSIM_EFAULT, "mremap: %#llx is not mapped", (unsigned long long)addr);

	if (flags & (MMSIM_MREMAP_FIXED | MMSIM_MREMAP_DONTUNMAP))
		return mremap_to(t, addr, old_len, new_addr, new_len, flags);

	/* Shrinking always works: it only unmaps the tail. */
	if (old_len >= new_len) {
		if (old_len > new_len) {
			err = do_munmap(mm, addr + new_len, old_len - new_len);
			if (err)
				return seterr(err, "mremap: cannot unmap the tail");
		}
		return (int64_t)addr;
	}

	v = vma_to_resize(mm, addr, old_len, new_len, flags, &err);
	if (!v)
		return err;

	/* Grow in place when the range ends the VMA and the space above is free. */
	if (old_len == v->vm_end - addr && vma_expandable(mm, v, new_len - old_len)) {
		uint64_t pages = (new_len - old_len) >> PAGE_SHIFT, old_end = v->vm_end;
		uint64_t vm_flags = v->vm_flags;

		v->vm_end += new_len - old_len;
		charge(t->machine, COST_VMA_OP);
		vm_stat_account(mm, vm_flags, (int64_t)pages);
		if (vm_flags & VM_LOCKED)
			mm->locked_vm += pages;
		vma_merge_neighbours(mm, v);
		if (vm_flags & VM_LOCKED)
			mm_populate(t, old_end, addr + new_len);
		return (int64_t)addr;
	}

	if (!(flags & MMSIM_MREMAP_MAYMOVE))
		return seterr(-MMSIM_ENOMEM, "mremap: [%#llx, +%#llx) cannot grow in place "
			      "and MREMAP_MAYMOVE is not set",
			      (unsigned long long)addr, (unsigned long long)old_len);
	dst = get_unmapped_area_anon(mm, 0, new_len, !v->vm_file && !(v->vm_flags & VM_MAYSHARE));
	if (IS_ERR_ADDR(dst))
		return seterr((int)(int64_t)dst, "mremap: no free range of %#llx bytes",
			      (unsigned long long)new_len);
	return move_vma(t, v, addr, old_len, new_len, dst, flags);
}

/* mmsim_mremap - mremap(2), under mmap_lock for write. */
int64_t mmsim_mremap(struct mmsim_task *t, uint64_t old, uint64_t old_len, uint64_t new_len, int flags,
		     uint64_t new_addr)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	int64_t ret;

	if (task_check_alive(t) || !t->mm)
		return do_mremap(t, old, old_len, new_len, flags, new_addr);
	mmap_write_lock(t->mm);
	ret = do_mremap(t, old, old_len, new_len, flags, new_addr);
	mmap_write_unlock(t->mm);
	return ret;
}
