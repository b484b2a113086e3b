/* SPDX-License-Identifier: MIT */
/*
 * tools/mmsim.c - the mmsim command.
 *
 *   mmsim run [script.lua] [options]   a Lua script, or the built-in demo
 *   mmsim dts                          the built-in machine's device tree
 *   mmsim bench [options]              fault rates against the host kernel
 *   mmsim experiment tag-storage [...] the tag storage policy sweep
 *   mmsim explore script.lua --runs N  a race scenario under N schedules
 *   mmsim help [command]
 *
 * Exit status: 0 success, 1 the work failed (script error, ...), 2 the
 * command line was wrong.  Nothing a script or a file does aborts the
 * process: scripts run in protected mode.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "mmsim.h"
#include "commands.h"
#include "lua_mmsim.h"
#include "demo_lua.h"

#define EXIT_USAGE 2

/*
 * `mmsim experiment` (tools/experiment.c).  argv[0] is "experiment";
 * returns the exit status: 0 done, 1 a point failed, 2 bad command line.
 */
int mmsim_experiment_main(int argc, char **argv);

struct command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
	const char *usage;      /* NULL: the command prints its own help */
};

static const char run_usage[] =
	"usage: mmsim run [script.lua | -] [options] [--] [script arguments]\n"
	"\n"
	"Run a Lua 5.4 script against the simulator, or the built-in demo when no\n"
	"script is given ('-' reads the script from standard input).  The script\n"
	"sees the module as the global `mmsim` (also require \"mmsim\") and its\n"
	"arguments as `arg` and `...`, as with lua(1).  The options are the\n"
	"defaults of every mmsim.machine{} the script boots; a field the script\n"
	"passes wins.\n"
	"\n"
	"  --devicetree FILE  boot from this .dts or .dtb, not the built-in machine\n"
	"  --seed N           seed of every pseudo-random choice (default 0)\n"
	"  --cpus N           number of CPUs (default: from the device tree)\n"
	"  --bootargs STR     kernel command line, e.g. \"transparent_hugepage=always\"\n"
	"  --swap BYTES       size of the swap device, suffix K, M or G (default: none)\n"
	"  --swap-path FILE   file backing the swap device (default: in memory)\n"
	"  --dmesg            print the kernel log after each machine boots\n"
	"  -h, --help         this text\n"
	"\n"
	"Task bodies (m:spawn, m:run_tasks) - defaults of every machine's m:sched{}:\n"
	"  --sched-seed N     seed of the schedule (default: the machine's seed)\n"
	"  --policy P         random (default) or pct (probabilistic concurrency testing)\n"
	"  --depth D          PCT bug depth, 1..8 (default 3)\n"
	"  --parallel         parallel mode: bodies on host threads.  A Lua state runs\n"
	"                     on one host thread, so Lua bodies cannot run this way:\n"
	"                     m:run_tasks() with Lua bodies then fails, and the demo runs\n"
	"                     its bodies one after the other.  What it exercises for a\n"
	"                     script is the threaded kernel entry (the machine lock) of\n"
	"                     the calls it makes directly.\n"
	"  --trace FILE       write each machine's run as Chrome/Perfetto trace JSON\n"
	"                     (ui.perfetto.dev): the first machine to FILE, the k-th\n"
	"                     to FILE with \".k\" before its extension (run.json,\n"
	"                     run.2.json, ...).  A deterministic run writes the same\n"
	"                     bytes every time.\n"
	"\n"
	"Arguments after the script that are not options above, and everything\n"
	"after --, go to the script.  Exit status: 0, the value the script gives\n"
	"os.exit(), 1 on a script error, 2 on a bad option.\n";

static const char dts_usage[] =
	"usage: mmsim dts\n"
	"\n"
	"Print the device tree source of the built-in machine: a starting point\n"
	"for `mmsim run --devicetree FILE`.\n";

static const char help_usage[] =
	"usage: mmsim help [command]\n"
	"\n"
	"Without a command, list the commands; with one, print its help.\n";

/* ----------------------------------------------------------------- helpers */

/* Print "mmsim CMD: message" on stderr and return the usage exit status. */
static int usage_error(const char *cmd, const char *fmt, const char *what)
{
	fflush(stdout);
	fprintf(stderr, "mmsim%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* Parse an unsigned decimal/hex/octal integer; 0 on success. */
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

/*
 * Parse a size: an integer with an optional binary suffix K, M, G or T
 * (also KB, KiB, ...), as a swap device is usually sized.
 */
static int parse_size(const char *s, uint64_t *out)
{
	static const char suffixes[] = "KMGT";
	char *end;
	unsigned long long v;
	const char *p;
	int shift = 0;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	if (*end) {
		p = strchr(suffixes, end[0] & ~0x20);
		if (!p)
			return -1;
		shift = 10 * (int)(p - suffixes + 1);
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B") || !strcmp(end, "b"))
			end += strlen(end);
		if (*end)
			return -1;
		if (v > (UINT64_MAX >> shift))
			return -1;
	}
	*out = (uint64_t)v << shift;
	return 0;
}

/* ------------------------------------------------------------------ mmsim run */

struct run_args {
	struct lmm_defaults d;
	const char *script;     /* NULL: the demo; "-": standard input */
	int script_at;          /* index of the script in argv, or -1 */
	char **sargv;           /* arguments for the script */
	int sargc;
};

/*
 * Take the value of an option, from "--opt=value" or the next argument.
 * Returns NULL (and prints why) when it is missing.
 */
static const char *opt_value(int argc, char **argv, int *i, const char *opt, const char *eq,
			     const char *what)
{
	if (eq)
		return eq + 1;
	if (*i + 1 >= argc) {
		fflush(stdout);
		fprintf(stderr, "mmsim run: option '%s' expects a value %s\n", opt, what);
		return NULL;
	}
	return argv[++*i];
}

/* Parse the arguments of mmsim run; 0, or the exit status of an error. */
static int run_parse(int argc, char **argv, struct run_args *ra)
{
	int i, dashdash = 0;

	ra->script_at = -1;
	ra->sargv = calloc((size_t)argc + 1, sizeof(char *));
	if (!ra->sargv)
		return 1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *v;
		char name[64];
		uint64_t n;

		if (dashdash || a[0] != '-' || !strcmp(a, "-")) {
			if (ra->script_at < 0 && !dashdash) {
				ra->script = a;
				ra->script_at = i;
			} else {
				ra->sargv[ra->sargc++] = argv[i];
			}
			continue;
		}
		if (!strcmp(a, "--")) {
			dashdash = 1;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(run_usage, stdout);
			return -1;
		}
		/* "--name=value" compares by the name part only */
		eq = strchr(a, '=');
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		if (!strcmp(name, "--dmesg") && !eq) {
			ra->d.dmesg = 1;
		} else if (!strcmp(name, "--parallel") && !eq) {
			ra->d.parallel = 1;
		} else if (!strcmp(name, "--trace")) {
			v = opt_value(argc, argv, &i, name, eq, "FILE (where the JSON trace goes)");
			if (!v)
				return EXIT_USAGE;
			ra->d.trace_path = v;
		} else if (!strcmp(name, "--sched-seed")) {
			v = opt_value(argc, argv, &i, name, eq, "N");
			if (!v)
				return EXIT_USAGE;
			if (parse_u64(v, &ra->d.sched_seed))
				return usage_error("run", "--sched-seed expects an unsigned integer N, got '%s'", v);
			ra->d.have_sched_seed = 1;
		} else if (!strcmp(name, "--policy")) {
			v = opt_value(argc, argv, &i, name, eq, "random or pct");
			if (!v)
				return EXIT_USAGE;
			if (!strcmp(v, "random"))
				ra->d.policy = MMSIM_SCHED_RANDOM;
			else if (!strcmp(v, "pct"))
				ra->d.policy = MMSIM_SCHED_PCT;
			else
				return usage_error("run", "--policy expects random or pct, got '%s'", v);
		} else if (!strcmp(name, "--depth")) {
			v = opt_value(argc, argv, &i, name, eq, "D (1..8)");
			if (!v)
				return EXIT_USAGE;
			if (parse_u64(v, &n) || n < 1 || n > 8)
				return usage_error("run", "--depth expects a PCT depth from 1 to 8, got '%s'", v);
			ra->d.pct_depth = (unsigned int)n;
		} else if (!strcmp(name, "--devicetree")) {
			v = opt_value(argc, argv, &i, name, eq, "FILE (a .dts or .dtb)");
			if (!v)
				return EXIT_USAGE;
			ra->d.devicetree = v;
		} else if (!strcmp(name, "--bootargs")) {
			v = opt_value(argc, argv, &i, name, eq, "STR (a kernel command line)");
			if (!v)
				return EXIT_USAGE;
			ra->d.bootargs = v;
		} else if (!strcmp(name, "--swap-path")) {
			v = opt_value(argc, argv, &i, name, eq, "FILE");
			if (!v)
				return EXIT_USAGE;
			ra->d.swap_path = v;
		} else if (!strcmp(name, "--seed")) {
			v = opt_value(argc, argv, &i, name, eq, "N");
			if (!v)
				return EXIT_USAGE;
			if (parse_u64(v, &ra->d.seed))
				return usage_error("run", "--seed expects an unsigned integer N, got '%s'", v);
		} else if (!strcmp(name, "--cpus")) {
			v = opt_value(argc, argv, &i, name, eq, "N");
			if (!v)
				return EXIT_USAGE;
			if (parse_u64(v, &n) || n == 0 || n > UINT_MAX)
				return usage_error("run", "--cpus expects a positive integer N, got '%s'", v);
			ra->d.nr_cpus = (unsigned int)n;
		} else if (!strcmp(name, "--swap")) {
			v = opt_value(argc, argv, &i, name, eq, "BYTES");
			if (!v)
				return EXIT_USAGE;
			if (parse_size(v, &ra->d.swap_bytes))
				return usage_error("run", "--swap expects a size in bytes (suffix K, M or G allowed), got '%s'", v);
		} else {
			return usage_error("run", "unknown option '%s' (expected --devicetree, --seed, "
					   "--cpus, --bootargs, --swap, --swap-path, --dmesg, --sched-seed, "
					   "--policy, --depth, --parallel, --trace or --help; "
					   "pass script arguments after --)", a);
		}
	}
	return 0;
}

/*
 * Build `arg` as lua(1) does: the script at 0, its arguments at 1..n, and
 * the command line before them at negative indices.
 */
static void set_arg_table(lua_State *L, int argc, char **argv, const struct run_args *ra)
{
	int i, n = 0;

	lua_createtable(L, ra->sargc, argc);
	lua_pushstring(L, ra->script ? ra->script : "demo.lua");
	lua_rawseti(L, -2, 0);
	for (i = 0; i < ra->sargc; i++) {
		lua_pushstring(L, ra->sargv[i]);
		lua_rawseti(L, -2, i + 1);
	}
	/* everything that is not the script or one of its arguments */
	for (i = argc - 1; i >= 0; i--) {
		int j, is_sarg = i == ra->script_at;

		for (j = 0; j < ra->sargc && !is_sarg; j++)
			is_sarg = ra->sargv[j] == argv[i];
		if (is_sarg)
			continue;
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, --n);
	}
	lua_setglobal(L, "arg");
}

/* Open the standard libraries and the mmsim module (in protected mode). */
static int open_libs(lua_State *L)
{
	const struct lmm_defaults *d = lua_touserdata(L, 1);

	luaL_openlibs(L);
	luaL_requiref(L, "mmsim", luaopen_mmsim, 1);
	lua_pop(L, 1);
	lmm_set_defaults(L, d);
	return 0;
}

/* Print a Lua error message (already "file:line: message") on stderr. */
static void report(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);

	fflush(stdout);
	fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
	lua_pop(L, 1);
}

/* mmsim run */
static int cmd_run(int argc, char **argv)
{
	struct run_args ra;
	struct lmm_state st;
	lua_State *L;
	int rc, i, status = 0;

	memset(&ra, 0, sizeof(ra));
	memset(&st, 0, sizeof(st));
	ra.d.state = &st;
	rc = run_parse(argc, argv, &ra);
	if (rc) {
		free(ra.sargv);
		return rc < 0 ? 0 : rc;
	}
	L = luaL_newstate();
	if (!L) {
		fprintf(stderr, "mmsim run: cannot create a Lua state (out of memory)\n");
		free(ra.sargv);
		return 1;
	}
	lua_pushcfunction(L, open_libs);
	lua_pushlightuserdata(L, &ra.d);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		report(L);
		status = 1;
		goto out;
	}
	set_arg_table(L, argc, argv, &ra);

	lua_pushcfunction(L, lmm_msghandler);
	if (!ra.script)
		rc = luaL_loadbuffer(L, (const char *)demo_lua, sizeof(demo_lua), "@demo.lua");
	else if (!strcmp(ra.script, "-"))
		rc = luaL_loadfile(L, NULL);
	else
		rc = luaL_loadfile(L, ra.script);
	if (rc != LUA_OK) {
		/* a syntax error already reads "file:line: ..."; a missing
		 * file does not say who could not open it */
		if (rc == LUA_ERRFILE)
			fprintf(stderr, "mmsim run: ");
		report(L);
		status = 1;
		goto out;
	}
	if (!lua_checkstack(L, ra.sargc + 2)) {
		fprintf(stderr, "mmsim run: too many script arguments\n");
		status = 1;
		goto out;
	}
	for (i = 0; i < ra.sargc; i++)
		lua_pushstring(L, ra.sargv[i]);
	if (lua_pcall(L, ra.sargc, 0, 1) != LUA_OK) {
		report(L);
		status = 1;
	}
out:
	fflush(stdout);
	/* lua_close() runs the finalizers: every machine left is destroyed. */
	lua_close(L);
	free(ra.sargv);
	return status;
}

/* ------------------------------------------------------------ other commands */

/* mmsim dts */
static int cmd_dts(int argc, char **argv)
{
	const char *dts;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(dts_usage, stdout);
		return 0;
	}
	if (argc > 1)
		return usage_error("dts", "unexpected argument '%s' (dts takes no arguments)",
				   argv[1]);
	dts = mmsim_default_dts();
	if (!dts) {
		fprintf(stderr, "mmsim dts: %s\n", mmsim_strerror_last());
		return 1;
	}
	fputs(dts, stdout);
	return 0;
}

/* mmsim bench: bench/bench.c parses its own options and prints its help. */
static int cmd_bench(int argc, char **argv)
{
	fflush(stdout);
	return mmsim_bench_main(argc, argv);
}

/* mmsim experiment: tools/experiment.c parses its options and prints its help. */
static int cmd_experiment(int argc, char **argv)
{
	fflush(stdout);
	return mmsim_experiment_main(argc, argv);
}

/* mmsim explore: tools/explore.c parses its options and prints its help. */
static int cmd_explore(int argc, char **argv)
{
	fflush(stdout);
	return mmsim_explore_main(argc, argv);
}

static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{ "run", cmd_run, "run a Lua script, or the built-in demo", run_usage },
	{ "dts", cmd_dts, "print the built-in machine's device tree", dts_usage },
	{ "bench", cmd_bench, "mmsim's fault rates against the host kernel's", NULL },
	{ "help", cmd_help, "help on a command", help_usage },
	{ "experiment", cmd_experiment, "tag storage policies swept over the PROT_MTE share", NULL },
	{ "explore", cmd_explore, "a Lua race scenario run under many schedules", NULL },
};
#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The general usage text. */
static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: mmsim COMMAND [ARGS]\n"
		   "       mmsim --help | --version\n"
		   "\n"
		   "mmsim %s: a deterministic model of the Linux arm64 page-fault path with MTE.\n"
		   "\n"
		   "Commands:\n", MMSIM_VERSION);
	for (i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'mmsim help COMMAND' or 'mmsim COMMAND --help' prints a command's help.\n"
		   "Exit status: 0 success, 1 failure, 2 bad command line.\n");
}

/* Look a command up by name. */
static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* mmsim help [command] */
static int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(help_usage, stdout);
		return 0;
	}
	if (argc > 2)
		return usage_error("help", "unexpected argument '%s' (expected one command name)",
				   argv[2]);
	c = find_command(argv[1]);
	if (!c)
		return usage_error("help", "unknown command '%s' (expected run, dts, bench, experiment, explore or help)",
				   argv[1]);
	if (!c->usage) {
		/* the command prints its own help */
		char *hargv[3] = { argv[1], "--help", NULL };

		return c->main(2, hargv);
	}
	fputs(c->usage, stdout);
	return 0;
}

/* Entry point: dispatch on the first argument. */
int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("mmsim %s (%s)\n", MMSIM_VERSION, LUA_RELEASE);
		return 0;
	}
	if (argv[1][0] == '-')
		return usage_error(NULL, "unknown option '%s' (expected a command, --help or "
				   "--version)", argv[1]);
	c = find_command(argv[1]);
	if (!c)
		return usage_error(NULL, "unknown command '%s' (expected run, dts, bench, experiment, explore or help; "
				   "see mmsim --help)", argv[1]);
	return c->main(argc - 1, argv + 1);
}
