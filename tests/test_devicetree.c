// SPDX-License-Identifier: MIT
/*
 * tests/test_devicetree.c - the device tree reader: the built-in machine,
 * the examples, every malformed tree in tests/dt/, and blobs that are cut,
 * corrupted or misaligned.  Paths are relative to the repository root,
 * where the tests are run.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <libfdt.h>

#include "harness.h"
#include "boot/devicetree.h"

/*
 * write_temp - write @len bytes to a new temporary file whose name ends in
 * @suffix, so that dt_load() sees the kind of name under test.
 */
static int write_temp(const char *suffix, const void *data, size_t len,
		      char *path, size_t pathlen)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(path, pathlen, "%s/mmsim-dt-test-XXXXXX%s",
		 dir && *dir ? dir : "/tmp", suffix);
	fd = mkstemps(path, (int)strlen(suffix));
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return -EIO;
	}
	close(fd);
	return 0;
}

/*
 * expect_bad - loading @file fails with -EINVAL and a message that names
 * the file and contains @what.
 */
static void expect_bad(const char *file, const char *what)
{
	struct dt_machine m;
	char err[512] = "";
	int ret = dt_load(file, &m, err, sizeof(err));

	test_diag("%s", err);
	ASSERT_EQ(ret, -EINVAL);
	ASSERT_STR_CONTAINS(err, file);
	ASSERT_STR_CONTAINS(err, what);
	/* A failed load leaves nothing half-filled behind. */
	EXPECT_EQ(m.nr_mem, 0);
	EXPECT_EQ(m.nr_cpus, 0);
}

/* load_ok - @file loads; returns its machine in *m. */
static void load_ok(const char *file, struct dt_machine *m)
{
	char err[512] = "";
	int ret = dt_load(file, m, err, sizeof(err));

	if (ret)
		test_diag("%s", err);
	ASSERT_EQ(ret, 0);
	ASSERT_TRUE(strcmp(m->source, file ? file : "<built-in>") == 0);
}

TEST(dt_builtin_machine)
{
	struct dt_machine m;

	load_ok(NULL, &m);
	ASSERT_TRUE(strcmp(m.model, "mmsim virt (arm64, MTE)") == 0);
	ASSERT_EQ(m.nr_mem, 1);
	EXPECT_EQ(m.mem[0].base, 0x40000000ULL);
	EXPECT_EQ(m.mem[0].size, 1ULL << 30);
	EXPECT_EQ(m.mem[0].nid, 0);
	EXPECT_EQ(m.mem[0].tuples_in_node, 1);
	EXPECT_TRUE(strcmp(m.mem[0].node, "memory@40000000") == 0);
	EXPECT_EQ(m.nr_cpus, 2);
	EXPECT_EQ(m.cpu_nid[0], 0);
	EXPECT_EQ(m.cpu_nid[1], 0);
	EXPECT_EQ(m.nr_nodes, 1);
	EXPECT_EQ(m.nr_reserved, 0);
	EXPECT_EQ(m.nr_tag_storage, 1);
	EXPECT_TRUE(m.bootargs[0] == '\0');
}

/* The embedded source and the embedded blob describe the same machine. */
TEST(dt_builtin_source_matches_blob)
{
	const char *dts = dt_builtin_dts();
	struct dt_machine a, b;
	char path[256], err[512] = "";
	size_t size = 0;
	const void *dtb = dt_builtin_dtb(&size);
	int ret;

	ASSERT_TRUE(dts != NULL);
	ASSERT_TRUE(strstr(dts, "/dts-v1/") != NULL);
	ASSERT_TRUE(dtb != NULL);
	ASSERT_GT(size, sizeof(struct fdt_header));
	ASSERT_EQ(fdt_magic(dtb), FDT_MAGIC);
	ASSERT_EQ(fdt_totalsize(dtb), size);

	ASSERT_EQ(write_temp(".dts", dts, strlen(dts), path, sizeof(path)), 0);
	ret = dt_load(path, &a, err, sizeof(err));
	unlink(path);
	if (ret)
		test_diag("%s", err);
	ASSERT_EQ(ret, 0);
	load_ok(NULL, &b);
	EXPECT_TRUE(strcmp(a.model, b.model) == 0);
	ASSERT_EQ(a.nr_mem, b.nr_mem);
	EXPECT_EQ(a.mem[0].base, b.mem[0].base);
	EXPECT_EQ(a.mem[0].size, b.mem[0].size);
	EXPECT_EQ(a.nr_cpus, b.nr_cpus);
}

TEST(dt_example_numa_4g)
{
	struct dt_machine m;

	load_ok("examples/numa-4g.dts", &m);
	ASSERT_EQ(m.nr_mem, 2);
	EXPECT_EQ(m.mem[0].base, 0x40000000ULL);
	EXPECT_EQ(m.mem[0].size, 2ULL << 30);
	EXPECT_EQ(m.mem[0].nid, 0);
	EXPECT_EQ(m.mem[1].base, 0xc0000000ULL);
	EXPECT_EQ(m.mem[1].size, 2ULL << 30);
	EXPECT_EQ(m.mem[1].nid, 1);
	EXPECT_EQ(m.nr_nodes, 2);
	ASSERT_EQ(m.nr_cpus, 4);
	EXPECT_EQ(m.cpu_nid[0], 0);
	EXPECT_EQ(m.cpu_nid[1], 0);
	EXPECT_EQ(m.cpu_nid[2], 1);
	EXPECT_EQ(m.cpu_nid[3], 1);
	ASSERT_EQ(m.nr_reserved, 1);
	EXPECT_EQ(m.reserved[0].base, 0xbfe00000ULL);
	EXPECT_EQ(m.reserved[0].size, 2ULL << 20);
	EXPECT_TRUE(m.reserved[0].nomap);
	EXPECT_TRUE(strcmp(m.reserved[0].name, "firmware@bfe00000") == 0);
}

/* A .dtb is read as it is, without dtc. */
TEST(dt_load_dtb_file)
{
	struct dt_machine m;
	char path[256], err[512] = "";
	size_t size;
	const void *dtb = dt_builtin_dtb(&size);
	int ret;

	ASSERT_EQ(write_temp(".dtb", dtb, size, path, sizeof(path)), 0);
	ret = dt_load(path, &m, err, sizeof(err));
	unlink(path);
	ASSERT_EQ(ret, 0);
	EXPECT_EQ(m.nr_mem, 1);
	EXPECT_EQ(m.nr_cpus, 2);
}

/* Other names are told apart by their content. */
TEST(dt_load_sniffs_content)
{
	const char *dts = dt_builtin_dts();
	const char junk[] = "this is not a device tree\n";
	struct dt_machine m;
	char path[256], err[512] = "";
	size_t size;
	const void *dtb = dt_builtin_dtb(&size);
	int ret;

	ASSERT_EQ(write_temp(".bin", dtb, size, path, sizeof(path)), 0);
	ret = dt_load(path, &m, err, sizeof(err));
	unlink(path);
	ASSERT_EQ(ret, 0);
	EXPECT_EQ(m.nr_cpus, 2);

	ASSERT_EQ(write_temp(".txt", dts, strlen(dts), path, sizeof(path)), 0);
	ret = dt_load(path, &m, err, sizeof(err));
	unlink(path);
	ASSERT_EQ(ret, 0);
	EXPECT_EQ(m.nr_mem, 1);

	ASSERT_EQ(write_temp(".txt", junk, sizeof(junk) - 1, path, sizeof(path)), 0);
	ret = dt_load(path, &m, err, sizeof(err));
	unlink(path);
	ASSERT_EQ(ret, -EINVAL);
	ASSERT_STR_CONTAINS(err, "not a device tree");
}

TEST(dt_missing_file)
{
	struct dt_machine m;
	char err[512] = "";

	ASSERT_EQ(dt_load("tests/dt/no-such-file.dts", &m, err, sizeof(err)), -ENOENT);
	ASSERT_STR_CONTAINS(err, "tests/dt/no-such-file.dts");
	ASSERT_STR_CONTAINS(err, strerror(ENOENT));
	ASSERT_EQ(dt_load("tests/dt/no-such-file.dtb", &m, err, sizeof(err)), -ENOENT);
	ASSERT_STR_CONTAINS(err, strerror(ENOENT));
}

/* A directory is refused up front, before dtc or libfdt see it. */
TEST(dt_not_a_file)
{
	struct dt_machine m;
	char err[512] = "";

	ASSERT_EQ(dt_load("tests/dt", &m, err, sizeof(err)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "tests/dt: not a regular file");
}

/* Without dtc a .dts cannot be read; the message says what to install. */
TEST(dt_no_dtc)
{
	const char *old = getenv("PATH");
	char *saved = old ? strdup(old) : NULL;
	struct dt_machine m;
	char err[512] = "";
	int ret;

	setenv("PATH", "/nonexistent", 1);
	ret = dt_load("examples/numa-4g.dts", &m, err, sizeof(err));
	if (saved)
		setenv("PATH", saved, 1);
	else
		unsetenv("PATH");
	free(saved);
	ASSERT_EQ(ret, -ENOENT);
	ASSERT_STR_CONTAINS(err, "dtc");
	ASSERT_STR_CONTAINS(err, "device-tree-compiler");
}

TEST(dt_truncated_blob)
{
	struct dt_machine m;
	char path[256], err[512] = "";
	size_t size;
	const void *dtb = dt_builtin_dtb(&size);
	int ret;

	ASSERT_EQ(dt_parse_blob(dtb, size - 1, "cut", &m, err, sizeof(err)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "cut: truncated");
	ASSERT_EQ(dt_parse_blob(dtb, 10, "cut", &m, err, sizeof(err)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "truncated");
	ASSERT_EQ(dt_parse_blob(dtb, 0, "cut", &m, err, sizeof(err)), -EINVAL);

	ASSERT_EQ(write_temp(".dtb", dtb, size / 2, path, sizeof(path)), 0);
	ret = dt_load(path, &m, err, sizeof(err));
	unlink(path);
	ASSERT_EQ(ret, -EINVAL);
	ASSERT_STR_CONTAINS(err, path);
	ASSERT_STR_CONTAINS(err, "truncated");
}

TEST(dt_corrupt_blob)
{
	static unsigned char buf[4096] __attribute__((aligned(8)));
	struct dt_machine m;
	char err[512] = "";
	size_t size;
	const void *dtb = dt_builtin_dtb(&size);

	ASSERT_LE(size, sizeof(buf));

	/* Bad magic. */
	memcpy(buf, dtb, size);
	buf[0] ^= 0xff;
	ASSERT_EQ(dt_parse_blob(buf, size, "x.dtb", &m, err, sizeof(err)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "not a flattened device tree");

	/* The structure block said to start past the end of the blob. */
	memcpy(buf, dtb, size);
	((struct fdt_header *)(void *)buf)->off_dt_struct = cpu_to_fdt32(0x7ffffff0);
	ASSERT_EQ(dt_parse_blob(buf, size, "x.dtb", &m, err, sizeof(err)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "x.dtb: corrupt");

	/* A property length running past the structure block. */
	memcpy(buf, dtb, size);
	{
		int len;
		const struct fdt_property *p =
			fdt_get_property(buf, 0, "model", &len);

		ASSERT_TRUE(p != NULL);
		((struct fdt_property *)(uintptr_t)p)->len = cpu_to_fdt32(0x10000);
	}
	ASSERT_EQ(dt_parse_blob(buf, size, "x.dtb", &m, err, sizeof(err)), -EINVAL);
	ASSERT_STR_CONTAINS(err, "corrupt");
}

/*
 * Every single-byte change to the built-in blob either parses into a
 * consistent machine or is refused with a message; nothing crashes (run
 * under ASan to make that mean something).
 */
TEST(dt_mutated_blobs)
{
	static const unsigned char values[] = { 0x00, 0x01, 0x7f, 0xff };
	static unsigned char buf[4096] __attribute__((aligned(8)));
	size_t size, i, v;
	const void *dtb = dt_builtin_dtb(&size);
	int ok = 0, bad = 0;

	ASSERT_LE(size, sizeof(buf));
	for (i = 0; i < size; i++) {
		for (v = 0; v < sizeof(values); v++) {
			struct dt_machine m;
			char err[256] = "";
			unsigned int k;
			int ret;

			memcpy(buf, dtb, size);
			if (buf[i] == values[v])
				continue;
			buf[i] = values[v];
			ret = dt_parse_blob(buf, size, "m.dtb", &m, err, sizeof(err));
			if (ret) {
				ASSERT_EQ(ret, -EINVAL);
				ASSERT_TRUE(strncmp(err, "m.dtb: ", 7) == 0);
				bad++;
				continue;
			}
			ok++;
			ASSERT_GE(m.nr_mem, 1);
			ASSERT_LE(m.nr_mem, DT_MAX_MEM);
			ASSERT_LE(m.nr_cpus, DT_MAX_CPUS);
			ASSERT_GE(m.nr_nodes, 1);
			ASSERT_LE(m.nr_nodes, DT_MAX_NODES);
			/* ASSERT_LE compares signed: these are full 64-bit. */
			for (k = 0; k < m.nr_mem; k++) {
				ASSERT_TRUE(m.mem[k].size > 0);
				ASSERT_TRUE(m.mem[k].base <= UINT64_MAX - m.mem[k].size);
				if (k)
					ASSERT_TRUE(m.mem[k - 1].base + m.mem[k - 1].size <=
						    m.mem[k].base);
			}
		}
	}
	test_diag("%d mutations parsed, %d refused", ok, bad);
	EXPECT_GT(ok, 0);
	EXPECT_GT(bad, 0);
}

/* libfdt wants 8-byte alignment; a misaligned blob still parses. */
TEST(dt_misaligned_blob)
{
	static unsigned char buf[4096 + 8] __attribute__((aligned(8)));
	struct dt_machine m;
	char err[512] = "";
	size_t size;
	const void *dtb = dt_builtin_dtb(&size);

	ASSERT_LE(size, sizeof(buf) - 1);
	memcpy(buf + 1, dtb, size);
	ASSERT_EQ(dt_parse_blob(buf + 1, size, "odd", &m, err, sizeof(err)), 0);
	EXPECT_EQ(m.nr_mem, 1);
	EXPECT_EQ(m.nr_cpus, 2);
}

/* No message buffer, or a tiny one, is not a reason to crash. */
TEST(dt_error_buffer_sizes)
{
	struct dt_machine m;
	char small[8];

	ASSERT_EQ(dt_load("tests/dt/no-memory.dts", &m, NULL, 0), -EINVAL);
	memset(small, 'x', sizeof(small));
	ASSERT_EQ(dt_load("tests/dt/no-memory.dts", &m, small, sizeof(small)), -EINVAL);
	ASSERT_LT(strlen(small), sizeof(small));
	ASSERT_EQ(dt_load(NULL, NULL, small, sizeof(small)), -EINVAL);
}

TEST(dt_ok_no_cpus)
{
	struct dt_machine m;

	load_ok("tests/dt/ok-no-cpus.dts", &m);
	EXPECT_EQ(m.nr_cpus, 0);
	EXPECT_EQ(m.nr_mem, 1);
	EXPECT_EQ(m.nr_nodes, 1);
}

/* No cells on the root: the DT spec's 2 and 1. */
TEST(dt_ok_default_cells)
{
	struct dt_machine m;

	load_ok("tests/dt/ok-default-cells.dts", &m);
	ASSERT_EQ(m.nr_mem, 1);
	EXPECT_EQ(m.mem[0].base, 0x40000000ULL);
	EXPECT_EQ(m.mem[0].size, 1ULL << 30);
}

TEST(dt_ok_layout)
{
	struct dt_machine m;

	load_ok("tests/dt/ok-layout.dts", &m);
	EXPECT_TRUE(strcmp(m.model, "layout test") == 0);
	EXPECT_TRUE(strcmp(m.bootargs, "console=ttyAMA0 numa=on") == 0);

	/* Sorted; usable-memory narrows reg; the disabled node is ignored. */
	ASSERT_EQ(m.nr_mem, 3);
	EXPECT_EQ(m.mem[0].base, 0x40000000ULL);
	EXPECT_EQ(m.mem[0].size, 0x20000000ULL);
	EXPECT_EQ(m.mem[0].nid, 0);
	EXPECT_EQ(m.mem[0].phandle, 0);
	EXPECT_TRUE(strcmp(m.mem[0].node, "memory@40000000") == 0);
	EXPECT_EQ(m.mem[1].base, 0x80000000ULL);
	EXPECT_EQ(m.mem[1].size, 0x10000000ULL);
	EXPECT_EQ(m.mem[1].nid, 1);
	EXPECT_EQ(m.mem[1].tuples_in_node, 2);
	EXPECT_EQ(m.mem[2].base, 0xa0000000ULL);
	EXPECT_EQ(m.mem[2].nid, 1);
	EXPECT_TRUE(strcmp(m.mem[2].node, "memory@80000000") == 0);

	/* Two /memreserve/ entries, then the reserved-memory children with reg. */
	ASSERT_EQ(m.nr_reserved, 4);
	EXPECT_EQ(m.reserved[0].base, 0x40000000ULL);
	EXPECT_EQ(m.reserved[0].size, 0x1000ULL);
	EXPECT_TRUE(!m.reserved[0].nomap);
	EXPECT_EQ(m.reserved[1].base, 0x40100000ULL);
	EXPECT_EQ(m.reserved[2].base, 0x48000000ULL);
	EXPECT_EQ(m.reserved[2].size, 0x200000ULL);
	EXPECT_TRUE(m.reserved[2].nomap);
	EXPECT_TRUE(strcmp(m.reserved[2].name, "fw@48000000") == 0);
	EXPECT_EQ(m.reserved[3].base, 0x90000000ULL);
	EXPECT_TRUE(!m.reserved[3].nomap);

	/* cpu-map has no device_type and is not a cpu. */
	ASSERT_EQ(m.nr_cpus, 2);
	EXPECT_EQ(m.cpu_nid[0], 1);
	EXPECT_EQ(m.cpu_nid[1], 0);
	EXPECT_EQ(m.nr_nodes, 2);
}

/* Tag storage nodes come through raw, malformed ones included. */
TEST(dt_ok_tag_storage_raw)
{
	struct dt_machine m;
	const struct dt_tag_storage *t;

	load_ok("tests/dt/ok-tag-storage.dts", &m);
	ASSERT_EQ(m.nr_mem, 1);
	ASSERT_NE(m.mem[0].phandle, 0);
	ASSERT_EQ(m.nr_tag_storage, 2);

	t = &m.tag_storage[0];
	EXPECT_TRUE(strcmp(t->node, "tags-metadata@7e000000") == 0);
	EXPECT_EQ(t->depth, 1);
	EXPECT_EQ(t->reg_tuples, 1);
	EXPECT_EQ(t->reg_bytes, 16);
	EXPECT_EQ(t->base, 0x7e000000ULL);
	EXPECT_EQ(t->size, 0x2000000ULL);
	EXPECT_TRUE(t->has_block_size);
	EXPECT_EQ(t->block_size, 0x1000);
	EXPECT_TRUE(t->has_memory);
	EXPECT_EQ(t->memory_phandle, m.mem[0].phandle);

	t = &m.tag_storage[1];
	EXPECT_TRUE(strcmp(t->node, "bad-metadata@7f000000") == 0);
	EXPECT_EQ(t->reg_bytes, 20);
	EXPECT_EQ(t->reg_tuples, 1);
	EXPECT_EQ(t->block_size_bytes, 8);
	EXPECT_TRUE(!t->has_block_size);
	EXPECT_EQ(t->memory_bytes, -1);
	EXPECT_TRUE(!t->has_memory);
}

/*
 * One test per malformed tree in tests/dt/, with the message it must give.
 * The file names use '-', which a C name cannot, hence both names.
 */
#define DT_BAD_FILE(tname, file, what)                                          \
	TEST(dt_bad_##tname) { expect_bad("tests/dt/" file ".dts", what); }

DT_BAD_FILE(no_memory, "no-memory",
	    "no memory: expected a node under / with device_type = \"memory\"")
DT_BAD_FILE(memory_no_reg, "memory-no-reg",
	    "/memory@40000000: no 'reg' property")
DT_BAD_FILE(reg_bad_length, "reg-bad-length",
	    "/memory@40000000: 'reg' is 12 bytes, expected a multiple of 16 (#address-cells=2, #size-cells=2)")
DT_BAD_FILE(zero_size, "zero-size",
	    "/memory@40000000: 'reg' tuple 0 (base 0x40000000) has size 0")
DT_BAD_FILE(address_cells_0, "address-cells-0",
	    ": /: '#address-cells' is 0, expected 1 or 2")
DT_BAD_FILE(address_cells_3, "address-cells-3",
	    ": /: '#address-cells' is 3, expected 1 or 2")
DT_BAD_FILE(size_cells_3, "size-cells-3",
	    ": /: '#size-cells' is 3, expected 1 or 2")
DT_BAD_FILE(size_cells_0, "size-cells-0",
	    ": /: '#size-cells' is 0, expected 1 or 2")
DT_BAD_FILE(overlap, "overlap",
	    "memory ranges overlap: /memory@40000000 [0x40000000-0x7fffffff] and /memory@60000000 [0x60000000-0x9fffffff]")
DT_BAD_FILE(overlap_same_node, "overlap-same-node",
	    "memory ranges overlap: /memory@40000000 [0x40000000-0x7fffffff] and /memory@40000000 [0x7ffff000-0x80000fff]")
DT_BAD_FILE(overflow, "overflow",
	    "/memory@fffffffff0000000: 'reg' tuple 0: base 0xfffffffff0000000 + size 0x20000000 overflows 64 bits")
DT_BAD_FILE(numa_id_8, "numa-id-8",
	    "/memory@40000000: 'numa-node-id' is 8, expected less than 8 (DT_MAX_NODES)")
DT_BAD_FILE(cpu_numa_id_9, "cpu-numa-id-9",
	    "/cpus/cpu@1: 'numa-node-id' is 9, expected less than 8")
DT_BAD_FILE(numa_id_bad_length, "numa-id-bad-length",
	    "/memory@40000000: 'numa-node-id' is 8 bytes, expected 4 (one u32 cell)")
DT_BAD_FILE(usable_memory_bad, "usable-memory-bad",
	    "/memory@40000000: 'linux,usable-memory' is 8 bytes, expected a multiple of 16")
DT_BAD_FILE(reserved_no_cells, "reserved-no-cells",
	    "/reserved-memory: no '#size-cells' property, expected 1 or 2")
DT_BAD_FILE(reserved_bad_reg, "reserved-bad-reg",
	    "/reserved-memory/buf@50000000: 'reg' is 12 bytes, expected a multiple of 16")
DT_BAD_FILE(too_many_ranges, "too-many-ranges",
	    "/memory@40000000: more than 64 memory ranges in the tree (DT_MAX_MEM)")
DT_BAD_FILE(too_many_cpus, "too-many-cpus",
	    "/cpus/cpu@40: more than 64 cpu nodes (DT_MAX_CPUS)")
DT_BAD_FILE(too_many_reserved, "too-many-reserved",
	    "more than 64 reserved ranges in the tree (DT_MAX_RESERVED)")
DT_BAD_FILE(syntax_error, "syntax-error",
	    "dtc failed: Error: tests/dt/syntax-error.dts:")
