// patient-share.test.mjs - the practice policy on a patient sharing a
// screen, against the real Janus: admin set_practice patient_share
// ("never" by default, stored, shown in stats, checked), the policy in
// `ringing`, `call_accepted`, the patient's join reply in a call and the
// doctor's resume reply; a patient's `media` signal with "screen": true is
// refused with forbidden (field "screen") where the practice says "never"
// and nothing reaches the doctor, and is relayed where it says "allowed".
// The operator's command (scripts/consult-admin set-practice
// --patient-share) sets it too.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { REPO } from '../../scripts/lib/janus.mjs';
import { useStack, assertError, assertOk, rand } from './helpers.mjs';

const ctx = useStack({ janus: { env: { CONSULT_TEST: '1' } } });

/** A reception, a doctor and a patient of that doctor, rung by the doctor. */
async function ringing(practice, d = 0) {
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
  return s.practices.find((x) => x.slug === slug).patient_share;
}

const media = (screen) => ({ request: 'signal', type: 'media', audio: true, video: true, ...(screen === undefined ? {} : { screen }) });

test('patient_share: "never" by default; a patient\'s screen share is refused with forbidden and reaches nobody', async () => {
  assert.equal(await policyOf(ctx.A.slug), 'never');
  const { doc, p, ring } = await ringing(ctx.A);
  assert.equal(ring.patient_share, 'never');
  assertOk(await p.handle.request({ request: 'accept' }));
  const acc = await doc.handle.waitEvent('call_accepted');
  assert.equal(acc.patient_share, 'never');

  const r = await p.handle.request(media(true));
  assertError(r, 'forbidden', 411);
  assert.equal(r.field, 'screen');
  // the same media state without a screen passes (the refusal is about the screen only)
  assertOk(await p.handle.request(media(false)));
  const m = await doc.handle.waitEvent('signal');
  assert.deepEqual({ ...m }, { consult: 'event', event: 'signal', type: 'media', audio: true, video: true, screen: false });
  assertError(await p.handle.request(media(true)), 'forbidden', 411); // refused again after a plain one
  await doc.handle.sync();
  assert.deepEqual(doc.handle.pending('signal'), [], 'nothing of a refused share reached the doctor');
  // checked like every boolean of a signal
  for (const screen of ['on', 1]) {
    const bad = await p.handle.request(media(screen));
    assertError(bad, 'invalid_field', 403);
    assert.equal(bad.field, 'screen');
  }
  // the doctor's own `media` with a screen is not the patient's and passes
  assertOk(await doc.handle.request(media(true)));
  assert.equal((await p.handle.waitEvent('signal')).screen, true);
  assertOk(await doc.handle.request({ request: 'hangup' }));
  await p.handle.waitEvent('call_ended');
});

test('admin set_practice patient_share: stored, checked, per practice; "allowed" relays the share and every call side learns it', async () => {
  const slug = ctx.B.slug;
  const bad = [
    [{ request: 'set_practice', practice: slug, patient_share: 'sometimes' }, 'invalid_field', 'patient_share'],
    [{ request: 'set_practice', practice: slug, patient_share: true }, 'invalid_field', 'patient_share'],
    [{ request: 'set_practice', practice: `no-such-${rand(3)}`, patient_share: 'allowed' }, 'not_found', 'practice'],
    [{ request: 'set_practice', practice: slug, patient_share: null }, 'missing_field', 'relay_only'],
    // one bad option: nothing of the request is applied
    [{ request: 'set_practice', practice: slug, patient_share: 'allowed', audio_only: 'rarely' }, 'invalid_field', 'audio_only'],
  ];
  for (const [body, error, field] of bad) {
    const r = await ctx.janus.admin(body);
    assertError(r, error);
    assert.equal(r.field, field, JSON.stringify(body));
  }
  assert.equal(await policyOf(slug), 'never');
  assert.equal(ctx.db(`SELECT patient_share FROM practices WHERE slug = '${slug}'`)[0].patient_share, 0);

  assertOk(await ctx.janus.admin({ request: 'set_practice', practice: slug, patient_share: 'allowed' }));
  assert.equal(await policyOf(slug), 'allowed');
  assert.equal(ctx.db(`SELECT patient_share FROM practices WHERE slug = '${slug}'`)[0].patient_share, 1);
  assert.equal(await policyOf(ctx.A.slug), 'never', 'the other practice is untouched');

  const { doc, p, ring } = await ringing(ctx.B);
  assert.equal(ring.patient_share, 'allowed');
  assertOk(await p.handle.request({ request: 'accept' }));
  assert.equal((await doc.handle.waitEvent('call_accepted')).patient_share, 'allowed');
  assertOk(await p.handle.request(media(true)));
  const m = await doc.handle.waitEvent('signal');
  assert.deepEqual({ ...m }, { consult: 'event', event: 'signal', type: 'media', audio: true, video: true, screen: true });
  assertOk(await p.handle.request(media(false)));
  assert.equal((await doc.handle.waitEvent('signal')).screen, false);

  // The patient's page taking its call back (resume_call) learns it in the join reply.
  const { client, handle } = await ctx.connect();
  const over = assertOk(await handle.request({ request: 'join', practice: slug, code: p.appt.code,
    first_name: p.first, last_name: p.last, accept_terms: true, resume_call: p.reply.visit_id }));
  assert.equal(over.state, 'in_call', JSON.stringify(over));
  assert.equal(over.patient_share, 'allowed');

  // Forbidden again mid-call: the next share is refused (the server reads the policy at each signal).
  assertOk(await ctx.janus.admin({ request: 'set_practice', practice: slug, patient_share: 'never' }));
  const r = await handle.request(media(true));
  assertError(r, 'forbidden', 411);
  assert.equal(r.field, 'screen');
  await doc.handle.sync();
  assert.deepEqual(doc.handle.pending('signal'), [], 'nothing relayed after the practice forbade it');
  assertOk(await doc.handle.request({ request: 'hangup' }));
  await handle.waitEvent('call_ended');
  await client.close();
});

test('a resumed doctor page learns the policy with its held call', async () => {
  assertOk(await ctx.janus.admin({ request: 'set_practice', practice: ctx.A.slug, patient_share: 'allowed' }));
  const rec = await ctx.login(ctx.A.receptions[0]);
  const { client, handle } = await ctx.connect();
  const who = ctx.A.doctors[1];
  const login = assertOk(await handle.request({ request: 'login', username: who.username, password: who.password }));
  ctx.secret(login.session_token, login.device_token);
  const p = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: who.id }));
  assertOk(await handle.request({ request: 'call', visit_id: p.reply.visit_id }));
  await p.handle.waitEvent('ringing');
  assertOk(await p.handle.request({ request: 'accept' }));
  await handle.waitEvent('call_accepted');
  await client.close(); // the doctor's connection is lost: the call is held
  const again = await ctx.connect();
  const r = assertOk(await again.handle.request({ request: 'resume', session_token: login.session_token,
    resume_call: p.reply.visit_id }));
  assert.equal(r.call?.visit_id, p.reply.visit_id, JSON.stringify(r.call));
  assert.equal(r.call.patient_share, 'allowed');
  assertOk(await again.handle.request({ request: 'hangup' }));
  await p.handle.waitEvent('call_ended');
  assertOk(await ctx.janus.admin({ request: 'set_practice', practice: ctx.A.slug, patient_share: 'never' }));
});

test('consult-admin set-practice --patient-share sets and shows it', async () => {
  const slug = ctx.B.slug;
  // a deadline for a busy machine, not an expectation
  const cli = (...args) => new Promise((resolve) => {
    const c = spawn(process.execPath, [path.join(REPO, 'scripts/consult-admin'), '--url', ctx.janus.adminUrl, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONSULT_ADMIN_SECRET: ctx.janus.adminSecret } });
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => c.kill('SIGKILL'), 60000);
    c.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
  let out = await cli('set-practice', slug, '--patient-share', 'sometimes');
  assert.equal(out.code, 2, out.out);
  out = await cli('set-practice', slug, '--patient-share', 'allowed');
  assert.equal(out.code, 0, out.out);
  assert.equal(await policyOf(slug), 'allowed');
  out = await cli('stats', slug);
  assert.equal(out.code, 0, out.out);
  assert.match(out.out, /patient_share[\s\S]*allowed/);
  out = await cli('set-practice', slug, '--patient-share=never');
  assert.equal(out.code, 0, out.out);
  assert.equal(await policyOf(slug), 'never');
});
