/* SPDX-License-Identifier: MIT */
/*
 * kernel/locking.h - the kernel's locks, as the fault path takes them.
 *
 * Every lock of the model names the Linux lock it stands for: mmap_lock
 * and the per-VMA lock (rw_semaphore), the split page-table lock and the
 * PMD lock (spinlock_t), zone->lock, the tag-block mutex, the folio lock.
 *
 * What a lock does depends on how the machine runs (kernel/sched.h):
 *  - plain calls: one call at a time, so a lock here only records its
 *    owner.  mmsim_check() then asserts that no lock is held between
 *    calls, which catches a path that forgot to unlock;
 *  - runs of task bodies (deterministic or parallel): acquire and release
 *    are scheduling points, and a task that finds the lock taken waits
 *    until the owner releases it, so every interleaving Linux's locking
 *    allows can happen, and no other.
 *
 * Owner pointers are opaque: a sched_thread in a run, LOCK_NO_THREAD for a
 * plain call.
 */
#ifndef MMSIM_KERNEL_LOCKING_H
#define MMSIM_KERNEL_LOCKING_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/sched.h"

#define LOCK_NO_THREAD ((struct sched_thread *)1)

typedef struct spinlock {
	struct sched_thread *owner;     /* NULL = free                              */
	const char *name;               /* Linux's name, for traces and reports     */
} spinlock_t;

struct mutex {
	struct sched_thread *owner;
	const char *name;
};

struct rw_semaphore {
	struct sched_thread *writer;    /* NULL = no writer (who, for reports)      */
	int readers;                    /* readers inside; -1 while a writer is     */
	const char *name;
};

#define SPINLOCK_INIT(n) { NULL, n }
#define MUTEX_INIT(n)    { NULL, n }
#define RWSEM_INIT(n)    { NULL, 0, n }

void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);
void mutex_lock(struct mutex *l);
void mutex_unlock(struct mutex *l);
void down_read(struct rw_semaphore *s);
bool down_read_trylock(struct rw_semaphore *s);
void up_read(struct rw_semaphore *s);
void down_write(struct rw_semaphore *s);
void up_write(struct rw_semaphore *s);

/* A lock that is one bit of a word (the folio lock: PG_locked in page->flags). */
void bit_lock(uint32_t *word, uint32_t bit, const char *name);
bool bit_trylock(uint32_t *word, uint32_t bit, const char *name);
void bit_unlock(uint32_t *word, uint32_t bit, const char *name);

static inline bool spin_is_locked(const spinlock_t *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) != NULL;
}
static inline bool mutex_is_locked(const struct mutex *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) != NULL;
}
static inline bool rwsem_is_locked(const struct rw_semaphore *s)
{
	return __atomic_load_n(&s->readers, __ATOMIC_RELAXED) != 0;
}

#endif
