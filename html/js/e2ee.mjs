// e2ee.mjs: end-to-end encryption of media frames in forwarding mode.
// Contract:
//   e2eeSupport() -> 'script-transform' (RTCRtpScriptTransform) |
//     'encoded-streams' (Chromium's createEncodedStreams; needs a
//     RTCPeerConnection created with {encodedInsertableStreams: true}) | ''.
//   CLEAR_BYTES = {audio, video}: bytes left clear at the start of each frame
//     (measured, tests/browser/e2ee.test.mjs); both sides use the same.
//     Video 1: the first byte of the VP8 frame tag (key frame bit, version,
//     show_frame). The receiver's depacketizer takes the frame type from it
//     before the decrypt transform runs; encrypted, about every other frame
//     counted as a key frame and a new picture size (screen sharing, a
//     camera switch) was never shown (measured in forwarding mode,
//     tests/nat/calltools-forward.test.mjs). The start code (bytes 3-5), the
//     picture size and everything else stay encrypted.
//   const s = await E2eeSession.create({role: 'doctor'|'patient'})
//     new ECDH P-256 key pair (WebCrypto, private key not extractable) and
//     one worker (e2ee-worker.js). Rejects when WebCrypto or transforms are
//     missing (Error('e2ee unsupported')). Test-only options: clear
//     ({audio, video} overriding CLEAR_BYTES), mode ('encoded-streams' to
//     force the fallback), workerUrl.
//   s.publicKey          base64 of the raw (65-byte) public key: send it as
//                        {request:'signal', type:'e2ee-key', key: s.publicKey}
//   await s.setPeerKey(b64)  the other side's key: derives both AES-GCM-256
//                        keys and hands them to the worker; resolves to the
//                        verification code ('123 456', verify.mjs). Rejects on
//                        a malformed key or our own key echoed back.
//   s.attachSender(sender, kind?) / s.attachReceiver(receiver, kind?)
//                        put the encrypt / decrypt transform on it (kind from
//                        the track when omitted). May be called before
//                        setPeerKey: until the keys exist every frame is
//                        dropped (nothing ever leaves in clear).
//   s.attachPeerConnection(pc)  every current (not stopped) transceiver plus
//                        future 'track' events. Idempotent per sender/receiver.
//                        Throws if a transform cannot be set: the caller must
//                        then not send media (it would leave in clear).
//                        Attach BEFORE the offer/answer is created: measured
//                        in Chromium 156, a transform set after
//                        createOffer/createAnswer (e.g. in janus.js' success
//                        callback) is not applied and frames leave in clear
//                        (forward.mjs attaches right before janus.js calls
//                        pc.createOffer / pc.createAnswer).
//   s.counters           latest {encrypted, decrypted, failed, nokey, empty,
//                        keyframesIn, startCodeOut, transforms} (the worker
//                        reports every 250 ms when something changed)
//   await s.refreshCounters()  ask the worker now; resolves to counters
//   s.code               verification code once setPeerKey resolved, else ''
//   s.close()            stops the worker (transforms stop passing frames)
//   s.channelKeysReady   Promise of {send, recv}: AES-GCM-256 keys for the
//                        call channel (callchannel.mjs), derived like the
//                        media keys but with their own info strings, so
//                        channel messages and media frames never share a key
// Key derivation: secret = ECDH(P-256); HKDF-SHA-256 with salt = both raw
// public keys sorted bytewise and concatenated, info = "consult e2ee
// doctor->patient" resp. "consult e2ee patient->doctor"; the doctor sends
// with the first and receives with the second, the patient the other way.
// The call channel's keys: the same with info "consult channel
// doctor->patient" resp. "consult channel patient->doctor".
import { compareBytes, toBytes, verifyCodeFromKeys } from './verify.mjs';

export const CLEAR_BYTES = Object.freeze({ audio: 0, video: 1 });
const KEY_ID = 1;
const INFO = { 'doctor->patient': 'consult e2ee doctor->patient', 'patient->doctor': 'consult e2ee patient->doctor' };
const CHANNEL_INFO = { 'doctor->patient': 'consult channel doctor->patient', 'patient->doctor': 'consult channel patient->doctor' };

export function e2eeSupport() {
  if (typeof RTCRtpScriptTransform === 'function') return 'script-transform';
  if (typeof RTCRtpSender !== 'undefined' && RTCRtpSender.prototype
      && typeof RTCRtpSender.prototype.createEncodedStreams === 'function') return 'encoded-streams';
  return '';
}

function b64(bytes) {
  let s = '';
  for (const c of bytes) s += String.fromCharCode(c);
  return btoa(s);
}

export class E2eeSession {
  static async create({ role, workerUrl, clear, mode: forced } = {}) {
    if (role !== 'doctor' && role !== 'patient') throw new Error('role must be doctor or patient');
    const mode = forced || e2eeSupport();
    if (!mode || !globalThis.crypto || !crypto.subtle) throw new Error('e2ee unsupported');
    const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    return new E2eeSession({ role, mode, pair, raw, workerUrl, clear });
  }

  constructor({ role, mode, pair, raw, workerUrl, clear }) {
    this.role = role;
    this.mode = mode;
    this.pair = pair;
    this.raw = raw;
    this.publicKey = b64(raw);
    this.clear = { ...CLEAR_BYTES, ...(clear || {}) };
    this.code = '';
    this.counters = {
      encrypted: 0, decrypted: 0, failed: 0, nokey: 0, empty: 0, keyframesIn: 0, startCodeOut: 0, transforms: 0,
    };
    this.attached = new WeakSet();
    this.channelKeysReady = new Promise((resolve) => { this.resolveChannelKeys = resolve; });
    this.waiters = [];
    this.worker = new Worker(workerUrl || new URL('./e2ee-worker.js', import.meta.url), { name: 'consult-e2ee' });
    this.worker.onmessage = (ev) => {
      const m = ev.data || {};
      if (m.type !== 'stats') return;
      this.counters = m.stats;
      const w = this.waiters;
      this.waiters = [];
      for (const fn of w) fn(this.counters);
    };
    this.worker.onerror = () => console.warn('e2ee worker error');
    this.onTrack = (ev) => this.attachReceiver(ev.receiver, ev.track && ev.track.kind);
  }

  async setPeerKey(peerB64) {
    const peer = toBytes(peerB64);
    if (peer.length !== 65 || peer[0] !== 4) throw new Error('bad peer key');
    if (compareBytes(peer, this.raw) === 0) throw new Error('peer key equals own key');
    const peerKey = await crypto.subtle.importKey('raw', peer, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
    const secret = await crypto.subtle.deriveBits({ name: 'ECDH', public: peerKey }, this.pair.privateKey, 256);
    const ikm = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey']);
    const [lo, hi] = compareBytes(this.raw, peer) < 0 ? [this.raw, peer] : [peer, this.raw];
    const salt = new Uint8Array(lo.length + hi.length);
    salt.set(lo, 0);
    salt.set(hi, lo.length);
    const derive = (info) => crypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt, info: new TextEncoder().encode(info) },
      ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const d2p = await derive(INFO['doctor->patient']);
    const p2d = await derive(INFO['patient->doctor']);
    const send = this.role === 'doctor' ? d2p : p2d;
    const recv = this.role === 'doctor' ? p2d : d2p;
    this.worker.postMessage({ type: 'keys', send, recv, keyId: KEY_ID });
    const cd2p = await derive(CHANNEL_INFO['doctor->patient']);
    const cp2d = await derive(CHANNEL_INFO['patient->doctor']);
    this.resolveChannelKeys(this.role === 'doctor' ? { send: cd2p, recv: cp2d } : { send: cp2d, recv: cd2p });
    this.code = await verifyCodeFromKeys(this.raw, peer);
    return this.code;
  }

  attach(target, dir, kind) {
    if (!target || this.attached.has(target)) return false;
    const k = kind || (target.track && target.track.kind);
    if (k !== 'audio' && k !== 'video') return false;
    const options = { dir, kind: k, clear: this.clear[k] };
    if (this.mode === 'script-transform') {
      target.transform = new RTCRtpScriptTransform(this.worker, options);
    } else {
      const { readable, writable } = target.createEncodedStreams();
      this.worker.postMessage({ type: 'stream', readable, writable, options }, [readable, writable]);
    }
    this.attached.add(target);
    return true;
  }

  attachSender(sender, kind) { return this.attach(sender, 'send', kind); }

  attachReceiver(receiver, kind) { return this.attach(receiver, 'recv', kind); }

  attachPeerConnection(pc) {
    for (const t of pc.getTransceivers()) {
      if (t.stopped || t.currentDirection === 'stopped') continue;
      const kind = t.receiver && t.receiver.track && t.receiver.track.kind;
      if (t.sender) this.attachSender(t.sender, kind);
      if (t.receiver) this.attachReceiver(t.receiver, kind);
    }
    pc.removeEventListener('track', this.onTrack);
    pc.addEventListener('track', this.onTrack);
  }

  refreshCounters() {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.worker.postMessage({ type: 'stats' });
    });
  }

  close() {
    try { this.worker.terminate(); } catch (e) { /* gone */ }
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn(this.counters);
  }
}
