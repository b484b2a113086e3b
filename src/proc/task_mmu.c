// SPDX-License-Identifier: MIT
/*
 * proc/task_mmu.c - /proc/<pid>/maps, smaps, smaps_rollup, status and
 * pagemap, as Linux 6.6 produces them on arm64.
 *
 * Everything is read from the page tables in simulated RAM and the struct
 * page of each mapped frame, walking the tables level by level so that
 * unpopulated 2 MiB and 1 GiB ranges are skipped whole and PMD-mapped THPs
 * are seen as such.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proc/proc.h"
#include "mm/internal.h"

/* vm_flags bits the model does not define, Linux's values. */
#define VMF_PFNMAP      0x00000400ULL
#define VMF_IO          0x00004000ULL
#define VMF_LOCKONFAULT 0x00080000ULL
#define VMF_SYNC        0x00800000ULL
#define VMF_ARM64_BTI   0x01000000ULL   /* VM_ARCH_1 */
#define VMF_MIXEDMAP    0x10000000ULL
#define VMF_STACK       VM_GROWSDOWN

/* A migration entry's offset is the pfn (low bits; arm64 MAX_PHYSMEM_BITS 48). */
#define SWP_PFN_MASK    ((1ULL << (48 - PAGE_SHIFT)) - 1)
#define PTE_MARKER_UFFD_WP 0x1ULL

/* --------------------------------------------------------- table walk */

enum walk_level { WALK_HOLE, WALK_PTE, WALK_PMD };

struct walk_res {
	enum walk_level level;
	pteval_t val;           /* the descriptor found (PTE or PMD leaf)          */
	uint64_t next;          /* first address the result does not cover          */
};

static pteval_t *table_of(struct mmsim_machine *m, pteval_t desc)
{
	uint64_t pfn = table_pfn(desc);

	return pfn_valid(m, pfn) ? table_entries(m, pfn) : NULL;
}

/* A PMD that maps 2 MiB itself: valid or PROT_NONE, without the table bit. */
static bool pmd_is_leaf(pteval_t pmd)
{
	return pmd && !(pmd & PTE_TABLE_BIT) && pte_present(pmd);
}

/* What translates addr in mm: nothing, a PTE slot, or a PMD block. */
static void walk_lookup(struct mm_struct *mm, uint64_t addr, struct walk_res *r)
{
	struct mmsim_machine *m = mm->machine;
	pteval_t *tbl, e;

	r->level = WALK_HOLE;
	r->val = 0;
	r->next = (addr & PGDIR_MASK) + PGDIR_SIZE;
	if (!mm->pgd || !pfn_valid(m, mm->pgd))
		return;
	e = table_entries(m, mm->pgd)[pgd_index(addr)];
	if (!pmd_table(e) || !(tbl = table_of(m, e)))
		return;

	r->next = (addr & PUD_MASK) + PUD_SIZE;
	e = tbl[pud_index(addr)];
	if (!pmd_table(e) || !(tbl = table_of(m, e)))
		return;

	r->next = (addr & PMD_MASK) + PMD_SIZE;
	e = tbl[pmd_index(addr)];
	if (pmd_is_leaf(e)) {
		r->level = WALK_PMD;
		r->val = e;
		return;
	}
	if (!pmd_table(e) || !(tbl = table_of(m, e)))
		return;

	r->level = WALK_PTE;
	r->val = tbl[pte_index(addr)];
	r->next = (addr & PAGE_MASK) + PAGE_SIZE;
}

/*
 * The struct page a present PTE maps, or NULL for the zero page, special
 * mappings and frames outside RAM (vm_normal_page()).
 */
static struct page *normal_page(struct mmsim_machine *m, pteval_t pte)
{
	uint64_t pfn = pte_pfn(pte);

	if (pte_special(pte) || pfn == m->zero_pfn || !pfn_valid(m, pfn))
		return NULL;
	if (pfn_to_page(m, pfn)->flags & PG_zero)
		return NULL;
	return pfn_to_page(m, pfn);
}

static bool is_swap_pte(pteval_t pte)
{
	return !pte_none(pte) && !pte_present(pte);
}

/* Swap entries that carry a pfn (migration, hwpoison). */
static bool is_pfn_swap_entry(swp_entry_t e)
{
	return is_migration_entry(e) || swp_type(e) == SWP_HWPOISON;
}

static struct page *pfn_swap_entry_page(struct mmsim_machine *m, swp_entry_t e)
{
	uint64_t pfn = swp_offset(e) & SWP_PFN_MASK;

	return pfn_valid(m, pfn) ? pfn_to_page(m, pfn) : NULL;
}

/* ---------------------------------------------------------------- maps */

static void vma_file_name(const struct vm_area_struct *v, char *buf, size_t len)
{
	const struct shmem_inode *in = v->vm_file;

	if (in->anon_shared)
		snprintf(buf, len, "/dev/zero (deleted)");
	else if (!strncmp(in->name, "memfd:", 6))
		snprintf(buf, len, "/%s (deleted)", in->name);
	else
		snprintf(buf, len, "/memfd:%s (deleted)", in->name);
}

/*
 * The 73-column prefix of a maps line; the name, if any, starts after the
 * padding (seq_setwidth(25 + 6 * sizeof(void *) - 1) and seq_pad()).
 */
static void show_vma_header(struct seqbuf *s, uint64_t start, uint64_t end, uint64_t flags,
			    uint64_t pgoff, unsigned int major, unsigned int minor, uint64_t ino,
			    const char *name)
{
	size_t line = s->len;

	seq_printf(s, "%08llx-%08llx %c%c%c%c %08llx %02x:%02x %llu ",
		   (unsigned long long)start, (unsigned long long)end,
		   flags & VM_READ ? 'r' : '-', flags & VM_WRITE ? 'w' : '-',
		   flags & VM_EXEC ? 'x' : '-', flags & VM_MAYSHARE ? 's' : 'p',
		   (unsigned long long)pgoff, major, minor, (unsigned long long)ino);
	if (name) {
		seq_pad_to(s, line, 25 + 6 * 8 - 1);
		seq_putc(s, ' ');
		seq_puts(s, name);
	}
	seq_putc(s, '\n');
}

static void show_map_vma(struct seqbuf *s, const struct vm_area_struct *v)
{
	char name[128];

	if (v->vm_file) {
		/* shm_mnt, the internal tmpfs, is the first anonymous device: 0:1. */
		vma_file_name(v, name, sizeof(name));
		show_vma_header(s, v->vm_start, v->vm_end, v->vm_flags, v->vm_pgoff << PAGE_SHIFT,
				0, 1, v->vm_file->id, name);
	} else {
		show_vma_header(s, v->vm_start, v->vm_end, v->vm_flags, 0, 0, 0, 0, NULL);
	}
}

void proc_maps_show(struct mmsim_task *t, struct seqbuf *s)
{
	struct mm_struct *mm = t->mm;
	int i;

	if (!mm)
		return;
	for (i = 0; i < mm->nr_vmas; i++)
		show_map_vma(s, mm->vmas[i]);
}

/* --------------------------------------------------------------- smaps */

#define PSS_SHIFT 12

struct mem_size_stats {
	uint64_t resident, shared_clean, shared_dirty, private_clean, private_dirty;
	uint64_t referenced, anonymous, lazyfree, anonymous_thp, shmem_thp, file_thp;
	uint64_t swap, ksm;
	uint64_t pss, pss_anon, pss_file, pss_shmem, pss_dirty, pss_locked, swap_pss;
};

static void smaps_page_accumulate(struct mem_size_stats *mss, struct page *p, uint64_t size,
				  uint64_t pss, bool dirty, bool locked, bool private)
{
	mss->pss += pss;
	if (PageAnon(p))
		mss->pss_anon += pss;
	else if (p->flags & PG_swapbacked)
		mss->pss_shmem += pss;
	else
		mss->pss_file += pss;
	if (locked)
		mss->pss_locked += pss;
	if (dirty || (p->flags & PG_dirty)) {
		mss->pss_dirty += pss;
		if (private)
			mss->private_dirty += size;
		else
			mss->shared_dirty += size;
	} else {
		if (private)
			mss->private_clean += size;
		else
			mss->shared_clean += size;
	}
}

/*
 * Charge @nr pages starting at @p (one PTE, or a whole PMD-mapped THP).
 * A page only this mapping references is private; otherwise each page is
 * shared out among its mappers for Pss.
 */
static void smaps_account(struct mmsim_machine *m, struct mem_size_stats *mss, struct page *p,
			  uint64_t nr, bool young, bool dirty, bool locked, bool migration)
{
	uint64_t size = nr << PAGE_SHIFT, i;
	struct page *head = compound_head(p);

	if (PageAnon(head)) {
		mss->anonymous += size;
		if (!(head->flags & PG_swapbacked) && !dirty && !(head->flags & PG_dirty))
			mss->lazyfree += size;
	}
	mss->resident += size;
	if (young)
		mss->referenced += size;

	if (head->refcount == 1 || migration) {
		smaps_page_accumulate(mss, head, size, size << PSS_SHIFT, dirty, locked, true);
		return;
	}
	for (i = 0; i < nr; i++) {
		int mapcount = page_mapcount(p + i);
		uint64_t pss = PAGE_SIZE << PSS_SHIFT;

		if (mapcount >= 2)
			pss /= (uint64_t)mapcount;
		smaps_page_accumulate(mss, p + i, PAGE_SIZE, pss, dirty, locked, mapcount < 2);
	}
}

static void smaps_pte(struct mmsim_machine *m, struct vm_area_struct *v, pteval_t pte,
		      struct mem_size_stats *mss)
{
	bool locked = v->vm_flags & VM_LOCKED, migration = false;
	struct page *p = NULL;

	if (pte_present(pte)) {
		p = normal_page(m, pte);
		if (p)
			smaps_account(m, mss, p, 1, pte_young(pte), pte_dirty(pte), locked, false);
		return;
	}
	if (!is_swap_pte(pte))
		return;
	{
		swp_entry_t e = pte_to_swp_entry(pte);

		if (swp_type(e) < MAX_SWAPFILES) {
			/* The swap map's counts are not visible here: one owner. */
			mss->swap += PAGE_SIZE;
			mss->swap_pss += PAGE_SIZE << PSS_SHIFT;
			return;
		}
		if (!is_pfn_swap_entry(e))
			return;
		migration = is_migration_entry(e);
		p = pfn_swap_entry_page(m, e);
	}
	if (p)
		smaps_account(m, mss, p, 1, false, false, locked, migration);
}

static void smaps_pmd(struct mmsim_machine *m, struct vm_area_struct *v, pteval_t pmd,
		      struct mem_size_stats *mss)
{
	uint64_t pfn = pte_pfn(pmd);
	struct page *p;

	if (!pfn_valid(m, pfn) || !pfn_valid(m, pfn + HPAGE_PMD_NR - 1) || pte_special(pmd))
		return;
	p = pfn_to_page(m, pfn);
	if (p->flags & PG_zero)
		return;
	if (PageAnon(p))
		mss->anonymous_thp += HPAGE_PMD_SIZE;
	else if (p->flags & PG_swapbacked)
		mss->shmem_thp += HPAGE_PMD_SIZE;
	else
		mss->file_thp += HPAGE_PMD_SIZE;
	smaps_account(m, mss, p, HPAGE_PMD_NR, pte_young(pmd), pte_dirty(pmd),
		      v->vm_flags & VM_LOCKED, false);
}

static void smap_gather_stats(struct vm_area_struct *v, struct mem_size_stats *mss)
{
	struct mm_struct *mm = v->vm_mm;
	struct mmsim_machine *m = mm->machine;
	uint64_t addr = v->vm_start;
	struct walk_res r;

	while (addr < v->vm_end) {
		walk_lookup(mm, addr, &r);
		if (r.level == WALK_PTE)
			smaps_pte(m, v, r.val, mss);
		else if (r.level == WALK_PMD && addr == (addr & PMD_MASK) &&
			 r.next <= v->vm_end)
			smaps_pmd(m, v, r.val, mss);
		if (r.next <= addr)
			break;
		addr = r.next;
	}
}

#define SEQ_PUT_KB(s, label, bytes) \
	seq_printf(s, "%s%8llu kB\n", label, (unsigned long long)((bytes) >> 10))

static void show_smap_stats(struct seqbuf *s, const struct mem_size_stats *mss, bool rollup)
{
	SEQ_PUT_KB(s, "Rss:            ", mss->resident);
	SEQ_PUT_KB(s, "Pss:            ", mss->pss >> PSS_SHIFT);
	SEQ_PUT_KB(s, "Pss_Dirty:      ", mss->pss_dirty >> PSS_SHIFT);
	if (rollup) {
		/* Per VMA two of these are 0 and the third is Pss: rollup only. */
		SEQ_PUT_KB(s, "Pss_Anon:       ", mss->pss_anon >> PSS_SHIFT);
		SEQ_PUT_KB(s, "Pss_File:       ", mss->pss_file >> PSS_SHIFT);
		SEQ_PUT_KB(s, "Pss_Shmem:      ", mss->pss_shmem >> PSS_SHIFT);
	}
	SEQ_PUT_KB(s, "Shared_Clean:   ", mss->shared_clean);
	SEQ_PUT_KB(s, "Shared_Dirty:   ", mss->shared_dirty);
	SEQ_PUT_KB(s, "Private_Clean:  ", mss->private_clean);
	SEQ_PUT_KB(s, "Private_Dirty:  ", mss->private_dirty);
	SEQ_PUT_KB(s, "Referenced:     ", mss->referenced);
	SEQ_PUT_KB(s, "Anonymous:      ", mss->anonymous);
	SEQ_PUT_KB(s, "KSM:            ", mss->ksm);
	SEQ_PUT_KB(s, "LazyFree:       ", mss->lazyfree);
	SEQ_PUT_KB(s, "AnonHugePages:  ", mss->anonymous_thp);
	SEQ_PUT_KB(s, "ShmemPmdMapped: ", mss->shmem_thp);
	SEQ_PUT_KB(s, "FilePmdMapped:  ", mss->file_thp);
	SEQ_PUT_KB(s, "Shared_Hugetlb: ", 0ULL);
	/* The label is one column wider, so the value is one narrower. */
	seq_printf(s, "Private_Hugetlb: %7llu kB\n", 0ULL);
	SEQ_PUT_KB(s, "Swap:           ", mss->swap);
	SEQ_PUT_KB(s, "SwapPss:        ", mss->swap_pss >> PSS_SHIFT);
	SEQ_PUT_KB(s, "Locked:         ", mss->pss_locked >> PSS_SHIFT);
}

/*
 * THPeligible: could a fault or khugepaged give this VMA a PMD-sized THP
 * under the current sysfs setting?  Shared memory follows shmem_enabled,
 * which is "never" in the model.
 */
static bool thp_vma_eligible(struct mmsim_machine *m, const struct vm_area_struct *v)
{
	uint64_t haddr = (v->vm_end - HPAGE_PMD_SIZE) & PMD_MASK;

	(void)m;
	if (v->vm_end - v->vm_start < HPAGE_PMD_SIZE || haddr < v->vm_start ||
	    haddr + HPAGE_PMD_SIZE > v->vm_end)
		return false;
	/* The same test the fault makes (mm/huge_memory.c). */
	return thp_vma_allowable(v);
}

static const struct {
	uint64_t flag;
	const char *name;
} vm_flag_mnemonics[] = {
	{ VM_READ, "rd" }, { VM_WRITE, "wr" }, { VM_EXEC, "ex" }, { VM_SHARED, "sh" },
	{ VM_MAYREAD, "mr" }, { VM_MAYWRITE, "mw" }, { VM_MAYEXEC, "me" }, { VM_MAYSHARE, "ms" },
	{ VM_GROWSDOWN, "gd" }, { VMF_PFNMAP, "pf" }, { VM_LOCKED, "lo" }, { VMF_IO, "io" },
	{ VM_SEQ_READ, "sr" }, { VM_RAND_READ, "rr" }, { VM_DONTCOPY, "dc" },
	{ VM_DONTEXPAND, "de" }, { VMF_LOCKONFAULT, "lf" }, { VM_ACCOUNT, "ac" },
	{ VM_NORESERVE, "nr" }, { VM_HUGETLB, "ht" }, { VMF_SYNC, "sf" },
	{ VMF_ARM64_BTI, "bt" }, { VM_WIPEONFORK, "wf" }, { VM_DONTDUMP, "dd" },
	{ VMF_MIXEDMAP, "mm" }, { VM_HUGEPAGE, "hg" }, { VM_NOHUGEPAGE, "nh" },
	{ VM_MERGEABLE, "mg" }, { VM_UFFD_MISSING, "um" }, { VM_UFFD_WP, "uw" },
	{ VM_MTE, "mt" }, { VM_UFFD_MINOR, "ui" },
	/*
	 * No line: VM_MTE_ALLOWED is printed as nothing, and arm64 has no
	 * soft-dirty tracking, so VM_SOFTDIRTY does not exist there.
	 */
	{ VM_MTE_ALLOWED, "" }, { VM_SOFTDIRTY, "" },
};

static void show_smap_vma_flags(struct seqbuf *s, uint64_t flags)
{
	unsigned int bit;
	size_t i;

	seq_puts(s, "VmFlags: ");
	for (bit = 0; bit < 64; bit++) {
		const char *name = "??";

		if (!(flags & (1ULL << bit)))
			continue;
		for (i = 0; i < sizeof(vm_flag_mnemonics) / sizeof(vm_flag_mnemonics[0]); i++)
			if (vm_flag_mnemonics[i].flag == 1ULL << bit)
				name = vm_flag_mnemonics[i].name;
		if (*name)
			seq_printf(s, "%s ", name);
	}
	seq_putc(s, '\n');
}

static void mss_add(struct mem_size_stats *a, const struct mem_size_stats *b)
{
	const uint64_t *src = (const uint64_t *)b;
	uint64_t *dst = (uint64_t *)a;
	size_t i;

	for (i = 0; i < sizeof(*a) / sizeof(uint64_t); i++)
		dst[i] += src[i];
}

void proc_smaps_show(struct mmsim_task *t, struct seqbuf *s, bool rollup)
{
	struct mm_struct *mm = t->mm;
	struct mem_size_stats total;
	uint64_t start = 0, end = 0;
	int i;

	memset(&total, 0, sizeof(total));
	for (i = 0; mm && i < mm->nr_vmas; i++) {
		struct vm_area_struct *v = mm->vmas[i];
		struct mem_size_stats mss;

		memset(&mss, 0, sizeof(mss));
		smap_gather_stats(v, &mss);
		if (rollup) {
			if (i == 0)
				start = v->vm_start;
			end = v->vm_end;
			mss_add(&total, &mss);
			continue;
		}
		show_map_vma(s, v);
		SEQ_PUT_KB(s, "Size:           ", v->vm_end - v->vm_start);
		SEQ_PUT_KB(s, "KernelPageSize: ", PAGE_SIZE);
		SEQ_PUT_KB(s, "MMUPageSize:    ", PAGE_SIZE);
		show_smap_stats(s, &mss, false);
		seq_printf(s, "THPeligible:    %8u\n", thp_vma_eligible(mm->machine, v) ? 1U : 0U);
		show_smap_vma_flags(s, v->vm_flags);
	}
	if (rollup) {
		show_vma_header(s, start, end, 0, 0, 0, 0, 0, "[rollup]");
		show_smap_stats(s, &total, true);
	}
}

/* -------------------------------------------------------------- status */

/* A bitmap as "%*pb" prints it: 32-bit hex groups, most significant first. */
static void seq_bitmap(struct seqbuf *s, uint64_t bits, unsigned int nbits)
{
	int chunk, last = (int)((nbits + 31) / 32) - 1;

	for (chunk = last; chunk >= 0; chunk--) {
		unsigned int width = 8;
		uint32_t v = chunk < 2 ? (uint32_t)(bits >> (32 * chunk)) : 0;

		if (chunk == last && nbits % 32)
			width = (nbits % 32 + 3) / 4;
		seq_printf(s, "%0*x%s", (int)width, v, chunk ? "," : "");
	}
}

/* A bitmap as "%*pbl" prints it: ranges "0-3,5". */
static void seq_bitmap_list(struct seqbuf *s, uint64_t bits, unsigned int nbits)
{
	unsigned int i = 0;
	bool first = true;

	while (i < nbits && i < 64) {
		unsigned int j;

		if (!(bits & (1ULL << i))) {
			i++;
			continue;
		}
		for (j = i; j + 1 < nbits && j + 1 < 64 && (bits & (1ULL << (j + 1))); j++)
			;
		seq_printf(s, j > i ? "%s%u-%u" : "%s%u", first ? "" : ",", i, j);
		first = false;
		i = j + 1;
	}
}

static int task_threads(struct mmsim_task *t)
{
	struct list_head *pos;
	int n = 0;

	list_for_each(pos, &t->machine->tasks) {
		struct mmsim_task *o = list_entry(pos, struct mmsim_task, tasks_node);

		if (o->tgid == t->tgid)
			n++;
	}
	return n ? n : 1;
}

static void task_mem(struct seqbuf *s, struct mm_struct *mm)
{
	uint64_t total_vm = 0, locked = 0, data = 0, stack = 0, exec = 0;
	uint64_t anon, file, shmem, swap, rss, hiwater_vm, hiwater_rss;
	int i;

	/* The per-type sizes, classified as vm_stat_account() does. */
	for (i = 0; i < mm->nr_vmas; i++) {
		const struct vm_area_struct *v = mm->vmas[i];
		uint64_t n = vma_pages(v), f = v->vm_flags;

		total_vm += n;
		if (f & VM_LOCKED)
			locked += n;
		if ((f & (VM_EXEC | VM_WRITE | VMF_STACK)) == VM_EXEC)
			exec += n;
		else if (f & VMF_STACK)
			stack += n;
		else if ((f & (VM_WRITE | VM_SHARED | VMF_STACK)) == VM_WRITE)
			data += n;
	}
	anon = mm->rss[MM_ANONPAGES] > 0 ? (uint64_t)mm->rss[MM_ANONPAGES] : 0;
	file = mm->rss[MM_FILEPAGES] > 0 ? (uint64_t)mm->rss[MM_FILEPAGES] : 0;
	shmem = mm->rss[MM_SHMEMPAGES] > 0 ? (uint64_t)mm->rss[MM_SHMEMPAGES] : 0;
	swap = mm->rss[MM_SWAPENTS] > 0 ? (uint64_t)mm->rss[MM_SWAPENTS] : 0;
	rss = anon + file + shmem;
	hiwater_vm = mm->hiwater_vm > total_vm ? mm->hiwater_vm : total_vm;
	hiwater_rss = mm->hiwater_rss > rss ? mm->hiwater_rss : rss;

#define PG_KB(x) ((unsigned long long)((x) << (PAGE_SHIFT - 10)))
	seq_printf(s, "VmPeak:\t%8llu kB\n", PG_KB(hiwater_vm));
	seq_printf(s, "VmSize:\t%8llu kB\n", PG_KB(total_vm));
	seq_printf(s, "VmLck:\t%8llu kB\n", PG_KB(locked));
	seq_printf(s, "VmPin:\t%8llu kB\n", 0ULL);
	seq_printf(s, "VmHWM:\t%8llu kB\n", PG_KB(hiwater_rss));
	seq_printf(s, "VmRSS:\t%8llu kB\n", PG_KB(rss));
	seq_printf(s, "RssAnon:\t%8llu kB\n", PG_KB(anon));
	seq_printf(s, "RssFile:\t%8llu kB\n", PG_KB(file));
	seq_printf(s, "RssShmem:\t%8llu kB\n", PG_KB(shmem));
	seq_printf(s, "VmData:\t%8llu kB\n", PG_KB(data));
	seq_printf(s, "VmStk:\t%8llu kB\n", PG_KB(stack));
	/* No executable image: all executable mappings count as libraries. */
	seq_printf(s, "VmExe:\t%8llu kB\n", 0ULL);
	seq_printf(s, "VmLib:\t%8llu kB\n", PG_KB(exec));
	seq_printf(s, "VmPTE:\t%8llu kB\n",
		   (unsigned long long)(mm->pgtables_bytes > 0 ? mm->pgtables_bytes >> 10 : 0));
	seq_printf(s, "VmSwap:\t%8llu kB\n", PG_KB(swap));
	seq_printf(s, "HugetlbPages:\t%8llu kB\n", 0ULL);
#undef PG_KB
}

void proc_status_show(struct mmsim_task *t, struct seqbuf *s)
{
	struct mmsim_machine *m = t->machine;
	uint64_t mems = 0, cpus;
	unsigned int nid;
	int fdsize = 64;

	seq_puts(s, "Name:\tmmsim\n");
	seq_puts(s, "Umask:\t0022\n");
	seq_printf(s, "State:\t%s\n", t->blocked.active ? "S (sleeping)" : "R (running)");
	seq_printf(s, "Tgid:\t%d\n", t->tgid);
	seq_puts(s, "Ngid:\t0\n");
	seq_printf(s, "Pid:\t%d\n", t->pid);
	seq_puts(s, "PPid:\t0\n");
	seq_puts(s, "TracerPid:\t0\n");
	seq_puts(s, "Uid:\t0\t0\t0\t0\n");
	seq_puts(s, "Gid:\t0\t0\t0\t0\n");
	/* The fd table grows in steps of 64 (BITS_PER_LONG) from 64. */
	if (t->files)
		while (fdsize < t->files->nr)
			fdsize += 64;
	seq_printf(s, "FDSize:\t%d\n", fdsize);
	seq_puts(s, "Groups:\t \n");
	seq_printf(s, "NStgid:\t%d\n", t->tgid);
	seq_printf(s, "NSpid:\t%d\n", t->pid);
	seq_printf(s, "NSpgid:\t%d\n", t->tgid);
	seq_printf(s, "NSsid:\t%d\n", t->tgid);
	if (t->mm) {
		task_mem(s, t->mm);
		seq_puts(s, "CoreDumping:\t0\n");
		seq_printf(s, "THP_enabled:\t%d\n", t->mm->thp_disabled ? 0 : 1);
		seq_puts(s, "untag_mask:\t0xffffffffffffffff\n");
	}
	seq_printf(s, "Threads:\t%d\n", task_threads(t));
	/* RLIMIT_SIGPENDING is half of max_threads: RAM / (8 * THREAD_SIZE). */
	seq_printf(s, "SigQ:\t0/%llu\n",
		   (unsigned long long)((m->totalram_pages * PAGE_SIZE / (8 * 16384)) / 2));
	seq_puts(s, "SigPnd:\t0000000000000000\n"
		    "ShdPnd:\t0000000000000000\n"
		    "SigBlk:\t0000000000000000\n"
		    "SigIgn:\t0000000000000000\n"
		    "SigCgt:\t0000000000000000\n");
	/* A root task: every capability up to CAP_LAST_CAP (40). */
	seq_puts(s, "CapInh:\t0000000000000000\n"
		    "CapPrm:\t000001ffffffffff\n"
		    "CapEff:\t000001ffffffffff\n"
		    "CapBnd:\t000001ffffffffff\n"
		    "CapAmb:\t0000000000000000\n");
	seq_puts(s, "NoNewPrivs:\t0\n"
		    "Seccomp:\t0\n"
		    "Seccomp_filters:\t0\n"
		    "Speculation_Store_Bypass:\tthread vulnerable\n"
		    "SpeculationIndirectBranch:\tunknown\n");
	cpus = m->nr_cpus >= 64 ? ~0ULL : (1ULL << m->nr_cpus) - 1;
	seq_puts(s, "Cpus_allowed:\t");
	seq_bitmap(s, cpus, m->nr_cpus ? m->nr_cpus : 1);
	seq_puts(s, "\nCpus_allowed_list:\t");
	seq_bitmap_list(s, cpus, m->nr_cpus);
	for (nid = 0; nid < m->nr_nodes; nid++)
		if (m->nodes[nid].node_present_pages)
			mems |= 1ULL << nid;
	/* arm64 builds with NODES_SHIFT 4: nodemasks print 16 bits. */
	seq_puts(s, "\nMems_allowed:\t");
	seq_bitmap(s, mems, 16);
	seq_puts(s, "\nMems_allowed_list:\t");
	seq_bitmap_list(s, mems, 16);
	seq_puts(s, "\nvoluntary_ctxt_switches:\t0\n"
		    "nonvoluntary_ctxt_switches:\t0\n");
}

/* ------------------------------------------------------------- pagemap */

#define PM_PFRAME_BITS      55
#define PM_PFRAME_MASK      ((1ULL << PM_PFRAME_BITS) - 1)
#define PM_MMAP_EXCLUSIVE   (1ULL << 56)
#define PM_UFFD_WP          (1ULL << 57)
#define PM_FILE             (1ULL << 61)
#define PM_SWAP             (1ULL << 62)
#define PM_PRESENT          (1ULL << 63)
#define MAX_SWAPFILES_SHIFT 5

static uint64_t pte_pagemap_entry(struct mmsim_machine *m, pteval_t pte)
{
	uint64_t frame = 0, flags = 0;
	struct page *p = NULL;

	if (pte_present(pte)) {
		frame = pte_pfn(pte);
		flags |= PM_PRESENT;
		p = normal_page(m, pte);
	} else if (is_swap_pte(pte)) {
		swp_entry_t e = pte_to_swp_entry(pte);
		uint64_t off = swp_offset(e);

		if (is_pfn_swap_entry(e))
			off &= SWP_PFN_MASK;
		frame = swp_type(e) | (off << MAX_SWAPFILES_SHIFT);
		/* Every non-present entry, pte markers included, is PM_SWAP. */
		flags |= PM_SWAP;
		if (is_pfn_swap_entry(e))
			p = pfn_swap_entry_page(m, e);
		if (is_pte_marker_entry(e) && (swp_offset(e) & PTE_MARKER_UFFD_WP))
			flags |= PM_UFFD_WP;
	}
	if (p && !PageAnon(compound_head(p)))
		flags |= PM_FILE;
	/*
	 * Exclusive only for a mapped page: a migration or hwpoison entry says
	 * nothing about who else maps the frame (the 6.6 stable rule).
	 */
	if (p && (flags & PM_PRESENT) && page_mapcount(p) == 1)
		flags |= PM_MMAP_EXCLUSIVE;
	return (frame & PM_PFRAME_MASK) | flags;
}

int mmsim_pagemap(struct mmsim_task *t, uint64_t vaddr, uint64_t *entry)
{
	KERNEL_ENTRY(t ? t->machine : NULL, t, false);
	struct mm_struct *mm;
	struct walk_res r;
	uint64_t addr;

	if (!t || !entry)
		return seterr(-EINVAL, "pagemap: %s", !t ? "no task" : "no entry pointer");
	*entry = 0;
	mm = t->mm;
	if (!mm)
		return seterr(-EINVAL, "pagemap: task %d has no address space", t->pid);
	/* Top-byte-ignore: a tagged pointer names the same page. */
	addr = vaddr & ((1ULL << 56) - 1);
	if (addr >= TASK_SIZE)
		return seterr(-EINVAL, "pagemap: address 0x%llx is beyond the %d-bit user address space",
			      (unsigned long long)vaddr, VA_BITS);
	if (!vma_lookup(mm, addr))
		return 0;

	walk_lookup(mm, addr, &r);
	if (r.level == WALK_PTE) {
		*entry = pte_pagemap_entry(mm->machine, r.val);
	} else if (r.level == WALK_PMD) {
		struct mmsim_machine *m = mm->machine;
		uint64_t idx = (addr & ~PMD_MASK) >> PAGE_SHIFT;
		uint64_t pfn = pte_pfn(r.val) + idx;
		uint64_t flags = PM_PRESENT;

		if (pfn_valid(m, pfn) && !pte_special(r.val)) {
			struct page *p = pfn_to_page(m, pfn);

			if (!(p->flags & PG_zero)) {
				if (!PageAnon(compound_head(p)))
					flags |= PM_FILE;
				if (page_mapcount(p) == 1)
					flags |= PM_MMAP_EXCLUSIVE;
			}
		}
		*entry = (pfn & PM_PFRAME_MASK) | flags;
	}
	return 0;
}
