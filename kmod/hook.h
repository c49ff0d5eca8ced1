/* SPDX-License-Identifier: GPL-2.0 */
/* The netfilter hook: port-driven routing in PRE_ROUTING. */
#ifndef _PRR_HOOK_H
#define _PRR_HOOK_H

#include <linux/netfilter.h>

struct prr_net;

void prr_hook_ops_init(struct nf_hook_ops *ops, struct prr_net *pn);

#endif /* _PRR_HOOK_H */
