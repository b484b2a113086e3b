// SPDX-License-Identifier: MIT
/*
 * kernel/trace_json.c - the run's event trace as Chrome/Perfetto trace JSON.
 *
 * The file is the JSON object format of the Trace Event Format: one process
 * per simulated process (tgid), one thread per task (pid), the kernel's own
 * work under pid 0.  A task's time on the CPU between two switches is a
 * complete ("X") slice named "run"; scheduling decisions (preempt, block on
 * a lock, sleep, exit), lock acquisitions and every model trace event
 * (fault:*, mte:*, migrate:*, ...) are instant ("i") events on the task's
 * thread, their fields under args.
 *
 * Only simulated quantities go in: timestamps are simulated ns (made
 * strictly increasing, so that events of one instant keep their order),
 * never host time or host addresses.  That is what makes two runs of one
 * seed write the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>

#include "kernel/machine.h"
#include "kernel/sched.h"

#define MAX_TRACKS 256

struct trace_json {
	FILE *f;
	char *path;
	uint64_t clock;                 /* last timestamp written, ns               */
	uint64_t events;                /* written so far                           */
	struct track {
		int pid, tgid, cpu;
		uint64_t slice_start;   /* ns; UINT64_MAX = not on a CPU             */
	} tracks[MAX_TRACKS];           /* one per task seen                        */
	int nr_tracks;
};

static uint64_t next_ts(struct trace_json *tj, uint64_t now)
{
	tj->clock = now > tj->clock ? now : tj->clock + 1;
	return tj->clock;
}

static void put_ts(FILE *f, uint64_t ns)
{
	fprintf(f, "%llu.%03llu", (unsigned long long)(ns / 1000), (unsigned long long)(ns % 1000));
}

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The track of task pid (created on first sight). */
static struct track *track_of(struct mmsim_machine *m, struct trace_json *tj, int pid, int cpu)
{
	struct mmsim_task *t;
	struct track *tr;

	if (pid <= 0)
		pid = 0;
	for (int i = 0; i < tj->nr_tracks; i++)
		if (tj->tracks[i].pid == pid)
			return &tj->tracks[i];
	if (tj->nr_tracks == MAX_TRACKS)
		return &tj->tracks[0];
	tr = &tj->tracks[tj->nr_tracks++];
	t = pid ? find_task_by_pid(m, pid) : NULL;
	tr->pid = pid;
	tr->tgid = t ? t->tgid : 0;
	tr->cpu = cpu;
	tr->slice_start = UINT64_MAX;
	return tr;
}

static void begin_event(struct trace_json *tj)
{
	fputs(tj->events++ ? ",\n" : "\n", tj->f);
}

static void instant(struct mmsim_machine *m, struct trace_json *tj, const char *cat, const char *name,
		    int pid, int cpu, const char *text)
{
	struct track *tr = track_of(m, tj, pid, cpu);

	begin_event(tj);
	fprintf(tj->f, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"%s\",\"name\":", cat);
	put_string(tj->f, name);
	fprintf(tj->f, ",\"pid\":%d,\"tid\":%d,\"ts\":", tr->tgid, tr->pid);
	put_ts(tj->f, next_ts(tj, m->now));
	fprintf(tj->f, ",\"args\":{\"cpu\":%d", cpu);
	if (text) {
		fputs(",\"text\":", tj->f);
		put_string(tj->f, text);
	}
	fputs("}}", tj->f);
}

/* A scheduler event of task tid on cpu (kernel/sched.c). */
void trace_json_sched(struct mmsim_machine *m, const char *kind, int tid, int cpu, const char *why)
{
	struct trace_json *tj = m->trace_json;
	struct track *tr;

	if (!tj)
		return;
	kernel_exclusive();	/* one writer of the trace at a time */
	if (!strcmp(kind, "enter")) {
		tr = track_of(m, tj, tid, cpu);
		tr->slice_start = next_ts(tj, m->now);
		return;
	}
	if (!strcmp(kind, "leave")) {
		uint64_t end;

		tr = track_of(m, tj, tid, cpu);
		if (tr->slice_start == UINT64_MAX)
			return;
		end = next_ts(tj, m->now);
		begin_event(tj);
		fprintf(tj->f, "{\"ph\":\"X\",\"cat\":\"sched\",\"name\":\"run\",\"pid\":%d,\"tid\":%d,\"ts\":",
			tr->tgid, tr->pid);
		put_ts(tj->f, tr->slice_start);
		fputs(",\"dur\":", tj->f);
		put_ts(tj->f, end - tr->slice_start);
		fprintf(tj->f, ",\"args\":{\"cpu\":%d}}", cpu);
		tr->slice_start = UINT64_MAX;
		return;
	}
	instant(m, tj, "sched", kind, tid, cpu, why);
}

/* Every model trace event goes in as an instant event of its task. */
static void on_event(void *ctx, const struct mmsim_event *ev)
{
	struct mmsim_machine *m = ctx;
	char cat[32];
	const char *colon = strchr(ev->name, ':');
	size_t n = colon ? (size_t)(colon - ev->name) : strlen(ev->name);

	if (n >= sizeof(cat))
		n = sizeof(cat) - 1;
	memcpy(cat, ev->name, n);
	cat[n] = 0;
	instant(m, m->trace_json, cat, ev->name, ev->pid, ev->cpu, ev->text);
}

void trace_json_close(struct mmsim_machine *m)
{
	struct trace_json *tj = m->trace_json;

	if (!tj)
		return;
	mmsim_trace_unsubscribe(m, on_event, m);
	for (int i = 0; i < tj->nr_tracks; i++) {
		struct track *tr = &tj->tracks[i];

		begin_event(tj);
		fprintf(tj->f, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,"
			"\"args\":{\"name\":\"%s %d\"}}", tr->tgid, tr->pid, tr->pid ? "task" : "kernel", tr->pid);
		if (tr->pid && tr->pid == tr->tgid) {
			begin_event(tj);
			fprintf(tj->f, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,"
				"\"args\":{\"name\":\"process %d\"}}", tr->tgid, tr->tgid);
		}
	}
	fputs("\n]}\n", tj->f);
	fclose(tj->f);
	free(tj->path);
	free(tj);
	m->trace_json = NULL;
}

int mmsim_trace_file(struct mmsim_machine *m, const char *path)
{
	KERNEL_ENTRY(m, NULL, false);
	struct trace_json *tj;
	int err;

	if (!m || !path)
		return seterr(-MMSIM_EINVAL, "mmsim_trace_file: %s is NULL", !m ? "machine" : "path");
	trace_json_close(m);
	tj = calloc(1, sizeof(*tj));
	if (!tj)
		return seterr(-MMSIM_ENOMEM, "mmsim_trace_file: out of host memory");
	tj->f = fopen(path, "w");
	if (!tj->f) {
		free(tj);
		return seterr(-MMSIM_EIO, "mmsim_trace_file: cannot write '%s'", path);
	}
	tj->path = strdup(path);
	fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"mmsim\"},\"traceEvents\":[", tj->f);
	m->trace_json = tj;
	err = mmsim_trace_subscribe(m, "*", on_event, m);
	if (err) {
		trace_json_close(m);
		return err;
	}
	return 0;
}

int mmsim_trace_file_close(struct mmsim_machine *m)
{
	KERNEL_ENTRY(m, NULL, false);
	if (!m)
		return seterr(-MMSIM_EINVAL, "mmsim_trace_file_close: machine is NULL");
	trace_json_close(m);
	return 0;
}
