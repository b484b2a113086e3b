// SPDX-License-Identifier: MIT
/*
 * boot/devicetree.c - read the machine's device tree into struct dt_machine.
 *
 * Design.  The tree is read in three steps: get a flattened blob (the
 * built-in one, a .dtb file, or a .dts compiled by running dtc into a
 * temporary file), check it completely with libfdt before looking at any
 * node, then walk the few nodes mmsim cares about and copy what they say into
 * fixed-size arrays.  Nothing points back into the blob afterwards, so it is
 * freed before dt_load() returns.
 *
 * The blob comes from the user and is never trusted: fdt_check_full() vets
 * the structure, and every property length is checked against what the
 * binding says before its cells are read.  Every problem is reported as a
 * return value with a message naming the file, the node and the property;
 * nothing here aborts or prints.  The parser keeps no global state, so
 * several machines can be created at once from different threads.
 *
 * Only the memory layout is validated here (ranges, cells, NUMA ids).  MTE
 * tag storage nodes are copied raw: their rules depend on the memory they
 * describe, and the tag storage code checks them.
 */
#include "boot/devicetree.h"
#include "boot/default_dt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <libfdt.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A machine description is a few KiB; anything much larger is a wrong file. */
#define DT_MAX_FILE_BYTES	(16u << 20)

/* Enough of dtc's stderr to find its first error. */
#define DT_DTC_ERR_BYTES	4096

/* What the walk over one blob needs to hand around. */
struct dt_ctx {
	const void *fdt;
	const char *name;		/* file name, for messages */
	char *err;
	size_t errlen;
	struct dt_machine *m;
	unsigned int root_ac;		/* root #address-cells */
	unsigned int root_sc;		/* root #size-cells */
	unsigned int max_nid;		/* highest numa-node-id seen */
};

/*
 * set_err - write "prefix: message" into @err, if the caller gave one.
 * @prefix may be NULL.  Returns @ret so callers can "return set_err(...)".
 */
static int set_err(char *err, size_t errlen, int ret, const char *prefix,
		   const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int set_err(char *err, size_t errlen, int ret, const char *prefix,
		   const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!err || !errlen)
		return ret;
	err[0] = '\0';
	if (prefix) {
		n = snprintf(err, errlen, "%s: ", prefix);
		if (n < 0 || (size_t)n >= errlen)
			return ret;
	}
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return ret;
}

/*
 * fail - report a problem in the tree, at node @off (or the whole blob when
 * @off < 0), as "file: /node/path: message".  Always returns -EINVAL: a bad
 * tree is bad input, whatever is wrong with it.
 */
static int fail(struct dt_ctx *c, int off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct dt_ctx *c, int off, const char *fmt, ...)
{
	char path[256];
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (off < 0)
		return set_err(c->err, c->errlen, -EINVAL, c->name, "%s", msg);
	if (fdt_get_path(c->fdt, off, path, sizeof(path)) < 0)
		snprintf(path, sizeof(path), "<node at offset %d>", off);
	return set_err(c->err, c->errlen, -EINVAL, c->name, "%s: %s", path, msg);
}

/*
 * get_prop - look up property @prop of node @off.
 * Returns 1 and sets *val and *len when it is there, 0 when it is not, and
 * -EINVAL (with a message) when libfdt cannot read it, which after
 * fdt_check_full() would mean a bug rather than a bad tree, but costs
 * nothing to handle.
 */
static int get_prop(struct dt_ctx *c, int off, const char *prop,
		    const void **val, int *len)
{
	int l;
	const void *p = fdt_getprop(c->fdt, off, prop, &l);

	if (p && l >= 0) {
		*val = p;
		*len = l;
		return 1;
	}
	*val = NULL;
	*len = -1;
	if (l == -FDT_ERR_NOTFOUND)
		return 0;
	return fail(c, off, "cannot read '%s': %s", prop, fdt_strerror(l));
}

/*
 * get_u32 - read a one-cell property.  *present says whether it was there;
 * *val is left alone when it was not, so callers preset the default.
 */
static int get_u32(struct dt_ctx *c, int off, const char *prop,
		   uint32_t *val, bool *present)
{
	const void *p;
	int len, ret;

	*present = false;
	ret = get_prop(c, off, prop, &p, &len);
	if (ret <= 0)
		return ret;
	if (len != 4)
		return fail(c, off, "'%s' is %d bytes, expected 4 (one u32 cell)",
			    prop, len);
	*val = fdt32_ld(p);
	*present = true;
	return 0;
}

/*
 * get_string - read a string property, making sure it is NUL-terminated
 * inside its own length so that no string read runs off the property.
 * For a string list this gives the first string.  *s is NULL when absent.
 */
static int get_string(struct dt_ctx *c, int off, const char *prop,
		      const char **s)
{
	const void *p;
	int len, ret;

	*s = NULL;
	ret = get_prop(c, off, prop, &p, &len);
	if (ret <= 0)
		return ret;
	if (len == 0 || memchr(p, '\0', (size_t)len) == NULL)
		return fail(c, off, "'%s' is not a NUL-terminated string", prop);
	*s = p;
	return 0;
}

/*
 * is_type - does node @off have device_type = @type?  Sets *yes; a
 * malformed device_type is an error rather than "no", since silently
 * skipping a memory node would be worse than refusing the tree.
 */
static int is_type(struct dt_ctx *c, int off, const char *type, bool *yes)
{
	const char *s;
	int ret = get_string(c, off, "device_type", &s);

	*yes = ret == 0 && s && strcmp(s, type) == 0;
	return ret;
}

/*
 * available - the DT "status" rule: a node is in use when status is absent,
 * "okay" or "ok".  Linux ignores memory and reserved-memory nodes that are
 * not, and so does mmsim.
 */
static int available(struct dt_ctx *c, int off, bool *yes)
{
	const char *s;
	int ret = get_string(c, off, "status", &s);

	*yes = ret == 0 && (!s || !strcmp(s, "okay") || !strcmp(s, "ok"));
	return ret;
}

/*
 * get_cells - read a #address-cells or #size-cells property of node @off,
 * using @def when absent (the DT spec's defaults are 2 and 1).  mmsim keeps
 * addresses and sizes in 64 bits, so only 1 or 2 cells are accepted; 0 size
 * cells would leave memory ranges without a size.
 */
static int get_cells(struct dt_ctx *c, int off, const char *prop,
		     uint32_t def, bool required, unsigned int *out)
{
	uint32_t v = def;
	bool present;
	int ret = get_u32(c, off, prop, &v, &present);

	if (ret)
		return ret;
	if (!present && required)
		return fail(c, off, "no '%s' property, expected 1 or 2", prop);
	if (v < 1 || v > 2)
		return fail(c, off, "'%s' is %" PRIu32 ", expected 1 or 2", prop, v);
	*out = v;
	return 0;
}

/* read_cells - a big-endian number of @n (0..2) cells, as a 64-bit value. */
static uint64_t read_cells(const unsigned char *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--) {
		v = (v << 32) | fdt32_ld((const fdt32_t *)(const void *)p);
		p += 4;
	}
	return v;
}

/*
 * get_tuples - fetch an (address, size) list such as reg, checking that its
 * length is a whole, non-zero number of tuples of @ac + @sc cells.  Returns
 * 1 with *cells and *count set, 0 when the property is absent.
 */
static int get_tuples(struct dt_ctx *c, int off, const char *prop,
		      unsigned int ac, unsigned int sc,
		      const unsigned char **cells, int *count)
{
	int tuple = (int)(ac + sc) * 4;
	const void *p;
	int len, ret;

	ret = get_prop(c, off, prop, &p, &len);
	if (ret <= 0)
		return ret;
	if (len == 0 || len % tuple)
		return fail(c, off,
			    "'%s' is %d bytes, expected a multiple of %d (#address-cells=%u, #size-cells=%u)",
			    prop, len, tuple, ac, sc);
	*cells = p;
	*count = len / tuple;
	return 1;
}

/*
 * check_range - a range must have a size and must end inside the 64-bit
 * address space: later code computes base + size as the end.
 */
static int check_range(struct dt_ctx *c, int off, const char *prop, int i,
		       uint64_t base, uint64_t size)
{
	if (size == 0)
		return fail(c, off, "'%s' tuple %d (base 0x%" PRIx64 ") has size 0, expected a non-empty range",
			    prop, i, base);
	if (base > UINT64_MAX - size)
		return fail(c, off, "'%s' tuple %d: base 0x%" PRIx64 " + size 0x%" PRIx64 " overflows 64 bits",
			    prop, i, base, size);
	return 0;
}

/*
 * get_nid - read numa-node-id (0 when absent) and keep track of the highest
 * one, from which nr_nodes follows.
 */
static int get_nid(struct dt_ctx *c, int off, int *nid)
{
	uint32_t v = 0;
	bool present;
	int ret = get_u32(c, off, "numa-node-id", &v, &present);

	if (ret)
		return ret;
	if (v >= DT_MAX_NODES)
		return fail(c, off, "'numa-node-id' is %" PRIu32 ", expected less than %d (DT_MAX_NODES)",
			    v, DT_MAX_NODES);
	if (v > c->max_nid)
		c->max_nid = v;
	*nid = (int)v;
	return 0;
}

/* copy_name - node @off's name into @buf, truncated: names only label things. */
static void copy_name(struct dt_ctx *c, int off, char *buf, size_t len)
{
	const char *name = fdt_get_name(c->fdt, off, NULL);

	snprintf(buf, len, "%s", name ? name : "?");
}

/*
 * parse_memory - turn one memory node into ranges: one per tuple of
 * linux,usable-memory when present (it narrows what reg says), else of reg.
 * Assumes the node is a child of the root, so the root's cells apply.
 */
static int parse_memory(struct dt_ctx *c, int off)
{
	struct dt_machine *m = c->m;
	const char *prop = "linux,usable-memory";
	const unsigned char *p;
	unsigned int ac = c->root_ac, sc = c->root_sc;
	bool ok;
	int count, nid = 0, i, ret;

	ret = available(c, off, &ok);
	if (ret || !ok)
		return ret;
	ret = get_tuples(c, off, prop, ac, sc, &p, &count);
	if (ret == 0) {
		prop = "reg";
		ret = get_tuples(c, off, prop, ac, sc, &p, &count);
		if (ret == 0)
			return fail(c, off, "no 'reg' property, expected (address, size) tuples for a memory node");
	}
	if (ret < 0)
		return ret;
	ret = get_nid(c, off, &nid);
	if (ret)
		return ret;

	for (i = 0; i < count; i++) {
		struct dt_mem_range *r;
		uint64_t base = read_cells(p, ac);
		uint64_t size = read_cells(p + ac * 4, sc);

		p += (ac + sc) * 4;
		ret = check_range(c, off, prop, i, base, size);
		if (ret)
			return ret;
		if (m->nr_mem >= DT_MAX_MEM)
			return fail(c, off, "more than %d memory ranges in the tree (DT_MAX_MEM)",
				    DT_MAX_MEM);
		r = &m->mem[m->nr_mem++];
		r->base = base;
		r->size = size;
		r->nid = nid;
		r->phandle = fdt_get_phandle(c->fdt, off);
		r->tuples_in_node = count;
		copy_name(c, off, r->node, sizeof(r->node));
	}
	return 0;
}

/*
 * parse_tag_storage - record an arm,mte-tag-storage node as it is.  Only
 * lengths are looked at, so that no read goes past a property; whether the
 * values make sense is for the tag storage code to say.
 */
static int parse_tag_storage(struct dt_ctx *c, int off, int depth)
{
	struct dt_machine *m = c->m;
	struct dt_tag_storage *t;
	unsigned int tuple = (c->root_ac + c->root_sc) * 4;
	const void *p;
	int len, ret;

	/*
	 * Too many nodes is the tag storage code's error to report, not a
	 * malformed tree: keep the first one over its limit, count the rest.
	 */
	if (m->nr_tag_storage >= DT_MAX_TAG) {
		m->nr_tag_storage_dropped++;
		return 0;
	}
	t = &m->tag_storage[m->nr_tag_storage++];
	copy_name(c, off, t->node, sizeof(t->node));
	t->depth = depth;
	t->reg_cells = (int)(c->root_ac + c->root_sc);

	ret = get_prop(c, off, "reg", &p, &len);
	if (ret < 0)
		return ret;
	t->reg_bytes = len;
	t->reg_tuples = ret ? len / (int)tuple : -1;
	if (ret && len >= (int)tuple) {
		t->base = read_cells(p, c->root_ac);
		t->size = read_cells((const unsigned char *)p + c->root_ac * 4,
				     c->root_sc);
	}

	ret = get_prop(c, off, "block-size", &p, &len);
	if (ret < 0)
		return ret;
	t->block_size_bytes = len;
	if (ret && len == 4) {
		t->has_block_size = true;
		t->block_size = fdt32_ld(p);
	}

	ret = get_prop(c, off, "memory", &p, &len);
	if (ret < 0)
		return ret;
	t->memory_bytes = len;
	if (ret && len == 4) {
		t->has_memory = true;
		t->memory_phandle = fdt32_ld(p);
	}
	return 0;
}

/*
 * parse_root_children - the depth-1 nodes: memory nodes, and MTE tag
 * storage nodes (named "...metadata..." and compatible with
 * arm,mte-tag-storage).
 */
static int parse_root_children(struct dt_ctx *c)
{
	int off, ret;

	fdt_for_each_subnode(off, c->fdt, 0) {
		const char *name = fdt_get_name(c->fdt, off, NULL);
		bool mem;

		ret = is_type(c, off, "memory", &mem);
		if (ret)
			return ret;
		if (mem) {
			ret = parse_memory(c, off);
			if (ret)
				return ret;
		}
		if (name && strstr(name, "metadata") &&
		    fdt_node_check_compatible(c->fdt, off, "arm,mte-tag-storage") == 0) {
			ret = parse_tag_storage(c, off, 1);
			if (ret)
				return ret;
		}
	}
	if (off != -FDT_ERR_NOTFOUND)
		return fail(c, 0, "cannot walk the root's children: %s",
			    fdt_strerror(off));
	return 0;
}

/* add_reserved - append one reserved range, if there is room. */
static int add_reserved(struct dt_ctx *c, int off, uint64_t base,
			uint64_t size, bool nomap, const char *name)
{
	struct dt_machine *m = c->m;
	struct dt_reserved *r;

	if (m->nr_reserved >= DT_MAX_RESERVED)
		return fail(c, off, "more than %d reserved ranges in the tree (DT_MAX_RESERVED)",
			    DT_MAX_RESERVED);
	r = &m->reserved[m->nr_reserved++];
	r->base = base;
	r->size = size;
	r->nomap = nomap;
	snprintf(r->name, sizeof(r->name), "%s", name);
	return 0;
}

/*
 * parse_memreserve - the blob's /memreserve/ table.  These are plain
 * "keep your hands off" ranges: mapped, never allocated.
 */
static int parse_memreserve(struct dt_ctx *c)
{
	int n = fdt_num_mem_rsv(c->fdt);
	int i, ret;

	if (n < 0)
		return fail(c, -1, "cannot read the /memreserve/ table: %s",
			    fdt_strerror(n));
	for (i = 0; i < n; i++) {
		uint64_t base, size;
		char name[32];

		ret = fdt_get_mem_rsv(c->fdt, i, &base, &size);
		if (ret < 0)
			return fail(c, -1, "cannot read /memreserve/ entry %d: %s",
				    i, fdt_strerror(ret));
		if (size == 0)
			continue;
		if (base > UINT64_MAX - size)
			return fail(c, -1, "/memreserve/ entry %d: base 0x%" PRIx64 " + size 0x%" PRIx64 " overflows 64 bits",
				    i, base, size);
		snprintf(name, sizeof(name), "/memreserve/ %d", i);
		ret = add_reserved(c, -1, base, size, false, name);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * parse_reserved_memory - the children of /reserved-memory.  The binding
 * requires the node's own #address-cells and #size-cells, which apply to
 * its children's reg.  Children without reg ask the OS to place them
 * (size/alloc-ranges); mmsim places nothing, so they are skipped.
 */
static int parse_reserved_memory(struct dt_ctx *c)
{
	unsigned int ac, sc;
	int parent, off, ret;

	parent = fdt_subnode_offset(c->fdt, 0, "reserved-memory");
	if (parent == -FDT_ERR_NOTFOUND)
		return 0;
	if (parent < 0)
		return fail(c, 0, "cannot find /reserved-memory: %s",
			    fdt_strerror(parent));
	ret = get_cells(c, parent, "#address-cells", 2, true, &ac);
	if (ret)
		return ret;
	ret = get_cells(c, parent, "#size-cells", 1, true, &sc);
	if (ret)
		return ret;

	fdt_for_each_subnode(off, c->fdt, parent) {
		const unsigned char *p;
		char name[64];
		bool ok, nomap;
		int count, i;

		ret = available(c, off, &ok);
		if (ret)
			return ret;
		if (!ok)
			continue;
		ret = get_tuples(c, off, "reg", ac, sc, &p, &count);
		if (ret < 0)
			return ret;
		if (ret == 0)
			continue;
		nomap = fdt_getprop(c->fdt, off, "no-map", NULL) != NULL;
		copy_name(c, off, name, sizeof(name));
		for (i = 0; i < count; i++) {
			uint64_t base = read_cells(p, ac);
			uint64_t size = read_cells(p + ac * 4, sc);

			p += (ac + sc) * 4;
			ret = check_range(c, off, "reg", i, base, size);
			if (ret)
				return ret;
			ret = add_reserved(c, off, base, size, nomap, name);
			if (ret)
				return ret;
		}
	}
	if (off != -FDT_ERR_NOTFOUND)
		return fail(c, parent, "cannot walk the children: %s",
			    fdt_strerror(off));
	return 0;
}

/*
 * parse_cpus - count the children of /cpus with device_type "cpu" and note
 * each one's node.  No /cpus at all is not an error here: nr_cpus stays 0
 * and the caller decides what that means.
 */
static int parse_cpus(struct dt_ctx *c)
{
	struct dt_machine *m = c->m;
	int parent, off, ret;

	parent = fdt_subnode_offset(c->fdt, 0, "cpus");
	if (parent == -FDT_ERR_NOTFOUND)
		return 0;
	if (parent < 0)
		return fail(c, 0, "cannot find /cpus: %s", fdt_strerror(parent));

	fdt_for_each_subnode(off, c->fdt, parent) {
		bool cpu;
		int nid = 0;

		ret = is_type(c, off, "cpu", &cpu);
		if (ret)
			return ret;
		if (!cpu)
			continue;	/* e.g. cpu-map */
		ret = get_nid(c, off, &nid);
		if (ret)
			return ret;
		if (m->nr_cpus >= DT_MAX_CPUS)
			return fail(c, off, "more than %d cpu nodes (DT_MAX_CPUS)",
				    DT_MAX_CPUS);
		m->cpu_nid[m->nr_cpus++] = nid;
	}
	if (off != -FDT_ERR_NOTFOUND)
		return fail(c, parent, "cannot walk the children: %s",
			    fdt_strerror(off));
	return 0;
}

/*
 * parse_chosen - /chosen/bootargs.  Too long is an error rather than a
 * truncation: a cut command line would quietly boot a different machine.
 */
static int parse_chosen(struct dt_ctx *c)
{
	const char *s;
	int off, ret;

	off = fdt_subnode_offset(c->fdt, 0, "chosen");
	if (off == -FDT_ERR_NOTFOUND)
		return 0;
	if (off < 0)
		return fail(c, 0, "cannot find /chosen: %s", fdt_strerror(off));
	ret = get_string(c, off, "bootargs", &s);
	if (ret || !s)
		return ret;
	if (strlen(s) >= sizeof(c->m->bootargs))
		return fail(c, off, "'bootargs' is %zu characters, at most %zu are supported",
			    strlen(s), sizeof(c->m->bootargs) - 1);
	memcpy(c->m->bootargs, s, strlen(s) + 1);
	return 0;
}

/* cmp_range - qsort order of memory ranges: by base address. */
static int cmp_range(const void *a, const void *b)
{
	const struct dt_mem_range *x = a, *y = b;

	return x->base < y->base ? -1 : x->base > y->base;
}

/*
 * sort_and_check_memory - sort the ranges by base and refuse overlaps.
 * Once sorted, any overlap shows up between neighbours: if ranges i < j
 * overlap, range i + 1 starts no later than j, so it overlaps i too.
 */
static int sort_and_check_memory(struct dt_ctx *c)
{
	struct dt_machine *m = c->m;
	unsigned int i;

	if (m->nr_mem == 0)
		return fail(c, -1, "no memory: expected a node under / with device_type = \"memory\" and a 'reg' property");
	qsort(m->mem, m->nr_mem, sizeof(m->mem[0]), cmp_range);
	for (i = 1; i < m->nr_mem; i++) {
		const struct dt_mem_range *a = &m->mem[i - 1], *b = &m->mem[i];

		if (a->base + a->size > b->base)
			return fail(c, -1, "memory ranges overlap: /%s [0x%" PRIx64 "-0x%" PRIx64 "] and /%s [0x%" PRIx64 "-0x%" PRIx64 "]",
				    a->node, a->base, a->base + a->size - 1,
				    b->node, b->base, b->base + b->size - 1);
	}
	return 0;
}

/*
 * parse - walk a blob that has passed fdt_check_full().  The order matters
 * only in that the root's cells are needed by everything after them.
 */
static int parse(struct dt_ctx *c)
{
	const char *model;
	int ret;

	ret = get_cells(c, 0, "#address-cells", 2, false, &c->root_ac);
	if (!ret)
		ret = get_cells(c, 0, "#size-cells", 1, false, &c->root_sc);
	if (!ret)
		ret = get_string(c, 0, "model", &model);
	if (ret)
		return ret;
	if (model)
		snprintf(c->m->model, sizeof(c->m->model), "%s", model);

	ret = parse_root_children(c);
	if (!ret)
		ret = parse_memreserve(c);
	if (!ret)
		ret = parse_reserved_memory(c);
	if (!ret)
		ret = parse_cpus(c);
	if (!ret)
		ret = parse_chosen(c);
	if (!ret)
		ret = sort_and_check_memory(c);
	if (ret)
		return ret;
	c->m->nr_nodes = c->max_nid + 1;
	return 0;
}

/*
 * dt_parse_blob - check and parse a flattened tree of @size bytes.  The
 * blob may be anything at all: its header is checked against @size, its
 * whole structure with fdt_check_full(), and a misaligned one is copied,
 * since libfdt wants 8-byte alignment.  On error *out is left zeroed
 * except for its source name.
 */
int dt_parse_blob(const void *fdt, size_t size, const char *name,
		  struct dt_machine *out, char *err, size_t errlen)
{
	struct dt_ctx c = {
		.name = name ? name : "<blob>",
		.err = err,
		.errlen = errlen,
		.m = out,
	};
	void *copy = NULL;
	int ret;

	if (!out)
		return set_err(err, errlen, -EINVAL, c.name, "no machine to fill in");
	memset(out, 0, sizeof(*out));
	snprintf(out->source, sizeof(out->source), "%s", c.name);
	if (!fdt)
		return fail(&c, -1, "no blob");
	if (size < sizeof(struct fdt_header))
		return fail(&c, -1, "truncated: %zu bytes, the header alone is %zu",
			    size, sizeof(struct fdt_header));

	/* Even the header macros assume alignment, so copy first. */
	if ((uintptr_t)fdt % 8) {
		copy = malloc(size);
		if (!copy)
			return set_err(err, errlen, -ENOMEM, c.name, "out of memory");
		memcpy(copy, fdt, size);
		fdt = copy;
	}
	c.fdt = fdt;

	if (fdt_magic(fdt) != FDT_MAGIC)
		ret = fail(&c, -1, "not a flattened device tree (magic 0x%08" PRIx32 ", expected 0x%08x)",
			   (uint32_t)fdt_magic(fdt), FDT_MAGIC);
	else if (fdt_totalsize(fdt) > size)
		ret = fail(&c, -1, "truncated: %zu bytes, but the header says %" PRIu32,
			   size, (uint32_t)fdt_totalsize(fdt));
	else if ((ret = fdt_check_full(fdt, size)) != 0)
		ret = fail(&c, -1, "corrupt device tree blob: %s", fdt_strerror(ret));
	else
		ret = parse(&c);
	free(copy);
	if (ret) {
		memset(out, 0, sizeof(*out));
		snprintf(out->source, sizeof(out->source), "%s", c.name);
	}
	return ret;
}

/*
 * read_fd - read all of an open regular file into a new buffer.  @path is
 * for messages.  Returns 0 with *buf (to free) and *len set, or -errno.
 */
static int read_fd(int fd, const char *path, void **buf, size_t *len,
		   char *err, size_t errlen)
{
	struct stat st;
	unsigned char *p;
	size_t done = 0;

	if (fstat(fd, &st) < 0)
		return set_err(err, errlen, -errno, path, "cannot stat: %s",
			       strerror(errno));
	if (!S_ISREG(st.st_mode))
		return set_err(err, errlen, -EINVAL, path, "not a regular file");
	if (st.st_size > DT_MAX_FILE_BYTES)
		return set_err(err, errlen, -EINVAL, path,
			       "%jd bytes, too large for a device tree (at most %u)",
			       (intmax_t)st.st_size, DT_MAX_FILE_BYTES);
	/* +1 so that an empty file still gets a buffer. */
	p = malloc((size_t)st.st_size + 1);
	if (!p)
		return set_err(err, errlen, -ENOMEM, path, "out of memory");
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, p + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : 0;

			free(p);
			return set_err(err, errlen, -EIO, path, "read failed: %s",
				       e ? strerror(e) : "file shrank while being read");
		}
		done += (size_t)n;
	}
	*buf = p;
	*len = done;
	return 0;
}

/*
 * read_file - open @path and read all of it (see read_fd).  O_NONBLOCK so
 * that opening a FIFO cannot hang; read_fd then refuses anything that is
 * not a regular file.
 */
static int read_file(const char *path, void **buf, size_t *len,
		     char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int ret;

	if (fd < 0)
		return set_err(err, errlen, -errno, path, "cannot open: %s",
			       strerror(errno));
	ret = read_fd(fd, path, buf, len, err, errlen);
	close(fd);
	return ret;
}

/*
 * first_error_line - the line of dtc's stderr that best says what went
 * wrong: the first one mentioning an error (dtc prints "Error: file:line...
 * syntax error", "ERROR (check): ..." and "FATAL ERROR: ..."), else the
 * first non-empty one.  Cuts @text in place and returns a pointer into it.
 */
static const char *first_error_line(char *text)
{
	char *line, *pick = NULL;

	for (line = text; *line; ) {
		char *nl = strchr(line, '\n');
		char *next = nl ? nl + 1 : line + strlen(line);

		if (nl)
			*nl = '\0';
		if (!pick && *line)
			pick = line;
		if (strstr(line, "Error") || strstr(line, "ERROR"))
			return line;
		line = next;
	}
	return pick;
}

/*
 * run_dtc - compile @path to the file @out with dtc, returning dtc's
 * stderr in @errbuf.  dtc is run directly (no shell) and "--" ends its
 * options, so no file name is ever interpreted, not even "-x.dts".  Returns the wait status, or -errno if it could not be
 * started.
 */
static int run_dtc(const char *path, const char *out, char *errbuf,
		   size_t errlen)
{
	char *argv[] = { "dtc", "-q", "-I", "dts", "-O", "dtb", "-o",
			 (char *)out, "--", (char *)path, NULL };
	posix_spawn_file_actions_t fa;
	size_t got = 0;
	int pipefd[2];
	pid_t pid;
	int ret, status;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	ret = posix_spawn_file_actions_init(&fa);
	if (!ret)
		ret = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!ret)
		ret = posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	if (!ret)
		ret = posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	if (!ret)
		ret = posix_spawnp(&pid, "dtc", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (ret) {
		close(pipefd[0]);
		return -ret;
	}

	/* Drain the pipe to the end so dtc never blocks on a full pipe. */
	for (;;) {
		char scratch[512];
		char *dst = got + 1 < errlen ? errbuf + got : scratch;
		size_t room = got + 1 < errlen ? errlen - 1 - got : sizeof(scratch);
		ssize_t n = read(pipefd[0], dst, room);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst != scratch)
			got += (size_t)n;
	}
	close(pipefd[0]);
	errbuf[got] = '\0';

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return status;
}

/*
 * compile_dts - run dtc on @path and read the blob it made.  The blob goes
 * through a private temporary file, removed before returning on every path.
 */
static int compile_dts(const char *path, void **buf, size_t *len,
		       char *err, size_t errlen)
{
	const char *tmpdir = getenv("TMPDIR");
	char tmp[PATH_MAX];
	struct stat st;
	char *dtc_err;
	int fd, status, ret;

	/*
	 * A missing or odd source is the user's mistake, not dtc's: say so
	 * plainly.  O_NONBLOCK so that a FIFO cannot hang the open.
	 */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return set_err(err, errlen, -errno, path, "cannot open: %s",
			       strerror(errno));
	ret = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
	close(fd);
	if (ret)
		return set_err(err, errlen, ret, path, "%s",
			       ret == -EINVAL ? "not a regular file" : strerror(-ret));

	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/mmsim-dtb-XXXXXX", tmpdir) >= sizeof(tmp))
		return set_err(err, errlen, -ENAMETOOLONG, path,
			       "TMPDIR is too long for a temporary file name");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return set_err(err, errlen, -errno, path,
			       "cannot create a temporary file in %s: %s",
			       tmpdir, strerror(errno));

	dtc_err = malloc(DT_DTC_ERR_BYTES);
	if (!dtc_err) {
		ret = set_err(err, errlen, -ENOMEM, path, "out of memory");
		goto out;
	}
	status = run_dtc(path, tmp, dtc_err, DT_DTC_ERR_BYTES);
	/*
	 * glibc reports a failed exec as ENOENT; a fork-based posix_spawn
	 * (as under valgrind) lets the child exit 127 silently instead.
	 */
	if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 127 &&
	    !dtc_err[0])
		status = -ENOENT;
	if (status == -ENOENT) {
		ret = set_err(err, errlen, -ENOENT, path,
			      "cannot compile: dtc not found (install the Debian package device-tree-compiler)");
	} else if (status < 0) {
		ret = set_err(err, errlen, status, path, "cannot run dtc: %s",
			      strerror(-status));
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		const char *line = first_error_line(dtc_err);

		if (line)
			ret = set_err(err, errlen, -EINVAL, path, "dtc failed: %s", line);
		else if (WIFEXITED(status))
			ret = set_err(err, errlen, -EINVAL, path,
				      "dtc failed with exit status %d", WEXITSTATUS(status));
		else
			ret = set_err(err, errlen, -EINVAL, path,
				      "dtc was killed by signal %d", WTERMSIG(status));
	} else {
		/* dtc rewrote the file in place, so our descriptor sees it. */
		ret = read_fd(fd, path, buf, len, err, errlen);
	}
	free(dtc_err);
out:
	close(fd);
	unlink(tmp);
	return ret;
}

/* has_suffix - does @s end in @suffix? */
static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/*
 * dt_load - see devicetree.h.  The file kind comes from the name when it
 * says (.dts, .dtb); otherwise from the content: the FDT magic means a blob,
 * a "/dts-v1/" tag means source.
 */
int dt_load(const char *path, struct dt_machine *out, char *err, size_t errlen)
{
	void *buf = NULL;
	size_t len = 0;
	int ret;

	if (!path) {
		size_t size;
		const void *fdt = dt_builtin_dtb(&size);

		return dt_parse_blob(fdt, size, "<built-in>", out, err, errlen);
	}
	if (out) {
		memset(out, 0, sizeof(*out));
		snprintf(out->source, sizeof(out->source), "%s", path);
	}

	if (has_suffix(path, ".dts")) {
		ret = compile_dts(path, &buf, &len, err, errlen);
	} else {
		ret = read_file(path, &buf, &len, err, errlen);
		if (!ret && !has_suffix(path, ".dtb") &&
		    !(len >= 4 && fdt_magic(buf) == FDT_MAGIC)) {
			bool source = memmem(buf, len, "/dts-v1/", 8) != NULL;

			free(buf);
			buf = NULL;
			if (source)
				ret = compile_dts(path, &buf, &len, err, errlen);
			else
				ret = set_err(err, errlen, -EINVAL, path,
					      "not a device tree: no FDT magic (0x%08x) and no /dts-v1/ tag",
					      FDT_MAGIC);
		}
	}
	if (!ret)
		ret = dt_parse_blob(buf, len, path, out, err, errlen);
	free(buf);
	return ret;
}

/* dt_builtin_dts - the built-in machine's source, embedded by boot.mk. */
const char *dt_builtin_dts(void)
{
	return mmsim_dt_default_dts;
}

/* dt_builtin_dtb - the built-in machine's blob, embedded by boot.mk. */
const void *dt_builtin_dtb(size_t *size)
{
	if (size)
		*size = mmsim_dt_default_dtb_size;
	return mmsim_dt_default_dtb;
}
