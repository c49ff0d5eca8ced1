#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest.sh: prr's forwarding benchmark (issue 6, `make bench` part (b)).
# Runs INSIDE the test VM as root, cwd = repository root: started by
# tests/bench/fwd/fwd_bench.sh (selftests/vm/run.sh KREL tests/bench/fwd/guest.sh)
# or, with tiny sizes, by selftests/prr_bench_smoke.sh.
#
# Every variant gets its own network namespace, built once:
#
#   pktgen (xmit_mode netif_receive) --> in0 [DUT namespace] out0 --> freed
#                                       dummy                dummy (NOARP)
#
# pktgen injects UDP packets into in0's receive path (dst_mac = in0's
# address, so they are PACKET_HOST) with random destination addresses over
# the variant's shared addresses (198.18.0.0 up) and random destination ports
# 0-65535; the namespace forwards them out of out0, a dummy device that counts
# and frees them (the sink).  The pktgen thread is the last CPU's, and the
# whole receive -> hook -> forward -> transmit path runs in it: a single-core
# figure.  Variants:
#
#   plain      a route (198.18.0.0/16 via 100.64.0.2): prr's hook is not
#              registered in that namespace
#   prr-hook   the same route, and prr's hook registered (one entry, for
#              192.0.2.1, which the traffic never hits): the cost of the
#              hook on other traffic
#   prr-N      prr with N entries (tests/bench/fwd/gen.awk: uniform layout up
#              to 65536, mixed masks above; suffix u or m forces one, and
#              suffix n loads it with "prrctl set entry-counters off")
#   stock-N    the stock setup: nft "ip daddr A th dport & M == V meta mark
#              set N accept" per CPE, one "ip rule fwmark N lookup T" and a
#              table with "default via CPE" per CPE
#   nftmap-N   an nft map keyed on ip daddr . (th dport & 0x0fc0), rewriting
#              the destination to the CPE's address, which then routes on
#              out0: the closest a stock map gets (one mask per map, so the
#              uniform layout only; it changes the packet, prr does not)
#
# Rounds: a warm-up round (PRR_BENCH_WARMUP_PKTS packets per variant, not
# counted), then PRR_BENCH_ROUNDS rounds of about PRR_BENCH_SECONDS per
# run: "plain" before, between and after the other variants (plain V1 plain
# V2 ... Vk plain), their order rotated by one each round, so that each
# variant is compared with the plain runs right before and after it, not
# with one up to a round away (other tenants of the host move TCG's speed by
# a third within a minute).  A counted run
# injects the number of packets the variant's warm-up rate gives for
# PRR_BENCH_SECONDS; the harness waits in pktgen's "start" meanwhile.  Rate =
# packets the sink transmitted / pktgen's own elapsed time.  Control plane: the time of each
# "prrctl -batch" load (entries/s) and the kernel memory it took (SUnreclaim +
# VmallocUsed + Percpu of /proc/meminfo, before and after).
#
# Output, in PRR_BENCH_OUT (default build/bench/fwd), tab-separated, each
# with a header line (tests/bench/fwd/report.py formats them):
#   meta.tsv      key value: kernel, cpus, seconds, rounds, ...
#   variants.tsv  name kind entries layout addrs
#   results.tsv   round variant injected usec sink prr_fwd prr_drop pps seq
#                 (seq: the run's place in its round)
#   control.tsv   name entries counters load_s slab_kb vmalloc_kb percpu_kb
# Exit status: 0 when every measurement ran (performance is never judged).
#
# "guest.sh --tables-only" (on the host) only generates the tables into
# PRR_BENCH_TABLES, for the sizes the environment asks for.
#
# Environment:
#   PRR_BENCH_ROUNDS      rounds (default 5)
#   PRR_BENCH_SECONDS     about how long a counted run lasts (default 3)
#   PRR_BENCH_WARMUP_PKTS packets per variant in the warm-up round (default
#                         5000)
#   PRR_BENCH_PRR_SIZES   prr table sizes (default "4096 65536 1048576n")
#   PRR_BENCH_STOCK_SIZES stock nft + ip rule sizes (default 4096)
#   PRR_BENCH_MAP_SIZES   nft map sizes (default "4096 65536")
#   PRR_BENCH_NEXTHOPS    distinct CPE gateways per table (default 4096)
#   PRR_BENCH_TABLES      where generated tables are (made when missing;
#                         default PRR_BENCH_OUT/tables)
#   PRR_BENCH_OUT         output directory
#   PRRCTL                prrctl binary (default tools/prrctl/prrctl)

set -eu

REPO=$(cd "$(dirname "$0")/../../.." && pwd)
HERE=$REPO/tests/bench/fwd
OUT=${PRR_BENCH_OUT:-$REPO/build/bench/fwd}
TABLES=${PRR_BENCH_TABLES:-$OUT/tables}
ROUNDS=${PRR_BENCH_ROUNDS:-5}
SECS=${PRR_BENCH_SECONDS:-3}
WARMUP_PKTS=${PRR_BENCH_WARMUP_PKTS:-5000}
PRR_SIZES=${PRR_BENCH_PRR_SIZES-4096 65536 1048576n}
STOCK_SIZES=${PRR_BENCH_STOCK_SIZES-4096}
MAP_SIZES=${PRR_BENCH_MAP_SIZES-4096 65536}
NEXTHOPS=${PRR_BENCH_NEXTHOPS:-4096}
PRRCTL=${PRRCTL:-$REPO/tools/prrctl/prrctl}
# shellcheck source=SCRIPTDIR/../../../selftests/lib/netns.sh
. "$REPO/selftests/lib/netns.sh"
PKT_SIZE=64
NS_PREFIX=prrbf$$
SHARED_BASE=198.18.0.0
# The "prr-hook" variant's only entry: an address the traffic never uses.
HOOK_ONLY_ADDR=192.0.2.1

VARIANTS=()
# Packets per counted run of each variant (from its warm-up rate).
declare -A PKTS
NAMESPACES=()
NEIGH_SAVED=()
PKTGEN_THREAD=

die()
{
	echo "guest.sh: $*" >&2
	exit 1
}

note()
{
	echo "# $*"
}

check_number()
{
	case $2 in
	'' | *[!0-9]*) die "$1 must be a whole number, not '$2'" ;;
	esac
}

# check_sizes VAR KIND FORM WORDS: every word of WORDS is a size of the
# form FORM (a regular expression) and no two name the same number of
# entries: each names a variant KIND-ENTRIES, with a namespace of its own.
check_sizes()
{
	local var=$1 kind=$2 form=$3 w ws n seen=" "

	read -ra ws <<< "$4"
	for w in "${ws[@]}"; do
		[[ $w =~ $form ]] || die "$var: '$w' is not a $kind table size"
		n=$(size_entries "$w")
		case $seen in
		*" $n "*) die "$var: $kind-$n is asked for twice" ;;
		esac
		seen="$seen$n "
	done
}

check_params()
{
	check_number PRR_BENCH_ROUNDS "$ROUNDS"
	check_number PRR_BENCH_SECONDS "$SECS"
	check_number PRR_BENCH_WARMUP_PKTS "$WARMUP_PKTS"
	check_number PRR_BENCH_NEXTHOPS "$NEXTHOPS"
	check_sizes PRR_BENCH_PRR_SIZES prr '^[1-9][0-9]*[um]?n?$' "$PRR_SIZES"
	check_sizes PRR_BENCH_STOCK_SIZES stock '^[1-9][0-9]*[um]?$' \
		"$STOCK_SIZES"
	check_sizes PRR_BENCH_MAP_SIZES nftmap '^[1-9][0-9]*u?$' "$MAP_SIZES"
	if [ "$ROUNDS" -lt 1 ] || [ "$SECS" -lt 1 ] || [ "$WARMUP_PKTS" -lt 1 ]
	then
		die "PRR_BENCH_ROUNDS, _SECONDS and _WARMUP_PKTS must be at least 1"
	fi
	# Decimal from here on: $(( )) reads 08 as a bad octal number, and
	# fwd_bench.sh passes its round count on as the user wrote it.
	ROUNDS=$((10#$ROUNDS)) SECS=$((10#$SECS))
	WARMUP_PKTS=$((10#$WARMUP_PKTS)) NEXTHOPS=$((10#$NEXTHOPS))
}

check_env()
{
	[ -d /run/prrvm ] ||
		die "runs inside the test VM: use tests/bench/fwd/fwd_bench.sh"
	[ -x "$PRRCTL" ] || die "no $PRRCTL: run make prrctl"
}

# The module the VM runs: the one loaded already (selftests), else this
# checkout's own build (make modules-all), never an installed one.
load_modules()
{
	local ko

	ko=$REPO/build/kmod/$(uname -r)/prr.ko
	modprobe -a pktgen dummy nf_tables ||
		die "cannot load pktgen, dummy and nf_tables"
	[ -d /sys/module/prr ] && return
	[ -f "$ko" ] || die "no $ko: run make modules-all"
	# shellcheck disable=SC2046 # one word per dependency
	modprobe -a $(modinfo -F depends "$ko" | tr , ' ') ||
		die "cannot load the modules $ko depends on"
	insmod "$ko" || die "cannot load $ko"
}

# ------------------------------------------------------------- tables

# "u" or "m": the layout of a size word (4096, 1048576n, 512m...).
size_layout()
{
	case ${1%n} in
	*u) echo u ;;
	*m) echo m ;;
	*) [ "$(size_entries "$1")" -le 65536 ] && echo u || echo m ;;
	esac
}

size_entries()
{
	local w=${1%n}

	echo "${w%[um]}"
}

# "on" or "off": the entry-counters setting of a size word (suffix n: off).
size_counters()
{
	case $1 in
	*n) echo off ;;
	*) echo on ;;
	esac
}

layout_addrs()
{
	if [ "$1" = u ]; then
		echo $(($2 / 64))
	else
		echo $(($2 / 16))
	fi
}

# table_file KIND SIZE_WORD: path of a generated table, made when missing.
table_file()
{
	local kind=$1 n layout file ext=txt

	n=$(size_entries "$2")
	layout=$(size_layout "$2")
	case $kind in
	*nft*) ext=nft ;;
	esac
	file=$TABLES/$kind-$n$layout-$NEXTHOPS.$ext
	if [ ! -s "$file" ]; then
		mkdir -p "$TABLES"
		awk -v kind="$kind" -v layout="$layout" -v n="$n" \
			-v nexthops="$NEXTHOPS" -v dev=out0 -f "$HERE/gen.awk" \
			> "$file.tmp" || { rm -f "$file.tmp"; return 1; }
		mv "$file.tmp" "$file"
	fi
	echo "$file"
}

# ------------------------------------------------------------- namespaces

# A DUT namespace: in0 (injection) and out0 (sink), both dummy devices.
# The CPE gateways (100.64.0.0/10) are on out0; nothing routes the shared
# addresses there but the variant itself, so the sink counts only what the
# variant routed.
make_dut()
{
	local ns=$1

	ip netns add "$ns" || return 1
	NAMESPACES+=("$ns")
	ns_batch "$ns" <<-EOF || return 1
	link set lo up
	link add in0 type dummy
	link add out0 type dummy
	link set in0 addrgenmode none
	link set out0 addrgenmode none
	addr add 10.9.0.1/24 dev in0
	addr add 100.64.0.1/10 dev out0
	link set in0 up
	link set out0 up
	EOF
	ns_exec "$ns" sysctl -q -w net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.in0.rp_filter=0 >/dev/null
}

pg_write()
{
	local ns=$1 file=$2 cmd=$3

	ns_exec "$ns" sh -c "echo '$cmd' > /proc/net/pktgen/$file" ||
		{ echo "pktgen: '$cmd' refused: $(pg_result_line "$ns" "$file")" >&2
		  return 1; }
}

pg_result_line()
{
	ns_exec "$1" grep '^Result:' "/proc/net/pktgen/$2"
}

# pktgen in NS: one device, in0, on the last CPU's thread; ADDRS random
# destinations from SHARED_BASE, random destination ports.
setup_pktgen()
{
	local ns=$1 addrs=$2 mac last cmd

	mac=$(ns_exec "$ns" ip -j link show in0 | jq -r '.[0].address')
	last=$((addrs - 1))
	last=198.$((18 + last / 65536)).$((last / 256 % 256)).$((last % 256))
	pg_write "$ns" "$PKTGEN_THREAD" rem_device_all || return 1
	pg_write "$ns" "$PKTGEN_THREAD" "add_device in0" || return 1
	for cmd in "xmit_mode netif_receive" "count 0" "delay 0" \
		   "pkt_size $PKT_SIZE" "burst 1" "dst_mac $mac" \
		   "src_min 10.9.0.2" "src_max 10.9.0.2" \
		   "dst_min $SHARED_BASE" "dst_max $last" "flag IPDST_RND" \
		   "udp_src_min 9" "udp_src_max 9" \
		   "udp_dst_min 0" "udp_dst_max 65535" "flag UDPDST_RND"; do
		pg_write "$ns" in0 "$cmd" || return 1
	done
}

# Raises the (global) neighbour table limits when the tables need more
# gateways than they allow; restore_neigh puts them back.
raise_neigh_limits()
{
	local need=$1 i cur

	for i in 1 2 3; do
		cur=$(sysctl -n "net.ipv4.neigh.default.gc_thresh$i")
		[ "$cur" -lt "$need" ] || continue
		NEIGH_SAVED+=("net.ipv4.neigh.default.gc_thresh$i=$cur")
		sysctl -q -w "net.ipv4.neigh.default.gc_thresh$i=$need"
	done
}

restore_neigh()
{
	local s

	for s in "${NEIGH_SAVED[@]}"; do
		sysctl -q -w "$s"
	done
	NEIGH_SAVED=()
}

cleanup()
{
	local ns

	for ns in "${NAMESPACES[@]}"; do
		ns_exec "$ns" sh -c 'echo stop > /proc/net/pktgen/pgctrl' \
			2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	NAMESPACES=()
	restore_neigh
}

# ------------------------------------------------------------- memory

# "SUnreclaim VmallocUsed Percpu" of /proc/meminfo, in kB.
meminfo()
{
	awk '$1 == "SUnreclaim:" { s = $2 } $1 == "VmallocUsed:" { v = $2 }
	     $1 == "Percpu:" { p = $2 } END { print s, v, p }' /proc/meminfo
}

# Waits (up to 10 s) until the kernel's memory figures stop moving (RCU
# frees after a load) and prints them; at once for tables of fewer than
# 4096 entries (ENTRIES), whose figures are not reported.
meminfo_settled()
{
	local prev cur i

	prev=$(meminfo)
	if [ "$1" -lt 4096 ]; then
		echo "$prev"
		return
	fi
	for i in $(seq 20); do
		sleep 0.5
		cur=$(meminfo)
		[ "$cur" != "$prev" ] || break
		prev=$cur
	done
	echo "$cur"
}

now_ns()
{
	date +%s%N
}

prrctl_has_batch()
{
	"$PRRCTL" help 2>&1 | grep -q -- '-batch'
}

# Without prrctl -batch: one prrctl process per line (slow; small tables).
prr_load_lines()
{
	# shellcheck disable=SC2016 # for the inner shell
	ns_exec "$1" sh -c 'while read -r line; do
		"$0" $line < /dev/null || exit 1
	done' "$PRRCTL" < "$2"
}

# Loads a prrctl batch file into NS; prints the seconds it took.
prr_load()
{
	local ns=$1 file=$2 copy t0 t1 rc=0

	# Read from the guest's tmpfs, not over 9p, while timed.
	copy=$(mktemp /tmp/prrbf.XXXXXX)
	cp "$file" "$copy"
	t0=$(now_ns)
	if prrctl_has_batch; then
		ns_exec "$ns" "$PRRCTL" -batch "$copy" >/dev/null || rc=$?
	else
		prr_load_lines "$ns" "$copy" || rc=$?
	fi
	t1=$(now_ns)
	rm -f "$copy"
	[ "$rc" -eq 0 ] || return 1
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1e9 }'
}

# ------------------------------------------------------------- variants

variant_ns()
{
	echo "$NS_PREFIX-$1"
}

# add_variant NAME KIND ENTRIES LAYOUT ADDRS: builds its namespace.
add_variant()
{
	local name=$1 kind=$2 n=$3 layout=$4 addrs=$5 ns

	ns=$(variant_ns "$name")
	make_dut "$ns" || die "$name: cannot build its namespace"
	VARIANTS+=("$name")
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$kind" "$n" "$layout" \
		"$addrs" >> "$OUT/variants.tsv"
}

setup_plain()
{
	add_variant plain plain 0 - 65536
	ip -n "$(variant_ns plain)" route add "$SHARED_BASE/16" via 100.64.0.2 ||
		die "plain: cannot add the route"
	setup_pktgen "$(variant_ns plain)" 65536 || die "plain: pktgen setup"
}

setup_prr_hook()
{
	local ns

	add_variant prr-hook prr-hook 1 - 65536
	ns=$(variant_ns prr-hook)
	ip -n "$ns" route add "$SHARED_BASE/16" via 100.64.0.2 ||
		die "prr-hook: cannot add the route"
	ns_exec "$ns" "$PRRCTL" add-cpe "$HOOK_ONLY_ADDR" port-value 0 \
		port-mask 0 via 100.64.0.2 dev out0 >/dev/null ||
		die "prr-hook: prrctl add-cpe failed"
	setup_pktgen "$ns" 65536 || die "prr-hook: pktgen setup"
}

setup_prr()
{
	local word=$1 n layout addrs ns file secs before after counters

	n=$(size_entries "$word")
	layout=$(size_layout "$word")
	counters=$(size_counters "$word")
	addrs=$(layout_addrs "$layout" "$n")
	file=$(table_file prr "$word") || die "prr-$n: table generation failed"
	add_variant "prr-$n" prr "$n" "$layout" "$addrs"
	ns=$(variant_ns "prr-$n")
	ns_exec "$ns" "$PRRCTL" set entry-counters "$counters" ||
		die "prr-$n: prrctl set entry-counters $counters failed"
	before=$(meminfo_settled "$n")
	note "loading $n prr entries ($layout layout, $addrs addresses," \
	     "entry counters $counters)"
	secs=$(prr_load "$ns" "$file") || die "prr-$n: loading the table failed"
	after=$(meminfo_settled "$n")
	# shellcheck disable=SC2086 # three numbers each
	set -- $before $after
	printf 'prr-%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$n" "$counters" \
		"$secs" $(($4 - $1)) $(($5 - $2)) $(($6 - $3)) \
		>> "$OUT/control.tsv"
	note "prr-$n: loaded in $secs s; kernel memory +$(($4 - $1)) kB slab," \
	     "+$(($5 - $2)) kB vmalloc, +$(($6 - $3)) kB percpu"
	setup_pktgen "$ns" "$addrs" || die "prr-$n: pktgen setup"
}

setup_stock()
{
	local word=$1 n layout addrs ns

	n=$(size_entries "$word")
	layout=$(size_layout "$word")
	addrs=$(layout_addrs "$layout" "$n")
	add_variant "stock-$n" stock "$n" "$layout" "$addrs"
	ns=$(variant_ns "stock-$n")
	note "loading the stock setup for $n CPEs"
	ns_exec "$ns" nft -f "$(table_file stock-nft "$word")" ||
		die "stock-$n: nft failed"
	ip -n "$ns" -batch "$(table_file stock-ip "$word")" ||
		die "stock-$n: ip rules or routes failed"
	setup_pktgen "$ns" "$addrs" || die "stock-$n: pktgen setup"
}

setup_nftmap()
{
	local word=$1 n addrs ns

	n=$(size_entries "$word")
	[ "$(size_layout "$word")" = u ] ||
		die "nftmap-$n: an nft map has one mask: uniform layout only"
	addrs=$(layout_addrs u "$n")
	add_variant "nftmap-$n" nftmap "$n" u "$addrs"
	ns=$(variant_ns "nftmap-$n")
	note "loading an nft map of $n elements"
	ns_exec "$ns" nft -f "$(table_file nftmap "$word")" ||
		die "nftmap-$n: nft failed"
	setup_pktgen "$ns" "$addrs" || die "nftmap-$n: pktgen setup"
}

# Every table the variants need (on the host, before the VM boots).
make_tables()
{
	local w

	for w in $PRR_SIZES; do
		table_file prr "$w" >/dev/null || return 1
	done
	for w in $STOCK_SIZES; do
		table_file stock-nft "$w" >/dev/null || return 1
		table_file stock-ip "$w" >/dev/null || return 1
	done
	for w in $MAP_SIZES; do
		table_file nftmap "$w" >/dev/null || return 1
	done
}

setup_variants()
{
	local w gws=0

	for w in $PRR_SIZES $STOCK_SIZES $MAP_SIZES; do
		n=$(size_entries "$w")
		gws=$((gws + (n < NEXTHOPS ? n : NEXTHOPS)))
	done
	raise_neigh_limits $((2 * gws + 1024))
	setup_plain
	setup_prr_hook
	for w in $PRR_SIZES; do
		setup_prr "$w"
	done
	for w in $STOCK_SIZES; do
		setup_stock "$w"
	done
	for w in $MAP_SIZES; do
		setup_nftmap "$w"
	done
}

# ------------------------------------------------------------- measuring

# Packets out0 (the sink) transmitted.
sink_packets()
{
	# "  out0: rx bytes packets errs drop fifo frame compressed multicast
	# tx bytes packets ...": tx packets is the 12th field.
	# shellcheck disable=SC2016 # awk's fields
	ns_exec "$1" awk -F '[: ]+' '$2 == "out0" { print $12 }' /proc/net/dev
}

# "forwarded drops" of prr's counters in NS, or "- -" without prr entries.
prr_counters()
{
	case $2 in
	prr-hook | prr-*) ;;
	*) echo "- -"; return ;;
	esac
	ns_exec "$1" "$PRRCTL" -j stats |
		jq -r '[.forwarded, ([to_entries[] |
			select(.key | startswith("drop_")) | .value] | add)] |
		       map(tostring) | join(" ")'
}

# run_pktgen NS COUNT LIMIT: injects COUNT packets; pgctrl's "start" returns
# when pktgen is done, so the harness only polls meanwhile.  (No timed window
# stopped from outside: a "stop" that reaches the thread before its "run" is
# handled first and leaves it running forever.)  A run not done within LIMIT
# seconds is stopped and fails.
run_pktgen()
{
	local ns=$1 count=$2 limit=$3 pid

	pg_write "$ns" in0 "count $count" || return 1
	ns_exec "$ns" sh -c 'echo start > /proc/net/pktgen/pgctrl' &
	pid=$!
	if ! wait_gone "$pid" "$limit"; then
		echo "pktgen: $count packets not done within $limit s:" \
		     "$(ns_exec "$ns" grep -A2 '^Current' /proc/net/pktgen/in0 |
			paste -sd ' ')" >&2
		ns_exec "$ns" sh -c 'echo stop > /proc/net/pktgen/pgctrl'
		wait_gone "$pid" 10 || kill "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid"
}

# wait_gone PID SECS: polls (once a second) until PID has exited.
wait_gone()
{
	local i

	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 1
	done
	! kill -0 "$1" 2>/dev/null
}

# measure ROUND SEQ VARIANT COUNT: one run of COUNT packets; appends a
# results.tsv row; prints the rate.
measure()
{
	local round=$1 seq=$2 name=$3 count=$4 ns sink0 sink1 f0 d0 f1 d1
	local res usec pkts pps fwd=- drop=-

	ns=$(variant_ns "$name")
	sink0=$(sink_packets "$ns")
	read -r f0 d0 < <(prr_counters "$ns" "$name")
	run_pktgen "$ns" "$count" $((SECS * 20 > 120 ? SECS * 20 : 120)) ||
		die "$name: pktgen failed"
	sink1=$(sink_packets "$ns")
	read -r f1 d1 < <(prr_counters "$ns" "$name")
	res=$(pg_result_line "$ns" in0)
	# Result: OK: 5001234(c5000000+d1234) usec, 123456 (64byte,0frags)
	usec=$(echo "$res" | sed -n 's/^Result: OK: \([0-9]*\)(.*/\1/p')
	pkts=$(echo "$res" | sed -n 's/.* usec, \([0-9]*\) (.*/\1/p')
	if [ -z "$usec" ] || [ -z "$pkts" ] || [ "$usec" -eq 0 ]; then
		die "$name: unexpected pktgen result: $res"
	fi
	if [ "$f0" != - ]; then
		fwd=$((f1 - f0))
		drop=$((d1 - d0))
	fi
	pps=$(((sink1 - sink0) * 1000000 / usec))
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" \
		"$pkts" "$usec" $((sink1 - sink0)) "$fwd" "$drop" "$pps" \
		"$seq" >> "$OUT/results.tsv"
	note "round $round $name: $pps pps, $((sink1 - sink0)) of $pkts" \
	     "packets forwarded in $((usec / 1000)) ms" \
	     "(prr forwarded $fwd, dropped $drop)" >&2
	echo "$pps"
}

# The variants but plain, rotated left by N.
rotated()
{
	local n=$1 others=() i

	for i in "${VARIANTS[@]}"; do
		[ "$i" = plain ] || others+=("$i")
	done
	for ((i = 0; i < ${#others[@]}; i++)); do
		echo "${others[(i + n) % ${#others[@]}]}"
	done
}

# The warm-up round sets each variant's packet count: what its rate gives
# for PRR_BENCH_SECONDS (at least 1000).
run_rounds()
{
	local r name pps seq=0

	for name in "${VARIANTS[@]}"; do
		pps=$(measure 0 "$seq" "$name" "$WARMUP_PKTS")
		PKTS[$name]=$((pps * SECS > 1000 ? pps * SECS : 1000))
		seq=$((seq + 1))
	done
	for ((r = 1; r <= ROUNDS; r++)); do
		seq=0
		measure "$r" "$seq" plain "${PKTS[plain]}" >/dev/null
		for name in $(rotated $((r - 1))); do
			measure "$r" $((seq + 1)) "$name" "${PKTS[$name]}" \
				>/dev/null
			measure "$r" $((seq + 2)) plain "${PKTS[plain]}" \
				>/dev/null
			seq=$((seq + 2))
		done
	done
}

write_meta()
{
	{
		printf 'key\tvalue\n'
		printf 'kernel\t%s\n' "$(uname -r)"
		printf 'guest_cpus\t%s\n' "$(nproc)"
		printf 'possible_cpus\t%s\n' \
			"$(cat /sys/devices/system/cpu/possible)"
		printf 'pktgen_thread\t%s\n' "$PKTGEN_THREAD"
		printf 'rounds\t%s\n' "$ROUNDS"
		printf 'seconds\t%s\n' "$SECS"
		printf 'warmup_pkts\t%s\n' "$WARMUP_PKTS"
		printf 'pkt_size\t%s\n' "$PKT_SIZE"
		printf 'nexthops\t%s\n' "$NEXTHOPS"
		# The VM runner's -icount shift, passed through: the clock.
		printf 'icount\t%s\n' "${PRR_VM_ICOUNT:--}"
		printf 'prrctl_batch\t%s\n' \
			"$(prrctl_has_batch && echo yes || echo no)"
		printf 'guest_mem_kb\t%s\n' \
			"$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)"
	} > "$OUT/meta.tsv"
}

main()
{
	check_params
	if [ "${1:-}" = --tables-only ]; then
		make_tables
		return
	fi
	check_env
	load_modules
	mkdir -p "$OUT"
	PKTGEN_THREAD=kpktgend_$(($(nproc) - 1))
	printf 'name\tkind\tentries\tlayout\taddrs\n' > "$OUT/variants.tsv"
	printf 'round\tvariant\tinjected\tusec\tsink\tprr_fwd\tprr_drop\tpps\tseq\n' \
		> "$OUT/results.tsv"
	printf 'name\tentries\tcounters\tload_s\tslab_kb\tvmalloc_kb\tpercpu_kb\n' \
		> "$OUT/control.tsv"
	write_meta
	trap cleanup EXIT
	note "forwarding benchmark on $(uname -r), $(nproc) CPUs, pktgen on $PKTGEN_THREAD"
	setup_variants
	note "variants: ${VARIANTS[*]}; $ROUNDS rounds of $SECS s"
	run_rounds
	cleanup
	trap - EXIT
	note "results in $OUT"
}

main "$@"
