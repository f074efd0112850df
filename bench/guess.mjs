#!/usr/bin/env node
// guess.mjs - the fastest an attacker can try access codes against one
// practice, and what that means for guessing a valid code.
//
// Contract: starts a private Janus with the built plugin (scripts/lib),
// seeds one practice with V valid appointments, then for --seconds runs C
// workers (each its own WebSocket and Janus session) that do what a guesser
// does against the limits: attach a fresh handle, send 5 `join`s with random
// well-formed wrong codes (the per-handle lock comes after 5 failures),
// detach, repeat. Counts the answers that required a code lookup
// (`code_invalid`, and `rate_limited` once the per-practice counter is
// locked: the lookup happened, a correct code would have been accepted)
// and reports the rate per second. A control join with one of the valid
// codes during the run must succeed (a guesser never locks out a patient).
// Writes the figure and the guessing bound (expected years to hit any of N
// valid codes of 60 bits at that rate) to a dated Markdown file.
// Exit code 0 = run complete and the control join succeeded, 1 = control
// failed, 2 = the run could not complete. Janus is always stopped.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startJanus } from '../scripts/lib/janus.mjs';
import { seedPractice } from '../scripts/lib/seed.mjs';
import { connectHandle } from '../scripts/lib/client.mjs';
import { MuxConn } from './lib/mux.mjs';
import { machine, procCpuMs } from './lib/report.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PLUGIN = 'janus.plugin.consult';
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function parseArgs(argv) {
  const o = { seconds: 20, workers: 16, valid: 50, out: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    const n = (x) => { const y = Number(x); if (!Number.isInteger(y) || y < 1) throw new Error(`${k} needs a positive integer`); return y; };
    if (k === '--seconds') o.seconds = Math.min(n(v()), 600);
    else if (k === '--workers') o.workers = Math.min(n(v()), 256);
    else if (k === '--valid') o.valid = Math.min(n(v()), 2000);
    else if (k === '--out') o.out = v();
    else throw new Error(`unknown option ${k}`);
  }
  return o;
}

function randomCode() {
  let s = '';
  for (const b of crypto.randomBytes(12)) s += ALPHABET[b & 31];
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`;
}

/** Expected years until a guesser at `rate` guesses/s hits any of n valid 60-bit codes. */
export function expectedYears(n, rate) {
  return 2 ** 60 / n / rate / (365.25 * 86400);
}

async function worker(url, slug, until, counts) {
  const m = new MuxConn(url, 'guess');
  await m.open();
  const sid = await m.createSession(5000);
  try {
    while (performance.now() < until) {
      const hid = await m.attach(sid, PLUGIN, 5000);
      for (let i = 0; i < 5 && performance.now() < until; i++) {
        const { data } = await m.message(sid, hid, {
          request: 'join', practice: slug, code: randomCode(), first_name: 'Guess', last_name: 'Er', accept_terms: true,
        }, 5000);
        const e = data && data.ok === false ? data.error : (data && data.ok ? 'ok' : 'none');
        counts[e] = (counts[e] || 0) + 1;
      }
      await m.request({ janus: 'detach', session_id: sid, handle_id: hid }, 5000);
      counts.handles += 1;
    }
  } finally {
    m.close();
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const plugin = process.env.CONSULT_PLUGIN || path.join(REPO, 'build/.libs/libjanus_consult.so');
  const janus = await startJanus({ plugin });
  const stop = () => janus.stop().catch(() => {});
  process.once('SIGINT', () => { stop().then(() => process.exit(2)); });
  let exit = 0;
  try {
    const tag = crypto.randomBytes(3).toString('hex');
    const pw = `Pw-${crypto.randomBytes(8).toString('hex')}`;
    const pr = await seedPractice(janus, {
      slug: `guess-${tag}`, name: 'Guess', receptions: [{ username: `empfang.${tag}`, display_name: 'Empfang', password: pw }],
    });
    const rec = await connectHandle(janus.wsUrl);
    await rec.handle.call({ request: 'login', username: pr.receptions[0].username, password: pw });
    const codes = [];
    const startsAt = Math.floor(Date.now() / 1000) + 600;
    for (let i = 0; i < args.valid; i++) {
      codes.push((await rec.handle.call({ request: 'create_appointment', starts_at: startsAt })).code);
    }
    const counts = { handles: 0 };
    const cpu0 = procCpuMs(janus.pid);
    const t0 = performance.now();
    const until = t0 + args.seconds * 1000;
    const control = (async () => {
      // Halfway through, the holder of a valid code joins on a fresh handle.
      await new Promise((r) => setTimeout(r, args.seconds * 500));
      const p = await connectHandle(janus.wsUrl);
      const r = await p.handle.request({ request: 'join', practice: pr.slug, code: codes[0], first_name: 'Real', last_name: 'Patient', accept_terms: true });
      await p.client.close();
      return r;
    })();
    await Promise.all(Array.from({ length: args.workers }, () => worker(janus.wsUrl, pr.slug, until, counts)));
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = (procCpuMs(janus.pid) - cpu0) / 1000;
    const ctl = await control;
    await rec.client.close();
    const lookups = (counts.code_invalid || 0) + (counts.rate_limited || 0);
    const rate = lookups / elapsed;
    const m = machine(REPO);
    const date = new Date().toISOString();
    const rows = [100, 1000, 10000, 100000].map((n) => `| ${n} | ${expectedYears(n, rate).toExponential(2)} years |`);
    const text = [
      `## Run ${date}`,
      '',
      `- machine: ${m.cpu}, nproc ${m.nproc}, ${m.memTotal}; ${m.janus}; node ${m.node}; commit ${m.commit}${m.dirty ? ' (dirty)' : ''}`,
      `- ${args.workers} workers (one WebSocket + session each), ${args.seconds} s, ${args.valid} valid codes in the practice`,
      `- answers: ${JSON.stringify(counts)} in ${elapsed.toFixed(1)} s; Janus CPU ${cpu.toFixed(1)} s`,
      `- **wrong-code joins with a lookup: ${Math.round(rate)} per second** (code_invalid + rate_limited after the per-practice lock)`,
      `- control join with a valid code during the run: ${ctl && ctl.ok ? 'ok' : `FAILED ${JSON.stringify(ctl)}`}`,
      '',
      `Expected time to hit any of N valid codes (60 bits) at ${Math.round(rate)} guesses/s: 2^60 / (N * rate)`,
      '',
      '| valid codes N | expected time |',
      '|---|---|',
      ...rows,
      '',
    ].join('\n');
    process.stdout.write(text);
    const out = args.out || path.join(REPO, 'bench/results', `guess-${date.slice(0, 10)}.md`);
    if (!fs.existsSync(out)) fs.writeFileSync(out, '# Access-code guessing: measured maximum rate (bench/guess.mjs)\n\n');
    fs.appendFileSync(out, `${text}\n`);
    if (!(ctl && ctl.ok)) exit = 1;
  } catch (e) {
    process.stderr.write(`guess: ${e.stack || e}\n`);
    exit = 2;
  } finally {
    await stop();
  }
  process.exit(exit);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
