/* SPDX-License-Identifier: GPL-2.0 */
/*
 * prrctl: operator notations of a port set and prr's (value, mask) pieces.
 *
 * prr stores a port set as entries {p : (p & mask) == value} (RFC 6431
 * §2.1).  An operator may write a set as one such piece, as a MAP port set
 * (RFC 7597 §5.1: PSID, PSID length, PSID offset), as the RFC 7598 §4.5 /
 * RFC 7618 PORTPARAMS option, or as a contiguous range.  This code turns
 * each notation into pieces and a CPE's pieces back into one canonical text.
 * See docs/notations.md.  No allocation; not tied to netlink.
 */
#ifndef PRR_NOTATION_H
#define PRR_NOTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Pieces a form gives at most: psid 15 (offset 15), range 30 (1-65534). */
#define PRR_NOTATION_MAX	32
/* Room for any error message, NUL included. */
#define PRR_NOTATION_ERR_LEN	128

struct prr_piece {
	__u16 value;
	__u16 mask;
};

/* Decimal or 0x hex, the whole string (no sign, no blanks), at most @max. */
bool prr_parse_uint(const char *s, unsigned long max, unsigned int *out);

/*
 * The MAP port set of RFC 7597 §5.1: ports whose @len PSID bits, after the
 * @offset leading bits, equal @psid, except (when @offset > 0) those whose
 * leading @offset bits are all 0.  Needs @offset <= 15 (RFC 7598 §4.5),
 * @offset + @len <= 16, @psid < 2^@len.  Stores max(1, @offset) pairwise
 * disjoint pieces in ascending order in @out.  Returns their number, or -1
 * with a message in @err (PRR_NOTATION_ERR_LEN bytes, may be NULL).
 */
int prr_notation_psid(unsigned int psid, unsigned int len,
		      unsigned int offset, struct prr_piece *out, size_t max,
		      char *err);

/*
 * Ports @lo to @hi inclusive as the fewest aligned blocks (pieces whose
 * mask is a run of leading ones), ascending: at most 30.  Returns their
 * number, or -1 with a message in @err.
 */
int prr_notation_range(unsigned int lo, unsigned int hi,
		       struct prr_piece *out, size_t max, char *err);

/* Word by word parsing of a port set among other words of a command. */
struct prr_notation {
	unsigned int seen;		/* PRR_NT_* bits of the words given */
	unsigned int psid, psid_len, psid_offset;
	unsigned int lo, hi;
	unsigned int nvalues, nmasks;	/* port-value / port-mask words */
	struct prr_piece pairs[PRR_NOTATION_MAX];
	char err[PRR_NOTATION_ERR_LEN];
};

void prr_notation_init(struct prr_notation *nt);

/*
 * Takes the port-set keyword at @argv[0] and its value.  Returns the number
 * of words used (2), 0 when @argv[0] is not a port-set keyword (the caller
 * handles it), or -1 with a message in @nt->err.  Keywords: port-value,
 * port-mask, psid, psid-len, psid-offset, ports, portparams.
 */
int prr_notation_word(struct prr_notation *nt, int argc, char **argv);

/*
 * Checks that the words taken form exactly one port set and stores its
 * pieces in @out.  Returns their number (>= 1), or -1 with a message in
 * @nt->err ("missing port set: ..." when no port-set word was given).
 */
int prr_notation_finish(struct prr_notation *nt, struct prr_piece *out,
			size_t max);

/*
 * The whole of @argv is one port set.  Returns the number of pieces or -1
 * with a message in @err.
 */
int prr_notation_parse(int argc, char **argv, struct prr_piece *out,
		       size_t max, char *err);

enum prr_notation_kind {
	PRR_NOTATION_PIECE,	/* one piece: port-value V port-mask M */
	PRR_NOTATION_RANGE,	/* ports LO-HI */
	PRR_NOTATION_PSID,	/* psid P psid-len K psid-offset A */
	PRR_NOTATION_PIECES,	/* several port-value V port-mask M pairs */
};

struct prr_notation_form {
	enum prr_notation_kind kind;
	unsigned int value, mask;		/* PIECE */
	unsigned int lo, hi;			/* RANGE */
	unsigned int psid, psid_len, psid_offset; /* PSID */
};

/*
 * Which canonical form the pieces of one CPE (any order) have: PIECE when
 * @n == 1; RANGE when they are exactly prr_notation_range() of their span;
 * PSID when they are exactly prr_notation_psid() of some set with offset
 * >= 2 and psid-len >= 1; PIECES otherwise.  Returns -1 when @n == 0.
 */
int prr_notation_classify(const struct prr_piece *p, size_t n,
			  struct prr_notation_form *f);

/*
 * The canonical text of the pieces of one CPE into @buf, snprintf-like:
 * returns the length of the whole text (truncated if >= @len), or -1 when
 * @n == 0.  Texts: "port-value 0x0400 port-mask 0x1400",
 * "ports 1024-2047", "psid 0x34 psid-len 8 psid-offset 6",
 * "port-value 0x... port-mask 0x... port-value ..." (ascending values).
 * prr_notation_parse() of the text gives back the same pieces.
 */
int prr_notation_describe(const struct prr_piece *p, size_t n, char *buf,
			  size_t len);

#endif /* PRR_NOTATION_H */
