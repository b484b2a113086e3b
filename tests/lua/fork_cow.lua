-- fork: parent and child share anonymous pages until one writes; the
-- writer gets its own copy and the other keeps seeing the old bytes.
local M = mmsim
local PAGE = 4096

local m = assert(M.machine { seed = 2 })
local function consistent(step)
	local ok, report = m:check()
	assert(ok, step .. ": mmsim_check: " .. tostring(report))
end

local parent = assert(m:task())
local len = 16 * PAGE
local a = parent:mmap(0, len, M.PROT_READ | M.PROT_WRITE, M.MAP_PRIVATE | M.MAP_ANONYMOUS)
assert(a > 0, "mmap: " .. a)
assert(parent:fill(a, 0x11, len))
consistent("parent fill")

local child = assert(parent:fork())
assert(child:pid() ~= parent:pid(), "child has the parent's pid")
consistent("fork")

-- Before anyone writes, both see the parent's bytes on the same frame.
assert(child:load(a, 4) == "\x11\x11\x11\x11")
local pe, ce = assert(parent:pagemap(a)), assert(child:pagemap(a))
assert(pe & M.PM_PRESENT ~= 0 and ce & M.PM_PRESENT ~= 0)
assert(pe & M.PM_PFRAME_MASK == ce & M.PM_PFRAME_MASK, "fork did not share the page")

-- The child writes the first half: copy on write.
local f0 = m:vmstat("pgfault")
assert(child:fill(a, 0x22, len // 2))
assert(m:vmstat("pgfault") > f0, "COW took no fault")
consistent("child write")

assert(parent:load(a, 1) == "\x11", "the child's write reached the parent")
assert(child:load(a, 1) == "\x22", "the child does not see its own write")
-- The second half is still shared.
assert(child:load(a + len - 1, 1) == "\x11")
pe, ce = assert(parent:pagemap(a)), assert(child:pagemap(a))
assert(pe & M.PM_PFRAME_MASK ~= ce & M.PM_PFRAME_MASK, "COW kept one frame for both")

-- The parent writes a page the child never wrote: the child keeps 0x11.
assert(parent:store(a + len - PAGE, "parent"))
assert(child:load(a + len - PAGE, 6) == ("\x11"):rep(6))
assert(parent:load(a + len - PAGE, 6) == "parent")
consistent("parent write")

-- A shared memfd mapping stays shared across fork.
local fd = parent:memfd_create("cow-test", 0)
assert(fd >= 0, "memfd_create: " .. fd)
assert(parent:ftruncate(fd, 4 * PAGE) == 0)
local s = parent:mmap(0, 4 * PAGE, M.PROT_READ | M.PROT_WRITE, M.MAP_SHARED, fd, 0)
assert(s > 0, "mmap memfd: " .. s)
local child2 = assert(parent:fork())
assert(child2:store(s + PAGE, "shared"))
assert(parent:load(s + PAGE, 6) == "shared", "MAP_SHARED write not seen by the parent")
consistent("memfd")

child2:exit()
child:exit()
consistent("child exit")
assert(parent:load(a, 1) == "\x11")
parent:exit()
consistent("parent exit")
m:destroy()
