#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prrctl monitor, the log of port-set assignments (RFC 6346 §6).  A monitor
# in the PRR namespace sees every change of its table exactly once, in the
# order made, with the entry's fields: adds, a del with the counters the
# entry ended with, a flush as one del per entry, a restore as the
# differences between the two tables (dels, then replaces and adds), and
# changes of the settings; and nothing else: no failed request, no setting
# set to the value it had, no change of another namespace (whose own
# monitor sees only that change, with another namespace cookie).  The text
# form matches the JSON one line for line.  A flush of many entries reaches
# the monitor complete (notifications are packed, none lost).

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"

BULK_ENTRIES=${PRR_MONITOR_BULK:-5000}
MON_PIDS=()

# mon_start NAME NS ARGS...: `prrctl ARGS monitor` in NS, output in
# $TOPO_DIR/NAME.out; returns once it has joined the group.
mon_start()
{
	local name=$1 ns=$2 out="$TOPO_DIR/$1.out"

	shift 2
	# nsenter execs prrctl: $! is the monitor itself (a background shell
	# function would put a subshell, deaf to SIGINT, in between).
	nsenter --net="/run/netns/$ns" -- "$PRRCTL" "$@" monitor >"$out" \
		2>"$TOPO_DIR/$name.err" &
	MON_PIDS+=($!)
	eval "MON_PID_$name=$!"
	if ! wait_until 10 grep -q 'start' "$out"; then
		ktap_fail "monitor $name starts" "$(cat "$TOPO_DIR/$name.err")"
		return 1
	fi
}

# proc_done PID: the process has exited (possibly not reaped yet).
proc_done()
{
	[ ! -e "/proc/$1" ] || grep -q '^[0-9]* (.*) Z' "/proc/$1/stat"
}

# mon_stop NAME: SIGINT, then the monitor's exit status in MON_RC ("hung"
# if it had not exited 10 s later: it is killed then).
mon_stop()
{
	local pid_var="MON_PID_$1"
	local pid=${!pid_var}

	MON_RC=0
	kill -INT "$pid" 2>/dev/null
	if ! wait_until 10 proc_done "$pid"; then
		MON_RC=hung
		ktap_diag "monitor $1 did not stop:" \
			"$(grep State "/proc/$pid/status")" \
			"$(cat "/proc/$pid/stack" 2>/dev/null)"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid"
		return
	fi
	wait "$pid" || MON_RC=$?
}

mon_kill_all()
{
	local pid

	for pid in "${MON_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	MON_PIDS=()
}

# The events of a JSON log, one canonical line each (markers left out).
mon_events()
{
	jq -r 'if .event == "config" then
			"config \(.source_check) \(.unowned)"
		elif .event == "del" then
			"del \(.addr) \(.port_value) \(.port_mask) \(.action) \(.via) \(.dev) packets \(.packets) bytes \(.bytes)"
		elif .event == "add" or .event == "replace" then
			"\(.event) \(.addr) \(.port_value) \(.port_mask) \(.action) \(.via) \(.dev)"
		else empty end' "$TOPO_DIR/$1.out"
}

# count_lines TEXT: number of non-empty lines.
count_lines()
{
	printf '%s' "$1" | grep -c .
}

# The lines of TEXT from FIRST to LAST (1-based), sorted when asked.
slice()
{
	local text=$1 first=$2 last=$3 sorted=${4:-}

	if [ -n "$sorted" ]; then
		printf '%s\n' "$text" | sed -n "${first},${last}p" | LC_ALL=C sort
	else
		printf '%s\n' "$text" | sed -n "${first},${last}p"
	fi
}

# The counters of one entry from `prrctl -j show`: "packets P bytes B".
entry_counters()
{
	prr_ctl -j show | jq -r --argjson v "$1" --argjson m "$2" \
		'.[] | select(.port_value == $v and .port_mask == $m) |
		 "packets \(.packets) bytes \(.bytes)"'
}

# Makes the changes of the scenario; prints the counters B ended with.
make_changes()
{
	local other=$1 f

	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" \
		dev "$CPE1_DEV" || return
	prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR" || return
	step "add in the PRR namespace" prr_ctl add-cpe 192.0.2.2 \
		port-value 0x8000 port-mask 0x8000 local || return
	step "add in another namespace" ns_exec "$other" "$PRRCTL" add-cpe \
		"$SHARED" port-value 0 port-mask 0 drop || return
	step "set source-check off" prr_ctl set source-check off || return
	step "set it off again" prr_ctl set source-check off || return
	send_from rt1 --dst "$SHARED" --proto udp --ports 4096 --repeat 3 \
		--quiet || return
	entry_counters 4096 5120 >"$TOPO_DIR/b.counters"
	step "del-cpe" prr_ctl del-cpe "$SHARED" port-value 0x1000 \
		port-mask 0x1400 || return
	if prr_ctl add-cpe "$SHARED" port-value 0x0400 port-mask 0x1400 \
		local 2>/dev/null; then
		ktap_fail "adding an existing entry fails"
		return 1
	fi
	prr_ctl del-cpe "$SHARED" port-value 0x1000 port-mask 0x1400 \
		2>/dev/null
	step "add an entry restore removes" prr_ctl add-cpe 192.0.2.2 \
		port-value 0x0000 port-mask 0x8000 drop || return
	f="$TOPO_DIR/restore.txt"
	printf '%s\n' "set unowned reject" \
		"add-cpe $SHARED port-value 0x0400 port-mask 0x1400 via $CPE2_ADDR" \
		"add-cpe 192.0.2.2 port-value 0x8000 port-mask 0x8000 local" \
		"add-cpe $SHARED port-value 0x1400 port-mask 0x1400 drop" >"$f"
	step "restore" prr_ctl restore "$f" || return
	step "restore the same table again" prr_ctl restore "$f" || return
	step "flush" prr_ctl flush
}

test_every_change_once()
{
	local other cookies b got want n

	topo_add_ns other || return
	other=$TOPO_NEW_NS
	mon_start prr "$NS_PRR" -j || return
	mon_start text "$NS_PRR" || return
	mon_start other "$other" -j || return

	make_changes "$other" || { mon_kill_all; return; }
	b=$(cat "$TOPO_DIR/b.counters")
	ktap_expect "the deleted entry had counted the 3 packets sent to it" \
		"packets 3" "${b% bytes*}"

	for n in prr text other; do
		mon_stop "$n"
		ktap_expect "monitor $n exits 0 on SIGINT" 0 "$MON_RC"
		[ ! -s "$TOPO_DIR/$n.err" ] || ktap_diag "$(cat "$TOPO_DIR/$n.err")"
	done
	MON_PIDS=()

	got=$(mon_events prr)
	want="add 192.0.2.1 1024 5120 via $CPE1_ADDR $CPE1_DEV
add 192.0.2.1 4096 5120 via $CPE2_ADDR null
add 192.0.2.2 32768 32768 local null null
config off drop
del 192.0.2.1 4096 5120 via $CPE2_ADDR null $b
add 192.0.2.2 0 32768 drop null null"
	expect_lines "add, set, del (with final counters), in order; no failed request, no unchanged setting" \
		"$want" "$(slice "$got" 1 6)"
	expect_lines "restore: the entry it removes" \
		"del 192.0.2.2 0 32768 drop null null packets 0 bytes 0" \
		"$(slice "$got" 7 7)"
	expect_lines "restore: then the entry it replaces and the one it adds (the identical one is silent)" \
		"add 192.0.2.1 5120 5120 drop null null
replace 192.0.2.1 1024 5120 via $CPE2_ADDR null" \
		"$(slice "$got" 8 9 sorted)"
	expect_lines "restore: then the setting it changes; restoring the same table again: nothing" \
		"config off reject" "$(slice "$got" 10 10)"
	expect_lines "flush: one del per entry" \
		"del 192.0.2.1 1024 5120 via $CPE2_ADDR null packets 0 bytes 0
del 192.0.2.1 5120 5120 drop null null packets 0 bytes 0
del 192.0.2.2 32768 32768 local null null packets 0 bytes 0" \
		"$(slice "$got" 11 13 sorted)"
	ktap_expect "and nothing else" 13 "$(count_lines "$got")"

	ktap_expect "the log starts with start and ends with stop" \
		"start stop" \
		"$(jq -r .event "$TOPO_DIR/prr.out" | sed -n '1p;$p' | tr '\n' ' ' |
			sed 's/ $//')"
	cookies=$(jq -r .netns_cookie "$TOPO_DIR/prr.out" | sort -u)
	ktap_expect "every line names the monitor's namespace (one cookie)" \
		1 "$(count_lines "$cookies")"
	ktap_check "timestamps are RFC 3339 UTC with microseconds, in order" \
		check_times prr

	expect_lines "the other namespace's monitor saw its own change only" \
		"add 192.0.2.1 0 0 drop null null" "$(mon_events other)"
	ktap_check "... with another namespace cookie" test \
		"$(jq -r .netns_cookie "$TOPO_DIR/other.out" | sort -u)" != \
		"$cookies"

	ktap_expect "the text log has the same lines" \
		"$(wc -l <"$TOPO_DIR/prr.out")" "$(wc -l <"$TOPO_DIR/text.out")"
	ktap_check "a text line is the time, the event and the entry as show prints it" \
		grep -qxE "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z add 192\.0\.2\.1 port-value 0x0400 port-mask 0x1400 via ${CPE1_ADDR//./\\.} dev $CPE1_DEV" \
		"$TOPO_DIR/text.out"
	ktap_check "a text del line ends with the counters" \
		grep -qE " del 192\.0\.2\.1 port-value 0x1000 port-mask 0x1400 via ${CPE2_ADDR//./\\.} $b\$" \
		"$TOPO_DIR/text.out"
	ktap_check "a text config line has the words of set" \
		grep -qE " config source-check off unowned reject entry-counters on\$" \
		"$TOPO_DIR/text.out"
	prr_ctl set source-check on unowned drop
}

# check_times NAME: every "time" well-formed, none before the previous.
check_times()
{
	local times

	times=$(jq -r .time "$TOPO_DIR/$1.out")
	! grep -vqxE '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z' \
		<<<"$times" &&
		[ "$times" = "$(LC_ALL=C sort <<<"$times")" ]
}

bulk_file()
{
	local i

	for ((i = 0; i < BULK_ENTRIES; i++)); do
		echo "add-cpe 10.$((i >> 16 & 255)).$((i >> 8 & 255)).$((i & 255)) port-value 0 port-mask 0 drop"
	done
}

# logged_at_least NAME EVENT N: the log NAME has N EVENT lines or more.
logged_at_least()
{
	[ "$(grep -c "\"event\":\"$2\"" "$TOPO_DIR/$1.out")" -ge "$3" ]
}

# A restore and a flush of many entries: every one reported, none lost.
test_bulk()
{
	local f="$TOPO_DIR/bulk.txt" t0 t1 rc adds dels

	bulk_file >"$f"
	mon_start bulk "$NS_PRR" -j || return
	t0=$(date +%s%N)
	step "restore $BULK_ENTRIES entries" prr_ctl restore "$f" || {
		mon_kill_all
		return
	}
	wait_until 60 logged_at_least bulk add "$BULK_ENTRIES"
	t1=$(date +%s%N)
	step "flush them" prr_ctl flush
	wait_until 60 logged_at_least bulk del "$BULK_ENTRIES"
	mon_stop bulk
	rc=$MON_RC
	MON_PIDS=()
	adds=$(grep -c '"event":"add"' "$TOPO_DIR/bulk.out")
	dels=$(grep -c '"event":"del"' "$TOPO_DIR/bulk.out")
	# Each logged once the kernel sent it: the timing is the kernel's
	# and prrctl's together.
	ktap_expect "restore of $BULK_ENTRIES entries: as many adds, flush: as many dels, nothing lost" \
		"$BULK_ENTRIES $BULK_ENTRIES 0 0" \
		"$adds $dels $(grep -c '"event":"lost"' "$TOPO_DIR/bulk.out") $rc"
	ktap_diag "restore of $BULK_ENTRIES entries: logged by the monitor in $(((t1 - t0) / 1000000)) ms"
}

# A CPE of several entries (a MAP port set) added and deleted by name: one
# add and one del per entry, each with the name.
test_named_cpe()
{
	local got want

	mon_start named "$NS_PRR" -j || return
	step "add-cpe psid, named" prr_ctl add-cpe 192.0.2.3 psid 0x34 \
		psid-len 8 via "$CPE1_ADDR" name bob || { mon_kill_all; return; }
	step "del-cpe name" prr_ctl del-cpe name bob || { mon_kill_all; return; }
	mon_stop named
	MON_PIDS=()
	got=$(jq -r 'select(.event == "add" or .event == "del") |
		"\(.event) \(.port_value) \(.port_mask) \(.name)"' \
		"$TOPO_DIR/named.out")
	# RFC 7597 §5.1, PSID 0x34 of 8 bits after the default 6: 6 pieces.
	want=$(for ev in add del; do
		for p in "1232 65532" "2256 64508" "4304 62460" "8400 58364" \
			 "16592 50172" "32976 33788"; do
			echo "$ev $p bob"
		done
	done)
	expect_lines "add-cpe psid: one add per piece; del-cpe name: one del each" \
		"$want" "$(printf '%s\n' "$got" | LC_ALL=C sort -k1,1 -k2,2n)"
}

topo_require
command -v jq >/dev/null || { ktap_skip "prrctl monitor" "no jq"; ktap_finish; }
if topo_create links; then
	run_test test_every_change_once
	run_test test_named_cpe
	run_test test_bulk
	mon_kill_all
	topo_destroy
else
	ktap_fail "build the testbed"
fi
ktap_finish
