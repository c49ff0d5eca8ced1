#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fwd_bench.sh: prr's forwarding benchmark (`make bench-fwd`), on the host.
#
# Generates the tables (tests/bench/fwd/gen.awk, on the host: quicker than in
# the emulated guest), boots the kernel in QEMU with this checkout's own
# module (build/kmod/KREL/prr.ko from `make modules-all`; never an installed
# one) and runs tests/bench/fwd/guest.sh in it, then formats the results with
# tests/bench/fwd/report.py: printed, and written into docs/benchmarks.md
# between its fwd-bench markers, with the date, kernel and host CPU.  The
# lookup benchmark's last report (build/bench/lookup.txt) goes into its own
# block when present.  Raw results stay in build/bench/fwd/.
#
# Then it runs the benchmark again in a guest whose clock counts
# instructions (QEMU -icount, one vCPU: selftests/vm/run.sh): ratios that do
# not move with the host's load, but see no cache or TLB miss.  The report
# has both; each goal is judged on each clock.
#
# The full default run takes about 16 minutes of VM time.  Performance never
# fails it; a run that could not measure does (exit 1).
#
# Environment:
#   PRR_BENCH_KERNEL    kernel release (default: the newest 6.1 with headers
#                       and an image, else the newest found)
#   PRR_BENCH_DOC       file to write the report into (default
#                       docs/benchmarks.md; empty: none)
#   PRR_BENCH_ICOUNT    the -icount shift of the second run (default 1:
#                       2 ns per instruction); empty: no second run
#   PRR_BENCH_ICOUNT_ROUNDS  its rounds (default 3: nothing but the guest's
#                       own timers varies between them)
#   PRR_BENCH_*         rounds, seconds, sizes...: see guest.sh
#   PRR_VM_MEM          guest memory in MiB (default here 4096: the 1M-entry
#                       table and its batch file)
#   PRR_VM_SMP          vCPUs (default 2: pktgen on CPU 1, the harness on 0)

set -eu

REPO=$(cd "$(dirname "$0")/../../.." && pwd -P)
HERE=$REPO/tests/bench/fwd
OUT=${PRR_BENCH_OUT:-$REPO/build/bench/fwd}
DOC=${PRR_BENCH_DOC-$REPO/docs/benchmarks.md}
ICOUNT=${PRR_BENCH_ICOUNT-1}
ICOUNT_ROUNDS=${PRR_BENCH_ICOUNT_ROUNDS:-3}

die()
{
	echo "fwd_bench.sh: $*" >&2
	exit 1
}

# The newest 6.1 release with headers and an image, else the newest one.
pick_kernel()
{
	local b krel found=()

	for b in /lib/modules/*/build; do
		krel=$(basename "$(dirname "$b")")
		[ -e "/boot/vmlinuz-$krel" ] && found+=("$krel")
	done
	[ ${#found[@]} -gt 0 ] || return 1
	printf '%s\n' "${found[@]}" | sort -V |
		awk '/^6\.1\./ { k = $0 } { last = $0 }
		     END { print (k != "" ? k : last) }'
}

host_cpu()
{
	sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1
}

main()
{
	local krel rc=0

	case $ICOUNT in
	'' | [0-9] | 10) ;;
	*) die "PRR_BENCH_ICOUNT must be empty or a shift of 0 to 10, not '$ICOUNT'" ;;
	esac
	[[ $ICOUNT_ROUNDS =~ ^0*[1-9][0-9]*$ ]] ||
		die "PRR_BENCH_ICOUNT_ROUNDS must be a whole number of at least 1, not '$ICOUNT_ROUNDS'"
	krel=${PRR_BENCH_KERNEL:-$(pick_kernel)} ||
		die "no kernel with headers and an image: run tools/setup.sh"
	[ -f "$REPO/build/kmod/$krel/prr.ko" ] ||
		die "no build/kmod/$krel/prr.ko: run make modules-all"
	[ -x "$REPO/tools/prrctl/prrctl" ] || die "no prrctl: run make prrctl"
	command -v python3 >/dev/null || die "python3 is needed for the report"

	mkdir -p "$OUT"
	rm -f "$OUT"/{meta,variants,results,control}.tsv
	echo "# generating tables in ${OUT#"$REPO"/}/tables"
	PRR_BENCH_OUT=$OUT "$HERE/guest.sh" --tables-only ||
		die "table generation failed"
	export PRR_BENCH_OUT=$OUT
	export PRR_VM_MEM=${PRR_VM_MEM:-4096}
	export PRR_VM_SMP=${PRR_VM_SMP:-2}
	echo "# booting $krel (${PRR_VM_MEM} MiB, $PRR_VM_SMP vCPUs)"
	"$REPO/selftests/vm/run.sh" "$krel" tests/bench/fwd/guest.sh || rc=$?
	[ "$rc" -eq 0 ] ||
		die "the benchmark failed in the VM (exit $rc); console: build/vm/$krel/console.log"
	if [ -n "$ICOUNT" ]; then
		echo "# booting $krel again, its clock counting instructions" \
		     "(-icount shift=$ICOUNT, 1 vCPU)"
		rm -rf "$OUT/icount"
		PRR_BENCH_OUT=$OUT/icount PRR_BENCH_TABLES=$OUT/tables \
			PRR_BENCH_ROUNDS=$ICOUNT_ROUNDS PRR_VM_ICOUNT=$ICOUNT \
			PRR_VM_SMP=1 \
			"$REPO/selftests/vm/run.sh" "$krel" \
			tests/bench/fwd/guest.sh || rc=$?
		[ "$rc" -eq 0 ] ||
			die "the instruction-clock run failed in the VM (exit $rc); console: build/vm/$krel/console.log"
	fi
	echo
	python3 "$HERE/report.py" "$OUT" --host-cpu "$(host_cpu)" \
		${ICOUNT:+--icount "$OUT/icount"} \
		--date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
		${DOC:+--doc "$DOC"} --lookup "$REPO/build/bench/lookup.txt"
	[ -z "$DOC" ] || echo "# written to ${DOC#"$REPO"/}"
}

main "$@"
