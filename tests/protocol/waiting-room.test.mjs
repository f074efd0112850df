// waiting-room.test.mjs - the waiting room as patients live it, against the
// real Janus: the device check (`readiness`) in the doctor's list, away
// patients not counted in `ahead`, messages to waiting patients
// (`message_waiting`, event `message`, the join reply), the estimated wait
// from today's calls, and leave then join again with the same code
// (docs/protocol.md: readiness, message_waiting, "Estimated wait", leave).
// Names, codes and message texts are registered with ctx.secret: the Janus
// log and the event handler's output are scanned for them after the file.
// Janus runs in a time zone where it is about noon now (TZ; the estimate
// counts the calls of its local day), so no test crosses its midnight;
// CONSULT_TEST=1: calls last 500 s of the plugin's clock (test_clock).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useStack, assertError, assertOk, now, uniqueName } from './helpers.mjs';

// POSIX TZ "XXX<h>": local time = UTC - h hours.
const NOON_TZ = `XXX${new Date().getUTCHours() - 12}`;
// A long grace period: patients who drop come back well within it, also on a busy machine.
const ctx = useStack({ graceSeconds: 60, janus: { env: { CONSULT_TEST: '1', TZ: NOON_TZ } } });
const serverNow = () => now() + ctx.clockOffset;

/** An appointment shortly after the plugin's clock. */
const appt = (staff, doctorId = null) => ctx.appointment(staff.handle, { doctorId, startsAt: serverNow() + 60 });

/** The same code joined again on a new handle (a reload). */
async function rejoin(p, practice = ctx.A.slug) {
  const { client, handle } = await ctx.connect();
  const reply = await handle.request({
    request: 'join', practice, code: p.appt.code, first_name: p.first, last_name: p.last, accept_terms: true,
  });
  return { ...p, client, handle, reply };
}

async function leaveAll(...patients) {
  for (const p of patients) await p.handle.request({ request: 'leave' }).catch(() => {});
}

const entry = (list, visitId) => list.visits.find((v) => v.visit_id === visitId);
const noWait = (o) => !('wait_min' in o) && !('wait_max' in o);

test('readiness: shown in the doctor\'s list, refused when invalid (nothing changes), unchecked after a re-join', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[0]);
  const docId = ctx.A.doctors[0].id;
  const p = await ctx.patient(await appt(rec, docId));
  assertOk(p.reply);
  let list = assertOk(await doc.handle.request({ request: 'waiting_list' }));
  assert.deepEqual([entry(list, p.reply.visit_id).camera, entry(list, p.reply.visit_id).microphone], ['unchecked', 'unchecked']);
  await doc.handle.waitEvent('waiting', { filter: (e) => !!entry(e, p.reply.visit_id) });

  assertOk(await p.handle.request({ request: 'readiness', camera: 'blocked', microphone: 'ok' }));
  const w = await doc.handle.waitEvent('waiting', { filter: (e) => entry(e, p.reply.visit_id)?.camera === 'blocked' });
  assert.equal(entry(w, p.reply.visit_id).microphone, 'ok');
  list = assertOk(await doc.handle.request({ request: 'waiting_list' }));
  assert.deepEqual([entry(list, p.reply.visit_id).camera, entry(list, p.reply.visit_id).microphone], ['blocked', 'ok']);

  // Invalid values: refused with the field, nothing changes, no list is sent.
  await doc.handle.sync();
  doc.handle.drain();
  for (const [body, error, field] of [
    [{ camera: 'denied', microphone: 'ok' }, 'invalid_field', 'camera'],
    [{ camera: 'ok', microphone: 'OK' }, 'invalid_field', 'microphone'],
    [{ camera: 'ok' }, 'missing_field', 'microphone'],
    [{ microphone: 'ok' }, 'missing_field', 'camera'],
    [{ camera: 1, microphone: 'ok' }, 'invalid_field', 'camera'],
    [{ camera: 'ok', microphone: null }, 'missing_field', 'microphone'],
  ]) {
    const r = await p.handle.request({ request: 'readiness', ...body });
    assertError(r, error);
    assert.equal(r.field, field, JSON.stringify(body));
  }
  // Only a patient's own handle may report.
  assertError(await doc.handle.request({ request: 'readiness', camera: 'ok', microphone: 'ok' }), 'forbidden', 411);
  const anon = await ctx.connect();
  assertError(await anon.handle.request({ request: 'readiness', camera: 'ok', microphone: 'ok' }), 'wrong_state', 412);
  list = assertOk(await doc.handle.request({ request: 'waiting_list' }));
  assert.deepEqual([entry(list, p.reply.visit_id).camera, entry(list, p.reply.visit_id).microphone], ['blocked', 'ok']);
  await doc.handle.sync();
  assert.deepEqual(doc.handle.pending('waiting'), [], 'a refused readiness sends no list');

  // The same code on a new handle (a reload): unchecked again, the list says so.
  const q = await rejoin(p);
  assertOk(q.reply);
  assert.equal(q.reply.resumed, true);
  await p.handle.waitEvent('taken_over');
  await doc.handle.waitEvent('waiting', { filter: (e) => entry(e, p.reply.visit_id)?.camera === 'unchecked' });
  assertOk(await q.handle.request({ request: 'readiness', camera: 'ok', microphone: 'missing' }));
  await doc.handle.waitEvent('waiting', { filter: (e) => entry(e, p.reply.visit_id)?.microphone === 'missing' });

  // Ringing: may still report; in a call: wrong_state.
  assertOk(await doc.handle.request({ request: 'call', visit_id: q.reply.visit_id }));
  await q.handle.waitEvent('ringing');
  assertOk(await q.handle.request({ request: 'readiness', camera: 'ok', microphone: 'ok' }));
  assertOk(await q.handle.request({ request: 'accept' }));
  await doc.handle.waitEvent('call_accepted');
  assertError(await q.handle.request({ request: 'readiness', camera: 'ok', microphone: 'ok' }), 'wrong_state', 412);
  assertOk(await doc.handle.request({ request: 'hangup' }));
  await q.handle.waitEvent('call_ended');
  assertError(await q.handle.request({ request: 'readiness', camera: 'ok', microphone: 'ok' }), 'wrong_state', 412);
  await doc.handle.request({ request: 'logout' });
});

test('ahead: an away patient is not counted; it counts again when back; the doctor still sees it at its place', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[1]);
  const docId = ctx.A.doctors[1].id;
  const t = serverNow() + 60;
  const p1 = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: docId, startsAt: t }));
  const p2 = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: docId, startsAt: t }));
  const p3 = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: docId, startsAt: t }));
  assert.deepEqual([p1.reply.ahead, p2.reply.ahead, p3.reply.ahead], [0, 1, 2]);
  await p2.handle.sync(); await p3.handle.sync();
  p2.handle.drain(); p3.handle.drain();

  // p1's connection is lost: its place is kept, the others move up.
  await p1.client.close();
  assert.equal((await p2.handle.waitEvent('position')).ahead, 0);
  assert.equal((await p3.handle.waitEvent('position')).ahead, 1);
  const list = assertOk(await doc.handle.request({ request: 'waiting_list' }));
  const ids = list.visits.map((v) => v.visit_id);
  assert.equal(entry(list, p1.reply.visit_id).state, 'away');
  assert.ok(ids.indexOf(p1.reply.visit_id) < ids.indexOf(p2.reply.visit_id), 'the away visit keeps its place');
  // A patient joining now does not count it either.
  const p4 = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: docId, startsAt: t }));
  assert.equal(p4.reply.ahead, 2);

  // p1 comes back (same code, within the grace period): counted again.
  const back = await rejoin(p1);
  assertOk(back.reply);
  assert.equal(back.reply.resumed, true);
  assert.equal(back.reply.visit_id, p1.reply.visit_id);
  assert.equal(back.reply.ahead, 0);
  assert.equal((await p2.handle.waitEvent('position')).ahead, 1);
  assert.equal((await p3.handle.waitEvent('position')).ahead, 2);
  assert.equal((await p4.handle.waitEvent('position', { filter: (e) => e.ahead === 3 })).ahead, 3);
  await leaveAll(back, p2, p3, p4);
});

test('message_waiting: reaches exactly the addressed waiting patients; in the join reply; gone with the visit; bad input refused', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const recB = await ctx.login(ctx.B.receptions[0]);
  const d0 = await ctx.login(ctx.A.doctors[0]);
  const d1 = await ctx.login(ctx.A.doctors[1]);
  const [d0Id, d1Id, dBId] = [ctx.A.doctors[0].id, ctx.A.doctors[1].id, ctx.B.doctors[0].id];
  const a0 = await ctx.patient(await appt(rec, d0Id));
  const a0b = await ctx.patient(await appt(rec, d0Id));
  const aAny = await ctx.patient(await appt(rec, null));
  const a1 = await ctx.patient(await appt(rec, d1Id));
  const b0 = await ctx.patient(await appt(recB, dBId), { practice: ctx.B.slug });
  const all = [a0, a0b, aAny, a1, b0];
  for (const p of all) assertOk(p.reply);
  const got = async (p) => { await p.handle.sync(); return p.handle.pending('message'); };
  const drainAll = async () => { for (const p of all) { await p.handle.sync(); p.handle.drain(); } };
  const onlyThese = async (want, text, from) => {
    for (const p of all) {
      const m = await got(p);
      if (want.includes(p)) {
        assert.equal(m.length, 1, `${all.indexOf(p)} gets it once`);
        assert.deepEqual([m[0].text, m[0].from], [text, from]);
        assert.ok(Number.isInteger(m[0].sent_at) && Math.abs(m[0].sent_at - serverNow()) < 60);
      } else {
        assert.deepEqual(m, [], `patient ${all.indexOf(p)} must get nothing`);
      }
    }
    await drainAll();
  };

  // Reception to one visit.
  const t1 = ctx.secret(`Bitte halten Sie Ihre Karte bereit ${uniqueName('')}.`);
  assert.equal(assertOk(await rec.handle.request({ request: 'message_waiting', text: t1, visit_id: a0.reply.visit_id })).delivered, 1);
  await onlyThese([a0], t1, null);
  // Reception to one appointment.
  const t2 = ctx.secret(`Gleich sind Sie dran ${uniqueName('')}.`);
  assert.equal(assertOk(await rec.handle.request({ request: 'message_waiting', text: t2, appointment_id: a1.appt.appointment_id })).delivered, 1);
  await onlyThese([a1], t2, null);
  // A doctor to the own list: own and "any doctor" patients, not another doctor's, not another practice's.
  const t3 = ctx.secret(`Dr. Weber verspätet sich ca. 15 Minuten ${uniqueName('')}.`);
  assert.equal(assertOk(await d0.handle.request({ request: 'message_waiting', text: `  ${t3}  `, doctor_id: d0Id })).delivered, 3);
  await onlyThese([a0, a0b, aAny], t3, 'Dr. Weber');
  // Reception to a doctor's list.
  const t4 = ctx.secret(`Dr. Klein ist gleich da ${uniqueName('')}.`);
  assert.equal(assertOk(await rec.handle.request({ request: 'message_waiting', text: t4, doctor_id: d1Id })).delivered, 2);
  await onlyThese([aAny, a1], t4, null);

  // Nobody outside what the sender may address: not_found, nothing delivered.
  const tX = ctx.secret(`Nicht zustellen ${uniqueName('')}`);
  for (const [who, target, field] of [
    [rec, { visit_id: b0.reply.visit_id }, 'visit_id'],
    [rec, { appointment_id: b0.appt.appointment_id }, 'appointment_id'],
    [rec, { doctor_id: dBId }, 'doctor_id'],
    [rec, { doctor_id: ctx.A.receptions[0].id }, 'doctor_id'],
    [rec, { visit_id: 987654321 }, 'visit_id'],
    [recB, { visit_id: a0.reply.visit_id }, 'visit_id'],
    [d1, { visit_id: a0.reply.visit_id }, 'visit_id'],
    [d1, { appointment_id: a0.appt.appointment_id }, 'appointment_id'],
    [d1, { doctor_id: d0Id }, 'doctor_id'],
  ]) {
    const r = await who.handle.request({ request: 'message_waiting', text: tX, ...target });
    assertError(r, 'not_found', 440);
    assert.equal(r.field, field);
  }
  // Bad input: refused with its field.
  for (const [body, error, field] of [
    [{ visit_id: a0.reply.visit_id }, 'missing_field', 'text'],
    [{ text: '', visit_id: a0.reply.visit_id }, 'invalid_field', 'text'],
    [{ text: '   ', visit_id: a0.reply.visit_id }, 'invalid_field', 'text'],
    [{ text: 42, visit_id: a0.reply.visit_id }, 'invalid_field', 'text'],
    [{ text: 'ä'.repeat(281), visit_id: a0.reply.visit_id }, 'too_long', 'text'],
    [{ text: 'Zeile 1\nZeile 2', visit_id: a0.reply.visit_id }, 'invalid_utf8', 'text'],
    [{ text: tX }, 'invalid_field', 'target'],
    [{ text: tX, visit_id: a0.reply.visit_id, doctor_id: d0Id }, 'invalid_field', 'target'],
    [{ text: tX, visit_id: -3 }, 'invalid_field', 'visit_id'],
  ]) {
    const r = await rec.handle.request({ request: 'message_waiting', ...body });
    assertError(r, error);
    assert.equal(r.field, field, JSON.stringify(body).slice(0, 80));
  }
  assertError(await a0.handle.request({ request: 'message_waiting', text: tX, visit_id: a0.reply.visit_id }), 'forbidden', 411);
  const anon = await ctx.connect();
  assertError(await anon.handle.request({ request: 'message_waiting', text: tX, visit_id: a0.reply.visit_id }), 'not_authenticated', 410);
  await onlyThese([], tX, null);
  // 280 characters of two bytes each pass.
  const long = 'ü'.repeat(280);
  assert.equal(assertOk(await rec.handle.request({ request: 'message_waiting', text: long, visit_id: a1.reply.visit_id })).delivered, 1);
  await onlyThese([a1], long, null);

  // An away patient gets the newest message in its join reply.
  await a0b.client.close();
  await d0.handle.waitEvent('waiting', { filter: (e) => entry(e, a0b.reply.visit_id)?.state === 'away' });
  const t5 = ctx.secret(`Noch etwa zehn Minuten ${uniqueName('')}.`);
  assert.equal(assertOk(await rec.handle.request({ request: 'message_waiting', text: t5, visit_id: a0b.reply.visit_id })).delivered, 1);
  const a0bBack = await rejoin(a0b);
  assert.equal(a0bBack.reply.resumed, true);
  assert.deepEqual([a0bBack.reply.message.text, a0bBack.reply.message.from], [t5, null]);
  // A reload keeps the newest message of the visit.
  const a0Again = await rejoin(a0);
  assert.equal(a0Again.reply.resumed, true);
  assert.deepEqual([a0Again.reply.message.text, a0Again.reply.message.from], [t3, 'Dr. Weber']);
  assert.ok(Number.isInteger(a0Again.reply.message.sent_at));
  // In a call: not addressed.
  await ctx.connectCall(d0, a0Again);
  assertError(await rec.handle.request({ request: 'message_waiting', text: tX, visit_id: a0.reply.visit_id }), 'not_found', 440);
  assert.equal(assertOk(await d0.handle.request({ request: 'message_waiting', text: t3, doctor_id: d0Id })).delivered, 2);
  await a0Again.handle.sync();
  assert.deepEqual(a0Again.handle.pending('message'), [], 'a patient in a call gets no message');
  assertOk(await d0.handle.request({ request: 'hangup' }));
  await a0Again.handle.waitEvent('call_ended');
  // The visit ended: the message is gone; the same code waits anew without it.
  const fresh = await rejoin(a0);
  assertOk(fresh.reply);
  assert.equal(fresh.reply.resumed, false);
  assert.notEqual(fresh.reply.visit_id, a0.reply.visit_id);
  assert.ok(!('message' in fresh.reply), 'no message after the visit ended');
  // Left: gone as well.
  assertOk(await a1.handle.request({ request: 'leave' }));
  const a1Again = await rejoin(a1);
  assert.ok(!('message' in a1Again.reply));
  await leaveAll(fresh, a0bBack, aAny, a1Again, b0);
  await d0.handle.request({ request: 'logout' });
  await d1.handle.request({ request: 'logout' });
});

test('estimated wait: absent without history; with three connected calls today in the join reply and in position events; after a restart too', async () => {
  // Practice B: no calls today before this test.
  const recB = await ctx.login(ctx.B.receptions[0]);
  const doc = await ctx.login(ctx.B.doctors[0]);
  const docId = ctx.B.doctors[0].id;
  const join = async () => ctx.patient(await appt(recB, docId), { practice: ctx.B.slug });
  const w1 = await join();
  const w2 = await join();
  assertOk(w1.reply); assertOk(w2.reply);
  assert.deepEqual([w1.reply.ahead, w2.reply.ahead], [0, 1]);
  assert.ok(noWait(w1.reply) && noWait(w2.reply), 'no estimate without history');

  // Three calls, each connected for 500 s of the plugin's clock.
  for (let i = 0; i < 3; i++) {
    const c = await join();
    assert.ok(noWait(c.reply), `no estimate after ${i} calls`);
    await ctx.connectCall(doc, c);
    assertOk(await doc.handle.request({ request: 'report', connection_state: 'connected', local_candidate_type: 'host', remote_candidate_type: 'host' }));
    assertOk(await c.handle.request({ request: 'report', connection_state: 'connected' }));
    await ctx.advanceClock(500);
    assertOk(await doc.handle.request({ request: 'hangup' }));
    await c.handle.waitEvent('call_ended');
    if (i < 2) {
      await w1.handle.sync(); await w2.handle.sync();
      const withWait = [...w1.handle.pending('position'), ...w2.handle.pending('position')].filter((e) => !noWait(e));
      assert.deepEqual(withWait, [], `no estimate after ${i + 1} calls`);
    }
  }
  // Only the estimate changed for w1 and w2 (their places did not): a position each.
  // m = 500 s (a few seconds more in real time): w1 0-5 (nobody ahead, doctor free), w2 0-15 (500 s).
  const p1 = await w1.handle.waitEvent('position', { filter: (e) => !noWait(e) });
  const p2 = await w2.handle.waitEvent('position', { filter: (e) => !noWait(e) });
  assert.deepEqual([p1.ahead, p1.wait_min, p1.wait_max], [0, 0, 5]);
  assert.deepEqual([p2.ahead, p2.wait_min, p2.wait_max], [1, 0, 15]);
  // The join reply carries it: two ahead, 1000 s -> 10-25.
  const w3 = await join();
  assert.deepEqual([w3.reply.ahead, w3.reply.wait_min, w3.reply.wait_max], [2, 10, 25]);
  // The doctor calls w1: w2 and w3 move up, the doctor is busy (half a call left).
  await w2.handle.sync(); w2.handle.drain();
  await w3.handle.sync(); w3.handle.drain();
  assertOk(await doc.handle.request({ request: 'call', visit_id: w1.reply.visit_id }));
  const q2 = await w2.handle.waitEvent('position');
  const q3 = await w3.handle.waitEvent('position');
  assert.deepEqual([q2.ahead, q2.wait_min, q2.wait_max], [0, 0, 10]);
  assert.deepEqual([q3.ahead, q3.wait_min, q3.wait_max], [1, 5, 20]);
  await w1.handle.waitEvent('ringing');
  assertOk(await doc.handle.request({ request: 'cancel_call' }));
  await leaveAll(w1, w2, w3);
  await doc.handle.request({ request: 'logout' });

  // Today's calls are read from the store at start: after a restart (a clean
  // stop; its clock offset set again) the estimate is there at once.
  assert.deepEqual(await ctx.janus.kill('SIGTERM'), { code: 0, signal: null });
  await ctx.janus.restart();
  assertOk(await ctx.janus.admin({ request: 'test_clock', offset_seconds: ctx.clockOffset }));
  const recB2 = await ctx.login(ctx.B.receptions[0]);
  const w4 = await ctx.patient(await appt(recB2, docId), { practice: ctx.B.slug });
  assertOk(w4.reply);
  assert.deepEqual([w4.reply.ahead, w4.reply.wait_min, w4.reply.wait_max], [0, 0, 5]);
  await leaveAll(w4);
});

test('leave, then join again with the same code: a new visit at its usual place; the old handle stays done', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[1]);
  const docId = ctx.A.doctors[1].id;
  const t = serverNow() + 60;
  const p = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: docId, startsAt: t }));
  assertOk(p.reply);
  await doc.handle.waitEvent('waiting', { filter: (e) => !!entry(e, p.reply.visit_id) });
  await doc.handle.sync();
  doc.handle.drain();
  assertOk(await p.handle.request({ request: 'leave' }));
  await doc.handle.waitEvent('waiting', { filter: (e) => !entry(e, p.reply.visit_id) });
  // The handle that left can do nothing more.
  assertError(await p.handle.request({
    request: 'join', practice: ctx.A.slug, code: p.appt.code, first_name: p.first, last_name: p.last, accept_terms: true,
  }), 'wrong_state', 412);
  assertError(await p.handle.request({ request: 'readiness', camera: 'ok', microphone: 'ok' }), 'wrong_state', 412);
  // Someone with a later appointment arrives meanwhile.
  const q = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: docId, startsAt: t + 600 }));
  assert.equal(q.reply.ahead, 0);
  await q.handle.sync(); q.handle.drain();
  // The same code on a new handle: a new visit, before q (earlier appointment).
  const again = await rejoin(p);
  assertOk(again.reply);
  assert.equal(again.reply.state, 'waiting');
  assert.equal(again.reply.resumed, false);
  assert.notEqual(again.reply.visit_id, p.reply.visit_id);
  assert.equal(again.reply.ahead, 0);
  assert.equal((await q.handle.waitEvent('position')).ahead, 1);
  const list = assertOk(await doc.handle.request({ request: 'waiting_list' }));
  const ids = list.visits.map((v) => v.visit_id);
  assert.ok(!ids.includes(p.reply.visit_id), 'the old visit is gone');
  assert.ok(ids.indexOf(again.reply.visit_id) >= 0 && ids.indexOf(again.reply.visit_id) < ids.indexOf(q.reply.visit_id));
  assert.deepEqual([entry(list, again.reply.visit_id).camera, entry(list, again.reply.visit_id).microphone], ['unchecked', 'unchecked']);
  // Leave and come back once more; then, cancelled, the code is no longer valid.
  assertOk(await again.handle.request({ request: 'leave' }));
  const third = await rejoin(p);
  assertOk(third.reply);
  assert.notEqual(third.reply.visit_id, again.reply.visit_id);
  assertOk(await third.handle.request({ request: 'leave' }));
  assertOk(await rec.handle.request({ request: 'cancel_appointment', appointment_id: p.appt.appointment_id }));
  assertError((await rejoin(p)).reply, 'code_invalid', 430);
  await leaveAll(q);
});
