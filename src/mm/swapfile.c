// SPDX-License-Identifier: MIT
/*
 * mm/swapfile.c - the swap device.
 */
#include "mm/internal.h"

int swap_init(struct mmsim_machine *m, uint64_t bytes, const char *path)
{
	(void)m;
	if (bytes || path)
		return seterr(-MMSIM_ENOSYS, "swap devices are not built yet");
	return 0;
}

void swap_exit(struct mmsim_machine *m)
{
	(void)m;
}

vm_fault_t do_swap_page_swapin(struct vm_fault *vmf, swp_entry_t entry)
{
	(void)vmf;
	(void)entry;
	return VM_FAULT_SIGBUS;
}
