// SPDX-License-Identifier: MIT
/*
 * bench/scaling.c - how mmsim's parallel mode scales from one simulated CPU
 * to two, on page_fault1-style workloads (part of `mmsim bench`).
 *
 * Two shapes, each run with 1 and then 2 task bodies in parallel mode
 * (MMSIM_SCHED_PARALLEL: one host thread per body), each body on its own
 * simulated CPU:
 *
 *   processes  one process per body (will-it-scale page_fault1_processes):
 *              nothing is shared but the page allocator;
 *   threads    the bodies are threads of one process, each faulting in a
 *              VMA of its own (page_fault1_threads, with the per-VMA locks
 *              keeping the faults off mmap_lock).
 *
 * A round has three phases, each a run of every body at once: map the
 * region (a system call, so the body holds the whole machine), store 8
 * bytes into each 4 KiB page - one anonymous write fault each, which runs
 * beside the other CPUs - and unmap.  Only the fault phase is timed, from
 * the moment every body is running to the last body's last store: the
 * system calls of one body would otherwise stop the other's faults, and
 * page_fault1's per-fault figure is about the faults too.  Each
 * configuration runs `rounds` times and the median rate is kept, so a round
 * another host process disturbed does not move it.  The scaling figure is
 * the 2-body rate over the 1-body rate, measured in one run.
 *
 * The fault phase clears a 4 KiB page of simulated RAM per fault, as the
 * kernel does: at 64 MiB per body that is memory-bandwidth work, and how
 * far it scales on two cores depends on the host's memory system as much
 * as on the model.  So the table ends with the host kernel's own scaling
 * on the same phase (host threads, a VMA each, real page faults), as the
 * reference for what this machine allows.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mmsim.h"
#include "scaling.h"

#define SIM_PAGE 4096ULL
#define HOST_PAGE sysconf(_SC_PAGESIZE)

struct body {
	int *ready, n;          /* the start line: bodies arrived, bodies in all */
	uint64_t size;          /* bytes this body maps and touches            */
	uint64_t addr;          /* where its region is mapped                  */
	uint64_t t0, t1;        /* host ns of its first and after its last store */
	int err;                /* what went wrong, 0 if nothing               */
	char what[96];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void fail(struct body *b, int err, const char *what)
{
	b->err = err ? err : -1;
	snprintf(b->what, sizeof(b->what), "%s: %s", what, mmsim_strerror_last());
}

/* Phase 1: map the body's region (a system call: it holds the whole machine). */
static void map_body(struct mmsim_task *t, void *arg)
{
	struct body *b = arg;
	int64_t a = mmsim_mmap(t, 0, b->size, MMSIM_PROT_READ | MMSIM_PROT_WRITE,
			       MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS, -1, 0);

	if (a < 0) {
		fail(b, (int)a, "mmsim_mmap");
		return;
	}
	b->addr = (uint64_t)a;
	mmsim_madvise(t, b->addr, b->size, MMSIM_MADV_NOHUGEPAGE);
}

/*
 * Phase 2, timed: one write fault per page, then check a few values.  The
 * clock starts when every body is running: a host thread the host starts
 * late (another process on its core) would otherwise stretch the span.
 */
static void fault_body(struct mmsim_task *t, void *arg)
{
	struct body *b = arg;
	struct mmsim_siginfo si;
	uint64_t v;

	if (b->ready) {
		__atomic_fetch_add(b->ready, 1, __ATOMIC_ACQ_REL);
		while (__atomic_load_n(b->ready, __ATOMIC_ACQUIRE) < b->n)
			sched_yield();
	}
	b->t0 = now_ns();
	for (uint64_t off = 0; off < b->size; off += SIM_PAGE) {
		v = off;
		if (mmsim_store(t, b->addr + off, &v, 8, &si) != MMSIM_ACCESS_OK) {
			fail(b, -1, "mmsim_store");
			return;
		}
	}
	b->t1 = now_ns();
	/* The data really landed: a store is not a fault counter. */
	for (uint64_t off = 0; off < b->size; off += (b->size / 8 + SIM_PAGE - 1) & ~(SIM_PAGE - 1)) {
		if (mmsim_load(t, b->addr + off, &v, 8, &si) != MMSIM_ACCESS_OK || v != off) {
			fail(b, -1, "mmsim_load after the faults");
			return;
		}
	}
}

/* Phase 3: unmap. */
static void unmap_body(struct mmsim_task *t, void *arg)
{
	struct body *b = arg;

	if (mmsim_munmap(t, b->addr, b->size))
		fail(b, -1, "mmsim_munmap");
}

/* One phase of every body: each on its own host thread, all at once. */
static int run_phase(struct mmsim_machine *m, struct mmsim_task **tasks, int n,
		     mmsim_task_fn fn, struct body *b, char *err, size_t errlen)
{
	for (int i = 0; i < n; i++) {
		if (mmsim_spawn(tasks[i], fn, &b[i]) || (i == n - 1 && mmsim_run_tasks(m))) {
			snprintf(err, errlen, "running the bodies: %s", mmsim_strerror_last());
			return -1;
		}
	}
	for (int i = 0; i < n; i++) {
		if (b[i].err) {
			snprintf(err, errlen, "%s", b[i].what);
			return -1;
		}
	}
	return 0;
}

/*
 * Touch (almost) all of simulated RAM once, outside any timed part: the
 * host backs simulated RAM lazily, and its own page faults on first touch
 * - contended between the host threads - are not the model's to measure.
 */
static int prefault_ram(struct mmsim_machine *m, struct mmsim_task *t)
{
	int64_t free = mmsim_vmstat(m, "nr_free_pages");
	uint64_t size = free > 0 ? (uint64_t)free / 10 * 8 * SIM_PAGE : 0;	/* clear of the watermarks */
	struct body b = { .size = size };

	if (!size)
		return 0;
	map_body(t, &b);
	if (!b.err)
		fault_body(t, &b);
	if (!b.err)
		unmap_body(t, &b);
	if (b.err)
		fprintf(stderr, "mmsim bench: touching simulated RAM first: %s\n", b.what);
	return b.err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * The median fault rate of `rounds` runs of n bodies: as processes
 * (threads = 0) or as threads of one process.  0 on failure (*err set).
 */
static double measure(int n, int threads, uint64_t size, int rounds, char *err, size_t errlen)
{
	struct mmsim_options opt = { .nr_cpus = 2 };
	struct mmsim_sched_options so = { .mode = MMSIM_SCHED_PARALLEL, .policy = MMSIM_SCHED_RANDOM };
	struct mmsim_machine *m = NULL;
	struct mmsim_task *tasks[2] = { NULL, NULL };
	double rates[32], rate = 0;
	int rc, got = 0;

	if (rounds > 32)
		rounds = 32;
	rc = mmsim_machine_create(&opt, &m);
	if (rc) {
		snprintf(err, errlen, "mmsim_machine_create: %s", mmsim_strerror_last());
		return 0;
	}
	rc = mmsim_task_create(m, &tasks[0]);
	for (int i = 1; i < n && !rc; i++)
		rc = threads ? mmsim_thread_create(tasks[0], &tasks[i]) : mmsim_task_create(m, &tasks[i]);
	for (int i = 0; i < n && !rc; i++)
		rc = mmsim_task_set_cpu(tasks[i], (unsigned int)i);
	if (!rc)
		rc = prefault_ram(m, tasks[0]);
	if (!rc)
		rc = mmsim_sched_set(m, &so);
	if (rc) {
		snprintf(err, errlen, "setting up %d bodies: %s", n, rc < 0 ? mmsim_strerror_last() : "a store failed");
		goto out;
	}
	for (int r = 0; r <= rounds; r++) {	/* round 0 warms up */
		struct body b[2];
		uint64_t first = UINT64_MAX, last = 0;
		int ready = 0;

		memset(b, 0, sizeof(b));
		for (int i = 0; i < n; i++) {
			b[i].size = size;
			b[i].ready = &ready;
			b[i].n = n;
		}
		if (run_phase(m, tasks, n, map_body, b, err, errlen) ||
		    run_phase(m, tasks, n, fault_body, b, err, errlen) ||
		    run_phase(m, tasks, n, unmap_body, b, err, errlen))
			goto out;
		for (int i = 0; i < n; i++) {
			first = b[i].t0 < first ? b[i].t0 : first;
			last = b[i].t1 > last ? b[i].t1 : last;
		}
		if (r && last > first)
			rates[got++] = (double)(n * (size / SIM_PAGE)) * 1e9 / (double)(last - first);
	}
	{
		char report[256];

		if (mmsim_check(m, report, sizeof(report))) {
			snprintf(err, errlen, "mmsim_check after the runs: %.120s", report);
			goto out;
		}
	}
	qsort(rates, (size_t)got, sizeof(rates[0]), cmp_double);
	rate = got ? rates[got / 2] : 0;
out:
	mmsim_machine_destroy(m);
	return rate;
}

/* ------------------------------------------- the host kernel, for reference */

/*
 * The same fault phase on the host's own kernel: n host threads, each
 * mapping `size` bytes of its own (a VMA each), all starting together,
 * one write fault per host page.  Its scaling tells what this machine's
 * cores and memory allow a real kernel's page_fault1 here.
 */
struct host_body {
	pthread_barrier_t *start;
	uint64_t size, t0, t1;
	int err;
};

static void *host_fault_thread(void *arg)
{
	struct host_body *h = arg;
	uint8_t *p = mmap(NULL, h->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		h->err = errno;
		pthread_barrier_wait(h->start);
		return NULL;
	}
	madvise(p, h->size, MADV_NOHUGEPAGE);
	pthread_barrier_wait(h->start);
	h->t0 = now_ns();
	for (uint64_t off = 0; off < h->size; off += (uint64_t)HOST_PAGE)
		*(volatile uint64_t *)(p + off) = off;
	h->t1 = now_ns();
	munmap(p, h->size);
	return NULL;
}

static double host_measure(int n, uint64_t size, int rounds)
{
	double rates[32];
	int got = 0;

	if (rounds > 32)
		rounds = 32;
	for (int r = 0; r <= rounds; r++) {
		pthread_barrier_t start;
		struct host_body h[2];
		pthread_t th[2];
		uint64_t first = UINT64_MAX, last = 0;
		int started = 0, err = 0;

		pthread_barrier_init(&start, NULL, (unsigned int)n);
		for (int i = 0; i < n; i++) {
			h[i] = (struct host_body){ .start = &start, .size = size };
			if (pthread_create(&th[i], NULL, host_fault_thread, &h[i]))
				break;
			started++;
		}
		if (started < n) {	/* the barrier can never open: nothing to measure */
			pthread_barrier_destroy(&start);
			return 0;
		}
		for (int i = 0; i < n; i++) {
			pthread_join(th[i], NULL);
			err |= h[i].err;
			first = h[i].t0 < first ? h[i].t0 : first;
			last = h[i].t1 > last ? h[i].t1 : last;
		}
		pthread_barrier_destroy(&start);
		if (err)
			return 0;
		if (r && last > first)
			rates[got++] = (double)n * (double)(size / (uint64_t)HOST_PAGE) * 1e9 / (double)(last - first);
	}
	qsort(rates, (size_t)got, sizeof(rates[0]), cmp_double);
	return got ? rates[got / 2] : 0;
}

int bench_scaling(uint64_t size, int rounds, int csv)
{
	static const struct { const char *name, *key; int threads; double target; } shape[] = {
		{ "processes, one per CPU", "scaling_processes", 0, 1.8 },
		{ "threads of one process, one VMA each", "scaling_threads", 1, 1.6 },
	};
	int status = 0;

	if (!csv)
		printf("\nParallel mode: anonymous write faults on 1 and 2 simulated CPUs "
		       "(%llu MiB per body, median of %d rounds)\n"
		       "  %-38s %14s %14s %8s %8s\n", (unsigned long long)(size >> 20), rounds,
		       "workload", "1 CPU", "2 CPUs", "scaling", "target");
	for (unsigned int s = 0; s < sizeof(shape) / sizeof(shape[0]); s++) {
		char err[160] = "";
		double one = measure(1, shape[s].threads, size, rounds, err, sizeof(err));
		double two = one ? measure(2, shape[s].threads, size, rounds, err, sizeof(err)) : 0;

		if (!one || !two) {
			fprintf(stderr, "mmsim bench: %s: %s\n", shape[s].key, err);
			status = 1;
			continue;
		}
		if (csv)
			printf("%s,%.0f,%.0f,%.3f,%.1f\n", shape[s].key, one, two, two / one, shape[s].target);
		else
			printf("  %-38s %11.2fM/s %11.2fM/s %7.2fx %7s%.1fx %s\n", shape[s].name,
			       one / 1e6, two / 1e6, two / one, ">=", shape[s].target,
			       two / one >= shape[s].target ? "met" : "MISSED");
	}
	{
		double one = host_measure(1, size, rounds), two = one ? host_measure(2, size, rounds) : 0;

		if (!one || !two)
			fprintf(stderr, "mmsim bench: scaling_host: could not run the host threads\n");
		else if (csv)
			printf("scaling_host_kernel,%.0f,%.0f,%.3f,0\n", one, two, two / one);
		else
			printf("  %-38s %11.2fM/s %11.2fM/s %7.2fx %8s\n", "host kernel, threads, one VMA each",
			       one / 1e6, two / 1e6, two / one, "(ref.)");
	}
	return status;
}
