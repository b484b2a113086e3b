/* SPDX-License-Identifier: MIT */
/*
 * kernel/sched.h - running task bodies concurrently: a deterministic
 * scheduler (one task at a time, switching only at scheduling points, the
 * seed choosing) and a parallel mode (one host thread per task).
 *
 * A scheduling point is every lock acquire and release (kernel/locking.h),
 * every kernel entry, and every point annotated with sched_point() where
 * Linux could be preempted or another CPU could run: between dropping and
 * re-taking a page-table lock, around a migration and a tag reservation.
 * Between two points a task runs alone, which is what makes one seed one
 * interleaving.
 */
#ifndef MMSIM_KERNEL_SCHED_H
#define MMSIM_KERNEL_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mmsim_machine;
struct mmsim_task;
struct sched;
struct sched_thread;

/*
 * The task body running on this host thread, or NULL outside
 * mmsim_run_tasks() (plain API calls run as they are called).
 */
extern _Thread_local struct sched_thread *sched_current
	__attribute__((tls_model("initial-exec")));	/* one load, no __tls_get_addr */

/*
 * Parallel runs: the simulated CPU whose run lock this host thread's body
 * holds while it runs kernel code alongside other CPUs (shared mode), or
 * NULL - outside a parallel run, and while the body holds the whole
 * machine (exclusive mode), where the kernel runs exactly as a plain call.
 * Per-CPU state (the CPU's clock, its counters, current) is kept there.
 */
struct cpu;
extern _Thread_local struct cpu *par_cpu __attribute__((tls_model("initial-exec")));

/* Slow halves, out of line: the inline tests below are all a caller pays. */
void __sched_point(struct sched_thread *me, const char *why, const void *obj);
void __sched_block(struct sched_thread *me, const char *why, const void *lock);

/* A point where another task may run before this one goes on. */
static inline void sched_point(const char *why)
{
	if (sched_current)
		__sched_point(sched_current, why, NULL);
}

void __kernel_exclusive(void);
void __kernel_shared(void);

/*
 * Parallel runs: code that has not been made safe to run beside other CPUs
 * calls kernel_exclusive() first.  It is a scheduling point: the caller
 * gives up its CPU and waits until it holds every CPU, so nothing else runs
 * until it reaches the next scheduling point or returns to user space.
 * Elsewhere it does nothing.
 */
static inline void kernel_exclusive(void)
{
	if (par_cpu)
		__kernel_exclusive();
}

/*
 * Parallel runs: the body enters a path audited for running beside other
 * CPUs (a user access and the anonymous fault): it keeps only its own CPU.
 */
static inline void kernel_shared(void)
{
	if (sched_current && !par_cpu)
		__kernel_shared();
}

/*
 * Entering the kernel from the public API.  A body (or a plain call) goes
 * on as it is, exclusive unless shared is asked for.  A host thread that
 * is not a body, calling the API on a machine in parallel mode, runs the
 * call as a body of its own for as long as the call lasts - holding its
 * task's CPU (shared) or the whole machine - and lets go when the call
 * returns: KERNEL_ENTRY does both ends, whatever return the call takes.
 */
struct kernel_entry {
	bool host;                      /* this call made the host thread a body   */
};
struct kernel_entry kernel_enter(struct mmsim_machine *m, struct mmsim_task *t, bool shared);
void kernel_exit(struct kernel_entry *e);
#define KERNEL_ENTRY(m, t, shared) \
	struct kernel_entry kentry_ __attribute__((cleanup(kernel_exit), unused)) = kernel_enter(m, t, shared)

/* How many times the caller holds each CPU's run lock (1 when it holds the machine). */
unsigned int sched_run_locks_held_by_caller(void);

/* Is m in parallel mode (a host thread's access then holds its CPU for the TLB fast path)? */
bool sched_parallel(struct mmsim_machine *m);

/*
 * Parallel runs, shared mode: wait until target applied the TLB shootdown
 * request numbered gen, or nobody holds it (arch/arm64/tlbflush.c).
 */
void sched_ipi_wait(struct mmsim_machine *m, struct cpu *target, uint64_t gen);

/*
 * The current task sleeps in the kernel (a migration entry, a userfaultfd):
 * it runs again once another task made progress.  Returns false when no
 * other task can (nothing would ever wake it: the run is a deadlock).
 */
bool sched_sleep(const char *why);

/*
 * The current task spins on something only another task can change (a
 * fault that keeps coming back while another CPU has the page isolated):
 * it sleeps until another body made progress, and returns true.  Returns
 * false at once when no other body is left unfinished (or outside a run),
 * so that a spin nobody can end stays the caller's to report.  In parallel
 * mode it gives its CPUs up for a moment and returns false.
 */
bool sched_spin_wait(const char *why);

/* Wake tasks sleeping for progress: something they may wait for changed. */
void sched_wake_sleepers(struct sched_thread *me);

/* Spinlocks held: while nonzero, no other task on the same CPU may run. */
void sched_preempt_disable(struct sched_thread *me);
void sched_preempt_enable(struct sched_thread *me);

/* Lock bookkeeping for the run's report: a lock held when a body returns is a bug. */
void sched_lock_acquired(struct sched_thread *me, const void *lock, const char *name);
void sched_lock_released(struct sched_thread *me, const void *lock);
/* A waiter of lock may now take it. */
void sched_unblock(struct sched_thread *me, const void *lock);

/* mmsim_task_exit of a task with a body waits for the run's end (true). */
bool sched_task_exit_deferred(struct mmsim_task *t);
/* Is a run of task bodies in progress on m (locks may be held legitimately)? */
bool sched_in_run(struct mmsim_machine *m);

/* Machine life cycle (kernel/machine.c). */
int  sched_init(struct mmsim_machine *m);
void sched_destroy(struct mmsim_machine *m);

/* Chrome/Perfetto JSON trace of the run (kernel/trace_json.c). */
struct trace_json;
void trace_json_sched(struct mmsim_machine *m, const char *kind, int tid, int cpu, const char *why);
void trace_json_close(struct mmsim_machine *m);

#endif
