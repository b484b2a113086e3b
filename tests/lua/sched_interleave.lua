-- Task bodies: two threads of one process, one per CPU, each writing its
-- own byte into the same pages.  The order in which the bodies take turns
-- depends on the schedule seed: the same seed gives the same order, other
-- seeds give other orders, and every order leaves the same memory.
local M = mmsim
local PAGE = 4096
local RW = M.PROT_READ | M.PROT_WRITE
local ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS
local NPAGES = 12

-- One run on a fresh machine; returns the order of the bodies' steps.
local function run(seed, policy)
	local m = assert(M.machine { seed = 5 })
	assert(m:sched { seed = seed, policy = policy })
	local p = assert(m:task())
	local a = p:mmap(0, NPAGES * PAGE, RW, ANON)
	assert(a > 0, "mmap: " .. a)
	local th = assert(p:thread())
	assert(th:set_cpu(1) == 0)
	local order = {}
	local function body(id)
		return function(t)
			-- t is the task the body plays
			assert(t:pid() == (id == "a" and p or th):pid())
			for i = 0, NPAGES - 1 do
				-- page i, byte 0 for body a and byte 1 for body b:
				-- first touches race, neither write is lost
				assert(t:store(a + i * PAGE + (id == "a" and 0 or 1), id))
				order[#order + 1] = id
			end
		end
	end
	assert(m:spawn(p, body("a")))
	assert(m:spawn(th, body("b")))
	local n0 = m:sched_steps()
	assert(m:run_tasks())
	assert(m:sched_steps() > n0, "the run passed no scheduling point")
	local ok, report = m:check()
	assert(ok, "mmsim_check after the run: " .. tostring(report))
	for i = 0, NPAGES - 1 do
		assert(p:load(a + i * PAGE, 2) == "ab", ("page %d lost a write"):format(i))
	end
	assert(#order == 2 * NPAGES)
	m:destroy()
	return table.concat(order)
end

for _, policy in ipairs({ "random", "pct" }) do
	local seen, distinct = {}, 0
	for seed = 1, 12 do
		local o = run(seed, policy)
		assert(o == run(seed, policy), policy .. " seed " .. seed .. " did not replay its order")
		if not seen[o] then
			seen[o] = true
			distinct = distinct + 1
		end
	end
	assert(distinct > 1, policy .. ": twelve seeds, one order: the seed chooses nothing")
end

-- A body's task may be any task of the machine; one body per task, and
-- bodies of a run run to completion whatever order they start in.
local m = assert(M.machine { seed = 1 })
local tasks, done = {}, {}
for i = 1, 4 do
	tasks[i] = assert(m:task())
	assert(m:spawn(tasks[i], function(t)
		local x = t:mmap(0, PAGE, RW, ANON)
		assert(x > 0)
		assert(t:store_u64(x, i))
		assert(t:load_u64(x) == i)
		done[i] = true
	end))
end
assert(m:run_tasks())
for i = 1, 4 do
	assert(done[i], "body " .. i .. " did not run")
end
-- The queue is empty after a run: another run has nothing to do.
assert(m:run_tasks())
local ok, report = m:check()
assert(ok, tostring(report))
