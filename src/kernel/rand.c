// SPDX-License-Identifier: MIT
/*
 * kernel/rand.c - the machine's only source of randomness.  splitmix64 over
 * a state seeded from mmsim_options.seed: every choice the model makes comes
 * from here, so one seed and one call sequence give one run.
 */
#include "kernel/machine.h"
#include "kernel/splitmix64.h"

uint64_t prandom_u64(struct mmsim_machine *m)
{
	return splitmix64(&m->rng_state);
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
