#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Running commands in named network namespaces (ip netns), for the
# topologies of the selftests and of the forwarding benchmark.

ns_exec()
{
	local ns=$1

	shift
	nsenter --net="/run/netns/$ns" -- "$@"
}

# One `ip -batch` per namespace keeps the setup cheap under emulation.
# "addrgenmode" is IPv6's: a kernel built without IPv6 (the debug kernel)
# rejects it and has no link-local addresses to suppress anyway.
ns_batch()
{
	if [ -d /proc/sys/net/ipv6 ]; then
		ip -n "$1" -batch -
	else
		sed '/addrgenmode/d' | ip -n "$1" -batch -
	fi
}

ns_sysctl()
{
	local ns=$1

	shift
	ns_exec "$ns" sysctl -q -w "$@" >/dev/null
}
