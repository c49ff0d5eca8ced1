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

static bool addr_present(const struct prr_table *t, u32 addr)
{
	struct prr_addr_ref ref;

	return prr_table_find(t, addr_of(addr), &ref);
}

static u16 match_port(const struct prr_table *t, u32 addr, u16 port,
		      u16 *mask)
{
	const struct prr_entry *e = prr_table_lookup(t, addr_of(addr), port);

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
	EXPECT_FALSE(addr_present(&t, 0xc0000201));
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

/* Slots of the address index: at least four per live address. */
static u32 index_slots(const struct prr_table *t)
{
	return t->index ? t->index->mask + 1 : 0;
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
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, prr_table_insert(&t, entry_new(base + i, i & 0xf,
							    0xf), &c));
		ASSERT_LE(4 * t.naddrs, index_slots(&t));
	}
	EXPECT_EQ(n, t.naddrs);
	EXPECT_EQ(131072u, index_slots(&t));
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
	/* Tombstones of most addresses: the index shrinks to the rest. */
	for (i = 1; i < n - 200; i += 2) {
		e = prr_table_remove(&t, addr_of(base + i), i & 0xf, 0xf);
		ASSERT_NE(NULL, e);
		free(e);
	}
	EXPECT_EQ(100u, t.naddrs);
	EXPECT_GT(64 * t.naddrs, index_slots(&t));
	for (i = n - 200; i < n; i++)
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

/* Every port of @addr: the lookup, the batched lookup and @want agree. */
static void check_all_ports(struct __test_metadata *_metadata,
			    const struct prr_table *t, u32 addr,
			    const struct prr_entry *(*want)(u32 addr, u16 port))
{
	static struct prr_query q[65536];
	u32 p;

	for (p = 0; p < 65536; p++) {
		q[p].addr = addr_of(addr);
		q[p].port = p;
		q[p].result = (const struct prr_entry *)&q;
	}
	prr_table_lookup_batch(t, q, 65536);
	for (p = 0; p < 65536; p++) {
		const struct prr_entry *w = want(addr, p);

		ASSERT_EQ(w, prr_table_lookup(t, addr_of(addr), p))
			TH_LOG("addr %#x port %#x", addr, p);
		ASSERT_EQ(w, q[p].result)
			TH_LOG("batch: addr %#x port %#x", addr, p);
	}
}

/* A small brute-force model for the shape tests. */
static struct prr_entry *shape_e[4096];
static u32 shape_n;

static const struct prr_entry *shape_want(u32 addr, u16 port)
{
	const struct prr_entry *best = NULL;
	u32 i;

	for (i = 0; i < shape_n; i++) {
		const struct prr_entry *e = shape_e[i];

		if (e->addr != addr_of(addr) || (port & e->mask) != e->value)
			continue;
		if (!best || __builtin_popcount(e->mask) >
			     __builtin_popcount(best->mask))
			best = e;
	}
	return best;
}

static void shape_add(struct __test_metadata *_metadata, struct prr_table *t,
		      u32 addr, u16 value, u16 mask)
{
	const struct prr_entry *c;
	struct prr_entry *e = entry_new(addr, value, mask);

	ASSERT_EQ(0, prr_table_insert(t, e, &c))
		TH_LOG("insert %#x/%#x", value, mask);
	shape_e[shape_n++] = e;
}

static void shape_del(struct __test_metadata *_metadata, struct prr_table *t,
		      u32 k)
{
	struct prr_entry *e = shape_e[k];

	ASSERT_EQ(e, prr_table_remove(t, e->addr, e->value, e->mask));
	free(e);
	shape_e[k] = shape_e[--shape_n];
}

/* The values of @mask, in order: 0 .. 2^popcount - 1 spread over @mask. */
static u16 deposit(u32 i, u16 mask)
{
	u16 v = 0, bit;

	for (bit = 1; bit && mask; bit <<= 1) {
		if (!(mask & bit))
			continue;
		if (i & 1)
			v |= bit;
		i >>= 1;
		mask &= ~bit;
	}
	return v;
}

TEST(every_mask_shape_all_ports)
{
	/* PSID high bits, RFC 7597 offsets, low bits, RFC 6431 sparse. */
	static const u16 shapes[] = {
		0x0000, 0xf000, 0xfc00, 0x0ff0, 0x03c0, 0x000f, 0xffff,
		0x1400, 0x1c00, 0x8001, 0xaaaa, 0x0101, 0xfff0,
	};
	const u32 addr = 0xc0000210;
	struct prr_table t;
	u32 k, i, n, step;

	prr_table_init(&t);
	for (k = 0; k < ARRAY_SIZE(shapes); k++) {
		n = 1u << __builtin_popcount(shapes[k]);
		/* At most 64 sets of the shape (a window of few slots) ... */
		step = n > 64 ? n / 64 : 1;
		for (i = 0; i < n; i += 2 * step)
			shape_add(_metadata, &t, addr, deposit(i, shapes[k]),
				  shapes[k]);
		check_all_ports(_metadata, &t, addr, shape_want);
		/* ... then twice as many, and a default and a single port. */
		for (i = step; i < n; i += 2 * step)
			shape_add(_metadata, &t, addr, deposit(i, shapes[k]),
				  shapes[k]);
		if (shapes[k])
			shape_add(_metadata, &t, addr, 0, 0);
		if (shapes[k] != 0xffff &&
		    !shape_want(addr, deposit(step, shapes[k]) | 0x8421))
			shape_add(_metadata, &t, addr,
				  deposit(step, shapes[k]) | 0x8421, 0xffff);
		check_all_ports(_metadata, &t, addr, shape_want);
		while (shape_n > 1)
			shape_del(_metadata, &t, rng() % shape_n);
		check_all_ports(_metadata, &t, addr, shape_want);
		shape_del(_metadata, &t, 0);
		EXPECT_FALSE(addr_present(&t, addr));
	}
	EXPECT_EQ(0u, t.nentries);
	prr_table_flush(&t, release_free, NULL);
}

TEST(nesting_chain_every_depth)
{
	const u32 addr = 0xc0000211;
	struct prr_table t;
	u32 d, round;

	prr_table_init(&t);
	for (round = 0; round < 3; round++) {
		/* 0/0, 0x8000/0x8000, 0xc000/0xc000 ... 0xffff/0xffff */
		for (d = 0; d <= 16; d++) {
			u16 m = (u16)(0xffff0000u >> d);

			if (round == 1)
				m = (u16)(0xffff0000u >> (16 - d));
			shape_add(_metadata, &t, addr, m & 0xa5a5, m);
		}
		check_all_ports(_metadata, &t, addr, shape_want);
		/* Remove from the middle out: the enclosing set takes over. */
		while (shape_n) {
			shape_del(_metadata, &t, round == 2 ? 0 : shape_n / 2);
			if (shape_n % 4 == 0)
				check_all_ports(_metadata, &t, addr,
						shape_want);
		}
	}
	prr_table_flush(&t, release_free, NULL);
}

TEST(owner_removal_exposes_default_and_nested)
{
	const u32 addr = 0xc0000212;
	struct prr_addr_ref a;
	struct prr_table t;
	u32 v;

	prr_table_init(&t);
	shape_add(_metadata, &t, addr, 0, 0);
	for (v = 0; v < 16; v++)
		shape_add(_metadata, &t, addr, v << 12, 0xf000);
	shape_add(_metadata, &t, addr, 0x1050, 0xffff);
	shape_add(_metadata, &t, addr, 0x2400, 0xfc00);
	check_all_ports(_metadata, &t, addr, shape_want);
	ASSERT_TRUE(prr_table_find(&t, addr_of(addr), &a));
	EXPECT_EQ(shape_e[0], prr_addr_default(&a));
	/* Owner of 0x1xxx gone: 0x1050 still its own, the rest the default. */
	shape_del(_metadata, &t, 2);
	check_all_ports(_metadata, &t, addr, shape_want);
	/* The single port and the nested sparse set go: plain slots again. */
	shape_del(_metadata, &t, shape_n - 1);
	shape_del(_metadata, &t, shape_n - 1);
	check_all_ports(_metadata, &t, addr, shape_want);
	/* The default goes: unowned ports have no entry. */
	shape_del(_metadata, &t, 0);
	check_all_ports(_metadata, &t, addr, shape_want);
	ASSERT_TRUE(prr_table_find(&t, addr_of(addr), &a));
	EXPECT_EQ(NULL, prr_addr_default(&a));
	while (shape_n)
		shape_del(_metadata, &t, 0);
	EXPECT_FALSE(addr_present(&t, addr));
	prr_table_flush(&t, release_free, NULL);
}

TEST(conflicts_with_direct_slot_owners)
{
	const u32 addr = 0xc0000213;
	struct prr_entry *x;
	const struct prr_entry *c;
	struct prr_table t;
	u32 v;

	prr_table_init(&t);
	for (v = 0; v < 16; v += 2)
		shape_add(_metadata, &t, addr, v << 12, 0xf000);
	/* The same set again. */
	x = entry_new(addr, 0x4000, 0xf000);
	c = NULL;
	EXPECT_EQ(-EEXIST, prr_table_insert(&t, x, &c));
	EXPECT_EQ(0x4000, c->value);
	EXPECT_EQ(0xf000, c->mask);
	/* 0x0400/0x0c00 cuts across every PSID set: a partial overlap. */
	x->value = 0x0400;
	x->mask = 0x0c00;
	c = NULL;
	EXPECT_EQ(-EBUSY, prr_table_insert(&t, x, &c));
	ASSERT_NE(NULL, c);
	EXPECT_EQ(0xf000, c->mask);
	EXPECT_EQ(0, (c->value >> 12) & 1);
	/* Inside an unowned PSID it only nests: allowed. */
	x->value = 0x1400;
	x->mask = 0xfc00;
	EXPECT_EQ(0, prr_table_insert(&t, x, &c));
	shape_e[shape_n++] = x;
	/* Containing owners and an odd PSID: nested, allowed. */
	shape_add(_metadata, &t, addr, 0x0000, 0x1000);
	/* Odd-PSID sets of another shape partially overlap 0x0000/0x1000? */
	x = entry_new(addr, 0x1000, 0x3000);
	c = NULL;
	EXPECT_EQ(0, prr_table_insert(&t, x, &c));
	shape_e[shape_n++] = x;
	x = entry_new(addr, 0x0001, 0x1001);
	c = NULL;
	EXPECT_EQ(-EBUSY, prr_table_insert(&t, x, &c));
	ASSERT_NE(NULL, c);
	free(x);
	EXPECT_EQ(shape_n, t.nentries);
	check_all_ports(_metadata, &t, addr, shape_want);
	prr_table_flush(&t, release_free, NULL);
	shape_n = 0;
}

struct walk_log {
	const struct prr_entry *e[64];
	u32 n;
	u32 stop;
};

static bool walk_record(const struct prr_entry *e, void *arg)
{
	struct walk_log *w = arg;

	w->e[w->n++] = e;
	return w->n != w->stop;
}

TEST(walk_most_specific_first_and_stops)
{
	const u32 addr = 0xc0000214;
	struct walk_log w = {};
	struct prr_addr_ref a;
	struct prr_table t;
	u32 i, j, v;

	prr_table_init(&t);
	shape_add(_metadata, &t, addr, 0, 0);
	for (v = 0; v < 16; v++)
		if (v != 3)
			shape_add(_metadata, &t, addr, v << 12, 0xf000);
	shape_add(_metadata, &t, addr, 0x3000, 0xf800);
	shape_add(_metadata, &t, addr, 0x3800, 0xfc00);
	shape_add(_metadata, &t, addr, 0x1234, 0xffff);
	ASSERT_TRUE(prr_table_find(&t, addr_of(addr), &a));
	prr_addr_walk(&a, walk_record, &w);
	ASSERT_EQ(shape_n, w.n);
	for (i = 1; i < w.n; i++)
		EXPECT_GE(__builtin_popcount(w.e[i - 1]->mask),
			  __builtin_popcount(w.e[i]->mask))
			TH_LOG("walk position %u", i);
	for (i = 0; i < shape_n; i++) {
		for (j = 0; j < w.n && w.e[j] != shape_e[i]; j++)
			;
		EXPECT_LT(j, w.n);
	}
	memset(&w, 0, sizeof(w));
	w.stop = 3;
	prr_addr_walk(&a, walk_record, &w);
	EXPECT_EQ(3u, w.n);
	prr_table_flush(&t, release_free, NULL);
	shape_n = 0;
}

TEST(cursor_sees_owners_and_groups_once)
{
	const struct prr_entry *c, *e;
	struct prr_cursor cur = {}, saved;
	struct prr_table t;
	u32 i, n = 0, addr;
	static u8 seen[4096];

	prr_table_init(&t);
	for (addr = 0; addr < 40; addr++) {
		shape_add(_metadata, &t, 0x0a000100 + addr, 0, 0);
		for (i = 0; i < 16; i += 1 + addr % 3)
			shape_add(_metadata, &t, 0x0a000100 + addr, i << 12,
				  0xf000);
		shape_add(_metadata, &t, 0x0a000100 + addr, 0x0400,
			  addr & 1 ? 0xfc00 : 0xff00);
		shape_add(_metadata, &t, 0x0a000100 + addr, 0x0401, 0xffff);
	}
	ASSERT_EQ(shape_n, t.nentries);
	for (;;) {
		saved = cur;
		e = prr_table_next(&t, &cur);
		if (!e)
			break;
		if (n % 7 == 6) {
			cur = saved;	/* did not fit: retried */
			n++;
			continue;
		}
		n++;
		for (i = 0; i < shape_n && shape_e[i] != e; i++)
			;
		ASSERT_LT(i, shape_n);
		ASSERT_EQ(0, seen[i]);
		seen[i] = 1;
		EXPECT_EQ(e, prr_table_get(&t, e->addr, e->value, e->mask));
	}
	for (i = 0; i < shape_n; i++)
		EXPECT_EQ(1, seen[i]) TH_LOG("entry %u never visited", i);
	(void)c;
	prr_table_flush(&t, release_free, NULL);
	shape_n = 0;
}

TEST(swap_publishes_the_staged_table_whole)
{
	struct prr_table live, staged;
	const struct prr_entry *c;
	struct prr_entry *old, *new1, *new2;
	int n = 0;

	prr_table_init(&live);
	prr_table_init(&staged);
	old = entry_new(0xc0000220, 0x4000, 0xf000);
	ASSERT_EQ(0, prr_table_insert(&live, old, &c));
	new1 = entry_new(0xc0000220, 0x4000, 0xc000);
	new2 = entry_new(0xc0000221, 0, 0);
	ASSERT_EQ(0, prr_table_insert(&staged, new1, &c));
	ASSERT_EQ(0, prr_table_insert(&staged, new2, &c));
	prr_table_swap(&live, &staged);
	EXPECT_EQ(2u, live.nentries);
	EXPECT_EQ(2u, live.naddrs);
	EXPECT_EQ(1u, staged.nentries);
	EXPECT_EQ(new1, prr_table_lookup(&live, addr_of(0xc0000220), 0x7fff));
	EXPECT_EQ(new2, prr_table_lookup(&live, addr_of(0xc0000221), 1));
	EXPECT_EQ(old, prr_table_lookup(&staged, addr_of(0xc0000220), 0x4001));
	EXPECT_EQ(NULL, prr_table_lookup(&staged, addr_of(0xc0000221), 1));
	prr_table_flush(&staged, release_free, &n);
	EXPECT_EQ(1, n);
	/* The live table is writable as usual after a swap. */
	old = prr_table_remove(&live, addr_of(0xc0000220), 0x4000, 0xc000);
	EXPECT_EQ(new1, old);
	free(new1);
	prr_table_flush(&live, release_free, &n);
	EXPECT_EQ(2, n);
}

TEST(batch_any_length_and_empty_table)
{
	struct prr_query q[PRR_BATCH * 3 + 5];
	const struct prr_entry *c;
	struct prr_table t;
	u32 i, n;

	prr_table_init(&t);
	for (i = 0; i < ARRAY_SIZE(q); i++) {
		q[i].addr = addr_of(0xc0000230 + i % 5);
		q[i].port = (u16)rng();
		q[i].result = (const struct prr_entry *)q;
	}
	prr_table_lookup_batch(&t, q, ARRAY_SIZE(q));
	for (i = 0; i < ARRAY_SIZE(q); i++)
		EXPECT_EQ(NULL, q[i].result);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, prr_table_insert(&t, entry_new(0xc0000230 + i,
							    0x8000, 0x8000),
					      &c));
	for (n = 0; n <= ARRAY_SIZE(q); n += 7) {
		for (i = 0; i < n; i++)
			q[i].result = (const struct prr_entry *)q;
		prr_table_lookup_batch(&t, q, n);
		for (i = 0; i < n; i++)
			EXPECT_EQ(prr_table_lookup(&t, q[i].addr, q[i].port),
				  q[i].result);
	}
	prr_table_flush(&t, release_free, NULL);
}

/*
 * A random partition of the ports by recursive splits on random bits: its
 * leaves (and some inner sets, nested) have dozens of distinct masks.
 */
static void split(struct __test_metadata *_metadata, struct prr_table *t,
		  u32 addr, u16 value, u16 mask, int depth)
{
	u16 bit;

	if (depth == 0 || shape_n > 400 || rng() % 8 == 0) {
		shape_add(_metadata, t, addr, value, mask);
		return;
	}
	if (rng() % 4 == 0)
		shape_add(_metadata, t, addr, value, mask);
	do
		bit = 1u << (rng() % 16);
	while (mask & bit);
	split(_metadata, t, addr, value, mask | bit, depth - 1);
	split(_metadata, t, addr, value | bit, mask | bit, depth - 1);
}

TEST(many_masks_on_one_address)
{
	const u32 addr = 0xc0000240;
	u32 round, masks, i, j;
	struct prr_table t;

	prr_table_init(&t);
	for (round = 0; round < 4; round++) {
		split(_metadata, &t, addr, 0, 0, 9);
		for (i = 0, masks = 0; i < shape_n; i++) {
			for (j = 0; j < i && shape_e[j]->mask != shape_e[i]->mask;
			     j++)
				;
			masks += j == i;
		}
		TH_LOG("round %u: %u entries, %u masks", round, shape_n, masks);
		check_all_ports(_metadata, &t, addr, shape_want);
		while (shape_n > 10)
			shape_del(_metadata, &t, rng() % shape_n);
		check_all_ports(_metadata, &t, addr, shape_want);
		while (shape_n)
			shape_del(_metadata, &t, 0);
	}
	EXPECT_FALSE(addr_present(&t, addr));
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
	const struct prr_entry *c, *want, *got, *qwant[8];
	struct prr_query q[8];
	u32 op, i, addr, port, k;
	struct prr_addr_ref a;
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
			got = prr_table_find(&t, addr_of(addr), &a) ?
			      prr_addr_match(&a, port) : NULL;
			ASSERT_EQ(want, got)
				TH_LOG("op %u addr %#x port %#x", op, addr, port);
			q[i].addr = addr_of(addr);
			q[i].port = port;
			qwant[i] = want;
		}
		prr_table_lookup_batch(&t, q, 8);
		for (i = 0; i < 8; i++)
			ASSERT_EQ(qwant[i], q[i].result) TH_LOG("op %u batch", op);
		/* Each entry is found by its key; defaults agree. */
		if (md.n) {
			e = md.e[rng() % md.n];
			ASSERT_EQ(e, prr_table_get(&t, e->addr, e->value,
						   e->mask));
			ASSERT_TRUE(prr_table_find(&t, e->addr, &a));
			want = NULL;
			for (i = 0; i < md.n; i++)
				if (md.e[i]->addr == e->addr && !md.e[i]->mask)
					want = md.e[i];
			ASSERT_EQ(want, prr_addr_default(&a))
				TH_LOG("op %u default", op);
		}
	}
	prr_table_flush(&t, release_free, NULL);
}

TEST_HARNESS_MAIN
