#!/usr/bin/env node
// forward-scale.mjs - N parallel forwarded 720p calls through Janus: Janus'
// CPU per call, packet loss and one-way latency added by the relay, for
// consult's forwarding mode and Janus' own janus.plugin.videocall carrying
// identical traffic in the same run, at each N (default 1, 5, 10, 20).
//
// No browsers encode video here: each side of a call is a real WebRTC
// endpoint (bench/lib/rtp-leg.mjs: werift's ICE and DTLS-SRTP) in one of
// --workers threads of this process (bench/lib/leg-pool.mjs), sending a
// synthetic 720p VP8 + Opus stream at its real packet rate and sizes
// (bench/lib/rtp-stream.mjs: 30 fps averaging 2.5 Mbit/s, the highest rate
// consult's REMB cap lets a sender reach, a keyframe every 10 s, the E2EE
// trailer on every frame; the same seeded frame sizes in every variant).
// Each payload carries a stamp (stream, index, send time on the monotonic
// clock): the receiving leg counts every index once (loss) and receive -
// send (latency). Three variants per N, their order rotated:
//   direct    - the two legs of each call connect to each other: what the
//               generator itself loses and delays without a relay;
//   consult   - consult's forwarding mode (bench/lib/fwd-calls.mjs);
//   videocall - janus.plugin.videocall loaded by the same Janus.
// Janus' CPU = utime+stime of the Janus process (/proc/<pid>/stat) over
// the window minus its idle rate (same Janus, staff logged in, no call),
// per call and per packet into Janus: the generator's CPU never counts as
// Janus'. With --pin Janus runs on --janus-cpu and this process on
// --gen-cpu; by default nothing is pinned (on the shared 2-core machine a
// pinned generator starved on its core). Both are reniced (--nice).
// Added latency = the variant's percentile minus direct's at the same N.
// Kernel drops at Janus' and at the generator's sockets (/proc/net/udp)
// are counted apart; for consult the plugin's rtp_packets counter (admin
// stats) is written down: the packets our relay passed on.
// --callgrind DIR runs Janus under callgrind, instrumentation on only in
// each window (one dump per variant).
//
// Usage (root; re-executes itself in scripts/lib/in-lo-netns and adds a
// veth pair to a namespace of its own: all media stays on this machine):
//   node bench/forward-scale.mjs [--calls 1,5,10,20] [--window 15] [--warmup 4]
//     [--rounds 1] [--variants direct,consult,videocall] [--kbps 2500]
//     [--fps 30] [--event-loops 2] [--pin [--janus-cpu 0] [--gen-cpu 1]]
//     [--nice -5] [--workers 2] [--callgrind DIR] [--out FILE]
// Writes bench/results/forward-scale-YYYY-MM-DD.md (appends a section).
// Exit status 0 = complete, 2 = not complete (the error is in the file).
// Environment: CONSULT_PLUGIN, CONSULT_VIDEOCALL_PLUGIN.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inNamedNetns } from './lib/netns.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VIDEOCALL = process.env.CONSULT_VIDEOCALL_PLUGIN || '/usr/lib/x86_64-linux-gnu/janus/plugins/libjanus_videocall.so';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const KINDS = ['direct', 'consult', 'videocall'];

function parseArgs(argv) {
  const a = {
    calls: [1, 5, 10, 20], window: 15, warmup: 4, rounds: 1, variants: KINDS, kbps: 2500, fps: 30,
    eventLoops: 2, janusCpu: 0, genCpu: 1, pin: false, nice: -5, workers: 2, out: null, callgrind: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === '--calls') a.calls = v().split(',').map(Number);
    else if (k === '--window') a.window = Number(v());
    else if (k === '--warmup') a.warmup = Number(v());
    else if (k === '--rounds') a.rounds = Number(v());
    else if (k === '--variants') a.variants = v().split(',');
    else if (k === '--kbps') a.kbps = Number(v());
    else if (k === '--fps') a.fps = Number(v());
    else if (k === '--event-loops') a.eventLoops = Number(v());
    else if (k === '--janus-cpu') a.janusCpu = Number(v());
    else if (k === '--gen-cpu') a.genCpu = Number(v());
    else if (k === '--pin') a.pin = true;
    else if (k === '--no-pin') a.pin = false;
    else if (k === '--nice') a.nice = Number(v());
    else if (k === '--workers') a.workers = Number(v());
    else if (k === '--out') a.out = v();
    else if (k === '--callgrind') a.callgrind = path.resolve(v());
    else if (k === '-h' || k === '--help') a.help = true;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.calls.length || a.calls.some((n) => !Number.isInteger(n) || n < 1 || n > 40)) throw new Error('--calls: integers 1..40');
  if (!(a.window >= 3 && a.window <= 120)) throw new Error('--window must be 3..120 s');
  if (!(a.warmup >= 1 && a.warmup <= 30)) throw new Error('--warmup must be 1..30 s');
  if (!Number.isInteger(a.rounds) || a.rounds < 1 || a.rounds > 5) throw new Error('--rounds must be 1..5');
  if (!a.variants.length || a.variants.some((k) => !KINDS.includes(k))) throw new Error(`--variants: ${KINDS.join(',')}`);
  if (!(a.kbps >= 100 && a.kbps <= 8000)) throw new Error('--kbps must be 100..8000');
  if (!(a.fps >= 5 && a.fps <= 60)) throw new Error('--fps must be 5..60');
  if (!Number.isInteger(a.workers) || a.workers < 1 || a.workers > 8) throw new Error('--workers must be 1..8');
  if (!Number.isInteger(a.nice) || a.nice < -10 || a.nice > 0) throw new Error('--nice must be -10..0');
  if (!Number.isInteger(a.eventLoops) || a.eventLoops < 0 || a.eventLoops > 16) throw new Error('--event-loops 0..16 (0: unset)');
  return a;
}

// libnice gathers no candidates on lo: Janus needs another interface. A
// veth pair to a namespace made here (deleted at exit) gives this
// namespace the address MEDIA_IP; all media still stays on this machine.
const MEDIA_IP = '198.18.5.1';
function mediaInterface() {
  const peer = `consult-fsp-${process.pid}`;
  const ip = (...a) => execFileSync('/usr/sbin/ip', a, { stdio: 'ignore' });
  ip('netns', 'add', peer);
  process.on('exit', () => { try { ip('netns', 'del', peer); } catch { /* gone */ } });
  ip('link', 'add', 'fs0', 'type', 'veth', 'peer', 'name', 'fs1', 'netns', peer);
  ip('addr', 'add', `${MEDIA_IP}/24`, 'dev', 'fs0');
  ip('link', 'set', 'fs0', 'up');
  ip('-n', peer, 'link', 'set', 'fs1', 'up');
}

function pin(pid, cpu) {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

// A higher scheduling weight for every thread of pid (renice -n N -p tid):
// on the shared machine, Janus and the generator then lose less of their
// core to other work, closer to a server of their own.
function boost(pid, nice) {
  if (!nice) return;
  const tids = fs.readdirSync(`/proc/${pid}/task`);
  execFileSync('renice', ['-n', String(nice), '-p', ...tids], { stdio: 'ignore' });
}

// Kernel drops (socket receive buffer full) of the UDP sockets of a process,
// from /proc/net/udp (this namespace) matched by inode to /proc/<pid>/fd.
function udpDrops(pid) {
  const inodes = new Set();
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch { /* closed */ }
    }
  } catch { return null; }
  let drops = 0;
  for (const line of fs.readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 12 && inodes.has(f[9])) drops += Number(f[12]);
  }
  return drops;
}


function pct(xs, p) {
  if (!xs.length) return NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n')
      .filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n') + '\n');
    return 0;
  }
  if (!inNamedNetns()) {
    if (process.getuid() !== 0) throw new Error('run as root (network namespace, taskset)');
    const r = spawnSync(path.join(REPO, 'scripts/lib/in-lo-netns'),
      [process.execPath, '--max-semi-space-size=32', fileURLToPath(import.meta.url), ...process.argv.slice(2)],
      { stdio: 'inherit' });
    return r.status ?? 2;
  }
  if (args.callgrind) {
    // Janus under callgrind, instrumentation on only during each window
    // (one dump per variant); JANUS_BIN is read when janus.mjs loads.
    fs.mkdirSync(args.callgrind, { recursive: true });
    const wrapper = path.join(args.callgrind, 'janus-callgrind.sh');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no ${process.env.CALLGRIND_OPTS || ''} ` +
      `--callgrind-out-file=${args.callgrind}/callgrind.out.%p /usr/bin/janus "$@"\n`, { mode: 0o755 });
    process.env.JANUS_BIN = wrapper;
  }
  // after the re-exec: werift is a devDependency (npm ci in scripts/install-deps)
  const { startJanus } = await import('../scripts/lib/janus.mjs');
  const { seedPractice } = await import('../scripts/lib/seed.mjs');
  const { JanusClient } = await import('../scripts/lib/client.mjs');
  const { LegPool } = await import('./lib/leg-pool.mjs');
  const { setupCall, endCall } = await import('./lib/fwd-calls.mjs');
  const { procCpuMs, machine } = await import('./lib/report.mjs');

  if (!fs.existsSync(VIDEOCALL)) throw new Error(`videocall plugin not found: ${VIDEOCALL}`);
  if (args.pin && os.cpus().length < 2) throw new Error('pinning needs 2 cores (--no-pin to run without)');
  const facts = machine(REPO); // before pinning: nproc
  mediaInterface();
  if (args.pin) pin(process.pid, args.genCpu);
  boost(process.pid, args.nice);
  const started = new Date();
  const maxN = Math.max(...args.calls);
  const janus = await startJanus({
    extraPlugins: [VIDEOCALL], eventLoops: args.eventLoops || undefined, wsJson: 'compact',
    stopTimeoutMs: args.callgrind ? 120000 : 10000, startTimeoutMs: args.callgrind ? 180000 : undefined,
  });
  const cleanup = [];
  const onSignal = () => { janus.stop(3000).finally(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rows = [];
  const pool = await LegPool.create(args.workers); // threads inherit the nice value set above
  let idleRate = null;
  let err = null;
  try {
    if (!/janus\.plugin\.videocall|JANUS VideoCall/.test(janus.log())) {
      throw new Error('Janus did not load janus.plugin.videocall');
    }
    if (args.pin) pin(janus.pid, args.janusCpu);
    boost(janus.pid, args.nice); // threads made later inherit it
    const tag = Math.random().toString(36).slice(2, 7);
    const pw = () => `Pw-${Math.random().toString(36).slice(2)}x9`;
    const practice = await seedPractice(janus, {
      slug: `bench-${tag}`, name: 'Benchpraxis', phone: '0721-000',
      doctors: Array.from({ length: maxN }, (_, i) => ({ username: `dr${i}.${tag}`, display_name: `Dr. ${i}`, password: pw() })),
      receptions: [{ username: `rec.${tag}`, display_name: 'Empfang', password: pw() }],
    });
    const login = async (who) => {
      const client = await JanusClient.connect(janus.wsUrl);
      await client.createSession();
      const handle = await client.attach();
      await handle.call({ request: 'login', username: who.username, password: who.password });
      cleanup.push(() => client.destroy());
      return { client, handle };
    };
    const ctx = { janus, wsUrl: janus.wsUrl, practice, reception: await login(practice.receptions[0]), doctors: [] };
    for (const d of practice.doctors) ctx.doctors.push(await login(d));

    // idle: the same Janus with every staff page logged in, no call
    await sleep(2000);
    const i0 = procCpuMs(janus.pid);
    const t0 = performance.now();
    await sleep(args.window * 1000);
    idleRate = (procCpuMs(janus.pid) - i0) / (performance.now() - t0); // ms CPU per ms
    process.stderr.write(`idle: ${(idleRate * 100).toFixed(2)} % of a core\n`);

    let seedBase = 1;
    for (let round = 0; round < args.rounds; round++) {
      for (const n of args.calls) {
        // rotate the order per N and round so no variant always runs first
        const k = (round + args.calls.indexOf(n)) % args.variants.length;
        const order = [...args.variants.slice(k), ...args.variants.slice(0, k)];
        for (const kind of order) {
          const row = await runVariant({ kind, n, args, ctx, janus, pool, setupCall, endCall, procCpuMs, idleRate, seedBase })
            .catch((e) => { throw new Error(`${kind} N=${n} round ${round + 1}: ${e.message}`, { cause: e }); });
          row.round = round + 1;
          rows.push(row);
          process.stderr.write(`${kind} N=${n}: ${JSON.stringify(row.summary)}\n`);
        }
      }
      seedBase += 1000;
    }
  } catch (e) {
    err = e;
    process.stderr.write(`forward-scale: ${e.stack || e}\n`);
  } finally {
    await pool.terminate().catch(() => {});
    for (const f of cleanup) await f().catch(() => {});
    await janus.stop().catch(() => {});
  }
  writeResults({ args, rows, idleRate, started, err, machine: facts });
  return err ? 2 : 0;
}

async function runVariant({ kind, n, args, ctx, janus, pool, setupCall, endCall, procCpuMs, idleRate, seedBase }) {
  const stream = { videoKbps: args.kbps, fps: args.fps };
  // seconds a leg sends: warm-up + window + setup and teardown of N calls
  const seconds = args.warmup + args.window + 60 + 2 * n;
  const legs = [];
  const calls = [];
  const statsBefore = kind === 'consult' ? await ctx.janus.admin({ request: 'stats' }) : null;
  let sending = false;
  try {
    for (let i = 0; i < n; i++) {
      // the same source ids and seeds in every variant: identical traffic
      const d = { id: 2 * i + 1, seed: seedBase + 2 * i };
      const p = { id: 2 * i + 2, seed: seedBase + 2 * i + 1 };
      const doc = await pool.leg({ name: `d${i}`, sourceId: d.id, seed: d.seed, stream, expect: p.id, call: i, seconds });
      const pat = await pool.leg({ name: `p${i}`, sourceId: p.id, seed: p.seed, stream, expect: d.id, call: i, seconds });
      legs.push(doc, pat);
      calls.push(await setupCall(kind, ctx, doc, pat, i));
    }
    await Promise.all(legs.map((l) => l.connected(45000)));
    await Promise.all(legs.map((l) => l.start()));
    await pool.send(true);
    sending = true;
    await sleep(args.warmup * 1000);
    const drops0 = { janus: udpDrops(janus.pid), gen: udpDrops(process.pid) };
    const m0 = await pool.mark();
    const gen0 = process.cpuUsage();
    const control = (...a) => execFileSync('callgrind_control', [...a, String(janus.pid)], { stdio: 'ignore' });
    if (args.callgrind) control('-i', 'on');
    const cpu0 = procCpuMs(janus.pid);
    const w0 = performance.now();
    const load0 = os.loadavg()[0];
    await sleep(args.window * 1000);
    const cpu1 = procCpuMs(janus.pid);
    const wall = performance.now() - w0;
    if (args.callgrind) {
      control('-d', `${kind}-N${n}`);
      control('-i', 'off');
    }
    const m1 = await pool.mark();
    const gen = process.cpuUsage(gen0);
    const sum = (m, f) => legs.reduce((acc, l) => acc + m.get(l)[f], 0);
    const plis = sum(m1, 'pli') - sum(m0, 'pli');
    const skipped = sum(m1, 'skipped') - sum(m0, 'skipped');
    const drops = { janus: udpDrops(janus.pid) - drops0.janus, gen: udpDrops(process.pid) - drops0.gen };
    await pool.send(false);
    sending = false;
    // drain: wait until nothing more arrives for 2 s (at most 20 s; a
    // starved Janus was seen to pause for more than 500 ms with packets
    // still queued); what arrives later counts as lost
    const drainEnd = Date.now() + 20000;
    for (let last = -1, now = await pool.received(); now !== last && Date.now() < drainEnd;) {
      await sleep(2000);
      last = now;
      now = await pool.received();
    }
    let expected = 0;
    let received = 0;
    const lat = [];
    const worst = [];
    for (let i = 0; i < legs.length; i++) {
      const w = await legs[i ^ 1].window(m0.get(legs[i]).index, m1.get(legs[i]).index);
      expected += w.expected;
      received += w.received;
      for (const v of w.lat) lat.push(v);
      worst.push(w.lost);
    }
    const sendErrors = sum(m1, 'sendErrors');
    let relayed = null;
    if (kind === 'consult') {
      const after = await ctx.janus.admin({ request: 'stats' });
      relayed = after.forward.rtp_packets - statsBefore.forward.rtp_packets;
    }
    const janusRate = (cpu1 - cpu0) / wall;
    const summary = {
      n,
      janusCorePct: kind === 'direct' ? null : janusRate * 100,
      perCallPct: kind === 'direct' ? null : ((janusRate - idleRate) * 100) / n,
      // Janus CPU per packet received from the legs (each is also sent once)
      usPerPacket: kind === 'direct' ? null : ((janusRate - idleRate) * 1e6) / ((expected / wall) * 1000),
      pps: (expected / wall) * 1000,
      loss: expected ? (expected - received) / expected : NaN,
      lost: expected - received,
      maxLostPerStream: Math.max(...worst),
      p50: pct(lat, 0.5),
      p99: pct(lat, 0.99),
      genCorePct: ((gen.user + gen.system) / 1000 / wall) * 100,
      plis,
      skipped,
      drops,
      sendErrors,
      relayed,
      load: `${load0.toFixed(1)}-${os.loadavg()[0].toFixed(1)}`,
    };
    return { kind, summary };
  } finally {
    if (sending) await pool.send(false).catch(() => {});
    for (const c of calls) await endCall(kind, ctx, c).catch(() => {});
    await pool.closeLegs().catch(() => {});
    await sleep(1500); // Janus frees the PeerConnections
  }
}

const f2 = (v, d = 2) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));

function writeResults({ args, rows, idleRate, started, err, machine: m }) {
  const date = started.toISOString().slice(0, 10);
  const out = args.out || path.join(REPO, `bench/results/forward-scale-${date}.md`);
  const L = [];
  if (!fs.existsSync(out)) {
    L.push('# Forwarding at scale: N parallel forwarded 720p calls, consult vs janus.plugin.videocall', '');
    L.push('Written by `bench/forward-scale.mjs` (method: bench/README.md, "Forwarding at scale").', '');
  }
  L.push(`## Run ${started.toISOString()}`, '');
  L.push(`- command: \`node bench/forward-scale.mjs ${process.argv.slice(2).join(' ')}\``);
  L.push(`- machine: ${m.cpu}, ${m.nproc} cores, ${m.memTotal}; ${m.uname}`);
  L.push(`- ${m.janus}; node ${m.node}; commit ${m.commit}${m.dirty ? ' (uncommitted changes)' : ''}`);
  L.push(`- ${args.pin ? `Janus pinned to CPU ${args.janusCpu}, generator to CPU ${args.genCpu}` : 'not pinned (Janus and generator on either core)'};` +
    ` both at nice ${args.nice}; generator in ${args.workers} worker thread(s); event_loops = ${args.eventLoops || 'unset'}; stream per direction: VP8 ${args.kbps} kbit/s at ${args.fps} fps + Opus 50 pkt/s`);
  L.push(`- window ${args.window} s after ${args.warmup} s warm-up, ${args.rounds} round(s); Janus idle (staff logged in, no call): ${f2(idleRate * 100)} % of a core`);
  L.push('');
  L.push('| N | variant | Janus % of a core | Janus % per call | Janus µs per packet | packets/s into Janus | loss | lost (max per stream) | latency p50 ms | p99 ms | added p50 / p99 ms | PLIs | socket drops Janus / generator | frames skipped by the generator | generator % of a core | load avg |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const s = r.summary;
    const d = rows.find((x) => x.kind === 'direct' && x.summary.n === s.n && x.round === r.round)?.summary;
    const added = r.kind === 'direct' || !d ? '-' : `${f2(s.p50 - d.p50)} / ${f2(s.p99 - d.p99)}`;
    L.push(`| ${s.n} | ${r.kind}${r.round > 1 ? ` (r${r.round})` : ''} | ${f2(s.janusCorePct)} | ${f2(s.perCallPct)} | ${f2(s.usPerPacket, 1)} | ${r.kind === 'direct' ? `(${Math.round(s.pps)})` : Math.round(s.pps)} | ` +
      `${f2(s.loss * 100, 3)} % | ${s.lost} (${s.maxLostPerStream}) | ${f2(s.p50)} | ${f2(s.p99)} | ${added} | ${s.plis} | ${r.kind === 'direct' ? '-' : s.drops.janus} / ${s.drops.gen} | ${s.skipped} | ${f2(s.genCorePct, 0)} | ${s.load} |`);
  }
  L.push('');
  L.push('| N | consult % per call | videocall % per call | ratio | consult µs per packet | videocall µs per packet | ratio per packet |');
  L.push('|---|---|---|---|---|---|---|');
  for (const n of args.calls) {
    const mean = (k, f) => {
      const xs = rows.filter((r) => r.kind === k && r.summary.n === n).map((r) => r.summary[f]);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
    };
    const c = mean('consult', 'perCallPct');
    const v = mean('videocall', 'perCallPct');
    const cp = mean('consult', 'usPerPacket');
    const vp = mean('videocall', 'usPerPacket');
    L.push(`| ${n} | ${f2(c, 3)} | ${f2(v, 3)} | ${f2(c / v)} | ${f2(cp, 1)} | ${f2(vp, 1)} | ${f2(cp / vp)} |`);
  }
  const checks = rows.filter((r) => r.kind === 'consult').map((r) => `N=${r.summary.n}: ${r.summary.relayed}`);
  if (checks.length) L.push('', `consult plugin rtp_packets relayed during each consult variant (setup to end): ${checks.join(', ')}`);
  const errs = rows.filter((r) => r.summary.sendErrors > 0);
  if (errs.length) L.push('', `generator send errors: ${errs.map((r) => `${r.kind} N=${r.summary.n}: ${r.summary.sendErrors}`).join(', ')}`);
  if (err) L.push('', `**The run did not complete:** ${String(err.message || err).split('\n')[0]}`);
  L.push('', '');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.appendFileSync(out, L.join('\n'));
  process.stderr.write(`results: ${out}\n`);
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`forward-scale: ${e.stack || e}\n`);
  process.exit(2);
});
