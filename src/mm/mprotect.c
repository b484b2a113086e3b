// SPDX-License-Identifier: MIT
/*
 * mm/mprotect.c - mprotect(2) and change_protection().
 *
 * mprotect walks the VMAs of the range in address order, gives each piece
 * its new vm_flags (splitting and merging VMAs as needed) and rewrites the
 * PTEs already present.  The checks and errnos are Linux's
 * do_mprotect_pkey(): a hole stops the walk with -ENOMEM, and what was
 * changed before the hole stays changed.
 *
 * Two details that are easy to get wrong:
 *   - a private writable mapping's vm_page_prot is read-only (copy on write
 *     needs the write fault).  A PTE may still be made writable at once when
 *     the page is anonymous and exclusive to this mapping, which is what
 *     Linux's can_change_pte_writable() allows; all others are upgraded by
 *     the next write fault.
 *   - VM_MTE is not in the set of flags mprotect replaces (arm64's
 *     VM_ARCH_CLEAR is only VM_ARM64_BTI): PROT_MTE can be added, never
 *     removed, because the tags already in memory would otherwise be lost.
 */
#include "mm/vma.h"

/* arm64's arch_validate_prot: PROT_SEM is accepted and means nothing. */
#define PROT_SEM        0x8
#define PROT_SUPPORTED  (MMSIM_PROT_READ | MMSIM_PROT_WRITE | MMSIM_PROT_EXEC | PROT_SEM | \
			 MMSIM_PROT_BTI | MMSIM_PROT_MTE)

struct change_prot_walk {
	struct vm_area_struct *vma;
	bool try_writable;              /* MM_CP_TRY_CHANGE_WRITABLE            */
	bool metadata_none;             /* MM_CP_PROT_METADATA_NONE (§4.2)      */
	bool changed;
};

/*
 * The seed's marking of present PTEs when a VMA becomes VM_MTE (§4.2): skip
 * an entry already METADATA_NONE, the zero page and special mappings, and
 * pages already tagged (shared with a tagged VMA); overwrite NUMA hints; do
 * not skip possibly-COW pages.  Returns the new value, or old to skip.
 */
static pteval_t metadata_none_pte(struct vm_area_struct *v, uint64_t addr, pteval_t old)
{
	struct page *p;

	if (pte_metadata_none(old))
		return old;
	p = vm_normal_page(v, addr, old);
	if (!p || (p->flags & PG_mte_tagged))
		return old;
	return pte_modify(old, PAGE_METADATA_NONE);
}

/*
 * Whether a PTE of a writable private mapping may become writable now
 * rather than on the next write fault: only for an anonymous page that this
 * mapping alone maps (PG_anon_exclusive with one mapping), as Linux's
 * can_change_pte_writable() decides.  Shared mappings keep what
 * vm_page_prot gives them (shmem needs no write-notify).
 */
static bool can_change_pte_writable(struct vm_area_struct *v, uint64_t addr, pteval_t pte)
{
	struct page *p;

	if (!(v->vm_flags & VM_WRITE) || (v->vm_flags & VM_SHARED))
		return false;
	if (pte_protnone(pte) || !pte_valid(pte))
		return false;
	if (v->vm_flags & VM_UFFD_WP)
		return false;
	p = vm_normal_page(v, addr, pte);
	return p && PageAnon(p) && (p->flags & PG_anon_exclusive) && p->mapcount == 1;
}

/* One PTE slot of change_protection(). */
static int change_pte(pteval_t *ptep, uint64_t addr, struct mm_walk *walk)
{
	struct change_prot_walk *cp = walk->private;
	struct vm_area_struct *v = cp->vma;
	pteval_t old = *ptep, pte;

	if (pte_none(old))
		return 0;
	if (pte_present(old) && cp->metadata_none) {
		pte = metadata_none_pte(v, addr, old);
	} else if (pte_present(old)) {
		pte = pte_modify(old, v->vm_page_prot);
		if (cp->try_writable && !pte_write(pte) && can_change_pte_writable(v, addr, pte))
			pte = pte_mkwrite(pte);
	} else {
		swp_entry_t e = pte_to_swp_entry(old);

		/*
		 * A writable migration entry would restore a writable PTE
		 * after migration: make it a read entry, keeping exclusivity
		 * for anonymous pages (the next write fault then reuses it).
		 */
		if (swp_type(e) != SWP_MIGRATION_WRITE)
			return 0;
		pte = swp_entry_to_pte(swp_entry(SWP_MIGRATION_READ_EXCLUSIVE, swp_offset(e)));
		if (pfn_valid(v->vm_mm->machine, swp_offset(e)) &&
		    !PageAnon(pfn_to_page(v->vm_mm->machine, swp_offset(e))))
			pte = swp_entry_to_pte(swp_entry(SWP_MIGRATION_READ, swp_offset(e)));
		pte |= old & PTE_SWP_EXCLUSIVE;
	}
	if (pte != old) {
		/* Through set_pte_at: a tagged mapping may need its tags set up. */
		set_pte_at(v->vm_mm, addr, ptep, pte);
		cp->changed = true;
	}
	return 0;
}

/* A huge PMD: changed whole when the range covers it, else split first. */
static int change_pmd(pteval_t *pmdp, uint64_t addr, uint64_t next, struct mm_walk *walk)
{
	struct change_prot_walk *cp = walk->private;
	uint64_t haddr = addr & PMD_MASK;

	if (addr != haddr || next != haddr + PMD_SIZE) {
		__split_huge_pmd(cp->vma, pmdp, haddr);
		return 0;
	}
	if (change_huge_pmd(cp->vma, pmdp, haddr,
			    (cp->metadata_none ? MM_CP_PROT_METADATA_NONE : 0) |
			    (cp->try_writable ? MM_CP_TRY_CHANGE_WRITABLE : 0)))
		cp->changed = true;
	return 0;
}

/*
 * change_protection - rewrite every PTE of [start, end) of @v (present or
 * a migration entry) to match v->vm_page_prot, keeping dirty, young and
 * special; then flush the range from every TLB if anything changed.  @v's
 * flags and vm_page_prot are already the new ones.
 */
void change_protection(struct vm_area_struct *v, uint64_t start, uint64_t end)
{
	change_protection_flags(v, start, end, false);
}

void change_protection_flags(struct vm_area_struct *v, uint64_t start, uint64_t end, bool metadata_none)
{
	static const struct mm_walk_ops ops = { .pmd_entry = change_pmd, .pte_entry = change_pte };
	struct change_prot_walk cp = {
		.vma = v,
		.try_writable = (v->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE,
		.metadata_none = metadata_none,
	};

	walk_page_range(v->vm_mm, v, start, end, &ops, &cp);
	if (cp.changed)
		flush_tlb_range(v->vm_mm, start, end);
}

/*
 * mprotect_fixup - give [start, end) of *@vp the flags @newflags (Linux's
 * mprotect_fixup): commit accounting flags, split/merge, new page
 * protection, the PTEs, and the vm counters.  On return *@vp covers the
 * range.
 */
static int mprotect_fixup(struct mm_struct *mm, struct vm_area_struct **vp,
			  uint64_t start, uint64_t end, uint64_t newflags)
{
	struct vm_area_struct *v = *vp;
	uint64_t oldflags = v->vm_flags;
	int64_t nrpages = (int64_t)((end - start) >> PAGE_SHIFT);
	int err;

	if (newflags == oldflags)
		return 0;
	if (newflags & VM_WRITE) {
		/* Private memory becoming writable is charged from now on. */
		if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE)))
			newflags |= VM_ACCOUNT;
	} else if ((oldflags & VM_ACCOUNT) && vma_is_anonymous(v) && !v->anon_vma) {
		/* Nothing was ever written: nothing to keep charged. */
		newflags &= ~VM_ACCOUNT;
	}
	err = vma_modify_flags(mm, vp, start, end, newflags);
	if (err)
		return err;
	/* Becoming tagged with dynamic tag storage: fault-on-access marking. */
	change_protection_flags(*vp, start, end, mm->machine->mte.storage_enabled &&
				(newflags & VM_MTE) && !(oldflags & VM_MTE));
	vm_stat_account(mm, oldflags, -nrpages);
	vm_stat_account(mm, newflags, nrpages);
	return 0;
}

/*
 * mmsim_mprotect - mprotect(2), Linux's do_mprotect_pkey(): -EINVAL for an
 * unaligned start, unknown PROT bits, both GROWSDOWN and GROWSUP, PROT_MTE
 * where tags cannot live; len 0 is a no-op; -ENOMEM for a range that wraps
 * or is not fully mapped (applied up to the hole); -EACCES when a VMA may
 * not gain the access (VM_MAY*).
 */
static int do_mprotect(struct mmsim_task *t, uint64_t start, uint64_t len, int prot)
{
	const int grows = prot & (MMSIM_PROT_GROWSDOWN | MMSIM_PROT_GROWSUP);
	struct mm_struct *mm;
	struct vm_area_struct *v;
	uint64_t end, tmp;
	int err = 0;

	err = syscall_enter(t);
	if (err)
		return err;
	mm = t->mm;

	start = untagged_addr(start);
	prot &= ~(MMSIM_PROT_GROWSDOWN | MMSIM_PROT_GROWSUP);
	if (grows == (MMSIM_PROT_GROWSDOWN | MMSIM_PROT_GROWSUP))
		return seterr(-MMSIM_EINVAL, "mprotect: PROT_GROWSDOWN and PROT_GROWSUP together");
	if (offset_in_page(start))
		return seterr(-MMSIM_EINVAL, "mprotect: address %#llx is not page aligned",
			      (unsigned long long)start);
	if (!len)
		return 0;
	if (len > UINT64_MAX - (PAGE_SIZE - 1))
		return seterr(-MMSIM_ENOMEM, "mprotect: length %#llx wraps", (unsigned long long)len);
	len = PAGE_ALIGN(len);
	end = start + len;
	if (end <= start)
		return seterr(-MMSIM_ENOMEM, "mprotect: [%#llx, +%#llx) wraps around",
			      (unsigned long long)start, (unsigned long long)len);
	if (prot & ~PROT_SUPPORTED)
		return seterr(-MMSIM_EINVAL, "mprotect: unknown protection bits %#x",
			      prot & ~PROT_SUPPORTED);

	v = find_vma(mm, start);
	if (!v || v->vm_start >= end)
		return seterr(-MMSIM_ENOMEM, "mprotect: [%#llx, %#llx) is not mapped",
			      (unsigned long long)start, (unsigned long long)end);
	if (grows & MMSIM_PROT_GROWSDOWN) {
		start = v->vm_start;
		if (!(v->vm_flags & VM_GROWSDOWN))
			return seterr(-MMSIM_EINVAL, "mprotect: PROT_GROWSDOWN on a mapping that does not grow down");
	} else {
		if (v->vm_start > start)
			return seterr(-MMSIM_ENOMEM, "mprotect: %#llx is not mapped",
				      (unsigned long long)start);
		if (grows & MMSIM_PROT_GROWSUP)
			return seterr(-MMSIM_EINVAL, "mprotect: PROT_GROWSUP: no mapping grows up on arm64");
	}

	tmp = start;
	while (v && v->vm_start < end) {
		uint64_t newflags, piece_end;

		/* VMAs never overlap: only a gap can put the next one above tmp. */
		if (v->vm_start > tmp) {
			err = seterr(-MMSIM_ENOMEM, "mprotect: hole at [%#llx, %#llx)",
				     (unsigned long long)tmp, (unsigned long long)v->vm_start);
			break;
		}
		newflags = calc_vm_prot_bits(prot) | (v->vm_flags & ~VM_PROT_MASK);
		/* VM_MAY* sit four bits above the matching VM_* bits. */
		if ((newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS) {
			err = seterr(-MMSIM_EACCES, "mprotect: the mapping at %#llx may not become %s%s%s",
				     (unsigned long long)v->vm_start,
				     prot & MMSIM_PROT_READ ? "r" : "", prot & MMSIM_PROT_WRITE ? "w" : "",
				     prot & MMSIM_PROT_EXEC ? "x" : "");
			break;
		}
		if ((newflags & VM_MTE) && !(newflags & VM_MTE_ALLOWED)) {
			err = seterr(-MMSIM_EINVAL, "mprotect: PROT_MTE on a mapping that cannot hold tags");
			break;
		}
		piece_end = v->vm_end < end ? v->vm_end : end;
		err = mprotect_fixup(mm, &v, tmp > v->vm_start ? tmp : v->vm_start, piece_end, newflags);
		if (err) {
			seterr(err, "mprotect: splitting a mapping would exceed vm.max_map_count");
			break;
		}
		tmp = piece_end;
		if (tmp >= end)
			break;
		v = find_vma(mm, tmp);
	}
	if (!err && tmp < end)
		err = seterr(-MMSIM_ENOMEM, "mprotect: [%#llx, %#llx) is not mapped",
			     (unsigned long long)tmp, (unsigned long long)end);
	return err;
}

/* mmsim_mprotect - mprotect(2), under mmap_lock for write. */
int mmsim_mprotect(struct mmsim_task *t, uint64_t start, uint64_t len, int prot)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	int ret;

	if (task_check_alive(t) || !t->mm)
		return do_mprotect(t, start, len, prot);
	mmap_write_lock(t->mm);
	ret = do_mprotect(t, start, len, prot);
	mmap_write_unlock(t->mm);
	return ret;
}
