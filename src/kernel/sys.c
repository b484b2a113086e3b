// SPDX-License-Identifier: MIT
/*
 * kernel/sys.c - prctl().  PR_SET/GET_TAGGED_ADDR_CTRL follow arm64's
 * rules (tagged-address ABI, MTE check mode and include mask); the tag
 * checks themselves arrive with the MTE work, but the settings are kept and
 * inherited now.
 */
#include "mm/internal.h"

int mmsim_prctl(struct mmsim_task *t, int option, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	const uint64_t valid = MMSIM_PR_TAGGED_ADDR_ENABLE | MMSIM_PR_MTE_TCF_MASK | MMSIM_PR_MTE_TAG_MASK;
	int err;

	if ((err = syscall_enter(t)))
		return err;
	switch (option) {
	case MMSIM_PR_SET_TAGGED_ADDR_CTRL:
		if (a3 || a4 || a5)
			return seterr(-MMSIM_EINVAL, "prctl(PR_SET_TAGGED_ADDR_CTRL): arguments 3-5 must be 0");
		if (a2 & ~valid)
			return seterr(-MMSIM_EINVAL, "prctl(PR_SET_TAGGED_ADDR_CTRL): unknown bits 0x%llx",
				      (unsigned long long)(a2 & ~valid));
		t->tagged_addr_ctrl = a2;
		return 0;
	case MMSIM_PR_GET_TAGGED_ADDR_CTRL:
		if (a2 || a3 || a4 || a5)
			return seterr(-MMSIM_EINVAL, "prctl(PR_GET_TAGGED_ADDR_CTRL): arguments 2-5 must be 0");
		return (int)t->tagged_addr_ctrl;
	case MMSIM_PR_SET_THP_DISABLE:
		if (a3 || a4 || a5)
			return seterr(-MMSIM_EINVAL, "prctl(PR_SET_THP_DISABLE): arguments 3-5 must be 0");
		t->mm->thp_disabled = a2 != 0;
		return 0;
	case MMSIM_PR_GET_THP_DISABLE:
		if (a2 || a3 || a4 || a5)
			return seterr(-MMSIM_EINVAL, "prctl(PR_GET_THP_DISABLE): arguments 2-5 must be 0");
		return t->mm->thp_disabled;
	default:
		return seterr(-MMSIM_EINVAL, "prctl: option %d is not supported", option);
	}
}
