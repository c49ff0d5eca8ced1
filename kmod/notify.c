// SPDX-License-Identifier: GPL-2.0
/*
 * Table change notifications (ABI: include/uapi/linux/prr.h, "Multicast
 * group").  RFC 6346 §6 requires that the assignment of port sets to
 * subscribers be logged; every change of an entry is reported once, as the
 * entry itself:
 *
 *   added      PRR_CMD_NEW_ENTRY
 *   replaced   PRR_CMD_NEW_ENTRY with NLM_F_REPLACE (as rtnetlink does)
 *   removed    PRR_CMD_DEL_ENTRY, with its final counters
 *
 * A flush or a replace of the whole table is reported entry by entry, so
 * that the notifications alone tell which port sets changed hands.  Every
 * message carries PRR_A_NETNS_COOKIE, the namespace's net_cookie.
 *
 * Messages are packed into skbs of NLMSG_GOODSIZE: a flush of thousands of
 * entries costs a listener's receive buffer a few pages, not thousands of
 * skbs.  Each skb goes out as soon as it is full, so a change of a million
 * entries holds one skb at a time, not the whole log.  When a message
 * cannot be built the listeners get ENOBUFS, the signal netlink uses for
 * lost notifications.
 */

#include <net/genetlink.h>
#include <net/netlink.h>

#include "netlink.h"
#include "notify.h"

const struct genl_multicast_group prr_mcgrps[PRR_MCGRP_COUNT] = {
	[PRR_MCGRP_TABLE_IDX] = { .name = PRR_MCGRP_TABLE },
};

void prr_ntf_begin(struct prr_ntf *n, struct prr_net *pn)
{
	n->net = pn->net;
	n->skb = NULL;
	n->lost = false;
	n->listening = genl_has_listeners(&prr_genl_family, pn->net,
					  PRR_MCGRP_TABLE_IDX);
}

static void prr_ntf_send(struct prr_ntf *n, struct sk_buff *skb)
{
	if (!skb->len) {
		kfree_skb(skb);
		return;
	}
	/* Overrun listeners get ENOBUFS from netlink itself. */
	genlmsg_multicast_netns(&prr_genl_family, n->net, skb, 0,
				PRR_MCGRP_TABLE_IDX, GFP_KERNEL);
}

/* Starts a message in the current skb; a full one is sent first. */
static void *prr_ntf_put(struct prr_ntf *n, u8 cmd, u16 flags)
{
	void *hdr;

	if (n->skb) {
		hdr = genlmsg_put(n->skb, 0, 0, &prr_genl_family, flags, cmd);
		if (hdr)
			return hdr;
		prr_ntf_send(n, n->skb);
	}
	n->skb = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!n->skb)
		return NULL;
	return genlmsg_put(n->skb, 0, 0, &prr_genl_family, flags, cmd);
}

/* Ends the message at @hdr, or drops it if @err. */
static void prr_ntf_finish(struct prr_ntf *n, void *hdr, int err)
{
	if (err) {
		genlmsg_cancel(n->skb, hdr);
		n->lost = true;
		return;
	}
	genlmsg_end(n->skb, hdr);
}

static int prr_ntf_put_cookie(struct prr_ntf *n)
{
	return nla_put_u64_64bit(n->skb, PRR_A_NETNS_COOKIE,
				 n->net->net_cookie, PRR_A_PAD);
}

/*
 * One entry, as a dump fills it.  A message that does not fit the rest of
 * an skb is built again at the start of a fresh one.
 */
void prr_ntf_rule(struct prr_ntf *n, u8 cmd, u16 flags,
		  const struct prr_rule *r)
{
	bool fresh = false;
	void *hdr;
	int err;

	if (!n->listening)
		return;
	for (;;) {
		hdr = prr_ntf_put(n, cmd, flags);
		if (!hdr) {
			n->lost = true;
			return;
		}
		err = prr_nl_fill_entry(n->skb, prr_net(n->net), r) ?:
		      prr_ntf_put_cookie(n);
		if (!err || fresh)
			break;
		/* Retry once in an empty skb, where it fits. */
		genlmsg_cancel(n->skb, hdr);
		prr_ntf_send(n, n->skb);
		n->skb = NULL;
		fresh = true;
	}
	prr_ntf_finish(n, hdr, err);
}

/* The namespace settings after a change (PRR_CMD_SET_CONFIG). */
void prr_ntf_config(struct prr_ntf *n, const struct prr_config *c)
{
	void *hdr;
	int err;

	if (!n->listening)
		return;
	hdr = prr_ntf_put(n, PRR_CMD_SET_CONFIG, 0);
	if (!hdr) {
		n->lost = true;
		return;
	}
	err = prr_nl_put_config(n->skb, c) ?: prr_ntf_put_cookie(n);
	prr_ntf_finish(n, hdr, err);
}

/* Sends the last skb; listeners learn of any loss. */
void prr_ntf_end(struct prr_ntf *n)
{
	if (!n->listening)
		return;
	if (n->skb)
		prr_ntf_send(n, n->skb);
	n->skb = NULL;
	if (n->lost)
		genl_set_err(&prr_genl_family, n->net, 0, PRR_MCGRP_TABLE_IDX,
			     -ENOBUFS);
}

void prr_ntf_one(struct prr_net *pn, u8 cmd, u16 flags,
		 const struct prr_rule *r)
{
	struct prr_ntf n;

	prr_ntf_begin(&n, pn);
	prr_ntf_rule(&n, cmd, flags, r);
	prr_ntf_end(&n);
}
