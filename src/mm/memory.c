// SPDX-License-Identifier: MIT
/*
 * mm/memory.c - the page-fault path, and the PTE-level work of unmapping
 * and fork.
 *
 * handle_mm_fault() is entered from the arm64 fault handler with the VMA
 * already found and the access already allowed by vm_flags.  It makes sure
 * the tables exist down to the PTE and dispatches on what the PTE holds:
 *
 *   none                 do_anonymous_page / do_fault (shmem)
 *   not present          do_swap_page (migration entries, pte markers)
 *   protnone             do_numa_page
 *   present, write, RO   do_wp_page (COW, or reuse of an exclusive page)
 *   present otherwise    spurious: set young (and dirty), nothing else
 *
 * Rules kept from Linux, and why:
 *  - A read of never-written private memory maps the shared zero page,
 *    read-only and "special" (no refcount, no rmap): memory is spent on write.
 *  - A write to an anonymous page that is PG_anon_exclusive, or whose only
 *    reference is this mapping, reuses the page (no copy): it is ours alone.
 *    Anything else is copied, so a page another process can see is never
 *    written through a COW mapping.
 *  - A PTE that gives less than before is cleared and flushed before the new
 *    one is written (break-before-make), and a page is never freed before
 *    the TLB entries that reach it are gone (see struct mmu_gather).
 *
 * In parallel runs two paths run beside other CPUs (kernel/sched.c): the
 * first touch of plain anonymous memory, and the write-protect fault of
 * plain anonymous memory (COW copy or reuse, whose TLB shootdown waits for
 * the other CPUs' acknowledgements).  Both commit under the PT lock only;
 * the old page's references and mapcount change atomically, a reuse is
 * decided under the folio lock, and a reference that may be the last is
 * dropped holding the whole machine.  Tagged, userfaultfd and huge-page
 * cases, and every other fault, call kernel_exclusive() first.
 */
#include <stdlib.h>

#include "mm/internal.h"

static struct mmsim_machine *vmf_machine(struct vm_fault *vmf)
{
	return vmf->mm->machine;
}

/* Linux's arm64 protection_map: private writable mappings map read-only. */
pteval_t vm_get_page_prot(uint64_t vm_flags)
{
	static const pteval_t protection_map[16] = {
		[VM_NONE]                                     = PAGE_NONE,
		[VM_READ]                                     = PAGE_READONLY,
		[VM_WRITE]                                    = PAGE_READONLY,
		[VM_WRITE | VM_READ]                          = PAGE_READONLY,
		[VM_EXEC]                                     = PAGE_READONLY_EXEC,
		[VM_EXEC | VM_READ]                           = PAGE_READONLY_EXEC,
		[VM_EXEC | VM_WRITE]                          = PAGE_READONLY_EXEC,
		[VM_EXEC | VM_WRITE | VM_READ]                = PAGE_READONLY_EXEC,
		[VM_SHARED]                                   = PAGE_NONE,
		[VM_SHARED | VM_READ]                         = PAGE_READONLY,
		[VM_SHARED | VM_WRITE]                        = PAGE_SHARED,
		[VM_SHARED | VM_WRITE | VM_READ]              = PAGE_SHARED,
		[VM_SHARED | VM_EXEC]                         = PAGE_READONLY_EXEC,
		[VM_SHARED | VM_EXEC | VM_READ]               = PAGE_READONLY_EXEC,
		[VM_SHARED | VM_EXEC | VM_WRITE]              = PAGE_SHARED_EXEC,
		[VM_SHARED | VM_EXEC | VM_WRITE | VM_READ]    = PAGE_SHARED_EXEC,
	};
	pteval_t prot = protection_map[vm_flags & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED)];

	if (vm_flags & VM_MTE)
		prot = (prot & ~PTE_ATTRINDX_MASK) | PTE_ATTRINDX(MT_NORMAL_TAGGED);
	return prot;
}

/* The struct page behind a PTE, or NULL for special mappings (the zero page). */
struct page *vm_normal_page(struct vm_area_struct *vma, uint64_t addr, pteval_t pte)
{
	struct mmsim_machine *m = vma->vm_mm->machine;
	uint64_t pfn = pte_pfn(pte);

	(void)addr;
	if (pte_special(pte) || pfn == m->zero_pfn || !pfn_valid(m, pfn))
		return NULL;
	return pfn_to_page(m, pfn);
}

static enum mm_counter mm_counter_of(const struct page *p)
{
	if (PageAnon(p))
		return MM_ANONPAGES;
	return (p->flags & PG_swapbacked) ? MM_SHMEMPAGES : MM_FILEPAGES;
}

/* Changes a CPU caches before it adds them to the mm (Linux's TASK_RSS_EVENTS_THRESH). */
#define RSS_SYNC_EVENTS 64

/*
 * Move c's cached rss changes into their mm: with atomic adds while other
 * CPUs run (threads of the mm may sync theirs at once), plainly when the
 * caller holds the machine whole.
 */
static void sync_cpu_rss(struct cpu *c, bool atomic)
{
	for (int i = 0; c->rss_mm && i < NR_MM_COUNTERS; i++) {
		if (atomic)
			__atomic_fetch_add(&c->rss_mm->rss[i], c->rss_delta[i], __ATOMIC_RELAXED);
		else
			c->rss_mm->rss[i] += c->rss_delta[i];
		c->rss_delta[i] = 0;
	}
	c->rss_mm = NULL;
	c->rss_events = 0;
}

/*
 * Count a page mapped (+1) or unmapped (-1) in mm's rss.  Beside other CPUs
 * (parallel mode, shared) the change is cached per CPU and added every
 * RSS_SYNC_EVENTS changes, as Linux's per-task rss cache did before it
 * became a percpu_counter: threads of one process then touch the shared
 * counter once per 64 faults, not on each.  Taking the machine whole syncs
 * every CPU (sync_mm_rss_all), so that no reader of mm->rss - all of them
 * hold the machine - sees a stale count, and no mm is freed with changes
 * cached.
 */
void inc_mm_counter_page(struct mm_struct *mm, struct page *p, int delta)
{
	struct cpu *c = par_cpu;

	if (!c) {
		mm->rss[mm_counter_of(p)] += delta;
		return;
	}
	if (c->rss_mm != mm) {
		sync_cpu_rss(c, true);
		c->rss_mm = mm;
	}
	c->rss_delta[mm_counter_of(p)] += delta;
	if (++c->rss_events >= RSS_SYNC_EVENTS)
		sync_cpu_rss(c, true);
}

/* Every CPU's cached rss changes into their mms: the caller holds the machine whole. */
void sync_mm_rss_all(struct mmsim_machine *m)
{
	for (unsigned int c = 0; c < m->nr_cpus; c++)
		sync_cpu_rss(&m->cpus[c], false);
}

void clear_user_highpage(struct mmsim_machine *m, struct page *p)
{
	memset(page_address(m, p), 0, PAGE_SIZE);
	charge(m, COST_ZERO_PAGE);
}

/* Copy a user page; tags follow the data (arm64 copy_highpage). */
void copy_user_highpage(struct mmsim_machine *m, struct page *to, struct page *from)
{
	copy_highpage(m, to, from);
	charge(m, COST_COPY_PAGE);
}

void trace_fault(struct vm_fault *vmf, const char *kind)
{
	/* A fault on a huge PMD has no PTE. */
	TRACE(vmf_machine(vmf), "fault:handle_mm_fault", (int)vmf->task->cpu, vmf->task->pid,
	      vmf->address, vmf->pte ? pte_pfn(*vmf->pte) : pmd_pfn(vmf->orig_pmd), 0,
	      "address=0x%llx kind=%s write=%d",
	      (unsigned long long)vmf->address, kind, !!(vmf->flags & FAULT_FLAG_WRITE));
}

/* A new anonymous page for this fault, zeroed, on the policy's node. */
static struct page *alloc_anon_page(struct vm_fault *vmf, bool zero)
{
	struct mmsim_machine *m = vmf_machine(vmf);
	int nid = policy_node(vmf->task, vmf->vma, vmf->address);
	gfp_t gfp = GFP_HIGHUSER_MOVABLE | (zero ? __GFP_ZERO : 0) | vma_tagged_gfp(vmf->vma);

	return alloc_pages_node(m, nid, gfp, 0);
}

/*
 * vmf_pte_lock_same - take the PT lock of vmf->pte and say whether the
 * entry is still vmf->orig_pte.  Everything a fault decides before this
 * point (a page allocated, a copy made) may have been overtaken by another
 * CPU meanwhile; a handler commits only under the lock and only when this
 * is true.  On false the lock is already released.
 */
static bool vmf_pte_lock_same(struct vm_fault *vmf)
{
	vmf->ptl = pte_lockptr(vmf->mm, vmf->pte);
	spin_lock(vmf->ptl);
	if (ptep_get(vmf->pte) == vmf->orig_pte)
		return true;
	spin_unlock(vmf->ptl);
	return false;
}

/* Someone else resolved the fault while this one prepared p: give p back. */
static vm_fault_t fault_overtaken(struct vm_fault *vmf, struct page *p)
{
	if (p)
		put_page(vmf_machine(vmf), p);
	trace_fault(vmf, "overtaken");
	return 0;
}

/* Map a freshly allocated anonymous page writable (if the VMA is) and dirty. */
static void map_new_anon_page(struct vm_fault *vmf, struct page *p)
{
	struct vm_area_struct *vma = vmf->vma;
	pteval_t entry = pfn_pte(page_to_pfn(vmf->mm->machine, p), vma->vm_page_prot);

	if (vma->vm_flags & VM_WRITE)
		entry = pte_mkwrite(pte_mkdirty(entry));
	lru_add(vmf->mm->machine, p);
	folio_add_new_anon_rmap(p, vma, vmf->address);
	inc_mm_counter_page(vmf->mm, p, 1);
	set_pte_at(vmf->mm, vmf->address, vmf->pte, pte_mkyoung(entry));
}

/*
 * do_anonymous_page - first touch of private anonymous memory.  A read maps
 * the zero page; a write maps a new zeroed page.
 */
static vm_fault_t do_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mmsim_machine *m = vmf_machine(vmf);
	struct page *p;

	if (vma->vm_flags & VM_SHARED)
		return VM_FAULT_SIGBUS;
	if (!(vmf->flags & FAULT_FLAG_WRITE)) {
		pteval_t entry = pte_mkspecial(pfn_pte(m->zero_pfn, vma->vm_page_prot));

		if (!vmf_pte_lock_same(vmf))
			return fault_overtaken(vmf, NULL);
		set_pte_at(vmf->mm, vmf->address, vmf->pte, entry);
		spin_unlock(vmf->ptl);
		trace_fault(vmf, "anon-zero");
		return 0;
	}
	if (anon_vma_prepare(vmf->mm, vma))
		return VM_FAULT_OOM;
	p = alloc_anon_page(vmf, true);
	if (!p)
		return VM_FAULT_OOM;
	if (!vmf_pte_lock_same(vmf))
		return fault_overtaken(vmf, p);
	map_new_anon_page(vmf, p);
	spin_unlock(vmf->ptl);
	trace_fault(vmf, "anon");
	return 0;
}

/* Map a page-cache page; the caller's reference becomes the mapping's. */
static void map_file_page(struct vm_fault *vmf, struct page *p, bool write)
{
	struct vm_area_struct *vma = vmf->vma;
	pteval_t entry = pfn_pte(page_to_pfn(vmf->mm->machine, p), vma->vm_page_prot);

	if (write) {
		entry = pte_mkdirty(entry);
		p->flags |= PG_dirty;
	}
	page_dup_rmap(vmf->mm->machine, p);
	inc_mm_counter_page(vmf->mm, p, 1);
	set_pte_at(vmf->mm, vmf->address, vmf->pte, pte_mkyoung(entry));
}

/*
 * do_fault - first touch of a shmem-backed mapping.  Reads and shared writes
 * map the page-cache page; a private write copies it (do_cow_fault).
 */
static vm_fault_t do_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mmsim_machine *m = vmf_machine(vmf);
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	vm_fault_t ret = 0;
	struct page *p, *copy;

	/* Locked: truncation cannot take it out of the cache until it is mapped. */
	p = shmem_get_page(vmf->task, vma->vm_file, linear_page_index(vma, vmf->address),
			   vma_tagged_gfp(vma), &ret);
	if (!p)
		return ret;
	if (!write || (vma->vm_flags & VM_SHARED)) {
		if (!vmf_pte_lock_same(vmf)) {
			folio_unlock(p);
			return fault_overtaken(vmf, p);
		}
		map_file_page(vmf, p, write);
		spin_unlock(vmf->ptl);
		folio_unlock(p);
		trace_fault(vmf, write ? "shared-write" : "file-read");
		return 0;
	}
	if (anon_vma_prepare(vmf->mm, vma) || !(copy = alloc_anon_page(vmf, false))) {
		folio_unlock(p);
		put_page(m, p);
		return VM_FAULT_OOM;
	}
	copy_user_highpage(m, copy, p);
	folio_unlock(p);
	put_page(m, p);
	if (!vmf_pte_lock_same(vmf))
		return fault_overtaken(vmf, copy);
	map_new_anon_page(vmf, copy);
	spin_unlock(vmf->ptl);
	trace_fault(vmf, "cow-file");
	return 0;
}

/* Make the present PTE writable, dirty and young in place: no new page.  Drops the PT lock. */
static vm_fault_t wp_page_reuse(struct vm_fault *vmf)
{
	pteval_t entry = pte_mkyoung(pte_mkdirty(pte_mkwrite(vmf->orig_pte)));

	set_pte_at(vmf->mm, vmf->address, vmf->pte, entry);
	spin_unlock(vmf->ptl);
	trace_fault(vmf, "wp-reuse");
	return 0;
}

/*
 * Copying old beside other CPUs: its tags (and tags saved under its PFN,
 * which the copy carries along) live in structures only code holding the
 * whole machine changes.
 */
static bool copy_needs_whole_machine(struct mmsim_machine *m, struct page *old)
{
	return m->mte.supported && ((page_flags(old) & PG_mte_tagged) ||
				    __atomic_load_n(&m->mte.tags_by_pfn.nr, __ATOMIC_RELAXED));
}

/*
 * wp_page_copy - break COW: copy old (or zero-fill, for the zero page) into a
 * new exclusive page and switch the PTE to it, break-before-make.  The old
 * entry may sit in other CPUs' TLBs: ptep_clear_flush shoots it down before
 * the new one is written, and old is released only after that.
 */
static vm_fault_t wp_page_copy(struct vm_fault *vmf, struct page *old)
{
	struct mmsim_machine *m = vmf_machine(vmf);
	struct page *p, *head = NULL;

	/* Allocating may sleep: not under the PT lock.  Keep old alive meanwhile. */
	if (old)
		get_page(old);
	spin_unlock(vmf->ptl);
	if (anon_vma_prepare(vmf->mm, vmf->vma) || !(p = alloc_anon_page(vmf, old == NULL))) {
		if (old)
			put_page(m, old);
		return VM_FAULT_OOM;
	}
	if (old) {
		if (par_cpu && copy_needs_whole_machine(m, old))
			kernel_exclusive();
		copy_user_highpage(m, p, old);
	}
	if (!vmf_pte_lock_same(vmf)) {
		if (old)
			put_page(m, old);
		return fault_overtaken(vmf, p);
	}
	ptep_clear_flush(vmf->mm, vmf->address, vmf->pte);
	map_new_anon_page(vmf, p);
	if (old && PageCompound(old)) {
		/* Keep the THP: if none maps old any more it is a split candidate. */
		head = compound_head(old);
		get_page(head);
	}
	if (old) {
		page_remove_rmap(m, old);
		inc_mm_counter_page(vmf->mm, old, -1);
		put_page(m, old);	/* the mapping's: ours keeps it */
	}
	spin_unlock(vmf->ptl);
	/* Ours, after the PT lock as Linux drops it: this one may free old. */
	if (old)
		put_page(m, old);
	if (head) {
		deferred_split_folio(m, head);
		put_page(m, head);
	}
	trace_fault(vmf, old ? "cow" : "cow-zero");
	return 0;
}

/*
 * wp_can_reuse_anon_page - Linux's wp_can_reuse_anon_folio: a page only
 * this mapping holds can take the write in place.  The references are
 * counted under the folio lock (taken only if free: busy means someone is
 * working on the page, so copy), and the page becomes PG_anon_exclusive.
 */
static bool wp_can_reuse_anon_page(struct page *p)
{
	bool reuse;

	if (page_count(p) != 1 || page_mapcount(p) != 1)
		return false;
	if (!folio_trylock(p))
		return false;
	reuse = page_count(p) == 1 && page_mapcount(p) == 1;
	if (reuse)
		page_set_flag(p, PG_anon_exclusive);
	folio_unlock(p);
	return reuse;
}

/*
 * do_wp_page - a write hit a present read-only PTE in a writable VMA.  Shared
 * mappings just become writable; private ones reuse an anonymous page only
 * this mapping can reach, and copy everything else.  Entered with the PT
 * lock held and the entry unchanged; returns with it released.
 */
static vm_fault_t do_wp_page(struct vm_fault *vmf)
{
	struct mmsim_machine *m = vmf_machine(vmf);
	struct page *p = vm_normal_page(vmf->vma, vmf->address, vmf->orig_pte);

	if (vmf->vma->vm_flags & VM_SHARED) {
		if (p)
			p->flags |= PG_dirty;
		return wp_page_reuse(vmf);
	}
	if (p && PageAnon(p)) {
		if (page_flags(p) & PG_anon_exclusive)
			return wp_page_reuse(vmf);
		/* Only our mapping holds it: nobody else can observe a write. */
		if (wp_can_reuse_anon_page(p)) {
			count_vm_event(m, PGREUSE);
			return wp_page_reuse(vmf);
		}
	}
	return wp_page_copy(vmf, p);
}

/*
 * May a write fault on this present read-only PTE run beside other CPUs?
 * Private anonymous memory without tags, userfaultfd or huge pages: a
 * small anonymous page (copied or reused) or the zero page (replaced).
 */
static bool wp_fault_shared_ok(struct vm_fault *vmf, pteval_t entry)
{
	struct page *p;

	if (!pte_valid(entry) || pte_write(entry) || !vma_is_anonymous(vmf->vma) ||
	    (vmf->vma->vm_flags & (VM_SHARED | VM_MTE | VM_UFFD_MISSING | VM_UFFD_WP | VM_UFFD_MINOR)))
		return false;
	p = vm_normal_page(vmf->vma, vmf->address, entry);
	return !p || (PageAnon(p) && !PageCompound(p));
}

/*
 * do_swap_page - the PTE holds a swap-format entry.  A migration entry means
 * the page is being moved right now: the task sleeps until it is done
 * (VM_FAULT_RETRY; the access reports BLOCKED and is retried on resume).
 */
static vm_fault_t do_swap_page(struct vm_fault *vmf)
{
	swp_entry_t e = pte_to_swp_entry(vmf->orig_pte);

	if (is_migration_entry(e)) {
		trace_fault(vmf, "migration-wait");
		return VM_FAULT_BLOCKED;
	}
	if (is_pte_marker_entry(e)) {
		/* A marker with nothing behind it reads as an empty PTE. */
		vmf->orig_pte = 0;
		set_pte_at(vmf->mm, vmf->address, vmf->pte, 0);
		return vma_is_anonymous(vmf->vma) ? do_anonymous_page(vmf) : do_fault(vmf);
	}
	return do_swap_page_swapin(vmf, e);
}

static vm_fault_t handle_pte_fault(struct vm_fault *vmf)
{
	pteval_t entry = vmf->orig_pte;

	/*
	 * The first touch of plain anonymous memory is a path made safe to
	 * run beside other CPUs; every fault not listed holds the whole machine.
	 */
	if (pte_none(entry) && vma_is_anonymous(vmf->vma) && !(vmf->vma->vm_flags & (VM_MTE | VM_UFFD_MISSING)))
		return do_anonymous_page(vmf);
	/* So is the write-protect fault of plain anonymous memory: COW, with its TLB shootdown. */
	if ((vmf->flags & FAULT_FLAG_WRITE) && wp_fault_shared_ok(vmf, entry)) {
		if (!vmf_pte_lock_same(vmf))
			return fault_overtaken(vmf, NULL);
		return do_wp_page(vmf);
	}
	kernel_exclusive();
	if (pte_none(entry))
		return vma_is_anonymous(vmf->vma) ? do_anonymous_page(vmf) : do_fault(vmf);
	if (!pte_present(entry))
		return do_swap_page(vmf);
	if (pte_protnone(entry) && (vmf->vma->vm_flags & VM_ACCESS_FLAGS))
		return handle_pte_protnone(vmf);
	if (!vmf_pte_lock_same(vmf))
		return fault_overtaken(vmf, NULL);
	if (vmf->flags & FAULT_FLAG_WRITE) {
		if (!pte_write(entry))
			return do_wp_page(vmf);
		entry = pte_mkdirty(entry);
	}
	/* Spurious (another CPU fixed it) or an access-flag fault: just update. */
	entry = pte_mkyoung(entry);
	if (entry != vmf->orig_pte)
		set_pte_at(vmf->mm, vmf->address, vmf->pte, entry);
	spin_unlock(vmf->ptl);
	trace_fault(vmf, "young-dirty");
	return 0;
}

/*
 * A callback that broke the lock contract (counted already) must not leave
 * the locks unbalanced: the fault lock is held on return exactly when the
 * result has neither RETRY nor COMPLETED, as callers expect.
 */
static void fault_lock_balance(struct vm_fault *vmf, vm_fault_t ret)
{
	bool want_held = !(ret & (VM_FAULT_RETRY | VM_FAULT_COMPLETED));

	if (vmf->fault_lock_held == want_held)
		return;
	if (want_held) {
		if (vmf->flags & FAULT_FLAG_VMA_LOCK)
			down_read(&vmf->vma->vm_lock);
		else
			mmap_read_lock(vmf->mm);
	} else {
		vmf->fault_lock_releases--;	/* not the callback's release */
		release_fault_lock(vmf);
	}
	vmf->fault_lock_held = want_held;
}

/* The arch handler's or GUP's release of the fault lock after handle_mm_fault. */
void fault_lock_release(struct mm_struct *mm, struct vm_area_struct *vma, unsigned int flags)
{
	if (flags & FAULT_FLAG_VMA_LOCK)
		vma_end_read(vma);
	else
		mmap_read_unlock(mm);
}

/*
 * handle_mm_fault - resolve a fault at addr in vma for task t.  Assumes the
 * access is allowed by vma->vm_flags (the arch handler checked) and the
 * fault lock held: mmap_lock for read, or vma's own lock with
 * FAULT_FLAG_VMA_LOCK.  Returns 0 or VM_FAULT_* bits; with RETRY or
 * COMPLETED the lock has been released, otherwise the caller releases it.
 */
vm_fault_t handle_mm_fault(struct mmsim_task *t, struct vm_area_struct *vma, uint64_t addr,
			   unsigned int flags)
{
	struct vm_fault vmf = {
		.task = t, .vma = vma, .mm = vma->vm_mm,
		.address = addr & PAGE_MASK, .flags = flags,
		.fault_lock_held = true,
	};
	struct mmsim_machine *m = vmf.mm->machine;
	vm_fault_t ret;

	count_vm_event(m, PGFAULT);
	vmf.pmd = pmd_offset_alloc(vmf.mm, vmf.address);
	if (!vmf.pmd)
		return VM_FAULT_OOM;
	/* __handle_mm_fault: a huge PMD first, then the PTE it falls back to. */
	if (thp_vma_allowable(vma) || pmd_trans_huge(ptep_get(vmf.pmd)))
		kernel_exclusive();	/* huge pages are not audited for parallel runs */
	if (pmd_none(ptep_get(vmf.pmd)) && thp_vma_allowable(vma)) {
		ret = do_huge_pmd_anonymous_page(&vmf);
		if (!(ret & VM_FAULT_FALLBACK))
			goto done;
	} else if (pmd_trans_huge(ptep_get(vmf.pmd))) {
		vmf.orig_pmd = *vmf.pmd;
		ret = handle_huge_pmd_fault(&vmf);
		if (!(ret & VM_FAULT_FALLBACK))
			goto done;
	}
	vmf.pte = pte_alloc_map(vmf.mm, vmf.pmd, vmf.address);
	if (!vmf.pte) {
		/* A huge PMD appeared meanwhile: the access simply faults again. */
		if (!pmd_trans_huge(*vmf.pmd))
			return VM_FAULT_OOM;
		ret = 0;
		goto done;
	}
	vmf.orig_pte = ptep_get(vmf.pte);
	ret = handle_pte_fault(&vmf);
done:
	fault_lock_balance(&vmf, ret);
	if (ret & (VM_FAULT_RETRY | VM_FAULT_BLOCKED | VM_FAULT_ERROR))
		return ret;
	if (ret & VM_FAULT_MAJOR) {
		t->maj_flt++;
		count_vm_event(m, PGMAJFAULT);
	} else {
		t->min_flt++;
	}
	return ret;
}

/*
 * populate_range - fault in [start, end) as GUP does for MAP_POPULATE and
 * MADV_POPULATE_*: every page present, and writable when write is set.
 * Returns 0, -ENOMEM (hole or OOM), -EFAULT (the access is not allowed or
 * ends in a signal) or -EAGAIN (a page is under migration).
 */
int populate_range(struct mmsim_task *t, uint64_t start, uint64_t end, bool write)
{
	struct mm_struct *mm = t->mm;

	for (uint64_t addr = start; addr < end; addr += PAGE_SIZE) {
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		vm_fault_t ret;
		pteval_t pte;

		if (!vma)
			return -MMSIM_ENOMEM;
		if (!(vma->vm_flags & (write ? VM_WRITE : VM_ACCESS_FLAGS)))
			return -MMSIM_EFAULT;
		pte = follow_pte_value(mm, addr);
		if (pte_valid(pte) && (!write || pte_write(pte)) && pte_young(pte))
			continue;
		ret = handle_mm_fault(t, vma, addr, (write ? FAULT_FLAG_WRITE : 0) | FAULT_FLAG_REMOTE);
		if (ret & VM_FAULT_RETRY) {
			/* The handler dropped mmap_lock: take it back, as GUP does. */
			mmap_read_lock(mm);
			vma = vma_lookup(mm, addr);
			if (!vma)
				return -MMSIM_ENOMEM;
			ret = handle_mm_fault(t, vma, addr, (write ? FAULT_FLAG_WRITE : 0) |
					      FAULT_FLAG_REMOTE | FAULT_FLAG_TRIED);
			if (ret & VM_FAULT_RETRY)
				mmap_read_lock(mm);
		}
		if (ret & VM_FAULT_OOM)
			return -MMSIM_ENOMEM;
		if (ret & (VM_FAULT_RETRY | VM_FAULT_BLOCKED))
			return -MMSIM_EAGAIN;
		if (ret & VM_FAULT_ERROR)
			return -MMSIM_EFAULT;
	}
	return 0;
}

/* ------------------------------------------------------------- unmapping */

/*
 * mmu_gather: pages unmapped by a zap are freed only after the TLB flush of
 * the range, so no CPU can reach a frame that is back in the allocator.
 */
#define GATHER_BATCH 256
#define GATHER_THPS  64

struct mmu_gather {
	struct mm_struct *mm;
	uint64_t start, end;            /* range to flush                         */
	int nr;
	struct page *pages[GATHER_BATCH];
	/*
	 * THPs some of whose PTEs were zapped, each with a reference: once the
	 * flush is done, one left partly mapped is split (deferred split).
	 */
	int nr_thps;
	struct page *thps[GATHER_THPS];
};

static void tlb_flush_mmu(struct mmu_gather *tlb)
{
	struct mmsim_machine *m = tlb->mm->machine;

	if (tlb->end > tlb->start)
		flush_tlb_range(tlb->mm, tlb->start, tlb->end);
	for (int i = 0; i < tlb->nr; i++)
		put_page(m, tlb->pages[i]);
	tlb->nr = 0;
	tlb->start = tlb->end = 0;
}

/*
 * tlb_finish_mmu - the last flush, then the THPs that lost PTEs: with no
 * page-table lock held any more, each one left partly mapped is split.
 */
static void tlb_finish_mmu(struct mmu_gather *tlb)
{
	struct mmsim_machine *m = tlb->mm->machine;

	tlb_flush_mmu(tlb);
	for (int i = 0; i < tlb->nr_thps; i++) {
		deferred_split_folio(m, tlb->thps[i]);
		put_page(m, tlb->thps[i]);
	}
	tlb->nr_thps = 0;
}

/* p's mapping of [addr, end) is gone; p is freed after the flush. */
static void tlb_remove_page_range(struct mmu_gather *tlb, struct page *p, uint64_t addr, uint64_t end)
{
	if (tlb->end == tlb->start)
		tlb->start = addr;
	tlb->end = end;
	if (p) {
		tlb->pages[tlb->nr++] = p;
		if (tlb->nr == GATHER_BATCH)
			tlb_flush_mmu(tlb);
	}
}

static void tlb_remove_page(struct mmu_gather *tlb, struct page *p, uint64_t addr)
{
	tlb_remove_page_range(tlb, p, addr, addr + PAGE_SIZE);
}

/*
 * A PTE of a THP page went: look at the THP when the zap is done.  Past
 * GATHER_THPS of them the rest stay whole, partly mapped, as they would
 * on Linux's deferred-split queue until the shrinker ran.
 */
static void tlb_note_thp(struct mmu_gather *tlb, struct page *p)
{
	struct page *head = compound_head(p);

	for (int i = tlb->nr_thps - 1; i >= 0 && i >= tlb->nr_thps - 2; i--)
		if (tlb->thps[i] == head)
			return;
	if (tlb->nr_thps == GATHER_THPS)
		return;
	get_page(head);
	tlb->thps[tlb->nr_thps++] = head;
}

static int zap_pte(pteval_t *ptep, uint64_t addr, struct mm_walk *walk)
{
	struct mmu_gather *tlb = walk->private;
	struct mmsim_machine *m = walk->mm->machine;
	pteval_t pte = *ptep;
	struct page *p;

	*ptep = 0;
	if (pte_present(pte)) {
		p = vm_normal_page(walk->vma, addr, pte);
		if (p) {
			if (pte_dirty(pte) && !PageAnon(p))
				p->flags |= PG_dirty;
			if (PageCompound(p))
				tlb_note_thp(tlb, p);
			page_remove_rmap(m, p);
			inc_mm_counter_page(walk->mm, p, -1);
		}
		tlb_remove_page(tlb, p, addr);
		return 0;
	}
	if (is_migration_entry(pte_to_swp_entry(pte))) {
		/* The rmap went when the entry was installed; its reference goes now. */
		p = pfn_to_page(m, swp_offset(pte_to_swp_entry(pte)));
		inc_mm_counter_page(walk->mm, p, -1);
		put_page(m, p);
	} else if (swp_type(pte_to_swp_entry(pte)) < MAX_SWAPFILES) {
		/* A swapped-out page: this PTE's hold on its slot goes. */
		free_swap_and_cache(m, pte_to_swp_entry(pte));
		walk->mm->rss[MM_SWAPENTS]--;
	}
	return 0;
}

/*
 * A huge PMD in the range: unmapped whole when the range covers it, else
 * split so the PTEs of the range can go.
 */
static int zap_pmd(pteval_t *pmdp, uint64_t addr, uint64_t next, struct mm_walk *walk)
{
	struct mmu_gather *tlb = walk->private;
	uint64_t haddr = addr & PMD_MASK;
	struct page *p;

	if (addr != haddr || next != haddr + PMD_SIZE) {
		__split_huge_pmd(walk->vma, pmdp, haddr);
		return 0;
	}
	/* Not huge any more (split meanwhile): the walk goes on into its PTEs. */
	if (zap_huge_pmd(walk->vma, pmdp, haddr, &p))
		tlb_remove_page_range(tlb, p, haddr, haddr + PMD_SIZE);
	return 0;
}

/* zap_page_range - unmap [start, end) of vma, dropping its pages' references. */
void zap_page_range(struct vm_area_struct *vma, uint64_t start, uint64_t end)
{
	static const struct mm_walk_ops ops = { .pmd_entry = zap_pmd, .pte_entry = zap_pte };
	struct mmu_gather *tlb = malloc(sizeof(*tlb));
	struct mmu_gather local;

	if (!tlb) {
		/* Host memory is short: a one-page gather still frees safely. */
		tlb = &local;
	}
	tlb->mm = vma->vm_mm;
	tlb->start = tlb->end = 0;
	tlb->nr = tlb->nr_thps = 0;
	walk_page_range(vma->vm_mm, vma, start, end, &ops, tlb);
	tlb_finish_mmu(tlb);
	if (tlb != &local)
		free(tlb);
}

/* ------------------------------------------------------------------ fork */

struct copy_ctx {
	struct vm_area_struct *dst, *src;
	int err;
};

/*
 * copy_present_page - fork of a possibly-pinned exclusive page: the child
 * gets its own copy now, because the parent's page may be written behind
 * the kernel's back (DMA) and must stay the parent's alone.
 */
static int copy_present_page(struct copy_ctx *c, uint64_t addr, pteval_t *dst_pte, struct page *src)
{
	struct mm_struct *mm = c->dst->vm_mm;
	struct mmsim_machine *m = mm->machine;
	struct page *p;
	pteval_t entry;

	if (anon_vma_prepare(mm, c->dst))
		return -MMSIM_ENOMEM;
	p = alloc_pages_node(m, -1, GFP_HIGHUSER_MOVABLE | vma_tagged_gfp(c->dst), 0);
	if (!p)
		return -MMSIM_ENOMEM;
	lru_add(m, p);
	copy_user_highpage(m, p, src);
	entry = pfn_pte(page_to_pfn(m, p), c->dst->vm_page_prot);
	if (c->dst->vm_flags & VM_WRITE)
		entry = pte_mkwrite(pte_mkdirty(entry));
	folio_add_new_anon_rmap(p, c->dst, addr);
	inc_mm_counter_page(mm, p, 1);
	set_pte_at(mm, addr, dst_pte, pte_mkyoung(entry));
	return 0;
}

static int copy_pte(pteval_t *src_pte, uint64_t addr, struct mm_walk *walk)
{
	struct copy_ctx *c = walk->private;
	struct mm_struct *dst_mm = c->dst->vm_mm;
	struct mmsim_machine *m = dst_mm->machine;
	pteval_t pte = *src_pte, *dst_pte;
	struct page *p;

	dst_pte = pte_offset_alloc(dst_mm, addr);
	if (!dst_pte) {
		c->err = -MMSIM_ENOMEM;
		return 1;
	}
	charge(m, COST_FORK_PTE);
	if (!pte_present(pte)) {
		swp_entry_t e = pte_to_swp_entry(pte);

		if (is_migration_entry(e)) {
			/* Both sides now share the page: neither may write it. */
			p = pfn_to_page(m, swp_offset(e));
			if (swp_type(e) != SWP_MIGRATION_READ) {
				pte = swp_entry_to_pte(swp_entry(SWP_MIGRATION_READ, swp_offset(e)));
				*src_pte = pte;
			}
			get_page(p);
			inc_mm_counter_page(dst_mm, p, 1);
		} else if (swp_type(e) < MAX_SWAPFILES) {
			pte = copy_swap_pte(dst_mm, src_pte);	/* swap_duplicate */
		}
		set_pte_at(dst_mm, addr, dst_pte, pte);
		return 0;
	}
	p = vm_normal_page(c->src, addr, pte);
	if (p && PageAnon(p) && (p->flags & PG_anon_exclusive) && p->pincount > 0) {
		c->err = copy_present_page(c, addr, dst_pte, p);
		return c->err ? 1 : 0;
	}
	if (p) {
		if (PageAnon(p))
			p->flags &= ~PG_anon_exclusive;
		get_page(p);
		page_dup_rmap(m, p);
		inc_mm_counter_page(dst_mm, p, 1);
	}
	if (is_cow_mapping(c->src->vm_flags) && pte_write(pte)) {
		pte = pte_wrprotect(pte);
		*src_pte = pte;
	}
	if (c->src->vm_flags & VM_SHARED)
		pte = pte_mkclean(pte);
	set_pte_at(dst_mm, addr, dst_pte, pte_mkold(pte));
	return 0;
}

/* A huge PMD: shared whole, or split (a pinned THP) and copied PTE by PTE. */
static int copy_pmd(pteval_t *src_pmd, uint64_t addr, uint64_t next, struct mm_walk *walk)
{
	struct copy_ctx *c = walk->private;
	int err;

	(void)next;
	err = copy_huge_pmd(c->dst, c->src, src_pmd, addr & PMD_MASK);
	if (err == -MMSIM_EAGAIN)
		return 0;
	c->err = err;
	return err ? 1 : 0;
}

/*
 * copy_page_range - fork's copy of src's PTEs into dst (same range).  Shared
 * mappings without anonymous pages are skipped: faults refill them from the
 * page cache, as in Linux.  Write access removed from the parent is flushed.
 */
int copy_page_range(struct vm_area_struct *dst, struct vm_area_struct *src)
{
	static const struct mm_walk_ops ops = { .pmd_entry = copy_pmd, .pte_entry = copy_pte };
	struct copy_ctx c = { .dst = dst, .src = src };

	if (!src->anon_vma)
		return 0;
	walk_page_range(src->vm_mm, src, src->vm_start, src->vm_end, &ops, &c);
	if (is_cow_mapping(src->vm_flags))
		flush_tlb_range(src->vm_mm, src->vm_start, src->vm_end);
	return c.err;
}
