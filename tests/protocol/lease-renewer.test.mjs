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
// Third test: failing renewals are counted and end the service. Claim and
// renewal are one upsert (store_leases.c), so the fault is a trigger on
// `leases` that raises for an UPDATE keeping the holder (a renewal, or this
// instance's claim of its own row) of a practice named in table
// renew_fault (psql inserts A's id to switch it on, deletes it to switch it
// off; each statement reads the flag anew). While it is on, health
// `store_errors` must rise in a reply that still lists A as served (only
// the renewer writes A's row then; without glue_leases_store_errors in the
// sum the first errors come from the timer's claims after A is dropped),
// B must stay served under its first claim (the fault is A's alone), and
// once A's safe time is over health no longer lists it, A's doctor's
// handle gets practice_moved (instance null) and a login about A answers
// practice_elsewhere. After the fault is off A is claimed anew (a later
// since_ms), a login is answered, and store_errors stays put over two
// renewals of A.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { useStack, assertError, assertOk, rand, sleep } from './helpers.mjs';
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

test('renewals that fail in PostgreSQL are counted in store_errors and end the service until a claim succeeds', { skip: !onPg && 'CONSULT_TEST_STORE is not a postgresql:// URL' }, async (t) => {
  ctx.secret(url, base);
  const A = ctx.A.practiceId, B = ctx.B.practiceId;
  const RENEW_MS = LEASE_MS / 3;
  psql(`CREATE TABLE ${schema}.renew_fault(practice_id BIGINT PRIMARY KEY);
    CREATE FUNCTION ${schema}.renew_fault_raise() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
      IF EXISTS (SELECT 1 FROM ${schema}.renew_fault WHERE practice_id = NEW.practice_id) THEN
        RAISE EXCEPTION 'lease renewal refused by the test';
      END IF;
      RETURN NEW;
    END $f$;
    CREATE TRIGGER renew_fault BEFORE UPDATE ON ${schema}.leases FOR EACH ROW
      WHEN (OLD.holder = NEW.holder) EXECUTE FUNCTION ${schema}.renew_fault_raise();`);
  const health = async () => assertOk(await ctx.janus.admin({ request: 'health' }));
  const docA = await ctx.login(ctx.A.doctors[0]);
  assertOk(docA.reply);
  let h = await until(async () => { const x = await health(); return held(x.lease, A) && held(x.lease, B) && x; }, 20000, 'A and B served');
  const sinceA = held(h.lease, A).since_ms, sinceB = held(h.lease, B).since_ms;
  const before = h.store_errors;
  let countedWhileServed = null, polls = 0;
  try {
    psql(`INSERT INTO ${schema}.renew_fault VALUES (${A})`);
    const end = Date.now() + 20000;
    for (;;) {
      assert.ok(Date.now() < end, 'A still served 20 s after its renewals began to fail');
      h = await health();
      polls++;
      const b = held(h.lease, B);
      assert.ok(b && b.since_ms === sinceB, `B not served under its first claim while A's renewals fail: ${JSON.stringify(h.lease.practices)}`);
      if (!held(h.lease, A)) break;
      if (h.store_errors > before) countedWhileServed = h.store_errors;
      await sleep(50);
    }
    assert.ok(countedWhileServed !== null,
      `A's safe time ended with no failed renewal counted in store_errors (${before} -> ${h.store_errors}, ${polls} polls)`);
    const moved = await docA.handle.waitEvent('practice_moved', { timeout: 20000 });
    assert.equal(moved.instance, null);
    const who = ctx.A.doctors[0];
    const refused = await (await ctx.connect()).handle.request({ request: 'login', username: who.username, password: who.password });
    assertError(refused, 'practice_elsewhere', 448);
    assert.equal(refused.instance, null);
    assert.ok(!held((await health()).lease, A), 'A served again while its claims fail');
  } finally {
    psql(`DELETE FROM ${schema}.renew_fault`);
  }
  h = await until(async () => { const x = await health(); const a = held(x.lease, A); return a && a.since_ms > sinceA && x; }, 20000, 'A claimed anew');
  const claimed = held(h.lease, A), after = h.store_errors;
  assert.ok(after > before);
  assertOk((await ctx.login(ctx.A.doctors[0])).reply);
  h = await until(async () => {
    const x = await health();
    const a = held(x.lease, A);
    assert.ok(a && a.since_ms === claimed.since_ms, `A dropped after the fault: ${JSON.stringify(x.lease.practices)}`);
    return a.until_ms - SAFE_MS >= claimed.since_ms + 2 * RENEW_MS && x; // its second renewal after the claim
  }, 20000, 'two renewals of A after its new claim');
  assert.equal(h.store_errors, after, 'store_errors still rising after the fault was switched off');
  t.diagnostic(`store_errors ${before}, up to ${countedWhileServed} while A was still served (${polls} polls), ${after} once claimed anew`);
});
