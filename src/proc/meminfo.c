// SPDX-License-Identifier: MIT
/*
 * proc/meminfo.c - /proc/meminfo as Linux 6.6 prints it on arm64 with
 * CONFIG_SWAP, CONFIG_ZSWAP, CONFIG_MEMORY_FAILURE,
 * CONFIG_TRANSPARENT_HUGEPAGE, CONFIG_CMA and CONFIG_HUGETLB_PAGE, and the
 * global counter sums the other /proc files use.
 *
 * Lines are "%-16s%8lu kB" wide: a 16-column label (name, colon, spaces)
 * and an 8-column value, except where Linux's own labels are wider.
 */
#include <stdio.h>

#include "proc/proc.h"
#include "mm/internal.h"
#include "mm/swap.h"

uint64_t global_zone_state(struct mmsim_machine *m, enum zone_stat_item i)
{
	int64_t sum = 0;
	unsigned int nid;
	int zid;

	for (nid = 0; nid < m->nr_nodes; nid++)
		for (zid = 0; zid < MAX_NR_ZONES; zid++)
			sum += m->nodes[nid].node_zones[zid].vm_stat[i];
	/* Per-cpu drift can make a sum dip below zero; Linux shows 0 then. */
	return sum > 0 ? (uint64_t)sum : 0;
}

uint64_t global_node_state(struct mmsim_machine *m, enum node_stat_item i)
{
	int64_t sum = 0;
	unsigned int nid;

	for (nid = 0; nid < m->nr_nodes; nid++)
		sum += m->nodes[nid].vm_stat[i];
	return sum > 0 ? (uint64_t)sum : 0;
}

uint64_t global_numa_state(struct mmsim_machine *m, enum numa_stat_item i)
{
	int64_t sum = 0;
	unsigned int nid;

	for (nid = 0; nid < m->nr_nodes; nid++)
		sum += m->nodes[nid].numa_stat[i];
	return sum > 0 ? (uint64_t)sum : 0;
}

/*
 * Pages the allocator keeps back from user space: per zone the largest
 * lowmem reserve against it plus its high watermark, capped at what the
 * zone manages (calculate_totalreserve_pages).
 */
uint64_t calc_totalreserve_pages(struct mmsim_machine *m)
{
	uint64_t total = 0;
	unsigned int nid;
	int zid, j;

	for (nid = 0; nid < m->nr_nodes; nid++) {
		for (zid = 0; zid < MAX_NR_ZONES; zid++) {
			const struct zone *z = &m->nodes[nid].node_zones[zid];
			uint64_t max = 0;

			for (j = zid; j < MAX_NR_ZONES; j++)
				if (z->lowmem_reserve[j] > max)
					max = z->lowmem_reserve[j];
			max += z->watermark[WMARK_HIGH];
			if (max > z->managed_pages)
				max = z->managed_pages;
			total += max;
		}
	}
	return total;
}

/*
 * MemAvailable (si_mem_available): free pages above the reserves, plus
 * the page cache and reclaimable kernel memory that could be freed without
 * swapping - minus, for each, the part reclaim would leave behind (half of
 * it, or the low watermarks if those are smaller).
 */
static uint64_t si_mem_available(struct mmsim_machine *m)
{
	uint64_t wmark_low = 0, pagecache, reclaimable;
	int64_t avail;
	unsigned int nid;
	int zid;

	for (nid = 0; nid < m->nr_nodes; nid++)
		for (zid = 0; zid < MAX_NR_ZONES; zid++)
			wmark_low += m->nodes[nid].node_zones[zid].watermark[WMARK_LOW];

	avail = (int64_t)global_zone_state(m, NR_FREE_PAGES) - (int64_t)calc_totalreserve_pages(m);

	pagecache = global_node_state(m, NR_ACTIVE_FILE) + global_node_state(m, NR_INACTIVE_FILE);
	pagecache -= pagecache / 2 < wmark_low ? pagecache / 2 : wmark_low;
	avail += (int64_t)pagecache;

	reclaimable = global_node_state(m, NR_SLAB_RECLAIMABLE_B) +
		      global_node_state(m, NR_KERNEL_MISC_RECLAIMABLE);
	reclaimable -= reclaimable / 2 < wmark_low ? reclaimable / 2 : wmark_low;
	avail += (int64_t)reclaimable;

	return avail > 0 ? (uint64_t)avail : 0;
}

/* Pages charged against the overcommit limit: every VM_ACCOUNT mapping. */
static uint64_t committed_pages(struct mmsim_machine *m)
{
	struct list_head *pos;
	uint64_t pages = 0;
	int i;

	list_for_each(pos, &m->mms) {
		struct mm_struct *mm = list_entry(pos, struct mm_struct, mm_list);

		for (i = 0; i < mm->nr_vmas; i++)
			if (mm->vmas[i]->vm_flags & VM_ACCOUNT)
				pages += vma_pages(mm->vmas[i]);
	}
	return pages;
}

/* Pages of a zone in CMA pageblocks (zone_cma_pages). */
uint64_t zone_cma_pages(struct mmsim_machine *m, struct zone *z)
{
	uint64_t end = z->zone_start_pfn + z->spanned_pages, pages = 0, pfn;

	if (!populated_zone(z))
		return 0;
	for (pfn = z->zone_start_pfn; pfn < end; pfn += pageblock_nr_pages)
		if (pfn_valid(m, pfn) && page_zone(m, pfn_to_page(m, pfn)) == z &&
		    get_pageblock_migratetype(m, pfn) == MIGRATE_CMA)
			pages += end - pfn < pageblock_nr_pages ? end - pfn : pageblock_nr_pages;
	return pages;
}

/* totalcma_pages */
static uint64_t total_cma_pages(struct mmsim_machine *m)
{
	uint64_t pages = 0;
	unsigned int nid;
	int zid;

	for (nid = 0; nid < m->nr_nodes; nid++)
		for (zid = 0; zid < MAX_NR_ZONES; zid++)
			pages += zone_cma_pages(m, &m->nodes[nid].node_zones[zid]);
	return pages;
}

/* The vmalloc area of arm64 with 48-bit VAs and 4 KiB pages, in bytes. */
#define ARM64_VMALLOC_START 0xffff800080000000ULL   /* MODULES_END               */
#define ARM64_VMALLOC_END   0xfffffbfff0000000ULL   /* VMEMMAP_START - 256 MiB   */

static void show_val_kb(struct seqbuf *s, const char *label, uint64_t pages)
{
	seq_printf(s, "%s%8llu kB\n", label,
		   (unsigned long long)(pages << (PAGE_SHIFT - 10)));
}

void proc_meminfo_show(struct mmsim_machine *m, struct seqbuf *s)
{
	uint64_t free = global_zone_state(m, NR_FREE_PAGES);
	uint64_t swapcache = global_node_state(m, NR_SWAPCACHE);
	uint64_t buffers = 0;           /* no block devices in the model */
	uint64_t file = global_node_state(m, NR_FILE_PAGES);
	uint64_t cached = file > swapcache + buffers ? file - swapcache - buffers : 0;
	uint64_t act_anon = global_node_state(m, NR_ACTIVE_ANON);
	uint64_t inact_anon = global_node_state(m, NR_INACTIVE_ANON);
	uint64_t act_file = global_node_state(m, NR_ACTIVE_FILE);
	uint64_t inact_file = global_node_state(m, NR_INACTIVE_FILE);
	uint64_t sreclaimable = global_node_state(m, NR_SLAB_RECLAIMABLE_B);
	uint64_t sunreclaim = global_node_state(m, NR_SLAB_UNRECLAIMABLE_B);
	uint64_t swap_total = swap_total_pages(m), swap_free = swap_free_pages(m);
	uint64_t commit_limit;

	/*
	 * vm_commit_limit(): overcommit_ratio percent of RAM (no hugetlb pool)
	 * plus all of swap.
	 */
	commit_limit = m->totalram_pages * (uint64_t)(m->overcommit_ratio > 0 ? m->overcommit_ratio : 0)
		       / 100 + swap_total;

	show_val_kb(s, "MemTotal:       ", m->totalram_pages);
	show_val_kb(s, "MemFree:        ", free);
	show_val_kb(s, "MemAvailable:   ", si_mem_available(m));
	show_val_kb(s, "Buffers:        ", buffers);
	show_val_kb(s, "Cached:         ", cached);
	show_val_kb(s, "SwapCached:     ", swapcache);
	show_val_kb(s, "Active:         ", act_anon + act_file);
	show_val_kb(s, "Inactive:       ", inact_anon + inact_file);
	show_val_kb(s, "Active(anon):   ", act_anon);
	show_val_kb(s, "Inactive(anon): ", inact_anon);
	show_val_kb(s, "Active(file):   ", act_file);
	show_val_kb(s, "Inactive(file): ", inact_file);
	show_val_kb(s, "Unevictable:    ", global_node_state(m, NR_UNEVICTABLE));
	show_val_kb(s, "Mlocked:        ", global_zone_state(m, NR_MLOCK));
	show_val_kb(s, "SwapTotal:      ", swap_total);
	show_val_kb(s, "SwapFree:       ", swap_free);
	/* No compressed pool in the model. */
	seq_printf(s, "Zswap:          %8lu kB\n", 0UL);
	seq_printf(s, "Zswapped:       %8lu kB\n", 0UL);
	show_val_kb(s, "Dirty:          ", global_node_state(m, NR_FILE_DIRTY));
	show_val_kb(s, "Writeback:      ", global_node_state(m, NR_WRITEBACK));
	show_val_kb(s, "AnonPages:      ", global_node_state(m, NR_ANON_MAPPED));
	show_val_kb(s, "Mapped:         ", global_node_state(m, NR_FILE_MAPPED));
	show_val_kb(s, "Shmem:          ", global_node_state(m, NR_SHMEM));
	show_val_kb(s, "KReclaimable:   ",
		    sreclaimable + global_node_state(m, NR_KERNEL_MISC_RECLAIMABLE));
	show_val_kb(s, "Slab:           ", sreclaimable + sunreclaim);
	show_val_kb(s, "SReclaimable:   ", sreclaimable);
	show_val_kb(s, "SUnreclaim:     ", sunreclaim);
	/* Kept in kB already. */
	seq_printf(s, "KernelStack:    %8llu kB\n",
		   (unsigned long long)global_node_state(m, NR_KERNEL_STACK_KB));
	show_val_kb(s, "PageTables:     ", global_node_state(m, NR_PAGETABLE));
	show_val_kb(s, "SecPageTables:  ", global_node_state(m, NR_SECONDARY_PAGETABLE));
	show_val_kb(s, "NFS_Unstable:   ", 0);
	show_val_kb(s, "Bounce:         ", global_zone_state(m, NR_BOUNCE));
	show_val_kb(s, "WritebackTmp:   ", global_node_state(m, NR_WRITEBACK_TEMP));
	show_val_kb(s, "CommitLimit:    ", commit_limit);
	show_val_kb(s, "Committed_AS:   ", committed_pages(m));
	seq_printf(s, "VmallocTotal:   %8llu kB\n",
		   (unsigned long long)((ARM64_VMALLOC_END - ARM64_VMALLOC_START) >> 10));
	show_val_kb(s, "VmallocUsed:    ", 0);
	show_val_kb(s, "VmallocChunk:   ", 0);
	show_val_kb(s, "Percpu:         ", 0);
	seq_printf(s, "HardwareCorrupted: %5lu kB\n", 0UL);
	show_val_kb(s, "AnonHugePages:  ", global_node_state(m, NR_ANON_THPS));
	show_val_kb(s, "ShmemHugePages: ", global_node_state(m, NR_SHMEM_THPS));
	show_val_kb(s, "ShmemPmdMapped: ", global_node_state(m, NR_SHMEM_PMDMAPPED));
	show_val_kb(s, "FileHugePages:  ", global_node_state(m, NR_FILE_THPS));
	show_val_kb(s, "FilePmdMapped:  ", global_node_state(m, NR_FILE_PMDMAPPED));
	show_val_kb(s, "CmaTotal:       ", total_cma_pages(m));
	show_val_kb(s, "CmaFree:        ", global_zone_state(m, NR_FREE_CMA_PAGES));
	/* Tag storage lent out as data memory (RFC v1 CONFIG_MEMORY_METADATA). */
	show_val_kb(s, "MetadataTotal:  ", m->mte.totalmetadata_pages);
	show_val_kb(s, "MetadataFree:   ", global_zone_state(m, NR_FREE_METADATA_PAGES));
	/* hugetlb_report_meminfo(): no hugetlb pool; 2 MiB is the default size. */
	seq_printf(s, "HugePages_Total:   %5lu\n"
		      "HugePages_Free:    %5lu\n"
		      "HugePages_Rsvd:    %5lu\n"
		      "HugePages_Surp:    %5lu\n"
		      "Hugepagesize:   %8lu kB\n",
		   0UL, 0UL, 0UL, 0UL, (unsigned long)(PMD_SIZE >> 10));
	seq_printf(s, "Hugetlb:        %8lu kB\n", 0UL);
}
