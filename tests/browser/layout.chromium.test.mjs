// layout.chromium.test.mjs - phone first: at 320x568, 390x844 and 844x390
// (real Chromium, nginx, Janus, a P2P call on loopback) the patient walks
// first page -> waiting room -> ringing -> call -> closing page, the doctor
// (a second page, desktop size) calling and hanging up.
//
// In every state, scrolled to the top: each primary action ("Sitzung
// starten", "Annehmen", "Ablehnen", mic, camera, "Auflegen") lies inside the
// viewport and is the element on top at its centre (nothing covers it); the
// page never scrolls sideways. In the call: the doctor's picture (the video's
// content box under object-fit) lies inside the viewport and fills the video
// area in one direction; the self-view is inside the viewport, small
// (<= 10 % of the screen), and neither it nor any other overlay (controls,
// call info, status) covers the centre of the doctor's picture (the middle
// half in both directions, sampled with elementFromPoint). Every state again
// with the text at 200 % (nothing cut off, no sideways scrolling, the call's
// status, self-view, info and controls apart), and at 390x844 and 844x390
// right to left. Screenshots of each state: tests/artifacts/layout-chromium/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PASSWORDS, artifacts, closeAll, drive, harness, launchChromium, startStack, step, waitFor, waitForMedia, watchConsole,
} from './lib.mjs';

// rtl: the size is also checked right to left (dir="rtl" on <html>, as the
// Arabic page has it): the same checks, and the self-view in the top-left corner.
const SIZES = [
  { name: '320x568', width: 320, height: 568, last: 'Kleinbild' },
  { name: '390x844', width: 390, height: 844, last: 'Hochformat', rtl: true },
  { name: '844x390', width: 844, height: 390, last: 'Querformat', rtl: true },
];

// The page's layout in its current state, scrolled to the top. zoom false:
// each of `actions` lies inside the viewport and is the element on top at
// its centre. zoom true, text at 200 % (the root font size doubled, as a
// reader's larger default font does): each of `actions` is still shown,
// inside the viewport's width. Both: the page does not scroll sideways, no
// box cuts off its content or lets it run out (a word wider than its button,
// text taller than a box of fixed height), and the shown boxes of `apart` do
// not overlap.
async function layoutFindings(d, { actions, apart = [], zoom = false }) {
  return d.evaluate(({ sels, apartSels, big }) => {
    const root = document.documentElement;
    const before = root.style.fontSize;
    if (big) root.style.fontSize = '200%';
    try {
      window.scrollTo(0, 0);
      const W = window.innerWidth;
      const H = window.innerHeight;
      const out = [];
      const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\s+/).join('.') : '');
      const shown = (r) => r && r.width > 1 && r.height > 1;
      if (root.scrollWidth > W + 1) {
        // the innermost elements reaching past an edge
        const past = (r) => shown(r) && (r.right > W + 1 || r.left < -1);
        const wide = [...document.body.querySelectorAll('*')]
          .filter((el) => past(el.getBoundingClientRect()) && ![...el.children].some((c) => past(c.getBoundingClientRect())))
          .slice(0, 4).map(name);
        out.push(`page scrolls sideways (scrollWidth ${root.scrollWidth} > ${W}: ${wide.join(', ')})`);
      }
      for (const s of sels) {
        const el = document.querySelector(s);
        const r = el && el.getBoundingClientRect();
        const box = r ? `[${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}x${Math.round(r.height)}]` : '';
        if (!shown(r) || getComputedStyle(el).visibility === 'hidden') { out.push(`${s}: not shown ${box}`); continue; }
        if (r.left < -0.5 || r.right > W + 0.5 || (!big && (r.top < -0.5 || r.bottom > H + 0.5))) {
          out.push(`${s}: ${box} outside the ${W}x${H} viewport`);
          continue;
        }
        if (big) continue;
        const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (!top || (top !== el && !el.contains(top))) out.push(`${s}: covered at its centre by ${top ? name(top) : 'nothing'}`);
      }
      const boxes = apartSels.map((s) => [s, document.querySelector(s)?.getBoundingClientRect()]).filter(([, r]) => shown(r));
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const [a, p] = boxes[i];
          const [b, q] = boxes[j];
          if (p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1) out.push(`${a} and ${b} overlap`);
        }
      }
      const clips = (o) => o === 'hidden' || o === 'clip';
      for (const el of document.body.querySelectorAll('*')) {
        if (el.matches('video, svg, svg *, option, script, dialog:not([open])')) continue;
        const st = getComputedStyle(el);
        if (st.display === 'none' || st.display === 'inline' || !shown(el.getBoundingClientRect())) continue; // 1px: only for screen readers
        const size = `${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight}`;
        const overX = el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1;
        const overY = el.clientHeight > 0 && el.scrollHeight > el.clientHeight + 1;
        if ((clips(st.overflowX) && overX) || (clips(st.overflowY) && overY)) out.push(`${name(el)} cuts off its content (${size})`);
        else if ((st.overflowX === 'visible' && overX) || (st.overflowY === 'visible' && overY)) out.push(`${name(el)}: content runs out of its box (${size})`);
      }
      return out;
    } finally {
      root.style.fontSize = before;
    }
  }, { sels: actions, apartSels: apart, big: zoom });
}

// The call view's geometry; see the file comment.
async function callFindings(d) {
  return d.evaluate(() => {
    window.scrollTo(0, 0);
    const W = window.innerWidth;
    const H = window.innerHeight;
    const out = [];
    const remote = document.getElementById('remote-video');
    const local = document.getElementById('local-video');
    const rr = remote.getBoundingClientRect();
    const lr = local.getBoundingClientRect();
    const fit = getComputedStyle(remote).objectFit;
    const vw = remote.videoWidth;
    const vh = remote.videoHeight;
    if (!vw || !vh) return [`remote video has no picture (${vw}x${vh})`];
    if (fit !== 'contain' && fit !== 'cover') out.push(`remote video object-fit ${fit}`);
    // The picture's box inside the element.
    let c = { left: rr.left, top: rr.top, width: rr.width, height: rr.height };
    if (fit === 'contain') {
      const s = Math.min(rr.width / vw, rr.height / vh);
      c = { left: rr.left + (rr.width - vw * s) / 2, top: rr.top + (rr.height - vh * s) / 2, width: vw * s, height: vh * s };
    }
    c.right = c.left + c.width;
    c.bottom = c.top + c.height;
    if (fit === 'contain' && (c.left < -0.5 || c.top < -0.5 || c.right > W + 0.5 || c.bottom > H + 0.5)) {
      out.push(`the doctor's picture [${Math.round(c.left)},${Math.round(c.top)} ${Math.round(c.width)}x${Math.round(c.height)}] is cut off by the ${W}x${H} viewport`);
    }
    if (Math.abs(c.width - rr.width) > 2 && Math.abs(c.height - rr.height) > 2) {
      out.push(`the doctor's picture (${Math.round(c.width)}x${Math.round(c.height)}) does not fill its area (${Math.round(rr.width)}x${Math.round(rr.height)}) in either direction`);
    }
    if (c.width * c.height < 0.2 * W * H) out.push(`the doctor's picture is small: ${Math.round(c.width)}x${Math.round(c.height)} of ${W}x${H}`);
    if (!local.videoWidth) out.push('self-view shows no picture');
    if (lr.width === 0 || lr.left < -0.5 || lr.top < -0.5 || lr.right > W + 0.5 || lr.bottom > H + 0.5) {
      out.push(`self-view [${Math.round(lr.left)},${Math.round(lr.top)} ${Math.round(lr.width)}x${Math.round(lr.height)}] not inside the viewport`);
    }
    if (lr.width * lr.height > 0.1 * W * H) out.push(`self-view too large: ${Math.round(lr.width)}x${Math.round(lr.height)} on ${W}x${H}`);
    // The centre of the doctor's picture (visible part): the middle half.
    const vis = { left: Math.max(c.left, 0), top: Math.max(c.top, 0), right: Math.min(c.right, W), bottom: Math.min(c.bottom, H) };
    const cx0 = vis.left + (vis.right - vis.left) / 4;
    const cy0 = vis.top + (vis.bottom - vis.top) / 4;
    const cw = (vis.right - vis.left) / 2;
    const ch = (vis.bottom - vis.top) / 2;
    const covering = new Set();
    for (let i = 0; i <= 6; i++) {
      for (let j = 0; j <= 6; j++) {
        const x = cx0 + (cw * i) / 6;
        const y = cy0 + (ch * j) / 6;
        const top = document.elementFromPoint(Math.min(x, W - 1), Math.min(y, H - 1));
        if (top !== remote) covering.add(top ? top.tagName.toLowerCase() + (top.id ? '#' + top.id : '') + (top.className ? '.' + top.className : '') : 'nothing');
      }
    }
    if (covering.size) out.push(`the centre of the doctor's picture is covered by ${[...covering].join(', ')}`);
    const overlap = !(lr.right <= cx0 || lr.left >= cx0 + cw || lr.bottom <= cy0 || lr.top >= cy0 + ch);
    if (overlap) out.push('the self-view overlaps the centre of the doctor\'s picture');
    return out;
  });
}

test('layout: every primary action on screen at 320x568, 390x844 and 844x390; the self-view never on the doctor\'s face', { timeout: 420_000 }, async () => {
  const { connectHandle } = await import(harness('client.mjs'));
  const art = artifacts('layout-chromium');
  const consoleLines = [];
  // Every state is checked and screenshotted; the findings of all of them
  // are asserted at the end (one run shows every size's problems).
  const problems = [];
  const assertActions = async (d, actions, where, apart = []) => {
    for (const p of await layoutFindings(d, { actions, apart })) problems.push(`${where}: ${p}`);
    for (const p of await layoutFindings(d, { actions, apart, zoom: true })) problems.push(`${where}, text at 200 %: ${p}`);
  };
  // The same right to left, with a screenshot; returns to left to right.
  const rtl = async (d, actions, where, label, apart = []) => {
    await d.evaluate(() => { document.documentElement.dir = 'rtl'; });
    try {
      for (const p of await layoutFindings(d, { actions, apart })) problems.push(`${where}, right to left: ${p}`);
      await art.shot(d.page, `${label}-rtl`);
    } finally {
      await d.evaluate(() => { document.documentElement.removeAttribute('dir'); });
    }
  };
  // A screenshot with the text at 200 %.
  const shot200 = async (page, label) => {
    await page.evaluate(() => { document.documentElement.style.fontSize = '200%'; window.scrollTo(0, 0); });
    await art.shot(page, `${label}-text200`);
    await page.evaluate(() => { document.documentElement.style.fontSize = ''; });
  };
  let stack = null, browser = null, staff = null;
  try {
    stack = await step('start Janus + nginx + seed', startStack(), 90_000);
    const { janus, origin, practice, doctor, reception } = stack;
    staff = await connectHandle(janus.wsUrl);
    await staff.handle.call({ request: 'login', username: reception.username, password: PASSWORDS.reception });

    browser = await step('launch Chromium', launchChromium('layout'), 90_000);
    const docPage = await browser.newPage();
    watchConsole(docPage, 'doctor', consoleLines);
    const doc = drive(docPage, 'doctor');
    await doc.goto(`${origin}/doctor.html`);
    await doc.fill('#username', doctor.username);
    await doc.fill('#password', PASSWORDS.doctor);
    await doc.click('#login');
    await doc.waitVisible('#list-view');

    for (const size of SIZES) {
      const at = `${size.name}`;
      const appt = await staff.handle.call({ request: 'create_appointment', doctor_id: doctor.id, starts_at: Math.floor(Date.now() / 1000) + 60 });
      const patPage = await browser.newPage();
      watchConsole(patPage, `patient ${at}`, consoleLines);
      await patPage.setViewportSize({ width: size.width, height: size.height });
      const pat = drive(patPage, `patient ${at}`);
      await pat.goto(`${origin}/patient.html?p=${practice.slug}#${appt.code}`);
      await waitFor(`${at}: practice name and appointment shown`, async () =>
        (await pat.text('#practice-name')) === practice.name && pat.visible('#appt-info'), 30_000);
      await assertActions(pat, ['#start', '#accept-terms', '#first-name', '#last-name'], `${at} first page`);
      await art.shot(patPage, `${at}-first-page`);
      await shot200(patPage, `${at}-first-page`);
      if (size.rtl) await rtl(pat, ['#start', '#accept-terms', '#first-name', '#last-name'], `${at} first page`, `${at}-first-page`);

      await pat.fill('#first-name', 'Lea');
      await pat.fill('#last-name', size.last);
      await pat.check('#accept-terms');
      await pat.click('#start');
      await pat.waitVisible('#waiting');
      await assertActions(pat, ['#ahead-text'], `${at} waiting room`);
      await art.shot(patPage, `${at}-waiting`);

      await waitFor(`doctor: ${size.last} can be called`, () => doc.evaluate((last) => {
        const rows = [...document.querySelectorAll('#waiting-list [data-visit-id]')];
        const b = rows.length === 1 && rows[0].textContent.includes(last) && rows[0].querySelector('button.call');
        return !!b && !b.disabled;
      }, size.last), 30_000);
      await doc.click('#waiting-list button.call');
      await pat.waitVisible('#ringing', 30_000);
      await assertActions(pat, ['#accept-call', '#decline-call'], `${at} ringing`);
      await art.shot(patPage, `${at}-ringing`);

      await pat.click('#accept-call');
      await pat.waitVisible('#call', 30_000);
      await waitForMedia(patPage, `patient ${at}`);
      // the call info at its tallest: with the verification code
      await waitFor(`${at}: self-view and the doctor's picture playing, the verification code shown`, () => pat.evaluate(() =>
        document.getElementById('local-video').videoWidth > 0 && document.getElementById('remote-video').videoWidth > 0 &&
        !!window.consult.verifyCode && !document.getElementById('verify').hidden), 30_000);
      await assertActions(pat, ['#mute', '#camera', '#hangup'], `${at} call`,
        ['#call-status', '#local-video', '#call > .call-info', '#call > .controls']);
      // A phone with a front and a back camera also shows "Kamera wechseln"
      // (the fake device has one camera: shown here by hand).
      await pat.evaluate(() => { document.getElementById('switch-camera').hidden = false; });
      await assertActions(pat, ['#mute', '#camera', '#switch-camera', '#hangup'], `${at} call with two cameras`,
        ['#call-status', '#local-video', '#call > .call-info', '#call > .controls']);
      for (const p of await callFindings(pat)) problems.push(`${at} call with two cameras: ${p}`);
      await art.shot(patPage, `${at}-call-two-cameras`);
      await pat.evaluate(() => { document.getElementById('switch-camera').hidden = true; });
      // A message during the call (#call-error as after a lost connection,
      // shown here by hand with the page's text): the controls stay on screen.
      await pat.evaluate(() => {
        const e = document.getElementById('call-error');
        e.textContent = 'Die Verbindung ist abgebrochen. Bitte rufen Sie die Praxis an: 0721-5550100.';
        e.hidden = false;
      });
      await assertActions(pat, ['#call-error', '#mute', '#camera', '#hangup'], `${at} call with a message`);
      await art.shot(patPage, `${at}-call-message`);
      await pat.evaluate(() => { const e = document.getElementById('call-error'); e.hidden = true; e.textContent = ''; });
      const findings = await callFindings(pat);
      await art.shot(patPage, `${at}-call`);
      await shot200(patPage, `${at}-call`);
      if (size.rtl) {
        await rtl(pat, ['#mute', '#camera', '#hangup'], `${at} call`, `${at}-call`, ['#call-status', '#local-video', '#call > .call-info', '#call > .controls']);
        await pat.evaluate(() => { document.documentElement.dir = 'rtl'; });
        const side = await pat.evaluate(() => {
          const l = document.getElementById('local-video').getBoundingClientRect();
          return l.right <= window.innerWidth / 2 ? 'left' : 'right';
        });
        await pat.evaluate(() => { document.documentElement.removeAttribute('dir'); });
        if (side !== 'left') problems.push(`${at} call, right to left: the self-view is on the ${side}, not at the inline end (left)`);
      }
      for (const p of findings) problems.push(`${at} call view: ${p}`);
      if (size === SIZES[0]) await art.shot(docPage, 'doctor-call');

      await doc.click('#hangup');
      await pat.waitVisible('#ended', 30_000);
      await assertActions(pat, ['#ended'], `${at} closing page`);
      await art.shot(patPage, `${at}-ended`);
      await waitFor('doctor: back to the list', async () => (await doc.evaluate(() => window.consult.state)) === 'list', 30_000);
      await patPage.close();
    }
    assert.deepEqual(problems, [], 'phone layout');
  } catch (err) {
    if (consoleLines.length) err.message += `\n--- page consoles ---\n${consoleLines.slice(-40).join('\n')}`;
    throw err;
  } finally {
    await closeAll(browser, staff && { close: () => staff.client.destroy() });
    if (stack) await stack.stop();
  }
});
