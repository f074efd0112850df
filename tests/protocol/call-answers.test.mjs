// call-answers.test.mjs - the patient's answer to a call and what each side
// tells the other during it, against the real Janus: decline with a reason
// (the doctor reads why), accept with audio only where the practice allows
// it (admin set_practice audio_only, stored; refused with forbidden where
// it is "never", the call keeps ringing), the policy in ringing and in the
// join and resume replies, and the `media` signal (microphone / camera on
// or off) relayed rebuilt from its checked fields. The operator's command
// (scripts/consult-admin set-practice --audio-only) sets the policy too.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { REPO } from '../../scripts/lib/janus.mjs';
import { useStack, assertError, assertOk, rand } from './helpers.mjs';

const ctx = useStack({ janus: { env: { CONSULT_TEST: '1' } } });

/** A reception, a doctor and a patient of that doctor, rung by the doctor. */
async function ringing(practice = ctx.A, d = 0) {
  const rec = await ctx.login(practice.receptions[0]);
  const doc = await ctx.login(practice.doctors[d]);
  const p = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: practice.doctors[d].id }),
    { practice: practice.slug });
  assertOk(p.reply);
  assertOk(await doc.handle.request({ request: 'call', visit_id: p.reply.visit_id }));
  const ring = await p.handle.waitEvent('ringing');
  return { rec, doc, p, ring };
}

async function policyOf(slug) {
  const s = assertOk(await ctx.janus.admin({ request: 'stats', practice: slug }));
  return s.practices.find((x) => x.slug === slug).audio_only;
}

test('decline with a reason: the doctor reads it; absent means declined; an unknown reason changes nothing', async () => {
  const { doc, p } = await ringing();
  const visit = p.reply.visit_id;
  // A reason outside the list: invalid_field, the call keeps ringing.
  for (const reason of ['busy', 'Camera_Blocked', 7, '']) {
    const r = await p.handle.request({ request: 'decline', reason });
    assertError(r, 'invalid_field', 403);
    assert.equal(r.field, 'reason', JSON.stringify(reason));
  }
  await doc.handle.sync();
  assert.deepEqual(doc.handle.pending('call_declined'), [], 'a refused decline reaches nobody');
  for (const reason of ['camera_blocked', 'microphone_blocked', 'no_devices', 'declined', null]) {
    assertOk(await p.handle.request({ request: 'decline', ...(reason === null ? {} : { reason }) }));
    const dec = await doc.handle.waitEvent('call_declined');
    assert.deepEqual({ ...dec }, { consult: 'event', event: 'call_declined', visit_id: visit, reason: reason ?? 'declined' });
    // the patient waits at their place again and can be rung anew
    const list = assertOk(await doc.handle.request({ request: 'waiting_list' }));
    assert.equal(list.visits.find((v) => v.visit_id === visit)?.state, 'waiting');
    assertOk(await doc.handle.request({ request: 'call', visit_id: visit }));
    await p.handle.waitEvent('ringing');
  }
  // not ringing: wrong_state whatever the reason
  assertOk(await doc.handle.request({ request: 'cancel_call' }));
  await p.handle.waitEvent('ring_cancelled');
  assertError(await p.handle.request({ request: 'decline', reason: 'camera_blocked' }), 'wrong_state', 412);
  assertOk(await p.handle.request({ request: 'leave' }));
});

test('audio-only accept where the practice allows it (the default): ringing says so, the doctor learns it', async () => {
  assert.equal(await policyOf(ctx.A.slug), 'allowed');
  const { doc, p, ring } = await ringing();
  assert.equal(ring.audio_only, 'allowed');
  let r = await p.handle.request({ request: 'accept', audio_only: 'yes' });
  assertError(r, 'invalid_field', 403);
  assert.equal(r.field, 'audio_only');
  r = await p.handle.request({ request: 'accept', audio_only: 1 });
  assertError(r, 'invalid_field', 403);
  assertOk(await p.handle.request({ request: 'accept', audio_only: true }));
  const acc = await doc.handle.waitEvent('call_accepted');
  assert.equal(acc.visit_id, p.reply.visit_id);
  assert.equal(acc.audio_only, true);
  assert.equal(acc.forward, 'allowed');
  assert.ok(Array.isArray(acc.ice_servers));
  // A page reloaded during the call gets the policy with the call back.
  const { client, handle } = await ctx.connect();
  const back = assertOk(await handle.request({ request: 'join', practice: ctx.A.slug, code: p.appt.code,
    first_name: p.first, last_name: p.last, accept_terms: true, resume_call: p.reply.visit_id }));
  assert.equal(back.state, 'in_call');
  assert.equal(back.audio_only, 'allowed');
  assertOk(await doc.handle.request({ request: 'hangup' }));
  await handle.waitEvent('call_ended');
  await client.close();
  // A plain accept is a call with the camera.
  const second = await ringing();
  assertOk(await second.p.handle.request({ request: 'accept' }));
  assert.equal((await second.doc.handle.waitEvent('call_accepted')).audio_only, false);
  assertOk(await second.doc.handle.request({ request: 'hangup' }));
});

test('admin set_practice audio_only: stored, shown in stats; "never" refuses an audio-only accept and the call keeps ringing', async () => {
  const slug = ctx.B.slug;
  const bad = [
    [{ request: 'set_practice', practice: slug, audio_only: 'sometimes' }, 'invalid_field', 'audio_only'],
    [{ request: 'set_practice', practice: slug, audio_only: true }, 'invalid_field', 'audio_only'],
    [{ request: 'set_practice', practice: `no-such-${rand(3)}`, audio_only: 'never' }, 'not_found', 'practice'],
    [{ request: 'set_practice', practice: slug, audio_only: null }, 'missing_field', 'relay_only'],
    // one bad option: nothing of the request is applied
    [{ request: 'set_practice', practice: slug, forward: 'never', audio_only: 'rarely' }, 'invalid_field', 'audio_only'],
  ];
  for (const [body, error, field] of bad) {
    const r = await ctx.janus.admin(body);
    assertError(r, error);
    assert.equal(r.field, field, JSON.stringify(body));
  }
  assert.equal(await policyOf(slug), 'allowed');
  assert.equal(ctx.db(`SELECT forward_never FROM practices WHERE slug = '${slug}'`)[0].forward_never, 0);

  assertOk(await ctx.janus.admin({ request: 'set_practice', practice: slug, audio_only: 'never' }));
  assert.equal(await policyOf(slug), 'never');
  assert.equal(ctx.db(`SELECT audio_only_never FROM practices WHERE slug = '${slug}'`)[0].audio_only_never, 1);
  assert.equal(await policyOf(ctx.A.slug), 'allowed', 'the other practice is untouched');

  const { doc, p, ring } = await ringing(ctx.B);
  assert.equal(ring.audio_only, 'never');
  const r = await p.handle.request({ request: 'accept', audio_only: true });
  assertError(r, 'forbidden', 411);
  assert.equal(r.field, 'audio_only');
  await doc.handle.sync();
  assert.deepEqual(doc.handle.pending('call_accepted'), [], 'the doctor heard nothing');
  const live = assertOk(await ctx.janus.admin({ request: 'live_visits', practice: slug }));
  assert.equal(live.visits.find((v) => v.visit_id === p.reply.visit_id)?.state, 'ringing', 'still ringing');
  // A second page of the patient (take-over while ringing) learns the policy in the join reply.
  const { client, handle } = await ctx.connect();
  const over = assertOk(await handle.request({ request: 'join', practice: slug, code: p.appt.code,
    first_name: p.first, last_name: p.last, accept_terms: true }));
  assert.equal(over.state, 'ringing');
  assert.equal(over.audio_only, 'never');
  assert.equal((await handle.waitEvent('ringing')).audio_only, 'never');
  // With the camera the call goes ahead.
  assertOk(await handle.request({ request: 'accept', audio_only: false }));
  assert.equal((await doc.handle.waitEvent('call_accepted')).audio_only, false);
  assertOk(await doc.handle.request({ request: 'hangup' }));
  await handle.waitEvent('call_ended');
  await client.close();

  // The operator's command sets and shows it too (a deadline for a busy machine, not an expectation).
  const cli = (...args) => new Promise((resolve) => {
    const c = spawn(process.execPath, [path.join(REPO, 'scripts/consult-admin'), '--url', ctx.janus.adminUrl, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONSULT_ADMIN_SECRET: ctx.janus.adminSecret } });
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => c.kill('SIGKILL'), 60000);
    c.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
  let out = await cli('set-practice', slug, '--audio-only', 'sometimes');
  assert.equal(out.code, 2, out.out);
  out = await cli('set-practice', slug, '--audio-only', 'allowed');
  assert.equal(out.code, 0, out.out);
  assert.equal(await policyOf(slug), 'allowed');
  out = await cli('set-practice', slug, '--audio-only=never');
  assert.equal(out.code, 0, out.out);
  out = await cli('stats', slug);
  assert.equal(out.code, 0, out.out);
  assert.match(out.out, /audio_only[\s\S]*never/);
  assert.equal(await policyOf(slug), 'never');

  // Both options in one request; back to allowed.
  assertOk(await ctx.janus.admin({ request: 'set_practice', practice: slug, audio_only: 'allowed', forward: 'never' }));
  const s = assertOk(await ctx.janus.admin({ request: 'stats', practice: slug })).practices[0];
  assert.deepEqual([s.audio_only, s.forward], ['allowed', 'never']);
  assertOk(await ctx.janus.admin({ request: 'set_practice', practice: slug, forward: 'allowed' }));
  assert.equal(ctx.db(`SELECT audio_only_never FROM practices WHERE slug = '${slug}'`)[0].audio_only_never, 0);
});

test('a resumed doctor page gets the held call back with how it was accepted', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const { client, handle } = await ctx.connect();
  const who = ctx.A.doctors[1];
  const login = assertOk(await handle.request({ request: 'login', username: who.username, password: who.password }));
  ctx.secret(login.session_token, login.device_token);
  const p = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: who.id }));
  assertOk(await handle.request({ request: 'call', visit_id: p.reply.visit_id }));
  await p.handle.waitEvent('ringing');
  assertOk(await p.handle.request({ request: 'accept', audio_only: true }));
  await handle.waitEvent('call_accepted');
  await client.close(); // the doctor's connection is lost: the call is held
  const again = await ctx.connect();
  const r = assertOk(await again.handle.request({ request: 'resume', session_token: login.session_token,
    resume_call: p.reply.visit_id }));
  assert.equal(r.call?.visit_id, p.reply.visit_id, JSON.stringify(r.call));
  assert.equal(r.call.audio_only, true);
  assertOk(await again.handle.request({ request: 'hangup' }));
  await p.handle.waitEvent('call_ended');
});

test('signal media: relayed both ways rebuilt from the two booleans; checked; only in a call', async () => {
  const { doc, p } = await ringing(ctx.A, 0);
  // Before the call: wrong_state (the fields are checked first).
  assertError(await p.handle.request({ request: 'signal', type: 'media', audio: true, video: true }), 'wrong_state', 412);
  assertOk(await p.handle.request({ request: 'accept', audio_only: true }));
  await doc.handle.waitEvent('call_accepted');
  assertOk(await p.handle.request({ request: 'signal', type: 'media', audio: true, video: false,
    sdp: 'v=0', key: 'abc', extra: { a: 'x'.repeat(5000) } }));
  const m1 = await doc.handle.waitEvent('signal');
  assert.deepEqual({ ...m1 }, { consult: 'event', event: 'signal', type: 'media', audio: true, video: false });
  assertOk(await doc.handle.request({ request: 'signal', type: 'media', audio: false, video: true }));
  const m2 = await p.handle.waitEvent('signal');
  assert.deepEqual({ ...m2 }, { consult: 'event', event: 'signal', type: 'media', audio: false, video: true });
  const bad = [
    [{ type: 'media' }, 'missing_field', 'audio'],
    [{ type: 'media', audio: true }, 'missing_field', 'video'],
    [{ type: 'media', audio: null, video: true }, 'missing_field', 'audio'],
    [{ type: 'media', audio: 'on', video: true }, 'invalid_field', 'audio'],
    [{ type: 'media', audio: true, video: 0 }, 'invalid_field', 'video'],
    [{ type: 'Media', audio: true, video: true }, 'invalid_field', 'type'],
  ];
  for (const [fields, error, field] of bad) {
    const r = await doc.handle.request({ request: 'signal', ...fields });
    assertError(r, error);
    assert.equal(r.field, field, JSON.stringify(fields));
  }
  await p.handle.sync();
  assert.deepEqual(p.handle.pending('signal'), [], 'nothing relayed for a refused signal');
  // The other side detached (held call): dropped, answered {}.
  await p.handle.detach();
  assertOk(await doc.handle.request({ request: 'signal', type: 'media', audio: true, video: true }));
  assertOk(await doc.handle.request({ request: 'hangup' }));
  assertError(await doc.handle.request({ request: 'signal', type: 'media', audio: true, video: true }), 'wrong_state', 412);
});
