// The live status panel: the server's Prometheus text (/feed/status)
// scraped every second, and rates from the difference between scrapes.
// Used beside the feed (index.html) and on its own page (status.html).
//
//   const s = mountStatus(element, { compact: true });
//   s.running(true);

const INTERVAL = 1000;
const WINDOW = 30;          // seconds of history behind the hit ratio
const RATE_WINDOW = 5;      // seconds behind the rates shown
const HISTORY = 60;         // samples kept for the sparklines

const REASON_COLORS = {
    personal: '#ff4f8b',
    zeitgeist: '#ffb443',
    explore: '#3ddc97',
    remix: '#8f7bff',
    sound: '#38c6ff',
    random: '#9aa0aa',
};

// "name{a="x",b="y"} 12.5" -> { name, labels: {a, b}, value }

export function parseMetrics(text) {
    const out = [];
    const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

    for (const l of text.split('\n')) {
        if (l === '' || l[0] === '#') {
            continue;
        }
        const m = line.exec(l);
        if (!m) {
            continue;
        }
        const labels = {};
        for (const x of (m[2] || '').matchAll(label)) {
            labels[x[1]] = x[2].replace(/\\(.)/g, (a, c) =>
                c === 'n' ? '\n' : c);
        }
        out.push({ name: m[1], labels, value: Number(m[3]) });
    }
    return out;
}


function sum(metrics, name, filter) {
    let s = 0;
    for (const m of metrics) {
        if (m.name === name && (!filter || filter(m.labels))) {
            s += m.value;
        }
    }
    return s;
}


function pick(metrics, name) {
    return metrics.filter((m) => m.name === name);
}


function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) {
        e.className = cls;
    }
    if (text !== undefined) {
        e.textContent = text;
    }
    return e;
}


function fmtRate(x) {
    return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}


const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) {
        e.setAttribute(k, attrs[k]);
    }
    return e;
}


function sparkline(values) {
    const w = 120;
    const h = 32;
    const s = svg('svg', { viewBox: `0 0 ${w} ${h}`, class: 'spark',
                           'aria-hidden': 'true',
                           preserveAspectRatio: 'none' });
    const max = Math.max(1, ...values);
    const n = Math.max(2, HISTORY);
    const pts = values.map((v, i) => {
        const x = w - (values.length - 1 - i) * (w / (n - 1));
        const y = h - 2 - (v / max) * (h - 4);
        return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    if (pts.length > 1) {
        s.appendChild(svg('polyline', {
            points: `${pts[0].split(',')[0]},${h} ${pts.join(' ')} ${w},${h}`,
            class: 'area' }));
        s.appendChild(svg('polyline', { points: pts.join(' '),
                                        class: 'line' }));
    }
    return s;
}


function donut(share) {
    const r = 26;
    const c = 2 * Math.PI * r;
    const s = svg('svg', { viewBox: '0 0 64 64', class: 'donut',
                           'aria-hidden': 'true' });
    s.appendChild(svg('circle', { cx: 32, cy: 32, r, class: 'bg' }));
    if (share !== null) {
        s.appendChild(svg('circle', {
            cx: 32, cy: 32, r, class: 'fg',
            'stroke-dasharray': `${(share * c).toFixed(2)} ${c.toFixed(2)}`,
            transform: 'rotate(-90 32 32)' }));
    }
    return s;
}


// A list of bars, kept from one update to the next (keyed) so that the
// widths glide instead of jumping.

function bars(ol, rows, max) {
    const keep = new Map();
    for (const li of ol.children) {
        keep.set(li.dataset.key, li);
    }
    const seen = new Set();

    rows.forEach((row, i) => {
        let li = keep.get(row.key);
        if (!li) {
            li = el('li', 'bar-row');
            li.dataset.key = row.key;
            li.append(el('span', 'label'), el('span', 'track'),
                      el('span', 'value'));
            li.querySelector('.track').append(el('span', 'fill'));
        }
        li.querySelector('.label').textContent = row.label;
        if (row.sub) {
            const sub = el('small', '', ` ${row.sub}`);
            li.querySelector('.label').append(sub);
        }
        li.querySelector('.value').textContent = row.value;
        li.style.setProperty('--w', max > 0 ? Math.max(0.02, row.n / max)
                                            : 0);
        if (row.cls) {
            li.className = `bar-row ${row.cls}`;
        }
        if (ol.children[i] !== li) {
            ol.insertBefore(li, ol.children[i] || null);
        }
        seen.add(row.key);
    });
    for (const [key, li] of keep) {
        if (!seen.has(key)) {
            li.remove();
        }
    }
}


export function mountStatus(root, opt = {}) {
    const src = root.dataset.src || '/feed/status';
    const history = [];
    let timer = 0;
    let busy = false;
    let on = false;

    root.classList.add('status-panel');
    if (opt.compact) {
        root.classList.add('compact');
    }

    const head = el('header', 'status-head');
    const title = el('h2', '', 'Live');
    title.prepend(el('span', 'live-dot'));
    const note = el('p', 'sub', 'what nginx serves, scraped every second');
    head.append(title, note);

    const tiles = el('div', 'tiles');
    const hit = el('figure', 'tile hit');
    const rps = el('figure', 'tile rps');
    const eps = el('figure', 'tile eps');
    tiles.append(hit, rps, eps);

    const rising = el('section', 'block rising');
    const risingClips = el('ol', 'bars');
    const risingSounds = el('ol', 'bars sounds');
    const risingEmpty = el('p', 'empty',
                           'Nothing yet: watch a few clips to the end.');
    rising.append(el('h3', '', 'Rising now'), risingEmpty, risingClips,
                  el('h3', 'minor', 'Sounds'), risingSounds);

    const fresh = el('section', 'block fresh');
    const freshTitle = el('h3', '', 'New clips');
    const freshNote = el('p', 'sub');
    const freshList = el('ol', 'bars stages');
    fresh.append(freshTitle, freshNote, freshList);

    const reasons = el('section', 'block reasons');
    const stack = el('div', 'stack');
    const legend = el('ul', 'legend');
    reasons.append(el('h3', '', 'Why clips were served'), stack, legend);

    const error = el('p', 'status-error');
    error.hidden = true;
    error.setAttribute('role', 'status');

    root.append(head, tiles, rising, fresh, reasons, error);

    function tile(fig, big, caption, small, graphic) {
        fig.replaceChildren();
        if (graphic) {
            fig.append(graphic);
        }
        const b = el('p', 'big', big);
        const c = el('figcaption', '', caption);
        fig.append(b, c);
        if (small) {
            fig.append(el('p', 'small', small));
        }
    }

    function render(sample) {
        const m = sample.metrics;
        const prev = history.length > 1 ? history[history.length - 2] : null;

        // requests and events per second over the last few seconds (the
        // sparklines: each second); the panel's own scrapes are not counted
        const rate = (h, p) => {
            const d = (h.t - p.t) / 1000 || 1;
            return { req: Math.max(0, (h.req - p.req) / d),
                     ev: Math.max(0, (h.ev - p.ev) / d) };
        };
        const rates = history.map((h, i) => (i ? rate(h, history[i - 1])
                                               : { req: 0, ev: 0 }));
        const since = history.find((h) =>
            sample.t - h.t <= RATE_WINDOW * 1000 + 200) || sample;
        const now = since === sample ? { req: 0, ev: 0 }
                                     : rate(sample, since);

        // the hit ratio over the last WINDOW seconds, else since start
        const old = history.find((h) => sample.t - h.t <= WINDOW * 1000)
                    || sample;
        let hits = sample.hit - old.hit;
        let all = sample.seg - old.seg;
        let span = `last ${WINDOW} s`;
        if (all <= 0) {
            hits = sample.hit;
            all = sample.seg;
            span = 'since start';
        }
        const ratio = all > 0 ? hits / all : null;

        tile(hit, ratio === null ? '–' : `${Math.round(ratio * 100)}%`,
             'cache hit ratio',
             all > 0 ? `${span} · ${all} segments` : 'no segments yet',
             donut(ratio));
        tile(rps, prev ? fmtRate(now.req) : '–', 'requests / s',
             `${sample.req} in all`, sparkline(rates.map((r) => r.req)));
        const acc = sample.accepted;
        tile(eps, prev ? fmtRate(now.ev) : '–', 'events / s',
             sample.ev ? `${acc} of ${sample.ev} accepted` : 'none yet',
             sparkline(rates.map((r) => r.ev)));

        // rising clips and sounds
        const rc = pick(m, 'feed_rising_clip')
            .sort((a, b) => Number(a.labels.rank) - Number(b.labels.rank))
            .slice(0, opt.compact ? 5 : 10);
        const rs = pick(m, 'feed_rising_sound')
            .sort((a, b) => Number(a.labels.rank) - Number(b.labels.rank))
            .slice(0, opt.compact ? 4 : 10);
        risingEmpty.hidden = rc.length > 0;
        bars(risingClips, rc.map((x) => ({
            key: x.labels.clip, label: x.labels.clip,
            sub: `♪ ${x.labels.sound}`, n: x.value,
            value: x.value.toFixed(1) })),
            Math.max(0, ...rc.map((x) => x.value)));
        bars(risingSounds, rs.map((x) => ({
            key: x.labels.sound, label: `♪ ${x.labels.sound}`, n: x.value,
            value: x.value.toFixed(1) })),
            Math.max(0, ...rs.map((x) => x.value)));

        // the fresh pool: each new clip's stage and impressions
        const pool = sum(m, 'feed_fresh_clips');
        const fc = pick(m, 'feed_fresh_clip_impressions')
            .sort((a, b) => Number(b.labels.stage) - Number(a.labels.stage)
                            || b.value - a.value
                            || a.labels.clip.localeCompare(b.labels.clip))
            .slice(0, opt.compact ? 6 : 20);
        freshTitle.textContent = `New clips · ${pool} in the fresh pool`;
        freshNote.textContent = pool
            ? 'Each new clip is shown to a first audience whoever made it;'
              + ' watched, it moves on to a bigger one (stage 2, 3).'
              + ' The least shown:'
            : 'No clip is in its exposure stages now.';
        bars(freshList, fc.map((x) => {
            const stage = Number(x.labels.stage) || 0;
            return {
                key: x.labels.clip, label: x.labels.clip,
                sub: `· stage ${stage + 1}`, n: x.value,
                value: `${x.value} seen`, cls: `stage-${stage}`,
            };
        }), Math.max(1, ...fc.map((x) => x.value)));

        // items by reason
        const rr = pick(m, 'feed_items_total');
        const total = rr.reduce((a, x) => a + x.value, 0);
        stack.replaceChildren();
        legend.replaceChildren();
        for (const x of rr) {
            const reason = x.labels.reason;
            const color = REASON_COLORS[reason] || '#777';
            if (total > 0 && x.value > 0) {
                const seg = el('span', 'seg');
                seg.style.flexGrow = String(x.value);
                seg.style.background = color;
                seg.title = `${reason}: ${x.value}`;
                stack.append(seg);
            }
            const li = el('li', x.value ? '' : 'zero');
            const sw = el('span', 'swatch');
            sw.style.background = color;
            li.append(sw, `${reason} ${x.value}`);
            legend.append(li);
        }
        if (total === 0) {
            stack.append(el('span', 'seg none'));
        }

        error.hidden = true;
        root.classList.remove('stale');
    }

    async function scrape() {
        timer = 0;
        busy = true;
        try {
            const r = await fetch(src, { cache: 'no-store' });
            if (!r.ok) {
                throw new Error(`${r.status} ${r.statusText}`);
            }
            const metrics = parseMetrics(await r.text());
            const sample = {
                t: performance.now(),
                metrics,
                req: sum(metrics, 'feed_requests_total',
                         (l) => l.kind !== 'status'),
                ev: sum(metrics, 'feed_events_total'),
                accepted: sum(metrics, 'feed_events_total',
                              (l) => l.result === 'accepted'),
                hit: sum(metrics, 'feed_cache_requests_total',
                         (l) => l.status === 'HIT'),
                seg: sum(metrics, 'feed_cache_requests_total'),
            };
            history.push(sample);
            if (history.length > HISTORY) {
                history.shift();
            }
            render(sample);
        } catch (e) {
            error.hidden = false;
            error.textContent = `Status unavailable: ${e.message}`;
            root.classList.add('stale');
        }
        busy = false;
        if (on && !timer) {
            timer = setTimeout(scrape, INTERVAL);
        }
    }

    function start() {
        if (on && !timer && !busy) {
            scrape();
        }
    }

    document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') {
            start();
        }
    });

    return {
        running(yes) {
            if (yes === on) {
                return;
            }
            on = yes;
            if (on) {
                start();
            } else {
                clearTimeout(timer);
                timer = 0;
            }
        },
    };
}
