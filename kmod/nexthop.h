/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Next hops: the CPE gateways packets are forwarded to, each with a cached
 * forwarding route shared by every rule that uses it.
 */
#ifndef _PRR_NEXTHOP_H
#define _PRR_NEXTHOP_H

#include <linux/rhashtable.h>
#include <linux/skbuff.h>
#include <net/netlink.h>
#include <net/route.h>

struct prr_net;

struct prr_nexthop {
	struct list_head list;		/* in prr_net.nexthops */
	struct rhash_head node;		/* in prr_net.nh_index, by gw + oif */
	/* The index's key: these two, adjacent (see nexthop.c). */
	__be32 gw;
	int oif;			/* 0: the device the FIB picks */
	unsigned int users;		/* rules using it; under prr_net.lock */
	struct rtable __rcu *rt;	/* cached route to gw, or NULL */
	struct rcu_head rcu;
};

int prr_nexthop_validate(struct net *net, __be32 gw, int oif,
			 struct netlink_ext_ack *extack);
int prr_nexthop_index_init(struct prr_net *pn);
void prr_nexthop_index_destroy(struct prr_net *pn);
struct prr_nexthop *prr_nexthop_get(struct prr_net *pn, __be32 gw, int oif);
void prr_nexthop_put(struct prr_net *pn, struct prr_nexthop *nh);
unsigned int prr_nexthop_forward(struct prr_net *pn, struct prr_nexthop *nh,
				 struct sk_buff *skb);
unsigned int prr_nexthop_output(struct prr_net *pn, struct prr_nexthop *nh,
				struct sk_buff *skb);
bool prr_nexthop_is_source(struct prr_net *pn, struct prr_nexthop *nh,
			   struct sk_buff *skb);

int prr_nexthop_notifier_init(void);
void prr_nexthop_notifier_exit(void);

#endif /* _PRR_NEXTHOP_H */
