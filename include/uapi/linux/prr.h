/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * prr: Port Range Router (RFC 6346 "A+P") generic netlink ABI.
 *
 * This header is the single definition of the ABI shared by the kernel
 * module (kmod/) and the configuration tool (tools/prrctl/).
 *
 * An entry maps (shared IPv4 address, port set) to an action.  A port p
 * belongs to the set (value, mask) iff (p & mask) == value, the RFC 6431
 * §2.1 Port Range Value / Port Range Mask; mask bits may be non-contiguous.
 *
 * Commands (family PRR_GENL_NAME, version PRR_GENL_VERSION):
 *
 * PRR_CMD_NEW_ENTRY  doit, CAP_NET_ADMIN.  Requires PRR_A_ADDR, the port
 *		      set, PRR_A_ACTION; for PRR_ACTION_VIA also PRR_A_VIA
 *		      and optionally PRR_A_OIF; optionally PRR_A_NAME.  The
 *		      port set is either one piece, PRR_A_PORT_VALUE and
 *		      PRR_A_PORT_MASK, or PRR_A_PIECES: 1 to PRR_PIECES_MAX
 *		      pairwise disjoint pieces, each an entry of its own with
 *		      the same action, next hop and name (one CPE whose set
 *		      is a union of pieces, e.g. a MAP port set).  Every
 *		      piece is checked (same rules as one entry) before any
 *		      is added: on any error nothing changes (should memory
 *		      run out half-way, the pieces added are removed again),
 *		      and the extack's bad attribute (NLMSGERR_ATTR_OFFS) is
 *		      the failing piece's nest.  When a piece partially overlaps
 *		      an existing entry, the extack cookie carries a struct
 *		      prr_conflict naming that entry.  The entries one
 *		      request adds share a PRR_A_CPE_ID.
 * PRR_CMD_DEL_ENTRY  doit, CAP_NET_ADMIN.  Either PRR_A_ADDR and a port
 *		      set as for NEW (its pieces are removed, all of them
 *		      or, when one is absent, none: ENOENT, bad attribute
 *		      the absent piece), or PRR_A_NAME and optionally
 *		      PRR_A_ADDR: every entry of that name (of that address)
 *		      is removed, ENOENT when there is none.
 * PRR_CMD_GET_ENTRY  doit: one entry, identified by PRR_A_ADDR,
 *		      PRR_A_PORT_VALUE and PRR_A_PORT_MASK.
 *		      dumpit: every entry of the namespace, optionally only
 *		      those of PRR_A_ADDR.  Replies carry the identifying
 *		      attributes, PRR_A_ACTION, PRR_A_VIA and PRR_A_OIF where
 *		      set, PRR_A_PACKETS and PRR_A_BYTES when the entry has
 *		      counters (it was added with PRR_A_ENTRY_COUNTERS 1),
 *		      PRR_A_CPE_ID and PRR_A_NAME when the entry has one.
 * PRR_CMD_FLUSH      doit, CAP_NET_ADMIN.  Removes every entry of the
 *		      namespace, or only those of PRR_A_ADDR when given.
 * PRR_CMD_GET_STATS  doit.  Replies with PRR_A_STATS, a nest of
 *		      PRR_STATS_A_* counters of the namespace.
 * PRR_CMD_SET_CONFIG doit, CAP_NET_ADMIN.  Changes the namespace settings
 *		      given: PRR_A_SOURCE_CHECK, PRR_A_UNOWNED,
 *		      PRR_A_ENTRY_COUNTERS (at least one).
 * PRR_CMD_GET_CONFIG doit.  Replies with every namespace setting.
 * PRR_CMD_NEW_NAT    doit, CAP_NET_ADMIN.  The CPE role: new connections
 *		      from PRR_A_NAT_PREFIX/PRR_A_NAT_PREFIX_LEN (leaving by
 *		      PRR_A_OIF, if given) get source address PRR_A_ADDR and
 *		      a source port (ICMP Identifier) from the entries of
 *		      PRR_A_ADDR whose action is PRR_ACTION_LOCAL.
 * PRR_CMD_DEL_NAT    doit, CAP_NET_ADMIN.  PRR_A_NAT_PREFIX and
 *		      PRR_A_NAT_PREFIX_LEN identify the rule.
 * PRR_CMD_GET_NAT    dumpit: every NAT rule of the namespace.
 * PRR_CMD_REPLACE_BEGIN doit, CAP_NET_ADMIN.  Starts replacing the table:
 *		      creates the namespace's staging table, empty, owned by
 *		      the requesting socket (EBUSY if any socket owns one).
 *		      PRR_CMD_NEW_ENTRY and PRR_CMD_SET_CONFIG with the flag
 *		      PRR_A_STAGED then go to the staging table (same checks
 *		      as live ones, overlaps checked within the staging
 *		      table) and staged settings, seen by no packet yet.
 * PRR_CMD_REPLACE_COMMIT doit, CAP_NET_ADMIN.  Makes the staging table the
 *		      table in one pointer store (a packet sees the old
 *		      table or the new one) and applies the staged settings;
 *		      entries identical in both tables (key, action, next
 *		      hop) keep their counters.  An empty staging table
 *		      flushes.
 * PRR_CMD_REPLACE_ABORT doit, CAP_NET_ADMIN.  Drops the staging table.
 *		      Closing the owning socket does the same.
 *
 * Multicast group PRR_MCGRP_TABLE (anyone may listen): every change of
 * the table of a namespace is sent to the listeners of that namespace once
 * it is committed, one message per entry, in the order of the changes
 * (RFC 6346 §6: port-set assignments must be traceable):
 *   PRR_CMD_NEW_ENTRY  an entry was added; with NLM_F_REPLACE in
 *		      nlmsg_flags, an entry of the same key replaced (other
 *		      action or next hop, by PRR_CMD_REPLACE_COMMIT)
 *   PRR_CMD_DEL_ENTRY  an entry was removed (PRR_CMD_DEL_ENTRY, one per
 *		      entry of a PRR_CMD_FLUSH, or absent from the table a
 *		      PRR_CMD_REPLACE_COMMIT put in place)
 *   PRR_CMD_SET_CONFIG a setting changed (PRR_CMD_SET_CONFIG or a commit);
 *		      carries every setting, as PRR_CMD_GET_CONFIG replies
 * Entry messages carry the attributes of a dump (a removed entry's final
 * counters).  Every message carries PRR_A_NETNS_COOKIE.  A listener whose
 * receive buffer overflowed gets ENOBUFS: notifications were lost.
 *
 * Addresses are in network byte order; ports, masks and counters in host
 * byte order.
 */
#ifndef _UAPI_LINUX_PRR_H
#define _UAPI_LINUX_PRR_H

#include <linux/types.h>

#define PRR_GENL_NAME		"prr"
#define PRR_GENL_VERSION	1
#define PRR_MCGRP_TABLE		"table"

enum prr_cmd {
	PRR_CMD_UNSPEC,
	PRR_CMD_NEW_ENTRY,
	PRR_CMD_DEL_ENTRY,
	PRR_CMD_GET_ENTRY,
	PRR_CMD_FLUSH,
	PRR_CMD_GET_STATS,
	PRR_CMD_SET_CONFIG,
	PRR_CMD_GET_CONFIG,
	PRR_CMD_NEW_NAT,
	PRR_CMD_DEL_NAT,
	PRR_CMD_GET_NAT,
	PRR_CMD_REPLACE_BEGIN,
	PRR_CMD_REPLACE_COMMIT,
	PRR_CMD_REPLACE_ABORT,

	__PRR_CMD_MAX,
};

#define PRR_CMD_MAX (__PRR_CMD_MAX - 1)

enum prr_attr {
	PRR_A_UNSPEC,
	PRR_A_PAD,
	PRR_A_ADDR,		/* __be32: the shared IPv4 address */
	PRR_A_PORT_VALUE,	/* u16: RFC 6431 Port Range Value */
	PRR_A_PORT_MASK,	/* u16: RFC 6431 Port Range Mask */
	PRR_A_ACTION,		/* u8: enum prr_action */
	PRR_A_VIA,		/* __be32: next hop, directly connected */
	PRR_A_OIF,		/* u32: ifindex of the next hop's device */
	PRR_A_PACKETS,		/* u64: packets that matched the entry */
	PRR_A_BYTES,		/* u64: bytes that matched the entry */
	PRR_A_STATS,		/* nest: PRR_STATS_A_* */
	PRR_A_SOURCE_CHECK,	/* u8: 1 validates sources (the default) */
	PRR_A_UNOWNED,		/* u8: enum prr_unowned */
	PRR_A_NAT_PREFIX,	/* __be32: the LAN prefix a NAT rule applies to */
	PRR_A_NAT_PREFIX_LEN,	/* u8: its length, 0-32 */
	PRR_A_STAGED,		/* flag: into the staging table */
	PRR_A_NAME,		/* string: subscriber or CPE name, see below */
	PRR_A_PIECES,		/* nest: port set pieces, see below */
	PRR_A_CPE_ID,		/* u32: same for the entries of one NEW */
	/* Notifications (PRR_MCGRP_TABLE): */
	PRR_A_NETNS_COOKIE,	/* u64: net_cookie of the namespace changed */
	PRR_A_ENTRY_COUNTERS,	/* u8: 1 gives new entries counters (default) */

	__PRR_A_MAX,
};

#define PRR_A_MAX (__PRR_A_MAX - 1)

/*
 * PRR_A_NAME: NUL-terminated, 1 to PRR_NAME_MAX - 1 printable ASCII
 * characters without blanks ('!' to '~').  A label of the entry for the
 * operator, kept next to it (never used to route packets).
 *
 * PRR_A_PIECES: a nest of 1 to PRR_PIECES_MAX nests (their types are
 * ignored; senders number them 1, 2, ...), each holding one
 * PRR_A_PORT_VALUE and one PRR_A_PORT_MASK.
 *
 * PRR_A_CPE_ID: set by the kernel (never 0); every entry one
 * PRR_CMD_NEW_ENTRY added has the same, which no other live entry of the
 * namespace has (a 32-bit counter: it may wrap after 2^32 requests).
 * Tools show the entries sharing it as one CPE.  Not accepted in requests.
 */
#define PRR_NAME_MAX		32	/* bytes, the NUL included */
#define PRR_PIECES_MAX		32

enum prr_action {
	PRR_ACTION_UNSPEC,
	PRR_ACTION_VIA,		/* forward to PRR_A_VIA */
	PRR_ACTION_LOCAL,	/* leave the packet to the normal stack */
	PRR_ACTION_DROP,	/* drop, counted as PRR_STATS_A_DROP_POLICY */

	__PRR_ACTION_MAX,
};

#define PRR_ACTION_MAX (__PRR_ACTION_MAX - 1)

/* What happens to a packet for a port of a shared address nobody owns. */
enum prr_unowned {
	PRR_UNOWNED_DROP,	/* silently (the default) */
	PRR_UNOWNED_REJECT,	/* with ICMP 3/13, rate limited by the kernel */

	__PRR_UNOWNED_MAX,
};

#define PRR_UNOWNED_MAX (__PRR_UNOWNED_MAX - 1)

/* Per-namespace counters, each a u64 inside PRR_A_STATS. */
enum prr_stats_attr {
	PRR_STATS_A_UNSPEC,
	PRR_STATS_A_PAD,
	PRR_STATS_A_FORWARDED,		/* handed to a CPE next hop */
	PRR_STATS_A_LOCAL,		/* left to the stack by a local entry */
	PRR_STATS_A_DROP_NO_ENTRY,	/* shared address, no set owns the port */
	PRR_STATS_A_DROP_NO_PORT,	/* shared address, packet has no port */
	PRR_STATS_A_DROP_MALFORMED,	/* shared address, invalid headers */
	PRR_STATS_A_DROP_UNREACHABLE,	/* next hop not on-link or unroutable */
	PRR_STATS_A_DROP_POLICY,	/* matched an entry whose action is drop */
	PRR_STATS_A_VALIDATED,		/* from a shared address, source owned */
	PRR_STATS_A_DROP_SPOOFED,	/* from a shared address, not its owner */
	PRR_STATS_A_NAT_MAPPED,		/* new connections given a port */
	PRR_STATS_A_DROP_NAT_EXHAUSTED,	/* no free port in the set */
	PRR_STATS_A_DROP_NAT_NO_PORT,	/* to translate, but has no port */
	PRR_STATS_A_DROP_NAT_UNTRANSLATED, /* would leave with a LAN source */

	__PRR_STATS_A_MAX,
};

#define PRR_STATS_A_MAX (__PRR_STATS_A_MAX - 1)

/*
 * Extack cookie of a PRR_CMD_NEW_ENTRY rejected because its set partially
 * overlaps an existing entry of the same address: the existing entry.
 */
struct prr_conflict {
	__be32 addr;
	__u16 port_value;
	__u16 port_mask;
};

#endif /* _UAPI_LINUX_PRR_H */
