// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of how prrctl splits the kernel's entries into CPEs
 * (group_entries() in tools/prrctl/output.c): random tables of CPEs in every
 * notation form, dumped in random order, must come back CPE for CPE, each
 * one's canonical text parsing back into its very pieces (the show/save ->
 * restore round trip), in a stable order; and when PRR_A_CPE_ID values
 * collide (a wrapped counter), no line may hold entries add-cpe could not
 * add together.
 */

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prrctl.h"
#include "notation.h"
#include "kselftest_harness.h"
#include "test_rng.h"

struct prrctl_opts opts;

#define MAX_CPES	200
#define MAX_ENTRIES	(MAX_CPES * PRR_NOTATION_MAX)
#define TEXT_LEN	2048
#define MAXW		(4 * PRR_NOTATION_MAX + 4)

static unsigned long long rng_state = 0x2545f4914f6cdd1dull;

static unsigned int rng(void)
{
	return test_rng_next(&rng_state) >> 32;
}

static bool meet(struct prr_piece a, struct prr_piece b)
{
	return !((a.value ^ b.value) & a.mask & b.mask);
}

/* Some random CPE's pieces, in one of the forms add-cpe takes. */
static int random_set(struct prr_piece *p)
{
	unsigned int a, k, lo, hi, i, n;

	switch (rng() % 4) {
	case 0:
		a = rng() % 10;
		k = 6 + rng() % (11 - a);
		return prr_notation_psid(k ? rng() % (1u << k) : 0, k, a, p,
					 PRR_NOTATION_MAX, NULL);
	case 1:
		lo = rng() % 65536;
		hi = lo + rng() % 3000;
		return prr_notation_range(lo, hi > 65535 ? 65535 : hi, p,
					  PRR_NOTATION_MAX, NULL);
	case 2:
		p[0].mask = rng() | 0xff00;
		p[0].value = rng() & p[0].mask;
		return 1;
	default:
		n = 2 + rng() % 4;
		for (i = 0; i < n; i++) {
			p[i].mask = 0xff00 | (rng() & 0xff);
			p[i].value = rng() & p[i].mask;
		}
		return n;
	}
}

struct table {
	struct prr_entries entries;
	unsigned int ncpes;
	unsigned int npieces[MAX_CPES + 1];	/* by cpe_id */
};

/*
 * Entries of one address may nest, but only the defaults do here, so that
 * every CPE can be told by its pieces.
 */
static bool fits(const struct table *t, __u32 addr, const struct prr_piece *p,
		 int n)
{
	const struct prr_entry *e;
	struct prr_piece q;
	size_t i;
	int j, l;

	for (j = 0; j < n; j++)
		for (l = 0; l < j; l++)
			if (meet(p[j], p[l]))
				return false;
	for (i = 0; i < t->entries.n; i++) {
		e = &t->entries.v[i];
		/* The defaults (port-mask 0) nest everything. */
		if (e->addr.s_addr != addr || !e->port_mask)
			continue;
		q.value = e->port_value;
		q.mask = e->port_mask;
		for (j = 0; j < n; j++)
			if (meet(p[j], q))
				return false;
	}
	return true;
}

/*
 * @ncpes random CPEs on two addresses, two gateways, three names, with
 * cpe_id @same_id for all (a wrapped counter), or 1, 2, ... when 0.  A
 * default (port-mask 0) entry per address nests the others.
 */
static void build(struct table *t, unsigned int ncpes, __u32 same_id)
{
	static const char *const names[] = { "", "alice", "b!~" };
	struct prr_piece p[PRR_NOTATION_MAX];
	struct prr_entry *e;
	unsigned int tries = 0;
	__u32 addr;
	int n, j;

	memset(t, 0, sizeof(*t));
	t->entries.v = calloc(MAX_ENTRIES, sizeof(*t->entries.v));
	while (t->ncpes < ncpes && tries++ < 20 * MAX_CPES) {
		n = random_set(p);
		addr = htonl(0xc0000201 + rng() % 2);
		if (t->ncpes < 2) {
			p[0].value = 0;
			p[0].mask = 0;
			n = 1;
			addr = htonl(0xc0000201 + t->ncpes);
		}
		if (n <= 0 || (t->ncpes >= 2 && !fits(t, addr, p, n)))
			continue;
		t->ncpes++;
		t->npieces[t->ncpes] = n;
		for (j = 0; j < n; j++) {
			e = &t->entries.v[t->entries.n++];
			e->addr.s_addr = addr;
			e->port_value = p[j].value;
			e->port_mask = p[j].mask;
			e->action = PRR_ACTION_VIA;
			e->has_via = true;
			e->via.s_addr = htonl(0x0a000102 + (same_id ? 0 :
							    t->ncpes % 2));
			e->cpe_id = same_id ?: t->ncpes;
			strcpy(e->name, same_id ? "" : names[t->ncpes % 3]);
			e->packets = j;
		}
	}
}

/* The kernel dumps in its own order: shuffle. */
static void shuffle(struct prr_entries *entries)
{
	struct prr_entry tmp;
	size_t i, j;

	for (i = entries->n - 1; i > 0; i--) {
		j = rng() % (i + 1);
		tmp = entries->v[i];
		entries->v[i] = entries->v[j];
		entries->v[j] = tmp;
	}
}

static void pieces_of(const struct prr_entries *entries,
		      const struct prr_group *g, struct prr_piece *p)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		p[i].value = entries->v[g->first + i].port_value;
		p[i].mask = entries->v[g->first + i].port_mask;
	}
}

static int piece_cmp(const void *a, const void *b)
{
	const struct prr_piece *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return x->mask < y->mask ? -1 : x->mask > y->mask;
}

/* describe -> parse gives back exactly @p (any order). */
static bool round_trips(struct prr_piece *p, size_t n)
{
	struct prr_piece q[PRR_NOTATION_MAX];
	char text[TEXT_LEN], *words[MAXW], *w;
	int nw = 0, nq;

	prr_notation_describe(p, n, text, sizeof(text));
	for (w = strtok(text, " "); w && nw < MAXW; w = strtok(NULL, " "))
		words[nw++] = w;
	nq = prr_notation_parse(nw, words, q, PRR_NOTATION_MAX, NULL);
	if (nq != (int)n)
		return false;
	qsort(p, n, sizeof(*p), piece_cmp);
	qsort(q, n, sizeof(*q), piece_cmp);
	return !memcmp(p, q, n * sizeof(*p));
}

TEST(cpe_for_cpe)
{
	struct prr_piece p[PRR_NOTATION_MAX];
	struct prr_groups groups;
	unsigned int round, seen[MAX_CPES + 1];
	const struct prr_entry *e, *prev;
	struct table t;
	size_t g, i;

	for (round = 0; round < 200; round++) {
		build(&t, 2 + rng() % (MAX_CPES - 1), 0);
		shuffle(&t.entries);
		ASSERT_EQ(0, group_entries(&t.entries, &groups));
		ASSERT_EQ((size_t)t.ncpes, groups.n);
		memset(seen, 0, sizeof(seen));
		for (g = 0; g < groups.n; g++) {
			e = &t.entries.v[groups.v[g].first];
			/* One CPE per line, all of it. */
			ASSERT_EQ(0u, seen[e->cpe_id]++);
			ASSERT_EQ((size_t)t.npieces[e->cpe_id],
				  groups.v[g].n);
			for (i = 1; i < groups.v[g].n; i++)
				ASSERT_EQ(e->cpe_id, e[i].cpe_id);
			pieces_of(&t.entries, &groups.v[g], p);
			ASSERT_TRUE(round_trips(p, groups.v[g].n));
			if (!g)
				continue;
			/* By address, then first piece's mask and value. */
			prev = &t.entries.v[groups.v[g - 1].first];
			ASSERT_LE(ntohl(prev->addr.s_addr),
				  ntohl(e->addr.s_addr));
			if (prev->addr.s_addr == e->addr.s_addr)
				ASSERT_LE((unsigned int)prev->port_mask << 16 |
					  prev->port_value,
					  (unsigned int)e->port_mask << 16 |
					  e->port_value);
		}
		free(groups.v);
		free(t.entries.v);
	}
}

TEST(colliding_ids_never_merge_what_add_cpe_refuses)
{
	struct prr_piece p[PRR_NOTATION_MAX];
	struct prr_groups groups;
	struct table t;
	size_t g, i, j, total;
	unsigned int round;

	for (round = 0; round < 100; round++) {
		build(&t, 2 + rng() % (MAX_CPES - 1), 7);
		shuffle(&t.entries);
		ASSERT_EQ(0, group_entries(&t.entries, &groups));
		total = 0;
		for (g = 0; g < groups.n; g++) {
			ASSERT_LE(groups.v[g].n, (size_t)PRR_NOTATION_MAX);
			pieces_of(&t.entries, &groups.v[g], p);
			for (i = 0; i < groups.v[g].n; i++)
				for (j = 0; j < i; j++)
					ASSERT_FALSE(meet(p[i], p[j]));
			ASSERT_TRUE(round_trips(p, groups.v[g].n));
			total += groups.v[g].n;
		}
		ASSERT_EQ(t.entries.n, total);
		free(groups.v);
		free(t.entries.v);
	}
}

TEST(empty_table)
{
	struct prr_entries entries = { 0 };
	struct prr_groups groups;

	ASSERT_EQ(0, group_entries(&entries, &groups));
	ASSERT_EQ((size_t)0, groups.n);
}

TEST_HARNESS_MAIN
