// input.test.mjs - what a participant or a code holder can push through the
// plugin: `signal` relays only the documented fields (extra fields of any
// size are dropped), `report` accepts only the documented words and a bad
// one changes nothing, stats.paths counts a call once by its final path
// (ICE restart), a join/leave loop with one valid code is bounded
// (rate_limited, the live visit stays) and the memory of ended visits is
// pruned by age (admin purge with the test clock).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useStack, assertError, assertOk, now, uniqueName } from './helpers.mjs';

const ctx = useStack({ graceSeconds: 5, janus: { env: { CONSULT_TEST: '1' } } });

async function inCall() {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[0]);
  const p = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[0].id }));
  await ctx.connectCall(doc, p);
  return { rec, doc, p };
}

async function practiceStats(slug = ctx.A.slug) {
  const s = assertOk(await ctx.janus.admin({ request: 'stats', practice: slug }));
  return s.practices.find((x) => x.slug === slug);
}

async function hangup(doc, p) {
  assertOk(await doc.handle.request({ request: 'hangup' }));
  await p.handle.waitEvent('call_ended', { filter: (e) => e.visit_id === p.reply.visit_id });
}

test('signal: only the documented fields reach the other side, extra fields of any size are dropped', async () => {
  const { doc, p } = await inCall();
  const big = 'x'.repeat(200_000);
  const sdp = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
  assertOk(await doc.handle.request({
    request: 'signal', type: 'offer', sdp, padding: big, visit_id: 1, event: 'ringing', consult: 'x',
    candidate: { candidate: 'candidate:1' }, key: 'AAAA', nested: { deep: [big] },
  }));
  let ev = await p.handle.waitEvent('signal');
  assert.deepEqual({ ...ev }, { consult: 'event', event: 'signal', type: 'offer', sdp });

  assertOk(await p.handle.request({ request: 'signal', type: 'answer', sdp, doctor: 'Dr. Fake', padding: big }));
  ev = await doc.handle.waitEvent('signal');
  assert.deepEqual({ ...ev }, { consult: 'event', event: 'signal', type: 'answer', sdp });

  const cand = { candidate: 'candidate:842163049 1 udp 1677729535 127.0.0.1 53421 typ host generation 0', sdpMid: '0', sdpMLineIndex: 0 };
  assertOk(await p.handle.request({
    request: 'signal', type: 'candidate', candidate: { ...cand, usernameFragment: 'abcd', junk: big }, sdp: big,
  }));
  ev = await doc.handle.waitEvent('signal');
  assert.deepEqual({ ...ev }, { consult: 'event', event: 'signal', type: 'candidate', candidate: cand });

  assertOk(await doc.handle.request({ request: 'signal', type: 'end-of-candidates', sdp, padding: big }));
  ev = await p.handle.waitEvent('signal');
  assert.deepEqual({ ...ev }, { consult: 'event', event: 'signal', type: 'end-of-candidates' });

  // The forwarding key exchange still passes, alone.
  const key = 'BCdE+/9=' + 'A'.repeat(80);
  assertOk(await doc.handle.request({ request: 'signal', type: 'e2ee-key', key, sdp, padding: big }));
  ev = await p.handle.waitEvent('signal');
  assert.deepEqual({ ...ev }, { consult: 'event', event: 'signal', type: 'e2ee-key', key });

  // Documented fields over their limits are refused and nothing is relayed.
  let r = await doc.handle.request({ request: 'signal', type: 'e2ee-key', key: 'A'.repeat(257) });
  assertError(r, 'too_long', 404);
  assert.equal(r.field, 'key');
  r = await doc.handle.request({ request: 'signal', type: 'candidate', candidate: { candidate: '', sdpMid: 'm'.repeat(65) } });
  assertError(r, 'too_long', 404);
  assert.equal(r.field, 'candidate.sdpMid');
  assertOk(await doc.handle.request({ request: 'signal', type: 'end-of-candidates' }));
  ev = await p.handle.waitEvent('signal');
  assert.equal(ev.type, 'end-of-candidates', 'the refused signals were not relayed');
  assert.equal(p.handle.pending('signal').length, 0);
  await hangup(doc, p);
});

test('report: garbage candidate types and states are refused with invalid_field and change nothing', async () => {
  const { doc, p } = await inCall();
  const vid = p.reply.visit_id;
  assertOk(await doc.handle.request({ request: 'report', connection_state: 'connected', local_candidate_type: 'host', remote_candidate_type: 'host', path: 'p2p' }));
  const before = await practiceStats();
  const rowBefore = ctx.db(`SELECT * FROM visits WHERE id = ${Number(vid)}`);
  const bad = [
    [{ connection_state: 'connected', local_candidate_type: 'banana', remote_candidate_type: 'host' }, 'local_candidate_type'],
    [{ connection_state: 'connected', local_candidate_type: 'host', remote_candidate_type: 'direct' }, 'remote_candidate_type'],
    [{ connection_state: 'hacked', local_candidate_type: 'relay', remote_candidate_type: 'relay' }, 'connection_state'],
    [{ connection_state: 'connected', local_candidate_type: 'relay', remote_candidate_type: 'relay', path: 'teleport' }, 'path'],
  ];
  for (const [body, field] of bad) {
    for (const h of [doc.handle, p.handle]) {
      const r = await h.request({ request: 'report', ...body });
      assertError(r, 'invalid_field', 403);
      assert.equal(r.field, field, JSON.stringify(r));
    }
  }
  const live = assertOk(await ctx.janus.admin({ request: 'live_visits', practice: ctx.A.slug }));
  assert.equal(live.visits.find((v) => v.visit_id === vid).media_path, 'host/host');
  assert.deepEqual(ctx.db(`SELECT * FROM visits WHERE id = ${Number(vid)}`), rowBefore, 'the visit row is unchanged');
  assert.deepEqual((await practiceStats()).paths, before.paths, 'paths unchanged');
  // Every documented word still passes (the pages send these).
  for (const state of ['new', 'connecting', 'disconnected', 'failed', 'closed', 'checking', 'completed']) {
    assertOk(await p.handle.request({ request: 'report', connection_state: state, path: 'p2p' }));
  }
  for (const t of ['host', 'srflx', 'prflx', 'relay']) {
    assertOk(await p.handle.request({ request: 'report', connection_state: 'connected', local_candidate_type: t, remote_candidate_type: t, path: 'forward' }));
  }
  await hangup(doc, p);
});

test('stats.paths: a call with an ICE restart (direct, then relay) counts once, by its final path', async () => {
  const base = (await practiceStats()).paths;
  const { doc, p } = await inCall();
  const rep = (h, body) => h.request({ request: 'report', path: 'p2p', ...body });
  assertOk(await rep(doc.handle, { connection_state: 'connecting' }));
  assertOk(await rep(doc.handle, { connection_state: 'connected', local_candidate_type: 'host', remote_candidate_type: 'srflx' }));
  assertOk(await rep(p.handle, { connection_state: 'connected', local_candidate_type: 'srflx', remote_candidate_type: 'host' }));
  // The path breaks; the doctor's page restarts ICE and the call comes back through TURN.
  assertOk(await rep(doc.handle, { connection_state: 'disconnected' }));
  assertOk(await rep(doc.handle, { connection_state: 'connecting' }));
  assertOk(await rep(doc.handle, { connection_state: 'connected', local_candidate_type: 'relay', remote_candidate_type: 'relay' }));
  assertOk(await rep(doc.handle, { connection_state: 'connected', local_candidate_type: 'relay', remote_candidate_type: 'relay' }));
  const delta = (x) => ({ direct: x.direct - base.direct, relay: x.relay - base.relay, forward: x.forward - base.forward });
  assert.deepEqual(delta((await practiceStats()).paths), { direct: 0, relay: 1, forward: 0 }, 'in progress: once, by its current path');
  await hangup(doc, p);
  assert.deepEqual(delta((await practiceStats()).paths), { direct: 0, relay: 1, forward: 0 }, 'ended: once, by its final path');
  // A call without any connected report counts nowhere.
  const again = await inCall();
  await hangup(again.doc, again.p);
  assert.deepEqual(delta((await practiceStats()).paths), { direct: 0, relay: 1, forward: 0 });
});

test('stats.paths: a call ended by the doctor dropping out counts; the requeued visit\'s next call counts on its own', async () => {
  const base = (await practiceStats()).paths;
  const delta = (x) => ({ direct: x.direct - base.direct, relay: x.relay - base.relay, forward: x.forward - base.forward });
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc1 = await ctx.login(ctx.A.doctors[0]);
  const p = await ctx.patient(await ctx.appointment(rec.handle));
  await ctx.connectCall(doc1, p);
  assertOk(await doc1.handle.request({ request: 'report', connection_state: 'connected', local_candidate_type: 'host', remote_candidate_type: 'host' }));
  await doc1.client.close();                       // the doctor's connection drops: the patient is requeued
  await p.handle.waitEvent('doctor_left');
  assert.deepEqual(delta((await practiceStats()).paths), { direct: 1, relay: 0, forward: 0 });
  const doc2 = await ctx.login(ctx.A.doctors[1]);
  await ctx.connectCall(doc2, p);
  assertOk(await doc2.handle.request({ request: 'report', connection_state: 'connected', local_candidate_type: 'relay', remote_candidate_type: 'host' }));
  assert.deepEqual(delta((await practiceStats()).paths), { direct: 1, relay: 1, forward: 0 });
  await hangup(doc2, p);
  assert.deepEqual(delta((await practiceStats()).paths), { direct: 1, relay: 1, forward: 0 });
});

test('join/leave loop with one valid code is bounded; the live visit stays; ended visits are forgotten', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const doc = await ctx.login(ctx.A.doctors[1]);
  const appt = await ctx.appointment(rec.handle);
  const join = async () => {
    const { handle } = await ctx.connect();
    const r = await handle.request({
      request: 'join', practice: ctx.A.slug, code: appt.code, accept_terms: true,
      first_name: ctx.secret(uniqueName('Loo')), last_name: ctx.secret(uniqueName('Pin')),
    });
    return { handle, r };
  };
  const left = [];
  for (let i = 0; i < 9; i++) {
    const { handle, r } = await join();
    assertOk(r);
    assertOk(await handle.request({ request: 'leave' }));
    left.push(r.visit_id);
  }
  const stay = await join();
  assertOk(stay.r);
  const visitsOf = () => ctx.db(`SELECT COUNT(*) AS n FROM visits WHERE appointment_id = ${Number(appt.appointment_id)}`)[0].n;
  assert.equal(visitsOf(), 10);
  // The 11th successful join within a minute is refused and changes nothing.
  for (let i = 0; i < 3; i++) {
    const extra = await join();
    assertError(extra.r, 'rate_limited', 421);
    assert.ok(Number.isInteger(extra.r.retry_after) && extra.r.retry_after >= 1 && extra.r.retry_after <= 60, `retry_after ${extra.r.retry_after}`);
    assertError(await extra.handle.request({ request: 'leave' }), 'wrong_state', 412);
  }
  assert.equal(visitsOf(), 10, 'no visit row added');
  assert.equal(stay.handle.pending('taken_over').length, 0, 'the live visit was not taken over');
  const live = assertOk(await ctx.janus.admin({ request: 'live_visits', practice: ctx.A.slug }));
  assert.equal(live.visits.find((v) => v.visit_id === stay.r.visit_id)?.state, 'waiting', JSON.stringify(live.visits));
  // The waiting patient can still be called by the doctor.
  assertOk(await doc.handle.request({ request: 'call', visit_id: stay.r.visit_id }));
  await stay.handle.waitEvent('ringing');
  assertOk(await doc.handle.request({ request: 'cancel_call' }));
  await stay.handle.waitEvent('ring_cancelled');
  assertOk(await stay.handle.request({ request: 'leave' }));

  // Ended visits are remembered (a late call: already_called) and counted in stats ...
  assertError(await doc.handle.request({ request: 'call', visit_id: left[0] }), 'already_called', 441);
  const st = await practiceStats();
  assert.ok(Number.isInteger(st.ended_remembered) && st.ended_remembered >= 10, JSON.stringify(st));
  // ... and forgotten 15 minutes after they ended (test clock of purge).
  assertOk(await ctx.janus.admin({ request: 'purge', now: now() + 14 * 60 }));
  assert.ok((await practiceStats()).ended_remembered >= 10, 'kept for 15 minutes');
  assertOk(await ctx.janus.admin({ request: 'purge', now: now() + 15 * 60 + 5 }));
  assert.equal((await practiceStats()).ended_remembered, 0, 'ended visits forgotten');
  assertError(await doc.handle.request({ request: 'call', visit_id: left[0] }), 'not_found', 440);
});
