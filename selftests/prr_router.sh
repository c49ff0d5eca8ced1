#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prr data path, router semantics: packets prr hands to a CPE are forwarded
# like a router forwards them.  TTL 1 gives ICMP time exceeded from the PRR,
# DF packets above the CPE link's MTU give fragmentation needed with that
# MTU, the FORWARD and POSTROUTING hooks see them, ARP asks for the CPE
# gateways and never for the shared address, and deleting a CPE link that
# carried traffic neither hangs nor breaks traffic once it is back.  Both
# testbed variants.

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"

PORTS1="1024,1025,2047,3072,9216,61439"		# in 0x0400/0x1400
PORTS2="4096,4097,5119,6144,12288,64511"	# in 0x1000/0x1400

add_both_cpes()
{
	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" &&
		prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR"
}

# "TYPE CODE MTU FROM IPROTO IDPORT" of the ICMP errors RT1 received, sorted
# by port.
icmp_seen()
{
	rx_icmp "$1" | awk '{ print $2, $3, $4, $5, $7, $9 }' | sort -k6,6n
}

# The same list built from a port list: icmp_want TYPE CODE MTU FROM PROTO P,..
icmp_want()
{
	tr ',' '\n' <<<"$6" | sort -n |
		awk -v t="$1 $2 $3 $4 $5" '{ print t, $1 }'
}

test_ttl()
{
	local v=$1

	add_both_cpes || return
	rx_start c1 cpe1 --dst "$SHARED" || return
	rx_start c2 cpe2 --dst "$SHARED" || return
	rx_start r1 rt1 --proto 1 || return
	send_from rt1 --dst "$SHARED" --proto udp --ttl 1 \
		--ports "$PORTS1,$PORTS2" --quiet || return
	send_from rt1 --dst "$SHARED" --proto tcp --ttl 2 \
		--ports "$PORTS1" --quiet || return
	rx_stop
	expect_lines "[$v] TTL 1: RT1 gets ICMP time exceeded from the PRR ($PRR_RT1_ADDR) for each packet" \
		"$(icmp_want 11 0 0 "$PRR_RT1_ADDR" udp "$PORTS1,$PORTS2")" \
		"$(icmp_seen r1 | grep '^11 ')"
	ktap_expect "[$v] TTL 2: CPE-1 receives every packet with TTL 1" \
		"$(tr ',' '\n' <<<"$PORTS1" | wc -l) 1" \
		"$(rx_count c1) $(rx_ttls c1)"
	ktap_expect "[$v] TTL 1: no packet reaches a CPE" 0 "$(rx_count c2)"
}

test_mtu()
{
	local v=$1 frags

	add_both_cpes || return
	step "MTU 1200 towards CPE-1" topo_cpe_mtu 1 1200 || return
	rx_start c1 cpe1 --dst "$SHARED" || return
	rx_start r1 rt1 --proto 1 || return
	send_from rt1 --dst "$SHARED" --proto udp --df --size 1300 \
		--ports "$PORTS1" --quiet || return
	send_from rt1 --dst "$SHARED" --proto udp --df --size 1200 \
		--ports "$PORTS1" --tag 1000 --quiet || return
	send_from rt1 --dst "$SHARED" --proto udp --size 1300 \
		--ports "$PORTS1" --tag 2000 --quiet || return
	rx_stop
	expect_lines "[$v] DF 1300 bytes over MTU 1200: fragmentation needed (mtu 1200) from the PRR" \
		"$(icmp_want 3 4 1200 "$PRR_RT1_ADDR" udp "$PORTS1")" \
		"$(icmp_seen r1 | grep '^3 4 ')"
	expect_lines "[$v] DF 1200 bytes (exactly the MTU) reach CPE-1 whole" \
		"$(tr ',' '\n' <<<"$PORTS1" | sort -n | sed 's/$/ 1200 df/')" \
		"$(awk '$1 == "pkt" && $9 >= 1000 && $9 < 2000 { print $4, $6, $10 }' \
			"$TOPO_DIR/c1.out" | sort -n)"
	frags=$(awk '$1 == "pkt" && $9 >= 2000 && $10 ~ /mf/ && $6 <= 1200' \
		"$TOPO_DIR/c1.out" | wc -l)
	ktap_expect "[$v] 1300 bytes without DF reach CPE-1 fragmented to fit 1200" \
		"$(tr ',' '\n' <<<"$PORTS1" | wc -l)" "$frags"
	topo_cpe_mtu 1 1500
}

# Counter of the nft rule carrying COMMENT in table ip prrtest.
nft_counter()
{
	ns_exec "$NS_PRR" nft -j list table ip prrtest |
		jq -r --arg c "$1" '.nftables[] | select(.rule.comment? == $c) |
			.rule.expr[] | select(.counter) | .counter.packets'
}

test_forward_hook()
{
	local v=$1 e1 out

	add_both_cpes || return
	if ! out=$(ns_exec "$NS_PRR" nft -f - 2>&1 <<-EOF
	table ip prrtest {
		chain c_forward {
			type filter hook forward priority filter;
			ip daddr $SHARED udp dport 1024 counter drop comment "fwd-drop"
		}
		chain c_postrouting {
			type filter hook postrouting priority filter;
			ip daddr $SHARED oifname "$CPE1_DEV" counter comment "post"
		}
	}
	EOF
	); then
		ktap_fail "[$v] nftables in the PRR namespace" "$out"
		return
	fi
	e1=$(prr_entry 0x0400 0x1400 packets)
	rx_start c1 cpe1 --dst "$SHARED" || return
	send_from rt1 --dst "$SHARED" --proto udp --ports 1024,1025 --repeat 20 \
		--quiet || return
	rx_stop
	ktap_expect "[$v] FORWARD hook: a drop rule for port 1024 stops it, port 1025 passes" \
		"udp 1025 x20" \
		"$(rx_pkts c1 | uniq -c | awk '{ print $2, $3 " x" $1 }')"
	ktap_expect "[$v] FORWARD hook: the rule's counter saw the 20 packets" \
		20 "$(nft_counter fwd-drop)"
	ktap_expect "[$v] POSTROUTING hook sees the 20 forwarded packets on $CPE1_DEV" \
		20 "$(nft_counter post)"
	ktap_expect "[$v] the prr entry matched all 40 before FORWARD" \
		$((e1 + 40)) "$(prr_entry 0x0400 0x1400 packets)"
	ns_exec "$NS_PRR" nft delete table ip prrtest
}

# "SENDER TARGET" of the ARP requests a receiver saw, sorted, unique.
arp_requests()
{
	awk '$1 == "arp" && $2 == "request" { print $3, $4 }' \
		"$TOPO_DIR/$1.out" | sort -u
}

test_arp()
{
	local v=$1 want got

	add_both_cpes || return
	ip -n "$NS_PRR" neigh flush dev "$CPE1_DEV"
	ip -n "$NS_PRR" neigh flush dev "$CPE2_DEV"
	rx_start c1 cpe1 --arp --dst "$SHARED" || return
	rx_start c2 cpe2 --arp --dst "$SHARED" || return
	send_from rt1 --dst "$SHARED" --proto udp --ports "$PORTS1,$PORTS2" \
		--quiet || return
	rx_stop
	if [ "$v" = bridge ]; then
		# both CPEs see every broadcast on the shared segment
		want=$(printf '%s %s\n' "$PRR_CPE1_ADDR" "$CPE1_ADDR" \
			"$PRR_CPE2_ADDR" "$CPE2_ADDR" | sort -u)
		got=$( (arp_requests c1; arp_requests c2) | sort -u |
			grep "^$PRR_CPE1_ADDR ")
	else
		want="$PRR_CPE1_ADDR $CPE1_ADDR
$PRR_CPE2_ADDR $CPE2_ADDR"
		got=$( (arp_requests c1 | grep "^$PRR_CPE1_ADDR "
			arp_requests c2 | grep "^$PRR_CPE2_ADDR ") | sort)
	fi
	expect_lines "[$v] the PRR's ARP requests ask for the CPE gateways only" \
		"$want" "$got"
	ktap_expect "[$v] nobody asks for the shared address $SHARED" "" \
		"$( (arp_requests c1; arp_requests c2) | grep " $SHARED$")"
	ktap_expect "[$v] the traffic itself was delivered" "6 6" \
		"$(rx_count c1) $(rx_count c2)"
}

# Deleting the device a cached route uses must not hang (the kernel would
# wait forever for the device's references), and traffic must resume once
# the link is back.
test_link_del()
{
	local v=$1 rc=0 dev=cpe1 before got

	[ "$v" = links ] || dev=br0
	add_both_cpes || return
	rx_start c1 cpe1 --dst "$SHARED" || return
	send_from rt1 --dst "$SHARED" --proto udp --ports "$PORTS1" \
		--quiet || return
	rx_stop
	ktap_expect "[$v] traffic to CPE-1 before the link is deleted" \
		6 "$(rx_count c1)"

	run_within 10 topo_cpe_link_del 1 || rc=$?
	ktap_expect "[$v] ip link del $dev with cached routes completes within 10 s" \
		0 "$rc"
	if [ "$rc" -eq 124 ]; then
		ktap_diag "$(dmesg 2>/dev/null | grep -i 'waiting for' | tail -n 2)"
		return
	fi

	rx_start c2 cpe2 --dst "$SHARED" || return
	send_from rt1 --dst "$SHARED" --proto udp --ports "$PORTS1" \
		--quiet || return
	rx_stop
	ktap_expect "[$v] CPE-1's ports go nowhere else while its link is gone" \
		0 "$(rx_count c2)"

	if ! topo_cpe_link_add 1; then
		ktap_fail "[$v] re-create the CPE-1 link"
		return
	fi
	before=$(prr_stats)
	rx_start c1 cpe1 --dst "$SHARED" || return
	rx_start c2 cpe2 --dst "$SHARED" || return
	send_from rt1 --dst "$SHARED" --proto udp --ports "$PORTS1,$PORTS2" \
		--quiet || return
	rx_stop
	got="$(rx_count c1) $(rx_count c2)"
	if [ "$got" = "6 6" ]; then
		ktap_ok "[$v] after re-creating the link, traffic flows to both CPEs again"
		return
	fi
	ktap_fail "[$v] after re-creating the link, traffic flows to both CPEs again" \
		"expected: 6 6" "got:      $got" \
		"prr counters moved: $(stats_moved "$before")" \
		"$(prr_ctl show)" \
		"$(ip -n "$NS_PRR" route get "$CPE1_ADDR" 2>&1)" \
		"$(ip -n "$NS_PRR" neigh show 2>&1)"
}

topo_require
for variant in links bridge; do
	if ! topo_create "$variant"; then
		ktap_fail "[$variant] build the testbed"
		continue
	fi
	run_test test_ttl "$variant"
	run_test test_mtu "$variant"
	run_test test_forward_hook "$variant"
	run_test test_arp "$variant"
	run_test test_link_del "$variant"
	topo_destroy
done
ktap_finish
