// SPDX-License-Identifier: MIT
/*
 * tests/test_numa_balancing.c - NUMA balancing (the numa_scan daemon and
 * hinting faults) and the generic fault-on-access path (spec §7.1, §8.6).
 *
 * The three questions asked of the fault-on-access design each get tests:
 *   Q1  how often entries are marked: NUMA hints once per scan period while
 *       kernel.numa_balancing is on, never otherwise;
 *   Q2  one entry, both users: the latest mark wins at fault time, and the
 *       scanner never overwrites an arch mark;
 *   Q3  how they are told apart: the arch predicate, asked first.
 * The arch side is played by the test-only hook
 * (machine->fault_on_access_test_hook), which claims PTEs carrying TEST_BIT,
 * so the tests do not depend on which arch code is linked.
 *
 * Most tests run on examples/numa-4g.dts: node 0 = CPUs 0-1, node 1 = CPUs
 * 2-3.  A task that fills memory on CPU 0 gets node-0 pages; moved to CPU 2
 * those pages are misplaced.
 */
#include <stdlib.h>

#include "harness.h"
#include "mm/fault_on_access.h"

#define BASE		0x400000000ULL		/* 2 MiB aligned */
#define RW		(MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define ANON_PRIV	(MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)
#define ANON_SHARED	(MMSIM_MAP_SHARED | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)
#define SEC		1000000000ULL
#define TEST_BIT	(1ULL << 59)		/* the "arch" software bit of the hook */

/* The two-node machine, with kernel.numa_balancing as given ("0"/"1"). */
static struct mmsim_machine *numa_machine(const char *balancing)
{
	struct mmsim_options o = { .seed = 1, .devicetree = "examples/numa-4g.dts" };
	struct mmsim_machine *m = NULL;

	if (mmsim_machine_create(&o, &m) != 0)
		TEST_FAIL_(1, "mmsim_machine_create: %s", mmsim_strerror_last());
	ASSERT_EQ(m->nr_nodes, 2);
	ASSERT_EQ(mmsim_sysctl_write(m, "kernel.numa_balancing", balancing), 0);
	return m;
}

static struct mmsim_task *new_task(struct mmsim_machine *m, unsigned int cpu)
{
	struct mmsim_task *t = NULL;

	ASSERT_EQ(mmsim_task_create(m, &t), 0);
	ASSERT_EQ(mmsim_task_set_cpu(t, cpu), 0);
	return t;
}

/* mmap n private (or shared) anonymous pages at BASE and write each one. */
static void map_and_fill(struct mmsim_task *t, uint64_t n, bool shared)
{
	struct mmsim_siginfo si;

	ASSERT_EQ(mmsim_mmap(t, BASE, n * PAGE, RW, shared ? ANON_SHARED : ANON_PRIV, -1, 0),
		  (int64_t)BASE);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v = 0x5eed0000ULL + i;

		ASSERT_EQ(mmsim_store(t, BASE + i * PAGE, &v, sizeof(v), &si), MMSIM_ACCESS_OK);
	}
}

static pteval_t pte_at(struct mmsim_task *t, uint64_t addr)
{
	pteval_t *ptep = pte_offset(t->mm, addr);

	ASSERT_TRUE(ptep != NULL);
	return *ptep;
}

static uint64_t count_protnone(struct mmsim_task *t, uint64_t n)
{
	uint64_t c = 0;

	for (uint64_t i = 0; i < n; i++)
		c += pte_protnone(pte_at(t, BASE + i * PAGE));
	return c;
}

static int64_t ev(struct mmsim_machine *m, const char *name)
{
	return mmsim_vmstat(m, name);
}

/* The node move_pages reports for the page at addr. */
static int page_node(struct mmsim_task *t, uint64_t addr)
{
	int status = -1000;

	ASSERT_EQ(mmsim_move_pages(t, 1, &addr, NULL, &status, 0), 0);
	return status;
}

static int load_byte(struct mmsim_task *t, uint64_t addr, struct mmsim_siginfo *si)
{
	uint8_t b;

	return mmsim_load(t, addr, &b, 1, si);
}

/* What the arch would do: mark the PTE at addr protnone with TEST_BIT. */
static void arch_mark(struct mmsim_task *t, uint64_t addr)
{
	pteval_t *ptep = pte_offset(t->mm, addr);

	ASSERT_TRUE(ptep && pte_present(*ptep));
	*ptep = pte_modify(*ptep, PAGE_NONE) | TEST_BIT;
	flush_tlb_page(t->mm, addr);
}

/* What the NUMA scanner does to one PTE, without waiting for a pass. */
static void numa_mark(struct mmsim_task *t, uint64_t addr)
{
	pteval_t *ptep = pte_offset(t->mm, addr);

	ASSERT_TRUE(ptep && pte_valid(*ptep));
	*ptep = pte_modify(*ptep, PAGE_NONE);
	flush_tlb_page(t->mm, addr);
}

/* ------------------------------------------------------- the test hook */

struct hook_state {
	int calls;
	vm_fault_t ret;                 /* what the callback returns           */
	bool map_pte;                   /* what it sets *map_pte to            */
	bool drop_ref;                  /* keep the contract's reference rule  */
	bool release;                   /* release_fault_lock() before return  */
	bool remap_itself;              /* change the PTE behind our back      */
	pteval_t written;               /* what remap_itself wrote             */
	pteval_t seen;                  /* vmf->orig_pte it was called with    */
};

static bool hook_pte(void *ctx, pteval_t pte)
{
	(void)ctx;
	return pte & TEST_BIT;
}

static vm_fault_t hook_handle(void *ctx, struct page *folio, struct vm_fault *vmf, bool *map_pte)
{
	struct hook_state *h = ctx;

	h->calls++;
	h->seen = vmf->orig_pte;
	if (h->remap_itself) {
		h->written = pte_modify(vmf->orig_pte, vmf->vma->vm_page_prot);
		set_pte_at(vmf->mm, vmf->address, vmf->pte, h->written);
	}
	if (h->drop_ref)
		put_page(vmf->mm->machine, folio);
	if (h->release)
		release_fault_lock(vmf);
	*map_pte = h->map_pte;
	return h->ret;
}

static struct fault_on_access_test_hook test_hook = { hook_pte, hook_handle, NULL };

static void install_hook(struct mmsim_machine *m, struct hook_state *h)
{
	memset(h, 0, sizeof(*h));
	h->drop_ref = true;
	test_hook.ctx = h;
	m->fault_on_access_test_hook = &test_hook;
}

/* handle_mm_fault at addr as a user read would enter it. */
static vm_fault_t fault_at(struct mmsim_task *t, uint64_t addr, unsigned int extra)
{
	struct vm_area_struct *vma = vma_lookup(t->mm, addr);

	ASSERT_TRUE(vma != NULL);
	return fault_locked(t, vma, addr, FAULT_FLAG_USER | extra);
}

/* ============================================================ Q1: marking */

TEST(numa_q1_scan_marks_after_period)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0);
	const uint64_t n = 64;
	int64_t upd;

	map_and_fill(t, n, false);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_task_set_cpu(t, 2), 0);          /* node-0 pages now remote */
	upd = ev(m, "numa_pte_updates");
	ASSERT_EQ(count_protnone(t, n), 0);              /* nothing until time passes */
	ASSERT_EQ(mmsim_advance(m, SEC / 2), 0);
	ASSERT_EQ(count_protnone(t, n), 0);              /* half a period: still nothing */
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_advance(m, SEC / 2), 0);
	ASSERT_EQ(count_protnone(t, n), n);
	ASSERT_EQ(ev(m, "numa_pte_updates") - upd, (int64_t)n);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 0);
	ASSERT_CONSISTENT(m);
	/* A second period finds them all marked already: nothing new. */
	ASSERT_EQ(mmsim_advance(m, SEC), 0);
	ASSERT_EQ(ev(m, "numa_pte_updates") - upd, (int64_t)n);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(numa_q1_balancing_off_never_marks)
{
	struct mmsim_machine *m = numa_machine("0");
	struct mmsim_task *t = new_task(m, 0);
	const uint64_t n = 32;

	map_and_fill(t, n, false);
	ASSERT_EQ(mmsim_task_set_cpu(t, 2), 0);
	ASSERT_EQ(mmsim_advance(m, 10 * SEC), 0);
	ASSERT_EQ(mmsim_run_daemon(m, "numa_scan"), 0);
	ASSERT_EQ(count_protnone(t, n), 0);
	ASSERT_EQ(ev(m, "numa_pte_updates"), 0);
	ASSERT_CONSISTENT(m);
	/*
	 * Switched on at run time: the next period marks.  The last pass ran
	 * just now (run_daemon), so the next one is due one period later.
	 */
	ASSERT_EQ(mmsim_sysctl_write(m, "kernel.numa_balancing", "1"), 0);
	ASSERT_EQ(mmsim_advance(m, SEC / 2), 0);
	ASSERT_EQ(count_protnone(t, n), 0);
	ASSERT_EQ(mmsim_advance(m, SEC / 2 + 1), 0);
	ASSERT_EQ(count_protnone(t, n), n);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(numa_q1_run_daemon_is_one_pass)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0);

	map_and_fill(t, 16, false);
	ASSERT_EQ(mmsim_task_set_cpu(t, 3), 0);
	ASSERT_EQ(mmsim_run_daemon(m, "numa_scan"), 0);
	ASSERT_EQ(count_protnone(t, 16), 16);
	ASSERT_EQ(ev(m, "numa_pte_updates"), 16);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* A single-threaded task's pages on its own node need no hint; a thread's do. */
TEST(numa_q1_local_pages_of_single_thread_skipped)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0), *th = NULL;

	map_and_fill(t, 16, false);
	ASSERT_EQ(mmsim_run_daemon(m, "numa_scan"), 0);
	ASSERT_EQ(count_protnone(t, 16), 0);
	ASSERT_EQ(ev(m, "numa_pte_updates"), 0);
	ASSERT_EQ(mmsim_thread_create(t, &th), 0);
	ASSERT_EQ(mmsim_run_daemon(m, "numa_scan"), 0);
	ASSERT_EQ(count_protnone(t, 16), 16);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* The zero page, shared COW pages and PROT_NONE VMAs are never marked. */
TEST(numa_q1_prot_numa_skip_rules)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0), *c = NULL;
	struct mmsim_siginfo si;
	const uint64_t zbase = BASE + 64 * PAGE;

	map_and_fill(t, 8, false);                       /* will be COW-shared */
	ASSERT_EQ(mmsim_mmap(t, zbase, 8 * PAGE, MMSIM_PROT_READ, ANON_PRIV, -1, 0), (int64_t)zbase);
	for (int i = 0; i < 8; i++)
		ASSERT_EQ(load_byte(t, zbase + (uint64_t)i * PAGE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	ASSERT_EQ(mmsim_task_set_cpu(t, 2), 0);
	ASSERT_EQ(mmsim_task_set_cpu(c, 2), 0);
	ASSERT_EQ(mmsim_run_daemon(m, "numa_scan"), 0);
	ASSERT_EQ(ev(m, "numa_pte_updates"), 0);
	ASSERT_EQ(count_protnone(t, 8), 0);
	ASSERT_TRUE(pte_valid(pte_at(t, zbase)));
	ASSERT_CONSISTENT(m);
	/* The child writes: its copies are its own now, and get marked. */
	ASSERT_EQ(mmsim_task_set_cpu(c, 0), 0);
	for (int i = 0; i < 8; i++)
		ASSERT_EQ(mmsim_fill(c, BASE + (uint64_t)i * PAGE, 0x77, 1, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_task_set_cpu(c, 2), 0);
	ASSERT_EQ(mmsim_run_daemon(m, "numa_scan"), 0);
	ASSERT_EQ(count_protnone(c, 8), 8);              /* the child's copies     */
	ASSERT_EQ(count_protnone(t, 8), 8);              /* the parent's, unshared */
	ASSERT_EQ(ev(m, "numa_pte_updates"), 16);
	ASSERT_CONSISTENT(m);
	/* PROT_NONE VMAs are not scanned: their entries mean "no access". */
	ASSERT_EQ(mmsim_mprotect(t, BASE, 8 * PAGE, MMSIM_PROT_NONE), 0);
	ASSERT_EQ(load_byte(t, BASE, &si), MMSIM_ACCESS_SIGNAL);
	ASSERT_EQ(si.signo, MMSIM_SIGSEGV);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * Each pass marks at most scan_size (256 MiB) of pages and the next pass
 * resumes there; after the last VMA the scan starts over.
 */
TEST(numa_q1_scan_size_and_resume)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0);
	const uint64_t limit = NUMA_BALANCING_SCAN_SIZE_MB << (20 - 12);
	const uint64_t n = limit + 2048;                 /* 264 MiB */
	struct mmsim_siginfo si;

	ASSERT_EQ(mmsim_mmap(t, BASE, n * PAGE, RW, ANON_PRIV, -1, 0), (int64_t)BASE);
	/* PTE-mapped pages: the PMD-level scan has tests of its own (test_thp.c). */
	ASSERT_EQ(mmsim_madvise(t, BASE, n * PAGE, MMSIM_MADV_NOHUGEPAGE), 0);
	ASSERT_EQ(mmsim_fill(t, BASE, 0x3c, n * PAGE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_task_set_cpu(t, 2), 0);
	ASSERT_EQ(mmsim_advance(m, SEC), 0);
	ASSERT_EQ(ev(m, "numa_pte_updates"), (int64_t)limit);
	ASSERT_EQ(t->mm->numa_scan_offset, BASE + limit * PAGE);
	ASSERT_TRUE(pte_protnone(pte_at(t, BASE + (limit - 1) * PAGE)));
	ASSERT_TRUE(pte_valid(pte_at(t, BASE + limit * PAGE)));
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_advance(m, SEC), 0);
	ASSERT_EQ(ev(m, "numa_pte_updates"), (int64_t)n);
	ASSERT_EQ(t->mm->numa_scan_offset, 0);
	ASSERT_EQ(t->mm->numa_scan_seq, 1);
	ASSERT_EQ(count_protnone(t, n), n);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ====================================================== the hinting fault */

/* The brief's scenario: touched from node 1, node-0 pages move to node 1. */
TEST(numa_misplaced_pages_migrate_to_faulting_node)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0);
	const uint64_t n = 32;
	struct mmsim_siginfo si;

	map_and_fill(t, n, false);
	for (uint64_t i = 0; i < n; i++)
		ASSERT_EQ(page_node(t, BASE + i * PAGE), 0);
	ASSERT_EQ(mmsim_task_set_cpu(t, 2), 0);
	ASSERT_EQ(mmsim_advance(m, SEC), 0);
	ASSERT_EQ(count_protnone(t, n), n);
	ASSERT_CONSISTENT(m);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v = 0;

		ASSERT_EQ(mmsim_load(t, BASE + i * PAGE, &v, sizeof(v), &si), MMSIM_ACCESS_OK);
		ASSERT_EQ(v, 0x5eed0000ULL + i);                 /* data intact */
		ASSERT_EQ(page_node(t, BASE + i * PAGE), 1);
		ASSERT_CONSISTENT(m);
	}
	ASSERT_EQ(ev(m, "numa_hint_faults"), (int64_t)n);
	ASSERT_EQ(ev(m, "numa_hint_faults_local"), 0);
	ASSERT_EQ(ev(m, "numa_pages_migrated"), (int64_t)n);
	ASSERT_GE(ev(m, "pgmigrate_success"), (int64_t)n);
	ASSERT_EQ(count_protnone(t, n), 0);
	/* Local now: the next pass leaves them alone. */
	ASSERT_EQ(mmsim_advance(m, SEC), 0);
	ASSERT_EQ(count_protnone(t, n), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(numa_8_6_99_local_fault_counts_and_remaps)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0), *th = NULL;
	struct mmsim_siginfo si;
	uint64_t pfn;

	map_and_fill(t, 4, false);
	ASSERT_EQ(mmsim_thread_create(t, &th), 0);       /* threads: local pages marked */
	pfn = pte_pfn(pte_at(t, BASE));
	ASSERT_EQ(mmsim_run_daemon(m, "numa_scan"), 0);
	ASSERT_TRUE(pte_protnone(pte_at(t, BASE)));
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(load_byte(t, BASE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 1);
	ASSERT_EQ(ev(m, "numa_hint_faults_local"), 1);
	ASSERT_EQ(ev(m, "numa_pages_migrated"), 0);
	/* Mapped back: same page, young, and writable (exclusive anon page). */
	ASSERT_TRUE(pte_valid(pte_at(t, BASE)));
	ASSERT_EQ(pte_pfn(pte_at(t, BASE)), pfn);
	ASSERT_TRUE(pte_young(pte_at(t, BASE)));
	ASSERT_TRUE(pte_write(pte_at(t, BASE)));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(numa_8_6_99_migrated_not_remapped_by_handler)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 1);
	struct mmsim_siginfo si;
	uint64_t old_pfn;

	map_and_fill(t, 1, false);
	old_pfn = pte_pfn(pte_at(t, BASE));
	ASSERT_EQ(mmsim_task_set_cpu(t, 3), 0);
	ASSERT_EQ(mmsim_run_daemon(m, "numa_scan"), 0);
	ASSERT_EQ(fault_at(t, BASE, FAULT_FLAG_WRITE), 0);
	/* The migration's own remap: a new frame on node 1, the old one free. */
	ASSERT_TRUE(pte_valid(pte_at(t, BASE)));
	ASSERT_NE(pte_pfn(pte_at(t, BASE)), old_pfn);
	ASSERT_EQ(page_node(t, BASE), 1);
	ASSERT_EQ(ev(m, "numa_pages_migrated"), 1);
	ASSERT_EQ(ev(m, "numa_hint_faults_local"), 0);
	ASSERT_EQ(mmsim_fill(t, BASE, 0x11, PAGE, &si), MMSIM_ACCESS_OK);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* A pinned page cannot move: the hint fault maps it back in place. */
TEST(numa_8_6_99_migrate_fail_remaps_if_same)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0);
	struct mmsim_pin *pin = NULL;
	struct mmsim_siginfo si;
	uint64_t pfn;

	map_and_fill(t, 1, true);                        /* shared: pins do not stop marking */
	pfn = pte_pfn(pte_at(t, BASE));
	ASSERT_EQ(mmsim_pin(t, BASE, PAGE, MMSIM_FOLL_WRITE | MMSIM_FOLL_LONGTERM, &pin), 0);
	ASSERT_EQ(mmsim_task_set_cpu(t, 2), 0);
	ASSERT_EQ(mmsim_run_daemon(m, "numa_scan"), 0);
	ASSERT_TRUE(pte_protnone(pte_at(t, BASE)));
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(load_byte(t, BASE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 1);
	ASSERT_EQ(ev(m, "numa_pages_migrated"), 0);
	ASSERT_TRUE(pte_valid(pte_at(t, BASE)));
	ASSERT_EQ(pte_pfn(pte_at(t, BASE)), pfn);
	ASSERT_EQ(page_node(t, BASE), 0);
	ASSERT_CONSISTENT(m);
	mmsim_unpin(pin);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* An explicit policy has no MPOL_F_MOF: hint faults count but never move. */
TEST(numa_hint_fault_explicit_policy_does_not_migrate)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0), *th = NULL;
	struct mmsim_siginfo si;
	uint64_t nodes = 1;

	map_and_fill(t, 2, false);
	ASSERT_EQ(mmsim_thread_create(t, &th), 0);
	ASSERT_EQ(mmsim_run_daemon(m, "numa_scan"), 0);  /* task policy still default */
	ASSERT_EQ(count_protnone(t, 2), 2);
	ASSERT_EQ(mmsim_mbind(t, BASE, 2 * PAGE, MMSIM_MPOL_BIND, &nodes, 3, 0), 0);
	ASSERT_EQ(mmsim_task_set_cpu(t, 2), 0);
	ASSERT_EQ(load_byte(t, BASE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 1);
	ASSERT_EQ(ev(m, "numa_pages_migrated"), 0);
	ASSERT_EQ(page_node(t, BASE), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ================================================ §8.6: fault-on-access */

TEST(numa_8_6_90_default_stubs)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m, 0);
	struct mmsim_siginfo si;
	struct vm_fault vmf;
	struct page *p;
	bool map_pte = true;
	int32_t ref;

	map_and_fill(t, 1, false);
	ASSERT_EQ(m->numa_balancing, 0);
	ASSERT_TRUE(!generic_fault_on_access_pte(m, pte_at(t, BASE) | TEST_BIT));
	ASSERT_TRUE(!generic_fault_on_access_pte(m, pte_modify(pte_at(t, BASE), PAGE_NONE)));
	/* The default callback, if ever called: SIGBUS, nothing to map, ref dropped. */
	p = vm_normal_page(vma_lookup(t->mm, BASE), BASE, pte_at(t, BASE));
	ASSERT_TRUE(p != NULL);
	ref = p->refcount;
	get_page(p);
	memset(&vmf, 0, sizeof(vmf));
	vmf.task = t;
	vmf.mm = t->mm;
	vmf.vma = vma_lookup(t->mm, BASE);
	vmf.address = BASE;
	vmf.fault_lock_held = true;
	ASSERT_EQ(generic_handle_folio_fault_on_access(p, &vmf, &map_pte), VM_FAULT_SIGBUS);
	ASSERT_TRUE(!map_pte);
	ASSERT_EQ(p->refcount, ref);
	ASSERT_TRUE(vmf.fault_lock_held);
	/* With balancing off nothing is marked and a PROT_NONE VMA just faults. */
	ASSERT_EQ(mmsim_advance(m, 5 * SEC), 0);
	ASSERT_TRUE(pte_valid(pte_at(t, BASE)));
	ASSERT_EQ(mmsim_mprotect(t, BASE, PAGE, MMSIM_PROT_NONE), 0);
	ASSERT_EQ(load_byte(t, BASE, &si), MMSIM_ACCESS_SIGNAL);
	ASSERT_EQ(si.code, MMSIM_SEGV_ACCERR);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 0);
	ASSERT_EQ(m->fault_contract_violations, 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(numa_8_6_91_protnone_handled_with_balancing_off)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m, 0);
	struct mmsim_siginfo si;

	map_and_fill(t, 1, false);
	numa_mark(t, BASE);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(load_byte(t, BASE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 1);
	ASSERT_EQ(ev(m, "numa_hint_faults_local"), 1);
	ASSERT_TRUE(pte_valid(pte_at(t, BASE)));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(numa_8_6_92_map_pte_remaps)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0);
	struct hook_state h;
	struct mmsim_siginfo si;
	uint64_t pfn;
	pteval_t pte;

	map_and_fill(t, 1, false);
	install_hook(m, &h);
	h.map_pte = true;
	pfn = pte_pfn(pte_at(t, BASE));
	arch_mark(t, BASE);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_task_set_cpu(t, 2), 0);          /* remote: NUMA would migrate */
	ASSERT_EQ(load_byte(t, BASE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(h.calls, 1);
	ASSERT_TRUE(h.seen & TEST_BIT);
	pte = pte_at(t, BASE);
	ASSERT_TRUE(pte_valid(pte) && pte_young(pte) && pte_write(pte));
	ASSERT_EQ(pte & TEST_BIT, 0);
	ASSERT_EQ(pte_pfn(pte), pfn);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 0);
	ASSERT_EQ(ev(m, "numa_pages_migrated"), 0);
	ASSERT_EQ(page_node(t, BASE), 0);
	ASSERT_EQ(m->fault_contract_violations, 0);
	ASSERT_CONSISTENT(m);
	m->fault_on_access_test_hook = NULL;
	mmsim_machine_destroy(m);
}

TEST(numa_8_6_93_no_map_pte_leaves_pte)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0);
	struct hook_state h;
	pteval_t marked;

	map_and_fill(t, 1, false);
	install_hook(m, &h);
	arch_mark(t, BASE);
	marked = pte_at(t, BASE);
	ASSERT_EQ(fault_at(t, BASE, 0), 0);
	ASSERT_EQ(h.calls, 1);
	ASSERT_EQ(pte_at(t, BASE), marked);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 0);
	ASSERT_EQ(m->fault_contract_violations, 0);
	ASSERT_CONSISTENT(m);
	m->fault_on_access_test_hook = NULL;
	mmsim_machine_destroy(m);
}

TEST(numa_8_6_94_retry_and_completed_lock_rules)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0);
	struct hook_state h;
	static const struct {
		vm_fault_t ret;
		unsigned int flags;
		bool release, drop_ref;
		uint64_t violations;
	} cases[] = {
		{ VM_FAULT_RETRY, 0, true, true, 0 },                          /* conforming */
		{ VM_FAULT_COMPLETED, 0, true, true, 0 },                      /* conforming */
		{ VM_FAULT_RETRY, FAULT_FLAG_RETRY_NOWAIT, false, true, 0 },   /* conforming */
		{ VM_FAULT_RETRY, 0, false, true, 1 },          /* kept the lock         */
		{ VM_FAULT_COMPLETED, 0, false, true, 1 },      /* kept the lock         */
		{ VM_FAULT_RETRY, FAULT_FLAG_RETRY_NOWAIT, true, true, 1 }, /* dropped mmap_lock */
		{ VM_FAULT_RETRY, 0, true, false, 1 },          /* kept the reference    */
	};

	map_and_fill(t, 1, false);
	install_hook(m, &h);
	arch_mark(t, BASE);
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t before = m->fault_contract_violations;
		pteval_t marked = pte_at(t, BASE);
		struct page *p = pfn_to_page(m, pte_pfn(marked));
		int32_t ref = p->refcount;

		h.ret = cases[i].ret;
		h.release = cases[i].release;
		h.drop_ref = cases[i].drop_ref;
		h.map_pte = true;               /* ignored on a non-zero return */
		ASSERT_EQ(fault_at(t, BASE, cases[i].flags), cases[i].ret);
		ASSERT_EQ(m->fault_contract_violations - before, cases[i].violations);
		if (cases[i].violations) {
			/* mmsim_check reports a breach; then forget it for the next case. */
			char rep[1024];

			ASSERT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
			ASSERT_STR_CONTAINS(rep, "broke their lock or reference contract");
			m->fault_contract_violations = before;
		}
		ASSERT_EQ(pte_at(t, BASE), marked);             /* returned unchanged, untouched */
		if (!cases[i].drop_ref)
			put_page(m, p);         /* undo the leak before checking */
		ASSERT_EQ(p->refcount, ref);
		ASSERT_CONSISTENT(m);
	}
	ASSERT_EQ(h.calls, (int)(sizeof(cases) / sizeof(cases[0])));
	m->fault_on_access_test_hook = NULL;
	mmsim_machine_destroy(m);
}

TEST(numa_8_6_95_error_propagated)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0);
	struct mmsim_siginfo si;
	struct hook_state h;

	map_and_fill(t, 1, false);
	install_hook(m, &h);
	h.ret = VM_FAULT_SIGBUS;
	arch_mark(t, BASE);
	ASSERT_EQ(fault_at(t, BASE, 0), VM_FAULT_SIGBUS);
	ASSERT_EQ(m->fault_contract_violations, 0);
	/* Through the access path: a SIGBUS to the task. */
	ASSERT_EQ(load_byte(t, BASE, &si), MMSIM_ACCESS_SIGNAL);
	ASSERT_EQ(si.signo, MMSIM_SIGBUS);
	ASSERT_EQ(m->fault_contract_violations, 0);
	/* Releasing the lock on an error return breaks the contract. */
	h.release = true;
	ASSERT_EQ(fault_at(t, BASE, 0), VM_FAULT_SIGBUS);
	ASSERT_EQ(m->fault_contract_violations, 1);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 0);
	{
		char rep[1024];

		ASSERT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
		ASSERT_STR_CONTAINS(rep, "broke their lock or reference contract");
		m->fault_contract_violations = 0;
	}
	ASSERT_CONSISTENT(m);
	m->fault_on_access_test_hook = NULL;
	mmsim_machine_destroy(m);
}

TEST(numa_8_6_96_changed_pte_not_remapped)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0);
	struct hook_state h;

	map_and_fill(t, 1, false);
	install_hook(m, &h);
	h.map_pte = true;
	h.remap_itself = true;
	arch_mark(t, BASE);
	ASSERT_EQ(fault_at(t, BASE, 0), 0);
	ASSERT_EQ(h.calls, 1);
	/* What the callback wrote stays: not made young or writable by us. */
	ASSERT_EQ(pte_at(t, BASE), h.written);
	ASSERT_EQ(m->fault_contract_violations, 0);
	ASSERT_CONSISTENT(m);
	m->fault_on_access_test_hook = NULL;
	mmsim_machine_destroy(m);
}

/* §8.6 97, the same on a PMD: spec_8_6_97_pmd_remapped_read_only in test_thp.c. */

TEST(numa_8_6_98_no_folio_maps_without_callback)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0);
	struct mmsim_siginfo si;
	struct hook_state h;
	pteval_t pte;

	ASSERT_EQ(mmsim_mmap(t, BASE, PAGE, MMSIM_PROT_READ, ANON_PRIV, -1, 0), (int64_t)BASE);
	ASSERT_EQ(load_byte(t, BASE, &si), MMSIM_ACCESS_OK);     /* the zero page */
	ASSERT_EQ(pte_pfn(pte_at(t, BASE)), m->zero_pfn);
	install_hook(m, &h);
	arch_mark(t, BASE);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(load_byte(t, BASE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(h.calls, 0);
	pte = pte_at(t, BASE);
	ASSERT_TRUE(pte_valid(pte) && pte_special(pte));
	ASSERT_EQ(pte_pfn(pte), m->zero_pfn);
	ASSERT_EQ(pte & TEST_BIT, 0);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 0);
	ASSERT_CONSISTENT(m);
	m->fault_on_access_test_hook = NULL;
	mmsim_machine_destroy(m);
}

/* ====================================== Q2, Q3: one entry, two users */

/* A NUMA hint the arch marks again goes to the arch, once. */
TEST(numa_q2_numa_mark_then_arch_mark_goes_to_arch)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0);
	struct mmsim_siginfo si;
	struct hook_state h;

	map_and_fill(t, 1, false);
	install_hook(m, &h);
	h.map_pte = true;
	ASSERT_EQ(mmsim_task_set_cpu(t, 2), 0);
	ASSERT_EQ(mmsim_advance(m, SEC), 0);
	ASSERT_TRUE(pte_protnone(pte_at(t, BASE)));
	ASSERT_EQ(ev(m, "numa_pte_updates"), 1);
	arch_mark(t, BASE);                              /* overwrites the NUMA hint */
	ASSERT_EQ(load_byte(t, BASE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(h.calls, 1);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 0);
	ASSERT_EQ(ev(m, "numa_pages_migrated"), 0);
	ASSERT_TRUE(pte_valid(pte_at(t, BASE)));
	ASSERT_CONSISTENT(m);
	/* Present again, the next scan marks it for NUMA, and NUMA handles it. */
	ASSERT_EQ(mmsim_advance(m, SEC), 0);
	ASSERT_TRUE(pte_protnone(pte_at(t, BASE)));
	ASSERT_EQ(pte_at(t, BASE) & TEST_BIT, 0);
	ASSERT_EQ(load_byte(t, BASE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(h.calls, 1);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 1);
	ASSERT_EQ(ev(m, "numa_pages_migrated"), 1);
	ASSERT_EQ(page_node(t, BASE), 1);
	ASSERT_EQ(m->fault_contract_violations, 0);
	ASSERT_CONSISTENT(m);
	m->fault_on_access_test_hook = NULL;
	mmsim_machine_destroy(m);
}

/* The scanner leaves an arch mark alone; the fault still goes to the arch. */
TEST(numa_q2_arch_mark_survives_numa_scan)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0);
	struct mmsim_siginfo si;
	struct hook_state h;
	pteval_t marked;

	map_and_fill(t, 4, false);
	install_hook(m, &h);
	h.map_pte = true;
	arch_mark(t, BASE);
	marked = pte_at(t, BASE);
	ASSERT_EQ(mmsim_task_set_cpu(t, 2), 0);
	ASSERT_EQ(mmsim_advance(m, SEC), 0);
	ASSERT_EQ(pte_at(t, BASE), marked);
	ASSERT_EQ(ev(m, "numa_pte_updates"), 3);         /* only the other three */
	ASSERT_EQ(count_protnone(t, 4), 4);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(load_byte(t, BASE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(h.calls, 1);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 0);
	ASSERT_EQ(page_node(t, BASE), 0);
	ASSERT_CONSISTENT(m);
	m->fault_on_access_test_hook = NULL;
	mmsim_machine_destroy(m);
}

/* The predicate tells them apart: no bit, NUMA; bit, arch; never both. */
TEST(numa_q3_predicate_tells_them_apart)
{
	struct mmsim_machine *m = numa_machine("1");
	struct mmsim_task *t = new_task(m, 0);
	struct mmsim_siginfo si;
	struct hook_state h;

	map_and_fill(t, 2, false);
	install_hook(m, &h);
	h.map_pte = true;
	numa_mark(t, BASE);
	arch_mark(t, BASE + PAGE);
	ASSERT_TRUE(pte_protnone(pte_at(t, BASE)) && pte_protnone(pte_at(t, BASE + PAGE)));
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(load_byte(t, BASE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 1);
	ASSERT_EQ(ev(m, "numa_hint_faults_local"), 1);
	ASSERT_EQ(h.calls, 0);
	ASSERT_EQ(load_byte(t, BASE + PAGE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(ev(m, "numa_hint_faults"), 1);
	ASSERT_EQ(ev(m, "numa_hint_faults_local"), 1);
	ASSERT_EQ(h.calls, 1);
	ASSERT_TRUE(pte_valid(pte_at(t, BASE)) && pte_valid(pte_at(t, BASE + PAGE)));
	ASSERT_EQ(m->fault_contract_violations, 0);
	ASSERT_CONSISTENT(m);
	m->fault_on_access_test_hook = NULL;
	mmsim_machine_destroy(m);
}
