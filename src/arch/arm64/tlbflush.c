// SPDX-License-Identifier: MIT
/*
 * arch/arm64/tlbflush.c - TLB maintenance and ASIDs.
 *
 * A TLBI ...IS instruction is broadcast in the inner-shareable domain: every
 * CPU drops the entry, and the DSB after it waits until they all did.  The
 * model delivers it to the CPUs in mm->cpumask (the CPUs the mm has ever
 * run on - no other CPU can hold its entries, since entries are tagged with
 * the mm's ASID) and charges one TLBI + DSB, plus a tlb_ipi per other CPU
 * reached.  Like Linux, a range of more than MAX_TLBI_OPS pages is flushed
 * by ASID instead.
 *
 * Reaching the other CPUs (tlb_shootdown)
 * ---------------------------------------
 * Only the body that holds a CPU's run lock touches that CPU's TLB
 * (kernel/sched.c), so how the broadcast arrives depends on who flushes:
 *
 *  - a plain call, a body holding the whole machine, or any body of a
 *    deterministic run stands for every CPU: it invalidates their TLBs
 *    itself.  In a deterministic run the shootdown is a scheduling point
 *    between the flusher's own TLB and the others', so other bodies may
 *    still use their stale entries meanwhile, as they may until the DSB;
 *  - a body running shared (holding its own CPU only) flushes its own TLB,
 *    posts a request to the mailbox of every other CPU in the mask (struct
 *    tlb_mailbox, the model's IPI), and waits for each to acknowledge
 *    (sched_ipi_wait).  The holder of a CPU applies its requests when it
 *    takes the CPU, at every scheduling point and before each translation;
 *    the fast path of a host thread's access looks at the mailbox first.
 *    A CPU nobody holds cannot answer and needs not: whoever takes it next
 *    applies the requests before any access.
 *
 * The two sides form a Dekker pattern: the sender writes `pending` and
 * then reads whether the CPU is held; a holder takes the run lock and then
 * reads `pending`.  Both are seq_cst, so either the sender sees the CPU
 * held and waits for its answer, or the holder sees the request.  The same
 * holds between the PTE change and mm->cpumask: the flusher reads the mask
 * with a read-modify-write after changing the PTE, and a CPU sets its bit
 * with one (switch_to) before it walks.
 *
 * Counters are Linux's CONFIG_DEBUG_TLBFLUSH ones: nr_tlb_remote_flush per
 * flush that reached another CPU, nr_tlb_remote_flush_received per CPU that
 * applied one, nr_tlb_local_flush_one/_all for the flusher's own TLB (arm64
 * counts none of them: it has no IPI; these say what its broadcast did).
 */
#include "arch/arm64/tlbflush.h"
#include "mm/internal.h"

#include <sched.h>

#define MAX_TLBI_OPS 512

static void trace_flush(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	TRACE(mm->machine, "tlb:tlb_flush", (int)smp_processor_id(mm->machine), -1, start, 0, 0,
	      "asid=%u start=0x%llx end=0x%llx", mm->asid, (unsigned long long)start,
	      (unsigned long long)end);
}

/* What one request does to one TLB (the local TLBI). */
static void tlb_apply(struct tlb *tlb, const struct tlb_flush_req *r)
{
	switch (r->kind) {
	case TLB_REQ_PAGES:
		for (uint64_t a = r->start; a < r->end; a += PAGE_SIZE)
			tlb_flush_va_asid(tlb, a, r->asid);
		break;
	case TLB_REQ_BLOCK:
		tlb_flush_block_asid(tlb, r->start, r->end, r->asid);
		break;
	default:
		tlb_flush_asid(tlb, r->asid);
		break;
	}
}

static void mailbox_lock(struct tlb_mailbox *mb)
{
	while (__atomic_exchange_n(&mb->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&mb->lock, __ATOMIC_RELAXED))
			sched_yield();
}

static void mailbox_unlock(struct tlb_mailbox *mb)
{
	__atomic_store_n(&mb->lock, 0, __ATOMIC_RELEASE);
}

/* Post r to c's mailbox (the IPI); returns its number, for the wait. */
static uint64_t tlb_ipi_post(struct cpu *c, const struct tlb_flush_req *r)
{
	struct tlb_mailbox *mb = &c->ipi;
	uint64_t gen;

	mailbox_lock(mb);
	if (mb->nr < TLB_MAILBOX_SLOTS)
		mb->req[mb->nr++] = *r;
	else
		mb->overflow++;	/* the receiver flushes everything instead */
	gen = ++mb->posted;
	__atomic_store_n(&mb->pending, 1, __ATOMIC_SEQ_CST);
	mailbox_unlock(mb);
	return gen;
}

void tlb_ipi_handle(struct mmsim_machine *m, struct cpu *c)
{
	struct tlb_mailbox *mb = &c->ipi;
	struct tlb_flush_req req[TLB_MAILBOX_SLOTS];
	uint32_t nr, overflow;
	uint64_t gen;

	mailbox_lock(mb);
	nr = mb->nr;
	overflow = mb->overflow;
	gen = mb->posted;
	memcpy(req, mb->req, nr * sizeof(req[0]));
	mb->nr = mb->overflow = 0;
	__atomic_store_n(&mb->pending, 0, __ATOMIC_RELAXED);
	mailbox_unlock(mb);
	if (overflow)
		tlb_flush_all(&c->tlb);
	else
		for (uint32_t i = 0; i < nr; i++)
			tlb_apply(&c->tlb, &req[i]);
	count_vm_events(m, NR_TLB_REMOTE_FLUSH_RECEIVED, (int64_t)nr + overflow);
	/* The acknowledgement: every request up to gen is in the TLB now. */
	__atomic_store_n(&mb->acked, gen, __ATOMIC_RELEASE);
}

void tlb_ipi_drain_all(struct mmsim_machine *m)
{
	for (unsigned int i = 0; i < m->nr_cpus; i++)
		tlb_ipi_check(m, &m->cpus[i]);
}

/*
 * Deliver r to every CPU that may hold entries of mm: the flusher's own
 * TLB directly, the others as the design note says.
 */
static void tlb_shootdown(struct mm_struct *mm, const struct tlb_flush_req *r)
{
	struct mmsim_machine *m = mm->machine;
	struct cpu *self = par_cpu;
	unsigned int me = smp_processor_id(m);
	uint64_t gen[64], mask, remote;

	/*
	 * Read the mask with a read-modify-write: ordered after the PTE change
	 * and against switch_to's, a CPU either is in it or walks the new PTE.
	 */
	mask = __atomic_fetch_or(&mm->cpumask, 0, __ATOMIC_SEQ_CST);
	remote = mask & ~(1ULL << me);
	if (mask & (1ULL << me)) {
		tlb_apply(&m->cpus[me].tlb, r);
		if (r->kind == TLB_REQ_ASID)
			count_vm_event(m, NR_TLB_LOCAL_FLUSH_ALL);
		else
			count_vm_events(m, NR_TLB_LOCAL_FLUSH_ONE, r->kind == TLB_REQ_BLOCK ? 1 :
					(int64_t)((r->end - r->start) >> PAGE_SHIFT));
	}
	if (m->debug_no_remote_tlb_flush)
		remote = 0;
	if (!remote)
		return;
	count_vm_event(m, NR_TLB_REMOTE_FLUSH);
	charge_ns(m, m->costs[COST_TLB_IPI] * (uint64_t)__builtin_popcountll(remote));
	if (!self) {
		/* The flusher stands for every CPU; a deterministic run may switch here. */
		sched_point("tlb shootdown");
		for (unsigned int c = 0; c < m->nr_cpus; c++)
			if (remote & (1ULL << c))
				tlb_apply(&m->cpus[c].tlb, r);
		count_vm_events(m, NR_TLB_REMOTE_FLUSH_RECEIVED, __builtin_popcountll(remote));
		return;
	}
	for (unsigned int c = 0; c < m->nr_cpus; c++)
		if (remote & (1ULL << c))
			gen[c] = tlb_ipi_post(&m->cpus[c], r);
	for (unsigned int c = 0; c < m->nr_cpus; c++)
		if (remote & (1ULL << c))
			sched_ipi_wait(m, &m->cpus[c], gen[c]);
}

void flush_tlb_page(struct mm_struct *mm, uint64_t addr)
{
	struct tlb_flush_req r = { .start = addr, .end = addr + PAGE_SIZE, .asid = mm->asid,
				   .kind = TLB_REQ_PAGES };

	tlb_shootdown(mm, &r);
	charge(mm->machine, COST_TLBI_PAGE);
	trace_flush(mm, addr, addr + PAGE_SIZE);
}

void flush_tlb_mm(struct mm_struct *mm)
{
	struct tlb_flush_req r = { .asid = mm->asid, .kind = TLB_REQ_ASID };

	tlb_shootdown(mm, &r);
	charge(mm->machine, COST_TLBI_ASID);
	trace_flush(mm, 0, TASK_SIZE);
}

void flush_tlb_range(struct mm_struct *mm, uint64_t start, uint64_t end)
{
	struct mmsim_machine *m = mm->machine;
	struct tlb_flush_req r = { .start = start, .end = end, .asid = mm->asid, .kind = TLB_REQ_PAGES };

	if ((end - start) >> PAGE_SHIFT > MAX_TLBI_OPS) {
		flush_tlb_mm(mm);
		return;
	}
	tlb_shootdown(mm, &r);
	charge_ns(m, m->costs[COST_TLBI_PAGE] * ((end - start) >> PAGE_SHIFT));
	trace_flush(mm, start, end);
}

void flush_pmd_tlb_range(struct mm_struct *mm, uint64_t haddr)
{
	struct tlb_flush_req r = { .start = haddr, .end = haddr + PMD_SIZE, .asid = mm->asid,
				   .kind = TLB_REQ_BLOCK };

	tlb_shootdown(mm, &r);
	charge(mm->machine, COST_TLBI_PAGE);
	trace_flush(mm, haddr, haddr + PMD_SIZE);
}

/*
 * ASIDs are 16 bits; 0 is never handed out.  Freed ASIDs are flushed from
 * every CPU before reuse so a new mm can never hit a dead mm's entries.
 */
int asid_alloc(struct mmsim_machine *m, uint16_t *asid)
{
	for (unsigned int w = 0; w < 1024; w++) {
		uint64_t free = ~m->asid_map[w];

		if (w == 0)
			free &= ~1ULL;
		if (free) {
			unsigned int bit = (unsigned int)__builtin_ctzll(free);

			m->asid_map[w] |= 1ULL << bit;
			*asid = (uint16_t)(w * 64 + bit);
			return 0;
		}
	}
	return -MMSIM_ENOMEM;
}

void asid_free(struct mmsim_machine *m, uint16_t asid)
{
	kernel_exclusive();	/* it writes every CPU's TLB */
	for (unsigned int c = 0; c < m->nr_cpus; c++)
		tlb_flush_asid(&m->cpus[c].tlb, asid);
	m->asid_map[asid / 64] &= ~(1ULL << (asid % 64));
}

/*
 * Write a descriptor.  Callers flush first when the old one was more
 * permissive.  A user-accessible Normal-Tagged mapping of a real page goes
 * through mte_sync_tags first, which may turn it into PAGE_METADATA_NONE.
 */
void set_pte_at(struct mm_struct *mm, uint64_t addr, pteval_t *ptep, pteval_t pte)
{
	struct mmsim_machine *m = mm->machine;

	(void)addr;
	if (m->mte.supported && pte_valid(pte) && pte_user(pte) && pte_tagged(pte) && !pte_special(pte))
		mte_sync_tags(m, &pte);
	set_pte(ptep, pte);
	charge(m, COST_PTE_UPDATE);
}

/* Break-before-make: clear, invalidate everywhere, then the caller may write. */
pteval_t ptep_clear_flush(struct mm_struct *mm, uint64_t addr, pteval_t *ptep)
{
	/* One exchange: another CPU's MMU may be setting the access flag (ptep_get_and_clear). */
	pteval_t old = __atomic_exchange_n(ptep, 0, __ATOMIC_SEQ_CST);

	charge(mm->machine, COST_PTE_UPDATE);
	if (pte_valid(old))
		flush_tlb_page(mm, addr);
	return old;
}

/*
 * set_pmd_at - write a huge PMD.  arm64's set_pmd_at goes through the same
 * __set_pte_at: a user-accessible Normal-Tagged block has its tags synced
 * page by page (mte_sync_tags over compound_nr pages), and if any of its
 * pages lacks reserved tag storage the whole PMD is installed
 * PAGE_METADATA_NONE (spec §4.7).
 */
void set_pmd_at(struct mm_struct *mm, uint64_t addr, pteval_t *pmdp, pteval_t pmd)
{
	struct mmsim_machine *m = mm->machine;

	(void)addr;
	if (m->mte.supported && pte_valid(pmd) && pte_user(pmd) && pte_tagged(pmd) && !pte_special(pmd) &&
	    !is_huge_zero_pmd(m, pmd)) {
		bool none = false;

		for (uint64_t i = 0; i < HPAGE_PMD_NR; i++) {
			pteval_t pte = pmd_pte_at(pmd, i << PAGE_SHIFT);

			mte_sync_tags(m, &pte);
			none |= !pte_valid(pte);
		}
		if (none)
			pmd = pmd_modify(pmd, PAGE_METADATA_NONE);
	}
	*pmdp = pmd;
	charge(m, COST_PTE_UPDATE);
}

/* Break-before-make of a huge PMD: clear it, drop the block from every TLB. */
pteval_t pmdp_huge_clear_flush(struct mm_struct *mm, uint64_t haddr, pteval_t *pmdp)
{
	pteval_t old = *pmdp;

	*pmdp = 0;
	charge(mm->machine, COST_PTE_UPDATE);
	if (pte_valid(old))
		flush_pmd_tlb_range(mm, haddr);
	return old;
}
