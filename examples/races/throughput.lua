-- examples/races/throughput.lua - the explorer's yardstick: two threads of
-- one process, one per CPU, 50 operations each (mmap, store, load,
-- mprotect, munmap), racing on one address space and on a shared page.
--
--   mmsim explore examples/races/throughput.lua --runs 2000
--
-- Every schedule must leave each thread's data as it wrote it, the shared
-- page with both threads' bytes and read-only pages read-only.
local M = mmsim
local PAGE = 4096
local RW = M.PROT_READ | M.PROT_WRITE
local ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS
local ITER = 10                  -- x 5 operations = 50 per thread

local m = assert(M.machine {})
local p = assert(m:task())
local shared = p:mmap(0, ITER * PAGE, RW, ANON)
assert(shared > 0, "mmap shared: " .. shared)
local threads = { assert(p:thread()), assert(p:thread()) }
assert(threads[2]:set_cpu(m:nr_cpus() > 1 and 1 or 0) == 0)

local kept = {}                  -- [thread] = pages it left mapped read-only
for i, th in ipairs(threads) do
	kept[i] = {}
	assert(m:spawn(th, function(t)
		for k = 1, ITER do
			local a = t:mmap(0, 2 * PAGE, RW, ANON)                  -- 1
			assert(a > 0, "mmap: " .. a)
			local mine = ("thread %d, step %d"):format(i, k)
			assert(t:store(a + PAGE, mine))                          -- 2
			-- byte i of shared page k: both threads fault it in
			assert(t:store(shared + (k - 1) * PAGE + i, tostring(i))) -- 3
			assert(t:load(a + PAGE, #mine) == mine, "lost a store") -- 4
			if k % 2 == 0 then
				assert(t:mprotect(a + PAGE, PAGE, M.PROT_READ) == 0) -- 5
				kept[i][#kept[i] + 1] = { a + PAGE, mine }
			else
				assert(t:munmap(a, 2 * PAGE) == 0)               -- 5
			end
		end
	end))
end
assert(m:run_tasks())

for k = 1, ITER do
	local got = p:load(shared + (k - 1) * PAGE + 1, 2)
	assert(got == "12", ("shared page %d holds %q, not both threads' bytes"):format(k, tostring(got)))
end
for i = 1, 2 do
	for _, page in ipairs(kept[i]) do
		assert(p:load(page[1], #page[2]) == page[2])
		local res, si = p:store(page[1], "x")
		assert(not res and si.signo == M.SIGSEGV and si.code == M.SEGV_ACCERR,
			"a read-only page took a store")
	end
end
