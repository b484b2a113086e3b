/* SPDX-License-Identifier: MIT */
/*
 * tools/lua_mmsim.c - the Lua 5.4 binding of the mmsim C API, one to one.
 *
 * Three userdata types mirror the C handles: a machine, a task and a pin.
 * Methods are the C functions minus their prefix and take the same
 * arguments in the same order; system calls return what the C call returns
 * (>= 0 or -errno).  Only what C returns through pointers changes shape:
 * a load returns its bytes, a failed access returns a siginfo table.
 *
 * Nothing here aborts the host: bad arguments raise a Lua error that names
 * the function and the argument, and a handle whose machine was destroyed
 * refuses to be used instead of touching freed memory.
 *
 * Task bodies.  m:spawn(t, fn) queues fn as the body of task t; the C body
 * the library runs (body_main) calls it in a Lua thread of its own, so each
 * body has its own Lua call stack on top of its own C stack.  A Lua error
 * must never unwind from one C stack into another, so every Lua call a body
 * makes is protected on its own stack: an error ends that body only, the
 * first one is kept and m:run_tasks() returns it once the run is over.
 * While a run is in progress the Lua state is re-entered from several C
 * stacks, one at a time (the scheduler is deterministic, on one host
 * thread), so three things are kept away from a running body: another
 * machine (its locks would schedule this machine's bodies), destroying a
 * machine (a finalizer that does is put off until the run ends) and the
 * Lua thread of a suspended body (trace callbacks get one of their own).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "mmsim.h"
#include "lua_mmsim.h"

#define MT_MACHINE "mmsim.machine"
#define MT_TASK    "mmsim.task"
#define MT_PIN     "mmsim.pin"
#define DEFAULTS_KEY "mmsim.defaults"

/* Largest text a proc/sysfs read may grow its buffer to. */
#define READ_MAX (256u << 20)

struct lmm_machine;

/* One m:trace() subscription; ctx of the C callback. */
struct lmm_trace {
	struct lmm_machine *mb;
	int fn_ref;                 /* the Lua function, in the registry          */
	int id;                     /* what m:trace() returned, for m:untrace()   */
	struct lmm_trace *next;
};

struct lmm_body;

struct lmm_machine {
	struct mmsim_machine *m;    /* NULL once destroyed                        */
	lua_State *L;               /* the Lua thread now calling the library;
	                             * during a run, the trace callbacks' thread   */
	struct lmm_trace *traces;
	int next_trace_id;
	int pending_ref;            /* error raised by a trace callback           */
	int in_trace;               /* a trace callback is running                */
	struct lmm_orphan *orphans; /* freed with the machine                      */
	const struct lmm_defaults *d;/* the command line's defaults (never NULL)   */
	struct lmm_body **bodies;   /* spawned, not yet run                        */
	int nr_bodies, cap_bodies;
	int running;                /* m:run_tasks() is in progress                */
	int cb_ref;                 /* the trace callbacks' thread during a run   */
	int err_ref;                /* the first error a body raised in this run  */
	int run_failed;             /* explore: a run failed, skip the end check   */
	int body_oom;               /* a body's error could not be reported        */
};

/* One Lua body queued by m:spawn(); the arg of body_main(). */
struct lmm_body {
	struct lmm_machine *mb;
	struct lmm_task *tb;        /* its task, kept alive by uservalue 3         */
	lua_State *L1;              /* the Lua thread it runs in                   */
	int ref;                    /* its userdata in the registry: the thread,
	                             * fn and the task are its uservalues 1..3    */
	int pid;                    /* of its task, for the error message          */
	int cancel;                 /* return at once: the run cannot run Lua      */
};

/* What a task's access that went to sleep (MMSIM_ACCESS_BLOCKED) needs kept. */
enum lmm_access {
	ACC_NONE, ACC_LOAD, ACC_LOAD_U64, ACC_STORE, ACC_STORE_U64, ACC_FILL,
	ACC_SET_TAG, ACC_GET_TAG,
};

struct lmm_task {
	struct mmsim_task *t;       /* NULL once exited                            */
	struct lmm_machine *mb;     /* kept alive by uservalue 1                   */
	enum lmm_access blocked;    /* access waiting for t:resume()               */
	int body;                   /* a body of it is spawned or running          */
	unsigned char *buf;         /* the access's bytes (malloc), see acc_buf()  */
	uint64_t len;
};

/* Buffer of a blocked access whose task handle was collected. */
struct lmm_orphan {
	void *buf;
	struct lmm_orphan *next;
};

struct lmm_pin {
	struct mmsim_pin *p;        /* NULL once unpinned                          */
	struct lmm_machine *mb;     /* kept alive by uservalue 1                   */
};

/* ---------------------------------------------------------- argument checks */

/*
 * Argument number as the script sees it: methods do not count self, so in
 * t:mmap(addr, len) len is argument 2 although it sits at stack index 3.
 */
static int argno(const char *fn, int idx)
{
	return strchr(fn, ':') ? idx - 1 : idx;
}

/* Name of the type of a value: "machine", "task" or "pin" for handles. */
static const char *tname(lua_State *L, int idx)
{
	const char *n = NULL;
	int t = luaL_getmetafield(L, idx, "__name");

	if (t == LUA_TSTRING)
		n = lua_tostring(L, -1);        /* the metatable keeps it alive */
	if (t != LUA_TNIL)
		lua_pop(L, 1);
	return n ? n : luaL_typename(L, idx);
}

/* An integer argument; floats with an integral value are accepted too. */
static lua_Integer arg_int(lua_State *L, const char *fn, int idx, const char *name)
{
	int isnum = 0;
	lua_Integer v;

	if (lua_type(L, idx) == LUA_TNUMBER) {
		v = lua_tointegerx(L, idx, &isnum);
		if (isnum)
			return v;
		luaL_error(L, "%s: argument %d (%s) expected integer, got non-integral number",
			   fn, argno(fn, idx), name);
	}
	luaL_error(L, "%s: argument %d (%s) expected integer, got %s", fn,
		   argno(fn, idx), name, tname(L, idx));
	return 0;
}

/* An optional integer argument: nil or absent gives def. */
static lua_Integer arg_optint(lua_State *L, const char *fn, int idx, const char *name,
			      lua_Integer def)
{
	if (lua_isnoneornil(L, idx))
		return def;
	return arg_int(L, fn, idx, name);
}

/*
 * An argument the C function takes as int or unsigned int.  Both ranges are
 * accepted so that a flag word such as 0xffffffff can be written either way.
 */
static int arg_i32(lua_State *L, const char *fn, int idx, const char *name)
{
	lua_Integer v = arg_int(L, fn, idx, name);

	if (v < INT_MIN || v > (lua_Integer)UINT_MAX)
		luaL_error(L, "%s: argument %d (%s) out of range for a 32-bit integer",
			   fn, argno(fn, idx), name);
	return (int)(unsigned int)v;
}

/* Optional form of arg_i32(). */
static int arg_opti32(lua_State *L, const char *fn, int idx, const char *name, int def)
{
	if (lua_isnoneornil(L, idx))
		return def;
	return arg_i32(L, fn, idx, name);
}

/* A string argument; numbers are refused so that mistakes show up. */
static const char *arg_str(lua_State *L, const char *fn, int idx, const char *name,
			   size_t *len)
{
	if (lua_type(L, idx) != LUA_TSTRING)
		luaL_error(L, "%s: argument %d (%s) expected string, got %s", fn,
			   argno(fn, idx), name, tname(L, idx));
	return lua_tolstring(L, idx, len);
}

/* A function argument. */
static void arg_fn(lua_State *L, const char *fn, int idx, const char *name)
{
	if (lua_type(L, idx) != LUA_TFUNCTION)
		luaL_error(L, "%s: argument %d (%s) expected function, got %s", fn,
			   argno(fn, idx), name, tname(L, idx));
}

/* A table argument. */
static void arg_table(lua_State *L, const char *fn, int idx, const char *name)
{
	if (lua_type(L, idx) != LUA_TTABLE)
		luaL_error(L, "%s: argument %d (%s) expected table, got %s", fn,
			   argno(fn, idx), name, tname(L, idx));
}

/* ------------------------------------------------------------ handle checks */

/* Calls that only read an identifier or a clock: fine inside a callback. */
static int safe_in_trace(const char *fn)
{
	static const char *const safe[] = {
		"t:pid", "t:tgid", "t:killed", "m:now", "m:nr_cpus", "m:nr_nodes", NULL
	};
	int i;

	for (i = 0; safe[i]; i++)
		if (!strcmp(fn, safe[i]))
			return 1;
	return 0;
}

/*
 * The machine whose m:run_tasks() is in progress on this host thread, if
 * any.  Runs do not nest (the library refuses a run from a body), so one
 * pointer is enough.
 */
static _Thread_local struct lmm_machine *running_mb;

/*
 * Refuse a call while a trace callback runs: the library is in the middle of
 * the call that emitted the event, and re-entering it is not supported.
 * Refuse too a call on another machine from a running body: its locks would
 * switch between this machine's bodies.
 */
static void check_usable(lua_State *L, struct lmm_machine *mb, const char *fn)
{
	if (!mb->m)
		luaL_error(L, "%s: machine already destroyed", fn);
	if (mb->in_trace && !safe_in_trace(fn))
		luaL_error(L, "%s: the machine cannot be used inside a trace callback", fn);
	if (running_mb && running_mb != mb)
		luaL_error(L, "%s: another machine is running its tasks; a body may use only "
			   "its own machine", fn);
	if (!mb->running)
		mb->L = L;
}

/* self of a machine method. */
static struct lmm_machine *check_machine(lua_State *L, const char *fn)
{
	struct lmm_machine *mb = luaL_testudata(L, 1, MT_MACHINE);

	if (!mb)
		luaL_error(L, "%s: bad self (expected machine, got %s); call it with ':'",
			   fn, tname(L, 1));
	check_usable(L, mb, fn);
	return mb;
}

/* A task argument at idx (self, or the optional task of m:proc_read). */
static struct lmm_task *check_task_at(lua_State *L, const char *fn, int idx)
{
	struct lmm_task *tb = luaL_testudata(L, idx, MT_TASK);

	if (!tb) {
		if (idx == 1)
			luaL_error(L, "%s: bad self (expected task, got %s); call it with ':'",
				   fn, tname(L, 1));
		luaL_error(L, "%s: argument %d (task) expected task, got %s", fn,
			   argno(fn, idx), tname(L, idx));
	}
	check_usable(L, tb->mb, fn);
	if (!tb->t)
		luaL_error(L, "%s: task already exited", fn);
	return tb;
}

/* self of a task method. */
static struct lmm_task *check_task(lua_State *L, const char *fn)
{
	return check_task_at(L, fn, 1);
}

/* self of a pin method. */
static struct lmm_pin *check_pin(lua_State *L, const char *fn)
{
	struct lmm_pin *pb = luaL_testudata(L, 1, MT_PIN);

	if (!pb)
		luaL_error(L, "%s: bad self (expected pin, got %s); call it with ':'",
			   fn, tname(L, 1));
	check_usable(L, pb->mb, fn);
	if (!pb->p)
		luaL_error(L, "%s: pin already unpinned", fn);
	return pb;
}

/*
 * Re-raise, once the library call has returned, an error that a trace
 * callback raised: unwinding through the library itself would leave it
 * half way through an operation.
 */
static void raise_pending(lua_State *L, struct lmm_machine *mb)
{
	if (mb->pending_ref == LUA_NOREF)
		return;
	lua_rawgeti(L, LUA_REGISTRYINDEX, mb->pending_ref);
	luaL_unref(L, LUA_REGISTRYINDEX, mb->pending_ref);
	mb->pending_ref = LUA_NOREF;
	lua_error(L);
}

/* Push the integer a C call returned, after any pending trace error. */
static int ret_int(lua_State *L, struct lmm_machine *mb, lua_Integer v)
{
	raise_pending(L, mb);
	lua_pushinteger(L, v);
	return 1;
}

/* nil, the library's explanation, -errno: how a constructor fails. */
static int ret_fail(lua_State *L, int err)
{
	const char *why = mmsim_strerror_last();

	lua_pushnil(L);
	lua_pushstring(L, why && *why ? why : "failed");
	lua_pushinteger(L, err);
	return 3;
}

/* ------------------------------------------------------------------ machine */

/* Read one option field of mmsim.machine{} as a string (NULL if absent). */
static const char *opt_str(lua_State *L, const char *field, const char *def)
{
	const char *s;

	lua_getfield(L, 1, field);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return def;
	}
	if (lua_type(L, -1) != LUA_TSTRING)
		luaL_error(L, "mmsim.machine: field '%s' expected string, got %s", field,
			   tname(L, -1));
	s = lua_tostring(L, -1);
	lua_pop(L, 1);          /* still referenced by the options table */
	return s;
}

/* Read one option field of mmsim.machine{} as a non-negative integer. */
static uint64_t opt_uint(lua_State *L, const char *field, uint64_t def)
{
	lua_Integer v;
	int isnum = 0;

	lua_getfield(L, 1, field);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return def;
	}
	v = lua_tointegerx(L, -1, &isnum);
	if (lua_type(L, -1) != LUA_TNUMBER || !isnum)
		luaL_error(L, "mmsim.machine: field '%s' expected integer, got %s", field,
			   lua_type(L, -1) == LUA_TNUMBER ? "non-integral number" :
			   tname(L, -1));
	if (v < 0 && strcmp(field, "seed") != 0)
		luaL_error(L, "mmsim.machine: field '%s' must not be negative", field);
	lua_pop(L, 1);
	return (uint64_t)v;
}

/* Print the kernel log of a freshly booted machine (mmsim run --dmesg). */
static void print_dmesg(struct mmsim_machine *m)
{
	size_t len = 1 << 16;
	char *buf = NULL;
	ssize_t n;

	for (;;) {
		char *nb = realloc(buf, len);

		if (!nb)
			break;
		buf = nb;
		n = mmsim_proc_read(m, NULL, "kmsg", buf, len);
		if (n < 0) {
			fprintf(stderr, "mmsim: kmsg: %s\n", mmsim_strerror_last());
			break;
		}
		if ((size_t)n < len - 1 || len >= READ_MAX) {
			fwrite(buf, 1, (size_t)n < len ? (size_t)n : len, stdout);
			break;
		}
		len *= 2;
	}
	free(buf);
	fflush(stdout);
}

/*
 * The k-th machine's trace file: path itself for the first, path with ".k"
 * before its extension for the others (run.json, run.2.json, ...).
 */
static void trace_path_of(const char *path, unsigned int k, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash + 1 : path, '.');

	if (k <= 1)
		snprintf(out, len, "%s", path);
	else if (!dot || dot == (slash ? slash + 1 : path))
		snprintf(out, len, "%s.%u", path, k);
	else
		snprintf(out, len, "%.*s.%u%s", (int)(dot - path), path, k, dot);
}

/*
 * What the command line asks of every new machine: its schedule options
 * and its trace file.  0 or -errno (the library's message is set).
 */
static int machine_setup(struct lmm_machine *mb)
{
	const struct lmm_defaults *d = mb->d;
	struct mmsim_sched_options so;
	int err;

	if (d->parallel || d->policy || d->pct_depth || d->have_sched_seed) {
		err = mmsim_sched_get(mb->m, &so);
		if (err < 0)
			return err;
		so.mode = d->parallel ? MMSIM_SCHED_PARALLEL : MMSIM_SCHED_DETERMINISTIC;
		so.policy = d->policy;
		if (d->pct_depth)
			so.pct_depth = d->pct_depth;
		if (d->have_sched_seed)
			so.seed = d->sched_seed;
		err = mmsim_sched_set(mb->m, &so);
		if (err < 0)
			return err;
	}
	if (d->state)
		d->state->machines++;
	if (d->trace_path) {
		char path[4096];

		trace_path_of(d->trace_path, d->state ? d->state->machines : 1, path, sizeof(path));
		err = mmsim_trace_file(mb->m, path);
		if (err < 0)
			return err;
	}
	return 0;
}

/* mmsim.machine{...}: boot a machine; nil, message, -errno if it fails. */
static int l_machine(lua_State *L)
{
	static const char *const fields[] = {
		"devicetree", "nr_cpus", "seed", "bootargs", "swap_bytes", "swap_path", NULL
	};
	static const struct lmm_defaults none = { 0 };
	const struct lmm_defaults *d;
	struct mmsim_options opt = { 0 };
	struct lmm_machine *mb;
	uint64_t cpus;
	int err;

	lua_getfield(L, LUA_REGISTRYINDEX, DEFAULTS_KEY);
	d = lua_touserdata(L, -1);
	lua_pop(L, 1);
	if (!d)
		d = &none;
	if (running_mb)
		return luaL_error(L, "mmsim.machine: cannot boot a machine from a running body");

	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);
	}
	arg_table(L, "mmsim.machine", 1, "options");
	/* A misspelt field would silently boot the default machine. */
	lua_pushnil(L);
	while (lua_next(L, 1)) {
		int i, known = 0;

		lua_pop(L, 1);
		for (i = 0; fields[i] && lua_type(L, -1) == LUA_TSTRING; i++)
			if (!strcmp(lua_tostring(L, -1), fields[i]))
				known = 1;
		if (!known)
			luaL_error(L, "mmsim.machine: unknown field '%s' (expected devicetree, "
				   "nr_cpus, seed, bootargs, swap_bytes or swap_path)",
				   lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) :
				   tname(L, -1));
	}
	opt.devicetree = opt_str(L, "devicetree", d->devicetree);
	cpus = opt_uint(L, "nr_cpus", d->nr_cpus);
	if (cpus > UINT_MAX)
		luaL_error(L, "mmsim.machine: field 'nr_cpus' out of range");
	opt.nr_cpus = (unsigned int)cpus;
	opt.seed = opt_uint(L, "seed", d->seed);
	opt.bootargs = opt_str(L, "bootargs", d->bootargs);
	opt.swap_bytes = opt_uint(L, "swap_bytes", d->swap_bytes);
	opt.swap_path = opt_str(L, "swap_path", d->swap_path);

	/* The userdata exists before the machine so that a Lua memory error
	 * cannot leak a booted machine. */
	mb = lua_newuserdatauv(L, sizeof(*mb), 0);
	memset(mb, 0, sizeof(*mb));
	mb->pending_ref = LUA_NOREF;
	mb->next_trace_id = 1;
	mb->d = d;
	mb->cb_ref = LUA_NOREF;
	mb->err_ref = LUA_NOREF;
	luaL_setmetatable(L, MT_MACHINE);
	err = mmsim_machine_create(&opt, &mb->m);
	if (err < 0 || !mb->m) {
		mb->m = NULL;
		return ret_fail(L, err < 0 ? err : -MMSIM_ENOMEM);
	}
	err = machine_setup(mb);
	if (err < 0) {
		/* the machine never reached the script: no check, no steps */
		mmsim_machine_destroy(mb->m);
		mb->m = NULL;
		return ret_fail(L, err);
	}
	if (d->dmesg)
		print_dmesg(mb->m);
	return 1;
}

static void trace_cb(void *ctx, const struct mmsim_event *ev);

/* Drop every trace subscription of a machine (before it goes away). */
static void drop_traces(lua_State *L, struct lmm_machine *mb)
{
	while (mb->traces) {
		struct lmm_trace *tr = mb->traces;

		mb->traces = tr->next;
		if (mb->m)
			mmsim_trace_unsubscribe(mb->m, trace_cb, tr);
		luaL_unref(L, LUA_REGISTRYINDEX, tr->fn_ref);
		free(tr);
	}
}

/* Forget the bodies spawned but not run: their Lua threads may go. */
static void drop_bodies(lua_State *L, struct lmm_machine *mb)
{
	for (int i = 0; i < mb->nr_bodies; i++) {
		struct lmm_body *b = mb->bodies[i];

		b->tb->body = 0;
		/* the body's userdata, thread, function and task go with it */
		luaL_unref(L, LUA_REGISTRYINDEX, b->ref);
	}
	mb->nr_bodies = 0;
}

/*
 * A machine whose finalizer ran while another machine's bodies were running
 * (its handle was garbage): destroying it then would take locks from inside
 * a body, so it waits for the end of the run, here.
 */
struct lmm_deferred {
	struct mmsim_machine *m;
	struct lmm_orphan *orphans;
	const struct lmm_defaults *d;
	int run_failed;
	struct lmm_deferred *next;
};
static _Thread_local struct lmm_deferred *deferred;

/*
 * The end of a C machine: in explore mode it must still pass mmsim_check(),
 * and its scheduling points count towards the explorer's total.
 */
static void final_destroy(struct mmsim_machine *m, struct lmm_orphan *orphans,
			  const struct lmm_defaults *d, int run_failed)
{
	struct lmm_state *st = d->state;

	if (st && d->explore && !st->failed && !run_failed) {
		size_t len = 1 << 16;
		char *rep = calloc(1, len);
		int rc = rep ? mmsim_check(m, rep, len) : 0;

		if (rc) {
			rep[len - 1] = '\0';
			st->failed = 1;
			snprintf(st->why, sizeof(st->why), "mmsim_check when the machine was destroyed: %s",
				 rep[0] ? rep : "inconsistent");
		}
		free(rep);
	}
	if (st)
		st->steps += mmsim_sched_steps(m);
	mmsim_machine_destroy(m);
	while (orphans) {
		struct lmm_orphan *o = orphans;

		orphans = o->next;
		free(o->buf);
		free(o);
	}
}

/* Destroy the machines put off by a run (after the run). */
static void destroy_deferred(void)
{
	while (deferred) {
		struct lmm_deferred *df = deferred;

		deferred = df->next;
		final_destroy(df->m, df->orphans, df->d, df->run_failed);
		free(df);
	}
}

/* Destroy the machine once; every handle of it goes dead. */
static void machine_destroy(lua_State *L, struct lmm_machine *mb)
{
	if (!mb->m)
		return;
	drop_traces(L, mb);
	drop_bodies(L, mb);
	free(mb->bodies);
	mb->bodies = NULL;
	mb->cap_bodies = 0;
	mb->L = NULL;
	if (running_mb) {
		struct lmm_deferred *df = malloc(sizeof(*df));

		/* without memory for the note the machine leaks: better than
		 * destroying it from inside a body */
		if (df) {
			*df = (struct lmm_deferred){ mb->m, mb->orphans, mb->d, mb->run_failed, deferred };
			deferred = df;
		}
	} else {
		final_destroy(mb->m, mb->orphans, mb->d, mb->run_failed);
	}
	mb->m = NULL;
	mb->orphans = NULL;
	if (mb->pending_ref != LUA_NOREF) {
		luaL_unref(L, LUA_REGISTRYINDEX, mb->pending_ref);
		mb->pending_ref = LUA_NOREF;
	}
}

/* __gc of a machine (during a run, the destruction waits for its end). */
static int m_gc(lua_State *L)
{
	struct lmm_machine *mb = luaL_testudata(L, 1, MT_MACHINE);

	if (mb)
		machine_destroy(L, mb);
	return 0;
}

/* m:destroy() and __close. */
static int m_destroy(lua_State *L)
{
	struct lmm_machine *mb = luaL_testudata(L, 1, MT_MACHINE);

	if (!mb)
		return luaL_error(L, "m:destroy: bad self (expected machine, got %s)",
				  tname(L, 1));
	if (mb->in_trace)
		return luaL_error(L, "m:destroy: the machine cannot be used inside a trace callback");
	if (running_mb)
		return luaL_error(L, "m:destroy: tasks are running; destroy the machine once "
				  "m:run_tasks() has returned");
	machine_destroy(L, mb);
	return 0;
}

/* __tostring of a machine. */
static int m_tostring(lua_State *L)
{
	struct lmm_machine *mb = luaL_checkudata(L, 1, MT_MACHINE);

	if (!mb->m)
		lua_pushstring(L, "mmsim.machine (destroyed)");
	else
		lua_pushfstring(L, "mmsim.machine (%d cpus, %d nodes)",
				(int)mmsim_nr_cpus(mb->m), (int)mmsim_nr_nodes(mb->m));
	return 1;
}

/* Wrap a new C task in a userdata that keeps its machine alive. */
static void push_task(lua_State *L, struct lmm_machine *mb, int machine_idx,
		      struct mmsim_task *t)
{
	struct lmm_task *tb;

	machine_idx = lua_absindex(L, machine_idx);
	tb = lua_newuserdatauv(L, sizeof(*tb), 1);
	memset(tb, 0, sizeof(*tb));
	tb->t = t;
	tb->mb = mb;
	lua_pushvalue(L, machine_idx);
	lua_setiuservalue(L, -2, 1);
	luaL_setmetatable(L, MT_TASK);
}

/*
 * Make room for a handle before the C call that creates its object, so that
 * a Lua memory error after the call cannot lose the object.
 */
static struct lmm_task *new_task_slot(lua_State *L, struct lmm_machine *mb, int machine_idx)
{
	push_task(L, mb, machine_idx, NULL);
	return lua_touserdata(L, -1);
}

/* m:task(): a new process. */
static int m_task(lua_State *L)
{
	struct lmm_machine *mb = check_machine(L, "m:task");
	struct lmm_task *tb = new_task_slot(L, mb, 1);
	int err = mmsim_task_create(mb->m, &tb->t);

	raise_pending(L, mb);
	if (err < 0 || !tb->t) {
		tb->t = NULL;
		return ret_fail(L, err < 0 ? err : -MMSIM_ENOMEM);
	}
	return 1;
}

/* m:sysfs_write(path, value) */
static int m_sysfs_write(lua_State *L)
{
	const char *fn = "m:sysfs_write";
	struct lmm_machine *mb = check_machine(L, fn);
	const char *path = arg_str(L, fn, 2, "path", NULL);
	const char *val = arg_str(L, fn, 3, "value", NULL);

	return ret_int(L, mb, mmsim_sysfs_write(mb->m, path, val));
}

/* m:sysctl_write(name, value) */
static int m_sysctl_write(lua_State *L)
{
	const char *fn = "m:sysctl_write";
	struct lmm_machine *mb = check_machine(L, fn);
	const char *name = arg_str(L, fn, 2, "name", NULL);
	const char *val = arg_str(L, fn, 3, "value", NULL);

	return ret_int(L, mb, mmsim_sysctl_write(mb->m, name, val));
}

enum read_kind { RD_PROC, RD_SYSFS, RD_SYSCTL, RD_COSTS };

/*
 * Read a text file of the machine into a Lua string: the buffer grows until
 * the text fits, whether the library truncates or reports the full length.
 * Pushes the text, or nil and -errno.
 */
static int push_text(lua_State *L, struct lmm_machine *mb, struct mmsim_task *t,
		     enum read_kind kind, const char *path)
{
	size_t len = 1 << 14;
	int top = lua_gettop(L);
	char *buf;
	ssize_t n = 0;

	for (;;) {
		/* Lua owns the buffer: nothing leaks if pushing the text fails. */
		lua_settop(L, top);
		buf = lua_newuserdatauv(L, len, 0);
		switch (kind) {
		case RD_PROC:
			n = mmsim_proc_read(mb->m, t, path, buf, len);
			break;
		case RD_SYSFS:
			n = mmsim_sysfs_read(mb->m, path, buf, len);
			break;
		case RD_SYSCTL:
			n = mmsim_sysctl_read(mb->m, path, buf, len);
			break;
		case RD_COSTS:
			n = mmsim_cost_list(mb->m, buf, len);
			break;
		}
		if (n < 0 || (size_t)n < len - 1 || len >= READ_MAX)
			break;
		len = (size_t)n + 1 > len * 2 ? (size_t)n + 1 : len * 2;
	}
	raise_pending(L, mb);
	if (n < 0) {
		lua_pushnil(L);
		lua_pushinteger(L, n);
		return 2;
	}
	lua_pushlstring(L, buf, (size_t)n < len ? (size_t)n : len);
	return 1;
}

/* m:sysfs_read(path) -> text or nil, -errno */
static int m_sysfs_read(lua_State *L)
{
	struct lmm_machine *mb = check_machine(L, "m:sysfs_read");

	return push_text(L, mb, NULL, RD_SYSFS, arg_str(L, "m:sysfs_read", 2, "path", NULL));
}

/* m:sysctl_read(name) -> text or nil, -errno */
static int m_sysctl_read(lua_State *L)
{
	struct lmm_machine *mb = check_machine(L, "m:sysctl_read");

	return push_text(L, mb, NULL, RD_SYSCTL, arg_str(L, "m:sysctl_read", 2, "name", NULL));
}

/* m:proc_read(path [, task]) -> text or nil, -errno */
static int m_proc_read(lua_State *L)
{
	const char *fn = "m:proc_read";
	struct lmm_machine *mb = check_machine(L, fn);
	const char *path = arg_str(L, fn, 2, "path", NULL);
	struct mmsim_task *t = NULL;

	if (!lua_isnoneornil(L, 3)) {
		struct lmm_task *tb = check_task_at(L, fn, 3);

		if (tb->mb != mb)
			return luaL_error(L, "%s: argument 2 (task) belongs to another machine", fn);
		t = tb->t;
	}
	return push_text(L, mb, t, RD_PROC, path);
}

/*
 * m:proc_pread(path, len, off [, task]) -> bytes or nil, -errno: up to len
 * bytes of a /proc file from byte off (mmsim_proc_pread), the way to read
 * the binary "kpageflags" and "kpagecount" (string.unpack("<I8", s) gives
 * an entry).
 */
static int m_proc_pread(lua_State *L)
{
	const char *fn = "m:proc_pread";
	struct lmm_machine *mb = check_machine(L, fn);
	const char *path = arg_str(L, fn, 2, "path", NULL);
	lua_Integer len = arg_int(L, fn, 3, "len"), off = arg_int(L, fn, 4, "off");
	struct mmsim_task *t = NULL;
	ssize_t n;
	char *buf;

	if (len < 0 || (size_t)len > READ_MAX)
		return luaL_error(L, "%s: argument 2 (len) must be 0..%u", fn, READ_MAX);
	if (off < 0)
		return luaL_error(L, "%s: argument 3 (off) must not be negative", fn);
	if (!lua_isnoneornil(L, 5)) {
		struct lmm_task *tb = check_task_at(L, fn, 5);

		if (tb->mb != mb)
			return luaL_error(L, "%s: argument 4 (task) belongs to another machine", fn);
		t = tb->t;
	}
	/* Lua owns the buffer: nothing leaks if pushing the bytes fails. */
	buf = lua_newuserdatauv(L, len ? (size_t)len : 1, 0);
	n = mmsim_proc_pread(mb->m, t, path, buf, (size_t)len, (uint64_t)off);
	raise_pending(L, mb);
	if (n < 0) {
		lua_pushnil(L);
		lua_pushinteger(L, n);
		return 2;
	}
	lua_pushlstring(L, buf, (size_t)n);
	return 1;
}

/* m:cost_list() -> text or nil, -errno */
static int m_cost_list(lua_State *L)
{
	return push_text(L, check_machine(L, "m:cost_list"), NULL, RD_COSTS, "costs");
}

/* m:cost_set(name, ns) */
static int m_cost_set(lua_State *L)
{
	const char *fn = "m:cost_set";
	struct lmm_machine *mb = check_machine(L, fn);
	const char *name = arg_str(L, fn, 2, "name", NULL);
	lua_Integer ns = arg_int(L, fn, 3, "ns");

	return ret_int(L, mb, mmsim_cost_set(mb->m, name, (uint64_t)ns));
}

/* m:vmstat(name) -> counter value (or -errno) */
static int m_vmstat(lua_State *L)
{
	struct lmm_machine *mb = check_machine(L, "m:vmstat");
	const char *name = arg_str(L, "m:vmstat", 2, "name", NULL);

	return ret_int(L, mb, mmsim_vmstat(mb->m, name));
}

/* m:run_daemon(name) */
static int m_run_daemon(lua_State *L)
{
	struct lmm_machine *mb = check_machine(L, "m:run_daemon");
	const char *name = arg_str(L, "m:run_daemon", 2, "name", NULL);

	return ret_int(L, mb, mmsim_run_daemon(mb->m, name));
}

/* m:advance(ns) */
static int m_advance(lua_State *L)
{
	struct lmm_machine *mb = check_machine(L, "m:advance");
	lua_Integer ns = arg_int(L, "m:advance", 2, "ns");

	return ret_int(L, mb, mmsim_advance(mb->m, (uint64_t)ns));
}

/* m:now() -> simulated ns */
static int m_now(lua_State *L)
{
	struct lmm_machine *mb = check_machine(L, "m:now");

	return ret_int(L, mb, (lua_Integer)mmsim_now(mb->m));
}

/* m:nr_cpus() */
static int m_nr_cpus(lua_State *L)
{
	struct lmm_machine *mb = check_machine(L, "m:nr_cpus");

	return ret_int(L, mb, mmsim_nr_cpus(mb->m));
}

/* m:nr_nodes() */
static int m_nr_nodes(lua_State *L)
{
	struct lmm_machine *mb = check_machine(L, "m:nr_nodes");

	return ret_int(L, mb, mmsim_nr_nodes(mb->m));
}

/* m:check() -> true, or false and the checker's report */
static int m_check(lua_State *L)
{
	struct lmm_machine *mb = check_machine(L, "m:check");
	size_t len = 1 << 16;
	char *rep = lua_newuserdatauv(L, len, 0);
	int rc;

	rep[0] = '\0';
	rc = mmsim_check(mb->m, rep, len);
	rep[len - 1] = '\0';
	raise_pending(L, mb);
	if (rc == 0) {
		lua_pushboolean(L, 1);
		return 1;
	}
	lua_pushboolean(L, 0);
	if (rep[0])
		lua_pushstring(L, rep);
	else
		lua_pushfstring(L, "mmsim_check returned %d", rc);
	lua_pushinteger(L, rc);
	return 3;
}

/* Set one integer field of the table on top of the stack. */
static void set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

/* One event on its way to a Lua callback (trace_call's argument). */
struct lmm_trace_call {
	struct lmm_trace *tr;
	const struct mmsim_event *ev;
};

/* Protected half of trace_cb: build the event table, call the function. */
static int trace_call(lua_State *L)
{
	struct lmm_trace_call *c = lua_touserdata(L, 1);
	const struct mmsim_event *ev = c->ev;

	lua_rawgeti(L, LUA_REGISTRYINDEX, c->tr->fn_ref);
	lua_createtable(L, 0, 8);
	set_int(L, "ts", (lua_Integer)ev->ts);
	lua_pushstring(L, ev->name ? ev->name : "");
	lua_setfield(L, -2, "name");
	set_int(L, "cpu", ev->cpu);
	set_int(L, "pid", ev->pid);
	set_int(L, "addr", (lua_Integer)ev->addr);
	set_int(L, "pfn", (lua_Integer)ev->pfn);
	set_int(L, "order", ev->order);
	lua_pushstring(L, ev->text ? ev->text : "");
	lua_setfield(L, -2, "text");
	lua_call(L, 1, 0);
	return 0;
}

/*
 * C side of m:trace(): hand the event to the Lua function as a table.  All
 * of it runs protected, a memory error included: nothing may unwind through
 * the library (or, during a run, into another body's stack).
 */
static void trace_cb(void *ctx, const struct mmsim_event *ev)
{
	struct lmm_trace *tr = ctx;
	struct lmm_machine *mb = tr->mb;
	lua_State *L = mb->L;
	struct lmm_trace_call c = { tr, ev };

	/* After a callback failed, the rest of that call's events are dropped:
	 * the first error is the one the script sees. */
	if (!L || mb->in_trace || mb->pending_ref != LUA_NOREF || !lua_checkstack(L, 8))
		return;
	lua_pushcfunction(L, trace_call);
	lua_pushlightuserdata(L, &c);
	mb->in_trace = 1;
	if (lua_pcall(L, 1, 0, 0) != LUA_OK)
		mb->pending_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	mb->in_trace = 0;
}

/* m:trace(pattern, fn) -> subscription id (> 0), or -errno */
static int m_trace(lua_State *L)
{
	const char *fn = "m:trace";
	struct lmm_machine *mb = check_machine(L, fn);
	const char *pattern = arg_str(L, fn, 2, "pattern", NULL);
	struct lmm_trace *tr;
	int err;

	arg_fn(L, fn, 3, "fn");
	tr = calloc(1, sizeof(*tr));
	if (!tr)
		return luaL_error(L, "%s: out of memory", fn);
	lua_pushvalue(L, 3);
	tr->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	tr->mb = mb;
	tr->id = mb->next_trace_id++;
	err = mmsim_trace_subscribe(mb->m, pattern, trace_cb, tr);
	if (err < 0) {
		luaL_unref(L, LUA_REGISTRYINDEX, tr->fn_ref);
		free(tr);
		return ret_int(L, mb, err);
	}
	tr->next = mb->traces;
	mb->traces = tr;
	return ret_int(L, mb, tr->id);
}

/* m:untrace(id): drop a subscription made by m:trace(); 0 or -ENOENT */
static int m_untrace(lua_State *L)
{
	struct lmm_machine *mb = check_machine(L, "m:untrace");
	lua_Integer id = arg_int(L, "m:untrace", 2, "id");
	struct lmm_trace **pp;

	for (pp = &mb->traces; *pp; pp = &(*pp)->next) {
		struct lmm_trace *tr = *pp;
		int err;

		if (tr->id != id)
			continue;
		err = mmsim_trace_unsubscribe(mb->m, trace_cb, tr);
		*pp = tr->next;
		luaL_unref(L, LUA_REGISTRYINDEX, tr->fn_ref);
		free(tr);
		return ret_int(L, mb, err);
	}
	return ret_int(L, mb, -MMSIM_ENOENT);
}

/* ------------------------------------------------------------- task bodies */

/* See lua_mmsim.h; also the message handler of every body. */
int lmm_msghandler(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (!msg) {
		/* assert(t:store(...)) raises the siginfo table: print it */
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
			luaL_where(L, 2);       /* 1 is assert() itself */
			lua_insert(L, -2);
			lua_concat(L, 2);
			msg = lua_tostring(L, -1);
		} else {
			msg = lua_pushfstring(L, "(error object is a %s value)",
					      luaL_typename(L, 1));
		}
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

/*
 * The body itself, protected on the body's own stack: fn(task), and the
 * first error of the run kept for m:run_tasks().
 */
static int body_run(lua_State *L1)
{
	struct lmm_body *b = lua_touserdata(L1, 1);
	struct lmm_machine *mb = b->mb;

	lua_pushcfunction(L1, lmm_msghandler);
	lua_rawgeti(L1, LUA_REGISTRYINDEX, b->ref);
	lua_getiuservalue(L1, -1, 2);
	lua_getiuservalue(L1, -2, 3);
	if (lua_pcall(L1, 1, 0, 2) != LUA_OK && mb->err_ref == LUA_NOREF) {
		const char *msg = lua_tostring(L1, -1);

		lua_pushfstring(L1, "task %d: %s", b->pid, msg ? msg : "(error object is not a string)");
		mb->err_ref = luaL_ref(L1, LUA_REGISTRYINDEX);
	}
	return 0;
}

/*
 * The C body the library runs for a Lua body (mmsim_task_fn).  Everything
 * that could raise a Lua error happens inside lua_pcall() on this stack:
 * the only thing that can fail here is reporting the body's own error.
 */
static void body_main(struct mmsim_task *t, void *arg)
{
	struct lmm_body *b = arg;
	lua_State *L1 = b->L1;

	(void)t;
	if (b->cancel)
		return;
	lua_pushcfunction(L1, body_run);
	lua_pushlightuserdata(L1, b);
	if (lua_pcall(L1, 1, 0, 0) != LUA_OK)
		b->mb->body_oom = 1;
	lua_settop(L1, 0);
}

/* m:spawn(t, fn) -> true, or nil, message, -errno */
static int m_spawn(lua_State *L)
{
	const char *fn = "m:spawn";
	struct lmm_machine *mb = check_machine(L, fn);
	struct lmm_task *tb = check_task_at(L, fn, 2);
	struct lmm_body *b;
	int err;

	arg_fn(L, fn, 3, "fn");
	if (tb->mb != mb)
		return luaL_error(L, "%s: argument 1 (task) belongs to another machine", fn);
	if (mb->nr_bodies == mb->cap_bodies) {
		int cap = mb->cap_bodies ? 2 * mb->cap_bodies : 8;
		struct lmm_body **nb = realloc(mb->bodies, sizeof(*nb) * (size_t)cap);

		if (!nb)
			return luaL_error(L, "%s: out of memory", fn);
		mb->bodies = nb;
		mb->cap_bodies = cap;
	}
	/* Lua owns the body: a memory error below leaks nothing. */
	b = lua_newuserdatauv(L, sizeof(*b), 3);
	memset(b, 0, sizeof(*b));
	b->mb = mb;
	b->tb = tb;
	b->pid = mmsim_task_pid(tb->t);
	b->L1 = lua_newthread(L);
	lua_setiuservalue(L, -2, 1);
	lua_pushvalue(L, 3);
	lua_setiuservalue(L, -2, 2);
	lua_pushvalue(L, 2);
	lua_setiuservalue(L, -2, 3);
	b->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	err = mmsim_spawn(tb->t, body_main, b);
	if (err < 0) {
		luaL_unref(L, LUA_REGISTRYINDEX, b->ref);
		return ret_fail(L, err);
	}
	mb->bodies[mb->nr_bodies++] = b;
	tb->body = 1;
	lua_pushboolean(L, 1);
	return 1;
}

/*
 * Explore mode: what the run left must pass mmsim_check(); raises the
 * report as an error otherwise.
 */
static void explore_check(lua_State *L, struct lmm_machine *mb)
{
	size_t len = 1 << 16;
	char *rep = lua_newuserdatauv(L, len, 0);
	int rc;

	rep[0] = '\0';
	rc = mmsim_check(mb->m, rep, len);
	rep[len - 1] = '\0';
	if (rc) {
		mb->run_failed = 1;
		luaL_error(L, "m:run_tasks: mmsim_check after the run: %s",
			   rep[0] ? rep : "inconsistent");
	}
	lua_pop(L, 1);
}

/*
 * m:run_tasks() -> true; nil, message, -errno when the library fails the run
 * (a deadlock, a livelock); nil, message when a body raised an error (the
 * first one, "task PID: ..." with the body's traceback).
 */
static int m_run_tasks(lua_State *L)
{
	const char *fn = "m:run_tasks";
	struct lmm_machine *mb = check_machine(L, fn);
	struct mmsim_sched_options so;
	char why[1024] = "";
	int rc, nret;

	if (running_mb) {
		lua_pushnil(L);
		lua_pushstring(L, "m:run_tasks: called from a running body");
		lua_pushinteger(L, -MMSIM_EBUSY);
		return 3;
	}
	rc = mmsim_sched_get(mb->m, &so);
	if (rc < 0)
		return ret_fail(L, rc);
	if (so.mode == MMSIM_SCHED_PARALLEL && mb->nr_bodies) {
		struct mmsim_sched_options det = so;

		/* Drain the library's queue without running any Lua, then
		 * give the machine its options back. */
		for (int i = 0; i < mb->nr_bodies; i++)
			mb->bodies[i]->cancel = 1;
		det.mode = MMSIM_SCHED_DETERMINISTIC;
		if (mmsim_sched_set(mb->m, &det) == 0) {
			mmsim_run_tasks(mb->m);
			mmsim_sched_set(mb->m, &so);
		}
		drop_bodies(L, mb);
		lua_pushnil(L);
		lua_pushfstring(L, "%s: Lua bodies run only in deterministic mode (the machine is in "
				"parallel mode: m:sched{mode = \"deterministic\"}, or no --parallel)", fn);
		lua_pushinteger(L, -MMSIM_EINVAL);
		return 3;
	}

	/* Trace callbacks get a thread of their own: a body's may be suspended. */
	lua_newthread(L);
	mb->L = lua_tothread(L, -1);
	mb->cb_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	mb->err_ref = LUA_NOREF;
	mb->body_oom = 0;
	mb->running = 1;
	running_mb = mb;

	rc = mmsim_run_tasks(mb->m);
	if (rc < 0)
		snprintf(why, sizeof(why), "%s", mmsim_strerror_last());

	running_mb = NULL;
	mb->running = 0;
	mb->L = L;
	luaL_unref(L, LUA_REGISTRYINDEX, mb->cb_ref);
	mb->cb_ref = LUA_NOREF;
	drop_bodies(L, mb);
	destroy_deferred();

	if (rc < 0) {
		lua_pushnil(L);
		lua_pushstring(L, why[0] ? why : "the run failed");
		lua_pushinteger(L, rc);
		nret = 3;
		if (mb->err_ref != LUA_NOREF)
			luaL_unref(L, LUA_REGISTRYINDEX, mb->err_ref);
	} else if (mb->err_ref != LUA_NOREF) {
		lua_pushnil(L);
		lua_rawgeti(L, LUA_REGISTRYINDEX, mb->err_ref);
		luaL_unref(L, LUA_REGISTRYINDEX, mb->err_ref);
		nret = 2;
	} else if (mb->body_oom) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: out of memory while reporting a body's error", fn);
		nret = 2;
	} else {
		lua_pushboolean(L, 1);
		nret = 1;
	}
	mb->err_ref = LUA_NOREF;
	if (mb->d->explore) {
		if (nret > 1) {
			mb->run_failed = 1;
			return luaL_error(L, "%s: %s", fn, lua_tostring(L, -nret + 1));
		}
		explore_check(L, mb);
	}
	raise_pending(L, mb);
	return nret;
}

/* A field of m:sched{} that names one of names (or gives its index). */
static void sched_field_enum(lua_State *L, const char *field, const char *const names[],
			     int *out)
{
	int n = 0;

	lua_getfield(L, 2, field);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return;
	}
	while (names[n])
		n++;
	if (lua_type(L, -1) == LUA_TSTRING) {
		for (int i = 0; i < n; i++) {
			if (!strcmp(lua_tostring(L, -1), names[i])) {
				*out = i;
				lua_pop(L, 1);
				return;
			}
		}
	} else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0 &&
		   lua_tointeger(L, -1) < n) {
		*out = (int)lua_tointeger(L, -1);
		lua_pop(L, 1);
		return;
	}
	luaL_error(L, "m:sched: field '%s' expected \"%s\" or \"%s\", got %s%s%s", field,
		   names[0], names[1], lua_type(L, -1) == LUA_TSTRING ? "'" : "",
		   lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : tname(L, -1),
		   lua_type(L, -1) == LUA_TSTRING ? "'" : "");
}

/* A non-negative integer field of m:sched{}. */
static void sched_field_uint(lua_State *L, const char *field, uint64_t max, uint64_t *out)
{
	lua_Integer v;
	int isnum = 0;

	lua_getfield(L, 2, field);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return;
	}
	v = lua_tointegerx(L, -1, &isnum);
	if (lua_type(L, -1) != LUA_TNUMBER || !isnum)
		luaL_error(L, "m:sched: field '%s' expected integer, got %s", field,
			   lua_type(L, -1) == LUA_TNUMBER ? "non-integral number" : tname(L, -1));
	/* a seed is 64 bits: any integer, read as unsigned */
	if (max != UINT64_MAX && (v < 0 || (uint64_t)v > max))
		luaL_error(L, "m:sched: field '%s' must be between 0 and %I", field, (lua_Integer)max);
	*out = (uint64_t)v;
	lua_pop(L, 1);
}

static const char *const sched_modes[] = { "deterministic", "parallel", NULL };
static const char *const sched_policies[] = { "random", "pct", NULL };

/*
 * m:sched() -> {mode, policy, depth, steps, seed, max_steps}
 * m:sched{...} -> true, or nil, message, -errno: the fields given change,
 * the others keep their value.  In explore mode the explorer's seed, policy
 * and depth win over the script's.
 */
static int m_sched(lua_State *L)
{
	static const char *const fields[] = {
		"mode", "policy", "depth", "steps", "seed", "max_steps", NULL
	};
	const char *fn = "m:sched";
	struct lmm_machine *mb = check_machine(L, fn);
	struct mmsim_sched_options so, cur;
	uint64_t depth;
	int err = mmsim_sched_get(mb->m, &so);

	if (err < 0)
		return ret_fail(L, err);
	if (lua_isnoneornil(L, 2)) {
		lua_createtable(L, 0, 6);
		lua_pushstring(L, so.mode == MMSIM_SCHED_PARALLEL ? "parallel" : "deterministic");
		lua_setfield(L, -2, "mode");
		lua_pushstring(L, so.policy == MMSIM_SCHED_PCT ? "pct" : "random");
		lua_setfield(L, -2, "policy");
		set_int(L, "depth", so.pct_depth);
		set_int(L, "steps", (lua_Integer)so.pct_steps);
		set_int(L, "seed", (lua_Integer)so.seed);
		set_int(L, "max_steps", (lua_Integer)so.max_steps);
		return 1;
	}
	arg_table(L, fn, 2, "options");
	lua_pushnil(L);
	while (lua_next(L, 2)) {
		int i, known = 0;

		lua_pop(L, 1);
		for (i = 0; fields[i] && lua_type(L, -1) == LUA_TSTRING; i++)
			if (!strcmp(lua_tostring(L, -1), fields[i]))
				known = 1;
		if (!known)
			luaL_error(L, "%s: unknown field '%s' (expected mode, policy, depth, steps, "
				   "seed or max_steps)", fn, lua_type(L, -1) == LUA_TSTRING ?
				   lua_tostring(L, -1) : tname(L, -1));
	}
	cur = so;
	sched_field_enum(L, "mode", sched_modes, &so.mode);
	sched_field_enum(L, "policy", sched_policies, &so.policy);
	depth = so.pct_depth;
	sched_field_uint(L, "depth", 8, &depth);
	so.pct_depth = (unsigned int)depth;
	sched_field_uint(L, "steps", INT64_MAX, &so.pct_steps);
	sched_field_uint(L, "seed", UINT64_MAX, &so.seed);
	sched_field_uint(L, "max_steps", INT64_MAX, &so.max_steps);
	if (mb->d->explore) {
		so.seed = cur.seed;
		so.policy = cur.policy;
		if (mb->d->pct_depth)
			so.pct_depth = cur.pct_depth;
	}
	err = mmsim_sched_set(mb->m, &so);
	if (err < 0)
		return ret_fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

/* m:sched_steps() -> scheduling points of every run so far */
static int m_sched_steps(lua_State *L)
{
	struct lmm_machine *mb = check_machine(L, "m:sched_steps");

	return ret_int(L, mb, (lua_Integer)mmsim_sched_steps(mb->m));
}

/* m:trace_file(path) -> 0 or -errno: the run's trace as Perfetto JSON */
static int m_trace_file(lua_State *L)
{
	struct lmm_machine *mb = check_machine(L, "m:trace_file");
	const char *path = arg_str(L, "m:trace_file", 2, "path", NULL);

	return ret_int(L, mb, mmsim_trace_file(mb->m, path));
}

/* m:trace_file_close() -> 0 or -errno */
static int m_trace_file_close(lua_State *L)
{
	struct lmm_machine *mb = check_machine(L, "m:trace_file_close");

	return ret_int(L, mb, mmsim_trace_file_close(mb->m));
}

/* --------------------------------------------------------------------- task */

/* __tostring of a task. */
static int t_tostring(lua_State *L)
{
	struct lmm_task *tb = luaL_checkudata(L, 1, MT_TASK);

	if (!tb->mb->m)
		lua_pushstring(L, "mmsim.task (machine destroyed)");
	else if (!tb->t)
		lua_pushstring(L, "mmsim.task (exited)");
	else
		lua_pushfstring(L, "mmsim.task (pid %d)", mmsim_task_pid(tb->t));
	return 1;
}

/* Forget a blocked access: its buffer is no longer needed. */
static void clear_blocked(struct lmm_task *tb)
{
	free(tb->buf);
	tb->buf = NULL;
	tb->len = 0;
	tb->blocked = ACC_NONE;
}

/*
 * __gc of a task: only host memory; the simulated task lives on.  The buffer
 * of an access that is still blocked stays with the machine, because the
 * library keeps its address until the access is retried or the machine goes.
 */
static int t_gc(lua_State *L)
{
	struct lmm_task *tb = luaL_checkudata(L, 1, MT_TASK);
	struct lmm_orphan *o;

	if (tb->blocked != ACC_NONE && tb->mb->m && tb->t) {
		o = malloc(sizeof(*o));
		if (o) {
			o->buf = tb->buf;
			o->next = tb->mb->orphans;
			tb->mb->orphans = o;
		}
		/* without memory for the list node the buffer leaks: safer
		 * than freeing what the library may still write */
		tb->buf = NULL;
	}
	clear_blocked(tb);
	return 0;
}

/* A new task made from t's by make (fork or thread): the task, or nil, message, -errno. */
static int new_task_from(lua_State *L, const char *who,
			 int (*make)(struct mmsim_task *, struct mmsim_task **))
{
	struct lmm_task *tb = check_task(L, who);
	struct lmm_task *nt;
	int err;

	lua_getiuservalue(L, 1, 1);
	nt = new_task_slot(L, tb->mb, -1);
	err = make(tb->t, &nt->t);
	raise_pending(L, tb->mb);
	if (err < 0 || !nt->t) {
		nt->t = NULL;
		return ret_fail(L, err < 0 ? err : -MMSIM_ENOMEM);
	}
	return 1;
}

/* t:fork() -> child task, or nil, message, -errno */
static int t_fork(lua_State *L)
{
	return new_task_from(L, "t:fork", mmsim_fork);
}

/* t:thread() -> new thread of the same process, or nil, message, -errno */
static int t_thread(lua_State *L)
{
	return new_task_from(L, "t:thread", mmsim_thread_create);
}

/* t:set_cpu(cpu) */
static int t_set_cpu(lua_State *L)
{
	struct lmm_task *tb = check_task(L, "t:set_cpu");
	int cpu = arg_i32(L, "t:set_cpu", 2, "cpu");

	return ret_int(L, tb->mb, mmsim_task_set_cpu(tb->t, (unsigned int)cpu));
}

/* t:exit(): the handle is dead afterwards. */
static int t_exit(lua_State *L)
{
	struct lmm_task *tb = check_task(L, "t:exit");

	/* The scheduler plays the task until its body returns. */
	if (tb->body)
		return luaL_error(L, "t:exit: the task has a body (m:spawn); it may exit once "
				  "m:run_tasks() has returned");

	mmsim_task_exit(tb->t);
	tb->t = NULL;
	clear_blocked(tb);
	raise_pending(L, tb->mb);
	return 0;
}

/* t:pid() */
static int t_pid(lua_State *L)
{
	struct lmm_task *tb = check_task(L, "t:pid");

	return ret_int(L, tb->mb, mmsim_task_pid(tb->t));
}

/* t:tgid() */
static int t_tgid(lua_State *L)
{
	struct lmm_task *tb = check_task(L, "t:tgid");

	return ret_int(L, tb->mb, mmsim_task_tgid(tb->t));
}

/* t:killed() -> boolean */
static int t_killed(lua_State *L)
{
	struct lmm_task *tb = check_task(L, "t:killed");
	int k = mmsim_task_killed(tb->t);

	raise_pending(L, tb->mb);
	lua_pushboolean(L, k != 0);
	return 1;
}

/* t:mmap(addr, len, prot, flags [, fd [, off]]) -> address or -errno */
static int t_mmap(lua_State *L)
{
	const char *fn = "t:mmap";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t addr = (uint64_t)arg_int(L, fn, 2, "addr");
	uint64_t len = (uint64_t)arg_int(L, fn, 3, "len");
	int prot = arg_i32(L, fn, 4, "prot");
	int flags = arg_i32(L, fn, 5, "flags");
	int fd = arg_opti32(L, fn, 6, "fd", -1);
	uint64_t off = (uint64_t)arg_optint(L, fn, 7, "off", 0);

	return ret_int(L, tb->mb, mmsim_mmap(tb->t, addr, len, prot, flags, fd, off));
}

/* t:munmap(addr, len) */
static int t_munmap(lua_State *L)
{
	const char *fn = "t:munmap";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t addr = (uint64_t)arg_int(L, fn, 2, "addr");
	uint64_t len = (uint64_t)arg_int(L, fn, 3, "len");

	return ret_int(L, tb->mb, mmsim_munmap(tb->t, addr, len));
}

/* t:mprotect(addr, len, prot) */
static int t_mprotect(lua_State *L)
{
	const char *fn = "t:mprotect";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t addr = (uint64_t)arg_int(L, fn, 2, "addr");
	uint64_t len = (uint64_t)arg_int(L, fn, 3, "len");
	int prot = arg_i32(L, fn, 4, "prot");

	return ret_int(L, tb->mb, mmsim_mprotect(tb->t, addr, len, prot));
}

/* t:madvise(addr, len, advice) */
static int t_madvise(lua_State *L)
{
	const char *fn = "t:madvise";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t addr = (uint64_t)arg_int(L, fn, 2, "addr");
	uint64_t len = (uint64_t)arg_int(L, fn, 3, "len");
	int advice = arg_i32(L, fn, 4, "advice");

	return ret_int(L, tb->mb, mmsim_madvise(tb->t, addr, len, advice));
}

/* t:mremap(old, old_len, new_len, flags [, new_addr]) -> address or -errno */
static int t_mremap(lua_State *L)
{
	const char *fn = "t:mremap";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t old = (uint64_t)arg_int(L, fn, 2, "old");
	uint64_t old_len = (uint64_t)arg_int(L, fn, 3, "old_len");
	uint64_t new_len = (uint64_t)arg_int(L, fn, 4, "new_len");
	int flags = arg_i32(L, fn, 5, "flags");
	uint64_t new_addr = (uint64_t)arg_optint(L, fn, 6, "new_addr", 0);

	return ret_int(L, tb->mb, mmsim_mremap(tb->t, old, old_len, new_len, flags, new_addr));
}

/* t:memfd_create(name, flags) -> fd or -errno */
static int t_memfd_create(lua_State *L)
{
	const char *fn = "t:memfd_create";
	struct lmm_task *tb = check_task(L, fn);
	const char *name = arg_str(L, fn, 2, "name", NULL);
	int flags = arg_opti32(L, fn, 3, "flags", 0);

	return ret_int(L, tb->mb, mmsim_memfd_create(tb->t, name, (unsigned int)flags));
}

/* t:ftruncate(fd, len) */
static int t_ftruncate(lua_State *L)
{
	const char *fn = "t:ftruncate";
	struct lmm_task *tb = check_task(L, fn);
	int fd = arg_i32(L, fn, 2, "fd");
	uint64_t len = (uint64_t)arg_int(L, fn, 3, "len");

	return ret_int(L, tb->mb, mmsim_ftruncate(tb->t, fd, len));
}

/* t:fallocate(fd, mode, off, len) */
static int t_fallocate(lua_State *L)
{
	const char *fn = "t:fallocate";
	struct lmm_task *tb = check_task(L, fn);
	int fd = arg_i32(L, fn, 2, "fd");
	int mode = arg_i32(L, fn, 3, "mode");
	uint64_t off = (uint64_t)arg_int(L, fn, 4, "off");
	uint64_t len = (uint64_t)arg_int(L, fn, 5, "len");

	return ret_int(L, tb->mb, mmsim_fallocate(tb->t, fd, mode, off, len));
}

/* t:close(fd) */
static int t_close(lua_State *L)
{
	struct lmm_task *tb = check_task(L, "t:close");
	int fd = arg_i32(L, "t:close", 2, "fd");

	return ret_int(L, tb->mb, mmsim_close(tb->t, fd));
}

/* t:prctl(option [, a2, a3, a4, a5]) */
static int t_prctl(lua_State *L)
{
	const char *fn = "t:prctl";
	struct lmm_task *tb = check_task(L, fn);
	int opt = arg_i32(L, fn, 2, "option");
	uint64_t a2 = (uint64_t)arg_optint(L, fn, 3, "a2", 0);
	uint64_t a3 = (uint64_t)arg_optint(L, fn, 4, "a3", 0);
	uint64_t a4 = (uint64_t)arg_optint(L, fn, 5, "a4", 0);
	uint64_t a5 = (uint64_t)arg_optint(L, fn, 6, "a5", 0);

	return ret_int(L, tb->mb, mmsim_prctl(tb->t, opt, a2, a3, a4, a5));
}

/* t:userfaultfd(flags) -> fd or -errno */
static int t_userfaultfd(lua_State *L)
{
	struct lmm_task *tb = check_task(L, "t:userfaultfd");
	int flags = arg_opti32(L, "t:userfaultfd", 2, "flags", 0);

	return ret_int(L, tb->mb, mmsim_userfaultfd(tb->t, flags));
}

/* Read an integer field of the ioctl argument table (0 when absent). */
static uint64_t field_u64(lua_State *L, int idx, const char *k)
{
	int isnum = 0;
	lua_Integer v;

	lua_getfield(L, idx, k);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return 0;
	}
	v = lua_tointegerx(L, -1, &isnum);
	if (lua_type(L, -1) != LUA_TNUMBER || !isnum)
		luaL_error(L, "t:ioctl: field '%s' of argument 3 expected integer, got %s", k,
			   tname(L, -1));
	lua_pop(L, 1);
	return (uint64_t)v;
}

/* Write an integer field back into the ioctl argument table. */
static void field_set(lua_State *L, int idx, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, idx, k);
}

/*
 * t:ioctl(fd, request, args) for the userfaultfd requests.  The C structure
 * is built from the fields of args (start/len for a range, the others by
 * their Linux names) and what the kernel writes back (ioctls, features,
 * copy, zeropage, mapped) is stored into args.  Returns what ioctl returns.
 */
static int t_ioctl(lua_State *L)
{
	const char *fn = "t:ioctl";
	struct lmm_task *tb = check_task(L, fn);
	int fd = arg_i32(L, fn, 2, "fd");
	uint64_t req = (uint64_t)arg_int(L, fn, 3, "request");
	int rc;

	if (lua_isnoneornil(L, 4)) {
		lua_settop(L, 3);
		lua_newtable(L);
	}
	arg_table(L, fn, 4, "args");
	if (req == MMSIM_UFFDIO_API) {
		struct mmsim_uffdio_api a = {
			.api = field_u64(L, 4, "api"), .features = field_u64(L, 4, "features"),
		};
		rc = mmsim_ioctl(tb->t, fd, req, &a);
		field_set(L, 4, "api", (lua_Integer)a.api);
		field_set(L, 4, "features", (lua_Integer)a.features);
		field_set(L, 4, "ioctls", (lua_Integer)a.ioctls);
	} else if (req == MMSIM_UFFDIO_REGISTER) {
		struct mmsim_uffdio_register a = {
			.range = { field_u64(L, 4, "start"), field_u64(L, 4, "len") },
			.mode = field_u64(L, 4, "mode"),
		};
		rc = mmsim_ioctl(tb->t, fd, req, &a);
		field_set(L, 4, "ioctls", (lua_Integer)a.ioctls);
	} else if (req == MMSIM_UFFDIO_UNREGISTER || req == MMSIM_UFFDIO_WAKE) {
		struct mmsim_uffdio_range a = { field_u64(L, 4, "start"), field_u64(L, 4, "len") };

		rc = mmsim_ioctl(tb->t, fd, req, &a);
	} else if (req == MMSIM_UFFDIO_COPY) {
		struct mmsim_uffdio_copy a = {
			.dst = field_u64(L, 4, "dst"), .src = field_u64(L, 4, "src"),
			.len = field_u64(L, 4, "len"), .mode = field_u64(L, 4, "mode"),
		};
		rc = mmsim_ioctl(tb->t, fd, req, &a);
		field_set(L, 4, "copy", a.copy);
	} else if (req == MMSIM_UFFDIO_ZEROPAGE) {
		struct mmsim_uffdio_zeropage a = {
			.range = { field_u64(L, 4, "start"), field_u64(L, 4, "len") },
			.mode = field_u64(L, 4, "mode"),
		};
		rc = mmsim_ioctl(tb->t, fd, req, &a);
		field_set(L, 4, "zeropage", a.zeropage);
	} else if (req == MMSIM_UFFDIO_WRITEPROTECT) {
		struct mmsim_uffdio_writeprotect a = {
			.range = { field_u64(L, 4, "start"), field_u64(L, 4, "len") },
			.mode = field_u64(L, 4, "mode"),
		};
		rc = mmsim_ioctl(tb->t, fd, req, &a);
	} else if (req == MMSIM_UFFDIO_CONTINUE) {
		struct mmsim_uffdio_continue a = {
			.range = { field_u64(L, 4, "start"), field_u64(L, 4, "len") },
			.mode = field_u64(L, 4, "mode"),
		};
		rc = mmsim_ioctl(tb->t, fd, req, &a);
		field_set(L, 4, "mapped", a.mapped);
	} else {
		/* Unknown to the binding: let the kernel say what Linux says. */
		uint64_t scratch[8] = { 0 };

		rc = mmsim_ioctl(tb->t, fd, (unsigned long)req, scratch);
	}
	return ret_int(L, tb->mb, rc);
}

/* t:read(fd, len) -> bytes read or -errno, then the bytes */
static int t_read(lua_State *L)
{
	const char *fn = "t:read";
	struct lmm_task *tb = check_task(L, fn);
	int fd = arg_i32(L, fn, 2, "fd");
	lua_Integer len = arg_int(L, fn, 3, "len");
	char *buf;
	int64_t n;

	if (len < 0 || (uint64_t)len > READ_MAX)
		return luaL_error(L, "%s: argument 2 (len) out of range", fn);
	buf = lua_newuserdatauv(L, len ? (size_t)len : 1, 0);
	n = mmsim_read(tb->t, fd, buf, (uint64_t)len);
	raise_pending(L, tb->mb);
	lua_pushinteger(L, n);
	lua_pushlstring(L, buf, n > 0 && n <= len ? (size_t)n : 0);
	return 2;
}

/* mmsim.uffd_msgs(bytes) -> array of {event, flags, address, ptid} */
static int l_uffd_msgs(lua_State *L)
{
	size_t len, i, n;
	const char *s = arg_str(L, "mmsim.uffd_msgs", 1, "bytes", &len);

	n = len / sizeof(struct mmsim_uffd_msg);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		struct mmsim_uffd_msg msg;

		memcpy(&msg, s + i * sizeof(msg), sizeof(msg));
		lua_createtable(L, 0, 4);
		set_int(L, "event", msg.event);
		set_int(L, "flags", (lua_Integer)msg.arg.pagefault.flags);
		set_int(L, "address", (lua_Integer)msg.arg.pagefault.address);
		set_int(L, "ptid", msg.arg.pagefault.feat.ptid);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/*
 * Read count integers of the table at idx into a scratch buffer that Lua
 * owns (a userdata left on the stack), so that an error raised half way
 * leaks nothing.
 */
static void *int_array(lua_State *L, const char *fn, int idx, const char *name,
		       size_t count, size_t elem)
{
	unsigned char *a = lua_newuserdatauv(L, (count ? count : 1) * elem, 0);
	size_t i;

	for (i = 0; i < count; i++) {
		int isnum = 0;
		lua_Integer v;

		lua_geti(L, idx, (lua_Integer)i + 1);
		v = lua_tointegerx(L, -1, &isnum);
		if (lua_type(L, -1) != LUA_TNUMBER || !isnum)
			luaL_error(L, "%s: argument %d (%s) element %d expected integer, got %s",
				   fn, argno(fn, idx), name, (int)i + 1, tname(L, -1));
		lua_pop(L, 1);
		if (elem == sizeof(int)) {
			int x = (int)v;

			memcpy(a + i * elem, &x, elem);
		} else {
			uint64_t x = (uint64_t)v;

			memcpy(a + i * elem, &x, elem);
		}
	}
	return a;
}

/* t:move_pages(pages, nodes_or_nil, flags) -> ret, status table */
static int t_move_pages(lua_State *L)
{
	const char *fn = "t:move_pages";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t *pages;
	int *nodes = NULL, *status;
	int flags, has_nodes = !lua_isnoneornil(L, 3);
	size_t count, i;
	int64_t rc;

	arg_table(L, fn, 2, "pages");
	if (has_nodes)
		arg_table(L, fn, 3, "nodes");
	flags = arg_opti32(L, fn, 4, "flags", 0);
	count = (size_t)luaL_len(L, 2);
	if (count > (1u << 24))
		return luaL_error(L, "%s: argument 1 (pages) has too many entries", fn);
	if (has_nodes && (size_t)luaL_len(L, 3) < count)
		return luaL_error(L, "%s: argument 2 (nodes) has fewer entries than pages", fn);
	pages = int_array(L, fn, 2, "pages", count, sizeof(uint64_t));
	if (has_nodes)
		nodes = int_array(L, fn, 3, "nodes", count, sizeof(int));
	status = lua_newuserdatauv(L, sizeof(int) * (count ? count : 1), 0);
	memset(status, 0, sizeof(int) * (count ? count : 1));
	rc = mmsim_move_pages(tb->t, count, pages, nodes, status, flags);
	raise_pending(L, tb->mb);
	lua_pushinteger(L, rc);
	lua_createtable(L, (int)count, 0);
	for (i = 0; i < count; i++) {
		lua_pushinteger(L, status[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 2;
}

/*
 * A nodemask argument: an integer bit mask of nodes 0..63, or nil for none.
 * Linux's maxnode counts one more than the bits it reads, hence 65; a second
 * zero word is there for an implementation that reads maxnode bits.
 */
static int arg_nodemask(lua_State *L, const char *fn, int idx, uint64_t mask[2],
			uint64_t *maxnode)
{
	mask[0] = mask[1] = 0;
	if (lua_isnoneornil(L, idx)) {
		*maxnode = 0;
		return 0;
	}
	mask[0] = (uint64_t)arg_int(L, fn, idx, "nodemask");
	*maxnode = 65;
	return 1;
}

/* t:set_mempolicy(mode, nodemask) */
static int t_set_mempolicy(lua_State *L)
{
	const char *fn = "t:set_mempolicy";
	struct lmm_task *tb = check_task(L, fn);
	int mode = arg_i32(L, fn, 2, "mode");
	uint64_t mask[2], maxnode;
	int has = arg_nodemask(L, fn, 3, mask, &maxnode);

	return ret_int(L, tb->mb, mmsim_set_mempolicy(tb->t, mode, has ? mask : NULL, maxnode));
}

/* t:mbind(addr, len, mode, nodemask, flags) */
static int t_mbind(lua_State *L)
{
	const char *fn = "t:mbind";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t addr = (uint64_t)arg_int(L, fn, 2, "addr");
	uint64_t len = (uint64_t)arg_int(L, fn, 3, "len");
	int mode = arg_i32(L, fn, 4, "mode");
	uint64_t mask[2], maxnode;
	int has = arg_nodemask(L, fn, 5, mask, &maxnode);
	int flags = arg_opti32(L, fn, 6, "flags", 0);

	return ret_int(L, tb->mb, mmsim_mbind(tb->t, addr, len, mode, has ? mask : NULL,
					       maxnode, (unsigned int)flags));
}

#define MT_SIGINFO "mmsim.siginfo"

/*
 * Push a siginfo table {signo, code, addr, rc}; blocked = true marks an
 * access that went to sleep.  Its __tostring makes assert(t:store(...))
 * print what happened instead of "table: 0x...".
 */
static void push_siginfo(lua_State *L, const struct mmsim_siginfo *si, int rc)
{
	lua_createtable(L, 0, 5);
	set_int(L, "signo", si->signo);
	set_int(L, "code", si->code);
	set_int(L, "addr", (lua_Integer)si->addr);
	set_int(L, "rc", rc);
	if (rc == MMSIM_ACCESS_BLOCKED) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "blocked");
	}
	luaL_setmetatable(L, MT_SIGINFO);
}

/* Integer field of the table at idx, 0 when absent. */
static lua_Integer get_int(lua_State *L, int idx, const char *k)
{
	lua_Integer v;

	lua_getfield(L, idx, k);
	v = lua_tointeger(L, -1);
	lua_pop(L, 1);
	return v;
}

/* __tostring of a siginfo: "SIGSEGV (SEGV_ACCERR) at 0x...". */
static int si_tostring(lua_State *L)
{
	static const char *const segv[] = {
		NULL, "SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR",
		"SEGV_ACCADI", "SEGV_ADIDERR", "SEGV_ADIPERR", "SEGV_MTEAERR",
		"SEGV_MTESERR", "SEGV_CPERR",
	};
	static const char *const bus[] = {
		NULL, "BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO",
	};
	lua_Integer signo = get_int(L, 1, "signo"), code = get_int(L, 1, "code");
	lua_Integer rc = get_int(L, 1, "rc");
	const char *sname = NULL, *cname = NULL;
	char addr[32];

	if (rc == MMSIM_ACCESS_BLOCKED) {
		lua_pushstring(L, "access blocked: the task sleeps in the kernel (t:resume() retries)");
		return 1;
	}
	if (rc < 0) {
		lua_getfield(L, LUA_REGISTRYINDEX, "mmsim.errnames");
		lua_geti(L, -1, -rc);
		lua_pushfstring(L, "access failed with -%s (%I)",
				lua_isstring(L, -1) ? lua_tostring(L, -1) : "?", rc);
		return 1;
	}
	if (signo == MMSIM_SIGSEGV) {
		sname = "SIGSEGV";
		if (code > 0 && code < (lua_Integer)(sizeof(segv) / sizeof(segv[0])))
			cname = segv[code];
	} else if (signo == MMSIM_SIGBUS) {
		sname = "SIGBUS";
		if (code > 0 && code < (lua_Integer)(sizeof(bus) / sizeof(bus[0])))
			cname = bus[code];
	} else if (signo == MMSIM_SIGKILL) {
		sname = "SIGKILL";
	} else if (signo == MMSIM_SIGTRAP) {
		sname = "SIGTRAP";
	}
	snprintf(addr, sizeof(addr), "0x%" PRIx64, (uint64_t)get_int(L, 1, "addr"));
	if (sname)
		lua_pushfstring(L, "%s", sname);
	else
		lua_pushfstring(L, "signal %I", signo);
	if (cname)
		lua_pushfstring(L, " (%s) at %s", cname, addr);
	else
		lua_pushfstring(L, " (code %I) at %s", code, addr);
	lua_concat(L, 2);
	return 1;
}

/* Little-endian u64 from 8 bytes: the simulated arm64 is little-endian. */
static uint64_t get_le64(const unsigned char *b)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

/*
 * Turn what an access returned into Lua values.  Success: the bytes of a
 * load, the u64 of load_u64, the tag of get_tag, or true.  Failure: nil
 * (reads) or false (writes), the siginfo table and the C return value.  An
 * access that blocked keeps its buffers for t:resume(); any other outcome
 * releases them.
 */
static int access_result(lua_State *L, struct lmm_task *tb, enum lmm_access kind, int rc,
			 const struct mmsim_siginfo *si)
{
	int is_read = kind == ACC_LOAD || kind == ACC_LOAD_U64 || kind == ACC_GET_TAG;

	if (rc == MMSIM_ACCESS_BLOCKED) {
		tb->blocked = kind;
	} else if (rc == MMSIM_ACCESS_OK) {
		switch (kind) {
		case ACC_LOAD:
			lua_pushlstring(L, (const char *)tb->buf, tb->len);
			break;
		case ACC_LOAD_U64:
			lua_pushinteger(L, (lua_Integer)get_le64(tb->buf));
			break;
		case ACC_GET_TAG: {
			unsigned int tag;

			memcpy(&tag, tb->buf, sizeof(tag));
			lua_pushinteger(L, tag);
			break;
		}
		default:
			lua_pushboolean(L, 1);
			break;
		}
		clear_blocked(tb);
		raise_pending(L, tb->mb);
		return 1;
	} else {
		clear_blocked(tb);
	}
	raise_pending(L, tb->mb);
	if (is_read)
		lua_pushnil(L);
	else
		lua_pushboolean(L, 0);
	push_siginfo(L, si, rc);
	lua_pushinteger(L, rc);
	return 3;
}

/* One access at a time: a task asleep in a fault cannot issue another. */
static void check_not_blocked(lua_State *L, struct lmm_task *tb, const char *fn)
{
	if (tb->blocked != ACC_NONE)
		luaL_error(L, "%s: the task is blocked in a fault; call t:resume() first", fn);
}

/*
 * A fresh host buffer for an access.  It is malloc'd rather than part of the
 * userdata or a Lua string because a blocked access keeps its address in the
 * library until t:resume(), possibly after the task handle was collected.
 */
static unsigned char *acc_buf(lua_State *L, struct lmm_task *tb, const char *fn, uint64_t len)
{
	free(tb->buf);
	tb->buf = NULL;
	if (len > SIZE_MAX / 2 || !(tb->buf = calloc(1, len ? (size_t)len : 1)))
		luaL_error(L, "%s: cannot allocate %I bytes", fn, (lua_Integer)len);
	tb->len = len;
	return tb->buf;
}

/* t:load(addr, len) -> bytes, or nil, siginfo, rc */
static int t_load(lua_State *L)
{
	const char *fn = "t:load";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t addr = (uint64_t)arg_int(L, fn, 2, "addr");
	lua_Integer len = arg_int(L, fn, 3, "len");
	struct mmsim_siginfo si = { 0 };
	unsigned char *buf;
	int rc;

	check_not_blocked(L, tb, fn);
	if (len < 0)
		return luaL_error(L, "%s: argument 2 (len) must not be negative", fn);
	buf = acc_buf(L, tb, fn, (uint64_t)len);
	rc = mmsim_load(tb->t, addr, buf, (uint64_t)len, &si);
	return access_result(L, tb, ACC_LOAD, rc, &si);
}

/* t:load_u64(addr) -> integer, or nil, siginfo, rc */
static int t_load_u64(lua_State *L)
{
	const char *fn = "t:load_u64";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t addr = (uint64_t)arg_int(L, fn, 2, "addr");
	struct mmsim_siginfo si = { 0 };
	unsigned char *buf;
	int rc;

	check_not_blocked(L, tb, fn);
	buf = acc_buf(L, tb, fn, 8);
	rc = mmsim_load(tb->t, addr, buf, 8, &si);
	return access_result(L, tb, ACC_LOAD_U64, rc, &si);
}

/* t:store(addr, bytes) -> true, or false, siginfo, rc */
static int t_store(lua_State *L)
{
	const char *fn = "t:store";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t addr = (uint64_t)arg_int(L, fn, 2, "addr");
	size_t len;
	const char *src = arg_str(L, fn, 3, "bytes", &len);
	struct mmsim_siginfo si = { 0 };
	unsigned char *buf;
	int rc;

	check_not_blocked(L, tb, fn);
	buf = acc_buf(L, tb, fn, len);
	memcpy(buf, src, len);
	rc = mmsim_store(tb->t, addr, buf, len, &si);
	return access_result(L, tb, ACC_STORE, rc, &si);
}

/* t:store_u64(addr, value) -> true, or false, siginfo, rc */
static int t_store_u64(lua_State *L)
{
	const char *fn = "t:store_u64";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t addr = (uint64_t)arg_int(L, fn, 2, "addr");
	uint64_t v = (uint64_t)arg_int(L, fn, 3, "value");
	struct mmsim_siginfo si = { 0 };
	unsigned char *buf;
	int i, rc;

	check_not_blocked(L, tb, fn);
	buf = acc_buf(L, tb, fn, 8);
	for (i = 0; i < 8; i++)
		buf[i] = (unsigned char)(v >> (8 * i));
	rc = mmsim_store(tb->t, addr, buf, 8, &si);
	return access_result(L, tb, ACC_STORE_U64, rc, &si);
}

/* t:fill(addr, byte, len) -> true, or false, siginfo, rc */
static int t_fill(lua_State *L)
{
	const char *fn = "t:fill";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t addr = (uint64_t)arg_int(L, fn, 2, "addr");
	int byte = arg_i32(L, fn, 3, "byte");
	uint64_t len = (uint64_t)arg_int(L, fn, 4, "len");
	struct mmsim_siginfo si = { 0 };
	int rc;

	check_not_blocked(L, tb, fn);
	rc = mmsim_fill(tb->t, addr, byte, len, &si);
	return access_result(L, tb, ACC_FILL, rc, &si);
}

/* t:set_tag(tagged_addr, len) -> true, or false, siginfo, rc */
static int t_set_tag(lua_State *L)
{
	const char *fn = "t:set_tag";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t addr = (uint64_t)arg_int(L, fn, 2, "tagged_addr");
	uint64_t len = (uint64_t)arg_int(L, fn, 3, "len");
	struct mmsim_siginfo si = { 0 };
	int rc;

	check_not_blocked(L, tb, fn);
	rc = mmsim_set_tag(tb->t, addr, len, &si);
	return access_result(L, tb, ACC_SET_TAG, rc, &si);
}

/* t:get_tag(addr) -> tag, or nil, siginfo, rc */
static int t_get_tag(lua_State *L)
{
	const char *fn = "t:get_tag";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t addr = (uint64_t)arg_int(L, fn, 2, "addr");
	struct mmsim_siginfo si = { 0 };
	int rc;

	check_not_blocked(L, tb, fn);
	rc = mmsim_get_tag(tb->t, addr,
			   (unsigned int *)(void *)acc_buf(L, tb, fn, sizeof(unsigned int)), &si);
	return access_result(L, tb, ACC_GET_TAG, rc, &si);
}

/* t:resume(): retry the blocked access; returns what that access returns. */
static int t_resume(lua_State *L)
{
	struct lmm_task *tb = check_task(L, "t:resume");
	struct mmsim_siginfo si = { 0 };
	enum lmm_access kind = tb->blocked;
	int rc = mmsim_task_resume(tb->t, &si);

	return access_result(L, tb, kind == ACC_NONE ? ACC_FILL : kind, rc, &si);
}

/* t:pagemap(addr) -> the 64-bit entry, or nil, -errno */
static int t_pagemap(lua_State *L)
{
	struct lmm_task *tb = check_task(L, "t:pagemap");
	uint64_t addr = (uint64_t)arg_int(L, "t:pagemap", 2, "addr");
	uint64_t entry = 0;
	int rc = mmsim_pagemap(tb->t, addr, &entry);

	raise_pending(L, tb->mb);
	if (rc < 0) {
		lua_pushnil(L);
		lua_pushinteger(L, rc);
		return 2;
	}
	lua_pushinteger(L, (lua_Integer)entry);
	return 1;
}

/* t:proc_read(path): m:proc_read(path, t) */
static int t_proc_read(lua_State *L)
{
	struct lmm_task *tb = check_task(L, "t:proc_read");
	const char *path = arg_str(L, "t:proc_read", 2, "path", NULL);

	return push_text(L, tb->mb, tb->t, RD_PROC, path);
}

/* t:pin(addr, len, flags) -> pin, or nil, message, -errno */
static int t_pin(lua_State *L)
{
	const char *fn = "t:pin";
	struct lmm_task *tb = check_task(L, fn);
	uint64_t addr = (uint64_t)arg_int(L, fn, 2, "addr");
	uint64_t len = (uint64_t)arg_int(L, fn, 3, "len");
	int flags = arg_opti32(L, fn, 4, "flags", 0);
	struct lmm_pin *pb;
	int err;

	pb = lua_newuserdatauv(L, sizeof(*pb), 1);
	pb->p = NULL;
	pb->mb = tb->mb;
	lua_getiuservalue(L, 1, 1);
	lua_setiuservalue(L, -2, 1);
	luaL_setmetatable(L, MT_PIN);
	err = mmsim_pin(tb->t, addr, len, (unsigned int)flags, &pb->p);
	raise_pending(L, tb->mb);
	if (err < 0 || !pb->p) {
		pb->p = NULL;
		return ret_fail(L, err < 0 ? err : -MMSIM_ENOMEM);
	}
	return 1;
}

/* ---------------------------------------------------------------------- pin */

/* p:read(off, len) -> bytes, or nil, -errno */
static int p_read(lua_State *L)
{
	const char *fn = "p:read";
	struct lmm_pin *pb = check_pin(L, fn);
	lua_Integer off = arg_int(L, fn, 2, "off");
	lua_Integer len = arg_int(L, fn, 3, "len");
	char *buf;
	int rc;

	if (len < 0 || (uint64_t)len > SIZE_MAX / 2)
		return luaL_error(L, "%s: argument 2 (len) out of range", fn);
	buf = lua_newuserdatauv(L, len ? (size_t)len : 1, 0);
	rc = mmsim_pin_read(pb->p, (uint64_t)off, buf, (uint64_t)len);
	raise_pending(L, pb->mb);
	if (rc < 0) {
		lua_pushnil(L);
		lua_pushinteger(L, rc);
		return 2;
	}
	lua_pushlstring(L, buf, (size_t)len);
	return 1;
}

/* p:unpin(): the handle is dead afterwards. */
static int p_unpin(lua_State *L)
{
	struct lmm_pin *pb = check_pin(L, "p:unpin");

	mmsim_unpin(pb->p);
	pb->p = NULL;
	raise_pending(L, pb->mb);
	return 0;
}

/* ------------------------------------------------------------------- module */

/* mmsim.strerror_last() */
static int l_strerror_last(lua_State *L)
{
	const char *s = mmsim_strerror_last();

	lua_pushstring(L, s ? s : "");
	return 1;
}

/* mmsim.default_dts() */
static int l_default_dts(lua_State *L)
{
	const char *s = mmsim_default_dts();

	lua_pushstring(L, s ? s : "");
	return 1;
}

/*
 * mmsim.errname(e) -> "EINVAL" for 22 or -22, nil when unknown.  Scripts
 * print syscall results; a name reads better than a number.
 */
static int l_errname(lua_State *L)
{
	lua_Integer e = arg_int(L, "mmsim.errname", 1, "errno");

	lua_getfield(L, LUA_REGISTRYINDEX, "mmsim.errnames");
	lua_geti(L, -1, e < 0 ? -e : e);
	return 1;
}

/* Every MMSIM_ constant of mmsim/uapi.h, generated from the header. */
#define LMM_CONST(name) { #name, (lua_Integer)(MMSIM_##name) },
static const struct {
	const char *name;
	lua_Integer value;
} consts[] = {
#include "lua_mmsim_consts.h"
	LMM_CONST(ACCESS_OK)
	LMM_CONST(ACCESS_SIGNAL)
	LMM_CONST(ACCESS_BLOCKED)
	/* enums of mmsim.h, which the generator (uapi.h macros) does not see */
	LMM_CONST(SCHED_DETERMINISTIC)
	LMM_CONST(SCHED_PARALLEL)
	LMM_CONST(SCHED_RANDOM)
	LMM_CONST(SCHED_PCT)
};

static const luaL_Reg machine_methods[] = {
	{ "task", m_task },
	{ "sysfs_write", m_sysfs_write },
	{ "sysfs_read", m_sysfs_read },
	{ "sysctl_write", m_sysctl_write },
	{ "sysctl_read", m_sysctl_read },
	{ "proc_read", m_proc_read },
	{ "proc_pread", m_proc_pread },
	{ "vmstat", m_vmstat },
	{ "run_daemon", m_run_daemon },
	{ "advance", m_advance },
	{ "now", m_now },
	{ "check", m_check },
	{ "trace", m_trace },
	{ "untrace", m_untrace },
	{ "cost_set", m_cost_set },
	{ "cost_list", m_cost_list },
	{ "nr_cpus", m_nr_cpus },
	{ "nr_nodes", m_nr_nodes },
	{ "destroy", m_destroy },
	{ "spawn", m_spawn },
	{ "run_tasks", m_run_tasks },
	{ "sched", m_sched },
	{ "sched_steps", m_sched_steps },
	{ "trace_file", m_trace_file },
	{ "trace_file_close", m_trace_file_close },
	{ NULL, NULL },
};

static const luaL_Reg task_methods[] = {
	{ "fork", t_fork },
	{ "thread", t_thread },
	{ "set_cpu", t_set_cpu },
	{ "exit", t_exit },
	{ "pid", t_pid },
	{ "tgid", t_tgid },
	{ "killed", t_killed },
	{ "mmap", t_mmap },
	{ "munmap", t_munmap },
	{ "mprotect", t_mprotect },
	{ "madvise", t_madvise },
	{ "mremap", t_mremap },
	{ "memfd_create", t_memfd_create },
	{ "ftruncate", t_ftruncate },
	{ "fallocate", t_fallocate },
	{ "close", t_close },
	{ "prctl", t_prctl },
	{ "userfaultfd", t_userfaultfd },
	{ "ioctl", t_ioctl },
	{ "read", t_read },
	{ "move_pages", t_move_pages },
	{ "set_mempolicy", t_set_mempolicy },
	{ "mbind", t_mbind },
	{ "load", t_load },
	{ "load_u64", t_load_u64 },
	{ "store", t_store },
	{ "store_u64", t_store_u64 },
	{ "fill", t_fill },
	{ "set_tag", t_set_tag },
	{ "get_tag", t_get_tag },
	{ "resume", t_resume },
	{ "pagemap", t_pagemap },
	{ "proc_read", t_proc_read },
	{ "pin", t_pin },
	{ NULL, NULL },
};

static const luaL_Reg pin_methods[] = {
	{ "read", p_read },
	{ "unpin", p_unpin },
	{ NULL, NULL },
};

static const luaL_Reg module_funcs[] = {
	{ "machine", l_machine },
	{ "strerror_last", l_strerror_last },
	{ "default_dts", l_default_dts },
	{ "errname", l_errname },
	{ "uffd_msgs", l_uffd_msgs },
	{ NULL, NULL },
};

/* __index of a handle: a method, or an error naming the unknown one. */
static int handle_index(lua_State *L)
{
	const char *kind = lua_tostring(L, lua_upvalueindex(2));

	lua_pushvalue(L, 2);
	lua_rawget(L, lua_upvalueindex(1));
	if (!lua_isnil(L, -1))
		return 1;
	if (lua_type(L, 2) == LUA_TSTRING)
		return luaL_error(L, "%s has no method '%s'", kind, lua_tostring(L, 2));
	return luaL_error(L, "%s has no method of type %s", kind, tname(L, 2));
}

/* Create the metatable of one handle type. */
static void new_class(lua_State *L, const char *mt, const char *kind, const luaL_Reg *methods,
		      lua_CFunction gc, lua_CFunction tostring)
{
	luaL_newmetatable(L, mt);
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	lua_pushstring(L, kind);
	lua_pushcclosure(L, handle_index, 2);
	lua_setfield(L, -2, "__index");
	if (gc) {
		lua_pushcfunction(L, gc);
		lua_setfield(L, -2, "__gc");
	}
	if (!strcmp(mt, MT_MACHINE)) {
		lua_pushcfunction(L, m_destroy);
		lua_setfield(L, -2, "__close");
	}
	if (tostring) {
		lua_pushcfunction(L, tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_pushstring(L, kind);
	lua_setfield(L, -2, "__name");
	lua_pop(L, 1);
}

/* See lua_mmsim.h. */
void lmm_set_defaults(lua_State *L, const struct lmm_defaults *d)
{
	lua_pushlightuserdata(L, (void *)d);
	lua_setfield(L, LUA_REGISTRYINDEX, DEFAULTS_KEY);
}

/* See lua_mmsim.h. */
int luaopen_mmsim(lua_State *L)
{
	size_t i;

	new_class(L, MT_MACHINE, "machine", machine_methods, m_gc, m_tostring);
	new_class(L, MT_TASK, "task", task_methods, t_gc, t_tostring);
	new_class(L, MT_PIN, "pin", pin_methods, NULL, NULL);
	luaL_newmetatable(L, MT_SIGINFO);
	lua_pushcfunction(L, si_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pop(L, 1);

	/* errno value -> name, for mmsim.errname() */
	lua_newtable(L);
	for (i = 0; i < sizeof(consts) / sizeof(consts[0]); i++) {
		if (consts[i].name[0] != 'E' || consts[i].value <= 0)
			continue;
		lua_pushstring(L, consts[i].name);
		lua_rawseti(L, -2, consts[i].value);
	}
	lua_setfield(L, LUA_REGISTRYINDEX, "mmsim.errnames");

	luaL_newlib(L, module_funcs);
	for (i = 0; i < sizeof(consts) / sizeof(consts[0]); i++) {
		lua_pushinteger(L, consts[i].value);
		lua_setfield(L, -2, consts[i].name);
	}
	lua_pushstring(L, MMSIM_VERSION);
	lua_setfield(L, -2, "VERSION");
	return 1;
}
