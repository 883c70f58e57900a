#!/usr/bin/env python3
"""The feed simulator's report: every metric for each policy's run and
for the oracle, as Markdown.

    report.py [world options] RESULT.json ...

The first result whose policy is "default" (else the first one) is the
policy the targets are checked for; "most-popular" is the baseline of
the 1.3x target.  Everything is computed from what the server served
(ids, order, time) and the hidden model; no server score is read.

Definitions (N = the watched-clips threshold, 50):
  watch ratio        mean true (expected) watch ratio, by the hidden
                     model, of the items served to each viewer after
                     their N-th, pooled over viewers
  oracle             for each viewer, the same number of clips: the best
                     for them by the hidden model among the clips (of the
                     final catalog) not in their first N served items;
                     "vs oracle" is the policy's ratio over this
  oracle column      a policy that serves each viewer their best clips in
                     order: its items after the N-th are ranks N+1..
  new clips          uploaded during the run; impressions counted by the
                     simulator from what was served; time from the
                     append to the 100th impression (median over the
                     clips, a clip that never got there counts as never)
  creator Gini       Gini coefficient of impressions per creator, over
                     every creator with a clip in the final catalog
  coverage           share of the final catalog served at least once
  diversity          intra-list diversity: per page, the mean of
                     1 - cos(latent_i, latent_j) over pairs of items
                     (hidden latent vectors), mean over pages
  rising shown       share of sessions in which at least one of the
                     current top-10 rising clips the viewer had not been
                     served was shown (rising: likes + shares + completed
                     views, decayed with the trend half-life, from all
                     viewers' events so far)
  feed overlap       mean Jaccard index of the sets of clips served to
                     two viewers over the run, over all pairs of viewers
"""

import argparse
import json
import math
import statistics
import sys

import world as W

N = 50


def gini(xs):
    xs = sorted(xs)
    n = len(xs)
    s = sum(xs)
    if n == 0 or s == 0:
        return 0.0
    return sum((2 * i - n + 1) * x for i, x in enumerate(xs)) / (n * s)


def mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs) if xs else float('nan')


def jaccard_mean(sets):
    tot = 0.0
    n = 0
    for i in range(len(sets)):
        a = sets[i]
        for j in range(i + 1, len(sets)):
            b = sets[j]
            inter = len(a & b)
            if inter:
                tot += inter / (len(a) + len(b) - inter)
            n += 1
    return tot / n if n else 0.0


def ild(w, pages):
    vals = []
    for ids in pages:
        xs = [w.by_id[c].x for c in ids]
        if len(xs) < 2:
            continue
        s = 0.0
        k = 0
        for i in range(len(xs)):
            for j in range(i + 1, len(xs)):
                s += 1 - sum(p * q for p, q in zip(xs[i], xs[j]))
                k += 1
        vals.append(s / k)
    return mean(vals)


def top_topic_share(w, served):
    """mean over viewers of the share of their items after the N-th
    that are on the topic they were served most"""
    vals = []
    for ids in served:
        ids = ids[N:]
        if not ids:
            continue
        cnt = {}
        for c in ids:
            t = w.by_id[c].topic
            cnt[t] = cnt.get(t, 0) + 1
        vals.append(max(cnt.values()) / len(ids))
    return mean(vals)


def tastes_reached(w, served):
    """viewers with two or more taste topics of weight >= 0.2: the share
    of those topics they were served at least 3 clips of after the N-th"""
    vals = []
    for v, ids in zip(w.viewers, served):
        want = [t for t, a in zip(v.topics, v.weights) if a >= 0.2]
        if len(want) < 2 or len(ids) <= N:
            continue
        cnt = {}
        for c in ids[N:]:
            t = w.by_id[c].topic
            cnt[t] = cnt.get(t, 0) + 1
        vals.append(sum(cnt.get(t, 0) >= 3 for t in want) / len(want))
    return mean(vals)


def analyse(w, res, ranked):
    nv = len(w.viewers)
    served = [[] for _ in range(nv)]
    rs = [[] for _ in range(nv)]
    reasons = {}
    for vi, pos, si, pg, cid, reason, r, t, plat in res['items']:
        served[vi].append(cid)
        rs[vi].append(r)
        a = reasons.setdefault(reason or '?', [0, 0.0])
        a[0] += 1
        a[1] += r

    catalog = [c.id for c in w.clips] + list(res['uploads'])
    m = {}

    after = [r for vr in rs for r in vr[N:]]
    m['wr_after'] = mean(after)
    m['wr_all'] = mean(r for vr in rs for r in vr)
    m['items_after'] = len(after)

    # the oracle over the same number of items, each viewer's first N
    # excluded

    ovals = []
    for vi in range(nv):
        k = len(rs[vi]) - N
        if k <= 0:
            continue
        first = set(served[vi][:N])
        got = 0
        for r, cid in ranked[vi]:
            if cid in first:
                continue
            ovals.append(r)
            got += 1
            if got == k:
                break
    m['oracle_after'] = mean(ovals)
    m['vs_oracle'] = m['wr_after'] / m['oracle_after']

    # the learning curve: by position bands of 30

    bands = {}
    for vr in rs:
        for p, r in enumerate(vr):
            bands.setdefault(p // 30, []).append(r)
    m['curve'] = [round(mean(bands[b]), 3) for b in sorted(bands)]

    # new clips

    imps = {}
    for vi, pos, si, pg, cid, reason, r, t, plat in res['items']:
        imps[cid] = imps.get(cid, 0) + 1
    up = res['uploads']
    hit = res['hit100']
    m['new_n'] = len(up)
    m['new_reached'] = (sum(1 for c in up if c in hit) / len(up)
                        if up else float('nan'))
    times = sorted((hit[c][0] - up[c][0]) if c in hit else math.inf
                   for c in up)
    plats = sorted((hit[c][1] - up[c][1]) if c in hit else math.inf
                   for c in up)
    m['new_median_s'] = statistics.median(times) if times else math.nan
    m['new_median_imp'] = statistics.median(plats) if plats else math.nan
    m['new_imps'] = sorted(imps.get(c, 0) for c in up)
    m['run_s'] = res['elapsed']
    m['total_imps'] = len(res['items'])

    # creators, coverage, diversity

    per_creator = {}
    for cid in catalog:
        per_creator.setdefault(w.by_id[cid].creator, 0)
    for cid, n in imps.items():
        per_creator[w.by_id[cid].creator] += n
    m['gini'] = gini(per_creator.values())
    m['coverage'] = sum(1 for c in catalog if imps.get(c)) / len(catalog)
    m['ild'] = ild(w, res['pages'])

    # zeitgeist

    sess = [s for s in res['sessions'] if s[3]]
    m['rising'] = mean(s[4] for s in sess)
    byv = {}
    for s in sess:
        byv.setdefault(s[0], []).append(s[4])
    m['rising_all'] = mean(all(x) for x in byv.values())
    m['overlap'] = jaccard_mean([set(s) for s in served])

    m['top_topic'] = top_topic_share(w, served)
    m['tastes'] = tastes_reached(w, served)
    m['reasons'] = {k: (v[0], v[1] / v[0]) for k, v in reasons.items()}
    m['rejected'] = res['rejected_events']
    m['short_pages'] = res['short_pages']
    return m


def analyse_oracle(w, ranked, per_viewer, page_size):
    served = [[cid for r, cid in ranked[vi][:per_viewer]]
              for vi in range(len(w.viewers))]
    m = {}
    after = [r for vi in range(len(w.viewers))
             for r, cid in ranked[vi][N:per_viewer]]
    m['wr_after'] = mean(after)
    m['wr_all'] = mean(r for vi in range(len(w.viewers))
                       for r, cid in ranked[vi][:per_viewer])
    imps = {}
    for ids in served:
        for c in ids:
            imps[c] = imps.get(c, 0) + 1
    catalog = [c.id for c in w.clips] + [c.id for c in w.new]
    per_creator = {}
    for cid in catalog:
        per_creator.setdefault(w.by_id[cid].creator, 0)
    for cid, n in imps.items():
        per_creator[w.by_id[cid].creator] += n
    m['gini'] = gini(per_creator.values())
    m['coverage'] = sum(1 for c in catalog if imps.get(c)) / len(catalog)
    pages = [ids[i:i + page_size] for ids in served
             for i in range(0, len(ids), page_size)]
    m['ild'] = ild(w, pages)
    m['overlap'] = jaccard_mean([set(s) for s in served])
    m['top_topic'] = top_topic_share(w, served)
    m['tastes'] = tastes_reached(w, served)
    m['new_reached'] = sum(1 for c in w.new if imps.get(c.id, 0) >= 100) \
        / max(1, len(w.new))
    return m


def f3(x):
    if isinstance(x, float) and (math.isnan(x)):
        return 'n/a'
    if x == math.inf:
        return 'never'
    return '%.3f' % x


def pct(x):
    if isinstance(x, float) and math.isnan(x):
        return 'n/a'
    return '%.0f%%' % (100 * x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--clips', type=int, default=3000)
    ap.add_argument('--new-clips', type=int, default=40)
    ap.add_argument('--viewers', type=int, default=1000)
    ap.add_argument('results', nargs='+')
    a = ap.parse_args()

    w = W.World(seed=a.seed, clips=a.clips, new_clips=a.new_clips,
                viewers=a.viewers)
    allc = w.clips + w.new
    ranked = []
    for v in w.viewers:
        rl = [(W.World.true_ratio(v, c), c.id) for c in allc]
        rl.sort(reverse=True)
        ranked.append(rl)

    runs = []
    for path in a.results:
        with open(path) as f:
            res = json.load(f)
        runs.append((res['policy'], res, analyse(w, res, ranked)))

    names = [p for p, _, _ in runs]
    main_i = names.index('default') if 'default' in names else 0
    mp = names.index('most-popular') if 'most-popular' in names else None
    st = runs[0][1]['settings']
    per_viewer = st['sessions'] * st['pages'] * st['page_size']
    om = analyse_oracle(w, ranked, per_viewer, st['page_size'])
    M = [m for _, _, m in runs]
    dm = M[main_i]

    def row(label, key, fmt, target='', ok=None, oracle=None):
        cells = [fmt(m[key]) if key in m else '' for m in M]
        o = '' if oracle is None else oracle
        met = '' if ok is None else ('yes' if ok else '**no**')
        return '| %s | %s | %s | %s | %s |' % (
            label, target, ' | '.join(cells), o, met)

    out = []
    out.append('| metric | target | %s | oracle | met (%s) |'
               % (' | '.join(names), names[main_i]))
    out.append('| --- | --- | %s | --- | --- |'
               % ' | '.join('---:' for _ in names))

    out.append(row('true watch ratio, items after the %dth' % N, 'wr_after',
                   f3, oracle=f3(om['wr_after'])))
    out.append(row('oracle over the same items (per policy)', 'oracle_after',
                   f3))
    out.append(row('watch ratio / oracle', 'vs_oracle', f3, '>= 0.8',
                   dm['vs_oracle'] >= 0.8))
    if mp is not None:
        for m in M:
            m['vs_mp'] = m['wr_after'] / M[mp]['wr_after']
        out.append(row('watch ratio / most-popular', 'vs_mp', f3, '>= 1.3',
                       dm['vs_mp'] >= 1.3))
    out.append(row('true watch ratio, all items', 'wr_all', f3,
                   oracle=f3(om['wr_all'])))
    out.append(row('new clips reaching 100 impressions', 'new_reached', pct,
                   '100%', dm['new_reached'] >= 1.0,
                   oracle=pct(om['new_reached'])))
    out.append(row('median time to 100 impressions, s', 'new_median_s',
                   lambda x: f3(x) if x == math.inf else '%.1f' % x))
    out.append(row('median platform impressions to 100', 'new_median_imp',
                   lambda x: f3(x) if x == math.inf else '%d' % x))
    out.append(row('creator Gini of impressions', 'gini', f3, '<= 0.6',
                   dm['gini'] <= 0.6, oracle=f3(om['gini'])))
    out.append(row('catalog coverage', 'coverage', pct,
                   oracle=pct(om['coverage'])))
    out.append(row('intra-list diversity (1 - cos, latent)', 'ild', f3,
                   oracle=f3(om['ild'])))
    out.append(row('sessions shown a top-10 rising clip', 'rising', pct,
                   '>= 80%', dm['rising'] >= 0.8))
    out.append(row('viewers shown one in every session', 'rising_all', pct))
    out.append(row('mean pairwise feed overlap (Jaccard)', 'overlap',
                   lambda x: '%.4f' % x, '< 0.05', dm['overlap'] < 0.05,
                   oracle='%.4f' % om['overlap']))
    out.append(row('after the %dth: share on the most-served topic' % N,
                   'top_topic', pct, oracle=pct(om['top_topic'])))
    out.append(row('multi-taste viewers: taste topics served (>= 3 items)',
                   'tastes', pct, oracle=pct(om['tastes'])))

    print('\n'.join(out))
    print()
    print('Settings: %s; %d clips at start (+%d uploaded), %d creators '
          'with clips.' % (', '.join('%s %s' % kv for kv in st.items()),
                           len(w.clips), len(w.new),
                           len({c.creator for c in allc})))
    print()

    # details

    print('Output Gini of the catalog (clips per creator): %.3f; '
          'the Gini of impressions for exposure proportional to output.'
          % gini([sum(1 for c in allc if c.creator == k)
                  for k in {c.creator for c in allc}]))
    print()
    print('| policy | run, s | impressions | rejected events | short pages '
          '| watch ratio by position 1-30, 31-60, 61-90, 91-120 '
          '| new clips: impressions, min / median / max |')
    print('| --- | ---: | ---: | ---: | ---: | --- | --- |')
    for (p, res, m) in runs:
        ni = m['new_imps']
        print('| %s | %.0f | %d | %d | %d | %s | %s |' % (
            p, m['run_s'], m['total_imps'], m['rejected'], m['short_pages'],
            ' / '.join('%.3f' % x for x in m['curve']),
            ('%d / %d / %d' % (ni[0], statistics.median(ni), ni[-1]))
            if ni else 'n/a'))
    print()
    print('Items by the reason the server gave, with their mean true watch '
          'ratio:')
    print()
    for (p, res, m) in runs:
        rs = m['reasons']
        tot = sum(v[0] for v in rs.values())
        print('- %s: %s' % (p, ', '.join(
            '%s %.0f%% (%.3f)' % (k, 100 * v[0] / tot, v[1])
            for k, v in sorted(rs.items(), key=lambda kv: -kv[1][0]))))


if __name__ == '__main__':
    main()
