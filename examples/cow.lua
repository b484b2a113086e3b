-- cow.lua - copy on write after fork, watched through the fault tracepoints.
--
--   mmsim run examples/cow.lua [--seed N]
--
-- The parent fills 8 pages, forks, and the child rewrites 2 of them.  Every
-- trace event of the child's writes is printed, then where each page lives:
-- the two rewritten pages have their own frames, the rest are still shared.
local M = mmsim
local PAGE = 4096

local m = assert(M.machine {})
local parent = assert(m:task())
local a = parent:mmap(0, 8 * PAGE, M.PROT_READ | M.PROT_WRITE, M.MAP_PRIVATE | M.MAP_ANONYMOUS)
assert(a > 0, "mmap: " .. (M.errname(a) or a))
assert(parent:fill(a, 0x11, 8 * PAGE))

local child = assert(parent:fork())
local cpid = child:pid()
local id = m:trace("*", function(ev)
	if ev.pid == cpid then
		print(("  %12d ns  cpu%d  %-32s %s"):format(ev.ts, ev.cpu, ev.name, ev.text))
	end
end)
print(("child %d writes pages 2 and 5:"):format(cpid))
assert(child:store(a + 2 * PAGE, "child"))
assert(child:store(a + 5 * PAGE, "child"))
m:untrace(id)

print("\npage  parent pfn  child pfn")
for i = 0, 7 do
	local pe = parent:pagemap(a + i * PAGE) or 0
	local ce = child:pagemap(a + i * PAGE) or 0
	local pp, cp = pe & M.PM_PFRAME_MASK, ce & M.PM_PFRAME_MASK
	print(("%4d  %#10x  %#9x  %s"):format(i, pp, cp, pp == cp and "shared" or "copied"))
end
print(("\nparent reads %q, child reads %q"):format(parent:load(a + 2 * PAGE, 5), child:load(a + 2 * PAGE, 5)))
assert(m:check())
