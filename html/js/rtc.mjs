// rtc.mjs: the peer-to-peer call (PeerCall) and its ICE settings, used
// through session.mjs by patient.mjs and doctor.mjs.
// Contract:
//   getLocalMedia(facing) -> MediaStream (audio + video, facingMode facing)
//   iceOptions(ev) -> {iceServers, iceTransportPolicy, callLostSeconds} from a
//                    `ringing` / `call_accepted` event (defaults [], "all", 20)
//   prepareConnection({iceServers, iceTransportPolicy}) -> {pc, key, errors,
//                    gathered, close()}: the RTCPeerConnection of a PeerCall
//                    made ahead (a candidate pool is asked for; Chromium
//                    gathers from the description on all the same);
//                    icecandidateerror and icecandidate events until a
//                    PeerCall takes it are kept in errors and gathered;
//                    key = connectionKey()
//   prepareOffer(opts, localStream, addChannel) -> the same, for the
//                    offerer: with the tracks, the data channel
//                    addChannel(pc) made (.dc) and the offer set
//                    (.offering: a promise); nothing is sent
//   connectionKey({iceServers, iceTransportPolicy}) -> string: equal keys,
//                    equal RTCPeerConnection configuration
//   new PeerCall({client, iceServers, iceTransportPolicy, callLostSeconds,
//                 localStream, remoteVideo, offerer, onState, onPath, onProblem,
//                 prepared})   prepared: a prepareConnection() result with the
//                 same configuration, used instead of a new RTCPeerConnection
//                 (a prepareOffer() one: only by the offerer with the same
//                 localStream; start() then sends its offer, with the
//                 candidates gathered so far inline in the description and
//                 counted as gathered now, end-of-candidates after it if
//                 gathering ended already; .dc its data channel)
//     .pc            the RTCPeerConnection (tests read window.consult.pc); the
//                    same object for the whole call, also across ICE restarts
//     .start()       offerer only: createOffer + send `signal` offer
//     .handleSignal(ev)  apply a `signal` event (offer/answer/candidate/
//                    end-of-candidates); remote candidates that arrive before
//                    the remote description are queued and applied after it.
//                    A later offer (ICE restart) is answered the same way.
//                    The signals after the first offer do not wait for the
//                    server's reply to our answer (those after a restart's
//                    offer do).
//     .switchCamera() stop the old video track, open the other facing camera,
//                    replaceTrack on the sender (returns the new facing mode)
//     .setMuted(b) / .setCameraOff(b) (media.mjs MediaCall)
//     .close({keepTracks})  close pc and every timer; stops the local
//                    tracks unless keepTracks (forwarding mode reuses them)
//     .setClient(c)  signalling re-attached on a new connection (media.mjs);
//                    the state is reported again on c
//     .everConnected ICE was connected/completed at least once
//     .turnErrors    icecandidateerror codes seen for a turn:/turns: URL
//   onPath(path): the selected pair changed ('direct', 'relay' or '' unknown);
//     read from getStats every 2 s and on every ICE state change.
//   onProblem(kind): null (all fine again), 'recovering' (a connected call lost
//     its path; an ICE restart runs), or a final error: 'turn_auth' (TURN
//     refused our credentials, icecandidateerror 401, and no connection came
//     up), 'ice_failed' (never connected), 'connection_lost' (not back within
//     callLostSeconds). Errors are also sent as `report` connection_state
//     "failed". The page of the offerer hangs up on 'connection_lost'.
// ICE restart: only the offerer (the doctor) restarts: iceConnectionState
// "disconnected" for more than 2 s, or "failed", after the call had been
// connected -> fresh credentials (`ice_servers` request; the old ones are
// kept if it fails) -> setConfiguration -> restartIce -> offer (iceRestart)
// -> `signal` offer; repeated every RESTART_MS while not connected. The
// answerer shows 'recovering' too and answers the new offer.
// Local candidates are sent with `signal` (type candidate, then
// end-of-candidates) only after the description they belong to went out:
// for the call's first offer/answer as soon as its request is on the socket
// (the other side keeps candidates that overtake it in the server until its
// remote description is set), after an ICE restart once the server
// answered the request (an overtaking candidate of a new generation would
// meet the old one). end-of-candidates goes out when gathering completes,
// or before the first connection as soon as every TURN URL refused us for
// good (TURN_REFUSED) and a srflx candidate came (endEarlyIfRefused; once;
// later host candidates still follow): Chromium's own end can take ~40 s.
// Our no-path evidence then counts our side as done gathering as well.
// The patient's page makes the RTCPeerConnection at the ringing
// (prepareConnection, with the ringing's ICE servers), so the first
// RTCPeerConnection of the page (50-120 ms to make, measured) is not made in
// the "Annehmen" tap. It asks for a candidate pool (iceCandidatePoolSize
// ICE_POOL), but Chromium 156 does not hand pooled candidates over: host and
// srflx come 1-3 ms, the relay candidate 55-70 ms after setLocalDescription
// whether the connection was made 1 s ahead or just before
// (bench/pool-probe.mjs, relay lab): gathering effectively starts at the
// description. One
// transport for audio and video (bundlePolicy max-bundle): half the
// candidate pairs to check.
// Every connectionState change is sent with `report`, with the selected
// candidate pair's local/remote candidateType once known (getStats:
// transport.selectedCandidatePairId -> candidate-pair -> candidates).
// Signaling never uses jsep: everything travels in the request body.
// onVerify(code): the verification code ('123 456', verify.mjs) from the
//   a=fingerprint of the local and remote description, once both are set
//   (again only if it changes).
// Reports carry path "p2p" (media.mjs MediaCall.reportState).
// iceOptions(ev) also gives p2pTimeoutSeconds (default 10) and forward
//   ('allowed' | 'never', default 'allowed') from the event.
// The outgoing offer/answer passes media.mjs tamper() (a test-only hook).
// No path (the offerer decides; docs/pages.md "Forwarding mode"): before the
// first connection the offerer looks every NO_PATH.pollMs from the answer on
// (getStats only once both sides' quiet times have ended, noPathQuietEnd(),
// and right then) and ends the attempt with onProblem('ice_failed') (or
// 'turn_auth') as soon as noPathVerdict() says that no peer-to-peer path can
// come up; the page then forwards at once instead of waiting for
// p2p_timeout_seconds. .noPath holds the verdict ({reason, ...}).
// Forward prepared (option forward 'allowed'): right after our first offer
// or answer went out, forward.mjs prepareForwardKey() makes the E2EE key
// pair and sends its public key (`signal` e2ee-key); .forwardPrep is handed
// to the Forwarder if the call is forwarded. No media, no worker, nothing
// on the screen.
import { verifyCodeFromSdp } from './verify.mjs';
import { MediaCall, isUp, pathOf, selectedPairTypes, tamper } from './media.mjs';
import { prepareForwardKey } from './forward.mjs';

export async function getLocalMedia(facing = 'user') {
  return navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { facingMode: facing, width: { ideal: 1280 }, height: { ideal: 720 } },
  });
}

export const DEFAULT_CALL_LOST_SECONDS = 20;
export const DEFAULT_P2P_TIMEOUT_SECONDS = 10;

/** ICE settings from a `ringing` / `call_accepted` event, with safe defaults. */
export function iceOptions(ev) {
  const e = ev || {};
  const n = Number(e.call_lost_seconds);
  const p = Number(e.p2p_timeout_seconds);
  return {
    iceServers: Array.isArray(e.ice_servers) ? e.ice_servers : [],
    iceTransportPolicy: e.ice_transport_policy === 'relay' ? 'relay' : 'all',
    callLostSeconds: Number.isFinite(n) && n >= 1 && n <= 3600 ? n : DEFAULT_CALL_LOST_SECONDS,
    p2pTimeoutSeconds: Number.isFinite(p) && p >= 1 && p <= 600 ? p : DEFAULT_P2P_TIMEOUT_SECONDS,
    forward: e.forward === 'never' ? 'never' : 'allowed',
  };
}

const ICE_POOL = 1;                 // asked for; Chromium 156 gathers at the description anyway
const DISCONNECT_GRACE_MS = 2000;   // "disconnected" this long -> restart
const RESTART_MS = 5000;            // retry period while not connected
const PATH_POLL_MS = 2000;
const REQUEST_TIMEOUT_MS = 4000;    // ice_servers / restart offer
const CAND_ERROR_CHECK_MS = 3000;   // candidate errors and nothing gathered

/**
 * When a peer-to-peer attempt that never connected has no path left:
 * - checks: a candidate pair with this many connectivity checks sent and not
 *   one answered (no response, no check from the other side) has failed
 *   (RFC 8445 gives a check Rc = 7 transmissions; Chromium sends a new check
 *   on each unanswered pair about 4 times a second and marks it failed only
 *   after 15 s, its ICE "failed" after ~15 s, and a STUN/TURN server that
 *   never answers after 39.75 s: measured, tests/nat);
 * - quietMs / rttFactor: a side whose gathering has visibly run (its first
 *   candidate seen) for max(quietMs, rttFactor x the signalling round trip)
 *   without bringing a candidate that helps will bring none: a STUN/TURN
 *   server that can be reached answers within one round trip, and by 1.75 s
 *   Chromium has sent its request 4 times (at 0, 0.25, 0.75 and 1.75 s), the
 *   first three unanswered for 1 s or more; 8 round trips cover TURN over
 *   TLS (5 round trips) on a slow link; answerFactor x the time the other
 *   side took to answer our offer covers a browser slowed down by its
 *   machine (its gathering runs at the same pace). The time counts from what
 *   that side showed, not from a clock of ours: our first candidate; the
 *   other side's answer (its gathering started when it set the answer, before
 *   sending it), once it has shown a candidate at all. A browser that is slow (a
 *   busy machine) answers and gathers late and is waited for, and every
 *   candidate that still arrives makes new pairs that need their own checks
 *   (about 1.25 s for 5) before the verdict. A side that has shown no
 *   candidate at all counts only once its gathering has ended (our
 *   iceGatheringState complete, their end-of-candidates), else the timer
 *   decides (measured: a patient page starved by a load of 25 sent no
 *   candidate within 1.8 s of a working relay-only call).
 * - minChecks / checkSpanMs: fewer checks suffice once the pairs have been
 *   checked for long enough: every pair has at least minChecks unanswered
 *   checks and the newest pair exists for max(checkSpanMs, spanRttFactor x
 *   the signalling round trip) (a pair exists once the answer is set and
 *   both of its candidates are there: the last candidate of either side
 *   counts). Chromium paces its checks over all pairs (one every 50-65 ms,
 *   measured: the 6 pairs of the TURN-refused lab get a check each every
 *   ~300-380 ms), so "checks per pair" is a clock that runs slower the more
 *   pairs there are: 5 checks on each of those 6 took 1.9-2.1 s after the
 *   offer, on the fewer pairs of a lab without STUN/TURN 1.3 s. The span
 *   is what 5 checks at 4 a second cover; 3 checks keep retransmissions
 *   against loss, and the other side checks the same pairs meanwhile (one
 *   of its checks arriving is an answer).
 */
export const NO_PATH = Object.freeze({
  checks: 5, minChecks: 3, checkSpanMs: 1250, spanRttFactor: 4, quietMs: 1750, rttFactor: 8, answerFactor: 4, pollMs: 100,
});

/**
 * Pure: the verdict on one snapshot of an attempt that never connected.
 * s = {now, offerAt, answerAt (0 before the answer), rttMs, gathered (local
 * gathering complete), localCandidates, localSince (when our first candidate
 * came, 0 none yet), remoteCandidates, remoteSince (when their first
 * candidate arrived, 0 none yet), remoteEnded (end-of-candidates from the
 * other side), localLast / remoteLast (when the newest candidate of that
 * side came; 0: as localSince / remoteSince), pairs: [{state,
 * requestsSent, responsesReceived, requestsReceived}]}.
 * -> null while a path may still come up, else {reason, pairs, checks,
 * remote}: reason 'no_local_candidates' | 'no_remote_candidates' (a side
 * ended gathering without a candidate: nothing to pair), 'unpairable'
 * (candidates on both sides, no pair), 'pairs_failed' (every pair failed;
 * checks: the unanswered checks on the least checked one, see NO_PATH;
 * remote: what ended the wait for the other side's candidates, 'ended' (its
 * end-of-candidates), 'answer' (quiet since its answer arrived) or
 * 'candidate' (since its first candidate, when that came first)). Anything
 * answered on any pair (a response, or a check from the other side) means a
 * path exists: null.
 */
const quietOf = (s, t) => Math.max(t.quietMs, t.rttFactor * (Number(s.rttMs) || 0), t.answerFactor * (s.answerAt - s.offerAt));

/**
 * Pure: when both sides' quiet times of noPathVerdict() end on the snapshot
 * s (ms, the same clock as s.now), or 0 when that is not known yet (no
 * answer, or a side that has shown no candidate and not ended gathering).
 * The page checks again right then instead of up to a poll period later.
 */
export function noPathQuietEnd(s, t = NO_PATH) {
  if (!s || !s.offerAt || !s.answerAt) return 0;
  const quiet = quietOf(s, t);
  const local = s.gathered ? s.offerAt : (s.localSince ? s.localSince + quiet : 0);
  const remote = s.remoteEnded ? s.answerAt : (s.remoteSince ? Math.min(s.remoteSince, s.answerAt) + quiet : 0);
  return local && remote ? Math.max(local, remote) : 0;
}

export function noPathVerdict(s, t = NO_PATH) {
  if (!s || !s.offerAt || !s.answerAt) return null;
  const quiet = quietOf(s, t);
  const quietSince = (since) => !!since && s.now - since >= quiet;
  const localDone = !!s.gathered || quietSince(s.localSince);
  // The other side set its answer as local description (gathering starts
  // there at the latest) before it sent the answer: once it has shown a
  // candidate, its quiet time counts from the answer's arrival, not from
  // that candidate's, which comes 100-600 ms after the answer (Chromium
  // hands its pooled candidates over late; measured, bench/forward.mjs).
  const remoteFrom = s.remoteSince ? Math.min(s.remoteSince, s.answerAt) : 0;
  const remoteDone = !!s.remoteEnded || quietSince(remoteFrom);
  if (!localDone || !remoteDone) return null;
  const pairs = Array.isArray(s.pairs) ? s.pairs : [];
  const answered = (p) => p.state === 'succeeded' || (p.responsesReceived || 0) > 0 || (p.requestsReceived || 0) > 0;
  if (pairs.some(answered)) return null;
  if (!s.localCandidates) return { reason: 'no_local_candidates', pairs: 0 };
  if (!s.remoteCandidates) return { reason: 'no_remote_candidates', pairs: 0 };
  if (!pairs.length) return { reason: 'unpairable', pairs: 0 };
  // the least checked pair (a pair Chromium marked failed counts as fully checked)
  const least = Math.min(...pairs.map((p) => (p.state === 'failed' ? t.checks : (p.requestsSent || 0))));
  const newest = Math.max(s.answerAt, s.localLast || s.localSince || 0, s.remoteLast || s.remoteSince || 0);
  const span = Math.max(t.checkSpanMs, t.spanRttFactor * (Number(s.rttMs) || 0));
  if (least >= t.checks || (least >= t.minChecks && s.now - newest >= span)) {
    return {
      reason: 'pairs_failed', pairs: pairs.length, checks: Math.min(least, t.checks),
      remote: s.remoteEnded ? 'ended' : (s.answerAt <= s.remoteSince ? 'answer' : 'candidate'),
    };
  }
  return null;
}

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error('timeout')), ms); }),
  ]).finally(() => clearTimeout(timer));
}

const pcConfig = ({ iceServers, iceTransportPolicy } = {}) => ({
  iceServers: Array.isArray(iceServers) ? iceServers : [],
  iceTransportPolicy: iceTransportPolicy === 'relay' ? 'relay' : 'all',
  iceCandidatePoolSize: ICE_POOL,
  bundlePolicy: 'max-bundle',
});

export const connectionKey = (opts) => JSON.stringify(pcConfig(opts));

/**
 * icecandidateerror codes by which a TURN server refused the allocation for
 * good (Chromium retries 437 allocation mismatch and 438 stale nonce itself,
 * and reports 401 only once its answer to the challenge was refused too).
 */
export const TURN_REFUSED = Object.freeze([400, 401, 403, 420, 441, 442, 486]);

/** 'turn|udp|host' for a turn:/turns: URL (port left out), '' for another. */
export function turnUrlKey(url) {
  const m = /^(turns?):(?:\/\/)?(\[[^\]]*\]|[^:?/]+)(?::\d+)?(?:\?(.*))?$/i.exec(String(url || '').trim());
  if (!m) return '';
  const scheme = m[1].toLowerCase();
  const t = /(?:^|&)transport=(\w+)/i.exec(m[3] || '');
  return `${scheme}|${t ? t[1].toLowerCase() : (scheme === 'turns' ? 'tcp' : 'udp')}|${m[2].toLowerCase()}`;
}

/**
 * Pure: every TURN URL of iceServers has been refused (refused: a Set of
 * turnUrlKey()s of icecandidateerror events with a TURN_REFUSED code);
 * false when there is no TURN URL at all.
 */
export function turnAllRefused(iceServers, refused) {
  const keys = [];
  for (const sv of Array.isArray(iceServers) ? iceServers : []) {
    for (const u of [].concat((sv && sv.urls) || [])) {
      const k = turnUrlKey(u);
      if (k) keys.push(k);
    }
  }
  return keys.length > 0 && keys.every((k) => refused.has(k));
}

export function prepareConnection(opts = {}) {
  const pc = new RTCPeerConnection(pcConfig(opts));
  const errors = [];
  const gathered = [];
  const keep = (e) => errors.push(e);
  const keepCand = (e) => gathered.push(e);
  pc.addEventListener('icecandidateerror', keep);
  pc.addEventListener('icecandidate', keepCand);
  return {
    pc, errors, gathered, key: connectionKey(opts),
    offering: null,     // prepareOffer(): the promise of its setLocalDescription
    taken() {
      pc.removeEventListener('icecandidateerror', keep);
      pc.removeEventListener('icecandidate', keepCand);
    },
    close() { try { pc.close(); } catch (e) { /* ignore */ } },
  };
}

/**
 * The offerer's connection made ahead (the doctor, while it rings):
 * prepareConnection() with the local tracks, addChannel(pc) (the call
 * channel's negotiated data channel, so it is in the offer) and the offer
 * created and set, so ICE gathering (the TURN allocation) runs before the
 * call is accepted. Nothing is sent: a PeerCall that takes it sends the
 * offer (with the candidates gathered so far inline) on start(). .dc is the
 * data channel; .offering settles when the offer is set (rejects if it
 * could not be: the PeerCall then makes its offer itself).
 */
export function prepareOffer(opts, localStream, addChannel) {
  const made = prepareConnection(opts);
  try {
    for (const track of localStream ? localStream.getTracks() : []) made.pc.addTrack(track, localStream);
    made.tracks = true;
    made.stream = localStream;
    made.dc = addChannel ? addChannel(made.pc) : null;
    made.offering = made.pc.createOffer().then((offer) => made.pc.setLocalDescription(offer));
    made.offering.catch(() => {});
  } catch (e) {
    made.close();
    throw e;
  }
  return made;
}

export class PeerCall extends MediaCall {
  constructor({
    client, iceServers, iceTransportPolicy = 'all', callLostSeconds = DEFAULT_CALL_LOST_SECONDS,
    localStream, remoteVideo, offerer = false, onState = () => {}, onPath = () => {},
    onProblem = () => {}, onVerify = () => {}, facing = 'user', forward = 'allowed', prepared = null,
  }) {
    super({ client, localStream, remoteVideo, facing, onState, onProblem });
    this.pathWord = 'p2p';
    this.offerer = offerer;
    this.onPath = onPath;
    this.onVerify = onVerify;
    this.verifyCode = '';
    this.turnErrors = new Set(); // icecandidateerror codes of turn: URLs
    this.remoteQueue = [];        // remote candidates before remoteDescription
    this.localQueue = [];         // our candidates before our description is sent
    this.descSent = false;
    this.answered = false;        // answerer: the first answer went out
    this.policy = iceTransportPolicy === 'relay' ? 'relay' : 'all';
    this.callLostMs = Math.max(1, Number(callLostSeconds) || DEFAULT_CALL_LOST_SECONDS) * 1000;
    this.path = null;             // last value given to onPath
    this.candidates = 0;          // local candidates of the current generation
    this.candErrors = new Set();  // icecandidateerror codes seen
    this.restarting = false;
    this.restarts = 0;
    this.offerAt = 0;
    this.answerAt = 0;            // the first answer applied (offerer)
    this.rttMs = 0;               // round trip of our first offer/answer request
    this.remoteCandidates = 0;    // remote candidates received before the first connection
    this.remoteEnded = false;     // end-of-candidates from the other side
    this.localCandidates = 0;     // local candidates gathered before the first connection
    this.localSince = 0;          // when the first of them came
    this.remoteSince = 0;         // when the other side's first candidate arrived
    this.localLast = 0;           // when our newest of them came
    this.remoteLast = 0;          // when the other side's newest one arrived
    this.noPath = null;           // noPathVerdict() that ended the attempt
    this.forwardPolicy = forward === 'never' ? 'never' : 'allowed';
    this.forwardPrep = null;      // forward.mjs prepareForwardKey()
    this.turnRefused = new Set(); // turnUrlKey()s refused for good (TURN_REFUSED)
    this.srflxSeen = false;       // a server-reflexive candidate of ours (STUN answered)
    this.endedEarly = false;      // end-of-candidates sent before Chromium's own

    const config = { iceServers, iceTransportPolicy: this.policy };
    // a prepared offer (prepareOffer) only serves the offerer, and only with
    // the tracks of this call
    const fits = prepared && prepared.key === connectionKey(config)
      && (prepared.offering
        ? offerer && prepared.stream === localStream && prepared.pc.signalingState !== 'closed'
        : prepared.pc.signalingState === 'stable');
    const made = fits ? prepared : null;
    if (prepared && !made) prepared.close();
    this.pc = made ? made.pc : new RTCPeerConnection(pcConfig(config));
    this.preparedOffer = made && made.offering ? made.offering : null;
    this.dc = made ? made.dc || null : null;   // the call channel's, made with the offer
    if (!(made && made.tracks)) for (const track of localStream ? localStream.getTracks() : []) this.pc.addTrack(track, localStream);

    this.pc.onicecandidate = (e) => this.candidateEvent(e);
    this.pc.onicecandidateerror = (e) => {
      if (this.closed) return;
      const code = Number(e.errorCode) || 0;
      this.candErrors.add(code);
      if (/^turns?:/i.test(String(e.url || ''))) this.turnErrors.add(code);
      if (TURN_REFUSED.includes(code) && turnUrlKey(e.url)) this.turnRefused.add(turnUrlKey(e.url));
      console.warn('ICE candidate error', code);   // no URL/address: may name the server
      this.endEarlyIfRefused();
      this.timer('candcheck', CAND_ERROR_CHECK_MS, () => this.checkNothingGathered());
    };
    this.pc.onicegatheringstatechange = () => {
      if (this.pc.iceGatheringState === 'complete') this.checkNothingGathered();
    };
    if (made) {
      // what went wrong while it was made ahead counts as if seen now
      made.taken();
      for (const e of made.errors) this.pc.onicecandidateerror(e);
      // so do its candidates (counted now, for the no-path evidence); they
      // are in the offer's description already, so only the end of
      // gathering is sent after it
      for (const e of made.gathered || []) this.candidateEvent(e, !!(made.offering && e.candidate && e.candidate.candidate));
    }
    this.pc.ontrack = (e) => {
      if (!this.remoteVideo) return;
      const stream = (e.streams && e.streams[0]) || this.remoteStream || new MediaStream();
      if (!e.streams || !e.streams[0]) stream.addTrack(e.track);
      this.remoteStream = stream;
      this.showRemote(stream);
    };
    this.pc.onconnectionstatechange = () => this.stateChanged();
    this.pc.oniceconnectionstatechange = () => this.iceChanged();
    // No connection at all within this time: say so instead of spinning.
    this.timer('setup', Math.max(30000, this.callLostMs), () => {
      if (!this.everConnected) this.fail(this.candErrors.has(401) ? 'turn_auth' : 'ice_failed');
    });
    this.pathTimer = setInterval(() => this.updatePath(), PATH_POLL_MS);
  }

  /**
   * A local candidate (or the end of gathering): counted for the no-path
   * evidence and sent (queued until the description went out). inline: a
   * candidate gathered before this PeerCall took the connection, already in
   * the offer made ahead, so counted but not trickled again (an early
   * end-of-candidates it brings about is still sent).
   */
  candidateEvent(e, inline = false) {
    if (this.closed) return;
    if (e.candidate && e.candidate.candidate) {
      this.candidates += 1;
      this.localCandidates += 1;
      if (!this.localSince) this.localSince = Date.now();
      if (!this.everConnected) this.localLast = Date.now();
      if (/ typ srflx/.test(e.candidate.candidate)) this.srflxSeen = true;
    }
    if (!e.candidate && this.endedEarly) return;   // said already
    const msg = e.candidate
      ? { request: 'signal', type: 'candidate', candidate: candidateBody(e.candidate) }
      : { request: 'signal', type: 'end-of-candidates' };
    if (!inline) {
      if (this.descSent) this.sendSignal(msg); else this.localQueue.push(msg);
    }
    if (e.candidate) this.endEarlyIfRefused();
  }

  // ---- path --------------------------------------------------------------------
  async updatePath() {
    if (this.closed) return;
    let types = null;
    try { types = isUp(this.pc.iceConnectionState) ? await selectedPairTypes(this.pc) : null; } catch (e) { types = null; }
    if (this.closed) return;
    const path = pathOf(types);
    if (path === this.path) return;
    this.path = path;
    try { this.onPath(path); } catch (e) { console.error('onPath failed', e); }
  }

  // ---- failure, recovery, ICE restart ------------------------------------------
  /** Candidate errors or gathering finished without a single local candidate. */
  checkNothingGathered() {
    if (this.closed || this.everConnected || isUp(this.pc.iceConnectionState)) return;
    if (this.candidates > 0) return;
    // Still gathering: only a refused TURN login under relay policy is final
    // (nothing else can produce a candidate); anything else may still come.
    if (this.pc.iceGatheringState !== 'complete' && !(this.policy === 'relay' && this.candErrors.has(401))) return;
    this.fail(this.candErrors.has(401) ? 'turn_auth' : 'ice_failed');
  }

  /**
   * Before the first connection: every TURN server refused us for good and
   * STUN answered (a srflx candidate): nothing that could still come from
   * our gathering (Chromium's runs on: it ends only when every server and
   * port is done, for a TURN/TCP port that gets no answer after ~40 s) can
   * make a new kind of path: say end-of-candidates now (the other side's
   * no-path evidence counts our side as done; docs/protocol.md `signal`).
   * Host candidates that still come are sent after it.
   */
  endEarlyIfRefused() {
    if (this.closed || this.everConnected || this.endedEarly || !this.srflxSeen || !this.turnRefused.size) return;
    if (this.pc.iceGatheringState === 'complete' || typeof this.pc.getConfiguration !== 'function') return;
    if (!turnAllRefused(this.pc.getConfiguration().iceServers, this.turnRefused)) return;
    this.endedEarly = true;
    const msg = { request: 'signal', type: 'end-of-candidates' };
    if (this.descSent) this.sendSignal(msg); else this.localQueue.push(msg);
  }

  fail(kind) {
    if (this.closed) return;
    this.clearTimer('nopath');
    this.clearTimer('setup');
    this.clearTimer('grace');
    this.clearTimer('lost');
    this.clearTimer('restart');
    this.setProblem(kind);
    this.report({ request: 'report', connection_state: 'failed' });
  }

  iceChanged() {
    if (this.closed) return;
    const s = this.pc.iceConnectionState;
    this.updatePath();
    if (isUp(s)) {
      this.everConnected = true;
      for (const n of ['setup', 'grace', 'lost', 'restart', 'candcheck', 'nopath']) this.clearTimer(n);
      this.setProblem(null);
      return;
    }
    if (s === 'closed') return;
    if (!this.everConnected) {
      // Never connected: ICE gave up (e.g. TURN refused us, or no path at all).
      if (s === 'failed') this.fail(this.candErrors.has(401) ? 'turn_auth' : 'ice_failed');
      return;
    }
    if (this.problem === 'connection_lost') return;
    if (s === 'failed') this.beginRecovery();
    else if (s === 'disconnected' && !this.timers.grace && this.problem !== 'recovering') {
      this.timer('grace', DISCONNECT_GRACE_MS, () => {
        if (!isUp(this.pc.iceConnectionState)) this.beginRecovery();
      });
    }
  }

  /** Offerer, before the first connection: look for evidence that no path can come up. */
  watchNoPath() {
    if (!this.offerer || this.closed || this.everConnected || this.timers.nopath) return;
    this.timer('nopath', NO_PATH.pollMs, () => this.checkNoPath());
  }

  /** The no-path snapshot without the pairs (they need getStats). */
  noPathClock(pairs = []) {
    return {
      now: Date.now(), offerAt: this.offerAt, answerAt: this.answerAt, rttMs: this.rttMs,
      gathered: this.pc.iceGatheringState === 'complete' || this.endedEarly,
      localCandidates: this.localCandidates, localSince: this.localSince, localLast: this.localLast,
      remoteCandidates: this.remoteCandidates, remoteSince: this.remoteSince, remoteLast: this.remoteLast,
      remoteEnded: this.remoteEnded, pairs,
    };
  }

  async checkNoPath() {
    if (this.closed || this.everConnected || isUp(this.pc.iceConnectionState) || this.problem) return;
    // No verdict is possible before the quiet times end: no getStats until
    // then (a call that connects meanwhile never reads them for this), but
    // a look every poll period, as a side may end gathering meanwhile.
    const clock = this.noPathClock();
    const quietEnd = noPathQuietEnd(clock);
    if (!quietEnd || quietEnd > clock.now) {
      this.timer('nopath', quietEnd ? Math.min(NO_PATH.pollMs, quietEnd - clock.now) : NO_PATH.pollMs, () => this.checkNoPath());
      return;
    }
    const pairs = [];
    let localSeen = 0;
    let remoteSeen = 0;
    try {
      const stats = await this.pc.getStats();
      stats.forEach((r) => {
        if (r.type === 'candidate-pair') {
          pairs.push({
            state: r.state, requestsSent: r.requestsSent, responsesReceived: r.responsesReceived, requestsReceived: r.requestsReceived,
          });
        } else if (r.type === 'local-candidate') localSeen += 1;
        else if (r.type === 'remote-candidate') remoteSeen += 1;
      });
    } catch (e) {
      return;                    // closed meanwhile
    }
    if (this.closed || this.everConnected || isUp(this.pc.iceConnectionState) || this.problem) return;
    const snap = this.noPathClock(pairs);
    snap.localCandidates = Math.max(snap.localCandidates, localSeen);
    snap.remoteCandidates = Math.max(snap.remoteCandidates, remoteSeen);
    const verdict = noPathVerdict(snap);
    if (!verdict) {
      this.timer('nopath', NO_PATH.pollMs, () => this.checkNoPath());
      return;
    }
    this.noPath = { ...verdict, afterMs: Date.now() - this.offerAt };
    // no addresses in the log: reason and counts only
    const remote = verdict.remote ? `; their side done: ${verdict.remote}` : '';
    const checks = verdict.checks ? `, ${verdict.checks}+ unanswered checks on every pair` : '';
    console.info(`no peer-to-peer path: ${verdict.reason} (${verdict.pairs} pairs${remote})${checks}, ${this.noPath.afterMs} ms after the offer`);
    this.fail(this.candErrors.has(401) ? 'turn_auth' : 'ice_failed');
  }

  /** First offer/answer sent: prepare forwarding's key agreement (nothing visible). */
  prepareForward() {
    if (this.forwardPrep || this.forwardPolicy !== 'allowed' || this.closed) return;
    this.forwardPrep = prepareForwardKey({ client: this.client, role: this.offerer ? 'doctor' : 'patient' });
  }

  beginRecovery() {
    this.clearTimer('grace');
    if (this.problem === 'recovering') {
      if (this.offerer && !this.restarting) this.restartIce();
      return;
    }
    this.setProblem('recovering');
    this.timer('lost', this.callLostMs, () => {
      if (isUp(this.pc.iceConnectionState)) return;
      this.fail('connection_lost');
    });
    if (this.offerer) this.restartIce();
  }

  /** New credentials if the plugin gives them; keeps the old ones otherwise. */
  async refreshIceServers() {
    try {
      const r = await withTimeout(this.client.request({ request: 'ice_servers' }), REQUEST_TIMEOUT_MS);
      if (!r || !Array.isArray(r.ice_servers) || this.closed) return;
      if (typeof this.pc.setConfiguration !== 'function') return;
      const conf = typeof this.pc.getConfiguration === 'function' ? this.pc.getConfiguration() : {};
      this.pc.setConfiguration({ ...conf, iceServers: r.ice_servers, iceTransportPolicy: this.policy });
    } catch (e) {
      console.warn('ice_servers refresh failed, keeping the old ones', e && (e.error || e.message));
    }
  }

  async restartIce() {
    if (this.closed || this.restarting) return;
    this.restarting = true;
    this.restarts += 1;
    try {
      await this.refreshIceServers();
      if (this.closed || isUp(this.pc.iceConnectionState) || this.problem !== 'recovering') return;
      // An offer that was never answered (the other side was unreachable):
      // take it back and make a new one.
      if (this.pc.signalingState === 'have-local-offer') await this.pc.setLocalDescription({ type: 'rollback' });
      if (this.pc.signalingState !== 'stable') return;
      if (typeof this.pc.restartIce === 'function') this.pc.restartIce();
      await this.start({ iceRestart: true }, REQUEST_TIMEOUT_MS);
    } catch (e) {
      console.warn('ICE restart attempt failed', e && (e.name || e.error || e.message));
    } finally {
      this.restarting = false;
      if (!this.closed && this.problem === 'recovering') {
        this.timer('restart', RESTART_MS, () => {
          if (this.problem === 'recovering' && !isUp(this.pc.iceConnectionState)) this.restartIce();
        });
      }
    }
  }

  // ---- verification code -----------------------------------------------------
  async updateVerify() {
    const l = this.pc.localDescription;
    const r = this.pc.remoteDescription;
    if (this.closed || !l || !r || !l.sdp || !r.sdp) return;
    let code = '';
    try { code = await verifyCodeFromSdp(l.sdp, r.sdp); } catch (e) { return; }
    if (this.closed || code === this.verifyCode) return;
    this.verifyCode = code;
    try { this.onVerify(code); } catch (e) { console.error('onVerify failed', e); }
  }

  // ---- signaling -----------------------------------------------------------------
  sendSignal(msg) {
    return this.client.request(msg).catch((e) => { console.warn('signal failed', e.error || e); });
  }

  flushLocal() {
    this.descSent = true;
    const q = this.localQueue;
    this.localQueue = [];
    for (const m of q) this.sendSignal(m);
  }

  /** Holds back local candidates until the new description went out. */
  newGeneration() {
    this.descSent = false;
    this.localQueue = [];
    this.candidates = 0;
    if (this.everConnected) this.endedEarly = false;   // an ICE restart gathers anew
  }

  async start(options, timeoutMs) {
    const prepared = this.preparedOffer;
    this.preparedOffer = null;
    let ready = false;
    if (prepared && !options) {
      // the offer made ahead (prepareOffer): set already, gathering runs
      try {
        await prepared;
        ready = this.pc.signalingState === 'have-local-offer';
      } catch (e) { ready = false; }
      if (this.closed) return;
    }
    if (!ready) {
      const offer = await this.pc.createOffer(options);
      this.newGeneration();
      await this.pc.setLocalDescription(offer);
    }
    const sentAt = Date.now();
    const first = !options || !options.iceRestart;
    if (first) this.offerAt = sentAt;
    const req = this.client.request(tamper({ request: 'signal', type: 'offer', sdp: this.pc.localDescription.sdp }));
    if (first && !this.closed) this.flushLocal();   // the offer is on the socket
    try {
      await (timeoutMs ? withTimeout(req, timeoutMs) : req);
      if (!this.rttMs) this.rttMs = Date.now() - sentAt;
    } finally {
      // the offer is on its way (or the transport is gone): candidates follow it
      if (!this.closed) this.flushLocal();
    }
    if (!this.closed && !this.everConnected) this.prepareForward();
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
        // the first offer, or a later one (ICE restart): answer every one
        await this.pc.setRemoteDescription({ type: 'offer', sdp: ev.sdp });
        await this.flushRemote();
        const answer = await this.pc.createAnswer();
        this.newGeneration();
        await this.pc.setLocalDescription(answer);
        this.updateVerify();
        const first = !this.answered;
        this.answered = true;
        const req = this.client.request(tamper({ request: 'signal', type: 'answer', sdp: this.pc.localDescription.sdp }));
        if (first && !this.closed) this.flushLocal();   // the answer is on the socket
        const sent = req.finally(() => { if (!this.closed) this.flushLocal(); })
          .then(() => { if (!this.closed && !this.everConnected) this.prepareForward(); });
        // The first answer does not hold the signals behind it until the
        // server's reply: the offerer's candidates, which follow its offer,
        // are applied at once (waiting for the reply kept them from ICE for
        // one signalling round trip, 5-90 ms measured, bench/callsetup.mjs).
        // An ICE restart's answer is still waited for (its candidates are a
        // new generation).
        if (first) sent.catch((e) => console.warn('signal failed', e && (e.error || e.name)));
        else await sent;
        break;
      }
      case 'answer':
        if (this.pc.signalingState !== 'have-local-offer') return;   // late answer to a withdrawn offer
        await this.pc.setRemoteDescription({ type: 'answer', sdp: ev.sdp });
        if (!this.answerAt) this.answerAt = Date.now();
        this.updateVerify();
        await this.flushRemote();
        this.watchNoPath();
        break;
      case 'candidate':
      case 'end-of-candidates': {
        const c = ev.type === 'candidate' ? ev.candidate : null;
        if (!this.everConnected) {
          if (c && c.candidate) {
            this.remoteCandidates += 1;
            if (!this.remoteSince) this.remoteSince = Date.now();
            this.remoteLast = Date.now();
          }
          else if (!c) this.remoteEnded = true;
        }
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
      // e.g. a candidate of the ICE generation before a restart
      console.warn('addIceCandidate failed', e && e.name);
    }
  }

  // ---- reports -------------------------------------------------------------------
  async stateChanged() {
    if (this.closed) return;
    const state = this.pc.connectionState;
    this.onState(state);
    const types = await this.reportState(this.pc, state);
    if (state === 'connected') {
      this.types = types;
      this.updatePath();
    }
  }

  // ---- media controls ----------------------------------------------------------
  videoSender() {
    return this.pc.getSenders().find((s) => s.track && s.track.kind === 'video')
      || this.pc.getSenders().find((s) => s.track === null && this.videoSenderRef === s)
      || this.videoSenderRef || null;
  }

  async switchCamera() {
    this.videoSenderRef = this.videoSender();
    return super.switchCamera();
  }

  setClient(client) {
    super.setClient(client);
    if (!this.closed) this.stateChanged();
  }

  close(opts) {
    clearInterval(this.pathTimer);
    if (!this.closeMedia(opts)) return;
    try { this.pc.close(); } catch (e) { /* ignore */ }
  }
}

function candidateBody(c) {
  const body = { candidate: c.candidate || '' };
  if (typeof c.sdpMid === 'string') body.sdpMid = c.sdpMid;
  if (typeof c.sdpMLineIndex === 'number') body.sdpMLineIndex = c.sdpMLineIndex;
  return body;
}
