// SPDX-License-Identifier: MIT
/*
 * mm/oom_kill.c - when an allocation cannot be satisfied, kill the process
 * using the most memory (Linux's oom_badness without oom_score_adj: resident
 * pages, swap entries and page tables), lowest pid first on a tie so the
 * choice is deterministic.
 */
#include "mm/internal.h"

static int64_t oom_badness(struct mm_struct *mm)
{
	return mm->rss[MM_ANONPAGES] + mm->rss[MM_FILEPAGES] + mm->rss[MM_SHMEMPAGES] +
	       mm->rss[MM_SWAPENTS] + mm->pgtables_bytes / (int64_t)PAGE_SIZE;
}

void out_of_memory(struct mmsim_task *t)
{
	struct mmsim_machine *m = t->machine;
	struct mmsim_task *victim = NULL;
	int64_t worst = -1;
	struct list_head *pos;

	list_for_each(pos, &m->tasks) {
		struct mmsim_task *c = list_entry(pos, struct mmsim_task, tasks_node);
		int64_t b;

		if (c->killed || !c->mm)
			continue;
		b = oom_badness(c->mm);
		if (b > worst || (b == worst && c->tgid < victim->tgid)) {
			worst = b;
			victim = c;
		}
	}
	if (!victim)
		return;
	count_vm_event(m, OOM_KILL);
	printk(m, "Out of memory: Killed process %d, anon-rss:%lldkB, file-rss:%lldkB, shmem-rss:%lldkB, pgtables:%lldkB",
	       victim->tgid, (long long)(victim->mm->rss[MM_ANONPAGES] * 4),
	       (long long)(victim->mm->rss[MM_FILEPAGES] * 4),
	       (long long)(victim->mm->rss[MM_SHMEMPAGES] * 4),
	       (long long)(victim->mm->pgtables_bytes / 1024));
	TRACE(m, "oom:mark_victim", (int)t->cpu, victim->tgid, 0, 0, 0, "pid=%d", victim->tgid);
	kill_process(m, victim->tgid);
}
