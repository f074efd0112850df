// client.mjs - a raw Janus WebSocket client for the consult plugin (tests,
// benchmark, demo seeding).
//
// Contract: JanusClient.connect(wsUrl) opens a socket with subprotocol
// "janus-protocol"; createSession() creates a Janus session and keeps it
// alive (keepalive every 25 s); attach() returns a ConsultHandle.
// ConsultHandle.request(body) resolves with the plugin's reply data object
// (for ok:true and ok:false alike); call(body) throws unless ok:true.
// Janus-level errors (e.g. {janus:"error"}) reject with err.janus =
// {code, reason}. Events (plugindata.data with consult:"event") are kept in
// handle.events in arrival order; waitEvent(name, {timeout, filter})
// returns the oldest matching event not consumed yet, waiting if needed.
// The plugin's event may arrive before the core's ack or reply: both orders
// are handled. waitEvent rejects an event whose name or fields are not in
// plugins/core/events.def (the documented contract, see contract.mjs).
// handle.sync() resolves once every event the plugin pushed to this handle
// before the call is in handle.events (a keepalive round trip on the same
// WebSocket: Janus queues events and replies of a session in order), so
// "no such event" can be checked without waiting for time. Default timeouts
// (connect 15 s, replies 30 s, waitEvent 15 s) are deadlines for a busy
// machine, not expectations. client.close() drops the socket abruptly (a
// lost connection); client.destroy() destroys the session politely first.
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { eventProblem } from './contract.mjs';

export const PLUGIN = 'janus.plugin.consult';

let txCounter = 0;
const newTx = () => `t${++txCounter}-${crypto.randomBytes(3).toString('hex')}`;

export class JanusClient {
  constructor(ws) {
    this.ws = ws;
    this.sessionId = null;
    this.pending = new Map();   // transaction -> {resolve, reject, kind}
    this.handles = new Map();   // handle id -> ConsultHandle
    this.messages = [];         // every parsed message received
    this.unmatched = [];        // replies without a known transaction
    this.closed = false;
    this.keepaliveTimer = null;
    this.closeWaiters = [];
    ws.on('message', (data) => this.onMessage(data));
    ws.on('close', () => this.onClose());
    ws.on('error', () => { /* 'close' follows */ });
  }

  static connect(wsUrl, { timeout = 15000 } = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, 'janus-protocol');
      const timer = setTimeout(() => { ws.terminate(); reject(new Error('connect timeout')); }, timeout);
      ws.once('open', () => { clearTimeout(timer); resolve(new JanusClient(ws)); });
      ws.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
  }

  onMessage(data) {
    let msg;
    try { msg = JSON.parse(data.toString('utf8')); } catch { return; }
    this.messages.push(msg);
    const tx = msg.transaction;
    const pd = msg.plugindata?.data;
    // Plugin events (no transaction or a consult "event" payload).
    if (msg.janus === 'event' && pd && pd.consult === 'event') {
      const h = this.handles.get(msg.sender);
      if (h) h.pushEvent(pd);
      return;
    }
    if (msg.janus === 'ack' && tx && this.pending.get(tx)?.kind === 'message') return;
    if (msg.janus === 'keepalive' || msg.janus === 'webrtcup' || msg.janus === 'media' ||
        msg.janus === 'slowlink' || msg.janus === 'hangup') return;
    if (msg.janus === 'detached') {
      const h = this.handles.get(msg.sender);
      if (h) h.detached = true;
      return;
    }
    if (!tx || !this.pending.has(tx)) {
      this.unmatched.push(msg);
      return;
    }
    const p = this.pending.get(tx);
    this.pending.delete(tx);
    if (msg.janus === 'error') {
      const err = new Error(`janus error ${msg.error?.code}: ${msg.error?.reason}`);
      err.janus = msg.error;
      p.reject(err);
    } else {
      p.resolve(msg);
    }
  }

  onClose() {
    this.closed = true;
    clearInterval(this.keepaliveTimer);
    for (const p of this.pending.values()) p.reject(new Error('socket closed'));
    this.pending.clear();
    for (const w of this.closeWaiters) w();
    this.closeWaiters = [];
  }

  /** Send a Janus request and resolve with the matching reply message. */
  send(msg, { kind = 'janus', timeout = 30000 } = {}) {
    if (this.closed) return Promise.reject(new Error('socket closed'));
    const transaction = msg.transaction || newTx();
    const full = { ...msg, transaction };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        reject(new Error(`timeout waiting for reply to ${msg.janus} ${JSON.stringify(msg.body?.request ?? '')}`));
      }, timeout);
      this.pending.set(transaction, {
        kind,
        resolve: (m) => { clearTimeout(timer); resolve(m); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.ws.send(JSON.stringify(full));
    });
  }

  /** Send raw bytes/text as a text frame; resolves with the next unmatched reply. */
  async sendRaw(payload, { timeout = 3000 } = {}) {
    const before = this.unmatched.length;
    this.ws.send(payload, { binary: false });
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      if (this.unmatched.length > before) return this.unmatched[before];
      if (this.closed) return null;
      await new Promise((r) => setTimeout(r, 10));
    }
    return null;
  }

  async createSession() {
    const reply = await this.send({ janus: 'create' });
    this.sessionId = reply.data.id;
    this.keepaliveTimer = setInterval(() => {
      if (this.closed) return;
      this.send({ janus: 'keepalive', session_id: this.sessionId }).catch(() => {});
    }, 25000);
    this.keepaliveTimer.unref();
    return this.sessionId;
  }

  async attach() {
    if (!this.sessionId) await this.createSession();
    const reply = await this.send({ janus: 'attach', session_id: this.sessionId, plugin: PLUGIN });
    const h = new ConsultHandle(this, reply.data.id);
    this.handles.set(h.id, h);
    return h;
  }

  /** Abrupt close: the server sees a dropped connection. */
  close() {
    clearInterval(this.keepaliveTimer);
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      this.ws.terminate();
    });
  }

  /** Polite end: destroy the session, then close the socket. */
  async destroy() {
    clearInterval(this.keepaliveTimer);
    if (this.closed) return;
    if (this.sessionId) {
      await this.send({ janus: 'destroy', session_id: this.sessionId }).catch(() => {});
    }
    await new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      this.ws.close();
      setTimeout(() => { this.ws.terminate(); }, 1000).unref();
    });
  }
}

export class ConsultHandle {
  constructor(client, id) {
    this.client = client;
    this.id = id;
    this.events = [];      // every event data object, in arrival order
    this.consumed = new Set();
    this.waiters = [];
    this.detached = false;
  }

  pushEvent(data) {
    this.events.push(data);
    const idx = this.events.length - 1;
    const w = this.waiters.find((x) => x.match(data));
    if (w) {
      this.consumed.add(idx);
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(data);
    }
  }

  /** Send a plugin request; resolves with plugindata.data of the reply. */
  async request(body, { jsep, timeout } = {}) {
    const msg = { janus: 'message', session_id: this.client.sessionId, handle_id: this.id, body };
    if (jsep) msg.jsep = jsep;
    const reply = await this.client.send(msg, { kind: 'message', timeout });
    const data = reply.plugindata?.data;
    if (!data) throw new Error(`reply without plugindata: ${JSON.stringify(reply).slice(0, 300)}`);
    return data;
  }

  /** Like request() but throws unless ok:true. */
  async call(body, opts) {
    const data = await this.request(body, opts);
    if (data.ok !== true) {
      const err = new Error(`${body?.request} failed: ${data.error} (${data.error_code}) ${data.reason ?? ''}`);
      err.data = data;
      throw err;
    }
    return data;
  }

  /**
   * Resolves once every event pushed to this handle before the call has
   * arrived: a keepalive on the same session and WebSocket, whose ack Janus
   * queues behind those events.
   */
  async sync() {
    await this.client.send({ janus: 'keepalive', session_id: this.client.sessionId });
  }

  /** Oldest unconsumed event named `name` (and passing filter), or wait. */
  waitEvent(name, { timeout = 15000, filter = () => true } = {}) {
    const match = (e) => (name === '*' || e.event === name) && filter(e);
    const settle = (e) => {
      const problem = eventProblem(e);
      // field names only: values may hold credentials or names
      return problem ? Promise.reject(new Error(`${problem} (fields: ${Object.keys(e).join(', ')})`)) : Promise.resolve(e);
    };
    for (let i = 0; i < this.events.length; i++) {
      if (!this.consumed.has(i) && match(this.events[i])) {
        this.consumed.add(i);
        return settle(this.events[i]);
      }
    }
    return new Promise((resolve, reject) => {
      const w = { match, resolve: null };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timeout waiting for event ${name} on handle ${this.id}; got: ` +
          JSON.stringify(this.events.map((e) => e.event))));
      }, timeout);
      w.resolve = (e) => { clearTimeout(timer); settle(e).then(resolve, reject); };
      this.waiters.push(w);
    });
  }

  /** Unconsumed events named `name` received so far (not consumed by this call). */
  pending(name) {
    return this.events.filter((e, i) => !this.consumed.has(i) && (name === '*' || e.event === name));
  }

  /** Mark every event received so far as consumed. */
  drain() {
    for (let i = 0; i < this.events.length; i++) this.consumed.add(i);
  }

  async detach() {
    await this.client.send({ janus: 'detach', session_id: this.client.sessionId, handle_id: this.id });
    this.client.handles.delete(this.id);
  }
}

/** Connect, create a session and attach one consult handle. */
export async function connectHandle(wsUrl) {
  const client = await JanusClient.connect(wsUrl);
  await client.createSession();
  const handle = await client.attach();
  return { client, handle };
}
