#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shell side of lib/craft.py (crafted packets, UDP sockets), which runs as
# one coprocess per test script.  Source it after lib/ktap.sh and
# lib/topo.sh.
#
#   craft_start                 start craft.py (its startup overlaps the
#                               testbed's creation); once per script
#   craft CMD ARGS              one craft.py command; prints the words of
#                               its "ok" answer, fails (reporting a failed
#                               test) on an error answer
#   craft_send NODE COUNT KIND KEY=VALUE...
#                               send frames from NODE's uplink to the PRR
#                               (src= defaults to NODE's address)
#   craft_udp_recv NAME MS      udp_recv's answer, datagrams sorted by tag
#   craft_snap NAME / craft_moved NAME [KERNEL_NAME...] [-- WANT...]
#                               the PRR's prr and kernel counters that moved,
#                               "prr: NAME=DELTA... kernel: NAME=DELTA..."
#   craft_prr_moved NAME        only prr's, "NAME=DELTA..."
#   mac_of NS DEV               a device's MAC address

CRAFT_PY=$(dirname "${BASH_SOURCE[0]}")/craft.py
# Debian's python3 (with scapy's dependencies) rather than a user's.
if [ -x /usr/bin/python3 ]; then
	CRAFT_PYTHON=${CRAFT_PYTHON:-/usr/bin/python3}
else
	CRAFT_PYTHON=${CRAFT_PYTHON:-python3}
fi
# Python under emulation: generous.
CRAFT_TIMEOUT=${CRAFT_TIMEOUT:-60}
CRAFT_READY=0

craft_start()
{
	coproc CRAFT { exec "$CRAFT_PYTHON" -u "$CRAFT_PY"; }
	CRAFT_READY=0
}

# Reads one answer line of craft.py into CRAFT_REPLY.
craft_read()
{
	CRAFT_REPLY=
	read -r -t "$CRAFT_TIMEOUT" CRAFT_REPLY <&"${CRAFT[0]}"
}

craft_wait_ready()
{
	[ "$CRAFT_READY" -eq 1 ] && return
	if [ -z "${CRAFT_PID:-}" ] || ! craft_read ||
	   [ "$CRAFT_REPLY" != ready ]; then
		ktap_fail "craft.py ($CRAFT_PYTHON) starts" \
			"got: '${CRAFT_REPLY:-}'"
		return 1
	fi
	CRAFT_READY=1
}

craft()
{
	craft_wait_ready || return 1
	printf '%s\n' "$*" >&"${CRAFT[1]}"
	if ! craft_read; then
		ktap_fail "craft.py answers: $*" "no answer in ${CRAFT_TIMEOUT}s"
		return 1
	fi
	case $CRAFT_REPLY in
	ok | "ok "*)
		CRAFT_REPLY=${CRAFT_REPLY#ok}
		CRAFT_REPLY=${CRAFT_REPLY# }
		[ -z "$CRAFT_REPLY" ] || printf '%s\n' "$CRAFT_REPLY"
		;;
	*)
		ktap_fail "craft.py: $*" "$CRAFT_REPLY"
		return 1
		;;
	esac
}

mac_of()
{
	ip -n "$1" -j link show dev "$2" | jq -r '.[0].address'
}

# The PRR's device a node's uplink is connected to.
prr_dev_facing()
{
	case $1 in
	rt1 | rt2) echo "$1" ;;
	cpe1) echo "$CPE1_DEV" ;;
	cpe2) echo "$CPE2_DEV" ;;
	*) echo "craft: '$1' is not next to the PRR" >&2; return 1 ;;
	esac
}

declare -A CRAFT_MACS

# craft_send NODE COUNT KIND KEY=VALUE...: prints the number of frames.
craft_send()
{
	local node=$1 count=$2 kind=$3 ns dev pdev

	shift 3
	ns=$(node_ns "$node") || return 1
	dev=$(node_dev "$node") || return 1
	pdev=$(prr_dev_facing "$node") || return 1
	[ -n "${CRAFT_MACS[$NS_PRR/$pdev]:-}" ] ||
		CRAFT_MACS[$NS_PRR/$pdev]=$(mac_of "$NS_PRR" "$pdev") || return 1
	craft send "$ns" "$dev" "${CRAFT_MACS[$NS_PRR/$pdev]}" "$count" \
		"$kind" "src=$(node_addr "$node")" "$@"
}

# craft_snap NAME: remembers the PRR's prr and kernel counters.
craft_snap()
{
	craft snap "$1" "$NS_PRR" "$PRRCTL"
}

# craft_prr_moved NAME: the prr counters that moved since craft_snap NAME,
# "NAME=DELTA..." (as stats_moved prints them, without its jq and nsenter).
craft_prr_moved()
{
	local out

	out=$(craft moved "$1" "$NS_PRR" "$PRRCTL" 0) || return 1
	out=${out#prr:}
	out=${out%kernel:*}
	out=${out# }
	echo "${out% }"
}

# craft_moved NAME [KERNEL_NAME...] [-- WANT...]: "prr: ... kernel: ..."
# since craft_snap NAME; with WANT, waits up to 5 s for it.
craft_moved()
{
	local name=$1

	shift
	craft moved "$name" "$NS_PRR" "$PRRCTL" 5000 "$@"
}

craft_udp_recv()
{
	local out words

	out=$(craft udp_recv "$@") || return 1
	read -r -a words <<<"$out"
	printf '%s' "${words[0]}"
	[ "${#words[@]}" -lt 2 ] ||
		printf ' %s' "$(printf '%s\n' "${words[@]:1}" | sort -n |
			paste -sd ' ')"
	echo
}
