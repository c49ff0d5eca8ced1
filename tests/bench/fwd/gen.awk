# SPDX-License-Identifier: GPL-2.0
#
# Table generator of the forwarding benchmark (tests/bench/fwd).  One table of
# N CPEs, written in one of four forms (variable kind):
#
#   prr        prrctl -batch lines: add-cpe ADDR port-value V port-mask M
#              via GW dev DEV
#   nftmap     an nft script: map (ip daddr . th dport & MASK) -> CPE address,
#              "ip daddr set" from it at prerouting (uniform layout only:
#              one mask per map)
#   stock-nft  the stock setup's nft script: one rule per CPE,
#              "ip daddr A th dport & M == V meta mark set MARK accept"
#   stock-ip   the stock setup's ip -batch: per CPE "rule add fwmark MARK
#              lookup TABLE" and "route add default via GW table TABLE"
#
# Layouts (variable layout):
#   u  uniform: N/64 addresses, 64 CPEs each, mask 0x0fc0 (RFC 7597 style:
#      offset 4 bits, PSID 6 bits), value k << 6
#   m  mixed: N/16 addresses; even ones hold 8 CPEs of mask 0x0700, odd ones
#      16 of mask 0x8f00 (ports below 32768) and 8 of mask 0x8007 (ports from
#      32768): 16 per address on average, three masks, some non-contiguous
# Either way every port of every address belongs to exactly one CPE, so
# random destinations and ports over the addresses always hit an entry.
#
# Addresses count up from 198.18.0.0 (RFC 2544 benchmarking range); CPE e's
# gateway is 100.64.0.16 + (e mod nexthops), directly connected on dev.
#
# Usage: awk -v kind=K -v layout=u|m -v n=N -v nexthops=H -v dev=out0 \
#            -f gen.awk > FILE

function addr(a)
{
	return sprintf("198.%d.%d.%d", 18 + int(a / 65536),
		       int(a / 256) % 256, a % 256)
}

function gw(e,    x)
{
	x = 16 + e % nexthops
	return sprintf("100.%d.%d.%d", 64 + int(x / 65536),
		       int(x / 256) % 256, x % 256)
}

function emit(a, value, mask,    e)
{
	e = ncpe++
	if (kind == "prr") {
		printf "add-cpe %s port-value 0x%04x port-mask 0x%04x via %s dev %s\n",
		       addr(a), value, mask, gw(e), dev
	} else if (kind == "nftmap") {
		if (e % 1024 == 0)
			printf "%sadd element ip prrbench m { ", e ? " }\n" : ""
		else
			printf ", "
		printf "%s . 0x%04x : %s", addr(a), value, gw(e)
	} else if (kind == "stock-nft") {
		printf "add rule ip prrbench pre ip daddr %s th dport & 0x%04x == 0x%04x meta mark set %d accept\n",
		       addr(a), mask, value, e + 1
	} else if (kind == "stock-ip") {
		printf "rule add fwmark %d lookup %d pref %d\n", e + 1,
		       1000 + e, 1000 + e
		printf "route add default via %s dev %s table %d\n", gw(e),
		       dev, 1000 + e
	}
}

function fail(msg)
{
	print "gen.awk: " msg > "/dev/stderr"
	bad = 1
	exit 1
}

function header()
{
	if (kind == "nftmap") {
		print "table ip prrbench {"
		print "\tmap m {"
		print "\t\ttype ipv4_addr . inet_service : ipv4_addr"
		printf "\t\tsize %d\n", n
		print "\t}"
		print "\tchain pre {"
		print "\t\ttype filter hook prerouting priority raw; policy accept;"
		print "\t\tip daddr set ip daddr . (th dport & 0x0fc0) map @m"
		print "\t}"
		print "}"
	} else if (kind == "stock-nft") {
		print "table ip prrbench {"
		print "\tchain pre {"
		print "\t\ttype filter hook prerouting priority mangle; policy accept;"
		print "\t}"
		print "}"
	}
}

BEGIN {
	if (kind !~ /^(prr|nftmap|stock-nft|stock-ip)$/)
		fail("unknown kind '" kind "'")
	if (layout == "u" && (n < 64 || n % 64))
		fail("layout u needs a multiple of 64 CPEs, not " n)
	if (layout == "m" && (n < 32 || n % 32))
		fail("layout m needs a multiple of 32 CPEs, not " n)
	if (layout != "u" && layout != "m")
		fail("unknown layout '" layout "'")
	if (kind == "nftmap" && layout != "u")
		fail("an nft map has one mask: layout u only")
	if (nexthops < 1 || nexthops > 4194288)
		fail("nexthops must be in 1..4194288")
	if (dev == "")
		dev = "out0"
	header()
	if (layout == "u") {
		for (a = 0; a < n / 64; a++)
			for (k = 0; k < 64; k++)
				emit(a, k * 64, 4032)
	} else {
		for (a = 0; a < n / 16; a++) {
			if (a % 2 == 0) {
				for (k = 0; k < 8; k++)
					emit(a, k * 256, 1792)
				continue
			}
			for (k = 0; k < 16; k++)
				emit(a, k * 256, 36608)
			for (k = 0; k < 8; k++)
				emit(a, 32768 + k, 32775)
		}
	}
	if (kind == "nftmap" && ncpe)
		print " }"
	exit 0
}
