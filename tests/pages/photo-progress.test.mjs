// photo-progress.test.mjs: html/js/photo.mjs progress, with a stand-in for
// the call channel (no browser). The doctor's PhotoReceiver answers with
// photo-progress peer to peer only, never while forwarding (a message
// relayed against a forwarded transfer slows it); the patient's
// PhotoSender shows its own progress (bytes that left its send buffer)
// and never goes backwards when the doctor's page still confirms less.
// The doctor's check of the bytes received against the announced SHA-256
// (hashed while the chunks arrive): equal -> done, one byte changed -> 'hash'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PHOTO_CHUNK, PhotoReceiver, PhotoSender, sha256Hex } from '../../html/js/photo.mjs';

/** The parts of CallChannel photo.mjs uses; deliver() plays a message from the other page. */
function fakeChannel(mode) {
  const listeners = new Map();
  return {
    mode, state: 'open', bufferedAmount: 0, sent: [],
    on(type, fn) { listeners.set(type, fn); return () => listeners.delete(type); },
    onState() { return () => {}; },
    send(type, obj = {}, bytes = null) { this.sent.push({ type, obj, size: bytes ? bytes.length : 0 }); return Promise.resolve(); },
    deliver(type, msg, bytes = null) { const fn = listeners.get(type); if (fn) fn(msg, bytes); },
  };
}

/** Resolves once cond() is true (checked every 10 ms), fails after ms. */
async function until(what, cond, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The doctor receives a 1 MiB photo in 16 KiB chunks, 20 ms apart; returns its photo-progress answers. */
async function receive(mode) {
  const ch = fakeChannel(mode);
  const r = new PhotoReceiver(ch);
  const e = r.request();
  const size = 1024 * 1024;
  ch.deliver('photo-begin', { n: e.n, size, sha256: 'a'.repeat(64), type: 'image/jpeg', width: 10, height: 10, chunk: PHOTO_CHUNK });
  assert.equal(e.state, 'receiving');
  const chunk = new Uint8Array(PHOTO_CHUNK);
  for (let seq = 0; seq * PHOTO_CHUNK < size; seq++) {
    ch.deliver('photo-chunk', { n: e.n, seq }, chunk);
    await new Promise((res) => setTimeout(res, 20));
  }
  assert.equal(e.received, size, 'every chunk taken');
  return ch.sent.filter((m) => m.type === 'photo-progress');
}

test('peer to peer the doctor confirms progress; while forwarding it sends no photo-progress', async () => {
  // the throttle counts from the page's clock: be past its first 500 ms
  await until('clock past 600 ms', () => performance.now() > 600);
  const p2p = await receive('p2p');
  assert.ok(p2p.length >= 1, `peer to peer: photo-progress sent (${p2p.length})`);
  assert.ok(p2p.every((m) => m.obj.n === 1 && m.obj.received > 0 && m.obj.received <= 1024 * 1024), 'with the bytes received');
  const fwd = await receive('forward');
  assert.equal(fwd.length, 0, 'forwarding: no photo-progress');
});

test('the patient shows what left its send buffer, never less than before', async () => {
  const ch = fakeChannel('forward');
  const told = [];
  const s = new PhotoSender(ch, { onProgress: (n, f) => told.push(f) });
  ch.deliver('photo-request', { n: 1 });
  const size = 10 * PHOTO_CHUNK;
  ch.bufferedAmount = size;               // everything still in the browser's send buffer
  const r = await s.send(1, { bytes: new Uint8Array(size), width: 10, height: 10, sha256: 'b'.repeat(64) });
  assert.equal(r.size, size);
  assert.equal(ch.sent.filter((m) => m.type === 'photo-chunk').length, 10);
  ch.bufferedAmount = size / 2;           // half of it left
  await until('progress 0.5 from the send buffer', () => told.includes(0.5));
  ch.deliver('photo-progress', { n: 1, received: size / 4 });       // the doctor confirms less: not shown
  ch.deliver('photo-progress', { n: 1, received: (size * 3) / 4 }); // more: shown
  assert.deepEqual(told, [0.5, 0.75], 'never backwards');
  ch.bufferedAmount = 0;
  await until('progress 1 once all left', () => told.at(-1) === 1);
  assert.ok(told.every((f, i) => i === 0 || f > told[i - 1]), `increasing: ${told}`);
  ch.deliver('photo-received', { n: 1, ok: true });
});

/** A JPEG's first bytes with a frame header (SOF0) of w x h, padded to size bytes. */
function fakeJpeg(size, w, h) {
  const b = new Uint8Array(size).fill(0x55);
  b.set([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, h >> 8, h & 255, w >> 8, w & 255], 0);
  return b;
}

/** The doctor receives bytes announced with sha256; resolves with the entry once its checks ended. */
async function check(bytes, sha256) {
  const ch = fakeChannel('p2p');
  const r = new PhotoReceiver(ch);
  const e = r.request();
  ch.deliver('photo-begin', { n: e.n, size: bytes.length, sha256, type: 'image/jpeg', width: 40, height: 30, chunk: PHOTO_CHUNK });
  for (let seq = 0; seq * PHOTO_CHUNK < bytes.length; seq++) ch.deliver('photo-chunk', { n: e.n, seq }, bytes.subarray(seq * PHOTO_CHUNK, (seq + 1) * PHOTO_CHUNK));
  ch.deliver('photo-end', { n: e.n });
  await until('checks ended', () => e.state === 'done' || e.state === 'failed');
  return { e, answer: ch.sent.find((m) => m.type === 'photo-received') };
}

test('the doctor checks the SHA-256 of the bytes received: equal -> done, one byte changed -> failed "hash"', async () => {
  const bytes = fakeJpeg(3 * PHOTO_CHUNK + 123, 40, 30);
  const good = await check(bytes, await sha256Hex(bytes));
  assert.equal(good.e.state, 'done');
  assert.deepEqual(good.answer.obj, { n: 1, ok: true });
  const announced = await sha256Hex(bytes);
  bytes[2 * PHOTO_CHUNK + 7] ^= 1;        // changed on the way
  const bad = await check(bytes, announced);
  assert.equal(bad.e.state, 'failed');
  assert.equal(bad.e.error, 'hash');
  assert.deepEqual(bad.answer.obj, { n: 1, ok: false, error: 'hash' });
});
