// SPDX-License-Identifier: GPL-2.0
/*
 * Packet classifier.
 *
 * The key of the A+P lookup is the destination port (RFC 6346 §3.1, §3.3.2):
 * TCP, UDP, UDP-Lite, SCTP and DCCP all carry source and destination ports in
 * the first four bytes of their header.  Anything else addressed to a shared
 * address, and any fragment (a non-first fragment has no port at all), has no
 * port to route by.
 */

#include "classify.h"

#define PRR_IP_MF		0x2000
#define PRR_IP_OFFSET		0x1fff

#define PRR_IPPROTO_TCP		6
#define PRR_IPPROTO_UDP		17
#define PRR_IPPROTO_DCCP	33
#define PRR_IPPROTO_SCTP	132
#define PRR_IPPROTO_UDPLITE	136

static u16 prr_get_be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

/* Smallest valid header of each protocol that has ports, 0 for the others. */
static u32 prr_l4_min_header(u8 proto)
{
	switch (proto) {
	case PRR_IPPROTO_TCP:
		return 20;
	case PRR_IPPROTO_UDP:
	case PRR_IPPROTO_UDPLITE:
		return 8;
	case PRR_IPPROTO_SCTP:		/* common header */
	case PRR_IPPROTO_DCCP:		/* generic header with short sequence */
		return 12;
	default:
		return 0;
	}
}

/*
 * @pkt points to the IPv4 header, of which @avail bytes are readable (at
 * least min(@len, PRR_CLASSIFY_MAX)); @len is the length of the datagram.
 * On PRR_CLASS_PORT, *@port is the destination port.
 */
enum prr_class prr_classify(const u8 *pkt, u32 avail, u32 len, u16 *port)
{
	u32 ihl, tot_len, l4_min;

	if (avail < 20 || (pkt[0] >> 4) != 4)
		return PRR_CLASS_MALFORMED;
	ihl = (pkt[0] & 0x0f) * 4u;
	tot_len = prr_get_be16(pkt + 2);
	if (ihl < 20 || tot_len < ihl || tot_len > len)
		return PRR_CLASS_MALFORMED;
	if (prr_get_be16(pkt + 6) & (PRR_IP_MF | PRR_IP_OFFSET))
		return PRR_CLASS_NO_PORT;
	l4_min = prr_l4_min_header(pkt[9]);
	if (!l4_min)
		return PRR_CLASS_NO_PORT;
	if (tot_len - ihl < l4_min || avail < ihl + 4)
		return PRR_CLASS_MALFORMED;
	*port = prr_get_be16(pkt + ihl + 2);
	return PRR_CLASS_PORT;
}
