/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few primitives the port-set table (portset.c) and the packet
 * classifier (classify.c) need from their environment, so that the very same
 * .c files build in the kernel and in userspace (unit tests, fuzzing,
 * benchmarks on real hardware).  Nothing else may be used by those files.
 */
#ifndef _PRR_PORTABLE_H
#define _PRR_PORTABLE_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/errno.h>
#include <linux/bitops.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/string.h>
#include <linux/random.h>
#include <linux/compiler.h>
#include <linux/prefetch.h>

#define prr_rcu_head			rcu_head
#define prr_deref(p)			rcu_dereference(p)
/* A writer's read of a published pointer: the table's mutex is held. */
#define prr_deref_w(t, p)		\
	rcu_dereference_protected(p, prr_table_writer_held(t))
#define prr_assign(p, v)		rcu_assign_pointer(p, v)
/* The pointer's value only, never dereferenced (an unpublished array). */
#define prr_access(p)			rcu_access_pointer(p)
#define prr_init_pointer(p, v)		RCU_INIT_POINTER(p, v)
#define prr_alloc(size)			kvzalloc(size, GFP_KERNEL)
#define prr_free(p)			kvfree(p)
/* Frees @p, which has a struct prr_rcu_head @field, after a grace period. */
#define prr_free_rcu(p, field)		kvfree_rcu(p, field)
#define prr_random_u32()		get_random_u32()
#define prr_popcount16(x)		hweight16(x)
#define prr_unlikely(x)			unlikely(x)
#define prr_likely(x)			likely(x)
/* Hints read by readers without ordering; see portset.c. */
#define prr_read_once(x)		READ_ONCE(x)
#define prr_write_once(x, v)		WRITE_ONCE(x, v)
#define prr_prefetch(p)			prefetch(p)
/* Orders an index slot's bucket pointer and window; see portset.c. */
#define prr_smp_rmb()			smp_rmb()
/* Orders an index slot's bucket pointer and window; see portset.c. */
#define prr_smp_wmb()			smp_wmb()

#else /* userspace */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

/* Kernel annotations, for sparse only. */
#ifndef __force
#define __force
#endif
#ifndef __percpu
#define __percpu
#endif
#ifndef __rcu
#define __rcu
#endif

struct prr_rcu_head {
	void *next;
	void (*func)(struct prr_rcu_head *head);
};

/*
 * Userspace builds are single-writer and their readers either run in the
 * writer's thread or tolerate immediate frees (tests, fuzzing, benchmarks):
 * publication keeps release/consume ordering, frees are immediate.
 */
#define prr_deref(p)			__atomic_load_n(&(p), __ATOMIC_CONSUME)
#define prr_deref_w(t, p)		(p)
#define prr_assign(p, v)		__atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define prr_access(p)			(p)
#define prr_init_pointer(p, v)		((p) = (v))
#define prr_alloc(size)			calloc(1, size)
#define prr_free(p)			free(p)
#define prr_free_rcu(p, field)		free(p)
/* unsigned, as the kernel's hweight16() */
#define prr_popcount16(x)		((unsigned int)__builtin_popcount((u16)(x)))
#define prr_unlikely(x)			__builtin_expect(!!(x), 0)
#define prr_likely(x)			__builtin_expect(!!(x), 1)
#define prr_read_once(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define prr_write_once(x, v)		__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define prr_prefetch(p)			__builtin_prefetch(p)
#define prr_smp_rmb()			__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define prr_smp_wmb()			__atomic_thread_fence(__ATOMIC_RELEASE)

u32 prr_random_u32(void);

#endif /* __KERNEL__ */

#endif /* _PRR_PORTABLE_H */
