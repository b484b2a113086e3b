// SPDX-License-Identifier: MIT
/*
 * kernel/fault_inject.c - should_fail() and the command-line syntax of
 * fault_attr (design note in kernel/fault_inject.h).  Linux's order of
 * tests is kept: times, then space, then interval, then probability.
 */
#include <errno.h>
#include <stdlib.h>

#include "kernel/fault_inject.h"
#include "kernel/machine.h"

/* One signed decimal field ending at a comma (or, for the last, the end). */
static bool parse_field(const char **s, long *out, char end)
{
	char *e;

	if (**s == '\0' || **s == ',' || **s == ' ')
		return false;
	errno = 0;
	*out = strtol(*s, &e, 10);
	if (errno || *e != end)
		return false;
	*s = *e ? e + 1 : e;
	return true;
}

int setup_fault_attr(struct fault_attr *attr, const char *str)
{
	const char *s = str ? str : "";
	long interval, probability, space, times;

	if (!parse_field(&s, &interval, ',') || !parse_field(&s, &probability, ',') ||
	    !parse_field(&s, &space, ',') || !parse_field(&s, &times, '\0'))
		return seterr(-MMSIM_EINVAL, "%s=%s: expected <interval>,<probability>,<space>,<times>",
			      attr->name, str ? str : "");
	if (interval < 0 || probability < 0 || probability > 100 || space < 0 || times < -1)
		return seterr(-MMSIM_EINVAL,
			      "%s=%s: interval and space must be >= 0, probability 0-100, times >= -1",
			      attr->name, str);
	attr->interval = (unsigned long)interval;
	attr->probability = (unsigned long)probability;
	attr->space = space;
	attr->times = times;
	return 0;
}

bool should_fail(struct mmsim_machine *m, struct fault_attr *attr, long size)
{
	if (!attr->times || !attr->probability)
		return false;
	if (attr->space > size) {
		attr->space -= size;
		return false;
	}
	if (attr->interval > 1 && ++attr->count % attr->interval)
		return false;
	/* 100% needs no draw: a certain failure leaves the generator alone. */
	if (attr->probability < 100 && prandom_below(m, 100) >= attr->probability)
		return false;
	/* fail_dump's first line, on one line as the log keeps it. */
	printk(m, "FAULT_INJECTION: forcing a failure. name %s, interval %lu, probability %lu, space %ld, times %ld",
	       attr->name, attr->interval, attr->probability, attr->space, attr->times);
	if (attr->times != -1)
		attr->times--;
	return true;
}

bool fault_attr_valid(const struct fault_attr *attr)
{
	return attr->probability <= 100 && attr->space >= 0 && attr->times >= -1;
}
