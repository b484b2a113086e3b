-- Three bodies racing through the fault paths that take the most locks -
-- copy on write after fork, MTE tagging, mprotect and munmap against faults
-- of a sibling thread - finish under every schedule tried, with both
-- policies, and leave a consistent machine with each task's data intact.
--
--   process P: thread 1 (CPU 0) writes the COW region, thread 2 (CPU 1)
--              churns mappings and tags a PROT_MTE page
--   process Q: the fork child (CPU 1), writes the same COW region
local M = mmsim
local PAGE = 4096
local RW = M.PROT_READ | M.PROT_WRITE
local ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS
local NPAGES = 6
local MTE_CTRL = M.PR_TAGGED_ADDR_ENABLE | M.PR_MTE_TCF_SYNC | (0xfffe << M.PR_MTE_TAG_SHIFT)

local function scenario(seed, policy)
	local m = assert(M.machine { seed = 3 })
	assert(m:sched { seed = seed, policy = policy })
	local t1 = assert(m:task())
	local cow = t1:mmap(0, NPAGES * PAGE, RW, ANON)
	assert(cow > 0)
	assert(t1:fill(cow, 0x11, NPAGES * PAGE))
	local q = assert(t1:fork())
	local t2 = assert(t1:thread())
	assert(t2:set_cpu(1) == 0 and q:set_cpu(1) == 0)
	assert(t2:prctl(M.PR_SET_TAGGED_ADDR_CTRL, MTE_CTRL, 0, 0, 0) == 0)

	assert(m:spawn(t1, function(t)
		for i = 0, NPAGES - 1 do
			assert(t:store(cow + i * PAGE, "P"))
		end
		assert(t:mprotect(cow, PAGE, M.PROT_READ) == 0)
	end))
	assert(m:spawn(q, function(t)
		for i = NPAGES - 1, 0, -1 do
			assert(t:store(cow + i * PAGE + 1, "Q"))
		end
	end))
	local tagged
	assert(m:spawn(t2, function(t)
		for i = 1, 3 do
			local a = t:mmap(0, 2 * PAGE, RW, ANON)
			assert(a > 0)
			assert(t:store(a, "churn"))
			assert(t:munmap(a, 2 * PAGE) == 0)
		end
		local g = t:mmap(0, PAGE, RW | M.PROT_MTE, ANON)
		assert(g > 0)
		local p = g | (7 << 56)
		assert(t:set_tag(p, 32))
		assert(t:store(p + 16, "tagged"))
		tagged = g
	end))

	local ok, why = m:run_tasks()
	assert(ok, ("%s seed %d: %s"):format(policy, seed, tostring(why)))
	local consistent, report = m:check()
	assert(consistent, ("%s seed %d: mmsim_check: %s"):format(policy, seed, tostring(report)))
	for i = 0, NPAGES - 1 do
		local pv, qv = t1:load(cow + i * PAGE, 2), q:load(cow + i * PAGE, 2)
		assert(pv == "P\x11", ("%s seed %d page %d: P sees %q"):format(policy, seed, i, pv))
		assert(qv == "\x11Q", ("%s seed %d page %d: Q sees %q"):format(policy, seed, i, qv))
	end
	assert(t2:get_tag(tagged + 16) == 7 and t2:load((tagged + 16) | (7 << 56), 6) == "tagged")
	assert(not t1:store(cow, "x"), "mprotect did not make the page read-only")
	local steps = m:sched_steps()
	m:destroy()
	return steps
end

local total = 0
for _, policy in ipairs({ "random", "pct" }) do
	for seed = 1, 20 do
		total = total + scenario(seed, policy)
	end
end
assert(total > 0)
