// timer-store.test.mjs - the timer's periodic store work does not hold the
// plugin's lock: while the heartbeat waits for the database, requests of
// every handle are still answered and Janus' callbacks still return.
//
// Contract: runs when CONSULT_TEST_STORE is a postgresql:// URL (the
// protocol stages run behind scripts/lib/with-postgres); else skipped. The
// plugin gets a schema of its own. A psql session holds an exclusive lock
// on that schema's `lifecycle` table (the heartbeat's row, which no request
// touches); the test waits until the plugin's heartbeat waits for that
// lock (pg_locks), then a doctor's waiting_list, a patient's join and the
// admin API's handle_info (Janus' query_session callback) must be answered
// while the lock is still held (within 15 s each: a request that waited for
// the plugin's lock would wait until the test gives the table up). Then the lock is given up and the
// heartbeat's time is seen to move on.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { useStack, assertOk, rand, sleep } from './helpers.mjs';

const base = process.env.CONSULT_TEST_STORE || '';
const onPg = /^postgres(ql)?:\/\//.test(base);
const psqlBin = ['/usr/lib/postgresql/15/bin/psql', '/usr/bin/psql'].find((p) => fs.existsSync(p));
const schema = `timer_${process.pid}_${rand(3)}`;
const url = `${base}${base.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
const psql = (sql) => execFileSync(psqlBin, ['-X', '-q', '-A', '-t', '-d', url, '-c', sql], { encoding: 'utf8' }).trim();

const ctx = onPg
  ? useStack({
    setup: async () => { psql(`CREATE SCHEMA ${schema}`); },
    janus: { extraPluginConfig: { database: url } },
  })
  : null;

// p's value; rejects if p takes longer than a generous bound (a request
// that waits for the lock would wait until the lock is given up).
const within = (p, what) => {
  let t;
  const bound = new Promise((resolve, reject) => { t = setTimeout(() => reject(new Error(`${what} not answered while the heartbeat waits`)), 15000); });
  return Promise.race([p, bound]).finally(() => clearTimeout(t));
};

test('requests and callbacks are answered while the heartbeat waits for the database', { skip: !onPg && 'CONSULT_TEST_STORE is not a postgresql:// URL', timeout: 120000 }, async () => {
  ctx.secret(url, base);
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[0]);
  const appt = await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[0].id });
  const aliveBefore = Number(psql('SELECT max(alive_at) FROM lifecycle') || 0);

  // hold the heartbeat's table in a transaction of our own
  const holder = spawn(psqlBin, ['-X', '-q', '-d', url], { stdio: ['pipe', 'pipe', 'pipe'] });
  let holderOut = '';
  holder.stdout.on('data', (b) => { holderOut += b; });
  holder.stderr.on('data', (b) => { holderOut += b; });
  const holderGone = new Promise((r) => holder.on('exit', r));
  holder.stdin.write(`BEGIN;\nLOCK TABLE ${schema}.lifecycle IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n`);
  try {
    for (;;) { // the lock is ours
      if (/locked/.test(holderOut)) break;
      assert.equal(holder.exitCode, null, `psql ended: ${holderOut}`);
      await sleep(20);
    }
    // the plugin's heartbeat (every 5 s) now waits for it
    const waiting = `SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = '${schema}.lifecycle'::regclass`;
    for (;;) {
      if (Number(psql(waiting)) > 0) break;
      await sleep(100);
    }
    // while it waits, everything else is answered (before the lock is given up)
    assertOk(await within(doc.handle.request({ request: 'waiting_list' }), 'waiting_list'));
    const p = await within(ctx.patient(appt), 'join');
    assertOk(p.reply);
    const info = await within(ctx.janus.adminRaw({ janus: 'handle_info', session_id: doc.client.sessionId, handle_id: doc.handle.id, admin_secret: ctx.janus.adminSecret, transaction: `t${rand()}` }), 'handle_info');
    assert.equal(info.json?.janus, 'success');
    assert.equal(typeof info.json.info?.plugin_specific?.kind, 'string');
    assert.ok(Number(psql(waiting)) > 0, 'the heartbeat still waited meanwhile');
  } finally {
    holder.stdin.end('ROLLBACK;\n');
    await holderGone;
  }
  // the heartbeat went through once the lock was given up
  for (;;) {
    if (Number(psql('SELECT max(alive_at) FROM lifecycle') || 0) > aliveBefore) break;
    await sleep(100);
  }
  const health = await ctx.janus.admin({ request: 'health' });
  assert.equal(health.store, 'ok');
});
