// SPDX-License-Identifier: GPL-2.0
/*
 * prr_netlink: the generic netlink ABI of prr (include/uapi/linux/prr.h).
 *
 * Malformed and conflicting requests to the family "prr" must be refused
 * with the documented errno and an extack message (plus the offending
 * attribute's offset for policy violations) and must leave the table as
 * it was; valid requests must do what they say.  The requests are built
 * with libmnl directly, not with prrctl.  Every test runs in a network
 * namespace of its own, so it starts with an empty table.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/prr.h>

#include "kselftest_harness.h"

#define SHARED		"192.0.2.1"
#define OTHER_SHARED	"192.0.2.2"
#define NEXT_HOP	"10.0.1.2"
#define RX_SIZE		32768	/* the kernel's largest dump message */
#define TX_SIZE		1024

/* Which attributes entry_request() puts. */
#define WITH_ADDR	0x1
#define WITH_VALUE	0x2
#define WITH_MASK	0x4
#define WITH_ACTION	0x8
#define WITH_KEY	(WITH_ADDR | WITH_VALUE | WITH_MASK)
#define WITH_ALL	(WITH_KEY | WITH_ACTION)

/* Attributes of the last entry a reply carried. */
struct entry_seen {
	bool has[PRR_A_MAX + 1];
	__u32 addr;
	__u16 value;
	__u16 mask;
	__u8 action;
	__u32 via;
	__u32 oif;
	__u64 packets;
	__u64 bytes;
	__u8 source_check;
	__u8 unowned;
	__u8 entry_counters;
	__u32 cpe_id;
	char name[PRR_NAME_MAX];
};

/* What the kernel answered to one request. */
struct answer {
	int error;			/* positive errno; 0: success */
	bool has_msg;			/* NLMSGERR_ATTR_MSG */
	char msg[256];
	bool has_offs;			/* NLMSGERR_ATTR_OFFS */
	__u32 offs;
	int cookie_len;			/* NLMSGERR_ATTR_COOKIE; -1: absent */
	struct prr_conflict cookie;
	int replies;			/* data messages */
	bool malformed;			/* a reply attribute had a bad size */
	struct entry_seen last;
	__u16 family_id;		/* CTRL_CMD_GETFAMILY replies only */
};

/* A generic netlink socket talking to "prr". */
struct prr_sock {
	/* First, so that netlink messages in them are aligned. */
	char rx[RX_SIZE];
	char tx[TX_SIZE];
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	__u16 family;
};

FIXTURE(prr) {
	struct prr_sock s;
};

static __u32 ip(const char *s)
{
	return inet_addr(s);
}

static int extack_attr_cb(const struct nlattr *attr, void *data)
{
	struct answer *ans = data;
	int len = mnl_attr_get_payload_len(attr);

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			break;
		ans->has_msg = true;
		snprintf(ans->msg, sizeof(ans->msg), "%s",
			 mnl_attr_get_str(attr));
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			break;
		ans->has_offs = true;
		ans->offs = mnl_attr_get_u32(attr);
		break;
	case NLMSGERR_ATTR_COOKIE:
		ans->cookie_len = len;
		if (len == sizeof(ans->cookie))
			memcpy(&ans->cookie, mnl_attr_get_payload(attr), len);
		break;
	}
	return MNL_CB_OK;
}

static void parse_extack(const struct nlmsghdr *nlh, size_t offset,
			 struct answer *ans)
{
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (offset > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_parse(nlh, offset, extack_attr_cb, ans);
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct answer *ans = data;
	size_t offset = sizeof(*e);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset = sizeof(e->error) + MNL_ALIGN(e->msg.nlmsg_len);
	ans->error = e->error < 0 ? -e->error : e->error;
	parse_extack(nlh, offset, ans);
	return MNL_CB_STOP;
}

static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct answer *ans = data;
	int error = 0;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(error))
		memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
	ans->error = error < 0 ? -error : 0;
	parse_extack(nlh, sizeof(error), ans);
	return MNL_CB_STOP;
}

static mnl_cb_t ctl_cb[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR]	= error_cb,
	[NLMSG_DONE]	= done_cb,
};

static bool attr_ok(const struct nlattr *attr, enum mnl_attr_data_type type,
		    struct answer *ans)
{
	if (mnl_attr_validate(attr, type) < 0) {
		ans->malformed = true;
		return false;
	}
	return true;
}

static int entry_attr_cb(const struct nlattr *attr, void *data)
{
	unsigned int type = mnl_attr_get_type(attr);
	struct answer *ans = data;
	struct entry_seen *e = &ans->last;

	switch (type) {
	case PRR_A_ADDR:
		if (attr_ok(attr, MNL_TYPE_U32, ans))
			e->addr = mnl_attr_get_u32(attr);
		break;
	case PRR_A_PORT_VALUE:
		if (attr_ok(attr, MNL_TYPE_U16, ans))
			e->value = mnl_attr_get_u16(attr);
		break;
	case PRR_A_PORT_MASK:
		if (attr_ok(attr, MNL_TYPE_U16, ans))
			e->mask = mnl_attr_get_u16(attr);
		break;
	case PRR_A_ACTION:
		if (attr_ok(attr, MNL_TYPE_U8, ans))
			e->action = mnl_attr_get_u8(attr);
		break;
	case PRR_A_VIA:
		if (attr_ok(attr, MNL_TYPE_U32, ans))
			e->via = mnl_attr_get_u32(attr);
		break;
	case PRR_A_OIF:
		if (attr_ok(attr, MNL_TYPE_U32, ans))
			e->oif = mnl_attr_get_u32(attr);
		break;
	case PRR_A_PACKETS:
		if (attr_ok(attr, MNL_TYPE_U64, ans))
			e->packets = mnl_attr_get_u64(attr);
		break;
	case PRR_A_BYTES:
		if (attr_ok(attr, MNL_TYPE_U64, ans))
			e->bytes = mnl_attr_get_u64(attr);
		break;
	case PRR_A_SOURCE_CHECK:
		if (attr_ok(attr, MNL_TYPE_U8, ans))
			e->source_check = mnl_attr_get_u8(attr);
		break;
	case PRR_A_UNOWNED:
		if (attr_ok(attr, MNL_TYPE_U8, ans))
			e->unowned = mnl_attr_get_u8(attr);
		break;
	case PRR_A_ENTRY_COUNTERS:
		if (attr_ok(attr, MNL_TYPE_U8, ans))
			e->entry_counters = mnl_attr_get_u8(attr);
		break;
	case PRR_A_CPE_ID:
		if (attr_ok(attr, MNL_TYPE_U32, ans))
			e->cpe_id = mnl_attr_get_u32(attr);
		break;
	case PRR_A_NAME:
		if (attr_ok(attr, MNL_TYPE_NUL_STRING, ans))
			snprintf(e->name, sizeof(e->name), "%s",
				 mnl_attr_get_str(attr));
		break;
	}
	if (type <= PRR_A_MAX)
		e->has[type] = true;
	return MNL_CB_OK;
}

static int entry_cb(const struct nlmsghdr *nlh, void *data)
{
	struct answer *ans = data;

	ans->replies++;
	memset(&ans->last, 0, sizeof(ans->last));
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), entry_attr_cb, ans);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct answer *ans = data;
	const struct nlattr *attr;

	ans->replies++;
	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
		    mnl_attr_validate(attr, MNL_TYPE_U16) == 0)
			ans->family_id = mnl_attr_get_u16(attr);
	}
	return MNL_CB_OK;
}

/*
 * Sends nlh and collects the answer up to the ack, error or end of dump.
 * Returns 0, or -errno when the conversation itself failed.
 */
static int talk(struct prr_sock *sk, const struct nlmsghdr *nlh,
		mnl_cb_t cb, struct answer *ans)
{
	ssize_t len;
	int ret;

	memset(ans, 0, sizeof(*ans));
	ans->cookie_len = -1;
	if (mnl_socket_sendto(sk->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		len = mnl_socket_recvfrom(sk->nl, sk->rx, RX_SIZE);
		if (len < 0)
			return -errno;
		ret = mnl_cb_run2(sk->rx, len, nlh->nlmsg_seq, sk->portid,
				  cb, ans, ctl_cb, MNL_ARRAY_SIZE(ctl_cb));
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

static struct nlmsghdr *genl_request(struct prr_sock *sk, __u16 type,
				     __u8 cmd, __u8 version, __u16 flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(sk->tx);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++sk->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

static struct nlmsghdr *request(struct prr_sock *sk, __u8 cmd,
				__u16 flags)
{
	return genl_request(sk, sk->family, cmd, PRR_GENL_VERSION, flags);
}

/* A request for cmd with the attributes selected by with. */
static struct nlmsghdr *entry_request(struct prr_sock *sk, __u8 cmd,
				      unsigned int with, const char *addr,
				      __u16 value, __u16 mask, __u8 action)
{
	struct nlmsghdr *nlh;

	nlh = request(sk, cmd, NLM_F_ACK);
	if (with & WITH_ADDR)
		mnl_attr_put_u32(nlh, PRR_A_ADDR, ip(addr));
	if (with & WITH_VALUE)
		mnl_attr_put_u16(nlh, PRR_A_PORT_VALUE, value);
	if (with & WITH_MASK)
		mnl_attr_put_u16(nlh, PRR_A_PORT_MASK, mask);
	if (with & WITH_ACTION)
		mnl_attr_put_u8(nlh, PRR_A_ACTION, action);
	return nlh;
}

/* Where the next attribute put into nlh will start. */
static const struct nlattr *next_attr(const struct nlmsghdr *nlh)
{
	return mnl_nlmsg_get_payload_tail(nlh);
}

static __u16 resolve_family(struct __test_metadata *_metadata,
			    struct prr_sock *sk)
{
	struct nlmsghdr *nlh;
	struct answer ans;

	nlh = genl_request(sk, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1,
			   NLM_F_ACK);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, PRR_GENL_NAME);
	ASSERT_EQ(0, talk(sk, nlh, family_cb, &ans));
	if (ans.error)
		return 0;
	return ans.family_id;
}

/* Dumps the table (only addr's entries unless NULL); returns the count. */
static int dump_entries(struct __test_metadata *_metadata,
			struct prr_sock *sk, const char *addr,
			struct answer *ans)
{
	struct nlmsghdr *nlh = request(sk, PRR_CMD_GET_ENTRY, NLM_F_DUMP);
	struct answer local;

	if (!ans)
		ans = &local;
	if (addr)
		mnl_attr_put_u32(nlh, PRR_A_ADDR, ip(addr));
	ASSERT_EQ(0, talk(sk, nlh, entry_cb, ans));
	ASSERT_EQ(0, ans->error) {
		TH_LOG("GET_ENTRY dump: %s (%s)", strerror(ans->error),
		       ans->msg);
	}
	EXPECT_FALSE(ans->malformed);
	return ans->replies;
}

static int count_entries(struct __test_metadata *_metadata,
			 struct prr_sock *sk)
{
	return dump_entries(_metadata, sk, NULL, NULL);
}

/* Sends a request that must succeed. */
static void expect_ok(struct __test_metadata *_metadata,
		      struct prr_sock *sk, const struct nlmsghdr *nlh)
{
	struct answer ans;

	ASSERT_EQ(0, talk(sk, nlh, entry_cb, &ans));
	ASSERT_EQ(0, ans.error) {
		TH_LOG("request refused: %s (%s)", strerror(ans.error),
		       ans.msg);
	}
}

static void add_entry(struct __test_metadata *_metadata,
		      struct prr_sock *sk, const char *addr,
		      __u16 value, __u16 mask, __u8 action)
{
	expect_ok(_metadata, sk,
		  entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, addr,
				value, mask, action));
}

/*
 * Sends a request that must be refused with errno want (any errno if 0)
 * and an extack message, msg if not NULL.  ans (if not NULL) gets the
 * answer for further checks.
 */
static void expect_refused(struct __test_metadata *_metadata,
			   struct prr_sock *sk,
			   const struct nlmsghdr *nlh, int want,
			   const char *msg, struct answer *ans)
{
	struct answer local;

	if (!ans)
		ans = &local;
	ASSERT_EQ(0, talk(sk, nlh, entry_cb, ans));
	if (want) {
		EXPECT_EQ(want, ans->error) {
			TH_LOG("got %s (%s)", strerror(ans->error), ans->msg);
		}
	} else {
		EXPECT_NE(0, ans->error);
	}
	EXPECT_TRUE(ans->has_msg);
	EXPECT_STRNE("", ans->msg);
	if (msg)
		EXPECT_STREQ(msg, ans->msg);
}

/*
 * Sends a request the netlink core must refuse by policy (EINVAL or
 * ERANGE) with an extack message and the offset of the bad attribute.
 */
static void expect_policy_refused(struct __test_metadata *_metadata,
				  struct prr_sock *sk,
				  const struct nlmsghdr *nlh,
				  const struct nlattr *bad)
{
	__u32 offs = (const char *)bad - (const char *)nlh;
	struct answer ans;

	ASSERT_EQ(0, talk(sk, nlh, entry_cb, &ans));
	EXPECT_TRUE(ans.error == EINVAL || ans.error == ERANGE) {
		TH_LOG("got %s (%s)", strerror(ans.error), ans.msg);
	}
	EXPECT_TRUE(ans.has_msg);
	EXPECT_STRNE("", ans.msg);
	EXPECT_TRUE(ans.has_offs);
	EXPECT_EQ(offs, ans.offs);
}

/* A request lacking one attribute is refused with msg; nothing changes. */
static void check_missing(struct __test_metadata *_metadata,
			  struct prr_sock *sk, __u8 cmd,
			  unsigned int without, const char *msg)
{
	unsigned int with = cmd == PRR_CMD_NEW_ENTRY ? WITH_ALL : WITH_KEY;

	if (cmd == PRR_CMD_DEL_ENTRY)
		add_entry(_metadata, sk, SHARED, 0x0400, 0x1400,
			  PRR_ACTION_LOCAL);
	expect_refused(_metadata, sk,
		       entry_request(sk, cmd, with & ~without, SHARED,
				     0x0400, 0x1400, PRR_ACTION_LOCAL),
		       0, msg, NULL);
	EXPECT_EQ(cmd == PRR_CMD_DEL_ENTRY ? 1 : 0,
		  count_entries(_metadata, sk));
}

/* Opens a socket talking to family id @family (0: not resolved yet). */
static void open_sock(struct __test_metadata *_metadata, struct prr_sock *sk,
		      __u16 family)
{
	int one = 1;

	sk->nl = mnl_socket_open(NETLINK_GENERIC);
	ASSERT_NE(NULL, sk->nl);
	ASSERT_EQ(0, mnl_socket_bind(sk->nl, 0, MNL_SOCKET_AUTOPID));
	sk->portid = mnl_socket_get_portid(sk->nl);
	ASSERT_EQ(0, mnl_socket_setsockopt(sk->nl, NETLINK_EXT_ACK, &one,
					   sizeof(one)));
	ASSERT_EQ(0, mnl_socket_setsockopt(sk->nl, NETLINK_CAP_ACK, &one,
					   sizeof(one)));
	sk->seq = time(NULL);
	sk->family = family;
}

FIXTURE_SETUP(prr)
{
	struct prr_sock *sk = &self->s;

	ASSERT_EQ(0, unshare(CLONE_NEWNET)) {
		TH_LOG("unshare(CLONE_NEWNET): %s", strerror(errno));
	}
	open_sock(_metadata, sk, 0);
	sk->family = resolve_family(_metadata, sk);
	ASSERT_NE(0, sk->family) {
		TH_LOG("no family \"%s\" in a new netns: is prr loaded?",
		       PRR_GENL_NAME);
	}
	/* A new namespace starts with an empty table. */
	ASSERT_EQ(0, count_entries(_metadata, sk));
}

FIXTURE_TEARDOWN(prr)
{
	if (self->s.nl)
		mnl_socket_close(self->s.nl);
}

TEST_F(prr, new_missing_addr)
{
	struct prr_sock *sk = &self->s;

	check_missing(_metadata, sk, PRR_CMD_NEW_ENTRY, WITH_ADDR,
		      "missing shared address");
}

TEST_F(prr, new_missing_port_value)
{
	struct prr_sock *sk = &self->s;

	check_missing(_metadata, sk, PRR_CMD_NEW_ENTRY, WITH_VALUE,
		      "missing port value");
}

TEST_F(prr, new_missing_port_mask)
{
	struct prr_sock *sk = &self->s;

	check_missing(_metadata, sk, PRR_CMD_NEW_ENTRY, WITH_MASK,
		      "missing port mask");
}

TEST_F(prr, new_missing_action)
{
	struct prr_sock *sk = &self->s;

	check_missing(_metadata, sk, PRR_CMD_NEW_ENTRY, WITH_ACTION,
		      "missing action");
}

TEST_F(prr, del_missing_addr)
{
	struct prr_sock *sk = &self->s;

	check_missing(_metadata, sk, PRR_CMD_DEL_ENTRY, WITH_ADDR,
		      "missing shared address");
}

TEST_F(prr, del_missing_port_value)
{
	struct prr_sock *sk = &self->s;

	check_missing(_metadata, sk, PRR_CMD_DEL_ENTRY, WITH_VALUE,
		      "missing port value");
}

TEST_F(prr, del_missing_port_mask)
{
	struct prr_sock *sk = &self->s;

	check_missing(_metadata, sk, PRR_CMD_DEL_ENTRY, WITH_MASK,
		      "missing port mask");
}

TEST_F(prr, addr_too_long)
{
	struct prr_sock *sk = &self->s;
	static const __u8 addr[8] = { 192, 0, 2, 1 };
	struct nlmsghdr *nlh;
	const struct nlattr *bad;

	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL & ~WITH_ADDR,
			    NULL, 0x0400, 0x1400, PRR_ACTION_LOCAL);
	bad = next_attr(nlh);
	mnl_attr_put(nlh, PRR_A_ADDR, sizeof(addr), addr);
	expect_policy_refused(_metadata, sk, nlh, bad);
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

TEST_F(prr, port_mask_too_long)
{
	struct prr_sock *sk = &self->s;
	struct nlmsghdr *nlh;
	const struct nlattr *bad;

	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL & ~WITH_MASK,
			    SHARED, 0x0400, 0, PRR_ACTION_LOCAL);
	bad = next_attr(nlh);
	mnl_attr_put_u32(nlh, PRR_A_PORT_MASK, 0x1400);
	expect_policy_refused(_metadata, sk, nlh, bad);
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

TEST_F(prr, port_value_string)
{
	struct prr_sock *sk = &self->s;
	struct nlmsghdr *nlh;
	const struct nlattr *bad;

	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL & ~WITH_VALUE,
			    SHARED, 0, 0x1400, PRR_ACTION_LOCAL);
	bad = next_attr(nlh);
	mnl_attr_put_strz(nlh, PRR_A_PORT_VALUE, "1024");
	expect_policy_refused(_metadata, sk, nlh, bad);
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

TEST_F(prr, action_wrong_length)
{
	struct prr_sock *sk = &self->s;
	struct nlmsghdr *nlh;
	const struct nlattr *bad;

	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_KEY, SHARED,
			    0x0400, 0x1400, 0);
	bad = next_attr(nlh);
	mnl_attr_put_u32(nlh, PRR_A_ACTION, PRR_ACTION_LOCAL);
	expect_policy_refused(_metadata, sk, nlh, bad);
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

TEST_F(prr, action_out_of_range)
{
	struct prr_sock *sk = &self->s;
	static const __u8 actions[] = { PRR_ACTION_MAX + 1, 255 };
	struct nlmsghdr *nlh;
	const struct nlattr *bad;
	unsigned int i;

	for (i = 0; i < MNL_ARRAY_SIZE(actions); i++) {
		nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_KEY, SHARED,
				    0x0400, 0x1400, 0);
		bad = next_attr(nlh);
		mnl_attr_put_u8(nlh, PRR_A_ACTION, actions[i]);
		expect_policy_refused(_metadata, sk, nlh, bad);
	}
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

TEST_F(prr, unknown_attribute)
{
	struct prr_sock *sk = &self->s;
	struct nlmsghdr *nlh;
	const struct nlattr *bad;

	/* Valid but for the unknown attribute: must not be ignored. */
	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, SHARED,
			    0x0400, 0x1400, PRR_ACTION_LOCAL);
	bad = next_attr(nlh);
	mnl_attr_put_u32(nlh, PRR_A_MAX + 1, 0);
	expect_policy_refused(_metadata, sk, nlh, bad);
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

TEST_F(prr, value_outside_mask)
{
	struct prr_sock *sk = &self->s;

	expect_refused(_metadata, sk,
		       entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, SHARED,
				     0x0401, 0x1400, PRR_ACTION_LOCAL),
		       0, "port value has bits outside the port mask", NULL);
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

TEST_F(prr, via_without_next_hop)
{
	struct prr_sock *sk = &self->s;

	expect_refused(_metadata, sk,
		       entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, SHARED,
				     0x0400, 0x1400, PRR_ACTION_VIA),
		       0, "action via needs a next hop", NULL);
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

TEST_F(prr, next_hop_with_local)
{
	struct prr_sock *sk = &self->s;
	struct nlmsghdr *nlh;

	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, SHARED,
			    0x0400, 0x1400, PRR_ACTION_LOCAL);
	mnl_attr_put_u32(nlh, PRR_A_VIA, ip(NEXT_HOP));
	expect_refused(_metadata, sk, nlh, 0,
		       "next hop only applies to action via", NULL);
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

TEST_F(prr, dev_with_drop)
{
	struct prr_sock *sk = &self->s;
	struct nlmsghdr *nlh;

	/* ifindex 1 is lo, present in every namespace. */
	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, SHARED,
			    0x0400, 0x1400, PRR_ACTION_DROP);
	mnl_attr_put_u32(nlh, PRR_A_OIF, 1);
	expect_refused(_metadata, sk, nlh, 0,
		       "next hop only applies to action via", NULL);
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

TEST_F(prr, unknown_oif)
{
	struct prr_sock *sk = &self->s;
	struct nlmsghdr *nlh;

	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, SHARED,
			    0x0400, 0x1400, PRR_ACTION_VIA);
	mnl_attr_put_u32(nlh, PRR_A_VIA, ip(NEXT_HOP));
	mnl_attr_put_u32(nlh, PRR_A_OIF, 0x7fffffff);
	expect_refused(_metadata, sk, nlh, ENODEV, "no such device", NULL);
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

TEST_F(prr, not_unicast)
{
	struct prr_sock *sk = &self->s;
	static const char *const addrs[] = {
		"0.0.0.0", "224.0.0.1", "255.255.255.255",
	};
	unsigned int i;

	for (i = 0; i < MNL_ARRAY_SIZE(addrs); i++) {
		TH_LOG("shared address %s", addrs[i]);
		expect_refused(_metadata, sk,
			       entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL,
					     addrs[i], 0x0400, 0x1400,
					     PRR_ACTION_LOCAL),
			       0, "shared address must be a unicast address",
			       NULL);
	}
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

TEST_F(prr, duplicate_add)
{
	struct prr_sock *sk = &self->s;
	struct answer ans;

	add_entry(_metadata, sk, SHARED, 0x0400, 0x1400, PRR_ACTION_LOCAL);
	expect_refused(_metadata, sk,
		       entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, SHARED,
				     0x0400, 0x1400, PRR_ACTION_DROP),
		       EEXIST, "entry already exists", NULL);
	/* Still the first entry, not replaced by the second. */
	EXPECT_EQ(1, dump_entries(_metadata, sk, NULL, &ans));
	EXPECT_EQ(PRR_ACTION_LOCAL, ans.last.action);
}

TEST_F(prr, partial_overlap)
{
	struct prr_sock *sk = &self->s;
	struct answer ans;

	/* Ports with bit 10 set and bit 12 clear... */
	add_entry(_metadata, sk, SHARED, 0x0400, 0x1400, PRR_ACTION_LOCAL);
	/* ...and ports with bit 11 set: neither set holds the other. */
	expect_refused(_metadata, sk,
		       entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, SHARED,
				     0x0800, 0x0800, PRR_ACTION_DROP),
		       EEXIST, "port set partially overlaps an existing entry",
		       &ans);
	EXPECT_EQ((int)sizeof(struct prr_conflict), ans.cookie_len);
	EXPECT_EQ(ip(SHARED), ans.cookie.addr);
	EXPECT_EQ(0x0400, ans.cookie.port_value);
	EXPECT_EQ(0x1400, ans.cookie.port_mask);
	EXPECT_EQ(1, dump_entries(_metadata, sk, NULL, &ans));
	EXPECT_EQ(0x0400, ans.last.value);
	EXPECT_EQ(0x1400, ans.last.mask);
}

TEST_F(prr, nested_and_disjoint_sets)
{
	struct prr_sock *sk = &self->s;

	/* A default, a set inside it, a set disjoint from that one. */
	add_entry(_metadata, sk, SHARED, 0, 0, PRR_ACTION_DROP);
	add_entry(_metadata, sk, SHARED, 0x0400, 0x1400, PRR_ACTION_LOCAL);
	add_entry(_metadata, sk, SHARED, 0x1000, 0x1000, PRR_ACTION_LOCAL);
	/* The same set on another address is another entry. */
	add_entry(_metadata, sk, OTHER_SHARED, 0x0400, 0x1400,
		  PRR_ACTION_LOCAL);
	EXPECT_EQ(4, count_entries(_metadata, sk));
	EXPECT_EQ(3, dump_entries(_metadata, sk, SHARED, NULL));
}

TEST_F(prr, del_absent)
{
	struct prr_sock *sk = &self->s;

	add_entry(_metadata, sk, SHARED, 0x0400, 0x1400, PRR_ACTION_LOCAL);
	/* Same address and value, other mask: not the entry. */
	expect_refused(_metadata, sk,
		       entry_request(sk, PRR_CMD_DEL_ENTRY, WITH_KEY, SHARED,
				     0x0400, 0x0400, 0),
		       ENOENT, "no such entry", NULL);
	EXPECT_EQ(1, count_entries(_metadata, sk));
}

TEST_F(prr, get_absent)
{
	struct prr_sock *sk = &self->s;

	expect_refused(_metadata, sk,
		       entry_request(sk, PRR_CMD_GET_ENTRY, WITH_KEY, SHARED,
				     0x0400, 0x1400, 0),
		       ENOENT, "no such entry", NULL);
}

TEST_F(prr, add_show_flush)
{
	struct prr_sock *sk = &self->s;
	struct entry_seen *e;
	struct nlmsghdr *nlh;
	struct answer ans;

	add_entry(_metadata, sk, SHARED, 0x0400, 0x1400, PRR_ACTION_LOCAL);

	ASSERT_EQ(1, dump_entries(_metadata, sk, NULL, &ans));
	e = &ans.last;
	EXPECT_TRUE(e->has[PRR_A_ADDR]);
	EXPECT_EQ(ip(SHARED), e->addr);
	EXPECT_TRUE(e->has[PRR_A_PORT_VALUE]);
	EXPECT_EQ(0x0400, e->value);
	EXPECT_TRUE(e->has[PRR_A_PORT_MASK]);
	EXPECT_EQ(0x1400, e->mask);
	EXPECT_TRUE(e->has[PRR_A_ACTION]);
	EXPECT_EQ(PRR_ACTION_LOCAL, e->action);
	EXPECT_FALSE(e->has[PRR_A_VIA]);
	EXPECT_FALSE(e->has[PRR_A_OIF]);
	EXPECT_TRUE(e->has[PRR_A_PACKETS]);
	EXPECT_EQ(0ULL, e->packets);
	EXPECT_TRUE(e->has[PRR_A_BYTES]);
	EXPECT_EQ(0ULL, e->bytes);

	/* The doit form of GET answers the same entry. */
	nlh = entry_request(sk, PRR_CMD_GET_ENTRY, WITH_KEY, SHARED, 0x0400,
			    0x1400, 0);
	ASSERT_EQ(0, talk(sk, nlh, entry_cb, &ans));
	EXPECT_EQ(0, ans.error);
	EXPECT_EQ(1, ans.replies);
	EXPECT_EQ(ip(SHARED), e->addr);
	EXPECT_EQ(0x0400, e->value);
	EXPECT_EQ(0x1400, e->mask);
	EXPECT_EQ(PRR_ACTION_LOCAL, e->action);

	expect_ok(_metadata, sk, request(sk, PRR_CMD_FLUSH, NLM_F_ACK));
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

TEST_F(prr, del_existing)
{
	struct prr_sock *sk = &self->s;
	struct answer ans;

	add_entry(_metadata, sk, SHARED, 0x0400, 0x1400, PRR_ACTION_LOCAL);
	add_entry(_metadata, sk, SHARED, 0x1000, 0x1000, PRR_ACTION_DROP);
	expect_ok(_metadata, sk,
		  entry_request(sk, PRR_CMD_DEL_ENTRY, WITH_KEY, SHARED,
				0x0400, 0x1400, 0));
	ASSERT_EQ(1, dump_entries(_metadata, sk, NULL, &ans));
	EXPECT_EQ(0x1000, ans.last.value);
	EXPECT_EQ(0x1000, ans.last.mask);
}

TEST_F(prr, flush_one_address)
{
	struct prr_sock *sk = &self->s;
	struct nlmsghdr *nlh;
	struct answer ans;

	add_entry(_metadata, sk, SHARED, 0x0400, 0x1400, PRR_ACTION_LOCAL);
	add_entry(_metadata, sk, OTHER_SHARED, 0x0400, 0x1400,
		  PRR_ACTION_LOCAL);
	nlh = request(sk, PRR_CMD_FLUSH, NLM_F_ACK);
	mnl_attr_put_u32(nlh, PRR_A_ADDR, ip(SHARED));
	expect_ok(_metadata, sk, nlh);
	ASSERT_EQ(1, dump_entries(_metadata, sk, NULL, &ans));
	EXPECT_EQ(ip(OTHER_SHARED), ans.last.addr);
}

/* The namespace's settings as PRR_CMD_GET_CONFIG reports them. */
/* ------------------------------------------ pieces, names, CPE ids */

/* A request with @n pieces of @p; *@nest[i] is where piece i starts. */
static struct nlmsghdr *pieces_request(struct prr_sock *sk, __u8 cmd,
				       const __u16 (*p)[2], unsigned int n,
				       const struct nlattr **nest)
{
	struct nlmsghdr *nlh = request(sk, cmd, NLM_F_ACK);
	struct nlattr *all, *one;
	unsigned int i;

	mnl_attr_put_u32(nlh, PRR_A_ADDR, ip(SHARED));
	all = mnl_attr_nest_start(nlh, PRR_A_PIECES);
	for (i = 0; i < n; i++) {
		one = mnl_attr_nest_start(nlh, i + 1);
		if (nest)
			nest[i] = one;
		mnl_attr_put_u16(nlh, PRR_A_PORT_VALUE, p[i][0]);
		mnl_attr_put_u16(nlh, PRR_A_PORT_MASK, p[i][1]);
		mnl_attr_nest_end(nlh, one);
	}
	mnl_attr_nest_end(nlh, all);
	if (cmd == PRR_CMD_NEW_ENTRY)
		mnl_attr_put_u8(nlh, PRR_A_ACTION, PRR_ACTION_LOCAL);
	return nlh;
}

/* The first three pieces of psid 0x34 psid-len 8 psid-offset 6. */
static const __u16 psid34[3][2] = {
	{ 0x04d0, 0xfffc }, { 0x08d0, 0xfbfc }, { 0x10d0, 0xf3fc },
};

TEST_F(prr, pieces_all_or_nothing)
{
	struct prr_sock *sk = &self->s;
	const struct nlattr *nest[3];
	struct nlmsghdr *nlh;
	struct answer ans;

	/* Partially overlaps the third piece only. */
	add_entry(_metadata, sk, SHARED, 0x1000, 0x1001, PRR_ACTION_DROP);
	nlh = pieces_request(sk, PRR_CMD_NEW_ENTRY, psid34, 3, nest);
	expect_refused(_metadata, sk, nlh, EEXIST,
		       "port set partially overlaps an existing entry", &ans);
	EXPECT_EQ((int)sizeof(struct prr_conflict), ans.cookie_len);
	EXPECT_EQ(0x1000, ans.cookie.port_value);
	EXPECT_EQ(0x1001, ans.cookie.port_mask);
	EXPECT_TRUE(ans.has_offs);
	EXPECT_EQ((__u32)((const char *)nest[2] - (const char *)nlh), ans.offs);
	EXPECT_EQ(1, count_entries(_metadata, sk));
	/* The first two alone are fine, and then the third exists. */
	expect_ok(_metadata, sk,
		  pieces_request(sk, PRR_CMD_NEW_ENTRY, psid34, 2, NULL));
	EXPECT_EQ(3, count_entries(_metadata, sk));
	nlh = pieces_request(sk, PRR_CMD_NEW_ENTRY, psid34, 2, nest);
	expect_refused(_metadata, sk, nlh, EEXIST, "entry already exists",
		       &ans);
	EXPECT_EQ((__u32)((const char *)nest[0] - (const char *)nlh), ans.offs);
	EXPECT_EQ(3, count_entries(_metadata, sk));
}

TEST_F(prr, pieces_name_and_cpe_id)
{
	struct prr_sock *sk = &self->s;
	struct nlmsghdr *nlh;
	struct answer ans;
	__u32 id;

	nlh = pieces_request(sk, PRR_CMD_NEW_ENTRY, psid34, 3, NULL);
	mnl_attr_put_strz(nlh, PRR_A_NAME, "alice!~");
	expect_ok(_metadata, sk, nlh);
	add_entry(_metadata, sk, SHARED, 0x8000, 0x8000, PRR_ACTION_DROP);
	ASSERT_EQ(4, count_entries(_metadata, sk));
	/* GET of each piece: the name and one id for the three. */
	nlh = entry_request(sk, PRR_CMD_GET_ENTRY, WITH_KEY, SHARED,
			    0x04d0, 0xfffc, 0);
	ASSERT_EQ(0, talk(sk, nlh, entry_cb, &ans));
	EXPECT_STREQ("alice!~", ans.last.name);
	EXPECT_TRUE(ans.last.has[PRR_A_CPE_ID]);
	id = ans.last.cpe_id;
	EXPECT_NE(0u, id);
	nlh = entry_request(sk, PRR_CMD_GET_ENTRY, WITH_KEY, SHARED,
			    0x10d0, 0xf3fc, 0);
	ASSERT_EQ(0, talk(sk, nlh, entry_cb, &ans));
	EXPECT_STREQ("alice!~", ans.last.name);
	EXPECT_EQ(id, ans.last.cpe_id);
	nlh = entry_request(sk, PRR_CMD_GET_ENTRY, WITH_KEY, SHARED,
			    0x8000, 0x8000, 0);
	ASSERT_EQ(0, talk(sk, nlh, entry_cb, &ans));
	EXPECT_FALSE(ans.last.has[PRR_A_NAME]);
	EXPECT_NE(id, ans.last.cpe_id);
	EXPECT_NE(0u, ans.last.cpe_id);
}

TEST_F(prr, pieces_refused)
{
	static const __u16 meet[2][2] = { { 0x0400, 0xfc00 },
					  { 0x0500, 0xff00 } };
	static const __u16 bad[2][2] = { { 0x0400, 0xfc00 },
					 { 0x0501, 0xff00 } };
	struct prr_sock *sk = &self->s;
	const struct nlattr *nest[PRR_PIECES_MAX + 1];
	__u16 many[PRR_PIECES_MAX + 1][2];
	struct nlmsghdr *nlh;
	struct answer ans;
	unsigned int i;

	nlh = pieces_request(sk, PRR_CMD_NEW_ENTRY, meet, 2, nest);
	expect_refused(_metadata, sk, nlh, EINVAL,
		       "pieces of a port set must be disjoint", &ans);
	EXPECT_EQ((__u32)((const char *)nest[1] - (const char *)nlh), ans.offs);
	nlh = pieces_request(sk, PRR_CMD_NEW_ENTRY, bad, 2, nest);
	expect_refused(_metadata, sk, nlh, EINVAL,
		       "port value has bits outside the port mask", &ans);
	EXPECT_EQ((__u32)((const char *)nest[1] - (const char *)nlh), ans.offs);
	for (i = 0; i <= PRR_PIECES_MAX; i++) {
		many[i][0] = i;
		many[i][1] = 0xffff;
	}
	nlh = pieces_request(sk, PRR_CMD_NEW_ENTRY, many, PRR_PIECES_MAX + 1,
			     nest);
	expect_refused(_metadata, sk, nlh, EINVAL, "too many port set pieces",
		       &ans);
	EXPECT_EQ((__u32)((const char *)nest[PRR_PIECES_MAX] -
			  (const char *)nlh), ans.offs);
	expect_refused(_metadata, sk,
		       pieces_request(sk, PRR_CMD_NEW_ENTRY, many, 0, NULL),
		       EINVAL, "port set has no pieces", NULL);
	nlh = pieces_request(sk, PRR_CMD_NEW_ENTRY, many, 1, NULL);
	mnl_attr_put_u16(nlh, PRR_A_PORT_VALUE, 0);
	expect_refused(_metadata, sk, nlh, EINVAL,
		       "pieces exclude port value and port mask", NULL);
	EXPECT_EQ(0, count_entries(_metadata, sk));
	/* PRR_PIECES_MAX pieces are fine. */
	expect_ok(_metadata, sk,
		  pieces_request(sk, PRR_CMD_NEW_ENTRY, many, PRR_PIECES_MAX,
				 NULL));
	EXPECT_EQ(PRR_PIECES_MAX, count_entries(_metadata, sk));
}

TEST_F(prr, name_refused)
{
	struct prr_sock *sk = &self->s;
	const struct nlattr *bad;
	struct nlmsghdr *nlh;

	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, SHARED, 0, 0,
			    PRR_ACTION_DROP);
	mnl_attr_put_strz(nlh, PRR_A_NAME, "a b");
	expect_refused(_metadata, sk, nlh, EINVAL,
		       "name must be printable ASCII without blanks", NULL);
	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, SHARED, 0, 0,
			    PRR_ACTION_DROP);
	mnl_attr_put_strz(nlh, PRR_A_NAME, "");
	expect_refused(_metadata, sk, nlh, EINVAL, "name must not be empty",
		       NULL);
	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, SHARED, 0, 0,
			    PRR_ACTION_DROP);
	bad = next_attr(nlh);
	mnl_attr_put_strz(nlh, PRR_A_NAME, "abcdefghijabcdefghijabcdefghijab");
	expect_policy_refused(_metadata, sk, nlh, bad);
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

/* PRR_CMD_DEL_ENTRY of every entry named @name. */
static struct nlmsghdr *del_name_request(struct prr_sock *sk, const char *name)
{
	struct nlmsghdr *nlh = request(sk, PRR_CMD_DEL_ENTRY, NLM_F_ACK);

	mnl_attr_put_strz(nlh, PRR_A_NAME, name);
	return nlh;
}

/*
 * Deletes every entry named @name, leaving @left entries; a second delete
 * finds none and changes nothing.
 */
static void del_every_named(struct __test_metadata *_metadata,
			    struct prr_sock *sk, const char *name, int left)
{
	expect_ok(_metadata, sk, del_name_request(sk, name));
	EXPECT_EQ(left, count_entries(_metadata, sk));
	expect_refused(_metadata, sk, del_name_request(sk, name), ENOENT,
		       "no entry has that name", NULL);
	EXPECT_EQ(left, count_entries(_metadata, sk));
}

TEST_F(prr, del_by_name_and_pieces)
{
	static const __u16 absent[2][2] = { { 0x04d0, 0xfffc },
					    { 0x20d0, 0xe3fc } };
	struct prr_sock *sk = &self->s;
	const struct nlattr *nest[2];
	struct nlmsghdr *nlh;
	struct answer ans;

	nlh = pieces_request(sk, PRR_CMD_NEW_ENTRY, psid34, 3, NULL);
	mnl_attr_put_strz(nlh, PRR_A_NAME, "alice");
	expect_ok(_metadata, sk, nlh);
	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, OTHER_SHARED,
			    0x8000, 0x8000, PRR_ACTION_DROP);
	mnl_attr_put_strz(nlh, PRR_A_NAME, "alice");
	expect_ok(_metadata, sk, nlh);
	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, SHARED,
			    0x8000, 0x8000, PRR_ACTION_DROP);
	mnl_attr_put_strz(nlh, PRR_A_NAME, "bob");
	expect_ok(_metadata, sk, nlh);
	ASSERT_EQ(5, count_entries(_metadata, sk));

	/* Pieces: all or none. */
	nlh = pieces_request(sk, PRR_CMD_DEL_ENTRY, absent, 2, nest);
	expect_refused(_metadata, sk, nlh, ENOENT, "no such entry", &ans);
	EXPECT_EQ((__u32)((const char *)nest[1] - (const char *)nlh), ans.offs);
	EXPECT_EQ(5, count_entries(_metadata, sk));
	/* A name with a set: refused. */
	nlh = entry_request(sk, PRR_CMD_DEL_ENTRY, WITH_KEY, SHARED,
			    0x8000, 0x8000, 0);
	mnl_attr_put_strz(nlh, PRR_A_NAME, "bob");
	expect_refused(_metadata, sk, nlh, EINVAL,
		       "a name excludes a port set", NULL);
	/* alice of one address, then of every address. */
	nlh = entry_request(sk, PRR_CMD_DEL_ENTRY, WITH_ADDR, OTHER_SHARED,
			    0, 0, 0);
	mnl_attr_put_strz(nlh, PRR_A_NAME, "alice");
	expect_ok(_metadata, sk, nlh);
	EXPECT_EQ(4, count_entries(_metadata, sk));
	del_every_named(_metadata, sk, "alice", 1);
}

/* The name of the entry at (SHARED, @value, @mask), "" if none. */
static void expect_name(struct __test_metadata *_metadata,
			struct prr_sock *sk, __u16 value, __u16 mask,
			const char *name)
{
	struct nlmsghdr *nlh;
	struct answer ans;

	nlh = entry_request(sk, PRR_CMD_GET_ENTRY, WITH_KEY, SHARED, value,
			    mask, 0);
	ASSERT_EQ(0, talk(sk, nlh, entry_cb, &ans));
	EXPECT_EQ(!!*name, ans.last.has[PRR_A_NAME]);
	EXPECT_STREQ(name, *name ? ans.last.name : "");
}

/*
 * The kernel keeps a name once per add, not per entry: it lasts as long as
 * the add's last entry, whichever goes first, and a refused add leaves none.
 */
TEST_F(prr, name_lasts_while_an_entry_has_it)
{
	struct prr_sock *sk = &self->s;
	struct nlmsghdr *nlh;

	nlh = pieces_request(sk, PRR_CMD_NEW_ENTRY, psid34, 3, NULL);
	mnl_attr_put_strz(nlh, PRR_A_NAME, "alice");
	expect_ok(_metadata, sk, nlh);
	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, OTHER_SHARED,
			    0x8000, 0x8000, PRR_ACTION_DROP);
	mnl_attr_put_strz(nlh, PRR_A_NAME, "alice");
	expect_ok(_metadata, sk, nlh);
	/* Refused (two pieces exist): no entry, no name. */
	nlh = pieces_request(sk, PRR_CMD_NEW_ENTRY, psid34, 3, NULL);
	mnl_attr_put_strz(nlh, PRR_A_NAME, "carol");
	expect_refused(_metadata, sk, nlh, EEXIST, "entry already exists",
		       NULL);
	nlh = del_name_request(sk, "carol");
	expect_refused(_metadata, sk, nlh, ENOENT, "no entry has that name",
		       NULL);

	expect_ok(_metadata, sk,
		  entry_request(sk, PRR_CMD_DEL_ENTRY, WITH_KEY, SHARED,
				psid34[0][0], psid34[0][1], 0));
	expect_name(_metadata, sk, psid34[1][0], psid34[1][1], "alice");
	/* The other add's alice goes; this one's stays. */
	nlh = entry_request(sk, PRR_CMD_DEL_ENTRY, WITH_ADDR, OTHER_SHARED,
			    0, 0, 0);
	mnl_attr_put_strz(nlh, PRR_A_NAME, "alice");
	expect_ok(_metadata, sk, nlh);
	expect_ok(_metadata, sk,
		  entry_request(sk, PRR_CMD_DEL_ENTRY, WITH_KEY, SHARED,
				psid34[1][0], psid34[1][1], 0));
	expect_name(_metadata, sk, psid34[2][0], psid34[2][1], "alice");
	EXPECT_EQ(1, count_entries(_metadata, sk));
	/* A new unnamed entry does not inherit it. */
	add_entry(_metadata, sk, SHARED, 0x8000, 0x8000, PRR_ACTION_DROP);
	expect_name(_metadata, sk, 0x8000, 0x8000, "");
	del_every_named(_metadata, sk, "alice", 1);
}

static void get_config(struct __test_metadata *_metadata,
		       struct prr_sock *sk, struct entry_seen *seen)
{
	struct answer ans;

	ASSERT_EQ(0, talk(sk, request(sk, PRR_CMD_GET_CONFIG, NLM_F_ACK),
			  entry_cb, &ans));
	ASSERT_EQ(0, ans.error);
	ASSERT_EQ(1, ans.replies);
	EXPECT_FALSE(ans.malformed);
	EXPECT_TRUE(ans.last.has[PRR_A_SOURCE_CHECK]);
	EXPECT_TRUE(ans.last.has[PRR_A_UNOWNED]);
	EXPECT_TRUE(ans.last.has[PRR_A_ENTRY_COUNTERS]);
	*seen = ans.last;
}

TEST_F(prr, config_defaults_and_set)
{
	struct prr_sock *sk = &self->s;
	struct entry_seen c;
	struct nlmsghdr *nlh;

	get_config(_metadata, sk, &c);
	EXPECT_EQ(1, c.source_check);
	EXPECT_EQ(PRR_UNOWNED_DROP, c.unowned);
	EXPECT_EQ(1, c.entry_counters);

	/* One setting changes, the others stay. */
	nlh = request(sk, PRR_CMD_SET_CONFIG, NLM_F_ACK);
	mnl_attr_put_u8(nlh, PRR_A_UNOWNED, PRR_UNOWNED_REJECT);
	expect_ok(_metadata, sk, nlh);
	get_config(_metadata, sk, &c);
	EXPECT_EQ(1, c.source_check);
	EXPECT_EQ(PRR_UNOWNED_REJECT, c.unowned);

	nlh = request(sk, PRR_CMD_SET_CONFIG, NLM_F_ACK);
	mnl_attr_put_u8(nlh, PRR_A_SOURCE_CHECK, 0);
	expect_ok(_metadata, sk, nlh);
	get_config(_metadata, sk, &c);
	EXPECT_EQ(0, c.source_check);
	EXPECT_EQ(PRR_UNOWNED_REJECT, c.unowned);
	EXPECT_EQ(1, c.entry_counters);
}

/* Asks for the entry SHARED value/mask into @e. */
static void get_one(struct __test_metadata *_metadata, struct prr_sock *sk,
		    __u16 value, __u16 mask, struct entry_seen *e)
{
	struct answer ans;

	ASSERT_EQ(0, talk(sk, entry_request(sk, PRR_CMD_GET_ENTRY, WITH_KEY,
					    SHARED, value, mask, 0),
			  entry_cb, &ans));
	ASSERT_EQ(0, ans.error);
	ASSERT_EQ(1, ans.replies);
	*e = ans.last;
}

/*
 * entry-counters off: the entries added afterwards report no counters
 * (and cost none); those added before keep theirs, as do those added once
 * it is on again.
 */
TEST_F(prr, entry_counters_setting)
{
	struct prr_sock *sk = &self->s;
	const struct nlattr *bad;
	struct entry_seen c, e;
	struct nlmsghdr *nlh;

	add_entry(_metadata, sk, SHARED, 0x0000, 0xc000, PRR_ACTION_LOCAL);
	nlh = request(sk, PRR_CMD_SET_CONFIG, NLM_F_ACK);
	mnl_attr_put_u8(nlh, PRR_A_ENTRY_COUNTERS, 0);
	expect_ok(_metadata, sk, nlh);
	get_config(_metadata, sk, &c);
	EXPECT_EQ(0, c.entry_counters);
	EXPECT_EQ(1, c.source_check);
	add_entry(_metadata, sk, SHARED, 0x4000, 0xc000, PRR_ACTION_LOCAL);
	nlh = request(sk, PRR_CMD_SET_CONFIG, NLM_F_ACK);
	mnl_attr_put_u8(nlh, PRR_A_ENTRY_COUNTERS, 1);
	expect_ok(_metadata, sk, nlh);
	add_entry(_metadata, sk, SHARED, 0x8000, 0xc000, PRR_ACTION_LOCAL);

	get_one(_metadata, sk, 0x0000, 0xc000, &e);
	EXPECT_TRUE(e.has[PRR_A_PACKETS] && e.has[PRR_A_BYTES]);
	get_one(_metadata, sk, 0x4000, 0xc000, &e);
	EXPECT_FALSE(e.has[PRR_A_PACKETS] || e.has[PRR_A_BYTES]);
	EXPECT_TRUE(e.has[PRR_A_CPE_ID] && e.has[PRR_A_ACTION]);
	get_one(_metadata, sk, 0x8000, 0xc000, &e);
	EXPECT_TRUE(e.has[PRR_A_PACKETS] && e.has[PRR_A_BYTES]);
	EXPECT_EQ(3, count_entries(_metadata, sk));

	/* Out of range: refused by the policy, nothing changed. */
	nlh = request(sk, PRR_CMD_SET_CONFIG, NLM_F_ACK);
	bad = next_attr(nlh);
	mnl_attr_put_u8(nlh, PRR_A_ENTRY_COUNTERS, 2);
	expect_policy_refused(_metadata, sk, nlh, bad);
	get_config(_metadata, sk, &c);
	EXPECT_EQ(1, c.entry_counters);
}

TEST_F(prr, config_missing_setting)
{
	struct prr_sock *sk = &self->s;
	struct entry_seen c;

	expect_refused(_metadata, sk,
		       request(sk, PRR_CMD_SET_CONFIG, NLM_F_ACK), EINVAL,
		       "missing setting", NULL);
	get_config(_metadata, sk, &c);
	EXPECT_EQ(1, c.source_check);
}

TEST_F(prr, config_out_of_range)
{
	struct prr_sock *sk = &self->s;
	const struct nlattr *bad;
	struct nlmsghdr *nlh;
	struct entry_seen c;

	nlh = request(sk, PRR_CMD_SET_CONFIG, NLM_F_ACK);
	mnl_attr_put_u8(nlh, PRR_A_UNOWNED, PRR_UNOWNED_REJECT);
	bad = next_attr(nlh);
	mnl_attr_put_u8(nlh, PRR_A_SOURCE_CHECK, 2);
	expect_policy_refused(_metadata, sk, nlh, bad);

	nlh = request(sk, PRR_CMD_SET_CONFIG, NLM_F_ACK);
	bad = next_attr(nlh);
	mnl_attr_put_u8(nlh, PRR_A_UNOWNED, PRR_UNOWNED_MAX + 1);
	expect_policy_refused(_metadata, sk, nlh, bad);

	/* Nothing was half-applied. */
	get_config(_metadata, sk, &c);
	EXPECT_EQ(1, c.source_check);
	EXPECT_EQ(PRR_UNOWNED_DROP, c.unowned);
}

static struct nlmsghdr *nat_request(struct prr_sock *sk, __u8 cmd,
				    const char *prefix, int plen)
{
	struct nlmsghdr *nlh = request(sk, cmd, NLM_F_ACK);

	if (cmd == PRR_CMD_NEW_NAT)
		mnl_attr_put_u32(nlh, PRR_A_ADDR, ip(SHARED));
	if (prefix)
		mnl_attr_put_u32(nlh, PRR_A_NAT_PREFIX, ip(prefix));
	if (plen >= 0)
		mnl_attr_put_u8(nlh, PRR_A_NAT_PREFIX_LEN, plen);
	return nlh;
}

static int count_nats(struct __test_metadata *_metadata, struct prr_sock *sk)
{
	struct answer ans;

	EXPECT_EQ(0, talk(sk, request(sk, PRR_CMD_GET_NAT, NLM_F_DUMP),
			  entry_cb, &ans));
	EXPECT_EQ(0, ans.error);
	return ans.replies;
}

TEST_F(prr, nat_add_dump_del)
{
	struct prr_sock *sk = &self->s;

	expect_ok(_metadata, sk,
		  nat_request(sk, PRR_CMD_NEW_NAT, "192.168.1.7", 24));
	EXPECT_EQ(1, count_nats(_metadata, sk));
	/* The prefix is stored masked: the same rule, however written. */
	expect_refused(_metadata, sk,
		       nat_request(sk, PRR_CMD_NEW_NAT, "192.168.1.0", 24),
		       EEXIST, "NAT rule already exists", NULL);
	expect_ok(_metadata, sk,
		  nat_request(sk, PRR_CMD_DEL_NAT, "192.168.1.0", 24));
	EXPECT_EQ(0, count_nats(_metadata, sk));
	expect_refused(_metadata, sk,
		       nat_request(sk, PRR_CMD_DEL_NAT, "192.168.1.0", 24),
		       ENOENT, "no such NAT rule", NULL);
}

TEST_F(prr, nat_missing_attributes)
{
	struct prr_sock *sk = &self->s;

	expect_refused(_metadata, sk,
		       nat_request(sk, PRR_CMD_NEW_NAT, NULL, 24), EINVAL,
		       "missing NAT prefix", NULL);
	expect_refused(_metadata, sk,
		       nat_request(sk, PRR_CMD_NEW_NAT, "192.168.1.0", -1),
		       EINVAL, "missing NAT prefix length", NULL);
	EXPECT_EQ(0, count_nats(_metadata, sk));
}

TEST_F(prr, nat_bad_prefix_len_and_device)
{
	struct prr_sock *sk = &self->s;
	const struct nlattr *bad;
	struct nlmsghdr *nlh;

	nlh = nat_request(sk, PRR_CMD_NEW_NAT, "192.168.1.0", -1);
	bad = next_attr(nlh);
	mnl_attr_put_u8(nlh, PRR_A_NAT_PREFIX_LEN, 33);
	expect_policy_refused(_metadata, sk, nlh, bad);

	nlh = nat_request(sk, PRR_CMD_NEW_NAT, "192.168.1.0", 24);
	mnl_attr_put_u32(nlh, PRR_A_OIF, 999999);
	expect_refused(_metadata, sk, nlh, ENODEV, "no such device", NULL);
	EXPECT_EQ(0, count_nats(_metadata, sk));
}

TEST_F(prr, command_above_max)
{
	struct prr_sock *sk = &self->s;
	struct answer ans;

	ASSERT_EQ(0, talk(sk, request(sk, PRR_CMD_MAX + 1, NLM_F_ACK),
			  entry_cb, &ans));
	EXPECT_EQ(EOPNOTSUPP, ans.error);
}

/* PRR_CMD_REPLACE_*: building a table off-line and swapping it in. */

static struct nlmsghdr *staged_request(struct prr_sock *sk, const char *addr,
				       __u16 value, __u16 mask, __u8 action)
{
	struct nlmsghdr *nlh;

	nlh = entry_request(sk, PRR_CMD_NEW_ENTRY, WITH_ALL, addr, value,
			    mask, action);
	mnl_attr_put(nlh, PRR_A_STAGED, 0, NULL);
	return nlh;
}

static void add_staged(struct __test_metadata *_metadata,
		       struct prr_sock *sk, const char *addr,
		       __u16 value, __u16 mask, __u8 action)
{
	expect_ok(_metadata, sk, staged_request(sk, addr, value, mask,
						action));
}

static void replace_cmd(struct __test_metadata *_metadata,
			struct prr_sock *sk, __u8 cmd)
{
	expect_ok(_metadata, sk, request(sk, cmd, NLM_F_ACK));
}

#define NO_REPLACE	"no replace in progress on this socket"

TEST_F(prr, replace_begin_commit)
{
	struct prr_sock *sk = &self->s;
	struct answer ans;

	add_entry(_metadata, sk, SHARED, 0x0400, 0x1400, PRR_ACTION_LOCAL);
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_BEGIN);
	add_staged(_metadata, sk, OTHER_SHARED, 0x1000, 0x1400,
		   PRR_ACTION_DROP);
	add_staged(_metadata, sk, OTHER_SHARED, 0x0000, 0x0000,
		   PRR_ACTION_LOCAL);
	/* Staged entries are invisible until the commit. */
	EXPECT_EQ(1, dump_entries(_metadata, sk, NULL, &ans));
	EXPECT_EQ(ip(SHARED), ans.last.addr);
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_COMMIT);
	EXPECT_EQ(0, dump_entries(_metadata, sk, SHARED, NULL));
	EXPECT_EQ(2, dump_entries(_metadata, sk, OTHER_SHARED, NULL));
	/* The replace is over: nothing is staged any more. */
	expect_refused(_metadata, sk,
		       request(sk, PRR_CMD_REPLACE_COMMIT, NLM_F_ACK),
		       ENOENT, NO_REPLACE, NULL);
	expect_refused(_metadata, sk,
		       staged_request(sk, SHARED, 0, 0, PRR_ACTION_LOCAL),
		       ENOENT, NO_REPLACE, NULL);
	EXPECT_EQ(2, count_entries(_metadata, sk));
}

TEST_F(prr, replace_abort)
{
	struct prr_sock *sk = &self->s;

	add_entry(_metadata, sk, SHARED, 0x0400, 0x1400, PRR_ACTION_LOCAL);
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_BEGIN);
	add_staged(_metadata, sk, OTHER_SHARED, 0x1000, 0x1400,
		   PRR_ACTION_DROP);
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_ABORT);
	EXPECT_EQ(1, count_entries(_metadata, sk));
	EXPECT_EQ(1, dump_entries(_metadata, sk, SHARED, NULL));
	expect_refused(_metadata, sk,
		       request(sk, PRR_CMD_REPLACE_ABORT, NLM_F_ACK),
		       ENOENT, NO_REPLACE, NULL);
	expect_refused(_metadata, sk,
		       request(sk, PRR_CMD_REPLACE_COMMIT, NLM_F_ACK),
		       ENOENT, NO_REPLACE, NULL);
	/* A new replace may start once the old one is gone. */
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_BEGIN);
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_ABORT);
	EXPECT_EQ(1, count_entries(_metadata, sk));
}

TEST_F(prr, replace_busy)
{
	struct prr_sock *sk = &self->s, other;

	open_sock(_metadata, &other, sk->family);
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_BEGIN);
	expect_refused(_metadata, sk,
		       request(sk, PRR_CMD_REPLACE_BEGIN, NLM_F_ACK),
		       EBUSY, "another replace of the table is in progress",
		       NULL);
	expect_refused(_metadata, &other,
		       request(&other, PRR_CMD_REPLACE_BEGIN, NLM_F_ACK),
		       EBUSY, "another replace of the table is in progress",
		       NULL);
	/* Another socket can neither fill, commit nor abort it... */
	expect_refused(_metadata, &other,
		       staged_request(&other, SHARED, 0, 0, PRR_ACTION_LOCAL),
		       ENOENT, NO_REPLACE, NULL);
	expect_refused(_metadata, &other,
		       request(&other, PRR_CMD_REPLACE_COMMIT, NLM_F_ACK),
		       ENOENT, NO_REPLACE, NULL);
	expect_refused(_metadata, &other,
		       request(&other, PRR_CMD_REPLACE_ABORT, NLM_F_ACK),
		       ENOENT, NO_REPLACE, NULL);
	/* ...but still changes the live table directly. */
	add_entry(_metadata, &other, SHARED, 0x0400, 0x1400,
		  PRR_ACTION_LOCAL);
	add_staged(_metadata, sk, SHARED, 0x0400, 0x1400, PRR_ACTION_DROP);
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_COMMIT);
	EXPECT_EQ(1, count_entries(_metadata, sk));
	mnl_socket_close(other.nl);
}

TEST_F(prr, replace_socket_close_frees_staging)
{
	struct prr_sock *sk = &self->s, owner;
	unsigned int i;

	add_entry(_metadata, sk, SHARED, 0x0400, 0x1400, PRR_ACTION_LOCAL);
	open_sock(_metadata, &owner, sk->family);
	replace_cmd(_metadata, &owner, PRR_CMD_REPLACE_BEGIN);
	for (i = 0; i < 100; i++)
		add_staged(_metadata, &owner, OTHER_SHARED, i, 0xffff,
			   PRR_ACTION_LOCAL);
	/* The owner goes away without commit or abort. */
	mnl_socket_close(owner.nl);
	EXPECT_EQ(1, count_entries(_metadata, sk));
	/* No longer busy: its staging table is gone. */
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_BEGIN);
	add_staged(_metadata, sk, SHARED, 0x1000, 0x1400, PRR_ACTION_LOCAL);
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_COMMIT);
	EXPECT_EQ(1, count_entries(_metadata, sk));
	EXPECT_EQ(0, dump_entries(_metadata, sk, OTHER_SHARED, NULL));
}

TEST_F(prr, replace_commit_empty_flushes)
{
	struct prr_sock *sk = &self->s;

	add_entry(_metadata, sk, SHARED, 0x0400, 0x1400, PRR_ACTION_LOCAL);
	add_entry(_metadata, sk, OTHER_SHARED, 0, 0, PRR_ACTION_DROP);
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_BEGIN);
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_COMMIT);
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

TEST_F(prr, staged_without_begin)
{
	struct prr_sock *sk = &self->s;

	expect_refused(_metadata, sk,
		       staged_request(sk, SHARED, 0x0400, 0x1400,
				      PRR_ACTION_LOCAL),
		       ENOENT, NO_REPLACE, NULL);
	EXPECT_EQ(0, count_entries(_metadata, sk));
}

/* Staged entries get the checks of live ones, against the staging table. */
TEST_F(prr, staged_validation)
{
	struct prr_sock *sk = &self->s;
	const struct nlattr *bad;
	struct nlmsghdr *nlh;
	struct answer ans;

	add_entry(_metadata, sk, SHARED, 0x0400, 0x1400, PRR_ACTION_LOCAL);
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_BEGIN);
	expect_refused(_metadata, sk,
		       staged_request(sk, SHARED, 0x0401, 0x1400,
				      PRR_ACTION_LOCAL),
		       EINVAL, "port value has bits outside the port mask",
		       NULL);
	expect_refused(_metadata, sk,
		       staged_request(sk, "224.0.0.1", 0, 0, PRR_ACTION_LOCAL),
		       EINVAL, "shared address must be a unicast address",
		       NULL);
	nlh = staged_request(sk, SHARED, 0x1000, 0x1400, PRR_ACTION_VIA);
	mnl_attr_put_u32(nlh, PRR_A_VIA, ip(NEXT_HOP));
	expect_refused(_metadata, sk, nlh, ENETUNREACH,
		       "next hop is not directly connected", NULL);
	nlh = staged_request(sk, SHARED, 0x1000, 0x1400, PRR_ACTION_VIA);
	expect_refused(_metadata, sk, nlh, EINVAL,
		       "action via needs a next hop", NULL);
	/* Partially overlaps the live entry only: fine, it is replaced. */
	add_staged(_metadata, sk, SHARED, 0x0800, 0x0800, PRR_ACTION_DROP);
	/* Duplicates and partial overlaps within the staging table are not. */
	expect_refused(_metadata, sk,
		       staged_request(sk, SHARED, 0x0800, 0x0800,
				      PRR_ACTION_LOCAL),
		       EEXIST, "entry already exists", NULL);
	expect_refused(_metadata, sk,
		       staged_request(sk, SHARED, 0x0400, 0x1400,
				      PRR_ACTION_LOCAL),
		       EEXIST, "port set partially overlaps an existing entry",
		       &ans);
	EXPECT_EQ((int)sizeof(struct prr_conflict), ans.cookie_len);
	EXPECT_EQ(0x0800, ans.cookie.port_value);
	EXPECT_EQ(0x0800, ans.cookie.port_mask);
	/* STAGED is no attribute of a delete. */
	nlh = entry_request(sk, PRR_CMD_DEL_ENTRY, WITH_KEY, SHARED, 0x0400,
			    0x1400, 0);
	bad = next_attr(nlh);
	mnl_attr_put(nlh, PRR_A_STAGED, 0, NULL);
	expect_policy_refused(_metadata, sk, nlh, bad);
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_COMMIT);
	EXPECT_EQ(1, dump_entries(_metadata, sk, NULL, &ans));
	EXPECT_EQ(0x0800, ans.last.value);
	EXPECT_EQ(PRR_ACTION_DROP, ans.last.action);
}

TEST_F(prr, staged_config)
{
	struct prr_sock *sk = &self->s;
	struct entry_seen seen;
	struct nlmsghdr *nlh;

	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_BEGIN);
	nlh = request(sk, PRR_CMD_SET_CONFIG, NLM_F_ACK);
	mnl_attr_put_u8(nlh, PRR_A_UNOWNED, PRR_UNOWNED_REJECT);
	mnl_attr_put(nlh, PRR_A_STAGED, 0, NULL);
	expect_ok(_metadata, sk, nlh);
	nlh = request(sk, PRR_CMD_SET_CONFIG, NLM_F_ACK);
	mnl_attr_put_u8(nlh, PRR_A_SOURCE_CHECK, 0);
	mnl_attr_put(nlh, PRR_A_STAGED, 0, NULL);
	expect_ok(_metadata, sk, nlh);
	get_config(_metadata, sk, &seen);
	EXPECT_EQ(1, seen.source_check);
	EXPECT_EQ(PRR_UNOWNED_DROP, seen.unowned);
	replace_cmd(_metadata, sk, PRR_CMD_REPLACE_COMMIT);
	get_config(_metadata, sk, &seen);
	EXPECT_EQ(0, seen.source_check);
	EXPECT_EQ(PRR_UNOWNED_REJECT, seen.unowned);
}

#define CHURN_WINDOW	1500
#define CHURN_VALUES	4096	/* mask 0xfff0: values v << 4 */
#define CHURN_DUMPS	300

/* Keeps entries [lo, lo + CHURN_WINDOW) present while sliding lo. */
static void churn(struct __test_metadata *_metadata, __u16 family)
{
	static struct prr_sock sk;
	struct timespec end, now;
	struct nlmsghdr *nlh;
	struct answer ans;
	unsigned int lo;

	open_sock(_metadata, &sk, family);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += 4;
	for (lo = 0;; lo++) {
		nlh = entry_request(&sk, PRR_CMD_NEW_ENTRY, WITH_ALL, SHARED,
				    ((lo + CHURN_WINDOW) % CHURN_VALUES) << 4,
				    0xfff0, PRR_ACTION_LOCAL);
		ASSERT_EQ(0, talk(&sk, nlh, entry_cb, &ans));
		ASSERT_EQ(0, ans.error);
		nlh = entry_request(&sk, PRR_CMD_DEL_ENTRY, WITH_KEY, SHARED,
				    (lo % CHURN_VALUES) << 4, 0xfff0, 0);
		ASSERT_EQ(0, talk(&sk, nlh, entry_cb, &ans));
		ASSERT_EQ(0, ans.error);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec > end.tv_nsec))
			break;
	}
	mnl_socket_close(sk.nl);
}

/* One dump, in messages of at most 4 KiB so that it takes many rounds. */
struct dump_view {
	unsigned char seen[CHURN_VALUES];
	unsigned int entries, dups;
	bool interrupted;
};

static void churn_entry(struct dump_view *v, const struct nlmsghdr *nlh)
{
	const struct nlattr *attr;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		v->interrupted = true;
	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(attr) != PRR_A_PORT_VALUE)
			continue;
		if (v->seen[(mnl_attr_get_u16(attr) >> 4) % CHURN_VALUES]++)
			v->dups++;
		v->entries++;
	}
}

/*
 * Parsed by hand: libmnl stops at the first NLM_F_DUMP_INTR message, and
 * the rest of the dump (up to NLMSG_DONE) must still be read.
 */
static void dump_small(struct __test_metadata *_metadata, struct prr_sock *sk,
		       struct dump_view *v)
{
	struct nlmsghdr *nlh = request(sk, PRR_CMD_GET_ENTRY, NLM_F_DUMP);
	union { char b[4096]; __u32 align; } buf;
	const struct nlmsghdr *m;
	bool done = false;
	int len;

	memset(v, 0, sizeof(*v));
	ASSERT_LT(0, mnl_socket_sendto(sk->nl, nlh, nlh->nlmsg_len));
	while (!done) {
		len = mnl_socket_recvfrom(sk->nl, buf.b, sizeof(buf.b));
		ASSERT_LT(0, len);
		for (m = (void *)buf.b; mnl_nlmsg_ok(m, len);
		     m = mnl_nlmsg_next(m, &len)) {
			ASSERT_NE(NLMSG_ERROR, m->nlmsg_type);
			if (m->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			churn_entry(v, m);
		}
	}
}

/*
 * A dump racing with changes must either be consistent or say it may not
 * be (NLM_F_DUMP_INTR), so that a tool can retry: while a writer keeps the
 * table at CHURN_WINDOW or CHURN_WINDOW + 1 entries, every dump without the
 * flag holds one of those counts and no entry twice.
 */
TEST_F(prr, dump_consistent_under_churn)
{
	struct prr_sock *sk = &self->s, dumper;
	unsigned int i, clean = 0, flagged = 0;
	struct dump_view v;
	int status;
	pid_t pid;

	for (i = 0; i < CHURN_WINDOW; i++)
		add_entry(_metadata, sk, SHARED, i << 4, 0xfff0,
			  PRR_ACTION_LOCAL);
	open_sock(_metadata, &dumper, sk->family);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		churn(_metadata, sk->family);
		_exit(_metadata->passed ? 0 : 1);
	}
	for (i = 0; i < CHURN_DUMPS && !waitpid(pid, &status, WNOHANG); i++) {
		dump_small(_metadata, &dumper, &v);
		if (v.interrupted) {
			flagged++;
			continue;
		}
		clean++;
		EXPECT_EQ(0u, v.dups);
		EXPECT_TRUE(v.entries == CHURN_WINDOW ||
			    v.entries == CHURN_WINDOW + 1) {
			TH_LOG("unflagged dump of %u entries", v.entries);
		}
	}
	if (i == CHURN_DUMPS)
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	TH_LOG("%u dumps: %u consistent, %u flagged interrupted", i, clean,
	       flagged);
	EXPECT_LT(0u, flagged + clean);
	/* Once the writer is done, a dump is whole and not flagged. */
	dump_small(_metadata, &dumper, &v);
	EXPECT_FALSE(v.interrupted);
	EXPECT_EQ(0u, v.dups);
	EXPECT_EQ(CHURN_WINDOW + 0u, v.entries);
	mnl_socket_close(dumper.nl);
}

TEST_HARNESS_MAIN
