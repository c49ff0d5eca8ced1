// SPDX-License-Identifier: GPL-2.0
/*
 * Packet classifier.
 *
 * The key of the A+P lookup is a port (RFC 6346 §3.3.2; ap-spec-digest §3):
 * - TCP, UDP, UDP-Lite, SCTP and DCCP carry source and destination ports in
 *   the first four bytes of their header;
 * - ICMP queries carry an Identifier, which stands for the port (RFC 7596
 *   §8.1, RFC 7597 §8.2);
 * - ICMP errors quote the datagram they are about, and its port is the key
 *   (RFC 5508 §4.1 REQ-3, RFC 7596 §8.1 step 3).
 * On the destination side the key is the destination port, the Identifier,
 * or the quoted datagram's source port; on the source side (validation of
 * what a CPE sends, RFC 7597 §8.1) the source port, the Identifier, or the
 * quoted datagram's destination port.  A fragment has no port: the kernel
 * reassembles before the hook, so one seen here is left to the caller.
 */

#include "classify.h"

#define PRR_IP_MF		0x2000
#define PRR_IP_OFFSET		0x1fff

#define PRR_IPPROTO_ICMP	1
#define PRR_IPPROTO_TCP		6
#define PRR_IPPROTO_UDP		17
#define PRR_IPPROTO_DCCP	33
#define PRR_IPPROTO_SCTP	132
#define PRR_IPPROTO_UDPLITE	136

#define PRR_ICMP_HDR		8	/* type, code, checksum, 4 more bytes */
#define PRR_ICMP_QUOTED_L4	8	/* RFC 792: at least 64 bits of data */

static u16 prr_get_be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static bool prr_same_addr(const u8 *a, const u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

bool prr_csum_ok(const u8 *p, u32 len)
{
	u32 sum = 0, i;

	for (i = 0; i + 1 < len; i += 2)
		sum += prr_get_be16(p + i);
	if (len & 1)
		sum += (u32)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
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

/* RFC 792, RFC 950: the ICMP messages that carry an Identifier. */
static bool prr_icmp_is_query(u8 type)
{
	switch (type) {
	case 0:		/* echo reply */
	case 8:		/* echo request */
	case 13:	/* timestamp */
	case 14:	/* timestamp reply */
	case 15:	/* information request */
	case 16:	/* information reply */
	case 17:	/* address mask request */
	case 18:	/* address mask reply */
		return true;
	default:
		return false;
	}
}

/* The ICMP errors that quote a datagram (RFC 792, RFC 5508 §4.1). */
static bool prr_icmp_is_error(u8 type)
{
	switch (type) {
	case 3:		/* destination unreachable, incl. fragmentation needed */
	case 4:		/* source quench */
	case 11:	/* time exceeded */
	case 12:	/* parameter problem */
		return true;
	default:
		return false;
	}
}

/*
 * The datagram quoted by an ICMP error, at @in with @inlen bytes of it
 * present.  It went the other way: to find the shared side's port, read its
 * source port when the shared address is the error's destination, and its
 * destination port when it is the error's source.  RFC 5508 §4.1: skip its IP
 * options, drop on a bad header checksum, do not check the transport
 * checksum (the payload is usually truncated).
 */
static enum prr_class prr_classify_quoted(const u8 *pkt, const u8 *in,
					  u32 inlen, enum prr_side side,
					  struct prr_key *key)
{
	u32 ihl, port_off = side == PRR_SIDE_DST ? 0 : 2;
	const u8 *l4;

	if (inlen < 20 || (in[0] >> 4) != 4)
		return PRR_CLASS_MALFORMED;
	ihl = (in[0] & 0x0f) * 4u;
	if (ihl < 20 || inlen < ihl + PRR_ICMP_QUOTED_L4 ||
	    prr_get_be16(in + 2) < ihl || !prr_csum_ok(in, ihl))
		return PRR_CLASS_MALFORMED;
	/* The quoted datagram must be one the shared address took part in. */
	if (side == PRR_SIDE_DST ? !prr_same_addr(in + 12, pkt + 16) :
				   !prr_same_addr(in + 16, pkt + 12))
		return PRR_CLASS_MALFORMED;
	if (prr_get_be16(in + 6) & PRR_IP_OFFSET)
		return PRR_CLASS_NO_PORT;
	l4 = in + ihl;
	if (in[9] == PRR_IPPROTO_ICMP) {
		/* Never an error about an error (RFC 1122 §3.2.2). */
		if (!prr_icmp_is_query(l4[0]))
			return PRR_CLASS_MALFORMED;
		key->port = prr_get_be16(l4 + 4);
		return PRR_CLASS_PORT;
	}
	if (!prr_l4_min_header(in[9]))
		return PRR_CLASS_NO_PORT;
	key->port = prr_get_be16(l4 + port_off);
	return PRR_CLASS_PORT;
}

static enum prr_class prr_classify_icmp(const u8 *pkt, u32 ihl, u32 tot_len,
					u32 avail, enum prr_side side,
					struct prr_key *key)
{
	const u8 *icmp = pkt + ihl;
	u32 quoted_len;

	if (tot_len - ihl < PRR_ICMP_HDR || avail < ihl + PRR_ICMP_HDR)
		return PRR_CLASS_MALFORMED;
	if (prr_icmp_is_query(icmp[0])) {
		key->port = prr_get_be16(icmp + 4);
		return PRR_CLASS_PORT;
	}
	if (!prr_icmp_is_error(icmp[0]))
		return PRR_CLASS_NO_PORT;
	quoted_len = tot_len - ihl - PRR_ICMP_HDR;
	if (quoted_len > avail - ihl - PRR_ICMP_HDR)
		quoted_len = avail - ihl - PRR_ICMP_HDR;
	key->icmp_off = (u16)ihl;
	return prr_classify_quoted(pkt, icmp + PRR_ICMP_HDR, quoted_len, side,
				   key);
}

/*
 * @pkt points to the IPv4 header, of which @avail bytes are readable (at
 * least min(@len, PRR_CLASSIFY_MAX)); @len is the length of the datagram.
 * The caller has validated the outer header checksum (ip_rcv() does).
 */
enum prr_class prr_classify(const u8 *pkt, u32 avail, u32 len,
			    enum prr_side side, struct prr_key *key)
{
	u32 ihl, tot_len, l4_min;

	key->port = 0;
	key->icmp_off = 0;
	if (avail < 20 || (pkt[0] >> 4) != 4)
		return PRR_CLASS_MALFORMED;
	ihl = (pkt[0] & 0x0f) * 4u;
	tot_len = prr_get_be16(pkt + 2);
	if (ihl < 20 || tot_len < ihl || tot_len > len)
		return PRR_CLASS_MALFORMED;
	if (prr_get_be16(pkt + 6) & (PRR_IP_MF | PRR_IP_OFFSET))
		return PRR_CLASS_NO_PORT;
	if (pkt[9] == PRR_IPPROTO_ICMP)
		return prr_classify_icmp(pkt, ihl, tot_len, avail, side, key);
	l4_min = prr_l4_min_header(pkt[9]);
	if (!l4_min)
		return PRR_CLASS_NO_PORT;
	if (tot_len - ihl < l4_min || avail < ihl + 4)
		return PRR_CLASS_MALFORMED;
	key->port = prr_get_be16(pkt + ihl + (side == PRR_SIDE_DST ? 2 : 0));
	return PRR_CLASS_PORT;
}
