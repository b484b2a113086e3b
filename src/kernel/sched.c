// SPDX-License-Identifier: MIT
/*
 * kernel/sched.c - running task bodies concurrently.
 *
 * A body is a host function that plays one task: it calls the API on its
 * task as a program's thread would (mmsim_spawn).  mmsim_run_tasks() runs
 * every spawned body to completion, in one of two ways.
 *
 * Deterministic mode (the default of `mmsim run`)
 * -----------------------------------------------
 * Each body gets its own stack (a ucontext) and all of them share the
 * calling host thread, so exactly one runs at a time.  A body gives the CPU
 * away only at a scheduling point: a lock acquire or release
 * (kernel/locking.c), a kernel entry, an annotated preemption point.  At
 * each point the policy, driven by the seed, picks the body to run next:
 *
 *   random  every runnable body is equally likely at every point;
 *   pct     Probabilistic Concurrency Testing (Burckhardt et al., 2010):
 *           bodies get distinct random priorities, the highest runnable one
 *           runs, and at d-1 random steps the running body drops to the
 *           lowest priority.  A bug that needs d ordering constraints is
 *           found with probability at least 1/(n * k^(d-1)).
 *
 * Nothing else influences the choice - not host time, not addresses - so a
 * seed replays its interleaving exactly, and the event trace with it.
 * A body that waits for a lock or sleeps in the kernel is not runnable until
 * the lock is released or another body made progress; when no body can run
 * the run ends as a deadlock, and a run longer than max_steps as a livelock.
 *
 * Two bodies on one CPU model a single core: while a body holds a spinlock
 * (preemption disabled) no other body of its CPU is picked.
 *
 * Parallel mode
 * -------------
 * Each body runs on a host thread of its own, and bodies on different
 * simulated CPUs run kernel code at the same time.  Each CPU has a run
 * lock (a ticket lock, so waiters are served in order) that the body
 * running there holds, as a core runs one task at a time.  A body runs in
 * one of two modes:
 *
 *   shared     it holds its own CPU only.  Only paths audited for running
 *              beside other CPUs run so - a user access, the anonymous
 *              first-touch fault with the allocator's fast path, and the
 *              anonymous write-protect (COW) fault - and everything they
 *              share is protected the way Linux protects it: the kernel's
 *              locks are real (compare-and-swap), page-table entries are
 *              read and written whole (READ_ONCE), counters and the clock
 *              are per-CPU differentials (struct cpu_stat_diff), page
 *              reference and map counts are atomic;
 *   exclusive  it holds every CPU, in index order, so nothing else runs:
 *              the rest of the kernel runs exactly as in a plain call.
 *
 * A body enters the kernel shared for an access and exclusive for a system
 * call; an audited path that reaches unaudited code (a fault that is not a
 * plain anonymous one, the allocator's slow path, a free) calls
 * kernel_exclusive(), which is a scheduling point.  At any scheduling point
 * a body gives its CPUs up if someone waits for one of them, and whenever
 * it waits for a kernel lock or sleeps, so a waiter never holds a CPU that
 * the holder needs.  Linux's own audit went the same way, lock by lock,
 * from one big kernel lock.
 *
 * A CPU's TLB is touched only by the body holding that CPU.  A shared body
 * that must invalidate other CPUs' entries (a COW fault's ptep_clear_flush)
 * posts a request to their mailboxes and waits for the acknowledgements
 * (arch/arm64/tlbflush.c, sched_ipi_wait): a holder applies its requests
 * when it takes the CPU (par_hold), at every scheduling point and before
 * each translation, and a CPU nobody holds counts as done, since whoever
 * takes it next applies them first.  While waiting, a body takes its own
 * CPU's requests and gives the CPU up to an exclusive body that wants it.
 * A body holding the whole machine, or one of a deterministic run, writes
 * every TLB itself; in a deterministic run a shootdown is a scheduling
 * point.  A host thread's access takes its CPU for the TLB-hit fast path
 * with one compare-and-swap and reads the mailbox with one load.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "arch/arm64/tlbflush.h"
#include "kernel/machine.h"
#include "kernel/sched.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCHED_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define SCHED_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SCHED_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define SCHED_TSAN 1
#endif

#ifdef SCHED_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
				     size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define STACK_SIZE (4u << 20)
#else
#define STACK_SIZE (1u << 20)
#endif
#ifdef SCHED_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

_Thread_local struct sched_thread *sched_current __attribute__((tls_model("initial-exec")));
_Thread_local struct cpu *par_cpu __attribute__((tls_model("initial-exec")));

enum thread_state { TS_RUNNABLE, TS_BLOCKED, TS_SLEEPING, TS_DONE };

struct sched_thread {
	struct sched *sched;
	struct mmsim_task *task;        /* the task the body plays                 */
	mmsim_task_fn fn;
	void *arg;
	int id;                         /* spawn order, from 0                      */
	enum thread_state state;
	const void *wait;               /* the lock waited for (TS_BLOCKED)         */
	const char *wait_name;
	int preempt_count;              /* spinlocks held                           */
	bool exit_after;                /* mmsim_task_exit() was called for its task */
	const void *held[16];           /* locks held, for the report at return     */
	const char *held_name[16];
	int nr_held;
	uint64_t prio;                  /* PCT priority: higher runs first          */
	struct mmsim_task *saved_current;/* m->current while switched out           */
	unsigned int saved_cpu;
	ucontext_t ctx;
	void *stack;                    /* mmap'd, with a guard page at the bottom  */
	pthread_t host;                 /* parallel mode                            */
	bool exclusive;                 /* parallel: holds every CPU, not just its own */
	struct cpu *held_cpu;           /* parallel, shared: the CPU it holds          */
	unsigned int spins;             /* parallel: lock tests since it last let go   */
	void *fake_stack;               /* AddressSanitizer's, across a switch      */
	void *fiber;                    /* ThreadSanitizer's                        */
};

struct sched {
	struct mmsim_machine *m;
	struct mmsim_sched_options opt;
	uint64_t rng;                   /* this run's generator (xorshift64*)       */
	struct sched_thread **threads;  /* spawned, in spawn order                 */
	int nr, cap;
	struct sched_thread *running;   /* deterministic: the body on the CPU       */
	ucontext_t main_ctx;            /* where mmsim_run_tasks waits              */
	void *main_fake_stack;
	const void *main_stack_bottom;
	size_t main_stack_size;
	void *main_fiber;
	uint64_t steps;                 /* scheduling points passed in this run     */
	uint64_t change[8];             /* PCT priority change points (steps)       */
	unsigned int nr_change;
	int nr_sleeping;
	uint64_t progress;              /* lock releases and exits so far           */
	uint64_t idle_wake_progress;    /* progress when sleepers were last woken idle */
	int failed;                     /* -errno: the run ended abnormally         */
	char why[256];
	void *free_stacks[8];           /* stacks kept for the next run             */
	int nr_free_stacks;
	bool in_run;
	bool from_main;                 /* the switch under way starts at the caller */
	bool wedged;                    /* a run failed: bodies abandoned, locks held */
};

/* ------------------------------------------------------------- generator */

static uint64_t sched_rand(struct sched *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t sched_below(struct sched *s, uint64_t n)
{
	return n ? sched_rand(s) % n : 0;
}

/* ------------------------------------------------------------ life cycle */

int sched_init(struct mmsim_machine *m)
{
	struct sched *s = calloc(1, sizeof(*s));

	if (!s)
		return -MMSIM_ENOMEM;
	s->m = m;
	s->opt.mode = MMSIM_SCHED_DETERMINISTIC;
	s->opt.policy = MMSIM_SCHED_RANDOM;
	s->opt.pct_depth = 3;
	s->opt.seed = m->seed;
	s->opt.max_steps = 1000000;
	m->sched = s;
	return 0;
}

/* Give a stack back to the host: its shadow must not poison a later mapping there. */
static void unmap_stack(void *stack)
{
#ifdef SCHED_ASAN
	__asan_unpoison_memory_region(stack, STACK_SIZE);
#endif
	munmap(stack, STACK_SIZE);
}

static void free_stack(struct sched *s, void *stack)
{
	if (!stack)
		return;
	if (s->nr_free_stacks < (int)(sizeof(s->free_stacks) / sizeof(s->free_stacks[0])))
		s->free_stacks[s->nr_free_stacks++] = stack;
	else
		unmap_stack(stack);
}

static void *alloc_stack(struct sched *s)
{
	void *p;

	if (s->nr_free_stacks) {
		p = s->free_stacks[--s->nr_free_stacks];
#ifdef SCHED_ASAN
		/* An abandoned body (a deadlocked run) left its frames poisoned. */
		__asan_unpoison_memory_region((char *)p + 4096, STACK_SIZE - 4096);
#endif
		return p;
	}
	p = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	mprotect(p, 4096, PROT_NONE);	/* a body that overflows faults, not corrupts */
	return p;
}

/* Forget the spawned bodies (after a run, or at destruction). */
static void drop_threads(struct sched *s)
{
	for (int i = 0; i < s->nr; i++) {
		struct sched_thread *th = s->threads[i];

		/* A task that asked to exit in or before its body goes now. */
		if (th->exit_after && !s->m->dying) {
			th->exit_after = false;
			s->threads[i] = NULL;
			mmsim_task_exit(th->task);
			s->threads[i] = th;
		}
		free_stack(s, th->stack);
#ifdef SCHED_TSAN
		if (th->fiber)
			__tsan_destroy_fiber(th->fiber);
#endif
		free(th);
	}
	s->nr = 0;
}

void sched_destroy(struct mmsim_machine *m)
{
	struct sched *s = m->sched;

	if (!s)
		return;
	drop_threads(s);
	for (int i = 0; i < s->nr_free_stacks; i++)
		unmap_stack(s->free_stacks[i]);
	free(s->threads);
	free(s);
	m->sched = NULL;
}

/* ----------------------------------------------------- public: configure */

int mmsim_sched_set(struct mmsim_machine *m, const struct mmsim_sched_options *o)
{
	if (!m || !o)
		return seterr(-MMSIM_EINVAL, "mmsim_sched_set: %s is NULL", !m ? "machine" : "options");
	if (m->sched->in_run)
		return seterr(-MMSIM_EBUSY, "mmsim_sched_set: tasks are running");
	if (o->mode != MMSIM_SCHED_DETERMINISTIC && o->mode != MMSIM_SCHED_PARALLEL)
		return seterr(-MMSIM_EINVAL, "mmsim_sched_set: mode %d is neither "
			      "MMSIM_SCHED_DETERMINISTIC nor MMSIM_SCHED_PARALLEL", o->mode);
	if (o->policy != MMSIM_SCHED_RANDOM && o->policy != MMSIM_SCHED_PCT)
		return seterr(-MMSIM_EINVAL, "mmsim_sched_set: policy %d is neither "
			      "MMSIM_SCHED_RANDOM nor MMSIM_SCHED_PCT", o->policy);
	if (o->pct_depth > 8)
		return seterr(-MMSIM_EINVAL, "mmsim_sched_set: pct_depth %u is above 8", o->pct_depth);
	/* Requests host threads left for CPUs nobody took again: apply them before the mode changes. */
	if (m->sched->opt.mode == MMSIM_SCHED_PARALLEL)
		tlb_ipi_drain_all(m);
	m->sched->opt = *o;
	{
		struct list_head *pos;

		/* In parallel mode the TLB fast path holds the CPU (task_update_fastpath). */
		list_for_each(pos, &m->tasks)
			task_update_fastpath(list_entry(pos, struct mmsim_task, tasks_node));
	}
	if (!m->sched->opt.pct_depth)
		m->sched->opt.pct_depth = 3;
	if (!m->sched->opt.max_steps)
		m->sched->opt.max_steps = 1000000;
	return 0;
}

int mmsim_sched_get(struct mmsim_machine *m, struct mmsim_sched_options *o)
{
	if (!m || !o)
		return seterr(-MMSIM_EINVAL, "mmsim_sched_get: %s is NULL", !m ? "machine" : "options");
	*o = m->sched->opt;
	return 0;
}

int mmsim_spawn(struct mmsim_task *t, mmsim_task_fn fn, void *arg)
{
	struct sched *s;
	struct sched_thread *th;

	if (!t || !fn)
		return seterr(-MMSIM_EINVAL, "mmsim_spawn: %s is NULL", !t ? "task" : "fn");
	s = t->machine->sched;
	if (s->in_run)
		return seterr(-MMSIM_EBUSY, "mmsim_spawn: tasks are running; spawn before mmsim_run_tasks");
	for (int i = 0; i < s->nr; i++)
		if (s->threads[i]->task == t)
			return seterr(-MMSIM_EBUSY, "mmsim_spawn: task %d already has a body", t->pid);
	if (s->nr == s->cap) {
		int cap = s->cap ? 2 * s->cap : 8;
		struct sched_thread **n = realloc(s->threads, sizeof(*n) * (size_t)cap);

		if (!n)
			return seterr(-MMSIM_ENOMEM, "mmsim_spawn: out of host memory");
		s->threads = n;
		s->cap = cap;
	}
	/* Cache-line aligned: bodies on two host cores write their own all the time. */
	th = aligned_alloc(64, (sizeof(*th) + 63) & ~(size_t)63);
	if (!th)
		return seterr(-MMSIM_ENOMEM, "mmsim_spawn: out of host memory");
	memset(th, 0, sizeof(*th));
	th->sched = s;
	th->task = t;
	th->fn = fn;
	th->arg = arg;
	th->id = s->nr;
	s->threads[s->nr++] = th;
	return 0;
}

/* ------------------------------------------------------ run bookkeeping */

/*
 * mmsim_task_exit on a task that has a body: the body (queued, or running
 * and calling it on itself) still uses the task, so the exit happens when
 * the run ends.  Returns whether it was deferred.
 */
bool sched_task_exit_deferred(struct mmsim_task *t)
{
	struct sched *s = t->machine->sched;

	if (!s || t->machine->dying)
		return false;
	for (int i = 0; i < s->nr; i++) {
		if (s->threads[i] && s->threads[i]->task == t) {
			s->threads[i]->exit_after = true;
			return true;
		}
	}
	return false;
}

void sched_preempt_disable(struct sched_thread *me)
{
	me->preempt_count++;
}

void sched_preempt_enable(struct sched_thread *me)
{
	me->preempt_count--;
}

void sched_lock_acquired(struct sched_thread *me, const void *lock, const char *name)
{
	if (me->nr_held < (int)(sizeof(me->held) / sizeof(me->held[0]))) {
		me->held[me->nr_held] = lock;
		me->held_name[me->nr_held] = name;
	}
	me->nr_held++;
	if (me->task)	/* a host thread's machine-wide call has none */
		trace_json_sched(me->sched->m, "lock", me->task->pid, (int)me->task->cpu, name);
}

void sched_lock_released(struct sched_thread *me, const void *lock)
{
	for (int i = me->nr_held - 1; i >= 0; i--) {
		if (i < (int)(sizeof(me->held) / sizeof(me->held[0])) && me->held[i] == lock) {
			for (int j = i; j + 1 < me->nr_held && j + 1 < 16; j++) {
				me->held[j] = me->held[j + 1];
				me->held_name[j] = me->held_name[j + 1];
			}
			break;
		}
	}
	me->nr_held--;
}

/* Stop the run: every body is abandoned where it stands. */
static void sched_fail(struct sched *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void sched_fail(struct sched *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return;
	s->failed = err;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

/* Can th run now, if me is the body that holds the CPU? */
static bool can_run(const struct sched_thread *th, const struct sched_thread *me)
{
	if (th->state != TS_RUNNABLE)
		return false;
	/* A body holding a spinlock is not preempted by another of its CPU. */
	if (me && th != me && me->state == TS_RUNNABLE && me->preempt_count &&
	    th->task->cpu == me->task->cpu)
		return false;
	return true;
}

/* The policy's choice among the bodies that can run; NULL if none can. */
static struct sched_thread *pick_next(struct sched *s, struct sched_thread *me)
{
	struct sched_thread *cand[64], *best = NULL;
	int n = 0;

	if (s->opt.policy == MMSIM_SCHED_PCT) {
		for (unsigned int i = 0; i < s->nr_change; i++)
			if (me && s->steps == s->change[i])
				me->prio = i;	/* below every initial priority */
		for (int i = 0; i < s->nr; i++)
			if (can_run(s->threads[i], me) && (!best || s->threads[i]->prio > best->prio))
				best = s->threads[i];
		return best;
	}
	for (int i = 0; i < s->nr && n < 64; i++)
		if (can_run(s->threads[i], me))
			cand[n++] = s->threads[i];
	return n ? cand[sched_below(s, (uint64_t)n)] : NULL;
}

/* ---------------------------------------------------- context switching */

static void fiber_enter(struct sched_thread *to)
{
	struct sched *s = to->sched;
	struct mmsim_machine *m = s->m;

	s->running = to;
	sched_current = to;
	m->current = to->saved_current;
	m->this_cpu = to->saved_cpu;
	trace_json_sched(m, "enter", to->task->pid, (int)to->task->cpu, NULL);
}

static void fiber_leave(struct sched_thread *from)
{
	struct mmsim_machine *m = from->sched->m;

	from->saved_current = m->current;
	from->saved_cpu = m->this_cpu;
	trace_json_sched(m, "leave", from->task->pid, (int)from->task->cpu, NULL);
}

/*
 * Give the host thread from body `from` (NULL: mmsim_run_tasks) to body
 * `to` (NULL: back to mmsim_run_tasks).  Returns when `from` is picked again.
 */
static void switch_fiber(struct sched *s, struct sched_thread *from, struct sched_thread *to)
{
	ucontext_t *from_ctx = from ? &from->ctx : &s->main_ctx;
	ucontext_t *to_ctx = to ? &to->ctx : &s->main_ctx;
	bool exiting = from && from->state == TS_DONE;

	if (from)
		fiber_leave(from);
	s->from_main = !from;
	if (to) {
		fiber_enter(to);
	} else {
		s->running = NULL;
		sched_current = NULL;
	}
#ifdef SCHED_ASAN
	__sanitizer_start_switch_fiber(exiting ? NULL : (from ? &from->fake_stack : &s->main_fake_stack),
				       to ? (char *)to->stack : s->main_stack_bottom,
				       to ? STACK_SIZE : s->main_stack_size);
#endif
#ifdef SCHED_TSAN
	__tsan_switch_to_fiber(to ? to->fiber : s->main_fiber, 0);
#endif
	(void)exiting;
	swapcontext(from_ctx, to_ctx);
#ifdef SCHED_ASAN
	if (from)
		__sanitizer_finish_switch_fiber(from->fake_stack, NULL, NULL);
	else
		__sanitizer_finish_switch_fiber(s->main_fake_stack, NULL, NULL);
#endif
}

/* me cannot go on (blocked, asleep or done): run someone else, or end the run. */
static void schedule_away(struct sched *s, struct sched_thread *me)
{
	struct sched_thread *next = pick_next(s, me);

	/*
	 * Only sleepers left: what they wait for may have happened between
	 * their decision to sleep and the sleep (the migration ended).  Let
	 * them look once more - unless nothing happened since the last time.
	 */
	if (!next && s->nr_sleeping && s->progress != s->idle_wake_progress) {
		s->idle_wake_progress = s->progress;
		for (int i = 0; i < s->nr; i++)
			if (s->threads[i]->state == TS_SLEEPING)
				s->threads[i]->state = TS_RUNNABLE;
		s->nr_sleeping = 0;
		next = pick_next(s, me);
	}
	if (!next) {
		bool all_done = true;

		for (int i = 0; i < s->nr; i++)
			all_done &= s->threads[i]->state == TS_DONE;
		if (!all_done) {
			char who[160] = "";
			size_t off = 0;

			for (int i = 0; i < s->nr && off < sizeof(who) - 40; i++) {
				struct sched_thread *th = s->threads[i];

				if (th->state == TS_BLOCKED)
					off += (size_t)snprintf(who + off, sizeof(who) - off, " task %d waits for %s;",
							       th->task->pid, th->wait_name);
				else if (th->state == TS_SLEEPING)
					off += (size_t)snprintf(who + off, sizeof(who) - off, " task %d sleeps in %s;",
							       th->task->pid, th->wait_name);
			}
			sched_fail(s, -MMSIM_EDEADLK, "deadlock after %llu scheduling points:%s",
				   (unsigned long long)s->steps, who);
		}
	}
	if (s->failed)
		next = NULL;
	switch_fiber(s, me, next);
}

/* ------------------------------------------------------------ parallel mode */

/* A spin-wait hint to the host core (PAUSE / YIELD), as the kernel's cpu_relax(). */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

/* The ticket is a seq_cst RMW: it orders the holder's mailbox reads after it (cpu_run_trylock). */
static void cpu_run_lock(struct cpu *c)
{
	uint32_t ticket = __atomic_fetch_add(&c->run_next, 1, __ATOMIC_SEQ_CST);

	while (__atomic_load_n(&c->run_serving, __ATOMIC_ACQUIRE) != ticket)
		sched_yield();
}

/* Does a body wait for c, which the caller holds? */
static bool cpu_run_contended(struct cpu *c)
{
	return __atomic_load_n(&c->run_next, __ATOMIC_RELAXED) -
	       __atomic_load_n(&c->run_serving, __ATOMIC_RELAXED) > 1;
}

/*
 * What the CPUs kept to themselves goes back to the machine: their LRU
 * batches onto the lists, their cached rss into the mms, their
 * differentials into the totals, the shootdowns posted while nobody held
 * them into their TLBs.  The caller
 * holds every CPU, or none runs.
 */
static void settle_cpus(struct mmsim_machine *m)
{
	lru_add_drain_all(m);
	sync_mm_rss_all(m);
	fold_cpu_stats(m);
	tlb_ipi_drain_all(m);
}

/*
 * Take what me's mode needs: its own CPU, or every CPU in index order (no
 * two exclusive bodies can then deadlock).  An exclusive body finds the
 * machine as a plain call does: the CPUs settled, current and its CPU set
 * to cur and cpu.
 */
static void par_hold(struct sched_thread *me, struct mmsim_task *cur, unsigned int cpu)
{
	struct mmsim_machine *m = me->sched->m;

	if (me->exclusive) {
		for (unsigned int i = 0; i < m->nr_cpus; i++)
			cpu_run_lock(&m->cpus[i]);
		par_cpu = NULL;
		settle_cpus(m);
		m->current = cur;
		m->this_cpu = cpu;
		par_cpu = NULL;
	} else {
		struct cpu *c = &m->cpus[me->task->cpu];

		cpu_run_lock(c);
		c->curr = me->task;
		me->held_cpu = c;
		par_cpu = c;
		/* Requests posted while no body held c: before any access here. */
		tlb_ipi_check(m, c);
	}
}

static void par_unhold(struct sched_thread *me)
{
	struct mmsim_machine *m = me->sched->m;

	par_cpu = NULL;
	if (me->exclusive) {
		for (unsigned int i = m->nr_cpus; i-- > 0; )
			cpu_run_unlock(&m->cpus[i]);
	} else {
		cpu_run_unlock(me->held_cpu);
		me->held_cpu = NULL;
	}
}

/*
 * A host thread's API call on a machine in parallel mode: the thread runs
 * it as a body (host_body) for the call's length; calls the call makes
 * nest (host_depth).
 */
static _Thread_local struct sched_thread host_body;
static _Thread_local int host_depth;

unsigned int sched_run_locks_held_by_caller(void)
{
	struct sched_thread *me = sched_current;

	return me && me->exclusive && me->sched->opt.mode == MMSIM_SCHED_PARALLEL;
}

bool sched_parallel(struct mmsim_machine *m)
{
	return m && m->sched && m->sched->opt.mode == MMSIM_SCHED_PARALLEL;
}

struct kernel_entry kernel_enter(struct mmsim_machine *m, struct mmsim_task *t, bool shared)
{
	struct sched_thread *me = sched_current;

	if (me == &host_body) {
		host_depth++;
		if (!shared)
			kernel_exclusive();
		return (struct kernel_entry){ .host = true };
	}
	if (me) {
		if (!shared)
			kernel_exclusive();
		return (struct kernel_entry){ .host = false };
	}
	if (!sched_parallel(m) || m->dying)
		return (struct kernel_entry){ .host = false };
	memset(&host_body, 0, sizeof(host_body));
	host_body.sched = m->sched;
	host_body.task = t;
	host_body.id = -1;
	host_body.exclusive = !shared || !t;
	sched_current = &host_body;
	host_depth = 1;
	par_hold(&host_body, t, t ? t->cpu : 0);
	return (struct kernel_entry){ .host = true };
}

void kernel_exit(struct kernel_entry *e)
{
	if (!e->host || --host_depth)
		return;
	/* A lock still held is the checker's to report (locks held between calls). */
	par_unhold(&host_body);
	sched_current = NULL;
}

/* Give the CPUs up and take them back in the same mode: others may run meanwhile. */
static void par_relax(struct sched_thread *me)
{
	struct mmsim_machine *m = me->sched->m;
	struct mmsim_task *cur = me->exclusive ? m->current : me->task;
	unsigned int cpu = me->exclusive ? m->this_cpu : me->task->cpu;

	par_unhold(me);
	sched_yield();
	par_hold(me, cur, cpu);
}

/*
 * A scheduling point: let a body that waits for our CPU have it.  A body
 * holding the whole machine keeps it until it waits or returns to user
 * space: handing every CPU around at each lock of a long system call would
 * cost more than the call.
 */
static void par_preempt_point(struct sched_thread *me)
{
	if (me->exclusive)
		return;
	/* A CPU takes its IPIs wherever it can be preempted. */
	tlb_ipi_check(me->sched->m, me->held_cpu);
	if (cpu_run_contended(me->held_cpu))
		par_relax(me);
}

/*
 * A shared-mode body shot target down (arch/arm64/tlbflush.c) and waits
 * until target's holder applied request gen.  A CPU nobody holds is done:
 * whoever takes it next applies the request first.  Meanwhile the waiter
 * takes the IPIs sent to its own CPU - two CPUs shooting each other down
 * both get their answer - and gives its CPU to an exclusive body that
 * waits for it, which may be the holder of target waiting to hold all.
 */
void sched_ipi_wait(struct mmsim_machine *m, struct cpu *target, uint64_t gen)
{
	struct sched_thread *me = sched_current;

	while (__atomic_load_n(&target->ipi.acked, __ATOMIC_ACQUIRE) < gen && cpu_run_held(target)) {
		tlb_ipi_check(m, me->held_cpu);
		if (cpu_run_contended(me->held_cpu))
			par_relax(me);
		else
			sched_yield();
	}
}

void __kernel_exclusive(void)
{
	struct sched_thread *me = sched_current;

	par_unhold(me);
	me->exclusive = true;
	par_hold(me, me->task, me->task->cpu);
}

void __kernel_shared(void)
{
	struct sched_thread *me = sched_current;
	struct mmsim_machine *m = me->sched->m;
	struct cpu *own = &m->cpus[me->task->cpu];

	if (me->sched->opt.mode != MMSIM_SCHED_PARALLEL || !me->exclusive)
		return;
	for (unsigned int i = m->nr_cpus; i-- > 0; )
		if (&m->cpus[i] != own)
			cpu_run_unlock(&m->cpus[i]);
	me->exclusive = false;
	own->curr = me->task;
	me->held_cpu = own;
	par_cpu = own;
}

void __sched_point(struct sched_thread *me, const char *why, const void *obj)
{
	struct sched *s = me->sched;
	struct sched_thread *next;

	(void)obj;
	if (s->opt.mode != MMSIM_SCHED_DETERMINISTIC) {
		par_preempt_point(me);
		return;
	}
	if (++s->steps > s->opt.max_steps)
		sched_fail(s, -MMSIM_ELOOP, "livelock: more than %llu scheduling points",
			   (unsigned long long)s->opt.max_steps);
	if (s->failed) {
		switch_fiber(s, me, NULL);
		return;
	}
	next = pick_next(s, me);
	if (next && next != me) {
		trace_json_sched(s->m, "preempt", me->task->pid, (int)me->task->cpu, why);
		switch_fiber(s, me, next);
	}
}

/*
 * Parallel mode: a lock is mostly held for a few hundred nanoseconds by a
 * body running on another host core, so spin on it first, as a kernel
 * spinlock does.  Only a long wait gives the CPU up (a host syscall, and
 * the holder may be waiting for our CPU to go exclusive).
 */
#define PAR_SPINS_BEFORE_RELAX 200

void __sched_block(struct sched_thread *me, const char *why, const void *lock)
{
	struct sched *s = me->sched;

	if (s->opt.mode != MMSIM_SCHED_DETERMINISTIC) {
		if (++me->spins < PAR_SPINS_BEFORE_RELAX) {
			cpu_relax();
			return;	/* the caller tests the lock again */
		}
		me->spins = 0;
		par_relax(me);
		return;
	}
	me->state = TS_BLOCKED;
	me->wait = lock;
	me->wait_name = why;
	trace_json_sched(s->m, "block", me->task->pid, (int)me->task->cpu, why);
	schedule_away(s, me);
}

void sched_unblock(struct sched_thread *me, const void *lock)
{
	struct sched *s = me->sched;

	if (s->opt.mode != MMSIM_SCHED_DETERMINISTIC)
		return;		/* parallel waiters poll the lock */
	s->progress++;
	for (int i = 0; i < s->nr; i++)
		if (s->threads[i]->state == TS_BLOCKED && s->threads[i]->wait == lock)
			s->threads[i]->state = TS_RUNNABLE;
	sched_wake_sleepers(me);
}

void sched_wake_sleepers(struct sched_thread *me)
{
	struct sched *s = me->sched;

	if (s->opt.mode != MMSIM_SCHED_DETERMINISTIC || !s->nr_sleeping)
		return;
	for (int i = 0; i < s->nr; i++)
		if (s->threads[i]->state == TS_SLEEPING && s->threads[i] != me)
			s->threads[i]->state = TS_RUNNABLE;
	s->nr_sleeping = 0;
}

bool sched_sleep(const char *why)
{
	struct sched_thread *me = sched_current;
	struct sched *s;

	if (!me)
		return false;
	s = me->sched;
	if (s->opt.mode != MMSIM_SCHED_DETERMINISTIC) {
		/* Parallel: let the others run, then try again. */
		par_relax(me);
		return true;
	}
	me->state = TS_SLEEPING;
	me->wait_name = why;
	s->nr_sleeping++;
	trace_json_sched(s->m, "sleep", me->task->pid, (int)me->task->cpu, why);
	schedule_away(s, me);
	return !s->failed;
}

bool sched_spin_wait(const char *why)
{
	struct sched_thread *me = sched_current;
	struct sched *s;

	if (!me)
		return false;
	s = me->sched;
	if (s->opt.mode != MMSIM_SCHED_DETERMINISTIC) {
		/* The others run on their own CPUs meanwhile; the caller's bound stays. */
		par_relax(me);
		return false;
	}
	for (int i = 0; i < s->nr; i++)
		if (s->threads[i] != me && s->threads[i]->state != TS_DONE)
			return sched_sleep(why);
	return false;
}

/* ---------------------------------------------------------- running bodies */

/* Where each body starts: run it, then hand the CPU on. */
static void body_trampoline(void)
{
	struct sched_thread *me = sched_current;
	struct sched *s = me->sched;

#ifdef SCHED_ASAN
	/* Only a switch from mmsim_run_tasks's caller tells where its stack is. */
	if (s->from_main)
		__sanitizer_finish_switch_fiber(NULL, &s->main_stack_bottom, &s->main_stack_size);
	else
		__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
	me->fn(me->task, me->arg);
	if (me->nr_held)
		sched_fail(s, -MMSIM_EDEADLK, "task %d returned to user space holding %s",
			   me->task->pid, me->held_name[0]);
	me->state = TS_DONE;
	s->progress++;
	trace_json_sched(s->m, "exit", me->task->pid, (int)me->task->cpu, NULL);
	sched_wake_sleepers(me);
	schedule_away(s, me);
	/* Never resumed: mmsim_run_tasks frees this stack. */
}

/* A fresh stack and context for body th, which starts in body_trampoline. */
static int prepare_fiber(struct sched *s, struct sched_thread *th, int i)
{
	th->stack = alloc_stack(s);
	if (!th->stack)
		return -1;
	getcontext(&th->ctx);
	th->ctx.uc_stack.ss_sp = th->stack;
	th->ctx.uc_stack.ss_size = STACK_SIZE;
	th->ctx.uc_link = NULL;
	makecontext(&th->ctx, body_trampoline, 0);
	th->saved_current = th->task;
	th->saved_cpu = th->task->cpu;
	th->prio = s->opt.pct_depth + (uint64_t)i;
#ifdef SCHED_TSAN
	th->fiber = __tsan_create_fiber(0);
#endif
	return 0;
}

static int run_deterministic(struct sched *s)
{
	struct mmsim_machine *m = s->m;
	struct mmsim_task *outer = m->current;
	unsigned int outer_cpu = m->this_cpu;
	struct sched_thread *first;

	s->rng = s->opt.seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
	if (!s->rng)
		s->rng = 1;
	for (int i = 0; i < s->nr; i++)
		if (prepare_fiber(s, s->threads[i], i))
			return seterr(-MMSIM_ENOMEM, "mmsim_run_tasks: no host memory for a stack");
	/* PCT: distinct random priorities, d-1 change points in the expected run. */
	for (int i = s->nr - 1; i > 0; i--) {
		int j = (int)sched_below(s, (uint64_t)i + 1);
		uint64_t p = s->threads[i]->prio;

		s->threads[i]->prio = s->threads[j]->prio;
		s->threads[j]->prio = p;
	}
	s->nr_change = s->opt.pct_depth - 1;
	for (unsigned int i = 0; i < s->nr_change; i++)
		s->change[i] = 1 + sched_below(s, s->opt.pct_steps ? s->opt.pct_steps : 200);
#ifdef SCHED_TSAN
	s->main_fiber = __tsan_get_current_fiber();
#endif
	first = pick_next(s, NULL);
	switch_fiber(s, NULL, first);
	m->current = outer;
	m->this_cpu = outer_cpu;
	return 0;
}

static void *body_thread(void *arg)
{
	struct sched_thread *me = arg;
	struct sched *s = me->sched;

	sched_current = me;
	me->exclusive = false;
	par_hold(me, me->task, me->task->cpu);
	me->fn(me->task, me->arg);
	if (me->nr_held) {
		kernel_exclusive();
		sched_fail(s, -MMSIM_EDEADLK, "task %d returned to user space holding %s",
			   me->task->pid, me->held_name[0]);
	}
	me->state = TS_DONE;
	par_unhold(me);
	sched_current = NULL;
	return NULL;
}

static int run_parallel(struct sched *s)
{
	struct mmsim_machine *m = s->m;
	struct mmsim_task *outer = m->current;
	unsigned int outer_cpu = m->this_cpu;
	int started = 0, err = 0;

	for (; started < s->nr; started++) {
		if (pthread_create(&s->threads[started]->host, NULL, body_thread, s->threads[started])) {
			err = seterr(-MMSIM_EAGAIN, "mmsim_run_tasks: cannot start host thread %d", started);
			break;
		}
	}
	for (int i = 0; i < started; i++)
		pthread_join(s->threads[i]->host, NULL);
	settle_cpus(m);
	m->current = outer;
	m->this_cpu = outer_cpu;
	return err;
}

int mmsim_run_tasks(struct mmsim_machine *m)
{
	struct sched *s;
	int err;

	if (!m)
		return seterr(-MMSIM_EINVAL, "mmsim_run_tasks: machine is NULL");
	s = m->sched;
	if (s->in_run || sched_current)
		return seterr(-MMSIM_EBUSY, "mmsim_run_tasks: called from a running body");
	if (s->wedged)
		return seterr(-MMSIM_EDEADLK, "mmsim_run_tasks: an earlier run failed (%s) and left its "
			      "bodies stopped inside the kernel, holding locks; boot a new machine", s->why);
	if (!s->nr)
		return 0;
	s->in_run = true;
	s->steps = 0;
	s->failed = 0;
	s->nr_sleeping = 0;
	s->progress = 0;
	s->idle_wake_progress = UINT64_MAX;
	s->why[0] = 0;
	trace_json_sched(m, "run", 0, 0, s->opt.mode == MMSIM_SCHED_PARALLEL ? "parallel" : "deterministic");
	err = s->opt.mode == MMSIM_SCHED_PARALLEL ? run_parallel(s) : run_deterministic(s);
	m->sched_steps += s->steps;
	if (!err && s->failed) {
		s->wedged = true;
		printk(m, "sched: %s (seed %llu)", s->why, (unsigned long long)s->opt.seed);
		err = seterr(s->failed, "mmsim_run_tasks: %s", s->why);
	}
	drop_threads(s);
	s->in_run = false;
	return err;
}

bool sched_in_run(struct mmsim_machine *m)
{
	return m->sched && m->sched->in_run;
}

uint64_t mmsim_sched_steps(struct mmsim_machine *m)
{
	return m ? m->sched_steps : 0;
}
