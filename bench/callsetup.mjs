#!/usr/bin/env node
// callsetup.mjs - call setup time by media path, with the real pages, the
// consult plugin, coturn and two Chromiums in the NAT lab of tests/nat.
//
// Paths: host  (patient and doctor on the public network, no NAT),
//        srflx (each behind a cone NAT, direct path open),
//        relay (each behind a NAT, direct path blocked: TURN only).
// For each path one lab, one stack and one pair of browsers; then N runs
// (default 5) of: book (over the WebSocket), the patient joins from the link,
// the doctor calls, the patient accepts. Measured per run: from the
// patient's click on #accept-call to the first decoded video frame
// (inbound-rtp framesDecoded > 0, polled every 10 ms in each page), on the
// patient's and on the doctor's side; "both" = the later of the two. Both
// pages and this process share the machine clock (Date.now()). The selected
// candidate pair at that moment is recorded too.
// Writes bench/results/callsetup-YYYY-MM-DD.md (date, machine, versions,
// medians and spread, every run). No pass/fail: a measurement.
//
// Usage (root; re-executes itself in scripts/lib/in-lo-netns unless already
// inside a named network namespace):
//   node bench/callsetup.mjs [--runs 5] [--paths host,srflx,relay] [--out FILE]
// Environment: CONSULT_PLUGIN (the plugin .so), CONSULT_CHROMIUM.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const a = { runs: 5, paths: ['host', 'srflx', 'relay'], out: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--runs') a.runs = Number(argv[++i]);
    else if (k === '--paths') a.paths = String(argv[++i]).split(',').filter(Boolean);
    else if (k === '--out') a.out = argv[++i];
    else if (k === '-h' || k === '--help') a.help = true;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!Number.isInteger(a.runs) || a.runs < 1 || a.runs > 100) throw new Error('--runs must be 1..100');
  for (const p of a.paths) if (!['host', 'srflx', 'relay'].includes(p)) throw new Error(`unknown path ${p}`);
  return a;
}

const inNamedNetns = () => {
  try {
    return execFileSync('/usr/sbin/ip', ['netns', 'identify', String(process.pid)], { encoding: 'utf8' }).trim() !== '';
  } catch { return false; }
};

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  if (!s.length) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
};

function machine() {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m) || [])[1] || 'unknown';
  const mem = (fs.readFileSync('/proc/meminfo', 'utf8').match(/^MemTotal:\s*(\d+) kB/m) || [])[1];
  const out = (cmd, args) => {
    try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n')[0]; } catch { return 'unknown'; }
  };
  return {
    uname: out('uname', ['-a']),
    cpu,
    nproc: os.cpus().length,
    memory: mem ? `${(Number(mem) / 1024 / 1024).toFixed(1)} GiB` : 'unknown',
    chromium: out(process.env.CONSULT_CHROMIUM || '/usr/bin/chromium', ['--version']),
    coturn: `coturn ${out('/usr/bin/turnserver', ['--version'])}`,
    node: process.version,
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

async function measurePath(kind, runs, log) {
  const lab = await import('../tests/nat/lab.mjs');
  const { rtcSnapshot } = await import('../tests/browser/lib.mjs');
  const labOpts = { host: { nat: false }, srflx: { nat: true }, relay: { nat: true, block: true } }[kind];
  const sc = { lab: null, stack: null, staff: null, patient: null };
  const rows = [];
  try {
    sc.lab = lab.createLab(labOpts);
    sc.stack = await lab.startLabStack(sc.lab);
    sc.staff = await lab.launchIn(sc.lab.ns.doctor, 'bench-staff', { origin: sc.stack.origin });
    sc.patient = await lab.launchIn(sc.lab.ns.patient, 'bench-patient', { origin: sc.stack.origin });
    for (let i = 1; i <= runs; i++) {
      const consoleLines = [];
      const call = await lab.realCall({
        stack: sc.stack, staff: sc.staff, patient: sc.patient, consoleLines, appointmentViaWs: true,
      });
      try {
        const [patAt, docAt] = await Promise.all([lab.firstFrameAt(call.patPage), lab.firstFrameAt(call.docPage)]);
        const snap = await rtcSnapshot(call.docPage);
        const pair = snap.pair ? `${snap.pair.local.type}/${snap.pair.remote.type}` : '?';
        const row = {
          run: i,
          patient: patAt && call.acceptAt ? patAt - call.acceptAt : null,
          doctor: docAt && call.acceptAt ? docAt - call.acceptAt : null,
          pair,
        };
        row.both = row.patient !== null && row.doctor !== null ? Math.max(row.patient, row.doctor) : null;
        rows.push(row);
        log(`${kind} run ${i}: patient ${row.patient} ms, doctor ${row.doctor} ms, doctor's pair ${pair}`);
        await call.doc.click('#hangup');
        await call.pat.waitVisible('#ended', 15_000);
      } finally {
        for (const p of [call.patPage, call.docPage, call.rec && call.rec.page]) {
          if (p) await p.close().catch(() => {});
        }
      }
    }
  } finally {
    for (const b of [sc.patient, sc.staff]) if (b) await b.close();
    if (sc.stack) await sc.stack.stop();
    if (sc.lab) sc.lab.destroySync();
  }
  return rows;
}

function summary(kind, rows) {
  const pick = (k) => rows.map((r) => r[k]).filter((x) => typeof x === 'number');
  const fmt = (xs) => (xs.length ? `${median(xs)} (${Math.min(...xs)}–${Math.max(...xs)})` : 'n/a');
  const pairs = [...new Set(rows.map((r) => r.pair))].join(', ');
  return `| ${kind} | ${rows.length} | ${fmt(pick('patient'))} | ${fmt(pick('doctor'))} | ${fmt(pick('both'))} | ${pairs} |`;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write('usage: node bench/callsetup.mjs [--runs 5] [--paths host,srflx,relay] [--out FILE]\n');
    return 0;
  }
  if (!inNamedNetns()) {
    // The lab's public side must not be the machine's root namespace.
    const r = spawnSync(path.join(REPO, 'scripts/lib/in-lo-netns'), [process.execPath, ...process.argv.slice(1)], { stdio: 'inherit' });
    return r.status ?? 1;
  }
  const m = machine();
  const started = new Date();
  const log = (s) => process.stderr.write(`callsetup: ${s}\n`);
  const results = {};
  for (const kind of args.paths) {
    log(`path ${kind}: ${args.runs} runs`);
    results[kind] = await measurePath(kind, args.runs, log);
  }
  const date = started.toISOString().slice(0, 10);
  const out = args.out || path.join(REPO, 'bench', 'results', `callsetup-${date}.md`);
  const lines = [
    `# Call setup by media path — ${date}`,
    '',
    'Measured by `bench/callsetup.mjs` (real pages, consult plugin, coturn, two Chromiums',
    'in the NAT lab of tests/nat): from the patient\'s click on "Annehmen" (#accept-call)',
    'to the first decoded video frame, per side; "both" is the later of the two.',
    'Milliseconds, median (min–max). The pair column is the doctor\'s selected candidate',
    'pair (local/remote) at the first frame.',
    '',
    `- started: ${started.toISOString()}`,
    `- machine: ${m.uname}`,
    `- CPU: ${m.cpu}, nproc ${m.nproc}, memory ${m.memory}`,
    `- load average (1/5/15 min) at start: ${m.load}; at end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    '  (a load far above nproc means other work shared the CPUs: the times are then',
    '  dominated by scheduling, not by the network path)',
    `- ${m.chromium}; ${m.coturn}; node ${m.node}`,
    `- plugin: ${process.env.CONSULT_PLUGIN || 'build/.libs/libjanus_consult.so'}`,
    '',
    '| path | runs | patient ms | doctor ms | both ms | pair |',
    '|---|---|---|---|---|---|',
    ...args.paths.map((k) => summary(k, results[k])),
    '',
    '## Every run',
    '',
    '| path | run | patient ms | doctor ms | both ms | pair |',
    '|---|---|---|---|---|---|',
    ...args.paths.flatMap((k) => results[k].map((r) => `| ${k} | ${r.run} | ${r.patient} | ${r.doctor} | ${r.both} | ${r.pair} |`)),
    '',
  ];
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, lines.join('\n'));
  log(`wrote ${path.relative(REPO, out)}`);
  process.stdout.write(lines.join('\n'));
  return 0;
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`callsetup: ${err.stack || err}\n`);
  process.exit(1);
});
