/* SPDX-License-Identifier: MIT */
/*
 * mm/vmstat.h - the counters of /proc/vmstat, with Linux's names and order.
 *
 * Three kinds, as in Linux: zone state (per zone, in struct zone), node state
 * (per node) and events (machine-wide, monotonic).  Each list is an X-macro
 * so that the enum, the /proc/vmstat text and mmsim_vmstat() lookups cannot
 * drift apart.  Counters the model never moves are listed all the same, so
 * scripts that parse /proc/vmstat find every line they expect.
 */
#ifndef MMSIM_MM_VMSTAT_H
#define MMSIM_MM_VMSTAT_H

#include <stdint.h>

#define ZONE_STAT_ITEMS(X)                                                      \
	X(NR_FREE_PAGES, "nr_free_pages")                                       \
	X(NR_ZONE_INACTIVE_ANON, "nr_zone_inactive_anon")                       \
	X(NR_ZONE_ACTIVE_ANON, "nr_zone_active_anon")                           \
	X(NR_ZONE_INACTIVE_FILE, "nr_zone_inactive_file")                       \
	X(NR_ZONE_ACTIVE_FILE, "nr_zone_active_file")                           \
	X(NR_ZONE_UNEVICTABLE, "nr_zone_unevictable")                           \
	X(NR_ZONE_WRITE_PENDING, "nr_zone_write_pending")                       \
	X(NR_MLOCK, "nr_mlock")                                                 \
	X(NR_BOUNCE, "nr_bounce")                                               \
	X(NR_ZSPAGES, "nr_zspages")                                             \
	X(NR_FREE_CMA_PAGES, "nr_free_cma")                                     \
	X(NR_FREE_METADATA_PAGES, "nr_free_metadata")

/* NUMA allocation statistics (per node, like Linux's numa_stat_item). */
#define NUMA_STAT_ITEMS(X)                                                      \
	X(NUMA_HIT, "numa_hit")                                                 \
	X(NUMA_MISS, "numa_miss")                                               \
	X(NUMA_FOREIGN, "numa_foreign")                                         \
	X(NUMA_INTERLEAVE_HIT, "numa_interleave")                               \
	X(NUMA_LOCAL, "numa_local")                                             \
	X(NUMA_OTHER, "numa_other")

#define NODE_STAT_ITEMS(X)                                                      \
	X(NR_INACTIVE_ANON, "nr_inactive_anon")                                 \
	X(NR_ACTIVE_ANON, "nr_active_anon")                                     \
	X(NR_INACTIVE_FILE, "nr_inactive_file")                                 \
	X(NR_ACTIVE_FILE, "nr_active_file")                                     \
	X(NR_UNEVICTABLE, "nr_unevictable")                                     \
	X(NR_SLAB_RECLAIMABLE_B, "nr_slab_reclaimable")                         \
	X(NR_SLAB_UNRECLAIMABLE_B, "nr_slab_unreclaimable")                     \
	X(NR_ISOLATED_ANON, "nr_isolated_anon")                                 \
	X(NR_ISOLATED_FILE, "nr_isolated_file")                                 \
	X(WORKINGSET_NODES, "workingset_nodes")                                 \
	X(WORKINGSET_REFAULT_ANON, "workingset_refault_anon")                   \
	X(WORKINGSET_REFAULT_FILE, "workingset_refault_file")                   \
	X(WORKINGSET_ACTIVATE_ANON, "workingset_activate_anon")                 \
	X(WORKINGSET_ACTIVATE_FILE, "workingset_activate_file")                 \
	X(WORKINGSET_RESTORE_ANON, "workingset_restore_anon")                   \
	X(WORKINGSET_RESTORE_FILE, "workingset_restore_file")                   \
	X(WORKINGSET_NODERECLAIM, "workingset_nodereclaim")                     \
	X(NR_ANON_MAPPED, "nr_anon_pages")                                      \
	X(NR_FILE_MAPPED, "nr_mapped")                                          \
	X(NR_FILE_PAGES, "nr_file_pages")                                       \
	X(NR_FILE_DIRTY, "nr_dirty")                                            \
	X(NR_WRITEBACK, "nr_writeback")                                         \
	X(NR_WRITEBACK_TEMP, "nr_writeback_temp")                               \
	X(NR_SHMEM, "nr_shmem")                                                 \
	X(NR_SHMEM_THPS, "nr_shmem_hugepages")                                  \
	X(NR_SHMEM_PMDMAPPED, "nr_shmem_pmdmapped")                             \
	X(NR_FILE_THPS, "nr_file_hugepages")                                    \
	X(NR_FILE_PMDMAPPED, "nr_file_pmdmapped")                               \
	X(NR_ANON_THPS, "nr_anon_transparent_hugepages")                        \
	X(NR_VMSCAN_WRITE, "nr_vmscan_write")                                   \
	X(NR_VMSCAN_IMMEDIATE, "nr_vmscan_immediate_reclaim")                   \
	X(NR_DIRTIED, "nr_dirtied")                                             \
	X(NR_WRITTEN, "nr_written")                                             \
	X(NR_THROTTLED_WRITTEN, "nr_throttled_written")                         \
	X(NR_KERNEL_MISC_RECLAIMABLE, "nr_kernel_misc_reclaimable")             \
	X(NR_FOLL_PIN_ACQUIRED, "nr_foll_pin_acquired")                         \
	X(NR_FOLL_PIN_RELEASED, "nr_foll_pin_released")                         \
	X(NR_KERNEL_STACK_KB, "nr_kernel_stack")                                \
	X(NR_PAGETABLE, "nr_page_table_pages")                                  \
	X(NR_SECONDARY_PAGETABLE, "nr_sec_page_table_pages")                    \
	X(NR_SWAPCACHE, "nr_swapcached")                                        \
	X(PGPROMOTE_SUCCESS, "pgpromote_success")                               \
	X(PGPROMOTE_CANDIDATE, "pgpromote_candidate")

#define VM_EVENT_ITEMS(X)                                                       \
	X(PGPGIN, "pgpgin")                                                     \
	X(PGPGOUT, "pgpgout")                                                   \
	X(PSWPIN, "pswpin")                                                     \
	X(PSWPOUT, "pswpout")                                                   \
	X(PGALLOC_DMA, "pgalloc_dma")                                           \
	X(PGALLOC_NORMAL, "pgalloc_normal")                                     \
	X(PGALLOC_MOVABLE, "pgalloc_movable")                                   \
	X(ALLOCSTALL_DMA, "allocstall_dma")                                     \
	X(ALLOCSTALL_NORMAL, "allocstall_normal")                               \
	X(ALLOCSTALL_MOVABLE, "allocstall_movable")                             \
	X(PGSKIP_DMA, "pgskip_dma")                                             \
	X(PGSKIP_NORMAL, "pgskip_normal")                                       \
	X(PGSKIP_MOVABLE, "pgskip_movable")                                     \
	X(PGFREE, "pgfree")                                                     \
	X(PGACTIVATE, "pgactivate")                                             \
	X(PGDEACTIVATE, "pgdeactivate")                                         \
	X(PGLAZYFREE, "pglazyfree")                                             \
	X(PGFAULT, "pgfault")                                                   \
	X(PGMAJFAULT, "pgmajfault")                                             \
	X(PGLAZYFREED, "pglazyfreed")                                           \
	X(PGREFILL, "pgrefill")                                                 \
	X(PGREUSE, "pgreuse")                                                   \
	X(PGSTEAL_KSWAPD, "pgsteal_kswapd")                                     \
	X(PGSTEAL_DIRECT, "pgsteal_direct")                                     \
	X(PGSTEAL_KHUGEPAGED, "pgsteal_khugepaged")                             \
	X(PGDEMOTE_KSWAPD, "pgdemote_kswapd")                                   \
	X(PGDEMOTE_DIRECT, "pgdemote_direct")                                   \
	X(PGDEMOTE_KHUGEPAGED, "pgdemote_khugepaged")                           \
	X(PGSCAN_KSWAPD, "pgscan_kswapd")                                       \
	X(PGSCAN_DIRECT, "pgscan_direct")                                       \
	X(PGSCAN_KHUGEPAGED, "pgscan_khugepaged")                               \
	X(PGSCAN_DIRECT_THROTTLE, "pgscan_direct_throttle")                     \
	X(PGSCAN_ANON, "pgscan_anon")                                           \
	X(PGSCAN_FILE, "pgscan_file")                                           \
	X(PGSTEAL_ANON, "pgsteal_anon")                                         \
	X(PGSTEAL_FILE, "pgsteal_file")                                         \
	X(ZONE_RECLAIM_FAILED, "zone_reclaim_failed")                           \
	X(PGINODESTEAL, "pginodesteal")                                         \
	X(SLABS_SCANNED, "slabs_scanned")                                       \
	X(KSWAPD_INODESTEAL, "kswapd_inodesteal")                               \
	X(KSWAPD_LOW_WMARK_HIT_QUICKLY, "kswapd_low_wmark_hit_quickly")         \
	X(KSWAPD_HIGH_WMARK_HIT_QUICKLY, "kswapd_high_wmark_hit_quickly")       \
	X(PAGEOUTRUN, "pageoutrun")                                             \
	X(PGROTATED, "pgrotated")                                               \
	X(DROP_PAGECACHE, "drop_pagecache")                                     \
	X(DROP_SLAB, "drop_slab")                                               \
	X(OOM_KILL, "oom_kill")                                                 \
	X(NUMA_PTE_UPDATES, "numa_pte_updates")                                 \
	X(NUMA_HUGE_PTE_UPDATES, "numa_huge_pte_updates")                       \
	X(NUMA_HINT_FAULTS, "numa_hint_faults")                                 \
	X(NUMA_HINT_FAULTS_LOCAL, "numa_hint_faults_local")                     \
	X(NUMA_PAGE_MIGRATE, "numa_pages_migrated")                             \
	X(PGMIGRATE_SUCCESS, "pgmigrate_success")                               \
	X(PGMIGRATE_FAIL, "pgmigrate_fail")                                     \
	X(THP_MIGRATION_SUCCESS, "thp_migration_success")                       \
	X(THP_MIGRATION_FAIL, "thp_migration_fail")                             \
	X(THP_MIGRATION_SPLIT, "thp_migration_split")                           \
	X(COMPACTMIGRATE_SCANNED, "compact_migrate_scanned")                    \
	X(COMPACTFREE_SCANNED, "compact_free_scanned")                          \
	X(COMPACTISOLATED, "compact_isolated")                                  \
	X(COMPACTSTALL, "compact_stall")                                        \
	X(COMPACTFAIL, "compact_fail")                                          \
	X(COMPACTSUCCESS, "compact_success")                                    \
	X(KCOMPACTD_WAKE, "compact_daemon_wake")                                \
	X(KCOMPACTD_MIGRATE_SCANNED, "compact_daemon_migrate_scanned")          \
	X(KCOMPACTD_FREE_SCANNED, "compact_daemon_free_scanned")                \
	X(HTLB_BUDDY_PGALLOC, "htlb_buddy_alloc_success")                       \
	X(HTLB_BUDDY_PGALLOC_FAIL, "htlb_buddy_alloc_fail")                     \
	X(CMA_ALLOC_SUCCESS, "cma_alloc_success")                               \
	X(CMA_ALLOC_FAIL, "cma_alloc_fail")                                     \
	X(METADATA_RESERVE_SUCCESS, "metadata_reserve_success")                 \
	X(METADATA_RESERVE_FAIL, "metadata_reserve_fail")                       \
	X(METADATA_RESERVE_FREE, "metadata_reserve_free")                       \
	X(UNEVICTABLE_PGCULLED, "unevictable_pgs_culled")                       \
	X(UNEVICTABLE_PGSCANNED, "unevictable_pgs_scanned")                     \
	X(UNEVICTABLE_PGRESCUED, "unevictable_pgs_rescued")                     \
	X(UNEVICTABLE_PGMLOCKED, "unevictable_pgs_mlocked")                     \
	X(UNEVICTABLE_PGMUNLOCKED, "unevictable_pgs_munlocked")                 \
	X(UNEVICTABLE_PGCLEARED, "unevictable_pgs_cleared")                     \
	X(UNEVICTABLE_PGSTRANDED, "unevictable_pgs_stranded")                   \
	X(THP_FAULT_ALLOC, "thp_fault_alloc")                                   \
	X(THP_FAULT_FALLBACK, "thp_fault_fallback")                             \
	X(THP_FAULT_FALLBACK_CHARGE, "thp_fault_fallback_charge")               \
	X(THP_COLLAPSE_ALLOC, "thp_collapse_alloc")                             \
	X(THP_COLLAPSE_ALLOC_FAILED, "thp_collapse_alloc_failed")               \
	X(THP_FILE_ALLOC, "thp_file_alloc")                                     \
	X(THP_FILE_FALLBACK, "thp_file_fallback")                               \
	X(THP_FILE_FALLBACK_CHARGE, "thp_file_fallback_charge")                 \
	X(THP_FILE_MAPPED, "thp_file_mapped")                                   \
	X(THP_SPLIT_PAGE, "thp_split_page")                                     \
	X(THP_SPLIT_PAGE_FAILED, "thp_split_page_failed")                       \
	X(THP_DEFERRED_SPLIT_PAGE, "thp_deferred_split_page")                   \
	X(THP_SPLIT_PMD, "thp_split_pmd")                                       \
	X(THP_SCAN_EXCEED_NONE_PTE, "thp_scan_exceed_none_pte")                 \
	X(THP_SCAN_EXCEED_SWAP_PTE, "thp_scan_exceed_swap_pte")                 \
	X(THP_SCAN_EXCEED_SHARED_PTE, "thp_scan_exceed_share_pte")              \
	X(THP_SPLIT_PUD, "thp_split_pud")                                       \
	X(THP_ZERO_PAGE_ALLOC, "thp_zero_page_alloc")                           \
	X(THP_ZERO_PAGE_ALLOC_FAILED, "thp_zero_page_alloc_failed")             \
	X(THP_SWPOUT, "thp_swpout")                                             \
	X(THP_SWPOUT_FALLBACK, "thp_swpout_fallback")                           \
	X(BALLOON_INFLATE, "balloon_inflate")                                   \
	X(BALLOON_DEFLATE, "balloon_deflate")                                   \
	X(BALLOON_MIGRATE, "balloon_migrate")                                   \
	X(NR_TLB_REMOTE_FLUSH, "nr_tlb_remote_flush")                           \
	X(NR_TLB_REMOTE_FLUSH_RECEIVED, "nr_tlb_remote_flush_received")         \
	X(NR_TLB_LOCAL_FLUSH_ALL, "nr_tlb_local_flush_all")                     \
	X(NR_TLB_LOCAL_FLUSH_ONE, "nr_tlb_local_flush_one")                     \
	X(SWAP_RA, "swap_ra")                                                   \
	X(SWAP_RA_HIT, "swap_ra_hit")                                           \
	X(KSM_SWPIN_COPY, "ksm_swpin_copy")                                     \
	X(COW_KSM, "cow_ksm")                                                   \
	X(ZSWPIN, "zswpin")                                                     \
	X(ZSWPOUT, "zswpout")                                                   \
	X(DIRECT_MAP_LEVEL2_SPLIT, "direct_map_level2_splits")                  \
	X(DIRECT_MAP_LEVEL3_SPLIT, "direct_map_level3_splits")

#define X_ENUM(e, s) e,
enum zone_stat_item { ZONE_STAT_ITEMS(X_ENUM) NR_VM_ZONE_STAT_ITEMS };
enum numa_stat_item { NUMA_STAT_ITEMS(X_ENUM) NR_VM_NUMA_EVENT_ITEMS };
enum node_stat_item { NODE_STAT_ITEMS(X_ENUM) NR_VM_NODE_STAT_ITEMS };
enum vm_event_item { VM_EVENT_ITEMS(X_ENUM) NR_VM_EVENT_ITEMS };
#undef X_ENUM

extern const char *const zone_stat_names[NR_VM_ZONE_STAT_ITEMS];
extern const char *const numa_stat_names[NR_VM_NUMA_EVENT_ITEMS];
extern const char *const node_stat_names[NR_VM_NODE_STAT_ITEMS];
extern const char *const vm_event_names[NR_VM_EVENT_ITEMS];

#endif
