// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target of the packet classifier (kmod/classify.c).
 *
 * Each input is an IPv4 datagram as received: it is classified on both sides
 * with the bytes the caller must make readable (min(len, PRR_CLASSIFY_MAX)),
 * then with all of them, with its link layer padding changed, then as a
 * shorter datagram, and once more with the checksum of what would be the
 * quoted header of an ICMP error made valid, so that the fuzzer gets past it.
 * The classifier always reads a heap copy of exactly the readable bytes: ASan
 * reports any read past them.  UBSan and the invariants below abort on
 * anything else.  The input's bytes also go through prr_csum_ok().
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

#define INVARIANT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "invariant broken: %s\n", #cond);	\
		abort();						\
	}								\
} while (0)

struct result {
	int cls;
	struct prr_key key;
};

static const enum prr_side sides[] = { PRR_SIDE_DST, PRR_SIDE_SRC };

static u32 min_u32(u32 a, u32 b)
{
	return a < b ? a : b;
}

/* prr_classify() with exactly @avail readable bytes of @data. */
static struct result classify(const u8 *data, u32 avail, u32 len,
			      enum prr_side side)
{
	u8 *copy = malloc(avail);
	struct result r;

	if (!copy && avail)
		abort();
	memcpy(copy, data, avail);
	r.key.port = 0xdead;
	r.key.icmp_off = 0xbeef;
	r.cls = prr_classify(copy, avail, len, side, &r.key);
	free(copy);
	return r;
}

static bool same(const struct result *a, const struct result *b)
{
	return a->cls == b->cls && a->key.port == b->key.port &&
	       a->key.icmp_off == b->key.icmp_off;
}

/* What holds for any answer about the first @avail bytes of @data. */
static void check_answer(const u8 *data, u32 avail, const struct result *r)
{
	u32 off = r->key.icmp_off, qihl;

	INVARIANT(r->cls == PRR_CLASS_PORT || r->cls == PRR_CLASS_NO_PORT ||
		  r->cls == PRR_CLASS_MALFORMED);
	/* No port out of thin air. */
	if (r->cls != PRR_CLASS_PORT)
		INVARIANT(r->key.port == 0);
	if (!off)
		return;
	/* Only an ICMP error has an ICMP offset: the outer header length. */
	INVARIANT(off >= 20 && off <= 60);
	INVARIANT(avail >= off + 8);
	INVARIANT(data[9] == 1);
	INVARIANT(off == (data[0] & 0x0f) * 4u);
	if (r->cls != PRR_CLASS_PORT)
		return;
	/* A port from a quote: its header was checked. */
	qihl = (data[off + 8] & 0x0f) * 4u;
	INVARIANT(qihl >= 20 && avail >= off + 8 + qihl + 8);
	INVARIANT(prr_csum_ok(data + off + 8, qihl));
}

/*
 * Bytes after the IP total length (link layer padding) change nothing: the
 * answer for @data with them inverted is @r.
 */
static void check_padding(const u8 *data, u32 avail, u32 len,
			  enum prr_side side, const struct result *r)
{
	struct result padded;
	u32 tot_len, i;
	u8 *copy;

	if (avail < 20)
		return;
	tot_len = data[2] << 8 | data[3];
	/* Padding comes after the header, whose length it must not change. */
	if (tot_len < 20 || tot_len >= avail)
		return;
	copy = malloc(avail);
	if (!copy)
		abort();
	memcpy(copy, data, avail);
	for (i = tot_len; i < avail; i++)
		copy[i] = ~copy[i];
	padded = classify(copy, avail, len, side);
	free(copy);
	INVARIANT(same(r, &padded));
}

/*
 * The datagram is the first @len bytes of @data: classify it on both sides
 * and check the answers.
 */
static void check_datagram(const u8 *data, u32 len)
{
	u32 avail = min_u32(len, PRR_CLASSIFY_MAX), s;
	struct result r[2], again, all;

	for (s = 0; s < 2; s++) {
		r[s] = classify(data, avail, len, sides[s]);
		check_answer(data, avail, &r[s]);
		/* Deterministic. */
		again = classify(data, avail, len, sides[s]);
		INVARIANT(same(&r[s], &again));
		check_padding(data, avail, len, sides[s], &r[s]);
		/* Bytes past the first PRR_CLASSIFY_MAX change nothing. */
		if (len > avail) {
			all = classify(data, len, len, sides[s]);
			INVARIANT(same(&r[s], &all));
		}
	}
	/* The sides differ only in a quote's addresses and in the port. */
	INVARIANT(r[0].key.icmp_off == r[1].key.icmp_off);
	if (!r[0].key.icmp_off)
		INVARIANT(r[0].cls == r[1].cls);
}

/*
 * prr_csum_ok() on the raw bytes, against the other way to say it: the
 * one's complement sum of the 16-bit words (an odd byte padded with zero) is
 * -0, i.e. their plain sum is a non-zero multiple of 0xffff.
 */
static void check_csum(const u8 *data, u32 len)
{
	u64 sum = 0;
	u32 i;

	for (i = 0; i < len; i += 2)
		sum += 256u * data[i] + (i + 1 < len ? data[i + 1] : 0);
	INVARIANT(prr_csum_ok(data, len) == (sum && sum % 0xffff == 0));
}

/* FNV-1a, for a shorter length that depends on the input only. */
static u32 hash(const u8 *data, size_t size)
{
	u32 h = 2166136261u;

	while (size--)
		h = (h ^ *data++) * 16777619u;
	return h;
}

/*
 * A copy of @data where what would be an ICMP error's quoted header, if it
 * is complete, has a valid checksum.  NULL when there is no such header.
 */
static u8 *with_quoted_checksum(const u8 *data, size_t size)
{
	u32 off, qihl, sum = 0, i;
	u8 *copy, *in;

	if (size < 20)
		return NULL;
	off = (data[0] & 0x0f) * 4u + 8;
	if (off + 20 > size)
		return NULL;
	qihl = (data[off] & 0x0f) * 4u;
	if (qihl < 20 || off + qihl > size)
		return NULL;
	copy = malloc(size);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	in = copy + off;
	in[10] = 0;
	in[11] = 0;
	for (i = 0; i < qihl; i += 2)
		sum += in[i] << 8 | in[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	in[10] = ~sum >> 8;
	in[11] = ~sum & 0xff;
	return copy;
}

/*
 * The fuzzer's entry point (LLVMFuzzerTestOneInput, an alias the Makefile
 * gives the linker: the name is not in kernel style).
 */
int prr_fuzz_one_input(const u8 *data, size_t size);

int prr_fuzz_one_input(const u8 *data, size_t size)
{
	u32 len = min_u32(size, 65535), s, shorter;
	struct result low;
	u8 *fixed;

	check_csum(data, len);
	check_datagram(data, len);
	if (len) {
		shorter = hash(data, len) % len;
		check_datagram(data, shorter);
		/* Fewer readable bytes than promised: still no overread. */
		for (s = 0; s < 2; s++) {
			low = classify(data, shorter % (PRR_CLASSIFY_MAX + 1),
				       len, sides[s]);
			if (low.cls != PRR_CLASS_PORT)
				INVARIANT(low.key.port == 0);
		}
	}
	fixed = with_quoted_checksum(data, len);
	if (fixed) {
		check_datagram(fixed, len);
		free(fixed);
	}
	return 0;
}
