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

unsigned int prr_net_id __read_mostly;

bool prr_table_writer_held(const struct prr_table *t)
{
#ifdef CONFIG_LOCKDEP
	return lockdep_is_held(&container_of(t, struct prr_net, table)->lock);
#else
	return true;
#endif
}

void prr_rule_read_counters(const struct prr_rule *r, u64 *packets,
			    u64 *bytes)
{
	const struct prr_counters *c;
	unsigned int start;
	u64 p, b;
	int cpu;

	*packets = 0;
	*bytes = 0;
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

static void prr_rule_free_rcu(struct rcu_head *head)
{
	struct prr_rule *r = container_of(head, struct prr_rule, rcu);

	free_percpu(r->counters);
	kfree(r);
}

/* For an unlinked rule: readers may still hold it, so free it later. */
static void prr_rule_release(struct prr_entry *e, void *arg)
{
	struct prr_rule *r = prr_rule_of(e);
	struct prr_net *pn = arg;

	if (r->nh)
		prr_nexthop_put(pn, r->nh);
	call_rcu(&r->rcu, prr_rule_free_rcu);
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

int prr_net_add_rule(struct prr_net *pn, const struct prr_rule_spec *spec,
		     struct netlink_ext_ack *extack)
{
	const struct prr_entry *conflict = NULL;
	struct prr_rule *r;
	int err;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->counters = netdev_alloc_pcpu_stats(struct prr_counters);
	if (!r->counters) {
		kfree(r);
		return -ENOMEM;
	}
	r->ent = spec->ent;
	r->action = spec->action;

	mutex_lock(&pn->lock);
	err = prr_net_attach_hook(pn);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot register the netfilter hook");
		goto unlock;
	}
	if (spec->action == PRR_ACTION_VIA) {
		r->nh = prr_nexthop_get(pn, spec->via, spec->oif);
		if (!r->nh) {
			err = -ENOMEM;
			goto unlock;
		}
	}
	err = prr_table_insert(&pn->table, &r->ent, &conflict);
	if (err == -EEXIST) {
		NL_SET_ERR_MSG(extack, "entry already exists");
	} else if (err == -EBUSY) {
		NL_SET_ERR_MSG(extack,
			       "port set partially overlaps an existing entry");
		prr_set_conflict(extack, conflict);
		err = -EEXIST;
	}
	if (err)
		goto unlock;
	pn->gen++;
	mutex_unlock(&pn->lock);
	return 0;

unlock:
	if (r->nh)
		prr_nexthop_put(pn, r->nh);
	mutex_unlock(&pn->lock);
	free_percpu(r->counters);
	kfree(r);
	return err;
}

int prr_net_del_rule(struct prr_net *pn, const struct prr_entry *key)
{
	struct prr_entry *e;

	mutex_lock(&pn->lock);
	e = prr_table_remove(&pn->table, key->addr, key->value, key->mask);
	if (e) {
		prr_rule_release(e, pn);
		pn->gen++;
	}
	mutex_unlock(&pn->lock);
	return e ? 0 : -ENOENT;
}

/* Removes every rule of the namespace, or of the shared address @addr. */
void prr_net_flush(struct prr_net *pn, const __be32 *addr)
{
	mutex_lock(&pn->lock);
	if (addr)
		prr_table_flush_addr(&pn->table, *addr, prr_rule_release, pn);
	else
		prr_table_flush(&pn->table, prr_rule_release, pn);
	pn->gen++;
	mutex_unlock(&pn->lock);
}

void prr_net_set_config(struct prr_net *pn, const struct prr_config *c)
{
	mutex_lock(&pn->lock);
	if (c->source_check >= 0)
		WRITE_ONCE(pn->source_check, !!c->source_check);
	if (c->unowned >= 0)
		WRITE_ONCE(pn->unowned, c->unowned);
	mutex_unlock(&pn->lock);
}

void prr_net_get_config(struct prr_net *pn, struct prr_config *c)
{
	mutex_lock(&pn->lock);
	c->source_check = pn->source_check;
	c->unowned = pn->unowned;
	mutex_unlock(&pn->lock);
}

static int __net_init prr_net_init(struct net *net)
{
	struct prr_net *pn = prr_net(net);

	pn->stats = netdev_alloc_pcpu_stats(struct prr_stats);
	if (!pn->stats)
		return -ENOMEM;
	mutex_init(&pn->lock);
	prr_table_init(&pn->table);
	INIT_LIST_HEAD(&pn->nexthops);
	pn->net = net;
	prr_nat_init(pn);
	/* RFC 7597 §8.1: validation is what a MAP node does by default. */
	pn->source_check = true;
	pn->unowned = PRR_UNOWNED_DROP;
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
	prr_nat_exit(pn);
	prr_table_flush(&pn->table, prr_rule_release, pn);
	mutex_unlock(&pn->lock);
	WARN_ON_ONCE(!list_empty(&pn->nexthops));
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
	return register_pernet_device(&prr_net_ops);
}

void prr_netns_exit(void)
{
	unregister_pernet_device(&prr_net_ops);
}
