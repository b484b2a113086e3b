-- SPDX-License-Identifier: MIT
-- tools/demo.lua - what `mmsim run` shows when it is given no script.
--
-- Boots the machine the command line describes and walks one process through
-- the common page-fault paths: first-touch anonymous faults, zero-page reads,
-- copy-on-write after fork, a shared memfd, a protection fault reported as
-- SIGSEGV, MTE tag checks, the tag storage carve-out lent out as data memory
-- and taken back for tags, page migration between nodes, and two threads on
-- two CPUs racing to fault the same tagged pages (task bodies).  Each step says
-- "not built yet" instead of failing when the simulator lacks the call
-- (-ENOSYS), so the demo is useful at every stage of the model.
--
-- It is embedded into the binary at build time; it is also a worked example
-- of the Lua API (see examples/ for shorter ones).

local M = mmsim
local KiB, MiB = 1024, 1024 * 1024
local PAGE = 4096

-- Name of an errno result, e.g. -22 -> "EINVAL".
local function ename(rc)
	return M.errname(rc) or tostring(rc)
end

local skipped = {}

-- Report a failed system call; true when rc is a success.
local function ok(what, rc)
	if rc == -M.ENOSYS then
		print(("   %s: not built yet"):format(what))
		skipped[#skipped + 1] = what
		return false
	elseif rc < 0 then
		print(("   %s: failed with %s (%s)"):format(what, ename(rc), M.strerror_last()))
		return false
	end
	return true
end

-- Report a failed access (load/store/fill); true when it succeeded.
local function access_ok(what, res, si, rc)
	if res then
		return true
	end
	if rc and rc < 0 then
		return ok(what, rc)
	end
	print(("   %s: unexpected %s"):format(what, tostring(si)))
	return false
end

-- Parse a "Key:   value" text (meminfo) or "key value" text (vmstat).
local function parse(text)
	local t = {}
	for k, v in (text or ""):gmatch("([%w_()]+):?%s+(%d+)") do
		t[k] = tonumber(v)
	end
	return t
end

local function fmt_ns(ns)
	if ns >= 1000000000 then
		return ("%.3f s"):format(ns / 1e9)
	elseif ns >= 1000000 then
		return ("%.3f ms"):format(ns / 1e6)
	elseif ns >= 1000 then
		return ("%.3f us"):format(ns / 1e3)
	end
	return ("%d ns"):format(ns)
end

-- ------------------------------------------------------------------- boot

local m, why, err = M.machine {}
if not m then
	if err == -M.ENOSYS then
		print("mmsim: the machine is not built yet")
		return
	end
	error("the machine did not boot: " .. tostring(why), 0)
end

local mem0 = parse(m:proc_read("meminfo"))
local vm0 = parse(m:proc_read("vmstat"))
local t0 = m:now()

print(("mmsim %s demo"):format(M.VERSION))
print(("Machine: %d CPUs, %d NUMA node%s, MemTotal %d MiB, MemFree %d MiB"):format(
	m:nr_cpus(), m:nr_nodes(), m:nr_nodes() == 1 and "" or "s",
	(mem0.MemTotal or 0) // 1024, (mem0.MemFree or 0) // 1024))
if not mem0.MemTotal then
	print("  /proc/meminfo: not built yet")
end
if mem0.MetadataTotal then
	print(("Tag storage: MetadataTotal %d kB, MetadataFree %d kB%s"):format(
		mem0.MetadataTotal, mem0.MetadataFree or 0,
		mem0.MetadataTotal == 0 and " (no dynamic tag storage on this machine)" or
		(mem0.CmaTotal or 0) > 0 and (", as CMA: CmaFree %d kB"):format(mem0.CmaFree or 0) or ""))
end

local t, terr, terrno = m:task()
if not t then
	print(("  m:task(): %s"):format(terrno == -M.ENOSYS and "not built yet" or tostring(terr)))
	return
end
print(("Process %d"):format(t:pid()))

local RW = M.PROT_READ | M.PROT_WRITE
local ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS

-- Faults counted during fn(), from the pgfault counter.
local function faults(fn)
	local before = m:vmstat("pgfault")
	local now0 = m:now()
	fn()
	local after = m:vmstat("pgfault")
	if before < 0 or after < 0 then
		return "fault count not built yet", m:now() - now0
	end
	return ("%d faults"):format(after - before), m:now() - now0
end

-- ------------------------------------------------- anonymous first touch

local LEN = 64 * MiB
local a = t:mmap(0, LEN, RW, ANON)
print(("\n1. mmap 64 MiB anonymous at 0x%x, then write every byte"):format(math.max(a, 0)))
if ok("mmap", a) then
	local what, ns = faults(function()
		access_ok("fill", t:fill(a, 0x5a, LEN))
	end)
	print(("   %s, %s simulated"):format(what, fmt_ns(ns)))
	local s = t:load(a + LEN - 8, 8)
	if s then
		print(("   last 8 bytes read back: %s"):format(s == ("\x5a"):rep(8) and "0x5a as written" or "WRONG"))
	end
end

-- ------------------------------------------------------- zero-page reads

local ZLEN = 16 * MiB
local z = t:mmap(0, ZLEN, M.PROT_READ, ANON)
print("\n2. read 16 MiB never written (the shared zero page)")
if ok("mmap", z) then
	local data
	local what, ns = faults(function()
		data = t:load(z, ZLEN)
	end)
	if data then
		print(("   %s, %s simulated; all zero: %s"):format(what, fmt_ns(ns),
			data:find("[^\0]") and "NO" or "yes"))
	else
		access_ok("load", data)
	end
end

-- --------------------------------------------------------- fork and COW

print("\n3. fork; the child writes half of the 64 MiB (copy on write)")
local child, cwhy, cerr = t:fork()
if not child then
	ok("fork", cerr or -M.ENOMEM)
	if cerr ~= -M.ENOSYS then
		print("   " .. tostring(cwhy))
	end
elseif a >= 0 then
	print(("   child %d"):format(child:pid()))
	local what, ns = faults(function()
		access_ok("child fill", child:fill(a, 0xc3, LEN // 2))
	end)
	print(("   %s, %s simulated"):format(what, fmt_ns(ns)))
	local p, c = t:load(a, 1), child:load(a, 1)
	local ptail = t:load(a + LEN - 1, 1)
	print(("   parent sees 0x%02x, child sees 0x%02x, second half shared 0x%02x"):format(
		p and p:byte() or 0, c and c:byte() or 0, ptail and ptail:byte() or 0))
	if p and c and (p:byte() ~= 0x5a or c:byte() ~= 0xc3) then
		error("copy on write is broken: the parent saw the child's write", 0)
	end
end

-- ----------------------------------------------------------- shared memfd

print("\n4. memfd shared between parent and child")
local fd = t:memfd_create("demo", 0)
if ok("memfd_create", fd) and ok("ftruncate", t:ftruncate(fd, MiB)) then
	local p = t:mmap(0, MiB, RW, M.MAP_SHARED, fd, 0)
	if ok("mmap memfd", p) then
		local c2 = t:fork()
		if c2 then
			local msg = "written by the child"
			if access_ok("child store", c2:store(p + 100, msg)) then
				local got = t:load(p + 100, #msg)
				print(("   parent reads: %q%s"):format(got or "?",
					got == msg and "" or "  (WRONG)"))
			end
			c2:exit()
		end
	end
	t:close(fd)
end

-- Memory while everything is still mapped, for the summary.
local mem_mid = parse(m:proc_read("meminfo"))

-- ------------------------------------------------- protection fault

print("\n5. mprotect read-only, then store")
if a >= 0 and ok("mprotect", t:mprotect(a, 64 * KiB, M.PROT_READ)) then
	local res, si, rc = t:store(a + 16, "x")
	if res then
		print("   the store succeeded (WRONG: the page is read-only)")
	elseif rc and rc < 0 then
		ok("store", rc)
	else
		local code = si.code == M.SEGV_ACCERR and "SEGV_ACCERR" or
			si.code == M.SEGV_MAPERR and "SEGV_MAPERR" or tostring(si.code)
		print(("   signal %s, si_code %s, si_addr 0x%x"):format(
			si.signo == M.SIGSEGV and "SIGSEGV" or tostring(si.signo), code, si.addr))
	end
end

-- ------------------------------------------------------------------- MTE

print("\n6. MTE: tag a granule, store through a pointer with another tag")
local ctrl = M.PR_TAGGED_ADDR_ENABLE | M.PR_MTE_TCF_SYNC | (0xfffe << M.PR_MTE_TAG_SHIFT)
if ok("prctl(PR_SET_TAGGED_ADDR_CTRL)", t:prctl(M.PR_SET_TAGGED_ADDR_CTRL, ctrl, 0, 0, 0)) then
	local g = t:mmap(0, PAGE, RW | M.PROT_MTE, ANON)
	if ok("mmap PROT_MTE", g) then
		local tagged = g | (3 << 56)
		if access_ok("set_tag", t:set_tag(tagged, 16)) then
			local tag = t:get_tag(g)
			local good = t:store(tagged, "ok")
			local res, si, rc = t:store(g | (5 << 56), "bad")
			print(("   granule tag %s; store with tag 3: %s; with tag 5: %s"):format(
				tostring(tag), good and "ok" or "faulted",
				res and "ok (WRONG)" or rc and rc < 0 and ename(rc) or
				(si.code == M.SEGV_MTESERR and "SIGSEGV SEGV_MTESERR" or
				 ("signal %d code %d"):format(si.signo, si.code))))
		end
		t:munmap(g, PAGE)
	end
end

-- ------------------------------------------------ tag storage reuse

-- The carve-out that holds the tags (1/32 of the memory it covers) is data
-- memory until tagged pages need it: fill memory with untagged data until
-- the allocator lends the carve-out out, then fault PROT_MTE memory whose
-- tag blocks are among those pages, so the data must move out first.
print("\n7. Tag storage: the carve-out used as data, then reclaimed for tags")
local function carveout_free(mi)
	if (mi.MetadataTotal or 0) > 0 and (mi.CmaTotal or 0) == 0 then
		return mi.MetadataFree or 0, "MetadataFree"
	end
	return mi.CmaFree or 0, "CmaFree"
end
local tsm = parse(m:proc_read("meminfo"))
local hog = (tsm.MetadataTotal or 0) > 0 and m:task() or nil
if (tsm.MetadataTotal or 0) == 0 then
	print("   skipped: no dynamic tag storage (mte_tag_storage=static, or no arm,mte-tag-storage node)")
elseif not hog then
	print("   skipped: no second process")
else
	local free0, fname = carveout_free(tsm)
	local total = tsm.MetadataTotal
	-- One mapping as large as free memory; its page tables first (one page
	-- in every 2 MiB), so they are not what runs out when memory is full.
	local HLEN = (tsm.MemFree * KiB) // (2 * MiB) * (2 * MiB)
	local h = hog:mmap(0, HLEN, RW, ANON | M.MAP_NORESERVE)
	local held, lent = 0, 0
	if ok("mmap", h) then
		for off = 0, HLEN - 1, 2 * MiB do
			hog:store(h + off, "p")
		end
		-- Then data, 1 MiB at a time, until 3/4 of the carve-out holds it.
		while held < HLEN do
			if not hog:fill(h + held, 0xa5, MiB) then
				break
			end
			held = held + MiB
			local f = carveout_free(parse(m:proc_read("meminfo")))
			lent = free0 - f
			if f <= total // 4 then
				break
			end
		end
	end
	local mid = parse(m:proc_read("meminfo"))
	print(("   untagged data written: %d MiB; %s %d -> %d kB: %d MiB of the carve-out holds data"):format(
		held // MiB, fname, free0, (carveout_free(mid)), lent // 1024))
	-- Make room outside the carve-out, then fault tagged memory there.
	local FREED, TLEN = 128 * MiB, 64 * MiB
	if h >= 0 and held > FREED and not hog:killed() then
		hog:munmap(h, FREED)
		local v0 = parse(m:proc_read("vmstat"))
		local g = t:mmap(0, TLEN, RW | M.PROT_MTE, ANON)
		if ok("mmap PROT_MTE", g) then
			local what, ns = faults(function()
				access_ok("fill PROT_MTE", t:fill(g, 0x3c, TLEN))
			end)
			local v1 = parse(m:proc_read("vmstat"))
			local after = parse(m:proc_read("meminfo"))
			local function d(k)
				return (v1[k] or 0) - (v0[k] or 0)
			end
			print(("   hog frees %d MiB; 64 MiB PROT_MTE written: %s, %s simulated"):format(
				FREED // MiB, what, fmt_ns(ns)))
			print(("   tag pages reserved   metadata_reserve_success %+d (%d MiB of data needs %d)"):format(
				d("metadata_reserve_success"), TLEN // MiB, TLEN // PAGE // 32))
			print(("   data moved out       pgmigrate_success %+d, metadata_reserve_fail %+d"):format(
				d("pgmigrate_success"), d("metadata_reserve_fail")))
			print(("   %-20s %d kB -> %d kB"):format(fname, (carveout_free(mid)), (carveout_free(after))))
			t:munmap(g, TLEN)
			local v2 = parse(m:proc_read("vmstat"))
			print(("   munmap: metadata_reserve_free %+d, the tag pages go back to the allocator"):format(
				(v2.metadata_reserve_free or 0) - (v1.metadata_reserve_free or 0)))
		end
	elseif hog:killed() then
		print("   the filling process was killed (out of memory) before the carve-out was lent out")
	end
	hog:exit()
end

-- ------------------------------------------------------- NUMA migration

if m:nr_nodes() >= 2 and a >= 0 then
	-- The first half: the child's writes copied it, so the parent's pages
	-- are mapped once.  Pages still shared with the child stay put, as
	-- MPOL_MF_MOVE leaves shared pages alone in Linux.
	print("\n8. move_pages: 16 of the parent's own pages to node 1")
	local pages, nodes = {}, {}
	for i = 1, 16 do
		pages[i] = a + (i - 1) * PAGE
		nodes[i] = 1
	end
	local rc, status = t:move_pages(pages, nodes, M.MPOL_MF_MOVE)
	if ok("move_pages", rc) then
		local on1 = 0
		for _, s in ipairs(status) do
			if s == 1 then
				on1 = on1 + 1
			end
		end
		print(("   returned %d; %d of 16 pages now on node 1"):format(rc, on1))
	end
else
	print("\n8. move_pages: skipped, the machine has one NUMA node")
end

-- ------------------------------------------------------ two CPUs at once

-- Two threads of the process, one per CPU, run as task bodies: the
-- scheduler interleaves them at every lock, kernel entry and user access,
-- in the order the schedule seed picks (--sched-seed, default the machine's
-- seed), so the same command line gives the same run and the same --trace.
-- Both fault in the same tagged pages at once: each page's first touch is a
-- race between the two CPUs that exactly one of them wins.
print("\n9. Two threads on two CPUs at once: racing first-touch faults on tagged memory")
local NPAGES = 32
local mte_on = t:prctl(M.PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0)
mte_on = mte_on >= 0 and (mte_on & M.PR_MTE_TCF_SYNC) ~= 0
local r = t:mmap(0, NPAGES * PAGE, RW | (mte_on and M.PROT_MTE or 0), ANON)
local th0, th1 = t:thread(), t:thread()
if ok("mmap", r) and th0 and th1 then
	local ncpu = math.min(m:nr_cpus(), 2)
	th0:set_cpu(0)
	th1:set_cpu(ncpu - 1)
	-- Body i writes granule i of every page through a pointer tagged
	-- 3 + i, after setting that tag, and reads it back.
	local order, bad = {}, {}
	local function body(i)
		return function(tk)
			local tag = 3 + i
			for pg = 0, NPAGES - 1 do
				local at = r + pg * PAGE + 16 * i
				local p = mte_on and (at | (tag << 56)) or at
				if mte_on then
					assert(tk:set_tag(p, 16))
				end
				assert(tk:store(p, ("cpu%d page %2d"):format(i, pg)))
				if tk:load(p, 11) ~= ("cpu%d page %2d"):format(i, pg):sub(1, 11) then
					bad[#bad + 1] = pg
				end
				order[#order + 1] = i
			end
		end
	end
	local f0, n0 = m:vmstat("pgfault"), m:sched_steps()
	local sched = m:sched()
	local done, why
	if sched.mode == "parallel" then
		-- One Lua state cannot run on two host threads: play the two
		-- bodies one after the other (--parallel still takes the
		-- machine lock on every kernel entry).
		print("   --parallel: Lua bodies cannot run in parallel, the two threads run one after the other")
		body(0)(th0)
		body(1)(th1)
		done = true
	else
		assert(m:spawn(th0, body(0)))
		assert(m:spawn(th1, body(1)))
		done, why = m:run_tasks()
	end
	if not done then
		error("the two threads' run failed: " .. tostring(why), 0)
	end
	local switches = 0
	for k = 2, #order do
		if order[k] ~= order[k - 1] then
			switches = switches + 1
		end
	end
	local shown = {}
	for k = 1, math.min(#order, 24) do
		shown[k] = tostring(order[k])
	end
	print(("   thread %d on CPU 0 and thread %d on CPU %d, %d %spages each, %s policy, schedule seed %d"):format(
		th0:pid(), th1:pid(), ncpu - 1, NPAGES, mte_on and "PROT_MTE " or "", sched.policy, sched.seed))
	print(("   %d faults, %d scheduling points; the threads took turns %d times"):format(
		m:vmstat("pgfault") - f0, m:sched_steps() - n0, switches))
	print(("   order in which the threads finished their pages: %s..."):format(table.concat(shown)))
	local t0tag, t1tag = t:get_tag(r), t:get_tag(r + 16)
	print(("   tags after the race: granule 0 = %s, granule 1 = %s; read back %s"):format(
		tostring(t0tag), tostring(t1tag), #bad == 0 and "all as written" or
		("WRONG on %d pages"):format(#bad)))
	if #bad > 0 then
		error("a thread did not read back what it wrote", 0)
	end
	t:munmap(r, NPAGES * PAGE)
end
if th0 then
	th0:exit()
end
if th1 then
	th1:exit()
end

-- ----------------------------------------------------------------- unmap

print("\n10. munmap everything, the child and the parent exit")
if a >= 0 then
	ok("munmap", t:munmap(a, LEN))
end
if z >= 0 then
	ok("munmap", t:munmap(z, ZLEN))
end
if child then
	child:exit()
end
t:exit()

-- --------------------------------------------------------------- summary

local vm1 = parse(m:proc_read("vmstat"))
local mem1 = parse(m:proc_read("meminfo"))

print("\nFaults and events (vmstat counters that moved):")
local names = {}
for k, v in pairs(vm1) do
	if v ~= (vm0[k] or 0) then
		names[#names + 1] = k
	end
end
table.sort(names)
if #names == 0 then
	print(("  pgfault %d"):format(math.max(m:vmstat("pgfault"), 0)))
end
for _, k in ipairs(names) do
	print(("  %-28s %+d"):format(k, vm1[k] - (vm0[k] or 0)))
end

print("\nMemory (kB)            before     mapped      after")
for _, k in ipairs({ "MemFree", "AnonPages", "Shmem", "Cached", "PageTables", "SwapFree" }) do
	if mem0[k] or mem1[k] then
		print(("  %-16s %10d %10d %10d"):format(k, mem0[k] or 0, mem_mid[k] or 0, mem1[k] or 0))
	end
end

print(("\nSimulated time: %s"):format(fmt_ns(m:now() - t0)))
if #skipped > 0 then
	print(("Not built yet: %s"):format(table.concat(skipped, ", ")))
end

local consistent, report = m:check()
if consistent then
	print("Consistency check: passed")
else
	print("Consistency check: FAILED")
	print(report)
	error("mmsim_check found an inconsistency", 0)
end
m:destroy()
