// SPDX-License-Identifier: GPL-2.0
/*
 * Per-network-namespace state.
 *
 * Every namespace has its own table; entries die with their namespace.  The
 * netfilter hook is registered in a namespace only when its first entry is
 * added, so namespaces that never use prr (the CPEs on a lab machine, for
 * example) do not see the module at all.  Writers serialize on pn->lock;
 * the data path reads under RCU only.
 */

#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <net/netfilter/ipv4/nf_defrag_ipv4.h>

#include "hook.h"
#include "nat.h"
#include "netns.h"
#include "nexthop.h"
#include "notify.h"

unsigned int prr_net_id __read_mostly;

bool prr_table_writer_held(const struct prr_table *t)
{
#ifdef CONFIG_LOCKDEP
	const struct prr_table_head *h;

	h = container_of(t, struct prr_table_head, table);
	return lockdep_is_held(h->lock);
#else
	return true;
#endif
}

/* Sums @r's counters; false (and zeros) when it has none. */
bool prr_rule_read_counters(const struct prr_rule *r, u64 *packets,
			    u64 *bytes)
{
	const struct prr_counters *c;
	unsigned int start;
	u64 p, b;
	int cpu;

	*packets = 0;
	*bytes = 0;
	if (!r->counters)
		return false;
	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(r->counters, cpu);
		do {
			start = u64_stats_fetch_begin(&c->syncp);
			p = u64_stats_read(&c->packets);
			b = u64_stats_read(&c->bytes);
		} while (u64_stats_fetch_retry(&c->syncp, start));
		*packets += p;
		*bytes += b;
	}
	return true;
}

/* Sums the namespace counters into @cnt[PRR_STATS_A_MAX + 1]. */
void prr_net_read_stats(struct prr_net *pn, u64 *cnt)
{
	const struct prr_stats *s;
	u64 v[PRR_STATS_A_MAX + 1];
	unsigned int start;
	int cpu, i;

	memset(cnt, 0, sizeof(v));
	for_each_possible_cpu(cpu) {
		s = per_cpu_ptr(pn->stats, cpu);
		do {
			start = u64_stats_fetch_begin(&s->syncp);
			for (i = 0; i <= PRR_STATS_A_MAX; i++)
				v[i] = u64_stats_read(&s->cnt[i]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		for (i = 0; i <= PRR_STATS_A_MAX; i++)
			cnt[i] += v[i];
	}
}

/*
 * Non-first fragments carry no port: have the kernel reassemble datagrams
 * before the hook (RFC 6346 §5.3.3, RFC 7597 §8.3.2), in this namespace,
 * whether or not conntrack is in use.  ip_forward() refragments them to the
 * CPE link's MTU.  See docs/decisions.md.
 */
static int prr_net_attach_hook(struct prr_net *pn)
{
	int err;

	if (pn->hooked)
		return 0;
	err = nf_defrag_ipv4_enable(pn->net);
	if (err)
		return err;
	err = nf_register_net_hooks(pn->net, pn->hook_ops,
				    ARRAY_SIZE(pn->hook_ops));
	if (err) {
		nf_defrag_ipv4_disable(pn->net);
		return err;
	}
	pn->hooked = true;
	return 0;
}

static void prr_set_conflict(struct netlink_ext_ack *extack,
			     const struct prr_entry *e)
{
	struct prr_conflict c = {
		.addr = e->addr,
		.port_value = e->value,
		.port_mask = e->mask,
	};

	BUILD_BUG_ON(sizeof(c) > NETLINK_MAX_COOKIE_LEN);
	if (!extack)
		return;
	memcpy(extack->cookie, &c, sizeof(c));
	extack->cookie_len = sizeof(c);
}

/* The staging table of the socket @portid, or NULL with an error message. */
static struct prr_stage *prr_stage_of(struct prr_net *pn, u32 portid,
				      struct netlink_ext_ack *extack)
{
	struct prr_stage *st = pn->stage;

	lockdep_assert_held(&pn->lock);
	if (st && st->portid == portid)
		return st;
	NL_SET_ERR_MSG(extack, "no replace in progress on this socket");
	return NULL;
}

/* The table a new rule goes to; NULL with an error message. */
static struct prr_table *prr_target_table(struct prr_net *pn,
					  const struct prr_rule_spec *spec,
					  struct netlink_ext_ack *extack)
{
	struct prr_stage *st;

	if (!spec->staged)
		return &pn->table;
	st = prr_stage_of(pn, spec->portid, extack);
	return st ? &st->head.table : NULL;
}

/*
 * Rules are many and small: a cache of their own, not kmalloc-64, no
 * rcu_head (see reclaim.h) and no name (below).  docs/architecture.md
 * counts on 32 bytes.
 */
static struct kmem_cache *prr_rule_cache;
static_assert(sizeof(struct prr_rule) <= 32);

static void prr_rule_free(void *obj)
{
	struct prr_rule *r = obj;

	free_percpu(r->counters);
	kmem_cache_free(prr_rule_cache, r);
}

/*
 * A CPE's name is kept once per PRR_CMD_NEW_ENTRY, under the PRR_A_CPE_ID
 * its rules share, not in each rule: 8 bytes less per rule, and nothing at
 * all for unnamed entries.  Only writers, dumps and notifications read
 * names, all under pn->lock, so a name is freed at once with its last rule.
 */
struct prr_name {
	unsigned int users;		/* rules that carry it */
	char str[];
};

const char *prr_rule_name(struct prr_net *pn, const struct prr_rule *r)
{
	const struct prr_name *nm;

	lockdep_assert_held(&pn->lock);
	if (!r->named)
		return NULL;
	nm = xa_load(&pn->names, r->cpe_id);
	return nm ? nm->str : NULL;
}

/* The next PRR_A_CPE_ID; once the count wraps, never one a name holds. */
static u32 prr_next_cpe_id(struct prr_net *pn)
{
	do {
		if (!++pn->cpe_id)
			pn->cpe_id = 1;
	} while (xa_load(&pn->names, pn->cpe_id));
	return pn->cpe_id;
}

static int prr_name_add(struct prr_net *pn, u32 cpe_id, const char *name,
			unsigned int users)
{
	size_t len = strlen(name) + 1;
	struct prr_name *nm;
	int err;

	nm = kmalloc(struct_size(nm, str, len), GFP_KERNEL);
	if (!nm)
		return -ENOMEM;
	nm->users = users;
	memcpy(nm->str, name, len);
	err = xa_insert(&pn->names, cpe_id, nm, GFP_KERNEL);
	if (err)
		kfree(nm);
	return err;
}

/* @r no longer carries its name: the last rule frees it. */
static void prr_name_put(struct prr_net *pn, const struct prr_rule *r)
{
	struct prr_name *nm;

	if (!r->named)
		return;
	nm = xa_load(&pn->names, r->cpe_id);
	if (WARN_ON_ONCE(!nm) || --nm->users)
		return;
	xa_erase(&pn->names, r->cpe_id);
	kfree(nm);
}

/* Every writer unlocks here: the rules it unlinked go to RCU. */
static void prr_net_unlock(struct prr_net *pn)
{
	prr_reclaim_close(&pn->reclaim);
	mutex_unlock(&pn->lock);
}

/* For an unlinked rule: readers may still hold it, so free it later. */
static void prr_rule_release(struct prr_entry *e, void *arg)
{
	struct prr_rule *r = prr_rule_of(e);
	struct prr_net *pn = arg;

	if (r->nh)
		prr_nexthop_put(pn, r->nh);
	prr_name_put(pn, r);
	prr_reclaim_add(&pn->reclaim, r);
	/*
	 * Called once per entry of a flushed or replaced table (a million,
	 * perhaps), always from process context under pn->lock: the debug
	 * kernel saw a 26 s RCU stall freeing 100,000 without this.
	 */
	cond_resched();
}

/*
 * A rule for piece @i of @spec, not linked anywhere yet, without counters
 * (prr_spec_counters() decides); NULL: no memory.
 */
static struct prr_rule *prr_rule_alloc(const struct prr_rule_spec *spec,
				       unsigned int i)
{
	struct prr_rule *r;

	r = kmem_cache_zalloc(prr_rule_cache, GFP_KERNEL);
	if (!r)
		return NULL;
	r->ent = spec->ent[i];
	r->action = spec->action;
	return r;
}

/*
 * Whether the rules of @spec get counters: per-entry counters cost 16 bytes
 * per possible CPU, so an operator with a million entries may turn them
 * off.  A restore's own setting, once it has set one, rules its entries.
 */
static bool prr_spec_counters(const struct prr_net *pn,
			      const struct prr_rule_spec *spec)
{
	if (spec->staged && pn->stage->config.entry_counters >= 0)
		return pn->stage->config.entry_counters;
	return pn->entry_counters;
}

/* The table takes every piece of @spec?  Reports the first it refuses. */
static int prr_spec_check(const struct prr_table *t,
			  const struct prr_rule_spec *spec,
			  struct netlink_ext_ack *extack)
{
	const struct prr_entry *conflict = NULL;
	unsigned int i;
	int err = 0;

	for (i = 0; i < spec->n && !err; i++)
		err = prr_table_check(t, &spec->ent[i], &conflict);
	if (!err)
		return 0;
	if (spec->attr[i - 1])
		NL_SET_BAD_ATTR(extack, spec->attr[i - 1]);
	if (err == -EEXIST) {
		NL_SET_ERR_MSG(extack, "entry already exists");
	} else if (err == -EBUSY) {
		NL_SET_ERR_MSG(extack,
			       "port set partially overlaps an existing entry");
		prr_set_conflict(extack, conflict);
		err = -EEXIST;
	}
	return err;
}

/* Unlinks the first @n rules of @r from @t again (an insert failed). */
static void prr_rules_unlink(struct prr_net *pn, struct prr_table *t,
			     struct prr_rule **r, unsigned int n)
{
	while (n--) {
		prr_table_remove(t, r[n]->ent.addr, r[n]->ent.value,
				 r[n]->ent.mask);
		prr_rule_release(&r[n]->ent, pn);
		r[n] = NULL;
	}
}

/*
 * Adds one rule per piece of @spec, all or none: every piece is checked
 * before the first is linked, so only a failed allocation inside the table
 * can stop the inserts half-way; the pieces linked by then are unlinked
 * again (packets may have met them meanwhile).
 */
int prr_net_add_rule(struct prr_net *pn, const struct prr_rule_spec *spec,
		     struct netlink_ext_ack *extack)
{
	const struct prr_entry *conflict;
	struct prr_rule *r[PRR_PIECES_MAX] = {};
	struct prr_table *t;
	struct prr_ntf ntf;
	unsigned int i, n = spec->n;
	int err = -ENOMEM;
	bool counters;
	u32 cpe_id;

	if (WARN_ON_ONCE(!n || n > PRR_PIECES_MAX))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		r[i] = prr_rule_alloc(spec, i);
		if (!r[i])
			goto free;
	}

	mutex_lock(&pn->lock);
	t = prr_target_table(pn, spec, extack);
	if (!t) {
		err = -ENOENT;
		goto unlock;
	}
	err = prr_spec_check(t, spec, extack);
	if (err)
		goto unlock;
	/* A staging table needs the hook only once it is committed. */
	err = spec->staged ? 0 : prr_net_attach_hook(pn);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot register the netfilter hook");
		goto unlock;
	}
	cpe_id = prr_next_cpe_id(pn);
	if (spec->name) {
		err = prr_name_add(pn, cpe_id, spec->name, n);
		if (err)
			goto unlock;
	}
	/* Before anything below can fail: the unwind puts the name per rule. */
	for (i = 0; i < n; i++) {
		r[i]->cpe_id = cpe_id;
		r[i]->named = !!spec->name;
	}
	counters = prr_spec_counters(pn, spec);
	for (i = 0; i < n; i++) {
		err = -ENOMEM;
		if (counters) {
			r[i]->counters =
				netdev_alloc_pcpu_stats(struct prr_counters);
			if (!r[i]->counters)
				goto unlock;
		}
		if (spec->action != PRR_ACTION_VIA)
			continue;
		r[i]->nh = prr_nexthop_get(pn, spec->via, spec->oif);
		if (!r[i]->nh)
			goto unlock;
	}
	for (i = 0; i < n; i++) {
		err = prr_table_insert(t, &r[i]->ent, &conflict);
		if (err) {
			/* Checked above: only -ENOMEM is left. */
			prr_rules_unlink(pn, t, r, i);
			goto unlock;
		}
	}
	if (!spec->staged) {
		pn->gen++;
		prr_ntf_begin(&ntf, pn);
		for (i = 0; i < n; i++)
			prr_ntf_rule(&ntf, PRR_CMD_NEW_ENTRY, 0, r[i]);
		prr_ntf_end(&ntf);
	}
	prr_net_unlock(pn);
	return 0;

unlock:
	for (i = 0; i < n; i++) {
		if (!r[i])
			continue;
		if (r[i]->nh)
			prr_nexthop_put(pn, r[i]->nh);
		prr_name_put(pn, r[i]);
	}
	prr_net_unlock(pn);
free:
	for (i = 0; i < n; i++)
		if (r[i])
			prr_rule_free(r[i]);
	return err;
}

/*
 * Removes the entries @keys of the live table, all or none: when one is
 * absent, *@missing is its index and nothing changes (-ENOENT).
 */
int prr_net_del_rules(struct prr_net *pn, const struct prr_entry *keys,
		      unsigned int n, unsigned int *missing)
{
	struct prr_entry *e;
	struct prr_ntf ntf;
	unsigned int i;
	int err = 0;

	mutex_lock(&pn->lock);
	for (i = 0; i < n; i++) {
		if (!prr_table_get(&pn->table, keys[i].addr, keys[i].value,
				   keys[i].mask)) {
			*missing = i;
			err = -ENOENT;
			goto unlock;
		}
	}
	prr_ntf_begin(&ntf, pn);
	for (i = 0; i < n; i++) {
		e = prr_table_remove(&pn->table, keys[i].addr, keys[i].value,
				     keys[i].mask);
		if (!e)
			continue;
		prr_ntf_rule(&ntf, PRR_CMD_DEL_ENTRY, 0, prr_rule_of(e));
		prr_rule_release(e, pn);
	}
	prr_ntf_end(&ntf);
	pn->gen++;
unlock:
	prr_net_unlock(pn);
	return err;
}

static bool prr_rule_named(struct prr_net *pn, const struct prr_entry *e,
			   const char *name, const __be32 *addr)
{
	const char *rname = prr_rule_name(pn, prr_rule_of(e));

	return rname && !strcmp(rname, name) && (!addr || e->addr == *addr);
}

/*
 * Removes every entry named @name (of the shared address @addr, if given)
 * from the live table: -ENOENT when there is none, -ENOMEM (nothing
 * removed) when the list of them cannot be made.
 */
int prr_net_del_name(struct prr_net *pn, const char *name,
		     const __be32 *addr)
{
	struct prr_cursor c = {};
	const struct prr_entry *e;
	struct prr_entry *keys, *x;
	struct prr_ntf ntf;
	unsigned int n = 0, i = 0;
	int err = -ENOENT;

	mutex_lock(&pn->lock);
	while ((e = prr_table_next(&pn->table, &c)))
		n += prr_rule_named(pn, e, name, addr);
	if (!n)
		goto unlock;
	/* The walk's positions do not survive removals: keys first. */
	keys = kvmalloc_array(n, sizeof(*keys), GFP_KERNEL);
	err = -ENOMEM;
	if (!keys)
		goto unlock;
	memset(&c, 0, sizeof(c));
	while (i < n && (e = prr_table_next(&pn->table, &c)))
		if (prr_rule_named(pn, e, name, addr))
			keys[i++] = *e;
	prr_ntf_begin(&ntf, pn);
	for (i = 0; i < n; i++) {
		x = prr_table_remove(&pn->table, keys[i].addr, keys[i].value,
				     keys[i].mask);
		if (x) {
			prr_ntf_rule(&ntf, PRR_CMD_DEL_ENTRY, 0,
				     prr_rule_of(x));
			prr_rule_release(x, pn);
		}
		cond_resched();
	}
	prr_ntf_end(&ntf);
	kvfree(keys);
	pn->gen++;
	err = 0;
unlock:
	prr_net_unlock(pn);
	return err;
}

struct prr_flush_arg {
	struct prr_net *pn;
	struct prr_ntf ntf;
};

/* As prr_rule_release(), notifying the removal first. */
static void prr_rule_release_ntf(struct prr_entry *e, void *arg)
{
	struct prr_flush_arg *fa = arg;

	prr_ntf_rule(&fa->ntf, PRR_CMD_DEL_ENTRY, 0, prr_rule_of(e));
	prr_rule_release(e, fa->pn);
}

/* Removes every rule of the namespace, or of the shared address @addr. */
void prr_net_flush(struct prr_net *pn, const __be32 *addr)
{
	struct prr_flush_arg fa = { .pn = pn };

	mutex_lock(&pn->lock);
	prr_ntf_begin(&fa.ntf, pn);
	if (addr)
		prr_table_flush_addr(&pn->table, *addr, prr_rule_release_ntf,
				     &fa);
	else
		prr_table_flush(&pn->table, prr_rule_release_ntf, &fa);
	pn->gen++;
	prr_ntf_end(&fa.ntf);
	prr_net_unlock(pn);
}

static void prr_net_read_config(const struct prr_net *pn,
				struct prr_config *c)
{
	c->source_check = pn->source_check;
	c->unowned = pn->unowned;
	c->entry_counters = pn->entry_counters;
}

/* Applies @c; a change of any setting is notified. */
static void prr_net_apply_config(struct prr_net *pn,
				 const struct prr_config *c,
				 struct prr_ntf *ntf)
{
	struct prr_config old, now;

	lockdep_assert_held(&pn->lock);
	prr_net_read_config(pn, &old);
	if (c->source_check >= 0)
		WRITE_ONCE(pn->source_check, !!c->source_check);
	if (c->unowned >= 0)
		WRITE_ONCE(pn->unowned, c->unowned);
	if (c->entry_counters >= 0)
		pn->entry_counters = c->entry_counters;
	prr_net_read_config(pn, &now);
	if (memcmp(&old, &now, sizeof(now)))
		prr_ntf_config(ntf, &now);
}

void prr_net_set_config(struct prr_net *pn, const struct prr_config *c)
{
	struct prr_ntf ntf;

	mutex_lock(&pn->lock);
	prr_ntf_begin(&ntf, pn);
	prr_net_apply_config(pn, c, &ntf);
	prr_ntf_end(&ntf);
	prr_net_unlock(pn);
}

void prr_net_get_config(struct prr_net *pn, struct prr_config *c)
{
	mutex_lock(&pn->lock);
	prr_net_read_config(pn, c);
	prr_net_unlock(pn);
}

/*
 * Replacing the table (PRR_CMD_REPLACE_*): the new table is built off-line
 * in a staging table with the same checks as live changes, then published
 * by prr_table_swap() in one pointer store.  See docs/decisions.md.
 */
int prr_net_replace_begin(struct prr_net *pn, u32 portid,
			  struct netlink_ext_ack *extack)
{
	struct prr_stage *st;
	int err = 0;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	st->head.lock = &pn->lock;
	prr_table_init(&st->head.table);
	st->portid = portid;
	st->config.source_check = -1;
	st->config.unowned = -1;
	st->config.entry_counters = -1;

	mutex_lock(&pn->lock);
	if (pn->stage) {
		NL_SET_ERR_MSG(extack,
			       "another replace of the table is in progress");
		err = -EBUSY;
	} else {
		pn->stage = st;
		WRITE_ONCE(pn->stage_owner, portid);
	}
	prr_net_unlock(pn);
	if (err)
		kfree(st);
	return err;
}

int prr_net_stage_config(struct prr_net *pn, u32 portid,
			 const struct prr_config *c,
			 struct netlink_ext_ack *extack)
{
	struct prr_stage *st;

	mutex_lock(&pn->lock);
	st = prr_stage_of(pn, portid, extack);
	if (st) {
		if (c->source_check >= 0)
			st->config.source_check = c->source_check;
		if (c->unowned >= 0)
			st->config.unowned = c->unowned;
		if (c->entry_counters >= 0)
			st->config.entry_counters = c->entry_counters;
	}
	prr_net_unlock(pn);
	return st ? 0 : -ENOENT;
}

/* Unlinks the staging table and frees its rules (never seen by packets). */
static void prr_stage_free(struct prr_net *pn)
{
	struct prr_stage *st = pn->stage;

	lockdep_assert_held(&pn->lock);
	pn->stage = NULL;
	WRITE_ONCE(pn->stage_owner, 0);
	prr_table_flush(&st->head.table, prr_rule_release, pn);
	/* The flush freed the index after a grace period; st is ours. */
	kfree(st);
}

/*
 * The counters of a staged rule identical to a live one (same key, action
 * and next hop) start from the live rule's: a replace that keeps an entry
 * keeps its history.  Packets counted between this read and the swap are
 * lost to the count (not to forwarding).
 */
static void prr_stage_carry_counters(struct prr_net *pn, struct prr_stage *st)
{
	struct prr_cursor c = {};
	const struct prr_entry *e, *old;
	struct prr_rule *nr, *or;
	struct prr_counters *cnt;
	u64 packets, bytes;

	if (!pn->table.nentries)
		return;
	while ((e = prr_table_next(&st->head.table, &c))) {
		cond_resched();
		old = prr_table_get(&pn->table, e->addr, e->value, e->mask);
		if (!old)
			continue;
		nr = prr_rule_of(e);
		or = prr_rule_of(old);
		if (nr->action != or->action || nr->nh != or->nh ||
		    !nr->counters || !prr_rule_read_counters(or, &packets, &bytes))
			continue;
		cnt = per_cpu_ptr(nr->counters, raw_smp_processor_id());
		u64_stats_update_begin(&cnt->syncp);
		u64_stats_add(&cnt->packets, packets);
		u64_stats_add(&cnt->bytes, bytes);
		u64_stats_update_end(&cnt->syncp);
	}
}

static bool prr_rule_same(const struct prr_rule *a, const struct prr_rule *b)
{
	return a->action == b->action && a->nh == b->nh;
}

/*
 * The differences between the table replaced, @old, and the live one, @new,
 * entry by entry: the removed entries first (with their final counters),
 * then those replaced or added, so that applying the notifications in order
 * never meets a partial overlap.
 */
static void prr_stage_notify(const struct prr_table *old,
			     const struct prr_table *new, struct prr_ntf *ntf)
{
	const struct prr_entry *e, *o;
	struct prr_cursor c = {};

	if (!ntf->listening)
		return;
	while ((e = prr_table_next(old, &c))) {
		if (!prr_table_get(new, e->addr, e->value, e->mask))
			prr_ntf_rule(ntf, PRR_CMD_DEL_ENTRY, 0, prr_rule_of(e));
		cond_resched();
	}
	memset(&c, 0, sizeof(c));
	while ((e = prr_table_next(new, &c))) {
		o = prr_table_get(old, e->addr, e->value, e->mask);
		if (!o)
			prr_ntf_rule(ntf, PRR_CMD_NEW_ENTRY, 0, prr_rule_of(e));
		else if (!prr_rule_same(prr_rule_of(e), prr_rule_of(o)))
			prr_ntf_rule(ntf, PRR_CMD_NEW_ENTRY, NLM_F_REPLACE,
				     prr_rule_of(e));
		cond_resched();
	}
}

int prr_net_replace_commit(struct prr_net *pn, u32 portid,
			   struct netlink_ext_ack *extack)
{
	struct prr_stage *st;
	struct prr_ntf ntf;
	int err = -ENOENT;

	mutex_lock(&pn->lock);
	st = prr_stage_of(pn, portid, extack);
	if (!st)
		goto unlock;
	if (st->head.table.nentries) {
		err = prr_net_attach_hook(pn);
		if (err) {
			NL_SET_ERR_MSG(extack,
				       "cannot register the netfilter hook");
			goto unlock;
		}
	}
	prr_stage_carry_counters(pn, st);
	/* From here on packets see the new table; the old one is in st. */
	prr_table_swap(&pn->table, &st->head.table);
	prr_ntf_begin(&ntf, pn);
	prr_stage_notify(&st->head.table, &pn->table, &ntf);
	prr_net_apply_config(pn, &st->config, &ntf);
	pn->gen++;
	/* The old rules: freed after a grace period, like any removal. */
	prr_stage_free(pn);
	prr_ntf_end(&ntf);
	err = 0;
unlock:
	prr_net_unlock(pn);
	return err;
}

int prr_net_replace_abort(struct prr_net *pn, u32 portid,
			  struct netlink_ext_ack *extack)
{
	int err = -ENOENT;

	mutex_lock(&pn->lock);
	if (prr_stage_of(pn, portid, extack)) {
		prr_stage_free(pn);
		err = 0;
	}
	prr_net_unlock(pn);
	return err;
}

/* A netlink socket of @net closed: drop the staging table it owned. */
void prr_net_release_portid(struct net *net, u32 portid)
{
	struct prr_net *pn = prr_net(net);

	/* Pairs with the smp_store_release() in prr_net_init(). */
	if (!smp_load_acquire(&pn->ready))
		return;
	/* Cheap test first: every netlink socket of the system comes here. */
	if (!portid || READ_ONCE(pn->stage_owner) != portid)
		return;
	mutex_lock(&pn->lock);
	if (pn->stage && pn->stage->portid == portid)
		prr_stage_free(pn);
	prr_net_unlock(pn);
}

static int __net_init prr_net_init(struct net *net)
{
	struct prr_net *pn = prr_net(net);

	int err;

	pn->stats = netdev_alloc_pcpu_stats(struct prr_stats);
	if (!pn->stats)
		return -ENOMEM;
	err = prr_nexthop_index_init(pn);
	if (err) {
		free_percpu(pn->stats);
		return err;
	}
	mutex_init(&pn->lock);
	pn->table_lock = &pn->lock;
	prr_table_init(&pn->table);
	INIT_LIST_HEAD(&pn->nexthops);
	pn->net = net;
	prr_nat_init(pn);
	/* RFC 7597 §8.1: validation is what a MAP node does by default. */
	pn->source_check = true;
	pn->unowned = PRR_UNOWNED_DROP;
	pn->entry_counters = true;
	xa_init(&pn->names);
	prr_reclaim_init(&pn->reclaim, prr_rule_free);
	prr_hook_ops_init(pn->hook_ops, pn);
	/* The netdevice notifier may look at this namespace from now on. */
	smp_store_release(&pn->ready, true);
	return 0;
}

static void __net_exit prr_net_exit(struct net *net)
{
	struct prr_net *pn = prr_net(net);

	/* Waits for packets in flight in the hook (synchronize_net()). */
	if (pn->hooked) {
		nf_unregister_net_hooks(net, pn->hook_ops,
					ARRAY_SIZE(pn->hook_ops));
		nf_defrag_ipv4_disable(net);
	}
	mutex_lock(&pn->lock);
	if (pn->stage)
		prr_stage_free(pn);
	prr_nat_exit(pn);
	prr_table_flush(&pn->table, prr_rule_release, pn);
	prr_net_unlock(pn);
	/* Every name went with its last rule. */
	WARN_ON_ONCE(!xa_empty(&pn->names));
	xa_destroy(&pn->names);
	prr_nexthop_index_destroy(pn);
	free_percpu(pn->stats);
}

static struct pernet_operations prr_net_ops = {
	.init = prr_net_init,
	.exit = prr_net_exit,
	.id = &prr_net_id,
	.size = sizeof(struct prr_net),
};

/*
 * Device-level pernet operations exit before the namespace's devices are
 * unregistered, so a dying namespace drops its cached routes (and their
 * device references) first and never makes device teardown wait for us.
 */
int prr_netns_init(void)
{
	int err;

	prr_rule_cache = KMEM_CACHE(prr_rule, 0);
	if (!prr_rule_cache)
		return -ENOMEM;
	err = register_pernet_device(&prr_net_ops);
	if (err)
		kmem_cache_destroy(prr_rule_cache);
	return err;
}

void prr_netns_exit(void)
{
	unregister_pernet_device(&prr_net_ops);
	/* The namespaces' last rules are in RCU callbacks. */
	rcu_barrier();
	kmem_cache_destroy(prr_rule_cache);
}
