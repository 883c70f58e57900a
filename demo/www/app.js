// The For You page of the demo: one clip per screen, moved by a swipe, the
// wheel or the arrow keys, pages of the feed fetched from /feed as the
// viewer nears the end, and what the viewer did with each clip posted to
// /feed/events when they move on.
//
// A clip is played by hls.js (or the browser's own HLS where there is no
// MediaSource, as on an iPhone).  The clip on screen plays; the next one is
// attached and loads, paused, so that a swipe shows it at once; the one
// after has its first files fetched ahead (the manifest's prefetch URLs),
// which warms the server's segment cache too.  Clips further away hold no
// player.
//
// One test hook: ?rate=N plays every video at N times its speed.  Watch
// time is counted in media time, so it does not change what is reported.

import { mountStatus } from './status.js';

const FEED = '/feed';
const EVENTS = '/feed/events';

const params = new URLSearchParams(location.search);
const RATE = Math.min(16, Math.max(0.25, Number(params.get('rate')) || 1));

// a skip: moved on before a quarter of the clip or within 2 s of it
const SKIP_SHARE = 0.25;
const SKIP_SECONDS = 2;

const REASONS = {
    personal: 'Close to what you watch to the end',
    zeitgeist: 'Rising now, across every viewer',
    explore: 'A new clip getting its first audience',
    remix: 'A remix of a clip you liked',
    sound: 'Uses a sound you watched to the end',
    random: 'A random pick, to keep your feed broad',
};

const PARTS = ['similarity', 'quality', 'freshness', 'trending', 'explore',
               'lineage', 'creator', 'reach'];

const feedEl = document.getElementById('feed');
const template = document.getElementById('clip-template');
const unmuteEl = document.getElementById('unmute');
const toastEl = document.getElementById('toast');

const state = {
    clips: [],          // one record per item, in feed order
    active: -1,
    muted: true,
    loading: null,      // the page request in flight
    exhausted: false,
    retryAt: 0,
    queue: [],          // events not sent yet
    flushing: null,
    flushTimer: 0,
};


// --- pages of the feed ---------------------------------------------------

async function loadPage() {
    if (state.loading || state.exhausted || Date.now() < state.retryAt) {
        return state.loading;
    }

    state.loading = (async () => {
        // what the viewer did so far shapes the next page: send it first
        await flushEvents();

        let page;
        try {
            const r = await fetch(FEED, { credentials: 'same-origin',
                                          cache: 'no-store' });
            if (!r.ok) {
                throw new Error(`${r.status} ${r.statusText}`);
            }
            page = await r.json();
        } catch (e) {
            state.retryAt = Date.now() + 3000;
            toast(`Could not load the feed (${e.message}); retrying`);
            setTimeout(loadPage, 3100);
            return;
        }

        const items = Array.isArray(page.items) ? page.items : [];
        for (const item of items) {
            addClip(item);
        }
        if (items.length === 0) {
            state.exhausted = true;
            addEndCard();
        }
        feedEl.setAttribute('aria-busy', 'false');
    })().finally(() => {
        state.loading = null;
    });

    return state.loading;
}


function addClip(item) {
    const index = state.clips.length;
    const el = template.content.firstElementChild.cloneNode(true);
    const lineage = item.lineage || null;

    el.dataset.index = index;
    el.dataset.id = item.id;
    el.dataset.state = 'cold';
    el.dataset.loops = '0';
    el.setAttribute('aria-label', `${item.caption || item.id}, by `
                    + `@${item.creator}`);
    el.style.setProperty('--hue', hueOf(item.id));

    el.querySelector('.reason').textContent = item.reason;
    el.querySelector('.badge').title = REASONS[item.reason] || '';
    el.querySelector('.creator').textContent = `@${item.creator}`;
    el.querySelector('.caption').textContent = item.caption || item.id;
    el.querySelector('.tags').textContent =
        (item.tags || []).map((t) => `#${t}`).join(' ');
    el.querySelector('.sound').textContent = `♪ ${item.sound}`;
    el.querySelector('.mute').setAttribute('aria-pressed',
                                           String(!state.muted));

    if (lineage) {
        const p = el.querySelector('.lineage');
        p.hidden = false;
        p.textContent = lineage.kind === 'duet'
            ? `Duet with ${lineage.parent}`
            : `Stitch of ${lineage.parent}: starts with its first seconds`;
    }

    const screens = el.querySelector('.screens');
    const rec = {
        item, index, el, screens,
        players: [],        // { video, hls } : the clip's own first
        warm: false,
        watched: 0,         // media seconds, loops included
        last: null,
        loops: 0,
        liked: false,
        shared: false,
        reported: false,
        error: null,
    };

    if (lineage && lineage.kind === 'duet') {
        screens.classList.add('duet', lineage.layout === 'top' ? 'top'
                                                               : 'side');
    }

    const why = el.querySelector('.why-panel');
    const whyBtn = el.querySelector('.why');
    why.id = `why-${index}`;
    whyBtn.setAttribute('aria-controls', why.id);
    fillWhy(why, item);

    el.querySelector('.like').addEventListener('click', () => like(rec));
    el.querySelector('.share').addEventListener('click', () => share(rec));
    whyBtn.addEventListener('click', () => toggleWhy(rec));
    el.querySelector('.mute').addEventListener('click', () =>
        setMuted(!state.muted));
    el.querySelector('.stage').addEventListener('click', () => tap(rec));

    feedEl.appendChild(el);
    state.clips.push(rec);
    observer.observe(el);

    if (state.active < 0 && index === 0) {
        setActive(0);
    } else if (index === state.active + 1) {
        warm(rec);
    } else if (index === state.active + 2) {
        prefetch(rec);
    }
}


function addEndCard() {
    const el = document.createElement('article');
    el.className = 'clip end';
    el.dataset.index = state.clips.length;
    el.innerHTML = '<div class="end-text"><h2>You have seen every clip</h2>'
        + '<p>The feed never shows a clip twice. New clips appear here as '
        + 'they are added to the catalog; a private window is a new '
        + 'viewer.</p><p><a href="status.html">Live status</a></p></div>';
    feedEl.appendChild(el);
    observer.observe(el);
}


// --- which clip is on screen ----------------------------------------------

const observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
        if (e.isIntersecting && e.intersectionRatio >= 0.6) {
            setActive(Number(e.target.dataset.index));
        }
    }
}, { root: feedEl, threshold: [0.6] });


// index: a clip, or one past the last for the end card

function setActive(index) {
    if (index === state.active || index < 0
        || index > state.clips.length) {
        return;
    }

    const prev = state.clips[state.active];
    if (prev) {
        leave(prev);
    }

    state.active = index;
    const rec = state.clips[index];
    if (!rec) {
        return;
    }

    for (const c of state.clips) {
        const d = c.index - index;
        if (d === 0) {
            c.el.dataset.state = 'active';
            c.el.setAttribute('aria-current', 'true');
        } else {
            c.el.removeAttribute('aria-current');
            if (d === 1 || d === -1) {
                warm(c);
                c.el.dataset.state = 'warm';
            } else {
                release(c);
            }
        }
    }

    warm(rec);
    play(rec);

    const next2 = state.clips[index + 2];
    if (next2) {
        prefetch(next2);
    }
    if (index >= state.clips.length - 2) {
        loadPage();
    }
}


function go(delta, from = state.active) {
    const target = state.clips[from + delta];
    if (target) {
        target.el.scrollIntoView({ behavior: 'smooth', block: 'start' });
    } else if (delta > 0) {
        const end = feedEl.querySelector('.end');
        if (end) {
            end.scrollIntoView({ behavior: 'smooth', block: 'start' });
        } else {
            loadPage();
        }
    }
}


// --- players ------------------------------------------------------------

function newVideo(cls, label) {
    const v = document.createElement('video');
    v.className = cls;
    v.muted = state.muted;
    v.playsInline = true;
    v.preload = 'auto';
    v.defaultPlaybackRate = RATE;
    v.playbackRate = RATE;
    v.disablePictureInPicture = true;
    v.setAttribute('aria-label', label);
    return v;
}


// An HLS player on video for url; the level whose files were prefetched
// (the manifest names them) is the one to start with.

function attach(video, url, prefetchUrls, rec) {
    if (!window.Hls || !Hls.isSupported()) {
        if (video.canPlayType('application/vnd.apple.mpegurl')) {
            video.src = url;
            return null;
        }
        fail(rec, 'This browser cannot play HLS');
        return null;
    }

    const hls = new Hls({
        autoStartLoad: false,
        capLevelToPlayerSize: true,
        maxBufferLength: 12,
        backBufferLength: 30,
    });
    let recovered = 0;

    hls.on(Hls.Events.MANIFEST_PARSED, (ev, data) => {
        // .../CLIP/RENDITION/init.mp4?token=...
        const want = (prefetchUrls || [])
            .map((u) => new URL(u, location.href).pathname.split('/')
                                                       .slice(-2)[0])
            .find(Boolean);
        const level = data.levels.findIndex((l) =>
            String(Array.isArray(l.url) ? l.url[0] : l.url)
                .includes(`/${want}/`));
        if (level >= 0) {
            hls.startLevel = level;
        }
        hls.startLoad(0);
    });
    hls.on(Hls.Events.ERROR, (ev, data) => {
        if (!data.fatal) {
            return;
        }
        if (recovered++ < 2) {
            if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
                hls.recoverMediaError();
            } else {
                hls.startLoad();
            }
            return;
        }
        fail(rec, `Playback failed: ${data.details}`);
    });

    hls.attachMedia(video);
    hls.loadSource(url);
    return hls;
}


function warm(rec) {
    if (rec.warm) {
        return;
    }
    rec.warm = true;
    if (rec.el.dataset.state === 'cold') {
        rec.el.dataset.state = 'warm';
    }

    const item = rec.item;
    const lineage = item.lineage;
    const own = newVideo('main', `${item.caption || item.id}`);

    rec.players.push({ video: own, hls: attach(own, item.master,
                                                item.prefetch, rec) });

    if (lineage && lineage.kind === 'duet' && lineage.parent_master) {
        const parent = newVideo('parent', `Original clip ${lineage.parent}`);
        rec.players.push({ video: parent,
                           hls: attach(parent, lineage.parent_master, null,
                                       rec) });
        syncDuet(rec, own, parent, Number(lineage.offset) || 0);
    }

    for (const p of rec.players) {
        rec.screens.appendChild(p.video);
    }
    track(rec, own);
}


function release(rec) {
    if (!rec.warm) {
        return;
    }
    if (rec.el.dataset.state === 'active') {
        leave(rec);
    }
    rec.warm = false;
    for (const p of rec.players) {
        if (p.hls) {
            p.hls.destroy();
        }
        p.video.removeAttribute('src');
        p.video.load();
        p.video.remove();
    }
    rec.players = [];
    rec.last = null;
    rec.el.dataset.state = 'cold';
}


function play(rec) {
    const v = rec.players.length ? rec.players[0].video : null;
    if (!v) {
        return;
    }
    rec.last = v.currentTime;
    rec.el.classList.remove('is-paused');
    v.play().catch(() => {
        // autoplay refused (not muted here?): a tap starts it
        rec.el.classList.add('is-paused');
    });
}


function pause(rec) {
    for (const p of rec.players) {
        p.video.pause();
    }
}


// Watch time in media seconds, whatever the playback rate; a loop is an
// end reached, after which the clip starts again.

function track(rec, v) {
    v.addEventListener('timeupdate', () => {
        const t = v.currentTime;
        if (rec.last !== null && !v.seeking) {
            const d = t - rec.last;
            if (d > 0 && d < 1 + 2 * RATE) {
                rec.watched += d;
            }
        }
        rec.last = t;
        const dur = duration(rec);
        if (dur > 0) {
            rec.el.style.setProperty('--progress', Math.min(1, t / dur));
        }
    });
    v.addEventListener('seeking', () => {
        rec.last = null;
    });
    v.addEventListener('ended', () => {
        if (rec.last !== null && v.duration > rec.last) {
            rec.watched += v.duration - rec.last;
        }
        rec.loops++;
        rec.el.dataset.loops = String(rec.loops);
        rec.last = 0;
        if (rec.index === state.active) {
            v.currentTime = 0;
            v.play().catch(() => {});
        }
    });
    v.addEventListener('playing', () => {
        rec.el.classList.remove('is-paused', 'is-loading');
    });
    v.addEventListener('waiting', () => rec.el.classList.add('is-loading'));
    v.addEventListener('ratechange', () => {
        if (v.playbackRate !== RATE) {
            v.playbackRate = RATE;
        }
    });
}


// The original plays beside (or above) the duet, from the duet's offset
// into it, and follows the duet's clock.

function syncDuet(rec, own, parent, offset) {
    const follow = () => {
        const want = own.currentTime + offset;
        const end = Number.isFinite(parent.duration) ? parent.duration : 0;
        if (end && want >= end) {
            if (!parent.paused) {
                parent.pause();
            }
            return;
        }
        if (Math.abs(parent.currentTime - want) > 0.25) {
            parent.currentTime = want;
        }
        if (!own.paused && parent.paused) {
            parent.play().catch(() => {});
        }
    };

    own.addEventListener('play', follow);
    own.addEventListener('timeupdate', follow);
    own.addEventListener('seeked', follow);
    own.addEventListener('pause', () => parent.pause());
    parent.addEventListener('loadedmetadata', follow);
}


function duration(rec) {
    const v = rec.players.length ? rec.players[0].video : null;
    if (v && Number.isFinite(v.duration) && v.duration > 0) {
        return v.duration;
    }
    return Number(rec.item.duration) || 0;
}


function fail(rec, msg) {
    rec.error = msg;
    const p = rec.el.querySelector('.error');
    p.hidden = false;
    p.textContent = `${msg}. Swipe on to the next clip.`;
}


// The first files of a clip, fetched ahead into the browser's cache (and
// the server's segment cache).

const prefetched = new Set();

function prefetch(rec) {
    for (const url of rec.item.prefetch || []) {
        if (prefetched.has(url)) {
            continue;
        }
        prefetched.add(url);
        fetch(url, { credentials: 'same-origin' })
            .then((r) => r.arrayBuffer())
            .catch(() => prefetched.delete(url));
    }
}


// --- what the viewer did -------------------------------------------------

function leave(rec) {
    pause(rec);
    rec.el.dataset.state = rec.warm ? 'warm' : 'cold';
    report(rec);
}


function eventOf(rec) {
    const dur = duration(rec);
    const skip = rec.loops === 0
        && rec.watched < Math.max(SKIP_SECONDS, SKIP_SHARE * dur);

    return {
        impression: rec.item.impression,
        watch_ms: Math.round(rec.watched * 1000),
        loops: rec.loops,
        like: rec.liked,
        share: rec.shared,
        skip,
    };
}


// One event per clip, when the viewer first moves on from it.

function report(rec) {
    if (rec.reported) {
        return;
    }
    rec.reported = true;
    if (rec.error && rec.watched === 0) {
        // it never played: that says nothing of the viewer
        return;
    }
    state.queue.push(eventOf(rec));
    clearTimeout(state.flushTimer);
    state.flushTimer = setTimeout(flushEvents, state.queue.length >= 5
                                                ? 0 : 1500);
}


async function flushEvents() {
    if (state.flushing) {
        await state.flushing;
    }
    if (state.queue.length === 0) {
        return;
    }
    clearTimeout(state.flushTimer);

    const events = state.queue.splice(0);
    state.flushing = (async () => {
        try {
            const r = await fetch(EVENTS, {
                method: 'POST',
                credentials: 'same-origin',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ events }),
            });
            // per-event results; a rejected event is not sent again
            await r.text();
            if (r.status === 429) {
                // too many batches: send these again with the next ones
                state.queue.unshift(...events);
                state.flushTimer = setTimeout(flushEvents, 1000);
            }
        } catch (e) {
            state.queue.unshift(...events);
            state.flushTimer = setTimeout(flushEvents, 3000);
        }
    })().finally(() => {
        state.flushing = null;
    });

    return state.flushing;
}


// Leaving the page: the clip on screen counts too, sent as a beacon.

function sendOnExit() {
    const rec = state.clips[state.active];
    if (rec) {
        report(rec);
    }
    clearTimeout(state.flushTimer);
    if (state.queue.length === 0) {
        return;
    }
    const body = new Blob([JSON.stringify({ events: state.queue })],
                          { type: 'application/json' });
    if (navigator.sendBeacon(EVENTS, body)) {
        state.queue = [];
    }
}

addEventListener('pagehide', sendOnExit);
document.addEventListener('visibilitychange', () => {
    const rec = state.clips[state.active];
    if (document.visibilityState === 'hidden') {
        if (rec) {
            pause(rec);
        }
        flushEvents();
    } else if (rec) {
        play(rec);
    }
});


function like(rec) {
    rec.liked = !rec.liked;
    const b = rec.el.querySelector('.like');
    b.setAttribute('aria-pressed', String(rec.liked));
    if (rec.reported && rec.liked) {
        toast('Liked (the feed heard about this clip already)');
    }
}


async function share(rec) {
    const url = new URL(rec.item.master, location.href).href;
    rec.shared = true;
    rec.el.querySelector('.share').classList.add('done');
    try {
        if (navigator.share) {
            await navigator.share({ title: rec.item.caption, url });
            return;
        }
        await navigator.clipboard.writeText(url);
        toast('Link to the clip copied (any HLS player plays it)');
    } catch (e) {
        toast('Shared');
    }
}


function toggleWhy(rec, open) {
    const panel = rec.el.querySelector('.why-panel');
    const btn = rec.el.querySelector('.why');
    const show = open === undefined ? panel.hidden : open;
    panel.hidden = !show;
    btn.setAttribute('aria-expanded', String(show));
}


function fillWhy(panel, item) {
    panel.querySelector('.why-reason').innerHTML = '';
    const b = document.createElement('strong');
    b.textContent = item.reason;
    panel.querySelector('.why-reason').append(b, ` · ${REASONS[item.reason]
                                                        || ''}`);
    panel.querySelector('.why-score').textContent =
        `Score ${Number(item.score).toFixed(2)}`;

    const ul = panel.querySelector('.parts');
    const parts = item.parts || {};
    for (const name of PARTS) {
        const v = Number(parts[name]) || 0;
        const li = document.createElement('li');
        li.className = v < 0 ? 'neg' : v === 0 ? 'zero' : '';
        li.style.setProperty('--v', Math.min(1, Math.abs(v)));
        li.innerHTML = '<span class="name"></span><span class="track">'
            + '<span class="fill"></span></span><span class="num"></span>';
        li.querySelector('.name').textContent = name;
        li.querySelector('.num').textContent = v.toFixed(2);
        ul.appendChild(li);
    }
}


// --- sound, taps, keys and the wheel -------------------------------------

function setMuted(muted) {
    state.muted = muted;
    for (const c of state.clips) {
        for (const p of c.players) {
            p.video.muted = muted;
        }
        c.el.querySelector('.mute').setAttribute('aria-pressed',
                                                 String(!muted));
    }
    document.body.classList.toggle('muted', muted);
    unmuteEl.hidden = !muted;
}


function tap(rec) {
    if (state.muted) {
        setMuted(false);
        return;
    }
    if (rec.index !== state.active || !rec.players.length) {
        return;
    }
    const v = rec.players[0].video;
    if (v.paused) {
        play(rec);
    } else {
        pause(rec);
        rec.el.classList.add('is-paused');
    }
}

unmuteEl.addEventListener('click', () => setMuted(false));


addEventListener('keydown', (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.defaultPrevented) {
        return;
    }
    const onButton = e.target instanceof HTMLButtonElement
                     || e.target instanceof HTMLAnchorElement;
    const rec = state.clips[state.active];

    switch (e.key) {
    case 'ArrowDown':
    case 'PageDown':
    case 'j':
        go(1);
        break;
    case 'ArrowUp':
    case 'PageUp':
    case 'k':
        go(-1);
        break;
    case ' ':
        if (onButton || !rec) {
            return;
        }
        tap(rec);
        break;
    case 'm':
    case 'M':
        setMuted(!state.muted);
        break;
    case 'l':
    case 'L':
        if (rec) {
            like(rec);
        }
        break;
    case 'w':
    case 'W':
        if (rec) {
            toggleWhy(rec);
        }
        break;
    case 'Escape':
        if (rec) {
            toggleWhy(rec, false);
        }
        break;
    default:
        return;
    }
    e.preventDefault();
});


// One clip per wheel gesture: a trackpad's fling sends dozens of events,
// so a step waits for the wheel to go quiet before the next.

const wheel = { sum: 0, locked: false, quiet: 0 };

feedEl.addEventListener('wheel', (e) => {
    if (e.ctrlKey) {
        return;
    }
    e.preventDefault();

    const dy = e.deltaMode === 1 ? e.deltaY * 40
             : e.deltaMode === 2 ? e.deltaY * feedEl.clientHeight
             : e.deltaY;

    clearTimeout(wheel.quiet);
    wheel.quiet = setTimeout(() => {
        wheel.locked = false;
        wheel.sum = 0;
    }, 180);

    if (wheel.locked) {
        return;
    }
    wheel.sum += dy;
    if (Math.abs(wheel.sum) >= 40) {
        go(wheel.sum > 0 ? 1 : -1);
        wheel.locked = true;
        wheel.sum = 0;
    }
}, { passive: false });


// A swipe moves one clip, however far or fast: the page follows the
// finger, and a flick that would not carry past half a screen still
// lands on the next clip, as would a long drag that passes it.

const touch = { y: 0, t: 0, from: -1 };

feedEl.addEventListener('touchstart', (e) => {
    if (e.touches.length === 1) {
        touch.y = e.touches[0].clientY;
        touch.t = performance.now();
        touch.from = state.active;
    }
}, { passive: true });

feedEl.addEventListener('touchend', (e) => {
    if (touch.from < 0 || e.touches.length > 0) {
        return;
    }
    const dy = touch.y - e.changedTouches[0].clientY;
    const speed = Math.abs(dy) / Math.max(1, performance.now() - touch.t);
    if (Math.abs(dy) > 60 || (Math.abs(dy) > 20 && speed > 0.4)) {
        go(dy > 0 ? 1 : -1, touch.from);
    }
    touch.from = -1;
}, { passive: true });


// --- small things ------------------------------------------------------

let toastTimer = 0;

function toast(msg) {
    toastEl.textContent = msg;
    toastEl.classList.add('show');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => toastEl.classList.remove('show'), 2500);
}


// a stable hue per clip for the card behind the video while it loads

function hueOf(id) {
    let h = 0;
    for (const ch of id) {
        h = (h * 31 + ch.codePointAt(0)) % 360;
    }
    return String(h);
}


// --- the live status panel ----------------------------------------------

const statusEl = document.getElementById('status');
const statusBtn = document.getElementById('status-toggle');
const status = mountStatus(statusEl, { compact: true });
const wide = matchMedia('(min-width: 900px)');

function showStatus(open) {
    document.body.classList.toggle('status-open', open);
    statusBtn.setAttribute('aria-expanded', String(open));
    status.running(open || wide.matches);
}

statusBtn.addEventListener('click', () =>
    showStatus(!document.body.classList.contains('status-open')));
wide.addEventListener('change', () =>
    showStatus(document.body.classList.contains('status-open')));
showStatus(false);


setMuted(true);
loadPage();
