/* SPDX-License-Identifier: GPL-2.0 */
/*
 * prrctl: generic netlink plumbing on top of libmnl.
 */
#ifndef PRRCTL_GENL_H
#define PRRCTL_GENL_H

#include <stdbool.h>
#include <libmnl/libmnl.h>
#include <linux/types.h>
#include <linux/prr.h>

/* The kernel's answer to the last failed request. */
struct prr_nl_err {
	int code;			/* positive errno, 0 if none */
	char msg[256];			/* NLMSGERR_ATTR_MSG, "" if none */
	bool has_conflict;		/* NLMSGERR_ATTR_COOKIE of our size */
	struct prr_conflict conflict;
};

struct prr_nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	__u16 family;
	bool no_family;			/* the "prr" family is not registered */
	char *rx;			/* receive buffer */
	char *tx;			/* request buffer */
	struct prr_nl_err err;
	char warning[256];		/* extack message of a successful ack */
};

/*
 * Opens a generic netlink socket with extended acks and resolves the "prr"
 * family.  Returns 0 or -errno; -ENOENT with nl->no_family set when the
 * module is not loaded.  On failure nl is closed again.
 */
int prr_nl_open(struct prr_nl *nl);
void prr_nl_close(struct prr_nl *nl);

/* Starts a request for cmd in nl's request buffer; NLM_F_REQUEST is added. */
struct nlmsghdr *prr_nl_request(struct prr_nl *nl, __u8 cmd, __u16 flags);

/*
 * Sends req and runs cb on every data message of the answer until the ack,
 * error or end of dump.  Returns 0 or -errno; nl->err holds the kernel's
 * errno and extack when the kernel refused the request.
 */
int prr_nl_exchange(struct prr_nl *nl, struct nlmsghdr *req,
		    mnl_cb_t cb, void *data);

/*
 * Dumps cmd, restarting when the kernel flags the dump as interrupted by a
 * concurrent change; reset(data) discards what the interrupted attempt
 * collected.  Returns like prr_nl_exchange().
 */
int prr_nl_dump(struct prr_nl *nl, __u8 cmd, mnl_cb_t cb,
		void (*reset)(void *data), void *data);

/* Prints "Error: <why>." for a failed prr_nl_*() call on stderr. */
void prr_nl_report(const struct prr_nl *nl, int rc);

#endif /* PRRCTL_GENL_H */
