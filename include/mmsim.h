/* SPDX-License-Identifier: MIT */
/*
 * mmsim.h - the public API of mmsim, a deterministic user-space model of the
 * Linux page-fault path on an arm64 machine with MTE.
 *
 * This header is a contract: names, argument order and meanings are fixed.
 * System calls return what the Linux system call returns (>= 0, or -errno);
 * library calls return 0 or -errno, and mmsim_strerror_last() says why the
 * calling host thread's last call failed.  No call aborts the host process.
 */
#ifndef MMSIM_H
#define MMSIM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mmsim/uapi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MMSIM_VERSION "0.1.0"

/* ------------------------------------------------------------------ machine */

struct mmsim_machine;
struct mmsim_task;
struct mmsim_pin;
struct mmsim_event;

struct mmsim_options {               /* all-zero = the built-in default machine          */
	const char *devicetree;      /* .dts or .dtb path; NULL = built-in machine       */
	unsigned int nr_cpus;        /* 0 = from the device tree, else the default       */
	uint64_t swap_bytes;         /* size of the swap device, 0 = no swap             */
	const char *swap_path;       /* file backing the swap device; NULL = in memory   */
	uint64_t seed;               /* seeds every pseudo-random choice                 */
	const char *bootargs;        /* Linux-style kernel command line                  */
};

int  mmsim_machine_create(const struct mmsim_options *opt, struct mmsim_machine **out);
void mmsim_machine_destroy(struct mmsim_machine *m);
const char *mmsim_strerror_last(void);

int     mmsim_sysfs_write(struct mmsim_machine *m, const char *path, const char *val);
ssize_t mmsim_sysfs_read(struct mmsim_machine *m, const char *path, char *buf, size_t len);
int     mmsim_sysctl_write(struct mmsim_machine *m, const char *name, const char *val);
ssize_t mmsim_proc_read(struct mmsim_machine *m, struct mmsim_task *t, const char *path,
                        char *buf, size_t len);
int     mmsim_pagemap(struct mmsim_task *t, uint64_t vaddr, uint64_t *entry);
int64_t mmsim_vmstat(struct mmsim_machine *m, const char *name);

/* Extensions beyond the contract. */
ssize_t mmsim_sysctl_read(struct mmsim_machine *m, const char *name, char *buf, size_t len);
/* Read a /proc file from byte offset off, as pread(2) on it does: up to len
 * bytes, no NUL added; returns the bytes stored (0 past the end) or -errno.
 * This is how the binary files are read: "kpageflags" (Linux's KPF_* bits,
 * MMSIM_KPF_*) and "kpagecount" (map count) hold one 64-bit entry per page
 * frame, frame pfn at offset pfn * 8, and off and len must be multiples of
 * 8 (-EINVAL).  mmsim_proc_read() of those files reads from offset 0, whole
 * entries only, and with no buffer returns the file's size.                 */
ssize_t mmsim_proc_pread(struct mmsim_machine *m, struct mmsim_task *t, const char *path,
                         void *buf, size_t len, uint64_t off);
/* The built-in machine's device tree source (what `mmsim dts` prints). */
const char *mmsim_default_dts(void);
/* Override the simulated cost, in ns, of one operation ("fault_entry",
 * "zero_page", "copy_page", "tlb_hit", "tlb_miss_walk", ...); see
 * mmsim_cost_list() for every name and its current value.                  */
int     mmsim_cost_set(struct mmsim_machine *m, const char *name, uint64_t ns);
ssize_t mmsim_cost_list(struct mmsim_machine *m, char *buf, size_t len);
/* Number of CPUs and NUMA nodes of the booted machine. */
unsigned int mmsim_nr_cpus(struct mmsim_machine *m);
unsigned int mmsim_nr_nodes(struct mmsim_machine *m);

/* -------------------------------------------------------------------- tasks */

int  mmsim_task_create(struct mmsim_machine *m, struct mmsim_task **out);
int  mmsim_fork(struct mmsim_task *parent, struct mmsim_task **child);
int  mmsim_thread_create(struct mmsim_task *t, struct mmsim_task **thread);
int  mmsim_task_set_cpu(struct mmsim_task *t, unsigned int cpu);
void mmsim_task_exit(struct mmsim_task *t);
int  mmsim_task_pid(struct mmsim_task *t);
/* Extensions: the thread group id, and whether the task was killed (OOM,
 * SIGKILL) - a killed task's calls fail with -ESRCH until it exits.        */
int  mmsim_task_tgid(struct mmsim_task *t);
int  mmsim_task_killed(struct mmsim_task *t);

/* ------------------------------------------------------------- system calls */

int64_t mmsim_mmap(struct mmsim_task *t, uint64_t addr, uint64_t len, int prot, int flags,
                   int fd, uint64_t off);
int     mmsim_munmap(struct mmsim_task *t, uint64_t addr, uint64_t len);
int     mmsim_mprotect(struct mmsim_task *t, uint64_t addr, uint64_t len, int prot);
int     mmsim_madvise(struct mmsim_task *t, uint64_t addr, uint64_t len, int advice);
int64_t mmsim_mremap(struct mmsim_task *t, uint64_t old, uint64_t old_len, uint64_t new_len,
                     int flags, uint64_t new_addr);
int     mmsim_memfd_create(struct mmsim_task *t, const char *name, unsigned int flags);
int     mmsim_ftruncate(struct mmsim_task *t, int fd, uint64_t len);
int     mmsim_fallocate(struct mmsim_task *t, int fd, int mode, uint64_t off, uint64_t len);
int     mmsim_close(struct mmsim_task *t, int fd);
int     mmsim_prctl(struct mmsim_task *t, int option, uint64_t a2, uint64_t a3,
                    uint64_t a4, uint64_t a5);
int     mmsim_userfaultfd(struct mmsim_task *t, int flags);
int     mmsim_ioctl(struct mmsim_task *t, int fd, unsigned long request, void *arg);
int64_t mmsim_read(struct mmsim_task *t, int fd, void *buf, uint64_t len);
int64_t mmsim_move_pages(struct mmsim_task *t, uint64_t count, const uint64_t *pages,
                         const int *nodes, int *status, int flags);
int     mmsim_set_mempolicy(struct mmsim_task *t, int mode, const uint64_t *nodemask,
                            uint64_t maxnode);
int     mmsim_mbind(struct mmsim_task *t, uint64_t addr, uint64_t len, int mode,
                    const uint64_t *nodemask, uint64_t maxnode, unsigned int flags);

/* userfaultfd structures, Linux's layouts */
struct mmsim_uffdio_api      { uint64_t api; uint64_t features; uint64_t ioctls; };
struct mmsim_uffdio_range    { uint64_t start; uint64_t len; };
struct mmsim_uffdio_register { struct mmsim_uffdio_range range; uint64_t mode; uint64_t ioctls; };
struct mmsim_uffdio_copy     { uint64_t dst; uint64_t src; uint64_t len; uint64_t mode;
                               int64_t copy; };
struct mmsim_uffdio_zeropage { struct mmsim_uffdio_range range; uint64_t mode; int64_t zeropage; };
struct mmsim_uffdio_writeprotect { struct mmsim_uffdio_range range; uint64_t mode; };
struct mmsim_uffdio_continue { struct mmsim_uffdio_range range; uint64_t mode; int64_t mapped; };
struct mmsim_uffd_msg {
	uint8_t event; uint8_t reserved1; uint16_t reserved2; uint32_t reserved3;
	union {
		struct { uint64_t flags; uint64_t address; union { uint32_t ptid; } feat; } pagefault;
		struct { uint64_t reserved1, reserved2, reserved3; } reserved;
	} arg;
};

/* ------------------------------------------------------------ memory access */

struct mmsim_siginfo { int signo; int code; uint64_t addr; };
enum { MMSIM_ACCESS_OK = 0, MMSIM_ACCESS_SIGNAL = 1, MMSIM_ACCESS_BLOCKED = 2 };

int mmsim_load (struct mmsim_task *t, uint64_t addr, void *dst, uint64_t len,
                struct mmsim_siginfo *si);
int mmsim_store(struct mmsim_task *t, uint64_t addr, const void *src, uint64_t len,
                struct mmsim_siginfo *si);
int mmsim_fill (struct mmsim_task *t, uint64_t addr, int byte, uint64_t len,
                struct mmsim_siginfo *si);
int mmsim_set_tag(struct mmsim_task *t, uint64_t tagged_addr, uint64_t len,
                  struct mmsim_siginfo *si);
int mmsim_get_tag(struct mmsim_task *t, uint64_t addr, unsigned int *tag,
                  struct mmsim_siginfo *si);
int mmsim_task_resume(struct mmsim_task *t, struct mmsim_siginfo *si);
/* Extension: IRG - a random logical tag for addr, honouring the task's
 * PR_MTE_TAG_MASK include mask and the 16-bit exclude mask.               */
int mmsim_irg(struct mmsim_task *t, uint64_t addr, uint64_t exclude, uint64_t *tagged);
/* Extension: send a signal.  SIGKILL kills the process at once, or, for a
 * task sleeping in the kernel (BLOCKED), when it wakes; until then it is a
 * pending fatal signal.                                                    */
int mmsim_kill(struct mmsim_task *t, int sig);

/* ------------------------------------------------- background work and time */

int      mmsim_run_daemon(struct mmsim_machine *m, const char *name);
int      mmsim_advance(struct mmsim_machine *m, uint64_t ns);
uint64_t mmsim_now(struct mmsim_machine *m);

/* -------------------------------------------------- pins and inspection */

int  mmsim_pin(struct mmsim_task *t, uint64_t addr, uint64_t len, unsigned int flags,
               struct mmsim_pin **out);
int  mmsim_pin_read(struct mmsim_pin *p, uint64_t off, void *dst, uint64_t len);
void mmsim_unpin(struct mmsim_pin *p);
int  mmsim_check(struct mmsim_machine *m, char *report, size_t len);

/* ------------------------------------------------------------------- events */

/*
 * One trace event.  name is "subsystem:event" as in tracefs
 * ("exceptions:page_fault_user", "kmem:mm_page_alloc", "tlb:tlb_flush", ...);
 * text is the event's fields formatted as the kernel's TP_printk would, and is
 * valid only during the callback.  Values that do not apply are 0 (pid -1).
 */
struct mmsim_event {
	uint64_t    ts;        /* simulated ns                                     */
	const char *name;      /* "subsystem:event"                                */
	int         cpu;       /* simulated CPU, -1 when not on a CPU               */
	int         pid;       /* task, -1 for the kernel itself                    */
	uint64_t    addr;      /* virtual address, when there is one                */
	uint64_t    pfn;       /* page frame, when there is one                     */
	unsigned int order;    /* allocation order, when there is one               */
	const char *text;      /* formatted fields                                  */
};
typedef void (*mmsim_trace_fn)(void *ctx, const struct mmsim_event *ev);
int mmsim_trace_subscribe(struct mmsim_machine *m, const char *pattern,
                          mmsim_trace_fn fn, void *ctx);
/* Extension: drop every subscription made with fn and ctx. */
int mmsim_trace_unsubscribe(struct mmsim_machine *m, mmsim_trace_fn fn, void *ctx);

/* ------------------------------------------- concurrency (extension) */

/*
 * Task bodies: fn plays task t as a program's thread would, calling this API
 * on t.  mmsim_spawn() queues a body (one per task); mmsim_run_tasks() runs
 * every queued body to completion and forgets them.
 *
 * Deterministic mode (the default): one body runs at a time and switches
 * happen only at scheduling points - every kernel lock acquire and release,
 * every kernel entry and user access, the annotated preemption points of the
 * fault path.  The policy and seed choose; the same options give the same
 * interleaving and the same event trace, byte for byte.  A body that sleeps
 * in the kernel (a migration entry, a userfaultfd) waits there instead of
 * returning MMSIM_ACCESS_BLOCKED.  mmsim_run_tasks() fails with -EDEADLK when
 * no body can go on (a deadlock, or a body returning with a lock held) and
 * -ELOOP after max_steps points (a livelock); mmsim_strerror_last() says
 * which tasks waited for what.
 *
 * Parallel mode: each body runs on its own host thread, all at once, and
 * bodies on different CPUs run kernel code at the same time.  The API may
 * also be called from the caller's own host threads (one task per host
 * thread) once the machine is in parallel mode: each call then runs as a
 * body for as long as it lasts.  In parallel mode no access takes the
 * TLB-hit fast path.
 */
enum { MMSIM_SCHED_DETERMINISTIC = 0, MMSIM_SCHED_PARALLEL = 1 };
enum { MMSIM_SCHED_RANDOM = 0, MMSIM_SCHED_PCT = 1 };
struct mmsim_sched_options {
	int mode;                  /* MMSIM_SCHED_DETERMINISTIC or _PARALLEL        */
	int policy;                /* MMSIM_SCHED_RANDOM or MMSIM_SCHED_PCT          */
	unsigned int pct_depth;    /* PCT: bug depth d, 1..8 (0 = 3)                 */
	uint64_t pct_steps;        /* PCT: expected scheduling points k (0 = 200)    */
	uint64_t seed;             /* the schedule's seed (machine seed at boot)     */
	uint64_t max_steps;        /* livelock bound (0 = 1,000,000)                 */
};
typedef void (*mmsim_task_fn)(struct mmsim_task *t, void *arg);
int mmsim_sched_set(struct mmsim_machine *m, const struct mmsim_sched_options *o);
int mmsim_sched_get(struct mmsim_machine *m, struct mmsim_sched_options *o);
int mmsim_spawn(struct mmsim_task *t, mmsim_task_fn fn, void *arg);
int mmsim_run_tasks(struct mmsim_machine *m);
/* Scheduling points passed by every run of this machine so far. */
uint64_t mmsim_sched_steps(struct mmsim_machine *m);
/*
 * Write the machine's event trace - every scheduling decision, lock
 * operation and trace event - to path as Chrome/Perfetto trace JSON (opens
 * in ui.perfetto.dev); mmsim_trace_file_close() or machine destruction ends
 * the file.  Only simulated quantities are written, so a deterministic run
 * writes the same bytes every time.
 */
int mmsim_trace_file(struct mmsim_machine *m, const char *path);
int mmsim_trace_file_close(struct mmsim_machine *m);

#ifdef __cplusplus
}
#endif
#endif /* MMSIM_H */
