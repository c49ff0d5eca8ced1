#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The twelve tests of draft-boucadair-behave-bittorrent-address-sharing-00
section 4, on the testbed guest-testbed.sh built, under both configurations
of section 5 (bt.allow_same_ip TRUE and FALSE, on every client).

    bt_suite.py TOPO.json

TOPO.json (written by guest-testbed.sh) names the namespaces, addresses,
listening ports and the CPEs' port sets.  Every test starts a fresh tracker
(opentracker) and fresh clients (bt_client.py, one process per host), waits
for the downloads it needs, stops everything and computes its verdict from
the clients' evidence only.

Output: progress as KTAP diagnostics ("# ...") on stdout; in OUT (from
TOPO.json): results.json (every run's evidence summary and verdict),
assertions.tsv (one line per CI assertion: ok|fail, description,
diagnostic), tables.txt (the two tables), and the report DOC (markdown).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = '/usr/bin/python3'
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
FILES = {
    'T1': ['TestCaenF1', 'TestCaenFa'],
    'T2': ['TestCaenF1', 'TestCaenFb'],
    'RT1': ['TestCaenFRT1', 'TestCaenFRTa'],
    'RT2': ['TestCaenFRT1', 'TestCaenFRTb'],
}
ALL_FILES = sorted({f for v in FILES.values() for f in v})

# The draft's section 5 verdicts, as short texts.
DRAFT = {
    True: {
        1: 'OK', 2: 'OK (both uploads succeed)',
        3: 'only one upload succeeds (server lists one per content)',
        4: 'OK (all three scenarios)', 5: 'OK', 6: 'OK',
        7: 'OK: both served by RT1 at once', 8: 'not applicable',
        9: 'OK', 10: 'OK: RT1 downloads from T1 and T2 at once',
        11: 'not applicable', 12: 'OK',
    },
    False: {
        1: 'OK', 2: 'OK (both uploads succeed)',
        3: 'only one upload succeeds (server lists one per content)',
        4: 'OK (all three scenarios)',
        5: 'OK',
        6: 'OK; each seeder accepts one connection from the address; '
           'T1 and T2 exchange pieces',
        7: 'fails: RT1 serves one at a time; the waiting one gets pieces '
           'from its sibling',
        8: 'succeeded: a different file from the same seeder meanwhile',
        9: 'OK',
        10: 'fails: RT1 accepts only one of T1/T2 at a time',
        11: 'succeeded: the waiting terminal completes once the other '
            'is done',
        12: 'OK',
    },
}
TITLES = {
    1: 'connect to the overlay (same tracker)',
    2: 'upload distinct torrents to S',
    3: 'upload torrents of the same file to S',
    4: 'mutual download T1<->T2 (hairpin)',
    5: 'distinct files, simultaneously',
    6: 'same file from several seeders (RT1, RT2)',
    7: 'same file from a single seeder (RT1), simultaneously',
    8: 'different file from the same seeder while waiting',
    9: 'distinct files from the same seeder',
    10: 'RT1 downloads the same file from T1 and T2',
    11: 'the waiting terminal completes later',
    12: 'RT1 downloads distinct files from T1 and T2',
}


def diag(*lines):
    for line in lines:
        for part in str(line).split('\n'):
            print('# ' + part, flush=True)


def kib(n):
    return '%d KiB' % round(n / 1024)


class Bed:
    """The testbed: namespaces, addresses, port sets, files."""

    def __init__(self, topo):
        self.t = topo
        self.shared = topo['shared']
        self.out = topo['out']
        self.work = topo['work']
        self.size = int(topo['size'])
        self.rate = int(topo['rate'])
        self.tracker = 'http://%s:6969/announce' % topo['addr']['TRA']
        self.server = 'http://%s:8000' % topo['addr']['S']
        self.torrents = {}
        self.hashes = {}
        self.run_no = 0
        self.procs = []
        # every process's stderr: under the checkout, readable on the host
        # after the VM stopped
        self.logs = os.path.join(self.out, 'logs')
        shutil.rmtree(self.logs, ignore_errors=True)
        os.makedirs(self.logs)

    def log(self, name):
        return open(os.path.join(self.logs, name), 'a')

    def ns(self, host):
        return '/run/netns/' + self.t['ns'][host]

    def cmd(self, host, args):
        return ['nsenter', '--net=' + self.ns(host)] + args

    def listen(self, host):
        return '%s:%d' % (self.t['addr'][host], self.t['port'][host])

    def public(self, host):
        """Endpoint others dial: T1/T2 through their CPE's port forward."""
        if host in ('T1', 'T2'):
            return '%s:%d' % (self.shared, self.t['port'][host])
        return self.listen(host)

    def owner(self, port):
        for host in ('T1', 'T2'):
            for v, m in self.t['sets'][host]:
                if port & m == v:
                    return host
        return None

    def name_of(self, endpoint):
        ip, port = endpoint.rsplit(':', 1)
        if ip == self.shared:
            return self.owner(int(port)) or 'shared:%s' % port
        for host, addr in self.t['addr'].items():
            if addr == ip:
                return host
        return endpoint

    def data_dir(self, host):
        return os.path.join(self.work, 'data', host)

    def prepare(self):
        """The files of the draft's section 3.2 on each host, one .torrent
        each (in this process: a python start costs seconds under
        emulation), the tracker's whitelist."""
        import bt_tools
        for host, names in FILES.items():
            bt_tools.make_files(self.data_dir(host), self.size, names)
        tdir = os.path.join(self.work, 'torrents')
        os.makedirs(tdir, exist_ok=True)
        for name in ALL_FILES:
            host = next(h for h, n in FILES.items() if name in n)
            out = os.path.join(tdir, name + '.torrent')
            self.hashes[name] = bt_tools.make_torrent(
                os.path.join(self.data_dir(host), name), self.tracker, out)
            self.torrents[name] = out
        wl = os.path.join(self.work, 'tracker')
        os.makedirs(wl, exist_ok=True)
        os.chmod(wl, 0o755)
        with open(os.path.join(wl, 'whitelist.txt'), 'w') as f:
            f.write('\n'.join(self.hashes.values()) + '\n')

    # ------------------------------------------------------- services

    def listening(self, host, port, proto='-t'):
        out = subprocess.run(self.cmd(host, ['ss', '-Hln', proto,
                                             'sport = :%d' % port]),
                             capture_output=True, text=True).stdout
        return bool(out.strip())

    def wait(self, cond, secs, step=0.2):
        end = time.time() + secs
        while time.time() < end:
            if cond():
                return True
            time.sleep(step)
        return cond()

    def start_tracker(self):
        """A fresh opentracker; (process, None) or (process, why not)."""
        d = os.path.join(self.work, 'tracker')
        p = subprocess.Popen(self.cmd('TRA', [
            'opentracker', '-i', self.t['addr']['TRA'], '-p', '6969',
            '-P', '6969', '-d', d, '-w', 'whitelist.txt']), cwd=d,
            stdout=subprocess.DEVNULL, stderr=self.log('tracker.log'))
        if not self.wait(lambda: self.listening('TRA', 6969), 30):
            return p, 'tracker did not start (not listening; exit %s)' % (
                p.poll())
        if not self.wait(self.whitelist_loaded, 20, 0.3):
            return p, 'tracker did not start (whitelist probe from RT2 ' \
                'failed: %s)' % self.probe_res
        return p, None

    def whitelist_loaded(self):
        """opentracker loads its whitelist in a thread after it started
        listening: until then it refuses every torrent.  The probe
        announces (a stopped event is not checked), then leaves."""
        res = None
        for stopped in (False, True):
            self.cmd_no += 1
            res = self.ask('RT2', {
                'op': 'peers', 'url': self.tracker, 'stopped': stopped,
                'torrent': self.torrents['TestCaenF1'],
                'out': os.path.join(self.work, 'agent', 'wl-%d.json'
                                    % self.cmd_no)}, 30)
            self.probe_res = res
            if not isinstance(res, list):
                return False
        return True

    def start_server(self, log):
        p = subprocess.Popen(self.cmd('S', [
            PY, os.path.join(HERE, 'bt_tools.py'), 'serve',
            self.t['addr']['S'], '8000', log]),
            stdout=subprocess.DEVNULL, stderr=self.log('S.log'))
        ok = self.wait(lambda: self.listening('S', 8000), 90)
        return p, ok

    def start_agents(self):
        """One bt_client.py agent per host, for the whole campaign."""
        self.agents = {}
        self.cmd_no = 0
        self.restarts = []
        for host in ('T1', 'T2', 'RT1', 'RT2'):
            self.start_agent(host)

    def start_agent(self, host):
        d = os.path.join(self.work, 'agent', host)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        self.agents[host] = (d, subprocess.Popen(
            self.cmd(host, [PY, os.path.join(HERE, 'bt_client.py'),
                            '--agent', d]),
            stdout=subprocess.DEVNULL, stderr=self.log(host + '.log')))

    def restart_agent(self, host, why):
        """HOST's agent did not answer: its Python stack (faulthandler,
        SIGUSR1) into its log, the processes and the kernel log into
        ps.log, then a fresh agent (its pending commands dropped)."""
        d, p = self.agents[host]
        diag('  agent %s did not answer (%s): restarted; its stack is in '
             'build/testbed/logs/%s.log' % (host, why, host))
        self.restarts.append('run %d: %s (%s)' % (self.run_no, host, why))
        with self.log('ps.log') as f:
            f.write('--- %s: %s, run %d\n' % (host, why, self.run_no))
            f.flush()
            subprocess.run(['ps', '-eo',
                            'pid,ppid,stat,etime,rss,wchan:20,args'],
                           stdout=f, stderr=f)
            subprocess.run(['sh', '-c', 'dmesg | tail -n 30; free -m'],
                           stdout=f, stderr=f)
        if p.poll() is None:
            p.send_signal(signal.SIGUSR1)
            time.sleep(1)
            p.kill()
            p.wait()
        else:
            diag('  agent %s had exited with status %s' % (host,
                                                          p.returncode))
            self.backtrace(host, p.pid)
        self.start_agent(host)

    def backtrace(self, host, pid):
        """The native stack of every thread of HOST's agent, which crashed
        (a crash inside libtorrent leaves no Python frame to show), from
        its core (guest-testbed.sh sets the core pattern) into its log;
        the core is removed."""
        core = os.path.join(self.logs, 'core.%d' % pid)
        if not os.path.exists(core):
            return
        with self.log(host + '.log') as f:
            f.write('--- native stacks of pid %d, from its core\n' % pid)
            f.flush()
            if shutil.which('gdb'):
                subprocess.run(['timeout', '300', 'gdb', '-batch', '-nx',
                                '-ex', 'thread apply all bt 24', PY, core],
                               stdout=f, stderr=subprocess.STDOUT)
            else:
                f.write('(no gdb to read it)\n')
        os.remove(core)
        diag('  its native stacks are in build/testbed/logs/%s.log' % host)

    def stop_agents(self):
        for host, (d, p) in self.agents.items():
            open(os.path.join(d, 'quit'), 'w').close()
        for host, (d, p) in self.agents.items():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def send(self, host, cmd):
        """Hands CMD to HOST's agent."""
        self.cmd_no += 1
        d = self.agents[host][0]
        path = os.path.join(d, 'cmd-%06d.json' % self.cmd_no)
        with open(path + '.tmp', 'w') as f:
            json.dump(cmd, f)
        os.rename(path + '.tmp', path)

    def result(self, path, secs, host=None):
        """The JSON an agent writes to PATH, waiting up to SECS (less when
        HOST's agent died)."""
        def dead():
            return host is not None and \
                self.agents[host][1].poll() is not None
        self.wait(lambda: os.path.exists(path) or dead(), secs, 0.1)
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def ask(self, host, cmd, secs=60):
        self.send(host, cmd)
        res = self.result(cmd['out'], secs, host)
        if res is None:
            self.restart_agent(host, '%s: no answer in %d s'
                               % (cmd['op'], secs))
        return res

    def new_dir(self):
        self.run_no += 1
        rdir = os.path.join(self.work, 'runs', '%03d' % self.run_no)
        os.makedirs(rdir)
        return rdir

    @staticmethod
    def received(rdir, hosts):
        """Bytes the HOSTS of the run in RDIR received so far."""
        total = 0
        for host in hosts:
            try:
                with open(os.path.join(rdir, host + '.progress')) as f:
                    total += int(json.load(f))
            except (OSError, ValueError):
                pass
        return total

    def wait_moving(self, cond, rdir, hosts, idle, cap):
        """Waits for COND while the HOSTS keep receiving: False once no
        byte arrived for IDLE seconds, after CAP seconds, or as soon as
        one of their agents died."""
        start = moved = time.time()
        last = 0
        while time.time() < start + cap:
            if cond():
                return True
            if any(self.agents[h][1].poll() is not None for h in hosts):
                break
            n = self.received(rdir, hosts)
            if n != last:
                last, moved = n, time.time()
            elif time.time() - moved > idle:
                break
            time.sleep(0.25)
        return cond()

    @staticmethod
    def stop(p):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    # ------------------------------------------------------- clients

    def run(self, label, allow, clients, need, idle, delays=None):
        """One run: fresh tracker, CLIENTS = {host: {"seed": [names],
        "leech": [names], "no_unchoke": bool, "introduce": [hosts]}}.
        Seeds start first; once each got a tracker reply, the downloads
        start (DELAYS {(host, name): seconds} after that), and the run lasts
        until every (host, torrent) of NEED is complete, or no client has
        received a byte for IDLE seconds (a stalled run: e.g. a terminal
        that never dials its sibling), or for at most max(3 IDLE, 120) s.
        A run is ended by what it does, not by the clock: on a loaded host
        a download may take several times as long and still be a pass.
        Returns the evidence of every host."""
        rdir = self.new_dir()
        delays = delays or {}
        cap = max(3 * idle, 120)
        tracker, err = self.start_tracker()
        if err:
            self.stop(tracker)
            return {'error': err}
        stop = os.path.join(rdir, 'stop')
        go = os.path.join(rdir, 'go')
        t0 = time.time()
        for host, c in clients.items():
            save = os.path.join(rdir, host)
            os.makedirs(save)
            specs = []
            for name in c.get('seed', []):
                specs.append({'torrent': self.torrents[name],
                              'save': self.data_dir(host), 'seed': True})
            for name in c.get('leech', []):
                specs.append({'torrent': self.torrents[name], 'save': save,
                              'seed': False,
                              'delay': delays.get((host, name), 0)})
            cfg = {
                'name': host, 'listen': self.listen(host),
                'allow_same_ip': allow, 'upload_limit': self.rate,
                'no_unchoke': bool(c.get('no_unchoke')),
                'torrents': specs,
                'introduce': [self.public(h)
                              for h in c.get('introduce', [])],
                'stop': stop, 'go': go,
                'ready': os.path.join(rdir, host + '.ready'),
                'done': os.path.join(rdir, host + '.done'),
                'progress': os.path.join(rdir, host + '.progress'),
                'out': os.path.join(rdir, host + '.json'),
                'timeout': cap + 120,
            }
            self.send(host, {'op': 'bt', 'cfg': cfg})

        def ready():
            return all(os.path.exists(os.path.join(rdir, h + '.ready'))
                       for h in clients)

        def complete():
            for host, name in need:
                try:
                    with open(os.path.join(rdir, host + '.done')) as f:
                        if name not in json.load(f):
                            return False
                except (OSError, ValueError):
                    return False
            return True
        announced = self.wait(ready, 60, 0.2)
        not_ready = [h for h in clients if not os.path.exists(
            os.path.join(rdir, h + '.ready'))]
        t_go = time.time()
        open(go, 'w').close()
        finished = self.wait_moving(complete, rdir, clients, idle, cap)
        open(stop, 'w').close()
        ev = {}
        for host in clients:
            e = self.result(os.path.join(rdir, host + '.json'), 60, host)
            if e is None:
                self.restart_agent(host, 'bt: no evidence')
            ev[host] = e if e is not None else {'error': 'no evidence'}
        self.stop(tracker)
        secs = time.time() - t0
        diag('  run %d %s (%s): %s%s, %.1f s after the seeds announced, '
             '%.1f s in all' % (
                 self.run_no, label, 'TRUE' if allow else 'FALSE',
                 'complete' if finished else 'INCOMPLETE',
                 '' if announced else ' (no tracker reply for the seeds '
                 'of %s)' % '+'.join(not_ready),
                 time.time() - t_go, secs))
        return {'ev': ev, 't0': t_go, 'finished': finished, 'secs': secs,
                'dir': rdir}

    # ------------------------------------------------------- evidence

    def tev(self, r, host, name):
        """Evidence of HOST's torrent NAME in run R (or {})."""
        return r['ev'].get(host, {}).get('torrents', {}).get(name, {})

    def recv_by(self, r, host, name):
        """{source name: bytes} HOST received for NAME."""
        out = {}
        for e, v in self.tev(r, host, name).get('recv', {}).items():
            src = self.name_of(e)
            out[src] = out.get(src, 0) + v['bytes']
        return out

    def window(self, r, host, name, src=None):
        """(first, last) block time HOST got for NAME (from SRC)."""
        first = last = None
        for e, v in self.tev(r, host, name).get('recv', {}).items():
            if src is not None and self.name_of(e) != src:
                continue
            first = v['first'] if first is None else min(first, v['first'])
            last = v['last'] if last is None else max(last, v['last'])
        return first, last

    def done_at(self, r, host, name):
        c = self.tev(r, host, name).get('completed')
        return None if c is None else c - r['t0']

    def peak(self, r, host, name):
        """Peak simultaneous connections from the shared address that HOST
        held for NAME, and which terminals they were."""
        ev = self.tev(r, host, name)
        n = ev.get('peak', {}).get(self.shared, 0)
        who = [self.name_of(e)
               for e in ev.get('peak_eps', {}).get(self.shared, [])]
        return n, who

    def refused(self, r, host):
        """Incoming connections from the shared address at HOST that never
        became a peer connection (libtorrent's silent duplicate-IP refusal),
        by terminal."""
        ev = r['ev'].get(host, {})
        accepted = set()
        for t in ev.get('torrents', {}).values():
            for _, e in t.get('connected', []):
                accepted.add(e)
        out = {}
        for _, e in ev.get('incoming', []):
            if e.startswith(self.shared + ':') and e not in accepted:
                who = self.name_of(e)
                out[who] = out.get(who, 0) + 1
        return out

    def closed_by(self, r, host, name, remote):
        ev = self.tev(r, host, name)
        return sum(n for e, n in ev.get('closed_by_remote', {}).items()
                   if self.name_of(e) == remote)

    def fmt_recv(self, r, host, name):
        rb = self.recv_by(r, host, name)
        if not rb:
            return 'nothing'
        return ', '.join('%s %s' % (k, kib(v)) for k, v in sorted(rb.items()))

    def fmt_done(self, r, host, name):
        d = self.done_at(r, host, name)
        return 'not done' if d is None else 'done %.1f s' % d


def overlap(a, b):
    return (a[0] is not None and b[0] is not None and
            a[0] < b[1] and b[0] < a[1])


# ----------------------------------------------------------- the tests
#
# Each returns (observed, evidence, ok, extra): OBSERVED a short verdict
# text, EVIDENCE the figures behind it, OK whether it matches the draft's
# verdict for the configuration (the assertion), EXTRA a dict for the
# report.

def tracker_peers(bed, name, rdir):
    """The tracker's peer list for NAME, asked from RT2."""
    bed.cmd_no += 1
    res = bed.ask('RT2', {'op': 'peers', 'url': bed.tracker,
                          'torrent': bed.torrents[name],
                          'out': os.path.join(rdir, 'peers-%d.json'
                                              % bed.cmd_no)})
    return res if isinstance(res, list) else []


def test_1(bed, allow):
    """T1 and T2 seed TestCaenF1 through the same tracker; its peer list
    (asked from RT2) must list both, each at its own public endpoint, and
    both clients must have had tracker replies and no tracker error."""
    want = sorted([bed.public('T1'), bed.public('T2')])
    return test_1_list(bed, allow, want, [])


def test_1_list(bed, allow, want, listed):
    name = 'TestCaenF1'
    rdir = bed.new_dir()
    tracker, err = bed.start_tracker()
    if err:
        bed.stop(tracker)
        return 'error', err, False, {}
    stop = os.path.join(rdir, 'stop')
    for host in ('T1', 'T2'):
        bed.send(host, {'op': 'bt', 'cfg': {
            'name': host, 'listen': bed.listen(host),
            'allow_same_ip': allow, 'upload_limit': bed.rate,
            'torrents': [{'torrent': bed.torrents[name],
                          'save': bed.data_dir(host), 'seed': True}],
            'stop': stop, 'go': os.path.join(rdir, 'go'),
            'ready': os.path.join(rdir, host + '.ready'),
            'done': os.path.join(rdir, host + '.done'),
            'out': os.path.join(rdir, host + '.json'), 'timeout': 120}})

    def both_listed():
        listed[:] = tracker_peers(bed, name, rdir)
        return all(w in listed for w in want)
    seen = bed.wait(both_listed, 40, 0.5)
    open(stop, 'w').close()
    ev = {}
    for host in ('T1', 'T2'):
        ev[host] = bed.result(os.path.join(rdir, host + '.json'), 60, host)
        if ev[host] is None:
            bed.restart_agent(host, 'bt: no evidence')
            ev[host] = {}
    bed.stop(tracker)
    tor = {h: ev[h].get('torrents', {}).get(name, {}) for h in ev}
    replies = {h: len(tor[h].get('tracker_replies', [])) for h in tor}
    errors = {h: tor[h].get('tracker_errors', []) for h in tor}
    nerr = sum(len(v) for v in errors.values())
    ok = seen and all(replies.get(h, 0) > 0 for h in ('T1', 'T2')) and \
        not nerr
    diag('  run %d Test_1: %s' % (bed.run_no, 'both listed' if seen else
                                  'NOT both listed'))
    evidence = 'tracker lists %s; tracker replies T1 %d, T2 %d; ' \
        'tracker errors %d%s' % (
            ', '.join('%s (%s)' % (e, bed.name_of(e)) for e in listed) or
            'nothing', replies.get('T1', 0), replies.get('T2', 0), nerr,
            (' (%s)' % '; '.join(m for v in errors.values() for _, m in v))
            if nerr else '')
    return ('OK' if ok else 'FAILED'), evidence, ok, {}


def upload_from(bed, host, name, rdir):
    """HOST makes a .torrent of its file NAME and uploads it to S."""
    res = bed.ask(host, {
        'op': 'upload', 'file': os.path.join(bed.data_dir(host), name),
        'tracker': bed.tracker, 'url': bed.server + '/upload',
        'torrent': os.path.join(rdir, '%s-%s.torrent' % (host, name)),
        'out': os.path.join(rdir, '%s-%s.json' % (host, name))})
    return res or {'status': None}


def uploads(bed, files):
    """Empties S, then each (host, file) of FILES uploads in turn.
    Returns {host: {"status", "infohash"}} and S's log of the uploads."""
    rdir = bed.new_dir()
    log = bed.server_log
    start = os.path.getsize(log) if os.path.exists(log) else 0
    bed.ask('RT2', {'op': 'post', 'url': bed.server + '/reset',
                    'out': os.path.join(rdir, 'reset.json')})
    res = {h: upload_from(bed, h, n, rdir) for h, n in files}
    seen = []
    with open(log) as f:
        f.seek(start)
        for line in f:
            e = json.loads(line)
            if e['path'] == '/upload':
                seen.append('%s from %s:%d' % (
                    e['status'], bed.name_of('%s:%d' % (e['client'],
                                                        e['port'])),
                    e['port']))
    return res, seen


def test_2(bed, allow):
    res, seen = uploads(bed, [('T1', 'TestCaenFa'), ('T2', 'TestCaenFb')])
    ok = res['T1']['status'] == 201 and res['T2']['status'] == 201
    ev = 'HTTP T1 (Fa) %s, T2 (Fb) %s; S saw: %s' % (
        res['T1']['status'], res['T2']['status'], '; '.join(seen))
    return ('OK: both uploads accepted' if ok else 'FAILED'), ev, ok, {}


def test_3(bed, allow):
    res, seen = uploads(bed, [('T1', 'TestCaenF1'), ('T2', 'TestCaenF1')])
    st = (res['T1']['status'], res['T2']['status'])
    same = res['T1'].get('infohash') == res['T2'].get('infohash')
    ok = sorted(st, key=str) == [201, 409] and same
    ev = 'HTTP T1 %s, T2 %s, same info-hash %s; S saw: %s' % (
        st[0], st[1], 'yes' if same else 'no', '; '.join(seen))
    obs = 'only one upload accepted (409 for the other)' if ok else \
        'uploads %s/%s' % st
    return obs, ev, ok, {}


def t4_scenario(bed, allow, sc, intro):
    """Test_4 scenario SC (1: T1 gets Fb from T2, 2: T2 gets Fa from T1,
    3: both at once); INTRO: each terminal introduced to its sibling."""
    c = {'T1': {'seed': ['TestCaenFa']}, 'T2': {'seed': ['TestCaenFb']}}
    need = []
    if sc in (1, 3):
        c['T1']['leech'] = ['TestCaenFb']
        need.append(('T1', 'TestCaenFb'))
    if sc in (2, 3):
        c['T2']['leech'] = ['TestCaenFa']
        need.append(('T2', 'TestCaenFa'))
    if intro:
        c['T1']['introduce'] = ['T2']
        c['T2']['introduce'] = ['T1']
    # The second download starts 1 s after the first, so that the tracker
    # already lists the first (its announce interval is 30 min).
    r = bed.run('Test_4.%d%s' % (sc, ' intro' if intro else ''), allow, c,
                need, 20, delays={('T2', 'TestCaenFa'): 1 if sc == 3 else 0})
    if 'error' in r:
        return False, r['error']
    parts = []
    ok = True
    for host, name, sib in (('T1', 'TestCaenFb', 'T2'),
                            ('T2', 'TestCaenFa', 'T1')):
        if (host, name) not in need:
            continue
        got = bed.recv_by(r, host, name).get(sib, 0)
        done = bed.done_at(r, host, name) is not None
        ok = ok and done and got == bed.size
        parts.append('%s got %s %s from %s, %s' % (
            host, name[-2:], kib(got), sib, bed.fmt_done(r, host, name)))
    return ok, '; '.join(parts)


def test_4(bed, allow, intro=False, repeat=0):
    results = []
    for sc in (1, 2, 3):
        results.append((sc, ) + t4_scenario(bed, allow, sc, intro))
    for _ in range(repeat):
        results.append((3, ) + t4_scenario(bed, allow, 3, intro))
    n_ok = sum(1 for _, ok, _ in results if ok)
    ok = n_ok == len(results)
    ev = ' | '.join('(%d) %s%s' % (sc, '' if k else 'FAILED: ', e)
                    for sc, k, e in results)
    obs = 'OK' if ok else 'FAILED in %d of %d scenario runs' % (
        len(results) - n_ok, len(results))
    return obs, ev, ok, {'runs': len(results), 'ok_runs': n_ok}


def test_5(bed, allow):
    r = bed.run('Test_5', allow, {
        'T1': {'leech': ['TestCaenFRTa']}, 'T2': {'leech': ['TestCaenFRTb']},
        'RT1': {'seed': ['TestCaenFRTa']}, 'RT2': {'seed': ['TestCaenFRTb']}},
        [('T1', 'TestCaenFRTa'), ('T2', 'TestCaenFRTb')], 40)
    if 'error' in r:
        return 'error', r['error'], False, {}
    w1 = bed.window(r, 'T1', 'TestCaenFRTa')
    w2 = bed.window(r, 'T2', 'TestCaenFRTb')
    done = all(bed.done_at(r, h, n) is not None for h, n in
               (('T1', 'TestCaenFRTa'), ('T2', 'TestCaenFRTb')))
    ok = done and overlap(w1, w2)
    ev = 'T1 FRTa: %s, %s; T2 FRTb: %s, %s; downloads overlap: %s' % (
        bed.fmt_recv(r, 'T1', 'TestCaenFRTa'),
        bed.fmt_done(r, 'T1', 'TestCaenFRTa'),
        bed.fmt_recv(r, 'T2', 'TestCaenFRTb'),
        bed.fmt_done(r, 'T2', 'TestCaenFRTb'),
        'yes' if overlap(w1, w2) else 'no')
    return ('OK' if ok else 'FAILED'), ev, ok, {}


def peaks_text(bed, r, hosts, name):
    out = []
    for h in hosts:
        n, who = bed.peak(r, h, name)
        out.append('%s peak %d (%s)' % (h, n, '+'.join(who) or '-'))
    return ', '.join(out)


def test_6(bed, allow):
    name = 'TestCaenFRT1'
    r = bed.run('Test_6', allow, {
        'T1': {'leech': [name]}, 'T2': {'leech': [name]},
        'RT1': {'seed': [name]}, 'RT2': {'seed': [name]}},
        [('T1', name), ('T2', name)], 35, delays={('T2', name): 1})
    if 'error' in r:
        return 'error', r['error'], False, {}
    done = all(bed.done_at(r, h, name) is not None for h in ('T1', 'T2'))
    pk = [bed.peak(r, h, name)[0] for h in ('RT1', 'RT2')]
    sib = bed.recv_by(r, 'T1', name).get('T2', 0) + \
        bed.recv_by(r, 'T2', name).get('T1', 0)
    ev = 'T1: %s, %s; T2: %s, %s; %s; T1<->T2 exchanged %s' % (
        bed.fmt_recv(r, 'T1', name), bed.fmt_done(r, 'T1', name),
        bed.fmt_recv(r, 'T2', name), bed.fmt_done(r, 'T2', name),
        peaks_text(bed, r, ('RT1', 'RT2'), name), kib(sib))
    if allow:
        ok = done
        obs = 'OK' if ok else 'FAILED'
    else:
        ok = done and max(pk) <= 1
        obs = ('OK; RT1 and RT2 each held at most one connection from %s'
               % bed.shared) if ok else 'FAILED'
        if ok:
            obs += '; sibling exchange %s' % ('seen' if sib else 'not seen')
    return obs, ev, ok, {'peak': max(pk), 'sibling': sib}


def t7_run(bed, allow, intro):
    name = 'TestCaenFRTa'
    c = {'T1': {'leech': [name]}, 'T2': {'leech': [name]},
         'RT1': {'seed': [name]}}
    if intro:
        c['T1']['introduce'] = ['T2']
        c['T2']['introduce'] = ['T1']
    r = bed.run('Test_7%s' % (' intro' if intro else ''), allow, c,
                [('T1', name), ('T2', name)], 80, delays={('T2', name): 1})
    if 'error' in r:
        return None
    f = {}
    f['done'] = all(bed.done_at(r, h, name) is not None for h in ('T1', 'T2'))
    f['peak'], f['peak_who'] = bed.peak(r, 'RT1', name)
    f['from_rt1'] = {h: bed.recv_by(r, h, name).get('RT1', 0)
                     for h in ('T1', 'T2')}
    f['relay'] = {h: bed.recv_by(r, h, name).get(s, 0)
                  for h, s in (('T1', 'T2'), ('T2', 'T1'))}
    f['refused'] = bed.refused(r, 'RT1')
    f['ev'] = 'T1: %s, %s; T2: %s, %s; %s; RT1 refused %s' % (
        bed.fmt_recv(r, 'T1', name), bed.fmt_done(r, 'T1', name),
        bed.fmt_recv(r, 'T2', name), bed.fmt_done(r, 'T2', name),
        peaks_text(bed, r, ('RT1',), name),
        ', '.join('%s %d' % kv for kv in sorted(f['refused'].items()))
        or 'none')
    return f


def test_7(bed, allow, intro=False, repeat=1):
    runs = [t7_run(bed, allow, intro) for _ in range(repeat)]
    if any(f is None for f in runs):
        return 'error', 'run failed', False, {}
    ev = ' | '.join(f['ev'] for f in runs)
    if allow:
        f = runs[0]
        ok = f['done'] and f['peak'] >= 2 and min(f['from_rt1'].values()) > 0
        obs = 'OK: RT1 served both at once' if ok else 'FAILED'
        return obs, ev, ok, {'failed': not ok}
    one = all(f['peak'] <= 1 for f in runs)
    done = all(f['done'] for f in runs)
    relays = sum(1 for f in runs if max(f['relay'].values()) > 0)
    obs = ('fails: RT1 held at most one connection from %s'
           % bed.shared) if one else 'RT1 held %d connections' % max(
        f['peak'] for f in runs)
    obs += '; both completed' if done else '; NOT both completed'
    obs += '; sibling relay in %d of %d runs' % (relays, len(runs))
    ok = one and done and (relays == len(runs) or not intro)
    return obs, ev, ok, {'failed': one, 'runs': len(runs), 'relays': relays}


def test_8(bed, allow):
    a, b = 'TestCaenFRT1', 'TestCaenFRTa'
    r = bed.run('Test_8', allow, {
        'T1': {'leech': [a]}, 'T2': {'leech': [a, b]},
        'RT1': {'seed': [a, b]}}, [('T1', a), ('T2', b)], 60,
        delays={('T2', a): 3, ('T2', b): 3})
    if 'error' in r:
        return 'error', r['error'], False, {}
    t1_done = bed.tev(r, 'T1', a).get('completed')
    first_b = bed.window(r, 'T2', b, 'RT1')[0]
    conc = t1_done is not None and first_b is not None and first_b < t1_done
    got_b = bed.recv_by(r, 'T2', b).get('RT1', 0)
    done_b = bed.done_at(r, 'T2', b) is not None
    ok = conc and done_b
    ev = ('T1 FRT1: %s, %s; T2 FRTa: %s, %s; T2\'s first FRTa block from RT1'
          ' %s T1 completed FRT1; RT1 FRT1 %s; FRTa %s') % (
        bed.fmt_recv(r, 'T1', a), bed.fmt_done(r, 'T1', a),
        bed.fmt_recv(r, 'T2', b), bed.fmt_done(r, 'T2', b),
        'before' if conc else 'NOT before',
        peaks_text(bed, r, ('RT1',), a), peaks_text(bed, r, ('RT1',), b))
    obs = 'succeeded: T2 got FRTa from RT1 (%s) while T1 was downloading ' \
        'FRT1' % kib(got_b) if ok else 'FAILED'
    return obs, ev, ok, {}


def test_9(bed, allow):
    a, b = 'TestCaenFRT1', 'TestCaenFRTa'
    r = bed.run('Test_9', allow, {
        'T1': {'leech': [a]}, 'T2': {'leech': [b]},
        'RT1': {'seed': [a, b]}}, [('T1', a), ('T2', b)], 40)
    if 'error' in r:
        return 'error', r['error'], False, {}
    w1 = bed.window(r, 'T1', a, 'RT1')
    w2 = bed.window(r, 'T2', b, 'RT1')
    done = bed.done_at(r, 'T1', a) is not None and \
        bed.done_at(r, 'T2', b) is not None
    ok = done and overlap(w1, w2)
    ev = 'T1 FRT1: %s, %s; T2 FRTa: %s, %s; from RT1 at the same time: %s' % (
        bed.fmt_recv(r, 'T1', a), bed.fmt_done(r, 'T1', a),
        bed.fmt_recv(r, 'T2', b), bed.fmt_done(r, 'T2', b),
        'yes' if overlap(w1, w2) else 'no')
    return ('OK' if ok else 'FAILED'), ev, ok, {}


def test_10(bed, allow):
    name = 'TestCaenF1'
    r = bed.run('Test_10', allow, {
        'T1': {'seed': [name]}, 'T2': {'seed': [name]},
        'RT1': {'leech': [name]}}, [('RT1', name)], 40)
    if 'error' in r:
        return 'error', r['error'], False, {}
    rb = bed.recv_by(r, 'RT1', name)
    both = overlap(bed.window(r, 'RT1', name, 'T1'),
                   bed.window(r, 'RT1', name, 'T2'))
    pk, who = bed.peak(r, 'RT1', name)
    done = bed.done_at(r, 'RT1', name) is not None
    ev = 'RT1: %s, %s; RT1 peak %d from %s (%s); from T1 and T2 at the ' \
        'same time: %s' % (bed.fmt_recv(r, 'RT1', name),
                           bed.fmt_done(r, 'RT1', name), pk, bed.shared,
                           '+'.join(who) or '-', 'yes' if both else 'no')
    if allow:
        ok = done and both and pk >= 2
        obs = 'OK: RT1 downloaded from T1 and T2 at once' if ok else 'FAILED'
    else:
        ok = done and pk <= 1 and not both
        obs = 'fails: RT1 held one connection from %s, took the file from ' \
            '%s' % (bed.shared, '+'.join(sorted(k for k in rb
                                                if rb[k]))) if ok else \
            'RT1 held %d connections / both at once' % pk
    return obs, ev, ok, {'peak': pk}


def test_11(bed, allow):
    name = 'TestCaenFRTa'
    r = bed.run('Test_11', allow, {
        'T1': {'leech': [name], 'no_unchoke': True}, 'T2': {'leech': [name]},
        'RT1': {'seed': [name]}}, [('T1', name), ('T2', name)], 80,
        delays={('T2', name): 3})
    if 'error' in r:
        return 'error', r['error'], False, {}
    t1 = bed.tev(r, 'T1', name).get('completed')
    first = bed.window(r, 'T2', name, 'RT1')[0]
    t2_done = bed.done_at(r, 'T2', name) is not None
    pk, who = bed.peak(r, 'RT1', name)
    waited = t1 is not None and first is not None and first >= t1 - 0.5
    closed = bed.closed_by(r, 'T2', name, 'RT1')
    ev = 'T1: %s, %s (never unchokes); T2 (starts 3 s later): %s, %s; ' \
        'T2\'s first block from RT1 %s; RT1 peak %d (%s), refused %s; ' \
        'RT1 closed T2\'s connection %d times' % (
            bed.fmt_recv(r, 'T1', name), bed.fmt_done(r, 'T1', name),
            bed.fmt_recv(r, 'T2', name), bed.fmt_done(r, 'T2', name),
            ('%.1f s after T1 completed' % (first - t1)) if
            (first is not None and t1 is not None) else 'n/a',
            pk, '+'.join(who) or '-',
            ', '.join('%s %d' % kv for kv in
                      sorted(bed.refused(r, 'RT1').items())) or 'none',
            closed)
    ok = t2_done and pk <= 1
    obs = 'succeeded: T2 completed %s' % (
        'after T1 was done' if waited else 'while T1 held the slot') \
        if ok else 'FAILED'
    return obs, ev, ok, {}


def test_12(bed, allow):
    a, b = 'TestCaenFa', 'TestCaenFb'
    r = bed.run('Test_12', allow, {
        'T1': {'seed': [a]}, 'T2': {'seed': [b]},
        'RT1': {'leech': [a, b]}}, [('RT1', a), ('RT1', b)], 40)
    if 'error' in r:
        return 'error', r['error'], False, {}
    fa = bed.recv_by(r, 'RT1', a).get('T1', 0)
    fb = bed.recv_by(r, 'RT1', b).get('T2', 0)
    both = overlap(bed.window(r, 'RT1', a, 'T1'),
                   bed.window(r, 'RT1', b, 'T2'))
    ok = fa == bed.size and fb == bed.size and both
    ev = 'RT1 Fa: %s, %s; Fb: %s, %s; at the same time: %s' % (
        bed.fmt_recv(r, 'RT1', a), bed.fmt_done(r, 'RT1', a),
        bed.fmt_recv(r, 'RT1', b), bed.fmt_done(r, 'RT1', b),
        'yes' if both else 'no')
    return ('OK' if ok else 'FAILED'), ev, ok, {}


def not_applicable(why):
    return 'not applicable (%s)' % why, '-', True, {}


# ----------------------------------------------------------- the campaign

class Campaign:
    def __init__(self, bed, repeat, save=None):
        self.bed = bed
        self.repeat = repeat
        self.rows = {True: {}, False: {}}
        self.asserts = []
        self.retries = []
        self.rates = []
        # Writes the outputs so far, after each row (None: do not).
        self.save = save
        # PRR_BT_TESTS (debugging): only these test numbers
        self.only = {int(n) for n in bed.t['tests'].split()}

    def want(self, n):
        return not self.only or n in self.only

    def attempt(self, label, fn, *args, **kw):
        """FN's verdict; a mismatch is retried once (a flaky network event
        must not decide, a wrong verdict repeats)."""
        t0 = time.time()
        obs, ev, ok, extra = fn(self.bed, *args, **kw)
        retry = None
        if not ok:
            diag('  %s: %s -- retrying once' % (label, obs))
            first = (obs, ev)
            obs, ev, ok, extra = fn(self.bed, *args, **kw)
            retry = {'label': label, 'first': first[0],
                     'first_evidence': first[1], 'second': obs,
                     'passed': ok}
            self.retries.append(retry)
        diag('%s: %s (%.0f s)' % (label, obs, time.time() - t0))
        diag('  evidence: ' + ev)
        return obs, ev, ok, extra, retry

    def row(self, allow, n, obs, ev, match, retry=None, note=''):
        self.rows[allow][n] = {'draft': DRAFT[allow][n], 'observed': obs,
                               'evidence': ev, 'match': match,
                               'retry': retry, 'note': note}
        if self.save:
            self.save()  # partial outputs, in case the run is cut short

    def check(self, ok, desc, why=''):
        self.asserts.append(('ok' if ok else 'fail', desc, why))

    def plain(self, allow, n, fn, desc):
        cfg = 'TRUE' if allow else 'FALSE'
        if not self.want(n):
            return True
        obs, ev, ok, _, retry = self.attempt('[%s] Test_%d' % (cfg, n), fn,
                                             allow)
        self.row(allow, n, obs, ev, 'yes' if ok else 'NO', retry)
        self.check(ok, '[%s] Test_%d %s' % (cfg, n, desc),
                   '' if ok else obs + ': ' + ev)
        return ok

    def run_true(self):
        a = True
        self.plain(a, 1, test_1, 'both terminals use the same tracker')
        self.plain(a, 2, test_2, 'both upload distinct torrents to S')
        self.plain(a, 3, test_3, 'S lists only one torrent of the same file')
        self.plain(a, 4, test_4, 'mutual download, three scenarios')
        self.plain(a, 5, test_5, 'distinct files simultaneously')
        self.plain(a, 6, test_6, 'same file from RT1 and RT2')
        if not self.want(7):
            self.plain(a, 9, test_9, 'distinct files from the same seeder')
            self.plain(a, 10, test_10, 'RT1 downloads from T1 and T2 at once')
            self.plain(a, 12, test_12, 'RT1 downloads Fa from T1, Fb from T2')
            return
        obs, ev, ok, extra, retry = self.attempt('[TRUE] Test_7', test_7, a)
        self.row(a, 7, obs, ev, 'yes' if ok else 'NO', retry)
        self.check(ok, '[TRUE] Test_7 RT1 serves T1 and T2 at once',
                   '' if ok else ev)
        failed7 = extra.get('failed', True)
        for n in (8, 11):
            if failed7:
                fn = test_8 if n == 8 else test_11
                self.plain(a, n, fn, 'conditional test (Test_7 failed)')
            else:
                o, e, k, _ = not_applicable('Test_7 passed')
                self.row(a, n, o, e, 'yes')
                self.check(True, '[TRUE] Test_%d not applicable: Test_7 '
                           'passed' % n)
        self.plain(a, 9, test_9, 'distinct files from the same seeder')
        self.plain(a, 10, test_10, 'RT1 downloads from T1 and T2 at once')
        self.plain(a, 12, test_12, 'RT1 downloads Fa from T1, Fb from T2')

    def run_false(self):
        a = False
        self.plain(a, 1, test_1, 'both terminals use the same tracker')
        self.plain(a, 2, test_2, 'both upload distinct torrents to S')
        self.plain(a, 3, test_3, 'S lists only one torrent of the same file')
        if self.want(4):
            self.false_4()
        self.plain(a, 5, test_5, 'distinct files simultaneously')
        self.plain(a, 6, test_6, 'each seeder holds at most one connection '
                   'from the shared address; both complete')
        if self.want(7):
            self.false_7_to_11()
        else:
            self.plain(a, 9, test_9, 'distinct files from the same seeder')
            self.plain(a, 10, test_10, 'RT1 holds at most one connection '
                       'from the shared address')
        self.plain(a, 12, test_12, 'RT1 downloads Fa from T1, Fb from T2')

    def false_4(self):
        a = False
        # Test_4: stock behaviour, reported with its rate, then with the
        # sibling introduced (asserted).
        so, se, sok, sx, _ = self.attempt_once('[FALSE] Test_4 stock',
                                               test_4, a,
                                               repeat=self.repeat)
        io, ie, iok, ix, iretry = self.attempt(
            '[FALSE] Test_4 sibling introduced', test_4, a, intro=True)
        self.check(iok, '[FALSE] Test_4 mutual download with the sibling '
                   'introduced (as peer exchange would)',
                   '' if iok else ie)
        obs = 'stock: %d of %d scenario runs OK; sibling introduced: %s' % (
            sx['ok_runs'], sx['runs'], 'OK' if iok else io)
        self.row(a, 4, obs, 'stock: %s || introduced: %s' % (se, ie),
                 'yes (introduced); stock %d/%d' % (sx['ok_runs'],
                                                     sx['runs'])
                 if iok else 'NO', iretry)
        self.rate('Test_4', sx['ok_runs'], sx['runs'],
                  'stock FALSE: scenario runs where the download completed')

    def false_7_to_11(self):
        a = False
        # Test_7: stock runs (rate of sibling relay), then introduced.
        so, se, sok, sx, sretry = self.attempt(
            '[FALSE] Test_7 stock', test_7, a, repeat=self.repeat + 1)
        self.check(sok, '[FALSE] Test_7 RT1 holds at most one connection '
                   'from the shared address; both complete (stock, %d runs)'
                   % sx.get('runs', 0), '' if sok else se)
        io, ie, iok, ix, iretry = self.attempt(
            '[FALSE] Test_7 sibling introduced', test_7, a, intro=True)
        relay = iok
        self.check(relay, '[FALSE] Test_7 with the sibling introduced: at '
                   'most one connection at RT1, the waiting terminal gets '
                   'pieces from its sibling', '' if relay else ie)
        self.rate('Test_7', sx.get('relays', 0), sx.get('runs', 0),
                  'stock FALSE: runs with sibling relay')
        obs = '%s; sibling introduced: relay %s' % (
            so, 'seen' if relay else 'NOT seen')
        self.row(a, 7, obs, 'stock: %s || introduced: %s' % (se, ie),
                 'yes (introduced); stock relay %d/%d' % (
                     sx.get('relays', 0), sx.get('runs', 0))
                 if sok and relay else 'NO', sretry or iretry)
        failed7 = sx.get('failed', False)
        if failed7:
            self.plain(a, 8, test_8, 'conditional (Test_7 failed): a '
                       'different file from RT1 meanwhile')
        else:
            o, e, k, _ = not_applicable('Test_7 passed')
            self.row(a, 8, o, e, 'NO')
            self.check(False, '[FALSE] Test_8 runs (Test_7 failed)',
                       'Test_7 unexpectedly passed')
        self.plain(a, 9, test_9, 'distinct files from the same seeder')
        self.plain(a, 10, test_10, 'RT1 holds at most one connection from '
                   'the shared address')
        if failed7:
            self.plain(a, 11, test_11, 'conditional (Test_7 failed): the '
                       'waiting terminal completes')
        else:
            o, e, k, _ = not_applicable('Test_7 passed')
            self.row(a, 11, o, e, 'NO')
            self.check(False, '[FALSE] Test_11 runs (Test_7 failed)',
                       'Test_7 unexpectedly passed')

    def attempt_once(self, label, fn, *args, **kw):
        t0 = time.time()
        obs, ev, ok, extra = fn(self.bed, *args, **kw)
        diag('%s: %s (%.0f s)' % (label, obs, time.time() - t0))
        diag('  evidence: ' + ev)
        return obs, ev, ok, extra, None

    def rate(self, test, k, n, what):
        self.rates.append((test, k, n, what))
        diag('rate %s: %d of %d (%s)' % (test, k, n, what))


# ----------------------------------------------------------- the report

def table_text(rows, allow):
    if not rows:
        return ''
    lines = ['bt.allow_same_ip = %s (draft section %s)' % (
        'TRUE' if allow else 'FALSE', '5.1' if allow else '5.2')]
    for n in range(1, 13):
        if n not in rows:
            continue
        r = rows[n]
        lines.append('Test_%-2d match: %s%s' % (
            n, r['match'], ' (after a retry)' if r['retry'] else ''))
        lines.append('   draft:    ' + r['draft'])
        lines.append('   observed: ' + r['observed'])
        lines.append('   evidence: ' + r['evidence'])
    return '\n'.join(lines)


def md_cell(text):
    return str(text).replace('|', '\\|').replace('\n', ' ')


def table_md(rows, allow):
    out = ['| Test | Title | Draft | Observed here | Evidence | Match |',
           '| --- | --- | --- | --- | --- | --- |']
    for n in range(1, 13):
        if n not in rows:
            continue
        r = rows[n]
        m = r['match'] + (' (retried once)' if r['retry'] else '')
        out.append('| Test_%d | %s | %s | %s | %s | %s |' % (
            n, TITLES[n], md_cell(r['draft']), md_cell(r['observed']),
            md_cell(r['evidence']), md_cell(m)))
    return '\n'.join(out)


def write_report(bed, camp, topo, wall):
    versions = topo['versions']
    lines = [
        '# Reproduction of the seed draft\'s BitTorrent tests',
        '',
        'Generated by `make testbed` (selftests/testbed/); do not edit.',
        '',
        '- Date: %s' % time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
        '- Kernel: %s (QEMU/TCG guest)' % topo['krel'],
        '- prr module: %s' % topo.get('module', '?'),
        '- libtorrent-rasterbar (python3-libtorrent): %s' % versions['lt'],
        '- opentracker: %s' % versions['ot'],
        '- Files: %d KiB each, 32 KiB pieces; upload limit %d KiB/s on every '
        'client; TCP only; DHT, LSD, UPnP, NAT-PMP off; '
        'min_reconnect_time 2 s' % (bed.size // 1024, bed.rate // 1024),
        '- Wall time of the campaign (both configurations, inside the VM): '
        '%.0f s' % wall,
        '',
        'Testbed (network namespaces): T1 (192.168.1.2) behind CPE-1, T2 '
        '(192.168.2.2) behind CPE-2, both CPEs holding %s with prr\'s CPE '
        'role (port-set NAT, hairpin through the PRR); the PRR runs prr; '
        'RT1 %s, RT2 %s, the tracker TRA %s (opentracker) and the torrent '
        'index S %s on the Internet side (RFC 5737 addresses).' % (
            bed.shared, topo['addr']['RT1'], topo['addr']['RT2'],
            topo['addr']['TRA'], topo['addr']['S']),
        '',
        'Port sets: CPE-1 %s (contiguous: 1024-32767); CPE-2 %s '
        '(non-contiguous mask: 16 blocks of 1024 ports from 32768); ports '
        '0-1023 and 0x8400/0x8400 are not given to either CPE (the PRR '
        'drops them). T1 listens on %d, T2 on %d, each forwarded 1:1 by '
        'its CPE. Endpoints of %s are mapped to T1/T2 by these sets, the '
        'way the PRR routes them.' % (
            ' '.join('0x%04x/0x%04x' % tuple(s) for s in topo['sets']['T1']),
            ' '.join('0x%04x/0x%04x' % tuple(s) for s in topo['sets']['T2']),
            topo['port']['T1'], topo['port']['T2'], bed.shared),
        '',
        'libtorrent\'s `allow_multiple_connections_per_ip` stands for '
        'uTorrent\'s `bt.allow_same_ip`, set alike on every client. Verdicts '
        'are computed from the clients\' evidence: bytes received per remote '
        'endpoint (block_finished_alert), the peak number of simultaneous '
        'established connections from %s per torrent at each remote peer '
        '(peer list polled every 0.25 s), incoming connections refused, '
        'completion times, the tracker\'s peer list, HTTP status of the '
        'uploads. Every run has a fresh tracker and fresh libtorrent '
        'sessions; the seeds start first, the downloads once every seed '
        'got its tracker reply (times are seconds since then); where two '
        'terminals download "at the same time" the second starts 1 s '
        'after the first, so that the tracker already lists the first '
        '(its announce interval is 30 minutes: two simultaneous first '
        'announces would not learn of each other). A run ends when its '
        'downloads are complete, or when no client received a byte for a '
        'while (20 s in Test_4, where a terminal that never dials its '
        'sibling is the failure to see; 35-80 s elsewhere), or at the '
        'latest after three such whiles (120 s at least), so a loaded host '
        'makes a run slower rather than failing it.'
        % bed.shared,
        '',
        '## Section 5.1: bt.allow_same_ip TRUE',
        '',
        table_md(camp.rows[True], True),
        '',
        '## Section 5.2: bt.allow_same_ip FALSE',
        '',
        table_md(camp.rows[False], False),
        '',
        '## Stock behaviour and sibling introduction (FALSE)',
        '',
        'With FALSE, libtorrent keeps one peer-list entry per IP address, '
        'and the tracker also returns the announcing peer itself: a '
        'terminal\'s only entry for %s may be its own endpoint, so it may '
        'never dial its sibling (no sibling relay in stock Test_7; the '
        'Test_4 downloads still complete when the other side dials). The '
        'draft saw no such failure with uTorrent. The table reports both: '
        'the verdict with stock behaviour and its rate over several runs '
        '(asserted only where the draft\'s verdict does not depend on it), '
        'and the variant the draft\'s conclusion describes, where the '
        'terminals find each other (each is given its sibling\'s public '
        'endpoint with connect_peer() every 2 s while it has no connection '
        'from that address, as peer exchange would).' % bed.shared,
        '',
    ]
    for test, k, n, what in camp.rates:
        lines.append('- %s, %s: %d of %d' % (test, what, k, n))
    lines += ['', '## Retries', '']
    if camp.retries:
        for r in camp.retries:
            lines.append('- %s: first attempt "%s" (%s); retry: "%s" (%s)' % (
                r['label'], r['first'], r['first_evidence'], r['second'],
                'passed' if r['passed'] else 'failed again'))
    else:
        lines.append('None.')
    lines += ['', '## Agent restarts', '',
              'A client agent that does not answer is restarted (its Python '
              'stack is logged in build/testbed/logs/).', '']
    lines += ['- ' + r for r in bed.restarts] or ['None.']
    lines.append('')
    with open(topo['doc'], 'w') as f:
        f.write('\n'.join(lines))


def tool_versions():
    import libtorrent as lt
    ot = subprocess.run(['dpkg-query', '-W', '-f', '${Version}',
                         'opentracker'], capture_output=True, text=True)
    return {'lt': lt.__version__, 'ot': ot.stdout.strip() or '?'}


def main():
    # The agents import bt_tools.py: no __pycache__ in the checkout.
    os.environ['PYTHONDONTWRITEBYTECODE'] = '1'
    with open(sys.argv[1]) as f:
        topo = json.load(f)
    repeat = int(topo['repeat'])
    bed = Bed(topo)
    os.makedirs(bed.out, exist_ok=True)
    shutil.rmtree(os.path.join(bed.work, 'runs'), ignore_errors=True)
    t0 = time.time()
    bed.prepare()
    topo['versions'] = tool_versions()
    bed.start_agents()
    bed.server_log = os.path.join(bed.work, 's.log')
    server, ok = bed.start_server(bed.server_log)
    if not ok:
        diag('server S did not start')
    camp = Campaign(bed, repeat,
                    lambda: write_outputs(bed, camp, topo, time.time() - t0))
    configs = topo['configs'].split()
    if 'TRUE' in configs:
        diag('campaign: bt.allow_same_ip TRUE')
        camp.run_true()
        write_outputs(bed, camp, topo, time.time() - t0)
    if 'FALSE' in configs:
        diag('campaign: bt.allow_same_ip FALSE')
        camp.run_false()
    bed.stop_agents()
    bed.stop(server)
    wall = time.time() - t0
    diag('campaign wall time: %.0f s' % wall)
    write_outputs(bed, camp, topo, wall)


def write_outputs(bed, camp, topo, wall):
    """The report, the tables, the assertions, the results (also after the
    first configuration, so that a run cut short leaves them)."""
    write_report(bed, camp, topo, wall)
    with open(os.path.join(bed.out, 'tables.txt'), 'w') as f:
        f.write(table_text(camp.rows[True], True) + '\n\n' +
                table_text(camp.rows[False], False) + '\n')
        for test, k, n, what in camp.rates:
            f.write('rate %s, %s: %d of %d\n' % (test, what, k, n))
        f.write('wall time %.0f s\n' % wall)
    with open(os.path.join(bed.out, 'assertions.tsv'), 'w') as f:
        for st, desc, why in camp.asserts:
            f.write('%s\t%s\t%s\n' % (st, desc, why.replace('\t', ' ')
                                      .replace('\n', ' ')))
        for r in camp.retries:
            f.write('diag\tretried once: %s (first "%s", then "%s")\t\n' % (
                r['label'], r['first'], r['second']))
        for test, k, n, what in camp.rates:
            f.write('diag\trate %s, %s: %d of %d (reported, not asserted)'
                    '\t\n' % (test, what, k, n))
        for r in bed.restarts:
            f.write('diag\tagent restarted: %s\t\n' % r)
        f.write('diag\tcampaign wall time %.0f s\t\n' % wall)
    with open(os.path.join(bed.out, 'results.json'), 'w') as f:
        json.dump({'rows': {str(k): v for k, v in camp.rows.items()},
                   'retries': camp.retries,
                   'rates': camp.rates, 'wall': wall}, f,
                  indent=1)


if __name__ == '__main__':
    main()
