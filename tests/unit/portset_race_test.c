// SPDX-License-Identifier: GPL-2.0
/*
 * Readers against a writer, on two CPUs: kmod/portset.c's lock-free lookups
 * while another thread reshapes the same addresses (issue 6: a reader sees
 * the old or the new table, and loses nothing present in both).
 *
 * Every checked address keeps four stable owners, 0x0000, 0x4000, 0x8000
 * and 0xc000 of mask 0xc000, for the whole test.  The writer adds and
 * removes more specific sets inside their ports 0x1000-0x3fff, 0x5000-0x7fff
 * and so on (masks 0xf000, 0xf800, 0xffff), and defaults (mask 0): enough of
 * them move the address's window to 0xf000 and back, so its bucket moves
 * along the index (prr_index_move()); other addresses come and go, so the
 * index grows and is rebuilt.  The readers look up ports 0x0000-0x0fff,
 * 0x4000-0x4fff and so on, which those sets never cover: every answer must
 * be the stable owner, one key at a time and batched.
 *
 * Memory the writer frees stays allocated until both threads are done (a
 * grace period that lasts the whole test): portset.c's free() is renamed to
 * race_free() by the Makefile.
 */

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "portset.h"
#include "test_rng.h"

#define NCHECKED	64	/* addresses with stable owners */
#define NEXTRA		512	/* addresses that come and go */
#define NCHURN		4096	/* churn entries live at most */
#define WRITER_OPS	300000u
/* The writer waits for as many lookups every this many operations. */
#define PACE		256u
#define CHECKED_BASE	0xc6120000u	/* 198.18.0.0 */
#define EXTRA_BASE	0xc6130000u

static unsigned long long writer_rng = 0x9e3779b97f4a7c15ull;

u32 prr_random_u32(void)
{
	return (u32)(test_rng_next(&writer_rng) >> 32);
}

/* Frees deferred to the end of the test: the writer alone calls it. */
static void **deferred;
static size_t ndeferred, cap_deferred;

void race_free(void *p)
{
	if (!p)
		return;
	if (ndeferred == cap_deferred) {
		cap_deferred = cap_deferred ? 2 * cap_deferred : 4096;
		deferred = realloc(deferred, cap_deferred * sizeof(*deferred));
		if (!deferred)
			abort();
	}
	deferred[ndeferred++] = p;
}

static void free_deferred(void)
{
	while (ndeferred)
		free(deferred[--ndeferred]);
	free(deferred);
	deferred = NULL;
	cap_deferred = 0;
}

struct race {
	struct prr_table t;
	struct prr_entry stable[NCHECKED][4];
	atomic_bool done;
	/* what a reader saw that it should not have */
	atomic_uint wrong;
	__be32 wrong_addr;
	u16 wrong_port;
	/* the reader's */
	unsigned long long rng;
	atomic_ulong checks;
};

static struct prr_entry *entry_new(u32 addr, u16 value, u16 mask)
{
	struct prr_entry *e = calloc(1, sizeof(*e));

	if (!e)
		abort();
	e->addr = htonl(addr);
	e->value = value;
	e->mask = mask;
	return e;
}

/* A set inside the ports the readers never look up. */
static struct prr_entry *churn_new(u32 addr, unsigned long long r)
{
	/* top nibble 1-3, 5-7, 9-b or d-f: never 0, 4, 8 or c */
	u16 top = (u16)((r % 4) << 14 | (1 + (r >> 2) % 3) << 12);
	u16 low = (u16)(r >> 8);

	switch ((r >> 24) % 8) {
	case 0:
		return entry_new(addr, 0, 0);
	case 1:
	case 2:
		return entry_new(addr, top | (low & 0x0800), 0xf800);
	case 3:
		return entry_new(addr, top | (low & 0x0fff), 0xffff);
	default:
		return entry_new(addr, top, 0xf000);
	}
}

static void race_fail(struct race *r, __be32 addr, u16 port)
{
	if (atomic_fetch_add(&r->wrong, 1) == 0) {
		r->wrong_addr = addr;
		r->wrong_port = port;
	}
}

static void read_one(struct race *r)
{
	unsigned long long x = test_rng_next(&r->rng);
	u32 i = x % NCHECKED;
	u16 port = (u16)((x >> 8) & 0xcfff);	/* bits 13-12 clear */
	__be32 addr = htonl(CHECKED_BASE + i);

	if (prr_table_lookup(&r->t, addr, port) != &r->stable[i][port >> 14])
		race_fail(r, addr, port);
	atomic_fetch_add_explicit(&r->checks, 1, memory_order_relaxed);
}

static void read_batch(struct race *r)
{
	struct prr_query q[PRR_BATCH];
	unsigned long long x;
	u32 i, k;

	for (k = 0; k < PRR_BATCH; k++) {
		x = test_rng_next(&r->rng);
		q[k].addr = htonl(CHECKED_BASE + x % NCHECKED);
		q[k].port = (u16)((x >> 8) & 0xcfff);
	}
	prr_table_lookup_batch(&r->t, q, PRR_BATCH);
	for (k = 0; k < PRR_BATCH; k++) {
		i = ntohl(q[k].addr) - CHECKED_BASE;
		if (q[k].result != &r->stable[i][q[k].port >> 14])
			race_fail(r, q[k].addr, q[k].port);
	}
	atomic_fetch_add_explicit(&r->checks, PRR_BATCH, memory_order_relaxed);
}

static void *reader(void *arg)
{
	struct race *r = arg;
	unsigned long n;

	for (n = 0; !atomic_load(&r->done); n++) {
		if (n % 64 == 63)
			read_batch(r);
		else
			read_one(r);
	}
	return NULL;
}

/*
 * However the two threads are scheduled (CI runs this beside busy VMs),
 * the reader looks up at least as often as the writer writes.
 */
static void pace_writer(struct race *r, u32 op)
{
	while (atomic_load_explicit(&r->checks, memory_order_relaxed) <
	       (unsigned long)op)
		sched_yield();
}

static void release_churn(struct prr_entry *e, void *arg)
{
	struct race *r = arg;
	u32 i = ntohl(e->addr) - CHECKED_BASE;

	if (i < NCHECKED && e >= r->stable[i] && e < r->stable[i] + 4)
		return;
	race_free(e);
}

TEST(lookups_during_reshaping_see_every_stable_entry)
{
	static struct race r = {
		.rng = 0x2545f4914f6cdd1dull,
	};
	struct prr_entry *live[NCHURN], *e;
	const struct prr_entry *conflict;
	unsigned long long x;
	u32 nlive = 0, op, i, v;
	pthread_t th;
	int err;

	prr_table_init(&r.t);
	for (i = 0; i < NCHECKED; i++) {
		for (v = 0; v < 4; v++) {
			e = &r.stable[i][v];
			e->addr = htonl(CHECKED_BASE + i);
			e->value = (u16)(v << 14);
			e->mask = 0xc000;
			ASSERT_EQ(0, prr_table_insert(&r.t, e, &conflict));
		}
	}
	ASSERT_EQ(0, pthread_create(&th, NULL, reader, &r));
	for (op = 0; op < WRITER_OPS && !atomic_load(&r.wrong); op++) {
		if (op % PACE == 0)
			pace_writer(&r, op);
		x = test_rng_next(&writer_rng);
		if (x % 100 < 48 && nlive < NCHURN) {
			i = (x >> 8) % (NCHECKED + NEXTRA);
			e = churn_new(i < NCHECKED ? CHECKED_BASE + i :
				      EXTRA_BASE + i, x >> 20);
			err = prr_table_insert(&r.t, e, &conflict);
			if (err)
				free(e);
			else
				live[nlive++] = e;
		} else if (x % 100 < 98 && nlive) {
			i = (x >> 8) % nlive;
			e = live[i];
			ASSERT_EQ(e, prr_table_remove(&r.t, e->addr, e->value,
						      e->mask));
			race_free(e);
			live[i] = live[--nlive];
		} else {
			/* An extra address goes at once. */
			__be32 addr = htonl(EXTRA_BASE + NCHECKED +
					    (x >> 8) % NEXTRA);

			for (i = 0; i < nlive;)
				if (live[i]->addr == addr)
					live[i] = live[--nlive];
				else
					i++;
			prr_table_flush_addr(&r.t, addr, release_churn, &r);
		}
	}
	atomic_store(&r.done, true);
	pthread_join(th, NULL);
	EXPECT_EQ(0u, atomic_load(&r.wrong))
		TH_LOG("wrong answer for %08x port %#x", ntohl(r.wrong_addr),
		       r.wrong_port);
	EXPECT_EQ(WRITER_OPS, op);
	EXPECT_GE(atomic_load(&r.checks), (unsigned long)WRITER_OPS - PACE);
	TH_LOG("%u writer operations, %lu lookups checked", op,
	       atomic_load(&r.checks));
	prr_table_flush(&r.t, release_churn, &r);
	free_deferred();
}

TEST_HARNESS_MAIN
