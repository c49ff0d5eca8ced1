// SPDX-License-Identifier: GPL-2.0
/*
 * prr_probe: packet generator and capture tool for prr's selftests.
 *
 * send: crafts IPv4 datagrams with a raw socket (IP_HDRINCL) and sends one
 * per destination port.  Every datagram carries a tag (magic + 32-bit id)
 * right after its L4 header so that a receiver can tell which packet it
 * sees.  Prints "sent PACKETS BYTES" (IP total lengths) at the end.
 * --sports LIST sends every destination port from each of those source
 * ports.
 *
 * recv: captures on one interface with an AF_PACKET socket and prints one
 * line per interesting packet:
 *
 *   pkt PROTO SPORT DPORT TTL TOTLEN SRC DST TAG FLAGS
 *	a tagged IPv4 packet (any IPv4 packet with --all; TAG is "-" when
 *	absent).  SPORT/DPORT are "-" for portless protocols and non-first
 *	fragments; SPORT of an ICMP query (echo, timestamp...) is its
 *	Identifier.  FLAGS: comma list of df, mf, off=N (bytes), badsum
 *	(IP header checksum wrong), or "-".
 *   icmp TYPE CODE MTU SRC DST IPROTO ISPORT IDPORT IDST ITAG [ISRC]
 *	an ICMP error (types 3, 4, 5, 11, 12); MTU is the next-hop MTU of
 *	"fragmentation needed" (0 otherwise); the I* fields describe the
 *	embedded datagram, ISRC (with --isrc) its source address.
 *   arp OP SENDER TARGET
 *	an ARP request or reply (only with --arp).
 *
 * Only frames addressed to the interface (host, broadcast, multicast) are
 * considered: outgoing frames and frames for other hosts are ignored.
 *
 * serve: TCP listeners and UDP sockets on the given ports that echo what
 * they receive; one line per accepted connection or datagram:
 *
 *   accept tcp PEER PEERPORT PORT
 *   echo udp PEER PEERPORT PORT
 *
 * connect: opens TCP connections (or connected UDP sockets) to every port,
 * --repeat times, all at once; each sends its tag and waits for the echo.
 * One line per flow, then a summary; exit 0 iff every flow succeeded:
 *
 *   flow PROTO LPORT RPORT ok|fail
 *   connected OK TOTAL
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/types.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define BIT(n)		(1u << (n))

#define TAG_MAGIC	0x70727221u	/* "prr!" */
#define TAG_LEN		8
#define TAG_SCAN	128		/* bytes of L3 payload searched for it */
#define IP_HLEN		20
#define MAX_PKT		65535
#define MAX_PORTS	BIT(20)

#define IPF_DF		0x4000
#define IPF_MF		0x2000
#define IPF_OFFMASK	0x1fff

#define PROTO_ICMP	1
#define PROTO_TCP	6
#define PROTO_UDP	17
#define PROTO_GRE	47
#define PROTO_DCCP	33
#define PROTO_SCTP	132
#define PROTO_UDPLITE	136

struct l4_desc {
	const char *name;
	int proto;
	int hdr_len;	/* bytes before the tag */
	bool ports;
};

static const struct l4_desc l4_descs[] = {
	{ "tcp",	PROTO_TCP,	20,	true },
	{ "udp",	PROTO_UDP,	8,	true },
	{ "udplite",	PROTO_UDPLITE,	8,	true },
	/* common header + DATA chunk header */
	{ "sctp",	PROTO_SCTP,	28,	true },
	/* generic header with 48-bit sequence numbers (X=1) */
	{ "dccp",	PROTO_DCCP,	16,	true },
	{ "icmp",	PROTO_ICMP,	8,	false },
	{ "gre",	PROTO_GRE,	4,	false },
};

static const char *prog = "prr_probe";

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* Bad command line: one line on stderr, exit 2. */
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see %s help)\n", prog);
	exit(2);
}

static void put16(u8 *p, u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(u8 *p, u32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* getopt_long() returned '?': unknown option or missing argument. */
static void bad_option(char **argv)
{
	usage_error("unknown option or missing argument in '%s'",
		    argv[optind - 1]);
}

static u16 get16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static u32 get32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 |
	       (u32)p[2] << 8 | p[3];
}

static u32 csum_add(u32 sum, const u8 *p, size_t len)
{
	while (len > 1) {
		sum += get16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (u32)p[0] << 8;
	return sum;
}

static u16 csum_fold(u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)~sum;
}

/* Sum of the IPv4 pseudo header of an L4 segment of @len bytes. */
static u32 csum_pseudo(const u8 *iph, int proto, size_t len)
{
	u32 sum = 0;

	sum = csum_add(sum, iph + 12, 8);
	sum += proto;
	sum += len;
	return sum;
}

static u32 crc32c(const u8 *p, size_t len)
{
	u32 crc = ~0u;
	int i;

	while (len--) {
		crc ^= *p++;
		for (i = 0; i < 8; i++)
			crc = (crc >> 1) ^ (0x82f63b78u & -(crc & 1));
	}
	return ~crc;
}

/* Decimal or 0x-prefixed hexadecimal; never octal. */
static bool parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;
	int base = 10;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return false;
	}
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static unsigned long arg_num(const char *opt, const char *s,
			     unsigned long max)
{
	unsigned long v;

	if (!parse_ulong(s, max, &v)) {
		fprintf(stderr, "%s: invalid value '%s' for --%s\n",
			prog, s, opt);
		exit(2);
	}
	return v;
}

static struct in_addr arg_addr(const char *opt, const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "%s: invalid IPv4 address '%s' for --%s\n",
			prog, s, opt);
		exit(2);
	}
	return a;
}

static const struct l4_desc *l4_by_proto(int proto)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(l4_descs); i++)
		if (l4_descs[i].proto == proto)
			return &l4_descs[i];
	return NULL;
}

/* Protocol name or number; returns the IP protocol number. */
static int arg_proto(const char *s)
{
	unsigned long v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(l4_descs); i++)
		if (!strcmp(s, l4_descs[i].name))
			return l4_descs[i].proto;
	if (parse_ulong(s, 255, &v))
		return (int)v;
	usage_error("unknown protocol '%s'", s);
	return -1;
}

static void proto_name(int proto, char *buf, size_t len)
{
	const struct l4_desc *d = l4_by_proto(proto);

	if (d)
		snprintf(buf, len, "%s", d->name);
	else
		snprintf(buf, len, "%d", proto);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A list of ports (--ports, --sports, --tcp, --udp), duplicates kept. */
struct port_list {
	u16 *v;
	size_t n;
	size_t cap;
};

/* ------------------------------------------------------------------ send */

struct send_opts {
	struct in_addr src;
	struct in_addr dst;
	bool have_src;
	int proto;
	const struct l4_desc *l4;	/* NULL: no L4 header (raw protocol) */
	struct port_list ports;
	struct port_list sports;	/* --sports; empty: sport only */
	u16 sport;
	int ttl;
	int tos;
	bool df;
	bool mf;
	unsigned int frag_off;		/* bytes, multiple of 8 */
	unsigned int frag_size;		/* split into fragments; 0: don't */
	unsigned int size;		/* IP total length; 0: minimal */
	int trunc;			/* bytes of L4 header kept; -1: all */
	u32 tag;
	unsigned int repeat;
	unsigned int pps;
	int tcp_flags;
	bool quiet;
};

static void add_port(struct port_list *l, unsigned long port)
{
	if (l->n >= MAX_PORTS)
		usage_error("too many ports (at most %u)", MAX_PORTS);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			die(1, "out of memory");
	}
	l->v[l->n++] = (u16)port;
}

/* "1,80,1024-1100,0x0400" */
static void parse_ports(struct port_list *l, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *item, *dash;
	unsigned long lo, hi, p;

	if (!copy)
		die(1, "out of memory");
	for (item = strtok_r(copy, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		dash = strchr(item, '-');
		if (dash)
			*dash = '\0';
		if (!parse_ulong(item, 65535, &lo))
			usage_error("invalid port list '%s'", arg);
		hi = lo;
		if (dash && !parse_ulong(dash + 1, 65535, &hi))
			usage_error("invalid port list '%s'", arg);
		if (hi < lo)
			usage_error("invalid port range in '%s'", arg);
		for (p = lo; p <= hi; p++)
			add_port(l, p);
	}
	free(copy);
	if (!l->n)
		usage_error("empty port list '%s'", arg);
}

static void set_ip_header(u8 *pkt, const struct send_opts *o,
			  unsigned int totlen, u16 id, u16 frag)
{
	pkt[0] = 0x45;
	pkt[1] = (u8)o->tos;
	put16(pkt + 2, (u16)totlen);
	put16(pkt + 4, id);
	put16(pkt + 6, frag);
	pkt[8] = (u8)o->ttl;
	pkt[9] = (u8)o->proto;
	put16(pkt + 10, 0);
	memcpy(pkt + 12, &o->src, 4);
	memcpy(pkt + 16, &o->dst, 4);
	put16(pkt + 10, csum_fold(csum_add(0, pkt, IP_HLEN)));
}

/* CRC32c over the whole packet, stored little endian as Linux does. */
static void put_sctp_crc(u8 *sh, size_t len)
{
	u32 crc = crc32c(sh, len);

	sh[8] = (u8)crc;
	sh[9] = (u8)(crc >> 8);
	sh[10] = (u8)(crc >> 16);
	sh[11] = (u8)(crc >> 24);
}

static void build_l4(u8 *pkt, const struct send_opts *o,
		     u16 dport, u32 tag, unsigned int l4len)
{
	u8 *l4 = pkt + IP_HLEN;
	u16 sum;

	switch (o->proto) {
	case PROTO_TCP:
		put16(l4, o->sport);
		put16(l4 + 2, dport);
		put32(l4 + 4, tag);		/* sequence number */
		put32(l4 + 8, 0);
		l4[12] = 5 << 4;		/* data offset */
		l4[13] = (u8)o->tcp_flags;
		put16(l4 + 14, 65535);
		put16(l4 + 16, 0);
		put16(l4 + 18, 0);
		sum = csum_fold(csum_add(csum_pseudo(pkt, o->proto, l4len),
					 l4, l4len));
		put16(l4 + 16, sum);
		break;
	case PROTO_UDP:
	case PROTO_UDPLITE:
		put16(l4, o->sport);
		put16(l4 + 2, dport);
		/* UDP length, or UDP-Lite coverage 0: whole datagram */
		put16(l4 + 4, o->proto == PROTO_UDP ? l4len : 0);
		put16(l4 + 6, 0);
		sum = csum_fold(csum_add(csum_pseudo(pkt, o->proto, l4len),
					 l4, l4len));
		put16(l4 + 6, sum ? sum : 0xffff);
		break;
	case PROTO_SCTP:
		put16(l4, o->sport);
		put16(l4 + 2, dport);
		put32(l4 + 4, tag);		/* verification tag */
		put32(l4 + 8, 0);
		l4[12] = 0;			/* DATA chunk */
		l4[13] = 3;			/* B and E bits */
		put16(l4 + 14, (u16)(l4len - 12));
		put32(l4 + 16, tag);		/* TSN */
		put16(l4 + 20, 0);
		put16(l4 + 22, 0);
		put32(l4 + 24, 0);
		put_sctp_crc(l4, l4len);
		break;
	case PROTO_DCCP:
		put16(l4, o->sport);
		put16(l4 + 2, dport);
		l4[4] = 4;			/* data offset, 32-bit words */
		l4[5] = 0;			/* CCVal 0, CsCov 0 */
		put16(l4 + 6, 0);
		l4[8] = 2 << 1 | 1;		/* type DCCP-Data, X = 1 */
		l4[9] = 0;
		put16(l4 + 10, 0);		/* sequence number */
		put32(l4 + 12, tag);
		sum = csum_fold(csum_add(csum_pseudo(pkt, o->proto, l4len),
					 l4, l4len));
		put16(l4 + 6, sum);
		break;
	case PROTO_ICMP:
		l4[0] = 8;			/* echo request */
		l4[1] = 0;
		put16(l4 + 2, 0);
		put16(l4 + 4, dport);		/* identifier */
		put16(l4 + 6, (u16)tag);	/* sequence */
		put16(l4 + 2, csum_fold(csum_add(0, l4, l4len)));
		break;
	case PROTO_GRE:
		put16(l4, 0);			/* no flags, version 0 */
		put16(l4 + 2, ETH_P_IP);
		break;
	}
}

/*
 * Builds the datagram for @dport into @pkt and returns its IP total length.
 * Non-first fragments (--frag-off) carry no L4 header, only the tag.
 */
static unsigned int build_datagram(u8 *pkt, const struct send_opts *o,
				   u16 dport, u32 tag)
{
	bool with_l4 = o->l4 && !o->frag_off;
	unsigned int hdr = with_l4 ? (unsigned int)o->l4->hdr_len : 0;
	unsigned int totlen = IP_HLEN + hdr + TAG_LEN;
	u16 frag = (u16)(o->frag_off / 8);
	u16 id = (u16)(tag * 2654435761u >> 16);

	if (o->size > totlen)
		totlen = o->size;
	memset(pkt, 0, totlen);
	/* addresses first: the L4 checksums need them */
	set_ip_header(pkt, o, totlen, id ? id : 1, 0);
	if (o->trunc >= 0) {
		/* a bare header (lengths and checksum cover it) or less */
		totlen = IP_HLEN + (unsigned int)o->trunc;
		build_l4(pkt, o, dport, tag, hdr);
	} else {
		put32(pkt + IP_HLEN + hdr, TAG_MAGIC);
		put32(pkt + IP_HLEN + hdr + 4, tag);
		if (with_l4)
			build_l4(pkt, o, dport, tag, totlen - IP_HLEN);
	}
	if (o->df)
		frag |= IPF_DF;
	if (o->mf)
		frag |= IPF_MF;
	set_ip_header(pkt, o, totlen, id ? id : 1, frag);
	return totlen;
}

static void pace(const struct send_opts *o, struct timespec *next)
{
	if (!o->pps)
		return;
	next->tv_nsec += 1000000000L / o->pps;
	while (next->tv_nsec >= 1000000000L) {
		next->tv_nsec -= 1000000000L;
		next->tv_sec++;
	}
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL);
}

static void send_one(int fd, const struct send_opts *o, const u8 *pkt,
		     unsigned int len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_addr = o->dst;
	while (sendto(fd, pkt, len, 0, (struct sockaddr *)&sin,
		      sizeof(sin)) < 0) {
		if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
			poll(NULL, 0, 1);
			continue;
		}
		die(1, "sendto %s (%u bytes): %s", inet_ntoa(o->dst), len,
		    strerror(errno));
	}
}

/* Sends @pkt (a whole datagram) split into fragments of frag_size bytes. */
static unsigned int send_fragments(int fd, const struct send_opts *o,
				   const u8 *pkt, unsigned int totlen,
				   unsigned long long *bytes)
{
	static u8 frag[MAX_PKT];
	unsigned int plen = totlen - IP_HLEN, off, chunk, n = 0;
	u16 base = get16(pkt + 6);
	u16 id = get16(pkt + 4);

	for (off = 0; off < plen; off += o->frag_size) {
		u16 flags = base & IPF_DF;

		chunk = plen - off;
		if (chunk > o->frag_size) {
			chunk = o->frag_size;
			flags |= IPF_MF;
		}
		memcpy(frag + IP_HLEN, pkt + IP_HLEN + off, chunk);
		set_ip_header(frag, o, IP_HLEN + chunk, id,
			      flags | (u16)(off / 8));
		send_one(fd, o, frag, IP_HLEN + chunk);
		*bytes += IP_HLEN + chunk;
		n++;
	}
	return n;
}

static void find_source(struct send_opts *o)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = 9 };
	socklen_t len = sizeof(sin);
	int fd;

	sin.sin_addr = o->dst;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len))
		die(1, "no route to %s: %s", inet_ntoa(o->dst),
		    strerror(errno));
	close(fd);
	o->src = sin.sin_addr;
}

static const struct option send_longopts[] = {
	{ "src",	required_argument, NULL, 's' },
	{ "dst",	required_argument, NULL, 'd' },
	{ "proto",	required_argument, NULL, 'p' },
	{ "ports",	required_argument, NULL, 'P' },
	{ "sport",	required_argument, NULL, 'S' },
	{ "sports",	required_argument, NULL, 'L' },
	{ "ttl",	required_argument, NULL, 't' },
	{ "tos",	required_argument, NULL, 'T' },
	{ "df",		no_argument,	   NULL, 'D' },
	{ "mf",		no_argument,	   NULL, 'M' },
	{ "frag-off",	required_argument, NULL, 'o' },
	{ "frag",	required_argument, NULL, 'f' },
	{ "size",	required_argument, NULL, 'z' },
	{ "trunc",	required_argument, NULL, 'x' },
	{ "tag",	required_argument, NULL, 'g' },
	{ "repeat",	required_argument, NULL, 'r' },
	{ "pps",	required_argument, NULL, 'R' },
	{ "tcp-flags",	required_argument, NULL, 'F' },
	{ "quiet",	no_argument,	   NULL, 'q' },
	{ NULL, 0, NULL, 0 }
};

static void send_parse(struct send_opts *o, int argc, char **argv)
{
	bool have_dst = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", send_longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->src = arg_addr("src", optarg);
			o->have_src = true;
			break;
		case 'd':
			o->dst = arg_addr("dst", optarg);
			have_dst = true;
			break;
		case 'p':
			o->proto = arg_proto(optarg);
			break;
		case 'P':
			parse_ports(&o->ports, optarg);
			break;
		case 'S':
			o->sport = (u16)arg_num("sport", optarg, 65535);
			break;
		case 'L':
			parse_ports(&o->sports, optarg);
			break;
		case 't':
			o->ttl = (int)arg_num("ttl", optarg, 255);
			break;
		case 'T':
			o->tos = (int)arg_num("tos", optarg, 255);
			break;
		case 'D':
			o->df = true;
			break;
		case 'M':
			o->mf = true;
			break;
		case 'o':
			o->frag_off = (unsigned int)arg_num("frag-off", optarg,
							    65528);
			if (o->frag_off % 8)
				usage_error("--frag-off %s is not a multiple of 8",
					    optarg);
			break;
		case 'f':
			o->frag_size = (unsigned int)arg_num("frag", optarg,
							     65528);
			if (!o->frag_size || o->frag_size % 8)
				usage_error("--frag %s is not a positive multiple of 8",
					    optarg);
			break;
		case 'z':
			o->size = (unsigned int)arg_num("size", optarg,
							MAX_PKT);
			break;
		case 'x':
			o->trunc = (int)arg_num("trunc", optarg, 65535);
			break;
		case 'g':
			o->tag = (u32)arg_num("tag", optarg, 0xffffffffu);
			break;
		case 'r':
			o->repeat = (unsigned int)arg_num("repeat", optarg,
							  1000000);
			break;
		case 'R':
			o->pps = (unsigned int)arg_num("pps", optarg,
						       10000000);
			break;
		case 'F':
			o->tcp_flags = (int)arg_num("tcp-flags", optarg, 255);
			break;
		case 'q':
			o->quiet = true;
			break;
		default:
			bad_option(argv);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!have_dst)
		usage_error("send needs --dst");
}

static void send_check(struct send_opts *o)
{
	unsigned int min;

	o->l4 = l4_by_proto(o->proto);
	if (!o->ports.n)
		add_port(&o->ports, 9);
	if (!o->sports.n)
		add_port(&o->sports, o->sport);
	min = IP_HLEN + TAG_LEN + (o->l4 && !o->frag_off ? o->l4->hdr_len : 0);
	if (o->size && o->size < min)
		usage_error("--size %u is below this packet's minimum of %u",
			    o->size, min);
	if (o->trunc >= 0 && (!o->l4 || o->frag_off))
		usage_error("--trunc needs a protocol with a header");
	if (o->trunc >= 0 && o->trunc > o->l4->hdr_len)
		usage_error("--trunc %d is longer than the %d-byte header",
			    o->trunc, o->l4->hdr_len);
	if (o->trunc >= 0 && o->frag_size)
		usage_error("--trunc and --frag are exclusive");
	if (o->frag_size && (o->mf || o->frag_off))
		usage_error("--frag and --mf/--frag-off are exclusive");
	if (!o->have_src)
		find_source(o);
}

static int send_main(int argc, char **argv)
{
	static u8 pkt[MAX_PKT];
	struct send_opts o = {
		.proto = PROTO_UDP, .sport = 40000, .ttl = 64, .trunc = -1,
		.tag = 1, .repeat = 1, .tcp_flags = 0x02,
	};
	unsigned long long bytes = 0;
	unsigned long packets = 0;
	struct timespec next;
	unsigned int len, r;
	u32 tag;
	int fd, one = 1, sndbuf = 4 << 20, pmtu = IP_PMTUDISC_PROBE;
	size_t i, j;

	send_parse(&o, argc, argv);
	send_check(&o);
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0)
		die(1, "raw socket: %s", strerror(errno));
	if (setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)))
		die(1, "IP_HDRINCL: %s", strerror(errno));
	/*
	 * Send exactly what was built: a path MTU learnt from an earlier
	 * "fragmentation needed" must neither refuse nor fragment it.
	 */
	if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)))
		die(1, "IP_MTU_DISCOVER: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	clock_gettime(CLOCK_MONOTONIC, &next);

	tag = o.tag;
	for (r = 0; r < o.repeat; r++) {
		for (j = 0; j < o.sports.n; j++) {
			o.sport = o.sports.v[j];
			for (i = 0; i < o.ports.n; i++, tag++) {
				len = build_datagram(pkt, &o, o.ports.v[i],
						     tag);
				if (o.frag_size &&
				    len - IP_HLEN > o.frag_size) {
					packets += send_fragments(fd, &o, pkt,
								  len, &bytes);
				} else {
					send_one(fd, &o, pkt, len);
					bytes += len;
					packets++;
				}
				pace(&o, &next);
			}
		}
	}
	close(fd);
	if (!o.quiet)
		printf("sent %lu %llu\n", packets, bytes);
	free(o.ports.v);
	free(o.sports.v);
	return 0;
}

/* ------------------------------------------------------------------ recv */

struct recv_opts {
	const char *dev;
	const char *ready;
	const char *stop;
	unsigned int count;
	long long grace;
	long long idle;
	long long timeout;
	struct in_addr src;
	struct in_addr dst;
	bool have_src;
	bool have_dst;
	int proto;			/* -1: any */
	bool all;
	bool arp;
	bool no_icmp;
	bool isrc;
};

static sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	/* a store the compiler must not elide: the loop re-reads it */
	__atomic_store_n(&stop_signal, sig, __ATOMIC_SEQ_CST);
}

static const char *addr_str(const u8 *p, char *buf)
{
	return inet_ntop(AF_INET, p, buf, INET_ADDRSTRLEN);
}

/* Position of the tag in @p, or -1. */
static long find_tag(const u8 *p, size_t len)
{
	size_t i, end = len < TAG_SCAN + TAG_LEN ? len : TAG_SCAN + TAG_LEN;

	for (i = 0; i + TAG_LEN <= end; i++)
		if (get32(p + i) == TAG_MAGIC)
			return (long)i;
	return -1;
}

static void tag_str(const u8 *p, size_t len, char *buf, size_t blen)
{
	long at = find_tag(p, len);

	if (at < 0)
		snprintf(buf, blen, "-");
	else
		snprintf(buf, blen, "%u", get32(p + at + 4));
}

/* "-" unless the L4 header of a first fragment of a port protocol. */
static void ports_str(int proto, const u8 *l4, size_t l4len,
		      u16 frag, char *sp, char *dp, size_t blen)
{
	const struct l4_desc *d = l4_by_proto(proto);

	if (!d || !d->ports || (frag & IPF_OFFMASK) || l4len < 4) {
		snprintf(sp, blen, "-");
		snprintf(dp, blen, "-");
		return;
	}
	snprintf(sp, blen, "%u", get16(l4));
	snprintf(dp, blen, "%u", get16(l4 + 2));
}

static bool is_icmp_error(u8 type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* ICMP queries, whose Identifier conntrack and prr treat as a port. */
static bool is_icmp_query(u8 type)
{
	return type == 0 || type == 8 || (type >= 13 && type <= 18);
}

/* With --isrc, the line ends with the embedded datagram's source. */
static void print_icmp_error(const struct recv_opts *o, const u8 *ip,
			     const u8 *icmp, size_t len)
{
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN], id[INET_ADDRSTRLEN];
	char is[INET_ADDRSTRLEN], pname[16], sp[8], dp[8], tag[16];
	const u8 *in = icmp + 8;
	size_t inlen = len - 8, ihl;
	unsigned int mtu = 0;

	if (icmp[0] == 3 && icmp[1] == 4)
		mtu = get16(icmp + 6);
	ihl = inlen ? (in[0] & 0xf) * 4u : 0;
	if (inlen < IP_HLEN || (in[0] >> 4) != 4 || ihl < IP_HLEN ||
	    ihl > inlen) {
		printf("icmp %u %u %u %s %s - - - - -%s\n", icmp[0], icmp[1],
		       mtu, addr_str(ip + 12, s), addr_str(ip + 16, d),
		       o->isrc ? " -" : "");
		return;
	}
	proto_name(in[9], pname, sizeof(pname));
	ports_str(in[9], in + ihl, inlen - ihl, get16(in + 6), sp, dp,
		  sizeof(sp));
	tag_str(in + ihl, inlen - ihl, tag, sizeof(tag));
	printf("icmp %u %u %u %s %s %s %s %s %s %s", icmp[0], icmp[1], mtu,
	       addr_str(ip + 12, s), addr_str(ip + 16, d), pname, sp, dp,
	       addr_str(in + 16, id), tag);
	if (o->isrc)
		printf(" %s", addr_str(in + 12, is));
	putchar('\n');
}

static void flags_str(const u8 *ip, size_t ihl, char *buf, size_t len)
{
	u16 frag = get16(ip + 6);
	size_t n = 0;

	buf[0] = '\0';
	if (frag & IPF_DF)
		n += snprintf(buf + n, len - n, "%sdf", n ? "," : "");
	if (frag & IPF_MF)
		n += snprintf(buf + n, len - n, "%smf", n ? "," : "");
	if (frag & IPF_OFFMASK)
		n += snprintf(buf + n, len - n, "%soff=%u", n ? "," : "",
			      (frag & IPF_OFFMASK) * 8);
	if (csum_fold(csum_add(0, ip, ihl)))
		n += snprintf(buf + n, len - n, "%sbadsum", n ? "," : "");
	if (!n)
		snprintf(buf, len, "-");
}

/* Returns true when a line was printed. */
static bool handle_ipv4(const struct recv_opts *o, const u8 *ip,
			size_t len)
{
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
	char pname[16], sp[8], dp[8], tag[16], flags[48];
	size_t ihl, totlen;
	const u8 *l4;
	size_t l4len;
	u16 frag;

	if (len < IP_HLEN || (ip[0] >> 4) != 4)
		return false;
	ihl = (ip[0] & 0xf) * 4u;
	totlen = get16(ip + 2);
	if (ihl < IP_HLEN || ihl > len || totlen < ihl)
		return false;
	if (totlen < len)
		len = totlen;
	l4 = ip + ihl;
	l4len = len - ihl;
	frag = get16(ip + 6);

	if (ip[9] == PROTO_ICMP && !(frag & IPF_OFFMASK) && l4len >= 8 &&
	    is_icmp_error(l4[0])) {
		if (o->no_icmp)
			return false;
		print_icmp_error(o, ip, l4, l4len);
		return true;
	}
	if (o->proto >= 0 && ip[9] != o->proto)
		return false;
	if (o->have_src && memcmp(ip + 12, &o->src, 4))
		return false;
	if (o->have_dst && memcmp(ip + 16, &o->dst, 4))
		return false;
	tag_str(l4, l4len, tag, sizeof(tag));
	if (tag[0] == '-' && !o->all)
		return false;
	proto_name(ip[9], pname, sizeof(pname));
	ports_str(ip[9], l4, l4len, frag, sp, dp, sizeof(sp));
	if (ip[9] == PROTO_ICMP && !(frag & IPF_OFFMASK) && l4len >= 8 &&
	    is_icmp_query(l4[0]))
		snprintf(sp, sizeof(sp), "%u", get16(l4 + 4));
	flags_str(ip, ihl, flags, sizeof(flags));
	printf("pkt %s %s %s %u %zu %s %s %s %s\n", pname, sp, dp, ip[8],
	       totlen, addr_str(ip + 12, s), addr_str(ip + 16, d), tag, flags);
	return true;
}

static bool handle_arp(const u8 *p, size_t len)
{
	char s[INET_ADDRSTRLEN], t[INET_ADDRSTRLEN];
	u16 op;

	/* Ethernet/IPv4 ARP only */
	if (len < 28 || get16(p) != 1 || get16(p + 2) != ETH_P_IP ||
	    p[4] != 6 || p[5] != 4)
		return false;
	op = get16(p + 6);
	printf("arp %s %s %s\n", op == 1 ? "request" :
	       op == 2 ? "reply" : "other",
	       addr_str(p + 14, s), addr_str(p + 24, t));
	return true;
}

static const struct option recv_longopts[] = {
	{ "dev",	required_argument, NULL, 'i' },
	{ "ready",	required_argument, NULL, 'y' },
	{ "stop",	required_argument, NULL, 'k' },
	{ "grace",	required_argument, NULL, 'G' },
	{ "count",	required_argument, NULL, 'c' },
	{ "idle",	required_argument, NULL, 'I' },
	{ "timeout",	required_argument, NULL, 'w' },
	{ "src",	required_argument, NULL, 's' },
	{ "dst",	required_argument, NULL, 'd' },
	{ "proto",	required_argument, NULL, 'p' },
	{ "all",	no_argument,	   NULL, 'a' },
	{ "arp",	no_argument,	   NULL, 'A' },
	{ "no-icmp",	no_argument,	   NULL, 'n' },
	{ "isrc",	no_argument,	   NULL, 'e' },
	{ NULL, 0, NULL, 0 }
};

static void recv_parse(struct recv_opts *o, int argc, char **argv)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", recv_longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->dev = optarg;
			break;
		case 'y':
			o->ready = optarg;
			break;
		case 'k':
			o->stop = optarg;
			break;
		case 'G':
			o->grace = (long long)arg_num("grace", optarg,
						      86400000);
			break;
		case 'c':
			o->count = (unsigned int)arg_num("count", optarg,
							 100000000);
			break;
		case 'I':
			o->idle = (long long)arg_num("idle", optarg, 86400000);
			break;
		case 'w':
			o->timeout = (long long)arg_num("timeout", optarg,
							86400000);
			break;
		case 's':
			o->src = arg_addr("src", optarg);
			o->have_src = true;
			break;
		case 'd':
			o->dst = arg_addr("dst", optarg);
			o->have_dst = true;
			break;
		case 'p':
			o->proto = arg_proto(optarg);
			break;
		case 'a':
			o->all = true;
			break;
		case 'A':
			o->arp = true;
			break;
		case 'n':
			o->no_icmp = true;
			break;
		case 'e':
			o->isrc = true;
			break;
		default:
			bad_option(argv);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->dev)
		usage_error("recv needs --dev");
}

static int recv_open(const struct recv_opts *o)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int fd, rcvbuf = 16 << 20;

	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex(o->dev);
	if (!sll.sll_ifindex)
		die(1, "no such interface '%s'", o->dev);
	/* protocol 0: nothing is queued before bind() picks the device */
	fd = socket(AF_PACKET, SOCK_DGRAM, 0);
	if (fd < 0)
		die(1, "packet socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		die(1, "bind to %s: %s", o->dev, strerror(errno));
	return fd;
}

static void signal_ready(const char *path)
{
	int fd;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(1, "cannot create %s: %s", path, strerror(errno));
	close(fd);
}

enum recv_result { RECV_NONE, RECV_IGNORED, RECV_PRINTED };

static enum recv_result recv_one(int fd, const struct recv_opts *o)
{
	static u8 buf[MAX_PKT + 1];
	struct sockaddr_ll from;
	socklen_t flen = sizeof(from);
	ssize_t n;

	n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
		     (struct sockaddr *)&from, &flen);
	if (n < 0)
		return RECV_NONE;
	if (from.sll_pkttype != PACKET_HOST &&
	    from.sll_pkttype != PACKET_BROADCAST &&
	    from.sll_pkttype != PACKET_MULTICAST)
		return RECV_IGNORED;
	if (from.sll_protocol == htons(ETH_P_IP) &&
	    handle_ipv4(o, buf, (size_t)n))
		return RECV_PRINTED;
	if (from.sll_protocol == htons(ETH_P_ARP) && o->arp &&
	    handle_arp(buf, (size_t)n))
		return RECV_PRINTED;
	return RECV_IGNORED;
}

/* Kernel drops on the socket; the count would be wrong if any. */
static unsigned int recv_drops(int fd)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return 0;
	return st.tp_drops;
}

static bool file_exists(const char *path)
{
	struct stat st;

	return path && !stat(path, &st);
}

static bool stop_requested(const struct recv_opts *o)
{
	return file_exists(o->stop);
}

static int recv_main(int argc, char **argv)
{
	struct recv_opts o = { .proto = -1, .grace = 300, .timeout = 30000 };
	long long start, last, stop_at = 0, now;
	struct pollfd pfd;
	unsigned int seen = 0, drops;
	enum recv_result r;

	recv_parse(&o, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	pfd.fd = recv_open(&o);
	pfd.events = POLLIN;
	signal_ready(o.ready);
	start = now_ms();
	last = start;

	while (!__atomic_load_n(&stop_signal, __ATOMIC_SEQ_CST)) {
		if (o.count && seen >= o.count)
			break;
		now = now_ms();
		if (now - start >= o.timeout)
			break;
		if (o.idle && now - last >= o.idle)
			break;
		if (!stop_at && stop_requested(&o))
			stop_at = now;
		if (stop_at && now - (last > stop_at ? last : stop_at) >=
		    o.grace)
			break;
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		while (!(o.count && seen >= o.count)) {
			r = recv_one(pfd.fd, &o);
			if (r == RECV_NONE)
				break;
			if (r == RECV_PRINTED) {
				seen++;
				last = now_ms();
			}
		}
	}
	drops = recv_drops(pfd.fd);
	close(pfd.fd);
	fflush(stdout);
	if (drops) {
		fprintf(stderr, "%s: the kernel dropped %u packets on %s\n",
			prog, drops, o.dev);
		return 3;
	}
	return 0;
}

/* ----------------------------------------------------------- serve/connect */

/*
 * Real sockets, for connections that conntrack and NAT must carry both
 * ways.  serve: TCP listeners that echo what they read, UDP sockets that
 * echo every datagram to its sender.  connect: concurrent TCP connections
 * or connected UDP sockets that each send one tagged message and wait for
 * its echo.
 */

#define SOCK_MAX	8192

struct serve_opts {
	struct port_list tcp;
	struct port_list udp;
	const char *ready;
	const char *stop;
	long long timeout;
};

enum sock_kind { SK_LISTEN, SK_UDP, SK_CONN };

struct serve_sock {
	enum sock_kind kind;
	u16 lport;
};

static const struct option serve_longopts[] = {
	{ "tcp",	required_argument, NULL, 't' },
	{ "udp",	required_argument, NULL, 'u' },
	{ "ready",	required_argument, NULL, 'y' },
	{ "stop",	required_argument, NULL, 'k' },
	{ "timeout",	required_argument, NULL, 'w' },
	{ NULL, 0, NULL, 0 }
};

static void serve_parse(struct serve_opts *o, int argc, char **argv)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", serve_longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			parse_ports(&o->tcp, optarg);
			break;
		case 'u':
			parse_ports(&o->udp, optarg);
			break;
		case 'y':
			o->ready = optarg;
			break;
		case 'k':
			o->stop = optarg;
			break;
		case 'w':
			o->timeout = (long long)arg_num("timeout", optarg,
							86400000);
			break;
		default:
			bad_option(argv);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->tcp.n && !o->udp.n)
		usage_error("serve needs --tcp or --udp");
	if (o->tcp.n + o->udp.n > SOCK_MAX / 2)
		usage_error("too many ports to serve (at most %d)",
			    SOCK_MAX / 2);
}

/* A non-blocking socket bound to INADDR_ANY:@port. */
static int bound_socket(int type, u16 port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd, one = 1;

	sin.sin_port = htons(port);
	fd = socket(AF_INET, type | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die(1, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die(1, "bind to port %u: %s", port, strerror(errno));
	if (type == SOCK_STREAM && listen(fd, 1024))
		die(1, "listen on port %u: %s", port, strerror(errno));
	return fd;
}

struct sock_set {
	struct pollfd pfd[SOCK_MAX];
	struct serve_sock info[SOCK_MAX];
	size_t n;
};

static void sock_set_add(struct sock_set *s, int fd, enum sock_kind kind,
			 u16 lport)
{
	if (s->n == SOCK_MAX) {
		close(fd);
		return;
	}
	s->pfd[s->n].fd = fd;
	s->pfd[s->n].events = POLLIN;
	s->pfd[s->n].revents = 0;
	s->info[s->n].kind = kind;
	s->info[s->n].lport = lport;
	s->n++;
}

static void serve_accept(struct sock_set *s, size_t i)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	char a[INET_ADDRSTRLEN];
	int fd;

	fd = accept4(s->pfd[i].fd, (struct sockaddr *)&peer, &len,
		     SOCK_NONBLOCK);
	if (fd < 0)
		return;
	printf("accept tcp %s %u %u\n", inet_ntop(AF_INET, &peer.sin_addr,
						  a, sizeof(a)),
	       ntohs(peer.sin_port), s->info[i].lport);
	sock_set_add(s, fd, SK_CONN, s->info[i].lport);
}

static void serve_echo_udp(struct sock_set *s, size_t i)
{
	static u8 buf[MAX_PKT];
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	char a[INET_ADDRSTRLEN];
	ssize_t n;

	n = recvfrom(s->pfd[i].fd, buf, sizeof(buf), 0,
		     (struct sockaddr *)&peer, &len);
	if (n < 0)
		return;
	printf("echo udp %s %u %u\n", inet_ntop(AF_INET, &peer.sin_addr,
						a, sizeof(a)),
	       ntohs(peer.sin_port), s->info[i].lport);
	sendto(s->pfd[i].fd, buf, (size_t)n, 0, (struct sockaddr *)&peer,
	       len);
}

/* Echoes what the peer sent; returns false once the connection is over. */
static bool serve_echo_tcp(struct sock_set *s, size_t i)
{
	static u8 buf[MAX_PKT];
	ssize_t n;

	n = read(s->pfd[i].fd, buf, sizeof(buf));
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0)
		return false;
	/* a few bytes into an empty socket buffer: never short */
	return write(s->pfd[i].fd, buf, (size_t)n) == n;
}

static int serve_main(int argc, char **argv)
{
	static struct sock_set s;
	struct serve_opts o = { .timeout = 60000 };
	long long start;
	size_t i;

	serve_parse(&o, argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (i = 0; i < o.tcp.n; i++)
		sock_set_add(&s, bound_socket(SOCK_STREAM, o.tcp.v[i]),
			     SK_LISTEN, o.tcp.v[i]);
	for (i = 0; i < o.udp.n; i++)
		sock_set_add(&s, bound_socket(SOCK_DGRAM, o.udp.v[i]),
			     SK_UDP, o.udp.v[i]);
	signal_ready(o.ready);
	start = now_ms();
	while (!__atomic_load_n(&stop_signal, __ATOMIC_SEQ_CST) &&
	       now_ms() - start < o.timeout && !file_exists(o.stop)) {
		if (poll(s.pfd, s.n, 50) <= 0)
			continue;
		for (i = 0; i < s.n; i++) {
			if (!s.pfd[i].revents)
				continue;
			if (s.info[i].kind == SK_LISTEN) {
				serve_accept(&s, i);
			} else if (s.info[i].kind == SK_UDP) {
				serve_echo_udp(&s, i);
			} else if (!serve_echo_tcp(&s, i)) {
				close(s.pfd[i].fd);
				s.n--;
				s.pfd[i] = s.pfd[s.n];
				s.info[i] = s.info[s.n];
				i--;
			}
		}
	}
	for (i = 0; i < s.n; i++)
		close(s.pfd[i].fd);
	free(o.tcp.v);
	free(o.udp.v);
	return 0;
}

struct connect_opts {
	struct in_addr dst;
	int proto;
	struct port_list ports;
	unsigned int repeat;
	long long timeout;
	long long retry;
	u32 tag;
};

enum flow_state { FLOW_CONNECTING, FLOW_WAITING, FLOW_OK, FLOW_FAILED };

struct flow {
	enum flow_state state;
	u16 lport;
	u16 rport;
	u32 tag;
	u8 got[TAG_LEN];
	size_t ngot;
};

static const struct option connect_longopts[] = {
	{ "dst",	required_argument, NULL, 'd' },
	{ "proto",	required_argument, NULL, 'p' },
	{ "ports",	required_argument, NULL, 'P' },
	{ "repeat",	required_argument, NULL, 'r' },
	{ "timeout",	required_argument, NULL, 'w' },
	{ "retry",	required_argument, NULL, 'R' },
	{ "tag",	required_argument, NULL, 'g' },
	{ NULL, 0, NULL, 0 }
};

static void connect_parse(struct connect_opts *o, int argc, char **argv)
{
	bool have_dst = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", connect_longopts,
				NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dst = arg_addr("dst", optarg);
			have_dst = true;
			break;
		case 'p':
			o->proto = arg_proto(optarg);
			if (o->proto != PROTO_TCP && o->proto != PROTO_UDP)
				usage_error("connect needs --proto tcp or udp");
			break;
		case 'P':
			parse_ports(&o->ports, optarg);
			break;
		case 'r':
			o->repeat = (unsigned int)arg_num("repeat", optarg,
							  SOCK_MAX);
			break;
		case 'w':
			o->timeout = (long long)arg_num("timeout", optarg,
							86400000);
			break;
		case 'R':
			o->retry = (long long)arg_num("retry", optarg,
						      86400000);
			break;
		case 'g':
			o->tag = (u32)arg_num("tag", optarg, 0xffffffffu);
			break;
		default:
			bad_option(argv);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!have_dst || !o->ports.n)
		usage_error("connect needs --dst and --ports");
	if (!o->repeat || o->ports.n * o->repeat > SOCK_MAX)
		usage_error("connect opens 1 to %d sockets", SOCK_MAX);
}

static void flow_send_tag(int fd, struct flow *f)
{
	u8 msg[TAG_LEN];

	put32(msg, TAG_MAGIC);
	put32(msg + 4, f->tag);
	if (send(fd, msg, sizeof(msg), MSG_NOSIGNAL) != sizeof(msg) &&
	    errno != EAGAIN)
		f->state = FLOW_FAILED;
}

static void flow_local_port(int fd, struct flow *f)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (!getsockname(fd, (struct sockaddr *)&sin, &len))
		f->lport = ntohs(sin.sin_port);
}

/* Starts the flow: non-blocking connect (UDP: connect, then send). */
static int flow_open(const struct connect_opts *o, struct flow *f)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int type = o->proto == PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	int fd;

	sin.sin_addr = o->dst;
	sin.sin_port = htons(f->rport);
	fd = socket(AF_INET, type | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die(1, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) &&
	    errno != EINPROGRESS) {
		f->state = FLOW_FAILED;
		return fd;
	}
	flow_local_port(fd, f);
	if (type == SOCK_DGRAM) {
		f->state = FLOW_WAITING;
		flow_send_tag(fd, f);
	}
	return fd;
}

/* The connection completed (TCP) or data arrived. */
static void flow_event(const struct pollfd *p, struct flow *f)
{
	int err = 0;
	socklen_t len = sizeof(err);
	ssize_t n;

	if (f->state == FLOW_CONNECTING) {
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) ||
		    err) {
			f->state = FLOW_FAILED;
			return;
		}
		flow_local_port(p->fd, f);
		f->state = FLOW_WAITING;
		flow_send_tag(p->fd, f);
		return;
	}
	n = recv(p->fd, f->got + f->ngot, sizeof(f->got) - f->ngot, 0);
	if (n < 0) {
		/* UDP: an ICMP error (port unreachable) fails the flow */
		if (errno != EAGAIN && errno != EINTR)
			f->state = FLOW_FAILED;
		return;
	}
	if (n == 0) {
		f->state = FLOW_FAILED;
		return;
	}
	f->ngot += (size_t)n;
	if (f->ngot < TAG_LEN)
		return;
	f->state = get32(f->got) == TAG_MAGIC && get32(f->got + 4) == f->tag ?
		   FLOW_OK : FLOW_FAILED;
}

static bool flows_pending(const struct flow *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (f[i].state == FLOW_CONNECTING ||
		    f[i].state == FLOW_WAITING)
			return true;
	return false;
}

static int connect_main(int argc, char **argv)
{
	static struct pollfd pfd[SOCK_MAX];
	static struct flow flows[SOCK_MAX];
	struct connect_opts o = {
		.proto = PROTO_TCP, .repeat = 1, .timeout = 10000,
		.retry = 1000, .tag = 1,
	};
	long long start, last_send;
	size_t i, n = 0, ok = 0;
	unsigned int r;

	connect_parse(&o, argc, argv);
	for (r = 0; r < o.repeat; r++) {
		for (i = 0; i < o.ports.n; i++, n++) {
			flows[n].rport = o.ports.v[i];
			flows[n].tag = o.tag + (u32)n;
			pfd[n].fd = flow_open(&o, &flows[n]);
		}
	}
	start = now_ms();
	last_send = start;
	while (flows_pending(flows, n) && now_ms() - start < o.timeout) {
		for (i = 0; i < n; i++) {
			pfd[i].events = flows[i].state == FLOW_CONNECTING ?
					POLLOUT : POLLIN;
			if (flows[i].state == FLOW_OK ||
			    flows[i].state == FLOW_FAILED)
				pfd[i].events = 0;
			pfd[i].revents = 0;
		}
		if (poll(pfd, n, 20) > 0) {
			for (i = 0; i < n; i++)
				if (pfd[i].revents)
					flow_event(&pfd[i], &flows[i]);
		}
		/* UDP has no retransmission of its own */
		if (o.proto == PROTO_UDP && now_ms() - last_send >= o.retry) {
			last_send = now_ms();
			for (i = 0; i < n; i++)
				if (flows[i].state == FLOW_WAITING)
					flow_send_tag(pfd[i].fd, &flows[i]);
		}
	}
	for (i = 0; i < n; i++) {
		close(pfd[i].fd);
		if (flows[i].state == FLOW_OK)
			ok++;
		printf("flow %s %u %u %s\n",
		       o.proto == PROTO_TCP ? "tcp" : "udp", flows[i].lport,
		       flows[i].rport, flows[i].state == FLOW_OK ? "ok" :
		       "fail");
	}
	printf("connected %zu %zu\n", ok, n);
	free(o.ports.v);
	return ok == n ? 0 : 3;
}

/* ------------------------------------------------------------------ main */

static void print_help(FILE *f)
{
	fprintf(f,
		"Usage: %s send --dst ADDR [--src ADDR] [--proto P] [--ports LIST]\n"
		"          [--sport N] [--sports LIST] [--ttl N] [--tos N] [--df] [--size N]\n"
		"          [--mf] [--frag-off BYTES] [--frag BYTES] [--trunc N]\n"
		"          [--tag N] [--repeat N] [--pps N] [--tcp-flags N] [--quiet]\n"
		"       %s recv --dev IF [--ready FILE] [--stop FILE] [--grace MS]\n"
		"          [--count N] [--idle MS] [--timeout MS] [--src ADDR]\n"
		"          [--dst ADDR] [--proto P] [--all] [--arp] [--no-icmp] [--isrc]\n"
		"       %s serve [--tcp LIST] [--udp LIST] [--ready FILE] [--stop FILE]\n"
		"          [--timeout MS]\n"
		"       %s connect --dst ADDR --ports LIST [--proto tcp|udp] [--repeat N]\n"
		"          [--timeout MS] [--retry MS] [--tag N]\n"
		"P: tcp udp udplite sctp dccp icmp gre or a protocol number.\n"
		"LIST: ports and ranges, e.g. 0,80,1024-1100,0x1400.\n"
		"Output of recv, one line per packet:\n"
		"  pkt PROTO SPORT DPORT TTL TOTLEN SRC DST TAG FLAGS\n"
		"  icmp TYPE CODE MTU SRC DST IPROTO ISPORT IDPORT IDST ITAG [ISRC]\n"
		"  arp OP SENDER TARGET\n"
		"Output of serve: accept tcp PEER PEERPORT PORT | echo udp PEER PEERPORT PORT\n"
		"Output of connect: flow PROTO LPORT RPORT ok|fail ..., connected OK TOTAL\n",
		prog, prog, prog, prog);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_help(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "send"))
		return send_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "recv"))
		return recv_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "serve"))
		return serve_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "connect"))
		return connect_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
		print_help(stdout);
		return 0;
	}
	fprintf(stderr, "%s: unknown mode '%s' (see %s help)\n", prog,
		argv[1], prog);
	return 2;
}
