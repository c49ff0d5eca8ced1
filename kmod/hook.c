// SPDX-License-Identifier: GPL-2.0
/*
 * The data path.
 *
 * PRE_ROUTING: a packet whose source is a shared address must come from the
 * CPE owning its source port (RFC 7597 §8.1, RFC 7596 §6.2); a packet whose
 * destination is a shared address is routed to the CPE owning its
 * destination port (RFC 6346 §3.3.2).  A packet with both is a hairpin
 * between two CPEs: validated, then routed (RFC 7596 §6.2, ap-spec-digest
 * §3.6).  LOCAL_OUT: the host's own packets to a shared address (its ICMP
 * errors about a CPE's packets, for one) are routed the same way.
 *
 * Priority: after defragmentation (-400), conntrack (-200), mangle (-150)
 * and destination NAT (-100), so the lookup sees reassembled datagrams and
 * their final destination; before the filter chains (0), which then see the
 * packet with its route.  Packets with no shared address pass untouched at
 * the cost of one or two lookups.  Every packet to or from a shared address
 * that is dropped is counted with its reason.
 */

#include <linux/ip.h>
#include <linux/netfilter_ipv4.h>
#include <linux/skbuff.h>
#include <net/checksum.h>
#include <net/netfilter/ipv4/nf_reject.h>

#include "classify.h"
#include "hook.h"
#include "netns.h"
#include "nexthop.h"

#define PRR_HOOK_PRIORITY	(NF_IP_PRI_NAT_DST + 10)

/* RFC 5508 §4.1: an ICMP error with a bad checksum is not acted upon. */
static bool prr_icmp_csum_ok(const struct sk_buff *skb, unsigned int off)
{
	unsigned int len = ntohs(ip_hdr(skb)->tot_len) - off;

	off += skb_network_offset(skb);
	return !csum_fold(skb_checksum(skb, off, len, 0));
}

/*
 * The entry of @a that owns @skb, judged by the port on @side; NULL with
 * *@why set when there is none.  A packet without a port belongs to the
 * address's port-mask 0 entry, if any (docs/datapath.md).
 */
static const struct prr_entry *prr_owner(const struct prr_addr_ref *a,
					 const struct sk_buff *skb,
					 enum prr_side side,
					 enum prr_stats_attr *why)
{
	u8 buf[PRR_CLASSIFY_MAX];
	const struct prr_entry *e;
	enum prr_class cls;
	struct prr_key key;
	unsigned int avail;
	const u8 *pkt;

	*why = PRR_STATS_A_DROP_MALFORMED;
	avail = min_t(unsigned int, skb->len, sizeof(buf));
	pkt = skb_header_pointer(skb, skb_network_offset(skb), avail, buf);
	if (unlikely(!pkt))
		return NULL;
	cls = prr_classify(pkt, avail, skb->len, side, &key);
	if (unlikely(key.icmp_off) && cls != PRR_CLASS_MALFORMED &&
	    !prr_icmp_csum_ok(skb, key.icmp_off))
		return NULL;
	switch (cls) {
	case PRR_CLASS_PORT:
		e = prr_addr_match(a, key.port);
		*why = PRR_STATS_A_DROP_NO_ENTRY;
		break;
	case PRR_CLASS_NO_PORT:
		e = prr_addr_default(a);
		*why = PRR_STATS_A_DROP_NO_PORT;
		break;
	default:
		return NULL;
	}
	return e;
}

/*
 * Source validation: @skb comes from a shared address, from outside this
 * host; the entry owning its source port says where it may come from.  The
 * ports of a local or drop entry are nobody else's to send from.
 */
static bool prr_source_valid(struct prr_net *pn,
			     const struct prr_addr_ref *a,
			     struct sk_buff *skb)
{
	enum prr_stats_attr why;
	const struct prr_entry *e;
	const struct prr_rule *r;
	bool ok;

	e = prr_owner(a, skb, PRR_SIDE_SRC, &why);
	if (!e) {
		prr_count(pn, why == PRR_STATS_A_DROP_MALFORMED ?
			  why : PRR_STATS_A_DROP_SPOOFED);
		return false;
	}
	r = prr_rule_of(e);
	ok = r->action == PRR_ACTION_VIA &&
	     prr_nexthop_is_source(pn, r->nh, skb);
	prr_count(pn, ok ? PRR_STATS_A_VALIDATED : PRR_STATS_A_DROP_SPOOFED);
	return ok;
}

/*
 * RFC 7596 §6.2: the ICMP policy for unowned ports is configurable.  The
 * kernel's own reject sends it (route to the sender, L4 checksum check,
 * ICMP rate limit).
 */
static void prr_reject_unowned(struct prr_net *pn, struct sk_buff *skb)
{
	if (READ_ONCE(pn->unowned) == PRR_UNOWNED_REJECT)
		nf_send_unreach(skb, ICMP_PKT_FILTERED, NF_INET_PRE_ROUTING);
}

static unsigned int prr_route(struct prr_net *pn,
			      const struct prr_addr_ref *a,
			      struct sk_buff *skb, unsigned int hooknum)
{
	enum prr_stats_attr why;
	const struct prr_entry *e;
	const struct prr_rule *r;

	e = prr_owner(a, skb, PRR_SIDE_DST, &why);
	if (!e) {
		if (why == PRR_STATS_A_DROP_NO_ENTRY &&
		    hooknum == NF_INET_PRE_ROUTING)
			prr_reject_unowned(pn, skb);
		return prr_drop(pn, why);
	}
	r = prr_rule_of(e);
	prr_rule_count(r, skb->len);
	switch (r->action) {
	case PRR_ACTION_VIA:
		if (hooknum == NF_INET_LOCAL_OUT)
			return prr_nexthop_output(pn, r->nh, skb);
		return prr_nexthop_forward(pn, r->nh, skb);
	case PRR_ACTION_LOCAL:
		prr_count(pn, PRR_STATS_A_LOCAL);
		return NF_ACCEPT;
	default:
		return prr_drop(pn, PRR_STATS_A_DROP_POLICY);
	}
}

static unsigned int prr_hook_prerouting(void *priv, struct sk_buff *skb,
					const struct nf_hook_state *state)
{
	const struct iphdr *iph = ip_hdr(skb);
	bool to_shared, from_shared = false;
	struct prr_addr_ref dst, src;
	struct prr_net *pn = priv;

	to_shared = prr_table_find(&pn->table, iph->daddr, &dst);
	/* What comes in on loopback is this host's own: nothing to check. */
	if (READ_ONCE(pn->source_check) && !(skb->dev->flags & IFF_LOOPBACK))
		from_shared = prr_table_find(&pn->table, iph->saddr, &src);
	if (likely(!to_shared && !from_shared))
		return NF_ACCEPT;
	if (from_shared && !prr_source_valid(pn, &src, skb))
		return NF_DROP;
	if (!to_shared)
		return NF_ACCEPT;
	return prr_route(pn, &dst, skb, NF_INET_PRE_ROUTING);
}

static unsigned int prr_hook_local_out(void *priv, struct sk_buff *skb,
				       const struct nf_hook_state *state)
{
	struct prr_addr_ref dst;
	struct prr_net *pn = priv;

	if (likely(!prr_table_find(&pn->table, ip_hdr(skb)->daddr, &dst)))
		return NF_ACCEPT;
	return prr_route(pn, &dst, skb, NF_INET_LOCAL_OUT);
}

void prr_hook_ops_init(struct nf_hook_ops *ops, struct prr_net *pn)
{
	const struct nf_hook_ops tmpl[] = {
		{ .hook = prr_hook_prerouting, .hooknum = NF_INET_PRE_ROUTING },
		{ .hook = prr_hook_local_out, .hooknum = NF_INET_LOCAL_OUT },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(tmpl); i++) {
		ops[i] = tmpl[i];
		ops[i].pf = NFPROTO_IPV4;
		ops[i].priority = PRR_HOOK_PRIORITY;
		ops[i].priv = pn;
	}
}
