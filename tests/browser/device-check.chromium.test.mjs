// device-check.chromium.test.mjs - the patient's device check in the waiting
// room with Chromium's fake camera and microphone (real Janus + nginx; the
// doctor is a raw WebSocket handle), at phone size 390x844.
//
// After "Sitzung starten" #device-check invites to a check; "Jetzt prüfen"
// asks for camera and microphone once: the preview plays, the level meter
// moves, the test sound plays, another microphone can be chosen; the
// doctor's waiting list shows camera/microphone "ok" (readiness). After a
// reload the page joins again and re-sends the result without asking for
// the devices. Accepting a call then uses the granted devices: no further
// getUserMedia (counted by an init script, apart from the page's own count)
// and the chosen microphone. In the call the page tells the doctor its
// media state (signal type media) and shows the doctor's: "Die Praxis hat
// die Kamera ausgeschaltet." / "… das Mikrofon …".
// Screenshots: tests/artifacts/device-check-chromium/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { artifacts, closeAll, drive, launchChromium, waitFor, watchConsole } from './lib.mjs';
import { COUNT_GUM, a11yClean, eventAfter, joinPatient, patientStack } from './patient-lib.mjs';

const card = (d) => d.evaluate(() => {
  const el = document.getElementById('device-check');
  return { state: el.dataset.state, camera: el.dataset.camera, microphone: el.dataset.microphone, hidden: el.hidden };
});

test('device check: preview, level meter, test sound, device choice, readiness to the doctor; the call reuses the granted devices', { timeout: 240_000 }, async () => {
  const art = artifacts('device-check-chromium');
  const consoleLines = [];
  let env = null, browser = null;
  try {
    env = await patientStack();
    const { origin, practice, doctor } = env;
    const appt = await env.book();

    browser = await launchChromium('device-check');
    await browser.context.addInitScript(COUNT_GUM);
    const page = await browser.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    watchConsole(page, 'patient', consoleLines);
    const pat = drive(page, 'patient');
    await joinPatient(pat, origin, practice.slug, appt.code);

    // --- the invitation: nothing asked yet -------------------------------------
    await pat.waitVisible('#device-check[data-state="invite"]');
    assert.equal(await pat.evaluate(() => window.__gum), 0, 'no getUserMedia before the patient taps "Jetzt prüfen"');
    const visit1 = await pat.evaluate(() => window.consult.visitId);
    const e0 = await waitFor('doctor: the new patient is listed, not checked', () => env.entry(visit1), 30_000);
    assert.equal(e0.camera, 'unchecked', `waiting list entry before the check: ${JSON.stringify(e0)}`);
    assert.equal(e0.microphone, 'unchecked');
    await art.shot(page, 'invite');
    await a11yClean(page, 'device check invitation');

    // --- the check ------------------------------------------------------------------
    await pat.click('#dc-start');
    await waitFor('patient: camera and microphone work', async () => {
      const c = await card(pat);
      return c.state === 'check' && c.camera === 'ok' && c.microphone === 'ok';
    }, 30_000);
    assert.equal(await pat.evaluate(() => window.__gum), 1, 'one getUserMedia for camera and microphone together');
    // the preview plays: frames advance
    const t1 = await waitFor('patient: the preview plays', () => pat.evaluate(() => {
      const v = document.getElementById('dc-preview');
      return !v.paused && v.videoWidth > 0 && v.currentTime > 0 ? v.currentTime : 0;
    }), 30_000);
    await waitFor('patient: the preview keeps playing', () => pat.evaluate((t) => document.getElementById('dc-preview').currentTime > t, t1), 30_000);
    // the level meter moves (the fake microphone beeps): several different values
    const seen = new Set();
    await waitFor('patient: the level meter moves', async () => {
      seen.add(await pat.attr('#dc-level', 'data-level'));
      return seen.size >= 3 && [...seen].some((v) => Number(v) > 0);
    }, 30_000, 50);
    assert.ok(await pat.visible('#dc-level'), 'the meter is visible');
    // the test sound
    await pat.click('#dc-sound');
    await waitFor('patient: the test sound played', () => pat.evaluate(() => window.consult.devices.sound >= 1), 30_000);
    assert.ok(await pat.visible('#dc-sound-hint'), 'the hint after the test sound is shown');
    // another microphone
    const mics = await pat.evaluate(() => [...document.querySelectorAll('#dc-microphone option')].map((o) => ({ id: o.value, label: o.textContent, selected: o.selected })));
    assert.ok(mics.length >= 2, `Chromium's fake devices give several microphones: ${JSON.stringify(mics)}`);
    const chosen = mics.find((m) => !m.selected);
    await page.selectOption('#dc-microphone', chosen.id);
    await waitFor('patient: the chosen microphone is in use', () => pat.evaluate((id) => {
      const v = document.getElementById('dc-microphone');
      return v.value === id && window.consult.devices.microphone === 'ok' && window.__gum === 2;
    }, chosen.id), 30_000);
    await waitFor('doctor: readiness camera ok, microphone ok', async () => {
      const e = await env.entry(visit1);
      return e && e.camera === 'ok' && e.microphone === 'ok';
    }, 30_000);
    await art.shot(page, 'check');
    await a11yClean(page, 'device check running');
    await pat.click('#dc-done');
    await waitFor('patient: the check is done', async () => (await card(pat)).state === 'done', 30_000);
    assert.match(await pat.text('#dc-summary-text'), /Kamera und Mikrofon sind bereit/);
    assert.equal(await pat.evaluate(() => document.getElementById('dc-preview').srcObject), null, 'no preview after "Fertig"');
    await art.shot(page, 'done');
    await a11yClean(page, 'device check done', { tab: false });

    // --- a reload: joined again, the result re-sent without asking again --------------
    await page.reload({ waitUntil: 'load' });
    const visit2 = await waitFor('patient: joined again after the reload',
      () => pat.evaluate(() => window.consult.state === 'waiting' && window.consult.visitId), 30_000);
    await waitFor('doctor: the re-joined visit is ready too', async () => {
      const e = await env.entry(visit2);
      return e && e.camera === 'ok' && e.microphone === 'ok';
    }, 30_000);
    assert.equal(await pat.evaluate(() => window.__gum), 0, 'the reload did not ask for the devices');
    assert.equal((await card(pat)).state, 'done', 'the card remembers the check');

    // "Erneut prüfen": one request, with the chosen microphone
    await pat.click('#dc-again');
    await waitFor('patient: checking again', async () => {
      const c = await card(pat);
      return c.state === 'check' && c.microphone === 'ok' && c.camera === 'ok';
    }, 30_000);
    assert.equal(await pat.evaluate(() => window.__gum), 1);
    assert.equal(await pat.evaluate(() => document.getElementById('dc-microphone').value), chosen.id, 'the chosen microphone is kept');
    await pat.click('#dc-done');

    // --- the call takes the granted devices --------------------------------------------
    let from = doctor.handle.events.length;
    await doctor.handle.call({ request: 'call', visit_id: visit2 });
    await pat.waitVisible('#ringing');
    await art.shot(page, 'ringing');
    await pat.click('#accept-call');
    await waitFor('patient: in the call', () => pat.evaluate(() => window.consult.state === 'call'), 30_000);
    await eventAfter(doctor.handle, 'call_accepted', from);
    const media = await pat.evaluate(() => {
      const s = document.getElementById('local-video').srcObject;
      return s && s.getTracks().map((tr) => ({ kind: tr.kind, state: tr.readyState, enabled: tr.enabled, device: tr.getSettings().deviceId }));
    });
    assert.equal(await pat.evaluate(() => window.__gum), 1, `accept asked for no device again (${JSON.stringify(media)})`);
    assert.equal(await pat.evaluate(() => window.consult.devices.gum), 1, 'the page counts the same');
    const audio = media.find((m) => m.kind === 'audio');
    const video = media.find((m) => m.kind === 'video');
    assert.ok(audio && audio.state === 'live' && audio.enabled, `a live microphone track: ${JSON.stringify(media)}`);
    assert.ok(video && video.state === 'live' && video.enabled, `a live camera track: ${JSON.stringify(media)}`);
    assert.equal(audio.device, chosen.id, 'the call uses the chosen microphone');

    // our media state reaches the doctor
    const own = await eventAfter(doctor.handle, 'signal', from, (e) => e.type === 'media');
    assert.deepEqual([own.audio, own.video], [true, true], `media state after the accept: ${JSON.stringify(own)}`);
    from = doctor.handle.events.length;
    await pat.click('#mute');
    const muted = await eventAfter(doctor.handle, 'signal', from, (e) => e.type === 'media');
    assert.deepEqual([muted.audio, muted.video], [false, true], 'microphone off is sent');
    from = doctor.handle.events.length;
    await pat.click('#camera');
    const camOff = await eventAfter(doctor.handle, 'signal', from, (e) => e.type === 'media');
    assert.deepEqual([camOff.audio, camOff.video], [false, false], 'camera off is sent');

    // the doctor's media state on the patient's screen
    const remote = () => pat.evaluate(() => {
      const el = document.getElementById('remote-media');
      return { audio: el.dataset.audio, video: el.dataset.video, text: el.textContent.trim(), live: el.getAttribute('aria-live') };
    });
    assert.equal((await remote()).text, '', 'no remark while nothing is known to be off');
    await doctor.handle.call({ request: 'signal', type: 'media', audio: true, video: false });
    const r1 = await waitFor('patient: "Die Praxis hat die Kamera ausgeschaltet."', async () => {
      const r = await remote();
      return r.video === 'off' ? r : null;
    }, 30_000);
    assert.equal(r1.text, 'Die Praxis hat die Kamera ausgeschaltet.');
    assert.equal(r1.live, 'polite');
    await art.shot(page, 'remote-camera-off');
    await a11yClean(page, 'call: the practice\'s camera off', { tab: false });
    await doctor.handle.call({ request: 'signal', type: 'media', audio: false, video: true });
    const r2 = await waitFor('patient: "Die Praxis hat das Mikrofon ausgeschaltet."', async () => {
      const r = await remote();
      return r.audio === 'off' && r.video !== 'off' ? r : null;
    }, 30_000);
    assert.match(r2.text, /Die Praxis hat das Mikrofon ausgeschaltet\./);
    assert.doesNotMatch(r2.text, /Kamera/);
    await art.shot(page, 'remote-mic-off');
    await doctor.handle.call({ request: 'signal', type: 'media', audio: true, video: true });
    await waitFor('patient: no remark once both are on again', async () => {
      const r = await remote();
      return r.audio === 'on' && r.video !== 'off' && !/ausgeschaltet/.test(r.text);
    }, 30_000);

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
