/* SPDX-License-Identifier: MIT */
/*
 * boot/devicetree.h - what the machine learns from its device tree.
 *
 * The device tree is parsed once, at machine creation, into a plain
 * description (struct dt_machine).  Nothing else in mmsim reads the tree:
 * boot code turns this description into memblocks, nodes, zones and CPUs.
 */
#ifndef MMSIM_BOOT_DEVICETREE_H
#define MMSIM_BOOT_DEVICETREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_MAX_MEM       64   /* memory ranges (all reg tuples of all memory nodes) */
#define DT_MAX_RESERVED  64   /* /reserved-memory children and /memreserve/ entries  */
#define DT_MAX_CPUS      64
#define DT_MAX_NODES     8    /* NUMA nodes                                        */
/*
 * arm,mte-tag-storage nodes kept: one more than MAX_TAG_REGIONS, so that the
 * tag storage code sees the node that goes over its limit and can say so as
 * the kernel does.  Nodes past this one cannot matter (the scan stops at the
 * first over the limit) and are only counted.
 */
#define DT_MAX_TAG       33

struct dt_mem_range {
	uint64_t base, size;
	int nid;                 /* numa-node-id, 0 when absent                      */
	uint32_t phandle;        /* of the memory node it came from, 0 if none        */
	char node[64];           /* node name, e.g. "memory@80000000"                 */
	int tuples_in_node;      /* reg tuples (or linux,usable-memory) in that node  */
};

struct dt_reserved {
	uint64_t base, size;
	bool nomap;              /* "no-map": not even part of the linear map         */
	char name[64];
};

/* A raw arm,mte-tag-storage node; validated later by the tag storage code. */
struct dt_tag_storage {
	char node[64];
	int depth;
	int reg_tuples;          /* number of (addr,size) tuples in reg, -1 if absent */
	int reg_cells;           /* cells of one tuple: root #address-cells + #size-cells */
	uint64_t base, size;     /* first tuple                                       */
	bool has_block_size;
	uint32_t block_size;     /* bytes                                             */
	bool has_memory;
	uint32_t memory_phandle;
	/*
	 * Raw property lengths in bytes, -1 when absent, so that the validator
	 * can tell a missing property from a malformed one (reg_tuples rounds
	 * down when reg_bytes is not a whole number of tuples).
	 */
	int reg_bytes;
	int block_size_bytes;    /* has_block_size only when this is 4        */
	int memory_bytes;        /* has_memory only when this is 4            */
};

struct dt_machine {
	char source[256];        /* file name, or "<built-in>"                        */
	char model[128];
	unsigned int nr_mem;
	struct dt_mem_range mem[DT_MAX_MEM];
	unsigned int nr_reserved;
	struct dt_reserved reserved[DT_MAX_RESERVED];
	unsigned int nr_cpus;
	int cpu_nid[DT_MAX_CPUS];       /* numa-node-id of each cpu node, 0 if absent */
	unsigned int nr_nodes;          /* 1 + highest node id seen                   */
	unsigned int nr_tag_storage;
	unsigned int nr_tag_storage_dropped;    /* nodes past DT_MAX_TAG, not kept */
	struct dt_tag_storage tag_storage[DT_MAX_TAG];
	char bootargs[1024];            /* /chosen/bootargs, "" if none               */
};

/*
 * dt_load - read a machine description.
 * @path: a .dts (compiled with dtc) or .dtb file; NULL for the built-in machine.
 * Returns 0, or -errno with a message in @err naming the file, the node or
 * property and what was expected (e.g. "foo.dts: /memory@80000000: 'reg' has
 * 12 bytes, expected a multiple of 16 (#address-cells=2, #size-cells=2)").
 * Memory ranges come out sorted by base; overlapping ranges are an error.
 */
int dt_load(const char *path, struct dt_machine *out, char *err, size_t errlen);

/* Parse a flattened tree already in memory (@name is used in messages). */
int dt_parse_blob(const void *fdt, size_t size, const char *name,
                  struct dt_machine *out, char *err, size_t errlen);

/* The built-in machine: its source text, and its compiled blob. */
const char *dt_builtin_dts(void);
const void *dt_builtin_dtb(size_t *size);

#endif
