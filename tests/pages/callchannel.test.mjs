// callchannel.test.mjs: html/js/callchannel.mjs in node, two CallChannels
// joined peer to peer by an in-memory data channel pair (the real channel
// runs between real browsers in tests/nat/callchannel.test.mjs). Here: the
// delivered messages are counted by type (stats.types), so a reader can
// leave out the patient page's quality reports; the number of types kept is
// bounded (a peer sending ever new types cannot grow it); payloads arrive
// byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallChannel, TYPES_MAX, encodeFrame } from '../../html/js/callchannel.mjs';

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
