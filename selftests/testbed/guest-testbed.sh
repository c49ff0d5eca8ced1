#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-testbed.sh: the seed draft's BitTorrent testbed
# (draft-boucadair-behave-bittorrent-address-sharing-00 sections 3-5) with
# prr as the Port Range Router, inside the test VM:
#
#   selftests/vm/run.sh KREL selftests/testbed/guest-testbed.sh
#   (make testbed does that on the 6.1 kernel, then prints the tables)
#
#   T1 192.168.1.2 -- CPE-1 --wan0 10.0.1.2==cpe1 10.0.1.1--+ PRR +-- rt1 -- RT1 198.51.100.2
#   T2 192.168.2.2 -- CPE-2 --wan0 10.0.2.2==cpe2 10.0.2.1--+     +-- rt2 -- RT2 203.0.113.2
#                                                                 +-- tra -- TRA 192.0.2.130
#                                                                 +-- srv -- S   192.0.2.134
#   lib/topo.sh's "links" testbed, with the tracker TRA and the torrent
#   index S on links of their own.  CPE-1 and CPE-2 both hold 192.0.2.1
#   (prr's CPE role: their port set local, port-set NAT of the LAN, every
#   other port up to the PRR); the PRR routes 192.0.2.1 by destination
#   port.
#
# Port sets (RFC 6431 value/mask; 0-1023 and 0x8400/0x8400 belong to
# neither CPE, the PRR drops them):
#   CPE-1  1024-32767, contiguous (5 pieces)
#   CPE-2  0x8000/0x8400: non-contiguous, 16 blocks of 1024 ports from 32768
# T1 listens on 10001, T2 on 41001 (0xa029, in CPE-2's set); each CPE
# forwards its terminal's port 1:1, so the port announced is the public one.
#
# Then bt_suite.py runs the twelve tests under both configurations and
# writes build/testbed/ (tables.txt, results.json, assertions.tsv) and
# docs/seed-reproduction.md; this script turns the assertions into KTAP
# (exit 0 iff none failed).  The module is loaded as guest-run.sh does:
# `modprobe prr`, or with PRR_LOCAL_KO=1 this checkout's
# build/kmod/KREL/prr.ko.
#
# Environment: PRR_LOCAL_KO (above), PRR_BT_REPEAT (extra stock runs of
# FALSE Test_4 and Test_7 for their rates, 0-99, default 5: 8 runs of
# Test_4's scenarios, 6 of Test_7), PRR_BT_SIZE (file size in bytes, 32 KiB
# to 64 MiB, default 1 MiB), PRR_BT_RATE (upload limit, bytes/s, at least
# 1 KiB/s, default 200 KiB/s), PRR_BT_CONFIGS (default "TRUE FALSE": the
# configurations to run), PRR_BT_TESTS (debugging: only these test
# numbers, e.g. "5 6"; default all).  A malformed one is refused with one
# line before anything is built; `guest-testbed.sh --check-settings` does
# only that, on the host (make testbed and run-all.sh, before the VM boots).

set -u
TESTBED=$(dirname "$(readlink -f "$0")")
SELFTESTS=$(dirname "$TESTBED")
REPO=$(dirname "$SELFTESTS")
KREL=$(uname -r)
OUT=$REPO/build/testbed
WORK=/tmp/prr-testbed
DOC=$REPO/docs/seed-reproduction.md

# shellcheck source=../lib/ktap.sh
. "$SELFTESTS/lib/ktap.sh" >/dev/null  # its header: printed by main
# shellcheck source=../lib/topo.sh
. "$SELFTESTS/lib/topo.sh"
# shellcheck source=../lib/cpe.sh
. "$SELFTESTS/lib/cpe.sh"

# shellcheck disable=SC2034 # used by lib/cpe.sh
CPE1_SETS="0x0400/0xfc00 0x0800/0xf800 0x1000/0xf000 0x2000/0xe000 0x4000/0xc000"
# shellcheck disable=SC2034
CPE2_SETS="0x8000/0x8400"
T1_PORT=10001
T2_PORT=41001
# RFC 5737 has three /24s: RT1 and RT2 have the upper two (lib/topo.sh),
# the tracker and S two point-to-point links in the upper half of the
# shared address's.
TRA_ADDR=192.0.2.130
PRR_TRA_ADDR=192.0.2.129
S_ADDR=192.0.2.134
PRR_S_ADDR=192.0.2.133

# ----------------------------------------------------------- settings

BT_REPEAT=${PRR_BT_REPEAT:-5}
BT_SIZE=${PRR_BT_SIZE:-1048576}
BT_RATE=${PRR_BT_RATE:-204800}
BT_CONFIGS=${PRR_BT_CONFIGS:-TRUE FALSE}
BT_TESTS=${PRR_BT_TESTS:-}

# number_in VALUE MIN MAX: VALUE is a decimal number from MIN to MAX (no
# leading zero: it goes into JSON as it is).
number_in()
{
	[[ $1 =~ ^(0|[1-9][0-9]{0,9})$ ]] && (($1 >= $2 && $1 <= $3))
}

# words_in WORDS PATTERN: at least one word, each matching PATTERN, none twice.
words_in()
{
	local w ws seen=" "

	read -ra ws <<< "$1"
	for w in "${ws[@]}"; do
		[[ $w =~ $2 && $seen != *" $w "* ]] || return 1
		seen+="$w "
	done
	[ "$seen" != " " ]
}

check_settings()
{
	local msg=

	if ! number_in "$BT_REPEAT" 0 99; then
		msg="PRR_BT_REPEAT: '$BT_REPEAT' is not a number of runs from 0 to 99"
	elif ! number_in "$BT_SIZE" 32768 67108864; then
		msg="PRR_BT_SIZE: '$BT_SIZE' is not a file size from 32768 to 67108864 bytes"
	elif ! number_in "$BT_RATE" 1024 1000000000; then
		msg="PRR_BT_RATE: '$BT_RATE' is not an upload limit from 1024 to 1000000000 bytes/s"
	elif ! words_in "$BT_CONFIGS" '^(TRUE|FALSE)$'; then
		msg="PRR_BT_CONFIGS: '$BT_CONFIGS' is not TRUE, FALSE or both"
	elif [ -n "$BT_TESTS" ] && ! words_in "$BT_TESTS" '^([1-9]|1[0-2])$'; then
		msg="PRR_BT_TESTS: '$BT_TESTS' is not a list of test numbers from 1 to 12"
	fi
	[ -z "$msg" ] && return
	echo "guest-testbed.sh: $msg" >&2
	return 1
}

# ----------------------------------------------------------- the module

module_file()
{
	if [ "${PRR_LOCAL_KO:-0}" = 1 ]; then
		echo "$REPO/build/kmod/$KREL/prr.ko"
	else
		modinfo -n prr
	fi
}

load_module()
{
	local ko out

	if [ "${PRR_LOCAL_KO:-0}" = 1 ]; then
		ko=$(module_file)
		# shellcheck disable=SC2046 # one word per dependency
		out=$(modprobe -a $(modinfo -F depends "$ko" | tr , ' ') 2>&1 &&
			insmod "$ko" 2>&1)
	else
		out=$(modprobe prr 2>&1)
	fi || {
		ktap_fail "load the prr module" "$out"
		return 1
	}
	MODULE="$(module_file) $(modinfo -F srcversion "$(module_file)" 2>/dev/null)"
	ktap_diag "module: $MODULE"
}

# ----------------------------------------------------------- topology

# Kills every process left in the namespaces (the clients, the tracker,
# S), then removes the testbed.
# shellcheck disable=SC2317 # the EXIT trap
bt_cleanup()
{
	local rc=$? ns pid

	for ns in $(topo_namespaces); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	topo_destroy
	exit "$rc"
}

# rp_filter off everywhere: a hairpinned packet comes from the shared
# address, which is also the receiving CPE's own.
bt_sysctls()
{
	local ns

	for ns in $(topo_namespaces); do
		ns_sysctl "$ns" net.ipv4.conf.all.rp_filter=0 \
			net.ipv4.conf.default.rp_filter=0 || return 1
	done
}

# lib/topo.sh's testbed (CPEs on links of their own), the tracker and S on
# links of their own, the CPEs as an operator has them (topo.sh quiets
# their own RSTs and ICMP errors for the packet-level tests).
bt_topo_create()
{
	topo_create links || return 1
	trap bt_cleanup EXIT
	step "CPE-1 answers for itself" \
		ns_exec "$NS_CPE1" nft delete table ip prrtopo || return 1
	step "CPE-2 answers for itself" \
		ns_exec "$NS_CPE2" nft delete table ip prrtopo || return 1
	topo_add_host tra "$TRA_ADDR" "$PRR_TRA_ADDR" 30 || return 1
	NS_TRA=$TOPO_NEW_NS
	topo_add_host srv "$S_ADDR" "$PRR_S_ADDR" 30 || return 1
	NS_S=$TOPO_NEW_NS
	bt_sysctls
}

# The PRR's entries, both CPE roles, the terminals' port forwards.
bt_prr_and_cpes()
{
	prr_role_on && cpe_role_on 1 && cpe_role_on 2 && prr_prime_arp &&
		step "CPE-1 forwards $SHARED:$T1_PORT to T1" \
			cpe_port_forward 1 "$T1_PORT" "$T1_ADDR" &&
		step "CPE-2 forwards $SHARED:$T2_PORT to T2" \
			cpe_port_forward 2 "$T2_PORT" "$T2_ADDR"
}

# set_json SETS...: [[value, mask], ...]
set_json()
{
	local set out=() sep=

	for set in "$@"; do
		out+=("${sep}[$((${set%/*})), $((${set#*/}))]")
		sep=", "
	done
	echo "[${out[*]}]"
}

write_topo_json()
{
	# shellcheck disable=SC2086 # one word per set
	cat > "$1" <<-EOF
	{
	  "shared": "$SHARED",
	  "krel": "$KREL",
	  "module": "$MODULE",
	  "out": "$OUT",
	  "work": "$WORK",
	  "doc": "$DOC",
	  "repeat": $BT_REPEAT,
	  "configs": "$BT_CONFIGS",
	  "tests": "$BT_TESTS",
	  "size": $BT_SIZE,
	  "rate": $BT_RATE,
	  "ns": {"T1": "$NS_T1", "T2": "$NS_T2", "RT1": "$NS_RT1",
	         "RT2": "$NS_RT2", "TRA": "$NS_TRA", "S": "$NS_S"},
	  "addr": {"T1": "$T1_ADDR", "T2": "$T2_ADDR", "RT1": "$RT1_ADDR",
	           "RT2": "$RT2_ADDR", "TRA": "$TRA_ADDR", "S": "$S_ADDR"},
	  "port": {"T1": $T1_PORT, "T2": $T2_PORT, "RT1": 6881, "RT2": 6881,
	           "TRA": 6969, "S": 8000},
	  "sets": {"T1": $(set_json $CPE1_SETS), "T2": $(set_json $CPE2_SETS)}
	}
	EOF
}

# Each assertion line of bt_suite.py (ok|fail|diag TAB description TAB
# why) as a KTAP result or diagnostic.
report_assertions()
{
	local st desc why

	while IFS=$'\t' read -r st desc why; do
		case $st in
		ok) ktap_ok "$desc" ;;
		fail) ktap_fail "$desc" "$why" ;;
		diag) ktap_diag "$desc" ;;
		esac
	done < "$OUT/assertions.tsv"
}

prerequisites()
{
	local missing=() cmd

	for cmd in opentracker nsenter ss jq nft; do
		command -v "$cmd" >/dev/null || missing+=("$cmd")
	done
	/usr/bin/python3 -c 'import libtorrent' 2>/dev/null ||
		missing+=("python3-libtorrent")
	[ -x "$PRRCTL" ] || missing+=("$PRRCTL (make prrctl)")
	[ ${#missing[@]} -eq 0 ] && return
	ktap_fail "testbed prerequisites" \
		"missing: ${missing[*]} (tools/setup.sh installs them)"
	return 1
}

main()
{
	local t0=$SECONDS rc=0

	echo "KTAP version 1"
	check_settings || exit 2
	[ -d /run/prrvm ] || {
		echo "guest-testbed.sh: runs inside the test VM; use selftests/vm/run.sh KREL $0" >&2
		exit 2
	}
	cd "$REPO" || exit 1
	mkdir -p "$OUT" "$WORK" || exit 1
	rm -f "$OUT/assertions.tsv" "$OUT/tables.txt"
	prerequisites || ktap_finish
	load_module || ktap_finish
	if ! bt_topo_create || ! bt_prr_and_cpes; then
		ktap_fail "build the seed testbed with prr"
		ktap_finish
	fi
	ktap_ok "the seed testbed with prr on the PRR and both CPEs ($((SECONDS - t0)) s)"
	write_topo_json "$WORK/topo.json"
	# A client that crashes leaves its core where bt_suite.py reads its
	# native stacks (the checkout, not the guest's memory-backed /tmp).
	ulimit -c unlimited
	echo "$OUT/logs/core.%p" > /proc/sys/kernel/core_pattern
	/usr/bin/python3 "$TESTBED/bt_suite.py" "$WORK/topo.json" || rc=$?
	if [ "$rc" -ne 0 ] || [ ! -s "$OUT/assertions.tsv" ]; then
		ktap_fail "bt_suite.py completes" "exit status $rc"
	fi
	[ ! -s "$OUT/assertions.tsv" ] || report_assertions
	ktap_diag "PRR counters: $(prr_ctl stats | paste -sd ' ')"
	ktap_diag "testbed: $((SECONDS - t0)) s in the VM"
	ktap_finish
}

if [ "${1:-}" = --check-settings ]; then
	check_settings
	exit
fi
mkdir -p "$OUT" || exit 1
main "$@" 2>&1 | tee "$OUT/results.ktap"
exit "${PIPESTATUS[0]}"
