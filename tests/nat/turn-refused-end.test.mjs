// rtc.mjs: a side whose every TURN server refused the allocation for good
// (icecandidateerror 4xx, TURN_REFUSED) and whose STUN answered (a srflx
// candidate) says end-of-candidates at once instead of when Chromium's
// gathering ends (it never did within the no-path wait in the TURN-refused
// lab: measured, bench/forward.mjs --timeline), so that the other side's
// no-path evidence (rtc.mjs noPathVerdict, "their side done: ended") does
// not wait out its quiet time; our own verdict counts our side as done too.
// Pure helpers, and PeerCall with a stand-in RTCPeerConnection and client
// that record the calls (the real pages: tests/nat/forward-shapes.test.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerCall, TURN_REFUSED, connectionKey, turnAllRefused, turnUrlKey } from '../../html/js/rtc.mjs';

const TURN = 'turn:198.18.0.1:3478?transport=udp';
const SERVERS = [{ urls: ['stun:198.18.0.1:3478'] }, { urls: [TURN, 'turn:198.18.0.1:3478?transport=tcp'], username: 'u', credential: 'c' }];

test('turnUrlKey / turnAllRefused: every TURN URL (scheme, transport, host) refused', () => {
  assert.equal(turnUrlKey(TURN), 'turn|udp|198.18.0.1');
  assert.equal(turnUrlKey('turns:Turn.Example.org:5349?transport=tcp'), 'turns|tcp|turn.example.org');
  assert.equal(turnUrlKey('turn:turn.example.org'), 'turn|udp|turn.example.org', 'transport udp by default');
  assert.equal(turnUrlKey('stun:198.18.0.1:3478'), '', 'not a TURN URL');
  const one = new Set([turnUrlKey(TURN)]);
  assert.equal(turnAllRefused(SERVERS, one), false, 'TURN over TCP not refused (yet)');
  one.add(turnUrlKey('turn:198.18.0.1:3478?transport=tcp'));
  assert.equal(turnAllRefused(SERVERS, one), true);
  assert.equal(turnAllRefused([{ urls: 'stun:198.18.0.1' }], one), false, 'no TURN URL: nothing was refused');
  assert.equal(turnAllRefused([], new Set()), false);
  assert.ok(TURN_REFUSED.includes(401) && TURN_REFUSED.includes(403));
  assert.ok(!TURN_REFUSED.includes(701) && !TURN_REFUSED.includes(438) && !TURN_REFUSED.includes(437), 'unreachable and retried codes are not a refusal');
});

function setup(iceServers) {
  const sent = [];
  const pc = {
    signalingState: 'stable', iceConnectionState: 'new', iceGatheringState: 'gathering', connectionState: 'new',
    localDescription: null, remoteDescription: null,
    getConfiguration: () => ({ iceServers }),
    addTrack() {}, getSenders: () => [], getStats: async () => new Map(), close() {},
    addEventListener() {}, removeEventListener() {},
    async createOffer() { return { type: 'offer', sdp: 'v=0\r\n' }; },
    async setLocalDescription(d) { this.localDescription = d; },
    async setRemoteDescription(d) { this.remoteDescription = d; },
    async addIceCandidate() {},
  };
  const client = { request: async (body) => { sent.push(body.type || body.request); return {}; } };
  const config = { iceServers, iceTransportPolicy: 'all' };
  const prepared = { pc, key: connectionKey(config), errors: [], taken() {}, close() {} };
  const call = new PeerCall({ client, ...config, prepared, offerer: true, forward: 'never' });
  const cand = (typ) => pc.onicecandidate({ candidate: { candidate: `candidate:1 1 udp 1 198.51.100.2 5000 typ ${typ}`, sdpMid: '0', sdpMLineIndex: 0 } });
  const err = (code, url) => pc.onicecandidateerror({ errorCode: code, url });
  return { call, pc, sent, cand, err };
}

test('PeerCall: every TURN URL refused (4xx) and a srflx candidate: end-of-candidates at once, once', async () => {
  const { call, pc, sent, cand, err } = setup(SERVERS);
  try {
    await call.start();
    cand('host');
    err(701, 'stun:198.18.0.1:3478');          // unreachable from one interface: no refusal
    err(401, TURN);
    cand('srflx');
    assert.ok(!sent.includes('end-of-candidates'), `TURN over TCP not refused yet (${sent})`);
    assert.equal(call.noPathClock().gathered, false);
    err(401, 'turn:198.18.0.1:3478?transport=tcp');
    assert.deepEqual(sent.filter((t) => t === 'end-of-candidates').length, 1, `sent once (${sent})`);
    assert.equal(call.noPathClock().gathered, true, 'our own no-path evidence counts our side as done');
    cand('host');                                // a late host candidate still goes out
    pc.onicecandidate({ candidate: null });      // Chromium's own end: not said twice
    assert.deepEqual(sent.slice(-1), ['candidate']);
    assert.equal(sent.filter((t) => t === 'end-of-candidates').length, 1);
  } finally {
    call.close();
  }
});

test('PeerCall: no early end without a srflx candidate, for an unreachable server, or with TURN working', async () => {
  for (const [name, steps] of [
    ['refused, STUN not answered', (s) => { s.cand('host'); s.err(401, TURN); s.err(401, 'turn:198.18.0.1:3478?transport=tcp'); }],
    ['unreachable (701), srflx', (s) => { s.cand('srflx'); s.err(701, TURN); s.err(701, 'turn:198.18.0.1:3478?transport=tcp'); }],
    ['one URL refused, the other gave a relay', (s) => { s.cand('srflx'); s.err(401, TURN); s.cand('relay'); }],
  ]) {
    const s = setup(SERVERS);
    try {
      await s.call.start();
      steps(s);
      assert.ok(!s.sent.includes('end-of-candidates'), `${name}: no end-of-candidates (${s.sent})`);
      assert.equal(s.call.noPathClock().gathered, false, `${name}: our side not done`);
    } finally {
      s.call.close();
    }
  }
});
