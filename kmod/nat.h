/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CPE role: source NAT of a LAN prefix into the CPE's own port set.
 */
#ifndef _PRR_NAT_H
#define _PRR_NAT_H

#include <linux/types.h>
#include <net/netlink.h>

struct prr_net;

struct prr_nat {
	struct list_head list;		/* in prr_net.nats */
	__be32 addr;			/* the shared address */
	__be32 prefix;			/* the LAN prefix, masked */
	u8 plen;
	int oif;			/* 0: leaving by any device */
	struct rcu_head rcu;
};

int prr_nat_add(struct prr_net *pn, const struct prr_nat *spec,
		struct netlink_ext_ack *extack);
int prr_nat_del(struct prr_net *pn, __be32 prefix, u8 plen);
void prr_nat_init(struct prr_net *pn);
void prr_nat_exit(struct prr_net *pn);

#endif /* _PRR_NAT_H */
