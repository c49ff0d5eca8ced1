#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prr and ICMP (issue 3).  Echo requests to the shared address are routed
# by their Identifier (RFC 7596 §8.1, RFC 7597 §8.2); ICMP errors by the
# source port (or Identifier) of the datagram they quote, found as RFC 5508
# §4.1 REQ-3 says (embedded IP options skipped, a quote of header + 8 bytes
# is enough).  Checked end to end with what subscribers run: ping through
# stock nftables NAT on the CPEs, a traceroute's probes (the PRR is a
# visible hop), path MTU discovery across a lower-MTU link behind RT1 (the
# far router's "fragmentation needed" reaches CPE-1 only, and CPE-1's NAT
# hands it to T1, whose route cache learns the MTU); errors crafted at RT1;
# and the PRR's own errors about a subscriber's packets.  Both testbed
# variants for what crosses the CPE side's link layer both ways (echo,
# ping through NAT), separate links for the rest.

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"
. "$SELFTESTS/lib/craft.sh"

# Contiguous halves, as stock NAT on the CPEs needs: CPE-1 0-32767 (its NAT
# uses 1024-32767), CPE-2 32768-65535.
NAT1=1024-32767
NAT2=32768-65535
IDS1="0,1,1024,32767"		# Identifiers in CPE-1's half
IDS2="32768,40000,65535"	# in CPE-2's half
P1=20000			# a port of CPE-1
P2=50000			# a port of CPE-2
ID1=1234
ID2=45678
FAR_ADDR=198.18.0.2		# behind RT1, over an MTU 1280 link
RT1_FAR_ADDR=198.18.0.1

add_both_cpes()
{
	prr_add port-value 0x0000 port-mask 0x8000 via "$CPE1_ADDR" &&
		prr_add port-value 0x8000 port-mask 0x8000 via "$CPE2_ADDR"
}

# "CPE-1 CPE-2": the packet counters of both entries (one prrctl call).
entry_packets()
{
	prr_ctl show | awk '
		/ port-value 0x0000 port-mask 0x8000 / { a = $(NF - 2) }
		/ port-value 0x8000 port-mask 0x8000 / { b = $(NF - 2) }
		END { print a, b }'
}

# The value of one counter's move in craft_prr_moved's output (0 if none).
moved_of()
{
	local kv

	for kv in $1; do
		[ "${kv%%=*}" != "$2" ] || { echo "${kv#*=}"; return; }
	done
	echo 0
}

# Number of echo replies a `ping -q` summary reports.
ping_received()
{
	sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$1"
}

nat_off()
{
	in_node cpe1 nft delete table ip cpe 2>/dev/null
	in_node cpe2 nft delete table ip cpe 2>/dev/null
}

nat_on()
{
	step "stock nftables NAT on CPE-1 ($SHARED:$NAT1, echo to T1)" \
		cpe_nat cpe1 "$NAT1" "$T1_ADDR" &&
	step "stock nftables NAT on CPE-2 ($SHARED:$NAT2, echo to T2)" \
		cpe_nat cpe2 "$NAT2" "$T2_ADDR"
}

# Echo requests from RT1 reach the CPE owning their Identifier; the CPE's
# replies (source $SHARED, same Identifier) pass source validation.
test_echo_by_identifier()
{
	local v=$1

	add_both_cpes || return
	craft_snap t || return
	rx_start c1 cpe1 --dst "$SHARED" --proto icmp || return
	rx_start c2 cpe2 --dst "$SHARED" --proto icmp || return
	rx_start r1 rt1 --src "$SHARED" --proto icmp || return
	send_from rt1 --dst "$SHARED" --proto icmp --ports "$IDS1" --tag 100 \
		--quiet || return
	send_from rt1 --dst "$SHARED" --proto icmp --ports "$IDS2" --tag 200 \
		--quiet || return
	rx_stop
	ktap_expect "[$v] echo requests with Identifiers $IDS1 reach CPE-1, and only those" \
		"100 101 102 103" "$(rx_tags c1)"
	ktap_expect "[$v] echo requests with Identifiers $IDS2 reach CPE-2, and only those" \
		"200 201 202" "$(rx_tags c2)"
	ktap_expect "[$v] every CPE's echo reply (from $SHARED) gets back to RT1" \
		"100 101 102 103 200 201 202" "$(rx_tags r1)"
	ktap_expect "[$v] 7 requests forwarded by Identifier, 7 replies validated" \
		"forwarded=7 validated=7" "$(craft_prr_moved t)"
	ktap_expect "[$v] entry counters: 4 for CPE-1, 3 for CPE-2" \
		"4 3" "$(entry_packets)"
}

# ping from T1/T2 out through their CPEs' NAT, and from RT1 in to them.
test_ping_through_nat()
{
	local v=$1 out1 out2 in1 in2

	add_both_cpes || return
	nat_on || return
	craft_snap t || return
	rx_start t1 t1 --dst "$T1_ADDR" --proto icmp || return
	rx_start t2 t2 --dst "$T2_ADDR" --proto icmp || return
	# Each host picks an Identifier of the other CPE's half: its NAT must
	# map it into its own, or the replies would go astray.
	out1=$(in_node t1 ping -c 3 -i 0.2 -w 15 -e "$ID2" -q "$RT1_ADDR" 2>&1)
	out2=$(in_node t2 ping -c 3 -i 0.2 -w 15 -e "$ID1" -q "$RT1_ADDR" 2>&1)
	# 'prr!' and tags 0x501, 0x502 in the padding, for prr_probe.
	in1=$(in_node rt1 ping -c 2 -i 0.2 -w 15 -e "$ID1" \
		-p 7072722100000501 -q "$SHARED" 2>&1)
	in2=$(in_node rt1 ping -c 2 -i 0.2 -w 15 -e "$ID2" \
		-p 7072722100000502 -q "$SHARED" 2>&1)
	rx_stop
	nat_off
	ktap_expect "[$v] ping T1 -> RT1 (Identifier $ID2, NATed by CPE-1): 3 replies" \
		3 "$(ping_received "$out1")"
	ktap_expect "[$v] ping T2 -> RT1 (Identifier $ID1, NATed by CPE-2): 3 replies" \
		3 "$(ping_received "$out2")"
	ktap_expect "[$v] ping RT1 -> $SHARED Identifier $ID1: 2 replies, T1 (behind CPE-1) got the requests" \
		"2 1281 1281" "$(ping_received "$in1") $(rx_tags t1)"
	ktap_expect "[$v] ping RT1 -> $SHARED Identifier $ID2: 2 replies, T2 (behind CPE-2) got the requests" \
		"2 1282 1282" "$(ping_received "$in2") $(rx_tags t2)"
	ktap_expect "[$v] routed by the mapped Identifiers: 3 + 2 packets to each CPE's entry" \
		"5 5" "$(entry_packets)"
	ktap_expect "[$v] 10 forwarded in, 10 validated out" \
		"forwarded=10 validated=10" "$(craft_prr_moved t)"
}

# The testbed keeps the CPEs from answering with port unreachable (see
# topo_quiet_cpe); a traceroute needs them to.
cpes_answer()
{
	in_node cpe1 nft delete table ip prrtopo &&
		in_node cpe2 nft delete table ip prrtopo
}

cpes_quiet()
{
	topo_quiet_cpe "$NS_CPE1" && topo_quiet_cpe "$NS_CPE2"
}

# A traceroute's UDP probes: TTL 1 dies at the PRR (it shows as a hop), TTL 2
# reaches the owner CPE, whose port unreachable ends the trace.
test_traceroute()
{
	local v=$1 want

	add_both_cpes || return
	step "[$v] the CPEs answer with port unreachable" cpes_answer || return
	craft_snap t || return
	rx_start c1 cpe1 --dst "$SHARED" --proto udp || return
	rx_start c2 cpe2 --dst "$SHARED" --proto udp || return
	rx_start r1 rt1 --proto icmp || return
	send_from rt1 --dst "$SHARED" --proto udp --ports "$P1,$P2" --ttl 1 \
		--tag 10 --quiet || return
	send_from rt1 --dst "$SHARED" --proto udp --ports "$P1,$P2" --ttl 2 \
		--tag 20 --quiet || return
	rx_stop
	cpes_quiet
	want=$(printf '%s\n' \
		"11 0 0 $PRR_RT1_ADDR $RT1_ADDR udp 40000 $P1 $SHARED 10" \
		"11 0 0 $PRR_RT1_ADDR $RT1_ADDR udp 40000 $P2 $SHARED 11" \
		"3 3 0 $SHARED $RT1_ADDR udp 40000 $P1 $SHARED 20" \
		"3 3 0 $SHARED $RT1_ADDR udp 40000 $P2 $SHARED 21" | sort)
	expect_lines "[$v] traceroute: TTL 1 -> time exceeded from the PRR ($PRR_RT1_ADDR), TTL 2 -> port unreachable from $SHARED" \
		"$want" "$(rx_icmp_lines r1)"
	ktap_expect "[$v] the TTL 2 probes reach their owners only (CPE-1: $P1, CPE-2: $P2)" \
		"20 / 21" "$(rx_tags c1) / $(rx_tags c2)"
	ktap_expect "[$v] both CPEs' port unreachable errors pass source validation" \
		2 "$(moved_of "$(craft_prr_moved t)" validated)"
}

# A router namespace behind RT1 over an MTU 1280 link.
far_router()
{
	local far

	topo_add_ns far || return 1
	far=$TOPO_NEW_NS
	step "MTU 1280 link RT1 <-> far router" ip link add name far0 \
		netns "$NS_RT1" mtu 1280 type veth peer name eth0 \
		netns "$far" mtu 1280 || return 1
	step "far router addresses" ns_batch "$NS_RT1" <<-EOF || return 1
	link set far0 addrgenmode none
	addr add $RT1_FAR_ADDR/24 dev far0
	link set far0 up
	EOF
	step "far host" topo_host "$far" "$FAR_ADDR" "$RT1_FAR_ADDR" ||
		return 1
	step "RT1 routes" ns_sysctl "$NS_RT1" net.ipv4.ip_forward=1 \
		net.ipv4.icmp_ratelimit=0 || return 1
	step "the PRR's route to the far network" ip -n "$NS_PRR" route add \
		"${FAR_ADDR%.*}.0/24" via "$RT1_ADDR" || return 1
}

pmtu_learnt()
{
	in_node t1 ip route get "$FAR_ADDR" | grep -q 'mtu 1280'
}

# Path MTU discovery through CPE-1's NAT: the far router's error quotes
# $SHARED:<NAT port>, prr routes it to CPE-1, which de-NATs it for T1.
test_pmtu()
{
	local v=$1 want

	add_both_cpes || return
	far_router || return
	nat_on || return
	craft udp_open t1 "$NS_T1" "connect=$FAR_ADDR:7" df=1 || return
	craft_snap t || return
	rx_start c1 cpe1 --dst "$SHARED" --proto icmp || return
	rx_start c2 cpe2 --all || return
	rx_start t1 t1 --dst "$T1_ADDR" --proto icmp || return
	# 1400 bytes with DF: too big for the far link
	craft udp_send t1 1372 tag=77 >/dev/null || return
	wait_until 10 test -s "$TOPO_DIR/t1.out"
	rx_stop
	want="3 4 1280 $RT1_ADDR udp $FAR_ADDR 77"
	ktap_expect "[$v] PMTU: the far router's fragmentation needed (mtu 1280) for $SHARED reaches CPE-1" \
		"$want" \
		"$(rx_icmp_lines c1 | awk '{ print $1, $2, $3, $4, $6, $9, $10 }')"
	ktap_expect "[$v] PMTU: CPE-2 receives nothing" 0 "$(rx_lines c2)"
	ktap_expect "[$v] PMTU: CPE-1's NAT hands it to T1, quoting T1's own datagram" \
		"3 4 1280 $T1_ADDR udp 7 $FAR_ADDR 77" \
		"$(rx_icmp_lines t1 | awk '{ print $1, $2, $3, $5, $6, $8, $9, $10 }')"
	ktap_check "[$v] PMTU: T1's route cache holds mtu 1280 for $FAR_ADDR" \
		wait_until 5 pmtu_learnt
	ktap_expect "[$v] PMTU: T1's socket knows path MTU 1280 and refuses 1400 bytes with DF" \
		"1280 EMSGSIZE" \
		"$(craft udp_mtu t1) $(craft udp_send t1 1372)"
	ktap_expect "[$v] PMTU: T1's datagram validated, the error forwarded" \
		"forwarded=1 validated=1" "$(craft_prr_moved t)"
	craft close t1
	nat_off
}

# ICMP errors crafted at RT1 (as if from routers .11-.17 / .21-.27 of its
# network) about datagrams $SHARED sent: the quoted source port (or
# Identifier) picks the CPE.  Quotes of IP header + 8 bytes, with and
# without IP options in the quoted header, and one whole datagram.
ERROR_CASES=(
	"1 udp type=3 code=3 qproto=udp"
	"2 udp type=3 code=3 qproto=udp qopts=1"
	"3 tcp type=11 code=0 qproto=tcp"
	"4 tcp type=11 code=0 qproto=tcp qopts=1"
	"5 icmp type=3 code=1 qproto=icmp"
	"6 icmp type=3 code=1 qproto=icmp qopts=1"
	"7 udp type=3 code=3 qproto=udp qlen=all qsize=300 qtag=4242"
)

# "SRC IPROTO ISPORT ITAG" lines a CPE should see for CPE N.
crafted_want()
{
	local n=$1 port=$2 c k proto tag

	for c in "${ERROR_CASES[@]}"; do
		read -r k proto _ <<<"$c"
		tag=-
		[ "$k" -ne 7 ] || tag=4242
		if [ "$proto" = icmp ]; then
			echo "198.51.100.$n$k icmp - $tag"
		else
			echo "198.51.100.$n$k $proto $port $tag"
		fi
	done | sort
}

send_crafted_errors()
{
	local n=$1 port=$2 ident=$3 c k proto keys which

	for c in "${ERROR_CASES[@]}"; do
		read -r k proto keys <<<"$c"
		which="qsport=$port qdport=53"
		[ "$proto" != icmp ] || which="qident=$ident"
		# shellcheck disable=SC2086 # keys are words
		craft_send rt1 1 icmperr "src=198.51.100.$n$k" "dst=$SHARED" \
			"qsrc=$SHARED" "qdst=$RT2_ADDR" $which $keys \
			>/dev/null || return 1
	done
}

test_crafted_errors()
{
	local v=$1 n=${#ERROR_CASES[@]}

	add_both_cpes || return
	craft_snap t || return
	rx_start c1 cpe1 --dst "$SHARED" --proto icmp || return
	rx_start c2 cpe2 --dst "$SHARED" --proto icmp || return
	send_crafted_errors 1 "$P1" "$ID1" || return
	send_crafted_errors 2 "$P2" "$ID2" || return
	rx_stop
	expect_lines "[$v] errors quoting UDP, TCP, echo of $SHARED:$P1 / Identifier $ID1 (with and without quoted IP options, 8 bytes or whole) reach CPE-1" \
		"$(crafted_want 1 "$P1")" \
		"$(rx_icmp_lines c1 | awk '{ print $4, $6, $7, $10 }' | sort)"
	expect_lines "[$v] the same for $SHARED:$P2 / Identifier $ID2 reach CPE-2" \
		"$(crafted_want 2 "$P2")" \
		"$(rx_icmp_lines c2 | awk '{ print $4, $6, $7, $10 }' | sort)"
	ktap_expect "[$v] all $((2 * n)) forwarded, $n per entry" \
		"forwarded=$((2 * n)) / $n $n" \
		"$(craft_prr_moved t) / $(entry_packets)"
}

# The PRR's own ICMP errors about T1's (NATed) packets: time exceeded when
# the TTL dies at the PRR, fragmentation needed when the PRR's link to RT1
# is too small.  They are addressed to $SHARED and leave through prr's
# LOCAL_OUT hook.  The kernel needs some route to $SHARED to send them at all
# (icmp_send looks one up before the hook runs): a real PRR has its
# upstream default route, given here via RT1.
test_prr_own_errors()
{
	local v=$1 want

	add_both_cpes || return
	nat_on || return
	step "the PRR's default route via RT1" ip -n "$NS_PRR" route add \
		default via "$RT1_ADDR" || return
	step "MTU 1280 on the PRR's link to RT1" ip -n "$NS_PRR" link set \
		dev rt1 mtu 1280 || return
	craft_snap t || return
	rx_start c1 cpe1 --dst "$SHARED" --proto icmp || return
	rx_start c2 cpe2 --all || return
	rx_start t1 t1 --dst "$T1_ADDR" --proto icmp || return
	send_from t1 --dst "$RT1_ADDR" --proto udp --ports 7 --sport "$P1" \
		--ttl 2 --tag 31 --quiet || return
	send_from t1 --dst "$RT1_ADDR" --proto udp --ports 7 --sport "$P1" \
		--df --size 1400 --tag 32 --quiet || return
	rx_stop
	ip -n "$NS_PRR" link set dev rt1 mtu 1500
	ip -n "$NS_PRR" route del default
	nat_off
	want=$(printf '%s\n' "11 0 0 $SHARED 31" "3 4 1280 $SHARED 32" | sort)
	expect_lines "[$v] the PRR's time exceeded and fragmentation needed (mtu 1280) for $SHARED reach CPE-1" \
		"$want" "$(rx_icmp_lines c1 | awk '{ print $1, $2, $3, $5, $10 }')"
	ktap_expect "[$v] CPE-2 receives nothing" 0 "$(rx_lines c2)"
	expect_lines "[$v] CPE-1's NAT hands both to T1, quoting T1's datagrams (port $P1)" \
		"$(printf '%s\n' "11 0 0 $T1_ADDR $P1 31" "3 4 1280 $T1_ADDR $P1 32" |
			sort)" \
		"$(rx_icmp_lines t1 | awk '{ print $1, $2, $3, $5, $7, $10 }')"
	ktap_expect "[$v] T1's 2 packets validated, the PRR's 2 errors forwarded" \
		"forwarded=2 validated=2" "$(craft_prr_moved t)"
}

craft_start
topo_require
for variant in links bridge; do
	if ! topo_create "$variant"; then
		ktap_fail "[$variant] build the testbed"
		continue
	fi
	ns_sysctl "$NS_CPE1" net.ipv4.icmp_ratelimit=0
	ns_sysctl "$NS_CPE2" net.ipv4.icmp_ratelimit=0
	run_test test_echo_by_identifier "$variant"
	run_test test_ping_through_nat "$variant"
	# the rest does not depend on the link layer (the two tests above
	# cover validation by MAC address on the shared segment)
	if [ "$variant" = links ]; then
		run_test test_prr_own_errors "$variant"
		run_test test_traceroute "$variant"
		run_test test_crafted_errors "$variant"
		run_test test_pmtu "$variant"
	fi
	topo_destroy
done
ktap_finish
