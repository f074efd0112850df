// The doctor's day in the real page (Chromium, nginx, Janus): the list shows
// each patient's device check ("bereit", "Kamera blockiert", "kein
// Mikrofon", "nicht geprüft") and the appointment's booked name and note
// beside the name the patient typed; a patient whose connection dropped stays
// at their place, marked "Verbindung unterbrochen". During a call with a
// patient (own page in the same Chromium, P2P with media) the queue stays in
// sight (#queue-mini: count and next names) and a new arrival is announced
// (#queue-new, aria-live). A reload keeps the doctor logged in: no login form
// at any frame, the list back; a reload during a call says that the call
// ended with it and that the patient waits again.
// Patients other than the one in the call are raw WebSocket handles.
// Screenshots: tests/artifacts/doctor-day-chromium/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { artifacts, closeAll, drive, launchChromium, step, waitFor, waitForMedia, watchConsole } from './lib.mjs';
import { rows, startStaffStack, staffPage, unix, waitRows, wsPatient, wsStaff } from './staffkit.mjs';

const open = new Set();
after(async () => {
  const items = [...open].reverse();
  open.clear();
  await closeAll(...items);
});

// Records, from the first script of every document of the page on, whether
// the login form's user name field was ever rendered visible.
function watchLoginForm() {
  window.__loginShown = 0;
  const check = () => {
    const el = document.getElementById('username');
    if (el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden') window.__loginShown += 1;
  };
  document.addEventListener('DOMContentLoaded', check);
  const frame = () => { check(); if (!window.__stopWatch) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
}

test('doctor: readiness, booked name and note; away in place; queue beside the call; reload keeps the login', { timeout: 300_000 }, async () => {
  const art = artifacts('doctor-day-chromium');
  const consoleLines = [];
  let stack = null;
  let failed = true;
  const pages = {};
  try {
    stack = await step('start Janus + nginx + seed', startStaffStack({ janus: { graceSeconds: 600 } }), 90_000);
    open.add({ close: () => stack.stop() });
    const { janus, origin, practice } = stack;
    const [dr] = stack.doctors;
    const rec = await wsStaff(janus, stack.reception, open);
    const book = (minutes, extra = {}) => rec.call({ request: 'create_appointment', doctor_id: dr.id, starts_at: unix(minutes), ...extra });

    // --- four patients wait, three of them with a device check ---------------
    const apA = await book(-10, { patient_name: 'Erika Musterbuch', note: 'Kontrolle Muttermal' });
    const apB = await book(-8, { patient_name: 'Bernd Beispiel' });
    const apC = await book(-6);
    const apD = await book(-4);
    const apE = await book(2);
    const A = await wsPatient(janus, practice, apA.code, 'Erika', 'Muster', open);
    await A.handle.call({ request: 'readiness', camera: 'ok', microphone: 'ok' });
    const B = await wsPatient(janus, practice, apB.code, 'Bernd', 'Beispiel', open);
    await B.handle.call({ request: 'readiness', camera: 'blocked', microphone: 'ok' });
    const C = await wsPatient(janus, practice, apC.code, 'Carla', 'Codex', open);
    await C.handle.call({ request: 'readiness', camera: 'ok', microphone: 'missing' });

    const browser = await step('launch Chromium', launchChromium('doctor-day'), 90_000);
    open.add(browser);
    // the patient of the call joins in its own page (the page's own device check, if any, may run)
    const patPage = await browser.newPage();
    watchConsole(patPage, 'patient', consoleLines);
    const pat = drive(patPage, 'patient');
    pages.patient = pat;
    await pat.goto(`${origin}/patient.html?p=${practice.slug}#${apD.code}`);
    await pat.fill('#first-name', 'Dora');
    await pat.fill('#last-name', 'Direkt');
    await pat.check('#accept-terms');
    await pat.click('#start');
    await pat.waitVisible('#waiting', 30_000);

    const doc = await staffPage(browser, origin, 'doctor', dr, consoleLines);
    pages.doctor = doc;
    const all = await waitFor('doctor: four patients listed', async () => {
      const r = await rows(doc);
      return r.length === 4 ? r : null;
    }, 30_000);
    const [rA, rB, rC, rD] = all;
    assert.deepEqual([rA.id, rB.id, rC.id], [A.joined.visit_id, B.joined.visit_id, C.joined.visit_id], 'queue order');
    assert.equal(rA.typed, 'Erika Muster', 'the name the patient typed');
    assert.match(rA.booked || '', /Erika Musterbuch/, 'the booked name beside it');
    assert.match(rA.note || '', /Kontrolle Muttermal/, 'the note of the appointment');
    assert.equal(rA.readiness, 'ready');
    assert.match(rA.readinessText, /bereit/);
    assert.equal(rB.readiness, 'problem');
    assert.match(rB.readinessText, /Kamera blockiert/);
    assert.match(rB.booked || '', /Bernd Beispiel/);
    assert.equal(rB.note, null, 'no note: no note line');
    assert.match(rC.readinessText, /kein Mikrofon/);
    assert.equal(rC.booked, null, 'no booked name: none shown');
    assert.equal(rD.typed, 'Dora Direkt');
    assert.ok(['ready', 'unchecked', 'problem'].includes(rD.readiness), `the page's patient has a readiness (${rD.readiness})`);
    if (rD.readiness === 'unchecked') assert.match(rD.readinessText, /nicht geprüft/);
    assert.equal(await doc.attr('#queue-count', 'data-count'), '4');
    await art.shot(doc.page, 'list-readiness-names');

    // --- C's connection drops: still at the third place, marked ------------
    C.client.close();
    await waitFor('doctor: C away at its place', async () => {
      const r = await rows(doc);
      return r.length === 4 && r[2].id === C.joined.visit_id && r[2].state === 'away' && /Verbindung unterbrochen/.test(r[2].away || '') && !r[2].callable;
    }, 30_000);
    assert.equal(await doc.attr('#queue-count', 'data-away'), '1');
    assert.match(await doc.text('#queue-count'), /4 Patient\/innen warten.*1 mit unterbrochener Verbindung/);
    await art.shot(doc.page, 'list-away-in-place');

    // --- the call with D; the queue stays in sight ---------------------------
    await doc.click(`#waiting-list li[data-visit-id="${rD.id}"] button.call`);
    await pat.waitVisible('#ringing', 30_000);
    await pat.click('#accept-call');
    await waitForMedia(doc.page, 'doctor');
    assert.equal(await doc.evaluate(() => window.consult.state), 'call');
    assert.equal(await doc.visible('#queue-mini'), true, 'the compact queue is visible during the call');
    await waitFor('queue-mini: the three waiting', async () => (await doc.attr('#queue-mini', 'data-count')) === '3', 30_000);
    const next = await doc.evaluate(() => [...document.querySelectorAll('#queue-mini-next li[data-visit-id]')].map((li) => li.textContent));
    assert.deepEqual(next.map((s) => s.split(' (')[0]), ['Erika Muster', 'Bernd Beispiel', 'Carla Codex'], 'the next names');
    assert.match(next[2], /Verbindung unterbrochen/, 'the away one is marked');
    assert.equal(await doc.text('#queue-mini-count'), '3 wartend (1 Verbindung unterbrochen)');
    assert.equal(await doc.visible('#queue-new'), false, 'no arrival yet');
    const inView = () => doc.evaluate(() => {
      const r = document.getElementById('queue-mini').getBoundingClientRect();
      return r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
    });
    assert.ok(await inView(), 'the compact queue is in sight without scrolling (1000x800)');
    await art.shot(doc.page, 'call-queue-mini');
    // on a phone (portrait and landscape) too, and never over the patient's picture
    const overPicture = () => doc.evaluate(() => {
      const a = document.getElementById('queue-mini').getBoundingClientRect();
      const b = document.getElementById('remote-video').getBoundingClientRect();
      return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    });
    assert.equal(await overPicture(), false, 'beside the picture, not over it (1000x800)');
    for (const [width, height] of [[390, 844], [844, 390]]) {
      await doc.page.setViewportSize({ width, height });
      assert.ok(await waitFor(`queue-mini in sight at ${width}x${height}`, inView, 10_000), `the compact queue is in sight at ${width}x${height}`);
      assert.equal(await overPicture(), false, `not over the picture at ${width}x${height}`);
      await art.shot(doc.page, `call-queue-mini-${width}x${height}`);
    }
    await doc.page.setViewportSize({ width: 1000, height: 800 });

    const E = await wsPatient(janus, practice, apE.code, 'Emil', 'Eilig', open);
    await waitFor('queue-new announces the arrival', async () =>
      (await doc.visible('#queue-new')) && /Neu im Warteraum: Emil Eilig/.test(await doc.text('#queue-new'))
      && (await doc.attr('#queue-new', 'data-visit-id')) === String(E.joined.visit_id), 30_000);
    assert.equal(await doc.attr('#queue-new', 'aria-live'), 'polite');
    assert.equal(await doc.attr('#queue-new', 'role'), 'status');
    await waitFor('queue-mini: four now', async () => (await doc.attr('#queue-mini', 'data-count')) === '4', 30_000);
    assert.equal(await doc.evaluate(() => window.consult.state), 'call', 'the call goes on');
    await art.shot(doc.page, 'call-new-arrival');
    await doc.click('#hangup');
    await pat.waitVisible('#ended', 30_000);
    await waitFor('doctor back at the list', async () => (await doc.evaluate(() => window.consult.state)) === 'list', 30_000);

    // --- reload: still logged in, no login form at any frame ------------------
    await doc.page.addInitScript(watchLoginForm);
    await doc.page.reload({ waitUntil: 'load' });
    await doc.waitVisible('#app-view', 30_000);
    const after1 = await waitRows(doc, [A.joined.visit_id, B.joined.visit_id, C.joined.visit_id, E.joined.visit_id], 'back after the reload');
    assert.equal(after1[0].readiness, 'ready', 'readiness back after the reload');
    assert.equal(await doc.evaluate(() => window.consult.state), 'list');
    assert.equal(await doc.evaluate(() => window.__loginShown), 0, 'the login form never showed during the reload');
    assert.equal(await doc.visible('#login-view'), false);
    await art.shot(doc.page, 'after-reload');

    // --- reload during a call: the call ends with it, said so ---------------
    await doc.click(`#waiting-list li[data-visit-id="${A.joined.visit_id}"] button.call`);
    await A.handle.waitEvent('ringing', { timeout: 30_000 });
    await A.handle.call({ request: 'accept' });
    await waitFor('doctor in the call with A', async () => (await doc.evaluate(() => window.consult.state)) === 'call', 30_000);
    await doc.page.reload({ waitUntil: 'load' });
    await doc.waitVisible('#app-view', 30_000);
    await A.handle.waitEvent('doctor_left', { timeout: 30_000 });
    await waitFor('doctor: the reload notice names A and says A waits again', async () =>
      (await doc.attr('#notice', 'data-key')) === 'doctor.reload.ended'
      && (await doc.attr('#notice', 'data-follow')) === 'waiting'
      && /neu geladen.*Erika Muster/.test(await doc.text('#notice')), 30_000);
    assert.equal(await doc.evaluate(() => window.__loginShown), 0, 'no login form on this reload either');
    await waitFor('A back at the head of the list', async () => (await rows(doc))[0]?.id === A.joined.visit_id, 30_000);
    await art.shot(doc.page, 'reload-during-call');
    failed = false;
  } finally {
    if (failed) for (const [who, d] of Object.entries(pages)) await art.shot(d.page, `failure-${who}`);
    const browsers = [...open].filter((x) => x && x.kind === 'chromium');
    await closeAll(...browsers);
    for (const b of browsers) open.delete(b);
    if (stack) {
      const logs = await stack.stop();
      if (logs.janusLog) fs.writeFileSync(path.join(art.dir, 'janus.log'), logs.janusLog);
      if (!failed) {
        for (const s of ['Musterbuch', 'Muttermal', 'Beispiel']) assert.ok(!(logs.janusLog || '').includes(s), `Janus log free of "${s}"`);
      }
    }
    fs.writeFileSync(path.join(art.dir, 'console.log'), consoleLines.join('\n') + '\n');
    if (failed && consoleLines.length) console.error('# page console:\n# ' + consoleLines.slice(-30).join('\n# '));
  }
});
