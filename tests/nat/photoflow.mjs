// photoflow.mjs - the photo-on-request steps on the real pages, shared by
// tests/nat/photo*.test.mjs and bench/photo.mjs.
//
// Contract (doc / pat: lib.mjs drive() wrappers of the doctor's and the
// patient's page in a running call):
// - requestPhoto(doc, pat) -> n: waits for "Foto anfordern" (the call
//   channel is open), clicks it, waits for the patient's dialog (#photo,
//   data-step ask, the live camera playing) and the doctor's state 'opened'.
// - takePhoto(doc, pat, n) -> {width, height, size}: "Foto aufnehmen", waits
//   for the preview (data-step review) and the doctor's state 'taken'.
// - sendPhoto(doc, pat, n) -> {sent: patient's consult.photo.sent, entry:
//   the doctor's consult.photos entry, shown: consult.photoShown}: "Senden",
//   waits until the doctor's viewer shows photo n.
// - doctorPhotoBytes(doc, n) -> Buffer: the verified JPEG the doctor's page
//   holds, saved through its "Speichern" link, and viewerImage(doc) -> {naturalWidth,
//   naturalHeight, src, open} of the viewer, once its full image loaded.
// - y4mCamera(tag, {width, height}) -> {dir, args, remove()}: a y4m of a
//   known pattern (tests/browser/y4m.mjs: 2 frames, detail 16; ~6 MB at
//   1920x1080) in a new temp folder dir; args: the patient Chromium's flag
//   that feeds its fake camera from it; remove() deletes the folder.
// - firstSightBands(doc) -> [{diff, mean}] x 4: the viewer's first-sight
//   canvas against the full image drawn at the same size, by quarters from
//   the top (mean absolute difference and mean level, of 255): a picture
//   decoded only in part, or not at all, differs in the quarters it lacks.
// - jpegSize(buf) -> {width, height} from the JPEG's SOF marker (parsed in
//   node: the dimensions of the bytes themselves, not what a page says).
// - sha256(buf) -> hex.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../browser/lib.mjs';
import { writeY4m } from '../browser/y4m.mjs';

const photoEntry = (doc, n) => doc.evaluate((k) => (window.consult.photos || []).find((e) => e.n === k) || null, n);

export async function requestPhoto(doc, pat, ms = 60_000) {
  await waitFor('doctor: "Foto anfordern" shown and enabled (call channel open)', () => doc.evaluate(() => {
    const b = document.getElementById('photo-request');
    return b && !b.hidden && !b.disabled;
  }), ms, 100);
  const before = await doc.evaluate(() => (window.consult.photos || []).length);
  await doc.click('#photo-request');
  const n = before + 1;
  await waitFor('patient: the photo dialog asks (data-step ask, camera live)', () => pat.evaluate(() => {
    const box = document.getElementById('photo');
    const v = document.getElementById('photo-live');
    return box && !box.hidden && box.dataset.step === 'ask' && v.videoWidth > 0 && !document.getElementById('photo-take').disabled;
  }), 30_000, 100);
  await waitFor(`doctor: photo ${n} opened by the patient`, async () => (await photoEntry(doc, n))?.state === 'opened', 30_000, 100);
  return n;
}

export async function takePhoto(doc, pat, n) {
  await pat.click('#photo-take');
  const shot = await waitFor('patient: the preview (data-step review)', () => pat.evaluate(() => {
    const p = window.consult.photo;
    return p && p.step === 'review' && document.getElementById('photo-preview').naturalWidth > 0
      ? { width: p.width, height: p.height, size: p.size } : null;
  }), 60_000, 100);
  await waitFor(`doctor: photo ${n} taken, being reviewed`, async () => (await photoEntry(doc, n))?.state === 'taken', 30_000, 100);
  return shot;
}

export async function sendPhoto(doc, pat, n, ms = 120_000) {
  await pat.click('#photo-send');
  const shown = await waitFor(`doctor: photo ${n} shown in the viewer`, () => doc.evaluate((k) => {
    const s = window.consult.photoShown;
    return s && s.n === k ? s : null;
  }, n), ms, 50);
  const entry = await photoEntry(doc, n);
  const sent = await waitFor('patient: the dialog closed after the confirmation', () => pat.evaluate(() => {
    const p = window.consult.photo;
    return p && p.step === '' && p.result === 'ok' && p.sent ? { ...p.sent, sendAt: p.sendAt } : null;
  }), 30_000, 100);
  return { sent, entry, shown };
}

export async function doctorPhotoBytes(doc, n) {
  // through the list's "Speichern" link, as the practice saves it (the
  // site's Content-Security-Policy lets no script fetch a blob: URL)
  const url = await doc.evaluate((k) => (window.consult.photos || []).find((x) => x.n === k)?.url || null, n);
  if (!url) throw new Error(`doctor: photo ${n} has no verified URL`);
  const [download] = await Promise.all([
    doc.page.waitForEvent('download', { timeout: 30_000 }),
    // a click of the link itself: the viewer may lie over the list
    doc.evaluate((u) => document.querySelector(`a.photo-save[href="${u}"]`).click(), url),
  ]);
  const failure = await download.failure();
  if (failure) throw new Error(`doctor: saving photo ${n} failed: ${failure}`);
  return fs.readFileSync(await download.path());
}

export function viewerImage(doc) {
  // the full image loads after the viewer's first, reduced sight: wait for it
  return waitFor('doctor: the viewer\'s full image loaded', () => doc.evaluate(() => {
    const img = document.getElementById('viewer-img');
    const v = { naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight, src: img.getAttribute('src'), open: !document.getElementById('photo-viewer').hidden };
    return !v.open || (img.complete && v.naturalWidth > 0) ? v : null;
  }), 30_000, 50);
}

export const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

export function jpegSize(buf) {
  if (buf[0] !== 0xff || buf[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < buf.length) {
    if (buf[i] !== 0xff) return null;
    const m = buf[i + 1];
    const len = buf.readUInt16BE(i + 2);
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
    }
    i += 2 + len;
  }
  return null;
}

export function y4mCamera(tag, { width, height }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `consult-${tag}-`));
  const file = path.join(dir, 'camera.y4m');
  writeY4m(file, { width, height, frames: 2, detail: 16 });
  return { dir, args: [`--use-file-for-fake-video-capture=${file}`], remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function firstSightBands(doc) {
  return doc.evaluate(async () => {
    const c = document.querySelector('#viewer-stage canvas.viewer-first');
    const img = document.getElementById('viewer-img');
    await img.decode();
    const ref = document.createElement('canvas');
    ref.width = c.width;
    ref.height = c.height;
    ref.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
    // the first sight's own pixels (a bitmaprenderer canvas: read through a 2D copy)
    const own = document.createElement('canvas');
    own.width = c.width;
    own.height = c.height;
    own.getContext('2d').drawImage(c, 0, 0);
    const a = own.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const b = ref.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const out = [];
    for (let k = 0; k < 4; k++) {
      const y0 = Math.floor((k * c.height) / 4), y1 = Math.floor(((k + 1) * c.height) / 4);
      let sum = 0, n = 0, lum = 0;
      for (let i = y0 * c.width * 4; i < y1 * c.width * 4; i += 4) {
        for (let ch = 0; ch < 3; ch++) sum += Math.abs(a[i + ch] - b[i + ch]);
        lum += a[i] + a[i + 1] + a[i + 2];
        n += 3;
      }
      out.push({ diff: sum / n, mean: lum / n });
    }
    return out;
  });
}
