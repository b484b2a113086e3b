// SPDX-License-Identifier: MIT
/*
 * proc/vmstat.c - /proc/vmstat, /proc/buddyinfo, /proc/pagetypeinfo and
 * /proc/zoneinfo, laid out as Linux 6.6 prints them on arm64
 * (CONFIG_NUMA, CONFIG_TRANSPARENT_HUGEPAGE, CONFIG_CMA, CONFIG_COMPACTION,
 * CONFIG_MIGRATION, CONFIG_NUMA_BALANCING, CONFIG_MEMORY_ISOLATION).
 *
 * Counters are kept in pages, as Linux keeps them; the THP counters of the
 * node list (nr_anon_transparent_hugepages, ...) count base pages and are
 * printed in huge pages, as Linux's vmstat_item_print_in_thp() does.
 */
#include <stdio.h>
#include <string.h>

#include "proc/proc.h"
#include "mm/internal.h"

static const char *const fallback_zone_names[MAX_NR_ZONES] = { "DMA", "Normal", "Movable" };

static const char *zone_name(const struct zone *z, int zid)
{
	return z->name ? z->name : fallback_zone_names[zid];
}

/* Counted in base pages, shown in huge pages. */
static bool node_item_in_thp(int i)
{
	return i == NR_ANON_THPS || i == NR_SHMEM_THPS || i == NR_SHMEM_PMDMAPPED ||
	       i == NR_FILE_THPS || i == NR_FILE_PMDMAPPED;
}

/*
 * Events an arm64 kernel has no line for: thp_split_pud needs
 * CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD and the direct-map split
 * counters are x86's.  The model keeps the counters (they stay 0).
 */
static bool vm_event_shown(int i)
{
	return i != THP_SPLIT_PUD && i != DIRECT_MAP_LEVEL2_SPLIT &&
	       i != DIRECT_MAP_LEVEL3_SPLIT;
}

/*
 * The dirty limits of the global domain with the default knobs
 * (vm.dirty_ratio 20, vm.dirty_background_ratio 10, no *_bytes), computed
 * over the dirtyable memory: free pages above the reserves plus the file
 * LRU.  The ratio is scaled by PAGE_SIZE first, as Linux does, so the
 * rounding matches.
 */
static void global_dirty_limits(struct mmsim_machine *m, uint64_t *bg, uint64_t *dirty)
{
	uint64_t avail = global_zone_state(m, NR_FREE_PAGES);
	uint64_t reserve = calc_totalreserve_pages(m);
	uint64_t ratio = (20 * PAGE_SIZE) / 100, bg_ratio = (10 * PAGE_SIZE) / 100;
	uint64_t thresh, bg_thresh;

	avail -= reserve < avail ? reserve : avail;
	avail += global_node_state(m, NR_INACTIVE_FILE) + global_node_state(m, NR_ACTIVE_FILE);

	thresh = ratio * avail / PAGE_SIZE;
	bg_thresh = bg_ratio * avail / PAGE_SIZE;
	if (bg_thresh >= thresh)
		bg_thresh = thresh / 2;
	*bg = bg_thresh;
	*dirty = thresh;
}

static uint64_t node_item_shown(struct mmsim_machine *m, int i)
{
	uint64_t v = global_node_state(m, (enum node_stat_item)i);

	return node_item_in_thp(i) ? v / HPAGE_PMD_NR : v;
}

void proc_vmstat_show(struct mmsim_machine *m, struct seqbuf *s)
{
	uint64_t bg, dirty;
	int i;

	for (i = 0; i < NR_VM_ZONE_STAT_ITEMS; i++)
		seq_printf(s, "%s %llu\n", zone_stat_names[i],
			   (unsigned long long)global_zone_state(m, (enum zone_stat_item)i));
	for (i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++)
		seq_printf(s, "%s %llu\n", numa_stat_names[i],
			   (unsigned long long)global_numa_state(m, (enum numa_stat_item)i));
	for (i = 0; i < NR_VM_NODE_STAT_ITEMS; i++)
		seq_printf(s, "%s %llu\n", node_stat_names[i],
			   (unsigned long long)node_item_shown(m, i));
	global_dirty_limits(m, &bg, &dirty);
	seq_printf(s, "nr_dirty_threshold %llu\n", (unsigned long long)dirty);
	seq_printf(s, "nr_dirty_background_threshold %llu\n", (unsigned long long)bg);
	for (i = 0; i < NR_VM_EVENT_ITEMS; i++)
		if (vm_event_shown(i))
			seq_printf(s, "%s %llu\n", vm_event_names[i],
				   (unsigned long long)m->vm_events[i]);
}

bool proc_vmstat_lookup(struct mmsim_machine *m, const char *name, uint64_t *val)
{
	uint64_t bg, dirty;
	int i;

	for (i = 0; i < NR_VM_ZONE_STAT_ITEMS; i++)
		if (!strcmp(name, zone_stat_names[i])) {
			*val = global_zone_state(m, (enum zone_stat_item)i);
			return true;
		}
	for (i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++)
		if (!strcmp(name, numa_stat_names[i])) {
			*val = global_numa_state(m, (enum numa_stat_item)i);
			return true;
		}
	for (i = 0; i < NR_VM_NODE_STAT_ITEMS; i++)
		if (!strcmp(name, node_stat_names[i])) {
			*val = node_item_shown(m, i);
			return true;
		}
	if (!strcmp(name, "nr_dirty_threshold") || !strcmp(name, "nr_dirty_background_threshold")) {
		global_dirty_limits(m, &bg, &dirty);
		*val = name[9] == 't' ? dirty : bg;
		return true;
	}
	for (i = 0; i < NR_VM_EVENT_ITEMS; i++)
		if (vm_event_shown(i) && !strcmp(name, vm_event_names[i])) {
			*val = (uint64_t)m->vm_events[i];
			return true;
		}
	return false;
}

/* ----------------------------------------------------------- buddyinfo */

void proc_buddyinfo_show(struct mmsim_machine *m, struct seqbuf *s)
{
	unsigned int nid;
	int zid, order;

	for (nid = 0; nid < m->nr_nodes; nid++) {
		struct pglist_data *pg = &m->nodes[nid];

		for (zid = 0; zid < MAX_NR_ZONES; zid++) {
			struct zone *z = &pg->node_zones[zid];

			if (!populated_zone(z))
				continue;
			seq_printf(s, "Node %d, zone %8s ", pg->node_id, zone_name(z, zid));
			for (order = 0; order < NR_PAGE_ORDERS; order++)
				seq_printf(s, "%6llu ", (unsigned long long)z->free_area[order].nr_free);
			seq_putc(s, '\n');
		}
	}
}

/* -------------------------------------------------------- pagetypeinfo */

static const char *const migratetype_names[MIGRATE_TYPES] = {
	[MIGRATE_UNMOVABLE] = "Unmovable",
	[MIGRATE_MOVABLE] = "Movable",
	[MIGRATE_RECLAIMABLE] = "Reclaimable",
	[MIGRATE_HIGHATOMIC] = "HighAtomic",
	[MIGRATE_CMA] = "CMA",
	[MIGRATE_METADATA] = "Metadata",
	[MIGRATE_ISOLATE] = "Isolate",
};

static int first_populated_zone(const struct pglist_data *pg);

static uint64_t zone_end_pfn(const struct zone *z)
{
	return z->zone_start_pfn + z->spanned_pages;
}

/* Does pfn start a pageblock of this zone (Linux: pfn_to_online_page + page_zone)? */
static bool block_in_zone(struct mmsim_machine *m, struct zone *z, uint64_t pfn)
{
	return pfn_valid(m, pfn) && page_zone(m, pfn_to_page(m, pfn)) == z;
}

/*
 * MIGRATE_METADATA (tag storage lent out as data memory) is not a type of
 * mainline Linux: its column appears only on machines that have such
 * pageblocks, so every other machine prints exactly Linux's table.
 */
static bool machine_has_metadata(struct mmsim_machine *m)
{
	unsigned int nid;
	int zid;

	for (nid = 0; nid < m->nr_nodes; nid++) {
		for (zid = 0; zid < MAX_NR_ZONES; zid++) {
			struct zone *z = &m->nodes[nid].node_zones[zid];
			uint64_t pfn;

			if (!populated_zone(z))
				continue;
			for (pfn = z->zone_start_pfn; pfn < zone_end_pfn(z); pfn += pageblock_nr_pages)
				if (block_in_zone(m, z, pfn) &&
				    get_pageblock_migratetype(m, pfn) == MIGRATE_METADATA)
					return true;
		}
	}
	return false;
}

static bool mt_shown(int mt, bool metadata)
{
	return mt != MIGRATE_METADATA || metadata;
}

static void pagetypeinfo_node(struct mmsim_machine *m, struct pglist_data *pg,
			      struct seqbuf *s, bool metadata)
{
	int zid, order, mt;

	seq_printf(s, "Page block order: %d\n", pageblock_order);
	seq_printf(s, "Pages per block:  %lu\n", (unsigned long)pageblock_nr_pages);
	seq_putc(s, '\n');

	seq_printf(s, "%-43s ", "Free pages count per migrate type at order");
	for (order = 0; order < NR_PAGE_ORDERS; order++)
		seq_printf(s, "%6d ", order);
	seq_putc(s, '\n');
	for (zid = 0; zid < MAX_NR_ZONES; zid++) {
		struct zone *z = &pg->node_zones[zid];

		if (!populated_zone(z))
			continue;
		for (mt = 0; mt < MIGRATE_TYPES; mt++) {
			if (!mt_shown(mt, metadata))
				continue;
			seq_printf(s, "Node %4d, zone %8s, type %12s ", pg->node_id,
				   zone_name(z, zid), migratetype_names[mt]);
			for (order = 0; order < NR_PAGE_ORDERS; order++) {
				const struct list_head *head = &z->free_area[order].free_list[mt];
				const struct list_head *pos;
				unsigned long n = 0;
				bool overflow = false;

				/* Linux stops counting at 100000 and prints ">". */
				if (head->next) {
					list_for_each(pos, head) {
						if (++n >= 100000) {
							overflow = true;
							break;
						}
					}
				}
				seq_printf(s, "%s%6lu ", overflow ? ">" : "", n);
			}
			seq_putc(s, '\n');
		}
	}

	seq_printf(s, "\n%-23s", "Number of blocks type ");
	for (mt = 0; mt < MIGRATE_TYPES; mt++)
		if (mt_shown(mt, metadata))
			seq_printf(s, "%12s ", migratetype_names[mt]);
	seq_putc(s, '\n');
	for (zid = 0; zid < MAX_NR_ZONES; zid++) {
		struct zone *z = &pg->node_zones[zid];
		unsigned long count[MIGRATE_TYPES] = { 0 };
		uint64_t pfn;

		if (!populated_zone(z))
			continue;
		for (pfn = z->zone_start_pfn; pfn < zone_end_pfn(z); pfn += pageblock_nr_pages) {
			if (!block_in_zone(m, z, pfn))
				continue;
			mt = get_pageblock_migratetype(m, pfn);
			if (mt >= 0 && mt < MIGRATE_TYPES)
				count[mt]++;
		}
		seq_printf(s, "Node %d, zone %8s ", pg->node_id, zone_name(z, zid));
		for (mt = 0; mt < MIGRATE_TYPES; mt++)
			if (mt_shown(mt, metadata))
				seq_printf(s, "%12lu ", count[mt]);
		seq_putc(s, '\n');
	}
}

void proc_pagetypeinfo_show(struct mmsim_machine *m, struct seqbuf *s)
{
	bool metadata = machine_has_metadata(m);
	unsigned int nid;

	for (nid = 0; nid < m->nr_nodes; nid++) {
		/* Memoryless nodes print nothing. */
		if (first_populated_zone(&m->nodes[nid]) < 0)
			continue;
		pagetypeinfo_node(m, &m->nodes[nid], s, metadata);
	}
}

/* ------------------------------------------------------------ zoneinfo */

static int fls_u64(uint64_t x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

/* The per-cpu counter drift allowed before folding (calculate_normal_threshold). */
static int stat_threshold(struct mmsim_machine *m, const struct zone *z)
{
	uint64_t mem = z->managed_pages >> (27 - PAGE_SHIFT);
	int t = 2 * fls_u64(m->nr_cpus) * (1 + fls_u64(mem));

	return t < 125 ? t : 125;
}

static int first_populated_zone(const struct pglist_data *pg)
{
	int zid;

	for (zid = 0; zid < MAX_NR_ZONES; zid++)
		if (populated_zone(&pg->node_zones[zid]))
			return zid;
	return -1;
}

static void zoneinfo_zone(struct mmsim_machine *m, struct pglist_data *pg, int zid,
			  struct seqbuf *s)
{
	struct zone *z = &pg->node_zones[zid];
	bool first = zid == first_populated_zone(pg);
	unsigned int cpu;
	int i;

	seq_printf(s, "Node %d, zone %8s", pg->node_id, zone_name(z, zid));
	if (first) {
		seq_puts(s, "\n  per-node stats");
		for (i = 0; i < NR_VM_NODE_STAT_ITEMS; i++) {
			int64_t v = pg->vm_stat[i];
			uint64_t u = v > 0 ? (uint64_t)v : 0;

			if (node_item_in_thp(i))
				u /= HPAGE_PMD_NR;
			seq_printf(s, "\n      %-12s %llu", node_stat_names[i],
				   (unsigned long long)u);
		}
	}
	seq_printf(s, "\n  pages free     %llu"
		      "\n        boost    %llu"
		      "\n        min      %llu"
		      "\n        low      %llu"
		      "\n        high     %llu"
		      "\n        spanned  %llu"
		      "\n        present  %llu"
		      "\n        managed  %llu"
		      "\n        cma      %llu"
		      "\n        metadata %llu",
		   (unsigned long long)(z->vm_stat[NR_FREE_PAGES] > 0 ? z->vm_stat[NR_FREE_PAGES] : 0),
		   0ULL,
		   (unsigned long long)z->watermark[WMARK_MIN],
		   (unsigned long long)z->watermark[WMARK_LOW],
		   (unsigned long long)z->watermark[WMARK_HIGH],
		   (unsigned long long)z->spanned_pages,
		   (unsigned long long)z->present_pages,
		   (unsigned long long)z->managed_pages,
		   (unsigned long long)zone_cma_pages(m, z),
		   (unsigned long long)z->metadata_pages);
	seq_printf(s, "\n        protection: (%lld", (long long)z->lowmem_reserve[0]);
	for (i = 1; i < MAX_NR_ZONES; i++)
		seq_printf(s, ", %lld", (long long)z->lowmem_reserve[i]);
	seq_putc(s, ')');

	if (!populated_zone(z)) {
		seq_putc(s, '\n');
		return;
	}

	for (i = 0; i < NR_VM_ZONE_STAT_ITEMS; i++)
		seq_printf(s, "\n      %-12s %llu", zone_stat_names[i],
			   (unsigned long long)(z->vm_stat[i] > 0 ? z->vm_stat[i] : 0));
	/*
	 * Linux keeps NUMA events per zone; the model keeps them per node, and
	 * shows them on the node's first populated zone so that summing the
	 * zones gives the node's total.
	 */
	for (i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++)
		seq_printf(s, "\n      %-12s %llu", numa_stat_names[i],
			   (unsigned long long)(first && pg->numa_stat[i] > 0 ? pg->numa_stat[i] : 0));

	seq_puts(s, "\n  pagesets");
	for (cpu = 0; cpu < m->nr_cpus && cpu < MAX_CPUS; cpu++) {
		const struct per_cpu_pages *pcp = &z->pcp[cpu];

		seq_printf(s, "\n    cpu: %u"
			      "\n              count: %d"
			      "\n              high:  %d"
			      "\n              batch: %d",
			   cpu, pcp->count, pcp->high, pcp->batch);
		seq_printf(s, "\n  vm stats threshold: %d", stat_threshold(m, z));
	}
	seq_printf(s, "\n  node_unreclaimable:  %u"
		      "\n  start_pfn:           %llu",
		   0U, (unsigned long long)z->zone_start_pfn);
	seq_putc(s, '\n');
}

void proc_zoneinfo_show(struct mmsim_machine *m, struct seqbuf *s)
{
	unsigned int nid;
	int zid;

	/* Every zone, populated or not: lowmem_reserve spans them all. */
	for (nid = 0; nid < m->nr_nodes; nid++)
		for (zid = 0; zid < MAX_NR_ZONES; zid++)
			zoneinfo_zone(m, &m->nodes[nid], zid, s);
}
