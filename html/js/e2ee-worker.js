// e2ee-worker.js: per-frame AES-GCM for forwarding mode (classic worker, no
// imports). Started by e2ee.mjs, one worker per call.
// Contract:
//   Messages from the page:
//     {type:'keys', send: CryptoKey|null, recv: CryptoKey|null, keyId}
//       AES-GCM keys for our sending and receiving direction; a new
//       'keys' message restarts the send counter with a fresh random salt.
//     {type:'stream', readable, writable, options}  (createEncodedStreams
//       fallback; same options as below)
//     {type:'stats'} -> answers {type:'stats', stats} at once.
//   RTCRtpScriptTransform options: {dir:'send'|'recv', kind:'audio'|'video',
//     clear: N} (N bytes of each frame stay clear; both sides must agree).
//   Every 250 ms (when something changed) the worker posts
//     {type:'stats', stats:{encrypted, decrypted, failed, nokey, empty,
//      keyframesIn, startCodeOut, transforms}}.
// Frame format (sender output, receiver input):
//   clear[N] || AES-GCM(ciphertext || 16-byte tag) || IV[12] || keyId[1]
//   IV = 4-byte random salt (per worker and key) || 8-byte counter shared by
//   every send transform of this worker, so (key, IV) never repeats.
//   AAD = clear[N] || keyId.
// Fail closed: without a key the sender drops frames (nothing leaves in
// clear) and the receiver drops them; a failed decryption drops the frame.
// Frame contents are never logged.
'use strict';

const IV_LEN = 12;
const TAG_LEN = 16;
const TRAILER = IV_LEN + 1;
const stats = {
  encrypted: 0, decrypted: 0, failed: 0, nokey: 0, empty: 0,
  keyframesIn: 0, startCodeOut: 0, transforms: 0,
};
let dirty = false;
let sendKey = null;
let recvKey = null;
let keyId = 0;
let salt = new Uint8Array(4);
let counter = 0; // < 2^53, well beyond any call

function bump(name) { stats[name] += 1; dirty = true; }
function report() { self.postMessage({ type: 'stats', stats: { ...stats } }); }
setInterval(() => { if (dirty) { dirty = false; report(); } }, 250);

// VP8 keyframe: frame tag bit 0 == 0 and start code 9d 01 2a at offset 3.
function hasStartCode(b) { return b.length >= 6 && b[3] === 0x9d && b[4] === 0x01 && b[5] === 0x2a; }

async function encrypt(frame, ctl, opt) {
  const data = new Uint8Array(frame.data);
  if (data.length === 0) { bump('empty'); ctl.enqueue(frame); return; }
  if (!sendKey) { bump('nokey'); return; }
  if (opt.kind === 'video' && hasStartCode(data)) bump('keyframesIn');
  const key = sendKey;
  const kid = keyId;
  const n = Math.min(opt.clear, data.length);
  const iv = new Uint8Array(IV_LEN);
  iv.set(salt, 0);
  const dv = new DataView(iv.buffer);
  dv.setUint32(4, Math.floor(counter / 0x100000000));
  dv.setUint32(8, counter >>> 0);
  counter += 1;
  const aad = new Uint8Array(n + 1);
  aad.set(data.subarray(0, n), 0);
  aad[n] = kid;
  const ct = new Uint8Array(await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: aad, tagLength: TAG_LEN * 8 }, key, data.subarray(n)));
  const out = new Uint8Array(n + ct.length + TRAILER);
  out.set(data.subarray(0, n), 0);
  out.set(ct, n);
  out.set(iv, n + ct.length);
  out[out.length - 1] = kid;
  if (opt.kind === 'video' && hasStartCode(out)) bump('startCodeOut');
  frame.data = out.buffer;
  bump('encrypted');
  ctl.enqueue(frame);
}

async function decrypt(frame, ctl, opt) {
  const data = new Uint8Array(frame.data);
  if (data.length === 0) { bump('empty'); ctl.enqueue(frame); return; }
  if (!recvKey) { bump('nokey'); return; }
  const n = opt.clear;
  if (data.length < n + TAG_LEN + TRAILER || data[data.length - 1] !== keyId) { bump('failed'); return; }
  const aad = new Uint8Array(n + 1);
  aad.set(data.subarray(0, n), 0);
  aad[n] = keyId;
  const iv = data.slice(data.length - TRAILER, data.length - 1);
  let pt;
  try {
    pt = new Uint8Array(await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: aad, tagLength: TAG_LEN * 8 }, recvKey,
      data.subarray(n, data.length - TRAILER)));
  } catch (e) {
    bump('failed');
    return;
  }
  const out = new Uint8Array(n + pt.length);
  out.set(data.subarray(0, n), 0);
  out.set(pt, n);
  frame.data = out.buffer;
  bump('decrypted');
  ctl.enqueue(frame);
}

function setup(readable, writable, options) {
  const o = options || {};
  const opt = {
    dir: o.dir === 'recv' ? 'recv' : 'send',
    kind: o.kind === 'audio' ? 'audio' : 'video',
    clear: Math.max(0, Math.min(16, Number(o.clear) || 0)),
  };
  const fn = opt.dir === 'send' ? encrypt : decrypt;
  bump('transforms');
  readable
    .pipeThrough(new TransformStream({ transform: (frame, ctl) => fn(frame, ctl, opt) }))
    .pipeTo(writable)
    .catch(() => { /* the sender/receiver went away */ });
}

self.onrtctransform = (ev) => {
  const t = ev.transformer;
  setup(t.readable, t.writable, t.options);
};

self.onmessage = (ev) => {
  const m = ev.data || {};
  if (m.type === 'keys') {
    sendKey = m.send || null;
    recvKey = m.recv || null;
    keyId = (Number(m.keyId) || 0) & 0xff;
    salt = crypto.getRandomValues(new Uint8Array(4));
    counter = 0;
  } else if (m.type === 'stream') {
    setup(m.readable, m.writable, m.options);
  } else if (m.type === 'stats') {
    report();
  }
};
