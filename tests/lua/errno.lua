-- Invalid system calls fail with Linux's errno, as a negative return value,
-- and leave the machine consistent.
local M = mmsim
local PAGE = 4096
local RW = M.PROT_READ | M.PROT_WRITE
local ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS

local m = assert(M.machine { seed = 4 })
local t = assert(m:task())

local function expect(what, got, want)
	assert(got == want, ("%s returned %s, expected -%s (%s)"):format(what, tostring(got),
		M.errname(want) or want, M.strerror_last()))
	local ok, report = m:check()
	assert(ok, what .. ": mmsim_check: " .. tostring(report))
end

expect("mmap len 0", t:mmap(0, 0, RW, ANON), -M.EINVAL)
expect("mmap without PRIVATE or SHARED", t:mmap(0, PAGE, RW, M.MAP_ANONYMOUS), -M.EINVAL)
expect("mmap MAP_FIXED unaligned", t:mmap(0x10000001, PAGE, RW, ANON | M.MAP_FIXED), -M.EINVAL)
expect("mmap bad fd", t:mmap(0, PAGE, RW, M.MAP_SHARED, 99, 0), -M.EBADF)
expect("munmap unaligned", t:munmap(0x10000001, PAGE), -M.EINVAL)
expect("munmap len 0", t:munmap(0x10000000, 0), -M.EINVAL)
expect("close bad fd", t:close(77), -M.EBADF)
expect("ftruncate bad fd", t:ftruncate(77, PAGE), -M.EBADF)
expect("mprotect unmapped", t:mprotect(0x20000000, PAGE, M.PROT_READ), -M.ENOMEM)
expect("madvise bad advice", t:madvise(0x20000000, PAGE, 12345), -M.EINVAL)

-- The mistakes did not disturb a valid mapping.
local a = t:mmap(0, PAGE, RW, ANON)
assert(a > 0, "mmap: " .. a)
assert(t:store(a, "still fine"))
assert(t:load(a, 10) == "still fine")

-- strerror_last explains the last failure.
expect("mmap len 0 again", t:mmap(0, 0, RW, ANON), -M.EINVAL)
assert(#M.strerror_last() > 0, "no explanation for a failed mmap")
assert(M.errname(-M.EINVAL) == "EINVAL")

t:exit()
m:destroy()
