// SPDX-License-Identifier: MIT
/*
 * tests/refmodel.c - the reference model of tests/refmodel.h.
 *
 * Written from the Linux system-call semantics (man pages and mm/mmap.c,
 * mm/mremap.c, mm/mprotect.c, mm/madvise.c behaviour), deliberately without
 * any of mmsim's structures, so that a shared misunderstanding is unlikely.
 * Error checks are made in the order Linux makes them, because a call with
 * two problems must return the errno Linux returns for the first.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refmodel.h"

#define PG		REF_PAGE_SIZE
#define PG_ALIGN(x)	(((x) + PG - 1) & ~(PG - 1))
#define PG_OFF(x)	((x) & (PG - 1))

struct ref_page {
	int refs;
	uint8_t b[REF_PAGE_SIZE];
};

struct ref_obj {
	int refs;
	uint64_t size;			/* i_size in bytes */
	uint64_t cap;			/* slots in pages[] */
	struct ref_page **pages;	/* page cache; NULL = hole (zeros) */
};

static const uint8_t zero_page[REF_PAGE_SIZE];

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p) {
		/* A test that cannot allocate cannot say anything useful. */
		fprintf(stderr, "refmodel: out of memory\n");
		abort();
	}
	return p;
}

static void *xrealloc(void *old, size_t sz)
{
	void *p = realloc(old, sz ? sz : 1);

	if (!p) {
		fprintf(stderr, "refmodel: out of memory\n");
		abort();
	}
	return p;
}

/* ------------------------------------------------------------ pages, objects */

static struct ref_page *page_new(const uint8_t *from)
{
	struct ref_page *pg = xcalloc(1, sizeof(*pg));

	pg->refs = 1;
	if (from)
		memcpy(pg->b, from, PG);
	return pg;
}

static void page_put(struct ref_page *pg)
{
	if (pg && --pg->refs == 0)
		free(pg);
}

static struct ref_obj *obj_new(uint64_t size)
{
	struct ref_obj *o = xcalloc(1, sizeof(*o));

	o->refs = 1;
	o->size = size;
	return o;
}

static struct ref_obj *obj_get(struct ref_obj *o)
{
	if (o)
		o->refs++;
	return o;
}

static void obj_put(struct ref_obj *o)
{
	if (!o || --o->refs)
		return;
	for (uint64_t i = 0; i < o->cap; i++)
		page_put(o->pages[i]);
	free(o->pages);
	free(o);
}

static uint64_t obj_npages(const struct ref_obj *o)
{
	return PG_ALIGN(o->size) / PG;
}

static const uint8_t *obj_bytes(const struct ref_obj *o, uint64_t idx)
{
	if (idx < o->cap && o->pages[idx])
		return o->pages[idx]->b;
	return zero_page;
}

static uint8_t *obj_bytes_w(struct ref_obj *o, uint64_t idx)
{
	if (idx >= o->cap) {
		uint64_t ncap = idx + 16;

		o->pages = xrealloc(o->pages, ncap * sizeof(*o->pages));
		memset(o->pages + o->cap, 0, (ncap - o->cap) * sizeof(*o->pages));
		o->cap = ncap;
	}
	if (!o->pages[idx])
		o->pages[idx] = page_new(NULL);
	return o->pages[idx]->b;
}

/* ----------------------------------------------------------------- mappings */

static uint64_t vma_pages(const struct ref_vma *v)
{
	return (v->end - v->start) / PG;
}

static void vma_release(struct ref_vma *v)
{
	for (uint64_t i = 0; i < vma_pages(v); i++)
		page_put(v->priv[i]);
	free(v->priv);
	obj_put(v->obj);
}

static int vma_index(const struct ref_proc *p, uint64_t addr)
{
	for (int i = 0; i < p->nr_vmas; i++)
		if (addr < p->vmas[i].end)
			return addr >= p->vmas[i].start ? i : -1;
	return -1;
}

/* The first mapping that ends above addr (Linux's find_vma). */
static int vma_after(const struct ref_proc *p, uint64_t addr)
{
	for (int i = 0; i < p->nr_vmas; i++)
		if (addr < p->vmas[i].end)
			return i;
	return -1;
}

const struct ref_vma *ref_find_vma(const struct ref_proc *p, uint64_t addr)
{
	int i = vma_index(p, addr);

	return i < 0 ? NULL : &p->vmas[i];
}

bool ref_range_free(const struct ref_proc *p, uint64_t start, uint64_t len)
{
	for (int i = 0; i < p->nr_vmas; i++)
		if (p->vmas[i].start < start + len && start < p->vmas[i].end)
			return false;
	return true;
}

static void vma_insert(struct ref_proc *p, const struct ref_vma *v)
{
	int i;

	if (p->nr_vmas == p->cap_vmas) {
		p->cap_vmas = p->cap_vmas ? 2 * p->cap_vmas : 16;
		p->vmas = xrealloc(p->vmas, p->cap_vmas * sizeof(*p->vmas));
	}
	for (i = 0; i < p->nr_vmas && p->vmas[i].start < v->start; i++)
		;
	memmove(&p->vmas[i + 1], &p->vmas[i], (p->nr_vmas - i) * sizeof(*v));
	p->vmas[i] = *v;
	p->nr_vmas++;
}

/* Removes entry i without releasing what it holds. */
static void vma_remove(struct ref_proc *p, int i)
{
	memmove(&p->vmas[i], &p->vmas[i + 1], (p->nr_vmas - i - 1) * sizeof(p->vmas[0]));
	p->nr_vmas--;
}

/* Makes addr a mapping boundary, as Linux's split_vma does. */
static void split_at(struct ref_proc *p, uint64_t addr)
{
	int i = vma_index(p, addr);
	struct ref_vma *v, right;
	uint64_t left_pages;

	if (i < 0 || p->vmas[i].start == addr)
		return;
	v = &p->vmas[i];
	left_pages = (addr - v->start) / PG;
	right = *v;
	right.start = addr;
	right.pgoff = v->pgoff + left_pages;
	right.priv = xcalloc(vma_pages(&right), sizeof(*right.priv));
	memcpy(right.priv, v->priv + left_pages, vma_pages(&right) * sizeof(*right.priv));
	obj_get(right.obj);
	v->end = addr;
	v->priv = xrealloc(v->priv, left_pages * sizeof(*v->priv));
	vma_insert(p, &right);
}

static void unmap_range(struct ref_proc *p, uint64_t start, uint64_t end)
{
	split_at(p, start);
	split_at(p, end);
	for (int i = 0; i < p->nr_vmas;) {
		struct ref_vma *v = &p->vmas[i];

		if (v->start >= start && v->end <= end) {
			vma_release(v);
			vma_remove(p, i);
		} else {
			i++;
		}
	}
}

/* ---------------------------------------------------------------- processes */

void ref_model_init(struct ref_model *rm)
{
	memset(rm, 0, sizeof(*rm));
	rm->next_id = 1;
}

void ref_model_free(struct ref_model *rm)
{
	while (rm->nr_procs)
		ref_proc_exit(rm->procs[rm->nr_procs - 1]);
	free(rm->procs);
	rm->procs = NULL;
	rm->cap_procs = 0;
}

struct ref_proc *ref_proc_create(struct ref_model *rm)
{
	struct ref_proc *p = xcalloc(1, sizeof(*p));

	p->model = rm;
	p->id = rm->next_id++;
	if (rm->nr_procs == rm->cap_procs) {
		rm->cap_procs = rm->cap_procs ? 2 * rm->cap_procs : 8;
		rm->procs = xrealloc(rm->procs, rm->cap_procs * sizeof(*rm->procs));
	}
	rm->procs[rm->nr_procs++] = p;
	return p;
}

struct ref_proc *ref_fork(struct ref_proc *parent)
{
	struct ref_proc *c = ref_proc_create(parent->model);

	for (int i = 0; i < parent->nr_vmas; i++) {
		const struct ref_vma *pv = &parent->vmas[i];
		struct ref_vma v = *pv;
		uint64_t n = vma_pages(pv);

		/* VM_DONTCOPY: the child simply has a hole there. */
		if (pv->dontfork)
			continue;
		v.priv = xcalloc(n, sizeof(*v.priv));
		/* VM_WIPEONFORK: the child starts with an empty anon range. */
		if (!pv->wipeonfork) {
			for (uint64_t j = 0; j < n; j++) {
				v.priv[j] = pv->priv[j];
				if (v.priv[j])
					v.priv[j]->refs++;
			}
		}
		obj_get(v.obj);
		vma_insert(c, &v);
	}
	/* The file table is copied; both refer to the same open files. */
	c->cap_fds = parent->nr_fds;
	c->nr_fds = parent->nr_fds;
	c->fds = xcalloc(c->cap_fds, sizeof(*c->fds));
	for (int i = 0; i < parent->nr_fds; i++) {
		c->fds[i].fd = parent->fds[i].fd;
		c->fds[i].obj = obj_get(parent->fds[i].obj);
	}
	return c;
}

void ref_proc_exit(struct ref_proc *p)
{
	struct ref_model *rm = p->model;

	for (int i = 0; i < p->nr_vmas; i++)
		vma_release(&p->vmas[i]);
	for (int i = 0; i < p->nr_fds; i++)
		obj_put(p->fds[i].obj);
	free(p->vmas);
	free(p->fds);
	for (int i = 0; i < rm->nr_procs; i++) {
		if (rm->procs[i] == p) {
			rm->procs[i] = rm->procs[--rm->nr_procs];
			break;
		}
	}
	free(p);
}

/* -------------------------------------------------------------------- files */

static struct ref_obj *fd_obj(const struct ref_proc *p, int fd)
{
	for (int i = 0; i < p->nr_fds; i++)
		if (p->fds[i].fd == fd)
			return p->fds[i].obj;
	return NULL;
}

bool ref_fd_valid(const struct ref_proc *p, int fd)
{
	return fd_obj(p, fd) != NULL;
}

int ref_memfd_create(struct ref_proc *p, int fd)
{
	if (fd < 0 || fd_obj(p, fd))
		return -1;
	if (p->nr_fds == p->cap_fds) {
		p->cap_fds = p->cap_fds ? 2 * p->cap_fds : 8;
		p->fds = xrealloc(p->fds, p->cap_fds * sizeof(*p->fds));
	}
	p->fds[p->nr_fds].fd = fd;
	p->fds[p->nr_fds].obj = obj_new(0);
	p->nr_fds++;
	return 0;
}

int ref_close(struct ref_proc *p, int fd)
{
	for (int i = 0; i < p->nr_fds; i++) {
		if (p->fds[i].fd == fd) {
			obj_put(p->fds[i].obj);
			p->fds[i] = p->fds[--p->nr_fds];
			return 0;
		}
	}
	return -MMSIM_EBADF;
}

int ref_ftruncate(struct ref_proc *p, int fd, uint64_t len)
{
	struct ref_obj *o = fd_obj(p, fd);
	struct ref_model *rm = p->model;

	if (!o)
		return -MMSIM_EBADF;
	if ((int64_t)len < 0)
		return -MMSIM_EINVAL;
	if (len < o->size) {
		uint64_t keep = PG_ALIGN(len) / PG;

		for (uint64_t i = keep; i < o->cap; i++) {
			page_put(o->pages[i]);
			o->pages[i] = NULL;
		}
		/* The part of the last page beyond the new size reads zero. */
		if (PG_OFF(len) && len / PG < o->cap && o->pages[len / PG])
			memset(o->pages[len / PG]->b + PG_OFF(len), 0, PG - PG_OFF(len));
		/*
		 * Truncation unmaps even private COW copies of the pages beyond
		 * the new end (unmap_mapping_range(..., even_cows=1)): a later
		 * access there raises SIGBUS rather than reading stale data.
		 */
		for (int j = 0; j < rm->nr_procs; j++) {
			struct ref_proc *q = rm->procs[j];

			for (int k = 0; k < q->nr_vmas; k++) {
				struct ref_vma *v = &q->vmas[k];

				if (v->obj != o || v->shared)
					continue;
				for (uint64_t i = 0; i < vma_pages(v); i++) {
					if (v->pgoff + i >= keep && v->priv[i]) {
						page_put(v->priv[i]);
						v->priv[i] = NULL;
					}
				}
			}
		}
	}
	o->size = len;
	return 0;
}

/* ------------------------------------------------------------------- access */

/* Checks one page access the way the fault handler decides it. */
static int page_fault(const struct ref_proc *p, uint64_t va, bool write,
		      struct mmsim_siginfo *si, struct ref_vma **vout, uint64_t *pi)
{
	int i = vma_index(p, va);
	struct ref_vma *v;

	if (i < 0) {
		*si = (struct mmsim_siginfo){ MMSIM_SIGSEGV, MMSIM_SEGV_MAPERR, va };
		return 1;
	}
	v = &p->vmas[i];
	/* arm64: a read fault is allowed by VM_READ or VM_WRITE. */
	if (write ? !(v->prot & MMSIM_PROT_WRITE) :
		    !(v->prot & (MMSIM_PROT_READ | MMSIM_PROT_WRITE))) {
		*si = (struct mmsim_siginfo){ MMSIM_SIGSEGV, MMSIM_SEGV_ACCERR, va };
		return 1;
	}
	*pi = (va - v->start) / PG;
	/* A file page beyond EOF cannot be faulted in. */
	if (v->obj && !v->priv[*pi] && v->pgoff + *pi >= obj_npages(v->obj)) {
		*si = (struct mmsim_siginfo){ MMSIM_SIGBUS, MMSIM_BUS_ADRERR, va };
		return 1;
	}
	*vout = v;
	return 0;
}

static const uint8_t *vma_bytes(const struct ref_vma *v, uint64_t pi)
{
	if (v->priv[pi])
		return v->priv[pi]->b;
	if (v->obj)
		return obj_bytes(v->obj, v->pgoff + pi);
	return zero_page;
}

/* The page a write goes to: the object's, or a private (copied) one. */
static uint8_t *vma_bytes_w(struct ref_vma *v, uint64_t pi)
{
	struct ref_page *pg = v->priv[pi];

	if (v->shared)
		return obj_bytes_w(v->obj, v->pgoff + pi);
	if (!pg) {
		v->priv[pi] = page_new(vma_bytes(v, pi));
	} else if (pg->refs > 1) {
		v->priv[pi] = page_new(pg->b);
		pg->refs--;
	}
	return v->priv[pi]->b;
}

static int ref_access(struct ref_proc *p, uint64_t addr, uint8_t *buf, uint64_t len,
		      bool write, struct mmsim_siginfo *si)
{
	uint64_t done = 0;

	while (done < len) {
		uint64_t va = addr + done;
		uint64_t n = PG - PG_OFF(va);
		struct ref_vma *v;
		uint64_t pi;

		if (n > len - done)
			n = len - done;
		if (page_fault(p, va, write, si, &v, &pi))
			return MMSIM_ACCESS_SIGNAL;
		if (write)
			memcpy(vma_bytes_w(v, pi) + PG_OFF(va), buf + done, n);
		else
			memcpy(buf + done, vma_bytes(v, pi) + PG_OFF(va), n);
		done += n;
	}
	return MMSIM_ACCESS_OK;
}

int ref_load(struct ref_proc *p, uint64_t addr, void *dst, uint64_t len,
	     struct mmsim_siginfo *si)
{
	return ref_access(p, addr, dst, len, false, si);
}

int ref_store(struct ref_proc *p, uint64_t addr, const void *src, uint64_t len,
	      struct mmsim_siginfo *si)
{
	/* ref_access does not write to buf when write is set. */
	return ref_access(p, addr, (uint8_t *)(uintptr_t)src, len, true, si);
}

/* ---------------------------------------------------------------- syscalls */

static bool placement_ok(const struct ref_proc *p, int64_t at, uint64_t len)
{
	return at >= (int64_t)REF_MIN_ADDR && !PG_OFF((uint64_t)at) &&
	       (uint64_t)at <= REF_TASK_SIZE - len && ref_range_free(p, at, len);
}

/*
 * Populating a writable private mapping breaks COW (FOLL_WRITE), which for a
 * file mapping snapshots the file page: later writes through a shared mapping
 * are no longer seen there.  Pages beyond EOF are skipped.
 */
static void populate_write_private(struct ref_vma *v, uint64_t from, uint64_t to)
{
	for (uint64_t va = from; va < to; va += PG) {
		uint64_t pi = (va - v->start) / PG;

		if (v->shared || !v->obj || v->priv[pi])
			continue;
		if (v->pgoff + pi >= obj_npages(v->obj))
			continue;
		vma_bytes_w(v, pi);
	}
}

int64_t ref_mmap(struct ref_proc *p, uint64_t addr, uint64_t len, int prot, int flags,
		 int fd, uint64_t off, int64_t actual)
{
	struct ref_obj *file = NULL;
	bool fixed = flags & (MMSIM_MAP_FIXED | MMSIM_MAP_FIXED_NOREPLACE);
	bool any = false, shared;
	uint64_t pgoff, at = 0;
	struct ref_vma v;
	int type = flags & MMSIM_MAP_TYPE;

	/* arm64 sys_mmap rejects an unaligned offset before anything else. */
	if (PG_OFF(off))
		return -MMSIM_EINVAL;
	if (!(flags & MMSIM_MAP_ANONYMOUS)) {
		file = fd_obj(p, fd);
		if (!file)
			return -MMSIM_EBADF;
	}
	if (!len)
		return -MMSIM_EINVAL;
	len = PG_ALIGN(len);
	if (!len)
		return -MMSIM_ENOMEM;
	pgoff = off / PG;
	if (pgoff + len / PG < pgoff)
		return -MMSIM_EOVERFLOW;
	if (len > REF_TASK_SIZE)
		return -MMSIM_ENOMEM;
	if (fixed) {
		at = addr;
	} else {
		/* round_hint_to_min masks the hint down to its page. */
		uint64_t hint = addr & ~(PG - 1);

		if (hint && hint >= REF_MIN_ADDR && hint <= REF_TASK_SIZE - len &&
		    ref_range_free(p, hint, len))
			at = hint;
		else
			any = true;
	}
	if (!any) {
		if (at > REF_TASK_SIZE - len)
			return -MMSIM_ENOMEM;
		if (PG_OFF(at))
			return -MMSIM_EINVAL;
		if ((flags & MMSIM_MAP_FIXED_NOREPLACE) && !ref_range_free(p, at, len))
			return -MMSIM_EEXIST;
	}
	if (file) {
		if (type != MMSIM_MAP_SHARED && type != MMSIM_MAP_SHARED_VALIDATE &&
		    type != MMSIM_MAP_PRIVATE)
			return -MMSIM_EINVAL;
		shared = type != MMSIM_MAP_PRIVATE;
	} else {
		if (type != MMSIM_MAP_SHARED && type != MMSIM_MAP_PRIVATE)
			return -MMSIM_EINVAL;
		shared = type == MMSIM_MAP_SHARED;
	}
	if (any) {
		if (!placement_ok(p, actual, len))
			return REF_BAD_PLACEMENT;
		at = actual;
	}
	unmap_range(p, at, at + len);

	memset(&v, 0, sizeof(v));
	v.start = at;
	v.end = at + len;
	v.prot = prot;
	v.shared = shared;
	v.priv = xcalloc(len / PG, sizeof(*v.priv));
	if (file) {
		v.obj = obj_get(file);
		v.pgoff = pgoff;
	} else if (shared) {
		/* shmem_zero_setup: a private shmem file exactly len long. */
		v.obj = obj_new(len);
		v.pgoff = 0;
	}
	vma_insert(p, &v);
	if ((flags & MMSIM_MAP_POPULATE) && (prot & MMSIM_PROT_WRITE))
		populate_write_private(&p->vmas[vma_index(p, at)], at, at + len);
	return at;
}

int ref_munmap(struct ref_proc *p, uint64_t addr, uint64_t len)
{
	if (PG_OFF(addr) || addr > REF_TASK_SIZE || len > REF_TASK_SIZE - addr)
		return -MMSIM_EINVAL;
	len = PG_ALIGN(len);
	if (!len)
		return -MMSIM_EINVAL;
	unmap_range(p, addr, addr + len);
	return 0;
}

int ref_mprotect(struct ref_proc *p, uint64_t addr, uint64_t len, int prot)
{
	const int known = MMSIM_PROT_READ | MMSIM_PROT_WRITE | MMSIM_PROT_EXEC | 0x8;
	uint64_t end, cur;
	int grows = prot & (MMSIM_PROT_GROWSDOWN | MMSIM_PROT_GROWSUP);
	int i;

	prot &= ~(MMSIM_PROT_GROWSDOWN | MMSIM_PROT_GROWSUP);
	if (grows == (MMSIM_PROT_GROWSDOWN | MMSIM_PROT_GROWSUP))
		return -MMSIM_EINVAL;
	if (PG_OFF(addr))
		return -MMSIM_EINVAL;
	if (!len)
		return 0;
	len = PG_ALIGN(len);
	end = addr + len;
	if (end <= addr)
		return -MMSIM_ENOMEM;
	/* arch_validate_prot; BTI and MTE are left out of the model. */
	if (prot & ~known)
		return -MMSIM_EINVAL;
	i = vma_after(p, addr);
	if (i < 0 || p->vmas[i].start >= end || p->vmas[i].start > addr)
		return -MMSIM_ENOMEM;
	/*
	 * VMAs are changed in address order; a hole stops the walk with
	 * -ENOMEM and what was changed before the hole stays changed.
	 */
	split_at(p, addr);
	split_at(p, end);
	cur = addr;
	while (cur < end) {
		i = vma_index(p, cur);
		if (i < 0)
			return -MMSIM_ENOMEM;
		p->vmas[i].prot = prot;
		cur = p->vmas[i].end;
	}
	return 0;
}

static bool advice_known(int advice)
{
	switch (advice) {
	case MMSIM_MADV_NORMAL:
	case MMSIM_MADV_RANDOM:
	case MMSIM_MADV_SEQUENTIAL:
	case MMSIM_MADV_WILLNEED:
	case MMSIM_MADV_DONTNEED:
	case MMSIM_MADV_DONTFORK:
	case MMSIM_MADV_DOFORK:
	case MMSIM_MADV_WIPEONFORK:
	case MMSIM_MADV_KEEPONFORK:
	case MMSIM_MADV_POPULATE_READ:
	case MMSIM_MADV_POPULATE_WRITE:
	case MMSIM_MADV_COLD:
	case MMSIM_MADV_PAGEOUT:
		return true;
	}
	return false;
}

/*
 * MADV_POPULATE_*: GUP over the range in order.  A hole is -ENOMEM, a VMA
 * without the needed permission -EINVAL, a page that would SIGBUS -EFAULT;
 * pages before the failing one stay populated.
 */
static int madvise_populate(struct ref_proc *p, uint64_t start, uint64_t end, bool write)
{
	for (uint64_t va = start; va < end; va += PG) {
		int i = vma_index(p, va);
		struct ref_vma *v;
		uint64_t pi;

		if (i < 0)
			return -MMSIM_ENOMEM;
		v = &p->vmas[i];
		if (!(v->prot & (write ? MMSIM_PROT_WRITE : MMSIM_PROT_READ)))
			return -MMSIM_EINVAL;
		pi = (va - v->start) / PG;
		if (v->obj && !v->priv[pi] && v->pgoff + pi >= obj_npages(v->obj))
			return -MMSIM_EFAULT;
		if (write)
			populate_write_private(v, va, va + PG);
	}
	return 0;
}

/* One VMA-sized piece [from, to) of a madvise walk. */
static int madvise_vma(struct ref_proc *p, uint64_t from, uint64_t to, int advice)
{
	struct ref_vma *v = &p->vmas[vma_index(p, from)];

	switch (advice) {
	case MMSIM_MADV_DONTNEED:
		/*
		 * Zaps the page tables: private copies go (anon reads zeros,
		 * a private file mapping reads the file again); shared memory
		 * keeps its data in the object.
		 */
		for (uint64_t va = from; va < to; va += PG) {
			uint64_t pi = (va - v->start) / PG;

			page_put(v->priv[pi]);
			v->priv[pi] = NULL;
		}
		return 0;
	case MMSIM_MADV_WIPEONFORK:
		/* Only for private anonymous memory (shmem has a vm_file). */
		if (v->obj || v->shared)
			return -MMSIM_EINVAL;
		break;
	case MMSIM_MADV_DONTFORK:
	case MMSIM_MADV_DOFORK:
	case MMSIM_MADV_KEEPONFORK:
		break;
	default:
		/*
		 * WILLNEED, COLD, PAGEOUT: hints about residency.  A page
		 * swapped out or left cold reads what it held, so nothing a
		 * process can see changes (and no VMA is split).
		 */
		return 0;
	}
	split_at(p, from);
	split_at(p, to);
	v = &p->vmas[vma_index(p, from)];
	if (advice == MMSIM_MADV_WIPEONFORK)
		v->wipeonfork = true;
	else if (advice == MMSIM_MADV_KEEPONFORK)
		v->wipeonfork = false;
	else
		v->dontfork = advice == MMSIM_MADV_DONTFORK;
	return 0;
}

int ref_madvise(struct ref_proc *p, uint64_t start, uint64_t len_in, int advice)
{
	uint64_t len, end, cur;
	int unmapped = 0;

	if (!advice_known(advice))
		return -MMSIM_EINVAL;
	if (PG_OFF(start))
		return -MMSIM_EINVAL;
	len = PG_ALIGN(len_in);
	if (len_in && !len)
		return -MMSIM_EINVAL;
	end = start + len;
	if (end < start)
		return -MMSIM_EINVAL;
	if (end == start)
		return 0;
	if (advice == MMSIM_MADV_POPULATE_READ || advice == MMSIM_MADV_POPULATE_WRITE)
		return madvise_populate(p, start, end, advice == MMSIM_MADV_POPULATE_WRITE);

	/*
	 * Every mapped piece of the range is advised; a hole anywhere makes
	 * the result -ENOMEM, but an error from a piece stops the walk there.
	 */
	cur = start;
	for (;;) {
		int i = vma_after(p, cur);
		uint64_t to;
		int err;

		if (i < 0)
			return -MMSIM_ENOMEM;
		if (cur < p->vmas[i].start) {
			unmapped = -MMSIM_ENOMEM;
			cur = p->vmas[i].start;
			if (cur >= end)
				break;
		}
		to = p->vmas[i].end < end ? p->vmas[i].end : end;
		err = madvise_vma(p, cur, to, advice);
		if (err)
			return err;
		cur = to;
		if (cur >= end)
			break;
	}
	return unmapped;
}

/*
 * Moves [old, old+old_len), which lies in one mapping, to dst with new_len
 * bytes: the page contents travel with the mapping, a grown tail is new.
 */
static void move_vma(struct ref_proc *p, uint64_t old, uint64_t old_len, uint64_t new_len,
		     uint64_t dst, bool dontunmap)
{
	struct ref_vma *s, d;
	uint64_t keep = (old_len < new_len ? old_len : new_len) / PG;
	int i;

	split_at(p, old);
	split_at(p, old + old_len);
	i = vma_index(p, old);
	s = &p->vmas[i];
	d = *s;
	d.start = dst;
	d.end = dst + new_len;
	d.priv = xcalloc(new_len / PG, sizeof(*d.priv));
	memcpy(d.priv, s->priv, keep * sizeof(*d.priv));
	obj_get(d.obj);
	if (dontunmap) {
		/* The old range stays mapped but its pages went with the move. */
		memset(s->priv, 0, keep * sizeof(*s->priv));
	} else {
		for (uint64_t j = keep; j < vma_pages(s); j++)
			page_put(s->priv[j]);
		free(s->priv);
		obj_put(s->obj);
		vma_remove(p, i);
	}
	vma_insert(p, &d);
}

int64_t ref_mremap(struct ref_proc *p, uint64_t old, uint64_t old_len, uint64_t new_len,
		   int flags, uint64_t new_addr, int64_t actual)
{
	const int known = MMSIM_MREMAP_MAYMOVE | MMSIM_MREMAP_FIXED | MMSIM_MREMAP_DONTUNMAP;
	bool dontunmap = flags & MMSIM_MREMAP_DONTUNMAP;
	const struct ref_vma *v;
	uint64_t dst;

	if (flags & ~known)
		return -MMSIM_EINVAL;
	if ((flags & MMSIM_MREMAP_FIXED) && !(flags & MMSIM_MREMAP_MAYMOVE))
		return -MMSIM_EINVAL;
	if (dontunmap && (!(flags & MMSIM_MREMAP_MAYMOVE) || old_len != new_len))
		return -MMSIM_EINVAL;
	if (PG_OFF(old))
		return -MMSIM_EINVAL;
	old_len = PG_ALIGN(old_len);
	new_len = PG_ALIGN(new_len);
	if (!new_len)
		return -MMSIM_EINVAL;
	v = ref_find_vma(p, old);
	if (!v)
		return -MMSIM_EFAULT;

	if (flags & (MMSIM_MREMAP_FIXED | MMSIM_MREMAP_DONTUNMAP)) {
		if (PG_OFF(new_addr))
			return -MMSIM_EINVAL;
		if (new_len > REF_TASK_SIZE || new_addr > REF_TASK_SIZE - new_len)
			return -MMSIM_EINVAL;
		if (old + old_len > new_addr && new_addr + new_len > old)
			return -MMSIM_EINVAL;
		if (flags & MMSIM_MREMAP_FIXED)
			unmap_range(p, new_addr, new_addr + new_len);
		if (old_len > new_len) {
			unmap_range(p, old + new_len, old + old_len);
			old_len = new_len;
		}
		v = ref_find_vma(p, old);
		if (!v || old_len > v->end - old)
			return -MMSIM_EFAULT;
		if (flags & MMSIM_MREMAP_FIXED) {
			dst = new_addr;
		} else if (new_addr >= REF_MIN_ADDR && ref_range_free(p, new_addr, new_len)) {
			dst = new_addr;		/* a free hint is honoured */
		} else {
			if (!placement_ok(p, actual, new_len))
				return REF_BAD_PLACEMENT;
			dst = actual;
		}
		move_vma(p, old, old_len, new_len, dst, dontunmap);
		return dst;
	}

	/* Shrinking always works: it only unmaps the tail. */
	if (old_len >= new_len) {
		if (old_len > new_len)
			unmap_range(p, old + new_len, old + old_len);
		return old;
	}
	if (old_len > v->end - old)
		return -MMSIM_EFAULT;
	/* Grow in place when the range ends the VMA and the space above is free. */
	if (old + old_len == v->end && new_len - old_len <= REF_TASK_SIZE - v->end &&
	    ref_range_free(p, v->end, new_len - old_len)) {
		int i = vma_index(p, old);
		struct ref_vma *w = &p->vmas[i];
		uint64_t n0 = vma_pages(w), n1 = n0 + (new_len - old_len) / PG;

		w->priv = xrealloc(w->priv, n1 * sizeof(*w->priv));
		memset(w->priv + n0, 0, (n1 - n0) * sizeof(*w->priv));
		w->end += new_len - old_len;
		return old;
	}
	if (!(flags & MMSIM_MREMAP_MAYMOVE))
		return -MMSIM_ENOMEM;
	if (!placement_ok(p, actual, new_len))
		return REF_BAD_PLACEMENT;
	move_vma(p, old, old_len, new_len, actual, false);
	return actual;
}

/* ------------------------------------------------------------------ report */

int ref_describe(const struct ref_proc *p, char *buf, int len)
{
	int n = 0;

	n += snprintf(buf + n, len > n ? len - n : 0, "proc %d:", p->id);
	for (int i = 0; i < p->nr_vmas && n < len; i++) {
		const struct ref_vma *v = &p->vmas[i];
		uint64_t written = 0;

		for (uint64_t j = 0; j < vma_pages(v); j++)
			written += v->priv[j] != NULL;
		n += snprintf(buf + n, len > n ? len - n : 0,
			      " [%#" PRIx64 "-%#" PRIx64 " %c%c%c%s%s%s",
			      v->start, v->end,
			      v->prot & MMSIM_PROT_READ ? 'r' : '-',
			      v->prot & MMSIM_PROT_WRITE ? 'w' : '-',
			      v->shared ? 's' : 'p',
			      v->obj ? " obj" : "",
			      v->dontfork ? " dontfork" : "",
			      v->wipeonfork ? " wipeonfork" : "");
		if (v->obj)
			n += snprintf(buf + n, len > n ? len - n : 0,
				      "@%#" PRIx64 "/size %#" PRIx64, v->pgoff,
				      v->obj->size);
		n += snprintf(buf + n, len > n ? len - n : 0, " priv %" PRIu64 "]", written);
	}
	return n;
}
