// device-denied.chromium.test.mjs - camera (and microphone) permission
// refused: Chromium without the fake permission UI, the site's permission
// set to "denied" (CDP Browser.setPermission), so getUserMedia really fails
// with NotAllowedError. Real Janus + nginx; the doctor is a raw WebSocket
// handle. Phone size 390x844.
//
// 1. Camera denied, microphone granted: the device check says "Kamera:
//    blockiert" with the help per browser (Chrome's open first) and the
//    microphone still works; the doctor's list shows camera blocked,
//    microphone ok. A call: "Annehmen" cannot take the camera; the ringing
//    says so and offers "Nur mit Ton teilnehmen" (audio_only allowed, the
//    default); "Ablehnen" then declines with reason camera_blocked (the
//    doctor's call_declined says so). The next call accepted with sound
//    only: accept audio_only:true (call_accepted audio_only true), no camera
//    track, the media state says video false.
// 2. The practice set to audio_only "never": a patient who skipped the
//    check taps "Annehmen": the page declines by itself with camera_blocked
//    and tells the patient why; no "Nur mit Ton" offer.
// 3. Camera and microphone denied: readiness blocked/blocked.
// Screenshots: tests/artifacts/device-denied-chromium/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { artifacts, closeAll, drive, launchChromium, waitFor, watchConsole } from './lib.mjs';
import { a11yClean, eventAfter, joinPatient, patientStack } from './patient-lib.mjs';

const card = (d) => d.evaluate(() => {
  const el = document.getElementById('device-check');
  return { state: el.dataset.state, camera: el.dataset.camera, microphone: el.dataset.microphone };
});

// The override lasts as long as the DevTools session that set it: kept open.
async function setPermissions(page, origin, camera, microphone) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Browser.setPermission', { permission: { name: 'camera' }, setting: camera, origin });
  await cdp.send('Browser.setPermission', { permission: { name: 'microphone' }, setting: microphone, origin });
  return cdp;
}

test('device check and call with the camera permission refused', { timeout: 300_000 }, async () => {
  const art = artifacts('device-denied-chromium');
  const consoleLines = [];
  let env = null, browser = null;
  try {
    env = await patientStack();
    const { origin, practice, doctor, stack } = env;
    browser = await launchChromium('device-denied', { withoutArgs: ['--use-fake-ui-for-media-stream'] });

    // --- 1. camera denied, microphone granted --------------------------------------
    const appt = await env.book();
    const page = await browser.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    watchConsole(page, 'patient', consoleLines);
    await setPermissions(page, origin, 'denied', 'granted');
    const pat = drive(page, 'patient');
    await joinPatient(pat, origin, practice.slug, appt.code);
    const visit = await pat.evaluate(() => window.consult.visitId);
    await pat.click('#dc-start');
    await waitFor('patient: camera blocked, microphone ok', async () => {
      const c = await card(pat);
      return c.state === 'check' && c.camera === 'blocked' && c.microphone === 'ok';
    }, 30_000);
    assert.equal(await pat.text('#dc-camera-state'), 'Kamera: blockiert', 'the camera line says blocked');
    assert.ok(await pat.visible('#dc-help'), 'the help is shown');
    const help = await pat.evaluate(() => {
      const el = document.getElementById('dc-help');
      const open = [...el.querySelectorAll('details')].filter((d) => d.open).map((d) => d.dataset.browser);
      return { browser: el.dataset.browser, open, text: el.textContent };
    });
    assert.equal(help.browser, 'chrome', 'Chromium on Linux gets the Chrome help first');
    assert.deepEqual(help.open, ['chrome'], 'only the own browser\'s help is unfolded');
    for (const b of ['Chrome', 'Firefox', 'Safari auf iPhone', 'Android']) assert.match(help.text, new RegExp(b), `help for ${b}`);
    assert.ok(await pat.visible('#dc-level'), 'the microphone still works: its meter is shown');
    assert.equal(await pat.visible('#dc-preview'), false, 'no preview without a camera');
    await waitFor('doctor: readiness camera blocked, microphone ok', async () => {
      const e = await env.entry(visit);
      return e && e.camera === 'blocked' && e.microphone === 'ok';
    }, 30_000);
    await art.shot(page, 'camera-blocked');
    await a11yClean(page, 'device check: camera blocked, help');
    await pat.click('#dc-done');   // "Weiter warten": the way out
    await waitFor('patient: the check is closed', async () => (await card(pat)).state === 'done', 30_000);
    assert.match(await pat.text('#dc-summary-text'), /Kamera: blockiert/);

    // a call: the ringing offers sound only; "Ablehnen" says why
    let from = doctor.handle.events.length;
    await doctor.handle.call({ request: 'call', visit_id: visit });
    await pat.waitVisible('#ringing');
    await pat.click('#accept-call');
    await pat.waitVisible('#accept-audio');
    assert.equal(await pat.attr('#ringing-media', 'data-reason'), 'camera_blocked');
    assert.match(await pat.text('#ringing-media'), /Kamera ist blockiert/);
    assert.equal(await pat.evaluate(() => window.consult.state), 'ringing', 'still ringing: the patient chooses');
    await art.shot(page, 'ringing-camera-blocked');
    await a11yClean(page, 'ringing: camera blocked, sound only offered', { tab: false });
    await pat.click('#decline-call');
    const declined = await eventAfter(doctor.handle, 'call_declined', from);
    assert.equal(declined.reason, 'camera_blocked', `call_declined: ${JSON.stringify(declined)}`);
    await waitFor('patient: back in the waiting room, told why', () => pat.evaluate(() => window.consult.state === 'waiting'), 30_000);
    assert.match(await pat.text('#notice'), /Kamera ist blockiert/);
    await art.shot(page, 'declined-camera-blocked');
    await a11yClean(page, 'waiting after a decline: camera blocked', { tab: false });

    // the next call with sound only
    from = doctor.handle.events.length;
    await doctor.handle.call({ request: 'call', visit_id: visit });
    await pat.waitVisible('#ringing');
    await pat.click('#accept-call');
    await pat.waitVisible('#accept-audio');
    await pat.click('#accept-audio');
    const accepted = await eventAfter(doctor.handle, 'call_accepted', from);
    assert.equal(accepted.audio_only, true, `call_accepted: ${JSON.stringify(accepted)}`);
    await waitFor('patient: in the call with sound only', () => pat.evaluate(() => window.consult.state === 'call'), 30_000);
    const kinds = await pat.evaluate(() => document.getElementById('local-video').srcObject.getTracks().map((tr) => tr.kind));
    assert.deepEqual(kinds, ['audio'], 'only the microphone goes into the call');
    assert.ok(await pat.visible('#own-media'), 'the patient is told the practice cannot see them');
    assert.equal(await pat.visible('#camera'), false, 'no camera button without a camera');
    const state = await eventAfter(doctor.handle, 'signal', from, (e) => e.type === 'media');
    assert.deepEqual([state.audio, state.video], [true, false], `media state of an audio-only call: ${JSON.stringify(state)}`);
    await art.shot(page, 'audio-only-call');
    await doctor.handle.call({ request: 'hangup' });
    await pat.waitVisible('#ended');

    // --- 2. a practice without audio-only calls: declined at once, with the reason -----
    const set = await stack.janus.admin({ request: 'set_practice', practice: practice.slug, audio_only: 'never' });
    assert.equal(set.ok, true, `set_practice audio_only never: ${JSON.stringify(set)}`);
    const appt2 = await env.book();
    const page2 = await browser.newPage();
    await page2.setViewportSize({ width: 390, height: 844 });
    watchConsole(page2, 'patient2', consoleLines);
    const pat2 = drive(page2, 'patient2');
    await joinPatient(pat2, origin, practice.slug, appt2.code, { first: 'Zweite', last: 'Patientin' });
    await pat2.click('#dc-later');
    await waitFor('patient 2: the check was skipped', async () => (await card(pat2)).state === 'skipped', 30_000);
    const visit2 = await pat2.evaluate(() => window.consult.visitId);
    from = doctor.handle.events.length;
    await doctor.handle.call({ request: 'call', visit_id: visit2 });
    await pat2.waitVisible('#ringing');
    assert.equal(await pat2.visible('#accept-audio'), false, 'no sound-only offer when the practice does not allow it');
    await pat2.click('#accept-call');
    const declined2 = await eventAfter(doctor.handle, 'call_declined', from);
    assert.equal(declined2.reason, 'camera_blocked');
    await waitFor('patient 2: told why, in the waiting room', async () => {
      return (await pat2.evaluate(() => window.consult.state)) === 'waiting' && /Kamera ist blockiert/.test(await pat2.text('#notice'));
    }, 30_000);
    assert.ok(await pat2.visible('#dc-help'), 'the help is shown in the waiting room');
    await waitFor('doctor: patient 2 camera blocked', async () => {
      const e = await env.entry(visit2);
      return e && e.camera === 'blocked' && e.microphone === 'ok';
    }, 30_000);
    await art.shot(page2, 'never-declined');

    // --- 3. both refused --------------------------------------------------------------
    await page2.close();
    const appt3 = await env.book();
    const page3 = await browser.newPage();
    await page3.setViewportSize({ width: 390, height: 844 });
    await setPermissions(page3, origin, 'denied', 'denied');
    const pat3 = drive(page3, 'patient3');
    await joinPatient(pat3, origin, practice.slug, appt3.code, { first: 'Dritter', last: 'Patient' });
    await pat3.click('#dc-start');
    await waitFor('patient 3: both blocked', async () => {
      const c = await card(pat3);
      return c.state === 'check' && c.camera === 'blocked' && c.microphone === 'blocked';
    }, 30_000);
    const visit3 = await pat3.evaluate(() => window.consult.visitId);
    await waitFor('doctor: patient 3 camera and microphone blocked', async () => {
      const e = await env.entry(visit3);
      return e && e.camera === 'blocked' && e.microphone === 'blocked';
    }, 30_000);
    await art.shot(page3, 'both-blocked');
  } catch (err) {
    if (consoleLines.length) err.message += `\n--- page console ---\n${consoleLines.slice(-40).join('\n')}`;
    throw err;
  } finally {
    await closeAll(browser);
    if (env) await env.close();
  }
});
