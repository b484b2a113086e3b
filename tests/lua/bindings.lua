-- The Lua binding itself: argument errors name the function and the
-- argument, dead handles refuse to be used, constants have Linux's values.
local M = mmsim

-- Constants: Linux's arm64 values, no prefix.
assert(M.PROT_READ == 1 and M.PROT_WRITE == 2 and M.PROT_MTE == 0x20)
assert(M.MAP_PRIVATE == 2 and M.MAP_ANONYMOUS == 0x20 and M.MAP_ANON == 0x20)
assert(M.EINVAL == 22 and M.ENOMEM == 12 and M.ENOSYS == 38)
assert(M.SIGSEGV == 11 and M.SEGV_ACCERR == 2 and M.SEGV_MTESERR == 9)
assert(M.MADV_PAGEOUT == 21 and M.MPOL_MF_MOVE == 2 and M.FOLL_LONGTERM == 0x100)
assert(M.UFFDIO_API == 0xc018aa3f and M.PM_PRESENT == 1 << 63)
assert(M.ACCESS_OK == 0 and M.ACCESS_SIGNAL == 1 and M.ACCESS_BLOCKED == 2)
assert(type(M.VERSION) == "string")
assert(M.errname(22) == "EINVAL" and M.errname(-12) == "ENOMEM" and M.errname(9999) == nil)

-- Raise an error, return its message.
local function err_of(f, ...)
	local ok, msg = pcall(f, ...)
	assert(not ok, "call did not fail")
	return tostring(msg)
end
local function has(msg, s)
	assert(msg:find(s, 1, true), ("%q does not contain %q"):format(msg, s))
end

has(err_of(M.machine, { sed = 1 }), "unknown field 'sed'")
has(err_of(M.machine, { seed = "x" }), "field 'seed' expected integer, got string")
has(err_of(M.machine, 5), "mmsim.machine: argument 1 (options) expected table, got number")

local m = assert(M.machine { seed = 5 })
assert(m:nr_cpus() >= 1 and m:nr_nodes() >= 1)
assert(tostring(m):find("mmsim.machine"))
local t = assert(m:task())

has(err_of(t.mmap, t, 0, "x", 1, 2), "t:mmap: argument 2 (len) expected integer, got string")
has(err_of(t.mmap, t, 0, 1.5, 1, 2), "t:mmap: argument 2 (len) expected integer, got non-integral number")
has(err_of(t.store, t, 0, 5), "t:store: argument 2 (bytes) expected string, got number")
has(err_of(t.move_pages, t, 5), "t:move_pages: argument 1 (pages) expected table, got number")
has(err_of(t.move_pages, t, { "x" }), "element 1 expected integer, got string")
has(err_of(m.trace, m, "fault:*", 1), "m:trace: argument 2 (fn) expected function, got number")
has(err_of(m.vmstat, m), "m:vmstat: argument 1 (name) expected string, got no value")
has(err_of(m.task), "m:task: bad self")
has(err_of(t.mmap, m, 0, 4096, 3, 0x22), "t:mmap: bad self (expected task, got machine)")
has(err_of(function() return t:no_such_method() end), "task has no method 'no_such_method'")

-- A callback error reaches the script after the library call returned.
local a = t:mmap(0, 4096, M.PROT_READ | M.PROT_WRITE, M.MAP_PRIVATE | M.MAP_ANONYMOUS)
assert(a > 0, "mmap: " .. a)
local id = m:trace("*", function(ev)
	assert(type(ev.name) == "string" and type(ev.ts) == "number")
	error("from the callback")
end)
assert(id > 0, "m:trace: " .. id)
local ok, msg = pcall(t.fill, t, a, 1, 4096)
-- The library may or may not emit an event for this fault; if it did, the
-- callback's error is what the script sees.
assert(ok or tostring(msg):find("from the callback"), tostring(msg))
assert(m:untrace(id) == 0)
assert(m:untrace(id) == -M.ENOENT)
assert(m:check())

-- Exited tasks and destroyed machines refuse to be used, without crashing.
local c = assert(t:fork())
c:exit()
has(err_of(c.pid, c), "t:pid: task already exited")
m:destroy()
has(err_of(t.pid, t), "t:pid: machine already destroyed")
has(err_of(m.now, m), "m:now: machine already destroyed")
has(err_of(m.task, m), "m:task: machine already destroyed")
m:destroy()          -- twice is harmless
assert(tostring(m):find("destroyed"))

-- to-be-closed variables destroy the machine at the end of the block.
local kept
do
	local m2 <close> = assert(M.machine {})
	kept = m2
end
has(err_of(kept.now, kept), "machine already destroyed")

-- A machine that cannot boot says why instead of raising.
local bad, why, e = M.machine { devicetree = "/nonexistent/mmsim-test.dts" }
assert(bad == nil and type(why) == "string" and #why > 0 and e < 0)
