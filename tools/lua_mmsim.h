/* SPDX-License-Identifier: MIT */
/*
 * tools/lua_mmsim.h - the Lua 5.4 binding of the mmsim C API.
 *
 * luaopen_mmsim() builds the module table `mmsim`: mmsim.machine{...}, the
 * machine, task and pin methods (the C functions minus their prefix) and
 * every MMSIM_ constant of mmsim/uapi.h without the prefix.
 */
#ifndef MMSIM_TOOLS_LUA_MMSIM_H
#define MMSIM_TOOLS_LUA_MMSIM_H

#include <stdint.h>

#include <lua.h>

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
};

/* Open the module; leaves the module table on the stack. */
int luaopen_mmsim(lua_State *L);

/* Install the command-line defaults (d must outlive L; NULL = none). */
void lmm_set_defaults(lua_State *L, const struct lmm_defaults *d);

#endif /* MMSIM_TOOLS_LUA_MMSIM_H */
