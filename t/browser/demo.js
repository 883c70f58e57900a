#!/usr/bin/env node
// demo.js BASE_URL --catalog FILE [--rate R] [--timeout SECONDS]
//         [--screenshot FILE]
//
// Uses the demo's For You page (BASE_URL/) in headless Chromium as a
// viewer would, and prints one JSON report on stdout:
//
//   - the page loads and the first clip plays (its currentTime advances);
//   - a topic is chosen from the first page of the feed (a clip's topic is
//     its first tag), and the first page is walked with the ArrowDown key:
//     its clips of that topic watched to the end, the others skipped as
//     soon as they play;
//   - a touch swipe leaves the first page and the wheel moves on from the
//     next page's first clip: one clip each, and the clip reached plays;
//   - the share of the topic on the next page, which the page fetched
//     after sending the events of the walk, beside its share on the first
//     page and among the clips the first page left to show;
//   - every /feed page and /feed/events answer the page received.
//
// The catalog (FILE) says how many clips of each topic the first page
// left to show.  The exit status is 0 whenever the harness ran, whatever
// it found; `ok` in the report says whether every step went as it should,
// and --screenshot FILE is written when not.
//
// Environment: FEED_CHROMIUM (default /usr/bin/chromium), FEED_NODE_MODULES
// (default build/node/node_modules of this checkout).

'use strict';

const fs = require('fs');
const path = require('path');
const { packages, launch, release } = require('./launch');

// the topic followed must have this many clips left after the first page
const MIN_LEFT = 3;

function usage(msg) {
    if (msg) {
        process.stderr.write(`demo.js: ${msg}\n`);
    }
    process.stderr.write('usage: demo.js BASE_URL --catalog FILE [--rate R]'
                         + ' [--timeout SECONDS] [--screenshot FILE]\n');
    process.exit(2);
}

function parseArgs(argv) {
    const opt = { rate: 4, timeout: 90, screenshot: null, catalog: null,
                  base: null };

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
        } else if (a === '--catalog') {
            opt.catalog = value();
        } else if (a === '-h' || a === '--help') {
            usage();
        } else if (a.startsWith('--')) {
            usage(`unknown option ${a}`);
        } else if (opt.base === null) {
            opt.base = a.replace(/\/+$/, '');
        } else {
            usage(`unexpected argument ${a}`);
        }
    }

    if (opt.base === null || !/^https?:\/\//.test(opt.base)) {
        usage('no http(s) BASE_URL');
    }
    if (opt.catalog === null) {
        usage('no --catalog');
    }
    if (!(opt.rate > 0 && opt.rate <= 16)) {
        usage('--rate must be in (0, 16]');
    }
    if (!(opt.timeout > 0)) {
        usage('--timeout must be positive');
    }
    return opt;
}


// The clip on screen, as the page shows it.

function onScreen() {
    const a = document.querySelector('article.clip[aria-current="true"]');
    if (!a) {
        return null;
    }
    const v = a.querySelector('video.main');
    const parent = a.querySelector('video.parent');
    return {
        index: Number(a.dataset.index),
        id: a.dataset.id,
        loops: Number(a.dataset.loops),
        time: v ? v.currentTime : null,
        paused: v ? v.paused : null,
        duration: v && Number.isFinite(v.duration) ? v.duration : null,
        rate: v ? v.playbackRate : null,
        parent_time: parent ? parent.currentTime : null,
    };
}


const sleep = (ms) => new Promise((r) => setTimeout(r, ms));


async function main() {
    const opt = parseArgs(process.argv.slice(2));
    const t0 = Date.now();

    const req = packages('demo.js');

    const catalog = fs.readFileSync(opt.catalog, 'utf8').split('\n')
        .filter((l) => l.trim()).map((l) => JSON.parse(l));

    let browser = null;
    browser = await launch('demo.js', req, opt.timeout);

    const report = {
        url: `${opt.base}/?rate=${opt.rate}`, rate: opt.rate,
        browser: browser.version(), steps: [], pages: [], events: [],
        watched: [], page_errors: [], console_errors: [],
        failed_requests: [],
    };
    const step = (name, ok, detail) => {
        report.steps.push(Object.assign({ name, ok: !!ok }, detail || {}));
        return ok;
    };
    const deadline = t0 + opt.timeout * 1000;
    const left = () => Math.max(1000, deadline - Date.now());

    let page;
    try {
        const context = await browser.newContext({
            viewport: { width: 390, height: 844 }, hasTouch: true,
        });
        page = await context.newPage();

        page.on('pageerror', (e) => report.page_errors.push(String(e)));
        page.on('console', (m) => {
            if (m.type() === 'error' && report.console_errors.length < 50) {
                report.console_errors.push(m.text());
            }
        });
        page.on('requestfailed', (r) => {
            const f = r.failure();
            // a player destroyed mid-request aborts it: not a failure
            if (f && f.errorText !== 'net::ERR_ABORTED'
                && report.failed_requests.length < 50) {
                report.failed_requests.push({ url: r.url(),
                                              failure: f.errorText });
            }
        });
        page.on('response', async (r) => {
            const u = new URL(r.url());
            if (r.status() >= 400 && report.failed_requests.length < 50) {
                report.failed_requests.push({ url: r.url(),
                                              status: r.status() });
            }
            try {
                if (u.pathname === '/feed') {
                    const j = await r.json();
                    report.pages.push((j.items || []).map((it) => ({
                        id: it.id, topic: (it.tags || [])[0],
                        tags: it.tags, reason: it.reason,
                        lineage: it.lineage ? it.lineage.kind : null })));
                } else if (u.pathname === '/feed/events') {
                    const sent = JSON.parse(r.request().postData() || '{}');
                    const j = await r.json();
                    report.events.push({
                        status: r.status(),
                        sent: (sent.events || []).length,
                        skips: (sent.events || []).filter((e) => e.skip)
                            .length,
                        accepted: j.accepted, rejected: j.rejected });
                }
            } catch (e) {
                report.failed_requests.push({ url: r.url(),
                                              failure: String(e) });
            }
        });

        await page.goto(report.url, { waitUntil: 'load', timeout: 30000 });
        report.hls_version = await page.evaluate(() =>
            window.Hls ? Hls.version : null);

        const at = (index) => page.waitForFunction((i) => {
            const a = document.querySelector(
                'article.clip[aria-current="true"]');
            const v = a && a.querySelector('video.main');
            return a && Number(a.dataset.index) === i && v
                && v.currentTime > 0 && !v.paused;
        }, index, { timeout: Math.min(20000, left()), polling: 50 });

        // plays: currentTime advances while the clip is on screen
        const advances = async (name, index, ms) => {
            try {
                await at(index);
            } catch (e) {
                return step(name, false, { error: String(e).split('\n')[0],
                                           screen: await page.evaluate(
                                               onScreen) });
            }
            const a = await page.evaluate(onScreen);
            await sleep(ms || 150);
            const b = await page.evaluate(onScreen);
            return step(name, b.index === index && b.time > a.time
                              && !b.paused,
                        { id: b.id, from: a.time, to: b.time,
                          rate: b.rate });
        };

        // moves on with a gesture; true once the next clip is on screen
        const cdp = await context.newCDPSession(page);
        const move = async (how, from) => {
            if (how === 'swipe') {
                // a finger drawn up a third of the screen in 120 ms
                const touch = (type, y) => cdp.send(
                    'Input.dispatchTouchEvent',
                    { type, touchPoints: y === null ? []
                                         : [{ x: 195, y }] });
                await touch('touchStart', 600);
                for (let k = 1; k <= 8; k++) {
                    await touch('touchMove', 600 - 35 * k);
                    await sleep(15);
                }
                await touch('touchEnd', null);
            } else if (how === 'wheel') {
                await page.mouse.move(150, 420);
                await page.mouse.wheel(0, 120);
            } else {
                await page.keyboard.press('ArrowDown');
            }
            const moved = await page.waitForFunction((n) => {
                const a = document.querySelector(
                    'article.clip[aria-current="true"]');
                return a && Number(a.dataset.index) === n;
            }, from + 1, { timeout: 8000, polling: 50 })
                .then(() => true, () => false);
            return step(`${how} moves to clip ${from + 1}`, moved,
                        { screen: await page.evaluate(onScreen) });
        };

        const loaded = await page.waitForFunction(() =>
            document.querySelectorAll('#feed article.clip').length > 0,
            null, { timeout: 15000 }).then(() => true, () => false);
        step('page loads with clips', loaded && report.hls_version !== null,
             { hls: report.hls_version });

        if (!await advances('first clip plays', 0)) {
            throw new Error('the first clip does not play');
        }

        // the topic to follow, from the first page
        const first = report.pages[0] || [];
        const shown = new Set(first.map((c) => c.id));
        const count = {};
        for (const c of first) {
            count[c.topic] = (count[c.topic] || 0) + 1;
        }
        const leftOf = (t) => catalog.filter((c) => c.tags[0] === t
                                             && !shown.has(c.id)).length;
        // (one the next page can hold more of than the first)
        const topics = Object.keys(count);
        const cands = topics.filter((t) => leftOf(t) >= MIN_LEFT
                                           && leftOf(t) > count[t]);
        const topic = (cands.length ? cands : topics).sort((x, y) =>
            count[y] - count[x] || leftOf(y) - leftOf(x)
            || x.localeCompare(y))[0];
        report.topic = topic;
        report.topic_left = leftOf(topic);
        report.unseen = catalog.length - shown.size;

        // walk the first page with the arrow key: the topic's clips to
        // the end, the others skipped as soon as they play (the page asks
        // for the next page two clips before the end, having sent the
        // events so far); a touch swipe leaves the first page, the wheel
        // moves on from the next page's first clip
        for (let i = 0; i < first.length; i++) {
            if (i > 0) {
                const playing = await at(i).then(() => true, () => false);
                if (!step(`clip ${i} plays`, playing,
                          { screen: await page.evaluate(onScreen) })) {
                    break;
                }
            }
            const clip = first[i];
            const follow = clip.topic === topic;

            if (follow) {
                const ok = await page.waitForFunction((n) => {
                    const a = document.querySelector(
                        'article.clip[aria-current="true"]');
                    return a && Number(a.dataset.index) === n
                        && Number(a.dataset.loops) >= 1;
                }, i, { timeout: Math.min(30000, left()), polling: 50 })
                    .then(() => true, () => false);
                if (!step(`clip ${i} (${clip.id}) watched to the end`, ok,
                          { screen: await page.evaluate(onScreen) })) {
                    break;
                }
            }
            report.watched.push({ id: clip.id, topic: clip.topic,
                                  watched: follow });

            if (!await move(i === first.length - 1 ? 'swipe' : 'key', i)) {
                break;
            }
        }

        // one clip per gesture, and the clip reached plays
        const n = first.length;
        if (report.steps.every((s) => s.ok)) {
            await advances(`clip ${n} (next page) plays after the swipe`, n,
                           500);
            step('the swipe moved one clip',
                 (await page.evaluate(onScreen)).index === n);
            if (await move('wheel', n)) {
                await advances(`clip ${n + 1} plays after the wheel`, n + 1,
                               500);
                step('the wheel moved one clip',
                     (await page.evaluate(onScreen)).index === n + 1);
            }
        }

        // the events of the whole first page reach the server
        const accepted = () => report.events.reduce((a, e) =>
            a + (e.accepted || 0), 0);
        for (let until = Date.now() + 8000;
             accepted() < first.length && Date.now() < until;) {
            await sleep(100);
        }
        const sentAll = accepted();
        step('the first page\'s events are accepted',
             sentAll >= first.length
             && report.events.every((e) => e.status === 200
                                    && e.rejected === 0),
             { accepted: sentAll });

        const share = (p) => p && p.length
            ? p.filter((c) => c.topic === topic).length / p.length : 0;
        report.share_first = share(report.pages[0]);
        report.share_next = share(report.pages[1]);
        report.share_unseen = report.topic_left / (report.unseen || 1);
        step('the next page has more of the topic',
             report.pages.length >= 2
             && report.share_next > report.share_first,
             { topic, first: report.share_first, next: report.share_next });
        // and more than a page drawn at random from the clips not shown
        // yet would hold on average
        step('the next page has more of the topic than chance',
             report.share_next > report.share_unseen,
             { topic, next: report.share_next,
               unseen: report.share_unseen });

        step('no page errors', report.page_errors.length === 0);
    } catch (e) {
        step('harness', false, { error: String(e && e.stack || e) });
    }

    report.ok = report.steps.length > 0 && report.steps.every((s) => s.ok);
    report.elapsed = (Date.now() - t0) / 1000;

    try {
        if (!report.ok && opt.screenshot && page) {
            await page.screenshot({ path: opt.screenshot });
            report.screenshot = opt.screenshot;
        }
    } finally {
        await browser.close();
    }

    process.stdout.write(JSON.stringify(report) + '\n');
    release();
}


main().catch((e) => {
    process.stderr.write(`demo.js: ${e && e.stack ? e.stack : e}\n`);
    process.exit(3);
});
