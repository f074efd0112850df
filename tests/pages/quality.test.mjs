// quality.test.mjs: html/js/quality.mjs in node (no browser): the numbers
// read from getStats reports shaped as Chromium and Firefox give them, the
// three levels with their reasons and hints, the checks on numbers the other
// page sends, and the meter that keeps one stray sample from flipping the
// level shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LIMITS, MIN_PACKETS, QualityMeter, cleanNumbers, hintFor, judge, readStats,
} from '../../html/js/quality.mjs';

// A Chromium-like report: transport -> selected pair, audio and video in and
// out, what the other side reports of our sending (remote-inbound-rtp).
function chromium({
  t = 10_000, rtt = 0.04, bitrate = 2_500_000, audio = [500, 0], video = [1500, 0], frames = 300,
  fps = 30, height = 720, fractionLost = 0,
} = {}) {
  return new Map([
    ['T1', { id: 'T1', type: 'transport', timestamp: t, selectedCandidatePairId: 'CP1' }],
    ['CP1', { id: 'CP1', type: 'candidate-pair', timestamp: t, state: 'succeeded', nominated: true, currentRoundTripTime: rtt, availableOutgoingBitrate: bitrate }],
    ['CP2', { id: 'CP2', type: 'candidate-pair', timestamp: t, state: 'failed', currentRoundTripTime: 9 }],
    ['IA', { id: 'IA', type: 'inbound-rtp', kind: 'audio', timestamp: t, packetsReceived: audio[0], packetsLost: audio[1], bytesReceived: 40_000 }],
    ['IV', { id: 'IV', type: 'inbound-rtp', kind: 'video', timestamp: t, packetsReceived: video[0], packetsLost: video[1], bytesReceived: 900_000, framesDecoded: frames, framesPerSecond: fps, frameHeight: height, frameWidth: Math.round(height * 16 / 9) }],
    ['RV', { id: 'RV', type: 'remote-inbound-rtp', kind: 'video', timestamp: t, roundTripTime: 0.5, fractionLost }],
  ]);
}

test('readStats: Chromium - round trip, bitrate and picture of the selected pair and the received video', () => {
  const { numbers, state } = readStats(chromium(), null);
  assert.deepEqual(numbers, { rttMs: 40, lossPct: 0, fps: 30, height: 720, bitrateKbps: 2500 });
  assert.deepEqual(state, { received: 2000, lost: 0, frames: 300, at: 10_000 });
});

test('readStats: loss since the sample before, inbound and what the other side lost of ours', () => {
  const first = readStats(chromium(), null);
  // 100 more audio packets, 300 more video packets, 40 of them lost
  const second = readStats(chromium({ t: 12_000, audio: [600, 0], video: [1760, 40] }), first.state);
  assert.equal(second.numbers.lossPct, 10);
  // the other side lost more of ours: that counts
  const third = readStats(chromium({ t: 14_000, audio: [700, 0], video: [2060, 40], fractionLost: 0.25 }), second.state);
  assert.equal(third.numbers.lossPct, 25);
  // too few packets since the last sample: no inbound loss figure
  const few = readStats(chromium({ t: 16_000, audio: [700 + MIN_PACKETS - 8, 0], video: [2060, 43] }), third.state);
  assert.equal(few.numbers.lossPct, 0, 'only fractionLost 0 is known (3 of 15 packets lost is no figure)');
});

test('readStats: Firefox - pair marked selected, no outgoing bitrate, frame rate from frames decoded', () => {
  const report = (t, frames) => [
    { id: 'p', type: 'candidate-pair', timestamp: t, selected: true, state: 'succeeded' },
    { id: 'v', type: 'inbound-rtp', kind: 'video', timestamp: t, packetsReceived: 100 + frames, packetsLost: 0, framesDecoded: frames, frameHeight: 240 },
    { id: 'r', type: 'remote-inbound-rtp', kind: 'audio', timestamp: t, roundTripTime: 0.12 },
  ];
  const a = readStats(report(1000, 10), null);
  assert.equal(a.numbers.fps, null, 'no frame rate from a single sample');
  assert.equal(a.numbers.rttMs, 120, 'round trip from remote-inbound-rtp when the pair has none');
  assert.equal(a.numbers.bitrateKbps, null);
  const b = readStats(report(3000, 50), a.state);
  assert.equal(b.numbers.fps, 20);
  assert.equal(b.numbers.height, 240);
});

test('readStats: an empty or missing report knows nothing', () => {
  assert.deepEqual(readStats(null, null).numbers, { rttMs: null, lossPct: null, fps: null, height: null, bitrateKbps: null });
  assert.deepEqual(readStats([], null).numbers, { rttMs: null, lossPct: null, fps: null, height: null, bitrateKbps: null });
});

test('judge: the worst number decides; reasons name it', () => {
  const good = { rttMs: 50, lossPct: 0, fps: 30, height: 720, bitrateKbps: 2000 };
  assert.deepEqual(judge(good), { level: 'good', reasons: [] });
  assert.deepEqual(judge({ ...good, rttMs: LIMITS.rttMs[0] }), { level: 'fair', reasons: ['rttMs'] });
  assert.deepEqual(judge({ ...good, rttMs: 400, lossPct: 12 }), { level: 'poor', reasons: ['lossPct'] });
  assert.deepEqual(judge({ ...good, bitrateKbps: 100, height: 120 }), { level: 'poor', reasons: ['height', 'bitrateKbps'] });
  assert.deepEqual(judge({ ...good, fps: 10 }), { level: 'fair', reasons: ['fps'] });
  assert.deepEqual(judge({}), { level: null, reasons: [] });
  assert.deepEqual(judge(null), { level: null, reasons: [] });
});

test('judge: a shared screen or a switched-off camera is no picture problem', () => {
  const still = { rttMs: 50, lossPct: 0, fps: 1, height: 720, bitrateKbps: 2000 };
  assert.equal(judge(still).level, 'good', 'one black frame a second: the camera is off');
  const screen = { rttMs: 50, lossPct: 0, fps: 5, height: 90, bitrateKbps: 2000 };
  assert.equal(judge(screen).level, 'poor', 'a camera picture at 5 frames/s and 90 lines is poor');
  assert.equal(judge(screen, { video: 'screen' }).level, 'good', 'a shared screen changes rarely');
  assert.equal(judge(screen, { video: 'off' }).level, 'good');
  assert.equal(judge({ ...screen, lossPct: 20 }, { video: 'screen' }).level, 'poor', 'loss still counts');
});

test('judge: while the connection warms up, only round trip and loss count', () => {
  const start = { rttMs: 40, lossPct: 0, fps: 20, height: 180, bitrateKbps: 300 };
  assert.equal(judge(start).level, 'poor', 'the first picture of a call: 180 lines');
  assert.deepEqual(judge(start, { warm: true }), { level: 'good', reasons: [] });
  assert.deepEqual(judge({ ...start, lossPct: 9 }, { warm: true }), { level: 'poor', reasons: ['lossPct'] });
  assert.deepEqual(judge({ ...start, rttMs: 350 }, { warm: true }), { level: 'fair', reasons: ['rttMs'] });
  assert.deepEqual(judge({ fps: 2, height: 90, bitrateKbps: 10 }, { warm: true }), { level: null, reasons: [] });
});

test('hintFor: the router for loss or delay, the camera for too little bandwidth, nothing unless poor', () => {
  assert.equal(hintFor(judge({ lossPct: 15 })), 'wifi');
  assert.equal(hintFor(judge({ rttMs: 900, bitrateKbps: 50 })), 'wifi');
  assert.equal(hintFor(judge({ bitrateKbps: 50 }), { cameraOn: true }), 'camera');
  assert.equal(hintFor(judge({ bitrateKbps: 50 }), { cameraOn: false }), 'wifi');
  assert.equal(hintFor(judge({ lossPct: 4 })), null, 'fair: no hint');
  assert.equal(hintFor(judge({ rttMs: 20 })), null);
  assert.equal(hintFor(null), null);
});

test('cleanNumbers: only finite numbers within range pass; anything else is unknown', () => {
  assert.deepEqual(cleanNumbers({ rttMs: 80, lossPct: 1.5, fps: 24, height: 480, bitrateKbps: 900, extra: 'x' }),
    { rttMs: 80, lossPct: 1.5, fps: 24, height: 480, bitrateKbps: 900 });
  assert.deepEqual(cleanNumbers({ rttMs: '80', lossPct: NaN, fps: -1, height: Infinity, bitrateKbps: 1e12 }),
    { rttMs: null, lossPct: null, fps: null, height: null, bitrateKbps: null });
  assert.deepEqual(cleanNumbers({ lossPct: 101, rttMs: null }), { rttMs: null, lossPct: null, fps: null, height: null, bitrateKbps: null });
  for (const bad of [null, undefined, 'good', 42, []]) {
    assert.deepEqual(cleanNumbers(bad), { rttMs: null, lossPct: null, fps: null, height: null, bitrateKbps: null });
  }
});

test('QualityMeter: first level at once, worse after two samples, better after three', () => {
  const m = new QualityMeter();
  assert.equal(m.push(null), null, 'nothing known yet');
  assert.equal(m.push('good'), 'good');
  assert.equal(m.push('poor'), 'good', 'one bad sample is not enough');
  assert.equal(m.push('good'), 'good');
  assert.equal(m.push('poor'), 'good');
  assert.equal(m.push('fair'), 'fair', 'two worse samples in a row: the milder of them');
  assert.equal(m.push('poor'), 'fair');
  assert.equal(m.push('poor'), 'poor');
  assert.equal(m.push('good'), 'poor');
  assert.equal(m.push('good'), 'poor');
  assert.equal(m.push('poor'), 'poor', 'a relapse restarts the way up');
  assert.equal(m.push('good'), 'poor');
  assert.equal(m.push('fair'), 'poor');
  assert.equal(m.push('good'), 'fair', 'three better samples: the worst of them');
  assert.equal(m.push('bogus'), 'fair', 'unknown words change nothing');
  m.reset();
  assert.equal(m.level, null);
  assert.equal(m.push('poor'), 'poor');
});
