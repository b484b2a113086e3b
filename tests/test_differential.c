// SPDX-License-Identifier: MIT
/*
 * tests/test_differential.c - random operation sequences checked step by step
 * against the reference model in tests/refmodel.c.
 *
 * Several simulated processes (up to MAX_PROCS, some with extra threads) run
 * random mmap / munmap / mprotect / madvise / mremap / memfd / fork / exit /
 * load / store / move_pages operations.  Addresses come from a small window
 * (WIN_PAGES pages) so that operations overlap, split and replace each other
 * all the time.  After every step the result (return value, bytes read, or
 * the signal: signo, si_code, si_addr) must equal the model's prediction and
 * mmsim_check() must report a consistent machine.
 *
 * Environment:
 *   MMSIM_DIFF_SEED=N      run only seed N (decimal or 0x-hex) instead of the
 *                          built-in seed list
 *   MMSIM_DIFF_OPS=N       operations per seed (default DEFAULT_OPS; the
 *                          built-in list runs NR_SEEDS * DEFAULT_OPS = 100,000
 *                          operations in total)
 *   MMSIM_DIFF_VERBOSE=1   print every operation and its result (the op log)
 *   MMSIM_DIFF_DTS=path    run on the machine this device tree describes
 *                          (the default run adds one seed on NUMA_DTS, a
 *                          two-node machine, when run from the source tree)
 *
 * A failure prints the seed, the step, the last LOG_RING operations, the
 * model's view of the process and the command that replays the same run:
 *   MMSIM_DIFF_SEED=0x2a MMSIM_DIFF_OPS=1234 MMSIM_DIFF_VERBOSE=1 \
 *       build/mmsim-tests differential_random
 * A run is a pure function of the seed (the machine is seeded with it too),
 * so the replay stops right at the failing step.
 *
 * Accesses never cross a page here: a split access may store its first part
 * before faulting on the second, which test_syscalls.c covers on its own.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

#include "harness.h"
#include "refmodel.h"
#include "kernel/splitmix64.h"

#define WIN_BASE	0x200000000ULL	/* 8 GiB: far from mmsim's own placements */
#define WIN_PAGES	64
#define WIN_MARGIN	16		/* ranges may run this many pages past the window */
#define MAX_PROCS	6
#define MAX_THREADS	3
#define MAX_FDS		4
#define LOG_RING	20
#define LOG_LEN		320
#define DEFAULT_OPS	12500
#define NR_SEEDS	8
#define NUMA_DTS	"examples/numa-4g.dts"	/* relative to the source tree */

static const uint64_t default_seeds[NR_SEEDS] = {
	1, 2, 3, 42, 0x5eed, 0xdeadbeef, 0x123456789, 0xfeedface,
};

struct dproc {
	struct ref_proc *ref;
	struct mmsim_task *tasks[MAX_THREADS];
	int nr_tasks;
};

struct diff {
	uint64_t seed, rng;
	long step, nr_ops;
	struct mmsim_machine *m;
	struct ref_model rm;
	struct dproc procs[MAX_PROCS];
	int nr_procs;
	unsigned int nr_nodes;
	bool verbose, failed, no_move_pages;
	char why[1024];
	char log[LOG_RING][LOG_LEN];
	char report[8192];
	uint8_t got[PAGE], want[PAGE], data[PAGE];
	long nr_signals, nr_errors, max_procs;
	int cur_proc;			/* model id of the process of this step */
	const char *dts;		/* machine description, NULL = built-in */
};

static uint64_t rnd(struct diff *d)
{
	return splitmix64(&d->rng);
}

static uint64_t below(struct diff *d, uint64_t n)
{
	return n ? rnd(d) % n : 0;
}

static bool chance(struct diff *d, unsigned int pct)
{
	return below(d, 100) < pct;
}

/* ------------------------------------------------------------------ op log */

static char *log_slot(struct diff *d)
{
	return d->log[d->step % LOG_RING];
}

static void __attribute__((format(printf, 2, 3))) logop(struct diff *d, const char *fmt, ...)
{
	char *s = log_slot(d);
	int n = snprintf(s, LOG_LEN, "step %ld: ", d->step);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s + n, LOG_LEN - n, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 2, 3))) logres(struct diff *d, const char *fmt, ...)
{
	char *s = log_slot(d);
	size_t n = strlen(s);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s + n, LOG_LEN - n, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 2, 3))) fail(struct diff *d, const char *fmt, ...)
{
	va_list ap;

	if (d->failed)
		return;
	d->failed = true;
	va_start(ap, fmt);
	vsnprintf(d->why, sizeof(d->why), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------- processes */

static bool in_window(uint64_t a)
{
	return a >= WIN_BASE && a < WIN_BASE + (WIN_PAGES + WIN_MARGIN) * PAGE;
}

static void add_proc(struct diff *d, struct ref_proc *ref, struct mmsim_task *t)
{
	struct dproc *dp = &d->procs[d->nr_procs++];

	memset(dp, 0, sizeof(*dp));
	dp->ref = ref;
	dp->tasks[0] = t;
	dp->nr_tasks = 1;
	if (d->nr_procs > d->max_procs)
		d->max_procs = d->nr_procs;
}

static bool new_process(struct diff *d)
{
	struct mmsim_task *t = NULL;
	int64_t r;
	int err = mmsim_task_create(d->m, &t);

	if (err) {
		fail(d, "mmsim_task_create = %d (%s)", err, mmsim_strerror_last());
		return false;
	}
	/*
	 * The window must be free in a fresh process, or the model (which
	 * only knows what the test mapped) would be wrong from the start.
	 */
	r = mmsim_mmap(t, WIN_BASE, (WIN_PAGES + WIN_MARGIN) * PAGE, MMSIM_PROT_NONE,
		       MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED_NOREPLACE, -1, 0);
	if (r != (int64_t)WIN_BASE ||
	    mmsim_munmap(t, WIN_BASE, (WIN_PAGES + WIN_MARGIN) * PAGE) != 0) {
		fail(d, "window %#llx is not free in a new process (mmap = %" PRId64 ")",
		     WIN_BASE, r);
		return false;
	}
	add_proc(d, ref_proc_create(&d->rm), t);
	return true;
}

static struct dproc *pick_proc(struct diff *d, int *ti)
{
	struct dproc *dp = &d->procs[below(d, d->nr_procs)];

	*ti = below(d, dp->nr_tasks);
	d->cur_proc = dp->ref->id;
	return dp;
}

static int pid_of(struct dproc *dp, int ti)
{
	return mmsim_task_pid(dp->tasks[ti]);
}

/* -------------------------------------------------------------- addresses */

struct target {
	uint64_t addr, lo, hi;	/* operations on it stay inside [lo, hi) */
};

static int nr_far(const struct ref_proc *p)
{
	int n = 0;

	for (int i = 0; i < p->nr_vmas; i++)
		n += !in_window(p->vmas[i].start);
	return n;
}

static const struct ref_vma *far_vma(const struct ref_proc *p, int k)
{
	for (int i = 0; i < p->nr_vmas; i++)
		if (!in_window(p->vmas[i].start) && k-- == 0)
			return &p->vmas[i];
	return NULL;
}

/*
 * Mostly a page of the window; sometimes a page of a mapping mmsim placed
 * elsewhere (a hint it could not honour, a moving mremap).  Around those the
 * address space may hold mappings the test does not know about (the stack,
 * say), so ranges there stay inside the mapping.
 */
static struct target pick_target(struct diff *d, const struct ref_proc *p)
{
	int nf = nr_far(p);
	struct target t;

	if (nf && chance(d, 15)) {
		const struct ref_vma *v = far_vma(p, below(d, nf));

		t.lo = v->start;
		t.hi = v->end;
		t.addr = v->start + below(d, (v->end - v->start) / PAGE) * PAGE;
		return t;
	}
	t.lo = WIN_BASE;
	t.hi = WIN_BASE + (WIN_PAGES + WIN_MARGIN) * PAGE;
	t.addr = WIN_BASE + below(d, WIN_PAGES) * PAGE;
	return t;
}

static uint64_t pick_len(struct diff *d, const struct target *t, uint64_t max_pages)
{
	uint64_t len = (1 + below(d, max_pages)) * PAGE;

	if (len > t->hi - t->addr)
		len = t->hi - t->addr;
	/* Linux rounds lengths up to a page; exercise that now and then. */
	if (chance(d, 5))
		len -= 1 + below(d, PAGE - 1);
	return len;
}

static int pick_prot(struct diff *d)
{
	uint64_t r = below(d, 100);

	if (r < 10)
		return MMSIM_PROT_NONE;
	if (r < 35)
		return MMSIM_PROT_READ;
	return MMSIM_PROT_READ | MMSIM_PROT_WRITE;
}

static const char *prot_str(int prot)
{
	static char s[4][8];
	static int k;
	char *b = s[k++ & 3];

	snprintf(b, 8, "%c%c%c%s", prot & MMSIM_PROT_READ ? 'r' : '-',
		 prot & MMSIM_PROT_WRITE ? 'w' : '-', prot & MMSIM_PROT_EXEC ? 'x' : '-',
		 prot & ~7 ? "?" : "");
	return b;
}

static void check_ret(struct diff *d, const char *what, int64_t got, int64_t want)
{
	if (got > 0xffff)
		logres(d, " = %#" PRIx64, (uint64_t)got);
	else
		logres(d, " = %" PRId64, got);
	if (got < 0)
		d->nr_errors++;
	if (got == -MMSIM_ENOSYS && want != -MMSIM_ENOSYS)
		fail(d, "%s: not implemented (-ENOSYS)", what);
	else if (want == REF_BAD_PLACEMENT)
		fail(d, "%s returned %#" PRIx64 ", which overlaps a mapping or is not a legal address",
		     what, (uint64_t)got);
	else if (got != want)
		fail(d, "%s returned %" PRId64 " (%#" PRIx64 "), Linux returns %" PRId64 " (%#" PRIx64 ")",
		     what, got, (uint64_t)got, want, (uint64_t)want);
}

/* --------------------------------------------------------------- syscalls */

static void op_mmap(struct diff *d)
{
	int ti;
	struct dproc *dp = pick_proc(d, &ti);
	struct ref_proc *p = dp->ref;
	struct target t = pick_target(d, p);
	int prot = pick_prot(d), flags = MMSIM_MAP_ANONYMOUS, fd = -1;
	uint64_t addr = t.addr, len, off = 0;
	uint64_t r = below(d, 100);
	const char *kind;
	int64_t got, want;

	/* New mappings go into the window; far ones only come from mmsim. */
	t.lo = WIN_BASE;
	t.hi = WIN_BASE + (WIN_PAGES + WIN_MARGIN) * PAGE;
	if (!in_window(addr))
		addr = WIN_BASE + below(d, WIN_PAGES) * PAGE;
	t.addr = addr;
	len = pick_len(d, &t, 8);
	if (r < 50) {
		kind = "anon-private";
		flags |= MMSIM_MAP_PRIVATE;
	} else if (r < 70 || !p->nr_fds) {
		kind = "anon-shared";
		flags |= MMSIM_MAP_SHARED;
	} else {
		fd = p->fds[below(d, p->nr_fds)].fd;
		flags = r < 90 ? MMSIM_MAP_SHARED : MMSIM_MAP_PRIVATE;
		kind = r < 90 ? "memfd-shared" : "memfd-private";
		off = below(d, 8) * PAGE;
		if (chance(d, 3))
			off += 1 + below(d, PAGE - 1);		/* -EINVAL */
		if (chance(d, 2))
			fd = 1000 + (int)below(d, 10);		/* -EBADF */
	}
	r = below(d, 100);
	if (r < 35)
		flags |= MMSIM_MAP_FIXED;
	else if (r < 45)
		flags |= MMSIM_MAP_FIXED_NOREPLACE;
	else if (r < 50)
		addr = 0;			/* the kernel's choice, far away */
	if (chance(d, 15))
		flags |= MMSIM_MAP_POPULATE;
	if (chance(d, 2))
		flags &= ~MMSIM_MAP_TYPE;	/* neither private nor shared */
	if (chance(d, 2))
		len = 0;
	logop(d, "p%d.%d mmap(%#" PRIx64 ", %#" PRIx64 ", %s, %#x %s, fd %d, off %#" PRIx64 ")",
	      p->id, pid_of(dp, ti), addr, len, prot_str(prot), flags, kind, fd, off);
	got = mmsim_mmap(dp->tasks[ti], addr, len, prot, flags, fd, off);
	want = ref_mmap(p, addr, len, prot, flags, fd, off, got);
	check_ret(d, "mmap", got, want);
}

/* Far mappings are only ever unmapped whole; keep their number bounded. */
static bool trim_far(struct diff *d, struct dproc *dp, int ti)
{
	const struct ref_vma *v;
	uint64_t start, len;

	if (nr_far(dp->ref) <= 6)
		return false;
	v = far_vma(dp->ref, 0);
	start = v->start;
	len = v->end - v->start;
	logop(d, "p%d.%d munmap(%#" PRIx64 ", %#" PRIx64 ") far", dp->ref->id, pid_of(dp, ti),
	      start, len);
	check_ret(d, "munmap", mmsim_munmap(dp->tasks[ti], start, len),
		  ref_munmap(dp->ref, start, len));
	return true;
}

static void op_munmap(struct diff *d)
{
	int ti;
	struct dproc *dp = pick_proc(d, &ti);
	struct target t;
	uint64_t addr, len;

	if (trim_far(d, dp, ti))
		return;
	t = pick_target(d, dp->ref);
	addr = t.addr;
	len = pick_len(d, &t, 10);
	if (chance(d, 3))
		addr += 1 + below(d, PAGE - 1);		/* -EINVAL */
	if (chance(d, 2))
		len = 0;				/* -EINVAL */
	logop(d, "p%d.%d munmap(%#" PRIx64 ", %#" PRIx64 ")", dp->ref->id, pid_of(dp, ti),
	      addr, len);
	check_ret(d, "munmap", mmsim_munmap(dp->tasks[ti], addr, len),
		  ref_munmap(dp->ref, addr, len));
}

static void op_mprotect(struct diff *d)
{
	int ti;
	struct dproc *dp = pick_proc(d, &ti);
	struct target t = pick_target(d, dp->ref);
	uint64_t addr = t.addr, len = pick_len(d, &t, 12);
	int prot = pick_prot(d);

	if (chance(d, 3))
		prot |= 0x40;				/* unknown bit: -EINVAL */
	if (chance(d, 2))
		addr += 1 + below(d, PAGE - 1);		/* -EINVAL */
	if (chance(d, 2))
		len = 0;				/* nothing to do: 0 */
	logop(d, "p%d.%d mprotect(%#" PRIx64 ", %#" PRIx64 ", %s)", dp->ref->id,
	      pid_of(dp, ti), addr, len, prot_str(prot));
	check_ret(d, "mprotect", mmsim_mprotect(dp->tasks[ti], addr, len, prot),
		  ref_mprotect(dp->ref, addr, len, prot));
}

/*
 * No MADV_RANDOM/SEQUENTIAL: they split VMAs over a flag the model does not
 * keep, and mremap's one-VMA rule would then see boundaries the model lacks.
 */
static const struct { int advice; const char *name; int weight; } advices[] = {
	{ MMSIM_MADV_DONTNEED, "DONTNEED", 30 },
	{ MMSIM_MADV_DONTFORK, "DONTFORK", 8 },
	{ MMSIM_MADV_DOFORK, "DOFORK", 8 },
	{ MMSIM_MADV_WIPEONFORK, "WIPEONFORK", 12 },
	{ MMSIM_MADV_KEEPONFORK, "KEEPONFORK", 5 },
	{ MMSIM_MADV_POPULATE_READ, "POPULATE_READ", 12 },
	{ MMSIM_MADV_POPULATE_WRITE, "POPULATE_WRITE", 12 },
	{ MMSIM_MADV_WILLNEED, "WILLNEED", 3 },
	{ 7, "unknown(7)", 2 },
	{ 77, "unknown(77)", 1 },
};

static void op_madvise(struct diff *d)
{
	int ti, total = 0, k = 0;
	struct dproc *dp = pick_proc(d, &ti);
	struct target t = pick_target(d, dp->ref);
	uint64_t addr = t.addr, len = pick_len(d, &t, 12);
	uint64_t r;

	for (size_t i = 0; i < sizeof(advices) / sizeof(advices[0]); i++)
		total += advices[i].weight;
	r = below(d, total);
	while (r >= (uint64_t)advices[k].weight)
		r -= advices[k++].weight;
	if (chance(d, 2))
		addr += 1 + below(d, PAGE - 1);		/* -EINVAL */
	logop(d, "p%d.%d madvise(%#" PRIx64 ", %#" PRIx64 ", %s)", dp->ref->id,
	      pid_of(dp, ti), addr, len, advices[k].name);
	check_ret(d, "madvise", mmsim_madvise(dp->tasks[ti], addr, len, advices[k].advice),
		  ref_madvise(dp->ref, addr, len, advices[k].advice));
}

/*
 * mremap's "the old range must lie in one VMA" depends on how Linux merged
 * neighbouring VMAs, which the model does not track.  Only ranges inside one
 * model mapping, or ranges with a hole (-EFAULT either way), are asked.
 */
static void op_mremap(struct diff *d)
{
	int ti;
	struct dproc *dp = pick_proc(d, &ti);
	struct ref_proc *p = dp->ref;
	uint64_t old, old_len, new_len, new_addr = 0, r = below(d, 100);
	int flags = 0;
	int64_t got, want;

	new_len = (1 + below(d, 10)) * PAGE;
	if (r < 80 && p->nr_vmas) {
		const struct ref_vma *v = &p->vmas[below(d, p->nr_vmas)];
		uint64_t np = (v->end - v->start) / PAGE, s = below(d, np);
		bool anon_private = !v->obj && !v->shared;

		old = v->start + s * PAGE;
		old_len = (1 + below(d, np - s)) * PAGE;
		r = below(d, 100);
		if (r < 40) {
			flags = MMSIM_MREMAP_MAYMOVE;
		} else if (r < 65) {
			flags = MMSIM_MREMAP_MAYMOVE | MMSIM_MREMAP_FIXED;
			new_addr = WIN_BASE + below(d, WIN_PAGES) * PAGE;
		} else if (r < 72 && anon_private) {
			/* DONTUNMAP: private anon only, as every Linux since 5.7 allows. */
			flags = MMSIM_MREMAP_MAYMOVE | MMSIM_MREMAP_DONTUNMAP;
			new_len = old_len;
			new_addr = WIN_BASE + below(d, WIN_PAGES) * PAGE;
			/*
			 * Without FIXED new_addr is only a hint; whether a
			 * hint overlapping the old range is -EINVAL differs
			 * between Linux versions, so that case is made FIXED
			 * (-EINVAL in all of them).
			 */
			if (chance(d, 50) ||
			    (new_addr < old + old_len && old < new_addr + new_len))
				flags |= MMSIM_MREMAP_FIXED;
		}
		/*
		 * Above a far mapping may lie a mapping the model does not
		 * know, so it may only shrink, or move into the window.
		 */
		if (!in_window(v->start) && !(flags & MMSIM_MREMAP_FIXED) &&
		    new_len > old_len)
			new_len = old_len - below(d, old_len / PAGE) * PAGE;
	} else if (r < 92) {
		/* Starting in a hole: -EFAULT. */
		old = WIN_BASE + below(d, WIN_PAGES) * PAGE;
		old_len = (1 + below(d, 4)) * PAGE;
		if (ref_find_vma(p, old))
			return;
		new_len = old_len + PAGE * (1 + below(d, 4));
		flags = chance(d, 50) ? MMSIM_MREMAP_MAYMOVE : 0;
	} else {
		/* Bad arguments: -EINVAL before anything is looked at. */
		old = WIN_BASE + below(d, WIN_PAGES) * PAGE;
		old_len = PAGE;
		r = below(d, 4);
		if (r == 0)
			flags = 8;
		else if (r == 1)
			flags = MMSIM_MREMAP_FIXED;
		else if (r == 2)
			old += 1 + below(d, PAGE - 1);
		else
			new_len = 0;
	}
	logop(d, "p%d.%d mremap(%#" PRIx64 ", %#" PRIx64 ", %#" PRIx64 ", %#x, %#" PRIx64 ")",
	      p->id, pid_of(dp, ti), old, old_len, new_len, flags, new_addr);
	got = mmsim_mremap(dp->tasks[ti], old, old_len, new_len, flags, new_addr);
	want = ref_mremap(p, old, old_len, new_len, flags, new_addr, got);
	check_ret(d, "mremap", got, want);
}

static void op_memfd(struct diff *d)
{
	int ti;
	struct dproc *dp = pick_proc(d, &ti);
	struct ref_proc *p = dp->ref;
	struct mmsim_task *t = dp->tasks[ti];
	uint64_t r = below(d, 100);

	if (r < 40 && p->nr_fds < MAX_FDS) {
		int fd;
		uint64_t size = (1 + below(d, 12)) * PAGE;

		logop(d, "p%d.%d memfd_create + ftruncate(%#" PRIx64 ")", p->id,
		      pid_of(dp, ti), size);
		fd = mmsim_memfd_create(t, "diff", chance(d, 50) ? MMSIM_MFD_CLOEXEC : 0);
		logres(d, " fd %d", fd);
		if (fd < 0 || ref_memfd_create(p, fd) != 0) {
			fail(d, "memfd_create returned %d (%s)", fd,
			     fd < 0 ? "an error" : "an fd that is already open");
			return;
		}
		check_ret(d, "ftruncate", mmsim_ftruncate(t, fd, size), ref_ftruncate(p, fd, size));
	} else if (r < 75 && p->nr_fds) {
		int fd = p->fds[below(d, p->nr_fds)].fd;
		/* Shrinking a mapped file makes pages past the end SIGBUS. */
		uint64_t size = below(d, 16) * PAGE;

		logop(d, "p%d.%d ftruncate(%d, %#" PRIx64 ")", p->id, pid_of(dp, ti), fd, size);
		check_ret(d, "ftruncate", mmsim_ftruncate(t, fd, size), ref_ftruncate(p, fd, size));
	} else {
		int fd = p->nr_fds && chance(d, 85) ? p->fds[below(d, p->nr_fds)].fd :
						      500 + (int)below(d, 10);

		logop(d, "p%d.%d close(%d)", p->id, pid_of(dp, ti), fd);
		check_ret(d, "close", mmsim_close(t, fd), ref_close(p, fd));
	}
}

static void op_fork(struct diff *d)
{
	int ti;
	struct dproc *dp = pick_proc(d, &ti);
	struct mmsim_task *child = NULL;
	int err;

	if (d->nr_procs == MAX_PROCS)
		return;
	logop(d, "p%d.%d fork", dp->ref->id, pid_of(dp, ti));
	err = mmsim_fork(dp->tasks[ti], &child);
	logres(d, " = %d", err);
	if (err || !child) {
		fail(d, "mmsim_fork = %d (%s)", err, mmsim_strerror_last());
		return;
	}
	add_proc(d, ref_fork(dp->ref), child);
	logres(d, " -> p%d pid %d", d->procs[d->nr_procs - 1].ref->id, mmsim_task_pid(child));
}

static void op_thread(struct diff *d)
{
	int ti;
	struct dproc *dp = pick_proc(d, &ti);
	struct mmsim_task *th = NULL;
	int err;

	if (dp->nr_tasks == MAX_THREADS)
		return;
	logop(d, "p%d.%d thread_create", dp->ref->id, pid_of(dp, ti));
	err = mmsim_thread_create(dp->tasks[ti], &th);
	logres(d, " = %d", err);
	if (err || !th) {
		fail(d, "mmsim_thread_create = %d (%s)", err, mmsim_strerror_last());
		return;
	}
	dp->tasks[dp->nr_tasks++] = th;
}

static void op_exit(struct diff *d)
{
	int ti;
	struct dproc *dp = pick_proc(d, &ti);

	/*
	 * A thread other than the leader exits alone; the leader exits only
	 * once it is the last task, so what happens to a process whose
	 * leader died before its threads never comes into question.
	 */
	if (dp->nr_tasks > 1)
		ti = 1 + (int)below(d, dp->nr_tasks - 1);
	logop(d, "p%d.%d exit", dp->ref->id, pid_of(dp, ti));
	mmsim_task_exit(dp->tasks[ti]);
	dp->tasks[ti] = dp->tasks[--dp->nr_tasks];
	if (dp->nr_tasks)
		return;
	/* The last thread took the address space with it. */
	ref_proc_exit(dp->ref);
	*dp = d->procs[--d->nr_procs];
	if (!d->nr_procs)
		new_process(d);
}

/* ----------------------------------------------------------------- access */

static void check_access(struct diff *d, const char *what, int got, const struct mmsim_siginfo *gsi,
			 int want, const struct mmsim_siginfo *wsi, bool load, uint64_t len)
{
	if (got == MMSIM_ACCESS_SIGNAL)
		logres(d, " = signal %d code %d addr %#" PRIx64, gsi->signo, gsi->code, gsi->addr);
	else
		logres(d, " = %d", got);
	if (want == MMSIM_ACCESS_SIGNAL)
		d->nr_signals++;
	if (got != want) {
		if (want == MMSIM_ACCESS_SIGNAL)
			fail(d, "%s: returned %d, Linux raises signal %d code %d at %#" PRIx64,
			     what, got, wsi->signo, wsi->code, wsi->addr);
		else
			fail(d, "%s: returned %d, Linux completes the access", what, got);
		return;
	}
	if (got == MMSIM_ACCESS_SIGNAL) {
		if (gsi->signo != wsi->signo || gsi->code != wsi->code || gsi->addr != wsi->addr)
			fail(d, "%s: signal %d code %d addr %#" PRIx64 ", Linux: signal %d code %d addr %#" PRIx64,
			     what, gsi->signo, gsi->code, gsi->addr, wsi->signo, wsi->code, wsi->addr);
		return;
	}
	if (got != MMSIM_ACCESS_OK) {
		fail(d, "%s: returned %d", what, got);
		return;
	}
	if (load && memcmp(d->got, d->want, len)) {
		uint64_t i = 0;

		while (d->got[i] == d->want[i])
			i++;
		fail(d, "%s: byte %" PRIu64 " reads %#x, expected %#x", what, i, d->got[i],
		     d->want[i]);
	}
}

static void pick_access(struct diff *d, const struct ref_proc *p, uint64_t *addr, uint64_t *len)
{
	struct target t = pick_target(d, p);
	uint64_t off;

	if (chance(d, 10)) {
		*addr = t.addr;
		*len = PAGE;
		return;
	}
	*len = 1 + below(d, chance(d, 80) ? 16 : 256);
	off = below(d, PAGE - *len + 1);
	*addr = t.addr + off;
}

static void op_load(struct diff *d)
{
	int ti, got, want;
	struct dproc *dp = pick_proc(d, &ti);
	struct mmsim_siginfo gsi = { 0 }, wsi = { 0 };
	uint64_t addr, len;

	pick_access(d, dp->ref, &addr, &len);
	logop(d, "p%d.%d load(%#" PRIx64 ", %" PRIu64 ")", dp->ref->id, pid_of(dp, ti), addr, len);
	memset(d->got, 0xa5, len);
	got = mmsim_load(dp->tasks[ti], addr, d->got, len, &gsi);
	want = ref_load(dp->ref, addr, d->want, len, &wsi);
	check_access(d, "load", got, &gsi, want, &wsi, true, len);
}

static void op_store(struct diff *d, bool fill)
{
	int ti, got, want;
	struct dproc *dp = pick_proc(d, &ti);
	struct mmsim_siginfo gsi = { 0 }, wsi = { 0 };
	uint64_t addr, len;
	int byte = (int)below(d, 256);

	pick_access(d, dp->ref, &addr, &len);
	if (fill) {
		memset(d->data, byte, len);
	} else {
		for (uint64_t i = 0; i < len; i += 8) {
			uint64_t x = rnd(d);

			memcpy(d->data + i, &x, len - i < 8 ? len - i : 8);
		}
	}
	logop(d, "p%d.%d %s(%#" PRIx64 ", %" PRIu64 ")", dp->ref->id, pid_of(dp, ti),
	      fill ? "fill" : "store", addr, len);
	if (fill)
		got = mmsim_fill(dp->tasks[ti], addr, byte, len, &gsi);
	else
		got = mmsim_store(dp->tasks[ti], addr, d->data, len, &gsi);
	want = ref_store(dp->ref, addr, d->data, len, &wsi);
	check_access(d, fill ? "fill" : "store", got, &gsi, want, &wsi, false, len);
}

/* Reads every page the process may have, whole, and compares. */
static void op_sweep(struct diff *d)
{
	int ti;
	struct dproc *dp = pick_proc(d, &ti);
	struct ref_proc *p = dp->ref;

	logop(d, "p%d.%d sweep", p->id, pid_of(dp, ti));
	for (uint64_t a = WIN_BASE; a < WIN_BASE + WIN_PAGES * PAGE && !d->failed; a += PAGE) {
		struct mmsim_siginfo gsi = { 0 }, wsi = { 0 };
		char what[64];
		int got = mmsim_load(dp->tasks[ti], a, d->got, PAGE, &gsi);
		int want = ref_load(p, a, d->want, PAGE, &wsi);

		snprintf(what, sizeof(what), "sweep load of page %#" PRIx64, a);
		check_access(d, what, got, &gsi, want, &wsi, true, PAGE);
		/* Keep the log line short: only the failing page's result matters. */
		log_slot(d)[LOG_LEN / 2] = 0;
	}
	for (int k = 0; k < nr_far(p) && !d->failed; k++) {
		const struct ref_vma *v = far_vma(p, k);

		for (uint64_t a = v->start; a < v->end && !d->failed; a += PAGE) {
			struct mmsim_siginfo gsi = { 0 }, wsi = { 0 };
			char what[64];
			int got = mmsim_load(dp->tasks[ti], a, d->got, PAGE, &gsi);
			int want = ref_load(p, a, d->want, PAGE, &wsi);

			snprintf(what, sizeof(what), "sweep load of page %#" PRIx64, a);
			check_access(d, what, got, &gsi, want, &wsi, true, PAGE);
			log_slot(d)[LOG_LEN / 2] = 0;
		}
	}
}

static void op_move_pages(struct diff *d)
{
	int ti, nodes[4], status[4];
	struct dproc *dp = pick_proc(d, &ti);
	uint64_t pages[4], n = 1 + below(d, 4);
	int node = d->nr_nodes > 1 ? (int)below(d, d->nr_nodes) : 0;
	int64_t got;

	if (d->no_move_pages)
		return;
	for (uint64_t i = 0; i < n; i++) {
		struct target t = pick_target(d, dp->ref);

		pages[i] = t.addr;
		nodes[i] = node;
		status[i] = 12345;
	}
	logop(d, "p%d.%d move_pages(%" PRIu64 " pages from %#" PRIx64 " to node %d)",
	      dp->ref->id, pid_of(dp, ti), n, pages[0], node);
	got = mmsim_move_pages(dp->tasks[ti], n, pages, nodes, status, MMSIM_MPOL_MF_MOVE);
	if (got > 0xffff)
		logres(d, " = %#" PRIx64, (uint64_t)got);
	else
		logres(d, " = %" PRId64, got);
	if (got == -MMSIM_ENOSYS) {
		/* Not there yet: say so once, keep testing the rest. */
		test_diag("mmsim_move_pages returns -ENOSYS; migration not tested");
		d->no_move_pages = true;
		return;
	}
	if (got < 0) {
		fail(d, "move_pages returned %" PRId64 ", Linux returns >= 0", got);
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		bool mapped = ref_find_vma(dp->ref, pages[i]) != NULL;

		/* Linux: an address without a VMA reports -EFAULT. */
		if (!mapped && status[i] != -MMSIM_EFAULT)
			fail(d, "move_pages: status[%" PRIu64 "] of unmapped %#" PRIx64 " is %d, Linux -EFAULT",
			     i, pages[i], status[i]);
		if (mapped && (status[i] == 12345 || status[i] >= (int)d->nr_nodes ||
			       status[i] < -MMSIM_EHWPOISON))
			fail(d, "move_pages: status[%" PRIu64 "] of %#" PRIx64 " is %d",
			     i, pages[i], status[i]);
	}
}

/* ------------------------------------------------------------------ driver */

static void step(struct diff *d)
{
	uint64_t r = below(d, 1000);

	if (r < 100)
		op_mmap(d);
	else if (r < 150)
		op_munmap(d);
	else if (r < 210)
		op_mprotect(d);
	else if (r < 280)
		op_madvise(d);
	else if (r < 330)
		op_mremap(d);
	else if (r < 360)
		op_memfd(d);
	else if (r < 380)
		op_fork(d);
	else if (r < 390)
		op_exit(d);
	else if (r < 397)
		op_thread(d);
	else if (r < 407)
		op_sweep(d);
	else if (r < 420)
		op_move_pages(d);
	else if (r < 650)
		op_load(d);
	else if (r < 970)
		op_store(d, false);
	else
		op_store(d, true);
}

/* mmsim's own view of the process: its /proc/self/maps, line by line. */
static void print_maps(struct diff *d, struct dproc *dp)
{
	static char maps[65536];
	ssize_t n = mmsim_proc_read(d->m, dp->tasks[0], "self/maps", maps, sizeof(maps) - 1);
	char *line, *save = NULL;

	if (n < 0) {
		test_diag("self/maps: %zd", n);
		return;
	}
	maps[n] = 0;
	test_diag("mmsim self/maps of p%d:", dp->ref->id);
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		test_diag("  %s", line);
}

static void report_failure(struct diff *d)
{
	char desc[4096];

	test_diag("differential: seed %#" PRIx64 " failed at step %ld: %s", d->seed, d->step, d->why);
	test_diag("last operations:");
	for (long s = d->step - LOG_RING + 1; s <= d->step; s++)
		if (s >= 0 && d->log[s % LOG_RING][0])
			test_diag("  %s", d->log[s % LOG_RING]);
	/* The process the failing step ran in, as the model sees it. */
	for (int i = 0; i < d->nr_procs; i++) {
		if (d->procs[i].ref->id != d->cur_proc)
			continue;
		ref_describe(d->procs[i].ref, desc, sizeof(desc));
		test_diag("model %s", desc);
		print_maps(d, &d->procs[i]);
	}
	test_diag("replay: MMSIM_DIFF_SEED=%#" PRIx64 " MMSIM_DIFF_OPS=%ld MMSIM_DIFF_VERBOSE=1 %s%s"
		  "build/mmsim-tests differential_random", d->seed, d->step + 1,
		  d->dts ? "MMSIM_DIFF_DTS=" : "", d->dts ? d->dts : "");
}

/* Returns true when the whole run matched the model. */
static bool run_seed(struct diff *d, uint64_t seed, long nr_ops, bool verbose, const char *dts)
{
	struct mmsim_options o = { .seed = seed, .devicetree = dts };
	int err;

	memset(d, 0, sizeof(*d));
	d->seed = seed;
	d->rng = seed;
	d->verbose = verbose;
	d->dts = dts;
	ref_model_init(&d->rm);
	err = mmsim_machine_create(&o, &d->m);
	if (err) {
		test_diag("mmsim_machine_create = %d: %s", err, mmsim_strerror_last());
		return false;
	}
	d->nr_nodes = mmsim_nr_nodes(d->m);
	if (!d->nr_nodes)
		d->nr_nodes = 1;
	new_process(d);
	for (d->step = 0; d->step < nr_ops && !d->failed; d->step++) {
		log_slot(d)[0] = 0;
		step(d);
		if (!d->failed && mmsim_check(d->m, d->report, sizeof(d->report)) != 0)
			fail(d, "mmsim_check: %s", d->report);
		if (d->verbose && log_slot(d)[0])
			test_diag("%s", log_slot(d));
	}
	if (d->failed) {
		d->step--;
		report_failure(d);
	} else {
		test_diag("seed %#" PRIx64 "%s%s: %ld ops ok (%ld signals, %ld errors, up to %ld processes, %u nodes)",
			  seed, dts ? " on " : "", dts ? dts : "", nr_ops, d->nr_signals, d->nr_errors,
			  d->max_procs, d->nr_nodes);
	}
	ref_model_free(&d->rm);
	mmsim_machine_destroy(d->m);
	d->m = NULL;
	return !d->failed;
}

static long env_long(const char *name, long def)
{
	const char *s = getenv(name);

	return s && *s ? strtol(s, NULL, 0) : def;
}

TEST(differential_random)
{
	static struct diff d;	/* large: keep it off the stack */
	const char *seed_env = getenv("MMSIM_DIFF_SEED");
	const char *dts = getenv("MMSIM_DIFF_DTS");
	long nr_ops = env_long("MMSIM_DIFF_OPS", DEFAULT_OPS);
	bool verbose = env_long("MMSIM_DIFF_VERBOSE", 0) != 0;
	int failures = 0;
	FILE *f;

	if (dts && !*dts)
		dts = NULL;
	if (seed_env && *seed_env) {
		failures += !run_seed(&d, strtoull(seed_env, NULL, 0), nr_ops, verbose, dts);
		EXPECT_EQ(failures, 0);
		return;
	}
	for (int i = 0; i < NR_SEEDS; i++)
		failures += !run_seed(&d, default_seeds[i], nr_ops, verbose, dts);
	/*
	 * The built-in machine has one node; migration between nodes gets
	 * one more seed on the two-node example machine when it is there.
	 */
	f = dts ? NULL : fopen(NUMA_DTS, "r");
	if (f) {
		fclose(f);
		failures += !run_seed(&d, 0x2a0de5, nr_ops, verbose, NUMA_DTS);
	}
	EXPECT_EQ(failures, 0);
}

/*
 * The model checked on its own, so that a failure of differential_random
 * can be told apart from a mistake in the model.
 */
TEST(differential_model_selftest)
{
	struct ref_model rm;
	struct ref_proc *p, *c;
	struct mmsim_siginfo si;
	uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, r[8];
	const uint64_t A = WIN_BASE;
	int fd = 3;

	ref_model_init(&rm);
	p = ref_proc_create(&rm);
	EXPECT_EQ(ref_mmap(p, A, 4 * PAGE, MMSIM_PROT_READ | MMSIM_PROT_WRITE,
			   MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED, -1, 0, 0), A);
	EXPECT_EQ(ref_load(p, A, r, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(r[3], 0);
	EXPECT_EQ(ref_store(p, A + PAGE, b, 8, &si), MMSIM_ACCESS_OK);
	c = ref_fork(p);
	b[0] = 99;
	EXPECT_EQ(ref_store(c, A + PAGE, b, 1, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(ref_load(p, A + PAGE, r, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(r[0], 1);
	EXPECT_EQ(ref_load(c, A + PAGE, r, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(r[0], 99);
	EXPECT_EQ(r[7], 8);

	/*
	 *   A       A+P     A+2P    A+3P    A+4P
	 *   |  rw   | hole  |  rw   |  rw   |
	 * mprotect(A, 4P, r): the first page changes, then -ENOMEM at the hole.
	 */
	EXPECT_EQ(ref_munmap(p, A + PAGE, PAGE), 0);
	EXPECT_EQ(ref_mprotect(p, A, 4 * PAGE, MMSIM_PROT_READ), -MMSIM_ENOMEM);
	EXPECT_EQ(ref_store(p, A, b, 1, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.code, MMSIM_SEGV_ACCERR);
	EXPECT_EQ(ref_store(p, A + 2 * PAGE, b, 1, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(ref_load(p, A + PAGE + 5, r, 1, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.code, MMSIM_SEGV_MAPERR);
	EXPECT_EQ(si.addr, A + PAGE + 5);
	/* PAGEOUT and COLD keep the bytes; a hole is still -ENOMEM. */
	EXPECT_EQ(ref_store(p, A + 2 * PAGE, b, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(ref_madvise(p, A + 2 * PAGE, 2 * PAGE, MMSIM_MADV_PAGEOUT), 0);
	EXPECT_EQ(ref_madvise(p, A, 4 * PAGE, MMSIM_MADV_COLD), -MMSIM_ENOMEM);
	EXPECT_EQ(ref_load(p, A + 2 * PAGE, r, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(r[0], 99);
	/* madvise over the hole still zaps the mapped part, then says -ENOMEM. */
	EXPECT_EQ(ref_madvise(p, A, 4 * PAGE, MMSIM_MADV_DONTNEED), -MMSIM_ENOMEM);
	EXPECT_EQ(ref_load(p, A + 2 * PAGE, r, 1, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(r[0], 0);

	/* A memfd mapped twice shares bytes; a private mapping copies on write. */
	EXPECT_EQ(ref_memfd_create(p, fd), 0);
	EXPECT_EQ(ref_ftruncate(p, fd, 2 * PAGE), 0);
	EXPECT_EQ(ref_mmap(p, A + 8 * PAGE, 2 * PAGE, MMSIM_PROT_READ | MMSIM_PROT_WRITE,
			   MMSIM_MAP_SHARED | MMSIM_MAP_FIXED, fd, 0, 0), A + 8 * PAGE);
	EXPECT_EQ(ref_mmap(p, A + 12 * PAGE, 3 * PAGE, MMSIM_PROT_READ | MMSIM_PROT_WRITE,
			   MMSIM_MAP_PRIVATE | MMSIM_MAP_FIXED, fd, 0, 0), A + 12 * PAGE);
	EXPECT_EQ(ref_store(p, A + 8 * PAGE, b, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(ref_load(p, A + 12 * PAGE, r, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(r[0], 99);
	EXPECT_EQ(ref_load(p, A + 14 * PAGE, r, 8, &si), MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.signo, MMSIM_SIGBUS);
	EXPECT_EQ(ref_close(p, fd), 0);
	EXPECT_EQ(ref_close(p, fd), -MMSIM_EBADF);

	/* mremap grows in place into free space, else moves. */
	EXPECT_EQ(ref_mremap(p, A + 2 * PAGE, 2 * PAGE, 3 * PAGE, 0, 0, 0), A + 2 * PAGE);
	EXPECT_EQ(ref_mremap(p, A + 2 * PAGE, 3 * PAGE, 8 * PAGE, 0, 0, 0), -MMSIM_ENOMEM);
	EXPECT_EQ(ref_mremap(p, A + 2 * PAGE, 3 * PAGE, 8 * PAGE, MMSIM_MREMAP_MAYMOVE, 0,
			     A + 40 * PAGE), A + 40 * PAGE);
	EXPECT_EQ(ref_load(p, A + 40 * PAGE, r, 1, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(ref_load(p, A + 2 * PAGE, r, 1, &si), MMSIM_ACCESS_SIGNAL);
	ref_model_free(&rm);
}
