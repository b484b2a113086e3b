/* SPDX-License-Identifier: MIT */
/*
 * bench/bench.h - `mmsim bench`: mmsim's page-fault and load rates measured
 * against the same workloads on the host kernel, in one process run.
 */
#ifndef MMSIM_BENCH_H
#define MMSIM_BENCH_H

/*
 * Run every workload on mmsim and on the host, print the table (or CSV).
 * argv[0] is "bench".  Returns the process exit status: 0 when every
 * workload was measured, 1 when one could not run, 2 on a bad option.
 * Missing a target does not change the status: the figures are the output.
 */
int mmsim_bench_main(int argc, char **argv);

#endif /* MMSIM_BENCH_H */
