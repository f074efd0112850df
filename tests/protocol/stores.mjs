// stores.mjs - the stores a multi-instance protocol test runs on, and a
// fresh, private place in each for one test.
//
// Contract: STORES is ['sqlite'] plus 'postgresql' when CONSULT_TEST_STORE
// is a postgresql:// URL (scripts/lib/with-postgres). testStore(kind,
// dataDir, prefix) -> {config, secrets, logged, query(sql) -> rows,
// exec(sql) -> text, drop()}:
// - sqlite: the instances' SQLite file in dataDir (config {}: the default);
//   query/exec through the sqlite3 shell (waiting up to 5 s for a lock).
// - postgresql: a new schema <prefix>_<pid>_<random> in that database,
//   chosen by the URL's search_path (config {database}); query/exec
//   through psql; drop() removes the schema and everything in it.
// query gives the same rows on both: an array of objects. secrets: the
// URLs (they hold the password), to be kept out of every Janus log.
// logged: what the plugin logs at start for this store.
// psqlSession(url) -> {run(sql, marker), close()}: one psql session kept
// open on stdin (e.g. to hold a row lock while the plugin runs); run
// resolves once the marker line it echoes after sql was printed.
// adminWithin(janus, request, ms = 30000) -> janus.admin(request), rejected
// if it is not answered within ms (the WebSocket client's reply deadline;
// the admin API's HTTP requests have none): for the tests that show a
// stalled store call does not hold the admin API up.
// closeInstances({clients, instances, secrets, logs}): the end of such a
// test: closes the clients, stops every instance still alive (exit code 0
// required), keeps its log, asserts no sanitizer report and that no log
// holds a secret, and removes the instances' folders.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { rand } from './helpers.mjs';

export const PG_BASE = process.env.CONSULT_TEST_STORE || '';
export const ON_PG = /^postgres(ql)?:\/\//.test(PG_BASE);
export const STORES = ON_PG ? ['sqlite', 'postgresql'] : ['sqlite'];
export const PSQL = ['/usr/lib/postgresql/15/bin/psql', '/usr/bin/psql'].find((p) => fs.existsSync(p));

export function psqlSession(url) {
  const child = spawn(PSQL, ['-X', '-q', '-A', '-t', '-d', url], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiters = [];
  child.stdout.on('data', (d) => {
    out += d;
    for (const w of [...waiters]) if (out.includes(w.marker)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  });
  return {
    run: (sql, marker) => new Promise((resolve) => {
      waiters.push({ marker, resolve });
      child.stdin.write(`${sql}\n\\echo ${marker}\n`);
    }),
    close: () => new Promise((resolve) => { child.on('close', resolve); child.stdin.end('\\q\n'); }),
  };
}

export function adminWithin(janus, request, ms = 30000) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`admin ${request.request}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([janus.admin(request), late]).finally(() => clearTimeout(timer));
}

export function testStore(kind, dataDir, prefix) {
  if (kind === 'sqlite') {
    const file = path.join(dataDir, 'consult.sqlite');
    const sqlite = (args, sql) => execFileSync('sqlite3', [...args, '-cmd', '.timeout 5000', file, sql], { encoding: 'utf8' });
    return {
      config: {},
      secrets: [],
      logged: /\[consult\] store: SQLite/,
      query: (sql) => {
        const out = sqlite(['-readonly', '-json'], sql);
        return out.trim() ? JSON.parse(out) : [];
      },
      exec: (sql) => sqlite([], sql),
      drop: () => {},
    };
  }
  if (kind !== 'postgresql' || !ON_PG) throw new Error(`stores.mjs: no store ${kind} here`);
  const schema = `${prefix}_${process.pid}_${rand(3).toLowerCase()}`;
  const url = `${PG_BASE}${PG_BASE.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
  const psql = (u, sql) => execFileSync(PSQL, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', u, '-c', sql], { encoding: 'utf8' }).trim();
  psql(PG_BASE, `CREATE SCHEMA ${schema}`);
  return {
    config: { database: url },
    secrets: [url, PG_BASE],
    logged: /\[consult\] store: PostgreSQL/,
    query: (sql) => JSON.parse(psql(url, `SELECT coalesce(json_agg(q), '[]') FROM (${sql}) q`)),
    exec: (sql) => psql(url, sql),
    drop: () => psql(PG_BASE, `DROP SCHEMA ${schema} CASCADE`),
  };
}

export async function closeInstances({ clients, instances, secrets, logs }) {
  for (const c of clients) await c.close().catch(() => {});
  for (const j of instances) {
    if (!j) continue;
    if (j.alive()) assert.deepEqual(await j.stop(), { code: 0, signal: null });
    logs.push(j.log());
    assert.deepEqual(j.sanitizerReports().map((r) => r.file), []);
    fs.rmSync(j.dir, { recursive: true, force: true });
  }
  const all = logs.join('\n');
  const leaked = secrets.filter((x) => x && x.length >= 4 && all.includes(x));
  assert.deepEqual(leaked.map((x) => x.slice(0, 3) + '…'), [], 'personal data in a Janus log');
}
