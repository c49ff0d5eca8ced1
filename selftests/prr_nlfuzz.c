// SPDX-License-Identifier: GPL-2.0
/*
 * prr_nlfuzz: a bounded fuzzer of the "prr" generic netlink family.
 *
 * Sends PRR_NLFUZZ_COUNT (default 50000) messages to the family from a
 * fresh network namespace: random ones (command 0..PRR_CMD_MAX + 3, random
 * netlink flags including NLM_F_DUMP and a missing NLM_F_REQUEST or
 * NLM_F_ACK, attribute types 0..PRR_A_MAX + 3 with random lengths,
 * NLA_F_NESTED garbage) and mutations of valid requests (flipped bytes,
 * wrong attribute lengths and types, truncated or padded messages,
 * duplicated attributes, another command or flags).  The generator is a
 * xorshift PRNG seeded with PRR_NLFUZZ_SEED (printed; fixed by default),
 * so a failure replays exactly.
 *
 * Checked for every message: the kernel answers as netlink must (at most
 * one error or done, for the message's sequence number), and every
 * rejection carries an extack message, except those the generic netlink
 * core gives before prr sees the message (unknown command, no doit or dumpit
 * for it: EOPNOTSUPP; a message shorter than the genetlink header: EINVAL).
 * prr's state is modelled: each accepted NEW_ENTRY, DEL_ENTRY, FLUSH and
 * REPLACE_BEGIN/COMMIT/ABORT (NEW_ENTRY with PRR_A_STAGED goes to the
 * staging table) is decoded from the bytes sent (as the kernel parses them)
 * and applied to a model; every PRR_NLFUZZ_CHECK messages and at the end a dump of the table
 * must equal the model, entry by entry (address, port set, action, next hop).
 * Valid requests include sets of several pieces (PRR_A_PIECES, added or
 * deleted all or nothing) and names (PRR_A_NAME; DEL_ENTRY by name).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/prr.h>

#include "kselftest_harness.h"

#define DEFAULT_COUNT	50000
#define DEFAULT_SEED	0x70727221u
#define DEFAULT_CHECK	2000
#define MAX_ENTRIES	8192
#define TX_SIZE		512
#define RX_SIZE		65536
#define RX_WAIT_MS	5000
#define NOEXT_KINDS	16

/* The next hops the valid requests use: on-link through lo's 10.0.1.1/24. */
#define LINK_ADDR	"10.0.1.1/24"

struct rng {
	__u64 s;
};

struct model_entry {
	__u32 addr;		/* network order */
	__u16 value;
	__u16 mask;
	__u8 action;
	__u32 via;		/* network order, 0 unless action via */
	char name[PRR_NAME_MAX];	/* "" when none */
};

struct model {
	struct model_entry e[MAX_ENTRIES];
	unsigned int n;
};

/* What the kernel answered to one message. */
struct outcome {
	bool error_seen;	/* NLMSG_ERROR */
	bool done_seen;		/* NLMSG_DONE */
	int error;		/* positive errno, 0: accepted */
	bool has_msg;		/* NLMSGERR_ATTR_MSG */
	char msg[128];
	unsigned int terminals;	/* NLMSG_ERROR + NLMSG_DONE messages */
	unsigned int data;	/* data messages */
	bool multi;		/* a data message had NLM_F_MULTI */
	bool stray;		/* a message for another sequence number */
};

/* A rejection without extack, by errno and command, for the report. */
struct noext {
	int error;
	int cmd;
	unsigned int count;
};

struct tally {
	unsigned int sent;
	unsigned int accepted;
	unsigned int silent;
	unsigned int rejected;
	unsigned int with_msg;
	unsigned int applied;
	unsigned int by_errno[140];
	struct noext noext[NOEXT_KINDS];
	unsigned int noext_kinds;
	unsigned int bad;
};

struct fuzz {
	/* First, so that the netlink messages in them are aligned. */
	char tx[TX_SIZE];
	char rx[RX_SIZE];
	int fd;
	__u32 portid;
	__u16 family;
	__u32 seq;
	struct rng rng;
	struct model model;
	struct model staged;	/* PRR_CMD_REPLACE_BEGIN's staging table */
	bool staging;
	struct tally t;
	unsigned int txlen;	/* bytes to send */
	bool bad_len;		/* mutate_once() chose a wrong nlmsg_len */
};

FIXTURE(nlfuzz) {
	struct fuzz f;
};

static unsigned long env_num(const char *name, unsigned long def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return def;
	v = strtoul(s, &end, 0);
	return *end ? def : v;
}

/* xorshift64*: small, fast, and the same sequence everywhere. */
static __u32 rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (__u32)((r->s * 0x2545f4914f6cdd1dull) >> 32);
}

static __u32 below(struct rng *r, __u32 n)
{
	return n ? rnd(r) % n : 0;
}

static bool chance(struct rng *r, __u32 one_in)
{
	return below(r, one_in) == 0;
}

/* ------------------------------------------------------------ messages */

static struct nlmsghdr *msg_start(struct fuzz *self, __u8 cmd,
				  __u16 flags)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)self->tx;
	struct genlmsghdr *g;

	memset(self->tx, 0, sizeof(self->tx));
	nlh->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	nlh->nlmsg_type = self->family;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = ++self->seq;
	g = NLMSG_DATA(nlh);
	g->cmd = cmd;
	g->version = PRR_GENL_VERSION;
	return nlh;
}

/* Appends an attribute; silently stops when the buffer is full. */
static struct nlattr *put_attr(struct nlmsghdr *nlh, __u16 type,
			       const void *data, __u16 len)
{
	struct nlattr *a = (struct nlattr *)((char *)nlh +
					     NLMSG_ALIGN(nlh->nlmsg_len));

	if (NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(NLA_HDRLEN + len) >
	    TX_SIZE)
		return NULL;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(a->nla_len);
	return a;
}

static void put_u8(struct nlmsghdr *nlh, __u16 type, __u8 v)
{
	put_attr(nlh, type, &v, sizeof(v));
}

static void put_u16(struct nlmsghdr *nlh, __u16 type, __u16 v)
{
	put_attr(nlh, type, &v, sizeof(v));
}

static void put_u32(struct nlmsghdr *nlh, __u16 type, __u32 v)
{
	put_attr(nlh, type, &v, sizeof(v));
}

static __u32 pick_addr(struct rng *r)
{
	static const char * const pool[] = {
		"192.0.2.1", "192.0.2.2", "198.51.100.7", "224.0.0.1",
		"0.0.0.0", "255.255.255.255",
	};

	if (chance(r, 50))
		return rnd(r);
	return inet_addr(pool[below(r, chance(r, 8) ? 6 : 3)]);
}

/* Masks that nest, overlap partially and are disjoint. */
static void pick_set(struct rng *r, __u16 *value, __u16 *mask)
{
	static const __u16 masks[] = {
		0x0000, 0xffff, 0x1400, 0x0c00, 0xfc00, 0xff00, 0x000f,
		0x1c00,
	};

	*mask = masks[below(r, ARRAY_SIZE(masks))];
	*value = (__u16)rnd(r);
	if (!chance(r, 20))
		*value &= *mask;
	if (*mask == 0xffff && !chance(r, 4))
		*value = (__u16)(1024 + below(r, 64));
}

static __u32 pick_via(struct rng *r)
{
	static const char * const pool[] = {
		"10.0.1.2", "10.0.1.3", "10.0.1.1", "10.9.9.9", "127.0.0.1",
	};

	return inet_addr(pool[below(r, chance(r, 4) ? 5 : 2)]);
}

static __u16 base_flags(struct rng *r)
{
	__u16 f = NLM_F_REQUEST | NLM_F_ACK;

	if (chance(r, 10))
		f &= ~NLM_F_REQUEST;
	if (chance(r, 5))
		f &= ~NLM_F_ACK;
	if (chance(r, 10))
		f |= NLM_F_DUMP;
	if (chance(r, 10))
		f |= (__u16)rnd(r) & 0x0f1c;	/* ECHO, ROOT..APPEND */
	return f;
}

/* Closes a nest opened by put_attr(nlh, type | NLA_F_NESTED, NULL, 0). */
static void nest_end(struct nlmsghdr *nlh, struct nlattr *nest)
{
	if (nest)
		nest->nla_len = (__u16)((char *)nlh + nlh->nlmsg_len -
					(char *)nest);
}

/* 1 to 3 pieces, which may well overlap (the kernel then refuses all). */
static void put_pieces(struct rng *r, struct nlmsghdr *nlh)
{
	unsigned int i, n = 1 + below(r, 3);
	struct nlattr *outer, *inner;
	__u16 value, mask;

	outer = put_attr(nlh, PRR_A_PIECES | NLA_F_NESTED, NULL, 0);
	for (i = 0; i < n; i++) {
		pick_set(r, &value, &mask);
		inner = put_attr(nlh, (__u16)(i + 1) | NLA_F_NESTED, NULL, 0);
		put_u16(nlh, PRR_A_PORT_VALUE, value);
		put_u16(nlh, PRR_A_PORT_MASK, mask);
		nest_end(nlh, inner);
	}
	nest_end(nlh, outer);
}

static void put_name(struct rng *r, struct nlmsghdr *nlh)
{
	static const char * const pool[] = { "alice", "bob", "cpe-3" };
	const char *name = pool[below(r, ARRAY_SIZE(pool))];

	put_attr(nlh, PRR_A_NAME, name, (__u16)(strlen(name) + 1));
}

/* A request that could well be accepted. */
static void gen_valid(struct fuzz *self)
{
	static const __u8 cmds[] = {
		PRR_CMD_NEW_ENTRY, PRR_CMD_NEW_ENTRY, PRR_CMD_NEW_ENTRY,
		PRR_CMD_DEL_ENTRY, PRR_CMD_DEL_ENTRY, PRR_CMD_GET_ENTRY,
		PRR_CMD_FLUSH, PRR_CMD_GET_STATS, PRR_CMD_SET_CONFIG,
		PRR_CMD_GET_CONFIG, PRR_CMD_NEW_NAT, PRR_CMD_DEL_NAT,
		PRR_CMD_GET_NAT, PRR_CMD_REPLACE_BEGIN, PRR_CMD_NEW_ENTRY,
		PRR_CMD_REPLACE_COMMIT, PRR_CMD_REPLACE_ABORT,
	};
	struct rng *r = &self->rng;
	__u8 cmd = cmds[below(r, sizeof(cmds))];
	struct nlmsghdr *nlh;
	__u16 value, mask;
	__u8 action;

	/* A flush now and then, rarely, so that the table grows. */
	if (cmd == PRR_CMD_FLUSH && !chance(r, 8))
		cmd = PRR_CMD_DEL_ENTRY;
	nlh = msg_start(self, cmd, NLM_F_REQUEST | NLM_F_ACK);
	if (cmd == PRR_CMD_GET_ENTRY && chance(r, 2))
		nlh->nlmsg_flags |= NLM_F_DUMP;
	if (cmd == PRR_CMD_GET_NAT)
		nlh->nlmsg_flags |= NLM_F_DUMP;
	switch (cmd) {
	case PRR_CMD_NEW_ENTRY:
	case PRR_CMD_DEL_ENTRY:
	case PRR_CMD_GET_ENTRY:
		if (cmd == PRR_CMD_DEL_ENTRY && chance(r, 6)) {
			put_name(r, nlh);
			if (chance(r, 2))
				put_u32(nlh, PRR_A_ADDR, pick_addr(r));
			break;
		}
		put_u32(nlh, PRR_A_ADDR, pick_addr(r));
		if (cmd != PRR_CMD_GET_ENTRY && chance(r, 4)) {
			put_pieces(r, nlh);
		} else {
			pick_set(r, &value, &mask);
			put_u16(nlh, PRR_A_PORT_VALUE, value);
			put_u16(nlh, PRR_A_PORT_MASK, mask);
		}
		if (cmd != PRR_CMD_NEW_ENTRY)
			break;
		if (chance(r, 3))
			put_name(r, nlh);
		action = (__u8)(1 + below(r, PRR_ACTION_MAX));
		put_u8(nlh, PRR_A_ACTION, action);
		if (action == PRR_ACTION_VIA || chance(r, 20))
			put_u32(nlh, PRR_A_VIA, pick_via(r));
		if (chance(r, 6))
			put_u32(nlh, PRR_A_OIF, below(r, 3));
		if (chance(r, 4))
			put_attr(nlh, PRR_A_STAGED, NULL, 0);
		break;
	case PRR_CMD_FLUSH:
		if (chance(r, 2))
			put_u32(nlh, PRR_A_ADDR, pick_addr(r));
		break;
	case PRR_CMD_SET_CONFIG:
		if (chance(r, 2))
			put_u8(nlh, PRR_A_SOURCE_CHECK, (__u8)below(r, 3));
		if (chance(r, 2))
			put_u8(nlh, PRR_A_UNOWNED, (__u8)below(r, 3));
		if (chance(r, 2))
			put_u8(nlh, PRR_A_ENTRY_COUNTERS, (__u8)below(r, 3));
		break;
	case PRR_CMD_NEW_NAT:
	case PRR_CMD_DEL_NAT:
		put_u32(nlh, PRR_A_NAT_PREFIX, inet_addr("192.168.1.0"));
		put_u8(nlh, PRR_A_NAT_PREFIX_LEN, (__u8)(16 + below(r, 20)));
		if (cmd == PRR_CMD_NEW_NAT)
			put_u32(nlh, PRR_A_ADDR, pick_addr(r));
		if (chance(r, 4))
			put_u32(nlh, PRR_A_OIF, below(r, 3));
		break;
	}
	self->txlen = nlh->nlmsg_len;
}

/* Attributes of random types, lengths and contents; some nested. */
static void put_garbage(struct rng *r, struct nlmsghdr *nlh, int depth)
{
	unsigned int i, n = below(r, 6);
	__u8 payload[40];
	__u16 type, len;
	struct nlattr *nest;

	for (i = 0; i < n; i++) {
		type = (__u16)below(r, PRR_A_MAX + 4);
		if (chance(r, 10))
			type |= NLA_F_NESTED;
		if (chance(r, 20))
			type |= NLA_F_NET_BYTEORDER;
		if (depth < 2 && chance(r, 8)) {
			nest = put_attr(nlh, type | NLA_F_NESTED, NULL, 0);
			if (!nest)
				return;
			put_garbage(r, nlh, depth + 1);
			nest->nla_len = (__u16)((char *)nlh + nlh->nlmsg_len -
						   (char *)nest);
			continue;
		}
		len = (__u16)below(r, chance(r, 4) ? sizeof(payload) : 9);
		for (unsigned int j = 0; j < len; j++)
			payload[j] = (__u8)rnd(r);
		if (!put_attr(nlh, type, payload, len))
			return;
	}
}

static void gen_random(struct fuzz *self)
{
	struct rng *r = &self->rng;
	struct nlmsghdr *nlh;

	nlh = msg_start(self, (__u8)below(r, PRR_CMD_MAX + 4),
			base_flags(r));
	put_garbage(r, nlh, 0);
	self->txlen = nlh->nlmsg_len;
}

/* The attribute starting at byte @n of the payload, or NULL. */
static struct nlattr *nth_attr(struct fuzz *self, unsigned int n)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)self->tx;
	unsigned int off = NLMSG_LENGTH(GENL_HDRLEN), k = 0;
	struct nlattr *a;

	while (off + NLA_HDRLEN <= self->txlen) {
		a = (struct nlattr *)((char *)nlh + off);
		if (a->nla_len < NLA_HDRLEN)
			return NULL;
		if (k++ == n)
			return a;
		off += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

static void mutate_once(struct fuzz *self)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)self->tx;
	struct genlmsghdr *g = NLMSG_DATA(nlh);
	struct rng *r = &self->rng;
	unsigned int hdr = NLMSG_LENGTH(GENL_HDRLEN);
	struct nlattr *a = nth_attr(self, below(r, 5));

	switch (below(r, 10)) {
	case 0:	/* a byte of the attributes */
		if (self->txlen > hdr)
			self->tx[hdr + below(r, self->txlen - hdr)] ^=
				(char)(1 + below(r, 255));
		break;
	case 1:	/* an attribute's length */
		if (a)
			a->nla_len = (__u16)below(r, a->nla_len + 9);
		break;
	case 2:	/* an attribute's type */
		if (a)
			a->nla_type = (__u16)below(r, PRR_A_MAX + 4) |
				      (chance(r, 4) ? NLA_F_NESTED : 0);
		break;
	case 3:	/* cut the message short, consistently */
		self->txlen = NLMSG_HDRLEN + below(r, self->txlen -
						    NLMSG_HDRLEN + 1);
		nlh->nlmsg_len = self->txlen;
		break;
	case 4:	/* see gen_message() */
		self->bad_len = true;
		break;
	case 5:	/* a duplicate of the first attribute, changed */
		a = nth_attr(self, 0);
		if (a && put_attr(nlh, a->nla_type,
				  (char *)a + NLA_HDRLEN,
				  (__u16)(a->nla_len - NLA_HDRLEN)))
			self->tx[nlh->nlmsg_len - 1] ^= (char)rnd(r);
		self->txlen = nlh->nlmsg_len;
		break;
	case 6:	/* garbage appended */
		put_garbage(r, nlh, 0);
		self->txlen = nlh->nlmsg_len;
		break;
	case 7:
		g->cmd = (__u8)below(r, PRR_CMD_MAX + 4);
		break;
	case 8:
		nlh->nlmsg_flags = base_flags(r);
		break;
	default: /* the genetlink header's version and reserved field */
		g->version = (__u8)rnd(r);
		if (chance(r, 2))
			g->reserved = (__u16)rnd(r);
		break;
	}
}

static void gen_message(struct fuzz *self)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)self->tx;
	struct rng *r = &self->rng;
	unsigned int i, n;

	switch (below(r, 4)) {
	case 0:
		gen_random(self);
		break;
	case 1:
		gen_valid(self);
		break;
	default:
		gen_valid(self);
		self->bad_len = false;
		n = 1 + below(r, 3);
		for (i = 0; i < n; i++)
			mutate_once(self);
		/*
		 * A header length that disagrees with what is sent: too short
		 * for a header or longer than the datagram, which netlink
		 * ignores (a length in between is mutation 3: the bytes after
		 * it would be parsed as another message).  Last, as the other
		 * mutations append at the length.
		 */
		if (self->bad_len && chance(r, 2))
			nlh->nlmsg_len = below(r, NLMSG_HDRLEN);
		else if (self->bad_len)
			nlh->nlmsg_len = self->txlen + 1 + below(r, 64);
	}
	/* Only to prr, never to another family; one sequence number. */
	nlh->nlmsg_type = self->family;
	nlh->nlmsg_seq = self->seq;
	nlh->nlmsg_pid = 0;
}

/* -------------------------------------------------------------- replies */

static int extack_cb(const struct nlattr *attr, void *data)
{
	struct outcome *o = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0 &&
	    mnl_attr_get_payload_len(attr) > 1) {
		o->has_msg = true;
		snprintf(o->msg, sizeof(o->msg), "%s", mnl_attr_get_str(attr));
	}
	return MNL_CB_OK;
}

static void read_error(const struct nlmsghdr *nlh, struct outcome *o)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);

	o->terminals++;
	o->error_seen = true;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		o->error = EBADMSG;
		return;
	}
	o->error = e->error < 0 ? -e->error : e->error;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off = sizeof(e->error) + NLMSG_ALIGN(e->msg.nlmsg_len);
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    off <= mnl_nlmsg_get_payload_len(nlh))
		mnl_attr_parse(nlh, off, extack_cb, o);
}

static void read_done(const struct nlmsghdr *nlh, struct outcome *o)
{
	int err = 0;

	o->terminals++;
	o->done_seen = true;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err))
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	o->error = err < 0 ? -err : 0;
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    mnl_nlmsg_get_payload_len(nlh) > sizeof(err))
		mnl_attr_parse(nlh, sizeof(err), extack_cb, o);
}

/* Sorts one received buffer into @o (messages of sequence @seq). */
static int read_batch(const char *buf, ssize_t len, __u32 seq,
		      struct outcome *o)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int n = (int)len;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		if (nlh->nlmsg_seq != seq) {
			o->stray = true;
			continue;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			read_error(nlh, o);
		} else if (nlh->nlmsg_type == NLMSG_DONE) {
			read_done(nlh, o);
		} else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
			o->data++;
			if (nlh->nlmsg_flags & NLM_F_MULTI)
				o->multi = true;
		}
	}
	return n ? -1 : 0;
}

/*
 * Netlink requests to the kernel are handled inside sendmsg(): when it
 * returns, every reply is queued, except the rest of a dump, which each
 * recvmsg() produces.  So: read what is queued, and keep reading while a
 * dump is unfinished.  Returns 0, or -errno.
 */
static int collect(struct fuzz *self, __u32 seq,
		   struct outcome *o)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	ssize_t len;
	int flags;

	memset(o, 0, sizeof(*o));
	for (;;) {
		flags = o->multi && !o->terminals ? 0 : MSG_DONTWAIT;
		if (!flags && poll(&pfd, 1, RX_WAIT_MS) != 1)
			return -ETIMEDOUT;
		len = recv(self->fd, self->rx, RX_SIZE, flags);
		if (len < 0 && errno == EAGAIN)
			return 0;
		if (len < 0)
			return -errno;
		if (read_batch(self->rx, len, seq, o))
			return -EBADMSG;
	}
}

/* --------------------------------------------------------------- model */

/* What the kernel saw of the message just sent, as genetlink parses it. */
struct request {
	bool effective;		/* reaches prr's doit */
	__u8 cmd;
	struct nlattr *attr[PRR_A_MAX + 1];
};

static void decode(struct fuzz *self, struct request *req)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)self->tx;
	unsigned int off = NLMSG_LENGTH(GENL_HDRLEN), len = nlh->nlmsg_len;
	struct nlattr *a;
	__u16 type;

	memset(req, 0, sizeof(*req));
	if (len < NLMSG_LENGTH(GENL_HDRLEN) || len > self->txlen ||
	    !(nlh->nlmsg_flags & NLM_F_REQUEST) ||
	    nlh->nlmsg_type != self->family ||
	    (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP)
		return;
	req->effective = true;
	req->cmd = ((struct genlmsghdr *)NLMSG_DATA(nlh))->cmd;
	while (off + NLA_HDRLEN <= len) {
		a = (struct nlattr *)((char *)nlh + off);
		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > len)
			break;
		type = a->nla_type & NLA_TYPE_MASK;
		if (type <= PRR_A_MAX)
			req->attr[type] = a;	/* the last one wins */
		off += NLA_ALIGN(a->nla_len);
	}
}

static __u32 attr_u32(const struct nlattr *a)
{
	__u32 v = 0;

	if (a)
		memcpy(&v, (const char *)a + NLA_HDRLEN, sizeof(v));
	return v;
}

static __u16 attr_u16(const struct nlattr *a)
{
	__u16 v = 0;

	if (a)
		memcpy(&v, (const char *)a + NLA_HDRLEN, sizeof(v));
	return v;
}

static __u8 attr_u8(const struct nlattr *a)
{
	return a ? *((const __u8 *)a + NLA_HDRLEN) : 0;
}

static int model_find(const struct model *m, __u32 addr, __u16 value,
		      __u16 mask)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		if (m->e[i].addr == addr && m->e[i].value == value &&
		    m->e[i].mask == mask)
			return (int)i;
	return -1;
}

static void model_del(struct model *m, unsigned int i)
{
	m->e[i] = m->e[--m->n];
}

struct piece {
	__u16 value, mask;
};

/*
 * The pieces of an accepted request: PRR_A_PIECES' nests, else its one
 * PRR_A_PORT_VALUE / PRR_A_PORT_MASK.  Returns their number.
 */
static unsigned int request_pieces(struct nlattr *const *at, struct piece *p)
{
	const struct nlattr *nest = at[PRR_A_PIECES], *inner, *a;
	unsigned int n = 0, off, ioff;
	__u16 type;

	if (!nest) {
		p[0].value = attr_u16(at[PRR_A_PORT_VALUE]);
		p[0].mask = attr_u16(at[PRR_A_PORT_MASK]);
		return 1;
	}
	for (off = NLA_HDRLEN; off + NLA_HDRLEN <= nest->nla_len &&
	     n < PRR_PIECES_MAX; off += NLA_ALIGN(inner->nla_len)) {
		inner = (const struct nlattr *)((const char *)nest + off);
		if (inner->nla_len < NLA_HDRLEN ||
		    off + inner->nla_len > nest->nla_len)
			break;
		p[n].value = 0;
		p[n].mask = 0;
		for (ioff = NLA_HDRLEN; ioff + NLA_HDRLEN <= inner->nla_len;
		     ioff += NLA_ALIGN(a->nla_len)) {
			a = (const struct nlattr *)((const char *)inner + ioff);
			if (a->nla_len < NLA_HDRLEN ||
			    ioff + a->nla_len > inner->nla_len)
				break;
			type = a->nla_type & NLA_TYPE_MASK;
			if (type == PRR_A_PORT_VALUE)
				p[n].value = attr_u16(a);
			else if (type == PRR_A_PORT_MASK)
				p[n].mask = attr_u16(a);
		}
		n++;
	}
	return n;
}

/* The request's PRR_A_NAME into @name ("" when none). */
static void request_name(struct nlattr *const *at, char *name)
{
	const struct nlattr *a = at[PRR_A_NAME];
	size_t len = a ? a->nla_len - NLA_HDRLEN : 0;

	/* Zero-filled: entries are compared with memcmp(). */
	memset(name, 0, PRR_NAME_MAX);
	if (len >= PRR_NAME_MAX)
		len = PRR_NAME_MAX - 1;
	if (len)
		memcpy(name, (const char *)a + NLA_HDRLEN, len);
}

/*
 * Applies an accepted request to the model; false when the model cannot
 * explain the acceptance (a NEW_ENTRY of a present key, a DEL_ENTRY of an
 * absent one).
 */
static bool model_apply(struct fuzz *self, const struct request *req)
{
	struct nlattr *const *at = req->attr;
	struct model *m = &self->model;
	__u32 addr = attr_u32(at[PRR_A_ADDR]);
	struct piece p[PRR_PIECES_MAX];
	char name[PRR_NAME_MAX];
	struct model_entry *e;
	unsigned int i, n, gone;
	int k;

	switch (req->cmd) {
	case PRR_CMD_REPLACE_BEGIN:
		if (self->staging)
			return false;
		self->staging = true;
		self->staged.n = 0;
		return true;
	case PRR_CMD_REPLACE_COMMIT:
		if (!self->staging)
			return false;
		*m = self->staged;
		self->staging = false;
		return true;
	case PRR_CMD_REPLACE_ABORT:
		if (!self->staging)
			return false;
		self->staging = false;
		return true;
	case PRR_CMD_NEW_ENTRY:
		if (at[PRR_A_STAGED]) {
			if (!self->staging)
				return false;
			m = &self->staged;
		}
		n = request_pieces(at, p);
		if (m->n + n > MAX_ENTRIES)
			return false;
		for (i = 0; i < n; i++)
			if (model_find(m, addr, p[i].value, p[i].mask) >= 0)
				return false;
		request_name(at, name);
		for (i = 0; i < n; i++) {
			e = &m->e[m->n++];
			e->addr = addr;
			e->value = p[i].value;
			e->mask = p[i].mask;
			e->action = attr_u8(at[PRR_A_ACTION]);
			e->via = e->action == PRR_ACTION_VIA ?
				 attr_u32(at[PRR_A_VIA]) : 0;
			memcpy(e->name, name, sizeof(name));
		}
		return true;
	case PRR_CMD_DEL_ENTRY:
		if (at[PRR_A_NAME]) {
			request_name(at, name);
			gone = 0;
			for (i = m->n; i-- > 0;)
				if (!strcmp(m->e[i].name, name) &&
				    (!at[PRR_A_ADDR] || m->e[i].addr == addr)) {
					model_del(m, i);
					gone++;
				}
			return gone > 0;
		}
		n = request_pieces(at, p);
		for (i = 0; i < n; i++)
			if (model_find(m, addr, p[i].value, p[i].mask) < 0)
				return false;
		for (i = 0; i < n; i++) {
			k = model_find(m, addr, p[i].value, p[i].mask);
			if (k >= 0)	/* a piece given twice is gone already */
				model_del(m, (unsigned int)k);
		}
		return true;
	case PRR_CMD_FLUSH:
		for (i = m->n; i-- > 0;)
			if (!at[PRR_A_ADDR] || m->e[i].addr == addr)
				model_del(m, i);
		return true;
	}
	return true;
}

/* ---------------------------------------------------------------- dump */

struct dumped {
	struct model m;
	bool malformed;
	bool interrupted;
};

static int dump_attr_cb(const struct nlattr *attr, void *data)
{
	struct model_entry *e = data;

	switch (mnl_attr_get_type(attr)) {
	case PRR_A_ADDR:
		e->addr = mnl_attr_get_u32(attr);
		break;
	case PRR_A_PORT_VALUE:
		e->value = mnl_attr_get_u16(attr);
		break;
	case PRR_A_PORT_MASK:
		e->mask = mnl_attr_get_u16(attr);
		break;
	case PRR_A_ACTION:
		e->action = mnl_attr_get_u8(attr);
		break;
	case PRR_A_VIA:
		e->via = mnl_attr_get_u32(attr);
		break;
	case PRR_A_NAME:
		/* e is zero-filled; the NUL stays within the array. */
		strncpy(e->name, mnl_attr_get_str(attr), sizeof(e->name) - 1);
		break;
	}
	return MNL_CB_OK;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dumped *d = data;
	struct model_entry e = {};

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		d->interrupted = true;
	if (d->m.n == MAX_ENTRIES) {
		d->malformed = true;
		return MNL_CB_OK;
	}
	if (mnl_attr_parse(nlh, GENL_HDRLEN, dump_attr_cb, &e) < 0)
		d->malformed = true;
	d->m.e[d->m.n++] = e;
	return MNL_CB_OK;
}

static int dump_table(struct fuzz *self, struct dumped *d)
{
	struct nlmsghdr *nlh;
	ssize_t len;
	int ret;

	memset(d, 0, sizeof(*d));
	nlh = msg_start(self, PRR_CMD_GET_ENTRY, NLM_F_REQUEST | NLM_F_DUMP);
	if (send(self->fd, nlh, nlh->nlmsg_len, 0) < 0)
		return -errno;
	do {
		len = recv(self->fd, self->rx, RX_SIZE, 0);
		if (len < 0)
			return -errno;
		ret = mnl_cb_run(self->rx, len, nlh->nlmsg_seq, self->portid,
				 dump_cb, d);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct model_entry *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->mask != y->mask)
		return x->mask < y->mask ? -1 : 1;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return 0;
}

static void entry_str(const struct model_entry *e, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN], v[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &e->addr, a, sizeof(a));
	inet_ntop(AF_INET, &e->via, v, sizeof(v));
	snprintf(buf, len, "%s 0x%04x/0x%04x action %u via %s name \"%s\"", a,
		 e->value, e->mask, e->action, v, e->name);
}

/* The table equals the model; the first differences are logged. */
static void check_table(struct __test_metadata *_metadata,
			struct fuzz *self, const char *when)
{
	static struct dumped d;
	static struct model want;
	unsigned int i, shown = 0;
	char s1[128], s2[128];

	ASSERT_EQ(0, dump_table(self, &d)) {
		TH_LOG("%s: dump failed: %s", when, strerror(errno));
	}
	EXPECT_FALSE(d.malformed);
	EXPECT_FALSE(d.interrupted);
	want = self->model;
	qsort(want.e, want.n, sizeof(want.e[0]), entry_cmp);
	qsort(d.m.e, d.m.n, sizeof(d.m.e[0]), entry_cmp);
	EXPECT_EQ(want.n, d.m.n) {
		TH_LOG("%s: model has %u entries, the table %u", when, want.n,
		       d.m.n);
	}
	for (i = 0; i < want.n && i < d.m.n && shown < 5; i++) {
		if (!memcmp(&want.e[i], &d.m.e[i], sizeof(want.e[i])))
			continue;
		entry_str(&want.e[i], s1, sizeof(s1));
		entry_str(&d.m.e[i], s2, sizeof(s2));
		TH_LOG("%s: model %s, table %s", when, s1, s2);
		shown++;
	}
	EXPECT_EQ(0u, shown);
}

/* ------------------------------------------------------------ checking */

/*
 * Rejections the genetlink core gives before prr's handlers run, without
 * extack in the kernels tested: EOPNOTSUPP for a command the family does
 * not have or has no doit (dumpit) for, EINVAL for a message too short for
 * the genetlink header.
 */
static bool core_rejection(const struct request *req,
			   struct fuzz *self, int error)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)self->tx;

	if (error == EOPNOTSUPP)
		return true;
	return error == EINVAL && nlh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN);
}

static void note_noext(struct tally *t, int error, int cmd)
{
	unsigned int i;

	for (i = 0; i < t->noext_kinds; i++) {
		if (t->noext[i].error == error && t->noext[i].cmd == cmd) {
			t->noext[i].count++;
			return;
		}
	}
	if (t->noext_kinds == NOEXT_KINDS)
		return;
	t->noext[i].error = error;
	t->noext[i].cmd = cmd;
	t->noext[i].count = 1;
	t->noext_kinds++;
}

static void log_message(struct __test_metadata *_metadata,
			struct fuzz *self, unsigned int n)
{
	char hex[3 * 96 + 1];
	unsigned int i, len = self->txlen < 96 ? self->txlen : 96;

	for (i = 0; i < len; i++)
		snprintf(hex + 3 * i, 4, "%02x ",
			 (unsigned char)self->tx[i]);
	hex[3 * len] = '\0';
	TH_LOG("message %u (%u bytes sent): %s", n, self->txlen, hex);
}

/* Judges the answer to message @n; returns false when it is wrong. */
static bool judge(struct __test_metadata *_metadata,
		  struct fuzz *self, unsigned int n,
		  const struct outcome *o)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)self->tx;
	struct tally *t = &self->t;
	struct request req;

	decode(self, &req);
	if (o->stray || o->terminals > 1) {
		TH_LOG("message %u: %u terminal replies%s", n, o->terminals,
		       o->stray ? ", and one for another sequence" : "");
		return false;
	}
	if (o->error) {
		t->rejected++;
		if (o->error < 140)
			t->by_errno[o->error]++;
		if (o->has_msg) {
			t->with_msg++;
			return true;
		}
		note_noext(t, o->error, nlh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN) ?
			   -1 : ((struct genlmsghdr *)NLMSG_DATA(nlh))->cmd);
		if (core_rejection(&req, self, o->error))
			return true;
		TH_LOG("message %u: %s without an extack message", n,
		       strerror(o->error));
		return false;
	}
	if (o->terminals)
		t->accepted++;
	else
		t->silent++;
	if (!req.effective)
		return true;
	if (!model_apply(self, &req)) {
		TH_LOG("message %u (cmd %u, flags 0x%x) accepted, which the model cannot explain",
		       n, req.cmd, nlh->nlmsg_flags);
		return false;
	}
	if (req.cmd == PRR_CMD_NEW_ENTRY || req.cmd == PRR_CMD_DEL_ENTRY ||
	    req.cmd == PRR_CMD_FLUSH || req.cmd == PRR_CMD_REPLACE_COMMIT)
		t->applied++;
	return true;
}

/* ------------------------------------------------------------- fixture */

static __u16 resolve_family(struct fuzz *self)
{
	struct nlmsghdr *nlh;
	struct nlattr *a;
	ssize_t len;
	__u16 id = 0;

	self->family = GENL_ID_CTRL;
	nlh = msg_start(self, CTRL_CMD_GETFAMILY, NLM_F_REQUEST);
	((struct genlmsghdr *)NLMSG_DATA(nlh))->version = 1;
	put_attr(nlh, CTRL_ATTR_FAMILY_NAME, PRR_GENL_NAME,
		 sizeof(PRR_GENL_NAME));
	if (send(self->fd, nlh, nlh->nlmsg_len, 0) < 0)
		return 0;
	len = recv(self->fd, self->rx, RX_SIZE, 0);
	nlh = (struct nlmsghdr *)self->rx;
	if (len < (ssize_t)NLMSG_LENGTH(GENL_HDRLEN) ||
	    nlh->nlmsg_type != GENL_ID_CTRL)
		return 0;
	mnl_attr_for_each(a, nlh, GENL_HDRLEN)
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
			id = mnl_attr_get_u16(a);
	return id;
}

FIXTURE_SETUP(nlfuzz)
{
	struct fuzz *f = &self->f;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t salen = sizeof(sa);
	int one = 1, rcvbuf = 4 << 20;

	ASSERT_EQ(0, unshare(CLONE_NEWNET)) {
		TH_LOG("unshare(CLONE_NEWNET): %s", strerror(errno));
	}
	/* A connected subnet, so that "via" requests can succeed. */
	ASSERT_EQ(0, system("ip link set lo up && ip addr add " LINK_ADDR
			    " dev lo"));
	f->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	ASSERT_LE(0, f->fd);
	ASSERT_EQ(0, bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, getsockname(f->fd, (struct sockaddr *)&sa, &salen));
	f->portid = sa.nl_pid;
	ASSERT_EQ(0, setsockopt(f->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
				sizeof(one)));
	ASSERT_EQ(0, setsockopt(f->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
				sizeof(one)));
	setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	f->family = resolve_family(f);
	ASSERT_NE(0, f->family) {
		TH_LOG("no family \"%s\": is prr loaded?", PRR_GENL_NAME);
	}
}

FIXTURE_TEARDOWN(nlfuzz)
{
	struct fuzz *f = &self->f;

	if (f->fd >= 0)
		close(f->fd);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void log_tally(struct __test_metadata *_metadata,
		      struct fuzz *self, double secs)
{
	struct tally *t = &self->t;
	char line[512];
	size_t len = 0;
	unsigned int i;

	TH_LOG("%u messages in %.1f s (%.0f/s), %u entries at the end",
	       t->sent, secs, t->sent / (secs > 0 ? secs : 1),
	       self->model.n);
	TH_LOG("%u acked, %u accepted silently, %u rejected (%u with extack)",
	       t->accepted, t->silent, t->rejected, t->with_msg);
	TH_LOG("%u table changes (add, delete, flush) applied to the model",
	       t->applied);
	for (i = 0; i < 140; i++)
		if (t->by_errno[i] && len < sizeof(line) - 40)
			len += snprintf(line + len, sizeof(line) - len,
					" %s=%u", strerrorname_np(i) ?: "?",
					t->by_errno[i]);
	TH_LOG("rejections by errno:%s", len ? line : " none");
	for (i = 0; i < t->noext_kinds; i++)
		TH_LOG("without extack (genetlink core): %s for %s %d: %u",
		       strerrorname_np(t->noext[i].error) ?: "?",
		       t->noext[i].cmd < 0 ? "a message cut inside the genetlink header of" :
		       "command", t->noext[i].cmd < 0 ? (int)GENL_HDRLEN :
		       t->noext[i].cmd, t->noext[i].count);
}

TEST_F_TIMEOUT(nlfuzz, random_and_mutated, 900)
{
	struct fuzz *f = &self->f;
	unsigned long count = env_num("PRR_NLFUZZ_COUNT", DEFAULT_COUNT);
	unsigned long check = env_num("PRR_NLFUZZ_CHECK", DEFAULT_CHECK);
	__u64 seed = env_num("PRR_NLFUZZ_SEED", DEFAULT_SEED);
	struct outcome o;
	unsigned int n;
	char when[32];
	double t0;
	int ret;

	TH_LOG("seed %llu (PRR_NLFUZZ_SEED), %lu messages (PRR_NLFUZZ_COUNT)",
	       (unsigned long long)seed, count);
	f->rng.s = seed ? seed : DEFAULT_SEED;
	t0 = now_s();
	for (n = 1; n <= count; n++) {
		gen_message(f);
		f->t.sent++;
		/* EINVAL etc.: the socket layer refused it, nothing sent */
		if (send(f->fd, f->tx, f->txlen, 0) < 0 &&
		    errno != EINVAL) {
			ASSERT_EQ(0, -errno) {
				TH_LOG("message %u: send: %s", n,
				       strerror(errno));
			}
		}
		ret = collect(f, ((struct nlmsghdr *)f->tx)->nlmsg_seq,
			      &o);
		ASSERT_EQ(0, ret) {
			TH_LOG("message %u: reading the answer: %s", n,
			       strerror(-ret));
			log_message(_metadata, f, n);
		}
		if (!judge(_metadata, f, n, &o)) {
			log_message(_metadata, f, n);
			f->t.bad++;
			ASSERT_GT(20u, f->t.bad);
		}
		if (check && n % check == 0) {
			snprintf(when, sizeof(when), "after %u", n);
			check_table(_metadata, f, when);
			ASSERT_TRUE(_metadata->passed);
		}
	}
	log_tally(_metadata, f, now_s() - t0);
	EXPECT_EQ(0u, f->t.bad);
	check_table(_metadata, f, "at the end");
	/* Both outcomes must have been exercised, or the fuzzer is blind. */
	EXPECT_LT(0u, f->t.applied);
	EXPECT_LT(0u, f->t.with_msg);
}

TEST_HARNESS_MAIN
