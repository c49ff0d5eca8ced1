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
	bool has_offset;		/* NLMSGERR_ATTR_OFFS */
	__u32 offset;			/* of the bad attribute in the request */
	char piece[64];			/* the PRR_A_PIECES piece at offset */
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
	unsigned long long answers;	/* to batches: acks and errors read */
	unsigned long long packs;	/* batches sent */
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

/*
 * Prints "Error: <why>." for a failed prr_nl_*() call on stderr, after
 * "prrctl: <prr_nl_where>" when prr_nl_where is set (a batch line).
 */
void prr_nl_report(const struct prr_nl *nl, int rc);

extern const char *prr_nl_where;

/*
 * When the kernel named (NLMSGERR_ATTR_OFFS) a piece of @req's PRR_A_PIECES
 * as the bad attribute, describes it in nl->err.piece for prr_nl_report().
 */
void prr_nl_note_piece(struct prr_nl *nl, const struct nlmsghdr *req);

/* Builds a request header for cmd at buf (a batch); see prr_nl_request(). */
struct nlmsghdr *prr_nl_request_at(struct prr_nl *nl, void *buf, __u8 cmd,
				   __u16 flags);

/*
 * Grows the receive buffer so that about @acks acknowledgements fit in it;
 * returns how many do (at least 1).
 */
unsigned int prr_nl_ack_room(struct prr_nl *nl, unsigned int acks);

/*
 * Called for the outcome of request number @idx of a batch: @error is 0 or a
 * positive errno, with nl->err (extack) and nl->warning filled in (both
 * empty for a request that succeeded without an answer).
 */
typedef void (*prr_nl_ack_t)(struct prr_nl *nl, unsigned int idx, int error,
			     void *data);

/*
 * Sends @len bytes of requests (sequence numbers @first_seq onwards, @n of
 * them) in one sendmsg() and calls @ack for each request, in order.  Only
 * the last one needs an ack, and gets NLM_F_ACK here: netlink answers every
 * request that fails, asked or not, and runs them in order, so an answer to
 * request k says that the unanswered ones before it succeeded.  Returns 0
 * or -errno (nothing more can be told about the requests then).
 */
int prr_nl_send_batch(struct prr_nl *nl, void *buf, size_t len,
		      unsigned int first_seq, unsigned int n,
		      prr_nl_ack_t ack, void *data);

#endif /* PRRCTL_GENL_H */
