-- move_pages on a two-node machine: pages migrate, their data and mappings
-- survive, and a nil node list only reports where each page is.
local M = mmsim
local PAGE = 4096

local m = assert(M.machine { devicetree = "examples/numa-4g.dts", seed = 6 })
assert(m:nr_nodes() == 2, "numa-4g.dts has " .. m:nr_nodes() .. " nodes")
local function consistent(step)
	local ok, report = m:check()
	assert(ok, step .. ": mmsim_check: " .. tostring(report))
end

local t = assert(m:task())
assert(t:set_cpu(0) == 0)
local n = 8
local a = t:mmap(0, n * PAGE, M.PROT_READ | M.PROT_WRITE, M.MAP_PRIVATE | M.MAP_ANONYMOUS)
assert(a > 0, "mmap: " .. a)
local pages, to1 = {}, {}
for i = 1, n do
	pages[i] = a + (i - 1) * PAGE
	to1[i] = 1
	assert(t:store(pages[i], ("page %d"):format(i)))
end
consistent("populate")

-- Query: every page is on a valid node.
local rc, status = t:move_pages(pages, nil, 0)
assert(rc == 0, "move_pages query: " .. rc)
for i = 1, n do
	assert(status[i] == 0 or status[i] == 1, ("page %d status %d"):format(i, status[i]))
end

-- Move all to node 1.
rc, status = t:move_pages(pages, to1, M.MPOL_MF_MOVE)
assert(rc == 0, "move_pages: " .. rc)
for i = 1, n do
	assert(status[i] == 1, ("page %d landed on %d"):format(i, status[i]))
end
consistent("move")

rc, status = t:move_pages(pages, nil, 0)
for i = 1, n do
	assert(status[i] == 1, ("page %d reported on %d after the move"):format(i, status[i]))
	local want = ("page %d"):format(i)
	assert(t:load(pages[i], #want) == want, "migration lost page " .. i)
end

-- A page never touched has no node: -ENOENT; a bad node: -ENODEV.
local b = t:mmap(0, PAGE, M.PROT_READ | M.PROT_WRITE, M.MAP_PRIVATE | M.MAP_ANONYMOUS)
rc, status = t:move_pages({ b }, nil, 0)
assert(rc == 0 and status[1] == -M.ENOENT, "untouched page status " .. tostring(status[1]))
rc = t:move_pages({ a }, { 7 }, M.MPOL_MF_MOVE)
assert(rc == -M.ENODEV, "move to node 7 returned " .. rc)
consistent("errors")

t:exit()
m:destroy()
