// turn.test.mjs - TURN credentials (issue 4): who gets them and when, their
// form (TURN REST API, checked here with node:crypto), the ice_servers
// request, relay_only, hangup with reason connection_lost, media_path in
// live_visits, real coturn accepting minted credentials and refusing forged
// or expired ones (401), and bad TURN configuration refusing to start.
// The stack's after hook also asserts that the Janus log holds neither the
// shared secret nor any credential handed out (all registered as secrets).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { useStack, assertError, assertOk, now, rand } from './helpers.mjs';
import { REPO, startJanus } from '../../scripts/lib/janus.mjs';
import { startCoturn } from '../../scripts/lib/coturn.mjs';

const SECRET = `ts-${rand(16)}`;
const TTL = 900;
const CALL_LOST = 15;
const STUN = 'stun:127.0.0.1:3478';
const TURNS = ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp', 'turns:turn.example.org:5349?transport=tcp'];

const ctx = useStack({
  janus: {
    extraPluginConfig: {
      stun_uris: STUN,
      turn_uris: TURNS.join(', '),
      turn_secret: SECRET,
      turn_ttl: TTL,
      call_lost_seconds: CALL_LOST,
    },
  },
});
ctx.secret(SECRET);

const coturns = [];
after(async () => { for (const c of coturns) await c.stop().catch(() => {}); });

const hmac = (secret, user) => crypto.createHmac('sha1', secret).update(user).digest('base64');

/**
 * Checks fields carrying ice servers (event or reply) and returns the TURN
 * credential {username, credential, expiry, id}. Registers it as a secret
 * (the Janus log must not contain it).
 */
function checkIce(data, { policy = 'all', callLost = true } = {}) {
  assert.ok(Array.isArray(data.ice_servers), JSON.stringify(data));
  assert.equal(data.ice_servers.length, 2, JSON.stringify(data.ice_servers));
  const [stun, turn] = data.ice_servers;
  assert.deepEqual(stun, { urls: [STUN] }, 'STUN entry without credential');
  assert.deepEqual(turn.urls, TURNS);
  assert.deepEqual(Object.keys(turn).sort(), ['credential', 'urls', 'username']);
  const m = /^(\d+):([0-9a-f]{16})$/.exec(turn.username);
  assert.ok(m, `username form <expiry>:<id>: ${turn.username}`);
  const expiry = Number(m[1]);
  assert.ok(Math.abs(expiry - (now() + TTL)) <= 5, `expiry ${expiry} is now+${TTL}`);
  assert.equal(turn.credential, hmac(SECRET, turn.username), 'password = base64(HMAC-SHA1(secret, username))');
  assert.equal(turn.credential.length, 28);
  assert.equal(data.ice_transport_policy, policy);
  if (callLost) assert.equal(data.call_lost_seconds, CALL_LOST);
  else assert.equal(data.call_lost_seconds, undefined);
  ctx.secret(turn.credential);
  return { username: turn.username, credential: turn.credential, expiry, id: m[2] };
}

/** No message this client ever received mentions ice servers or credentials. */
function assertNoCredentials(client, label) {
  // (an error reply names the request: {"consult":"ice_servers",...}; keys are what matter)
  const text = JSON.stringify(client.messages);
  for (const word of ['"ice_servers":', '"ice_transport_policy":', '"credential":', '"username":', SECRET]) {
    const at = text.indexOf(word);
    assert.ok(at < 0, `${label}: ${word} was sent: ${text.slice(Math.max(0, at - 200), at + 200)}`);
  }
}

async function setup(doctorIdx = 0) {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[doctorIdx]);
  const appt = await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[doctorIdx].id });
  const p = await ctx.patient(appt);
  return { rec, doc, p };
}

const ids = new Set();
function freshId(cred, first, last) {
  assert.ok(!ids.has(cred.id), 'every hand-out has a new opaque id');
  ids.add(cred.id);
  for (const name of [first, last]) assert.ok(!cred.username.includes(name));
}

test('credentials only at call time, only to the two participants; ice_servers request', async () => {
  const { rec, doc, p } = await setup(0);
  const other = await ctx.login(ctx.A.doctors[1]);
  const anon = await ctx.connect();
  // A waiting patient: nothing in the join reply or any event; request refused.
  assert.equal(p.reply.ok, true);
  assertError(await p.handle.request({ request: 'ice_servers' }), 'wrong_state', 412);
  assertError(await anon.handle.request({ request: 'ice_servers' }), 'wrong_state', 412);
  assertError(await rec.handle.request({ request: 'ice_servers' }), 'forbidden', 411);
  assertError(await doc.handle.request({ request: 'ice_servers' }), 'wrong_state', 412);
  assertError(await other.handle.request({ request: 'ice_servers' }), 'wrong_state', 412);
  await doc.handle.waitEvent('waiting', { filter: (e) => e.visits.some((v) => v.visit_id === p.reply.visit_id) });
  assertNoCredentials(p.client, 'waiting patient');
  assertNoCredentials(doc.client, 'doctor before the call');
  assertNoCredentials(anon.client, 'anonymous handle');

  // Ringing: the patient gets credentials, the calling doctor its own in the
  // `call` reply (its page offers ahead); ice_servers still refused (not in a call).
  const cr = assertOk(await doc.handle.request({ request: 'call', visit_id: p.reply.visit_id }));
  freshId(checkIce(cr, { callLost: false }), p.first, p.last);
  const ring = await p.handle.waitEvent('ringing');
  const c1 = checkIce(ring);
  freshId(c1, p.first, p.last);
  assertError(await p.handle.request({ request: 'ice_servers' }), 'wrong_state', 412);
  assertError(await doc.handle.request({ request: 'ice_servers' }), 'wrong_state', 412);
  assertNoCredentials(other.client, 'another doctor while ringing');
  assertNoCredentials(rec.client, 'reception while ringing');

  // Accept: the doctor gets its own credentials.
  assertOk(await p.handle.request({ request: 'accept' }));
  const acc = await doc.handle.waitEvent('call_accepted', { filter: (e) => e.visit_id === p.reply.visit_id });
  const c2 = checkIce(acc);
  freshId(c2, p.first, p.last);

  // In the call: both may ask again and get fresh credentials.
  const r1 = assertOk(await doc.handle.request({ request: 'ice_servers' }));
  freshId(checkIce(r1, { callLost: false }), p.first, p.last);
  const r2 = assertOk(await p.handle.request({ request: 'ice_servers' }));
  freshId(checkIce(r2, { callLost: false }), p.first, p.last);
  assert.deepEqual(Object.keys(r2).sort(), ['consult', 'ice_servers', 'ice_transport_policy', 'ok']);
  // Nobody else: the other doctor, reception, an anonymous handle.
  assertError(await other.handle.request({ request: 'ice_servers' }), 'wrong_state', 412);
  assertError(await rec.handle.request({ request: 'ice_servers' }), 'forbidden', 411);
  assertError(await anon.handle.request({ request: 'ice_servers' }), 'wrong_state', 412);
  for (const [c, label] of [[other.client, 'other doctor'], [rec.client, 'reception'], [anon.client, 'anonymous']]) {
    assertNoCredentials(c, label);
  }

  // After logout the doctor's handle is anonymous: no credentials any more.
  assertOk(await doc.handle.request({ request: 'logout' }));
  const end = await p.handle.waitEvent('call_ended');
  assert.equal(end.reason, 'doctor_hangup');
  assertError(await doc.handle.request({ request: 'ice_servers' }), 'wrong_state', 412);
  assertError(await p.handle.request({ request: 'ice_servers' }), 'wrong_state', 412);
});

test('a second call gets other ids; relay_only via set_practice gives policy "relay"', async () => {
  const bad = [
    [{ request: 'set_practice', practice: 'no-such-practice', relay_only: true }, 'not_found'],
    [{ request: 'set_practice', practice: ctx.A.slug, relay_only: 'yes' }, 'invalid_field'],
    [{ request: 'set_practice', practice: ctx.A.slug }, 'missing_field'],
    [{ request: 'set_practice', relay_only: true }, 'missing_field'],
    [{ request: 'set_practice', practice: 'Bad Slug!', relay_only: true }, 'invalid_field'],
  ];
  for (const [req, err] of bad) assertError(await ctx.janus.admin(req), err);
  let stats = assertOk(await ctx.janus.admin({ request: 'stats' }));
  assert.equal(stats.practices.find((x) => x.slug === ctx.A.slug).relay_only, false);

  // Through the operator's command (scripts/consult-admin set-practice).
  // 60 s: a deadline for a busy machine (killed at 10 s, a slow but complete
  // run once ended with code null after printing its table).
  const cli = (...args) => run(process.execPath, [path.join(REPO, 'scripts/consult-admin'), '--url', ctx.janus.adminUrl, ...args],
    60000, { ...process.env, CONSULT_ADMIN_SECRET: ctx.janus.adminSecret });
  let out = await cli('set-practice', ctx.A.slug, '--relay-only', 'maybe');
  assert.equal(out.code, 2, out.out);
  out = await cli('set-practice', 'no-such-practice', '--relay-only', 'on');
  assert.equal(out.code, 1, out.out);
  assert.match(out.out, /not_found/);
  out = await cli('set-practice', ctx.A.slug, '--relay-only', 'on');
  assert.equal(out.code, 0, out.out);
  out = await cli('stats', ctx.A.slug);
  assert.equal(out.code, 0, out.out);
  assert.match(out.out, /relay_only[\s\S]*true/);
  stats = assertOk(await ctx.janus.admin({ request: 'stats' }));
  assert.equal(stats.practices.find((x) => x.slug === ctx.A.slug).relay_only, true);
  assert.equal(stats.practices.find((x) => x.slug === ctx.B.slug).relay_only, false);
  assert.deepEqual(ctx.db(`SELECT relay_only FROM practices WHERE slug = '${ctx.A.slug}'`), [{ relay_only: 1 }]);

  const { doc, p } = await setup(1);
  const { ring, acc } = await ctx.connectCall(doc, p);
  freshId(checkIce(ring, { policy: 'relay' }), p.first, p.last);
  freshId(checkIce(acc, { policy: 'relay' }), p.first, p.last);
  freshId(checkIce(assertOk(await p.handle.request({ request: 'ice_servers' })), { policy: 'relay', callLost: false }), p.first, p.last);

  // Off again: the running call's next ice_servers says "all".
  assertOk(await ctx.janus.admin({ request: 'set_practice', practice: ctx.A.slug, relay_only: false }));
  freshId(checkIce(assertOk(await doc.handle.request({ request: 'ice_servers' })), { policy: 'all', callLost: false }), p.first, p.last);
  assertOk(await doc.handle.request({ request: 'hangup' }));
  await p.handle.waitEvent('call_ended');
});

test('hangup reason connection_lost ends the visit for both; media_path in live_visits', async () => {
  const { doc, p } = await setup(0);
  await ctx.connectCall(doc, p);
  let live = assertOk(await ctx.janus.admin({ request: 'live_visits', practice: ctx.A.slug }));
  assert.equal(live.visits.find((v) => v.visit_id === p.reply.visit_id).media_path, null);
  assertOk(await p.handle.request({ request: 'report', connection_state: 'connected', local_candidate_type: 'host', remote_candidate_type: 'relay' }));
  live = assertOk(await ctx.janus.admin({ request: 'live_visits', practice: ctx.A.slug }));
  assert.equal(live.visits.find((v) => v.visit_id === p.reply.visit_id).media_path, null, 'only the doctor side sets the path');
  assertOk(await doc.handle.request({ request: 'report', connection_state: 'connected', local_candidate_type: 'relay', remote_candidate_type: 'relay' }));
  live = assertOk(await ctx.janus.admin({ request: 'live_visits', practice: ctx.A.slug }));
  assert.equal(live.visits.find((v) => v.visit_id === p.reply.visit_id).media_path, 'relay/relay');

  let r = await doc.handle.request({ request: 'hangup', reason: 'bored' });
  assertError(r, 'invalid_field', 403);
  assert.equal(r.field, 'reason');
  r = await doc.handle.request({ request: 'hangup', reason: 7 });
  assertError(r, 'invalid_field', 403);
  assertOk(await doc.handle.request({ request: 'hangup', reason: 'connection_lost' }));
  const end = await p.handle.waitEvent('call_ended');
  assert.deepEqual({ reason: end.reason, visit_id: end.visit_id }, { reason: 'connection_lost', visit_id: p.reply.visit_id });
  assert.equal(doc.handle.pending('call_ended').length, 0, 'the sender hears no call_ended');
  const [row] = ctx.db(`SELECT state, end_reason, media_path FROM visits WHERE id = ${Number(p.reply.visit_id)}`);
  assert.deepEqual(row, { state: 'ended', end_reason: 'connection_lost', media_path: 'relay/relay' });
  assertError(await doc.handle.request({ request: 'hangup', reason: 'connection_lost' }), 'wrong_state', 412);

  // The patient may give up too: the doctor hears it.
  const s2 = await setup(0);
  await ctx.connectCall(s2.doc, s2.p);
  assertOk(await s2.p.handle.request({ request: 'hangup', reason: 'connection_lost' }));
  const end2 = await s2.doc.handle.waitEvent('call_ended', { filter: (e) => e.visit_id === s2.p.reply.visit_id });
  assert.equal(end2.reason, 'connection_lost');
  assert.equal(s2.p.handle.pending('call_ended').length, 0);
  // A plain hangup still works and says doctor_hangup.
  const s3 = await setup(0);
  await ctx.connectCall(s3.doc, s3.p);
  assertOk(await s3.doc.handle.request({ request: 'hangup', reason: null }));
  assert.equal((await s3.p.handle.waitEvent('call_ended')).reason, 'doctor_hangup');
});

// --- real coturn -----------------------------------------------------------

function run(cmd, args, timeoutMs, env = process.env) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out }); });
  });
}

/** RFC 5766 Allocate over UDP: first unauthenticated (401 + realm/nonce),
 * then with long-term credentials. Resolves {type, code} of the 2nd answer. */
async function allocate(port, username, password) {
  const MAGIC = 0x2112a442;
  const attr = (type, value) => {
    const pad = (4 - (value.length % 4)) % 4;
    const b = Buffer.alloc(4 + value.length + pad);
    b.writeUInt16BE(type, 0); b.writeUInt16BE(value.length, 2); value.copy(b, 4);
    return b;
  };
  const message = (attrs, key) => {
    const tid = crypto.randomBytes(12);
    let body = Buffer.concat(attrs);
    const head = Buffer.alloc(20);
    head.writeUInt16BE(0x0003, 0); head.writeUInt32BE(MAGIC, 4); tid.copy(head, 8);
    if (key) {
      head.writeUInt16BE(body.length + 24, 2);
      body = Buffer.concat([body, attr(0x0008, crypto.createHmac('sha1', key).update(Buffer.concat([head, body])).digest())]);
    }
    head.writeUInt16BE(body.length, 2);
    return { tid, buf: Buffer.concat([head, body]) };
  };
  const parse = (b) => {
    const out = { type: b.readUInt16BE(0), tid: b.subarray(8, 20), attrs: {}, code: null };
    for (let o = 20; o + 4 <= b.length;) {
      const t = b.readUInt16BE(o), l = b.readUInt16BE(o + 2);
      out.attrs[t] = b.subarray(o + 4, o + 4 + l);
      o += 4 + l + ((4 - (l % 4)) % 4);
    }
    if (out.attrs[0x0009]) out.code = (out.attrs[0x0009][2] & 7) * 100 + out.attrs[0x0009][3];
    return out;
  };
  const sock = dgram.createSocket('udp4');
  const ask = (m) => new Promise((resolve, reject) => {
    let timer;
    const giveUp = Date.now() + 20000; // retransmit every 500 ms up to a deadline for a busy machine
    const on = (b) => {
      const r = parse(b);
      if (!r.tid.equals(m.tid)) return;
      clearTimeout(timer); sock.off('message', on); resolve(r);
    };
    const send = () => {
      if (Date.now() > giveUp) { sock.off('message', on); reject(new Error('no answer from coturn')); return; }
      sock.send(m.buf, port, '127.0.0.1');
      timer = setTimeout(send, 500);
    };
    sock.on('message', on);
    send();
  });
  try {
    const transport = attr(0x0019, Buffer.from([17, 0, 0, 0]));
    const first = await ask(message([transport]));
    assert.equal(first.code, 401, 'unauthenticated Allocate gets 401');
    const realm = first.attrs[0x0014], nonce = first.attrs[0x0015];
    const key = crypto.createHash('md5').update(`${username}:${realm}:${password}`).digest();
    const second = await ask(message([transport, attr(0x0006, Buffer.from(username)), attr(0x0014, realm), attr(0x0015, nonce)], key));
    return { type: second.type, code: second.code };
  } finally {
    sock.close();
  }
}

test('real coturn accepts plugin-minted credentials, refuses forged and expired (401)', { timeout: 120000 }, async () => {
  assert.ok(fs.existsSync('/usr/bin/turnutils_uclient'), 'turnutils_uclient (Debian coturn) installed');
  const turn = await startCoturn({ secret: SECRET, extraLines: ['allow-loopback-peers'] });
  coturns.push(turn);
  const { doc, p } = await setup(1);
  const { ring, acc } = await ctx.connectCall(doc, p);
  const pc = checkIce(ring);
  const dc = checkIce(acc);

  // The patient's credentials: relay through coturn to a second allocation (-y).
  const uc = await run('turnutils_uclient', ['-y', '-n', '2', '-c', '-p', String(turn.port),
    '-u', pc.username, '-w', pc.credential, '127.0.0.1'], 40000);
  assert.equal(uc.code, 0, uc.out.slice(-1500));
  const totals = [...uc.out.matchAll(/start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/g)];
  assert.ok(totals.length > 0 && Number(totals.at(-1)[2]) > 0, `packets relayed: ${uc.out.slice(-800)}`);
  assert.doesNotMatch(uc.out, /Cannot complete Allocation/);
  // The doctor's credentials and a fresh ice_servers credential: Allocate succeeds.
  assert.deepEqual(await allocate(turn.port, dc.username, dc.credential), { type: 0x0103, code: null });
  const fresh = checkIce(assertOk(await doc.handle.request({ request: 'ice_servers' })), { callLost: false });
  assert.deepEqual(await allocate(turn.port, fresh.username, fresh.credential), { type: 0x0103, code: null });

  // Wrong password, another call's password, expired user name: 401.
  const wrong = hmac('not-the-secret-0123456789', pc.username);
  assert.deepEqual(await allocate(turn.port, pc.username, wrong), { type: 0x0113, code: 401 });
  assert.deepEqual(await allocate(turn.port, pc.username, dc.credential), { type: 0x0113, code: 401 });
  const expiredUser = `${now() - 60}:${pc.id}`;
  assert.deepEqual(await allocate(turn.port, expiredUser, hmac(SECRET, expiredUser)), { type: 0x0113, code: 401 });
  const bad = await run('turnutils_uclient', ['-y', '-n', '1', '-c', '-p', String(turn.port),
    '-u', pc.username, '-w', wrong, '127.0.0.1'], 40000);
  assert.notEqual(bad.code, 0);
  assert.match(bad.out, /Cannot complete Allocation/);
  assertOk(await doc.handle.request({ request: 'hangup' }));
  await turn.stop();
  assert.match(turn.log(), /check_stun_auth|401/, 'coturn logged the refused credentials');
});

// --- bad configuration ------------------------------------------------------

test('bad TURN configuration: one FATAL line, plugin not loaded', { timeout: 60000 }, async () => {
  const good = { turn_secret: `s-${rand(12)}` };
  const cases = [
    [{ turn_uris: 'turn:bad host:3478', ...good }, /config: turn_uris must be/],
    [{ turn_uris: 'turn:127.0.0.1:3478?transport=sctp', ...good }, /config: turn_uris must be/],
    [{ turn_uris: 'stun:127.0.0.1:3478', ...good }, /config: turn_uris must be/],
    [{ stun_uris: 'turn:127.0.0.1:3478' }, /config: stun_uris must be/],
    [{ turn_uris: 'turn:127.0.0.1:3478' }, /config: turn_secret is required/],
    [{ turn_uris: 'turn:127.0.0.1:3478', turn_secret: 'short' }, /config: turn_secret must be/],
    [{ turn_uris: 'turn:127.0.0.1:3478', ...good, turn_ttl: 59 }, /config: turn_ttl must be an integer in 60\.\.86400/],
    [{ turn_uris: 'turn:127.0.0.1:3478', ...good, turn_ttl: 86401 }, /config: turn_ttl must be/],
    [{ call_lost_seconds: 4 }, /config: call_lost_seconds must be an integer in 5\.\.300/],
  ];
  for (const [cfg, re] of cases) {
    let err = null;
    try {
      const j = await startJanus({ extraPluginConfig: cfg });
      await j.stop();
    } catch (e) {
      err = e;
    }
    assert.ok(err, `Janus must not start with ${JSON.stringify(cfg)}`);
    assert.match(err.message, /the consult plugin was not loaded|plugin not reachable/);
    const fatal = err.message.split('\n').filter((l) => /\[consult\] config:/.test(l));
    assert.equal(fatal.length, 1, `one config line: ${err.message.slice(-1500)}`);
    assert.match(fatal[0], re);
    assert.match(fatal[0], /FATAL/);
    if (cfg.turn_secret && cfg.turn_secret !== 'short') assert.ok(!err.message.includes(cfg.turn_secret), 'secret not logged');
    const dir = /\(dir ([^)]+)\)/.exec(err.message)?.[1];
    if (dir && dir.includes('consult-janus-')) fs.rmSync(dir, { recursive: true, force: true });
  }
});
