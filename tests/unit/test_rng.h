/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The unit tests' pseudo-random numbers: xorshift64*, deterministic, so that
 * a failure reproduces from its seed (never 0).
 */
#ifndef PRR_TEST_RNG_H
#define PRR_TEST_RNG_H

static inline unsigned long long test_rng_next(unsigned long long *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

#endif /* PRR_TEST_RNG_H */
