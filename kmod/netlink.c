// SPDX-License-Identifier: GPL-2.0
/*
 * The "prr" generic netlink family: configuration and counters of the
 * namespace the requesting socket lives in.  Changes need CAP_NET_ADMIN in
 * the user namespace owning that network namespace; reading is open, like
 * the routing table.  Every rejection carries an extack message.
 */

#include <net/genetlink.h>
#include <net/netlink.h>

#include "nat.h"
#include "netlink.h"
#include "netns.h"
#include "nexthop.h"
#include "notify.h"

/* One nest of PRR_A_PIECES. */
static const struct nla_policy prr_piece_policy[PRR_A_PORT_MASK + 1] = {
	[PRR_A_PORT_VALUE]	= { .type = NLA_U16 },
	[PRR_A_PORT_MASK]	= { .type = NLA_U16 },
};

static const struct nla_policy prr_entry_policy[PRR_A_PIECES + 1] = {
	[PRR_A_ADDR]		= { .type = NLA_BE32 },
	[PRR_A_PORT_VALUE]	= { .type = NLA_U16 },
	[PRR_A_PORT_MASK]	= { .type = NLA_U16 },
	[PRR_A_ACTION]		= NLA_POLICY_RANGE(NLA_U8, PRR_ACTION_VIA,
						   PRR_ACTION_MAX),
	[PRR_A_VIA]		= { .type = NLA_BE32 },
	[PRR_A_OIF]		= NLA_POLICY_MIN(NLA_U32, 1),
	[PRR_A_STAGED]		= { .type = NLA_FLAG },
	[PRR_A_NAME]		= { .type = NLA_NUL_STRING,
				    .len = PRR_NAME_MAX - 1 },
	[PRR_A_PIECES]		= NLA_POLICY_NESTED_ARRAY(prr_piece_policy),
};

/* Deletes pieces (as for new) or every entry of a name. */
static const struct nla_policy prr_del_policy[PRR_A_PIECES + 1] = {
	[PRR_A_ADDR]		= { .type = NLA_BE32 },
	[PRR_A_PORT_VALUE]	= { .type = NLA_U16 },
	[PRR_A_PORT_MASK]	= { .type = NLA_U16 },
	[PRR_A_NAME]		= { .type = NLA_NUL_STRING,
				    .len = PRR_NAME_MAX - 1 },
	[PRR_A_PIECES]		= NLA_POLICY_NESTED_ARRAY(prr_piece_policy),
};

/* Identifies one entry (del, get), or filters by address (dump, flush). */
static const struct nla_policy prr_key_policy[PRR_A_PORT_MASK + 1] = {
	[PRR_A_ADDR]		= { .type = NLA_BE32 },
	[PRR_A_PORT_VALUE]	= { .type = NLA_U16 },
	[PRR_A_PORT_MASK]	= { .type = NLA_U16 },
};

static const struct nla_policy prr_addr_policy[PRR_A_ADDR + 1] = {
	[PRR_A_ADDR]		= { .type = NLA_BE32 },
};

static const struct nla_policy prr_nat_policy[PRR_A_NAT_PREFIX_LEN + 1] = {
	[PRR_A_ADDR]		= { .type = NLA_BE32 },
	[PRR_A_OIF]		= NLA_POLICY_MIN(NLA_U32, 1),
	[PRR_A_NAT_PREFIX]	= { .type = NLA_BE32 },
	[PRR_A_NAT_PREFIX_LEN]	= NLA_POLICY_MAX(NLA_U8, 32),
};

static const struct nla_policy prr_config_policy[PRR_A_ENTRY_COUNTERS + 1] = {
	[PRR_A_SOURCE_CHECK]	= NLA_POLICY_MAX(NLA_U8, 1),
	[PRR_A_UNOWNED]		= NLA_POLICY_MAX(NLA_U8, PRR_UNOWNED_MAX),
	[PRR_A_STAGED]		= { .type = NLA_FLAG },
	[PRR_A_ENTRY_COUNTERS]	= NLA_POLICY_MAX(NLA_U8, 1),
};

/* True if @attr is present; otherwise reports @msg and the missing attr. */
#define prr_nl_require(info, attr, msg) ({				\
	struct genl_info *__info = (info);				\
	int __attr = (attr);						\
	bool __present = !!__info->attrs[__attr];			\
									\
	if (!__present) {						\
		NL_SET_ERR_MSG(__info->extack, msg);			\
		NL_SET_ERR_ATTR_MISS(__info->extack, NULL, __attr);	\
	}								\
	__present;							\
})

static int prr_nl_parse_addr(struct nlattr *attr, __be32 *addr,
			     struct netlink_ext_ack *extack)
{
	*addr = nla_get_in_addr(attr);
	if (!prr_ipv4_unicast(*addr)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "shared address must be a unicast address");
		return -EINVAL;
	}
	return 0;
}

static int prr_nl_parse_key(struct genl_info *info, struct prr_entry *key)
{
	struct nlattr **attrs = info->attrs;

	if (!prr_nl_require(info, PRR_A_ADDR, "missing shared address") ||
	    !prr_nl_require(info, PRR_A_PORT_VALUE, "missing port value") ||
	    !prr_nl_require(info, PRR_A_PORT_MASK, "missing port mask"))
		return -EINVAL;
	key->value = nla_get_u16(attrs[PRR_A_PORT_VALUE]);
	key->mask = nla_get_u16(attrs[PRR_A_PORT_MASK]);
	if (!prr_portset_valid(key->value, key->mask)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[PRR_A_PORT_VALUE],
				    "port value has bits outside the port mask");
		return -EINVAL;
	}
	return prr_nl_parse_addr(attrs[PRR_A_ADDR], &key->addr, info->extack);
}

/* Sets (@a, @b) intersect: some port is in both (RFC 6431 §2.1 sets). */
static bool prr_pieces_meet(const struct prr_entry *a,
			    const struct prr_entry *b)
{
	return !((a->value ^ b->value) & a->mask & b->mask);
}

/* Piece @pos of PRR_A_PIECES into @e; reports what is wrong with it. */
static int prr_nl_parse_piece(struct nlattr *pos, struct prr_entry *e,
			      struct netlink_ext_ack *extack)
{
	struct nlattr *tb[PRR_A_PORT_MASK + 1];
	int err;

	err = nla_parse_nested(tb, PRR_A_PORT_MASK, pos, prr_piece_policy,
			       extack);
	if (err)
		return err;
	if (!tb[PRR_A_PORT_VALUE]) {
		NL_SET_ERR_MSG_ATTR(extack, pos, "missing port value");
		return -EINVAL;
	}
	if (!tb[PRR_A_PORT_MASK]) {
		NL_SET_ERR_MSG_ATTR(extack, pos, "missing port mask");
		return -EINVAL;
	}
	e->value = nla_get_u16(tb[PRR_A_PORT_VALUE]);
	e->mask = nla_get_u16(tb[PRR_A_PORT_MASK]);
	if (!prr_portset_valid(e->value, e->mask)) {
		NL_SET_ERR_MSG_ATTR(extack, pos,
				    "port value has bits outside the port mask");
		return -EINVAL;
	}
	return 0;
}

/*
 * The port set of a request into @spec: PRR_A_PORT_VALUE and
 * PRR_A_PORT_MASK, or PRR_A_PIECES (pairwise disjoint).  @spec->ent[0].addr
 * holds the shared address already.
 */
static int prr_nl_parse_set(struct genl_info *info,
			    struct prr_rule_spec *spec)
{
	struct nlattr **attrs = info->attrs, *pos;
	struct prr_entry *e;
	unsigned int i;
	int rem, err;

	spec->n = 0;
	if (!attrs[PRR_A_PIECES]) {
		if (!prr_nl_require(info, PRR_A_PORT_VALUE,
				    "missing port value") ||
		    !prr_nl_require(info, PRR_A_PORT_MASK,
				    "missing port mask"))
			return -EINVAL;
		e = &spec->ent[0];
		e->value = nla_get_u16(attrs[PRR_A_PORT_VALUE]);
		e->mask = nla_get_u16(attrs[PRR_A_PORT_MASK]);
		if (!prr_portset_valid(e->value, e->mask)) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    attrs[PRR_A_PORT_VALUE],
					    "port value has bits outside the port mask");
			return -EINVAL;
		}
		spec->attr[0] = NULL;
		spec->n = 1;
		return 0;
	}
	if (attrs[PRR_A_PORT_VALUE] || attrs[PRR_A_PORT_MASK]) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[PRR_A_PIECES],
				    "pieces exclude port value and port mask");
		return -EINVAL;
	}
	nla_for_each_nested(pos, attrs[PRR_A_PIECES], rem) {
		if (spec->n == PRR_PIECES_MAX) {
			NL_SET_ERR_MSG_ATTR(info->extack, pos,
					    "too many port set pieces");
			return -EINVAL;
		}
		e = &spec->ent[spec->n];
		err = prr_nl_parse_piece(pos, e, info->extack);
		if (err)
			return err;
		for (i = 0; i < spec->n; i++) {
			if (prr_pieces_meet(&spec->ent[i], e)) {
				NL_SET_ERR_MSG_ATTR(info->extack, pos,
						    "pieces of a port set must be disjoint");
				return -EINVAL;
			}
		}
		spec->attr[spec->n++] = pos;
	}
	if (!spec->n) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[PRR_A_PIECES],
				    "port set has no pieces");
		return -EINVAL;
	}
	return 0;
}

/* PRR_A_NAME, if given: printable ASCII without blanks, not empty. */
static int prr_nl_parse_name(struct genl_info *info, const char **name)
{
	struct nlattr *attr = info->attrs[PRR_A_NAME];
	const char *p;

	*name = NULL;
	if (!attr)
		return 0;
	p = nla_data(attr);
	if (!*p) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "name must not be empty");
		return -EINVAL;
	}
	for (; *p; p++) {
		if (*p < '!' || *p > '~') {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "name must be printable ASCII without blanks");
			return -EINVAL;
		}
	}
	*name = nla_data(attr);
	return 0;
}

/* PRR_A_ADDR and the port set of new and del. */
static int prr_nl_parse_spec(struct genl_info *info,
			     struct prr_rule_spec *spec)
{
	unsigned int i;
	__be32 addr;
	int err;

	if (!prr_nl_require(info, PRR_A_ADDR, "missing shared address"))
		return -EINVAL;
	err = prr_nl_parse_set(info, spec);
	if (err)
		return err;
	err = prr_nl_parse_addr(info->attrs[PRR_A_ADDR], &addr, info->extack);
	for (i = 0; i < spec->n; i++)
		spec->ent[i].addr = addr;
	return err;
}

static int prr_nl_new_entry(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct nlattr **attrs = info->attrs;
	struct prr_rule_spec spec = {};
	int err;

	err = prr_nl_parse_spec(info, &spec);
	if (!err)
		err = prr_nl_parse_name(info, &spec.name);
	if (err)
		return err;
	spec.staged = nla_get_flag(attrs[PRR_A_STAGED]);
	spec.portid = info->snd_portid;
	if (!prr_nl_require(info, PRR_A_ACTION, "missing action"))
		return -EINVAL;
	spec.action = nla_get_u8(attrs[PRR_A_ACTION]);
	if (spec.action != PRR_ACTION_VIA) {
		if (attrs[PRR_A_VIA] || attrs[PRR_A_OIF]) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    attrs[PRR_A_VIA] ?: attrs[PRR_A_OIF],
					    "next hop only applies to action via");
			return -EINVAL;
		}
		return prr_net_add_rule(prr_net(net), &spec, info->extack);
	}
	if (!prr_nl_require(info, PRR_A_VIA, "action via needs a next hop"))
		return -EINVAL;
	spec.via = nla_get_in_addr(attrs[PRR_A_VIA]);
	if (attrs[PRR_A_OIF])
		spec.oif = nla_get_u32(attrs[PRR_A_OIF]);
	err = prr_nexthop_validate(net, spec.via, spec.oif, info->extack);
	if (err) {
		NL_SET_BAD_ATTR(info->extack, attrs[PRR_A_VIA]);
		return err;
	}
	return prr_net_add_rule(prr_net(net), &spec, info->extack);
}

/* Every entry of PRR_A_NAME (of PRR_A_ADDR, if given). */
static int prr_nl_del_name(struct genl_info *info, struct prr_net *pn)
{
	struct nlattr **attrs = info->attrs;
	const char *name;
	__be32 addr;
	int err;

	if (attrs[PRR_A_PORT_VALUE] || attrs[PRR_A_PORT_MASK] ||
	    attrs[PRR_A_PIECES]) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[PRR_A_NAME],
				    "a name excludes a port set");
		return -EINVAL;
	}
	err = prr_nl_parse_name(info, &name);
	if (!err && attrs[PRR_A_ADDR])
		err = prr_nl_parse_addr(attrs[PRR_A_ADDR], &addr,
					info->extack);
	if (err)
		return err;
	err = prr_net_del_name(pn, name, attrs[PRR_A_ADDR] ? &addr : NULL);
	if (err == -ENOENT)
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[PRR_A_NAME],
				    "no entry has that name");
	return err;
}

static int prr_nl_del_entry(struct sk_buff *skb, struct genl_info *info)
{
	struct prr_net *pn = prr_net(genl_info_net(info));
	struct prr_rule_spec *spec;
	unsigned int missing = 0;
	int err;

	if (info->attrs[PRR_A_NAME])
		return prr_nl_del_name(info, pn);
	spec = kzalloc(sizeof(*spec), GFP_KERNEL);
	if (!spec)
		return -ENOMEM;
	err = prr_nl_parse_spec(info, spec);
	if (!err)
		err = prr_net_del_rules(pn, spec->ent, spec->n, &missing);
	if (err == -ENOENT) {
		NL_SET_ERR_MSG(info->extack, "no such entry");
		if (spec->attr[missing])
			NL_SET_BAD_ATTR(info->extack, spec->attr[missing]);
	}
	kfree(spec);
	return err;
}

/* An entry's attributes, for dumps, replies and notifications. */
int prr_nl_fill_entry(struct sk_buff *skb, struct prr_net *pn,
		      const struct prr_rule *r)
{
	const char *name = prr_rule_name(pn, r);
	u64 packets, bytes;

	if (nla_put_in_addr(skb, PRR_A_ADDR, r->ent.addr) ||
	    nla_put_u16(skb, PRR_A_PORT_VALUE, r->ent.value) ||
	    nla_put_u16(skb, PRR_A_PORT_MASK, r->ent.mask) ||
	    nla_put_u8(skb, PRR_A_ACTION, r->action))
		return -EMSGSIZE;
	/* An entry added with entry-counters off has none to report. */
	if (prr_rule_read_counters(r, &packets, &bytes) &&
	    (nla_put_u64_64bit(skb, PRR_A_PACKETS, packets, PRR_A_PAD) ||
	     nla_put_u64_64bit(skb, PRR_A_BYTES, bytes, PRR_A_PAD)))
		return -EMSGSIZE;
	if (r->nh && nla_put_in_addr(skb, PRR_A_VIA, r->nh->gw))
		return -EMSGSIZE;
	if (r->nh && r->nh->oif && nla_put_u32(skb, PRR_A_OIF, r->nh->oif))
		return -EMSGSIZE;
	if (nla_put_u32(skb, PRR_A_CPE_ID, r->cpe_id) ||
	    (name && nla_put_string(skb, PRR_A_NAME, name)))
		return -EMSGSIZE;
	return 0;
}

static int prr_nl_get_entry(struct sk_buff *skb, struct genl_info *info)
{
	struct prr_net *pn = prr_net(genl_info_net(info));
	const struct prr_entry *e;
	struct prr_entry key;
	struct sk_buff *msg;
	void *hdr;
	int err;

	err = prr_nl_parse_key(info, &key);
	if (err)
		return err;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &prr_genl_family, 0,
				PRR_CMD_GET_ENTRY);
	if (!hdr) {
		err = -EMSGSIZE;
		goto free;
	}
	mutex_lock(&pn->lock);
	e = prr_table_get(&pn->table, key.addr, key.value, key.mask);
	if (e)
		err = prr_nl_fill_entry(msg, pn, prr_rule_of(e));
	mutex_unlock(&pn->lock);
	if (!e) {
		NL_SET_ERR_MSG(info->extack, "no such entry");
		err = -ENOENT;
	}
	if (err)
		goto free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

free:
	nlmsg_free(msg);
	return err;
}

/* cb->args[0..2] hold the table cursor of a dump in progress. */
static int prr_nl_dump_entries(struct sk_buff *skb,
			       struct netlink_callback *cb)
{
	struct prr_net *pn = prr_net(sock_net(skb->sk));
	struct nlattr **attrs = prr_dump_attrs(cb);
	struct prr_cursor c = {
		.slot = cb->args[0], .group = cb->args[1], .pos = cb->args[2],
	};
	const struct prr_entry *e;
	struct prr_cursor prev;
	__be32 filter = 0;
	void *hdr;

	if (attrs && attrs[PRR_A_ADDR])
		filter = nla_get_in_addr(attrs[PRR_A_ADDR]);
	mutex_lock(&pn->lock);
	cb->seq = pn->gen;
	for (;;) {
		prev = c;
		e = prr_table_next(&pn->table, &c);
		if (!e)
			break;
		if (filter && e->addr != filter)
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &prr_genl_family,
				  NLM_F_MULTI, PRR_CMD_GET_ENTRY);
		if (!hdr) {
			c = prev;
			break;
		}
		genl_dump_check_consistent(cb, hdr);
		if (prr_nl_fill_entry(skb, pn, prr_rule_of(e))) {
			genlmsg_cancel(skb, hdr);
			c = prev;
			break;
		}
		genlmsg_end(skb, hdr);
	}
	mutex_unlock(&pn->lock);
	cb->args[0] = c.slot;
	cb->args[1] = c.group;
	cb->args[2] = c.pos;
	return skb->len;
}

static int prr_nl_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct prr_net *pn = prr_net(genl_info_net(info));
	struct nlattr *attr = info->attrs[PRR_A_ADDR];
	__be32 addr;
	int err;

	if (!attr) {
		prr_net_flush(pn, NULL);
		return 0;
	}
	err = prr_nl_parse_addr(attr, &addr, info->extack);
	if (!err)
		prr_net_flush(pn, &addr);
	return err;
}

static int prr_nl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct prr_net *pn = prr_net(genl_info_net(info));
	u64 cnt[PRR_STATS_A_MAX + 1];
	struct nlattr *nest;
	struct sk_buff *msg;
	void *hdr;
	int i;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &prr_genl_family, 0,
				PRR_CMD_GET_STATS);
	if (!hdr)
		goto nospace;
	nest = nla_nest_start(msg, PRR_A_STATS);
	if (!nest)
		goto nospace;
	prr_net_read_stats(pn, cnt);
	for (i = PRR_STATS_A_FORWARDED; i <= PRR_STATS_A_MAX; i++)
		if (nla_put_u64_64bit(msg, i, cnt[i], PRR_STATS_A_PAD))
			goto nospace;
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* Every setting, as PRR_CMD_GET_CONFIG replies and notifications carry. */
int prr_nl_put_config(struct sk_buff *skb, const struct prr_config *c)
{
	if (nla_put_u8(skb, PRR_A_SOURCE_CHECK, c->source_check) ||
	    nla_put_u8(skb, PRR_A_UNOWNED, c->unowned) ||
	    nla_put_u8(skb, PRR_A_ENTRY_COUNTERS, c->entry_counters))
		return -EMSGSIZE;
	return 0;
}

static int prr_nl_set_config(struct sk_buff *skb, struct genl_info *info)
{
	struct prr_net *pn = prr_net(genl_info_net(info));
	struct nlattr **attrs = info->attrs;
	struct prr_config c = {
		.source_check = -1, .unowned = -1, .entry_counters = -1
	};

	if (!attrs[PRR_A_SOURCE_CHECK] && !attrs[PRR_A_UNOWNED] &&
	    !attrs[PRR_A_ENTRY_COUNTERS]) {
		NL_SET_ERR_MSG(info->extack, "missing setting");
		return -EINVAL;
	}
	if (attrs[PRR_A_SOURCE_CHECK])
		c.source_check = nla_get_u8(attrs[PRR_A_SOURCE_CHECK]);
	if (attrs[PRR_A_UNOWNED])
		c.unowned = nla_get_u8(attrs[PRR_A_UNOWNED]);
	if (attrs[PRR_A_ENTRY_COUNTERS])
		c.entry_counters = nla_get_u8(attrs[PRR_A_ENTRY_COUNTERS]);
	if (nla_get_flag(attrs[PRR_A_STAGED]))
		return prr_net_stage_config(pn, info->snd_portid, &c,
					    info->extack);
	prr_net_set_config(pn, &c);
	return 0;
}

static int prr_nl_replace_begin(struct sk_buff *skb, struct genl_info *info)
{
	return prr_net_replace_begin(prr_net(genl_info_net(info)),
				     info->snd_portid, info->extack);
}

static int prr_nl_replace_commit(struct sk_buff *skb, struct genl_info *info)
{
	return prr_net_replace_commit(prr_net(genl_info_net(info)),
				      info->snd_portid, info->extack);
}

static int prr_nl_replace_abort(struct sk_buff *skb, struct genl_info *info)
{
	return prr_net_replace_abort(prr_net(genl_info_net(info)),
				     info->snd_portid, info->extack);
}

static int prr_nl_get_config(struct sk_buff *skb, struct genl_info *info)
{
	struct prr_net *pn = prr_net(genl_info_net(info));
	struct prr_config c;
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &prr_genl_family, 0,
				PRR_CMD_GET_CONFIG);
	prr_net_get_config(pn, &c);
	if (!hdr || prr_nl_put_config(msg, &c)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int prr_nl_parse_prefix(struct genl_info *info, __be32 *prefix,
			       u8 *plen)
{
	if (!prr_nl_require(info, PRR_A_NAT_PREFIX, "missing NAT prefix") ||
	    !prr_nl_require(info, PRR_A_NAT_PREFIX_LEN,
			    "missing NAT prefix length"))
		return -EINVAL;
	*prefix = nla_get_in_addr(info->attrs[PRR_A_NAT_PREFIX]);
	*plen = nla_get_u8(info->attrs[PRR_A_NAT_PREFIX_LEN]);
	return 0;
}

static int prr_nl_new_nat(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct nlattr **attrs = info->attrs;
	struct prr_nat spec = {};
	int err;

	err = prr_nl_parse_prefix(info, &spec.prefix, &spec.plen);
	if (err)
		return err;
	if (!prr_nl_require(info, PRR_A_ADDR, "missing shared address"))
		return -EINVAL;
	err = prr_nl_parse_addr(attrs[PRR_A_ADDR], &spec.addr, info->extack);
	if (err)
		return err;
	if (attrs[PRR_A_OIF]) {
		spec.oif = nla_get_u32(attrs[PRR_A_OIF]);
		rcu_read_lock();
		err = dev_get_by_index_rcu(net, spec.oif) ? 0 : -ENODEV;
		rcu_read_unlock();
		if (err) {
			NL_SET_ERR_MSG_ATTR(info->extack, attrs[PRR_A_OIF],
					    "no such device");
			return err;
		}
	}
	return prr_nat_add(prr_net(net), &spec, info->extack);
}

static int prr_nl_del_nat(struct sk_buff *skb, struct genl_info *info)
{
	struct prr_net *pn = prr_net(genl_info_net(info));
	__be32 prefix;
	int err;
	u8 plen;

	err = prr_nl_parse_prefix(info, &prefix, &plen);
	if (err)
		return err;
	err = prr_nat_del(pn, prefix, plen);
	if (err)
		NL_SET_ERR_MSG(info->extack, "no such NAT rule");
	return err;
}

static int prr_nl_fill_nat(struct sk_buff *skb, const struct prr_nat *nat)
{
	if (nla_put_in_addr(skb, PRR_A_ADDR, nat->addr) ||
	    nla_put_in_addr(skb, PRR_A_NAT_PREFIX, nat->prefix) ||
	    nla_put_u8(skb, PRR_A_NAT_PREFIX_LEN, nat->plen))
		return -EMSGSIZE;
	if (nat->oif && nla_put_u32(skb, PRR_A_OIF, nat->oif))
		return -EMSGSIZE;
	return 0;
}

/* cb->args[0]: NAT rules already dumped (there are few). */
static int prr_nl_dump_nats(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct prr_net *pn = prr_net(sock_net(skb->sk));
	const struct prr_nat *nat;
	long i = 0;
	void *hdr;

	mutex_lock(&pn->lock);
	cb->seq = pn->gen;
	list_for_each_entry(nat, &pn->nats, list) {
		if (i++ < cb->args[0])
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &prr_genl_family,
				  NLM_F_MULTI, PRR_CMD_GET_NAT);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (prr_nl_fill_nat(skb, nat)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = i;
	}
	mutex_unlock(&pn->lock);
	return skb->len;
}

static const struct genl_ops prr_genl_ops[] = {
	{
		.cmd = PRR_CMD_NEW_ENTRY,
		.doit = prr_nl_new_entry,
		.policy = prr_entry_policy,
		.maxattr = ARRAY_SIZE(prr_entry_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = PRR_CMD_DEL_ENTRY,
		.doit = prr_nl_del_entry,
		.policy = prr_del_policy,
		.maxattr = ARRAY_SIZE(prr_del_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = PRR_CMD_GET_ENTRY,
		.doit = prr_nl_get_entry,
		.dumpit = prr_nl_dump_entries,
		.policy = prr_key_policy,
		.maxattr = ARRAY_SIZE(prr_key_policy) - 1,
	}, {
		.cmd = PRR_CMD_FLUSH,
		.doit = prr_nl_flush,
		.policy = prr_addr_policy,
		.maxattr = ARRAY_SIZE(prr_addr_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = PRR_CMD_GET_STATS,
		.doit = prr_nl_get_stats,
	}, {
		.cmd = PRR_CMD_SET_CONFIG,
		.doit = prr_nl_set_config,
		.policy = prr_config_policy,
		.maxattr = ARRAY_SIZE(prr_config_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = PRR_CMD_GET_CONFIG,
		.doit = prr_nl_get_config,
	}, {
		.cmd = PRR_CMD_NEW_NAT,
		.doit = prr_nl_new_nat,
		.policy = prr_nat_policy,
		.maxattr = ARRAY_SIZE(prr_nat_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = PRR_CMD_DEL_NAT,
		.doit = prr_nl_del_nat,
		.policy = prr_nat_policy,
		.maxattr = ARRAY_SIZE(prr_nat_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = PRR_CMD_GET_NAT,
		.dumpit = prr_nl_dump_nats,
	}, {
		.cmd = PRR_CMD_REPLACE_BEGIN,
		.doit = prr_nl_replace_begin,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = PRR_CMD_REPLACE_COMMIT,
		.doit = prr_nl_replace_commit,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = PRR_CMD_REPLACE_ABORT,
		.doit = prr_nl_replace_abort,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

struct genl_family prr_genl_family __ro_after_init = {
	.name = PRR_GENL_NAME,
	.version = PRR_GENL_VERSION,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = prr_genl_ops,
	.n_ops = ARRAY_SIZE(prr_genl_ops),
	.mcgrps = prr_mcgrps,
	.n_mcgrps = ARRAY_SIZE(prr_mcgrps),
};

/*
 * A staging table belongs to the socket that began the replace: when that
 * socket closes (the process died, or forgot), the table goes with it.
 */
static int prr_nl_sock_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC)
		prr_net_release_portid(n->net, n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block prr_nl_sock_notifier = {
	.notifier_call = prr_nl_sock_event,
};

int __init prr_genl_init(void)
{
	int err;

	err = netlink_register_notifier(&prr_nl_sock_notifier);
	if (err)
		return err;
	err = genl_register_family(&prr_genl_family);
	if (err)
		netlink_unregister_notifier(&prr_nl_sock_notifier);
	return err;
}

void prr_genl_exit(void)
{
	genl_unregister_family(&prr_genl_family);
	netlink_unregister_notifier(&prr_nl_sock_notifier);
}
