// e2ee-page.mjs: window.T for tests/browser/e2ee.test.mjs. One
// RTCPeerConnection with fake camera+microphone, VP8 preferred, signaling
// done by the test (non-trickle: SDP after gathering completed).
//   T.init({role, clear:{audio,video}, recv:'right'|'none', send:'encrypt'|'plain',
//           mode, pcConfig}) -> own public key (base64)
//   T.offer() -> sdp ; T.answer(offerSdp) -> sdp ; T.accept(answerSdp)
//   T.setPeerKey(b64) -> verification code from the keys
//   T.fingerprintCode() -> verification code from local+remote SDP
//   T.snap() -> {framesDecoded, framesReceived, videoWidth, codec, audioCodec,
//               audio:{...}, counters, connectionState}
import { E2eeSession, e2eeSupport } from '/html/js/e2ee.mjs';
import { verifyCodeFromSdp } from '/html/js/verify.mjs';

const T = {
  pc: null, session: null, opts: null,
  support: e2eeSupport(),

  async init(opts) {
    this.opts = { recv: 'right', send: 'encrypt', ...opts };
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
    this.pc = new RTCPeerConnection(this.opts.pcConfig || {});
    this.session = await E2eeSession.create({ role: this.opts.role, clear: this.opts.clear, mode: this.opts.mode });
    this.pc.ontrack = (ev) => {
      // Audio and video in one element: Chromium counts received audio
      // samples only for a track that is played out.
      const v = document.getElementById('remote');
      if (!v.srcObject) v.srcObject = new MediaStream();
      v.srcObject.addTrack(ev.track);
      v.play().catch(() => {});
      this.attachRecv(ev.receiver, ev.track.kind);
    };
    return this.session.publicKey;
  },

  addTracks() {
    for (const tr of this.stream.getTracks()) {
      const sender = this.pc.addTrack(tr, this.stream);
      if (this.opts.send === 'encrypt') this.session.attachSender(sender, tr.kind);
    }
    for (const t of this.pc.getTransceivers()) {
      const kind = t.receiver.track.kind;
      if (kind === 'video' && typeof t.setCodecPreferences === 'function' && RTCRtpReceiver.getCapabilities) {
        const cs = RTCRtpReceiver.getCapabilities('video').codecs;
        const vp8 = cs.filter((c) => /vp8/i.test(c.mimeType));
        const rest = cs.filter((c) => !/vp8/i.test(c.mimeType));
        try { t.setCodecPreferences([...vp8, ...rest]); } catch (e) { /* keep default */ }
      }
      this.attachRecv(t.receiver, kind);
    }
  },

  attachRecv(receiver, kind) {
    if (this.opts.recv === 'right') this.session.attachReceiver(receiver, kind);
  },

  // Non-trickle: the description must carry candidates. Waits for
  // gathering to complete; if it does not within 5 s (a browser may never
  // say complete), a description with at least one candidate is enough;
  // without any candidate it waits on, up to 60 s (a busy machine).
  async gathered() {
    const hasCandidate = () => /^a=candidate:/m.test((this.pc.localDescription && this.pc.localDescription.sdp) || '');
    const t0 = Date.now();
    while (this.pc.iceGatheringState !== 'complete') {
      if (Date.now() - t0 > 5000 && hasCandidate()) return;
      if (Date.now() - t0 > 60000) throw new Error(`no ICE candidate gathered (state ${this.pc.iceGatheringState})`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, 250);
        this.pc.addEventListener('icegatheringstatechange', () => { clearTimeout(t); resolve(); }, { once: true });
      });
    }
  },

  async offer() {
    this.addTracks();
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.gathered();
    return this.pc.localDescription.sdp;
  },

  async answer(sdp) {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    this.addTracks();
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.gathered();
    return this.pc.localDescription.sdp;
  },

  async accept(sdp) {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
  },

  async setPeerKey(b64) {
    return this.session.setPeerKey(b64);
  },

  fingerprintCode() {
    return verifyCodeFromSdp(this.pc.localDescription.sdp, this.pc.remoteDescription.sdp);
  },

  async snap() {
    const stats = await this.pc.getStats();
    const out = { framesDecoded: 0, framesReceived: 0, codec: '', audioCodec: '', audio: null, connectionState: this.pc.connectionState };
    const codecs = new Map();
    stats.forEach((s) => { if (s.type === 'codec') codecs.set(s.id, s.mimeType); });
    stats.forEach((s) => {
      const kind = s.kind || s.mediaType;
      if (s.type === 'inbound-rtp' && kind === 'video') {
        out.framesDecoded += s.framesDecoded || 0;
        out.framesReceived += s.framesReceived || 0;
        out.codec = codecs.get(s.codecId) || out.codec;
      }
      if (s.type === 'inbound-rtp' && kind === 'audio') {
        out.audioCodec = codecs.get(s.codecId) || out.audioCodec;
        out.audio = {
          packetsReceived: s.packetsReceived || 0,
          totalSamplesReceived: s.totalSamplesReceived || 0,
          concealedSamples: s.concealedSamples || 0,
          totalAudioEnergy: s.totalAudioEnergy || 0,
          audioLevel: s.audioLevel || 0,
        };
      }
    });
    out.videoWidth = document.getElementById('remote').videoWidth;
    out.counters = await this.session.refreshCounters();
    return out;
  },

  close() {
    try { this.pc.close(); } catch (e) { /* gone */ }
    for (const tr of this.stream ? this.stream.getTracks() : []) tr.stop();
    if (this.session) this.session.close();
  },
};

window.T = T;
window.TReady = true;
