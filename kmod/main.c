// SPDX-License-Identifier: GPL-2.0
/*
 * prr: Port Range Router (RFC 6346 "A+P").
 *
 * Forwards every IPv4 packet addressed to a shared public address to the CPE
 * that owns its destination port, in the kernel fast path.  See docs/ for the
 * architecture; include/uapi/linux/prr.h for the netlink ABI.
 */

#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/prr.h>

#include "netlink.h"
#include "netns.h"
#include "nexthop.h"

static int __init prr_init(void)
{
	int err;

	err = prr_netns_init();
	if (err)
		return err;
	err = prr_nexthop_notifier_init();
	if (err)
		goto err_netns;
	err = prr_genl_init();
	if (err)
		goto err_notifier;
	return 0;

err_notifier:
	prr_nexthop_notifier_exit();
err_netns:
	prr_netns_exit();
	return err;
}

static void __exit prr_exit(void)
{
	prr_genl_exit();
	/*
	 * Before the namespaces' state goes: unregistering replays
	 * NETDEV_UNREGISTER for every device, which must find it intact.
	 */
	prr_nexthop_notifier_exit();
	prr_netns_exit();
	/* Rules and next hops are freed by RCU callbacks in this module. */
	rcu_barrier();
}

module_init(prr_init);
module_exit(prr_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(PRR_VERSION);
MODULE_DESCRIPTION("Port Range Router: routes shared IPv4 addresses by port");
MODULE_AUTHOR("The prr developers");
MODULE_ALIAS_GENL_FAMILY(PRR_GENL_NAME);
