#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prr under table churn.  10,000 stable entries (one port each, 10000-19999
# of the shared address; even ports to CPE-1, odd ones to CPE-2) carry
# traffic spread over all of them, every port the same number of times,
# while a writer adds, deletes and replaces (delete, then add towards the
# other CPE) other entries of the same address and of a second one, for
# PRR_CHURN_SECONDS (default 60).  Afterwards every CPE received every
# packet of its ports exactly as often as it was sent and nothing else:
# nothing lost, nothing misrouted; prr's counters say the same.
#
# Figures printed: load time of the 10,000 entries, writer operations and
# their rate, packets sent and received per CPE.
#
# Environment: PRR_CHURN_SECONDS (default 60: the traffic makes passes over
# all 10,000 ports, each port once a pass, until then), PRR_CHURN_PPS
# (sending rate, default 2000 packets/s), PRR_CHURN_GROUP (writer operations per prrctl
# process when prrctl has -batch, default 16; 1 without -batch).

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"

CHURN_SECONDS=${PRR_CHURN_SECONDS:-60}
CHURN_PPS=${PRR_CHURN_PPS:-2000}
STABLE_FIRST=10000
STABLE_COUNT=10000
STABLE_LAST=$((STABLE_FIRST + STABLE_COUNT - 1))
# The writer's entries: single ports 30000-30255 of $SHARED, and blocks of
# 256 ports (0x8000-0x8fff) of $SHARED and $OTHER_SHARED; none of them owns
# a stable port.
CHURN_SLOTS=288
OTHER_SHARED=192.0.2.2
# Writer operations per prrctl process when prrctl has -batch.
WRITER_GROUP=${PRR_CHURN_GROUP:-16}
WRITER_PID=
SENDER_PID=
# The receivers run as long as the traffic, whatever the emulation's speed.
# shellcheck disable=SC2034 # read by rx_start (lib/topo.sh)
RX_TIMEOUT_MS=$(((CHURN_SECONDS * 3 + 120) * 1000))

now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

prrctl_has_batch()
{
	"$PRRCTL" help 2>&1 | grep -q -- '-batch'
}

# The add-cpe line of stable port P (without "prrctl").
stable_line()
{
	awk -v first="$STABLE_FIRST" -v last="$STABLE_LAST" \
	    -v a="$SHARED" -v c1="$CPE1_ADDR" -v c2="$CPE2_ADDR" 'BEGIN {
		for (p = first; p <= last; p++)
			printf "add-cpe %s port-value %d port-mask 0xffff via %s\n",
			       a, p, p % 2 ? c2 : c1
	}'
}

# Loads the lines of FILE in the PRR: one batch when prrctl has -batch,
# else one process a line.
load_lines()
{
	local file=$1 line

	if prrctl_has_batch; then
		prr_ctl -batch "$file"
		return
	fi
	while read -r line; do
		# shellcheck disable=SC2086 # one word per argument
		prr_ctl $line || return 1
	done <"$file"
}

test_load()
{
	local t0 ms n how=processes

	stable_line >"$TOPO_DIR/stable.batch"
	prrctl_has_batch && how="one prrctl -batch"
	t0=$(now_ms)
	if ! load_lines "$TOPO_DIR/stable.batch" >"$TOPO_DIR/load.err" 2>&1
	then
		ktap_fail "load $STABLE_COUNT entries" \
			"$(tail -n 3 "$TOPO_DIR/load.err")"
		return 1
	fi
	ms=$(($(now_ms) - t0))
	n=$(prr_ctl -j show | jq length)
	ktap_expect "the PRR holds the $STABLE_COUNT stable entries" \
		"$STABLE_COUNT" "$n"
	ktap_diag "loaded $STABLE_COUNT entries in $ms ms ($how)"
	[ "$n" -eq "$STABLE_COUNT" ]
}

# The writer's slot K, in SLOT_ADDR SLOT_VALUE SLOT_MASK (no subshell:
# the writer is a loop, forks count under emulation).
slot_key()
{
	local k=$1

	SLOT_ADDR=$SHARED
	SLOT_MASK=0xff00
	if [ "$k" -lt 256 ]; then
		SLOT_VALUE=$((30000 + k))
		SLOT_MASK=0xffff
	elif [ "$k" -lt 272 ]; then
		SLOT_VALUE=$((0x8000 + (k - 256) * 256))
	else
		SLOT_ADDR=$OTHER_SHARED
		SLOT_VALUE=$((0x8000 + (k - 272) * 256))
	fi
}

# The writer: random operations on its slots until the file STOP exists.
# With prrctl -batch, WRITER_GROUP operations per prrctl process, otherwise
# one (a replace, delete then add, is two operations).  Writes
# "OPS FAILURES PROCESSES" to its result file at the end.
writer()
{
	local stop=$1 result=$2 state=() k key ops=0 fails=0 runs=0 via op
	local SLOT_ADDR SLOT_VALUE SLOT_MASK
	local lines=() group=1 line

	prrctl_has_batch && group=$WRITER_GROUP
	RANDOM=7
	for ((k = 0; k < CHURN_SLOTS; k++)); do
		state[k]=
	done
	while [ ! -e "$stop" ]; do
		k=$((RANDOM % CHURN_SLOTS))
		slot_key "$k"
		if [ -z "${state[k]}" ]; then
			via=$CPE1_ADDR
			[ $((RANDOM % 2)) -eq 0 ] || via=$CPE2_ADDR
			op="add"
		elif [ $((RANDOM % 2)) -eq 0 ]; then
			op="del"
		else
			op="replace"
			via=$CPE1_ADDR
			[ "${state[k]}" != "$CPE1_ADDR" ] || via=$CPE2_ADDR
		fi
		key="$SLOT_ADDR port-value $SLOT_VALUE port-mask $SLOT_MASK"
		if [ "$op" != add ]; then
			lines+=("del-cpe $key")
			state[k]=
		fi
		if [ "$op" != del ]; then
			lines+=("add-cpe $key via $via")
			state[k]=$via
		fi
		[ "${#lines[@]}" -ge "$group" ] || continue
		ops=$((ops + ${#lines[@]}))
		runs=$((runs + 1))
		if [ "$group" -gt 1 ]; then
			printf '%s\n' "${lines[@]}" |
				prr_ctl -batch - >/dev/null 2>&1 ||
				fails=$((fails + 1))
		else
			for line in "${lines[@]}"; do
				# shellcheck disable=SC2086 # words are arguments
				prr_ctl $line >/dev/null 2>&1 ||
					fails=$((fails + 1))
			done
		fi
		lines=()
	done
	echo "$ops $fails $runs" >"$result"
}

# The traffic: passes over every stable port, once each, until
# CHURN_SECONDS are over (the last pass completes); writes the number of
# passes to FILE.
sender()
{
	local file=$1 end passes=0

	end=$(($(now_ms) + CHURN_SECONDS * 1000))
	while [ "$(now_ms)" -lt "$end" ]; do
		in_node rt1 "$PRR_PROBE" send --src "$RT1_ADDR" \
			--dst "$SHARED" --proto udp \
			--ports "$STABLE_FIRST-$STABLE_LAST" --pps "$CHURN_PPS" \
			--quiet || break
		passes=$((passes + 1))
	done
	echo "$passes" >"$file"
}

sender_done()
{
	[ -z "$SENDER_PID" ] || ! kill -0 "$SENDER_PID" 2>/dev/null
}

stop_all()
{
	: >"$TOPO_DIR/writer.stop" 2>/dev/null
	[ -z "$WRITER_PID" ] || wait "$WRITER_PID" 2>/dev/null
	[ -z "$SENDER_PID" ] || { kill "$SENDER_PID" 2>/dev/null;
				  wait "$SENDER_PID" 2>/dev/null; }
	WRITER_PID=
	SENDER_PID=
}

# "PORT COUNT" for every destination port a receiver saw, sorted.
port_counts()
{
	awk '$1 == "pkt" && $2 == "udp" { n[$4]++ }
	     END { for (p in n) print p, n[p] }' "$TOPO_DIR/$1.out" | sort -n
}

# What CPE N (1: even ports, 2: odd) should have received, as port_counts.
expected_counts()
{
	awk -v first="$STABLE_FIRST" -v last="$STABLE_LAST" -v odd=$(($1 - 1)) \
	    -v r="$2" 'BEGIN {
		for (p = first; p <= last; p++)
			if (p % 2 == odd)
				print p, r
	}'
}

# Misrouted: ports a CPE received that are not its own.
misrouted()
{
	port_counts "$1" | awk -v first="$STABLE_FIRST" \
		-v last="$STABLE_LAST" -v odd=$(($2 - 1)) \
		'$1 < first || $1 > last || $1 % 2 != odd { n += $2 }
		 END { print n + 0 }'
}

# Lost: packets of a CPE's ports that did not arrive (as often as sent).
lost()
{
	join -a 1 -e 0 -o 0,1.2,2.2 <(expected_counts "$1" "$2") \
		<(port_counts "cpe$1") |
		awk '$2 > $3 { n += $2 - $3 } END { print n + 0 }'
}

test_churn()
{
	local repeat sent t0 secs ops fails runs before moved want got

	before=$(prr_stats)
	rx_start cpe1 cpe1 --dst "$SHARED" --proto udp || return
	rx_start cpe2 cpe2 --dst "$SHARED" --proto udp || return
	rm -f "$TOPO_DIR/writer.stop"
	writer "$TOPO_DIR/writer.stop" "$TOPO_DIR/writer.result" &
	WRITER_PID=$!
	t0=$(now_ms)
	sender "$TOPO_DIR/passes" &
	SENDER_PID=$!
	wait_until $((CHURN_SECONDS * 3 + 120)) sender_done
	secs=$((($(now_ms) - t0 + 500) / 1000))
	stop_all
	repeat=$(cat "$TOPO_DIR/passes" 2>/dev/null || echo 0)
	sent=$((repeat * STABLE_COUNT))
	rx_stop || ktap_diag "(a receiver lost packets itself: see above)"
	read -r ops fails runs <"$TOPO_DIR/writer.result"
	ktap_diag "sent $sent packets ($repeat to each of $STABLE_COUNT ports) in $secs s" \
		"writer: $ops operations in $runs prrctl runs in $secs s ($((ops / (secs ? secs : 1))) a second), $fails runs refused"
	ktap_expect "the writer's operations were all accepted" 0 "$fails"
	if [ "$repeat" -gt 0 ]; then
		ktap_ok "traffic covered every stable port ($repeat passes)"
	else
		ktap_fail "traffic covered every stable port" \
			"prr_probe send failed or no pass completed"
	fi
	if [ "$ops" -gt 0 ]; then
		ktap_ok "the writer changed the table during the traffic"
	else
		ktap_fail "the writer changed the table during the traffic"
	fi
	ktap_diag "received: CPE-1 $(rx_count cpe1), CPE-2 $(rx_count cpe2)"
	ktap_expect "CPE-1 received no packet of another CPE's port" 0 \
		"$(misrouted cpe1 1)"
	ktap_expect "CPE-2 received no packet of another CPE's port" 0 \
		"$(misrouted cpe2 2)"
	ktap_expect "CPE-1 lost no packet of its $((STABLE_COUNT / 2)) ports" 0 \
		"$(lost 1 "$repeat")"
	ktap_expect "CPE-2 lost no packet of its $((STABLE_COUNT / 2)) ports" 0 \
		"$(lost 2 "$repeat")"
	ktap_expect "the CPEs received every packet sent, once" "$sent" \
		"$(($(rx_count cpe1) + $(rx_count cpe2)))"
	moved=$(stats_moved "$before")
	ktap_expect "prr forwarded every packet and dropped none" \
		"forwarded=$sent" "$moved"
	want=$(seq "$STABLE_FIRST" "$STABLE_LAST" | sed "s/\$/ $repeat/")
	got=$(prr_ctl -j show | jq -r --argjson f "$STABLE_FIRST" \
		--argjson l "$STABLE_LAST" --arg a "$SHARED" \
		'.[] | select(.addr == $a and .port_mask == 65535 and
			      .port_value >= $f and .port_value <= $l) |
		 "\(.port_value) \(.packets)"' | sort -n)
	expect_lines "every stable entry counted its packets" "$want" "$got"
}

topo_require
trap 'stop_all; topo_cleanup' EXIT
topo_create links || { ktap_fail "build the testbed"; ktap_finish; }
prr_prime_arp || ktap_finish
if test_load; then
	test_churn
fi
ktap_finish
