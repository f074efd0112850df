// quality.mjs: the connection quality of a call in three plain levels, from
// getStats (docs/pages.md, "Connection quality"). Pure: no DOM, no timers,
// no clock of its own; callquality.mjs samples and shows it, and the tests
// in tests/pages/quality.test.mjs run it in node.
// Contract:
//   LEVELS = ['good', 'fair', 'poor']
//   LIMITS: per number [fair from, poor from]; a number at or beyond the
//     limit gives that level (rttMs, lossPct: higher is worse; fps, height,
//     bitrateKbps: lower is worse). Chosen so that a call on a quiet network
//     is "gut" from its first seconds (Chromium starts sending 640x360 at
//     300 kbit/s and climbs; measured on loopback: 360 -> 540 -> 720 lines in
//     about 20 s, 14-21 frames/s from a 20 frames/s camera on the busy test
//     machine), and a network that makes talking hard is "schlecht": a
//     round trip of 600 ms, 8 % loss, 6 frames/s, 180 lines or 100 kbit/s.
//   readStats(report, prev) -> {numbers, state}
//     report: the stats of one getStats() (an RTCStatsReport, or any
//     iterable / array of stats objects); prev: the `state` of the sample
//     before (null for the first). numbers: {rttMs, lossPct, fps, height,
//     bitrateKbps}, each a finite number or null (not known):
//       rttMs        selected pair's currentRoundTripTime (else the largest
//                    remote-inbound-rtp roundTripTime), in ms
//       lossPct      the worse of: packets lost of all inbound-rtp since prev
//                    (needs >= MIN_PACKETS packets), and remote-inbound-rtp
//                    fractionLost (what the other side lost of ours), in %
//       fps, height  the received video: framesPerSecond (else frames
//                    decoded since prev per second) and frameHeight
//       bitrateKbps  selected pair's availableOutgoingBitrate (Chromium), kbps
//   judge(numbers, {video, warm}) -> {level, reasons}: the worst level any
//     known number gives; reasons lists the numbers at `poor` (or, when none
//     is, at `fair`). video 'camera' (default) judges fps and height;
//     'screen' (shared screen: few frames by nature) and 'off' do not; fps
//     below STILL_FPS counts as 'off' (a switched-off camera sends about one
//     black frame a second). warm: the connection is younger than WARMUP_MS
//     - only round trip and loss count, since the sender starts low and
//     climbs (measured: the first picture has 180 lines, the bandwidth
//     estimate starts at 300 kbit/s). Nothing known -> level null.
//   hintFor(result, {cameraOn}) -> 'wifi' | 'camera' | null: only for
//     `poor`; 'wifi' when loss or round-trip time is a reason ("Bitte näher
//     an den WLAN-Router"), else 'camera' while the own camera is on
//     ("Kamera ausschalten verbessert den Ton"), else 'wifi'.
//   cleanNumbers(obj) -> numbers: what the other page sent (callchannel
//     `quality`), each a finite number within RANGES or null; never throws.
//   new QualityMeter() .push(level) -> the level to show: a worse level
//     after DOWN_SAMPLES samples in a row at it (or worse), a better one
//     after UP_SAMPLES in a row; the first level at once; null (nothing
//     known) is skipped; .reset() forgets.

export const LEVELS = Object.freeze(['good', 'fair', 'poor']);

export const LIMITS = Object.freeze({
  rttMs: [300, 600],
  lossPct: [2, 8],
  fps: [12, 6],
  height: [270, 180],
  bitrateKbps: [250, 100],
});

const HIGHER_IS_WORSE = new Set(['rttMs', 'lossPct']);
export const MIN_PACKETS = 20;
export const STILL_FPS = 3;
export const WARMUP_MS = 20000;
const RAMPING = new Set(['fps', 'height', 'bitrateKbps']);
export const DOWN_SAMPLES = 2;
export const UP_SAMPLES = 3;

export const RANGES = Object.freeze({
  rttMs: [0, 60000],
  lossPct: [0, 100],
  fps: [0, 240],
  height: [0, 10000],
  bitrateKbps: [0, 1000000],
});

const NAMES = Object.keys(LIMITS);

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const rank = (level) => LEVELS.indexOf(level);

function emptyNumbers() {
  return { rttMs: null, lossPct: null, fps: null, height: null, bitrateKbps: null };
}

function values(report) {
  if (!report) return [];
  if (typeof report.values === 'function' && !Array.isArray(report)) return [...report.values()];
  return [...report];
}

export function readStats(report, prev) {
  const all = values(report).filter((s) => s && typeof s === 'object');
  const byId = new Map(all.map((s) => [s.id, s]));
  const kindOf = (s) => s.kind || s.mediaType;
  const numbers = emptyNumbers();

  let pair = null;
  for (const s of all) {
    if (s.type === 'transport' && s.selectedCandidatePairId && byId.get(s.selectedCandidatePairId)) {
      pair = byId.get(s.selectedCandidatePairId);
      break;
    }
  }
  if (!pair) pair = all.find((s) => s.type === 'candidate-pair' && (s.selected === true || (s.nominated && s.state === 'succeeded'))) || null;

  const rtt = pair ? num(pair.currentRoundTripTime) : null;
  if (rtt !== null) numbers.rttMs = rtt * 1000;
  else {
    for (const s of all) {
      const r = s.type === 'remote-inbound-rtp' ? num(s.roundTripTime) : null;
      if (r !== null) numbers.rttMs = Math.max(numbers.rttMs ?? 0, r * 1000);
    }
  }
  const out = pair ? num(pair.availableOutgoingBitrate) : null;
  if (out !== null) numbers.bitrateKbps = out / 1000;

  // inbound packets: the loss since the last sample
  let received = 0;
  let lost = 0;
  let video = null;
  for (const s of all) {
    if (s.type !== 'inbound-rtp') continue;
    received += Math.max(0, num(s.packetsReceived) ?? 0);
    lost += Math.max(0, num(s.packetsLost) ?? 0);
    if (kindOf(s) === 'video' && (!video || (num(s.bytesReceived) ?? 0) > (num(video.bytesReceived) ?? 0))) video = s;
  }
  const state = { received, lost, frames: video ? num(video.framesDecoded) : null, at: null };
  let at = null;
  for (const s of all) { if (num(s.timestamp) !== null) { at = s.timestamp; break; } }
  state.at = at;

  let lossIn = null;
  if (prev) {
    const dr = received - prev.received;
    const dl = lost - prev.lost;
    if (dr >= 0 && dl >= 0 && dr + dl >= MIN_PACKETS) lossIn = (100 * dl) / (dr + dl);
  }
  let lossOut = null;
  for (const s of all) {
    const f = s.type === 'remote-inbound-rtp' ? num(s.fractionLost) : null;
    if (f !== null) lossOut = Math.max(lossOut ?? 0, f * 100);
  }
  if (lossIn !== null || lossOut !== null) numbers.lossPct = Math.max(lossIn ?? 0, lossOut ?? 0);

  if (video) {
    const fps = num(video.framesPerSecond);
    if (fps !== null) numbers.fps = fps;
    else if (prev && prev.frames !== null && state.frames !== null && at !== null && prev.at !== null && at > prev.at) {
      numbers.fps = (1000 * Math.max(0, state.frames - prev.frames)) / (at - prev.at);
    }
    const h = num(video.frameHeight);
    if (h !== null) numbers.height = h;
  }
  return { numbers, state };
}

function levelOf(name, v) {
  const [fair, poor] = LIMITS[name];
  if (HIGHER_IS_WORSE.has(name)) return v >= poor ? 'poor' : v >= fair ? 'fair' : 'good';
  return v <= poor ? 'poor' : v <= fair ? 'fair' : 'good';
}

export function judge(numbers, { video = 'camera', warm = false } = {}) {
  const n = numbers || {};
  const judged = {};
  for (const name of NAMES) {
    const v = num(n[name]);
    if (v === null) continue;
    if ((name === 'fps' || name === 'height') && video !== 'camera') continue;
    if (warm && RAMPING.has(name)) continue;
    judged[name] = v;
  }
  // a still picture: the camera is off (black frames) - not a quality problem
  if (judged.fps !== undefined && judged.fps < STILL_FPS) {
    delete judged.fps;
    delete judged.height;
  }
  const names = Object.keys(judged);
  if (!names.length) return { level: null, reasons: [] };
  const levels = names.map((name) => [name, levelOf(name, judged[name])]);
  const worst = levels.reduce((w, [, l]) => (rank(l) > rank(w) ? l : w), 'good');
  return { level: worst, reasons: worst === 'good' ? [] : levels.filter(([, l]) => l === worst).map(([name]) => name) };
}

export function hintFor(result, { cameraOn = true } = {}) {
  if (!result || result.level !== 'poor') return null;
  const r = result.reasons || [];
  if (r.includes('lossPct') || r.includes('rttMs')) return 'wifi';
  return cameraOn ? 'camera' : 'wifi';
}

export function cleanNumbers(obj) {
  const out = emptyNumbers();
  if (!obj || typeof obj !== 'object') return out;
  for (const name of NAMES) {
    const v = num(obj[name]);
    const [lo, hi] = RANGES[name];
    if (v !== null && v >= lo && v <= hi) out[name] = v;
  }
  return out;
}

export class QualityMeter {
  constructor() { this.reset(); }

  reset() {
    this.level = null;
    this.run = [];     // the latest levels that differ from the shown one
  }

  push(level) {
    if (!LEVELS.includes(level)) return this.level;
    if (this.level === null) {
      this.level = level;
      this.run = [];
      return this.level;
    }
    if (level === this.level) { this.run = []; return this.level; }
    const worse = rank(level) > rank(this.level);
    // a run goes one way: a sample the other way (or back) starts it anew
    if (this.run.length && (rank(this.run[0]) > rank(this.level)) !== worse) this.run = [];
    this.run.push(level);
    const need = worse ? DOWN_SAMPLES : UP_SAMPLES;
    if (this.run.length >= need) {
      // the mildest level of the run: it held for the whole run
      const levels = this.run.slice(-need);
      this.level = worse
        ? levels.reduce((m, l) => (rank(l) < rank(m) ? l : m))
        : levels.reduce((m, l) => (rank(l) > rank(m) ? l : m));
      this.run = [];
    }
    return this.level;
  }
}
