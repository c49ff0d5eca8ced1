// SPDX-License-Identifier: GPL-2.0
/*
 * prrctl: generic netlink plumbing on top of libmnl.
 *
 * Every request is answered by data messages followed by an ack, an error
 * or the end of a dump.  The control messages are handled here, so that the
 * kernel's extended ack (message, cookie) is kept for prr_nl_report().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "genl.h"

/* The kernel never builds a dump message larger than 32 KiB. */
#define PRR_NL_RX_SIZE		32768
#define PRR_NL_TX_SIZE		1024
#define PRR_NL_DUMP_TRIES	5

struct prr_nl_run {
	struct prr_nl *nl;
	mnl_cb_t cb;
	void *data;
};

static int prr_nl_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct prr_nl_run *run = data;

	return run->cb ? run->cb(nlh, run->data) : MNL_CB_OK;
}

static int prr_nl_extack_attr_cb(const struct nlattr *attr, void *data)
{
	struct prr_nl_run *run = data;
	struct prr_nl_err *err = &run->nl->err;

	switch (mnl_attr_get_type(attr)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			break;
		snprintf(err->msg, sizeof(err->msg), "%s",
			 mnl_attr_get_str(attr));
		break;
	case NLMSGERR_ATTR_COOKIE:
		if (mnl_attr_get_payload_len(attr) != sizeof(err->conflict))
			break;
		memcpy(&err->conflict, mnl_attr_get_payload(attr),
		       sizeof(err->conflict));
		err->has_conflict = true;
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			break;
		err->offset = mnl_attr_get_u32(attr);
		err->has_offset = true;
		break;
	}
	return MNL_CB_OK;
}

/* Parses the extack TLVs that start offset bytes into the payload. */
static void prr_nl_parse_extack(const struct nlmsghdr *nlh, size_t offset,
				struct prr_nl_run *run)
{
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (offset > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_parse(nlh, offset, prr_nl_extack_attr_cb, run);
}

/* Records a kernel error and makes mnl_cb_run2() return it. */
static int prr_nl_fail(struct prr_nl_run *run, int error)
{
	run->nl->err.code = error;
	errno = error;
	return MNL_CB_ERROR;
}

static int prr_nl_error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct prr_nl_run *run = data;
	struct prr_nl *nl = run->nl;
	size_t offset = sizeof(*e);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	/* Without NETLINK_CAP_ACK the request follows, then the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset = sizeof(e->error) + MNL_ALIGN(e->msg.nlmsg_len);
	prr_nl_parse_extack(nlh, offset, run);

	if (e->error == 0) {
		/* An ack; a message on it is a warning. */
		snprintf(nl->warning, sizeof(nl->warning), "%s", nl->err.msg);
		memset(&nl->err, 0, sizeof(nl->err));
		return MNL_CB_STOP;
	}
	return prr_nl_fail(run, e->error < 0 ? -e->error : e->error);
}

static int prr_nl_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct prr_nl_run *run = data;
	int error = 0;

	/* A dump that failed half-way ends with its errno (and extack). */
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(error))
		memcpy(&error, mnl_nlmsg_get_payload(nlh), sizeof(error));
	if (error >= 0)
		return MNL_CB_STOP;
	prr_nl_parse_extack(nlh, sizeof(error), run);
	return prr_nl_fail(run, -error);
}

/* mnl_cb_run2() skips control messages without a callback (NOOP...). */
static mnl_cb_t prr_nl_ctl_cb[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR]	= prr_nl_error_cb,
	[NLMSG_DONE]	= prr_nl_done_cb,
};

int prr_nl_exchange(struct prr_nl *nl, struct nlmsghdr *req,
		    mnl_cb_t cb, void *data)
{
	struct prr_nl_run run = { .nl = nl, .cb = cb, .data = data };
	ssize_t len;
	int ret;

	memset(&nl->err, 0, sizeof(nl->err));
	nl->warning[0] = '\0';

	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	do {
		len = mnl_socket_recvfrom(nl->sock, nl->rx, PRR_NL_RX_SIZE);
		if (len < 0)
			return -errno;
		errno = 0;
		ret = mnl_cb_run2(nl->rx, len, req->nlmsg_seq, nl->portid,
				  prr_nl_data_cb, &run, prr_nl_ctl_cb,
				  MNL_ARRAY_SIZE(prr_nl_ctl_cb));
	} while (ret > MNL_CB_STOP);

	if (ret == MNL_CB_ERROR) {
		prr_nl_note_piece(nl, req);
		if (nl->err.code)
			return -nl->err.code;
		return errno ? -errno : -EPROTO;
	}
	return 0;
}

struct nlmsghdr *prr_nl_request(struct prr_nl *nl, __u8 cmd, __u16 flags)
{
	return prr_nl_request_at(nl, nl->tx, cmd, flags);
}

struct nlmsghdr *prr_nl_request_at(struct prr_nl *nl, void *buf, __u8 cmd,
				   __u16 flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = nl->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = PRR_GENL_VERSION;
	return nlh;
}

static int prr_nl_family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr;
	__u16 *family = data;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(attr) != CTRL_ATTR_FAMILY_ID)
			continue;
		if (mnl_attr_validate(attr, MNL_TYPE_U16) < 0)
			continue;
		*family = mnl_attr_get_u16(attr);
	}
	return MNL_CB_OK;
}

static int prr_nl_resolve_family(struct prr_nl *nl)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *genl;
	__u16 family = 0;
	int ret;

	nlh = mnl_nlmsg_put_header(nl->tx);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = CTRL_CMD_GETFAMILY;
	genl->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, PRR_GENL_NAME);

	ret = prr_nl_exchange(nl, nlh, prr_nl_family_cb, &family);
	if (ret == -ENOENT) {
		nl->no_family = true;
		return ret;
	}
	if (ret)
		return ret;
	if (!family) {
		nl->err.code = EBADMSG;
		return -EBADMSG;
	}
	nl->family = family;
	return 0;
}

int prr_nl_open(struct prr_nl *nl)
{
	int one = 1;
	int ret;

	memset(nl, 0, sizeof(*nl));
	nl->rx = malloc(PRR_NL_RX_SIZE);
	nl->tx = calloc(1, PRR_NL_TX_SIZE);
	if (!nl->rx || !nl->tx) {
		ret = -ENOMEM;
		goto fail;
	}
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock) {
		ret = -errno;
		goto fail;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto fail;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = time(NULL);
	/* Best effort: without them errors merely lose their detail. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));

	ret = prr_nl_resolve_family(nl);
	if (ret)
		goto fail;
	return 0;

fail:
	prr_nl_close(nl);
	return ret;
}

void prr_nl_close(struct prr_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
	free(nl->rx);
	nl->rx = NULL;
	free(nl->tx);
	nl->tx = NULL;
}

int prr_nl_dump(struct prr_nl *nl, __u8 cmd, mnl_cb_t cb,
		void (*reset)(void *data), void *data)
{
	struct nlmsghdr *nlh;
	int tries, ret;

	for (tries = 1; ; tries++) {
		nlh = prr_nl_request(nl, cmd, NLM_F_DUMP);
		ret = prr_nl_exchange(nl, nlh, cb, data);
		/* libmnl reports NLM_F_DUMP_INTR as EINTR. */
		if (ret != -EINTR || nl->err.code)
			return ret;
		reset(data);
		if (tries == PRR_NL_DUMP_TRIES)
			break;
		/* A new socket leaves the rest of the old dump behind. */
		prr_nl_close(nl);
		ret = prr_nl_open(nl);
		if (ret)
			return ret;
	}
	nl->err.code = EAGAIN;
	snprintf(nl->err.msg, sizeof(nl->err.msg),
		 "the table kept changing during the dump, try again");
	return -EAGAIN;
}

/*
 * An answer (ack or error) takes an skb of its own in the receive queue:
 * about 768 bytes of truesize, a little more with an extack message.  Every
 * request of a batch may fail, and a batch whose answers do not fit loses
 * them (ENOBUFS), so the batch is sized to the buffer.
 */
#define PRR_NL_ACK_TRUESIZE	1024
#define PRR_NL_RCVBUF_MAX	(8 << 20)

unsigned int prr_nl_ack_room(struct prr_nl *nl, unsigned int acks)
{
	int fd = mnl_socket_get_fd(nl->sock);
	int want = PRR_NL_RCVBUF_MAX, have = 0;
	socklen_t len = sizeof(have);

	if ((size_t)acks * PRR_NL_ACK_TRUESIZE < PRR_NL_RCVBUF_MAX)
		want = acks * PRR_NL_ACK_TRUESIZE;
	/* FORCE needs CAP_NET_ADMIN; the plain one is capped by rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &have, &len) || have <= 0)
		return 1;
	/* The kernel reports twice what it accounts for; keep a margin. */
	have /= PRR_NL_ACK_TRUESIZE;
	return have > 1 ? have - 1 : 1;
}

struct prr_nl_batch_run {
	struct prr_nl_run run;
	unsigned int first_seq;
	unsigned int n;
	unsigned int done;		/* requests whose outcome is known */
	prr_nl_ack_t ack;
	void *data;
};

/* The requests before @idx that got no answer succeeded. */
static void prr_nl_batch_quiet(struct prr_nl_batch_run *br, unsigned int idx)
{
	struct prr_nl *nl = br->run.nl;

	memset(&nl->err, 0, sizeof(nl->err));
	nl->warning[0] = '\0';
	for (; br->done < idx; br->done++)
		br->ack(nl, br->done, 0, br->data);
}

/* One message of a batch's answer; only acks and errors are expected. */
static int prr_nl_batch_msg(const struct nlmsghdr *nlh,
			    struct prr_nl_batch_run *br)
{
	struct prr_nl *nl = br->run.nl;
	unsigned int idx = nlh->nlmsg_seq - br->first_seq;
	int ret;

	if (nlh->nlmsg_type != NLMSG_ERROR || idx >= br->n || idx < br->done)
		return 0;
	prr_nl_batch_quiet(br, idx);
	nl->answers++;
	ret = prr_nl_error_cb(nlh, &br->run);
	if (ret == MNL_CB_ERROR && !nl->err.code)
		return -EBADMSG;
	br->done++;
	br->ack(nl, idx, ret == MNL_CB_ERROR ? nl->err.code : 0, br->data);
	return 0;
}

/* Asks for an ack of the last request in @buf only. */
static void prr_nl_ack_last(void *buf, size_t len)
{
	struct nlmsghdr *nlh = buf, *last = NULL;
	int left = len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		last = nlh;
	if (last)
		last->nlmsg_flags |= NLM_F_ACK;
}

int prr_nl_send_batch(struct prr_nl *nl, void *buf, size_t len,
		      unsigned int first_seq, unsigned int n,
		      prr_nl_ack_t ack, void *data)
{
	struct prr_nl_batch_run br = {
		.run = { .nl = nl },
		.first_seq = first_seq,
		.n = n,
		.ack = ack,
		.data = data,
	};
	const struct nlmsghdr *nlh;
	ssize_t got;
	int left, ret;

	prr_nl_ack_last(buf, len);
	if (mnl_socket_sendto(nl->sock, buf, len) < 0)
		return -errno;
	nl->packs++;
	while (br.done < n) {
		got = mnl_socket_recvfrom(nl->sock, nl->rx, PRR_NL_RX_SIZE);
		if (got < 0)
			return -errno;
		left = got;
		nlh = (const struct nlmsghdr *)nl->rx;
		for (; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_pid != nl->portid && nlh->nlmsg_pid)
				continue;
			ret = prr_nl_batch_msg(nlh, &br);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* Removes a trailing full stop; prr_nl_report() adds its own. */
static void prr_nl_strip_stop(char *msg)
{
	size_t len = strlen(msg);

	if (len && msg[len - 1] == '.')
		msg[len - 1] = '\0';
}

const char *prr_nl_where;

/* The value and mask of one piece nest; false if it lacks either. */
static bool prr_nl_piece_of(const struct nlattr *nest, __u16 *value,
			    __u16 *mask)
{
	const struct nlattr *a;
	int seen = 0;

	mnl_attr_for_each_nested(a, nest) {
		if (mnl_attr_get_payload_len(a) < sizeof(__u16))
			continue;
		if (mnl_attr_get_type(a) == PRR_A_PORT_VALUE) {
			*value = mnl_attr_get_u16(a);
			seen |= 1;
		} else if (mnl_attr_get_type(a) == PRR_A_PORT_MASK) {
			*mask = mnl_attr_get_u16(a);
			seen |= 2;
		}
	}
	return seen == 3;
}

void prr_nl_note_piece(struct prr_nl *nl, const struct nlmsghdr *req)
{
	const struct nlattr *a, *p;
	unsigned int i, start, end;
	__u16 value, mask;

	nl->err.piece[0] = '\0';
	if (!nl->err.has_offset || !req)
		return;
	mnl_attr_for_each(a, req, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) != PRR_A_PIECES)
			continue;
		i = 0;
		mnl_attr_for_each_nested(p, a) {
			i++;
			start = (const char *)p - (const char *)req;
			end = start + p->nla_len;
			if (nl->err.offset < start || nl->err.offset >= end)
				continue;
			if (!prr_nl_piece_of(p, &value, &mask))
				return;
			snprintf(nl->err.piece, sizeof(nl->err.piece),
				 "piece %u: port-value 0x%04x port-mask 0x%04x",
				 i, value, mask);
			return;
		}
	}
}

void prr_nl_report(const struct prr_nl *nl, int rc)
{
	const struct prr_nl_err *err = &nl->err;
	char addr[INET_ADDRSTRLEN] = "?";
	char msg[sizeof(err->msg)];

	if (err->msg[0]) {
		snprintf(msg, sizeof(msg), "%s", err->msg);
	} else if (!err->code && rc == -EBADMSG) {
		snprintf(msg, sizeof(msg), "malformed reply from the kernel");
	} else {
		snprintf(msg, sizeof(msg), "%s",
			 strerror(err->code ? err->code : -rc));
	}
	prr_nl_strip_stop(msg);

	if (prr_nl_where)
		fprintf(stderr, "prrctl: %s", prr_nl_where);
	fprintf(stderr, "Error: %s", msg);
	if (err->has_conflict) {
		inet_ntop(AF_INET, &err->conflict.addr, addr, sizeof(addr));
		fprintf(stderr, ": %s port-value 0x%04x port-mask 0x%04x",
			addr, err->conflict.port_value,
			err->conflict.port_mask);
	}
	if (err->piece[0])
		fprintf(stderr, " (%s)", err->piece);
	fputs(".\n", stderr);
}
