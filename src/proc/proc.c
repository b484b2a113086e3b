// SPDX-License-Identifier: MIT
/*
 * proc/proc.c - mmsim_proc_read(), mmsim_vmstat() and the text buffer the
 * /proc and /sys generators write into.
 *
 * Paths are the names under /proc ("meminfo", "self/smaps", "42/status"),
 * with or without a leading "/proc/".  Each read builds the whole file, as
 * a read() of the whole file would see it at one instant.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/proc.h"

/* ------------------------------------------------------------ seqbuf */

void seq_init(struct seqbuf *s)
{
	s->buf = NULL;
	s->len = 0;
	s->cap = 0;
	s->oom = false;
}

void seq_free(struct seqbuf *s)
{
	free(s->buf);
	seq_init(s);
}

/* Make room for @more bytes plus a NUL; false (and oom set) if impossible. */
static bool seq_reserve(struct seqbuf *s, size_t more)
{
	size_t want = s->len + more + 1;
	size_t cap = s->cap ? s->cap : 4096;
	char *nb;

	if (s->oom)
		return false;
	if (want <= s->cap)
		return true;
	while (cap < want)
		cap *= 2;
	nb = realloc(s->buf, cap);
	if (!nb) {
		s->oom = true;
		return false;
	}
	s->buf = nb;
	s->cap = cap;
	return true;
}

void seq_write(struct seqbuf *s, const void *data, size_t len)
{
	if (!seq_reserve(s, len))
		return;
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
}

void seq_puts(struct seqbuf *s, const char *str)
{
	seq_write(s, str, strlen(str));
}

void seq_putc(struct seqbuf *s, char c)
{
	seq_write(s, &c, 1);
}

void seq_printf(struct seqbuf *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !seq_reserve(s, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(s->buf + s->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s->len += (size_t)n;
}

void seq_pad_to(struct seqbuf *s, size_t line_start, size_t col)
{
	while (s->len - line_start < col && !s->oom)
		seq_putc(s, ' ');
}

ssize_t seq_copy_out(struct seqbuf *s, char *buf, size_t len)
{
	size_t n = s->len;

	if (s->oom) {
		seq_free(s);
		return seterr(-ENOMEM, "out of host memory while formatting the text");
	}
	if (buf && len) {
		if (n > len - 1)
			n = len - 1;
		if (n)
			memcpy(buf, s->buf, n);
		buf[n] = '\0';
	}
	seq_free(s);
	return (ssize_t)n;
}

/* ------------------------------------------------------- /proc files */

enum proc_kind { PK_GLOBAL, PK_TASK };

struct proc_file {
	const char *name;
	enum proc_kind kind;
	void (*show)(struct mmsim_machine *m, struct seqbuf *s);
	void (*task_show)(struct mmsim_task *t, struct seqbuf *s);
};

static void kmsg_show(struct mmsim_machine *m, struct seqbuf *s)
{
	if (m->kmsg && m->kmsg_len)
		seq_write(s, m->kmsg, m->kmsg_len);
}

static void cpuinfo_show(struct mmsim_machine *m, struct seqbuf *s)
{
	unsigned int i;

	/* What an arm64 kernel prints for a Neoverse N1 class core with MTE. */
	for (i = 0; i < m->nr_cpus; i++) {
		seq_printf(s, "processor\t: %u\n", i);
		seq_puts(s, "BogoMIPS\t: 50.00\n");
		seq_puts(s, "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp "
			    "asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs mte\n");
		seq_puts(s, "CPU implementer\t: 0x41\n");
		seq_puts(s, "CPU architecture: 8\n");
		seq_puts(s, "CPU variant\t: 0x3\n");
		seq_puts(s, "CPU part\t: 0xd0c\n");
		seq_puts(s, "CPU revision\t: 1\n\n");
	}
}

static void smaps_show(struct mmsim_task *t, struct seqbuf *s)
{
	proc_smaps_show(t, s, false);
}

static void smaps_rollup_show(struct mmsim_task *t, struct seqbuf *s)
{
	proc_smaps_show(t, s, true);
}

static const struct proc_file proc_files[] = {
	{ "vmstat", PK_GLOBAL, proc_vmstat_show, NULL },
	{ "meminfo", PK_GLOBAL, proc_meminfo_show, NULL },
	{ "buddyinfo", PK_GLOBAL, proc_buddyinfo_show, NULL },
	{ "pagetypeinfo", PK_GLOBAL, proc_pagetypeinfo_show, NULL },
	{ "zoneinfo", PK_GLOBAL, proc_zoneinfo_show, NULL },
	{ "kmsg", PK_GLOBAL, kmsg_show, NULL },
	{ "cpuinfo", PK_GLOBAL, cpuinfo_show, NULL },
	{ "maps", PK_TASK, NULL, proc_maps_show },
	{ "smaps", PK_TASK, NULL, smaps_show },
	{ "smaps_rollup", PK_TASK, NULL, smaps_rollup_show },
	{ "status", PK_TASK, NULL, proc_status_show },
};

#define KNOWN_PROC_PATHS "vmstat, meminfo, buddyinfo, pagetypeinfo, zoneinfo, kmsg, cpuinfo, " \
	"kpageflags, kpagecount, self/maps, self/smaps, self/smaps_rollup, self/status (or <pid>/... for self)"

static const struct proc_file *find_proc_file(const char *name, enum proc_kind kind)
{
	size_t i;

	for (i = 0; i < sizeof(proc_files) / sizeof(proc_files[0]); i++)
		if (proc_files[i].kind == kind && !strcmp(proc_files[i].name, name))
			return &proc_files[i];
	return NULL;
}

/*
 * Which task a "<pid>/..." path names: the task passed in when the pid is
 * its own (or its thread group's), else any live task of the machine.
 */
static struct mmsim_task *proc_pid_task(struct mmsim_machine *m, struct mmsim_task *t, int pid)
{
	if (t && (t->pid == pid || t->tgid == pid))
		return t;
	return find_task_by_pid(m, pid);
}

/* The path under /proc, or NULL (reason set) when the arguments are bad. */
static const char *proc_path(struct mmsim_machine *m, struct mmsim_task *t, const char *path)
{
	if (!m) {
		seterr(-EINVAL, "proc_read: no machine");
		return NULL;
	}
	if (!path) {
		seterr(-EINVAL, "proc_read: no path; known: " KNOWN_PROC_PATHS);
		return NULL;
	}
	if (t && t->machine != m) {
		seterr(-EINVAL, "proc_read(%s): the task belongs to another machine", path);
		return NULL;
	}
	return !strncmp(path, "/proc/", 6) ? path + 6 : path;
}

/* Build the text of the file at p (a path under /proc) into s: 0 or -errno. */
static int proc_build(struct mmsim_machine *m, struct mmsim_task *t, const char *path, const char *p,
		      struct seqbuf *s)
{
	const struct proc_file *pf = find_proc_file(p, PK_GLOBAL);

	if (pf) {
		pf->show(m, s);
		return 0;
	}

	if (!strncmp(p, "self/", 5) || !strncmp(p, "thread-self/", 12)) {
		pf = find_proc_file(strchr(p, '/') + 1, PK_TASK);
		if (!pf)
			return seterr(-ENOENT, "proc_read: no file '%s'; known: " KNOWN_PROC_PATHS,
				      path);
		if (!t)
			return seterr(-EINVAL, "proc_read(%s): a 'self/' path needs a task", path);
	} else if (*p >= '0' && *p <= '9') {
		char *end;
		long pid = strtol(p, &end, 10);

		if (*end != '/' || !(pf = find_proc_file(end + 1, PK_TASK)))
			return seterr(-ENOENT, "proc_read: no file '%s'; known: " KNOWN_PROC_PATHS,
				      path);
		t = pid > 0 && pid <= 0x7fffffff ? proc_pid_task(m, t, (int)pid) : NULL;
		if (!t)
			return seterr(-ENOENT, "proc_read(%s): no process with pid %ld", path, pid);
	} else {
		return seterr(-ENOENT, "proc_read: no file '%s'; known: " KNOWN_PROC_PATHS, path);
	}

	pf->task_show(t, s);
	return 0;
}

ssize_t mmsim_proc_read(struct mmsim_machine *m, struct mmsim_task *t, const char *path,
			char *buf, size_t len)
{
	KERNEL_ENTRY(m, t, false);
	const char *p = proc_path(m, t, path);
	struct seqbuf s;
	int err;

	if (!p)
		return -EINVAL;
	/* The binary files from their start: whole entries only, no NUL. */
	if (proc_is_kpage_file(p)) {
		if (!buf)
			return (ssize_t)proc_kpage_size(m);
		return proc_kpage_read(m, p, buf, len & ~(size_t)7, 0);
	}
	seq_init(&s);
	if ((err = proc_build(m, t, path, p, &s))) {
		seq_free(&s);
		return err;
	}
	return seq_copy_out(&s, buf, len);
}

ssize_t mmsim_proc_pread(struct mmsim_machine *m, struct mmsim_task *t, const char *path,
			 void *buf, size_t len, uint64_t off)
{
	KERNEL_ENTRY(m, t, false);
	const char *p = proc_path(m, t, path);
	struct seqbuf s;
	size_t n;
	int err;

	if (!p)
		return -EINVAL;
	if (proc_is_kpage_file(p))
		return proc_kpage_read(m, p, buf, len, off);
	seq_init(&s);
	if ((err = proc_build(m, t, path, p, &s))) {
		seq_free(&s);
		return err;
	}
	if (s.oom) {
		seq_free(&s);
		return seterr(-ENOMEM, "out of host memory while formatting the text");
	}
	n = off < s.len ? s.len - (size_t)off : 0;
	if (buf) {
		if (n > len)
			n = len;
		if (n)
			memcpy(buf, s.buf + off, n);
	}
	seq_free(&s);
	return (ssize_t)n;
}

int64_t mmsim_vmstat(struct mmsim_machine *m, const char *name)
{
	KERNEL_ENTRY(m, NULL, false);
	uint64_t val;

	if (!m || !name)
		return seterr(-EINVAL, "vmstat: %s", !m ? "no machine" : "no counter name");
	if (!proc_vmstat_lookup(m, name, &val))
		return seterr(-ENOENT, "vmstat: no counter '%s' in /proc/vmstat", name);
	return (int64_t)(val & INT64_MAX);
}
