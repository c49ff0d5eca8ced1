/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-network-namespace state: the port-set table, its rules, the next hops
 * they forward to and the namespace's counters.
 */
#ifndef _PRR_NETNS_H
#define _PRR_NETNS_H

#include <linux/in.h>
#include <linux/mutex.h>
#include <linux/rhashtable.h>
#include <linux/netfilter.h>
#include <linux/u64_stats_sync.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/netlink.h>
#include <linux/prr.h>

#include "portset.h"
#include "reclaim.h"

struct prr_nexthop;

struct prr_counters {
	u64_stats_t packets;
	u64_stats_t bytes;
	struct u64_stats_sync syncp;
};

/* Namespace counters, indexed by enum prr_stats_attr. */
struct prr_stats {
	u64_stats_t cnt[PRR_STATS_A_MAX + 1];
	struct u64_stats_sync syncp;
};

/* A table entry and what to do with the packets it matches. */
struct prr_rule {
	struct prr_entry ent;
	struct prr_nexthop *nh;		/* PRR_ACTION_VIA only */
	/* NULL: the namespace's entry-counters setting was off */
	struct prr_counters __percpu *counters;
	u8 action;			/* enum prr_action */
	bool named;			/* prr_net.names has cpe_id's name */
	u32 cpe_id;			/* PRR_A_CPE_ID; control plane only */
};

/*
 * What PRR_CMD_NEW_ENTRY adds: one entry per piece, all with the same
 * action, next hop and name, all or none.  @attr[i] is the piece's nest
 * (NULL for PRR_A_PORT_VALUE/PRR_A_PORT_MASK), for the extack.
 */
struct prr_rule_spec {
	struct prr_entry ent[PRR_PIECES_MAX];
	const struct nlattr *attr[PRR_PIECES_MAX];
	unsigned int n;
	u8 action;
	__be32 via;
	int oif;			/* 0: whichever device reaches via */
	bool staged;			/* into the staging table of portid */
	u32 portid;
	const char *name;		/* NULL: none */
};

struct prr_config {
	int source_check;		/* -1: unchanged */
	int unowned;			/* -1: unchanged */
	int entry_counters;		/* -1: unchanged */
};

/*
 * Every table sits after a pointer to the lock its writers hold, so that
 * prr_table_writer_held() can check the live table and a staging table
 * alike.
 */
struct prr_table_head {
	struct mutex *lock;		/* held by every writer of table */
	struct prr_table table;
};

/*
 * The table PRR_CMD_REPLACE_BEGIN starts and PRR_CMD_REPLACE_COMMIT swaps
 * in, with the settings to apply then.  Owned by one netlink socket (portid)
 * and written, like the live table, under prr_net.lock.  No packet sees it
 * before the commit.
 */
struct prr_stage {
	struct prr_table_head head;
	u32 portid;
	struct prr_config config;
};

struct prr_net {
	struct mutex lock;		/* serializes every writer */
	union {
		struct prr_table_head live;
		struct {		/* the same, by the usual names */
			struct mutex *table_lock;
			struct prr_table table;
		};
	};
	struct prr_reclaim reclaim;	/* unlinked rules, under lock */
	struct prr_stage *stage;	/* under lock; NULL: none */
	u32 stage_owner;		/* its portid, readable without lock */
	struct list_head nexthops;	/* written under lock, read under RCU */
	struct rhashtable nh_index;	/* the same next hops, by gw + oif */
	struct list_head nats;		/* likewise: struct prr_nat */
	struct nf_hook_ops nat_ops;	/* registered with nf_nat */
	struct nf_hook_ops nat_guard_ops; /* drops what NAT left alone */
	bool nat_hooked;
	struct prr_stats __percpu *stats;
	struct nf_hook_ops hook_ops[2];	/* PRE_ROUTING, LOCAL_OUT */
	bool hooked;			/* hooks and defragmentation on */
	bool ready;			/* pernet init has run */
	/* Settings: written under lock, read with READ_ONCE() by packets. */
	bool source_check;
	u8 unowned;			/* enum prr_unowned */
	bool entry_counters;		/* for the entries added from now on */
	u32 gen;			/* bumped by every change; for dumps */
	u32 cpe_id;			/* the last PRR_A_CPE_ID given */
	struct xarray names;		/* cpe_id -> its name, under lock */
	struct net *net;
};

extern unsigned int prr_net_id;

static inline struct prr_net *prr_net(const struct net *net)
{
	return net_generic(net, prr_net_id);
}

/* Not 0.0.0.0/8, multicast, limited broadcast or loopback. */
static inline bool prr_ipv4_unicast(__be32 addr)
{
	return !(ipv4_is_zeronet(addr) || ipv4_is_multicast(addr) ||
		 ipv4_is_lbcast(addr) || ipv4_is_loopback(addr));
}

static inline struct prr_rule *prr_rule_of(const struct prr_entry *e)
{
	return container_of(e, struct prr_rule, ent);
}

static inline void prr_count(struct prr_net *pn, enum prr_stats_attr what)
{
	struct prr_stats *s = this_cpu_ptr(pn->stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->cnt[what]);
	u64_stats_update_end(&s->syncp);
}

static inline unsigned int prr_drop(struct prr_net *pn,
				    enum prr_stats_attr why)
{
	prr_count(pn, why);
	return NF_DROP;
}

static inline void prr_rule_count(const struct prr_rule *r, unsigned int len)
{
	struct prr_counters *c;

	if (!r->counters)
		return;
	c = this_cpu_ptr(r->counters);
	u64_stats_update_begin(&c->syncp);
	u64_stats_inc(&c->packets);
	u64_stats_add(&c->bytes, len);
	u64_stats_update_end(&c->syncp);
}

const char *prr_rule_name(struct prr_net *pn, const struct prr_rule *r);
bool prr_rule_read_counters(const struct prr_rule *r, u64 *packets,
			    u64 *bytes);
void prr_net_read_stats(struct prr_net *pn, u64 *cnt);

int prr_net_add_rule(struct prr_net *pn, const struct prr_rule_spec *spec,
		     struct netlink_ext_ack *extack);
int prr_net_del_rules(struct prr_net *pn, const struct prr_entry *keys,
		      unsigned int n, unsigned int *missing);
int prr_net_del_name(struct prr_net *pn, const char *name,
		     const __be32 *addr);
void prr_net_flush(struct prr_net *pn, const __be32 *addr);

void prr_net_set_config(struct prr_net *pn, const struct prr_config *c);
void prr_net_get_config(struct prr_net *pn, struct prr_config *c);

int prr_net_replace_begin(struct prr_net *pn, u32 portid,
			  struct netlink_ext_ack *extack);
int prr_net_stage_config(struct prr_net *pn, u32 portid,
			 const struct prr_config *c,
			 struct netlink_ext_ack *extack);
int prr_net_replace_commit(struct prr_net *pn, u32 portid,
			   struct netlink_ext_ack *extack);
int prr_net_replace_abort(struct prr_net *pn, u32 portid,
			  struct netlink_ext_ack *extack);
void prr_net_release_portid(struct net *net, u32 portid);

int prr_netns_init(void);
void prr_netns_exit(void);

#endif /* _PRR_NETNS_H */
