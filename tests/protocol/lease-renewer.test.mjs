// lease-renewer.test.mjs - with leases on, a practice stalled in the
// database longer than a lease does not make the instance give up its
// other practices: renewals run on a thread and a connection of their own
// (plugins/janus/leases.c, "the renewer") and never wait for a practice's
// lock, glue.lock or the timer's other work.
//
// Contract: runs when CONSULT_TEST_STORE is a postgresql:// URL (the
// protocol stages run behind scripts/lib/with-postgres); else skipped. The
// plugin (lease_seconds 3: renewal due after 1 s, service ends 2.25 s after
// the last renewal was sent; a schema of its own) serves practices A and
// B. A psql client holds A's waiting visit row FOR UPDATE, A's doctor's
// `call` waits for it inside PostgreSQL (pg_stat_activity) while holding
// A's practice lock, and with it the timer, which takes every practice's
// lock in turn. Until the plugin's lease clock (health now_ms) is three
// lease lengths past the start of the stall, every poll of `health` must
// list B under the same claim (since_ms) with a recent renewal
// (renew_age_ms below the safe time) and B's doctor must be answered.
// With renewals made by the timer, B's lease ran out after 2.25 s and B
// was given up (practice_elsewhere). After the rollback A's call is
// answered and A is still served under its first claim.
// Second test: a lease claim waiting in PostgreSQL stalls only the
// practice being claimed (and the timer): psql adds practice C with a
// lease of another instance ending in 2 s and holds that lease row FOR
// UPDATE; once it ends the timer's claim of C waits for the row
// (pg_stat_activity) while B's doctor and the admin API (health, stats)
// are answered. After the rollback C is claimed and served here. With the
// claim and its room's restore on glue.store under glue.lock (before the
// claims' drop mode), B's request waited for it: the 30 s reply deadline
// failed the test.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { useStack, assertOk, rand, sleep } from './helpers.mjs';
import { until } from './servers.mjs';
import { PSQL, psqlSession, adminWithin } from './stores.mjs';

const base = process.env.CONSULT_TEST_STORE || '';
const onPg = /^postgres(ql)?:\/\//.test(base);
const schema = `lrenew_${process.pid}_${rand(3)}`;
const url = `${base}${base.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
const psql = (sql) => execFileSync(PSQL, ['-X', '-q', '-A', '-t', '-d', url, '-c', sql], { encoding: 'utf8' }).trim();
const LEASE_MS = 3000;
const SAFE_MS = LEASE_MS - LEASE_MS / 4;

const ctx = onPg
  ? useStack({
    setup: async () => { execFileSync(PSQL, ['-X', '-q', '-d', base, '-c', `CREATE SCHEMA ${schema}`]); },
    janus: {
      extraPluginConfig: { database: url, store_connections: 3, instance: `renew-${rand(3)}`, lease_seconds: LEASE_MS / 1000 },
    },
  })
  : null;

const lease = async () => assertOk(await ctx.janus.admin({ request: 'health' })).lease;
const held = (l, id) => l.practices.find((p) => p.practice_id === id);

test('a practice stalled in PostgreSQL past the lease: the other practices\' leases are still renewed', { skip: !onPg && 'CONSULT_TEST_STORE is not a postgresql:// URL' }, async () => {
  ctx.secret(url, base);
  const docA = await ctx.login(ctx.A.doctors[0]);
  const recA = await ctx.login(ctx.A.receptions[0]);
  const docB = await ctx.login(ctx.B.doctors[0]);
  for (const h of [docA, recA, docB]) assertOk(h.reply);
  const pA = await ctx.patient(await ctx.appointment(recA.handle));
  assertOk(pA.reply);
  const A = ctx.A.practiceId, B = ctx.B.practiceId;
  let before = null;
  await until(async () => { before = await lease(); return held(before, A) && held(before, B); }, 20000, 'both practices served');
  const sinceA = held(before, A).since_ms, sinceB = held(before, B).since_ms;

  const rowLock = psqlSession(url);
  await rowLock.run(`BEGIN; SELECT id FROM visits WHERE id = ${Number(pA.reply.visit_id)} FOR UPDATE;`, 'LOCKED');
  let callA = null;
  let polls = 0;
  try {
    let answeredA = false;
    callA = docA.handle.request({ request: 'call', visit_id: pA.reply.visit_id }).then((r) => { answeredA = true; return r; });
    await until(() =>
      psql(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%visits%'`) !== '0',
    20000, 'A\'s visit write waiting for the row lock');
    const stallFrom = (await lease()).now_ms;
    for (;;) {
      const l = await lease();
      const b = held(l, B);
      assert.ok(b, `practice B given up ${l.now_ms - stallFrom} ms into A's stall: ${JSON.stringify(l.practices)}`);
      assert.equal(b.since_ms, sinceB, 'practice B was dropped and claimed again during A\'s stall');
      assert.ok(b.renew_age_ms < SAFE_MS, `B's lease not renewed for ${b.renew_age_ms} ms`);
      assertOk(await docB.handle.request({ request: 'waiting_list' }));
      polls++;
      if (l.now_ms - stallFrom > 3 * LEASE_MS) break;
      await sleep(100);
    }
    assert.equal(answeredA, false, 'A\'s call was answered while its row was held: it never waited');
  } finally {
    await rowLock.run('ROLLBACK;', 'RELEASED');
    await rowLock.close();
  }
  assertOk(await callA);
  await pA.handle.waitEvent('ringing');
  const after = await lease();
  assert.ok(held(after, A), 'A served after its stall');
  assert.equal(held(after, A).since_ms, sinceA, 'A was dropped and claimed again during its stall');
  assert.ok(polls >= 3, `only ${polls} polls during the stall`);
  assertOk(await docA.handle.request({ request: 'cancel_call' }));
});

test('a lease claim held in PostgreSQL stalls neither the other practices nor the admin API', { skip: !onPg && 'CONSULT_TEST_STORE is not a postgresql:// URL' }, async () => {
  ctx.secret(url, base);
  const docB = await ctx.login(ctx.B.doctors[0]);
  assertOk(docB.reply);
  const slugC = `praxis-c-${rand(3).toLowerCase()}`;
  const idC = `(SELECT id FROM practices WHERE slug = '${slugC}')`;
  const nowMs = '(extract(epoch from clock_timestamp()) * 1000)::bigint';
  const rowLock = psqlSession(url);
  await rowLock.run(`BEGIN; INSERT INTO practices(slug, name, created_at) VALUES ('${slugC}', 'Praxis C', 0);
    INSERT INTO leases(practice_id, holder, expires_at) VALUES (${idC}, 'elsewhere', ${nowMs} + 2000); COMMIT;
    BEGIN; SELECT practice_id FROM leases WHERE practice_id = ${idC} FOR UPDATE;`, 'LOCKED');
  const C = Number(psql(`SELECT id FROM practices WHERE slug = '${slugC}'`));
  try {
    await until(() =>
      psql(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO leases%'`) !== '0',
    20000, 'the claim of C waiting for its lease row');
    assertOk(await docB.handle.request({ request: 'waiting_list' }));
    const health = assertOk(await adminWithin(ctx.janus, { request: 'health' }));
    assert.ok(held(health.lease, ctx.B.practiceId), 'B still served');
    assert.ok(!held(health.lease, C), 'C served while its claim waits');
    assertOk(await adminWithin(ctx.janus, { request: 'stats' }));
  } finally {
    await rowLock.run('ROLLBACK;', 'RELEASED');
    await rowLock.close();
  }
  await until(async () => held(await lease(), C), 20000, 'C claimed once its row is free');
});
