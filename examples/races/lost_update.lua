-- examples/races/lost_update.lua - a race the explorer finds: two threads
-- increment one counter in shared memory with a plain load and store, no
-- lock, so an increment can be lost when the other thread runs between the
-- two accesses.
--
--   mmsim explore examples/races/lost_update.lua --runs 100
--
-- fails at the first schedule that loses one, and prints the command that
-- replays it (--seed S --runs 1 --trace run.json) for a look at the
-- interleaving in ui.perfetto.dev.
local M = mmsim
local N = 1

local m = assert(M.machine {})
local p = assert(m:task())
local counter = p:mmap(0, 4096, M.PROT_READ | M.PROT_WRITE, M.MAP_PRIVATE | M.MAP_ANONYMOUS)
assert(counter > 0)
assert(p:store_u64(counter, 0))
for cpu = 0, 1 do
	local th = assert(p:thread())
	assert(th:set_cpu(cpu % m:nr_cpus()) == 0)
	assert(m:spawn(th, function(t)
		for _ = 1, N do
			local v = assert(t:load_u64(counter))
			assert(t:store_u64(counter, v + 1))
		end
	end))
end
assert(m:run_tasks())
local total = p:load_u64(counter)
print(("counter = %d after %d increments"):format(total, 2 * N))
assert(total == 2 * N, ("lost %d increments"):format(2 * N - total))
