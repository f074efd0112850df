// rtc.mjs: peer connection helpers shared by patient.mjs and doctor.mjs.
// Contract:
//   getLocalMedia(facing) -> MediaStream (audio + video, facingMode facing)
//   new PeerCall({client, iceServers, localStream, remoteVideo, offerer, onState})
//     .pc            the RTCPeerConnection (tests read window.consult.pc)
//     .start()       offerer only: createOffer + send `signal` offer
//     .handleSignal(ev)  apply a `signal` event (offer/answer/candidate/
//                    end-of-candidates); remote candidates that arrive before
//                    the remote description are queued and applied after it
//     .switchCamera() stop the old video track, open the other facing camera,
//                    replaceTrack on the sender (returns the new facing mode)
//     .setMuted(b) / .setCameraOff(b)
//     .close()       close pc, stop local tracks
// Local candidates are sent with `signal` (type candidate, then
// end-of-candidates) only after our own description went out. Every
// connectionState change is sent with `report`, with the selected candidate
// pair's local/remote candidateType once known (getStats:
// transport.selectedCandidatePairId -> candidate-pair -> candidates).
// Signaling never uses jsep: everything travels in the request body.

export async function getLocalMedia(facing = 'user') {
  return navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { facingMode: facing, width: { ideal: 1280 }, height: { ideal: 720 } },
  });
}

export function stopStream(stream) {
  if (!stream) return;
  for (const tr of stream.getTracks()) { try { tr.stop(); } catch (e) { /* ignore */ } }
}

/** {local, remote} candidateType of the selected pair, or null. */
export async function selectedPairTypes(pc) {
  if (!pc) return null;
  const stats = await pc.getStats();
  let pair = null;
  stats.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId && !pair) pair = stats.get(s.selectedCandidatePairId) || null;
  });
  if (!pair) {
    stats.forEach((s) => {
      if (!pair && s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded'))) pair = s;
    });
  }
  if (!pair) return null;
  const l = stats.get(pair.localCandidateId);
  const r = stats.get(pair.remoteCandidateId);
  if (!l || !r) return null;
  return { local: l.candidateType, remote: r.candidateType };
}

const WORD = /^[a-z-]{1,32}$/;

export class PeerCall {
  constructor({ client, iceServers, localStream, remoteVideo, offerer = false, onState = () => {}, facing = 'user' }) {
    this.client = client;
    this.localStream = localStream;
    this.remoteVideo = remoteVideo;
    this.offerer = offerer;
    this.onState = onState;
    this.facing = facing;
    this.closed = false;
    this.remoteQueue = [];        // remote candidates before remoteDescription
    this.localQueue = [];         // our candidates before our description is sent
    this.descSent = false;
    this.restarts = 0;
    this.lastReportKey = '';
    this.pc = new RTCPeerConnection({ iceServers: Array.isArray(iceServers) ? iceServers : [] });
    for (const track of localStream ? localStream.getTracks() : []) this.pc.addTrack(track, localStream);

    this.pc.onicecandidate = (e) => {
      if (this.closed) return;
      const msg = e.candidate
        ? { request: 'signal', type: 'candidate', candidate: candidateBody(e.candidate) }
        : { request: 'signal', type: 'end-of-candidates' };
      if (this.descSent) this.sendSignal(msg); else this.localQueue.push(msg);
    };
    this.pc.ontrack = (e) => {
      if (!this.remoteVideo) return;
      const stream = (e.streams && e.streams[0]) || this.remoteStream || new MediaStream();
      if (!e.streams || !e.streams[0]) stream.addTrack(e.track);
      this.remoteStream = stream;
      if (this.remoteVideo.srcObject !== stream) this.remoteVideo.srcObject = stream;
      const p = this.remoteVideo.play();
      if (p && p.catch) p.catch(() => {});
    };
    this.pc.onconnectionstatechange = () => this.stateChanged();
    this.pc.oniceconnectionstatechange = () => {
      if (this.closed) return;
      // ICE restart (e.g. Wi-Fi -> mobile data): only the offerer restarts.
      if (this.offerer && this.pc.iceConnectionState === 'failed' && this.restarts < 3) {
        this.restarts += 1;
        this.start({ iceRestart: true }).catch(() => {});
      }
    };
  }

  sendSignal(msg) {
    return this.client.request(msg).catch((e) => { console.warn('signal failed', e.error || e); });
  }

  flushLocal() {
    this.descSent = true;
    const q = this.localQueue;
    this.localQueue = [];
    for (const m of q) this.sendSignal(m);
  }

  async start(options) {
    const offer = await this.pc.createOffer(options);
    await this.pc.setLocalDescription(offer);
    await this.client.request({ request: 'signal', type: 'offer', sdp: this.pc.localDescription.sdp });
    this.flushLocal();
  }

  /** Applies signal events strictly in arrival order. */
  handleSignal(ev) {
    this.chain = (this.chain || Promise.resolve())
      .then(() => this.applySignal(ev))
      .catch((e) => console.warn('signal handling failed', e && e.name));
    return this.chain;
  }

  async applySignal(ev) {
    if (this.closed || !ev) return;
    switch (ev.type) {
      case 'offer': {
        await this.pc.setRemoteDescription({ type: 'offer', sdp: ev.sdp });
        await this.flushRemote();
        const answer = await this.pc.createAnswer();
        await this.pc.setLocalDescription(answer);
        await this.client.request({ request: 'signal', type: 'answer', sdp: this.pc.localDescription.sdp });
        this.flushLocal();
        break;
      }
      case 'answer':
        await this.pc.setRemoteDescription({ type: 'answer', sdp: ev.sdp });
        await this.flushRemote();
        break;
      case 'candidate':
      case 'end-of-candidates': {
        const c = ev.type === 'candidate' ? ev.candidate : null;
        if (!this.pc.remoteDescription) this.remoteQueue.push(c);
        else await this.addRemoteCandidate(c);
        break;
      }
      default:
        break;
    }
  }

  async flushRemote() {
    const q = this.remoteQueue;
    this.remoteQueue = [];
    for (const c of q) await this.addRemoteCandidate(c);
  }

  async addRemoteCandidate(c) {
    try {
      if (c && c.candidate) await this.pc.addIceCandidate(c);
      else if (!c) await this.pc.addIceCandidate();   // end of candidates
      // a candidate with an empty string is an end-of-generation marker: skip
    } catch (e) {
      console.warn('addIceCandidate failed', e && e.name);
    }
  }

  async stateChanged() {
    if (this.closed) return;
    const state = this.pc.connectionState;
    this.onState(state);
    const body = { request: 'report', connection_state: state };
    if (state === 'connected') {
      let types = null;
      for (let i = 0; i < 5 && !types && !this.closed; i += 1) {
        try { types = await selectedPairTypes(this.pc); } catch (e) { types = null; }
        if (!types) await new Promise((r) => setTimeout(r, 200));
      }
      if (types && WORD.test(types.local || '') && WORD.test(types.remote || '')) {
        body.local_candidate_type = types.local;
        body.remote_candidate_type = types.remote;
      }
      this.types = types;
    }
    if (this.closed || !WORD.test(state)) return;
    const key = JSON.stringify(body);
    if (key === this.lastReportKey) return;
    this.lastReportKey = key;
    this.client.request(body).catch(() => { /* not in a call any more */ });
  }

  videoSender() {
    return this.pc.getSenders().find((s) => s.track && s.track.kind === 'video')
      || this.pc.getSenders().find((s) => s.track === null && this.videoSenderRef === s)
      || this.videoSenderRef || null;
  }

  async switchCamera() {
    const next = this.facing === 'user' ? 'environment' : 'user';
    const sender = this.videoSender();
    this.videoSenderRef = sender;
    const old = this.localStream.getVideoTracks()[0];
    const wasEnabled = old ? old.enabled : true;
    // iOS and many Android phones cannot open two cameras at once.
    if (old) { old.stop(); this.localStream.removeTrack(old); }
    let track;
    try {
      const s = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { exact: next } } });
      track = s.getVideoTracks()[0];
      this.facing = next;
    } catch (e) {
      try {
        const s = await navigator.mediaDevices.getUserMedia({ video: { facingMode: next } });
        track = s.getVideoTracks()[0];
        this.facing = next;
      } catch (e2) {
        const s = await navigator.mediaDevices.getUserMedia({ video: { facingMode: this.facing } });
        track = s.getVideoTracks()[0];
      }
    }
    track.enabled = wasEnabled;
    this.localStream.addTrack(track);
    if (sender) await sender.replaceTrack(track);
    return this.facing;
  }

  setMuted(muted) {
    for (const tr of this.localStream ? this.localStream.getAudioTracks() : []) tr.enabled = !muted;
  }

  setCameraOff(off) {
    for (const tr of this.localStream ? this.localStream.getVideoTracks() : []) tr.enabled = !off;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    try { this.pc.close(); } catch (e) { /* ignore */ }
    stopStream(this.localStream);
    if (this.remoteVideo) this.remoteVideo.srcObject = null;
  }
}

function candidateBody(c) {
  const body = { candidate: c.candidate || '' };
  if (typeof c.sdpMid === 'string') body.sdpMid = c.sdpMid;
  if (typeof c.sdpMLineIndex === 'number') body.sdpMLineIndex = c.sdpMLineIndex;
  return body;
}
