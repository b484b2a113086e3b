-- examples/races/r7_reserve_vs_free.lua - spec §5.6 R7 as two plain
-- threads: page X1 is tagged and holds its tag block; one thread's first
-- store to X2 (same 32-page group, same block) reserves storage while the
-- other drops X1 with MADV_DONTNEED.  The fix pins the blocks already
-- reserved before anything else; without it the drop frees the block
-- under the reservation.
--
--   mmsim explore examples/races/r7_reserve_vs_free.lua --runs 10000 \
--       --bootargs mte_race_fix_off=R7     # found: a share of a free block
--   mmsim explore examples/races/r7_reserve_vs_free.lua --runs 10000
--                                          # the fix on: nothing found
local M = mmsim
local RWMTE = M.PROT_READ | M.PROT_WRITE | M.PROT_MTE

local m = assert(M.machine {})
local p = assert(m:task())
local x1 = assert(p:mmap(0, 2 * 4096, RWMTE, M.MAP_PRIVATE | M.MAP_ANONYMOUS))
local x2 = x1 + 4096
assert(p:store_u64(x1, 1))
local storer = assert(p:thread())
local dropper = assert(p:thread())
assert(dropper:set_cpu(1 % m:nr_cpus()) == 0)
assert(m:spawn(storer, function(t) assert(t:store_u64(x2, 2)) end))
assert(m:spawn(dropper, function(t) assert(t:madvise(x1, 4096, M.MADV_DONTNEED) == 0) end))
assert(m:run_tasks())
assert(p:load_u64(x1) == 0 and p:load_u64(x2) == 2)
