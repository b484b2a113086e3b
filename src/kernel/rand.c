// SPDX-License-Identifier: MIT
/*
 * kernel/rand.c - the machine's only source of randomness.  splitmix64 over
 * a state seeded from mmsim_options.seed: every choice the model makes comes
 * from here, so one seed and one call sequence give one run.
 */
#include "kernel/machine.h"

uint64_t prandom_u64(struct mmsim_machine *m)
{
	uint64_t z = (m->rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) without modulo bias; n == 0 gives 0. */
uint64_t prandom_below(struct mmsim_machine *m, uint64_t n)
{
	uint64_t limit, r;

	if (n == 0)
		return 0;
	limit = UINT64_MAX - UINT64_MAX % n;
	do {
		r = prandom_u64(m);
	} while (r >= limit);
	return r % n;
}
