// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seed corpus of classify_fuzz into the directory given as its
 * argument: one file per kind of datagram the classifier tells apart, valid
 * ones (every ported protocol, options, ICMP queries, ICMP errors quoting
 * each protocol, both directions) and a few of each way to be wrong.
 *
 *   gen_corpus DIR
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "portable.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum {
	ICMP = 1, TCP = 6, UDP = 17, DCCP = 33, GRE = 47, ESP = 50,
	SCTP = 132, UDPLITE = 136,
};

#define SHARED		0xc0000201u	/* 192.0.2.1 */
#define REMOTE		0xc6336407u	/* 198.51.100.7 */
#define ROUTER		0xcb007109u	/* 203.0.113.9 */

#define IP_DF		0x4000
#define IP_MF		0x2000

struct seed {
	u8 b[512];
	u32 len;
};

static const char *dir;
static int failed;

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

static u16 csum(const u8 *p, u32 len)
{
	u32 sum = 0, i;

	for (i = 0; i < len; i++)
		sum += i & 1 ? p[i] : p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* An IPv4 header of @ihl words at @p, NOP options, valid checksum. */
static u32 ip_header(u8 *p, u8 ihl, u16 tot_len, u16 frag, u8 proto,
		     u32 src, u32 dst)
{
	memset(p, 0, 20);
	memset(p + 20, 1, ihl * 4u - 20);
	p[0] = 0x40 | ihl;
	put16(p + 2, tot_len);
	put16(p + 4, 0x2a2a);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	put32(p + 12, src);
	put32(p + 16, dst);
	put16(p + 10, csum(p, ihl * 4u));
	return ihl * 4u;
}

/*
 * At @p, @l4len bytes of a transport header: the ports (for ICMP: type 8,
 * code 0, checksum, Identifier @sport) then a counting pattern.
 */
static void l4_header(u8 *p, u8 proto, u32 l4len, u16 sport, u16 dport)
{
	u32 i;

	for (i = 0; i < l4len; i++)
		p[i] = (u8)i;
	if (l4len < 8)
		return;
	if (proto == ICMP) {
		p[0] = 8;
		p[1] = 0;
		put16(p + 4, sport);
	} else {
		put16(p, sport);
		put16(p + 2, dport);
	}
}

static void ported(struct seed *s, u8 ihl, u8 proto, u16 frag,
		   u32 l4len)
{
	u32 hlen = ihl * 4u;

	memset(s, 0, sizeof(*s));
	s->len = hlen + l4len;
	ip_header(s->b, ihl, s->len, frag, proto, REMOTE, SHARED);
	l4_header(s->b + hlen, proto, l4len, 40000, 1027);
}

static void icmp(struct seed *s, u8 ihl, u8 type, u32 icmplen)
{
	u32 hlen = ihl * 4u, i;

	memset(s, 0, sizeof(*s));
	s->len = hlen + icmplen;
	ip_header(s->b, ihl, s->len, 0, ICMP, REMOTE, SHARED);
	for (i = 0; i < icmplen; i++)
		s->b[hlen + i] = (u8)i;
	s->b[hlen] = type;
	s->b[hlen + 1] = 0;
	put16(s->b + hlen + 4, 0x4242);
	put16(s->b + hlen + 2, 0);
	put16(s->b + hlen + 2, csum(s->b + hlen, icmplen));
}

/*
 * An ICMP error of @type @src -> @dst (header of @ihl words) quoting a
 * @qproto datagram @qsrc -> @qdst (header of @qihl words, fragment field
 * @qfrag) and @l4len bytes of its transport header.
 */
static void icmp_error(struct seed *s, u8 ihl, u8 type, u32 src, u32 dst,
		       u8 qihl, u8 qproto, u16 qfrag, u32 qsrc, u32 qdst,
		       u32 l4len)
{
	u32 hlen = ihl * 4u, qhlen = qihl * 4u;
	u8 *in = s->b + hlen + 8;

	memset(s, 0, sizeof(*s));
	s->len = hlen + 8 + qhlen + l4len;
	ip_header(s->b, ihl, s->len, 0, ICMP, src, dst);
	s->b[hlen] = type;
	s->b[hlen + 1] = type == 3 ? 3 : 0;
	ip_header(in, qihl, 1400, qfrag, qproto, qsrc, qdst);
	l4_header(in + qhlen, qproto, l4len, 40000, 1027);
	put16(s->b + hlen + 2, csum(s->b + hlen, s->len - hlen));
}

static void fix_icmp_checksum(struct seed *s)
{
	u32 hlen = (s->b[0] & 0x0f) * 4u;

	put16(s->b + hlen + 2, 0);
	put16(s->b + hlen + 2, csum(s->b + hlen, s->len - hlen));
}

static void save(const struct seed *s, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->b, 1, s->len, f) != s->len || fclose(f)) {
		fprintf(stderr, "gen_corpus: %s: %s\n", path, strerror(errno));
		failed = 1;
	}
}

static void ported_seeds(void)
{
	static const struct { u8 proto; u32 hdr; const char *name; }
	p[] = {
		{ TCP, 20, "tcp" }, { UDP, 8, "udp" },
		{ UDPLITE, 8, "udplite" }, { SCTP, 12, "sctp" },
		{ DCCP, 12, "dccp" },
	};
	struct seed s;
	char name[64];
	u32 i;

	for (i = 0; i < ARRAY_SIZE(p); i++) {
		ported(&s, 5, p[i].proto, IP_DF, p[i].hdr + 16);
		save(&s, p[i].name);
		ported(&s, 5, p[i].proto, 0, p[i].hdr - 1);
		snprintf(name, sizeof(name), "%s-short", p[i].name);
		save(&s, name);
	}
	ported(&s, 8, TCP, IP_DF, 40);
	save(&s, "tcp-options");
	ported(&s, 15, UDP, 0, 8);
	save(&s, "udp-options-max");
	ported(&s, 5, UDP, 0, 8);
	s.len = 46;
	save(&s, "udp-padded");
	ported(&s, 5, UDP, IP_MF, 64);
	save(&s, "fragment-first");
	ported(&s, 5, UDP, 0x00b9, 64);
	save(&s, "fragment-later");
	ported(&s, 5, GRE, 0, 24);
	save(&s, "gre");
	ported(&s, 5, ESP, 0, 24);
	save(&s, "esp");
}

static void icmp_seeds(void)
{
	static const struct { u8 type; const char *name; } q[] = {
		{ 0, "echo-reply" }, { 8, "echo" }, { 13, "timestamp" },
		{ 16, "info-reply" }, { 18, "mask-reply" },
		{ 9, "router-advert" },
	};
	struct seed s;
	u32 i;

	for (i = 0; i < ARRAY_SIZE(q); i++) {
		icmp(&s, 5, q[i].type, 16);
		save(&s, q[i].name);
	}
	icmp(&s, 6, 8, 64);
	save(&s, "echo-options");
	icmp(&s, 5, 8, 7);
	save(&s, "echo-short");
	icmp_error(&s, 5, 5, ROUTER, SHARED, 5, UDP, 0, SHARED, REMOTE, 8);
	save(&s, "redirect");
}

static void icmp_error_seeds(void)
{
	struct seed s;

	/* Answers to SHARED -> REMOTE: both sides match. */
	icmp_error(&s, 5, 3, REMOTE, SHARED, 5, UDP, 0, SHARED, REMOTE, 8);
	save(&s, "unreach-udp");
	icmp_error(&s, 5, 3, REMOTE, SHARED, 8, TCP, IP_DF, SHARED, REMOTE, 8);
	save(&s, "unreach-tcp-quoted-options");
	icmp_error(&s, 7, 11, ROUTER, SHARED, 5, SCTP, 0, SHARED, REMOTE, 8);
	save(&s, "timxceed-sctp-options");
	icmp_error(&s, 5, 4, REMOTE, SHARED, 5, DCCP, 0, SHARED, REMOTE, 8);
	save(&s, "quench-dccp");
	icmp_error(&s, 5, 12, REMOTE, SHARED, 5, UDPLITE, 0, SHARED, REMOTE,
		   8);
	save(&s, "paramprob-udplite");
	icmp_error(&s, 5, 11, ROUTER, SHARED, 5, ICMP, 0, SHARED, REMOTE, 8);
	save(&s, "timxceed-echo");
	icmp_error(&s, 15, 3, REMOTE, SHARED, 15, TCP, 0, SHARED, REMOTE, 64);
	save(&s, "unreach-tcp-max");
	/* A CPE's error about what REMOTE sent it (the source side). */
	icmp_error(&s, 5, 3, SHARED, REMOTE, 5, UDP, 0, REMOTE, SHARED, 8);
	save(&s, "unreach-from-shared");
	/* Wrong ways. */
	icmp_error(&s, 5, 3, REMOTE, SHARED, 5, UDP, 0, SHARED, REMOTE, 7);
	save(&s, "unreach-quote-short");
	icmp_error(&s, 5, 3, REMOTE, SHARED, 5, UDP, 0, SHARED, REMOTE, 8);
	s.b[28 + 10] ^= 0x40;
	fix_icmp_checksum(&s);
	save(&s, "unreach-quote-bad-checksum");
	icmp_error(&s, 5, 3, ROUTER, SHARED, 5, UDP, 0, ROUTER, REMOTE, 8);
	save(&s, "unreach-quote-wrong-address");
	icmp_error(&s, 5, 3, REMOTE, SHARED, 5, UDP, 0x0100, SHARED, REMOTE, 8);
	save(&s, "unreach-quote-fragment");
	icmp_error(&s, 5, 3, REMOTE, SHARED, 5, GRE, 0, SHARED, REMOTE, 8);
	save(&s, "unreach-quote-gre");
	icmp_error(&s, 5, 3, REMOTE, SHARED, 5, ICMP, 0, SHARED, REMOTE, 8);
	s.b[48] = 11;
	fix_icmp_checksum(&s);
	save(&s, "unreach-quote-timxceed");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	dir = argv[1];
	ported_seeds();
	icmp_seeds();
	icmp_error_seeds();
	return failed;
}
