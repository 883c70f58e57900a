#!/usr/bin/env python3
"""Feed simulator: a synthetic population with hidden tastes drives the
real nginx over HTTP.

    sim.py gen    --catalog FILE [world options]
        writes the initial catalog (the clips the server knows at start)

    sim.py run    --port PORT --catalog FILE --out RESULT.json
                  --policy NAME [world and run options]
        runs the population against nginx on 127.0.0.1:PORT: each
        viewer's sessions, interleaved at random with everyone else's,
        fetch pages of /feed, watch every item through the hidden model
        and POST the events after each page; new clips are appended to
        the catalog file at fixed points of the run.  Writes what was
        served, to whom, when, and the true watch ratio of each item.

The report (report.py) turns the results into the table.  The simulator
never reads the server's scores: it uses the manifest's ids, positions
and impression tokens, and the hidden model.
"""

import argparse
import heapq
import http.client
import json
import random
import sys
import time

import world as W


def world_args(ap):
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--clips', type=int, default=3000)
    ap.add_argument('--new-clips', type=int, default=40)
    ap.add_argument('--viewers', type=int, default=1000)


def make_world(a):
    return W.World(seed=a.seed, clips=a.clips, new_clips=a.new_clips,
                   viewers=a.viewers)


def cmd_gen(a):
    w = make_world(a)
    with open(a.catalog, 'w') as f:
        for c in w.clips:
            f.write(W.World.catalog_line(c, c.created) + '\n')
    print('sim.py: %d clips, %d creators, %d viewers, %d clips to upload'
          % (len(w.clips), len({c.creator for c in w.clips}),
             len(w.viewers), len(w.new)), file=sys.stderr)


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = None
        self.requests = 0

    def request(self, method, uri, cookie=None, body=None):
        headers = {'Host': 'localhost'}
        if cookie:
            headers['Cookie'] = cookie
        if body is not None:
            headers['Content-Type'] = 'application/json'
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(
                        '127.0.0.1', self.port, timeout=30)
                self.conn.request(method, uri, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                self.requests += 1
                return resp.status, resp.getheader('Set-Cookie'), data
            except (http.client.HTTPException, OSError):
                if self.conn:
                    self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.2)


def cmd_run(a):
    w = make_world(a)
    rng = random.Random(a.seed * 31 + 7)        # the viewers' dice
    cl = Client(a.port)
    half_life = float(a.trend_half_life)

    # the sessions: each viewer's in order, everyone's interleaved

    order = [v.idx for v in w.viewers for _ in range(a.sessions)]
    random.Random(a.seed * 17 + 3).shuffle(order)
    nsess = len(order)

    # uploads: new clip k when the run is 5% + 55% k / N through

    upload_at = [int(nsess * (0.05 + 0.55 * k / max(1, len(w.new))))
                 for k in range(len(w.new))]
    next_upload = 0
    uploads = {}                    # id -> [wall time, platform impressions]

    cookies = [None] * len(w.viewers)
    served = [[] for _ in w.viewers]          # clip ids, in order
    served_set = [set() for _ in w.viewers]
    items = []      # [viewer, pos, session, page, clip, reason, r, t, imp#]
    sessions = []   # [viewer, session#, t, rising ids, shown rising]
    pages = []      # per page: list of clip ids
    imps = {}       # clip -> impressions seen served
    hit100 = {}     # new clip -> [wall time, platform impressions]
    rising = {}     # clip -> decayed engagement, referred to t0
    t0 = time.time()
    platform = 0
    rejected = 0
    short_pages = 0
    nsess_of = [0] * len(w.viewers)

    for si, vi in enumerate(order):
        while next_upload < len(w.new) and si >= upload_at[next_upload]:
            c = w.new[next_upload]
            now = time.time()
            with open(a.catalog, 'a') as f:
                f.write(W.World.catalog_line(c, int(now)) + '\n')
            uploads[c.id] = [now - t0, platform]
            next_upload += 1

        v = w.viewers[vi]
        now = time.time()

        # the current top-10 rising clips this viewer has not been served

        top = heapq.nlargest(10 + 100, rising.items(), key=lambda kv: kv[1])
        top10 = [cid for cid, s in top if cid not in served_set[vi]][:10]
        shown = 0

        for pg in range(a.pages):
            if a.rate > 0:
                ahead = t0 + len(pages) / a.rate - time.time()
                if ahead > 0:
                    time.sleep(ahead)
            st, setc, body = cl.request('GET', '/feed?n=%d' % a.page_size,
                                        cookie=cookies[vi])
            if st != 200:
                raise SystemExit('sim.py: GET /feed: %d %s' % (st, body[:200]))
            if setc and cookies[vi] is None:
                cookies[vi] = setc.split(';', 1)[0]
            its = json.loads(body)['items']
            if len(its) < a.page_size:
                short_pages += 1
            now = time.time()
            evs = []
            ids = []
            for it in its:
                cid = it['id']
                c = w.by_id.get(cid)
                if c is None:
                    raise SystemExit('sim.py: unknown clip %r served' % cid)
                ev, r = W.World.watch(rng, v, c)
                ev['impression'] = it['impression']
                evs.append(ev)
                ids.append(cid)
                items.append([vi, len(served[vi]), si, len(pages), cid,
                              it.get('reason', ''), round(r, 5),
                              round(now - t0, 3), platform])
                served[vi].append(cid)
                served_set[vi].add(cid)
                platform += 1
                n = imps.get(cid, 0) + 1
                imps[cid] = n
                if n == 100 and cid in uploads and cid not in hit100:
                    hit100[cid] = [now - t0, platform]
                if cid in top10:
                    shown = 1

                # rising: decayed likes, shares and completed views

                eng = (ev['like'] + ev['share']
                       + (ev['watch_ms'] >= 900 * c.duration))
                if eng:
                    rising[cid] = rising.get(cid, 0.0) + eng * 2 ** (
                        (now - t0) / half_life)
            pages.append(ids)

            if evs:
                st, _, body = cl.request(
                    'POST', '/feed/events', cookie=cookies[vi],
                    body=json.dumps({'events': evs}))
                if st != 200:
                    raise SystemExit('sim.py: POST /feed/events: %d %s'
                                     % (st, body[:200]))
                res = json.loads(body)
                rejected += res.get('rejected', 0)

        sessions.append([vi, nsess_of[vi], round(now - t0, 3), top10, shown])
        nsess_of[vi] += 1

        if a.progress and (si + 1) % max(1, nsess // 10) == 0:
            print('sim.py: %s: %d%% (%d sessions, %.0f s)'
                  % (a.policy, 100 * (si + 1) // nsess, si + 1,
                     time.time() - t0), file=sys.stderr)

    elapsed = time.time() - t0

    st, _, body = cl.request('GET', '/metrics')
    metrics = body.decode('utf-8', 'replace') if st == 200 else ''

    out = {
        'policy': a.policy,
        'settings': {k: getattr(a, k) for k in (
            'seed', 'clips', 'new_clips', 'viewers', 'sessions', 'pages',
            'page_size', 'trend_half_life', 'rate')},
        'elapsed': elapsed,
        'requests': cl.requests,
        'rejected_events': rejected,
        'short_pages': short_pages,
        'items': items,
        'sessions': sessions,
        'pages': pages,
        'uploads': uploads,
        'hit100': hit100,
        'metrics': metrics,
    }
    with open(a.out, 'w') as f:
        json.dump(out, f)
    print('sim.py: %s: %d items in %.1f s (%d requests, %.0f/s), '
          '%d events rejected, %d short pages'
          % (a.policy, len(items), elapsed, cl.requests,
             cl.requests / elapsed, rejected, short_pages), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)

    g = sub.add_parser('gen')
    world_args(g)
    g.add_argument('--catalog', required=True)

    r = sub.add_parser('run')
    world_args(r)
    r.add_argument('--port', type=int, required=True)
    r.add_argument('--catalog', required=True)
    r.add_argument('--out', required=True)
    r.add_argument('--policy', required=True)
    r.add_argument('--sessions', type=int, default=4)
    r.add_argument('--pages', type=int, default=3)
    r.add_argument('--page-size', type=int, default=10)
    r.add_argument('--trend-half-life', type=int, default=30)
    r.add_argument('--rate', type=float, default=400,
                   help='pages per second at most (0: as fast as it goes);'
                   ' a fixed pace keeps the server\'s wall-clock parts'
                   ' (trend decay, 1 s refresh) the same from run to run')
    r.add_argument('--progress', action='store_true')

    a = ap.parse_args()
    {'gen': cmd_gen, 'run': cmd_run}[a.cmd](a)


if __name__ == '__main__':
    main()
