// SPDX-License-Identifier: MIT
/*
 * kernel/trace.c - trace events.  A subscription is a glob over
 * "subsystem:event" names (fnmatch rules); an event is formatted only when at
 * least one subscriber exists, so tracing costs nothing when unused.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernel/machine.h"

int mmsim_trace_subscribe(struct mmsim_machine *m, const char *pattern,
			  mmsim_trace_fn fn, void *ctx)
{
	KERNEL_ENTRY(m, NULL, false);
	struct trace_sub *subs;

	if (!m || !pattern || !fn)
		return seterr(-MMSIM_EINVAL, "mmsim_trace_subscribe: %s is NULL",
			      !m ? "machine" : !pattern ? "pattern" : "fn");
	if (strlen(pattern) >= sizeof(subs->pattern))
		return seterr(-MMSIM_EINVAL, "mmsim_trace_subscribe: pattern longer than %zu bytes",
			      sizeof(subs->pattern) - 1);
	subs = realloc(m->subs, sizeof(*subs) * (size_t)(m->nr_subs + 1));
	if (!subs)
		return seterr(-MMSIM_ENOMEM, "mmsim_trace_subscribe: out of host memory");
	m->subs = subs;
	snprintf(subs[m->nr_subs].pattern, sizeof(subs->pattern), "%s", pattern);
	subs[m->nr_subs].fn = fn;
	subs[m->nr_subs].ctx = ctx;
	m->nr_subs++;
	return 0;
}

int mmsim_trace_unsubscribe(struct mmsim_machine *m, mmsim_trace_fn fn, void *ctx)
{
	KERNEL_ENTRY(m, NULL, false);
	int j = 0;

	if (!m)
		return seterr(-MMSIM_EINVAL, "mmsim_trace_unsubscribe: machine is NULL");
	for (int i = 0; i < m->nr_subs; i++)
		if (m->subs[i].fn != fn || m->subs[i].ctx != ctx)
			m->subs[j++] = m->subs[i];
	m->nr_subs = j;
	return 0;
}

bool trace_enabled(struct mmsim_machine *m)
{
	return m->nr_subs != 0;
}

/* Deliver one event to every subscriber whose pattern matches its name. */
void trace_event(struct mmsim_machine *m, const char *name, int cpu, int pid,
		 uint64_t addr, uint64_t pfn, unsigned int order, const char *fmt, ...)
{
	char text[256];
	struct mmsim_event ev = {
		.ts = m->now, .name = name, .cpu = cpu, .pid = pid,
		.addr = addr, .pfn = pfn, .order = order, .text = text,
	};
	bool formatted = false;

	kernel_exclusive();	/* subscribers and the trace file see one event at a time */
	ev.ts = m->now;
	for (int i = 0; i < m->nr_subs; i++) {
		if (fnmatch(m->subs[i].pattern, name, 0) != 0)
			continue;
		if (!formatted) {
			va_list ap;

			va_start(ap, fmt);
			vsnprintf(text, sizeof(text), fmt, ap);
			va_end(ap);
			formatted = true;
		}
		m->subs[i].fn(m->subs[i].ctx, &ev);
	}
}
