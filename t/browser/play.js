#!/usr/bin/env node
// play.js URL [--rate R] [--timeout SECONDS] [--screenshot FILE]
//
// Plays an HLS playlist to the end in headless Chromium through hls.js and
// prints one JSON object on stdout saying how it went.  The exit status is
// 0 whenever the harness ran, whether playback succeeded or not; it is
// non-zero only when the harness itself could not run (bad arguments, no
// browser, no node_modules).
//
// The player page is served on URL's own origin (a made-up path answered
// by page.route, never by the server under test), so the playlist and its
// segments are same-origin requests and need no CORS headers.
//
// Environment: FEED_CHROMIUM (default /usr/bin/chromium), FEED_NODE_MODULES
// (default build/node/node_modules of this checkout).

'use strict';

const fs = require('fs');
const path = require('path');
const { packages, launch, release } = require('./launch');

const PLAYER_PATH = '/__feed_player__.html';
const HLS_PATH = '/__feed_player__/hls.js';

function usage(msg) {
    if (msg) {
        process.stderr.write(`play.js: ${msg}\n`);
    }
    process.stderr.write('usage: play.js URL [--rate R] [--timeout SECONDS]'
                         + ' [--screenshot FILE]\n');
    process.exit(2);
}

function parseArgs(argv) {
    const opt = { rate: 1, timeout: 60, screenshot: null, url: null };

    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = () => {
            if (i + 1 >= argv.length) {
                usage(`${a} needs a value`);
            }
            return argv[++i];
        };

        if (a === '--rate') {
            opt.rate = Number(value());
        } else if (a === '--timeout') {
            opt.timeout = Number(value());
        } else if (a === '--screenshot') {
            opt.screenshot = value();
        } else if (a === '-h' || a === '--help') {
            usage();
        } else if (a.startsWith('--')) {
            usage(`unknown option ${a}`);
        } else if (opt.url === null) {
            opt.url = a;
        } else {
            usage(`unexpected argument ${a}`);
        }
    }

    if (opt.url === null) {
        usage('no URL');
    }

    let u;
    try {
        u = new URL(opt.url);
    } catch (e) {
        usage(`bad URL ${opt.url}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
        usage(`not an http(s) URL: ${opt.url}`);
    }
    opt.origin = u.origin;

    // Chromium refuses rates above 16; a high rate also drops frames and
    // may outrun the network, which would then count as a stall.
    if (!(opt.rate > 0 && opt.rate <= 16)) {
        usage('--rate must be in (0, 16]');
    }
    if (!(opt.timeout > 0)) {
        usage('--timeout must be positive');
    }

    return opt;
}


// Runs inside the page: plays cfg.url through hls.js into a muted video
// and keeps everything worth reporting in window.__feed.  Its source is
// inlined into the player page, so it must not refer to anything outside.

function playerMain(cfg) {
    const t0 = performance.now();
    const s = {
        done: false,
        ended: false,
        started: false,
        stalls: 0,
        stall_events: [],
        errors: [],
        segments: [],
        levels: [],
        level_switches: [],
        play_started_at: null,
        ended_at: null,
        hls_version: window.Hls ? Hls.version : null,
    };
    window.__feed = s;

    const video = document.getElementById('video');
    const now = () => (performance.now() - t0) / 1000;
    const finish = () => {
        if (!s.done) {
            s.done = true;
            s.finished_at = now();
        }
    };

    if (!window.Hls || !Hls.isSupported()) {
        s.errors.push({ type: 'harness', details: 'hls.js is not supported'
                        + ' here (no MediaSource?)', fatal: true });
        finish();
        return;
    }

    // hls.js alone: never the browser's own HLS support, which would not
    // judge anything.
    const hls = new Hls({ debug: false, enableWorker: true });
    window.__feed_hls = hls;

    hls.on(Hls.Events.MANIFEST_PARSED, (ev, data) => {
        s.levels = data.levels.map((l) => ({
            width: l.width, height: l.height, bitrate: l.bitrate,
            codecs: [l.videoCodec, l.audioCodec].filter(Boolean).join(','),
            url: Array.isArray(l.url) ? l.url[0] : l.url,
        }));
        video.play().catch((e) => {
            s.errors.push({ type: 'play', details: String(e), fatal: true });
            finish();
        });
    });

    hls.on(Hls.Events.LEVEL_SWITCHED, (ev, data) => {
        s.level_switches.push({ level: data.level, time: video.currentTime });
    });

    hls.on(Hls.Events.FRAG_LOADED, (ev, data) => {
        const f = data.frag;
        if (f.sn === 'initSegment') {
            return;
        }
        s.segments.push({
            url: f.url, sn: f.sn, level: f.level, type: f.type,
            start: f.start, duration: f.duration,
        });
    });

    hls.on(Hls.Events.ERROR, (ev, data) => {
        const e = {
            type: data.type, details: data.details, fatal: !!data.fatal,
            time: video.currentTime,
        };
        if (data.frag && data.frag.url) {
            e.url = data.frag.url;
        } else if (data.url) {
            e.url = data.url;
        } else if (data.context && data.context.url) {
            e.url = data.context.url;
        }
        if (data.response && data.response.code !== undefined) {
            e.code = data.response.code;
        }
        if (data.reason) {
            e.reason = String(data.reason);
        } else if (data.error) {
            e.reason = String(data.error);
        }
        s.errors.push(e);

        if (data.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR) {
            s.stalls++;
            s.stall_events.push({ type: 'bufferStalledError',
                                  time: video.currentTime, at: now() });
        }
        if (data.fatal) {
            finish();
        }
    });

    video.addEventListener('playing', () => {
        if (!s.started) {
            s.started = true;
            s.play_started_at = now();
        }
    });

    // 'waiting' before the first 'playing' is the initial load, not a stall.
    video.addEventListener('waiting', () => {
        if (s.started && !s.ended) {
            s.stalls++;
            s.stall_events.push({ type: 'waiting', time: video.currentTime,
                                  at: now() });
        }
    });

    video.addEventListener('ratechange', () => {
        s.rate = video.playbackRate;
    });

    video.addEventListener('error', () => {
        const me = video.error;
        s.errors.push({ type: 'video', details: me ? `MediaError ${me.code}`
                        + (me.message ? `: ${me.message}` : '') : 'error',
                        fatal: true, time: video.currentTime });
        finish();
    });

    video.addEventListener('ended', () => {
        s.ended = true;
        s.ended_at = now();
        finish();
    });

    video.defaultPlaybackRate = cfg.rate;
    video.playbackRate = cfg.rate;
    hls.attachMedia(video);
    hls.loadSource(cfg.url);
}


function playerPage(cfg) {
    // JSON inside a <script>: no "</script>" or "<!--" may appear
    const json = JSON.stringify(cfg).replace(/</g, '\\u003c');

    return '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        + '<title>feed player</title></head><body>\n'
        + '<video id="video" muted playsinline width="320" height="568">'
        + '</video>\n'
        + `<script src="${HLS_PATH}"></script>\n`
        + `<script>(${playerMain.toString()})(${json});</script>\n`
        + '</body></html>\n';
}


// What the page knows, and what the video element says now.

async function snapshot(page) {
    return page.evaluate(() => {
        const s = window.__feed || {};
        const v = document.getElementById('video');
        const r = Object.assign({}, s);

        if (v) {
            r.currentTime = v.currentTime;
            r.duration = Number.isFinite(v.duration) ? v.duration : null;
            r.paused = v.paused;
            r.readyState = v.readyState;
            r.rate = v.playbackRate;
            r.buffered = [];
            for (let i = 0; i < v.buffered.length; i++) {
                r.buffered.push([v.buffered.start(i), v.buffered.end(i)]);
            }
            if (v.getVideoPlaybackQuality) {
                const q = v.getVideoPlaybackQuality();
                r.decoded_frames = q.totalVideoFrames;
                r.dropped_frames = q.droppedVideoFrames;
            }
        }
        return r;
    });
}


async function main() {
    const opt = parseArgs(process.argv.slice(2));
    const t0 = Date.now();

    const req = packages('play.js');
    let hlsFile;
    try {
        hlsFile = req.resolve('hls.js/dist/hls.min.js');
    } catch (e) {
        process.stderr.write(`play.js: no hls.js (make browser-deps): `
                             + `${e.message}\n`);
        process.exit(3);
    }
    const hlsSource = fs.readFileSync(hlsFile);

    let browser = null;

    browser = await launch('play.js', req, opt.timeout);

    const result = {
        url: opt.url, rate: opt.rate, timeout: opt.timeout,
        browser: browser.version(),
    };
    const pageErrors = [];
    const consoleErrors = [];
    const requests = [];

    try {
        const context = await browser.newContext({
            viewport: { width: 360, height: 640 },
        });
        const page = await context.newPage();

        page.on('pageerror', (e) => pageErrors.push(String(e)));
        page.on('console', (m) => {
            if (m.type() === 'error' && consoleErrors.length < 50) {
                consoleErrors.push(m.text());
            }
        });

        const playerUrl = opt.origin + PLAYER_PATH;
        const hlsUrl = opt.origin + HLS_PATH;

        // every request the player made, as the network saw it: init
        // segments too, which hls.js reports no FRAG_LOADED for
        const ours = (u) => u !== playerUrl && u !== hlsUrl
            && !u.startsWith('blob:') && !u.startsWith('data:');
        page.on('response', (r) => {
            if (ours(r.url()) && requests.length < 1000) {
                requests.push({ url: r.url(), status: r.status() });
            }
        });
        page.on('requestfailed', (r) => {
            if (ours(r.url()) && requests.length < 1000) {
                const f = r.failure();
                requests.push({ url: r.url(), status: 0,
                                failure: f ? f.errorText : 'failed' });
            }
        });

        await page.route((u) => u.href === playerUrl, (route) =>
            route.fulfill({ status: 200, contentType: 'text/html',
                            body: playerPage({ url: opt.url,
                                               rate: opt.rate }) }));
        await page.route((u) => u.href === hlsUrl, (route) =>
            route.fulfill({ status: 200,
                            contentType: 'application/javascript',
                            body: hlsSource }));

        await page.goto(playerUrl, { waitUntil: 'load', timeout: 30000 });

        const left = Math.max(1000, opt.timeout * 1000 - (Date.now() - t0));
        try {
            await page.waitForFunction(
                () => window.__feed && window.__feed.done,
                null, { timeout: left, polling: 100 });
            result.timed_out = false;
        } catch (e) {
            if (e.name !== 'TimeoutError') {
                throw e;
            }
            result.timed_out = true;
        }

        Object.assign(result, await snapshot(page));
        result.errors = result.errors || [];
        result.segments = result.segments || [];
        result.stalls = result.stalls || 0;
        result.ended = !!result.ended;

        for (const m of pageErrors) {
            result.errors.push({ type: 'page', details: m, fatal: true });
        }
        result.console_errors = consoleErrors;
        result.requests = requests;
        result.segments_loaded = result.segments.length;
        result.elapsed = (Date.now() - t0) / 1000;
        result.ok = result.ended && !result.timed_out
            && result.stalls === 0 && result.errors.length === 0;

        if (!result.ok && opt.screenshot) {
            await page.screenshot({ path: opt.screenshot });
            result.screenshot = opt.screenshot;
        }
    } finally {
        await browser.close();
    }

    delete result.done;
    process.stdout.write(JSON.stringify(result) + '\n');
    release();
}


main().catch((e) => {
    process.stderr.write(`play.js: ${e && e.stack ? e.stack : e}\n`);
    process.exit(3);
});
