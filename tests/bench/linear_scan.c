// SPDX-License-Identifier: GPL-2.0
/*
 * The linear scan the lookup benchmark compares prr with: the first of @n
 * (address, value, mask) rules, sorted most specific first, that matches.
 *
 * A file of its own, built with its functions 64-byte aligned (Makefile),
 * so that its loop's placement does not follow the code under test: inlined
 * into lookup_bench.c, the same loop took 0.3 or 0.7 ns a rule from one
 * build to the next, depending on whether it crossed a 64-byte boundary.
 */

#include "linear_scan.h"

const struct prr_entry *linear_lookup(const struct linear_rule *r, u32 n,
				      __be32 addr, u16 port)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (r[i].addr == addr && (port & r[i].mask) == r[i].value)
			return r[i].e;
	return NULL;
}
