// Photo on request between the real pages (html/js/photo*.mjs), peer to
// peer, with the patient's Chromium camera fed from a generated y4m of a
// known pattern at 1920x1080 (tests/browser/y4m.mjs; the call itself sends
// 1280x720, so a full-resolution photo is larger than any video frame).
// 1. The doctor asks ("Foto anfordern"); the patient's page explains and
//    shows the camera; nothing of a picture reaches the doctor before the
//    patient presses "Senden" (after "Foto aufnehmen" the doctor's page
//    knows only that a picture is being reviewed: 0 bytes received). After
//    "Senden" the doctor's viewer shows it: the JPEG's own dimensions (SOF
//    marker, parsed here) and the decoded image are 1920x1080 (first seen
//    decoded at the viewer's size on a canvas over it, which goes at the
//    first zoom); its SHA-256
//    equals the one the patient page announced and the one of the bytes the
//    patient page sent; "Speichern" downloads exactly these bytes. Janus
//    relayed no data-channel byte and no consult handle has a PeerConnection.
// 2. A refused photo sends nothing: the doctor sees "abgelehnt", the photo's
//    received bytes stay 0, the doctor's call channel took < 1 KB meanwhile
//    (the request and the refusal), no photo-begin/-chunk at all.
// The patient page sends its quality numbers every 2 s on the same channel:
// the byte and message limits count by type (channel stats.types) and
// leave out `quality`, so a slow run on a busy machine does not fail them.
// The y4m (about 6 MB) lives in a temp folder and is deleted at the end.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { waitFor } from '../browser/lib.mjs';
import { cleanupAll, scenario, waitCallUp } from './lab.mjs';
import { consultHandles, pcInfo } from './pcap.mjs';
import { doctorPhotoBytes, firstSightBands, jpegSize, requestPhoto, sendPhoto, sha256, takePhoto, viewerImage, y4mCamera } from './photoflow.mjs';

const W = 1920;
const H = 1080;

/** Messages and bytes the doctor's channel delivered, all types but the patient's `quality` reports. */
function besidesQuality(stats) {
  let messages = 0;
  let bytes = 0;
  for (const [type, c] of Object.entries(stats.types)) {
    if (type === 'quality') continue;
    messages += c.received;
    bytes += c.bytesReceived;
  }
  return { messages, bytes, types: stats.types };
}
let cam = null;
let sc = null;
let failed = false;

before(async () => {
  cam = y4mCamera('photo', { width: W, height: H });
  sc = await scenario({ name: 'photo-p2p', nat: false, turn: 'absent', patientArgs: cam.args });
  await waitCallUp(sc, { ms: 60_000 });
}, { timeout: 300_000 });

after(async () => {
  if (sc) await sc.finish(failed);
  await cleanupAll();
  if (cam) cam.remove();
});

const guard = (fn) => async () => { try { await fn(); } catch (err) { failed = true; throw err; } };

test('peer to peer: consent, then the doctor gets the full-resolution photo, hash equal, savable; Janus sees no data', { timeout: 300_000 }, guard(async () => {
  const { doc, pat } = sc.call;
  const n = await requestPhoto(doc, pat);
  assert.equal(n, 1, 'the first photo of the call is number 1');
  await sc.shot(sc.call.patPage, 'photo-ask');
  const shot = await takePhoto(doc, pat, n);
  assert.deepEqual([shot.width, shot.height], [W, H], 'the patient page took the picture at the camera\'s full resolution');
  // consent: the picture exists on the patient's side only
  const waiting = await doc.evaluate(() => ({ photos: window.consult.photos, stats: { ...window.consult.channel.stats } }));
  assert.equal(waiting.photos[0].received, 0, 'nothing of the photo reached the doctor before "Senden"');
  const early = besidesQuality(waiting.stats);
  assert.ok(!early.types['photo-begin'] && !early.types['photo-chunk'], `no photo message so far (${JSON.stringify(early.types)})`);
  assert.ok(early.bytes < 2000, `the doctor's channel took only control messages so far (${JSON.stringify(early.types)})`);
  await sc.shot(sc.call.patPage, 'photo-review');

  const { sent, entry, shown } = await sendPhoto(doc, pat, n);
  await sc.shot(sc.call.docPage, 'photo-viewer');
  // first sight: decoded at about the viewer's size (Chromium: ImageDecoder), over the full image
  assert.equal(shown.via, 'streamed', 'the doctor\'s Chromium showed it decoded at the viewer\'s size, fed while it arrived');
  const first = await doc.evaluate(() => {
    const c = document.querySelector('#viewer-stage canvas.viewer-first');
    const img = document.getElementById('viewer-img');
    return c && { css: [c.style.width, c.style.height], img: [img.style.width, img.style.height], px: c.width > 0 && c.height > 0 };
  });
  assert.ok(first && first.px, 'the first-sight canvas is on the stage');
  assert.deepEqual(first.css, first.img, 'it covers the full image exactly');
  // the first sight is the whole picture, down to its last rows (a decode
  // finished early would leave them empty): compared with the full image
  // drawn at the same size, row band by row band
  const bands = await firstSightBands(doc);
  for (const [k, band] of bands.entries()) {
    assert.ok(band.diff < 12, `first sight, quarter ${k + 1} from the top: as the full image (mean difference ${band.diff.toFixed(1)} of 255)`);
  }
  await doc.click('#viewer-in');
  assert.equal(await doc.evaluate(() => document.querySelector('#viewer-stage canvas.viewer-first')), null, 'zoomed in: the full image, not the reduced one');
  assert.equal(entry.state, 'done');
  assert.deepEqual([entry.width, entry.height], [W, H], 'announced dimensions');
  const bytes = await doctorPhotoBytes(doc, n);
  assert.deepEqual(jpegSize(bytes), { width: W, height: H }, 'the JPEG the doctor holds is 1920x1080 (its SOF marker)');
  const img = await viewerImage(doc);
  assert.ok(img.open, 'the viewer is open');
  assert.deepEqual([img.naturalWidth, img.naturalHeight], [W, H], 'the viewer shows it decoded at 1920x1080');
  assert.equal(sha256(bytes), sent.sha256, 'SHA-256 of the doctor\'s bytes = what the patient page announced');
  assert.equal(entry.sha256, sent.sha256, 'the doctor\'s page checked the same hash');
  assert.equal(bytes.length, sent.size, 'size as sent');
  assert.ok(shown.at >= sent.sendAt, 'shown after "Senden"');

  // "Speichern": a download of exactly these bytes
  const [download] = await Promise.all([sc.call.docPage.waitForEvent('download'), doc.click('#viewer-save')]);
  const saved = path.join(cam.dir, 'saved.jpg');
  await download.saveAs(saved);
  assert.equal(sha256(fs.readFileSync(saved)), sent.sha256, 'the saved file holds the same bytes');
  assert.match(download.suggestedFilename(), /^Foto-1_\d{4}-\d\d-\d\d_\d\d-\d\d\.jpg$/, 'file name: number and time, no name of the patient');
  fs.rmSync(saved);
  await doc.click('#viewer-close');

  const stats = await sc.stack.janus.admin({ request: 'stats' });
  assert.equal(stats.forward.total, 0, 'no forwarded call');
  assert.equal(stats.forward.data_messages, 0, 'Janus relayed no data-channel message');
  assert.equal(stats.forward.data_bytes, 0, 'Janus relayed no data-channel byte');
  for (const h of await consultHandles(sc.stack.janus)) {
    assert.deepEqual(pcInfo(h.info), [], `consult handle ${h.handle_id}: no PeerConnection in Janus`);
  }
}));

test('peer to peer: a refused photo sends nothing, the doctor sees "abgelehnt"', { timeout: 300_000 }, guard(async () => {
  const { doc, pat } = sc.call;
  const before = await doc.evaluate(() => ({ ...window.consult.channel.stats }));
  const n = await requestPhoto(doc, pat);
  assert.equal(n, 2, 'numbered on: photo 2');
  await takePhoto(doc, pat, n);          // even a picture already taken ...
  await pat.click('#photo-cancel');      // ... is not sent when the patient cancels
  await waitFor('patient: the dialog is closed', () => pat.evaluate(() => document.getElementById('photo').hidden), 30_000, 100);
  const status = await waitFor('doctor: photo 2 refused', () => doc.evaluate(() => {
    const s = document.getElementById('photo-status');
    return s.dataset.state === 'refused' ? s.textContent : null;
  }), 30_000, 100);
  assert.match(status, /abgelehnt/, `the doctor reads "abgelehnt" (${status})`);
  const after = await doc.evaluate(() => ({ photos: window.consult.photos, stats: { ...window.consult.channel.stats } }));
  const e = after.photos.find((x) => x.n === n);
  assert.equal(e.state, 'refused');
  assert.equal(e.received, 0, 'no bytes counted for the refused photo');
  assert.equal(e.url, null, 'no picture');
  const b0 = besidesQuality(before);
  const b1 = besidesQuality(after.stats);
  const count = (x, type) => (x.types[type] ? x.types[type].received : 0);
  assert.equal(count(b1, 'photo-begin') - count(b0, 'photo-begin'), 0, 'no photo-begin');
  assert.equal(count(b1, 'photo-chunk') - count(b0, 'photo-chunk'), 0, 'no photo-chunk');
  assert.equal(count(b1, 'photo-refused') - count(b0, 'photo-refused'), 1, 'one refusal');
  const took = b1.bytes - b0.bytes;
  assert.ok(took < 1000, `the doctor's channel took ${took} bytes besides quality reports for the request and the refusal (no picture)`);
  assert.ok(b1.messages - b0.messages <= 4, `only the state messages and the refusal (${JSON.stringify(b1.types)})`);
  // photo 1 is still there and the next request is possible
  assert.equal(after.photos.find((x) => x.n === 1).state, 'done');
  assert.equal(await doc.evaluate(() => document.getElementById('photo-request').disabled), false, 'a new request can be made');
  await sc.shot(sc.call.docPage, 'photo-refused');
}));
