// device-check.firefox.test.mjs - the patient's device check in Firefox ESR
// with its fake camera and microphone (real Janus + nginx; the doctor is a
// raw WebSocket handle), at phone size 390x844.
//
// "Jetzt prüfen": one getUserMedia (the page's own count), the preview
// plays, the meter shows a level, the doctor's list shows camera and
// microphone ok; "Fertig"; accepting a call then takes the granted devices
// without asking again (still one getUserMedia) with live tracks.
// Screenshots: tests/artifacts/device-check-firefox/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIREFOX_AUDIO_PREFS, artifacts, closeAll, drive, launchFirefox, waitFor } from './lib.mjs';
import { eventAfter, joinPatient, patientStack } from './patient-lib.mjs';

test('device check in Firefox ESR: preview, level, readiness; the call reuses the devices', { timeout: 180_000 }, async () => {
  const art = artifacts('device-check-firefox');
  let env = null, browser = null;
  try {
    env = await patientStack();
    const { origin, practice, doctor } = env;
    const appt = await env.book();
    // WebAudio needs an audio output; cubeb's mock one stands in for it headless
    browser = await launchFirefox('device-check', { prefs: FIREFOX_AUDIO_PREFS });
    const page = await browser.newPage();
    await page.setViewport({ width: 390, height: 844 });
    const pat = drive(page, 'patient');
    await joinPatient(pat, origin, practice.slug, appt.code);
    await pat.waitVisible('#device-check[data-state="invite"]');
    const visit = await pat.evaluate(() => window.consult.visitId);
    await art.shot(page, 'invite');

    await pat.click('#dc-start');
    await waitFor('patient: camera and microphone work', () => pat.evaluate(() => {
      const el = document.getElementById('device-check');
      return el.dataset.state === 'check' && el.dataset.camera === 'ok' && el.dataset.microphone === 'ok';
    }), 30_000);
    const t1 = await waitFor('patient: the preview plays', () => pat.evaluate(() => {
      const v = document.getElementById('dc-preview');
      return !v.paused && v.videoWidth > 0 && v.currentTime > 0 ? v.currentTime : 0;
    }), 30_000);
    await waitFor('patient: the preview keeps playing', () => pat.evaluate((t) => document.getElementById('dc-preview').currentTime > t, t1), 30_000);
    await waitFor('patient: the meter shows the fake microphone', async () => Number(await pat.attr('#dc-level', 'data-level')) > 0, 30_000, 50);
    await waitFor('doctor: readiness camera ok, microphone ok', async () => {
      const e = await env.entry(visit);
      return e && e.camera === 'ok' && e.microphone === 'ok';
    }, 30_000);
    await art.shot(page, 'check');
    await pat.click('#dc-done');
    await waitFor('patient: the check is done', () => pat.evaluate(() => document.getElementById('device-check').dataset.state === 'done'), 30_000);
    assert.equal(await pat.evaluate(() => window.consult.devices.gum), 1, 'one getUserMedia for the check');

    const from = doctor.handle.events.length;
    await doctor.handle.call({ request: 'call', visit_id: visit });
    await pat.waitVisible('#ringing');
    await pat.click('#accept-call');
    await eventAfter(doctor.handle, 'call_accepted', from);
    await waitFor('patient: in the call', () => pat.evaluate(() => window.consult.state === 'call'), 30_000);
    const tracks = await pat.evaluate(() => document.getElementById('local-video').srcObject.getTracks()
      .map((tr) => `${tr.kind}:${tr.readyState}:${tr.enabled}`).sort());
    assert.deepEqual(tracks, ['audio:live:true', 'video:live:true'], 'the call has the granted camera and microphone');
    assert.equal(await pat.evaluate(() => window.consult.devices.gum), 1, 'accept asked for no device again');
    await doctor.handle.call({ request: 'hangup' });
    await pat.waitVisible('#ended');
  } finally {
    await closeAll(browser);
    if (env) await env.close();
  }
});
