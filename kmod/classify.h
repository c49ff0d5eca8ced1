/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet classifier: the port a datagram to or from a shared address is
 * routed or validated by.  It reads raw bytes only, so it builds in userspace
 * as well (see portable.h) for unit tests and fuzzing.
 */
#ifndef _PRR_CLASSIFY_H
#define _PRR_CLASSIFY_H

#include "portable.h"

enum prr_class {
	PRR_CLASS_PORT,		/* routed by key->port */
	PRR_CLASS_NO_PORT,	/* fragment, or a protocol without ports */
	PRR_CLASS_MALFORMED,	/* truncated, inconsistent or forbidden */
};

/*
 * Which side of the datagram holds the shared address: its destination
 * (inbound routing, RFC 6346 §3.3.2) or its source (source validation,
 * RFC 7597 §8.1).
 */
enum prr_side {
	PRR_SIDE_DST,
	PRR_SIDE_SRC,
};

struct prr_key {
	u16 port;
	/*
	 * Non-zero for an ICMP error: the offset of the ICMP message, whose
	 * checksum over the rest of the datagram the caller must verify
	 * (RFC 5508 §4.1 REQ-3) before acting on the class.
	 */
	u16 icmp_off;
};

/*
 * Bytes from the IPv4 header on that prr_classify() may need to read: the
 * header with options, the ICMP header, the embedded header with options and
 * the first 8 bytes of the embedded payload.
 */
#define PRR_CLASSIFY_MAX	(60 + 8 + 60 + 8)

enum prr_class prr_classify(const u8 *pkt, u32 avail, u32 len,
			    enum prr_side side, struct prr_key *key);

/* True when the Internet checksum of @len bytes at @p is valid (RFC 1071). */
bool prr_csum_ok(const u8 *p, u32 len);

#endif /* _PRR_CLASSIFY_H */
