/* SPDX-License-Identifier: MIT */
/*
 * kernel/machine.h - the simulated machine and the tasks that run on it.
 *
 * One struct mmsim_machine holds everything a booted system has: simulated
 * RAM and its memmap, the NUMA nodes with their zones, the CPUs with their
 * TLBs, the tasks and address spaces, the counters, simulated time and the
 * seeded generator.  Nothing in the model is global: two machines in one host
 * process never see each other.
 */
#ifndef MMSIM_KERNEL_MACHINE_H
#define MMSIM_KERNEL_MACHINE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mmsim.h"
#include "kernel/list.h"
#include "mm/mm_types.h"
#include "mm/vmstat.h"
#include "hw/tlb.h"
#include "arch/arm64/mte.h"
#include "kernel/sched.h"

struct dt_machine;
struct fault_on_access_test_hook;
struct capture_control;

/*
 * Simulated cost of each operation, in ns.  Defaults approximate what an
 * arm64 server core of the Neoverse N1 class spends (fault entry and exit,
 * clearing and copying a 4 KiB page at ~20 GB/s, a TLB walk that hits in the
 * caches, a broadcast TLBI + DSB); mmsim_cost_set() overrides any of them.
 */
#define COST_ITEMS(X)                                                           \
	X(COST_TLB_HIT, "tlb_hit", 1, "load/store that hits the TLB")           \
	X(COST_TLB_WALK, "tlb_miss_walk", 25, "hardware table walk on a TLB miss") \
	X(COST_FAULT_ENTRY, "fault_entry", 250, "exception entry, do_page_fault, return") \
	X(COST_PAGE_ALLOC, "page_alloc", 60, "one buddy/pcp allocation")        \
	X(COST_PAGE_FREE, "page_free", 40, "one page freed")                    \
	X(COST_ZERO_PAGE, "zero_page", 180, "clearing a 4 KiB page")            \
	X(COST_COPY_PAGE, "copy_page", 260, "copying a 4 KiB page")             \
	X(COST_PTE_UPDATE, "pte_update", 10, "writing one descriptor")          \
	X(COST_TLBI_PAGE, "tlbi_page", 40, "TLBI VAE1IS + DSB for one page")    \
	X(COST_TLBI_ASID, "tlbi_asid", 120, "TLBI ASIDE1IS + DSB")              \
	X(COST_TLBI_ALL, "tlbi_all", 300, "TLBI VMALLE1IS + DSB")               \
	X(COST_TLB_IPI, "tlb_ipi", 900, "a shootdown to one other CPU: IPI, its TLBI, the acknowledgement") \
	X(COST_SYSCALL, "syscall", 150, "system call entry and exit")           \
	X(COST_VMA_OP, "vma_op", 200, "a VMA insert, split, merge or removal")  \
	X(COST_MIGRATE_PAGE, "migrate_page", 1500, "unmap, copy and remap one page") \
	X(COST_FORK_PTE, "fork_pte", 15, "copying one PTE at fork")                 \
	X(COST_TAG_RESERVE, "tag_block_reserve", 1200, "alloc_contig_range of a free tag block + DC IVAC") \
	X(COST_TAG_CLEAR, "tag_clear_page", 40, "zeroing a page's 128 tag bytes (DC GZVA: with the data)")

#define X_ENUM(e, n, d, h) e,
enum cost_item { COST_ITEMS(X_ENUM) NR_COST_ITEMS };
#undef X_ENUM

/*
 * Parallel runs (kernel/sched.c): what a CPU counts while it runs beside
 * the others.  Linux keeps vmstat differentials per CPU and folds them into
 * the zone and node totals past a threshold; so does the model, and it
 * folds everything (with the CPU's clock) whenever one body takes the
 * whole machine and at the end of the run, so totals are exact whenever
 * only one body runs.  Zero outside parallel runs (mmsim_check).
 */
#define STAT_THRESHOLD 32
struct cpu_stat_diff {
	uint64_t clock;                 /* simulated ns spent here, not yet in m->now */
	int64_t vm_events[NR_VM_EVENT_ITEMS];
	int64_t numa[MAX_NUMNODES][NR_VM_NUMA_EVENT_ITEMS];
	int32_t node[MAX_NUMNODES][NR_VM_NODE_STAT_ITEMS];
	int32_t zone[MAX_NUMNODES][MAX_NR_ZONES][NR_VM_ZONE_STAT_ITEMS];
};

/* Linux's PAGEVEC_SIZE: pages a CPU gathers before it takes the lru_lock. */
#define LRU_ADD_BATCH 31

/*
 * Parallel runs: a TLB invalidation another CPU asks this one to do
 * (arch/arm64/tlbflush.c).  Only the body holding a CPU touches its TLB,
 * so a flusher running beside the others posts here and waits.
 */
enum tlb_req_kind {
	TLB_REQ_PAGES,                  /* TLBI VAE1 on each page of [start, end)   */
	TLB_REQ_BLOCK,                  /* one TLBI dropping a block's [start, end) */
	TLB_REQ_ASID,                   /* TLBI ASIDE1                              */
};
struct tlb_flush_req {
	uint64_t start, end;            /* the range (PAGES, BLOCK)                 */
	uint16_t asid;
	uint8_t kind;                   /* enum tlb_req_kind                        */
};
#define TLB_MAILBOX_SLOTS 8
/*
 * A CPU's shootdown mailbox, the model's IPI.  Senders add requests under
 * lock and bump posted; the CPU's holder takes them all, applies them to
 * its TLB and publishes acked = the posted it took.  pending is the one
 * word the access path reads.  Empty whenever no parallel run is under
 * way or one body holds the whole machine (mmsim_check).
 */
struct tlb_mailbox {
	uint32_t lock;                  /* host spinlock of senders and receiver    */
	uint32_t pending;               /* nonzero while requests wait              */
	uint32_t nr;                    /* requests in req[]                        */
	uint32_t overflow;              /* requests past req[]: flush the whole TLB */
	uint64_t posted;                /* requests ever posted (generation)        */
	uint64_t acked;                 /* requests applied so far, in post order   */
	struct tlb_flush_req req[TLB_MAILBOX_SLOTS];
};

/* One CPU: its TLB and what it is running. */
struct cpu {
	unsigned int id;
	int nid;
	struct mmsim_task *curr;
	struct tlb tlb;
	/*
	 * Parallel runs: a ticket lock held by the body running on this CPU
	 * (one at a time, like a core), alone on its cache line.
	 */
	_Alignas(64) uint32_t run_next;
	uint32_t run_serving;
	_Alignas(64) struct tlb_mailbox ipi;
	_Alignas(64) struct cpu_stat_diff diff;
	/*
	 * Parallel runs: rss changes of one mm not yet in mm->rss (mm/memory.c
	 * inc_mm_counter_page), so that threads of one process faulting on two
	 * CPUs do not share the counter's line on every fault.
	 */
	struct mm_struct *rss_mm;
	int64_t rss_delta[NR_MM_COUNTERS];
	unsigned int rss_events;        /* changes cached since the last sync       */
	/* Parallel runs: new user pages not yet on the LRU (mm/swap.c lru_add). */
	struct {
		unsigned int nr;
		struct page *pages[LRU_ADD_BATCH];
	} lru_add;
};

/*
 * The run lock's two ends (kernel/sched.c takes it in turn).  Taking it is
 * a seq_cst read-modify-write and a holder then reads its mailbox: with a
 * sender posting (seq_cst) and then looking whether the CPU is held, one
 * of the two always sees the other (tlbflush.c).
 */
static inline bool cpu_run_trylock(struct cpu *c)
{
	uint32_t serving = __atomic_load_n(&c->run_serving, __ATOMIC_RELAXED), next = serving;

	return __atomic_compare_exchange_n(&c->run_next, &next, serving + 1, false, __ATOMIC_SEQ_CST,
					   __ATOMIC_RELAXED);
}
static inline void cpu_run_unlock(struct cpu *c)
{
	__atomic_fetch_add(&c->run_serving, 1, __ATOMIC_RELEASE);
}
/* Is c held (or about to be, by a body holding a ticket)?  run_next first: see tlbflush.c. */
static inline bool cpu_run_held(struct cpu *c)
{
	uint32_t next = __atomic_load_n(&c->run_next, __ATOMIC_SEQ_CST);

	return __atomic_load_n(&c->run_serving, __ATOMIC_SEQ_CST) != next;
}

struct files_struct {
	int refcount;
	int nr;                         /* size of fd[]                             */
	struct file **fd;
};

enum file_type { FILE_MEMFD, FILE_USERFAULTFD };

struct file {
	int refcount;
	enum file_type type;
	struct shmem_inode *inode;
	unsigned int flags;
};

struct mmsim_task {
	struct mmsim_machine *machine;
	int pid, tgid;
	struct mm_struct *mm;
	struct files_struct *files;
	unsigned int cpu;
	/*
	 * Cached for the load/store fast path: the CPU's TLB (in parallel mode
	 * an empty one, so the inline path misses and the out-of-line one
	 * holds the CPU) and mm's ASID (0 = none).
	 */
	const struct tlb *tlb;
	uint16_t asid;
	bool par_fast;                  /* parallel mode: the fast path holds the CPU */
	bool killed;                    /* SIGKILL delivered (OOM); calls -ESRCH   */
	uint64_t min_flt, maj_flt;
	uint64_t tagged_addr_ctrl;      /* prctl(PR_SET_TAGGED_ADDR_CTRL) value     */
	bool mte_async_pending;         /* an asynchronous tag check fault (TFSR)    */
	bool mte_async_entered;         /* ... and the kernel was entered since      */
	bool fatal_signal_pending;      /* SIGKILL queued, not yet acted on          */
	bool memalloc_isolate;          /* PF_MEMALLOC_ISOLATE (0x00010000)          */
	/*
	 * Direct compaction (mm/compaction.c): the capture control of the one
	 * under way, which takes a block of its order as soon as a free forms
	 * one (NULL: none); and compact_zone() runs under way, during which an
	 * allocation neither reclaims nor compacts (PF_MEMALLOC: no recursion).
	 */
	struct capture_control *capture_control;
	unsigned int compacting;
	int mempolicy_mode;             /* set_mempolicy()                           */
	uint64_t mempolicy_nodes;
	unsigned int il_next;           /* next node for MPOL_INTERLEAVE            */
	struct list_head tasks_node;    /* machine->tasks                           */
	/* A blocked access, replayed by mmsim_task_resume().                      */
	struct {
		bool active;
		int kind;               /* 0 load, 1 store, 2 fill                  */
		uint64_t addr, len;
		void *dst;
		const void *src;
		int byte;
	} blocked;
};

struct trace_sub {
	char pattern[64];
	mmsim_trace_fn fn;
	void *ctx;
};

struct pin_record;

/* mm/memblock.c: boot-time memory and reservations (Linux's memblock). */
#define MEMBLOCK_MAX 160
struct memblock_region {
	uint64_t base, size;
	int nid;
	bool nomap;
	char name[64];
};
struct memblock_type {
	unsigned int cnt;
	struct memblock_region regions[MEMBLOCK_MAX];
};
struct memblock {
	struct memblock_type memory, reserved;
};
struct swap_info_struct;

struct mmsim_machine {
	/* Physical memory: one host mapping spans the physical address range. */
	uint8_t *ram;                   /* host address of min_pfn                 */
	uint64_t min_pfn, max_pfn;      /* [min_pfn, max_pfn) spans every bank      */
	struct page *memmap;            /* memmap[pfn - min_pfn]                    */
	/*
	 * Zone of each pageblock of the span: nid << 2 | zone index, PB_HOLE
	 * where there is no memory, PB_MIXED where a range boundary cuts the
	 * pageblock.  Looking a frame's zone up here, rather than in its struct
	 * page, is what lets boot leave the memmap of free memory untouched.
	 */
	uint8_t *pb_zone;
	struct memblock memblock;       /* boot memory layout (mm/memblock.c)        */
	struct usable_range { uint64_t start, end; uint8_t nid, zid; } *usable;
	unsigned int nr_usable;
	size_t ram_map_bytes, memmap_map_bytes;
	struct dt_machine *dt;

	struct pglist_data nodes[MAX_NUMNODES];
	unsigned int nr_nodes;
	struct cpu *cpus;
	unsigned int nr_cpus;

	uint64_t totalram_pages;        /* managed pages over all zones            */
	uint64_t zero_pfn;              /* ZERO_PAGE(0)                            */
	int64_t vm_events[NR_VM_EVENT_ITEMS];

	/* Address spaces and tasks. */
	struct list_head tasks;         /* every live task, by creation            */
	struct list_head mms;           /* every live mm, by creation              */
	int next_pid;
	uint64_t next_mm_id, next_anon_vma_id, next_inode_id;
	uint64_t asid_map[1024];        /* 65536 ASIDs; bit set = in use           */

	/* Time and determinism. */
	uint64_t now;                   /* simulated ns                            */
	uint64_t costs[NR_COST_ITEMS];
	uint64_t seed;
	uint64_t rng_state;

	/* Knobs (sysctl and sysfs). */
	bool hw_afdbm;                  /* hardware Access flag and dirty state     */
	int overcommit_memory;
	int overcommit_ratio;
	int numa_balancing;
	uint64_t min_free_kbytes;
	bool min_free_kbytes_set;       /* given on the command line            */
	int watermark_scale_factor;
	int max_map_count;
	int thp_enabled;                /* 0 never, 1 madvise, 2 always             */
	int thp_defrag;
	int thp_use_zero_page;
	int extfrag_threshold;          /* vm.extfrag_threshold (0..1000)          */
	int compaction_proactiveness;   /* vm.compaction_proactiveness (0..100)    */
	/*
	 * Seed 003 (spec §7.4): a write to the huge zero page allocates a THP
	 * (bootargs thp_zero_wp=alloc) instead of splitting to PTEs (split,
	 * Linux before that series).
	 */
	bool thp_zero_wp_alloc;
	uint64_t huge_zero_pfn;         /* head of the huge zero page, 0 = none yet  */
	char bootargs[1024];

	/* Events and the kernel log. */
	struct trace_sub *subs;
	int nr_subs;
	char *kmsg;
	size_t kmsg_len, kmsg_cap;

	struct list_head pins;          /* live mmsim_pin records                   */
	struct mte_state mte;           /* MTE and tag storage (arch/arm64/mte.h)    */
	struct swap_info_struct *swap;  /* the swap device, NULL without one         */
	uint64_t daemon_last[8];        /* when each daemon last ran (daemons.c)     */
	/* What "current" is: the task on whose behalf the model runs now. */
	struct mmsim_task *current;
	unsigned int this_cpu;
	/*
	 * The compaction state of a context with no task current (kcompactd,
	 * plain kernel calls); a task has its own (struct mmsim_task).
	 */
	struct capture_control *capture_control;
	unsigned int compacting;
	int64_t bad_pages;              /* pages freed in a bad state (BUG)         */
	bool dying;                     /* mmsim_machine_destroy in progress        */
	/* Fault-on-access callbacks that broke the lock or reference rules.       */
	uint64_t fault_contract_violations;
	struct sched *sched;            /* task bodies and their runs (kernel/sched.c) */
	uint64_t sched_steps;           /* scheduling points of every run so far      */
	struct trace_json *trace_json;  /* the run's JSON trace, when one is written  */
	/*
	 * Page allocations that failed where Linux's allocator would invoke
	 * the OOM killer.  The model leaves that kill to the fault handler
	 * (arch/arm64/fault.c), which uses this count to tell such a
	 * VM_FAULT_OOM from one that leaked out of another failure.
	 */
	uint64_t oom_alloc_failures;
	/* pagefault_out_of_memory's ratelimit: window start, messages in it.     */
	uint64_t pfoom_rs_begin;
	unsigned int pfoom_rs_printed;
	/* Test only: stands in for the arch fault-on-access hooks when set.       */
	const struct fault_on_access_test_hook *fault_on_access_test_hook;
	/*
	 * Test only: TLB flushes skip every CPU but the flusher's own - the
	 * missed shootdown the tests must catch (stale reads, mmsim_check).
	 */
	bool debug_no_remote_tlb_flush;
};

static inline struct page *pfn_to_page(struct mmsim_machine *m, uint64_t pfn)
{
	return &m->memmap[pfn - m->min_pfn];
}
static inline uint64_t page_to_pfn(struct mmsim_machine *m, const struct page *p)
{
	return (uint64_t)(p - m->memmap) + m->min_pfn;
}
static inline bool pfn_valid(struct mmsim_machine *m, uint64_t pfn)
{
	return pfn >= m->min_pfn && pfn < m->max_pfn;
}
/* Host address of a simulated physical frame. */
static inline uint8_t *pfn_to_virt(struct mmsim_machine *m, uint64_t pfn)
{
	return m->ram + ((pfn - m->min_pfn) << PAGE_SHIFT);
}
static inline uint8_t *page_address(struct mmsim_machine *m, const struct page *p)
{
	return pfn_to_virt(m, page_to_pfn(m, p));
}
#define PB_HOLE  0xff
#define PB_MIXED 0xfe
struct zone *pfn_zone_slow(struct mmsim_machine *m, uint64_t pfn);
static inline struct zone *pfn_zone(struct mmsim_machine *m, uint64_t pfn)
{
	uint8_t z = m->pb_zone[(pfn - m->min_pfn) >> 9];

	if (z < PB_MIXED)
		return &m->nodes[z >> 2].node_zones[z & 3];
	return pfn_zone_slow(m, pfn);
}
static inline struct zone *page_zone(struct mmsim_machine *m, const struct page *p)
{
	return pfn_zone(m, page_to_pfn(m, p));
}

/*
 * Time and counters.  Outside a parallel run (and in its exclusive parts)
 * they go straight to the machine's totals; a CPU running beside others
 * keeps them in its own differentials (struct cpu_stat_diff).
 */
static inline void charge_ns(struct mmsim_machine *m, uint64_t ns)
{
	struct cpu *c = par_cpu;

	if (c)
		c->diff.clock += ns;
	else
		m->now += ns;
}
static inline void charge(struct mmsim_machine *m, enum cost_item c) { charge_ns(m, m->costs[c]); }
static inline void count_vm_events(struct mmsim_machine *m, enum vm_event_item e, int64_t n)
{
	struct cpu *c = par_cpu;

	if (c)
		c->diff.vm_events[e] += n;
	else
		m->vm_events[e] += n;
}
static inline void count_vm_event(struct mmsim_machine *m, enum vm_event_item e) { count_vm_events(m, e, 1); }

/* Past the threshold a differential goes into the total, atomically: others read it. */
static inline void fold_diff(int64_t *total, int32_t *diff, int64_t d)
{
	int64_t v = *diff + d;

	if (v > STAT_THRESHOLD || v < -STAT_THRESHOLD) {
		__atomic_fetch_add(total, v, __ATOMIC_RELAXED);
		v = 0;
	}
	*diff = (int32_t)v;
}
static inline void mod_node_page_state(struct pglist_data *pg, enum node_stat_item i, int64_t d)
{
	struct cpu *c = par_cpu;

	if (c)
		fold_diff(&pg->vm_stat[i], &c->diff.node[pg->node_id][i], d);
	else
		pg->vm_stat[i] += d;
}
static inline void mod_zone_page_state(struct zone *z, enum zone_stat_item i, int64_t d)
{
	struct cpu *c = par_cpu;

	if (c)
		fold_diff(&z->vm_stat[i], &c->diff.zone[z->zone_pgdat->node_id][z->idx][i], d);
	else
		z->vm_stat[i] += d;
}
static inline void count_numa_events(struct pglist_data *pg, enum numa_stat_item i, int64_t n)
{
	struct cpu *c = par_cpu;

	if (c)
		c->diff.numa[pg->node_id][i] += n;
	else
		pg->numa_stat[i] += n;
}
/* A zone counter as the allocator reads it: CPUs running beside it may be folding into it. */
static inline int64_t zone_page_state(const struct zone *z, enum zone_stat_item i)
{
	return __atomic_load_n(&z->vm_stat[i], __ATOMIC_RELAXED);
}

/*
 * current and smp_processor_id(): the machine's in a plain call or when one
 * body holds the whole machine; the CPU's own while it runs beside others.
 */
static inline struct mmsim_task *get_current(struct mmsim_machine *m)
{
	struct cpu *c = par_cpu;

	return c ? c->curr : m->current;
}
static inline unsigned int smp_processor_id(struct mmsim_machine *m)
{
	struct cpu *c = par_cpu;

	return c ? c->id : m->this_cpu;
}
/* Fold every CPU's differentials into the totals; no CPU may be running beside. */
void fold_cpu_stats(struct mmsim_machine *m);
void lru_add_drain_all(struct mmsim_machine *m);
void sync_mm_rss_all(struct mmsim_machine *m);

/* kernel/error.c: the calling host thread's last failure. */
int  seterr(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void clearerr_last(void);

/* kernel/printk.c: the kernel log (kmsg). */
void printk(struct mmsim_machine *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define pr_info(m, ...) printk(m, __VA_ARGS__)

/* kernel/rand.c: the machine's seeded generator. */
uint64_t prandom_u64(struct mmsim_machine *m);
uint64_t prandom_below(struct mmsim_machine *m, uint64_t n);

/* kernel/trace.c */
bool trace_enabled(struct mmsim_machine *m);
void trace_event(struct mmsim_machine *m, const char *name, int cpu, int pid,
		 uint64_t addr, uint64_t pfn, unsigned int order, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));
#define TRACE(m, ...) do { if ((m)->nr_subs) trace_event(m, __VA_ARGS__); } while (0)

/* kernel/task.c */
struct mmsim_task *find_task_by_pid(struct mmsim_machine *m, int pid);
int task_check_alive(struct mmsim_task *t);
void kill_process(struct mmsim_machine *m, int tgid);
void mte_note_kernel_entry(struct mmsim_task *t);
/* System-call entry: the task must be alive (-ESRCH, reason set); charges the entry cost. */
static inline int syscall_enter(struct mmsim_task *t)
{
	int err;

	sched_point("syscall");
	err = task_check_alive(t);
	if (!err) {
		charge(t->machine, COST_SYSCALL);
		mte_note_kernel_entry(t);
	}
	return err;
}
void task_update_fastpath(struct mmsim_task *t);

/* kernel/file.c */
struct files_struct *files_alloc(void);
struct files_struct *files_dup(struct files_struct *old);
void files_put(struct mmsim_machine *m, struct files_struct *f);

/* kernel/fork.c */
int dup_mm(struct mmsim_task *parent, struct mm_struct **out);

#endif
