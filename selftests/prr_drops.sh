#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prr data path, what is not forwarded to a CPE: packets to the shared
# address without a port (GRE, ESP, AH) count drop_no_port, unless a
# port-mask 0 entry takes them; lone fragments are held by the kernel's
# reassembly (prr enables it) and never reach prr; truncated L4 headers
# drop_malformed; entries with action drop drop_policy; entries with action
# local leave the packet to the PRR's own stack.  (ICMP is routed by its
# Identifier or quoted port: prr_icmp.sh.)  Each assertion checks which
# counters moved, by exactly how much, and that no CPE received anything.
# These do not depend on the link layer: separate links only.

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"

N=20			# packets per kind
P1=1024			# owned by CPE-1 (0x0400/0x1400)
P2=4096			# owned by CPE-2 (0x1000/0x1400)

add_both_cpes()
{
	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" &&
		prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR"
}

# Receivers on both CPEs that report any IPv4 packet to the shared address,
# tagged or not.
watch_cpes()
{
	rx_start c1 cpe1 --dst "$SHARED" --all &&
		rx_start c2 cpe2 --dst "$SHARED" --all
}

send_n()
{
	send_from rt1 --dst "$SHARED" --repeat "$N" --quiet "$@"
}

test_no_port()
{
	local before

	add_both_cpes || return
	before=$(prr_stats)
	watch_cpes || return
	send_n --proto gre || return
	send_n --proto 50 || return			# ESP
	send_n --proto 51 || return			# AH
	rx_stop
	ktap_expect "GRE, ESP and AH to $SHARED: drop_no_port, nothing else" \
		"drop_no_port=$((3 * N))" "$(stats_moved "$before")"
	ktap_expect "... and no CPE receives them" "0 0" \
		"$(rx_count c1) $(rx_count c2)"

	# a default entry (port-mask 0) receives what has no port
	prr_add port-value 0 port-mask 0 via "$CPE2_ADDR" || return
	before=$(prr_stats)
	watch_cpes || return
	send_n --proto gre --tag 101 || return
	send_n --proto 50 --tag 201 || return
	rx_stop
	ktap_expect "with a port-mask 0 entry (CPE-2), GRE and ESP reach CPE-2, none CPE-1" \
		"forwarded=$((2 * N)) 0 $((2 * N))" \
		"$(stats_moved "$before") $(rx_count c1) $(rx_count c2)"
}

timed_out()
{
	[ "$(kstats_moved "$1" prr IpReasmTimeout)" = "IpReasmTimeout=$2" ]
}

# Fragments with no complete datagram: the PRR's kernel reassembles before
# prr's hook, so they wait there and time out; prr never sees them.
test_fragments()
{
	local before kb kt names="IpReasmReqds IpReasmOKs IpReasmFails IpReasmTimeout"

	add_both_cpes || return
	step "reassembly timeout 1 s in the PRR" ns_sysctl "$NS_PRR" \
		net.ipv4.ipfrag_time=1 || return
	before=$(prr_stats)
	# shellcheck disable=SC2086 # names
	kb=$(kstat prr $names)
	kt=$(kstat prr IpReasmTimeout)
	watch_cpes || return
	# first fragments (ports visible), middle and last fragments, each
	# of its own datagram (distinct tags, distinct IP IDs)
	send_n --proto udp --ports "$P1" --mf --size 1000 --tag 1 || return
	send_n --proto udp --ports "$P1" --mf --frag-off 976 --size 1000 \
		--tag 101 || return
	send_n --proto udp --ports "$P1" --frag-off 1952 --tag 201 || return
	send_n --proto tcp --ports "$P2" --mf --tag 301 || return
	ktap_check "lone fragments: the PRR's reassembly times out on all $((4 * N)) (ipfrag_time 1 s)" \
		wait_until 15 timed_out "$kt" $((4 * N))
	rx_stop
	ns_sysctl "$NS_PRR" net.ipv4.ipfrag_time=30
	# shellcheck disable=SC2086 # names
	ktap_expect "lone fragments to $SHARED: held and dropped by the kernel's reassembly" \
		"IpReasmFails=$((4 * N)) IpReasmReqds=$((4 * N)) IpReasmTimeout=$((4 * N))" \
		"$(kstats_moved "$kb" prr $names)"
	ktap_expect "... never reaching prr: no prr counter moves" \
		"" "$(stats_moved "$before")"
	ktap_expect "... and no CPE receives them" "0 0" \
		"$(rx_count c1) $(rx_count c2)"

	before=$(prr_stats)
	rx_start c1 cpe1 --dst "$SHARED" || return
	send_n --proto udp --ports "$P1" --df --size 1000 || return
	rx_stop
	ktap_expect "DF alone is no fragment: forwarded" \
		"forwarded=$N $N" "$(stats_moved "$before") $(rx_count c1)"
}

test_malformed()
{
	local before t kinds=0

	add_both_cpes || return
	before=$(prr_stats)
	watch_cpes || return
	for t in udp:0 udp:4 udp:7 udplite:7 tcp:4 tcp:19 sctp:4 sctp:11 \
		 dccp:4 dccp:11; do
		send_n --proto "${t%:*}" --ports "$P1" --trunc "${t#*:}" ||
			return
		kinds=$((kinds + 1))
	done
	rx_stop
	ktap_expect "truncated UDP/UDP-Lite (<8), TCP (<20), SCTP/DCCP (<12): drop_malformed, nothing else" \
		"drop_malformed=$((kinds * N))" "$(stats_moved "$before")"
	ktap_expect "... and no CPE receives them" "0 0" \
		"$(rx_count c1) $(rx_count c2)"

	before=$(prr_stats)
	rx_start c1 cpe1 --dst "$SHARED" --all || return
	send_n --proto udp --ports "$P1" --trunc 8 || return
	send_n --proto tcp --ports "$P1" --trunc 20 || return
	rx_stop
	ktap_expect "bare 8-byte UDP and 20-byte TCP headers are complete: forwarded" \
		"forwarded=$((2 * N)) $((2 * N))" \
		"$(stats_moved "$before") $(rx_count c1)"
}

test_action_drop()
{
	local before

	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" || return
	prr_add port-value 0x1000 port-mask 0x1400 drop || return
	before=$(prr_stats)
	watch_cpes || return
	send_n --proto udp --ports "$P2,$((P2 + 1))" || return
	send_n --proto tcp --ports "$P1" || return
	rx_stop
	ktap_expect "action drop: drop_policy counts its packets, the other entry still forwards" \
		"drop_policy=$((2 * N)) forwarded=$N" "$(stats_moved "$before")"
	ktap_expect "action drop: CPE-2 receives nothing, CPE-1 its own" \
		"0 $N" "$(rx_count c2) $(rx_count c1)"
	ktap_expect "action drop: the entry counts its packets" \
		$((2 * N)) "$(prr_entry 0x1000 0x1400 packets)"
}

# Counter of the nft rule carrying COMMENT in the PRR's table ip prrtest.
nft_counter()
{
	ns_exec "$NS_PRR" nft -j list table ip prrtest |
		jq -r --arg c "$1" '.nftables[] | select(.rule.comment? == $c) |
			.rule.expr[] | select(.counter) | .counter.packets'
}

# action local: the packet goes on through the PRR's own routing, here a
# plain route for the shared address towards CPE-2, then to a local address.
test_action_local()
{
	local before out

	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" || return
	prr_add port-value 0x1000 port-mask 0x1400 local || return
	step "route $SHARED via CPE-2 in the PRR" \
		ip -n "$NS_PRR" route add "$SHARED/32" via "$CPE2_ADDR" || return
	before=$(prr_stats)
	rx_start c1 cpe1 --dst "$SHARED" || return
	rx_start c2 cpe2 --dst "$SHARED" || return
	send_n --proto udp --ports "$P2" || return
	send_n --proto udp --ports "$P1" || return
	rx_stop
	ip -n "$NS_PRR" route del "$SHARED/32"
	ktap_expect "action local: local counts its packets, the via entry forwards its own" \
		"forwarded=$N local=$N" "$(stats_moved "$before")"
	ktap_expect "action local: the PRR's own route (to CPE-2) delivers them, TTL 63" \
		"udp $P2 x$N 63" \
		"$(rx_pkts c2 | uniq -c | awk '{ print $2, $3 " x" $1 }') $(rx_ttls c2)"
	ktap_expect "action local: CPE-1 receives only its own port" \
		"udp $P1 x$N" "$(rx_pkts c1 | uniq -c | awk '{ print $2, $3 " x" $1 }')"
	ktap_expect "action local: the entry counts its packets" \
		"$N" "$(prr_entry 0x1000 0x1400 packets)"

	# the shared address on the PRR itself: local delivery
	step "$SHARED on the PRR's lo" \
		ip -n "$NS_PRR" addr add "$SHARED/32" dev lo || return
	if ! out=$(ns_exec "$NS_PRR" nft -f - 2>&1 <<-EOF
	table ip prrtest {
		chain c_input {
			type filter hook input priority filter;
			ip daddr $SHARED udp dport $P2 counter comment "input"
		}
	}
	EOF
	); then
		ktap_fail "nftables in the PRR namespace" "$out"
		ip -n "$NS_PRR" addr del "$SHARED/32" dev lo
		return
	fi
	before=$(prr_stats)
	rx_start c2 cpe2 --dst "$SHARED" || return
	send_n --proto udp --ports "$P2" || return
	rx_stop
	ktap_expect "action local with $SHARED on the PRR: its INPUT hook gets them, no CPE does" \
		"$N 0 local=$N" \
		"$(nft_counter input) $(rx_count c2) $(stats_moved "$before")"
	ns_exec "$NS_PRR" nft delete table ip prrtest
	ip -n "$NS_PRR" addr del "$SHARED/32" dev lo
}

topo_require
if topo_create links; then
	run_test test_no_port
	run_test test_fragments
	run_test test_malformed
	run_test test_action_drop
	run_test test_action_local
	topo_destroy
else
	ktap_fail "build the testbed"
fi
ktap_finish
