// SPDX-License-Identifier: MIT
/*
 * kernel/machine.c - boot and tear-down of a simulated machine.
 *
 * Boot follows the order of an arm64 kernel: read the device tree, parse the
 * command line, lay out memory (memblock: memory ranges minus reservations),
 * build nodes and zones, hand free memory to the buddy allocator, allocate
 * the zero page, bring up the CPUs.  Simulated RAM is one host mapping over
 * the whole physical span, MAP_NORESERVE: a frame costs host memory only
 * once it is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "boot/devicetree.h"
#include "kernel/sched.h"
#include "mm/compaction.h"

#define MAX_PHYS_SPAN (1ULL << 40)      /* what one host mapping may cover */
#define ZONE_DMA_LIMIT_PFN ((4ULL << 30) >> PAGE_SHIFT)

static const struct { const char *name; uint64_t def; } cost_defaults[NR_COST_ITEMS] = {
#define X_DEF(e, n, d, h) [e] = { n, d },
	COST_ITEMS(X_DEF)
#undef X_DEF
};

static const char *const zone_names[MAX_NR_ZONES] = { "DMA", "Normal", "Movable" };

static void machine_set_defaults(struct mmsim_machine *m, const struct mmsim_options *o)
{
	for (int i = 0; i < NR_COST_ITEMS; i++)
		m->costs[i] = cost_defaults[i].def;
	m->seed = o->seed;
	m->rng_state = o->seed ^ 0x6d6d73696d2d6d6dULL;
	m->hw_afdbm = true;
	m->overcommit_memory = 0;
	m->overcommit_ratio = 50;
	m->watermark_scale_factor = 10;
	m->max_map_count = 65530;
	m->thp_enabled = 2;
	m->thp_defrag = 3;		/* madvise */
	m->thp_use_zero_page = 1;
	m->extfrag_threshold = 500;
	m->compaction_proactiveness = 20;
	m->mte.supported = true;
	m->mte.policy = TS_POLICY_RFC_V1;
	m->mte.tag_blocks_lock = (struct mutex)MUTEX_INIT("tag_blocks_lock");
	m->mte.xa_lock = (spinlock_t)SPINLOCK_INIT("tag_blocks_reserved.xa_lock");
	m->mte.fixed = true;		/* mte_fixes=off reproduces §6.6 as written */
	m->mte.fail_reserve = FAULT_ATTR_INITIALIZER("fail_tag_storage_reserve");
	m->next_pid = 100;
	m->next_inode_id = 1;		/* inode 0 is never used */
	INIT_LIST_HEAD(&m->tasks);
	INIT_LIST_HEAD(&m->mms);
	INIT_LIST_HEAD(&m->pins);
}

/*
 * parse_bootargs - the kernel parameters the model knows.  Like Linux,
 * unknown ones are logged and otherwise ignored; malformed known ones fail.
 */
static int parse_bootargs(struct mmsim_machine *m, const char *args)
{
	char buf[1024], unknown[1024] = "";
	char *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", args);
	snprintf(m->bootargs, sizeof(m->bootargs), "%s", args);
	for (tok = strtok_r(buf, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save)) {
		char *val = strchr(tok, '=');

		if (val)
			*val++ = '\0';
		if (!strcmp(tok, "transparent_hugepage") && val) {
			if (!strcmp(val, "always"))
				m->thp_enabled = 2;
			else if (!strcmp(val, "madvise"))
				m->thp_enabled = 1;
			else if (!strcmp(val, "never"))
				m->thp_enabled = 0;
			else
				return seterr(-MMSIM_EINVAL, "bootargs: transparent_hugepage=%s: expected always, madvise or never", val);
		} else if (!strcmp(tok, "thp_zero_wp") && val) {
			if (strcmp(val, "alloc") && strcmp(val, "split"))
				return seterr(-MMSIM_EINVAL, "bootargs: thp_zero_wp=%s: expected alloc or split", val);
			m->thp_zero_wp_alloc = !strcmp(val, "alloc");
		} else if (!strcmp(tok, "numa_balancing") && val) {
			if (!strcmp(val, "enable"))
				m->numa_balancing = 1;
			else if (!strcmp(val, "disable"))
				m->numa_balancing = 0;
			else
				return seterr(-MMSIM_EINVAL, "bootargs: numa_balancing=%s: expected enable or disable", val);
		} else if (!strcmp(tok, "id_aa64mmfr1.hafdbm") && val) {
			if (strcmp(val, "0") && strcmp(val, "1"))
				return seterr(-MMSIM_EINVAL, "bootargs: id_aa64mmfr1.hafdbm=%s: expected 0 or 1", val);
			m->hw_afdbm = val[0] == '1';
		} else if (!strcmp(tok, "min_free_kbytes") && val) {
			char *end;
			unsigned long long v = strtoull(val, &end, 0);

			if (*end || !v)
				return seterr(-MMSIM_EINVAL, "bootargs: min_free_kbytes=%s: expected a positive number", val);
			m->min_free_kbytes = v;
			m->min_free_kbytes_set = true;
		} else if (!strcmp(tok, "mte_tag_storage") && val) {
			if (!strcmp(val, "rfc-v1"))
				m->mte.policy = TS_POLICY_RFC_V1;
			else if (!strcmp(val, "cma"))
				m->mte.policy = TS_POLICY_CMA;
			else if (!strcmp(val, "static"))
				m->mte.policy = TS_POLICY_STATIC;
			else
				return seterr(-MMSIM_EINVAL, "bootargs: mte_tag_storage=%s: expected rfc-v1, cma or static", val);
		} else if (!strcmp(tok, "mte_fixes") && val) {
			if (strcmp(val, "on") && strcmp(val, "off"))
				return seterr(-MMSIM_EINVAL, "bootargs: mte_fixes=%s: expected on or off", val);
			m->mte.fixed = !strcmp(val, "on");
		} else if (!strcmp(tok, "mte_race_fix_off") && val) {
			char list[256], *r, *sv = NULL;

			snprintf(list, sizeof(list), "%s", val);
			for (r = strtok_r(list, ",", &sv); r; r = strtok_r(NULL, ",", &sv)) {
				char *end;
				long n = (r[0] == 'R' || r[0] == 'r') ? strtol(r + 1, &end, 10) : -1;

				if (n < 1 || n > 14 || *end)
					return seterr(-MMSIM_EINVAL, "bootargs: mte_race_fix_off: '%s' is not R1..R14", r);
				m->mte.race_fix_off |= 1U << (n - 1);
			}
		} else if (!strcmp(tok, "fail_tag_storage_reserve") && val) {
			char why[256];
			int ret = setup_fault_attr(&m->mte.fail_reserve, val);

			if (ret) {
				snprintf(why, sizeof(why), "%s", mmsim_strerror_last());
				return seterr(ret, "bootargs: %s", why);
			}
		} else if (!strcmp(tok, "arm64.nomte") && !val) {
			m->mte.supported = false;
		} else if (!strcmp(tok, "kasan") && val && !strcmp(val, "on")) {
			m->mte.kasan_hw = true;
		} else if (strcmp(tok, "console") && strncmp(tok, "earlycon", 8)) {
			size_t l = strlen(unknown);

			snprintf(unknown + l, sizeof(unknown) - l, "%s\"%s%s%s\"", l ? ", " : "", tok,
				 val ? "=" : "", val ? val : "");
		}
	}
	printk(m, "Kernel command line: %s", args);
	if (unknown[0])
		printk(m, "Unknown kernel command line parameters %s, will be passed to user space.", unknown);
	return 0;
}

/* Map simulated RAM and the memmap over [min_pfn, max_pfn). */
static int map_physical_memory(struct mmsim_machine *m, const char *src)
{
	uint64_t pages = m->max_pfn - m->min_pfn;

	if ((pages << PAGE_SHIFT) > MAX_PHYS_SPAN)
		return seterr(-MMSIM_EINVAL, "%s: memory spans 0x%llx bytes from 0x%llx; the model maps at most 1 TiB of physical span",
			      src, (unsigned long long)(pages << PAGE_SHIFT),
			      (unsigned long long)(m->min_pfn << PAGE_SHIFT));
	m->ram_map_bytes = pages << PAGE_SHIFT;
	m->ram = mmap(NULL, m->ram_map_bytes, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->ram == MAP_FAILED) {
		m->ram = NULL;
		return seterr(-MMSIM_ENOMEM, "cannot reserve %llu MiB of host address space for simulated RAM",
			      (unsigned long long)(m->ram_map_bytes >> 20));
	}
	m->memmap_map_bytes = pages * sizeof(struct page);
	m->memmap = mmap(NULL, m->memmap_map_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->memmap == MAP_FAILED) {
		m->memmap = NULL;
		return seterr(-MMSIM_ENOMEM, "cannot reserve host address space for the memmap");
	}
	return 0;
}

/* Grow a zone's span to cover [start, end) and count the frames present. */
static void zone_extend(struct zone *z, uint64_t start, uint64_t end)
{
	uint64_t zend = z->zone_start_pfn + z->spanned_pages;

	if (!z->spanned_pages) {
		z->zone_start_pfn = start;
		zend = end;
	}
	if (start < z->zone_start_pfn)
		z->zone_start_pfn = start;
	if (end > zend)
		zend = end;
	z->spanned_pages = zend - z->zone_start_pfn;
	z->present_pages += end - start;
}

static int add_usable(struct mmsim_machine *m, uint64_t start, uint64_t end, int nid, int zid)
{
	struct usable_range *u;

	if (start >= end)
		return 0;
	u = realloc(m->usable, sizeof(*u) * (m->nr_usable + 1));
	if (!u)
		return seterr(-MMSIM_ENOMEM, "out of host memory for the memory map");
	m->usable = u;
	u[m->nr_usable++] = (struct usable_range){ start, end, (uint8_t)nid, (uint8_t)zid };
	return 0;
}

/* Add [start, end) of node nid minus every memblock reservation. */
static int add_usable_minus_reserved(struct mmsim_machine *m, uint64_t start, uint64_t end,
				     int nid, int zid)
{
	const struct memblock_type *rsv = &m->memblock.reserved;

	for (unsigned int r = 0; r < rsv->cnt && start < end; r++) {
		uint64_t rs = rsv->regions[r].base >> PAGE_SHIFT;
		uint64_t re = (rsv->regions[r].base + rsv->regions[r].size + PAGE_SIZE - 1) >> PAGE_SHIFT;
		int err;

		if (re <= start || rs >= end)
			continue;
		if (rs > start && (err = add_usable_minus_reserved(m, start, rs, nid, zid)))
			return err;
		start = re;
	}
	return add_usable(m, start, end, nid, zid);
}

struct zone *pfn_zone_slow(struct mmsim_machine *m, uint64_t pfn)
{
	const struct memblock_type *mem = &m->memblock.memory;

	for (unsigned int r = 0; r < mem->cnt; r++) {
		uint64_t s = (mem->regions[r].base + PAGE_SIZE - 1) >> PAGE_SHIFT;
		uint64_t e = (mem->regions[r].base + mem->regions[r].size) >> PAGE_SHIFT;

		if (pfn >= s && pfn < e)
			return &m->nodes[mem->regions[r].nid].node_zones[pfn < ZONE_DMA_LIMIT_PFN ? ZONE_DMA : ZONE_NORMAL];
	}
	return NULL;
}

/* Record which zone owns each pageblock of the span. */
static void pb_zone_mark(struct mmsim_machine *m, uint64_t start, uint64_t end, uint8_t code)
{
	for (uint64_t pb = (start - m->min_pfn) >> 9; pb <= (end - 1 - m->min_pfn) >> 9; pb++) {
		bool whole = ((pb << 9) + m->min_pfn) >= start && ((pb + 1) << 9) + m->min_pfn <= end;

		if (m->pb_zone[pb] == PB_HOLE && whole)
			m->pb_zone[pb] = code;
		else if (m->pb_zone[pb] != code)
			m->pb_zone[pb] = PB_MIXED;
	}
}

/*
 * reserve_memmap - a Linux kernel keeps its struct page array (64 bytes a
 * frame) in RAM, allocated per node from the top of the node's memory, and
 * that memory is never managed.  The model's memmap lives in host memory,
 * but it reserves the same simulated RAM so MemTotal and the zones' managed
 * counts come out as a kernel's would.
 */
static void reserve_memmap(struct mmsim_machine *m)
{
	for (unsigned int n = 0; n < m->nr_nodes; n++) {
		uint64_t present = 0, need;
		struct usable_range *top = NULL;

		for (unsigned int i = 0; i < m->nr_usable; i++)
			if (m->usable[i].nid == n) {
				present += m->usable[i].end - m->usable[i].start;
				if (!top || m->usable[i].start > top->start)
					top = &m->usable[i];
			}
		need = (present * sizeof(struct page) + PAGE_SIZE - 1) >> PAGE_SHIFT;
		if (!top || top->end - top->start <= need)
			continue;
		top->end -= need;
		for (uint64_t pfn = top->end; pfn < top->end + need; pfn++)
			pfn_to_page(m, pfn)->flags |= PG_reserved;
		printk(m, "Node %u: memmap at [mem 0x%016llx-0x%016llx], %llu KiB reserved", n,
		       (unsigned long long)(top->end << PAGE_SHIFT),
		       (unsigned long long)(((top->end + need) << PAGE_SHIFT) - 1),
		       (unsigned long long)(need << (PAGE_SHIFT - 10)));
	}
}

/*
 * memmap_init - lay out nodes and zones from the memory ranges, and the
 * usable ranges (memory minus reservations) that page_alloc_init() frees.
 * Only reserved frames get their struct page written here: the memmap of
 * free memory is first touched when the allocator uses it.
 */
static int memmap_init(struct mmsim_machine *m)
{
	const struct memblock_type *mem = &m->memblock.memory, *rsv = &m->memblock.reserved;
	uint64_t pbs = ((m->max_pfn - m->min_pfn) >> 9) + 1;
	int err;

	m->pb_zone = malloc(pbs);
	if (!m->pb_zone)
		return seterr(-MMSIM_ENOMEM, "out of host memory for the zone map");
	memset(m->pb_zone, PB_HOLE, pbs);
	for (unsigned int r = 0; r < mem->cnt; r++) {
		const struct memblock_region *mr = &mem->regions[r];
		uint64_t start = (mr->base + PAGE_SIZE - 1) >> PAGE_SHIFT, end = (mr->base + mr->size) >> PAGE_SHIFT;
		uint64_t split = start < ZONE_DMA_LIMIT_PFN ? (end < ZONE_DMA_LIMIT_PFN ? end : ZONE_DMA_LIMIT_PFN) : start;
		struct pglist_data *pg = &m->nodes[mr->nid];

		if (start >= end)
			continue;
		if (split > start) {
			zone_extend(&pg->node_zones[ZONE_DMA], start, split);
			pb_zone_mark(m, start, split, (uint8_t)(mr->nid << 2 | ZONE_DMA));
			if ((err = add_usable_minus_reserved(m, start, split, mr->nid, ZONE_DMA)))
				return err;
		}
		if (end > split) {
			zone_extend(&pg->node_zones[ZONE_NORMAL], split, end);
			pb_zone_mark(m, split, end, (uint8_t)(mr->nid << 2 | ZONE_NORMAL));
			if ((err = add_usable_minus_reserved(m, split, end, mr->nid, ZONE_NORMAL)))
				return err;
		}
	}
	reserve_memmap(m);
	for (unsigned int r = 0; r < rsv->cnt; r++) {
		const struct memblock_region *rv = &rsv->regions[r];
		uint64_t start = rv->base >> PAGE_SHIFT, end = (rv->base + rv->size + PAGE_SIZE - 1) >> PAGE_SHIFT;

		for (uint64_t pfn = start; pfn < end; pfn++)
			if (pfn_valid(m, pfn) && pfn_zone(m, pfn))
				pfn_to_page(m, pfn)->flags |= PG_reserved;
		if (rv->name[0])
			printk(m, "Reserved memory: %s at 0x%016llx, size %llu MiB%s", rv->name,
			       (unsigned long long)rv->base, (unsigned long long)(rv->size >> 20),
			       rv->nomap ? " (no-map)" : "");
	}
	for (unsigned int n = 0; n < m->nr_nodes; n++) {
		struct pglist_data *pg = &m->nodes[n];
		uint64_t lo = UINT64_MAX, hi = 0;

		pg->node_id = (int)n;
		for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
			struct zone *z = &pg->node_zones[zi];

			z->zone_pgdat = pg;
			z->idx = (enum zone_type)zi;
			z->name = zone_names[zi];
			z->lock = (spinlock_t)SPINLOCK_INIT("zone->lock");
			if (z->spanned_pages) {
				if (z->zone_start_pfn < lo)
					lo = z->zone_start_pfn;
				if (z->zone_start_pfn + z->spanned_pages > hi)
					hi = z->zone_start_pfn + z->spanned_pages;
				pg->node_present_pages += z->present_pages;
			}
		}
		pg->node_start_pfn = lo == UINT64_MAX ? 0 : lo;
		pg->node_spanned_pages = hi > lo ? hi - lo : 0;
		for (unsigned int o = 0; o < MAX_NUMNODES; o++)
			pg->distance[o] = o == n ? 10 : 20;
	}
	return 0;
}

static void log_memory_layout(struct mmsim_machine *m)
{
	const struct memblock_type *mem = &m->memblock.memory;

	printk(m, "Zone ranges:");
	for (int zi = 0; zi < MAX_NR_ZONES; zi++) {
		uint64_t lo = UINT64_MAX, hi = 0;

		for (unsigned int n = 0; n < m->nr_nodes; n++) {
			struct zone *z = &m->nodes[n].node_zones[zi];

			if (!z->spanned_pages)
				continue;
			if (z->zone_start_pfn < lo)
				lo = z->zone_start_pfn;
			if (z->zone_start_pfn + z->spanned_pages > hi)
				hi = z->zone_start_pfn + z->spanned_pages;
		}
		if (zi == ZONE_MOVABLE)
			break;
		if (hi)
			printk(m, "  %-8s [mem 0x%016llx-0x%016llx]", zone_names[zi],
			       (unsigned long long)(lo << PAGE_SHIFT), (unsigned long long)((hi << PAGE_SHIFT) - 1));
		else
			printk(m, "  %-8s empty", zone_names[zi]);
	}
	printk(m, "Movable zone start for each node");
	printk(m, "Early memory node ranges");
	for (unsigned int r = 0; r < mem->cnt; r++)
		printk(m, "  node %3d: [mem 0x%016llx-0x%016llx]", mem->regions[r].nid,
		       (unsigned long long)mem->regions[r].base,
		       (unsigned long long)(mem->regions[r].base + mem->regions[r].size - 1));
}

/* The zero page: one reserved, zeroed frame every read-only fault may map. */
static int zero_page_init(struct mmsim_machine *m)
{
	struct page *p = alloc_pages_node(m, 0, GFP_KERNEL | __GFP_ZERO, 0);

	if (!p)
		return seterr(-MMSIM_ENOMEM, "no memory for the zero page");
	p->flags |= PG_reserved | PG_zero;
	m->zero_pfn = page_to_pfn(m, p);
	return 0;
}

static int cpus_init(struct mmsim_machine *m, const struct dt_machine *dt, unsigned int want)
{
	m->nr_cpus = want ? want : dt->nr_cpus ? dt->nr_cpus : 2;
	if (m->nr_cpus > MAX_CPUS)
		return seterr(-MMSIM_EINVAL, "nr_cpus %u: the model supports at most %d CPUs",
			      m->nr_cpus, MAX_CPUS);
	m->cpus = calloc(m->nr_cpus, sizeof(*m->cpus));
	if (!m->cpus)
		return seterr(-MMSIM_ENOMEM, "out of host memory for %u CPUs", m->nr_cpus);
	for (unsigned int c = 0; c < m->nr_cpus; c++) {
		m->cpus[c].id = c;
		m->cpus[c].nid = c < dt->nr_cpus ? dt->cpu_nid[c] : 0;
		if (m->cpus[c].nid >= (int)m->nr_nodes)
			m->cpus[c].nid = 0;
		tlb_init(&m->cpus[c].tlb);
	}
	return 0;
}

static int machine_boot(struct mmsim_machine *m, const struct mmsim_options *o)
{
	char err[512];
	struct dt_machine *dt;
	int ret;

	dt = m->dt = calloc(1, sizeof(*dt));
	if (!dt)
		return seterr(-MMSIM_ENOMEM, "out of host memory");
	ret = dt_load(o->devicetree, dt, err, sizeof(err));
	if (ret)
		return seterr(ret, "%s", err);
	if (!dt->nr_mem)
		return seterr(-MMSIM_EINVAL, "%s: no memory node", dt->source);
	printk(m, "Booting Linux on physical CPU 0x0000000000 [0x413fd0c1]");
	printk(m, "Machine model: %s", dt->model[0] ? dt->model : "unknown");
	ret = parse_bootargs(m, o->bootargs ? o->bootargs : dt->bootargs);
	if (ret)
		return ret;
	m->nr_nodes = dt->nr_nodes ? dt->nr_nodes : 1;
	for (unsigned int r = 0; r < dt->nr_mem; r++)
		if (memblock_add_node(m, dt->mem[r].base, dt->mem[r].size, dt->mem[r].nid))
			return seterr(-MMSIM_EINVAL, "%s: too many memory ranges", dt->source);
	for (unsigned int r = 0; r < dt->nr_reserved; r++)
		if ((dt->reserved[r].nomap ? memblock_reserve_nomap : memblock_reserve)
			(m, dt->reserved[r].base, dt->reserved[r].size, dt->reserved[r].name))
			return seterr(-MMSIM_EINVAL, "%s: too many reserved ranges", dt->source);
	if ((ret = mte_tag_storage_init(m, dt)))
		return ret;
	m->min_pfn = memblock_start_of_DRAM(m) >> PAGE_SHIFT;
	m->max_pfn = memblock_end_of_DRAM(m) >> PAGE_SHIFT;
	if (m->max_pfn <= m->min_pfn)
		return seterr(-MMSIM_EINVAL, "%s: memory ranges hold no whole page", dt->source);
	/* Align the span so pageblocks and the largest buddy blocks stay aligned. */
	m->min_pfn &= ~((1ULL << MAX_PAGE_ORDER) - 1);
	if ((ret = map_physical_memory(m, dt->source)))
		return ret;
	if ((ret = cpus_init(m, dt, o->nr_cpus)))
		return ret;
	if ((ret = memmap_init(m)))
		return ret;
	log_memory_layout(m);
	if ((ret = page_alloc_init(m)))
		return ret;
	if ((ret = zero_page_init(m)))
		return ret;
	if ((ret = mte_tag_storage_activate(m)))
		return ret;
	if ((ret = kcompactd_init(m)))
		return ret;
	{
		uint64_t physpages = 0;

		for (unsigned int n = 0; n < m->nr_nodes; n++)
			physpages += m->nodes[n].node_present_pages;
		printk(m, "Memory: %lluK/%lluK available (%lluK reserved)",
		       (unsigned long long)(global_free_pages(m) << (PAGE_SHIFT - 10)),
		       (unsigned long long)(physpages << (PAGE_SHIFT - 10)),
		       (unsigned long long)((physpages - m->totalram_pages) << (PAGE_SHIFT - 10)));
	}
	printk(m, "smp: Brought up %u node%s, %u CPU%s", m->nr_nodes, m->nr_nodes > 1 ? "s" : "",
	       m->nr_cpus, m->nr_cpus > 1 ? "s" : "");
	return 0;
}

int mmsim_machine_create(const struct mmsim_options *opt, struct mmsim_machine **out)
{
	static const struct mmsim_options defaults;
	struct mmsim_machine *m;
	int ret;

	if (!out)
		return seterr(-MMSIM_EINVAL, "mmsim_machine_create: out is NULL");
	*out = NULL;
	if (!opt)
		opt = &defaults;
	m = calloc(1, sizeof(*m));
	if (!m)
		return seterr(-MMSIM_ENOMEM, "mmsim_machine_create: out of host memory");
	machine_set_defaults(m, opt);
	ret = sched_init(m);
	if (!ret)
		ret = machine_boot(m, opt);
	if (!ret)
		ret = swap_init(m, opt->swap_bytes, opt->swap_path);
	if (ret) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", mmsim_strerror_last());
		mmsim_machine_destroy(m);
		return seterr(ret, "%s", msg);
	}
	*out = m;
	return 0;
}

void task_free_all(struct mmsim_machine *m);
void pins_free_all(struct mmsim_machine *m);

void mmsim_machine_destroy(struct mmsim_machine *m)
{
	if (!m)
		return;
	m->dying = true;
	if (m->trace_json)
		trace_json_close(m);
	task_free_all(m);
	pins_free_all(m);
	swap_exit(m);
	kcompactd_exit(m);
	tagbuf_free_all(&m->mte.tags_by_pfn);
	tagbuf_free_all(&m->mte.tags_by_swp_entry);
	if (m->mte.hidden_tags)
		munmap(m->mte.hidden_tags, m->mte.hidden_bytes);
	for (unsigned int n = 0; n < MAX_NUMNODES; n++)
		for (int zi = 0; zi < MAX_NR_ZONES; zi++)
			free(m->nodes[n].node_zones[zi].pageblock_mt);
	if (m->ram)
		munmap(m->ram, m->ram_map_bytes);
	if (m->memmap)
		munmap(m->memmap, m->memmap_map_bytes);
	free(m->cpus);
	free(m->pb_zone);
	free(m->usable);
	free(m->dt);
	free(m->kmsg);
	free(m->subs);
	sched_destroy(m);
	free(m);
}

/* ------------------------------------------------------- small accessors */

uint64_t mmsim_now(struct mmsim_machine *m)
{
	KERNEL_ENTRY(m, NULL, false);
	return m ? m->now : 0;
}

unsigned int mmsim_nr_cpus(struct mmsim_machine *m)
{
	return m ? m->nr_cpus : 0;
}

unsigned int mmsim_nr_nodes(struct mmsim_machine *m)
{
	return m ? m->nr_nodes : 0;
}

const char *mmsim_default_dts(void)
{
	return dt_builtin_dts();
}

int mmsim_cost_set(struct mmsim_machine *m, const char *name, uint64_t ns)
{
	KERNEL_ENTRY(m, NULL, false);
	if (!m || !name)
		return seterr(-MMSIM_EINVAL, "mmsim_cost_set: %s is NULL", m ? "name" : "machine");
	for (int i = 0; i < NR_COST_ITEMS; i++)
		if (!strcmp(cost_defaults[i].name, name)) {
			m->costs[i] = ns;
			return 0;
		}
	return seterr(-MMSIM_ENOENT, "mmsim_cost_set: no cost named '%s' (see mmsim_cost_list)", name);
}

ssize_t mmsim_cost_list(struct mmsim_machine *m, char *buf, size_t len)
{
	KERNEL_ENTRY(m, NULL, false);
	static const char *const help[NR_COST_ITEMS] = {
#define X_HELP(e, n, d, h) [e] = h,
		COST_ITEMS(X_HELP)
#undef X_HELP
	};
	size_t off = 0;

	if (!m)
		return seterr(-MMSIM_EINVAL, "mmsim_cost_list: machine is NULL");
	for (int i = 0; i < NR_COST_ITEMS; i++) {
		char line[160];
		int n = snprintf(line, sizeof(line), "%-16s %8llu ns  %s\n", cost_defaults[i].name,
				 (unsigned long long)m->costs[i], help[i]);

		if (buf && off + (size_t)n < len)
			memcpy(buf + off, line, (size_t)n + 1);
		off += (size_t)n;
	}
	return (ssize_t)off;
}
