/* SPDX-License-Identifier: MIT */
/*
 * tests/refmodel.h - a plain reference model of what a simulated process must
 * read, used by the differential test to predict every result of mmsim.
 *
 * The model knows nothing about page tables, folios or reclaim: per process it
 * keeps a sorted list of mappings [start, end) with their protection and type,
 * and the bytes of every page that was ever written.  An untouched anonymous
 * page reads zeros.  Shared memory (MAP_SHARED|MAP_ANONYMOUS and memfd files)
 * lives in a backing object that every mapping of it refers to, so fork and two
 * mappings of one memfd see the same bytes.  Private pages are reference
 * counted, which makes fork's copy-on-write cheap: a write copies the page when
 * someone else still holds it.
 *
 * Every operation both predicts the Linux result and applies it.  Where Linux
 * leaves the placement of a mapping to the kernel (mmap without a usable hint,
 * mremap that has to move), the caller passes the address mmsim chose; the
 * model accepts it when it is a legal choice (page aligned, below TASK_SIZE,
 * not overlapping any mapping) and rejects it otherwise.
 *
 * The model does not merge adjacent mappings the way Linux does.  Merging is
 * invisible to every operation here except mremap, whose "range must lie in
 * one VMA" rule depends on it; callers therefore only ask mremap about ranges
 * that lie in one model mapping or that contain a hole (unambiguous in Linux).
 */
#ifndef MMSIM_TESTS_REFMODEL_H
#define MMSIM_TESTS_REFMODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "mmsim.h"

#define REF_PAGE_SIZE	4096ULL
#define REF_TASK_SIZE	(1ULL << 48)	/* arm64 with 48-bit VA */
#define REF_MIN_ADDR	0x10000ULL	/* above any mmap_min_addr */

/* Returned by ref_mmap/ref_mremap when mmsim's placement is illegal. */
#define REF_BAD_PLACEMENT	INT64_MIN

struct ref_page;
struct ref_obj;
struct ref_proc;

struct ref_vma {
	uint64_t start, end;
	int prot;
	bool shared;			/* MAP_SHARED */
	bool dontfork;			/* VM_DONTCOPY */
	bool wipeonfork;		/* VM_WIPEONFORK */
	struct ref_obj *obj;		/* shmem/memfd; NULL for private anon */
	uint64_t pgoff;			/* file page of start, when obj */
	struct ref_page **priv;		/* private copy per page, NULL = none */
};

struct ref_model {
	struct ref_proc **procs;
	int nr_procs, cap_procs;
	int next_id;
};

struct ref_proc {
	struct ref_model *model;
	int id;				/* stable name used in logs */
	struct ref_vma *vmas;		/* sorted by start, never overlapping */
	int nr_vmas, cap_vmas;
	struct ref_fd { int fd; struct ref_obj *obj; } *fds;
	int nr_fds, cap_fds;
};

void ref_model_init(struct ref_model *rm);
void ref_model_free(struct ref_model *rm);

struct ref_proc *ref_proc_create(struct ref_model *rm);
struct ref_proc *ref_fork(struct ref_proc *parent);
void ref_proc_exit(struct ref_proc *p);

/* Is [start, start+len) free of mappings? */
bool ref_range_free(const struct ref_proc *p, uint64_t start, uint64_t len);
const struct ref_vma *ref_find_vma(const struct ref_proc *p, uint64_t addr);

/* Syscalls: each returns what Linux returns (>= 0 or -errno). */
int64_t ref_mmap(struct ref_proc *p, uint64_t addr, uint64_t len, int prot, int flags,
		 int fd, uint64_t off, int64_t actual);
int ref_munmap(struct ref_proc *p, uint64_t addr, uint64_t len);
int ref_mprotect(struct ref_proc *p, uint64_t addr, uint64_t len, int prot);
int ref_madvise(struct ref_proc *p, uint64_t addr, uint64_t len, int advice);
int64_t ref_mremap(struct ref_proc *p, uint64_t old, uint64_t old_len, uint64_t new_len,
		   int flags, uint64_t new_addr, int64_t actual);
/* memfd_create: the kernel picks the number; the model records it. */
int ref_memfd_create(struct ref_proc *p, int fd);
bool ref_fd_valid(const struct ref_proc *p, int fd);
int ref_ftruncate(struct ref_proc *p, int fd, uint64_t len);
int ref_close(struct ref_proc *p, int fd);

/*
 * A load or store of len bytes.  Accesses are performed page by page, as the
 * CPU does for an access split at a page boundary: on a fault the pages before
 * the faulting one have already been accessed (stores are kept), and si
 * describes the fault at the first byte of the faulting page that the access
 * touches.  Returns MMSIM_ACCESS_OK or MMSIM_ACCESS_SIGNAL.
 */
int ref_load(struct ref_proc *p, uint64_t addr, void *dst, uint64_t len,
	     struct mmsim_siginfo *si);
int ref_store(struct ref_proc *p, uint64_t addr, const void *src, uint64_t len,
	      struct mmsim_siginfo *si);

/* One line describing p's mappings, for failure reports. */
int ref_describe(const struct ref_proc *p, char *buf, int len);

#endif
