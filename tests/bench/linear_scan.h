/* SPDX-License-Identifier: GPL-2.0 */
/* The lookup benchmark's linear scan (lookup_bench.c, linear_scan.c). */
#ifndef _PRR_LINEAR_SCAN_H
#define _PRR_LINEAR_SCAN_H

#include "portset.h"

struct linear_rule {
	__be32 addr;
	u16 value;
	u16 mask;
	const struct prr_entry *e;
};

const struct prr_entry *linear_lookup(const struct linear_rule *r, u32 n,
				      __be32 addr, u16 port);

#endif /* _PRR_LINEAR_SCAN_H */
