#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""One BitTorrent client of the seed testbed (libtorrent-rasterbar).

    bt_client.py CONFIG.json     one run
    bt_client.py --agent DIR     one process per host for the whole campaign
                                 (python and libtorrent start once: that is
                                 seconds under emulation): runs each
                                 DIR/cmd-*.json as it appears, in name order,
                                 until DIR/quit exists

A command is {"op": "bt", "cfg": CONFIG} (a fresh libtorrent session per
run), {"op": "upload", ...}, {"op": "peers", ...} (bt_tools.py's upload
and tracker query, from this host) or {"op": "post", "url": ...}; each writes its result to "out".

CONFIG (written by bt_suite.py):
  name            host name (T1, RT1...), for the evidence only
  listen          "IP:PORT" the client listens on (its own address)
  allow_same_ip   libtorrent's allow_multiple_connections_per_ip, the
                  counterpart of uTorrent's bt.allow_same_ip
  upload_limit    bytes/s
  no_unchoke      true: never unchoke anybody (unchoke_slots_limit 0, no
                  allowed-fast set): a leecher that gives nothing back
  torrents        [{"torrent": PATH, "save": DIR, "seed": BOOL,
                    "delay": SECONDS}]: seeds start at once; downloads
                  DELAY seconds after the file "go" exists (the suite
                  creates it once every seed got a tracker reply)
  go, ready       those files: "ready" is written by this client once
                  every torrent it seeds got a tracker reply
  introduce       ["IP:PORT"...]: endpoints given to every torrent by
                  connect_peer() every 2 s while not connected to them (peer
                  exchange's role: the sibling behind the shared address)
  stop            the client exits (writing its evidence) once this exists
  done            rewritten whenever a download completes: JSON list of
                  the names of the torrents complete so far
  progress        rewritten (at most once a second) while bytes arrive:
                  the bytes received so far, all torrents together (the
                  suite ends a run that stalls)
  out             the evidence, JSON
  timeout         seconds before it gives up and exits

Evidence per torrent: bytes received per remote endpoint (sum of
block_finished_alert: exact), first/last block time per endpoint, completion
time, the peers polled every 0.25 s (peak number of established connections
per remote IP, and the endpoints seen at that peak), incoming connections that
never became a peer connection (refused, libtorrent's duplicate-IP rule is
silent), connections the remote side closed, tracker replies.
"""

import faulthandler
import glob
import json
import os
import signal
import sys
import time
import urllib.request

import libtorrent as lt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bt_tools  # noqa: E402

POLL = 0.25
BLOCK = 16384


def settings(cfg):
    s = {
        'listen_interfaces': cfg['listen'],
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_ip_notifier': False,
        'enable_incoming_utp': False,
        'enable_outgoing_utp': False,
        'allow_multiple_connections_per_ip': bool(cfg['allow_same_ip']),
        'upload_rate_limit': int(cfg['upload_limit']),
        'min_reconnect_time': 2,
        'peer_connect_timeout': 5,
        'announce_to_all_trackers': True,
        'alert_queue_size': 100000,
        'user_agent': 'prr-testbed/' + lt.__version__,
        'stop_tracker_timeout': 1,
        'alert_mask': (lt.alert_category.block_progress |
                       lt.alert_category.connect |
                       lt.alert_category.peer |
                       lt.alert_category.status |
                       lt.alert_category.tracker |
                       lt.alert_category.error),
    }
    if cfg.get('no_unchoke'):
        s['unchoke_slots_limit'] = 0
        s['allowed_fast_set_size'] = 0
        s['num_optimistic_unchoke_slots'] = 0
    return s


def ep(endpoint):
    return '%s:%d' % (endpoint[0], endpoint[1])


def parse_ep(text):
    ip, port = text.rsplit(':', 1)
    return (ip, int(port))


class Torrent:
    def __init__(self, spec, t0):
        self.spec = spec
        self.ti = lt.torrent_info(spec['torrent'])
        self.handle = None
        self.start_at = None if not spec['seed'] else t0
        self.delay = float(spec.get('delay', 0))
        self.ev = {
            'name': self.ti.name(),
            'infohash': str(self.ti.info_hash()),
            'seed': bool(spec['seed']),
            'size': self.ti.total_size(),
            'added': None,
            'completed': None,
            'recv': {},
            'peak': {},
            'peak_eps': {},
            'peer_eps': [],
            'incoming': [],
            'connected': [],
            'closed_by_remote': {},
            'tracker_replies': [],
            'tracker_errors': [],
        }

    def block_bytes(self, piece, block):
        size = self.ti.piece_size(piece)
        return max(0, min(BLOCK, size - block * BLOCK))


def add_torrent(ses, t, now):
    atp = lt.add_torrent_params()
    atp.ti = t.ti
    atp.save_path = t.spec['save']
    if t.spec['seed']:
        atp.flags |= lt.torrent_flags.seed_mode
    t.handle = ses.add_torrent(atp)
    t.ev['added'] = now


def on_alert(a, by_hash, session_ev, now):
    if isinstance(a, lt.incoming_connection_alert):
        session_ev['incoming'].append([now, ep(a.endpoint)])
        return
    h = getattr(a, 'handle', None)
    if h is None or not h.is_valid():
        return
    t = by_hash.get(str(h.info_hash()))
    if t is None:
        return
    ev = t.ev
    if isinstance(a, lt.block_finished_alert):
        key = ep(a.endpoint)
        r = ev['recv'].setdefault(key, {'bytes': 0, 'first': now,
                                        'last': now})
        r['bytes'] += t.block_bytes(a.piece_index, a.block_index)
        r['last'] = now
    elif isinstance(a, lt.peer_connect_alert):
        ev['connected'].append([now, ep(a.endpoint)])
    elif isinstance(a, lt.peer_disconnected_alert):
        key = ep(a.endpoint)
        msg = a.error.message()
        if 'end of file' in msg.lower() or 'reset' in msg.lower():
            ev['closed_by_remote'][key] = \
                ev['closed_by_remote'].get(key, 0) + 1
    elif isinstance(a, lt.torrent_finished_alert):
        if not ev['seed'] and ev['completed'] is None:
            ev['completed'] = now
    elif isinstance(a, lt.tracker_reply_alert):
        ev['tracker_replies'].append([now, a.num_peers])
    elif isinstance(a, lt.tracker_error_alert):
        ev['tracker_errors'].append([now, a.message()])
        log('tracker error', ev['name'], a.message())


def poll_peers(t, now):
    counts = {}
    eps = {}
    for p in t.handle.get_peer_info():
        if p.flags & (lt.peer_info.connecting | lt.peer_info.handshake):
            continue
        ip = p.ip[0]
        counts[ip] = counts.get(ip, 0) + 1
        eps.setdefault(ip, []).append(ep(p.ip))
        key = ep(p.ip)
        if key not in t.ev['peer_eps']:
            t.ev['peer_eps'].append(key)
    for ip, n in counts.items():
        if n > t.ev['peak'].get(ip, 0):
            t.ev['peak'][ip] = n
            t.ev['peak_eps'][ip] = sorted(eps[ip])
    return set(p.ip for p in t.handle.get_peer_info())


INTRO_STATES = (lt.torrent_status.downloading, lt.torrent_status.finished,
                lt.torrent_status.seeding)


def introduce(t, endpoints, connected, per_ip):
    """connect_peer() to each of ENDPOINTS not connected yet.  PER_IP (one
    connection per address, allow_same_ip FALSE): an endpoint whose address
    already has a connection (e.g. the sibling's incoming one, from another
    port) is left alone: libtorrent would move that peer-list entry to the
    new port under a live connection (a segfault was seen then)."""
    # only once the torrent runs (not while it checks its files)
    if t.handle.status().state not in INTRO_STATES:
        return
    ips = {e[0] for e in connected}
    for e in endpoints:
        if e in connected or (per_ip and e[0] in ips):
            continue
        log('introduce', t.ev['name'], ep(e))
        t.handle.connect_peer(e, lt.peer_info.pex)


def write_json(path, obj):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f)
    os.rename(tmp, path)


def run(cfg):
    t0 = time.time()
    ses = lt.session(settings(cfg))
    log('session listening on', cfg['listen'])
    torrents = [Torrent(s, t0) for s in cfg['torrents']]
    by_hash = {str(t.ti.info_hash()): t for t in torrents}
    intro = [parse_ep(e) for e in cfg.get('introduce', [])]
    session_ev = {'incoming': []}
    deadline = t0 + float(cfg.get('timeout', 120))
    next_intro = 0.0
    complete = []
    received = 0
    progress_at = 0.0
    go_at = None
    ready = False
    while True:
        now = time.time()
        if go_at is None and os.path.exists(cfg['go']):
            go_at = now
            for t in torrents:
                if t.start_at is None:
                    t.start_at = go_at + t.delay
        for t in torrents:
            if t.handle is None and t.start_at is not None and \
               now >= t.start_at:
                add_torrent(ses, t, now)
        if not ready and all(t.ev['tracker_replies'] for t in torrents
                             if t.ev['seed']):
            write_json(cfg['ready'], now)
            ready = True
            log('ready')
        # Not ses.wait_for_alert(): the binding turns the alert it returns
        # into a Python object while the network thread may still be
        # growing the queue that alert lives in, and that segfaulted
        # (gdb, build/testbed/logs/). pop_alerts() hands over a batch
        # that thread no longer touches.
        time.sleep(POLL)
        now = time.time()
        for a in ses.pop_alerts():
            on_alert(a, by_hash, session_ev, now)
        for t in torrents:
            if t.handle is None:
                continue
            connected = poll_peers(t, now)
            if not t.ev['seed'] and t.ev['completed'] is None and \
               t.handle.status().is_seeding:
                t.ev['completed'] = now
            if intro and now >= next_intro:
                introduce(t, intro, connected,
                          not cfg['allow_same_ip'])
        if intro and now >= next_intro:
            next_intro = now + 2
        now_complete = sorted(t.ev['name'] for t in torrents
                              if t.ev['completed'] is not None)
        if now_complete != complete:
            complete = now_complete
            write_json(cfg['done'], complete)
        total = sum(r['bytes'] for t in torrents
                    for r in t.ev['recv'].values())
        if total != received and now >= progress_at and cfg.get('progress'):
            received = total
            progress_at = now + 1
            write_json(cfg['progress'], total)
        if os.path.exists(cfg['stop']) or now > deadline:
            break
    evidence = {
        'name': cfg['name'],
        'listen': cfg['listen'],
        'allow_same_ip': bool(cfg['allow_same_ip']),
        'start': t0,
        'go': go_at,
        'end': time.time(),
        'incoming': session_ev['incoming'],
        'torrents': {t.ev['name']: t.ev for t in torrents},
    }
    write_json(cfg['out'], evidence)
    log('evidence written; tracker errors',
        [e for t in torrents for e in t.ev['tracker_errors']])
    del ses
    log('session closed')


def command(cmd):
    if cmd['op'] == 'bt':
        run(cmd['cfg'])
        return
    if cmd['op'] == 'upload':
        try:
            bt_tools.make_torrent(cmd['file'], cmd['tracker'],
                                  cmd['torrent'])
            res = bt_tools.upload(cmd['url'], cmd['torrent'])
        except Exception as e:
            res = {'status': None, 'error': repr(e)}
    elif cmd['op'] == 'post':
        try:
            req = urllib.request.Request(cmd['url'], data=b'',
                                         method='POST')
            with urllib.request.urlopen(req, timeout=20) as r:
                res = {'status': r.status}
        except Exception as e:
            res = {'error': repr(e)}
    else:
        try:
            res = bt_tools.peers(cmd['url'], cmd['torrent'],
                                 cmd.get('stopped', False))
        except Exception as e:
            res = {'error': repr(e)}
    write_json(cmd['out'], res)


def log(*args):
    print('%.3f' % time.time(), *args, file=sys.stderr, flush=True)


def agent(directory):
    # SIGUSR1 (from bt_suite.py when this agent does not answer): the
    # Python stack of every thread on stderr (build/testbed/logs/HOST.log)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    # a crash in libtorrent or its binding (see run()):
    # the Python stack of every thread on stderr too
    faulthandler.enable(all_threads=True)
    parent = os.getppid()
    while not os.path.exists(os.path.join(directory, 'quit')) and \
            os.getppid() == parent:
        cmds = sorted(glob.glob(os.path.join(directory, 'cmd-*.json')))
        if not cmds:
            time.sleep(0.1)
            continue
        with open(cmds[0]) as f:
            cmd = json.load(f)
        os.remove(cmds[0])
        log('start', os.path.basename(cmds[0]), cmd['op'],
            cmd.get('out', cmd.get('cfg', {}).get('out')))
        try:
            command(cmd)
            log('done')
        except Exception as e:
            log('failed:', repr(e))
            write_json(cmd.get('out', cmd.get('cfg', {}).get('out')),
                       {'error': repr(e)})


def main():
    if sys.argv[1] == '--agent':
        agent(sys.argv[2])
        return
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    run(cfg)


if __name__ == '__main__':
    main()
