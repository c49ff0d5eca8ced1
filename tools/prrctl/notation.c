// SPDX-License-Identifier: GPL-2.0
/*
 * prrctl: operator notations of a port set <-> prr's (value, mask) pieces.
 * The math and the canonical form rules are in docs/notations.md.
 */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notation.h"

#define PORT_MAX	0xffffu
#define DEFAULT_OFFSET	6	/* RFC 7597 §5.1: excludes ports 0-1023 */
#define OFFSET_MAX	15	/* RFC 7598 §4.5 */

/* Words of the command line, one bit each. */
enum {
	PRR_NT_VALUE		= 1 << 0,
	PRR_NT_MASK		= 1 << 1,
	PRR_NT_PSID		= 1 << 2,
	PRR_NT_PSID_LEN		= 1 << 3,
	PRR_NT_PSID_OFFSET	= 1 << 4,
	PRR_NT_PORTS		= 1 << 5,
	PRR_NT_PORTPARAMS	= 1 << 6,
};

#define PRR_NT_PAIR	(PRR_NT_VALUE | PRR_NT_MASK)
#define PRR_NT_MAP	(PRR_NT_PSID | PRR_NT_PSID_LEN | PRR_NT_PSID_OFFSET)

static const struct {
	const char *word;
	unsigned int bit;
	unsigned int form;	/* words of one form go together */
} keywords[] = {
	{ "port-value",	 PRR_NT_VALUE,	     PRR_NT_PAIR },
	{ "port-mask",	 PRR_NT_MASK,	     PRR_NT_PAIR },
	{ "psid",	 PRR_NT_PSID,	     PRR_NT_MAP },
	{ "psid-len",	 PRR_NT_PSID_LEN,    PRR_NT_MAP },
	{ "psid-offset", PRR_NT_PSID_OFFSET, PRR_NT_MAP },
	{ "ports",	 PRR_NT_PORTS,	     PRR_NT_PORTS },
	{ "portparams",	 PRR_NT_PORTPARAMS,  PRR_NT_PORTPARAMS },
};

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#define NKEYWORDS ARRAY_SIZE(keywords)

static int fail(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err, PRR_NOTATION_ERR_LEN, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static unsigned int low_bits(unsigned int n)
{
	return n >= 32 ? ~0u : (1u << n) - 1;
}

/* Mask of the @n leading bits of a port. */
static __u16 lead_mask(unsigned int n)
{
	return (__u16)(PORT_MAX & ~low_bits(16 - n));
}

/* Decimal or 0x hex, the whole string, at most @max. */
bool prr_parse_uint(const char *s, unsigned long max, unsigned int *out)
{
	const char *digits = s;
	unsigned long v;
	char *end;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		digits = s + 2;
		base = 16;
	}
	if (base == 16 ? !isxdigit((unsigned char)digits[0]) :
			 !isdigit((unsigned char)digits[0]))
		return false;
	errno = 0;
	v = strtoul(digits, &end, base);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* As prr_parse_uint() on the @len first characters of @s. */
static bool parse_uint_n(const char *s, size_t len, unsigned long max,
			 unsigned int *out)
{
	char buf[16];

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return prr_parse_uint(buf, max, out);
}

int prr_notation_psid(unsigned int psid, unsigned int len,
		      unsigned int offset, struct prr_piece *out, size_t max,
		      char *err)
{
	unsigned int m, i, n;
	__u16 pmask, pvalue;

	if (offset > OFFSET_MAX)
		return fail(err, "psid-offset %u is above %u", offset,
			    OFFSET_MAX);
	if (len > 16 || offset + len > 16)
		return fail(err, "psid-offset %u + psid-len %u exceed 16 bits",
			    offset, len);
	if (psid > low_bits(len))
		return fail(err, "psid %u does not fit in psid-len %u (0-%u)",
			    psid, len, low_bits(len));
	m = 16 - offset - len;
	pmask = (__u16)(low_bits(len) << m);
	pvalue = (__u16)(psid << m);
	n = offset ? offset : 1;
	if (n > max)
		return fail(err, "psid set needs %u pieces, room for %zu", n,
			    max);
	if (!offset) {
		out[0].value = pvalue;
		out[0].mask = pmask;
		return 1;
	}
	/*
	 * RFC 7597 §5.1: the offset field A must not be 0.  Split A != 0 on
	 * its leading 1: bit 15 - lead is 1 and the lead bits above it are 0.
	 * Ascending values: the lowest leading 1 first.
	 */
	for (i = 0; i < offset; i++) {
		unsigned int lead = offset - 1 - i;

		out[i].value = (__u16)(pvalue | (1u << (15 - lead)));
		out[i].mask = (__u16)(pmask | lead_mask(lead + 1));
	}
	return offset;
}

int prr_notation_range(unsigned int lo, unsigned int hi,
		       struct prr_piece *out, size_t max, char *err)
{
	unsigned int size, first = lo;
	size_t n = 0;

	if (hi > PORT_MAX)
		return fail(err, "port %u is above 65535", hi);
	if (lo > hi)
		return fail(err, "ports %u-%u: %u is above %u", lo, hi, lo,
			    hi);
	/* Each piece: the largest block aligned at lo that fits. */
	while (lo <= hi) {
		size = 1;
		while (size < 0x10000 && !(lo & (2 * size - 1)) &&
		       lo + 2 * size - 1 <= hi)
			size *= 2;
		if (n == max)
			return fail(err, "ports %u-%u need more than %zu pieces",
				    first, hi, max);
		out[n].value = (__u16)lo;
		out[n].mask = (__u16)(PORT_MAX & ~(size - 1));
		n++;
		lo += size;
	}
	return n;
}

void prr_notation_init(struct prr_notation *nt)
{
	memset(nt, 0, sizeof(*nt));
}

static int keyword_index(const char *word)
{
	size_t i;

	for (i = 0; i < NKEYWORDS; i++)
		if (!strcmp(word, keywords[i].word))
			return i;
	return -1;
}

/* Another form's word already given, as "-1 with message" or 0. */
static int check_one_form(struct prr_notation *nt, int k)
{
	size_t i;

	for (i = 0; i < NKEYWORDS; i++)
		if ((nt->seen & keywords[i].bit) &&
		    keywords[i].form != keywords[k].form)
			return fail(nt->err, "\"%s\" and \"%s\" exclude each other",
				    keywords[i].word, keywords[k].word);
	return 0;
}

/* port-value/port-mask: pairs must alternate, so that each is unambiguous. */
static int take_pair_word(struct prr_notation *nt, int k, const char *arg)
{
	bool is_value = keywords[k].bit == PRR_NT_VALUE;
	unsigned int *mine = is_value ? &nt->nvalues : &nt->nmasks;
	unsigned int other = is_value ? nt->nmasks : nt->nvalues;
	unsigned int v;

	if (*mine > other && !other)
		return fail(nt->err, "\"%s\" given twice", keywords[k].word);
	if (*mine > other)
		return fail(nt->err, "\"%s\" given twice without \"%s\" between",
			    keywords[k].word,
			    is_value ? "port-mask" : "port-value");
	if (*mine == PRR_NOTATION_MAX)
		return fail(nt->err,
			    "too many port-value/port-mask pairs (at most %d)",
			    PRR_NOTATION_MAX);
	if (!prr_parse_uint(arg, PORT_MAX, &v))
		return fail(nt->err,
			    "invalid %s \"%s\": expected 0-65535 or 0x0-0xffff",
			    keywords[k].word, arg);
	if (is_value)
		nt->pairs[*mine].value = v;
	else
		nt->pairs[*mine].mask = v;
	(*mine)++;
	return 0;
}

static int take_ports(struct prr_notation *nt, const char *arg)
{
	const char *dash = strchr(arg, '-');
	bool ok;

	if (dash)
		ok = parse_uint_n(arg, dash - arg, PORT_MAX, &nt->lo) &&
		     prr_parse_uint(dash + 1, PORT_MAX, &nt->hi);
	else
		ok = prr_parse_uint(arg, PORT_MAX, &nt->lo);
	if (!ok)
		return fail(nt->err,
			    "invalid ports \"%s\": expected LO-HI or PORT, 0-65535",
			    arg);
	if (!dash)
		nt->hi = nt->lo;
	if (nt->lo > nt->hi)
		return fail(nt->err, "invalid ports \"%s\": %u is above %u",
			    arg, nt->lo, nt->hi);
	return 0;
}

/* "O:L:PP:PP", 4 option bytes in hex as DHCP dumps print them. */
static bool parse_hex_bytes(const char *s, unsigned int *word)
{
	unsigned int i, byte;
	const char *end;

	*word = 0;
	for (i = 0; i < 4; i++) {
		end = s;
		while (isxdigit((unsigned char)*end))
			end++;
		if (end == s || end - s > 2 || (i < 3 ? *end != ':' : !!*end))
			return false;
		byte = strtoul(s, NULL, 16);
		*word = *word << 8 | byte;
		s = end + 1;
	}
	return true;
}

/*
 * RFC 7598 §4.5 OPTION_S46_PORTPARAMS / RFC 7618 OPTION_V4_PORTPARAMS data,
 * offset(8) | PSID-len(8) | PSID(16) with the PSID left-aligned, written
 * as "0xOOLLPPPP" or "OO:LL:PP:PP"; or ISC Kea's text "OFFSET,PSID/LEN"
 * whose PSID is right-aligned.
 */
static int take_portparams(struct prr_notation *nt, const char *arg)
{
	const char *comma = strchr(arg, ',');
	const char *slash = strchr(arg, '/');
	unsigned int word, field;

	if (comma && slash && slash > comma) {
		const char *p = comma + 1;

		if (*p == ' ')
			p++;
		if (!parse_uint_n(arg, comma - arg, 255, &nt->psid_offset) ||
		    !parse_uint_n(p, slash - p, PORT_MAX, &nt->psid) ||
		    !prr_parse_uint(slash + 1, 255, &nt->psid_len))
			goto invalid;
		return 0;
	}
	if (!strncmp(arg, "0x", 2) && strlen(arg) == 10) {
		if (!prr_parse_uint(arg, 0xffffffffu, &word))
			goto invalid;
	} else if (!parse_hex_bytes(arg, &word)) {
		goto invalid;
	}
	nt->psid_offset = word >> 24;
	nt->psid_len = (word >> 16) & 0xff;
	field = word & PORT_MAX;
	if (nt->psid_len > 16)
		return fail(nt->err, "portparams psid-len %u is above 16",
			    nt->psid_len);
	if (field & low_bits(16 - nt->psid_len))
		return fail(nt->err, nt->psid_len ?
			    "portparams psid field 0x%04x has bits beyond psid-len %u" :
			    "portparams psid field 0x%04x is not 0 with psid-len %u",
			    field, nt->psid_len);
	nt->psid = nt->psid_len ? field >> (16 - nt->psid_len) : 0;
	return 0;
invalid:
	return fail(nt->err,
		    "invalid portparams \"%s\": expected OFFSET,PSID/PSID-LEN, 0xOOLLPPPP or OO:LL:PP:PP",
		    arg);
}

int prr_notation_word(struct prr_notation *nt, int argc, char **argv)
{
	int k = argc > 0 ? keyword_index(argv[0]) : -1;
	unsigned int bit;
	const char *arg;
	int ret;

	if (k < 0)
		return 0;
	bit = keywords[k].bit;
	if (check_one_form(nt, k))
		return -1;
	if (argc < 2)
		return fail(nt->err, "\"%s\" needs a value", argv[0]);
	arg = argv[1];
	if ((nt->seen & bit) && !(bit & PRR_NT_PAIR))
		return fail(nt->err, "\"%s\" given twice", argv[0]);

	switch (bit) {
	case PRR_NT_VALUE:
	case PRR_NT_MASK:
		ret = take_pair_word(nt, k, arg);
		break;
	case PRR_NT_PSID:
		ret = prr_parse_uint(arg, PORT_MAX, &nt->psid) ? 0 :
		      fail(nt->err,
			   "invalid psid \"%s\": expected 0-65535 or 0x0-0xffff",
			   arg);
		break;
	case PRR_NT_PSID_LEN:
		ret = prr_parse_uint(arg, 16, &nt->psid_len) ? 0 :
		      fail(nt->err, "invalid psid-len \"%s\": expected 0-16",
			   arg);
		break;
	case PRR_NT_PSID_OFFSET:
		ret = prr_parse_uint(arg, OFFSET_MAX, &nt->psid_offset) ? 0 :
		      fail(nt->err, "invalid psid-offset \"%s\": expected 0-15",
			   arg);
		break;
	case PRR_NT_PORTS:
		ret = take_ports(nt, arg);
		break;
	default:
		ret = take_portparams(nt, arg);
		break;
	}
	if (ret)
		return -1;
	nt->seen |= bit;
	return 2;
}

static bool pieces_overlap(struct prr_piece a, struct prr_piece b)
{
	return !((a.value ^ b.value) & a.mask & b.mask);
}

static int finish_pairs(struct prr_notation *nt, struct prr_piece *out,
			size_t max)
{
	unsigned int i, j, n = nt->nvalues;

	if (nt->nvalues < nt->nmasks)
		return fail(nt->err, "missing \"port-value V\"");
	if (nt->nvalues > nt->nmasks)
		return fail(nt->err, "missing \"port-mask M\"");
	if (n > max)
		return fail(nt->err, "%u port-value/port-mask pairs, room for %zu",
			    n, max);
	/* Several pairs are one set: they must be disjoint (one entry each). */
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (pieces_overlap(nt->pairs[i], nt->pairs[j]))
				return fail(nt->err,
					    "port-value 0x%04x port-mask 0x%04x overlaps port-value 0x%04x port-mask 0x%04x",
					    nt->pairs[i].value,
					    nt->pairs[i].mask,
					    nt->pairs[j].value,
					    nt->pairs[j].mask);
		out[i] = nt->pairs[i];
	}
	return n;
}

static int finish_psid(struct prr_notation *nt, struct prr_piece *out,
		       size_t max)
{
	bool given = nt->seen & (PRR_NT_PSID_OFFSET | PRR_NT_PORTPARAMS);

	if (!(nt->seen & PRR_NT_PORTPARAMS)) {
		if (!(nt->seen & PRR_NT_PSID))
			return fail(nt->err, "missing \"psid P\"");
		if (!(nt->seen & PRR_NT_PSID_LEN))
			return fail(nt->err, "missing \"psid-len K\"");
	}
	if (!given)
		nt->psid_offset = DEFAULT_OFFSET;
	if (nt->psid_offset > OFFSET_MAX)
		return fail(nt->err, "psid-offset %u is above %u",
			    nt->psid_offset, OFFSET_MAX);
	if (nt->psid_offset + nt->psid_len > 16)
		return fail(nt->err, given ?
			    "psid-offset %u + psid-len %u exceed 16 bits" :
			    "default psid-offset %u + psid-len %u exceed 16 bits: give psid-offset",
			    nt->psid_offset, nt->psid_len);
	return prr_notation_psid(nt->psid, nt->psid_len, nt->psid_offset, out,
				 max, nt->err);
}

int prr_notation_finish(struct prr_notation *nt, struct prr_piece *out,
			size_t max)
{
	if (nt->seen & PRR_NT_PAIR)
		return finish_pairs(nt, out, max);
	if (nt->seen & (PRR_NT_MAP | PRR_NT_PORTPARAMS))
		return finish_psid(nt, out, max);
	if (nt->seen & PRR_NT_PORTS)
		return prr_notation_range(nt->lo, nt->hi, out, max, nt->err);
	return fail(nt->err,
		    "missing port set: \"port-value V port-mask M\", \"ports LO-HI\", \"psid P psid-len K\" or \"portparams O,P/K\"");
}

int prr_notation_parse(int argc, char **argv, struct prr_piece *out,
		       size_t max, char *err)
{
	struct prr_notation nt;
	int i, used, n;

	prr_notation_init(&nt);
	for (i = 0; i < argc; i += used) {
		used = prr_notation_word(&nt, argc - i, argv + i);
		if (!used)
			snprintf(nt.err, sizeof(nt.err),
				 "unexpected argument \"%s\"", argv[i]);
		if (used <= 0)
			goto out_err;
	}
	n = prr_notation_finish(&nt, out, max);
	if (n >= 0)
		return n;
out_err:
	if (err)
		memcpy(err, nt.err, sizeof(nt.err));
	return -1;
}

/* Whether @n pieces @p are, in any order, the @cn distinct pieces @c. */
static bool same_pieces(const struct prr_piece *p, size_t n,
			const struct prr_piece *c, int cn)
{
	size_t i;
	int j;

	if (cn < 0 || (size_t)cn != n)
		return false;
	for (j = 0; j < cn; j++) {
		for (i = 0; i < n; i++)
			if (p[i].value == c[j].value && p[i].mask == c[j].mask)
				break;
		if (i == n)
			return false;
	}
	return true;
}

static bool is_range(const struct prr_piece *p, size_t n,
		     struct prr_notation_form *f)
{
	struct prr_piece c[PRR_NOTATION_MAX];
	unsigned int lo = PORT_MAX, hi = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i].value < lo)
			lo = p[i].value;
		if ((p[i].value | (PORT_MAX & ~p[i].mask)) > hi)
			hi = p[i].value | (PORT_MAX & ~p[i].mask);
	}
	if (lo > hi ||
	    !same_pieces(p, n, c, prr_notation_range(lo, hi, c, n, NULL)))
		return false;
	f->kind = PRR_NOTATION_RANGE;
	f->lo = lo;
	f->hi = hi;
	return true;
}

/*
 * n pieces can only be the psid set of offset n.  Its lowest piece is the
 * block A = 1: value 1 << (16 - n) | psid << m, mask: n leading bits and
 * the psid bits.
 */
static bool is_psid(const struct prr_piece *p, size_t n,
		    struct prr_notation_form *f)
{
	struct prr_piece c[PRR_NOTATION_MAX];
	unsigned int a = n, k, m, pmask, psid;
	const struct prr_piece *low = p;
	size_t i;

	if (n < 2 || n > OFFSET_MAX)
		return false;
	for (i = 1; i < n; i++)
		if (p[i].value < low->value)
			low = &p[i];
	pmask = low->mask & low_bits(16 - a);
	k = __builtin_popcount(pmask);
	m = 16 - a - k;
	if (!k || pmask != low_bits(k) << m)
		return false;
	psid = (low->value >> m) & low_bits(k);
	if (!same_pieces(p, n, c, prr_notation_psid(psid, k, a, c, n, NULL)))
		return false;
	f->kind = PRR_NOTATION_PSID;
	f->psid = psid;
	f->psid_len = k;
	f->psid_offset = a;
	return true;
}

int prr_notation_classify(const struct prr_piece *p, size_t n,
			  struct prr_notation_form *f)
{
	memset(f, 0, sizeof(*f));
	if (!n)
		return -1;
	f->kind = PRR_NOTATION_PIECES;
	if (n == 1) {
		f->kind = PRR_NOTATION_PIECE;
		f->value = p[0].value;
		f->mask = p[0].mask;
		return 0;
	}
	if (n <= PRR_NOTATION_MAX && !is_range(p, n, f))
		is_psid(p, n, f);
	return 0;
}

/* The piece after @last in (value, mask) order, NULL if none. */
static const struct prr_piece *next_piece(const struct prr_piece *p,
					  size_t n,
					  const struct prr_piece *last)
{
	const struct prr_piece *best = NULL;
	__u32 key, lkey = last ? (__u32)last->value << 16 | last->mask : 0;
	size_t i;

	for (i = 0; i < n; i++) {
		key = (__u32)p[i].value << 16 | p[i].mask;
		if (last && key <= lkey)
			continue;
		if (!best || key < ((__u32)best->value << 16 | best->mask))
			best = &p[i];
	}
	return best;
}

int prr_notation_describe(const struct prr_piece *p, size_t n, char *buf,
			  size_t len)
{
	const struct prr_piece *q = NULL;
	struct prr_notation_form f;
	size_t used = 0;
	int w;

	if (prr_notation_classify(p, n, &f))
		return -1;
	switch (f.kind) {
	case PRR_NOTATION_RANGE:
		return snprintf(buf, len, "ports %u-%u", f.lo, f.hi);
	case PRR_NOTATION_PSID:
		return snprintf(buf, len, "psid 0x%x psid-len %u psid-offset %u",
				f.psid, f.psid_len, f.psid_offset);
	default:
		break;
	}
	while ((q = next_piece(p, n, q))) {
		w = snprintf(used < len ? buf + used : NULL,
			     used < len ? len - used : 0,
			     "%sport-value 0x%04x port-mask 0x%04x",
			     used ? " " : "", q->value, q->mask);
		if (w < 0)
			return -1;
		used += w;
	}
	return used;
}
