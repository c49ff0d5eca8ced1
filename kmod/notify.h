/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Table change notifications on the PRR_MCGRP_TABLE multicast group of the
 * "prr" family: the log of port-set assignments RFC 6346 §6 asks for.
 *
 * A writer builds the notifications of one change while it holds
 * prr_net.lock (prr_ntf_begin(), prr_ntf_rule(), prr_ntf_config()), each
 * skb sent as it fills and the last by prr_ntf_end(), all under the lock, so
 * that the notifications of two writers never mix.  Nothing is built when
 * nobody listens in the namespace.
 */
#ifndef _PRR_NOTIFY_H
#define _PRR_NOTIFY_H

#include <linux/skbuff.h>
#include <net/genetlink.h>

#include "netns.h"

/* Indices into prr_mcgrps[]. */
enum prr_mcgrp_index {
	PRR_MCGRP_TABLE_IDX,

	PRR_MCGRP_COUNT,
};

extern const struct genl_multicast_group prr_mcgrps[PRR_MCGRP_COUNT];

/* The notifications of one change, packed several to an skb. */
struct prr_ntf {
	struct net *net;
	struct sk_buff *skb;		/* being filled; NULL: none yet */
	bool listening;			/* someone listens: build them */
	bool lost;			/* one could not be built */
};

void prr_ntf_begin(struct prr_ntf *n, struct prr_net *pn);
void prr_ntf_rule(struct prr_ntf *n, u8 cmd, u16 flags,
		  const struct prr_rule *r);
void prr_ntf_config(struct prr_ntf *n, const struct prr_config *c);
void prr_ntf_end(struct prr_ntf *n);

/* One notification about rule @r: begin, rule, end. */
void prr_ntf_one(struct prr_net *pn, u8 cmd, u16 flags,
		 const struct prr_rule *r);

#endif /* _PRR_NOTIFY_H */
