/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet classifier: what a datagram addressed to a shared address is routed
 * by.  It reads raw bytes only, so it builds in userspace as well (see
 * portable.h) for unit tests and fuzzing.
 */
#ifndef _PRR_CLASSIFY_H
#define _PRR_CLASSIFY_H

#include "portable.h"

enum prr_class {
	PRR_CLASS_PORT,		/* routed by the destination port */
	PRR_CLASS_NO_PORT,	/* fragment, or a protocol without ports */
	PRR_CLASS_MALFORMED,	/* headers truncated or inconsistent */
};

/* Bytes from the IPv4 header on that prr_classify() may need to read. */
#define PRR_CLASSIFY_MAX	(60 + 4)

enum prr_class prr_classify(const u8 *pkt, u32 avail, u32 len, u16 *port);

#endif /* _PRR_CLASSIFY_H */
