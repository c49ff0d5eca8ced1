#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prr's CPE role, between the CPEs and back in (lib/cpe.sh): the seed
# draft's Test_4 path, T1 reaching T2's service through T2's port forward
# on 192.0.2.1 (CPE-1 sends the port it does not own up to the PRR, which
# validates CPE-1's source port and routes to CPE-2), in both directions,
# UDP and TCP.  Separate links, then the shared L2 segment (the PRR
# validates the CPEs' sources by MAC address there).

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"
. "$SELFTESTS/lib/cpe.sh"

HAIRPIN1=1030		# CPE-1's port forward to T1 (in 0x0400/0x1400)
HAIRPIN2=4100		# CPE-2's port forward to T2 (in 0x1000/0xfc00)

# peer_report NAME SETS...: "PEERS OUTSIDE" of server NAME: how many
# connections and datagrams came from $SHARED, and how many of those from a
# port outside SETS.
peer_report()
{
	local name=$1

	shift
	awk -v s="$SHARED" -v sets="$(sets_decimal "$@")" "$PORTSET_AWK"'
		$3 == s { n++; if (!in_sets($4, sets)) out++ }
		END { print n + 0, out + 0 }' "$TOPO_DIR/$name.out"
}

# T1 -> T2's port forward and T2 -> T1's, 5 UDP flows and 5 TCP connections
# each way.  The port forwards stay until the testbed goes.
test_hairpin()
{
	local v=$1 before moved_udp moved_tcp fwd pkts nout out

	step "[$v] CPE-1 forwards $SHARED:$HAIRPIN1 to T1" \
		cpe_port_forward 1 "$HAIRPIN1" "$T1_ADDR" || return
	step "[$v] CPE-2 forwards $SHARED:$HAIRPIN2 to T2" \
		cpe_port_forward 2 "$HAIRPIN2" "$T2_ADDR" || return
	serve_start s1 t1 --tcp "$HAIRPIN1" --udp "$HAIRPIN1" || return
	serve_start s2 t2 --tcp "$HAIRPIN2" --udp "$HAIRPIN2" || return
	rx_start c1 cpe1 --src "$SHARED" --dst "$SHARED" --all || return
	rx_start c2 cpe2 --src "$SHARED" --dst "$SHARED" --all || return
	before=$(counters prr)
	connect_from u12 t1 --dst "$SHARED" --proto udp --ports "$HAIRPIN2" \
		--repeat 5 --retry 10000 --timeout 20000 --tag 100 || return
	connect_from u21 t2 --dst "$SHARED" --proto udp --ports "$HAIRPIN1" \
		--repeat 5 --retry 10000 --timeout 20000 --tag 200 || return
	moved_udp=$(moved prr "$before")
	before=$(counters prr)
	connect_from t12 t1 --dst "$SHARED" --proto tcp --ports "$HAIRPIN2" \
		--repeat 5 --timeout 20000 --tag 300 || return
	connect_from t21 t2 --dst "$SHARED" --proto tcp --ports "$HAIRPIN1" \
		--repeat 5 --timeout 20000 --tag 400 || return
	moved_tcp=$(moved prr "$before")
	rx_stop

	ktap_expect "[$v] hairpin: T1 -> $SHARED:$HAIRPIN2 (T2's port forward), 5 UDP flows echoed" \
		"5 5" "$(conn_summary u12)"
	ktap_expect "[$v] hairpin: T2 -> $SHARED:$HAIRPIN1 (T1's port forward), 5 UDP flows echoed" \
		"5 5" "$(conn_summary u21)"
	ktap_expect "[$v] hairpin: T1 -> $SHARED:$HAIRPIN2, 5 TCP connections, data echoed" \
		"5 5" "$(conn_summary t12)"
	ktap_expect "[$v] hairpin: T2 -> $SHARED:$HAIRPIN1, 5 TCP connections, data echoed" \
		"5 5" "$(conn_summary t21)"
	ktap_expect "[$v] hairpin: the PRR validated and forwarded each UDP datagram and echo (20), nothing else" \
		"forwarded=20 validated=20" "$moved_udp"
	fwd=${moved_tcp#*forwarded=}
	fwd=${fwd%% *}
	ktap_expect "[$v] hairpin: TCP: the PRR validated and forwarded every segment, dropped none" \
		"forwarded=$fwd validated=$fwd" "$moved_tcp"

	# At each CPE's wan0, from $SHARED: the other CPE's packets, new ones
	# and replies, all with a source port of the other CPE's set.
	# shellcheck disable=SC2086 # one word per piece
	read -r _ pkts nout out _ <<<"$(flow_report c2 10 $CPE1_SETS)"
	ktap_check "[$v] hairpin: CPE-2's wan0 got CPE-1's packets from $SHARED to $SHARED ($pkts)" \
		test "$pkts" -ge 40
	ktap_expect "[$v] hairpin: ... all with a source port of CPE-1's set" \
		"0 -" "$nout $out"
	# shellcheck disable=SC2086
	read -r _ pkts nout out _ <<<"$(flow_report c1 12 $CPE2_SETS)"
	ktap_check "[$v] hairpin: CPE-1's wan0 got CPE-2's packets from $SHARED to $SHARED ($pkts)" \
		test "$pkts" -ge 40
	ktap_expect "[$v] hairpin: ... all with a source port of CPE-2's set" \
		"0 -" "$nout $out"
	# shellcheck disable=SC2086
	ktap_expect "[$v] hairpin: T2's service saw 10 peers $SHARED, none from a port outside CPE-1's set" \
		"10 0" "$(peer_report s2 $CPE1_SETS)"
	# shellcheck disable=SC2086
	ktap_expect "[$v] hairpin: T1's service saw 10 peers $SHARED, none from a port outside CPE-2's set" \
		"10 0" "$(peer_report s1 $CPE2_SETS)"
}

topo_require
for variant in links bridge; do
	cpe_testbed "$variant" || continue
	cpe_test test_hairpin "$variant"
	topo_destroy
done
ktap_finish
