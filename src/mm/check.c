// SPDX-License-Identifier: MIT
/*
 * mm/check.c - mmsim_check(): every invariant the model keeps, checked from
 * the structures themselves rather than from the code that maintains them.
 *
 *  1. Free lists: each block is PG_buddy, of its list's order, aligned, in
 *     its list's zone, on the list of its pageblocks' type; the counts and
 *     NR_FREE_PAGES add up.  pcp lists likewise.
 *  2. Frames: every managed frame is free (buddy, pcp) or in use; the total
 *     is the managed count; no page was freed in a bad state.
 *  3. Page tables: every non-empty PTE lies inside a VMA; a present one maps
 *     an in-use frame (or the zero page, special); mapcounts equal the PTEs
 *     found; refcounts cover mappings, page cache and pins; rmap data
 *     (anon_vma, index) lets the rmap walk find each mapping; table pages
 *     are PG_table and counted.  A huge PMD lies inside one VMA, maps an
 *     aligned in-use THP (or the huge zero page, read-only) and has its PTE
 *     table deposited; a THP's entire_mapcount equals the PMDs found, its
 *     pages' mapcounts the PTEs, its head's refcount covers both, and all
 *     its pages share one anon_vma, consecutive indices and one tag storage
 *     reservation state.
 *  4. Sharing: a writable PTE to an anonymous page requires the page to be
 *     exclusive, and an exclusive page is mapped at most once - so no frame
 *     is writable from two address spaces unless it is shared memory.  A
 *     private mapping never maps a page-cache page writable.
 *  5. TLBs: every entry belongs to a live ASID and grants no more than the
 *     page tables grant now.
 *  6. VMAs: sorted, disjoint, aligned, linked on their anon_vma and inode.
 *  7. Counters: rss per mm, anon/file/shmem/pagetable/LRU per node.
 *  8. Compaction (compaction_check): nothing isolated or captured between
 *     runs, isolation counters, scanner positions, deferral, kcompactd.
 *
 * It costs time proportional to the memory in use (free blocks are skipped
 * whole), so tests can afford it after every step.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "mm/compaction.h"
#include "mm/swap.h"

#define MAX_PROBLEMS 24

struct checker {
	struct mmsim_machine *m;
	char *out;
	size_t len, off;
	int problems;
	uint32_t *maps;                 /* PTEs found per frame                   */
	uint32_t *migration_refs;       /* migration entries per frame            */
	uint32_t *pmd_maps;             /* huge PMDs found per THP head frame     */
	int64_t node_anon[MAX_NUMNODES], node_file[MAX_NUMNODES], node_tables[MAX_NUMNODES];
	int64_t node_lru[MAX_NUMNODES], node_thps[MAX_NUMNODES];
	bool idle;                      /* no run in progress: every lock must be free */
};

static void problem(struct checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct checker *c, const char *fmt, ...)
{
	va_list ap;

	if (c->problems++ >= MAX_PROBLEMS || !c->out || c->off + 2 >= c->len)
		return;
	va_start(ap, fmt);
	c->off += (size_t)vsnprintf(c->out + c->off, c->len - c->off, fmt, ap);
	va_end(ap);
	if (c->off + 1 < c->len) {
		c->out[c->off++] = '\n';
		c->out[c->off] = '\0';
	} else {
		c->off = c->len;
	}
}

#define PFN(c, p) ((unsigned long long)page_to_pfn((c)->m, (p)))

/* ------------------------------------------------------------ free lists */

static void check_zone_lists(struct checker *c, struct zone *z)
{
	struct mmsim_machine *m = c->m;
	int64_t free_pages = 0;

	for (int o = 0; o < NR_PAGE_ORDERS; o++) {
		uint64_t blocks = 0;

		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			struct list_head *pos, *head = &z->free_area[o].free_list[mt];
			uint64_t guard = 0;

			list_for_each(pos, head) {
				struct page *p = list_entry(pos, struct page, lru);
				uint64_t pfn = page_to_pfn(m, p);

				if (++guard > z->spanned_pages + 1) {
					problem(c, "zone %s order %d type %d: free list is cyclic", z->name, o, mt);
					break;
				}
				blocks++;
				if (mt != MIGRATE_ISOLATE)
					free_pages += 1L << o;
				if (!(p->flags & PG_buddy) || p->order != o || p->refcount)
					problem(c, "pfn 0x%llx on %s order-%d list: buddy=%d order=%d refcount=%d",
						PFN(c, p), z->name, o, !!(p->flags & PG_buddy), p->order, p->refcount);
				if (pfn & ((1ULL << o) - 1))
					problem(c, "pfn 0x%llx: order-%d block not aligned", PFN(c, p), o);
				if (page_zone(m, p) != z)
					problem(c, "pfn 0x%llx: on zone %s's list but belongs elsewhere", PFN(c, p), z->name);
				else if (get_pageblock_migratetype(m, pfn) != mt)
					problem(c, "pfn 0x%llx: on type-%d list but its pageblock is type %d",
						PFN(c, p), mt, get_pageblock_migratetype(m, pfn));
			}
		}
		if (blocks != z->free_area[o].nr_free)
			problem(c, "zone %s order %d: nr_free %llu but %llu blocks listed", z->name, o,
				(unsigned long long)z->free_area[o].nr_free, (unsigned long long)blocks);
	}
	{
		int64_t meta = 0;

		for (int o = 0; o < NR_PAGE_ORDERS; o++) {
			struct list_head *pos;

			list_for_each(pos, &z->free_area[o].free_list[MIGRATE_METADATA])
				meta += 1L << o;
		}
		if (meta != z->vm_stat[NR_FREE_METADATA_PAGES])
			problem(c, "zone %s: nr_free_metadata %lld but the METADATA lists hold %lld (I5)", z->name,
				(long long)z->vm_stat[NR_FREE_METADATA_PAGES], (long long)meta);
	}
	if (free_pages != z->vm_stat[NR_FREE_PAGES])
		problem(c, "zone %s: NR_FREE_PAGES %lld but the lists hold %lld", z->name,
			(long long)z->vm_stat[NR_FREE_PAGES], (long long)free_pages);
	for (unsigned int cpu = 0; cpu < m->nr_cpus; cpu++) {
		struct per_cpu_pages *pcp = &z->pcp[cpu];
		int n = 0;

		for (int mt = 0; mt < MIGRATE_PCPTYPES; mt++) {
			struct list_head *pos;

			list_for_each(pos, &pcp->lists[mt]) {
				struct page *p = list_entry(pos, struct page, lru);

				if (++n > pcp->high + pcp->batch + 1)
					break;
				if (!(p->flags & PG_pcp) || p->pcp_mt != mt || p->refcount || page_zone(m, p) != z)
					problem(c, "pfn 0x%llx on cpu %u pcp list %d: pcp=%d mt=%d refcount=%d",
						PFN(c, p), cpu, mt, !!(p->flags & PG_pcp), p->pcp_mt, p->refcount);
			}
		}
		if (n != pcp->count)
			problem(c, "zone %s cpu %u: pcp count %d but %d pages listed", z->name, cpu, pcp->count, n);
	}
}

/* ----------------------------------------------------------- page tables */

struct walk_state {
	struct checker *c;
	struct mm_struct *mm;
	int64_t rss[NR_MM_COUNTERS];
	int64_t tables;
	int64_t huge_pmds;              /* each needs a deposited table           */
};

static void check_present_pte(struct walk_state *ws, struct vm_area_struct *vma, uint64_t addr, pteval_t pte)
{
	struct checker *c = ws->c;
	struct mmsim_machine *m = c->m;
	uint64_t pfn = pte_pfn(pte);
	struct page *p;

	if (!pfn_valid(m, pfn)) {
		problem(c, "mm %llu 0x%llx: PTE maps pfn 0x%llx outside RAM", (unsigned long long)ws->mm->id,
			(unsigned long long)addr, (unsigned long long)pfn);
		return;
	}
	p = pfn_to_page(m, pfn);
	if (pfn == m->zero_pfn || pte_special(pte)) {
		if (pfn != m->zero_pfn || !pte_special(pte) || (pte_write(pte) && pte_dirty(pte)))
			problem(c, "mm %llu 0x%llx: bad special/zero-page PTE 0x%llx", (unsigned long long)ws->mm->id,
				(unsigned long long)addr, (unsigned long long)pte);
		return;
	}
	/* A page of a THP is in use as its head is. */
	if (page_count(p) <= 0 || (compound_head(p)->flags & (PG_buddy | PG_pcp | PG_table | PG_reserved | PG_zero))) {
		problem(c, "mm %llu 0x%llx: PTE maps pfn 0x%llx that is not an in-use user page (ref %d flags 0x%x)",
			(unsigned long long)ws->mm->id, (unsigned long long)addr, (unsigned long long)pfn,
			page_count(p), p->flags);
		return;
	}
	c->maps[pfn - m->min_pfn]++;
	ws->rss[PageAnon(p) ? MM_ANONPAGES : (p->flags & PG_swapbacked) ? MM_SHMEMPAGES : MM_FILEPAGES]++;
	if (pte_write(pte) && !(vma->vm_flags & VM_WRITE))
		problem(c, "mm %llu 0x%llx: writable PTE in a VMA without VM_WRITE", (unsigned long long)ws->mm->id,
			(unsigned long long)addr);
	if (PageAnon(p)) {
		if (pte_write(pte) && !(p->flags & PG_anon_exclusive))
			problem(c, "mm %llu 0x%llx: writable PTE to shared anonymous pfn 0x%llx (COW broken)",
				(unsigned long long)ws->mm->id, (unsigned long long)addr, (unsigned long long)pfn);
		if (page_anon_vma(p) != vma->anon_vma)
			problem(c, "mm %llu 0x%llx: anon pfn 0x%llx belongs to another anon_vma",
				(unsigned long long)ws->mm->id, (unsigned long long)addr, (unsigned long long)pfn);
	} else {
		if ((struct shmem_inode *)p->mapping != vma->vm_file)
			problem(c, "mm %llu 0x%llx: file pfn 0x%llx is not from the VMA's file",
				(unsigned long long)ws->mm->id, (unsigned long long)addr, (unsigned long long)pfn);
		if (pte_write(pte) && !(vma->vm_flags & VM_SHARED))
			problem(c, "mm %llu 0x%llx: private mapping writes page-cache pfn 0x%llx",
				(unsigned long long)ws->mm->id, (unsigned long long)addr, (unsigned long long)pfn);
	}
	if (p->index != linear_page_index(vma, addr))
		problem(c, "mm %llu 0x%llx: pfn 0x%llx has index 0x%llx, rmap expects 0x%llx",
			(unsigned long long)ws->mm->id, (unsigned long long)addr, (unsigned long long)pfn,
			(unsigned long long)p->index, (unsigned long long)linear_page_index(vma, addr));
}

static void check_pte(struct walk_state *ws, uint64_t addr, pteval_t pte)
{
	struct checker *c = ws->c;
	struct vm_area_struct *vma = vma_lookup(ws->mm, addr);

	if (!vma) {
		problem(c, "mm %llu: PTE 0x%llx at 0x%llx outside every VMA", (unsigned long long)ws->mm->id,
			(unsigned long long)pte, (unsigned long long)addr);
		return;
	}
	if (pte_present(pte)) {
		check_present_pte(ws, vma, addr, pte);
		return;
	}
	if (is_migration_entry(pte_to_swp_entry(pte))) {
		uint64_t pfn = swp_offset(pte_to_swp_entry(pte));

		if (!pfn_valid(c->m, pfn)) {
			problem(c, "mm %llu 0x%llx: migration entry to pfn 0x%llx outside RAM",
				(unsigned long long)ws->mm->id, (unsigned long long)addr, (unsigned long long)pfn);
			return;
		}
		c->migration_refs[pfn - c->m->min_pfn]++;
		{
			struct page *p = pfn_to_page(c->m, pfn);

			ws->rss[PageAnon(p) ? MM_ANONPAGES : (p->flags & PG_swapbacked) ? MM_SHMEMPAGES : MM_FILEPAGES]++;
		}
		return;
	}
	if (swp_type(pte_to_swp_entry(pte)) < MAX_SWAPFILES) {
		ws->rss[MM_SWAPENTS]++;	/* slots are checked by swap_check() */
		return;
	}
	if (!is_pte_marker_entry(pte_to_swp_entry(pte)))
		problem(c, "mm %llu 0x%llx: unknown non-present PTE 0x%llx", (unsigned long long)ws->mm->id,
			(unsigned long long)addr, (unsigned long long)pte);
}

/* A huge PMD leaf (present or protnone) at addr. */
static void check_huge_pmd(struct walk_state *ws, uint64_t addr, pteval_t pmd)
{
	struct checker *c = ws->c;
	struct mmsim_machine *m = c->m;
	unsigned long long id = (unsigned long long)ws->mm->id, a = (unsigned long long)addr;
	struct vm_area_struct *vma = vma_lookup(ws->mm, addr);
	uint64_t pfn = pte_pfn(pmd);
	struct page *head;

	ws->huge_pmds++;
	if (!vma || addr + PMD_SIZE > vma->vm_end) {
		problem(c, "mm %llu 0x%llx: huge PMD 0x%llx is not inside one VMA", id, a, (unsigned long long)pmd);
		return;
	}
	if ((pfn & (HPAGE_PMD_NR - 1)) || !pfn_valid(m, pfn) || !pfn_valid(m, pfn + HPAGE_PMD_NR - 1)) {
		problem(c, "mm %llu 0x%llx: huge PMD maps pfn 0x%llx, not an aligned 2 MiB of RAM", id, a,
			(unsigned long long)pfn);
		return;
	}
	if (pmd_write(pmd) && !(vma->vm_flags & VM_WRITE))
		problem(c, "mm %llu 0x%llx: writable huge PMD in a VMA without VM_WRITE", id, a);
	if (is_huge_zero_pmd(m, pmd)) {
		if (pmd_write(pmd) || !pmd_pfn(pmd))
			problem(c, "mm %llu 0x%llx: writable huge zero PMD", id, a);
		return;
	}
	head = pfn_to_page(m, pfn);
	if (!(head->flags & PG_head) || head->order != HPAGE_PMD_ORDER || head->refcount <= 0 ||
	    !(head->flags & PG_lru) || !PageAnon(head)) {
		problem(c, "mm %llu 0x%llx: huge PMD maps pfn 0x%llx, not an in-use anonymous THP (ref %d flags 0x%x order %u)",
			id, a, (unsigned long long)pfn, head->refcount, head->flags, head->order);
		return;
	}
	c->pmd_maps[pfn - m->min_pfn]++;
	ws->rss[MM_ANONPAGES] += HPAGE_PMD_NR;
	if (page_anon_vma(head) != vma->anon_vma)
		problem(c, "mm %llu 0x%llx: THP pfn 0x%llx belongs to another anon_vma", id, a, (unsigned long long)pfn);
	if (head->index != linear_page_index(vma, addr))
		problem(c, "mm %llu 0x%llx: THP pfn 0x%llx has index 0x%llx, rmap expects 0x%llx", id, a,
			(unsigned long long)pfn, (unsigned long long)head->index,
			(unsigned long long)linear_page_index(vma, addr));
	if (pmd_write(pmd) && !(head->flags & PG_anon_exclusive))
		problem(c, "mm %llu 0x%llx: writable huge PMD to shared THP pfn 0x%llx (COW broken)", id, a,
			(unsigned long long)pfn);
}

static void check_table_page(struct walk_state *ws, uint64_t pfn)
{
	struct mmsim_machine *m = ws->c->m;
	struct page *p;

	ws->tables++;
	if (!pfn_valid(m, pfn)) {
		problem(ws->c, "mm %llu: table pfn 0x%llx outside RAM", (unsigned long long)ws->mm->id,
			(unsigned long long)pfn);
		return;
	}
	p = pfn_to_page(m, pfn);
	if (!(p->flags & PG_table) || p->refcount != 1)
		problem(ws->c, "mm %llu: table pfn 0x%llx is not an allocated page-table page",
			(unsigned long long)ws->mm->id, (unsigned long long)pfn);
	else if (ws->c->idle && p->ptl.owner)
		problem(ws->c, "mm %llu: the PT lock of table pfn 0x%llx is held between calls",
			(unsigned long long)ws->mm->id, (unsigned long long)pfn);
}

/* Walk one table level by level, checking every entry (recursion depth 4). */
static void walk_level(struct walk_state *ws, uint64_t table, int level, uint64_t base)
{
	static const unsigned int shift[4] = { PGDIR_SHIFT, PUD_SHIFT, PMD_SHIFT, PAGE_SHIFT };
	pteval_t *t = table_entries(ws->c->m, table);

	check_table_page(ws, table);
	for (int i = 0; i < PTRS_PER_TABLE; i++) {
		uint64_t addr = base + ((uint64_t)i << shift[level]);

		if (pte_none(t[i]))
			continue;
		if (level == 3) {
			check_pte(ws, addr, t[i]);
		} else if (level == 2 && pmd_trans_huge(t[i])) {
			check_huge_pmd(ws, addr, t[i]);
		} else if (pmd_table(t[i]) && pfn_valid(ws->c->m, table_pfn(t[i]))) {
			walk_level(ws, table_pfn(t[i]), level + 1, addr);
		} else {
			problem(ws->c, "mm %llu 0x%llx: level-%d entry 0x%llx is not a table",
				(unsigned long long)ws->mm->id, (unsigned long long)addr, level,
				(unsigned long long)t[i]);
		}
	}
}

static void check_vmas(struct checker *c, struct mm_struct *mm)
{
	bool cache_ok = mm->vmacache == NULL;

	for (int i = 0; i < mm->nr_vmas; i++)
		cache_ok |= mm->vmas[i] == mm->vmacache;
	if (!cache_ok)
		problem(c, "mm %llu: vmacache points to a VMA that is not in the mm", (unsigned long long)mm->id);
	for (int i = 0; i < mm->nr_vmas; i++) {
		struct vm_area_struct *v = mm->vmas[i];
		bool linked = false;
		struct list_head *pos;

		if (v->vm_start >= v->vm_end || (v->vm_start | v->vm_end) & ~PAGE_MASK || v->vm_end > TASK_SIZE ||
		    v->vm_mm != mm)
			problem(c, "mm %llu: bad VMA [0x%llx, 0x%llx)", (unsigned long long)mm->id,
				(unsigned long long)v->vm_start, (unsigned long long)v->vm_end);
		if (i && mm->vmas[i - 1]->vm_end > v->vm_start)
			problem(c, "mm %llu: VMAs [0x%llx, 0x%llx) and [0x%llx, 0x%llx) overlap or are unsorted",
				(unsigned long long)mm->id, (unsigned long long)mm->vmas[i - 1]->vm_start,
				(unsigned long long)mm->vmas[i - 1]->vm_end, (unsigned long long)v->vm_start,
				(unsigned long long)v->vm_end);
		if (v->anon_vma) {
			list_for_each(pos, &v->anon_vma->vmas)
				linked |= pos == &v->anon_vma_node;
			if (!linked)
				problem(c, "mm %llu: VMA at 0x%llx is not on its anon_vma", (unsigned long long)mm->id,
					(unsigned long long)v->vm_start);
		}
		if (v->vm_file) {
			linked = false;
			list_for_each(pos, &v->vm_file->i_mmap)
				linked |= pos == &v->shared_node;
			if (!linked)
				problem(c, "mm %llu: VMA at 0x%llx is not on its file's i_mmap",
					(unsigned long long)mm->id, (unsigned long long)v->vm_start);
		}
	}
}

static void check_mm(struct checker *c, struct mm_struct *mm)
{
	struct walk_state ws = { .c = c, .mm = mm };

	check_vmas(c, mm);
	if (!mm->pgd) {
		problem(c, "mm %llu has no pgd", (unsigned long long)mm->id);
		return;
	}
	walk_level(&ws, mm->pgd, 0, 0);
	{
		/* One deposited, empty PTE table per huge PMD. */
		struct list_head *pos;
		int64_t deposited = 0;

		list_for_each(pos, &mm->pmd_huge_pte) {
			struct page *tp = list_entry(pos, struct page, lru);
			const pteval_t *e = (const pteval_t *)page_address(c->m, tp);

			if (++deposited > ws.huge_pmds + 1)
				break;
			check_table_page(&ws, page_to_pfn(c->m, tp));
			for (int i = 0; i < PTRS_PER_TABLE; i++)
				if (e[i]) {
					problem(c, "mm %llu: deposited table pfn 0x%llx is not empty",
						(unsigned long long)mm->id, PFN(c, tp));
					break;
				}
		}
		if (deposited != ws.huge_pmds)
			problem(c, "mm %llu: %lld tables deposited for %lld huge PMDs", (unsigned long long)mm->id,
				(long long)deposited, (long long)ws.huge_pmds);
	}
	for (int i = 0; i < NR_MM_COUNTERS; i++)
		if (ws.rss[i] != mm->rss[i])
			problem(c, "mm %llu: rss counter %d is %lld but the tables map %lld", (unsigned long long)mm->id,
				i, (long long)mm->rss[i], (long long)ws.rss[i]);
	if (ws.tables * (int64_t)PAGE_SIZE != mm->pgtables_bytes)
		problem(c, "mm %llu: pgtables_bytes %lld but %lld tables", (unsigned long long)mm->id,
			(long long)mm->pgtables_bytes, (long long)ws.tables);
}

/* ------------------------------------------------------------------ TLB */

static struct mm_struct *mm_by_asid(struct mmsim_machine *m, uint16_t asid)
{
	struct list_head *pos;

	list_for_each(pos, &m->mms) {
		struct mm_struct *mm = list_entry(pos, struct mm_struct, mm_list);

		if (mm->asid == asid)
			return mm;
	}
	return NULL;
}

/*
 * Shootdown mailboxes (arch/arm64/tlbflush.c): whoever holds the whole
 * machine - this check does - has applied every request, so none waits,
 * and every one posted was acknowledged.
 */
static void check_tlb_mailboxes(struct checker *c)
{
	struct mmsim_machine *m = c->m;

	for (unsigned int cpu = 0; cpu < m->nr_cpus; cpu++) {
		const struct tlb_mailbox *mb = &m->cpus[cpu].ipi;

		if (mb->nr > TLB_MAILBOX_SLOTS)
			problem(c, "cpu %u: %u TLB flush requests in a mailbox of %u", cpu, mb->nr,
				TLB_MAILBOX_SLOTS);
		if (mb->nr || mb->overflow || mb->pending)
			problem(c, "cpu %u: %u TLB flush requests (and %u more) left pending, pending flag %u",
				cpu, mb->nr, mb->overflow, mb->pending);
		if (mb->acked != mb->posted)
			problem(c, "cpu %u: %llu TLB flush requests posted but %llu acknowledged", cpu,
				(unsigned long long)mb->posted, (unsigned long long)mb->acked);
	}
}

static void check_tlbs(struct checker *c)
{
	struct mmsim_machine *m = c->m;

	check_tlb_mailboxes(c);
	for (unsigned int cpu = 0; cpu < m->nr_cpus; cpu++)
		for (unsigned int i = 0; i < TLB_ENTRIES; i++) {
			struct tlb_entry *e = &m->cpus[cpu].tlb.e[i];
			uint64_t va = (e->key >> 16) << PAGE_SHIFT;
			struct mm_struct *mm;
			pteval_t pte;

			if (e->key == TLB_KEY_INVALID)
				continue;
			mm = mm_by_asid(m, (uint16_t)e->key);
			if (!mm) {
				problem(c, "cpu %u: TLB entry for 0x%llx of dead ASID %u", cpu,
					(unsigned long long)va, (unsigned)(uint16_t)e->key);
				continue;
			}
			if (!(mm->cpumask & (1ULL << cpu)))
				problem(c, "cpu %u: TLB entry of mm %llu, which never ran there", cpu,
					(unsigned long long)mm->id);
			/* A PTE, or the page of a huge PMD the entry was filled from. */
			pte = follow_pte_value(mm, va);
			if (!pte_valid(pte) || pte_pfn(pte) != e->pfn || !pte_user(pte)) {
				problem(c, "cpu %u: TLB maps 0x%llx of mm %llu to pfn 0x%llx, the tables do not (stale entry)",
					cpu, (unsigned long long)va, (unsigned long long)mm->id,
					(unsigned long long)e->pfn);
				continue;
			}
			if ((e->perm & TLB_W) && (pte & PTE_RDONLY))
				problem(c, "cpu %u: TLB grants write to 0x%llx of mm %llu, the PTE is read-only",
					cpu, (unsigned long long)va, (unsigned long long)mm->id);
			if (e->host != pfn_to_virt(m, e->pfn))
				problem(c, "cpu %u: TLB host address of 0x%llx is wrong", cpu, (unsigned long long)va);
		}
}

/* -------------------------------------------------------------- frames */

static void check_user_page(struct checker *c, struct page *p)
{
	struct mmsim_machine *m = c->m;
	uint64_t pfn = page_to_pfn(m, p), i = pfn - m->min_pfn;
	int cache_ref = 0;

	if (p->mapcount != (int)c->maps[i])
		problem(c, "pfn 0x%llx: mapcount %d but %u PTEs map it", PFN(c, p), p->mapcount, c->maps[i]);
	if ((p->flags & PG_anon_exclusive) && c->maps[i] > 1)
		problem(c, "pfn 0x%llx: exclusive anonymous page mapped %u times", PFN(c, p), c->maps[i]);
	if (p->mapping && !PageAnon(p)) {
		struct shmem_inode *in = (struct shmem_inode *)p->mapping;

		if (shmem_find_page(m, in, p->index) != p)
			problem(c, "pfn 0x%llx: claims page-cache index 0x%llx but the cache disagrees", PFN(c, p),
				(unsigned long long)p->index);
		cache_ref = 1;
		c->node_file[p->nid]++;
	}
	if (p->refcount < (int)c->maps[i] + (int)c->migration_refs[i] + cache_ref + p->pincount)
		problem(c, "pfn 0x%llx: refcount %d below mappings %u + migration entries %u + cache %d + pins %d",
			PFN(c, p), p->refcount, c->maps[i], c->migration_refs[i], cache_ref, p->pincount);
	if (PageAnon(p) && p->mapcount > 0)
		c->node_anon[p->nid]++;
}

/*
 * A compound page in use: the THP's mappings page by page, the head's
 * references and PMD maps, and that its pages agree with each other.
 */
static void check_thp(struct checker *c, struct page *head)
{
	struct mmsim_machine *m = c->m;
	uint64_t nr = 1ULL << head->order, idx = page_to_pfn(m, head) - m->min_pfn;
	int64_t maps = c->pmd_maps[idx], refs = 0;
	uint32_t entire = c->pmd_maps[idx];

	if (head->entire_mapcount != (int)entire)
		problem(c, "pfn 0x%llx: THP entire_mapcount %d but %u huge PMDs map it", PFN(c, head),
			head->entire_mapcount, entire);
	if (entire && PageAnon(head))
		c->node_thps[head->nid] += (int64_t)nr;
	for (uint64_t i = 0; i < nr; i++) {
		struct page *p = head + i;

		maps += c->maps[idx + i];
		refs += c->migration_refs[idx + i] + p->pincount;
		if (p->mapcount != (int)c->maps[idx + i])
			problem(c, "pfn 0x%llx: mapcount %d but %u PTEs map it", PFN(c, p), p->mapcount,
				c->maps[idx + i]);
		if ((p->flags & PG_anon_exclusive) && c->maps[idx + i] + entire > 1)
			problem(c, "pfn 0x%llx: exclusive anonymous page mapped %u times", PFN(c, p),
				c->maps[idx + i] + entire);
		if (i && (p->mapping != head->mapping || p->index != head->index + i || (p->flags & PG_lru)))
			problem(c, "pfn 0x%llx: page %llu of THP 0x%llx has mapping/index/LRU state of its own",
				PFN(c, p), (unsigned long long)i, PFN(c, head));
		if ((p->flags ^ head->flags) & PG_tag_storage_reserved)
			problem(c, "pfn 0x%llx: page %llu of THP 0x%llx is %stag-storage reserved, its head %s",
				PFN(c, p), (unsigned long long)i, PFN(c, head),
				(p->flags & PG_tag_storage_reserved) ? "" : "not ",
				(head->flags & PG_tag_storage_reserved) ? "is" : "is not");
		if (PageAnon(p) && (c->maps[idx + i] || entire))
			c->node_anon[p->nid]++;
	}
	if (head->refcount < maps + refs)
		problem(c, "pfn 0x%llx: THP refcount %d below its %lld mappings + %lld migration entries and pins",
			PFN(c, head), head->refcount, (long long)maps, (long long)refs);
}

static void check_frames(struct checker *c)
{
	struct mmsim_machine *m = c->m;
	uint64_t in_use = 0, pcp = 0, buddy = 0;

	for (unsigned int r = 0; r < m->nr_usable; r++)
	for (uint64_t pfn = m->usable[r].start; pfn < m->usable[r].end; pfn++) {
		struct page *p = pfn_to_page(m, pfn);

		if (p->flags & PG_buddy) {
			buddy += 1ULL << p->order;
			pfn += (1ULL << p->order) - 1;
			continue;
		}
		if (p->flags & PG_pcp) {
			pcp++;
			continue;
		}
		if (p->refcount < 0)
			problem(c, "pfn 0x%llx: negative refcount %d", PFN(c, p), p->refcount);
		if (p->refcount <= 0) {
			if (p->mapcount || c->maps[pfn - m->min_pfn])
				problem(c, "pfn 0x%llx: free page is mapped", PFN(c, p));
			continue;
		}
		in_use++;
		if (p->flags & PG_head) {
			/* A compound page: its tails are accounted with the head. */
			for (uint64_t i = 1; i < (1ULL << p->order); i++)
				if (!(p[i].flags & PG_tail) || p[i].compound_offset != i || p[i].refcount)
					problem(c, "pfn 0x%llx: tail %llu of a compound page lacks PG_tail, its offset or has references",
						PFN(c, p), (unsigned long long)i);
			in_use += (1ULL << p->order) - 1;
			if (p->flags & PG_lru) {
				c->node_lru[p->nid] += 1LL << p->order;
				check_thp(c, p);
			} else if (folio_mapcount(p) || c->pmd_maps[pfn - m->min_pfn]) {
				problem(c, "pfn 0x%llx: mapped compound page not on the LRU (flags 0x%x)", PFN(c, p), p->flags);
			}
			pfn += (1ULL << p->order) - 1;
			continue;
		}
		if (p->flags & PG_tail) {
			problem(c, "pfn 0x%llx: tail page without its head (flags 0x%x)", PFN(c, p), p->flags);
			continue;
		}
		if (p->flags & PG_table)
			c->node_tables[p->nid]++;
		/* A page isolated for migration is a user page off the LRU. */
		if (p->flags & (PG_lru | PG_isolated)) {
			c->node_lru[p->nid] += !!(p->flags & PG_lru);
			check_user_page(c, p);
		} else if (p->mapcount || c->maps[pfn - m->min_pfn]) {
			problem(c, "pfn 0x%llx: mapped but not a user page (flags 0x%x)", PFN(c, p), p->flags);
		}
	}
	if (in_use + pcp + buddy != m->totalram_pages)
		problem(c, "frames: %llu in use + %llu pcp + %llu free = %llu, but %llu are managed",
			(unsigned long long)in_use, (unsigned long long)pcp, (unsigned long long)buddy,
			(unsigned long long)(in_use + pcp + buddy), (unsigned long long)m->totalram_pages);
	for (unsigned int n = 0; n < m->nr_nodes; n++) {
		struct pglist_data *pg = &m->nodes[n];

		if (pg->vm_stat[NR_ANON_MAPPED] != c->node_anon[n])
			problem(c, "node %u: nr_anon_pages %lld but %lld mapped anonymous pages", n,
				(long long)pg->vm_stat[NR_ANON_MAPPED], (long long)c->node_anon[n]);
		if (pg->vm_stat[NR_SHMEM] != c->node_file[n])
			problem(c, "node %u: nr_shmem %lld but %lld page-cache pages", n,
				(long long)pg->vm_stat[NR_SHMEM], (long long)c->node_file[n]);
		if (pg->vm_stat[NR_PAGETABLE] != c->node_tables[n])
			problem(c, "node %u: nr_page_table_pages %lld but %lld table pages", n,
				(long long)pg->vm_stat[NR_PAGETABLE], (long long)c->node_tables[n]);
		if (pg->vm_stat[NR_ANON_THPS] != c->node_thps[n])
			problem(c, "node %u: nr_anon_transparent_hugepages %lld pages but %lld PMD-mapped THP pages", n,
				(long long)pg->vm_stat[NR_ANON_THPS], (long long)c->node_thps[n]);
		if (pg->vm_stat[NR_INACTIVE_ANON] + pg->vm_stat[NR_ACTIVE_ANON] != c->node_lru[n])
			problem(c, "node %u: anon LRU counters %lld but %lld pages on the LRU", n,
				(long long)(pg->vm_stat[NR_INACTIVE_ANON] + pg->vm_stat[NR_ACTIVE_ANON]),
				(long long)c->node_lru[n]);
	}
	if (m->bad_pages)
		problem(c, "%lld pages were freed in a bad state (see kmsg)", (long long)m->bad_pages);
	if (m->fault_contract_violations)
		problem(c, "%llu fault-on-access callbacks broke their lock or reference contract (see kmsg)",
			(unsigned long long)m->fault_contract_violations);
}

/* Scratch counters, one per frame: mapped lazily, reset after each check. */
static uint32_t *scratch_alloc(struct mmsim_machine *m)
{
	size_t bytes = (size_t)(m->max_pfn - m->min_pfn) * sizeof(uint32_t);
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void scratch_free(struct mmsim_machine *m, uint32_t *p)
{
	if (p)
		munmap(p, (size_t)(m->max_pfn - m->min_pfn) * sizeof(uint32_t));
}

/* A lock that is not free (or a reader count gone wrong) between calls. */
static void check_rwsem(struct checker *c, const struct rw_semaphore *s, const char *what, uint64_t id)
{
	if (s->writer || s->readers)
		problem(c, "%s %llu: %s is held between calls (writer %s, %d readers)", what,
			(unsigned long long)id, s->name ? s->name : "rwsem", s->writer ? "yes" : "no", s->readers);
}

/*
 * check_locks - outside a run of task bodies no kernel path is in
 * progress, so every lock must be free: one that is not was leaked by a
 * path that forgot to unlock (or unlocked twice).
 */
static void check_locks(struct checker *c)
{
	struct mmsim_machine *m = c->m;
	struct list_head *pos;

	list_for_each(pos, &m->mms) {
		struct mm_struct *mm = list_entry(pos, struct mm_struct, mm_list);

		check_rwsem(c, &mm->mmap_lock, "mm", mm->id);
		if (mm->page_table_lock.owner)
			problem(c, "mm %llu: page_table_lock is held between calls", (unsigned long long)mm->id);
		for (int i = 0; i < mm->nr_vmas; i++) {
			check_rwsem(c, &mm->vmas[i]->vm_lock, "mm", mm->id);
			if (mm->vmas[i]->anon_vma)
				check_rwsem(c, &mm->vmas[i]->anon_vma->rwsem, "anon_vma",
					    mm->vmas[i]->anon_vma->id);
			if (mm->vmas[i]->vm_file)
				check_rwsem(c, &mm->vmas[i]->vm_file->i_mmap_rwsem, "inode",
					    mm->vmas[i]->vm_file->id);
		}
	}
	for (unsigned int n = 0; n < m->nr_nodes; n++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &m->nodes[n].node_zones[zi];

			if (z->lock.owner)
				problem(c, "node %u zone %s: zone->lock is held between calls", n, z->name);
			for (unsigned int cpu = 0; cpu < m->nr_cpus; cpu++)
				if (z->pcp[cpu].lock.owner)
					problem(c, "node %u zone %s: pcp->lock of cpu %u is held between calls",
						n, z->name, cpu);
		}
	if (m->mte.tag_blocks_lock.owner || m->mte.xa_lock.owner)
		problem(c, "tag storage: %s is held between calls",
			m->mte.tag_blocks_lock.owner ? "tag_blocks_lock" : "the xa_lock");
	for (unsigned int n = 0; m->swap && n < m->nr_nodes; n++)
		if (m->swap->lruvec[n].lru_lock.owner)
			problem(c, "node %u: lru_lock is held between calls", n);
	/* Parallel runs fold every CPU's differentials when they end. */
	for (unsigned int cpu = 0; cpu < m->nr_cpus; cpu++) {
		const struct cpu *cp = &m->cpus[cpu];

		if (cp->ipi.lock)
			problem(c, "cpu %u: its TLB shootdown mailbox is locked between calls", cpu);

		if (cp->run_next - cp->run_serving != sched_run_locks_held_by_caller())
			problem(c, "cpu %u: its run lock is held between calls", cpu);
		if (cp->rss_mm)
			problem(c, "cpu %u: rss changes of mm %llu cached between calls", cpu,
				(unsigned long long)cp->rss_mm->id);
		if (cp->lru_add.nr)
			problem(c, "cpu %u: %u pages left in its LRU batch between calls", cpu, cp->lru_add.nr);
		if (cp->diff.clock)
			problem(c, "cpu %u: %llu ns of its clock not folded into the machine's", cpu,
				(unsigned long long)cp->diff.clock);
		for (int e = 0; e < NR_VM_EVENT_ITEMS; e++)
			if (cp->diff.vm_events[e])
				problem(c, "cpu %u: %s has %lld events not folded", cpu, vm_event_names[e],
					(long long)cp->diff.vm_events[e]);
		for (unsigned int n = 0; n < m->nr_nodes; n++) {
			for (int i = 0; i < NR_VM_NODE_STAT_ITEMS; i++)
				if (cp->diff.node[n][i])
					problem(c, "cpu %u: node %u %s differential %d not folded", cpu, n,
						node_stat_names[i], cp->diff.node[n][i]);
			for (int z = 0; z < MAX_NR_ZONES; z++)
				for (int i = 0; i < NR_VM_ZONE_STAT_ITEMS; i++)
					if (cp->diff.zone[n][z][i])
						problem(c, "cpu %u: node %u zone %d %s differential %d not folded",
							cpu, n, z, zone_stat_names[i], cp->diff.zone[n][z][i]);
			for (int i = 0; i < NR_VM_NUMA_EVENT_ITEMS; i++)
				if (cp->diff.numa[n][i])
					problem(c, "cpu %u: node %u %s has %lld events not folded", cpu, n,
						numa_stat_names[i], (long long)cp->diff.numa[n][i]);
		}
	}
}

int mmsim_check(struct mmsim_machine *m, char *report, size_t len)
{
	KERNEL_ENTRY(m, NULL, false);
	struct checker c = { .m = m, .out = report, .len = len };
	struct list_head *pos;

	if (!m)
		return seterr(-MMSIM_EINVAL, "mmsim_check: machine is NULL");
	c.idle = !sched_in_run(m);
	if (report && len)
		report[0] = '\0';
	c.maps = scratch_alloc(m);
	c.migration_refs = scratch_alloc(m);
	c.pmd_maps = scratch_alloc(m);
	if (!c.maps || !c.migration_refs || !c.pmd_maps) {
		scratch_free(m, c.maps);
		scratch_free(m, c.migration_refs);
		scratch_free(m, c.pmd_maps);
		return seterr(-MMSIM_ENOMEM, "mmsim_check: out of host memory");
	}
	for (unsigned int n = 0; n < m->nr_nodes; n++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++)
			if (populated_zone(&m->nodes[n].node_zones[zi]))
				check_zone_lists(&c, &m->nodes[n].node_zones[zi]);
	list_for_each(pos, &m->mms)
		check_mm(&c, list_entry(pos, struct mm_struct, mm_list));
	if (c.idle)
		check_locks(&c);
	check_frames(&c);
	check_tlbs(&c);
	c.problems += swap_check(m, report && c.off < len ? report + c.off : NULL, report && c.off < len ? len - c.off : 0);
	if (report && len)
		c.off = strlen(report);
	c.problems += mte_check(m, c.out, c.len);
	if (c.out)
		c.off = strlen(c.out);
	c.problems += compaction_check(m, c.out, c.len);
	if (c.out)
		c.off = strlen(c.out);
	scratch_free(m, c.maps);
	scratch_free(m, c.migration_refs);
	scratch_free(m, c.pmd_maps);
	if (c.problems > MAX_PROBLEMS && report && c.off + 40 < len)
		snprintf(report + c.off, len - c.off, "... and %d more problems\n", c.problems - MAX_PROBLEMS);
	return c.problems;
}
