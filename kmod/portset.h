/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The port-set table: (shared IPv4 address, port set) -> entry.
 *
 * A port p belongs to the set (value, mask) iff (p & mask) == value
 * (RFC 6431 §2.1).  Two sets of one address either are disjoint or nest;
 * partial overlaps are refused, and a lookup returns the most specific set
 * (most mask bits) containing the port.
 *
 * Readers (prr_table_find, prr_addr_match, prr_addr_default, prr_addr_walk,
 * prr_table_lookup, prr_table_lookup_batch) run lock-free under RCU, and a
 * struct prr_addr_ref is good for the read-side critical section; every
 * other function is a writer and must be serialized by the caller (in the
 * kernel: the per-namespace mutex).  Memory a reader may still see is freed
 * only after a grace period.  The caller owns the entries: it allocates them,
 * links them with prr_table_insert() and frees what prr_table_remove() and
 * the flush callbacks hand back, after a grace period.
 *
 * Built both in the kernel and in userspace (see portable.h).
 */
#ifndef _PRR_PORTSET_H
#define _PRR_PORTSET_H

#include "portable.h"

struct prr_entry {
	__be32 addr;
	u16 value;
	u16 mask;
};

/*
 * The table's layout, described in portset.c.  It is here, as rhashtable's
 * is in rhashtable.h, for the inline readers at the end of this file; no
 * one else touches it.
 */
struct prr_addr {
	__be32 addr;
	u8 shift;		/* the window: port bits [shift, shift + bits) */
	u8 bits;
	u16 ngroups;
	u32 nentries;		/* writer only, as is nslow */
	u32 nslow;		/* entries with mask bits outside the window */
	struct prr_rcu_head rcu;
	/* 1 << bits direct slots, then the groups, then their slot arrays */
	struct prr_entry __rcu *direct[];
};

/* @addr, @shift and @bits are @a's, written only while @a is NULL or a tomb. */
struct prr_index_slot {
	__be32 addr;
	u8 shift;
	u8 bits;
	struct prr_addr __rcu *a;
};

struct prr_addr_index {
	u32 mask;		/* number of slots - 1 */
	u32 seed;
	u32 nused;		/* writer only: live and tombstone slots */
	struct prr_rcu_head rcu;
	struct prr_index_slot slot[];
};

/* Tag of a direct slot: an entry outside the window may match there. */
#define PRR_SLOW		1UL

static inline bool prr_is_slow(const struct prr_entry *v)
{
	return (unsigned long)v & PRR_SLOW;
}

/* A deleted index slot.  Readers skip it by address, never by content. */
extern struct prr_addr prr_addr_tomb;

/*
 * A shared address as a reader found it: its bucket, and the window of
 * port bits that selects a direct slot of it, read from the index so that
 * a lookup reads one line of the bucket (portset.c).
 */
struct prr_addr_ref {
	const struct prr_addr *a;
	u8 shift;
	u8 bits;
};

struct prr_table {
	struct prr_addr_index __rcu *index;
	u32 naddrs;
	u32 nentries;
};

/* Resumable position of a writer's walk over every entry. */
struct prr_cursor {
	u32 slot;		/* in the address index */
	u32 group;		/* 0: the direct slots, then group - 1 */
	u32 pos;		/* in that array */
};

/* One key of a batched lookup and its answer. */
struct prr_query {
	__be32 addr;
	u16 port;
	const struct prr_entry *result;	/* NULL: no entry owns the port */
};

/* Keys a batched lookup has in flight, a power of two (see portset.c). */
#define PRR_BATCH	32

typedef void (*prr_release_t)(struct prr_entry *e, void *arg);
typedef bool (*prr_visit_t)(const struct prr_entry *e, void *arg);

#ifdef __KERNEL__
/* Provided by the table's owner: true when the caller may write @t. */
bool prr_table_writer_held(const struct prr_table *t);
#endif

static inline bool prr_portset_valid(u16 value, u16 mask)
{
	return !(value & ~mask);
}

void prr_table_init(struct prr_table *t);

/* Readers; prr_table_find() and prr_addr_match() are inline, below. */
const struct prr_entry *prr_addr_default(const struct prr_addr_ref *ref);
void prr_addr_walk(const struct prr_addr_ref *ref, prr_visit_t fn, void *arg);
void prr_table_lookup_batch(const struct prr_table *t, struct prr_query *q,
			    unsigned int n);
const struct prr_entry *prr_addr_match_slow(const struct prr_addr *a, u16 port,
					    const struct prr_entry *slot);

/* Writers. */
int prr_table_check(const struct prr_table *t, const struct prr_entry *e,
		    const struct prr_entry **conflict);
int prr_table_insert(struct prr_table *t, struct prr_entry *e,
		     const struct prr_entry **conflict);
struct prr_entry *prr_table_remove(struct prr_table *t, __be32 addr,
				   u16 value, u16 mask);
const struct prr_entry *prr_table_get(const struct prr_table *t, __be32 addr,
				      u16 value, u16 mask);
const struct prr_entry *prr_table_next(const struct prr_table *t,
				       struct prr_cursor *c);
unsigned int prr_table_flush_addr(struct prr_table *t, __be32 addr,
				  prr_release_t release, void *arg);
void prr_table_flush(struct prr_table *t, prr_release_t release, void *arg);
void prr_table_swap(struct prr_table *live, struct prr_table *staged);

/*
 * The readers' fast path: a hit is a few dozen instructions, an index slot
 * and a direct slot.  Inline, as rhashtable's lookups are: through two calls
 * that passed @ref in memory, a lookup took about 1.4 times as long
 * (docs/decisions.md, "The lookup is inline").
 */

static inline u32 prr_mix32(u32 x)
{
	/* MurmurHash3's finalizer: every input bit affects every output bit. */
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

static inline u32 prr_addr_slot(const struct prr_addr_index *idx, __be32 addr)
{
	return prr_mix32((__force u32)addr ^ idx->seed) & idx->mask;
}

/*
 * The direct slot of @port in a window of @bits port bits from @shift: the
 * one formula for writers (the bucket's window) and readers (the index's).
 */
static inline u32 prr_window_slot(u16 port, u8 shift, u8 bits)
{
	return ((u32)port >> shift) & ((1u << bits) - 1);
}

/* The direct slot of @port, as the window of @ref selects it. */
static inline struct prr_entry __rcu *const *
prr_ref_slot(const struct prr_addr_ref *ref, u16 port)
{
	return &ref->a->direct[prr_window_slot(port, ref->shift, ref->bits)];
}

/*
 * Finds @addr in the index from slot @i on, into @ref.  A slot's address
 * and window change only while it holds no bucket, after that was stored,
 * so when the bucket pointer reads the same before and after them they are
 * its own (a bucket is freed, never republished, so an equal pointer is the
 * same bucket).  When a writer replaced the bucket meanwhile, the one read
 * first is still whole until the grace period ends, and its header decides.
 */
static inline bool prr_index_lookup(const struct prr_addr_index *idx, u32 i,
				    __be32 addr, struct prr_addr_ref *ref)
{
	const struct prr_index_slot *s;
	const struct prr_addr *a;

	for (;; i = (i + 1) & idx->mask) {
		s = &idx->slot[i];
		a = prr_deref(s->a);
		if (!a)
			return false;
		if (a == &prr_addr_tomb)
			continue;
		prr_smp_rmb();	/* the pointer, then the slot's address */
		if (prr_read_once(s->addr) != addr)
			continue;
		ref->a = a;
		ref->shift = prr_read_once(s->shift);
		ref->bits = prr_read_once(s->bits);
		prr_smp_rmb();	/* the window, then the pointer again */
		if (prr_likely(prr_access(s->a) == a))
			return true;
		if (a->addr == addr) {
			ref->shift = a->shift;
			ref->bits = a->bits;
			return true;
		}
	}
}

/* Finds the shared address @addr: false if it has no entry. */
static inline bool prr_table_find(const struct prr_table *t, __be32 addr,
				  struct prr_addr_ref *ref)
{
	const struct prr_addr_index *idx = prr_deref(t->index);

	return idx && prr_index_lookup(idx, prr_addr_slot(idx, addr), addr, ref);
}

/* The most specific entry of the address of @ref containing @port, or NULL. */
static inline const struct prr_entry *
prr_addr_match(const struct prr_addr_ref *ref, u16 port)
{
	const struct prr_entry *v = prr_deref(*prr_ref_slot(ref, port));

	if (prr_likely(!prr_is_slow(v)))
		return v;
	return prr_addr_match_slow(ref->a, port, v);
}

/* prr_table_find(), then prr_addr_match(): the entry owning @port, or NULL. */
static inline const struct prr_entry *
prr_table_lookup(const struct prr_table *t, __be32 addr, u16 port)
{
	struct prr_addr_ref ref;

	return prr_table_find(t, addr, &ref) ? prr_addr_match(&ref, port) :
					       NULL;
}

#endif /* _PRR_PORTSET_H */
