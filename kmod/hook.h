/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The netfilter hooks: port-driven routing and source validation in
 * PRE_ROUTING, port-driven routing of the host's own packets in LOCAL_OUT.
 */
#ifndef _PRR_HOOK_H
#define _PRR_HOOK_H

#include <linux/netfilter.h>

struct prr_net;

/* Fills @ops[2]. */
void prr_hook_ops_init(struct nf_hook_ops *ops, struct prr_net *pn);

#endif /* _PRR_HOOK_H */
