#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: prr in the testbed of draft-boucadair-behave-bittorrent-address-
# sharing-00 (a PRR, two CPEs sharing 192.0.2.1, hosts behind them, remote
# hosts on the Internet side), for a human to read.
#
# Runs inside the test VM as root ("make demo", i.e. selftests/vm/run.sh
# KREL tools/demo.sh): loads the module with modprobe, builds the testbed in
# network namespaces, configures two CPEs with prrctl, sends traffic to a
# handful of ports and shows who received what, then prints the table and
# the counters.  Everything it created is removed at exit.
#
# Environment: PRRCTL and PRR_PROBE, as for the selftests (defaults: the
# binaries in this checkout).

set -u
REPO=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
# lib/topo.sh relies on the KTAP helpers (wait_until...); their header line
# is not for this audience.
. "$REPO/selftests/lib/ktap.sh" >/dev/null
. "$REPO/selftests/lib/topo.sh"

DEMO_PORTS="80 1024 2047 3072 4096 5000 5120 6144 9216 12288 40000"

say()
{
	printf '%s\n' "$@"
}

title()
{
	printf '\n== %s\n\n' "$1"
}

die()
{
	echo "demo: $*" >&2
	exit 1
}

# Shows a command as typed at the PRR's prompt, then runs it there.
prr_type()
{
	say "  prr# prrctl $*"
	prr_ctl "$@" 2>&1 | sed 's/^/  /'
	return "${PIPESTATUS[0]}"
}

# The first blocks of a value/mask port set, e.g. "1024-2047, 3072-4095, ...".
# Membership is constant within blocks of (lowest mask bit) ports.
describe_set()
{
	local v=$(($1)) m=$(($2)) step p blocks=() bits=0

	step=$((m ? m & -m : 65536))
	for ((p = 0; p < 65536 && ${#blocks[@]} < 3; p += step)); do
		[ $((p & m)) -ne "$v" ] || blocks+=("$p-$((p + step - 1))")
	done
	for ((p = m; p; p >>= 1)); do
		bits=$((bits + (p & 1)))
	done
	echo "$(IFS=,; echo "${blocks[*]}" | sed 's/,/, /g'), ... ($((1 << (16 - bits))) ports)"
}

check_tools()
{
	[ "$(id -u)" -eq 0 ] || die "run me as root (inside the VM: make demo)"
	[ -x "$PRRCTL" ] || die "no $PRRCTL: run make first"
	[ -x "$PRR_PROBE" ] || die "no $PRR_PROBE: run make first"
}

load_module()
{
	local out

	title "Loading the module"
	say "  # modprobe prr"
	out=$(modprobe prr 2>&1) ||
		die "modprobe prr failed: $out (did make dkms-install run?)"
	say "  prr is loaded: generic netlink family \"prr\" ready for prrctl."
}

show_testbed()
{
	title "The testbed (one network namespace per box)"
	cat <<-EOF
	  T1 $T1_ADDR -- CPE-1 ($CPE1_ADDR) --+
	                                      +-- PRR --+-- RT1 $RT1_ADDR
	  T2 $T2_ADDR -- CPE-2 ($CPE2_ADDR) --+         +-- RT2 $RT2_ADDR

	  CPE-1 and CPE-2 both hold the public address $SHARED.  The PRR's
	  links to them are $CPE1_DEV ($PRR_CPE1_ADDR) and $CPE2_DEV ($PRR_CPE2_ADDR); it has
	  no route for $SHARED: only prr can tell which CPE a packet is for.
	EOF
}

configure()
{
	title "Giving each CPE a port set (RFC 6431 value/mask)"
	say "  CPE-1 gets value 0x0400 mask 0x1400: $(describe_set 0x0400 0x1400)" \
	    "  CPE-2 gets value 0x1000 mask 0x1400: $(describe_set 0x1000 0x1400)" \
	    ""
	prr_type add-cpe "$SHARED" port-value 0x0400 port-mask 0x1400 \
		via "$CPE1_ADDR" || die "add-cpe failed"
	prr_type add-cpe "$SHARED" port-value 0x1000 port-mask 0x1400 \
		via "$CPE2_ADDR" || die "add-cpe failed"
	say "" "  A set that overlaps CPE-1's only partly is refused:"
	prr_type add-cpe "$SHARED" port-value 0x0400 port-mask 0x0c00 \
		via "$CPE2_ADDR" && die "an overlapping set was accepted"
}

# Where did each port go?  "PORT WHO TTL" lines.
send_and_report()
{
	local port who

	rx_start cpe1 cpe1 --dst "$SHARED" || die "receiver on CPE-1 failed"
	rx_start cpe2 cpe2 --dst "$SHARED" || die "receiver on CPE-2 failed"
	send_from rt1 --dst "$SHARED" --proto udp \
		--ports "$(tr ' ' ',' <<<"$DEMO_PORTS")" --quiet ||
		die "sending failed"
	rx_stop
	printf '  %-7s %-16s %s\n' "port" "owner" "received by"
	for port in $DEMO_PORTS; do
		who=$( (awk -v p="$port" '$1 == "pkt" && $4 == p {
				print "CPE-1 (ttl " $5 ")" }' "$TOPO_DIR/cpe1.out"
			awk -v p="$port" '$1 == "pkt" && $4 == p {
				print "CPE-2 (ttl " $5 ")" }' "$TOPO_DIR/cpe2.out") |
			paste -s -d' ')
		printf '  %-7s %-16s %s\n' "$port" "$(owner_of "$port")" \
			"${who:-nobody}"
	done
}

owner_of()
{
	local p=$1

	if [ $((p & 0x1400)) -eq $((0x0400)) ]; then
		echo CPE-1
	elif [ $((p & 0x1400)) -eq $((0x1000)) ]; then
		echo CPE-2
	else
		echo "${DEFAULT_OWNER:--}"
	fi
}

unowned_ports()
{
	local p out=()

	for p in $DEMO_PORTS; do
		[ "$(owner_of "$p")" != - ] || out+=("$p")
	done
	echo "${out[*]}" | sed 's/ /, /g'
}

traffic()
{
	title "RT1 sends one UDP packet to $SHARED on each of a few ports"
	send_and_report
	say "" \
	    "  Each packet reached the CPE owning its port and nobody else; the" \
	    "  PRR forwarded it like a router (TTL 64 -> 63).  Ports no CPE owns" \
	    "  ($(unowned_ports)) were dropped and counted as drop_no_entry."
}

default_entry()
{
	title "A default entry: everything nobody else owns goes to CPE-2"
	prr_type add-cpe "$SHARED" port-value 0 port-mask 0 via "$CPE2_ADDR" ||
		die "add-cpe failed"
	say ""
	DEFAULT_OWNER="CPE-2 (default)" send_and_report
	say "" \
	    "  The most specific entry wins: CPE-1 keeps its ports, the rest" \
	    "  now falls to the default entry (an LSN in RFC 6346 terms)."
}

show_state()
{
	title "The PRR's table and counters"
	prr_type show
	say ""
	prr_type stats
	say "" \
	    "  packets/bytes per entry count what it matched; forwarded counts" \
	    "  packets handed to a CPE, drop_no_entry those no entry owned."
}

check_tools
load_module
topo_create links || die "could not build the testbed"
show_testbed
configure
traffic
default_entry
show_state
title "Done"
say "  The testbed is removed now."
