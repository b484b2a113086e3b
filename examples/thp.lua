-- thp.lua - transparent huge pages: one fault maps 2 MiB.
--
--   mmsim run examples/thp.lua
--
-- With THP "always", the first write to an aligned 2 MiB anonymous range is
-- served by one PMD mapping; AnonHugePages in meminfo and the fault count
-- show it.  With "never" the same write takes 512 faults.
local M = mmsim
local MiB = 1024 * 1024

local m = assert(M.machine {})
local function meminfo(key)
	return tonumber((m:proc_read("meminfo") or ""):match(key .. ":%s+(%d+)")) or 0
end

for _, mode in ipairs({ "always", "never" }) do
	assert(m:sysfs_write("kernel/mm/transparent_hugepage/enabled", mode) == 0)
	local t = assert(m:task())
	-- Over-allocate and align by hand, as a THP-aware allocator does.
	local raw = t:mmap(0, 4 * MiB, M.PROT_READ | M.PROT_WRITE, M.MAP_PRIVATE | M.MAP_ANONYMOUS)
	assert(raw > 0, "mmap: " .. (M.errname(raw) or raw))
	local a = (raw + 2 * MiB - 1) & ~(2 * MiB - 1)
	local f0, t0 = m:vmstat("pgfault"), m:now()
	assert(t:fill(a, 0x42, 2 * MiB))
	print(("THP %-6s: %4d faults, %8d ns, AnonHugePages %5d kB, thp_fault_alloc %d"):format(
		mode, m:vmstat("pgfault") - f0, m:now() - t0, meminfo("AnonHugePages"),
		math.max(m:vmstat("thp_fault_alloc"), 0)))
	t:exit()
end
assert(m:check())
