#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-run.sh: prr's selftests for the running kernel.  Runs INSIDE the test
# VM as root (selftests/vm/run.sh KREL selftests/guest-run.sh), never on the
# host.
#
# Loads the module with "modprobe prr" (installed by "make dkms-install" on the
# host into /lib/modules/KREL/updates/dkms, visible through the shared root),
# then runs every selftests/prr_*.sh (sorted) and the kselftest-harness
# programs selftests/prr_netlink and prr_nlfuzz when built, each under a
# timeout and with PRRCTL and PRR_PROBE exported.  Each test's own KTAP output is nested as an
# indented subtest and followed by "ok N name" or "not ok N name".  Then
# "rmmod prr" (test "module unload") and test "dmesg clean": no kernel log
# line since boot may match WARNING, BUG, Oops, refcount_t, leak, general
# protection, "unregister_netdevice: waiting" or "Call Trace" (except the
# taint notices of an unsigned out-of-tree module).  If modprobe fails, every
# test is reported failed with modprobe's error.
#
# A test fails when it exits non-zero (or times out), prints a "not ok" result
# that is not a SKIP, or prints a plan that does not match its results.
#
# The KTAP output goes to stdout and to build/vm/KREL/results.ktap (in the
# repository, so the host reads it after the VM stopped); each test's raw
# output (tests/NAME.log) and the kernel log (dmesg*.txt) are saved beside it.
# Exit status 0 iff all passed.
#
# Environment:
#   PRR_TESTS          run only the tests whose name (e.g. prr_basic, or
#                      prr_basic.sh) matches one of these globs (separated by
#                      spaces or commas); unload and dmesg checks always run
#   PRR_TEST_TIMEOUT   seconds per test (default 600)
#   PRR_EVERY_KERNEL   1: also run the tests marked "# prr-kernels: ..." on
#                      the other kernels (see run_elsewhere)
#   PRR_LOCAL_KO       1: insmod build/kmod/KREL/prr.ko (from "make
#                      modules-all") after modprobing its dependencies,
#                      instead of the dkms-installed module
#   V                  V=1: print the whole kernel log at the end;
#                      V=2: also run the shell tests with bash -x

set -u
export LC_COLLATE=C

REPO=$(cd "$(dirname "$0")/.." && pwd)
KREL=$(uname -r)
OUT_DIR=$REPO/build/vm/$KREL
TEST_TIMEOUT=${PRR_TEST_TIMEOUT:-600}
VERBOSE=${V:-0}
BAD_DMESG='\bWARNING\b|\bBUG\b|Oops|refcount_t|leak|general protection'
BAD_DMESG+='|unregister_netdevice: waiting|Call Trace'
OK_DMESG='loading out-of-tree module taints kernel|module verification failed'

export PRRCTL=${PRRCTL:-$REPO/tools/prrctl/prrctl}
export PRR_PROBE=${PRR_PROBE:-$REPO/selftests/prr_probe}

# The kselftest-harness programs (selftests/Makefile), run after the scripts.
KSELFTEST_PROGS="prr_netlink prr_nlfuzz"

TESTS=()
N=0
PASS=0
FAIL=0
SKIP=0

diag()
{
	printf '%s\n' "$@" | sed 's/^/# /'
}

result()
{
	# $1 ok|not ok, $2 name, $3 optional directive and diagnostic
	N=$((N + 1))
	if [ "$1" != ok ]; then
		FAIL=$((FAIL + 1))
	elif [[ ${3:-} == SKIP* ]]; then
		SKIP=$((SKIP + 1))
	else
		PASS=$((PASS + 1))
	fi
	echo "$1 $N $2${3:+ # $3}"
}

selected()
{
	local name=$1 pat pats

	[ -n "${PRR_TESTS:-}" ] || return 0
	IFS=', ' read -r -a pats <<< "$PRR_TESTS"
	for pat in "${pats[@]}"; do
		# shellcheck disable=SC2053 # $pat is a glob
		[[ $name == $pat || $name.sh == $pat ]] && return 0
	done
	return 1
}

find_tests()
{
	local f name

	# Glob results come sorted (LC_COLLATE=C: byte order).
	for f in "$REPO"/selftests/prr_*.sh; do
		[ -f "$f" ] || continue
		name=$(basename "$f" .sh)
		selected "$name" && TESTS+=("$name")
	done
	for name in $KSELFTEST_PROGS; do
		if [ -x "$REPO/selftests/$name" ] && selected "$name"; then
			TESTS+=("$name")
		fi
	done
}

test_command()
{
	local name=$1

	if [[ " $KSELFTEST_PROGS " == *" $name "* ]]; then
		echo "$REPO/selftests/$name"
	elif [ "$VERBOSE" -ge 2 ] 2>/dev/null; then
		echo "bash -x $REPO/selftests/$name.sh"
	else
		echo "bash $REPO/selftests/$name.sh"
	fi
}

# Moves the kernel log written since the last call to $OUT_DIR/dmesg.txt and
# prints its suspicious lines.
collect_dmesg()
{
	local new

	new=$(dmesg -c 2>&1)
	[ -z "$new" ] || printf '%s\n' "$new" >> "$OUT_DIR/dmesg.txt"
	printf '%s\n' "$new" | grep -E "$BAD_DMESG" | grep -vE "$OK_DMESG"
}

# Runs CMD with a timeout, its output (stdout and stderr) saved in LOG and
# shown indented as it comes; kills what it left running.  Returns its status
# (124 or 137 on timeout).
run_indented()
{
	local log=$1 pid rc=0

	shift
	: > "$log"
	# timeout(1) makes a process group of its own: $pid is its id.
	timeout -k 10 "$TEST_TIMEOUT" "$@" < /dev/null >> "$log" 2>&1 &
	pid=$!
	tail -s 0.2 -n +1 -f --pid="$pid" "$log" | sed -u 's/^/  /'
	wait "$pid" || rc=$?
	kill -KILL -- "-$pid" 2>/dev/null
	return "$rc"
}

# Prints why LOG (a test's KTAP output) plus exit status RC make a failure;
# nothing when the test passed.
failure_reason()
{
	local log=$1 rc=$2 plan results

	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "TIMEOUT $TEST_TIMEOUT seconds"
		return
	fi
	if grep -E '^[[:space:]]*not ok [0-9]+' "$log" | grep -qv '# SKIP'; then
		echo "failed subtests"
		return
	fi
	if [ "$rc" -ne 0 ]; then
		echo "ERROR exit status $rc"
		return
	fi
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
	results=$(grep -cE '^(not )?ok [0-9]+' "$log")
	if [ -n "$plan" ] && [ "$plan" -ne "$results" ]; then
		echo "ERROR plan 1..$plan but $results results"
	elif [ "$results" -eq 0 ]; then
		echo "ERROR no test results"
	fi
}

# True when every result of the test in LOG is a SKIP.
all_skipped()
{
	! grep -E '^(not )?ok [0-9]+' "$1" | grep -qv '# SKIP'
}

cleanup_after_test()
{
	local name=$1 left

	left=$(ip netns list 2>/dev/null | awk '{ print $1 }' | paste -sd ' ')
	if [ -n "$left" ]; then
		diag "$name left network namespaces behind, deleted: $left"
		ip -all netns delete 2>/dev/null
	fi
}

# A test whose subject does not depend on the kernel (prrctl's parsing, a
# benchmark harness) may say so with a line "# prr-kernels: 6.1" (releases,
# by prefix): elsewhere it is skipped, to keep the suite short, unless
# PRR_EVERY_KERNEL=1 or PRR_TESTS names tests.  Prints the releases when
# the test is to be skipped here.
run_elsewhere()
{
	local kernels k

	[ "${PRR_EVERY_KERNEL:-0}" != 1 ] && [ -z "${PRR_TESTS:-}" ] ||
		return 1
	kernels=$(sed -n 's/^# prr-kernels: //p' \
		"$REPO/selftests/$1.sh" 2>/dev/null | head -n 1)
	[ -n "$kernels" ] || return 1
	for k in $kernels; do
		[[ $KREL == "$k".* ]] && return 1
	done
	echo "$kernels"
}

run_one_test()
{
	local name=$1 log rc=0 reason bad t0=$SECONDS kernels

	if kernels=$(run_elsewhere "$name"); then
		result ok "$name" "SKIP kernel-independent: runs on $kernels (PRR_EVERY_KERNEL=1: here too)"
		return
	fi

	log=$OUT_DIR/tests/$name.log
	# shellcheck disable=SC2046
	run_indented "$log" $(test_command "$name") || rc=$?
	reason=$(failure_reason "$log" "$rc")
	cleanup_after_test "$name"
	bad=$(collect_dmesg)
	[ -z "$bad" ] || diag "kernel log during $name:" "$bad"
	diag "$name: $((SECONDS - t0)) s, exit status $rc"
	if [ -z "$reason" ] && all_skipped "$log"; then
		result ok "$name" "SKIP all subtests skipped"
	elif [ -z "$reason" ]; then
		result ok "$name"
	else
		result "not ok" "$name" "$reason"
	fi
}

# Prints ", FIELD VALUE" for the loaded module's modinfo FIELD, if it has one.
module_field()
{
	local value

	value=$(modinfo -F "$1" "$(module_file)" 2>/dev/null)
	[ -z "$value" ] || printf ', %s %s' "$1" "$value"
}

# The module under test: the dkms-installed one, or with PRR_LOCAL_KO=1 the
# one "make modules-all" built in this checkout.
module_file()
{
	if [ "${PRR_LOCAL_KO:-0}" = 1 ]; then
		echo "$REPO/build/kmod/$KREL/prr.ko"
	else
		modinfo -n prr
	fi
}

insert_module()
{
	local ko deps

	[ "${PRR_LOCAL_KO:-0}" = 1 ] || { modprobe prr; return; }
	ko=$(module_file)
	# None when the kernel has them built in (the debug kernel).
	deps=$(modinfo -F depends "$ko" | tr , ' ')
	# shellcheck disable=SC2086 # one word per dependency
	if [ -n "$deps" ]; then
		modprobe -a $deps || return
	fi
	insmod "$ko"
}

load_module()
{
	local out

	if ! out=$(insert_module 2>&1); then
		out=$(printf '%s' "$out" | paste -sd ' ')
		MODPROBE_ERROR="loading prr failed: $out (did make dkms-install run on the host?)"
		diag "$MODPROBE_ERROR"
		return 1
	fi
	diag "module: $(module_file 2>&1)$(module_field version)$(module_field srcversion)"
}

unload_module()
{
	local out

	if [ -n "${MODPROBE_ERROR:-}" ]; then
		result "not ok" "module unload" "ERROR module was not loaded"
	elif out=$(rmmod prr 2>&1); then
		result ok "module unload"
	else
		diag "rmmod prr: $out"
		result "not ok" "module unload"
	fi
}

check_dmesg()
{
	local bad

	collect_dmesg > /dev/null
	if [ "$VERBOSE" -ge 1 ] 2>/dev/null; then
		diag "kernel log since boot:"
		diag "$(cat "$OUT_DIR/dmesg.txt" 2>/dev/null)"
	fi
	bad=$(grep -E "$BAD_DMESG" "$OUT_DIR/dmesg.txt" | grep -vE "$OK_DMESG")
	if [ -z "$bad" ]; then
		result ok "dmesg clean"
	else
		diag "$bad" "(kernel log: build/vm/$KREL/dmesg.txt)"
		result "not ok" "dmesg clean"
	fi
}

main()
{
	local name bad

	rm -rf "$OUT_DIR/tests"
	mkdir -p "$OUT_DIR/tests"
	: > "$OUT_DIR/dmesg.txt"
	dmesg -c > "$OUT_DIR/dmesg-boot.txt" 2>&1
	find_tests
	echo "KTAP version 1"
	echo "1..$((${#TESTS[@]} + 2))"
	diag "prr selftests on $KREL (${#TESTS[@]} tests${PRR_TESTS:+ matching \"$PRR_TESTS\"})"
	MODPROBE_ERROR=
	load_module
	bad=$(collect_dmesg)
	[ -z "$bad" ] || diag "kernel log during modprobe prr:" "$bad"
	if [ -z "$MODPROBE_ERROR" ]; then
		for name in "${TESTS[@]}"; do
			run_one_test "$name"
		done
	else
		for name in "${TESTS[@]}"; do
			result "not ok" "$name" "ERROR $MODPROBE_ERROR"
		done
	fi
	unload_module
	check_dmesg
	diag "$KREL: pass:$PASS fail:$FAIL skip:$SKIP"
	[ "$FAIL" -eq 0 ]
}

[ -d /run/prrvm ] || {
	echo "guest-run.sh: runs inside the test VM; use selftests/vm/run.sh KREL selftests/guest-run.sh" >&2
	exit 2
}
cd "$REPO" || exit 1
mkdir -p "$OUT_DIR" || exit 1
main "$@" 2>&1 | tee "$OUT_DIR/results.ktap"
exit "${PIPESTATUS[0]}"
