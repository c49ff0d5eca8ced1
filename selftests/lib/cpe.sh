#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The CPE role on the testbed of lib/topo.sh (source ktap.sh, topo.sh, then
# this): both CPEs translate their LAN with prr's port-set NAT instead of a
# stock SNAT.
#
#   CPE-1's set  0x0400/0x1400, non-contiguous (16 blocks of 1024 ports)
#   CPE-2's set  15 pieces (A << 12)/0xfc00, A = 1..15: the first 1024
#                ports of every 4096 but 0-4095 (MAP style, low ports
#                excluded), disjoint from CPE-1's
#
# On each CPE: its pieces `local`, `port-value 0 port-mask 0 via` the PRR
# (every other port goes up: hairpin), `add-nat` of its LAN leaving by wan0,
# and accept_local on wan0: a hairpinned packet, once translated to a LAN
# host (port forward) or back to it (reply), still has the shared address,
# one of the CPE's own, as its source, which Linux otherwise drops as a
# martian.  The PRR: CPE-1's set via CPE-1, CPE-2's 15 pieces via CPE-2,
# source validation on (the default).
#
#   cpe_testbed VARIANT         topo_create, the CPE role, the PRR's ARP
#                               entries, RT1 without ICMP rate limit
#   cpe_test FN ARGS            run one test function, timed
#   cpe_sets N                  CPE N's pieces, VALUE/MASK words
#   cpe_add_local N SETS...     add pieces as local entries on CPE N
#   cpe_del_local N SETS...     remove them
#   cpe_nat_add N / cpe_nat_del N
#   cpe_ctl N ARGS              prrctl on CPE N
#   counters NODE               `prrctl stats` of NODE ("name value" lines)
#   moved NODE BEFORE           "name=delta" of the counters that moved
#   only_drops MOVED            the drop_* words of a moved line
#   cpe_port_forward N PORT TO  nftables DNAT of $SHARED tcp/udp PORT to TO
#   serve_start NAME NODE ARGS  `prr_probe serve` on NODE until rx_stop
#   connect_from NAME NODE ARGS `prr_probe connect` on NODE, output in NAME
#   conn_summary NAME           "OK TOTAL" of that connect run
#   flow_report NAME SHIFT SETS figures of a capture (see there)
#   pkt_fields NAME N           field N of a capture's pkt lines, sorted
#   rx_has NAME ERE             a line of a capture matches
#   ports_outside SETS...       ports on stdin (one a line) in none of SETS
#   ct_lines N                  CPE N's conntrack table
#   nlines TEXT                 its non-empty lines
#
# Every command costs a few hundred milliseconds under emulation, so these
# helpers use bash builtins where they can, `prrctl -n` (no nsenter), and
# run the setup's prrctl calls in parallel.

# shellcheck disable=SC2034
CPE1_SETS="0x0400/0x1400"
CPE2_SETS="0x1000/0xfc00 0x2000/0xfc00 0x3000/0xfc00 0x4000/0xfc00"
CPE2_SETS+=" 0x5000/0xfc00 0x6000/0xfc00 0x7000/0xfc00 0x8000/0xfc00"
CPE2_SETS+=" 0x9000/0xfc00 0xa000/0xfc00 0xb000/0xfc00 0xc000/0xfc00"
CPE2_SETS+=" 0xd000/0xfc00 0xe000/0xfc00 0xf000/0xfc00"

cpe_sets()
{
	local v=CPE$1_SETS

	echo "${!v}"
}

# The PRR's address on CPE N's link.
cpe_prr_addr()
{
	local v=PRR_CPE$1_ADDR

	echo "${!v}"
}

node_prrctl()
{
	"$PRRCTL" -n "$(node_ns "$1")" "${@:2}"
}

cpe_ctl()
{
	node_prrctl "cpe$1" "${@:2}"
}

# ctl_parallel NS DESC: runs `prrctl -n NS LINE` for every line on stdin
# (words), all at once; the failed ones are reported as failed test DESC.
ctl_parallel()
{
	local ns=$1 desc=$2 line i pids=() cmds=() bad=()

	while read -r line; do
		# shellcheck disable=SC2086 # a line is words
		"$PRRCTL" -n "$ns" $line >"$TOPO_DIR/ctl.${#pids[@]}" 2>&1 &
		pids+=($!)
		cmds+=("$line")
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" ||
			bad+=("prrctl ${cmds[$i]}: $(<"$TOPO_DIR/ctl.$i")")
	done
	[ ${#bad[@]} -eq 0 ] && return
	ktap_fail "$desc" "${bad[@]}"
	return 1
}

# set_lines CMD ACTION SETS...: `CMD $SHARED port-value V port-mask M
# ACTION` lines, one a set.
set_lines()
{
	local cmd=$1 action=$2 set

	shift 2
	for set in "$@"; do
		echo "$cmd $SHARED port-value ${set%/*} port-mask ${set#*/} $action"
	done
}

# cpe_add_local N SETS...: each VALUE/MASK as a local entry on CPE N.
cpe_add_local()
{
	local n=$1

	shift
	set_lines add-cpe local "$@" |
		ctl_parallel "$(node_ns "cpe$n")" "CPE-$n: add local $*"
}

cpe_del_local()
{
	local n=$1

	shift
	set_lines del-cpe "" "$@" |
		ctl_parallel "$(node_ns "cpe$n")" "CPE-$n: del-cpe $*"
}

cpe_nat_add()
{
	step "CPE-$1: add-nat $SHARED from 192.168.$1.0/24 dev wan0" \
		cpe_ctl "$1" add-nat "$SHARED" from "192.168.$1.0/24" dev wan0
}

cpe_nat_del()
{
	step "CPE-$1: del-nat from 192.168.$1.0/24" \
		cpe_ctl "$1" del-nat from "192.168.$1.0/24"
}

# cpe_role_on N: CPE N's table and NAT rule.
cpe_role_on()
{
	local n=$1 ns

	ns=$(node_ns "cpe$n") || return 1
	{
		# shellcheck disable=SC2046 # one word per piece
		set_lines add-cpe local $(cpe_sets "$n")
		set_lines add-cpe "via $(cpe_prr_addr "$n")" 0/0
		echo "add-nat $SHARED from 192.168.$n.0/24 dev wan0"
	} | ctl_parallel "$ns" "CPE-$n: the CPE role" || return 1
	step "CPE-$n: accept_local on wan0" \
		ns_sysctl "$ns" net.ipv4.conf.wan0.accept_local=1
}

# The PRR's entries: each CPE's pieces via that CPE.
prr_role_on()
{
	local n addr dev

	for n in 1 2; do
		addr=CPE${n}_ADDR
		dev=CPE${n}_DEV
		# shellcheck disable=SC2046 # one word per piece
		set_lines add-cpe "via ${!addr} dev ${!dev}" $(cpe_sets "$n")
	done | ctl_parallel "$NS_PRR" "PRR: CPE-1's and CPE-2's sets"
}

# cpe_testbed VARIANT: the testbed with the CPE role, or a failed test.
cpe_testbed()
{
	local t0=$SECONDS

	if topo_create "$1" && prr_role_on && cpe_role_on 1 &&
	   cpe_role_on 2 && prr_prime_arp &&
	   step "RT1: no ICMP rate limit" \
		ns_sysctl "$NS_RT1" net.ipv4.icmp_ratelimit=0; then
		ktap_diag "[$1] testbed with the CPE role: $((SECONDS - t0)) s"
		return
	fi
	ktap_fail "[$1] build the testbed with the CPE role"
	topo_destroy
	return 1
}

# cpe_test FN ARGS: one test; no receiver or server left running.
cpe_test()
{
	local t0=$SECONDS

	"$@"
	rx_kill
	ktap_diag "$*: $((SECONDS - t0)) s"
}

# ------------------------------------------------------------- counters

counters()
{
	node_prrctl "$1" stats
}

# sort_words WORDS...: the words in byte order, space separated.
sort_words()
{
	local sorted=() w i

	for w in "$@"; do
		i=${#sorted[@]}
		while [ "$i" -gt 0 ] && [[ ${sorted[i - 1]} > $w ]]; do
			sorted[i]=${sorted[i - 1]}
			i=$((i - 1))
		done
		sorted[i]=$w
	done
	echo "${sorted[*]}"
}

# sort_nums NUMBERS...: ascending, space separated.
sort_nums()
{
	local sorted=() w i

	for w in "$@"; do
		i=${#sorted[@]}
		while [ "$i" -gt 0 ] && [ "${sorted[i - 1]}" -gt "$w" ]; do
			sorted[i]=${sorted[i - 1]}
			i=$((i - 1))
		done
		sorted[i]=$w
	done
	echo "${sorted[*]}"
}

# moved NODE BEFORE: "name=delta" of NODE's counters that moved since
# BEFORE (output of counters), by name; "" when none did.
moved()
{
	local -A old
	local name value out=() now

	while read -r name value; do
		old[$name]=$value
	done <<<"$2"
	now=$(counters "$1") || return 1
	while read -r name value; do
		[ "${old[$name]:-0}" = "$value" ] ||
			out+=("$name=$((value - ${old[$name]:-0}))")
	done <<<"$now"
	sort_words "${out[@]}"
}

only_drops()
{
	local w out=()

	for w in $1; do
		[[ $w != drop_* ]] || out+=("$w")
	done
	echo "${out[*]}"
}

# ------------------------------------------------------------- services

# cpe_port_forward N PORT TO: the operator's own port forward on CPE N.
cpe_port_forward()
{
	in_node "cpe$1" nft -f - <<-EOF
	table ip cpefwd {
		chain pre {
			type nat hook prerouting priority dstnat;
			iifname "wan0" ip daddr $SHARED meta l4proto { tcp, udp } th dport $2 dnat to $3
		}
	}
	EOF
}

# serve_start NAME NODE [prr_probe serve options]: runs until rx_stop.
serve_start()
{
	local name=$1 ns

	ns=$(node_ns "$2") || return 1
	shift 2
	rm -f "$TOPO_DIR/$name.ready" "$TOPO_DIR/rx.stop"
	ns_exec "$ns" "$PRR_PROBE" serve --ready "$TOPO_DIR/$name.ready" \
		--stop "$TOPO_DIR/rx.stop" --timeout "$RX_TIMEOUT_MS" "$@" \
		>"$TOPO_DIR/$name.out" 2>"$TOPO_DIR/$name.err" &
	RX_PIDS+=($!)
	RX_NAMES+=("$name")
	# generous: a loaded host can stall the emulated guest for seconds
	wait_until 30 serve_up "$name" "$!"
	if [ ! -e "$TOPO_DIR/$name.ready" ]; then
		ktap_fail "server $name on $ns starts" \
			"$(<"$TOPO_DIR/$name.err")"
		return 1
	fi
}

# serve_up NAME PID: server NAME is ready, or its process PID is gone.
serve_up()
{
	[ -e "$TOPO_DIR/$1.ready" ] || ! kill -0 "$2" 2>/dev/null
}

# connect_from NAME NODE [prr_probe connect options]: output in NAME.out;
# fails (as a test) only when prr_probe itself did, not for failed flows.
connect_from()
{
	local name=$1 ns rc=0

	ns=$(node_ns "$2") || return 1
	shift 2
	ns_exec "$ns" "$PRR_PROBE" connect "$@" >"$TOPO_DIR/$name.out" \
		2>"$TOPO_DIR/$name.err" || rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
		ktap_fail "prr_probe connect $* on $ns" \
			"$(<"$TOPO_DIR/$name.err")"
		return 1
	fi
}

conn_summary()
{
	local word ok total

	while read -r word ok total _; do
		[ "$word" != connected ] || echo "$ok $total"
	done <"$TOPO_DIR/$1.out"
}

ct_lines()
{
	in_node "cpe$1" cat /proc/net/nf_conntrack
}

# ------------------------------------------------------------- captures

# mawk has no bitwise operators.
# shellcheck disable=SC2016
PORTSET_AWK='
function band(a, b,    r, bit) {
	r = 0
	for (bit = 1; a > 0 && b > 0; bit *= 2) {
		if (a % 2 == 1 && b % 2 == 1)
			r += bit
		a = int(a / 2)
		b = int(b / 2)
	}
	return r
}
# in_sets(P, SETS): P belongs to one of SETS, decimal "VALUE/MASK" words.
function in_sets(p, sets,    n, i, w, vm) {
	n = split(sets, w, " ")
	for (i = 1; i <= n; i++) {
		split(w[i], vm, "/")
		if (band(p + 0, vm[2] + 0) == vm[1] + 0)
			return 1
	}
	return 0
}
'

sets_decimal()
{
	local set

	for set in "$@"; do
		printf '%d/%d ' "${set%/*}" "${set#*/}"
	done
}

# Ports on stdin (one a line) that belong to none of the VALUE/MASK sets,
# each once, in order of appearance.
ports_outside()
{
	awk -v sets="$(sets_decimal "$@")" "$PORTSET_AWK"'
		!seen[$1]++ && !in_sets($1, sets)'
}

# flow_report NAME SHIFT SETS...: one line of figures about capture NAME:
#   OTHER     pkt lines not from $SHARED
#   PKTS      pkt lines from $SHARED with a port (ICMP Identifier)
#   NOUT      distinct ports of those outside SETS
#   OUT       the first 5 of them, comma separated ("-": none)
#   FLOWS     flows: TCP and ICMP flows of a test share their destination,
#             so their port tells them apart; UDP ones by destination port
#   DISTINCT  distinct ports among the flows' ports
#   BLOCKS    distinct PORT >> SHIFT among them
#   MIN MAX   the fewest and most flows in one such block
#   BITS      the bits that vary among the flows' ports (decimal)
flow_report()
{
	local name=$1 shift=$2

	shift 2
	awk -v s="$SHARED" -v sets="$(sets_decimal "$@")" \
		-v div=$((1 << shift)) "$PORTSET_AWK"'
	$1 != "pkt" { next }
	$7 != s { other++; next }
	$3 == "-" { next }
	{ pkts++; p = $3 + 0 }
	!(p in checked) {
		checked[p] = 1
		if (!in_sets(p, sets) && nout++ < 5)
			out = out (nout > 1 ? "," : "") p
	}
	{ key = $2 " " p " " ($2 == "udp" || $2 == "udplite" ? $4 : "") }
	!(key in seen) {
		seen[key] = 1
		flows++
		if (!(p in port)) {
			port[p] = 1
			distinct++
		}
		block[int(p / div)]++
		all = flows == 1 ? p : band(all, p)
		any = any + p - band(any, p)
	}
	END {
		for (b in block) {
			blocks++
			if (min == "" || block[b] < min)
				min = block[b]
			if (block[b] > max)
				max = block[b]
		}
		print other + 0, pkts + 0, nout + 0, out == "" ? "-" : out,
		      flows + 0, distinct + 0, blocks + 0, min + 0, max + 0,
		      any - all
	}' "$TOPO_DIR/$name.out"
}

# pkt_fields NAME N: field N of capture NAME's pkt lines, numerically
# sorted, space separated (for a few lines).
pkt_fields()
{
	local line f=() vals=()

	while read -r -a f; do
		[ "${f[0]}" != pkt ] || vals+=("${f[$2 - 1]}")
	done <"$TOPO_DIR/$1.out"
	sort_nums "${vals[@]}"
}

# rx_has NAME ERE: a line of capture NAME matches.
rx_has()
{
	local line

	while read -r line; do
		[[ ! $line =~ $2 ]] || return 0
	done <"$TOPO_DIR/$1.out"
	return 1
}

# Number of non-empty lines in $1.
nlines()
{
	local lines=() l n=0

	mapfile -t lines <<<"$1"
	for l in "${lines[@]}"; do
		[ -z "$l" ] || n=$((n + 1))
	done
	echo "$n"
}
