/* SPDX-License-Identifier: MIT */
/*
 * tools/experiment.c - `mmsim experiment tag-storage`: what dynamic tag
 * storage reuse buys, and what it costs, as the share of PROT_MTE memory
 * grows (the reviewers' question of spec §6.2 A).
 *
 * Design.  One point of the sweep is one policy (mte_tag_storage=rfc-v1,
 * cma or static) and one PROT_MTE fraction f, run on a freshly booted
 * machine, so points are independent and the sweep is the same whatever
 * order they run in.  The workload of a point:
 *
 *   1. fill      4 worker processes map W = 3/4 of MemTotal in 4 MiB
 *                anonymous chunks, chunk i in process i % 4, and store 8
 *                bytes in every page (one write fault each).  A fraction f
 *                of the chunks is tagged, chosen from a seeded permutation
 *                so a larger f tags a superset of the chunks of a smaller
 *                one and every policy sees the same chunks: three in four
 *                of them are mapped PROT_MTE, the fourth is mapped untagged
 *                ("late-tagged") and turned PROT_MTE in step 4.
 *   2. pressure  a fifth process maps MemTotal of untagged memory, fills in
 *                its page tables first (one store every 2 MiB, so that the
 *                model, which like Linux never compacts for an order-0
 *                request, does not run out of unmovable pages for page
 *                tables before the data pages are used up) and then writes page after page
 *                until the first OOM kill.  "Usable memory" is the anonymous
 *                memory held by all processes just before it (to 256 KiB).
 *   3. refill    the pressure process is gone (it is the largest, so the OOM
 *                killer chose it); a sixth one writes untagged memory up to
 *                12 MiB below the point where the OOM came, so the carve-out
 *                again holds data wherever the policy lends it out.
 *   4. retag     the late-tagged chunks are mprotect'ed PROT_MTE and every
 *                page is written again: fault-on-access (METADATA_NONE) where
 *                the policy has it, and tag blocks that now hold data must be
 *                emptied, by migration, before they can hold tags.
 *
 * Figures (one CSV row per policy x fraction): usable memory; the tag
 * blocks reserved (metadata_reserve_success, in pages); migrations
 * (pgmigrate_success) per MiB of tagged memory; and the simulated fault cost,
 * mmsim_now() over the pgfault delta of steps 1 and 4 (the workload's own
 * faults).  Everything comes from the simulated machine, so the same seed
 * gives the same CSV byte for byte; host time is only printed.
 *
 * Points run in forked host processes (--jobs), each booting its own
 * machine and sending its figures back through a pipe.  The plot is an SVG
 * written by hand: four panels against the PROT_MTE fraction, one line per
 * policy.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mmsim.h"
#include "kernel/splitmix64.h"	/* the chunk permutation's own generator */

#define EXIT_USAGE	2
#define KIB		1024ULL
#define MIB		(1024ULL * 1024ULL)
#define PAGE		4096ULL
#define CHUNK		(4 * MIB)	/* fill chunk                               */
#define NR_WORKERS	4		/* processes of the fill                    */
#define CHECK_PAGES	64		/* pressure: OOM check every 256 KiB        */
#define SAMPLE_PAGES	256		/* meminfo sample every 1 MiB               */
#define REFILL_MARGIN	(12 * MIB)	/* refill stops this far below the OOM      */
#define MAX_STEPS	101
#define ERR_LEN		256

static const char *const policies[] = { "rfc-v1", "cma", "static" };
#define NR_POLICIES	3

/* The options of one run. */
struct exp_cfg {
	const char *out;		/* output directory                         */
	const char *devicetree;		/* NULL: the built-in machine               */
	unsigned int steps;		/* fractions 0 .. 1 in steps - 1 intervals  */
	uint64_t seed;
	unsigned int jobs;		/* points running at once                   */
	int quick;
};

/* The figures of one point; plain numbers, so a child can send it whole. */
struct point {
	int policy;
	double fraction;
	int ok;
	char err[ERR_LEN];
	uint64_t memtotal_kb, metadata_total_kb;
	uint64_t tagged_pages, untagged_pages;	/* step 1, late-tagged counted as tagged */
	uint64_t usable_pages;			/* anon held before the first OOM        */
	uint64_t used_hw_kb;			/* MemTotal - MemFree high-water          */
	uint64_t metadata_free_min_kb;
	int64_t reserve_success, reserve_fail, reserve_free, migrations;
	uint64_t fill_faults, fill_ns, retag_faults, retag_ns;
	int worker_killed;			/* the OOM killer chose a worker          */
	int retag_oom;				/* an OOM kill during steps 3 or 4        */
};

/* Everything one point needs while it runs. */
struct run {
	struct mmsim_machine *m;
	struct point *p;
	uint64_t held_pages;			/* written pages of live processes        */
	int64_t oom0;				/* oom_kill at the start of a phase        */
};

/* Per-chunk plan of the fill. */
enum { C_UNTAGGED, C_TAGGED, C_LATE };

/* -------------------------------------------------------------- helpers */

/* Record why a point failed; the first reason wins. */
static int point_fail(struct point *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* A meminfo field in kB, or -1 when absent. */
static int64_t meminfo_kb(struct mmsim_machine *m, const char *key)
{
	char buf[8192], *s;
	size_t klen = strlen(key);
	ssize_t n;

	n = mmsim_proc_read(m, NULL, "meminfo", buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (s = buf; s; s = strchr(s, '\n')) {
		if (*s == '\n')
			s++;
		if (!strncmp(s, key, klen) && s[klen] == ':')
			return strtoll(s + klen + 1, NULL, 10);
	}
	return -1;
}

/* A vmstat counter, 0 when the model does not have it. */
static int64_t vmstat(struct mmsim_machine *m, const char *name)
{
	int64_t v = mmsim_vmstat(m, name);

	return v < 0 ? 0 : v;
}

/* Sample MemTotal - MemFree and MetadataFree for the high/low-water marks. */
static void sample_meminfo(struct run *r)
{
	struct point *p = r->p;
	int64_t fr = meminfo_kb(r->m, "MemFree"), mf = meminfo_kb(r->m, "MetadataFree");

	if (fr >= 0 && (uint64_t)fr <= p->memtotal_kb && p->memtotal_kb - (uint64_t)fr > p->used_hw_kb)
		p->used_hw_kb = p->memtotal_kb - (uint64_t)fr;
	if (mf >= 0 && (uint64_t)mf < p->metadata_free_min_kb)
		p->metadata_free_min_kb = (uint64_t)mf;
}

/* Whether an OOM kill happened since the phase began. */
static int oom_seen(struct run *r)
{
	return vmstat(r->m, "oom_kill") != r->oom0;
}

/*
 * Store 8 bytes in each page of [a, a + len) as task t.  Returns the pages
 * written; stops early (and returns what was written) when the store is
 * refused - for a task the OOM killer chose, SIGKILL.
 */
static uint64_t touch(struct mmsim_task *t, uint64_t a, uint64_t len, uint64_t stride)
{
	struct mmsim_siginfo si;
	uint64_t off, n = 0;

	for (off = 0; off < len; off += stride) {
		uint64_t v = a + off;

		if (mmsim_store(t, a + off, &v, sizeof(v), &si) != MMSIM_ACCESS_OK)
			break;
		n++;
	}
	return n;
}

/* ---------------------------------------------------------------- a point */

/*
 * Step 2 or 3: a new process writes untagged memory page by page until the
 * first OOM kill, or until it has written limit pages.  Its page tables are
 * filled in first.  Returns the pages it wrote before the OOM check that saw
 * the kill; *task is the process (NULL once it exited).
 */
static uint64_t pressure(struct run *r, uint64_t limit, struct mmsim_task **task, int *oom)
{
	struct mmsim_machine *m = r->m;
	uint64_t len = limit * PAGE, off, done = 0;
	struct mmsim_task *t;
	int64_t a;

	*oom = 0;
	*task = NULL;
	if (mmsim_task_create(m, &t))
		return point_fail(r->p, "mmsim_task_create: %s", mmsim_strerror_last()), 0;
	*task = t;
	a = mmsim_mmap(t, 0, len, MMSIM_PROT_READ | MMSIM_PROT_WRITE,
		       MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_NORESERVE, -1, 0);
	if (a < 0)
		return point_fail(r->p, "pressure mmap of %" PRIu64 " MiB: %" PRId64 " (%s)",
				  len / MIB, a, mmsim_strerror_last()), 0;
	mmsim_madvise(t, (uint64_t)a, len, MMSIM_MADV_NOHUGEPAGE);
	r->oom0 = vmstat(m, "oom_kill");
	/* Page tables first: one page in every 2 MiB. */
	done = touch(t, (uint64_t)a, len, 512 * PAGE);
	if (oom_seen(r)) {
		*oom = 1;
		return 0;
	}
	r->held_pages += done;
	for (off = 0; off < len; off += CHECK_PAGES * PAGE) {
		uint64_t n, i;

		/* the pages of the first pass are written already */
		for (i = 0, n = 0; i < CHECK_PAGES && off + i * PAGE < len; i++) {
			struct mmsim_siginfo si;
			uint64_t v = off + i * PAGE;

			if (((off / PAGE) + i) % 512 == 0)
				continue;
			if (mmsim_store(t, (uint64_t)a + v, &v, sizeof(v), &si) != MMSIM_ACCESS_OK)
				break;
			n++;
		}
		if (oom_seen(r) || mmsim_task_killed(t)) {
			*oom = 1;
			break;
		}
		done += n;
		r->held_pages += n;
		if (((off / PAGE) / CHECK_PAGES) % (SAMPLE_PAGES / CHECK_PAGES) == 0)
			sample_meminfo(r);
		if (done >= limit)
			break;
	}
	sample_meminfo(r);
	return done;
}

/*
 * Run one point: boot the machine with the policy, then the four steps of
 * the file comment.  Fills in p; p->ok says whether it ran to the end.
 */
static void run_point(const struct exp_cfg *c, struct point *p)
{
	struct mmsim_options opt = { .devicetree = c->devicetree, .seed = c->seed };
	struct mmsim_task *workers[NR_WORKERS] = { 0 }, *pt = NULL, *rt = NULL;
	uint64_t nchunks, ntag, i, rng, *addr = NULL, used, now0, f0;
	unsigned char *kind = NULL;
	uint32_t *perm = NULL;
	char bootargs[64];
	struct run r = { .p = p };
	int64_t rs0, rf0, rfree0, mg0;
	int oom, w;

	snprintf(bootargs, sizeof(bootargs), "mte_tag_storage=%s", policies[p->policy]);
	opt.bootargs = bootargs;
	if (mmsim_machine_create(&opt, &r.m)) {
		point_fail(p, "boot with %s: %s", bootargs, mmsim_strerror_last());
		return;
	}
	p->memtotal_kb = (uint64_t)meminfo_kb(r.m, "MemTotal");
	p->metadata_total_kb = (uint64_t)(meminfo_kb(r.m, "MetadataTotal") < 0 ? 0 :
					  meminfo_kb(r.m, "MetadataTotal"));
	p->metadata_free_min_kb = UINT64_MAX;
	sample_meminfo(&r);
	rs0 = vmstat(r.m, "metadata_reserve_success");
	rf0 = vmstat(r.m, "metadata_reserve_fail");
	rfree0 = vmstat(r.m, "metadata_reserve_free");
	mg0 = vmstat(r.m, "pgmigrate_success");

	/* The plan: which chunks are tagged, from a permutation of the seed. */
	nchunks = p->memtotal_kb * KIB * 3 / 4 / CHUNK;
	ntag = (uint64_t)llround(p->fraction * (double)nchunks);
	kind = calloc(nchunks, 1);
	perm = calloc(nchunks, sizeof(*perm));
	addr = calloc(nchunks, sizeof(*addr));
	if (!kind || !perm || !addr) {
		point_fail(p, "out of host memory");
		goto out;
	}
	rng = c->seed ^ 0x746167ULL;
	for (i = 0; i < nchunks; i++)
		perm[i] = (uint32_t)i;
	for (i = nchunks; i > 1; i--) {
		uint64_t j = splitmix64(&rng) % i;
		uint32_t tmp = perm[i - 1];

		perm[i - 1] = perm[j];
		perm[j] = tmp;
	}
	for (i = 0; i < ntag; i++)
		kind[perm[i]] = i % 4 == 3 ? C_LATE : C_TAGGED;

	/* 1. fill */
	for (w = 0; w < NR_WORKERS; w++)
		if (mmsim_task_create(r.m, &workers[w])) {
			point_fail(p, "mmsim_task_create: %s", mmsim_strerror_last());
			goto out;
		}
	r.oom0 = vmstat(r.m, "oom_kill");
	now0 = mmsim_now(r.m);
	f0 = (uint64_t)vmstat(r.m, "pgfault");
	for (i = 0; i < nchunks; i++) {
		struct mmsim_task *t = workers[i % NR_WORKERS];
		int prot = MMSIM_PROT_READ | MMSIM_PROT_WRITE |
			   (kind[i] == C_TAGGED ? MMSIM_PROT_MTE : 0);
		int64_t a = mmsim_mmap(t, 0, CHUNK, prot, MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS,
				       -1, 0);

		if (a < 0) {
			point_fail(p, "fill mmap: %" PRId64 " (%s)", a, mmsim_strerror_last());
			goto out;
		}
		addr[i] = (uint64_t)a;
		mmsim_madvise(t, addr[i], CHUNK, MMSIM_MADV_NOHUGEPAGE);
		if (touch(t, addr[i], CHUNK, PAGE) != CHUNK / PAGE || oom_seen(&r)) {
			point_fail(p, "out of memory during the fill (chunk %" PRIu64 " of %" PRIu64 ")",
				   i, nchunks);
			goto out;
		}
		if (kind[i] == C_UNTAGGED)
			p->untagged_pages += CHUNK / PAGE;
		else
			p->tagged_pages += CHUNK / PAGE;
		r.held_pages += CHUNK / PAGE;
	}
	p->fill_ns = mmsim_now(r.m) - now0;
	p->fill_faults = (uint64_t)vmstat(r.m, "pgfault") - f0;
	sample_meminfo(&r);

	/* 2. pressure, up to MemTotal (the cap) or the first OOM kill */
	used = pressure(&r, p->memtotal_kb * KIB / PAGE, &pt, &oom);
	if (p->err[0])
		goto out;
	p->usable_pages = r.held_pages;
	for (w = 0; w < NR_WORKERS; w++)
		p->worker_killed |= mmsim_task_killed(workers[w]);
	if (p->worker_killed) {
		point_fail(p, "the OOM killer chose a fill process, not the pressure one");
		goto out;
	}
	r.held_pages -= used;
	mmsim_task_exit(pt);
	pt = NULL;

	/* 3. refill to just below the OOM point */
	if (oom && used * PAGE > REFILL_MARGIN) {
		pressure(&r, used - REFILL_MARGIN / PAGE, &rt, &oom);
		if (p->err[0])
			goto out;
		p->retag_oom |= oom;
	}

	/* 4. retag: mprotect(PROT_MTE) and write the late-tagged chunks again;
	 * the time is taken around the stores only, as in step 1 */
	r.oom0 = vmstat(r.m, "oom_kill");
	f0 = (uint64_t)vmstat(r.m, "pgfault");
	for (i = 0; i < nchunks; i++) {
		struct mmsim_task *t = workers[i % NR_WORKERS];
		int rc;

		if (kind[i] != C_LATE || mmsim_task_killed(t))
			continue;
		rc = mmsim_mprotect(t, addr[i], CHUNK, MMSIM_PROT_READ | MMSIM_PROT_WRITE |
				    MMSIM_PROT_MTE);
		if (rc) {
			point_fail(p, "mprotect(PROT_MTE): %d (%s)", rc, mmsim_strerror_last());
			goto out;
		}
		now0 = mmsim_now(r.m);
		touch(t, addr[i], CHUNK, PAGE);
		p->retag_ns += mmsim_now(r.m) - now0;
	}
	p->retag_faults = (uint64_t)vmstat(r.m, "pgfault") - f0;
	p->retag_oom |= oom_seen(&r);
	sample_meminfo(&r);

	p->reserve_success = vmstat(r.m, "metadata_reserve_success") - rs0;
	p->reserve_fail = vmstat(r.m, "metadata_reserve_fail") - rf0;
	p->reserve_free = vmstat(r.m, "metadata_reserve_free") - rfree0;
	p->migrations = vmstat(r.m, "pgmigrate_success") - mg0;
	if (p->metadata_free_min_kb == UINT64_MAX)
		p->metadata_free_min_kb = 0;
	p->ok = 1;
out:
	if (rt)
		mmsim_task_exit(rt);
	if (pt)
		mmsim_task_exit(pt);
	for (w = 0; w < NR_WORKERS; w++)
		if (workers[w])
			mmsim_task_exit(workers[w]);
	mmsim_machine_destroy(r.m);
	free(kind);
	free(perm);
	free(addr);
}

/* ------------------------------------------------------- running points */

/* Read exactly len bytes from fd; 0 on success. */
static int read_all(int fd, void *buf, size_t len)
{
	char *b = buf;

	while (len) {
		ssize_t n = read(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write exactly len bytes to fd; 0 on success. */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *b = buf;

	while (len) {
		ssize_t n = write(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A point in flight: its child and the read end of its pipe. */
struct slot {
	pid_t pid;
	int fd;
	size_t idx;
};

/*
 * Collect the point of the slot whose child exited: the child wrote it to
 * the pipe before exiting, so it is all there (it is far below PIPE_BUF
 * times a few, and the child never blocks on a full pipe).
 */
static void collect(struct slot *s, struct point *pts)
{
	struct point got;
	size_t idx = s->idx;

	if (read_all(s->fd, &got, sizeof(got)) == 0 && got.policy == pts[idx].policy)
		pts[idx] = got;
	else
		point_fail(&pts[idx], "the worker process died (signal or crash)");
	close(s->fd);
	s->pid = 0;
}

/*
 * Run every point, up to c->jobs at a time, each in a forked process that
 * boots its own machine.  With one job, points run in this process.
 */
static void run_all(const struct exp_cfg *c, struct point *pts, size_t n)
{
	struct slot slots[16] = { { 0 } };
	size_t next = 0, done = 0, k;
	unsigned int jobs = c->jobs > 16 ? 16 : c->jobs;
	int tty = isatty(STDERR_FILENO);

	if (jobs <= 1) {
		for (k = 0; k < n; k++) {
			run_point(c, &pts[k]);
			if (tty)
				fprintf(stderr, "\rmmsim experiment: %zu/%zu points", k + 1, n);
		}
		if (tty)
			fputc('\n', stderr);
		return;
	}
	fflush(stdout);
	fflush(stderr);
	while (done < n) {
		for (k = 0; k < jobs && next < n; k++) {
			int fds[2];

			if (slots[k].pid)
				continue;
			if (pipe(fds)) {
				point_fail(&pts[next++], "pipe: %s", strerror(errno));
				done++;
				continue;
			}
			slots[k].idx = next;
			slots[k].pid = fork();
			if (slots[k].pid == 0) {
				close(fds[0]);
				run_point(c, &pts[next]);
				_exit(write_all(fds[1], &pts[next], sizeof(pts[next])) ? 1 : 0);
			}
			close(fds[1]);
			if (slots[k].pid < 0) {
				close(fds[0]);
				slots[k].pid = 0;
				point_fail(&pts[next++], "fork: %s", strerror(errno));
				done++;
				continue;
			}
			slots[k].fd = fds[0];
			next++;
		}
		/* wait for any child, then collect the slot it held */
		{
			int status;
			pid_t pid;

			do
				pid = wait(&status);
			while (pid < 0 && errno == EINTR);
			for (k = 0; k < jobs; k++) {
				if (slots[k].pid && (pid < 0 || slots[k].pid == pid)) {
					collect(&slots[k], pts);
					done++;
					if (tty)
						fprintf(stderr, "\rmmsim experiment: %zu/%zu points",
							done, n);
					break;
				}
			}
		}
	}
	if (tty)
		fputc('\n', stderr);
}

/* ------------------------------------------------------------- figures */

/* Pages to MiB. */
static double pages_mib(uint64_t pages)
{
	return (double)(pages * PAGE) / (double)MIB;
}

/* Migrations per MiB of tagged memory, 0 without tagged memory. */
static double migr_per_mib(const struct point *p)
{
	return p->tagged_pages ? (double)p->migrations / pages_mib(p->tagged_pages) : 0.0;
}

/* Simulated ns per fault over the fill and the retag (steps 1 and 4). */
static double ns_per_fault(const struct point *p)
{
	uint64_t f = p->fill_faults + p->retag_faults;

	return f ? (double)(p->fill_ns + p->retag_ns) / (double)f : 0.0;
}

/* ns per fault of one step, 0 when it took no fault. */
static double step_ns(uint64_t ns, uint64_t faults)
{
	return faults ? (double)ns / (double)faults : 0.0;
}

/* The four plotted figures of a point, by panel. */
static double figure(const struct point *p, int panel)
{
	switch (panel) {
	case 0:
		return pages_mib(p->usable_pages);
	case 1:
		return (double)p->reserve_success;
	case 2:
		return migr_per_mib(p);
	default:
		return ns_per_fault(p);
	}
}

/* Write the CSV: a header naming units, then one row per point. */
static int write_csv(const char *path, const struct point *pts, size_t n)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (!f)
		return -errno;
	fprintf(f, "policy,prot_mte_fraction,memtotal_mib,metadata_total_mib,tagged_mib,"
		   "untagged_mib,usable_mib,used_highwater_mib,metadata_free_min_mib,"
		   "metadata_reserve_success_pages,metadata_reserve_fail_pages,"
		   "metadata_reserve_free_pages,pgmigrate_success_pages,migrations_per_tagged_mib,"
		   "fill_faults,fill_ns_per_fault,retag_faults,retag_ns_per_fault,ns_per_fault,"
		   "oom_during_refill_or_retag,error\n");
	for (i = 0; i < n; i++) {
		const struct point *p = &pts[i];

		fprintf(f, "%s,%.4f,", policies[p->policy], p->fraction);
		if (!p->ok) {
			fprintf(f, ",,,,,,,,,,,,,,,,,,\"%s\"\n", p->err);
			continue;
		}
		fprintf(f, "%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%" PRId64 ",%" PRId64 ",%" PRId64
			   ",%" PRId64 ",%.4f,%" PRIu64 ",%.1f,%" PRIu64 ",%.1f,%.1f,%d,\n",
			(double)p->memtotal_kb / 1024.0, (double)p->metadata_total_kb / 1024.0,
			pages_mib(p->tagged_pages), pages_mib(p->untagged_pages),
			pages_mib(p->usable_pages), (double)p->used_hw_kb / 1024.0,
			(double)p->metadata_free_min_kb / 1024.0, p->reserve_success,
			p->reserve_fail, p->reserve_free, p->migrations, migr_per_mib(p),
			p->fill_faults, step_ns(p->fill_ns, p->fill_faults), p->retag_faults,
			step_ns(p->retag_ns, p->retag_faults), ns_per_fault(p), p->retag_oom);
	}
	if (fclose(f))
		return -errno;
	return 0;
}

/* ------------------------------------------------------------------ SVG */

static const char *const colors[NR_POLICIES] = { "#d62728", "#1f77b4", "#2ca02c" };
/* rfc-v1 and cma often coincide: cma is dashed so both stay visible. */
static const char *const dashes[NR_POLICIES] = { "none", "7,4", "none" };
static const char *const panel_title[4] = {
	"usable memory (MiB)", "tag blocks reserved (pages)",
	"migrations per tagged MiB", "simulated ns per fault",
};

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about 5 ticks. */
static double nice_step(double range)
{
	double raw = range / 5.0, mag, r;

	if (raw <= 0.0)
		return 1.0;
	mag = pow(10.0, floor(log10(raw)));
	r = raw / mag;
	return (r <= 1.0 ? 1.0 : r <= 2.0 ? 2.0 : r <= 5.0 ? 5.0 : 10.0) * mag;
}

/* A tick label: no decimals for whole numbers, else as few as needed. */
static void tick_label(char *buf, size_t len, double v, double step)
{
	if (step >= 1.0 || fabs(v - round(v)) < 1e-9)
		snprintf(buf, len, "%.0f", v);
	else if (step >= 0.1)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.2f", v);
}

/*
 * One panel at (x0, y0) of size w x h: axes, ticks, grid, title and one
 * polyline per policy.  The y axis starts at 0 unless every value is far
 * from it (usable memory), where a zero would flatten the differences.
 */
static void svg_panel(FILE *f, int panel, double x0, double y0, double w, double h,
		      const struct point *pts, size_t n)
{
	double lo = INFINITY, hi = -INFINITY, step, ymin, ymax, v, px, py;
	const double ml = 62, mr = 26, mt = 28, mb = 42;
	double pw = w - ml - mr, ph = h - mt - mb;
	char lab[32];
	size_t i;
	int pol, k;

	for (i = 0; i < n; i++) {
		if (!pts[i].ok)
			continue;
		v = figure(&pts[i], panel);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	if (lo > hi)
		lo = hi = 0.0;
	if (lo > 0.0 && lo > 0.6 * hi) {
		step = nice_step(hi - lo > 0 ? hi - lo : hi * 0.05 + 1);
		ymin = floor(lo / step) * step;
		if (ymin == lo)
			ymin -= step;
	} else {
		step = nice_step(hi > 0 ? hi : 1.0);
		ymin = 0.0;
	}
	ymax = ceil(hi / step) * step;
	if (ymax <= ymin)
		ymax = ymin + step;
	step = nice_step(ymax - ymin);

	fprintf(f, "<g transform=\"translate(%.0f,%.0f)\">\n", x0, y0);
	fprintf(f, "<text x=\"%.1f\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" "
		   "font-weight=\"bold\">%s</text>\n", ml + pw / 2, panel_title[panel]);
	/* grid and y ticks */
	for (v = ymin; v <= ymax + step * 1e-6; v += step) {
		py = mt + ph - (v - ymin) / (ymax - ymin) * ph;
		tick_label(lab, sizeof(lab), v, step);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n",
			ml, py, ml + pw, py);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
			ml - 4, py, ml, py);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%s</text>\n",
			ml - 7, py + 4, lab);
	}
	/* x ticks: 0, 25, 50, 75, 100 % */
	for (k = 0; k <= 4; k++) {
		px = ml + pw * k / 4.0;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n",
			px, mt, px, mt + ph);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
			px, mt + ph, px, mt + ph + 4);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%d%%</text>\n",
			px, mt + ph + 17, k * 25);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">"
		   "PROT_MTE share of the anonymous memory</text>\n", ml + pw / 2, h - 6);
	/* axes */
	fprintf(f, "<path d=\"M%.1f %.1f V%.1f H%.1f\" fill=\"none\" stroke=\"black\"/>\n",
		ml, mt, mt + ph, ml + pw);
	/* one line per policy */
	for (pol = 0; pol < NR_POLICIES; pol++) {
		int first = 1;

		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%d\" "
			   "stroke-dasharray=\"%s\" points=\"", colors[pol], pol ? 2 : 3,
			dashes[pol]);
		for (i = 0; i < n; i++) {
			if (pts[i].policy != pol || !pts[i].ok)
				continue;
			px = ml + pts[i].fraction * pw;
			py = mt + ph - (figure(&pts[i], panel) - ymin) / (ymax - ymin) * ph;
			fprintf(f, "%s%.1f,%.1f", first ? "" : " ", px, py);
			first = 0;
		}
		fprintf(f, "\"/>\n");
		for (i = 0; i < n; i++) {
			if (pts[i].policy != pol || !pts[i].ok)
				continue;
			px = ml + pts[i].fraction * pw;
			py = mt + ph - (figure(&pts[i], panel) - ymin) / (ymax - ymin) * ph;
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
				px, py, colors[pol]);
		}
	}
	fprintf(f, "</g>\n");
}

/* Write the four-panel plot with its title and legend. */
static int write_svg(const char *path, const struct exp_cfg *c, const struct point *pts,
		     size_t n)
{
	const double W = 960, H = 760, top = 70, pw = W / 2, ph = (H - top) / 2;
	FILE *f = fopen(path, "w");
	int panel, pol;

	if (!f)
		return -errno;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H, W, H);
	fprintf(f, "<text x=\"%.0f\" y=\"26\" text-anchor=\"middle\" font-size=\"17\" "
		   "font-weight=\"bold\">MTE tag storage policies: what reuse of the carve-out "
		   "buys and costs</text>\n", W / 2);
	fprintf(f, "<text x=\"%.0f\" y=\"46\" text-anchor=\"middle\" font-size=\"12\" fill=\"#444\">"
		   "mmsim experiment tag-storage, seed %" PRIu64 ", %s; fill 3/4 of MemTotal, "
		   "then untagged memory until the first OOM</text>\n", W / 2, c->seed,
		   c->devicetree ? "device tree from the command line" : "built-in machine (1 GiB + 32 MiB tag storage)");
	/* legend */
	for (pol = 0; pol < NR_POLICIES; pol++) {
		double lx = W / 2 - 150 + pol * 110;

		fprintf(f, "<line x1=\"%.0f\" y1=\"60\" x2=\"%.0f\" y2=\"60\" stroke=\"%s\" "
			   "stroke-width=\"3\" stroke-dasharray=\"%s\"/>\n", lx, lx + 24, colors[pol],
			dashes[pol]);
		fprintf(f, "<text x=\"%.0f\" y=\"64\" font-size=\"12\">%s</text>\n", lx + 30,
			policies[pol]);
	}
	for (panel = 0; panel < 4; panel++)
		svg_panel(f, panel, (panel % 2) * pw, top + (panel / 2) * ph, pw, ph, pts, n);
	fprintf(f, "</svg>\n");
	if (fclose(f))
		return -errno;
	return 0;
}

/* --------------------------------------------------------------- output */

/* The point of policy pol at fraction index s. */
static const struct point *at(const struct point *pts, unsigned int steps, int pol, unsigned int s)
{
	return &pts[(size_t)pol * steps + s];
}

/* One table cell: the figure, or "-" for a failed point. */
static void cell(const struct point *p, int panel, const char *fmt)
{
	if (p->ok)
		printf(fmt, figure(p, panel));
	else
		printf("%8s", "failed");
}

/* The summary: fractions as rows, the policies side by side per figure. */
static void print_summary(const struct exp_cfg *c, const struct point *pts)
{
	static const char *const fmts[4] = { " %8.1f", " %8.0f", " %8.3f", " %8.1f" };
	static const char *const heads[4] = { "usable MiB", "reserved pages", "migr/tagged MiB",
					      "ns/fault" };
	unsigned int s;
	int panel, pol;

	printf("%-6s", "PROT_");
	for (panel = 0; panel < 4; panel++)
		printf(" |%-26s", heads[panel]);
	printf("\n%-6s", "MTE");
	for (panel = 0; panel < 4; panel++) {
		printf(" |");
		for (pol = 0; pol < NR_POLICIES; pol++)
			printf(" %8s", policies[pol]);
	}
	printf("\n");
	for (s = 0; s < c->steps; s++) {
		printf("%5.0f%%", at(pts, c->steps, 0, s)->fraction * 100.0);
		for (panel = 0; panel < 4; panel++) {
			printf(" |");
			for (pol = 0; pol < NR_POLICIES; pol++)
				cell(at(pts, c->steps, pol, s), panel, fmts[panel]);
		}
		printf("\n");
	}
	for (pol = 0; pol < NR_POLICIES; pol++)
		for (s = 0; s < c->steps; s++) {
			const struct point *p = at(pts, c->steps, pol, s);

			if (!p->ok)
				printf("%s at %.0f%%: %s\n", policies[pol], p->fraction * 100.0, p->err);
			else if (p->retag_oom)
				printf("%s at %.0f%%: an OOM kill during the refill or the retag\n",
				       policies[pol], p->fraction * 100.0);
		}
}

/* --------------------------------------------------------------- options */

static const char experiment_usage[] =
	"usage: mmsim experiment tag-storage [--out DIR] [--steps N] [--seed S]\n"
	"                                    [--devicetree F] [--jobs N] [--quick]\n"
	"\n"
	"Sweep the share of anonymous memory that is PROT_MTE from 0% to 100% in N\n"
	"steps under each tag storage policy (mte_tag_storage=rfc-v1, cma, static),\n"
	"each point on a freshly booted machine.  The workload of a point:\n"
	"  1. fill      4 processes map 3/4 of MemTotal in 4 MiB chunks and write\n"
	"               every page; a share f of the chunks is tagged: 3 in 4 of\n"
	"               them mapped PROT_MTE, the 4th mapped untagged (see 4.)\n"
	"  2. pressure  another process writes untagged memory (page tables filled\n"
	"               in first) until the first OOM kill: usable memory = the\n"
	"               anonymous memory held just before it\n"
	"  3. refill    a new process writes untagged memory to 12 MiB below that\n"
	"               point, so the carve-out holds data where the policy lends it\n"
	"  4. retag     the untagged 4th of the tagged chunks is mprotect'ed\n"
	"               PROT_MTE and written again (fault on access; tag blocks\n"
	"               that hold data are migrated out)\n"
	"Figures: usable memory (MiB), tag blocks reserved (metadata_reserve_success,\n"
	"pages), migrations (pgmigrate_success) per MiB of tagged memory, simulated\n"
	"ns per fault (mmsim_now over pgfault, steps 1 and 4).\n"
	"\n"
	"  --out DIR         where to write tag-storage.csv and tag-storage.svg\n"
	"                    (default: the current directory; created if missing)\n"
	"  --steps N         fractions 0%, ..., 100% (default 11, at least 2)\n"
	"  --seed S          machine and workload seed (default 1); same seed, same CSV\n"
	"  --devicetree F    boot this .dts/.dtb instead of the built-in machine\n"
	"  --jobs N          points run at once in forked processes (default: CPUs, <= 4)\n"
	"  --quick           3 steps: a smoke run of a few seconds\n"
	"  -h, --help        this text\n"
	"\n"
	"Exit status: 0 all points ran, 1 a point failed or a file could not be\n"
	"written, 2 bad command line.\n";

/* Parse an unsigned integer option value; 0 on success. */
static int parse_uint(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+') {
		fprintf(stderr, "mmsim experiment: %s expects a number from %" PRIu64 " to %" PRIu64
			"\n", opt, min, max);
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max) {
		fprintf(stderr, "mmsim experiment: %s '%s': expected a number from %" PRIu64
			" to %" PRIu64 "\n", opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Read the options; 0 to run, 1 after --help, 2 on a bad command line. */
static int parse_args(int argc, char **argv, struct exp_cfg *c)
{
	uint64_t v;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int i, steps_given = 0;

	c->out = ".";
	c->steps = 11;
	c->seed = 1;
	c->jobs = cpus < 1 ? 1 : cpus > 4 ? 4 : (unsigned int)cpus;
	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(experiment_usage, stdout);
			return 1;
		}
		fprintf(stderr, "mmsim experiment: expected an experiment name (tag-storage); "
			"see mmsim experiment --help\n");
		return 2;
	}
	if (strcmp(argv[1], "tag-storage")) {
		fprintf(stderr, "mmsim experiment: unknown experiment '%s' (expected tag-storage)\n",
			argv[1]);
		return 2;
	}
	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '='), *val;
		char name[32];

		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(experiment_usage, stdout);
			return 1;
		}
		if (!strcmp(a, "--quick")) {
			c->quick = 1;
			continue;
		}
		if (strcmp(name, "--out") && strcmp(name, "--steps") && strcmp(name, "--seed") &&
		    strcmp(name, "--devicetree") && strcmp(name, "--jobs")) {
			fprintf(stderr, "mmsim experiment: unknown option '%s' (expected --out, "
				"--steps, --seed, --devicetree, --jobs, --quick or --help)\n", a);
			return 2;
		}
		val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!val) {
			fprintf(stderr, "mmsim experiment: option '%s' expects a value\n", name);
			return 2;
		}
		if (!strcmp(name, "--out")) {
			c->out = val;
		} else if (!strcmp(name, "--devicetree")) {
			c->devicetree = val;
		} else if (!strcmp(name, "--steps")) {
			if (parse_uint(name, val, 2, MAX_STEPS, &v))
				return 2;
			c->steps = (unsigned int)v;
			steps_given = 1;
		} else if (!strcmp(name, "--seed")) {
			if (parse_uint(name, val, 0, UINT64_MAX, &v))
				return 2;
			c->seed = v;
		} else {
			if (parse_uint(name, val, 1, 16, &v))
				return 2;
			c->jobs = (unsigned int)v;
		}
	}
	if (c->quick && !steps_given)
		c->steps = 3;
	return 0;
}

/* `mmsim experiment`: argv[0] is "experiment"; returns the exit status. */
int mmsim_experiment_main(int argc, char **argv)
{
	struct exp_cfg cfg = { 0 };
	struct point *pts;
	char csv[4096], svg[4096];
	size_t n, i;
	unsigned int s;
	int rc, status = 0, pol;
	struct timespec t0, t1;

	rc = parse_args(argc, argv, &cfg);
	if (rc)
		return rc == 1 ? 0 : EXIT_USAGE;
	if (mkdir(cfg.out, 0777) && errno != EEXIST) {
		fprintf(stderr, "mmsim experiment: cannot create %s: %s\n", cfg.out, strerror(errno));
		return 1;
	}
	snprintf(csv, sizeof(csv), "%s/tag-storage.csv", cfg.out);
	snprintf(svg, sizeof(svg), "%s/tag-storage.svg", cfg.out);
	n = (size_t)NR_POLICIES * cfg.steps;
	pts = calloc(n, sizeof(*pts));
	if (!pts) {
		fprintf(stderr, "mmsim experiment: out of memory\n");
		return 1;
	}
	for (pol = 0; pol < NR_POLICIES; pol++)
		for (s = 0; s < cfg.steps; s++) {
			struct point *p = &pts[(size_t)pol * cfg.steps + s];

			p->policy = pol;
			p->fraction = (double)s / (double)(cfg.steps - 1);
		}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_all(&cfg, pts, n);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	for (i = 0; i < n; i++)
		if (!pts[i].ok)
			status = 1;
	print_summary(&cfg, pts);
	rc = write_csv(csv, pts, n);
	if (rc) {
		fprintf(stderr, "mmsim experiment: cannot write %s: %s\n", csv, strerror(-rc));
		status = 1;
	}
	rc = write_svg(svg, &cfg, pts, n);
	if (rc) {
		fprintf(stderr, "mmsim experiment: cannot write %s: %s\n", svg, strerror(-rc));
		status = 1;
	}
	printf("\n%zu points in %.1f s (host time, %u at once)\nwrote %s\nwrote %s\n", n,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       cfg.jobs, csv, svg);
	free(pts);
	return status;
}
