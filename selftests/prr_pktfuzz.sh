#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Packet fuzzing of prr's data path.  For PRR_PKTFUZZ_SECONDS (default 20)
# RT1 sends the PRR, as fast as craft.py can, random and mutated packets
# to the shared address (lib/craft.py "fuzz": every protocol, ICMP errors,
# fragments, TTL 0 and 1, cut and padded datagrams, broken headers, random
# bytes; some from the shared address itself).  Then:
#
#   every packet prr's hooks saw ends in exactly one of its counters:
#   seen = forwarded + local + every drop_* counter,
#
# where "seen" is counted by nftables right before prr's hooks (prerouting
# and output at priority -95, after defragmentation, conntrack and
# destination NAT, before prr at -90), matching the shared destination.
# The output hook counts the PRR's own ICMP errors to the shared address
# (e.g. time exceeded for a packet from it), which prr routes too.  What
# the kernel drops before the hooks (bad header checksum or length, wrong
# version, incomplete or overlapping fragments) never reaches prr: shown
# as the kernel's own counters.  Afterwards the data path still forwards
# and the kernel log has no warning.

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"
. "$SELFTESTS/lib/craft.sh"

FUZZ_SECONDS=${PRR_PKTFUZZ_SECONDS:-20}
FUZZ_SEED=${PRR_PKTFUZZ_SEED:-7}
# craft.py builds its pool of packets first: slow under emulation.
# shellcheck disable=SC2034 # read by craft_read (lib/craft.sh)
CRAFT_TIMEOUT=$((FUZZ_SECONDS + 180))
# Dropped by the kernel before the hooks, or after prr (ip_forward).
KERNEL_COUNTERS="IpInReceives IpInHdrErrors IpInAddrErrors IpInTruncatedPkts
IpInDiscards IpReasmReqds IpReasmOKs IpReasmFails IpReasmTimeout
IpExtInCsumErrors IpForwDatagrams IcmpOutTimeExcds IcmpOutDestUnreachs"

# Counts what reaches prr's hooks for the shared address.
seen_counters()
{
	in_node prr nft -f - <<-EOF
	table ip prrfuzz {
		chain pre {
			type filter hook prerouting priority -95; policy accept;
			ip daddr $SHARED counter
		}
		chain out {
			type filter hook output priority -95; policy accept;
			ip daddr $SHARED counter
		}
	}
	EOF
}

seen()
{
	in_node prr nft -j list table ip prrfuzz |
		jq '[.nftables[] | .rule? // empty | .expr[] |
		     .counter? // empty | .packets] | add'
}

# forwarded + local + drop_*, from prrctl -j stats.
ended()
{
	prr_ctl -j stats | jq '[to_entries[] |
		select(.key == "forwarded" or .key == "local" or
		       (.key | startswith("drop_"))) | .value] | add'
}

balanced()
{
	[ "$(seen)" = "$(ended)" ]
}

setup()
{
	topo_create links || { ktap_fail "build the testbed"; return 1; }
	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" || return 1
	prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR" || return 1
	prr_add port-value 0x1400 port-mask 0x1400 local || return 1
	prr_add port-value 0x0000 port-mask 0xff00 drop || return 1
	step "count what reaches prr's hooks" seen_counters || return 1
	prr_prime_arp
}

test_fuzz()
{
	local mac frames knames before_k moved_k stats

	mac=$(mac_of "$NS_PRR" rt1) || return
	# shellcheck disable=SC2086 # one word per counter
	knames=$(printf '%s ' $KERNEL_COUNTERS)
	# shellcheck disable=SC2086
	before_k=$(kstat prr $knames)
	dmesg_mark
	frames=$(craft fuzz "$NS_RT1" eth0 "$mac" "$FUZZ_SECONDS" \
		"$FUZZ_SEED" "$RT1_ADDR" "$SHARED" "$SHARED") || return
	# veth delivers in the sender's context; let the backlog drain.
	wait_until 10 balanced
	# shellcheck disable=SC2086
	moved_k=$(kstats_moved "$before_k" prr $knames)
	stats=$(prr_ctl -j stats | jq -r 'to_entries |
		map(select(.value != 0) | "\(.key)=\(.value)") | join(" ")')
	ktap_diag "seed $FUZZ_SEED: $frames frames in $FUZZ_SECONDS s ($((frames / FUZZ_SECONDS))/s)" \
		"reached prr's hooks: $(seen)" \
		"prr: $stats" \
		"kernel: $moved_k"
	if [ "$(seen)" -gt 0 ] && [ "$(seen)" -lt "$frames" ]; then
		ktap_ok "part of the frames reached prr, part was dropped before"
	else
		ktap_fail "part of the frames reached prr, part was dropped before" \
			"frames $frames, seen $(seen)"
	fi
	ktap_expect "every packet prr saw is in one counter: forwarded + local + drop_*" \
		"$(seen)" "$(ended)"
	ktap_check "several reasons were counted" test "$(prr_ctl -j stats |
		jq '[to_entries[] | select(.value != 0)] | length')" -ge 6
}

test_still_forwards()
{
	rx_start c1 cpe1 --dst "$SHARED" || return
	send_from rt1 --dst "$SHARED" --proto udp --ports 1024,2047,3072 \
		--quiet || return
	rx_stop
	ktap_expect "afterwards prr still forwards" 3 "$(rx_count c1)"
	local bad

	bad=$(dmesg_bad)
	if [ -z "$bad" ]; then
		ktap_ok "no warning in the kernel log"
	else
		ktap_fail "no warning in the kernel log" "$bad"
	fi
}

topo_require
craft_start
trap 'topo_cleanup' EXIT
if setup; then
	test_fuzz
	test_still_forwards
fi
ktap_finish
