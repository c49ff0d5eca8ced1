#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Port-set notations end to end (docs/notations.md): for every form add-cpe
# takes (one piece, pairs, "ports LO-HI", "psid P psid-len K [psid-offset
# A]" of RFC 7597 §5.1, "portparams" as DHCP tools print RFC 7598/7618
# PORTPARAMS), show prints the CPE on one line in the canonical form, the
# kernel holds exactly the set (checked against the RFC definition on all
# 65,536 ports) and packets to a port inside and outside the set reach the
# right CPE.  Names: show and del-cpe by name.  Round trip: save, flush,
# restore give the same table.  All or nothing: a psid add whose third piece
# partially overlaps an entry changes nothing and says which piece.
# Separate links; a default entry sends whatever the set does not hold to
# CPE-2.
#
# The kernel side of these forms (PRR_A_PIECES, PRR_A_NAME) is tested on
# every kernel by prr_netlink; this test is about prrctl, so one kernel:
# prr-kernels: 6.1

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"

PSID_CANON="psid 0x34 psid-len 8 psid-offset 6"
# RFC 7599 App. A example 1, as pieces (docs/notations.md).
PSID_PIECES="[[1232,65532],[2256,64508],[4304,62460],[8400,58364],[16592,50172],[32976,33788]]"

add_default_to_cpe2()
{
	prr_add port-value 0 port-mask 0 via "$CPE2_ADDR"
}

# pieces_of NAME: the [value, mask] pairs of the entries named NAME, sorted.
pieces_of()
{
	prr_ctl -j show | jq -c --arg n "$1" \
		'[.[] | select(.name == $n) | [.port_value, .port_mask]] | sort'
}

# set_is PIECES_JSON DEFINITION: the union of PIECES holds exactly the ports
# for which the Python expression DEFINITION (of p) is true, each in one
# piece only.  Prints "ok" or what differs.
set_is()
{
	python3 - "$1" "$2" <<'EOF'
import json, sys
pieces = json.loads(sys.argv[1])
define = eval("lambda p: " + sys.argv[2])
held = [0] * 65536
for v, m in pieces:
    free = ~m & 0xffff
    x = free
    while True:             # every submask x of the free bits
        held[v | x] += 1
        if not x:
            break
        x = (x - 1) & free
bad = [p for p in range(65536) if held[p] != (1 if define(p) else 0)]
print("ok" if not bad else "%d ports differ, first %s" % (len(bad), bad[:5]))
EOF
}

# RFC 7597 §5.1: PSID bits after the A leading bits, A field not 0.
psid_def()
{
	local psid=$1 len=$2 off=$3 m=$((16 - $2 - $3))

	echo "((p >> $m) & ((1 << $len) - 1)) == $psid and ($off == 0 or (p >> (16 - $off)) != 0)"
}

# route_of PORTS: "cpe1:P,P cpe2:P,P": who received a UDP packet to each port
# of the comma-separated list, sent from RT1.
route_of()
{
	rx_start c1 cpe1 --dst "$SHARED" || return
	rx_start c2 cpe2 --dst "$SHARED" || return
	send_from rt1 --dst "$SHARED" --proto udp --ports "$1" --quiet ||
		return
	rx_stop
	echo "cpe1:$(rx_pkts c1 | awk '{ print $2 }' | paste -s -d,)" \
		"cpe2:$(rx_pkts c2 | awk '{ print $2 }' | paste -s -d,)"
}

# check_form DESC CANON PIECES DEFINITION IN OUT WORDS...: add-cpe with
# WORDS via CPE-1 named "f"; show prints CANON; the kernel holds PIECES,
# which are the set DEFINITION; ports IN reach CPE-1, OUT CPE-2.  With
# DEFINITION "-", the set and the packets are not checked again (the same
# PIECES were).
check_form()
{
	local desc=$1 canon=$2 pieces=$3 def=$4 in=$5 out=$6

	shift 6
	add_default_to_cpe2 || return
	prr_add "$@" via "$CPE1_ADDR" name f || return
	ktap_expect "$desc: show prints the CPE on one line, canonical" \
		"$SHARED $canon via $CPE1_ADDR name f packets 0 bytes 0" \
		"$(prr_ctl show name f)"
	ktap_expect "$desc: the kernel holds exactly its pieces" "$pieces" \
		"$(pieces_of f)"
	if [ "$def" != - ]; then
		ktap_expect "$desc: the pieces are the set, on all 65536 ports" \
			"ok" "$(set_is "$(pieces_of f)" "$def")"
		ktap_expect "$desc: ports inside reach CPE-1, outside CPE-2" \
			"cpe1:$in cpe2:$out" "$(route_of "$in,$out")"
	fi
	prr_flush
}

test_forms()
{
	# 208 = 0x00d0 has PSID 0x34 but A = 0: RFC 7597 §5.1 excludes it.
	check_form "psid (default offset 6)" "$PSID_CANON" "$PSID_PIECES" \
		"$(psid_def 0x34 8 6)" "1232,2259,64723" "208,1024,1236" \
		psid 0x34 psid-len 8
	# The same pieces as above: the set and packets are checked there.
	check_form "portparams 6,52/8 (Kea)" "$PSID_CANON" "$PSID_PIECES" \
		- - - portparams 6,52/8
	check_form "portparams 0x06083400 (option bytes)" "$PSID_CANON" \
		"$PSID_PIECES" - - - portparams 0x06083400
	check_form "portparams 06:08:34:00 (dhclient)" "$PSID_CANON" \
		"$PSID_PIECES" - - - portparams 06:08:34:00
	check_form "psid with offset 4, psid-len 4" \
		"psid 0x5 psid-len 4 psid-offset 4" \
		"[[5376,65280],[9472,61184],[17664,52992],[34048,36608]]" \
		"$(psid_def 5 4 4)" "5376,5631,62891" "1280,5632" \
		psid 5 psid-len 4 psid-offset 4
	check_form "ports 1000-1999" "ports 1000-1999" \
		"[[1000,65528],[1008,65520],[1024,65024],[1536,65280],[1792,65408],[1920,65472],[1984,65520]]" \
		"1000 <= p <= 1999" "1000,1500,1999" "999,2000" \
		ports 1000-1999
	check_form "one piece, non-contiguous mask" \
		"port-value 0x0400 port-mask 0x1400" "[[1024,5120]]" \
		"(p & 0x1400) == 0x0400" "1024,3072,61439" "4096,5120" \
		port-value 0x0400 port-mask 0x1400
	check_form "pairs" \
		"port-value 0x0400 port-mask 0xff00 port-value 0x8000 port-mask 0xffc0" \
		"[[1024,65280],[32768,65472]]" \
		"1024 <= p <= 1279 or 32768 <= p <= 32831" "1024,32831" \
		"1280,32832" \
		port-value 0x8000 port-mask 0xffc0 port-value 0x0400 port-mask 0xff00
}

test_names()
{
	add_default_to_cpe2 || return
	prr_add psid 0x34 psid-len 8 via "$CPE1_ADDR" name alice || return
	prr_add ports 4000-4099 via "$CPE1_ADDR" name alice || return
	prr_add psid 0x35 psid-len 8 via "$CPE1_ADDR" name bob || return
	expect_lines "show name alice: both of alice's CPEs, nothing else" \
		"$SHARED ports 4000-4099 via $CPE1_ADDR name alice packets 0 bytes 0
$SHARED $PSID_CANON via $CPE1_ADDR name alice packets 0 bytes 0" \
		"$(prr_ctl show name alice | LC_ALL=C sort)"
	ktap_expect "-j show: alice's 6 + 3 entries carry her name" "9" \
		"$(prr_ctl -j show | jq '[.[] | select(.name == "alice")] | length')"
	ktap_expect "del-cpe name alice succeeds silently" "" \
		"$(prr_ctl del-cpe name alice 2>&1)"
	ktap_expect "... and removes every entry of alice, only those" \
		"0 6 1" \
		"$(prr_ctl -j show | jq -r '[([.[] | select(.name == "alice")] | length), ([.[] | select(.name == "bob")] | length), ([.[] | select(.name == null)] | length)] | join(" ")')"
	ktap_expect "... and alice's ports reach the default CPE-2 now" \
		"cpe1:1236 cpe2:1232,4050" "$(route_of 1232,1236,4050)"
	ktap_expect "del-cpe of an unknown name: the kernel's error, exit 1" \
		"1 Error: no entry has that name." \
		"$(rc=0; err=$(prr_ctl del-cpe name alice 2>&1) || rc=$?; echo "$rc $err")"
	ktap_expect "del-cpe ADDR name NAME of another address: not found" \
		"1 Error: no entry has that name." \
		"$(rc=0; err=$(prr_ctl del-cpe 192.0.2.9 name bob 2>&1) || rc=$?; echo "$rc $err")"
	ktap_expect "del-cpe ADDR SET removes the CPE by its set" "" \
		"$(prr_ctl del-cpe "$SHARED" portparams 6,53/8 2>&1; pieces_of bob | tr -d '[]')"
}

# The show/save text of the table, without the settings line.
table_text()
{
	prr_ctl save | sed 1d
}

add_mixed_table()
{
	prr_add psid 0x34 psid-len 8 via "$CPE1_ADDR" dev "$CPE1_DEV" \
		name cpe-1 &&
		prr_add ports 0-1023 local &&
		prr_add ports 2000-2099 drop name "x!y~" &&
		prr_add psid 0x35 psid-len 8 via "$CPE2_ADDR" &&
		prr_add psid 0x36 psid-len 8 via "$CPE2_ADDR" &&
		prr_add port-value 0x0000 port-mask 0x0000 via "$CPE2_ADDR" &&
		prr_add port-value 0x0400 port-mask 0xff00 \
			port-value 0x8000 port-mask 0xffc0 drop
}

test_round_trip()
{
	local save json f out show

	add_mixed_table || return
	save=$(table_text)
	json=$(prr_ctl -j show | jq -S -c 'map(del(.packets, .bytes))')
	show=$(prr_ctl show)
	expect_lines "save: one add-cpe line per CPE, canonical, with names" \
		"add-cpe 192.0.2.1 port-value 0x0000 port-mask 0x0000 via $CPE2_ADDR
add-cpe 192.0.2.1 psid 0x34 psid-len 8 psid-offset 6 via $CPE1_ADDR dev $CPE1_DEV name cpe-1
add-cpe 192.0.2.1 psid 0x35 psid-len 8 psid-offset 6 via $CPE2_ADDR
add-cpe 192.0.2.1 psid 0x36 psid-len 8 psid-offset 6 via $CPE2_ADDR
add-cpe 192.0.2.1 port-value 0x0000 port-mask 0xfc00 local
add-cpe 192.0.2.1 port-value 0x0400 port-mask 0xff00 port-value 0x8000 port-mask 0xffc0 drop
add-cpe 192.0.2.1 ports 2000-2099 drop name x!y~" "$save"
	f="$TOPO_DIR/saved"
	prr_ctl save >"$f"
	prr_flush
	out=$(prr_ctl restore "$f" 2>&1)
	ktap_expect "save, flush, restore: silent" "" "$out"
	ktap_expect "... the same save text" "$save" "$(table_text)"
	ktap_expect "... the same entries, names and sets (-j show)" "$json" \
		"$(prr_ctl -j show | jq -S -c 'map(del(.packets, .bytes))')"
	ktap_expect "... the same show" "$show" "$(prr_ctl show)"

	prr_flush
	out=$(prr_ctl -batch "$f" 2>&1)
	ktap_expect "-batch of the saved file gives the same table" \
		"$save" "$out$(table_text)"

	readd_shown "$show"
	ktap_expect "show's lines re-added with add-cpe give the same table" \
		"$save" "$(table_text)"
	ktap_expect "the two unnamed psid CPEs via CPE-2 stay two lines" "2" \
		"$(prr_ctl show | grep -c "psid 0x3[56] .* via $CPE2_ADDR packets")"
}

test_all_or_nothing()
{
	local before err rc=0

	add_default_to_cpe2 || return
	# Intersects only the third piece of psid 0x34 (0x10d0/0xf3fc), with
	# incomparable masks: a partial overlap.
	prr_add port-value 0x1000 port-mask 0x1001 drop || return
	before=$(prr_ctl -j show)
	err=$(prr_ctl add-cpe "$SHARED" psid 0x34 psid-len 8 via "$CPE1_ADDR" \
		name alice 2>&1) || rc=$?
	ktap_expect "psid add whose 3rd piece overlaps: exit 1, the piece named" \
		"1 Error: port set partially overlaps an existing entry: 192.0.2.1 port-value 0x1000 port-mask 0x1001 (piece 3: port-value 0x10d0 port-mask 0xf3fc)." \
		"$rc $err"
	ktap_expect "... and the table is unchanged (no piece added)" \
		"$before" "$(prr_ctl -j show)"
	ktap_expect "... and the first pieces' ports still reach CPE-2" \
		"cpe1: cpe2:1232,2256" "$(route_of 1232,2256)"

	prr_flush
	add_default_to_cpe2 || return
	prr_add ports 5000-5099 via "$CPE1_ADDR" name r || return
	prr_add ports 6000-6009 via "$CPE1_ADDR" name s || return
	before=$(prr_ctl -j show)
	rc=0
	err=$(prr_ctl del-cpe "$SHARED" ports 5000-5199 2>&1) || rc=$?
	ktap_expect "del-cpe of a range with an absent piece: exit 1, the piece named" \
		"1 Error: no such entry (piece 4: port-value 0x13c0 port-mask 0xffc0)." \
		"$rc $err"
	ktap_expect "... and nothing is removed" "$before" "$(prr_ctl -j show)"

	rc=0
	err=$(prr_ctl add-cpe "$SHARED" ports 6000-6009 drop 2>&1) || rc=$?
	ktap_expect "range add whose first piece exists: entry already exists" \
		"1 Error: entry already exists (piece 1: port-value 0x1770 port-mask 0xfff8)." \
		"$rc $err"
	ktap_expect "... and the table is unchanged" "$before" \
		"$(prr_ctl -j show)"
}

# expect_usage DESC ERE ARGS...: exit 2, one stderr line matching ERE,
# the table unchanged.
expect_usage()
{
	local desc=$1 re=$2 before err rc=0

	shift 2
	before=$(prr_ctl -j show)
	err=$(prr_ctl "$@" 2>&1 >/dev/null) || rc=$?
	if [ "$rc" = 2 ] && [ "$(wc -l <<<"$err")" = 1 ] &&
	   grep -Eq -- "$re" <<<"$err" && [ "$before" = "$(prr_ctl -j show)" ]; then
		ktap_ok "$desc"
	else
		ktap_fail "$desc" "prrctl $*" "exit $rc" "stderr: $err"
	fi
}

test_bad_input()
{
	add_default_to_cpe2 || return
	expect_usage "name with a blank" '^prrctl: invalid name "a b"' \
		add-cpe "$SHARED" ports 10-20 drop name "a b"
	expect_usage "name of 32 characters" '^prrctl: invalid name ' \
		add-cpe "$SHARED" ports 10-20 drop \
		name abcdefghijabcdefghijabcdefghijab
	expect_usage "name starting with #" '^prrctl: invalid name "#1"' \
		add-cpe "$SHARED" ports 10-20 drop name "#1"
	expect_usage "two forms" '^prrctl: "ports" and "psid" exclude each other$' \
		add-cpe "$SHARED" ports 10-20 psid 1 psid-len 4 drop
	expect_usage "offset + length above 16" \
		'^prrctl: psid-offset 10 \+ psid-len 8 exceed 16 bits$' \
		add-cpe "$SHARED" psid 1 psid-len 8 psid-offset 10 drop
	expect_usage "ambiguous portparams" \
		'^prrctl: portparams psid field 0x3401 has bits beyond psid-len 8$' \
		add-cpe "$SHARED" portparams 0x06083401 drop
	expect_usage "reversed range" '^prrctl: invalid ports "20-10"' \
		add-cpe "$SHARED" ports 20-10 drop
	expect_usage "del-cpe with a name and a set" \
		'^prrctl: "name" and a port set exclude each other$' \
		del-cpe "$SHARED" ports 10-20 name x
	expect_usage "help of an unknown command" \
		'^prrctl: unknown command "frob", try "prrctl help"$' help frob
	ktap_expect "prrctl help add-cpe and prrctl add-cpe help: the usage" \
		"0 0 Usage: prrctl add-cpe ADDR SET via GW [dev IFNAME] [name NAME]" \
		"$(rc=0; a=$(prr_ctl help add-cpe) || rc=$?; b=$(prr_ctl add-cpe help) || rc2=$?; [ "$a" = "$b" ] && echo "$rc ${rc2:-0} $(head -n 1 <<<"$a")")"
}

topo_require
if topo_create links; then
	run_test test_forms
	run_test test_names
	run_test test_round_trip
	run_test test_all_or_nothing
	run_test test_bad_input
	topo_destroy
else
	ktap_fail "build the testbed"
fi
ktap_finish
