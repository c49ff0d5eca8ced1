#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The forwarding benchmark refuses bad settings with one line on stderr and
# exit status 1, on the host, before a VM boots: fwd_bench.sh a bad -icount
# shift or round count for its second run, before it writes anything;
# guest.sh (--tables-only, as fwd_bench.sh calls it first) a table size it
# cannot build, or a size asked for twice (the two would share one variant's
# namespace), before it writes any table.  A number written with a leading
# zero is read as decimal, as the user meant it.

set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$REPO" || exit 1
. "$REPO/selftests/lib/ktap.sh"

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# tables VAR=VALUE...: "STATUS<tab>STDERR" of a table generation with those
# sizes (the others empty unless given).
tables()
{
	local err rc=0

	err=$(env PRR_BENCH_OUT="$OUT" PRR_BENCH_PRR_SIZES= \
	      PRR_BENCH_STOCK_SIZES= PRR_BENCH_MAP_SIZES= "$@" \
	      tests/bench/fwd/guest.sh --tables-only 2>&1 >/dev/null) || rc=$?
	printf '%s\t%s' "$rc" "$err"
}

expect_refused()
{
	local setting=$1 msg=$2

	ktap_expect "$setting is refused" "1	guest.sh: $msg" "$(tables "$setting")"
}

expect_refused "PRR_BENCH_PRR_SIZES=4096 4096n" \
	"PRR_BENCH_PRR_SIZES: prr-4096 is asked for twice"
expect_refused "PRR_BENCH_PRR_SIZES=4096u 4096m" \
	"PRR_BENCH_PRR_SIZES: prr-4096 is asked for twice"
expect_refused "PRR_BENCH_PRR_SIZES=64k" \
	"PRR_BENCH_PRR_SIZES: '64k' is not a prr table size"
expect_refused "PRR_BENCH_PRR_SIZES=4096nu" \
	"PRR_BENCH_PRR_SIZES: '4096nu' is not a prr table size"
expect_refused "PRR_BENCH_PRR_SIZES=0" \
	"PRR_BENCH_PRR_SIZES: '0' is not a prr table size"
expect_refused "PRR_BENCH_STOCK_SIZES=4096n" \
	"PRR_BENCH_STOCK_SIZES: '4096n' is not a stock table size"
expect_refused "PRR_BENCH_MAP_SIZES=4096m" \
	"PRR_BENCH_MAP_SIZES: '4096m' is not a nftmap table size"
expect_refused "PRR_BENCH_MAP_SIZES=64 128 64" \
	"PRR_BENCH_MAP_SIZES: nftmap-64 is asked for twice"
ktap_expect "... and no table was written" "" "$(ls -A "$OUT")"

# fwd_bench.sh VAR=VALUE: "STATUS<tab>STDERR", its output directory one that
# must not appear.
fwd_bench()
{
	local err rc=0

	err=$(env PRR_BENCH_OUT="$OUT/fwd" PRR_BENCH_DOC= "$1" \
	      tests/bench/fwd/fwd_bench.sh 2>&1 >/dev/null) || rc=$?
	printf '%s\t%s' "$rc" "$err"
}

for v in x 11; do
	ktap_expect "PRR_BENCH_ICOUNT=$v is refused" \
		"1	fwd_bench.sh: PRR_BENCH_ICOUNT must be empty or a shift of 0 to 10, not '$v'" \
		"$(fwd_bench PRR_BENCH_ICOUNT=$v)"
done
for v in 0 00 three; do
	ktap_expect "PRR_BENCH_ICOUNT_ROUNDS=$v is refused" \
		"1	fwd_bench.sh: PRR_BENCH_ICOUNT_ROUNDS must be a whole number of at least 1, not '$v'" \
		"$(fwd_bench PRR_BENCH_ICOUNT_ROUNDS=$v)"
done
ktap_expect "... and nothing was written" "" "$(ls -A "$OUT")"

# One of each, accepted: the check refuses only what it names.
got=$(tables "PRR_BENCH_PRR_SIZES=128 256mn" PRR_BENCH_STOCK_SIZES=64 \
	     PRR_BENCH_MAP_SIZES=128u)
ktap_expect "prr 128 and 256mn, stock 64 and nftmap 128u are accepted" \
	"0	" "$got"
ktap_expect "... and their tables were written" 5 \
	"$(find "$OUT/tables" -type f | wc -l)"

# Numbers with a leading zero are read as decimal (fwd_bench.sh accepts a
# round count of 08 and passes it on; bash's $(( )) would call it octal).
got=$(tables PRR_BENCH_PRR_SIZES=128 PRR_BENCH_NEXTHOPS=08)
ktap_expect "PRR_BENCH_NEXTHOPS=08 is accepted as 8" "0	" "$got"
ktap_expect "... and names the table's 8 gateways" "prr-128u-8.txt" \
	"$(cd "$OUT/tables" && ls prr-128u-8.txt prr-128u-08.txt 2>/dev/null)"
ktap_finish
