#!/usr/bin/env node
// store-latency.mjs - what a slow PostgreSQL costs everyone while store calls
// run under the plugin's global lock (glue.lock).
//
// Contract: runs under scripts/lib/with-postgres (CONSULT_TEST_STORE is its
// postgresql:// URL with the server's socket folder as host). Starts a TCP
// proxy on 127.0.0.1 in this process that forwards to that server's Unix
// socket and holds every chunk, in each direction, for --one-way-ms before
// passing it on (order kept), so one store round trip costs 2x that much
// more; it also counts round trips (a client->server chunk after a
// server->client one, per connection). Starts a private Janus
// (scripts/lib/janus.mjs) whose plugin uses a schema of its own through the
// proxy, seeds two practices (A: load, B: probes), then for each one-way
// delay in --delays (the proxy is re-set between phases, idle):
//  1. alone (every delay first, so practice A holds the same few
//     appointments): each request kind, one at a time with nothing else
//     running, --samples times: latency and store round trips per request;
//  2. interference: B's doctor sends waiting_list (no store call) and the
//     admin API asks handle_info of an anonymous handle (Janus calls the
//     plugin's query_session, which takes glue.lock) back to back, first
//     with A idle, then while --load workers of A loop
//     create_appointment -> join -> leave; latency of the probes and of A's
//     requests.
// Prints a Markdown section (and appends it to --out if given). Janus and the
// proxy are always stopped; the schema is dropped. Usage:
//   scripts/lib/with-postgres node bench/store-latency.mjs \
//     [--delays 0,10,20] [--samples 20] [--load 4] [--seconds 8] [--out FILE]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { startJanus } from '../scripts/lib/janus.mjs';
import { JanusClient } from '../scripts/lib/client.mjs';
import { seedPractice } from '../scripts/lib/seed.mjs';

const o = { delays: '0,10,20', samples: 20, load: 4, seconds: 8, out: '' };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '').replace(/-([a-z])/g, (m, c) => c.toUpperCase());
  if (!(k in o)) throw new Error(`unknown option ${process.argv[i]}`);
  o[k] = typeof o[k] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
const base = process.env.CONSULT_TEST_STORE || '';
const host = new URL(base.replace(/^postgres(ql)?:/, 'http:')).searchParams.get('host');
if (!/^postgres(ql)?:\/\//.test(base) || !host) {
  console.error('run under scripts/lib/with-postgres (CONSULT_TEST_STORE: postgresql:// URL with host=FOLDER)');
  process.exit(2);
}
const log = (...a) => process.stderr.write(`[store-latency] ${a.join(' ')}\n`);
const psqlBin = ['/usr/lib/postgresql/15/bin/psql', '/usr/bin/psql'].find((p) => fs.existsSync(p));
const psql = (sql) => execFileSync(psqlBin, ['-X', '-q', '-A', '-t', '-d', base, '-c', sql], { encoding: 'utf8' });

// --- the delaying, counting proxy ---
const proxy = { oneWay: 0, trips: 0, sockets: new Set() };
function relay(from, to, up, conn) {
  const q = [];
  let timer = null;
  const drain = () => {
    timer = null;
    const now = Date.now();
    while (q.length && q[0].due <= now) to.write(q.shift().buf);
    if (q.length) timer = setTimeout(drain, q[0].due - now);
  };
  from.on('data', (buf) => {
    if (up && conn.last !== 'up') proxy.trips++;
    conn.last = up ? 'up' : 'down';
    if (proxy.oneWay === 0 && q.length === 0) return void to.write(buf);
    q.push({ due: Date.now() + proxy.oneWay, buf });
    if (!timer) timer = setTimeout(drain, proxy.oneWay);
  });
  from.on('close', () => to.destroy());
  from.on('error', () => to.destroy());
}
const server = net.createServer((c) => {
  const s = net.connect({ path: `${host}/.s.PGSQL.5432` });
  const conn = { last: null };
  proxy.sockets.add(c).add(s);
  relay(c, s, true, conn);
  relay(s, c, false, conn);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const schema = `bench_${process.pid}`;
psql(`CREATE SCHEMA ${schema}`);
const url = `postgresql://consult@127.0.0.1:${port}/consult?sslmode=disable&options=-csearch_path%3D${schema}`;

const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const median = (xs) => pct(xs, 50);
const ms = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const sleep = (t) => new Promise((r) => setTimeout(r, t));
const timed = async (fn) => {
  const t0 = performance.now();
  const trips0 = proxy.trips;
  const v = await fn();
  return { v, t: performance.now() - t0, trips: proxy.trips - trips0 };
};
const nowS = () => Math.floor(Date.now() / 1000);

let janus = null;
const clients = [];
const lines = [];
let code = 0;
try {
  janus = await startJanus({ passwordCost: 'interactive', graceSeconds: 30, debugLevel: Number(process.env.BENCH_DEBUG || 4), extraPluginConfig: { database: url }, startTimeoutMs: 60000 });
  const pw = (n) => `pw-${n}-${process.pid}-long-enough`;
  const A = await seedPractice(janus, { slug: 'praxis-a', name: 'Praxis A', doctors: [{ username: 'doc-a', display_name: 'Dr. A', password: pw('da') }], receptions: [{ username: 'rec-a', display_name: 'Empfang A', password: pw('ra') }] });
  const B = await seedPractice(janus, { slug: 'praxis-b', name: 'Praxis B', doctors: [{ username: 'doc-b', display_name: 'Dr. B', password: pw('db') }], receptions: [{ username: 'rec-b', display_name: 'Empfang B', password: pw('rb') }] });
  const client = async () => {
    const c = await JanusClient.connect(janus.wsUrl);
    await c.createSession();
    clients.push(c);
    return c;
  };
  const staff = async (who) => {
    const c = await client();
    const h = await c.attach();
    await h.call({ request: 'login', username: who.username, password: who.password });
    return h;
  };
  const recA = await staff(A.receptions[0]);
  const docA = await staff(A.doctors[0]);
  const docB = await staff(B.doctors[0]);
  const appt = async (rec, doctorId) => (await rec.call({ request: 'create_appointment', doctor_id: doctorId, starts_at: nowS() + 60 })).code;
  let nm = 0;
  const joinBody = (slug, c) => ({ request: 'join', practice: slug, code: c, first_name: `Eri${++nm}`, last_name: `Mus${nm}`, accept_terms: true });
  const pc = await client(); // patients' session: one handle per patient

  const results = o.delays.split(',').map(Number).map((oneWay) => ({ oneWay, kinds: new Map() }));
  for (const r of results) {
    proxy.oneWay = r.oneWay;
    await sleep(300);
    log(`one-way ${r.oneWay} ms: requests alone`);
    const rec = (k, x) => {
      if (!r.kinds.has(k)) r.kinds.set(k, { t: [], trips: [] });
      r.kinds.get(k).t.push(x.t);
      r.kinds.get(k).trips.push(x.trips);
    };
    for (let i = 0; i < o.samples; i++) {
      const anon = await pc.attach();
      rec('practice_info (anon)', await timed(() => anon.call({ request: 'practice_info', practice: 'praxis-a' })));
      const code1 = await timed(() => appt(recA, A.doctors[0].id));
      rec('create_appointment', code1);
      rec('join', await timed(() => anon.call(joinBody('praxis-a', code1.v))));
      rec('waiting_list (doctor)', await timed(() => docA.call({ request: 'waiting_list' })));
      const wl = await docA.call({ request: 'waiting_list' });
      const vid = wl.visits[wl.visits.length - 1].visit_id;
      rec('call', await timed(() => docA.call({ request: 'call', visit_id: vid })));
      await anon.waitEvent('ringing');
      rec('accept', await timed(() => anon.call({ request: 'accept' })));
      await docA.waitEvent('call_accepted', { filter: (e) => e.visit_id === vid });
      rec('report (connected)', await timed(() => docA.call({ request: 'report', connection_state: 'connected', local_candidate_type: 'host', remote_candidate_type: 'host' })));
      rec('hangup (doctor)', await timed(() => docA.call({ request: 'hangup' })));
      docA.drain();
      const p2 = await pc.attach();
      await p2.call(joinBody('praxis-a', await appt(recA, A.doctors[0].id)));
      rec('leave', await timed(() => p2.call({ request: 'leave' })));
      await p2.detach();
      await anon.detach();
      docA.drain();
    }
    const list = await timed(() => recA.call({ request: 'list_appointments' }));
    rec(`list_appointments (${list.v.appointments?.length ?? '?'} rows)`, list);
    const lh = await pc.attach();
    rec('login (drops the lock for the hash)', await timed(() => lh.call({ request: 'login', username: A.receptions[0].username, password: A.receptions[0].password })));
    await lh.call({ request: 'logout' });
    await lh.detach();
  }

  // phase 2: probes of B, A idle and A loaded
  const bAnon = await pc.attach();
  const handleInfo = () => janus.adminRaw({ janus: 'handle_info', session_id: pc.sessionId, handle_id: bAnon.id, admin_secret: janus.adminSecret, transaction: `hi${Date.now()}` });
  const probe = async (loaded) => {
    const wl = [], cb = [], opsA = [];
    let stop = false, done = 0, errors = 0;
    const workers = [];
    if (loaded) {
      for (let w = 0; w < o.load; w++) {
        workers.push((async () => {
          const wc = await client();
          while (!stop) {
            try {
              const h = await wc.attach();
              const r1 = await timed(() => appt(recA, A.doctors[0].id));
              const r2 = await timed(() => h.call(joinBody('praxis-a', r1.v)));
              const r3 = await timed(() => h.call({ request: 'leave' }));
              opsA.push(r1.t, r2.t, r3.t);
              await h.detach();
              done++;
            } catch (e) {
              errors++;
              log(`load: ${e.message}`);
            }
          }
        })());
      }
      await sleep(500);
    }
    const until = Date.now() + o.seconds * 1000;
    const pw1 = (async () => { while (Date.now() < until) { wl.push((await timed(() => docB.call({ request: 'waiting_list' }))).t); await sleep(20); } })();
    const pw2 = (async () => {
      while (Date.now() < until) {
        const x = await timed(handleInfo);
        if (x.v.json?.janus !== 'success') throw new Error(`handle_info: ${x.v.text.slice(0, 200)}`);
        cb.push(x.t);
        await sleep(20);
      }
    })();
    await Promise.all([pw1, pw2]);
    stop = true;
    await Promise.all(workers);
    return { wl, cb, opsA, done, errors };
  };
  for (const r of results) {
    proxy.oneWay = r.oneWay;
    await sleep(300);
    log(`one-way ${r.oneWay} ms: probes, A idle`);
    r.idle = await probe(false);
    log(`one-way ${r.oneWay} ms: probes, A loaded (${o.load} workers)`);
    r.loaded = await probe(true);
    if (r.loaded.errors) code = 1;
  }

  const head = (t) => lines.push('', t, '');
  lines.push(`## Run ${new Date().toISOString()}`, '');
  lines.push(`Host: \`${os.hostname()}\`, ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load average at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}.`);
  try { lines.push(`Commit: \`${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}\`.`); } catch { /* no git */ }
  lines.push(`Options: delays (one way, ms) ${o.delays}, samples ${o.samples}, load workers ${o.load}, probe seconds ${o.seconds}.`);
  head('### 1. Each request alone (median / p90 ms; store round trips, median)');
  lines.push(`| request | ${results.map((r) => `RTT +${2 * r.oneWay} ms`).join(' | ')} | round trips |`);
  lines.push(`|---|${results.map(() => '---').join('|')}|---|`);
  results.forEach((r0, i) => {
    for (const n of r0.kinds.keys()) {
      if (n.startsWith('list_appointments') || i === 0) {
        lines.push(`| ${n} | ${results.map((r) => { const k = r.kinds.get(n); return k ? `${ms(median(k.t))} / ${ms(pct(k.t, 90))}` : ''; }).join(' | ')} | ${results.map((r) => (r.kinds.get(n) ? median(r.kinds.get(n).trips) : '')).filter((x) => x !== '').join(' / ')} |`);
      }
    }
  });
  head('### 2. Practice B while practice A works (p50 / p99 / max ms)');
  lines.push('| RTT added | B waiting_list, A idle | B waiting_list, A loaded | handle_info (query_session callback), A idle | handle_info, A loaded | A\'s requests, loaded | A cycles/s |');
  lines.push('|---|---|---|---|---|---|---|');
  const f = (xs) => `${ms(pct(xs, 50))} / ${ms(pct(xs, 99))} / ${ms(Math.max(...xs))} (n=${xs.length})`;
  for (const r of results) {
    lines.push(`| +${2 * r.oneWay} ms | ${f(r.idle.wl)} | ${f(r.loaded.wl)} | ${f(r.idle.cb)} | ${f(r.loaded.cb)} | ${f(r.loaded.opsA)} | ${(r.loaded.done / (o.seconds + 0.5)).toFixed(1)} |`);
  }
  const text = lines.join('\n') + '\n';
  process.stdout.write(text);
  if (o.out) fs.appendFileSync(o.out, `\n${text}`);
} catch (e) {
  code = 2;
  log(`failed: ${e.stack || e}`);
} finally {
  for (const c of clients) { try { c.close?.(); } catch { /* gone */ } }
  if (janus) await janus.stop().catch(() => {});
  for (const s of proxy.sockets) s.destroy();
  server.close();
  try { psql(`DROP SCHEMA ${schema} CASCADE`); } catch { /* server gone */ }
}
process.exit(code);
