// postgres.test.mjs - the plugin on PostgreSQL: the real Janus loading the
// plugin with `database` a postgresql:// URL serves a staff login, an
// appointment and a patient's join, and what it stored is in PostgreSQL.
//
// Contract: runs when CONSULT_TEST_STORE is a postgresql:// URL (the
// protocol stages of scripts/test run behind scripts/lib/with-postgres,
// which starts a throw-away postgresql-15); else its one test is skipped.
// The plugin gets a schema of its own in that database (psql CREATE
// SCHEMA; the URL selects it as search_path) and the URL is registered as
// a secret: it must not appear in the Janus log (a URL may hold a password).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { useStack, assertOk, rand } from './helpers.mjs';

const base = process.env.CONSULT_TEST_STORE || '';
const onPg = /^postgres(ql)?:\/\//.test(base);
const psqlBin = ['/usr/lib/postgresql/15/bin/psql', '/usr/bin/psql'].find((p) => fs.existsSync(p));
const schema = `proto_${process.pid}_${rand(3)}`;
const url = `${base}${base.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
const psql = (u, sql) => execFileSync(psqlBin, ['-X', '-q', '-A', '-t', '-d', u, '-c', sql], { encoding: 'utf8' }).trim();

const ctx = onPg
  ? useStack({
    setup: async () => { psql(base, `CREATE SCHEMA ${schema}`); },
    janus: { extraPluginConfig: { database: url } },
  })
  : null;

test('on PostgreSQL: login, appointment and a patient join; the rows are in PostgreSQL', { skip: !onPg && 'CONSULT_TEST_STORE is not a postgresql:// URL' }, async () => {
  ctx.secret(url, base);
  const rec = await ctx.login(ctx.A.receptions[0]);
  assertOk(rec.reply);
  const doc = await ctx.login(ctx.A.doctors[0]);
  assertOk(doc.reply);
  await doc.handle.waitEvent('waiting');
  const appt = await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[0].id });
  const p = await ctx.patient(appt);
  assertOk(p.reply);
  assert.equal(p.reply.ahead, 0);
  await doc.handle.waitEvent('patient_arrived', { filter: (e) => e.visit_id === p.reply.visit_id });
  const list = assertOk(await doc.handle.request({ request: 'waiting_list' }));
  assert.ok(list.visits.some((v) => v.visit_id === p.reply.visit_id));
  // what the plugin stored is in PostgreSQL (the plugin's schema), not in a file
  assert.equal(psql(url, `SELECT state FROM visits WHERE id = ${Number(p.reply.visit_id)}`), 'waiting');
  assert.equal(psql(url, 'SELECT count(*) FROM staff'), '5');
  assert.ok(!fs.existsSync(`${ctx.janus.dataDir}/consult.sqlite`), 'no SQLite file next to the configuration');
  assert.match(ctx.janus.log(), /\[consult\] store: PostgreSQL/);
  assertOk(await p.handle.request({ request: 'leave' }));
});
