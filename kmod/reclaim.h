/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Freeing objects that RCU readers may still hold, without an rcu_head in
 * each: the writer collects them in page-sized batches, and one RCU
 * callback frees a whole batch.  A rule is then 32 bytes, not 56 in
 * kmalloc-64 (docs/architecture.md, "Memory").
 *
 * Every function is a writer's and must be serialized by the caller (in
 * prr: the namespace mutex).
 */
#ifndef _PRR_RECLAIM_H
#define _PRR_RECLAIM_H

struct prr_reclaim_batch;

struct prr_reclaim {
	struct prr_reclaim_batch *open;	/* being filled; NULL: none */
	void (*free)(void *obj);	/* frees one object */
};

void prr_reclaim_init(struct prr_reclaim *rc, void (*free)(void *obj));
/* @obj is unlinked; frees it once the readers that may hold it are gone. */
void prr_reclaim_add(struct prr_reclaim *rc, void *obj);
/* Hands the open batch to RCU; call before releasing the writers' lock. */
void prr_reclaim_close(struct prr_reclaim *rc);

#endif /* _PRR_RECLAIM_H */
