#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prr and fragments (issue 3; RFC 6346 §5.3.3, RFC 7597 §8.3.2): the PRR's
# kernel reassembles fragmented datagrams before prr looks up the port
# (nf_defrag_ipv4, which prr enables in its namespaces), and re-fragments
# them for the CPE link.  A 4000-byte UDP datagram in fragments - in order,
# reversed, with an 8-byte first fragment - reaches the socket on the owner
# CPE whole, also over an MTU 1280 link; DF survives (the sender gets
# fragmentation needed); overlapping fragments and fragments without their
# first one never get through, and the kernel's reassembly counters (nstat
# in the PRR's namespace) say why.  The link layer plays no part: separate
# links only.

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"
. "$SELFTESTS/lib/craft.sh"

P1=1024			# owned by CPE-1 (0x0400/0x1400)
REASM="IpReasmOKs IpReasmReqds IpReasmFails IpReasmTimeout IpExtReasmOverlaps"

add_both_cpes()
{
	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" &&
		prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR"
}

# UDP sockets on $SHARED:$P1 on both CPEs: CPE-1 owns the port, CPE-2 must
# never see a datagram for it.
open_sockets()
{
	craft udp_open s1 "$NS_CPE1" "bind=$SHARED:$P1" &&
		craft udp_open s2 "$NS_CPE2" "bind=$SHARED:$P1"
}

# Sends one 4000-byte datagram to $SHARED:$P1 in fragments from RT1.
send_frags()
{
	craft_send rt1 1 frags "dst=$SHARED" "dport=$P1" size=4000 "$@" \
		>/dev/null
}

# The largest IP total length a receiver saw.
rx_max_len()
{
	awk '$1 == "pkt" && $6 > m { m = $6 } END { print m + 0 }' \
		"$TOPO_DIR/$1.out"
}

test_reassembled()
{
	local got none

	add_both_cpes || return
	craft_snap frag || return
	rx_start c1 cpe1 --dst "$SHARED" --all || return
	rx_start c2 cpe2 --dst "$SHARED" --all || return
	send_frags tag=1 id=0x1100 || return
	send_frags tag=2 id=0x1200 order=rev || return
	send_frags tag=3 id=0x1300 first=8 || return
	got=$(craft_udp_recv s1 5000)
	none=$(craft_udp_recv s2 300)
	rx_stop
	ktap_expect "4000 bytes in 3 fragments in order, reversed, and with an 8-byte first fragment (the UDP header alone): CPE-1's socket receives all three whole" \
		"3 1:3972:ok 2:3972:ok 3:3972:ok" "$got"
	ktap_expect "CPE-2 receives none of it (socket, capture)" \
		"0 0" "$none $(rx_lines c2)"
	# shellcheck disable=SC2086 # names
	ktap_expect "the PRR's kernel reassembled the 10 fragments into 3 datagrams, prr forwarded each once" \
		"prr: forwarded=3 kernel: IpReasmOKs=3 IpReasmReqds=10" \
		"$(craft_moved frag $REASM)"
	ktap_check "what CPE-1 receives fits its 1500-byte link ($(rx_max_len c1) bytes at most)" \
		test "$(rx_max_len c1)" -le 1500 -a "$(rx_max_len c1)" -gt 0
}

# CPE-1's link has MTU 1280: the PRR re-fragments to fit, and a DF datagram
# too big for it gets fragmentation needed back.
test_small_link()
{
	local got

	add_both_cpes || return
	step "MTU 1280 towards CPE-1" topo_cpe_mtu 1 1280 || return
	craft_snap frag || return
	rx_start c1 cpe1 --dst "$SHARED" --all || return
	rx_start r1 rt1 --proto icmp || return
	send_frags tag=4 id=0x1400 || return
	send_from rt1 --dst "$SHARED" --proto udp --ports "$P1" --df \
		--size 1400 --tag 5 --quiet || return
	got=$(craft_udp_recv s1 5000)
	rx_stop
	topo_cpe_mtu 1 1500
	ktap_expect "MTU 1280: the 4000-byte datagram (1500-byte fragments) reaches CPE-1's socket whole" \
		"1 4:3972:ok" "$got"
	ktap_check "MTU 1280: re-fragmented to fit, CPE-1 sees $(rx_count c1) fragments of at most $(rx_max_len c1) bytes" \
		test "$(rx_max_len c1)" -le 1280 -a "$(rx_count c1)" -ge 4
	ktap_expect "MTU 1280: 1400 bytes with DF: RT1 gets fragmentation needed (mtu 1280) from the PRR, quoting it" \
		"3 4 1280 $PRR_RT1_ADDR $RT1_ADDR udp 40000 $P1 $SHARED 5" \
		"$(rx_icmp_lines r1)"
	ktap_expect "MTU 1280: prr handed both to the forwarding path, which re-fragmented one datagram and refused the DF one" \
		"prr: forwarded=2 kernel: IpFragFails=1 IpFragOKs=1 IpReasmOKs=1" \
		"$(craft_moved frag IpFragOKs IpFragFails IpReasmOKs)"
}

test_overlap()
{
	local got

	add_both_cpes || return
	craft_snap frag || return
	rx_start c1 cpe1 --dst "$SHARED" --all || return
	rx_start c2 cpe2 --dst "$SHARED" --all || return
	# the last fragment starts 64 bytes inside the one before it
	send_frags tag=6 id=0x1500 overlap=64 || return
	got=$(craft_udp_recv s1 1000)
	rx_stop
	ktap_expect "overlapping fragments: nothing reaches CPE-1 (socket, capture) or CPE-2" \
		"0 0 0" "$got $(rx_lines c1) $(rx_lines c2)"
	# shellcheck disable=SC2086 # names
	ktap_expect "overlapping fragments: the PRR's kernel drops the datagram as an overlap, prr never sees it" \
		"prr: kernel: IpExtReasmOverlaps=1 IpReasmFails=1 IpReasmReqds=3" \
		"$(craft_moved frag $REASM)"
}

test_no_first_fragment()
{
	local got want="prr: kernel: IpReasmFails=1 IpReasmReqds=2 IpReasmTimeout=1"

	add_both_cpes || return
	step "reassembly timeout 1 s in the PRR" ns_sysctl "$NS_PRR" \
		net.ipv4.ipfrag_time=1 || return
	craft_snap frag || return
	rx_start c1 cpe1 --dst "$SHARED" --all || return
	rx_start c2 cpe2 --dst "$SHARED" --all || return
	send_frags tag=7 id=0x1600 nofirst=1 || return
	# shellcheck disable=SC2086 # names and words
	ktap_expect "no first fragment: 2 fragments held by the PRR's kernel, the reassembly times out (ipfrag_time 1 s), prr never sees them" \
		"$want" \
		"$(craft moved frag "$NS_PRR" "$PRRCTL" 10000 $REASM -- $want)"
	got=$(craft_udp_recv s1 300)
	rx_stop
	ns_sysctl "$NS_PRR" net.ipv4.ipfrag_time=30
	ktap_expect "no first fragment: nothing reaches CPE-1 (socket, capture) or CPE-2" \
		"0 0 0" "$got $(rx_lines c1) $(rx_lines c2)"
}

craft_start
topo_require
if topo_create links && open_sockets; then
	run_test test_reassembled
	run_test test_small_link
	run_test test_overlap
	run_test test_no_first_fragment
	topo_destroy
else
	ktap_fail "build the testbed"
fi
ktap_finish
