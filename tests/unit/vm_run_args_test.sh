#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/vm/run.sh refuses bad settings with one line on stderr and exit
# status 125, before it creates anything: no VM directory, no QEMU.  The
# kernel is /dev/null under a release no machine has, so that the checks
# before these (a readable kernel image) pass anywhere.

set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$REPO" || exit 1
. "$REPO/selftests/lib/ktap.sh"

KREL=0.0-args-test
RUN=$REPO/selftests/vm/run.sh

# run_sh VAR=VALUE: "STATUS<tab>STDERR" of run.sh with that setting.
run_sh()
{
	local err rc=0

	err=$(env PRR_VM_KERNEL=/dev/null "$1" "$RUN" "$KREL" selftests/guest-run.sh \
	      2>&1 >/dev/null) || rc=$?
	printf '%s\t%s' "$rc" "$err"
}

expect_refused()
{
	local setting=$1 msg=$2

	ktap_expect "$setting is refused" "125	run.sh: $msg" "$(run_sh "$setting")"
}

rm -rf "$REPO/build/vm/$KREL"
expect_refused PRR_VM_NAME=a/b \
	"PRR_VM_NAME must be a directory name, not 'a/b'"
expect_refused PRR_VM_NAME=.. "PRR_VM_NAME must be a directory name, not '..'"
expect_refused PRR_VM_TCG_THREAD=many \
	"PRR_VM_TCG_THREAD must be single or multi, not 'many'"
expect_refused PRR_VM_TIMEOUT=soon \
	"PRR_VM_TIMEOUT must be a number of seconds, not 'soon'"
expect_refused PRR_VM_ICOUNT=11 \
	"PRR_VM_ICOUNT must be empty or a shift of 0 to 10, not '11'"
expect_refused PRR_VM_ICOUNT=auto \
	"PRR_VM_ICOUNT must be empty or a shift of 0 to 10, not 'auto'"
# Two vCPUs (the default) under -icount never finish booting.
expect_refused PRR_VM_ICOUNT=1 \
	"PRR_VM_ICOUNT needs PRR_VM_TCG_THREAD=single and PRR_VM_SMP=1"
ktap_expect "... and nothing was created under build/vm/" "" \
	"$(ls -d "$REPO/build/vm/$KREL" "$REPO/build/vm/a" 2>/dev/null)"
ktap_finish
