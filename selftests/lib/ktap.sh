#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# KTAP output for prr's shell selftests.  A test script sources this file,
# reports each assertion with ktap_ok/ktap_fail/ktap_check/ktap_skip and ends
# with ktap_finish, which prints the plan and exits 0 only if nothing failed.
#
#   ktap_ok DESC                  record a pass
#   ktap_fail DESC [DIAG...]      record a failure, DIAG lines printed as "# "
#   ktap_skip DESC REASON         record a skip
#   ktap_check DESC CMD [ARGS...] pass iff CMD succeeds; its output becomes
#                                 diagnostics on failure
#   ktap_expect DESC WANT GOT     pass iff the strings are equal
#   wait_until SECS CMD [ARGS...] poll CMD every 0.1 s until it succeeds;
#                                 returns 1 on timeout (SECS may be 0.5)

KTAP_N=0
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIP=0

echo "KTAP version 1"

ktap_diag()
{
	local line

	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/# /'
	done
}

ktap_ok()
{
	KTAP_N=$((KTAP_N + 1))
	KTAP_PASS=$((KTAP_PASS + 1))
	echo "ok $KTAP_N $1"
}

ktap_fail()
{
	local desc=$1

	shift
	KTAP_N=$((KTAP_N + 1))
	KTAP_FAIL=$((KTAP_FAIL + 1))
	echo "not ok $KTAP_N $desc"
	ktap_diag "$@"
}

ktap_skip()
{
	KTAP_N=$((KTAP_N + 1))
	KTAP_SKIP=$((KTAP_SKIP + 1))
	echo "ok $KTAP_N $1 # SKIP $2"
}

ktap_check()
{
	local desc=$1 out

	shift
	if out=$("$@" 2>&1); then
		ktap_ok "$desc"
	else
		ktap_fail "$desc" "command: $*" "$out"
	fi
}

ktap_expect()
{
	if [ "$2" = "$3" ]; then
		ktap_ok "$1"
	else
		ktap_fail "$1" "expected: $2" "got:      $3"
	fi
}

# Prints the milliseconds in SECS (e.g. 5, 0.5, 2.25).
ktap_ms()
{
	local int=${1%%.*} frac=

	[ "$int" = "$1" ] || frac=${1#*.}
	frac=${frac}000
	echo $((10#${int:-0} * 1000 + 10#${frac:0:3}))
}

wait_until()
{
	local deadline=$(($(date +%s%N) / 1000000 + $(ktap_ms "$1")))

	shift
	until "$@" >/dev/null 2>&1; do
		[ $(($(date +%s%N) / 1000000)) -lt $deadline ] || return 1
		sleep 0.1
	done
}

ktap_finish()
{
	echo "1..$KTAP_N"
	echo "# pass:$KTAP_PASS fail:$KTAP_FAIL skip:$KTAP_SKIP"
	[ "$KTAP_FAIL" -eq 0 ]
	exit
}
