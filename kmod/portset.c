// SPDX-License-Identifier: GPL-2.0
/*
 * The port-set table.
 *
 * Layout, chosen so that a lookup reads as few cache lines as a plain hash
 * keyed on (address, masked port) and never walks over entries (the
 * structures are in portset.h, for its inline readers):
 *
 *   index     open-addressing array of 16-byte slots: the address, its
 *             window and a pointer to the address's bucket
 *   prr_addr  the bucket of one shared address: a direct array indexed by
 *             the port bits of one contiguous window (the PSID bits of the
 *             address's usual mask), then one hashed group per other mask
 *
 * Each direct slot holds the answer for every port whose window bits select
 * it: the most specific entry whose mask lies inside the window and which
 * contains those ports (NULL if none), tagged PRR_SLOW when an entry with
 * mask bits outside the window may also match there.  Entries whose mask is
 * the window itself ("owners", the CPEs of a uniform address) live in the
 * direct array only; every other entry lives in the group of its mask (an
 * open-addressing array, port & mask -> entry, most specific group first).
 * A lookup is one index probe, then one direct slot, found with the window
 * the index slot holds, so that a hit reads one line of the bucket and not
 * its header too; only a PRR_SLOW slot goes on to the groups (and the
 * header), stopping at the first group no more specific than the slot's
 * answer.  Because sets of one address never partially overlap, the first
 * match in that order is the most specific one.
 *
 * The window is chosen whenever a bucket is (re)built: the span of the mask
 * that lets most entries be resolved directly, if its direct array stays
 * small (PRR_WINDOW_MAX_BITS, about two slots per entry).
 *
 * Updates never block readers.  An owner, or an entry added to a group with
 * room, is linked with single pointer stores (the group slot, then each
 * direct slot it changes; a reader reads one direct slot, so it sees the
 * table before or after); deleting stores the next answer into the direct
 * slots and a tombstone into the group.  A new or emptied group, or a full
 * one, builds a new bucket, published with one store into the index, and the
 * old one is freed after a grace period; the index is rebuilt the same way
 * when it fills up.  Groups are kept at most half full counting tombstones,
 * the index a quarter full of live slots and a few tombstones more
 * (prr_index_reserve()), so every probe sequence ends at an empty slot, and
 * soon: most packets a PRR forwards are for addresses it does not share,
 * whose lookup ends at the first empty slot after their own.
 *
 * An index slot's address and window are written only while it holds no
 * bucket (empty or a tombstone), so a reader that reads the same bucket
 * pointer before and after them has that bucket's own (prr_index_lookup()).
 * A bucket with another window than its slot's is published in a free slot
 * further along the address's probe sequence, and only then is the old slot
 * made a tombstone: a reader finds the old bucket or, past the tombstone,
 * the new one (prr_index_move()).
 */

#include "portset.h"

struct prr_group {
	u16 mask;
	u8 bits;		/* log2 of the number of slots */
	u32 nentries;		/* writer only, as is ntombs */
	u32 ntombs;
	struct prr_entry __rcu **slots;
};

#define PRR_INDEX_MIN_SLOTS	8u
/*
 * Index slots per live address, at least: a quarter full, a lookup of an
 * absent address reads about 1.4 slots, against 2.5 half full (linear
 * probing); docs/decisions.md, "The index is a quarter full".
 */
#define PRR_INDEX_SPREAD	4u
#define PRR_GROUP_MIN_SLOTS	2u
/* A direct array has at most 4096 slots (32 KiB), ... */
#define PRR_WINDOW_MAX_BITS	12
/* ... and at most this many, or two per entry of the address. */
#define PRR_WINDOW_FREE_SLOTS	16u
/* Masks of an address tried as its window. */
#define PRR_WINDOW_CANDIDATES	32u

/*
 * Deleted slots of a group, and of the index (declared in portset.h).
 * Readers skip them by address, never by content.
 */
static struct prr_entry prr_entry_tomb;
struct prr_addr prr_addr_tomb;

static u32 prr_group_size(const struct prr_group *g)
{
	return 1u << g->bits;
}

static u32 prr_group_slot(const struct prr_group *g, u16 key)
{
	/* Fibonacci hashing spreads the arithmetic progressions of port sets. */
	return ((u32)key * 0x9e3779b1u) >> (32 - g->bits);
}

static u32 prr_roundup_pow2(u32 n)
{
	u32 p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* Mask bits, as an int (the kernel's hweight16() is unsigned). */
static int prr_bits(u16 mask)
{
	return prr_popcount16(mask);
}

static u32 prr_direct_size(const struct prr_addr *a)
{
	return 1u << a->bits;
}

static u32 prr_direct_slot(const struct prr_addr *a, u16 port)
{
	return prr_window_slot(port, a->shift, a->bits);
}

/* The port bits of @a's window. */
static u16 prr_window(const struct prr_addr *a)
{
	return (prr_direct_size(a) - 1) << a->shift;
}

static struct prr_group *prr_groups(const struct prr_addr *a)
{
	return (struct prr_group *)(a->direct + prr_direct_size(a));
}

static struct prr_entry *prr_base(const struct prr_entry *v)
{
	return (struct prr_entry *)((unsigned long)v & ~PRR_SLOW);
}

static struct prr_entry *prr_tag(const struct prr_entry *e, bool slow)
{
	return (struct prr_entry *)((unsigned long)e | (slow ? PRR_SLOW : 0));
}

void prr_table_init(struct prr_table *t)
{
	prr_init_pointer(t->index, NULL);
	t->naddrs = 0;
	t->nentries = 0;
}

static const struct prr_entry *prr_group_find(const struct prr_group *g,
					      u16 key)
{
	u32 i, mask = prr_group_size(g) - 1;
	const struct prr_entry *e;

	for (i = prr_group_slot(g, key);; i = (i + 1) & mask) {
		e = prr_deref(g->slots[i]);
		if (!e)
			return NULL;
		if (e->value == key && e != &prr_entry_tomb)
			return e;
	}
}

/*
 * prr_addr_match() of a PRR_SLOW direct @slot: a group entry more specific
 * than the slot's own answer may match.
 */
const struct prr_entry *prr_addr_match_slow(const struct prr_addr *a, u16 port,
					    const struct prr_entry *slot)
{
	const struct prr_group *g = prr_groups(a), *end = g + a->ngroups;
	const struct prr_entry *base = prr_base(slot);
	int floor = base ? prr_bits(base->mask) : -1;
	const struct prr_entry *e;

	for (; g < end && prr_bits(g->mask) > floor; g++) {
		e = prr_group_find(g, port & g->mask);
		if (e)
			return e;
	}
	return base;
}

/* The entry of the address with port-mask 0, if any. */
const struct prr_entry *prr_addr_default(const struct prr_addr_ref *ref)
{
	const struct prr_addr *a = ref->a;
	const struct prr_group *g;

	/* A window of no bits: the default is the owner of the one slot. */
	if (!a->bits)
		return prr_base(prr_deref(a->direct[0]));
	if (!a->ngroups)
		return NULL;
	/* Groups go from the most to the least specific: mask 0 is last. */
	g = &prr_groups(a)[a->ngroups - 1];
	return g->mask ? NULL : prr_group_find(g, 0);
}

static bool prr_walk_group(const struct prr_group *g, prr_visit_t fn,
			   void *arg)
{
	const struct prr_entry *e;
	u32 i;

	for (i = 0; i < prr_group_size(g); i++) {
		e = prr_deref(g->slots[i]);
		if (e && e != &prr_entry_tomb && !fn(e, arg))
			return false;
	}
	return true;
}

/* Calls @fn on each entry, most specific sets first, until it says false. */
void prr_addr_walk(const struct prr_addr_ref *ref, prr_visit_t fn, void *arg)
{
	const struct prr_addr *a = ref->a;
	const struct prr_group *g = prr_groups(a), *end = g + a->ngroups;
	u16 window = prr_window(a);
	const struct prr_entry *e;
	u32 i;

	for (; g < end && prr_bits(g->mask) > a->bits; g++)
		if (!prr_walk_group(g, fn, arg))
			return;
	for (i = 0; i < prr_direct_size(a); i++) {
		e = prr_base(prr_deref(a->direct[i]));
		if (e && e->mask == window && !fn(e, arg))
			return;
	}
	for (; g < end; g++)
		if (!prr_walk_group(g, fn, arg))
			return;
}

/*
 * Stage two of a batched lookup: reads the index from slot @i on for
 * @addr into @ref, @ref->a NULL when absent, and prefetches the one direct
 * slot of @port.
 */
static void prr_index_probe(const struct prr_addr_index *idx, u32 i,
			    __be32 addr, u16 port, struct prr_addr_ref *ref)
{
	if (prr_index_lookup(idx, i, addr, ref))
		prr_prefetch(prr_ref_slot(ref, port));
	else
		ref->a = NULL;
}

/*
 * Resolves @n keys as a software pipeline, so that the cache misses of
 * PRR_BATCH keys overlap: key j's index slot is prefetched, key j - D's
 * index slot read and its direct slot prefetched, and key j - 2D is
 * matched, D = PRR_BATCH / 2.  Same answers as prr_table_lookup(), key by
 * key.  In an index a quarter full, a hit reads the slot after its own one
 * time in six, in another cache line one time in 24: prefetching that slot
 * too cost more than it saved (docs/decisions.md).
 */
void prr_table_lookup_batch(const struct prr_table *t, struct prr_query *q,
			    unsigned int n)
{
	const struct prr_addr_index *idx = prr_deref(t->index);
	const unsigned int d = PRR_BATCH / 2, ring = PRR_BATCH - 1;
	struct prr_addr_ref ref[PRR_BATCH];
	u32 i, pos[PRR_BATCH];
	unsigned int j, k;

	if (!idx) {
		for (j = 0; j < n; j++)
			q[j].result = NULL;
		return;
	}
	for (j = 0; j < n + 2 * d; j++) {
		if (j < n) {
			i = prr_addr_slot(idx, q[j].addr);
			pos[j & ring] = i;
			prr_prefetch(&idx->slot[i]);
		}
		k = j - d;
		if (j >= d && k < n)
			prr_index_probe(idx, pos[k & ring], q[k].addr,
					q[k].port, &ref[k & ring]);
		k = j - 2 * d;
		if (j < 2 * d || k >= n)
			continue;
		q[k].result = ref[k & ring].a ?
			      prr_addr_match(&ref[k & ring], q[k].port) : NULL;
	}
}

/* Writer side: the caller holds the table's writer lock. */

static struct prr_addr *prr_index_find_w(const struct prr_table *t,
					 __be32 addr, u32 *slot)
{
	struct prr_addr_index *idx = prr_deref_w(t, t->index);
	struct prr_addr *a;
	u32 i;

	if (!idx)
		return NULL;
	for (i = prr_addr_slot(idx, addr);; i = (i + 1) & idx->mask) {
		a = prr_deref_w(t, idx->slot[i].a);
		if (!a)
			return NULL;
		if (a != &prr_addr_tomb && a->addr == addr) {
			*slot = i;
			return a;
		}
	}
}

/*
 * Publishes @a in index slot @s.  A slot holding a bucket takes only a
 * bucket of the same address and window, or a tombstone; an empty or
 * deleted slot is given @a's address and window first (prr_index_lookup()).
 */
static void prr_index_set(const struct prr_table *t, struct prr_index_slot *s,
			  struct prr_addr *a)
{
	struct prr_addr *cur = prr_deref_w(t, s->a);

	if (a != &prr_addr_tomb && (!cur || cur == &prr_addr_tomb)) {
		prr_smp_wmb();	/* the bucket's removal, then the new window */
		prr_write_once(s->addr, a->addr);
		prr_write_once(s->shift, a->shift);
		prr_write_once(s->bits, a->bits);
	}
	prr_assign(s->a, a);
}

/* True when index slot @s holds the window of @a. */
static bool prr_index_fits(const struct prr_index_slot *s,
			   const struct prr_addr *a)
{
	return s->shift == a->shift && s->bits == a->bits;
}

static struct prr_group *prr_addr_group_w(struct prr_addr *a, u16 mask)
{
	struct prr_group *g = prr_groups(a);
	u16 i;

	for (i = 0; i < a->ngroups; i++)
		if (g[i].mask == mask)
			return &g[i];
	return NULL;
}

/* Slot of the entry with @value in @g, or -1. */
static int prr_group_find_w(const struct prr_table *t,
			    const struct prr_group *g, u16 value)
{
	u32 i, mask = prr_group_size(g) - 1;
	struct prr_entry *e;

	for (i = prr_group_slot(g, value);; i = (i + 1) & mask) {
		e = prr_deref_w(t, g->slots[i]);
		if (!e)
			return -1;
		if (e->value == value && e != &prr_entry_tomb)
			return i;
	}
}

static bool prr_entry_live(const struct prr_entry *e)
{
	return e && e != &prr_entry_tomb;
}

static struct prr_entry *prr_direct_w(const struct prr_table *t,
				      const struct prr_addr *a, u32 s)
{
	return prr_deref_w(t, a->direct[s]);
}

/* The owner of direct slot @s (an entry whose mask is the window), or NULL. */
static struct prr_entry *prr_owner_w(const struct prr_table *t,
				     const struct prr_addr *a, u32 s)
{
	struct prr_entry *e = prr_base(prr_direct_w(t, a, s));

	return e && e->mask == prr_window(a) ? e : NULL;
}

/*
 * Direct slots an entry (@value, @mask) may match in: those whose window
 * bits agree with it where @mask has bits in the window.  Iterate with
 * prr_slots_first() / prr_slots_next().
 */
struct prr_slots {
	u32 fixed;		/* the slot bits the entry decides */
	u32 free;		/* the others */
	u32 sub;		/* current subset of @free */
};

static u32 prr_slots_first(const struct prr_addr *a, u16 value, u16 mask,
			   struct prr_slots *it)
{
	u32 all = prr_direct_size(a) - 1;

	it->fixed = ((u32)value >> a->shift) & all;
	it->free = all & ~((u32)mask >> a->shift);
	it->sub = 0;
	return it->fixed;
}

/* The next slot, or false once every one was visited. */
static bool prr_slots_next(struct prr_slots *it, u32 *s)
{
	it->sub = (it->sub - it->free) & it->free;
	*s = it->fixed | it->sub;
	return it->sub != 0;
}

/*
 * The answer of direct slot @s without the slot's owner: the most specific
 * group entry inside the window containing the slot, other than @skip.
 */
static struct prr_entry *prr_direct_base_w(const struct prr_table *t,
					   const struct prr_addr *a, u32 s,
					   const struct prr_entry *skip)
{
	const struct prr_group *g = prr_groups(a), *end = g + a->ngroups;
	u16 window = prr_window(a), port = s << a->shift;
	struct prr_entry *e;
	int i;

	for (; g < end; g++) {
		if (g->mask & ~window)
			continue;
		i = prr_group_find_w(t, g, port & g->mask);
		if (i < 0)
			continue;
		e = prr_deref_w(t, g->slots[i]);
		if (e != skip)
			return e;
	}
	return NULL;
}

/* Groups are ordered most specific first; ties are disjoint, any order. */
static bool prr_entry_before(const struct prr_entry *x,
			     const struct prr_entry *y)
{
	int bx = prr_bits(x->mask), by = prr_bits(y->mask);

	return bx > by || (bx == by && x->mask > y->mask);
}

static void prr_sift_down(struct prr_entry **v, u32 root, u32 n)
{
	struct prr_entry *tmp;
	u32 child;

	for (child = 2 * root + 1; child < n; child = 2 * root + 1) {
		if (child + 1 < n && prr_entry_before(v[child], v[child + 1]))
			child++;
		if (!prr_entry_before(v[root], v[child]))
			return;
		tmp = v[root];
		v[root] = v[child];
		v[child] = tmp;
		root = child;
	}
}

/*
 * Heapsort, most specific first: in place, no recursion, the same in kernel
 * and userspace.
 */
static void prr_sort_entries(struct prr_entry **v, u32 n)
{
	struct prr_entry *tmp;
	u32 i;

	for (i = n / 2; i-- > 0;)
		prr_sift_down(v, i, n);
	for (i = n; i-- > 1;) {
		tmp = v[0];
		v[0] = v[i];
		v[i] = tmp;
		prr_sift_down(v, 0, i);
	}
}

static u32 prr_group_slots_for(u32 nentries)
{
	u32 n = prr_roundup_pow2(2 * nentries);

	return n < PRR_GROUP_MIN_SLOTS ? PRR_GROUP_MIN_SLOTS : n;
}

static u8 prr_log2(u32 pow2)
{
	u8 bits = 0;

	while ((1u << bits) < pow2)
		bits++;
	return bits;
}

/* The smallest contiguous run of bits holding @mask: *@shift, *@bits. */
static void prr_span(u16 mask, u8 *shift, u8 *bits)
{
	u8 lo = 0, hi = 16;

	if (!mask) {
		*shift = 0;
		*bits = 0;
		return;
	}
	while (!(mask & (1u << lo)))
		lo++;
	while (!(mask & (1u << (hi - 1))))
		hi--;
	*shift = lo;
	*bits = hi - lo;
}

/*
 * The window for the @n entries @v (sorted, so masks come in runs): the span
 * of one of their masks, small enough, holding the most entries.  Only the
 * first PRR_WINDOW_CANDIDATES masks are tried, so that an address with
 * thousands of masks costs O(n) per rebuild, not O(n^2).
 */
static void prr_choose_window(struct prr_entry **v, u32 n, u8 *shift,
			      u8 *bits)
{
	u32 i, j, k, l, score, best = 0, tried = 0;
	u8 s, b;
	u16 w;

	*shift = 0;
	*bits = 0;
	for (i = 0; i < n && tried < PRR_WINDOW_CANDIDATES; i = j) {
		for (j = i + 1; j < n && v[j]->mask == v[i]->mask; j++)
			;
		prr_span(v[i]->mask, &s, &b);
		if (b > PRR_WINDOW_MAX_BITS ||
		    ((1u << b) > PRR_WINDOW_FREE_SLOTS && (1u << b) > 2 * n))
			continue;
		tried++;
		w = ((1u << b) - 1) << s;
		/* Entries come in runs of one mask: one test per run. */
		for (k = 0, score = 0; k < n; k = l) {
			for (l = k + 1; l < n && v[l]->mask == v[k]->mask; l++)
				;
			if (!(v[k]->mask & ~w))
				score += l - k;
		}
		if (score > best || (score == best && b < *bits)) {
			best = score;
			*shift = s;
			*bits = b;
		}
	}
}

static void prr_group_place(struct prr_group *g, struct prr_entry *e)
{
	u32 i, mask = prr_group_size(g) - 1;

	for (i = prr_group_slot(g, e->value); prr_access(g->slots[i]);
	     i = (i + 1) & mask)
		;
	prr_init_pointer(g->slots[i], e);
	g->nentries++;
}

/* Direct slots of an unpublished bucket: answers, then PRR_SLOW tags. */
static void prr_direct_fill(struct prr_addr *a, struct prr_entry **v, u32 n)
{
	u16 window = prr_window(a);
	struct prr_slots it;
	struct prr_entry *e;
	u32 i, s;

	/* Least specific first, so that each slot ends with the most. */
	for (i = n; i-- > 0;) {
		e = v[i];
		if (e->mask & ~window)
			continue;
		s = prr_slots_first(a, e->value, e->mask, &it);
		do {
			prr_init_pointer(a->direct[s], e);
		} while (prr_slots_next(&it, &s));
	}
	for (i = 0; i < n; i++) {
		e = v[i];
		if (!(e->mask & ~window))
			continue;
		a->nslow++;
		s = prr_slots_first(a, e->value, e->mask, &it);
		do {
			e = prr_base(prr_access(a->direct[s]));
			prr_init_pointer(a->direct[s], prr_tag(e, true));
		} while (prr_slots_next(&it, &s));
	}
}

/*
 * Builds the published form of an address from its @n entries (valid sets,
 * no duplicates, no partial overlaps); sorts @v.  NULL when out of memory.
 */
static struct prr_addr *prr_addr_build(__be32 addr, struct prr_entry **v,
				       u32 n)
{
	u32 i, j, ngroups = 0, nslots = 0;
	struct prr_entry __rcu **slots;
	struct prr_group *g;
	struct prr_addr *a;
	u8 shift, bits;
	u16 window;

	prr_sort_entries(v, n);
	prr_choose_window(v, n, &shift, &bits);
	window = ((1u << bits) - 1) << shift;
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j]->mask == v[i]->mask; j++)
			;
		if (v[i]->mask == window)
			continue;
		ngroups++;
		nslots += prr_group_slots_for(j - i);
	}
	a = prr_alloc(sizeof(*a) + (sizeof(a->direct[0]) << bits) +
		      ngroups * sizeof(*g) + nslots * sizeof(*slots));
	if (!a)
		return NULL;
	a->addr = addr;
	a->shift = shift;
	a->bits = bits;
	a->ngroups = ngroups;
	a->nentries = n;
	g = prr_groups(a);
	slots = (struct prr_entry __rcu **)(g + ngroups);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j]->mask == v[i]->mask; j++)
			;
		if (v[i]->mask == window)
			continue;
		g->mask = v[i]->mask;
		g->bits = prr_log2(prr_group_slots_for(j - i));
		g->slots = slots;
		slots += prr_group_size(g);
		for (; i < j; i++)
			prr_group_place(g, v[i]);
		g++;
	}
	prr_direct_fill(a, v, n);
	return a;
}

/* Copies the live entries of @a except @skip into @v; returns how many. */
static u32 prr_addr_collect(const struct prr_table *t,
			    const struct prr_addr *a, struct prr_entry **v,
			    const struct prr_entry *skip)
{
	const struct prr_group *g = prr_groups(a), *end = g + a->ngroups;
	struct prr_entry *e;
	u32 i, n = 0;

	for (i = 0; i < prr_direct_size(a); i++) {
		e = prr_owner_w(t, a, i);
		if (e && e != skip)
			v[n++] = e;
	}
	for (; g < end; g++) {
		for (i = 0; i < prr_group_size(g); i++) {
			e = prr_deref_w(t, g->slots[i]);
			if (prr_entry_live(e) && e != skip)
				v[n++] = e;
		}
	}
	return n;
}

static void prr_index_place(struct prr_addr_index *idx, struct prr_addr *a)
{
	u32 i;

	for (i = prr_addr_slot(idx, a->addr); prr_access(idx->slot[i].a);
	     i = (i + 1) & idx->mask)
		;
	idx->slot[i].addr = a->addr;
	idx->slot[i].shift = a->shift;
	idx->slot[i].bits = a->bits;
	prr_init_pointer(idx->slot[i].a, a);
	idx->nused++;
}

/* Publishes a fresh index sized for @naddrs, without tombstones. */
static int prr_index_rebuild(struct prr_table *t, u32 naddrs)
{
	struct prr_addr_index *old = prr_deref_w(t, t->index), *idx;
	u32 i, nslots = prr_roundup_pow2(PRR_INDEX_SPREAD * naddrs);
	struct prr_addr *a;

	if (nslots < PRR_INDEX_MIN_SLOTS)
		nslots = PRR_INDEX_MIN_SLOTS;
	idx = prr_alloc(sizeof(*idx) + nslots * sizeof(idx->slot[0]));
	if (!idx)
		return -ENOMEM;
	idx->mask = nslots - 1;
	idx->seed = prr_random_u32();
	for (i = 0; old && i <= old->mask; i++) {
		a = prr_deref_w(t, old->slot[i].a);
		if (a && a != &prr_addr_tomb)
			prr_index_place(idx, a);
	}
	prr_assign(t->index, idx);
	if (old)
		prr_free_rcu(old, rcu);
	return 0;
}

/* The live addresses @idx is sized for: a quarter of its slots. */
static u32 prr_index_cap(const struct prr_addr_index *idx)
{
	return (idx->mask + 1) / PRR_INDEX_SPREAD;
}

/*
 * Rebuilds the index once tombstones outnumber half the live slots it is
 * sized for, which also shrinks it when most addresses are gone.
 */
static void prr_index_tidy(struct prr_table *t)
{
	struct prr_addr_index *idx = prr_deref_w(t, t->index);

	if (idx && (idx->nused - t->naddrs) * 2 > prr_index_cap(idx))
		prr_index_rebuild(t, t->naddrs);	/* stays correct if it fails */
}

/*
 * Makes room for one more used index slot: for a new address (@add), or for
 * an address moving to a later slot, which holds two for a moment.  Live
 * slots stay at most a quarter of the index (PRR_INDEX_SPREAD) and
 * tombstones may take a little more, so that a move in a full index needs
 * no bigger one.  A rebuild drops the tombstones, and doubles the slots when
 * the live ones would be too many: either way it is paid for by as many adds
 * or moves as it leaves room for.
 */
static int prr_index_reserve(struct prr_table *t, bool add)
{
	struct prr_addr_index *idx = prr_deref_w(t, t->index);
	u32 nslots = idx ? idx->mask + 1 : 0;
	u32 cap = idx ? prr_index_cap(idx) : 0;
	u32 nlive = t->naddrs + add;

	if (idx && nlive <= cap && idx->nused + 1 <= cap + nslots / 64 + 1)
		return 0;
	if (nlive > cap)
		return prr_index_rebuild(t, cap ? 2 * cap : 1);
	return prr_index_rebuild(t, cap);
}

/* Uses the first free or deleted index slot after @i for @a. */
static void prr_index_claim(struct prr_table *t, struct prr_addr_index *idx,
			    u32 i, struct prr_addr *a)
{
	struct prr_addr *cur;

	for (;; i = (i + 1) & idx->mask) {
		cur = prr_deref_w(t, idx->slot[i].a);
		if (!cur || cur == &prr_addr_tomb)
			break;
	}
	if (!cur)
		idx->nused++;
	prr_index_set(t, &idx->slot[i], a);
}

static int prr_index_add(struct prr_table *t, struct prr_entry *e)
{
	struct prr_addr_index *idx;
	struct prr_addr *a;
	int err;

	a = prr_addr_build(e->addr, &e, 1);
	if (!a)
		return -ENOMEM;
	err = prr_index_reserve(t, true);
	if (err) {
		prr_free(a);
		return err;
	}
	idx = prr_deref_w(t, t->index);
	/* The address is absent, so its first free or deleted slot will do. */
	prr_index_claim(t, idx, prr_addr_slot(idx, a->addr), a);
	t->naddrs++;
	return 0;
}

/*
 * Publishes @next, the new bucket of the address at index slot @slot, whose
 * window differs from the slot's: in the first free slot after @slot, which
 * lies further along the address's probe sequence, and then @slot becomes a
 * tombstone.  A reader finds the old bucket, or the new one past the
 * tombstone.  Returns 0 or -ENOMEM (nothing published).
 */
static int prr_index_move(struct prr_table *t, u32 slot, struct prr_addr *next)
{
	struct prr_addr_index *idx;
	int err;

	err = prr_index_reserve(t, false);
	if (err)
		return err;
	prr_index_find_w(t, next->addr, &slot);	/* a rebuild moves it */
	idx = prr_deref_w(t, t->index);
	prr_index_claim(t, idx, (slot + 1) & idx->mask, next);
	prr_index_set(t, &idx->slot[slot], &prr_addr_tomb);
	return 0;
}

/* Replaces the published @a (at index @slot) with its live entries minus
 * @skip plus @add, or removes the address when nothing is left.
 */
static int prr_addr_replace(struct prr_table *t, struct prr_addr *a, u32 slot,
			    struct prr_entry *add, const struct prr_entry *skip)
{
	struct prr_addr_index *idx = prr_deref_w(t, t->index);
	struct prr_addr *next = &prr_addr_tomb;
	struct prr_entry **v;
	u32 n = 0;
	int err;

	/* Removing the last entry needs no memory, so it cannot fail. */
	if (add || a->nentries > 1) {
		v = prr_alloc((a->nentries + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		n = prr_addr_collect(t, a, v, skip);
		if (add)
			v[n++] = add;
		next = prr_addr_build(a->addr, v, n);
		prr_free(v);
		if (!next)
			return -ENOMEM;
	}
	if (next == &prr_addr_tomb || prr_index_fits(&idx->slot[slot], next)) {
		prr_index_set(t, &idx->slot[slot], next);
	} else {
		err = prr_index_move(t, slot, next);
		if (err) {
			prr_free(next);
			return err;
		}
	}
	if (!n)
		t->naddrs--;
	prr_free_rcu(a, rcu);
	return 0;
}

/*
 * Two sets of one address must be disjoint or nested.  Sets (v1, m1) and
 * (v2, m2) intersect iff ((v1 ^ v2) & m1 & m2) == 0; when one mask contains
 * the other, intersecting sets are nested, so only incomparable masks can
 * partially overlap.  Owners intersecting @e are in the direct slots @e may
 * match in.
 */
static int prr_addr_check(const struct prr_table *t, const struct prr_addr *a,
			  const struct prr_entry *e,
			  const struct prr_entry **conflict)
{
	const struct prr_group *g = prr_groups(a), *end = g + a->ngroups;
	u16 common, window = prr_window(a);
	struct prr_slots it;
	struct prr_entry *x;
	u32 i, s;
	int slot;

	common = window & e->mask;
	if (e->mask == window) {
		x = prr_owner_w(t, a, prr_direct_slot(a, e->value));
		if (x) {
			*conflict = x;
			return -EEXIST;
		}
	} else if (common != window && common != e->mask) {
		s = prr_slots_first(a, e->value, e->mask, &it);
		do {
			x = prr_owner_w(t, a, s);
			if (x) {
				*conflict = x;
				return -EBUSY;
			}
		} while (prr_slots_next(&it, &s));
	}
	for (; g < end; g++) {
		if (g->mask == e->mask) {
			slot = prr_group_find_w(t, g, e->value);
			if (slot >= 0) {
				*conflict = prr_deref_w(t, g->slots[slot]);
				return -EEXIST;
			}
			continue;
		}
		common = g->mask & e->mask;
		if (common == g->mask || common == e->mask)
			continue;
		for (i = 0; i < prr_group_size(g); i++) {
			x = prr_deref_w(t, g->slots[i]);
			if (prr_entry_live(x) && !((x->value ^ e->value) & common)) {
				*conflict = x;
				return -EBUSY;
			}
		}
	}
	return 0;
}

/*
 * Would prr_table_insert() accept @e?  0, -EEXIST or -EBUSY (with
 * *@conflict) as it would answer, except that it never runs out of memory.
 */
int prr_table_check(const struct prr_table *t, const struct prr_entry *e,
		    const struct prr_entry **conflict)
{
	const struct prr_addr *a;
	u32 slot;

	a = prr_index_find_w(t, e->addr, &slot);
	return a ? prr_addr_check(t, a, e, conflict) : 0;
}

/* Makes the direct slots answer @e, just linked into its group, where due. */
static void prr_direct_link(const struct prr_table *t, struct prr_addr *a,
			    struct prr_entry *e)
{
	bool inside = !(e->mask & ~prr_window(a));
	struct prr_entry *cur, *b;
	struct prr_slots it;
	u32 s;

	if (!inside)
		a->nslow++;
	s = prr_slots_first(a, e->value, e->mask, &it);
	do {
		cur = prr_direct_w(t, a, s);
		b = prr_base(cur);
		if (!inside) {
			if (!prr_is_slow(cur))
				prr_assign(a->direct[s], prr_tag(b, true));
		} else if (!b || prr_entry_before(e, b)) {
			prr_assign(a->direct[s], prr_tag(e, prr_is_slow(cur)));
		}
	} while (prr_slots_next(&it, &s));
}

/* Makes the direct slots stop answering @e, still in its group. */
static void prr_direct_unlink(const struct prr_table *t, struct prr_addr *a,
			      struct prr_entry *e)
{
	struct prr_entry *cur, *b;
	struct prr_slots it;
	u32 s;

	if (e->mask & ~prr_window(a)) {
		/* Slots may stay tagged (slower, still right) until the last. */
		if (--a->nslow)
			return;
		for (s = 0; s < prr_direct_size(a); s++) {
			cur = prr_direct_w(t, a, s);
			if (prr_is_slow(cur))
				prr_assign(a->direct[s], prr_base(cur));
		}
		return;
	}
	s = prr_slots_first(a, e->value, e->mask, &it);
	do {
		cur = prr_direct_w(t, a, s);
		if (prr_base(cur) != e)
			continue;
		b = prr_direct_base_w(t, a, s, e);
		prr_assign(a->direct[s], prr_tag(b, prr_is_slow(cur)));
	} while (prr_slots_next(&it, &s));
}

/*
 * Links @e.  Returns 0, -EEXIST (same set present), -EBUSY (partial overlap;
 * both with *@conflict set to the existing entry) or -ENOMEM; on error the
 * table is unchanged.
 */
int prr_table_insert(struct prr_table *t, struct prr_entry *e,
		     const struct prr_entry **conflict)
{
	struct prr_entry *cur;
	struct prr_group *g;
	struct prr_addr *a;
	u32 slot, i, mask;
	int err;

	a = prr_index_find_w(t, e->addr, &slot);
	if (!a) {
		err = prr_index_add(t, e);
		goto out;
	}
	err = prr_addr_check(t, a, e, conflict);
	if (err)
		return err;
	if (e->mask == prr_window(a)) {
		/* An owner is the most specific answer of its one slot. */
		i = prr_direct_slot(a, e->value);
		cur = prr_direct_w(t, a, i);
		prr_assign(a->direct[i], prr_tag(e, prr_is_slow(cur)));
		a->nentries++;
		goto out;
	}
	g = prr_addr_group_w(a, e->mask);
	if (!g || (g->nentries + g->ntombs + 1) * 2 > prr_group_size(g)) {
		err = prr_addr_replace(t, a, slot, e, NULL);
		goto out;
	}
	mask = prr_group_size(g) - 1;
	for (i = prr_group_slot(g, e->value);; i = (i + 1) & mask) {
		cur = prr_deref_w(t, g->slots[i]);
		if (!cur || cur == &prr_entry_tomb)
			break;
	}
	if (cur)
		g->ntombs--;
	prr_assign(g->slots[i], e);
	g->nentries++;
	a->nentries++;
	prr_direct_link(t, a, e);
out:
	if (!err)
		t->nentries++;
	return err;
}

/*
 * Finds the entry (@addr, @value, @mask): its address *@a at index slot
 * *@slot, and either its group *@g and slot there (the return value) or,
 * for an owner, *@g NULL and its direct slot; -1 when absent.
 */
static int prr_table_locate(const struct prr_table *t, __be32 addr,
			    u16 value, u16 mask, struct prr_addr **a,
			    u32 *slot, struct prr_group **g)
{
	struct prr_entry *e;
	u32 s;

	*a = prr_index_find_w(t, addr, slot);
	if (!*a)
		return -1;
	*g = NULL;
	if (mask == prr_window(*a)) {
		s = prr_direct_slot(*a, value);
		e = prr_owner_w(t, *a, s);
		return e && e->value == value ? (int)s : -1;
	}
	*g = prr_addr_group_w(*a, mask);
	if (!*g)
		return -1;
	return prr_group_find_w(t, *g, value);
}

/* Unlinks and returns the entry (@addr, @value, @mask), or NULL. */
struct prr_entry *prr_table_remove(struct prr_table *t, __be32 addr,
				   u16 value, u16 mask)
{
	struct prr_entry *e, *cur;
	struct prr_group *g;
	struct prr_addr *a;
	u32 slot;
	int i;

	i = prr_table_locate(t, addr, value, mask, &a, &slot, &g);
	if (i < 0)
		return NULL;
	if (!g) {
		e = prr_owner_w(t, a, i);
		if (a->nentries == 1) {
			prr_addr_replace(t, a, slot, NULL, e);	/* cannot fail */
		} else {
			cur = prr_direct_w(t, a, i);
			prr_assign(a->direct[i],
				   prr_tag(prr_direct_base_w(t, a, i, NULL),
					   prr_is_slow(cur)));
			a->nentries--;
		}
		goto out;
	}
	e = prr_deref_w(t, g->slots[i]);
	/*
	 * An emptied group goes away with a new snapshot; when that cannot be
	 * allocated a tombstone keeps the table correct until the next rebuild.
	 */
	if (g->nentries > 1 || prr_addr_replace(t, a, slot, NULL, e)) {
		prr_direct_unlink(t, a, e);
		prr_assign(g->slots[i], &prr_entry_tomb);
		g->nentries--;
		g->ntombs++;
		a->nentries--;
	}
out:
	t->nentries--;
	prr_index_tidy(t);
	return e;
}

const struct prr_entry *prr_table_get(const struct prr_table *t, __be32 addr,
				      u16 value, u16 mask)
{
	struct prr_group *g;
	struct prr_addr *a;
	u32 slot;
	int i;

	i = prr_table_locate(t, addr, value, mask, &a, &slot, &g);
	if (i < 0)
		return NULL;
	return g ? prr_deref_w(t, g->slots[i]) : prr_owner_w(t, a, i);
}

/*
 * The entry after @c, advancing @c; NULL at the end.  Writers only.  An
 * address's owners come first (c->group 0), then its groups.
 */
const struct prr_entry *prr_table_next(const struct prr_table *t,
				       struct prr_cursor *c)
{
	struct prr_addr_index *idx = prr_deref_w(t, t->index);
	const struct prr_group *g;
	struct prr_entry *e;
	struct prr_addr *a;

	if (!idx)
		return NULL;
	for (; c->slot <= idx->mask; c->slot++, c->group = 0, c->pos = 0) {
		a = prr_deref_w(t, idx->slot[c->slot].a);
		if (!a || a == &prr_addr_tomb)
			continue;
		if (!c->group) {
			while (c->pos < prr_direct_size(a)) {
				e = prr_owner_w(t, a, c->pos++);
				if (e)
					return e;
			}
			c->group = 1;
			c->pos = 0;
		}
		for (; c->group <= a->ngroups; c->group++, c->pos = 0) {
			g = &prr_groups(a)[c->group - 1];
			while (c->pos < prr_group_size(g)) {
				e = prr_deref_w(t, g->slots[c->pos++]);
				if (prr_entry_live(e))
					return e;
			}
		}
	}
	return NULL;
}

static void prr_addr_release(const struct prr_table *t, struct prr_addr *a,
			     prr_release_t release, void *arg)
{
	const struct prr_group *g = prr_groups(a), *end = g + a->ngroups;
	struct prr_entry *e;
	u32 i;

	for (i = 0; i < prr_direct_size(a); i++) {
		e = prr_owner_w(t, a, i);
		if (e)
			release(e, arg);
	}
	for (; g < end; g++) {
		for (i = 0; i < prr_group_size(g); i++) {
			e = prr_deref_w(t, g->slots[i]);
			if (prr_entry_live(e))
				release(e, arg);
		}
	}
	prr_free_rcu(a, rcu);
}

/* Unlinks every entry of @addr, handing each to @release; returns how many. */
unsigned int prr_table_flush_addr(struct prr_table *t, __be32 addr,
				  prr_release_t release, void *arg)
{
	struct prr_addr_index *idx = prr_deref_w(t, t->index);
	struct prr_addr *a;
	unsigned int n;
	u32 slot;

	a = prr_index_find_w(t, addr, &slot);
	if (!a)
		return 0;
	n = a->nentries;
	prr_index_set(t, &idx->slot[slot], &prr_addr_tomb);
	t->naddrs--;
	t->nentries -= n;
	prr_addr_release(t, a, release, arg);
	prr_index_tidy(t);
	return n;
}

/* Unlinks every entry, handing each to @release. */
void prr_table_flush(struct prr_table *t, prr_release_t release, void *arg)
{
	struct prr_addr_index *idx = prr_deref_w(t, t->index);
	struct prr_addr *a;
	u32 i;

	if (!idx)
		return;
	prr_assign(t->index, NULL);
	for (i = 0; i <= idx->mask; i++) {
		a = prr_deref_w(t, idx->slot[i].a);
		if (a && a != &prr_addr_tomb)
			prr_addr_release(t, a, release, arg);
	}
	prr_free_rcu(idx, rcu);
	t->naddrs = 0;
	t->nentries = 0;
}

/*
 * Publishes the contents of @staged (built off-line by the same writer) as
 * @live in one pointer store, and leaves the former contents of @live in
 * @staged.  A reader sees either the whole old table or the whole new one.
 * The caller flushes @staged afterwards; its memory is freed after a grace
 * period like any removal.
 */
void prr_table_swap(struct prr_table *live, struct prr_table *staged)
{
	struct prr_addr_index *old = prr_deref_w(live, live->index);
	u32 naddrs = live->naddrs, nentries = live->nentries;

	prr_assign(live->index, prr_deref_w(staged, staged->index));
	live->naddrs = staged->naddrs;
	live->nentries = staged->nentries;
	prr_init_pointer(staged->index, old);
	staged->naddrs = naddrs;
	staged->nentries = nentries;
}
