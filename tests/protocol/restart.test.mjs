// restart.test.mjs - the waiting room and calls survive Janus: visits are
// restored after a crash (SIGKILL) with the same ids, order and waiting
// times; a clean stop (SIGTERM) tells every handle `server_restarting` and
// records the stop time; a call is held while a participant's signalling
// is away and taken back with join's resume_call; holds that nobody takes
// back end (patient side) or requeue (doctor side) after the grace period;
// restored visits keep the name and note reception booked.
// Real Janus on one SQLite file, started again on the same data folder;
// timers pass on the plugin's test clock (CONSULT_TEST=1), never by sleeping.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startJanus } from '../../scripts/lib/janus.mjs';
import { connectHandle } from '../../scripts/lib/client.mjs';
import { seedPractice } from '../../scripts/lib/seed.mjs';
import { assertOk, now, rand, uniqueName } from './helpers.mjs';
import { until } from './servers.mjs';

const GRACE = 30;

/** A Janus on its own data folder that can be killed and started again. */
async function stack(t) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-durable-'));
  const opts = {
    dataDir, codeSecret: crypto.randomBytes(32).toString('hex'), graceSeconds: GRACE,
    publicUrl: 'https://praxis.example', env: { CONSULT_TEST: '1' },
  };
  const s = { janus: await startJanus(opts), clients: [], secrets: [], logs: [], reports: [], offset: 0 };
  s.connect = async () => {
    const c = await connectHandle(s.janus.wsUrl);
    s.clients.push(c.client);
    return c;
  };
  s.login = async (who) => {
    const c = await s.connect();
    c.reply = await c.handle.call({ request: 'login', username: who.username, password: who.password });
    return c;
  };
  s.join = async (appt, extra = {}) => {
    const c = await s.connect();
    c.reply = await c.handle.call({
      request: 'join', practice: s.A.slug, code: appt.code, first_name: appt.first, last_name: appt.last,
      accept_terms: true, ...extra,
    });
    return c;
  };
  s.appointment = async (rec, startsAt) => {
    const r = await rec.handle.call({ request: 'create_appointment', starts_at: startsAt });
    r.first = uniqueName('Eri');
    r.last = uniqueName('Mus');
    s.secrets.push(r.code, r.code.replace(/-/g, ''), r.first, r.last);
    return r;
  };
  s.db = (sql) => {
    const out = execFileSync('sqlite3', ['-readonly', '-json', path.join(dataDir, 'consult.sqlite'), sql], { encoding: 'utf8' });
    return out.trim() ? JSON.parse(out) : [];
  };
  s.advance = async (seconds) => {
    s.offset += seconds;
    assertOk(await s.janus.admin({ request: 'test_clock', offset_seconds: s.offset }));
  };
  /** Stops Janus (SIGKILL: a crash; else SIGTERM, or it stopped already), then starts it again on the same data. */
  s.restart = async (signal) => {
    const before = s.janus;
    if (signal === 'SIGKILL') process.kill(before.pid, 'SIGKILL');
    const exit = await before.stop(); // SIGTERM unless it is gone already
    if (signal !== 'SIGKILL') assert.deepEqual(exit, { code: 0, signal: null });
    s.logs.push(before.log());
    s.reports.push(...before.sanitizerReports());
    fs.rmSync(before.dir, { recursive: true, force: true }); // kept by stop() after a crash
    for (const c of s.clients) await c.close().catch(() => {});
    s.clients = [];
    s.offset = 0;
    s.janus = await startJanus(opts);
  };
  const pw = () => `Pw-${rand(8)}`;
  const tag = rand(3);
  s.A = await seedPractice(s.janus, {
    slug: `praxis-d-${tag}`, name: 'Praxis Dauerhaft', phone: '0721 9',
    doctors: [{ username: `dr.d.${tag}`, display_name: 'Dr. Dauer', password: pw() }],
    receptions: [{ username: `empfang.d.${tag}`, display_name: 'Empfang', password: pw() }],
  });
  t.after(async () => {
    for (const c of s.clients) await c.close().catch(() => {});
    const exit = await s.janus.stop();
    s.logs.push(s.janus.log());
    s.reports.push(...s.janus.sanitizerReports());
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.deepEqual(s.reports.map((r) => r.file), [], `sanitizer reports:\n${s.reports.map((r) => r.text).join('\n').slice(0, 4000)}`);
    const all = s.logs.join('\n');
    const leaked = s.secrets.filter((x) => x && x.length >= 4 && all.includes(x));
    assert.deepEqual(leaked.map((x) => x.slice(0, 3) + '…'), [], 'personal data in the Janus log');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return s;
}

const list = (l) => l.visits.map((v) => ({ visit_id: v.visit_id, waiting_since: v.waiting_since }));

test('SIGKILL while four wait (one ringing): same visits, same order, waiting times continued', async (t) => {
  const s = await stack(t);
  const rec = await s.login(s.A.receptions[0]);
  const at = now() + 600;
  const appts = [];
  for (let i = 0; i < 4; i++) appts.push(await s.appointment(rec, at)); // the same appointment time
  const before = [];
  for (const a of appts) before.push(await s.join(a));
  const doc = await s.login(s.A.doctors[0]);
  const ringing = before[3];
  assertOk(await doc.handle.request({ request: 'call', visit_id: ringing.reply.visit_id }));
  await ringing.handle.waitEvent('ringing');
  const listBefore = await doc.handle.call({ request: 'waiting_list' });
  assert.deepEqual(listBefore.visits.map((v) => v.visit_id), before.slice(0, 3).map((p) => p.reply.visit_id));
  // The ringing one is stored as ringing (it goes back to the head).
  assert.equal(s.db(`SELECT state FROM visits WHERE id = ${ringing.reply.visit_id}`)[0].state, 'ringing');

  await s.restart('SIGKILL');

  // Rejoin in reverse order: the place does not depend on who comes back first.
  const after = [];
  for (let i = 3; i >= 0; i--) after[i] = await s.join(appts[i]);
  for (let i = 0; i < 4; i++) {
    assert.equal(after[i].reply.visit_id, before[i].reply.visit_id, 'same visit');
    assert.equal(after[i].reply.resumed, true);
    assert.equal(after[i].reply.state, 'waiting');
  }
  const doc2 = await s.login(s.A.doctors[0]);
  const listAfter = await doc2.handle.call({ request: 'waiting_list' });
  const ringSince = s.db(`SELECT joined_at FROM visits WHERE id = ${ringing.reply.visit_id}`)[0].joined_at;
  assert.deepEqual(list(listAfter), [
    { visit_id: ringing.reply.visit_id, waiting_since: ringSince },
    ...list(listBefore),
  ], 'same visits, same waiting since, ringing one at the head');
  assert.ok(listAfter.visits.every((v) => v.state === 'waiting'));
  // The replies' places (rejoined last to first: each saw the others ahead of it already placed).
  assert.equal(after[3].reply.ahead, 0);
  for (let i = 0; i < 3; i++) {
    const pos = await until(() => {
      const evs = after[i].handle.events.filter((e) => e.event === 'position');
      const last = evs.length ? evs[evs.length - 1].ahead : after[i].reply.ahead;
      return last === i + 1 ? last : null;
    }, 15000, `position ${i + 1} for patient ${i}`);
    assert.equal(pos, i + 1);
  }
});

/** Doctor calls, patient accepts; both in the call. */
async function inCall(s, doc, p) {
  assertOk(await doc.handle.request({ request: 'call', visit_id: p.reply.visit_id }));
  await p.handle.waitEvent('ringing');
  assertOk(await p.handle.request({ request: 'accept' }));
  await doc.handle.waitEvent('call_accepted', { filter: (e) => e.visit_id === p.reply.visit_id });
}

test('patient signalling lost during a call: held, taken back with resume_call, relay and hangup work', async (t) => {
  const s = await stack(t);
  const rec = await s.login(s.A.receptions[0]);
  const appt = await s.appointment(rec, now() + 60);
  const p = await s.join(appt);
  const doc = await s.login(s.A.doctors[0]);
  await inCall(s, doc, p);
  await doc.handle.sync(); // the staff's appointment event of the accept too
  doc.handle.drain();
  await p.client.close();
  // The doctor hears nothing: the media still flows peer to peer.
  await until(() => s.db(`SELECT away_since FROM visits WHERE id = ${p.reply.visit_id}`)[0].away_since !== null, 15000, 'away_since stored');
  await doc.handle.sync();
  assert.deepEqual(doc.handle.pending('*').map((e) => e.event), []);
  assert.equal(s.db(`SELECT state FROM visits WHERE id = ${p.reply.visit_id}`)[0].state, 'in_call');
  // While the patient is away the doctor's signal is dropped, forward waits.
  assertOk(await doc.handle.request({ request: 'signal', type: 'end-of-candidates' }));
  const fw = await doc.handle.request({ request: 'forward', cause: 'server_restart' });
  assert.equal(fw.error, 'wrong_state');
  // The page comes back and still holds the call.
  const back = await s.join(appt, { resume_call: p.reply.visit_id });
  assert.equal(back.reply.visit_id, p.reply.visit_id);
  assert.equal(back.reply.resumed, true);
  assert.equal(back.reply.state, 'in_call');
  assert.equal(back.reply.doctor, 'Dr. Dauer');
  assert.ok(Array.isArray(back.reply.ice_servers));
  assert.ok(['all', 'relay'].includes(back.reply.ice_transport_policy));
  assert.equal(s.db(`SELECT away_since FROM visits WHERE id = ${p.reply.visit_id}`)[0].away_since, null);
  await doc.handle.sync();
  assert.deepEqual(doc.handle.pending('*').map((e) => e.event), [], 'the doctor heard nothing of it');
  // Signalling both ways.
  assertOk(await doc.handle.request({ request: 'signal', type: 'offer', sdp: 'v=0\r\n' }));
  assert.equal((await back.handle.waitEvent('signal')).type, 'offer');
  assertOk(await back.handle.request({ request: 'signal', type: 'answer', sdp: 'v=0\r\n' }));
  assert.equal((await doc.handle.waitEvent('signal')).type, 'answer');
  // The doctor hangs up: the patient's page hears call_ended.
  assertOk(await doc.handle.request({ request: 'hangup' }));
  const ended = await back.handle.waitEvent('call_ended');
  assert.equal(ended.reason, 'doctor_hangup');
  assert.equal(s.db(`SELECT end_reason FROM visits WHERE id = ${p.reply.visit_id}`)[0].end_reason, 'doctor_hangup');
});

test('hangup while the patient side is held ends the visit; the returning page learns it ended', async (t) => {
  const s = await stack(t);
  const rec = await s.login(s.A.receptions[0]);
  const appt = await s.appointment(rec, now() + 60);
  const p = await s.join(appt);
  const doc = await s.login(s.A.doctors[0]);
  await inCall(s, doc, p);
  const handles = async () => (await s.janus.admin({ request: 'health' })).handles;
  const count = await handles();
  await p.client.close();
  await until(async () => (await handles()) < count, 15000, 'the patient handle gone');
  assertOk(await doc.handle.request({ request: 'hangup' }));
  assert.equal(s.db(`SELECT end_reason FROM visits WHERE id = ${p.reply.visit_id}`)[0].end_reason, 'doctor_hangup');
  const back = await s.join(appt, { resume_call: p.reply.visit_id });
  assert.equal(back.reply.visit_id, p.reply.visit_id);
  assert.equal(back.reply.state, 'ended');
  assert.equal(back.reply.reason, 'doctor_hangup');
  // Nothing joined: the handle may still join the waiting room anew.
  const again = await back.handle.call({ request: 'join', practice: s.A.slug, code: appt.code, first_name: appt.first,
    last_name: appt.last, accept_terms: true });
  assert.notEqual(again.visit_id, p.reply.visit_id);
  assert.equal(again.state, 'waiting');
});

test('holds nobody takes back: patient side ends as of when it went, doctor side requeues the patient', async (t) => {
  const s = await stack(t);
  const rec = await s.login(s.A.receptions[0]);
  // Patient side.
  const a1 = await s.appointment(rec, now() + 60);
  const p1 = await s.join(a1);
  const doc = await s.login(s.A.doctors[0]);
  await inCall(s, doc, p1);
  await p1.client.close();
  const [held] = await until(() => {
    const r = s.db(`SELECT away_since FROM visits WHERE id = ${p1.reply.visit_id} AND away_since IS NOT NULL`);
    return r.length ? r : null;
  }, 15000, 'the hold stored');
  await s.advance(GRACE + 1);
  const ended = await doc.handle.waitEvent('call_ended', { filter: (e) => e.visit_id === p1.reply.visit_id });
  assert.equal(ended.reason, 'patient_dropped');
  const [row] = s.db(`SELECT state, end_reason, ended_at FROM visits WHERE id = ${p1.reply.visit_id}`);
  assert.deepEqual(row, { state: 'ended', end_reason: 'patient_dropped', ended_at: held.away_since });
  // Its page comes back too late: told that the call ended, no new visit.
  const late = await s.join(a1, { resume_call: p1.reply.visit_id });
  assert.deepEqual({ visit_id: late.reply.visit_id, state: late.reply.state, reason: late.reply.reason, resumed: late.reply.resumed },
    { visit_id: p1.reply.visit_id, state: 'ended', reason: 'patient_dropped', resumed: false });
  assert.equal(s.db(`SELECT count(*) AS n FROM visits WHERE appointment_id = ${a1.appointment_id}`)[0].n, 1);
  // Doctor side.
  const a2 = await s.appointment(rec, now() + 60);
  const a3 = await s.appointment(rec, now() + 60);
  const p2 = await s.join(a2);
  const p3 = await s.join(a3);
  await inCall(s, doc, p2);
  await p2.handle.sync();
  p2.handle.drain();
  const handles = async () => (await s.janus.admin({ request: 'health' })).handles;
  const count = await handles();
  await doc.client.close();
  await until(async () => (await handles()) < count, 15000, 'the doctor handle gone');
  assert.equal(s.db(`SELECT state FROM visits WHERE id = ${p2.reply.visit_id}`)[0].state, 'in_call');
  await p2.handle.sync();
  assert.deepEqual(p2.handle.pending('*').map((e) => e.event), [], 'the patient heard nothing yet');
  await s.advance(GRACE + 1);
  const left = await p2.handle.waitEvent('doctor_left');
  assert.equal(left.requeued, true);
  const doc2 = await s.login(s.A.doctors[0]);
  const w = await doc2.handle.call({ request: 'waiting_list' });
  assert.deepEqual(w.visits.map((v) => v.visit_id), [p2.reply.visit_id, p3.reply.visit_id], 'back at the head');
  assert.equal(s.db(`SELECT head FROM visits WHERE id = ${p2.reply.visit_id}`)[0].head, 1);
});

test('SIGKILL during a call: the patient takes the held call back with resume_call', async (t) => {
  const s = await stack(t);
  const rec = await s.login(s.A.receptions[0]);
  const appt = await s.appointment(rec, now() + 60);
  const p = await s.join(appt);
  const doc = await s.login(s.A.doctors[0]);
  await inCall(s, doc, p);
  await s.restart('SIGKILL');
  const back = await s.join(appt, { resume_call: p.reply.visit_id });
  assert.equal(back.reply.visit_id, p.reply.visit_id);
  assert.equal(back.reply.state, 'in_call');
  assert.equal(back.reply.doctor, 'Dr. Dauer');
  // Without its doctor back (a doctor re-attaches through `resume`), the
  // doctor side is dropped when the grace period ends: back at the head.
  await s.advance(GRACE + 1);
  const left = await back.handle.waitEvent('doctor_left');
  assert.equal(left.requeued, true);
  assert.equal(s.db(`SELECT state FROM visits WHERE id = ${p.reply.visit_id}`)[0].state, 'waiting');
});

test('SIGKILL during a call: both sides take it back (patient resume_call, doctor resume with its session token), signal and hangup work', async (t) => {
  const s = await stack(t);
  const rec = await s.login(s.A.receptions[0]);
  const appt = await s.appointment(rec, now() + 60);
  const p = await s.join(appt);
  const doc = await s.login(s.A.doctors[0]);
  const token = doc.reply.session_token;
  s.secrets.push(token);
  // the same doctor on a second browser: its own session, no call
  const other = await s.login(s.A.doctors[0]);
  s.secrets.push(other.reply.session_token);
  await inCall(s, doc, p);
  await s.restart('SIGKILL');

  // the second browser comes back first: the held call is not its own
  const o2 = await s.connect();
  const or = assertOk(await o2.handle.request({ request: 'resume', session_token: other.reply.session_token }));
  assert.equal(or.call, null);
  // the patient page, then the doctor page that holds the call
  const back = await s.join(appt, { resume_call: p.reply.visit_id });
  assert.equal(back.reply.state, 'in_call');
  const d2 = await s.connect();
  const dr = assertOk(await d2.handle.request({ request: 'resume', session_token: token, resume_call: p.reply.visit_id }));
  assert.equal(dr.staff_id, doc.reply.staff_id);
  assert.equal(dr.call.visit_id, p.reply.visit_id);
  assert.equal(dr.call.state, 'in_call');
  assert.ok(Array.isArray(dr.call.ice_servers));
  assert.equal(s.db(`SELECT state FROM visits WHERE id = ${p.reply.visit_id}`)[0].state, 'in_call');
  // signalling both ways on the new handles
  assertOk(await d2.handle.request({ request: 'signal', type: 'offer', sdp: 'v=0\r\n' }));
  assert.equal((await back.handle.waitEvent('signal')).type, 'offer');
  assertOk(await back.handle.request({ request: 'signal', type: 'answer', sdp: 'v=0\r\n' }));
  assert.equal((await d2.handle.waitEvent('signal')).type, 'answer');
  // the second browser's handle cannot act on it
  const foreign = await o2.handle.request({ request: 'hangup' });
  assert.equal(foreign.ok, false);
  assert.equal(s.db(`SELECT state FROM visits WHERE id = ${p.reply.visit_id}`)[0].state, 'in_call');
  // nothing expires it: the grace period passes with both sides back
  await s.advance(GRACE + 1);
  await back.handle.sync();
  assert.deepEqual(back.handle.pending('*').map((e) => e.event).filter((e) => e !== 'position'), []);
  // the doctor hangs up through the re-attached handle
  assertOk(await d2.handle.request({ request: 'hangup' }));
  const ended = await back.handle.waitEvent('call_ended');
  assert.equal(ended.reason, 'doctor_hangup');
  assert.equal(s.db(`SELECT end_reason FROM visits WHERE id = ${p.reply.visit_id}`)[0].end_reason, 'doctor_hangup');
});

test('a doctor page that lost the call (reload) resumes without resume_call: the doctor side goes, the patient is first again', async (t) => {
  const s = await stack(t);
  const rec = await s.login(s.A.receptions[0]);
  const a1 = await s.appointment(rec, now() + 60);
  const a2 = await s.appointment(rec, now() + 30);
  const p1 = await s.join(a1);
  const p2 = await s.join(a2);
  const doc = await s.login(s.A.doctors[0]);
  s.secrets.push(doc.reply.session_token);
  await inCall(s, doc, p1);
  await doc.client.close(); // the page reloads: handle gone, call held
  await until(() => s.db(`SELECT count(*) AS n FROM visits WHERE id = ${p1.reply.visit_id} AND state = 'in_call'`)[0].n === 1, 15000, 'held');
  const d2 = await s.connect();
  const dr = assertOk(await d2.handle.request({ request: 'resume', session_token: doc.reply.session_token }));
  assert.equal(dr.call, null);
  const left = await p1.handle.waitEvent('doctor_left');
  assert.equal(left.requeued, true);
  const pos = await p1.handle.waitEvent('position', { filter: (e) => e.ahead === 0 });
  assert.equal(pos.ahead, 0, 'back at the head, before the earlier appointment');
  const w = await d2.handle.waitEvent('waiting', { filter: (e) => e.visits.length === 2 });
  assert.deepEqual(w.visits.map((v) => v.visit_id), [p1.reply.visit_id, p2.reply.visit_id]);
});

test('a doctor who logs in anew with the password gives up the held call: the patient is first again, the doctor can call', async (t) => {
  const s = await stack(t);
  const rec = await s.login(s.A.receptions[0]);
  const a1 = await s.appointment(rec, now() + 60);
  const a2 = await s.appointment(rec, now() + 30);
  const p1 = await s.join(a1);
  const p2 = await s.join(a2);
  const doc = await s.login(s.A.doctors[0]);
  await inCall(s, doc, p1);
  await doc.client.close(); // the browser closed: handle gone, call held
  await until(() => s.db(`SELECT count(*) AS n FROM visits WHERE id = ${p1.reply.visit_id} AND state = 'in_call'`)[0].n === 1, 15000, 'held');
  const again = await s.login(s.A.doctors[0]);
  const left = await p1.handle.waitEvent('doctor_left');
  assert.equal(left.requeued, true);
  const w = await again.handle.waitEvent('waiting', { filter: (e) => e.visits.length === 2 });
  assert.deepEqual(w.visits.map((v) => v.visit_id), [p1.reply.visit_id, p2.reply.visit_id]);
  assertOk(await again.handle.request({ request: 'call', visit_id: p2.reply.visit_id }));
  await p2.handle.waitEvent('ringing');
});

test('SIGTERM: every handle hears server_restarting before its socket closes; the stop time dates unclaimed visits', async (t) => {
  const s = await stack(t);
  const rec = await s.login(s.A.receptions[0]);
  const appt = await s.appointment(rec, now() + 60);
  const p = await s.join(appt);
  const doc = await s.login(s.A.doctors[0]);
  const anon = await s.connect();
  const handles = [rec, p, doc, anon];
  const exit = await s.janus.stop(); // SIGTERM
  assert.deepEqual(exit, { code: 0, signal: null });
  for (const h of handles) {
    assert.ok(h.client.closed, 'the socket closed');
    assert.equal(h.handle.pending('server_restarting').length, 1, 'server_restarting arrived before the socket closed');
  }
  const [life] = s.db('SELECT alive_at, stopped_at FROM lifecycle');
  assert.ok(Number.isInteger(life.stopped_at) && life.stopped_at >= life.alive_at, JSON.stringify(life));
  assert.ok(Math.abs(life.stopped_at - now()) < 60);
  // Started again, nobody comes back: the visit ends as of the stop.
  await s.restart('none');
  await s.advance(GRACE + 1);
  const [row] = await until(() => {
    const r = s.db(`SELECT state, end_reason, ended_at FROM visits WHERE id = ${p.reply.visit_id} AND state = 'ended'`);
    return r.length ? r : null;
  }, 15000, 'the visit ended');
  assert.deepEqual(row, { state: 'ended', end_reason: 'grace_expired', ended_at: life.stopped_at });
});

test('SIGKILL: the doctor\'s list of restored visits keeps the name and note reception booked', async (t) => {
  const s = await stack(t);
  const rec = await s.login(s.A.receptions[0]);
  const booked = uniqueName('Gebucht'), note = `Notiz ${uniqueName('n')}`;
  s.secrets.push(booked, note);
  const appt = await rec.handle.call({ request: 'create_appointment', starts_at: now() + 60, patient_name: booked, note });
  appt.first = uniqueName('Eri');
  appt.last = uniqueName('Mus');
  s.secrets.push(appt.code, appt.code.replace(/-/g, ''), appt.first, appt.last);
  const p = await s.join(appt);
  await s.restart('SIGKILL');
  const doc = await s.login(s.A.doctors[0]);
  const l = await doc.handle.call({ request: 'waiting_list' });
  const v = l.visits.find((x) => x.visit_id === p.reply.visit_id);
  assert.ok(v, JSON.stringify(l.visits.map((x) => x.visit_id)));
  assert.deepEqual([v.state, v.first_name, v.last_name, v.booked_name, v.note], ['away', appt.first, appt.last, booked, note]);
});
