// Photo on request with Firefox ESR as the practice's browser (reception and
// the doctor's page (the appointment is booked over the WebSocket: the
// reception form's date fields are typed differently in Firefox); the patient in Chromium with its camera fed from a
// generated 1920x1080 y4m), peer to peer, lab without NAT.
// Firefox has ImageDecoder, but a decode fed from a stream and asked for
// partial pictures ends in an empty frame there (Firefox 153): the doctor's
// page must notice and decode the verified bytes at once, so the viewer's
// first sight is the whole picture at the viewer's size ('scaled'; 'streamed'
// once Firefox delivers), never an empty canvas and never the slow full
// decode ('decoded'). The bytes are the patient page's (SHA-256 as sent and
// as announced, 1920x1080 by their own SOF marker).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cleanupAll, scenario, waitCallUp } from './lab.mjs';
import { firstSightBands, requestPhoto, sendPhoto, takePhoto, viewerImage, y4mCamera } from './photoflow.mjs';

const W = 1920;
const H = 1080;
let cam = null;
let sc = null;
let failed = false;

before(async () => {
  cam = y4mCamera('photo-ffdoc', { width: W, height: H });
  sc = await scenario({
    name: 'photo-firefox-doctor', nat: false, turn: 'absent', staffBrowser: 'firefox', appointmentViaWs: true,
    patientArgs: cam.args,
  });
  await waitCallUp(sc, { ms: 90_000 });
}, { timeout: 300_000 });

after(async () => {
  if (sc) await sc.finish(failed);
  await cleanupAll();
  if (cam) cam.remove();
});

const guard = (fn) => async () => { try { await fn(); } catch (err) { failed = true; throw err; } };

test('Firefox doctor: the photo arrives whole, its first sight is the reduced decode of the verified bytes', { timeout: 300_000 }, guard(async () => {
  const { doc, pat } = sc.call;
  const n = await requestPhoto(doc, pat);
  const shot = await takePhoto(doc, pat, n);
  assert.deepEqual([shot.width, shot.height], [W, H], 'the patient page took the picture at the camera\'s full resolution');
  const { sent, entry, shown } = await sendPhoto(doc, pat, n);
  await sc.shot(sc.call.docPage, 'photo-viewer-firefox');
  assert.equal(entry.state, 'done');
  assert.equal(entry.sha256, sent.sha256, 'the doctor\'s page verified the SHA-256 the patient page announced');
  assert.deepEqual([entry.width, entry.height], [W, H]);
  assert.ok(['scaled', 'streamed'].includes(shown.via), `first sight decoded at the viewer's size (via ${shown.via})`);
  const bands = await firstSightBands(doc);
  for (const [k, band] of bands.entries()) {
    assert.ok(band.diff < 12, `first sight, quarter ${k + 1} from the top: as the full image (mean difference ${band.diff.toFixed(1)} of 255)`);
    assert.ok(band.mean > 10, `first sight, quarter ${k + 1}: not empty (mean level ${band.mean.toFixed(1)})`);
  }
  const img = await viewerImage(doc);
  assert.deepEqual([img.naturalWidth, img.naturalHeight], [W, H], 'the viewer\'s full image has the photo\'s own size');
}));
