#!/usr/bin/env node
// callsetup.mjs - call setup time by media path, consult next to the
// browsers' own floor, in the same run, in the NAT lab of tests/nat.
//
// Paths: host    (patient and doctor on the public network, no NAT),
//        srflx   (each behind a cone NAT, direct path open),
//        relay   (each behind a NAT, direct path blocked: TURN only),
//        forward (each behind a NAT, direct path blocked and every packet to
//                 coturn dropped: only Janus is reachable; the product's
//                 default p2p_timeout_seconds).
// For each path one lab, one stack and one pair of browsers (doctor side /
// patient side); then N rounds (default 5), each one consult call and one
// floor call, alternating:
// - consult: the real pages; book (over the WebSocket), the patient joins,
//   the doctor calls, the patient accepts. t0 = the patient's click on
//   #accept-call.
// - floor (host, srflx, relay): two bare pages (no app code) in the same two
//   browsers with the same ICE configuration as consult's (the STUN and TURN
//   servers and freshly minted TURN REST credentials exactly as the plugin
//   hands them out, policy "all"), signalling passed directly between the
//   pages through this process. The same steps as consult: the doctor's page
//   has its camera before t0; t0 = the patient page starts: getUserMedia,
//   new RTCPeerConnection, "accept" to the doctor's page, which creates its
//   RTCPeerConnection, offers; the patient answers; candidates trickle both
//   ways as they come.
// - floor (forward): two bare janus.js pages calling each other through
//   Janus' own janus.plugin.videocall (bench/videocall.html; media through
//   Janus from the start, no peer-to-peer attempt, no E2EE); both have their
//   camera before t0 = the call request.
// Measured per call in each page (Date.now(), the machine clock this
// process shares): t0 -> the first decoded video frame (inbound-rtp
// framesDecoded > 0, polled every 10 ms), per side; "both" = the later.
// Reported: medians, spread, every run, and consult/floor of the medians.
// Writes bench/results/callsetup-YYYY-MM-DD.md. No pass/fail: a measurement.
//
// Usage (root; re-executes itself in scripts/lib/in-lo-netns unless already
// inside a named network namespace):
//   node bench/callsetup.mjs [--runs 5] [--paths host,srflx,relay,forward] [--out FILE]
//                            [--timeline] [--max-load L [--max-wait S]] [--ring-ms N]
// --ring-ms N: consult's patient answers N ms after the ringing shows (a
// person's time to answer; default 0: at once). t0 stays the accept click;
// what the pages prepare while it rings (the patient's camera and
// connection, the doctor's offer) is then done by t0, as with a person.
// --timeline: both browsers record a timeline (WebSocket frames of the
// signalling, RTCPeerConnection events, getUserMedia, main-thread tasks
// over 50 ms; when the other side's relay candidate arrived, inline in the
// description or trickled; and, from getStats every 5 ms until ICE is up,
// when the selected candidate pair first sent a check, first got one and
// first got a response) and the report gets, per path, the median time of each step
// of the setup after t0 (consult and floor), so a gap can be placed.
// --max-load L: before each round, wait (at most --max-wait S, default 180)
// until the 1-minute load average is at most L (other engineers' builds
// and tests share the machine); each round records its load, and the
// summary gives the median of the per-round ratios next to the ratio of
// the medians (consult and floor of one round ran back to back, so their
// ratio is less exposed to load that changes between rounds).
// Environment: CONSULT_PLUGIN (the plugin .so), CONSULT_CHROMIUM,
// CONSULT_VIDEOCALL_PLUGIN (default
// /usr/lib/x86_64-linux-gnu/janus/plugins/libjanus_videocall.so).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rerunInLoNetns } from './lib/netns.mjs';
import { loadAvg, machine, median } from './lib/report.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VIDEOCALL = process.env.CONSULT_VIDEOCALL_PLUGIN || '/usr/lib/x86_64-linux-gnu/janus/plugins/libjanus_videocall.so';
const PATHS = ['host', 'srflx', 'relay', 'forward'];

function parseArgs(argv) {
  const a = { runs: 5, paths: [...PATHS], out: null, timeline: false, maxLoad: null, maxWait: 180, ringMs: 0 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--runs') a.runs = Number(argv[++i]);
    else if (k === '--paths') a.paths = String(argv[++i]).split(',').filter(Boolean);
    else if (k === '--out') a.out = argv[++i];
    else if (k === '--timeline') a.timeline = true;
    else if (k === '--max-load') a.maxLoad = Number(argv[++i]);
    else if (k === '--max-wait') a.maxWait = Number(argv[++i]);
    else if (k === '--ring-ms') a.ringMs = Number(argv[++i]);
    else if (k === '-h' || k === '--help') a.help = true;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!Number.isInteger(a.runs) || a.runs < 1 || a.runs > 100) throw new Error('--runs must be 1..100');
  for (const p of a.paths) if (!PATHS.includes(p)) throw new Error(`unknown path ${p}`);
  if (a.maxLoad !== null && !(a.maxLoad > 0)) throw new Error('--max-load must be > 0');
  if (!(a.maxWait >= 0 && a.maxWait <= 3600)) throw new Error('--max-wait must be 0..3600 s');
  if (!(Number.isInteger(a.ringMs) && a.ringMs >= 0 && a.ringMs <= 10000)) throw new Error('--ring-ms must be 0..10000');
  return a;
}

// an even count's middle two averaged to whole ms, as the tables print them
const medianMs = (xs) => median(xs, { round: true });

// ---------------------------------------------------------------------------
// --timeline: an init script in every page of both browsers; window.__tl
// holds [Date.now(), what...] entries.

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
        if (m.janus === 'message' && m.body) L('>', m.body.request, m.body.type || '');
      } catch { /* not JSON */ }
      return send(d);
    };
    ws.addEventListener('message', (e) => {
      try {
        const m = JSON.parse(e.data);
        const d = m.plugindata && m.plugindata.data;
        if (d && d.event) L('<', d.event, d.type || '');
      } catch { /* not JSON */ }
    });
    return ws;
  };
  window.WebSocket.prototype = WS.prototype;
  Object.assign(window.WebSocket, WS);
  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = function (...a) {
    const pc = new PC(...a);
    L('pc', 'new');
    pc.addEventListener('iceconnectionstatechange', () => L('pc', 'ice', pc.iceConnectionState));
    pc.addEventListener('icegatheringstatechange', () => L('pc', 'gather', pc.iceGatheringState));
    pc.addEventListener('icecandidate', (e) => { if (e.candidate && / typ relay/.test(e.candidate.candidate)) L('pc', 'relay'); });
    const sld = pc.setLocalDescription.bind(pc);
    pc.setLocalDescription = (...x) => { L('pc', 'sld'); return sld(...x); };
    const srd = pc.setRemoteDescription.bind(pc);
    pc.setRemoteDescription = (...x) => {
      L('pc', 'srd');
      // a remote relay candidate inline in the description counts as arrived
      if (x[0] && / typ relay/.test(x[0].sdp || '')) L('pc', 'rrelay', 'inline');
      return srd(...x);
    };
    const aic = pc.addIceCandidate.bind(pc);
    pc.addIceCandidate = (...x) => {
      const c = x[0] && (x[0].candidate || '');
      if (/ typ relay/.test(c)) L('pc', 'rrelay');
      return aic(...x);
    };
    // The candidate pairs' connectivity checks, from getStats every 5 ms
    // until ICE is up: when the pair that got selected first sent a check
    // (requestsSent), first got one (requestsReceived) and first got an
    // answer (responsesReceived), so checking -> connected can be split.
    const seen = {};
    const firstOf = (id, k) => { const o = (seen[id] = seen[id] || {}); return o[k]; };
    (async function checks() {
      for (;;) {
        await new Promise((r) => setTimeout(r, 5));
        if (pc.signalingState === 'closed') return;
        let st;
        try { st = await pc.getStats(); } catch { return; }
        const now = Date.now();
        let sel = null;
        st.forEach((s) => {
          if (s.type === 'candidate-pair') {
            // when the report was made (epoch ms), not when it reached the page
            const at = Math.abs(s.timestamp - now) < 1000 ? Math.round(s.timestamp) : now;
            for (const k of ['requestsSent', 'requestsReceived', 'responsesReceived']) {
              if (s[k] > 0 && !firstOf(s.id, k)) seen[s.id][k] = at;
            }
          }
          if (s.type === 'transport' && s.selectedCandidatePairId) sel = s.selectedCandidatePairId;
        });
        if (sel && (pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed')) {
          const o = seen[sel] || {};
          const pair = st.get(sel);
          const types = pair ? `${(st.get(pair.localCandidateId) || {}).candidateType}/${(st.get(pair.remoteCandidateId) || {}).candidateType}` : '?';
          if (o.requestsSent) T.push([o.requestsSent, 'pair', 'check-out', types]);
          if (o.requestsReceived) T.push([o.requestsReceived, 'pair', 'check-in', types]);
          if (o.responsesReceived) T.push([o.responsesReceived, 'pair', 'resp-in', types]);
          return;
        }
      }
    })();
    return pc;
  };
  window.RTCPeerConnection.prototype = PC.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, PC);
  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const gum = md.getUserMedia.bind(md);
    md.getUserMedia = (c) => { L('gum', 'start'); return gum(c).then((s) => { L('gum', 'done'); return s; }); };
  }
  try {
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) T.push([Math.round(performance.timeOrigin + e.startTime), 'task', Math.round(e.duration)]);
    }).observe({ type: 'longtask', buffered: false });
  } catch { /* no longtask */ }
};

// The steps of a setup, each the first entry of its page that matches.
const STEPS = [
  ['patient camera', 'P', /^gum done/],
  ['patient pc', 'P', /^pc new/],
  ['accept sent', 'P', /^> accept/],
  ['doctor pc', 'D', /^pc new/],
  ['offer set (doctor)', 'D', /^pc sld/],
  ['offer in (patient)', 'P', /^pc srd/],
  ['answer set (patient)', 'P', /^pc sld/],
  ['answer in (doctor)', 'D', /^pc srd/],
  ['patient relay cand', 'P', /^pc relay/],
  ['doctor relay cand', 'D', /^pc relay/],
  ['remote relay cand in (patient)', 'P', /^pc rrelay/],
  ['remote relay cand in (doctor)', 'D', /^pc rrelay/],
  ['patient checking', 'P', /^pc ice checking/],
  ['doctor checking', 'D', /^pc ice checking/],
  ['sel. pair 1st check out (patient)', 'P', /^pair check-out/],
  ['sel. pair 1st check out (doctor)', 'D', /^pair check-out/],
  ['sel. pair 1st check in (patient)', 'P', /^pair check-in/],
  ['sel. pair 1st check in (doctor)', 'D', /^pair check-in/],
  ['sel. pair 1st response (patient)', 'P', /^pair resp-in/],
  ['sel. pair 1st response (doctor)', 'D', /^pair resp-in/],
  ['patient ice up', 'P', /^pc ice (connected|completed)/],
  ['doctor ice up', 'D', /^pc ice (connected|completed)/],
];

async function takeTimeline(t0, pages) {
  const out = { tasks: { P: 0, D: 0 } };
  const rows = [];
  for (const [who, p] of pages) {
    const tl = await p.evaluate(() => (window.__tl ? window.__tl.splice(0) : [])).catch(() => []);
    for (const e of tl) rows.push({ at: e[0] - t0, who, text: e.slice(1).join(' ') });
  }
  rows.sort((a, b) => a.at - b.at);
  out.rows = rows;
  for (const [name, who, re] of STEPS) {
    const r = rows.find((x) => x.who === who && x.at >= -5 && re.test(x.text));
    out[name] = r ? r.at : null;
  }
  // main-thread time in tasks over 50 ms between t0 and the patient's ICE up
  const end = out['patient ice up'] ?? Infinity;
  for (const r of rows) if (r.text.startsWith('task ') && r.at >= 0 && r.at < end) out.tasks[r.who] += Number(r.text.split(' ')[1]);
  return out;
}

// ---------------------------------------------------------------------------
// The floor: two bare pages, signalling through this process.

const FLOOR_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>floor</title></head>
<body><video id="remote" autoplay playsinline muted></video><script>
'use strict';
window.floor = { pc: null, stream: null, t0: 0, frameAt: 0 };
const media = () => navigator.mediaDevices.getUserMedia({
  audio: true, video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 720 } } });
function newPc(config) {
  const pc = new RTCPeerConnection(config);
  floor.pc = pc;
  for (const t of floor.stream.getTracks()) pc.addTrack(t, floor.stream);
  pc.onicecandidate = (e) => window.sig({ cand: e.candidate ? e.candidate.toJSON() : null });
  pc.ontrack = (e) => { document.getElementById('remote').srcObject = e.streams[0]; };
  (async function poll() {
    for (;;) {
      if (pc.connectionState === 'closed') return;
      const st = await pc.getStats();
      let f = 0;
      st.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') f += s.framesDecoded || 0; });
      if (f > 0) { floor.frameAt = Date.now(); return; }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return pc;
}
// doctor: camera before t0
window.floorPrepare = async () => { floor.stream = await media(); };
// patient: t0 = now; camera, PeerConnection, then "accept" to the doctor
window.floorAccept = async (config) => {
  floor.t0 = Date.now();
  floor.stream = await media();
  newPc(config);
  window.sig({ accept: true });
  if (window.__tl) window.__tl.push([Date.now(), '>', 'accept', '']);
  return floor.t0;
};
window.onSig = async (m) => {
  if (m.accept) {
    const pc = newPc(floor.config);
    await pc.setLocalDescription();
    window.sig({ sdp: pc.localDescription.toJSON() });
  } else if (m.sdp) {
    const pc = floor.pc;
    await pc.setRemoteDescription(m.sdp);
    if (m.sdp.type === 'offer') {
      await pc.setLocalDescription();
      window.sig({ sdp: pc.localDescription.toJSON() });
    }
  } else if ('cand' in m) {
    try { if (m.cand && m.cand.candidate) await floor.pc.addIceCandidate(m.cand); else await floor.pc.addIceCandidate(); } catch (e) { /* late */ }
  }
};
window.floorClose = () => {
  if (floor.pc) floor.pc.close();
  if (floor.stream) floor.stream.getTracks().forEach((t) => t.stop());
  floor.pc = null; floor.stream = null; floor.frameAt = 0;
};
</script></body></html>`;

async function floorPages(env) {
  const url = `${env.stack.origin}/bench/floor.html`;
  const pages = {};
  for (const [who, b] of [['doctor', env.staff], ['patient', env.patient]]) {
    const page = await b.newPage();
    await page.route(url, (r) => r.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: FLOOR_HTML }));
    pages[who] = page;
  }
  // signalling passed directly: each page's sig() lands in the other page's onSig()
  await pages.doctor.exposeBinding('sig', (src, m) => { pages.patient.evaluate((x) => window.onSig(x), m).catch(() => {}); });
  await pages.patient.exposeBinding('sig', (src, m) => { pages.doctor.evaluate((x) => window.onSig(x), m).catch(() => {}); });
  for (const p of Object.values(pages)) await p.goto(url);
  return pages;
}

/** The ICE configuration the plugin hands out (same servers, fresh REST credentials). */
async function iceConfig(env) {
  const { turnCredentials } = await import('../scripts/lib/coturn.mjs');
  const c = env.stack.coturn;
  const { username, password } = turnCredentials(c.secret, Math.random().toString(16).slice(2, 18).padEnd(16, '0'), 600);
  return { iceServers: [{ urls: [c.stunUri] }, { urls: [c.uri], username, credential: password }], iceTransportPolicy: 'all' };
}

async function floorP2p(env, pages) {
  const config = await iceConfig(env);
  await pages.doctor.evaluate((cfg) => { window.floor.config = cfg; return window.floorPrepare(); }, config);
  const t0 = await pages.patient.evaluate((cfg) => window.floorAccept(cfg), config);
  const frames = {};
  for (const [who, page] of Object.entries(pages)) {
    frames[who] = await env.waitFor(`floor ${who}: first decoded frame`, () => page.evaluate(() => window.floor.frameAt || null), 60_000, 50);
  }
  const snap = await env.rtcSnapshot(pages.doctor, 'floor.pc');
  const timeline = env.timeline ? await takeTimeline(t0, [['P', pages.patient], ['D', pages.doctor]]) : null;
  for (const p of Object.values(pages)) await p.evaluate(() => window.floorClose());
  return { t0, frames, pair: snap.pair ? `${snap.pair.local.type}/${snap.pair.remote.type}` : '?', timeline };
}

async function floorVideocall(env, round) {
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
    const names = [`d${round}x${Date.now() % 1e6}`, `p${round}x${Date.now() % 1e6}`];
    await a.evaluate((n) => window.vcStart(n), names[0]);
    await b.evaluate((n) => window.vcStart(n), names[1]);
    const t0 = await a.evaluate((n) => { const t = Date.now(); window.vcCall(n); return t; }, names[1]);
    const frameAt = (page) => page.evaluate(async () => {
      for (let i = 0; i < 6000; i++) {
        const pc = window.vc.pc;
        if (pc) {
          const st = await pc.getStats();
          let f = 0;
          st.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') f += s.framesDecoded || 0; });
          if (f > 0) return Date.now();
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      return null;
    });
    const [doctor, patient] = await Promise.all([frameAt(a), frameAt(b)]);
    const snap = await env.rtcSnapshot(a, 'vc.pc');
    await a.evaluate(() => window.vc.h.send({ message: { request: 'hangup' } }));
    return { t0, frames: { doctor, patient }, pair: snap.pair ? `${snap.pair.local.type}/${snap.pair.remote.type} (Janus)` : '?' };
  } finally {
    for (const p of pages) await p.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------

async function consultRun(env) {
  const { lab } = env;
  const call = await lab.realCall({ stack: env.stack, staff: env.staff, patient: env.patient, consoleLines: [], appointmentViaWs: true, ringMs: env.ringMs });
  try {
    const [patAt, docAt] = await Promise.all([lab.firstFrameAt(call.patPage, 60_000), lab.firstFrameAt(call.docPage, 60_000)]);
    const snap = await env.rtcSnapshot(call.docPage);
    const mode = await call.docPage.evaluate(() => window.consult.mode);
    const fwd = call.sent.doctor.find((b) => b.request === 'forward');
    const timeline = env.timeline ? await takeTimeline(call.acceptAt, [['P', call.patPage], ['D', call.docPage]]) : null;
    // the measurement is taken: a hang-up that a starved page does not
    // finish in time costs this round's pages, not the run
    try {
      await call.doc.click('#hangup');
      await call.pat.waitVisible('#ended', 15_000);
    } catch (err) {
      process.stderr.write(`callsetup: hang-up not finished (${err.message.split('\n')[0]}); the pages are closed\n`);
    }
    const via = mode === 'forward' ? ` (Janus, cause ${fwd ? fwd.cause : '?'})` : '';
    return { t0: call.acceptAt, frames: { patient: patAt, doctor: docAt }, pair: snap.pair ? `${snap.pair.local.type}/${snap.pair.remote.type}${via}` : '?', timeline };
  } finally {
    for (const p of [call.patPage, call.docPage, call.rec && call.rec.page]) if (p) await p.close().catch(() => {});
  }
}

function row(kind, i, r) {
  const rel = (t) => (t && r.t0 ? t - r.t0 : null);
  const out = { run: i, patient: rel(r.frames.patient), doctor: rel(r.frames.doctor), pair: r.pair, timeline: r.timeline || null };
  out.both = out.patient !== null && out.doctor !== null ? Math.max(out.patient, out.doctor) : null;
  return out;
}

async function measurePath(kind, runs, log, timeline, { maxLoad = null, maxWait = 180, ringMs = 0 } = {}) {
  const lab = await import('../tests/nat/lab.mjs');
  const { rtcSnapshot, waitFor } = await import('../tests/browser/lib.mjs');
  const labOpts = {
    host: { nat: false }, srflx: { nat: true }, relay: { nat: true, block: true }, forward: { nat: true, block: true },
  }[kind];
  const env = { lab, rtcSnapshot, waitFor, timeline, maxLoad, maxWait, ringMs, lab0: null, stack: null, staff: null, patient: null };
  const rows = { consult: [], floor: [] };
  try {
    env.lab0 = lab.createLab(labOpts);
    env.stack = await lab.startLabStack(env.lab0, {
      turn: kind === 'forward' ? 'blocked' : 'on',
      janusOptions: kind === 'forward' ? { extraPlugins: [VIDEOCALL] } : {},
    });
    env.staff = await lab.launchIn(env.lab0.ns.doctor, 'bench-staff', { origin: env.stack.origin });
    env.patient = await lab.launchIn(env.lab0.ns.patient, 'bench-patient', { origin: env.stack.origin });
    if (timeline) for (const b of [env.staff, env.patient]) await b.context.addInitScript(TIMELINE);
    const pages = kind === 'forward' ? null : await floorPages(env);
    for (let i = 1; i <= runs; i++) {
      const t0 = Date.now();
      if (env.maxLoad) while (os.loadavg()[0] > env.maxLoad && Date.now() - t0 < env.maxWait * 1000) await new Promise((r) => setTimeout(r, 2_000));
      const load = Number(os.loadavg()[0].toFixed(1));
      const waited = Math.round((Date.now() - t0) / 1000);
      const c = row(kind, i, await consultRun(env));
      c.load = load;
      c.waited = waited;
      rows.consult.push(c);
      const f = row(kind, i, kind === 'forward' ? await floorVideocall(env, i) : await floorP2p(env, pages));
      rows.floor.push(f);
      log(`${kind} run ${i} (load ${load}${waited ? `, waited ${waited} s` : ''}): consult ${c.patient}/${c.doctor} ms (${c.pair}), floor ${f.patient}/${f.doctor} ms (${f.pair})`);
    }
  } finally {
    for (const b of [env.patient, env.staff]) if (b) await b.close();
    if (env.stack) await env.stack.stop();
    if (env.lab0) env.lab0.destroySync();
  }
  return rows;
}

const pick = (rows, k) => rows.map((r) => r[k]).filter((x) => typeof x === 'number');
const fmt = (xs) => (xs.length ? `${medianMs(xs)} (${Math.min(...xs)}–${Math.max(...xs)})` : 'n/a');

function summary(kind, res) {
  const c = medianMs(pick(res.consult, 'both'));
  const f = medianMs(pick(res.floor, 'both'));
  const ratio = c !== null && f ? (c / f).toFixed(2) : 'n/a';
  const pairs = (rows) => [...new Set(rows.map((r) => r.pair))].join(', ');
  const perRound = res.consult.map((r, i) => (r.both && res.floor[i] && res.floor[i].both ? r.both / res.floor[i].both : null)).filter((x) => x !== null);
  const paired = perRound.length ? medianMs(perRound.map((x) => Math.round(x * 1000))) / 1000 : null;
  return `| ${kind} | ${res.consult.length} | ${fmt(pick(res.consult, 'both'))} | ${fmt(pick(res.floor, 'both'))} | **${ratio}** | ${paired === null ? 'n/a' : paired.toFixed(2)} | ${pairs(res.consult)} | ${pairs(res.floor)} |`;
}

/** Per path: the median ms after t0 of each setup step, consult and floor. */
function timelineTable(paths, results) {
  const lines = ['## Where the time goes (--timeline)', '',
    'Median ms after t0 of the first entry of each step in its page (P patient, D doctor);',
    '"main thread" = summed tasks over 50 ms (longtask) from t0 to the patient\'s ICE up.', ''];
  for (const k of paths) {
    const med = (rows, name) => medianMs(rows.map((r) => r.timeline && r.timeline[name]).filter((x) => typeof x === 'number'));
    const task = (rows, who) => medianMs(rows.map((r) => r.timeline && r.timeline.tasks[who]).filter((x) => typeof x === 'number'));
    lines.push(`| ${k}: step | consult ms | floor ms |`, '|---|---|---|');
    for (const [name] of STEPS) lines.push(`| ${name} | ${med(results[k].consult, name) ?? '-'} | ${med(results[k].floor, name) ?? '-'} |`);
    lines.push(`| first frame, both | ${medianMs(pick(results[k].consult, 'both'))} | ${medianMs(pick(results[k].floor, 'both'))} |`);
    lines.push(`| main thread P / D | ${task(results[k].consult, 'P')} / ${task(results[k].consult, 'D')} | ${task(results[k].floor, 'P')} / ${task(results[k].floor, 'D')} |`, '');
  }
  return lines;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write('usage: node bench/callsetup.mjs [--runs 5] [--paths host,srflx,relay,forward] [--out FILE] [--timeline] [--max-load L [--max-wait S]] [--ring-ms N]\n');
    return 0;
  }
  const status = rerunInLoNetns(REPO);
  if (status !== null) return status;
  const m = machine(REPO, { chromium: true, coturn: true });
  const loadStart = loadAvg();
  const started = new Date();
  const log = (s) => process.stderr.write(`callsetup: ${s}\n`);
  const results = {};
  for (const kind of args.paths) {
    log(`path ${kind}: ${args.runs} rounds of consult + floor`);
    results[kind] = await measurePath(kind, args.runs, log, args.timeline, args);
  }
  const date = started.toISOString().slice(0, 10);
  const out = args.out || path.join(REPO, 'bench', 'results', `callsetup-${date}.md`);
  const lines = [
    `# Call setup by media path, consult and the browsers' floor — ${date}`,
    '',
    'Measured by `bench/callsetup.mjs` in the NAT lab of tests/nat, consult and floor',
    'alternating in the same run, the same lab, stack and two Chromiums per path.',
    'consult: real pages, consult plugin, coturn; t0 = the patient\'s click on "Annehmen".',
    'floor: two bare pages, the same ICE servers and fresh TURN credentials, signalling passed',
    'directly; t0 = the patient page starts (camera, RTCPeerConnection, "accept").',
    'floor of forward: janus.plugin.videocall between two bare janus.js pages (media through',
    'Janus from the start, no peer-to-peer attempt, no E2EE; cameras open before t0).',
    'Times: t0 -> first decoded video frame, "both" = the later side; ms, median (min–max).',
    '',
    `- started: ${started.toISOString()}`,
    `- machine: ${m.uname}`,
    `- CPU: ${m.cpu}, nproc ${m.nproc}, memory ${m.memory}`,
    `- load average (1/5/15 min) at start: ${loadStart}; at end: ${loadAvg()}`,
    '  (a load far above nproc means other work shared the CPUs)',
    `- ${m.chromium}; coturn ${m.coturn}; node ${m.node}; commit ${m.commit}`,
    `- plugin: ${process.env.CONSULT_PLUGIN || 'build/.libs/libjanus_consult.so'}`,
    `- run: \`node bench/callsetup.mjs ${process.argv.slice(2).join(' ')}\``,
    '',
    '| path | rounds | consult both ms | floor both ms | consult / floor | median of per-round ratios | consult pair | floor pair |',
    '|---|---|---|---|---|---|---|---|',
    ...args.paths.map((k) => summary(k, results[k])),
    '',
    '## Every run',
    '',
    '| path | run | load | consult patient / doctor / both ms | floor patient / doctor / both ms | consult pair |',
    '|---|---|---|---|---|---|',
    ...args.paths.flatMap((k) => results[k].consult.map((c, i) => {
      const f = results[k].floor[i];
      return `| ${k} | ${c.run} | ${c.load}${c.waited ? ` (waited ${c.waited} s)` : ''} | ${c.patient} / ${c.doctor} / ${c.both} | ${f.patient} / ${f.doctor} / ${f.both} | ${c.pair} |`;
    })),
    '',
    ...(args.timeline ? timelineTable(args.paths.filter((k) => k !== 'forward'), results) : []),
  ];
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const prev = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
  fs.writeFileSync(out, prev ? `${prev}\n---\n\n${lines.join('\n')}` : lines.join('\n'));
  if (args.timeline) {
    // every entry of every run, for a closer look: FILE.timeline.json
    const raw = Object.fromEntries(args.paths.map((k) => [k, ['consult', 'floor'].map((w) => results[k][w].map((r) => ({ kind: w, run: r.run, rows: r.timeline && r.timeline.rows })))]));
    fs.writeFileSync(`${out}.timeline.json`, JSON.stringify(raw));
  }
  log(`wrote ${path.relative(REPO, out)}`);
  process.stdout.write(lines.join('\n'));
  return 0;
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`callsetup: ${err.stack || err}\n`);
  process.exit(1);
});
