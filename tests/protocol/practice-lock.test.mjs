// practice-lock.test.mjs - on PostgreSQL a slow database stalls only the
// practice that waits for it (per-practice locks, plugins/janus/plock.h).
//
// Contract: runs when CONSULT_TEST_STORE is a postgresql:// URL (the
// protocol stages run behind scripts/lib/with-postgres); else skipped. A
// psql client of its own holds practice A's waiting visit row with SELECT
// ... FOR UPDATE in an open transaction, so A's doctor's `call` (whose
// visit write needs that row) waits inside PostgreSQL - seen in
// pg_stat_activity, not guessed from time. While it waits, practice B's
// doctor, reception and patients (waiting_list, create_appointment, a new
// join, call, accept, hangup) and an anonymous practice_info are answered,
// and a second patient's join into A waits behind A's call. Once psql
// rolls back, A's call and that join are answered and A's patient rings.
// With one global lock held across round trips, B's first request would
// wait for A's (the client's 30 s reply deadline fails the test).
// Second test: psql holds A's practice row (FOR NO KEY UPDATE), so an
// admin set_practice of A waits inside PostgreSQL (pg_stat_activity);
// meanwhile the admin API (health, stats, leases, set_practice of B, which
// makes B's snapshot stale) and B's requests (practice_info reloading the
// stale snapshot: two round trips, waiting_list) are answered. With the
// admin API on glue.store under glue.lock (before its drop mode), health
// waited for set_practice A and got no answer (Janus' admin HTTP server
// closed the connection after about 10 s; else the 30 s deadline of
// adminWithin fails the test).
// Third test: psql locks the staff table (ACCESS EXCLUSIVE: even reads
// wait), so practice_info of B, whose snapshot an admin write just made
// stale, waits inside PostgreSQL in its reload (the staff list) while the
// admin API (health, live_visits, leases: none reads staff) is answered;
// after the rollback practice_info answers with B's name. With
// practice_info's reload under glue.lock, health waited for it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { useStack, assertOk, rand } from './helpers.mjs';
import { until } from './servers.mjs';
import { PSQL, psqlSession, adminWithin } from './stores.mjs';

const base = process.env.CONSULT_TEST_STORE || '';
const onPg = /^postgres(ql)?:\/\//.test(base);
const schema = `plock_${process.pid}_${rand(3)}`;
const url = `${base}${base.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
const psql = (sql) => execFileSync(PSQL, ['-X', '-q', '-A', '-t', '-d', url, '-c', sql], { encoding: 'utf8' }).trim();

const ctx = onPg
  ? useStack({
    setup: async () => { execFileSync(PSQL, ['-X', '-q', '-d', base, '-c', `CREATE SCHEMA ${schema}`]); },
    janus: { extraPluginConfig: { database: url, store_connections: 3 } },
  })
  : null;

test('a visit row held in PostgreSQL stalls only its practice', { skip: !onPg && 'CONSULT_TEST_STORE is not a postgresql:// URL' }, async () => {
  ctx.secret(url, base);
  const docA = await ctx.login(ctx.A.doctors[0]);
  const recA = await ctx.login(ctx.A.receptions[0]);
  const docB = await ctx.login(ctx.B.doctors[0]);
  const recB = await ctx.login(ctx.B.receptions[0]);
  for (const h of [docA, recA, docB, recB]) assertOk(h.reply);
  const pA = await ctx.patient(await ctx.appointment(recA.handle));
  assertOk(pA.reply);
  const pB1 = await ctx.patient(await ctx.appointment(recB.handle), { practice: ctx.B.slug });
  assertOk(pB1.reply);
  const apptA2 = await ctx.appointment(recA.handle);
  const apptB2 = await ctx.appointment(recB.handle);

  const held = psqlSession(url);
  await held.run(`BEGIN; SELECT id FROM visits WHERE id = ${Number(pA.reply.visit_id)} FOR UPDATE;`, 'LOCKED');
  let callA = null;
  let joinA2 = null;
  try {
    let answeredA = false;
    callA = docA.handle.request({ request: 'call', visit_id: pA.reply.visit_id }).then((r) => { answeredA = true; return r; });
    await until(() =>
      psql(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%visits%'`) !== '0',
    20000, 'A\'s visit write waiting for the row lock');
    // a second patient of A: its code lookup runs, then it waits for A's lock
    joinA2 = ctx.patient(apptA2);

    // practice B meanwhile, and an anonymous request
    const list = assertOk(await docB.handle.request({ request: 'waiting_list' }));
    assert.ok(list.visits.some((v) => v.visit_id === pB1.reply.visit_id));
    const info = await ctx.connect();
    assertOk(await info.handle.request({ request: 'practice_info', practice: ctx.B.slug }));
    const pB2 = await ctx.patient(apptB2, { practice: ctx.B.slug });
    assertOk(pB2.reply);
    assertOk(await docB.handle.request({ request: 'call', visit_id: pB1.reply.visit_id }));
    await pB1.handle.waitEvent('ringing');
    assertOk(await pB1.handle.request({ request: 'accept' }));
    await docB.handle.waitEvent('call_accepted', { filter: (e) => e.visit_id === pB1.reply.visit_id });
    assertOk(await pB1.handle.request({ request: 'hangup' }));
    assertOk(await recB.handle.request({ request: 'list_appointments' }));
    assert.equal(answeredA, false, 'A\'s call was answered while its row was held: it never waited');
    assert.equal(psql(`SELECT state FROM visits WHERE id = ${Number(pA.reply.visit_id)}`), 'waiting');
  } finally {
    await held.run('ROLLBACK;', 'RELEASED');
    await held.close();
  }
  // A's requests are answered once the row is free
  assertOk(await callA);
  await pA.handle.waitEvent('ringing');
  const pA2 = await joinA2;
  assertOk(pA2.reply);
  assert.equal(psql(`SELECT state FROM visits WHERE id = ${Number(pA.reply.visit_id)}`), 'ringing');
  assertOk(await docA.handle.request({ request: 'cancel_call' }));
});

test('an admin write held in PostgreSQL stalls neither the admin API nor other practices', { skip: !onPg && 'CONSULT_TEST_STORE is not a postgresql:// URL' }, async () => {
  ctx.secret(url, base);
  const docB = await ctx.login(ctx.B.doctors[0]);
  assertOk(docB.reply);
  const admin = (request) => adminWithin(ctx.janus, request);
  const info = await ctx.connect();
  assertOk(await info.handle.request({ request: 'practice_info', practice: ctx.B.slug })); // B's snapshot loaded

  const held = psqlSession(url);
  await held.run(`BEGIN; SELECT id FROM practices WHERE slug = '${ctx.A.slug}' FOR NO KEY UPDATE;`, 'LOCKED');
  let setA = null;
  try {
    let answeredA = false;
    setA = ctx.janus.admin({ request: 'set_practice', practice: ctx.A.slug, relay_only: false })
      .then((r) => { answeredA = true; return r; });
    setA.catch(() => {}); // its failure is reported where it is awaited, below
    await until(() =>
      psql(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%UPDATE practices%'`) !== '0',
    20000, 'A\'s set_practice waiting for the row lock');

    const health = assertOk(await admin({ request: 'health' }));
    assert.equal(health.store, 'ok');
    assert.equal(typeof health.store_errors, 'number');
    const stats = assertOk(await admin({ request: 'stats' }));
    assert.deepEqual(stats.practices.map((p) => p.slug).sort(), [ctx.A.slug, ctx.B.slug].sort());
    assertOk(await admin({ request: 'leases' }));
    assertOk(await admin({ request: 'live_visits' }));
    // an admin write of B: B's snapshot is forgotten, the next practice_info reloads it
    assertOk(await admin({ request: 'set_practice', practice: ctx.B.slug, relay_only: false }));
    const infoB = assertOk(await info.handle.request({ request: 'practice_info', practice: ctx.B.slug }));
    assert.equal(infoB.name, ctx.B.name);
    assertOk(await docB.handle.request({ request: 'waiting_list' }));
    assert.equal(answeredA, false, 'A\'s set_practice was answered while its row was held: it never waited');
  } finally {
    await held.run('ROLLBACK;', 'RELEASED');
    await held.close();
  }
  assertOk(await setA);
  assertOk(await info.handle.request({ request: 'practice_info', practice: ctx.A.slug }));
});

test('a practice_info reload held in PostgreSQL does not stall the admin API', { skip: !onPg && 'CONSULT_TEST_STORE is not a postgresql:// URL' }, async () => {
  ctx.secret(url, base);
  const info = await ctx.connect();
  assertOk(await adminWithin(ctx.janus, { request: 'set_practice', practice: ctx.B.slug, relay_only: false })); // B's snapshot stale
  const held = psqlSession(url);
  await held.run('BEGIN; LOCK TABLE staff IN ACCESS EXCLUSIVE MODE;', 'LOCKED');
  let infoB = null;
  try {
    let answered = false;
    infoB = info.handle.request({ request: 'practice_info', practice: ctx.B.slug }).then((r) => { answered = true; return r; });
    infoB.catch(() => {}); // reported where it is awaited, below
    await until(() =>
      psql(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%FROM staff%'`) !== '0',
    20000, 'B\'s snapshot reload waiting for the staff table');
    assert.equal(assertOk(await adminWithin(ctx.janus, { request: 'health' })).store, 'ok');
    assertOk(await adminWithin(ctx.janus, { request: 'live_visits' }));
    assertOk(await adminWithin(ctx.janus, { request: 'leases' }));
    assert.equal(answered, false, 'practice_info was answered while the staff table was locked: it never reloaded');
  } finally {
    await held.run('ROLLBACK;', 'RELEASED');
    await held.close();
  }
  assert.equal(assertOk(await infoB).name, ctx.B.name);
});
