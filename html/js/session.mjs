// session.mjs: one call of a page, P2P or forwarded, shared by doctor.mjs
// and patient.mjs (docs/pages.md, "During a call" and "Forwarding mode").
// The session owns the active call object (rtc.mjs PeerCall, later perhaps
// forward.mjs Forwarder), the signals that arrive before it exists, the
// switch from P2P to forwarding, the verification code, mute/camera and the
// connection status; the pages keep their own states, texts and requests.
// Contract:
//   const s = new CallSession({role: 'doctor'|'patient', consult, info,
//       onStatus(word), onLost(), onNoPath(), onStartError(e)})
//     consult: window.consult; the session sets .mode ('p2p'|'forward') and
//       .verifyCode and defines the getters .pc (the active RTCPeerConnection
//       or null) and .e2ee (the E2eeSession or null).
//     info: callinfo.mjs callInfo() (#path, #verify, #call-error).
//     onStatus(word): the status line changed; word 'forwarding' |
//       'recovering' | 'failed' | 'connected' | another connectionState
//       ('new', 'connecting', 'disconnected', 'closed').
//     doctor only: onLost() the call is lost (connection_lost, or the
//       forwarded call failed): the page hangs up; onNoPath() forwarding was
//       refused; onStartError(e) the offer could not be sent.
//   s.setStream(stream)  the new call's camera/microphone: #local-video,
//                        mute and camera off again
//   s.startP2P({client, opts, facing})  a PeerCall; opts = rtc.mjs
//       iceOptions() of ringing / call_accepted. The doctor offers; ICE
//       failed before it ever connected, or the PeerCall's evidence that no
//       path can come up (rtc.mjs noPathVerdict) -> the request `forward`
//       at once (cause ice_failed / turn_failed); P2P not connected within
//       opts.p2pTimeoutSeconds after the offer (forward "allowed") is the
//       last resort (cause timeout).
//       The patient holds a final P2P error of a call that never connected
//       back for FORWARD_GRACE_MS when forward is "allowed": the doctor's
//       page may still switch; the `forward` event cancels it.
//   s.prepareP2P(opts)   patient, at the ringing: the call's RTCPeerConnection
//                        made ahead with the ringing's ICE servers (rtc.mjs
//                        prepareConnection; not made in the tap); startP2P
//                        with the same configuration takes it, another one
//                        closes it
//   s.prepareOffer(opts) doctor, when its `call` succeeded (opts: iceOptions
//                        of the reply): the call's connection made ahead
//                        with the tracks of setStream(), the call channel's
//                        data channel and the offer set (rtc.mjs
//                        prepareOffer), so ICE gathering and the TURN
//                        allocation run while it rings; nothing is sent.
//                        startP2P with the same configuration sends that
//                        offer at once; another configuration closes it
//                        and makes a fresh one. The P2P timeout, the setup
//                        timer and the no-path evidence count from
//                        startP2P (the accept); icecandidateerror events of
//                        the ringing count as seen then.
//   s.dropPrepared()     closes it (the ring ended without the call; also
//                        by close()): the TURN allocation is released
//   s.signal(ev)         a `signal` event: to the call, or kept until it
//                        exists (e2ee-key until the Forwarder exists)
//   s.clearSignals()     forget kept signals (a new ring / call)
//   s.forward(client, e2ee)  closes the P2P connection (tracks stay) and
//                        starts a Forwarder (with the E2EE key the PeerCall
//                        prepared and sent meanwhile, rtc.mjs forwardPrep);
//                        false if there is no P2P call
//   s.forwardEvent(ev, jsep)  forward_offer / forward_answer to the Forwarder
//   s.toggleMute() / s.toggleCamera() / await s.switchCamera() -> facing
//   s.render()           #mute / #camera (fixed labels "Mikrofon aus" /
//                        "Kamera aus", aria-pressed true while so) and the
//                        status (language)
//   s.close()            ends the call, stops the local tracks, clears
//                        #local-video, #remote-video, #path and #verify
//   s.active, s.problem (null | 'recovering' | final error), s.muted, s.cameraOff
//   s.channel            the call channel (callchannel.mjs; also
//                        consult.channel): begun with each call, attached to
//                        the P2P connection before its offer/answer and to
//                        each forwarded leg, detached when a transport goes,
//                        ended by close()
// Signalling lost and back (docs/pages.md, "Reconnect and re-attach"):
//   s.suspend()          the page's connection to the server dropped: a P2P
//                        call goes on untouched; a forwarded call's legs
//                        through Janus are gone: the Forwarder is closed
//                        (tracks kept) and the session waits to forward anew
//   s.reattach(client, opts)  the call was re-attached on a new connection:
//                        signals, reports, ICE restarts and hangup use it;
//                        opts (iceOptions of the reply) refresh TURN servers
//   s.needsForward       a forwarded call waits for new legs
//   s.reforward(cause)   doctor: asks `forward` again (cause
//                        'server_restart'), retried on wrong_state (the
//                        patient may not be back yet) with the reconnect
//                        backoff for REFORWARD_MS; then new legs and new
//                        e2ee keys in the same visit; gives up with onLost()
//   Forwarded legs that break while the page's own signalling stays up (the
//   other side's connection dropped, Janus closed the legs) are set up again
//   the same way (the doctor's page reforwards, the patient's waits for the
//   `forward` event), up to MAX_REFORWARDS times per call, instead of
//   ending at once.
// Honest state: every FLOW_SAMPLE_MS one getStats() of the active
// PeerConnection; inbound-rtp packetsReceived + framesDecoded must grow.
// ICE up but no growth for STALL_MS -> status word 'stalled' instead of
// 'connected' (and 'connecting' before the first packet, for STALL_MS);
// consult.mediaFlowing is true while they grow.
import { t } from './i18n.mjs';
import { PeerCall, iceOptions, prepareConnection, prepareOffer } from './rtc.mjs';
import { Forwarder, causeOf } from './forward.mjs';
import { isUp, stopStream } from './media.mjs';
import { reconnectDelay } from './backoff.mjs';
import { CallChannel, p2pDataChannel } from './callchannel.mjs';

export const FORWARD_GRACE_MS = 20000;
export const FLOW_SAMPLE_MS = 1000;
export const STALL_MS = 3000;
export const REFORWARD_MS = 30000;
export const MAX_REFORWARDS = 3;     // per call: broken forwarded legs set up again

const $ = (id) => document.getElementById(id);

export class CallSession {
  constructor({ role, consult, info, onStatus = () => {}, onLost = () => {}, onNoPath = () => {}, onStartError = () => {} }) {
    this.offerer = role === 'doctor';
    this.role = this.offerer ? 'doctor' : 'patient';
    this.consult = consult;
    this.info = info;
    this.hooks = { onStatus, onLost, onNoPath, onStartError };
    this.call = null;
    this.client = null;
    this.opts = iceOptions(null);
    this.localStream = null;
    this.pendingSignals = [];
    this.pendingKeys = [];      // e2ee-key signals before the Forwarder exists
    this.forwardState = '';     // '' | 'asking' | 'on' | 'refused' | 'unavailable'
    this.connState = 'new';
    this.problem = null;
    this.muted = false;
    this.cameraOff = false;
    this.timer = null;          // doctor: P2P timeout; patient: held-back error
    this.prepared = null;       // rtc.mjs prepareConnection() of the ringing
    this.needsForward = false;  // forwarded call whose legs died with the signalling
    this.reforwarding = null;   // the running reforward loop's call
    this.reforwards = 0;        // legs set up again after they broke, this call
    this.flowTimer = null;
    this.flow = { pc: null, total: 0, at: 0, upAt: 0, busy: false };
    consult.mode = 'p2p';
    consult.verifyCode = '';
    consult.mediaFlowing = false;
    this.channel = new CallChannel({ role: this.role });
    consult.channel = this.channel;
    const self = this;
    Object.defineProperties(consult, {
      pc: { get() { return (self.call && self.call.pc) || null; }, enumerable: true, configurable: true },
      e2ee: { get() { return (self.call && self.call.session) || null; }, enumerable: true, configurable: true },
    });
  }

  get active() { return this.call; }

  // ---- view ------------------------------------------------------------------
  render() {
    // toggle buttons (WAI-ARIA): a fixed label, the state in aria-pressed
    $('mute').textContent = t('common.mute');
    $('camera').textContent = t('common.camera.off');
    $('mute').setAttribute('aria-pressed', String(this.muted));
    $('camera').setAttribute('aria-pressed', String(this.cameraOff));
    this.renderStatus();
  }

  renderStatus() {
    $('call').dataset.problem = this.problem || '';
    const c = this.call;
    if (!c) return;
    let s = this.connState;
    // ICE is back a moment before connectionState follows: no "disturbed" blip
    if (!this.problem && s === 'disconnected' && c.pc && isUp(c.pc.iceConnectionState)) s = 'connected';
    let word = s;
    if (this.forwardState === 'asking' || this.needsForward || (c instanceof Forwarder && !this.problem && s !== 'connected')) word = 'forwarding';
    else if (this.problem === 'recovering') word = 'recovering';
    else if (this.problem) word = 'failed';
    else if (word === 'connected' && !this.consult.mediaFlowing) {
      // ICE is up, but say "connected" only while media arrives
      const f = this.flow;
      word = !f.at && (!f.upAt || Date.now() - f.upAt < STALL_MS) ? 'connecting' : 'stalled';
    }
    this.hooks.onStatus(word);
  }

  setCode(code, which) {
    if (which !== this.call) return;
    this.consult.verifyCode = code || '';
    this.info.setCode(this.consult.verifyCode);
  }

  /** Both kinds of call start with no code, no error and a fresh status. */
  fresh(mode) {
    this.connState = 'new';
    this.problem = null;
    this.info.setError(null);
    this.consult.mode = mode;
    this.consult.verifyCode = '';
    this.info.setCode('');
    this.flow = { pc: null, total: 0, at: 0, upAt: 0, busy: false };
    this.consult.mediaFlowing = false;
  }

  // ---- local media -----------------------------------------------------------
  setStream(stream) {
    this.localStream = stream;
    this.muted = false;
    this.cameraOff = false;
    $('local-video').srcObject = stream;
    this.render();
  }

  toggleMute() {
    this.muted = !this.muted;
    if (this.call) this.call.setMuted(this.muted);
    else if (this.localStream) this.localStream.getAudioTracks().forEach((tr) => { tr.enabled = !this.muted; });
    this.render();
  }

  toggleCamera() {
    this.cameraOff = !this.cameraOff;
    if (this.call) this.call.setCameraOff(this.cameraOff);
    else if (this.localStream) this.localStream.getVideoTracks().forEach((tr) => { tr.enabled = !this.cameraOff; });
    this.render();
  }

  async switchCamera() {
    if (!this.call) return null;
    const facing = await this.call.switchCamera();
    const v = $('local-video');
    v.srcObject = null;
    v.srcObject = this.call.localStream;
    return facing;
  }

  // ---- signals ---------------------------------------------------------------
  signal(ev) {
    if (ev.type === 'e2ee-key' && !(this.call instanceof Forwarder && !this.call.closed)) this.pendingKeys.push(ev);
    else if (this.call) this.call.handleSignal(ev);
    else this.pendingSignals.push(ev);
  }

  clearSignals() { this.pendingSignals = []; }

  takeSignals() {
    const q = this.pendingSignals;
    this.pendingSignals = [];
    return q;
  }

  forwardEvent(ev, jsep) {
    if (this.call instanceof Forwarder) this.call.handleEvent(ev, jsep);
  }

  // ---- P2P -------------------------------------------------------------------
  prepareP2P(opts) {
    this.dropPrepared();
    try {
      this.prepared = prepareConnection(opts || iceOptions(null));
    } catch (e) {
      this.prepared = null;      // made at the accept instead
    }
  }

  prepareOffer(opts) {
    this.dropPrepared();
    try {
      this.prepared = prepareOffer(opts || iceOptions(null), this.localStream, p2pDataChannel);
    } catch (e) {
      this.prepared = null;      // made at the accept instead
    }
  }

  dropPrepared() {
    if (this.prepared) this.prepared.close();
    this.prepared = null;
  }

  startP2P({ client, opts, facing = 'user' }) {
    this.client = client;
    this.reforwards = 0;
    this.opts = opts || iceOptions(null);
    this.forwardState = '';
    this.pendingKeys = [];
    this.fresh('p2p');
    this.info.setPath('');
    const pc = new PeerCall({
      client, ...this.opts, localStream: this.localStream, remoteVideo: $('remote-video'),
      offerer: this.offerer, facing, prepared: this.prepared,
      onState: (st) => this.stateOf(st, pc),
      onPath: (p) => { if (this.call === pc) this.info.setPath(p); },
      onProblem: (kind) => this.problemOf(kind, pc),
      onVerify: (code) => this.setCode(code, pc),
    });
    this.prepared = null;        // taken (or closed) by the PeerCall
    this.call = pc;
    this.channel.begin();
    this.channel.attachP2P(pc.pc, pc.dc);   // before the offer / answer (made with an offer made ahead)
    pc.setMuted(this.muted);
    pc.setCameraOff(this.cameraOff);
    this.watchFlow();
    this.renderStatus();
    if (!this.offerer) {
      for (const ev of this.takeSignals()) pc.handleSignal(ev);
      return pc;
    }
    const queued = this.takeSignals();
    pc.start().then(() => {
      for (const ev of queued) if (this.call === pc) pc.handleSignal(ev);
      // P2P not connected within p2p_timeout_seconds after the offer: forward
      if (this.call === pc && this.opts.forward === 'allowed') {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          if (this.call === pc && !pc.everConnected && !isUp(pc.pc.iceConnectionState)) this.askForward(causeOf(pc, 'timeout'));
        }, this.opts.p2pTimeoutSeconds * 1000);
      }
    }).catch((e) => this.hooks.onStartError(e));
    return pc;
  }

  stateOf(st, which) {
    if (which !== this.call) return;
    this.connState = st;
    this.renderStatus();
  }

  problemOf(kind, which) {
    if (which !== this.call) return;
    clearTimeout(this.timer);
    const neverUp = which instanceof PeerCall && !which.everConnected && (kind === 'ice_failed' || kind === 'turn_auth');
    if (neverUp && this.offerer) {
      // P2P never came up: try the practice server before showing an error
      if (this.forwardState === 'asking') return;
      if (!this.forwardState) { this.askForward(causeOf(which, 'ice_failed')); return; }
    } else if (neverUp && this.opts.forward === 'allowed') {
      // the doctor's page may still rescue the call by forwarding
      if (!which.heldUntil) which.heldUntil = Date.now() + FORWARD_GRACE_MS;
      const left = which.heldUntil - Date.now();
      if (left > 0) {
        this.timer = setTimeout(() => { if (this.call === which) this.problemOf(kind, which); }, left);
        return;
      }
    }
    if (which instanceof Forwarder && which.everConnected && (kind === 'connection_lost' || kind === 'ice_failed')
        && this.reforwards < MAX_REFORWARDS) {
      // the forwarded legs broke (e.g. the other side's connection to the
      // server dropped and Janus closed the legs): the doctor's page asks
      // for new legs once both are back, instead of hanging up; the
      // patient's page waits for the `forward` event (or the call's end)
      this.reforwards += 1;
      which.close({ keepTracks: true });
      this.channel.detach();
      this.needsForward = true;
      this.connState = 'new';
      this.renderStatus();
      if (this.offerer) this.reforward('server_restart');
      return;
    }
    this.problem = kind;
    // errors stay on screen; 'recovering' and null only change the status line
    if (kind && kind !== 'recovering') this.info.setError(kind);
    else if (!kind && this.info.error) this.info.setError(null);
    this.renderStatus();
    if (this.offerer && (kind === 'connection_lost' || (kind === 'ice_failed' && which instanceof Forwarder))) this.hooks.onLost();
  }

  // ---- forwarding ------------------------------------------------------------
  /** Doctor: asks the plugin to forward the call. */
  async askForward(cause) {
    const pc = this.call;
    if (this.forwardState || !(pc instanceof PeerCall) || !this.client) return;
    this.forwardState = 'asking';
    clearTimeout(this.timer);
    this.renderStatus();
    let r;
    try {
      r = await this.client.request({ request: 'forward', cause });
    } catch (e) {
      if (this.call !== pc) return;
      if (e.error === 'forward_refused') { this.forwardState = 'refused'; this.hooks.onNoPath(); return; }
      // the call is over meanwhile, or the plugin cannot forward it now: P2P's own verdict stands
      this.forwardState = 'unavailable';
      const kind = pc.problem && pc.problem !== 'recovering' ? pc.problem : null;
      if (kind) this.problemOf(kind, pc); else this.renderStatus();
      return;
    }
    if (this.call !== pc) return;
    this.forward(this.client, r.e2ee !== false);
  }

  forward(client, e2ee) {
    const old = this.call;
    if (!old) return false;
    clearTimeout(this.timer);
    old.close({ keepTracks: true });   // P2P, or the forwarded legs of before a reconnect
    this.channel.detach();
    this.client = client;
    this.needsForward = false;
    this.forwardState = 'on';
    this.fresh('forward');
    this.info.setPath('forward', { e2ee });
    const f = new Forwarder({
      client, role: this.role, e2ee, localStream: old.localStream, remoteVideo: $('remote-video'),
      facing: old.facing, callLostSeconds: this.opts.callLostSeconds, prepared: old.forwardPrep || null,
      onCode: (code) => this.setCode(code, f),
      onState: (st) => this.stateOf(st, f),
      onProblem: (kind) => this.problemOf(kind, f),
      onPeerConnection: (p, e2ee) => { if (this.call === f) this.channel.attachForward(p, e2ee); },
    });
    this.call = f;
    f.setMuted(this.muted);
    f.setCameraOff(this.cameraOff);
    this.watchFlow();
    const keys = this.pendingKeys;
    this.pendingKeys = [];
    this.renderStatus();
    for (const k of keys) f.handleSignal(k);   // kept by the Forwarder until its own key exists
    f.start().catch((e) => {
      console.warn('forwarding failed', e && (e.error || e.message));
      this.problemOf('ice_failed', f);
    });
    return true;
  }

  // ---- honest state: does media arrive? ------------------------------------------
  watchFlow() {
    if (!this.flowTimer) this.flowTimer = setInterval(() => this.sampleFlow(), FLOW_SAMPLE_MS);
  }

  setFlowing(on) {
    if (this.consult.mediaFlowing === on) return;
    this.consult.mediaFlowing = on;
    this.renderStatus();
  }

  async sampleFlow() {
    const c = this.call;
    const pc = c && !c.closed ? c.pc : null;
    const f = this.flow;
    if (!pc) { f.pc = null; this.setFlowing(false); return; }
    if (f.busy) return;
    f.busy = true;
    let total = 0;
    try {
      const stats = await pc.getStats();
      stats.forEach((r) => {
        if (r.type === 'inbound-rtp') total += (Number(r.packetsReceived) || 0) + (Number(r.framesDecoded) || 0);
      });
    } catch (e) {
      return;                    // closed meanwhile
    } finally {
      f.busy = false;
    }
    if (this.call !== c || c.closed) return;
    const now = Date.now();
    if (f.pc !== pc) Object.assign(f, { pc, total, at: 0, upAt: 0, stalled: false });
    const up = isUp(pc.iceConnectionState);
    if (!up) f.upAt = 0;
    else if (!f.upAt) f.upAt = now;
    if (total > f.total) { f.total = total; f.at = now; }
    const flowing = f.at > 0 && now - f.at < STALL_MS;
    // 'connecting' turns 'stalled': re-render once, not every second (aria-live)
    const stalled = up && !flowing && (f.at > 0 || now - f.upAt >= STALL_MS);
    if (flowing !== this.consult.mediaFlowing) { f.stalled = stalled; this.setFlowing(flowing); } else if (stalled !== f.stalled) {
      f.stalled = stalled;
      this.renderStatus();
    }
  }

  // ---- signalling lost and back --------------------------------------------------
  suspend() {
    const c = this.call;
    if (!c) return;
    clearTimeout(this.timer);
    if (c instanceof Forwarder && !c.closed) {
      // the legs through Janus died with it; the tracks stay for the new ones
      c.close({ keepTracks: true });
      this.channel.detach();
      this.needsForward = true;
      this.forwardState = 'on';
      this.connState = 'new';
      this.renderStatus();
    } else if (this.forwardState === 'asking') {
      this.forwardState = '';     // the question died with the connection: ask again
    }
  }

  reattach(client, opts) {
    this.client = client;
    if (opts) this.opts = { ...this.opts, iceServers: opts.iceServers, iceTransportPolicy: opts.iceTransportPolicy };
    const c = this.call;
    if (c instanceof PeerCall && !c.closed) {
      c.setClient(client);
      // P2P never came up while we were away: let the doctor's page decide again
      if (this.offerer && !c.everConnected && !this.forwardState && !isUp(c.pc.iceConnectionState)) {
        this.askForward(causeOf(c, 'timeout'));
      }
    }
    this.renderStatus();
  }

  async reforward(cause = 'server_restart') {
    const old = this.call;
    if (!this.offerer || !this.needsForward || !old || this.reforwarding === old) return;
    this.reforwarding = old;
    const until = Date.now() + REFORWARD_MS;
    try {
      for (let i = 0; this.call === old && this.needsForward; i++) {
        const client = this.client;
        try {
          const r = await client.request({ request: 'forward', cause });
          if (this.call !== old || client !== this.client) continue;
          this.forward(client, r.e2ee !== false);
          return;
        } catch (e) {
          if (this.call !== old) return;
          console.warn('forward after the reconnect: not yet', e && e.error);
          if (e.error === 'forward_refused') { this.hooks.onNoPath(); return; }
          // wrong_state: the patient is not back yet; disconnected: wait for the next re-attach
          if (e.error === 'disconnected' || e.error === 'transport') return;
          if (Date.now() >= until) { this.info.setError('connection_lost'); this.hooks.onLost(); return; }
        }
        await new Promise((res) => setTimeout(res, reconnectDelay(i)));
      }
    } finally {
      if (this.reforwarding === old) this.reforwarding = null;
    }
  }

  // ---- end -------------------------------------------------------------------
  close() {
    this.dropPrepared();
    clearTimeout(this.timer);
    clearInterval(this.flowTimer);
    this.flowTimer = null;
    this.flow = { pc: null, total: 0, at: 0, upAt: 0, busy: false };
    this.consult.mediaFlowing = false;
    this.needsForward = false;
    this.reforwarding = null;
    if (this.call) this.call.close();
    this.call = null;
    this.channel.end();
    this.forwardState = '';
    this.pendingSignals = [];
    this.pendingKeys = [];
    this.consult.mode = 'p2p';
    this.consult.verifyCode = '';
    this.info.setCode('');
    stopStream(this.localStream);
    this.localStream = null;
    $('local-video').srcObject = null;
    $('remote-video').srcObject = null;
    this.info.setPath('');
    this.problem = null;
    $('call').dataset.problem = '';
  }
}
