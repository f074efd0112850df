// leg-pool.mjs - the endpoints of bench/forward-scale.mjs spread over a few
// worker threads (leg-worker.mjs); both legs of a call live in the same
// worker, calls are dealt round robin.
//
// Contract: const pool = await LegPool.create(workers); pool.leg({name,
// sourceId, seed, stream, expect, call, seconds}) -> a LegProxy with the async
// methods of rtp-leg.mjs that the benchmark uses (offer, answer(sdp),
// accept(sdp), connected(ms), start()); pool.send(on) starts/stops every
// worker's send timer; pool.mark() -> Map(proxy -> {index, pli, skipped,
// sendErrors}); pool.received() -> packets received by all legs;
// proxy.window(from, to) as Leg.window; pool.closeLegs()
// closes every leg; pool.terminate() ends the workers. Worker errors reject
// the call that caused them.
import { Worker } from 'node:worker_threads';

class WorkerRpc {
  constructor() {
    this.w = new Worker(new URL('./leg-worker.mjs', import.meta.url));
    this.next = 1;
    this.pending = new Map();
    this.w.on('message', (m) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(`leg worker: ${m.error}`));
    });
    this.w.on('error', (e) => {
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    });
  }

  call(op, args = {}) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.w.postMessage({ id, op, ...args });
    });
  }
}

class LegProxy {
  constructor(rpc, key, name) {
    this.rpc = rpc;
    this.key = key;
    this.name = name;
  }

  offer() { return this.rpc.call('offer', { key: this.key }); }
  answer(sdp) { return this.rpc.call('answer', { key: this.key, sdp }); }
  accept(sdp) { return this.rpc.call('accept', { key: this.key, sdp }); }
  connected(ms = 30000) { return this.rpc.call('connected', { key: this.key, ms }); }
  start() { return this.rpc.call('start', { key: this.key }); }
  window(from, to) { return this.rpc.call('window', { key: this.key, from, to }); }
}

export class LegPool {
  static async create(workers) {
    const p = new LegPool();
    p.rpcs = Array.from({ length: workers }, () => new WorkerRpc());
    p.legs = [];
    p.nextKey = 1;
    return p;
  }

  async leg({ name, sourceId, seed, stream, expect, call, seconds }) {
    const rpc = this.rpcs[call % this.rpcs.length];
    const key = this.nextKey++;
    await rpc.call('create', { key, name, sourceId, seed, stream, expect, seconds });
    const proxy = new LegProxy(rpc, key, name);
    this.legs.push(proxy);
    return proxy;
  }

  async send(on) {
    await Promise.all(this.rpcs.map((r) => r.call('send', { on })));
  }

  async mark() {
    const parts = await Promise.all(this.rpcs.map((r) => r.call('mark')));
    const out = new Map();
    for (const l of this.legs) {
      for (const part of parts) if (part[l.key]) out.set(l, part[l.key]);
    }
    return out;
  }

  async received() {
    const parts = await Promise.all(this.rpcs.map((r) => r.call('received')));
    return parts.reduce((a, b) => a + b, 0);
  }

  async closeLegs() {
    await Promise.all(this.rpcs.map((r) => r.call('close')));
    this.legs = [];
  }

  async terminate() {
    await Promise.all(this.rpcs.map((r) => r.w.terminate()));
  }
}
