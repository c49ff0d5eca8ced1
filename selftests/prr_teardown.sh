#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prr teardown under traffic.  Deleting a namespace whose entries have cached
# routes while packets flow through it, and unloading the module with entries
# in several namespaces while packets flow, both complete promptly: no device
# is left waiting for a reference prr holds ("unregister_netdevice: waiting
# for ... to become free").  Afterwards the module loads again, starts with
# empty tables and forwards.  guest-run.sh also checks the whole dmesg.

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"

FLOOD_PORTS="1024,1025,4096,4097"	# two ports of each CPE

forwarded_over()
{
	[ "$(prr_ctl -j stats | jq .forwarded)" -gt "$1" ]
}

unregister_waits()
{
	dmesg | grep -c 'unregister_netdevice: waiting'
}

# Entries for both CPEs, traffic through both next hops (so both have a
# cached route holding their device), still flowing on return.
prime()
{
	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" || return 1
	prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR" || return 1
	flood_start "$FLOOD_PORTS" 2000
	if ! wait_until 20 forwarded_over 100; then
		ktap_fail "traffic flows through the PRR before the teardown" \
			"$(prr_ctl stats)"
		return 1
	fi
}

cpe_link_gone()
{
	! ip -n "$NS_CPE1" link show wan0 >/dev/null 2>&1 &&
		! ip -n "$NS_CPE2" link show wan0 >/dev/null 2>&1
}

test_netns_delete()
{
	local waits

	topo_create links || { ktap_fail "build the testbed"; return; }
	prime || return
	waits=$(unregister_waits)
	ip netns del "$NS_PRR"
	# The PRR's veth ends go with its namespace, and their peers in the
	# CPEs with them; a reference prr kept would stall that forever.
	if wait_until 30 cpe_link_gone; then
		ktap_ok "deleting the PRR namespace with entries under traffic frees its devices"
	else
		ktap_fail "deleting the PRR namespace with entries under traffic frees its devices" \
			"$(dmesg | tail -n 5)"
	fi
	flood_stop
	ktap_expect "no device waited for a reference" "$waits" \
		"$(unregister_waits)"
	topo_destroy
}

test_rmmod()
{
	local waits out

	topo_create links || { ktap_fail "build the testbed"; return; }
	topo_add_ns other || return
	step "an entry in a second namespace" ns_exec "$TOPO_NEW_NS" \
		"$PRRCTL" add-cpe "$SHARED" port-value 0 port-mask 0 drop ||
		return
	prime || return
	waits=$(unregister_waits)
	if out=$(run_within 60 rmmod prr 2>&1); then
		ktap_ok "rmmod prr with entries in two namespaces, under traffic"
	else
		ktap_fail "rmmod prr with entries in two namespaces, under traffic" \
			"$out"
	fi
	flood_stop
	ktap_check "the module is gone" \
		bash -c '! grep -q "^prr " /proc/modules'
	ktap_expect "no device waited for a reference" "$waits" \
		"$(unregister_waits)"

	if ! out=$(prr_module_insert 2>&1); then
		ktap_fail "load prr again" "$out"
		ktap_finish
	fi
	ktap_expect "after reloading, the PRR's table starts empty" "[]" \
		"$(prr_ctl -j show)"
	ktap_expect "after reloading, the other namespace's table too" "[]" \
		"$(ns_exec "$TOPO_NEW_NS" "$PRRCTL" -j show)"
	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" || return
	rx_start c1 cpe1 --dst "$SHARED" || return
	send_from rt1 --dst "$SHARED" --proto udp --ports 1024,2047,3072 \
		--quiet || return
	rx_stop
	ktap_expect "after reloading, prr forwards again" 3 "$(rx_count c1)"
	topo_destroy
}

topo_require
trap 'flood_stop; topo_cleanup' EXIT
test_netns_delete
test_rmmod
ktap_finish
