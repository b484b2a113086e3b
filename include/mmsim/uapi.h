/* SPDX-License-Identifier: MIT */
/*
 * mmsim/uapi.h - Linux user-ABI constants with Linux's arm64 numeric values.
 *
 * Every constant is the Linux name prefixed with MMSIM_, so a port of a Linux
 * selftest changes prefixes and nothing else.  Where architectures differ the
 * arm64 value is used (PROT_MTE, SEGV_MTE*, ...).
 */
#ifndef MMSIM_UAPI_H
#define MMSIM_UAPI_H

/* errno (asm-generic/errno-base.h, errno.h) */
#define MMSIM_EPERM      1
#define MMSIM_ENOENT     2
#define MMSIM_ESRCH      3
#define MMSIM_EINTR      4
#define MMSIM_EIO        5
#define MMSIM_E2BIG      7
#define MMSIM_EBADF      9
#define MMSIM_EAGAIN     11
#define MMSIM_ENOMEM     12
#define MMSIM_EACCES     13
#define MMSIM_EFAULT     14
#define MMSIM_EBUSY      16
#define MMSIM_EEXIST     17
#define MMSIM_ENODEV     19
#define MMSIM_EINVAL     22
#define MMSIM_ENFILE     23
#define MMSIM_EMFILE     24
#define MMSIM_ENOTTY     25
#define MMSIM_EFBIG      27
#define MMSIM_ENOSPC     28
#define MMSIM_ESPIPE     29
#define MMSIM_ERANGE     34
#define MMSIM_EDEADLK    35
#define MMSIM_ENOSYS     38
#define MMSIM_ELOOP      40
#define MMSIM_EOVERFLOW  75
#define MMSIM_EOPNOTSUPP 95
#define MMSIM_EHWPOISON  133

/* mmap protections (asm-generic/mman-common.h, arm64 uapi/asm/mman.h) */
#define MMSIM_PROT_NONE       0x0
#define MMSIM_PROT_READ       0x1
#define MMSIM_PROT_WRITE      0x2
#define MMSIM_PROT_EXEC       0x4
#define MMSIM_PROT_BTI        0x10
#define MMSIM_PROT_MTE        0x20
#define MMSIM_PROT_GROWSDOWN  0x01000000
#define MMSIM_PROT_GROWSUP    0x02000000

/* mmap flags */
#define MMSIM_MAP_SHARED           0x01
#define MMSIM_MAP_PRIVATE          0x02
#define MMSIM_MAP_SHARED_VALIDATE  0x03
#define MMSIM_MAP_TYPE             0x0f
#define MMSIM_MAP_FIXED            0x10
#define MMSIM_MAP_ANONYMOUS        0x20
#define MMSIM_MAP_ANON             MMSIM_MAP_ANONYMOUS
#define MMSIM_MAP_GROWSDOWN        0x0100
#define MMSIM_MAP_DENYWRITE        0x0800
#define MMSIM_MAP_EXECUTABLE       0x1000
#define MMSIM_MAP_LOCKED           0x2000
#define MMSIM_MAP_NORESERVE        0x4000
#define MMSIM_MAP_POPULATE         0x8000
#define MMSIM_MAP_NONBLOCK         0x10000
#define MMSIM_MAP_STACK            0x20000
#define MMSIM_MAP_HUGETLB          0x40000
#define MMSIM_MAP_SYNC             0x80000
#define MMSIM_MAP_FIXED_NOREPLACE  0x100000
#define MMSIM_MAP_UNINITIALIZED    0x4000000
#define MMSIM_MAP_FAILED           ((int64_t)-1)

/* mremap flags */
#define MMSIM_MREMAP_MAYMOVE    1
#define MMSIM_MREMAP_FIXED      2
#define MMSIM_MREMAP_DONTUNMAP  4

/* madvise advice */
#define MMSIM_MADV_NORMAL          0
#define MMSIM_MADV_RANDOM          1
#define MMSIM_MADV_SEQUENTIAL      2
#define MMSIM_MADV_WILLNEED        3
#define MMSIM_MADV_DONTNEED        4
#define MMSIM_MADV_FREE            8
#define MMSIM_MADV_REMOVE          9
#define MMSIM_MADV_DONTFORK        10
#define MMSIM_MADV_DOFORK          11
#define MMSIM_MADV_MERGEABLE       12
#define MMSIM_MADV_UNMERGEABLE     13
#define MMSIM_MADV_HUGEPAGE        14
#define MMSIM_MADV_NOHUGEPAGE      15
#define MMSIM_MADV_DONTDUMP        16
#define MMSIM_MADV_DODUMP          17
#define MMSIM_MADV_WIPEONFORK      18
#define MMSIM_MADV_KEEPONFORK      19
#define MMSIM_MADV_COLD            20
#define MMSIM_MADV_PAGEOUT         21
#define MMSIM_MADV_POPULATE_READ   22
#define MMSIM_MADV_POPULATE_WRITE  23
#define MMSIM_MADV_DONTNEED_LOCKED 24
#define MMSIM_MADV_COLLAPSE        25
#define MMSIM_MADV_HWPOISON        100
#define MMSIM_MADV_SOFT_OFFLINE    101

/* memfd_create flags */
#define MMSIM_MFD_CLOEXEC        0x0001U
#define MMSIM_MFD_ALLOW_SEALING  0x0002U
#define MMSIM_MFD_HUGETLB        0x0004U
#define MMSIM_MFD_NOEXEC_SEAL    0x0008U
#define MMSIM_MFD_EXEC           0x0010U

/* fallocate modes */
#define MMSIM_FALLOC_FL_KEEP_SIZE       0x01
#define MMSIM_FALLOC_FL_PUNCH_HOLE      0x02
#define MMSIM_FALLOC_FL_COLLAPSE_RANGE  0x08
#define MMSIM_FALLOC_FL_ZERO_RANGE      0x10
#define MMSIM_FALLOC_FL_INSERT_RANGE    0x20

/* prctl */
#define MMSIM_PR_SET_THP_DISABLE         41
#define MMSIM_PR_GET_THP_DISABLE         42
#define MMSIM_PR_SET_TAGGED_ADDR_CTRL    55
#define MMSIM_PR_GET_TAGGED_ADDR_CTRL    56
#define MMSIM_PR_TAGGED_ADDR_ENABLE      (1UL << 0)
#define MMSIM_PR_MTE_TCF_SHIFT           1
#define MMSIM_PR_MTE_TCF_NONE            0UL
#define MMSIM_PR_MTE_TCF_SYNC            (1UL << 1)
#define MMSIM_PR_MTE_TCF_ASYNC           (1UL << 2)
#define MMSIM_PR_MTE_TCF_MASK            (MMSIM_PR_MTE_TCF_SYNC | MMSIM_PR_MTE_TCF_ASYNC)
#define MMSIM_PR_MTE_TAG_SHIFT           3
#define MMSIM_PR_MTE_TAG_MASK            (0xffffUL << MMSIM_PR_MTE_TAG_SHIFT)

/* signals and si_code values (arm64) */
#define MMSIM_SIGTRAP  5
#define MMSIM_SIGBUS   7
#define MMSIM_SIGKILL  9
#define MMSIM_SIGSEGV  11
#define MMSIM_SEGV_MAPERR   1
#define MMSIM_SEGV_ACCERR   2
#define MMSIM_SEGV_BNDERR   3
#define MMSIM_SEGV_PKUERR   4
#define MMSIM_SEGV_ACCADI   5
#define MMSIM_SEGV_ADIDERR  6
#define MMSIM_SEGV_ADIPERR  7
#define MMSIM_SEGV_MTEAERR  8
#define MMSIM_SEGV_MTESERR  9
#define MMSIM_SEGV_CPERR    10
#define MMSIM_BUS_ADRALN     1
#define MMSIM_BUS_ADRERR     2
#define MMSIM_BUS_OBJERR     3
#define MMSIM_BUS_MCEERR_AR  4
#define MMSIM_BUS_MCEERR_AO  5

/* NUMA memory policy (uapi/linux/mempolicy.h) */
#define MMSIM_MPOL_DEFAULT              0
#define MMSIM_MPOL_PREFERRED            1
#define MMSIM_MPOL_BIND                 2
#define MMSIM_MPOL_INTERLEAVE           3
#define MMSIM_MPOL_LOCAL                4
#define MMSIM_MPOL_PREFERRED_MANY       5
#define MMSIM_MPOL_WEIGHTED_INTERLEAVE  6
#define MMSIM_MPOL_F_NUMA_BALANCING     (1 << 13)
#define MMSIM_MPOL_F_RELATIVE_NODES     (1 << 14)
#define MMSIM_MPOL_F_STATIC_NODES       (1 << 15)
#define MMSIM_MPOL_MF_STRICT    (1 << 0)
#define MMSIM_MPOL_MF_MOVE      (1 << 1)
#define MMSIM_MPOL_MF_MOVE_ALL  (1 << 2)

/* gup flags (include/linux/mm_types.h enum) */
#define MMSIM_FOLL_WRITE        (1U << 0)
#define MMSIM_FOLL_GET          (1U << 1)
#define MMSIM_FOLL_DUMP         (1U << 2)
#define MMSIM_FOLL_FORCE        (1U << 3)
#define MMSIM_FOLL_NOWAIT       (1U << 4)
#define MMSIM_FOLL_NOFAULT      (1U << 5)
#define MMSIM_FOLL_HWPOISON     (1U << 6)
#define MMSIM_FOLL_ANON         (1U << 7)
#define MMSIM_FOLL_LONGTERM     (1U << 8)
#define MMSIM_FOLL_SPLIT_PMD    (1U << 9)
#define MMSIM_FOLL_PIN          (1U << 10)   /* pin_user_pages() rather than get */

/* userfaultfd (uapi/linux/userfaultfd.h) */
#define MMSIM_UFFD_API                        0xAAULL
#define MMSIM_UFFD_USER_MODE_ONLY             1
#define MMSIM_UFFDIO_REGISTER_MODE_MISSING    (1ULL << 0)
#define MMSIM_UFFDIO_REGISTER_MODE_WP         (1ULL << 1)
#define MMSIM_UFFDIO_REGISTER_MODE_MINOR      (1ULL << 2)
#define MMSIM_UFFDIO_COPY_MODE_DONTWAKE       (1ULL << 0)
#define MMSIM_UFFDIO_COPY_MODE_WP             (1ULL << 1)
#define MMSIM_UFFDIO_ZEROPAGE_MODE_DONTWAKE   (1ULL << 0)
#define MMSIM_UFFDIO_WRITEPROTECT_MODE_WP     (1ULL << 0)
#define MMSIM_UFFDIO_WRITEPROTECT_MODE_DONTWAKE (1ULL << 1)
#define MMSIM_UFFDIO_CONTINUE_MODE_DONTWAKE   (1ULL << 0)
#define MMSIM_UFFD_EVENT_PAGEFAULT            0x12
#define MMSIM_UFFD_PAGEFAULT_FLAG_WRITE       (1ULL << 0)
#define MMSIM_UFFD_PAGEFAULT_FLAG_WP          (1ULL << 1)
#define MMSIM_UFFD_PAGEFAULT_FLAG_MINOR       (1ULL << 2)
#define MMSIM_UFFD_FEATURE_WP_UNPOPULATED     (1ULL << 13)
#define MMSIM_UFFD_FEATURE_WP_ASYNC           (1ULL << 15)
/* ioctl numbers as _IOWR/_IOR(0xAA, nr, struct) encode them on arm64 */
#define MMSIM_UFFDIO_API           0xc018aa3fUL
#define MMSIM_UFFDIO_REGISTER      0xc020aa00UL
#define MMSIM_UFFDIO_UNREGISTER    0x8010aa01UL
#define MMSIM_UFFDIO_WAKE          0x8010aa02UL
#define MMSIM_UFFDIO_COPY          0xc028aa03UL
#define MMSIM_UFFDIO_ZEROPAGE      0xc020aa04UL
#define MMSIM_UFFDIO_WRITEPROTECT  0xc018aa06UL
#define MMSIM_UFFDIO_CONTINUE      0xc020aa07UL

/* pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst) */
#define MMSIM_PM_PFRAME_MASK     ((1ULL << 55) - 1)
#define MMSIM_PM_SOFT_DIRTY      (1ULL << 55)
#define MMSIM_PM_MMAP_EXCLUSIVE  (1ULL << 56)
#define MMSIM_PM_UFFD_WP         (1ULL << 57)
#define MMSIM_PM_FILE            (1ULL << 61)
#define MMSIM_PM_SWAP            (1ULL << 62)
#define MMSIM_PM_PRESENT         (1ULL << 63)
#define MMSIM_PM_SWAP_TYPE_BITS  5

/*
 * /proc/kpageflags bit numbers (uapi/linux/kernel-page-flags.h; 32 and up
 * are the kernel-hacking bits of include/linux/kernel-page-flags.h, and
 * KPF_ARCH_4 is the one the dynamic tag storage series adds for
 * PG_tag_storage_reserved).  Bits the model has no flag for stay clear.
 */
#define MMSIM_KPF_LOCKED         0
#define MMSIM_KPF_REFERENCED     2
#define MMSIM_KPF_UPTODATE       3
#define MMSIM_KPF_DIRTY          4
#define MMSIM_KPF_LRU            5
#define MMSIM_KPF_ACTIVE         6
#define MMSIM_KPF_SLAB           7
#define MMSIM_KPF_WRITEBACK      8
#define MMSIM_KPF_RECLAIM        9
#define MMSIM_KPF_BUDDY          10
#define MMSIM_KPF_MMAP           11
#define MMSIM_KPF_ANON           12
#define MMSIM_KPF_SWAPCACHE      13
#define MMSIM_KPF_SWAPBACKED     14
#define MMSIM_KPF_COMPOUND_HEAD  15
#define MMSIM_KPF_COMPOUND_TAIL  16
#define MMSIM_KPF_HUGE           17
#define MMSIM_KPF_UNEVICTABLE    18
#define MMSIM_KPF_HWPOISON       19
#define MMSIM_KPF_NOPAGE         20
#define MMSIM_KPF_KSM            21
#define MMSIM_KPF_THP            22
#define MMSIM_KPF_OFFLINE        23
#define MMSIM_KPF_ZERO_PAGE      24
#define MMSIM_KPF_IDLE           25
#define MMSIM_KPF_PGTABLE        26
#define MMSIM_KPF_RESERVED       32
#define MMSIM_KPF_MLOCKED        33
#define MMSIM_KPF_OWNER_2        34
#define MMSIM_KPF_PRIVATE        35
#define MMSIM_KPF_PRIVATE_2      36
#define MMSIM_KPF_OWNER_PRIVATE  37
#define MMSIM_KPF_ARCH           38
#define MMSIM_KPF_UNCACHED       39
#define MMSIM_KPF_SOFTDIRTY      40
#define MMSIM_KPF_ARCH_2         41     /* arm64: PG_mte_tagged                 */
#define MMSIM_KPF_ARCH_3         42     /* arm64: PG_mte_lock (not modelled)    */
#define MMSIM_KPF_ARCH_4         43     /* RFC v1: PG_tag_storage_reserved      */

#endif /* MMSIM_UAPI_H */
