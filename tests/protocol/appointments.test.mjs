// appointments.test.mjs - appointments, access codes and joining.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useStack, assertError, assertOk, now, uniqueName, rand, CODE_RE } from './helpers.mjs';
import { seedPractice } from '../../scripts/lib/seed.mjs';

const ctx = useStack({ joinBeforeMinutes: 30, joinAfterMinutes: 120 });

const joinBody = (slug, code) => ({
  request: 'join', practice: slug, code, first_name: 'Anna', last_name: 'Probe', accept_terms: true,
});

test('create_appointment: code format, link, window; list_appointments shows it', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const startsAt = now() + 3600;
  const r = await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[0].id, startsAt });
  assert.equal(r.consult, 'create_appointment');
  assert.ok(Number.isInteger(r.appointment_id) && r.appointment_id > 0);
  assert.match(r.code, CODE_RE);
  assert.equal(r.link, `https://praxis.example/patient.html?p=${ctx.A.slug}#${r.code}`);
  assert.equal(r.starts_at, startsAt);
  assert.equal(r.valid_from, startsAt - 30 * 60);
  assert.equal(r.valid_until, startsAt + 120 * 60);
  const any = await ctx.appointment(rec.handle, { startsAt });
  assert.notEqual(any.code, r.code);

  const list = assertOk(await rec.handle.request({ request: 'list_appointments' }));
  const row = list.appointments.find((a) => a.id === r.appointment_id);
  assert.ok(row, JSON.stringify(list));
  assert.equal(row.doctor_id, ctx.A.doctors[0].id);
  assert.equal(row.doctor_name, 'Dr. Weber');
  assert.equal(row.starts_at, startsAt);
  assert.equal(row.status, 'booked');
  assert.equal(row.patient, null);
  assert.ok(!JSON.stringify(list).includes(r.code), 'list_appointments must not return codes');
  const anyRow = list.appointments.find((a) => a.id === any.appointment_id);
  assert.equal(anyRow.doctor_id, null);

  // Outside the explicit range: not listed. Range over 31 days: invalid.
  const later = assertOk(await rec.handle.request({ request: 'list_appointments', from: startsAt + 7200, to: startsAt + 9000 }));
  assert.ok(!later.appointments.some((a) => a.id === r.appointment_id));
  assertError(await rec.handle.request({ request: 'list_appointments', from: now(), to: now() + 32 * 86400 }), 'invalid_field', 403);

  // Another practice does not see it.
  const recB = await ctx.login(ctx.B.receptions[0]);
  const listB = assertOk(await recB.handle.request({ request: 'list_appointments' }));
  assert.ok(!listB.appointments.some((a) => a.id === r.appointment_id));
});

test('create_appointment errors: foreign doctor, bad starts_at', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  assertError(await rec.handle.request({ request: 'create_appointment', doctor_id: ctx.B.doctors[0].id, starts_at: now() }), 'not_found', 440);
  assertError(await rec.handle.request({ request: 'create_appointment', doctor_id: 999999, starts_at: now() }), 'not_found', 440);
  assertError(await rec.handle.request({ request: 'create_appointment', doctor_id: ctx.A.receptions[0].id, starts_at: now() }), 'not_found', 440);
  let r = await rec.handle.request({ request: 'create_appointment', doctor_id: null, starts_at: now() + 3 * 365 * 86400 });
  assertError(r, 'invalid_field', 403);
  assert.equal(r.field, 'starts_at');
  r = await rec.handle.request({ request: 'create_appointment', doctor_id: null, starts_at: now() - 2 * 365 * 86400 });
  assertError(r, 'invalid_field', 403);
  r = await rec.handle.request({ request: 'create_appointment', doctor_id: null, starts_at: 'tomorrow' });
  assertError(r, 'invalid_field', 403);
  r = await rec.handle.request({ request: 'create_appointment', doctor_id: 'x', starts_at: now() });
  assertError(r, 'invalid_field', 403);
  assert.equal(r.field, 'doctor_id');
  r = await rec.handle.request({ request: 'create_appointment', doctor_id: null });
  assertError(r, 'missing_field', 402);
  assert.equal(r.field, 'starts_at');
  // A doctor may create appointments too.
  const doc = await ctx.login(ctx.A.doctors[1]);
  await ctx.appointment(doc.handle, { doctorId: ctx.A.doctors[1].id });
});

test('join with the right code; normalised input forms are accepted', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const appt = await ctx.appointment(rec.handle, { startsAt: now() + 120 });
  const p = await ctx.patient(appt);
  const r = p.reply;
  assert.equal(r.consult, 'join');
  assert.ok(r.visit_id > 0);
  assert.equal(r.ahead, 0);
  assert.ok(Number.isInteger(r.seq));
  assert.equal(r.appointment_at, appt.starts_at);
  assert.equal(r.resumed, false);
  assert.equal(r.grace_seconds, 5);
  assert.equal(r.practice.name, ctx.A.name);
  assert.equal(r.practice.phone, ctx.A.phone);
  // The reception sees the status and the name.
  const list = assertOk(await rec.handle.request({ request: 'list_appointments' }));
  const row = list.appointments.find((a) => a.id === appt.appointment_id);
  assert.equal(row.status, 'waiting');
  assert.equal(row.patient, `${p.first} ${p.last}`);
  assertOk(await p.handle.request({ request: 'leave' }));
  const list2 = assertOk(await rec.handle.request({ request: 'list_appointments' }));
  assert.equal(list2.appointments.find((a) => a.id === appt.appointment_id).status, 'ended');

  // Lower case, spaces instead of dashes, O for 0 and I/L for 1.
  const appt2 = await ctx.appointment(rec.handle);
  const messy = ' ' + appt2.code.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l') + ' ';
  const { handle } = await ctx.connect();
  const j = assertOk(await handle.request({ ...joinBody(ctx.A.slug, messy), first_name: ctx.secret(uniqueName('Nor')) }));
  assert.equal(j.resumed, false);
  assertOk(await handle.request({ request: 'leave' }));
});

test('join refused: wrong code, other practice, cancelled, expired (all code_invalid); too early says when', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const recB = await ctx.login(ctx.B.receptions[0]);
  const valid = await ctx.appointment(rec.handle);
  const cases = [];
  // A wrong code: change one symbol of a valid code.
  const flip = valid.code[0] === 'A' ? 'B' : 'A';
  cases.push(['wrong code', ctx.A.slug, flip + valid.code.slice(1)]);
  const other = await ctx.appointment(recB.handle);
  cases.push(['code of another practice', ctx.A.slug, other.code]);
  const cancelled = await ctx.appointment(rec.handle);
  assertOk(await rec.handle.request({ request: 'cancel_appointment', appointment_id: cancelled.appointment_id }));
  cases.push(['cancelled', ctx.A.slug, cancelled.code]);
  const expired = await ctx.appointment(rec.handle, { startsAt: now() - 86400 });
  cases.push(['expired', ctx.A.slug, expired.code]);
  const early = await ctx.appointment(rec.handle, { startsAt: now() + 86400 });
  {
    // Only the holder of a valid code learns when the waiting room opens.
    const { handle } = await ctx.connect();
    const r = await handle.request(joinBody(ctx.A.slug, early.code));
    assertError(r, 'too_early', 413);
    assert.equal(r.opens_at, early.valid_from);
  }
  const reasons = new Set();
  for (const [what, slug, code] of cases) {
    const { handle } = await ctx.connect(); // fresh handle: no per-handle lock
    const r = await handle.request(joinBody(slug, code));
    assertError(r, 'code_invalid', 430);
    reasons.add(r.reason);
    assert.ok(!('field' in r) || r.field === 'code', what);
  }
  assert.equal(reasons.size, 1, 'the reason must not say why the code is invalid');
  // Unknown practice with a valid-looking code.
  const { handle } = await ctx.connect();
  const r = await handle.request(joinBody('no-such-practice', valid.code));
  assert.equal(r.ok, false);
  assert.ok(['code_invalid', 'not_found'].includes(r.error), JSON.stringify(r));
  // A code that does not normalise to 12 symbols.
  const bad = await handle.request(joinBody(ctx.A.slug, 'ABCD-EFGH'));
  assert.equal(bad.ok, false);
  assert.ok(['code_invalid', 'invalid_field'].includes(bad.error), JSON.stringify(bad));
  // The other practice's code works there.
  const { handle: hb } = await ctx.connect();
  assertOk(await hb.request({ ...joinBody(ctx.B.slug, other.code), first_name: ctx.secret(uniqueName('Bb')) }));
  assertOk(await hb.request({ request: 'leave' }));
});

test('join rate limit: 5 failures on one handle -> rate_limited, even for a valid code', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const valid = await ctx.appointment(rec.handle);
  const { handle } = await ctx.connect();
  for (let i = 0; i < 5; i++) {
    const code = `ZZZZ-ZZZZ-ZZ${'0123456789'[i]}${'0123456789'[i]}`;
    assertError(await handle.request(joinBody(ctx.A.slug, code)), 'code_invalid', 430);
  }
  const r = await handle.request(joinBody(ctx.A.slug, valid.code));
  assertError(r, 'rate_limited', 421);
  assert.ok(Number.isInteger(r.retry_after) && r.retry_after > 0 && r.retry_after <= 60, `retry_after ${r.retry_after}`);
  // A fresh handle is not locked and the code still works.
  const { handle: h2 } = await ctx.connect();
  assertOk(await h2.request({ ...joinBody(ctx.A.slug, valid.code), first_name: ctx.secret(uniqueName('Rl')) }));
  assertOk(await h2.request({ request: 'leave' }));
});

test('cancel_appointment: waiting patient gets visit_ended cancelled; twice -> wrong_state', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[0]);
  const appt = await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[0].id });
  const p = await ctx.patient(appt);
  const listed = await doc.handle.waitEvent('waiting', { filter: (e) => e.visits.some((v) => v.visit_id === p.reply.visit_id) });
  assertOk(await rec.handle.request({ request: 'cancel_appointment', appointment_id: appt.appointment_id }));
  const ev = await p.handle.waitEvent('visit_ended');
  assert.equal(ev.reason, 'cancelled');
  // The doctor's list no longer has the visit (a list sent after the one
  // that had it: the empty list at login would match at once).
  const after = (e) => doc.handle.events.indexOf(e) > doc.handle.events.indexOf(listed);
  await doc.handle.waitEvent('waiting', { filter: (e) => after(e) && !e.visits.some((v) => v.visit_id === p.reply.visit_id) });
  assertError(await rec.handle.request({ request: 'cancel_appointment', appointment_id: appt.appointment_id }), 'wrong_state', 412);
  // The staff handles got an appointment event for the row.
  const ae = await rec.handle.waitEvent('appointment', { filter: (e) => e.appointment_id === appt.appointment_id && e.status === 'cancelled' });
  assert.equal(ae.status, 'cancelled');
  // Cancelling another practice's or an unknown appointment: not_found.
  const recB = await ctx.login(ctx.B.receptions[0]);
  const apptB = await ctx.appointment(recB.handle);
  assertError(await rec.handle.request({ request: 'cancel_appointment', appointment_id: apptB.appointment_id }), 'not_found', 440);
  assertError(await rec.handle.request({ request: 'cancel_appointment', appointment_id: 99999999 }), 'not_found', 440);
  // The patient's handle can do nothing more in that visit.
  const again = await p.handle.request({ request: 'leave' });
  assert.equal(again.ok, false);
});

test('per-practice join throttle: after 50 failures unknown codes are throttled, valid codes still work', async () => {
  const pw = ctx.secret(`Pw-${rand(8)}`);
  const C = await seedPractice(ctx.janus, {
    slug: `praxis-c-${rand(3)}`, name: 'Praxis C',
    receptions: [{ username: `empfang.c.${rand(3)}`, display_name: 'Empfang C', password: pw }],
  });
  const rec = await ctx.login(C.receptions[0]);
  const valid = await ctx.appointment(rec.handle);
  let n = 0;
  // Ten handles, all kept open (so no handle is freed and reused).
  for (let h = 0; h < 10; h++) {
    const { handle } = await ctx.connect();
    for (let i = 0; i < 5; i++, n++) {
      const code = `ZZZZ-ZZZZ-${String(n).padStart(4, '0')}`;
      assertError(await handle.request(joinBody(C.slug, code)), 'code_invalid', 430);
    }
  }
  const { handle } = await ctx.connect();
  const r = await handle.request(joinBody(C.slug, 'ZZZZ-ZZZZ-ZZZZ'));
  assertError(r, 'rate_limited', 421);
  assert.ok(r.retry_after > 0);
  // Practice A is not affected.
  const { handle: ha } = await ctx.connect();
  assertError(await ha.request(joinBody(ctx.A.slug, 'ZZZZ-ZZZZ-ZZZZ')), 'code_invalid', 430);
  // The valid code of practice C still gets in.
  const { handle: hv } = await ctx.connect();
  assertOk(await hv.request({ ...joinBody(C.slug, valid.code), first_name: ctx.secret(uniqueName('Thr')) }));
  assertOk(await hv.request({ request: 'leave' }));
});

test('a new handle never inherits the join lock of a closed handle', async () => {
  // Handle A fails 5 times (locked), is closed; a fresh handle B then makes
  // its first attempt. Each round uses its own practice, so the practice
  // throttle (50) is never near: B must get code_invalid, not rate_limited.
  const refused = [];
  for (let round = 0; round < 30; round++) {
    const slug = `praxis-l${round}-${rand(2)}`;
    assertOk(await ctx.janus.admin({ request: 'add_practice', slug, name: 'Lock' }));
    const a = await ctx.connect();
    for (let i = 0; i < 5; i++) {
      const r = await a.handle.request(joinBody(slug, `ZZZZ-ZZZZ-000${i}`));
      if (r.error !== 'code_invalid') refused.push({ round, handle: 'A', attempt: i, error: r.error });
    }
    await a.client.close();
    const b = await ctx.connect();
    const r = await b.handle.request(joinBody(slug, 'ZZZZ-ZZZZ-1111'));
    if (r.error !== 'code_invalid') refused.push({ round, handle: 'B', error: r.error });
    await b.client.close();
  }
  assert.deepEqual(refused.slice(0, 5), [], `fresh handles inherited the lock of a closed handle (${refused.length} refusals)`);
});
