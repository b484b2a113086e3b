/* SPDX-License-Identifier: MIT */
/*
 * mm/vma.h - helpers shared by the VMA layer (mmap.c, mprotect.c, mremap.c,
 * madvise.c) that the rest of mm/ has no business calling.  What other files
 * may call is declared in mm/internal.h.
 */
#ifndef MMSIM_MM_VMA_H
#define MMSIM_MM_VMA_H

#include "mm/internal.h"

/*
 * vm.mmap_min_addr.  Linux's Kconfig default is 4096; distributions raise it
 * to 65536 and so does the model.  Tasks are not CAP_SYS_RAWIO, so MAP_FIXED
 * below it is -EPERM.
 */
#define MMAP_MIN_ADDR       65536ULL
/* Bottom-up placement starts here when the top-down search fails (arm64). */
#define TASK_UNMAPPED_BASE  (TASK_SIZE / 4)
/* stack_guard_gap: 256 pages kept free below a VM_GROWSDOWN mapping. */
#define STACK_GUARD_GAP     (256ULL << PAGE_SHIFT)

#define PAGE_ALIGN(x)       (((x) + PAGE_SIZE - 1) & PAGE_MASK)
#define offset_in_page(x)   ((x) & (PAGE_SIZE - 1))

/* Linux's VM_STACK is VM_GROWSDOWN on every architecture without GROWSUP. */
#define VM_STACK            VM_GROWSDOWN
#define VM_READHINTMASK     (VM_SEQ_READ | VM_RAND_READ)
/* Flags mprotect() replaces; the rest of vm_flags is kept. */
#define VM_PROT_MASK        VM_ACCESS_FLAGS

/*
 * untagged_addr - arm64 strips the top byte of a user pointer (the MTE
 * logical tag lives in bits 59..56) by sign-extending bit 55, whatever the
 * task's tagged-address setting.  munmap, mprotect, madvise and mremap's old
 * address are untagged; mmap's hint and mremap's new address are not.
 */
static inline uint64_t untagged_addr(uint64_t addr)
{
	if (addr & (1ULL << 55))
		return addr | (0xffULL << 56);
	return addr & ((1ULL << 56) - 1);
}

#define IS_ERR_ADDR(a)      ((uint64_t)(a) >= (uint64_t)-4095)

/*
 * Placement for a mapping that is not MAP_FIXED (Linux's
 * __get_unmapped_area): private anonymous memory without a hint whose
 * length is a multiple of 2 MiB is placed PMD aligned so huge pages can
 * back it; everything else goes to get_unmapped_area().
 */
uint64_t get_unmapped_area_anon(struct mm_struct *mm, uint64_t hint, uint64_t len,
				bool anon_private);

/* PROT_* to VM_* (calc_vm_prot_bits with arm64's PROT_MTE). */
uint64_t calc_vm_prot_bits(int prot);

/*
 * Split without the vm.max_map_count check (Linux's __split_vma): for
 * callers that have checked the count themselves.
 */
int __split_vma(struct mm_struct *mm, struct vm_area_struct *v, uint64_t addr,
		int new_below);

/*
 * Merge @v with the VMAs on either side when they are compatible; returns
 * the VMA that now covers @v's range (@v itself may have been freed).
 */
struct vm_area_struct *vma_merge_neighbours(struct mm_struct *mm,
					    struct vm_area_struct *v);

/*
 * Give [start, end) of *@vp the flags @newflags: split off what lies outside,
 * set the flags and page protection, and merge with the neighbours.  On
 * return *@vp is the VMA that covers [start, end).  -ENOMEM when a split
 * would pass vm.max_map_count or the host is out of memory.
 */
int vma_modify_flags(struct mm_struct *mm, struct vm_area_struct **vp,
		     uint64_t start, uint64_t end, uint64_t newflags);

/*
 * Fault in [start, end) the way __mm_populate() does for MAP_POPULATE and
 * VM_LOCKED mappings: VMA by VMA, write faults for writable private
 * mappings (to break COW now), inaccessible VMAs skipped, errors ignored.
 */
void mm_populate(struct mmsim_task *t, uint64_t start, uint64_t end);

/* Change the PTEs of [start, end) of @v to v->vm_page_prot (mprotect.c). */
void change_protection(struct vm_area_struct *v, uint64_t start, uint64_t end);

void change_protection_flags(struct vm_area_struct *v, uint64_t start, uint64_t end, bool metadata_none);

#endif
