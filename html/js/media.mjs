// media.mjs: what both kinds of call share - the P2P PeerCall (rtc.mjs) and
// the forwarded call (forward.mjs) - and the small media helpers of the pages.
// Contract:
//   tamper(body)       TEST ONLY: if window.consultTestTamper is a function it
//                      is called with an outgoing `signal` body (offer, answer,
//                      e2ee-key) and may change it in place or return a
//                      replacement; without it the body goes out unchanged.
//   stopStream(s)      stops every track of s (null is fine)
//   selectedPairTypes(pc) -> {local, remote} candidateType of the selected
//                      pair, or null
//   pathOf(types)      'relay' if either side is relayed, 'direct', or ''
//   isUp(iceState)     connected or completed
//   switchCameraTrack(stream, sender, facing) -> the facing mode now in use
//                      (also told to camerastate.mjs noteCamera: the torch
//                      and the photo flow follow the camera in use); to the
//                      rear, the rear camera used before in this page first
//                      (camerastate.mjs rearCameraConstraints)
//   class MediaCall    base of PeerCall and Forwarder:
//     named timers (timer(name, ms, fn) / clearTimer(name); none fires after
//     close), setProblem(kind) -> onProblem once per change, setMuted(b) /
//     setCameraOff(b) on the local tracks, switchCamera() through the
//     subclass' videoSender(), showRemote(stream) into the remote <video>
//     (a play() the browser refuses fires 'consult-play-blocked' on it),
//     reportState(pc, state) -> `report` {connection_state, path: this.pathWord,
//     local/remote_candidate_type once connected}, sent only when it changed,
//     one after the other (client.requestInTurn: the newest is kept last);
//     closeMedia({keepTracks}) ends timers, tracks and the remote video;
//     setClient(c) the signalling connection of the page changed (re-attach
//     after a reconnect): later signals, reports and ICE restarts use c.

import { noteCamera, rearCameraConstraints } from './camerastate.mjs';

export const WORD = /^[a-z-]{1,32}$/;

export const isUp = (s) => s === 'connected' || s === 'completed';

export function tamper(body) {
  const fn = typeof window !== 'undefined' ? window.consultTestTamper : undefined;
  if (typeof fn !== 'function') return body;
  try {
    const r = fn(body);
    return r && typeof r === 'object' ? r : body;
  } catch (e) {
    return body;
  }
}

export function stopStream(stream) {
  if (!stream) return;
  for (const tr of stream.getTracks()) { try { tr.stop(); } catch (e) { /* ignore */ } }
}

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

export function pathOf(types) {
  if (!types || !types.local || !types.remote) return '';
  return types.local === 'relay' || types.remote === 'relay' ? 'relay' : 'direct';
}

/**
 * Stops the stream's video track, opens the other facing camera (iOS and
 * many Android phones cannot open two at once), puts the new track into the
 * stream and on the sender (replaceTrack keeps a sender's transform).
 */
export async function switchCameraTrack(localStream, sender, facing) {
  const next = facing === 'user' ? 'environment' : 'user';
  const old = localStream.getVideoTracks()[0];
  const wasEnabled = old ? old.enabled : true;
  if (old) { old.stop(); localStream.removeTrack(old); }
  let track;
  let now = facing;
  try {
    // the rear camera the patient used before (phones with several: the same one)
    const s = await navigator.mediaDevices.getUserMedia({ video: next === 'environment' ? rearCameraConstraints() : { facingMode: { exact: next } } });
    track = s.getVideoTracks()[0];
    now = next;
  } catch (e) {
    try {
      const s = await navigator.mediaDevices.getUserMedia({ video: { facingMode: next } });
      track = s.getVideoTracks()[0];
      now = next;
    } catch (e2) {
      const s = await navigator.mediaDevices.getUserMedia({ video: { facingMode: facing } });
      track = s.getVideoTracks()[0];
    }
  }
  track.enabled = wasEnabled;
  localStream.addTrack(track);
  if (sender) await sender.replaceTrack(track);
  noteCamera(track, now);
  return now;
}

export class MediaCall {
  constructor({ client, localStream, remoteVideo, facing = 'user', onState = () => {}, onProblem = () => {} }) {
    this.client = client;
    this.localStream = localStream;
    this.remoteVideo = remoteVideo;
    this.facing = facing;
    this.onState = onState;
    this.onProblem = onProblem;
    this.closed = false;
    this.everConnected = false;
    this.problem = null;          // last value given to onProblem
    this.remoteStream = null;
    this.lastReportKey = '';
    this.timers = {};
  }

  timer(name, ms, fn) {
    clearTimeout(this.timers[name]);
    this.timers[name] = setTimeout(() => { delete this.timers[name]; if (!this.closed) fn(); }, ms);
  }

  clearTimer(name) {
    clearTimeout(this.timers[name]);
    delete this.timers[name];
  }

  setProblem(kind) {
    if (this.problem === kind) return;
    this.problem = kind;
    try { this.onProblem(kind); } catch (e) { console.error('onProblem failed', e); }
  }

  showRemote(stream) {
    if (!this.remoteVideo) return;
    if (this.remoteVideo.srcObject !== stream) this.remoteVideo.srcObject = stream;
    const p = this.remoteVideo.play();
    const v = this.remoteVideo;
    // refused autoplay (no tap yet, e.g. iOS): the page may offer a button
    if (p && p.catch) p.catch((e) => { if (e && e.name === 'NotAllowedError') v.dispatchEvent(new Event('consult-play-blocked')); });
  }

  /** Reports the connection state (with the pair's candidate types once connected); returns the types. */
  async reportState(pc, state) {
    const body = { request: 'report', connection_state: state, path: this.pathWord };
    let types = null;
    if (state === 'connected') {
      // the selected pair may show up in getStats a moment after "connected"
      for (let i = 0; i < 5 && !types && !this.closed; i += 1) {
        try { types = await selectedPairTypes(pc); } catch (e) { types = null; }
        if (!types) await new Promise((r) => setTimeout(r, 200));
      }
      if (types && WORD.test(types.local || '') && WORD.test(types.remote || '')) {
        body.local_candidate_type = types.local;
        body.remote_candidate_type = types.remote;
      }
    }
    this.report(body);
    return types;
  }

  report(body) {
    if (this.closed || !WORD.test(body.connection_state || '')) return;
    const key = JSON.stringify(body);
    if (key === this.lastReportKey) return;
    this.lastReportKey = key;
    // one after the other: the visit record keeps the state handled last
    this.client.requestInTurn('report', { ...body, path: this.pathWord }).catch(() => { /* not in a call any more */ });
  }

  setClient(client) {
    this.client = client;
    this.lastReportKey = '';      // the re-attached visit hears the state again
  }

  async switchCamera() {
    this.facing = await switchCameraTrack(this.localStream, this.videoSender(), this.facing);
    return this.facing;
  }

  setMuted(muted) {
    for (const tr of this.localStream ? this.localStream.getAudioTracks() : []) tr.enabled = !muted;
  }

  setCameraOff(off) {
    for (const tr of this.localStream ? this.localStream.getVideoTracks() : []) tr.enabled = !off;
  }

  /** Marks the call closed; false if it already was. */
  closeMedia({ keepTracks = false } = {}) {
    if (this.closed) return false;
    this.closed = true;
    for (const n of Object.keys(this.timers)) this.clearTimer(n);
    if (!keepTracks) stopStream(this.localStream);
    if (this.remoteVideo) this.remoteVideo.srcObject = null;
    return true;
  }
}
