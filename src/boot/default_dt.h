/* SPDX-License-Identifier: MIT */
/*
 * boot/default_dt.h - the built-in machine, embedded at build time.
 *
 * boot.mk compiles src/boot/default.dts with dtc and generates
 * $(B)/gen/default_dt.c, which defines these.  Only devicetree.c uses them;
 * everything else goes through dt_builtin_dts() and dt_builtin_dtb().
 */
#ifndef MMSIM_BOOT_DEFAULT_DT_H
#define MMSIM_BOOT_DEFAULT_DT_H

#include <stddef.h>

extern const char mmsim_dt_default_dts[];          /* NUL-terminated source */
extern const unsigned char mmsim_dt_default_dtb[]; /* 8-byte aligned blob   */
extern const size_t mmsim_dt_default_dtb_size;

#endif
