// SPDX-License-Identifier: MIT
/*
 * mm/gup.c - pin_user_pages(): what a driver doing DMA holds on user memory.
 *
 * A pin faults the range in (for write when FOLL_WRITE; otherwise it still
 * "unshares" an anonymous page that other processes may see, as Linux does
 * for FOLL_PIN, so the pinned page stays the one this process maps), then
 * takes a reference and a pin count on each page.  A pinned page is never
 * migrated, and fork copies it at once instead of sharing it.
 * mmsim_pin_read() reads the pinned frames directly, like a device would,
 * whatever the process does to its mappings afterwards.
 */
#include <stdlib.h>

#include "mm/internal.h"
#include "mm/vma.h"

struct mmsim_pin {
	struct mmsim_machine *machine;
	struct list_head node;          /* machine->pins                         */
	uint64_t offset;                /* of the start in the first page        */
	uint64_t len;
	uint64_t nr;
	struct page **pages;
};

/*
 * folio_is_longterm_pinnable - CMA, METADATA and ISOLATE pageblocks must be
 * free to give their pages back, so a FOLL_LONGTERM pin never lands there
 * (§2.8): the page is migrated to a GFP_USER page first.
 */
static bool page_longterm_pinnable(struct mmsim_machine *m, struct page *p)
{
	int mt = get_pageblock_migratetype(m, page_to_pfn(m, p));

	return mt != MIGRATE_CMA && mt != MIGRATE_METADATA && mt != MIGRATE_ISOLATE;
}

/* The page at addr once faulted in as GUP wants it; NULL with *err set. */
static struct page *gup_one(struct mmsim_task *t, uint64_t addr, bool write, int *err)
{
	struct vm_area_struct *vma = vma_lookup(t->mm, addr);
	struct page *p;

	if (!vma) {
		*err = -MMSIM_EFAULT;
		return NULL;
	}
	for (int tries = 0; tries < 3; tries++) {
		pteval_t pte = follow_pte_value(t->mm, addr);

		if (pte_valid(pte) && (!write || pte_write(pte))) {
			/* A PMD-mapped THP is exclusive as a whole: its head says so. */
			bool pmd_mapped = !pte_offset(t->mm, addr);

			p = vm_normal_page(vma, addr, pte);
			/* Unshare: never pin the zero page or a COW-shared anon page. */
			if (p && (!PageAnon(p) || (p->flags & PG_anon_exclusive) ||
				  (pmd_mapped && (compound_head(p)->flags & PG_anon_exclusive))))
				return p;
			if (!(vma->vm_flags & VM_WRITE) && !p) {
				*err = -MMSIM_EFAULT;
				return NULL;
			}
		}
		if ((*err = populate_range(t, addr, addr + PAGE_SIZE,
					   write || (vma->vm_flags & VM_WRITE && is_cow_mapping(vma->vm_flags)))))
			return NULL;
	}
	*err = -MMSIM_EFAULT;
	return NULL;
}

void mmsim_unpin(struct mmsim_pin *pin)
{
	KERNEL_ENTRY(pin ? pin->machine : NULL, NULL, false);
	if (!pin)
		return;
	for (uint64_t i = 0; i < pin->nr; i++) {
		pin->pages[i]->pincount--;
		mod_node_page_state(&pin->machine->nodes[pin->pages[i]->nid], NR_FOLL_PIN_RELEASED, 1);
		put_page(pin->machine, pin->pages[i]);
	}
	list_del(&pin->node);
	free(pin->pages);
	free(pin);
}

int mmsim_pin(struct mmsim_task *t, uint64_t addr, uint64_t len, unsigned int flags,
	      struct mmsim_pin **out)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	const unsigned int known = MMSIM_FOLL_WRITE | MMSIM_FOLL_LONGTERM | MMSIM_FOLL_PIN |
				   MMSIM_FOLL_FORCE | MMSIM_FOLL_GET;
	uint64_t start, end;
	struct mmsim_pin *pin;
	int err;

	if ((err = task_check_alive(t)))
		return err;
	if (!out)
		return seterr(-MMSIM_EINVAL, "mmsim_pin: out is NULL");
	if (flags & ~known)
		return seterr(-MMSIM_EINVAL, "mmsim_pin: unknown FOLL flags 0x%x", flags & ~known);
	start = untagged_addr(addr) & PAGE_MASK;
	end = PAGE_ALIGN(untagged_addr(addr) + len);
	if (!len || end <= start || end > TASK_SIZE)
		return seterr(-MMSIM_EINVAL, "mmsim_pin: bad range 0x%llx+%llu", (unsigned long long)addr,
			      (unsigned long long)len);
	pin = calloc(1, sizeof(*pin));
	if (pin)
		pin->pages = calloc((end - start) >> PAGE_SHIFT, sizeof(*pin->pages));
	if (!pin || !pin->pages) {
		free(pin);
		return seterr(-MMSIM_ENOMEM, "mmsim_pin: out of host memory");
	}
	pin->machine = t->machine;
	pin->offset = untagged_addr(addr) & ~PAGE_MASK;
	pin->len = len;
	list_add_tail(&pin->node, &t->machine->pins);
	for (uint64_t a = start; a < end; a += PAGE_SIZE) {
		struct page *p = gup_one(t, a, flags & MMSIM_FOLL_WRITE, &err);

		if (p && (flags & MMSIM_FOLL_LONGTERM) && !page_longterm_pinnable(t->machine, p)) {
			migrate_page_to_node(t->machine, p, p->nid, GFP_USER);
			p = gup_one(t, a, flags & MMSIM_FOLL_WRITE, &err);
			if (p && !page_longterm_pinnable(t->machine, p)) {
				p = NULL;
				err = -MMSIM_ENOMEM;
			}
		}
		if (!p) {
			mmsim_unpin(pin);
			return seterr(err, "mmsim_pin: cannot pin 0x%llx", (unsigned long long)a);
		}
		get_page(p);
		p->pincount++;
		mod_node_page_state(&t->machine->nodes[p->nid], NR_FOLL_PIN_ACQUIRED, 1);
		pin->pages[pin->nr++] = p;
	}
	*out = pin;
	return 0;
}

int mmsim_pin_read(struct mmsim_pin *pin, uint64_t off, void *dst, uint64_t len)
{
	KERNEL_ENTRY(pin ? pin->machine : NULL, NULL, false);
	if (!pin || (!dst && len))
		return seterr(-MMSIM_EINVAL, "mmsim_pin_read: %s is NULL", pin ? "dst" : "pin");
	if (off > pin->len || len > pin->len - off)
		return seterr(-MMSIM_EINVAL, "mmsim_pin_read: [%llu, +%llu) is outside the %llu pinned bytes",
			      (unsigned long long)off, (unsigned long long)len, (unsigned long long)pin->len);
	for (uint64_t done = 0; done < len;) {
		uint64_t pos = pin->offset + off + done, chunk = PAGE_SIZE - (pos & ~PAGE_MASK);

		if (chunk > len - done)
			chunk = len - done;
		memcpy((uint8_t *)dst + done,
		       page_address(pin->machine, pin->pages[pos >> PAGE_SHIFT]) + (pos & ~PAGE_MASK), chunk);
		done += chunk;
	}
	return 0;
}

void pins_free_all(struct mmsim_machine *m)
{
	while (!list_empty(&m->pins))
		mmsim_unpin(list_first_entry(&m->pins, struct mmsim_pin, node));
}
