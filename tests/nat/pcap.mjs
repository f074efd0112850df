// pcap.mjs - what Janus itself sees of a forwarded call: Janus' admin API
// dumps (start_pcap / start_text2pcap) of a handle's RTP after SRTP
// decryption, and parsers that look for plain media in them (issue 5).
//
// Contract:
// - consultHandles(janus) -> [{session_id, handle_id, info}] of every handle
//   attached to janus.plugin.consult (admin list_sessions/list_handles/
//   handle_info; sessions or handles that vanish meanwhile are skipped).
// - startDump(janus, h, {folder, filename, text}) / stopDump(janus, h, {text})
//   call Janus' admin start_pcap|start_text2pcap / stop_pcap|stop_text2pcap
//   on handle h ({session_id, handle_id}); throw unless Janus says success.
// - readDump(file) -> [{incoming, data: Buffer}]: a Janus .pcap (legacy
//   libpcap, fake Ethernet/IPv4/UDP headers of 42 bytes; incoming packets
//   have the fake source 10.1.1.1) or a text2pcap .txt ("I|O time 000000
//   hex bytes... RTP|RTCP|DATA ..." per line); the format is taken from the
//   file's magic number.
// - parseRtp(buf) -> {pt, seq, ts, ssrc, marker, payload} or null for RTCP
//   (second byte 192..223, RFC 5761), short or non-version-2 packets. CSRCs,
//   the header extension and padding are removed from payload.
// - payloadTypes(sdp) -> {vp8: Set<pt>, opus: Set<pt>} from a=rtpmap lines.
// - vp8StartCode(payload) -> {start: bool, keyframeTag: bool, found: bool}:
//   parses the VP8 payload descriptor (RFC 7741 section 4.2: X, S, PID; with
//   X the I/L/T/K byte, a 7- or 15-bit PictureID, TL0PICIDX, TID/KEYIDX);
//   for the start of partition 0 (S=1, PID=0) the 3-byte frame tag follows
//   and `found` is whether the keyframe start code 9d 01 2a comes right
//   after it (RFC 6386 section 9.1); keyframeTag is the tag's P bit = 0.
// - waitDump(file, what, enough, ms) polls the dump Janus is still writing
//   (readDump skips a last record not complete yet) until enough(packets)
//   is true; resolves with those packets, or rejects after ms naming what
//   and the packet count seen last. The dump's size is a condition, never
//   a fixed time of recording.
// - analyse(packets, {vp8, opus}) -> {rtp, video, videoStarts, startCodes,
//   keyframeTags, audio, tocValues (Map byte -> count), tocDistinct}:
//   over every RTP packet (both directions) whose payload type is VP8
//   resp. Opus (RTX and RED are not counted: different payload types).
// Helpers for forwarded calls in the lab (tests/nat/forward*.test.mjs):
// - callView(page) -> {mode, state, code, shownCode, path, pathText, e2ee,
//   counters, videoWidth, error} read from the page's test contract
//   (window.consult, [data-testid=verify-code], #path, #remote-video,
//   #call-error when shown).
// - waitForwarded(sc, {ms}) waits until both pages of sc.call are in mode
//   'forward', connected, with frames decoded and a selected pair; returns
//   {patient, doctor} each {snap (rtcSnapshot), view (callView)}. A page
//   that shows an error meanwhile (e.g. connection_lost: a forwarded leg's
//   ICE with Janus failed) fails it at once, naming the error: a lost leg
//   is a bug to find (it was the lab's block rule, see lab.mjs), never
//   something to dial again.
// - legs(janus) -> {doctor, patient} consult handles (consultHandles) by
//   plugin_specific kind/role; waitLegs(janus, {not}) waits until both
//   exist (and the doctor's is not the handle `not`, e.g. of an earlier
//   call); candidateAddrs(sdp) -> addresses of the a=candidate lines;
//   pcInfo(info) -> what in a handle_info shows a PeerConnection or a
//   forwarding leg ([] = none).

import fs from 'node:fs';
import { rtcSnapshot, waitFor } from '../browser/lib.mjs';

export async function adminCall(janus, body) {
  const { json, text, status } = await janus.adminRaw({
    transaction: Math.random().toString(36).slice(2),
    admin_secret: janus.adminSecret,
    ...body,
  });
  if (!json || json.janus !== 'success') {
    throw new Error(`admin ${body.janus}: HTTP ${status} ${String(text).slice(0, 300)}`);
  }
  return json;
}

export async function consultHandles(janus) {
  const out = [];
  const { sessions = [] } = await adminCall(janus, { janus: 'list_sessions' });
  for (const session_id of sessions) {
    let handles = [];
    try { ({ handles = [] } = await adminCall(janus, { janus: 'list_handles', session_id })); } catch { continue; }
    for (const handle_id of handles) {
      let info;
      try { ({ info } = await adminCall(janus, { janus: 'handle_info', session_id, handle_id })); } catch { continue; }
      if (info && info.plugin === 'janus.plugin.consult') out.push({ session_id, handle_id, info });
    }
  }
  return out;
}

export async function startDump(janus, h, { folder, filename, text = false }) {
  return adminCall(janus, {
    janus: text ? 'start_text2pcap' : 'start_pcap',
    session_id: h.session_id, handle_id: h.handle_id, folder, filename, truncate: 0,
  });
}

export async function stopDump(janus, h, { text = false } = {}) {
  return adminCall(janus, { janus: text ? 'stop_text2pcap' : 'stop_pcap', session_id: h.session_id, handle_id: h.handle_id });
}

const FAKE_HEADERS = 14 + 20 + 8; // Ethernet + IPv4 + UDP written by Janus' text2pcap.c

export function readDump(file) {
  const buf = fs.readFileSync(file);
  if (buf.length >= 24 && buf.readUInt32LE(0) === 0xa1b2c3d4) return readPcap(buf);
  return readText(buf.toString('latin1'));
}

function readPcap(buf) {
  const out = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const incl = buf.readUInt32LE(off + 8);
    const start = off + 16;
    const end = start + incl;
    if (end > buf.length) break; // a record still being written
    if (incl > FAKE_HEADERS) {
      const srcIp = buf.subarray(start + 14 + 12, start + 14 + 16);
      out.push({ incoming: srcIp[0] === 10 && srcIp[1] === 1, data: Buffer.from(buf.subarray(start + FAKE_HEADERS, end)) });
    }
    off = end;
  }
  return out;
}

function readText(text) {
  const out = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^([IO]) \S+ 000000 ((?: [0-9a-f]{2})+) (RTP|RTCP|DATA)/.exec(line);
    if (!m || m[3] === 'DATA') continue;
    out.push({ incoming: m[1] === 'I', data: Buffer.from(m[2].replace(/ /g, ''), 'hex') });
  }
  return out;
}

export async function waitDump(file, what, enough, ms = 60_000) {
  let seen = 0;
  try {
    return await waitFor(`dump ${file.split('/').pop()}: ${what}`, () => {
      let packets = [];
      try { packets = readDump(file); } catch { return null; } // not created yet
      seen = packets.length;
      return enough(packets) ? packets : null;
    }, ms, 500);
  } catch (err) {
    throw new Error(`${err.message}; ${seen} packets in the dump`);
  }
}

export function parseRtp(b) {
  if (!b || b.length < 12 || (b[0] >> 6) !== 2) return null;
  if (b[1] >= 192 && b[1] <= 223) return null; // RTCP (rtcp-mux)
  const cc = b[0] & 0x0f;
  let off = 12 + 4 * cc;
  if (b[0] & 0x10) { // header extension
    if (off + 4 > b.length) return null;
    off += 4 + 4 * b.readUInt16BE(off + 2);
  }
  let end = b.length;
  if (b[0] & 0x20) end -= b[b.length - 1]; // padding
  if (off > end) return null;
  return {
    pt: b[1] & 0x7f, marker: !!(b[1] & 0x80), seq: b.readUInt16BE(2), ts: b.readUInt32BE(4),
    ssrc: b.readUInt32BE(8), payload: b.subarray(off, end),
  };
}

export function payloadTypes(sdp) {
  const vp8 = new Set();
  const opus = new Set();
  for (const m of String(sdp || '').matchAll(/^a=rtpmap:(\d+) ([^/\s]+)\//gm)) {
    const name = m[2].toLowerCase();
    if (name === 'vp8') vp8.add(Number(m[1]));
    if (name === 'opus') opus.add(Number(m[1]));
  }
  return { vp8, opus };
}

export function vp8StartCode(p) {
  const r = { start: false, keyframeTag: false, found: false };
  if (!p || p.length < 1) return r;
  let i = 0;
  const x = p[i] & 0x80;
  const s = p[i] & 0x10;
  const pid = p[i] & 0x07;
  i += 1;
  if (x) {
    if (i >= p.length) return r;
    const ilt = p[i];
    i += 1;
    if (ilt & 0x80) { // I: PictureID, M bit -> 15 bits
      if (i >= p.length) return r;
      i += (p[i] & 0x80) ? 2 : 1;
    }
    if (ilt & 0x40) i += 1; // L: TL0PICIDX
    if (ilt & 0x30) i += 1; // T or K: TID/Y/KEYIDX
  }
  if (!(s && pid === 0)) return r;
  r.start = true;
  if (i + 6 > p.length) return r;
  r.keyframeTag = (p[i] & 0x01) === 0;
  r.found = p[i + 3] === 0x9d && p[i + 4] === 0x01 && p[i + 5] === 0x2a;
  return r;
}

export function analyse(packets, { vp8, opus }) {
  const a = { rtp: 0, video: 0, videoStarts: 0, startCodes: 0, keyframeTags: 0, audio: 0, tocValues: new Map(), tocDistinct: 0 };
  for (const pkt of packets) {
    const r = parseRtp(pkt.data);
    if (!r) continue;
    a.rtp += 1;
    if (vp8.has(r.pt)) {
      a.video += 1;
      const v = vp8StartCode(r.payload);
      if (v.start) a.videoStarts += 1;
      if (v.keyframeTag) a.keyframeTags += 1;
      if (v.found) a.startCodes += 1;
    } else if (opus.has(r.pt) && r.payload.length > 0) {
      a.audio += 1;
      a.tocValues.set(r.payload[0], (a.tocValues.get(r.payload[0]) || 0) + 1);
    }
  }
  a.tocDistinct = a.tocValues.size;
  return a;
}

// ---------------------------------------------------------------------------
// Forwarded calls in the lab

export function callView(page) {
  return page.evaluate(() => {
    const c = window.consult || {};
    const $ = (s) => document.querySelector(s);
    const err = $('#call-error');
    const v = $('#remote-video');
    const e = c.e2ee;
    return {
      mode: c.mode ?? null,
      state: c.state ?? null,
      code: c.verifyCode ?? null,
      shownCode: $('[data-testid=verify-code]') ? $('[data-testid=verify-code]').getAttribute('data-code') : null,
      shownText: $('[data-testid=verify-code]') ? $('[data-testid=verify-code]').textContent.trim() : null,
      path: $('#path') ? $('#path').getAttribute('data-path') : null,
      pathE2ee: $('#path') ? $('#path').getAttribute('data-e2ee') : null,
      pathText: $('#path') ? $('#path').textContent.trim() : null,
      counters: e && e.counters ? { ...e.counters } : null,
      videoWidth: v ? v.videoWidth : 0,
      error: err && !err.hidden ? err.getAttribute('data-error') : null,
      errorText: err && !err.hidden ? err.textContent.trim() : null,
    };
  });
}

export async function waitForwarded(sc, { ms = 60_000 } = {}) {
  const out = {};
  for (const [who, page] of [['patient', sc.call.patPage], ['doctor', sc.call.docPage]]) {
    let last = null;
    try {
      out[who] = await waitFor(`${who}: forwarding mode, connected, frames decoded`, async () => {
        const view = await callView(page);
        const snap = view.mode === 'forward' ? await rtcSnapshot(page) : null;
        last = { view, snap };
        if (view.error) return { error: view.error };
        if (!snap || snap.connectionState !== 'connected' || !(snap.framesDecoded > 0) || !snap.pair) return null;
        return last;
      }, ms, 250);
    } catch (err) {
      throw new Error(`${err.message}; last: ${JSON.stringify(last)}`);
    }
    if (out[who].error) throw new Error(`${who}: the call shows the error ${out[who].error} instead of a forwarded call; last: ${JSON.stringify(last)}`);
  }
  return out;
}

export async function legs(janus) {
  const all = await consultHandles(janus);
  const doctor = all.find((h) => h.info.plugin_specific && h.info.plugin_specific.kind === 'staff' && h.info.plugin_specific.role === 'doctor') || null;
  const patient = all.find((h) => h.info.plugin_specific && h.info.plugin_specific.kind === 'patient') || null;
  return { doctor, patient, all };
}

export async function waitLegs(janus, { not = null, ms = 30_000 } = {}) {
  return waitFor('the doctor\'s and the patient\'s consult handles of the current call', async () => {
    const l = await legs(janus);
    return l.doctor && l.patient && (!not || l.doctor.handle_id !== not.handle_id) ? l : null;
  }, ms, 250);
}

export const candidateAddrs = (sdp) => [...String(sdp || '').matchAll(/^a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ/gm)].map((m) => m[1]);

export function pcInfo(info) {
  const f = [];
  if (!info) return f;
  for (const k of ['webrtc', 'agent-created', 'agent-started', 'ice-mode', 'ice-role']) if (k in info) f.push(`${k} present`);
  const flags = info.flags || {};
  for (const k of ['got-offer', 'got-answer', 'negotiated', 'ready']) if (flags[k]) f.push(`flags.${k}`);
  if (info.sdps && (info.sdps.local || info.sdps.remote)) f.push('sdps');
  if (info.plugin_specific && info.plugin_specific.forward !== undefined) f.push('plugin_specific.forward');
  return f;
}
