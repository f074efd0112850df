// failover.test.mjs - several instances on one store (leases): two real
// Janus processes with different `instance` names share one SQLite file
// (WAL, busy_timeout). Each practice is served by one of them: the other
// answers practice_elsewhere (448) with the holder's name and changes
// nothing; when the holder is SIGKILLed the other takes its practices over
// once their leases expire, restores their waiting rooms from the store
// and the patients re-join with their codes on the same visits in the same
// order; the survivor keeps what a join claimed while its timer held lease
// rows read before (they must not make it drop the practice again). With the holder's renewals made slow (CONSULT_TEST_LEASE_RENEW_DELAY_MS,
// test-only) both instances' `health` is polled throughout: no practice is
// ever served by both at once.
//
// Every test runs on SQLite and, when CONSULT_TEST_STORE is a postgresql://
// URL (scripts/lib/with-postgres), once more with both instances on one
// fresh PostgreSQL schema of their own (as postgres.test.mjs does it): only
// where the store lives differs. The URL is a secret (kept out of the logs).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { REPO, startJanus } from '../../scripts/lib/janus.mjs';
import { connectHandle } from '../../scripts/lib/client.mjs';
import { seedPractice } from '../../scripts/lib/seed.mjs';
import { assertError, assertOk, now, rand, uniqueName } from './helpers.mjs';
import { until } from './servers.mjs';
import { STORES, closeInstances, testStore } from './stores.mjs';

// Lease seconds: 6 where the holder must keep its practices on a busy
// machine (a timer stalled past the safe time would hand them over early);
// 3, the shortest allowed, where slow renewals are the point.
const LEASE = 6;
const SHORT = 3;


/** Two instances A and B on one database (the same code secret). */
async function pair(t, store, envA = {}, lease = LEASE) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-lease-'));
  const db = testStore(store, dataDir, 'failover');
  const base = {
    dataDir, codeSecret: crypto.randomBytes(32).toString('hex'), graceSeconds: 120,
    publicUrl: 'https://praxis.example',
  };
  const tag = rand(3);
  const names = { a: `inst-a-${tag}`, b: `inst-b-${tag}` };
  const s = { clients: [], secrets: [...db.secrets], logs: [], dataDir, names };
  // registered first: an instance started below is stopped whatever fails
  t.after(async () => {
    await closeInstances({ ...s, instances: [s.A, s.B] });
    fs.rmSync(dataDir, { recursive: true, force: true });
    db.drop();
  });
  s.A = await startJanus({ ...base, env: { CONSULT_TEST: '1', ...envA },
    extraPluginConfig: { ...db.config, instance: names.a, lease_seconds: lease } });
  assert.match(s.A.log(), db.logged);
  s.startB = async (envB = {}) => {
    s.B = await startJanus({ ...base, env: { CONSULT_TEST: '1', ...envB }, extraPluginConfig: { ...db.config, instance: names.b, lease_seconds: lease } });
    assert.match(s.B.log(), db.logged);
    return s.B;
  };
  s.connect = async (janus) => {
    const c = await connectHandle(janus.wsUrl);
    s.clients.push(c.client);
    return c;
  };
  s.login = async (janus, who) => {
    const c = await s.connect(janus);
    c.reply = await c.handle.request({ request: 'login', username: who.username, password: who.password });
    return c;
  };
  s.join = async (janus, practice, appt) => {
    const c = await s.connect(janus);
    c.reply = await c.handle.request({
      request: 'join', practice: practice.slug, code: appt.code, first_name: appt.first, last_name: appt.last,
      accept_terms: true,
    });
    return c;
  };
  s.db = db.query;
  s.held = async (janus) => {
    const h = assertOk(await janus.admin({ request: 'health' }));
    return h.lease.practices.map((p) => p.practice_id).sort((x, y) => x - y);
  };
  s.practice = async (janus, name) => {
    const pw = () => `Pw-${rand(8)}`;
    const t2 = rand(3);
    return seedPractice(janus, {
      slug: `praxis-${name}-${t2}`, name: `Praxis ${name}`, phone: '0721 1',
      doctors: [{ username: `dr.${name}.${t2}`, display_name: `Dr. ${name}`, password: pw() }],
      receptions: [{ username: `empfang.${name}.${t2}`, display_name: 'Empfang', password: pw() }],
    });
  };
  return s;
}

for (const store of STORES) {
  test(`${store}: A is killed: B serves both practices after the lease, patients keep visit and place; before, B answers practice_elsewhere`, async (t) => {
    const s = await pair(t, store);
    const P = await s.practice(s.A, 'eins');
    const Q = await s.practice(s.A, 'zwei');
    const ids = [P.practiceId, Q.practiceId].sort((x, y) => x - y);
    await until(async () => JSON.stringify(await s.held(s.A)) === JSON.stringify(ids), 20000, 'A serves both practices');
    await s.startB();
    assert.deepEqual(await s.held(s.B), []);
    const leases = assertOk(await s.B.admin({ request: 'leases' }));
    assert.equal(leases.instance, s.names.b);
    assert.deepEqual(leases.leases.map((l) => [l.practice, l.holder, l.expired]).sort(),
      [[P.slug, s.names.a, false], [Q.slug, s.names.a, false]].sort());

    // Patients of both practices wait on A (two each, in join order).
    const at = now() + 600;
    const waiting = new Map();
    for (const pr of [P, Q]) {
      const rec = await s.login(s.A, pr.receptions[0]);
      assertOk(rec.reply);
      const list = [];
      for (let i = 0; i < 2; i++) {
        const appt = assertOk(await rec.handle.request({ request: 'create_appointment', starts_at: at }));
        appt.first = uniqueName('Eri');
        appt.last = uniqueName('Mus');
        s.secrets.push(appt.code, appt.code.replace(/-/g, ''), appt.first, appt.last);
        const p = await s.join(s.A, pr, appt);
        assertOk(p.reply);
        assert.equal(p.reply.ahead, i);
        list.push({ appt, page: p, visit_id: p.reply.visit_id });
      }
      waiting.set(pr.slug, list);
    }

    // B serves neither: join, login and resume answer practice_elsewhere
    // with A's name, and nothing changes (no visit, no session, A untouched).
    const docOnA = await s.login(s.A, P.doctors[0]);
    assertOk(docOnA.reply);
    const visitsBefore = s.db('SELECT id, state FROM visits ORDER BY id');
    assert.equal(visitsBefore.length, 4, 'the store holds the four visits');
    const sessionsBefore = s.db('SELECT count(*) AS n FROM staff_sessions')[0].n;
    const first = waiting.get(P.slug)[0];
    const elsewhere = await s.join(s.B, P, first.appt);
    assertError(elsewhere.reply, 'practice_elsewhere', 448);
    assert.equal(elsewhere.reply.instance, s.names.a);
    const docOnB = await s.login(s.B, Q.doctors[0]);
    assertError(docOnB.reply, 'practice_elsewhere', 448);
    assert.equal(docOnB.reply.instance, s.names.a);
    const resumeOnB = await s.connect(s.B);
    assertError(await resumeOnB.handle.request({ request: 'resume', session_token: docOnA.reply.session_token }),
      'practice_elsewhere', 448);
    assert.deepEqual(s.db('SELECT id, state FROM visits ORDER BY id'), visitsBefore);
    assert.equal(s.db('SELECT count(*) AS n FROM staff_sessions')[0].n, sessionsBefore);
    await first.page.handle.sync();
    assert.deepEqual(first.page.handle.pending('taken_over'), [], 'the patient on A was not disturbed');
    assert.deepEqual(await s.held(s.B), []);

    // A dies. B claims both practices after their leases expire and restores them.
    const killedAt = Date.now();
    process.kill(s.A.pid, 'SIGKILL');
    await s.A.stop();
    await until(async () => JSON.stringify(await s.held(s.B)) === JSON.stringify(ids), 20000, 'B serves both practices');
    t.diagnostic(`B serves both practices ${Date.now() - killedAt} ms after the kill (lease ${LEASE} s)`);
    const after = assertOk(await s.B.admin({ request: 'leases' }));
    assert.deepEqual(after.leases.map((l) => l.holder), [s.names.b, s.names.b]);
    // the operator's view: consult-admin leases names the holder of each practice
    const shown = execFileSync(process.execPath, [path.join(REPO, 'scripts/consult-admin'), '--url', s.B.adminUrl, 'leases'],
      { encoding: 'utf8', env: { ...process.env, CONSULT_ADMIN_SECRET: s.B.adminSecret } });
    for (const pr of [P, Q]) assert.match(shown, new RegExp(`^${pr.slug}\\s+${s.names.b}\\s+held\\s`, 'm'));

    // Every patient re-joins on B with the code: the same visit, the same place.
    for (const pr of [P, Q]) {
      const list = waiting.get(pr.slug);
      for (let i = 0; i < list.length; i++) {
        const again = await s.join(s.B, pr, list[i].appt);
        assertOk(again.reply);
        assert.equal(again.reply.visit_id, list[i].visit_id);
        assert.equal(again.reply.resumed, true);
        assert.equal(again.reply.ahead, i);
      }
      const doc = await s.login(s.B, pr.doctors[0]);
      assertOk(doc.reply);
      const wl = assertOk(await doc.handle.request({ request: 'waiting_list' }));
      assert.deepEqual(wl.visits.map((v) => v.visit_id), list.map((w) => w.visit_id));
    }
    // nothing ended on the way: the same live visits as before the kill
    assert.deepEqual(s.db('SELECT id, state FROM visits ORDER BY id').map((v) => [v.id, v.state]),
      visitsBefore.map((v) => [v.id, 'waiting']));
  });

  test(`${store}: slow renewals on A: a practice is never served by A and B at once (health polled on both)`, async (t) => {
    // A renews late: each renewal lands after its safe time (lease 3 s,
    // margin 750 ms, renewal due after 1 s, delayed 2.6 s), so A gives its
    // practices up and B takes them over; they may flap back and forth.
    const s = await pair(t, store, { CONSULT_TEST_LEASE_RENEW_DELAY_MS: '2600' }, SHORT);
    const P = await s.practice(s.A, 'drei');
    const Q = await s.practice(s.A, 'vier');
    const ids = [P.practiceId, Q.practiceId].sort((x, y) => x - y);
    const spans = new Map(); // "instance/practice/since" -> {inst, practice, since, until}
    const poll = async (janus, inst) => {
      const h = assertOk(await janus.admin({ request: 'health' }));
      assert.equal(h.lease.instance, s.names[inst]);
      for (const p of h.lease.practices) {
        assert.ok(p.since_ms <= h.lease.now_ms && h.lease.now_ms < p.until_ms, JSON.stringify(p));
        const key = `${inst}/${p.practice_id}/${p.since_ms}`;
        const old = spans.get(key);
        spans.set(key, { inst, practice: p.practice_id, since: p.since_ms, until: Math.max(p.until_ms, old ? old.until : 0) });
      }
    };
    // A alone is polled until it has been seen serving each practice (its
    // service comes in short spans: each renewal lands too late); then B
    // starts while A is polled, then both, until B has served both
    // practices for a while (and at least three lease lengths in all).
    const servedByA = () => ids.every((id) => [...spans.values()].some((x) => x.inst === 'a' && x.practice === id));
    let bUp = null;
    const start = Date.now();
    let bSteady = 0;
    while (Date.now() - start < 90000) {
      await Promise.all([poll(s.A, 'a'), s.B ? poll(s.B, 'b') : null]);
      if (!bUp && servedByA()) bUp = s.startB();
      if (!s.B) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const b = await s.held(s.B);
      bSteady = JSON.stringify(b) === JSON.stringify(ids) ? bSteady + 1 : 0;
      if (Date.now() - start > 3 * SHORT * 1000 && bSteady >= 20) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(bUp, `A never seen serving both practices: ${JSON.stringify([...spans.values()])}`);
    await bUp;
    assert.ok(bSteady >= 20, 'B serves both practices in the end');
    const all = [...spans.values()];
    for (const id of ids) {
      const a = all.filter((x) => x.practice === id && x.inst === 'a');
      const b = all.filter((x) => x.practice === id && x.inst === 'b');
      for (const x of a) {
        for (const y of b) {
          assert.ok(x.until <= y.since || y.until <= x.since,
            `practice ${id} served by A ${x.since}..${x.until} and by B ${y.since}..${y.until} at once`);
        }
      }
    }
    // the run showed handovers: a practice served by A, then by B
    assert.ok(ids.some((id) => all.some((x) => x.practice === id && x.inst === 'a') &&
      all.some((x) => x.practice === id && x.inst === 'b')), `no handover seen: ${JSON.stringify(all)}`);
    t.diagnostic(`${all.length} spans of service seen: ${all.filter((x) => x.inst === 'a').length} on A, ${all.filter((x) => x.inst === 'b').length} on B`);
    // A gave up at least one practice because its renewal came too late
    assert.match(s.A.log(), /no longer served here/);
  });

  test(`${store}: A stopped past its lease (SIGSTOP): B takes over; A, running again, tells its handles practice_moved and refuses`, async (t) => {
    const s = await pair(t, store);
    t.after(() => { try { process.kill(s.A.pid, 'SIGCONT'); } catch { /* gone */ } });
    const P = await s.practice(s.A, 'fuenf');
    await until(async () => (await s.held(s.A)).includes(P.practiceId), 20000, 'A serves the practice');
    await s.startB();
    const rec = await s.login(s.A, P.receptions[0]);
    assertOk(rec.reply);
    const appt = assertOk(await rec.handle.request({ request: 'create_appointment', starts_at: now() + 600 }));
    appt.first = uniqueName('Eri');
    appt.last = uniqueName('Mus');
    s.secrets.push(appt.code, appt.code.replace(/-/g, ''), appt.first, appt.last);
    const page = await s.join(s.A, P, appt);
    assertOk(page.reply);

    process.kill(s.A.pid, 'SIGSTOP');
    await until(async () => (await s.held(s.B)).includes(P.practiceId), 20000, 'B serves the practice');
    process.kill(s.A.pid, 'SIGCONT');
    // A's handles learn that the practice moved, and to which instance
    const moved = await page.handle.waitEvent('practice_moved', { timeout: 20000 });
    assert.equal(moved.instance, s.names.b);
    const recMoved = await rec.handle.waitEvent('practice_moved', { timeout: 20000 });
    assert.equal(recMoved.instance, s.names.b);
    assert.deepEqual(await s.held(s.A), []);
    // the handle is anonymous again: joining on A is refused with B's name
    const again = await page.handle.request({
      request: 'join', practice: P.slug, code: appt.code, first_name: appt.first, last_name: appt.last, accept_terms: true,
    });
    assertError(again, 'practice_elsewhere', 448);
    assert.equal(again.instance, s.names.b);
    // on B the patient keeps the visit
    const onB = await s.join(s.B, P, appt);
    assertOk(onB.reply);
    assert.equal(onB.reply.visit_id, page.reply.visit_id);
    assert.equal(onB.reply.resumed, true);
    assert.deepEqual(s.db(`SELECT state FROM visits WHERE id = ${page.reply.visit_id}`), [{ state: 'waiting' }]);
  });

  test(`${store}: a join claims a practice while B's timer holds rows read before: B keeps serving it, the patient is not moved`, async (t) => {
    // B's timer waits 4 s between reading the lease rows and acting on
    // them (a busy lock); its ticks follow each other closely, so nearly
    // any moment lies between a read and its action. The patient joins as
    // soon as A's lease of P is over: the rows the timer acts on next still
    // name A as P's holder.
    const lease = 15; // B's first renewal of P comes within 4 s + 5 s of the join, its safe time is 11.25 s
    const s = await pair(t, store, {}, lease);
    const P = await s.practice(s.A, 'sechs');
    await until(async () => (await s.held(s.A)).includes(P.practiceId), 20000, 'A serves P');
    const rec = await s.login(s.A, P.receptions[0]);
    assertOk(rec.reply);
    const appt = assertOk(await rec.handle.request({ request: 'create_appointment', starts_at: now() + 600 }));
    appt.first = uniqueName('Eri');
    appt.last = uniqueName('Mus');
    s.secrets.push(appt.code, appt.code.replace(/-/g, ''), appt.first, appt.last);
    const onA = await s.join(s.A, P, appt);
    assertOk(onA.reply);
    await s.startB({ CONSULT_TEST_LEASE_READ_DELAY_MS: '4000' });
    process.kill(s.A.pid, 'SIGKILL');
    await s.A.stop();
    const page = await s.connect(s.B);
    const joinP = () => page.handle.request({
      request: 'join', practice: P.slug, code: appt.code, first_name: appt.first, last_name: appt.last, accept_terms: true,
    });
    // as soon as A's lease of P is over (admin `leases`, polled), the join claims P
    const end = Date.now() + 30000;
    for (;;) {
      const row = assertOk(await s.B.admin({ request: 'leases' })).leases.find((x) => x.practice_id === P.practiceId);
      if (row.expired || Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(!(await s.held(s.B)).includes(P.practiceId), "B's timer has not claimed P before the join");
    const reply = await joinP();
    assertOk(reply);
    assert.equal(reply.visit_id, onA.reply.visit_id);
    const mineP = async () => assertOk(await s.B.admin({ request: 'health' })).lease.practices.find((p) => p.practice_id === P.practiceId);
    const claimed = await mineP();
    assert.ok(claimed, 'the join claimed P');
    // until B renewed P after the join (the timer acted on the old rows
    // before that), or lost it
    await until(async () => {
      const p = await mineP();
      return !p || p.since_ms !== claimed.since_ms || p.until_ms - lease * 750 > claimed.since_ms; // renewal sent after the claim
    }, 30000, 'a renewal of P after the join');
    await page.handle.sync();
    assert.deepEqual(page.handle.pending('practice_moved'), [], 'the patient was told practice_moved');
    const still = await mineP();
    assert.equal(still && still.since_ms, claimed.since_ms, 'B serves P from the same claim');
  });
}
