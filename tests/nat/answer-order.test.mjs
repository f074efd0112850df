// rtc.mjs PeerCall, the answerer's side of the first offer: the offerer's
// candidates, which follow its offer, reach ICE without waiting for the
// server's reply to our answer (measured, bench/callsetup.mjs: that wait
// held the patient's checks back by one signalling round trip, 5-90 ms on
// the relay path). An ICE restart's answer is still waited for. The
// RTCPeerConnection and the signalling client are stand-ins that record the
// calls (no browser: the order of the calls is what is tested; the real
// pages run the same code in tests/nat/relay.test.mjs and the forward tests).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerCall, connectionKey } from '../../html/js/rtc.mjs';

function fakePc(log) {
  return {
    signalingState: 'stable', iceConnectionState: 'new', iceGatheringState: 'new', connectionState: 'new',
    localDescription: null, remoteDescription: null,
    addTrack() {}, getSenders: () => [], getStats: async () => new Map(), close() {},
    addEventListener() {}, removeEventListener() {},
    async setRemoteDescription(d) { this.remoteDescription = d; this.signalingState = 'have-remote-offer'; log.push(`srd ${d.type}`); },
    async createAnswer() { return { type: 'answer', sdp: 'v=0\r\n' }; },
    async setLocalDescription(d) { this.localDescription = d; this.signalingState = 'stable'; log.push(`sld ${d.type}`); },
    async addIceCandidate(c) { log.push(c ? `cand ${c.candidate}` : 'end'); },
  };
}

function setup() {
  const log = [];
  const replies = [];
  const client = {
    request(body) {
      log.push(`> ${body.request} ${body.type || ''}`.trim());
      if (body.type !== 'answer') return Promise.resolve({});
      return new Promise((resolve) => replies.push(() => { log.push('< answer reply'); resolve({}); }));
    },
  };
  const config = { iceServers: [], iceTransportPolicy: 'all' };
  const pc = fakePc(log);
  const prepared = { pc, key: connectionKey(config), errors: [], taken() {}, close() {} };
  const call = new PeerCall({ client, ...config, prepared, forward: 'never' });
  return { call, log, replies };
}

const settle = () => new Promise((r) => setImmediate(r));
const cand = (n) => ({ type: 'candidate', candidate: { candidate: `candidate:${n} 1 udp 1 198.51.100.2 ${5000 + n} typ host`, sdpMid: '0', sdpMLineIndex: 0 } });

test('the first answer: the offerer\'s candidates are applied before the server replied to it', async () => {
  const { call, log, replies } = setup();
  try {
    call.handleSignal({ type: 'offer', sdp: 'v=0\r\n' });
    call.handleSignal(cand(1));
    call.handleSignal(cand(2));
    for (let i = 0; i < 20 && !log.includes('cand candidate:2 1 udp 1 198.51.100.2 5002 typ host'); i++) await settle();
    assert.equal(replies.length, 1, 'the answer was sent');
    assert.ok(!log.includes('< answer reply'), 'the reply is still outstanding');
    assert.deepEqual(log.filter((l) => l.startsWith('cand')).length, 2, `both candidates applied (${log.join(', ')})`);
    assert.ok(log.indexOf('> signal answer') < log.indexOf('cand candidate:1 1 udp 1 198.51.100.2 5001 typ host'), 'after our answer went out');
    replies[0]();
    await call.chain;
  } finally {
    call.close();
  }
});

test('an ICE restart\'s answer: the signals behind it wait for the server\'s reply', async () => {
  const { call, log, replies } = setup();
  try {
    call.handleSignal({ type: 'offer', sdp: 'v=0\r\n' });
    for (let i = 0; i < 20 && !replies.length; i++) await settle();
    replies[0]();
    await call.chain;
    call.handleSignal({ type: 'offer', sdp: 'v=0\r\n' });   // the restart
    call.handleSignal(cand(3));
    for (let i = 0; i < 20 && replies.length < 2; i++) await settle();
    for (let i = 0; i < 10; i++) await settle();
    assert.equal(replies.length, 2, 'the restart\'s answer was sent');
    assert.ok(!log.some((l) => l.includes('5003')), `the candidate waits for the reply (${log.join(', ')})`);
    replies[1]();
    await call.chain;
    assert.ok(log.some((l) => l.includes('5003')), 'then it is applied');
  } finally {
    call.close();
  }
});
