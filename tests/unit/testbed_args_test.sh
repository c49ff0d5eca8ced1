#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The seed testbed refuses a malformed PRR_BT_* setting with one line on
# stderr and exit status 1 (selftests/testbed/guest-testbed.sh
# --check-settings, which make testbed and run-all.sh call on the host
# before a VM boots): each would otherwise break the JSON bt_suite.py reads,
# or run a campaign other than the one asked for, minutes into the VM.

set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$REPO" || exit 1
. "$REPO/selftests/lib/ktap.sh"

# check VAR=VALUE...: "STATUS<tab>STDERR" of the check with those settings.
check()
{
	local err rc=0

	err=$(env "$@" bash selftests/testbed/guest-testbed.sh \
	      --check-settings 2>&1 >/dev/null) || rc=$?
	printf '%s\t%s' "$rc" "$err"
}

expect_refused()
{
	local setting=$1 msg=$2

	ktap_expect "$setting is refused" "1	guest-testbed.sh: $msg" \
		"$(check "$setting")"
}

for v in x 05 100 -1; do
	expect_refused "PRR_BT_REPEAT=$v" \
		"PRR_BT_REPEAT: '$v' is not a number of runs from 0 to 99"
done
for v in 1000 67108865 99999999999999999999 1e6; do
	expect_refused "PRR_BT_SIZE=$v" \
		"PRR_BT_SIZE: '$v' is not a file size from 32768 to 67108864 bytes"
done
expect_refused "PRR_BT_RATE=0" \
	"PRR_BT_RATE: '0' is not an upload limit from 1024 to 1000000000 bytes/s"
for v in true "TRUE TRUE" "TRUE, FALSE" " "; do
	expect_refused "PRR_BT_CONFIGS=$v" \
		"PRR_BT_CONFIGS: '$v' is not TRUE, FALSE or both"
done
for v in 0 13 04 "4,7"; do
	expect_refused "PRR_BT_TESTS=$v" \
		"PRR_BT_TESTS: '$v' is not a list of test numbers from 1 to 12"
done

# The defaults, and one of each at its bounds, are accepted.
ktap_expect "the defaults are accepted" "0	" "$(check X=)"
ktap_expect "bounds and lists are accepted" "0	" \
	"$(check PRR_BT_REPEAT=0 PRR_BT_SIZE=67108864 PRR_BT_RATE=1024 \
		 PRR_BT_CONFIGS=FALSE "PRR_BT_TESTS=4 7 12")"
ktap_finish
