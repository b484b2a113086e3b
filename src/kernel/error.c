// SPDX-License-Identifier: MIT
/*
 * kernel/error.c - why the calling host thread's last call failed.
 *
 * Errors are returned as -errno like the kernel's; the sentence that explains
 * one (which file, line or field, what was expected) is kept per host thread
 * so that concurrent callers never see each other's messages.
 */
#include <stdio.h>

#include "kernel/machine.h"

static _Thread_local char last_error[1024];

/* Record a message for the current thread and return err (a negative errno). */
int seterr(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

void clearerr_last(void)
{
	last_error[0] = '\0';
}

const char *mmsim_strerror_last(void)
{
	return last_error[0] ? last_error : "no error";
}
