// launch.js: what the browser drivers (play.js, demo.js) share: where the
// npm packages and Chromium are, and a headless Chromium started with a
// hard deadline in case the browser itself hangs.
//
// Environment: FEED_CHROMIUM (default /usr/bin/chromium), FEED_NODE_MODULES
// (default build/node/node_modules of this checkout).

'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const ROOT = path.resolve(__dirname, '..', '..');
const MODULES = process.env.FEED_NODE_MODULES
    || path.join(ROOT, 'build', 'node', 'node_modules');
const CHROMIUM = process.env.FEED_CHROMIUM || '/usr/bin/chromium';

let hardTimer = null;

// a require() from the npm install; exits 3 when it is not there

function packages(prog) {
    try {
        const req = createRequire(path.join(MODULES, 'noop.js'));
        req.resolve('playwright-core');
        return req;
    } catch (e) {
        process.stderr.write(`${prog}: cannot load packages from ${MODULES}`
                             + ` (make browser-deps): ${e.message}\n`);
        process.exit(3);
    }
    return null;
}

// headless Chromium; exits 3 without it, 4 if it has not let go
// `timeout` + 30 seconds from now

async function launch(prog, req, timeout) {
    const { chromium } = req('playwright-core');
    const held = { browser: null };

    if (!fs.existsSync(CHROMIUM)) {
        process.stderr.write(`${prog}: no browser at ${CHROMIUM}\n`);
        process.exit(3);
    }

    hardTimer = setTimeout(() => {
        process.stderr.write(`${prog}: the browser did not answer, killed\n`);
        try {
            const p = held.browser && held.browser.process
                      && held.browser.process();
            if (p) {
                p.kill('SIGKILL');
            }
        } catch (e) {
            // exiting anyway
        }
        process.exit(4);
    }, (timeout + 30) * 1000);
    hardTimer.unref();

    const args = [
        '--autoplay-policy=no-user-gesture-required',
        '--mute-audio',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-features=MediaRouter',
    ];
    if (process.getuid && process.getuid() === 0) {
        args.push('--no-sandbox');
    }

    held.browser = await chromium.launch({
        executablePath: CHROMIUM, headless: true, args, timeout: 30000,
    });

    return held.browser;
}

// the run is over: the deadline no longer holds

function release() {
    if (hardTimer) {
        clearTimeout(hardTimer);
        hardTimer = null;
    }
}

module.exports = { ROOT, MODULES, CHROMIUM, packages, launch, release };
