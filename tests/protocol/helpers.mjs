// helpers.mjs - shared fixture of the protocol tests (not a test file).
//
// Contract: useStack(opts) registers node:test before/after hooks that
// start a real Janus with the consult plugin (scripts/lib/janus.mjs), seed
// practice A (2 doctors, 1 reception) and practice B (1 doctor, 1
// reception), and after the file: close every client, assert Janus is still
// alive, stop it, assert exit code 0, that its log holds none of the
// secrets registered with ctx.secret() (names, codes, passwords), nor does
// the output of Janus' sample event handler (all events, incl. the
// plugin's), and, under
// CONSULT_ASAN=1, that no sanitizer report was written. opts.setup (async)
// runs before Janus starts; opts.janus is read after it. Janus is stopped
// even when a test or an assertion fails. ctx.advanceClock(seconds) moves
// the plugin's clock forward (admin test_clock; Janus must run with
// CONSULT_TEST=1, opts.janus.env), so a test waits for the event a timer
// sends instead of sleeping through the timer.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { startJanus } from '../../scripts/lib/janus.mjs';
import { connectHandle } from '../../scripts/lib/client.mjs';
import { seedPractice } from '../../scripts/lib/seed.mjs';
import { startEventSink } from './servers.mjs';

export const now = () => Math.floor(Date.now() / 1000);
export const rand = (n = 4) => crypto.randomBytes(n).toString('hex');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Letters-only unique name part (names are also scanned for in logs). */
export function uniqueName(prefix) {
  const letters = 'bcdfghjklmnpqrstvwxz';
  let s = '';
  for (const b of crypto.randomBytes(6)) s += letters[b % letters.length];
  return prefix + s;
}

export function assertError(data, name, code) {
  assert.equal(data.ok, false, `expected error ${name}, got ${JSON.stringify(data)}`);
  assert.equal(data.error, name, `expected error ${name}, got ${JSON.stringify(data)}`);
  if (code !== undefined) assert.equal(data.error_code, code);
  assert.equal(typeof data.reason, 'string');
}

export function assertOk(data) {
  assert.equal(data.ok, true, `expected ok, got ${JSON.stringify(data)}`);
  return data;
}

export const CODE_RE = /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/;

export function useStack(opts = {}) {
  const ctx = {
    janus: null,
    A: null,
    B: null,
    secrets: new Set(),
    clients: [],
    opts,
  };

  ctx.clockOffset = 0;
  ctx.advanceClock = async (seconds) => {
    ctx.clockOffset += seconds;
    return assertOk(await ctx.janus.admin({ request: 'test_clock', offset_seconds: ctx.clockOffset }));
  };

  ctx.secret = (...values) => {
    for (const v of values) if (v) ctx.secrets.add(String(v));
    return values[0];
  };

  ctx.connect = async () => {
    const c = await connectHandle(ctx.janus.wsUrl);
    ctx.clients.push(c.client);
    return c;
  };

  /** A logged-in staff handle; `who` is a seeded staff object. */
  ctx.login = async (who) => {
    const { client, handle } = await ctx.connect();
    const r = await handle.call({ request: 'login', username: who.username, password: who.password });
    return { client, handle, reply: r };
  };

  /** Create an appointment through a logged-in staff handle. */
  ctx.appointment = async (staffHandle, { doctorId = null, startsAt = now() + 60 } = {}) => {
    const r = await staffHandle.call({ request: 'create_appointment', doctor_id: doctorId, starts_at: startsAt });
    ctx.secret(r.code, r.code.replace(/-/g, ''), r.link);
    return r;
  };

  /** A patient that joined with `appt.code`; returns {client, handle, reply, first, last}. */
  ctx.patient = async (appt, { practice = ctx.A.slug } = {}) => {
    const first = ctx.secret(uniqueName('Eri'));
    const last = ctx.secret(uniqueName('Mus'));
    const { client, handle } = await ctx.connect();
    const reply = await handle.call({
      request: 'join', practice, code: appt.code, first_name: first, last_name: last, accept_terms: true,
    });
    return { client, handle, reply, first, last, appt };
  };

  /** Read-only query of the plugin's SQLite file (sqlite3 CLI); rows as objects. */
  ctx.db = (sql) => {
    if (ctx.janus.pgUrl) { // CONSULT_PROTOCOL_PG=1 (scripts/lib/janus.mjs): the same rows from PostgreSQL
      const psql = ['/usr/lib/postgresql/15/bin/psql', '/usr/bin/psql'].find((p) => fs.existsSync(p));
      const out = execFileSync(psql, ['-X', '-q', '-A', '-t', '-d', ctx.janus.pgUrl, '-c',
        `SELECT coalesce(json_agg(t), '[]') FROM (${sql.replace(/;\s*$/, '')}) t`], { encoding: 'utf8' });
      return JSON.parse(out.trim());
    }
    const out = execFileSync('sqlite3', ['-readonly', '-json', path.join(ctx.janus.dataDir, 'consult.sqlite'), sql], { encoding: 'utf8' });
    return out.trim() ? JSON.parse(out) : [];
  };

  /** Doctor calls the patient, patient accepts; resolves when the doctor got call_accepted. */
  ctx.connectCall = async (doc, p) => {
    assertOk(await doc.handle.request({ request: 'call', visit_id: p.reply.visit_id }));
    const ring = await p.handle.waitEvent('ringing');
    assertOk(await p.handle.request({ request: 'accept' }));
    const acc = await doc.handle.waitEvent('call_accepted', { filter: (e) => e.visit_id === p.reply.visit_id });
    return { ring, acc };
  };

  before(async () => {
    if (opts.setup) await opts.setup(); // e.g. start the servers Janus is configured to use
    // Janus' sample event handler posts every core and plugin event here;
    // after the file it is scanned for personal data like the log.
    ctx.events = await startEventSink();
    ctx.janus = await startJanus({
      graceSeconds: opts.graceSeconds ?? 5,
      joinBeforeMinutes: opts.joinBeforeMinutes ?? 30,
      joinAfterMinutes: opts.joinAfterMinutes ?? 120,
      publicUrl: 'https://praxis.example',
      eventsBackend: ctx.events.url,
      ...opts.janus,
      extraPluginConfig: { events: true, ...(opts.janus?.extraPluginConfig || {}) },
    });
    const pw = () => ctx.secret(`Pw-${rand(8)}`);
    const tag = rand(3);
    ctx.A = await seedPractice(ctx.janus, {
      slug: `praxis-a-${tag}`, name: 'Hautärzte am Marktplatz', phone: '0721-5163690',
      doctors: [
        { username: `dr.weber.${tag}`, display_name: 'Dr. Weber', password: pw() },
        { username: `dr.klein.${tag}`, display_name: 'Dr. Klein', password: pw() },
      ],
      receptions: [{ username: `empfang.${tag}`, display_name: 'Empfang', password: pw() }],
    });
    ctx.B = await seedPractice(ctx.janus, {
      slug: `praxis-b-${tag}`, name: 'Praxis Süd', phone: '0721 123',
      doctors: [{ username: `dr.sued.${tag}`, display_name: 'Dr. Süd', password: pw() }],
      receptions: [{ username: `empfang.b.${tag}`, display_name: 'Empfang B', password: pw() }],
    });
  });

  after(async () => {
    if (!ctx.janus) return;
    const wasAlive = ctx.janus.alive();
    for (const c of ctx.clients) await c.close().catch(() => {});
    await sleep(100);
    const stillAlive = ctx.janus.alive();
    const exit = await ctx.janus.stop();
    const log = ctx.janus.log();
    assert.ok(wasAlive && stillAlive, `Janus died during the tests: ${JSON.stringify(exit)}\n${log.slice(-3000)}`);
    assert.deepEqual(exit, { code: 0, signal: null }, `Janus exit ${JSON.stringify(exit)}\n${log.slice(-3000)}`);
    const leaked = [...ctx.secrets].filter((s) => s.length >= 4 && log.includes(s));
    assert.deepEqual(leaked.map((s) => s.slice(0, 3) + '…'), [], 'personal data or secrets in the Janus log');
    const evText = ctx.events.text();
    await ctx.events.stop();
    assert.ok(ctx.events.count() > 0, 'the event handler received nothing: its scan would prove nothing');
    const evLeaked = [...ctx.secrets].filter((s) => s.length >= 4 && evText.includes(s));
    assert.deepEqual(evLeaked.map((s) => s.slice(0, 3) + '…'), [], 'personal data or secrets in the event handler output');
    assert.ok(!/could not be initialized|\[FATAL\]/.test(log), 'fatal lines in the Janus log');
    if (process.env.CONSULT_ASAN === '1') {
      const reports = ctx.janus.sanitizerReports();
      assert.deepEqual(reports.map((r) => r.file), [], `sanitizer reports:\n${reports.map((r) => r.text).join('\n').slice(0, 4000)}`);
    }
  });

  return ctx;
}
