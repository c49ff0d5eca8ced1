// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the port-set table (kmod/portset.c) against a reference
 * model: a plain list of entries, where a lookup scans every entry and keeps
 * the most specific match, and conflicts are found pairwise.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "portset.h"

static u64 rng_state = 0x9e3779b97f4a7c15ull;

static u64 rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

u32 prr_random_u32(void)
{
	return (u32)(rng() >> 32);
}

static __be32 addr_of(u32 host)
{
	return htonl(host);
}

static struct prr_entry *entry_new(u32 addr, u16 value, u16 mask)
{
	struct prr_entry *e = calloc(1, sizeof(*e));

	e->addr = addr_of(addr);
	e->value = value;
	e->mask = mask;
	return e;
}

static u16 match_port(const struct prr_table *t, u32 addr, u16 port,
		      u16 *mask)
{
	const struct prr_addr *a = prr_table_find(t, addr_of(addr));
	const struct prr_entry *e = a ? prr_addr_match(a, port) : NULL;

	if (!e)
		return 0xdead;
	*mask = e->mask;
	return e->value;
}

static void release_free(struct prr_entry *e, void *arg)
{
	int *n = arg;

	if (n)
		(*n)++;
	free(e);
}

TEST(rfc6431_noncontiguous_mask)
{
	struct prr_table t;
	const struct prr_entry *c;
	struct prr_entry *e = entry_new(0xc0000201, 0x0400, 0x1400);
	u32 p;
	u16 m;

	prr_table_init(&t);
	ASSERT_EQ(0, prr_table_insert(&t, e, &c));
	/* RFC 6431 §2.1 figure 2: xxx0x1xxxxxxxxxx */
	for (p = 0; p < 65536; p++) {
		bool in = (p & 0x1400) == 0x0400;

		ASSERT_EQ(in, match_port(&t, 0xc0000201, p, &m) == 0x0400)
			TH_LOG("port %u", p);
	}
	EXPECT_EQ(0xdead, match_port(&t, 0xc0000201, 1023, &m));
	EXPECT_EQ(0x0400, match_port(&t, 0xc0000201, 1024, &m));
	EXPECT_EQ(0x0400, match_port(&t, 0xc0000201, 2047, &m));
	EXPECT_EQ(0xdead, match_port(&t, 0xc0000201, 2048, &m));
	EXPECT_EQ(0x0400, match_port(&t, 0xc0000201, 9216, &m));
	EXPECT_EQ(0xdead, match_port(&t, 0xc0000202, 1024, &m));
	prr_table_flush(&t, release_free, NULL);
}

TEST(nested_default_most_specific_wins)
{
	struct prr_entry *def = entry_new(0xc0000201, 0, 0);
	struct prr_entry *cpe = entry_new(0xc0000201, 0x0800, 0xfc00);
	struct prr_entry *host = entry_new(0xc0000201, 0x0810, 0xfff0);
	const struct prr_entry *c;
	struct prr_table t;
	u16 m;

	prr_table_init(&t);
	ASSERT_EQ(0, prr_table_insert(&t, def, &c));
	ASSERT_EQ(0, prr_table_insert(&t, host, &c));
	ASSERT_EQ(0, prr_table_insert(&t, cpe, &c));
	EXPECT_EQ(0x0810, match_port(&t, 0xc0000201, 0x0815, &m));
	EXPECT_EQ(0xfff0, m);
	EXPECT_EQ(0x0800, match_port(&t, 0xc0000201, 0x0820, &m));
	EXPECT_EQ(0xfc00, m);
	EXPECT_EQ(0x0000, match_port(&t, 0xc0000201, 80, &m));
	EXPECT_EQ(0x0000, m);
	ASSERT_EQ(cpe, prr_table_remove(&t, addr_of(0xc0000201), 0x0800,
					0xfc00));
	free(cpe);
	EXPECT_EQ(0x0000, match_port(&t, 0xc0000201, 0x0820, &m));
	EXPECT_EQ(0x0810, match_port(&t, 0xc0000201, 0x0815, &m));
	prr_table_flush(&t, release_free, NULL);
	EXPECT_EQ(NULL, prr_table_find(&t, addr_of(0xc0000201)));
}

TEST(duplicate_and_partial_overlap_rejected)
{
	struct prr_entry *a = entry_new(0xc0000201, 0x0400, 0x1400);
	struct prr_entry *dup = entry_new(0xc0000201, 0x0400, 0x1400);
	struct prr_entry *part = entry_new(0xc0000201, 0x0400, 0x0c00);
	struct prr_entry *other = entry_new(0xc0000202, 0x0400, 0x0c00);
	const struct prr_entry *c = NULL;
	struct prr_table t;
	int n = 0;

	prr_table_init(&t);
	ASSERT_EQ(0, prr_table_insert(&t, a, &c));
	EXPECT_EQ(-EEXIST, prr_table_insert(&t, dup, &c));
	EXPECT_EQ(a, c);
	c = NULL;
	EXPECT_EQ(-EBUSY, prr_table_insert(&t, part, &c));
	EXPECT_EQ(a, c);
	EXPECT_EQ(1u, t.nentries);
	/* Another address is another table. */
	EXPECT_EQ(0, prr_table_insert(&t, other, &c));
	free(dup);
	free(part);
	prr_table_flush(&t, release_free, &n);
	EXPECT_EQ(2, n);
	EXPECT_EQ(0u, t.nentries);
}

TEST(value_outside_mask_is_invalid)
{
	EXPECT_TRUE(prr_portset_valid(0x0400, 0x1400));
	EXPECT_FALSE(prr_portset_valid(0x0401, 0x1400));
	EXPECT_TRUE(prr_portset_valid(0, 0));
	EXPECT_FALSE(prr_portset_valid(1, 0));
}

TEST(many_addresses_grow_and_shrink_index)
{
	const u32 n = 20000, base = 0x0a000000;
	const struct prr_entry *c;
	struct prr_entry *e;
	struct prr_table t;
	u32 i;
	u16 m;

	prr_table_init(&t);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, prr_table_insert(&t, entry_new(base + i, i & 0xf,
							    0xf), &c));
	EXPECT_EQ(n, t.naddrs);
	for (i = 0; i < n; i++)
		ASSERT_EQ(i & 0xf, match_port(&t, base + i, 0x120 | (i & 0xf),
					      &m));
	for (i = 0; i < n; i += 2) {
		e = prr_table_remove(&t, addr_of(base + i), i & 0xf, 0xf);
		ASSERT_NE(NULL, e);
		free(e);
	}
	EXPECT_EQ(n / 2, t.naddrs);
	for (i = 0; i < n; i++)
		ASSERT_EQ(i & 1 ? i & 0xf : 0xdead,
			  match_port(&t, base + i, i & 0xf, &m));
	prr_table_flush(&t, release_free, NULL);
}

TEST(large_group_in_place_and_rebuilt)
{
	const u32 addr = 0xcb007101;
	const struct prr_entry *c;
	struct prr_entry *e;
	struct prr_table t;
	u32 v;
	u16 m;

	prr_table_init(&t);
	for (v = 0; v < 4096; v++)
		ASSERT_EQ(0, prr_table_insert(&t, entry_new(addr, v << 4, 0xfff0),
					      &c));
	for (v = 0; v < 4096; v += 3) {
		e = prr_table_remove(&t, addr_of(addr), v << 4, 0xfff0);
		ASSERT_NE(NULL, e);
		free(e);
	}
	for (v = 0; v < 4096; v++)
		ASSERT_EQ(v % 3 ? (u16)(v << 4) : 0xdead,
			  match_port(&t, addr, (v << 4) | 7, &m));
	prr_table_flush(&t, release_free, NULL);
}

TEST(cursor_walk_is_resumable_and_complete)
{
	const struct prr_entry *c, *e;
	struct prr_cursor cur = {}, saved;
	struct prr_table t;
	u32 i, seen = 0, sum = 0;

	prr_table_init(&t);
	for (i = 0; i < 300; i++)
		ASSERT_EQ(0, prr_table_insert(&t, entry_new(0x0a000000 + i % 7,
							    i << 6, 0xffc0), &c));
	/* Stop and resume every few entries, as a netlink dump does. */
	for (;;) {
		saved = cur;
		e = prr_table_next(&t, &cur);
		if (!e)
			break;
		if (seen % 5 == 4)
			cur = saved;	/* "did not fit": retried next time */
		else
			sum += e->value >> 6;
		seen++;
	}
	EXPECT_EQ(299u * 300 / 2, sum);
	prr_table_flush(&t, release_free, NULL);
}

/* The model: every entry in a list. */
struct model {
	struct prr_entry *e[4096];
	u32 n;
};

static int model_popcount(u16 m)
{
	return __builtin_popcount(m);
}

static const struct prr_entry *model_match(const struct model *md, u32 addr,
					   u16 port)
{
	const struct prr_entry *best = NULL;
	u32 i;

	for (i = 0; i < md->n; i++) {
		const struct prr_entry *e = md->e[i];

		if (e->addr != addr_of(addr) || (port & e->mask) != e->value)
			continue;
		if (!best || model_popcount(e->mask) > model_popcount(best->mask))
			best = e;
	}
	return best;
}

/* 0, -EEXIST or -EBUSY, as prr_table_insert() must answer. */
static int model_conflict(const struct model *md, const struct prr_entry *n,
			  const struct prr_entry *c)
{
	int verdict = 0;
	u32 i;

	for (i = 0; i < md->n; i++) {
		const struct prr_entry *e = md->e[i];
		u16 common = e->mask & n->mask;

		if (e->addr != n->addr)
			continue;
		if (e->mask == n->mask && e->value == n->value)
			return c == e ? -EEXIST : -ENOENT;
		if (!((e->value ^ n->value) & common) &&
		    common != e->mask && common != n->mask) {
			if (c == e)
				return -EBUSY;
			verdict = -EBUSY;
		}
	}
	/* -EBUSY only if the table named one of the conflicting entries. */
	return verdict ? -ENOENT : 0;
}

static const u16 masks[] = {
	0x0000, 0x8000, 0xf000, 0xfc00, 0xff00, 0xffc0, 0xfff0, 0xffff,
	0x1400, 0x1c00, 0x0c00, 0x0003, 0x03f0, 0x8001,
};

TEST(random_operations_match_model)
{
	static struct model md;
	const struct prr_entry *c, *want, *got;
	u32 op, i, addr, port, k;
	const struct prr_addr *a;
	struct prr_entry *e;
	struct prr_table t;
	u16 mask;
	int err;

	prr_table_init(&t);
	for (op = 0; op < 200000; op++) {
		u32 r = rng() % 100;

		addr = 0xc0000200 + rng() % 6;
		mask = rng() % 8 ? masks[rng() % (sizeof(masks) / 2)] :
				    (u16)rng();
		if (r < 55 && md.n < 4096) {
			e = entry_new(addr, (u16)rng() & mask, mask);
			c = NULL;
			err = prr_table_insert(&t, e, &c);
			ASSERT_EQ(model_conflict(&md, e, c), err)
				TH_LOG("op %u insert %#x/%#x", op, e->value,
				       e->mask);
			if (err)
				free(e);
			else
				md.e[md.n++] = e;
		} else if (r < 93 && md.n) {
			k = rng() % md.n;
			e = md.e[k];
			ASSERT_EQ(e, prr_table_remove(&t, e->addr, e->value,
						      e->mask));
			ASSERT_EQ(NULL, prr_table_remove(&t, e->addr, e->value,
							 e->mask));
			free(e);
			md.e[k] = md.e[--md.n];
		} else if (r < 99) {
			unsigned int gone = 0;
			int n = 0;

			for (i = 0; i < md.n;) {
				if (md.e[i]->addr == addr_of(addr)) {
					md.e[i] = md.e[--md.n];
					gone++;
				} else {
					i++;
				}
			}
			ASSERT_EQ(gone, prr_table_flush_addr(&t, addr_of(addr),
							     release_free, &n));
			ASSERT_EQ((int)gone, n);
		} else {
			prr_table_flush(&t, release_free, NULL);
			md.n = 0;
		}
		ASSERT_EQ(md.n, t.nentries);
		for (i = 0; i < 8; i++) {
			addr = 0xc0000200 + rng() % 7;
			port = (u16)rng();
			want = model_match(&md, addr, port);
			a = prr_table_find(&t, addr_of(addr));
			got = a ? prr_addr_match(a, port) : NULL;
			ASSERT_EQ(want, got)
				TH_LOG("op %u addr %#x port %#x", op, addr, port);
		}
	}
	prr_table_flush(&t, release_free, NULL);
}

TEST_HARNESS_MAIN
