/* SPDX-License-Identifier: MIT */
/*
 * proc/proc.h - what the /proc and /sys text generators share.
 *
 * Every file is produced whole into a growable text buffer (a seq_file
 * without the paging), then copied out by mmsim_proc_read() and friends, so
 * a caller that passes a short buffer still learns the full size.
 */
#ifndef MMSIM_PROC_PROC_H
#define MMSIM_PROC_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel/machine.h"

struct seqbuf {
	char *buf;
	size_t len, cap;
	bool oom;               /* a growth failed: the text is incomplete */
};

void seq_init(struct seqbuf *s);
void seq_free(struct seqbuf *s);
void seq_printf(struct seqbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void seq_puts(struct seqbuf *s, const char *str);
void seq_putc(struct seqbuf *s, char c);
void seq_write(struct seqbuf *s, const void *data, size_t len);
/* Pad with spaces up to column @col of the current line (seq_pad). */
void seq_pad_to(struct seqbuf *s, size_t line_start, size_t col);
/*
 * Hand the text to the caller as the read*() calls of the API do: copy at
 * most len - 1 bytes and a NUL, return the bytes copied; with no buffer,
 * return the full length.  Frees the seqbuf.
 */
ssize_t seq_copy_out(struct seqbuf *s, char *buf, size_t len);

/* proc/vmstat.c */
void proc_vmstat_show(struct mmsim_machine *m, struct seqbuf *s);
void proc_buddyinfo_show(struct mmsim_machine *m, struct seqbuf *s);
void proc_pagetypeinfo_show(struct mmsim_machine *m, struct seqbuf *s);
void proc_zoneinfo_show(struct mmsim_machine *m, struct seqbuf *s);
/* The value /proc/vmstat prints for a name; false if it prints no such line. */
bool proc_vmstat_lookup(struct mmsim_machine *m, const char *name, uint64_t *val);

/* proc/meminfo.c */
void proc_meminfo_show(struct mmsim_machine *m, struct seqbuf *s);
/* Global counters as Linux's global_*_page_state() return them (never < 0). */
uint64_t global_zone_state(struct mmsim_machine *m, enum zone_stat_item i);
uint64_t global_node_state(struct mmsim_machine *m, enum node_stat_item i);
uint64_t global_numa_state(struct mmsim_machine *m, enum numa_stat_item i);
uint64_t calc_totalreserve_pages(struct mmsim_machine *m);
uint64_t zone_cma_pages(struct mmsim_machine *m, struct zone *z);

/* proc/page.c: the binary pfn-indexed files */
bool proc_is_kpage_file(const char *name);
uint64_t proc_kpage_size(struct mmsim_machine *m);
/* Entries of "kpageflags" or "kpagecount" from byte off: bytes stored, or -errno. */
ssize_t proc_kpage_read(struct mmsim_machine *m, const char *name, void *buf, size_t len, uint64_t off);

/* proc/task_mmu.c */
void proc_maps_show(struct mmsim_task *t, struct seqbuf *s);
void proc_smaps_show(struct mmsim_task *t, struct seqbuf *s, bool rollup);
void proc_status_show(struct mmsim_task *t, struct seqbuf *s);

#endif
