#!/usr/bin/env node
// photo.mjs - photo on request: the time from the patient's "Senden" to the
// photo fully shown at the doctor (viewer open, JPEG decoded, one frame
// painted), against the data channel's raw transfer time of the same bytes
// measured in the same run, peer to peer and in forwarding mode.
//
// Setup: the NAT lab of tests/nat (real pages, real Janus, two Chromiums in
// their own namespaces); p2p: no NAT, the direct path; forward: each browser
// behind a NAT, the direct path blocked, no TURN (only Janus reachable,
// E2EE). The patient's camera is Chromium's fake camera fed from a
// generated y4m (tests/browser/y4m.mjs, default 3264x2448 = 8 MP, noise
// detail 40: a 3-5 MB JPEG at quality 0.92). Optionally (--rate) the
// patient's link (eth0 of its namespace) is shaped with tbf, e.g. 20mbit,
// a home upload (netem is not available on these machines; tbf is).
//
// Per run (alternating which comes first):
//   photo: "Foto anfordern" -> "Foto aufnehmen" -> preview (decoded and
//     painted, as a person would look at it) -> "Senden";
//     measured from the "Senden" click (consult.photo.sendAt) to the
//     doctor's consult.photoShown.at (the frame after the decoded picture
//     was put on screen; performance.timeOrigin-based in both pages: the
//     same machine clock), with the
//     doctor page's own marks (photo-begin came, photo-end came, checks
//     passed) as the breakdown.
//   raw: the same bytes (the JPEG the doctor received) sent by the patient
//     page straight onto the call channel's RTCDataChannel in 16 KiB
//     messages with the same backpressure (wait for bufferedamountlow while
//     more than 1 MiB is buffered), from the first send to the doctor page's
//     last message event (a raw listener on its leg's channels). In
//     forwarding mode these raw bytes pass Janus unencrypted (a generated
//     test pattern, not a patient's photo); the photo itself is sealed.
//   Before run 1 one raw transfer of 4 MiB of random bytes warms the
//   channel (not counted).
//   Forwarding: per transfer (photo, raw) Janus' relay counters: EAGAIN
//   lines in its log (a relayed message met a full usrsctp send buffer; in
//   Janus 1.1.2 it and every later one then wait until all sent data was
//   acknowledged) and UDP datagrams dropped at Janus' sockets for a full
//   receive buffer (RcvbufErrors of its namespace; each one costs an SCTP
//   retransmission, at the end of a burst a timeout).
// Goal: photo <= 1.2 x raw (medians).
// Writes bench/results/photo-YYYY-MM-DD.md (appends a section if it exists).
//
// Usage (root; re-executes itself in scripts/lib/in-lo-netns unless already
// inside a named network namespace):
//   node bench/photo.mjs [--runs 5] [--modes p2p,forward] [--rate 20mbit,none]
//                        [--width 3264] [--height 2448] [--detail 40] [--out FILE]
//                        [--janus-rcvbuf BYTES] [--pin]
//   --pin: once the call is up, every thread of the patient's browser is
//   put on CPU 0 and every thread of the doctor's on CPU 1 (taskset), so
//   that one page's work (the doctor's decode while the photo arrives)
//   does not take the other's CPU, as on two devices; Janus, coturn,
//   nginx and this script stay on both. Default: all share both CPUs.
//   --janus-rcvbuf: Janus' UDP sockets get this receive buffer (a stand-in
//   for the host's net.core.rmem_default, bench/lib/janus-rcvbuf.mjs);
//   default: the host's (~208 KiB here).
// Environment: CONSULT_PLUGIN (the plugin .so), CONSULT_CHROMIUM.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rerunInLoNetns } from './lib/netns.mjs';
import { loadAvg, machine, median } from './lib/report.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GOAL = 1.2;

function parseArgs(argv) {
  const a = { runs: 5, modes: ['p2p', 'forward'], rates: ['none', '20mbit'], width: 3264, height: 2448, detail: 40, out: null, rcvbuf: 0, pin: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--runs') a.runs = Number(argv[++i]);
    else if (k === '--modes') a.modes = String(argv[++i]).split(',');
    else if (k === '--rate') a.rates = String(argv[++i]).split(',');
    else if (k === '--width') a.width = Number(argv[++i]);
    else if (k === '--height') a.height = Number(argv[++i]);
    else if (k === '--detail') a.detail = Number(argv[++i]);
    else if (k === '--out') a.out = argv[++i];
    else if (k === '--janus-rcvbuf') a.rcvbuf = Number(argv[++i]);
    else if (k === '--pin') a.pin = true;
    else if (k === '-h' || k === '--help') a.help = true;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!Number.isInteger(a.runs) || a.runs < 1 || a.runs > 30) throw new Error('--runs must be 1..30');
  if (!a.modes.every((m) => m === 'p2p' || m === 'forward')) throw new Error('--modes: p2p, forward');
  if (!a.rates.every((r) => r === 'none' || /^\d{1,4}mbit$/.test(r))) throw new Error('--rate: none or <N>mbit, comma separated');
  for (const k of ['width', 'height']) if (!Number.isInteger(a[k]) || a[k] < 640 || a[k] > 8192 || a[k] % 2) throw new Error(`--${k}: even, 640..8192`);
  if (!Number.isInteger(a.detail) || a.detail < 0 || a.detail > 100) throw new Error('--detail 0..100');
  if (!Number.isInteger(a.rcvbuf) || a.rcvbuf < 0 || a.rcvbuf > 256 << 20) throw new Error('--janus-rcvbuf: bytes, 0 .. 256 MiB');
  return a;
}

/** --pin: all threads of the processes in the patient's namespace on CPU 0, the doctor's on CPU 1; -> 'N + M threads'. */
function pinBrowsers(sc) {
  const counts = [];
  for (const [ns, cpu] of [[sc.lab.ns.patient, 0], [sc.lab.ns.doctor, 1]]) {
    let n = 0;
    const pids = execFileSync('/usr/sbin/ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      let tids = [];
      try { tids = fs.readdirSync(`/proc/${pid}/task`); } catch { continue; }
      for (const tid of tids) {
        try { execFileSync('taskset', ['-cp', String(cpu), tid], { stdio: 'ignore' }); n += 1; } catch { /* gone */ }
      }
    }
    counts.push(n);
  }
  return `${counts[0]} + ${counts[1]} threads`;
}

/** Raw transfer of the bytes held in the patient page (window.__benchBytes) to the doctor page. */
async function rawTransfer(pat, doc, size) {
  await doc.evaluate((want) => {
    const t = window.consult.channel.transport;
    const st = { got: 0, want, done: 0 };
    window.__raw = st;
    const on = (ev) => {
      if (st.done) return;
      const d = ev.data;
      st.got += d.byteLength === undefined ? String(d).length : d.byteLength;
      if (st.got >= st.want) st.done = performance.timeOrigin + performance.now();
    };
    for (const dc of t.channels) { dc.removeEventListener('message', window.__rawOn); dc.addEventListener('message', on); }
    window.__rawOn = on;
  }, size);
  const start = await pat.evaluate(async () => {
    const b = window.__benchBytes;
    const dc = window.consult.channel.dc;
    const t0 = performance.timeOrigin + performance.now();
    for (let off = 0; off < b.length; off += 16384) {
      while (dc.bufferedAmount > 1024 * 1024) await new Promise((r) => dc.addEventListener('bufferedamountlow', r, { once: true }));
      dc.send(b.subarray(off, Math.min(b.length, off + 16384)));
    }
    return t0;
  });
  const { waitFor } = await import('../tests/browser/lib.mjs');
  const done = await waitFor('doctor: all raw bytes arrived', () => doc.evaluate(() => window.__raw.done || null), 60_000, 20);
  await doc.evaluate(() => {
    for (const dc of window.consult.channel.transport.channels) dc.removeEventListener('message', window.__rawOn);
  });
  return done - start;
}

async function photoOnce(flow, doc, pat) {
  const n = await flow.requestPhoto(doc, pat);
  await flow.takePhoto(doc, pat, n);
  // as a person would: "Senden" after the preview is on screen (its 8 MP
  // decode and raster otherwise compete with the transfer for the CPU)
  await pat.evaluate(async () => {
    await document.getElementById('photo-preview').decode();
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  });
  // where the transfer's time goes: the last chunk arriving at the doctor's
  // leg (and the patient page's sent.handedAt: its last chunk handed over)
  await doc.evaluate(() => {
    const m = { last: 0 };
    window.__arriveMark = m;
    const on = (ev) => { if (ev.data && ev.data.byteLength > 4096) m.last = performance.timeOrigin + performance.now(); };
    for (const dc of window.consult.channel.transport.channels) { if (window.__arriveOn) dc.removeEventListener('message', window.__arriveOn); dc.addEventListener('message', on); }
    window.__arriveOn = on;
  });
  // and how full the patient's send buffer was while it sent: near empty =
  // the page did not hand chunks over fast enough (sealing), full = the link
  await pat.evaluate(() => {
    const b = { samples: 0, low: 0, timer: 0 };
    const since = performance.timeOrigin + performance.now();
    window.__bufSample = b;
    const tick = () => {
      const ch = window.consult.channel;
      const p = window.consult.photo;
      if (p && p.step === 'sending' && !(p.sent && p.sent.handedAt > since)) {
        b.samples += 1;
        if (ch.bufferedAmount < 128 * 1024) b.low += 1;
      }
      b.timer = setTimeout(tick, 5);
    };
    tick();
  });
  const { sent, entry, shown } = await flow.sendPhoto(doc, pat, n);
  const buf = await pat.evaluate(() => { clearTimeout(window.__bufSample.timer); return window.__bufSample; });
  const handed = sent.handedAt;
  const arrived = await doc.evaluate(() => window.__arriveMark.last);
  await doc.click('#viewer-close');
  return {
    n, size: sent.size, width: sent.width, height: sent.height,
    total: shown.at - sent.sendAt,
    toBegin: entry.t.begin - sent.sendAt,
    transfer: entry.t.end - entry.t.begin,
    check: entry.t.checked - entry.t.end,
    show: shown.at - entry.t.checked,
    via: shown.via || 'frame',
    // patient: Senden -> the last chunk handed to the data channel;
    // doctor: the last chunk at its leg -> photo-end handled by the page
    handed: handed - sent.sendAt,
    starved: buf.samples ? buf.low / buf.samples : null,
    lag: entry.t.end - arrived,
  };
}

/** Janus' cumulative relay counters: EAGAIN lines in its log, UDP receive-buffer drops in its namespace. */
function relayCounters(sc) {
  let eagain = 0;
  let drops = 0;
  try { eagain = (sc.stack.janus.log().match(/Got EAGAIN when trying to send/g) || []).length; } catch { /* no log */ }
  try {
    const l = fs.readFileSync(`/proc/${sc.stack.janus.pid}/net/snmp`, 'utf8').split('\n').filter((x) => x.startsWith('Udp:'));
    drops = Number(l[1].split(/\s+/)[l[0].split(/\s+/).indexOf('RcvbufErrors')]) || 0;
  } catch { /* gone */ }
  return { eagain, drops };
}

/** fn() with the relay counters' growth meanwhile as `${eagain}/${drops}`. */
async function counted(sc, fn) {
  const a = relayCounters(sc);
  const r = await fn();
  const b = relayCounters(sc);
  return { r, relay: `${b.eagain - a.eagain}/${b.drops - a.drops}` };
}

async function runMode(mode, rate, args, y4m, log, errors, janusEnv) {
  const lab = await import('../tests/nat/lab.mjs');
  const pcap = await import('../tests/nat/pcap.mjs');
  const flow = await import('../tests/nat/photoflow.mjs');
  const { waitFor } = await import('../tests/browser/lib.mjs');
  const sc = await lab.scenario({
    name: `bench-photo-${mode}`, artifactsDir: false, turn: 'absent', janusEnv,
    ...(mode === 'p2p' ? { nat: false } : { nat: true, block: true, pluginConfig: { p2p_timeout_seconds: 3 } }),
    patientArgs: [`--use-file-for-fake-video-capture=${y4m}`],
  });
  const rows = [];
  let failed = true;
  try {
    if (mode === 'p2p') await lab.waitCallUp(sc, { ms: 60_000 }); else await pcap.waitForwarded(sc, { ms: 60_000 });
    const { doc, pat } = sc.call;
    if (args.pin) log(`${mode} ${rate}: pinned ${pinBrowsers(sc)}`);
    for (const page of [doc, pat]) {
      await waitFor(`call channel open (${mode})`, () => page.evaluate((m) => window.consult.channel.state === 'open' && window.consult.channel.mode === m, mode), 30_000, 100);
    }
    if (rate !== 'none') {
      execFileSync('/usr/sbin/ip', ['netns', 'exec', sc.lab.ns.patient, '/usr/sbin/tc', 'qdisc', 'replace', 'dev', 'eth0', 'root',
        'tbf', 'rate', rate, 'burst', '64kb', 'latency', '200ms']);
    }
    // warm-up, not counted: one raw transfer of 4 MiB, so that run 1's photo
    // (always measured before its raw transfer) does not meet a data
    // channel that never carried a large message yet
    await pat.evaluate(() => {
      const u = new Uint8Array(4 * 1024 * 1024);
      for (let o = 0; o < u.length; o += 65536) crypto.getRandomValues(u.subarray(o, o + 65536));
      window.__benchBytes = u;
    });
    await rawTransfer(pat, doc, 4 * 1024 * 1024).catch((err) => log(`${mode} ${rate} warm-up: ${String(err.message || err).split('\n')[0]}`));
    let bytesLoaded = false;
    for (let r = 1; r <= args.runs; r++) {
      const row = { run: r };
      try {
      const photoFirst = r % 2 === 1;
      for (const what of photoFirst ? ['photo', 'raw'] : ['raw', 'photo']) {
        if (what === 'raw' && !bytesLoaded) continue;         // the first run measures the photo first
        if (what === 'photo') {
          const { r: once, relay } = await counted(sc, () => photoOnce(flow, doc, pat));
          Object.assign(row, once, { relayPhoto: relay });
          if (!bytesLoaded) {
            const bytes = await flow.doctorPhotoBytes(doc, row.n);
            await pat.evaluate((b64) => {
              const s = atob(b64);
              const u = new Uint8Array(s.length);
              for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
              window.__benchBytes = u;
            }, bytes.toString('base64'));
            bytesLoaded = true;
            if (!photoFirst) ({ r: row.raw, relay: row.relayRaw } = await counted(sc, () => rawTransfer(pat, doc, bytes.length)));
          }
        } else {
          const size = row.size || (await pat.evaluate(() => window.__benchBytes.length));
          ({ r: row.raw, relay: row.relayRaw } = await counted(sc, () => rawTransfer(pat, doc, size)));
        }
      }
      if (row.raw === undefined) ({ r: row.raw, relay: row.relayRaw } = await counted(sc, () => rawTransfer(pat, doc, row.size)));
      } catch (err) {
        // one broken run (e.g. the shaped link dropped the call) is written down, the row goes on
        errors.push(`${mode} ${rate} run ${r}: ${String(err.message || err).split('\n')[0].slice(0, 200)}`);
        log(errors[errors.length - 1]);
        const up = await doc.evaluate(() => window.consult.channel.state === 'open').catch(() => false);
        if (!up) break;
        continue;
      }
      row.ratio = row.total / row.raw;
      row.transferRatio = row.transfer / row.raw;
      rows.push(row);
      log(`${mode} ${rate} run ${r}: photo ${row.total.toFixed(0)} ms (begin +${row.toBegin.toFixed(0)}, transfer ${row.transfer.toFixed(0)}, `
        + `check ${row.check.toFixed(0)}, show ${row.show.toFixed(0)} via ${row.via}; handed +${row.handed.toFixed(0)}, lag ${row.lag.toFixed(0)}, starved ${row.starved === null ? 'n/a' : row.starved.toFixed(2)}, relay ${row.relayPhoto}), raw ${row.raw.toFixed(0)} ms (relay ${row.relayRaw}), ratio ${row.ratio.toFixed(2)}, ${row.size} bytes`);
    }
    failed = false;
  } finally {
    await sc.finish(failed);
  }
  return rows;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write('usage: node bench/photo.mjs [--runs 5] [--modes p2p,forward] [--rate none,20mbit] [--width 3264] [--height 2448] [--detail 40] [--out FILE] [--janus-rcvbuf BYTES] [--pin]\n');
    return 0;
  }
  const status = rerunInLoNetns(REPO);
  if (status !== null) return status;
  const { writeY4m } = await import('../tests/browser/y4m.mjs');
  const log = (s) => process.stderr.write(`photo-bench: ${s}\n`);
  const m = machine(REPO, { chromium: true });
  const started = new Date();
  const loadStart = loadAvg();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-bench-photo-'));
  const y4m = path.join(dir, 'camera.y4m');
  const results = [];
  const errors = [];
  try {
    const size = writeY4m(y4m, { width: args.width, height: args.height, frames: 2, detail: args.detail, fps: 5 });
    log(`camera ${args.width}x${args.height}, y4m ${(size / 1048576).toFixed(1)} MiB`);
    let janusEnv;
    if (args.rcvbuf) {
      const { janusRcvbufEnv } = await import('./lib/janus-rcvbuf.mjs');
      janusEnv = janusRcvbufEnv(args.rcvbuf, dir);
    }
    for (const mode of args.modes) {
      for (const rate of args.rates) {
        try {
          results.push({ mode, rate, rows: await runMode(mode, rate, args, y4m, log, errors, janusEnv) });
        } catch (err) {
          errors.push(`${mode} ${rate}: ${String(err.message || err).split('\n')[0].slice(0, 200)}`);
          log(errors[errors.length - 1]);
          results.push({ mode, rate, rows: [] });
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const date = started.toISOString().slice(0, 10);
  const out = args.out || path.join(REPO, 'bench', 'results', `photo-${date}.md`);
  const f0 = (x) => (x === null || x === undefined ? 'n/a' : x.toFixed(0));
  const lines = [
    `## Run ${started.toISOString()}`,
    '',
    `- machine: ${m.uname}`,
    `- CPU: ${m.cpu}, nproc ${m.nproc}; load average (1/5/15 min) at start ${loadStart}, at end ${loadAvg()}`,
    `- ${m.chromium}; node ${m.node}; commit ${m.commit}`,
    `- camera: ${args.width}x${args.height} y4m (detail ${args.detail}), JPEG quality 0.92; ${args.runs} runs per row`,
    `- Janus' UDP receive buffer: ${args.rcvbuf ? `${args.rcvbuf} bytes (--janus-rcvbuf)` : 'the host\'s default (net.core.rmem_default)'}`,
    `- browsers: ${args.pin ? 'pinned (--pin): the patient\'s on CPU 0, the doctor\'s on CPU 1' : 'both share all CPUs'}`,
    '',
    '| mode | patient link | runs | photo size | photo: Senden -> shown (median) | raw transfer (median) | ratio (medians) | goal <= 1.2 | photo transfer alone / raw (median of runs) | photo breakdown (medians): to begin / transfer / check / show |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  let allMet = errors.length === 0;
  for (const r of results) {
    if (!r.rows.length) { allMet = false; lines.push(`| ${r.mode} | ${r.rate} | 0 | | | | | missed (no run completed) | | |`); continue; }
    const md = (k) => median(r.rows.map((x) => x[k]));
    const ratio = md('total') / md('raw');
    const met = ratio <= GOAL;
    allMet = allMet && met;
    lines.push(`| ${r.mode} | ${r.rate === 'none' ? 'lab (unshaped)' : `tbf ${r.rate}`} | ${r.rows.length} | ${(md('size') / 1048576).toFixed(2)} MiB | ${f0(md('total'))} ms | ${f0(md('raw'))} ms | `
      + `${ratio.toFixed(2)} | ${met ? 'met' : 'missed'} | ${md('transferRatio').toFixed(2)} | ${f0(md('toBegin'))} / ${f0(md('transfer'))} / ${f0(md('check'))} / ${f0(md('show'))} ms |`);
  }
  if (errors.length) lines.push('', 'Runs that did not complete:', '', ...errors.map((e) => `- ${e}`));
  const vias = [...new Set(results.flatMap((r) => r.rows.map((x) => x.via)))];
  lines.push('', `"shown" measured as: ${vias.join(', ') || 'n/a'} (streamed: decoded at about the viewer's size, fed while the chunks arrived, and drawn; scaled: decoded at about the viewer's size at photo-end and drawn; decoded: the full image decoded; two animation frames later; pages without 'via' (before): one frame after the full decode).`);
  lines.push('', 'Per run (ms; "handed": Senden -> the patient page\'s last chunk handed to its data channel; "lag": the last chunk at the doctor\'s leg -> photo-end handled by its page; '
    + '"starved": share of 5 ms samples while sending with less than 128 KiB in the patient\'s send buffer; '
    + '"relay photo/raw": during that transfer, Janus\' EAGAIN log lines / UDP datagrams dropped at its sockets for a full receive buffer, forwarding only):', '',
    '| mode | link | run | photo | raw | ratio | to begin | transfer | check | show | handed | lag | starved | relay photo | relay raw | bytes |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    for (const x of r.rows) {
      lines.push(`| ${r.mode} | ${r.rate} | ${x.run} | ${f0(x.total)} | ${f0(x.raw)} | ${x.ratio.toFixed(2)} | ${f0(x.toBegin)} | ${f0(x.transfer)} | ${f0(x.check)} | ${f0(x.show)} | ${f0(x.handed)} | ${f0(x.lag)} | ${x.starved === null ? 'n/a' : x.starved.toFixed(2)} | ${r.mode === 'forward' ? x.relayPhoto : '-'} | ${r.mode === 'forward' ? x.relayRaw : '-'} | ${x.size} |`);
    }
  }
  lines.push('');
  const header = fs.existsSync(out) ? '' : [
    `# Photo on request: "Senden" -> shown at the doctor vs. the raw data-channel transfer — ${date}`,
    '',
    'Measured by `bench/photo.mjs` (see its header): real pages in the NAT lab, the patient\'s',
    'Chromium camera fed from a generated 8 MP y4m, the photo a 3-5 MB JPEG (quality 0.92).',
    '"raw": the same bytes straight onto the same RTCDataChannel in 16 KiB messages, same',
    'backpressure, first send -> last message at the doctor. Breakdown of the photo time:',
    '"to begin" = Senden -> photo-begin at the doctor (encoding was done at capture, the',
    'hash during the preview), "transfer" = photo-begin -> photo-end, "check" = SHA-256 and',
    'frame header at the doctor, "show" = checked -> decoded in the viewer and painted.',
    '',
  ].join('\n') + '\n';
  fs.appendFileSync(out, header + lines.join('\n') + '\n');
  log(`results appended to ${path.relative(REPO, out)}`);
  return allMet ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => { console.error(err); process.exit(2); });
