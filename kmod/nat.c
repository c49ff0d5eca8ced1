// SPDX-License-Identifier: GPL-2.0
/*
 * The CPE role: port-set source NAT.
 *
 * A CPE that shares its public address may only use the ports of its own
 * set (RFC 6346 §3.1, RFC 7597 §5.1).  Its set is what its table says it
 * owns: the entries of the shared address whose action is local.  A NAT rule
 * maps new connections from a LAN prefix to the shared address and a source
 * port (ICMP Identifier for queries) drawn uniformly at random from that set
 * (RFC 6056 spirit), free for the connection's tuple, never outside it.
 *
 * The rule is a lookup function of nf_nat (nf_nat_ipv4_register_fn(), the
 * way nftables' nat chains plug in): nf_nat calls it for the first packet of
 * a connection in POST_ROUTING, it sets up the binding with
 * nf_nat_setup_info(), and conntrack/nf_nat then translate every packet of
 * the connection, the replies and the ICMP errors about it.  When the set
 * has no free port for the tuple, the connection is dropped and counted;
 * the choice is bounded (portalloc.c), so a full set costs a bounded number
 * of conntrack lookups, never a soft lockup.
 *
 * A packet nf_nat does not translate (no conntrack entry because conntrack
 * found it invalid, a connection older than the rule, a protocol conntrack
 * does not track) would leave with its LAN source: a guard hook after source
 * NAT drops it instead, and counts it.
 */

#include <linux/inetdevice.h>
#include <linux/netfilter_ipv4.h>
#include <linux/slab.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_nat.h>

#include "nat.h"
#include "netns.h"
#include "portalloc.h"

/* Pieces of a set considered; a MAP set with 6 offset bits has 63. */
#define PRR_NAT_MAX_PIECES	64

struct prr_nat_pick {
	struct prr_addr_ref a;
	struct nf_conntrack_tuple tuple;	/* the translated original */
	const struct nf_conn *ct;
	struct prr_piece piece[PRR_NAT_MAX_PIECES];
	u32 npieces;
};

static bool prr_rule_is_local(const struct prr_entry *e)
{
	return e && prr_rule_of(e)->action == PRR_ACTION_LOCAL;
}

static bool prr_nat_collect(const struct prr_entry *e, void *arg)
{
	struct prr_nat_pick *p = arg;

	if (!prr_rule_is_local(e))
		return true;
	p->piece[p->npieces].value = e->value;
	p->piece[p->npieces].mask = e->mask;
	return ++p->npieces < PRR_NAT_MAX_PIECES;
}

/*
 * A candidate port is ours if the most specific entry owning it is local
 * (a nested entry may give part of a local set to someone else), and free
 * if no connection uses the translated tuple's reply yet.
 */
static bool prr_nat_port_ok(u16 port, u32 piece, void *arg)
{
	struct prr_nat_pick *p = arg;
	struct nf_conntrack_tuple reply;

	if (!port || !prr_rule_is_local(prr_addr_match(&p->a, port)))
		return false;
	p->tuple.src.u.all = htons(port);
	nf_ct_invert_tuple(&reply, &p->tuple);
	return !nf_conntrack_tuple_taken(&reply, p->ct);
}

/* The protocols whose source port (or Identifier) NAT can choose. */
static bool prr_nat_has_port(const struct nf_conntrack_tuple *t)
{
	switch (t->dst.protonum) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		return true;
	case IPPROTO_ICMP:
		/* conntrack tracks queries only: echo, timestamp, info, mask */
		return true;
	default:
		return false;
	}
}

static unsigned int prr_nat_map(struct prr_net *pn, const struct prr_nat *nat,
				struct nf_conn *ct)
{
	struct nf_nat_range2 range = {
		.flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED,
		.min_addr.ip = nat->addr,
		.max_addr.ip = nat->addr,
	};
	struct prr_nat_pick p = {
		.ct = ct,
		.tuple = ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple,
	};
	unsigned int verdict;
	u16 port;

	if (!prr_nat_has_port(&p.tuple))
		return prr_drop(pn, PRR_STATS_A_DROP_NAT_NO_PORT);
	p.tuple.src.u3.ip = nat->addr;
	if (prr_table_find(&pn->table, nat->addr, &p.a))
		prr_addr_walk(&p.a, prr_nat_collect, &p);
	if (!p.npieces ||
	    prr_port_pick(p.piece, p.npieces, prr_nat_port_ok, &p, &port))
		return prr_drop(pn, PRR_STATS_A_DROP_NAT_EXHAUSTED);
	range.min_proto.all = htons(port);
	range.max_proto.all = htons(port);
	verdict = nf_nat_setup_info(ct, &range, NF_NAT_MANIP_SRC);
	if (verdict == NF_ACCEPT)
		prr_count(pn, PRR_STATS_A_NAT_MAPPED);
	return verdict;
}

static bool prr_nat_matches(const struct prr_nat *nat, __be32 saddr,
			    const struct net_device *out)
{
	if (nat->oif && (!out || out->ifindex != nat->oif))
		return false;
	return !((saddr ^ nat->prefix) & inet_make_mask(nat->plen));
}

/* nf_nat's lookup function, for connections not yet source-translated. */
static unsigned int prr_nat_lookup(void *priv, struct sk_buff *skb,
				   const struct nf_hook_state *state)
{
	const struct prr_nat *nat, *best = NULL;
	struct prr_net *pn = priv;
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct;
	__be32 saddr;

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct || ctinfo != IP_CT_NEW)
		return NF_ACCEPT;
	saddr = ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple.src.u3.ip;
	list_for_each_entry_rcu(nat, &pn->nats, list) {
		if (prr_nat_matches(nat, saddr, state->out) &&
		    (!best || nat->plen > best->plen))
			best = nat;
	}
	if (!best)
		return NF_ACCEPT;
	return prr_nat_map(pn, best, ct);
}

/* After source NAT: a source still in a NAT prefix was not translated. */
static unsigned int prr_nat_guard(void *priv, struct sk_buff *skb,
				  const struct nf_hook_state *state)
{
	const __be32 saddr = ip_hdr(skb)->saddr;
	struct prr_net *pn = priv;
	const struct prr_nat *nat;

	list_for_each_entry_rcu(nat, &pn->nats, list) {
		if (prr_nat_matches(nat, saddr, state->out))
			return prr_drop(pn, PRR_STATS_A_DROP_NAT_UNTRANSLATED);
	}
	return NF_ACCEPT;
}

static int prr_nat_attach(struct prr_net *pn)
{
	int err;

	if (pn->nat_hooked)
		return 0;
	err = nf_ct_netns_get(pn->net, NFPROTO_IPV4);
	if (err)
		return err;
	err = nf_nat_ipv4_register_fn(pn->net, &pn->nat_ops);
	if (err)
		goto put;
	err = nf_register_net_hook(pn->net, &pn->nat_guard_ops);
	if (err)
		goto unregister;
	pn->nat_hooked = true;
	return 0;

unregister:
	nf_nat_ipv4_unregister_fn(pn->net, &pn->nat_ops);
put:
	nf_ct_netns_put(pn->net, NFPROTO_IPV4);
	return err;
}

int prr_nat_add(struct prr_net *pn, const struct prr_nat *spec,
		struct netlink_ext_ack *extack)
{
	struct prr_nat *nat, *new;
	int err;

	new = kmemdup(spec, sizeof(*spec), GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	new->prefix &= inet_make_mask(new->plen);
	mutex_lock(&pn->lock);
	list_for_each_entry(nat, &pn->nats, list) {
		if (nat->prefix == new->prefix && nat->plen == new->plen) {
			NL_SET_ERR_MSG(extack, "NAT rule already exists");
			err = -EEXIST;
			goto unlock;
		}
	}
	err = prr_nat_attach(pn);
	if (err) {
		NL_SET_ERR_MSG(extack, "cannot register with nf_nat");
		goto unlock;
	}
	list_add_tail_rcu(&new->list, &pn->nats);
	pn->gen++;
	mutex_unlock(&pn->lock);
	return 0;

unlock:
	mutex_unlock(&pn->lock);
	kfree(new);
	return err;
}

int prr_nat_del(struct prr_net *pn, __be32 prefix, u8 plen)
{
	struct prr_nat *nat;
	int err = -ENOENT;

	prefix &= inet_make_mask(plen);
	mutex_lock(&pn->lock);
	list_for_each_entry(nat, &pn->nats, list) {
		if (nat->prefix == prefix && nat->plen == plen) {
			list_del_rcu(&nat->list);
			kfree_rcu(nat, rcu);
			pn->gen++;
			err = 0;
			break;
		}
	}
	mutex_unlock(&pn->lock);
	return err;
}

void prr_nat_init(struct prr_net *pn)
{
	INIT_LIST_HEAD(&pn->nats);
	pn->nat_ops.hook = prr_nat_lookup;
	pn->nat_ops.pf = NFPROTO_IPV4;
	pn->nat_ops.hooknum = NF_INET_POST_ROUTING;
	pn->nat_ops.priority = NF_IP_PRI_NAT_SRC;
	pn->nat_ops.priv = pn;
	pn->nat_guard_ops = pn->nat_ops;
	pn->nat_guard_ops.hook = prr_nat_guard;
	pn->nat_guard_ops.priority = NF_IP_PRI_NAT_SRC + 1;
}

void prr_nat_exit(struct prr_net *pn)
{
	struct prr_nat *nat, *tmp;

	if (pn->nat_hooked) {
		nf_unregister_net_hook(pn->net, &pn->nat_guard_ops);
		nf_nat_ipv4_unregister_fn(pn->net, &pn->nat_ops);
		nf_ct_netns_put(pn->net, NFPROTO_IPV4);
	}
	list_for_each_entry_safe(nat, tmp, &pn->nats, list) {
		list_del_rcu(&nat->list);
		kfree_rcu(nat, rcu);
	}
}
