// SPDX-License-Identifier: MIT
/*
 * kernel/locking.c - spinlocks, mutexes and rw_semaphores (see locking.h).
 *
 * In a run of task bodies each acquire is preceded, and each release
 * followed, by a scheduling point, and a task that finds the lock taken
 * waits until a release lets it in: the deterministic scheduler switches
 * to another body, parallel mode gives the waiter's CPU up and polls.
 * Taking a lock is one compare-and-swap, because in parallel mode bodies
 * on other CPUs really race for it.  Outside a run the lock only records
 * its owner.
 */
#include "kernel/locking.h"

/* The owner word: NULL when free; true if me took it. */
static bool try_own(struct sched_thread **owner, struct sched_thread *me)
{
	struct sched_thread *free = NULL;

	return __atomic_compare_exchange_n(owner, &free, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void release_owner(struct sched_thread **owner)
{
	__atomic_store_n(owner, NULL, __ATOMIC_RELEASE);
}

/* Take an owner-word lock for me: wait (letting other tasks run) until it is free. */
static void own_lock(struct sched_thread **owner, struct sched_thread *me, const char *name, const void *lock)
{
	__sched_point(me, name, lock);
	while (!try_own(owner, me))
		__sched_block(me, name, lock);
	sched_lock_acquired(me, lock, name);
}

static void released(struct sched_thread *me, const void *lock, const char *name)
{
	sched_lock_released(me, lock);
	sched_unblock(me, lock);
	__sched_point(me, name, lock);
}

void spin_lock(spinlock_t *l)
{
	struct sched_thread *me = sched_current;

	if (!me) {
		l->owner = LOCK_NO_THREAD;
		return;
	}
	own_lock(&l->owner, me, l->name, l);
	sched_preempt_disable(me);
}

void spin_unlock(spinlock_t *l)
{
	struct sched_thread *me = sched_current;

	release_owner(&l->owner);
	if (!me)
		return;
	sched_preempt_enable(me);
	released(me, l, l->name);
}

void mutex_lock(struct mutex *l)
{
	struct sched_thread *me = sched_current;

	if (!me) {
		l->owner = LOCK_NO_THREAD;
		return;
	}
	own_lock(&l->owner, me, l->name, l);
}

void mutex_unlock(struct mutex *l)
{
	struct sched_thread *me = sched_current;

	release_owner(&l->owner);
	if (me)
		released(me, l, l->name);
}

/*
 * An rw_semaphore's count: readers inside, or -1 for a writer.  The writer
 * pointer only names the owner for reports.
 */
static bool rwsem_try_read(struct rw_semaphore *s)
{
	int r = __atomic_load_n(&s->readers, __ATOMIC_RELAXED);

	while (r >= 0)
		if (__atomic_compare_exchange_n(&s->readers, &r, r + 1, true, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return true;
	return false;
}

static bool rwsem_try_write(struct rw_semaphore *s)
{
	int none = 0;

	return __atomic_compare_exchange_n(&s->readers, &none, -1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void down_read(struct rw_semaphore *s)
{
	struct sched_thread *me = sched_current;

	if (!me) {
		s->readers++;
		return;
	}
	__sched_point(me, s->name, s);
	while (!rwsem_try_read(s))
		__sched_block(me, s->name, s);
	sched_lock_acquired(me, s, s->name);
}

/* Never waits, so never switches: callers rely on that (lock_vma_under_rcu). */
bool down_read_trylock(struct rw_semaphore *s)
{
	struct sched_thread *me = sched_current;

	if (!rwsem_try_read(s))
		return false;
	if (me)
		sched_lock_acquired(me, s, s->name);
	return true;
}

void up_read(struct rw_semaphore *s)
{
	struct sched_thread *me = sched_current;

	__atomic_fetch_sub(&s->readers, 1, __ATOMIC_RELEASE);
	if (me)
		released(me, s, s->name);
}

void down_write(struct rw_semaphore *s)
{
	struct sched_thread *me = sched_current;

	if (!me) {
		s->readers = -1;
		s->writer = LOCK_NO_THREAD;
		return;
	}
	__sched_point(me, s->name, s);
	while (!rwsem_try_write(s))
		__sched_block(me, s->name, s);
	__atomic_store_n(&s->writer, me, __ATOMIC_RELAXED);
	sched_lock_acquired(me, s, s->name);
}

void up_write(struct rw_semaphore *s)
{
	struct sched_thread *me = sched_current;

	__atomic_store_n(&s->writer, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&s->readers, 0, __ATOMIC_RELEASE);
	if (me)
		released(me, s, s->name);
}

void bit_lock(uint32_t *word, uint32_t bit, const char *name)
{
	struct sched_thread *me = sched_current;

	if (!me) {
		*word |= bit;
		return;
	}
	__sched_point(me, name, word);
	while (__atomic_fetch_or(word, bit, __ATOMIC_ACQUIRE) & bit)
		__sched_block(me, name, word);
	sched_lock_acquired(me, word, name);
}

/* Never waits, so never switches: a page nobody else can reach yet is locked so (__folio_set_locked). */
bool bit_trylock(uint32_t *word, uint32_t bit, const char *name)
{
	struct sched_thread *me = sched_current;

	if (__atomic_fetch_or(word, bit, __ATOMIC_ACQUIRE) & bit)
		return false;
	if (me)
		sched_lock_acquired(me, word, name);
	return true;
}

void bit_unlock(uint32_t *word, uint32_t bit, const char *name)
{
	struct sched_thread *me = sched_current;

	__atomic_fetch_and(word, ~bit, __ATOMIC_RELEASE);
	if (me)
		released(me, word, name);
}
