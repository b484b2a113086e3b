-- numa.lua - memory policy and page migration on a two-node machine.
--
--   mmsim run examples/numa.lua --devicetree examples/numa-4g.dts
--
-- Binds a mapping to node 1 with mbind, interleaves another with
-- set_mempolicy, then moves pages with move_pages and shows where each one
-- lives (move_pages with a nil node list only reports).
local M = mmsim
local PAGE = 4096
local RW = M.PROT_READ | M.PROT_WRITE
local ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS

local m = assert(M.machine {})
if m:nr_nodes() < 2 then
	print(("this machine has %d node; run with --devicetree examples/numa-4g.dts"):format(m:nr_nodes()))
	return
end
local t = assert(m:task())

-- Where each page of [addr, addr + n pages) lives.
local function where(addr, n)
	local pages = {}
	for i = 1, n do
		pages[i] = addr + (i - 1) * PAGE
	end
	local rc, status = t:move_pages(pages, nil, 0)
	assert(rc >= 0, "move_pages: " .. (M.errname(rc) or rc))
	return table.concat(status, " ")
end

local a = t:mmap(0, 8 * PAGE, RW, ANON)
assert(t:mbind(a, 8 * PAGE, M.MPOL_BIND, 1 << 1, 0) == 0)
assert(t:fill(a, 1, 8 * PAGE))
print("mbind(MPOL_BIND, node 1):   " .. where(a, 8))

assert(t:set_mempolicy(M.MPOL_INTERLEAVE, 0x3) == 0)
local b = t:mmap(0, 8 * PAGE, RW, ANON)
assert(t:fill(b, 2, 8 * PAGE))
print("MPOL_INTERLEAVE, nodes 0-1: " .. where(b, 8))
assert(t:set_mempolicy(M.MPOL_DEFAULT) == 0)

local pages, nodes = {}, {}
for i = 1, 8 do
	pages[i], nodes[i] = b + (i - 1) * PAGE, 0
end
local rc, status = t:move_pages(pages, nodes, M.MPOL_MF_MOVE)
print(("move_pages(all to node 0) = %d, status: %s"):format(rc, table.concat(status, " ")))
print("after:                      " .. where(b, 8))
assert(t:load(b, 1) == "\2", "migration lost the data")
assert(m:check())
