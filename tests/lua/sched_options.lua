-- m:sched(): the schedule options read back as a table; m:sched{...}
-- changes the fields given, and refuses what the library could not honour
-- with an error that names the field.
local M = mmsim

assert(M.SCHED_DETERMINISTIC == 0 and M.SCHED_PARALLEL == 1)
assert(M.SCHED_RANDOM == 0 and M.SCHED_PCT == 1)

local m = assert(M.machine { seed = 42 })
local s = m:sched()
assert(s.mode == "deterministic" and s.policy == "random", "defaults: " .. s.mode .. " " .. s.policy)
assert(s.seed == 42, "the schedule seed defaults to the machine seed, got " .. tostring(s.seed))
assert(s.depth == 3 and s.max_steps == 1000000)

assert(m:sched { policy = "pct", depth = 5, steps = 300, seed = 7 })
s = m:sched()
assert(s.policy == "pct" and s.depth == 5 and s.steps == 300 and s.seed == 7)
assert(s.mode == "deterministic", "a field not given changed")
-- The constants work as well as the names.
assert(m:sched { policy = M.SCHED_RANDOM, mode = M.SCHED_DETERMINISTIC })
assert(m:sched().policy == "random")
-- 0 means the library's default.
assert(m:sched { depth = 0, max_steps = 0 })
assert(m:sched().depth == 3 and m:sched().max_steps == 1000000)

-- Refusals: (options, what the message must say)
local bad = {
	{ { mode = "fast" }, "field 'mode' expected \"deterministic\" or \"parallel\", got 'fast'" },
	{ { policy = "fifo" }, "field 'policy' expected \"random\" or \"pct\", got 'fifo'" },
	{ { policy = 2 }, "field 'policy'" },
	{ { mode = true }, "field 'mode'" },
	{ { depth = 9 }, "field 'depth' must be between 0 and 8" },
	{ { depth = -1 }, "field 'depth'" },
	{ { depth = 1.5 }, "non-integral" },
	{ { steps = "many" }, "field 'steps' expected integer" },
	{ { max_steps = -5 }, "field 'max_steps'" },
	{ { sed = 1 }, "unknown field 'sed'" },
}
for _, b in ipairs(bad) do
	local before = m:sched()
	local ok, msg = pcall(m.sched, m, b[1])
	assert(not ok, "accepted: " .. b[2])
	assert(msg:find(b[2], 1, true), "message '" .. msg .. "' does not say " .. b[2])
	local after = m:sched()
	for k, v in pairs(before) do
		assert(after[k] == v, "a refused m:sched{} changed " .. k)
	end
end
assert(not pcall(m.sched, m, "pct"), "a string was taken as options")

-- A 64-bit seed goes through unchanged.
assert(m:sched { seed = -1 })
assert(m:sched().seed == -1)
assert(m:sched_steps() == 0, "no run yet, yet scheduling points")
