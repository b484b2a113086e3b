// SPDX-License-Identifier: MIT
/*
 * mm/madvise.c - madvise(2).
 *
 * Linux's do_madvise(): the advice is validated first, then the range, then
 * each VMA-sized piece of the range is advised in address order.  A hole in
 * the range does not stop the walk: every mapped piece is advised and the
 * call then returns -ENOMEM.  An error from one piece does stop it.
 *
 * What the model does with each advice:
 *   NORMAL, RANDOM, SEQUENTIAL     VM_RAND_READ / VM_SEQ_READ (read-ahead hints)
 *   DONTFORK, DOFORK               VM_DONTCOPY
 *   WIPEONFORK, KEEPONFORK         VM_WIPEONFORK, private anonymous only
 *   DONTDUMP, DODUMP               VM_DONTDUMP
 *   HUGEPAGE, NOHUGEPAGE           VM_HUGEPAGE / VM_NOHUGEPAGE
 *   MERGEABLE, UNMERGEABLE         VM_MERGEABLE (no ksmd runs)
 *   DONTNEED, DONTNEED_LOCKED      zap the pages: private anonymous memory
 *                                  reads zeros after, shared memory keeps its
 *                                  data in the page cache
 *   FREE                           as DONTNEED for now: the lazy free (pages
 *                                  reclaimed only under pressure, kept if
 *                                  written again) is not modelled yet
 *   REMOVE                         punch a hole in the shmem object
 *   WILLNEED                       accepted, nothing to do in the model
 *   COLD                           the pages mapped only here lose their
 *                                  young bit, so reclaim takes them first
 *   PAGEOUT                        as COLD, then the private anonymous ones
 *                                  are reclaimed to swap now (mm/vmscan.c)
 *   POPULATE_READ, POPULATE_WRITE  fault the range in
 *   COLLAPSE, HWPOISON,
 *   SOFT_OFFLINE                   -ENOSYS: not built yet
 * VM_* changes split and merge VMAs exactly like mprotect.
 */
#include "mm/vma.h"
#include "mm/swap.h"

/* madvise_behavior_valid: every advice Linux knows on arm64 with THP, KSM, swap. */
static bool madvise_behavior_valid(int advice)
{
	switch (advice) {
	case MMSIM_MADV_DOFORK:
	case MMSIM_MADV_DONTFORK:
	case MMSIM_MADV_NORMAL:
	case MMSIM_MADV_SEQUENTIAL:
	case MMSIM_MADV_RANDOM:
	case MMSIM_MADV_REMOVE:
	case MMSIM_MADV_WILLNEED:
	case MMSIM_MADV_DONTNEED:
	case MMSIM_MADV_DONTNEED_LOCKED:
	case MMSIM_MADV_FREE:
	case MMSIM_MADV_COLD:
	case MMSIM_MADV_PAGEOUT:
	case MMSIM_MADV_POPULATE_READ:
	case MMSIM_MADV_POPULATE_WRITE:
	case MMSIM_MADV_MERGEABLE:
	case MMSIM_MADV_UNMERGEABLE:
	case MMSIM_MADV_HUGEPAGE:
	case MMSIM_MADV_NOHUGEPAGE:
	case MMSIM_MADV_COLLAPSE:
	case MMSIM_MADV_DONTDUMP:
	case MMSIM_MADV_DODUMP:
	case MMSIM_MADV_WIPEONFORK:
	case MMSIM_MADV_KEEPONFORK:
	case MMSIM_MADV_HWPOISON:
	case MMSIM_MADV_SOFT_OFFLINE:
		return true;
	default:
		return false;
	}
}

/*
 * MADV_DONTNEED and friends on [start, end) of @v: refused (-EINVAL) on
 * locked memory unless DONTNEED_LOCKED, and for FREE on anything but
 * private anonymous memory.
 */
static int madvise_dontneed_free(struct vm_area_struct *v, uint64_t start, uint64_t end,
				 int advice)
{
	if ((v->vm_flags & VM_LOCKED) && advice != MMSIM_MADV_DONTNEED_LOCKED)
		return seterr(-MMSIM_EINVAL, "madvise: %s on locked memory at %#llx",
			      advice == MMSIM_MADV_FREE ? "MADV_FREE" : "MADV_DONTNEED",
			      (unsigned long long)start);
	if (advice == MMSIM_MADV_FREE && !vma_is_anonymous(v))
		return seterr(-MMSIM_EINVAL, "madvise: MADV_FREE on shared or file memory at %#llx",
			      (unsigned long long)start);
	/* MADV_FREE: the lazy variant is not modelled; drop the pages now. */
	zap_page_range(v, start, end);
	return 0;
}

/*
 * MADV_REMOVE on [start, end) of @v: free the backing store, which reads
 * as zeros afterwards.  Only shared writable mappings of a shmem object.
 */
static int madvise_remove(struct vm_area_struct *v, uint64_t start, uint64_t end)
{
	uint64_t off;

	if (v->vm_flags & VM_LOCKED)
		return seterr(-MMSIM_EINVAL, "madvise: MADV_REMOVE on locked memory");
	if (!v->vm_file)
		return seterr(-MMSIM_EINVAL, "madvise: MADV_REMOVE on memory with no file behind it");
	if ((v->vm_flags & (VM_SHARED | VM_MAYWRITE)) != (VM_SHARED | VM_MAYWRITE))
		return seterr(-MMSIM_EACCES, "madvise: MADV_REMOVE on a private mapping");
	off = ((start - v->vm_start) >> PAGE_SHIFT) + v->vm_pgoff;
	return shmem_punch_hole(v->vm_mm->machine, v->vm_file, off << PAGE_SHIFT,
				(off << PAGE_SHIFT) + (end - start));
}

/*
 * Advise [start, end), which lies inside @*vp (Linux's madvise_vma_behavior).
 * *@vp is updated when a split or merge replaced it.
 */
static int madvise_vma_behavior(struct mm_struct *mm, struct vm_area_struct **vp,
				uint64_t start, uint64_t end, int advice)
{
	struct vm_area_struct *v = *vp;
	uint64_t newflags = v->vm_flags;
	int err;

	switch (advice) {
	case MMSIM_MADV_REMOVE:
		return madvise_remove(v, start, end);
	case MMSIM_MADV_WILLNEED:
		/* Swap-in read-ahead; nothing is ahead of time in the model. */
		return 0;
	case MMSIM_MADV_COLD:
	case MMSIM_MADV_PAGEOUT:
		return madvise_cold_or_pageout(v, start, end, advice == MMSIM_MADV_PAGEOUT);
	case MMSIM_MADV_FREE:
	case MMSIM_MADV_DONTNEED:
	case MMSIM_MADV_DONTNEED_LOCKED:
		return madvise_dontneed_free(v, start, end, advice);
	case MMSIM_MADV_NORMAL:
		newflags &= ~VM_READHINTMASK;
		break;
	case MMSIM_MADV_SEQUENTIAL:
		newflags = (newflags & ~VM_READHINTMASK) | VM_SEQ_READ;
		break;
	case MMSIM_MADV_RANDOM:
		newflags = (newflags & ~VM_READHINTMASK) | VM_RAND_READ;
		break;
	case MMSIM_MADV_DONTFORK:
		newflags |= VM_DONTCOPY;
		break;
	case MMSIM_MADV_DOFORK:
		newflags &= ~VM_DONTCOPY;
		break;
	case MMSIM_MADV_WIPEONFORK:
		/* A child must see zeros: only memory nobody else shares. */
		if (v->vm_file || (v->vm_flags & VM_SHARED))
			return seterr(-MMSIM_EINVAL, "madvise: MADV_WIPEONFORK needs private "
				      "anonymous memory, %#llx is shared or a file",
				      (unsigned long long)start);
		newflags |= VM_WIPEONFORK;
		break;
	case MMSIM_MADV_KEEPONFORK:
		newflags &= ~VM_WIPEONFORK;
		break;
	case MMSIM_MADV_DONTDUMP:
		newflags |= VM_DONTDUMP;
		break;
	case MMSIM_MADV_DODUMP:
		newflags &= ~VM_DONTDUMP;
		break;
	case MMSIM_MADV_MERGEABLE:
		/* ksm_madvise leaves shared and special memory alone. */
		if (!(v->vm_flags & (VM_SHARED | VM_MAYSHARE | VM_HUGETLB)))
			newflags |= VM_MERGEABLE;
		break;
	case MMSIM_MADV_UNMERGEABLE:
		newflags &= ~VM_MERGEABLE;
		break;
	case MMSIM_MADV_HUGEPAGE:
		newflags = (newflags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
		break;
	case MMSIM_MADV_NOHUGEPAGE:
		newflags = (newflags & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
		break;
	default:
		return seterr(-MMSIM_ENOSYS, "madvise: advice %d is not built yet", advice);
	}
	err = vma_modify_flags(mm, vp, start, end, newflags);
	/* "kernel resources temporarily unavailable" is how madvise reports it. */
	if (err == -MMSIM_ENOMEM)
		return seterr(-MMSIM_EAGAIN, "madvise: splitting a mapping would exceed vm.max_map_count");
	return err;
}

/*
 * MADV_POPULATE_READ/WRITE (Linux's madvise_populate over GUP): page by
 * page in order; a hole is -ENOMEM, a VMA that does not allow the access
 * -EINVAL (as are VM_IO/PFNMAP, which the model has none of), a fault that
 * would end in SIGBUS or SIGSEGV -EFAULT.  Pages before the failure stay
 * populated.
 */
static int madvise_populate(struct mmsim_task *t, uint64_t start, uint64_t end, bool write)
{
	struct mm_struct *mm = t->mm;

	while (start < end) {
		struct vm_area_struct *v = vma_lookup(mm, start);
		uint64_t e;
		int err;

		if (!v)
			return seterr(-MMSIM_ENOMEM, "madvise: populate: %#llx is not mapped",
				      (unsigned long long)start);
		if (!(v->vm_flags & (write ? VM_WRITE : VM_READ)))
			return seterr(-MMSIM_EINVAL, "madvise: populate: the mapping at %#llx is not %s",
				      (unsigned long long)start, write ? "writable" : "readable");
		e = v->vm_end < end ? v->vm_end : end;
		err = populate_range(t, start, e, write);
		switch (err) {
		case 0:
			break;
		case -MMSIM_EFAULT:
			return seterr(err, "madvise: populate: a fault in [%#llx, %#llx) ends in a signal",
				      (unsigned long long)start, (unsigned long long)e);
		case -MMSIM_EHWPOISON:
		case -MMSIM_EINTR:
			return seterr(err, "madvise: populate: fault in [%#llx, %#llx) failed",
				      (unsigned long long)start, (unsigned long long)e);
		default:
			return seterr(-MMSIM_ENOMEM, "madvise: populate: out of memory in [%#llx, %#llx)",
				      (unsigned long long)start, (unsigned long long)e);
		}
		start = e;
	}
	return 0;
}

/*
 * mmsim_madvise - madvise(2).  -EINVAL for unknown advice, an unaligned
 * start, a length that wraps; len 0 is a no-op; -ENOMEM (after advising
 * the mapped parts) when the range has holes.
 */
static int do_madvise(struct mmsim_task *t, uint64_t start, uint64_t len_in, int advice)
{
	struct mm_struct *mm;
	uint64_t len, end;
	int unmapped = 0, err;

	err = syscall_enter(t);
	if (err)
		return err;
	mm = t->mm;

	start = untagged_addr(start);
	if (!madvise_behavior_valid(advice))
		return seterr(-MMSIM_EINVAL, "madvise: unknown advice %d", advice);
	if (offset_in_page(start))
		return seterr(-MMSIM_EINVAL, "madvise: address %#llx is not page aligned",
			      (unsigned long long)start);
	len = PAGE_ALIGN(len_in);
	if (len_in && !len)
		return seterr(-MMSIM_EINVAL, "madvise: length %#llx wraps", (unsigned long long)len_in);
	end = start + len;
	if (end < start)
		return seterr(-MMSIM_EINVAL, "madvise: [%#llx, +%#llx) wraps around",
			      (unsigned long long)start, (unsigned long long)len);
	if (end == start)
		return 0;
	switch (advice) {
	case MMSIM_MADV_HWPOISON:
	case MMSIM_MADV_SOFT_OFFLINE:
	case MMSIM_MADV_COLLAPSE:
		return seterr(-MMSIM_ENOSYS, "madvise: advice %d is not built yet", advice);
	case MMSIM_MADV_POPULATE_READ:
	case MMSIM_MADV_POPULATE_WRITE:
		return madvise_populate(t, start, end, advice == MMSIM_MADV_POPULATE_WRITE);
	default:
		break;
	}

	/* madvise_walk_vmas */
	for (;;) {
		struct vm_area_struct *v = find_vma(mm, start);
		uint64_t tmp;

		if (!v)
			return seterr(-MMSIM_ENOMEM, "madvise: [%#llx, %#llx) is not mapped",
				      (unsigned long long)start, (unsigned long long)end);
		if (start < v->vm_start) {
			unmapped = -MMSIM_ENOMEM;
			start = v->vm_start;
			if (start >= end)
				break;
		}
		tmp = v->vm_end < end ? v->vm_end : end;
		err = madvise_vma_behavior(mm, &v, start, tmp, advice);
		if (err)
			return err;
		start = tmp;
		if (start >= end)
			break;
	}
	if (unmapped)
		return seterr(unmapped, "madvise: part of the range is not mapped");
	return 0;
}

/* Linux's madvise_need_mmap_write: these only read the VMA tree. */
static bool madvise_need_mmap_write(int advice)
{
	switch (advice) {
	case MMSIM_MADV_REMOVE:
	case MMSIM_MADV_WILLNEED:
	case MMSIM_MADV_DONTNEED:
	case MMSIM_MADV_DONTNEED_LOCKED:
	case MMSIM_MADV_COLD:
	case MMSIM_MADV_PAGEOUT:
	case MMSIM_MADV_FREE:
	case MMSIM_MADV_POPULATE_READ:
	case MMSIM_MADV_POPULATE_WRITE:
		return false;
	default:
		return true;
	}
}

/* mmsim_madvise - madvise(2), under mmap_lock for read or write by advice. */
int mmsim_madvise(struct mmsim_task *t, uint64_t start, uint64_t len_in, int advice)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	bool write = madvise_need_mmap_write(advice);
	int ret;

	if (task_check_alive(t) || !t->mm)
		return do_madvise(t, start, len_in, advice);
	if (write)
		mmap_write_lock(t->mm);
	else
		mmap_read_lock(t->mm);
	ret = do_madvise(t, start, len_in, advice);
	if (write)
		mmap_write_unlock(t->mm);
	else
		mmap_read_unlock(t->mm);
	return ret;
}
