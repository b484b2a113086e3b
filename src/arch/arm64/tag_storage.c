// SPDX-License-Identifier: MIT
/*
 * arch/arm64/tag_storage.c - dynamic tag storage: reserving tag blocks for
 * tagged allocations (spec §3), giving them back (§3.6), and the
 * fault-on-access handler for PAGE_METADATA_NONE entries (§4.4, §7.1).
 *
 * A tag block is block_size consecutive tag-storage pages.  It is reserved
 * when its pages have been taken out of the allocator by alloc_contig_range
 * (migrating whatever data lived there); the model marks each of them
 * PG_tag_block, which stands for the seed's tag_blocks_reserved xarray.  The
 * block's users are counted in its first page's refcount:
 *
 *     refcount(head) = 1 + sum over live reserved allocations using the block
 *                          of min(2^order, 32 * block_size)
 *
 * and the block goes back to the allocator when that sum reaches zero.
 * mmsim_check() recomputes the sum from the pages and compares (I2).
 *
 * The code follows the seed as written, including order_to_num_blocks'
 * over-reservation for block_size > 1 (§3.5, §6.6 #5); mte_fixes=on
 * reserves exactly the blocks an allocation needs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "mm/fault_on_access.h"
#include "mm/internal.h"

#define RESERVE_TRIES 5
#define MIGRATE_TRIES 5

/* WARN_ONCE bits in m->mte.warned_once (bit 0, 1 are mte.c's). */
#define WARN_MISSING_BLOCK   (1ULL << 2)
#define WARN_NOT_TAGGED      (1ULL << 3)
#define WARN_NOT_RESERVED    (1ULL << 4)
#define WARN_NOT_PREEMPTIBLE (1ULL << 5)

static void warn_once(struct mmsim_machine *m, uint64_t bit, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* WARN_ONCE: the first time only, into the kernel log. */
static void warn_once(struct mmsim_machine *m, uint64_t bit, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (m->mte.warned_once & bit)
		return;
	m->mte.warned_once |= bit;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printk(m, "%s", line);
}

bool page_tag_storage_reserved(const struct page *p)
{
	return p->flags & PG_tag_storage_reserved;
}

static bool block_reserved(struct mmsim_machine *m, uint64_t block)
{
	return pfn_to_page(m, block)->flags & PG_tag_block;
}

/*
 * Where frame pfn is in the kernel's linear map (arm64's __va, 48-bit VAs:
 * PAGE_OFFSET plus the offset from memstart_addr, the start of DRAM rounded
 * down to 1 GiB).  The model never dereferences it: cache maintenance
 * records name their ranges with it, as the instructions do.
 */
#define ARM64_PAGE_OFFSET 0xffff000000000000ULL

static uint64_t linear_map_va(struct mmsim_machine *m, uint64_t pfn)
{
	uint64_t memstart = (m->min_pfn << PAGE_SHIFT) & ~((1ULL << 30) - 1);

	return ARM64_PAGE_OFFSET + (pfn << PAGE_SHIFT) - memstart;
}

/* The blocks an allocation of 2^order pages at the found block uses. */
static void block_range(struct mmsim_machine *m, const struct tag_region *r, unsigned int order,
			uint64_t *nblocks, int *inc)
{
	uint64_t pages = 1ULL << order, per_block = 32ULL * r->block_size;

	if (m->mte.fixed)
		*nblocks = (pages + per_block - 1) / per_block;
	else
		*nblocks = pages / 32 ? pages / 32 : 1;	/* order_to_num_blocks, as written */
	*inc = (int)(pages < per_block ? pages : per_block);
}

static int tag_storage_type(struct mmsim_machine *m)
{
	return m->mte.policy == TS_POLICY_CMA ? MIGRATE_CMA : MIGRATE_METADATA;
}

/*
 * Take block's pages out of the allocator: alloc_contig_range, 5 tries on
 * -EBUSY.  An injected failure (fail_tag_storage_reserve) stands for
 * alloc_contig_range finding no memory to migrate the block's data to.
 */
static int tag_storage_take_block(struct mmsim_machine *m, uint64_t block, unsigned int bs)
{
	int ret = -MMSIM_EBUSY;

	if (should_fail(m, &m->mte.fail_reserve, bs))
		return -MMSIM_ENOMEM;
	for (int tries = 0; tries < RESERVE_TRIES && ret == -MMSIM_EBUSY; tries++)
		ret = alloc_contig_range(m, block, block + bs, tag_storage_type(m));
	return ret;
}

/* The block now holds tags: drop stale data lines, mark it reserved (§3.7). */
static void tag_storage_reserve_block(struct mmsim_machine *m, uint64_t block, unsigned int bs, int inc)
{
	uint64_t va = linear_map_va(m, block);

	charge_ns(m, m->costs[COST_TAG_RESERVE] * bs);
	TRACE(m, "mte:dcache_inval_poc", (int)smp_processor_id(m), -1, va, block, 0,
	      "block=0x%llx pages=%u start=0x%llx end=0x%llx", (unsigned long long)block, bs,
	      (unsigned long long)va, (unsigned long long)(va + ((uint64_t)bs << PAGE_SHIFT)));
	for (unsigned int i = 0; i < bs; i++)
		pfn_to_page(m, block + i)->flags |= PG_tag_block;
	pfn_to_page(m, block)->refcount += inc;
	count_vm_events(m, METADATA_RESERVE_SUCCESS, bs);
	TRACE(m, "mte:tag_block_reserve", (int)smp_processor_id(m), -1, 0, block, 0, "block=0x%llx refcount=%d",
	      (unsigned long long)block, pfn_to_page(m, block)->refcount);
}

/* Drop a use of block; the last one gives the block back to the allocator. */
static bool tag_storage_put_block(struct mmsim_machine *m, uint64_t block, unsigned int bs, int inc)
{
	struct page *head = pfn_to_page(m, block);

	head->refcount -= inc;
	if (head->refcount != 1)
		return false;
	for (unsigned int i = 0; i < bs; i++)
		pfn_to_page(m, block + i)->flags &= ~PG_tag_block;
	free_contig_range(m, block, bs);
	return true;
}

/*
 * preemptible(), as far as reservation is concerned: this context holds no
 * zone->lock (a spinlock; in a run of task bodies it also disables
 * preemption, kernel/sched.h).
 */
static bool preemptible(struct mmsim_machine *m)
{
	struct sched_thread *me = sched_current ? sched_current : LOCK_NO_THREAD;

	for (unsigned int n = 0; n < m->nr_nodes; n++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++)
			if (m->nodes[n].node_zones[zi].lock.owner == me)
				return false;
	return true;
}

/*
 * reserve_metadata_storage - make sure the tag blocks of the 2^order pages at
 * page are reserved (§3.4).  Returns 0 (also when no block covers the page,
 * and when a fatal signal interrupted it, as the seed does) or -errno.
 */
int reserve_metadata_storage(struct mmsim_machine *m, struct page *page, unsigned int order,
			     unsigned int gfp)
{
	uint64_t pfn = page_to_pfn(m, page), block, nblocks;
	const struct tag_region *r;
	bool existed[64];
	int inc, ret = 0;
	unsigned int bs;
	bool isolate_was;
	struct mmsim_task *cur = get_current(m);

	(void)gfp;
	/*
	 * Reservation sleeps (alloc_contig_range migrates): the seed's
	 * VM_WARN_ON_ONCE(!preemptible()), which compaction's reservation
	 * under the zone lock trips (§2.6.5, race R10, §8.3 item 60).
	 */
	if (!preemptible(m))
		warn_once(m, WARN_NOT_PREEMPTIBLE,
			  "WARNING: CPU: %u PID: %d at arch/arm64/kernel/mte_tag_storage.c reserve_metadata_storage: VM_WARN_ON_ONCE(!preemptible())",
			  smp_processor_id(m), cur ? cur->pid : 0);
	if (!m->mte.storage_enabled)
		return 0;
	if (tag_storage_find_block(m, pfn, &block, &r)) {
		warn_once(m, WARN_MISSING_BLOCK, "WARNING: Missing tag storage block for pfn 0x%llx",
			  (unsigned long long)pfn);
		/*
		 * §6.6 #6: as written the pages stay unreserved, so set_pte_at
		 * maps them METADATA_NONE at every fault; fixed, memory no
		 * region covers needs no storage (its tags are not in the
		 * carve-out) and counts as reserved.
		 */
		if (m->mte.fixed)
			for (uint64_t i = 0; i < (1ULL << order); i++)
				page[i].flags |= PG_tag_storage_reserved;
		return 0;
	}
	bs = r->block_size;
	block_range(m, r, order, &nblocks, &inc);
	if (nblocks > 64)
		nblocks = 64;
	mutex_lock(&m->mte.tag_blocks_lock);
	/* R5: check again under the mutex: a concurrent fault may have reserved. */
	if ((page->flags & PG_tag_storage_reserved) && !MTE_FIX_OFF(m, 5)) {
		mutex_unlock(&m->mte.tag_blocks_lock);
		return 0;
	}
	/* R7: pin the blocks already reserved, so a concurrent free cannot drop them. */
	spin_lock(&m->mte.xa_lock);
	for (uint64_t i = 0; i < nblocks; i++) {
		existed[i] = block_reserved(m, block + i * bs);
		if (existed[i] && !MTE_FIX_OFF(m, 7))
			pfn_to_page(m, block + i * bs)->refcount += inc;
	}
	spin_unlock(&m->mte.xa_lock);
	/* Blocks pinned, new ones not yet taken: a concurrent free may run here. */
	sched_point("reserve_metadata_storage: blocks pinned");
	if (m->mte.reserve_hook)
		m->mte.reserve_hook(m, m->mte.reserve_hook_ctx);
	if (MTE_FIX_OFF(m, 7))
		for (uint64_t i = 0; i < nblocks; i++)
			if (existed[i])	/* decided before the hook: the block may be gone */
				pfn_to_page(m, block + i * bs)->refcount += inc;
	isolate_was = cur && cur->memalloc_isolate;
	if (cur && !MTE_FIX_OFF(m, 9))	/* R9: PF_MEMALLOC_ISOLATE while blocks are taken */
		cur->memalloc_isolate = true;
	for (uint64_t i = 0; i < nblocks; i++) {
		uint64_t b = block + i * bs;

		if (existed[i])
			continue;
		ret = tag_storage_take_block(m, b, bs);
		if (ret == -MMSIM_EINTR) {
			ret = 0;
			goto out_error;
		}
		/* R11: without the fix a block that stayed busy (pinned) is taken anyway. */
		if (ret && !MTE_FIX_OFF(m, 11))
			goto out_error;
		tag_storage_reserve_block(m, b, bs, inc);
	}
	for (uint64_t i = 0; i < (1ULL << order); i++)
		page[i].flags |= PG_tag_storage_reserved;
	if (cur)
		cur->memalloc_isolate = isolate_was;
	mutex_unlock(&m->mte.tag_blocks_lock);
	return 0;

out_error:
	for (uint64_t i = 0; i < nblocks; i++) {
		uint64_t b = block + i * bs;

		if (block_reserved(m, b))
			tag_storage_put_block(m, b, bs, inc);
	}
	if (cur)
		cur->memalloc_isolate = isolate_was;
	mutex_unlock(&m->mte.tag_blocks_lock);
	count_vm_events(m, METADATA_RESERVE_FAIL, bs);
	TRACE(m, "mte:tag_block_reserve_fail", (int)smp_processor_id(m), -1, 0, pfn, order, "pfn=0x%llx ret=%d",
	      (unsigned long long)pfn, ret);
	return ret;
}

/*
 * free_metadata_storage - the tagged allocation at page is being freed:
 * invalidate its tag cache lines, drop pfn-saved tags, release its share of
 * each block (§3.6).
 */
void free_metadata_storage(struct mmsim_machine *m, struct page *page, unsigned int order)
{
	uint64_t pfn = page_to_pfn(m, page), block, nblocks;
	const struct tag_region *r;
	int inc;

	if (!(page->flags & (m->mte.fixed ? PG_tag_storage_reserved : PG_mte_tagged))) {
		warn_once(m, WARN_NOT_TAGGED, "WARNING: pfn 0x%llx is not tagged", (unsigned long long)pfn);
		return;
	}
	if (tag_storage_find_block(m, pfn, &block, &r)) {
		warn_once(m, WARN_MISSING_BLOCK, "WARNING: Missing tag storage block for pfn 0x%llx",
			  (unsigned long long)pfn);
		return;
	}
	TRACE(m, "mte:dcache_inval_tags_poc", (int)smp_processor_id(m), -1, linear_map_va(m, pfn), pfn, order,
	      "pfn=0x%llx pages=%llu start=0x%llx end=0x%llx", (unsigned long long)pfn, 1ULL << order,
	      (unsigned long long)linear_map_va(m, pfn),
	      (unsigned long long)(linear_map_va(m, pfn) + (PAGE_SIZE << order)));
	/* Tags saved for these frames are stale now: erased before any block goes. */
	for (uint64_t i = 0; i < (1ULL << order); i++)
		if (tagbuf_erase(&m->mte.tags_by_pfn, pfn + i, NULL))
			TRACE(m, "mte:erase_page_tags_by_pfn", (int)smp_processor_id(m), -1, 0, pfn + i, 0,
			      "pfn=0x%llx", (unsigned long long)(pfn + i));
	block_range(m, r, order, &nblocks, &inc);
	spin_lock(&m->mte.xa_lock);
	for (uint64_t i = 0; i < nblocks; i++) {
		uint64_t b = block + i * r->block_size;

		if (!block_reserved(m, b)) {
			warn_once(m, WARN_NOT_RESERVED, "WARNING: Block 0x%llx is not reserved for pfn 0x%llx",
				  (unsigned long long)b, (unsigned long long)pfn);
			continue;
		}
		if (tag_storage_put_block(m, b, r->block_size, inc)) {
			count_vm_events(m, METADATA_RESERVE_FREE, r->block_size);
			TRACE(m, "mte:tag_block_free", (int)smp_processor_id(m), -1, 0, b, 0, "block=0x%llx",
			      (unsigned long long)b);
		}
	}
	spin_unlock(&m->mte.xa_lock);
}

/*
 * tag_storage_split_folio - a reserved compound page of 2^order pages is
 * being split into order-0 pages, each of which gives back its own share
 * when freed (one per page, on its own block).  The order-N reservation
 * holds exactly those shares except where order_to_num_blocks, as written,
 * over-reserves (block_size > 1, §6.6 #5): the blocks no page of the folio
 * names give their shares back now.
 */
void tag_storage_split_folio(struct mmsim_machine *m, struct page *head, unsigned int order)
{
	uint64_t pfn = page_to_pfn(m, head), block, nblocks;
	const struct tag_region *r;
	int inc;

	if (!m->mte.storage_enabled || !(head->flags & PG_tag_storage_reserved) || !order)
		return;
	if (tag_storage_find_block(m, pfn, &block, &r))
		return;
	block_range(m, r, order, &nblocks, &inc);
	for (uint64_t i = 0; i < nblocks; i++) {
		uint64_t b = block + i * r->block_size, pb;
		int after = 0;

		for (uint64_t j = 0; j < (1ULL << order); j++)
			if (!tag_storage_find_block(m, pfn + j, &pb, NULL) && pb == b)
				after++;
		if (after == inc || !block_reserved(m, b))
			continue;
		if (after > inc) {
			pfn_to_page(m, b)->refcount += after - inc;
		} else if (tag_storage_put_block(m, b, r->block_size, inc - after)) {
			count_vm_events(m, METADATA_RESERVE_FREE, r->block_size);
			TRACE(m, "mte:tag_block_free", (int)smp_processor_id(m), -1, 0, b, 0, "block=0x%llx",
			      (unsigned long long)b);
		}
	}
}

/* ------------------------------------------------- fault on access (§4.4) */

/* The arm64 predicate: a protnone PTE carrying the METADATA_NONE bit. */
bool arch_fault_on_access_pte(struct mmsim_machine *m, pteval_t pte)
{
	return m->mte.storage_enabled && pte_metadata_none(pte);
}

bool arch_fault_on_access_pmd(struct mmsim_machine *m, pteval_t pmd)
{
	return m->mte.storage_enabled && pte_metadata_none(pmd);
}

/*
 * migrate_metadata_none_page - move page to a new page allocated tagged (so
 * reserved, never tag storage), up to 5 tries on -EBUSY/-EAGAIN (§4.5).
 * Each try is one migrate_pages(MIGRATE_SYNC, MR_METADATA_NONE) call, and
 * traced as its mm_migrate_pages_start.  Drops the caller's reference.
 */
static void migrate_metadata_none_page(struct mmsim_machine *m, struct page *page)
{
	uint64_t pfn = page_to_pfn(m, page);
	int err = -MMSIM_EAGAIN;

	put_page(m, page);	/* isolation holds its own: migration counts only the mappings' */
	for (int tries = 0; tries < MIGRATE_TRIES && (err == -MMSIM_EAGAIN || err == -MMSIM_EBUSY); tries++) {
		TRACE(m, "migrate:mm_migrate_pages_start", (int)smp_processor_id(m), -1, 0, pfn, 0,
		      "mode=MIGRATE_SYNC reason=metadata_none");
		err = migrate_page_to_node(m, page, -1, GFP_HIGHUSER_MOVABLE | __GFP_TAGGED);
	}
}

/* Ask the fault to be replayed, with the lock obligations of the contract. */
static vm_fault_t fault_retry(struct vm_fault *vmf)
{
	if (!(vmf->flags & FAULT_FLAG_RETRY_NOWAIT))
		release_fault_lock(vmf);
	return VM_FAULT_RETRY;
}

/*
 * arch_handle_folio_fault_on_access - a METADATA_NONE entry was accessed: the
 * page needs reserved tag storage before it may be mapped tagged.  Reserve
 * it (and let the generic code remap), or migrate the page to one that has
 * storage (the migration remaps), or ask for a retry.  Called with the fault
 * lock held and a reference on page, which it drops.
 */
vm_fault_t arch_handle_folio_fault_on_access(struct page *page, struct vm_fault *vmf, bool *map_pte)
{
	struct mmsim_machine *m = vmf->mm->machine;
	uint64_t pfn = page_to_pfn(m, page);
	int mt = get_pageblock_migratetype(m, pfn), ret;

	*map_pte = false;
	if (!(vmf->vma->vm_flags & VM_MTE)) {
		put_page(m, page);
		*map_pte = true;
		return 0;
	}
	if (mt == MIGRATE_ISOLATE && !MTE_FIX_OFF(m, 6)) {	/* R6: isolated tag storage is still tag storage */
		/* Being isolated for migration: as written the retry is lost (§6.6 #2). */
		put_page(m, page);
		if (m->mte.fixed && !(vmf->flags & FAULT_FLAG_TRIED))
			return fault_retry(vmf);
		return 0;
	}
	if (mt == MIGRATE_METADATA) {
		/* Tag storage can never be tagged: move the data off it. */
		migrate_metadata_none_page(m, page);
		trace_fault(vmf, "metadata-none-migrate");
		return 0;
	}
	/*
	 * A page of a THP (PTE-mapped): the folio is reserved as a whole, so
	 * its pages are always reserved together and freed with one share.
	 */
	ret = reserve_metadata_storage(m, compound_head(page), compound_order(page), GFP_HIGHUSER_MOVABLE);
	if (ret == -MMSIM_EINTR) {
		put_page(m, page);
		return fault_retry(vmf);
	}
	if (ret) {
		if (tagbuf_load(&m->mte.tags_by_pfn, pfn)) {
			/* Its saved tags cannot follow a migration yet (seed TODO). */
			put_page(m, page);
			if (vmf->flags & FAULT_FLAG_TRIED)
				return VM_FAULT_OOM;
			return fault_retry(vmf);
		}
		migrate_metadata_none_page(m, page);
		trace_fault(vmf, "metadata-none-migrate");
		return 0;
	}
	put_page(m, page);
	*map_pte = true;
	trace_fault(vmf, "metadata-none-reserved");
	return 0;
}

/* ---------------------------------------------------------- invariants */

struct mte_report {
	char *buf;
	size_t len, off;
	int problems;
};

static void mte_problem(struct mte_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mte_problem(struct mte_report *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->problems++ >= 16 || !r->buf || r->off + 2 >= r->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->off, r->len - r->off - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	r->off += (size_t)n < r->len - r->off - 1 ? (size_t)n : r->len - r->off - 2;
	r->buf[r->off++] = '\n';
	r->buf[r->off] = '\0';
}

/* Add the shares of one reserved allocation to the expected block counts. */
static void expect_shares(struct mmsim_machine *m, struct mte_report *rep, int64_t **expected,
			  uint64_t pfn, unsigned int order)
{
	const struct tag_region *r;
	uint64_t block, nblocks;
	int inc;

	if (tag_storage_find_block(m, pfn, &block, &r))
		return;
	block_range(m, r, order, &nblocks, &inc);
	for (uint64_t i = 0; i < nblocks; i++) {
		uint64_t b = block + i * r->block_size;

		if (b + r->block_size - 1 > r->tag_end) {
			mte_problem(rep, "mte: pfn 0x%llx reserves block 0x%llx past its region",
				    (unsigned long long)pfn, (unsigned long long)b);
			continue;
		}
		expected[r - m->mte.regions][(b - r->tag_start) / r->block_size] += inc;
	}
}

/*
 * mte_check - the tag storage invariants of §3.12: no tag write reached
 * unreserved storage; I1 tagged => reserved; I2 a block is reserved exactly
 * when live allocations use it, with refcount 1 + their shares; I3 no
 * METADATA page is tagged.  Also that the fail_tag_storage_reserve
 * attributes are in the range the command line allows.  Appends findings to
 * buf; returns their number.
 */
int mte_check(struct mmsim_machine *m, char *buf, size_t len)
{
	struct mte_report rep = { buf, len, buf ? strlen(buf) : 0, 0 };
	int64_t *expected[MAX_TAG_REGIONS] = { 0 };

	if (!fault_attr_valid(&m->mte.fail_reserve))
		mte_problem(&rep, "mte: fail_tag_storage_reserve has probability %lu, space %ld, times %ld: out of range",
			    m->mte.fail_reserve.probability, m->mte.fail_reserve.space, m->mte.fail_reserve.times);
	if (m->mte.bad_tag_writes)
		mte_problem(&rep, "mte: %llu tag writes landed in tag storage that was not reserved (first for pfn 0x%llx)",
			    (unsigned long long)m->mte.bad_tag_writes, (unsigned long long)m->mte.first_bad_tag_pfn);
	for (unsigned int i = 0; i < m->mte.nr_regions; i++) {
		const struct tag_region *r = &m->mte.regions[i];

		expected[i] = calloc((r->tag_end - r->tag_start + 1) / r->block_size + 1, sizeof(int64_t));
		if (!expected[i])
			goto out;
	}
	for (unsigned int u = 0; u < m->nr_usable; u++)
		for (uint64_t pfn = m->usable[u].start; pfn < m->usable[u].end; pfn++) {
			struct page *p = pfn_to_page(m, pfn);
			const struct tag_region *reg;
			uint64_t blk;
			int mt;

			if (p->flags & PG_buddy) {
				pfn += (1ULL << p->order) - 1;
				continue;
			}
			if (p->refcount <= 0 || (p->flags & PG_tail))
				continue;
			mt = get_pageblock_migratetype(m, pfn);
			if ((p->flags & PG_mte_tagged) && (mt == MIGRATE_METADATA))
				mte_problem(&rep, "mte: pfn 0x%llx is tag storage (METADATA) and tagged (I3)",
					    (unsigned long long)pfn);
			if (m->mte.storage_enabled && (p->flags & PG_mte_tagged) &&
			    !(p->flags & PG_tag_storage_reserved) && !tag_storage_find_block(m, pfn, &blk, &reg))
				mte_problem(&rep, "mte: pfn 0x%llx is tagged without reserved tag storage (I1)",
					    (unsigned long long)pfn);
			if (m->mte.storage_enabled && (p->flags & PG_tag_storage_reserved))
				expect_shares(m, &rep, expected, pfn, (p->flags & PG_head) ? p->order : 0);
		}
	for (unsigned int i = 0; i < m->mte.nr_regions; i++) {
		const struct tag_region *r = &m->mte.regions[i];

		for (uint64_t b = r->tag_start, k = 0; b + r->block_size - 1 <= r->tag_end; b += r->block_size, k++) {
			struct page *head = pfn_to_page(m, b);
			bool reserved = head->flags & PG_tag_block;

			if (reserved != (expected[i][k] > 0))
				mte_problem(&rep, "mte: tag block 0x%llx is %sreserved but %lld allocations' shares use it (I2)",
					    (unsigned long long)b, reserved ? "" : "not ",
					    (long long)expected[i][k]);
			else if (reserved && head->refcount != 1 + expected[i][k])
				mte_problem(&rep, "mte: tag block 0x%llx has refcount %d, its users' shares say %lld (I2)",
					    (unsigned long long)b, head->refcount, (long long)(1 + expected[i][k]));
			for (unsigned int j = 0; reserved && j < r->block_size; j++) {
				struct page *tp = pfn_to_page(m, b + j);

				if (!(tp->flags & PG_tag_block) || tp->refcount < 1)
					mte_problem(&rep, "mte: tag page 0x%llx of reserved block 0x%llx is not held",
						    (unsigned long long)(b + j), (unsigned long long)b);
			}
		}
	}
out:
	for (unsigned int i = 0; i < m->mte.nr_regions; i++)
		free(expected[i]);
	return rep.problems;
}
