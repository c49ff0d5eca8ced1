// SPDX-License-Identifier: GPL-2.0
/*
 * Forwarding to a CPE next hop.
 *
 * The packet keeps its destination (the shared address, which several CPEs
 * hold, so it must never be resolved by ARP); it only needs a route whose
 * link-layer next hop is the CPE's gateway.  Each next hop caches such a
 * route: a clone of the kernel's own forwarding route towards the gateway
 * (so dst.input is ip_forward, which is not exported), placed on the next
 * hop's device, with rt_gw4 set to the gateway.  Attaching it to the skb in
 * PRE_ROUTING makes the stack forward the packet like any other: TTL
 * decrement, ICMP time exceeded, fragmentation-needed against the egress MTU,
 * the FORWARD and POST_ROUTING hooks, ARP for the gateway only.
 *
 * Fast path: one pointer load, dst_check() and skb_dst_set_noref(): no
 * allocation, no reference count, no FIB lookup.  The cached route carries
 * the namespace's route generation, so any route, address, link or MTU change
 * makes dst_check() fail and the next packet rebuilds it.  The kernel cannot
 * see this route when a device goes away (rt_add_uncached_list() is not
 * exported), so a netdevice notifier drops cached routes on
 * NETDEV_UNREGISTER; otherwise unregister_netdevice would wait forever.
 */

#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/inetdevice.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/slab.h>
#include <net/icmp.h>
#include <net/ip.h>
#include <net/ip_fib.h>
#include <net/arp.h>

#include "netns.h"
#include "nexthop.h"

enum prr_nh_state {
	PRR_NH_CONNECTED,
	PRR_NH_LOCAL,
	PRR_NH_NOT_CONNECTED,
};

/*
 * Where the FIB puts @gw, looked up on @oif when non-zero; *@oif becomes the
 * device of a directly connected gateway.  Called under RCU.
 */
static enum prr_nh_state prr_nexthop_lookup(struct net *net, __be32 gw,
					    int *oif)
{
	struct flowi4 fl4 = { .daddr = gw, .flowi4_oif = *oif };
	struct fib_nh_common *nhc;
	struct fib_result res;

	if (fib_lookup(net, &fl4, &res, 0))
		return PRR_NH_NOT_CONNECTED;
	if (res.type == RTN_LOCAL)
		return PRR_NH_LOCAL;
	nhc = FIB_RES_NHC(res);
	if (res.type != RTN_UNICAST || !nhc || !nhc->nhc_dev ||
	    nhc->nhc_gw_family)
		return PRR_NH_NOT_CONNECTED;
	*oif = nhc->nhc_dev->ifindex;
	return PRR_NH_CONNECTED;
}

/*
 * Control path: checks that @gw is a directly connected gateway, on device
 * @oif when non-zero.
 */
int prr_nexthop_validate(struct net *net, __be32 gw, int oif,
			 struct netlink_ext_ack *extack)
{
	enum prr_nh_state state;
	int found = oif;

	if (!prr_ipv4_unicast(gw)) {
		NL_SET_ERR_MSG(extack, "next hop must be a unicast address");
		return -EINVAL;
	}
	rcu_read_lock();
	if (oif && !dev_get_by_index_rcu(net, oif)) {
		rcu_read_unlock();
		NL_SET_ERR_MSG(extack, "no such device");
		return -ENODEV;
	}
	state = prr_nexthop_lookup(net, gw, &found);
	rcu_read_unlock();

	switch (state) {
	case PRR_NH_CONNECTED:
		return 0;
	case PRR_NH_LOCAL:
		NL_SET_ERR_MSG(extack, "next hop is a local address");
		return -EINVAL;
	default:
		if (oif)
			NL_SET_ERR_MSG(extack,
				       "next hop is not reachable through that device");
		else
			NL_SET_ERR_MSG(extack,
				       "next hop is not directly connected");
		return -ENETUNREACH;
	}
}

/*
 * Next hops shared by many entries are found by (gw, oif) in a hash: with a
 * million CPEs, each its own gateway, a list walk per added entry would make
 * loading a table quadratic.  Only writers use it, under prr_net.lock.
 */
struct prr_nexthop_key {
	__be32 gw;
	int oif;
};

static const struct rhashtable_params prr_nh_params = {
	.head_offset = offsetof(struct prr_nexthop, node),
	.key_offset = offsetof(struct prr_nexthop, gw),
	.key_len = sizeof(struct prr_nexthop_key),
	.automatic_shrinking = true,
};

int prr_nexthop_index_init(struct prr_net *pn)
{
	/* The key is read from the next hop as one struct prr_nexthop_key. */
	BUILD_BUG_ON(offsetof(struct prr_nexthop, oif) -
		     offsetof(struct prr_nexthop, gw) !=
		     offsetof(struct prr_nexthop_key, oif));
	return rhashtable_init(&pn->nh_index, &prr_nh_params);
}

/* Every next hop is gone by now (each entry put its own). */
void prr_nexthop_index_destroy(struct prr_net *pn)
{
	WARN_ON_ONCE(!list_empty(&pn->nexthops));
	rhashtable_destroy(&pn->nh_index);
}

struct prr_nexthop *prr_nexthop_get(struct prr_net *pn, __be32 gw, int oif)
{
	struct prr_nexthop_key key = { .gw = gw, .oif = oif };
	struct prr_nexthop *nh;

	lockdep_assert_held(&pn->lock);
	nh = rhashtable_lookup_fast(&pn->nh_index, &key, prr_nh_params);
	if (nh) {
		nh->users++;
		return nh;
	}
	nh = kzalloc(sizeof(*nh), GFP_KERNEL);
	if (!nh)
		return NULL;
	nh->gw = gw;
	nh->oif = oif;
	nh->users = 1;
	if (rhashtable_insert_fast(&pn->nh_index, &nh->node, prr_nh_params)) {
		kfree(nh);
		return NULL;
	}
	list_add_rcu(&nh->list, &pn->nexthops);
	return nh;
}

static void prr_nexthop_free_rcu(struct rcu_head *head)
{
	struct prr_nexthop *nh = container_of(head, struct prr_nexthop, rcu);
	struct rtable *rt = rcu_dereference_protected(nh->rt, 1);

	if (rt)
		dst_release(&rt->dst);
	kfree(nh);
}

void prr_nexthop_put(struct prr_net *pn, struct prr_nexthop *nh)
{
	lockdep_assert_held(&pn->lock);
	if (--nh->users)
		return;
	rhashtable_remove_fast(&pn->nh_index, &nh->node, prr_nh_params);
	list_del_rcu(&nh->list);
	call_rcu(&nh->rcu, prr_nexthop_free_rcu);
}

static void prr_attach_route(struct sk_buff *skb, struct rtable *rt)
{
	skb_dst_drop(skb);
	skb_dst_set_noref(skb, &rt->dst);
	/*
	 * The route depends on the port, not only on the destination: keep
	 * ip_list_rcv_finish() from reusing it as a hint for the next packet
	 * to this address.  No redirects: the CPE is the right next hop.
	 */
	IPCB(skb)->flags |= IPSKB_MULTIPATH;
	IPCB(skb)->flags &= ~IPSKB_DOREDIRECT;
}

static unsigned int prr_forwarded(struct prr_net *pn, struct sk_buff *skb,
				  struct rtable *rt)
{
	prr_attach_route(skb, rt);
	prr_count(pn, PRR_STATS_A_FORWARDED);
	return NF_ACCEPT;
}

/* Drops @nh's cached route if it is @rt; the caller holds RCU. */
static void prr_nexthop_drop_route(struct prr_nexthop *nh, struct rtable *rt)
{
	if (unrcu_pointer(cmpxchg(&nh->rt, RCU_INITIALIZER(rt), NULL)) != rt)
		return;
	dst_dev_put(&rt->dst);
	dst_release(&rt->dst);
}

static unsigned int prr_nexthop_unreachable(struct prr_net *pn,
					    struct sk_buff *skb, bool icmp)
{
	/* icmp_send() needs the route the lookup left on the skb. */
	if (icmp && skb_rtable(skb))
		icmp_send(skb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
	prr_count(pn, PRR_STATS_A_DROP_UNREACHABLE);
	return NF_DROP;
}

/*
 * Slow path: builds, caches and attaches the route to @nh for @skb.  The
 * kernel's own input lookup towards the gateway runs on the real packet, so
 * its checks apply (forwarding enabled on the ingress device, martian and
 * reverse-path source checks) and an error route it returns is left on the
 * skb for ip_error() to answer with the right ICMP unreachable.
 */
static unsigned int prr_nexthop_refresh(struct prr_net *pn,
					struct prr_nexthop *nh,
					struct sk_buff *skb)
{
	const struct iphdr *iph = ip_hdr(skb);
	struct rtable *tmpl, *rt, *old;
	struct net_device *dev;
	int oif = nh->oif;

	skb_dst_drop(skb);
	if (prr_route_input(skb, nh->gw, iph->saddr, iph->tos, skb->dev))
		return prr_nexthop_unreachable(pn, skb, false);
	tmpl = skb_rtable(skb);
	if (tmpl->dst.error) {
		IPCB(skb)->flags |= IPSKB_MULTIPATH;
		prr_count(pn, PRR_STATS_A_DROP_UNREACHABLE);
		return NF_ACCEPT;
	}
	/*
	 * A local or gatewayed route to the gateway would send the packet
	 * back towards the Internet, or into this host's own stack.
	 */
	if (tmpl->rt_type != RTN_UNICAST)
		return prr_nexthop_unreachable(pn, skb, false);
	if (prr_nexthop_lookup(pn->net, nh->gw, &oif) != PRR_NH_CONNECTED)
		return prr_nexthop_unreachable(pn, skb, true);
	dev = dev_get_by_index_rcu(pn->net, oif);
	if (!dev)
		return prr_nexthop_unreachable(pn, skb, true);

	rt = rt_dst_clone(dev, tmpl);
	if (!rt)
		return prr_nexthop_unreachable(pn, skb, false);
	rt->rt_gw_family = AF_INET;
	rt->rt_gw4 = nh->gw;
	rt->rt_uses_gateway = 1;
	rt->rt_iif = 0;
	rt->rt_pmtu = 0;
	rt->rt_mtu_locked = 0;
	rt->rt_flags &= ~RTCF_DOREDIRECT;

	old = unrcu_pointer(xchg(&nh->rt, RCU_INITIALIZER(rt)));
	if (old)
		dst_release(&old->dst);
	/*
	 * The notifier may have run for @dev between the lookup and the
	 * publication: never let a route escape it (xchg() is a full barrier).
	 */
	if (READ_ONCE(dev->reg_state) != NETREG_REGISTERED) {
		prr_nexthop_drop_route(nh, rt);
		return prr_nexthop_unreachable(pn, skb, false);
	}
	return prr_forwarded(pn, skb, rt);
}

/* Routes @skb to @nh and counts the outcome; returns the hook's verdict. */
unsigned int prr_nexthop_forward(struct prr_net *pn, struct prr_nexthop *nh,
				 struct sk_buff *skb)
{
	struct rtable *rt = rcu_dereference(nh->rt);
	struct in_device *in_dev = __in_dev_get_rcu(skb->dev);

	if (unlikely(!rt || !dst_check(&rt->dst, 0) || !in_dev ||
		     !IN_DEV_FORWARD(in_dev)))
		return prr_nexthop_refresh(pn, nh, skb);
	return prr_forwarded(pn, skb, rt);
}

/*
 * The host's own packet to a CPE (LOCAL_OUT): its route was looked up for
 * the shared address; replace it with one to the CPE's gateway.  Rare (ICMP
 * errors about a CPE's packets, pings from the PRR), so built per packet from
 * the output route towards the gateway rather than cached: the cached route
 * is a forwarding one.
 */
unsigned int prr_nexthop_output(struct prr_net *pn, struct prr_nexthop *nh,
				struct sk_buff *skb)
{
	struct flowi4 fl4 = { .daddr = nh->gw, .flowi4_oif = nh->oif };
	struct rtable *tmpl, *rt;

	tmpl = ip_route_output_key(pn->net, &fl4);
	if (IS_ERR(tmpl))
		goto unreachable;
	if (tmpl->rt_type != RTN_UNICAST || tmpl->rt_uses_gateway) {
		ip_rt_put(tmpl);
		goto unreachable;
	}
	rt = rt_dst_clone(tmpl->dst.dev, tmpl);
	ip_rt_put(tmpl);
	if (!rt)
		goto unreachable;
	rt->rt_gw_family = AF_INET;
	rt->rt_gw4 = nh->gw;
	rt->rt_uses_gateway = 1;
	skb_dst_drop(skb);
	skb_dst_set(skb, &rt->dst);
	prr_count(pn, PRR_STATS_A_FORWARDED);
	return NF_ACCEPT;

unreachable:
	prr_count(pn, PRR_STATS_A_DROP_UNREACHABLE);
	return NF_DROP;
}

/* The device the packets to @nh leave by, or 0 when it has none. */
static int prr_nexthop_dev(struct prr_net *pn, struct prr_nexthop *nh)
{
	struct rtable *rt = rcu_dereference(nh->rt);
	int oif = nh->oif;

	if (oif)
		return oif;
	if (rt && dst_check(&rt->dst, 0))
		return rt->dst.dev->ifindex;
	if (prr_nexthop_lookup(pn->net, nh->gw, &oif) != PRR_NH_CONNECTED)
		return 0;
	return oif;
}

/*
 * True when the neighbour entry of @gw on @dev holds link-layer address
 * @ha.  Without one, resolution starts (as for output) and the packet is not
 * vouched for: the next ones will be.
 */
static bool prr_neigh_is(struct net_device *dev, __be32 gw, const u8 *ha)
{
	struct neighbour *n;
	unsigned int seq;
	bool same;

	n = __ipv4_neigh_lookup_noref(dev, (__force u32)gw);
	if (unlikely(!n || !(READ_ONCE(n->nud_state) & NUD_VALID))) {
		n = n ?: __neigh_create(&arp_tbl, &gw, dev, false);
		if (!IS_ERR(n))
			neigh_event_send(n, NULL);
		return false;
	}
	do {
		seq = read_seqbegin(&n->ha_lock);
		same = ether_addr_equal(n->ha, ha);
	} while (read_seqretry(&n->ha_lock, seq));
	return same;
}

/*
 * Source validation: did @skb come from @nh?  RFC 7597 §8.1 identifies a CPE
 * by its IPv6 source; natively routed, it is the ingress device and, on an
 * Ethernet segment several CPEs may share, the frame's source address.
 */
bool prr_nexthop_is_source(struct prr_net *pn, struct prr_nexthop *nh,
			   struct sk_buff *skb)
{
	struct net_device *dev = skb->dev;

	if (!dev || dev->ifindex != prr_nexthop_dev(pn, nh))
		return false;
	if (dev->type != ARPHRD_ETHER || !skb_mac_header_was_set(skb) ||
	    skb_mac_header_len(skb) < ETH_HLEN)
		return true;
	return prr_neigh_is(dev, nh->gw, eth_hdr(skb)->h_source);
}

static int prr_netdev_event(struct notifier_block *nb, unsigned long event,
			    void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct prr_net *pn = prr_net(dev_net(dev));
	struct prr_nexthop *nh;
	struct rtable *rt;

	/* Pairs with the release in prr_net_init(): the list is set up. */
	if (event != NETDEV_UNREGISTER || !smp_load_acquire(&pn->ready))
		return NOTIFY_DONE;
	rcu_read_lock();
	list_for_each_entry_rcu(nh, &pn->nexthops, list) {
		rt = rcu_dereference(nh->rt);
		if (rt && rt->dst.dev == dev)
			prr_nexthop_drop_route(nh, rt);
	}
	rcu_read_unlock();
	return NOTIFY_DONE;
}

static struct notifier_block prr_netdev_notifier = {
	.notifier_call = prr_netdev_event,
};

int prr_nexthop_notifier_init(void)
{
	return register_netdevice_notifier(&prr_netdev_notifier);
}

void prr_nexthop_notifier_exit(void)
{
	unregister_netdevice_notifier(&prr_netdev_notifier);
}
