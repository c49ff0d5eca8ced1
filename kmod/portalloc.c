// SPDX-License-Identifier: GPL-2.0
/*
 * The port allocator.
 *
 * The pieces' union is seen as one index space [0, total): piece 0's ports
 * in ascending order, then piece 1's, and so on.  A uniformly random index
 * is thus a piece drawn with probability size / total and a uniformly random
 * port inside it.  Overlapping pieces are not merged: a port in two pieces
 * has two indices, and the caller's ok() refuses whatever is not really
 * available (owned by a more specific entry, in use for the tuple...).
 * A piece whose value has a bit outside its mask is the empty set.
 *
 * Work is bounded whatever the set and whatever ok() answers (it runs in
 * softirq): at most PRR_PICK_RANDOM_TRIES random candidates, then at most
 * PRR_PICK_SCAN consecutive indices from a random start, wrapping, so that a
 * set of up to PRR_PICK_SCAN ports with one free port is never reported
 * exhausted.  Besides those calls of ok(), each random candidate costs a walk
 * over the pieces, and so does the scan.
 */

#include "portalloc.h"

u32 prr_piece_size(u16 mask)
{
	return 1u << (16 - prr_popcount16(mask));
}

/*
 * The @idx-th smallest port of the piece: the bits of @idx, lowest first,
 * deposited into the zero bits of @mask, lowest first (x86 PDEP of ~mask),
 * ORed with @value.  Bits of @idx beyond the piece's size are ignored.
 */
u16 prr_piece_port(u16 value, u16 mask, u32 idx)
{
	u32 holes = (u16)~mask;
	u32 port = value;

	for (; holes && idx; idx >>= 1, holes &= holes - 1)
		if (idx & 1)
			port |= holes & -holes;
	return port;
}

/* Ports in a piece: none when the value has a bit outside the mask. */
static u32 prr_piece_weight(const struct prr_piece *pc)
{
	if (pc->value & ~pc->mask)
		return 0;
	return prr_piece_size(pc->mask);
}

/* A uniformly random index below @total (at most 2^32), no division. */
static u64 prr_random_index(u64 total)
{
	return ((u64)prr_random_u32() * total) >> 32;
}

/* The piece holding union index *@idx, which becomes the piece's index. */
static u32 prr_piece_of(const struct prr_piece *pieces, u64 *idx)
{
	u32 k, w;

	for (k = 0;; k++) {
		w = prr_piece_weight(&pieces[k]);
		if (*idx < w)
			return k;
		*idx -= w;
	}
}

/*
 * Picks a port of the union of @pieces[0..@n) that @ok accepts, uniformly
 * at random among the union's indices.  Returns 0 with *@port set,
 * -EADDRINUSE when @ok accepted none of the candidates (or the union is
 * empty), -EINVAL when @n is 0 or above PRR_PICK_MAX_PIECES.  Calls @ok at
 * most PRR_PICK_RANDOM_TRIES + min(PRR_PICK_SCAN, total) times.
 */
int prr_port_pick(const struct prr_piece *pieces, u32 n, prr_port_ok_t ok,
		  void *arg, u16 *port)
{
	u64 total = 0, idx, left;
	u32 i, k;
	u16 p;

	if (!n || n > PRR_PICK_MAX_PIECES)
		return -EINVAL;
	for (k = 0; k < n; k++)
		total += prr_piece_weight(&pieces[k]);
	if (!total)
		return -EADDRINUSE;

	for (i = 0; i < PRR_PICK_RANDOM_TRIES; i++) {
		idx = prr_random_index(total);
		k = prr_piece_of(pieces, &idx);
		p = prr_piece_port(pieces[k].value, pieces[k].mask, idx);
		if (ok(p, k, arg)) {
			*port = p;
			return 0;
		}
	}

	/* Each index at most once: a set this small is searched in full. */
	left = total < PRR_PICK_SCAN ? total : PRR_PICK_SCAN;
	idx = prr_random_index(total);
	k = prr_piece_of(pieces, &idx);
	while (left) {
		if (idx >= prr_piece_weight(&pieces[k])) {
			/* Past this piece's end (or it is empty): next. */
			idx = 0;
			k = k + 1 < n ? k + 1 : 0;
			continue;
		}
		p = prr_piece_port(pieces[k].value, pieces[k].mask, idx);
		if (ok(p, k, arg)) {
			*port = p;
			return 0;
		}
		idx++;
		left--;
	}
	return -EADDRINUSE;
}
