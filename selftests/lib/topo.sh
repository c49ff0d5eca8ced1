#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The testbed of draft-boucadair-behave-bittorrent-address-sharing-00 §3,
# built in network namespaces.  Source it after lib/ktap.sh.
#
#   T1 --[eth0 lan0]-- CPE-1 --[wan0 cpe1]--+       +--[rt1 eth0]-- RT1
#                                           |  PRR  |
#   T2 --[eth0 lan0]-- CPE-2 --[wan0 cpe2]--+       +--[rt2 eth0]-- RT2
#
#   T1 192.168.1.2, CPE-1 lan0 192.168.1.1   RT1 198.51.100.2, PRR 198.51.100.1
#   T2 192.168.2.2, CPE-2 lan0 192.168.2.1   RT2 203.0.113.2,  PRR 203.0.113.1
#
# CPE-1 and CPE-2 both hold the shared address 192.0.2.1 on lo and
# default-route to the PRR; T1/T2 default-route to their CPE; RT1/RT2
# default-route to the PRR.  The PRR has no route for 192.0.2.1: only prr
# delivers it.  Two variants of the PRR<->CPE side:
#
#   links   two veth pairs: PRR cpe1 10.0.1.1/24 <-> CPE-1 wan0 10.0.1.2/24,
#                           PRR cpe2 10.0.2.1/24 <-> CPE-2 wan0 10.0.2.2/24
#   bridge  one L2 segment: bridge br0 in the PRR namespace (ports cpe1 and
#           cpe2), PRR br0 10.0.0.1/24, CPE-1 wan0 10.0.0.2/24,
#           CPE-2 wan0 10.0.0.3/24
#
# Namespace names are unique per run (prr<pid>-<random>-<node>) and are
# removed by an EXIT trap, with every receiver started here.  No IPv6
# addresses (addrgenmode none): the links carry only the tests' IPv4.
#
# Main functions:
#   topo_create links|bridge    build it; sets NS_*, CPE*_ADDR, CPE*_DEV...
#   topo_destroy                remove it (also done at exit)
#   topo_add_ns NAME            an extra empty namespace ($TOPO_NEW_NS)
#   topo_add_host NAME A GW LEN an extra Internet-side host on its own link
#   prr_ctl ARGS                prrctl in the PRR namespace
#   ctl_in NODE ARGS            prrctl in NODE's namespace
#   in_node NODE CMD            any command in NODE's namespace
#   prr_stats / stats_moved J   counters, and the ones that moved since J
#   prr_entry V M FIELDS        fields of one entry of `prrctl -j show`
#   rx_start NAME NODE ARGS     start `prr_probe recv` on NODE, wait ready
#   rx_stop                     let every receiver finish, wait for them
#   rx_out NAME / rx_pkts NAME  their output / "proto dport" of pkt lines
#   send_from NODE ARGS         `prr_probe send --src <NODE's address>`
#   expect_lines DESC WANT GOT  assert two line lists are equal
#   step DESC CMD               a setup command reported as a failed test
#                               when it fails
#
# Helpers that fail (prr_add, rx_start, send_from, step...) report a failed
# test themselves, so a test function may simply return.
#
# Nodes: prr cpe1 cpe2 t1 t2 rt1 rt2.

# Many variables here are for the scripts that source this file.
# shellcheck disable=SC2034
TOPO_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PRRCTL=${PRRCTL:-$TOPO_REPO/tools/prrctl/prrctl}
PRR_PROBE=${PRR_PROBE:-$TOPO_REPO/selftests/prr_probe}
# After rx_stop, a receiver stops once no packet arrived for this long.
# Sends are processed synchronously (veth), so this only covers stragglers.
RX_GRACE_MS=${RX_GRACE_MS:-500}
RX_TIMEOUT_MS=${RX_TIMEOUT_MS:-30000}

# ns_exec NS CMD, ns_batch NS (ip -batch), ns_sysctl NS KEY=VALUE...
# shellcheck source=SCRIPTDIR/netns.sh
. "$TOPO_REPO/selftests/lib/netns.sh"

SHARED=192.0.2.1
RT1_ADDR=198.51.100.2
RT2_ADDR=203.0.113.2
PRR_RT1_ADDR=198.51.100.1
PRR_RT2_ADDR=203.0.113.1
T1_ADDR=192.168.1.2
T2_ADDR=192.168.2.2
CPE1_LAN_ADDR=192.168.1.1
CPE2_LAN_ADDR=192.168.2.1

TOPO_VARIANT=
TOPO_DIR=
TOPO_NODES="prr cpe1 cpe2 t1 t2 rt1 rt2"
TOPO_EXTRA_NS=()
RX_PIDS=()
RX_NAMES=()

node_ns()
{
	case $1 in
	prr) echo "$NS_PRR" ;;
	cpe1) echo "$NS_CPE1" ;;
	cpe2) echo "$NS_CPE2" ;;
	t1) echo "$NS_T1" ;;
	t2) echo "$NS_T2" ;;
	rt1) echo "$NS_RT1" ;;
	rt2) echo "$NS_RT2" ;;
	*) echo "topo: unknown node '$1'" >&2; return 1 ;;
	esac
}

# The address a node sends from.
node_addr()
{
	case $1 in
	prr) echo "$PRR_RT1_ADDR" ;;
	cpe1) echo "$CPE1_ADDR" ;;
	cpe2) echo "$CPE2_ADDR" ;;
	t1) echo "$T1_ADDR" ;;
	t2) echo "$T2_ADDR" ;;
	rt1) echo "$RT1_ADDR" ;;
	rt2) echo "$RT2_ADDR" ;;
	*) echo "topo: unknown node '$1'" >&2; return 1 ;;
	esac
}

# The interface a receiver on the node listens on: its uplink.
node_dev()
{
	case $1 in
	cpe1 | cpe2) echo wan0 ;;
	t1 | t2 | rt1 | rt2) echo eth0 ;;
	*) echo "topo: no default capture device on '$1'" >&2; return 1 ;;
	esac
}

# ns_exec NS CMD...: CMD in network namespace NS.  Cheaper than
# `ip netns exec` (no mount namespace, no sysfs remount), which counts under
# emulation; nothing here needs a namespace-specific /sys.
in_node()
{
	local ns

	ns=$(node_ns "$1") || return 1
	shift
	ns_exec "$ns" "$@"
}

prr_ctl()
{
	ns_exec "$NS_PRR" "$PRRCTL" "$@"
}

ctl_in()
{
	local ns

	ns=$(node_ns "$1") || return 1
	shift
	ns_exec "$ns" "$PRRCTL" "$@"
}

# Fails the whole script early when the tools are missing.
topo_require()
{
	local missing=() cmd out

	[ "$(id -u)" -eq 0 ] || missing+=("root")
	for cmd in ip jq nft nsenter; do
		command -v "$cmd" >/dev/null || missing+=("$cmd")
	done
	[ -x "$PRR_PROBE" ] || missing+=("$PRR_PROBE (make -C selftests)")
	[ -x "$PRRCTL" ] || missing+=("$PRRCTL (make prrctl)")
	if [ ${#missing[@]} -gt 0 ]; then
		ktap_fail "test prerequisites" "missing: ${missing[*]}"
		ktap_finish
	fi
	if ! out=$("$PRRCTL" show 2>&1); then
		ktap_fail "prrctl show works (module loaded)" "$out"
		ktap_finish
	fi
}

# The CPEs' receivers are packet captures, not sockets: the CPEs would
# answer most test packets with port or protocol unreachable or a TCP reset,
# from the shared address, which the PRR then validates and counts.  Tests
# that want a CPE's own replies send them explicitly.
topo_quiet_cpe()
{
	ns_exec "$1" nft -f - <<-EOF
	table ip prrtopo {
		chain output {
			type filter hook output priority 0; policy accept;
			icmp type destination-unreachable drop
			tcp flags & rst == rst drop
		}
	}
	EOF
}

# topo_create links|bridge
topo_create()
{
	local variant=$1 id node

	case $variant in
	links | bridge) ;;
	*) echo "topo: unknown variant '$variant'" >&2; return 1 ;;
	esac
	[ -z "$TOPO_VARIANT" ] || topo_destroy
	id="prr$$-$RANDOM"
	TOPO_VARIANT=$variant
	TOPO_DIR=$(mktemp -d "/tmp/$id.XXXXXX")
	NS_PRR=$id-prr
	NS_CPE1=$id-cpe1
	NS_CPE2=$id-cpe2
	NS_T1=$id-t1
	NS_T2=$id-t2
	NS_RT1=$id-rt1
	NS_RT2=$id-rt2
	trap topo_cleanup EXIT
	for node in $TOPO_NODES; do
		echo "netns add $(node_ns "$node")"
	done | ip -batch - || return 1
	# The PRR's ICMP errors are asserted on: no rate limit there.
	ns_sysctl "$NS_PRR" net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 ||
		return 1
	ns_sysctl "$NS_CPE1" net.ipv4.ip_forward=1 || return 1
	ns_sysctl "$NS_CPE2" net.ipv4.ip_forward=1 || return 1
	topo_quiet_cpe "$NS_CPE1" || return 1
	topo_quiet_cpe "$NS_CPE2" || return 1

	if [ "$variant" = links ]; then
		CPE1_ADDR=10.0.1.2
		CPE2_ADDR=10.0.2.2
		PRR_CPE1_ADDR=10.0.1.1
		PRR_CPE2_ADDR=10.0.2.1
		CPE1_DEV=cpe1
		CPE2_DEV=cpe2
	else
		CPE1_ADDR=10.0.0.2
		CPE2_ADDR=10.0.0.3
		PRR_CPE1_ADDR=10.0.0.1
		PRR_CPE2_ADDR=10.0.0.1
		CPE1_DEV=br0
		CPE2_DEV=br0
	fi

	ip -batch - <<-EOF || return 1
	link add name rt1 netns $NS_PRR type veth peer name eth0 netns $NS_RT1
	link add name rt2 netns $NS_PRR type veth peer name eth0 netns $NS_RT2
	link add name cpe1 netns $NS_PRR type veth peer name wan0 netns $NS_CPE1
	link add name cpe2 netns $NS_PRR type veth peer name wan0 netns $NS_CPE2
	link add name lan0 netns $NS_CPE1 type veth peer name eth0 netns $NS_T1
	link add name lan0 netns $NS_CPE2 type veth peer name eth0 netns $NS_T2
	EOF

	ns_batch "$NS_PRR" <<-EOF || return 1
	link set lo up
	link set rt1 addrgenmode none
	link set rt2 addrgenmode none
	addr add $PRR_RT1_ADDR/24 dev rt1
	addr add $PRR_RT2_ADDR/24 dev rt2
	link set rt1 up
	link set rt2 up
	EOF
	topo_prr_cpe_side || return 1
	topo_cpe "$NS_CPE1" "$CPE1_ADDR" "$PRR_CPE1_ADDR" "$CPE1_LAN_ADDR" ||
		return 1
	topo_cpe "$NS_CPE2" "$CPE2_ADDR" "$PRR_CPE2_ADDR" "$CPE2_LAN_ADDR" ||
		return 1
	topo_host "$NS_T1" "$T1_ADDR" "$CPE1_LAN_ADDR" || return 1
	topo_host "$NS_T2" "$T2_ADDR" "$CPE2_LAN_ADDR" || return 1
	topo_host "$NS_RT1" "$RT1_ADDR" "$PRR_RT1_ADDR" || return 1
	topo_host "$NS_RT2" "$RT2_ADDR" "$PRR_RT2_ADDR" || return 1
	[ "$variant" = links ] ||
		wait_until 10 bridge_ports_forwarding || return 1
}

# The PRR's side of the CPE links (also used to re-create them).
topo_prr_cpe_side()
{
	if [ "$TOPO_VARIANT" = links ]; then
		ns_batch "$NS_PRR" <<-EOF
		link set cpe1 addrgenmode none
		link set cpe2 addrgenmode none
		addr add $PRR_CPE1_ADDR/24 dev cpe1
		addr add $PRR_CPE2_ADDR/24 dev cpe2
		link set cpe1 up
		link set cpe2 up
		EOF
	else
		ns_batch "$NS_PRR" <<-EOF
		link add br0 type bridge
		link set br0 addrgenmode none
		link set cpe1 addrgenmode none
		link set cpe2 addrgenmode none
		link set cpe1 master br0
		link set cpe2 master br0
		addr add $PRR_CPE1_ADDR/24 dev br0
		link set br0 up
		link set cpe1 up
		link set cpe2 up
		EOF
	fi
}

bridge_ports_forwarding()
{
	[ "$(bridge -n "$NS_PRR" link show master br0 |
		grep -c 'state forwarding')" -eq 2 ]
}

# topo_cpe NS WAN_ADDR PRR_ADDR LAN_ADDR
topo_cpe()
{
	ns_batch "$1" <<-EOF
	link set lo up
	link set wan0 addrgenmode none
	link set lan0 addrgenmode none
	addr add $SHARED/32 dev lo
	addr add $2/24 dev wan0
	addr add $4/24 dev lan0
	link set wan0 up
	link set lan0 up
	route add default via $3 dev wan0
	EOF
}

# topo_host NS ADDR GW [LEN]: LEN defaults to 24
topo_host()
{
	ns_batch "$1" <<-EOF
	link set lo up
	link set eth0 addrgenmode none
	addr add $2/${4:-24} dev eth0
	link set eth0 up
	route add default via $3 dev eth0
	EOF
}

# topo_add_ns NAME: an extra, unconnected namespace, removed with the
# testbed; its name is left in TOPO_NEW_NS (call it outside $(...)).
topo_add_ns()
{
	TOPO_NEW_NS="${NS_PRR%-prr}-$1"
	step "create namespace $TOPO_NEW_NS" ip netns add "$TOPO_NEW_NS" ||
		return 1
	TOPO_EXTRA_NS+=("$TOPO_NEW_NS")
}

# topo_add_host NAME ADDR PRR_ADDR LEN: an extra host ($TOPO_NEW_NS) on the
# PRR's Internet side, on a link of its own: NAME in the PRR (PRR_ADDR/LEN),
# eth0 in the host (ADDR/LEN, default route via PRR_ADDR).
topo_add_host()
{
	topo_add_ns "$1" || return 1
	step "$1: a link to the PRR" ip link add name "$1" netns "$NS_PRR" \
		type veth peer name eth0 netns "$TOPO_NEW_NS" || return 1
	step "$1: the PRR's side of its link" ns_batch "$NS_PRR" <<-EOF || return 1
	link set $1 addrgenmode none
	addr add $3/$4 dev $1
	link set $1 up
	EOF
	step "$1: its address and route" \
		topo_host "$TOPO_NEW_NS" "$2" "$3" "$4"
}

# The namespaces of the testbed and of topo_add_ns, one a line.
topo_namespaces()
{
	[ "${#TOPO_EXTRA_NS[@]}" -eq 0 ] || printf '%s\n' "${TOPO_EXTRA_NS[@]}"
	[ -z "$TOPO_VARIANT" ] ||
		printf '%s\n' "$NS_PRR" "$NS_CPE1" "$NS_CPE2" "$NS_T1" \
			"$NS_T2" "$NS_RT1" "$NS_RT2"
}

topo_destroy()
{
	rx_kill
	topo_namespaces | sed 's/^/netns del /' |
		ip -force -batch - 2>/dev/null
	TOPO_EXTRA_NS=()
	[ -z "$TOPO_DIR" ] || rm -rf "$TOPO_DIR"
	TOPO_DIR=
	TOPO_VARIANT=
}

topo_cleanup()
{
	local rc=$?

	topo_destroy
	exit "$rc"
}

# Deletes the PRR's device towards CPE N (cpeN, or br0 on the bridge).
topo_cpe_link_del()
{
	local dev=cpe$1

	[ "$TOPO_VARIANT" = links ] || dev=br0
	ip -n "$NS_PRR" link del "$dev"
}

# Re-creates what topo_cpe_link_del removed.
topo_cpe_link_add()
{
	local n=$1 ns addr prr_addr

	if [ "$TOPO_VARIANT" = bridge ]; then
		topo_prr_cpe_side || return 1
		wait_until 10 bridge_ports_forwarding
		return
	fi
	ns=$(node_ns "cpe$n") || return 1
	addr=$(node_addr "cpe$n")
	prr_addr=10.0.$n.1
	ip link add name "cpe$n" netns "$NS_PRR" type veth \
		peer name wan0 netns "$ns" || return 1
	ns_batch "$NS_PRR" <<-EOF || return 1
	link set cpe$n addrgenmode none
	addr add $prr_addr/24 dev cpe$n
	link set cpe$n up
	EOF
	ns_batch "$ns" <<-EOF
	link set wan0 addrgenmode none
	addr add $addr/24 dev wan0
	link set wan0 up
	route add default via $prr_addr dev wan0
	EOF
}

# The MTU of the PRR's device towards CPE N.
topo_cpe_mtu()
{
	local dev=CPE$1_DEV

	ip -n "$NS_PRR" link set dev "${!dev}" mtu "$2"
}

# Runs CMD; fails with 124 when it has not finished within SECS.
run_within()
{
	local secs=$1 pid

	shift
	"$@" &
	pid=$!
	if wait_until "$secs" pid_gone "$pid"; then
		wait "$pid"
		return
	fi
	return 124
}

pid_gone()
{
	! kill -0 "$1" 2>/dev/null
}

# ---------------------------------------------------------------- receivers

# rx_start NAME NODE [prr_probe recv options]: captures on NODE's uplink.
rx_start()
{
	local name=$1 node=$2 ns dev

	shift 2
	ns=$(node_ns "$node") || return 1
	dev=$(node_dev "$node") || return 1
	rx_start_dev "$name" "$ns" "$dev" "$@"
}

# rx_start_dev NAME NS DEV [prr_probe recv options]
rx_start_dev()
{
	local name=$1 ns=$2 dev=$3

	shift 3
	rm -f "$TOPO_DIR/$name.ready" "$TOPO_DIR/rx.stop"
	ns_exec "$ns" "$PRR_PROBE" recv --dev "$dev" \
		--ready "$TOPO_DIR/$name.ready" --stop "$TOPO_DIR/rx.stop" \
		--grace "$RX_GRACE_MS" --timeout "$RX_TIMEOUT_MS" "$@" \
		>"$TOPO_DIR/$name.out" 2>"$TOPO_DIR/$name.err" &
	RX_PIDS+=($!)
	RX_NAMES+=("$name")
	if ! wait_until 10 test -e "$TOPO_DIR/$name.ready"; then
		ktap_fail "receiver $name on $ns/$dev starts" \
			"$(cat "$TOPO_DIR/$name.err")"
		return 1
	fi
}

# Tells every receiver to finish once idle and waits for them.  A receiver
# whose socket dropped packets (exit 3) is reported as a diagnostic.
rx_stop()
{
	local i rc=0 st

	: >"$TOPO_DIR/rx.stop"
	for i in "${!RX_PIDS[@]}"; do
		st=0
		wait "${RX_PIDS[$i]}" || st=$?
		if [ "$st" -ne 0 ]; then
			ktap_diag "receiver ${RX_NAMES[$i]} exited with $st:" \
				"$(cat "$TOPO_DIR/${RX_NAMES[$i]}.err")"
			rc=1
		fi
	done
	RX_PIDS=()
	RX_NAMES=()
	rm -f "$TOPO_DIR/rx.stop"
	return "$rc"
}

rx_kill()
{
	local pid

	for pid in "${RX_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	RX_PIDS=()
	RX_NAMES=()
}

rx_out()
{
	cat "$TOPO_DIR/$1.out"
}

# "PROTO DPORT" of every pkt line, sorted (duplicates kept).
rx_pkts()
{
	awk '$1 == "pkt" { print $2, $4 }' "$TOPO_DIR/$1.out" |
		sort -k1,1 -k2,2n
}

# Number of pkt lines (optionally only those of one protocol).
rx_count()
{
	awk -v p="${2:-}" '$1 == "pkt" && (p == "" || $2 == p)' \
		"$TOPO_DIR/$1.out" | wc -l
}

# Sum of the IP total lengths of the pkt lines.
rx_bytes()
{
	awk '$1 == "pkt" { n += $6 } END { print n + 0 }' "$TOPO_DIR/$1.out"
}

# Number of pkt lines whose FLAGS show a bad IP header checksum.
rx_badsums()
{
	awk '$1 == "pkt" && $10 ~ /badsum/' "$TOPO_DIR/$1.out" | wc -l
}

# The distinct TTLs seen in pkt lines, space separated.
rx_ttls()
{
	awk '$1 == "pkt" { print $5 }' "$TOPO_DIR/$1.out" | sort -u |
		tr '\n' ' ' | sed 's/ $//'
}

# icmp lines only.
rx_icmp()
{
	awk '$1 == "icmp"' "$TOPO_DIR/$1.out"
}

# send_from NODE [prr_probe send options]: prints "sent PACKETS BYTES"
# (unless --quiet); a failure is reported as a failed test.
send_from()
{
	local ns addr out

	ns=$(node_ns "$1") || return 1
	addr=$(node_addr "$1") || return 1
	shift
	if ! out=$(ns_exec "$ns" "$PRR_PROBE" send --src "$addr" "$@" 2>&1)
	then
		ktap_fail "send from $addr" "prr_probe send $*" "$out"
		return 1
	fi
	[ -z "$out" ] || printf '%s\n' "$out"
}

# Loads prr again the way guest-run.sh loaded it: this checkout's build with
# PRR_LOCAL_KO=1, else the installed module.
prr_module_insert()
{
	if [ "${PRR_LOCAL_KO:-0}" = 1 ]; then
		insmod "$TOPO_REPO/build/kmod/$(uname -r)/prr.ko"
	else
		modprobe prr
	fi
}

# readd_shown SHOW: flushes the PRR's table, then adds back every CPE line
# of SHOW (the output of `prrctl show`: a settings line, then one CPE a
# line) without its counters, each as the arguments of one add-cpe.
readd_shown()
{
	local line

	prr_flush
	while read -r line; do
		# shellcheck disable=SC2086 # the line's words are arguments
		prr_ctl add-cpe ${line% packets *} || break
	done < <(tail -n +2 <<<"$1")
}

# flood_start PORTS PPS: a steady UDP stream from RT1 to the shared address's
# PORTS (comma-separated) in the background, until flood_stop.  nsenter
# itself, not a shell function, so that $! is the sender.
FLOOD_PID=
flood_start()
{
	nsenter --net="/run/netns/$NS_RT1" -- "$PRR_PROBE" send \
		--src "$RT1_ADDR" --dst "$SHARED" --proto udp --ports "$1" \
		--repeat 1000000 --pps "$2" --quiet >/dev/null 2>&1 &
	FLOOD_PID=$!
}

flood_stop()
{
	[ -n "$FLOOD_PID" ] || return 0
	kill "$FLOOD_PID" 2>/dev/null
	wait "$FLOOD_PID" 2>/dev/null
	FLOOD_PID=
}

# ------------------------------------------------------------- port sets

# Ports used by the data-path tests: 0, 1, 65534, 65535, both sides of every
# 1 KiB boundary (the masks below are made of such blocks) and a spread.
test_ports()
{
	local k p

	{
		echo 0; echo 1; echo 65534; echo 65535
		for ((k = 1; k < 64; k++)); do
			echo $((k * 1024 - 1))
			echo $((k * 1024))
		done
		for ((p = 7; p < 65536; p += 499)); do
			echo "$p"
		done
	} | sort -n -u
}

# Filters ports (one a line on stdin) that belong to the set VALUE/MASK.
ports_in_set()
{
	local v=$(($1)) m=$(($2)) p

	while read -r p; do
		[ $((p & m)) -ne "$v" ] || echo "$p"
	done
}

# Filters ports that belong to none of the sets given as VALUE/MASK words.
ports_in_no_set()
{
	local p set owned

	while read -r p; do
		owned=0
		for set in "$@"; do
			if [ $((p & ${set#*/})) -eq $((${set%/*})) ]; then
				owned=1
				break
			fi
		done
		[ "$owned" -eq 1 ] || echo "$p"
	done
}

# Joins lines with commas (a --ports argument).
csv()
{
	paste -s -d, -
}

# "PROTO PORT" for each protocol and port (ports on stdin), sorted like
# rx_pkts.
expected_pkts()
{
	local ports proto p

	ports=$(cat)
	for proto in "$@"; do
		for p in $ports; do
			echo "$proto $p"
		done
	done | sort -k1,1 -k2,2n
}

# expect_lines DESC WANT GOT: equal line lists; a short diff otherwise.
expect_lines()
{
	local want=$2 got=$3 nw ng

	if [ "$want" = "$got" ]; then
		ktap_ok "$1"
		return
	fi
	nw=$(printf '%s' "$want" | grep -c .)
	ng=$(printf '%s' "$got" | grep -c .)
	ktap_fail "$1" "expected $nw lines, got $ng; diff (-expected +got):" \
		"$(diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") |
			grep '^[<>]' | head -n 10 | sed 's/^</-/; s/^>/+/')"
}

# --------------------------------------------------------------- counters

prr_stats()
{
	prr_ctl -j stats
}

# stats_moved BEFORE_JSON [NODE]: "name=delta" of every counter that moved
# since BEFORE, by name; "" when none did.
stats_moved()
{
	local ns

	ns=$(node_ns "${2:-prr}") || return 1
	stats_moved_ns "$1" "$ns"
}

# stats_moved_ns BEFORE_JSON NS: the same for any namespace.
stats_moved_ns()
{
	local after

	after=$(ns_exec "$2" "$PRRCTL" -j stats) || return 1
	jq -rn --argjson a "$1" --argjson b "$after" \
		'[$b | keys[] as $k | select($b[$k] != $a[$k]) |
		  "\($k)=\($b[$k] - $a[$k])"] | join(" ")'
}

# prr_entry VALUE MASK FIELDS [ADDR]: the FIELDS (space separated, e.g.
# "packets bytes") of that entry of `prrctl -j show` in the PRR, one line.
prr_entry()
{
	prr_ctl -j show | jq -r --argjson v "$(($1))" --argjson m "$(($2))" \
		--arg a "${4:-$SHARED}" --arg f "$3" \
		'.[] | select(.addr == $a and .port_value == $v and
			      .port_mask == $m) |
		 [.[($f | split(" "))[]] | tostring] | join(" ")'
}

# Adds an entry in the PRR namespace, failing the test (with the reason)
# when prrctl refuses it.
prr_add()
{
	local out

	if ! out=$(prr_ctl add-cpe "$SHARED" "$@" 2>&1); then
		ktap_fail "prrctl add-cpe $SHARED $*" "$out"
		return 1
	fi
}

prr_flush()
{
	prr_ctl flush >/dev/null
}

# step DESC CMD...: a setup command; when it fails, DESC is reported as a
# failed test with the command's output, and step returns 1.
step()
{
	local desc=$1 out

	shift
	if ! out=$("$@" 2>&1); then
		ktap_fail "$desc" "command: $*" "$out"
		return 1
	fi
}

# run_test FN ARGS: one test function, starting and ending with an empty
# table and no receiver left running even when it returned early.
run_test()
{
	prr_flush 2>/dev/null
	"$@"
	rx_kill
	prr_flush 2>/dev/null
}

# ------------------------------------------- kernel counters, log, helpers

# kstat NODE NAME...: the kernel's own SNMP counters in NODE's namespace
# (nstat names, e.g. IpReasmFails, IpExtReasmOverlaps), "NAME=VALUE" each,
# sorted by name.
kstat()
{
	local node=$1 ns

	shift
	ns=$(node_ns "$node") || return 1
	# -a absolute values, -s no history file, -z zeros too
	ns_exec "$ns" nstat -asz "$@" |
		awk 'NR > 1 { print $1 "=" $2 }' | LC_ALL=C sort
}

# kstats_moved BEFORE NODE NAME...: "NAME=DELTA" of the counters that moved
# since BEFORE (kstat's output for the same names), "" when none did.
kstats_moved()
{
	local before=$1 after

	shift
	after=$(kstat "$@") || return 1
	LC_ALL=C join -t= <(printf '%s\n' "$before") <(printf '%s\n' "$after") |
		awk -F= '$3 != $2 {
			printf "%s%s=%d", sep, $1, $3 - $2; sep = " " }'
}

DMESG_MARK=0

# Marks the kernel log's current end for dmesg_bad.
dmesg_mark()
{
	DMESG_MARK=$(dmesg 2>/dev/null | wc -l)
}

# Kernel log lines since dmesg_mark that look like a warning or worse.
dmesg_bad()
{
	dmesg 2>/dev/null | tail -n "+$((DMESG_MARK + 1))" |
		grep -E '\bWARNING\b|\bBUG\b|Oops|refcount_t|general protection|Call Trace|UBSAN|KASAN|unregister_netdevice: waiting'
}

# rx_tags NAME [AWK_CONDITION]: tags of the pkt lines (optionally only those
# matching the condition), sorted numerically, space separated.
rx_tags()
{
	awk "\$1 == \"pkt\" && \$9 != \"-\" && (${2:-1}) { print \$9 }" \
		"$TOPO_DIR/$1.out" | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# "TYPE CODE MTU SRC DST IPROTO ISPORT IDPORT IDST ITAG" of the icmp lines,
# sorted.
rx_icmp_lines()
{
	awk '$1 == "icmp" { $1 = ""; sub(/^ /, ""); print }' \
		"$TOPO_DIR/$1.out" | sort
}

# Every line a receiver printed (pkt, icmp, arp).
rx_lines()
{
	grep -c . "$TOPO_DIR/$1.out"
}

# The PRR resolves both CPE gateways (ARP), as it does once traffic flows:
# source validation on Ethernet compares a frame's source MAC with them.
prr_prime_arp()
{
	local gw

	for gw in "$CPE1_ADDR" "$CPE2_ADDR"; do
		step "the PRR reaches CPE gateway $gw (ping)" \
			ns_exec "$NS_PRR" ping -c 1 -W 5 -q "$gw" || return 1
	done
}

# cpe_nat NODE SNAT_RANGE [DNAT_ECHO_TO]: stock nftables NAT on a CPE:
# its LAN's TCP, UDP and ICMP leave from $SHARED with ports (ICMP
# Identifiers) in SNAT_RANGE (e.g. 1024-32767); with DNAT_ECHO_TO, echo
# requests arriving from the PRR go to that LAN host.
cpe_nat()
{
	local lan=192.168.${1#cpe}.0/24 dnat=

	[ -z "${3:-}" ] ||
		dnat="iifname \"wan0\" icmp type echo-request dnat to $3"
	in_node "$1" nft -f - <<-EOF
	table ip cpe {
		chain post {
			type nat hook postrouting priority srcnat;
			oifname "wan0" ip saddr $lan meta l4proto { tcp, udp, icmp } snat to $SHARED:$2
		}
		chain pre {
			type nat hook prerouting priority dstnat;
			$dnat
		}
	}
	EOF
}
