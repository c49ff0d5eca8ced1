#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prr's CPE role, the NAT's limits and configuration (lib/cpe.sh): an ICMP
# error about a NATed datagram gets back to its sender, translated; CPE-1
# reduced to 4 ports gives them to 4 concurrent flows to one destination,
# drops the 5th and counts it (drop_nat_exhausted), and never sends a port
# outside the set; conntrack expiry frees the ports again.  Removing the
# local entries stops the NAT (drops counted); del-nat leaves the LAN's
# connections to the stack untranslated, and a rule added back drops those
# (drop_nat_untranslated) rather than let them leave.  prrctl's add-nat and
# del-nat errors: one line, exit 2 for usage, 1 for the kernel's refusal,
# nothing changed.  Separate links.

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"
. "$SELFTESTS/lib/cpe.sh"

SET4=0x0400/0xfffc	# 4 ports of CPE-1's set: 1024-1027
CLOSED=33434		# nothing listens there on RT1
DPORT=7777		# the one destination port of the exhaustion test

# RT1's port unreachable about a NATed datagram gets back to T1, the quoted
# datagram translated back to T1's own address and port.
test_icmp_error()
{
	local v=$1 before sport

	before=$(counters prr)
	rx_start h t1 --dst "$T1_ADDR" --proto icmp --isrc || return
	rx_start r1 rt1 --src "$SHARED" --proto udp || return
	send_from t1 --dst "$RT1_ADDR" --proto udp --ports "$CLOSED" \
		--sport 40123 --tag 7001 --quiet || return
	wait_until 10 rx_has h '^icmp '
	rx_stop
	sport=$(pkt_fields r1 3)
	ktap_expect "[$v] ICMP error: RT1 got T1's datagram from a port of CPE-1's set" \
		"1 " "$(nlines "$sport") $(ports_outside "$CPE1_SETS" <<<"$sport")"
	ktap_expect "[$v] ICMP error: port unreachable reaches T1, quoting T1's own address and port 40123" \
		"3 3 0 $RT1_ADDR $T1_ADDR udp 40123 $CLOSED $RT1_ADDR 7001 $T1_ADDR" \
		"$(rx_icmp_lines h)"
	ktap_expect "[$v] ICMP error: the PRR validated the datagram, forwarded the error by its quoted port" \
		"forwarded=1 validated=1" "$(moved prr "$before")"
}

# CPE-1 has no UDP conntrack entry to RT1:$DPORT left (reading the table
# also reaps the expired ones).
no_ct_to_dport()
{
	local line

	while read -r line; do
		[[ $line != *" udp "*" dport=$DPORT "* ]] || return 1
	done < <(ct_lines 1)
}

test_exhaustion()
{
	local v=$1 before up

	# shellcheck disable=SC2086 # one word per piece
	cpe_del_local 1 $CPE1_SETS || return
	cpe_add_local 1 "$SET4" || return
	step "[$v] CPE-1: UDP conntrack timeout 2 s" ns_sysctl "$NS_CPE1" \
		net.netfilter.nf_conntrack_udp_timeout=2 || return
	before=$(counters cpe1)
	rx_start r1 rt1 --src "$SHARED" --proto udp || return
	rx_start_dev up "$NS_PRR" "$CPE1_DEV" --src "$SHARED" --all || return
	send_from t1 --dst "$RT1_ADDR" --proto udp --ports "$DPORT" \
		--sports 50001-50005 --tag 8001 --quiet || return
	rx_stop
	ktap_expect "[$v] exhaustion: of 5 flows to RT1:$DPORT, the first 4 reach RT1, the 5th does not" \
		"8001 8002 8003 8004" "$(pkt_fields r1 9)"
	ktap_expect "[$v] exhaustion: ... from CPE-1's 4 ports, one each" \
		"1024 1025 1026 1027" "$(pkt_fields r1 3)"
	ktap_expect "[$v] exhaustion: CPE-1 counts 4 nat_mapped and exactly 1 drop_nat_exhausted" \
		"drop_nat_exhausted=1 nat_mapped=4" "$(moved cpe1 "$before")"
	up=$(pkt_fields up 3)
	ktap_expect "[$v] exhaustion: the PRR's link from CPE-1 carries only ports 1024-1027 from $SHARED" \
		"1024 1025 1026 1027" "$up"

	if ! wait_until 20 no_ct_to_dport; then
		ktap_fail "[$v] expiry: CPE-1's 4 UDP entries expire within 20 s" \
			"$(ct_lines 1 | grep "dport=$DPORT ")"
		return
	fi
	ktap_ok "[$v] expiry: CPE-1's 4 UDP entries expire (timeout 2 s)"
	before=$(counters cpe1)
	rx_start r1 rt1 --src "$SHARED" --proto udp || return
	send_from t1 --dst "$RT1_ADDR" --proto udp --ports "$DPORT" \
		--sports 50006-50009 --tag 8006 --quiet || return
	rx_stop
	ktap_expect "[$v] expiry: 4 new flows to RT1:$DPORT get the 4 ports again" \
		"8006 8007 8008 8009 / 1024 1025 1026 1027" \
		"$(pkt_fields r1 9) / $(pkt_fields r1 3)"
	ktap_expect "[$v] expiry: 4 nat_mapped, no drop" "nat_mapped=4" \
		"$(moved cpe1 "$before")"
}

# Without local entries the NAT has no port to give; without the rule, prr
# leaves the LAN's connections alone, and when the rule comes back, those
# connections (conntrack translates only new ones) are dropped rather than
# leave untranslated.  Ends with CPE-1 as set up.
test_removal()
{
	local v=$1 before

	step "[$v] CPE-1: UDP conntrack timeout 30 s" ns_sysctl "$NS_CPE1" \
		net.netfilter.nf_conntrack_udp_timeout=30 || return
	cpe_del_local 1 "$SET4" || return
	before=$(counters cpe1)
	rx_start r1 rt1 --all || return
	send_from t1 --dst "$RT1_ADDR" --proto udp --ports 7778 --sport 50010 \
		--tag 8100 --quiet || return
	send_from t1 --dst "$RT1_ADDR" --proto gre --tag 8101 --quiet ||
		return
	rx_stop
	ktap_expect "[$v] no local entry: T1's new UDP flow is dropped (drop_nat_exhausted), GRE too (drop_nat_no_port)" \
		"drop_nat_exhausted=1 drop_nat_no_port=1" "$(moved cpe1 "$before")"
	ktap_expect "[$v] no local entry: RT1 receives neither" "" \
		"$(pkt_fields r1 9)"

	cpe_nat_del 1 || return
	before=$(counters cpe1)
	rx_start r1 rt1 --all || return
	send_from t1 --dst "$RT1_ADDR" --proto udp --ports 7779 --sport 50011 \
		--tag 8200 --quiet || return
	rx_stop
	ktap_expect "[$v] del-nat: T1's new flow leaves untranslated (RT1 sees $T1_ADDR:50011)" \
		"pkt udp 50011 7779 62 36 $T1_ADDR $RT1_ADDR 8200 -" \
		"$(<"$TOPO_DIR/r1.out")"
	ktap_expect "[$v] del-nat: no CPE-1 counter moves (no nat_mapped)" "" \
		"$(moved cpe1 "$before")"

	# shellcheck disable=SC2086
	cpe_add_local 1 $CPE1_SETS && cpe_nat_add 1 || return
	before=$(counters cpe1)
	rx_start r1 rt1 --all || return
	send_from t1 --dst "$RT1_ADDR" --proto udp --ports 7779 --sport 50011 \
		--tag 8201 --quiet || return
	send_from t1 --dst "$RT1_ADDR" --proto udp --ports 7779 --sport 50012 \
		--tag 8202 --quiet || return
	rx_stop
	ktap_expect "[$v] add-nat again: the older flow is dropped (drop_nat_untranslated), a new one translated" \
		"drop_nat_untranslated=1 nat_mapped=1 / 8202" \
		"$(moved cpe1 "$before") / $(pkt_fields r1 9)"
	# shellcheck disable=SC2086 # one word per piece
	ktap_expect "[$v] add-nat again: ... the new one from $SHARED, a port of CPE-1's set" \
		"0 1 0 -" "$(flow_report r1 10 $CPE1_SETS | cut -d ' ' -f 1-4)"
}

# expect_nat_reject DESC CODE ERE ARGS...: `prrctl ARGS` on CPE-1 exits
# with CODE, prints one stderr line matching ERE and leaves `show nat` as
# it was.
expect_nat_reject()
{
	local desc=$1 code=$2 re=$3 before after err rc=0 problems=()

	shift 3
	before=$(cpe_ctl 1 show nat 2>&1)
	err=$(cpe_ctl 1 "$@" 2>&1 >/dev/null) || rc=$?
	after=$(cpe_ctl 1 show nat 2>&1)
	[ "$rc" -eq "$code" ] || problems+=("exit code $rc, expected $code")
	[ -n "$err" ] && [[ $err != *$'\n'* ]] ||
		problems+=("stderr is not exactly one line")
	[[ $err =~ $re ]] || problems+=("stderr does not match /$re/")
	[ "$before" = "$after" ] || problems+=("prrctl show nat changed")
	if [ ${#problems[@]} -eq 0 ]; then
		ktap_ok "$desc"
	else
		ktap_fail "$desc" "command: prrctl $*" "${problems[@]}" \
			"stderr: $err"
	fi
}

test_nat_cli()
{
	local v=$1

	ktap_expect "[$v] show nat: the rule in the add-nat grammar" \
		"$SHARED from 192.168.1.0/24 dev wan0" "$(cpe_ctl 1 show nat)"
	ktap_expect "[$v] -j show nat: the rule as JSON" \
		"[{\"addr\":\"$SHARED\",\"dev\":\"wan0\",\"from\":\"192.168.1.0/24\"}]" \
		"$(cpe_ctl 1 -j show nat | jq -S -c .)"
	expect_nat_reject "[$v] add-nat: prefix length 33" 2 \
		'^prrctl: invalid prefix length in "192\.168\.1\.0/33"$' \
		add-nat "$SHARED" from 192.168.1.0/33
	expect_nat_reject "[$v] add-nat: prefix not an address" 2 \
		'^prrctl: invalid prefix "192\.168\.1\.300/24"$' \
		add-nat "$SHARED" from 192.168.1.300/24
	expect_nat_reject "[$v] add-nat: no from" 2 \
		'^prrctl: missing "from PREFIX/LEN"$' add-nat "$SHARED"
	expect_nat_reject "[$v] add-nat: bad shared address" 2 \
		'^prrctl: invalid address "192\.0\.2\.1\.5"$' \
		add-nat 192.0.2.1.5 from 192.168.9.0/24
	expect_nat_reject "[$v] add-nat: unknown device" 2 \
		'^prrctl: no such device "nosuch0"$' \
		add-nat "$SHARED" from 192.168.9.0/24 dev nosuch0
	expect_nat_reject "[$v] add-nat: the same prefix again" 1 \
		'^Error: NAT rule already exists\.$' \
		add-nat "$SHARED" from 192.168.1.0/24 dev wan0
	expect_nat_reject "[$v] add-nat: the same prefix, host bits set, no dev" 1 \
		'^Error: NAT rule already exists\.$' \
		add-nat "$SHARED" from 192.168.1.77/24
	expect_nat_reject "[$v] add-nat: multicast shared address" 1 \
		'^Error: shared address must be a unicast address\.$' \
		add-nat 224.0.0.1 from 192.168.9.0/24
	expect_nat_reject "[$v] del-nat: absent rule" 1 \
		'^Error: no such NAT rule\.$' del-nat from 10.1.0.0/16
	expect_nat_reject "[$v] del-nat: the rule's prefix with another length" 1 \
		'^Error: no such NAT rule\.$' del-nat from 192.168.1.0/25
	expect_nat_reject "[$v] del-nat: takes no shared address" 2 \
		'^prrctl: unexpected argument "192\.0\.2\.1"$' \
		del-nat "$SHARED" from 192.168.1.0/24
}

topo_require
cpe_testbed links || ktap_finish
cpe_test test_icmp_error links
cpe_test test_exhaustion links
cpe_test test_removal links
cpe_test test_nat_cli links
topo_destroy
ktap_finish
