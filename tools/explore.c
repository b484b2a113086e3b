/* SPDX-License-Identifier: MIT */
/*
 * tools/explore.c - `mmsim explore`: one race scenario under many schedules.
 *
 * Design.  A scenario is a Lua script that boots machines, spawns task
 * bodies (m:spawn) and runs them (m:run_tasks), asserting what must hold
 * whatever the interleaving.  Run i of the exploration runs the whole script
 * in a fresh Lua state, with schedule seed S+i given to every machine the
 * script boots (the binding's defaults, as `mmsim run --sched-seed` does),
 * and the binding in explore mode: the explorer's seed, policy and depth win
 * over the script's own m:sched{}, m:run_tasks() raises an error when the
 * run fails (a deadlock, a livelock, a body's error) or when mmsim_check()
 * finds the machine inconsistent right after it, and each machine is
 * checked once more when it is destroyed.
 *
 * A run fails on any Lua error, the script's own asserts included, and on a
 * failed check at destruction.  The first failure stops the exploration
 * with its seed and the command that replays it: everything a run does
 * follows from the script, the machine options and the schedule seed, so
 * `--seed S --runs 1` runs that schedule again, and --trace writes its
 * Perfetto trace (the same bytes each time).
 *
 * The script is read once; each run compiles it again in its own state, so
 * that no run sees another's globals.  Its print() output is dropped unless
 * there is a single run or --verbose.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "mmsim.h"
#include "commands.h"
#include "lua_mmsim.h"

#define EXIT_USAGE 2

enum { POLICY_RANDOM, POLICY_PCT, POLICY_MIXED };
static const char *const policy_names[] = { "random", "pct", "mixed" };

/* The command line. */
struct explore_args {
	struct lmm_defaults d;  /* machine options; the schedule's are set per run */
	const char *script;
	char **sargv;           /* arguments for the script                       */
	int sargc;
	uint64_t runs;          /* schedules to try                               */
	uint64_t seed;          /* schedule seed of the first run                 */
	int policy;             /* POLICY_*                                       */
	int verbose;            /* keep the script's print() output               */
	const char *trace;      /* trace file of every run (the last one stays)   */
};

static const char explore_usage[] =
	"usage: mmsim explore SCRIPT [--runs N] [--seed S] [--policy random|pct|mixed]\n"
	"                     [--depth D] [--trace FILE] [machine options] [-- args]\n"
	"\n"
	"Run the Lua race scenario SCRIPT N times, each time in a fresh Lua state\n"
	"and under another schedule: run i gives every machine the script boots the\n"
	"schedule seed S+i.  A scenario spawns task bodies (m:spawn) and runs them\n"
	"(m:run_tasks), then asserts what must hold whatever the interleaving.\n"
	"\n"
	"A run fails on any Lua error (a failed assert is a wrong result), when\n"
	"m:run_tasks() fails (a deadlock, a livelock, an error in a body), when\n"
	"mmsim_check() finds a machine inconsistent right after m:run_tasks(), or\n"
	"when a machine fails it as it is destroyed.  The first failure stops the\n"
	"exploration and prints the command that replays it; --seed S --runs 1\n"
	"replays schedule S exactly.  In explore mode the explorer's seed, policy\n"
	"and depth win over the script's own m:sched{}.\n"
	"\n"
	"  --runs N           number of schedules to try (default 100)\n"
	"  --seed S           schedule seed of the first run (default 1)\n"
	"  --policy P         random, pct, or mixed: random and pct by turns, random\n"
	"                     first (default mixed)\n"
	"  --depth D          PCT bug depth, 1..8 (default 3)\n"
	"  --trace FILE       write each run's Chrome/Perfetto trace JSON to FILE (the\n"
	"                     k-th machine of a run to FILE with \".k\" before its\n"
	"                     extension); once the exploration stops, FILE holds the\n"
	"                     last run: the failing one if one failed\n"
	"  --verbose          keep the script's print() output (kept anyway for a\n"
	"                     single run)\n"
	"Machine options, defaults of every mmsim.machine{} (a field the script\n"
	"passes wins):\n"
	"  --machine-seed N   the machines' own seed (default 0)\n"
	"  --cpus N           number of CPUs (default: from the device tree)\n"
	"  --devicetree FILE  boot from this .dts or .dtb\n"
	"  --bootargs STR     kernel command line\n"
	"  -h, --help         this text\n"
	"\n"
	"On success prints the runs, the scheduling points they passed and the\n"
	"schedules per second.  Exit status: 0 every run passed, 1 a run failed,\n"
	"2 bad command line.\n";

/* Print "mmsim explore: message" and return the usage exit status. */
static int usage_error(const char *fmt, const char *what)
{
	fflush(stdout);
	fprintf(stderr, "mmsim explore: ");
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* Parse an unsigned integer (decimal, 0x hex or 0 octal); 0 on success. */
static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* Parse the command line; 0, -1 after --help, or the exit status of an error. */
static int explore_parse(int argc, char **argv, struct explore_args *ea)
{
	int i, dashdash = 0;

	ea->runs = 100;
	ea->seed = 1;
	ea->policy = POLICY_MIXED;
	ea->sargv = calloc((size_t)argc + 1, sizeof(char *));
	if (!ea->sargv)
		return 1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *v;
		char name[64];
		uint64_t n;

		if (dashdash || a[0] != '-') {
			if (!ea->script && !dashdash)
				ea->script = a;
			else
				ea->sargv[ea->sargc++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			dashdash = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(explore_usage, stdout);
			return -1;
		}
		eq = strchr(a, '=');
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		if (!strcmp(name, "--verbose") && !eq) {
			ea->verbose = 1;
			continue;
		}
		if (eq) {
			v = eq + 1;
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			return usage_error("option '%s' expects a value (see mmsim explore --help)", a);
		}
		if (!strcmp(name, "--runs")) {
			if (parse_u64(v, &ea->runs) || ea->runs == 0)
				return usage_error("--runs expects a positive integer N, got '%s'", v);
		} else if (!strcmp(name, "--seed")) {
			if (parse_u64(v, &ea->seed))
				return usage_error("--seed expects an unsigned integer S, got '%s'", v);
		} else if (!strcmp(name, "--policy")) {
			int p;

			for (p = 0; p < 3 && strcmp(v, policy_names[p]); p++)
				;
			if (p == 3)
				return usage_error("--policy expects random, pct or mixed, got '%s'", v);
			ea->policy = p;
		} else if (!strcmp(name, "--depth")) {
			if (parse_u64(v, &n) || n < 1 || n > 8)
				return usage_error("--depth expects a PCT depth from 1 to 8, got '%s'", v);
			ea->d.pct_depth = (unsigned int)n;
		} else if (!strcmp(name, "--trace")) {
			ea->trace = v;
		} else if (!strcmp(name, "--machine-seed")) {
			if (parse_u64(v, &ea->d.seed))
				return usage_error("--machine-seed expects an unsigned integer N, got '%s'", v);
		} else if (!strcmp(name, "--cpus")) {
			if (parse_u64(v, &n) || n == 0 || n > UINT_MAX)
				return usage_error("--cpus expects a positive integer N, got '%s'", v);
			ea->d.nr_cpus = (unsigned int)n;
		} else if (!strcmp(name, "--devicetree")) {
			ea->d.devicetree = v;
		} else if (!strcmp(name, "--bootargs")) {
			ea->d.bootargs = v;
		} else {
			return usage_error("unknown option '%s' (expected --runs, --seed, --policy, "
					   "--depth, --trace, --verbose, --machine-seed, --cpus, "
					   "--devicetree, --bootargs or --help; pass script arguments "
					   "after --)", a);
		}
	}
	if (!ea->script)
		return usage_error("%s", "expects a scenario script (mmsim explore SCRIPT --runs N)");
	return 0;
}

/* Read the whole script; NULL (and a message) if it cannot be read. */
static char *read_script(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		fprintf(stderr, "mmsim explore: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			char *nb = realloc(buf, cap = cap ? 2 * cap : 1 << 16);

			if (!nb) {
				fprintf(stderr, "mmsim explore: %s: out of memory\n", path);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "mmsim explore: cannot read %s\n", path);
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

/* print() of a run whose output is not wanted. */
static int quiet_print(lua_State *L)
{
	(void)L;
	return 0;
}

/* The run's Lua state: libraries, module, defaults (in protected mode). */
static int open_run(lua_State *L)
{
	const struct lmm_defaults *d = lua_touserdata(L, 1);
	int quiet = lua_toboolean(L, 2);

	luaL_openlibs(L);
	luaL_requiref(L, "mmsim", luaopen_mmsim, 1);
	lua_pop(L, 1);
	lmm_set_defaults(L, d);
	if (quiet) {
		lua_pushcfunction(L, quiet_print);
		lua_setglobal(L, "print");
	}
	return 0;
}

/* `arg` as lua(1) builds it: the script at 0, its arguments from 1. */
static void set_arg(lua_State *L, const struct explore_args *ea)
{
	lua_createtable(L, ea->sargc, 1);
	lua_pushstring(L, ea->script);
	lua_rawseti(L, -2, 0);
	for (int i = 0; i < ea->sargc; i++) {
		lua_pushstring(L, ea->sargv[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setglobal(L, "arg");
}

/*
 * One run: the whole script in a fresh state.  Returns 0, or 1 with why
 * (malloc'd) saying what failed; st gets the run's scheduling points.
 */
static int run_once(const struct explore_args *ea, const struct lmm_defaults *d,
		    struct lmm_state *st, const char *src, size_t len, char **why)
{
	char chunk[4096];
	lua_State *L = luaL_newstate();
	const char *msg = NULL;
	int rc;

	*why = NULL;
	if (!L) {
		*why = strdup("cannot create a Lua state (out of memory)");
		return 1;
	}
	lua_pushcfunction(L, open_run);
	lua_pushlightuserdata(L, (void *)d);
	lua_pushboolean(L, ea->runs > 1 && !ea->verbose);
	rc = lua_pcall(L, 2, 0, 0);
	if (rc == LUA_OK) {
		set_arg(L, ea);
		lua_pushcfunction(L, lmm_msghandler);
		snprintf(chunk, sizeof(chunk), "@%s", ea->script);
		rc = luaL_loadbuffer(L, src, len, chunk);
		if (rc == LUA_OK) {
			if (!lua_checkstack(L, ea->sargc + 1)) {
				lua_pushstring(L, "too many script arguments");
				rc = LUA_ERRRUN;
			} else {
				for (int i = 0; i < ea->sargc; i++)
					lua_pushstring(L, ea->sargv[i]);
				rc = lua_pcall(L, ea->sargc, 0, -ea->sargc - 2);
			}
		}
	}
	if (rc != LUA_OK) {
		msg = lua_tostring(L, -1);
		*why = strdup(msg ? msg : "(error object is not a string)");
	}
	fflush(stdout);
	/* Every machine left is destroyed (and checked) here. */
	lua_close(L);
	if (!*why && st->failed)
		*why = strdup(st->why);
	return *why ? 1 : 0;
}

/* Append arg to the command line in buf, quoted for a POSIX shell if need be. */
static void put_arg(char *buf, size_t len, const char *arg)
{
	size_t off = strlen(buf);
	const char *p;

	if (off + 2 >= len)
		return;
	buf[off++] = ' ';
	buf[off] = '\0';
	if (*arg && strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789-_./=:,+@%") == strlen(arg)) {
		snprintf(buf + off, len - off, "%s", arg);
		return;
	}
	if (off + 1 < len)
		buf[off++] = '\'';
	for (p = arg; *p && off + 5 < len; p++) {
		if (*p == '\'') {
			memcpy(buf + off, "'\\''", 4);
			off += 4;
		} else {
			buf[off++] = *p;
		}
	}
	if (off + 1 < len)
		buf[off++] = '\'';
	buf[off] = '\0';
}

/* The command that replays schedule seed of the given policy. */
static void replay_command(const struct explore_args *ea, uint64_t seed, int policy,
			   char *buf, size_t len)
{
	char num[32];

	snprintf(buf, len, "mmsim explore");
	put_arg(buf, len, ea->script);
	snprintf(num, sizeof(num), "%" PRIu64, seed);
	put_arg(buf, len, "--seed");
	put_arg(buf, len, num);
	put_arg(buf, len, "--runs");
	put_arg(buf, len, "1");
	put_arg(buf, len, "--policy");
	put_arg(buf, len, policy_names[policy]);
	if (ea->d.pct_depth) {
		snprintf(num, sizeof(num), "%u", ea->d.pct_depth);
		put_arg(buf, len, "--depth");
		put_arg(buf, len, num);
	}
	if (ea->d.seed) {
		snprintf(num, sizeof(num), "%" PRIu64, ea->d.seed);
		put_arg(buf, len, "--machine-seed");
		put_arg(buf, len, num);
	}
	if (ea->d.nr_cpus) {
		snprintf(num, sizeof(num), "%u", ea->d.nr_cpus);
		put_arg(buf, len, "--cpus");
		put_arg(buf, len, num);
	}
	if (ea->d.devicetree) {
		put_arg(buf, len, "--devicetree");
		put_arg(buf, len, ea->d.devicetree);
	}
	if (ea->d.bootargs) {
		put_arg(buf, len, "--bootargs");
		put_arg(buf, len, ea->d.bootargs);
	}
	put_arg(buf, len, "--trace");
	put_arg(buf, len, ea->trace ? ea->trace : "run.json");
	if (ea->sargc) {
		put_arg(buf, len, "--");
		for (int i = 0; i < ea->sargc; i++)
			put_arg(buf, len, ea->sargv[i]);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* See commands.h. */
int mmsim_explore_main(int argc, char **argv)
{
	struct explore_args ea;
	uint64_t i, steps = 0;
	size_t len = 0;
	char *src;
	double t0, dt;
	int rc;

	memset(&ea, 0, sizeof(ea));
	rc = explore_parse(argc, argv, &ea);
	if (rc) {
		free(ea.sargv);
		return rc < 0 ? 0 : rc;
	}
	src = read_script(ea.script, &len);
	if (!src) {
		free(ea.sargv);
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < ea.runs; i++) {
		struct lmm_defaults d = ea.d;
		struct lmm_state st;
		uint64_t seed = ea.seed + i;
		int policy = ea.policy == POLICY_MIXED ? (i % 2 ? POLICY_PCT : POLICY_RANDOM) :
			     ea.policy;
		char *why;

		memset(&st, 0, sizeof(st));
		d.have_sched_seed = 1;
		d.sched_seed = seed;
		d.policy = policy == POLICY_PCT ? MMSIM_SCHED_PCT : MMSIM_SCHED_RANDOM;
		d.trace_path = ea.trace;
		d.explore = 1;
		d.state = &st;
		rc = run_once(&ea, &d, &st, src, len, &why);
		steps += st.steps;
		if (rc) {
			char cmd[8192];

			replay_command(&ea, seed, policy, cmd, sizeof(cmd));
			fflush(stdout);
			fprintf(stderr, "explore: run %" PRIu64 " (seed %" PRIu64 ") failed: %s\n",
				i + 1, seed, why ? why : "?");
			fprintf(stderr, "replay: %s\n", cmd);
			free(why);
			free(src);
			free(ea.sargv);
			return 1;
		}
	}
	dt = now_s() - t0;
	if (dt <= 0)
		dt = 1e-9;
	printf("explore: %" PRIu64 " run%s passed (seeds %" PRIu64 "..%" PRIu64 ", policy %s), "
	       "%" PRIu64 " scheduling points, %.0f schedules/s (%.0f/min)\n",
	       ea.runs, ea.runs == 1 ? "" : "s", ea.seed, ea.seed + ea.runs - 1,
	       policy_names[ea.policy], steps, (double)ea.runs / dt, 60.0 * (double)ea.runs / dt);
	if (!steps)
		printf("explore: the script passed no scheduling point (no m:spawn and "
		       "m:run_tasks?): every run was the same\n");
	free(src);
	free(ea.sargv);
	return 0;
}
