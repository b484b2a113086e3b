-- examples/races/r5_metadata_none_faults.lua - spec §5.6 R5 as two plain
-- threads: mprotect(PROT_MTE) over a touched page leaves its PTE
-- METADATA_NONE, then both threads read it at once.  Both faults may pass
-- the PTE check before either remaps; the fix re-checks
-- PG_tag_storage_reserved under the tag-block mutex, so only one takes a
-- share of the block.
--
--   mmsim explore examples/races/r5_metadata_none_faults.lua --runs 10000 \
--       --bootargs mte_race_fix_off=R5     # found: the block's refcount is off
--   mmsim explore examples/races/r5_metadata_none_faults.lua --runs 10000
--                                          # the fix on: nothing found
--
-- The explorer checks the machine (mmsim_check) after every run.
local M = mmsim
local RW = M.PROT_READ | M.PROT_WRITE

local m = assert(M.machine {})
local p = assert(m:task())
local a = assert(p:mmap(0, 4096, RW, M.MAP_PRIVATE | M.MAP_ANONYMOUS))
assert(p:store_u64(a, 42))
assert(p:mprotect(a, 4096, RW | M.PROT_MTE) == 0)
for cpu = 0, 1 do
	local th = assert(p:thread())
	assert(th:set_cpu(cpu % m:nr_cpus()) == 0)
	assert(m:spawn(th, function(t)
		assert(t:load_u64(a) == 42)
	end))
end
assert(m:run_tasks())
