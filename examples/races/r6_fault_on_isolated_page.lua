-- examples/races/r6_fault_on_isolated_page.lua - spec §5.6 R6 as two
-- plain threads.  M is data that lives in tag storage (lent out as
-- ordinary memory) and is mapped METADATA_NONE by mprotect(PROT_MTE); Q's
-- tag page T is in M's pageblock.  One thread's first access to Q reserves
-- T: alloc_contig_range makes the whole pageblock MIGRATE_ISOLATE while it
-- works.  The other thread touching M in that window finds M isolated.
-- The fix still treats M as tag storage (retry, then move the data off
-- it); without it the handler reserves for M and maps it tagged - a page
-- of tag storage carrying tags of its own.
--
-- No frame is chosen by hand: full compaction (vm.compact_memory) moves M
-- to the top of the zone, where the tag storage is, and Q is allocated
-- after it near the top of data memory, whose tags are in that pageblock.
--
--   mmsim explore examples/races/r6_fault_on_isolated_page.lua --runs 10000 \
--       --bootargs mte_race_fix_off=R6     # found: tag storage tagged (I3)
--   mmsim explore examples/races/r6_fault_on_isolated_page.lua --runs 10000
--                                          # the fix on: nothing found
--
-- The layout is the built-in machine's: 1 GiB of data at pfn 0x40000, its
-- tag storage at pfn 0x80000, one tag page per 32 data pages.
local M = mmsim
local RW = M.PROT_READ | M.PROT_WRITE
local PAGE, PAGEBLOCK = 4096, 512
local DATA, TAGS, NTAGS = 0x40000, 0x80000, 0x2000

local m = assert(M.machine {})
assert(m:proc_read("meminfo"):match("MetadataTotal:%s+32768 kB"), "run on the built-in machine")
local p = assert(m:task())
local q = assert(p:mmap(0, 2 * PAGE, RW, M.MAP_PRIVATE | M.MAP_ANONYMOUS))
local mp = q + PAGE
local function pfn(addr) return p:pagemap(addr) & ((1 << 55) - 1) end

assert(p:store_u64(mp, 0x5a5a))
assert(m:sysctl_write("vm/compact_memory", "1"))
assert(p:store_u64(q, 1))
local mpfn, t = pfn(mp), TAGS + (pfn(q) - DATA) // 32
assert(mpfn >= TAGS and mpfn < TAGS + NTAGS, "compaction left M in data memory")
assert(t ~= mpfn and t // PAGEBLOCK == mpfn // PAGEBLOCK, "Q's tag page is not in M's pageblock")
assert(p:mprotect(q, 2 * PAGE, RW | M.PROT_MTE) == 0)

local other = assert(p:thread())
assert(other:set_cpu(1 % m:nr_cpus()) == 0)
assert(m:spawn(p, function(t) assert(t:load_u64(q) == 1) end))
assert(m:spawn(other, function(t) assert(t:load_u64(mp) == 0x5a5a) end))
assert(m:run_tasks())
