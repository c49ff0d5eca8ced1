// SPDX-License-Identifier: GPL-2.0
/*
 * Lookup microbenchmark of the port-set table: the very same kmod/portset.c
 * the module is built from, compiled in userspace with -O2 and run on the
 * real CPU (issue 6, "Lookup" goals; `make bench` part (a)).
 *
 * What one lookup is: prr_table_find() then prr_addr_match(), as the
 * PRE_ROUTING hook does, with the entry found (or NULL) as the result; both
 * are inline (portset.h), as the plain hash's lookup is here.
 *
 * Tables (the 1M shape, scaled down for the smaller sizes): shared
 * addresses 198.18.0.0 onwards, about 15.3 entries per address; of every 32
 * addresses 30 are "uniform" (15 or 16 CPEs of mask 0xf000, a PSID set each;
 * a 15-CPE address leaves one PSID unowned), 1 is "nested" (2 single ports
 * 0xffff inside a 0xf000 set, 16 sets 0xf800, 7 sets 0xf000 and a default
 * 0/0) and 1 is "sparse" (RFC 6431 non-contiguous masks: 3 sets 0x1400 and 2
 * nested sets 0x1c00).  Sizes: 1K, 4K, 64K and 1,000,000 entries (65,536
 * addresses).  Each entry lives in a 40-byte object, as the kernel's struct
 * prr_rule does in its own slab cache.
 *
 * Keys, generated beforehand with a fixed seed: "hit-heavy" is 95% owned
 * ports (a uniformly drawn entry, a random port of its set), 2.5% unowned
 * ports of shared addresses and 2.5% addresses that are not shared;
 * "miss-heavy" is 10%, 30% and 60%.  Every answer is checked against a
 * reference scan before anything is timed.
 *
 * Variants on the same keys:
 *   prr      the table under test
 *   plain    an open-addressing hash keyed on (address, port & 0xf000), the
 *            uniform PSID mask, slots of 16 bytes holding the key inline and
 *            the entry pointer, at most half full (the baseline the issue
 *            names; it answers exactly only for uniform addresses)
 *   linear   a scan of 4K (address, value, mask) triples sorted most specific
 *            first, stopping at the first match (iptables-like)
 * in three modes: "lookup", independent lookups one at a time, as the hook
 * does them (prr_table_find() then prr_addr_match()); "batch", the keys
 * through prr_table_lookup_batch() (and the plain hash through the same
 * prefetching pipeline), throughput with 32 keys in flight; "chained", each
 * lookup depending on the previous result and reading the entry found, as
 * consecutive packets through the hook would (latency; for information).
 * The goals say which mode they are judged in: the 1K-vs-1M goal on batches
 * (a lookup that misses the caches cannot be within 2x of an L1 hit one at
 * a time), the plain-hash goal in both lookup and batch mode (like against
 * like), the linear goal in lookup mode.
 *
 * Every round runs every variant once, in an order rotated by one each
 * round, timing its keys in 64 chunks and keeping the median chunk; the
 * figures are medians over the rounds.  A goal's ratio is not taken from
 * those figures, whose two sides may run up to a round apart on a host whose
 * other tenants come and go, but measured in pairs: in each round chunk i of
 * one side runs right before or after (alternately) chunk i of the other,
 * and the round's ratio is the median of the 64 chunk ratios; the goal's
 * figure is the median over the rounds, shown with their range.  The two
 * sides of a pair also share the caches: a table that keeps the L3 when it
 * runs alone may lose it to the other side's chunk, so pairs judge the
 * contended case (the report prints the unpaired ratios beside them).
 * Chunks are timed with this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so
 * that a shared host's other processes' turns are not counted, though their
 * cache pollution is; --wall-clock uses CLOCK_MONOTONIC.  Memory: portset.c's
 * calloc() and free() (portable.h's prr_alloc/prr_free in userspace) are
 * renamed by the Makefile to counting wrappers, which add up
 * malloc_usable_size().  `make bench` runs it with
 * GLIBC_TUNABLES=glibc.malloc.hugetlb=1: transparent huge pages, as the
 * kernel's direct map has (tests/bench/Makefile).
 *
 * Exit status: 0 whether or not the goals are met; 1 when an answer is wrong
 * or flushing the tables leaves memory behind; 2 on bad usage.
 */

#include <arpa/inet.h>
#include <assert.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "portset.h"
#include "linear_scan.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define SEED		0x9e3779b97f4a7c15ull
#define ADDR_BASE	0xc6120000u	/* 198.18.0.0 */
#define PLAIN_MASK	0xf000u
/* sizeof(struct prr_rule), which kmod/netns.c's static_assert keeps */
#define RULE_BYTES	32

/* One kernel struct prr_rule: the entry, then the action and counters. */
struct bench_rule {
	struct prr_entry ent;
	u8 rest[32];
};

static_assert(sizeof(struct bench_rule) == 40, "a rule is 40 bytes");

struct bench_addr {
	u32 first;		/* index of its first rule */
	u16 n;
	int hole;		/* PSID left unowned, or -1 */
};

struct bench_key {
	__be32 addr;
	u16 port;
	u16 pad;
};

struct plain_slot {
	__be32 addr;
	u16 key;
	u16 used;
	const struct prr_entry *e;
};

struct plain_hash {
	struct plain_slot *slot;
	u32 mask;
	u32 nhits;		/* hit-heavy keys it answers, for the report */
};

enum { MIX_HIT, MIX_MISS, NMIX };
enum { MODE_LOOKUP, MODE_BATCH, MODE_CHAINED, NMODE };
enum { KIND_PRR, KIND_PLAIN, KIND_LINEAR, NKIND };

struct keyset {
	struct bench_key *k;
	struct prr_query *q;	/* the same keys, for the batched lookup */
	const struct prr_entry **want;
	u32 n;
	u32 nhits;
};

struct bench_set {
	const char *name;
	u32 nentries;
	u32 naddrs;
	struct bench_rule *rules;
	struct bench_addr *addrs;
	u32 *holed;		/* addresses with an unowned PSID */
	u32 nholed;
	struct prr_table table;
	struct plain_hash plain;
	struct linear_rule *linear;	/* 4K set only */
	double build_ns;
	size_t table_bytes;
	size_t peak_bytes;
	u64 allocs;
	struct keyset keys[NMIX];
};

struct variant {
	struct bench_set *set;
	int kind;
	int mix;
	int mode;
	u32 nkeys;
	u32 chunk;		/* keys timed at a time */
	double *ns;		/* one per round */
};

struct options {
	bool quick;
	u32 rounds;
	u32 nkeys;
	u32 nkeys_linear;
	u32 nchunks;		/* per variant and round */
	u32 build_rounds;
};

/* A goal: ns(@sa, @ka) / ns(@sb, @kb) in mode @mode, for each key mix. */
struct goal {
	char what[40];
	double limit;		/* 0: for information */
	bool at_most;
	int mode;
	const struct bench_set *sa, *sb;
	int ka, kb;
	double *ratio[NMIX];	/* paired, one per round */
};

/* Results accumulate here, so no lookup can be optimized away. */
u64 bench_sink;

static const char * const mix_name[NMIX] = { "hit-heavy", "miss-heavy" };
static const char * const mode_name[NMODE] = {
	"lookup", "batch", "chained"
};

static const char * const kind_name[NKIND] = { "prr", "plain hash", "linear" };
/* Per mille of hits, unowned ports, addresses not shared. */
static const u32 mix_share[NMIX][3] = { { 950, 25, 25 }, { 100, 300, 600 } };

static size_t alloc_live, alloc_peak;
static u64 alloc_calls;

/* Counting wrappers: the Makefile renames portset.c's calloc and free. */
void *prr_bench_calloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p) {
		alloc_live += malloc_usable_size(p);
		if (alloc_live > alloc_peak)
			alloc_peak = alloc_live;
		alloc_calls++;
	}
	return p;
}

void prr_bench_free(void *p)
{
	alloc_live -= malloc_usable_size(p);
	free(p);
}

static u64 rng_state = SEED, rng_table_state = ~SEED;

static u64 xorshift64s(u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static u32 rng32(void)
{
	return (u32)(xorshift64s(&rng_state) >> 32);
}

/* The table's own seeds, from a stream of their own. */
u32 prr_random_u32(void)
{
	return (u32)(xorshift64s(&rng_table_state) >> 32);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * What timed loops are measured with: this thread's CPU time by default,
 * so that other processes' turns on a shared host are not counted (their
 * cache pollution still is); wall-clock time with --wall-clock.
 */
static clockid_t timed_clock = CLOCK_THREAD_CPUTIME_ID;

static double timed_ns(void)
{
	struct timespec ts;

	clock_gettime(timed_clock, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *xalloc(size_t size)
{
	void *p = aligned_alloc(64, (size + 63) & ~(size_t)63);

	if (!p) {
		fprintf(stderr, "lookup_bench: out of memory (%zu bytes)\n",
			size);
		exit(1);
	}
	memset(p, 0, size);
	return p;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, u32 n)
{
	double *s = xalloc(n * sizeof(*s)), m;

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

static void range(const double *v, u32 n, double *lo, double *hi)
{
	u32 i;

	*lo = *hi = v[0];
	for (i = 1; i < n; i++) {
		*lo = v[i] < *lo ? v[i] : *lo;
		*hi = v[i] > *hi ? v[i] : *hi;
	}
}

static double spread(const double *v, u32 n)
{
	double lo, hi;

	range(v, n, &lo, &hi);
	return (hi - lo) / median(v, n);
}

/* Table contents */

static u32 add_rule(struct bench_set *s, u32 addr, u16 value, u16 mask)
{
	struct prr_entry *e = &s->rules[s->nentries].ent;

	e->addr = htonl(addr);
	e->value = value;
	e->mask = mask;
	return s->nentries++;
}

static void add_nested(struct bench_set *s, u32 addr)
{
	u16 v;

	add_rule(s, addr, 0x1050, 0xffff);
	add_rule(s, addr, 0x1051, 0xffff);
	for (v = 0; v < 16; v++)
		add_rule(s, addr, 0x8000 | v << 11, 0xf800);
	for (v = 0; v < 7; v++)
		add_rule(s, addr, v << 12, 0xf000);
	add_rule(s, addr, 0, 0);
}

static void add_sparse(struct bench_set *s, u32 addr)
{
	add_rule(s, addr, 0x0000, 0x1400);
	add_rule(s, addr, 0x0400, 0x1400);
	add_rule(s, addr, 0x1000, 0x1400);
	add_rule(s, addr, 0x1400, 0x1c00);
	add_rule(s, addr, 0x1c00, 0x1c00);
}

static void add_uniform(struct bench_set *s, u32 addr, int hole)
{
	u16 v;

	for (v = 0; v < 16; v++)
		if (v != hole)
			add_rule(s, addr, v << 12, 0xf000);
}

#define NESTED_ENTRIES	26
#define SPARSE_ENTRIES	5

/* @n entries over n * 65536 / 1e6 addresses, shaped as described above. */
static void make_rules(struct bench_set *s, const char *name, u32 n)
{
	u32 i, nnested, nsparse, nuni, full, acc = 0;
	struct bench_addr *a;
	int hole;

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->naddrs = (u32)(n * 65536.0 / 1e6 + 0.5);
	nnested = (s->naddrs + 31) / 32;	/* i % 32 == 0 */
	nsparse = (s->naddrs + 30) / 32;	/* i % 32 == 1 */
	nuni = s->naddrs - nnested - nsparse;
	/* How many uniform addresses get 16 CPEs rather than 15. */
	full = n - nnested * NESTED_ENTRIES - nsparse * SPARSE_ENTRIES -
	       nuni * 15;
	if (n < nnested * NESTED_ENTRIES + nsparse * SPARSE_ENTRIES +
		nuni * 15 || full > nuni) {
		fprintf(stderr, "lookup_bench: cannot shape %u entries\n", n);
		exit(1);
	}
	s->rules = xalloc((size_t)n * sizeof(*s->rules));
	s->addrs = xalloc(s->naddrs * sizeof(*s->addrs));
	s->holed = xalloc(s->naddrs * sizeof(*s->holed));
	for (i = 0; i < s->naddrs; i++) {
		a = &s->addrs[i];
		a->first = s->nentries;
		a->hole = -1;
		if (i % 32 == 0) {
			add_nested(s, ADDR_BASE + i);
		} else if (i % 32 == 1) {
			add_sparse(s, ADDR_BASE + i);
		} else {
			/* Spread the 16-CPE addresses evenly. */
			acc += full;
			hole = rng32() & 15;
			if (acc >= nuni)
				acc -= nuni;
			else
				a->hole = hole;
			if (a->hole >= 0)
				s->holed[s->nholed++] = i;
			add_uniform(s, ADDR_BASE + i, a->hole);
		}
		a->n = s->nentries - a->first;
	}
	if (s->nentries != n) {
		fprintf(stderr, "lookup_bench: made %u entries, not %u\n",
			s->nentries, n);
		exit(1);
	}
}

/* The reference answer: the most specific set of the address holding @p. */
static const struct prr_entry *ref_match(const struct bench_set *s,
					 __be32 addr, u16 p)
{
	const struct prr_entry *e, *best = NULL;
	u32 i = ntohl(addr) - ADDR_BASE, j;
	const struct bench_addr *a;

	if (i >= s->naddrs)
		return NULL;
	a = &s->addrs[i];
	for (j = a->first; j < a->first + a->n; j++) {
		e = &s->rules[j].ent;
		if ((p & e->mask) == e->value &&
		    (!best || __builtin_popcount(e->mask) >
			      __builtin_popcount(best->mask)))
			best = e;
	}
	return best;
}

/* Keys */

static void make_key(const struct bench_set *s, int mix, struct bench_key *k)
{
	u32 r = rng32() % 1000;
	const struct prr_entry *e;
	const struct bench_addr *a;

	if (r < mix_share[mix][0]) {
		e = &s->rules[rng32() % s->nentries].ent;
		k->addr = e->addr;
		k->port = e->value | (rng32() & ~e->mask);
	} else if (r < mix_share[mix][0] + mix_share[mix][1] && s->nholed) {
		a = &s->addrs[s->holed[rng32() % s->nholed]];
		k->addr = s->rules[a->first].ent.addr;
		k->port = a->hole << 12 | (rng32() & 0x0fff);
	} else {
		/* 10.0.0.0/8: never a shared address here. */
		k->addr = htonl(0x0a000000u | (rng32() & 0x00ffffff));
		k->port = rng32();
	}
}

static void make_keys(struct bench_set *s, u32 n)
{
	struct keyset *ks;
	int mix;
	u32 i;

	for (mix = 0; mix < NMIX; mix++) {
		ks = &s->keys[mix];
		ks->n = n;
		ks->k = xalloc(n * sizeof(*ks->k));
		ks->want = xalloc(n * sizeof(*ks->want));
		ks->q = xalloc(n * sizeof(*ks->q));
		for (i = 0; i < n; i++) {
			make_key(s, mix, &ks->k[i]);
			ks->q[i].addr = ks->k[i].addr;
			ks->q[i].port = ks->k[i].port;
			ks->want[i] = ref_match(s, ks->k[i].addr,
						ks->k[i].port);
			ks->nhits += !!ks->want[i];
		}
	}
}

/* The table under test */

static void release_none(struct prr_entry *e, void *arg)
{
}

static void build_prr(struct bench_set *s)
{
	const struct prr_entry *conflict;
	size_t live = alloc_live;
	u64 calls = alloc_calls;
	double t0;
	u32 i;
	int err;

	alloc_peak = alloc_live;
	t0 = timed_ns();
	prr_table_init(&s->table);
	for (i = 0; i < s->nentries; i++) {
		err = prr_table_insert(&s->table, &s->rules[i].ent, &conflict);
		if (err) {
			fprintf(stderr, "lookup_bench: insert %u: error %d\n",
				i, err);
			exit(1);
		}
	}
	s->build_ns = timed_ns() - t0;
	s->table_bytes = alloc_live - live;
	s->peak_bytes = alloc_peak - live;
	s->allocs = alloc_calls - calls;
}

/* Builds the table @rounds times (median time), keeping the last. */
static void build_prr_rounds(struct bench_set *s, u32 rounds)
{
	double *t = xalloc(rounds * sizeof(*t));
	size_t live = alloc_live;
	u32 r;

	for (r = 0; r < rounds; r++) {
		if (r) {
			prr_table_flush(&s->table, release_none, NULL);
			if (alloc_live != live) {
				fprintf(stderr, "lookup_bench: flush left %zu bytes\n",
					alloc_live - live);
				exit(1);
			}
		}
		build_prr(s);
		t[r] = s->build_ns;
	}
	s->build_ns = median(t, rounds);
	free(t);
}

/* The plain hash, with the finalizer prr's index hashes addresses with */

static u32 plain_slot_of(const struct plain_hash *h, __be32 addr, u16 key)
{
	return prr_mix32((__force u32)addr ^ ((u32)key * 0x9e3779b1u)) & h->mask;
}

static const struct prr_entry *plain_lookup(const struct plain_hash *h,
					    __be32 addr, u16 port)
{
	u16 key = port & PLAIN_MASK;
	const struct plain_slot *sl;
	u32 i;

	for (i = plain_slot_of(h, addr, key);; i = (i + 1) & h->mask) {
		sl = &h->slot[i];
		if (!sl->used)
			return NULL;
		if (sl->addr == addr && sl->key == key)
			return sl->e;
	}
}

static const struct prr_entry *plain_probe(const struct plain_hash *h, u32 i,
					   __be32 addr, u16 key)
{
	const struct plain_slot *sl;

	for (;; i = (i + 1) & h->mask) {
		sl = &h->slot[i];
		if (!sl->used)
			return NULL;
		if (sl->addr == addr && sl->key == key)
			return sl->e;
	}
}

/*
 * Batched like prr_table_lookup_batch(), PRR_BATCH keys in flight: key j's
 * slot is prefetched while key j - PRR_BATCH is resolved.
 */
static void plain_lookup_batch(const struct plain_hash *h, struct prr_query *q,
			       u32 n)
{
	const u32 ring = PRR_BATCH - 1;
	u32 j, k, pos[PRR_BATCH];

	for (j = 0; j < n + PRR_BATCH; j++) {
		k = j - PRR_BATCH;
		if (j >= PRR_BATCH)
			q[k].result = plain_probe(h, pos[k & ring], q[k].addr,
						  q[k].port & PLAIN_MASK);
		if (j < n) {
			pos[j & ring] = plain_slot_of(h, q[j].addr,
						      q[j].port & PLAIN_MASK);
			__builtin_prefetch(&h->slot[pos[j & ring]]);
		}
	}
}

static void build_plain(struct bench_set *s)
{
	struct plain_hash *h = &s->plain;
	const struct prr_entry *e;
	u32 i, j, nslots = 2;

	while (nslots < 2 * s->nentries)
		nslots <<= 1;
	h->slot = xalloc(nslots * sizeof(*h->slot));
	h->mask = nslots - 1;
	for (i = 0; i < s->nentries; i++) {
		e = &s->rules[i].ent;
		for (j = plain_slot_of(h, e->addr, e->value); h->slot[j].used;
		     j = (j + 1) & h->mask)
			;
		h->slot[j].addr = e->addr;
		h->slot[j].key = e->value;
		h->slot[j].used = 1;
		h->slot[j].e = e;
	}
}

/* The linear scan */

static int cmp_specific(const void *a, const void *b)
{
	const struct linear_rule *x = a, *y = b;

	return __builtin_popcount(y->mask) - __builtin_popcount(x->mask);
}

static void build_linear(struct bench_set *s)
{
	u32 i;

	s->linear = xalloc(s->nentries * sizeof(*s->linear));
	for (i = 0; i < s->nentries; i++) {
		s->linear[i].addr = s->rules[i].ent.addr;
		s->linear[i].value = s->rules[i].ent.value;
		s->linear[i].mask = s->rules[i].ent.mask;
		s->linear[i].e = &s->rules[i].ent;
	}
	qsort(s->linear, s->nentries, sizeof(*s->linear), cmp_specific);
}

static const struct prr_entry *lookup(const struct bench_set *s, int kind,
				      const struct bench_key *k)
{
	switch (kind) {
	case KIND_PRR:
		return prr_table_lookup(&s->table, k->addr, k->port);
	case KIND_PLAIN:
		return plain_lookup(&s->plain, k->addr, k->port);
	default:
		return linear_lookup(s->linear, s->nentries, k->addr, k->port);
	}
}

/* Every answer of prr and linear must be the reference's. */
static void check_answers(struct bench_set *s, u32 nlinear)
{
	const struct keyset *ks;
	const struct bench_key *k;
	int mix, kind;
	u32 i, n;

	for (mix = 0; mix < NMIX; mix++) {
		ks = &s->keys[mix];
		prr_table_lookup_batch(&s->table, ks->q, ks->n);
		for (i = 0; i < ks->n; i++) {
			if (ks->q[i].result == ks->want[i])
				continue;
			fprintf(stderr, "lookup_bench: prr batch %s: %s %08x port %u\n",
				s->name, "wrong entry for",
				ntohl(ks->q[i].addr), ks->q[i].port);
			exit(1);
		}
		for (kind = KIND_PRR; kind < NKIND; kind++) {
			if (kind == KIND_LINEAR && !s->linear)
				continue;
			n = kind == KIND_LINEAR ? nlinear : ks->n;
			for (i = 0; i < n; i++) {
				k = &ks->k[i];
				if (kind == KIND_PLAIN) {
					if (mix == MIX_HIT)
						s->plain.nhits +=
							!!lookup(s, kind, k);
					continue;
				}
				if (lookup(s, kind, k) == ks->want[i])
					continue;
				fprintf(stderr, "lookup_bench: %s %s: %s %08x port %u\n",
					kind_name[kind], s->name,
					"wrong entry for", ntohl(k->addr),
					k->port);
				exit(1);
			}
		}
	}
}

/* Timed loops */

static u64 run_lookup(const struct bench_set *s, int kind,
		      const struct bench_key *k, u32 n)
{
	const struct prr_entry *e;
	u64 sink = 0;
	u32 i;

	for (i = 0; i < n; i++) {
		e = lookup(s, kind, &k[i]);
		sink += (uintptr_t)e;
	}
	return sink;
}

/* Whole chunks through the batched lookups: throughput with prefetching. */
static u64 run_batch(const struct bench_set *s, int kind, struct prr_query *q,
		     u32 n)
{
	u64 sink = 0;
	u32 i;

	if (kind == KIND_PRR)
		prr_table_lookup_batch(&s->table, q, n);
	else
		plain_lookup_batch(&s->plain, q, n);
	for (i = 0; i < n; i++)
		sink += (uintptr_t)q[i].result;
	return sink;
}

/*
 * Each key's index depends on the previous answer (through a zero the
 * compiler cannot see), and the entry found is read, so lookups cannot
 * overlap: the latency of one packet after another.
 */
static u64 run_chained(const struct bench_set *s, int kind,
		       const struct bench_key *k, u32 n)
{
	const struct prr_entry *e;
	u64 sink = 0, zero = 0, dep = 0;
	u32 i;

	__asm__("" : "+r"(zero));
	for (i = 0; i < n; i++) {
		e = lookup(s, kind, &k[i + (dep & zero)]);
		dep = e ? e->mask ^ (uintptr_t)e : 1;
		sink += dep;
	}
	return sink;
}

/*
 * One round of a variant: its keys in chunks timed one by one, the median
 * chunk kept, so that being preempted spoils a chunk and not the round.
 */
/* ns/lookup of chunk @i of @v's keys. */
static double time_chunk(const struct variant *v, u32 i)
{
	const struct bench_key *k = v->set->keys[v->mix].k + i * v->chunk;
	struct prr_query *q = v->set->keys[v->mix].q + i * v->chunk;
	double t0 = timed_ns();

	if (v->mode == MODE_LOOKUP)
		bench_sink += run_lookup(v->set, v->kind, k, v->chunk);
	else if (v->mode == MODE_BATCH)
		bench_sink += run_batch(v->set, v->kind, q, v->chunk);
	else
		bench_sink += run_chained(v->set, v->kind, k, v->chunk);
	return (timed_ns() - t0) / v->chunk;
}

static double measure(const struct variant *v, double *chunk_ns)
{
	u32 i, n = v->nkeys / v->chunk;

	for (i = 0; i < n; i++)
		chunk_ns[i] = time_chunk(v, i);
	return median(chunk_ns, n);
}

/*
 * One round of a ratio ns(@a) / ns(@b): chunk i of each, back to back,
 * @a first in even chunks and @b first in odd ones, so that both sides see
 * the same moment of the host; the median of the chunks' ratios.  Both
 * variants have the same number of chunks (add_variants()).
 */
static double measure_pair(const struct variant *a, const struct variant *b,
			   double *chunk_ratio)
{
	u32 i, n = a->nkeys / a->chunk;
	double ta, tb;

	for (i = 0; i < n; i++) {
		if (i & 1) {
			tb = time_chunk(b, i);
			ta = time_chunk(a, i);
		} else {
			ta = time_chunk(a, i);
			tb = time_chunk(b, i);
		}
		chunk_ratio[i] = ta / tb;
	}
	return median(chunk_ratio, n);
}

/* Report */

/* The first three fields of /proc/loadavg: a busy host spoils figures. */
static void load_average(char *buf, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");
	float l1, l5, l15;

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	if (fscanf(f, "%f %f %f", &l1, &l5, &l15) == 3)
		snprintf(buf, len, "%.2f %.2f %.2f", l1, l5, l15);
	fclose(f);
}

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256], *p;

	snprintf(buf, len, "unknown CPU");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10))
			continue;
		p = strchr(line, ':');
		if (p) {
			snprintf(buf, len, "%s", p + 2);
			buf[strcspn(buf, "\n")] = 0;
		}
		break;
	}
	fclose(f);
}

struct results {
	struct variant *v;
	u32 nv;
	u32 rounds;
	struct goal goals[5];
	u32 ngoals;
};

static const struct variant *find_variant(const struct results *res,
					  const struct bench_set *s, int kind,
					  int mix, int mode)
{
	const struct variant *v = res->v;
	u32 i;

	for (i = 0; i < res->nv; i++)
		if (v[i].set == s && v[i].kind == kind && v[i].mix == mix &&
		    v[i].mode == mode)
			return &v[i];
	return NULL;
}

/* Median ns/lookup of a variant, or -1 when it was not run. */
static double med(const struct results *res, const struct bench_set *s,
		  int kind, int mix, int mode)
{
	const struct variant *x = find_variant(res, s, kind, mix, mode);

	return x ? median(x->ns, res->rounds) : -1;
}

/* ns(@sa, @ka) / ns(@sb, @kb) per mix and mode, -1 where not run. */
static void ratios(const struct results *res, const struct bench_set *sa,
		   int ka, const struct bench_set *sb, int kb,
		   double r[NMIX][NMODE])
{
	double a, b;
	int mix, mode;

	for (mix = 0; mix < NMIX; mix++) {
		for (mode = 0; mode < NMODE; mode++) {
			a = med(res, sa, ka, mix, mode);
			b = med(res, sb, kb, mix, mode);
			r[mix][mode] = a > 0 && b > 0 ? a / b : -1;
		}
	}
}

static void print_builds(const struct bench_set *sets, u32 nsets,
			 const struct options *o)
{
	const struct bench_set *s;
	u32 i;

	printf("\ntable build: prr_table_insert() of every entry, %s\n",
	       "address by address");
	printf("(%u build%s, median shown)\n", o->build_rounds,
	       o->build_rounds > 1 ? "s" : "");
	printf("  %-6s %9s %7s %10s %9s %11s %11s %11s\n", "table", "entries",
	       "addrs", "build ms", "ns/entry", "entries/s", "B/entry",
	       "peak B/ent");
	for (i = 0; i < nsets; i++) {
		s = &sets[i];
		printf("  %-6s %9u %7u %10.2f %9.1f %11.0f %11.1f %11.1f\n",
		       s->name, s->nentries, s->naddrs, s->build_ns / 1e6,
		       s->build_ns / s->nentries,
		       s->nentries / (s->build_ns / 1e9),
		       (double)s->table_bytes / s->nentries,
		       (double)s->peak_bytes / s->nentries);
	}
	s = &sets[nsets - 1];
	printf("  B/entry: bytes portset.c holds from calloc, as\n");
	printf("  malloc_usable_size() sees them (%llu calls for the %s table),\n",
	       (unsigned long long)s->allocs, s->name);
	printf("  without the entries: 8-byte struct prr_entry in %d-byte rules\n",
	       RULE_BYTES);
}

static void print_row(const struct results *res, const struct bench_set *s,
		      int kind, int mode)
{
	const struct variant *x;
	int mix;

	printf("  %-11s %-6s", kind_name[kind], s->name);
	for (mix = 0; mix < NMIX; mix++) {
		x = find_variant(res, s, kind, mix, mode);
		if (!x)
			printf(" %20s", "-");
		else
			printf(" %9.1f (%5.1f%%)", median(x->ns, res->rounds),
			       100 * spread(x->ns, res->rounds));
	}
	printf("\n");
}

static const char * const mode_what[NMODE] = {
	"one key at a time, prr_table_find() + prr_addr_match() as the hook",
	"prr_table_lookup_batch(), 32 keys in flight, prefetched (throughput)",
	"each key depends on the previous answer (latency)",
};

static void print_lookups(const struct results *res,
			  const struct bench_set *sets, u32 nsets)
{
	const struct bench_set *s;
	int kind, mode, mix;
	u32 i;

	printf("\nns/lookup: median over %u rounds of each round's %s\n",
	       res->rounds, "median chunk");
	printf("(spread: (max - min) / median of the %u rounds)\n",
	       res->rounds);
	for (mode = 0; mode < NMODE; mode++) {
		printf(" %s: %s\n", mode_name[mode], mode_what[mode]);
		printf("  %-18s", "variant");
		for (mix = 0; mix < NMIX; mix++)
			printf(" %20s", mix_name[mix]);
		printf("\n");
		for (kind = 0; kind < NKIND; kind++)
			for (i = 0; i < nsets; i++)
				if (find_variant(res, &sets[i], kind, 0, mode))
					print_row(res, &sets[i], kind, mode);
	}
	s = &sets[nsets - 1];
	printf("  %s keys: hit-heavy %.1f%% hits, miss-heavy %.1f%% hits;\n",
	       s->name, 100.0 * s->keys[MIX_HIT].nhits / s->keys[MIX_HIT].n,
	       100.0 * s->keys[MIX_MISS].nhits / s->keys[MIX_MISS].n);
	printf("  the plain hash finds an entry for %.1f%% of the %s\n",
	       100.0 * s->plain.nhits / s->keys[MIX_HIT].n,
	       "hit-heavy keys");
	printf("  (it is exact for uniform addresses only); batch plain: %s\n",
	       "the same prefetching");
}

/*
 * One line per key mix: the paired ratio in the goal's mode (median and
 * range over the rounds) and its verdict, then, for reference, the ratios of
 * the variants' own medians in every mode.
 */
static void print_goal(const struct results *res, const struct goal *g)
{
	double r[NMIX][NMODE], x, lo, hi;
	const char *verdict;
	int mix, mode;

	ratios(res, g->sa, g->ka, g->sb, g->kb, r);
	for (mix = 0; mix < NMIX; mix++) {
		x = median(g->ratio[mix], res->rounds);
		range(g->ratio[mix], res->rounds, &lo, &hi);
		verdict = !g->limit ? "" :
			  (g->at_most ? x <= g->limit : x >= g->limit) ?
			  "met" : "NOT MET";
		printf("  %-30s %-7s %-10s %8.2fx %-7s rounds %.2f-%.2fx\n",
		       g->what, mode_name[g->mode], mix_name[mix], x, verdict,
		       lo, hi);
		printf("  %30s unpaired:", "");
		for (mode = 0; mode < NMODE; mode++)
			if (r[mix][mode] > 0)
				printf(" %s %.2fx", mode_name[mode],
				       r[mix][mode]);
		printf("\n");
	}
}

static void print_goals(const struct results *res, bool quick)
{
	u32 i;

	printf("\ngoals (issue 6, lookup), each judged in the mode named%s\n",
	       quick ? ": QUICK RUN, small tables, indicative only" : "");
	printf("(a lookup that misses the CPU caches cannot be within 2x of %s\n",
	       "one that hits L1");
	printf(" one key at a time: the size goal is judged on batched %s\n",
	       "lookups,");
	printf(" the hook itself looks up one packet at a time);\n");
	printf("each ratio measured in pairs: every chunk of one side timed %s\n",
	       "next to");
	printf("the same chunk of the other; \"unpaired\": the ratios of the %s\n",
	       "medians above");
	for (i = 0; i < res->ngoals; i++)
		print_goal(res, &res->goals[i]);
}

/*
 * Control-plane and memory goals.  The kernel's struct prr_rule is 40
 * bytes in a slab cache of its own; with entry-counters on (the default)
 * each rule also has per-CPU counters, 16 bytes a possible CPU.  The
 * forwarding benchmark measures the kernel's real figures.
 */
static void print_other_goals(const struct bench_set *large)
{
	double rate = large->nentries / (large->build_ns / 1e9);
	double table = (double)large->table_bytes / large->nentries;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	char what[80];

	printf("\ngoals (issue 6, control plane and memory)\n");
	snprintf(what, sizeof(what), "table inserts @%s, >> 200,000/s",
		 large->name);
	printf("  %-44s %10.0f/s %s\n", what, rate,
	       rate >= 1e6 ? "met (5x headroom or more)" : "NOT MET");
	snprintf(what, sizeof(what), "table bytes/entry @%s", large->name);
	printf("  %-44s %10.1f B\n", what, table);
	snprintf(what, sizeof(what), "table + %d B rule (entry-counters off) <= 64",
		 RULE_BYTES);
	printf("  %-44s %10.1f B %s\n", what, table + RULE_BYTES,
	       table + RULE_BYTES <= 64 ? "met" : "NOT MET");
	printf("  %-44s %10.1f B\n", "  + per-CPU counters (entry-counters on)",
	       table + RULE_BYTES + 16.0 * ncpu);
	printf("  (estimates from the structures; the forwarding benchmark\n");
	printf("   measures the kernel's slab, vmalloc and per-CPU growth)\n");
}

/* Main */

static void print_help(FILE *f)
{
	fprintf(f, "usage: lookup_bench [--quick] [--rounds N] [--wall-clock] [--help]\n");
	fprintf(f, "  --quick       small tables, one round (CI smoke run)\n");
	fprintf(f, "  --rounds N    timed rounds (default 9)\n");
	fprintf(f, "  --wall-clock  time with CLOCK_MONOTONIC, not this %s\n",
		"thread's CPU time");
}

static void parse_options(int argc, char **argv, struct options *o)
{
	char *end;
	int i;

	o->quick = false;
	o->rounds = 0;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			o->quick = true;
		} else if (!strcmp(argv[i], "--rounds")) {
			o->rounds = i + 1 < argc ?
				    strtoul(argv[++i], &end, 10) : 0;
			if (!o->rounds || *end || o->rounds > 1000) {
				fprintf(stderr, "lookup_bench: %s\n",
					"--rounds needs a number from 1 to 1000");
				exit(2);
			}
		} else if (!strcmp(argv[i], "--wall-clock")) {
			timed_clock = CLOCK_MONOTONIC;
		} else if (!strcmp(argv[i], "--help")) {
			print_help(stdout);
			exit(0);
		} else {
			fprintf(stderr, "lookup_bench: bad option '%s' (see --help)\n",
				argv[i]);
			exit(2);
		}
	}
	if (!o->rounds)
		o->rounds = o->quick ? 1 : 9;
	o->nkeys = o->quick ? 1u << 14 : 1u << 20;
	o->nkeys_linear = o->quick ? 1u << 8 : 1u << 14;
	o->nchunks = 64;
	o->build_rounds = o->quick ? 1 : 3;
}

static void add_variants(struct results *res, struct bench_set *s,
			 const struct options *o)
{
	struct variant *x;
	int kind, mix, mode;

	for (kind = 0; kind < NKIND; kind++) {
		for (mix = 0; mix < NMIX; mix++) {
			for (mode = 0; mode < NMODE; mode++) {
				if (kind == KIND_LINEAR &&
				    (!s->linear || mode != MODE_LOOKUP))
					continue;
				x = &res->v[res->nv++];
				x->set = s;
				x->kind = kind;
				x->mix = mix;
				x->mode = mode;
				x->nkeys = kind == KIND_LINEAR ?
					   o->nkeys_linear : o->nkeys;
				x->chunk = x->nkeys / o->nchunks;
				x->ns = xalloc(o->rounds * sizeof(*x->ns));
			}
		}
	}
}

static void add_goal(struct results *res, double limit, bool at_most,
		     int mode, const struct bench_set *sa, int ka,
		     const struct bench_set *sb, int kb, const char *what)
{
	struct goal *g;
	int mix;

	assert(res->ngoals < ARRAY_SIZE(res->goals));
	g = &res->goals[res->ngoals++];

	snprintf(g->what, sizeof(g->what), "%s", what);
	g->limit = limit;
	g->at_most = at_most;
	g->mode = mode;
	g->sa = sa;
	g->ka = ka;
	g->sb = sb;
	g->kb = kb;
	for (mix = 0; mix < NMIX; mix++)
		g->ratio[mix] = xalloc(res->rounds * sizeof(double));
}

/* Issue 6's lookup goals, and the plain hash's own size ratio beside. */
static void add_goals(struct results *res, const struct bench_set *small,
		      const struct bench_set *lin,
		      const struct bench_set *large)
{
	char what[40];

	snprintf(what, sizeof(what), "prr ns@%s / ns@%s <= 2x", large->name,
		 small->name);
	add_goal(res, 2.0, true, MODE_BATCH, large, KIND_PRR, small, KIND_PRR,
		 what);
	snprintf(what, sizeof(what), "  info: plain ns@%s / ns@%s",
		 large->name, small->name);
	add_goal(res, 0, true, MODE_BATCH, large, KIND_PLAIN, small,
		 KIND_PLAIN, what);
	snprintf(what, sizeof(what), "prr / plain hash @%s <= 1.5x",
		 large->name);
	add_goal(res, 1.5, true, MODE_LOOKUP, large, KIND_PRR, large,
		 KIND_PLAIN, what);
	add_goal(res, 1.5, true, MODE_BATCH, large, KIND_PRR, large,
		 KIND_PLAIN, what);
	snprintf(what, sizeof(what), "linear / prr @%s >= 100x", lin->name);
	add_goal(res, 100.0, false, MODE_LOOKUP, lin, KIND_LINEAR, lin,
		 KIND_PRR, what);
}

/*
 * Every variant once per round, starting one further each round, then
 * every goal's pairs, likewise.
 */
static void run_rounds(struct results *res, const struct options *o)
{
	double *chunk_ns = xalloc(o->nchunks * sizeof(*chunk_ns));
	const struct variant *a, *b;
	const struct goal *g;
	struct variant *x;
	u32 r, i, n;
	int mix;

	for (r = 0; r < res->rounds; r++) {
		for (i = 0; i < res->nv; i++) {
			x = &res->v[(i + r) % res->nv];
			x->ns[r] = measure(x, chunk_ns);
		}
		n = res->ngoals * NMIX;
		for (i = 0; i < n; i++) {
			g = &res->goals[(i + r) % n / NMIX];
			mix = (i + r) % n % NMIX;
			a = find_variant(res, g->sa, g->ka, mix, g->mode);
			b = find_variant(res, g->sb, g->kb, mix, g->mode);
			g->ratio[mix][r] = measure_pair(a, b, chunk_ns);
		}
	}
	free(chunk_ns);
}

#define NSETS	4

int main(int argc, char **argv)
{
	static const u32 sizes[2][NSETS] = {
		{ 1000, 4096, 65536, 1000000 },
		{ 1000, 4096, 16384, 65536 },	/* --quick */
	};
	static const char * const names[2][NSETS] = {
		{ "1K", "4K", "64K", "1M" },
		{ "1K", "4K", "16K", "64K" },
	};
	struct bench_set sets[NSETS];
	struct results res = {};
	char cpu[128], date[32], loadavg[48];
	struct options o;
	struct utsname u;
	time_t now;
	double t0;
	u32 i;

	parse_options(argc, argv, &o);
	cpu_model(cpu, sizeof(cpu));
	load_average(loadavg, sizeof(loadavg));
	now = time(NULL);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	if (uname(&u))
		strcpy(u.release, "unknown");
	printf("prr lookup microbenchmark: kmod/portset.c in userspace, %s %s\n",
	       "gcc", __VERSION__);
	printf("%s, kernel %s, cpu: %s (%ld online)\n", date, u.release, cpu,
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("%s\n", o.quick ? "QUICK (smoke) run, small tables" : "full run");
	printf("rounds: %u, each of %u keys (linear: %u) in %u chunks, seed %#llx\n",
	       o.rounds, o.nkeys, o.nkeys_linear, o.nchunks,
	       (unsigned long long)SEED);
	printf("GLIBC_TUNABLES=%s\n", getenv("GLIBC_TUNABLES") ?
	       getenv("GLIBC_TUNABLES") : "(unset: no transparent huge pages)");
	printf("timed with %s; load average at start: %s\n",
	       timed_clock == CLOCK_MONOTONIC ? "CLOCK_MONOTONIC" :
	       "CLOCK_THREAD_CPUTIME_ID (this thread's CPU time)", loadavg);
	t0 = now_ns();
	for (i = 0; i < NSETS; i++) {
		make_rules(&sets[i], names[o.quick][i], sizes[o.quick][i]);
		build_prr_rounds(&sets[i], o.build_rounds);
		build_plain(&sets[i]);
		if (i == 1)
			build_linear(&sets[i]);
		make_keys(&sets[i], o.nkeys);
		check_answers(&sets[i], o.nkeys_linear);
	}
	printf("setup and answer checks: %.1f s\n", (now_ns() - t0) / 1e9);

	res.rounds = o.rounds;
	res.v = xalloc(NSETS * NKIND * NMIX * NMODE * sizeof(*res.v));
	for (i = 0; i < NSETS; i++)
		add_variants(&res, &sets[i], &o);
	add_goals(&res, &sets[0], &sets[1], &sets[NSETS - 1]);
	t0 = now_ns();
	run_rounds(&res, &o);
	printf("timed rounds: %.1f s\n", (now_ns() - t0) / 1e9);

	print_builds(sets, NSETS, &o);
	print_lookups(&res, sets, NSETS);
	print_goals(&res, o.quick);
	print_other_goals(&sets[NSETS - 1]);
	for (i = 0; i < NSETS; i++)
		prr_table_flush(&sets[i].table, release_none, NULL);
	if (alloc_live) {
		fprintf(stderr, "lookup_bench: %zu bytes left after flushing\n",
			alloc_live);
		return 1;
	}
	printf("\nall answers matched the reference scan; flushing freed %s\n",
	       "every byte");
	printf("(sink %#llx)\n", (unsigned long long)bench_sink);
	return 0;
}
