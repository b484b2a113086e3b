// SPDX-License-Identifier: MIT
/*
 * mm/mempolicy.c - NUMA memory policy: set_mempolicy(), mbind() and the node
 * a new page of a task goes to.  A VMA's policy (mbind) wins over the
 * task's (set_mempolicy), which wins over the default: the CPU's own node.
 */
#include "mm/internal.h"
#include "mm/vma.h"

#define MPOL_MODE_FLAGS (MMSIM_MPOL_F_STATIC_NODES | MMSIM_MPOL_F_RELATIVE_NODES | \
			 MMSIM_MPOL_F_NUMA_BALANCING)

static int first_node(uint64_t mask)
{
	return mask ? __builtin_ctzll(mask) : 0;
}

/* The n-th set bit of mask (n counted modulo the number of bits). */
static int nth_node(uint64_t mask, uint64_t n)
{
	int w = __builtin_popcountll(mask);

	if (!w)
		return 0;
	n %= (uint64_t)w;
	while (n--)
		mask &= mask - 1;
	return __builtin_ctzll(mask);
}

/* The node of mask nearest to nid (nid itself when it is in the mask). */
static int nearest_node(struct mmsim_machine *m, int nid, uint64_t mask)
{
	int best = first_node(mask), bd = 1 << 30;

	for (unsigned int n = 0; n < m->nr_nodes; n++)
		if ((mask & (1ULL << n)) && m->nodes[nid].distance[n] < bd) {
			bd = m->nodes[nid].distance[n];
			best = (int)n;
		}
	return best;
}

int policy_node(struct mmsim_task *t, struct vm_area_struct *vma, uint64_t addr)
{
	struct mmsim_machine *m = t->machine;
	int local = numa_node_of_cpu(m, t->cpu), mode = t->mempolicy_mode;
	uint64_t mask = t->mempolicy_nodes;

	if (vma && vma->mempolicy_mode != MMSIM_MPOL_DEFAULT) {
		mode = vma->mempolicy_mode;
		mask = vma->mempolicy_nodes;
	}
	switch (mode) {
	case MMSIM_MPOL_PREFERRED:
	case MMSIM_MPOL_PREFERRED_MANY:
		return mask ? nearest_node(m, local, mask) : local;
	case MMSIM_MPOL_BIND:
		return nearest_node(m, local, mask);
	case MMSIM_MPOL_INTERLEAVE:
	case MMSIM_MPOL_WEIGHTED_INTERLEAVE:
		if (vma && vma->mempolicy_mode != MMSIM_MPOL_DEFAULT)
			return nth_node(mask, linear_page_index(vma, addr));
		return nth_node(mask, t->il_next++);
	default:
		return local;
	}
}

/* Linux's get_nodes(): maxnode counts one more bit than it passes. */
static int get_nodes(struct mmsim_machine *m, const uint64_t *nodemask, uint64_t maxnode,
		     uint64_t *out, const char *who)
{
	uint64_t mask = 0;

	*out = 0;
	if (!nodemask || maxnode == 0)
		return 0;
	maxnode--;
	if (maxnode > 1024 * 8 * sizeof(uint64_t))
		return seterr(-MMSIM_EINVAL, "%s: maxnode %llu is too large", who, (unsigned long long)maxnode + 1);
	for (uint64_t w = 0; w * 64 < maxnode; w++) {
		uint64_t bits = nodemask[w];

		if (maxnode - w * 64 < 64)
			bits &= (1ULL << (maxnode - w * 64)) - 1;
		if (w == 0)
			mask = bits;
		else if (bits)
			return seterr(-MMSIM_EINVAL, "%s: node above %d in nodemask", who, MAX_NUMNODES - 1);
	}
	if (mask >> m->nr_nodes)
		return seterr(-MMSIM_EINVAL, "%s: nodemask 0x%llx names nodes this machine (%u nodes) does not have",
			      who, (unsigned long long)mask, m->nr_nodes);
	*out = mask;
	return 0;
}

/* Check mode and mask as mpol_new() does. */
static int check_policy(int mode, uint64_t mask, const char *who)
{
	switch (mode) {
	case MMSIM_MPOL_DEFAULT:
	case MMSIM_MPOL_LOCAL:
		if (mask)
			return seterr(-MMSIM_EINVAL, "%s: this mode takes an empty nodemask", who);
		return 0;
	case MMSIM_MPOL_PREFERRED:
		return 0;
	case MMSIM_MPOL_BIND:
	case MMSIM_MPOL_INTERLEAVE:
	case MMSIM_MPOL_PREFERRED_MANY:
	case MMSIM_MPOL_WEIGHTED_INTERLEAVE:
		if (!mask)
			return seterr(-MMSIM_EINVAL, "%s: this mode needs a non-empty nodemask", who);
		return 0;
	default:
		return seterr(-MMSIM_EINVAL, "%s: unknown mode %d", who, mode);
	}
}

int mmsim_set_mempolicy(struct mmsim_task *t, int mode, const uint64_t *nodemask, uint64_t maxnode)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	uint64_t mask;
	int err, flags = mode & MPOL_MODE_FLAGS;

	if ((err = syscall_enter(t)))
		return err;
	mode &= ~MPOL_MODE_FLAGS;
	if ((flags & MMSIM_MPOL_F_STATIC_NODES) && (flags & MMSIM_MPOL_F_RELATIVE_NODES))
		return seterr(-MMSIM_EINVAL, "set_mempolicy: STATIC_NODES and RELATIVE_NODES together");
	if ((err = get_nodes(t->machine, nodemask, maxnode, &mask, "set_mempolicy")))
		return err;
	if ((err = check_policy(mode, mask, "set_mempolicy")))
		return err;
	t->mempolicy_mode = mode == MMSIM_MPOL_LOCAL ? MMSIM_MPOL_DEFAULT : mode;
	t->mempolicy_nodes = mask;
	t->il_next = 0;
	return 0;
}

/* Migrate the pages of [start,end) that sit outside mask (MPOL_MF_MOVE). */
static int mbind_migrate(struct mmsim_task *t, uint64_t start, uint64_t end, uint64_t mask, bool all)
{
	struct mmsim_machine *m = t->machine;
	int failed = 0;

	for (uint64_t a = start; a < end; a += PAGE_SIZE) {
		struct vm_area_struct *vma = vma_lookup(t->mm, a);
		pteval_t pte = follow_pte_value(t->mm, a);
		struct page *p;

		if (!vma || !pte_present(pte) || !(p = vm_normal_page(vma, a, pte)))
			continue;
		if (mask & (1ULL << p->nid))
			continue;
		if (page_mapcount(p) > 1 && !all)
			continue;
		if (migrate_page_to_node(m, p, policy_node(t, vma, a), GFP_HIGHUSER_MOVABLE))
			failed++;
	}
	return failed;
}

static int do_mbind(struct mmsim_task *t, uint64_t addr, uint64_t len, int mode, const uint64_t *nodemask,
		uint64_t maxnode, unsigned int flags)
{
	uint64_t mask, start, end;
	int err, mflags = mode & MPOL_MODE_FLAGS;

	if ((err = syscall_enter(t)))
		return err;
	mode &= ~MPOL_MODE_FLAGS;
	start = untagged_addr(addr);
	if (flags & ~(unsigned int)(MMSIM_MPOL_MF_STRICT | MMSIM_MPOL_MF_MOVE | MMSIM_MPOL_MF_MOVE_ALL))
		return seterr(-MMSIM_EINVAL, "mbind: unknown flags 0x%x", flags);
	if (start & ~PAGE_MASK)
		return seterr(-MMSIM_EINVAL, "mbind: start 0x%llx is not page aligned", (unsigned long long)start);
	if ((mflags & MMSIM_MPOL_F_STATIC_NODES) && (mflags & MMSIM_MPOL_F_RELATIVE_NODES))
		return seterr(-MMSIM_EINVAL, "mbind: STATIC_NODES and RELATIVE_NODES together");
	if (mode == MMSIM_MPOL_DEFAULT)
		flags &= ~(unsigned int)MMSIM_MPOL_MF_STRICT;
	len = PAGE_ALIGN(len);
	end = start + len;
	if (end < start)
		return seterr(-MMSIM_EINVAL, "mbind: range wraps around");
	if (end == start)
		return 0;
	if ((err = get_nodes(t->machine, nodemask, maxnode, &mask, "mbind")))
		return err;
	if ((err = check_policy(mode, mask, "mbind")))
		return err;
	for (uint64_t a = start; a < end;) {
		struct vm_area_struct *vma = vma_lookup(t->mm, a);

		if (!vma)
			return seterr(-MMSIM_EFAULT, "mbind: 0x%llx is not mapped", (unsigned long long)a);
		a = vma->vm_end;
	}
	for (uint64_t a = start; a < end;) {
		struct vm_area_struct *vma = vma_lookup(t->mm, a);

		if (vma->vm_start < a && (err = split_vma(t->mm, vma, a, 1)))
			return err;
		vma = vma_lookup(t->mm, a);
		if (vma->vm_end > end && (err = split_vma(t->mm, vma, end, 1)))
			return err;
		vma = vma_lookup(t->mm, a);
		vma->mempolicy_mode = mode == MMSIM_MPOL_LOCAL ? MMSIM_MPOL_PREFERRED : mode;
		vma->mempolicy_nodes = mode == MMSIM_MPOL_LOCAL ? 1ULL << numa_node_of_cpu(t->machine, t->cpu) : mask;
		if (mode == MMSIM_MPOL_DEFAULT)
			vma->mempolicy_mode = MMSIM_MPOL_DEFAULT;
		a = vma->vm_end;
	}
	if ((flags & (MMSIM_MPOL_MF_MOVE | MMSIM_MPOL_MF_MOVE_ALL)) && mask) {
		int failed = mbind_migrate(t, start, end, mask, flags & MMSIM_MPOL_MF_MOVE_ALL);

		if (failed && (flags & MMSIM_MPOL_MF_STRICT))
			return seterr(-MMSIM_EIO, "mbind: %d pages could not be moved", failed);
	}
	return 0;
}

/* mmsim_mbind - mbind(2), under mmap_lock for write. */
int mmsim_mbind(struct mmsim_task *t, uint64_t addr, uint64_t len, int mode, const uint64_t *nodemask,
		uint64_t maxnode, unsigned int flags)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	int ret;

	if (task_check_alive(t) || !t->mm)
		return do_mbind(t, addr, len, mode, nodemask, maxnode, flags);
	mmap_write_lock(t->mm);
	ret = do_mbind(t, addr, len, mode, nodemask, maxnode, flags);
	mmap_write_unlock(t->mm);
	return ret;
}
