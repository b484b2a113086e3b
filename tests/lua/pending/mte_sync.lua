-- MTE with synchronous tag checking: a mismatched tag raises SIGSEGV with
-- SEGV_MTESERR and the store is not performed; matching tags work.
local M = mmsim
local PAGE = 4096

local function tagged(addr, tag)
	return (addr & ~(0xf << 56)) | (tag << 56)
end

local m = assert(M.machine { seed = 7 })
local function consistent(step)
	local ok, report = m:check()
	assert(ok, step .. ": mmsim_check: " .. tostring(report))
end

local t = assert(m:task())
local ctrl = M.PR_TAGGED_ADDR_ENABLE | M.PR_MTE_TCF_SYNC | (0xfffe << M.PR_MTE_TAG_SHIFT)
assert(t:prctl(M.PR_SET_TAGGED_ADDR_CTRL, ctrl, 0, 0, 0) == 0)
local got = t:prctl(M.PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0)
assert(got == ctrl, ("PR_GET_TAGGED_ADDR_CTRL = %#x, set %#x"):format(got, ctrl))

local g = t:mmap(0, PAGE, M.PROT_READ | M.PROT_WRITE | M.PROT_MTE, M.MAP_PRIVATE | M.MAP_ANONYMOUS)
assert(g > 0, "mmap PROT_MTE: " .. g)
local tag, si = t:get_tag(g)
assert(tag == 0, "fresh granule: " .. tostring(tag or si))
consistent("mmap")

assert(t:set_tag(tagged(g, 3), 32))
assert(t:get_tag(g) == 3 and t:get_tag(g + 16) == 3 and t:get_tag(g + 32) == 0)
assert(t:store(tagged(g, 3), "match"))
assert(t:load(tagged(g, 3), 5) == "match")
consistent("tagged")

local ok
ok, si = t:store(tagged(g, 5) + 4, "X")
assert(ok == false, "store with a wrong tag succeeded")
assert(si.signo == M.SIGSEGV and si.code == M.SEGV_MTESERR, tostring(si))
assert(si.addr & ((1 << 56) - 1) == g + 4, ("si_addr %#x"):format(si.addr))
assert(t:load(tagged(g, 3), 5) == "match", "the faulting store was performed")

-- Without PROT_MTE no tag is checked.
local p = t:mmap(0, PAGE, M.PROT_READ | M.PROT_WRITE, M.MAP_PRIVATE | M.MAP_ANONYMOUS)
assert(t:store(tagged(p, 9), "untagged mapping"))
consistent("end")
t:exit()
m:destroy()
