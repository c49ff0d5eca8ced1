// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the packet classifier (kmod/classify.c), on both sides:
 * PRR_SIDE_DST (the shared address is the destination) and PRR_SIDE_SRC (it
 * is the source).
 *
 * - Hand-built datagrams of every kind the rules name: ported protocols, IP
 *   options, fragments, portless protocols, ICMP queries, ICMP errors and
 *   everything that makes the datagram an ICMP error quotes unusable.
 * - prr_csum_ok() against known vectors.
 * - A differential test against a reference model written from the rules
 *   alone (see model_classify()), over random datagrams.  The seed is fixed
 *   and printed; PRR_CLASSIFY_SEED and PRR_CLASSIFY_ITERS in the environment
 *   override it and the number of iterations.
 *
 * The classifier always gets a heap copy of exactly the bytes it may read, so
 * that ASan reports any read past them.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "classify.h"
#include "test_rng.h"

enum {
	ICMP = 1, TCP = 6, UDP = 17, DCCP = 33, GRE = 47, ESP = 50, AH = 51,
	SCTP = 132, UDPLITE = 136,
};

enum {
	ICMP_ECHOREPLY = 0, ICMP_UNREACH = 3, ICMP_QUENCH = 4,
	ICMP_REDIRECT = 5, ICMP_ECHO = 8, ICMP_ROUTERADVERT = 9,
	ICMP_ROUTERSOLICIT = 10, ICMP_TIMXCEED = 11, ICMP_PARAMPROB = 12,
	ICMP_TSTAMP = 13,
};

#define IP_DF		0x4000
#define IP_MF		0x2000

#define SHARED		0xc0000201u	/* 192.0.2.1, the shared address */
#define REMOTE		0xc6336407u	/* 198.51.100.7, a peer on the Internet */
#define ROUTER		0xcb007109u	/* 203.0.113.9, a router on the way */

#define PKT_MAX		1600

/* A datagram of @len bytes (its IP total length unless a test changes it). */
struct pkt {
	u8 b[PKT_MAX];
	u32 len;
};

static const u8 ported[] = { TCP, UDP, UDPLITE, SCTP, DCCP };
static const u8 icmp_errors[] = {
	ICMP_UNREACH, ICMP_QUENCH, ICMP_TIMXCEED, ICMP_PARAMPROB,
};

static const enum prr_side sides[] = { PRR_SIDE_DST, PRR_SIDE_SRC };

static const char *side_name(enum prr_side side)
{
	return side == PRR_SIDE_DST ? "dst" : "src";
}

static void put16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(u8 *p, u32 v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static u16 get16(const u8 *p)
{
	return p[0] << 8 | p[1];
}

/* Internet checksum of @len bytes, to fill the checksum fields we build. */
static u16 csum_of(const u8 *p, u32 len)
{
	u32 sum = 0, i;

	for (i = 0; i < len; i++)
		sum += i & 1 ? p[i] : p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Smallest header of a protocol with ports (rules: UDP 8, TCP 20, ...). */
static u32 min_header(u8 proto)
{
	switch (proto) {
	case TCP:
		return 20;
	case UDP:
	case UDPLITE:
		return 8;
	case SCTP:
	case DCCP:
		return 12;
	}
	return 0;
}

/*
 * An IPv4 header of @ihl words at @p, options all NOPs, valid checksum.
 * Returns where the payload starts (20 for an invalid IHL below 5).
 */
static u32 ip_header(u8 *p, u8 ihl, u16 tot_len, u16 frag, u8 proto,
		     u32 src, u32 dst)
{
	u32 hlen = ihl < 5 ? 20 : ihl * 4u;

	memset(p, 0, 20);
	memset(p + 20, 1, hlen - 20);
	p[0] = 0x40 | ihl;
	put16(p + 2, tot_len);
	put16(p + 4, 0x1234);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	put32(p + 12, src);
	put32(p + 16, dst);
	put16(p + 10, csum_of(p, hlen));
	return hlen;
}

/*
 * REMOTE:@sport -> SHARED:@dport over @proto, @l4len bytes of transport
 * header and payload (ports first, as far as they fit), a header of @ihl
 * words.
 */
static void mk_ported(struct pkt *k, u8 ihl, u8 proto, u16 frag, u32 l4len,
		      u16 sport, u16 dport)
{
	u32 hlen = ihl < 5 ? 20 : ihl * 4u;
	u8 ports[4];

	memset(k->b, 0, sizeof(k->b));
	k->len = hlen + l4len;
	ip_header(k->b, ihl, k->len, frag, proto, REMOTE, SHARED);
	put16(ports, sport);
	put16(ports + 2, dport);
	memcpy(k->b + hlen, ports, l4len < 4 ? l4len : 4);
}

/* Fills the ICMP checksum of the datagram in @k, whose header is @hlen. */
static void icmp_checksum(struct pkt *k, u32 hlen)
{
	put16(k->b + hlen + 2, 0);
	put16(k->b + hlen + 2, csum_of(k->b + hlen, k->len - hlen));
}

/*
 * An ICMP message of @type REMOTE -> SHARED with @ihl words of IP header and
 * @icmplen bytes of ICMP (type, code, checksum, Identifier, sequence and a
 * payload, as far as they fit).
 */
static void mk_icmp(struct pkt *k, u8 ihl, u8 type, u32 icmplen, u16 id)
{
	u32 hlen = ihl * 4u, i;
	u8 hdr[8] = { type, 0, 0, 0, 0, 0, 0, 1 };

	memset(k->b, 0, sizeof(k->b));
	k->len = hlen + icmplen;
	ip_header(k->b, ihl, k->len, 0, ICMP, REMOTE, SHARED);
	put16(hdr + 4, id);
	for (i = 0; i < icmplen; i++)
		k->b[hlen + i] = i < 8 ? hdr[i] : (u8)i;
	if (icmplen >= 4)
		icmp_checksum(k, hlen);
}

/* The datagram an ICMP error quotes. */
struct quote {
	u8 ihl;		/* header words */
	u8 version;
	u8 proto;
	u16 frag;
	u32 src, dst;
	u8 l4[16];	/* the start of its transport header */
	u32 l4len;	/* how much of it is quoted */
	u16 tot_len;	/* its total length: it was longer than the quote */
	bool bad_csum;
};

static struct quote quote_ports(u8 proto, u32 src, u16 sport, u32 dst,
				u16 dport)
{
	struct quote q = {
		.ihl = 5, .version = 4, .proto = proto, .src = src,
		.dst = dst, .l4len = 8, .tot_len = 1200,
	};

	put16(q.l4, sport);
	put16(q.l4 + 2, dport);
	put32(q.l4 + 4, 0xa5a5a5a5);
	return q;
}

/* A quoted ICMP message of @type with Identifier @id. */
static struct quote quote_icmp(u8 type, u32 src, u32 dst, u16 id)
{
	struct quote q = {
		.ihl = 5, .version = 4, .proto = ICMP, .src = src, .dst = dst,
		.l4len = 8, .tot_len = 84,
	};

	q.l4[0] = type;
	put16(q.l4 + 4, id);
	put16(q.l4 + 6, 7);
	return q;
}

/*
 * What REMOTE's ICMP error to SHARED quotes: @proto from SHARED:40000 to
 * REMOTE:0x0413, or an echo from SHARED to REMOTE with Identifier 0x7788.
 * Both sides match: the quoted source is the outer destination and the
 * quoted destination the outer source.
 */
static struct quote quote_of(u8 proto)
{
	if (proto == ICMP)
		return quote_icmp(ICMP_ECHO, SHARED, REMOTE, 0x7788);
	return quote_ports(proto, SHARED, 40000, REMOTE, 0x0413);
}

/*
 * An ICMP error of @type @src -> @dst with an outer header of @ihl words,
 * quoting the header of @q and q->l4len bytes of its transport header, with
 * a valid ICMP checksum.
 */
static void mk_icmp_error(struct pkt *k, u8 ihl, u8 type, u32 src, u32 dst,
			  const struct quote *q)
{
	u32 hlen = ihl * 4u, qhlen = q->ihl < 5 ? 20 : q->ihl * 4u;
	u8 *in = k->b + hlen + 8;

	memset(k->b, 0, sizeof(k->b));
	k->len = hlen + 8 + qhlen + q->l4len;
	ip_header(k->b, ihl, k->len, 0, ICMP, src, dst);
	k->b[hlen] = type;
	k->b[hlen + 1] = type == ICMP_UNREACH ? 3 : 0;
	ip_header(in, q->ihl, q->tot_len, q->frag, q->proto, q->src, q->dst);
	in[0] = q->version << 4 | q->ihl;
	put16(in + 10, 0);
	put16(in + 10, csum_of(in, qhlen));
	if (q->bad_csum)
		in[10] ^= 0x01;
	memcpy(in + qhlen, q->l4, q->l4len);
	icmp_checksum(k, hlen);
}

/*
 * prr_classify() on a heap copy of the first @avail bytes of @k.  Returns an
 * int, to compare with the enumerators' type.
 */
static int classify_avail(const struct pkt *k, u32 avail, u32 len,
			  enum prr_side side, struct prr_key *key)
{
	u8 *copy = malloc(avail);
	int cls;

	if (!copy && avail)
		abort();
	memcpy(copy, k->b, avail);
	key->port = 0xdead;
	key->icmp_off = 0xbeef;
	cls = prr_classify(copy, avail, len, side, key);
	free(copy);
	return cls;
}

/* With the bytes the caller must make readable: min(len, MAX). */
static u32 min_avail(u32 len)
{
	return len < PRR_CLASSIFY_MAX ? len : PRR_CLASSIFY_MAX;
}

static int classify(const struct pkt *k, enum prr_side side,
		    struct prr_key *key)
{
	return classify_avail(k, min_avail(k->len), k->len, side, key);
}

/*
 * Expects class @cls on @side and, for a port, that port and ICMP offset;
 * without one, a zero port.  @what names the case in failure messages.
 */
static void expect(struct __test_metadata *_metadata, const struct pkt *k,
		   enum prr_side side, int cls, u16 port, u16 icmp_off,
		   const char *what)
{
	struct prr_key key;
	int got = classify(k, side, &key);

	EXPECT_EQ(cls, got)
		TH_LOG("%s, side %s", what, side_name(side));
	if (got != PRR_CLASS_PORT) {
		EXPECT_EQ(0, key.port)
			TH_LOG("%s, side %s", what, side_name(side));
		return;
	}
	if (cls != PRR_CLASS_PORT)
		return;
	EXPECT_EQ(port, key.port)
		TH_LOG("%s, side %s", what, side_name(side));
	EXPECT_EQ(icmp_off, key.icmp_off)
		TH_LOG("%s, side %s", what, side_name(side));
}

/* The same class on both sides, for a datagram without a port. */
static void expect_both(struct __test_metadata *_metadata,
			const struct pkt *k, int cls, const char *what)
{
	expect(_metadata, k, PRR_SIDE_DST, cls, 0, 0, what);
	expect(_metadata, k, PRR_SIDE_SRC, cls, 0, 0, what);
}

TEST(ported_protocols_give_the_port_of_the_side)
{
	struct pkt k;
	char what[64];
	u32 i, hdr;

	for (i = 0; i < sizeof(ported); i++) {
		hdr = min_header(ported[i]);
		snprintf(what, sizeof(what), "proto %u", ported[i]);
		mk_ported(&k, 5, ported[i], 0, hdr, 40000, 0x0413);
		expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, 0x0413, 0,
		       what);
		expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_PORT, 40000, 0,
		       what);
		/* A long payload changes nothing. */
		mk_ported(&k, 5, ported[i], IP_DF, 1400, 40000, 0x0413);
		expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, 0x0413, 0,
		       what);
		expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_PORT, 40000, 0,
		       what);
		/* One byte short of the smallest header: malformed. */
		mk_ported(&k, 5, ported[i], 0, hdr - 1, 40000, 0x0413);
		expect_both(_metadata, &k, PRR_CLASS_MALFORMED, what);
		mk_ported(&k, 5, ported[i], 0, 0, 40000, 0x0413);
		expect_both(_metadata, &k, PRR_CLASS_MALFORMED, what);
	}
}

TEST(ip_options_are_skipped)
{
	struct pkt k;

	mk_ported(&k, 15, UDP, 0, 8, 1, 65535);
	expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, 65535, 0, "UDP");
	expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_PORT, 1, 0, "UDP");
	mk_ported(&k, 6, TCP, IP_DF, 20, 0, 7);
	expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, 7, 0, "TCP");
	expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_PORT, 0, 0, "TCP");
	/* The smallest header counts from the end of the options. */
	mk_ported(&k, 15, TCP, 0, 19, 1, 2);
	expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "TCP");
	mk_ported(&k, 10, SCTP, 0, 12, 5000, 36412);
	expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, 36412, 0, "SCTP");
	expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_PORT, 5000, 0, "SCTP");
}

TEST(fragments_and_portless_protocols_have_no_port)
{
	const u8 portless[] = { GRE, ESP, AH, 0, 4, 41, 255 };
	struct pkt k;
	u32 i;

	for (i = 0; i < sizeof(ported); i++) {
		mk_ported(&k, 5, ported[i], IP_MF, 100, 1, 2);
		expect_both(_metadata, &k, PRR_CLASS_NO_PORT, "first fragment");
		mk_ported(&k, 5, ported[i], 0x0010, 100, 1, 2);
		expect_both(_metadata, &k, PRR_CLASS_NO_PORT, "offset 128");
		mk_ported(&k, 5, ported[i], IP_MF | 0x1fff, 100, 1, 2);
		expect_both(_metadata, &k, PRR_CLASS_NO_PORT, "last offset");
		/* A fragment too short for a header is still a fragment. */
		mk_ported(&k, 5, ported[i], 0x0001, 0, 1, 2);
		expect_both(_metadata, &k, PRR_CLASS_NO_PORT, "empty fragment");
	}
	for (i = 0; i < sizeof(portless); i++) {
		mk_ported(&k, 5, portless[i], 0, 100, 1, 2);
		expect_both(_metadata, &k, PRR_CLASS_NO_PORT, "portless");
		mk_ported(&k, 5, portless[i], 0, 0, 1, 2);
		expect_both(_metadata, &k, PRR_CLASS_NO_PORT, "empty portless");
	}
	/* ICMP fragments, queries and errors alike. */
	mk_icmp(&k, 5, ICMP_ECHO, 64, 9);
	put16(k.b + 6, IP_MF);
	expect_both(_metadata, &k, PRR_CLASS_NO_PORT, "echo fragment");
	mk_icmp(&k, 5, ICMP_UNREACH, 8, 9);
	put16(k.b + 6, 0x00ff);
	expect_both(_metadata, &k, PRR_CLASS_NO_PORT, "unreach fragment");
}

TEST(bad_ip_headers_are_malformed)
{
	struct prr_key key;
	struct pkt k;
	u8 ihl;

	for (ihl = 0; ihl < 5; ihl++) {
		mk_ported(&k, ihl, UDP, 0, 8, 1, 2);
		expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "IHL below 5");
	}
	mk_ported(&k, 5, UDP, 0, 8, 1, 2);
	k.b[0] = 0x65;
	expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "version 6");
	k.b[0] = 0x05;
	expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "version 0");
	/* The total length says more than the datagram has. */
	mk_ported(&k, 5, UDP, 0, 8, 1, 2);
	EXPECT_EQ(PRR_CLASS_MALFORMED,
		  classify_avail(&k, 27, 27, PRR_SIDE_DST, &key));
	EXPECT_EQ(PRR_CLASS_MALFORMED,
		  classify_avail(&k, 27, 27, PRR_SIDE_SRC, &key));
	/* ... or less than its own header (options past the end). */
	mk_ported(&k, 15, UDP, 0, 8, 1, 2);
	put16(k.b + 2, 40);
	expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "options past end");
	put16(k.b + 2, 0);
	expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "total length 0");
	/* Less than a header at all. */
	mk_ported(&k, 5, UDP, 0, 8, 1, 2);
	EXPECT_EQ(PRR_CLASS_MALFORMED,
		  classify_avail(&k, 19, 19, PRR_SIDE_DST, &key));
	EXPECT_EQ(PRR_CLASS_MALFORMED,
		  classify_avail(&k, 0, 0, PRR_SIDE_SRC, &key));
}

TEST(padding_after_the_datagram_is_ignored)
{
	struct quote qt;
	struct pkt k;

	/* Ethernet pads a 28-byte datagram to 46 bytes. */
	mk_ported(&k, 5, UDP, 0, 8, 53, 1024);
	k.len = 46;
	memset(k.b + 28, 0xee, 18);
	expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, 1024, 0, "pad");
	expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_PORT, 53, 0, "pad");
	/* Padding never completes a header the total length cuts short. */
	mk_ported(&k, 5, TCP, 0, 19, 1, 2);
	k.len = 60;
	expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "padded short TCP");
	mk_icmp(&k, 5, ICMP_ECHO, 7, 9);
	k.len = 46;
	expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "padded short ICMP");
	/* ... nor a quoted one. */
	qt = quote_of(UDP);
	qt.l4len = 16;
	mk_icmp_error(&k, 5, ICMP_UNREACH, REMOTE, SHARED, &qt);
	put16(k.b + 2, 20 + 8 + 20 + 7);
	expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "padded short quote");
}

TEST(icmp_queries_give_the_identifier)
{
	const u8 types[] = { 0, 8, 13, 14, 15, 16, 17, 18 };
	struct pkt k;
	char what[64];
	u32 i;
	u8 ihl;

	for (i = 0; i < sizeof(types); i++) {
		for (ihl = 5; ihl <= 15; ihl += 5) {
			snprintf(what, sizeof(what), "type %u ihl %u",
				 types[i], ihl);
			mk_icmp(&k, ihl, types[i], 8, 0x4242);
			expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT,
			       0x4242, 0, what);
			expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_PORT,
			       0x4242, 0, what);
			mk_icmp(&k, ihl, types[i], 1000, 0);
			expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT,
			       0, 0, what);
			expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_PORT,
			       0, 0, what);
		}
	}
}

TEST(other_icmp_types_have_no_port)
{
	const u8 types[] = {
		ICMP_REDIRECT, ICMP_ROUTERADVERT, ICMP_ROUTERSOLICIT,
		1, 2, 6, 7, 19, 30, 37, 40, 42, 43, 253, 255,
	};
	struct pkt k;
	char what[64];
	u32 i;

	for (i = 0; i < sizeof(types); i++) {
		snprintf(what, sizeof(what), "type %u", types[i]);
		mk_icmp(&k, 5, types[i], 8, 0x4242);
		expect_both(_metadata, &k, PRR_CLASS_NO_PORT, what);
		mk_icmp(&k, 6, types[i], 36, 0x4242);
		expect_both(_metadata, &k, PRR_CLASS_NO_PORT, what);
	}
	/* A redirect quotes a datagram too, but carries no port. */
	mk_icmp(&k, 5, ICMP_REDIRECT, 36, 0);
	memcpy(k.b + 28, k.b, 20);
	put16(k.b + 48, 1);
	put16(k.b + 50, 2);
	icmp_checksum(&k, 20);
	expect_both(_metadata, &k, PRR_CLASS_NO_PORT, "redirect with quote");
}

TEST(icmp_shorter_than_8_bytes_is_malformed)
{
	const u8 types[] = {
		ICMP_ECHO, ICMP_ECHOREPLY, ICMP_TSTAMP, ICMP_UNREACH,
		ICMP_TIMXCEED, ICMP_REDIRECT, 99,
	};
	struct pkt k;
	char what[64];
	u32 i, n;

	for (i = 0; i < sizeof(types); i++) {
		for (n = 0; n < 8; n++) {
			snprintf(what, sizeof(what), "type %u, %u bytes",
				 types[i], n);
			mk_icmp(&k, 5, types[i], n, 1);
			expect_both(_metadata, &k, PRR_CLASS_MALFORMED, what);
			mk_icmp(&k, 15, types[i], n, 1);
			expect_both(_metadata, &k, PRR_CLASS_MALFORMED, what);
		}
	}
}

/*
 * An error of @type about a datagram of @proto, outer and quoted headers of
 * @ihl and @qihl words: the quoted port of each side, then the same with
 * more of the quoted datagram, then malformed with 7 bytes of its transport
 * header.
 */
static void check_icmp_error(struct __test_metadata *_metadata, u8 type,
			     u8 proto, u8 ihl, u8 qihl)
{
	/* The quoted source port, or the Identifier. */
	u16 dst_side = proto == ICMP ? 0x7788 : 40000;
	/* The quoted destination port, or the Identifier. */
	u16 src_side = proto == ICMP ? 0x7788 : 0x0413;
	struct quote qt = quote_of(proto);
	u32 off = ihl * 4u, l4len;
	struct pkt k;
	char what[96];

	snprintf(what, sizeof(what),
		 "type %u quoting proto %u, ihl %u, quoted ihl %u",
		 type, proto, ihl, qihl);
	qt.ihl = qihl;
	for (l4len = 8; l4len <= 16; l4len += 8) {
		qt.l4len = l4len;
		mk_icmp_error(&k, ihl, type, REMOTE, SHARED, &qt);
		/* The caller checks the ICMP checksum at icmp_off. */
		EXPECT_TRUE(prr_csum_ok(k.b + off, k.len - off))
			TH_LOG("%s", what);
		expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, dst_side,
		       off, what);
		expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_PORT, src_side,
		       off, what);
	}
	qt.l4len = 7;
	mk_icmp_error(&k, ihl, type, REMOTE, SHARED, &qt);
	expect_both(_metadata, &k, PRR_CLASS_MALFORMED, what);
}

TEST(icmp_errors_give_the_quoted_port_of_the_side)
{
	const u8 protos[] = { UDP, TCP, SCTP, DCCP, UDPLITE, ICMP };
	const u8 ihls[] = { 5, 6, 7, 15 };
	u32 t, p, o, q;

	for (t = 0; t < sizeof(icmp_errors); t++)
		for (p = 0; p < sizeof(protos); p++)
			for (o = 0; o < sizeof(ihls); o++)
				for (q = 0; q < sizeof(ihls); q++)
					check_icmp_error(_metadata,
							 icmp_errors[t],
							 protos[p], ihls[o],
							 ihls[q]);
}

TEST(quoted_icmp_queries_give_their_identifier)
{
	const u8 types[] = { 0, 8, 13, 14, 15, 16, 17, 18 };
	struct quote qt;
	struct pkt k;
	char what[64];
	u32 i;

	for (i = 0; i < sizeof(types); i++) {
		snprintf(what, sizeof(what), "quoted type %u", types[i]);
		qt = quote_icmp(types[i], SHARED, REMOTE, 0xfffe);
		mk_icmp_error(&k, 5, ICMP_UNREACH, REMOTE, SHARED, &qt);
		expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, 0xfffe, 20,
		       what);
		expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_PORT, 0xfffe, 20,
		       what);
	}
}

TEST(an_icmp_error_about_an_icmp_error_is_malformed)
{
	const u8 types[] = {
		ICMP_UNREACH, ICMP_QUENCH, ICMP_REDIRECT, ICMP_TIMXCEED,
		ICMP_PARAMPROB, ICMP_ROUTERADVERT, 99,
	};
	struct quote qt;
	struct pkt k;
	char what[64];
	u32 i;

	for (i = 0; i < sizeof(types); i++) {
		snprintf(what, sizeof(what), "quoted type %u", types[i]);
		qt = quote_icmp(types[i], SHARED, REMOTE, 1);
		mk_icmp_error(&k, 5, ICMP_TIMXCEED, REMOTE, SHARED, &qt);
		expect_both(_metadata, &k, PRR_CLASS_MALFORMED, what);
	}
}

TEST(quoted_header_checksum_must_be_valid)
{
	struct quote qt = quote_of(UDP);
	struct pkt k;

	qt.bad_csum = true;
	mk_icmp_error(&k, 5, ICMP_UNREACH, REMOTE, SHARED, &qt);
	expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "bad checksum");
	/* The options count: a changed option byte. */
	qt = quote_of(TCP);
	qt.ihl = 8;
	mk_icmp_error(&k, 5, ICMP_UNREACH, REMOTE, SHARED, &qt);
	k.b[28 + 30] = 0;
	icmp_checksum(&k, 20);
	expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "changed option");
	/*
	 * A header whose other words sum to 0xffff: both 0x0000 and 0xffff
	 * (+0 and -0) are right checksums.
	 */
	qt = quote_of(UDP);
	mk_icmp_error(&k, 5, ICMP_UNREACH, REMOTE, SHARED, &qt);
	put16(k.b + 28 + 4, 0);
	put16(k.b + 28 + 10, 0);
	put16(k.b + 28 + 4, csum_of(k.b + 28, 20));
	icmp_checksum(&k, 20);
	expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, 40000, 20, "+0");
	put16(k.b + 28 + 10, 0xffff);
	icmp_checksum(&k, 20);
	expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, 40000, 20, "-0");
}

TEST(quoted_addresses_must_match_the_side)
{
	struct quote qt = quote_of(UDP);
	struct pkt k;
	u32 i;

	/* A router's error: only the destination side matches. */
	mk_icmp_error(&k, 5, ICMP_TIMXCEED, ROUTER, SHARED, &qt);
	expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, 40000, 20,
	       "router to shared");
	expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_MALFORMED, 0, 0,
	       "router to shared");
	/*
	 * A CPE's error about what REMOTE sent it: the quoted destination is
	 * the outer source, the shared address.
	 */
	qt = quote_ports(UDP, REMOTE, 53, SHARED, 1024);
	mk_icmp_error(&k, 5, ICMP_UNREACH, SHARED, ROUTER, &qt);
	expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_PORT, 1024, 20,
	       "shared to router");
	expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_MALFORMED, 0, 0,
	       "shared to router");
	mk_icmp_error(&k, 5, ICMP_UNREACH, SHARED, REMOTE, &qt);
	expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_PORT, 1024, 20,
	       "shared to remote");
	expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, 53, 20,
	       "shared to remote");
	/* One different byte anywhere in the address is enough. */
	for (i = 0; i < 4; i++) {
		qt = quote_of(TCP);
		qt.src ^= 1u << (8 * i);
		mk_icmp_error(&k, 5, ICMP_UNREACH, REMOTE, SHARED, &qt);
		expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_MALFORMED, 0, 0,
		       "quoted source");
		expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_PORT, 0x0413, 20,
		       "quoted source");
		qt = quote_of(TCP);
		qt.dst ^= 0x80u << (8 * i);
		mk_icmp_error(&k, 5, ICMP_UNREACH, REMOTE, SHARED, &qt);
		expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, 40000, 20,
		       "quoted destination");
		expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_MALFORMED, 0, 0,
		       "quoted destination");
	}
	/* Swapped addresses match neither side. */
	qt = quote_ports(UDP, REMOTE, 1, SHARED, 2);
	mk_icmp_error(&k, 5, ICMP_UNREACH, ROUTER, SHARED, &qt);
	expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "swapped");
}

TEST(quoted_fragments_and_portless_protocols)
{
	const u8 portless[] = { GRE, ESP, AH, 41 };
	struct quote qt;
	struct pkt k;
	u32 i;

	qt = quote_of(UDP);
	qt.frag = 0x0001;
	mk_icmp_error(&k, 5, ICMP_UNREACH, REMOTE, SHARED, &qt);
	expect_both(_metadata, &k, PRR_CLASS_NO_PORT, "offset 8");
	qt.frag = IP_MF | 0x1fff;
	mk_icmp_error(&k, 5, ICMP_TIMXCEED, REMOTE, SHARED, &qt);
	expect_both(_metadata, &k, PRR_CLASS_NO_PORT, "MF, last offset");
	/* A first fragment holds the transport header. */
	qt.frag = IP_MF | IP_DF;
	mk_icmp_error(&k, 5, ICMP_TIMXCEED, REMOTE, SHARED, &qt);
	expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, 40000, 20,
	       "first fragment");
	expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_PORT, 0x0413, 20,
	       "first fragment");
	for (i = 0; i < sizeof(portless); i++) {
		qt = quote_of(UDP);
		qt.proto = portless[i];
		mk_icmp_error(&k, 6, ICMP_UNREACH, REMOTE, SHARED, &qt);
		expect_both(_metadata, &k, PRR_CLASS_NO_PORT, "portless");
	}
	/* Rules apply in order: a fragment must still be the side's own. */
	qt = quote_of(UDP);
	qt.frag = 0x0001;
	mk_icmp_error(&k, 5, ICMP_UNREACH, ROUTER, SHARED, &qt);
	expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_NO_PORT, 0, 0,
	       "fragment, router");
	expect(_metadata, &k, PRR_SIDE_SRC, PRR_CLASS_MALFORMED, 0, 0,
	       "fragment, router");
}

TEST(quoted_bad_version_or_ihl_is_malformed)
{
	const u8 versions[] = { 0, 5, 6, 15 };
	struct quote qt;
	struct pkt k;
	u32 i;

	for (i = 0; i < sizeof(versions); i++) {
		qt = quote_of(UDP);
		qt.version = versions[i];
		mk_icmp_error(&k, 5, ICMP_UNREACH, REMOTE, SHARED, &qt);
		expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "version");
	}
	for (i = 0; i < 5; i++) {
		qt = quote_of(UDP);
		qt.ihl = i;
		mk_icmp_error(&k, 5, ICMP_UNREACH, REMOTE, SHARED, &qt);
		expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "IHL");
	}
	/* Quoted options that run past the quote. */
	qt = quote_of(UDP);
	qt.ihl = 15;
	qt.l4len = 0;
	mk_icmp_error(&k, 5, ICMP_UNREACH, REMOTE, SHARED, &qt);
	expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "options past end");
	/*
	 * A quoted total length below its own header is inconsistent, as it
	 * is in the outer header (the classifier's choice: the rules do not
	 * name it).
	 */
	qt = quote_of(UDP);
	qt.tot_len = 19;
	mk_icmp_error(&k, 5, ICMP_UNREACH, REMOTE, SHARED, &qt);
	expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "total length 19");
	qt.tot_len = 20;
	mk_icmp_error(&k, 5, ICMP_UNREACH, REMOTE, SHARED, &qt);
	expect(_metadata, &k, PRR_SIDE_DST, PRR_CLASS_PORT, 40000, 20,
	       "total length 20");
	/* Not even a quoted header. */
	qt = quote_of(UDP);
	mk_icmp_error(&k, 5, ICMP_UNREACH, REMOTE, SHARED, &qt);
	for (i = 28; i < 28 + 20; i++) {
		put16(k.b + 2, i);
		k.len = i;
		expect_both(_metadata, &k, PRR_CLASS_MALFORMED, "short quote");
	}
}

/* Whatever the truncation, the answer comes from the first MAX bytes. */
TEST(the_answer_does_not_depend_on_more_readable_bytes)
{
	struct prr_key key, more;
	struct quote qt = quote_of(TCP);
	struct pkt k;
	u32 s, avail;
	int cls;

	qt.ihl = 15;
	qt.l4len = 16;
	mk_icmp_error(&k, 15, ICMP_UNREACH, REMOTE, SHARED, &qt);
	k.len += 200;
	put16(k.b + 2, k.len);
	icmp_checksum(&k, 60);
	for (s = 0; s < 2; s++) {
		cls = classify(&k, sides[s], &key);
		EXPECT_EQ(PRR_CLASS_PORT, cls);
		for (avail = min_avail(k.len); avail <= k.len; avail++) {
			EXPECT_EQ(cls, classify_avail(&k, avail, k.len,
						      sides[s], &more));
			EXPECT_EQ(key.port, more.port);
			EXPECT_EQ(key.icmp_off, more.icmp_off);
		}
	}
}

/* Every prefix of every shape: never a read past @avail. */
TEST(truncations_never_read_out_of_bounds)
{
	const u8 protos[] = { TCP, UDP, UDPLITE, SCTP, DCCP, GRE, ICMP };
	struct prr_key key;
	struct quote qt;
	struct pkt k;
	u32 i, n, avail, s;
	u8 ihl;

	for (i = 0; i < sizeof(protos) + 3; i++) {
		for (ihl = 5; ihl <= 15; ihl += 5) {
			if (i < sizeof(protos)) {
				mk_ported(&k, ihl, protos[i], 0, 128, 7, 9);
			} else {
				qt = quote_of(i == sizeof(protos) ? UDP : ICMP);
				qt.ihl = i == sizeof(protos) + 2 ? 15 : 5;
				mk_icmp_error(&k, ihl, ICMP_UNREACH, REMOTE,
					      SHARED, &qt);
			}
			n = k.len;
			for (avail = 0; avail <= n; avail++) {
				for (s = 0; s < 2; s++) {
					classify_avail(&k, avail, n, sides[s],
						       &key);
					classify_avail(&k, avail, avail,
						       sides[s], &key);
				}
			}
		}
	}
}

TEST(csum_rfc1071_and_ipv4_vectors)
{
	/* RFC 1071 §3: the sum of these 4 words is 0xddf2. */
	u8 rfc1071[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7,
			 0x22, 0x0d };
	/* A textbook header 192.168.0.1 -> 192.168.0.199, checksum 0xb861. */
	u8 ip[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
		    0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
		    0xc0, 0xa8, 0x00, 0xc7 };
	u8 swapped[sizeof(ip)];
	u32 i, bit;

	EXPECT_TRUE(prr_csum_ok(rfc1071, sizeof(rfc1071)));
	EXPECT_FALSE(prr_csum_ok(rfc1071, 8));
	EXPECT_TRUE(prr_csum_ok(ip, sizeof(ip)));
	/* The builder's checksum agrees (the field zeroed). */
	ip[10] = 0;
	ip[11] = 0;
	EXPECT_EQ(0xb861, csum_of(ip, sizeof(ip)));
	EXPECT_FALSE(prr_csum_ok(ip, sizeof(ip)));
	put16(ip + 10, 0xb861);
	/* Any single flipped bit breaks it. */
	for (i = 0; i < sizeof(ip); i++) {
		for (bit = 0; bit < 8; bit++) {
			ip[i] ^= 1u << bit;
			EXPECT_FALSE(prr_csum_ok(ip, sizeof(ip)))
				TH_LOG("byte %u bit %u", i, bit);
			ip[i] ^= 1u << bit;
		}
	}
	/* Words may be swapped, the bytes of a word may not. */
	memcpy(swapped, ip, sizeof(ip));
	memcpy(swapped, ip + 12, 4);
	memcpy(swapped + 12, ip, 4);
	EXPECT_TRUE(prr_csum_ok(swapped, sizeof(swapped)));
	memcpy(swapped, ip, sizeof(ip));
	swapped[0] = ip[1];
	swapped[1] = ip[0];
	EXPECT_FALSE(prr_csum_ok(swapped, sizeof(swapped)));
}

TEST(csum_odd_lengths_pad_with_a_zero_byte)
{
	/* 0xa9ff + 0x5600 = 0xffff: the odd byte is the high byte. */
	const u8 odd[] = { 0xa9, 0xff, 0x56 };
	/* 0xffa9 + 0x0056 would be 0xffff, 0xffa9 + 0x5600 is not. */
	const u8 low[] = { 0xff, 0xa9, 0x56 };
	const u8 one[] = { 0xff };
	const u8 carry[] = { 0x80, 0x00, 0x80, 0x00, 0xff, 0xfe };

	EXPECT_TRUE(prr_csum_ok(odd, sizeof(odd)));
	EXPECT_FALSE(prr_csum_ok(low, sizeof(low)));
	EXPECT_FALSE(prr_csum_ok(one, 1));
	EXPECT_FALSE(prr_csum_ok(odd, 2));
	/* 0x8000 + 0x8000 carries into 1, then 1 + 0xfffe = 0xffff. */
	EXPECT_TRUE(prr_csum_ok(carry, sizeof(carry)));
	EXPECT_FALSE(prr_csum_ok(carry, 4));
}

TEST(csum_all_zero_and_all_ones)
{
	u8 buf[1501];
	u32 n;

	memset(buf, 0, sizeof(buf));
	/* A sum of +0 is not -0: nothing all-zero is valid. */
	for (n = 0; n <= 64; n++)
		EXPECT_FALSE(prr_csum_ok(buf, n)) TH_LOG("%u zero bytes", n);
	EXPECT_FALSE(prr_csum_ok(buf, sizeof(buf)));
	memset(buf, 0xff, sizeof(buf));
	for (n = 2; n <= 64; n += 2)
		EXPECT_TRUE(prr_csum_ok(buf, n)) TH_LOG("%u 0xff bytes", n);
	EXPECT_TRUE(prr_csum_ok(buf, 1500));
	/* 0xff00 on top of -0 is not -0. */
	EXPECT_FALSE(prr_csum_ok(buf, 1501));
}

/* ---- Reference model ---------------------------------------------------- */

/*
 * A one's complement sum of 16-bit words is -0 (0xffff) exactly when the
 * plain sum is a non-zero multiple of 0xffff.
 */
static bool model_csum_ok(const u8 *p, u32 len)
{
	u64 sum = 0;
	u32 i;

	for (i = 0; i < len; i += 2)
		sum += 256u * p[i] + (i + 1 < len ? p[i + 1] : 0);
	return sum != 0 && sum % 0xffff == 0;
}

static bool model_icmp_query(u8 type)
{
	return type == 0 || type == 8 || (type >= 13 && type <= 18);
}

static bool model_icmp_error(u8 type)
{
	return type == 3 || type == 4 || type == 11 || type == 12;
}

/*
 * The rules, in order (len >= total length, the whole datagram readable):
 *  1. fewer than 20 bytes, version != 4, IHL < 5, total length below the
 *     header or above len: MALFORMED;
 *  2. MF or a fragment offset: NO_PORT;
 *  3. TCP, UDP, UDP-Lite, SCTP, DCCP: MALFORMED when the total length
 *     leaves less than 20, 8, 8, 12, 12 bytes after the header, else the
 *     destination port (DST) or the source port (SRC);
 *  4. other protocols than ICMP: NO_PORT;
 *  5. ICMP shorter than 8 bytes: MALFORMED; a query (0, 8, 13-18): its
 *     Identifier on both sides; not an error (3, 4, 11, 12): NO_PORT;
 *  6. an error, icmp_off = the outer header length, quoting the rest of the
 *     datagram: MALFORMED unless it holds a version 4 header of IHL >= 5
 *     with a total length no less than that header, then 8 bytes more, and
 *     the header checksum is valid;
 *  7. MALFORMED unless the quoted source is the outer destination (DST) or
 *     the quoted destination the outer source (SRC);
 *  8. a quoted fragment offset: NO_PORT;
 *  9. quoted ICMP: a query's Identifier, else MALFORMED (an error about an
 *     error);
 * 10. quoted TCP, UDP, UDP-Lite, SCTP, DCCP: the quoted source port (DST)
 *     or destination port (SRC); anything else: NO_PORT.
 * The quoted total length check of step 6 is not among the rules
 * but is what "inconsistent" means for the outer header too.
 */
static int model_classify(const u8 *p, u32 len, enum prr_side side,
			  struct prr_key *key)
{
	u32 ihl, tot_len, qihl, quoted;
	const u8 *icmp, *in, *l4;
	bool dst = side == PRR_SIDE_DST;

	key->port = 0;
	key->icmp_off = 0;
	if (len < 20 || p[0] >> 4 != 4)
		return PRR_CLASS_MALFORMED;
	ihl = (p[0] & 15) * 4;
	tot_len = get16(p + 2);
	if (ihl < 20 || tot_len < ihl || tot_len > len)
		return PRR_CLASS_MALFORMED;
	if (get16(p + 6) & 0x3fff)
		return PRR_CLASS_NO_PORT;
	if (p[9] != ICMP) {
		if (!min_header(p[9]))
			return PRR_CLASS_NO_PORT;
		if (tot_len - ihl < min_header(p[9]))
			return PRR_CLASS_MALFORMED;
		key->port = get16(p + ihl + (dst ? 2 : 0));
		return PRR_CLASS_PORT;
	}
	if (tot_len - ihl < 8)
		return PRR_CLASS_MALFORMED;
	icmp = p + ihl;
	if (model_icmp_query(icmp[0])) {
		key->port = get16(icmp + 4);
		return PRR_CLASS_PORT;
	}
	if (!model_icmp_error(icmp[0]))
		return PRR_CLASS_NO_PORT;
	key->icmp_off = ihl;
	in = icmp + 8;
	quoted = tot_len - ihl - 8;
	if (quoted < 20 || in[0] >> 4 != 4)
		return PRR_CLASS_MALFORMED;
	qihl = (in[0] & 15) * 4;
	if (qihl < 20 || quoted < qihl + 8 || get16(in + 2) < qihl ||
	    !model_csum_ok(in, qihl))
		return PRR_CLASS_MALFORMED;
	if (memcmp(dst ? in + 12 : in + 16, dst ? p + 16 : p + 12, 4))
		return PRR_CLASS_MALFORMED;
	if (get16(in + 6) & 0x1fff)
		return PRR_CLASS_NO_PORT;
	l4 = in + qihl;
	if (in[9] == ICMP) {
		if (!model_icmp_query(l4[0]))
			return PRR_CLASS_MALFORMED;
		key->port = get16(l4 + 4);
		return PRR_CLASS_PORT;
	}
	if (!min_header(in[9]))
		return PRR_CLASS_NO_PORT;
	key->port = get16(l4 + (dst ? 0 : 2));
	return PRR_CLASS_PORT;
}

TEST(model_csum_agrees_with_prr_csum_ok)
{
	u8 buf[256], *big;
	u32 i, n, seed = 1;
	u16 c;

	for (n = 0; n < 20000; n++) {
		for (i = 0; i < sizeof(buf); i++) {
			seed = seed * 1103515245 + 12345;
			buf[i] = seed >> 16;
		}
		if (n & 1)
			memset(buf, n & 2 ? 0xff : 0, n % sizeof(buf));
		i = n % sizeof(buf);
		/* Half of them made valid through a word at the front. */
		if (n & 4 && i >= 2) {
			put16(buf, 0);
			c = csum_of(buf, i);
			put16(buf, c);
			EXPECT_TRUE(prr_csum_ok(buf, i)) TH_LOG("n %u", n);
		}
		EXPECT_EQ(model_csum_ok(buf, i), prr_csum_ok(buf, i))
			TH_LOG("n %u len %u", n, i);
	}
	/* The largest datagrams: the sum of 32768 words does not overflow. */
	big = malloc(65536);
	ASSERT_NE(NULL, big);
	for (n = 0; n < 4; n++) {
		memset(big, n & 1 ? 0xff : 0x80, 65536);
		big[0] = n & 2 ? 0x7f : big[0];
		for (i = 65533; i <= 65536; i++)
			EXPECT_EQ(model_csum_ok(big, i), prr_csum_ok(big, i))
				TH_LOG("fill %u, len %u", n, i);
	}
	free(big);
}

/* The model reproduces the hand-built cases' key facts. */
TEST(model_sanity)
{
	struct quote qt = quote_of(UDP);
	struct prr_key key;
	struct pkt k;

	mk_icmp_error(&k, 6, ICMP_UNREACH, REMOTE, SHARED, &qt);
	EXPECT_EQ(PRR_CLASS_PORT,
		  model_classify(k.b, k.len, PRR_SIDE_DST, &key));
	EXPECT_EQ(40000, key.port);
	EXPECT_EQ(24, key.icmp_off);
	EXPECT_EQ(PRR_CLASS_PORT,
		  model_classify(k.b, k.len, PRR_SIDE_SRC, &key));
	EXPECT_EQ(0x0413, key.port);
	mk_ported(&k, 5, SCTP, 0, 11, 1, 2);
	EXPECT_EQ(PRR_CLASS_MALFORMED,
		  model_classify(k.b, k.len, PRR_SIDE_DST, &key));
}

/* ---- Random datagrams ---------------------------------------------------- */

static unsigned long long rng_state;

static u64 rng(void)
{
	return test_rng_next(&rng_state);
}

static u32 below(u32 n)
{
	return (u32)((rng() >> 32) % n);
}

/* True with probability @pct percent. */
static bool chance(u32 pct)
{
	return below(100) < pct;
}

static u32 pick_addr(void)
{
	const u32 addrs[] = { SHARED, REMOTE, ROUTER, SHARED ^ 0x100 };

	return addrs[below(chance(90) ? 3 : 4)];
}

static u8 pick_proto(void)
{
	const u8 protos[] = {
		TCP, UDP, UDPLITE, SCTP, DCCP, ICMP, ICMP, ICMP, GRE, ESP,
	};

	return chance(95) ? protos[below(sizeof(protos))] : rng() & 0xff;
}

static u8 pick_ihl(void)
{
	if (chance(3))
		return below(16);		/* maybe invalid */
	return chance(60) ? 5 : 5 + below(11);
}

static u16 pick_frag(void)
{
	switch (below(10)) {
	case 0:
		return IP_MF;
	case 1:
		return below(0x2000);
	case 2:
		return rng() & 0xffff;
	case 3:
	case 4:
		return IP_DF;
	}
	return 0;
}

static u8 pick_icmp_type(void)
{
	const u8 types[] = { 0, 8, 13, 14, 15, 16, 17, 18, 3, 4, 11, 12, 5 };

	if (chance(10))
		return rng() & 0xff;
	if (chance(55))
		return icmp_errors[below(sizeof(icmp_errors))];
	return types[below(sizeof(types))];
}

static void fill_random(u8 *p, u32 n)
{
	while (n--)
		*p++ = rng() & 0xff;
}

/*
 * A quoted datagram at @in, in the answer @outer_src -> @outer_dst, mostly
 * one the side's shared address took part in, sometimes damaged.  Returns its
 * length in the quote.
 */
static u32 random_quote(u8 *in, u32 outer_src, u32 outer_dst)
{
	u8 ihl = pick_ihl(), proto = pick_proto();
	u32 src = chance(85) ? outer_dst : pick_addr();
	u32 dst = chance(85) ? outer_src : pick_addr();
	u32 hlen = ihl < 5 ? 20 : ihl * 4u, l4len;

	ip_header(in, ihl, 20 + below(1500), chance(80) ? 0 : pick_frag(),
		  proto, src, dst);
	if (chance(15))
		put16(in + 2, below(80));	/* maybe below its header */
	l4len = chance(85) ? 8 : below(17);
	fill_random(in + hlen, l4len);
	if (proto == ICMP && chance(80))
		in[hlen] = pick_icmp_type();
	put16(in + 10, 0);
	put16(in + 10, csum_of(in, hlen));
	/* Damage after the checksum: mostly caught by it, not always. */
	if (chance(10))
		in[below(hlen)] ^= 1u << below(8);
	if (chance(5))
		in[0] = (rng() & 0xf0) | (in[0] & 0x0f);
	if (chance(5))
		in[10] ^= 0xff;
	return hlen + l4len;
}

/* A random IPv4 datagram in @k: mostly plausible, sometimes not. */
static void random_datagram(struct pkt *k)
{
	u8 ihl = pick_ihl(), proto = pick_proto(), type;
	u32 src = pick_addr(), dst = pick_addr();
	u32 hlen = ihl < 5 ? 20 : ihl * 4u, l4len;

	memset(k->b, 0, sizeof(k->b));
	if (chance(2)) {
		k->len = below(200);
		fill_random(k->b, k->len);
		return;
	}
	if (proto != ICMP) {
		l4len = chance(70) ? min_header(proto) + below(40) : below(64);
		fill_random(k->b + hlen, l4len);
	} else {
		type = pick_icmp_type();
		fill_random(k->b + hlen, 8);
		k->b[hlen] = type;
		l4len = 8;
		if (model_icmp_error(type) || chance(10))
			l4len += random_quote(k->b + hlen + 8, src, dst);
		else
			l4len += below(32);
		if (chance(5))
			l4len = below(8);
	}
	k->len = hlen + l4len;
	ip_header(k->b, ihl, k->len, chance(85) ? 0 : pick_frag(), proto,
		  src, dst);
	if (chance(3))
		k->b[0] = (rng() & 0xf0) | ihl;
	/* Cut the datagram short, or pad it, or lie about its length. */
	if (chance(15)) {
		k->len = below(k->len + 1);
		put16(k->b + 2, k->len);
	}
	if (chance(10))
		k->len += below(40);
	if (chance(5))
		put16(k->b + 2, below(k->len + 20));
}

static u64 env_u64(const char *name, u64 dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static void dump(struct __test_metadata *_metadata, const struct pkt *k)
{
	char hex[3 * PKT_MAX + 1];
	u32 i, n = k->len < PKT_MAX ? k->len : PKT_MAX;

	for (i = 0; i < n; i++)
		snprintf(hex + 3 * i, 4, "%02x ", k->b[i]);
	hex[3 * n] = 0;
	TH_LOG("datagram (%u bytes): %s", k->len, hex);
}

/* Results per class and per path, to show the generator reaches them all. */
struct tally {
	u64 port, no_port, malformed, icmp_port, quoted_icmp, quoted_no_port;
	u64 short_avail;
};

static void count(struct tally *t, const u8 *p, int cls,
		  const struct prr_key *key)
{
	u32 ihl = (p[0] & 15) * 4;

	if (cls == PRR_CLASS_PORT) {
		t->port++;
		if (key->icmp_off) {
			t->icmp_port++;
			if (p[ihl + 8 + 9] == ICMP)
				t->quoted_icmp++;
		}
	} else if (cls == PRR_CLASS_NO_PORT) {
		t->no_port++;
		if (key->icmp_off)
			t->quoted_no_port++;
	} else {
		t->malformed++;
	}
}

TEST(differential_against_the_model)
{
	u64 seed = env_u64("PRR_CLASSIFY_SEED", 0x5eed0fa11ab1e5ull);
	u64 iters = env_u64("PRR_CLASSIFY_ITERS", 300000), n;
	struct prr_key want, got, low;
	struct tally t = { 0 };
	u32 avail, s;
	struct pkt k;
	int wc, gc, lc;

	TH_LOG("seed 0x%llx, %llu iterations (PRR_CLASSIFY_SEED, _ITERS)",
	       (unsigned long long)seed, (unsigned long long)iters);
	rng_state = seed ? seed : 1;
	for (n = 0; n < iters; n++) {
		random_datagram(&k);
		/* What the caller must make readable, or more. */
		avail = min_avail(k.len);
		if (chance(20))
			avail += below(k.len - avail + 1);
		for (s = 0; s < 2; s++) {
			wc = model_classify(k.b, k.len, sides[s], &want);
			gc = classify_avail(&k, avail, k.len, sides[s], &got);
			if (wc != gc || (wc == PRR_CLASS_PORT &&
					 (want.port != got.port ||
					  want.icmp_off != got.icmp_off)) ||
			    (gc != PRR_CLASS_PORT && got.port)) {
				TH_LOG("iteration %llu, side %s, avail %u:",
				       (unsigned long long)n,
				       side_name(sides[s]), avail);
				TH_LOG("model class %d port %u icmp_off %u",
				       wc, want.port, want.icmp_off);
				TH_LOG("prr_classify class %d port %u icmp_off %u",
				       gc, got.port, got.icmp_off);
				dump(_metadata, &k);
				ASSERT_TRUE(0);
			}
			count(&t, k.b, gc, &got);
			/* Fewer bytes than promised: safe, no port from air. */
			if (!k.len || !chance(10))
				continue;
			t.short_avail++;
			lc = classify_avail(&k, below(min_avail(k.len)), k.len,
					    sides[s], &low);
			if (lc != PRR_CLASS_PORT)
				ASSERT_EQ(0, low.port);
		}
	}
	TH_LOG("port %llu (ICMP errors %llu, quoting ICMP %llu)",
	       (unsigned long long)t.port, (unsigned long long)t.icmp_port,
	       (unsigned long long)t.quoted_icmp);
	TH_LOG("no port %llu (ICMP errors %llu), malformed %llu",
	       (unsigned long long)t.no_port,
	       (unsigned long long)t.quoted_no_port,
	       (unsigned long long)t.malformed);
	TH_LOG("short avail %llu", (unsigned long long)t.short_avail);
	/* A generator stuck on one path would prove little. */
	if (iters >= 100000) {
		EXPECT_LT(iters / 20, t.port);
		EXPECT_LT(iters / 20, t.no_port);
		EXPECT_LT(iters / 20, t.malformed);
		EXPECT_LT(iters / 50, t.icmp_port);
		EXPECT_LT(iters / 200, t.quoted_icmp);
		EXPECT_LT(iters / 200, t.quoted_no_port);
	}
}

TEST_HARNESS_MAIN
