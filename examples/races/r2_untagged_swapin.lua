-- examples/races/r2_untagged_swapin.lua - spec §5.6 R2 as two plain
-- processes: a tagged page's swap entry is shared by a mapping with
-- PROT_MTE and one without (a fork child's), and both touch it at once.
-- Whichever reads the slot in allocates the page; through the untagged
-- mapping it gets no tag storage, and the tags saved with the swap entry
-- must not be written into its tag page, which nobody reserved (it may be
-- lent out as someone's data).  The fix keeps them by pfn until the
-- tagged mapping's fault reserves storage and maps the page.
--
-- mprotect never removes PROT_MTE, so a page is tagged in a VMA without
-- it only when a tagged mapping tagged it while they shared it:
--
--   parent [a] RW: P  --fork-->  child [a] RW: P (COW)
--   child: mprotect(PROT_MTE), load  -> P reserved and tagged; child exits
--   parent: MADV_PAGEOUT              -> slot E, P's tags saved with E
--   parent --fork--> child2; child2: mprotect(PROT_MTE)
--   race:  parent: load a   ||   child2 (CPU 1): load a
--
--   mmsim explore examples/races/r2_untagged_swapin.lua --runs 10000 \
--       --bootargs mte_race_fix_off=R2     # found: a tag write into
--                                          # unreserved tag storage
--   mmsim explore examples/races/r2_untagged_swapin.lua --runs 10000
--                                          # the fix on: nothing found
local M = mmsim
local RW = M.PROT_READ | M.PROT_WRITE
local PAGE = 4096

local m = assert(M.machine { swap_bytes = 8 << 20 })
local parent = assert(m:task())
local a = assert(parent:mmap(0, PAGE, RW, M.MAP_PRIVATE | M.MAP_ANONYMOUS))
assert(parent:store_u64(a, 61))
local child = assert(parent:fork())
assert(child:mprotect(a, PAGE, RW | M.PROT_MTE) == 0)
assert(child:load_u64(a) == 61)
child:exit()
assert(parent:madvise(a, PAGE, M.MADV_PAGEOUT) == 0)
assert(parent:pagemap(a) & (1 << 62) ~= 0, "the page was not swapped out")
local child2 = assert(parent:fork())
assert(child2:mprotect(a, PAGE, RW | M.PROT_MTE) == 0)
assert(child2:set_cpu(1 % m:nr_cpus()) == 0)
assert(m:spawn(parent, function(t) assert(t:load_u64(a) == 61) end))
assert(m:spawn(child2, function(t)
	assert(t:load_u64(a) == 61)
	assert(t:get_tag(a) == 0)
end))
assert(m:run_tasks())
