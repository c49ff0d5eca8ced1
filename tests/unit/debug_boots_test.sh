#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/debug/run-debug.sh boots the debug kernel again while a boot's log
# has a detector's report before prr was loaded (the guest's exit status 3),
# at most PRR_DEBUG_BOOTS times, and refuses a bad PRR_DEBUG_BOOTS before
# booting anything.  The VM runner is a stand-in (PRR_DEBUG_RUN_SH) that
# counts its boots and plays a guest reporting on its first N boots.

set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$REPO" || exit 1
. "$REPO/selftests/lib/ktap.sh"

KREL=0.0-debug-boots-test
TMP=$(mktemp -d /tmp/prr-debug-boots.XXXXXX)
cleanup()
{
	rm -rf "$TMP" "$REPO/build/kmod/$KREL" "$REPO/build/vm/$KREL" \
	       "$REPO/build/vm/$KREL.run.log"
}
trap cleanup EXIT

mkdir -p "$TMP/cache" "$REPO/build/kmod/$KREL"
touch "$TMP/cache/stamp" "$REPO/build/kmod/$KREL/prr.ko"
echo "$KREL" > "$TMP/cache/krel"
cat > "$TMP/run.sh" <<'STUB'
#!/bin/bash
# run.sh KREL GUEST: boot number n reports before prr (exit 3) while
# n <= STUB_REPORTS, else passes one test.
n=$(($(cat "$STUB_DIR/boots" 2>/dev/null || echo 0) + 1))
echo "$n" > "$STUB_DIR/boots"
mkdir -p "$STUB_REPO/build/vm/$1"
if [ "$n" -le "$STUB_REPORTS" ]; then
	echo "BUG: KASAN: report of boot $n" > "$STUB_REPO/build/vm/$1/debug.ktap"
	exit 3
fi
printf 'KTAP version 1\n1..1\nok 1 stand-in test\n' \
	> "$STUB_REPO/build/vm/$1/debug.ktap"
STUB
chmod +x "$TMP/run.sh"

# run_debug REPORTS [VAR=VALUE...]: run-debug.sh's exit status, boots and
# "# retried" lines, last line of stdout and stderr, on one line each.
run_debug()
{
	local reports=$1 out err rc=0

	shift
	rm -f "$TMP/boots"
	out=$(env STUB_DIR="$TMP" STUB_REPO="$REPO" STUB_REPORTS="$reports" \
	      PRR_DEBUG_RUN_SH="$TMP/run.sh" "$@" \
	      selftests/debug/run-debug.sh "$TMP/cache" 2>"$TMP/err") || rc=$?
	err=$(cat "$TMP/err")
	printf 'exit %s, boots %s, retried %s: %s|%s' "$rc" \
	       "$(cat "$TMP/boots" 2>/dev/null || echo 0)" \
	       "$(grep -c '^# retried' <<< "$out")" "$(tail -n 1 <<< "$out")" \
	       "$err"
}

ktap_expect "a clean first boot is the only boot" \
	"exit 0, boots 1, retried 0: 1 passed, 0 failed|" "$(run_debug 0)"
ktap_expect "a boot reporting before prr is booted again" \
	"exit 0, boots 2, retried 1: 1 passed, 0 failed|" "$(run_debug 1)"
ktap_expect "two reporting boots, then a clean one: passes" \
	"exit 0, boots 3, retried 2: 1 passed, 0 failed|" "$(run_debug 2)"
ktap_expect "three reporting boots fail the run, and no fourth is tried" \
	"exit 1, boots 3, retried 2: 0 passed, 1 failed|" "$(run_debug 9)"
ktap_expect "PRR_DEBUG_BOOTS=1: one reporting boot fails the run" \
	"exit 1, boots 1, retried 0: 0 passed, 1 failed|" \
	"$(run_debug 9 PRR_DEBUG_BOOTS=1)"
for bad in x 0 03 -1; do
	ktap_expect "PRR_DEBUG_BOOTS=$bad is refused before any boot" \
		"exit 1, boots 0, retried 0: |run-debug.sh: PRR_DEBUG_BOOTS=$bad: not a positive number of boots" \
		"$(run_debug 0 PRR_DEBUG_BOOTS=$bad)"
done
ktap_finish
