/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Compatibility shims between the kernels prr supports (Debian's 6.1 and
 * 6.12 today).  Everything here is keyed on PRR_HAVE_* macros that
 * Kbuild.include sets by probing the target kernel's headers.
 */
#ifndef _PRR_COMPAT_H
#define _PRR_COMPAT_H

#include <linux/skbuff.h>
#include <net/genetlink.h>
#include <net/route.h>

/* The attributes a dump request was parsed into. */
static inline struct nlattr **prr_dump_attrs(struct netlink_callback *cb)
{
#ifdef PRR_HAVE_GENL_DUMPIT_INFO_INFO
	return genl_dumpit_info(cb)->info.attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/* Input route lookup for @skb towards @daddr; 0 or a negative errno. */
static inline int prr_route_input(struct sk_buff *skb, __be32 daddr,
				  __be32 saddr, u8 tos,
				  struct net_device *dev)
{
#ifdef PRR_HAVE_ROUTE_INPUT_DSCP
	dscp_t dscp = inet_dsfield_to_dscp(tos);
#else
	u8 dscp = tos;
#endif

#ifdef PRR_HAVE_ROUTE_INPUT_REASON
	return ip_route_input_noref(skb, daddr, saddr, dscp, dev) ==
	       SKB_NOT_DROPPED_YET ? 0 : -EHOSTUNREACH;
#else
	return ip_route_input_noref(skb, daddr, saddr, dscp, dev);
#endif
}

#endif /* _PRR_COMPAT_H */
