// Photo on request with Firefox ESR as the patient (peer to peer, lab
// without NAT; the doctor in Chromium). Firefox has no ImageCapture: the
// patient page sets its camera track to the largest size getCapabilities
// offers and draws one frame of it (photo-patient.mjs). Firefox' fake camera
// is no file, so the dimensions are checked against what the patient page
// took: the doctor's JPEG (its SOF marker) and viewer have exactly those,
// and its SHA-256 is the one the patient page announced. A refused photo
// sends nothing (counted by message type: the patient page's quality
// reports on the same channel are left out).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '../browser/lib.mjs';
import { cleanupAll, scenario, waitCallUp } from './lab.mjs';
import { doctorPhotoBytes, jpegSize, requestPhoto, sendPhoto, sha256, takePhoto, viewerImage } from './photoflow.mjs';

let sc = null;
let failed = false;

before(async () => {
  sc = await scenario({ name: 'photo-firefox', nat: false, turn: 'absent', patientBrowser: 'firefox' });
  await waitCallUp(sc, { ms: 60_000 });
}, { timeout: 300_000 });

after(async () => {
  if (sc) await sc.finish(failed);
  await cleanupAll();
});

const guard = (fn) => async () => { try { await fn(); } catch (err) { failed = true; throw err; } };

test('Firefox patient: consent, the photo arrives with the dimensions taken and the same SHA-256', { timeout: 300_000 }, guard(async () => {
  const { doc, pat } = sc.call;
  const n = await requestPhoto(doc, pat);
  const shot = await takePhoto(doc, pat, n);
  assert.ok(shot.width > 0 && shot.height > 0, `Firefox took a picture (${shot.width}x${shot.height})`);
  assert.equal((await doc.evaluate(() => window.consult.photos))[0].received, 0, 'nothing before "Senden"');
  const { sent, entry } = await sendPhoto(doc, pat, n);
  const bytes = await doctorPhotoBytes(doc, n);
  assert.deepEqual(jpegSize(bytes), { width: shot.width, height: shot.height }, 'the JPEG has the dimensions the patient page took');
  assert.deepEqual([entry.width, entry.height], [shot.width, shot.height]);
  const img = await viewerImage(doc);
  assert.deepEqual([img.naturalWidth, img.naturalHeight], [shot.width, shot.height], 'the viewer shows it at that size');
  assert.equal(sha256(bytes), sent.sha256, 'SHA-256 equal');
  console.error(`# Firefox photo: ${shot.width}x${shot.height}, ${bytes.length} bytes`);
  await sc.shot(sc.call.docPage, 'photo-from-firefox');
  await doc.click('#viewer-close');
}));

test('Firefox patient: a refused photo sends nothing', { timeout: 300_000 }, guard(async () => {
  const { doc, pat } = sc.call;
  const before = await doc.evaluate(() => ({ ...window.consult.channel.stats }));
  const n = await requestPhoto(doc, pat);
  await pat.click('#photo-cancel');
  await waitFor('doctor: refused', () => doc.evaluate(() => document.getElementById('photo-status').dataset.state === 'refused'), 30_000, 100);
  const after = await doc.evaluate(() => ({ photos: window.consult.photos, stats: { ...window.consult.channel.stats } }));
  assert.equal(after.photos.find((x) => x.n === n).received, 0);
  // by type: the patient page's quality reports (every 2 s) are left out
  const sum = (types) => Object.entries(types).filter(([k]) => k !== 'quality').reduce((a, [, c]) => a + c.bytesReceived, 0);
  const count = (types, k) => (types[k] ? types[k].received : 0);
  assert.equal(count(after.stats.types, 'photo-begin') - count(before.types, 'photo-begin'), 0, 'no photo-begin');
  assert.equal(count(after.stats.types, 'photo-chunk') - count(before.types, 'photo-chunk'), 0, 'no photo-chunk');
  assert.ok(sum(after.stats.types) - sum(before.types) < 1000, `only the state message and the refusal (${JSON.stringify(after.stats.types)})`);
  assert.match(await doc.text('#photo-status'), /abgelehnt/);
}));
