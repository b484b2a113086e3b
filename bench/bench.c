// SPDX-License-Identifier: MIT
/*
 * bench/bench.c - `mmsim bench`: runs the same memory workloads on mmsim
 * (through the public API only) and on the host kernel (real mmap, fork and
 * loads/stores), and prints both rates, their ratio and the project's targets.
 *
 * Workloads (see bench/README.md for how each one is matched to the host):
 *   1. anonymous write faults   (will-it-scale page_fault1)
 *   2. COW write faults after fork
 *   3. read faults on the zero page
 *   4. TLB-hit 8-byte loads over a small, already-faulted working set
 *   5. host memory the model uses per byte of simulated memory touched
 *   6. tagged (PROT_MTE) anonymous write faults on mmsim, whose tag blocks
 *      are already reserved or must be reserved, against untagged faults of
 *      the same pattern on mmsim (the host has no MTE to compare with)
 *
 * All host workloads run first, before the machine exists, so that the host
 * RSS growth measured around the mmsim workloads belongs to the model alone.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mmsim.h"
#include "bench.h"
#include "scaling.h"

#define MIB		((uint64_t)1 << 20)

/*
 * The host side measures the host kernel, so its loops must touch only the
 * mapping: a sanitizer's shadow accesses would add page faults of their own
 * (and time) under make SAN=asan or SAN=tsan.
 */
#define HOST_LOOP	__attribute__((no_sanitize("address", "thread")))

#define SIM_PAGE	4096ULL		/* arm64 4 KiB granule of the model  */
#define TLB_PAGES	16ULL		/* working set of the load loop       */
#define MAX_ITERS	100000UL
#define MAX_WARN	32
#define ERR_LEN		256

/* Targets the project holds mmsim to; printed next to the measurements. */
#define TARGET_SPEEDUP		3.0	/* fault rates: >= 3x the host kernel   */
#define TARGET_LOAD_NS		5.0	/* TLB-hit load: < 5 ns                 */
#define TARGET_OVERHEAD_PCT	3.0	/* model host memory: <= 3% overhead    */
#define TARGET_TAGGED_COST	2.0	/* tagged fault, block reserved: <= 2x  */
#define TAG_GROUP		32ULL	/* data pages sharing one tag page      */

enum { W_ANON, W_COW, W_ZERO, W_TLB, NR_W };
/* The tagged workloads: --only bits after the NR_W host-vs-mmsim ones. */
enum { T_RESERVED, T_FRESH, NR_T };
/* Then parallel mode's scaling (bench/scaling.c), mmsim only. */
#define W_SCALING (NR_W + NR_T)

struct bench_cfg {
	uint64_t size;			/* anon and zero-page mapping, bytes    */
	uint64_t cow_size;		/* COW parent mapping, bytes            */
	unsigned long iterations;	/* timed iterations, 0 = time budget    */
	uint64_t budget_ns;		/* per fault workload and side          */
	uint64_t tlb_budget_ns;		/* per side of the load loop            */
	uint64_t tlb_chunk;		/* loads per round of the load loop     */
	unsigned int only;		/* bit (1 << W_*) per workload to run   */
	int csv;
	int quick;
};

/* One side (host or mmsim) of one workload. */
struct side {
	int ok;				/* measured                             */
	int ran;			/* attempted                            */
	unsigned long iters;		/* timed iterations                     */
	uint64_t ops;			/* faults or loads in the timed part    */
	uint64_t ns;			/* host wall-clock ns of the timed part */
	uint64_t *iter_ns;		/* ns of each timed iteration           */
	unsigned long cap;		/* room in iter_ns                      */
	uint64_t sim_ns;		/* simulated ns of the access loops     */
	uint64_t fork_ns;		/* COW only: wall-clock ns in fork()    */
	char err[ERR_LEN];
};

struct workload {
	const char *name;		/* table label                          */
	const char *key;		/* CSV name                             */
	const char *opt;		/* its name for --only                  */
	const char *unit;
	struct side host, sim;
};

static struct workload work[NR_W] = {
	[W_ANON] = { .name = "anon write faults", .key = "anon_write_faults",
		     .opt = "anon", .unit = "faults/s" },
	[W_COW]  = { .name = "COW write faults", .key = "cow_write_faults",
		     .opt = "cow", .unit = "faults/s" },
	[W_ZERO] = { .name = "zero-page read faults", .key = "zero_page_read_faults",
		     .opt = "zero", .unit = "faults/s" },
	[W_TLB]  = { .name = "TLB-hit 8-byte load", .key = "tlb_hit_load",
		     .opt = "tlb", .unit = "ns/load" },
};

/*
 * A tagged workload: PROT_MTE faults (tag) and untagged faults of the same
 * pattern (ref), both on mmsim; its figure is the cost ratio ref/tag rate.
 */
struct tagged_workload {
	const char *name;
	const char *key;
	const char *opt;
	struct side ref, tag;
	int64_t reserved;		/* metadata_reserve_success, timed tag  */
	int64_t migrated;		/* pgmigrate_success, timed tag         */
	double target;			/* cost ratio target, 0 = none          */
};

static struct tagged_workload tagged[NR_T] = {
	[T_RESERVED] = { .name = "tagged write faults (block reserved)",
			 .key = "tagged_write_faults_block_reserved", .opt = "tagged",
			 .target = TARGET_TAGGED_COST },
	[T_FRESH]    = { .name = "tagged write faults (fresh blocks)",
			 .key = "tagged_write_faults_fresh_blocks", .opt = "tagged-fresh" },
};

/* What the model costs in host memory, gathered around the mmsim workloads. */
struct mem_stats {
	uint64_t rss_base;		/* host RSS before the machine exists   */
	uint64_t rss_peak;		/* highest host RSS seen with it        */
	int rss_ok;
	uint64_t used_base;		/* simulated MemTotal-MemFree at boot   */
	uint64_t used_peak;		/* its high-water during the workloads  */
	int meminfo_ok;
	uint64_t touched_peak;		/* bytes the workloads held at once     */
};

static char warnings[MAX_WARN][ERR_LEN];
static unsigned long warn_count[MAX_WARN];	/* times each one was raised */
static int nr_warnings;
static int progress;			/* progress lines on a terminal only   */
static volatile uint64_t sink;		/* keeps loaded values alive           */
static uint64_t host_page;

/* Whether workload w was selected (--only; all of them by default). */
static int selected(const struct bench_cfg *c, int w)
{
	return !!(c->only & (1U << w));
}

/*
 * Remember a warning; they are printed after the table, next to the figures.
 * One raised by every iteration is kept once, with a count.
 */
static void bench_warn(const char *fmt, ...)
{
	char msg[ERR_LEN];
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (i = 0; i < nr_warnings; i++) {
		if (!strcmp(warnings[i], msg)) {
			warn_count[i]++;
			return;
		}
	}
	if (nr_warnings == MAX_WARN)
		return;
	memcpy(warnings[nr_warnings], msg, sizeof(msg));
	warn_count[nr_warnings++] = 1;
}

/* Print the warnings, each with how many times it was raised if more than once. */
static void print_warnings(FILE *f, const char *prefix)
{
	int i;

	for (i = 0; i < nr_warnings; i++) {
		if (warn_count[i] > 1)
			fprintf(f, "%swarning: %s (%lu times)\n", prefix, warnings[i], warn_count[i]);
		else
			fprintf(f, "%swarning: %s\n", prefix, warnings[i]);
	}
}

/*
 * Account one timed iteration of ops operations that took ns.  Each
 * iteration's time is kept so the figure can be the median iteration.
 */
static void side_add(struct side *s, uint64_t ops, uint64_t ns)
{
	uint64_t *p;

	if (s->iters == s->cap) {
		p = realloc(s->iter_ns, (s->cap ? 2 * s->cap : 64) * sizeof(*p));
		if (p) {
			s->iter_ns = p;
			s->cap = s->cap ? 2 * s->cap : 64;
		}
	}
	if (s->iters < s->cap)
		s->iter_ns[s->iters] = ns;
	s->iters++;
	s->ops += ops;
	s->ns += ns;
}

/* Record why one side of a workload could not be measured. */
static void side_fail(struct side *s, const char *fmt, ...)
{
	va_list ap;

	s->ok = 0;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

/* Tell a watching user what is running; silent when not on a terminal. */
static void note(const char *what, const char *side)
{
	if (progress)
		fprintf(stderr, "mmsim bench: %s (%s)...\n", what, side);
}

/* CLOCK_MONOTONIC in ns: the host clock every rate is measured with. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Minor faults of this process (or of a child, from inside it). */
static long minflt(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return -1;
	return ru.ru_minflt;
}

/*
 * Anonymous plus shared-memory resident bytes of this process, from
 * /proc/self/status (RssAnon + RssShmem): where the model's memory lives,
 * whether it is malloc'ed or a memfd.  File pages are left out because the
 * program text paged in by the first mmsim calls is not model memory.
 * Falls back to the whole RSS (/proc/self/statm) on kernels without them.
 */
static int host_rss(uint64_t *out)
{
	unsigned long long size, resident, anon = 0, shmem = 0;
	int have_anon = 0, have_shmem = 0, n;
	char line[256];
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "RssAnon: %llu kB", &anon) == 1)
				have_anon = 1;
			else if (sscanf(line, "RssShmem: %llu kB", &shmem) == 1)
				have_shmem = 1;
		}
		fclose(f);
		if (have_anon && have_shmem) {
			*out = (anon + shmem) * 1024ULL;
			return 0;
		}
	}
	f = fopen("/proc/self/statm", "r");
	if (!f)
		return -errno;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	if (n != 2)
		return -EIO;
	*out = resident * host_page;
	return 0;
}

/*
 * Whether another timed iteration should run: exactly --iterations when it
 * was given, else until budget ns of wall clock have passed since start
 * (untimed set-up and teardown included, so the run length is predictable),
 * but at least once.
 */
static int want_more(const struct bench_cfg *c, unsigned long done, uint64_t start,
		     uint64_t budget)
{
	if (c->iterations)
		return done < c->iterations;
	return done < 1 || (now_ns() - start < budget && done < MAX_ITERS);
}

/* ------------------------------------------------------------------ host */

/*
 * Warn when other processes keep the host busy: both columns are then
 * slowed by an unknown amount (the median iteration absorbs some of it).
 */
static void check_host_load(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	double load1;
	FILE *f;
	int n;

	f = fopen("/proc/loadavg", "r");
	if (!f)
		return;
	n = fscanf(f, "%lf", &load1);
	fclose(f);
	if (n == 1 && cpus > 0 && load1 >= 0.5 * (double)cpus)
		bench_warn("the host was busy when the bench started (load average %.2f on "
			   "%ld CPUs): host and mmsim figures are both noisy", load1, cpus);
}

/*
 * One host iteration of workloads 1 and 3: mmap, touch one word per page
 * (8-byte store, or 1-byte load for the zero page), munmap.  The whole
 * sequence is timed, as page_fault1 does; *faults is the minor-fault delta.
 */
static HOST_LOOP int host_fault_iter(const struct bench_cfg *c, int write, uint64_t *ns, long *faults)
{
	uint64_t t0, t1, off, sum = 0;
	long f0, f1;
	char *p;

	f0 = minflt();
	t0 = now_ns();
	p = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* 4 KiB faults on both sides: a THP fault would count 512 pages once. */
	madvise(p, c->size, MADV_NOHUGEPAGE);
	if (write) {
		for (off = 0; off < c->size; off += host_page)
			*(volatile uint64_t *)(p + off) = off;
	} else {
		for (off = 0; off < c->size; off += host_page)
			sum += *(volatile uint8_t *)(p + off);
	}
	munmap(p, c->size);
	t1 = now_ns();
	f1 = minflt();
	sink += sum;
	*ns = t1 - t0;
	*faults = f1 - f0;
	return 0;
}

/* Workloads 1 and 3 on the host: one warm-up iteration, then timed ones. */
static void host_faults(const struct bench_cfg *c, struct workload *w, int write)
{
	uint64_t pages = c->size / host_page, ns = 0, start = now_ns();
	long faults = 0;
	struct side *s = &w->host;
	unsigned long i;
	int rc;

	note(w->name, "host");
	s->ran = 1;
	for (i = 0; i == 0 || want_more(c, s->iters, start, c->budget_ns); i++) {
		rc = host_fault_iter(c, write, &ns, &faults);
		if (rc) {
			side_fail(s, "host mmap of %" PRIu64 " MiB failed: %s",
				  c->size / MIB, strerror(-rc));
			return;
		}
		/* A stray fault on the stack or in libc may add one or two. */
		if (faults < (long)pages || faults > (long)pages + 16)
			bench_warn("host %s: %ld minor faults for %" PRIu64 " pages "
				   "(huge pages, or a sanitizer's shadow memory?)",
				   w->name, faults, pages);
		if (i == 0) {
			start = now_ns();	/* warm-up done */
			continue;
		}
		side_add(s, pages, ns);
	}
	s->ok = 1;
}

/* What a host COW child reports back through the pipe. */
struct cow_msg {
	uint64_t ns;
	long faults;
	int err;
};

/*
 * Body of the forked host child: write one word in every page of the
 * inherited mapping (one COW fault each), timing only the writes, and send
 * the time and the fault count to the parent.  Only async-signal-safe calls.
 */
static _Noreturn HOST_LOOP void host_cow_child(int fd, char *p, uint64_t size)
{
	struct cow_msg msg = { 0 };
	uint64_t t0, t1, off;
	long f0;
	ssize_t n;

	f0 = minflt();
	t0 = now_ns();
	for (off = 0; off < size; off += host_page)
		*(volatile uint64_t *)(p + off) = off + 1;
	t1 = now_ns();
	msg.faults = minflt() - f0;
	msg.ns = t1 - t0;
	n = write(fd, &msg, sizeof(msg));
	_exit(n == (ssize_t)sizeof(msg) ? 0 : 1);
}

/*
 * One host COW iteration: fork a child of the populated parent and collect
 * its write time.  fork() itself is timed apart (*fork_ns), in the parent.
 */
static int host_cow_iter(char *p, uint64_t size, uint64_t *fork_ns, struct cow_msg *msg)
{
	int fds[2], status;
	uint64_t t0;
	ssize_t n;
	pid_t pid;

	if (pipe(fds))
		return -errno;
	t0 = now_ns();
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		host_cow_child(fds[1], p, size);
	}
	*fork_ns = now_ns() - t0;
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -errno;
	}
	do
		n = read(fds[0], msg, sizeof(*msg));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(*msg) || !WIFEXITED(status) || WEXITSTATUS(status))
		return -EIO;
	return 0;
}

/* Workload 2 on the host: populate, then fork + child writes, repeatedly. */
static void host_cow(const struct bench_cfg *c, struct workload *w)
{
	uint64_t pages = c->cow_size / host_page, off, fork_ns = 0, start = 0;
	struct side *s = &w->host;
	struct cow_msg msg;
	unsigned long i;
	char *p;
	int rc;

	note(w->name, "host");
	s->ran = 1;
	p = mmap(NULL, c->cow_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		side_fail(s, "host mmap of %" PRIu64 " MiB failed: %s",
			  c->cow_size / MIB, strerror(errno));
		return;
	}
	madvise(p, c->cow_size, MADV_NOHUGEPAGE);
	for (off = 0; off < c->cow_size; off += host_page)
		*(volatile uint64_t *)(p + off) = off;
	/* stdio buffers must not be flushed twice by the children. */
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i == 0 || want_more(c, s->iters, start, c->budget_ns); i++) {
		rc = host_cow_iter(p, c->cow_size, &fork_ns, &msg);
		if (rc) {
			side_fail(s, "host fork/COW child failed: %s", strerror(-rc));
			break;
		}
		if (msg.faults < (long)pages || msg.faults > (long)pages + 16)
			bench_warn("host %s: %ld minor faults in the child for %" PRIu64
				   " pages", w->name, msg.faults, pages);
		if (i == 0) {
			start = now_ns();	/* warm-up done */
			continue;
		}
		side_add(s, pages, msg.ns);
		s->fork_ns += fork_ns;
		s->ok = 1;
	}
	munmap(p, c->cow_size);
}

/*
 * The address of load i in the load loop, the same pattern on both sides:
 * cycle through the TLB_PAGES pages, and through 8 cache lines within each,
 * so the working set (8 KiB of lines) stays in any L1 data cache.
 */
static inline uint64_t tlb_off(uint64_t i)
{
	return ((i % TLB_PAGES) * SIM_PAGE) + (((i / TLB_PAGES) & 7) * 64);
}

/* Workload 4 on the host: a plain volatile 8-byte load loop, for reference. */
static HOST_LOOP void host_tlb(const struct bench_cfg *c, struct workload *w)
{
	uint64_t len = TLB_PAGES * SIM_PAGE, i, t0, sum = 0, start = 0;
	struct side *s = &w->host;
	unsigned long r;
	char *p;

	note(w->name, "host");
	s->ran = 1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		side_fail(s, "host mmap failed: %s", strerror(errno));
		return;
	}
	memset(p, 1, len);
	for (r = 0; r == 0 || want_more(c, s->iters, start, c->tlb_budget_ns); r++) {
		t0 = now_ns();
		for (i = 0; i < c->tlb_chunk; i++)
			sum += *(volatile uint64_t *)(p + tlb_off(i));
		if (r == 0) {
			start = now_ns();	/* warm-up done */
			continue;
		}
		side_add(s, c->tlb_chunk, now_ns() - t0);
	}
	sink += sum;
	munmap(p, len);
	s->ok = 1;
}

/* ----------------------------------------------------------------- mmsim */

/* mmsim's pgfault counter, or a negative errno when it is missing. */
static int64_t sim_pgfault(struct mmsim_machine *m)
{
	return mmsim_vmstat(m, "pgfault");
}

/* Describe a failed mmsim call: the errno and the library's own sentence. */
static void sim_fail(struct side *s, const char *call, int64_t rc)
{
	const char *why = mmsim_strerror_last();

	side_fail(s, "%s returned %" PRId64 " (%s)%s%s", call, rc, strerror((int)-rc),
		  why && *why ? ": " : "", why ? why : "");
}

/* Describe a failed mmsim load or store: an error, a signal or a block. */
static void sim_access_fail(struct side *s, const char *call, uint64_t addr, int rc,
			    const struct mmsim_siginfo *si)
{
	if (rc < 0) {
		sim_fail(s, call, rc);
		return;
	}
	if (rc == MMSIM_ACCESS_SIGNAL)
		side_fail(s, "%s at 0x%" PRIx64 " raised signal %d code %d addr 0x%" PRIx64,
			  call, addr, si->signo, si->code, si->addr);
	else
		side_fail(s, "%s at 0x%" PRIx64 " returned %d (blocked or unknown)",
			  call, addr, rc);
}

/* Simulated MemTotal - MemFree in bytes, from the model's /proc/meminfo. */
static int sim_mem_used(struct mmsim_machine *m, uint64_t *used)
{
	unsigned long long total = 0, free_kb = 0;
	int have_total = 0, have_free = 0;
	char buf[16384], *line;
	ssize_t n;

	n = mmsim_proc_read(m, NULL, "meminfo", buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? (int)n : -EIO;
	buf[n] = '\0';
	for (line = buf; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (sscanf(line, "MemTotal: %llu kB", &total) == 1)
			have_total = 1;
		else if (sscanf(line, "MemFree: %llu kB", &free_kb) == 1)
			have_free = 1;
	}
	if (!have_total || !have_free || free_kb > total)
		return -EIO;
	*used = (total - free_kb) * 1024ULL;
	return 0;
}

/*
 * Sample host RSS and simulated memory in use while a workload holds its
 * memory (during warm-up, so the timed iterations are not disturbed).
 */
static void sim_sample(struct mmsim_machine *m, struct mem_stats *ms, uint64_t touched)
{
	uint64_t v;

	if (ms->rss_ok && !host_rss(&v) && v > ms->rss_peak)
		ms->rss_peak = v;
	if (ms->meminfo_ok && !sim_mem_used(m, &v) && v > ms->used_peak)
		ms->used_peak = v;
	if (touched > ms->touched_peak)
		ms->touched_peak = touched;
}

/* Check the pgfault delta of one mmsim iteration against the pages touched. */
static void sim_check_faults(const char *name, int64_t f0, int64_t f1, uint64_t pages)
{
	if (f0 < 0 || f1 < 0) {
		bench_warn("mmsim vmstat \"pgfault\" unavailable (%" PRId64 "): "
			   "fault counts not checked", f0 < 0 ? f0 : f1);
		return;
	}
	if ((uint64_t)(f1 - f0) != pages)
		bench_warn("mmsim %s: pgfault rose by %" PRId64 " for %" PRIu64 " pages",
			   name, f1 - f0, pages);
}

/*
 * One mmsim iteration of workloads 1 and 3, the same sequence as the host's:
 * mmap, touch one word per page, munmap, all timed.  Simulated time is
 * taken around the access loop only, so sim ns/fault is the fault path.
 * prot_extra is MMSIM_PROT_MTE for the tagged workload with fresh blocks;
 * ms is NULL when nothing is sampled.
 */
static int sim_fault_iter(struct mmsim_machine *m, struct mmsim_task *t,
			  const struct bench_cfg *c, const char *name, struct side *s,
			  int write, int prot_extra, struct mem_stats *ms, int sample)
{
	uint64_t pages = c->size / SIM_PAGE, off, v = 0, t0, t1, s0, s1;
	struct mmsim_siginfo si;
	int64_t f0, f1, a;
	uint8_t b;
	int rc;

	f0 = sim_pgfault(m);
	t0 = now_ns();
	a = mmsim_mmap(t, 0, c->size, MMSIM_PROT_READ | MMSIM_PROT_WRITE | prot_extra,
		       MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS, -1, 0);
	if (a < 0) {
		sim_fail(s, "mmsim_mmap", a);
		return -1;
	}
	/* Same as the host: 4 KiB faults.  A model without THP may refuse. */
	mmsim_madvise(t, (uint64_t)a, c->size, MMSIM_MADV_NOHUGEPAGE);
	s0 = mmsim_now(m);
	for (off = 0; off < c->size; off += SIM_PAGE) {
		if (write) {
			v = off;
			rc = mmsim_store(t, (uint64_t)a + off, &v, 8, &si);
		} else {
			rc = mmsim_load(t, (uint64_t)a + off, &b, 1, &si);
			v += b;
		}
		if (rc != MMSIM_ACCESS_OK) {
			sim_access_fail(s, write ? "mmsim_store" : "mmsim_load",
					(uint64_t)a + off, rc, &si);
			mmsim_munmap(t, (uint64_t)a, c->size);
			return -1;
		}
	}
	s1 = mmsim_now(m);
	if (sample && ms)
		sim_sample(m, ms, write ? c->size : 0);
	rc = mmsim_munmap(t, (uint64_t)a, c->size);
	t1 = now_ns();
	f1 = sim_pgfault(m);
	sink += v;
	if (rc) {
		sim_fail(s, "mmsim_munmap", rc);
		return -1;
	}
	sim_check_faults(name, f0, f1, pages);
	if (sample)
		return 0;	/* warm-up */
	side_add(s, pages, t1 - t0);
	s->sim_ns += s1 - s0;
	return 0;
}

/* Workloads 1 and 3 on mmsim: one warm-up iteration, then timed ones. */
static void sim_faults(struct mmsim_machine *m, struct mmsim_task *t, const struct bench_cfg *c,
		       struct workload *w, int write, struct mem_stats *ms)
{
	struct side *s = &w->sim;
	uint64_t start;

	note(w->name, "mmsim");
	s->ran = 1;
	if (sim_fault_iter(m, t, c, w->name, s, write, 0, ms, 1))
		return;
	start = now_ns();
	while (want_more(c, s->iters, start, c->budget_ns))
		if (sim_fault_iter(m, t, c, w->name, s, write, 0, ms, 0))
			return;
	s->ok = 1;
}

static int sim_touch(struct side *s, struct mmsim_task *t, uint64_t a, uint64_t size);

/*
 * Tagged faults with fresh blocks: as workload 1, on a PROT_MTE mapping, so
 * every 32 faults reserve a tag block that the munmap gives back.  The
 * reference is workload 1 itself, run here again on the same machine, one
 * budget for each side, the untagged side first.
 */
static void sim_tagged_fresh(struct mmsim_machine *m, struct mmsim_task *t,
			     const struct bench_cfg *c, struct tagged_workload *w)
{
	int64_t r0, g0;
	uint64_t start;
	int k;

	note(w->name, "mmsim");
	for (k = 0; k < 2; k++) {
		struct side *s = k ? &w->tag : &w->ref;
		int prot = k ? MMSIM_PROT_MTE : 0;

		s->ran = 1;
		if (sim_fault_iter(m, t, c, w->name, s, 1, prot, NULL, 1))
			return;
		r0 = mmsim_vmstat(m, "metadata_reserve_success");
		g0 = mmsim_vmstat(m, "pgmigrate_success");
		start = now_ns();
		while (want_more(c, s->iters, start, c->budget_ns))
			if (sim_fault_iter(m, t, c, w->name, s, 1, prot, NULL, 0))
				return;
		if (k) {
			w->reserved = mmsim_vmstat(m, "metadata_reserve_success") - r0;
			w->migrated = mmsim_vmstat(m, "pgmigrate_success") - g0;
		}
		s->ok = 1;
	}
}

/* One run of consecutive pages of a mapping: [first, first + nr). */
struct page_run {
	uint64_t first, nr;
};

/*
 * Set up the pattern of the block-reserved workload on [a, a + size): write
 * every page, then keep the first page of each tag block (32 physically
 * consecutive data pages share one tag page) and drop the others with
 * MADV_DONTNEED.  The kept pages hold their blocks reserved; the dropped
 * ones, as runs of virtual pages, are what each iteration faults again.
 * Returns the number of runs (in *runs, malloc'ed), or -1.
 */
static long sim_keep_one_per_block(struct side *s, struct mmsim_task *t, uint64_t a,
				   uint64_t size, struct page_run **runs, uint64_t *dropped)
{
	uint64_t pages = size / SIM_PAGE, i, entry, pfn, *seen = NULL, nseen = 0, j;
	struct page_run *r = NULL;
	long nr = 0;
	int keep, rc;

	*dropped = 0;
	if (sim_touch(s, t, a, size))
		return -1;
	seen = calloc(pages, sizeof(*seen));
	r = calloc(pages, sizeof(*r));
	if (!seen || !r) {
		side_fail(s, "out of host memory");
		goto fail;
	}
	for (i = 0; i < pages; i++) {
		rc = mmsim_pagemap(t, a + i * SIM_PAGE, &entry);
		if (rc) {
			sim_fail(s, "mmsim_pagemap", rc);
			goto fail;
		}
		pfn = entry & ((1ULL << 55) - 1);
		/* blocks seen so far: a short linear look-back is enough, as
		 * a fresh machine hands out mostly consecutive frames */
		keep = 1;
		for (j = nseen > 64 ? nseen - 64 : 0; j < nseen; j++)
			if (seen[j] == pfn / TAG_GROUP)
				keep = 0;
		if (keep) {
			seen[nseen++] = pfn / TAG_GROUP;
			continue;
		}
		if (nr && r[nr - 1].first + r[nr - 1].nr == i)
			r[nr - 1].nr++;
		else
			r[nr++] = (struct page_run){ i, 1 };
		(*dropped)++;
	}
	free(seen);
	*runs = r;
	return nr;
fail:
	free(seen);
	free(r);
	return -1;
}

/* Drop the runs of pages again (MADV_DONTNEED); 0 on success. */
static int sim_drop_runs(struct side *s, struct mmsim_task *t, uint64_t a,
			 const struct page_run *r, long nr)
{
	long i;
	int rc;

	for (i = 0; i < nr; i++) {
		rc = mmsim_madvise(t, a + r[i].first * SIM_PAGE, r[i].nr * SIM_PAGE,
				   MMSIM_MADV_DONTNEED);
		if (rc) {
			sim_fail(s, "mmsim_madvise(MADV_DONTNEED)", rc);
			return -1;
		}
	}
	return 0;
}

/*
 * Tagged faults whose block is already reserved: one page of each tag
 * block stays mapped, so the block stays reserved while the other 31 are
 * dropped and faulted again; only the stores are timed.  The reference is
 * the same pattern on an untagged mapping.  Each side runs on its own
 * mapping, the untagged one first and unmapped before the tagged one is
 * set up, so the tagged faults get back the frames they dropped.
 */
static void sim_tagged_reserved(struct mmsim_machine *m, struct mmsim_task *t,
				const struct bench_cfg *c, struct tagged_workload *w)
{
	uint64_t dropped, t0, s0, start, i, v;
	struct page_run *runs = NULL;
	struct mmsim_siginfo si;
	int64_t a, f0, r0, g0;
	unsigned long it;
	long nr, k;
	int side, rc;

	note(w->name, "mmsim");
	for (side = 0; side < 2; side++) {
		struct side *s = side ? &w->tag : &w->ref;

		s->ran = 1;
		a = mmsim_mmap(t, 0, c->size, MMSIM_PROT_READ | MMSIM_PROT_WRITE |
			       (side ? MMSIM_PROT_MTE : 0), MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS,
			       -1, 0);
		if (a < 0) {
			sim_fail(s, "mmsim_mmap", a);
			return;
		}
		mmsim_madvise(t, (uint64_t)a, c->size, MMSIM_MADV_NOHUGEPAGE);
		nr = sim_keep_one_per_block(s, t, (uint64_t)a, c->size, &runs, &dropped);
		if (nr < 0 || sim_drop_runs(s, t, (uint64_t)a, runs, nr))
			goto out;
		r0 = mmsim_vmstat(m, "metadata_reserve_success");
		g0 = mmsim_vmstat(m, "pgmigrate_success");
		start = now_ns();
		/* iteration 0 is the warm-up; it - 1 timed ones are done */
		for (it = 0; it == 0 || want_more(c, it - 1, start, c->budget_ns); it++) {
			f0 = sim_pgfault(m);
			s0 = mmsim_now(m);
			t0 = now_ns();
			for (k = 0; k < nr; k++) {
				for (i = runs[k].first; i < runs[k].first + runs[k].nr; i++) {
					v = i;
					rc = mmsim_store(t, (uint64_t)a + i * SIM_PAGE, &v, 8, &si);
					if (rc != MMSIM_ACCESS_OK) {
						sim_access_fail(s, "mmsim_store",
								(uint64_t)a + i * SIM_PAGE, rc, &si);
						goto out;
					}
				}
			}
			t0 = now_ns() - t0;
			s0 = mmsim_now(m) - s0;
			sim_check_faults(w->name, f0, sim_pgfault(m), dropped);
			if (sim_drop_runs(s, t, (uint64_t)a, runs, nr))
				goto out;
			if (it == 0) {
				/* warm-up */
				r0 = mmsim_vmstat(m, "metadata_reserve_success");
				g0 = mmsim_vmstat(m, "pgmigrate_success");
				start = now_ns();
				continue;
			}
			side_add(s, dropped, t0);
			s->sim_ns += s0;
		}
		if (side) {
			w->reserved = mmsim_vmstat(m, "metadata_reserve_success") - r0;
			w->migrated = mmsim_vmstat(m, "pgmigrate_success") - g0;
		}
		s->ok = 1;
out:
		free(runs);
		runs = NULL;
		mmsim_munmap(t, (uint64_t)a, c->size);
		if (!s->ok)
			return;
	}
}

/* Store one word in every page of [a, a + size) as task t. */
static int sim_touch(struct side *s, struct mmsim_task *t, uint64_t a, uint64_t size)
{
	struct mmsim_siginfo si;
	uint64_t off, v;
	int rc;

	for (off = 0; off < size; off += SIM_PAGE) {
		v = off + 1;
		rc = mmsim_store(t, a + off, &v, 8, &si);
		if (rc != MMSIM_ACCESS_OK) {
			sim_access_fail(s, "mmsim_store", a + off, rc, &si);
			return -1;
		}
	}
	return 0;
}

/*
 * Workload 2 on mmsim: the parent populates its mapping once; each iteration
 * forks (timed apart), the child writes every page (the timed COW faults),
 * and the child exits.
 */
static void sim_cow(struct mmsim_machine *m, struct mmsim_task *t, const struct bench_cfg *c,
		    struct workload *w, struct mem_stats *ms)
{
	uint64_t pages = c->cow_size / SIM_PAGE, t0, t1, t2, s0, s1, start = 0;
	struct side *s = &w->sim;
	struct mmsim_task *child;
	int64_t a, f0, f1;
	unsigned long i;
	int rc;

	note(w->name, "mmsim");
	s->ran = 1;
	a = mmsim_mmap(t, 0, c->cow_size, MMSIM_PROT_READ | MMSIM_PROT_WRITE,
		       MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS, -1, 0);
	if (a < 0) {
		sim_fail(s, "mmsim_mmap", a);
		return;
	}
	mmsim_madvise(t, (uint64_t)a, c->cow_size, MMSIM_MADV_NOHUGEPAGE);
	if (sim_touch(s, t, (uint64_t)a, c->cow_size))
		goto out;
	for (i = 0; i == 0 || want_more(c, s->iters, start, c->budget_ns); i++) {
		t0 = now_ns();
		rc = mmsim_fork(t, &child);
		t1 = now_ns();
		if (rc) {
			sim_fail(s, "mmsim_fork", rc);
			goto out;
		}
		f0 = sim_pgfault(m);
		s0 = mmsim_now(m);
		t2 = now_ns();
		rc = sim_touch(s, child, (uint64_t)a, c->cow_size);
		t2 = now_ns() - t2;
		s1 = mmsim_now(m);
		f1 = sim_pgfault(m);
		if (i == 0 && !rc)
			sim_sample(m, ms, 2 * c->cow_size);
		mmsim_task_exit(child);
		if (rc)
			goto out;
		sim_check_faults(w->name, f0, f1, pages);
		if (i == 0) {
			start = now_ns();	/* warm-up done */
			continue;
		}
		side_add(s, pages, t2);
		s->sim_ns += s1 - s0;
		s->fork_ns += t1 - t0;
		s->ok = 1;
	}
out:
	mmsim_munmap(t, (uint64_t)a, c->cow_size);
}

/*
 * Workload 4 on mmsim: fault in TLB_PAGES pages, then mmsim_load 8 bytes in
 * rounds of tlb_chunk loads over them; no load may fault.
 */
static void sim_tlb(struct mmsim_machine *m, struct mmsim_task *t, const struct bench_cfg *c,
		    struct workload *w)
{
	uint64_t len = TLB_PAGES * SIM_PAGE, i, t0, s0, v, sum = 0, start = 0;
	struct side *s = &w->sim;
	struct mmsim_siginfo si;
	int64_t a, f0, f1;
	unsigned long r;
	int rc;

	note(w->name, "mmsim");
	s->ran = 1;
	a = mmsim_mmap(t, 0, len, MMSIM_PROT_READ | MMSIM_PROT_WRITE,
		       MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS, -1, 0);
	if (a < 0) {
		sim_fail(s, "mmsim_mmap", a);
		return;
	}
	if (sim_touch(s, t, (uint64_t)a, len))
		goto out;
	f0 = sim_pgfault(m);
	for (r = 0; r == 0 || want_more(c, s->iters, start, c->tlb_budget_ns); r++) {
		s0 = mmsim_now(m);
		t0 = now_ns();
		for (i = 0; i < c->tlb_chunk; i++) {
			rc = mmsim_load(t, (uint64_t)a + tlb_off(i), &v, 8, &si);
			if (rc != MMSIM_ACCESS_OK) {
				sim_access_fail(s, "mmsim_load", (uint64_t)a + tlb_off(i), rc, &si);
				goto out;
			}
			sum += v;
		}
		if (r == 0) {
			start = now_ns();	/* warm-up filled the TLB */
			continue;
		}
		side_add(s, c->tlb_chunk, now_ns() - t0);
		s->sim_ns += mmsim_now(m) - s0;
	}
	f1 = sim_pgfault(m);
	if (f0 >= 0 && f1 >= 0 && f1 != f0)
		bench_warn("mmsim %s: %" PRId64 " page faults during the load loop "
			   "(expected none)", w->name, f1 - f0);
	s->ok = 1;
out:
	sink += sum;
	mmsim_munmap(t, (uint64_t)a, len);
}

/*
 * All mmsim workloads on one machine and one task, with the host RSS taken
 * before the machine is created and sampled while the workloads hold memory.
 */
static void sim_all(const struct bench_cfg *c, struct mem_stats *ms)
{
	struct mmsim_options opt = { .seed = 1 };
	struct mmsim_machine *m = NULL;
	struct mmsim_task *t = NULL;
	const char *call = "mmsim_machine_create";
	int rc, i;

	ms->rss_ok = !host_rss(&ms->rss_base);
	ms->rss_peak = ms->rss_base;
	note("booting the machine", "mmsim");
	rc = mmsim_machine_create(&opt, &m);
	if (!rc) {
		call = "mmsim_task_create";
		rc = mmsim_task_create(m, &t);
		if (rc)
			mmsim_machine_destroy(m);
	}
	if (rc) {
		for (i = 0; i < NR_W; i++) {
			if (!selected(c, i))
				continue;
			work[i].sim.ran = 1;
			sim_fail(&work[i].sim, call, rc);
		}
		for (i = 0; i < NR_T; i++) {
			if (!selected(c, NR_W + i))
				continue;
			tagged[i].tag.ran = 1;
			sim_fail(&tagged[i].tag, call, rc);
		}
		return;
	}
	ms->meminfo_ok = !sim_mem_used(m, &ms->used_base);
	ms->used_peak = ms->used_base;

	if (selected(c, W_ANON))
		sim_faults(m, t, c, &work[W_ANON], 1, ms);
	if (selected(c, W_COW))
		sim_cow(m, t, c, &work[W_COW], ms);
	if (selected(c, W_ZERO))
		sim_faults(m, t, c, &work[W_ZERO], 0, ms);
	if (selected(c, W_TLB))
		sim_tlb(m, t, c, &work[W_TLB]);
	sim_sample(m, ms, 0);
	if (selected(c, NR_W + T_RESERVED))
		sim_tagged_reserved(m, t, c, &tagged[T_RESERVED]);
	if (selected(c, NR_W + T_FRESH))
		sim_tagged_fresh(m, t, c, &tagged[T_FRESH]);

	mmsim_task_exit(t);
	mmsim_machine_destroy(m);
}

/* ---------------------------------------------------------------- output */

/* qsort comparison of two iteration times. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Wall-clock ns per op of a measured side, from its median iteration (every
 * iteration does the same number of ops).  The median, not the mean, because
 * the host is often shared: an iteration that another process preempted
 * should not move the figure, and the same rule applies to both sides.
 * Sorts the side's samples in place, which changes no figure.
 */
static double side_ns_per_op(const struct side *s)
{
	double per_iter, med;

	if (!s->ops || !s->iters)
		return 0.0;
	per_iter = (double)s->ops / (double)s->iters;
	if (s->iters > s->cap)	/* out of memory for samples: the mean */
		return (double)s->ns / (double)s->ops;
	qsort(s->iter_ns, s->iters, sizeof(*s->iter_ns), cmp_u64);
	if (s->iters % 2)
		med = (double)s->iter_ns[s->iters / 2];
	else
		med = ((double)s->iter_ns[s->iters / 2 - 1] + (double)s->iter_ns[s->iters / 2]) / 2;
	return med / per_iter;
}

/* ops per second of a measured side (wall clock, median iteration). */
static double side_rate(const struct side *s)
{
	double ns = side_ns_per_op(s);

	return ns > 0.0 ? 1e9 / ns : 0.0;
}

/* The figure a workload is shown with: a rate, or ns per load. */
static double side_value(const struct workload *w, const struct side *s)
{
	return w == &work[W_TLB] ? side_ns_per_op(s) : side_rate(s);
}

/*
 * mmsim's speed relative to the host's (>1 = mmsim faster), in the same
 * sense for rates and for ns/load; 0 when either side is missing.
 */
static double speedup(const struct workload *w)
{
	double h, s;

	if (!w->host.ok || !w->sim.ok)
		return 0.0;
	h = side_value(w, &w->host);
	s = side_value(w, &w->sim);
	if (h <= 0.0 || s <= 0.0)
		return 0.0;
	return w == &work[W_TLB] ? h / s : s / h;
}

/* Whether a workload met its target: 1 yes, 0 no, -1 not measured. */
static int target_met(const struct workload *w)
{
	if (w == &work[W_TLB])
		return w->sim.ok ? side_ns_per_op(&w->sim) < TARGET_LOAD_NS : -1;
	if (!w->host.ok || !w->sim.ok)
		return -1;
	return speedup(w) >= TARGET_SPEEDUP;
}

/* The target of a workload as printed. */
static const char *target_text(const struct workload *w)
{
	return w == &work[W_TLB] ? "mmsim < 5 ns" : ">= 3x host";
}

/* A human-readable rate or time: 1.23M, 456.7k, 3.21. */
static void fmt_value(char *buf, size_t len, const struct workload *w, const struct side *s)
{
	double v = side_value(w, s);

	if (!s->ok)
		snprintf(buf, len, "%s", s->ran ? "failed" : "-");
	else if (w == &work[W_TLB])
		snprintf(buf, len, "%.2f", v);
	else if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.1f", v);
}

/* Wall-clock ms per fork of a COW side, or "-". */
static void fmt_fork_ms(char *buf, size_t len, const struct side *s)
{
	if (s->ok && s->iters)
		snprintf(buf, len, "%.3f", (double)s->fork_ns / 1e6 / (double)s->iters);
	else
		snprintf(buf, len, "-");
}

/*
 * Model host memory figures: X (host RSS growth, MiB), Y (simulated memory
 * touched, MiB), Z (overhead, %).  Y is the bytes the workloads held at once,
 * which is known exactly; the simulated meminfo high-water (*meminfo_mib,
 * -1 when unavailable) is printed beside it as a cross-check, since a model
 * that leaks or under-accounts would skew the overhead if it were used.
 */
static int mem_figures(const struct mem_stats *ms, double *x_mib, double *y_mib,
		       double *z_pct, double *meminfo_mib)
{
	if (!ms->rss_ok || !ms->touched_peak)
		return -1;
	*x_mib = ((double)ms->rss_peak - (double)ms->rss_base) / (double)MIB;
	*y_mib = (double)ms->touched_peak / (double)MIB;
	*z_pct = (*x_mib - *y_mib) * 100.0 / *y_mib;
	*meminfo_mib = ms->meminfo_ok ?
		((double)ms->used_peak - (double)ms->used_base) / (double)MIB : -1.0;
	return 0;
}

/*
 * The cost of a tagged fault against an untagged one of the same pattern:
 * the ratio of their wall-clock ns per fault (median iterations); 0 when
 * either side is missing.
 */
static double tagged_cost(const struct tagged_workload *w)
{
	double r, g;

	if (!w->ref.ok || !w->tag.ok)
		return 0.0;
	r = side_ns_per_op(&w->ref);
	g = side_ns_per_op(&w->tag);
	return r > 0.0 && g > 0.0 ? g / r : 0.0;
}

/* Whether a tagged workload met its target: 1, 0, -1 not measured or none. */
static int tagged_met(const struct tagged_workload *w)
{
	double x = tagged_cost(w);

	if (!w->target || x <= 0.0)
		return -1;
	return x <= w->target;
}

/* A rate of a side as the table prints it. */
static void fmt_rate(char *buf, size_t len, const struct side *s)
{
	double v = side_rate(s);

	if (!s->ok)
		snprintf(buf, len, "%s", s->ran ? "failed" : "-");
	else if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.1f", v);
}

/* The tagged workloads' table: mmsim untagged vs tagged, and the targets. */
static void print_tagged_table(const struct bench_cfg *c)
{
	const char *met_s[] = { "NO", "yes", "-" };
	char rv[32], tv[32], ratio[32], sn[32], iters[32], target[32];
	int i, any = 0, met;

	for (i = 0; i < NR_T; i++)
		any |= selected(c, NR_W + i);
	if (!any)
		return;
	printf("\nTagged (PROT_MTE) anonymous faults, mmsim only (this host has no MTE to "
	       "compare with):\nthe same pattern without PROT_MTE is the reference; cost = "
	       "ns per tagged fault / ns per untagged fault\n\n");
	printf("%-37s %-9s %9s %9s %6s  %-15s %-4s %12s %9s\n", "workload", "unit", "untagged",
	       "tagged", "cost", "target", "met", "simulated ns", "iters u/t");
	for (i = 0; i < NR_T; i++) {
		const struct tagged_workload *w = &tagged[i];
		double x = tagged_cost(w);

		if (!selected(c, NR_W + i))
			continue;
		fmt_rate(rv, sizeof(rv), &w->ref);
		fmt_rate(tv, sizeof(tv), &w->tag);
		if (x > 0.0)
			snprintf(ratio, sizeof(ratio), "%.2fx", x);
		else
			snprintf(ratio, sizeof(ratio), "-");
		if (w->tag.ok && w->tag.ops)
			snprintf(sn, sizeof(sn), "%.1f", (double)w->tag.sim_ns / (double)w->tag.ops);
		else
			snprintf(sn, sizeof(sn), "-");
		snprintf(iters, sizeof(iters), "%lu/%lu", w->ref.iters, w->tag.iters);
		if (w->target)
			snprintf(target, sizeof(target), "<= %.0fx untagged", w->target);
		else
			snprintf(target, sizeof(target), "(none)");
		met = tagged_met(w);
		printf("%-37s %-9s %9s %9s %6s  %-15s %-4s %12s %9s\n", w->name, "faults/s", rv, tv,
		       ratio, target, met_s[met < 0 ? 2 : met], sn, iters);
	}
	for (i = 0; i < NR_T; i++) {
		const struct tagged_workload *w = &tagged[i];

		if (!selected(c, NR_W + i) || !w->tag.ok || !w->tag.ops)
			continue;
		printf("  %s: %" PRId64 " tag blocks newly reserved and %" PRId64
		       " pages migrated in %" PRIu64 " timed faults\n", w->name, w->reserved,
		       w->migrated, w->tag.ops);
	}
}

/*
 * Why each failed side failed.  A failure shared by every workload (no
 * machine) is printed once, not once per workload.
 */
static void print_errors(FILE *f, const char *prefix)
{
	const char *last = "";
	int i, k;

	for (i = 0; i < NR_W; i++) {
		for (k = 0; k < 2; k++) {
			const struct side *s = k ? &work[i].sim : &work[i].host;

			if (s->ok || !s->err[0])
				continue;
			if (!strcmp(s->err, last))
				continue;
			fprintf(f, "%serror: %s %s: %s\n", prefix, k ? "mmsim" : "host",
				work[i].name, s->err);
			last = s->err;
		}
	}
	for (i = 0; i < NR_T; i++) {
		for (k = 0; k < 2; k++) {
			const struct side *s = k ? &tagged[i].tag : &tagged[i].ref;

			if (s->ok || !s->err[0] || !strcmp(s->err, last))
				continue;
			fprintf(f, "%serror: mmsim %s%s: %s\n", prefix, tagged[i].name,
				k ? "" : " (untagged reference)", s->err);
			last = s->err;
		}
	}
}

/* The readable table, the fork line, the memory line and the warnings. */
static void print_table(const struct bench_cfg *c, const struct mem_stats *ms)
{
	char hv[32], sv[32], sn[32], ratio[32], iters[32];
	const char *met_s[] = { "NO", "yes", "n/a" };
	double x, y, z, mi;
	struct utsname u;
	int i, met;

	if (uname(&u)) {
		strcpy(u.release, "?");
		strcpy(u.machine, "?");
	}
	printf("mmsim bench: host Linux %s %s (page %" PRIu64 " B) vs mmsim (simulated arm64)\n",
	       u.release, u.machine, host_page);
	printf("anon and zero-page: %" PRIu64 " MiB per iteration; COW: %" PRIu64
	       " MiB parent; ", c->size / MIB, c->cow_size / MIB);
	if (c->iterations)
		printf("%lu timed iterations after 1 warm-up\n", c->iterations);
	else
		printf("%.2g s per workload and side after 1 warm-up\n",
		       (double)c->budget_ns / 1e9);
	printf("host and mmsim columns: wall clock on this host (CLOCK_MONOTONIC); "
	       "speedup > 1 = mmsim faster\n\n");
	printf("%-22s %-9s %10s %10s %8s  %-13s %-4s %12s %9s\n", "workload", "unit", "host",
	       "mmsim", "speedup", "target", "met", "simulated ns", "iters h/m");
	for (i = 0; i < NR_W; i++) {
		const struct workload *w = &work[i];
		double r = speedup(w);

		if (!selected(c, i))
			continue;
		fmt_value(hv, sizeof(hv), w, &w->host);
		fmt_value(sv, sizeof(sv), w, &w->sim);
		if (r > 0.0)
			snprintf(ratio, sizeof(ratio), "%.2fx", r);
		else
			snprintf(ratio, sizeof(ratio), "-");
		if (w->sim.ok && w->sim.ops)
			snprintf(sn, sizeof(sn), "%.1f", (double)w->sim.sim_ns / (double)w->sim.ops);
		else
			snprintf(sn, sizeof(sn), "-");
		snprintf(iters, sizeof(iters), "%lu/%lu", w->host.iters, w->sim.iters);
		met = target_met(w);
		printf("%-22s %-9s %10s %10s %8s  %-13s %-4s %12s %9s\n", w->name, w->unit, hv, sv,
		       ratio, target_text(w), met_s[met < 0 ? 2 : met], sn, iters);
	}
	printf("\n\"simulated ns\" is simulated time (mmsim_now) per fault or load, "
	       "not host time.\n");
	fmt_fork_ms(hv, sizeof(hv), &work[W_COW].host);
	fmt_fork_ms(sv, sizeof(sv), &work[W_COW].sim);
	if (selected(c, W_COW))
		printf("COW rate counts the child's writes only; fork() is excluded and timed "
		       "apart: host %s ms, mmsim %s ms per fork of %" PRIu64 " MiB\n", hv, sv,
		       c->cow_size / MIB);
	if (!mem_figures(ms, &x, &y, &z, &mi)) {
		printf("model host memory: %.1f MiB for %.1f MiB simulated touched "
		       "(overhead %.1f%%)  target <= 3%%  met: %s\n",
		       x, y, z, z <= TARGET_OVERHEAD_PCT ? "yes" : "NO");
		if (mi >= 0.0)
			printf("  (host RSS growth from before boot to the peak; simulated "
			       "MemTotal-MemFree rose by %.1f MiB at its high-water)\n", mi);
	} else
		printf("model host memory: not measured (no mmsim workload held memory)\n");
	print_tagged_table(c);
	if (nr_warnings)
		printf("\n");
	print_warnings(stdout, "");
	print_errors(stdout, "");
}

/* Print one CSV number, or nothing when it is not measured. */
static void csv_num(double v, int ok)
{
	if (ok)
		printf(",%.6g", v);
	else
		printf(",");
}

/* The same figures as CSV on stdout; warnings and errors go to stderr. */
static void print_csv(const struct bench_cfg *c, const struct mem_stats *ms)
{
	double x, y, z, mi;
	int i, met;

	printf("workload,unit,host,mmsim,speedup,target,met,sim_ns_per_op,"
	       "iters_host,iters_mmsim\n");
	for (i = 0; i < NR_W; i++) {
		const struct workload *w = &work[i];

		if (!selected(c, i))
			continue;
		met = target_met(w);
		printf("%s,%s", w->key, w->unit);
		csv_num(side_value(w, &w->host), w->host.ok);
		csv_num(side_value(w, &w->sim), w->sim.ok);
		csv_num(speedup(w), speedup(w) > 0.0);
		printf(",%s,%s", w == &work[W_TLB] ? "mmsim<5ns" : "speedup>=3",
		       met < 0 ? "" : met ? "yes" : "no");
		csv_num(w->sim.ops ? (double)w->sim.sim_ns / (double)w->sim.ops : 0.0,
			w->sim.ok && w->sim.ops);
		printf(",%lu,%lu\n", w->host.iters, w->sim.iters);
	}
	if (selected(c, W_COW))
		printf("cow_fork,ms/fork");
	for (i = 0; i < 2 && selected(c, W_COW); i++) {
		const struct side *s = i ? &work[W_COW].sim : &work[W_COW].host;

		csv_num(s->iters ? (double)s->fork_ns / 1e6 / (double)s->iters : 0.0,
			s->ok && s->iters);
	}
	if (selected(c, W_COW))
		printf(",,excluded from COW rate,,,%lu,%lu\n", work[W_COW].host.iters,
		       work[W_COW].sim.iters);
	if (!mem_figures(ms, &x, &y, &z, &mi)) {
		printf("model_host_memory,MiB,%.6g,%.6g,,host RSS growth vs simulated touched,,,,\n",
		       x, y);
		if (mi >= 0.0)
			printf("sim_meminfo_used_highwater,MiB,,%.6g,,,,,,\n", mi);
		printf("model_memory_overhead,%%,,%.6g,,overhead<=3%%,%s,,,\n", z,
		       z <= TARGET_OVERHEAD_PCT ? "yes" : "no");
	}
	/* tagged rows: "host" is mmsim's untagged reference, "speedup" the cost */
	for (i = 0; i < NR_T; i++) {
		const struct tagged_workload *w = &tagged[i];

		if (!selected(c, NR_W + i))
			continue;
		met = tagged_met(w);
		printf("%s,faults/s", w->key);
		csv_num(side_rate(&w->ref), w->ref.ok);
		csv_num(side_rate(&w->tag), w->tag.ok);
		csv_num(tagged_cost(w), tagged_cost(w) > 0.0);
		printf(",%s,%s", w->target ? "cost<=2x_untagged" : "", met < 0 ? "" : met ? "yes" : "no");
		csv_num(w->tag.ops ? (double)w->tag.sim_ns / (double)w->tag.ops : 0.0,
			w->tag.ok && w->tag.ops);
		printf(",%lu,%lu\n", w->ref.iters, w->tag.iters);
	}
	print_warnings(stderr, "mmsim bench: ");
	print_errors(stderr, "mmsim bench: ");
}

/* --------------------------------------------------------------- options */

/* The --help text. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: mmsim bench [--quick] [--iterations N] [--size MiB] [--only LIST] [--csv]\n"
		"\n"
		"Runs each workload on mmsim and on this host's kernel and prints both\n"
		"rates, their ratio and the targets (see bench/README.md):\n"
		"  anon write faults      mmap, 8-byte store per 4 KiB page, munmap\n"
		"  COW write faults       populate, fork, the child writes every page\n"
		"  zero-page read faults  mmap, 1-byte load per page, munmap\n"
		"  TLB-hit 8-byte load    loads over 16 faulted pages (ns/load)\n"
		"  model host memory      host RSS growth vs simulated memory touched\n"
		"  tagged write faults    mmsim only: PROT_MTE faults whose tag block is\n"
		"                         already reserved (tagged) or new (tagged-fresh),\n"
		"                         against untagged faults of the same pattern\n"
		"\n"
		"  --quick          small sizes and short budgets, for a smoke run\n"
		"  --iterations N   exactly N timed iterations (rounds of loads for the\n"
		"                   load loop) instead of a time budget\n"
		"  --size MiB       anon and zero-page mapping size (default 128; the COW\n"
		"                   parent maps half of it)\n"
		"  --only LIST      run only these of anon,cow,zero,tlb,tagged,tagged-fresh,scaling\n"
		"  --csv            CSV on stdout instead of the table\n"
		"  --help           this text\n"
		"\n"
		"Exit status: 0 all measured, 1 a workload could not run, 2 bad option.\n");
}

/* Parse a positive decimal option value; 0 on success, -1 if invalid. */
static int parse_count(const char *opt, const char *s, unsigned long max, unsigned long *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s) {
		fprintf(stderr, "mmsim bench: %s needs a value (see mmsim bench --help)\n", opt);
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || *s == '-' || v == 0 || v > max) {
		fprintf(stderr, "mmsim bench: %s '%s': expected a whole number from 1 to %lu\n",
			opt, s, max);
		return -1;
	}
	*out = (unsigned long)v;
	return 0;
}

/*
 * Parse --only's comma-separated workload names (anon,cow,zero,tlb) into a
 * mask; repeated --only options add up.  0 on success, -1 if invalid.
 */
static int parse_only(const char *s, unsigned int *mask)
{
	const char *p = s;
	size_t n;
	int w;

	if (!s || !*s) {
		fprintf(stderr, "mmsim bench: --only needs a value (see mmsim bench --help)\n");
		return -1;
	}
	while (*p) {
		n = strcspn(p, ",");
		for (w = 0; w < NR_W + NR_T; w++) {
			const char *o = w < NR_W ? work[w].opt : tagged[w - NR_W].opt;

			if (strlen(o) == n && !strncmp(p, o, n))
				break;
		}
		if (w == NR_W + NR_T && n == 7 && !strncmp(p, "scaling", n))
			w = W_SCALING;
		else if (w == NR_W + NR_T) {
			fprintf(stderr, "mmsim bench: --only '%s': expected workload names "
				"from anon, cow, zero, tlb, tagged, tagged-fresh, scaling separated by "
				"commas\n", s);
			return -1;
		}
		*mask |= 1U << w;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/*
 * Read the options into c.  Returns 0 to run, 1 after --help, 2 on error.
 * Accepts "--opt value" and "--opt=value".
 */
static int parse_args(int argc, char **argv, struct bench_cfg *c)
{
	unsigned long size_mib = 0, iters = 0;
	const char *val;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		size_t nlen = eq ? (size_t)(eq - a) : strlen(a);

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 1;
		} else if (!strcmp(a, "--quick")) {
			c->quick = 1;
		} else if (!strcmp(a, "--csv")) {
			c->csv = 1;
		} else if (nlen == 6 && !strncmp(a, "--only", nlen)) {
			val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (parse_only(val, &c->only))
				return 2;
		} else if ((nlen == 12 && !strncmp(a, "--iterations", nlen)) ||
			   (nlen == 6 && !strncmp(a, "--size", nlen))) {
			val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (nlen == 6 ? parse_count("--size", val, 65536, &size_mib)
				      : parse_count("--iterations", val, MAX_ITERS, &iters))
				return 2;
		} else {
			fprintf(stderr, "mmsim bench: unknown option '%s' (see mmsim bench --help)\n",
				a);
			return 2;
		}
	}
	c->size = (c->quick ? 8 : 128) * MIB;
	c->budget_ns = c->quick ? 50000000ULL : 1500000000ULL;
	c->tlb_budget_ns = c->quick ? 20000000ULL : 500000000ULL;
	c->tlb_chunk = c->quick ? 65536 : 1048576;
	if (size_mib)
		c->size = size_mib * MIB;
	c->iterations = iters;
	if (!c->only)
		c->only = (1U << (W_SCALING + 1)) - 1;
	/* Half for COW: parent plus child copies touch as much as workload 1. */
	c->cow_size = c->size / 2 >= MIB ? c->size / 2 : MIB;
	return 0;
}

/* `mmsim bench`: see bench.h. */
int mmsim_bench_main(int argc, char **argv)
{
	struct bench_cfg cfg = { 0 };
	struct mem_stats ms = { 0 };
	int rc, i;

	/* A second call in one process starts from a clean slate. */
	for (i = 0; i < NR_W; i++) {
		free(work[i].host.iter_ns);
		free(work[i].sim.iter_ns);
		memset(&work[i].host, 0, sizeof(work[i].host));
		memset(&work[i].sim, 0, sizeof(work[i].sim));
	}
	for (i = 0; i < NR_T; i++) {
		free(tagged[i].ref.iter_ns);
		free(tagged[i].tag.iter_ns);
		memset(&tagged[i].ref, 0, sizeof(tagged[i].ref));
		memset(&tagged[i].tag, 0, sizeof(tagged[i].tag));
		tagged[i].reserved = tagged[i].migrated = 0;
	}
	nr_warnings = 0;
	rc = parse_args(argc, argv, &cfg);
	if (rc)
		return rc == 1 ? 0 : 2;
	host_page = (uint64_t)sysconf(_SC_PAGESIZE);
	if (!host_page || cfg.size % host_page || cfg.cow_size % host_page) {
		fprintf(stderr, "mmsim bench: --size must be a multiple of the host page size\n");
		return 2;
	}
	progress = isatty(STDERR_FILENO);
	check_host_load();

	if (selected(&cfg, W_ANON))
		host_faults(&cfg, &work[W_ANON], 1);
	if (selected(&cfg, W_COW))
		host_cow(&cfg, &work[W_COW]);
	if (selected(&cfg, W_ZERO))
		host_faults(&cfg, &work[W_ZERO], 0);
	if (selected(&cfg, W_TLB))
		host_tlb(&cfg, &work[W_TLB]);
	sim_all(&cfg, &ms);

	if (cfg.csv)
		print_csv(&cfg, &ms);
	else
		print_table(&cfg, &ms);
	fflush(stdout);
	rc = 0;
	if (selected(&cfg, W_SCALING) &&
	    bench_scaling(cfg.quick ? 4 * MIB : 64 * MIB, cfg.quick ? 3 : 9, cfg.csv))
		rc = 1;
	for (i = 0; i < NR_W; i++) {
		if (selected(&cfg, i) && (!work[i].host.ok || !work[i].sim.ok))
			rc = 1;
		free(work[i].host.iter_ns);
		free(work[i].sim.iter_ns);
		work[i].host.iter_ns = work[i].sim.iter_ns = NULL;
		work[i].host.cap = work[i].sim.cap = 0;
	}
	for (i = 0; i < NR_T; i++) {
		if (selected(&cfg, NR_W + i) && (!tagged[i].ref.ok || !tagged[i].tag.ok))
			rc = 1;
		free(tagged[i].ref.iter_ns);
		free(tagged[i].tag.iter_ns);
		tagged[i].ref.iter_ns = tagged[i].tag.iter_ns = NULL;
		tagged[i].ref.cap = tagged[i].tag.cap = 0;
	}
	return rc;
}
