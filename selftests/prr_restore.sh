#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prrctl save, restore and -batch.  save prints a file that restore and
# -batch read back into the same table; restore replaces the table all at
# once or not at all (a bad line, an entry the kernel refuses: nothing
# changes, and the error names the line); -batch stops at its first failing
# line with the lines before it applied and none after, or goes on with
# -force; a device a line names is looked up again on later lines until it
# exists.  Under a packet stream, a restore that moves a port set from CPE-1
# to CPE-2 switches that set's packets once, each packet reaching exactly one
# CPE, while a set both tables route alike loses none and keeps its
# counters.  Bulk loading 100,000 entries reports entries/s.  Separate links.

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"

BULK_ENTRIES=${PRR_BULK_ENTRIES:-100000}
STREAM_BURST=20		# packets per port and burst
STREAM_PPS=200
STREAM_AFTER=20		# packets of the moved set before and after restore

# A file under the testbed's directory, with the given lines.
tmpfile()
{
	local f="$TOPO_DIR/$1"

	shift
	printf '%s\n' "$@" >"$f"
	echo "$f"
}

# show, sorted: the order of a dump is the table's, not the file's.
show_sorted()
{
	prr_ctl show | LC_ALL=C sort
}

# run_ctl ARGS: prrctl in the PRR namespace; prints "RC<TAB>STDERR".
run_ctl()
{
	local err rc=0

	err=$(prr_ctl "$@" 2>&1 >/dev/null) || rc=$?
	printf '%s\t%s' "$rc" "$err"
}

reset_settings()
{
	prr_ctl set source-check on unowned drop
}

add_sample_table()
{
	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" \
		dev "$CPE1_DEV" &&
		prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR" &&
		prr_add port-value 0x1400 port-mask 0x1400 local &&
		prr_add port-value 0x0000 port-mask 0x0000 drop &&
		prr_ctl add-cpe 192.0.2.2 port-value 0x8000 port-mask 0x8000 \
			via "$CPE2_ADDR" dev "$CPE2_DEV" &&
		prr_ctl set source-check off unowned reject
}

test_save_round_trip()
{
	local before save f out

	reset_settings

	add_sample_table || return
	before=$(show_sorted)
	save=$(prr_ctl save)
	expect_lines "save: the settings, then every entry sorted, as add-cpe lines" \
		"set source-check off unowned reject entry-counters on
add-cpe 192.0.2.1 port-value 0x0000 port-mask 0x0000 drop
add-cpe 192.0.2.1 port-value 0x0400 port-mask 0x1400 via $CPE1_ADDR dev $CPE1_DEV
add-cpe 192.0.2.1 port-value 0x1000 port-mask 0x1400 via $CPE2_ADDR
add-cpe 192.0.2.1 port-value 0x1400 port-mask 0x1400 local
add-cpe 192.0.2.2 port-value 0x8000 port-mask 0x8000 via $CPE2_ADDR dev $CPE2_DEV" \
		"$save"
	f=$(tmpfile saved "$save")
	ktap_expect "restore of the saved file succeeds silently" \
		"0	" "$(run_ctl restore "$f")"
	ktap_expect "... and the table shows the same" "$before" \
		"$(show_sorted)"
	ktap_expect "... and saves to the same text" "$save" "$(prr_ctl save)"

	prr_flush
	prr_ctl set source-check on unowned drop
	out=$(prr_ctl -batch - <"$f" 2>&1)
	ktap_expect "-batch of the saved file (stdin) succeeds silently" "" \
		"$out"
	ktap_expect "... and rebuilds the same table and settings" "$before" \
		"$(show_sorted)"

	prr_flush
	ktap_expect "restore from stdin into an empty table" "0	" \
		"$(run_ctl restore - <"$f")"
	ktap_expect "... gives the same table" "$before" "$(show_sorted)"

	f=$(tmpfile empty "# nothing" "")
	ktap_expect "restore of a file without entries succeeds" "0	" \
		"$(run_ctl restore "$f")"
	ktap_expect "... and empties the table (settings unnamed stay)" \
		"source-check off unowned reject entry-counters on" \
		"$(prr_ctl show)"
	prr_ctl set source-check on unowned drop
}

# expect_restore_refused DESC FILE WANT_ERROR: restore fails with exactly
# that one line on stderr and leaves show as it was.
expect_restore_refused()
{
	local desc=$1 f=$2 want=$3 before

	before=$(show_sorted)
	ktap_expect "$desc: refused, the error names the line" "1	$want" \
		"$(run_ctl restore "$f")"
	ktap_expect "$desc: the table and settings are unchanged" "$before" \
		"$(show_sorted)"
}

test_restore_all_or_nothing()
{
	local good f

	reset_settings

	add_sample_table || return
	good="add-cpe 192.0.2.1 port-value 0x0400 port-mask 0x1400 via $CPE2_ADDR"

	f=$(tmpfile bad-usage "set unowned drop" "$good" \
		"add-cpe 192.0.2.1 port-value 0x10000 port-mask 0x1400 local" \
		"add-cpe 192.0.2.1 port-value 0x1000 port-mask 0x1400 local")
	expect_restore_refused "restore with a bad number on line 3" "$f" \
		'prrctl: restore line 3: invalid port-value "0x10000": expected 0-65535 or 0x0-0xffff'

	f=$(tmpfile bad-cmd "$good" "del-cpe 192.0.2.1 port-value 0 port-mask 0")
	expect_restore_refused "restore with a del-cpe line" "$f" \
		'prrctl: restore line 2: "del-cpe" is not for restore: add-cpe, add-nat, set'

	f=$(tmpfile overlap "set source-check on" "# comment" "$good" \
		"add-cpe 192.0.2.1 port-value 0x0000 port-mask 0x0000 local" \
		"add-cpe 192.0.2.1 port-value 0x0800 port-mask 0x0800 drop" \
		"add-cpe 192.0.2.1 port-value 0x1000 port-mask 0x1400 local")
	expect_restore_refused "restore with a partial overlap on line 5" \
		"$f" \
		'prrctl: restore line 5: Error: port set partially overlaps an existing entry: 192.0.2.1 port-value 0x0400 port-mask 0x1400.'

	f=$(tmpfile unreachable "set unowned drop" \
		"add-cpe 192.0.2.1 port-value 0x1000 port-mask 0x1400 via 10.9.9.9" \
		"$good")
	expect_restore_refused "restore with an unreachable next hop on line 2" \
		"$f" \
		'prrctl: restore line 2: Error: next hop is not directly connected.'

	f=$(tmpfile dup "$good" "$good")
	expect_restore_refused "restore with a duplicate entry on line 2" \
		"$f" 'prrctl: restore line 2: Error: entry already exists.'

	f=$(tmpfile nat "$good" \
		"add-nat 192.0.2.1 from 192.168.1.0/24")
	expect_restore_refused "restore naming a NAT rule not configured" \
		"$f" \
		'prrctl: restore line 2: this NAT rule is not configured; restore does not change NAT rules (use add-nat)'

	ktap_expect "restore of a missing file" \
		"1	prrctl: cannot open $TOPO_DIR/nonexistent: No such file or directory" \
		"$(run_ctl restore "$TOPO_DIR/nonexistent")"
	f=$(tmpfile fine "$good")
	ktap_expect "after all these, a good restore still works (nothing left staged)" \
		"0	" "$(run_ctl restore "$f")"
	ktap_expect "... and is the whole table" "$good" \
		"$(prr_ctl save | sed 1d)"
}

entries_now()
{
	prr_ctl save | awk '$1 == "add-cpe" { print $4 }' | paste -s -d' '
}

test_batch_stop_and_force()
{
	local f line i

	reset_settings

	for i in 1 2 3 4 5; do
		line[i]="add-cpe 192.0.2.1 port-value $i port-mask 0xffff local"
	done
	f=$(tmpfile batch "# a batch" "${line[1]}" "" "${line[2]}" \
		"${line[1]}" "${line[3]}" "del-cpe 192.0.2.1 port-value 2 port-mask 0xffff" \
		"${line[4]}")
	ktap_expect "-batch stops at the first failing line, named" \
		"1	prrctl: batch line 5: Error: entry already exists." \
		"$(run_ctl -batch "$f")"
	ktap_expect "... with the lines before it applied, none after" \
		"0x0001 0x0002" "$(entries_now)"

	prr_flush
	ktap_expect "-force -batch reports the failing line and goes on" \
		"1	prrctl: batch line 5: Error: entry already exists." \
		"$(run_ctl -force -batch "$f")"
	ktap_expect "... applying every other line" "0x0001 0x0003 0x0004" \
		"$(entries_now)"

	prr_flush
	f=$(tmpfile usage "${line[1]}" "${line[2]}" "frobnicate now" \
		"${line[3]}")
	ktap_expect "-batch stops at an unknown command, named" \
		'1	prrctl: batch line 3: unknown command "frobnicate"' \
		"$(run_ctl -batch "$f")"
	ktap_expect "... with the lines before it applied, none after" \
		"0x0001 0x0002" "$(entries_now)"

	prr_flush
	f=$(tmpfile mixed "${line[1]}" "show" "set unowned reject" \
		"${line[2]}" "show config" "stats")
	ktap_expect "-batch runs reads in order between writes" \
		"source-check on unowned drop entry-counters on
192.0.2.1 port-value 0x0001 port-mask 0xffff local packets 0 bytes 0
source-check on unowned reject entry-counters on" \
		"$(prr_ctl -batch "$f" | grep -v -E '^[a-z_]+ [0-9]+$')"
	prr_ctl set unowned drop

	ktap_expect "-force without -batch is a usage error" \
		"2	prrctl: -force only goes with -batch" "$(run_ctl -force show)"
	ktap_expect "-batch with a command is a usage error" \
		"2	prrctl: unexpected argument \"show\" after -batch FILE" \
		"$(run_ctl -batch "$f" show)"
}

# -batch looks a device name up again on each line until it resolves:
# prrctl remembers the names it found (tools/prrctl/cmd.c), never a miss.
# The device appears while the batch is still reading its input, a FIFO.
test_batch_device_appears()
{
	local fifo=$TOPO_DIR/late.fifo err=$TOPO_DIR/late.err fd pid rc=0
	local line="add-cpe $SHARED port-value 7 port-mask 0xffff"

	line+=" via 10.99.0.2 dev prrlate0"
	prr_flush
	rm -f "$fifo"
	mkfifo "$fifo"
	ns_exec "$NS_PRR" timeout 30 "$PRRCTL" -force -batch "$fifo" \
		>/dev/null 2>"$err" &
	pid=$!
	exec {fd}<>"$fifo"	# read-write: never blocks, whatever prrctl does
	echo "$line" >&"$fd"
	wait_until 10 grep -q "batch line 1" "$err"
	ktap_expect "a line naming a missing device fails" \
		'prrctl: batch line 1: no such device "prrlate0"' "$(cat "$err")"
	ns_exec "$NS_PRR" ip link add prrlate0 type dummy &&
		ns_exec "$NS_PRR" ip addr add 10.99.0.1/24 dev prrlate0 &&
		ns_exec "$NS_PRR" ip link set prrlate0 up
	echo "$line" >&"$fd"
	exec {fd}>&-
	wait "$pid" || rc=$?
	ktap_expect "... the same line after the device appeared succeeds" \
		"1 0x0007" "$rc $(entries_now)"
	prr_flush
	ns_exec "$NS_PRR" ip link del prrlate0
}

# The tags that reached receiver NAME for destination port PORT.
tags_of()
{
	rx_tags "$1" "\$4 == $2"
}

count_words()
{
	wc -w <<<"$1"
}

# "ok" when every tag of A is below every tag of B (both non-empty).
ordered()
{
	local a=$1 b=$2

	if [ -z "$a" ] || [ -z "$b" ]; then
		echo "empty: '${a:0:20}' '${b:0:20}'"
	elif [ "${a##* }" -lt "${b%% *}" ]; then
		echo ok
	else
		echo "last on CPE-1 ${a##* }, first on CPE-2 ${b%% *}"
	fi
}

entry_packets_at_least()
{
	[ "$(prr_entry "$1" "$2" packets)" -ge "$3" ]
}

# stream PORT_A PORT_B: bursts of STREAM_BURST packets to each port from
# RT1 until $TOPO_DIR/stream.stop exists; tags keep counting up across
# bursts (PORT_A odd, PORT_B even).  One line per burst in stream.bursts.
stream()
{
	local tag=1

	: >"$TOPO_DIR/stream.bursts"
	while [ ! -e "$TOPO_DIR/stream.stop" ]; do
		send_from rt1 --dst "$SHARED" --proto udp --ports "$1,$2" \
			--repeat "$STREAM_BURST" --pps "$STREAM_PPS" \
			--tag "$tag" --quiet || return
		echo "$tag" >>"$TOPO_DIR/stream.bursts"
		tag=$((tag + 2 * STREAM_BURST))
	done
}

# The stream runs until the restore is over and the new table took at least
# STREAM_AFTER packets of the moved set, however slow the machine is.
test_atomic_under_traffic()
{
	local old new moving stable a b fwd0 fwd1 st rc total sender t0 t1
	# shellcheck disable=SC2034 # read by rx_start (dynamic scope)
	local RX_TIMEOUT_MS=600000

	moving=1024		# in 0x0400/0x1400: CPE-1, then CPE-2
	stable=2048		# in 0x0000/0x1400: CPE-1 in both tables
	old=$(tmpfile old \
		"add-cpe $SHARED port-value 0x0000 port-mask 0x1400 via $CPE1_ADDR dev $CPE1_DEV" \
		"add-cpe $SHARED port-value 0x0400 port-mask 0x1400 via $CPE1_ADDR dev $CPE1_DEV" \
		"add-cpe $SHARED port-value 0x1000 port-mask 0x1400 via $CPE2_ADDR dev $CPE2_DEV")
	new=$(tmpfile new \
		"add-cpe $SHARED port-value 0x0000 port-mask 0x1400 via $CPE1_ADDR dev $CPE1_DEV" \
		"add-cpe $SHARED port-value 0x0400 port-mask 0x1400 via $CPE2_ADDR dev $CPE2_DEV" \
		"add-cpe $SHARED port-value 0x1000 port-mask 0x1400 via $CPE1_ADDR dev $CPE1_DEV")
	step "restore the old table" prr_ctl restore "$old" || return
	rx_start c1 cpe1 --proto udp --dst "$SHARED" || return
	rx_start c2 cpe2 --proto udp --dst "$SHARED" || return
	fwd0=$(prr_ctl -j stats | jq .forwarded)

	rm -f "$TOPO_DIR/stream.stop"
	stream "$moving" "$stable" &
	sender=$!
	if ! wait_until 120 entry_packets_at_least 0x0400 0x1400 \
		"$STREAM_AFTER"; then
		ktap_fail "the stream reaches CPE-1 before the restore"
		: >"$TOPO_DIR/stream.stop"
		wait "$sender"
		return
	fi
	rc=0
	t0=$(date +%s%N)
	st=$(prr_ctl restore "$new" 2>&1) || rc=$?
	t1=$(date +%s%N)
	ktap_expect "restore during the stream succeeds" "0 " "$rc $st"
	ktap_diag "restore took $(((t1 - t0) / 1000000)) ms"
	wait_until 120 entry_packets_at_least 0x0400 0x1400 "$STREAM_AFTER"
	: >"$TOPO_DIR/stream.stop"
	wait "$sender"
	rx_stop
	fwd1=$(prr_ctl -j stats | jq .forwarded)

	total=$(($(wc -l <"$TOPO_DIR/stream.bursts") * STREAM_BURST))
	ktap_expect "every packet of the stream was forwarded" \
		"$((2 * total))" "$((fwd1 - fwd0))"
	a=$(tags_of c1 "$moving")
	b=$(tags_of c2 "$moving")
	ktap_expect "moved set: each packet reached exactly one CPE" \
		"$total $total" \
		"$(($(count_words "$a") + $(count_words "$b"))) $(echo "$a $b" | tr ' ' '\n' | grep . | sort -u | wc -l)"
	ktap_expect "moved set: CPE-1 got the stream's start, CPE-2 the rest, one switch" \
		ok "$(ordered "$a" "$b")"
	ktap_diag "moved set: $(count_words "$a") packets to CPE-1 before the swap, $(count_words "$b") to CPE-2 after"
	a=$(tags_of c1 "$stable")
	ktap_expect "set in both tables: CPE-1 got all its packets, once each, CPE-2 none" \
		"$total $total 0" \
		"$(count_words "$a") $(echo "$a" | tr ' ' '\n' | grep . | sort -u | wc -l) $(count_words "$(tags_of c2 "$stable")")"
	st=$(prr_entry 0x0000 0x1400 packets)
	ktap_expect "set in both tables: its counter went on across the restore" \
		ok "$([ "$st" -ge $((total - 2)) ] && [ "$st" -le "$total" ] &&
			echo ok || echo "$st of $total")"
	ktap_expect "moved set: its counter restarted with the new owner" \
		"$(count_words "$b")" "$(prr_entry 0x0400 0x1400 packets)"
}

# Writes N entries: 1000 port values on each of N/1000 addresses.
bulk_file()
{
	awk -v n="$1" -v gw="$2" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "add-cpe 198.18.%d.%d port-value %d port-mask 0xffff via %s\n",
				int(i / 1000 / 250), int(i / 1000) % 250 + 1,
				i % 1000, gw
	}'
}

# "P packs, A answers" from prrctl's PRRCTL_BATCH_STATS line in $1.
pack_answers()
{
	grep -o '[0-9]* packs, [0-9]* answers' <<<"$1"
}

saved_entries()
{
	prr_ctl save | grep -c '^add-cpe'
}

test_bulk_load()
{
	local f out rc=0 t0 t1 packs

	f="$TOPO_DIR/bulk"
	bulk_file "$BULK_ENTRIES" "$CPE1_ADDR" >"$f"
	t0=$(date +%s%N)
	out=$(PRRCTL_BATCH_STATS=1 prr_ctl -batch "$f" 2>&1) || rc=$?
	t1=$(date +%s%N)
	ktap_expect "-batch of $BULK_ENTRIES entries succeeds" "0" "$rc"
	ktap_diag "$out" "-batch: $BULK_ENTRIES entries in $(((t1 - t0) / 1000000)) ms, $((BULK_ENTRIES * 1000000000 / (t1 - t0))) entries/s (prrctl's own figure above)"
	packs=$(pack_answers "$out")
	packs=${packs%% *}
	ktap_expect "... the kernel answered once per pack, not once per line" \
		"$packs packs, $packs answers" "$(pack_answers "$out")"
	ktap_expect "... and the table holds them all" "$BULK_ENTRIES" \
		"$(saved_entries)"

	rc=0
	bulk_file "$BULK_ENTRIES" "$CPE2_ADDR" >"$f"
	t0=$(date +%s%N)
	out=$(PRRCTL_BATCH_STATS=1 prr_ctl restore "$f" 2>&1) || rc=$?
	t1=$(date +%s%N)
	ktap_expect "restore of $BULK_ENTRIES other entries succeeds" "0" "$rc"
	ktap_diag "$out" "restore: $BULK_ENTRIES entries replaced in $(((t1 - t0) / 1000000)) ms"
	out=$(prr_ctl save)
	ktap_expect "... and the table holds exactly the new ones" \
		"$BULK_ENTRIES 0" \
		"$(grep -c "via $CPE2_ADDR\$" <<<"$out") $(grep -c "via $CPE1_ADDR\$" <<<"$out")"
}

topo_require
if topo_create links; then
	run_test test_save_round_trip
	run_test test_restore_all_or_nothing
	run_test test_batch_stop_and_force
	run_test test_batch_device_appears
	run_test test_atomic_under_traffic
	run_test test_bulk_load
	topo_destroy
else
	ktap_fail "build the testbed"
fi
ktap_finish
