/* SPDX-License-Identifier: MIT */
/*
 * arch/arm64/pgtable.h - VMSAv8-64 descriptors, 4 KiB granule, 48-bit VA.
 *
 * Descriptors are the 64-bit words the MMU reads from simulated RAM.  The
 * hardware fields are the architecture's; the software fields are the ones
 * Linux arm64 keeps in bits the MMU ignores (PTE_DIRTY, PTE_SPECIAL, and for
 * invalid entries PTE_PROT_NONE and the swap-entry layout).
 *
 *   63   59 58  56 55 54 53  51   47                 12 11 10 9 8 7 6 5 4 2 1 0
 *  +-------+------+--+--+--+---+--------------------+--+--+---+--+--+-+-----+-+-+
 *  | sw    |PN/SP |D |UXN|PXN|DBM| output address    |nG|AF|SH |RO|U |NS|Attr|T|V|
 *  +-------+------+--+--+--+---+--------------------+--+--+---+--+--+-+-----+-+-+
 *
 * Four levels: L0 (pgd, 512 GiB per entry), L1 (pud, 1 GiB), L2 (pmd, 2 MiB),
 * L3 (pte, 4 KiB).  The p4d level is folded into the pgd, as in Linux.
 */
#ifndef MMSIM_ARCH_ARM64_PGTABLE_H
#define MMSIM_ARCH_ARM64_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t pteval_t;

/*
 * Reading and writing a descriptor whole (Linux's READ_ONCE/WRITE_ONCE in
 * ptep_get and set_pte): in parallel mode the MMU of another CPU, or a
 * fault there, may read an entry while it is written under its lock.  The
 * write publishes what it points to (a zeroed table, a filled page) the
 * way pmd_install's smp_wmb() and the walker's ordering do.
 */
static inline pteval_t ptep_get(const pteval_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void set_pte(pteval_t *p, pteval_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

#define PAGE_SHIFT      12
#define PAGE_SIZE       (1ULL << PAGE_SHIFT)
#define PAGE_MASK       (~(PAGE_SIZE - 1))
#define PTRS_PER_TABLE  512
#define VA_BITS         48
#define TASK_SIZE       (1ULL << VA_BITS)

#define PMD_SHIFT       21
#define PUD_SHIFT       30
#define PGDIR_SHIFT     39
#define PMD_SIZE        (1ULL << PMD_SHIFT)
#define PUD_SIZE        (1ULL << PUD_SHIFT)
#define PGDIR_SIZE      (1ULL << PGDIR_SHIFT)
#define PMD_MASK        (~(PMD_SIZE - 1))
#define PUD_MASK        (~(PUD_SIZE - 1))
#define PGDIR_MASK      (~(PGDIR_SIZE - 1))

#define pgd_index(va)   (((va) >> PGDIR_SHIFT) & (PTRS_PER_TABLE - 1))
#define pud_index(va)   (((va) >> PUD_SHIFT) & (PTRS_PER_TABLE - 1))
#define pmd_index(va)   (((va) >> PMD_SHIFT) & (PTRS_PER_TABLE - 1))
#define pte_index(va)   (((va) >> PAGE_SHIFT) & (PTRS_PER_TABLE - 1))

/* Hardware fields. */
#define PTE_VALID       (1ULL << 0)
#define PTE_TABLE_BIT   (1ULL << 1)          /* L0-L2: table, L3: page         */
#define PTE_TYPE_MASK   (3ULL << 0)
#define PTE_TYPE_PAGE   (3ULL << 0)
#define PMD_TYPE_TABLE  (3ULL << 0)
#define PMD_TYPE_SECT   (1ULL << 0)
#define PTE_ATTRINDX(t) ((uint64_t)(t) << 2)
#define PTE_ATTRINDX_MASK (7ULL << 2)
#define PTE_USER        (1ULL << 6)          /* AP[1]: EL0 may access          */
#define PTE_RDONLY      (1ULL << 7)          /* AP[2]                          */
#define PTE_SHARED      (3ULL << 8)          /* SH: inner shareable            */
#define PTE_AF          (1ULL << 10)
#define PTE_NG          (1ULL << 11)
#define PTE_ADDR_MASK   (((1ULL << 48) - 1) & PAGE_MASK)
#define PTE_DBM         (1ULL << 51)
#define PTE_CONT        (1ULL << 52)
#define PTE_PXN         (1ULL << 53)
#define PTE_UXN         (1ULL << 54)

/* Software fields (ignored by the MMU). */
#define PTE_WRITE       PTE_DBM              /* Linux reuses DBM as "writable" */
#define PTE_DIRTY       (1ULL << 55)
#define PTE_SPECIAL     (1ULL << 56)
#define PTE_PROT_NONE   (1ULL << 58)         /* only when !PTE_VALID           */
#define PTE_METADATA_NONE (1ULL << 59)       /* only when PTE_PROT_NONE: tag storage
					       fault-on-access (RFC v1 patch 29) */

/* MAIR indices, as Linux programs MAIR_EL1. */
#define MT_NORMAL         0
#define MT_NORMAL_TAGGED  1
#define MT_NORMAL_NC      2
#define MT_DEVICE_nGnRnE  3

#define PROT_DEFAULT    (PTE_TYPE_PAGE | PTE_AF | PTE_SHARED)
/* PROT_NONE: invalid to the MMU, but still "present" to the kernel. */
#define PAGE_NONE       ((PROT_DEFAULT & ~PTE_VALID) | PTE_ATTRINDX(MT_NORMAL) | PTE_PROT_NONE | \
			 PTE_RDONLY | PTE_NG | PTE_PXN | PTE_UXN)
#define PAGE_METADATA_NONE (PAGE_NONE | PTE_METADATA_NONE)
#define _PAGE_USER      (PROT_DEFAULT | PTE_ATTRINDX(MT_NORMAL) | PTE_NG | PTE_PXN | PTE_USER)
#define PAGE_SHARED     (_PAGE_USER | PTE_UXN | PTE_WRITE)
#define PAGE_SHARED_EXEC (_PAGE_USER | PTE_WRITE)
#define PAGE_READONLY   (_PAGE_USER | PTE_RDONLY | PTE_UXN)
#define PAGE_READONLY_EXEC (_PAGE_USER | PTE_RDONLY)
#define PAGE_EXECONLY   (PROT_DEFAULT | PTE_ATTRINDX(MT_NORMAL) | PTE_NG | PTE_RDONLY | PTE_PXN)
#define PAGE_TABLE_DESC (PMD_TYPE_TABLE)

/*
 * Swap-entry layout of an invalid descriptor (Linux arm64):
 *   bits 7..3 type, bits 57..8 offset, bit 2 exclusive marker, bit 0 clear.
 * Swap types above MAX_SWAPFILES encode migration entries, hwpoison and pte
 * markers, exactly as include/linux/swapops.h numbers them.
 */
#define __SWP_TYPE_SHIFT    3
#define __SWP_TYPE_BITS     5
#define __SWP_OFFSET_SHIFT  (__SWP_TYPE_BITS + __SWP_TYPE_SHIFT)
#define __SWP_OFFSET_BITS   50
#define PTE_SWP_EXCLUSIVE   (1ULL << 2)

#define MAX_SWAPFILES               23
#define SWP_HWPOISON                (MAX_SWAPFILES)
#define SWP_MIGRATION_READ          (MAX_SWAPFILES + 1)
#define SWP_MIGRATION_READ_EXCLUSIVE (MAX_SWAPFILES + 2)
#define SWP_MIGRATION_WRITE         (MAX_SWAPFILES + 3)
#define SWP_PTE_MARKER              31

typedef struct { uint64_t val; } swp_entry_t;

static inline swp_entry_t swp_entry(unsigned int type, uint64_t offset)
{
	return (swp_entry_t){ ((uint64_t)type << 58) | (offset & ((1ULL << 58) - 1)) };
}
static inline unsigned int swp_type(swp_entry_t e) { return (unsigned int)(e.val >> 58); }
static inline uint64_t swp_offset(swp_entry_t e) { return e.val & ((1ULL << 58) - 1); }

static inline pteval_t swp_entry_to_pte(swp_entry_t e)
{
	return ((uint64_t)swp_type(e) << __SWP_TYPE_SHIFT) |
	       ((swp_offset(e) & ((1ULL << __SWP_OFFSET_BITS) - 1)) << __SWP_OFFSET_SHIFT);
}
static inline swp_entry_t pte_to_swp_entry(pteval_t pte)
{
	return swp_entry((unsigned int)((pte >> __SWP_TYPE_SHIFT) & ((1U << __SWP_TYPE_BITS) - 1)),
			 (pte >> __SWP_OFFSET_SHIFT) & ((1ULL << __SWP_OFFSET_BITS) - 1));
}
static inline bool is_migration_entry(swp_entry_t e)
{
	return swp_type(e) >= SWP_MIGRATION_READ && swp_type(e) <= SWP_MIGRATION_WRITE;
}
static inline bool is_pte_marker_entry(swp_entry_t e) { return swp_type(e) == SWP_PTE_MARKER; }

/* Accessors, in Linux's vocabulary. */
static inline bool pte_none(pteval_t p)    { return p == 0; }
static inline bool pte_valid(pteval_t p)   { return p & PTE_VALID; }
static inline bool pte_protnone(pteval_t p) { return (p & (PTE_VALID | PTE_PROT_NONE)) == PTE_PROT_NONE; }
static inline bool pte_present(pteval_t p) { return pte_valid(p) || pte_protnone(p); }
static inline bool pte_metadata_none(pteval_t p) { return pte_protnone(p) && (p & PTE_METADATA_NONE); }
static inline bool pte_write(pteval_t p)   { return p & PTE_WRITE; }
static inline bool pte_special(pteval_t p) { return p & PTE_SPECIAL; }
static inline bool pte_young(pteval_t p)   { return p & PTE_AF; }
static inline bool pte_user(pteval_t p)    { return p & PTE_USER; }
/* Dirty: software-dirty, or hardware-dirty (DBM set and AP[2] cleared). */
static inline bool pte_hw_dirty(pteval_t p) { return (p & PTE_DBM) && !(p & PTE_RDONLY); }
static inline bool pte_dirty(pteval_t p)   { return (p & PTE_DIRTY) || pte_hw_dirty(p); }
static inline bool pte_tagged(pteval_t p)  { return (p & PTE_ATTRINDX_MASK) == PTE_ATTRINDX(MT_NORMAL_TAGGED); }
static inline uint64_t pte_pfn(pteval_t p) { return (p & PTE_ADDR_MASK) >> PAGE_SHIFT; }

static inline pteval_t pfn_pte(uint64_t pfn, pteval_t prot)
{
	return (pfn << PAGE_SHIFT) | (prot & ~PTE_ADDR_MASK);
}
/* Writable and dirty clears AP[2]: the MMU then lets stores through. */
static inline pteval_t pte_mkdirty(pteval_t p)
{
	p |= PTE_DIRTY;
	if (pte_write(p))
		p &= ~PTE_RDONLY;
	return p;
}
static inline pteval_t pte_mkclean(pteval_t p)
{
	p &= ~PTE_DIRTY;
	p |= PTE_RDONLY;
	return p;
}
static inline pteval_t pte_mkwrite(pteval_t p)
{
	p |= PTE_WRITE;
	if (p & PTE_DIRTY)
		p &= ~PTE_RDONLY;
	return p;
}
/* Read-only: a hardware-dirty page keeps its dirtiness in the sw bit. */
static inline pteval_t pte_wrprotect(pteval_t p)
{
	if (pte_hw_dirty(p))
		p |= PTE_DIRTY;
	p &= ~PTE_WRITE;
	p |= PTE_RDONLY;
	return p;
}
static inline pteval_t pte_mkyoung(pteval_t p)   { return p | PTE_AF; }
static inline pteval_t pte_mkold(pteval_t p)     { return p & ~PTE_AF; }
static inline pteval_t pte_mkspecial(pteval_t p) { return p | PTE_SPECIAL; }
/* Change protection, keeping the address and the dirty/young/special state. */
static inline pteval_t pte_modify(pteval_t p, pteval_t newprot)
{
	const pteval_t keep = PTE_ADDR_MASK | PTE_DIRTY | PTE_AF | PTE_SPECIAL;
	bool dirty = pte_dirty(p);

	p = (p & keep) | (newprot & ~keep);
	if (dirty)
		p = pte_mkdirty(p);
	return p;
}

/* Table descriptors. */
static inline bool pmd_none(pteval_t p)  { return p == 0; }
static inline bool pmd_table(pteval_t p) { return (p & PTE_TYPE_MASK) == PMD_TYPE_TABLE; }
static inline bool pmd_leaf(pteval_t p)  { return (p & PTE_TYPE_MASK) == PMD_TYPE_SECT; }
static inline uint64_t table_pfn(pteval_t p) { return (p & PTE_ADDR_MASK) >> PAGE_SHIFT; }

/*
 * Huge PMDs: a level-2 block descriptor (bits[1:0] = 01) maps 2 MiB.  Its
 * attribute and software bits are those of a page descriptor, so the pte_*
 * accessors apply to it as they do in Linux (pmd_pte()).  A PROT_NONE huge
 * PMD is invalid to the MMU; the table bit stays clear so it still reads as
 * a leaf to the kernel (pmd_trans_huge), which is what arm64's
 * mk_pmd_sect_prot/pmd_mkhuge keep.
 */
#define HPAGE_PMD_SHIFT  PMD_SHIFT
#define HPAGE_PMD_ORDER  (PMD_SHIFT - PAGE_SHIFT)
#define HPAGE_PMD_NR     (1ULL << HPAGE_PMD_ORDER)
#define HPAGE_PMD_SIZE   PMD_SIZE
#define HPAGE_PMD_MASK   PMD_MASK

static inline pteval_t pmd_mkhuge(pteval_t p)  { return p & ~PTE_TABLE_BIT; }
static inline bool pmd_present(pteval_t p)     { return pte_present(p); }
static inline bool pmd_trans_huge(pteval_t p)
{
	return p && pmd_present(p) && !(p & PTE_TABLE_BIT);
}
static inline bool pmd_protnone(pteval_t p)    { return pte_protnone(p); }
static inline bool pmd_metadata_none(pteval_t p) { return pte_metadata_none(p); }
static inline bool pmd_write(pteval_t p)       { return pte_write(p); }
static inline bool pmd_young(pteval_t p)       { return pte_young(p); }
static inline bool pmd_dirty(pteval_t p)       { return pte_dirty(p); }
static inline uint64_t pmd_pfn(pteval_t p)     { return pte_pfn(p) & ~(HPAGE_PMD_NR - 1); }
static inline pteval_t pfn_pmd(uint64_t pfn, pteval_t prot) { return pmd_mkhuge(pfn_pte(pfn, prot)); }
static inline pteval_t pmd_modify(pteval_t p, pteval_t newprot) { return pmd_mkhuge(pte_modify(p, newprot)); }
static inline pteval_t pmd_mkwrite(pteval_t p)   { return pte_mkwrite(p); }
static inline pteval_t pmd_wrprotect(pteval_t p) { return pte_wrprotect(p); }
static inline pteval_t pmd_mkdirty(pteval_t p)   { return pte_mkdirty(p); }
static inline pteval_t pmd_mkyoung(pteval_t p)   { return pte_mkyoung(p); }
static inline pteval_t pmd_mkold(pteval_t p)     { return pte_mkold(p); }
/*
 * The 4 KiB page descriptor equivalent to huge PMD p at addr: what a PTE
 * mapping the same frame with the same rights would hold.
 */
static inline pteval_t pmd_pte_at(pteval_t p, uint64_t addr)
{
	uint64_t idx = (addr & ~PMD_MASK) >> PAGE_SHIFT;

	return pfn_pte(pmd_pfn(p) + idx, p) | PTE_TABLE_BIT;
}

/*
 * ESR_EL1 for a data abort from EL0: EC 0x24, IL, WnR (bit 6) and the fault
 * status code (DFSC) whose low two bits are the level.
 */
#define ESR_ELx_EC_DABT_LOW   0x24U
#define ESR_ELx_EC_SHIFT      26
#define ESR_ELx_IL            (1U << 25)
#define ESR_ELx_WNR           (1U << 6)
#define ESR_ELx_FSC_MASK      0x3fU
#define ESR_ELx_FSC_FAULT     0x04U   /* translation fault, level in bits 1:0 */
#define ESR_ELx_FSC_ACCESS    0x08U   /* access flag fault                   */
#define ESR_ELx_FSC_PERM      0x0CU   /* permission fault                    */
#define ESR_ELx_FSC_MTE       0x11U   /* synchronous tag check fault         */
#define ESR_ELx_FSC_ADDRSZ    0x00U   /* address size fault (VA too large)   */
#define ESR_ELx_FSC_EXTABT    0x10U   /* synchronous external abort          */

static inline uint32_t esr_dabt(uint32_t fsc, unsigned int level, bool write)
{
	return (ESR_ELx_EC_DABT_LOW << ESR_ELx_EC_SHIFT) | ESR_ELx_IL |
	       (write ? ESR_ELx_WNR : 0) | (fsc | (level & 3));
}
static inline uint32_t esr_fsc_type(uint32_t esr) { return esr & 0x3cU; }
static inline unsigned int esr_fsc_level(uint32_t esr) { return esr & 3U; }

#endif
