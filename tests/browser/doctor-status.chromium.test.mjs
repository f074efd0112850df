// Honest status texts on the doctor's page (Chromium, nginx, Janus; the
// patients are raw WebSocket handles so each answer is exact):
// - decline with reason camera_blocked: "Kamera blockiert", not "abgelehnt",
//   and the patient still waits;
// - accept with audio_only: "nimmt nur mit Ton teil"; the patient's
//   microphone off (signal type media): "hat das Mikrofon ausgeschaltet";
// - the doctor's microphone and camera toggles reach the patient as signal
//   type media;
// - the patient's page goes during the call (leave): "hat die Seite
//   geschlossen oder neu geladen", then "ist wieder im Warteraum" when the
//   same patient joins again;
// - the patient's connection drops while ringing: the call stops and the
//   notice says the patient keeps the place (away).
// Screenshots: tests/artifacts/doctor-status-chromium/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { artifacts, closeAll, launchChromium, step, waitFor } from './lib.mjs';
import { rejoin, rows, startStaffStack, staffPage, unix, wsPatient, wsStaff } from './staffkit.mjs';

const open = new Set();
after(async () => {
  const items = [...open].reverse();
  open.clear();
  await closeAll(...items);
});

const notice = async (d) => ({
  key: await d.attr('#notice', 'data-key'),
  follow: await d.attr('#notice', 'data-follow'),
  text: await d.text('#notice'),
});

test('doctor: camera blocked, audio only, media state both ways, page closed vs rejoined, away while ringing', { timeout: 240_000 }, async () => {
  const art = artifacts('doctor-status-chromium');
  const consoleLines = [];
  let stack = null;
  let doc = null;
  let failed = true;
  try {
    stack = await step('start Janus + nginx + seed', startStaffStack({ janus: { graceSeconds: 600 } }), 90_000);
    open.add({ close: () => stack.stop() });
    const { janus, origin, practice } = stack;
    const [dr] = stack.doctors;
    const rec = await wsStaff(janus, stack.reception, open);
    const apP = await rec.call({ request: 'create_appointment', doctor_id: dr.id, starts_at: unix(-5) });
    const apQ = await rec.call({ request: 'create_appointment', doctor_id: dr.id, starts_at: unix(0) });
    const P = await wsPatient(janus, practice, apP.code, 'Paula', 'Prüfstein', open);
    const Q = await wsPatient(janus, practice, apQ.code, 'Quirin', 'Quelle', open);

    const browser = await step('launch Chromium', launchChromium('doctor-status'), 90_000);
    open.add(browser);
    doc = await staffPage(browser, origin, 'doctor', dr, consoleLines);
    await waitFor('doctor: both listed', async () => (await rows(doc)).length === 2, 30_000);
    const callBtn = (v) => `#waiting-list li[data-visit-id="${v}"] button.call`;
    const ring = async (p) => {
      await waitFor('call button enabled', async () => (await rows(doc)).some((r) => r.id === p.joined.visit_id && r.callable), 30_000);
      await doc.click(callBtn(p.joined.visit_id));
      await p.handle.waitEvent('ringing', { timeout: 30_000 });
    };

    // --- decline: camera blocked ---------------------------------------------
    await ring(P);
    await P.handle.call({ request: 'decline', reason: 'camera_blocked' });
    await waitFor('doctor: "Kamera blockiert"', async () => {
      const n = await notice(doc);
      return n.key === 'doctor.declined.camera_blocked' && /Kamera blockiert/.test(n.text) && n.follow === 'waiting';
    }, 30_000);
    const n1 = await notice(doc);
    assert.doesNotMatch(n1.text, /abgelehnt/, 'not "declined"');
    assert.match(n1.text, /Paula Prüfstein wartet weiter/);
    assert.equal(await doc.evaluate(() => window.consult.state), 'list');
    await art.shot(doc.page, 'declined-camera-blocked');

    // --- audio only, and the media state both ways ---------------------------
    await ring(P);
    await P.handle.call({ request: 'accept', audio_only: true });
    await waitFor('doctor: in the call', async () => (await doc.evaluate(() => window.consult.state)) === 'call', 30_000);
    await waitFor('doctor: "nimmt nur mit Ton teil"', async () =>
      (await doc.attr('#remote-media', 'data-audio-only')) === 'true' && /Paula Prüfstein nimmt nur mit Ton teil/.test(await doc.text('#remote-media')), 30_000);
    assert.equal(await doc.visible('#remote-media'), true);
    await P.handle.call({ request: 'signal', type: 'media', audio: false, video: false });
    await waitFor('doctor: the patient\'s microphone off', async () =>
      (await doc.attr('#remote-media', 'data-audio')) === 'false' && /hat das Mikrofon ausgeschaltet/.test(await doc.text('#remote-media')), 30_000);
    await art.shot(doc.page, 'audio-only-mic-off');
    await P.handle.call({ request: 'signal', type: 'media', audio: true, video: false });
    await waitFor('doctor: microphone on again, audio only stays', async () => {
      const text = await doc.text('#remote-media');
      return (await doc.attr('#remote-media', 'data-audio')) === 'true' && /nur mit Ton/.test(text) && !/Mikrofon ausgeschaltet/.test(text);
    }, 30_000);
    const media = (ev) => ev.type === 'media';
    await doc.click('#mute');
    const m1 = await P.handle.waitEvent('signal', { timeout: 30_000, filter: media });
    assert.deepEqual([m1.audio, m1.video], [false, true], 'the doctor\'s microphone off reaches the patient');
    await doc.click('#camera');
    const m2 = await P.handle.waitEvent('signal', { timeout: 30_000, filter: media });
    assert.deepEqual([m2.audio, m2.video], [false, false], 'and the camera off');
    await doc.click('#mute');
    const m3 = await P.handle.waitEvent('signal', { timeout: 30_000, filter: media });
    assert.deepEqual([m3.audio, m3.video], [true, false], 'microphone on again');

    // --- the patient's page goes during the call, then P joins again --------
    await P.handle.call({ request: 'leave' });
    await waitFor('doctor: page closed or reloaded', async () => {
      const n = await notice(doc);
      return n.key === 'doctor.ended.page_left' && /Paula Prüfstein hat die Seite geschlossen oder neu geladen/.test(n.text);
    }, 30_000);
    assert.doesNotMatch((await notice(doc)).text, /Warteraum verlassen/);
    assert.equal(await doc.evaluate(() => window.consult.state), 'list');
    assert.equal(await doc.visible('#remote-media'), false, 'the media line goes with the call');
    await art.shot(doc.page, 'page-left');
    const P2 = await rejoin(P);
    await waitFor('doctor: "ist wieder im Warteraum"', async () => {
      const n = await notice(doc);
      return n.follow === 'rejoined' && /Paula Prüfstein ist wieder im Warteraum/.test(n.text);
    }, 30_000);
    assert.ok((await rows(doc)).some((r) => r.id === P2.joined.visit_id), 'listed again');
    await art.shot(doc.page, 'page-left-rejoined');

    // --- Q's connection drops while ringing: away, place kept -----------------
    await ring(Q);
    Q.client.close();
    await waitFor('doctor: patient_away with the place kept', async () => {
      const n = await notice(doc);
      return n.key === 'doctor.patient.away' && n.follow === 'away' && /Quirin Quelle behält den Platz/.test(n.text);
    }, 30_000);
    const q = (await rows(doc)).find((r) => r.id === Q.joined.visit_id);
    assert.equal(q && q.state, 'away', 'Q listed as away');
    await art.shot(doc.page, 'away-while-ringing');
    failed = false;
  } finally {
    if (failed && doc) await art.shot(doc.page, 'failure-doctor');
    const browsers = [...open].filter((x) => x && x.kind === 'chromium');
    await closeAll(...browsers);
    for (const b of browsers) open.delete(b);
    if (stack) {
      const logs = await stack.stop();
      if (logs.janusLog) fs.writeFileSync(path.join(art.dir, 'janus.log'), logs.janusLog);
    }
    fs.writeFileSync(path.join(art.dir, 'console.log'), consoleLines.join('\n') + '\n');
    if (failed && consoleLines.length) console.error('# page console:\n# ' + consoleLines.slice(-30).join('\n# '));
  }
});
