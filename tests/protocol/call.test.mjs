// call.test.mjs - signalling relay, reports, hangups, dropped connections,
// the grace period, takeover by a second tab and patient privacy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useStack, assertError, assertOk } from './helpers.mjs';
import { until } from './servers.mjs';

// CONSULT_TEST=1: the grace periods pass on the plugin's test clock.
const ctx = useStack({ graceSeconds: 5, janus: { env: { CONSULT_TEST: '1' } } });
const allPatients = [];

async function patient(appt) {
  const p = await ctx.patient(appt);
  allPatients.push(p);
  return p;
}

test('signal relay: offer, answer, candidates arrive unchanged; report is stored', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[0]);
  const p = await patient(await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[0].id }));
  // Before the call: signal and report are wrong_state.
  assertError(await doc.handle.request({ request: 'signal', type: 'offer', sdp: 'v=0\r\n' }), 'wrong_state', 412);
  assertError(await p.handle.request({ request: 'report', connection_state: 'connected', local_candidate_type: 'host', remote_candidate_type: 'host' }), 'wrong_state', 412);
  await ctx.connectCall(doc, p);
  const offerSdp = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n' +
    'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n' +
    'a=fingerprint:sha-256 AA:BB\r\na=x-unicode:äöü €\r\n';
  assertOk(await doc.handle.request({ request: 'signal', type: 'offer', sdp: offerSdp }));
  const offer = await p.handle.waitEvent('signal');
  assert.deepEqual({ ...offer }, { consult: 'event', event: 'signal', type: 'offer', sdp: offerSdp });
  const answerSdp = offerSdp.replace('a=group', 'a=answer-group');
  assertOk(await p.handle.request({ request: 'signal', type: 'answer', sdp: answerSdp }));
  const answer = await doc.handle.waitEvent('signal');
  assert.equal(answer.type, 'answer');
  assert.equal(answer.sdp, answerSdp);
  const cand = { candidate: 'candidate:842163049 1 udp 1677729535 127.0.0.1 53421 typ host generation 0 ufrag x network-cost 999', sdpMid: '0', sdpMLineIndex: 0 };
  assertOk(await p.handle.request({ request: 'signal', type: 'candidate', candidate: cand }));
  const c1 = await doc.handle.waitEvent('signal');
  assert.equal(c1.type, 'candidate');
  assert.deepEqual(c1.candidate, cand);
  const cand2 = { candidate: '', sdpMid: '1', sdpMLineIndex: 1 };
  assertOk(await doc.handle.request({ request: 'signal', type: 'candidate', candidate: cand2 }));
  assert.deepEqual((await p.handle.waitEvent('signal')).candidate, cand2);
  assertOk(await doc.handle.request({ request: 'signal', type: 'end-of-candidates' }));
  assert.equal((await p.handle.waitEvent('signal')).type, 'end-of-candidates');
  // Limits of signal bodies.
  let r = await doc.handle.request({ request: 'signal', type: 'offer', sdp: 'a'.repeat(65537) });
  assertError(r, 'too_long', 404);
  assert.equal(r.field, 'sdp');
  assertOk(await doc.handle.request({ request: 'signal', type: 'offer', sdp: 'v'.repeat(65536) }));
  assert.equal((await p.handle.waitEvent('signal')).sdp.length, 65536);
  assertError(await doc.handle.request({ request: 'signal', type: 'offer', sdp: '' }), 'invalid_field');
  assertError(await doc.handle.request({ request: 'signal', type: 'bogus', sdp: 'v=0' }), 'invalid_field', 403);
  assertError(await doc.handle.request({ request: 'signal', type: 'offer' }), 'missing_field', 402);
  r = await doc.handle.request({ request: 'signal', type: 'candidate', candidate: { candidate: 'c'.repeat(1025), sdpMid: '0', sdpMLineIndex: 0 } });
  assertError(r, 'too_long', 404);
  r = await doc.handle.request({ request: 'signal', type: 'candidate', candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 64 } });
  assertError(r, 'invalid_field', 403);
  // Reports from both sides.
  assertOk(await doc.handle.request({ request: 'report', connection_state: 'connected', local_candidate_type: 'host', remote_candidate_type: 'srflx' }));
  assertOk(await p.handle.request({ request: 'report', connection_state: 'connected', local_candidate_type: 'srflx', remote_candidate_type: 'host' }));
  assertError(await p.handle.request({ request: 'report', connection_state: 'CONNECTED!', local_candidate_type: 'host', remote_candidate_type: 'host' }), 'invalid_field', 403);
  const live = assertOk(await ctx.janus.admin({ request: 'live_visits', practice: ctx.A.slug }));
  const v = live.visits.find((x) => x.visit_id === p.reply.visit_id);
  assert.equal(v?.state, 'in_call', JSON.stringify(live));
  const stats = assertOk(await ctx.janus.admin({ request: 'stats', practice: ctx.A.slug }));
  assert.ok(stats.practices.find((x) => x.slug === ctx.A.slug).in_call >= 1);
  // Patient hangup -> call_ended to the doctor.
  assertOk(await p.handle.request({ request: 'hangup' }));
  const end = await doc.handle.waitEvent('call_ended');
  assert.equal(end.reason, 'patient_hangup');
  assert.equal(end.visit_id, p.reply.visit_id);
  assertError(await doc.handle.request({ request: 'signal', type: 'end-of-candidates' }), 'wrong_state', 412);
  const stats2 = assertOk(await ctx.janus.admin({ request: 'stats', practice: ctx.A.slug }));
  assert.ok(stats2.practices.find((x) => x.slug === ctx.A.slug).calls_today >= 1);
  // The reports are kept on the visit record.
  const [row] = ctx.db(`SELECT * FROM visits WHERE id = ${Number(p.reply.visit_id)}`);
  assert.ok(row, 'visit row');
  assert.equal(row.state, 'ended');
  assert.equal(row.end_reason, 'patient_hangup');
  assert.ok(Number.isInteger(row.connected_at) && row.connected_at > 0, 'connected_at set by the first connected report');
  assert.equal(row.media_path, 'host/srflx', 'media path from the doctor\'s report');
  assert.equal(row.doctor_conn_state, 'connected');
  assert.equal(row.patient_conn_state, 'connected');
  assert.equal(row.doctor_local_type, 'host');
  assert.equal(row.doctor_remote_type, 'srflx');
  assert.equal(row.patient_local_type, 'srflx');
  assert.equal(row.patient_remote_type, 'host');
});

test('doctor logout during a call hangs up first', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[1]);
  const p = await patient(await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[1].id }));
  await ctx.connectCall(doc, p);
  assertOk(await doc.handle.request({ request: 'logout' }));
  const end = await p.handle.waitEvent('call_ended');
  assert.equal(end.reason, 'doctor_hangup');
  assertError(await doc.handle.request({ request: 'waiting_list' }), 'not_authenticated', 410);
});

test('doctor hangup -> call_ended doctor_hangup to the patient', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[1]);
  const p = await patient(await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[1].id }));
  await ctx.connectCall(doc, p);
  assertOk(await doc.handle.request({ request: 'hangup' }));
  const end = await p.handle.waitEvent('call_ended');
  assert.equal(end.reason, 'doctor_hangup');
  assertError(await doc.handle.request({ request: 'hangup' }), 'wrong_state', 412);
  const list = assertOk(await rec.handle.request({ request: 'list_appointments' }));
  const row = list.appointments.find((a) => a.id === p.appt.appointment_id);
  assert.equal(row.status, 'ended');
  assert.equal(row.end_reason, 'doctor_hangup');
});

test('patient drops while waiting: place kept; rejoin within grace -> resumed, same position', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[0]);
  const docId = ctx.A.doctors[0].id;
  const p1 = await patient(await ctx.appointment(rec.handle, { doctorId: docId }));
  const p2 = await patient(await ctx.appointment(rec.handle, { doctorId: docId }));
  const p3 = await patient(await ctx.appointment(rec.handle, { doctorId: docId }));
  await p2.client.close();
  await doc.handle.waitEvent('waiting', { filter: (e) => e.visits.some((v) => v.visit_id === p2.reply.visit_id && v.state === 'away') });
  // Rejoin at once: the whole 5 s grace period is the margin for a slow machine.
  const { handle } = await ctx.connect();
  const r = assertOk(await handle.request({
    request: 'join', practice: ctx.A.slug, code: p2.appt.code, first_name: p2.first, last_name: p2.last, accept_terms: true,
  }));
  assert.equal(r.resumed, true);
  assert.equal(r.visit_id, p2.reply.visit_id);
  assert.equal(r.ahead, p2.reply.ahead);
  // p3 moved up while p2 was away (an away patient is counted in nobody's
  // position) and back when p2 returned: it ends where it was.
  await p3.handle.sync();
  assert.deepEqual(p3.handle.pending('position').map((e) => e.ahead), [p3.reply.ahead - 1, p3.reply.ahead]);
  // Past the grace period the resumed visit must still be there. A control
  // patient who drops now and stays away shows that the timer ran past it.
  const ctl = await patient(await ctx.appointment(rec.handle, { doctorId: docId }));
  await ctl.client.close();
  await doc.handle.waitEvent('waiting', { filter: (e) => e.visits.some((v) => v.visit_id === ctl.reply.visit_id && v.state === 'away') });
  doc.handle.drain();
  await ctx.advanceClock(6);
  await doc.handle.waitEvent('waiting', { filter: (e) => !e.visits.some((v) => v.visit_id === ctl.reply.visit_id) });
  const list = assertOk(await doc.handle.request({ request: 'waiting_list' }));
  assert.ok(!list.visits.some((v) => v.visit_id === ctl.reply.visit_id), 'the control\'s place expired');
  assert.ok(list.visits.some((v) => v.visit_id === r.visit_id && v.state === 'waiting'), 'the resumed visit is still waiting');
  for (const h of [p1.handle, handle, p3.handle]) await h.request({ request: 'leave' });
});

test('patient drops while waiting and stays away: after the grace period the place is gone', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[1]);
  const docId = ctx.A.doctors[1].id;
  const away = (v) => (e) => e.visits.some((x) => x.visit_id === v.reply.visit_id && x.state === 'away');
  const gone = (v) => (e) => !e.visits.some((x) => x.visit_id === v.reply.visit_id);
  // ctl drops 4 s (test clock) before p1; when ctl's grace is over, p1's is not.
  const ctl = await patient(await ctx.appointment(rec.handle, { doctorId: docId }));
  const p1 = await patient(await ctx.appointment(rec.handle, { doctorId: docId }));
  const p2 = await patient(await ctx.appointment(rec.handle, { doctorId: docId }));
  assert.equal(p2.reply.ahead, p1.reply.ahead + 1);
  await ctl.client.close();
  await doc.handle.waitEvent('waiting', { filter: away(ctl) });
  await ctx.advanceClock(4);
  await p1.client.close();
  await doc.handle.waitEvent('waiting', { filter: away(p1) });
  doc.handle.drain();
  await ctx.advanceClock(1);                  // ctl away 5 s: over; p1 away 1 s (4 s real margin)
  await doc.handle.waitEvent('waiting', { filter: gone(ctl) });
  // (asked after the timer's tick: every expiry of a tick is one locked step)
  const mid = assertOk(await doc.handle.request({ request: 'waiting_list' }));
  assert.ok(away(p1)(mid), `p1's place must be kept within the grace period: ${JSON.stringify(mid)}`);
  await ctx.advanceClock(5);                  // p1 away 6 s
  const pos = await p2.handle.waitEvent('position', { filter: (e) => e.ahead < p1.reply.ahead });
  assert.equal(pos.ahead, p1.reply.ahead - 1);
  await doc.handle.waitEvent('waiting', { filter: gone(p1) });
  // Rejoining now starts anew? The visit ended (grace_expired): the code is
  // still valid, so a new join works with resumed:false.
  const { handle } = await ctx.connect();
  const r = await handle.request({ request: 'join', practice: ctx.A.slug, code: p1.appt.code, first_name: p1.first, last_name: p1.last, accept_terms: true });
  if (r.ok) {
    assert.equal(r.resumed, false);
    await handle.request({ request: 'leave' });
  } else {
    assertError(r, 'code_invalid', 430);
  }
  const list = assertOk(await rec.handle.request({ request: 'list_appointments' }));
  assert.ok(list.appointments.some((a) => a.id === p1.appt.appointment_id));
  await p2.handle.request({ request: 'leave' });
});

test('patient drops during the call -> held for the grace period, then doctor gets call_ended patient_dropped', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[0]);
  const p = await patient(await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[0].id }));
  await ctx.connectCall(doc, p);
  await p.client.close();
  // The call is held (the media is peer to peer): the doctor hears nothing yet.
  await until(() => ctx.db(`SELECT 1 FROM visits WHERE id = ${p.reply.visit_id} AND away_since IS NOT NULL`).length);
  await doc.handle.sync();
  assert.equal(doc.handle.pending('call_ended').length, 0);
  await ctx.advanceClock(6);
  const end = await doc.handle.waitEvent('call_ended');
  assert.equal(end.reason, 'patient_dropped');
  assert.equal(end.visit_id, p.reply.visit_id);
  // The doctor is free for the next call.
  const q = await patient(await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[0].id }));
  assertOk(await doc.handle.request({ request: 'call', visit_id: q.reply.visit_id }));
  assertOk(await doc.handle.request({ request: 'cancel_call' }));
  await q.handle.request({ request: 'leave' });
});

test('doctor drops during the call -> patient gets doctor_left and is back at the head', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[1]);
  const docId = ctx.A.doctors[1].id;
  const p1 = await patient(await ctx.appointment(rec.handle, { doctorId: docId }));
  const p2 = await patient(await ctx.appointment(rec.handle, { doctorId: docId }));
  await ctx.connectCall(doc, p2);
  p2.handle.drain();
  const handles = async () => (await ctx.janus.admin({ request: 'health' })).handles;
  const before = await handles();
  await doc.client.close();
  // The call is held until the grace period ends: the patient hears nothing yet.
  await until(async () => (await handles()) < before);
  await p2.handle.sync();
  assert.equal(p2.handle.pending('doctor_left').length, 0);
  await ctx.advanceClock(6);
  const left = await p2.handle.waitEvent('doctor_left');
  assert.equal(left.requeued, true);
  const pos = await p2.handle.waitEvent('position');
  assert.equal(pos.ahead, 0, 'back at the head of the queue');
  const doc2 = await ctx.login(ctx.A.doctors[1]);
  const list = assertOk(await doc2.handle.request({ request: 'waiting_list' }));
  const ids = list.visits.map((v) => v.visit_id);
  assert.ok(ids.indexOf(p2.reply.visit_id) >= 0 && ids.indexOf(p2.reply.visit_id) < ids.indexOf(p1.reply.visit_id), JSON.stringify(ids));
  for (const p of [p1, p2]) await p.handle.request({ request: 'leave' });
});

test('second tab takes over: old handle gets taken_over and can do nothing more', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const p = await patient(await ctx.appointment(rec.handle, { doctorId: null }));
  const { handle } = await ctx.connect();
  const r = assertOk(await handle.request({ request: 'join', practice: ctx.A.slug, code: p.appt.code, first_name: p.first, last_name: p.last, accept_terms: true }));
  assert.equal(r.resumed, true);
  assert.equal(r.visit_id, p.reply.visit_id);
  await p.handle.waitEvent('taken_over');
  assertError(await p.handle.request({ request: 'leave' }), 'wrong_state', 412);
  assertError(await p.handle.request({ request: 'accept' }), 'wrong_state', 412);
  // The new tab can be called.
  const doc = await ctx.login(ctx.A.doctors[0]);
  assertOk(await doc.handle.request({ request: 'call', visit_id: r.visit_id }));
  await handle.waitEvent('ringing');
  assert.deepEqual(p.handle.pending('ringing'), [], 'old tab must not ring');
  assertOk(await doc.handle.request({ request: 'cancel_call' }));
  assertOk(await handle.request({ request: 'leave' }));
});

test('a patient in a call who joins again ends the call (patient_dropped) and joins anew', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[0]);
  const p = await patient(await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[0].id }));
  await ctx.connectCall(doc, p);
  const { handle } = await ctx.connect();
  const r = assertOk(await handle.request({ request: 'join', practice: ctx.A.slug, code: p.appt.code, first_name: p.first, last_name: p.last, accept_terms: true }));
  const end = await doc.handle.waitEvent('call_ended');
  assert.equal(end.reason, 'patient_dropped');
  const list = assertOk(await doc.handle.request({ request: 'waiting_list' }));
  assert.ok(list.visits.some((v) => v.visit_id === r.visit_id));
  await handle.request({ request: 'leave' });
});

test('cancel_appointment during a call: call_ended cancelled to both', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[1]);
  const p = await patient(await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[1].id }));
  await ctx.connectCall(doc, p);
  assertOk(await rec.handle.request({ request: 'cancel_appointment', appointment_id: p.appt.appointment_id }));
  const e1 = await doc.handle.waitEvent('call_ended');
  assert.equal(e1.reason, 'cancelled');
  const e2 = await p.handle.waitEvent('*', { filter: (e) => e.event === 'call_ended' || e.event === 'visit_ended' });
  assert.equal(e2.reason, 'cancelled');
});

test('privacy: no patient ever received another patient\'s name, visit id or code', async () => {
  assert.ok(allPatients.length >= 5, `only ${allPatients.length} patients recorded`);
  for (const p of allPatients) {
    const text = JSON.stringify(p.handle.events);
    for (const other of allPatients) {
      if (other === p) continue;
      assert.ok(!text.includes(other.first) && !text.includes(other.last), 'a patient received another patient\'s name');
      assert.ok(!text.includes(other.appt.code), 'a patient received another code');
      for (const e of p.handle.events) {
        for (const k of ['visit_id', 'visits', 'appointment_id', 'patient', 'first_name', 'last_name']) {
          if (k === 'visit_id' && e[k] === p.reply.visit_id) continue;
          assert.ok(!(k in e) || (k === 'visit_id' && e[k] === p.reply.visit_id),
            `patient event ${e.event} carries ${k}`);
        }
      }
    }
  }
});
