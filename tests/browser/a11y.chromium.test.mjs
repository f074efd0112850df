// a11y.chromium.test.mjs - WCAG 2.1 AA on every page state (real Chromium,
// nginx, Janus, a P2P call on loopback): axe-core (a11y.mjs) finds no
// serious or critical violation, and walking each state with the Tab key
// every focused element shows a focus ring with at least 3:1 contrast to
// what surrounds it (light pages and the dark call view alike); buttons and
// fields use the text's font.
//
// The states are one table, STATES, walked in order; each line reaches its
// state from the line before on the same tab. A new state is one line:
//   { tab, state, reach: async (c) => ..., shown: 'selector', after?: async (c) => ... }
// tab: a browser tab by name (c.open creates it; 'patient...' tabs are
// phone sized, 390x844), reach: what a user does to get there (c: the
// context below), shown: what is visible once there, after: optional, run
// once the state was checked (e.g. close a dialog). Screenshots of each
// state: tests/artifacts/a11y-chromium/. Moderate/minor axe findings are
// printed as diagnostics, not failures. At the end a negative control:
// planted faults (pale text, an image without text, a pale focus ring) on
// the index page must be reported, so a silent checker cannot pass.
//
// c (context): c.origin, c.practice ({slug, name, phone}), c.doctor, c.staff
// (a reception WebSocket handle: c.staff.handle.call({...})), c.link (the
// patient link booked by the reception page), c.tab(name) (drive() of that
// tab), c.open(name, pathOrUrl), c.login(name, 'doctor'|'reception'),
// c.book(), c.join(name), c.acceptCall(name), c.media(name), c.toggles(name,
// on) (clicks #mute and #camera: aria-pressed follows, the labels stay).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PASSWORDS, artifacts, closeAll, drive, harness, launchChromium, selectValue, startStack, step, waitFor, waitForMedia, watchConsole,
} from './lib.mjs';
import { axeCheck, focusRingFindings, fontFindings } from './a11y.mjs';

const PHONE = { width: 390, height: 844 };

const STATES = [
  { tab: 'index', state: 'start', reach: (c) => c.open('index', '/index.html'), shown: 'main h1' },
  { tab: 'terms', state: 'start', reach: (c) => c.open('terms', '/terms.html'), shown: 'main h1' },
  { tab: 'patient-invalid', state: 'error code invalid', reach: (c) => c.open('patient-invalid', `/patient.html?p=${c.practice.slug}#ZZZZ-ZZZZ-ZZZZ`), shown: '#code-error' },
  { tab: 'reception', state: 'login', reach: (c) => c.open('reception', '/reception.html'), shown: '#login-form' },
  { tab: 'reception', state: 'list', reach: (c) => c.login('reception', 'reception'), shown: '#create-form' },
  { tab: 'reception', state: 'booked', reach: (c) => c.book(), shown: '#result' },
  { tab: 'reception', state: 'cancel dialog', reach: (c) => c.tab('reception').click('#appointments [data-testid=cancel]'), shown: '#confirm-dialog[open]', after: (c) => c.tab('reception').click('#confirm-no') },
  { tab: 'reception', state: 'message box', reach: (c) => c.tab('reception').click('#msg-box summary'), shown: '#msg-text' },
  { tab: 'patient', state: 'first page', reach: (c) => c.open('patient', c.link), shown: '#appt-info' },
  { tab: 'patient', state: 'waiting', reach: (c) => c.join('patient'), shown: '#waiting' },
  { tab: 'doctor', state: 'login', reach: (c) => c.open('doctor', '/doctor.html'), shown: '#login-form' },
  { tab: 'doctor', state: 'list', reach: (c) => c.login('doctor', 'doctor'), shown: '#waiting-list button.call' },
  { tab: 'doctor', state: 'message box', reach: (c) => c.tab('doctor').click('#msg-box summary'), shown: '#msg-text' },
  { tab: 'patient', state: 'ringing', reach: (c) => c.tab('doctor').click('#waiting-list button.call'), shown: '#ringing' },
  { tab: 'patient', state: 'call', reach: (c) => c.acceptCall('patient'), shown: '#call' },
  { tab: 'doctor', state: 'call', reach: (c) => c.media('doctor'), shown: '#call' },
  { tab: 'patient', state: 'call muted, camera off', reach: (c) => c.toggles('patient', true), shown: '#mute[aria-pressed=true]', after: (c) => c.toggles('patient', false) },
  { tab: 'patient', state: 'ended', reach: (c) => c.tab('doctor').click('#hangup'), shown: '#ended' },
];

test('accessibility: no serious/critical axe-core violation and a visible focus ring in every page state', { timeout: 420_000 }, async (t) => {
  const { connectHandle } = await import(harness('client.mjs'));
  const art = artifacts('a11y-chromium');
  const consoleLines = [];
  const failures = [];
  let stack = null, browser = null, staff = null;
  try {
    stack = await step('start Janus + nginx + seed', startStack(), 90_000);
    const { janus, origin, practice, doctor } = stack;
    staff = await connectHandle(janus.wsUrl);
    await staff.handle.call({ request: 'login', username: 'empfang', password: PASSWORDS.reception });
    browser = await step('launch Chromium', launchChromium('a11y'), 90_000);

    const tabs = new Map();
    const c = {
      origin, practice, doctor, staff, link: null,
      tab(name) {
        const d = tabs.get(name);
        if (!d) throw new Error(`no tab ${name} (open it first)`);
        return d;
      },
      async open(name, where) {
        if (!tabs.has(name)) {
          const page = await browser.newPage();
          watchConsole(page, name, consoleLines);
          if (name.startsWith('patient')) await page.setViewportSize(PHONE);
          tabs.set(name, drive(page, name));
        }
        await c.tab(name).goto(where.startsWith('http') ? where : origin + where);
      },
      async login(name, who) {
        const d = c.tab(name);
        await d.fill('#username', who === 'doctor' ? doctor.username : 'empfang');
        await d.fill('#password', PASSWORDS[who]);
        await d.click('#login');
      },
      async book() {
        const d = c.tab('reception');
        await selectValue(d, '#doctor', String(doctor.id));
        const when = await d.evaluate(() => {
          const x = new Date(Date.now() + 5 * 60_000);
          const p = (n) => String(n).padStart(2, '0');
          return { date: `${x.getFullYear()}-${p(x.getMonth() + 1)}-${p(x.getDate())}`, time: `${p(x.getHours())}:${p(x.getMinutes())}` };
        });
        await d.fill('#date', when.date);
        await d.fill('#time', when.time);
        await d.click('#create');
        c.link = await waitFor('reception: #result-link holds the patient link', async () => {
          const v = await d.value('#result-link');
          return v && /\/patient\.html\?p=[^#]+#./.test(v) ? v : null;
        }, 30_000);
        await d.waitVisible('#appointments [data-testid=cancel]');
      },
      async join(name) {
        const d = c.tab(name);
        await d.fill('#first-name', 'Ada');
        await d.fill('#last-name', 'Barrierefrei');
        await d.check('#accept-terms');
        await d.click('#start');
      },
      async acceptCall(name) {
        await c.tab(name).click('#accept-call');
        await c.media(name);
      },
      // #mute / #camera are toggle buttons: the label stays, aria-pressed
      // carries the state (a screen reader says "Mikrofon aus, gedrückt")
      async toggles(name, on) {
        const d = c.tab(name);
        const labels = () => d.evaluate(() => ['mute', 'camera'].map((id) => document.getElementById(id).textContent));
        const before = await labels();
        assert.deepEqual(before, ['Mikrofon aus', 'Kamera aus'], 'fixed labels');
        await d.click('#mute');
        await d.click('#camera');
        await waitFor(`${name}: #mute and #camera pressed=${on}`, () => d.evaluate((v) => ['mute', 'camera']
          .every((id) => document.getElementById(id).getAttribute('aria-pressed') === v), String(on)), 30_000);
        assert.deepEqual(await labels(), before, 'the labels do not change with the state');
      },
      async media(name) {
        await waitForMedia(c.tab(name).page, name);
      },
    };

    for (const s of STATES) {
      const label = `${s.tab} ${s.state}`;
      await step(`${label}: reach`, () => s.reach(c), 90_000);
      const d = c.tab(s.tab);
      await d.waitVisible(s.shown, 30_000);
      await d.page.bringToFront();
      const ax = await step(`${label}: axe-core`, axeCheck(d.page, { label }), 60_000);
      if (ax.failing.length) failures.push(ax.summary);
      else if (ax.others.length) for (const line of ax.summary.split('\n')) t.diagnostic(line);
      const ring = await step(`${label}: focus rings`, focusRingFindings(d.page), 60_000);
      if (!ring.visited.length) failures.push(`${label}: the Tab key reached nothing`);
      for (const f of ring.findings) failures.push(`${label}: ${f}`);
      for (const f of await fontFindings(d.page)) failures.push(`${label}: ${f}`);
      t.diagnostic(`${label}: axe ${ax.failing.length} serious/critical, ${ax.others.length} moderate/minor, ${ax.incomplete} undecided; Tab reached ${ring.visited.length}: ${ring.visited.join(' ')}`);
      await art.shot(d.page, label.replace(/[^a-z0-9]+/gi, '-'));
      if (s.after) await step(`${label}: after`, () => s.after(c), 30_000);
    }
    assert.deepEqual(failures, [], 'accessibility findings');

    // The checks can fail: text of 1.6:1 and an image without text on the
    // index page are reported by axe-core, a focus ring of 1.6:1 by the walk.
    const d = c.tab('index');
    await d.evaluate(() => {
      const p = document.createElement('p');
      p.id = 'control-low';
      p.textContent = 'kaum lesbar';
      p.style.cssText = 'color:#c0c0c0;background:#fff';
      const img = document.createElement('img');
      img.src = 'data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=';
      img.width = 20;
      img.height = 20;
      const a = document.createElement('a');
      a.href = '#';
      a.textContent = 'Kontrolle';
      a.style.cssText = 'outline:3px solid #c0c0c0;outline-offset:2px';
      document.querySelector('main').append(p, img, a);
    });
    const control = await axeCheck(d.page, { label: 'control' });
    const ids = control.failing.map((v) => v.id);
    assert.ok(ids.includes('color-contrast') && ids.includes('image-alt'), `axe-core reports the planted faults (got ${control.summary})`);
    const ring = await focusRingFindings(d.page);
    assert.ok(ring.findings.some((f) => f.includes('"Kontrolle"') && f.includes('< 3:1')), `the focus walk reports the pale ring (got ${JSON.stringify(ring)})`);
  } catch (err) {
    if (consoleLines.length) err.message += `\n--- page consoles ---\n${consoleLines.slice(-30).join('\n')}`;
    throw err;
  } finally {
    await closeAll(browser, staff && { close: () => staff.client.destroy() });
    if (stack) await stack.stop();
  }
});
