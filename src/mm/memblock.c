// SPDX-License-Identifier: MIT
/*
 * mm/memblock.c - boot-time memory ranges, before the buddy allocator.
 *
 * As in Linux, memory is a list of (base, size, node) ranges and
 * reservations are a second list carved out of it.  The device tree fills
 * both; the tag storage code adds its carve-outs (memblock_add_node plus
 * memblock_reserve) and removes them again when validation fails.  Boot then
 * lays out nodes and zones over memory and frees memory minus reservations.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mm/internal.h"

static int memblock_append(struct memblock_type *type, uint64_t base, uint64_t size, int nid,
			   const char *name, bool nomap)
{
	struct memblock_region *r;

	if (type->cnt == MEMBLOCK_MAX)
		return -MMSIM_ENOMEM;
	r = &type->regions[type->cnt++];
	r->base = base;
	r->size = size;
	r->nid = nid;
	r->nomap = nomap;
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	return 0;
}

int memblock_add_node(struct mmsim_machine *m, uint64_t base, uint64_t size, int nid)
{
	return memblock_append(&m->memblock.memory, base, size, nid, NULL, false);
}

int memblock_reserve(struct mmsim_machine *m, uint64_t base, uint64_t size, const char *name)
{
	return memblock_append(&m->memblock.reserved, base, size, 0, name, false);
}

int memblock_reserve_nomap(struct mmsim_machine *m, uint64_t base, uint64_t size, const char *name)
{
	return memblock_append(&m->memblock.reserved, base, size, 0, name, true);
}

static void memblock_drop(struct memblock_type *type, uint64_t base, uint64_t size)
{
	unsigned int j = 0;

	for (unsigned int i = 0; i < type->cnt; i++)
		if (type->regions[i].base != base || type->regions[i].size != size)
			type->regions[j++] = type->regions[i];
	type->cnt = j;
}

/* Remove a range added (and possibly reserved) earlier, exactly as added. */
void memblock_remove(struct mmsim_machine *m, uint64_t base, uint64_t size)
{
	memblock_drop(&m->memblock.memory, base, size);
	memblock_drop(&m->memblock.reserved, base, size);
}

uint64_t memblock_start_of_DRAM(struct mmsim_machine *m)
{
	uint64_t lo = UINT64_MAX;

	for (unsigned int i = 0; i < m->memblock.memory.cnt; i++)
		if (m->memblock.memory.regions[i].base < lo)
			lo = m->memblock.memory.regions[i].base;
	return lo;
}

uint64_t memblock_end_of_DRAM(struct mmsim_machine *m)
{
	uint64_t hi = 0;

	for (unsigned int i = 0; i < m->memblock.memory.cnt; i++) {
		const struct memblock_region *r = &m->memblock.memory.regions[i];

		if (r->base + r->size > hi)
			hi = r->base + r->size;
	}
	return hi;
}
