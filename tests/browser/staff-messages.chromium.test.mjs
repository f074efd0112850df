// Messages to waiting patients from the staff pages (Chromium, nginx, Janus;
// the waiting patients are raw WebSocket handles, so what each one received
// is exact): the doctor sends to one patient (only that one receives it)
// and to all of their waiting patients (their own appointments and the "any
// doctor" one; not the other doctor's patient); reception sends to the
// patient of one appointment and to all waiting patients of the other
// doctor. The page shows the reply's `delivered` count; presets fill the
// text; the counter stops at 280.
// Screenshots: tests/artifacts/staff-messages-chromium/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { artifacts, closeAll, launchChromium, selectValue, step, waitFor } from './lib.mjs';
import { rows, startStaffStack, staffPage, unix, wsPatient, wsStaff } from './staffkit.mjs';

const open = new Set();
after(async () => {
  const items = [...open].reverse();
  open.clear();
  await closeAll(...items);
});

/** The `message` events a patient handle holds now (after a sync: none in flight). */
async function received(p) {
  await p.handle.sync();
  return p.handle.pending('message').map((e) => ({ text: e.text, from: e.from }));
}

async function send(d, target, text) {
  await d.evaluate(() => { document.getElementById('msg-box').open = true; });
  await selectValue(d, '#msg-target', target);
  await d.fill('#msg-text', text);
  await d.evaluate(() => { document.getElementById('msg-result').dataset.delivered = ''; });
  await d.click('#msg-send');
  const n = await waitFor(`${target}: delivered count shown`, async () => {
    const v = await d.attr('#msg-result', 'data-delivered');
    const err = await d.visible('#msg-error');
    if (err) throw new Error(`message error: ${await d.text('#msg-error')}`);
    return v ? v : null;
  }, 30_000);
  return { delivered: Number(n), text: await d.text('#msg-result') };
}

test('messages: doctor to one and to all of theirs; reception to an appointment and to a doctor\'s patients; delivered shown', { timeout: 240_000 }, async () => {
  const art = artifacts('staff-messages-chromium');
  const consoleLines = [];
  let stack = null;
  let failed = true;
  const pages = {};
  try {
    stack = await step('start Janus + nginx + seed', startStaffStack(), 90_000);
    open.add({ close: () => stack.stop() });
    const { janus, origin, practice } = stack;
    const [dr1, dr2] = stack.doctors;
    const rec = await wsStaff(janus, stack.reception, open);
    const book = (doctorId, minutes) => rec.call({ request: 'create_appointment', doctor_id: doctorId, starts_at: unix(minutes) });
    const apA1 = await book(dr1.id, -5);
    const apA2 = await book(dr1.id, -3);
    const apG = await book(null, -2);
    const apB1 = await book(dr2.id, -4);
    const A1 = await wsPatient(janus, practice, apA1.code, 'Anna', 'Eins', open);
    const A2 = await wsPatient(janus, practice, apA2.code, 'Arno', 'Zwo', open);
    const G = await wsPatient(janus, practice, apG.code, 'Gerda', 'Beliebig', open);
    const B1 = await wsPatient(janus, practice, apB1.code, 'Bruno', 'Anders', open);
    const everyone = [A1, A2, G, B1];

    const browser = await step('launch Chromium', launchChromium('staff-messages'), 90_000);
    open.add(browser);
    const doc = await staffPage(browser, origin, 'doctor', dr1, consoleLines);
    pages.doctor = doc;
    await waitFor('doctor 1: own and "any doctor" patients listed', async () => (await rows(doc)).length === 3, 30_000);

    // --- the doctor: a preset fills the text; the counter ---------------------
    await doc.evaluate(() => { document.getElementById('msg-box').open = true; });
    await selectValue(doc, '#msg-preset', 'staff.msg.preset.doctor.late15');
    assert.equal(await doc.value('#msg-text'), 'Ich verspäte mich ca. 15 Minuten.');
    assert.equal(await doc.attr('#msg-count', 'data-count'), String('Ich verspäte mich ca. 15 Minuten.'.length));
    await doc.fill('#msg-text', 'x'.repeat(300));
    assert.equal(await doc.attr('#msg-count', 'data-count'), '280', 'the field stops at 280 characters');
    assert.match(await doc.text('#msg-count'), /^280\/280/);
    await art.shot(doc.page, 'doctor-composer');

    // --- to one patient ------------------------------------------------------
    const one = 'Frau Eins, ich rufe Sie gleich auf.';
    const r1 = await send(doc, `visit:${A1.joined.visit_id}`, one);
    assert.equal(r1.delivered, 1);
    assert.match(r1.text, /an 1 Patientin\/Patienten zugestellt/);
    assert.deepEqual(await received(A1), [{ text: one, from: 'Dr. Tag' }], 'A1 got it, from the doctor');
    for (const p of [A2, G, B1]) assert.deepEqual(await received(p), [], `${p.first} got nothing`);
    assert.equal(await doc.value('#msg-text'), '', 'the field is emptied after sending');
    await art.shot(doc.page, 'doctor-sent-one');

    // the per-row button chooses that patient
    await doc.click(`#waiting-list li[data-visit-id="${A2.joined.visit_id}"] button.msg`);
    assert.equal(await doc.value('#msg-target'), `visit:${A2.joined.visit_id}`);

    // --- to all of the doctor's waiting patients ----------------------------
    for (const p of everyone) p.handle.drain();
    const all = 'Ich verspäte mich ca. 15 Minuten.';
    const r2 = await send(doc, `doctor:${dr1.id}`, all);
    assert.equal(r2.delivered, 3, 'own two and the "any doctor" one');
    assert.match(r2.text, /an 3 Patient\/innen zugestellt/);
    for (const p of [A1, A2, G]) assert.deepEqual(await received(p), [{ text: all, from: 'Dr. Tag' }], `${p.first} got it`);
    assert.deepEqual(await received(B1), [], 'the other doctor\'s patient got nothing');
    await art.shot(doc.page, 'doctor-sent-all');

    // --- reception: one appointment, then all of Dr. Zwei's ------------------
    for (const p of everyone) p.handle.drain();
    const recPage = await staffPage(browser, origin, 'reception', stack.reception, consoleLines);
    pages.reception = recPage;
    const rowSel = `#appointments tr[data-appointment-id="${apA2.appointment_id}"]`;
    await waitFor('reception: A2 waiting', () => recPage.evaluate((s) => {
      const st = document.querySelector(`${s} .status`);
      return st && st.dataset.status === 'waiting';
    }, rowSel), 30_000);
    await recPage.click(`${rowSel} button.msg`);
    assert.equal(await recPage.value('#msg-target'), `appointment:${apA2.appointment_id}`, 'the row button chose the appointment');
    const fromDesk = 'Bitte halten Sie Ihre Versichertenkarte bereit.';
    const r3 = await send(recPage, `appointment:${apA2.appointment_id}`, fromDesk);
    assert.equal(r3.delivered, 1);
    assert.deepEqual(await received(A2), [{ text: fromDesk, from: null }], 'A2 got it, from the practice');
    for (const p of [A1, G, B1]) assert.deepEqual(await received(p), [], `${p.first} got nothing`);
    await art.shot(recPage.page, 'reception-sent-one');

    for (const p of everyone) p.handle.drain();
    const late = 'Die Sprechstunde verzögert sich um ca. 15 Minuten.';
    const r4 = await send(recPage, `doctor:${dr2.id}`, late);
    assert.equal(r4.delivered, 2, 'Dr. Zwei\'s patient and the "any doctor" one');
    for (const p of [B1, G]) assert.deepEqual(await received(p), [{ text: late, from: null }], `${p.first} got it`);
    for (const p of [A1, A2]) assert.deepEqual(await received(p), [], `${p.first} (Dr. Tag) got nothing`);
    await art.shot(recPage.page, 'reception-sent-doctor');

    // --- the chosen patient leaves: never "all" instead, a clear error ---------
    for (const p of everyone) p.handle.drain();
    await doc.click(`#waiting-list li[data-visit-id="${A1.joined.visit_id}"] button.msg`);
    assert.equal(await doc.value('#msg-target'), `visit:${A1.joined.visit_id}`);
    await doc.fill('#msg-text', 'Nur für Frau Eins.');
    await A1.handle.call({ request: 'leave' });
    await waitFor('doctor: the target says the patient is gone', async () => (await doc.value('#msg-target')) === ''
      && /nicht mehr im Warteraum/.test(await doc.evaluate(() => document.querySelector('#msg-target').selectedOptions[0].textContent)), 30_000);
    await doc.click('#msg-send');
    await waitFor('doctor: error shown', async () => /wartet nicht mehr/.test((await doc.text('#msg-error')) || ''), 15_000);
    for (const p of [A2, G, B1]) assert.deepEqual(await received(p), [], `${p.first} got nothing`);
    await art.shot(doc.page, 'doctor-target-gone');

    // --- reception: a patient who left is no longer offered as a target --------
    await recPage.evaluate(() => { document.getElementById('msg-box').open = true; });
    await waitFor('reception: A1 gone from the targets', async () => !(await recPage.evaluate((v) =>
      [...document.querySelectorAll('#msg-target option')].some((o) => o.value === v), `appointment:${apA1.appointment_id}`)), 30_000);
    failed = false;
  } finally {
    if (failed) for (const [who, d] of Object.entries(pages)) await art.shot(d.page, `failure-${who}`);
    const browsers = [...open].filter((x) => x && x.kind === 'chromium');
    await closeAll(...browsers);
    for (const b of browsers) open.delete(b);
    if (stack) {
      const logs = await stack.stop();
      if (logs.janusLog) fs.writeFileSync(path.join(art.dir, 'janus.log'), logs.janusLog);
      if (!failed) assert.ok(!(logs.janusLog || '').includes('Versichertenkarte'), 'no message text in the Janus log');
    }
    fs.writeFileSync(path.join(art.dir, 'console.log'), consoleLines.join('\n') + '\n');
    if (failed && consoleLines.length) console.error('# page console:\n# ' + consoleLines.slice(-30).join('\n# '));
  }
});
