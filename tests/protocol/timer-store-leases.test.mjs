// timer-store-leases.test.mjs - with leases on, the timer reads and renews
// them without the plugin's lock: while its read of the lease rows waits
// for the database, requests and Janus' callbacks are still answered.
//
// Contract: runs when CONSULT_TEST_STORE is a postgresql:// URL (the
// protocol stages run behind scripts/lib/with-postgres); else skipped. The
// plugin (lease_seconds 6, a schema of its own) serves practice A; a psql
// session holds an exclusive lock on that schema's `leases` table; once
// the plugin's timer waits for it (pg_locks), a doctor's waiting_list and
// the admin API's handle_info (Janus' query_session callback) must be
// answered while the lock is still held (within 15 s each; the answer may
// be practice_elsewhere once the lease's safe time is over: the instance
// could not renew). Then the lock is given up and the practice is served
// again.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { useStack, assertOk, rand, sleep } from './helpers.mjs';

const base = process.env.CONSULT_TEST_STORE || '';
const onPg = /^postgres(ql)?:\/\//.test(base);
const psqlBin = ['/usr/lib/postgresql/15/bin/psql', '/usr/bin/psql'].find((p) => fs.existsSync(p));
const schema = `tleases_${process.pid}_${rand(3)}`;
const url = `${base}${base.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
const psql = (sql) => execFileSync(psqlBin, ['-X', '-q', '-A', '-t', '-d', url, '-c', sql], { encoding: 'utf8' }).trim();

const ctx = onPg
  ? useStack({
    setup: async () => { psql(`CREATE SCHEMA ${schema}`); },
    janus: { extraPluginConfig: { database: url, instance: `inst-${rand(3)}`, lease_seconds: 6 } },
  })
  : null;

const within = (p, what) => {
  let t;
  const bound = new Promise((resolve, reject) => { t = setTimeout(() => reject(new Error(`${what} not answered while the lease read waits`)), 15000); });
  return Promise.race([p, bound]).finally(() => clearTimeout(t));
};

test('requests and callbacks are answered while the lease read waits for the database', { skip: !onPg && 'CONSULT_TEST_STORE is not a postgresql:// URL', timeout: 120000 }, async () => {
  ctx.secret(url, base);
  const doc = await ctx.login(ctx.A.doctors[0]);
  assertOk(doc.reply);
  const holder = spawn(psqlBin, ['-X', '-q', '-d', url], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  holder.stdout.on('data', (b) => { out += b; });
  holder.stderr.on('data', (b) => { out += b; });
  const gone = new Promise((r) => holder.on('exit', r));
  holder.stdin.write(`BEGIN;\nLOCK TABLE ${schema}.leases IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n`);
  try {
    while (!/locked/.test(out)) {
      assert.equal(holder.exitCode, null, `psql ended: ${out}`);
      await sleep(20);
    }
    const waiting = `SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = '${schema}.leases'::regclass`;
    while (Number(psql(waiting)) === 0) await sleep(100);
    const list = await within(doc.handle.request({ request: 'waiting_list' }), 'waiting_list');
    assert.ok(list.ok === true || list.error === 'practice_elsewhere', JSON.stringify(list));
    const info = await within(ctx.janus.adminRaw({ janus: 'handle_info', session_id: doc.client.sessionId, handle_id: doc.handle.id, admin_secret: ctx.janus.adminSecret, transaction: `t${rand()}` }), 'handle_info');
    assert.equal(info.json?.janus, 'success');
    assert.ok(Number(psql(waiting)) > 0, 'the lease read still waited meanwhile');
  } finally {
    holder.stdin.end('ROLLBACK;\n');
    await gone;
  }
  // served again: a new login of the practice's doctor is answered ok
  for (;;) {
    const again = await ctx.login(ctx.A.doctors[0]);
    if (again.reply.ok) break;
    assert.equal(again.reply.error, 'practice_elsewhere', JSON.stringify(again.reply));
    await sleep(200);
  }
});
