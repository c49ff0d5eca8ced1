/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The port allocator of the CPE role: picks a source port (or ICMP
 * Identifier) uniformly at random inside a port set made of one or more
 * pieces {p : (p & mask) == value} (RFC 6431 §2.1), in bounded work.
 *
 * Built both in the kernel and in userspace (see portable.h); a userspace
 * program linking it defines prr_random_u32().
 */
#ifndef _PRR_PORTALLOC_H
#define _PRR_PORTALLOC_H

#include "portable.h"

/* The port set {p : (p & mask) == value}; value has no bit outside mask. */
struct prr_piece {
	u16 value;
	u16 mask;
};

/* Random candidates tried first, then consecutive indices scanned. */
#define PRR_PICK_RANDOM_TRIES	64
#define PRR_PICK_SCAN		1024
/* More pieces than this are refused (the union's size must fit 2^32). */
#define PRR_PICK_MAX_PIECES	65536

/* Accepts or refuses a candidate: @piece is the index of its piece. */
typedef bool (*prr_port_ok_t)(u16 port, u32 piece, void *arg);

u32 prr_piece_size(u16 mask);
u16 prr_piece_port(u16 value, u16 mask, u32 idx);

int prr_port_pick(const struct prr_piece *pieces, u32 n, prr_port_ok_t ok,
		  void *arg, u16 *port);

#endif /* _PRR_PORTALLOC_H */
