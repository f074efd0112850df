// leg-worker.mjs - a worker thread holding some of the benchmark's
// endpoints (rtp-leg.mjs), so the generator of bench/forward-scale.mjs uses
// more than one thread: one Node thread could not send and receive 20
// calls' media on a busy shared core.
//
// Contract (messages from leg-pool.mjs, each {id, op, ...} answered with
// {id, ok, value} or {id, ok: false, error}):
//   create {key, name, sourceId, seed, stream, expect, seconds}  a new Leg
//   offer {key} -> sdp; answer {key, sdp} -> sdp; accept {key, sdp}
//   connected {key, ms}; start {key}          (see rtp-leg.mjs)
//   send {on}          start / stop this worker's 5 ms send timer (all legs)
//   mark -> {key: {index, pli, skipped, sendErrors}}  counters of every leg
//   received -> packets received (first copies) by all legs so far
//   window {key, from, to} -> {expected, received, lost, lat, dup}
//   close              close every leg and forget it
// Stamps use process.hrtime (CLOCK_MONOTONIC): the same clock in every
// thread, so a packet sent in one worker can be timed by another.
import { parentPort } from 'node:worker_threads';
import { Leg } from './rtp-leg.mjs';

const legs = new Map();
let timer = null;

const ops = {
  create({ key, name, sourceId, seed, stream, expect, seconds }) {
    const l = new Leg({ name, sourceId, seed, stream, seconds });
    l.expect(expect);
    legs.set(key, l);
  },
  offer: ({ key }) => legs.get(key).offer(),
  answer: ({ key, sdp }) => legs.get(key).answer(sdp),
  accept: ({ key, sdp }) => legs.get(key).accept(sdp),
  connected: ({ key, ms }) => legs.get(key).connected(ms),
  start: ({ key }) => { legs.get(key).start(); },
  send({ on }) {
    clearInterval(timer);
    timer = null;
    if (on) {
      timer = setInterval(() => {
        const now = process.hrtime.bigint();
        for (const l of legs.values()) if (l.out) l.sendDue(now);
      }, 5);
    }
  },
  mark() {
    const out = {};
    for (const [key, l] of legs) {
      out[key] = { index: l.source.index, pli: l.pli, skipped: l.source.sent.skippedFrames, sendErrors: l.sendErrors };
    }
    return out;
  },
  received() {
    let n = 0;
    for (const l of legs.values()) n += l.rx ? l.rx.count : 0;
    return n;
  },
  window({ key, from, to }) {
    const w = legs.get(key).window(from, to);
    return { ...w, lat: Float64Array.from(w.lat) };
  },
  async close() {
    ops.send({ on: false });
    await Promise.all([...legs.values()].map((l) => l.close()));
    legs.clear();
  },
};

parentPort.on('message', async (m) => {
  try {
    const value = await ops[m.op](m);
    const transfer = value?.lat?.buffer ? [value.lat.buffer] : [];
    parentPort.postMessage({ id: m.id, ok: true, value }, transfer);
  } catch (e) {
    parentPort.postMessage({ id: m.id, ok: false, error: String(e?.stack || e) });
  }
});
