-- mte.lua - Memory Tagging: a synchronous tag check fault.
--
--   mmsim run examples/mte.lua
--
-- The task enables tagged addresses with synchronous tag checking, maps a
-- PROT_MTE page, colours its first granule with tag 3 and then accesses it
-- through pointers carrying tag 3 (fine) and tag 5 (SIGSEGV, SEGV_MTESERR).
local M = mmsim
local PAGE = 4096

local function tagged(addr, tag)
	return (addr & ~(0xf << 56)) | (tag << 56)
end

local m = assert(M.machine {})
local t = assert(m:task())
local ctrl = M.PR_TAGGED_ADDR_ENABLE | M.PR_MTE_TCF_SYNC | (0xfffe << M.PR_MTE_TAG_SHIFT)
local rc = t:prctl(M.PR_SET_TAGGED_ADDR_CTRL, ctrl, 0, 0, 0)
assert(rc == 0, "prctl: " .. (M.errname(rc) or rc))

local g = t:mmap(0, PAGE, M.PROT_READ | M.PROT_WRITE | M.PROT_MTE, M.MAP_PRIVATE | M.MAP_ANONYMOUS)
assert(g > 0, "mmap: " .. (M.errname(g) or g))
print(("tag of a fresh granule: %d"):format(assert(t:get_tag(g))))

assert(t:set_tag(tagged(g, 3), 16))
print(("after STG with tag 3:   %d"):format(assert(t:get_tag(g))))

print("store through tag 3:    " .. (t:store(tagged(g, 3), "hello") and "ok" or "faulted"))
local ok, si = t:store(tagged(g, 5), "hello")
print("store through tag 5:    " .. (ok and "ok" or tostring(si)))
-- The next granule still has tag 0.
print("tag 0 on granule 2:     " .. (t:store(g + 16, "x") and "ok" or "faulted"))
assert(m:check())
