// login-storm.test.mjs - many concurrent wrong logins against the real Janus.
//
// What it proves (docs/protocol.md, "Login protection"): with
// password_checks = 2, a storm of STORM concurrent wrong logins (default 64,
// $CONSULT_STORM) keeps the Janus process' peak RSS (VmHWM) within
//   RSS before the storm + (password_checks + 1) x 64 MiB + 64 MiB
// (one argon2id check at `interactive` takes 64 MiB; the +1 is the slot kept
// for logins with a valid device token), every wrong login is refused
// (login_failed, rate_limited, or busy until the attacker gives up), and
// the real doctor, with the device token the browser kept from an earlier
// login, gets in while the storm runs and right after it, although the
// storm locked the doctor's user name.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { useStack, assertError, assertOk, rand } from './helpers.mjs';

const CHECKS = 2;
const STORM = Number(process.env.CONSULT_STORM || 64);
const MIB = 1024 * 1024;
const ARGON2_INTERACTIVE = 64 * MIB;
const SLACK = 64 * MIB;

const ctx = useStack({ janus: { extraPluginConfig: { password_checks: CHECKS } } });

function procStatus(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number((text.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')) || [])[1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), threads: Number((text.match(/^Threads:\s+(\d+)/m) || [])[1]) };
}

const stats = async () => assertOk(await ctx.janus.admin({ request: 'stats' })).logins || {};

/** Waits (polling the admin API) until cond(logins stats) holds or the deadline passes. */
async function waitStats(cond, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await stats();
    if (cond(s)) return s;
    if (Date.now() > deadline) return null;
    await new Promise((r) => setImmediate(r));
  }
}

/** One login as a page does it: a `busy` answer is retried after retry_after, up to `tries` times. */
async function login(handle, body, tries) {
  for (let i = 0; ; i++) {
    const r = await handle.request({ request: 'login', ...body }, { timeout: 120000 });
    if (r.error !== 'busy' || i + 1 >= tries) return r;
    assert.ok(Number.isInteger(r.retry_after) && r.retry_after >= 1 && r.retry_after <= 5, JSON.stringify(r));
    await new Promise((res) => setTimeout(res, r.retry_after * 1000));
  }
}

test(`login storm: ${STORM} concurrent wrong logins; memory bounded, all refused, the doctor gets in with the device token`, { timeout: 300000 }, async (t) => {
  const doc = ctx.A.doctors[0];
  // Yesterday: the doctor logged in on the practice's browser, which kept the device token.
  const yesterday = await ctx.connect();
  const first = assertOk(await yesterday.handle.request({ request: 'login', username: doc.username, password: doc.password }));
  const token = ctx.secret(first.device_token);
  await yesterday.client.destroy();

  const pid = ctx.janus.pid;
  const before = procStatus(pid);
  const v0 = (await stats()).verifications ?? 0;
  t.diagnostic(`before: VmRSS ${(before.rss / MIB).toFixed(0)} MiB, VmHWM ${(before.hwm / MIB).toFixed(0)} MiB, ${before.threads} threads`);

  // The attackers: a quarter guess random user names, the rest the doctor's.
  const handles = await Promise.all(Array.from({ length: STORM }, () => ctx.connect()));
  const storm = Promise.all(handles.map(({ handle }, i) => login(handle, {
    username: i % 4 === 0 ? `ghost${i}.${rand(3)}` : doc.username,
    password: `wrong-${i}-${rand(4)}`,
  }, 30)));

  // During the storm (all password checks busy), the doctor on the daily browser.
  const full = await waitStats((s) => s.active >= CHECKS, 20000);
  t.diagnostic(`slots full during the storm: ${JSON.stringify(full)}`);
  const during = await ctx.connect();
  const t0 = Date.now();
  const inDuring = await login(during.handle, { username: doc.username, password: doc.password, device_token: token }, 10);
  t.diagnostic(`doctor during the storm: ${inDuring.ok ? 'ok' : inDuring.error} after ${Date.now() - t0} ms`);

  const replies = await storm;
  const after = procStatus(pid);
  const v1 = (await stats()).verifications ?? 0;
  const count = {};
  for (const r of replies) count[r.ok ? 'ok' : r.error] = (count[r.ok ? 'ok' : r.error] || 0) + 1;
  t.diagnostic(`storm answers ${JSON.stringify(count)}, verifications ${v1 - v0}`);
  t.diagnostic(`after: VmHWM ${(after.hwm / MIB).toFixed(0)} MiB, VmRSS ${(after.rss / MIB).toFixed(0)} MiB, ${after.threads} threads`);

  for (const r of replies) {
    assert.equal(r.ok, false, 'a wrong login succeeded');
    assert.ok(['login_failed', 'rate_limited', 'busy'].includes(r.error), JSON.stringify(r));
  }
  const bound = before.rss + (CHECKS + 1) * ARGON2_INTERACTIVE + SLACK;
  assert.ok(after.hwm <= bound,
    `peak RSS ${(after.hwm / MIB).toFixed(0)} MiB > bound ${(bound / MIB).toFixed(0)} MiB`);

  assert.equal(typeof token, 'string', 'the first login reply carried a device token');
  assertOk(inDuring);
  assert.equal(inDuring.role, 'doctor');
  assert.equal(typeof inDuring.device_token, 'string');
  assert.notEqual(inDuring.device_token, token, 'the token is rotated on login');
  const kept = ctx.secret(inDuring.device_token);

  // Right after the storm: the user name is locked for browsers without a token ...
  const stranger = await ctx.connect();
  assertError(await login(stranger.handle, { username: doc.username, password: doc.password }, 10), 'rate_limited', 421);
  // ... the old, rotated token is no longer a device token ...
  assertError(await login(stranger.handle, { username: doc.username, password: doc.password, device_token: token }, 10), 'rate_limited', 421);
  // ... and the doctor's browser, with the token it kept, gets in within seconds.
  const today = await ctx.connect();
  const t1 = Date.now();
  const r = assertOk(await login(today.handle, { username: doc.username, password: doc.password, device_token: kept }, 10));
  assert.equal(r.staff_id, doc.id);
  assert.ok(Date.now() - t1 < 10000, `doctor login took ${Date.now() - t1} ms`);
  ctx.secret(r.device_token);
  await today.handle.waitEvent('waiting');
  // Only hashes are stored.
  const rows = ctx.db(`SELECT hex(token_hash) AS h FROM staff_devices WHERE staff_id = ${doc.id}`);
  assert.ok(rows.length >= 1);
  const dump = JSON.stringify(ctx.db('SELECT * FROM staff_devices'));
  for (const tok of [token, kept, r.device_token]) assert.ok(!dump.includes(tok), 'a device token is stored in clear');
  for (const { client } of handles) await client.close();
});
