// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of prrctl's port-set notations (tools/prrctl/notation.c)
 * against brute force over all 65,536 ports: MAP sets (RFC 7597 §5.1) and
 * their DHCP encodings (RFC 7598 §4.5, RFC 7618), ranges, canonical text
 * and the round trip text -> pieces -> text.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "notation.h"
#include "test_rng.h"

#define NPORTS	65536u
#define MAXW	(4 * PRR_NOTATION_MAX + 4)
#define TEXT_LEN	2048

static unsigned long long rng_state = 0x9e3779b97f4a7c15ull;

static unsigned int rng(void)
{
	return test_rng_next(&rng_state) >> 32;
}

/* RFC 7597 §5.1 membership, straight from the definition. */
static bool in_map_set(unsigned int p, unsigned int psid, unsigned int k,
		       unsigned int a)
{
	unsigned int m = 16 - a - k;
	unsigned int field = k ? (p >> m) & ((1u << k) - 1) : 0;

	if (field != psid)
		return false;
	return a == 0 || (p >> (16 - a)) != 0;
}

/*
 * Marks every port of the pieces in @cover (how many pieces hold it) by
 * walking each piece's free bits.  Returns false if a value has bits
 * outside its mask.
 */
static bool mark(const struct prr_piece *p, int n, unsigned char *cover)
{
	unsigned int free, x;
	int i;

	memset(cover, 0, NPORTS);
	for (i = 0; i < n; i++) {
		if (p[i].value & ~p[i].mask)
			return false;
		free = 0xffff & ~p[i].mask;
		x = 0;
		do {
			cover[p[i].value | x]++;
			x = (x - free) & free;
		} while (x);
	}
	return true;
}

static bool pieces_disjoint(const struct prr_piece *p, int n)
{
	int i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (!((p[i].value ^ p[j].value) & p[i].mask &
			      p[j].mask))
				return false;
	return true;
}

/* Same pieces, any order (pieces are distinct when disjoint). */
static bool same_set_of_pieces(const struct prr_piece *a, int na,
			       const struct prr_piece *b, int nb)
{
	int i, j;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++)
			if (a[i].value == b[j].value && a[i].mask == b[j].mask)
				break;
		if (j == nb)
			return false;
	}
	return true;
}

/* Splits @text (copied into @buf) into words. */
static int split(const char *text, char *buf, size_t len, char **argv)
{
	char *save, *w;
	int n = 0;

	snprintf(buf, len, "%s", text);
	for (w = strtok_r(buf, " ", &save); w && n < MAXW;
	     w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	return n;
}

static int parse_text(const char *text, struct prr_piece *out, char *err)
{
	char buf[TEXT_LEN], *argv[MAXW];
	int argc = split(text, buf, sizeof(buf), argv);

	return prr_notation_parse(argc, argv, out, PRR_NOTATION_MAX, err);
}

/* Values of PSID to try for length k: all when small, else a sample. */
static int psid_values(unsigned int k, unsigned int *v)
{
	unsigned int max = k ? (1u << k) - 1 : 0;
	int n = 0, i;

	if (k <= 6) {
		for (i = 0; i <= (int)max; i++)
			v[n++] = i;
		return n;
	}
	v[n++] = 0;
	v[n++] = 1;
	v[n++] = max;
	v[n++] = max - 1;
	v[n++] = 0x5555 & max;
	v[n++] = 0xaaaa & max;
	for (i = 0; i < 4; i++)
		v[n++] = rng() & max;
	return n;
}

/* Checks the MAP sets of offsets @a_lo to @a_hi, every length. */
static void check_psid_sets(struct __test_metadata *_metadata,
			    unsigned int a_lo, unsigned int a_hi)
{
	static unsigned char cover[NPORTS];
	struct prr_piece p[PRR_NOTATION_MAX];
	unsigned int a, k, i, port, v[64];
	int nv, n, j;
	char err[PRR_NOTATION_ERR_LEN];
	unsigned long sets = 0;

	for (a = a_lo; a <= a_hi; a++) {
		for (k = 0; a + k <= 16; k++) {
			nv = psid_values(k, v);
			for (j = 0; j < nv; j++) {
				n = prr_notation_psid(v[j], k, a, p,
						      PRR_NOTATION_MAX, err);
				ASSERT_EQ(a ? (int)a : 1, n)
					TH_LOG("a %u k %u psid %u: %s", a, k,
					       v[j], err);
				ASSERT_TRUE(mark(p, n, cover));
				for (port = 0; port < NPORTS; port++)
					if (in_map_set(port, v[j], k, a) !=
					    cover[port])
						break;
				ASSERT_EQ(NPORTS, port)
					TH_LOG("a %u k %u psid %u port %u",
					       a, k, v[j], port);
				for (i = 1; i < (unsigned int)n; i++)
					ASSERT_LT(p[i - 1].value, p[i].value);
				sets++;
			}
		}
	}
	TH_LOG("offsets %u-%u: %lu MAP sets equal to RFC 7597 §5.1 on all 65536 ports",
	       a_lo, a_hi, sets);
}

/* Every offset and length; every PSID for k <= 6, ten for larger k. */
TEST(psid_sets_offsets_0_to_4)
{
	check_psid_sets(_metadata, 0, 4);
}

TEST(psid_sets_offsets_5_to_15)
{
	check_psid_sets(_metadata, 5, 15);
}

/*
 * The exclusion of A = 0 needs a pieces, even overlapping ones: the ports
 * whose only 1 bit is A bit i are in the set, and a piece holding two of
 * them holds their AND, port 0, which is not.  Check that each piece holds
 * exactly one of them, so a is also what prr_notation_psid() gives.
 */
TEST(psid_piece_count_is_minimal)
{
	struct prr_piece p[PRR_NOTATION_MAX];
	unsigned int a, i, port, held;
	int n, j;

	for (a = 1; a <= 15; a++) {
		n = prr_notation_psid(0, 0, a, p, PRR_NOTATION_MAX, NULL);
		ASSERT_EQ((int)a, n);
		ASSERT_FALSE(in_map_set(0, 0, 0, a));
		for (j = 0; j < n; j++) {
			held = 0;
			for (i = 0; i < a; i++) {
				port = 1u << (15 - i);
				ASSERT_TRUE(in_map_set(port, 0, 0, a));
				held += (port & p[j].mask) == p[j].value;
			}
			ASSERT_EQ(1u, held);
		}
	}
}

TEST(psid_rfc_test_vectors)
{
	static unsigned char cover[NPORTS];
	struct prr_piece p[PRR_NOTATION_MAX];
	unsigned int port, first = NPORTS, last = 0, count = 0;
	int n;

	/* RFC 7597 App. B.2: a 6, k 8, PSID 0: 1024-1027 ... 64512-64515 */
	n = prr_notation_psid(0, 8, 6, p, PRR_NOTATION_MAX, NULL);
	ASSERT_EQ(6, n);
	mark(p, n, cover);
	for (port = 0; port < NPORTS; port++) {
		if (!cover[port])
			continue;
		first = first < port ? first : port;
		last = port;
		count++;
	}
	EXPECT_EQ(1024u, first);
	EXPECT_EQ(64515u, last);
	EXPECT_EQ(63u * 4, count);
	EXPECT_TRUE(cover[2048] && cover[2051] && !cover[2052]);

	/* RFC 7599 App. A ex. 1: PSID 0x34: 1232-1235 ... 64720-64723 */
	n = prr_notation_psid(0x34, 8, 6, p, PRR_NOTATION_MAX, NULL);
	mark(p, n, cover);
	EXPECT_TRUE(!cover[1231] && cover[1232] && cover[1235] &&
		    !cover[1236]);
	EXPECT_TRUE(cover[63696] && cover[63699] && cover[64720] &&
		    cover[64723] && !cover[64724]);
	EXPECT_FALSE(cover[208]);	/* the A = 0 block, 208-211 */

	/* RFC 7597 App. B.2 ex. 2: a 0, k 6, PSID 0: 0-1023, one piece */
	n = prr_notation_psid(0, 6, 0, p, PRR_NOTATION_MAX, NULL);
	ASSERT_EQ(1, n);
	EXPECT_EQ(0, p[0].value);
	EXPECT_EQ(0xfc00, p[0].mask);
}

/* Fewest aligned blocks of [lo, hi], by dynamic programming, width w. */
static void aligned_minimum(unsigned int w, unsigned char *best)
{
	unsigned int size = 1u << w, lo, hi, s;
	unsigned char b, c;

	for (hi = 0; hi < size; hi++) {
		for (lo = hi + 1; lo-- > 0;) {
			b = 0xff;
			for (s = 1; s <= size && !(lo & (s - 1)) &&
			     lo + s - 1 <= hi; s *= 2) {
				c = lo + s > hi ? 1 : 1 + best[(lo + s) * size + hi];
				if (c < b)
					b = c;
			}
			best[lo * size + hi] = b;
		}
	}
}

/* Every range of a w-bit port space: exact, disjoint, minimal, <= 2w-2. */
TEST(range_cover_all_ranges_of_10_bits)
{
	const unsigned int w = 10, size = 1u << w;
	unsigned char *best = malloc(size * size);
	struct prr_piece p[PRR_NOTATION_MAX];
	unsigned int lo, hi, total, top, worst = 0;
	unsigned long ranges = 0;
	int n, i;

	ASSERT_NE(NULL, best);
	aligned_minimum(w, best);
	for (lo = 0; lo < size; lo++) {
		for (hi = lo; hi < size; hi++) {
			n = prr_notation_range(lo, hi, p, PRR_NOTATION_MAX,
					       NULL);
			ASSERT_EQ(best[lo * size + hi], n)
				TH_LOG("ports %u-%u", lo, hi);
			total = 0;
			for (i = 0; i < n; i++) {
				top = p[i].value | (0xffff & ~p[i].mask);
				/* an aligned block inside [lo, hi] */
				ASSERT_EQ(0, p[i].value & ~p[i].mask);
				top -= p[i].value;	/* free bits */
				ASSERT_EQ(0u, top & (top + 1));
				top += p[i].value;
				ASSERT_TRUE(p[i].value >= lo && top <= hi);
				total += top - p[i].value + 1;
			}
			/* disjoint pieces inside, sizes adding up: exact */
			ASSERT_TRUE(pieces_disjoint(p, n));
			ASSERT_EQ(hi - lo + 1, total);
			if ((unsigned int)n > worst)
				worst = n;
			ranges++;
		}
	}
	EXPECT_EQ(2 * w - 2, worst);
	free(best);
	TH_LOG("%lu ranges of %u bits: minimal aligned covers, worst %u pieces",
	       ranges, w, worst);
}

static void check_range_brute(struct __test_metadata *_metadata,
			      unsigned int lo, unsigned int hi,
			      unsigned char *cover, unsigned int *worst)
{
	struct prr_piece p[PRR_NOTATION_MAX];
	unsigned int port;
	int n;

	n = prr_notation_range(lo, hi, p, PRR_NOTATION_MAX, NULL);
	ASSERT_GT(n, 0);
	ASSERT_LE(n, 30);
	ASSERT_TRUE(mark(p, n, cover));
	for (port = 0; port < NPORTS; port++)
		if ((port >= lo && port <= hi) != cover[port])
			break;
	ASSERT_EQ(NPORTS, port) TH_LOG("ports %u-%u port %u", lo, hi, port);
	if ((unsigned int)n > *worst)
		*worst = n;
}

/* Random and edge 16-bit ranges against all 65536 ports. */
TEST(range_cover_16_bit_brute_force)
{
	static const unsigned int edge[][2] = {
		{ 0, 65535 }, { 1, 65534 }, { 0, 0 }, { 65535, 65535 },
		{ 1024, 65535 }, { 1, 65535 }, { 0, 65534 }, { 32767, 32768 },
		{ 1024, 2047 }, { 1023, 2048 }, { 2560, 3071 }, { 0, 2559 },
	};
	static unsigned char cover[NPORTS];
	unsigned int i, lo, hi, worst = 0;
	struct prr_piece p[PRR_NOTATION_MAX];

	for (i = 0; i < ARRAY_SIZE(edge); i++)
		check_range_brute(_metadata, edge[i][0], edge[i][1], cover,
				  &worst);
	EXPECT_EQ(30u, worst);	/* 1-65534: 2 * 16 - 2 */
	for (i = 0; i < 3000; i++) {
		lo = rng() & 0xffff;
		hi = rng() & 0xffff;
		if (i % 3 == 0)	/* short ranges too */
			hi = lo + (rng() & 0x3ff);
		if (hi > 0xffff)
			hi = 0xffff;
		if (lo > hi)
			check_range_brute(_metadata, hi, lo, cover, &worst);
		else
			check_range_brute(_metadata, lo, hi, cover, &worst);
	}
	/* RFC 6346 §3.3.1 example: C = 0-2559 is two masks */
	ASSERT_EQ(2, prr_notation_range(0, 2559, p, PRR_NOTATION_MAX, NULL));
	EXPECT_EQ(0x0000, p[0].value);
	EXPECT_EQ(0xf800, p[0].mask);
	EXPECT_EQ(0x0800, p[1].value);
	EXPECT_EQ(0xfe00, p[1].mask);
	TH_LOG("%zu 16-bit ranges equal on all 65536 ports, worst %u pieces",
	       ARRAY_SIZE(edge) + 3000, worst);
}

/*
 * Fewest pairwise disjoint pieces of any masks covering exactly the bits of
 * @want (a set of ports of a 5-bit space), by exhaustive search.
 */
static void min_cover_search(unsigned int want, unsigned int covered,
			     int used, int *best, const unsigned int *cubes,
			     int ncubes)
{
	unsigned int first;
	int i;

	if (covered == want) {
		*best = used;
		return;
	}
	if (used + 1 >= *best)
		return;
	first = __builtin_ctz(want & ~covered);
	for (i = 0; i < ncubes; i++)
		if ((cubes[i] >> first & 1) && !(cubes[i] & covered))
			min_cover_search(want, covered | cubes[i], used + 1,
					 best, cubes, ncubes);
}

/* The pieces of a 5-bit space inside @want, as port bitmaps. */
static int pieces_inside(unsigned int want, unsigned int *cubes)
{
	unsigned int mask, value, set, x;
	int n = 0;

	for (mask = 0; mask < 32; mask++) {
		for (value = mask;; value = (value - 1) & mask) {
			set = 0;
			for (x = 0; x < 32; x++)
				if ((x & mask) == value)
					set |= 1u << x;
			if (!(set & ~want))
				cubes[n++] = set;
			if (!value)
				break;
		}
	}
	return n;
}

/*
 * Aligned blocks are not always the fewest pieces when masks may be
 * non-contiguous (3 bits: 1-6 = *01 + 1*0 + 01*, 3 pieces, not 4).  For
 * every range of a 5-bit space, the aligned cover is at most one piece
 * above the true minimum; the count where it is above is pinned.
 */
TEST(range_cover_vs_any_masks_5_bits)
{
	unsigned int cubes[243], lo, hi, want;
	struct prr_piece p[PRR_NOTATION_MAX];
	int ncubes, n, best, above = 0, ranges = 0;

	for (lo = 0; lo < 32; lo++) {
		for (hi = lo; hi < 32; hi++) {
			want = (hi == 31 ? ~0u : (1u << (hi + 1)) - 1) &
			       ~((1u << lo) - 1);
			ncubes = pieces_inside(want, cubes);
			n = prr_notation_range(lo, hi, p, PRR_NOTATION_MAX,
					       NULL);
			best = n + 1;
			min_cover_search(want, 0, 0, &best, cubes, ncubes);
			if (best > n)
				best = n;
			ASSERT_LE(n, best + 1) TH_LOG("ports %u-%u", lo, hi);
			above += n > best;
			ranges++;
		}
	}
	EXPECT_EQ(64, above);
	TH_LOG("%d of %d ranges of 5 bits have a cover one piece smaller with non-contiguous masks",
	       above, ranges);
}

static void expect_round_trip(struct __test_metadata *_metadata,
			      const struct prr_piece *p, int n,
			      const char *want_text)
{
	struct prr_piece q[PRR_NOTATION_MAX];
	char text[TEXT_LEN], text2[TEXT_LEN], err[PRR_NOTATION_ERR_LEN] = "";
	int len, m;

	len = prr_notation_describe(p, n, text, sizeof(text));
	ASSERT_GT(len, 0);
	ASSERT_EQ(strlen(text), (size_t)len);
	if (want_text)
		ASSERT_STREQ(want_text, text);
	m = parse_text(text, q, err);
	ASSERT_TRUE(same_set_of_pieces(p, n, q, m))
		TH_LOG("\"%s\" parses to %d pieces: %s", text, m, err);
	prr_notation_describe(q, m, text2, sizeof(text2));
	ASSERT_STREQ(text, text2);
}

/* show then restore: every MAP set, in each notation, back to itself. */
TEST(round_trip_psid)
{
	struct prr_piece p[PRR_NOTATION_MAX], q[PRR_NOTATION_MAX];
	char want[128], in[128], err[PRR_NOTATION_ERR_LEN];
	unsigned int a, k, v[64], left;
	unsigned long sets = 0;
	int nv, n, j, m;

	for (a = 0; a <= 15; a++) {
		for (k = 0; a + k <= 16; k++) {
			nv = psid_values(k, v);
			for (j = 0; j < nv; j++) {
				n = prr_notation_psid(v[j], k, a, p,
						      PRR_NOTATION_MAX, NULL);
				if (n == 1)
					snprintf(want, sizeof(want),
						 "port-value 0x%04x port-mask 0x%04x",
						 p[0].value, p[0].mask);
				else if (!k)
					snprintf(want, sizeof(want),
						 "ports %u-65535",
						 1u << (16 - a));
				else
					snprintf(want, sizeof(want),
						 "psid 0x%x psid-len %u psid-offset %u",
						 v[j], k, a);
				expect_round_trip(_metadata, p, n, want);

				/* the DHCP encodings give the same pieces */
				left = k ? v[j] << (16 - k) : 0;
				snprintf(in, sizeof(in), "portparams %u,%u/%u",
					 a, v[j], k);
				m = parse_text(in, q, err);
				ASSERT_TRUE(same_set_of_pieces(p, n, q, m))
					TH_LOG("%s: %s", in, err);
				snprintf(in, sizeof(in),
					 "portparams %x:%x:%02x:%02x", a, k,
					 left >> 8, left & 0xff);
				m = parse_text(in, q, err);
				ASSERT_TRUE(same_set_of_pieces(p, n, q, m))
					TH_LOG("%s: %s", in, err);
				snprintf(in, sizeof(in),
					 "portparams 0x%02x%02x%04x", a, k,
					 left);
				m = parse_text(in, q, err);
				ASSERT_TRUE(same_set_of_pieces(p, n, q, m))
					TH_LOG("%s: %s", in, err);
				if (a == 6) {	/* the default offset */
					snprintf(in, sizeof(in),
						 "psid %u psid-len %u",
						 v[j], k);
					m = parse_text(in, q, err);
					ASSERT_TRUE(same_set_of_pieces(p, n, q,
								       m));
				}
				sets++;
			}
		}
	}
	TH_LOG("%lu MAP sets: describe, parse and 3 DHCP encodings agree",
	       sets);
}

/* Every range of 8 bits and random 16-bit ones, via their text. */
TEST(round_trip_range)
{
	struct prr_piece p[PRR_NOTATION_MAX], q[PRR_NOTATION_MAX];
	char in[64], want[64];
	unsigned int lo, hi, i;
	unsigned long ranges = 0;
	int n, m;

	for (i = 0; i < 65536 + 2000; i++) {
		if (i < 65536) {	/* the 32896 ranges of 8 bits */
			lo = i >> 8;
			hi = i & 0xff;
			if (hi < lo)
				continue;
		} else {
			lo = rng() & 0xffff;
			hi = lo + (rng() & 0xffff);
			hi = hi > 0xffff ? 0xffff : hi;
		}
		snprintf(in, sizeof(in), "ports %u-%u", lo, hi);
		n = parse_text(in, p, NULL);
		ASSERT_GT(n, 0);
		m = prr_notation_range(lo, hi, q, PRR_NOTATION_MAX, NULL);
		ASSERT_EQ(n, m);
		ASSERT_TRUE(same_set_of_pieces(p, n, q, n));
		if (n == 1)
			snprintf(want, sizeof(want),
				 "port-value 0x%04x port-mask 0x%04x",
				 p[0].value, p[0].mask);
		else
			snprintf(want, sizeof(want), "ports %u-%u", lo, hi);
		expect_round_trip(_metadata, p, n, want);
		ranges++;
	}
	/* hex and a single port */
	ASSERT_EQ(2, parse_text("ports 0x400-0xbff", p, NULL));
	expect_round_trip(_metadata, p, 2, "ports 1024-3071");
	ASSERT_EQ(1, parse_text("ports 80", p, NULL));
	expect_round_trip(_metadata, p, 1,
			  "port-value 0x0050 port-mask 0xffff");
	m = parse_text("ports 1024-2047", p, NULL);
	expect_round_trip(_metadata, p, m,
			  "port-value 0x0400 port-mask 0xfc00");
	TH_LOG("%lu ranges: describe(parse(\"ports LO-HI\")) canonical", ranges);
}

/*
 * Pieces that are not the canonical pieces of a range or MAP set (another
 * cover of the same ports, or any union) print as pairs, so that restore
 * gives back the same entries.
 */
TEST(round_trip_pieces)
{
	struct prr_piece p[PRR_NOTATION_MAX], q[PRR_NOTATION_MAX];
	struct prr_notation_form f;
	unsigned int i, j, mask;
	int n, trial;

	/* 1024-2047 as two halves: same ports, other entries */
	p[0] = (struct prr_piece){ 0x0600, 0xfe00 };
	p[1] = (struct prr_piece){ 0x0400, 0xfe00 };
	expect_round_trip(_metadata, p, 2,
			  "port-value 0x0400 port-mask 0xfe00 port-value 0x0600 port-mask 0xfe00");
	/* a MAP set split on the lowest A bit instead of the highest */
	n = prr_notation_psid(0x34, 8, 2, q, PRR_NOTATION_MAX, NULL);
	ASSERT_EQ(2, n);
	p[0] = (struct prr_piece){ 0x40d0, 0x43fc };	/* A = x1 */
	p[1] = (struct prr_piece){ 0x80d0, 0xc3fc };	/* A = 10 */
	ASSERT_EQ(0, prr_notation_classify(p, 2, &f));
	EXPECT_EQ(PRR_NOTATION_PIECES, (int)f.kind);
	ASSERT_EQ(0, prr_notation_classify(q, 2, &f));
	EXPECT_EQ(PRR_NOTATION_PSID, (int)f.kind);
	expect_round_trip(_metadata, p, 2, NULL);
	/* the RFC 6431 §2.1 example stays one entry */
	p[0] = (struct prr_piece){ 0x0400, 0x1400 };
	expect_round_trip(_metadata, p, 1,
			  "port-value 0x0400 port-mask 0x1400");

	/* random disjoint unions of 2..32 pieces */
	for (trial = 0; trial < 2000; trial++) {
		unsigned int want = 2 + rng() % (PRR_NOTATION_MAX - 1);

		n = 0;
		for (i = 0; i < 200 && (unsigned int)n < want; i++) {
			mask = rng() & 0xffff;
			p[n].mask = mask;
			p[n].value = rng() & mask;
			for (j = 0; j < (unsigned int)n; j++)
				if (!((p[n].value ^ p[j].value) & mask &
				      p[j].mask))
					break;
			if (j == (unsigned int)n)
				n++;
		}
		if (n < 2)
			continue;
		expect_round_trip(_metadata, p, n, NULL);
	}
}

/* Word by word, as prrctl's own loop calls it: other words are its own. */
TEST(word_by_word)
{
	char buf[64], *argv[MAXW];
	struct prr_piece p[PRR_NOTATION_MAX];
	struct prr_notation nt;

	ASSERT_EQ(6, split("psid 0x34 via 10.0.0.1 psid-len 8", buf,
			   sizeof(buf), argv));

	prr_notation_init(&nt);
	EXPECT_EQ(2, prr_notation_word(&nt, 6, argv));
	EXPECT_EQ(0, prr_notation_word(&nt, 4, argv + 2));
	EXPECT_EQ(-1, prr_notation_finish(&nt, p, PRR_NOTATION_MAX));
	EXPECT_STREQ("missing \"psid-len K\"", nt.err);
	EXPECT_EQ(2, prr_notation_word(&nt, 2, argv + 4));
	EXPECT_EQ(6, prr_notation_finish(&nt, p, PRR_NOTATION_MAX));
	EXPECT_EQ(0, prr_notation_word(&nt, 0, argv));
}

TEST(describe_truncates_like_snprintf)
{
	struct prr_piece p[3] = { { 0x0400, 0x1400 }, { 0x0000, 0x1c00 } };
	char buf[16];
	int len;

	len = prr_notation_describe(p, 2, buf, sizeof(buf));
	EXPECT_EQ(strlen("port-value 0x0000 port-mask 0x1c00 port-value 0x0400 port-mask 0x1400"),
		  (size_t)len);
	EXPECT_STREQ("port-value 0x00", buf);
	EXPECT_EQ(-1, prr_notation_describe(p, 0, buf, sizeof(buf)));
	EXPECT_EQ(len, prr_notation_describe(p, 2, NULL, 0));
}

/* One line per class of bad input. */
TEST(parse_errors)
{
	static const char *const cases[][2] = {
		{ "",
		  "missing port set: \"port-value V port-mask M\", \"ports LO-HI\", \"psid P psid-len K\" or \"portparams O,P/K\""
		},
		{ "port-value 1",
		  "missing \"port-mask M\"" },
		{ "port-mask 1",
		  "missing \"port-value V\"" },
		{ "port-value",
		  "\"port-value\" needs a value" },
		{ "port-value 70000 port-mask 0xffff",
		  "invalid port-value \"70000\": expected 0-65535 or 0x0-0xffff"
		},
		{ "port-value -1 port-mask 0xffff",
		  "invalid port-value \"-1\": expected 0-65535 or 0x0-0xffff" },
		{ "port-value 1x port-mask 0xffff",
		  "invalid port-value \"1x\": expected 0-65535 or 0x0-0xffff" },
		{ "port-value 0x port-mask 0xffff",
		  "invalid port-value \"0x\": expected 0-65535 or 0x0-0xffff" },
		{ "port-value 1 port-value 2 port-mask 3",
		  "\"port-value\" given twice" },
		{ "port-value 1 port-mask 0xffff port-mask 2 port-mask 3",
		  "\"port-mask\" given twice without \"port-value\" between" },
		{ "port-value 0x400 port-mask 0x400 port-value 0x400 port-mask 0xc00",
		  "port-value 0x0400 port-mask 0x0c00 overlaps port-value 0x0400 port-mask 0x0400"
		},
		{ "psid 3",
		  "missing \"psid-len K\"" },
		{ "psid-len 8",
		  "missing \"psid P\"" },
		{ "psid-offset 4 psid-len 8",
		  "missing \"psid P\"" },
		{ "psid 300 psid-len 8",
		  "psid 300 does not fit in psid-len 8 (0-255)" },
		{ "psid 1 psid-len 0",
		  "psid 1 does not fit in psid-len 0 (0-0)" },
		{ "psid 0 psid-len 11",
		  "default psid-offset 6 + psid-len 11 exceed 16 bits: give psid-offset"
		},
		{ "psid 0 psid-len 8 psid-offset 9",
		  "psid-offset 9 + psid-len 8 exceed 16 bits" },
		{ "psid 0 psid-len 17",
		  "invalid psid-len \"17\": expected 0-16" },
		{ "psid 0 psid-len 1 psid-offset 16",
		  "invalid psid-offset \"16\": expected 0-15" },
		{ "psid 0x10000 psid-len 16",
		  "invalid psid \"0x10000\": expected 0-65535 or 0x0-0xffff" },
		{ "psid 1 psid 2 psid-len 8",
		  "\"psid\" given twice" },
		{ "psid 1 psid-len 8 port-value 1",
		  "\"psid\" and \"port-value\" exclude each other" },
		{ "ports 1-2 psid 1",
		  "\"ports\" and \"psid\" exclude each other" },
		{ "ports 1-2 ports 3-4",
		  "\"ports\" given twice" },
		{ "ports 2000-1000",
		  "invalid ports \"2000-1000\": 2000 is above 1000" },
		{ "ports 1-65536",
		  "invalid ports \"1-65536\": expected LO-HI or PORT, 0-65535"
		},
		{ "ports 1-",
		  "invalid ports \"1-\": expected LO-HI or PORT, 0-65535" },
		{ "ports -5",
		  "invalid ports \"-5\": expected LO-HI or PORT, 0-65535" },
		{ "ports 1--2",
		  "invalid ports \"1--2\": expected LO-HI or PORT, 0-65535" },
		{ "portparams 6,300/8",
		  "psid 300 does not fit in psid-len 8 (0-255)" },
		{ "portparams 16,0/0",
		  "psid-offset 16 is above 15" },
		{ "portparams 6,0/11",
		  "psid-offset 6 + psid-len 11 exceed 16 bits" },
		{ "portparams 6:8:34:01",
		  "portparams psid field 0x3401 has bits beyond psid-len 8" },
		{ "portparams 0x06003400",
		  "portparams psid field 0x3400 is not 0 with psid-len 0" },
		{ "portparams 0x06113400",
		  "portparams psid-len 17 is above 16" },
		{ "portparams 6:8:34",
		  "invalid portparams \"6:8:34\": expected OFFSET,PSID/PSID-LEN, 0xOOLLPPPP or OO:LL:PP:PP"
		},
		{ "portparams 6:8:340:0",
		  "invalid portparams \"6:8:340:0\": expected OFFSET,PSID/PSID-LEN, 0xOOLLPPPP or OO:LL:PP:PP"
		},
		{ "portparams 0x6083400",
		  "invalid portparams \"0x6083400\": expected OFFSET,PSID/PSID-LEN, 0xOOLLPPPP or OO:LL:PP:PP"
		},
		{ "portparams 6/8,3",
		  "invalid portparams \"6/8,3\": expected OFFSET,PSID/PSID-LEN, 0xOOLLPPPP or OO:LL:PP:PP"
		},
		{ "portparams 6,3/8 psid 3",
		  "\"portparams\" and \"psid\" exclude each other" },
		{ "portparams 6,3/8 portparams 6,3/8",
		  "\"portparams\" given twice" },
		{ "port-value 1 port-mask 1 via",
		  "unexpected argument \"via\"" },
	};
	struct prr_piece p[PRR_NOTATION_MAX];
	char err[PRR_NOTATION_ERR_LEN];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		strcpy(err, "(none)");
		EXPECT_EQ(-1, parse_text(cases[i][0], p, err))
			TH_LOG("\"%s\" accepted", cases[i][0]);
		EXPECT_STREQ(cases[i][1], err)
			TH_LOG("for \"%s\"", cases[i][0]);
		EXPECT_EQ(NULL, strchr(err, '\n'));
	}
	/* room for fewer pieces than the set needs */
	EXPECT_EQ(-1, prr_notation_psid(0, 8, 6, p, 5, err));
	EXPECT_STREQ("psid set needs 6 pieces, room for 5", err);
	EXPECT_EQ(-1, prr_notation_range(1, 65534, p, 29, err));
	EXPECT_STREQ("ports 1-65534 need more than 29 pieces", err);
}

/* Accepted spellings beyond the canonical ones. */
TEST(parse_accepts)
{
	struct prr_piece p[PRR_NOTATION_MAX];
	char err[PRR_NOTATION_ERR_LEN];
	char word0[] = "portparams", word1[] = "6, 52/8";
	char *kea[2];

	/* any order within a pair, and between MAP words */
	ASSERT_EQ(1, parse_text("port-mask 0x1400 port-value 0x0400", p, err));
	EXPECT_EQ(0x0400, p[0].value);
	EXPECT_EQ(0x1400, p[0].mask);
	ASSERT_EQ(6, parse_text("psid-offset 6 psid-len 8 psid 0x34", p, err));
	/* value bits outside the mask are the kernel's to refuse */
	ASSERT_EQ(1, parse_text("port-value 0x0401 port-mask 0x1400", p, err));
	/* Kea's "6, 52/8" as one quoted word */
	ASSERT_EQ(6, parse_text("portparams 6,52/8", p, err));
	ASSERT_EQ(1, parse_text("portparams 0x00000000", p, err));
	EXPECT_EQ(0, p[0].mask);
	ASSERT_EQ(1, parse_text("portparams 0,0/0", p, err));
	ASSERT_EQ(1, parse_text("psid 0 psid-len 0 psid-offset 0", p, err));
	EXPECT_EQ(0, p[0].mask);
	ASSERT_EQ(15, parse_text("psid 1 psid-len 1 psid-offset 15", p, err));
	ASSERT_EQ(6, parse_text("psid 0x3ff psid-len 10", p, err));
	kea[0] = word0;
	kea[1] = word1;
	ASSERT_EQ(6, prr_notation_parse(2, kea, p, PRR_NOTATION_MAX, err));
}

TEST_HARNESS_MAIN
