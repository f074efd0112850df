// webkit.test.mjs - the patient page in Safari's engine: Debian's WebKitGTK
// (MiniBrowser under Xvfb, driven by WebKitWebDriver, mock camera and
// microphone; tests/webkit/lib.mjs) against the real stack (Janus with the
// plugin, nginx serving html/). WebKitGTK is built without WebRTC (no
// RTCPeerConnection); Safari has it. So:
// - as it is, WebKitGTK is a browser that cannot hold a call: the first page
//   says so at once, with the practice's phone number and the personal link,
//   and never joins (html/js/support.mjs; docs/pages.md);
// - with the stand-in (tests/webkit/pages/rtc-standin.js, put into
//   patient.html by a test nginx) the page sees an RTCPeerConnection as in
//   Safari, up to the call: the first page at 390x844, 320x568 and 844x390
//   (practice name and "Sitzung starten" inside the viewport), the waiting
//   room, the device check with a live preview of the mock camera, its
//   level meter, test sound and second camera (once the page has one), the
//   ringing with a ring tone the tap on "Sitzung starten" unlocked; no
//   PeerConnection is constructed before the ringing (the ringing may make
//   the call's one ahead where camera and microphone are granted,
//   session.prepareP2P; the stand-in refuses it and the page goes on);
// - a test page (tests/webkit/pages/preview.html): getUserMedia after a tap
//   gives a live inline preview, WebKit refuses sound without a tap or a
//   running capture, a camera switch to the second mock camera.
// Every wait is for a condition; screenshots in tests/artifacts/webkit-*/.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  PASSWORDS, artifacts, closeAll, harness, startStack, startStandIn, startWebKit, step,
} from './lib.mjs';

const SIZES = [[390, 844], [320, 568], [844, 390]];
const PATIENT = { first: 'Safira', last: 'Webkittel' };

let stack = null;
let standIn = null;
let wk = null;
let staff = null;
let doctor = null;

before(async () => {
  const { connectHandle } = await import(harness('client.mjs'));
  stack = await step('start Janus + nginx + seed', startStack(), 90_000);
  standIn = await step('start the stand-in nginx', startStandIn(stack), 30_000);
  staff = await connectHandle(stack.janus.wsUrl);
  await staff.handle.call({ request: 'login', username: stack.reception.username, password: PASSWORDS.reception });
  wk = await step('start Xvfb + WebKitWebDriver + MiniBrowser', startWebKit('webkit'), 120_000);
});

after(async () => {
  const close = (c) => async () => { if (c) await c.client.destroy(); };
  await closeAll(wk, close(doctor), close(staff), standIn && standIn.stop, stack && stack.stop);
});

async function book() {
  const r = await staff.handle.call({ request: 'create_appointment', doctor_id: stack.doctor.id, starts_at: Math.floor(Date.now() / 1000) + 120 });
  return { id: r.appointment_id, code: r.code };
}

async function appointmentStatus(id) {
  const { appointments } = await staff.handle.call({ request: 'list_appointments' });
  const row = appointments.find((a) => a.id === id);
  return row ? row.status : null;
}

// A full page load: WebDriver's navigation to a URL that differs only in
// the fragment would stay in the page (patient.html drops the code from
// the address bar, so the next link with a code looks like that).
async function load(s, url) {
  await s.navigate('about:blank');
  await s.navigate(url);
}

// German unless asked otherwise: the page would follow the browser's
// language, which for WebKitGTK comes from the runner's locale.
const patientUrl = (origin, code, query = '&lang=de') => `${origin}/patient.html?p=${stack.practice.slug}${query}${code ? '#' + code : ''}`;

/** The no-calls notice as the patient sees it, or null until the practice's phone is in it. */
function readNotice() {
  const box = document.getElementById('unsupported');
  const tel = box && box.querySelector('#unsupported-phone a');
  if (!tel) return null;
  const txt = (id) => { const el = document.getElementById(id); return el ? el.textContent.replace(/\s+/g, ' ').trim() : null; };
  const shown = (id) => {
    const el = document.getElementById(id);
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return getComputedStyle(el).display !== 'none' && r.width > 0 && r.height > 0;
  };
  return {
    state: window.consult && window.consult.state,
    missing: box.dataset.missing,
    title: txt('unsupported-title'),
    what: txt('unsupported-what'),
    phone: txt('unsupported-phone'),
    tel: tel.getAttribute('href'),
    link: document.getElementById('unsupported-link').value,
    practice: txt('practice-name'),
    error: document.getElementById('error').hidden ? '' : txt('error'),
    formShown: shown('join-form'),
    startShown: shown('start'),
  };
}

/** Checks that each selector is rendered and inside the viewport; returns the problems. */
async function outside(s, sels, where) {
  const problems = [];
  await s.exec(() => window.scrollTo(0, 0));
  for (const sel of sels) {
    const b = await s.visibleBox(sel);
    if (!b || !b.visible) problems.push(`${where}: ${sel} not rendered`);
    else if (!b.inViewport) problems.push(`${where}: ${sel} outside the ${b.vw}x${b.vh} viewport (x ${Math.round(b.x)}, y ${Math.round(b.y)}, ${Math.round(b.width)}x${Math.round(b.height)})`);
  }
  return problems;
}

test('WebKitGTK has no WebRTC: the first page says video calls are impossible in this browser, with the practice phone and the personal link, and never joins', { timeout: 240_000 }, async () => {
  const art = artifacts('webkit-no-webrtc');
  const s = wk.session;
  const { id, code } = await book();
  await s.setViewport(390, 844);
  await load(s, patientUrl(stack.origin, code));
  const v = await s.waitFor('the notice with the practice phone', () => s.exec(readNotice), 30_000);
  await art.shot(s, 'notice-390x844');
  assert.equal(await s.exec(() => typeof window.RTCPeerConnection), 'undefined', 'this WebKitGTK has no RTCPeerConnection');
  assert.equal(v.missing, 'webrtc', 'only WebRTC is missing (mock camera and microphone are there)');
  assert.equal(v.title, 'In diesem Browser sind keine Videogespräche möglich');
  assert.match(v.what, /Safari \(iPhone, iPad, Mac\), Chrome, Edge oder Firefox/);
  assert.equal(v.phone, 'Fragen? Rufen Sie Ihre Praxis an: 0721-5550100.');
  assert.equal(v.tel, 'tel:07215550100');
  assert.equal(v.link, patientUrl(stack.origin, code), 'the personal link carries the code');
  assert.equal(v.practice, 'Hautärzte am Prüfstand');
  assert.equal(v.error, '', 'no other error (such as "Keine Verbindung zum Server")');
  assert.equal(v.formShown, false, 'no join form');
  assert.equal(v.startShown, false, 'no "Sitzung starten"');
  assert.equal(v.state, 'form');

  const problems = [];
  for (const [w, h] of SIZES) {
    await s.setViewport(w, h);
    problems.push(...await outside(s, ['#practice-name', '#unsupported-title', '#unsupported-phone a'], `${w}x${h}`));
    await art.shot(s, `notice-${w}x${h}`);
  }
  assert.deepEqual(problems, [], 'practice name, notice title and phone visible without scrolling');

  await s.setViewport(390, 844);
  await s.click('#unsupported-copy');
  const copied = await s.waitFor('the copy result', () => s.exec(() => document.getElementById('unsupported-copied').textContent), 15_000);
  assert.equal(copied, 'Link kopiert. Fügen Sie ihn im anderen Browser in die Adresszeile ein.');
  await art.shot(s, 'copied');

  // A tab that had joined (sessionStorage says so, as after a reload) does
  // not join either; in English and Arabic the same notice.
  await s.exec((key, p) => {
    const st = JSON.parse(sessionStorage.getItem(key) || '{}');
    sessionStorage.setItem(key, JSON.stringify({ ...st, first: p.first, last: p.last, joined: true }));
  }, `consult.patient.${stack.practice.slug}`, PATIENT);
  await load(s, patientUrl(stack.origin, '', '&lang=en'));
  const en = await s.waitFor('the English notice', () => s.exec(readNotice), 30_000);
  await art.shot(s, 'notice-en');
  assert.equal(en.title, 'Video calls are not possible in this browser');
  assert.equal(en.phone, 'Questions? Call your practice: 0721-5550100.');
  assert.equal(en.link, patientUrl(stack.origin, code, '&lang=en'), 'the code kept for this tab is in the link');
  assert.equal(en.state, 'form');
  await load(s, patientUrl(stack.origin, '', '&lang=ar'));
  const ar = await s.waitFor('the Arabic notice', () => s.exec(readNotice), 30_000);
  await art.shot(s, 'notice-ar');
  assert.equal(ar.title, 'لا يمكن إجراء مكالمات الفيديو في هذا المتصفح');
  assert.equal(await s.exec(() => document.documentElement.dir), 'rtl');
  assert.equal(ar.tel, 'tel:07215550100');
  assert.ok(ar.phone.includes('0721-5550100'), ar.phone);
  // one more load: a join sent by the previous one would have arrived by now
  await load(s, patientUrl(stack.origin, ''));
  await s.waitFor('the notice after another load', () => s.exec(readNotice), 30_000);
  assert.equal(await appointmentStatus(id), 'booked', 'the patient never joined the waiting room');
});

test('Safari-like (RTCPeerConnection stand-in): the first page at 390x844, 320x568 and 844x390 shows the practice name and "Sitzung starten" without scrolling', { timeout: 180_000 }, async () => {
  const art = artifacts('webkit-first-page');
  const s = wk.session;
  const { code } = await book();
  await s.setViewport(390, 844);
  await load(s, patientUrl(standIn.origin, code));
  await s.waitFor('the practice name', () => s.exec(() => document.getElementById('practice-name').textContent === 'Hautärzte am Prüfstand'), 30_000);
  const page = await s.exec(() => ({
    standin: window.__rtcStandinUsed,
    notice: !!document.getElementById('unsupported'),
    error: document.getElementById('error').hidden ? '' : document.getElementById('error').textContent,
  }));
  assert.deepEqual(page, { standin: 0, notice: false, error: '' }, 'the page takes the stand-in for WebRTC: no notice, no error');
  const problems = [];
  for (const [w, h] of SIZES) {
    await s.setViewport(w, h);
    await art.shot(s, `first-${w}x${h}`);
    problems.push(...await outside(s, ['#practice-name', '#start'], `${w}x${h}`));
    for (const sel of ['#first-name', '#last-name', '#accept-terms']) {
      const b = await s.visibleBox(sel);
      if (!b || !b.visible) problems.push(`${w}x${h}: ${sel} not rendered`);
    }
  }
  assert.deepEqual(problems, [], 'practice name and "Sitzung starten" inside the viewport at every size');
});

test('Safari-like: join, waiting room, device check (live preview, level, test sound, second camera), ringing with its ring tone; no PeerConnection before a call', { timeout: 240_000 }, async (t) => {
  const art = artifacts('webkit-waiting-room');
  const s = wk.session;
  const { connectHandle } = await import(harness('client.mjs'));
  const { id, code } = await book();
  await s.setViewport(390, 844);
  await load(s, patientUrl(standIn.origin, code));
  await s.waitFor('the practice name', () => s.exec(() => document.getElementById('practice-name').textContent !== ''), 30_000);
  await s.type('#first-name', PATIENT.first);
  await s.type('#last-name', PATIENT.last);
  await s.click('#accept-terms');
  await s.click('#start');
  const waiting = await s.waitFor('the waiting room', () => s.exec(() => {
    const w = document.getElementById('waiting');
    return window.consult.state === 'waiting' && !w.hidden ? { ahead: w.dataset.ahead, text: w.textContent.replace(/\s+/g, ' ').trim() } : null;
  }), 30_000);
  await art.shot(s, 'waiting');
  assert.equal(waiting.ahead, '0');
  assert.match(waiting.text, /Sie sind im virtuellen Warteraum/);
  await s.waitFor('the reception sees the patient waiting', async () => (await appointmentStatus(id)) === 'waiting', 15_000);
  // The ring tone's WebAudio context was created on the tap: WebKit lets it run.
  const audioState = () => s.exec(async () => {
    const m = await import('/js/sound.mjs');
    return m.audio() ? m.audio().state : 'none';
  });
  assert.equal(await audioState(), 'running', 'the tap on "Sitzung starten" unlocked sound');

  // The device check (docs/pages.md), when the page has one.
  const hasCheck = await s.exec(() => !!document.getElementById('device-check'));
  if (!hasCheck) {
    t.diagnostic('no #device-check in this patient.html: the device check is not merged yet');
  } else {
    await s.waitFor('the device check invitation', () => s.exec(() => {
      const d = document.getElementById('device-check');
      return !d.hidden && d.dataset.state === 'invite';
    }), 30_000);
    await art.shot(s, 'device-invite');
    await s.click('#dc-start');
    const dc = await s.waitFor('the device check result', () => s.exec(() => {
      const d = document.getElementById('device-check');
      return d.dataset.state === 'check' && d.dataset.camera !== 'unchecked' && d.dataset.microphone !== 'unchecked'
        ? { camera: d.dataset.camera, microphone: d.dataset.microphone } : null;
    }), 30_000);
    assert.deepEqual(dc, { camera: 'ok', microphone: 'ok' });
    const preview = () => s.exec(() => {
      const v = document.getElementById('dc-preview');
      return { w: v.videoWidth, h: v.videoHeight, t: v.currentTime, paused: v.paused, muted: v.muted, inline: v.playsInline };
    });
    const first = await s.waitFor('the preview shows the camera', async () => {
      const p = await preview();
      return p.w > 0 && p.h > 0 && !p.paused ? p : null;
    }, 30_000);
    assert.equal(first.muted, true, 'the preview is muted');
    assert.equal(first.inline, true, 'the preview plays inline (playsinline)');
    await s.waitFor('the preview is live (currentTime advances)', async () => (await preview()).t > first.t + 0.2, 30_000);
    const level = await s.waitFor('the level meter moves', () => s.exec(() => (window.consult.devices.levelMax > 0 ? window.consult.devices.levelMax : null)), 30_000);
    t.diagnostic(`level meter max ${level} (mock microphone)`);
    await art.shot(s, 'device-check');
    // the test sound, played in its tap
    await s.click('#dc-sound');
    await s.waitFor('the test sound played', () => s.exec(() => window.consult.devices.sound >= 1), 15_000);
    // the other camera, chosen in the list: the preview follows, live
    const cams = await s.exec(() => [...document.querySelectorAll('#dc-camera option')].map((o) => o.textContent));
    assert.deepEqual(cams, ['Mock video device 1', 'Mock video device 2'], 'both mock cameras offered');
    await s.click('#dc-camera option:not(:checked)');
    const label = () => s.exec(() => {
      const src = document.getElementById('dc-preview').srcObject;
      const tr = src && src.getVideoTracks()[0];
      return tr && tr.readyState === 'live' ? tr.label : null;
    });
    await s.waitFor('the preview shows the second camera', async () => (await label()) === 'Mock video device 2', 30_000);
    const second = await preview();
    await s.waitFor('the second camera is live', async () => {
      const p = await preview();
      return p.w > 0 && p.t > second.t + 0.2;
    }, 30_000);
    await art.shot(s, 'device-second-camera');
    await s.click('#dc-done');
    await s.waitFor('the device check is done', () => s.exec(() => document.getElementById('device-check').dataset.state === 'done'), 15_000);
    await art.shot(s, 'device-done');
  }

  assert.equal(await s.exec(() => window.__rtcStandinUsed), 0, 'nothing before the ringing constructed a PeerConnection');
  // The doctor calls: the ringing, on every size, with a running ring tone.
  doctor = await connectHandle(stack.janus.wsUrl);
  await doctor.handle.call({ request: 'login', username: stack.doctor.username, password: PASSWORDS.doctor });
  const { visits } = await doctor.handle.call({ request: 'waiting_list' });
  const visit = visits.find((x) => x.first_name === PATIENT.first && x.last_name === PATIENT.last);
  assert.ok(visit, `the doctor sees the WebKit patient waiting (${JSON.stringify(visits)})`);
  await doctor.handle.call({ request: 'call', visit_id: visit.visit_id });
  await s.waitFor('the ringing', () => s.exec(() => window.consult.state === 'ringing' && !document.getElementById('ringing').hidden), 30_000);
  assert.equal(await audioState(), 'running', 'the ring tone can sound');
  const problems = [];
  for (const [w, h] of SIZES) {
    await s.setViewport(w, h);
    await art.shot(s, `ringing-${w}x${h}`);
    problems.push(...await outside(s, ['#accept-call', '#decline-call'], `${w}x${h}`));
  }
  await s.setViewport(390, 844);
  await s.click('#decline-call');
  await doctor.handle.waitEvent('call_declined', { timeout: 30_000 });
  await s.waitFor('back in the waiting room', () => s.exec(() => window.consult.state === 'waiting'), 30_000);
  await art.shot(s, 'declined');
  // at most the call's connection made ahead at the ringing (refused here; the decline worked all the same)
  assert.ok(await s.exec(() => window.__rtcStandinUsed) <= 1, 'no PeerConnection but the ringing\'s one made ahead');
  assert.deepEqual(problems, [], '"Annehmen" and "Ablehnen" inside the viewport at every size');
});

test('WebKit camera preview: getUserMedia after a tap gives a live inline preview; no sound without a tap or capture; the second camera', { timeout: 120_000 }, async () => {
  const art = artifacts('webkit-preview');
  const s = wk.session;
  await s.setViewport(390, 844);
  await load(s, `${standIn.origin}/__webkit/preview.html`);
  await s.waitFor('the test page', () => s.exec(() => !!window.T), 30_000);
  assert.equal(await s.exec(() => window.T.unmuted()), 'NotAllowedError', 'sound before any tap or capture is refused');
  await s.click('#start');
  const r = await s.waitFor('camera and microphone', () => s.exec(() => window.T.result), 30_000);
  assert.deepEqual(r.labels && [...r.labels].sort(), ['audio:Mock audio device 1', 'video:Mock video device 1'], JSON.stringify(r));
  const preview = () => s.exec(() => {
    const v = document.getElementById('preview');
    return { w: v.videoWidth, h: v.videoHeight, t: v.currentTime, paused: v.paused };
  });
  const p1 = await s.waitFor('the preview shows the camera', async () => {
    const p = await preview();
    return p.w > 0 && p.h > 0 && !p.paused ? p : null;
  }, 30_000);
  await s.waitFor('the preview is live', async () => (await preview()).t > p1.t + 0.2, 30_000);
  await art.shot(s, 'preview');
  assert.equal(await s.exec(() => window.T.unmuted()), 'playing', 'while the page captures, sound may play');
  assert.equal(await s.exec(() => window.T.switchCamera()), 'Mock video device 2');
  const p2 = await s.waitFor('the second camera in the preview', async () => {
    const p = await preview();
    return p.w > 0 && !p.paused ? p : null;
  }, 30_000);
  await s.waitFor('the second camera is live', async () => (await preview()).t > p2.t + 0.2, 30_000);
  await art.shot(s, 'second-camera');
});
