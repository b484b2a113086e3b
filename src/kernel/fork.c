// SPDX-License-Identifier: MIT
/*
 * kernel/fork.c - address spaces are born (mm_alloc), copied (dup_mm) and
 * torn down (mmput).
 */
#include <stdlib.h>

#include "mm/internal.h"

/* Top-down mmap placement starts 128 MiB below the top, as arm64 without ASLR. */
#define MMAP_BASE (TASK_SIZE - (128ULL << 20))

struct mm_struct *mm_alloc(struct mmsim_machine *m)
{
	struct mm_struct *mm = calloc(1, sizeof(*mm));

	if (!mm)
		return NULL;
	mm->machine = m;
	mm->users = 1;
	mm->mmap_lock = (struct rw_semaphore)RWSEM_INIT("mmap_lock");
	mm->page_table_lock = (spinlock_t)SPINLOCK_INIT("page_table_lock");
	INIT_LIST_HEAD(&mm->pmd_huge_pte);
	mm->mmap_base = MMAP_BASE;
	mm->id = m->next_mm_id++;
	if (asid_alloc(m, &mm->asid) || !(mm->pgd = pgtable_alloc(mm))) {
		if (mm->asid)
			asid_free(m, mm->asid);
		free(mm);
		return NULL;
	}
	list_add_tail(&mm->mm_list, &m->mms);
	return mm;
}

/*
 * exit_mmap - unmap everything, free every VMA and page table.  The TLB
 * entries of the ASID go with asid_free().
 *
 * The VMAs leave their anon_vmas and files (vm_area_free) before the page
 * tables go, as free_pgtables unlinks them first: an rmap walk of another
 * task (reclaim, migration, truncation) may still find a VMA until it is
 * unlinked, and reads its page tables.
 */
static void exit_mmap(struct mm_struct *mm)
{
	struct mmsim_machine *m = mm->machine;

	uint64_t table;

	for (int i = 0; i < mm->nr_vmas; i++)
		zap_page_range(mm->vmas[i], mm->vmas[i]->vm_start, mm->vmas[i]->vm_end);
	for (int i = 0; i < mm->nr_vmas; i++)
		vm_area_free(m, mm->vmas[i]);
	/* Every huge PMD took its deposit with it; none may be left. */
	while ((table = pgtable_trans_huge_withdraw(mm)))
		pgtable_free(mm, table);
	free_pgd(mm);
	free(mm->vmas);
	mm->vmas = NULL;
	mm->nr_vmas = 0;
}

void mmput(struct mm_struct *mm)
{
	struct mmsim_machine *m = mm->machine;

	if (--mm->users > 0)
		return;
	exit_mmap(mm);
	asid_free(m, mm->asid);
	list_del(&mm->mm_list);
	free(mm);
}

/*
 * dup_mm - fork's copy of the parent's address space.  VM_DONTCOPY areas are
 * left out; VM_WIPEONFORK areas come over empty (the child reads zeros);
 * everything else shares pages copy-on-write (copy_page_range).
 *
 * As dup_mmap does, under the parent's mmap_lock for write: its other
 * threads may not change the VMA array under the walk (the walk sleeps in
 * the page-table locks), and mmap_write_lock marks every VMA so that no
 * per-VMA-locked fault writes a page while its PTE is being shared.
 */
int dup_mm(struct mmsim_task *parent, struct mm_struct **out)
{
	struct mm_struct *old = parent->mm, *mm = mm_alloc(parent->machine);
	int err = 0;

	if (!mm)
		return -MMSIM_ENOMEM;
	mm->mmap_base = old->mmap_base;
	mm->thp_disabled = old->thp_disabled;
	mmap_write_lock(old);
	for (int i = 0; i < old->nr_vmas && !err; i++) {
		struct vm_area_struct *src = old->vmas[i], *dst;

		if (src->vm_flags & VM_DONTCOPY)
			continue;
		dst = vm_area_dup(src);
		if (!dst) {
			err = -MMSIM_ENOMEM;
			break;
		}
		dst->vm_mm = mm;
		vma_link_file(dst, src);
		anon_vma_clone(dst, src);
		dst->vm_flags &= ~VM_LOCKED;	/* mlock is not inherited */
		if (dst->vm_flags & VM_WIPEONFORK)
			unlink_anon_vma(mm->machine, dst);
		if ((err = vma_insert(mm, dst))) {
			vm_area_free(mm->machine, dst);
			break;
		}
		vm_stat_account(mm, dst->vm_flags, (int64_t)vma_pages(dst));
		if (!(dst->vm_flags & VM_WIPEONFORK))
			err = copy_page_range(dst, src);
	}
	mmap_write_unlock(old);
	if (err) {
		mmput(mm);
		return err;
	}
	*out = mm;
	return 0;
}
