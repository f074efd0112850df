// login.test.mjs - login protection against the real Janus: the lockout
// counts attempts in flight, device tokens keep the real user out of a
// user-name lockout, reset_password / set_disabled log the user out
// everywhere and revoke the device tokens (docs/protocol.md, "Login
// protection"). password_checks is high here so that the cap on parallel
// password checks does not hide the lockout race.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { startJanus } from '../../scripts/lib/janus.mjs';
import { useStack, assertError, assertOk, rand } from './helpers.mjs';

// CONSULT_TEST=1: the admin purge takes a "now" (device token expiry).
const ctx = useStack({ janus: { extraPluginConfig: { password_checks: 32 }, env: { CONSULT_TEST: '1' } } });

const verifications = async () => assertOk(await ctx.janus.admin({ request: 'stats' })).logins?.verifications ?? 0;

async function newStaff(role = 'doctor', practice = ctx.A.slug) {
  const password = ctx.secret(`Pw-${rand(8)}`);
  const username = `${role === 'doctor' ? 'dr' : 'rec'}.${rand(4)}`;
  const r = assertOk(await ctx.janus.admin({ request: 'add_staff', practice, username, display_name: 'Dr. Neu', role, password }));
  return { username, password, id: r.staff_id };
}

async function lockUserName(username) {
  for (let i = 0; i < 5; i++) {
    const { handle } = await ctx.connect();
    assertError(await handle.request({ request: 'login', username, password: `wrong-${i}-${rand(3)}` }), 'login_failed', 420);
  }
}

test('lockout race: 16 simultaneous wrong logins for one user run at most 5 password checks', { timeout: 60000 }, async (t) => {
  const who = await newStaff();
  const handles = await Promise.all(Array.from({ length: 16 }, () => ctx.connect()));
  const v0 = await verifications();
  const replies = await Promise.all(handles.map(({ handle }, i) =>
    handle.request({ request: 'login', username: who.username, password: `wrong-${i}-${rand(3)}` }, { timeout: 60000 })));
  const ran = (await verifications()) - v0;
  const count = {};
  for (const r of replies) count[r.error] = (count[r.error] || 0) + 1;
  t.diagnostic(`answers ${JSON.stringify(count)}, password checks run: ${ran}`);
  for (const r of replies) {
    assert.equal(r.ok, false);
    assert.ok(['login_failed', 'rate_limited'].includes(r.error), JSON.stringify(r));
    if (r.error === 'rate_limited') assert.ok(Number.isInteger(r.retry_after) && r.retry_after >= 1, JSON.stringify(r));
  }
  assert.ok(ran >= 1 && ran <= 5, `${ran} password checks ran for one user name (limit 5)`);
  assert.equal(count.login_failed, ran, 'every check that ran answered login_failed');
  // The user name is locked now, also with the right password.
  const { handle } = await ctx.connect();
  assertError(await handle.request({ request: 'login', username: who.username, password: who.password }), 'rate_limited', 421);
});

test('device token: issued on login, rotated, bypasses the user-name lockout only for its own user', async () => {
  const who = await newStaff('reception');
  const other = await newStaff('reception');
  const a = await ctx.connect();
  const r1 = assertOk(await a.handle.request({ request: 'login', username: who.username, password: who.password }));
  const tok1 = ctx.secret(r1.device_token);
  assert.match(tok1, /^[A-Za-z0-9_-]{43}$/, 'device token: 32 random bytes, base64url');
  assertOk(await a.handle.request({ request: 'logout' }));
  const r2 = assertOk(await a.handle.request({ request: 'login', username: who.username, password: who.password, device_token: tok1 }));
  const tok2 = ctx.secret(r2.device_token);
  assert.notEqual(tok2, tok1, 'rotated on every login');
  assertOk(await a.handle.request({ request: 'logout' }));
  const oRep = assertOk(await a.handle.request({ request: 'login', username: other.username, password: other.password }));
  ctx.secret(oRep.device_token);
  assertOk(await a.handle.request({ request: 'logout' }));

  await lockUserName(who.username);
  await lockUserName(other.username);
  const b = await ctx.connect();
  assertError(await b.handle.request({ request: 'login', username: who.username, password: who.password }), 'rate_limited', 421);
  // The old token was replaced by the new one.
  assertError(await b.handle.request({ request: 'login', username: who.username, password: who.password, device_token: tok1 }), 'rate_limited', 421);
  // A token of another user does not help.
  assertError(await b.handle.request({ request: 'login', username: other.username, password: other.password, device_token: tok2 }), 'rate_limited', 421);
  // The browser's current token does.
  const r3 = assertOk(await b.handle.request({ request: 'login', username: who.username, password: who.password, device_token: tok2 }));
  ctx.secret(r3.device_token);
  // Wrong passwords with a valid token count on the device: 5 lock it, the user name stays as it was.
  const c = await ctx.connect();
  for (let i = 0; i < 5; i++) {
    assertError(await c.handle.request({ request: 'login', username: who.username, password: `bad-${i}-${rand(2)}`, device_token: r3.device_token }), 'login_failed', 420);
  }
  assertError(await c.handle.request({ request: 'login', username: who.username, password: who.password, device_token: r3.device_token }), 'rate_limited', 421);
});

test('device token field: format and length checked (invalid_field, too_long); nothing changed', async () => {
  const who = await newStaff('reception');
  const { handle } = await ctx.connect();
  let r = await handle.request({ request: 'login', username: who.username, password: who.password, device_token: 'x'.repeat(65) });
  assertError(r, 'too_long', 404);
  assert.equal(r.field, 'device_token');
  r = await handle.request({ request: 'login', username: who.username, password: who.password, device_token: 'abc def' });
  assertError(r, 'invalid_field', 403);
  assert.equal(r.field, 'device_token');
  r = await handle.request({ request: 'login', username: who.username, password: who.password, device_token: 17 });
  assertError(r, 'invalid_field', 403);
  // An unknown token of the right form is simply not a device token.
  r = assertOk(await handle.request({ request: 'login', username: who.username, password: who.password, device_token: 'A'.repeat(43) }));
  ctx.secret(r.device_token);
});

test('a wrong login whose handle is detached during the password check still counts', { timeout: 60000 }, async (t) => {
  const who = await newStaff();
  const answers = [];
  for (let i = 0; i < 5; i++) {
    const { handle } = await ctx.connect();
    const reply = handle.request({ request: 'login', username: who.username, password: `wrong-${i}-${rand(3)}` }, { timeout: 60000 })
      .then((r) => r, () => null);
    // Detach while the check runs (the admin stats show it active).
    let running = false;
    for (let k = 0; k < 2000 && !running; k++) running = (await ctx.janus.admin({ request: 'stats' })).logins.active >= 1;
    await handle.detach();
    const r = await reply;
    answers.push(r ? r.error : 'none');
    assert.ok(!r || r.ok === false, 'a wrong password logged in');
  }
  t.diagnostic(`answers to the detached handles: ${answers.join(', ')}`);
  // Wait until no check is running, then the user name must be locked.
  for (let k = 0; k < 2000; k++) if ((await ctx.janus.admin({ request: 'stats' })).logins.active === 0) break;
  const { handle } = await ctx.connect();
  assertError(await handle.request({ request: 'login', username: who.username, password: who.password }), 'rate_limited', 421);
});

async function loggedOutEverywhere(admin, reason, after) {
  const who = await newStaff('doctor');
  const s1 = await ctx.connect();
  const s2 = await ctx.connect();
  const l1 = assertOk(await s1.handle.request({ request: 'login', username: who.username, password: who.password }));
  const l2 = assertOk(await s2.handle.request({ request: 'login', username: who.username, password: who.password }));
  ctx.secret(l1.device_token, l2.device_token);
  const rec = await ctx.login(ctx.A.receptions[0]);
  ctx.secret(rec.reply.device_token);
  const devices = () => { try { return ctx.db(`SELECT count(*) AS n FROM staff_devices WHERE staff_id = ${who.id}`)[0].n; } catch { return null; } };
  const before = devices();
  assertOk(await ctx.janus.admin(admin(who)));
  for (const s of [s1, s2]) {
    const ev = await s.handle.waitEvent('logged_out');
    assert.equal(ev.reason, reason);
    assertError(await s.handle.request({ request: 'list_doctors' }), 'not_authenticated', 410);
    assertError(await s.handle.request({ request: 'waiting_list' }), 'not_authenticated', 410);
  }
  // Other staff stay logged in.
  assertOk(await rec.handle.request({ request: 'list_doctors' }));
  assert.equal(rec.handle.pending('logged_out').length, 0);
  // The user's device tokens are revoked.
  assert.equal(before, 2, 'two device tokens before');
  assert.equal(devices(), 0, 'no device tokens after');
  await after(who, l2.device_token);
}

test('reset_password logs the user out everywhere (logged_out) and revokes the device tokens', async () => {
  const pw2 = ctx.secret(`Pw-${rand(8)}`);
  await loggedOutEverywhere((who) => ({ request: 'reset_password', username: who.username, password: pw2 }), 'password_reset',
    async (who, oldToken) => {
      await lockUserName(who.username);
      const { handle } = await ctx.connect();
      // The old browser's token no longer bypasses the lockout.
      assertError(await handle.request({ request: 'login', username: who.username, password: pw2, device_token: oldToken }), 'rate_limited', 421);
      // An operator's reset_password lifts the lockout of the user name.
      const pw3 = ctx.secret(`Pw-${rand(8)}`);
      assertOk(await ctx.janus.admin({ request: 'reset_password', username: who.username, password: pw3 }));
      const r = assertOk(await handle.request({ request: 'login', username: who.username, password: pw3 }));
      ctx.secret(r.device_token);
    });
});

test('set_disabled logs the user out everywhere (logged_out) and revokes the device tokens', async () => {
  await loggedOutEverywhere((who) => ({ request: 'set_disabled', username: who.username, disabled: true }), 'disabled',
    async (who, oldToken) => {
      assertOk(await ctx.janus.admin({ request: 'set_disabled', username: who.username, disabled: false }));
      await lockUserName(who.username);
      const { handle } = await ctx.connect();
      assertError(await handle.request({ request: 'login', username: who.username, password: who.password, device_token: oldToken }), 'rate_limited', 421);
    });
});

test('admin stats: logins {verifications, active, limit, busy, rate_limited}', async () => {
  const s = assertOk(await ctx.janus.admin({ request: 'stats' })).logins;
  for (const k of ['verifications', 'active', 'limit', 'busy', 'rate_limited']) assert.ok(Number.isInteger(s[k]) && s[k] >= 0, `${k}: ${JSON.stringify(s)}`);
  assert.equal(s.limit, 32);
  assert.equal(s.active, 0);
});

test('device tokens unused for 90 days are deleted by the retention purge and no longer valid', async () => {
  const who = await newStaff('reception');
  const { handle } = await ctx.connect();
  const r = assertOk(await handle.request({ request: 'login', username: who.username, password: who.password }));
  ctx.secret(r.device_token);
  const n = () => ctx.db(`SELECT count(*) AS n FROM staff_devices WHERE staff_id = ${who.id}`)[0].n;
  assert.equal(n(), 1);
  const day = 86400;
  assertOk(await ctx.janus.admin({ request: 'purge', now: Math.floor(Date.now() / 1000) + 89 * day }));
  assert.equal(n(), 1, 'kept while used within 90 days');
  assertOk(await ctx.janus.admin({ request: 'purge', now: Math.floor(Date.now() / 1000) + 91 * day }));
  assert.equal(n(), 0, 'deleted after 90 days unused');
  await lockUserName(who.username);
  const b = await ctx.connect();
  assertError(await b.handle.request({ request: 'login', username: who.username, password: who.password, device_token: r.device_token }), 'rate_limited', 421);
});

test('password_checks: out of range or not a number stops Janus with one FATAL line', { timeout: 60000 }, async () => {
  for (const v of [0, 65, 'many']) {
    let err = null;
    try {
      const j = await startJanus({ extraPluginConfig: { password_checks: v } });
      await j.stop();
    } catch (e) {
      err = e;
    }
    assert.ok(err, `Janus must not start with password_checks = ${v}`);
    const fatal = err.message.split('\n').filter((l) => /\[consult\] config:/.test(l));
    assert.equal(fatal.length, 1, err.message.slice(-1500));
    assert.match(fatal[0], /password_checks must be an integer in 1\.\.64/);
    const dir = /\(dir ([^)]+)\)/.exec(err.message)?.[1];
    if (dir && dir.includes('consult-janus-')) fs.rmSync(dir, { recursive: true, force: true });
  }
});
