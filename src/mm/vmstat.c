// SPDX-License-Identifier: MIT
/*
 * mm/vmstat.c - the names of the /proc/vmstat counters.
 *
 * The tables are generated from the X-macro lists of mm/vmstat.h, so each
 * name sits at the index of its enum constant and the lists cannot drift.
 * The text itself (and the counters Linux computes on the fly, such as
 * nr_dirty_threshold) is produced by proc/vmstat.c.
 */
#include "mm/vmstat.h"

#define X_NAME(e, s) [e] = s,

const char *const zone_stat_names[NR_VM_ZONE_STAT_ITEMS] = {
	ZONE_STAT_ITEMS(X_NAME)
};

const char *const numa_stat_names[NR_VM_NUMA_EVENT_ITEMS] = {
	NUMA_STAT_ITEMS(X_NAME)
};

const char *const node_stat_names[NR_VM_NODE_STAT_ITEMS] = {
	NODE_STAT_ITEMS(X_NAME)
};

const char *const vm_event_names[NR_VM_EVENT_ITEMS] = {
	VM_EVENT_ITEMS(X_NAME)
};

#undef X_NAME
