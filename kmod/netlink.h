/* SPDX-License-Identifier: GPL-2.0 */
/* The "prr" generic netlink family (ABI: include/uapi/linux/prr.h). */
#ifndef _PRR_NETLINK_H
#define _PRR_NETLINK_H

#include <net/genetlink.h>

struct prr_config;
struct prr_net;
struct prr_rule;

extern struct genl_family prr_genl_family;

/* Puts @r's attributes, as a dump does; 0 or -EMSGSIZE. */
int prr_nl_fill_entry(struct sk_buff *skb, struct prr_net *pn,
		      const struct prr_rule *r);
/* Puts every setting of @c; 0 or -EMSGSIZE. */
int prr_nl_put_config(struct sk_buff *skb, const struct prr_config *c);

int prr_genl_init(void);
void prr_genl_exit(void);

#endif /* _PRR_NETLINK_H */
