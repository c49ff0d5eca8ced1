#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Source validation (issue 3; RFC 7597 §8.1, RFC 7596 §6.2): a packet from
# the CPE side whose source is the shared address must carry a source port
# (ICMP Identifier; for an ICMP error, the quoted datagram's destination
# port) owned by the CPE it came from - its next hop's device and, on a
# shared segment, its MAC address.  Legitimate packets pass and count
# "validated"; others are dropped and count drop_spoofed, and RT1 receives
# none of them.  `prrctl set source-check off` lets them through; hairpin
# traffic between two CPEs is validated, then routed to the owner.  Unowned
# ports: silent drop by default, ICMP 3/13 from the PRR with `prrctl set
# unowned reject`.  Bad `prrctl set` arguments.  Both testbed variants where
# the link layer matters (the source checks and hairpin), separate links
# otherwise.

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"
. "$SELFTESTS/lib/craft.sh"

OWN1="1024 2047 3072 9216"	# in CPE-1's 0x0400/0x1400
OWN2="4096 5119"		# in CPE-2's 0x1000/0x1400
NONE="0 5120 65535"		# in neither
NOBODY="setpriv --reuid 65534 --regid 65534 --clear-groups"
DEFAULT_CONFIG="source-check on unowned drop entry-counters on"

add_both_cpes()
{
	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" &&
		prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR"
}

# RT1 answers nothing from the shared address (no echo replies, no port
# unreachable), so that only the CPEs' own packets move the counters; its
# capture still sees everything.
rt1_silent()
{
	in_node rt1 nft -f - <<-EOF
	table ip rt1 {
		chain input {
			type filter hook input priority filter;
			ip saddr $SHARED drop
		}
	}
	EOF
}

# send_sports NODE PROTO FIRST_TAG PORTS: from $SHARED on NODE to RT1, one
# packet per source port, as frames (the CPE's own stack would send the
# same; it need not run a program per packet).
send_sports()
{
	craft_send "$1" 1 "$2" "src=$SHARED" "dst=$RT1_ADDR" dport=9 \
		"sport=$(tr ' ' ',' <<<"$4")" "tag=$3" >/dev/null
}

# send_idents NODE FIRST_TAG IDS: echo requests with those Identifiers.
send_idents()
{
	craft_send "$1" 1 echo "src=$SHARED" "dst=$RT1_ADDR" \
		"ident=$(tr ' ' ',' <<<"$3")" "tag=$2" >/dev/null
}

words()
{
	wc -w <<<"$1"
}

# Tags FIRST..FIRST+N-1, space separated.
tags_from()
{
	seq "$1" $(($1 + $2 - 1)) | paste -sd ' '
}

test_source_ports()
{
	local v=$1 legit spoofed want

	add_both_cpes || return
	# CPE-1's port unreachable below (the testbed keeps CPEs quiet)
	step "[$v] CPE-1 answers with port unreachable" \
		in_node cpe1 nft delete table ip prrtopo || return
	craft_snap t || return
	rx_start r1 rt1 --src "$SHARED" || return
	# legitimate: CPE-1's ports, UDP and TCP, and its Identifiers
	send_sports cpe1 udp 1 "$OWN1" || return
	send_sports cpe1 tcp 11 "3072" || return
	send_idents cpe1 21 "$OWN1" || return
	# spoofed: CPE-2's and nobody's ports and Identifiers
	send_sports cpe1 udp 101 "$OWN2 $NONE" || return
	send_sports cpe1 tcp 111 "4096 5120" || return
	send_idents cpe1 121 "$OWN2 $NONE" || return
	# ICMP errors: RT1's datagram to CPE-1's port 1024 makes CPE-1's
	# kernel send port unreachable (quoting $SHARED:1024, tag 51);
	# crafted ones quoting CPE-1's port 2047 and CPE-2's port 4096
	send_from rt1 --dst "$SHARED" --proto udp --ports 1024 --tag 51 \
		--quiet || return
	craft_send cpe1 1 icmperr "src=$SHARED" "dst=$RT1_ADDR" type=3 \
		code=3 qproto=udp "qsrc=$RT1_ADDR" "qdst=$SHARED" \
		qsport=40000 qdport=2047 >/dev/null || return
	craft_send cpe1 1 icmperr "src=$SHARED" "dst=$RT1_ADDR" type=3 \
		code=3 qproto=udp "qsrc=$RT1_ADDR" "qdst=$SHARED" \
		qsport=40000 qdport=4096 >/dev/null || return
	rx_stop
	topo_quiet_cpe "$NS_CPE1"
	legit=$(($(words "$OWN1") * 2 + 1 + 2))
	spoofed=$(($(words "$OWN2 $NONE") * 2 + 2 + 1))
	want="$(tags_from 1 "$(words "$OWN1")") 11 $(tags_from 21 "$(words "$OWN1")")"
	ktap_expect "[$v] from CPE-1, source ports / Identifiers of CPE-1 ($OWN1) reach RT1; none of CPE-2's ($OWN2) or nobody's ($NONE)" \
		"$want" "$(rx_tags r1)"
	expect_lines "[$v] from CPE-1, ICMP errors quoting its ports (1024: its kernel's, 2047: crafted) reach RT1, one quoting CPE-2's 4096 does not" \
		"$(printf '%s\n' "1024 51" "2047 -")" \
		"$(rx_icmp_lines r1 | awk '{ print $8, $10 }')"
	ktap_expect "[$v] validated counts the $legit legitimate ones, drop_spoofed the $spoofed others; RT1's datagram forwarded" \
		"drop_spoofed=$spoofed forwarded=1 validated=$legit" \
		"$(craft_prr_moved t)"
}

# CPE-2 claims CPE-1's ports: wrong device on separate links, wrong MAC
# address on the shared segment (same device, br0).
test_other_cpe()
{
	local v=$1 how=device

	[ "$v" = links ] || how="MAC address (same segment)"
	add_both_cpes || return
	craft_snap t || return
	rx_start r1 rt1 --src "$SHARED" || return
	send_sports cpe2 udp 201 "1024 3072" || return
	send_idents cpe2 211 "1024" || return
	send_sports cpe2 udp 221 "4096" || return
	rx_stop
	ktap_expect "[$v] from CPE-2 (wrong $how), CPE-1's ports are dropped; CPE-2's own port 4096 passes" \
		"221" "$(rx_tags r1)"
	ktap_expect "[$v] drop_spoofed counts the 3 claims, validated CPE-2's own" \
		"drop_spoofed=3 validated=1" "$(craft_prr_moved t)"
}

# Hairpin: CPE-2 sends from $SHARED:4096 to $SHARED:1024 (CPE-1's).  Sent as
# a raw frame: CPE-2's own stack would deliver $SHARED locally.
test_hairpin()
{
	local v=$1

	add_both_cpes || return
	craft_snap t || return
	rx_start c1 cpe1 --src "$SHARED" --dst "$SHARED" || return
	craft_send cpe2 3 udp "src=$SHARED" "dst=$SHARED" sport=4096 \
		dport=1024 tag=401 >/dev/null || return
	craft_send cpe2 2 udp "src=$SHARED" "dst=$SHARED" sport=1025 \
		dport=1024 tag=411 >/dev/null || return
	rx_stop
	ktap_expect "[$v] hairpin: CPE-2's $SHARED:4096 -> $SHARED:1024 reaches CPE-1; its spoofed :1025 -> :1024 does not" \
		"401 402 403" "$(rx_tags c1)"
	ktap_expect "[$v] hairpin: 3 validated then forwarded, 2 spoofed" \
		"drop_spoofed=2 forwarded=3 validated=3" "$(craft_prr_moved t)"
}

# config_is DESC WANT [show]: `show config` and `-j show config` (and with
# "show", the first line of `show`) against config_want's output.
config_is()
{
	local got

	got="$(prr_ctl show config) / $(prr_ctl -j show config | tr -d ' \n')"
	[ -z "${3:-}" ] || got="$got / $(prr_ctl show | head -n 1)"
	ktap_expect "$1" "$2" "$got"
}

# "TEXT / JSON [/ TEXT]" for a configuration (with a third argument, the
# first line of `show` too).
config_want()
{
	local text="source-check $1 unowned $2 entry-counters on"

	echo "$text / {\"source_check\":\"$1\",\"unowned\":\"$2\",\"entry_counters\":\"on\"}${3:+ / $text}"
}

test_source_check_off()
{

	add_both_cpes || return
	step "prrctl set source-check off" prr_ctl set source-check off ||
		return
	config_is "source-check off: show config, -j show config and show say so" \
		"$(config_want off drop show)" show
	ktap_expect "source-check off: only in the PRR's namespace (RT1's says on)" \
		"$DEFAULT_CONFIG" "$(ctl_in rt1 show config)"
	craft_snap t || return
	rx_start r1 rt1 --src "$SHARED" || return
	send_sports cpe1 udp 301 "4096 5120" || return
	send_idents cpe1 303 "4096" || return
	send_sports cpe2 udp 304 "1024" || return
	rx_stop
	ktap_expect "source-check off: CPE-2's and nobody's ports from CPE-1, CPE-1's from CPE-2, all reach RT1" \
		"301 302 303 304" "$(rx_tags r1)"
	ktap_expect "source-check off: neither validated nor drop_spoofed counts them" \
		"" "$(craft_prr_moved t)"

	step "prrctl set source-check on" prr_ctl set source-check on || return
	config_is "source-check on again: shown" "$(config_want on drop)"
	craft_snap t || return
	rx_start r1 rt1 --src "$SHARED" || return
	send_sports cpe1 udp 311 "4096" || return
	rx_stop
	ktap_expect "source-check on again: the spoofed port is dropped" \
		"/drop_spoofed=1" "$(rx_tags r1)/$(craft_prr_moved t)"
}

test_unowned()
{
	local want

	add_both_cpes || return
	step "prrctl set unowned reject" prr_ctl set unowned reject || return
	config_is "unowned reject: shown" "$(config_want on reject)"
	craft_snap t || return
	rx_start r1 rt1 --proto icmp || return
	send_from rt1 --dst "$SHARED" --proto udp --ports 0,5120,65535 \
		--tag 501 --quiet || return
	send_from rt1 --dst "$SHARED" --proto tcp --ports 5120 --tag 504 \
		--quiet || return
	rx_stop
	want=$(for t in "udp 0 501" "udp 5120 502" "udp 65535 503" \
			"tcp 5120 504"; do
		read -r p port tag <<<"$t"
		echo "3 13 0 $PRR_RT1_ADDR $RT1_ADDR $p 40000 $port $SHARED $tag"
	done | sort)
	expect_lines "unowned reject: RT1 gets ICMP 3/13 (administratively prohibited) from the PRR for each unowned port" \
		"$want" "$(rx_icmp_lines r1)"
	ktap_expect "unowned reject: still counted drop_no_entry" \
		"drop_no_entry=4" "$(craft_prr_moved t)"

	step "prrctl set unowned drop" prr_ctl set unowned drop || return
	config_is "unowned drop: shown" "$(config_want on drop)"
	craft_snap t || return
	rx_start r1 rt1 --proto icmp || return
	send_from rt1 --dst "$SHARED" --proto udp --ports 0,5120,65535 \
		--tag 511 --quiet || return
	rx_stop
	ktap_expect "unowned drop: nothing comes back, drop_no_entry counts" \
		"0 drop_no_entry=3" "$(rx_lines r1) $(craft_prr_moved t)"
}

# expect_usage DESC ARGS...: exit 2, one line "prrctl: ..." on stderr,
# nothing on stdout.
expect_usage()
{
	local desc=$1 out err rc=0

	shift
	out=$(prr_ctl "$@" 2>"$TOPO_DIR/err") || rc=$?
	err=$(cat "$TOPO_DIR/err")
	if [ "$rc" -eq 2 ] && [ "$(grep -c . <<<"$err")" -eq 1 ] &&
	   [[ $err == prrctl:* ]] && [ -z "$out" ]; then
		ktap_ok "$desc"
	else
		ktap_fail "$desc" "prrctl $*: exit $rc" "stderr: $err" \
			"stdout: $out"
	fi
}

test_set_errors()
{
	local ctl out rc=0 conf

	expect_usage "prrctl set: missing setting is a usage error" set
	expect_usage "prrctl set source-check: missing value" set source-check
	expect_usage "prrctl set source-check maybe: bad value" \
		set source-check maybe
	expect_usage "prrctl set unowned accept: bad value" set unowned accept
	expect_usage "prrctl set colour on: unknown setting" set colour on
	expect_usage "prrctl show config extra: unexpected argument" \
		show config extra
	ktap_expect "... and none of them changed the configuration" \
		"$DEFAULT_CONFIG" "$(prr_ctl show config)"

	ctl=$PRRCTL
	# shellcheck disable=SC2086 # $NOBODY: a command and its options
	if ! ns_exec "$NS_PRR" $NOBODY test -x "$ctl" 2>/dev/null; then
		ctl=$TOPO_DIR/prrctl
		step "copy prrctl for user nobody" \
			install -m 755 "$PRRCTL" "$ctl" || return
		chmod 755 "$TOPO_DIR"
	fi
	conf=$(prr_ctl show config)
	# shellcheck disable=SC2086 # $NOBODY: a command and its options
	out=$(ns_exec "$NS_PRR" $NOBODY "$ctl" set source-check off 2>&1) ||
		rc=$?
	ktap_expect "user nobody: prrctl set fails with exit 1, Operation not permitted, nothing changed" \
		"1 Error: Operation not permitted. $conf" \
		"$rc $out $(prr_ctl show config)"
	rc=0
	# shellcheck disable=SC2086 # $NOBODY: a command and its options
	out=$(ns_exec "$NS_PRR" $NOBODY "$ctl" show config 2>&1) || rc=$?
	ktap_expect "user nobody: prrctl show config is allowed" \
		"0 $conf" "$rc $out"
}

reset_config()
{
	prr_ctl set source-check on >/dev/null 2>&1
	prr_ctl set unowned drop >/dev/null 2>&1
}

craft_start
topo_require
for variant in links bridge; do
	if ! topo_create "$variant" || ! step "RT1 answers nothing" rt1_silent
	then
		ktap_fail "[$variant] build the testbed"
		continue
	fi
	ns_sysctl "$NS_CPE1" net.ipv4.icmp_ratelimit=0
	ns_sysctl "$NS_CPE2" net.ipv4.icmp_ratelimit=0
	config_is "[$variant] a new namespace starts with $DEFAULT_CONFIG" \
		"$(config_want on drop show)" show
	prr_prime_arp
	run_test test_source_ports "$variant"
	run_test test_other_cpe "$variant"
	run_test test_hairpin "$variant"
	if [ "$variant" = links ]; then
		run_test test_source_check_off
		reset_config
		run_test test_unowned
		reset_config
		run_test test_set_errors
	fi
	topo_destroy
done
ktap_finish
