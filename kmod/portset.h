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

struct prr_addr;
struct prr_addr_index;

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

/* Readers. */
bool prr_table_find(const struct prr_table *t, __be32 addr,
		    struct prr_addr_ref *ref);
const struct prr_entry *prr_addr_match(const struct prr_addr_ref *ref,
				       u16 port);
const struct prr_entry *prr_addr_default(const struct prr_addr_ref *ref);
void prr_addr_walk(const struct prr_addr_ref *ref, prr_visit_t fn, void *arg);
const struct prr_entry *prr_table_lookup(const struct prr_table *t,
					 __be32 addr, u16 port);
void prr_table_lookup_batch(const struct prr_table *t, struct prr_query *q,
			    unsigned int n);

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

#endif /* _PRR_PORTSET_H */
