// SPDX-License-Identifier: MIT
/*
 * kernel/printk.c - the kernel log.  Lines carry dmesg's timestamp prefix
 * taken from simulated time, so two runs with one seed log the same text.
 */
#include <stdio.h>
#include <stdlib.h>

#include "kernel/machine.h"

/* Append one line to the machine's log (a newline is added if missing). */
void printk(struct mmsim_machine *m, const char *fmt, ...)
{
	char line[512];
	int n, len;
	va_list ap;

	kernel_exclusive();	/* one writer of the log at a time */
	n = snprintf(line, sizeof(line), "[%5llu.%06llu] ",
		     (unsigned long long)(m->now / 1000000000ULL),
		     (unsigned long long)(m->now / 1000ULL % 1000000ULL));
	va_start(ap, fmt);
	len = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	len += n;
	if (len > (int)sizeof(line) - 2)
		len = (int)sizeof(line) - 2;
	if (line[len - 1] != '\n')
		line[len++] = '\n';
	if (m->kmsg_len + (size_t)len + 1 > m->kmsg_cap) {
		size_t cap = m->kmsg_cap ? m->kmsg_cap * 2 : 8192;
		char *p;

		while (cap < m->kmsg_len + (size_t)len + 1)
			cap *= 2;
		p = realloc(m->kmsg, cap);
		if (!p)
			return;		/* the log is best effort, like a ring buffer */
		m->kmsg = p;
		m->kmsg_cap = cap;
	}
	memcpy(m->kmsg + m->kmsg_len, line, (size_t)len);
	m->kmsg_len += (size_t)len;
	m->kmsg[m->kmsg_len] = '\0';
}
