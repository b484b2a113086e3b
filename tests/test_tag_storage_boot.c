// SPDX-License-Identifier: MIT
/*
 * tests/test_tag_storage_boot.c - finding and activating MTE tag storage
 * at boot (spec §1.2, §1.4-§1.7, §2.11), one test per item of spec §8.1
 * that the model has (item 17, KVM, has no counterpart here).
 *
 * Each test boots a machine from a device tree - the FVP example of §1.6,
 * the built-in machine, or a malformed tree of tests/dt/ts-*.dts - and
 * checks the kernel log line for line, /proc/meminfo, /proc/zoneinfo and
 * /proc/vmstat, and the model's own record of the regions.  Item 16 needs
 * the zero page's reservation to fail at activation, which the
 * fail_tag_storage_reserve fault-injection knob provides; its own tests are
 * here too.  Tests run from the repository root.
 */
#include <stdlib.h>

#include "harness.h"
#include "mm/internal.h"

#define FVP "examples/fvp-tag-storage.dts"
#define SMALL_TAGS "tests/machines/small-tags.dts"
#define KB_PER_PAGE (PAGE_SIZE / 1024)
/* The FVP's tag storage: two regions of 31 pageblocks. */
#define FVP_TAG_PAGES 31744ULL

static struct mmsim_machine *boot(const char *dts, const char *bootargs)
{
	struct mmsim_options o = { .seed = 1, .devicetree = dts, .bootargs = bootargs };
	struct mmsim_machine *m = NULL;

	if (mmsim_machine_create(&o, &m))
		TEST_FAIL_(1, "boot %s [%s]: %s", dts ? dts : "<built-in>",
			   bootargs ? bootargs : "", mmsim_strerror_last());
	return m;
}

/* The whole of a /proc file, malloc'ed. */
static char *slurp(struct mmsim_machine *m, const char *path)
{
	ssize_t n = mmsim_proc_read(m, NULL, path, NULL, 0);
	char *buf;

	if (n < 0)
		TEST_FAIL_(1, "proc_read(%s): %s", path, mmsim_strerror_last());
	buf = malloc((size_t)n + 1);
	ASSERT_TRUE(buf != NULL);
	ASSERT_EQ(mmsim_proc_read(m, NULL, path, buf, (size_t)n + 1), n);
	buf[n] = '\0';
	return buf;
}

/* How many times the kernel log has a line ending in exactly @msg. */
static int kmsg_count(struct mmsim_machine *m, const char *msg)
{
	char *log = slurp(m, "kmsg"), *line, *save = NULL;
	size_t l = strlen(msg);
	int n = 0;

	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *text = strstr(line, "] ");

		if (text && strlen(text + 2) == l && !strcmp(text + 2, msg))
			n++;
	}
	free(log);
	return n;
}

/* Position of the first log line that is exactly @msg, -1 if none. */
static long kmsg_pos(struct mmsim_machine *m, const char *msg)
{
	char *log = slurp(m, "kmsg"), *line, *save = NULL;
	long i = 0, pos = -1;

	for (line = strtok_r(log, "\n", &save); line && pos < 0; line = strtok_r(NULL, "\n", &save), i++) {
		char *text = strstr(line, "] ");

		if (text && !strcmp(text + 2, msg))
			pos = i;
	}
	free(log);
	return pos;
}

#define ASSERT_LOGGED(m, msg) do {                                              \
	if (kmsg_count((m), (msg)) != 1)                                        \
		TEST_FAIL_(1, "kernel log has '%s' %d times, expected once",     \
			   (msg), kmsg_count((m), (msg)));                      \
} while (0)
#define ASSERT_NOT_LOGGED(m, msg) ASSERT_EQ(kmsg_count((m), (msg)), 0)

/* The value of a "Label:   N kB" meminfo line; fails the test when absent. */
static long long meminfo_kb(struct mmsim_machine *m, const char *label)
{
	char *text = slurp(m, "meminfo"), *p = strstr(text, label);
	long long v = -1;

	if (p)
		v = strtoll(p + strlen(label), NULL, 10);
	free(text);
	if (v < 0)
		TEST_FAIL_(1, "meminfo has no '%s' line", label);
	return v;
}

/* The sum over all zones of one "        name N" zoneinfo line. */
static long long zoneinfo_sum(struct mmsim_machine *m, const char *field)
{
	char *text = slurp(m, "zoneinfo"), *line, *save = NULL;
	long long sum = 0;
	int seen = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[32];
		long long v;

		if (sscanf(line, " %31s %lld", name, &v) == 2 && !strcmp(name, field)) {
			sum += v;
			seen++;
		}
	}
	free(text);
	if (!seen)
		TEST_FAIL_(1, "zoneinfo has no '%s' line", field);
	return sum;
}

/* Is [base, base + size) one range of a memblock list? */
static bool memblock_has(const struct memblock_type *t, uint64_t base, uint64_t size)
{
	for (unsigned int i = 0; i < t->cnt; i++)
		if (t->regions[i].base == base && t->regions[i].size == size)
			return true;
	return false;
}

/* The tag block of data frame pfn, or -1 when no region has one. */
static long long block_of(struct mmsim_machine *m, uint64_t pfn)
{
	uint64_t block = 0;

	return tag_storage_find_block(m, pfn, &block, NULL) ? -1 : (long long)block;
}

/*
 * The state every failed scan leaves: the feature disabled, no region
 * recorded, nothing counted as tag storage, nothing said about enabling.
 */
static void assert_disabled(struct mmsim_machine *m)
{
	ASSERT_LOGGED(m, "MTE tag storage management disabled");
	ASSERT_NOT_LOGGED(m, "MTE tag storage enabled");
	ASSERT_EQ(m->mte.nr_regions, 0);
	ASSERT_TRUE(!m->mte.storage_enabled);
	ASSERT_EQ(m->mte.totalmetadata_pages, 0);
	ASSERT_EQ(meminfo_kb(m, "MetadataTotal:"), 0);
	ASSERT_EQ(zoneinfo_sum(m, "metadata"), 0);
	ASSERT_CONSISTENT(m);
}

/* Boot a malformed tree and expect @why, then the feature disabled. */
static void expect_disabled(const char *dts, const char *why)
{
	struct mmsim_machine *m = boot(dts, NULL);

	ASSERT_LOGGED(m, why);
	ASSERT_LT(kmsg_pos(m, why), kmsg_pos(m, "MTE tag storage management disabled"));
	assert_disabled(m);
	/* The region was never added: tags for no one, data for no one. */
	ASSERT_TRUE(!memblock_has(&m->memblock.memory, 0x48000000, 0x200000));
	ASSERT_TRUE(!memblock_has(&m->memblock.reserved, 0x48000000, 0x200000));
	mmsim_machine_destroy(m);
}

/* ------------------------------------------------------------ 8.1 items */

TEST(ts_8_1_01_fvp_boot)
{
	struct mmsim_machine *m = boot(FVP, NULL);
	const struct tag_region *r = m->mte.regions;
	int64_t reserved = mmsim_vmstat(m, "metadata_reserve_success");

	ASSERT_LOGGED(m, "Found MTE tag storage region 0x3e00000@0xfc000000, block size 1 pages");
	ASSERT_LOGGED(m, "Found MTE tag storage region 0x3e00000@0x8fc000000, block size 1 pages");
	ASSERT_LOGGED(m, "MTE tag storage enabled");
	ASSERT_LT(kmsg_pos(m, "Found MTE tag storage region 0x3e00000@0x8fc000000, block size 1 pages"),
		  kmsg_pos(m, "MTE tag storage enabled"));
	ASSERT_NOT_LOGGED(m, "MTE tag storage management disabled");
	ASSERT_TRUE(m->mte.storage_enabled);

	ASSERT_EQ(m->mte.nr_regions, 2);
	EXPECT_EQ(r[0].mem_start, 0x80000);
	EXPECT_EQ(r[0].mem_end, 0xfbfff);
	EXPECT_EQ(r[0].tag_start, 0xfc000);
	EXPECT_EQ(r[0].tag_end, 0xffdff);
	EXPECT_EQ(r[0].block_size, 1);
	EXPECT_EQ(r[1].mem_start, 0x880000);
	EXPECT_EQ(r[1].mem_end, 0x8fbfff);
	EXPECT_EQ(r[1].tag_start, 0x8fc000);
	EXPECT_EQ(r[1].tag_end, 0x8ffdff);
	EXPECT_EQ(r[1].block_size, 1);

	EXPECT_EQ(m->mte.totalmetadata_pages, FVP_TAG_PAGES);
	EXPECT_EQ(meminfo_kb(m, "MetadataTotal:"), 126976);
	EXPECT_EQ(zoneinfo_sum(m, "metadata"), FVP_TAG_PAGES);
	/* One region below 4 GiB (DMA), one above (Normal): 15872 pages each. */
	EXPECT_EQ(pfn_zone(m, 0xfc000)->metadata_pages, 15872);
	EXPECT_EQ(pfn_zone(m, 0x8fc000)->metadata_pages, 15872);
	EXPECT_EQ(get_pageblock_migratetype(m, 0xfc000), MIGRATE_METADATA);
	EXPECT_EQ(get_pageblock_migratetype(m, 0x8ffc00), MIGRATE_METADATA);
	/* Every tag page is free but the zero page's block, once reserved. */
	ASSERT_GE(reserved, 0);
	EXPECT_EQ(mmsim_vmstat(m, "nr_free_metadata") + reserved, FVP_TAG_PAGES);
	EXPECT_EQ(meminfo_kb(m, "MetadataFree:"), mmsim_vmstat(m, "nr_free_metadata") * KB_PER_PAGE);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_fail"), 0);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_free"), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * Item 1, the part that needs reserve_metadata_storage: the zero page's tag
 * block is taken at activation, and the zero page is marked as having its
 * storage.  Skipped while reservation leaves no trace at all (neither the
 * event nor the page flag); once either shows, every figure must be exact.
 */
TEST(ts_8_1_01_zero_page_tag_block_reserved_at_boot)
{
	struct mmsim_machine *m = boot(FVP, NULL);
	struct page *zero = pfn_to_page(m, m->zero_pfn);
	long long block = block_of(m, m->zero_pfn);
	int64_t success = mmsim_vmstat(m, "metadata_reserve_success");

	/* Wherever the allocator put it, some region holds its tags. */
	ASSERT_GE(block, 0xfc000);
	if (!success && !page_tag_storage_reserved(zero)) {
		mmsim_machine_destroy(m);
		test_skip("tag storage reservation not built yet: the zero page's tag block is free");
	}
	EXPECT_EQ(success, 1);
	EXPECT_TRUE(page_tag_storage_reserved(zero));
	/* The block is out of the allocator's hands. */
	EXPECT_TRUE(!(pfn_to_page(m, (uint64_t)block)->flags & PG_buddy));
	EXPECT_GE(pfn_to_page(m, (uint64_t)block)->refcount, 2);
	EXPECT_EQ(mmsim_vmstat(m, "nr_free_metadata"), FVP_TAG_PAGES - 1);
	EXPECT_EQ(meminfo_kb(m, "MetadataFree:"), 126976 - 4);
	EXPECT_EQ(meminfo_kb(m, "MetadataTotal:"), 126976);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_fail"), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* A valid region recorded before the bad one is taken back. */
TEST(ts_8_1_02_len_mismatch_disables)
{
	struct mmsim_machine *m = boot("tests/dt/ts-len-mismatch.dts", NULL);

	ASSERT_LOGGED(m, "Found MTE tag storage region 0x200000@0x48000000, block size 1 pages");
	ASSERT_LOGGED(m, "Tag region doesn't cover exactly the corresponding memory region");
	ASSERT_LT(kmsg_pos(m, "Found MTE tag storage region 0x200000@0x48000000, block size 1 pages"),
		  kmsg_pos(m, "Tag region doesn't cover exactly the corresponding memory region"));
	ASSERT_LT(kmsg_pos(m, "Tag region doesn't cover exactly the corresponding memory region"),
		  kmsg_pos(m, "MTE tag storage management disabled"));
	assert_disabled(m);
	ASSERT_TRUE(!memblock_has(&m->memblock.memory, 0x48000000, 0x200000));
	ASSERT_TRUE(!memblock_has(&m->memblock.reserved, 0x48000000, 0x200000));
	ASSERT_TRUE(!memblock_has(&m->memblock.memory, 0x58000000, 0x400000));
	ASSERT_EQ(m->memblock.memory.cnt, 2);
	/* Only the two 64 MiB data ranges are memory, less their memmap. */
	ASSERT_LE(meminfo_kb(m, "MemTotal:"), 2 * 65536);
	ASSERT_GT(meminfo_kb(m, "MemTotal:"), 2 * 65536 - 4096);
	ASSERT_EQ(block_of(m, 0x40000), -1);
	mmsim_machine_destroy(m);
}

TEST(ts_8_1_03_no_block_size_disables)
{
	expect_disabled("tests/dt/ts-no-block-size.dts", "Invalid or missing 'block-size' property");
}

TEST(ts_8_1_03_zero_block_size_disables)
{
	expect_disabled("tests/dt/ts-block-size-zero.dts", "Invalid or missing 'block-size' property");
}

/* block-size in bytes becomes lcm(PAGE_SIZE, bytes) / PAGE_SIZE pages. */
TEST(ts_8_1_04_block_size_lcm)
{
	struct mmsim_machine *m = boot("tests/dt/ts-block-sizes.dts", NULL);

	ASSERT_LOGGED(m, "Found MTE tag storage region 0x200000@0x48000000, block size 2 pages");
	ASSERT_LOGGED(m, "Found MTE tag storage region 0x200000@0x58000000, block size 1 pages");
	ASSERT_LOGGED(m, "Found MTE tag storage region 0x600000@0x70000000, block size 3 pages");
	ASSERT_LOGGED(m, "MTE tag storage enabled");
	ASSERT_EQ(m->mte.nr_regions, 3);
	EXPECT_EQ(m->mte.regions[0].block_size, 2);
	EXPECT_EQ(m->mte.regions[1].block_size, 1);
	EXPECT_EQ(m->mte.regions[2].block_size, 3);
	EXPECT_EQ(meminfo_kb(m, "MetadataTotal:"), (512 + 512 + 1536) * KB_PER_PAGE);
	/* Tag page 3 of a 2-page block region belongs to the block at 2. */
	EXPECT_EQ(block_of(m, 0x40000 + 3 * 32), 0x48000 + 2);
	EXPECT_EQ(block_of(m, 0x40000 + 2 * 32 - 1), 0x48000);
	EXPECT_EQ(block_of(m, 0x50000 + 3 * 32), 0x58000 + 3);
	/* Tag page 5 of a 3-page block region belongs to the block at 3. */
	EXPECT_EQ(block_of(m, 0x60000 + 5 * 32 + 7), 0x70000 + 3);
	EXPECT_EQ(block_of(m, 0x60000 + 6 * 32), 0x70000 + 6);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(ts_8_1_05_block_multiple_disables)
{
	expect_disabled("tests/dt/ts-block-multiple.dts",
			"Tag storage region size is not a multiple of allocation block size");
}

/* 32 regions are found; the 33rd disables everything and all 32 go. */
TEST(ts_8_1_06_33_regions_disables)
{
	struct mmsim_machine *m = boot("tests/dt/ts-33-regions.dts", NULL);
	char *log = slurp(m, "kmsg"), *p = log;
	int found = 0;

	while ((p = strstr(p, "] Found MTE tag storage region 0x200000@"))) {
		found++;
		p++;
	}
	free(log);
	ASSERT_EQ(found, 32);
	ASSERT_LOGGED(m, "Maximum number of tag storage regions exceeded");
	ASSERT_LOGGED(m, "Found MTE tag storage region 0x200000@0x13c000000, block size 1 pages");
	ASSERT_NOT_LOGGED(m, "Found MTE tag storage region 0x200000@0x144000000, block size 1 pages");
	assert_disabled(m);
	/* The 33 data ranges are all that is left of memory. */
	ASSERT_EQ(m->memblock.memory.cnt, 33);
	ASSERT_TRUE(!memblock_has(&m->memblock.memory, 0x44000000, 0x200000));
	mmsim_machine_destroy(m);
}

TEST(ts_8_1_07_ignored_nodes)
{
	struct mmsim_machine *m = boot("tests/dt/ts-ignored-nodes.dts", NULL);
	char *log = slurp(m, "kmsg");

	ASSERT_TRUE(strstr(log, "Found MTE tag storage") == NULL);
	free(log);
	ASSERT_LOGGED(m, "No MTE tag storage regions detected");
	ASSERT_NOT_LOGGED(m, "MTE tag storage management disabled");
	ASSERT_NOT_LOGGED(m, "MTE tag storage enabled");
	ASSERT_EQ(m->mte.nr_regions, 0);
	ASSERT_EQ(meminfo_kb(m, "MetadataTotal:"), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

TEST(ts_8_1_08_mem_two_tuples_disables)
{
	expect_disabled("tests/dt/ts-mem-two-tuples.dts",
			"Invalid address for associated data memory node");
}

TEST(ts_8_1_08_tag_two_tuples_disables)
{
	expect_disabled("tests/dt/ts-tag-two-tuples.dts", "Invalid tag storage node");
}

TEST(ts_8_1_09_missing_memory_prop_disables)
{
	expect_disabled("tests/dt/ts-no-memory-prop.dts",
			"Missing 'memory' property in the tag storage node");
}

TEST(ts_8_1_09_memory_not_memory_disables)
{
	expect_disabled("tests/dt/ts-memory-not-memory.dts", "Associated memory node not found");
}

TEST(ts_8_1_10_unaligned_disables)
{
	struct mmsim_machine *m = boot("tests/dt/ts-unaligned.dts", NULL);

	ASSERT_LOGGED(m, "Tag storage region not aligned to 0x200");
	assert_disabled(m);
	ASSERT_TRUE(!memblock_has(&m->memblock.memory, 0x48100000, 0x200000));
	mmsim_machine_destroy(m);
}

/* linux,usable-memory, not reg, is the memory the tags cover. */
TEST(ts_8_1_11_usable_memory)
{
	struct mmsim_machine *m = boot("tests/dt/ts-usable-memory.dts", NULL);

	ASSERT_LOGGED(m, "Found MTE tag storage region 0x200000@0x48000000, block size 1 pages");
	ASSERT_LOGGED(m, "MTE tag storage enabled");
	ASSERT_EQ(m->mte.nr_regions, 1);
	EXPECT_EQ(m->mte.regions[0].mem_start, 0x44000);
	EXPECT_EQ(m->mte.regions[0].mem_end, 0x47fff);
	EXPECT_EQ(block_of(m, 0x44000), 0x48000);
	EXPECT_EQ(block_of(m, 0x47fff), 0x481ff);
	/* In reg, but not usable: no tags here. */
	EXPECT_EQ(block_of(m, 0x40000), -1);
	EXPECT_EQ(block_of(m, 0x43fff), -1);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* KASAN keeps the carve-out out of MemTotal; nomte makes it plain memory. */
TEST(ts_8_1_12_nomte_frees_movable)
{
	struct mmsim_machine *kasan = boot(FVP, "kasan=on");
	struct mmsim_machine *m = boot(FVP, "arm64.nomte");

	ASSERT_NOT_LOGGED(m, "MTE tag storage enabled");
	ASSERT_NOT_LOGGED(m, "MTE tag storage disabled");
	ASSERT_TRUE(!m->mte.storage_enabled);
	ASSERT_EQ(m->mte.totalmetadata_pages, 0);
	ASSERT_EQ(meminfo_kb(m, "MetadataTotal:"), 0);
	ASSERT_EQ(zoneinfo_sum(m, "metadata"), 0);
	ASSERT_EQ(mmsim_vmstat(m, "nr_free_metadata"), 0);
	/* 124 MiB more than with the carve-out kept back. */
	ASSERT_EQ(meminfo_kb(m, "MemTotal:") - meminfo_kb(kasan, "MemTotal:"), 126976);
	for (uint64_t pfn = 0xfc000; pfn <= 0xffdff; pfn += pageblock_nr_pages)
		ASSERT_EQ(get_pageblock_migratetype(m, pfn), MIGRATE_MOVABLE);
	ASSERT_EQ(get_pageblock_migratetype(m, 0x8fc000), MIGRATE_MOVABLE);
	/* Still memblock-reserved, as the kernel keeps it for kexec's sake. */
	ASSERT_TRUE(memblock_has(&m->memblock.reserved, 0xfc000000, 0x3e00000));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(kasan);
	mmsim_machine_destroy(m);
}

TEST(ts_8_1_13_kasan_keeps_reserved)
{
	struct mmsim_machine *on = boot(FVP, NULL);
	struct mmsim_machine *m = boot(FVP, "kasan=on");

	ASSERT_LOGGED(m, "KASAN HW tags enabled, disabling tag storage");
	ASSERT_NOT_LOGGED(m, "MTE tag storage enabled");
	ASSERT_TRUE(!m->mte.storage_enabled);
	ASSERT_EQ(meminfo_kb(m, "MetadataTotal:"), 0);
	ASSERT_EQ(zoneinfo_sum(m, "metadata"), 0);
	ASSERT_EQ(meminfo_kb(on, "MemTotal:") - meminfo_kb(m, "MemTotal:"), 126976);
	ASSERT_TRUE(pfn_to_page(m, 0xfc000)->flags & PG_reserved);
	ASSERT_TRUE(pfn_to_page(m, 0x8ffdff)->flags & PG_reserved);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(on);
	mmsim_machine_destroy(m);
}

TEST(ts_8_1_14_block_in_two_zones)
{
	struct mmsim_machine *m = boot("tests/dt/ts-zone-straddle.dts", NULL);

	ASSERT_LOGGED(m, "Found MTE tag storage region 0x600000@0xffe00000, block size 3 pages");
	ASSERT_TRUE(pfn_zone(m, 0xfffff) != pfn_zone(m, 0x100000));
	ASSERT_LOGGED(m, "Tag block pages in different zones");
	ASSERT_NOT_LOGGED(m, "MTE tag storage enabled");
	ASSERT_TRUE(!m->mte.storage_enabled);
	ASSERT_EQ(meminfo_kb(m, "MetadataTotal:"), 0);
	ASSERT_TRUE(pfn_to_page(m, 0xffe00)->flags & PG_reserved);
	ASSERT_TRUE(pfn_to_page(m, 0x1003ff)->flags & PG_reserved);
	/* MemTotal is the 192 MiB of data at most. */
	ASSERT_LE(meminfo_kb(m, "MemTotal:"), 196608);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * The model has no memory limit that could clip a region after it was
 * found, so this clips one by hand: boot with KASAN (activation leaves the
 * carve-out alone), take everything below 0x50000000 out of memblock's
 * memory as a limit on the bottom of DRAM would, and activate again without
 * KASAN.  metadata0, at 0x48000000, is now below the start of DRAM.
 */
TEST(ts_8_1_15_outside_dram_not_exposed)
{
	struct mmsim_machine *m = boot("tests/dt/ts-block-sizes.dts", "kasan=on");
	struct memblock_type *mem = &m->memblock.memory;
	long long total = meminfo_kb(m, "MemTotal:");
	unsigned int j = 0;

	for (unsigned int i = 0; i < mem->cnt; i++)
		if (mem->regions[i].base >= 0x50000000)
			mem->regions[j++] = mem->regions[i];
	ASSERT_EQ(j, mem->cnt - 2);
	mem->cnt = j;
	m->mte.kasan_hw = false;
	ASSERT_EQ(mte_tag_storage_activate(m), 0);
	ASSERT_LOGGED(m, "Tag storage region 0x48000000-0x48200000 outside addressable memory");
	ASSERT_NOT_LOGGED(m, "MTE tag storage enabled");
	ASSERT_TRUE(!m->mte.storage_enabled);
	ASSERT_EQ(meminfo_kb(m, "MetadataTotal:"), 0);
	ASSERT_EQ(meminfo_kb(m, "MemTotal:"), total);
	ASSERT_TRUE(pfn_to_page(m, 0x58000)->flags & PG_reserved);
	ASSERT_TRUE(pfn_to_page(m, 0x70000)->flags & PG_reserved);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------- 8.1 item 16: no zero page block */

/* The first tag block taken after boot's handover is the zero page's. */
#define FAIL_ZERO_BLOCK "mte_tag_storage=rfc-v1 fail_tag_storage_reserve=1,100,0,1"
#define INJECTED "FAULT_INJECTION: forcing a failure. name fail_tag_storage_reserve, " \
		 "interval 1, probability 100, space 0, times 1"

/* One frame's /proc/kpageflags entry. */
static uint64_t kpageflags(struct mmsim_machine *m, uint64_t pfn)
{
	uint64_t v = 0;

	ASSERT_EQ(mmsim_proc_pread(m, NULL, "kpageflags", &v, 8, pfn * 8), 8);
	return v;
}

#define KPF(v, bit) (((v) >> MMSIM_KPF_##bit) & 1)

/*
 * From /proc/pagetypeinfo: the free blocks of order >= min_order on the
 * lists of migrate type @type ("Metadata", "Movable", ...), summed over the
 * zones, counted in pages when @pages, else in blocks.
 */
static long long pagetype_free(struct mmsim_machine *m, const char *type, int min_order, bool pages)
{
	char *text = slurp(m, "pagetypeinfo"), *line, *save = NULL;
	long long sum = 0;
	int seen = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char t[32];
		int n = 0;

		if (sscanf(line, "Node %*d, zone %*[^,], type %31s%n", t, &n) != 1 || !n || strcmp(t, type))
			continue;
		seen++;
		for (int o = 0; o < NR_PAGE_ORDERS; o++) {
			char *end;
			long long c = strtoll(line + n, &end, 10);

			if (end == line + n)
				TEST_FAIL_(1, "pagetypeinfo: short line '%s'", line);
			n = (int)(end - line);
			if (o >= min_order)
				sum += pages ? c << o : c;
		}
	}
	free(text);
	if (!seen)
		TEST_FAIL_(1, "pagetypeinfo has no '%s' lines", type);
	return sum;
}

/* Free blocks of order >= min_order on every list but METADATA's. */
static long long ordinary_free_blocks(struct mmsim_machine *m, int min_order)
{
	static const char *const types[] = { "Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA" };
	long long n = 0;

	for (unsigned int i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		n += pagetype_free(m, types[i], min_order, false);
	return n;
}

/* From /proc/pagetypeinfo's "Number of blocks type" table: @type's pageblocks. */
static long long pagetype_blocks(struct mmsim_machine *m, const char *type)
{
	char *text = slurp(m, "pagetypeinfo"), *head = strstr(text, "Number of blocks type");
	char *line, *save = NULL, *wsave = NULL, *p;
	long long sum = 0;
	int col = -1, i = 0;

	ASSERT_TRUE(head != NULL);
	line = strtok_r(head + strlen("Number of blocks type"), "\n", &save);
	for (p = strtok_r(line, " ", &wsave); p; p = strtok_r(NULL, " ", &wsave), i++)
		if (!strcmp(p, type))
			col = i;
	ASSERT_GE(col, 0);
	for (line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int n = 0;

		if (sscanf(line, "Node %*d, zone %*s%n", &n) != 0 || !n)
			continue;
		p = line + n;
		for (i = 0; i <= col; i++) {
			long long v = strtoll(p, &p, 10);

			if (i == col)
				sum += v;
		}
	}
	free(text);
	return sum;
}

/*
 * Item 16 on the FVP: the zero page's tag block cannot be taken (injected),
 * so activation ends in "MTE tag storage disabled" - after every pageblock
 * was already given to the allocator as MIGRATE_METADATA.  As written, they
 * stay there: counted in MetadataTotal and zoneinfo, all free on the
 * METADATA lists, and the key that would let anything allocate them is off.
 */
TEST(ts_8_1_16_zero_page_block_fails_storage_disabled)
{
	struct mmsim_machine *on = boot(FVP, NULL);
	struct mmsim_machine *m = boot(FVP, FAIL_ZERO_BLOCK);
	uint64_t zf = kpageflags(m, m->zero_pfn);

	ASSERT_LOGGED(m, INJECTED);
	ASSERT_LOGGED(m, "MTE tag storage disabled");
	ASSERT_LT(kmsg_pos(m, "Found MTE tag storage region 0x3e00000@0x8fc000000, block size 1 pages"),
		  kmsg_pos(m, INJECTED));
	ASSERT_LT(kmsg_pos(m, INJECTED), kmsg_pos(m, "MTE tag storage disabled"));
	ASSERT_NOT_LOGGED(m, "MTE tag storage enabled");
	ASSERT_NOT_LOGGED(m, "MTE tag storage management disabled");
	EXPECT_EQ(m->mte.fail_reserve.times, 0);
	/* The static key is off: no request may take METADATA pages. */
	ASSERT_TRUE(!m->mte.storage_enabled);
	EXPECT_EQ(gfp_to_alloc_flags(m, GFP_HIGHUSER_MOVABLE) & ALLOC_FROM_METADATA, 0);
	EXPECT_TRUE(gfp_to_alloc_flags(on, GFP_HIGHUSER_MOVABLE) & ALLOC_FROM_METADATA);
	/* One failed reservation of a one-page block; nothing reserved, nothing given back. */
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success"), 0);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_fail"), 1);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_free"), 0);
	/* Handed over all the same: managed, counted, every page free on a METADATA list. */
	EXPECT_EQ(m->mte.totalmetadata_pages, FVP_TAG_PAGES);
	EXPECT_EQ(meminfo_kb(m, "MetadataTotal:"), 126976);
	EXPECT_EQ(zoneinfo_sum(m, "metadata"), FVP_TAG_PAGES);
	EXPECT_EQ(mmsim_vmstat(m, "nr_free_metadata"), FVP_TAG_PAGES);
	EXPECT_EQ(meminfo_kb(m, "MetadataFree:"), 126976);
	EXPECT_EQ(pagetype_free(m, "Metadata", 0, true), FVP_TAG_PAGES);
	EXPECT_EQ(pagetype_blocks(m, "Metadata"), FVP_TAG_PAGES / pageblock_nr_pages);
	EXPECT_EQ(meminfo_kb(m, "MemTotal:"), meminfo_kb(on, "MemTotal:"));
	EXPECT_EQ(get_pageblock_migratetype(m, 0xfc000), MIGRATE_METADATA);
	EXPECT_EQ(get_pageblock_migratetype(m, 0x8ffc00), MIGRATE_METADATA);
	/* The zero page is what it was, without storage (KPF_ARCH_4 clear). */
	EXPECT_TRUE(KPF(zf, ZERO_PAGE));
	EXPECT_EQ(KPF(zf, ARCH_4), 0);
	EXPECT_EQ(KPF(kpageflags(on, on->zero_pfn), ARCH_4), 1);
	ASSERT_CONSISTENT(m);
	ASSERT_CONSISTENT(on);
	mmsim_machine_destroy(on);
	mmsim_machine_destroy(m);
}

/* What the allocator handed out while it was watched, against the carve-out. */
struct carveout_watch {
	struct mmsim_machine *m;
	uint64_t lo, hi;                /* the tag storage frames, inclusive      */
	uint64_t pages;                 /* pages those kmem:mm_page_alloc events gave */
	uint64_t inside;                /* ... whose frames meet the carve-out    */
	int oom_kills;                  /* oom:mark_victim events seen            */
	int64_t free_metadata_at_oom;   /* nr_free_metadata when the victim fell  */
};

static void watch_alloc(void *ctx, const struct mmsim_event *ev)
{
	struct carveout_watch *w = ctx;

	w->pages += 1ULL << ev->order;
	if (ev->pfn <= w->hi && ev->pfn + (1ULL << ev->order) > w->lo)
		w->inside++;
}

static void watch_oom(void *ctx, const struct mmsim_event *ev)
{
	struct carveout_watch *w = ctx;

	(void)ev;
	w->oom_kills++;
	w->free_metadata_at_oom = mmsim_vmstat(w->m, "nr_free_metadata");
}

/* The frame mapped at addr, from pagemap; 0 when none. */
static uint64_t mapped_pfn(struct mmsim_task *t, uint64_t addr)
{
	uint64_t e = 0;

	ASSERT_EQ(mmsim_pagemap(t, addr, &e), 0);
	return (e >> 63) ? e & MMSIM_PM_PFRAME_MASK : 0;
}

/* No frame of the carve-out is mapped, anonymous or on an LRU (kpageflags). */
static void assert_carveout_unused(struct mmsim_machine *m, const struct tag_region *r)
{
	for (uint64_t pfn = r->tag_start; pfn <= r->tag_end; pfn++) {
		uint64_t v = kpageflags(m, pfn);

		if (KPF(v, MMAP) || KPF(v, ANON) || KPF(v, LRU) || KPF(v, NOPAGE))
			TEST_FAIL_(1, "tag storage frame 0x%llx is in use: kpageflags 0x%llx",
				   (unsigned long long)pfn, (unsigned long long)v);
	}
	/* The pageblock is one free block, its head marked buddy. */
	ASSERT_TRUE(KPF(kpageflags(m, r->tag_start), BUDDY));
	ASSERT_EQ(mmsim_vmstat(m, "nr_free_metadata"), (int64_t)(r->tag_end - r->tag_start + 1));
}

#define RW_ (MMSIM_PROT_READ | MMSIM_PROT_WRITE)
#define ANON_ (MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS)
#define HOG_BYTES (128ULL << 20)        /* twice the machine's data memory */

/*
 * Item 16, "never handed out", on small-tags.dts, whose one METADATA
 * pageblock sits above the data memory:
 *
 *   0x40000                                   0x44000          0x44200
 *   +-----------------------------------------+----------------+
 *   | data memory (64 MiB): tasks, kernel     | METADATA: 512  |
 *   +-----------------------------------------+ pages, all free+
 *
 * 1. A task writes anonymous memory until the OOM killer takes it.  No
 *    page it got, and nothing the allocator handed out meanwhile, is in
 *    the carve-out; when the victim was chosen all 512 pages were free.
 * 2. A second task writes until no free block of order >= 9 is left
 *    outside tag storage, then drops every page on an odd frame.  A
 *    movable order-9 request (no reclaim) now fails, with a free order-9
 *    METADATA block on the lists.
 * 3. vm.compact_memory moves pages, never into tag storage: the METADATA
 *    pageblock is one free order-9 block, and such a block is no target.
 */
TEST(ts_8_1_16_metadata_never_handed_out)
{
	struct mmsim_machine *m = boot(SMALL_TAGS, FAIL_ZERO_BLOCK);
	const struct tag_region *r = &m->mte.regions[0];
	struct carveout_watch w = { .m = m, .lo = r->tag_start, .hi = r->tag_end };
	struct mmsim_task *hog = NULL, *t = NULL;
	struct mmsim_siginfo si;
	uint64_t a, b, v = 0x16, n = 0, pfn;
	int64_t addr;
	int res = MMSIM_ACCESS_OK;
	struct page *p;
	uint8_t *odd;

	ASSERT_LOGGED(m, "MTE tag storage disabled");
	ASSERT_TRUE(!m->mte.storage_enabled);
	ASSERT_EQ(m->mte.nr_regions, 1);
	ASSERT_EQ(get_pageblock_migratetype(m, r->tag_start), MIGRATE_METADATA);
	assert_carveout_unused(m, r);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_trace_subscribe(m, "kmem:mm_page_alloc", watch_alloc, &w), 0);
	ASSERT_EQ(mmsim_trace_subscribe(m, "oom:mark_victim", watch_oom, &w), 0);

	/* 1: fill until killed. */
	ASSERT_EQ(mmsim_task_create(m, &hog), 0);
	addr = mmsim_mmap(hog, 0, HOG_BYTES, RW_, ANON_, -1, 0);
	ASSERT_GT(addr, 0);
	a = (uint64_t)addr;
	for (uint64_t off = 0; off < HOG_BYTES; off += PAGE, n++) {
		res = mmsim_store(hog, a + off, &v, 8, &si);
		if (res != MMSIM_ACCESS_OK)
			break;
		pfn = mapped_pfn(hog, a + off);
		ASSERT_NE(pfn, 0);
		if (pfn >= r->tag_start && pfn <= r->tag_end)
			TEST_FAIL_(1, "page %llu of the task is tag storage frame 0x%llx",
				   (unsigned long long)n, (unsigned long long)pfn);
		if (n % 2048 == 0)
			ASSERT_CONSISTENT(m);
	}
	ASSERT_EQ(res, MMSIM_ACCESS_SIGNAL);
	EXPECT_EQ(si.signo, MMSIM_SIGKILL);
	EXPECT_EQ(mmsim_task_killed(hog), 1);
	/* It had most of the 64 MiB before it was killed. */
	EXPECT_GT(n, 3 * (64ULL << 20) / PAGE / 4);
	EXPECT_EQ(w.oom_kills, 1);
	EXPECT_EQ(w.free_metadata_at_oom, 512);
	EXPECT_GE(w.pages, n);
	EXPECT_EQ(w.inside, 0);
	assert_carveout_unused(m, r);
	ASSERT_CONSISTENT(m);

	/* 2: fill until no ordinary order-9 block is free, then free every odd frame. */
	ASSERT_EQ(mmsim_task_create(m, &t), 0);
	addr = mmsim_mmap(t, 0, HOG_BYTES, RW_, ANON_, -1, 0);
	ASSERT_GT(addr, 0);
	b = (uint64_t)addr;
	ASSERT_EQ(mmsim_madvise(t, b, HOG_BYTES, MMSIM_MADV_NOHUGEPAGE), 0);
	for (n = 0; n * PAGE < HOG_BYTES; n++) {
		if (n % 64 == 0) {
			drain_all_pages(m);
			if (!ordinary_free_blocks(m, pageblock_order))
				break;
		}
		ASSERT_EQ(mmsim_store(t, b + n * PAGE, &v, 8, &si), MMSIM_ACCESS_OK);
	}
	ASSERT_LT(n * PAGE, HOG_BYTES);
	odd = calloc(n, 1);
	ASSERT_TRUE(odd != NULL);
	for (uint64_t i = 0; i < n; i++) {
		pfn = mapped_pfn(t, b + i * PAGE);
		ASSERT_NE(pfn, 0);
		ASSERT_TRUE(pfn < r->tag_start || pfn > r->tag_end);
		if (pfn & 1) {
			odd[i] = 1;
			ASSERT_EQ(mmsim_madvise(t, b + i * PAGE, PAGE, MMSIM_MADV_DONTNEED), 0);
		}
	}
	drain_all_pages(m);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(ordinary_free_blocks(m, pageblock_order), 0);
	ASSERT_EQ(pagetype_free(m, "Metadata", pageblock_order, false), 1);
	p = alloc_pages_node(m, 0, (GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM) | __GFP_COMP, pageblock_order);
	EXPECT_TRUE(p == NULL);
	if (p)
		__free_pages(m, p, pageblock_order);
	assert_carveout_unused(m, r);
	ASSERT_CONSISTENT(m);

	/* 3: compaction moves the kept pages, never into tag storage. */
	{
		int64_t migrated = mmsim_vmstat(m, "pgmigrate_success");

		ASSERT_EQ(mmsim_sysctl_write(m, "vm.compact_memory", "1"), 0);
		EXPECT_GT(mmsim_vmstat(m, "pgmigrate_success"), migrated);
	}
	for (uint64_t i = 0; i < n; i++) {
		if (odd[i])
			continue;
		pfn = mapped_pfn(t, b + i * PAGE);
		ASSERT_NE(pfn, 0);
		ASSERT_TRUE(pfn < r->tag_start || pfn > r->tag_end);
	}
	assert_carveout_unused(m, r);
	ASSERT_CONSISTENT(m);
	/* Compaction made ordinary order-9 blocks: the same request now gets one. */
	p = alloc_pages_node(m, 0, (GFP_HIGHUSER_MOVABLE & ~__GFP_RECLAIM) | __GFP_COMP, pageblock_order);
	ASSERT_TRUE(p != NULL);
	EXPECT_NE(get_pageblock_migratetype(m, page_to_pfn(m, p)), MIGRATE_METADATA);
	__free_pages(m, p, pageblock_order);
	EXPECT_EQ(w.inside, 0);
	mmsim_trace_unsubscribe(m, watch_alloc, &w);
	mmsim_trace_unsubscribe(m, watch_oom, &w);
	assert_carveout_unused(m, r);
	ASSERT_CONSISTENT(m);
	free(odd);
	mmsim_machine_destroy(m);
}

/* Spec §1.2 on the FVP: 32 data pages to a tag page, regions in order. */
TEST(ts_8_1_18_pfn_mapping)
{
	struct mmsim_machine *m = boot(FVP, NULL);
	const struct tag_region *r = NULL;
	uint64_t block = 0;

	EXPECT_EQ(block_of(m, 0x80000), 0xfc000);
	EXPECT_EQ(block_of(m, 0x8001f), 0xfc000);
	EXPECT_EQ(block_of(m, 0x80020), 0xfc001);
	EXPECT_EQ(block_of(m, 0xfbfe0), 0xffdff);
	EXPECT_EQ(block_of(m, 0xfbfff), 0xffdff);
	ASSERT_EQ(tag_storage_find_block(m, 0x880000, &block, &r), 0);
	EXPECT_EQ(block, 0x8fc000);
	EXPECT_TRUE(r == &m->mte.regions[1]);
	EXPECT_EQ(block_of(m, 0x8fbfff), 0x8ffdff);
	/* Outside both data ranges: below, the tag storage itself, above. */
	EXPECT_EQ(tag_storage_find_block(m, 0x7ffff, &block, &r), -MMSIM_EINVAL);
	EXPECT_EQ(block_of(m, 0xfc000), -1);
	EXPECT_EQ(block_of(m, 0x87ffff), -1);
	EXPECT_EQ(block_of(m, 0x8fc000), -1);
	mmsim_machine_destroy(m);
}

/* ----------------------------------------------------- §1.2-§1.4 details */

/* A block past the region's end is reported, and the search goes on. */
TEST(ts_1_2_block_outside_region_logged)
{
	struct mmsim_machine *m = boot(FVP, "kasan=on");

	/* Shrink metadata0 so the last data pages point past its end. */
	m->mte.regions[0].tag_end = 0xffdfe;
	EXPECT_EQ(block_of(m, 0xfbffe), -1);
	ASSERT_LOGGED(m, "Block 0xffdff000-0xffe00000 is outside tag region 0xfc000000-0xffdfe000");
	EXPECT_EQ(block_of(m, 0xfbfdf), 0xffdfe);
	mmsim_machine_destroy(m);
}

TEST(ts_1_4_no_reg_disables)
{
	struct mmsim_machine *m = boot("tests/dt/ts-no-reg.dts", NULL);

	ASSERT_LOGGED(m, "Invalid metadata node");
	ASSERT_LT(kmsg_pos(m, "Invalid metadata node"), kmsg_pos(m, "Invalid tag storage node"));
	assert_disabled(m);
	mmsim_machine_destroy(m);
}

TEST(ts_1_4_size_under_a_page_disables)
{
	struct mmsim_machine *m = boot("tests/dt/ts-tiny-size.dts", NULL);

	ASSERT_LOGGED(m, "Invalid node");
	ASSERT_LT(kmsg_pos(m, "Invalid node"), kmsg_pos(m, "Invalid tag storage node"));
	assert_disabled(m);
	mmsim_machine_destroy(m);
}

/* ------------------------------------------- the built-in machine, policies */

TEST(ts_builtin_machine_has_tag_storage)
{
	struct mmsim_machine *m = boot(NULL, NULL);

	ASSERT_LOGGED(m, "Found MTE tag storage region 0x2000000@0x80000000, block size 1 pages");
	ASSERT_LOGGED(m, "MTE tag storage enabled");
	ASSERT_TRUE(m->mte.storage_enabled);
	ASSERT_EQ(meminfo_kb(m, "MetadataTotal:"), 32768);
	ASSERT_EQ(zoneinfo_sum(m, "metadata"), 8192);
	EXPECT_EQ(block_of(m, 0x40000), 0x80000);
	EXPECT_EQ(block_of(m, 0x7ffff), 0x81fff);
	/* The vmstat lines are there, whatever their values. */
	EXPECT_GE(mmsim_vmstat(m, "nr_free_metadata"), 0);
	EXPECT_GE(mmsim_vmstat(m, "metadata_reserve_success"), 0);
	EXPECT_GE(mmsim_vmstat(m, "metadata_reserve_fail"), 0);
	EXPECT_GE(mmsim_vmstat(m, "metadata_reserve_free"), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* Linux today: the carve-out is never data memory and needs no reserving. */
TEST(ts_policy_static_keeps_carveout)
{
	struct mmsim_machine *dyn = boot(NULL, NULL);
	struct mmsim_machine *m = boot(NULL, "mte_tag_storage=static");

	ASSERT_LOGGED(m, "MTE tag storage: static carve-out, not used as data memory");
	ASSERT_NOT_LOGGED(m, "MTE tag storage enabled");
	ASSERT_TRUE(!m->mte.storage_enabled);
	ASSERT_EQ(m->mte.nr_regions, 1);
	ASSERT_EQ(meminfo_kb(m, "MetadataTotal:"), 0);
	ASSERT_EQ(meminfo_kb(dyn, "MemTotal:") - meminfo_kb(m, "MemTotal:"), 32768);
	ASSERT_TRUE(pfn_to_page(m, 0x80000)->flags & PG_reserved);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(dyn);
	mmsim_machine_destroy(m);
}

/* The reviewers' design: the carve-out is CMA, and it is tag storage. */
TEST(ts_policy_cma_frees_as_cma)
{
	struct mmsim_machine *m = boot(NULL, "mte_tag_storage=cma");
	int64_t reserved = mmsim_vmstat(m, "metadata_reserve_success");

	ASSERT_LOGGED(m, "MTE tag storage enabled");
	ASSERT_TRUE(m->mte.storage_enabled);
	ASSERT_EQ(get_pageblock_migratetype(m, 0x80000), MIGRATE_CMA);
	ASSERT_EQ(get_pageblock_migratetype(m, 0x81e00), MIGRATE_CMA);
	ASSERT_EQ(meminfo_kb(m, "CmaTotal:"), 32768);
	ASSERT_EQ(meminfo_kb(m, "MetadataTotal:"), 32768);
	ASSERT_EQ(zoneinfo_sum(m, "metadata"), 8192);
	ASSERT_EQ(zoneinfo_sum(m, "cma"), 8192);
	ASSERT_GE(reserved, 0);
	ASSERT_EQ(mmsim_vmstat(m, "nr_free_cma") + reserved, 8192);
	ASSERT_EQ(mmsim_vmstat(m, "nr_free_metadata"), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* ------------------------------------ the fail_tag_storage_reserve knob */

/* A boot that must fail with -EINVAL, saying @why. */
static void expect_bad_bootargs(const char *args, const char *why)
{
	struct mmsim_options o = { .seed = 1, .devicetree = SMALL_TAGS, .bootargs = args };
	struct mmsim_machine *m = NULL;

	if (mmsim_machine_create(&o, &m) != -MMSIM_EINVAL) {
		mmsim_machine_destroy(m);
		TEST_FAIL_(1, "booted with '%s'", args);
	}
	ASSERT_STR_CONTAINS(mmsim_strerror_last(), why);
}

/*
 * The knob itself, Linux's <interval>,<probability>,<space>,<times>:
 * malformed or out-of-range values refuse the boot; times 0 is off; space
 * lets that many block pages through first (the zero page's block, one
 * page, needs space 2: a call fails once space no longer exceeds its
 * size); the budget then fails the next tag block taken, and the faulting
 * allocation goes on to another page whose block is taken after all.
 */
TEST(ts_fail_tag_storage_reserve_bootarg)
{
	struct mmsim_machine *m;
	struct mmsim_task *t = NULL;
	struct mmsim_siginfo si;
	uint64_t v = 7;

	expect_bad_bootargs("fail_tag_storage_reserve=1,100,0",
			    "bootargs: fail_tag_storage_reserve=1,100,0: expected <interval>,<probability>,<space>,<times>");
	expect_bad_bootargs("fail_tag_storage_reserve=1,100,0,1x", "expected <interval>");
	expect_bad_bootargs("fail_tag_storage_reserve=1,,0,1", "expected <interval>");
	expect_bad_bootargs("fail_tag_storage_reserve=1,101,0,1", "probability 0-100");
	expect_bad_bootargs("fail_tag_storage_reserve=1,100,0,-2", "times >= -1");
	expect_bad_bootargs("fail_tag_storage_reserve=1,100,-1,1", "space must be >= 0");

	m = boot(SMALL_TAGS, "fail_tag_storage_reserve=1,100,0,0");
	ASSERT_LOGGED(m, "MTE tag storage enabled");
	ASSERT_EQ(kmsg_count(m, "MTE tag storage disabled"), 0);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);

	m = boot(SMALL_TAGS, "fail_tag_storage_reserve=1,100,2,1");
	ASSERT_LOGGED(m, "MTE tag storage enabled");
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success"), 1);
	EXPECT_EQ(m->mte.fail_reserve.space, 1);
	EXPECT_EQ(m->mte.fail_reserve.times, 1);
	ASSERT_CONSISTENT(m);
	ASSERT_EQ(mmsim_task_create(m, &t), 0);
	ASSERT_EQ(mmsim_mmap(t, 0x20000000, PAGE, MMSIM_PROT_READ | MMSIM_PROT_WRITE | MMSIM_PROT_MTE,
			     MMSIM_MAP_PRIVATE | MMSIM_MAP_ANONYMOUS | MMSIM_MAP_FIXED, -1, 0), 0x20000000);
	ASSERT_EQ(mmsim_store(t, 0x20000000, &v, 8, &si), MMSIM_ACCESS_OK);
	ASSERT_LOGGED(m, "FAULT_INJECTION: forcing a failure. name fail_tag_storage_reserve, "
			 "interval 1, probability 100, space 1, times 1");
	EXPECT_EQ(m->mte.fail_reserve.times, 0);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_fail"), 1);
	EXPECT_EQ(mmsim_vmstat(m, "metadata_reserve_success"), 2);
	v = 0;
	ASSERT_EQ(mmsim_load(t, 0x20000000, &v, 8, &si), MMSIM_ACCESS_OK);
	EXPECT_EQ(v, 7);
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/*
 * should_fail() as Linux's: nothing while times is 0; space absorbs sizes
 * while it exceeds them; only every interval-th call is eligible; each
 * failure is logged and uses one of times; probability draws from the
 * machine's generator (so the count is the seed's, within binomial reason).
 */
TEST(ts_fail_tag_storage_reserve_attr_semantics)
{
	struct mmsim_machine *m = boot(SMALL_TAGS, "mte_tag_storage=static");
	struct fault_attr a = FAULT_ATTR_INITIALIZER("fail_test");
	int fails = 0;

	EXPECT_TRUE(!should_fail(m, &a, 1));	/* times 0: off */
	ASSERT_EQ(setup_fault_attr(&a, "1,100,5,2"), 0);
	EXPECT_TRUE(!should_fail(m, &a, 2));	/* space 5 > 2: 3 left */
	EXPECT_TRUE(!should_fail(m, &a, 2));	/* 3 > 2: 1 left */
	EXPECT_EQ(a.space, 1);
	EXPECT_TRUE(should_fail(m, &a, 1));	/* 1 > 1 is false: fails */
	ASSERT_LOGGED(m, "FAULT_INJECTION: forcing a failure. name fail_test, interval 1, probability 100, space 1, times 2");
	EXPECT_TRUE(should_fail(m, &a, 1));
	EXPECT_EQ(a.times, 0);
	EXPECT_TRUE(!should_fail(m, &a, 1));	/* budget spent */

	ASSERT_EQ(setup_fault_attr(&a, "3,100,0,-1"), 0);
	a.count = 0;
	for (int i = 1; i <= 9; i++)
		EXPECT_EQ(should_fail(m, &a, 1), i % 3 == 0);
	EXPECT_EQ(a.times, -1);

	ASSERT_EQ(setup_fault_attr(&a, "1,30,0,-1"), 0);
	for (int i = 0; i < 1000; i++)
		fails += should_fail(m, &a, 1);
	EXPECT_GT(fails, 240);
	EXPECT_LT(fails, 360);
	EXPECT_EQ(kmsg_count(m, "FAULT_INJECTION: forcing a failure. name fail_test, interval 1, probability 30, space 0, times -1"),
		  fails);
	ASSERT_EQ(setup_fault_attr(&a, "1,0,0,-1"), 0);
	EXPECT_TRUE(!should_fail(m, &a, 1));
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}

/* mmsim_check() sees attributes no command line could have set. */
TEST(ts_fail_tag_storage_reserve_checked)
{
	struct mmsim_machine *m = boot(SMALL_TAGS, "fail_tag_storage_reserve=3,50,0,-1");
	char rep[1024];

	EXPECT_EQ(m->mte.fail_reserve.interval, 3);
	EXPECT_EQ(m->mte.fail_reserve.probability, 50);
	EXPECT_EQ(m->mte.fail_reserve.times, -1);
	ASSERT_CONSISTENT(m);
	m->mte.fail_reserve.probability = 101;
	ASSERT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "mte: fail_tag_storage_reserve has probability 101, space 0, times -1: out of range");
	m->mte.fail_reserve.probability = 50;
	m->mte.fail_reserve.times = -2;
	ASSERT_GT(mmsim_check(m, rep, sizeof(rep)), 0);
	ASSERT_STR_CONTAINS(rep, "times -2: out of range");
	m->mte.fail_reserve.times = 0;
	ASSERT_CONSISTENT(m);
	mmsim_machine_destroy(m);
}
