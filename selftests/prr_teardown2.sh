#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prr under traffic while what its next hops depend on changes (the
# namespace and module teardown of prr_teardown.sh, continued):
#   - a next hop's device is deleted, then created again: its packets are
#     counted drop_unreachable meanwhile, the other CPE's keep flowing, and
#     they flow again once the device is back, the table untouched;
#   - a next hop's device is renamed: the entry follows (it names the device
#     by index), traffic resumes when it is up again;
#   - the route to a next hop changes: a /32 through another link moves the
#     traffic there; a gatewayed route makes it unreachable (counted); the
#     connected route back restores it;
#   - a CPE's MAC address changes: its gratuitous ARP (arp_notify) updates
#     the PRR's neighbour entry and traffic follows to the new address;
#   - PRR_RELOAD_CYCLES (default 10, for CI time; the issue's figure is
#     100: about 12 s a cycle on a loaded emulated machine) rmmod/insmod
#     cycles while traffic flows, each loading PRR_RELOAD_ENTRIES (default
#     1000) entries: no hang, and
#     kmalloc slab objects afterwards as before, within a tenth of one
#     leaked object per entry and cycle (stock kernels have no kmemleak;
#     a leak of anything per entry would be ten times that).  Where
#     kmemleak is (the debug kernel, whose run ends with its scan), that
#     count is skipped: KASAN's quarantine keeps freed objects active in
#     /proc/slabinfo.
# Each subtest also checks that the kernel log has no warning.

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"

RELOAD_CYCLES=${PRR_RELOAD_CYCLES:-10}
RELOAD_ENTRIES=${PRR_RELOAD_ENTRIES:-1000}
CPE1_PORT=1024		# via CPE-1, no device: follows the routes
PINNED_PORT=1025	# via CPE-1 dev cpe1
CPE2_PORT=4096		# via CPE-2 dev cpe2
FLOOD_PORTS=$CPE1_PORT,$PINNED_PORT,$CPE2_PORT

stat_of()
{
	prr_ctl -j stats | jq ".$1"
}

entry_packets()
{
	prr_entry "$1" 0xffff packets
}

# NAME grows by more than N from now within SECS: entry (port) packets.
port_moves()
{
	local port=$1 secs=${2:-10} base

	base=$(entry_packets "$port")
	wait_until "$secs" port_over "$port" $((base + 20))
}

port_over()
{
	[ "$(entry_packets "$1")" -gt "$2" ]
}

stat_moves()
{
	local name=$1 base

	base=$(stat_of "$name")
	wait_until 10 stat_over "$name" $((base + 20))
}

stat_over()
{
	[ "$(stat_of "$1")" -gt "$2" ]
}

# Packets arrive at a CPE's device: a capture there sees 20 within SECS
# (the flood goes on meanwhile).  rx_arrives NS DEV [SECS]
rx_arrives()
{
	local ns=$1 dev=$2 secs=${3:-10}

	ns_exec "$ns" "$PRR_PROBE" recv --dev "$dev" --dst "$SHARED" \
		--proto udp --count 20 --timeout $((secs * 1000)) \
		>"$TOPO_DIR/arrive.out" 2>&1
	[ "$(grep -c '^pkt' "$TOPO_DIR/arrive.out")" -ge 20 ]
}

dmesg_clean()
{
	local bad

	bad=$(dmesg_bad)
	if [ -z "$bad" ]; then
		ktap_ok "$1: no warning in the kernel log"
	else
		ktap_fail "$1: no warning in the kernel log" "$bad"
	fi
}

setup()
{
	topo_create links || { ktap_fail "build the testbed"; return 1; }
	prr_add port-value "$CPE1_PORT" port-mask 0xffff via "$CPE1_ADDR" ||
		return 1
	prr_add port-value "$PINNED_PORT" port-mask 0xffff via "$CPE1_ADDR" \
		dev cpe1 || return 1
	prr_add port-value "$CPE2_PORT" port-mask 0xffff via "$CPE2_ADDR" \
		dev cpe2 || return 1
	dmesg_mark
	flood_start "$FLOOD_PORTS" 1000
	if ! port_moves "$CPE1_PORT" 20 || ! port_moves "$CPE2_PORT" 20; then
		ktap_fail "traffic flows to both CPEs" "$(prr_ctl show)"
		return 1
	fi
}

pinned_absent()
{
	[ "$(awk -v p="$PINNED_PORT" '$1 == "pkt" && $4 == p' \
		"$TOPO_DIR/arrive.out" | wc -l)" -eq 0 ]
}

test_dev_delete()
{
	local desc="next hop's device deleted under traffic"

	if run_within 30 topo_cpe_link_del 1; then
		ktap_ok "$desc: the deletion completes"
	else
		ktap_fail "$desc: the deletion completes"
		return
	fi
	ktap_check "$desc: its packets count as drop_unreachable" \
		stat_moves drop_unreachable
	ktap_check "$desc: the other CPE's traffic still flows" \
		port_moves "$CPE2_PORT"
	ktap_check "$desc: the table keeps the entries" \
		test "$(prr_ctl -j show | jq length)" -eq 3
	step "re-create the device" topo_cpe_link_add 1 || return
	ktap_check "$desc: traffic reaches CPE-1 again once it is back" \
		rx_arrives "$NS_CPE1" wan0
	ktap_check "$desc: but not for the entry pinned to the old device" \
		pinned_absent
	step "replace the pinned entry" prr_ctl del-cpe "$SHARED" \
		port-value "$PINNED_PORT" port-mask 0xffff || return
	prr_add port-value "$PINNED_PORT" port-mask 0xffff via "$CPE1_ADDR" \
		dev cpe1 || return
	ktap_check "$desc: the replaced pinned entry forwards again" \
		port_moves "$PINNED_PORT"
	step "drop the pinned entry" prr_ctl del-cpe "$SHARED" \
		port-value "$PINNED_PORT" port-mask 0xffff
	dmesg_clean "$desc"
}

test_dev_rename()
{
	local desc="next hop's device renamed under traffic"

	step "rename cpe2 to cpe2new" ns_batch "$NS_PRR" <<-EOF || return
	link set cpe2 down
	link set cpe2 name cpe2new
	link set cpe2new up
	EOF
	ktap_expect "$desc: the entry names the new device" cpe2new \
		"$(prr_entry "$CPE2_PORT" 0xffff dev)"
	ktap_check "$desc: traffic reaches CPE-2 again" \
		rx_arrives "$NS_CPE2" wan0
	step "rename it back" ns_batch "$NS_PRR" <<-EOF || return
	link set cpe2new down
	link set cpe2new name cpe2
	link set cpe2 up
	EOF
	ktap_check "$desc: and after renaming it back" \
		rx_arrives "$NS_CPE2" wan0
	dmesg_clean "$desc"
}

# A second link PRR cpe1b <-> CPE-1 wan1, unnumbered on the PRR's side:
# only a /32 route to CPE-1's address points at it.
second_link()
{
	ip link add name cpe1b netns "$NS_PRR" type veth \
		peer name wan1 netns "$NS_CPE1" || return 1
	ns_batch "$NS_PRR" <<-EOF || return 1
	link set cpe1b addrgenmode none
	link set cpe1b up
	EOF
	ns_batch "$NS_CPE1" <<-EOF
	link set wan1 addrgenmode none
	link set wan1 up
	EOF
}

test_route_change()
{
	local desc="route to a next hop changed under traffic"

	# CPE-1's entry has no device: it follows the routes.
	step "a second link to CPE-1" second_link || return
	step "route CPE-1's address over it" ip -n "$NS_PRR" route add \
		"$CPE1_ADDR/32" dev cpe1b || return
	ktap_check "$desc: a /32 over another link moves the traffic there" \
		rx_arrives "$NS_CPE1" wan1
	step "route CPE-1's address through CPE-2 instead" ip -n "$NS_PRR" \
		route replace "$CPE1_ADDR/32" via "$CPE2_ADDR" || return
	ktap_check "$desc: a gatewayed route makes it unreachable (counted)" \
		stat_moves drop_unreachable
	step "remove the /32" ip -n "$NS_PRR" route del "$CPE1_ADDR/32" ||
		return
	ktap_check "$desc: the connected route brings it back" \
		rx_arrives "$NS_CPE1" wan0
	dmesg_clean "$desc"
}

# Packets reach NODE's wan0 addressed to its current MAC.
test_mac_change()
{
	local desc="CPE's MAC address changed under traffic" t0 ms

	step "arp_notify on CPE-1" ns_sysctl "$NS_CPE1" \
		net.ipv4.conf.wan0.arp_notify=1 || return
	ktap_check "$desc: traffic reaches CPE-1 before" \
		rx_arrives "$NS_CPE1" wan0
	t0=$(date +%s%N)
	step "change CPE-1's MAC" ip -n "$NS_CPE1" link set wan0 \
		address 02:00:00:00:c1:01 || return
	if rx_arrives "$NS_CPE1" wan0 20; then
		ms=$((($(date +%s%N) - t0) / 1000000))
		ktap_ok "$desc: traffic follows the new MAC (after $ms ms)"
	else
		ktap_fail "$desc: traffic follows the new MAC" \
			"$(ip -n "$NS_PRR" neigh show "$CPE1_ADDR" dev cpe1)"
	fi
	ktap_expect "$desc: the PRR's neighbour entry has the new MAC" \
		02:00:00:00:c1:01 \
		"$(ip -n "$NS_PRR" neigh show "$CPE1_ADDR" dev cpe1 |
		   awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr")
				print $(i + 1) }')"
	dmesg_clean "$desc"
}

# ----------------------------------------------------- rmmod/insmod cycles

# Active objects of every slab cache, summed: "TOTAL KMALLOC".
slab_objects()
{
	awk 'NR > 2 { all += $2; if ($1 ~ /^kmalloc-/) km += $2 }
	     END { print all, km }' /proc/slabinfo
}

# The entries loaded each cycle: CPE-1 and CPE-2 ports and more.
reload_batch()
{
	local i

	echo "add-cpe $SHARED port-value $CPE1_PORT port-mask 0xffff via $CPE1_ADDR"
	echo "add-cpe $SHARED port-value $CPE2_PORT port-mask 0xffff via $CPE2_ADDR"
	for ((i = 2; i < RELOAD_ENTRIES; i++)); do
		echo "add-cpe 192.0.2.$((2 + i % 4)) port-value $((20000 + i)) port-mask 0xffff via $CPE1_ADDR"
	done
}

load_entries()
{
	if "$PRRCTL" help 2>&1 | grep -q -- '-batch'; then
		prr_ctl -batch "$TOPO_DIR/reload.batch"
	else
		local line

		while read -r line; do
			# shellcheck disable=SC2086 # words are arguments
			prr_ctl $line || return 1
		done <"$TOPO_DIR/reload.batch"
	fi
}

# One cycle: load, fill, see traffic forwarded, unload under traffic.
reload_cycle()
{
	local out

	out=$(prr_module_insert 2>&1) || { echo "insmod: $out"; return 1; }
	out=$(load_entries 2>&1) || { echo "load: $out"; return 1; }
	wait_until 20 stat_over forwarded 2 ||
		{ echo "no traffic forwarded"; return 1; }
	out=$(run_within 60 rmmod prr 2>&1) || { echo "rmmod: $out"; return 1; }
}

test_reload_cycles()
{
	local desc="$RELOAD_CYCLES rmmod/insmod cycles under traffic" i out
	local t0 secs before after grown limit

	reload_batch >"$TOPO_DIR/reload.batch"
	step "rmmod prr" run_within 60 rmmod prr || return
	# One cycle first: what the first load allocates for good (caches).
	flood_start "$FLOOD_PORTS" 1000
	if ! out=$(reload_cycle); then
		ktap_fail "$desc: a first cycle" "$out"
		return
	fi
	flood_stop
	before=$(slab_objects)
	flood_start "$FLOOD_PORTS" 1000
	t0=$SECONDS
	for ((i = 1; i <= RELOAD_CYCLES; i++)); do
		if ! out=$(reload_cycle); then
			ktap_fail "$desc: cycle $i" "$out"
			prr_module_insert >/dev/null 2>&1
			return
		fi
	done
	secs=$((SECONDS - t0))
	ktap_ok "$desc: no hang ($secs s)"
	flood_stop
	after=$(slab_objects)
	ktap_diag "slab objects (all, kmalloc) before: $before, after: $after"
	grown=$((${after##* } - ${before##* }))
	limit=$((RELOAD_CYCLES * RELOAD_ENTRIES / 10))
	if [ -e /sys/kernel/debug/kmemleak ]; then
		ktap_skip "$desc: no leaked memory" \
			"kmemleak judges it here (kmalloc objects grew by $grown)"
	elif [ "$grown" -lt "$limit" ]; then
		ktap_ok "$desc: no leaked memory (kmalloc objects grew by $grown < $limit)"
	else
		ktap_fail "$desc: no leaked memory (kmalloc objects grew by $grown < $limit)" \
			"$(grep -E '^(kmalloc|prr)' /proc/slabinfo)"
	fi
	step "load prr again" prr_module_insert
	dmesg_clean "$desc"
}

topo_require
trap 'flood_stop; topo_cleanup' EXIT
if setup; then
	test_dev_delete
	test_dev_rename
	test_route_change
	test_mac_change
	flood_stop
	test_reload_cycles
fi
flood_stop
ktap_finish
