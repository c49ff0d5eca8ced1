#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prr's CPE role, outbound: both CPEs of the seed draft's testbed translate
# their LAN into their own port set with prr (lib/cpe.sh): CPE-1 a
# non-contiguous mask, CPE-2 a MAP-style set of 15 pieces.  T1 and T2 open
# real TCP connections (handshake and echoed data), UDP flows (echoed),
# pings (tagged echo requests with distinct Identifiers, and ping(8)) to
# RT1, which must see every source port and Identifier inside the sending
# CPE's set and spread over it (every block, fair shares, every free bit);
# the replies reach T1/T2 translated back.  UDP-Lite is translated too
# where conntrack can track it, dropped otherwise, never sent untranslated.
# Separate links, 200 flows of each kind.  (The shared L2 segment, where
# the PRR validates sources by MAC address, is prr_cpe_hairpin.sh's: the
# bulk flows would not fit its time there.)

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"
. "$SELFTESTS/lib/cpe.sh"

UDP_BASE=20000		# RT1 echoes UDP on UDP_BASE.. UDP_BASE + flows - 1
TCP_PORT=80		# RT1's TCP echo service

# echo_report NAME FLOWS: "REPLIES MISSING" of the tagged echo replies from
# RT1 in capture NAME: Identifiers 1..FLOWS expected, each once.
echo_report()
{
	awk -v r="$RT1_ADDR" -v n="$2" '
	$1 == "pkt" && $2 == "icmp" && $7 == r && $9 != "-" {
		replies++
		id[$3]++
	}
	END {
		for (i = 1; i <= n; i++)
			if (id[i] != 1)
				missing++
		print replies + 0, missing + 0
	}' "$TOPO_DIR/$1.out"
}

# accepted NAME: distinct peer ports of the connections server NAME
# accepted from $SHARED.
accepted()
{
	awk -v s="$SHARED" '$1 == "accept" && $3 == s && !seen[$4]++ { n++ }
		END { print n + 0 }' "$TOPO_DIR/$1.out"
}

# check_spread V N TOTAL DISTINCT BLOCKS MIN MAX BITS: the ports CPE N gave
# its TOTAL flows are spread over its set.  Asserted for 400 flows and
# more, where a miss by chance is below 1e-6.
check_spread()
{
	local v=$1 n=$2 total=$3 distinct=$4 blocks=$5 min=$6 max=$7 bits=$8
	local want free fair

	if [ "$n" -eq 1 ]; then
		want=16			# blocks of 1024: bits 10 and 12 fixed
		free=0xebff
	else
		want=15			# A = 1..15
		free=0xf3ff
	fi
	bits=$(printf '0x%04x' "$bits")
	ktap_diag "T$n via CPE-$n: $total flows, $distinct distinct ports, $blocks of $want blocks hit, flows per block min $min max $max, varying bits $bits"
	[ "$total" -ge 400 ] || return 0
	fair=$((total / want))
	ktap_check "[$v] T$n: the flows' ports repeat little: $distinct distinct of $total (>= 90%)" \
		test $((distinct * 10)) -ge $((total * 9))
	ktap_expect "[$v] T$n: every block of CPE-$n's set is used" \
		"$want" "$blocks"
	ktap_check "[$v] T$n: no block gets under 1/4 or over twice its share ($fair): min $min max $max" \
		test "$min" -ge $((fair / 4)) -a "$max" -le $((fair * 2))
	ktap_expect "[$v] T$n: exactly the free bits of CPE-$n's set vary" \
		"$free" "$bits"
}

# test_flows V N FLOWS: T$n opens FLOWS TCP connections, FLOWS UDP flows,
# FLOWS tagged pings and one ping(8) to RT1 through CPE-$n.
test_flows()
{
	local v=$1 n=$2 flows=$3 host=t$2 udp before_cpe before_prr
	local ping_out other pkts nout out total distinct blocks min max bits

	udp=$UDP_BASE-$((UDP_BASE + flows - 1))
	before_cpe=$(counters "cpe$n")
	before_prr=$(counters prr)
	serve_start s1 rt1 --tcp "$TCP_PORT" --udp "$udp" || return
	rx_start r1 rt1 --all || return
	rx_start h "$host" --dst "$(node_addr "$host")" --proto icmp || return
	connect_from tcp "$host" --dst "$RT1_ADDR" --proto tcp \
		--ports "$TCP_PORT" --repeat "$flows" --timeout 60000 || return
	connect_from udp "$host" --dst "$RT1_ADDR" --proto udp --ports "$udp" \
		--timeout 60000 --retry 5000 || return
	send_from "$host" --dst "$RT1_ADDR" --proto icmp --ports "1-$flows" \
		--tag 5000 --quiet || return
	ping_out=$(in_node "$host" ping -c 2 -i 0.2 -w 15 "$RT1_ADDR" 2>&1)
	rx_stop

	ktap_expect "[$v] T$n: $flows TCP connections to RT1 complete, data echoed (through CPE-$n's NAT)" \
		"$flows $flows" "$(conn_summary tcp)"
	ktap_expect "[$v] T$n: RT1 accepted them from $SHARED, each from its own port" \
		"$flows" "$(accepted s1)"
	ktap_expect "[$v] T$n: $flows UDP flows (one per RT1 port) echoed back to T$n" \
		"$flows $flows" "$(conn_summary udp)"
	ktap_expect "[$v] T$n: echo replies for Identifiers 1-$flows reach T$n with their own Identifier, once each" \
		"$flows 0" "$(echo_report h "$flows")"
	if [[ $ping_out == *" 2 received"* ]]; then
		ktap_ok "[$v] T$n: ping RT1 succeeds"
	else
		ktap_fail "[$v] T$n: ping RT1 succeeds" "$ping_out"
	fi

	# shellcheck disable=SC2046 # one word per piece
	read -r other pkts nout out total distinct blocks min max bits \
		<<<"$(flow_report r1 $((n == 1 ? 10 : 12)) $(cpe_sets "$n"))"
	ktap_expect "[$v] T$n: RT1 receives nothing but from $SHARED" 0 "$other"
	ktap_expect "[$v] T$n: all $pkts packets RT1 got carry a port / Identifier of CPE-$n's set" \
		"0 -" "$nout $out"
	check_spread "$v" "$n" "$total" "$distinct" "$blocks" "$min" "$max" \
		"$bits"
	ktap_expect "[$v] T$n: CPE-$n counts nat_mapped for each new connection ($flows x 3 + 1), nothing else" \
		"nat_mapped=$((flows * 3 + 1))" "$(moved "cpe$n" "$before_cpe")"
	ktap_expect "[$v] T$n: the PRR validated and forwarded, dropped nothing" \
		"" "$(only_drops "$(moved prr "$before_prr")")"
}

# UDP-Lite: 6.1's conntrack finds every UDP-Lite datagram invalid unless
# its checksum check is off (README), so by default the NAT's guard drops
# them rather than let them leave with T1's address; with
# nf_conntrack_checksum=0, as the README says, they are translated.
test_udplite()
{
	local v=$1 before other pkts nout out

	before=$(counters cpe1)
	rx_start r1 rt1 --proto udplite --all || return
	send_from t1 --dst "$RT1_ADDR" --proto udplite --ports 30000-30019 \
		--tag 6000 --quiet || return
	rx_stop
	ktap_expect "[$v] UDP-Lite, conntrack checksums on: none of T1's 20 datagrams leaves (drop_nat_untranslated)" \
		"drop_nat_untranslated=20 / " \
		"$(moved cpe1 "$before") / $(pkt_fields r1 9)"

	step "[$v] CPE-1: nf_conntrack_checksum=0" ns_sysctl "$NS_CPE1" \
		net.netfilter.nf_conntrack_checksum=0 || return
	before=$(counters cpe1)
	rx_start r1 rt1 --proto udplite --all || return
	send_from t1 --dst "$RT1_ADDR" --proto udplite --ports 30020-30039 \
		--tag 6020 --quiet || return
	rx_stop
	ns_sysctl "$NS_CPE1" net.netfilter.nf_conntrack_checksum=1
	# shellcheck disable=SC2086 # one word per piece
	read -r other pkts nout out _ <<<"$(flow_report r1 10 $CPE1_SETS)"
	ktap_expect "[$v] UDP-Lite, conntrack checksums off: RT1 gets T1's 20 datagrams from $SHARED, none from $T1_ADDR" \
		"20 0" "$pkts $other"
	ktap_expect "[$v] UDP-Lite: ... with ports of CPE-1's set" "0 -" \
		"$nout $out"
	ktap_expect "[$v] UDP-Lite: CPE-1 counts 20 nat_mapped" \
		"nat_mapped=20" "$(moved cpe1 "$before")"
}

topo_require
cpe_testbed links || ktap_finish
cpe_test test_flows links 1 200
cpe_test test_flows links 2 200
cpe_test test_udplite links
topo_destroy
ktap_finish
