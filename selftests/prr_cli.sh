#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prrctl behaviour seen from the command line and the data path: output
# formats (text and JSON), every rejected input (exact message, exit code,
# configuration unchanged), del-cpe and flush taking effect on traffic,
# per-namespace isolation, entry-counters off (no per-entry counters, traffic
# still forwarded and counted per namespace), and permissions (unprivileged
# users may read, only CAP_NET_ADMIN over the namespace may write).
# Separate links.

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"

PORTS1="1024,1025,2047,3072,9216,61439"		# in 0x0400/0x1400
PORTS2="4096,4097,5119,6144,12288,64511"	# in 0x1000/0x1400
NOBODY="setpriv --reuid 65534 --regid 65534 --clear-groups"

add_both_cpes()
{
	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" \
		dev "$CPE1_DEV" &&
		prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR"
}

json_keys()
{
	jq -c "$1 | keys" 2>&1
}

test_formats()
{
	local err rc=0 show line want n

	err=$(prr_ctl add-cpe "$SHARED" port-value 0x0400 port-mask 0x1400 \
		via "$CPE1_ADDR" dev "$CPE1_DEV" 2>&1 >/dev/null) || rc=$?
	ktap_expect "add-cpe succeeds silently with exit 0" "0 " "$rc $err"
	prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR" || return
	prr_add port-value 0x1400 port-mask 0x1400 local || return
	prr_add port-value 0x0000 port-mask 0x1400 drop || return

	show=$(prr_ctl show)
	n=$(grep -cE '^192\.0\.2\.1 port-value 0x[0-9a-f]{4} port-mask 0x[0-9a-f]{4} (via [0-9.]+( dev [^ ]+)?|local|drop) packets [0-9]+ bytes [0-9]+$' \
		<<<"$show")
	ktap_expect "show: the settings, then one line per entry in the add-cpe grammar plus counters" \
		"source-check on unowned drop entry-counters on 5 4" \
		"$(head -n 1 <<<"$show") $(grep -c . <<<"$show") $n"
	for want in \
		"192.0.2.1 port-value 0x0400 port-mask 0x1400 via $CPE1_ADDR dev $CPE1_DEV packets 0 bytes 0" \
		"192.0.2.1 port-value 0x1400 port-mask 0x1400 local packets 0 bytes 0" \
		"192.0.2.1 port-value 0x0000 port-mask 0x1400 drop packets 0 bytes 0"; do
		line=$(grep -F -x -- "$want" <<<"$show")
		ktap_expect "show prints '$want'" "$want" "$line"
	done

	ktap_expect "-j show: an array of 4 objects with exactly the documented keys" \
		'4 [["action","addr","bytes","dev","name","packets","port_mask","port_value","set","via"]]' \
		"$(prr_ctl -j show | jq -c 'length, ([.[] | keys] | unique)' |
			paste -s -d' ')"
	ktap_expect "-j show: the via entry with dev, as documented" \
		"{\"action\":\"via\",\"addr\":\"192.0.2.1\",\"bytes\":0,\"dev\":\"$CPE1_DEV\",\"name\":null,\"packets\":0,\"port_mask\":5120,\"port_value\":1024,\"set\":{\"form\":\"piece\",\"pieces\":1,\"text\":\"port-value 0x0400 port-mask 0x1400\"},\"via\":\"$CPE1_ADDR\"}" \
		"$(prr_ctl -j show | jq -S -c '.[] | select(.port_value == 1024)')"
	ktap_expect "-j show: local and drop entries have null via and dev" \
		'drop null null local null null' \
		"$(prr_ctl -j show | jq -r '.[] | select(.action != "via") |
			"\(.action) \(.via) \(.dev)"' | sort | paste -s -d' ')"
	ktap_expect "-j stats: exactly the documented counters, all numbers" \
		'["drop_malformed","drop_nat_exhausted","drop_nat_no_port","drop_nat_untranslated","drop_no_entry","drop_no_port","drop_policy","drop_spoofed","drop_unreachable","forwarded","local","nat_mapped","validated"] true' \
		"$(prr_ctl -j stats | jq -c 'keys, ([.[] | type] | all(. == "number"))' |
			paste -s -d' ')"
	ktap_expect "stats: one 'name value' line per counter" \
		"drop_malformed drop_nat_exhausted drop_nat_no_port drop_nat_untranslated drop_no_entry drop_no_port drop_policy drop_spoofed drop_unreachable forwarded local nat_mapped validated" \
		"$(prr_ctl stats | awk 'NF == 2 && $2 ~ /^[0-9]+$/ { print $1 }' |
			sort | paste -s -d' ')"

	readd_shown "$show"
	ktap_expect "show output re-added with add-cpe gives the same table" \
		"$show" "$(prr_ctl show)"
	prr_flush
	ktap_expect "-j show of an empty table is []" "[]" \
		"$(prr_ctl -j show | jq -c .)"
}

# expect_reject DESC CODES ERE ARGS...: `prrctl ARGS` in the PRR exits with
# one of CODES, prints one stderr line matching ERE and leaves `show` as it
# was.
expect_reject()
{
	local desc=$1 codes=$2 re=$3 before after err rc=0 problems=()

	shift 3
	before=$(prr_ctl show 2>&1)
	err=$(prr_ctl "$@" 2>&1 >/dev/null) || rc=$?
	after=$(prr_ctl show 2>&1)
	[[ " $codes " == *" $rc "* ]] ||
		problems+=("exit code $rc, expected $codes")
	[ -n "$err" ] && [ "$(wc -l <<<"$err")" -eq 1 ] ||
		problems+=("stderr is not exactly one line")
	grep -Eq -- "$re" <<<"$err" || problems+=("stderr does not match /$re/")
	[ "$before" = "$after" ] || problems+=("prrctl show changed")
	if [ ${#problems[@]} -eq 0 ]; then
		ktap_ok "$desc"
	else
		ktap_fail "$desc" "command: prrctl $*" "${problems[@]}" \
			"stderr: $err"
	fi
}

test_rejects()
{
	local key="$SHARED port-value 0x1400 port-mask 0x1400"	# free set

	add_both_cpes || return
	step "route to 10.99.0.0/24 in the PRR" \
		ip -n "$NS_PRR" route add 10.99.0.0/24 via "$RT1_ADDR" || return

	expect_reject "partial overlap names the existing entry" 1 \
		'^Error: port set partially overlaps an existing entry: 192\.0\.2\.1 port-value 0x0400 port-mask 0x1400\.?$' \
		add-cpe "$SHARED" port-value 0x0400 port-mask 0x0c00 drop
	expect_reject "the same set twice: entry already exists" 1 \
		'^Error: entry already exists\.$' \
		add-cpe "$SHARED" port-value 0x0400 port-mask 0x1400 drop
	expect_reject "value with bits outside the mask" 1 \
		'^Error: port value has bits outside the port mask\.$' \
		add-cpe "$SHARED" port-value 0x0401 port-mask 0x1400 drop
	expect_reject "next hop without a route" 1 \
		'^Error: next hop is not directly connected\.$' \
		add-cpe $key via 192.0.2.99
	expect_reject "next hop reachable only through a gateway" 1 \
		'^Error: next hop is not directly connected\.$' \
		add-cpe $key via 10.99.0.5
	expect_reject "next hop is one of the PRR's own addresses" 1 \
		'^Error: next hop is a local address\.$' \
		add-cpe $key via "$PRR_CPE1_ADDR"
	expect_reject "unknown device" "1 2" '[Dd]evice' \
		add-cpe $key via "$CPE1_ADDR" dev nosuchdev0
	expect_reject "next hop not on-link on the given device" 1 \
		'^Error: next hop is not reachable through that device\.$' \
		add-cpe $key via "$CPE1_ADDR" dev rt1
	expect_reject "multicast shared address" 1 \
		'^Error: shared address must be a unicast address\.$' \
		add-cpe 224.1.2.3 port-value 0x1400 port-mask 0x1400 drop
	expect_reject "broadcast shared address" 1 \
		'^Error: shared address must be a unicast address\.$' \
		add-cpe 255.255.255.255 port-value 0x1400 port-mask 0x1400 drop
	expect_reject "del-cpe of an absent entry" 1 '^Error: no such entry\.$' \
		del-cpe "$SHARED" port-value 0x1c00 port-mask 0x1c00
	expect_reject "del-cpe needs the exact mask" 1 '^Error: no such entry\.$' \
		del-cpe "$SHARED" port-value 0x0400 port-mask 0x0400

	expect_reject "port value above 65535" 2 '^prrctl: ' \
		add-cpe "$SHARED" port-value 70000 port-mask 0xffff drop
	expect_reject "port mask above 0xffff" 2 '^prrctl: ' \
		add-cpe "$SHARED" port-value 0 port-mask 0x10000 drop
	expect_reject "port value not a number" 2 '^prrctl: ' \
		add-cpe "$SHARED" port-value abc port-mask 0x1400 drop
	expect_reject "negative port value" 2 '^prrctl: ' \
		add-cpe "$SHARED" port-value -1 port-mask 0x1400 drop
	expect_reject "trailing junk in a number" 2 '^prrctl: ' \
		add-cpe "$SHARED" port-value 0x1400x port-mask 0x1400 drop
	expect_reject "bad shared address" 2 '^prrctl: ' \
		add-cpe 192.0.2 port-value 0x1400 port-mask 0x1400 drop
	expect_reject "bad next hop address" 2 '^prrctl: ' \
		add-cpe $key via 10.0.1.256
	expect_reject "via without a next hop" 2 '^prrctl: ' \
		add-cpe $key via
	expect_reject "missing action" 2 '^prrctl: ' add-cpe $key
	expect_reject "missing port mask" 2 '^prrctl: ' \
		add-cpe "$SHARED" port-value 0x1400 drop
	expect_reject "unknown action" 2 '^prrctl: ' \
		add-cpe $key forward "$CPE1_ADDR"
	expect_reject "next hop given to action local" "1 2" \
		'^(prrctl: |Error: next hop only applies to action via\.$)' \
		add-cpe $key local via "$CPE1_ADDR"
	expect_reject "trailing argument" 2 '^prrctl: ' \
		add-cpe $key drop now
	expect_reject "unknown command" 2 '^prrctl: ' frobnicate
	expect_reject "del-cpe without mask" 2 '^prrctl: ' \
		del-cpe "$SHARED" port-value 0x0400
	ip -n "$NS_PRR" route del 10.99.0.0/24
}

# Sends PORTS1 and PORTS2 from RT1; COUNTS is set to the numbers of
# packets CPE-1 and CPE-2 received ("" when that could not be done).
send_both_sets()
{
	COUNTS=
	rx_start c1 cpe1 --dst "$SHARED" || return
	rx_start c2 cpe2 --dst "$SHARED" || return
	send_from rt1 --dst "$SHARED" --proto udp --ports "$PORTS1,$PORTS2" \
		--quiet || return
	rx_stop
	COUNTS="$(rx_count c1) $(rx_count c2)"
}

test_del_flush()
{
	local before moved

	add_both_cpes || return
	send_both_sets
	ktap_expect "both CPEs receive their 6 ports" "6 6" "$COUNTS"

	prr_ctl del-cpe "$SHARED" port-value 0x0400 port-mask 0x1400 ||
		ktap_diag "del-cpe failed"
	ktap_expect "after del-cpe, show lists only CPE-2's entry" \
		"4096" "$(prr_ctl -j show | jq -r '.[].port_value' | paste -s -d' ')"
	before=$(prr_stats)
	send_both_sets
	ktap_expect "after del-cpe, CPE-1's ports reach nobody, CPE-2's still flow" \
		"0 6" "$COUNTS"
	ktap_expect "after del-cpe, CPE-1's ports count drop_no_entry" \
		"drop_no_entry=6 forwarded=6" "$(stats_moved "$before")"

	prr_ctl flush || ktap_diag "flush failed"
	ktap_expect "after flush, -j show is empty" "[]" \
		"$(prr_ctl -j show | jq -c .)"
	before=$(prr_stats)
	send_both_sets
	ktap_expect "after flush, no port reaches a CPE" "0 0" "$COUNTS"
	# With no entry left 192.0.2.1 is no shared address any more: the
	# packets are either dropped as drop_no_entry or left to routing
	# (which has no route for it); nothing may be forwarded.
	moved=$(stats_moved "$before")
	case $moved in
	"" | "drop_no_entry=12") ktap_ok "after flush, nothing counts as forwarded" ;;
	*) ktap_fail "after flush, nothing counts as forwarded" "moved: $moved" ;;
	esac

	add_both_cpes || return
	send_both_sets
	ktap_expect "entries added again after flush work at once" "6 6" \
		"$COUNTS"
}

# entry-counters off: CPE-1 is added without counters, CPE-2 (after
# "on" again) with; both forward, and the namespace still counts.
test_entry_counters()
{
	local before show out

	prr_ctl set entry-counters off || ktap_diag "set entry-counters off failed"
	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" || return
	prr_ctl set entry-counters on || ktap_diag "set entry-counters on failed"
	prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR" || return
	before=$(prr_stats)
	send_both_sets
	ktap_expect "entry-counters off: both CPEs still receive their 6 ports" \
		"6 6" "$COUNTS"
	ktap_expect "... and the namespace counts them forwarded" \
		"forwarded=12" "$(stats_moved "$before")"
	show=$(prr_ctl show)
	ktap_expect "show: no counters for the entry added with it off, 6 packets for the other" \
		"192.0.2.1 port-value 0x0400 port-mask 0x1400 via $CPE1_ADDR
192.0.2.1 port-value 0x1000 port-mask 0x1400 via $CPE2_ADDR packets 6" \
		"$(grep '^192' <<<"$show" | sed 's/ bytes [0-9]*$//')"
	ktap_expect "-j show: no packets and bytes keys for it" \
		'[[1024,false,false],[4096,true,true]]' \
		"$(prr_ctl -j show | jq -c 'map([.port_value, has("packets"), has("bytes")])')"
	ktap_expect "show config and -j show config say entry-counters on" \
		'source-check on unowned drop entry-counters on "on"' \
		"$(prr_ctl show config) $(prr_ctl -j show config | jq -c .entry_counters)"
	out=$(prr_ctl set entry-counters maybe 2>&1)
	ktap_expect "a bad value is refused with one line, exit 2" \
		'2 prrctl: invalid entry-counters "maybe": expected "on" or "off"' \
		"$? $out"
}

test_isolation()
{
	local iso show before before1 before2 zero

	add_both_cpes || return
	show=$(prr_ctl show)
	topo_add_ns iso || return
	iso=$TOPO_NEW_NS
	zero='{"drop_malformed":0,"drop_nat_exhausted":0,"drop_nat_no_port":0,"drop_nat_untranslated":0,"drop_no_entry":0,"drop_no_port":0,"drop_policy":0,"drop_spoofed":0,"drop_unreachable":0,"forwarded":0,"local":0,"nat_mapped":0,"validated":0}'
	ktap_expect "another namespace sees none of the PRR's entries" "[]" \
		"$(ns_exec "$iso" "$PRRCTL" -j show | jq -c .)"
	ktap_expect "... and has its own, zero, counters" "$zero" \
		"$(ns_exec "$iso" "$PRRCTL" -j stats | jq -S -c .)"
	ns_exec "$iso" "$PRRCTL" add-cpe "$SHARED" port-value 0 \
		port-mask 0 drop || ktap_diag "add-cpe in $iso failed"
	ktap_expect "an entry added there does not appear in the PRR" \
		"$show" "$(prr_ctl show)"

	# CPE-1 drops everything to the shared address in its own namespace.
	ctl_in cpe1 add-cpe "$SHARED" port-value 0 port-mask 0 drop ||
		ktap_diag "add-cpe in CPE-1 failed"
	before=$(prr_stats)
	before1=$(ctl_in cpe1 -j stats)
	before2=$(ctl_in cpe2 -j stats)
	send_both_sets
	ktap_expect "the other namespaces' drop-all entries do not affect the PRR" \
		"6 6" "$COUNTS"
	ktap_expect "the PRR counts its own forwarding only" "forwarded=12" \
		"$(stats_moved "$before")"
	ktap_expect "CPE-1's own drop entry acts in CPE-1's namespace" \
		"drop_policy=6" "$(stats_moved "$before1" cpe1)"
	ktap_expect "the PRR's entries do nothing in CPE-2's namespace" \
		"" "$(stats_moved "$before2" cpe2)"
	ktap_expect "the unrelated namespace's counters did not move" "$zero" \
		"$(ns_exec "$iso" "$PRRCTL" -j stats | jq -S -c .)"

	show=$(prr_ctl show)
	ns_exec "$iso" "$PRRCTL" flush
	ktap_expect "flush in another namespace leaves the PRR's entries" \
		"$show" "$(prr_ctl show)"
	ktap_expect "... and CPE-1's" "1" "$(ctl_in cpe1 -j show | jq length)"
	ctl_in cpe1 flush
}

# NOBODY_CTL: prrctl, or a copy that user nobody can run wherever the
# checkout is.
prrctl_for_nobody()
{
	NOBODY_CTL=$PRRCTL
	ns_exec "$NS_PRR" $NOBODY test -x "$PRRCTL" 2>/dev/null && return
	NOBODY_CTL=$TOPO_DIR/prrctl
	step "copy prrctl for user nobody" \
		install -m 755 "$PRRCTL" "$NOBODY_CTL" || return 1
	chmod 755 "$TOPO_DIR"
}

# expect_eperm DESC CMD...: CMD fails with exit 1 and exactly
# "Error: Operation not permitted." and `show` is unchanged.
expect_eperm()
{
	local desc=$1 before err rc=0

	shift
	before=$(prr_ctl show)
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	ktap_expect "$desc" "1 Error: Operation not permitted. unchanged" \
		"$rc $err $([ "$before" = "$(prr_ctl show)" ] && echo unchanged)"
}

test_permissions()
{
	local ctl show out rc=0

	add_both_cpes || return
	prrctl_for_nobody || return
	ctl=$NOBODY_CTL
	show=$(prr_ctl show)

	expect_eperm "user nobody: add-cpe is not permitted" \
		ns_exec "$NS_PRR" $NOBODY "$ctl" add-cpe "$SHARED" \
		port-value 0x1400 port-mask 0x1400 drop
	expect_eperm "user nobody: del-cpe is not permitted" \
		ns_exec "$NS_PRR" $NOBODY "$ctl" del-cpe "$SHARED" \
		port-value 0x0400 port-mask 0x1400
	expect_eperm "user nobody: flush is not permitted" \
		ns_exec "$NS_PRR" $NOBODY "$ctl" flush
	expect_eperm "user nobody: set is not permitted" \
		ns_exec "$NS_PRR" $NOBODY "$ctl" set source-check off
	out=$(ns_exec "$NS_PRR" $NOBODY "$ctl" show 2>&1) || rc=$?
	ktap_expect "user nobody: show is allowed and shows the same table" \
		"0 $show" "$rc $out"
	rc=0
	out=$(ns_exec "$NS_PRR" $NOBODY "$ctl" -j stats 2>&1 | jq -S -c . 2>&1) ||
		rc=$?
	ktap_expect "user nobody: stats is allowed and gives root's numbers" \
		"0 $(prr_ctl -j stats | jq -S -c .)" "$rc $out"

	expect_eperm "root of a child user namespace cannot write the PRR's table" \
		ns_exec "$NS_PRR" unshare -Ur "$ctl" add-cpe "$SHARED" \
		port-value 0x1400 port-mask 0x1400 drop
	rc=0
	# shellcheck disable=SC2016
	out=$(ns_exec "$NS_PRR" unshare -Urn sh -c \
		'"$1" add-cpe 192.0.2.1 port-value 0 port-mask 0 drop &&
		 "$1" -j show' sh "$ctl" 2>&1 | jq -c '[.[] | .action]' 2>&1) ||
		rc=$?
	ktap_expect "root of its own user+net namespace configures that namespace" \
		'0 ["drop"]' "$rc $out"
	ktap_expect "... which leaves the PRR's table alone" "$show" \
		"$(prr_ctl show)"
}

topo_require
if topo_create links; then
	run_test test_formats
	run_test test_rejects
	run_test test_del_flush
	run_test test_entry_counters
	run_test test_isolation
	run_test test_permissions
	topo_destroy
else
	ktap_fail "build the testbed"
fi
ktap_finish
