// Photo on request in forwarding mode (NAT lab: no direct path, no TURN;
// the call runs through Janus with E2EE), the patient's Chromium camera fed
// from a generated 1920x1080 y4m (tests/browser/y4m.mjs).
// 1. The same consent step and result as peer to peer: nothing reaches the
//    doctor before "Senden"; then a 1920x1080 JPEG (its SOF marker) whose
//    SHA-256 equals what the patient page announced.
// 2. What Janus relayed of it: read where it comes out of Janus, on both
//    pages' legs (datawatch.mjs says why Janus' own dumps cannot show it:
//    they hold RTP/RTCP only). Those messages add up to the plugin's
//    data_bytes / data_messages over the same time (up to a quality report
//    each way that was on its way when counting began), hold at
//    least the photo's size, are all sealed frames, and contain neither the
//    JPEG's first 16 bytes (SOI FF D8 FF and its header) nor any of eight
//    16-byte windows of the photo: Janus had only ciphertext. (A bare
//    3-byte FF D8 FF occurs in random bytes about once per 5.6 MB, so it
//    alone would prove nothing; tests/nat/callchannel.test.mjs has the
//    control that this observation point does see plaintext.)
//    Opened with the pages' keys (datawatch.mjs rawTypes), the doctor's leg
//    had exactly one photo-begin, one photo-end and ceil(size / PHOTO_CHUNK)
//    photo-chunk messages (a lost or repeated chunk fails), and no frame
//    that does not open. The doctor's page opened them in its channel
//    worker (callchannel.mjs opening 'worker'), not on its main thread.
// 3. A refused photo sends nothing: "abgelehnt" on the doctor's page, 0
//    bytes counted, no photo-begin / photo-chunk relayed, and < 1.5 KB of
//    messages other than the patient page's quality reports (request,
//    state messages and the refusal, sealed).
// The patient page sends its quality numbers every 2 s on the same channel:
// byte limits leave out messages of type `quality` (counted by type, not
// guessed), so a slow run on a busy machine does not fail them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { waitFor } from '../browser/lib.mjs';
import { cleanupAll, scenario } from './lab.mjs';
import { waitForwarded } from './pcap.mjs';
import { photoNeedles, rawSummary, rawTypes, watchRaw } from './datawatch.mjs';
import { PHOTO_CHUNK } from '../../html/js/photo.mjs';
import { doctorPhotoBytes, jpegSize, requestPhoto, sendPhoto, sha256, takePhoto, y4mCamera } from './photoflow.mjs';

const W = 1920;
const H = 1080;
let cam = null;
let sc = null;
let failed = false;

before(async () => {
  cam = y4mCamera('photo-fwd', { width: W, height: H });
  sc = await scenario({
    name: 'photo-forward', nat: true, block: true, turn: 'absent', pluginConfig: { p2p_timeout_seconds: 3 },
    patientArgs: cam.args,
  });
  await waitForwarded(sc, { ms: 60_000 });
  for (const [who, page] of [['patient', sc.call.patPage], ['doctor', sc.call.docPage]]) {
    await waitFor(`${who}: call channel open in mode forward`,
      () => page.evaluate(() => window.consult.channel.state === 'open' && window.consult.channel.mode === 'forward'), 30_000, 100);
    await watchRaw(page);
  }
}, { timeout: 300_000 });

after(async () => {
  if (sc) await sc.finish(failed);
  await cleanupAll();
  if (cam) cam.remove();
});

const guard = (fn) => async () => { try { await fn(); } catch (err) { failed = true; throw err; } };
const relayed = async () => (await sc.stack.janus.admin({ request: 'stats' })).forward;

/**
 * Waits until the pages' legs received, since raw0 (read just after base),
 * what the plugin relayed since base: the same up to quality reports (the
 * patient page sends one every 2 s) that were on their way while base and
 * raw0 were read - at most one each way (QUALITY_SLACK messages, bytes of
 * that many reports). Exact counts are per type (typesSince). p/d are the
 * legs' summaries over everything they kept.
 */
const QUALITY_SLACK = 2;
const QUALITY_BYTES = 1024;       // a sealed quality report is ~250 bytes
async function settled(base, raw0, needles) {
  let seen = null;
  await waitFor('the pages\' legs received every message the plugin relayed', async () => {
    const st = await relayed();
    const p = await rawSummary(sc.call.patPage, needles);
    const d = await rawSummary(sc.call.docPage, needles);
    const st2 = await relayed();
    // a message relayed while the legs were read: read again
    if (st2.data_messages !== st.data_messages || st2.data_bytes !== st.data_bytes) return false;
    seen = { bytes: st.data_bytes - base.data_bytes, messages: st.data_messages - base.data_messages, p, d };
    const dm = p.messages + d.messages - raw0.p.messages - raw0.d.messages - seen.messages;
    const db = p.bytes + d.bytes - raw0.p.bytes - raw0.d.bytes - seen.bytes;
    return Math.abs(dm) <= QUALITY_SLACK && Math.abs(db) <= QUALITY_SLACK * QUALITY_BYTES && (dm !== 0 || db === 0);
  }, 30_000, 250).catch((err) => { throw new Error(`${err.message}: ${JSON.stringify(seen)}`); });
  return seen;
}

/** What both legs received since raw0, by message type (opened with the pages' keys). */
async function typesSince(raw0) {
  const p = await rawTypes(sc.call.patPage, raw0.p.messages);
  const d = await rawTypes(sc.call.docPage, raw0.d.messages);
  const all = {};
  for (const part of [p, d]) {
    for (const [k, v] of Object.entries(part)) {
      const o = all[k] || (all[k] = { messages: 0, bytes: 0 });
      o.messages += v.messages;
      o.bytes += v.bytes;
    }
  }
  const besidesQuality = Object.entries(all).filter(([k]) => k !== 'quality').reduce((a, [, v]) => a + v.bytes, 0);
  return { p, d, all, besidesQuality };
}

test('forwarding: consent, then the full-resolution photo through Janus, which relayed only ciphertext', { timeout: 300_000 }, guard(async () => {
  const { doc, pat } = sc.call;
  const base = await relayed();
  const raw0 = { p: await rawSummary(sc.call.patPage), d: await rawSummary(sc.call.docPage) };
  const n = await requestPhoto(doc, pat);
  const shot = await takePhoto(doc, pat, n);
  assert.deepEqual([shot.width, shot.height], [W, H], 'taken at the camera\'s full resolution');
  await settled(base, raw0, {});
  const mid = await typesSince(raw0);
  assert.ok(!mid.all['photo-begin'] && !mid.all['photo-chunk'], `before "Senden" no photo message relayed (${JSON.stringify(mid.all)})`);
  assert.ok(mid.besidesQuality < 2000, `before "Senden" Janus relayed only control messages besides quality reports (${JSON.stringify(mid.all)})`);
  assert.equal((await doc.evaluate(() => window.consult.photos))[0].received, 0, 'the doctor has 0 bytes of it');

  const { sent, entry } = await sendPhoto(doc, pat, n);
  await sc.shot(sc.call.docPage, 'photo-viewer-forward');
  await doc.click('#viewer-close');
  const bytes = await doctorPhotoBytes(doc, n);
  assert.deepEqual(jpegSize(bytes), { width: W, height: H }, 'the JPEG is 1920x1080');
  assert.deepEqual([entry.width, entry.height], [W, H]);
  assert.equal(sha256(bytes), sent.sha256, 'SHA-256 equal to the patient page\'s');

  const needles = photoNeedles(bytes);
  const seen = await settled(base, raw0, needles);
  fs.writeFileSync(path.join(sc.art.dir, 'relayed.json'), JSON.stringify({ photo: bytes.length, ...seen }, null, 1) + '\n');
  assert.ok(seen.bytes >= bytes.length, `the plugin relayed at least the photo's size (${seen.bytes} >= ${bytes.length})`);
  for (const [who, r] of [['patient leg', seen.p], ['doctor leg', seen.d]]) {
    assert.equal(r.other, 0, `${who}: every relayed message is a sealed frame`);
    for (const [name, count] of Object.entries(r.found)) assert.equal(count, 0, `${who}: the photo's bytes ${name} not in what Janus relayed`);
  }
  assert.ok(seen.d.bytes >= bytes.length && seen.d.messages >= Math.ceil(bytes.length / PHOTO_CHUNK),
    `the photo's chunks arrived on the doctor's leg (${seen.d.messages} messages, ${seen.d.bytes} bytes)`);
  const types = await typesSince(raw0);
  const count = (part, type) => (part[type] ? part[type].messages : 0);
  assert.equal(count(types.d, 'photo-chunk'), Math.ceil(bytes.length / PHOTO_CHUNK), `each chunk relayed once (${JSON.stringify(types.d)})`);
  assert.equal(count(types.d, 'photo-begin'), 1, 'one photo-begin');
  assert.equal(count(types.d, 'photo-end'), 1, 'one photo-end');
  assert.equal(count(types.p, 'photo-received'), 1, 'one photo-received');
  assert.equal(count(types.all, '?'), 0, `every relayed frame opens with the call's keys (${JSON.stringify(types.all)})`);
  // the doctor's page opened the sealed frames in its worker (channel-worker.mjs), not on its main thread
  const opening = await doc.evaluate(() => ({ via: window.consult.channel.opening, n: window.consult.channel.openedInWorker }));
  assert.equal(opening.via, 'worker', 'sealed frames are opened in the channel worker');
  assert.ok(opening.n >= Math.ceil(bytes.length / PHOTO_CHUNK), `the photo's chunks were opened in the worker (${opening.n})`);
}));

test('forwarding: a refused photo sends nothing', { timeout: 300_000 }, guard(async () => {
  const { doc, pat } = sc.call;
  const base = await relayed();
  const raw0 = { p: await rawSummary(sc.call.patPage), d: await rawSummary(sc.call.docPage) };
  const n = await requestPhoto(doc, pat);
  await takePhoto(doc, pat, n);
  await pat.click('#photo-cancel');
  const status = await waitFor('doctor: refused', () => doc.evaluate(() => {
    const s = document.getElementById('photo-status');
    return s.dataset.state === 'refused' ? s.textContent : null;
  }), 30_000, 100);
  assert.match(status, /abgelehnt/);
  const e = (await doc.evaluate(() => window.consult.photos)).find((x) => x.n === n);
  assert.equal(e.received, 0, 'no bytes counted');
  await settled(base, raw0, {});
  const types = await typesSince(raw0);
  assert.ok(!types.all['photo-begin'] && !types.all['photo-chunk'], `no photo message relayed (${JSON.stringify(types.all)})`);
  assert.equal(types.all['photo-refused'] && types.all['photo-refused'].messages, 1, 'one photo-refused');
  assert.ok(types.besidesQuality < 1500, `Janus relayed ${types.besidesQuality} bytes besides quality reports for the request and the refusal (${JSON.stringify(types.all)})`);
}));
