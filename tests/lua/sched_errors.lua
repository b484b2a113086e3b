-- Task bodies that fail: a Lua error in a body ends that body only and
-- comes back from m:run_tasks() as nil, "task PID: message"; a run the
-- library stops (livelock) returns nil, its reason, -errno; misuse from a
-- body is refused with an error instead of corrupting either stack.
local M = mmsim
local PAGE = 4096
local RW = M.PROT_READ | M.PROT_WRITE
local ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS

local function consistent(m, step)
	local ok, report = m:check()
	assert(ok, step .. ": mmsim_check: " .. tostring(report))
end

local m = assert(M.machine { seed = 9 })
local p = assert(m:task())
local q = assert(m:task())
local a = p:mmap(0, 4 * PAGE, RW, ANON)
assert(a > 0)

-- 1. One body raises; the other still finishes; the first error is kept.
local finished = false
assert(m:spawn(p, function(t)
	assert(t:store(a, "x"))
	error("first failure")
end))
assert(m:spawn(q, function(t)
	local b = t:mmap(0, PAGE, RW, ANON)
	for i = 1, 20 do
		assert(t:store(b, "y"))
	end
	finished = true
end))
local ok, msg, err = m:run_tasks()
assert(ok == nil and err == nil, "a body's error is not a library failure")
assert(msg:find("^task " .. p:pid() .. ": ") and msg:find("first failure", 1, true),
	"unexpected message: " .. tostring(msg))
assert(msg:find("stack traceback", 1, true), "no traceback of the body")
assert(finished, "the other body did not run to its end")
assert(p:load(a, 1) == "x", "the failing body's store before the error is lost")
consistent(m, "body error")

-- 2. Two bodies fail: the first error of the run is the one returned.
local first
assert(m:spawn(p, function(t) first = first or "p"; error("from p") end))
assert(m:spawn(q, function(t) first = first or "q"; error("from q") end))
ok, msg = m:run_tasks()
assert(ok == nil and msg:find("from " .. first, 1, true), tostring(msg))

-- 3. A non-string error object (assert on a failed access raises the
-- siginfo) reads as the signal.
local ro = p:mmap(0, PAGE, M.PROT_READ, ANON)
assert(m:spawn(p, function(t) assert(t:store(ro, "z")) end))
ok, msg = m:run_tasks()
assert(ok == nil and msg:find("SIGSEGV", 1, true), tostring(msg))
consistent(m, "siginfo error")

-- 4. After failing runs the machine runs bodies as before.
assert(m:spawn(p, function(t) assert(t:store(a + PAGE, "again")) end))
assert(m:run_tasks())
assert(p:load(a + PAGE, 5) == "again")

-- 5. Misuse from inside a body: refused, reported as the body's error.
local cases = {
	{ "m:destroy", function() m:destroy() end, "tasks are running" },
	{ "nested run", function()
		local r, why, e = m:run_tasks()
		assert(r == nil and e == -M.EBUSY, "nested m:run_tasks: " .. tostring(why))
		error("nested refused")
	end, "nested refused" },
	{ "spawn during a run", function(t)
		local r, why, e = m:spawn(q, function() end)
		assert(r == nil and e == -M.EBUSY, "spawn during a run: " .. tostring(why))
		error("spawn refused")
	end, "spawn refused" },
	{ "exit of a task with a body", function(t) t:exit() end, "has a body" },
	{ "another machine", function()
		local other = assert(M.machine { seed = 1 })
		other:nr_cpus()
	end, "cannot boot a machine from a running body" },
	{ "m:sched during a run", function()
		local r, why, e = m:sched { seed = 3 }
		assert(r == nil and e == -M.EBUSY, "m:sched during a run: " .. tostring(why))
		error("sched refused")
	end, "sched refused" },
}
for _, c in ipairs(cases) do
	assert(m:spawn(p, c[2]))
	ok, msg = m:run_tasks()
	assert(ok == nil and msg:find(c[3], 1, true), c[1] .. ": " .. tostring(msg))
	consistent(m, c[1])
end
-- A machine booted before the run is off limits to the bodies too.
local other = assert(M.machine { seed = 1 })
assert(m:spawn(p, function() other:nr_cpus() end))
ok, msg = m:run_tasks()
assert(ok == nil and msg:find("another machine is running", 1, true), tostring(msg))
other:destroy()

-- 6. Spawn errors.
assert(m:spawn(p, function() end))
ok, msg, err = m:spawn(p, function() end)
assert(ok == nil and err == -M.EBUSY and msg:find("already has a body", 1, true), tostring(msg))
assert(m:run_tasks())
local m2 = assert(M.machine { seed = 2 })
local r = assert(m2:task())
assert(not pcall(m.spawn, m, r, function() end), "a task of another machine was accepted")
assert(not pcall(m.spawn, m, p, "not a function"))
assert(not pcall(m.spawn, m, nil, function() end))
m2:destroy()

-- 7. A livelock: the run stops after max_steps scheduling points.
assert(m:sched { max_steps = 30 })
for _, t in ipairs({ p, q }) do
	assert(m:spawn(t, function(tk)
		local b = tk:mmap(0, PAGE, RW, ANON)
		for i = 1, 1000 do
			tk:store(b, "l")
		end
	end))
end
ok, msg, err = m:run_tasks()
assert(ok == nil and err == -M.ELOOP and msg:find("livelock", 1, true), tostring(msg))

-- 8. Parallel mode: allowed as a setting (for C bodies), refused for Lua
-- bodies, which are dropped without running.
local m3 = assert(M.machine { seed = 3 })
local s = assert(m3:task())
assert(m3:sched { mode = "parallel" })
assert(m3:sched().mode == "parallel")
local ran = false
assert(m3:spawn(s, function() ran = true end))
ok, msg, err = m3:run_tasks()
assert(ok == nil and err == -M.EINVAL and
	msg:find("Lua bodies run only in deterministic mode", 1, true), tostring(msg))
assert(not ran, "a Lua body ran in parallel mode")
assert(m3:sched().mode == "parallel", "the machine lost its mode")
assert(m3:sched { mode = "deterministic" })
assert(m3:spawn(s, function() ran = true end))
assert(m3:run_tasks())
assert(ran)
consistent(m3, "parallel then deterministic")
