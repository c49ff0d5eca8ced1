#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-debug.sh [CACHE]
#
# Boots the debug kernel built by selftests/debug/build-kernel.sh in CACHE
# (default $PRR_DEBUG_CACHE or /var/cache/prr-debug-kernel) in the test VM and
# runs selftests/debug/guest-debug.sh there: the whole selftest suite with
# build/kmod/KREL/prr.ko ("make test-debug" builds it against CACHE's tree
# first), a kmemleak scan and a check of the kernel log for the detectors'
# reports.  The guest's KTAP is printed, then "# debug: ..." with the time the
# VM took and, as the last line, "N passed, M failed" (leaf results, as
# selftests/run-all.sh counts them).  Exit status 0 iff nothing failed.
#
# A boot whose log has a detector's report before prr was loaded (the guest
# exits 3, running nothing) is booted again, and the retry is reported with
# that boot's report: under TCG this kernel has reported KASAN errors in its
# first 15 ms, four times so far, twice in a row once.  PRR_DEBUG_BOOTS (3)
# such boots fail the run.
#
# Environment (defaults here differ: the debug kernel under TCG is several
# times slower than Debian's, see docs/debug-kernel.md):
#   PRR_VM_MEM         default 3072 (KASAN's shadow takes an eighth of the
#                      memory, kmemleak and lockdep their metadata)
#   PRR_VM_TIMEOUT     default 10800 (3 h for the whole VM)
#   PRR_TEST_TIMEOUT   default 3000 (per test)
#   PRR_EVERY_KERNEL   default 1: the tests marked for another kernel run
#                      here too (the point is the detectors, not the kernel)
#   PRR_DEBUG_BOOTS    default 3: boots tried while each reports before prr
#                      was loaded
#   PRR_DEBUG_RUN_SH   the VM runner, default selftests/vm/run.sh (tests put
#                      a stand-in there: tests/unit/debug_boots_test.sh)
#   PRR_TESTS, V       see selftests/guest-run.sh

set -u

REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
# shellcheck source=../lib/leaves.sh
. "$REPO/selftests/lib/leaves.sh"
CACHE=${1:-${PRR_DEBUG_CACHE:-/var/cache/prr-debug-kernel}}
# guest-debug.sh's status for a boot that reported before prr was loaded
BOOT_REPORT_STATUS=3
BOOTS=${PRR_DEBUG_BOOTS:-3}
RUN_SH=${PRR_DEBUG_RUN_SH:-$REPO/selftests/vm/run.sh}

die()
{
	echo "run-debug.sh: $*" >&2
	exit 1
}

# Boots KREL with guest-debug.sh; returns the guest's exit status.
boot_and_run()
{
	local krel=$1

	echo "# debug: booting $krel (console: build/vm/$krel/console.log," \
		"V=1 streams it)"
	PRR_VM_KERNEL=$CACHE/bzImage PRR_VM_MODROOT=$CACHE/root \
	PRR_VM_MEM=${PRR_VM_MEM:-3072} PRR_VM_TIMEOUT=${PRR_VM_TIMEOUT:-10800} \
	PRR_TEST_TIMEOUT=${PRR_TEST_TIMEOUT:-3000} PRR_LOCAL_KO=1 \
	PRR_EVERY_KERNEL=${PRR_EVERY_KERNEL:-1} \
		"$RUN_SH" "$krel" selftests/debug/guest-debug.sh \
		2>&1 | if [ "${V:-0}" -ge 1 ] 2>/dev/null; then
			tee "$REPO/build/vm/$krel.run.log" >&2
		else
			cat > "$REPO/build/vm/$krel.run.log"
		fi
	return "${PIPESTATUS[0]}"
}

main()
{
	local krel ktap rc=0 t0=$SECONDS pass fail skip boot=1

	case $BOOTS in
	'' | *[!0-9]* | 0*) die "PRR_DEBUG_BOOTS=$BOOTS: not a positive number of boots" ;;
	esac
	if [ ! -f "$CACHE/stamp" ] || [ ! -f "$CACHE/krel" ]; then
		die "no debug kernel in $CACHE: run selftests/debug/build-kernel.sh (or make test-debug)"
	fi
	krel=$(cat "$CACHE/krel")
	[ -f "$REPO/build/kmod/$krel/prr.ko" ] ||
		die "no build/kmod/$krel/prr.ko: make test-debug builds it"
	ktap=$REPO/build/vm/$krel/debug.ktap
	rm -f "$ktap"
	mkdir -p "$REPO/build/vm"
	boot_and_run "$krel" || rc=$?
	while [ "$rc" -eq "$BOOT_REPORT_STATUS" ] && [ "$boot" -lt "$BOOTS" ]; do
		echo "# retried: boot $boot of $BOOTS had a detector's report" \
			"in its log before prr was loaded:"
		sed 's/^/# /' "$ktap"
		rm -f "$ktap"
		rc=0
		boot=$((boot + 1))
		boot_and_run "$krel" || rc=$?
	done
	[ ! -s "$ktap" ] || cat "$ktap"
	# 125: the VM did not complete (panic, hang, timeout; see run.sh).
	if [ ! -s "$ktap" ] || [ "$rc" -eq 125 ]; then
		grep '^run\.sh:' "$REPO/build/vm/$krel.run.log" | sed 's/^/# /'
		echo "# last lines of build/vm/$krel/console.log:"
		tail -n 30 "$REPO/build/vm/$krel/console.log" 2>/dev/null |
			sed 's/^/# /'
	fi
	if [ -s "$ktap" ]; then
		read -r pass fail skip < <(count_leaves < "$ktap")
	else
		pass=0 fail=0 skip=0
	fi
	# A VM that died or a guest that failed without a "not ok": one failure.
	[ "$rc" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1
	echo "# debug: $krel, VM $((SECONDS - t0)) s, exit status $rc, skipped $skip"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ] && [ "$rc" -eq 0 ]
}

main "$@"
