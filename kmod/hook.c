// SPDX-License-Identifier: GPL-2.0
/*
 * The data path: an NF_INET_PRE_ROUTING hook that routes every packet for a
 * shared address to the CPE owning its destination port (RFC 6346 §3.3.2).
 *
 * Priority: after defragmentation (-400), conntrack (-200), mangle (-150)
 * and destination NAT (-100), so the lookup sees reassembled datagrams and
 * their final destination; before the filter chains (0), which then see the
 * packet with its route.  Packets not addressed to a shared address pass
 * untouched at the cost of one lookup.  Every packet to a shared address
 * that is dropped is counted with its reason.
 */

#include <linux/ip.h>
#include <linux/netfilter_ipv4.h>
#include <linux/skbuff.h>

#include "classify.h"
#include "hook.h"
#include "netns.h"
#include "nexthop.h"

#define PRR_HOOK_PRIORITY	(NF_IP_PRI_NAT_DST + 10)

static unsigned int prr_drop(struct prr_net *pn, enum prr_stats_attr why)
{
	prr_count(pn, why);
	return NF_DROP;
}

static unsigned int prr_hook_ipv4(void *priv, struct sk_buff *skb,
				  const struct nf_hook_state *state)
{
	u8 buf[PRR_CLASSIFY_MAX];
	struct prr_net *pn = priv;
	const struct prr_entry *e;
	const struct prr_addr *a;
	const struct prr_rule *r;
	unsigned int avail;
	const u8 *pkt;
	u16 port;

	a = prr_table_find(&pn->table, ip_hdr(skb)->daddr);
	if (likely(!a))
		return NF_ACCEPT;

	avail = min_t(unsigned int, skb->len, sizeof(buf));
	pkt = skb_header_pointer(skb, skb_network_offset(skb), avail, buf);
	if (unlikely(!pkt))
		return prr_drop(pn, PRR_STATS_A_DROP_MALFORMED);
	switch (prr_classify(pkt, avail, skb->len, &port)) {
	case PRR_CLASS_PORT:
		break;
	case PRR_CLASS_NO_PORT:
		return prr_drop(pn, PRR_STATS_A_DROP_NO_PORT);
	default:
		return prr_drop(pn, PRR_STATS_A_DROP_MALFORMED);
	}

	e = prr_addr_match(a, port);
	if (!e)
		return prr_drop(pn, PRR_STATS_A_DROP_NO_ENTRY);
	r = prr_rule_of(e);
	prr_rule_count(r, skb->len);
	switch (r->action) {
	case PRR_ACTION_VIA:
		return prr_nexthop_forward(pn, r->nh, skb);
	case PRR_ACTION_LOCAL:
		prr_count(pn, PRR_STATS_A_LOCAL);
		return NF_ACCEPT;
	default:
		return prr_drop(pn, PRR_STATS_A_DROP_POLICY);
	}
}

void prr_hook_ops_init(struct nf_hook_ops *ops, struct prr_net *pn)
{
	ops->hook = prr_hook_ipv4;
	ops->pf = NFPROTO_IPV4;
	ops->hooknum = NF_INET_PRE_ROUTING;
	ops->priority = PRR_HOOK_PRIORITY;
	ops->priv = pn;
}
