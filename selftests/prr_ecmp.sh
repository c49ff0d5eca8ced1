#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stateless scale-out (docs/scale-out.md): two PRRs with identical tables
# behind an ECMP router; when one fails and the router stops using it,
# traffic continues through the other, losing only what was in flight.
#
#   C --[eth0 eth0]-- R --[a0 up0]-- PRR-A --[acc0]--+
#                       \                            +-- bridge SW --
#                        `[b0 up0]-- PRR-B --[acc0]--+    CPE-1 wan0, CPE-2 wan0
#
#   C 10.10.0.2 (sends from many addresses and ports), R 10.10.0.1,
#   R a0 10.20.1.1 / PRR-A up0 10.20.1.2, R b0 10.20.2.1 / PRR-B up0
#   10.20.2.2; access segment 10.0.0.0/24: PRR-A 10.0.0.1, PRR-B
#   10.0.0.254, CPE-1 10.0.0.2, CPE-2 10.0.0.3 (both hold 192.0.2.1).
#   R: 192.0.2.1/32 multipath via both PRRs, L4 hash
#   (fib_multipath_hash_policy=1), routes through a link that is down are
#   skipped (ignore_routes_with_linkdown=1).
#
# The PRRs' tables are the same: one batch file loaded into each
# ("prrctl -batch FILE").  Checked:
#   1. traffic from many sources is spread over both PRRs and all of it
#      reaches the right CPE;
#   2. under traffic, PRR-A's uplink goes down and the health check takes
#      its next hop out of R's route: everything afterwards goes through
#      PRR-B; lost at most what R sent towards PRR-A that PRR-A never
#      forwarded (in flight);
#   3. back to both; then PRR-A fails as if its module were unloaded --
#      one kernel in the VM, so rmmod would take PRR-B too: its table is
#      flushed -- and the health check takes it out of the route: again
#      only in-flight packets are lost.  Then PRR-A's namespace is deleted
#      and R's route through PRR-B stays.
#
# Environment: PRR_ECMP_PPS (default 500), PRR_ECMP_SECONDS (traffic after
# each failure, default 6).

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"

ECMP_PPS=${PRR_ECMP_PPS:-500}
ECMP_SECONDS=${PRR_ECMP_SECONDS:-6}
SRC_PORTS=2000-2015
CPE1_PORTS=1024,1025,5000,20000,30000
CPE2_PORTS=40000,40001,50000,60000,65535
E_NODES="c r pa pb sw cpe1 cpe2"
# The receivers run until rx_stop, however slow the emulation.
# shellcheck disable=SC2034 # read by rx_start_dev (lib/topo.sh)
RX_TIMEOUT_MS=600000
E_ID=
FLOW_PIDS=()

ens()
{
	echo "$E_ID-$1"
}

ectl()
{
	ns_exec "$(ens "$1")" "$PRRCTL" "${@:2}"
}

ecmp_destroy()
{
	local n

	flows_stop
	rx_kill
	[ -n "$E_ID" ] || return 0
	for n in $E_NODES; do
		echo "netns del $(ens "$n")"
	done | ip -force -batch - 2>/dev/null
	E_ID=
	[ -z "$TOPO_DIR" ] || rm -rf "$TOPO_DIR"
}

ecmp_cleanup()
{
	local rc=$?

	ecmp_destroy
	exit "$rc"
}

ecmp_create()
{
	local n

	E_ID="prr$$-$RANDOM"
	TOPO_DIR=$(mktemp -d "/tmp/$E_ID.XXXXXX")
	trap ecmp_cleanup EXIT
	for n in $E_NODES; do
		echo "netns add $(ens "$n")"
	done | ip -batch - || return 1
	ip -batch - <<-EOF || return 1
	link add eth0 netns $(ens c) type veth peer name eth0 netns $(ens r)
	link add a0 netns $(ens r) type veth peer name up0 netns $(ens pa)
	link add b0 netns $(ens r) type veth peer name up0 netns $(ens pb)
	link add acc0 netns $(ens pa) type veth peer name pa netns $(ens sw)
	link add acc0 netns $(ens pb) type veth peer name pb netns $(ens sw)
	link add wan0 netns $(ens cpe1) type veth peer name cpe1 netns $(ens sw)
	link add wan0 netns $(ens cpe2) type veth peer name cpe2 netns $(ens sw)
	EOF
	ns_batch "$(ens sw)" <<-EOF || return 1
	link add br0 type bridge
	link set br0 addrgenmode none
	link set br0 type bridge stp_state 0 forward_delay 0
	link set pa master br0
	link set pb master br0
	link set cpe1 master br0
	link set cpe2 master br0
	link set pa up
	link set pb up
	link set cpe1 up
	link set cpe2 up
	link set br0 up
	EOF
	ns_batch "$(ens c)" <<-EOF || return 1
	link set lo up
	link set eth0 addrgenmode none
	addr add 10.10.0.2/24 dev eth0
	link set eth0 up
	route add default via 10.10.0.1
	EOF
	ns_batch "$(ens r)" <<-EOF || return 1
	link set lo up
	link set eth0 addrgenmode none
	link set a0 addrgenmode none
	link set b0 addrgenmode none
	addr add 10.10.0.1/24 dev eth0
	addr add 10.20.1.1/24 dev a0
	addr add 10.20.2.1/24 dev b0
	link set eth0 up
	link set a0 up
	link set b0 up
	EOF
	ns_sysctl "$(ens r)" net.ipv4.ip_forward=1 \
		net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 \
		net.ipv4.conf.all.ignore_routes_with_linkdown=1 || return 1
	ecmp_prr pa 10.20.1.2 10.20.1.1 10.0.0.1 || return 1
	ecmp_prr pb 10.20.2.2 10.20.2.1 10.0.0.254 || return 1
	ecmp_cpe cpe1 10.0.0.2 || return 1
	ecmp_cpe cpe2 10.0.0.3 || return 1
	route_both || return 1
	r_counters || return 1
	prime_arp
}

# What R receives from C for the shared address, and where it routes it
# (first pass only: a packet PRR-A sends back, after losing its table, is
# not counted again).
r_counters()
{
	ns_exec "$(ens r)" nft -f - <<-EOF
	table ip ecmp {
		chain pre {
			type filter hook prerouting priority 0; policy accept;
			iifname "eth0" ip daddr $SHARED counter
		}
		chain routed {
			type filter hook forward priority 0; policy accept;
			iifname "eth0" oifname "a0" ip daddr $SHARED counter
			iifname "eth0" oifname "b0" ip daddr $SHARED counter
		}
	}
	EOF
}

# r_count pre|a0|b0: packets R counted.
r_count()
{
	local sel

	case $1 in
	pre) sel='.chain == "pre"' ;;
	*) sel=".chain == \"routed\" and (.expr | tostring | contains(\"$1\"))" ;;
	esac
	ns_exec "$(ens r)" nft -j list table ip ecmp |
		jq "[.nftables[] | .rule? // empty | select($sel) | .expr[] |
		     .counter? // empty | .packets] | add"
}

# Packets the kernel dropped from its input backlogs (all CPUs): the
# emulated machine may be slower than the senders.
softnet_drops()
{
	local n=0 d

	while read -r _ d _; do
		n=$((n + 16#$d))
	done </proc/net/softnet_stat
	echo "$n"
}

# Both PRRs resolve both CPE gateways before the traffic starts: a burst
# meeting an unresolved neighbour overflows its queue (unres_qlen).
prime_arp()
{
	local p gw

	for p in pa pb; do
		for gw in 10.0.0.2 10.0.0.3; do
			ns_exec "$(ens "$p")" ping -c 1 -W 5 -q "$gw" \
				>/dev/null || return 1
		done
	done
}

# ecmp_prr NODE UPLINK_ADDR ROUTER ACCESS_ADDR
ecmp_prr()
{
	local ns

	ns=$(ens "$1")
	ns_batch "$ns" <<-EOF || return 1
	link set lo up
	link set up0 addrgenmode none
	link set acc0 addrgenmode none
	addr add $2/24 dev up0
	addr add $4/24 dev acc0
	link set up0 up
	link set acc0 up
	route add default via $3
	EOF
	ns_sysctl "$ns" net.ipv4.ip_forward=1
}

# ecmp_cpe NODE ADDR
ecmp_cpe()
{
	local ns

	ns=$(ens "$1")
	ns_batch "$ns" <<-EOF || return 1
	link set lo up
	link set wan0 addrgenmode none
	addr add $SHARED/32 dev lo
	addr add $2/24 dev wan0
	link set wan0 up
	route add default via 10.0.0.1
	EOF
	topo_quiet_cpe "$ns"
}

route_both()
{
	ip -n "$(ens r)" route replace "$SHARED/32" \
		nexthop via 10.20.1.2 dev a0 nexthop via 10.20.2.2 dev b0
}

# The health check's reaction to PRR-A failing: only PRR-B is left.
route_only_b()
{
	ip -n "$(ens r)" route replace "$SHARED/32" via 10.20.2.2 dev b0
}

# The same table in both PRRs: one batch file, as the provisioning system
# would distribute it, loaded into each.
load_tables()
{
	cat >"$TOPO_DIR/table" <<-EOF
	add-cpe $SHARED port-value 0 port-mask 0x8000 via 10.0.0.2
	add-cpe $SHARED port-value 0x8000 port-mask 0x8000 via 10.0.0.3
	EOF
	step "load PRR-A's table" ectl pa -batch "$TOPO_DIR/table" || return 1
	step "load PRR-B's table" ectl pb -batch "$TOPO_DIR/table" || return 1
	ktap_expect "PRR-B's table is PRR-A's" \
		"$(ectl pa -j show | jq -c 'map(del(.packets, .bytes))')" \
		"$(ectl pb -j show | jq -c 'map(del(.packets, .bytes))')"
}

forwarded()
{
	ectl "$1" -j stats | jq .forwarded
}

rx_both()
{
	rx_start_dev cpe1 "$(ens cpe1)" wan0 --dst "$SHARED" --proto udp \
		--no-icmp || return 1
	rx_start_dev cpe2 "$(ens cpe2)" wan0 --dst "$SHARED" --proto udp \
		--no-icmp
}

# Both CPEs received exactly their own ports.
check_delivery()
{
	local what=$1

	ktap_expect "$what: CPE-1 received only its ports" 0 \
		"$(awk '$1 == "pkt" && $4 >= 32768' "$TOPO_DIR/cpe1.out" |
		   wc -l)"
	ktap_expect "$what: CPE-2 received only its ports" 0 \
		"$(awk '$1 == "pkt" && $4 < 32768' "$TOPO_DIR/cpe2.out" |
		   wc -l)"
}

# Sends from 16 source addresses of C's subnet, each from SRC_PORTS to
# the ports of both CPEs: prints the number of packets.
send_spread()
{
	local i total=0 n

	for ((i = 10; i < 26; i++)); do
		n=$(ns_exec "$(ens c)" "$PRR_PROBE" send --src "10.10.0.$i" \
			--dst "$SHARED" --proto udp --sports "$SRC_PORTS" \
			--ports "$CPE1_PORTS,$CPE2_PORTS" --pps 500 |
			awk '{ print $2 }')
		total=$((total + n))
	done
	echo "$total"
}

test_spread()
{
	local sent a b drops

	rx_both || return
	drops=$(softnet_drops)
	sent=$(send_spread)
	rx_stop
	a=$(forwarded pa)
	b=$(forwarded pb)
	ktap_diag "spread: $sent packets from 16 addresses x 16 ports: PRR-A $a, PRR-B $b; backlog drops $(($(softnet_drops) - drops))"
	ktap_expect "every packet went through one of the PRRs" "$sent" \
		"$((a + b))"
	if [ "$a" -gt $((sent / 4)) ] && [ "$b" -gt $((sent / 4)) ]; then
		ktap_ok "both PRRs forwarded a share (over a quarter each)"
	else
		ktap_fail "both PRRs forwarded a share (over a quarter each)" \
			"PRR-A $a, PRR-B $b of $sent"
	fi
	ktap_expect "the CPEs received every packet" "$sent" \
		"$(($(rx_count cpe1) + $(rx_count cpe2)))"
	check_delivery "spread"
}

# A steady stream from C: one sender per source address, in the
# background, each at ECMP_PPS / 4, until flows_stop.  What was sent is
# counted by R.  nsenter, not ns_exec: $! must be the sender itself (a
# backgrounded function is a subshell, and killing it would leave the
# sender running).
flows_start()
{
	local i pps=$((ECMP_PPS / 4))

	FLOW_PIDS=()
	for ((i = 30; i < 34; i++)); do
		nsenter --net="/run/netns/$(ens c)" -- \
			"$PRR_PROBE" send --src "10.10.0.$i" \
			--dst "$SHARED" --proto udp --sport $((3000 + i)) \
			--ports "$CPE1_PORTS,$CPE2_PORTS" --repeat 1000000 \
			--pps "$pps" --quiet &
		FLOW_PIDS+=($!)
	done
}

flows_stop()
{
	local pid

	for pid in "${FLOW_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	FLOW_PIDS=()
}

forwarded_over()
{
	[ "$(forwarded "$1")" -gt "$2" ]
}

# failover DESC FAIL_CMD...: traffic through both, then FAIL_CMD under
# traffic, then ECMP_SECONDS more of it.  Every packet R sent through
# PRR-B arrives; the only packets lost are among those R sent towards PRR-A
# and PRR-A never forwarded (in flight): sent during the failure, or still
# queued for PRR-A when it began, which on a slow emulated kernel may be
# thousands.
failover()
{
	local desc=$1 a0 b0 a1 b1 r0 rs ra rb ra1 rb1 sent got lost t0 window
	local inflight drops

	shift
	rx_both || return
	drops=$(softnet_drops)
	a0=$(forwarded pa)
	b0=$(forwarded pb)
	r0=$(r_count pre)
	rs=$(r_count a0)
	flows_start
	if ! wait_until 30 forwarded_over pa $((a0 + 20)) ||
	   ! wait_until 30 forwarded_over pb $((b0 + 20)); then
		ktap_fail "$desc: traffic through both PRRs first" \
			"PRR-A $(forwarded pa), PRR-B $(forwarded pb)"
		flows_stop
		return
	fi
	ra=$(r_count a0)
	rb=$(r_count b0)
	t0=$(date +%s%N)
	step "$desc: fail PRR-A" "$@" || { flows_stop; return; }
	window=$((($(date +%s%N) - t0) / 1000000))
	a1=$(forwarded pa)
	b1=$(forwarded pb)
	ra1=$(r_count a0)
	rb1=$(r_count b0)
	wait_until $((ECMP_SECONDS * 5)) forwarded_over pb \
		$((b1 + ECMP_PPS * ECMP_SECONDS / 2))
	flows_stop
	rx_stop
	sent=$(($(r_count pre) - r0))
	got=$(($(rx_count cpe1) + $(rx_count cpe2)))
	lost=$((sent - got))
	inflight=$((ra1 - rs - (a1 - a0)))
	ktap_diag "$desc: R got $sent, the CPEs $got, lost $lost; failure handled in $window ms, meanwhile R sent $((ra1 - ra)) towards PRR-A, $((rb1 - rb)) towards PRR-B; PRR-A never forwarded $inflight of what R sent it; afterwards $(($(r_count a0) - ra1)) towards PRR-A; PRR-A forwarded $((a1 - a0)), PRR-B $(($(forwarded pb) - b0)) ($(($(forwarded pb) - b1)) after the failure); backlog drops $(($(softnet_drops) - drops))"
	ktap_expect "$desc: PRR-A forwarded nothing after the failure" \
		"$a1" "$(forwarded pa)"
	ktap_expect "$desc: R sent nothing towards PRR-A afterwards" \
		"$ra1" "$(r_count a0)"
	if [ "$(($(forwarded pb) - b1))" -gt 0 ]; then
		ktap_ok "$desc: PRR-B carried the traffic after the failure"
	else
		ktap_fail "$desc: PRR-B carried the traffic after the failure"
	fi
	if [ "$lost" -ge 0 ] && [ "$lost" -le "$inflight" ]; then
		ktap_ok "$desc: only in-flight packets lost ($lost)"
	else
		ktap_fail "$desc: only in-flight packets lost" \
			"lost $lost, more than the $inflight R sent towards PRR-A that PRR-A never forwarded"
	fi
	check_delivery "$desc"
}

# Link down on PRR-A's uplink; the router skips the dead next hop at once
# (ignore_routes_with_linkdown), then the health check takes it out.
fail_link()
{
	ip -n "$(ens pa)" link set up0 down &&
		route_only_b
}

# PRR-A's prr loses its state, as if its module were unloaded (its table
# flushed: packets to the shared address then follow PRR-A's own default
# route); the health check sees it and takes PRR-A out of the route.
fail_prr()
{
	ectl pa flush && route_only_b
}

a0_up()
{
	ip -n "$(ens r)" link show a0 | grep -q 'state UP'
}

restore_a()
{
	ip -n "$(ens pa)" link set up0 up && wait_until 10 a0_up &&
		route_both
}

r_has_one_path()
{
	[ "$(ip -n "$(ens r)" route show "$SHARED/32" | grep -c nexthop)" -eq 0 ]
}

topo_require
trap ecmp_cleanup EXIT
if ! ecmp_create; then
	ktap_fail "build the ECMP testbed"
	ktap_finish
fi
load_tables || ktap_finish
test_spread
failover "link down" fail_link
step "PRR-A back in the route" restore_a
failover "PRR-A's prr state gone" fail_prr
ktap_check "the router's route has PRR-B only" r_has_one_path
# The failed instance goes away for good, its router link with it.
ktap_check "PRR-A's namespace is deleted" ip netns del "$(ens pa)"
ktap_check "the router's route to PRR-B is unaffected" r_has_one_path
ecmp_destroy
ktap_finish
