-- Anonymous memory: first-touch faults populate it, the bytes written read
-- back, untouched pages read as zero, and the pagemap reports what is mapped.
local M = mmsim
local PAGE = 4096

local m = assert(M.machine { seed = 1 })
local function consistent(step)
	local ok, report = m:check()
	assert(ok, step .. ": mmsim_check: " .. tostring(report))
end
consistent("boot")

local t = assert(m:task())
local len = 64 * PAGE
local a = t:mmap(0, len, M.PROT_READ | M.PROT_WRITE, M.MAP_PRIVATE | M.MAP_ANONYMOUS)
assert(a > 0 and a % PAGE == 0, "mmap returned " .. a)
consistent("mmap")

-- Nothing is mapped before the first touch.
local e = assert(t:pagemap(a))
assert(e & M.PM_PRESENT == 0, "page present before any access")

local faults0 = m:vmstat("pgfault")
assert(faults0 >= 0, "vmstat pgfault: " .. faults0)
local now0 = m:now()

-- One store per page, each with its own pattern, some across a page boundary.
for i = 0, 63, 3 do
	assert(t:store(a + i * PAGE, ("page %02d|"):format(i)))
end
assert(t:store(a + 5 * PAGE - 3, "straddle"))
consistent("stores")

local faults1 = m:vmstat("pgfault")
assert(faults1 > faults0, "stores caused no fault")
assert(m:now() > now0, "faults cost no simulated time")

for i = 0, 63, 3 do
	local want = ("page %02d|"):format(i)
	local got = assert(t:load(a + i * PAGE, #want))
	assert(got == want, ("page %d: read %q, wrote %q"):format(i, got, want))
end
assert(t:load(a + 5 * PAGE - 3, 8) == "straddle")

-- A page written is present; its pfn is non-zero and exclusive to us.
e = assert(t:pagemap(a))
assert(e & M.PM_PRESENT ~= 0, "written page not present")
assert(e & M.PM_PFRAME_MASK ~= 0, "written page has pfn 0")

-- Untouched pages read as zero.
local z = assert(t:load(a + 1 * PAGE, PAGE))
assert(z == ("\0"):rep(PAGE), "untouched page is not zero")

-- fill and the u64 helpers reach the same bytes.
assert(t:fill(a + 10 * PAGE, 0xab, PAGE))
assert(t:load(a + 10 * PAGE + 100, 1) == "\xab")
assert(t:store_u64(a + 11 * PAGE, 0x0123456789abcdef))
assert(t:load_u64(a + 11 * PAGE) == 0x0123456789abcdef)
assert(t:load(a + 11 * PAGE, 1) == "\xef", "u64 not stored little-endian")
consistent("readback")

assert(t:munmap(a, len) == 0)
consistent("munmap")
t:exit()
consistent("exit")
m:destroy()
