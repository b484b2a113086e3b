// SPDX-License-Identifier: MIT
/*
 * kernel/locking.c - spinlocks, mutexes and rw_semaphores (see locking.h).
 *
 * In a run of task bodies each acquire is preceded, and each release
 * followed, by a scheduling point, and a task that finds the lock taken
 * waits until a release lets it in: the deterministic scheduler switches
 * to another body, parallel mode lets another host thread take the machine
 * lock.  Outside a run the lock only records its owner.
 */
#include "kernel/locking.h"

/* Take the lock for me: wait (switching to other tasks) until it is free. */
#define LOCK_WAIT(me, busy, name, lock) do {                                    \
	__sched_point(me, name, lock);                                          \
	while (busy)                                                            \
		__sched_block(me, name, lock);                                  \
} while (0)

static struct sched_thread *modelled(void)
{
	struct sched_thread *me = sched_current;

	return me;
}

static void released(struct sched_thread *me, const void *lock)
{
	sched_lock_released(me, lock);
	sched_unblock(me, lock);
}

void spin_lock(spinlock_t *l)
{
	struct sched_thread *me = modelled();

	if (!me) {
		l->owner = sched_current ? sched_current : LOCK_NO_THREAD;
		return;
	}
	LOCK_WAIT(me, l->owner, l->name, l);
	l->owner = me;
	sched_preempt_disable(me);
	sched_lock_acquired(me, l, l->name);
}

void spin_unlock(spinlock_t *l)
{
	struct sched_thread *me = modelled();

	l->owner = NULL;
	if (!me)
		return;
	sched_preempt_enable(me);
	released(me, l);
	__sched_point(me, l->name, l);
}

void mutex_lock(struct mutex *l)
{
	struct sched_thread *me = modelled();

	if (!me) {
		l->owner = sched_current ? sched_current : LOCK_NO_THREAD;
		return;
	}
	LOCK_WAIT(me, l->owner, l->name, l);
	l->owner = me;
	sched_lock_acquired(me, l, l->name);
}

void mutex_unlock(struct mutex *l)
{
	struct sched_thread *me = modelled();

	l->owner = NULL;
	if (!me)
		return;
	released(me, l);
	__sched_point(me, l->name, l);
}

void down_read(struct rw_semaphore *s)
{
	struct sched_thread *me = modelled();

	if (me)
		LOCK_WAIT(me, s->writer, s->name, s);
	s->readers++;
	if (me)
		sched_lock_acquired(me, s, s->name);
}

/* Never waits, so never switches: callers rely on that (lock_vma_under_rcu). */
bool down_read_trylock(struct rw_semaphore *s)
{
	struct sched_thread *me = modelled();

	if (s->writer)
		return false;
	s->readers++;
	if (me)
		sched_lock_acquired(me, s, s->name);
	return true;
}

void up_read(struct rw_semaphore *s)
{
	struct sched_thread *me = modelled();

	s->readers--;
	if (!me)
		return;
	released(me, s);
	__sched_point(me, s->name, s);
}

void down_write(struct rw_semaphore *s)
{
	struct sched_thread *me = modelled();

	if (!me) {
		s->writer = sched_current ? sched_current : LOCK_NO_THREAD;
		return;
	}
	LOCK_WAIT(me, s->writer || s->readers, s->name, s);
	s->writer = me;
	sched_lock_acquired(me, s, s->name);
}

void up_write(struct rw_semaphore *s)
{
	struct sched_thread *me = modelled();

	s->writer = NULL;
	if (!me)
		return;
	released(me, s);
	__sched_point(me, s->name, s);
}

void bit_lock(uint32_t *word, uint32_t bit, const char *name)
{
	struct sched_thread *me = modelled();

	if (me) {
		LOCK_WAIT(me, *word & bit, name, word);
		sched_lock_acquired(me, word, name);
	}
	*word |= bit;
}

void bit_unlock(uint32_t *word, uint32_t bit, const char *name)
{
	struct sched_thread *me = modelled();

	*word &= ~bit;
	if (!me)
		return;
	released(me, word);
	__sched_point(me, name, word);
}
