// login-instances.test.mjs - failed logins count once across the
// instances that share a store (plugins/janus/login_limits.c): guesses
// for one user name spread over instances A and B lock it on both after
// 5 in all, also with the right password; the lock survives a restart of
// an instance (its own count starts empty); reset_password lifts it for
// both; the store keeps no user name a guesser typed (SQLite: not in the
// database file or its WAL; both: a 32-byte key per row). A staff
// member disabled or given a new password through B is logged out of
// their live handle on A (which serves the practice) within seconds,
// with the reason B gives, and that handle is anonymous from then on.
//
// Runs on SQLite and, when CONSULT_TEST_STORE is a postgresql:// URL
// (scripts/lib/with-postgres), once more on a fresh PostgreSQL schema.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startJanus } from '../../scripts/lib/janus.mjs';
import { connectHandle } from '../../scripts/lib/client.mjs';
import { seedPractice } from '../../scripts/lib/seed.mjs';
import { assertError, assertOk, rand } from './helpers.mjs';
import { until } from './servers.mjs';
import { STORES, closeInstances, testStore } from './stores.mjs';

async function stack(t, store) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-limits-'));
  const db = testStore(store, dataDir, 'limits');
  const s = { db, dataDir, clients: [], secrets: [...db.secrets], logs: [], instances: [] };
  t.after(async () => {
    await closeInstances(s);
    fs.rmSync(dataDir, { recursive: true, force: true });
    db.drop();
  });
  const base = { dataDir, codeSecret: crypto.randomBytes(32).toString('hex'), graceSeconds: 120 };
  const tag = rand(3);
  s.names = { a: `lim-a-${tag}`, b: `lim-b-${tag}` };
  s.A = await startJanus({ ...base, extraPluginConfig: { ...db.config, instance: s.names.a, lease_seconds: 6 } });
  s.instances.push(s.A);
  s.password = `Pw-${rand(8)}`;
  s.secrets.push(s.password);
  s.P = await seedPractice(s.A, {
    slug: `praxis-lim-${tag}`, name: 'Praxis Grenze', phone: '0721 1',
    doctors: [
      { username: `dr.grenze.${tag}`, display_name: 'Dr. Grenze', password: s.password },
      { username: `dr.zweite.${tag}`, display_name: 'Dr. Zweite', password: s.password },
    ],
    receptions: [{ username: `empfang.${tag}`, display_name: 'Empfang', password: s.password }],
  });
  const held = async () => assertOk(await s.A.admin({ request: 'health' })).lease.practices.map((p) => p.practice_id);
  await until(async () => (await held()).includes(s.P.practiceId), 20000, 'A serves the practice');
  s.B = await startJanus({ ...base, extraPluginConfig: { ...db.config, instance: s.names.b, lease_seconds: 6 } });
  s.instances.push(s.B);
  /** One login on a fresh handle of janus: the reply (and the handle as s.last). */
  s.login = async (janus, username, password) => {
    const c = await connectHandle(janus.wsUrl);
    s.clients.push(c.client);
    s.last = c.handle;
    return c.handle.request({ request: 'login', username, password });
  };
  return s;
}

for (const store of STORES) {
  test(`${store}: 5 wrong passwords spread over two instances lock the user name on both, across a restart, until reset_password`, async (t) => {
    const s = await stack(t, store);
    const user = s.P.doctors[0].username;
    const wrong = (i) => `falsch-${i}-${rand(4)}`;
    // 2 on A, 2 on B: nobody is locked yet
    for (const [janus, i] of [[s.A, 0], [s.B, 1], [s.A, 2], [s.B, 3]])
      assertError(await s.login(janus, user, wrong(i)), 'login_failed', 420);
    assertOk(await s.login(s.A, user, s.password)); // a success clears the key everywhere
    for (const [janus, i] of [[s.A, 4], [s.B, 5], [s.A, 6], [s.B, 7]])
      assertError(await s.login(janus, user, wrong(i)), 'login_failed', 420);
    // the 5th failure since the success, on B: each instance saw only 2 or 3
    assertError(await s.login(s.B, user, wrong(8)), 'login_failed', 420);
    for (const janus of [s.A, s.B]) {
      const r = await s.login(janus, user, s.password);
      assertError(r, 'rate_limited', 421);
      assert.ok(Number.isInteger(r.retry_after) && r.retry_after >= 1 && r.retry_after <= 60, JSON.stringify(r));
    }

    // B restarts: its own count is empty, the store's lock holds
    await s.B.kill('SIGTERM');
    await s.B.restart();
    assertError(await s.login(s.B, user, s.password), 'rate_limited', 421);

    // reset_password lifts it for both instances
    const fresh = `Pw-${rand(8)}`;
    s.secrets.push(fresh);
    assertOk(await s.A.admin({ request: 'reset_password', username: user, password: fresh }));
    const onB = await s.login(s.B, user, fresh);
    assertError(onB, 'practice_elsewhere', 448); // right password: B does not serve it
    assert.equal(onB.instance, s.names.a);
    assertOk(await s.login(s.A, user, fresh));
  });

  test(`${store}: the shared count keeps no user name a guesser typed`, async (t) => {
    const s = await stack(t, store);
    const typed = `geheim.${rand(10).toLowerCase()}`; // e.g. a password typed into the user name field
    s.secrets.push(typed);
    assertError(await s.login(s.A, typed, `x-${rand(4)}`), 'login_failed', 420);
    assertError(await s.login(s.B, typed, `x-${rand(4)}`), 'login_failed', 420);
    const rows = s.db.query('SELECT length(key) AS n, failures FROM login_limits');
    assert.deepEqual(rows, [{ n: 32, failures: 2 }], 'one row: the key digest, both failures counted');
    if (store === 'sqlite') {
      const files = fs.readdirSync(s.dataDir).filter((f) => f.startsWith('consult.sqlite'));
      assert.ok(files.includes('consult.sqlite'), files.join(','));
      for (const f of files)
        assert.equal(fs.readFileSync(path.join(s.dataDir, f)).includes(typed), false, `${f} holds the typed user name`);
    }
  });
}

for (const store of STORES) {
  test(`${store}: set_disabled and reset_password sent to B log the member's live handle on A out`, async (t) => {
    const s = await stack(t, store);
    const [one, two] = s.P.doctors;
    assertOk(await s.login(s.A, one.username, s.password));
    const first = s.last;
    assertOk(await s.login(s.A, two.username, s.password));
    const second = s.last;
    assertOk(await s.login(s.A, s.P.receptions[0].username, s.password));
    const reception = s.last;

    assertOk(await s.B.admin({ request: 'set_disabled', username: one.username, disabled: true }));
    const out1 = await first.waitEvent('logged_out', { timeout: 30000 });
    assert.equal(out1.reason, 'disabled');
    const fresh = `Pw-${rand(8)}`;
    s.secrets.push(fresh);
    assertOk(await s.B.admin({ request: 'reset_password', username: two.username, password: fresh }));
    const out2 = await second.waitEvent('logged_out', { timeout: 30000 });
    assert.equal(out2.reason, 'password_reset');

    // both handles are anonymous now; the reception's login is untouched
    for (const h of [first, second]) {
      const r = await h.request({ request: 'touch' });
      assert.equal(r.ok, false, JSON.stringify(r));
    }
    assertOk(await reception.request({ request: 'touch' }));
    assert.equal(reception.events.filter((e) => e.consult === 'logged_out' || e.event === 'logged_out').length, 0);
    // and the new password works on A, the old one nowhere
    assertOk(await s.login(s.A, two.username, fresh));
    assertError(await s.login(s.A, two.username, s.password), 'login_failed', 420);
  });
}
