// SPDX-License-Identifier: GPL-2.0
/*
 * Batched RCU freeing (see reclaim.h).
 *
 * A flush or restore of a million rules queues about 2,000 callbacks
 * instead of a million; a lone delete queues one.  If no page can be had
 * for a batch, the writer waits for a grace period itself and frees the
 * object at once: slow, but never a leak or an early free.
 */

#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "reclaim.h"

struct prr_reclaim_batch {
	struct rcu_head rcu;
	void (*free)(void *obj);
	unsigned int n;
	void *obj[];
};

#define PRR_RECLAIM_BATCH_MAX						\
	((PAGE_SIZE - sizeof(struct prr_reclaim_batch)) / sizeof(void *))

void prr_reclaim_init(struct prr_reclaim *rc, void (*free)(void *obj))
{
	rc->open = NULL;
	rc->free = free;
}

static void prr_reclaim_batch_free(struct rcu_head *head)
{
	struct prr_reclaim_batch *b;
	unsigned int i;

	b = container_of(head, struct prr_reclaim_batch, rcu);
	for (i = 0; i < b->n; i++)
		b->free(b->obj[i]);
	kfree(b);
}

void prr_reclaim_close(struct prr_reclaim *rc)
{
	if (!rc->open)
		return;
	call_rcu(&rc->open->rcu, prr_reclaim_batch_free);
	rc->open = NULL;
}

void prr_reclaim_add(struct prr_reclaim *rc, void *obj)
{
	struct prr_reclaim_batch *b = rc->open;

	if (b && b->n == PRR_RECLAIM_BATCH_MAX) {
		prr_reclaim_close(rc);
		b = NULL;
	}
	if (!b) {
		b = kmalloc(PAGE_SIZE, GFP_KERNEL | __GFP_NOWARN);
		if (!b) {
			synchronize_rcu();
			rc->free(obj);
			return;
		}
		b->free = rc->free;
		b->n = 0;
		rc->open = b;
	}
	b->obj[b->n++] = obj;
}
