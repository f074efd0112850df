// resume.test.mjs - resumable staff sessions against the real Janus: the
// session token of `login`, the anonymous request `resume` (the handle
// becomes the token's staff member, as after login, without a password),
// `session_invalid` after logout, set_disabled, reset_password and expiry,
// the handle limiter, the take-over of a live handle, and a token that
// outlives a killed Janus (docs/protocol.md, "resume").
// Every token is registered with ctx.secret: the Janus log and the event
// handler's output are scanned for them after the file.
// CONSULT_TEST=1: the expiry runs on the plugin's test clock (last test:
// the clock only moves forward) and the admin purge takes a "now".
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startJanus } from '../../scripts/lib/janus.mjs';
import { connectHandle } from '../../scripts/lib/client.mjs';
import { seedPractice } from '../../scripts/lib/seed.mjs';
import { useStack, assertError, assertOk, rand, now } from './helpers.mjs';

const IDLE_MINUTES = 30;
const ctx = useStack({ janus: { extraPluginConfig: { staff_idle_minutes: IDLE_MINUTES }, env: { CONSULT_TEST: '1' } } });

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

async function newStaff(role = 'doctor', practice = ctx.A.slug) {
  const password = ctx.secret(`Pw-${rand(8)}`);
  const username = `${role === 'doctor' ? 'dr' : 'rec'}.${rand(4)}`;
  const r = assertOk(await ctx.janus.admin({ request: 'add_staff', practice, username, display_name: 'Dr. Neu', role, password }));
  return { username, password, id: r.staff_id, role };
}

/** Logs `who` in on a new handle; returns {client, handle, reply, token}. */
async function login(who) {
  const { client, handle } = await ctx.connect();
  const reply = assertOk(await handle.request({ request: 'login', username: who.username, password: who.password }));
  ctx.secret(reply.device_token);
  const token = ctx.secret(reply.session_token);
  return { client, handle, reply, token };
}

/** `resume` on a new handle; returns {client, handle, reply}. */
async function resume(token, extra = {}) {
  const { client, handle } = await ctx.connect();
  const reply = await handle.request({ request: 'resume', session_token: token, ...extra });
  return { client, handle, reply };
}

test('login issues a session token; resume re-attaches the same staff member on a new handle', async () => {
  const doc = await newStaff('doctor');
  const a = await login(doc);
  assert.match(a.token, TOKEN_RE, '256 bits, base64url without padding');
  assert.notEqual(a.token, a.reply.device_token);
  await a.handle.waitEvent('waiting');
  await a.client.close(); // the connection is lost

  const b = await resume(a.token);
  assertOk(b.reply);
  assert.equal(b.reply.consult, 'resume');
  assert.equal(b.reply.staff_id, doc.id);
  assert.equal(b.reply.role, 'doctor');
  assert.equal(b.reply.display_name, 'Dr. Neu');
  assert.deepEqual(b.reply.practice, { slug: ctx.A.slug, name: ctx.A.name });
  assert.equal(b.reply.idle_seconds, IDLE_MINUTES * 60);
  assert.equal(b.reply.session_token, a.token, 'the same token goes on');
  assert.equal(b.reply.call, null, 'no held call');
  assert.equal(b.reply.device_token, undefined, 'resume issues no device token');
  // A doctor handle receives `waiting` at once, and can do doctor things.
  const w = await b.handle.waitEvent('waiting');
  assert.ok(Array.isArray(w.visits));
  assertOk(await b.handle.request({ request: 'waiting_list' }));
  // It sees what a doctor of the practice sees: a patient who joins now.
  const rec = await login(ctx.A.receptions[0]);
  const appt = await ctx.appointment(rec.handle, { doctorId: doc.id });
  const p = await ctx.patient(appt);
  await b.handle.waitEvent('waiting', { filter: (e) => e.visits.some((v) => v.visit_id === p.reply.visit_id) });

  // Reception: same reply fields, no `waiting`.
  const rc = await newStaff('reception', ctx.B.slug);
  const r1 = await login(rc);
  await r1.client.close();
  const r2 = await resume(r1.token);
  assertOk(r2.reply);
  assert.equal(r2.reply.staff_id, rc.id);
  assert.equal(r2.reply.role, 'reception');
  assert.deepEqual(r2.reply.practice, { slug: ctx.B.slug, name: ctx.B.name });
  assertOk(await r2.handle.request({ request: 'list_appointments' }));
  await r2.handle.sync();
  assert.deepEqual(r2.handle.pending('waiting'), []);

  // The store holds the hash only.
  const rows = ctx.db(`SELECT staff_id, hex(token_hash) AS h, length(token_hash) AS n FROM staff_sessions WHERE staff_id IN (${doc.id}, ${rc.id})`);
  assert.equal(rows.length, 2, 'one session per login');
  for (const row of rows) {
    assert.equal(row.n, 32);
    assert.ok(!row.h.includes(Buffer.from(a.token).toString('hex').toUpperCase()));
  }
  const dump = JSON.stringify(ctx.db('SELECT * FROM staff_sessions'));
  assert.ok(!dump.includes(a.token) && !dump.includes(r1.token), 'a session token is stored in clear');
});

test('a token is per login and yields only its own staff member; only an anonymous handle may resume', async () => {
  const x = await newStaff('doctor');
  const y = await newStaff('doctor');
  const x1 = await login(x);
  const x2 = await login(x); // a second browser of the same doctor
  const y1 = await login(y);
  assert.notEqual(x1.token, x2.token);
  for (const [token, who] of [[x1.token, x], [x2.token, x], [y1.token, y]]) {
    const r = await resume(token);
    assertOk(r.reply);
    assert.equal(r.reply.staff_id, who.id);
  }
  // A logged-in staff handle cannot switch identity with another's token.
  assertError(await y1.handle.request({ request: 'resume', session_token: x1.token }), 'wrong_state', 412);
  // A patient handle cannot become staff.
  const rec = await login(ctx.A.receptions[0]);
  const p = await ctx.patient(await ctx.appointment(rec.handle));
  assertError(await p.handle.request({ request: 'resume', session_token: x1.token }), 'wrong_state', 412);
  assertOk(await p.handle.request({ request: 'leave' }));
  // A device token is no session token (and the reverse is no device token).
  assertError((await resume(x1.reply.device_token)).reply, 'session_invalid', 423);
});

test('logout ends that session only', async () => {
  const doc = await newStaff('doctor');
  const a = await login(doc);
  const b = await login(doc);
  assertOk(await a.handle.request({ request: 'logout' }));
  const r = await resume(a.token);
  assertError(r.reply, 'session_invalid', 423);
  assertError(await r.handle.request({ request: 'list_doctors' }), 'not_authenticated', 410);
  await b.client.close();
  assertOk((await resume(b.token)).reply, 'the other login of the same doctor goes on');
});

test('set_disabled and reset_password end every session of the user, and nobody else\'s', async () => {
  const doc = await newStaff('doctor');
  const other = await newStaff('doctor');
  const a = await login(doc);
  const b = await login(doc);
  const o = await login(other);
  await b.client.close(); // one handle gone, one live: both sessions end
  assertOk(await ctx.janus.admin({ request: 'set_disabled', username: doc.username, disabled: true }));
  assert.equal((await a.handle.waitEvent('logged_out')).reason, 'disabled');
  for (const t of [a.token, b.token]) assertError((await resume(t)).reply, 'session_invalid', 423);
  // Enabled again: the old sessions stay ended; a new login works.
  assertOk(await ctx.janus.admin({ request: 'set_disabled', username: doc.username, disabled: false }));
  for (const t of [a.token, b.token]) assertError((await resume(t)).reply, 'session_invalid', 423);
  const c = await login(doc);
  const d = await login(doc);
  await d.client.close();
  const newPw = ctx.secret(`Pw-${rand(8)}`);
  assertOk(await ctx.janus.admin({ request: 'reset_password', username: doc.username, password: newPw }));
  assert.equal((await c.handle.waitEvent('logged_out')).reason, 'password_reset');
  for (const t of [c.token, d.token]) assertError((await resume(t)).reply, 'session_invalid', 423);
  assert.equal(ctx.db(`SELECT count(*) AS n FROM staff_sessions WHERE staff_id = ${doc.id}`)[0].n, 0);
  // The other doctor was not touched.
  await o.client.close();
  const r = await resume(o.token);
  assertOk(r.reply);
  assert.equal(r.reply.staff_id, other.id);
});

test('malformed tokens: invalid_field / too_long / missing_field; well-formed unknown: session_invalid', async () => {
  const { handle } = await ctx.connect();
  const cases = [
    [{}, 'missing_field', 'session_token'],
    [{ session_token: null }, 'missing_field', 'session_token'],
    [{ session_token: '' }, 'invalid_field', 'session_token'],
    [{ session_token: 17 }, 'invalid_field', 'session_token'],
    [{ session_token: 'ab+/cd' }, 'invalid_field', 'session_token'],
    [{ session_token: 'abc=' }, 'invalid_field', 'session_token'],
    [{ session_token: 'x'.repeat(65) }, 'too_long', 'session_token'],
    [{ session_token: 'abc', resume_call: 0 }, 'invalid_field', 'resume_call'],
    [{ session_token: 'abc', resume_call: '17' }, 'invalid_field', 'resume_call'],
  ];
  for (const [body, error, field] of cases) {
    const r = await handle.request({ request: 'resume', ...body });
    assertError(r, error);
    assert.equal(r.field, field, JSON.stringify(body));
  }
  // Malformed input is no guess: 5 unknown tokens later the handle is still not locked.
  for (let i = 0; i < 5; i++) {
    const unknown = await handle.request({ request: 'resume', session_token: `${'A'.repeat(40)}${i}`.padEnd(43, 'z') });
    assertError(unknown, 'session_invalid', 423);
    assert.equal(unknown.field, undefined);
  }
  assertError(await handle.request({ request: 'list_doctors' }), 'not_authenticated', 410);
});

test('rate limit: a handle that fails 5 times is locked, even for a valid token; other handles are not', async () => {
  const doc = await newStaff('doctor');
  const a = await login(doc);
  await a.client.close();
  const { handle } = await ctx.connect();
  for (let i = 0; i < 5; i++) {
    assertError(await handle.request({ request: 'resume', session_token: `guess${i}${rand(8)}` }), 'session_invalid', 423);
  }
  const locked = await handle.request({ request: 'resume', session_token: a.token });
  assertError(locked, 'rate_limited', 421);
  assert.ok(locked.retry_after >= 1);
  // Failed resumes and failed logins share the handle's key.
  assertError(await handle.request({ request: 'login', username: doc.username, password: doc.password }), 'rate_limited', 421);
  const r = await resume(a.token);
  assertOk(r.reply);
  assert.equal(r.reply.staff_id, doc.id);
});

test('the live handle of the same session is taken over: logged_out taken_over, inert; other logins untouched', async () => {
  const doc = await newStaff('doctor');
  const a = await login(doc); // still connected, e.g. a half-open socket
  const other = await login(doc); // the same doctor in a second browser
  await a.handle.waitEvent('waiting');
  const b = await resume(a.token);
  assertOk(b.reply);
  assert.equal(b.reply.staff_id, doc.id);
  const ev = await a.handle.waitEvent('logged_out');
  assert.equal(ev.reason, 'taken_over');
  await b.handle.waitEvent('waiting');
  // The old handle is inert: everything is wrong_state, even login and resume.
  assertError(await a.handle.request({ request: 'waiting_list' }), 'wrong_state', 412);
  assertError(await a.handle.request({ request: 'resume', session_token: a.token }), 'wrong_state', 412);
  assertError(await a.handle.request({ request: 'login', username: doc.username, password: doc.password }), 'wrong_state', 412);
  // It hears nothing more; the new handle and the other login do.
  a.handle.drain();
  const rec = await login(ctx.A.receptions[0]);
  const p = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: doc.id }));
  const seen = (e) => e.visits.some((v) => v.visit_id === p.reply.visit_id);
  await b.handle.waitEvent('waiting', { filter: seen });
  await other.handle.waitEvent('waiting', { filter: seen });
  await a.handle.sync();
  assert.deepEqual(a.handle.pending('*'), [], 'the taken-over handle got events');
  assert.equal(other.handle.pending('logged_out').length, 0);
  // The session goes on with the new handle: its logout ends it.
  assertOk(await b.handle.request({ request: 'logout' }));
  assertError((await resume(a.token)).reply, 'session_invalid', 423);
  assertOk(await p.handle.request({ request: 'leave' }));
});

test('a doctor whose connection was lost resumes with resume_call: the held call comes back on the new handle, the patient hears nothing', async () => {
  const doc = await newStaff('doctor');
  const a = await login(doc);
  const rec = await login(ctx.A.receptions[0]);
  const p = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: doc.id }));
  await ctx.connectCall(a, p);
  const visit = p.reply.visit_id;
  await a.handle.detach(); // the doctor's handle is gone: the call is held, the patient hears nothing
  await p.handle.sync();
  assert.deepEqual(p.handle.pending('doctor_left'), []);
  const b = await resume(a.token, { resume_call: visit });
  assertOk(b.reply);
  assert.equal(b.reply.staff_id, doc.id);
  assert.equal(b.reply.call?.visit_id, visit, JSON.stringify(b.reply.call));
  assert.equal(b.reply.call.state, 'in_call');
  assert.ok(Array.isArray(b.reply.call.ice_servers));
  // The call works through the new handle: signal reaches the patient, hangup ends it.
  assertOk(await b.handle.request({ request: 'signal', type: 'end-of-candidates' }));
  await p.handle.waitEvent('signal');
  await p.handle.sync();
  assert.deepEqual(p.handle.pending('doctor_left'), []);
  assert.deepEqual(p.handle.pending('call_ended'), []);
  assertOk(await b.handle.request({ request: 'hangup' }));
  assert.equal((await p.handle.waitEvent('call_ended')).reason, 'doctor_hangup');
});

test('take-over during a call: the live old handle hears taken_over, the new handle has the call', async () => {
  const doc = await newStaff('doctor');
  const a = await login(doc);
  const rec = await login(ctx.A.receptions[0]);
  const p = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: doc.id }));
  await ctx.connectCall(a, p);
  const visit = p.reply.visit_id;
  const b = await resume(a.token, { resume_call: visit });
  assertOk(b.reply);
  assert.equal(b.reply.call?.visit_id, visit);
  assert.equal((await a.handle.waitEvent('logged_out')).reason, 'taken_over');
  assertError(await a.handle.request({ request: 'hangup' }), 'wrong_state', 412);
  await p.handle.sync();
  assert.deepEqual(p.handle.pending('doctor_left'), []);
  assert.deepEqual(p.handle.pending('call_ended'), []);
  assertOk(await b.handle.request({ request: 'hangup' }));
  assert.equal((await p.handle.waitEvent('call_ended')).reason, 'doctor_hangup');
});

test('a session token outlives a killed Janus: resume on the restarted server', { timeout: 90000 }, async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-resume-'));
  const confDirs = [];
  try {
    const opts = { dataDir, keepDir: true, extraPluginConfig: { staff_idle_minutes: IDLE_MINUTES } };
    const j1 = await startJanus(opts);
    confDirs.push(j1.dir);
    const pw = ctx.secret(`Pw-${rand(8)}`);
    const seeded = await seedPractice(j1, {
      slug: `praxis-r-${rand(3)}`, name: 'Praxis Neustart',
      doctors: [{ username: `dr.neu.${rand(3)}`, display_name: 'Dr. Neu', password: pw }],
    });
    const doc = seeded.doctors[0];
    const c1 = await connectHandle(j1.wsUrl);
    const lr = assertOk(await c1.handle.request({ request: 'login', username: doc.username, password: pw }));
    const token = ctx.secret(lr.session_token);
    ctx.secret(lr.device_token);
    process.kill(j1.pid, 'SIGKILL');
    assert.equal((await j1.stop()).signal, 'SIGKILL');
    await c1.client.close();
    const j2 = await startJanus(opts);
    confDirs.push(j2.dir);
    try {
      const c2 = await connectHandle(j2.wsUrl);
      const r = assertOk(await c2.handle.request({ request: 'resume', session_token: token }));
      assert.equal(r.staff_id, doc.id);
      assert.equal(r.role, 'doctor');
      assert.equal(r.practice.slug, seeded.slug);
      await c2.handle.waitEvent('waiting');
      await c2.client.close();
    } finally {
      await j2.stop();
    }
    for (const log of [j1.log(), j2.log()]) assert.ok(!log.includes(token), 'the session token is in the Janus log');
  } finally {
    for (const d of [dataDir, ...confDirs]) fs.rmSync(d, { recursive: true, force: true });
  }
});

// Last: moves the plugin's clock forward for good.
test('expiry: unused for staff_idle_minutes -> session_invalid; use keeps it alive; the purge deletes expired rows', async () => {
  const idle = IDLE_MINUTES * 60;
  // The idle logout of a live handle ends its session at once (within the
  // minute a token may outlive its last noted use).
  const sleeper = await login(await newStaff('reception'));
  await ctx.advanceClock(idle + 5);
  assert.equal((await sleeper.handle.waitEvent('logged_out')).reason, 'idle');
  assertError((await resume(sleeper.token)).reply, 'session_invalid', 423);
  const doc = await newStaff('doctor');
  const a = await login(doc);
  const gone = await login(doc); // never used again
  await gone.handle.detach();
  // Used shortly before its expiry (any staff request, e.g. touch) ...
  await ctx.advanceClock(idle - 120);
  assertOk(await a.handle.request({ request: 'touch' }));
  await a.handle.detach(); // ... then the connection is lost
  // ... it is valid past the idle time counted from the login.
  await ctx.advanceClock(300);
  const r = await resume(a.token);
  assertOk(r.reply);
  assert.equal(r.reply.staff_id, doc.id);
  assertError((await resume(gone.token)).reply, 'session_invalid', 423);
  await r.handle.detach();
  // Unused for the idle time (and the minute of granularity): invalid.
  await ctx.advanceClock(idle + 61);
  assertError((await resume(a.token)).reply, 'session_invalid', 423);
  assert.equal(ctx.db(`SELECT count(*) AS n FROM staff_sessions WHERE staff_id = ${doc.id}`)[0].n, 0,
    'expired sessions are deleted');
  // The retention purge deletes expired rows nobody asked for.
  const c = await login(doc);
  await c.handle.detach();
  assert.equal(ctx.db(`SELECT count(*) AS n FROM staff_sessions WHERE staff_id = ${doc.id}`)[0].n, 1);
  assertOk(await ctx.janus.admin({ request: 'purge', now: now() + ctx.clockOffset + idle - 10 }));
  assert.equal(ctx.db(`SELECT count(*) AS n FROM staff_sessions WHERE staff_id = ${doc.id}`)[0].n, 1, 'purged too early');
  assertOk(await ctx.janus.admin({ request: 'purge', now: now() + ctx.clockOffset + idle + 120 }));
  assert.equal(ctx.db(`SELECT count(*) AS n FROM staff_sessions WHERE staff_id = ${doc.id}`)[0].n, 0);
  // No token ever reached the log.
  const log = ctx.janus.log();
  for (const t of [a.token, gone.token, c.token, sleeper.token]) assert.ok(!log.includes(t), 'a session token is in the Janus log');
});
