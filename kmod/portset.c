// SPDX-License-Identifier: GPL-2.0
/*
 * The port-set table.
 *
 * Layout, chosen so that a lookup costs the same with ten entries or a
 * million (no walk over entries, ever):
 *
 *   index     open-addressing array: shared address -> struct prr_addr
 *   prr_addr  one group per distinct mask used on that address, most
 *             specific (most mask bits) first; each group an open-addressing
 *             array: port & mask -> entry
 *
 * A lookup is one probe sequence in the index and one per group, and an
 * address typically has one or two masks (the CPEs' mask, maybe a default).
 * Because sets of one address never partially overlap, the first group that
 * holds a match holds the most specific match.
 *
 * Updates never block readers.  Adding to a group with room and deleting
 * (leaving a tombstone) are single pointer stores into the published arrays;
 * anything that changes the shape of an address (a new or emptied group, a
 * full group) builds a new prr_addr, publishes it with one store into the
 * index and frees the old one after a grace period.  The index is rebuilt the
 * same way when it fills up.  Arrays are kept at most half full, counting
 * tombstones, so every probe sequence ends at an empty slot.
 */

#include "portset.h"

struct prr_group {
	u16 mask;
	u8 bits;		/* log2 of the number of slots */
	u32 nentries;		/* writer only, as is ntombs */
	u32 ntombs;
	struct prr_entry __rcu **slots;
};

struct prr_addr {
	__be32 addr;
	u16 ngroups;
	u32 nentries;		/* writer only */
	struct prr_rcu_head rcu;
	struct prr_group group[];	/* then the groups' slot arrays */
};

struct prr_addr_index {
	u32 mask;		/* number of slots - 1 */
	u32 seed;
	u32 nused;		/* writer only: live and tombstone slots */
	struct prr_rcu_head rcu;
	struct prr_addr __rcu *slot[];
};

#define PRR_INDEX_MIN_SLOTS	8u
#define PRR_GROUP_MIN_SLOTS	2u

/* Deleted slots.  Readers skip them by address, never by content. */
static struct prr_entry prr_entry_tomb;
static struct prr_addr prr_addr_tomb;

static u32 prr_mix32(u32 x)
{
	/* MurmurHash3's finalizer: every input bit affects every output bit. */
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

static u32 prr_addr_slot(const struct prr_addr_index *idx, __be32 addr)
{
	return prr_mix32((__force u32)addr ^ idx->seed) & idx->mask;
}

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

void prr_table_init(struct prr_table *t)
{
	prr_init_pointer(t->index, NULL);
	t->naddrs = 0;
	t->nentries = 0;
}

const struct prr_addr *prr_table_find(const struct prr_table *t, __be32 addr)
{
	const struct prr_addr_index *idx = prr_deref(t->index);
	const struct prr_addr *a;
	u32 i;

	if (!idx)
		return NULL;
	for (i = prr_addr_slot(idx, addr);; i = (i + 1) & idx->mask) {
		a = prr_deref(idx->slot[i]);
		if (!a)
			return NULL;
		if (a->addr == addr && a != &prr_addr_tomb)
			return a;
	}
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

const struct prr_entry *prr_addr_match(const struct prr_addr *a, u16 port)
{
	const struct prr_group *g, *end = a->group + a->ngroups;
	const struct prr_entry *e;

	for (g = a->group; g < end; g++) {
		e = prr_group_find(g, port & g->mask);
		if (e)
			return e;
	}
	return NULL;
}

/* Groups go from the most to the least specific: port-mask 0 is last. */
const struct prr_entry *prr_addr_default(const struct prr_addr *a)
{
	const struct prr_group *g;

	if (!a->ngroups)
		return NULL;
	g = &a->group[a->ngroups - 1];
	return g->mask ? NULL : prr_group_find(g, 0);
}

/* Calls @fn on each entry of @a, most specific sets first, until false. */
void prr_addr_walk(const struct prr_addr *a, prr_visit_t fn, void *arg)
{
	const struct prr_group *g, *end = a->group + a->ngroups;
	const struct prr_entry *e;
	u32 i;

	for (g = a->group; g < end; g++) {
		for (i = 0; i < prr_group_size(g); i++) {
			e = prr_deref(g->slots[i]);
			if (e && e != &prr_entry_tomb && !fn(e, arg))
				return;
		}
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
		a = prr_deref_w(t, idx->slot[i]);
		if (!a)
			return NULL;
		if (a->addr == addr && a != &prr_addr_tomb) {
			*slot = i;
			return a;
		}
	}
}

static struct prr_group *prr_addr_group_w(struct prr_addr *a, u16 mask)
{
	u16 i;

	for (i = 0; i < a->ngroups; i++)
		if (a->group[i].mask == mask)
			return &a->group[i];
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

/* Groups are ordered most specific first; ties are disjoint, any order. */
static bool prr_entry_before(const struct prr_entry *x,
			     const struct prr_entry *y)
{
	int bx = prr_popcount16(x->mask), by = prr_popcount16(y->mask);

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

/* Heapsort: in place, no recursion, the same in kernel and userspace. */
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

static void prr_group_place(struct prr_group *g, struct prr_entry *e)
{
	u32 i, mask = prr_group_size(g) - 1;

	for (i = prr_group_slot(g, e->value); prr_access(g->slots[i]);
	     i = (i + 1) & mask)
		;
	prr_init_pointer(g->slots[i], e);
	g->nentries++;
}

/*
 * Builds the published form of an address from its @n entries (valid sets,
 * no duplicates, no partial overlaps); sorts @v.  NULL when out of memory.
 */
static struct prr_addr *prr_addr_build(__be32 addr, struct prr_entry **v,
				       u32 n)
{
	struct prr_entry __rcu **slots;
	u32 i, j, ngroups = 0, nslots = 0;
	struct prr_group *g;
	struct prr_addr *a;

	prr_sort_entries(v, n);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j]->mask == v[i]->mask; j++)
			;
		ngroups++;
		nslots += prr_group_slots_for(j - i);
	}
	a = prr_alloc(sizeof(*a) + ngroups * sizeof(a->group[0]) +
		      nslots * sizeof(*slots));
	if (!a)
		return NULL;
	a->addr = addr;
	a->ngroups = ngroups;
	a->nentries = n;
	slots = (struct prr_entry __rcu **)&a->group[ngroups];
	g = a->group;
	for (i = 0; i < n; i = j, g++) {
		for (j = i + 1; j < n && v[j]->mask == v[i]->mask; j++)
			;
		g->mask = v[i]->mask;
		g->bits = prr_log2(prr_group_slots_for(j - i));
		g->slots = slots;
		slots += prr_group_size(g);
		while (i < j)
			prr_group_place(g, v[i++]);
	}
	return a;
}

/* Copies the live entries of @a except @skip into @v; returns how many. */
static u32 prr_addr_collect(const struct prr_table *t,
			    const struct prr_addr *a, struct prr_entry **v,
			    const struct prr_entry *skip)
{
	const struct prr_group *g;
	struct prr_entry *e;
	u32 i, n = 0;

	for (g = a->group; g < a->group + a->ngroups; g++) {
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

	for (i = prr_addr_slot(idx, a->addr); prr_access(idx->slot[i]);
	     i = (i + 1) & idx->mask)
		;
	prr_init_pointer(idx->slot[i], a);
	idx->nused++;
}

/* Publishes a fresh index sized for @naddrs, without tombstones. */
static int prr_index_rebuild(struct prr_table *t, u32 naddrs)
{
	struct prr_addr_index *old = prr_deref_w(t, t->index), *idx;
	u32 i, nslots = prr_roundup_pow2(4 * naddrs);
	struct prr_addr *a;

	if (nslots < PRR_INDEX_MIN_SLOTS)
		nslots = PRR_INDEX_MIN_SLOTS;
	idx = prr_alloc(sizeof(*idx) + nslots * sizeof(idx->slot[0]));
	if (!idx)
		return -ENOMEM;
	idx->mask = nslots - 1;
	idx->seed = prr_random_u32();
	for (i = 0; old && i <= old->mask; i++) {
		a = prr_deref_w(t, old->slot[i]);
		if (a && a != &prr_addr_tomb)
			prr_index_place(idx, a);
	}
	prr_assign(t->index, idx);
	if (old)
		prr_free_rcu(old, rcu);
	return 0;
}

/* Rebuilds the index once tombstones take more than a quarter of it. */
static void prr_index_tidy(struct prr_table *t)
{
	struct prr_addr_index *idx = prr_deref_w(t, t->index);

	if (idx && (idx->nused - t->naddrs) * 4 > idx->mask + 1)
		prr_index_rebuild(t, t->naddrs);	/* stays correct if it fails */
}

static int prr_index_add(struct prr_table *t, struct prr_entry *e)
{
	struct prr_addr_index *idx = prr_deref_w(t, t->index);
	struct prr_addr *a, *cur;
	int err;
	u32 i;

	a = prr_addr_build(e->addr, &e, 1);
	if (!a)
		return -ENOMEM;
	if (!idx || (idx->nused + 1) * 2 > idx->mask + 1) {
		err = prr_index_rebuild(t, t->naddrs + 1);
		if (err) {
			prr_free(a);
			return err;
		}
		idx = prr_deref_w(t, t->index);
	}
	/* The address is absent, so its first free or deleted slot will do. */
	for (i = prr_addr_slot(idx, a->addr);; i = (i + 1) & idx->mask) {
		cur = prr_deref_w(t, idx->slot[i]);
		if (!cur || cur == &prr_addr_tomb)
			break;
	}
	if (!cur)
		idx->nused++;
	prr_assign(idx->slot[i], a);
	t->naddrs++;
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
	prr_assign(idx->slot[slot], next);
	if (!n)
		t->naddrs--;
	prr_free_rcu(a, rcu);
	return 0;
}

/*
 * Two sets of one address must be disjoint or nested.  Sets (v1, m1) and
 * (v2, m2) intersect iff ((v1 ^ v2) & m1 & m2) == 0; when one mask contains
 * the other, intersecting sets are nested, so only incomparable masks can
 * partially overlap.
 */
static int prr_addr_check(const struct prr_table *t, const struct prr_addr *a,
			  const struct prr_entry *e,
			  const struct prr_entry **conflict)
{
	const struct prr_group *g;
	struct prr_entry *x;
	u16 common;
	int slot;
	u32 i;

	for (g = a->group; g < a->group + a->ngroups; g++) {
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
out:
	if (!err)
		t->nentries++;
	return err;
}

/*
 * Finds the entry (@addr, @value, @mask): its address *@a at index slot
 * *@slot, its group *@g; returns its slot in the group, or -1.
 */
static int prr_table_locate(const struct prr_table *t, __be32 addr,
			    u16 value, u16 mask, struct prr_addr **a,
			    u32 *slot, struct prr_group **g)
{
	*a = prr_index_find_w(t, addr, slot);
	if (!*a)
		return -1;
	*g = prr_addr_group_w(*a, mask);
	if (!*g)
		return -1;
	return prr_group_find_w(t, *g, value);
}

/* Unlinks and returns the entry (@addr, @value, @mask), or NULL. */
struct prr_entry *prr_table_remove(struct prr_table *t, __be32 addr,
				   u16 value, u16 mask)
{
	struct prr_entry *e;
	struct prr_group *g;
	struct prr_addr *a;
	u32 slot;
	int i;

	i = prr_table_locate(t, addr, value, mask, &a, &slot, &g);
	if (i < 0)
		return NULL;
	e = prr_deref_w(t, g->slots[i]);
	/*
	 * An emptied group goes away with a new snapshot; when that cannot be
	 * allocated a tombstone keeps the table correct until the next rebuild.
	 */
	if (g->nentries > 1 || prr_addr_replace(t, a, slot, NULL, e)) {
		prr_assign(g->slots[i], &prr_entry_tomb);
		g->nentries--;
		g->ntombs++;
		a->nentries--;
	}
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
	return i < 0 ? NULL : prr_deref_w(t, g->slots[i]);
}

/* The entry after @c, advancing @c; NULL at the end.  Writers only. */
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
		a = prr_deref_w(t, idx->slot[c->slot]);
		if (!a || a == &prr_addr_tomb)
			continue;
		for (; c->group < a->ngroups; c->group++, c->pos = 0) {
			g = &a->group[c->group];
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
	const struct prr_group *g;
	struct prr_entry *e;
	u32 i;

	for (g = a->group; g < a->group + a->ngroups; g++) {
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
	prr_assign(idx->slot[slot], &prr_addr_tomb);
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
		a = prr_deref_w(t, idx->slot[i]);
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
