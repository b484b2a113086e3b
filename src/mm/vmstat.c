// SPDX-License-Identifier: MIT
/*
 * mm/vmstat.c - the names of the /proc/vmstat counters.
 *
 * The tables are generated from the X-macro lists of mm/vmstat.h, so each
 * name sits at the index of its enum constant and the lists cannot drift.
 * The text itself (and the counters Linux computes on the fly, such as
 * nr_dirty_threshold) is produced by proc/vmstat.c.
 *
 * It also folds the per-CPU differentials of parallel runs into the
 * totals (Linux's cpu_vm_stats_fold).
 */
#include "kernel/machine.h"

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

/*
 * fold_cpu_stats - move every CPU's differentials (and its clock) into the
 * machine's totals.  The caller holds every CPU, or no body runs at all.
 */
void fold_cpu_stats(struct mmsim_machine *m)
{
	for (unsigned int c = 0; c < m->nr_cpus; c++) {
		struct cpu_stat_diff *d = &m->cpus[c].diff;

		m->now += d->clock;
		d->clock = 0;
		for (int e = 0; e < NR_VM_EVENT_ITEMS; e++) {
			m->vm_events[e] += d->vm_events[e];
			d->vm_events[e] = 0;
		}
		for (unsigned int n = 0; n < m->nr_nodes; n++) {
			struct pglist_data *pg = &m->nodes[n];

			for (int i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++) {
				pg->numa_stat[i] += d->numa[n][i];
				d->numa[n][i] = 0;
			}
			for (int i = 0; i < NR_VM_NODE_STAT_ITEMS; i++) {
				pg->vm_stat[i] += d->node[n][i];
				d->node[n][i] = 0;
			}
			for (int z = 0; z < MAX_NR_ZONES; z++)
				for (int i = 0; i < NR_VM_ZONE_STAT_ITEMS; i++) {
					pg->node_zones[z].vm_stat[i] += d->zone[n][z][i];
					d->zone[n][z][i] = 0;
				}
		}
	}
}
