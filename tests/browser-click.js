// browser-click.js - drives a headless Chromium over the DevTools protocol for tests/http.bats:
// loads tend's status page, saves a screenshot, clicks (a real mouse press and release) the
// button ACTION of process NAME, waits for the page that the POST leads to, saves a second
// screenshot and prints the process's state as that page shows it.
// Usage: node --experimental-websocket browser-click.js DEVTOOLS_PORT URL NAME ACTION SHOT1 SHOT2
'use strict';
const fs = require('fs');

const [devtoolsPort, url, name, action, shot1, shot2] = process.argv.slice(2);

async function devtoolsPage() {
    const deadline = Date.now() + 30000;
    for (;;) {
        try {
            const list = await (await fetch(`http://127.0.0.1:${devtoolsPort}/json/list`)).json();
            const page = list.find((t) => t.type === 'page');
            if (page) {
                return page.webSocketDebuggerUrl;
            }
        } catch (e) {
            // not listening yet
        }
        if (Date.now() > deadline) {
            throw new Error('chromium did not open its DevTools port');
        }
        await new Promise((r) => setTimeout(r, 100));
    }
}

async function main() {
    const ws = new WebSocket(await devtoolsPage());
    await new Promise((resolve, reject) => {
        ws.onopen = resolve;
        ws.onerror = reject;
    });
    let nextId = 1;
    const waiting = new Map();
    const listeners = [];
    ws.onmessage = (ev) => {
        const msg = JSON.parse(ev.data);
        if (msg.id && waiting.has(msg.id)) {
            const { resolve, reject } = waiting.get(msg.id);
            waiting.delete(msg.id);
            msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result);
        } else if (msg.method) {
            listeners.forEach((l) => l(msg));
        }
    };
    const send = (method, params = {}) =>
        new Promise((resolve, reject) => {
            const id = nextId++;
            waiting.set(id, { resolve, reject });
            ws.send(JSON.stringify({ id, method, params }));
        });
    const loaded = () =>
        new Promise((resolve) => {
            const l = (msg) => {
                if (msg.method === 'Page.loadEventFired') {
                    listeners.splice(listeners.indexOf(l), 1);
                    resolve();
                }
            };
            listeners.push(l);
        });
    const evaluate = async (expr) =>
        (await send('Runtime.evaluate', { expression: expr, returnByValue: true })).result.value;
    const screenshot = async (file) => {
        const { data } = await send('Page.captureScreenshot', { format: 'png' });
        fs.writeFileSync(file, Buffer.from(data, 'base64'));
    };

    await send('Page.enable');
    await send('Runtime.enable');
    // a phone-sized window: the page must be readable there
    await send('Emulation.setDeviceMetricsOverride', {
        width: 420, height: 800, deviceScaleFactor: 1, mobile: true,
    });
    let load = loaded();
    await send('Page.navigate', { url });
    await load;
    await screenshot(shot1);
    const sel = `#proc-${name} button[value=${action}]`;
    const rect = await evaluate(
        `(() => { const b = document.querySelector(${JSON.stringify(sel)});
                  if (!b) return null; b.scrollIntoView();
                  const r = b.getBoundingClientRect();
                  return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()`);
    if (!rect) {
        throw new Error(`no button ${sel} on the page`);
    }
    load = loaded();
    for (const type of ['mousePressed', 'mouseReleased']) {
        await send('Input.dispatchMouseEvent', {
            type, x: rect.x, y: rect.y, button: 'left', clickCount: 1,
        });
    }
    await load;
    await screenshot(shot2);
    const state = await evaluate(
        `document.querySelector(${JSON.stringify(`#proc-${name} .state`)}).textContent`);
    const where = await evaluate('location.pathname + location.search');
    console.log(`${state} ${where}`);
    ws.close();
}

main().then(
    () => process.exit(0),
    (e) => {
        console.error(`browser-click: ${e.message}`);
        process.exit(1);
    });
