-- Accesses the kernel does not resolve come back as a signal with Linux's
-- siginfo: SEGV_ACCERR for a protection violation, SEGV_MAPERR for a hole.
local M = mmsim
local PAGE = 4096

local m = assert(M.machine { seed = 3 })
local function consistent(step)
	local ok, report = m:check()
	assert(ok, step .. ": mmsim_check: " .. tostring(report))
end

local t = assert(m:task())
local a = t:mmap(0, 4 * PAGE, M.PROT_READ | M.PROT_WRITE, M.MAP_PRIVATE | M.MAP_ANONYMOUS)
assert(a > 0, "mmap: " .. a)
assert(t:store(a, "before"))

-- Read-only: loads work, a store is refused and not performed.
assert(t:mprotect(a, PAGE, M.PROT_READ) == 0)
consistent("mprotect")
assert(t:load(a, 6) == "before")
local ok, si, rc = t:store(a + 8, "x")
assert(ok == false, "store to a read-only page succeeded")
assert(rc == M.ACCESS_SIGNAL, "store returned " .. tostring(rc))
assert(si.signo == M.SIGSEGV, "signo " .. si.signo)
assert(si.code == M.SEGV_ACCERR, "si_code " .. si.code)
assert(si.addr == a + 8, ("si_addr 0x%x, expected 0x%x"):format(si.addr, a + 8))
assert(t:load(a + 8, 1) == "\0", "the refused store was performed")
consistent("SEGV_ACCERR")

-- The next page is still writable.
assert(t:store(a + PAGE, "rw"))

-- PROT_NONE refuses loads too.
assert(t:mprotect(a + 2 * PAGE, PAGE, M.PROT_NONE) == 0)
local data
data, si = t:load(a + 2 * PAGE + 16, 1)
assert(data == nil and si.signo == M.SIGSEGV and si.code == M.SEGV_ACCERR)
assert(si.addr == a + 2 * PAGE + 16)

-- After munmap the address is a hole: SEGV_MAPERR.
assert(t:munmap(a + 3 * PAGE, PAGE) == 0)
data, si = t:load(a + 3 * PAGE, 8)
assert(data == nil and si.signo == M.SIGSEGV and si.code == M.SEGV_MAPERR,
	("load from a hole: signo %d code %d"):format(si.signo, si.code))
assert(si.addr == a + 3 * PAGE)
consistent("SEGV_MAPERR")

-- Restoring write permission makes the store work again.
assert(t:mprotect(a, PAGE, M.PROT_READ | M.PROT_WRITE) == 0)
assert(t:store(a + 8, "x"))
assert(t:load(a, 9) == "before\0\0x")
consistent("mprotect back")

t:exit()
m:destroy()
