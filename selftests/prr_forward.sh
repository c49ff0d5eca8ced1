#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prr data path, forwarding: every packet to the shared address reaches
# exactly the CPE owning its destination port, for each port protocol, on
# both testbed variants (separate links, shared L2 segment); nested entries
# (most specific wins, default entry); per-entry and global counters;
# traffic not addressed to a shared address is left alone; end to end to the
# hosts behind the CPEs.

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"

PROTOS="tcp udp udplite sctp dccp"
SET1="0x0400/0x1400"	# RFC 6431 example, non-contiguous
SET2="0x1000/0x1400"

# Sends every port of $1 (one a line) for every protocol in $PROTOS from RT1.
send_ports_all_protos()
{
	local ports proto

	ports=$(csv <<<"$1")
	for proto in $PROTOS; do
		send_from rt1 --dst "$SHARED" --proto "$proto" \
			--ports "$ports" --quiet || return 1
	done
}

nlines()
{
	printf '%s' "$1" | grep -c .
}

test_port_sets()
{
	local v=$1 ports own1 own2 none n1 n2 n0 np before

	ports=$(test_ports)
	own1=$(ports_in_set 0x0400 0x1400 <<<"$ports")
	own2=$(ports_in_set 0x1000 0x1400 <<<"$ports")
	none=$(ports_in_no_set "$SET1" "$SET2" <<<"$ports")
	n1=$(nlines "$own1")
	n2=$(nlines "$own2")
	n0=$(nlines "$none")
	np=$(wc -w <<<"$PROTOS")

	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" \
		dev "$CPE1_DEV" || return
	prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR" || return
	before=$(prr_stats)
	rx_start c1 cpe1 --dst "$SHARED" || return
	rx_start c2 cpe2 --dst "$SHARED" || return
	rx_start r2 rt2 --no-icmp || return
	send_ports_all_protos "$ports" || return
	rx_stop

	expect_lines "[$v] CPE-1 receives exactly the $n1 ports of $SET1, each protocol once" \
		"$(expected_pkts $PROTOS <<<"$own1")" "$(rx_pkts c1)"
	expect_lines "[$v] CPE-2 receives exactly the $n2 ports of $SET2, each protocol once" \
		"$(expected_pkts $PROTOS <<<"$own2")" "$(rx_pkts c2)"
	ktap_expect "[$v] nothing leaks to the Internet side (RT2)" \
		0 "$(rx_count r2)"
	ktap_expect "[$v] TTL decremented by one (64 -> 63) at both CPEs" \
		"63 63" "$(rx_ttls c1) $(rx_ttls c2)"
	ktap_expect "[$v] forwarded packets carry a valid IP checksum" \
		0 "$(($(rx_badsums c1) + $(rx_badsums c2)))"
	ktap_expect "[$v] forwarded counts the owned packets, drop_no_entry exactly the $n0 unowned ports x $np" \
		"drop_no_entry=$((n0 * np)) forwarded=$(((n1 + n2) * np))" \
		"$(stats_moved "$before")"
	ktap_expect "[$v] CPE-1 entry counts the packets and bytes sent to it" \
		"$((n1 * np)) $(rx_bytes c1)" \
		"$(prr_entry 0x0400 0x1400 "packets bytes")"
	ktap_expect "[$v] CPE-2 entry counts the packets and bytes sent to it" \
		"$((n2 * np)) $(rx_bytes c2)" \
		"$(prr_entry 0x1000 0x1400 "packets bytes")"
}

# A default entry (an LSN in RFC 6346 terms) catches everything that no more
# specific entry owns; nested entries win over the sets containing them.
test_nested()
{
	local v=$1 ports want1 want2 only_default before

	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" || return
	prr_add port-value 0 port-mask 0 via "$CPE2_ADDR" || return
	# 1024-2047, inside CPE-1's set, goes to CPE-2
	prr_add port-value 0x0400 port-mask 0xfc00 via "$CPE2_ADDR" || return
	# single ports inside the default set
	prr_add port-value 0 port-mask 0xffff via "$CPE1_ADDR" || return
	prr_add port-value 65535 port-mask 0xffff via "$CPE1_ADDR" || return

	ports=$(test_ports)
	want1=$( (ports_in_set 0x0400 0x1400 <<<"$ports" |
		  ports_in_no_set 0x0400/0xfc00; echo 0; echo 65535) | sort -n)
	want2=$(ports_in_no_set 0x0400/0x1400 0/0xffff 65535/0xffff \
		<<<"$ports"; ports_in_set 0x0400 0xfc00 <<<"$ports")
	only_default=$(ports_in_no_set 0x0400/0x1400 0x0400/0xfc00 0/0xffff \
		65535/0xffff <<<"$ports" | grep -c .)

	before=$(prr_stats)
	rx_start c1 cpe1 --dst "$SHARED" || return
	rx_start c2 cpe2 --dst "$SHARED" || return
	PROTOS="udp tcp" send_ports_all_protos "$ports" || return
	rx_stop

	expect_lines "[$v] nested: CPE-1 gets its set minus 1024-2047, plus ports 0 and 65535" \
		"$(expected_pkts udp tcp <<<"$want1")" "$(rx_pkts c1)"
	expect_lines "[$v] nested: the default entry's CPE-2 gets every other port, 1024-2047 included" \
		"$(sort -n <<<"$want2" | expected_pkts udp tcp)" "$(rx_pkts c2)"
	ktap_expect "[$v] nested: nothing counted drop_no_entry, all forwarded" \
		"forwarded=$(($(nlines "$ports") * 2))" "$(stats_moved "$before")"
	ktap_expect "[$v] nested: the default entry counts only the ports no more specific entry owns" \
		"$((only_default * 2))" "$(prr_entry 0 0 packets)"
}

# Traffic to other addresses (RT2, a CPE's own address) is plain routing:
# delivered, TTL-1, no prr counter or entry counter moves.
test_not_shared()
{
	local v=$1 ports before e1

	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" || return
	prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR" || return
	ports=$(test_ports | ports_in_set 0x0400 0x1400 | head -n 40)
	before=$(prr_stats)
	e1=$(prr_entry 0x0400 0x1400 packets)
	rx_start r2 rt2 --src "$RT1_ADDR" --no-icmp || return
	rx_start c1 cpe1 --dst "$CPE1_ADDR" || return
	rx_start c2 cpe2 --no-icmp || return
	send_from rt1 --dst "$RT2_ADDR" --proto udp --ports "$(csv <<<"$ports")" \
		--quiet || return
	send_from rt1 --dst "$RT2_ADDR" --proto tcp --ports "$(csv <<<"$ports")" \
		--quiet || return
	send_from rt1 --dst "$CPE1_ADDR" --proto udp \
		--ports "$(csv <<<"$ports")" --quiet || return
	rx_stop

	expect_lines "[$v] packets to RT2 on CPE-1's ports reach RT2 untouched" \
		"$(expected_pkts tcp udp <<<"$ports")" "$(rx_pkts r2)"
	ktap_expect "[$v] ... with TTL 63" "63" "$(rx_ttls r2)"
	expect_lines "[$v] packets to CPE-1's own address are routed to it" \
		"$(expected_pkts udp <<<"$ports")" "$(rx_pkts c1)"
	ktap_expect "[$v] CPE-2 receives none of them" 0 "$(rx_count c2)"
	ktap_expect "[$v] no prr counter moves for unshared destinations" \
		"" "$(stats_moved "$before")"
	ktap_expect "[$v] the entry's counter does not move either" \
		"$e1" "$(prr_entry 0x0400 0x1400 packets)"
}

# The seed draft's setting: T1/T2 behind CPEs that forward a port to them.
cpe_port_forward()
{
	in_node "$1" nft -f - <<-EOF
	table ip cpe {
		chain pre {
			type nat hook prerouting priority dstnat;
			ip daddr $SHARED udp dport $2 dnat to $3
		}
	}
	EOF
}

test_behind_cpe()
{
	local v=$1 out

	if ! out=$(cpe_port_forward cpe1 1024-1031 "$T1_ADDR" 2>&1) ||
	   ! out=$(cpe_port_forward cpe2 4096-4103 "$T2_ADDR" 2>&1); then
		ktap_skip "[$v] end to end to T1/T2" "no nftables NAT: $out"
		return
	fi
	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" || return
	prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR" || return
	rx_start t1 t1 --dst "$T1_ADDR" || return
	rx_start t2 t2 --dst "$T2_ADDR" || return
	send_from rt1 --dst "$SHARED" --proto udp --ports 1024-1031,4096-4103 \
		--quiet || return
	rx_stop
	expect_lines "[$v] T1 behind CPE-1 receives 192.0.2.1:1024-1031 (TTL 62)" \
		"$(seq 1024 1031 | sed 's/^/udp /;s/$/ 62/')" \
		"$(awk '$1 == "pkt" { print $2, $4, $5 }' "$TOPO_DIR/t1.out")"
	expect_lines "[$v] T2 behind CPE-2 receives 192.0.2.1:4096-4103 (TTL 62)" \
		"$(seq 4096 4103 | sed 's/^/udp /;s/$/ 62/')" \
		"$(awk '$1 == "pkt" { print $2, $4, $5 }' "$TOPO_DIR/t2.out")"
}

topo_require
for variant in links bridge; do
	if ! topo_create "$variant"; then
		ktap_fail "[$variant] build the testbed"
		continue
	fi
	run_test test_port_sets "$variant"
	run_test test_nested "$variant"
	run_test test_not_shared "$variant"
	run_test test_behind_cpe "$variant"
	topo_destroy
done
ktap_finish
