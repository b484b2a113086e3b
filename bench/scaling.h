/* SPDX-License-Identifier: MIT */
/*
 * bench/scaling.h - parallel mode's fault rate on 1 and 2 simulated CPUs
 * (bench/scaling.c), printed as part of `mmsim bench`.
 */
#ifndef MMSIM_BENCH_SCALING_H
#define MMSIM_BENCH_SCALING_H

#include <stdint.h>

/*
 * Measure and print (a table section, or CSV lines "key,rate1,rate2,ratio,
 * target").  size: bytes each body faults per round.  Returns 0 when both
 * shapes were measured, 1 otherwise (the reason on stderr).
 */
int bench_scaling(uint64_t size, int rounds, int csv);

#endif
