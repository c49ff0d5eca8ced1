#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Helpers of the seed testbed that are not BitTorrent clients.

    bt_tools.py files DIR SIZE NAME...      deterministic content files
    bt_tools.py torrent FILE TRACKER OUT    a v1 .torrent of FILE (32 KiB pieces)
    bt_tools.py infohash TORRENT            its v1 info-hash, hex
    bt_tools.py serve IP PORT LOG           the torrent index S (below)
    bt_tools.py upload URL TORRENT          POST it to S; prints JSON
                                            {"status": N, "infohash": ...}
    bt_tools.py peers URL TORRENT           ask the tracker for the torrent's
                                            peers (compact announce with
                                            from a probe id); prints JSON
                                            ["IP:PORT", ...]

S, the draft's torrent server: POST /upload with a .torrent as the body.
It lists one torrent per content: a second upload with an info-hash it
already lists is refused with 409 Conflict; a body that is not a torrent
gets 400; a new one 201 Created.  GET /list returns the listed info-hashes
(JSON); POST /reset empties the index (each test starts with an empty S).  Every request is logged to LOG as one JSON line (client address,
port, status).
"""

import hashlib
import http.server
import json
import os
import socketserver
import struct
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import libtorrent as lt

PIECE = 32768


def make_files(directory, size, names):
    os.makedirs(directory, exist_ok=True)
    for name in names:
        path = os.path.join(directory, name)
        if os.path.exists(path) and os.path.getsize(path) == size:
            continue
        with open(path, 'wb') as f:
            n = 0
            while n < size:
                block = hashlib.sha256(('%s/%d' % (name, n)).encode()
                                       ).digest() * 1024
                f.write(block[:size - n])
                n += len(block[:size - n])


def make_torrent(path, tracker, out):
    fs = lt.file_storage()
    lt.add_files(fs, path)
    # v1 only: libtorrent 2.0 makes hybrid v1+v2 torrents by default, and
    # announces the truncated v2 hash too, which the whitelist refuses.
    ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
    ct.add_tracker(tracker)
    ct.set_creator('prr testbed')
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(path)))
    data = lt.bencode(ct.generate())
    with open(out, 'wb') as f:
        f.write(data)
    return str(lt.torrent_info(out).info_hash())


class Index:
    def __init__(self, log):
        self.hashes = []
        self.lock = threading.Lock()
        self.log = log

    def record(self, entry):
        with self.lock, open(self.log, 'a') as f:
            f.write(json.dumps(entry) + '\n')


def handler_for(index):
    class Handler(http.server.BaseHTTPRequestHandler):
        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            index.record({'client': self.client_address[0],
                          'port': self.client_address[1],
                          'path': self.path, 'status': status,
                          'infohash': body.get('infohash')})

        def do_GET(self):
            if self.path == '/list':
                with index.lock:
                    self.reply(200, {'infohashes': list(index.hashes)})
            else:
                self.reply(404, {'error': 'not found'})

        def do_POST(self):
            if self.path == '/reset':
                with index.lock:
                    index.hashes.clear()
                self.reply(200, {'infohashes': []})
                return
            if self.path != '/upload':
                self.reply(404, {'error': 'not found'})
                return
            n = int(self.headers.get('Content-Length', 0))
            body = self.rfile.read(n)
            try:
                ih = str(lt.torrent_info(lt.bdecode(body)).info_hash())
            except Exception:
                self.reply(400, {'error': 'not a torrent'})
                return
            with index.lock:
                dup = ih in index.hashes
                if not dup:
                    index.hashes.append(ih)
            if dup:
                self.reply(409, {'error': 'already listed', 'infohash': ih})
            else:
                self.reply(201, {'infohash': ih})

        def log_message(self, fmt, *args):
            pass
    return Handler


def serve(ip, port, log):
    socketserver.TCPServer.allow_reuse_address = True
    srv = socketserver.ThreadingTCPServer((ip, int(port)),
                                          handler_for(Index(log)))
    srv.serve_forever()


def upload(url, torrent):
    with open(torrent, 'rb') as f:
        data = f.read()
    req = urllib.request.Request(url, data=data, method='POST', headers={
        'Content-Type': 'application/x-bittorrent'})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    try:
        info = json.loads(body)
    except ValueError:
        info = {}
    return {'status': status, 'infohash': info.get('infohash')}


def peers(url, torrent, stopped=False):
    """The tracker's peers of TORRENT (port 1, the probe's own, left out),
    or {"error": reason} when it refuses.  STOPPED: announce event=stopped
    (the probe is not added to the list)."""
    ih = lt.torrent_info(torrent).info_hash().to_bytes()
    q = {'info_hash': ih, 'peer_id': b'-PRRPROBE-' + b'0' * 10, 'port': 1,
         'uploaded': 0, 'downloaded': 0, 'left': 1, 'compact': 1,
         'numwant': 50}
    if stopped:
        q['event'] = 'stopped'
    q = urllib.parse.urlencode(q)
    with urllib.request.urlopen(url + '?' + q, timeout=20) as r:
        reply = lt.bdecode(r.read())
    if b'failure reason' in reply:
        return {'error': reply[b'failure reason'].decode(errors='replace')}
    raw = reply.get(b'peers', b'')
    out = []
    for i in range(0, len(raw) - len(raw) % 6, 6):
        a, b, c, d, port = struct.unpack('!BBBBH', raw[i:i + 6])
        if port != 1:
            out.append('%d.%d.%d.%d:%d' % (a, b, c, d, port))
    return sorted(out)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == 'files':
        make_files(args[0], int(args[1]), args[2:])
    elif cmd == 'torrent':
        print(make_torrent(args[0], args[1], args[2]))
    elif cmd == 'infohash':
        print(lt.torrent_info(args[0]).info_hash())
    elif cmd == 'serve':
        serve(args[0], args[1], args[2])
    elif cmd == 'upload':
        print(json.dumps(upload(args[0], args[1])))
    elif cmd == 'peers':
        print(json.dumps(peers(args[0], args[1])))
    else:
        sys.exit('bt_tools.py: unknown command %s' % cmd)


if __name__ == '__main__':
    main()
