// SPDX-License-Identifier: MIT
/*
 * tests/test_proc.c - the /proc and /sys text and the knobs: every file
 * parses with the format string Linux prints it with, counters move by
 * exactly what the faults did, pagemap and smaps agree with fork and COW,
 * and bad knob values are refused with -EINVAL and a sentence.
 */
#include <stdlib.h>

#include "harness.h"

#define BASE		0x500000000ULL
#define RW		(MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define ANON_PRIV	(MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED)

#define PM_PRESENT	(1ULL << 63)
#define PM_SWAP		(1ULL << 62)
#define PM_FILE		(1ULL << 61)
#define PM_EXCLUSIVE	(1ULL << 56)
#define PM_PFN(e)	((e) & ((1ULL << 55) - 1))

static struct mmsim_task *new_task(struct mmsim_machine *m)
{
	struct mmsim_task *t = NULL;

	ASSERT_EQ(mmsim_task_create(m, &t), 0);
	return t;
}

/* The whole of a /proc file, malloc'ed; the test fails if it cannot be read. */
static char *slurp(struct mmsim_machine *m, struct mmsim_task *t, const char *path)
{
	ssize_t n = mmsim_proc_read(m, t, path, NULL, 0), got;
	char *buf;

	if (n < 0)
		TEST_FAIL_(1, "proc_read(%s): %zd %s", path, n, mmsim_strerror_last());
	buf = malloc((size_t)n + 1);
	ASSERT_TRUE(buf != NULL);
	got = mmsim_proc_read(m, t, path, buf, (size_t)n + 1);
	ASSERT_EQ(got, n);
	ASSERT_EQ(strlen(buf), (size_t)n);
	return buf;
}

/* The value of a "Label:   N kB" line of meminfo, status or smaps. */
static long long field_kb(const char *text, const char *label)
{
	const char *p = strstr(text, label);
	long long v;

	if (!p || sscanf(p + strlen(label), " %lld", &v) != 1)
		TEST_FAIL_(1, "no '%s' in the text", label);
	return v;
}

static long long meminfo_kb(struct mmsim_machine *m, const char *label)
{
	char *text = slurp(m, NULL, "meminfo");
	long long v = field_kb(text, label);

	free(text);
	return v;
}

static uint64_t map_anon(struct mmsim_task *t, uint64_t addr, uint64_t len)
{
	int64_t r = mmsim_mmap(t, addr, len, RW, ANON_PRIV, -1, 0);

	ASSERT_EQ(r, (int64_t)addr);
	return addr;
}

static void touch(struct mmsim_task *t, uint64_t addr, unsigned int n, uint8_t byte)
{
	struct mmsim_siginfo si;
	unsigned int i;

	for (i = 0; i < n; i++)
		ASSERT_EQ(mmsim_store(t, addr + i * PAGE, &byte, 1, &si), MMSIM_ACCESS_OK);
}

static uint64_t pagemap(struct mmsim_task *t, uint64_t addr)
{
	uint64_t e = 0;

	ASSERT_EQ(mmsim_pagemap(t, addr, &e), 0);
	return e;
}

/* Linux 6.6 arm64 meminfo, in order. */
static const char *const meminfo_labels[] = {
	"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active",
	"Inactive", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)",
	"Unevictable", "Mlocked", "SwapTotal", "SwapFree", "Zswap", "Zswapped", "Dirty",
	"Writeback", "AnonPages", "Mapped", "Shmem", "KReclaimable", "Slab", "SReclaimable",
	"SUnreclaim", "KernelStack", "PageTables", "SecPageTables", "NFS_Unstable", "Bounce",
	"WritebackTmp", "CommitLimit", "Committed_AS", "VmallocTotal", "VmallocUsed",
	"VmallocChunk", "Percpu", "HardwareCorrupted", "AnonHugePages", "ShmemHugePages",
	"ShmemPmdMapped", "FileHugePages", "FilePmdMapped", "CmaTotal", "CmaFree",
	"MetadataTotal", "MetadataFree",	/* the tag storage series (MEMORY_METADATA) */
	"HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp",
	"Hugepagesize", "Hugetlb",
};

TEST(proc_meminfo_fields_in_order)
{
	struct mmsim_machine *m = test_machine(NULL);
	char *text = slurp(m, NULL, "meminfo"), *line, *save = NULL;
	size_t i = 0, n = sizeof(meminfo_labels) / sizeof(meminfo_labels[0]);

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		char label[32];
		unsigned long v;
		char unit[4] = "";
		int f;

		ASSERT_LT(i, n);
		f = sscanf(line, "%31[^:]: %lu %3s", label, &v, unit);
		if (f < 2)
			TEST_FAIL_(1, "unparsable meminfo line '%s'", line);
		if (strcmp(label, meminfo_labels[i]))
			TEST_FAIL_(1, "line %zu is '%s', Linux has '%s' there", i, label,
				   meminfo_labels[i]);
		if (f == 3) {
			char digits[32];
			size_t d = (size_t)snprintf(digits, sizeof(digits), "%lu", v);

			/* show_val_kb(): the value ends in column 24 (or overflows), then " kB". */
			EXPECT_EQ(strlen(line), (d > 8 ? 16 + d : 24) + 3);
			EXPECT_TRUE(!strcmp(unit, "kB"));
		}
	}
	EXPECT_EQ(i, n);
	free(text);

	EXPECT_LE(meminfo_kb(m, "MemTotal:"), 1048576 + 32768);	/* + the tag storage */
	EXPECT_GT(meminfo_kb(m, "MemTotal:"), 1000000);
	EXPECT_LE(meminfo_kb(m, "MemFree:"), meminfo_kb(m, "MemTotal:"));
	EXPECT_LE(meminfo_kb(m, "MemAvailable:"), meminfo_kb(m, "MemTotal:"));
	EXPECT_EQ(meminfo_kb(m, "Hugepagesize:"), 2048);
	mmsim_machine_destroy(m);
}

TEST(proc_meminfo_and_vmstat_count_faults)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	const unsigned int n = 37;
	long long anon0, free0;
	int64_t faults0;

	map_anon(t, BASE, 64 * PAGE);
	anon0 = meminfo_kb(m, "AnonPages:");
	free0 = meminfo_kb(m, "MemFree:");
	faults0 = mmsim_vmstat(m, "pgfault");
	ASSERT_GE(faults0, 0);

	touch(t, BASE, n, 0x5a);
	EXPECT_EQ(meminfo_kb(m, "AnonPages:") - anon0, n * 4);
	EXPECT_EQ(mmsim_vmstat(m, "pgfault") - faults0, n);
	EXPECT_EQ(mmsim_vmstat(m, "nr_anon_pages") * 4, meminfo_kb(m, "AnonPages:"));
	/* Pages may come from the per-cpu lists, which MemFree already excludes. */
	EXPECT_LE(meminfo_kb(m, "MemFree:"), free0);

	/* A second touch of the same pages is no fault at all. */
	touch(t, BASE, n, 0xa5);
	EXPECT_EQ(mmsim_vmstat(m, "pgfault") - faults0, n);
	mmsim_machine_destroy(m);
}

TEST(proc_vmstat_layout)
{
	struct mmsim_machine *m = test_machine(NULL);
	char *text = slurp(m, NULL, "vmstat"), *line, *save = NULL;
	int i = 0, pos_free = -1, pos_thresh = -1, pos_pgpgin = -1, pos_numa = -1, pos_nr_inactive = -1;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		char name[64];
		unsigned long long v;
		char extra;

		if (sscanf(line, "%63s %llu%c", name, &v, &extra) != 2)
			TEST_FAIL_(1, "vmstat line '%s' is not 'name value'", line);
		ASSERT_EQ(mmsim_vmstat(m, name), (int64_t)v);
		if (!strcmp(name, "nr_free_pages"))
			pos_free = i;
		else if (!strcmp(name, "numa_hit"))
			pos_numa = i;
		else if (!strcmp(name, "nr_inactive_anon"))
			pos_nr_inactive = i;
		else if (!strcmp(name, "nr_dirty_threshold"))
			pos_thresh = i;
		else if (!strcmp(name, "pgpgin"))
			pos_pgpgin = i;
		/* arm64 has no PUD THPs and no x86 direct map. */
		EXPECT_TRUE(strcmp(name, "thp_split_pud") != 0);
		EXPECT_TRUE(strncmp(name, "direct_map_", 11) != 0);
	}
	free(text);
	EXPECT_EQ(pos_free, 0);
	EXPECT_LT(pos_free, pos_numa);
	EXPECT_LT(pos_numa, pos_nr_inactive);
	EXPECT_LT(pos_nr_inactive, pos_thresh);
	EXPECT_EQ(pos_thresh + 2, pos_pgpgin);

	EXPECT_EQ(mmsim_vmstat(m, "no_such_counter"), -MMSIM_ENOENT);
	ASSERT_STR_CONTAINS(mmsim_strerror_last(), "no_such_counter");
	EXPECT_EQ(mmsim_vmstat(m, "MemFree"), -MMSIM_ENOENT);
	EXPECT_EQ(mmsim_vmstat(NULL, "pgfault"), -MMSIM_EINVAL);
	mmsim_machine_destroy(m);
}

TEST(proc_buddyinfo_parses)
{
	struct mmsim_machine *m = test_machine("arm64.nomte");	/* no Metadata pageblocks */
	char *text = slurp(m, NULL, "buddyinfo"), *line, *save = NULL;
	int zones = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long c[11];
		char zone[16];
		int node;

		ASSERT_EQ(sscanf(line, "Node %d, zone %15s %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu %lu",
				 &node, zone, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6],
				 &c[7], &c[8], &c[9], &c[10]), 13);
		/* "zone %8s " then "%6lu " per order. */
		EXPECT_EQ(strlen(line), strlen("Node 0, zone ") + 9 + 11 * 7 + (node > 9));
		zones++;
	}
	EXPECT_GT(zones, 0);
	free(text);

	text = slurp(m, NULL, "pagetypeinfo");
	ASSERT_STR_CONTAINS(text, "Page block order: 9\nPages per block:  512\n\n");
	ASSERT_STR_CONTAINS(text, "Free pages count per migrate type at order       0      1");
	ASSERT_STR_CONTAINS(text, "type    Unmovable ");
	ASSERT_STR_CONTAINS(text, "\nNumber of blocks type     Unmovable      Movable  Reclaimable"
				  "   HighAtomic          CMA      Isolate \n");
	EXPECT_TRUE(strstr(text, "Metadata") == NULL);
	free(text);

	text = slurp(m, NULL, "zoneinfo");
	ASSERT_STR_CONTAINS(text, "Node 0, zone ");
	ASSERT_STR_CONTAINS(text, "\n  pages free     ");
	ASSERT_STR_CONTAINS(text, "\n        protection: (");
	ASSERT_STR_CONTAINS(text, "\n    cpu: 0\n              count: ");
	free(text);
	mmsim_machine_destroy(m);
}

TEST(proc_pagemap_fault_and_fork)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m), *c = NULL;
	struct mmsim_siginfo si;
	uint64_t e, ce, pfn;
	uint8_t b;

	map_anon(t, BASE, 4 * PAGE);
	EXPECT_EQ(pagemap(t, BASE), 0);
	EXPECT_EQ(pagemap(t, BASE - PAGE), 0);          /* no VMA */

	touch(t, BASE, 1, 1);
	e = pagemap(t, BASE + 123);                      /* unaligned: same page */
	EXPECT_TRUE(e & PM_PRESENT);
	EXPECT_TRUE(e & PM_EXCLUSIVE);
	EXPECT_TRUE(!(e & (PM_FILE | PM_SWAP)));
	pfn = PM_PFN(e);
	EXPECT_NE(pfn, 0);

	/* A read fault maps the shared zero page: present, not exclusive, not file. */
	ASSERT_EQ(mmsim_load(t, BASE + PAGE, &b, 1, &si), MMSIM_ACCESS_OK);
	e = pagemap(t, BASE + PAGE);
	EXPECT_TRUE(e & PM_PRESENT);
	EXPECT_TRUE(!(e & (PM_EXCLUSIVE | PM_FILE)));

	ASSERT_EQ(mmsim_fork(t, &c), 0);
	e = pagemap(t, BASE);
	ce = pagemap(c, BASE);
	EXPECT_EQ(PM_PFN(e), pfn);
	EXPECT_EQ(PM_PFN(ce), pfn);
	EXPECT_TRUE((e & PM_PRESENT) && (ce & PM_PRESENT));
	EXPECT_TRUE(!(e & PM_EXCLUSIVE) && !(ce & PM_EXCLUSIVE));

	/* The child's write breaks COW: both ends are exclusive again. */
	touch(c, BASE, 1, 2);
	ce = pagemap(c, BASE);
	e = pagemap(t, BASE);
	EXPECT_NE(PM_PFN(ce), pfn);
	EXPECT_TRUE(ce & PM_EXCLUSIVE);
	EXPECT_EQ(PM_PFN(e), pfn);
	EXPECT_TRUE(e & PM_EXCLUSIVE);

	EXPECT_EQ(mmsim_pagemap(NULL, BASE, &e), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_pagemap(t, BASE, NULL), -MMSIM_EINVAL);
	mmsim_machine_destroy(m);
}

TEST(proc_smaps_rss_and_sharing)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m), *c = NULL;
	const unsigned int n = 10;
	char *text;

	map_anon(t, BASE, 16 * PAGE);
	touch(t, BASE, n, 7);
	text = slurp(m, t, "self/smaps");
	ASSERT_STR_CONTAINS(text, "500000000-500010000 rw-p 00000000 00:00 0 \n");
	EXPECT_EQ(field_kb(text, "\nSize:"), 64);
	EXPECT_EQ(field_kb(text, "\nKernelPageSize:"), 4);
	EXPECT_EQ(field_kb(text, "\nRss:"), n * 4);
	EXPECT_EQ(field_kb(text, "\nPss:"), n * 4);
	EXPECT_EQ(field_kb(text, "\nAnonymous:"), n * 4);
	EXPECT_EQ(field_kb(text, "\nPrivate_Dirty:"), n * 4);
	EXPECT_EQ(field_kb(text, "\nShared_Dirty:"), 0);
	ASSERT_STR_CONTAINS(text, "\nVmFlags: rd wr mr mw me ac");
	ASSERT_STR_CONTAINS(text, "Private_Hugetlb:       0 kB\n");
	free(text);

	ASSERT_EQ(mmsim_fork(t, &c), 0);
	text = slurp(m, c, "self/smaps");
	EXPECT_EQ(field_kb(text, "\nRss:"), n * 4);
	EXPECT_EQ(field_kb(text, "\nPss:"), n * 2);
	EXPECT_EQ(field_kb(text, "\nShared_Dirty:"), n * 4);
	EXPECT_EQ(field_kb(text, "\nPrivate_Dirty:"), 0);
	free(text);

	text = slurp(m, t, "self/smaps_rollup");
	ASSERT_STR_CONTAINS(text, "[rollup]\n");
	EXPECT_EQ(field_kb(text, "\nRss:"), n * 4);
	EXPECT_EQ(field_kb(text, "\nPss_Anon:"), n * 2);
	free(text);

	text = slurp(m, t, "self/status");
	EXPECT_EQ(field_kb(text, "\nVmRSS:"), n * 4);
	EXPECT_EQ(field_kb(text, "\nRssAnon:"), n * 4);
	EXPECT_EQ(field_kb(text, "\nVmSize:"), 64);
	ASSERT_STR_CONTAINS(text, "VmRSS:\t      40 kB\n");
	free(text);
	mmsim_machine_destroy(m);
}

TEST(proc_maps_lines_and_pids)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m);
	char path[64], *text, *byname;
	unsigned long long start, end, off, ino;
	char perms[5];
	unsigned int maj, min;
	int fd;
	int64_t r;

	map_anon(t, BASE, 2 * PAGE);
	fd = mmsim_memfd_create(t, "buf", 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(mmsim_ftruncate(t, fd, 4 * PAGE), 0);
	r = mmsim_mmap(t, BASE + 16 * PAGE, 4 * PAGE, RW, MMSIM_MAP_SHARED | MMSIM_MAP_FIXED, fd, 0);
	ASSERT_EQ(r, (int64_t)(BASE + 16 * PAGE));

	text = slurp(m, t, "self/maps");
	ASSERT_EQ(sscanf(text, "%llx-%llx %4s %llx %x:%x %llu", &start, &end, perms, &off, &maj,
			 &min, &ino), 7);
	EXPECT_EQ(start, BASE);
	EXPECT_EQ(end, BASE + 2 * PAGE);
	EXPECT_TRUE(!strcmp(perms, "rw-p"));
	ASSERT_STR_CONTAINS(text, "500010000-500014000 rw-s 00000000 00:01 ");
	ASSERT_STR_CONTAINS(text, " /memfd:buf (deleted)\n");
	/* The name starts in column 73, as seq_pad() puts it. */
	EXPECT_EQ(strstr(text, "/memfd:") - strstr(text, "500010000-"), 73);

	snprintf(path, sizeof(path), "%d/maps", mmsim_task_pid(t));
	byname = slurp(m, NULL, path);
	EXPECT_TRUE(!strcmp(text, byname));
	free(byname);
	free(text);

	EXPECT_EQ(mmsim_proc_read(m, NULL, "self/maps", NULL, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_proc_read(m, t, "self/nope", NULL, 0), -MMSIM_ENOENT);
	EXPECT_EQ(mmsim_proc_read(m, t, "99999/maps", NULL, 0), -MMSIM_ENOENT);
	mmsim_machine_destroy(m);
}

TEST(proc_read_truncates_and_reports_size)
{
	struct mmsim_machine *m = test_machine(NULL);
	char small[16];
	ssize_t full;

	full = mmsim_proc_read(m, NULL, "meminfo", NULL, 0);
	ASSERT_GT(full, 100);
	EXPECT_EQ(mmsim_proc_read(m, NULL, "/proc/meminfo", NULL, 0), full);
	memset(small, 'x', sizeof(small));
	EXPECT_EQ(mmsim_proc_read(m, NULL, "meminfo", small, sizeof(small)), 15);
	EXPECT_EQ(small[15], '\0');
	EXPECT_TRUE(!strncmp(small, "MemTotal:      ", 15));

	EXPECT_EQ(mmsim_proc_read(m, NULL, "nosuchfile", NULL, 0), -MMSIM_ENOENT);
	ASSERT_STR_CONTAINS(mmsim_strerror_last(), "meminfo");
	EXPECT_EQ(mmsim_proc_read(m, NULL, NULL, NULL, 0), -MMSIM_EINVAL);
	EXPECT_GE(mmsim_proc_read(m, NULL, "kmsg", NULL, 0), 0);
	mmsim_machine_destroy(m);
}

TEST(proc_sysfs_thp_round_trip)
{
	struct mmsim_machine *m = test_machine(NULL);
	const char *en = "kernel/mm/transparent_hugepage/enabled";
	const char *df = "kernel/mm/transparent_hugepage/defrag";
	char buf[128];

	ASSERT_EQ(mmsim_sysfs_write(m, en, "never"), 0);
	ASSERT_GT(mmsim_sysfs_read(m, en, buf, sizeof(buf)), 0);
	EXPECT_TRUE(!strcmp(buf, "always madvise [never]\n"));
	ASSERT_EQ(mmsim_sysfs_write(m, en, "madvise\n"), 0);
	mmsim_sysfs_read(m, en, buf, sizeof(buf));
	EXPECT_TRUE(!strcmp(buf, "always [madvise] never\n"));
	ASSERT_EQ(mmsim_sysfs_write(m, en, "always"), 0);
	mmsim_sysfs_read(m, en, buf, sizeof(buf));
	EXPECT_TRUE(!strcmp(buf, "[always] madvise never\n"));

	EXPECT_EQ(mmsim_sysfs_write(m, en, "sometimes"), -MMSIM_EINVAL);
	ASSERT_STR_CONTAINS(mmsim_strerror_last(), "madvise");
	EXPECT_EQ(mmsim_sysfs_write(m, en, "always\n\n"), -MMSIM_EINVAL);
	mmsim_sysfs_read(m, en, buf, sizeof(buf));
	EXPECT_TRUE(!strcmp(buf, "[always] madvise never\n"));

	mmsim_sysfs_read(m, df, buf, sizeof(buf));
	EXPECT_TRUE(!strcmp(buf, "always defer defer+madvise [madvise] never\n"));
	ASSERT_EQ(mmsim_sysfs_write(m, df, "defer+madvise"), 0);
	mmsim_sysfs_read(m, df, buf, sizeof(buf));
	EXPECT_TRUE(!strcmp(buf, "always defer [defer+madvise] madvise never\n"));

	ASSERT_EQ(mmsim_sysfs_write(m, "kernel/mm/transparent_hugepage/use_zero_page", "0\n"), 0);
	mmsim_sysfs_read(m, "/sys/kernel/mm/transparent_hugepage/use_zero_page", buf, sizeof(buf));
	EXPECT_TRUE(!strcmp(buf, "0\n"));
	EXPECT_EQ(mmsim_sysfs_write(m, "kernel/mm/transparent_hugepage/use_zero_page", "2"),
		  -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_sysfs_write(m, "kernel/mm/nope", "1"), -MMSIM_ENOENT);
	EXPECT_EQ(mmsim_sysfs_read(m, "kernel/mm/nope", buf, sizeof(buf)), -MMSIM_ENOENT);
	mmsim_machine_destroy(m);
}

TEST(proc_sysctl_ranges)
{
	struct mmsim_machine *m = test_machine(NULL);
	char buf[64], *zi;
	long long min_before;

	ASSERT_EQ(mmsim_sysctl_write(m, "vm.overcommit_memory", "2"), 0);
	ASSERT_EQ(mmsim_sysctl_read(m, "vm/overcommit_memory", buf, sizeof(buf)), 2);
	EXPECT_TRUE(!strcmp(buf, "2\n"));
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.overcommit_memory", "3"), -MMSIM_EINVAL);
	ASSERT_STR_CONTAINS(mmsim_strerror_last(), "vm.overcommit_memory");
	ASSERT_STR_CONTAINS(mmsim_strerror_last(), "0..2");
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.overcommit_memory", "1x"), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.overcommit_memory", ""), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.overcommit_memory", " 0\n"), 0);

	EXPECT_EQ(mmsim_sysctl_write(m, "vm.watermark_scale_factor", "0"), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.watermark_scale_factor", "3001"), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.watermark_scale_factor", "3000"), 0);
	EXPECT_EQ(mmsim_sysctl_write(m, "kernel.numa_balancing", "4"), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_sysctl_write(m, "kernel.numa_balancing", "1"), 0);
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.max_map_count", "-1"), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_sysctl_write(m, "vm.no_such_knob", "1"), -MMSIM_ENOENT);
	EXPECT_EQ(mmsim_sysctl_read(m, "vm.no_such_knob", buf, sizeof(buf)), -MMSIM_ENOENT);

	/* A larger min_free_kbytes raises the zones' min watermarks. */
	zi = slurp(m, NULL, "zoneinfo");
	min_before = field_kb(zi, "\n        min");
	free(zi);
	ASSERT_EQ(mmsim_sysctl_write(m, "vm.min_free_kbytes", "65536"), 0);
	mmsim_sysctl_read(m, "vm.min_free_kbytes", buf, sizeof(buf));
	EXPECT_TRUE(!strcmp(buf, "65536\n"));
	zi = slurp(m, NULL, "zoneinfo");
	EXPECT_GT(field_kb(zi, "\n        min"), min_before);
	free(zi);
	mmsim_machine_destroy(m);
}

/* One 8-byte entry of a pfn-indexed file, read as page-types reads it. */
static uint64_t kpage_entry(struct mmsim_machine *m, const char *file, uint64_t pfn)
{
	uint64_t v = ~0ULL;

	ASSERT_EQ(mmsim_proc_pread(m, NULL, file, &v, sizeof(v), pfn * 8), 8);
	return v;
}

#define KPF(v, bit) (((v) >> MMSIM_KPF_##bit) & 1)

/*
 * /proc/kpageflags and /proc/kpagecount: one u64 per frame at pfn * 8,
 * Linux's KPF_* bits; offsets and lengths not a multiple of 8 are -EINVAL,
 * a read past the last frame returns 0, frames that are no memory read as
 * KPF_NOPAGE.  A mapped anonymous page, its page table, the zero page, a
 * free page, a tagged page, and the map count across fork.
 */
TEST(proc_kpageflags_and_kpagecount)
{
	struct mmsim_machine *m = test_machine(NULL);
	struct mmsim_task *t = new_task(m), *c = NULL;
	struct mmsim_siginfo si;
	uint64_t size, e = 0, pfn, v, two[2];
	uint8_t b;

	size = (uint64_t)mmsim_proc_read(m, NULL, "kpageflags", NULL, 0);
	ASSERT_GT(size, 0);
	ASSERT_EQ(size % 8, 0);
	EXPECT_EQ(mmsim_proc_pread(m, NULL, "kpageflags", &v, 8, size), 0);
	EXPECT_EQ(mmsim_proc_pread(m, NULL, "kpageflags", &v, 8, 4), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_proc_pread(m, NULL, "kpagecount", two, 12, 0), -MMSIM_EINVAL);
	EXPECT_EQ(mmsim_proc_pread(m, NULL, "kpageflagz", &v, 8, 0), -MMSIM_ENOENT);
	/* Frame 0 is below the built-in machine's RAM (1 GiB up). */
	EXPECT_EQ(kpage_entry(m, "kpageflags", 0), 1ULL << MMSIM_KPF_NOPAGE);
	EXPECT_EQ(kpage_entry(m, "kpagecount", 0), 0);
	/* mmsim_proc_read reads whole entries from frame 0. */
	EXPECT_EQ(mmsim_proc_read(m, NULL, "kpageflags", (char *)two, sizeof(two) + 3), 16);
	EXPECT_EQ(two[1], 1ULL << MMSIM_KPF_NOPAGE);

	ASSERT_EQ(mmsim_mmap(t, BASE, 2 * PAGE, RW, ANON_PRIV, -1, 0), (int64_t)BASE);
	ASSERT_EQ(mmsim_load(t, BASE + PAGE, &b, 1, &si), MMSIM_ACCESS_OK);	/* the zero page */
	ASSERT_EQ(mmsim_fill(t, BASE, 0x11, PAGE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_pagemap(t, BASE, &e), 0);
	pfn = PM_PFN(e);
	v = kpage_entry(m, "kpageflags", pfn);
	EXPECT_TRUE(KPF(v, MMAP) && KPF(v, ANON) && KPF(v, LRU) && KPF(v, SWAPBACKED));
	EXPECT_TRUE(!KPF(v, BUDDY) && !KPF(v, NOPAGE) && !KPF(v, ZERO_PAGE));
	EXPECT_EQ(KPF(v, ARCH_2) | KPF(v, ARCH_4), 0);		/* untagged */
	EXPECT_EQ(kpage_entry(m, "kpagecount", pfn), 1);
	ASSERT_EQ(mmsim_fork(t, &c), 0);
	EXPECT_EQ(kpage_entry(m, "kpagecount", pfn), 2);
	mmsim_task_exit(c);
	EXPECT_EQ(kpage_entry(m, "kpagecount", pfn), 1);
	ASSERT_EQ(mmsim_pagemap(t, BASE + PAGE, &e), 0);
	v = kpage_entry(m, "kpageflags", PM_PFN(e));
	EXPECT_TRUE(KPF(v, ZERO_PAGE) && !KPF(v, ANON));
	/* The page is freed: back in the buddy, no longer mapped. */
	ASSERT_EQ(mmsim_munmap(t, BASE, 2 * PAGE), 0);
	v = kpage_entry(m, "kpageflags", pfn);
	EXPECT_TRUE(!KPF(v, MMAP) && !KPF(v, ANON) && !KPF(v, LRU));
	EXPECT_EQ(kpage_entry(m, "kpagecount", pfn), 0);
	/* A PROT_MTE page: PG_mte_tagged (KPF_ARCH_2), PG_tag_storage_reserved (KPF_ARCH_4). */
	ASSERT_EQ(mmsim_mmap(t, BASE, PAGE, RW | MMSIM_PROT_MTE, ANON_PRIV, -1, 0), (int64_t)BASE);
	ASSERT_EQ(mmsim_fill(t, BASE, 0x22, PAGE, &si), MMSIM_ACCESS_OK);
	ASSERT_EQ(mmsim_pagemap(t, BASE, &e), 0);
	v = kpage_entry(m, "kpageflags", PM_PFN(e));
	EXPECT_TRUE(KPF(v, ARCH_2) && KPF(v, ARCH_4) && KPF(v, ANON));
	ASSERT_EQ(mmsim_check(m, NULL, 0), 0);
	mmsim_machine_destroy(m);
}
