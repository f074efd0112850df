// ring-warm.chromium.test.mjs - camera and microphone opened at the ringing
// where both are already granted (devices.mjs warm(), docs/pages.md
// "Camera and microphone at call time"), with Chromium's fake devices, the
// device check skipped (real Janus + nginx; the doctor is a raw WebSocket
// handle).
// 1. Granted (Chromium with --use-fake-ui-for-media-stream says "granted"):
//    waiting, nothing is opened; the doctor calls: one getUserMedia before
//    any tap, its tracks live but disabled (nothing could be sent), and the
//    call's RTCPeerConnection made ahead (session.prepareP2P). The doctor
//    cancels the ring: those tracks are stopped, that connection closed.
//    The doctor calls again: both made again; "Annehmen" asks for nothing
//    more, the call runs on the connection made at the ringing, its tracks
//    live and enabled, and the doctor gets call_accepted.
// 2. Not granted (without that flag navigator.permissions says "prompt"):
//    the ringing opens nothing (no prompt without a tap) and makes no
//    connection.
// 3. Granted, but the camera takes its time (getUserMedia held back by the
//    test): the connection is made at the ringing all the same, before the
//    camera answers (the permissions are enough); "Annehmen" tapped while
//    the camera still opens runs the call on that connection.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeAll, drive, launchChromium, waitFor, watchConsole } from './lib.mjs';
import { eventAfter, joinPatient, patientStack } from './patient-lib.mjs';

// every getUserMedia of the page counted, its streams kept for a look at their tracks
function KEEP_GUM() {
  window.__gum = 0;
  window.__gumStreams = [];
  window.__pcs = [];
  const Orig = window.RTCPeerConnection;
  window.RTCPeerConnection = function (...a) {
    const pc = new Orig(...a);
    window.__pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Orig.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Orig);
  const orig = MediaDevices.prototype.getUserMedia;
  MediaDevices.prototype.getUserMedia = function (...args) {
    window.__gum += 1;
    return orig.apply(this, args).then((s) => { window.__gumStreams.push(s); return s; });
  };
}

// getUserMedia answers only once the test calls window.__openGum() (added
// before KEEP_GUM, which then counts each call when it is made)
function HOLD_GUM() {
  let open;
  const gate = new Promise((r) => { open = r; });
  window.__openGum = () => open();
  const orig = MediaDevices.prototype.getUserMedia;
  MediaDevices.prototype.getUserMedia = function (...args) {
    return gate.then(() => orig.apply(this, args));
  };
}

const gumTracks = (d) => d.evaluate(() => window.__gumStreams.flatMap((s) => s.getTracks())
  .map((tr) => ({ kind: tr.kind, state: tr.readyState, enabled: tr.enabled })));

/**
 * A joined patient in a Chromium of its own (name, launch options, init
 * scripts in order), handed to body({pat, doctor, visit}); the page's
 * console goes into a failure's message; everything is closed after.
 */
async function withPatient(name, { launch = {}, scripts = [KEEP_GUM] }, body) {
  const consoleLines = [];
  let env = null, browser = null;
  try {
    env = await patientStack();
    const appt = await env.book();
    browser = await launchChromium(name, launch);
    for (const sc of scripts) await browser.context.addInitScript(sc);
    const page = await browser.newPage();
    watchConsole(page, 'patient', consoleLines);
    const pat = drive(page, 'patient');
    await joinPatient(pat, env.origin, env.practice.slug, appt.code);
    const visit = await pat.evaluate(() => window.consult.visitId);
    await body({ pat, doctor: env.doctor, visit });
  } catch (err) {
    if (consoleLines.length) err.message += `\n--- page console ---\n${consoleLines.slice(-40).join('\n')}`;
    throw err;
  } finally {
    await closeAll(browser);
    if (env) await env.close();
  }
}

test('ringing: granted camera and microphone are opened before the tap, closed when the ring is cancelled, used by "Annehmen"', { timeout: 240_000 }, () => withPatient('ring-warm', {}, async ({ pat, doctor, visit }) => {
  assert.deepEqual(await pat.evaluate(async () => Promise.all(['camera', 'microphone'].map(async (n) => (await navigator.permissions.query({ name: n })).state))),
    ['granted', 'granted'], 'this browser has both granted');
  assert.equal(await pat.evaluate(() => window.__gum), 0, 'nothing opened while waiting');

  // --- ring 1: opened, disabled; cancelled: closed ------------------------------
  await doctor.handle.call({ request: 'call', visit_id: visit });
  await pat.waitVisible('#ringing');
  const warm = await waitFor('patient: camera and microphone opened at the ringing', async () => {
    const t = await gumTracks(pat);
    return t.length === 2 && t.every((x) => x.state === 'live') ? t : null;
  }, 30_000);
  assert.equal(await pat.evaluate(() => window.__gum), 1, 'one getUserMedia, no tap');
  assert.equal(await pat.evaluate(() => window.consult.devices.warm), 'opened');
  assert.deepEqual(warm.map((x) => x.kind).sort(), ['audio', 'video']);
  assert.ok(warm.every((x) => !x.enabled), `the tracks are disabled while it rings: ${JSON.stringify(warm)}`);
  await waitFor('patient: the call\'s connection made at the ringing', () => pat.evaluate(() => window.__pcs.length === 1), 30_000);
  assert.equal(await pat.evaluate(() => window.__pcs[0].signalingState), 'stable', 'made, nothing negotiated');
  await doctor.handle.call({ request: 'cancel_call' });
  await waitFor('patient: waiting again', () => pat.evaluate(() => window.consult.state === 'waiting'), 30_000);
  await waitFor('patient: what the ringing opened is closed', async () => {
    const t = await gumTracks(pat);
    return t.every((x) => x.state === 'ended') ? t : null;
  }, 30_000);
  assert.equal(await pat.evaluate(() => window.__pcs[0].signalingState), 'closed', 'the connection made ahead is closed');

  // --- ring 2: opened again, "Annehmen" uses it ---------------------------------------
  const from = doctor.handle.events.length;
  await doctor.handle.call({ request: 'call', visit_id: visit });
  await pat.waitVisible('#ringing');
  await waitFor('patient: opened again at the second ringing', () => pat.evaluate(() => window.__gum === 2 && window.__pcs.length === 2), 30_000);
  await pat.click('#accept-call');
  await eventAfter(doctor.handle, 'call_accepted', from);
  await waitFor('patient: in the call', () => pat.evaluate(() => window.consult.state === 'call'), 30_000);
  const media = await pat.evaluate(() => document.getElementById('local-video').srcObject.getTracks()
    .map((tr) => ({ kind: tr.kind, state: tr.readyState, enabled: tr.enabled })));
  assert.equal(await pat.evaluate(() => window.__gum), 2, `"Annehmen" asked for nothing more (${JSON.stringify(media)})`);
  assert.ok(await pat.evaluate(() => window.__pcs.length === 2 && window.consult.pc === window.__pcs[1]), 'the call runs on the connection made at the ringing');
  assert.deepEqual(media.map((x) => x.kind).sort(), ['audio', 'video']);
  assert.ok(media.every((x) => x.state === 'live' && x.enabled), `the call's tracks are live and enabled: ${JSON.stringify(media)}`);
  await doctor.handle.call({ request: 'hangup' });
  await pat.waitVisible('#ended');
}));

test('ringing: camera and microphone not granted yet: nothing is opened before the tap', { timeout: 240_000 }, () => withPatient('ring-cold', { launch: { withoutArgs: ['--use-fake-ui-for-media-stream'] } }, async ({ pat, doctor, visit }) => {
  const states = await pat.evaluate(async () => Promise.all(['camera', 'microphone'].map(async (n) => (await navigator.permissions.query({ name: n })).state)));
  assert.ok(states.every((s) => s !== 'granted'), `not granted in this browser: ${states}`);
  await doctor.handle.call({ request: 'call', visit_id: visit });
  await pat.waitVisible('#ringing');
  await waitFor('patient: the ringing looked at the permissions', () => pat.evaluate(() => window.consult.devices.warm === 'not_granted'), 30_000);
  assert.equal(await pat.evaluate(() => window.__gum), 0, 'no getUserMedia without a tap');
  assert.equal(await pat.evaluate(() => window.__pcs.length), 0, 'no connection made ahead');
  await doctor.handle.call({ request: 'cancel_call' });
}));

test('ringing: the connection is made from the permissions, before the camera answers; a quick "Annehmen" uses it', { timeout: 240_000 }, () => withPatient('ring-quick', { scripts: [HOLD_GUM, KEEP_GUM] }, async ({ pat, doctor, visit }) => {
  const from = doctor.handle.events.length;
  await doctor.handle.call({ request: 'call', visit_id: visit });
  await pat.waitVisible('#ringing');
  await waitFor('patient: the call\'s connection made while the camera has not answered', () => pat.evaluate(() => window.__pcs.length === 1), 30_000);
  assert.equal(await pat.evaluate(() => window.__gum), 1, 'the camera was asked for at the ringing');
  assert.equal(await pat.evaluate(() => window.__gumStreams.length), 0, 'and has not answered yet');
  assert.equal(await pat.evaluate(() => window.__pcs[0].signalingState), 'stable', 'made, nothing negotiated');
  await pat.click('#accept-call');
  await pat.evaluate(() => window.__openGum());
  await eventAfter(doctor.handle, 'call_accepted', from);
  await waitFor('patient: in the call', () => pat.evaluate(() => window.consult.state === 'call' && !!window.consult.pc), 30_000);
  assert.equal(await pat.evaluate(() => window.__gum), 1, '"Annehmen" took the stream the ringing asked for');
  assert.ok(await pat.evaluate(() => window.__pcs.length === 1 && window.consult.pc === window.__pcs[0]), 'the call runs on the connection made at the ringing');
  const senders = await pat.evaluate(() => window.consult.pc.getSenders().map((s) => s.track && s.track.kind).filter(Boolean).sort());
  assert.deepEqual(senders, ['audio', 'video'], 'its camera and microphone are on that connection');
  await doctor.handle.call({ request: 'hangup' });
  await pat.waitVisible('#ended');
}));
