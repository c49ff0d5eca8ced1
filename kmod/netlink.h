/* SPDX-License-Identifier: GPL-2.0 */
/* The "prr" generic netlink family (ABI: include/uapi/linux/prr.h). */
#ifndef _PRR_NETLINK_H
#define _PRR_NETLINK_H

int prr_genl_init(void);
void prr_genl_exit(void);

#endif /* _PRR_NETLINK_H */
