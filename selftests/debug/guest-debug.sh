#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-debug.sh: prr's selftests on the debug kernel (see
# docs/debug-kernel.md).  Runs INSIDE the test VM booted with that kernel
# (selftests/debug/run-debug.sh does), never on the host.
#
# Prints one KTAP document of four tests:
#   1 detectors    the kernel really has KASAN, kmemleak and lockdep on
#                  (so a clean run means something);
#   2 selftests    selftests/guest-run.sh, whose KTAP is nested (it loads prr
#                  from build/kmod/KREL/prr.ko, runs every test, unloads prr
#                  and checks the kernel log for WARNING/BUG/... lines);
#   3 kmemleak     after the suite and "rmmod prr": two scans (as the kernel's
#                  kmemleak documentation recommends), at least
#                  KMEMLEAK_MIN_AGE apart, report no unreferenced object;
#                  leaks suspected before prr was loaded (the kernel's own,
#                  at boot) are listed as diagnostics and cleared first;
#   4 debug log    no line of the whole kernel log since boot matches the
#                  reports of the detectors (KASAN, lockdep, RCU, atomic
#                  sleep, debugobjects, list debugging), and lockdep is still
#                  on at the end (it turns itself off after its first report).
# The output is also written to build/vm/KREL/debug.ktap; the kmemleak report
# to build/vm/KREL/kmemleak.txt.  Exit status 0 iff all passed; 3 when the
# boot log already has a detector's report, before prr was ever loaded (then
# nothing runs: lockdep is off for good, so no check could be judged;
# run-debug.sh boots once more).

set -u

REPO=$(cd "$(dirname "$0")/../.." && pwd)
KREL=$(uname -r)
OUT_DIR=$REPO/build/vm/$KREL
KMEMLEAK=/sys/kernel/debug/kmemleak
# kmemleak reports an object only when it is older than 5 s
# (jiffies_min_age in mm/kmemleak.c); the second scan must come later.
KMEMLEAK_MIN_AGE=6
DEBUG_DMESG='BUG: KASAN|KASAN:|possible circular locking|possible recursive locking'
DEBUG_DMESG+='|inconsistent lock state|INFO: possible|lock held when returning'
DEBUG_DMESG+='|suspicious RCU usage|sleeping function called from invalid context'
DEBUG_DMESG+='|ODEBUG|DEBUG_LOCKS_WARN_ON|list_(add|del) corruption'
DEBUG_DMESG+='|suspected memory leak|\bWARNING\b|\bBUG\b|Oops|Call Trace'
DEBUG_DMESG+='|general protection|refcount_t'
# kmemleak switches itself off on an internal error: then it finds nothing.
DEBUG_DMESG+='|kmemleak: .*(disabled|[Ee]rror|[Ff]ail)|Memory pool empty'

BOOT_REPORT_STATUS=3

N=0
FAIL=0

diag()
{
	printf '%s\n' "$@" | sed 's/^/# /'
}

result()
{
	N=$((N + 1))
	[ "$1" = ok ] || FAIL=$((FAIL + 1))
	echo "$1 $N $2"
}

# A detector's report in the boot log, before anything loaded prr: the
# kernel's or the emulator's (seen at 0.004 and 0.014 s into boot under TCG:
# KASAN wild-memory-access in do_raw_spin_lock, then lockdep off).
boot_report()
{
	local bad

	bad=$(grep -E "$DEBUG_DMESG" "$OUT_DIR/debug-boot.txt") || return 1
	diag "the kernel reported while booting, before prr was loaded:" \
		"$(head -n 12 <<< "$bad")" \
		"(boot log: build/vm/$KREL/debug-boot.txt)"
}

check_detectors()
{
	local missing=

	grep -q 'KernelAddressSanitizer initialized' "$OUT_DIR/debug-boot.txt" ||
		missing+=" KASAN"
	[ -e "$KMEMLEAK" ] || missing+=" kmemleak"
	grep -qE '^ *debug_locks: +1' /proc/lockdep_stats 2>/dev/null ||
		missing+=" lockdep"
	if [ -n "$missing" ]; then
		diag "not active:$missing"
		result "not ok" detectors
	else
		diag "KASAN, kmemleak and lockdep are active"
		result ok detectors
	fi
}

# Scans and clears what kmemleak suspects before prr is loaded.
kmemleak_baseline()
{
	local before

	[ -e "$KMEMLEAK" ] || return 0
	echo scan > "$KMEMLEAK"
	before=$(cat "$KMEMLEAK")
	if [ -n "$before" ]; then
		printf '%s\n' "$before" > "$OUT_DIR/kmemleak-boot.txt"
		diag "kmemleak before prr was loaded (not prr's, cleared):" \
			"$(grep -c '^unreferenced object' <<< "$before") objects," \
			"build/vm/$KREL/kmemleak-boot.txt"
	fi
	echo clear > "$KMEMLEAK"
}

run_selftests()
{
	local rc=0

	# Receivers and servers (lib/topo.sh) give up 30 s after they start
	# and finish 0.5 s after the last packet once told to stop: too short
	# for this kernel under TCG, tens of times slower than Debian's, where
	# a sender may still be starting when a receiver's 30 s are over.
	# prr_ecmp's 500 packets/s overflow the emulated links' queues on this
	# kernel (thousands forwarded, never received), so it sends 100/s.
	RX_TIMEOUT_MS=${RX_TIMEOUT_MS:-600000} RX_GRACE_MS=${RX_GRACE_MS:-3000} \
		PRR_ECMP_PPS=${PRR_ECMP_PPS:-100} \
		bash "$REPO/selftests/guest-run.sh" | sed 's/^/  /'
	rc=${PIPESTATUS[0]}
	if [ "$rc" -eq 0 ]; then
		result ok selftests
	else
		result "not ok" selftests
	fi
}

check_kmemleak()
{
	local report t0=$SECONDS

	if [ ! -e "$KMEMLEAK" ]; then
		diag "no $KMEMLEAK"
		result "not ok" kmemleak
		return
	fi
	# Not a poll: kmemleak reports only objects older than its minimum age
	# that stayed unreferenced across scans, so the second scan must wait.
	if ! echo scan > "$KMEMLEAK" || ! sleep "$KMEMLEAK_MIN_AGE" ||
	   ! echo scan > "$KMEMLEAK"; then
		diag "kmemleak refused to scan (switched off after an error?)"
		result "not ok" kmemleak
		return
	fi
	report=$(cat "$KMEMLEAK")
	printf '%s\n' "$report" > "$OUT_DIR/kmemleak.txt"
	diag "kmemleak: two scans in $((SECONDS - t0)) s," \
		"$(grep -c '^unreferenced object' <<< "$report") unreferenced objects"
	if [ -z "$report" ]; then
		result ok kmemleak
	else
		diag "$(head -n 60 <<< "$report")" \
			"(whole report: build/vm/$KREL/kmemleak.txt)"
		result "not ok" kmemleak
	fi
}

check_debug_log()
{
	local bad

	cat "$OUT_DIR/debug-boot.txt" "$OUT_DIR/dmesg-boot.txt" \
		"$OUT_DIR/dmesg.txt" > "$OUT_DIR/debug-dmesg.txt" 2>/dev/null
	dmesg >> "$OUT_DIR/debug-dmesg.txt"
	bad=$(grep -E "$DEBUG_DMESG" "$OUT_DIR/debug-dmesg.txt")
	if ! grep -qE '^ *debug_locks: +1' /proc/lockdep_stats 2>/dev/null; then
		bad=$(printf '%s\n%s' "$bad" \
			"lockdep is off at the end (debug_locks 0 or no lockdep)" |
			sed '/^$/d')
	fi
	if [ -z "$bad" ]; then
		result ok "debug log"
	else
		diag "$bad" "(kernel log: build/vm/$KREL/debug-dmesg.txt)"
		result "not ok" "debug log"
	fi
}

main()
{
	local t0=$SECONDS

	mkdir -p "$OUT_DIR" || exit 1
	rm -f "$OUT_DIR/kmemleak.txt" "$OUT_DIR/kmemleak-boot.txt"
	# The boot log, kept for check 4 (guest-run.sh keeps the rest).
	dmesg -c > "$OUT_DIR/debug-boot.txt" 2>&1
	echo "KTAP version 1"
	if boot_report; then
		echo "1..1"
		result "not ok" "boot log clean before prr is loaded"
		return "$BOOT_REPORT_STATUS"
	fi
	echo "1..4"
	diag "prr on the debug kernel $KREL"
	check_detectors
	kmemleak_baseline
	run_selftests
	check_kmemleak
	check_debug_log
	diag "debug run: $((SECONDS - t0)) s in the VM, $((N - FAIL)) of $N passed"
	[ "$FAIL" -eq 0 ]
}

[ -d /run/prrvm ] || {
	echo "guest-debug.sh: runs inside the test VM; use selftests/debug/run-debug.sh" >&2
	exit 2
}
cd "$REPO" || exit 1
mkdir -p "$OUT_DIR" || exit 1
main "$@" 2>&1 | tee "$OUT_DIR/debug.ktap"
exit "${PIPESTATUS[0]}"
