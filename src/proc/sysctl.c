// SPDX-License-Identifier: MIT
/*
 * proc/sysctl.c - the runtime knobs: /proc/sys (mmsim_sysctl_*) and
 * /sys/kernel/mm (mmsim_sysfs_*), with Linux's names, ranges and text.
 *
 * Integer sysctls parse as proc_dointvec_minmax() does (optional sign,
 * decimal, surrounding blanks and one newline allowed) and read back as
 * "%d\n".  The THP files print every choice with the current one in
 * brackets and take one choice, optionally followed by a newline.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/proc.h"
#include "mm/compaction.h"

/* ------------------------------------------------------------- sysctl */

struct sysctl_int {
	const char *name;
	long min, max;
	int (*get)(struct mmsim_machine *m);   /* NULL: write-only (mode 0200) */
	void (*set)(struct mmsim_machine *m, int v);
};

static int get_overcommit_memory(struct mmsim_machine *m) { return m->overcommit_memory; }
static void set_overcommit_memory(struct mmsim_machine *m, int v) { m->overcommit_memory = v; }
static int get_overcommit_ratio(struct mmsim_machine *m) { return m->overcommit_ratio; }
static void set_overcommit_ratio(struct mmsim_machine *m, int v) { m->overcommit_ratio = v; }
static int get_max_map_count(struct mmsim_machine *m) { return m->max_map_count; }
static void set_max_map_count(struct mmsim_machine *m, int v) { m->max_map_count = v; }
static int get_numa_balancing(struct mmsim_machine *m) { return m->numa_balancing; }
static void set_numa_balancing(struct mmsim_machine *m, int v) { m->numa_balancing = v; }

static int get_min_free_kbytes(struct mmsim_machine *m)
{
	return m->min_free_kbytes > INT_MAX ? INT_MAX : (int)m->min_free_kbytes;
}

/* New reserves take effect at once: every zone's watermarks are redone. */
static void set_min_free_kbytes(struct mmsim_machine *m, int v)
{
	m->min_free_kbytes = (uint64_t)v;
	setup_per_zone_wmarks(m);
}

static int get_watermark_scale_factor(struct mmsim_machine *m) { return m->watermark_scale_factor; }

static void set_watermark_scale_factor(struct mmsim_machine *m, int v)
{
	m->watermark_scale_factor = v;
	setup_per_zone_wmarks(m);
}

/* vm.compact_memory: writing 1 compacts every zone of every node at once. */
static void set_compact_memory(struct mmsim_machine *m, int v)
{
	(void)v;
	compact_nodes(m);
}

static int get_extfrag_threshold(struct mmsim_machine *m) { return m->extfrag_threshold; }
static void set_extfrag_threshold(struct mmsim_machine *m, int v) { m->extfrag_threshold = v; }
static int get_compaction_proactiveness(struct mmsim_machine *m) { return m->compaction_proactiveness; }

/* A non-zero write wakes every node's kcompactd for a proactive pass. */
static void set_compaction_proactiveness(struct mmsim_machine *m, int v)
{
	m->compaction_proactiveness = v;
	if (!v)
		return;
	for (unsigned int n = 0; n < m->nr_nodes; n++) {
		if (m->nodes[n].proactive_compact_trigger)
			continue;
		m->nodes[n].proactive_compact_trigger = true;
		TRACE(m, "compaction:mm_compaction_wakeup_kcompactd", (int)smp_processor_id(m), -1, 0, 0, 0,
		      "nid=%u order=-1 highest_zoneidx=%-8s", n, "Normal");
	}
}

static const struct sysctl_int sysctls[] = {
	{ "vm.overcommit_memory", 0, 2, get_overcommit_memory, set_overcommit_memory },
	{ "vm.overcommit_ratio", 0, INT_MAX, get_overcommit_ratio, set_overcommit_ratio },
	{ "vm.min_free_kbytes", 0, INT_MAX, get_min_free_kbytes, set_min_free_kbytes },
	{ "vm.watermark_scale_factor", 1, 3000, get_watermark_scale_factor,
	  set_watermark_scale_factor },
	{ "vm.max_map_count", 0, INT_MAX, get_max_map_count, set_max_map_count },
	{ "kernel.numa_balancing", 0, 3, get_numa_balancing, set_numa_balancing },
	{ "vm.compact_memory", 1, 1, NULL, set_compact_memory },
	{ "vm.extfrag_threshold", 0, 1000, get_extfrag_threshold, set_extfrag_threshold },
	{ "vm.compaction_proactiveness", 0, 100, get_compaction_proactiveness,
	  set_compaction_proactiveness },
};

#define NR_SYSCTLS (sizeof(sysctls) / sizeof(sysctls[0]))
#define KNOWN_SYSCTLS "vm.overcommit_memory, vm.overcommit_ratio, vm.min_free_kbytes, " \
	"vm.watermark_scale_factor, vm.max_map_count, kernel.numa_balancing, " \
	"vm.compact_memory, vm.extfrag_threshold, vm.compaction_proactiveness"

/* "vm/overcommit_memory", "/proc/sys/vm/overcommit_memory" -> "vm.overcommit_memory" */
static const struct sysctl_int *find_sysctl(const char *name)
{
	char norm[128];
	size_t i;

	if (!strncmp(name, "/proc/sys/", 10))
		name += 10;
	if (strlen(name) >= sizeof(norm))
		return NULL;
	for (i = 0; name[i]; i++)
		norm[i] = name[i] == '/' ? '.' : name[i];
	norm[i] = '\0';
	for (i = 0; i < NR_SYSCTLS; i++)
		if (!strcmp(norm, sysctls[i].name))
			return &sysctls[i];
	return NULL;
}

/* proc_dointvec's grammar: blanks, [+-]digits, blanks (a newline among them). */
static bool parse_int(const char *val, long *out)
{
	const char *p = val;
	char *end;
	long v;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p || !(isdigit((unsigned char)*p) || ((*p == '-' || *p == '+') &&
						    isdigit((unsigned char)p[1]))))
		return false;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || v < INT_MIN || v > INT_MAX)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return false;
	*out = v;
	return true;
}

int mmsim_sysctl_write(struct mmsim_machine *m, const char *name, const char *val)
{
	KERNEL_ENTRY(m, NULL, false);
	const struct sysctl_int *sc;
	long v;

	if (!m || !name || !val)
		return seterr(-EINVAL, "sysctl_write: %s", !m ? "no machine" :
			      !name ? "no name" : "no value");
	sc = find_sysctl(name);
	if (!sc)
		return seterr(-ENOENT, "sysctl: unknown name '%s'; known: " KNOWN_SYSCTLS, name);
	if (!parse_int(val, &v))
		return seterr(-EINVAL, "sysctl %s: '%s' is not a decimal integer (accepted: %ld..%ld)",
			      sc->name, val, sc->min, sc->max);
	if (v < sc->min || v > sc->max)
		return seterr(-EINVAL, "sysctl %s: %ld is out of range (accepted: %ld..%ld)",
			      sc->name, v, sc->min, sc->max);
	sc->set(m, (int)v);
	return 0;
}

ssize_t mmsim_sysctl_read(struct mmsim_machine *m, const char *name, char *buf, size_t len)
{
	KERNEL_ENTRY(m, NULL, false);
	const struct sysctl_int *sc;
	struct seqbuf s;

	if (!m || !name)
		return seterr(-EINVAL, "sysctl_read: %s", !m ? "no machine" : "no name");
	sc = find_sysctl(name);
	if (!sc)
		return seterr(-ENOENT, "sysctl: unknown name '%s'; known: " KNOWN_SYSCTLS, name);
	if (!sc->get)
		return seterr(-EACCES, "sysctl %s is write-only (mode 0200)", sc->name);
	seq_init(&s);
	seq_printf(&s, "%d\n", sc->get(m));
	return seq_copy_out(&s, buf, len);
}

/* -------------------------------------------------------------- sysfs */

#define THP_DIR "kernel/mm/transparent_hugepage/"

/* A file that shows one choice of a fixed list, the current one bracketed. */
struct sysfs_choice {
	const char *path;
	const char *const *choices;
	int nr;
	int *(*field)(struct mmsim_machine *m);
};

/* Indices are what the model stores: 0 never, 1 madvise, 2 always. */
static const char *const thp_enabled_names[] = { "never", "madvise", "always" };
static const int thp_enabled_order[] = { 2, 1, 0 };    /* printed always first */
static const char *const thp_defrag_names[] = {
	"always", "defer", "defer+madvise", "madvise", "never",
};

static int *thp_enabled_field(struct mmsim_machine *m) { return &m->thp_enabled; }
static int *thp_defrag_field(struct mmsim_machine *m) { return &m->thp_defrag; }

static const struct sysfs_choice sysfs_choices[] = {
	{ THP_DIR "enabled", thp_enabled_names, 3, thp_enabled_field },
	{ THP_DIR "defrag", thp_defrag_names, 5, thp_defrag_field },
};

#define KNOWN_SYSFS THP_DIR "enabled, " THP_DIR "defrag, " THP_DIR "use_zero_page, " \
	THP_DIR "hpage_pmd_size"

/* sysfs_streq(): equal, ignoring one trailing newline on the written value. */
static bool sysfs_streq(const char *written, const char *want)
{
	size_t n = strlen(want);

	return !strncmp(written, want, n) &&
	       (written[n] == '\0' || (written[n] == '\n' && written[n + 1] == '\0'));
}

static const char *sysfs_norm(const char *path)
{
	if (!strncmp(path, "/sys/", 5))
		path += 5;
	return path;
}

static int choice_index(const struct sysfs_choice *c, int i)
{
	return c->choices == thp_enabled_names ? thp_enabled_order[i] : i;
}

int mmsim_sysfs_write(struct mmsim_machine *m, const char *path, const char *val)
{
	KERNEL_ENTRY(m, NULL, false);
	const char *p;
	size_t i;
	int k;

	if (!m || !path || !val)
		return seterr(-EINVAL, "sysfs_write: %s", !m ? "no machine" :
			      !path ? "no path" : "no value");
	p = sysfs_norm(path);
	for (i = 0; i < sizeof(sysfs_choices) / sizeof(sysfs_choices[0]); i++) {
		const struct sysfs_choice *c = &sysfs_choices[i];
		char list[128] = "";

		if (strcmp(p, c->path))
			continue;
		for (k = 0; k < c->nr; k++) {
			int idx = choice_index(c, k);

			if (sysfs_streq(val, c->choices[idx])) {
				*c->field(m) = idx;
				return 0;
			}
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 k ? ", " : "", c->choices[idx]);
		}
		return seterr(-EINVAL, "sysfs %s: '%s' is not one of: %s", c->path, val, list);
	}
	if (!strcmp(p, THP_DIR "use_zero_page")) {
		long v;

		/* kstrtoul: digits and an optional newline; only 0 and 1 mean anything. */
		if (!parse_int(val, &v) || *val == '-' || *val == '+' || isspace((unsigned char)*val) ||
		    v > 1)
			return seterr(-EINVAL, "sysfs %s: '%s' is not 0 or 1", p, val);
		m->thp_use_zero_page = (int)v;
		return 0;
	}
	if (!strcmp(p, THP_DIR "hpage_pmd_size"))
		return seterr(-EACCES, "sysfs %s is read-only", p);
	return seterr(-ENOENT, "sysfs: no file '%s'; known: " KNOWN_SYSFS, path);
}

ssize_t mmsim_sysfs_read(struct mmsim_machine *m, const char *path, char *buf, size_t len)
{
	KERNEL_ENTRY(m, NULL, false);
	struct seqbuf s;
	const char *p;
	size_t i;
	int k;

	if (!m || !path)
		return seterr(-EINVAL, "sysfs_read: %s", !m ? "no machine" : "no path");
	p = sysfs_norm(path);
	seq_init(&s);
	for (i = 0; i < sizeof(sysfs_choices) / sizeof(sysfs_choices[0]); i++) {
		const struct sysfs_choice *c = &sysfs_choices[i];
		int cur = *c->field(m);

		if (strcmp(p, c->path))
			continue;
		for (k = 0; k < c->nr; k++) {
			int idx = choice_index(c, k);

			seq_printf(&s, idx == cur ? "%s[%s]" : "%s%s", k ? " " : "", c->choices[idx]);
		}
		seq_putc(&s, '\n');
		return seq_copy_out(&s, buf, len);
	}
	if (!strcmp(p, THP_DIR "use_zero_page")) {
		seq_printf(&s, "%d\n", m->thp_use_zero_page ? 1 : 0);
		return seq_copy_out(&s, buf, len);
	}
	if (!strcmp(p, THP_DIR "hpage_pmd_size")) {
		seq_printf(&s, "%llu\n", (unsigned long long)PMD_SIZE);
		return seq_copy_out(&s, buf, len);
	}
	return seterr(-ENOENT, "sysfs: no file '%s'; known: " KNOWN_SYSFS, path);
}
