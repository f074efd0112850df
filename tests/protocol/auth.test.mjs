// auth.test.mjs - login, roles, request validation and the admin API.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JanusClient } from '../../scripts/lib/client.mjs';
import { useStack, assertError, assertOk, rand, uniqueName, now } from './helpers.mjs';

const ctx = useStack();

test('practice_info: known and unknown slug', async () => {
  const { handle } = await ctx.connect();
  const r = assertOk(await handle.request({ request: 'practice_info', practice: ctx.A.slug }));
  assert.equal(r.consult, 'practice_info');
  assert.equal(r.name, 'Hautärzte am Marktplatz');
  assert.equal(r.phone, '0721-5163690');
  assertError(await handle.request({ request: 'practice_info', practice: 'no-such-practice' }), 'not_found', 440);
});

test('login ok for doctor and reception; returns role and practice', async () => {
  const doc = ctx.A.doctors[0];
  const { handle } = await ctx.connect();
  const r = assertOk(await handle.request({ request: 'login', username: doc.username, password: doc.password }));
  assert.equal(r.consult, 'login');
  assert.equal(r.staff_id, doc.id);
  assert.equal(r.role, 'doctor');
  assert.equal(r.display_name, 'Dr. Weber');
  assert.equal(r.practice.slug, ctx.A.slug);
  assert.equal(r.practice.name, ctx.A.name);
  // A doctor handle receives a waiting event at once.
  const w = await handle.waitEvent('waiting');
  assert.ok(Array.isArray(w.visits));
  // Logging in twice is wrong_state.
  assertError(await handle.request({ request: 'login', username: doc.username, password: doc.password }), 'wrong_state', 412);

  const rec = ctx.A.receptions[0];
  const { handle: h2 } = await ctx.connect();
  const r2 = assertOk(await h2.request({ request: 'login', username: rec.username, password: rec.password }));
  assert.equal(r2.role, 'reception');
  assert.equal(r2.staff_id, rec.id);
});

test('login failures: wrong password and unknown user give the same error', async () => {
  const doc = ctx.A.doctors[1];
  const { handle } = await ctx.connect();
  const wrong = await handle.request({ request: 'login', username: doc.username, password: 'not-the-password' });
  assertError(wrong, 'login_failed', 420);
  const unknown = await handle.request({ request: 'login', username: `nobody.${rand()}`, password: 'whatever-123' });
  assertError(unknown, 'login_failed', 420);
  assert.equal(wrong.reason, unknown.reason, 'reason must not reveal which part was wrong');
  // The handle is still anonymous: staff requests are not_authenticated.
  assertError(await handle.request({ request: 'list_doctors' }), 'not_authenticated', 410);
  // And the correct password still works afterwards.
  assertOk(await handle.request({ request: 'login', username: doc.username, password: doc.password }));
});

test('disabled account: login_failed; enabled again: ok', async () => {
  const pw = ctx.secret(`Pw-${rand(8)}`);
  const username = `dis.${rand(3)}`;
  const add = await ctx.janus.admin({ request: 'add_staff', practice: ctx.A.slug, username, display_name: 'Dr. Aus', role: 'doctor', password: pw });
  assertOk(add);
  assertOk(await ctx.janus.admin({ request: 'set_disabled', username, disabled: true }));
  const { handle } = await ctx.connect();
  const r = await handle.request({ request: 'login', username, password: pw });
  assertError(r, 'login_failed', 420);
  const unknown = await handle.request({ request: 'login', username: `nobody.${rand()}`, password: pw });
  assert.equal(r.reason, unknown.reason);
  // Disabled doctors are not offered by list_doctors.
  const rec = await ctx.login(ctx.A.receptions[0]);
  const docs = assertOk(await rec.handle.request({ request: 'list_doctors' }));
  assert.ok(!docs.doctors.some((d) => d.id === add.staff_id));
  assertOk(await ctx.janus.admin({ request: 'set_disabled', username, disabled: false }));
  assertOk(await handle.request({ request: 'login', username, password: pw }));
});

test('login rate limit: 5 failures for one user name -> rate_limited with retry_after', async () => {
  const pw = ctx.secret(`Pw-${rand(8)}`);
  const username = `rl.${rand(3)}`;
  assertOk(await ctx.janus.admin({ request: 'add_staff', practice: ctx.A.slug, username, display_name: 'Rate', role: 'reception', password: pw }));
  // Failures spread over several handles: the limit is per user name.
  for (let i = 0; i < 5; i++) {
    const { handle } = await ctx.connect();
    assertError(await handle.request({ request: 'login', username, password: `wrong-${i}-xxxx` }), 'login_failed', 420);
  }
  const { handle } = await ctx.connect();
  const r = await handle.request({ request: 'login', username, password: pw });
  assertError(r, 'rate_limited', 421);
  assert.ok(Number.isInteger(r.retry_after) && r.retry_after > 0 && r.retry_after <= 60, `retry_after ${r.retry_after}`);
  // Other users are not affected.
  const other = ctx.A.receptions[0];
  assertOk(await handle.request({ request: 'login', username: other.username, password: other.password }));
});

test('login rate limit per handle: 5 unknown user names on one handle', async () => {
  const { handle } = await ctx.connect();
  for (let i = 0; i < 5; i++) {
    assertError(await handle.request({ request: 'login', username: `ghost${i}.${rand()}`, password: 'x-password' }), 'login_failed');
  }
  const doc = ctx.B.doctors[0];
  const r = await handle.request({ request: 'login', username: doc.username, password: doc.password });
  assertError(r, 'rate_limited', 421);
  assert.ok(r.retry_after > 0);
});

test('not_authenticated: staff requests on an anonymous handle', async () => {
  const { handle } = await ctx.connect();
  for (const body of [
    { request: 'logout' }, { request: 'list_doctors' }, { request: 'list_appointments' },
    { request: 'create_appointment', doctor_id: null, starts_at: now() }, { request: 'cancel_appointment', appointment_id: 1 },
    { request: 'waiting_list' }, { request: 'call', visit_id: 1 }, { request: 'cancel_call' },
  ]) {
    assertError(await handle.request(body), 'not_authenticated', 410);
  }
  // Patient requests on an anonymous handle: wrong_state.
  for (const body of [{ request: 'leave' }, { request: 'accept' }, { request: 'decline' }]) {
    assertError(await handle.request(body), 'wrong_state', 412);
  }
});

test('roles: reception may not use doctor requests; staff may not use patient requests', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  for (const body of [{ request: 'waiting_list' }, { request: 'call', visit_id: 1 }, { request: 'cancel_call' }]) {
    assertError(await rec.handle.request(body), 'forbidden', 411);
  }
  const doc = await ctx.login(ctx.A.doctors[0]);
  for (const h of [rec.handle, doc.handle]) {
    for (const body of [{ request: 'leave' }, { request: 'accept' }, { request: 'decline' }]) {
      assertError(await h.request(body), 'forbidden', 411);
    }
    const join = await h.request({ request: 'join', practice: ctx.A.slug, code: 'ABCD-EFGH-JKMN', first_name: 'A', last_name: 'B', accept_terms: true });
    assertError(join, 'wrong_state', 412); // "handle already joined or logged in"
  }
  // logout -> anonymous again.
  assertOk(await rec.handle.request({ request: 'logout' }));
  assertError(await rec.handle.request({ request: 'list_doctors' }), 'not_authenticated', 410);
});

test('patient handle sending staff requests -> forbidden', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const appt = await ctx.appointment(rec.handle);
  const p = await ctx.patient(appt);
  for (const body of [
    { request: 'logout' }, { request: 'list_doctors' }, { request: 'list_appointments' },
    { request: 'create_appointment', doctor_id: null, starts_at: now() }, { request: 'cancel_appointment', appointment_id: appt.appointment_id },
    { request: 'waiting_list' }, { request: 'call', visit_id: p.reply.visit_id }, { request: 'cancel_call' },
  ]) {
    assertError(await p.handle.request(body), 'forbidden', 411);
  }
  assertError(await p.handle.request({ request: 'login', username: 'x.y.z', password: 'abc' }), 'wrong_state', 412);
  assertError(await p.handle.request({ request: 'join', practice: ctx.A.slug, code: appt.code, first_name: 'A', last_name: 'B', accept_terms: true }), 'wrong_state', 412);
  assertOk(await p.handle.request({ request: 'leave' }));
});

test('malformed requests: bad_request, unknown_request, missing_field, invalid_field', async () => {
  const { handle } = await ctx.connect();
  assertError(await handle.request({}), 'bad_request', 400);
  assertError(await handle.request({ request: 42 }), 'bad_request', 400);
  assertError(await handle.request({ request: null }), 'bad_request', 400);
  assertError(await handle.request({ request: 'fly_to_the_moon' }), 'unknown_request', 401);
  let r = await handle.request({ request: 'login', password: 'abcdefghijk' });
  assertError(r, 'missing_field', 402);
  assert.equal(r.field, 'username');
  r = await handle.request({ request: 'login', username: 'dr.x', password: 12345 });
  assertError(r, 'invalid_field', 403);
  assert.equal(r.field, 'password');
  r = await handle.request({ request: 'practice_info' });
  assertError(r, 'missing_field', 402);
  assert.equal(r.field, 'practice');
  r = await handle.request({ request: 'join', practice: ctx.A.slug, code: 'ABCD-EFGH-JKMN', first_name: 'A', last_name: 'B', accept_terms: false });
  assertError(r, 'invalid_field', 403);
  assert.equal(r.field, 'accept_terms');
  r = await handle.request({ request: 'join', practice: ctx.A.slug, code: 'ABCD-EFGH-JKMN', first_name: 'A', accept_terms: true });
  assertError(r, 'missing_field', 402);
  assert.equal(r.field, 'last_name');
});

test('a body that is not an object is bad_request (or refused by the core)', async () => {
  const { handle } = await ctx.connect();
  for (const body of ['join', [1, 2], 7]) {
    try {
      const r = await handle.request(body);
      assertError(r, 'bad_request', 400);
    } catch (e) {
      assert.ok(e.janus, `unexpected failure ${e.message}`); // Janus core refused a non-object body
    }
  }
  // The handle still works.
  assertOk(await handle.request({ request: 'practice_info', practice: ctx.A.slug }));
});

test('limits: too_long names, too_long code input, invalid_utf8 control characters', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const appt = await ctx.appointment(rec.handle);
  const { handle } = await ctx.connect();
  const base = { request: 'join', practice: ctx.A.slug, code: appt.code, accept_terms: true };
  let r = await handle.request({ ...base, first_name: 'a'.repeat(81), last_name: 'B' });
  assertError(r, 'too_long', 404);
  assert.equal(r.field, 'first_name');
  // 80 bytes of 2-byte characters = 40 characters is fine; 41 are 82 bytes.
  r = await handle.request({ ...base, first_name: 'A', last_name: 'ä'.repeat(41) });
  assertError(r, 'too_long', 404);
  assert.equal(r.field, 'last_name');
  r = await handle.request({ ...base, first_name: 'Eri\u0007ka', last_name: 'B' });
  assertError(r, 'invalid_utf8', 405);
  assert.equal(r.field, 'first_name');
  r = await handle.request({ ...base, first_name: 'A', last_name: 'Mus\nter' });
  assertError(r, 'invalid_utf8', 405);
  r = await handle.request({ ...base, code: 'A'.repeat(33), first_name: 'A', last_name: 'B' });
  assertError(r, 'too_long', 404);
  assert.equal(r.field, 'code');
  r = await handle.request({ request: 'login', username: 'dr.x', password: 'p'.repeat(257) });
  assertError(r, 'too_long', 404);
  // Nothing changed: the handle is still anonymous and can join with the real code.
  const first = ctx.secret(uniqueName('Ok'));
  r = assertOk(await handle.request({ ...base, first_name: ` ${first} `, last_name: 'ä'.repeat(40) }));
  assert.equal(r.resumed, false);
  const doc = await ctx.login(ctx.A.doctors[0]);
  const list = assertOk(await doc.handle.request({ request: 'waiting_list' }));
  const v = list.visits.find((x) => x.visit_id === r.visit_id);
  assert.ok(v, 'joined visit in the waiting list');
  assert.equal(v.first_name, first, 'name trimmed of outer spaces');
  assert.equal(v.last_name, 'ä'.repeat(40));
  assertOk(await handle.request({ request: 'leave' }));
});

test('invalid UTF-8 bytes in the JSON: the core refuses, the plugin state is unchanged', async (t) => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const appt = await ctx.appointment(rec.handle);
  const { client, handle } = await ctx.connect();
  const first = ctx.secret(uniqueName('Utf'));
  const json = JSON.stringify({
    janus: 'message', session_id: client.sessionId, handle_id: handle.id, transaction: 'bad-utf8',
    body: { request: 'join', practice: ctx.A.slug, code: appt.code, first_name: 'XXXX', last_name: first, accept_terms: true },
  });
  const bytes = Buffer.from(json, 'utf8');
  const i = bytes.indexOf(Buffer.from('XXXX'));
  bytes[i] = 0xff; bytes[i + 1] = 0xfe; // not UTF-8
  const reply = await client.sendRaw(bytes);
  t.diagnostic(`core answer: ${reply ? JSON.stringify(reply.error) : (client.closed ? 'socket closed' : 'none')}`);
  if (reply) {
    assert.equal(reply.janus, 'error', JSON.stringify(reply));
    assert.ok(reply.error?.code >= 450, JSON.stringify(reply));
  } else {
    assert.ok(client.closed, 'no reply and socket open: invalid UTF-8 was silently accepted?');
  }
  // The plugin saw nothing: the appointment is still booked, with no patient.
  const list = assertOk(await rec.handle.request({ request: 'list_appointments' }));
  const row = list.appointments.find((a) => a.id === appt.appointment_id);
  assert.equal(row.status, 'booked');
  assert.equal(row.patient, null);
});

// A minimal but complete offer: the core accepts it and hands it to the plugin.
const OFFER_SDP = ['v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
  'a=msid-semantic: WMS', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=ice-options:trickle',
  'a=fingerprint:sha-256 12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0',
  'a=setup:actpass', 'a=mid:0', 'a=sendrecv', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2', ''].join('\r\n');

test('jsep present -> wrong_state (plugin), bad jsep -> refused by the core', async () => {
  const { handle } = await ctx.connect();
  const r = await handle.request({ request: 'practice_info', practice: ctx.A.slug }, { jsep: { type: 'offer', sdp: OFFER_SDP } });
  assertError(r, 'wrong_state', 412);
  // Also for a request that would otherwise succeed and change state.
  const rec = await ctx.login(ctx.A.receptions[0]);
  const appt = await ctx.appointment(rec.handle);
  const { handle: hj } = await ctx.connect(); // one offer per handle: the core keeps its ICE state
  const j = await hj.request({ request: 'join', practice: ctx.A.slug, code: appt.code, first_name: 'Jsep', last_name: 'Test', accept_terms: true },
    { jsep: { type: 'offer', sdp: OFFER_SDP } });
  assertError(j, 'wrong_state', 412);
  const list = assertOk(await rec.handle.request({ request: 'list_appointments' }));
  assert.equal(list.appointments.find((a) => a.id === appt.appointment_id).status, 'booked');
  // An SDP without m= lines never reaches the plugin: Janus answers 465.
  const { handle: h2 } = await ctx.connect();
  await assert.rejects(h2.request({ request: 'practice_info', practice: ctx.A.slug }, { jsep: { type: 'offer', sdp: 'v=0\r\n' } }),
    (e) => e.janus?.code === 465);
});

test('admin API: add_practice conflict, add_staff conflict and validation, list_staff', async () => {
  assertError(await ctx.janus.admin({ request: 'add_practice', slug: ctx.A.slug, name: 'Andere' }), 'conflict', 444);
  const slug = `neu-${rand(3)}`;
  const p = assertOk(await ctx.janus.admin({ request: 'add_practice', slug, name: 'Neue Praxis' }));
  assert.ok(Number.isInteger(p.practice_id) && p.practice_id > 0);
  assertError(await ctx.janus.admin({ request: 'add_practice', slug: 'Bad Slug!', name: 'x' }), 'invalid_field', 403);
  const pw = ctx.secret(`Pw-${rand(8)}`);
  const s = assertOk(await ctx.janus.admin({ request: 'add_staff', practice: slug, username: `neu.${rand(2)}`, display_name: 'Neu', role: 'doctor', password: pw }));
  assert.ok(s.staff_id > 0);
  assertError(await ctx.janus.admin({ request: 'add_staff', practice: slug, username: ctx.A.doctors[0].username, display_name: 'X', role: 'doctor', password: pw }), 'conflict', 444);
  const short = await ctx.janus.admin({ request: 'add_staff', practice: slug, username: `kurz.${rand(2)}`, display_name: 'X', role: 'doctor', password: 'short' });
  assert.equal(short.ok, false);
  assert.ok(['invalid_field', 'too_long'].includes(short.error), JSON.stringify(short));
  const role = await ctx.janus.admin({ request: 'add_staff', practice: slug, username: `r.${rand(2)}`, display_name: 'X', role: 'admin', password: pw });
  assertError(role, 'invalid_field', 403);
  assertError(await ctx.janus.admin({ request: 'add_staff', practice: 'nope-nope', username: `r.${rand(2)}`, display_name: 'X', role: 'doctor', password: pw }), 'not_found', 440);
  const ls = assertOk(await ctx.janus.admin({ request: 'list_staff', practice: ctx.A.slug }));
  const names = ls.staff.map((x) => x.username);
  for (const d of ctx.A.doctors) assert.ok(names.includes(d.username));
  const text = JSON.stringify(ls);
  for (const d of ctx.A.doctors) assert.ok(!text.includes(d.password), 'list_staff leaks a password');
  assert.ok(!/hash|argon|\$/.test(text), 'list_staff leaks a hash');
});

test('admin API: reset_password and set_disabled of unknown users', async () => {
  const pw = ctx.secret(`Pw-${rand(8)}`);
  const username = `reset.${rand(3)}`;
  assertOk(await ctx.janus.admin({ request: 'add_staff', practice: ctx.B.slug, username, display_name: 'R', role: 'reception', password: pw }));
  const pw2 = ctx.secret(`Pw-${rand(8)}`);
  assertOk(await ctx.janus.admin({ request: 'reset_password', username, password: pw2 }));
  const { handle } = await ctx.connect();
  assertError(await handle.request({ request: 'login', username, password: pw }), 'login_failed');
  assertOk(await handle.request({ request: 'login', username, password: pw2 }));
  assertError(await ctx.janus.admin({ request: 'reset_password', username: `nobody.${rand()}`, password: pw2 }), 'not_found', 440);
  assertError(await ctx.janus.admin({ request: 'set_disabled', username: `nobody.${rand()}`, disabled: true }), 'not_found', 440);
});

test('admin API: health, stats, live_visits (no names), unknown request', async () => {
  const h = assertOk(await ctx.janus.admin({ request: 'health' }));
  assert.equal(h.status, 'ok');
  assert.equal(h.store, 'ok');
  assert.ok(Number.isInteger(h.uptime_seconds) && h.uptime_seconds >= 0);
  assert.ok(Number.isInteger(h.handles));
  assert.equal(typeof h.version, 'string');

  const rec = await ctx.login(ctx.A.receptions[0]);
  const appt = await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[0].id });
  const p = await ctx.patient(appt);
  const stats = assertOk(await ctx.janus.admin({ request: 'stats', practice: ctx.A.slug }));
  const row = stats.practices.find((x) => x.slug === ctx.A.slug);
  assert.ok(row, JSON.stringify(stats));
  assert.ok(row.waiting >= 1, JSON.stringify(row));
  for (const k of ['away', 'ringing', 'in_call', 'calls_today']) assert.ok(Number.isInteger(row[k]), k);
  const live = assertOk(await ctx.janus.admin({ request: 'live_visits' }));
  const v = live.visits.find((x) => x.visit_id === p.reply.visit_id);
  assert.ok(v, JSON.stringify(live));
  assert.equal(v.practice, ctx.A.slug);
  assert.equal(v.state, 'waiting');
  assert.equal(v.doctor_id, ctx.A.doctors[0].id);
  const text = JSON.stringify(live) + JSON.stringify(stats);
  assert.ok(!text.includes(p.first) && !text.includes(p.last), 'admin replies contain patient names');
  assert.ok(!text.includes(appt.code), 'admin replies contain a code');
  assertError(await ctx.janus.admin({ request: 'no_such_thing' }), 'unknown_request', 401);
  // The test clock exists only with CONSULT_TEST=1 (not set here).
  const clock = await ctx.janus.admin({ request: 'test_clock', offset_seconds: 3600 });
  assertError(clock, 'forbidden', 411);
  assert.equal(clock.field, 'request');
  assert.match(clock.reason, /tests only.*CONSULT_TEST=1/);
  assertOk(await p.handle.request({ request: 'leave' }));
  const live2 = assertOk(await ctx.janus.admin({ request: 'live_visits', practice: ctx.A.slug }));
  assert.ok(!live2.visits.some((x) => x.visit_id === p.reply.visit_id), 'visit gone after leave');
});

test('admin API: wrong admin_secret -> Janus 403 error, plugin not reached', async () => {
  const slug = `secret-${rand(3)}`;
  const r = await ctx.janus.adminRaw({
    janus: 'message_plugin', plugin: 'janus.plugin.consult', admin_secret: 'wrong',
    transaction: 'x', request: { request: 'add_practice', slug, name: 'X' },
  });
  assert.equal(r.json.janus, 'error');
  assert.equal(r.json.error.code, 403);
  const r2 = await ctx.janus.adminRaw({
    janus: 'message_plugin', plugin: 'janus.plugin.consult', transaction: 'y', request: { request: 'health' },
  });
  assert.equal(r2.json.janus, 'error');
  assert.equal(r2.json.error.code, 403);
  // The practice was not created.
  const { handle } = await ctx.connect();
  assertError(await handle.request({ request: 'practice_info', practice: slug }), 'not_found');
});

test('a raw client can use the Janus API directly (sanity of the harness)', async () => {
  const c = await JanusClient.connect(ctx.janus.wsUrl);
  ctx.clients.push(c);
  const sid = await c.createSession();
  assert.ok(sid > 0);
  await assert.rejects(c.send({ janus: 'attach', session_id: sid, plugin: 'janus.plugin.nope' }), (e) => e.janus?.code > 0);
});
