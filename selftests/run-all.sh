#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-all.sh: every prr test, on the host (as root, after "make all" and
# "make dkms-install"; "make test" does all of that).
#
#   1. suite "host-unit": the userspace unit tests (make -s -C tests/unit run),
#      when tests/unit/Makefile exists;
#   2. suite "host-static": make checkpatch (--strict), make sparse (C=2,
#      against every kernel with headers), make spec (the YNL spec agrees
#      with the ABI header) and make docs (man page and completion know every
#      command), one test each;
#   3. suite "host-fuzz": the classifier's libFuzzer target for
#      PRR_FUZZ_SECONDS seconds (default 60; 0 leaves the suite out);
#   4. suite "host-bench": a smoke run of the lookup benchmark (tests/bench),
#      so that it cannot rot; its figures are not judged;
#   5. one suite per kernel release with headers (/lib/modules/*/build) and an
#      image (/boot/vmlinuz-*): selftests/vm/run.sh KREL selftests/guest-run.sh,
#      whose KTAP the guest writes to build/vm/KREL/results.ktap.  A 6.1 and a
#      6.12 release are required;
#   6. suite "vm-testbed": the seed draft's BitTorrent tests through prr
#      (selftests/testbed/guest-testbed.sh, see there) in a VM of the 6.1
#      release; its KTAP is build/testbed/results.ktap, its report
#      docs/seed-reproduction.md (PRR_TESTBED=0 leaves it out).  It boots
#      once suites 1-4 are done, beside the kernel VMs, at the lowest CPU
#      priority (nice 19): its clients mostly wait on their upload limits,
#      so it lives on what the kernel VMs leave idle of the cores instead
#      of adding its 7 minutes to the run;
#   7. suite "host-package": tests/pkg/check_packages.sh builds the Debian
#      packages, installs them (dkms builds the module for every kernel, each
#      kernel's VM modprobes it) and purges them (PRR_PACKAGE_TEST=0 leaves it
#      out).
#
# Output: one KTAP document with one top-level test per suite, each suite's
# own KTAP nested (indented) inside it, then a line "# totals: ..." and, as the
# very last line, "N passed, M failed".  Those numbers count leaf test cases:
# result lines with no nested results of their own, at any depth, across all
# suites.  SKIPped leaves are counted as passed (the totals line gives their
# number).  A result that has subtests but fails while none of its leaves
# failed (a crash, timeout, bad plan, a VM that died) counts as one failed
# leaf.  Exit status 0 iff nothing failed and every VM completed.
#
# Progress lines are KTAP diagnostics ("# ...").  Each VM's console is saved
# in build/vm/KREL/console.log (V=1 also streams it to stderr, each line
# prefixed with the release); a VM that did not complete gets the end of its
# console as diagnostics.  Each suite's results are printed once it is done.
#
# The kernels run in parallel by default: a TCG guest runs its (mostly single-
# threaded) tests on about one host core, so two VMs on a 2-core machine take
# ~0.6 of the time of running them one after the other (measured: 122 s vs
# 192-238 s for the same workload on both kernels).  Suites 1-4 run on the
# host while the first VMs do, in what the guests leave of the cores.
#
# Environment:
#   PRR_KERNELS        space-separated releases to test instead of all found
#                      (then the 6.1 + 6.12 requirement does not apply)
#   PRR_VM_JOBS        VMs booted at once (default 2)
#   PRR_FUZZ_SECONDS   time given to the fuzzer (default 60, 0: no fuzzing)
#   PRR_TESTBED        0: no suite vm-testbed
#   PRR_TESTS, PRR_TEST_TIMEOUT, PRR_VM_TIMEOUT, V: see guest-run.sh, run.sh

set -u

REPO=$(cd "$(dirname "$0")/.." && pwd -P)
# shellcheck source=lib/leaves.sh
. "$REPO/selftests/lib/leaves.sh"
JOBS=${PRR_VM_JOBS:-2}
VERBOSE=${V:-0}
SUITES=()
PANIC_LINES='Kernel panic|BUG:|Oops:|general protection|RIP:'

err()
{
	echo "run-all.sh: $*" >&2
}

diag()
{
	printf '%s\n' "$@" | sed 's/^/# /'
}

# Kernel releases to test, one per line, sorted.
find_kernels()
{
	local b krel

	if [ -n "${PRR_KERNELS:-}" ]; then
		# shellcheck disable=SC2086 # a list
		printf '%s\n' $PRR_KERNELS
		return
	fi
	for b in /lib/modules/*/build; do
		[ -d "$b" ] || continue
		krel=$(basename "$(dirname "$b")")
		if [ -e "/boot/vmlinuz-$krel" ]; then
			echo "$krel"
		else
			err "ignoring $krel: headers but no /boot/vmlinuz-$krel"
		fi
	done | sort -V
}

require_series()
{
	local series=$1 pkgs=$2

	shift 2
	printf '%s\n' "$@" | grep -q "^${series//./\\.}\." && return 0
	err "no $series kernel with headers: apt-get install $pkgs (tools/setup.sh does)"
	return 1
}

require_6_1_and_6_12()
{
	require_series 6.1 "linux-image-amd64 linux-headers-amd64" \
		"${KERNELS[@]}" &&
	require_series 6.12 "linux-image-6.12-amd64 linux-headers-6.12-amd64" \
		"${KERNELS[@]}"
}

# Prints "RESULT|DIRECTIVE" (RESULT ok or not ok, DIRECTIVE maybe empty) for
# the KTAP in LOG and exit status RC of a suite that completed.
suite_verdict()
{
	local log=$1 rc=$2

	if grep -E '^[[:space:]]*not ok [0-9]+' "$log" | grep -qv '# SKIP'; then
		echo "not ok|"
	elif [ "$rc" -ne 0 ]; then
		echo "not ok|ERROR exit status $rc"
	elif ! grep -qE '^[[:space:]]*(not )?ok [0-9]+' "$log"; then
		echo "not ok|ERROR no test results"
	else
		echo "ok|"
	fi
}

# Records a finished suite: NAME, its KTAP file, verdict (see suite_verdict)
# and a file of extra diagnostics (optional).
add_suite()
{
	SUITES+=("$1|$2|$3|${4:-}")
}

run_host_unit()
{
	local out=$REPO/build/host-unit.ktap rc=0 t0=$SECONDS

	[ -f "$REPO/tests/unit/Makefile" ] || {
		diag "no tests/unit/Makefile: suite host-unit not run"
		return
	}
	mkdir -p "$REPO/build"
	make -s -C "$REPO/tests/unit" run > "$out" 2>&1 || rc=$?
	diag "host-unit: $((SECONDS - t0)) s"
	add_suite host-unit "$out" "$(suite_verdict "$out" "$rc")"
}

run_host_static()
{
	local out=$REPO/build/host-static.ktap t0=$SECONDS n=0 check log

	mkdir -p "$REPO/build"
	{
		echo "KTAP version 1"
		for check in checkpatch sparse spec docs; do
			n=$((n + 1))
			if log=$(make -s -C "$REPO" "$check" 2>&1); then
				echo "ok $n $check"
			else
				echo "not ok $n $check"
				printf '%s\n' "$log" | tail -n 40 | sed 's/^/# /'
			fi
		done
		echo "1..$n"
	} > "$out"
	diag "host-static: $((SECONDS - t0)) s"
	add_suite host-static "$out" "$(suite_verdict "$out" 0)"
}

# Suite "host-fuzz": tests/fuzz, bounded in time; a crash fails it with the
# sanitizer's report and the saved input as diagnostics.
run_host_fuzz()
{
	local out=$REPO/build/host-fuzz.ktap secs=${PRR_FUZZ_SECONDS:-60}
	local rc=0 t0=$SECONDS log=$REPO/build/host-fuzz.log

	[ -f "$REPO/tests/fuzz/Makefile" ] && [ "$secs" != 0 ] || return 0
	mkdir -p "$REPO/build"
	make -s -C "$REPO/tests/fuzz" run FUZZ_SECONDS="$secs" > "$log" 2>&1 ||
		rc=$?
	{
		echo "KTAP version 1"
		echo "1..1"
		grep -E '^(fuzzing|corpus:|stat::)|DONE +cov:' "$log" |
			sed 's/^/# /'
		if [ "$rc" -eq 0 ]; then
			echo "ok 1 classify_fuzz"
		else
			grep -E 'ERROR|invariant|SUMMARY|Test unit written|reproduce' \
				"$log" | head -n 20 | sed 's/^/# /'
			echo "not ok 1 classify_fuzz"
		fi
	} > "$out"
	diag "host-fuzz: $((SECONDS - t0)) s (log: build/host-fuzz.log)"
	add_suite host-fuzz "$out" "$(suite_verdict "$out" "$rc")"
}

# Suite "host-bench": the benchmark builds, runs and answers correctly.
run_host_bench()
{
	local out=$REPO/build/host-bench.ktap rc=0 log=$REPO/build/host-bench.log

	[ -f "$REPO/tests/bench/Makefile" ] || return 0
	mkdir -p "$REPO/build"
	make -s -C "$REPO/tests/bench" smoke > "$log" 2>&1 || rc=$?
	{
		echo "KTAP version 1"
		echo "1..1"
		if [ "$rc" -eq 0 ]; then
			echo "ok 1 lookup_bench_smoke"
		else
			tail -n 20 "$log" | sed 's/^/# /'
			echo "not ok 1 lookup_bench_smoke"
		fi
	} > "$out"
	add_suite host-bench "$out" "$(suite_verdict "$out" "$rc")"
}

# Suite "host-package": the Debian packages build, install (dkms builds the
# module for every kernel, each VM modprobes it) and purge.  Last, because it
# replaces the dkms-installed module the VMs test (and puts it back after).
run_host_package()
{
	local out=$REPO/build/host-package.ktap rc=0 t0=$SECONDS

	[ "${PRR_PACKAGE_TEST:-1}" != 0 ] || return 0
	mkdir -p "$REPO/build"
	"$REPO/tests/pkg/check_packages.sh" > "$out" 2>&1 || rc=$?
	diag "host-package: $((SECONDS - t0)) s"
	add_suite host-package "$out" "$(suite_verdict "$out" "$rc")"
}

# start_timed DIR CMD...: runs CMD in the background, then writes its exit
# status and the seconds it took to DIR/run.status (read by finish_timed);
# the job's pid goes to TIMED_PID.
start_timed()
{
	local dir=$1

	shift
	mkdir -p "$dir"
	rm -f "$dir/results.ktap" "$dir/run.status"
	(
		t0=$SECONDS
		"$@"
		echo "$? $((SECONDS - t0))" > "$dir/run.status"
	) &
	TIMED_PID=$!
}

# finish_timed NAME DIR PID CONSOLE: waits for the job, then adds suite NAME
# from DIR/results.ktap.  A VM that did not complete (run.sh's 125) gets the
# panic lines and the end of CONSOLE (a path under build/) as diagnostics.
finish_timed()
{
	local name=$1 dir=$2 pid=$3 console=$4 rc secs verdict
	local ktap=$dir/results.ktap extra=$dir/run-all.diag

	wait "$pid"
	read -r rc secs < "$dir/run.status" 2>/dev/null || { rc=125; secs='?'; }
	diag "$name: VM finished in $secs s"
	[ -f "$ktap" ] || : > "$ktap"
	: > "$extra"
	if [ "$rc" -eq 125 ]; then
		verdict="not ok|ERROR VM did not complete"
		{
			grep '^run\.sh:' "$dir/run.log"
			grep -m 8 -E "$PANIC_LINES" "$REPO/$console" 2>/dev/null
			echo "last lines of $console:"
			tail -n 20 "$REPO/$console" 2>/dev/null
		} > "$extra"
	else
		verdict=$(suite_verdict "$ktap" "$rc")
	fi
	add_suite "$name" "$ktap" "$verdict" "$extra"
}

# Suite "vm-testbed" (6. above): its VM boots in the background, in
# build/vm/testbed-KREL/ (apart from the kernel suite's VM of the same
# release), at nice 19; finish_vm_testbed waits for it.
TESTBED_KREL=
start_vm_testbed()
{
	TESTBED_PID=
	[ "${PRR_TESTBED:-1}" != 0 ] || return 0
	TESTBED_KREL=$(printf '%s\n' "${KERNELS[@]}" | grep -m 1 '^6\.1\.') ||
		TESTBED_KREL=${KERNELS[0]}
	start_timed "$REPO/build/testbed" boot_testbed "$TESTBED_KREL"
	TESTBED_PID=$TIMED_PID
	diag "vm-testbed: $TESTBED_KREL VM started at nice 19 (log: build/testbed/run.log)"
}

boot_testbed()
{
	PRR_VM_NAME=testbed-$1 nice -n 19 "$REPO/selftests/vm/run.sh" "$1" \
		selftests/testbed/guest-testbed.sh > "$REPO/build/testbed/run.log" 2>&1
}

finish_vm_testbed()
{
	[ -n "${TESTBED_PID:-}" ] || return 0
	finish_timed vm-testbed "$REPO/build/testbed" "$TESTBED_PID" \
		"build/vm/testbed-$TESTBED_KREL/console.log"
}

# Boots KREL's VM for guest-run.sh; run.sh's output goes to
# build/vm/KREL/run.log (V=1: also to stderr, prefixed with the release).
boot_guest_run()
{
	local krel=$1 log=$REPO/build/vm/$1/run.log

	if [ "$VERBOSE" -ge 1 ] 2>/dev/null; then
		"$REPO/selftests/vm/run.sh" "$krel" selftests/guest-run.sh 2>&1 |
			tee "$log" | sed -u "s/^/[$krel] /" >&2
		return "${PIPESTATUS[0]}"
	fi
	"$REPO/selftests/vm/run.sh" "$krel" selftests/guest-run.sh > "$log" 2>&1
}

start_vm()
{
	start_timed "$REPO/build/vm/$1" boot_guest_run "$1"
	VM_PIDS+=("$TIMED_PID")
	diag "$1: VM started (console: build/vm/$1/console.log)"
}

finish_vm()
{
	finish_timed "$1" "$REPO/build/vm/$1" "$2" "build/vm/$1/console.log"
}

# run_vms CMD...: boots the kernels' VMs, JOBS at a time, and runs CMD (the
# host suites) once the first VMs are up: a TCG guest leaves some of a core
# idle, and the host suites need no VM.
run_vms()
{
	local i first running=() host=1

	VM_PIDS=()
	for i in "${!KERNELS[@]}"; do
		start_vm "${KERNELS[$i]}"
		running+=("$i")
		if [ "${#running[@]}" -ge "$JOBS" ]; then
			[ "$host" = 0 ] || { "$@"; host=0; }
			first=${running[0]}
			finish_vm "${KERNELS[$first]}" "${VM_PIDS[$first]}"
			running=("${running[@]:1}")
		fi
	done
	[ "$host" = 0 ] || "$@"
	for i in "${running[@]}"; do
		finish_vm "${KERNELS[$i]}" "${VM_PIDS[$i]}"
	done
}

run_host_suites()
{
	run_host_unit
	run_host_static
	run_host_fuzz
	run_host_bench
}

# What runs beside the first kernel VMs: the host suites, then the testbed's
# VM.
beside_vms()
{
	run_host_suites
	start_vm_testbed
}

print_suites()
{
	local n=0 entry name file verdict extra result directive

	echo "1..${#SUITES[@]}"
	for entry in "${SUITES[@]}"; do
		IFS='|' read -r name file result directive extra <<< "$entry"
		n=$((n + 1))
		sed 's/^/  /' "$file"
		[ -z "$extra" ] || [ ! -s "$extra" ] || diag "$(cat "$extra")"
		echo "$result $n $name${directive:+ # $directive}"
	done
}

main()
{
	local out pass fail skip

	case "$JOBS" in
	''|*[!0-9]*|0)
		err "PRR_VM_JOBS must be a positive number, not '$JOBS'"
		exit 2 ;;
	esac
	if [ "${PRR_TESTBED:-1}" != 0 ]; then
		bash "$REPO/selftests/testbed/guest-testbed.sh" --check-settings ||
			exit 2
	fi
	mapfile -t KERNELS < <(find_kernels)
	if [ -z "${PRR_KERNELS:-}" ] && ! require_6_1_and_6_12; then
		echo "0 passed, 1 failed"
		exit 1
	fi
	out=$REPO/build/run-all.ktap
	mkdir -p "$REPO/build"
	echo "KTAP version 1"
	diag "prr tests: host-unit, host-static and kernels ${KERNELS[*]}, $JOBS VM(s) at a time"
	run_vms beside_vms
	finish_vm_testbed
	run_host_package
	print_suites > "$out"
	cat "$out"
	read -r pass fail skip < <(count_leaves < "$out")
	diag "totals: pass:$pass fail:$fail skip:$skip" \
	     "(skips are counted as passed below)"
	grep -q '^not ok ' "$out" && [ "$fail" -eq 0 ] && fail=1
	echo "$((pass + skip)) passed, $fail failed"
	[ "$fail" -eq 0 ]
}

main "$@"
