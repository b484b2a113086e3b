// SPDX-License-Identifier: MIT
/*
 * mm/numa_balancing.c - automatic NUMA balancing (the scanner and the
 * hinting fault), and the protnone fault path it shares with the arch's
 * fault-on-access entries.
 *
 * Design
 * ------
 * Two mechanisms use the same PTE encoding, PAGE_NONE on a present page in
 * an accessible VMA ("protnone"): the MMU faults on it, the kernel still
 * knows the page.
 *
 *   NUMA balancing  The "numa_scan" daemon (task_numa_work) marks, every
 *                   scan period, up to numa_balancing_scan_size of an mm's
 *                   present PTEs protnone, resuming where the last pass
 *                   stopped (mm->numa_scan_offset).  The next access takes a
 *                   hinting fault, which counts it, decides whether the page
 *                   sits on the wrong node (by default: not the faulting
 *                   CPU's) and migrates it there, or just maps it back.
 *                   Marking is periodic, and only while kernel.numa_balancing
 *                   is on.
 *   fault-on-access An arch marks entries protnone for its own reasons
 *                   (arm64: MTE tag storage not reserved yet) and tells them
 *                   apart with a predicate on the PTE (a software bit).
 *                   handle_pte_protnone() asks that predicate first; when it
 *                   is true, the fault goes to the arch callback and NUMA
 *                   balancing neither counts nor migrates.
 *
 * So (the three questions asked of this design): NUMA entries are marked
 * periodically, arch entries when the arch decides; one entry is either
 * kind, never both, and the arch predicate decides which; the scanner skips
 * entries that are already protnone, so it never overwrites an arch mark,
 * while an arch may overwrite a NUMA mark (the page then takes one fault,
 * not two).
 *
 * What is modelled and what is not
 * ---------------------------------
 *  - Locks: the PT lock is taken where the fault commits (mm/memory.c).  The
 *    fault lock is tracked in struct vm_fault only to check the callback
 *    contract (mm/fault_on_access.h); breaches are counted in
 *    machine->fault_contract_violations and logged, never fatal.
 *  - The scanner runs once per mm per pass, on behalf of the mm's first
 *    task (Linux lets one thread of the mm win each period).  The scan
 *    period is fixed at numa_balancing_scan_period_min; Linux adapts it
 *    between min and max from the fault statistics, which are not kept.
 *  - Not modelled: per-task fault statistics and placement (task_numa_fault
 *    keeps only a trace event), the last-cpupid two-stage filter of
 *    should_numa_migrate_memory, per-VMA access-pid bits and scan delays,
 *    memory tiering (every node is top tier), and THP migration: a
 *    misplaced PMD-mapped THP is counted and mapped back where it is
 *    (TNF_MIGRATE_FAIL), never moved.
 *
 * PMD leaves (THPs) take the same two paths at PMD level: the scanner
 * marks a whole huge PMD protnone (numa_huge_pte_updates), and
 * handle_huge_pmd_protnone() routes a fault on it to the arch callback
 * (arch_fault_on_access_pmd) or counts it as a NUMA hint.
 */
#include "mm/fault_on_access.h"

/* Linux's VMA flags that no model VMA carries, for task_numa_work's tests. */
#ifndef VM_PFNMAP
#define VM_PFNMAP       0x00000400ULL
#endif
#ifndef VM_IO
#define VM_IO           0x00004000ULL
#endif
#ifndef VM_MIXEDMAP
#define VM_MIXEDMAP     0x10000000ULL
#endif

/* task_numa_fault flags, carried into the trace event. */
#define TNF_MIGRATED     0x01
#define TNF_NO_GROUP     0x02
#define TNF_SHARED       0x04
#define TNF_FAULT_LOCAL  0x08
#define TNF_MIGRATE_FAIL 0x10

/* ------------------------------------------------ fault-on-access hooks */

/*
 * generic_fault_on_access_pte - an arch without fault-on-access entries
 * never claims a PTE.
 */
bool generic_fault_on_access_pte(struct mmsim_machine *m, pteval_t pte)
{
	(void)m;
	(void)pte;
	return false;
}

/*
 * generic_handle_folio_fault_on_access - never reached on such an arch
 * (its predicate is false); if it were, the fault could not be resolved:
 * SIGBUS, nothing to map.  Keeps the contract: drops the caller's reference.
 */
vm_fault_t generic_handle_folio_fault_on_access(struct page *folio, struct vm_fault *vmf,
						bool *map_pte)
{
	put_page(vmf->mm->machine, folio);
	*map_pte = false;
	return VM_FAULT_SIGBUS;
}

/* Weak default: no arch entries.  arm64 MTE overrides it. */
__attribute__((weak)) bool arch_fault_on_access_pte(struct mmsim_machine *m, pteval_t pte)
{
	return generic_fault_on_access_pte(m, pte);
}

/* Weak default for PMD entries: no arch entries. */
__attribute__((weak)) bool arch_fault_on_access_pmd(struct mmsim_machine *m, pteval_t pmd)
{
	return generic_fault_on_access_pte(m, pmd);
}

/* Weak default callback: see generic_handle_folio_fault_on_access. */
__attribute__((weak)) vm_fault_t arch_handle_folio_fault_on_access(struct page *folio,
								   struct vm_fault *vmf,
								   bool *map_pte)
{
	return generic_handle_folio_fault_on_access(folio, vmf, map_pte);
}

/* Count and log one breach of the callback contract. */
static void contract_violation(struct vm_fault *vmf, const char *what)
{
	struct mmsim_machine *m = vmf->mm->machine;

	m->fault_contract_violations++;
	printk(m, "fault-on-access: callback at 0x%llx %s\n", (unsigned long long)vmf->address, what);
	TRACE(m, "fault:fault_on_access_violation", (int)vmf->task->cpu, vmf->task->pid, vmf->address,
	      0, 0, "address=0x%llx what=%s", (unsigned long long)vmf->address, what);
}

/*
 * release_fault_lock - the callback's way to drop the fault lock before a
 * RETRY or COMPLETED return.  A second release (or one with nothing held)
 * would unlock someone else's lock in Linux, so it is a violation here.
 */
void release_fault_lock(struct vm_fault *vmf)
{
	vmf->fault_lock_releases++;
	if (!vmf->fault_lock_held) {
		contract_violation(vmf, "released a fault lock it did not hold");
		return;
	}
	vmf->fault_lock_held = false;
	if (vmf->flags & FAULT_FLAG_VMA_LOCK)
		vma_end_read(vmf->vma);
	else
		mmap_read_unlock(vmf->mm);
}

/* The arch predicate, or the test hook standing in for it. */
static bool fault_on_access_pte(struct mmsim_machine *m, pteval_t pte)
{
	const struct fault_on_access_test_hook *h = m->fault_on_access_test_hook;

	if (h && h->pte)
		return h->pte(h->ctx, pte);
	return arch_fault_on_access_pte(m, pte);
}

/* The same for a huge PMD: arm64 tests the same bits (pmd_metadata_none). */
static bool fault_on_access_pmd(struct mmsim_machine *m, pteval_t pmd)
{
	const struct fault_on_access_test_hook *h = m->fault_on_access_test_hook;

	if (h && h->pte)
		return h->pte(h->ctx, pmd);
	return arch_fault_on_access_pmd(m, pmd);
}

/*
 * call_fault_on_access - run the arch callback (or the test hook) on folio,
 * whose extra reference the caller holds, and check what it left behind
 * against the contract: the reference dropped, and the fault lock released
 * exactly when a RETRY/COMPLETED return without RETRY_NOWAIT requires it.
 * The callback may migrate or free the page, so only "more references than
 * before the caller's get" counts as a kept reference.
 */
static vm_fault_t call_fault_on_access(struct page *folio, struct vm_fault *vmf, bool *map_pte)
{
	struct mmsim_machine *m = vmf->mm->machine;
	const struct fault_on_access_test_hook *h = m->fault_on_access_test_hook;
	int32_t refs_before_get = page_count(folio) - 1;
	bool must_release;
	vm_fault_t ret;

	vmf->fault_lock_releases = 0;
	if (h && h->handle)
		ret = h->handle(h->ctx, folio, vmf, map_pte);
	else
		ret = arch_handle_folio_fault_on_access(folio, vmf, map_pte);

	must_release = (ret & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)) &&
		       !(vmf->flags & FAULT_FLAG_RETRY_NOWAIT);
	if (must_release && vmf->fault_lock_held)
		contract_violation(vmf, "returned RETRY/COMPLETED with the fault lock held");
	else if (!must_release && !vmf->fault_lock_held)
		contract_violation(vmf, (ret & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)) ?
				   "released the mmap_lock under FAULT_FLAG_RETRY_NOWAIT" :
				   "released the fault lock the generic path releases");
	/*
	 * The reference count cannot say whose reference is left when other
	 * tasks run concurrently (they hold their own across the callback):
	 * the reference rule is checked only when this fault runs alone.
	 */
	if (page_count(folio) > refs_before_get && !sched_current)
		contract_violation(vmf, "returned without dropping the folio reference");
	TRACE(m, "fault:fault_on_access", (int)vmf->task->cpu, vmf->task->pid, vmf->address,
	      pte_pfn(vmf->orig_pte), 0, "address=0x%llx ret=0x%x map_pte=%d",
	      (unsigned long long)vmf->address, ret, *map_pte);
	return ret;
}

/* ------------------------------------------------------ the hinting fault */

/* The node of the CPU the faulting task runs on (numa_node_id()). */
static int fault_node(struct vm_fault *vmf)
{
	return numa_node_of_cpu(vmf->mm->machine, vmf->task->cpu);
}

/*
 * can_change_pte_writable - whether a NUMA-restored PTE of a private
 * writable mapping may be writable at once: only for an anonymous page
 * this mapping owns exclusively (otherwise the write must still COW).
 * Shared mappings need no upgrade: their vm_page_prot is already writable.
 */
static bool can_change_pte_writable(struct vm_area_struct *vma, uint64_t addr, pteval_t pte)
{
	struct page *p;

	if (!(vma->vm_flags & VM_WRITE) || (vma->vm_flags & (VM_SHARED | VM_UFFD_WP)))
		return false;
	p = vm_normal_page(vma, addr, pte);
	return p && PageAnon(p) && (p->flags & PG_anon_exclusive);
}

/*
 * mpol_misplaced - the node folio should move to, or NUMA_NO_NODE to leave
 * it.  Only the default policy migrates on hinting faults (Linux: only
 * policies with MPOL_F_MOF, which an explicit set_mempolicy/mbind gets
 * just with MPOL_F_NUMA_BALANCING, a flag the model does not keep); its
 * target is the faulting CPU's node.
 */
static int mpol_misplaced(struct vm_fault *vmf, int page_nid)
{
	struct vm_area_struct *vma = vmf->vma;
	int target = fault_node(vmf);

	if (vma->mempolicy_mode != MMSIM_MPOL_DEFAULT || vmf->task->mempolicy_mode != MMSIM_MPOL_DEFAULT)
		return NUMA_NO_NODE;
	return target == page_nid ? NUMA_NO_NODE : target;
}

/*
 * numa_migrate_prep - count the hinting fault (and whether it was local to
 * the faulting CPU's node), then ask the policy where the page belongs.
 */
static int numa_migrate_prep(struct vm_fault *vmf, int page_nid, int *flags)
{
	struct mmsim_machine *m = vmf->mm->machine;

	count_vm_event(m, NUMA_HINT_FAULTS);
	if (page_nid == fault_node(vmf)) {
		count_vm_event(m, NUMA_HINT_FAULTS_LOCAL);
		*flags |= TNF_FAULT_LOCAL;
	}
	return mpol_misplaced(vmf, page_nid);
}

/*
 * migrate_balanced_pgdat - whether node nid has room for nr more pages
 * above a zone's high watermark: filling a node to its watermarks to gain
 * locality would only start reclaim there.
 */
static bool migrate_balanced_pgdat(struct mmsim_machine *m, int nid, uint64_t nr)
{
	for (int z = MAX_NR_ZONES - 1; z >= 0; z--) {
		struct zone *zone = &m->nodes[nid].node_zones[z];

		if (populated_zone(zone) && zone_watermark_ok(zone, 0, zone->watermark[WMARK_HIGH] + nr))
			return true;
	}
	return false;
}

/*
 * migrate_misplaced_folio - move folio to node nid.  Consumes the caller's
 * reference either way.  On success the migration itself rewrote every PTE
 * to the new frame, so the caller must not touch the PTE.  Returns whether
 * the page moved.
 */
static bool migrate_misplaced_folio(struct mmsim_machine *m, struct page *folio, int nid)
{
	gfp_t gfp = GFP_HIGHUSER_MOVABLE | __GFP_NOWARN;
	int err;

	/* A tagged page needs a destination whose tag storage is reserved. */
	if (folio->flags & PG_mte_tagged)
		gfp |= __GFP_TAGGED;
	if (!migrate_balanced_pgdat(m, nid, 1) || !page_is_movable(m, folio)) {
		put_page(m, folio);
		return false;
	}
	/*
	 * Hand our reference over: the mapping keeps the page alive, and
	 * migrate_page_to_node() takes its own (as isolation does in Linux),
	 * expecting no other unaccounted one.
	 */
	put_page(m, folio);
	err = migrate_page_to_node(m, folio, nid, gfp);
	if (err)
		return false;
	count_vm_event(m, NUMA_PAGE_MIGRATE);
	return true;
}

/* task_numa_fault: the per-task statistics are not kept; trace the outcome. */
static void task_numa_fault(struct vm_fault *vmf, int nid, int flags)
{
	TRACE(vmf->mm->machine, "sched:task_numa_fault", (int)vmf->task->cpu, vmf->task->pid,
	      vmf->address, 0, 0, "address=0x%llx nid=%d flags=0x%x",
	      (unsigned long long)vmf->address, nid, flags);
}

/*
 * handle_pte_protnone - a protnone PTE in an accessible VMA faulted
 * (vmf->orig_pte).  Entered from handle_pte_fault with the fault lock held
 * (the model records that here).  An entry the arch claims goes to the
 * arch callback; every other one is a NUMA hint: count it, migrate a
 * misplaced page to the faulting CPU's node, or map the page back with the
 * VMA's protection.  Returns 0 or what the arch callback returned.
 */
vm_fault_t handle_pte_protnone(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mmsim_machine *m = vmf->mm->machine;
	pteval_t old_pte = vmf->orig_pte, pte, *ptep;
	int nid = NUMA_NO_NODE, target_nid, flags = 0;
	struct page *folio;
	bool writable;
	vm_fault_t ret;

	/* Under the PT lock: someone else fixed the entry, nothing to do. */
	if (*vmf->pte != vmf->orig_pte)
		return 0;
	pte = pte_modify(old_pte, vma->vm_page_prot);
	writable = pte_write(pte);
	if (!writable && can_change_pte_writable(vma, vmf->address, pte))
		writable = true;

	folio = vm_normal_page(vma, vmf->address, pte);
	if (!folio)
		goto out_map;           /* the zero page: nothing to place or reserve */
	get_page(folio);

	if (fault_on_access_pte(m, old_pte)) {
		bool map_pte = false;

		/* The PT lock is dropped here: the callback may sleep. */
		ret = call_fault_on_access(folio, vmf, &map_pte);
		if (ret || !map_pte)
			return ret;
		trace_fault(vmf, "fault-on-access");
		goto out_lock_and_map;
	}

	if (folio->flags & (PG_head | PG_tail)) {
		/*
		 * PTE-mapped large pages are not migrated on hinting faults
		 * (Linux's TODO).  The reference is dropped here, where the
		 * v3 patch as quoted would keep it.
		 */
		put_page(m, folio);
		goto out_map;
	}

	nid = folio->nid;
	/* A read-only fault says little about which task owns the page. */
	if (!writable)
		flags |= TNF_NO_GROUP;
	if (folio->mapcount > 1 && (vma->vm_flags & VM_SHARED))
		flags |= TNF_SHARED;
	target_nid = numa_migrate_prep(vmf, nid, &flags);
	if (target_nid == NUMA_NO_NODE) {
		put_page(m, folio);
		trace_fault(vmf, "numa-hint");
		goto out_map;
	}
	if (migrate_misplaced_folio(m, folio, target_nid)) {
		nid = target_nid;
		flags |= TNF_MIGRATED;
		trace_fault(vmf, "numa-migrated");
		goto out;
	}
	flags |= TNF_MIGRATE_FAIL;
	trace_fault(vmf, "numa-migrate-fail");

out_lock_and_map:
	/* Re-take the PT lock: the table may be gone, the entry may have changed. */
	ptep = pte_offset(vmf->mm, vmf->address);
	if (!ptep || *ptep != vmf->orig_pte)
		goto out;
	vmf->pte = ptep;
out_map:
	/* Present again: the VMA's protection, young, writable if it may be. */
	pte = pte_mkyoung(pte_modify(old_pte, vma->vm_page_prot));
	if (writable)
		pte = pte_mkwrite(pte);
	set_pte_at(vmf->mm, vmf->address, vmf->pte, pte);
out:
	if (nid != NUMA_NO_NODE)
		task_numa_fault(vmf, nid, flags);
	return 0;
}

/*
 * handle_huge_pmd_protnone - a protnone huge PMD in an accessible VMA
 * faulted (vmf->orig_pmd): the PMD flow of seed 000 (spec §7.1).  Under the
 * PMD lock the entry must still be the one that faulted.  An entry the arch
 * claims goes to its callback, and if the callback asks, is mapped back
 * with the VMA's protection - never writable (spec §4.6: a write then takes
 * an ordinary write-protect fault).  Any other entry is a NUMA hint:
 * counted and mapped back (THPs are not migrated: see above).
 */
vm_fault_t handle_huge_pmd_protnone(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mmsim_machine *m = vmf->mm->machine;
	spinlock_t *ptl = &vmf->mm->page_table_lock;	/* the PMD lock */
	uint64_t haddr = vmf->address & HPAGE_PMD_MASK;
	pteval_t oldpmd = vmf->orig_pmd, pmd;
	int nid = NUMA_NO_NODE, target_nid, flags = 0;
	struct page *folio = NULL;
	bool writable;
	vm_fault_t ret;

	spin_lock(ptl);
	if (*vmf->pmd != oldpmd) {
		spin_unlock(ptl);
		return 0;
	}
	pmd = pmd_modify(oldpmd, vma->vm_page_prot);
	writable = pmd_write(pmd);
	if (!writable && can_change_pmd_writable(vma, pmd))
		writable = true;
	if (!is_huge_zero_pmd(m, oldpmd))
		folio = pfn_to_page(m, pmd_pfn(oldpmd));
	if (!folio)
		goto out_map;           /* the huge zero page: nothing to place or reserve */
	get_page(folio);

	if (fault_on_access_pmd(m, oldpmd)) {
		bool map_pte = false;

		/* The PMD lock is dropped here: the callback may sleep. */
		spin_unlock(ptl);
		ret = call_fault_on_access(folio, vmf, &map_pte);
		if (ret || !map_pte)
			return ret;
		writable = false;
		trace_fault(vmf, "fault-on-access-pmd");
		goto out_lock_and_map;
	}

	nid = folio->nid;
	if (!writable)
		flags |= TNF_NO_GROUP;
	target_nid = numa_migrate_prep(vmf, nid, &flags);
	put_page(m, folio);
	if (target_nid == NUMA_NO_NODE) {
		trace_fault(vmf, "numa-hint-pmd");
		goto out_map;
	}
	/* Misplaced, but a THP does not move here: map it back as it is. */
	flags |= TNF_MIGRATE_FAIL;
	trace_fault(vmf, "numa-migrate-fail-pmd");
	goto out_map;

out_lock_and_map:
	spin_lock(ptl);
	if (*vmf->pmd != oldpmd) {
		spin_unlock(ptl);
		goto out;
	}
out_map:
	/* Present again: the VMA's protection, young, writable if it may be. */
	pmd = pmd_mkyoung(pmd_modify(oldpmd, vma->vm_page_prot));
	if (writable)
		pmd = pmd_mkwrite(pmd);
	set_pmd_at(vmf->mm, haddr, vmf->pmd, pmd);
	spin_unlock(ptl);
out:
	if (nid != NUMA_NO_NODE)
		task_numa_fault(vmf, nid, flags);
	return 0;
}

/* ----------------------------------------------------------- the scanner */

struct prot_numa_walk {
	int target_nid;                 /* pages here are left alone          */
	uint64_t pages;                 /* pages made protnone (512 per PMD)  */
	uint64_t huge;                  /* huge PMDs made protnone            */
	bool normal_mode;               /* NUMA_BALANCING_NORMAL is on        */
};

/*
 * A huge PMD of change_prot_numa: made protnone whole (change_huge_pmd
 * with MM_CP_PROT_NUMA) when the range covers it, split when it does not.
 */
static int prot_numa_pmd(pteval_t *pmdp, uint64_t addr, uint64_t next, struct mm_walk *walk)
{
	struct prot_numa_walk *pw = walk->private;
	uint64_t haddr = addr & PMD_MASK;
	long n;

	if (addr != haddr || next != haddr + PMD_SIZE) {
		__split_huge_pmd(walk->vma, pmdp, haddr);
		return 0;
	}
	n = change_huge_pmd(walk->vma, pmdp, haddr, MM_CP_PROT_NUMA);
	if (n) {
		pw->pages += (uint64_t)n;
		pw->huge++;
	}
	return 0;
}

/*
 * One PTE of change_prot_numa: make a present PTE of a normal page
 * protnone, unless Linux's prot_numa path would leave it.  A skipped PTE
 * is left exactly as it was.
 */
static int prot_numa_pte(pteval_t *ptep, uint64_t addr, struct mm_walk *walk)
{
	struct prot_numa_walk *pw = walk->private;
	struct vm_area_struct *vma = walk->vma;
	struct mmsim_machine *m = walk->mm->machine;
	pteval_t old = *ptep;
	struct page *p;

	/*
	 * Only present, accessible entries.  Already-protnone ones are NUMA
	 * hints not yet taken, or an arch's fault-on-access entries, which
	 * must keep their meaning.  Swap and migration entries are left too
	 * (Linux also read-protects writable migration entries here; the
	 * model leaves that to mprotect).
	 */
	if (!pte_valid(old))
		return 0;
	p = vm_normal_page(vma, addr, old);
	if (!p)
		return 0;               /* the zero page and special mappings */
	/* A shared COW page or a pinned one cannot move: no point trapping. */
	if (is_cow_mapping(vma->vm_flags) && (p->pincount > 0 || p->mapcount > 1))
		return 0;
	/* Dirty page-cache pages may not migrate asynchronously. */
	if (!PageAnon(p) && !(p->flags & PG_swapbacked) && (p->flags & PG_dirty))
		return 0;
	/* Already on the node a single-threaded owner runs on. */
	if (pw->target_nid != NUMA_NO_NODE && p->nid == pw->target_nid)
		return 0;
	/* Every node is top tier here: memory-tiering mode alone scans none. */
	if (!pw->normal_mode)
		return 0;
	*ptep = pte_modify(old, PAGE_NONE);
	charge(m, COST_PTE_UPDATE);
	pw->pages++;
	return 0;
}

uint64_t change_prot_numa(struct vm_area_struct *vma, uint64_t start, uint64_t end,
			  int target_nid)
{
	static const struct mm_walk_ops ops = { .pmd_entry = prot_numa_pmd, .pte_entry = prot_numa_pte };
	struct mmsim_machine *m = vma->vm_mm->machine;
	struct prot_numa_walk pw = {
		.target_nid = target_nid,
		.normal_mode = m->numa_balancing & NUMA_BALANCING_NORMAL,
	};

	walk_page_range(vma->vm_mm, vma, start, end, &ops, &pw);
	if (pw.pages) {
		/* The old entries were valid: no CPU may keep using them. */
		flush_tlb_range(vma->vm_mm, start, end);
		count_vm_events(m, NUMA_PTE_UPDATES, (int64_t)pw.pages);
		count_vm_events(m, NUMA_HUGE_PTE_UPDATES, (int64_t)pw.huge);
	}
	return pw.pages;
}

/*
 * vma_numa_scannable - task_numa_work's VMA filter: migratable memory
 * only (no I/O or PFN maps, hugetlb or mixed maps), under a policy that
 * migrates on fault, not read-only shared files (libraries: cached on
 * every node anyway), and accessible (a PROT_NONE VMA's entries must not
 * be mistaken for hints).
 */
static bool vma_numa_scannable(struct mmsim_task *t, struct vm_area_struct *vma)
{
	if (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_HUGETLB | VM_MIXEDMAP))
		return false;
	if (vma->mempolicy_mode != MMSIM_MPOL_DEFAULT ||
	    (t && t->mempolicy_mode != MMSIM_MPOL_DEFAULT))
		return false;
	if (vma->vm_file && (vma->vm_flags & (VM_READ | VM_WRITE)) == VM_READ)
		return false;
	return (vma->vm_flags & VM_ACCESS_FLAGS) != 0;
}

/* The task a scan of mm runs on behalf of: its first live one, if any. */
static struct mmsim_task *mm_scan_task(struct mmsim_machine *m, struct mm_struct *mm)
{
	struct list_head *pos;

	list_for_each(pos, &m->tasks) {
		struct mmsim_task *t = list_entry(pos, struct mmsim_task, tasks_node);

		if (t->mm == mm && !t->killed)
			return t;
	}
	return NULL;
}

/*
 * numa_scan_mm - one task_numa_work pass over mm: from numa_scan_offset,
 * mark up to scan_size worth of PTE-mapped pages (only chunks in which
 * something changed count against it) and look at no more than eight times
 * that much address space, in PMD-aligned chunks; remember where it
 * stopped, or start over (numa_scan_seq + 1) after the last VMA.
 */
static void numa_scan_mm(struct mmsim_machine *m, struct mm_struct *mm)
{
	struct mmsim_task *t = mm_scan_task(m, mm);
	int64_t pages = (int64_t)(NUMA_BALANCING_SCAN_SIZE_MB << (20 - PAGE_SHIFT));
	int64_t virtpages = pages * 8;
	uint64_t start = mm->numa_scan_offset;
	int target_nid = NUMA_NO_NODE;
	int i;

	if (!t)
		return;
	/*
	 * A single-threaded process runs where its task runs: its pages
	 * already there need no hint.  Threads may run anywhere.
	 */
	if (mm->users == 1)
		target_nid = numa_node_of_cpu(m, t->cpu);
	i = vma_index(mm, start);
	if (i >= mm->nr_vmas) {
		mm->numa_scan_seq++;
		start = 0;
		i = 0;
	}
	for (; i < mm->nr_vmas; i++) {
		struct vm_area_struct *vma = mm->vmas[i];
		uint64_t end;

		if (!vma_numa_scannable(t, vma))
			continue;
		do {
			uint64_t nr;

			if (start < vma->vm_start)
				start = vma->vm_start;
			end = (start + ((uint64_t)pages << PAGE_SHIFT) + PMD_SIZE - 1) & PMD_MASK;
			if (end > vma->vm_end)
				end = vma->vm_end;
			nr = (end - start) >> PAGE_SHIFT;
			if (change_prot_numa(vma, start, end, target_nid))
				pages -= (int64_t)nr;
			virtpages -= (int64_t)nr;
			start = end;
			if (pages <= 0 || virtpages <= 0) {
				mm->numa_scan_offset = start;
				return;
			}
		} while (end != vma->vm_end);
	}
	/* Past the last VMA: the next pass starts from the bottom again. */
	mm->numa_scan_offset = 0;
	mm->numa_scan_seq++;
}

/*
 * task_numa_work - the "numa_scan" daemon: when kernel.numa_balancing is
 * on, one scan pass over every live mm, in creation order.  Returns 0.
 */
int task_numa_work(struct mmsim_machine *m)
{
	struct list_head *pos;

	if (m->numa_balancing == NUMA_BALANCING_DISABLED)
		return 0;
	list_for_each(pos, &m->mms)
		numa_scan_mm(m, list_entry(pos, struct mm_struct, mm_list));
	return 0;
}

