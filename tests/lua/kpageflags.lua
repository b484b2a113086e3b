-- /proc/kpageflags from Lua: m:proc_pread reads one 8-byte entry per page
-- frame at pfn * 8; a PROT_MTE page shows PG_mte_tagged (KPF_ARCH_2) and
-- the seed's PG_tag_storage_reserved (KPF_ARCH_4, bit 43).
local M = mmsim
assert(M.KPF_ARCH_4 == 43 and M.KPF_ARCH_2 == 41 and M.KPF_NOPAGE == 20)

local m = assert(M.machine { seed = 1 })
local t = m:task()
local function flags(pfn)
	local s = assert(m:proc_pread("kpageflags", 8, pfn * 8))
	assert(#s == 8)
	return (string.unpack("<I8", s))
end
local function bit(v, b) return (v >> b) & 1 == 1 end

local RW = M.PROT_READ | M.PROT_WRITE
local ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS
local a = assert(t:mmap(0, 4096, RW | M.PROT_MTE, ANON))
assert(t:store(a, "tagged"))
local b = assert(t:mmap(0, 4096, RW, ANON))
assert(t:store(b, "plain"))
local pa = t:pagemap(a) & M.PM_PFRAME_MASK
local pb = t:pagemap(b) & M.PM_PFRAME_MASK

local fa, fb = flags(pa), flags(pb)
assert(bit(fa, M.KPF_ARCH_4) and bit(fa, M.KPF_ARCH_2) and bit(fa, M.KPF_ANON))
assert(not bit(fb, M.KPF_ARCH_4) and not bit(fb, M.KPF_ARCH_2) and bit(fb, M.KPF_MMAP))
assert(flags(0) == 1 << M.KPF_NOPAGE)

-- Offsets and lengths are whole entries.
local v, err = m:proc_pread("kpageflags", 8, 3)
assert(v == nil and err == -M.EINVAL)
assert(m:check())
