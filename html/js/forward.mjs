// forward.mjs: forwarding mode of a call, used through session.mjs by
// doctor.mjs and patient.mjs. When no peer-to-peer path came up, each page negotiates a
// normal Janus PeerConnection (janus.js, jsep) on its own consult handle; the
// plugin forwards the media between the two handles. Frames are end-to-end
// encrypted (e2ee.mjs) with a key agreed over `signal` type `e2ee-key`.
// Contract:
//   causeOf(peerCall, kind) -> 'turn_failed' when an icecandidateerror 401/701
//     for a turn: URL was seen, else kind ('timeout' | 'ice_failed')
//   prepareForwardKey({client, role}) -> prep: while the peer-to-peer attempt
//     runs (rtc.mjs, right after the first offer/answer went out): a new
//     ECDH P-256 key pair whose public key is sent at once as `signal`
//     e2ee-key (through tamper()); prep.ready resolves to the keys once sent,
//     or null (no E2EE support, or the request failed: the Forwarder then
//     makes and sends a key of its own). No worker, no media, nothing shown.
//   const f = new Forwarder({client, role: 'doctor'|'patient', e2ee (bool),
//       localStream, remoteVideo, onCode(code), onState(connectionState),
//       onProblem(null|'ice_failed'|'connection_lost'), onEvent(name),
//       prepared (a prepareForwardKey() of this call, or null)})
//   await f.start()   e2ee: an E2eeSession on the prepared key pair (already
//                     sent), else a new one whose key it sends as
//                     {request:'signal', type:'e2ee-key', key} (through the
//                     test hook tamper()); without e2ee the doctor offers at once
//   f.handleSignal(ev)  `signal` events; only type e2ee-key matters:
//                     setPeerKey -> onCode(code); then the doctor offers
//                     (createOffer on its handle, tracks = the existing
//                     captured tracks, recv true; transforms attached in
//                     success; jsep.e2ee = true; request forward_offer + jsep)
//   f.handleEvent(ev, jsep)  `forward_offer` (patient: createAnswer, attach,
//                     e2ee flag, request forward_answer + jsep; held back until
//                     the key is set) and `forward_answer` (doctor:
//                     handleRemoteJsep)
//   f.pc              the handle's RTCPeerConnection (or null before the offer)
//   f.session         the E2eeSession (null without e2ee)
//   f.code            the verification code ('' until known)
//   f.setMuted(b) / f.setCameraOff(b) / f.switchCamera() (media.mjs MediaCall)
//   onPeerConnection(pc, e2eeSession): the leg's PeerConnection exists and
//                     its offer/answer is not made yet (the call channel
//                     adds its data channel there, callchannel.mjs)
//   f.close()         hangupMedia (no Janus hangup request), e2ee.close(),
//                     timers; stops the local tracks unless {keepTracks}
//                     (janus.js is told not to stop them: dontStop)
// Reports: every connectionState change of the forwarded PeerConnection is
// sent as `report` with the selected pair's candidate types and path
// "forward" (MediaCall.reportState).
// Fail closed: if a transform cannot be attached no offer/answer is sent
// (onProblem('ice_failed')), so media never leaves unencrypted. The
// transforms go on right before janus.js calls pc.createOffer/createAnswer
// (guard()): Chromium ignores a transform set later (measured: frames left
// in clear when attached in janus.js' success callback).
import { ConsultClient } from './janus-client.mjs';
import { E2eeSession, e2eeSupport } from './e2ee.mjs';
import { MediaCall, isUp, tamper } from './media.mjs';

const SETUP_MS = 30000;       // forwarded PC not up in this time: give up
const LOST_MS = 20000;        // forwarded PC down this long: lost

export function causeOf(peerCall, kind) {
  const te = peerCall && peerCall.turnErrors;
  if (te && (te.has(401) || te.has(701))) return 'turn_failed';
  return kind === 'timeout' ? 'timeout' : 'ice_failed';
}

export function prepareForwardKey({ client, role }) {
  const prep = { role: role === 'doctor' ? 'doctor' : 'patient', used: false };
  prep.ready = (async () => {
    if (!e2eeSupport() || !globalThis.crypto || !crypto.subtle) return null;
    // the same key pair as E2eeSession.create(): the private key is not extractable
    const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    let bin = '';
    for (const c of raw) bin += String.fromCharCode(c);
    await client.request(tamper({ request: 'signal', type: 'e2ee-key', key: btoa(bin) }));
    return { pair, raw };
  })().catch((e) => {
    console.warn('forwarding key not prepared', e && (e.error || e.name));
    return null;
  });
  return prep;
}

export class Forwarder extends MediaCall {
  constructor({
    client, role, e2ee = true, localStream, remoteVideo, facing = 'user', callLostSeconds,
    onCode = () => {}, onState = () => {}, onProblem = () => {}, onPeerConnection = () => {}, prepared = null,
  }) {
    super({ client, localStream, remoteVideo, facing, onState, onProblem });
    this.pathWord = 'forward';
    this.role = role === 'doctor' ? 'doctor' : 'patient';
    this.e2ee = e2ee !== false;
    this.lostMs = Math.max(5, Number(callLostSeconds) || LOST_MS / 1000) * 1000;
    this.onCode = onCode;
    this.onPeerConnection = onPeerConnection;
    // a prepared key counts once, for the role it was made for
    this.prepared = prepared && !prepared.used && prepared.role === this.role ? prepared : null;
    if (this.prepared) this.prepared.used = true;
    this.session = null;
    this.code = '';
    this.keyed = !this.e2ee;    // peer key applied (or no e2ee)
    this.offered = false;
    this.answered = false;
    this.pendingOffer = null;   // forward_offer jsep before the key (patient)
    this.pendingKey = null;     // e2ee-key before our session exists
    this.chain = Promise.resolve();
    this.hookedPc = null;
    client.setMediaHooks({
      remotetrack: (track, mid, on) => this.remoteTrack(track, on),
      icestate: () => this.stateChanged(),
      webrtcstate: (up) => { if (!up) this.stateChanged(); },
      cleanup: () => this.stateChanged(),
    });
    this.timer('setup', SETUP_MS, () => { if (!this.everConnected) this.setProblem('ice_failed'); });
  }

  get pc() { return this.client.mediaPc || this.hookedPc; }

  /** Requests with a jsep bypass wrappers that drop the second argument. */
  send(body, jsep) {
    if (!jsep) return this.client.request(body);
    return ConsultClient.prototype.request.call(this.client, body, jsep);
  }

  run(fn) {
    this.chain = this.chain.then(() => (this.closed ? null : fn()))
      .catch((e) => { console.warn('forwarding step failed', e && (e.error || e.name || e.message)); this.fail(); });
    return this.chain;
  }

  fail() {
    if (this.closed) return;
    this.setProblem(this.everConnected ? 'connection_lost' : 'ice_failed');
  }

  async start() {
    if (this.e2ee) {
      const keys = this.prepared ? await this.prepared.ready : null;
      if (keys) {
        // key pair made and sent while the peer-to-peer attempt ran
        this.session = new E2eeSession({ role: this.role, mode: e2eeSupport(), pair: keys.pair, raw: keys.raw });
        if (this.closed) { this.session.close(); return; }
      } else {
        this.session = await E2eeSession.create({ role: this.role });
        if (this.closed) { this.session.close(); return; }
        await this.client.request(tamper({ request: 'signal', type: 'e2ee-key', key: this.session.publicKey }));
      }
      if (this.pendingKey) {
        const k = this.pendingKey;
        this.pendingKey = null;
        this.run(() => this.applyKey(k));
      }
    } else if (this.role === 'doctor') {
      this.run(() => this.offer());
    }
  }

  handleSignal(ev) {
    if (this.closed || !ev || ev.type !== 'e2ee-key' || !this.e2ee) return;
    if (!this.session) { this.pendingKey = ev.key; return; }
    this.run(() => this.applyKey(ev.key));
  }

  async applyKey(key) {
    if (this.keyed) return;   // one key per call; a second one is ignored
    const code = await this.session.setPeerKey(key);
    if (this.closed) return;
    this.keyed = true;
    this.code = code;
    try { this.onCode(code); } catch (e) { console.error('onCode failed', e); }
    if (this.role === 'doctor') await this.offer();
    else if (this.pendingOffer) {
      const j = this.pendingOffer;
      this.pendingOffer = null;
      await this.answer(j);
    }
  }

  handleEvent(ev, jsep) {
    if (this.closed || !ev) return;
    if (ev.event === 'forward_offer' && this.role === 'patient') {
      if (!jsep) return;
      if (!this.keyed) { this.pendingOffer = jsep; return; }
      this.run(() => this.answer(jsep));
    } else if (ev.event === 'forward_answer' && this.role === 'doctor') {
      if (!jsep) return;
      this.run(() => this.client.handleRemoteJsep(jsep));
    }
  }

  tracks() {
    const s = this.localStream;
    const a = s ? s.getAudioTracks()[0] : null;
    const v = s ? s.getVideoTracks()[0] : null;
    // dontStop: janus.js' hangup would stop our camera/microphone; this
    // page stops them itself at the end of the call (close()), and keeps
    // them for new legs after a reconnect
    return [
      { type: 'audio', capture: a || false, recv: true, dontStop: true },
      { type: 'video', capture: v || false, recv: true, dontStop: true },
    ];
  }

  /** Transforms on every sender/receiver; throws when they cannot be set. */
  protect(pc) {
    if (!pc) throw new Error('no PeerConnection');
    this.hook(pc);
    if (this.session) this.session.attachPeerConnection(pc);
  }

  hook(pc) {
    if (this.hookedPc === pc) return;
    this.hookedPc = pc;
    pc.addEventListener('connectionstatechange', () => this.stateChanged());
    pc.addEventListener('iceconnectionstatechange', () => this.stateChanged());
  }

  /**
   * janus.js creates the PeerConnection synchronously inside createOffer /
   * createAnswer, then adds the tracks and calls pc.createOffer/createAnswer.
   * Chromium ignores a transform set after that (frames went out in clear,
   * measured), so the transforms go on right before pc.createOffer /
   * pc.createAnswer runs; if that throws, janus.js fails and nothing is sent.
   */
  guard(pc, method) {
    if (!pc) throw new Error('no PeerConnection');
    this.hook(pc);
    try { this.onPeerConnection(pc, this.session); } catch (e) { console.warn('onPeerConnection failed', e && e.name); }
    if (!this.session) return;
    const orig = pc[method].bind(pc);
    pc[method] = (...args) => {
      try { this.protect(pc); } catch (e) { return Promise.reject(e); }
      return orig(...args);
    };
  }

  async offer() {
    if (this.offered || this.closed) return;
    this.offered = true;
    const pending = this.client.createOffer({ tracks: this.tracks() });
    this.guard(this.client.mediaPc, 'createOffer');
    const jsep = await pending;
    if (this.closed) return;
    this.protect(this.client.mediaPc);
    if (this.e2ee) jsep.e2ee = true;
    await this.send({ request: 'forward_offer' }, jsep);
  }

  async answer(offer) {
    if (this.answered || this.closed) return;
    this.answered = true;
    const pending = this.client.createAnswer({ jsep: offer, tracks: this.tracks() });
    this.guard(this.client.mediaPc, 'createAnswer');
    const jsep = await pending;
    if (this.closed) return;
    this.protect(this.client.mediaPc);
    if (this.e2ee) jsep.e2ee = true;
    await this.send({ request: 'forward_answer' }, jsep);
  }

  remoteTrack(track, on) {
    if (this.closed || !this.remoteVideo || !track) return;
    if (!this.remoteStream) this.remoteStream = new MediaStream();
    const s = this.remoteStream;
    if (on) {
      for (const old of s.getTracks()) if (old.kind === track.kind && old !== track) s.removeTrack(old);
      if (!s.getTracks().includes(track)) s.addTrack(track);
    } else if (track.readyState === 'ended' && s.getTracks().includes(track)) {
      s.removeTrack(track);   // janus.js also says "off" on a mere mute: keep those
    }
    this.showRemote(s);
  }

  async stateChanged() {
    if (this.closed) return;
    const pc = this.pc;
    if (!pc) return;
    const ice = pc.iceConnectionState;
    const state = pc.connectionState || ice;
    if (isUp(ice)) {
      this.everConnected = true;
      this.clearTimer('setup');
      this.clearTimer('lost');
      if (this.problem) this.setProblem(null);
    } else if (this.everConnected && (ice === 'failed' || ice === 'disconnected' || ice === 'closed')) {
      if (ice === 'failed' || ice === 'closed') this.setProblem('connection_lost');
      else if (!this.timers.lost) {
        this.timer('lost', this.lostMs, () => { if (!isUp(this.pc && this.pc.iceConnectionState)) this.setProblem('connection_lost'); });
      }
    } else if (!this.everConnected && ice === 'failed') {
      this.setProblem('ice_failed');
    }
    try { this.onState(state); } catch (e) { console.error('onState failed', e); }
    await this.reportState(pc, state);
  }

  videoSender() {
    const pc = this.pc;
    if (!pc) return null;
    const t = pc.getTransceivers().find((x) => x.sender && ((x.sender.track && x.sender.track.kind === 'video')
      || (x.receiver && x.receiver.track && x.receiver.track.kind === 'video')));
    return t ? t.sender : null;
  }

  close(opts) {
    if (!this.closeMedia(opts)) return;
    this.client.setMediaHooks(null);
    this.client.hangupMedia();
    if (this.session) this.session.close();
  }
}
