-- The Perfetto trace of a deterministic run is a function of the seeds:
-- the same schedule seed writes the same bytes, another seed another file.
local M = mmsim
local PAGE = 4096
local RW = M.PROT_READ | M.PROT_WRITE
local ANON = M.MAP_PRIVATE | M.MAP_ANONYMOUS

local function slurp(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("a")
	f:close()
	return s
end

-- Boot, trace, run two racing bodies; returns the trace's bytes.
local function traced_run(seed, path)
	local m = assert(M.machine { seed = 11 })
	assert(m:trace_file(path) == 0)
	assert(m:sched { seed = seed })
	local p = assert(m:task())
	local th = assert(p:thread())
	assert(th:set_cpu(1) == 0)
	local a = p:mmap(0, 8 * PAGE, RW, ANON)
	assert(a > 0)
	for i, t in ipairs({ p, th }) do
		assert(m:spawn(t, function(tk)
			for pg = 0, 7 do
				assert(tk:store(a + pg * PAGE + i, "t"))
			end
			assert(tk:mprotect(a, PAGE, M.PROT_READ) == 0)
		end))
	end
	assert(m:run_tasks())
	assert(m:trace_file_close() == 0)
	m:destroy()
	return slurp(path)
end

local p1, p2, p3 = os.tmpname(), os.tmpname(), os.tmpname()
local a = traced_run(4, p1)
local b = traced_run(4, p2)
local c = traced_run(5, p3)
os.remove(p1)
os.remove(p2)
os.remove(p3)

assert(a:sub(1, 14) == '{"displayTimeU', "not trace JSON: " .. a:sub(1, 40))
assert(a:sub(-3) == "]}\n", "the trace file was not ended")
for _, what in ipairs({ '"name":"preempt"', '"name":"lock"', '"name":"run"', "page_fault_user" }) do
	assert(a:find(what, 1, true), "the trace has no " .. what)
end
assert(#a > 1000)
assert(a == b, "two runs of seed 4 wrote different traces")
assert(a ~= c, "seeds 4 and 5 wrote the same trace")

-- A path that cannot be written: -EIO and the library's reason.
local m = assert(M.machine { seed = 1 })
assert(m:trace_file("/nonexistent-dir/x.json") == -M.EIO)
assert(M.strerror_last():find("/nonexistent-dir/x.json", 1, true))
assert(not pcall(m.trace_file, m, 42), "a number was taken as a path")
-- Closing without a trace is fine.
assert(m:trace_file_close() == 0)
