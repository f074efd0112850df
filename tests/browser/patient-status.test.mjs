// patient-status.test.mjs - what the green box and the call tell the patient
// (real Janus with CONSULT_TEST=1 for the plugin's clock, nginx, the patient
// page in Chromium and Firefox ESR; reception, the doctor and other patients
// as raw WebSocket handles; the real-call part with doctor.html in Chromium).
//
// Messages: the reception's message to this patient's appointment and the
// doctor's to all their waiting patients appear in #practice-message (a
// polite live region: announced), with who sent it; a second waiting
// patient gets only the one addressed to all; a reload shows the newest
// message again (join reply). Estimated wait: hidden while the practice has
// no history today (the count shows); after three connected calls ended
// today (their length made 10 minutes by moving the plugin's clock back
// while connected) #wait-estimate says "Geschätzte Wartezeit: etwa X–Y
// Minuten" (from the position event's wait_min/wait_max), also after a
// reload. Screenshots at 390x844: tests/artifacts/patient-status-<browser>/.
//
// A real call (Chromium, doctor.html): the doctor's page stops sending video
// (replaceTrack(null) on its video sender; sound goes on): the patient's
// #remote-media says "Von der Praxis kommt gerade kein Bild." instead of
// a silent black box, and clears once pictures come again. The doctor's
// camera and microphone buttons make it "Die Praxis hat die Kamera
// ausgeschaltet." / "… das Mikrofon …" (signal type media; needs the doctor
// page's half, the staff pages' work). Screenshots:
// tests/artifacts/patient-status-call/, patient-status-camera-off/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PASSWORDS, artifacts, closeAll, drive, harness, launchChromium, launchFirefox, waitFor, waitForMedia, watchConsole,
} from './lib.mjs';
import { a11yClean, joinPatient, patientStack } from './patient-lib.mjs';

const TEST_CLOCK = { janus: { env: { CONSULT_TEST: '1' } } };

async function setPhone(page) {
  if (typeof page.setViewportSize === 'function') await page.setViewportSize({ width: 390, height: 844 });
  else await page.setViewport({ width: 390, height: 844 });
}

const message = (d) => d.evaluate(() => {
  const box = document.getElementById('practice-message');
  return {
    hidden: box.hidden, role: box.getAttribute('role'), live: box.getAttribute('aria-live'),
    from: document.getElementById('message-from').textContent, text: document.getElementById('message-text').textContent,
  };
});

const estimate = (d) => d.evaluate(() => {
  const el = document.getElementById('wait-estimate');
  return { hidden: el.hidden, text: el.textContent, min: el.dataset.min, max: el.dataset.max, ahead: document.getElementById('waiting').dataset.ahead };
});

/** Three calls of other patients, each connected for 10 minutes of plugin time, ended now. */
async function makeHistory(env, n) {
  const { connectHandle } = await import(harness('client.mjs'));
  const { janus } = env.stack;
  for (let i = 0; i < n; i++) {
    const appt = await env.book({ minutes: 30 });
    const p = await connectHandle(janus.wsUrl);
    try {
      const j = await p.handle.call({
        request: 'join', practice: env.practice.slug, code: appt.code, first_name: 'Verlauf', last_name: `Nummer${i}`, accept_terms: true,
      });
      await env.doctor.handle.call({ request: 'call', visit_id: j.visit_id });
      await p.handle.waitEvent('ringing');
      await p.handle.call({ request: 'accept' });
      // connected 10 minutes ago (plugin time), ended now: the day stays today
      const back = await janus.admin({ request: 'test_clock', offset_seconds: -600 });
      assert.equal(back.ok, true, `test_clock: ${JSON.stringify(back)}`);
      await env.doctor.handle.call({ request: 'report', connection_state: 'connected' });
      await janus.admin({ request: 'test_clock', offset_seconds: 0 });
      await env.doctor.handle.call({ request: 'hangup' });
    } finally {
      await p.client.destroy();
    }
  }
}

async function messagesAndEstimate(launch, name) {
  const art = artifacts(`patient-status-${name}`);
  const consoleLines = [];
  const { connectHandle } = await import(harness('client.mjs'));
  let env = null, browser = null, other = null;
  try {
    env = await patientStack(TEST_CLOCK);
    const { origin, practice, reception, doctor, doctorInfo } = env;
    const appt = await env.book({ minutes: 20 });
    browser = await launch();
    const page = await browser.newPage();
    await setPhone(page);
    if (name === 'chromium') watchConsole(page, 'patient', consoleLines);
    const pat = drive(page, 'patient');
    await joinPatient(pat, origin, practice.slug, appt.code);

    // another waiting patient, after ours
    const appt2 = await env.book({ minutes: 25 });
    other = await connectHandle(env.stack.janus.wsUrl);
    await other.handle.call({ request: 'join', practice: practice.slug, code: appt2.code, first_name: 'Andere', last_name: 'Wartende', accept_terms: true });

    // --- no history: the count, no estimate; no message -----------------------------
    await waitFor('patient: position shown', async () => (await pat.attr('#waiting', 'data-ahead')) === '0', 30_000);
    assert.equal((await estimate(pat)).hidden, true, 'no estimate without history');
    assert.equal((await message(pat)).hidden, true, 'no message yet');

    // --- the reception writes to this appointment ------------------------------------------
    const t1 = 'Dr. Prüf verspätet sich ca. 15 Minuten.';
    const r1 = await reception.handle.call({ request: 'message_waiting', appointment_id: appt.appointment_id, text: t1 });
    assert.equal(r1.delivered, 1);
    const m1 = await waitFor('patient: the message is shown', async () => {
      const m = await message(pat);
      return !m.hidden && m.text === t1 ? m : null;
    }, 30_000);
    assert.match(m1.from, /^Nachricht Ihrer Praxis · \d\d:\d\d Uhr$/, `from line: ${m1.from}`);
    assert.equal(m1.role, 'status');
    assert.equal(m1.live, 'polite', 'announced to screen readers');
    assert.ok(await pat.evaluate(() => document.getElementById('waiting').contains(document.getElementById('practice-message'))), 'in the green box');
    await art.shot(page, 'message-reception');
    await other.handle.sync();
    assert.equal(other.handle.events.filter((e) => e.event === 'message').length, 0, 'the other patient got nothing');

    // --- the doctor writes to all their waiting patients -------------------------------------
    const t2 = 'Bitte halten Sie Ihre Versichertenkarte bereit.';
    const r2 = await doctor.handle.call({ request: 'message_waiting', doctor_id: doctorInfo.id, text: t2 });
    assert.equal(r2.delivered, 2);
    const m2 = await waitFor('patient: the doctor\'s message replaces it', async () => {
      const m = await message(pat);
      return m.text === t2 ? m : null;
    }, 30_000);
    assert.match(m2.from, /^Nachricht von Dr\. Prüf · \d\d:\d\d Uhr$/, `from line: ${m2.from}`);
    const ev = await other.handle.waitEvent('message');
    assert.equal(ev.text, t2, 'the other patient got the one to all');
    await art.shot(page, 'message-doctor');
    await a11yClean(page, 'green box with a message', { tab: name === 'chromium' });   // Firefox: no window focus headless

    // --- history today: the estimate appears ------------------------------------------------
    await makeHistory(env, 3);
    // a patient with an earlier appointment comes: one ahead of ours
    const early = await env.book({ minutes: -5 });
    const ahead = await connectHandle(env.stack.janus.wsUrl);
    try {
      await ahead.handle.call({ request: 'join', practice: practice.slug, code: early.code, first_name: 'Frühe', last_name: 'Patientin', accept_terms: true });
      const est = await waitFor('patient: the estimate is shown', async () => {
        const e = await estimate(pat);
        return !e.hidden && e.ahead === '1' ? e : null;
      }, 30_000);
      assert.match(est.text, /^Geschätzte Wartezeit: (etwa \d+–\d+|bis zu \d+) Minuten$/, `estimate: ${est.text}`);
      assert.ok(Number(est.max) >= Number(est.min) + 5, `a range of at least 5 minutes: ${JSON.stringify(est)}`);
      assert.match(await pat.text('#ahead-text'), /1 Patient vor Ihnen/, 'the count stays');
      await art.shot(page, 'estimate');
      await a11yClean(page, 'green box with the estimate', { tab: false });

      // --- a reload: message and estimate again from the join reply ------------------------------
      await page.reload({ waitUntil: 'load' });
      await waitFor('patient: joined again after the reload', () => pat.evaluate(() => window.consult.state === 'waiting'), 30_000);
      await waitFor('patient: the message is back', async () => (await message(pat)).text === t2, 30_000);
      await waitFor('patient: the estimate is back', async () => !(await estimate(pat)).hidden, 30_000);
    } finally {
      await ahead.client.destroy();
    }
  } catch (err) {
    if (consoleLines.length) err.message += `\n--- page console ---\n${consoleLines.slice(-40).join('\n')}`;
    throw err;
  } finally {
    await closeAll(browser, other && (() => other.client.destroy()));
    if (env) await env.close();
  }
}

test('messages and the estimated wait in the green box (Chromium)', { timeout: 180_000 }, async () => {
  await messagesAndEstimate(() => launchChromium('patient-status'), 'chromium');
});

test('messages and the estimated wait in the green box (Firefox ESR)', { timeout: 180_000 }, async () => {
  await messagesAndEstimate(() => launchFirefox('patient-status'), 'firefox');
});

/** A real call: the patient page (phone size) and doctor.html in one Chromium. */
async function realCall(name, consoleLines) {
  const env = await patientStack();
  let browser = null;
  try {
    const { origin, practice, doctorInfo } = env;
    const appt = await env.book();
    browser = await launchChromium(name);
    const patPage = await browser.newPage();
    await setPhone(patPage);
    watchConsole(patPage, 'patient', consoleLines);
    const pat = drive(patPage, 'patient');
    await joinPatient(pat, origin, practice.slug, appt.code);
    await pat.click('#dc-later');
    const docPage = await browser.newPage();
    watchConsole(docPage, 'doctor', consoleLines);
    const doc = drive(docPage, 'doctor');
    await doc.goto(`${origin}/doctor.html`);
    await doc.fill('#username', doctorInfo.username);
    await doc.fill('#password', PASSWORDS.doctor);
    await doc.click('#login');
    await waitFor('doctor: the patient can be called', () => doc.evaluate(() => {
      const b = document.querySelector('#waiting-list button.call');
      return !!b && !b.disabled;
    }), 30_000);
    await doc.click('#waiting-list button.call');
    await pat.waitVisible('#ringing', 30_000);
    await pat.click('#accept-call');
    await waitForMedia(patPage, 'patient');
    await waitForMedia(docPage, 'doctor');
    const remote = () => pat.evaluate(() => {
      const el = document.getElementById('remote-media');
      return { video: el.dataset.video, audio: el.dataset.audio, text: el.textContent.trim(), flowing: window.consult.mediaFlowing };
    });
    await waitFor('patient: pictures arrive, nothing to remark', async () => {
      const r = await remote();
      return r.flowing && r.video === 'on' && r.text === '';
    }, 30_000);
    return { env, browser, pat, doc, patPage, docPage, remote };
  } catch (err) {
    await closeAll(browser);
    await env.close();
    throw err;
  }
}

test('in a real call the patient is told when no picture comes (sound only arrives)', { timeout: 240_000 }, async () => {
  const art = artifacts('patient-status-call');
  const consoleLines = [];
  let call = null;
  try {
    call = await realCall('patient-status-call', consoleLines);
    const { pat, doc, patPage, remote } = call;
    await art.shot(patPage, 'call-picture');
    // the doctor's page stops sending pictures; the sound goes on
    await doc.evaluate(() => {
      const s = window.consult.pc.getSenders().find((x) => x.track && x.track.kind === 'video');
      window.__videoTrack = s.track;
      window.__videoSender = s;
      return s.replaceTrack(null);
    });
    const none = await waitFor('patient: "kein Bild" while only sound arrives', async () => {
      const r = await remote();
      return r.video === 'none' ? r : null;
    }, 30_000);
    assert.equal(none.text, 'Von der Praxis kommt gerade kein Bild.');
    assert.equal(none.flowing, true, 'the sound still flows');
    await art.shot(patPage, 'call-no-picture');
    await a11yClean(patPage, 'call: no picture', { tab: false });
    await doc.evaluate(() => window.__videoSender.replaceTrack(window.__videoTrack));
    await waitFor('patient: the remark goes once pictures come again', async () => {
      const r = await remote();
      return r.video === 'on' && r.text === '';
    }, 30_000);
    await doc.click('#hangup');
    await pat.waitVisible('#ended');
  } catch (err) {
    if (consoleLines.length) err.message += `\n--- page consoles ---\n${consoleLines.slice(-40).join('\n')}`;
    throw err;
  } finally {
    if (call) {
      await closeAll(call.browser);
      await call.env.close();
    }
  }
});

// Needs the doctor page's half of the media state (it sends `signal` type
// media on its camera button): the staff pages' work.
test('in a real call the doctor\'s camera button tells the patient "Die Praxis hat die Kamera ausgeschaltet."', { timeout: 240_000 }, async () => {
  const art = artifacts('patient-status-camera-off');
  const consoleLines = [];
  let call = null;
  try {
    call = await realCall('patient-status-camera-off', consoleLines);
    const { pat, doc, patPage, remote } = call;
    await doc.click('#camera');
    const off = await waitFor('patient: "Die Praxis hat die Kamera ausgeschaltet."', async () => {
      const r = await remote();
      return r.video === 'off' ? r : null;
    }, 30_000);
    assert.equal(off.text, 'Die Praxis hat die Kamera ausgeschaltet.');
    await art.shot(patPage, 'call-camera-off');
    await doc.click('#camera');
    await waitFor('patient: camera on again', async () => (await remote()).video === 'on', 30_000);
    await doc.click('#mute');
    await waitFor('patient: "Die Praxis hat das Mikrofon ausgeschaltet."', async () => {
      const r = await remote();
      return r.audio === 'off' && r.text === 'Die Praxis hat das Mikrofon ausgeschaltet.';
    }, 30_000);
    await art.shot(patPage, 'call-mic-off');
    await doc.click('#hangup');
    await pat.waitVisible('#ended');
  } catch (err) {
    if (consoleLines.length) err.message += `\n--- page consoles ---\n${consoleLines.slice(-40).join('\n')}`;
    throw err;
  } finally {
    if (call) {
      await closeAll(call.browser);
      await call.env.close();
    }
  }
});
