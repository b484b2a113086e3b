// SPDX-License-Identifier: MIT
/*
 * kernel/daemons.c - the kernel's background work: kswapd, khugepaged,
 * kcompactd and the NUMA scanner (task_numa_work).  Each has a period in
 * simulated time; mmsim_advance() runs every daemon whose period elapsed, in
 * a fixed order, so the run stays deterministic.  mmsim_run_daemon() runs
 * one pass on demand.
 */
#include "mm/compaction.h"
#include "mm/swap.h"
#include "mm/fault_on_access.h"

struct daemon {
	const char *name;
	uint64_t period_ns;             /* 0: only on demand                      */
	int (*run)(struct mmsim_machine *m);
	int (*tick)(struct mmsim_machine *m);   /* periodic form, if not run    */
};

static int not_built(struct mmsim_machine *m)
{
	(void)m;
	return -MMSIM_ENOSYS;
}

static const struct daemon daemons[] = {
	{ "kswapd",     10000000, kswapd_run, NULL },	/* every 10 ms: mm/vmscan.c */
	{ "khugepaged", 0, not_built, NULL },
	/*
	 * mm/compaction.c: looks every 10 ms for a wakeup or an expired
	 * timeout (500 ms); on demand it runs as if its timeout expired.
	 */
	{ "kcompactd",  10000000, kcompactd_run, kcompactd_tick },
	{ "numa_scan",  NUMA_SCAN_PERIOD_NS, task_numa_work, NULL },
};
#define NR_DAEMONS (sizeof(daemons) / sizeof(daemons[0]))

int mmsim_run_daemon(struct mmsim_machine *m, const char *name)
{
	KERNEL_ENTRY(m, NULL, false);
	if (!m || !name)
		return seterr(-MMSIM_EINVAL, "mmsim_run_daemon: %s is NULL", m ? "name" : "machine");
	for (unsigned int i = 0; i < NR_DAEMONS; i++) {
		int ret;

		if (strcmp(daemons[i].name, name))
			continue;
		ret = daemons[i].run(m);
		if (ret == -MMSIM_ENOSYS)
			return seterr(ret, "mmsim_run_daemon: %s is not built yet", name);
		m->daemon_last[i] = m->now;
		return ret;
	}
	return seterr(-MMSIM_ENOENT, "mmsim_run_daemon: no daemon '%s' (kswapd, khugepaged, kcompactd, numa_scan)",
		      name);
}

/* Let ns of simulated time pass, running each daemon as its period comes due. */
int mmsim_advance(struct mmsim_machine *m, uint64_t ns)
{
	KERNEL_ENTRY(m, NULL, false);
	uint64_t end;

	if (!m)
		return seterr(-MMSIM_EINVAL, "mmsim_advance: machine is NULL");
	end = m->now + ns;
	for (;;) {
		uint64_t next = end;
		int which = -1;

		for (unsigned int i = 0; i < NR_DAEMONS; i++) {
			uint64_t due;

			if (!daemons[i].period_ns)
				continue;
			due = m->daemon_last[i] + daemons[i].period_ns;
			if (due <= next && (which < 0 || due < next)) {
				next = due;
				which = (int)i;
			}
		}
		if (which < 0)
			break;
		if (m->now < next)
			m->now = next;
		(daemons[which].tick ? daemons[which].tick : daemons[which].run)(m);
		m->daemon_last[which] = m->now;
	}
	if (m->now < end)
		m->now = end;
	return 0;
}
