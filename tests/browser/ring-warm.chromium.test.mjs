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

const gumTracks = (d) => d.evaluate(() => window.__gumStreams.flatMap((s) => s.getTracks())
  .map((tr) => ({ kind: tr.kind, state: tr.readyState, enabled: tr.enabled })));

test('ringing: granted camera and microphone are opened before the tap, closed when the ring is cancelled, used by "Annehmen"', { timeout: 240_000 }, async () => {
  const consoleLines = [];
  let env = null, browser = null;
  try {
    env = await patientStack();
    const { origin, practice, doctor } = env;
    const appt = await env.book();
    browser = await launchChromium('ring-warm');
    await browser.context.addInitScript(KEEP_GUM);
    const page = await browser.newPage();
    watchConsole(page, 'patient', consoleLines);
    const pat = drive(page, 'patient');
    await joinPatient(pat, origin, practice.slug, appt.code);
    const visit = await pat.evaluate(() => window.consult.visitId);
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
  } catch (err) {
    if (consoleLines.length) err.message += `\n--- page console ---\n${consoleLines.slice(-40).join('\n')}`;
    throw err;
  } finally {
    await closeAll(browser);
    if (env) await env.close();
  }
});

test('ringing: camera and microphone not granted yet: nothing is opened before the tap', { timeout: 240_000 }, async () => {
  let env = null, browser = null;
  try {
    env = await patientStack();
    const { origin, practice, doctor } = env;
    const appt = await env.book();
    browser = await launchChromium('ring-cold', { withoutArgs: ['--use-fake-ui-for-media-stream'] });
    await browser.context.addInitScript(KEEP_GUM);
    const page = await browser.newPage();
    const pat = drive(page, 'patient');
    await joinPatient(pat, origin, practice.slug, appt.code);
    const visit = await pat.evaluate(() => window.consult.visitId);
    const states = await pat.evaluate(async () => Promise.all(['camera', 'microphone'].map(async (n) => (await navigator.permissions.query({ name: n })).state)));
    assert.ok(states.every((s) => s !== 'granted'), `not granted in this browser: ${states}`);
    await doctor.handle.call({ request: 'call', visit_id: visit });
    await pat.waitVisible('#ringing');
    await waitFor('patient: the ringing looked at the permissions', () => pat.evaluate(() => window.consult.devices.warm === 'not_granted'), 30_000);
    assert.equal(await pat.evaluate(() => window.__gum), 0, 'no getUserMedia without a tap');
    assert.equal(await pat.evaluate(() => window.__pcs.length), 0, 'no connection made ahead');
    await doctor.handle.call({ request: 'cancel_call' });
  } finally {
    await closeAll(browser);
    if (env) await env.close();
  }
});
