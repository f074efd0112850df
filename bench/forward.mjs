#!/usr/bin/env node
// forward.mjs - forwarding mode (issue 5) measured in the NAT lab of
// tests/nat: the fallback time in the network shapes where the
// peer-to-peer attempt cannot work, and Janus' CPU per forwarded call.
//
// (a) Fallback time, per shape, N runs (default 5) of the real pages: book
//     (WebSocket), the patient joins, the doctor calls, the patient accepts.
//     Shapes (each browser behind its own cone NAT):
//       turn-blocked  every packet to coturn dropped, direct path open
//       only-janus    every packet to coturn dropped, direct path blocked
//                     (everything but Janus blocked)
//       turn-refused  coturn answers 401 (the plugin's turn_secret is not
//                     coturn's), STUN works, direct path blocked
//       no-turn       no STUN/TURN configured at all, direct path blocked
//       udp-blocked   every UDP packet dropped, TURN over TCP offered: not a
//                     forwarding shape (Janus' media is UDP too); the call
//                     relays over TCP and is measured as such
//       tls-only      every UDP packet and TCP to coturn's plain port dropped,
//                     TURN over UDP, TCP and TLS offered: only TURN/TLS gets
//                     through (coturn's TLS listener, the lab's self-signed
//                     certificate trusted by its key); not a forwarding
//                     shape either: relay over TLS
//       tls-blocked   TURN over UDP, TCP and TLS offered, all three blocked,
//                     direct path blocked (Janus reachable): forwarded
//     Measured in each page (Date.now(), the same machine clock as this
//     process): from the patient's click on #accept-call to the first
//     decoded video frame of the call's PeerConnection, per side ("both" =
//     the later), the moment the page switched to mode 'forward', the cause
//     of the doctor's `forward` request and, from the doctor's console, the
//     no-path verdict (reason, ms after the offer). p2p_timeout_seconds is
//     the product default (10) unless --p2p-timeout is given: it is only
//     the last resort, the switch comes from evidence (rtc.mjs noPathVerdict).
// (b) Janus' CPU per forwarded call (shape no-turn): the same Janus also
//     loads Janus' own janus.plugin.videocall (a symlink next to consult's,
//     harness option extraPlugins). Janus' utime+stime (/proc/<pid>/stat)
//     over a fixed window (default 30 s) is measured with nothing running
//     (idle), with one consult call forwarded (E2EE pages), and with one
//     videocall call between two Chromiums (bench/videocall.html: janus.js,
//     the same fake camera flags and getUserMedia constraints), rounds
//     alternating. Per call = window CPU - idle CPU of the same length;
//     written as a ratio consult / videocall, with the media rate each call
//     put through Janus (the pages' outbound bytes and frame sizes), since
//     the CPU follows the packet rate.
// Writes bench/results/forward-YYYY-MM-DD.md (appends a section if it
// exists). No pass/fail: a measurement.
//
// Usage (root; re-executes itself in scripts/lib/in-lo-netns unless already
// inside a named network namespace):
//   node bench/forward.mjs [--runs 5] [--shapes turn-blocked,only-janus,turn-refused,no-turn,udp-blocked,tls-only,tls-blocked]
//                          [--rounds 2] [--window 30] [--p2p-timeout S] [--skip-setup] [--skip-cpu] [--out FILE]
//                          [--timeline] [--max-load L [--max-wait S]]
// --timeline: both browsers stamp every phase of the setup in the pages
//   (WebSocket requests and events, each RTCPeerConnection's gathering,
//   candidates by type/protocol, icecandidateerror code and URL scheme,
//   ICE states, the no-path verdict, the forwarded leg, the first frame);
//   the results file gets a table of phase medians per shape and
//   FILE.timeline.json every entry of every run.
// --max-load L: before each run, wait (at most --max-wait S, default 180)
//   until the 1-minute load average is at most L, so that a busy machine
//   (other engineers' builds and tests) does not set the result; each run
//   records the load it started at and how long it waited (a run that
//   waited in vain runs anyway and says so).
// Environment: CONSULT_PLUGIN (the plugin .so), CONSULT_CHROMIUM,
// CONSULT_HARNESS_DIR (scripts/lib with the extraPlugins option of
// janus.mjs), CONSULT_VIDEOCALL_PLUGIN (default
// /usr/lib/x86_64-linux-gnu/janus/plugins/libjanus_videocall.so).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rerunInLoNetns } from './lib/netns.mjs';
import { loadAvg, machine, median } from './lib/report.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VIDEOCALL = process.env.CONSULT_VIDEOCALL_PLUGIN || '/usr/lib/x86_64-linux-gnu/janus/plugins/libjanus_videocall.so';
const CLK_TCK = 100; // getconf CLK_TCK on Linux x86_64
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const SHAPES = {
  'turn-blocked': { lab: { nat: true, block: false }, stack: { turn: 'blocked' }, forwards: true },
  'only-janus': { lab: { nat: true, block: true }, stack: { turn: 'blocked' }, forwards: true },
  'turn-refused': { lab: { nat: true, block: true }, stack: { turnSecret: 'not-the-secret-of-this-coturn-0123' }, forwards: true },
  'no-turn': { lab: { nat: true, block: true }, stack: { turn: 'absent' }, forwards: true },
  'udp-blocked': { lab: { nat: true, block: true }, udpBlocked: true, stack: { turnTransports: ['udp', 'tcp'] }, forwards: false },
  'tls-only': {
    lab: { nat: true, block: true }, udpBlocked: true, forwards: false,
    stack: { turnTls: true, turnTransports: ['udp', 'tcp', 'tls'], blockTurnTransports: ['tcp'] },
  },
  'tls-blocked': { lab: { nat: true, block: true }, stack: { turn: 'blocked', turnTls: true, turnTransports: ['udp', 'tcp', 'tls'] }, forwards: true },
};

function parseArgs(argv) {
  const a = {
    runs: 5, rounds: 2, window: 30, p2pTimeout: null, setup: true, cpu: true, out: null, timeline: false, shapes: Object.keys(SHAPES),
    maxLoad: null, maxWait: 180,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--runs') a.runs = Number(argv[++i]);
    else if (k === '--shapes') a.shapes = String(argv[++i]).split(',').filter(Boolean);
    else if (k === '--rounds') a.rounds = Number(argv[++i]);
    else if (k === '--window') a.window = Number(argv[++i]);
    else if (k === '--p2p-timeout') a.p2pTimeout = Number(argv[++i]);
    else if (k === '--skip-setup') a.setup = false;
    else if (k === '--skip-cpu') a.cpu = false;
    else if (k === '--out') a.out = argv[++i];
    else if (k === '--timeline') a.timeline = true;
    else if (k === '--max-load') a.maxLoad = Number(argv[++i]);
    else if (k === '--max-wait') a.maxWait = Number(argv[++i]);
    else if (k === '-h' || k === '--help') a.help = true;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!Number.isInteger(a.runs) || a.runs < 1 || a.runs > 50) throw new Error('--runs must be 1..50');
  if (!Number.isInteger(a.rounds) || a.rounds < 1 || a.rounds > 10) throw new Error('--rounds must be 1..10');
  if (!Number.isFinite(a.window) || a.window < 5 || a.window > 300) throw new Error('--window must be 5..300 s');
  if (a.maxLoad !== null && !(a.maxLoad > 0)) throw new Error('--max-load must be > 0');
  if (!(a.maxWait >= 0 && a.maxWait <= 3600)) throw new Error('--max-wait must be 0..3600 s');
  if (a.p2pTimeout !== null && (!Number.isInteger(a.p2pTimeout) || a.p2pTimeout < 1 || a.p2pTimeout > 120)) throw new Error('--p2p-timeout must be 1..120');
  for (const sh of a.shapes) if (!SHAPES[sh]) throw new Error(`unknown shape ${sh} (${Object.keys(SHAPES).join(', ')})`);
  return a;
}

// an even count's middle two averaged to whole ms, as the tables print them
const medianMs = (xs) => median(xs, { round: true });

/** Janus' CPU time in seconds (utime + stime of the process, all threads). */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 and 15 of stat(5)
}

/** Outbound media of a page's pc: bytes, packets, frame size. */
function outbound(page, pcPath) {
  return page.evaluate(async (p) => {
    const pc = p.split('.').reduce((o, k) => (o == null ? o : o[k]), window);
    if (!pc) return null;
    const st = await pc.getStats();
    const r = { bytes: 0, packets: 0, width: 0, height: 0, fps: 0 };
    st.forEach((s) => {
      if (s.type === 'outbound-rtp') {
        r.bytes += s.bytesSent || 0;
        r.packets += s.packetsSent || 0;
        if (s.kind === 'video') { r.width = s.frameWidth || r.width; r.height = s.frameHeight || r.height; r.fps = s.framesPerSecond || r.fps; }
      }
    });
    return r;
  }, pcPath);
}

/** Janus CPU over the window, and the media both pages sent meanwhile. */
async function cpuWindow(janusPid, seconds, pages = []) {
  const before = await Promise.all(pages.map(([pg, p]) => outbound(pg, p)));
  const c0 = cpuSeconds(janusPid);
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const c1 = cpuSeconds(janusPid);
  const t1 = Date.now();
  const after = await Promise.all(pages.map(([pg, p]) => outbound(pg, p)));
  const secs = (t1 - t0) / 1000;
  let bytes = 0;
  let packets = 0;
  const sizes = [];
  pages.forEach((_, i) => {
    if (!before[i] || !after[i]) return;
    bytes += after[i].bytes - before[i].bytes;
    packets += after[i].packets - before[i].packets;
    sizes.push(`${after[i].width}x${after[i].height}@${Math.round(after[i].fps)}`);
  });
  return { cpu: c1 - c0, secs, kbps: Math.round((bytes * 8) / secs / 1000), pps: Math.round(packets / secs), sizes: sizes.join(' + ') };
}

// ---------------------------------------------------------------------------
// --timeline: an init script in every page of both browsers; window.__tl
// holds [Date.now(), what...] entries. No addresses are kept: candidate
// type and protocol, error code and URL scheme/transport only.

const TIMELINE = () => {
  const T = (window.__tl = []);
  const L = (...a) => T.push([Date.now(), ...a]);
  const WS = window.WebSocket;
  window.WebSocket = function (...a) {
    const ws = new WS(...a);
    const send = ws.send.bind(ws);
    ws.send = (d) => {
      try {
        const m = JSON.parse(d);
        if (m.janus === 'message' && m.body) L('>', m.body.request, m.body.type || m.body.cause || '', m.jsep ? 'jsep' : '');
      } catch { /* not JSON */ }
      return send(d);
    };
    ws.addEventListener('message', (e) => {
      try {
        const m = JSON.parse(e.data);
        const d = m.plugindata && m.plugindata.data;
        if (d) L('<', d.event || 'reply', d.type || '', m.jsep ? 'jsep' : '');
      } catch { /* not JSON */ }
    });
    return ws;
  };
  window.WebSocket.prototype = WS.prototype;
  Object.assign(window.WebSocket, WS);
  const PC = window.RTCPeerConnection;
  let n = 0;
  window.RTCPeerConnection = function (...a) {
    const pc = new PC(...a);
    const id = `pc${++n}`;
    L(id, 'new');
    pc.addEventListener('iceconnectionstatechange', () => L(id, 'ice', pc.iceConnectionState));
    pc.addEventListener('icegatheringstatechange', () => L(id, 'gather', pc.iceGatheringState));
    pc.addEventListener('connectionstatechange', () => L(id, 'conn', pc.connectionState));
    pc.addEventListener('icecandidate', (e) => {
      const c = e.candidate && e.candidate.candidate;
      if (!c) { L(id, 'cand', 'end'); return; }
      const typ = (c.match(/ typ (\w+)/) || [])[1];
      const proto = (c.match(/^candidate:\S+ \d+ (\w+)/) || [])[1];
      L(id, 'cand', typ, proto, typ === 'relay' ? (e.candidate.relayProtocol || '') : '');
    });
    pc.addEventListener('icecandidateerror', (e) => {
      const u = String(e.url || '').replace(/:[^?]*/, '');   // scheme and ?transport only
      L(id, 'candErr', e.errorCode, u);
    });
    const sld = pc.setLocalDescription.bind(pc);
    pc.setLocalDescription = (...x) => { L(id, 'sld'); return sld(...x); };
    const srd = pc.setRemoteDescription.bind(pc);
    pc.setRemoteDescription = (...x) => { L(id, 'srd'); return srd(...x); };
    return pc;
  };
  window.RTCPeerConnection.prototype = PC.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, PC);
  const info = console.info.bind(console);
  console.info = (...a) => {
    const m = String(a[0] || '').match(/^no peer-to-peer path: (\S+)/);
    if (m) L('verdict', m[1]);
    return info(...a);
  };
  const warn = console.warn.bind(console);
  console.warn = (...a) => { if (/^ICE candidate error/.test(String(a[0]))) L('page', 'candErr', a[1]); return warn(...a); };
};

// Phases of a forwarded setup: the first entry of that page matching, ms after accept.
const PHASES = [
  ['accept sent', 'P', /^> accept/],
  ['doctor: offer set', 'D', /^pc1 sld/],
  ['doctor: first local cand', 'D', /^pc1 cand (host|srflx|relay|prflx)/],
  ['patient: answer set', 'P', /^pc1 sld/],
  ['doctor: answer in', 'D', /^pc1 srd/],
  ['doctor: first cand error', 'D', /^pc1 candErr/],
  ['patient: first cand error', 'P', /^pc1 candErr/],
  ['doctor: gathering complete', 'D', /^pc1 gather complete/],
  ['doctor: verdict', 'D', /^verdict/],
  ['doctor: > forward', 'D', /^> forward\b(?!_)/],
  ['patient: < forward', 'P', /^< forward\b(?!_)/],
  ['doctor: > forward_offer', 'D', /^> forward_offer/],
  ['patient: > forward_answer', 'P', /^> forward_answer/],
  ['doctor: < forward_answer', 'D', /^< forward_answer/],
  ['patient: leg ICE up', 'P', /^pc2 ice (connected|completed)/],
  ['doctor: leg ICE up', 'D', /^pc2 ice (connected|completed)/],
  ['patient: leg DTLS up', 'P', /^pc2 conn connected/],
  ['doctor: leg DTLS up', 'D', /^pc2 conn connected/],
];

async function takeTimeline(t0, pages) {
  const rows = [];
  for (const [who, p] of pages) {
    const tl = await p.evaluate(() => (window.__tl ? window.__tl.splice(0) : [])).catch(() => []);
    for (const e of tl) rows.push({ at: e[0] - t0, who, text: e.slice(1).filter((x) => x !== '').join(' ') });
  }
  rows.sort((a, b) => a.at - b.at);
  const out = { rows };
  for (const [name, who, re] of PHASES) {
    const r = rows.find((x) => x.who === who && x.at >= -5 && re.test(x.text));
    out[name] = r ? r.at : null;
  }
  return out;
}

/**
 * In the page: when consult.mode became 'forward' and when the first frame
 * of the call's final PeerConnection decoded (the forwarded one, or with
 * wantForward false the peer-to-peer one).
 */
function forwardTimes(page, wantForward = true, ms = 60_000) {
  return page.evaluate(async ({ limit, want }) => {
    const t0 = Date.now();
    let forwardAt = null;
    let packetAt = null;
    for (;;) {
      const c = window.consult;
      if (c && c.mode === 'forward' && forwardAt === null) forwardAt = Date.now();
      const pc = c && (c.mode === 'forward') === want ? c.pc : null;
      if (pc && typeof pc.getStats === 'function') {
        const stats = await pc.getStats();
        let f = 0;
        let n = 0;
        stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') { f += s.framesDecoded || 0; n += s.packetsReceived || 0; } });
        if (n > 0 && packetAt === null) packetAt = Date.now();
        if (f > 0) return { forwardAt, packetAt, frameAt: Date.now() };
      }
      if (Date.now() - t0 > limit) return { forwardAt, packetAt, frameAt: null };
      await new Promise((r) => setTimeout(r, 10));
    }
  }, { limit: ms, want: wantForward });
}

async function closePages(call) {
  for (const p of [call.patPage, call.docPage, call.rec && call.rec.page]) if (p) await p.close().catch(() => {});
}

/** A lab of one shape: stack and two browsers (doctor side, patient side). */
async function openEnv(lab, shape, { p2pTimeout, extraPlugins, timeline = false } = {}) {
  const sh = SHAPES[shape];
  const env = { lab0: null, stack: null, staff: null, patient: null };
  try {
    env.lab0 = lab.createLab(sh.lab);
    if (sh.udpBlocked) env.lab0.blockUdp();
    env.stack = await lab.startLabStack(env.lab0, {
      ...sh.stack,
      pluginConfig: p2pTimeout ? { p2p_timeout_seconds: p2pTimeout } : {},
      janusOptions: extraPlugins ? { extraPlugins } : {},
    });
    // both browsers trust the TURN server's test certificate (its key only)
    const extraArgs = env.stack.turnTlsSpki ? [`--ignore-certificate-errors-spki-list=${env.stack.turnTlsSpki}`] : [];
    env.staff = await lab.launchIn(env.lab0.ns.doctor, 'bench-fwd-staff', { origin: env.stack.origin, extraArgs });
    env.patient = await lab.launchIn(env.lab0.ns.patient, 'bench-fwd-patient', { origin: env.stack.origin, extraArgs });
    if (timeline) for (const b of [env.staff, env.patient]) await b.context.addInitScript(TIMELINE);
  } catch (err) {
    await closeEnv(env);
    throw err;
  }
  return env;
}

async function closeEnv(env) {
  for (const b of [env.patient, env.staff]) if (b) await b.close();
  if (env.stack) await env.stack.stop();
  if (env.lab0) env.lab0.destroySync();
}

/** Waits until the 1-minute load average is at most maxLoad (no limit: at once). */
async function quietEnough(maxLoad, maxWaitS) {
  const t0 = Date.now();
  if (maxLoad) while (os.loadavg()[0] > maxLoad && Date.now() - t0 < maxWaitS * 1000) await sleep(2_000);
  return { load: Number(os.loadavg()[0].toFixed(1)), waited: Math.round((Date.now() - t0) / 1000) };
}

async function setupRuns(env, shape, runs, log) {
  const { lab, rtcSnapshot } = env;
  const want = SHAPES[shape].forwards;
  const rows = [];
  for (let i = 1; i <= runs; i++) {
    const q = await quietEnough(env.maxLoad, env.maxWait);
    const consoleLines = [];
    const call = await lab.realCall({ stack: env.stack, staff: env.staff, patient: env.patient, consoleLines, appointmentViaWs: true });
    try {
      const [pat, doc] = await Promise.all([forwardTimes(call.patPage, want), forwardTimes(call.docPage, want)]);
      const tl = env.timeline ? await takeTimeline(call.acceptAt, [['P', call.patPage], ['D', call.docPage]]) : null;
      if (tl) {
        tl['patient: first frame'] = pat.frameAt ? pat.frameAt - call.acceptAt : null;
        tl['doctor: first frame'] = doc.frameAt ? doc.frameAt - call.acceptAt : null;
        tl['patient: first video packet'] = pat.packetAt ? pat.packetAt - call.acceptAt : null;
        tl['doctor: first video packet'] = doc.packetAt ? doc.packetAt - call.acceptAt : null;
      }
      const snap = await rtcSnapshot(call.docPage);
      const mode = await call.docPage.evaluate(() => window.consult.mode);
      const rel = (t) => (t && call.acceptAt ? t - call.acceptAt : null);
      const fwd = call.sent.doctor.find((b) => b.request === 'forward');
      const verdictLine = consoleLines.find((l) => /no peer-to-peer path: /.test(l)) || '';
      const verdict = verdictLine.match(/path: (\S+) .*?(\d+) ms after the offer/);
      const checks = verdictLine.match(/(\d+)\+ unanswered checks/);
      const row = {
        run: i, mode, cause: fwd ? fwd.cause : '-',
        verdict: verdict ? `${verdict[1]} @${verdict[2]} ms${checks ? ` (${checks[1]}+ checks)` : ''}` : '-',
        load: q.load, waited: q.waited,
        patient: rel(pat.frameAt), doctor: rel(doc.frameAt),
        switchAt: rel(doc.forwardAt),
        patSwitch: pat.frameAt && pat.forwardAt ? pat.frameAt - pat.forwardAt : null,
        docSwitch: doc.frameAt && doc.forwardAt ? doc.frameAt - doc.forwardAt : null,
        pair: snap.pair ? `${snap.pair.local.type}/${snap.pair.remote.type} -> ${snap.pair.remote.address}` : '?',
        timeline: tl,
      };
      row.both = row.patient !== null && row.doctor !== null ? Math.max(row.patient, row.doctor) : null;
      row.switchBoth = row.patSwitch !== null && row.docSwitch !== null ? Math.max(row.patSwitch, row.docSwitch) : null;
      rows.push(row);
      log(`${shape} run ${i} (load ${q.load}${q.waited ? `, waited ${q.waited} s` : ''}): accept->frame patient ${row.patient} ms, doctor ${row.doctor} ms; switch at ${row.switchAt} ms `
        + `(${row.cause}, ${row.verdict}); forward->frame ${row.patSwitch}/${row.docSwitch} ms; ${row.mode}, ${row.pair}`);
      await call.doc.click('#hangup');
      await call.pat.waitVisible('#ended', 15_000);
    } finally {
      await closePages(call);
    }
  }
  return rows;
}

async function consultCpu(env, seconds, log) {
  const { lab, pcap } = env;
  const call = await lab.realCall({ stack: env.stack, staff: env.staff, patient: env.patient, consoleLines: [], appointmentViaWs: true });
  try {
    // fails (naming the page's error) if the call is not forwarded; never redials
    await pcap.waitForwarded({ call }, { ms: 60_000 });
    await sleep(5_000); // past the ramp-up of the encoders
    const w = await cpuWindow(env.stack.janus.pid, seconds, [[call.patPage, 'consult.pc'], [call.docPage, 'consult.pc']]);
    const stats = await env.stack.janus.admin({ request: 'stats' });
    w.active = stats.forward.active;
    log(`consult: ${w.cpu.toFixed(2)} s CPU in ${w.secs.toFixed(1)} s, ${w.kbps} kbit/s, ${w.pps} packets/s into Janus, ${w.sizes}`);
    await call.doc.click('#hangup');
    await call.pat.waitVisible('#ended', 15_000);
    return w;
  } finally {
    await closePages(call);
  }
}

async function videocallCpu(env, seconds, log, round) {
  const { rtcSnapshot, waitFor } = env;
  const html = fs.readFileSync(path.join(REPO, 'bench', 'videocall.html'), 'utf8');
  const url = `${env.stack.origin}/bench/videocall.html`;
  const pages = [];
  try {
    for (const b of [env.staff, env.patient]) {
      const page = await b.newPage();
      await page.route(url, (r) => r.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
      await page.goto(url);
      pages.push(page);
    }
    const [a, b] = pages;
    const names = [`a${round}x${Date.now() % 1e6}`, `b${round}x${Date.now() % 1e6}`];
    await a.evaluate((n) => window.vcStart(n), names[0]);
    await b.evaluate((n) => window.vcStart(n), names[1]);
    await a.evaluate((n) => window.vcCall(n), names[1]);
    for (const [who, page] of [['caller', a], ['callee', b]]) {
      await waitFor(`videocall ${who}: connected, frames decoded`, async () => {
        const s = await rtcSnapshot(page, 'vc.pc');
        return s.connectionState === 'connected' && s.framesDecoded > 0 ? s : null;
      }, 60_000, 250);
    }
    const snap = await rtcSnapshot(a, 'vc.pc');
    await sleep(5_000);
    const w = await cpuWindow(env.stack.janus.pid, seconds, [[a, 'vc.pc'], [b, 'vc.pc']]);
    w.pair = snap.pair ? `${snap.pair.local.type}/${snap.pair.remote.type} -> ${snap.pair.remote.address}` : '?';
    log(`videocall: ${w.cpu.toFixed(2)} s CPU in ${w.secs.toFixed(1)} s, ${w.kbps} kbit/s, ${w.pps} packets/s into Janus, ${w.sizes}, ${w.pair}`);
    await a.evaluate(() => window.vc.h.send({ message: { request: 'hangup' } }));
    await sleep(1_000);
    return w;
  } finally {
    for (const p of pages) await p.close().catch(() => {});
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write('usage: node bench/forward.mjs [--runs 5] [--shapes a,b,...] [--rounds 2] [--window 30] [--p2p-timeout S] [--skip-setup] [--skip-cpu] [--out FILE] [--timeline] [--max-load L [--max-wait S]]\n');
    return 0;
  }
  const status = rerunInLoNetns(REPO);
  if (status !== null) return status;
  const m = machine(REPO, { chromium: true });
  const started = new Date();
  const loadStart = loadAvg();
  const log = (s) => process.stderr.write(`forward-bench: ${s}\n`);
  const lab = await import('../tests/nat/lab.mjs');
  const pcap = await import('../tests/nat/pcap.mjs');
  const { rtcSnapshot, waitFor } = await import('../tests/browser/lib.mjs');
  const setup = {};
  const cpu = { idle: [], consult: [], videocall: [] };
  const timer = args.p2pTimeout ? `p2p_timeout_seconds ${args.p2pTimeout}` : 'p2p_timeout_seconds = product default (10)';
  if (args.setup) {
    for (const shape of args.shapes) {
      log(`setup ${shape}: ${args.runs} runs, ${timer}`);
      const env = {
        lab, pcap, rtcSnapshot, waitFor, timeline: args.timeline, maxLoad: args.maxLoad, maxWait: args.maxWait,
        ...await openEnv(lab, shape, { p2pTimeout: args.p2pTimeout, timeline: args.timeline }),
      };
      try {
        setup[shape] = await setupRuns(env, shape, args.runs, log);
      } finally {
        await closeEnv(env);
      }
    }
  }
  if (args.cpu) {
    const env = { lab, pcap, rtcSnapshot, waitFor, ...await openEnv(lab, 'no-turn', { p2pTimeout: args.p2pTimeout, extraPlugins: [VIDEOCALL] }) };
    try {
      if (!/Loading plugin 'libjanus_videocall\.so'/.test(env.stack.janus.log())) {
        throw new Error('Janus did not load libjanus_videocall.so: scripts/lib/janus.mjs needs the extraPlugins option '
          + '(or CONSULT_HARNESS_DIR pointing at a copy that has it)');
      }
      for (let r = 1; r <= args.rounds; r++) {
        const idle = await cpuWindow(env.stack.janus.pid, args.window);
        cpu.idle.push(idle);
        log(`idle: ${idle.cpu.toFixed(2)} s CPU in ${idle.secs.toFixed(1)} s`);
        cpu.consult.push(await consultCpu(env, args.window, log));
        cpu.videocall.push(await videocallCpu(env, args.window, log, r));
      }
    } finally {
      await closeEnv(env);
    }
  }

  const date = started.toISOString().slice(0, 10);
  const out = args.out || path.join(REPO, 'bench', 'results', `forward-${date}.md`);
  const pick = (rows, k) => rows.map((r) => r[k]).filter((x) => typeof x === 'number');
  const fmt = (xs) => (xs.length ? `${medianMs(xs)} (${Math.min(...xs)}–${Math.max(...xs)})` : 'n/a');
  const idleRate = cpu.idle.length ? cpu.idle.reduce((s, w) => s + w.cpu / w.secs, 0) / cpu.idle.length : 0;
  const perCall = (ws) => ws.map((w) => Math.max(0, w.cpu / w.secs - idleRate) * 100); // % of one core
  const avg = (xs) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null);
  const cC = avg(perCall(cpu.consult));
  const cV = avg(perCall(cpu.videocall));
  const ratio = cC !== null && cV ? cC / cV : null;
  const lines = [
    `# Forwarding mode: fallback time by failure shape — ${date}`,
    '',
    'Measured by `bench/forward.mjs` in the NAT lab of tests/nat (each browser behind its own',
    'cone NAT). Real pages, consult plugin, two Chromiums (fake camera and microphone, 1280x720',
    `requested). ${timer}: the last resort; the switch comes from evidence (rtc.mjs noPathVerdict).`,
    '',
    `- started: ${started.toISOString()}`,
    `- machine: ${m.uname}`,
    `- CPU: ${m.cpu}, nproc ${m.nproc}, memory ${m.memory}`,
    `- load average (1/5/15 min) at start: ${loadStart}; at end: ${loadAvg()}`,
    '  (2 cores shared by Janus, nginx and four Chromium renderers encoding/decoding video;',
    '  a load far above nproc means other work shared the CPUs as well)',
    `- ${m.chromium}; ${m.janus}; node ${m.node}; commit ${m.commit}`,
    `- plugin: ${process.env.CONSULT_PLUGIN || 'build/.libs/libjanus_consult.so'}; videocall: ${VIDEOCALL}`,
    `- run: \`node bench/forward.mjs ${process.argv.slice(2).join(' ')}\``,
    '',
  ];
  if (args.setup) {
    lines.push(
      '## (a) Accept -> first decoded frame on both sides, by shape',
      '',
      'From the patient\'s click on "Annehmen" (#accept-call) to the first decoded video frame of the',
      'call\'s PeerConnection (the forwarded one; udp-blocked: the relayed one), per side; "both" =',
      'the later. "switch": the doctor\'s page entering forwarding mode, after accept. "switch ->',
      'frame": from each page entering forwarding mode to its first frame, the later of the two.',
      'Milliseconds, median (min–max).',
      '',
      '| shape | runs | both ms | switch at ms | switch -> frame ms | cause | mode |',
      '|---|---|---|---|---|---|---|',
      ...Object.entries(setup).map(([sh, rows]) => `| ${sh} | ${rows.length} | **${fmt(pick(rows, 'both'))}** | ${fmt(pick(rows, 'switchAt'))} | `
        + `${fmt(pick(rows, 'switchBoth'))} | ${[...new Set(rows.map((r) => r.cause))].join(', ')} | ${[...new Set(rows.map((r) => r.mode))].join(', ')} |`),
      '',
      '| shape | run | load | patient ms | doctor ms | both ms | switch at ms | verdict (reason @ ms after the offer) | switch->frame patient/doctor ms | doctor\'s pair |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...Object.entries(setup).flatMap(([sh, rows]) => rows.map((r) => `| ${sh} | ${r.run} | ${r.load}${r.waited ? ` (waited ${r.waited} s)` : ''} | ${r.patient} | ${r.doctor} | ${r.both} | ${r.switchAt} | ${r.verdict} | ${r.patSwitch} / ${r.docSwitch} | ${r.pair} |`)),
      '',
    );
  }
  if (args.setup && args.timeline) {
    const names = [...PHASES.map((p) => p[0]), 'patient: first video packet', 'doctor: first video packet', 'patient: first frame', 'doctor: first frame'];
    const shapes = Object.keys(setup);
    const cell = (rows, name) => {
      const xs = rows.map((r) => r.timeline && r.timeline[name]).filter((x) => typeof x === 'number');
      return xs.length ? `${medianMs(xs)} (${Math.min(...xs)}–${Math.max(...xs)})` : '-';
    };
    lines.push(
      '## Where the time goes (--timeline)',
      '',
      'Each phase: the first entry of that page, ms after the patient\'s click on "Annehmen", median (min–max).',
      '',
      `| phase | ${shapes.join(' | ')} |`,
      `|---|${shapes.map(() => '---').join('|')}|`,
      ...names.map((nm) => `| ${nm} | ${shapes.map((sh) => cell(setup[sh], nm)).join(' | ')} |`),
      '',
    );
  }
  if (args.cpu) {
    lines.push(
      '## (b) Janus CPU per forwarded call: consult vs janus.plugin.videocall',
      '',
      `One Janus process with both plugins; windows of ${args.window} s, utime+stime of the whole`,
      'process from /proc/<pid>/stat (10 ms ticks). Per call = window CPU rate minus the mean',
      'idle rate (browsers open, sessions attached, no call), in % of one core. Media into',
      'Janus = the two pages\' outbound RTP (bytesSent/packetsSent deltas) over the window.',
      '',
      '| round | idle % | consult call % | consult kbit/s, pkt/s, video | videocall call % | videocall kbit/s, pkt/s, video |',
      '|---|---|---|---|---|---|',
      ...cpu.idle.map((idle, i) => {
        const c = cpu.consult[i];
        const v = cpu.videocall[i];
        const pc = (w) => (w ? (Math.max(0, w.cpu / w.secs - idleRate) * 100).toFixed(2) : 'n/a');
        return `| ${i + 1} | ${((idle.cpu / idle.secs) * 100).toFixed(2)} | ${pc(c)} | ${c ? `${c.kbps}, ${c.pps}, ${c.sizes}` : ''} | ${pc(v)} | ${v ? `${v.kbps}, ${v.pps}, ${v.sizes}` : ''} |`;
      }),
      '',
      `**Ratio consult / videocall (CPU per forwarded call, mean of ${cpu.consult.length} rounds): ${ratio === null ? 'n/a' : ratio.toFixed(2)}**`,
      `(consult ${cC === null ? 'n/a' : cC.toFixed(2)} % of a core, videocall ${cV === null ? 'n/a' : cV.toFixed(2)} % of a core per call).`,
      '',
    );
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const prev = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
  fs.writeFileSync(out, prev ? `${prev}\n---\n\n${lines.join('\n')}` : lines.join('\n'));
  if (args.setup && args.timeline) {
    const raw = Object.fromEntries(Object.entries(setup).map(([sh, rows]) => [sh, rows.map((r) => ({ run: r.run, rows: r.timeline && r.timeline.rows }))]));
    fs.writeFileSync(`${out}.timeline.json`, JSON.stringify(raw));
  }
  log(`wrote ${path.relative(REPO, out)}`);
  process.stdout.write(lines.join('\n'));
  return 0;
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`forward-bench: ${err.stack || err}\n`);
  process.exit(1);
});
