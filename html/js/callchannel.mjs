// callchannel.mjs: the one message channel of a call between the doctor's
// and the patient's page, the same in both modes (docs/protocol.md, "Call
// channel"). Photos (photo.mjs), chat, quality reports and other in-call
// tools use it; the server never stores or reads what travels on it.
// Contract:
//   const ch = new CallChannel({role: 'doctor'|'patient'})   one per page;
//     session.mjs owns it (session.channel, window.consult.channel) and
//     drives it; listeners stay registered across calls.
//   ch.on(type, fn(msg, bytes)) -> off()   messages of `type` from the other
//     page: msg is the JSON object sent (without its type), bytes a
//     Uint8Array payload or null. type: /^[a-z][a-z0-9-]{0,31}$/ (no dots:
//     dotted literals read as i18n keys to tests/pages), e.g. 'chat-text';
//     types starting with "ch-" are the channel's own.
//   ch.onState(fn(state)) -> off()  'idle' (no call) | 'connecting' (a call,
//     the other page not reached yet, also again after a switch to
//     forwarding) | 'open' (both pages exchanged hello: messages flow) |
//     'closed' (the call ended; the next call starts at 'connecting')
//   await ch.send(type, obj = {}, bytes = null)  one message; obj a plain
//     JSON object (its JSON at most MAX_HEADER bytes), bytes an ArrayBuffer /
//     typed array of at most MAX_PAYLOAD bytes (send larger data in chunks,
//     CHUNK bytes each, one send per chunk). Resolves once the message is
//     handed to the data channel; waits while more than HIGH_WATER bytes are
//     buffered (backpressure: bufferedAmountLowThreshold = LOW_WATER). While
//     'connecting' messages wait in a queue (at most QUEUE_MAX messages) and
//     go out in order once 'open'. Rejects with ChannelError code 'closed'
//     (no call / the call ended), 'too_large', 'bad_type', 'queue_full'.
//   ch.waitOpen(ms) -> Promise (resolves when 'open', rejects 'timeout')
//   ch.state, ch.mode ('p2p' | 'forward' | ''), ch.bufferedAmount
//   ch.stats {sent, received, bytesSent, bytesReceived, dropped, failed,
//     replayed, types}: dropped = malformed or unexpected frames, failed =
//     frames that did not decrypt (forwarding), replayed = counter not
//     increasing; types {type: {received, bytesReceived}} the delivered
//     messages by type (at most TYPES_MAX types, the rest under '*'), so a
//     reader can leave out what it did not ask for (the patient page's
//     quality reports every 2 s)
//   ch.dc  the RTCDataChannel used for sending now (tests and bench only)
//   ch.opening 'worker' | 'page' | '': where received sealed frames are
//     opened (forwarding: in a module worker, channel-worker.mjs, once it
//     holds the key; 'page' where no Worker starts - then WebCrypto on the
//     main thread as before), ch.openedInWorker how many so far (tests)
//   new CallChannel({role, workerUrl}): workerUrl null = never a worker
// Driven by session.mjs:
//   ch.begin()              a new call: state 'connecting', counters reset
//   ch.attachP2P(pc, dc)    the call's RTCPeerConnection, BEFORE the offer /
//     answer: createDataChannel('consult', {negotiated: true, id: P2P_ID})
//     on both sides, ordered and reliable; no extra signalling. DTLS of the
//     peer-to-peer connection protects it (no second encryption). dc: that
//     channel made already with p2pDataChannel(pc) (an offer made ahead,
//     rtc.mjs prepareOffer), used instead of a new one.
//   p2pDataChannel(pc)      makes that channel on pc (nothing else)
//   ch.attachForward(pc, e2eeSession)  the forwarded leg's PeerConnection
//     (janus.js), before its offer / answer: createDataChannel('consult')
//     (in-band; Janus relays by label, plugins/janus/forward.c); channels
//     named 'consult' that Janus opens towards us are read too. Every frame
//     is encrypted with AES-GCM-256 keys derived from the call's ECDH
//     agreement (e2ee.mjs channelKeys, separate from the media keys): Janus
//     relays only ciphertext. No e2ee session: nothing is sent (fail closed).
//     Received frames are opened off the main thread where a module worker
//     starts (decrypted in arrival order, handed back in batches: many
//     frames per main-thread task instead of one WebCrypto round trip
//     each); counters, decoding and delivery stay here, unchanged.
//   ch.detach()             the transport went away (P2P closed for
//     forwarding, forwarded legs lost): 'connecting' until the next attach
//   ch.end()                the call ended: 'closed', the queue is dropped,
//     waiting sends reject with 'closed'
// Delivery: ordered and reliable within one transport. Messages in flight
// when the transport changes (P2P -> forwarding, new forwarded legs) can be
// lost: users that need completeness (photo transfers) restart on the state
// change. Frames (both modes, docs/protocol.md):
//   plain  0x01 | u16 BE header length | header JSON {"t": type, ...} | payload
//   sealed 0x02 | 12-byte IV (4 zero bytes + u64 BE counter, from 1, per
//          direction) | AES-GCM(plain frame), additional data = the 0x02 byte
// P2P accepts only plain frames, forwarding only sealed ones with a counter
// above the last one seen. Hello: each side sends {"t":"ch-hello","ack":
// false} every HELLO_MS until it gets an ack; whoever gets ack:false answers
// ack:true; a side is 'open' once it got ack:true (both directions work).

export const P2P_ID = 1;
export const LABEL = 'consult';
export const CHUNK = 16 * 1024;
export const MAX_PAYLOAD = 64 * 1024;
export const MAX_HEADER = 4096;
export const HIGH_WATER = 1024 * 1024;
export const LOW_WATER = 256 * 1024;
export const QUEUE_MAX = 512;
export const HELLO_MS = 300;
export const TYPES_MAX = 64;
const TYPE = /^[a-z][a-z0-9-]{0,31}$/;
const PLAIN = 1;
const SEALED = 2;
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export class ChannelError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = 'ChannelError';
    this.code = code;
  }
}

function asBytes(b) {
  if (b == null) return null;
  if (b instanceof Uint8Array) return b;
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  throw new ChannelError('bad_payload');
}

/** The plain frame of a message (exported for tests). */
export function encodeFrame(type, obj, bytes) {
  const head = enc.encode(JSON.stringify({ ...(obj || {}), t: type }));
  if (head.length > MAX_HEADER) throw new ChannelError('too_large', 'header too large');
  const body = asBytes(bytes);
  if (body && body.length > MAX_PAYLOAD) throw new ChannelError('too_large', 'payload too large');
  const out = new Uint8Array(3 + head.length + (body ? body.length : 0));
  out[0] = PLAIN;
  out[1] = head.length >> 8;
  out[2] = head.length & 255;
  out.set(head, 3);
  if (body) out.set(body, 3 + head.length);
  return out;
}

/** {type, msg, bytes} of a plain frame, or null when malformed. */
export function decodeFrame(u8) {
  if (!(u8 instanceof Uint8Array) || u8.length < 3 || u8[0] !== PLAIN) return null;
  const n = (u8[1] << 8) | u8[2];
  if (n < 2 || n > MAX_HEADER || 3 + n > u8.length || u8.length - 3 - n > MAX_PAYLOAD) return null;
  let msg;
  try { msg = JSON.parse(dec.decode(u8.subarray(3, 3 + n))); } catch (e) { return null; }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg) || typeof msg.t !== 'string' || !TYPE.test(msg.t)) return null;
  const type = msg.t;
  delete msg.t;
  // a view, no copy: each received frame has a buffer of its own
  const bytes = u8.length > 3 + n ? u8.subarray(3 + n) : null;
  return { type, msg, bytes };
}

function ivOf(counter) {
  const iv = new Uint8Array(12);
  const v = new DataView(iv.buffer);
  v.setUint32(4, Math.floor(counter / 2 ** 32));
  v.setUint32(8, counter >>> 0);
  return iv;
}

function counterOf(iv) {
  const v = new DataView(iv.buffer, iv.byteOffset, 12);
  if (v.getUint32(0) !== 0) return -1;
  return v.getUint32(4) * 2 ** 32 + v.getUint32(8);
}

const AAD = new Uint8Array([SEALED]);

export async function seal(key, counter, plain) {
  const iv = ivOf(counter);
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: AAD }, key, plain));
  const out = new Uint8Array(13 + ct.length);
  out[0] = SEALED;
  out.set(iv, 1);
  out.set(ct, 13);
  return out;
}

/** {counter, plain} or null (not sealed, bad counter, does not decrypt). */
export async function unseal(key, u8) {
  if (!(u8 instanceof Uint8Array) || u8.length < 13 + 16 || u8[0] !== SEALED) return null;
  const iv = u8.slice(1, 13);
  const counter = counterOf(iv);
  if (counter < 1) return null;
  try {
    const plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: AAD }, key, u8.subarray(13)));
    return { counter, plain };
  } catch (e) {
    return { counter, plain: null };
  }
}

/**
 * Opens the received sealed frames of one forwarded transport: in a module
 * worker (channel-worker.mjs) where one starts, else here with WebCrypto.
 * open(u8) -> Promise of unseal()'s result. The worker is used once it said
 * 'ready' (it holds the key); frames it has not answered when it fails are
 * opened here instead, in order, so nothing is lost by a broken worker.
 */
class Opener {
  constructor(key, workerUrl) {
    this.key = key;
    this.worker = null;
    this.ready = false;
    this.pending = new Map();      // id -> {u8, resolve} while in the worker
    this.nextId = 1;
    this.inWorker = 0;             // frames the worker opened (tests)
    if (typeof Worker !== 'function' || workerUrl === null) return;
    try {
      const w = new Worker(workerUrl || new URL('./channel-worker.mjs', import.meta.url), { type: 'module', name: 'consult-channel' });
      w.onmessage = (ev) => this.fromWorker(ev.data || {});
      w.onerror = (ev) => { if (ev && ev.preventDefault) ev.preventDefault(); this.fail(); };
      w.onmessageerror = () => this.fail();
      w.postMessage({ type: 'key', key });
      this.worker = w;
    } catch (e) {
      console.warn('call channel: no worker, frames are opened on the page', e && e.name);
      this.fail();
    }
  }

  open(u8) {
    // not a sealed frame at all: no trip to the worker (unseal says null at once)
    if (!this.ready || u8.length < 13 + 16 || u8[0] !== SEALED) return unseal(this.key, u8);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { u8, resolve });
      // a copy goes to the worker (u8 stays here for the fallback)
      this.worker.postMessage({ type: 'open', id, buf: u8.slice().buffer });
    });
  }

  fromWorker(m) {
    if (m.type === 'ready') { this.ready = !!this.worker; return; }
    if (m.type !== 'opened' || !Array.isArray(m.items)) return;
    for (const it of m.items) {
      const p = this.pending.get(it.id);
      if (!p) continue;
      this.pending.delete(it.id);
      this.inWorker += 1;
      p.resolve(it.bad ? null : { counter: it.counter, plain: it.plain ? new Uint8Array(it.plain) : null });
    }
  }

  /** The worker is gone: what it still held is opened here, in order. */
  fail() {
    if (this.worker) { try { this.worker.terminate(); } catch (e) { /* gone */ } }
    this.worker = null;
    this.ready = false;
    const left = [...this.pending.values()];
    this.pending.clear();
    for (const p of left) p.resolve(unseal(this.key, p.u8));
  }

  close() {
    if (this.worker) { try { this.worker.terminate(); } catch (e) { /* gone */ } }
    this.worker = null;
    this.ready = false;
    for (const p of this.pending.values()) p.resolve(null);
    this.pending.clear();
  }
}

/** The P2P call channel on pc (negotiated: no signalling of its own). */
export const p2pDataChannel = (pc) => pc.createDataChannel(LABEL, { negotiated: true, id: P2P_ID, ordered: true });

/** One transport of a call: a P2P channel, or the forwarded leg's channels. */
class Transport {
  constructor(ch, mode, pc, e2ee, dc = null) {
    this.made = dc;                // a P2P channel made before (p2pDataChannel)
    this.ch = ch;
    this.mode = mode;
    this.pc = pc;
    this.e2ee = e2ee || null;
    this.keys = null;              // {send, recv} (forwarding)
    this.opener = null;            // Opener of received frames (forwarding)
    this.sendCounter = 0;
    this.recvCounter = 0;
    this.channels = new Set();
    this.dc = null;
    this.closed = false;
    this.gotAck = false;
    this.inChain = Promise.resolve();
    this.outChain = Promise.resolve();
    this.lowWaiters = [];
    this.onDataChannel = (ev) => { if (ev.channel && ev.channel.label === LABEL) this.watch(ev.channel); };
  }

  start() {
    const dc = this.mode === 'p2p'
      ? this.made || p2pDataChannel(this.pc)
      : this.pc.createDataChannel(LABEL, { ordered: true });
    this.dc = dc;
    this.watch(dc);
    if (this.mode === 'forward') {
      this.pc.addEventListener('datachannel', this.onDataChannel);
      const ready = this.e2ee && this.e2ee.channelKeysReady;
      if (!ready) { console.warn('call channel: no e2ee keys, forwarding channel stays shut'); return; }
      ready.then((k) => {
        if (this.closed) return;
        this.keys = k;
        this.opener = new Opener(k.recv, this.ch.workerUrl);
        this.hello();
      }, () => {});
    }
  }

  watch(dc) {
    if (this.channels.has(dc)) return;
    this.channels.add(dc);
    dc.binaryType = 'arraybuffer';
    dc.bufferedAmountLowThreshold = LOW_WATER;
    dc.addEventListener('open', () => { if (!this.closed) this.hello(); });
    dc.addEventListener('message', (ev) => { if (!this.closed) this.receive(ev.data); });
    dc.addEventListener('bufferedamountlow', () => this.wakeLow());
    dc.addEventListener('close', () => this.wakeLow());
    if (dc.readyState === 'open') this.hello();
  }

  /** The channel to send on: ours, or one Janus opened towards us. */
  sendable() {
    if (this.dc && this.dc.readyState === 'open') return this.dc;
    for (const c of this.channels) if (c.readyState === 'open') return c;
    return null;
  }

  usable() {
    return !this.closed && !!this.sendable() && (this.mode === 'p2p' || !!this.keys);
  }

  hello() {
    if (this.closed || this.gotAck || this.helloTimer || !this.usable()) return;
    const tick = () => {
      if (this.closed || this.gotAck) { this.helloTimer = null; return; }
      this.raw('ch-hello', { ack: false }).catch(() => {});
      this.helloTimer = setTimeout(tick, HELLO_MS);
    };
    tick();
  }

  wakeLow() {
    const w = this.lowWaiters;
    this.lowWaiters = [];
    for (const fn of w) fn();
  }

  /**
   * Encodes (and seals) one message and sends it, in call order. Sealing
   * starts at once (the counter is taken now), so several messages are
   * encrypted in parallel; only the hand-over to the data channel is chained.
   */
  raw(type, obj, bytes, encoded) {
    const frame = encoded || encodeFrame(type, obj, bytes);
    let sealed = null;
    if (this.mode === 'forward') {
      if (!this.keys) return Promise.reject(new ChannelError('closed', 'no keys'));
      this.sendCounter += 1;
      sealed = seal(this.keys.send, this.sendCounter, frame);
      sealed.catch(() => {});
    }
    const step = this.outChain.then(async () => {
      if (this.closed) throw new ChannelError('closed');
      let dc = this.sendable();
      while (dc && dc.bufferedAmount > HIGH_WATER && !this.closed) {
        await new Promise((res) => { this.lowWaiters.push(res); });
        dc = this.sendable();
      }
      const out = sealed ? await sealed : frame;
      dc = this.sendable();
      if (this.closed || !dc) throw new ChannelError('closed');
      dc.send(out);
      return frame.length;
    });
    this.outChain = step.catch(() => {});
    return step;
  }

  receive(data) {
    let u8;
    if (data instanceof ArrayBuffer) u8 = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) u8 = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else { this.ch.stats.dropped += 1; return; }   // text frames are not ours
    // decryption starts at once (in parallel); frames are handled in order
    const opened = this.mode === 'forward' && this.opener ? this.opener.open(u8) : null;
    this.inChain = this.inChain.then(() => this.handle(u8, opened)).catch((e) => console.warn('call channel: receive failed', e && e.name));
  }

  async handle(u8, opened) {
    let frame = u8;
    if (this.mode === 'forward') {
      if (!opened) { this.ch.stats.dropped += 1; return; }
      const r = await opened;
      if (this.closed) return;
      if (!r) { this.ch.stats.dropped += 1; return; }
      if (!r.plain) { this.ch.stats.failed += 1; return; }
      if (r.counter <= this.recvCounter) { this.ch.stats.replayed += 1; return; }
      this.recvCounter = r.counter;
      frame = r.plain;
    }
    const m = decodeFrame(frame);
    if (!m) { this.ch.stats.dropped += 1; return; }
    if (m.type === 'ch-hello') {
      if (m.msg.ack === true) {
        this.gotAck = true;
        clearTimeout(this.helloTimer);
        this.helloTimer = null;
        this.ch.transportOpen(this);
      } else {
        this.raw('ch-hello', { ack: true }).catch(() => {});
      }
      return;
    }
    if (this.ch.transport !== this || this.ch.state !== 'open') {
      // the other side is open before us (its ack is on the way): keep order
      if (this.ch.early.length < QUEUE_MAX) this.ch.early.push({ m, size: frame.length });
      else this.ch.stats.dropped += 1;
      return;
    }
    this.ch.deliver(m, frame.length);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.helloTimer);
    this.helloTimer = null;
    if (this.mode === 'forward') this.pc.removeEventListener('datachannel', this.onDataChannel);
    if (this.opener) this.opener.close();
    for (const c of this.channels) { try { c.close(); } catch (e) { /* gone */ } }
    this.channels.clear();
    this.wakeLow();
  }

  get bufferedAmount() {
    const dc = this.sendable();
    return dc ? dc.bufferedAmount : 0;
  }
}

function newStats() {
  return { sent: 0, received: 0, bytesSent: 0, bytesReceived: 0, dropped: 0, failed: 0, replayed: 0, types: {} };
}

export class CallChannel {
  constructor({ role, workerUrl } = {}) {
    this.role = role === 'doctor' ? 'doctor' : 'patient';
    this.workerUrl = workerUrl;
    this.listeners = new Map();
    this.stateListeners = new Set();
    this.state = 'idle';
    this.transport = null;
    this.queue = [];       // {type, obj, bytes, resolve, reject} while connecting
    this.early = [];       // messages that came in before our ack
    this.stats = newStats();
  }

  get mode() { return this.transport ? this.transport.mode : ''; }

  get dc() { return this.transport ? this.transport.sendable() : null; }

  get bufferedAmount() { return this.transport ? this.transport.bufferedAmount : 0; }

  /** Where received sealed frames are opened now: 'worker' | 'page' | '' (P2P, no keys yet). */
  get opening() {
    const o = this.transport && this.transport.opener;
    return o ? (o.ready ? 'worker' : 'page') : '';
  }

  /** Sealed frames of this transport opened in the worker (tests). */
  get openedInWorker() {
    const o = this.transport && this.transport.opener;
    return o ? o.inWorker : 0;
  }

  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => { const s = this.listeners.get(type); if (s) s.delete(fn); };
  }

  onState(fn) {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    for (const fn of [...this.stateListeners]) {
      try { fn(s); } catch (e) { console.error('call channel state listener failed', e); }
    }
  }

  waitOpen(ms = 10000) {
    if (this.state === 'open') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { off(); reject(new ChannelError('timeout')); }, ms);
      const off = this.onState((s) => {
        if (s === 'open') { clearTimeout(timer); off(); resolve(); } else if (s === 'closed' || s === 'idle') {
          clearTimeout(timer); off(); reject(new ChannelError('closed'));
        }
      });
    });
  }

  // ---- driven by session.mjs ----------------------------------------------------
  begin() {
    this.dropTransport();
    this.failQueue();
    this.early = [];
    this.stats = newStats();
    this.setState('connecting');
  }

  attachP2P(pc, dc = null) { this.attach(new Transport(this, 'p2p', pc, null, dc)); }

  attachForward(pc, e2ee) {
    if (this.transport && this.transport.pc === pc && !this.transport.closed) return;
    this.attach(new Transport(this, 'forward', pc, e2ee));
  }

  attach(t) {
    if (this.state === 'idle' || this.state === 'closed') this.begin();
    this.dropTransport();
    this.transport = t;
    this.setState('connecting');
    try { t.start(); } catch (e) { console.warn('call channel: no data channel', e && e.name); }
  }

  detach() {
    if (!this.transport) return;
    this.dropTransport();
    if (this.state === 'open') this.setState('connecting');
  }

  end() {
    this.dropTransport();
    this.failQueue();
    this.early = [];
    if (this.state !== 'idle') this.setState('closed');
  }

  dropTransport() {
    if (this.transport) this.transport.close();
    this.transport = null;
    this.early = [];
  }

  failQueue() {
    const q = this.queue;
    this.queue = [];
    for (const m of q) m.reject(new ChannelError('closed'));
  }

  transportOpen(t) {
    if (t !== this.transport) return;
    this.setState('open');
    const early = this.early;
    this.early = [];
    for (const e of early) this.deliver(e.m, e.size);
    const q = this.queue;
    this.queue = [];
    for (const m of q) this.push(m);
  }

  deliver(m, size) {
    this.stats.received += 1;
    this.stats.bytesReceived += size || 0;
    const types = this.stats.types;
    let k = m.type;
    if (!Object.hasOwn(types, k) && Object.keys(types).length >= TYPES_MAX) k = '*';
    if (!Object.hasOwn(types, k)) types[k] = { received: 0, bytesReceived: 0 };
    const c = types[k];
    c.received += 1;
    c.bytesReceived += size || 0;
    const set = this.listeners.get(m.type);
    if (!set) return;
    for (const fn of [...set]) {
      try { fn(m.msg, m.bytes); } catch (e) { console.error('call channel listener failed', m.type, e); }
    }
  }

  // ---- sending ---------------------------------------------------------------------
  send(type, obj = {}, bytes = null) {
    if (typeof type !== 'string' || !TYPE.test(type) || type.startsWith('ch-')) return Promise.reject(new ChannelError('bad_type'));
    if (obj == null || typeof obj !== 'object' || Array.isArray(obj)) return Promise.reject(new ChannelError('bad_type', 'obj must be an object'));
    if (this.state === 'idle' || this.state === 'closed') return Promise.reject(new ChannelError('closed'));
    let frame;
    try { frame = encodeFrame(type, obj, bytes); } catch (e) { return Promise.reject(e); }
    return new Promise((resolve, reject) => {
      const m = { type, frame, resolve, reject };
      if (this.state === 'open') this.push(m);
      else if (this.queue.length >= QUEUE_MAX) reject(new ChannelError('queue_full'));
      else this.queue.push(m);
    });
  }

  push(m) {
    const t = this.transport;
    if (!t) { this.queue.push(m); return; }
    t.raw(m.type, null, null, m.frame).then((n) => {
      this.stats.sent += 1;
      this.stats.bytesSent += n;
      m.resolve();
    }, m.reject);
  }
}
