// rtp-stream.mjs - a synthetic 720p call's media as RTP payloads, for the
// forwarding benchmark (bench/forward-scale.mjs).
//
// Contract: new MediaSource({id, seed, videoKbps, fps, audioBytes,
// keyframeSeconds, e2eeBytes, maxPayload}) models what one consult page
// sends in forwarding mode: VP8 video at `fps` frames/s averaging
// `videoKbps`, a keyframe (`KEYFRAME_FACTOR` x a delta frame) at the start
// and every `keyframeSeconds`, delta frames varying +-25 % (a seeded PRNG:
// the same seed gives the same sizes, so two runs carry identical traffic),
// each frame plus `e2eeBytes` (the E2EE trailer: 16-byte tag, 12-byte IV,
// key id) split into packets of at most `maxPayload` bytes of equal size as
// libwebrtc's packetizer does, with a 1-byte VP8 payload descriptor and a
// VP8 frame header on the first packet (key/delta flag, 1280x720 on
// keyframes) left clear as the E2EE transform does; Opus audio every 20 ms
// with `audioBytes` + `e2eeBytes` bytes. The rest of each payload is random
// (ciphertext to Janus), its last STAMP_BYTES carry a stamp: magic, stream
// id, packet index, send time (process.hrtime, ns) for the receiver's loss
// and latency count.
// due(nowNs) returns the packets whose time has come, in order (after a
// stall of this process of more than STALL_MS the missed frames are
// skipped, counted in sent.skippedFrames, not sent in a burst):
// {kind: 'audio'|'video', marker, rtpTimestamp, payload(Buffer without
// stamp), index}; stamp(payload, index) writes the stamp just before send.
import crypto from 'node:crypto';

export const STAMP_BYTES = 20;
const MAGIC = 0x43534c54; // "CSLT"
export const KEYFRAME_FACTOR = 4;
export const STALL_MS = 100;

/** Deterministic PRNG (mulberry32): the same seed gives the same frame sizes. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FILLER = crypto.randomBytes(2048);

export class MediaSource {
  constructor({ id, seed = id, videoKbps = 2500, fps = 30, audioBytes = 80, keyframeSeconds = 10,
    e2eeBytes = 29, maxPayload = 1160 } = {}) {
    this.id = id >>> 0;
    this.rand = prng(seed);
    this.fps = fps;
    this.maxPayload = maxPayload;
    this.e2eeBytes = e2eeBytes;
    this.audioBytes = audioBytes;
    this.keyEvery = Math.max(1, Math.round(keyframeSeconds * fps));
    const mean = (videoKbps * 1000) / 8 / fps;
    // keyframes take KEYFRAME_FACTOR x a delta frame; the mean over a
    // keyframe interval stays at videoKbps
    this.deltaMean = (mean * this.keyEvery) / (this.keyEvery - 1 + KEYFRAME_FACTOR);
    this.frame = 0;
    this.audioFrame = 0;
    this.index = 0;          // packet index over both kinds (the stamp's counter)
    this.start = null;       // ns of the first due() call
    this.sent = { frames: 0, keyframes: 0, skippedFrames: 0 };
    this.stalls = 0;         // times due() found itself more than STALL_MS behind
  }

  /** Packets per second this source sends on average (both kinds). */
  packetsPerSecond() {
    const frame = this.deltaMean * 1.25 + this.e2eeBytes; // the largest delta frame
    return this.fps * Math.ceil(frame / (this.maxPayload - 1)) + 50;
  }

  videoFrameBytes(key) {
    const delta = this.deltaMean * (0.75 + 0.5 * this.rand());
    return Math.round(key ? this.deltaMean * KEYFRAME_FACTOR : delta) + this.e2eeBytes;
  }

  videoPackets() {
    const key = this.frame % this.keyEvery === 0;
    const size = this.videoFrameBytes(key);
    const n = Math.ceil(size / (this.maxPayload - 1));
    const per = Math.ceil(size / n);
    const ts = (this.frame * Math.round(90000 / this.fps)) >>> 0;
    const out = [];
    let left = size;
    for (let i = 0; i < n; i++) {
      const body = Math.min(per, left);
      left -= body;
      const p = Buffer.allocUnsafe(1 + Math.max(body, STAMP_BYTES + 10));
      FILLER.copy(p, 0, 0, p.length);
      p[0] = i === 0 ? 0x10 : 0x00; // VP8 descriptor: S bit on a frame's first packet, PID 0
      if (i === 0) {
        // VP8 frame header (clear under E2EE): P bit 0 = keyframe, show_frame
        p[1] = key ? 0x10 : 0x11;
        if (key) {
          p[4] = 0x9d; p[5] = 0x01; p[6] = 0x2a;
          p.writeUInt16LE(1280, 7);
          p.writeUInt16LE(720, 9);
        }
      }
      out.push({ kind: 'video', marker: i === n - 1, rtpTimestamp: ts, payload: p, index: this.index++ });
    }
    this.frame++;
    this.sent.frames++;
    if (key) this.sent.keyframes++;
    return out;
  }

  audioPacket() {
    const p = Buffer.allocUnsafe(Math.max(this.audioBytes + this.e2eeBytes, STAMP_BYTES));
    FILLER.copy(p, 0, 100, 100 + p.length);
    const ts = (this.audioFrame * 960) >>> 0;
    this.audioFrame++;
    return { kind: 'audio', marker: false, rtpTimestamp: ts, payload: p, index: this.index++ };
  }

  /** Packets due at nowNs (bigint ns), video frames and audio frames interleaved by time. */
  due(nowNs) {
    if (this.start === null) this.start = nowNs;
    const el = Number(nowNs - this.start) / 1e6; // ms
    // More than STALL_MS behind (this process was not scheduled): skip the
    // backlog like an encoder that drops frames, instead of bursting it out
    // at once (a burst of hundreds of packets overflows a receiver's socket
    // buffer and would be counted as the relay's loss).
    const behind = el - Math.min((this.frame * 1000) / this.fps, this.audioFrame * 20);
    if (behind > STALL_MS) {
      const vf = Math.floor((el * this.fps) / 1000);
      const af = Math.floor(el / 20);
      this.sent.skippedFrames += Math.max(0, vf - this.frame);
      this.frame = Math.max(this.frame, vf);
      this.audioFrame = Math.max(this.audioFrame, af);
      this.stalls++;
    }
    const out = [];
    for (;;) {
      const tv = (this.frame * 1000) / this.fps;
      const ta = this.audioFrame * 20;
      if (tv > el && ta > el) break;
      if (ta <= tv) out.push(this.audioPacket());
      else out.push(...this.videoPackets());
    }
    return out;
  }

  /** Write the stamp into the payload's last STAMP_BYTES (call right before sending). */
  stamp(p, index, nowNs) {
    const o = p.length - STAMP_BYTES;
    p.writeUInt32BE(MAGIC, o);
    p.writeUInt32BE(this.id, o + 4);
    p.writeUInt32BE(index >>> 0, o + 8);
    p.writeBigUInt64BE(nowNs, o + 12);
  }
}

/** {id, index, sentNs} from a received payload's stamp, or null. */
export function readStamp(p) {
  if (!p || p.length < STAMP_BYTES) return null;
  const o = p.length - STAMP_BYTES;
  if (p.readUInt32BE(o) !== MAGIC) return null;
  return { id: p.readUInt32BE(o + 4), index: p.readUInt32BE(o + 8), sentNs: p.readBigUInt64BE(o + 12) };
}
