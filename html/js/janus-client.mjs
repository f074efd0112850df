// janus-client.mjs: small wrapper around janus.js for janus.plugin.consult.
// Contract:
//   const c = new ConsultClient({destroyOnUnload, server});  await c.connect();
//     server: the WebSocket URL (default serverUrl(); with several
//     instances the pages pass route.mjs' choice)
//   c.request(body) -> Promise(reply data) ; rejects with ConsultError
//     (.error, .error_code, .field, .retry_after) when the reply has ok:false
//     or the transport failed (error 'transport' / 'disconnected').
//   c.requestInTurn(lane, body) -> the same as c.request(body), sent only
//     after the previous requestInTurn of that lane (a string) is answered
//     or failed. Janus handles a handle's requests on a thread pool, in
//     either order (docs/protocol.md, Transport): a lane keeps its requests
//     in order, e.g. the `media` states, so the newest is relayed last.
//   c.on(name, fn): name is a plugin event name ('position', 'ringing', ...),
//     '*' for every event, or 'disconnected' (connection lost, once).
//   c.destroy(): closes the Janus session; no 'disconnected' afterwards.
//   connect() gives up after CONNECT_TIMEOUT_MS (error 'transport').
//   The event `server_restarting` (the server is stopping) is passed on to
//   the listeners and then treated as a lost connection at once
//   ('disconnected' with cause 'server_restarting'): the pages reconnect
//   without waiting for the socket to close. The old session is left to the
//   stopping server (no destroy request); its socket is closed locally after
//   RESTART_CLOSE_MS if the server has not closed it.
//   A connection that stays open but carries nothing any more (the host
//   vanished, the phone lost its path) is noticed by liveness.mjs: after
//   QUIET_MS without any message from the server a Janus `keepalive` with
//   its own transaction goes out (the core answers `ack`); no message
//   within ANSWER_MS -> 'disconnected' with cause 'unresponsive' and the
//   socket is closed locally at once (no destroy request: it could not
//   arrive). Any message counts as a sign of life (a slow reply too).
// Media on this handle (forwarding mode; janus.js does the WebRTC):
//   c.request(body, jsep) sends jsep beside the body (handle.send copies
//     type, sdp and e2ee); listeners get (data, jsep) with the event's jsep.
//   c.setMediaHooks({remotetrack(track, mid, on), icestate(state),
//     webrtcstate(up, reason), cleanup()}) (null clears them)
//   c.createOffer({tracks}) / c.createAnswer({jsep, tracks}) -> Promise(jsep)
//     (janus.js; the PeerConnection is c.mediaPc once they resolve)
//   c.handleRemoteJsep(jsep) -> Promise
//   c.mediaPc            handle.webrtcStuff.pc or null
//   c.hangupMedia()      close the handle's PeerConnection locally (no Janus
//                        hangup request: the plugin closes its side itself)
// In a browser without RTCPeerConnection only the signalling works (no
// createOffer/createAnswer): janus.js' WebRTC check is lifted for that.
// Needs adapter.js and janus.js loaded before as classic scripts (globals
// `adapter` and `Janus`). Requests are answered synchronously by the plugin,
// so janus.js' send() success callback receives the reply data.
import { janusUrl } from './config.js';
import { LivenessWatch } from './liveness.mjs';

let initPromise = null;
// new Janus() opens its WebSocket synchronously (janus.js createSession):
// the client being constructed receives it here to watch and probe it.
let socketSink = null;
const CONNECT_TIMEOUT_MS = 8000;
const RESTART_CLOSE_MS = 10000;

function initJanus() {
  if (!initPromise) {
    initPromise = new Promise((resolve, reject) => {
      const J = window.Janus;
      if (typeof J !== 'function') {
        initPromise = null;
        reject(new ConsultError({ error: 'transport', reason: 'janus.js not loaded' }));
        return;
      }
      // The signalling needs no WebRTC, but janus.js refuses a session in a
      // browser without RTCPeerConnection; the patient page still needs it
      // there, for the practice's name and phone (support.mjs says why calls
      // are impossible in such a browser and keeps the page from joining).
      if (typeof window.RTCPeerConnection !== 'function') J.isWebrtcSupported = () => true;
      const deps = J.useDefaultDependencies({ adapter: window.adapter });
      const newWebSocket = deps.newWebSocket;
      deps.newWebSocket = (server, proto) => {
        const ws = newWebSocket(server, proto);
        if (socketSink) socketSink(ws);
        return ws;
      };
      J.init({
        debug: ['warn', 'error'],
        dependencies: deps,
        callback: resolve,
      });
    });
  }
  return initPromise;
}

/** The Janus WebSocket URL: config.js override or derived from location. */
export function serverUrl() {
  if (janusUrl) return janusUrl;
  return (location.protocol === 'https:' ? 'wss' : 'ws') + '://' + location.host + '/janus';
}

export class ConsultError extends Error {
  constructor(data) {
    super((data && (data.reason || data.error)) || 'error');
    this.name = 'ConsultError';
    this.error = (data && data.error) || 'internal';
    this.error_code = data && data.error_code;
    this.field = data && data.field;
    this.retry_after = data && data.retry_after;
    this.data = data;
  }
}

export class ConsultClient {
  constructor({ destroyOnUnload = true, server = null } = {}) {
    this.destroyOnUnload = destroyOnUnload;
    this.server = server || serverUrl();
    this.listeners = new Map();
    this.janus = null;
    this.handle = null;
    this.closed = false;
    this.connected = false;
    this.pending = new Set();     // reject functions of unanswered requests
    this.lanes = new Map();       // requestInTurn: lane -> its last request, settled
    this.media = {};              // setMediaHooks
    this.ws = null;               // janus.js' WebSocket (liveness probes)
    this.probeSeq = 0;
    this.watch = new LivenessWatch({ probe: () => this.probe(), lost: () => this.unresponsive() });
    this.onVisible = () => { if (!document.hidden) this.watch.wake(); };
  }

  setMediaHooks(hooks) { this.media = hooks || {}; }

  mediaHook(name, ...args) {
    const fn = this.media[name];
    if (typeof fn !== 'function') return;
    try { fn(...args); } catch (e) { console.error('consult media hook failed', e); }
  }

  get mediaPc() {
    const w = this.handle && this.handle.webrtcStuff;
    return (w && w.pc) || null;
  }

  janusMedia(method, opts) {
    return new Promise((resolve, reject) => {
      if (!this.handle || this.closed) {
        reject(new ConsultError({ error: 'disconnected', reason: 'not connected' }));
        return;
      }
      this.handle[method]({
        ...opts,
        success: (jsep) => resolve(jsep),
        error: (e) => reject(new ConsultError({ error: 'webrtc', reason: String((e && (e.message || e.name)) || e) })),
      });
    });
  }

  createOffer(opts) { return this.janusMedia('createOffer', opts); }

  createAnswer(opts) { return this.janusMedia('createAnswer', opts); }

  handleRemoteJsep(jsep) { return this.janusMedia('handleRemoteJsep', { jsep }); }

  hangupMedia() {
    try { if (this.handle) this.handle.hangup(false); } catch (e) { /* gone */ }
  }

  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, new Set());
    this.listeners.get(name).add(fn);
    return () => this.listeners.get(name).delete(fn);
  }

  emit(name, data, jsep) {
    for (const key of [name, '*']) {
      if (key === '*' && name === 'disconnected') continue;
      const set = this.listeners.get(key);
      if (!set) continue;
      for (const fn of [...set]) {
        try { fn(data, jsep); } catch (e) { console.error('consult listener failed', e); }
      }
    }
  }

  async connect() {
    await initJanus();
    await new Promise((resolve, reject) => {
      let settled = false;
      const fail = (cause) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          this.closed = true;
          reject(new ConsultError({ error: 'transport', reason: String(cause) }));
        } else {
          this.lost(cause);
        }
      };
      // a socket that neither opens nor fails (packets dropped): give up
      const timer = setTimeout(() => {
        if (settled) return;
        fail('connect timeout');
        this.closeQuietly();
      }, CONNECT_TIMEOUT_MS);
      socketSink = (ws) => {
        this.ws = ws;
        ws.addEventListener('message', () => { if (this.ws === ws) this.watch.heard(); });
      };
      try {
        this.janus = new window.Janus({
          server: this.server,
          iceServers: [],
          destroyOnUnload: this.destroyOnUnload,
          success: () => {
            this.janus.attach({
              plugin: 'janus.plugin.consult',
              success: (handle) => {
                if (settled) return;        // timed out meanwhile
                this.handle = handle;
                this.connected = true;
                settled = true;
                clearTimeout(timer);
                this.watch.start();
                if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.onVisible);
                resolve();
              },
              error: fail,
              onmessage: (msg, jsep) => this.onMessage(msg, jsep),
              onremotetrack: (track, mid, on) => this.mediaHook('remotetrack', track, mid, on),
              iceState: (st) => this.mediaHook('icestate', st),
              webrtcState: (up, reason) => this.mediaHook('webrtcstate', up, reason),
              oncleanup: () => this.mediaHook('cleanup'),
              ondetached: () => this.lost('detached'),
            });
          },
          error: fail,
          destroyed: () => this.lost('destroyed'),
        });
      } finally {
        socketSink = null;
      }
    });
  }

  /** A Janus keepalive with its own transaction: the core answers `ack`. */
  probe() {
    const ws = this.ws;
    const id = this.janus && this.janus.getSessionId();
    if (!ws || ws.readyState !== 1 || !id) return;
    this.probeSeq += 1;
    ws.send(JSON.stringify({ janus: 'keepalive', session_id: id, transaction: `alive-${this.probeSeq}` }));
  }

  /** Nothing came back: the connection is gone although the socket is open. */
  unresponsive() {
    if (this.closed) return;
    this.lost('unresponsive');
    this.closeQuietly();
  }

  onMessage(msg, jsep) {
    if (msg && msg.consult === 'event' && typeof msg.event === 'string') {
      this.emit(msg.event, msg, jsep || undefined);
      if (msg.event === 'server_restarting') this.restarting();
    }
  }

  /** The server is stopping: reconnect now; the old socket is closed later (or by the server). */
  restarting() {
    if (this.closed) return;
    this.lost('server_restarting');
    setTimeout(() => this.closeQuietly(), RESTART_CLOSE_MS);
  }

  /** Closes the socket without a destroy request and without callbacks. */
  closeQuietly() {
    const j = this.janus;
    this.janus = null;
    this.ws = null;
    if (j && typeof j.destroy === 'function') {
      try { j.destroy({ unload: true, notifyDestroyed: false }); } catch (e) { /* gone */ }
    }
  }

  lost(cause) {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    this.stopWatch();
    this.failPending();
    this.emit('disconnected', String(cause));
  }

  stopWatch() {
    this.watch.stop();
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.onVisible);
  }

  failPending() {
    const p = [...this.pending];
    this.pending.clear();
    for (const reject of p) reject(new ConsultError({ error: 'disconnected', reason: 'connection lost' }));
  }

  request(body, jsep) {
    return new Promise((resolve, reject) => {
      if (!this.handle || this.closed) {
        reject(new ConsultError({ error: 'disconnected', reason: 'not connected' }));
        return;
      }
      const done = () => this.pending.delete(reject);
      this.pending.add(reject);
      this.handle.send({
        message: body,
        ...(jsep ? { jsep } : {}),
        success: (data) => {
          done();
          if (!data) reject(new ConsultError({ error: 'transport', reason: 'empty reply' }));
          else if (data.ok) resolve(data);
          else reject(new ConsultError(data));
        },
        error: (e) => {
          done();
          reject(new ConsultError({ error: 'transport', reason: String(e) }));
        },
      });
    });
  }

  requestInTurn(lane, body) {
    const before = this.lanes.get(lane);
    const sent = before ? before.then(() => this.request(body)) : this.request(body);   // an idle lane: at once
    const settled = sent.catch(() => {}).then(() => {
      if (this.lanes.get(lane) === settled) this.lanes.delete(lane);
    });
    this.lanes.set(lane, settled);
    return sent;
  }

  /** Fire-and-forget request (used on pagehide). */
  send(body) {
    try {
      if (this.handle && !this.closed) this.handle.send({ message: body });
    } catch (e) { /* best effort */ }
  }

  destroy() {
    const j = this.janus;
    this.closed = true;
    this.connected = false;
    this.handle = null;
    this.janus = null;
    this.ws = null;
    this.stopWatch();
    this.failPending();
    if (j && typeof j.destroy === 'function') {
      try { j.destroy({ notifyDestroyed: false, cleanupHandles: false }); } catch (e) { /* ignore */ }
    }
  }
}
