-- experiment_smoke.lua - one tiny point of `mmsim experiment tag-storage`:
-- under each policy, untagged faults reserve no tag storage, PROT_MTE faults
-- reserve one tag page per 32 data pages where storage is dynamic (none
-- under static), and mprotect(PROT_MTE) of written memory reserves on the
-- next access.
local M = mmsim
local MiB, PAGE = 1024 * 1024, 4096
local RW = M.PROT_READ | M.PROT_WRITE
local ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS

-- Store 8 bytes in every page of [a, a + len) as task t.
local function touch(t, a, len)
	for off = 0, len - 1, PAGE do
		assert(t:store(a + off, "12345678"))
	end
end

for _, policy in ipairs { "rfc-v1", "cma", "static" } do
	local m = assert(M.machine { bootargs = "mte_tag_storage=" .. policy, seed = 1 })
	local t = assert(m:task())
	local function rs()
		return m:vmstat("metadata_reserve_success")
	end
	local dynamic = policy ~= "static"

	-- untagged faults reserve nothing
	local r0, f0 = rs(), m:vmstat("pgfault")
	local u = t:mmap(0, 4 * MiB, RW, ANON)
	assert(u > 0)
	-- 4 KiB pages, as the experiment maps them (no THP)
	assert(t:madvise(u, 4 * MiB, M.MADV_NOHUGEPAGE) == 0)
	touch(t, u, 4 * MiB)
	assert(m:vmstat("pgfault") - f0 == 4 * MiB // PAGE, policy .. ": one fault per page")
	assert(rs() == r0, policy .. ": untagged faults reserved tag storage")

	-- tagged faults reserve 1 page of tags per 32 data pages
	r0 = rs()
	local g = t:mmap(0, 4 * MiB, RW | M.PROT_MTE, ANON)
	assert(g > 0)
	assert(t:madvise(g, 4 * MiB, M.MADV_NOHUGEPAGE) == 0)
	touch(t, g, 4 * MiB)
	local want = dynamic and 4 * MiB // PAGE // 32 or 0
	assert(rs() - r0 == want, ("%s: %d tag pages reserved, expected %d"):format(policy, rs() - r0, want))

	-- mprotect(PROT_MTE) of written memory: reserved on the next access
	r0 = rs()
	assert(t:mprotect(u, 4 * MiB, RW | M.PROT_MTE) == 0)
	assert(rs() == r0 or not dynamic, policy .. ": mprotect itself reserved")
	touch(t, u, 4 * MiB)
	assert(rs() - r0 == want, ("%s: retag reserved %d, expected %d"):format(policy, rs() - r0, want))

	-- freeing the tagged memory gives the blocks back
	local fr0 = m:vmstat("metadata_reserve_free")
	assert(t:munmap(g, 4 * MiB) == 0 and t:munmap(u, 4 * MiB) == 0)
	assert(m:vmstat("metadata_reserve_free") - fr0 == 2 * want, policy .. ": blocks not freed")
	assert(m:check())
	m:destroy()
end
