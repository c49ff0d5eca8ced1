#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Smoke run of the forwarding benchmark (tests/bench/fwd, `make bench-fwd`),
# so that it cannot rot unnoticed: every variant with tiny tables, one short
# round.  Its figures are not judged (too noisy); what is asserted:
#   - the benchmark script completes;
#   - results.tsv has well-formed counted rows (packets injected, elapsed
#     time, sink count and rate all positive), "plain" running before,
#     between and after the other variants, whose ratios it anchors;
#   - every variant really forwarded: the sink (out0, reachable only through
#     the variant's own routing) transmitted every injected packet;
#   - in the prr variants prr forwarded them (its forwarded counter equals
#     the sink's count, no drop counter moved), and the hook-only variant's
#     traffic went past prr (forwarded 0);
#   - control.tsv has the load of each prr table with its entry-counters
#     setting (prr-64 is loaded with it off, the size word's suffix n);
#   - the report formatter turns the results into a table with a row per
#     variant and the goals section; given them again as an
#     instruction-clock run (--icount), a second table and each forwarding
#     goal judged on each clock.
#
# It guards the benchmark's scripts, which do not depend on the kernel, so
# it runs on one:
# prr-kernels: 6.12

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
REPO=$(dirname "$SELFTESTS")
. "$SELFTESTS/lib/ktap.sh"

BENCH=$REPO/tests/bench/fwd
OUT=

cleanup()
{
	[ -z "$OUT" ] || rm -rf "$OUT"
}

# Column COL of the counted (round 1) rows in results.tsv, of VARIANT only
# when given, one a line, in the order they ran.
round1_column()
{
	awk -F '\t' -v c="$1" -v v="${2-}" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$1 == 1 && (v == "" || $2 == v) { print $col["seq"], $col[c] }' \
		"$OUT/results.tsv" | sort -n | cut -d' ' -f2
}

result_field()
{
	round1_column "$2" "$1"
}

variant_names()
{
	awk -F '\t' 'NR > 1 { print $1 }' "$OUT/variants.tsv"
}

run_bench()
{
	local t0=$SECONDS out

	if out=$(PRR_BENCH_OUT=$OUT PRR_BENCH_ROUNDS=1 PRR_BENCH_SECONDS=1 \
		 PRR_BENCH_WARMUP_PKTS=300 \
		 PRR_BENCH_PRR_SIZES="256 64mn" PRR_BENCH_STOCK_SIZES=128 \
		 PRR_BENCH_MAP_SIZES=256 "$BENCH/guest.sh" 2>&1); then
		ktap_ok "forwarding benchmark runs ($((SECONDS - t0)) s)"
		return 0
	fi
	ktap_fail "forwarding benchmark runs" "$(printf '%s\n' "$out" |
		tail -n 15)"
	return 1
}

check_variants()
{
	ktap_expect "one variant per kind and size" \
		"plain prr-hook prr-256 prr-64 stock-128 nftmap-256" \
		"$(variant_names | paste -sd ' ')"
	ktap_expect "the round runs plain before, between and after the others" \
		"plain prr-hook plain prr-256 plain prr-64 plain stock-128 $(
		)plain nftmap-256 plain" \
		"$(round1_column variant | paste -sd ' ')"
}

# A counted row: numbers where numbers belong, all positive.
check_row()
{
	local v=$1 col val bad=

	for col in injected usec sink pps; do
		val=$(result_field "$v" "$col" | paste -sd ' ')
		[ -n "$val" ] || bad+=" $col=''"
		for val in $val; do
			case $val in
			*[!0-9]* | 0) bad+=" $col='$val'" ;;
			esac
		done
	done
	if [ -z "$bad" ]; then
		ktap_ok "$v: well-formed result rows"
	else
		ktap_fail "$v: well-formed result rows" "bad fields:$bad" \
			"$(grep -P "^1\t$v\t" "$OUT/results.tsv")"
	fi
}

check_sink()
{
	local v=$1

	ktap_expect "$v: the sink transmitted every injected packet" \
		"$(result_field "$v" injected)" "$(result_field "$v" sink)"
}

check_prr_counters()
{
	local v=$1 want

	want=$(result_field "$v" sink)
	[ "$v" != prr-hook ] || want=0
	ktap_expect "$v: prr forwarded $([ "$want" = 0 ] && echo none ||
		echo all) of them, dropped none" "$want 0" \
		"$(result_field "$v" prr_fwd) $(result_field "$v" prr_drop)"
}

check_control()
{
	ktap_expect "control.tsv: each prr table with its entry-counters setting" \
		"prr-256 256 on
prr-64 64 off" "$(awk -F '\t' 'NR > 1 { print $1, $2, $3 }' \
			"$OUT/control.tsv")"
}

check_report()
{
	local out v missing=

	if ! out=$(python3 "$BENCH/report.py" "$OUT" 2>&1); then
		ktap_fail "report formats the results" "$out"
		return
	fi
	for v in $(variant_names); do
		grep -q "^| $v |" <<< "$out" || missing+=" $v"
	done
	grep -q '^### Goals' <<< "$out" || missing+=" goals"
	if [ -z "$missing" ]; then
		ktap_ok "report has a row per variant and the goals"
	else
		ktap_fail "report has a row per variant and the goals" \
			"missing:$missing" "$out"
	fi
	# The same results standing in for the instruction-clock run: every
	# variant has a row in both forwarding tables, each goal a line per
	# clock.
	if ! out=$(python3 "$BENCH/report.py" "$OUT" --icount "$OUT" 2>&1); then
		ktap_fail "report formats an instruction-clock run" "$out"
		return
	fi
	missing=
	for v in $(variant_names); do
		[ "$(grep -c "^| $v | [^0-9]" <<< "$out")" = 2 ] || missing+=" $v"
	done
	grep -q '^### Forwarding, counted in instructions' <<< "$out" ||
		missing+=" heading"
	grep -q '^- prr with 64K entries .*(wall clock): ' <<< "$out" ||
		missing+=" wall-clock-goal"
	grep -q '^- prr with 64K entries .*(instruction clock): ' <<< "$out" ||
		missing+=" instruction-clock-goal"
	if [ -z "$missing" ]; then
		ktap_ok "with --icount: both tables, each goal judged per clock"
	else
		ktap_fail "with --icount: both tables, each goal judged per clock" \
			"missing:$missing" "$out"
	fi
}

main()
{
	local v

	if ! modprobe pktgen 2>/dev/null; then
		ktap_skip "forwarding benchmark smoke run" \
			"no pktgen module in this kernel"
		ktap_finish
	fi
	OUT=$(mktemp -d /tmp/prr_bench_smoke.XXXXXX)
	trap cleanup EXIT
	run_bench || ktap_finish
	check_variants
	for v in $(variant_names); do
		check_row "$v"
		check_sink "$v"
		case $v in
		prr-*) check_prr_counters "$v" ;;
		esac
	done
	check_control
	check_report
	ktap_finish
}

main "$@"
