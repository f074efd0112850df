// callchannel.test.mjs: html/js/callchannel.mjs in node, two CallChannels
// joined peer to peer by an in-memory data channel pair (the real channel
// runs between real browsers in tests/nat/callchannel.test.mjs). Here: the
// delivered messages are counted by type (stats.types), so a reader can
// leave out the patient page's quality reports; the number of types kept is
// bounded (a peer sending ever new types cannot grow it); payloads arrive
// byte for byte. Forwarding mode (sealed frames, real AES-GCM keys): the
// received frames are opened where no Worker exists (node: on the page),
// and when the channel worker breaks mid-transfer the frames it still held
// are opened on the page: none lost, none repeated, in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallChannel, TYPES_MAX, encodeFrame, unseal } from '../../html/js/callchannel.mjs';

/** An open in-memory RTCDataChannel; link(a, b) makes each deliver to the other. */
class FakeDC {
  constructor() {
    this.readyState = 'open';
    this.bufferedAmount = 0;
    this.listeners = {};
    this.peer = null;
  }

  addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }

  send(data) {
    const u8 = data instanceof Uint8Array ? data : new Uint8Array(data);
    const copy = u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength);
    setImmediate(() => { for (const fn of this.peer.listeners.message || []) fn({ data: copy }); });
  }

  close() { this.readyState = 'closed'; }
}

function pair() {
  const a = new FakeDC();
  const b = new FakeDC();
  a.peer = b;
  b.peer = a;
  const pc = (dc) => ({ createDataChannel: () => dc, addEventListener() {}, removeEventListener() {} });
  const doctor = new CallChannel({ role: 'doctor' });
  const patient = new CallChannel({ role: 'patient' });
  doctor.attachP2P(pc(a));
  patient.attachP2P(pc(b));
  return { doctor, patient };
}

test('delivered messages are counted by type; quality reports can be left out', async () => {
  const { doctor, patient } = pair();
  await Promise.all([doctor.waitOpen(2000), patient.waitOpen(2000)]);
  const got = [];
  doctor.on('photo-chunk', (msg, bytes) => got.push({ seq: msg.seq, bytes: [...bytes] }));
  const payload = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 255);
  const sends = [];
  for (let i = 0; i < 3; i++) sends.push(patient.send('quality', { rttMs: 20 + i }));
  for (let seq = 0; seq < 4; seq++) sends.push(patient.send('photo-chunk', { n: 1, seq }, payload.subarray(seq * 50, seq * 50 + 100)));
  await Promise.all(sends);
  await new Promise((r) => { const t = setInterval(() => { if (doctor.stats.received >= 7) { clearInterval(t); r(); } }, 5); });
  const size = (type, obj, bytes) => encodeFrame(type, obj, bytes).length;
  assert.deepEqual(doctor.stats.types, {
    quality: { received: 3, bytesReceived: [0, 1, 2].reduce((a, i) => a + size('quality', { rttMs: 20 + i }), 0) },
    'photo-chunk': { received: 4, bytesReceived: [0, 1, 2, 3].reduce((a, s) => a + size('photo-chunk', { n: 1, seq: s }, payload.subarray(s * 50, s * 50 + 100)), 0) },
  });
  assert.equal(doctor.stats.received, 7);
  assert.equal(doctor.stats.bytesReceived, doctor.stats.types.quality.bytesReceived + doctor.stats.types['photo-chunk'].bytesReceived);
  assert.deepEqual(got.map((g) => g.seq), [0, 1, 2, 3], 'in order');
  got.forEach((g, s) => assert.deepEqual(g.bytes, [...payload.subarray(s * 50, s * 50 + 100)], `chunk ${s} byte for byte`));
  // a new call starts counting afresh
  doctor.begin();
  assert.deepEqual(doctor.stats.types, {});
  doctor.end();
  patient.end();
});

test('the number of types kept is bounded: the rest count under "*"', async () => {
  const { doctor, patient } = pair();
  await Promise.all([doctor.waitOpen(2000), patient.waitOpen(2000)]);
  const n = TYPES_MAX + 10;
  await Promise.all(Array.from({ length: n }, (_, i) => patient.send(`t${i}`, {})));
  await new Promise((r) => { const t = setInterval(() => { if (doctor.stats.received >= n) { clearInterval(t); r(); } }, 5); });
  const types = doctor.stats.types;
  assert.equal(Object.keys(types).length, TYPES_MAX + 1);
  assert.equal(types['*'].received, 10);
  assert.equal(types.t0.received, 1);
  assert.equal(Object.values(types).reduce((a, c) => a + c.received, 0), n, 'every message counted once');
  doctor.end();
  patient.end();
});

/** Two CallChannels joined by a forwarded (sealed) in-memory channel with real AES-GCM keys. */
async function forwardPair() {
  const gen = () => crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  const k1 = await gen();
  const k2 = await gen();
  const a = new FakeDC();
  const b = new FakeDC();
  a.peer = b;
  b.peer = a;
  const pc = (dc) => ({ createDataChannel: () => dc, addEventListener() {}, removeEventListener() {} });
  const doctor = new CallChannel({ role: 'doctor' });
  const patient = new CallChannel({ role: 'patient' });
  doctor.attachForward(pc(a), { channelKeysReady: Promise.resolve({ send: k1, recv: k2 }) });
  patient.attachForward(pc(b), { channelKeysReady: Promise.resolve({ send: k2, recv: k1 }) });
  await Promise.all([doctor.waitOpen(2000), patient.waitOpen(2000)]);
  return { doctor, patient };
}

async function sendChunks(doctor, patient, count) {
  const got = [];
  const off = doctor.on('photo-chunk', (msg, bytes) => got.push({ seq: msg.seq, first: bytes[0], len: bytes.length }));
  const sends = [];
  for (let seq = 0; seq < count; seq++) sends.push(patient.send('photo-chunk', { n: 1, seq }, new Uint8Array(1000).fill(seq & 255)));
  await Promise.all(sends);
  const until = Date.now() + 5000;
  await new Promise((r) => { const t = setInterval(() => { if (got.length >= count || Date.now() > until) { clearInterval(t); r(); } }, 5); });
  await new Promise((r) => setTimeout(r, 50));     // nothing more (no repeats)
  off();
  return got;
}

test('forwarding without a Worker: frames are opened on the page', async () => {
  assert.equal(typeof globalThis.Worker, 'undefined', 'node has no global Worker');
  const { doctor, patient } = await forwardPair();
  const got = await sendChunks(doctor, patient, 30);
  assert.deepEqual(got.map((g) => g.seq), Array.from({ length: 30 }, (_, i) => i));
  assert.ok(got.every((g) => g.len === 1000 && g.first === g.seq));
  assert.equal(doctor.opening, 'page');
  assert.equal(doctor.stats.failed + doctor.stats.dropped + doctor.stats.replayed, 0);
  doctor.end();
  patient.end();
});

test('forwarding: a channel worker that breaks mid-transfer loses nothing (the rest is opened on the page)', async () => {
  // a stand-in for channel-worker.mjs: same messages, answers the first 12
  // frames in batches of 4, then holds 5 more and fails
  const workers = [];
  globalThis.Worker = class {
    constructor() { this.key = null; this.held = []; this.answered = 0; this.onmessage = null; this.onerror = null; workers.push(this); }

    postMessage(m) {
      if (m.type === 'key') { this.key = m.key; setImmediate(() => this.onmessage({ data: { type: 'ready' } })); return; }
      this.held.push(m);
      if (this.answered < 12 && this.held.length === 4) {
        const batch = this.held;
        this.held = [];
        this.answered += batch.length;
        this.last = Promise.all(batch.map((x) => unseal(this.key, new Uint8Array(x.buf)))).then((rs) => this.onmessage({
          data: { type: 'opened', items: rs.map((r, i) => ({ id: batch[i].id, counter: r.counter, plain: r.plain.buffer })) },
        }));
      } else if (this.answered >= 12 && this.held.length === 5) {
        // after its last answer went out (its decrypts may take longer than a setImmediate)
        this.last.then(() => setImmediate(() => this.onerror({ preventDefault() {} })));
      }
    }

    terminate() { this.dead = true; }
  };
  try {
    const { doctor, patient } = await forwardPair();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(doctor.opening, 'worker', 'the worker holds the key');
    const got = await sendChunks(doctor, patient, 40);
    assert.deepEqual(got.map((g) => g.seq), Array.from({ length: 40 }, (_, i) => i), 'every chunk once, in order');
    assert.ok(got.every((g) => g.len === 1000 && g.first === g.seq), 'byte for byte');
    assert.equal(doctor.openedInWorker, 12, 'the worker opened the first 12');
    assert.equal(doctor.opening, 'page', 'then the page took over');
    assert.ok(workers.every((w) => w.dead || w.held.length === 0), 'the broken worker was terminated');
    assert.equal(doctor.stats.failed + doctor.stats.dropped + doctor.stats.replayed, 0);
    doctor.end();
    patient.end();
  } finally {
    delete globalThis.Worker;
  }
});
