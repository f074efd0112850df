// rtp-leg.mjs - one browser's side of a call as a real WebRTC endpoint
// (werift: ICE, DTLS-SRTP, RTP/RTCP in Node) that sends the synthetic media
// of rtp-stream.mjs and counts what it receives, for
// bench/forward-scale.mjs.
//
// Contract: new Leg({name, sourceId, seed, stream, seconds}) makes a
// RTCPeerConnection (max-bundle) with one audio (Opus) and one video (VP8:
// nack, pli, ccm fir, goog-remb, transport-cc) transceiver and the header
// extensions mid, abs-send-time (video) and transport-wide-cc, as Chromium
// offers them; host candidates on the namespace's interfaces plus
// 127.0.0.1. offer() / answer(sdp) / accept(sdp) negotiate (SDP with
// candidates, no trickle); connected() resolves when the PeerConnection
// is connected; start() switches to the lean RTP path (see there), after
// which sendDue(nowNs) sends the packets of its MediaSource that are due
// (the stamp written right before werift encrypts and sends them).
// Received packets are matched by their stamp's stream id to the source
// registered with expect(sourceId): for each packet index the one-way
// latency (receive - send, CLOCK_MONOTONIC) is kept once; further copies
// count as duplicates. window(from, to) reports for the indexes [from, to)
// of that source: expected, received, lost, latencies (ms); indexes are
// kept for `seconds` (default 300) of sending. pli counts the keyframe
// requests this leg's video sender got. close() ends the PeerConnection.
import './udp-buffers.mjs'; // before werift creates its sockets
import {
  ReceiverEstimatedMaxBitrate, RTCPeerConnection, RtcpPayloadSpecificFeedback, RtcpReceiverInfo, RtcpRrPacket,
  RtpHeader, serializeSdesMid, serializeTransportWideCC, useAbsSendTime, useOPUS, useSdesMid, useTransportWideCC,
  useVP8,
} from 'werift';
import { patchRtpHeader } from './fast-rtp.mjs';
import { MediaSource, readStamp } from './rtp-stream.mjs';

patchRtpHeader();

/** abs-send-time: 24-bit seconds in 6.18 fixed point (3 bytes). */
function absSendTime() {
  const v = Math.round(((performance.timeOrigin + performance.now()) / 1000) * 262144) & 0xffffff;
  return Buffer.from([v >> 16, (v >> 8) & 0xff, v & 0xff]);
}

const VIDEO_FB = [
  { type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' },
  { type: 'goog-remb' }, { type: 'transport-cc' },
];

const withTimeout = (p, ms, what) => Promise.race([
  p, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms).unref()),
]);

export class Leg {
  constructor({ name, sourceId, seed, stream = {}, seconds = 300 }) {
    this.name = name;
    this.source = new MediaSource({ id: sourceId, seed, ...stream });
    // one latency slot per packet index the peer can send in `seconds`
    // (packets beyond it would count as lost: keep it above the run's length)
    this.capacity = Math.ceil(this.source.packetsPerSecond() * seconds * 1.2);
    this.rx = null; // {id, lat: Float32Array (NaN = not received), dup, foreign}
    this.pli = 0;
    this.sendErrors = 0;
    this.seq = { audio: Math.floor(Math.random() * 30000), video: Math.floor(Math.random() * 30000) };
    this.pc = new RTCPeerConnection({
      codecs: {
        audio: [useOPUS({ parameters: 'minptime=10;useinbandfec=1', rtcpFeedback: [{ type: 'transport-cc' }] })],
        video: [useVP8({ rtcpFeedback: VIDEO_FB })],
      },
      headerExtensions: {
        audio: [useSdesMid(), useTransportWideCC()],
        video: [useSdesMid(), useAbsSendTime(), useTransportWideCC()],
      },
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceUseIpv6: false,
      iceUseTcp: false,
      bundlePolicy: 'max-bundle',
    });
    this.pc.onTransceiverAdded.subscribe((t) => this.hook(t));
  }

  hook(t) {
    t.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => this.onRtp(rtp));
    });
    t.sender.onPictureLossIndication.subscribe(() => { this.pli++; });
  }

  expect(sourceId) {
    this.rx = { id: sourceId >>> 0, lat: new Float32Array(this.capacity).fill(NaN), dup: 0, foreign: 0, late: 0, count: 0 };
  }

  onRtp(rtp) {
    const now = process.hrtime.bigint();
    const s = readStamp(rtp.payload);
    const rx = this.rx;
    if (!s || !rx || s.id !== rx.id) {
      if (rx) rx.foreign++;
      return;
    }
    if (s.index >= rx.lat.length) { rx.late++; return; }
    if (!Number.isNaN(rx.lat[s.index])) { rx.dup++; return; }
    rx.lat[s.index] = Number(now - s.sentNs) / 1e6;
    rx.count++;
  }

  transceivers() {
    const ts = this.pc.getTransceivers();
    const audio = ts.find((t) => t.kind === 'audio');
    const video = ts.find((t) => t.kind === 'video');
    if (!audio || !video) throw new Error(`${this.name}: no audio or video transceiver`);
    return { audio, video };
  }

  async offer() {
    this.pc.addTransceiver('audio', { direction: 'sendrecv' });
    this.pc.addTransceiver('video', { direction: 'sendrecv' });
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.pc.localDescription.sdp;
  }

  async answer(sdp) {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    for (const t of this.pc.getTransceivers()) t.setDirection('sendrecv');
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.pc.localDescription.sdp;
  }

  async accept(sdp) {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
  }

  connected(ms = 30000) {
    if (this.pc.connectionState === 'connected') return Promise.resolve();
    return withTimeout(new Promise((resolve, reject) => {
      const sub = this.pc.connectionStateChange.subscribe((st) => {
        if (st === 'connected') { sub.unSubscribe(); resolve(); }
        if (st === 'failed' || st === 'closed') { sub.unSubscribe(); reject(new Error(`${this.name}: ${st}`)); }
      });
    }), ms, `${this.name} connected`);
  }

  /**
   * After connected(): from here on RTP bypasses werift's RTCRtpSender and
   * RTCRtpReceiver (their per-packet bookkeeping costs ~50 us a packet in
   * Node, too much for 20 calls on one core): packets are built here with
   * the negotiated header extensions (mid, abs-send-time, transport-wide
   * sequence) and encrypted and sent by werift's DTLS-SRTP transport;
   * received RTP goes straight to onRtp. Every 500 ms the leg sends what a
   * browser's receiver sends besides TWCC feedback: a receiver report per
   * remote stream and a REMB of 2.5 Mbit/s.
   */
  start() {
    const { audio, video } = this.transceivers();
    this.dtls = video.sender.dtlsTransport;
    if (!this.dtls || audio.sender.dtlsTransport !== this.dtls) throw new Error(`${this.name}: not bundled`);
    const ids = (t) => Object.fromEntries((t.sender.headerExtensions || []).map((e) => [e.uri, e.id]));
    const out = {};
    for (const [kind, t] of [['audio', audio], ['video', video]]) {
      const x = ids(t);
      out[kind] = {
        pt: t.sender.codec?.payloadType, ssrc: t.sender.ssrc,
        mid: x['urn:ietf:params:rtp-hdrext:sdes:mid'], midBuf: serializeSdesMid(String(t.mid)),
        abs: x['http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'],
        twcc: x['http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'],
      };
      if (out[kind].pt === undefined) throw new Error(`${this.name}: no ${kind} codec negotiated`);
    }
    this.out = out;
    this.twccSeq = 0;
    this.remote = new Map(); // ssrc -> highest sequence seen
    this.pc.router.routeRtp = (rtp) => {
      this.remote.set(rtp.header.ssrc, rtp.header.sequenceNumber);
      this.onRtp(rtp);
    };
    this.rtcpTimer = setInterval(() => this.feedback(), 500);
    this.rtcpTimer.unref();
  }

  feedback() {
    if (!this.dtls || this.remote.size === 0) return;
    const me = this.out.video.ssrc;
    const reports = [...this.remote].map(([ssrc, seq]) => new RtcpReceiverInfo({
      ssrc, fractionLost: 0, packetsLost: 0, highestSequence: seq, jitter: 0, lsr: 0, dlsr: 0,
    }));
    const remb = new RtcpPayloadSpecificFeedback({
      feedback: new ReceiverEstimatedMaxBitrate({
        senderSsrc: me, mediaSsrc: 0, brExp: 4, brMantissa: 156250, ssrcNum: reports.length,
        ssrcFeedbacks: reports.map((r) => r.ssrc),
      }),
    });
    this.dtls.sendRtcp([new RtcpRrPacket({ ssrc: me, reports }), remb]).catch(() => {});
  }

  /** Sends what is due; returns the number of packets sent. */
  sendDue(nowNs) {
    const pkts = this.source.due(nowNs);
    for (const p of pkts) {
      const o = this.out[p.kind];
      const seq = this.seq[p.kind] = (this.seq[p.kind] + 1) & 0xffff;
      this.twccSeq = (this.twccSeq + 1) & 0xffff;
      const extensions = [];
      if (o.mid) extensions.push({ id: o.mid, payload: o.midBuf });
      if (o.abs) extensions.push({ id: o.abs, payload: absSendTime() });
      if (o.twcc) extensions.push({ id: o.twcc, payload: serializeTransportWideCC(this.twccSeq) });
      const header = new RtpHeader({
        payloadType: o.pt, sequenceNumber: seq, timestamp: p.rtpTimestamp, marker: p.marker, ssrc: o.ssrc,
        extension: extensions.length > 0, extensions,
      });
      this.source.stamp(p.payload, p.index, process.hrtime.bigint());
      this.dtls.sendRtp(p.payload, header).catch(() => { this.sendErrors++; });
    }
    return pkts.length;
  }

  /** Loss and latency over the packets [from, to) of the expected source. */
  window(from, to) {
    const lat = [];
    let received = 0;
    for (let i = from; i < to && i < this.rx.lat.length; i++) {
      const v = this.rx.lat[i];
      if (!Number.isNaN(v)) { received++; lat.push(v); }
    }
    const expected = to - from;
    return { expected, received, lost: expected - received, lat, dup: this.rx.dup };
  }

  async close() {
    clearInterval(this.rtcpTimer);
    try { await withTimeout(this.pc.close(), 5000, `${this.name} close`); } catch { /* gone */ }
  }
}
