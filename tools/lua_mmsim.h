/* SPDX-License-Identifier: MIT */
/*
 * tools/lua_mmsim.h - the Lua 5.4 binding of the mmsim C API.
 *
 * luaopen_mmsim() builds the module table `mmsim`: mmsim.machine{...}, the
 * machine, task and pin methods (the C functions minus their prefix) and
 * every MMSIM_ constant of mmsim/uapi.h without the prefix.
 *
 * Task bodies (m:spawn, m:run_tasks) are Lua functions, each run in a Lua
 * thread of its own on the stack the scheduler gives its task; they run only
 * in deterministic mode, since one lua_State cannot be entered from several
 * host threads at once.
 */
#ifndef MMSIM_TOOLS_LUA_MMSIM_H
#define MMSIM_TOOLS_LUA_MMSIM_H

#include <stdint.h>

#include <lua.h>

/*
 * What the binding reports back to the command that opened it, for every
 * machine of one Lua state: the trace files are numbered from machines, the
 * explorer sums steps and reads failed/why once the state is closed.
 */
struct lmm_state {
	unsigned int machines;  /* machines booted so far                          */
	uint64_t steps;         /* scheduling points of the machines destroyed     */
	int failed;             /* explore: a machine failed mmsim_check at its end */
	char why[4096];         /* explore: the first such report                  */
};

/*
 * What `mmsim run` was told on its command line.  mmsim.machine{} takes a
 * field the script leaves out from here, so `--seed 7` reseeds every machine
 * of a script that does not pick its own seed.  The strings are not copied:
 * they must outlive the Lua state (argv does).
 */
struct lmm_defaults {
	const char *devicetree;
	unsigned int nr_cpus;
	uint64_t seed;
	const char *bootargs;
	uint64_t swap_bytes;
	const char *swap_path;
	int dmesg;              /* print the kernel log after each machine boots */
	/* concurrency: applied with mmsim_sched_set() right after the boot */
	int parallel;           /* MMSIM_SCHED_PARALLEL instead of deterministic   */
	int policy;             /* MMSIM_SCHED_RANDOM (0) or MMSIM_SCHED_PCT       */
	unsigned int pct_depth; /* PCT bug depth (0: the library's default)        */
	int have_sched_seed;    /* sched_seed is set; otherwise the machine seed   */
	uint64_t sched_seed;
	/*
	 * Every machine writes its Chrome/Perfetto trace here: the first to the
	 * path itself, the k-th (k >= 2) to the path with ".k" before its
	 * extension (run.json, run.2.json, ...).
	 */
	const char *trace_path;
	/*
	 * Explore mode: the schedule options above win over a script's own
	 * m:sched{} (seed, policy, depth), m:run_tasks() raises an error when
	 * the run fails or mmsim_check() fails right after it, and each machine
	 * is checked again when it is destroyed (failures land in state).
	 */
	int explore;
	struct lmm_state *state;/* may be NULL                                     */
};

/* Open the module; leaves the module table on the stack. */
int luaopen_mmsim(lua_State *L);

/* Install the command-line defaults (d must outlive L; NULL = none). */
void lmm_set_defaults(lua_State *L, const struct lmm_defaults *d);

/*
 * Message handler for lua_pcall(): the error text plus a traceback, as
 * lua(1) prints it; a siginfo raised by assert(t:store(...)) reads as one.
 */
int lmm_msghandler(lua_State *L);

#endif /* MMSIM_TOOLS_LUA_MMSIM_H */
