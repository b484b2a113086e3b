/* SPDX-License-Identifier: MIT */
/*
 * tools/commands.h - subcommands of the mmsim command that live outside
 * tools/mmsim.c.
 */
#ifndef MMSIM_TOOLS_COMMANDS_H
#define MMSIM_TOOLS_COMMANDS_H

/*
 * `mmsim bench` (bench/bench.c).  argv[0] is "bench"; returns the exit
 * status: 0 measured, 1 a workload could not run, 2 bad option.
 */
int mmsim_bench_main(int argc, char **argv);

/*
 * `mmsim explore` (tools/explore.c).  argv[0] is "explore"; returns the exit
 * status: 0 every schedule passed, 1 one failed (or the script could not
 * run), 2 bad option.
 */
int mmsim_explore_main(int argc, char **argv);

#endif /* MMSIM_TOOLS_COMMANDS_H */
