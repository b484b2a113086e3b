// SPDX-License-Identifier: MIT
/*
 * kernel/task.c - tasks: processes and their threads.
 *
 * A task is a thread.  Threads of a process share its mm and descriptor
 * table; the process is the set of tasks with one tgid.  A task stays
 * allocated until mmsim_task_exit(), even after it was killed (OOM): like a
 * zombie, it still answers mmsim_task_pid() but refuses system calls.
 */
#include <stdlib.h>

#include "mm/internal.h"

static struct mmsim_task *task_alloc(struct mmsim_machine *m)
{
	struct mmsim_task *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->machine = m;
	t->pid = m->next_pid++;
	t->tgid = t->pid;
	t->mempolicy_mode = MMSIM_MPOL_DEFAULT;
	t->tlb = &m->cpus[0].tlb;
	list_add_tail(&t->tasks_node, &m->tasks);
	return t;
}

/* Refresh what the access fast path caches about where and what t runs. */
void task_update_fastpath(struct mmsim_task *t)
{
	/* Never filled: every lookup misses (keys of ASID 0 are never made). */
	static const struct tlb tlb_never;

	t->asid = t->mm && !t->killed ? t->mm->asid : 0;
	/*
	 * In parallel mode only the CPU's holder reads its TLB: the inline fast
	 * path looks at an empty table and misses, and the out-of-line one
	 * holds the CPU for the access's length (fault.c, access_fast_par).
	 */
	t->par_fast = sched_parallel(t->machine);
	t->tlb = t->par_fast ? &tlb_never : &t->machine->cpus[t->cpu].tlb;
}

static void task_release(struct mmsim_task *t)
{
	struct mmsim_machine *m = t->machine;

	if (t->mm)
		mmput(t->mm);
	t->mm = NULL;
	t->asid = 0;
	if (t->files)
		files_put(m, t->files);
	t->files = NULL;
	for (unsigned int c = 0; c < m->nr_cpus; c++)
		if (m->cpus[c].curr == t)
			m->cpus[c].curr = NULL;
	if (m->current == t)
		m->current = NULL;
}

int task_check_alive(struct mmsim_task *t)
{
	if (!t)
		return seterr(-MMSIM_EINVAL, "task is NULL");
	if (t->killed)
		return seterr(-MMSIM_ESRCH, "task %d was killed", t->pid);
	/* Beside other CPUs, current is the CPU's (set when the body took it). */
	if (!par_cpu) {
		t->machine->current = t;
		t->machine->this_cpu = t->cpu;
	}
	return 0;
}

struct mmsim_task *find_task_by_pid(struct mmsim_machine *m, int pid)
{
	struct list_head *pos;

	list_for_each(pos, &m->tasks) {
		struct mmsim_task *t = list_entry(pos, struct mmsim_task, tasks_node);

		if (t->pid == pid)
			return t;
	}
	return NULL;
}

int mmsim_task_create(struct mmsim_machine *m, struct mmsim_task **out)
{
	KERNEL_ENTRY(m, NULL, false);
	struct mmsim_task *t;

	if (!m || !out)
		return seterr(-MMSIM_EINVAL, "mmsim_task_create: %s is NULL", m ? "out" : "machine");
	t = task_alloc(m);
	if (!t)
		return seterr(-MMSIM_ENOMEM, "mmsim_task_create: out of host memory");
	t->files = files_alloc();
	t->mm = t->files ? mm_alloc(m) : NULL;
	if (!t->mm) {
		task_release(t);
		list_del(&t->tasks_node);
		free(t);
		return seterr(-MMSIM_ENOMEM, "mmsim_task_create: no memory for a new address space");
	}
	task_update_fastpath(t);
	*out = t;
	return 0;
}

/* What a new task (thread or forked child) inherits from the task creating it. */
static void task_inherit(struct mmsim_task *n, const struct mmsim_task *t)
{
	n->cpu = t->cpu;
	n->tagged_addr_ctrl = t->tagged_addr_ctrl;
	n->mempolicy_mode = t->mempolicy_mode;
	n->mempolicy_nodes = t->mempolicy_nodes;
}

int mmsim_thread_create(struct mmsim_task *t, struct mmsim_task **thread)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	struct mmsim_task *n;
	int err;

	if ((err = task_check_alive(t)))
		return err;
	if (!thread)
		return seterr(-MMSIM_EINVAL, "mmsim_thread_create: thread is NULL");
	n = task_alloc(t->machine);
	if (!n)
		return seterr(-MMSIM_ENOMEM, "mmsim_thread_create: out of host memory");
	task_inherit(n, t);
	n->tgid = t->tgid;
	n->mm = t->mm;
	n->mm->users++;
	n->files = t->files;
	n->files->refcount++;
	task_update_fastpath(n);
	*thread = n;
	return 0;
}

/* fork(): a new process with a copy-on-write copy of t's address space. */
int mmsim_fork(struct mmsim_task *parent, struct mmsim_task **child)
{
	KERNEL_ENTRY(parent ? parent->machine : NULL, parent, false);
	struct mmsim_task *c;
	int err;

	if ((err = syscall_enter(parent)))
		return err;
	if (!child)
		return seterr(-MMSIM_EINVAL, "mmsim_fork: child is NULL");
	c = task_alloc(parent->machine);
	if (!c)
		return seterr(-MMSIM_ENOMEM, "fork: out of host memory");
	task_inherit(c, parent);
	c->files = files_dup(parent->files);
	err = c->files ? dup_mm(parent, &c->mm) : -MMSIM_ENOMEM;
	if (err) {
		task_release(c);
		list_del(&c->tasks_node);
		free(c);
		return seterr(err, "fork: not enough memory to copy the address space");
	}
	task_update_fastpath(c);
	TRACE(parent->machine, "sched:sched_process_fork", (int)parent->cpu, parent->pid, 0, 0, 0,
	      "parent_pid=%d child_pid=%d", parent->pid, c->pid);
	*child = c;
	return 0;
}

int mmsim_task_set_cpu(struct mmsim_task *t, unsigned int cpu)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	if (!t)
		return seterr(-MMSIM_EINVAL, "mmsim_task_set_cpu: task is NULL");
	if (cpu >= t->machine->nr_cpus)
		return seterr(-MMSIM_EINVAL, "mmsim_task_set_cpu: cpu %u does not exist (the machine has %u)",
			      cpu, t->machine->nr_cpus);
	t->cpu = cpu;
	task_update_fastpath(t);
	return 0;
}

void mmsim_task_exit(struct mmsim_task *t)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	if (!t)
		return;
	/* A task whose body is queued or running exits when the body returns. */
	if (sched_task_exit_deferred(t))
		return;
	task_release(t);
	list_del(&t->tasks_node);
	free(t);
}

int mmsim_task_pid(struct mmsim_task *t)
{
	return t ? t->pid : seterr(-MMSIM_EINVAL, "mmsim_task_pid: task is NULL");
}

int mmsim_task_tgid(struct mmsim_task *t)
{
	return t ? t->tgid : seterr(-MMSIM_EINVAL, "mmsim_task_tgid: task is NULL");
}

int mmsim_task_killed(struct mmsim_task *t)
{
	return t ? t->killed : seterr(-MMSIM_EINVAL, "mmsim_task_killed: task is NULL");
}

/*
 * kill_process - SIGKILL to every thread of tgid: they stop answering, and
 * the address space is torn down at once (the OOM reaper's job in Linux).
 */
void kill_process(struct mmsim_machine *m, int tgid)
{
	struct list_head *pos;

	list_for_each(pos, &m->tasks) {
		struct mmsim_task *t = list_entry(pos, struct mmsim_task, tasks_node);

		if (t->tgid != tgid)
			continue;
		t->killed = true;
		if (t->mm)
			mmput(t->mm);
		t->mm = NULL;
		task_update_fastpath(t);
	}
}

/* Machine tear-down: every task exits. */
void task_free_all(struct mmsim_machine *m)
{
	while (!list_empty(&m->tasks))
		mmsim_task_exit(list_first_entry(&m->tasks, struct mmsim_task, tasks_node));
}

/*
 * mmsim_kill - deliver sig to t.  Only SIGKILL has an effect in the model:
 * a task in user space dies at once with its whole process; a task asleep
 * in the kernel (BLOCKED) gets it pending - fatal_signal_pending() is true
 * for it, so work done on its behalf (alloc_contig_range) gives up with
 * -EINTR - and dies when it wakes.
 */
int mmsim_kill(struct mmsim_task *t, int sig)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	int err;

	if ((err = task_check_alive(t)))
		return err;
	if (sig != MMSIM_SIGKILL)
		return seterr(-MMSIM_EINVAL, "mmsim_kill: only SIGKILL (9) is modelled, not %d", sig);
	if (t->blocked.active) {
		t->fatal_signal_pending = true;
		return 0;
	}
	kill_process(t->machine, t->tgid);
	return 0;
}
