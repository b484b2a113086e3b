/* SPDX-License-Identifier: MIT */
/*
 * kernel/splitmix64.h - splitmix64 (Steele, Lea, Flood 2014): a tiny
 * generator that gives the same sequence on every host.  The machine's
 * prandom (kernel/rand.c), the experiment's permutation and the tests'
 * random operations all draw from it, each with a state of its own.
 */
#ifndef MMSIM_KERNEL_SPLITMIX64_H
#define MMSIM_KERNEL_SPLITMIX64_H

#include <stdint.h>

static inline uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif
