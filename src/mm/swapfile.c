// SPDX-License-Identifier: MIT
/*
 * mm/swapfile.c - the swap device: slots, their counts, I/O, and swap-in.
 *
 * Design (see also mm/swap.h):
 *  - One device, type 0, of swap_bytes / 4096 pages; page 0 is the header,
 *    so SwapTotal is one page less than the device, as after mkswap+swapon.
 *  - Slot allocation takes the lowest free slot (si->lowest_bit is a hint
 *    below which every slot is taken).  Linux spreads slots over per-CPU
 *    clusters for SSD friendliness; the lowest-free rule keeps the offsets a
 *    run produces predictable, which is what tests and pagemap readers want.
 *  - swap_map counts references as Linux does (PTEs, fork copies, plus
 *    SWAP_HAS_CACHE).  When the count of a slot drops to 0 while a page is
 *    still in the swap cache, that page leaves the cache at once and the
 *    slot is freed: Linux keeps such a page cached until swap is half full
 *    (vm_swap_full) to save a rewrite, the model frees it early so a
 *    swapped-in page is an ordinary anonymous page again (movable, reusable
 *    on write) and SwapFree comes back as soon as nothing needs the slot.
 *  - A file device is created if missing (and then unlinked at exit), or an
 *    existing file is resized and reused (and kept at exit), like a swap
 *    file named on the command line.  I/O is pread/pwrite; an error is
 *    logged, counted and turned into a failed write (the page stays in the
 *    swap cache, as after Linux's end_swap_bio_write error) or SIGBUS on
 *    swap-in (Linux's !uptodate folio).
 *  - Shmem pages are not swapped yet: reclaim skips them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mm/swap.h"

/* ------------------------------------------------------------- helpers */

static void *map_zeroed(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void unmap_buf(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}

/* The slot behind a device entry, or NULL when e names no live slot. */
static uint32_t *slot_of(struct mmsim_machine *m, swp_entry_t e)
{
	struct swap_info_struct *si = m->swap;
	uint64_t off = swp_offset(e);

	if (!swap_device(m) || swp_type(e) != si->type || off == 0 || off >= si->max)
		return NULL;
	return &si->swap_map[off];
}

/*
 * mkswap's header in page 0: version 1, last_page, no bad pages, and the
 * "SWAPSPACE2" signature in the last ten bytes.  Fields are little endian.
 */
static void make_header(uint8_t *page, uint64_t max)
{
	uint32_t version = 1, last_page = (uint32_t)(max - 1);

	memset(page, 0, PAGE_SIZE);
	for (int i = 0; i < 4; i++) {
		page[1024 + i] = (uint8_t)(version >> (8 * i));
		page[1028 + i] = (uint8_t)(last_page >> (8 * i));
	}
	memcpy(page + PAGE_SIZE - 10, "SWAPSPACE2", 10);
}

/* ------------------------------------------------------------ the device */

static void swap_info_free(struct mmsim_machine *m, struct swap_info_struct *si)
{
	unmap_buf(si->swap_map, si->map_bytes);
	unmap_buf(si->swap_cache, si->cache_bytes);
	unmap_buf(si->mem, si->mem_bytes);
	if (si->fd >= 0) {
		close(si->fd);
		if (si->created)
			unlink(si->path);
	}
	free(si->path);
	(void)m;
	free(si);
}

/* Open (or create) the backing file and size it; -errno with the reason set. */
static int swap_open_file(struct swap_info_struct *si, const char *path, uint64_t bytes)
{
	uint8_t header[PAGE_SIZE];
	int err;

	si->path = strdup(path);
	if (!si->path)
		return seterr(-MMSIM_ENOMEM, "swap: out of host memory");
	si->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (si->fd >= 0) {
		si->created = true;
	} else if (errno == EEXIST) {
		si->fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (si->fd < 0) {
		err = errno;
		return seterr(-err, "swap: cannot open swap file %s: %s", path, strerror(err));
	}
	if (ftruncate(si->fd, (off_t)bytes) != 0) {
		err = errno;
		return seterr(-err, "swap: cannot size swap file %s to %llu bytes: %s", path,
			      (unsigned long long)bytes, strerror(err));
	}
	make_header(header, si->max);
	if (pwrite(si->fd, header, PAGE_SIZE, 0) != (ssize_t)PAGE_SIZE) {
		err = errno ? errno : EIO;
		return seterr(-err, "swap: cannot write the header of swap file %s: %s", path, strerror(err));
	}
	return 0;
}

/*
 * swap_init - boot's swapon.  Always allocates m->swap (it also holds the
 * LRU lists); bytes > 0 adds a device of bytes / 4096 pages, in host
 * memory (path NULL) or in the file at path.  Returns 0 or -errno with
 * the reason set (the file name and the errno text for file errors).
 */
int swap_init(struct mmsim_machine *m, uint64_t bytes, const char *path)
{
	struct swap_info_struct *si = calloc(1, sizeof(*si));
	uint64_t max = bytes >> PAGE_SHIFT;
	int err;

	if (!si)
		return seterr(-MMSIM_ENOMEM, "swap: out of host memory");
	si->fd = -1;
	for (unsigned int n = 0; n < MAX_NUMNODES; n++) {
		INIT_LIST_HEAD(&si->lruvec[n].inactive_anon);
		si->lruvec[n].lru_lock = (spinlock_t)SPINLOCK_INIT("lru_lock");
	}
	if (!bytes && path) {
		free(si);
		return seterr(-MMSIM_EINVAL, "swap: swap_path %s given but swap_bytes is 0", path);
	}
	if (bytes) {
		if (max < 2) {
			free(si);
			return seterr(-MMSIM_EINVAL, "swap: swap_bytes %llu is below two pages (the header and one slot)",
				      (unsigned long long)bytes);
		}
		if (max > (1ULL << 32)) {
			free(si);
			return seterr(-MMSIM_EINVAL, "swap: swap_bytes %llu is above 16 TiB, the largest device "
				      "the model keeps", (unsigned long long)bytes);
		}
		si->max = max;
		si->pages = max - 1;
		si->lowest_bit = 1;
		si->map_bytes = max * sizeof(*si->swap_map);
		si->cache_bytes = max * sizeof(*si->swap_cache);
		si->swap_map = map_zeroed(si->map_bytes);
		si->swap_cache = map_zeroed(si->cache_bytes);
		if (!si->swap_map || !si->swap_cache) {
			swap_info_free(m, si);
			return seterr(-MMSIM_ENOMEM, "swap: no host memory for the map of %llu swap slots",
				      (unsigned long long)max);
		}
		if (path) {
			err = swap_open_file(si, path, max << PAGE_SHIFT);
			if (err) {
				swap_info_free(m, si);
				return err;
			}
		} else {
			si->mem_bytes = max << PAGE_SHIFT;
			si->mem = map_zeroed(si->mem_bytes);
			if (!si->mem) {
				swap_info_free(m, si);
				return seterr(-MMSIM_ENOMEM, "swap: no host memory for a %llu-byte swap device",
					      (unsigned long long)si->mem_bytes);
			}
			make_header(si->mem, max);
		}
	}
	m->swap = si;
	if (si->max)
		pr_info(m, "Adding %lluk swap on %s.  Priority:-2 extents:1 across:%lluk",
			(unsigned long long)(si->pages << (PAGE_SHIFT - 10)), path ? path : "(memory)",
			(unsigned long long)(si->pages << (PAGE_SHIFT - 10)));
	return 0;
}

/*
 * swap_exit - swapoff at machine destruction.  Every task is gone by now,
 * so no PTE refers to a slot; whatever the LRU still lists is unlinked so
 * a later free does not follow pointers into the freed lists.
 */
void swap_exit(struct mmsim_machine *m)
{
	struct swap_info_struct *si = m->swap;

	if (!si)
		return;
	if (si->max)
		arch_swap_invalidate_area(m, si->type);
	for (unsigned int n = 0; n < MAX_NUMNODES; n++) {
		struct list_head *head = &si->lruvec[n].inactive_anon;

		while (!list_empty(head)) {
			struct list_head *e = head->next;

			list_del(e);
			INIT_LIST_HEAD(e);
		}
	}
	m->swap = NULL;
	swap_info_free(m, si);
}

/* ------------------------------------------------------------- slots */

/* Give slot off back: no PTE and no cached page refer to it any more. */
static void swap_entry_free(struct mmsim_machine *m, uint64_t off)
{
	struct swap_info_struct *si = m->swap;

	si->swap_map[off] = 0;
	si->inuse_pages--;
	if (off < si->lowest_bit)
		si->lowest_bit = off;
	arch_swap_invalidate_page(m, si->type, off);
}

/*
 * get_swap_page - allocate the lowest free slot, marked SWAP_HAS_CACHE for
 * the page about to enter the swap cache.  Returns the entry, or val 0 when
 * there is no device or it is full.
 */
swp_entry_t get_swap_page(struct mmsim_machine *m)
{
	struct swap_info_struct *si = m->swap;

	if (!swap_device(m) || si->inuse_pages >= si->pages)
		return (swp_entry_t){ 0 };
	for (uint64_t off = si->lowest_bit; off < si->max; off++) {
		if (si->swap_map[off])
			continue;
		si->swap_map[off] = SWAP_HAS_CACHE;
		si->inuse_pages++;
		si->lowest_bit = off + 1;
		return swp_entry(si->type, off);
	}
	return (swp_entry_t){ 0 };
}

/* The number of swap PTEs (fork copies included) referring to e's slot. */
unsigned int swap_count(struct mmsim_machine *m, swp_entry_t e)
{
	uint32_t *s = slot_of(m, e);

	return s ? *s & SWAP_COUNT_MASK : 0;
}

/* One more swap PTE refers to e (reclaim's unmap, or fork's copy). */
void swap_duplicate(struct mmsim_machine *m, swp_entry_t e)
{
	uint32_t *s = slot_of(m, e);

	if (s && *s)
		(*s)++;
}

/*
 * The slot's count reached zero: a page still cached for it is now plain
 * anonymous memory (or garbage) and leaves the cache, which frees the slot.
 */
static void swap_slot_unused(struct mmsim_machine *m, uint64_t off)
{
	struct swap_info_struct *si = m->swap;

	if (si->swap_map[off] & SWAP_HAS_CACHE) {
		struct page *p = swap_cache_get_folio(m, swp_entry(si->type, off));

		if (p) {
			delete_from_swap_cache(m, p);
			return;
		}
	}
	swap_entry_free(m, off);
}

/* A swap PTE referring to e is gone (swap-in mapped the page, or a zap). */
void swap_free(struct mmsim_machine *m, swp_entry_t e)
{
	uint32_t *s = slot_of(m, e);

	if (!s || !(*s & SWAP_COUNT_MASK)) {
		printk(m, "swap_free: Bad swap file entry %016llx", (unsigned long long)e.val);
		return;
	}
	if (--(*s) == 0 || *s == SWAP_HAS_CACHE)
		swap_slot_unused(m, swp_offset(e));
}

/* zap_pte of a swap PTE: drop its reference, and the cached page with the last. */
void free_swap_and_cache(struct mmsim_machine *m, swp_entry_t e)
{
	swap_free(m, e);
}

/* Swap-in is about to cache a page for e: mark the slot SWAP_HAS_CACHE. */
int swapcache_prepare(struct mmsim_machine *m, swp_entry_t e)
{
	uint32_t *s = slot_of(m, e);

	if (!s || !(*s & SWAP_COUNT_MASK))
		return -MMSIM_ENOENT;
	if (*s & SWAP_HAS_CACHE)
		return -MMSIM_EEXIST;
	*s |= SWAP_HAS_CACHE;
	return 0;
}

/* The page cached for e left the swap cache: free the slot if nothing else uses it. */
void put_swap_folio(struct mmsim_machine *m, swp_entry_t e)
{
	uint32_t *s = slot_of(m, e);

	if (!s)
		return;
	*s &= ~SWAP_HAS_CACHE;
	if (*s == 0)
		swap_entry_free(m, swp_offset(e));
}

/* ----------------------------------------------------------------- I/O */

/*
 * swap_io - move page p to (write) or from its slot in page->private, in
 * host memory or the swap file.  0, or -EIO with the device error logged.
 */
static int swap_io(struct mmsim_machine *m, struct page *p, bool write)
{
	struct swap_info_struct *si = m->swap;
	uint64_t off = swp_offset((swp_entry_t){ p->private });
	uint8_t *buf = page_address(m, p);
	ssize_t done;

	if (si->mem) {
		if (write)
			memcpy(si->mem + (off << PAGE_SHIFT), buf, PAGE_SIZE);
		else
			memcpy(buf, si->mem + (off << PAGE_SHIFT), PAGE_SIZE);
	} else {
		done = write ? pwrite(si->fd, buf, PAGE_SIZE, (off_t)(off << PAGE_SHIFT))
			     : pread(si->fd, buf, PAGE_SIZE, (off_t)(off << PAGE_SHIFT));
		if (done != (ssize_t)PAGE_SIZE) {
			si->io_errors++;
			printk(m, "%s-error on swap-device (%s, offset %llu): %s", write ? "Write" : "Read",
			       si->path, (unsigned long long)off, strerror(errno ? errno : EIO));
			return -MMSIM_EIO;
		}
	}
	charge(m, COST_COPY_PAGE);
	count_vm_event(m, write ? PSWPOUT : PSWPIN);
	TRACE(m, write ? "swap:swap_writepage" : "swap:swap_readpage", (int)smp_processor_id(m), -1, 0,
	      page_to_pfn(m, p), 0, "pfn=0x%llx offset=%llu", (unsigned long long)page_to_pfn(m, p),
	      (unsigned long long)off);
	return 0;
}

/* Write p to the slot in page->private (swap_writepage); 0 or -EIO. */
int swap_writepage(struct mmsim_machine *m, struct page *p)
{
	return swap_io(m, p, true);
}

/* Read the slot in page->private into p (swap_readpage); 0 or -EIO. */
int swap_readpage(struct mmsim_machine *m, struct page *p)
{
	return swap_io(m, p, false);
}

/* ------------------------------------------------------------- swap-in */

/*
 * Map p, which holds the data of the swap PTE being faulted, at vmf's
 * address.  Exclusive pages map writable on a write fault (no COW needed:
 * nobody else can see the page); others map read-only and a write then
 * takes the ordinary COW path on the retried access.  The caller's
 * reference becomes the mapping's.
 */
static void swapin_map(struct vm_fault *vmf, struct page *p, bool exclusive)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mmsim_machine *m = vmf->mm->machine;
	pteval_t pte = pfn_pte(page_to_pfn(m, p), vma->vm_page_prot);

	if (exclusive && (vmf->flags & FAULT_FLAG_WRITE) && (vma->vm_flags & VM_WRITE))
		pte = pte_mkwrite(pte_mkdirty(pte));
	if (p->mapcount == 0) {
		folio_add_new_anon_rmap(p, vma, vmf->address);
		if (!exclusive)
			p->flags &= ~PG_anon_exclusive;
	} else {
		page_dup_rmap(m, p);
	}
	vmf->mm->rss[MM_ANONPAGES]++;
	vmf->mm->rss[MM_SWAPENTS]--;
	set_pte_at(vmf->mm, vmf->address, vmf->pte, pte_mkyoung(pte));
}

/*
 * A cached page can be mapped here only if the rmap would find it here:
 * unmapped, or mapped through this VMA's anon_vma at the same index.
 */
static bool swapcache_page_fits(struct vm_fault *vmf, struct page *p)
{
	return p->mapcount == 0 ||
	       (page_anon_vma(p) == vmf->vma->anon_vma && p->index == linear_page_index(vmf->vma, vmf->address));
}

/*
 * do_swap_page_swapin - the PTE holds entry, a slot of the swap device.
 * Finds the page in the swap cache or reads it into a new page (a major
 * fault), restores its MTE tags, maps it and drops the PTE's reference on
 * the slot.  Returns 0, VM_FAULT_MAJOR, or an error (SIGBUS for an entry
 * that names no slot or an I/O error, OOM when no page can be had).
 */
vm_fault_t do_swap_page_swapin(struct vm_fault *vmf, swp_entry_t entry)
{
	struct mmsim_machine *m = vmf->mm->machine;
	struct vm_area_struct *vma = vmf->vma;
	bool exclusive = vmf->orig_pte & PTE_SWP_EXCLUSIVE;
	vm_fault_t ret = 0;
	struct page *p;
	int err;

	if (!swap_count(m, entry)) {
		printk(m, "do_swap_page: Bad swap file entry %016llx at 0x%llx",
		       (unsigned long long)entry.val, (unsigned long long)vmf->address);
		return VM_FAULT_SIGBUS;
	}
	if (anon_vma_prepare(vmf->mm, vma))
		return VM_FAULT_OOM;
	p = swap_cache_get_folio(m, entry);
	if (p) {
		get_page(p);
		trace_fault(vmf, "swap-cache");
	} else {
		int nid = policy_node(vmf->task, vma, vmf->address);
		gfp_t gfp = GFP_HIGHUSER_MOVABLE | ((vma->vm_flags & VM_MTE) ? __GFP_TAGGED : 0);

		p = alloc_pages_node(m, nid, gfp, 0);
		if (!p)
			return VM_FAULT_OOM;
		/* Direct reclaim inside the allocation may have cached it meanwhile. */
		if (swap_cache_get_folio(m, entry) || swapcache_prepare(m, entry)) {
			put_page(m, p);
			return 0;	/* retry the access: it will find the cached page */
		}
		lru_add(m, p);
		p->flags |= PG_swapbacked;
		add_to_swap_cache(m, p, entry);
		if (swap_readpage(m, p)) {
			/* Leave the slot as it was; the access ends in SIGBUS. */
			delete_from_swap_cache(m, p);
			put_page(m, p);
			return VM_FAULT_SIGBUS;
		}
		p->flags |= PG_uptodate;
		ret = VM_FAULT_MAJOR;
		trace_fault(vmf, "swap-in");
	}
	/*
	 * §5.3: with dynamic tag storage and no reservation, tags go by pfn.
	 * If that copy cannot be made, the page stays in the swap cache and
	 * the PTE keeps the entry, so the access faults again.  As written the
	 * seed returns the whole VM_FAULT_ERROR mask (§6.6 #12); fixed, the
	 * errno's own code (VM_FAULT_OOM for -ENOMEM).  arm64 handles both as
	 * OOM, which for a failure outside the page allocator means: retry.
	 */
	err = arch_swap_prepare_to_restore(m, entry, p);
	if (err) {
		put_page(m, p);
		return m->mte.fixed ? vmf_error(err) : VM_FAULT_ERROR;
	}
	if (!swapcache_page_fits(vmf, p)) {
		/* Mapped through another anon_vma: give this mapping its own copy. */
		struct page *copy = alloc_pages_node(m, policy_node(vmf->task, vma, vmf->address),
						     GFP_HIGHUSER_MOVABLE | ((vma->vm_flags & VM_MTE) ? __GFP_TAGGED : 0), 0);

		if (!copy) {
			put_page(m, p);
			return VM_FAULT_OOM;
		}
		lru_add(m, copy);
		copy_user_highpage(m, copy, p);
		put_page(m, p);
		swap_free(m, entry);
		swapin_map(vmf, copy, true);
		return ret;
	}
	/* Tags are keyed by the entry: restore them before the slot can go. */
	arch_swap_restore(m, entry, p);
	swap_free(m, entry);
	/* Not cached any more and mapped nowhere else: it is ours alone. */
	if (!(p->flags & PG_swapcache) && p->mapcount == 0 && p->refcount == 1)
		exclusive = true;
	swapin_map(vmf, p, exclusive);
	return ret;
}

/* ----------------------------------------------------------------- fork */

/*
 * copy_swap_pte - fork copies a swap PTE: the slot gains a reference, the
 * child a swap entry, and the entry is no longer exclusive in either (the
 * data is now shared until one side writes it).  Returns the PTE for the
 * child.
 */
pteval_t copy_swap_pte(struct mm_struct *dst_mm, pteval_t *src_pte)
{
	pteval_t pte = *src_pte;

	swap_duplicate(dst_mm->machine, pte_to_swp_entry(pte));
	if (pte & PTE_SWP_EXCLUSIVE) {
		pte &= ~PTE_SWP_EXCLUSIVE;
		*src_pte = pte;
	}
	dst_mm->rss[MM_SWAPENTS]++;
	return pte;
}

/* ---------------------------------------------------------------- check */

struct swap_checker {
	struct mmsim_machine *m;
	char *out;
	size_t len, off;
	int problems;
	uint32_t *refs;                 /* swap PTEs found per slot               */
	int64_t entries;                /* in the mm being walked                 */
};

static void swap_problem(struct swap_checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void swap_problem(struct swap_checker *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->problems++ >= 16 || !c->out || c->off + 2 >= c->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(c->out + c->off, c->len - c->off, fmt, ap);
	va_end(ap);
	c->off = n < 0 ? c->off : c->off + (size_t)n;
	if (c->off + 1 < c->len) {
		c->out[c->off++] = '\n';
		c->out[c->off] = '\0';
	} else {
		c->off = c->len;
	}
}

static int check_swap_pte(pteval_t *ptep, uint64_t addr, struct mm_walk *walk)
{
	struct swap_checker *c = walk->private;
	pteval_t pte = *ptep;
	swp_entry_t e;

	if (pte_none(pte) || pte_present(pte))
		return 0;
	e = pte_to_swp_entry(pte);
	if (!is_swap_device_entry(e))
		return 0;
	c->entries++;
	if (!slot_of(c->m, e)) {
		swap_problem(c, "mm %llu 0x%llx: swap PTE 0x%llx names no slot of a swap device",
			     (unsigned long long)walk->mm->id, (unsigned long long)addr, (unsigned long long)pte);
		return 0;
	}
	c->refs[swp_offset(e)]++;
	return 0;
}

/*
 * swap_check - mmsim_check()'s swap part.  Every slot's count equals the
 * swap PTEs naming it; SWAP_HAS_CACHE is set exactly for slots with a
 * cached page, which points back at the slot; no slot is held by nothing;
 * the in-use and cache totals match; each mm's MM_SWAPENTS equals its swap
 * PTEs; a saved tag buffer exists only for a live slot.  Appends one line
 * per problem to buf and returns how many there were.
 */
int swap_check(struct mmsim_machine *m, char *buf, size_t len)
{
	static const struct mm_walk_ops ops = { .pte_entry = check_swap_pte };
	struct swap_checker c = { .m = m, .out = buf, .len = len };
	struct swap_info_struct *si = m->swap;
	struct list_head *pos;
	uint64_t inuse = 0, cached = 0;
	int64_t node_cached[MAX_NUMNODES] = { 0 };

	if (buf && len)
		buf[0] = '\0';
	if (!si)
		return 0;
	if (si->max) {
		c.refs = map_zeroed(si->max * sizeof(uint32_t));
		if (!c.refs) {
			swap_problem(&c, "swap: no host memory to check %llu slots", (unsigned long long)si->max);
			return c.problems;
		}
	}
	list_for_each(pos, &m->mms) {
		struct mm_struct *mm = list_entry(pos, struct mm_struct, mm_list);

		c.entries = 0;
		if (c.refs)
			for (int i = 0; i < mm->nr_vmas; i++)
				walk_page_range(mm, mm->vmas[i], mm->vmas[i]->vm_start, mm->vmas[i]->vm_end, &ops, &c);
		if (c.entries != mm->rss[MM_SWAPENTS])
			swap_problem(&c, "mm %llu: MM_SWAPENTS is %lld but the tables hold %lld swap entries",
				     (unsigned long long)mm->id, (long long)mm->rss[MM_SWAPENTS], (long long)c.entries);
	}
	for (uint64_t off = 1; off < si->max; off++) {
		uint32_t v = si->swap_map[off];
		uint64_t slot = si->swap_cache[off];

		if (!v && !slot)
			continue;
		inuse += v != 0;
		if ((v & SWAP_COUNT_MASK) != c.refs[off])
			swap_problem(&c, "swap slot %llu: count %u but %u swap PTEs name it", (unsigned long long)off,
				     v & SWAP_COUNT_MASK, c.refs[off]);
		if (!!(v & SWAP_HAS_CACHE) != !!slot)
			swap_problem(&c, "swap slot %llu: SWAP_HAS_CACHE is %d but the cache %s a page",
				     (unsigned long long)off, !!(v & SWAP_HAS_CACHE), slot ? "holds" : "has no");
		/* A cached page leaves the cache when the last PTE lets go of its slot. */
		if (v == SWAP_HAS_CACHE)
			swap_problem(&c, "swap slot %llu: held only by its cached page", (unsigned long long)off);
		if (slot) {
			struct page *p;

			cached++;
			if (!pfn_valid(m, slot - 1)) {
				swap_problem(&c, "swap slot %llu: cached pfn 0x%llx outside RAM", (unsigned long long)off,
					     (unsigned long long)(slot - 1));
				continue;
			}
			p = pfn_to_page(m, slot - 1);
			node_cached[p->nid]++;
			if (!(p->flags & PG_swapcache) || p->private != swp_entry(si->type, off).val || p->refcount < 1)
				swap_problem(&c, "swap slot %llu: cached pfn 0x%llx has swapcache=%d private=0x%llx ref %d",
					     (unsigned long long)off, (unsigned long long)(slot - 1),
					     !!(p->flags & PG_swapcache), (unsigned long long)p->private, p->refcount);
		}
	}
	if (inuse != si->inuse_pages)
		swap_problem(&c, "swap: %llu slots in use but inuse_pages is %llu", (unsigned long long)inuse,
			     (unsigned long long)si->inuse_pages);
	if (cached != si->nr_cached)
		swap_problem(&c, "swap: %llu cached pages but nr_cached is %llu", (unsigned long long)cached,
			     (unsigned long long)si->nr_cached);
	for (unsigned int n = 0; n < m->nr_nodes; n++)
		if (m->nodes[n].vm_stat[NR_SWAPCACHE] != node_cached[n])
			swap_problem(&c, "node %u: nr_swapcached %lld but %lld pages are in the swap cache", n,
				     (long long)m->nodes[n].vm_stat[NR_SWAPCACHE], (long long)node_cached[n]);
	/* Saved tags: only for slots that still hold data. */
	{
		struct tagbuf_map *tm = &m->mte.tags_by_swp_entry;

		for (uint64_t i = 0; i < tm->cap; i++) {
			swp_entry_t e;

			if (!tm->keys[i])
				continue;
			e.val = tm->keys[i] - 1;
			if (!slot_of(m, e) || !*slot_of(m, e))
				swap_problem(&c, "tags_by_swp_entry holds tags for %016llx, which is not a live slot",
					     (unsigned long long)e.val);
		}
	}
	if (c.refs)
		unmap_buf(c.refs, si->max * sizeof(uint32_t));
	return c.problems;
}
