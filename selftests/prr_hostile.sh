#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hostile packets to the shared address (issue 3), sent from RT1 as raw
# Ethernet frames by lib/craft.py: every field exactly as written.  Each kind
# is dropped, by exactly the counter that says why, moving by exactly the
# number sent; no CPE receives anything; the kernel log stays clean.
#
# Who drops what: the kernel's ip_rcv() checks the IPv4 header itself
# before any netfilter hook runs, so a bad IHL, a header checksum error or a
# total length beyond the frame never reach prr and move the kernel's own
# counters (IpInHdrErrors, IpExtInCsumErrors, IpExtInTruncatedPkts).
# Fragments are held by the kernel's reassembly (prr enables it) and time
# out there (IpReasmTimeout).  Everything else reaches prr's classifier:
# truncated or inconsistent headers count drop_malformed (RFC 5508 §4.1 for
# ICMP errors: bad ICMP checksum, bad quoted header checksum, quoted source
# not the shared address, an error about an error, a quote shorter than its
# IP header + 8 bytes); ICMP that carries no port counts drop_no_port.
# Then well-formed versions of the same packets do reach CPE-1, so the
# drops are the packets' fault.  The link layer plays no part: separate
# links only.

set -u
SELFTESTS=$(dirname "$(readlink -f "$0")")
. "$SELFTESTS/lib/ktap.sh"
. "$SELFTESTS/lib/topo.sh"
. "$SELFTESTS/lib/craft.sh"

N=5			# frames per kind
P1=1024			# owned by CPE-1 (0x0400/0x1400)
KSTATS="IpInHdrErrors IpExtInCsumErrors IpExtInTruncatedPkts IpReasmReqds IpReasmOKs IpReasmFails IpReasmTimeout"

# An ICMP error from a router in RT1's network about a UDP datagram
# $SHARED:$P1 -> RT2, the keys after it changing that.
ERR="icmperr src=198.51.100.9 type=3 code=3 qproto=udp qsrc=$SHARED qdst=$RT2_ADDR qsport=$P1 qdport=53"

# DESCRIPTION|KIND AND KEYS (to $SHARED)|prr counters|kernel counters
# (N stands for the number sent).
CORPUS=(
	"IHL 4 (below the minimum of 5)|udp dport=$P1 ihl=4||IpInHdrErrors=N"
	"IHL 15 (60 bytes) beyond the total length of 48|udp dport=$P1 size=48 ihl=15 pad=16||IpInHdrErrors=N"
	"bad IP header checksum|udp dport=$P1 ipcsum=bad||IpExtInCsumErrors=N IpInHdrErrors=N"
	"total length beyond the frame|udp dport=$P1 totlen=200||IpExtInTruncatedPkts=N"
	"UDP header truncated to 4 bytes|udp dport=$P1 trunc=4|drop_malformed=N|"
	"TCP header truncated to 12 bytes|tcp dport=$P1 trunc=12|drop_malformed=N|"
	"zero-length UDP (protocol 17, no header)|udp dport=$P1 trunc=0|drop_malformed=N|"
	"zero-length TCP|tcp dport=$P1 trunc=0|drop_malformed=N|"
	"zero-length ICMP|echo ident=$P1 trunc=0|drop_malformed=N|"
	"ICMP header truncated to 4 bytes|echo ident=$P1 trunc=4|drop_malformed=N|"
	"ICMP error with a bad ICMP checksum|$ERR csum=bad|drop_malformed=N|"
	"ICMP error whose quoted header checksum is bad|$ERR qcsum=bad|drop_malformed=N|"
	"ICMP error whose quoted source lies (not $SHARED)|$ERR qsrc=198.51.100.77|drop_malformed=N|"
	"ICMP error about an ICMP error of $SHARED|$ERR qproto=icmp qtype=3|drop_malformed=N|"
	"ICMP error quoting IP header + 4 bytes only|$ERR qlen=4|drop_malformed=N|"
	"ICMP error quoting 10 bytes of an IP header|$ERR trunc=18|drop_malformed=N|"
	"ICMP error quoting a header with options, cut inside them|$ERR qopts=1 trunc=38|drop_malformed=N|"
	"ICMP error quoting a non-first fragment (no port)|$ERR qfrag=1480|drop_no_port=N|"
	"ICMP error quoting GRE (no port)|$ERR qproto=gre|drop_no_port=N|"
	"ICMP redirect (neither query nor error: no port)|$ERR type=5 code=1|drop_no_port=N|"
)

add_both_cpes()
{
	prr_add port-value 0x0400 port-mask 0x1400 via "$CPE1_ADDR" &&
		prr_add port-value 0x1000 port-mask 0x1400 via "$CPE2_ADDR"
}

# "prr: ... kernel: ..." as craft_moved prints it, N replaced by the number
# sent.
want_moved()
{
	local words

	# shellcheck disable=SC2206 # split into words
	words=(prr: $1 kernel: $2)
	words=("${words[@]//=N/=$N}")
	echo "${words[*]}"
}

# One kind of the corpus: sent, then its counters (polled: frames are
# processed after the send returns).
check_kind()
{
	local desc=$1 keys=$2 want got

	want=$(want_moved "$3" "$4")
	craft_snap kind || return
	# shellcheck disable=SC2086 # keys are words
	craft_send rt1 "$N" $keys "dst=$SHARED" >/dev/null || return
	# shellcheck disable=SC2086 # names and words
	got=$(craft_moved kind $KSTATS -- $want)
	ktap_expect "$desc: dropped, counted [$want]" "$want" "$got"
}

# Fragments without their first one, N datagrams of 2 fragments: held by
# the kernel's reassembly until ipfrag_time (1 s here), then dropped.
check_no_first_fragment()
{
	local want got

	step "reassembly timeout 1 s in the PRR" ns_sysctl "$NS_PRR" \
		net.ipv4.ipfrag_time=1 || return
	want=$(want_moved "" "IpReasmFails=N IpReasmReqds=$((2 * N)) IpReasmTimeout=N")
	craft_snap frag || return
	craft_send rt1 "$N" frags "dst=$SHARED" "dport=$P1" size=4000 \
		nofirst=1 id=0x3000 >/dev/null || return
	# shellcheck disable=SC2086 # names and words
	got=$(craft moved frag "$NS_PRR" "$PRRCTL" 10000 $KSTATS -- $want)
	ktap_expect "fragments without a first fragment: held by the kernel's reassembly, timed out, never reach prr [$want]" \
		"$want" "$got"
	ns_sysctl "$NS_PRR" net.ipv4.ipfrag_time=30
}

test_corpus()
{
	local entry desc keys want_prr want_k

	add_both_cpes || return
	# Every IPv4 packet to the shared address, and any ICMP error.
	rx_start c1 cpe1 --dst "$SHARED" --all || return
	rx_start c2 cpe2 --dst "$SHARED" --all || return
	for entry in "${CORPUS[@]}"; do
		IFS='|' read -r desc keys want_prr want_k <<<"$entry"
		check_kind "$desc" "$keys" "$want_prr" "$want_k" || return
	done
	check_no_first_fragment || return
	rx_stop
	ktap_expect "no CPE received any of the $(((${#CORPUS[@]} + 2) * N)) hostile packets" \
		"0 0" "$(rx_lines c1) $(rx_lines c2)"
}

# The same packets, well formed, reach CPE-1: the testbed would have
# delivered what was dropped above.
test_controls()
{
	local got

	add_both_cpes || return
	craft udp_open s1 "$NS_CPE1" "bind=$SHARED:$P1" || return
	craft_snap ctl || return
	rx_start c1 cpe1 --dst "$SHARED" --proto icmp || return
	craft_send rt1 1 udp "dst=$SHARED" "dport=$P1" tag=91 >/dev/null ||
		return
	# shellcheck disable=SC2086 # kind and keys
	craft_send rt1 1 $ERR "dst=$SHARED" >/dev/null || return
	craft_send rt1 1 frags "dst=$SHARED" "dport=$P1" size=4000 tag=92 \
		>/dev/null || return
	got=$(craft_udp_recv s1 5000)
	rx_stop
	craft close s1
	ktap_expect "controls: a well-formed UDP datagram and a 4000-byte one in fragments reach CPE-1's socket" \
		"2 91:8:ok 92:3972:ok" "$got"
	ktap_expect "controls: a well-formed ICMP error quoting $SHARED:$P1 reaches CPE-1" \
		"3 3 0 198.51.100.9 $SHARED udp $P1 53 $RT2_ADDR -" \
		"$(rx_icmp_lines c1)"
	ktap_expect "controls: all three forwarded" "forwarded=3" \
		"$(craft_prr_moved ctl)"
}

craft_start
topo_require
dmesg_mark
if topo_create links; then
	run_test test_corpus
	run_test test_controls
	topo_destroy
else
	ktap_fail "build the testbed"
fi
ktap_expect "the kernel log has no warning, BUG or trace" "" "$(dmesg_bad)"
ktap_finish
