/* SPDX-License-Identifier: MIT */
/*
 * kernel/fault_inject.h - fault injection, after Linux's lib/fault-inject.c.
 *
 * A fault_attr says when a call site that asks should_fail() is made to
 * fail: never while times is 0 (the default, so a site costs one test);
 * otherwise the first `space` units of size pass, then every interval-th
 * call fails with the given probability (in percent, drawn from the
 * machine's seeded generator, so a seed still gives one run), and each
 * failure uses up one of times (-1: no limit).  Every forced failure is
 * logged as Linux's fail_dump() logs it, so the kernel log shows which
 * error was injected.  The attributes are set on the command line with
 * Linux's syntax, name=<interval>,<probability>,<space>,<times>.
 */
#ifndef MMSIM_KERNEL_FAULT_INJECT_H
#define MMSIM_KERNEL_FAULT_INJECT_H

#include <stdbool.h>

struct mmsim_machine;

struct fault_attr {
	const char *name;          /* the knob's name, as fail_dump prints it       */
	unsigned long probability; /* percent of eligible calls that fail, 0-100    */
	unsigned long interval;    /* only every interval-th call is eligible (0, 1: all) */
	long times;                /* failures left to force; -1 no limit, 0 off    */
	long space;                /* size still let through before any failure     */
	unsigned long count;       /* calls that reached the interval test          */
};

#define FAULT_ATTR_INITIALIZER(n) ((struct fault_attr){ .name = (n), .interval = 1 })

/*
 * setup_fault_attr - parse "<interval>,<probability>,<space>,<times>" into
 * attr (name and count kept).  0, or -EINVAL with the reason set when str
 * is malformed or out of range (probability over 100, times under -1,
 * negative space).
 */
int setup_fault_attr(struct fault_attr *attr, const char *str);

/* should_fail - whether the call at hand, of this size, is made to fail. */
bool should_fail(struct mmsim_machine *m, struct fault_attr *attr, long size);

/* fault_attr_valid - attr's fields are in the ranges setup_fault_attr allows. */
bool fault_attr_valid(const struct fault_attr *attr);

#endif
