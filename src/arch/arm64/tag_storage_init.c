// SPDX-License-Identifier: MIT
/*
 * arch/arm64/tag_storage_init.c - finding and activating tag storage:
 * device-tree validation (spec §1.4), activation (§1.5) and the static
 * mapping from a data frame to its tag block (§1.2).
 *
 * Boot runs in two steps, at the points the seed series runs them.
 * mte_tag_storage_init() comes before the memory map is laid out (setup_arch,
 * ahead of arm64_memblock_init): it checks every arm,mte-tag-storage node the
 * device tree reader collected and turns each valid one into memory of its
 * NUMA node that is reserved, so it is neither free nor managed.  Any invalid
 * node disables the whole feature and takes back what was added; that is a
 * logged condition, never a boot failure.  mte_tag_storage_activate() comes
 * once the buddy allocator and the zero page exist (a core_initcall in the
 * kernel) and decides, by policy and by what the machine supports, whether
 * the reserved carve-out is handed to the allocator and as what.
 *
 * The messages are the kernel's, word for word, because scripts and tests
 * look for them in the log.
 */
#include <stdlib.h>

#include "boot/devicetree.h"
#include "mm/internal.h"

/* Data pages per tag page: 4 bits of tag per 16 bytes is 1/32 (spec §1.1). */
#define TAG_RATIO 32

/* ----------------------------------------------------------- validation */

/*
 * block_size_pages - the allocation block in pages: the least common multiple
 * of PAGE_SIZE and the device tree's block-size, over PAGE_SIZE, so that a
 * block is whole pages and whole interleave units at once.  Assumes bytes != 0.
 */
static unsigned int block_size_pages(uint32_t bytes)
{
	uint64_t a = PAGE_SIZE, b = bytes, r;

	while (b) {
		r = a % b;
		a = b;
		b = r;
	}
	return (unsigned int)((PAGE_SIZE * (uint64_t)bytes / a) >> PAGE_SHIFT);
}

/*
 * pfn_range - turn one (base, size) tuple into an inclusive PFN range the
 * way the kernel does: both halves are truncated to pages, and a size under
 * one page is refused with "Invalid node".  Returns 0 or -EINVAL.
 */
static int pfn_range(struct mmsim_machine *m, uint64_t base, uint64_t size,
		     uint64_t *start, uint64_t *end)
{
	uint64_t pages = size >> PAGE_SHIFT;

	*start = base >> PAGE_SHIFT;
	if (!pages) {
		printk(m, "Invalid node");
		return -MMSIM_EINVAL;
	}
	*end = *start + pages - 1;
	return 0;
}

/*
 * tag_range_of - rule 3: the node's reg must be there and be exactly one
 * (address, size) tuple.  The kernel only refuses a reg longer than one
 * tuple and reads a shorter one anyway; the model refuses that too rather
 * than read past the property.  Every failure ends in "Invalid tag storage
 * node", after the more specific line when there is one.
 */
static int tag_range_of(struct mmsim_machine *m, const struct dt_tag_storage *t,
			struct tag_region *r)
{
	int ret = -MMSIM_EINVAL;

	if (t->reg_bytes < 0)
		printk(m, "Invalid metadata node");
	else if (t->reg_tuples == 1 && t->reg_bytes / 4 == t->reg_cells)
		ret = pfn_range(m, t->base, t->size, &r->tag_start, &r->tag_end);
	if (ret)
		printk(m, "Invalid tag storage node");
	return ret;
}

/*
 * memory_node_of - rule 5: the memory property names a depth-1 memory node
 * by phandle.  The reader keeps every range of every memory node with the
 * node's phandle, so the first range carrying it stands for the node.
 * A memory property that is not one cell is treated as naming no node.
 */
static const struct dt_mem_range *memory_node_of(struct mmsim_machine *m,
						 const struct dt_machine *dt,
						 const struct dt_tag_storage *t)
{
	if (t->memory_bytes < 0) {
		printk(m, "Missing 'memory' property in the tag storage node");
		return NULL;
	}
	for (unsigned int i = 0; t->has_memory && t->memory_phandle && i < dt->nr_mem; i++)
		if (dt->mem[i].phandle == t->memory_phandle)
			return &dt->mem[i];
	printk(m, "Associated memory node not found");
	return NULL;
}

/*
 * overlaps_memory - how the tag range sits against memory already known:
 * 0 outside all of it, 1 wholly inside one range, -1 partly inside.
 * memblock_add merges in Linux; the model's memblock keeps ranges apart, so
 * a range inside memory is only reserved and a straddling one is refused.
 */
static int overlaps_memory(struct mmsim_machine *m, uint64_t base, uint64_t size)
{
	const struct memblock_type *mem = &m->memblock.memory;

	for (unsigned int i = 0; i < mem->cnt; i++) {
		uint64_t s = mem->regions[i].base, e = s + mem->regions[i].size;

		if (base >= e || base + size <= s)
			continue;
		return base >= s && base + size <= e ? 1 : -1;
	}
	return 0;
}

/*
 * init_one_region - rules 2 to 10 of spec §1.4 for one node that passed the
 * filter of rule 1, in the kernel's order; on success the region is recorded
 * in m->mte.regions[] and its tag range is memory of its node, reserved.
 * Returns 0, or -errno after logging why the node is refused.
 */
static int init_one_region(struct mmsim_machine *m, const struct dt_machine *dt,
			   const struct dt_tag_storage *t)
{
	struct tag_region r = { 0 };
	const struct dt_mem_range *mem;
	uint64_t tag_pages, base, size;
	int ret, inside;

	if (m->mte.nr_regions == MAX_TAG_REGIONS) {
		printk(m, "Maximum number of tag storage regions exceeded");
		return -MMSIM_EINVAL;
	}
	if ((ret = tag_range_of(m, t, &r)))
		return ret;
	tag_pages = r.tag_end - r.tag_start + 1;
	/* The allocator deals in pageblocks: each must be all tag storage. */
	if ((r.tag_start | tag_pages) & (pageblock_nr_pages - 1)) {
		printk(m, "Tag storage region not aligned to 0x%lx", pageblock_nr_pages);
		return -MMSIM_EINVAL;
	}
	if (!(mem = memory_node_of(m, dt, t)))
		return -MMSIM_EINVAL;
	/* Rule 6: the reader took linux,usable-memory over reg already. */
	ret = -MMSIM_EINVAL;
	if (mem->tuples_in_node == 1)
		ret = pfn_range(m, mem->base, mem->size, &r.mem_start, &r.mem_end);
	if (ret) {
		printk(m, "Invalid address for associated data memory node");
		return ret;
	}
	/* Rule 7: the mapping of §1.2 is only static if the sizes match. */
	if (tag_pages * TAG_RATIO != r.mem_end - r.mem_start + 1) {
		printk(m, "Tag region doesn't cover exactly the corresponding memory region");
		return -MMSIM_EINVAL;
	}
	if (!t->has_block_size || !t->block_size) {
		printk(m, "Invalid or missing 'block-size' property");
		return -MMSIM_EINVAL;
	}
	r.block_size = block_size_pages(t->block_size);
	if (tag_pages % r.block_size) {
		printk(m, "Tag storage region size is not a multiple of allocation block size");
		return -MMSIM_EINVAL;
	}
	/* Rule 9: the reader gives 0, the boot CPU's node, without numa-node-id. */
	r.nid = mem->nid;

	base = r.tag_start << PAGE_SHIFT;
	size = tag_pages << PAGE_SHIFT;
	inside = overlaps_memory(m, base, size);
	ret = inside < 0 ? -MMSIM_EINVAL : inside ? 0 : memblock_add_node(m, base, size, r.nid);
	if (!ret && (ret = memblock_reserve(m, base, size, NULL)) && !inside)
		memblock_remove(m, base, size);
	if (ret) {
		printk(m, "Error adding tag memblock (%d)", ret);
		return ret;
	}
	printk(m, "Found MTE tag storage region 0x%llx@0x%llx, block size %u pages",
	       (unsigned long long)size, (unsigned long long)base, r.block_size);
	m->mte.regions[m->mte.nr_regions++] = r;
	return 0;
}

/*
 * mte_tag_storage_init - validate the tag storage nodes in tree order (the
 * reader keeps only depth-1 nodes named "...metadata..." and compatible with
 * arm,mte-tag-storage, which is rule 1) and record the regions.  The first
 * invalid node disables the feature: every region recorded so far leaves
 * memblock again.  Assumes memblock holds the memory nodes and reservations
 * and nothing has been laid out yet.  Returns 0: a bad tree is logged, not
 * fatal.
 */
int mte_tag_storage_init(struct mmsim_machine *m, const struct dt_machine *dt)
{
	int ret = 0;

	m->mte.nr_regions = 0;
	m->mte.totalmetadata_pages = 0;
	for (unsigned int i = 0; i < dt->nr_tag_storage && !ret; i++)
		ret = init_one_region(m, dt, &dt->tag_storage[i]);
	if (ret) {
		printk(m, "MTE tag storage management disabled");
		for (unsigned int i = 0; i < m->mte.nr_regions; i++) {
			const struct tag_region *r = &m->mte.regions[i];

			memblock_remove(m, r->tag_start << PAGE_SHIFT,
					(r->tag_end - r->tag_start + 1) << PAGE_SHIFT);
		}
		m->mte.nr_regions = 0;
		return 0;
	}
	if (!m->mte.nr_regions)
		printk(m, "No MTE tag storage regions detected");
	return 0;
}

/* ------------------------------------------------------------ mapping */

/*
 * find_block_in_region - the tag block holding the tags of data frame pfn in
 * one region (spec §1.2): tag page (pfn - mem_start) / 32 rounded down to the
 * block size.  A block that would run past the region's end is logged (the
 * kernel prints the end as the start of the last page) and refused.
 */
static int find_block_in_region(struct mmsim_machine *m, uint64_t pfn, uint64_t *block,
				const struct tag_region *r)
{
	uint64_t offset, b;

	if (pfn < r->mem_start || pfn > r->mem_end)
		return -MMSIM_ERANGE;
	offset = (pfn - r->mem_start) / TAG_RATIO;
	b = r->tag_start + offset - offset % r->block_size;
	if (b + r->block_size - 1 > r->tag_end) {
		printk(m, "Block 0x%llx-0x%llx is outside tag region 0x%llx-0x%llx",
		       (unsigned long long)(b << PAGE_SHIFT),
		       (unsigned long long)((b + r->block_size) << PAGE_SHIFT),
		       (unsigned long long)(r->tag_start << PAGE_SHIFT),
		       (unsigned long long)(r->tag_end << PAGE_SHIFT));
		return -MMSIM_ERANGE;
	}
	*block = b;
	return 0;
}

/*
 * tag_storage_find_block - the first region whose data range holds pfn gives
 * the tag block (its first tag PFN) and the region.  A region that refuses
 * the frame does not stop the search.  Returns 0, or -EINVAL when no region
 * has a block for pfn.  @block and @region may be NULL.
 */
int tag_storage_find_block(struct mmsim_machine *m, uint64_t pfn, uint64_t *block,
			   const struct tag_region **region)
{
	for (unsigned int i = 0; i < m->mte.nr_regions; i++) {
		uint64_t b;

		if (find_block_in_region(m, pfn, &b, &m->mte.regions[i]))
			continue;
		if (block)
			*block = b;
		if (region)
			*region = &m->mte.regions[i];
		return 0;
	}
	return -MMSIM_EINVAL;
}

/* ----------------------------------------------------------- activation */

/*
 * add_usable_pageblock - record one pageblock handed to the buddy in the
 * machine's usable ranges, the list of frames the allocator manages that
 * mmsim_check() walks.  Extends the last range when it ends where this
 * pageblock starts in the same zone.  Returns 0 or -ENOMEM.
 */
static int add_usable_pageblock(struct mmsim_machine *m, uint64_t pfn)
{
	struct zone *z = pfn_zone(m, pfn);
	uint8_t nid = (uint8_t)z->zone_pgdat->node_id, zid = (uint8_t)z->idx;
	struct usable_range *u = m->nr_usable ? &m->usable[m->nr_usable - 1] : NULL;

	if (u && u->end == pfn && u->nid == nid && u->zid == zid) {
		u->end += pageblock_nr_pages;
		return 0;
	}
	u = realloc(m->usable, sizeof(*u) * (m->nr_usable + 1));
	if (!u)
		return seterr(-MMSIM_ENOMEM, "out of host memory for the usable ranges");
	m->usable = u;
	u[m->nr_usable++] = (struct usable_range){ pfn, pfn + pageblock_nr_pages, nid, zid };
	return 0;
}

/*
 * free_region_pageblocks - hand every pageblock of every region to the buddy
 * as type mt, counted as managed memory.  Tag storage (METADATA, or CMA under
 * the cma policy) is also counted in the zone's and the machine's metadata
 * totals, which is what MetadataTotal and zoneinfo's "metadata" show.
 * Assumes the regions are pageblock aligned and still boot-reserved.
 * Returns 0 or -ENOMEM (host memory).
 */
static int free_region_pageblocks(struct mmsim_machine *m, int mt, bool metadata)
{
	int ret;

	for (unsigned int i = 0; i < m->mte.nr_regions; i++) {
		const struct tag_region *r = &m->mte.regions[i];

		for (uint64_t pfn = r->tag_start; pfn <= r->tag_end; pfn += pageblock_nr_pages) {
			if ((ret = add_usable_pageblock(m, pfn)))
				return ret;
			init_reserved_pageblock(m, pfn, mt);
			if (!metadata)
				continue;
			pfn_zone(m, pfn)->metadata_pages += pageblock_nr_pages;
			m->mte.totalmetadata_pages += pageblock_nr_pages;
		}
	}
	/* managed_pages grew: split min_free_kbytes over the zones again. */
	setup_per_zone_wmarks(m);
	return 0;
}

/*
 * tag_blocks_in_one_zone - alloc_contig_range() works within one zone, so a
 * tag block whose pages lie in two zones could never be reserved.  Blocks of
 * one page cannot straddle; larger ones are checked page by page.
 */
static bool tag_blocks_in_one_zone(struct mmsim_machine *m)
{
	for (unsigned int i = 0; i < m->mte.nr_regions; i++) {
		const struct tag_region *r = &m->mte.regions[i];

		if (r->block_size == 1)
			continue;
		for (uint64_t b = r->tag_start; b <= r->tag_end; b += r->block_size)
			for (unsigned int j = 1; j < r->block_size; j++)
				if (pfn_zone(m, b + j) != pfn_zone(m, b))
					return false;
	}
	return true;
}

/*
 * mte_tag_storage_activate - spec §1.5, steps 1 to 8, then the policy.
 * Assumes boot has freed all other memory and allocated the zero page.
 *
 * rfc-v1: the carve-out becomes MIGRATE_METADATA pageblocks, and the zero
 *   page's tag block is reserved at once because the zero page is tagged
 *   from the start, not when it is first mapped.
 * cma: the reviewers' design (§6.2 B, §6.4).  The carve-out becomes CMA,
 *   counted in CmaTotal/nr_free_cma by the CMA code and in MetadataTotal
 *   because it is tag storage.  Tagged allocations never come from it, so
 *   it may itself be tagged.  Where its own tags live is §1.7's second
 *   carve-out: 1/1024 of RAM, reserved for tags and never seen by the OS.
 *   The model has that already - frames no region covers keep their tags
 *   in the hidden, host-side store (m->mte.hidden_tags), and the carve-out
 *   is in no region's data range - so nothing more is described or
 *   reserved for it.
 * static: Linux today.  The carve-out stays reserved and is never data
 *   memory; every tag always has its storage, so no reservation is needed
 *   and storage_enabled stays false.
 *
 * Every outcome is logged and returns 0: the kernel's initcall result is
 * not a boot failure, and the machine boots without the feature.  Only
 * running out of host memory returns -ENOMEM.
 */
int mte_tag_storage_activate(struct mmsim_machine *m)
{
	uint64_t dram_start, dram_end;
	int ret;

	if (!m->mte.nr_regions)
		return 0;

	/* A region a memory limit clipped would be freed only in part. */
	dram_start = memblock_start_of_DRAM(m);
	dram_end = memblock_end_of_DRAM(m);
	for (unsigned int i = 0; i < m->mte.nr_regions; i++) {
		const struct tag_region *r = &m->mte.regions[i];

		if ((r->tag_start << PAGE_SHIFT) < dram_start || (r->tag_end << PAGE_SHIFT) >= dram_end) {
			printk(m, "Tag storage region 0x%llx-0x%llx outside addressable memory",
			       (unsigned long long)(r->tag_start << PAGE_SHIFT),
			       (unsigned long long)((r->tag_end + 1) << PAGE_SHIFT));
			return 0;
		}
	}

	/*
	 * Without MTE nothing is ever tagged: the carve-out is plain memory.
	 * It stays memblock-reserved, so only kexec would keep off it.
	 */
	if (!m->mte.supported)
		return free_region_pageblocks(m, MIGRATE_MOVABLE, false);

	/* KASAN tags kernel memory where nothing may sleep to migrate. */
	if (m->mte.kasan_hw) {
		printk(m, "KASAN HW tags enabled, disabling tag storage");
		return 0;
	}

	if (m->mte.policy == TS_POLICY_STATIC) {
		printk(m, "MTE tag storage: static carve-out, not used as data memory");
		return 0;
	}

	if (!tag_blocks_in_one_zone(m)) {
		printk(m, "Tag block pages in different zones");
		return 0;
	}

	ret = free_region_pageblocks(m, m->mte.policy == TS_POLICY_CMA ? MIGRATE_CMA : MIGRATE_METADATA,
				     true);
	if (ret)
		return ret;

	/*
	 * The kernel reserves before it turns the static key on; the model's
	 * reserve_metadata_storage() does nothing while storage is off, so the
	 * flag is raised for the call and lowered again if it fails.
	 */
	m->mte.storage_enabled = true;
	ret = reserve_metadata_storage(m, pfn_to_page(m, m->zero_pfn), 0, GFP_HIGHUSER_MOVABLE);
	if (ret) {
		m->mte.storage_enabled = false;
		/*
		 * As written in the seed: the pageblocks stay on the METADATA
		 * lists, but nothing may allocate from them while disabled.
		 */
		printk(m, "MTE tag storage disabled");
		return 0;
	}
	printk(m, "MTE tag storage enabled");
	return 0;
}
