// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the port allocator (kmod/portalloc.c): piece enumeration
 * against brute force over every port, picks never outside the set nor
 * refused by ok(), uniformity (chi-square), and bounded work when the set is
 * exhausted.
 */

#include "kselftest_harness.h"
#include "portalloc.h"

#define ALL_PORTS	65536u
#define MAX_CALLS	((u32)(PRR_PICK_RANDOM_TRIES + PRR_PICK_SCAN))

static u64 rng_state = 0x2545f4914f6cdd1dull;

/* Queued values prr_random_u32() returns first (mapping tests). */
static const u32 *scripted;
static u32 nscripted;

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
	if (nscripted) {
		nscripted--;
		return *scripted++;
	}
	return (u32)(rng() >> 32);
}

/* True with probability pct / 100. */
static bool chance(u32 pct)
{
	return (rng() >> 32) % 100 < pct;
}

static bool in_piece(const struct prr_piece *pc, u32 port)
{
	return (port & pc->mask) == pc->value;
}

/* What ok() saw and how it answers: a bitmap of free ports, plus coins. */
struct avail {
	const struct prr_piece *pieces;
	u32 n;
	u8 free[ALL_PORTS];
	u32 refuse_pct;		/* refuses free ports this often, too */
	u32 calls;
	u32 bad_calls;		/* candidate outside its piece, bad index */
	u32 last_port;
	u32 last_piece;
	u32 offered[ALL_PORTS];	/* times each port was a candidate */
};

static bool ok_avail(u16 port, u32 piece, void *arg)
{
	struct avail *a = arg;

	a->calls++;
	a->offered[port]++;
	if (piece >= a->n || !in_piece(&a->pieces[piece], port))
		a->bad_calls++;
	a->last_port = port;
	a->last_piece = piece;
	if (!a->free[port])
		return false;
	return !a->refuse_pct || !chance(a->refuse_pct);
}

static void avail_reset(struct avail *a, const struct prr_piece *pieces,
			u32 n)
{
	memset(a, 0, sizeof(*a));
	a->pieces = pieces;
	a->n = n;
}

static bool ok_always(u16 port, u32 piece, void *arg)
{
	u32 *calls = arg;

	(*calls)++;
	return true;
}

static bool ok_never(u16 port, u32 piece, void *arg)
{
	u32 *calls = arg;

	(*calls)++;
	return false;
}

/*
 * Checks prr_piece_size() and prr_piece_port() against the members of
 * {p : (p & mask) == value} found by trying every port.
 */
static void check_piece(struct __test_metadata *_metadata, u16 value,
			u16 mask)
{
	static u16 want[ALL_PORTS];
	u32 p, n = 0, i, got, prev = 0;

	for (p = 0; p < ALL_PORTS; p++)
		if ((p & mask) == value)
			want[n++] = p;
	ASSERT_EQ(n, prr_piece_size(mask))
		TH_LOG("value %#x mask %#x", value, mask);
	for (i = 0; i < n; i++) {
		got = prr_piece_port(value, mask, i);
		ASSERT_EQ(want[i], got)
			TH_LOG("value %#x mask %#x idx %u", value, mask, i);
		ASSERT_EQ(value, got & mask);
		if (i)
			ASSERT_LT(prev, got);
		prev = got;
	}
}

static const struct prr_piece named_pieces[] = {
	{ 0x0000, 0x0000 },	/* every port */
	{ 0x1234, 0xffff },	/* one port */
	{ 0x0400, 0x1400 },	/* RFC 6431 figure 2: xxx0x1xxxxxxxxxx */
	{ 0x0400, 0xfc00 },	/* contiguous: 1024-2047 */
	{ 0xc000, 0xc000 },	/* contiguous: 49152-65535 */
	{ 0x0ab0, 0xfff0 },	/* 16 consecutive ports */
	{ 0x02d0, 0x03f0 },	/* MAP PSID 0x2d, k 6, m 4, any offset */
	{ 0x82d0, 0x83f0 },	/* ... offset bits 1xxxxx */
	{ 0x0ed0, 0xfff0 },	/* ... offset 000011 */
	{ 0x0001, 0xfc3f },	/* non-contiguous holes 6-9 */
	{ 0x8001, 0x8001 },
	{ 0x5555, 0x5555 },
	{ 0x0000, 0xaaaa },
	{ 0x0000, 0x0001 },
	{ 0x7ffe, 0x7fff },
	{ 0x0400, 0xeffe },
};

TEST(piece_enumeration_matches_brute_force)
{
	u32 i, b;
	u16 mask;

	for (i = 0; i < ARRAY_SIZE(named_pieces); i++)
		check_piece(_metadata, named_pieces[i].value,
			    named_pieces[i].mask);
	for (b = 0; b < 16; b++) {
		check_piece(_metadata, 0, 1u << b);
		check_piece(_metadata, 1u << b, 1u << b);
		check_piece(_metadata, 0, (u16)~(1u << b));
		check_piece(_metadata, (u16)~(1u << b), (u16)~(1u << b));
	}
	for (i = 0; i < 400; i++) {
		mask = (u16)rng();
		if (i % 4 == 1)
			mask &= (u16)rng();	/* large pieces */
		else if (i % 4 == 2)
			mask |= (u16)rng();	/* small pieces */
		check_piece(_metadata, (u16)rng() & mask, mask);
	}
	EXPECT_EQ(65536u, prr_piece_size(0));
	EXPECT_EQ(1u, prr_piece_size(0xffff));
	EXPECT_EQ(16384u, prr_piece_size(0x1400));
	/* Bits of idx beyond the piece's size are ignored. */
	EXPECT_EQ(0x1234, prr_piece_port(0x1234, 0xffff, 5));
	EXPECT_EQ(0x1401, prr_piece_port(0x0400, 0xeffe, 4 + 3));
}

/* Random pieces: sizes from 1 to 65,536 ports, often overlapping. */
static u32 random_pieces(struct prr_piece *pieces, u32 max)
{
	u32 n = 1 + (rng() >> 32) % max, i, kind;
	u16 mask;

	for (i = 0; i < n; i++) {
		kind = (rng() >> 32) % 5;
		mask = (u16)rng();
		if (kind == 0)
			mask &= (u16)rng() & (u16)rng();
		else if (kind == 1)
			mask |= (u16)rng() | (u16)rng();
		else if (kind == 2)
			mask = 0xfff0 | (u16)rng();	/* 1 to 16 ports */
		pieces[i].mask = mask;
		pieces[i].value = (u16)rng() & mask;
	}
	return n;
}

TEST(picks_never_outside_the_set_nor_refused)
{
	static const u32 free_pct[] = { 0, 1, 10, 50, 90, 100 };
	static u8 member[ALL_PORTS];
	static struct avail a;
	struct prr_piece pieces[8];
	u32 cfg, pick, n, p, k, total, nfree, one, picked = 0, full = 0;
	u16 port;
	int rc;

	for (cfg = 0; cfg < 1000; cfg++) {
		n = random_pieces(pieces, 8);
		avail_reset(&a, pieces, n);
		memset(member, 0, sizeof(member));
		total = 0;
		for (k = 0; k < n; k++)
			total += prr_piece_size(pieces[k].mask);
		for (p = 0; p < ALL_PORTS; p++)
			for (k = 0; k < n; k++)
				member[p] |= in_piece(&pieces[k], p);
		nfree = 0;
		if (cfg % 7 == 6) {
			/* Exactly one free port in the union. */
			do
				one = (rng() >> 32) % ALL_PORTS;
			while (!member[one]);
			a.free[one] = 1;
			nfree = 1;
		} else {
			u32 pct = free_pct[cfg % ARRAY_SIZE(free_pct)];

			for (p = 0; p < ALL_PORTS; p++) {
				a.free[p] = chance(pct);
				nfree += a.free[p] && member[p];
			}
		}
		a.refuse_pct = cfg % 5 == 4 ? 50 : 0;
		for (pick = 0; pick < 100; pick++) {
			a.calls = 0;
			port = 0xdead;
			rc = prr_port_pick(pieces, n, ok_avail, &a, &port);
			ASSERT_EQ(0u, a.bad_calls) TH_LOG("cfg %u", cfg);
			ASSERT_GE(MAX_CALLS, a.calls);
			if (rc) {
				ASSERT_EQ(-EADDRINUSE, rc);
				ASSERT_EQ(0xdead, port);
				/* A small set is searched in full. */
				if (total <= PRR_PICK_SCAN && !a.refuse_pct)
					ASSERT_EQ(0u, nfree)
						TH_LOG("cfg %u total %u",
						       cfg, total);
				continue;
			}
			picked++;
			ASSERT_NE(0u, nfree);
			ASSERT_TRUE(member[port]) TH_LOG("port %#x", port);
			ASSERT_TRUE(a.free[port]);
			ASSERT_EQ(a.last_port, port);
			ASSERT_TRUE(in_piece(&pieces[a.last_piece], port));
			full += total <= PRR_PICK_SCAN && !a.refuse_pct;
		}
	}
	/* The mix did exercise both outcomes and small sets. */
	EXPECT_LT(50000u, picked);
	EXPECT_GT(100000u, picked);
	EXPECT_LT(1000u, full);
}

/*
 * 1024 ports in 7 pieces of 512, 256, 128, 64, 32, 16 and 16 ports: MAP
 * PSID 0x2d (k 6, m 4) with offset bits (a 6) excluding ports 0-1023 (one
 * piece per position of the offset's leading 1), plus 16 ports below 1024
 * in a non-contiguous piece.
 */
static const struct prr_piece map_set[] = {
	{ 0x82d0, 0x83f0 },
	{ 0x42d0, 0xc3f0 },
	{ 0x22d0, 0xe3f0 },
	{ 0x0001, 0xfc3f },
	{ 0x12d0, 0xf3f0 },
	{ 0x0ad0, 0xfbf0 },
	{ 0x06d0, 0xfff0 },
};

#define MAP_SET_PORTS	1024u

struct tally {
	int cell[ALL_PORTS];	/* port -> index in the set, -1 outside */
	u32 per_port[MAP_SET_PORTS];
	u32 per_piece[ARRAY_SIZE(map_set)];
	u32 bad;
};

static bool ok_tally(u16 port, u32 piece, void *arg)
{
	struct tally *t = arg;

	if (piece >= ARRAY_SIZE(map_set) || !in_piece(&map_set[piece], port) ||
	    t->cell[port] < 0) {
		t->bad++;
		return true;
	}
	t->per_port[t->cell[port]]++;
	t->per_piece[piece]++;
	return true;
}

TEST(uniform_over_a_union_of_pieces)
{
	const u32 picks = 1000000;
	static struct tally t;
	double e, d, chi2 = 0, chi2_pieces = 0;
	u32 p, k, cells = 0, min = ~0u;
	u16 port;

	memset(t.cell, 0xff, sizeof(t.cell));
	for (p = 0; p < ALL_PORTS; p++)
		for (k = 0; k < ARRAY_SIZE(map_set); k++)
			if (in_piece(&map_set[k], p)) {
				ASSERT_EQ(-1, t.cell[p]);	/* disjoint */
				t.cell[p] = cells++;
			}
	ASSERT_EQ(MAP_SET_PORTS, cells);
	for (p = 0; p < 1024; p++)
		ASSERT_EQ(p % 64 == 1, t.cell[p] >= 0);

	for (p = 0; p < picks; p++) {
		ASSERT_EQ(0, prr_port_pick(map_set, ARRAY_SIZE(map_set),
					   ok_tally, &t, &port));
		ASSERT_LE(0, t.cell[port]);
	}
	ASSERT_EQ(0u, t.bad);

	/*
	 * Pearson's X^2 = sum (observed - expected)^2 / expected over the
	 * 1024 ports, expected = 1e6 / 1024 each: df = 1023, mean 1023,
	 * sd 45.2.  P(X^2 > 1260) = 4.9e-7 and P(X^2 < 810) = 2.0e-7, so a
	 * uniform picker passes both bounds but with probability < 1e-6;
	 * the lower bound catches a picker too regular to be random (e.g.
	 * round robin).  The seed is fixed: the value is reproducible.
	 */
	e = (double)picks / MAP_SET_PORTS;
	for (p = 0; p < MAP_SET_PORTS; p++) {
		d = t.per_port[p] - e;
		chi2 += d * d / e;
		if (t.per_port[p] < min)
			min = t.per_port[p];
	}
	/*
	 * Pieces drawn with probability size / 1024: X^2 over the 7 pieces,
	 * df = 6, P(X^2 > 40) = 4.6e-7.
	 */
	for (k = 0; k < ARRAY_SIZE(map_set); k++) {
		e = (double)picks * prr_piece_size(map_set[k].mask) /
		    MAP_SET_PORTS;
		d = t.per_piece[k] - e;
		chi2_pieces += d * d / e;
	}
	TH_LOG("ports: chi2 %.1f (df 1023, pass 810..1260), min %u per port",
	       chi2, min);
	TH_LOG("pieces: chi2 %.2f (df 6, pass < 40): %u %u %u %u %u %u %u",
	       chi2_pieces, t.per_piece[0], t.per_piece[1], t.per_piece[2],
	       t.per_piece[3], t.per_piece[4], t.per_piece[5], t.per_piece[6]);
	EXPECT_LT(810.0, chi2);
	EXPECT_GT(1260.0, chi2);
	EXPECT_GT(40.0, chi2_pieces);
	EXPECT_LT(0u, min);
}

/* The 32-bit random maps to [0, total) by multiply-shift, not modulo. */
TEST(random_maps_by_multiply_shift)
{
	static const struct prr_piece three[] = {
		{ 0x0400, 0xffff }, { 0x9002, 0xfffe }, { 0x0007, 0xffff },
	};
	static const struct {
		u32 r;
		u16 port;
		u32 piece;
	} cases[] = {
		{ 0x00000000, 0x0400, 0 },
		{ 0x3fffffff, 0x0400, 0 },
		{ 0x40000000, 0x9002, 1 },	/* modulo would give 0 */
		{ 0x7fffffff, 0x9002, 1 },
		{ 0x80000000, 0x9003, 1 },
		{ 0xbfffffff, 0x9003, 1 },
		{ 0xc0000000, 0x0007, 2 },
		{ 0xffffffff, 0x0007, 2 },	/* modulo would give 0x9003 */
	};
	static struct avail a;
	u32 i;
	u16 port;

	avail_reset(&a, three, ARRAY_SIZE(three));
	memset(a.free, 1, sizeof(a.free));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		scripted = &cases[i].r;
		nscripted = 1;
		ASSERT_EQ(0, prr_port_pick(three, ARRAY_SIZE(three), ok_avail,
					   &a, &port));
		EXPECT_EQ(0u, nscripted);
		EXPECT_EQ(cases[i].port, port) TH_LOG("r %#x", cases[i].r);
		EXPECT_EQ(cases[i].piece, a.last_piece);
	}
	EXPECT_EQ(0u, a.bad_calls);
}

/* 4 ports: one piece with holes at bits 0 and 12, or 3 pieces. */
static const struct prr_piece four_one[] = { { 0x0400, 0xeffe } };
static const struct prr_piece four_three[] = {
	{ 0x0400, 0xffff }, { 0x9002, 0xfffe }, { 0x0007, 0xffff },
};

static void check_four(struct __test_metadata *_metadata,
		       const struct prr_piece *pieces, u32 n)
{
	static struct avail a;
	u32 ports[4], i, j, run, covered;
	u16 port;
	int rc;

	for (i = 0, j = 0; j < n; j++)
		for (run = 0; run < prr_piece_size(pieces[j].mask); run++)
			ports[i++] = prr_piece_port(pieces[j].value,
						    pieces[j].mask, run);
	ASSERT_EQ(4u, i);
	avail_reset(&a, pieces, n);

	/* One free port: always found, in at most 64 + 4 calls. */
	for (i = 0; i < 4; i++) {
		memset(a.free, 0, sizeof(a.free));
		a.free[ports[i]] = 1;
		for (run = 0; run < 2000; run++) {
			a.calls = 0;
			rc = prr_port_pick(pieces, n, ok_avail, &a, &port);
			ASSERT_EQ(0, rc) TH_LOG("free %#x run %u", ports[i],
						run);
			ASSERT_EQ(ports[i], port);
			ASSERT_GE(PRR_PICK_RANDOM_TRIES + 4u, a.calls);
		}
	}

	/* None free: refused after trying every port, bounded work. */
	memset(a.free, 0, sizeof(a.free));
	for (run = 0; run < 2000; run++) {
		memset(a.offered, 0, sizeof(a.offered));
		a.calls = 0;
		port = 0xdead;
		rc = prr_port_pick(pieces, n, ok_avail, &a, &port);
		ASSERT_EQ(-EADDRINUSE, rc);
		ASSERT_EQ(0xdead, port);
		ASSERT_GE(MAX_CALLS, a.calls);
		ASSERT_EQ(PRR_PICK_RANDOM_TRIES + 4u, a.calls);
		for (i = 0, covered = 0; i < 4; i++)
			covered += !!a.offered[ports[i]];
		ASSERT_EQ(4u, covered);
	}
	EXPECT_EQ(0u, a.bad_calls);
}

TEST(exhaustion_of_a_four_port_set)
{
	check_four(_metadata, four_one, ARRAY_SIZE(four_one));
	check_four(_metadata, four_three, ARRAY_SIZE(four_three));
}

/* A set of PRR_PICK_SCAN ports with one free port: always found. */
TEST(one_free_port_in_1024_always_found)
{
	static struct avail a;
	u32 run, scanned = 0, want;
	u16 port;

	avail_reset(&a, map_set, ARRAY_SIZE(map_set));
	for (run = 0; run < 3000; run++) {
		want = prr_piece_port(map_set[run % 7].value,
				      map_set[run % 7].mask, rng() % 16);
		memset(a.free, 0, sizeof(a.free));
		a.free[want] = 1;
		a.calls = 0;
		ASSERT_EQ(0, prr_port_pick(map_set, ARRAY_SIZE(map_set),
					   ok_avail, &a, &port))
			TH_LOG("run %u free %#x", run, want);
		ASSERT_EQ(want, port);
		ASSERT_GE(MAX_CALLS, a.calls);
		scanned += a.calls > PRR_PICK_RANDOM_TRIES;
	}
	EXPECT_EQ(0u, a.bad_calls);
	/* ~94% need the scan: (1023/1024)^64 of the random phases miss. */
	EXPECT_LT(2500u, scanned);
}

TEST(huge_set_refused_in_bounded_work)
{
	static struct prr_piece many[PRR_PICK_MAX_PIECES + 1];
	struct prr_piece all = { 0, 0 };
	u32 calls, run;
	u16 port = 0xdead;

	for (run = 0; run < 100; run++) {
		calls = 0;
		ASSERT_EQ(-EADDRINUSE,
			  prr_port_pick(&all, 1, ok_never, &calls, &port));
		ASSERT_GE(MAX_CALLS, calls);
		ASSERT_EQ(MAX_CALLS, calls);	/* the scan did run */
	}
	/* The largest union: 65,536 pieces of 65,536 ports, 2^32 indices. */
	calls = 0;
	ASSERT_EQ(-EADDRINUSE, prr_port_pick(many, PRR_PICK_MAX_PIECES,
					     ok_never, &calls, &port));
	ASSERT_EQ(MAX_CALLS, calls);
	calls = 0;
	ASSERT_EQ(0, prr_port_pick(many, PRR_PICK_MAX_PIECES, ok_always,
				   &calls, &port));
	ASSERT_EQ(1u, calls);
	calls = 0;
	ASSERT_EQ(-EINVAL, prr_port_pick(many, PRR_PICK_MAX_PIECES + 1,
					 ok_always, &calls, &port));
	ASSERT_EQ(0u, calls);
}

TEST(no_pieces_is_invalid)
{
	struct prr_piece one = { 0x0400, 0xfc00 };
	u32 calls = 0;
	u16 port = 0xdead;

	EXPECT_EQ(-EINVAL, prr_port_pick(NULL, 0, ok_always, &calls, &port));
	EXPECT_EQ(-EINVAL, prr_port_pick(&one, 0, ok_always, &calls, &port));
	EXPECT_EQ(0u, calls);
	EXPECT_EQ(0xdead, port);
}

/* A value with bits outside its mask is the empty set. */
TEST(invalid_piece_is_empty)
{
	struct prr_piece mixed[] = {
		{ 0x0001, 0x0000 }, { 0x0400, 0xeffe }, { 0x8000, 0x7fff },
	};
	static struct avail a;
	u32 run, calls = 0;
	u16 port = 0xdead;

	avail_reset(&a, mixed, ARRAY_SIZE(mixed));
	memset(a.free, 1, sizeof(a.free));
	for (run = 0; run < 1000; run++) {
		ASSERT_EQ(0, prr_port_pick(mixed, ARRAY_SIZE(mixed), ok_avail,
					   &a, &port));
		ASSERT_EQ(0x0400, port & 0xeffe);
		ASSERT_EQ(1u, a.last_piece);
	}
	EXPECT_EQ(0u, a.bad_calls);
	port = 0xdead;
	EXPECT_EQ(-EADDRINUSE, prr_port_pick(mixed, 1, ok_always, &calls,
					     &port));
	EXPECT_EQ(0u, calls);
	EXPECT_EQ(0xdead, port);
}

TEST_HARNESS_MAIN
