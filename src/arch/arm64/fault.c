// SPDX-License-Identifier: MIT
/*
 * arch/arm64/fault.c - loads and stores of a task, and the data aborts they
 * take.
 *
 * mmsim_load/mmsim_store are what an LDR/STR of the task does: translate
 * through the CPU's TLB, and on a miss let the MMU walk the tables.  A
 * translation, access-flag or permission fault enters do_page_fault() as
 * the exception would, with the faulting address and the ESR.  The kernel
 * either fixes the tables (and the access is retried) or delivers a signal
 * (the access is not performed).
 *
 * The hot path - a TLB hit with the right permission - is a compare and a
 * memcpy; everything else is out of line.  An access that crosses pages is
 * performed page by page in address order, as a sequence of smaller
 * accesses would be: a fault stops it at the first page that cannot be
 * reached, and the pages before it are done.
 */
#include "arch/arm64/tlbflush.h"
#include "hw/mmu.h"
#include "mm/internal.h"

enum access_kind { ACCESS_LOAD, ACCESS_STORE, ACCESS_FILL };

/* The user address with the top byte (TBI) removed. */
static inline uint64_t untag(uint64_t addr)
{
	return addr & ((1ULL << 56) - 1);
}

static void set_siginfo(struct mmsim_siginfo *si, int signo, int code, uint64_t addr)
{
	if (si) {
		si->signo = signo;
		si->code = code;
		si->addr = addr;
	}
}

/* Make t the task running on its CPU: its mm may now have TLB entries there. */
static void switch_to(struct mmsim_task *t)
{
	struct cpu *cpu = &t->machine->cpus[t->cpu];

	cpu->curr = t;
	/* The bit is set before this CPU walks the tables: a flusher that misses it flushed first. */
	if (!(__atomic_load_n(&t->mm->cpumask, __ATOMIC_SEQ_CST) & (1ULL << t->cpu)))
		__atomic_fetch_or(&t->mm->cpumask, 1ULL << t->cpu, __ATOMIC_SEQ_CST);
	if (!par_cpu) {
		t->machine->current = t;
		t->machine->this_cpu = t->cpu;
	}
}

enum fault_result { FAULT_FIXED, FAULT_SIGNAL, FAULT_BLOCKED };

/*
 * pagefault_out_of_memory - a fault ended in VM_FAULT_OOM although no page
 * allocation failed on its way (a kmalloc did, say, or a handler gave up
 * on tag storage).  Since Linux 5.16 the #PF path never kills for that: it
 * warns, rate-limited (10 per 5 s, as DEFAULT_RATELIMIT_*), and the access
 * simply faults again.  A task with SIGKILL pending stays quiet.
 */
static void pagefault_out_of_memory(struct mmsim_task *t)
{
	struct mmsim_machine *m = t->machine;

	if (t->fatal_signal_pending)
		return;
	if (m->now - m->pfoom_rs_begin >= 5000000000ULL || !m->pfoom_rs_printed) {
		m->pfoom_rs_begin = m->now;
		m->pfoom_rs_printed = 0;
	}
	if (m->pfoom_rs_printed++ < 10)
		printk(m, "Huh VM_FAULT_OOM leaked out to the #PF handler. Retrying PF");
}

/*
 * do_page_fault - the data abort handler for an EL0 access at far.  Finds
 * the VMA, checks the access against its flags (arm64 lets any of read,
 * write or exec imply read), and hands the fault to the core.
 */
static enum fault_result do_page_fault(struct mmsim_task *t, uint64_t far, uint32_t esr,
				       struct mmsim_siginfo *si)
{
	struct mmsim_machine *m = t->machine;
	bool write = esr & ESR_ELx_WNR;
	uint64_t addr = untag(far), need = write ? VM_WRITE : VM_ACCESS_FLAGS;
	unsigned int flags = FAULT_FLAG_USER | (write ? FAULT_FLAG_WRITE : 0);
	struct vm_area_struct *vma;
	uint64_t alloc_failures;
	vm_fault_t ret;

	charge(m, COST_FAULT_ENTRY);
	mte_note_kernel_entry(t);
	TRACE(m, "exceptions:page_fault_user", (int)t->cpu, t->pid, addr, 0, 0,
	      "address=0x%llx ip=0x0 error_code=0x%x", (unsigned long long)addr, esr);
	if (esr_fsc_type(esr) == ESR_ELx_FSC_EXTABT) {
		set_siginfo(si, MMSIM_SIGBUS, MMSIM_BUS_OBJERR, addr);
		return FAULT_SIGNAL;
	}
	alloc_failures = m->oom_alloc_failures;
	/*
	 * First under the VMA's own lock; if that is not possible or the
	 * handler asks for a retry, under mmap_lock; once more with
	 * FAULT_FLAG_TRIED.  handle_mm_fault() returns with the lock dropped.
	 */
	vma = addr < TASK_SIZE ? lock_vma_under_rcu(t->mm, addr) : NULL;
	if (vma && (vma->vm_flags & need)) {
		ret = handle_mm_fault(t, vma, addr, flags | FAULT_FLAG_VMA_LOCK);
		if (!(ret & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)))
			vma_end_read(vma);
		if (!(ret & VM_FAULT_RETRY))
			goto done;
	} else if (vma) {
		vma_end_read(vma);
	}
	for (int tries = 0; ; tries++) {
		mmap_read_lock(t->mm);
		vma = addr < TASK_SIZE ? vma_lookup(t->mm, addr) : NULL;
		if (!vma || !(vma->vm_flags & need)) {
			mmap_read_unlock(t->mm);
			set_siginfo(si, MMSIM_SIGSEGV, vma ? MMSIM_SEGV_ACCERR : MMSIM_SEGV_MAPERR, addr);
			return FAULT_SIGNAL;
		}
		ret = handle_mm_fault(t, vma, addr, flags);
		if (!(ret & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)))
			mmap_read_unlock(t->mm);
		/* Like arm64's do_page_fault: replay once with FAULT_FLAG_TRIED. */
		if (!(ret & VM_FAULT_RETRY) || tries)
			break;
		flags |= FAULT_FLAG_TRIED;
	}
done:
	if (ret & VM_FAULT_BLOCKED)
		return FAULT_BLOCKED;
	if (ret & VM_FAULT_RETRY)
		return FAULT_FIXED;	/* the access faults again */
	if (ret & VM_FAULT_OOM) {
		kernel_exclusive();
		/* No page allocation failed: nobody to kill, the access retries. */
		if (m->oom_alloc_failures == alloc_failures) {
			pagefault_out_of_memory(t);
			return FAULT_FIXED;
		}
		/* The kill Linux's allocator would have done before failing. */
		out_of_memory(t);
		if (t->killed) {
			set_siginfo(si, MMSIM_SIGKILL, 0, 0);
			return FAULT_SIGNAL;
		}
		return FAULT_FIXED;	/* someone else died; retry */
	}
	if (ret & VM_FAULT_SIGBUS) {
		set_siginfo(si, MMSIM_SIGBUS, MMSIM_BUS_ADRERR, addr);
		return FAULT_SIGNAL;
	}
	if (ret & VM_FAULT_SIGSEGV) {
		set_siginfo(si, MMSIM_SIGSEGV, MMSIM_SEGV_MAPERR, addr);
		return FAULT_SIGNAL;
	}
	return FAULT_FIXED;
}

/*
 * translate - the TLB entry that lets t access va (write or not), taking
 * and handling faults until there is one.  NULL when the access ends in a
 * signal (*res = FAULT_SIGNAL) or the task must sleep (FAULT_BLOCKED).
 */
static struct tlb_entry *translate(struct mmsim_task *t, uint64_t va, bool write,
				   struct mmsim_siginfo *si, enum fault_result *res)
{
	struct mmsim_machine *m = t->machine;
	struct tlb *tlb = &m->cpus[t->cpu].tlb;
	uint32_t need = write ? TLB_W : TLB_R;

	switch_to(t);
	for (int tries = 0; tries < 8; tries++) {
		struct tlb_entry *e = tlb_slot(tlb, va), fill;
		uint32_t esr;

		/* Beside other CPUs: take the shootdowns they sent before using the TLB. */
		if (par_cpu)
			tlb_ipi_check(m, par_cpu);
		if (e->key == tlb_key(va, t->mm->asid) && (e->perm & need)) {
			tlb->hits++;
			return e;
		}
		tlb->misses++;
		if (mmu_walk(m, t->mm, va, write, &fill, &esr) == 0) {
			*e = fill;
			return e;
		}
		*res = do_page_fault(t, va, esr, si);
		if (*res != FAULT_FIXED)
			return NULL;
		if (t->killed)
			break;
		/*
		 * Back in user space the access runs again, and Linux may be
		 * preempted there.  A fault that keeps coming back may wait for
		 * another CPU (the page's pageblock isolated for a reservation,
		 * R6): in a run of task bodies, let the others go on first.
		 * Only a fault that comes back with nobody else left is a bug.
		 */
		if (tries >= 2 && sched_spin_wait("a fault that comes back"))
			tries = 0;
	}
	/* The kernel keeps "fixing" a fault that keeps coming back: a model bug. */
	kernel_exclusive();
	printk(m, "BUG: unresolvable fault at 0x%llx (pid %d)", (unsigned long long)va, t->pid);
	set_siginfo(si, MMSIM_SIGBUS, MMSIM_BUS_OBJERR, va);
	*res = FAULT_SIGNAL;
	return NULL;
}

static int check_access_args(struct mmsim_task *t, const void *buf, uint64_t addr, uint64_t len,
			     const char *who)
{
	int err = task_check_alive(t);

	if (err == -MMSIM_ESRCH)
		return err;
	if (err)
		return seterr(-MMSIM_EINVAL, "%s: task is NULL", who);
	if (!t->mm)
		return seterr(-MMSIM_ESRCH, "%s: task %d has no address space", who, t->pid);
	if (len && !buf)
		return seterr(-MMSIM_EFAULT, "%s: host buffer is NULL", who);
	if (untag(addr) + len < untag(addr))
		return seterr(-MMSIM_EINVAL, "%s: address 0x%llx + length %llu wraps around", who,
			      (unsigned long long)addr, (unsigned long long)len);
	return 0;
}

static void block_task(struct mmsim_task *t, int kind, uint64_t addr, uint64_t len, void *dst,
		       const void *src, int byte)
{
	t->blocked.active = true;
	t->blocked.kind = kind;
	t->blocked.addr = addr;
	t->blocked.len = len;
	t->blocked.dst = dst;
	t->blocked.src = src;
	t->blocked.byte = byte;
}

/* ------------------------------------------------------- MTE tag checks */

#define TCF_MODE(t) ((t)->tagged_addr_ctrl & MMSIM_PR_MTE_TCF_MASK)
#define TCF_ASYMM   (MMSIM_PR_MTE_TCF_SYNC | MMSIM_PR_MTE_TCF_ASYNC)

/*
 * Is this access checked synchronously?  SYNC: always; ASYMM: reads (and
 * writes are asynchronous); ASYNC: never.
 */
static bool tcf_sync(struct mmsim_task *t, int kind)
{
	uint64_t tcf = TCF_MODE(t);

	return tcf == MMSIM_PR_MTE_TCF_SYNC || (tcf == TCF_ASYMM && kind == ACCESS_LOAD);
}

/*
 * mte_check_access - compare the logical tag of addr with the allocation
 * tags of the granules [va, va + len) of frame pfn touches.  Returns the
 * untagged address of the first mismatching byte, or 0 when all match.
 */
static uint64_t mte_check_access(struct mmsim_machine *m, uint64_t addr, uint64_t va, uint64_t len,
				 uint64_t pfn)
{
	unsigned int ltag = (unsigned int)(addr >> MTE_TAG_SHIFT) & 0xf;
	unsigned int first = (unsigned int)((va & ~PAGE_MASK) / MTE_GRANULE_SIZE);
	unsigned int last = (unsigned int)(((va & ~PAGE_MASK) + len - 1) / MTE_GRANULE_SIZE);

	for (unsigned int g = first; g <= last; g++)
		if (mte_get_granule_tag(m, pfn, g) != ltag)
			return g == first ? va : (va & PAGE_MASK) + (uint64_t)g * MTE_GRANULE_SIZE;
	return 0;
}

/* An asynchronous tag check fault: recorded now, reported at the next kernel entry. */
static void mte_async_fault(struct mmsim_task *t)
{
	t->mte_async_pending = true;
	t->mte_async_entered = false;
	t->asid = 0;		/* keep the task off the fast path until it is reported */
	TRACE(t->machine, "mte:async_tag_fault", (int)t->cpu, t->pid, 0, 0, 0, "pid=%d", t->pid);
}

/*
 * The kernel was entered (a system call or an exception): a pending
 * asynchronous fault is now due, and the next access of the task reports
 * it (SIGSEGV, SEGV_MTEAERR, si_addr 0) instead of running.
 */
void mte_note_kernel_entry(struct mmsim_task *t)
{
	if (t->mte_async_pending)
		t->mte_async_entered = true;
}

static bool mte_deliver_async(struct mmsim_task *t, struct mmsim_siginfo *si)
{
	if (!t->mte_async_pending || !t->mte_async_entered)
		return false;
	t->mte_async_pending = false;
	t->mte_async_entered = false;
	task_update_fastpath(t);
	set_siginfo(si, MMSIM_SIGSEGV, MMSIM_SEGV_MTEAERR, 0);
	return true;
}

/*
 * access_slow - the general access: page by page, through translate().
 * buf is the destination of a load, the source of a store, unused for fill.
 */
static int access_slow(struct mmsim_task *t, int kind, uint64_t addr, void *buf, int byte,
		       uint64_t len, struct mmsim_siginfo *si)
{
	struct mmsim_machine *m = t->machine;
	uint64_t va = untag(addr), done = 0;

	if (mte_deliver_async(t, si))
		return MMSIM_ACCESS_SIGNAL;
	while (done < len) {
		uint64_t chunk = PAGE_SIZE - ((va + done) & ~PAGE_MASK);
		enum fault_result res = FAULT_FIXED;
		struct tlb_entry *e;
		uint8_t *host;

		if (chunk > len - done)
			chunk = len - done;
		e = translate(t, va + done, kind != ACCESS_LOAD, si, &res);
		if (!e) {
			if (res == FAULT_BLOCKED) {
				block_task(t, kind, addr + done, len - done,
					   kind == ACCESS_LOAD ? (uint8_t *)buf + done : NULL,
					   kind == ACCESS_STORE ? (uint8_t *)buf + done : NULL, byte);
				return MMSIM_ACCESS_BLOCKED;
			}
			return MMSIM_ACCESS_SIGNAL;
		}
		if ((e->perm & TLB_TAGGED) && TCF_MODE(t)) {
			uint64_t bad = mte_check_access(m, addr, va + done, chunk, e->pfn);

			if (bad && tcf_sync(t, kind)) {
				set_siginfo(si, MMSIM_SIGSEGV, MMSIM_SEGV_MTESERR, bad);
				TRACE(m, "mte:sync_tag_fault", (int)t->cpu, t->pid, bad, e->pfn, 0,
				      "address=0x%llx", (unsigned long long)bad);
				return MMSIM_ACCESS_SIGNAL;
			}
			if (bad)
				mte_async_fault(t);
		}
		host = e->host + ((va + done) & ~PAGE_MASK);
		if (kind == ACCESS_LOAD)
			memcpy((uint8_t *)buf + done, host, chunk);
		else if (kind == ACCESS_STORE)
			memcpy(host, (const uint8_t *)buf + done, chunk);
		else
			memset(host, byte, chunk);
		charge(m, COST_TLB_HIT);
		done += chunk;
	}
	return MMSIM_ACCESS_OK;
}

/*
 * The TLB-hit fast path: the task's CPU TLB holds the page with the needed
 * permission and the access stays in the page.  Returns the host address, or
 * NULL to fall back to access_slow().  A killed task has ASID 0, which no
 * entry carries, so it always falls back.
 */
static inline __attribute__((always_inline)) uint8_t *tlb_lookup_fast(const struct tlb *tlb, struct mmsim_task *t,
								       uint64_t addr, uint64_t len, uint32_t need)
{
	uint64_t va = untag(addr);
	const struct tlb_entry *e = &tlb->e[(va >> 12) & (TLB_ENTRIES - 1)];

	/* ASID 0 (killed, an asynchronous tag fault to report): do not even look. */
	if (!t->asid || e->key != tlb_key(va, t->asid) || (e->perm & (need | TLB_TAGGED)) != need ||
	    len > PAGE_SIZE - (va & ~PAGE_MASK))
		return NULL;
	return e->host + (va & ~PAGE_MASK);
}

static inline __attribute__((always_inline)) uint8_t *access_fast(struct mmsim_task *t, uint64_t addr,
								   uint64_t len, uint32_t need)
{
	/* In parallel mode t->tlb is an empty table: this always misses (access_fast_par). */
	uint8_t *host = tlb_lookup_fast(t->tlb, t, addr, len, need);

	if (host)
		t->machine->now += t->machine->costs[COST_TLB_HIT];
	return host;
}

/*
 * The fast path of a host thread's access on a machine in parallel mode:
 * the CPU's TLB is only read by its holder, so take the CPU's run lock
 * (one compare-and-swap, no wait), look at its mailbox (one load: a
 * shootdown to apply sends the access the slow way, which applies it), and
 * access the frame before letting go - a flusher waits for the CPU until
 * then.  The CPU busy, or a miss: the slow path, which waits its turn.
 */
static bool access_fast_par(struct mmsim_task *t, uint64_t addr, void *buf,
						      uint64_t len, bool write)
{
	struct cpu *c = &t->machine->cpus[t->cpu];
	uint8_t *host;
	bool hit = false;

	if (!cpu_run_trylock(c))
		return false;
	if (!tlb_ipi_pending(c) && (host = tlb_lookup_fast(&c->tlb, t, addr, len, write ? TLB_W : TLB_R))) {
		if (write)
			memcpy(host, buf, len);
		else
			memcpy(buf, host, len);
		c->diff.clock += t->machine->costs[COST_TLB_HIT];
		hit = true;
	}
	cpu_run_unlock(c);
	return hit;
}

/*
 * The slow halves of load and store live out of line: the fast path then
 * needs no saved registers, which is most of a TLB hit's cost.
 */
static int load_kernel(struct mmsim_task *t, uint64_t addr, void *dst, uint64_t len, struct mmsim_siginfo *si)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, true);
	int err = check_access_args(t, dst, addr, len, "mmsim_load");

	return err ? err : access_slow(t, ACCESS_LOAD, addr, dst, 0, len, si);
}

static int store_kernel(struct mmsim_task *t, uint64_t addr, const void *src, uint64_t len,
			struct mmsim_siginfo *si)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, true);
	int err = check_access_args(t, src, addr, len, "mmsim_store");

	return err ? err : access_slow(t, ACCESS_STORE, addr, (void *)src, 0, len, si);
}

static __attribute__((noinline)) int load_slow(struct mmsim_task *t, uint64_t addr, void *dst,
					       uint64_t len, struct mmsim_siginfo *si)
{
	if (t && t->par_fast && dst && access_fast_par(t, addr, dst, len, false))
		return MMSIM_ACCESS_OK;
	return load_kernel(t, addr, dst, len, si);
}

static __attribute__((noinline)) int store_slow(struct mmsim_task *t, uint64_t addr, const void *src,
						uint64_t len, struct mmsim_siginfo *si)
{
	if (t && t->par_fast && src && access_fast_par(t, addr, (void *)src, len, true))
		return MMSIM_ACCESS_OK;
	return store_kernel(t, addr, src, len, si);
}

/*
 * In a run of task bodies an access is a scheduling point, and an access
 * that must sleep in the kernel (a page under migration, a userfaultfd)
 * sleeps there until another task made progress, then retries: the body
 * never sees MMSIM_ACCESS_BLOCKED unless nothing could ever wake it.
 */
static __attribute__((noinline)) int access_in_run(struct mmsim_task *t, int kind, uint64_t addr,
						   void *buf, int byte, uint64_t len,
						   struct mmsim_siginfo *si)
{
	static const uint8_t dummy;
	int ret;

	sched_point(kind == ACCESS_LOAD ? "load" : "store");
	kernel_shared();
	ret = check_access_args(t, kind == ACCESS_FILL ? &dummy : buf, addr, len,
				kind == ACCESS_LOAD ? "mmsim_load" : kind == ACCESS_STORE ? "mmsim_store" : "mmsim_fill");
	if (ret)
		return ret;
	ret = access_slow(t, kind, addr, buf, byte, len, si);
	while (ret == MMSIM_ACCESS_BLOCKED && sched_sleep("the page's migration or userfault"))
		ret = mmsim_task_resume(t, si);
	return ret;
}

int mmsim_load(struct mmsim_task *t, uint64_t addr, void *dst, uint64_t len, struct mmsim_siginfo *si)
{
	uint8_t *host;

	if (sched_current)
		return access_in_run(t, ACCESS_LOAD, addr, dst, 0, len, si);
	if (t && dst && (host = access_fast(t, addr, len, TLB_R))) {
		if (len == 8)
			memcpy(dst, host, 8);	/* one 64-bit load, the common case */
		else
			memcpy(dst, host, len);
		return MMSIM_ACCESS_OK;
	}
	return load_slow(t, addr, dst, len, si);
}

int mmsim_store(struct mmsim_task *t, uint64_t addr, const void *src, uint64_t len,
		struct mmsim_siginfo *si)
{
	uint8_t *host;

	if (sched_current)
		return access_in_run(t, ACCESS_STORE, addr, (void *)src, 0, len, si);
	if (t && src && (host = access_fast(t, addr, len, TLB_W))) {
		if (len == 8)
			memcpy(host, src, 8);
		else
			memcpy(host, src, len);
		return MMSIM_ACCESS_OK;
	}
	return store_slow(t, addr, src, len, si);
}

int mmsim_fill(struct mmsim_task *t, uint64_t addr, int byte, uint64_t len, struct mmsim_siginfo *si)
{
	static const uint8_t dummy;
	int err;

	if (sched_current)
		return access_in_run(t, ACCESS_FILL, addr, NULL, byte, len, si);
	KERNEL_ENTRY(t ? t->machine : NULL, t, true);
	if ((err = check_access_args(t, &dummy, addr, len, "mmsim_fill")))
		return err;
	return access_slow(t, ACCESS_FILL, addr, NULL, byte, len, si);
}

/* Retry the access the task slept in; the range must have been resolved. */
int mmsim_task_resume(struct mmsim_task *t, struct mmsim_siginfo *si)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	int err;

	if ((err = task_check_alive(t)))
		return err;
	if (!t->blocked.active)
		return seterr(-MMSIM_EINVAL, "mmsim_task_resume: task %d is not blocked", t->pid);
	t->blocked.active = false;
	if (t->fatal_signal_pending) {
		/* It wakes up only to die. */
		kill_process(t->machine, t->tgid);
		set_siginfo(si, MMSIM_SIGKILL, 0, 0);
		return MMSIM_ACCESS_SIGNAL;
	}
	switch (t->blocked.kind) {
	case ACCESS_LOAD:
		return access_slow(t, ACCESS_LOAD, t->blocked.addr, t->blocked.dst, 0, t->blocked.len, si);
	case ACCESS_STORE:
		return access_slow(t, ACCESS_STORE, t->blocked.addr, (void *)t->blocked.src, 0,
				   t->blocked.len, si);
	default:
		return access_slow(t, ACCESS_FILL, t->blocked.addr, NULL, t->blocked.byte, t->blocked.len, si);
	}
}

/*
 * mmsim_set_tag - STG over each 16-byte granule of [addr, addr + len): a
 * store as far as the MMU is concerned (write permission, faults), writing
 * the allocation tags of Normal-Tagged memory and nothing elsewhere.  The
 * address must be granule aligned (else SIGBUS, BUS_ADRALN).
 */
int mmsim_set_tag(struct mmsim_task *t, uint64_t tagged_addr, uint64_t len, struct mmsim_siginfo *si)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	static const uint8_t dummy;
	uint64_t va = untag(tagged_addr), end;
	unsigned int tag = (unsigned int)(tagged_addr >> MTE_TAG_SHIFT) & 0xf;
	int err;

	if ((err = check_access_args(t, &dummy, tagged_addr, len, "mmsim_set_tag")))
		return err;
	if (mte_deliver_async(t, si))
		return MMSIM_ACCESS_SIGNAL;
	if (va & (MTE_GRANULE_SIZE - 1)) {
		set_siginfo(si, MMSIM_SIGBUS, MMSIM_BUS_ADRALN, va);
		return MMSIM_ACCESS_SIGNAL;
	}
	end = va + ((len + MTE_GRANULE_SIZE - 1) & ~(uint64_t)(MTE_GRANULE_SIZE - 1));
	while (va < end) {
		uint64_t chunk_end = (va & PAGE_MASK) + PAGE_SIZE;
		enum fault_result res = FAULT_FIXED;
		struct tlb_entry *e = translate(t, va, true, si, &res);

		if (chunk_end > end)
			chunk_end = end;
		if (!e) {
			if (res == FAULT_BLOCKED && sched_sleep("the page's migration"))
				continue;
			if (res == FAULT_BLOCKED)
				return seterr(-MMSIM_EAGAIN, "mmsim_set_tag: the page is being migrated; retry");
			return MMSIM_ACCESS_SIGNAL;
		}
		if (e->perm & TLB_TAGGED)
			for (uint64_t a = va; a < chunk_end; a += MTE_GRANULE_SIZE)
				mte_set_granule_tag(t->machine, e->pfn, (unsigned int)((a & ~PAGE_MASK) / MTE_GRANULE_SIZE), tag);
		charge(t->machine, COST_TLB_HIT);
		va = chunk_end;
	}
	return MMSIM_ACCESS_OK;
}

/* mmsim_get_tag - LDG: the allocation tag of the granule at addr (0 if untagged memory). */
int mmsim_get_tag(struct mmsim_task *t, uint64_t addr, unsigned int *tag, struct mmsim_siginfo *si)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	enum fault_result res = FAULT_FIXED;
	struct tlb_entry *e;
	uint64_t va = untag(addr);
	int err;

	if ((err = check_access_args(t, tag, addr, 1, "mmsim_get_tag")))
		return err;
	if (mte_deliver_async(t, si))
		return MMSIM_ACCESS_SIGNAL;
	sched_point("ldg");
	while (!(e = translate(t, va, false, si, &res)) && res == FAULT_BLOCKED &&
	       sched_sleep("the page's migration"))
		res = FAULT_FIXED;
	if (!e) {
		if (res == FAULT_BLOCKED)
			return seterr(-MMSIM_EAGAIN, "mmsim_get_tag: the page is being migrated; retry");
		return MMSIM_ACCESS_SIGNAL;
	}
	*tag = (e->perm & TLB_TAGGED) ?
	       mte_get_granule_tag(t->machine, e->pfn, (unsigned int)((va & ~PAGE_MASK) / MTE_GRANULE_SIZE)) : 0;
	charge(t->machine, COST_TLB_HIT);
	return MMSIM_ACCESS_OK;
}

/*
 * mmsim_irg - IRG: a random tag for addr, drawn from the machine's seeded
 * generator, never one excluded by the task's include mask
 * (PR_MTE_TAG_MASK) or by exclude (a 16-bit mask, as GMI would build).  When
 * every tag is excluded the result is tag 0, as the architecture says.
 */
int mmsim_irg(struct mmsim_task *t, uint64_t addr, uint64_t exclude, uint64_t *tagged)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	uint64_t include;
	unsigned int n, pick;
	int err;

	if ((err = task_check_alive(t)))
		return err;
	if (!tagged)
		return seterr(-MMSIM_EINVAL, "mmsim_irg: tagged is NULL");
	include = ((t->tagged_addr_ctrl & MMSIM_PR_MTE_TAG_MASK) >> MMSIM_PR_MTE_TAG_SHIFT) & ~exclude & 0xffff;
	n = (unsigned int)__builtin_popcountll(include);
	addr &= ~(0xfULL << MTE_TAG_SHIFT);
	if (!n) {
		*tagged = addr;
		return 0;
	}
	pick = (unsigned int)prandom_below(t->machine, n);
	while (pick--)
		include &= include - 1;
	*tagged = addr | ((uint64_t)__builtin_ctzll(include) << MTE_TAG_SHIFT);
	return 0;
}
