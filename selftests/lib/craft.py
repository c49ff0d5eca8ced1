#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Crafted IPv4 packets and UDP sockets for prr's selftests.

One process serves a whole test script (Python starts slowly under
emulation): it reads commands on stdin, one a line, and answers each with
one line on stdout, "ok [WORDS...]" or "error MESSAGE".  It enters network
namespaces itself (setns on /run/netns/NAME), so it runs in any namespace.
Packets are built byte by byte with struct, not scapy: hostile packets need
fields exactly as written (scapy repairs lengths and checksums), and the
import costs seconds under emulation.

Commands:

  send NETNS IFACE DSTMAC COUNT KIND [KEY=VALUE...]
      Builds the datagrams of KIND and sends them COUNT times, each in an
      Ethernet frame from IFACE (in NETNS) to DSTMAC.  sport=, dport= and
      ident= may be comma lists: one datagram per value.  The Nth datagram
      (from 0) gets tag + N and IP ID + N.  Answers "ok FRAMES".
  udp_open NAME NETNS [bind=ADDR:PORT] [connect=ADDR:PORT] [df=1]
      A UDP socket; df=1 sets IP_PMTUDISC_DO (path MTU discovery).
  udp_send NAME SIZE [tag=N]
      Sends a SIZE-byte payload (tag + pattern, see payload()).
      Answers "ok sent", or "ok ERRNO_NAME" (e.g. EMSGSIZE) when the
      kernel refused it.
  udp_recv NAME MS
      Waits up to MS ms for a datagram, then for more until none came for
      300 ms.  Answers "ok N TAG:LEN:ok|bad...", one word per datagram:
      its tag ("-" when it has none), its length, whether every byte is
      the one sent.
  udp_mtu NAME
      Answers "ok MTU", the socket's path MTU (IP_MTU).
  close NAME
  snap NAME NETNS PRRCTL
      Remembers the counters of NETNS under NAME: prr's (PRRCTL -j stats)
      and the kernel's SNMP counters (/proc/net/snmp and netstat, named as
      nstat names them, e.g. IpReasmFails, IpExtInCsumErrors).
  moved NAME NETNS PRRCTL WAIT_MS [KERNEL_NAME...] [-- WANT...]
      Answers "ok prr: [NAME=DELTA...] kernel: [NAME=DELTA...]": every prr
      counter that moved since snap NAME, and those of the KERNEL_NAMEs,
      sorted.  With WANT, polls for up to WAIT_MS ms until the answer is
      "prr: ... kernel: ..." = WANT (then, or at the deadline, answers).
  fuzz NETNS IFACE DSTMAC SECONDS SEED SRC DST SHARED
      Packet fuzzing: for SECONDS sends frames as fast as it can from a
      pool of 2048 generated with random.Random(SEED): valid datagrams of
      every protocol (UDP, TCP, UDP-Lite, SCTP, DCCP, ICMP queries and
      errors, GRE, ESP) to DST from SRC (sometimes from SHARED, sometimes
      with TTL 0 or 1), mutated ones (flipped bytes, cut, padded, IHL,
      total length, flags and fragment offset changed, checksums kept or
      recomputed), fragments (some missing, overlapping, duplicated) and
      random bytes after an IPv4 header.  Answers "ok FRAMES".
  quit

KINDS and their keys (all take src=, dst=, ttl=64, id=, tag=1, tos=0):

  udp   sport=40000 dport=9 size=IP_TOTAL_LENGTH df=0
  tcp   sport=40000 dport=9 size=IP_TOTAL_LENGTH
  echo  ident=1 type=8 size=IP_TOTAL_LENGTH
  proto proto=N size=IP_TOTAL_LENGTH          (a bare payload)
  icmperr type=3 code=3 mtu=0 csum=good|bad
        the quoted datagram: qproto=udp|tcp|icmp|gre qsrc= qdst=
        qsport= qdport= (for icmp: qident=, qtype=8 qcode=0), qopts=0|1
        (IP options: record route), qcsum=good|bad (its header checksum),
        qfrag=OFFSET (a non-first fragment), qsize=IP_TOTAL_LENGTH,
        qlen=N|all (bytes of it kept after its IP header, default 8),
        qtag=0x7000, qttl=1, qid=0x2000
  frags a udp datagram (sport dport size df, as udp) in fragments:
        fragsize=1480 (payload bytes each), first=N (the first fragment's
        payload bytes), order=fwd|rev, nofirst=1 (leave the first out),
        overlap=N (the last one starts N bytes inside the one before)

and every kind: trunc=N (keep N bytes after the IP header, lengths and
checksum follow), then the raw header edits ihl=N, totlen=N,
ipcsum=good|bad|keep (recomputed over min(IHL, length) bytes unless keep),
pad=N (bytes added to the frame after the datagram).
"""

import ctypes
import errno
import json
import os
import random
import select
import socket
import struct
import subprocess
import sys
import time

TAG_MAGIC = 0x70727221		# "prr!", as prr_probe
CLONE_NEWNET = 0x40000000
IP_MTU = 14
IP_MTU_DISCOVER = 10
IP_PMTUDISC_DO = 2
IP_DF = 0x4000
IP_MF = 0x2000

LIBC = ctypes.CDLL(None, use_errno=True)
SOCKETS = {}


class Usage(Exception):
    """A command the script cannot carry out; answered with "error"."""


def enter_netns(name):
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if LIBC.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise Usage("setns %s: %s" % (name, os.strerror(err)))
    finally:
        os.close(fd)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def aton(addr):
    try:
        return socket.inet_aton(addr)
    except OSError:
        raise Usage("bad IPv4 address '%s'" % addr) from None


def payload(tag, size):
    """SIZE bytes: the tag (magic, id) and then a pattern derived from it."""
    head = struct.pack("!II", TAG_MAGIC, tag & 0xffffffff)
    body = bytes((i * 31 + tag) & 0xff for i in range(max(size - 8, 0)))
    return (head + body)[:size]


def check_payload(data):
    """(tag or None, intact) of a datagram's payload."""
    if len(data) < 8 or struct.unpack("!I", data[:4])[0] != TAG_MAGIC:
        return None, False
    tag = struct.unpack("!I", data[4:8])[0]
    return tag, data == payload(tag, len(data))


# Record route with three empty slots and a NOP: 16 bytes, IHL 9.
RR_OPTIONS = bytes([7, 15, 4]) + bytes(12) + bytes([1])


def ip_header(src, dst, proto, body_len, ttl=64, ident=1, frag=0, tos=0,
              options=b""):
    hlen = 20 + len(options)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | hlen // 4, tos,
                      hlen + body_len, ident & 0xffff, frag, ttl, proto, 0,
                      aton(src), aton(dst)) + options
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]


def l4_csum(src, dst, proto, seg):
    pseudo = aton(src) + aton(dst) + struct.pack("!BBH", 0, proto, len(seg))
    return csum(pseudo + seg)


def udp_segment(src, dst, sport, dport, data):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    sumv = l4_csum(src, dst, 17, seg) or 0xffff
    return seg[:6] + struct.pack("!H", sumv) + seg[8:]


def tcp_segment(src, dst, sport, dport, seq, data):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02,
                      65535, 0, 0) + data
    sumv = l4_csum(src, dst, 6, seg)
    return seg[:16] + struct.pack("!H", sumv) + seg[18:]


def icmp_message(typ, code, rest, data, good=True):
    msg = struct.pack("!BBHI", typ, code, 0, rest) + data
    sumv = csum(msg)
    if not good:
        sumv ^= 0x5a5a
    return msg[:2] + struct.pack("!H", sumv) + msg[4:]


class Params:
    """KEY=VALUE words with typed, defaulted access."""

    def __init__(self, words):
        self.kv = {}
        for word in words:
            key, sep, value = word.partition("=")
            if not sep:
                raise Usage("expected KEY=VALUE, got '%s'" % word)
            self.kv[key] = value
        self.used = set()

    def str(self, key, default=None):
        self.used.add(key)
        value = self.kv.get(key, default)
        if value is None:
            raise Usage("missing %s=" % key)
        return value

    def int(self, key, default=None):
        value = self.str(key, None if default is None else str(default))
        try:
            return int(value, 0)
        except ValueError:
            raise Usage("bad number %s=%s" % (key, value)) from None

    def has(self, key):
        self.used.add(key)
        return key in self.kv

    def expand(self, keys):
        """One Params per combination of the comma lists in KEYS."""
        combos = [{}]
        for key in keys:
            if key not in self.kv:
                continue
            self.used.add(key)
            values = self.kv[key].split(",")
            combos = [dict(c, **{key: v}) for c in combos for v in values]
        out = []
        for combo in combos:
            q = Params([])
            q.kv = dict(self.kv, **combo)
            q.used = self.used
            out.append(q)
        return out

    def check_known(self):
        """Catches misspelt keys; keys another kind uses are ignored."""
        unknown = sorted(set(self.kv) - self.used - KNOWN_KEYS)
        if unknown:
            raise Usage("unknown key(s): %s" % " ".join(unknown))


def body_size(p, header, minimum):
    """Payload bytes after an L4 header for IP total length size=."""
    size = p.int("size", 20 + header + minimum)
    return max(size - 20 - header, 0)


def build_udp(p, rep):
    src, dst = p.str("src"), p.str("dst")
    data = payload(p.int("tag", 1) + rep, body_size(p, 8, 8))
    seg = udp_segment(src, dst, p.int("sport", 40000), p.int("dport", 9),
                      data)
    frag = IP_DF if p.int("df", 0) else 0
    return [ip_header(src, dst, 17, len(seg), p.int("ttl", 64),
                      p.int("id", 0x1000) + rep, frag, p.int("tos", 0)) +
            seg]


def build_tcp(p, rep):
    src, dst = p.str("src"), p.str("dst")
    tag = p.int("tag", 1) + rep
    seg = tcp_segment(src, dst, p.int("sport", 40000), p.int("dport", 9),
                      tag, payload(tag, body_size(p, 20, 8)))
    return [ip_header(src, dst, 6, len(seg), p.int("ttl", 64),
                      p.int("id", 0x1000) + rep, 0, p.int("tos", 0)) + seg]


def build_echo(p, rep):
    src, dst = p.str("src"), p.str("dst")
    tag = p.int("tag", 1) + rep
    msg = icmp_message(p.int("type", 8), 0,
                       p.int("ident", 1) << 16 | (tag & 0xffff),
                       payload(tag, body_size(p, 8, 8)))
    return [ip_header(src, dst, 1, len(msg), p.int("ttl", 64),
                      p.int("id", 0x1000) + rep, 0, p.int("tos", 0)) + msg]


def build_proto(p, rep):
    src, dst = p.str("src"), p.str("dst")
    data = payload(p.int("tag", 1) + rep, body_size(p, 0, 8))
    return [ip_header(src, dst, p.int("proto"), len(data), p.int("ttl", 64),
                      p.int("id", 0x1000) + rep, 0, p.int("tos", 0)) + data]


def quoted_datagram(p, rep):
    """The datagram an ICMP error quotes, cut as qlen= says."""
    qsrc, qdst = p.str("qsrc"), p.str("qdst")
    qproto = p.str("qproto", "udp")
    tag = p.int("qtag", 0x7000) + rep
    qsize = p.int("qsize", 64)
    if qproto == "udp":
        proto = 17
        l4 = udp_segment(qsrc, qdst, p.int("qsport"), p.int("qdport"),
                         payload(tag, max(qsize - 28, 0)))
    elif qproto == "tcp":
        proto = 6
        l4 = tcp_segment(qsrc, qdst, p.int("qsport"), p.int("qdport"), tag,
                         payload(tag, max(qsize - 40, 0)))
    elif qproto == "icmp":
        proto = 1
        qtype = p.int("qtype", 8)
        rest = p.int("qident", 1) << 16 | (tag & 0xffff)
        inner = b""
        if qtype not in (0, 8, 13, 14, 15, 16, 17, 18):
            # an error quoting some UDP datagram of the CPE's
            rest = 0
            inner = ip_header(qdst, qsrc, 17, 8) + udp_segment(
                qdst, qsrc, 53, 53, b"")
        l4 = icmp_message(qtype, p.int("qcode", 0), rest,
                          inner or payload(tag, max(qsize - 28, 0)))
    elif qproto == "gre":
        proto = 47
        l4 = struct.pack("!HH", 0, 0x0800) + payload(tag, max(qsize - 24, 0))
    else:
        raise Usage("unknown qproto=%s" % qproto)
    options = RR_OPTIONS if p.int("qopts", 0) else b""
    frag = p.int("qfrag", 0) // 8
    hdr = ip_header(qsrc, qdst, proto, len(l4), p.int("qttl", 1),
                    p.int("qid", 0x2000) + rep, frag, 0, options)
    if p.str("qcsum", "good") == "bad":
        hdr = hdr[:10] + struct.pack("!H", struct.unpack(
            "!H", hdr[10:12])[0] ^ 0x0101) + hdr[12:]
    qlen = p.str("qlen", "8")
    if qlen != "all":
        l4 = l4[:int(qlen, 0)]
    return hdr + l4


def build_icmperr(p, rep):
    src, dst = p.str("src"), p.str("dst")
    typ, code = p.int("type", 3), p.int("code", 3)
    rest = p.int("mtu", 0) if typ == 3 and code == 4 else 0
    msg = icmp_message(typ, code, rest, quoted_datagram(p, rep),
                       p.str("csum", "good") != "bad")
    return [ip_header(src, dst, 1, len(msg), p.int("ttl", 64),
                      p.int("id", 0x1000) + rep, 0, p.int("tos", 0)) + msg]


def build_frags(p, rep):
    whole = build_udp(p, rep)[0]
    hdr, body = whole[:20], whole[20:]
    fragsize = p.int("fragsize", 1480)
    first = p.int("first", fragsize)
    if fragsize % 8 or first % 8 or fragsize <= 0 or first <= 0:
        raise Usage("fragsize= and first= must be positive multiples of 8")
    cuts = [(0, min(first, len(body)))]
    while cuts[-1][1] < len(body):
        start = cuts[-1][1]
        cuts.append((start, min(start + fragsize, len(body))))
    overlap = p.int("overlap", 0)
    if overlap:
        prev = cuts[-2][1] - cuts[-2][0] if len(cuts) > 1 else 0
        if overlap % 8 or overlap > prev:
            raise Usage("overlap=N: a multiple of 8 within the fragment "
                        "before the last")
        cuts[-1] = (cuts[-1][0] - overlap, cuts[-1][1])
    if p.int("nofirst", 0):
        cuts = cuts[1:]
    if p.str("order", "fwd") == "rev":
        cuts.reverse()
    src, dst = socket.inet_ntoa(hdr[12:16]), socket.inet_ntoa(hdr[16:20])
    ident = struct.unpack("!H", hdr[4:6])[0]
    df = struct.unpack("!H", hdr[6:8])[0] & IP_DF
    out = []
    for start, end in cuts:
        frag = df | start // 8 | (IP_MF if end < len(body) else 0)
        out.append(ip_header(src, dst, 17, end - start, hdr[8], ident, frag,
                             hdr[1]) + body[start:end])
    return out


# Keys that may hold a comma list: one datagram per value (combination).
LIST_KEYS = ("sport", "dport", "ident")

KNOWN_KEYS = {
    "src", "dst", "ttl", "id", "tag", "tos", "sport", "dport", "size", "df",
    "ident", "type", "proto", "code", "mtu", "csum", "qproto", "qsrc",
    "qdst", "qsport", "qdport", "qident", "qtype", "qcode", "qopts", "qcsum",
    "qfrag", "qsize", "qlen", "qtag", "qttl", "qid", "fragsize", "first",
    "order", "nofirst", "overlap", "trunc", "ihl", "totlen", "ipcsum", "pad",
}

KINDS = {
    "udp": build_udp,
    "tcp": build_tcp,
    "echo": build_echo,
    "proto": build_proto,
    "icmperr": build_icmperr,
    "frags": build_frags,
}


def edit_datagram(dgram, p):
    """trunc=, ihl=, totlen=, ipcsum=, pad= of the KINDS doc."""
    ihl = (dgram[0] & 0x0f) * 4
    if p.has("trunc"):
        dgram = dgram[:ihl + p.int("trunc")]
        dgram = dgram[:2] + struct.pack("!H", len(dgram)) + dgram[4:]
    if p.has("ihl"):
        ihl = p.int("ihl") * 4
        dgram = bytes([0x40 | (ihl // 4) & 0x0f]) + dgram[1:]
    if p.has("totlen"):
        dgram = dgram[:2] + struct.pack("!H", p.int("totlen")) + dgram[4:]
    dgram += bytes(p.int("pad", 0))
    mode = p.str("ipcsum", "good")
    if mode != "keep":
        hlen = min(max(ihl, 20), len(dgram))
        hdr = dgram[:10] + b"\0\0" + dgram[12:hlen]
        sumv = csum(hdr)
        if mode == "bad":
            sumv ^= 0x0101
        dgram = dgram[:10] + struct.pack("!H", sumv) + dgram[12:]
    return dgram


def cmd_send(args):
    if len(args) < 5:
        raise Usage("send NETNS IFACE DSTMAC COUNT KIND [KEY=VALUE...]")
    netns, iface, dstmac, count, kind = args[:5]
    if kind not in KINDS:
        raise Usage("unknown kind '%s'" % kind)
    try:
        dst = bytes.fromhex(dstmac.replace(":", ""))
        count = int(count, 0)
    except ValueError:
        raise Usage("bad MAC address or count") from None
    p = Params(args[5:])
    frames = []
    seq = 0
    for _ in range(count):
        for q in p.expand(LIST_KEYS):
            for dgram in KINDS[kind](q, seq):
                frames.append(edit_datagram(dgram, q))
            seq += 1
    p.check_known()
    enter_netns(netns)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((iface, 0))
        src = sock.getsockname()[4]
        for dgram in frames:
            sock.send(dst + src + b"\x08\x00" + dgram)
    return str(len(frames))


def addr_port(value):
    addr, sep, port = value.rpartition(":")
    if not sep:
        raise Usage("expected ADDR:PORT, got '%s'" % value)
    return addr, int(port, 0)


def cmd_udp_open(args):
    if len(args) < 2:
        raise Usage("udp_open NAME NETNS [bind=A:P] [connect=A:P] [df=1]")
    name, netns = args[:2]
    p = Params(args[2:])
    enter_netns(netns)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        if p.int("df", 0):
            sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER,
                            IP_PMTUDISC_DO)
        if p.has("bind"):
            sock.bind(addr_port(p.str("bind")))
        if p.has("connect"):
            sock.connect(addr_port(p.str("connect")))
        p.check_known()
    except BaseException:
        sock.close()
        raise
    if name in SOCKETS:
        SOCKETS.pop(name).close()
    SOCKETS[name] = sock
    return ""


def named_socket(name):
    if name not in SOCKETS:
        raise Usage("no socket '%s'" % name)
    return SOCKETS[name]


def cmd_udp_send(args):
    if len(args) < 2:
        raise Usage("udp_send NAME SIZE [tag=N]")
    sock = named_socket(args[0])
    p = Params(args[2:])
    data = payload(p.int("tag", 1), int(args[1], 0))
    p.check_known()
    try:
        sock.send(data)
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
    return "sent"


def cmd_udp_recv(args):
    if len(args) != 2:
        raise Usage("udp_recv NAME MS")
    sock = named_socket(args[0])
    deadline = time.monotonic() + int(args[1], 0) / 1000
    got = []
    while True:
        wait = deadline - time.monotonic()
        if got:
            wait = 0.3
        if wait <= 0 or not select.select([sock], [], [], wait)[0]:
            break
        data = sock.recv(65536)
        tag, intact = check_payload(data)
        got.append("%s:%d:%s" % ("-" if tag is None else tag, len(data),
                                 "ok" if intact else "bad"))
    return " ".join([str(len(got))] + got)


def cmd_udp_mtu(args):
    if len(args) != 1:
        raise Usage("udp_mtu NAME")
    return str(named_socket(args[0]).getsockopt(socket.IPPROTO_IP, IP_MTU))


def cmd_close(args):
    if len(args) != 1:
        raise Usage("close NAME")
    named_socket(args[0]).close()
    del SOCKETS[args[0]]
    return ""


SNAPS = {}


def kernel_counters():
    """The SNMP counters of the current namespace, by nstat name."""
    out = {}
    for path in ("/proc/net/snmp", "/proc/net/netstat"):
        with open(path, encoding="ascii") as f:
            lines = f.read().splitlines()
        for head, vals in zip(lines[0::2], lines[1::2]):
            names, values = head.split(), vals.split()
            prefix = names[0].rstrip(":")
            for name, value in zip(names[1:], values[1:]):
                out[prefix + name] = int(value)
    return out


def prr_counters(prrctl):
    res = subprocess.run([prrctl, "-j", "stats"], capture_output=True,
                         text=True, check=False)
    if res.returncode:
        raise Usage("%s -j stats: %s" % (prrctl, res.stderr.strip()))
    return json.loads(res.stdout)


def cmd_snap(args):
    if len(args) != 3:
        raise Usage("snap NAME NETNS PRRCTL")
    enter_netns(args[1])
    SNAPS[args[0]] = (prr_counters(args[2]), kernel_counters())
    return ""


def moved_now(snap, prrctl, knames):
    prr0, kern0 = snap
    prr1, kern1 = prr_counters(prrctl), kernel_counters()
    words = ["prr:"]
    words += ["%s=%d" % (k, prr1[k] - prr0.get(k, 0)) for k in sorted(prr1)
              if prr1[k] != prr0.get(k, 0)]
    words.append("kernel:")
    words += ["%s=%d" % (k, kern1.get(k, 0) - kern0.get(k, 0))
              for k in sorted(knames)
              if kern1.get(k, 0) != kern0.get(k, 0)]
    return " ".join(words)


def cmd_moved(args):
    if len(args) < 4:
        raise Usage("moved NAME NETNS PRRCTL WAIT_MS [NAME...] [-- WANT...]")
    if args[0] not in SNAPS:
        raise Usage("no snapshot '%s'" % args[0])
    rest = args[4:]
    want = None
    if "--" in rest:
        want = " ".join(rest[rest.index("--") + 1:])
        rest = rest[:rest.index("--")]
    enter_netns(args[1])
    deadline = time.monotonic() + int(args[3], 0) / 1000
    while True:
        got = moved_now(SNAPS[args[0]], args[2], rest)
        if want is None or got == want or time.monotonic() >= deadline:
            return got
        time.sleep(0.05)


# ------------------------------------------------------------ packet fuzz

FUZZ_POOL = 2048
FUZZ_PROTOS = (17, 6, 136, 132, 33, 1, 47, 50)


def fuzz_l4(rng, src, dst, proto, sport, dport, data):
    """A valid-looking L4 message of PROTO (checksums right)."""
    if proto == 17:
        return udp_segment(src, dst, sport, dport, data)
    if proto == 6:
        return tcp_segment(src, dst, sport, dport, rng.getrandbits(32), data)
    if proto == 136:
        seg = struct.pack("!HHHH", sport, dport, 8, 0) + data
        return seg[:6] + struct.pack("!H", l4_csum(src, dst, 136, seg)) + \
            seg[8:]
    if proto == 132:
        return struct.pack("!HHII", sport, dport, rng.getrandbits(32), 0) + \
            struct.pack("!BBH", 0, 3, 16 + len(data)) + bytes(12) + data
    if proto == 33:
        return struct.pack("!HHBBHHHI", sport, dport, 4, 0x11, 0, 0, 0,
                           rng.getrandbits(32)) + data
    if proto == 1:
        if rng.random() < 0.5:
            return icmp_message(rng.choice((8, 0, 13, 15, 17, 5, 9)), 0,
                                sport << 16 | dport, data)
        quoted = ip_header(dst, src, 17, 8 + len(data[:8]), 1) + \
            udp_segment(dst, src, dport, sport, data[:8])
        cut = rng.choice((28, 28, 24, 20, len(quoted)))
        return icmp_message(rng.choice((3, 11, 4, 12)), rng.randrange(16),
                            0, quoted[:cut], rng.random() < 0.9)
    if proto == 47:
        return struct.pack("!HH", 0, 0x0800) + data
    return struct.pack("!II", rng.getrandbits(32), 1) + data


def fuzz_valid(rng, src, dst, shared):
    proto = rng.choice(FUZZ_PROTOS)
    if rng.random() < 0.1:
        src = shared
    data = payload(rng.getrandbits(32), rng.choice((0, 8, 16, 64, 300,
                                                    1400)))
    seg = fuzz_l4(rng, src, dst, proto, rng.getrandbits(16),
                  rng.getrandbits(16), data)
    ttl = rng.choice((64, 64, 64, 1, 0, 255))
    frag = IP_DF if rng.random() < 0.3 else 0
    options = RR_OPTIONS if rng.random() < 0.05 else b""
    return ip_header(src, dst, proto, len(seg), ttl, rng.getrandbits(16),
                     frag, rng.getrandbits(8), options) + seg


def fuzz_fix_csum(dgram):
    ihl = min(max((dgram[0] & 0x0f) * 4, 20), len(dgram))
    hdr = dgram[:10] + b"\0\0" + dgram[12:ihl]
    return dgram[:10] + struct.pack("!H", csum(hdr)) + dgram[12:]


def fuzz_mutate(rng, dgram):
    d = bytearray(dgram)
    for _ in range(rng.randrange(1, 4)):
        what = rng.randrange(7)
        if what == 0 and d:
            d[rng.randrange(len(d))] ^= rng.randrange(1, 256)
        elif what == 1:
            del d[rng.randrange(20, max(len(d), 21)):]
        elif what == 2:
            d += bytes(rng.getrandbits(8) for _ in range(rng.randrange(16)))
        elif what == 3:
            d[0] = 0x40 | rng.randrange(16)
        elif what == 4:
            d[2:4] = struct.pack("!H", rng.getrandbits(16))
        elif what == 5:
            d[6:8] = struct.pack("!H", rng.getrandbits(16))
        else:
            d[9] = rng.getrandbits(8)
    d = bytes(d[:65535])
    if len(d) >= 20 and rng.random() < 0.8:
        d = fuzz_fix_csum(d)
    return d


def fuzz_frags(rng, dgram):
    """DGRAM (a non-fragment) cut in pieces, some lost, some overlapping."""
    hdr, body = dgram[:20], dgram[20:]
    size = rng.choice((8, 16, 64, 512))
    pieces = []
    for start in range(0, len(body), size):
        end = min(start + size, len(body))
        if rng.random() < 0.1:
            start = max(start - 8, 0)
        pieces.append((start, end))
    if rng.random() < 0.2 and len(pieces) > 1:
        del pieces[rng.randrange(len(pieces))]
    if rng.random() < 0.2:
        pieces.append(rng.choice(pieces))
    if rng.random() < 0.3:
        rng.shuffle(pieces)
    out = []
    for start, end in pieces:
        more = IP_MF if end < len(body) else 0
        f = hdr[:6] + struct.pack("!H", more | start // 8) + hdr[8:]
        f = f[:2] + struct.pack("!H", 20 + end - start) + f[4:]
        out.append(fuzz_fix_csum(f + body[start:end]))
    return out


def fuzz_random(rng, src, dst):
    body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(60)))
    hdr = ip_header(src, dst, rng.getrandbits(8), len(body),
                    rng.getrandbits(8), rng.getrandbits(16),
                    rng.getrandbits(16) & 0x7fff)
    return hdr + body


def fuzz_pool(rng, src, dst, shared):
    pool = []
    while len(pool) < FUZZ_POOL:
        kind = rng.randrange(10)
        if kind < 3:
            pool.append(fuzz_valid(rng, src, dst, shared))
        elif kind < 7:
            pool.append(fuzz_mutate(rng, fuzz_valid(rng, src, dst, shared)))
        elif kind < 9:
            dgram = fuzz_valid(rng, src, dst, shared)
            if len(dgram) > 28 and not dgram[6] & 0x20:
                pool.extend(fuzz_frags(rng, dgram))
        else:
            pool.append(fuzz_random(rng, src, dst))
    return pool


def cmd_fuzz(args):
    if len(args) != 8:
        raise Usage("fuzz NETNS IFACE DSTMAC SECONDS SEED SRC DST SHARED")
    netns, iface, dstmac, secs, seed, src, dst, shared = args
    try:
        mac = bytes.fromhex(dstmac.replace(":", ""))
        secs = float(secs)
        rng = random.Random(int(seed, 0))
    except ValueError:
        raise Usage("bad MAC address, time or seed") from None
    pool = fuzz_pool(rng, src, dst, shared)
    enter_netns(netns)
    sent = 0
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((iface, 0))
        frames = [mac + sock.getsockname()[4] + b"\x08\x00" + d
                  for d in pool]
        end = time.monotonic() + secs
        while time.monotonic() < end:
            for frame in frames:
                try:
                    sock.send(frame)
                except OSError as e:
                    if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                        raise
                    time.sleep(0.001)
                    continue
                sent += 1
    return str(sent)


COMMANDS = {
    "snap": cmd_snap,
    "moved": cmd_moved,
    "send": cmd_send,
    "udp_open": cmd_udp_open,
    "udp_send": cmd_udp_send,
    "udp_recv": cmd_udp_recv,
    "udp_mtu": cmd_udp_mtu,
    "close": cmd_close,
    "fuzz": cmd_fuzz,
}


def answer(line):
    words = line.split()
    if not words:
        return "error empty command"
    if words[0] not in COMMANDS:
        return "error unknown command '%s'" % words[0]
    try:
        out = COMMANDS[words[0]](words[1:])
    except Usage as e:
        return "error %s" % e
    except OSError as e:
        return "error %s: %s" % (words[0], e)
    return ("ok " + out).rstrip()


def main():
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        print(answer(line), flush=True)


if __name__ == "__main__":
    main()
