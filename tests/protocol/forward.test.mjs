// forward.test.mjs - forwarding mode (issue 5) at the protocol level: who
// may send forward / forward_offer / forward_answer and when; the offer and
// the answer pass through the Janus core (the other side gets Janus' SDP,
// never the sender's ICE credentials or fingerprint) with e2ee kept; an
// offer without e2ee is refused and the call fails closed; a hangup or a
// dropped browser frees both PeerConnections (Janus' admin handle_info);
// the admin counters; the practice policy "never".
// No media flows here (the SDPs are synthetic): the browser tests prove
// decoded frames and ciphertext on the wire.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { useStack, assertError, assertOk, sleep } from './helpers.mjs';
import { until } from './servers.mjs';

// CONSULT_TEST=1: a held call's grace period passes on the plugin's test clock.
const ctx = useStack({ janus: { env: { CONSULT_TEST: '1' } } });

const hex = (n) => crypto.randomBytes(n).toString('hex');
const fingerprint = () => [...crypto.randomBytes(32)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');

/** A browser-like offer: audio (opus) + video (VP8), BUNDLE, rtcp-mux, no candidates (trickle). */
function offerSdp(cred) {
  const media = (kind, mid, pt, codec, ssrc) => [
    `m=${kind} 9 UDP/TLS/RTP/SAVPF ${pt}`, 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${cred.ufrag}`, `a=ice-pwd:${cred.pwd}`, 'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${cred.fp}`, 'a=setup:actpass', `a=mid:${mid}`, 'a=sendrecv',
    `a=msid:s${cred.id} ${kind}${mid}`, 'a=rtcp-mux',
    ...(kind === 'video' ? ['a=rtcp-rsize'] : []),
    `a=rtpmap:${pt} ${codec}`,
    ...(kind === 'video'
      ? [`a=rtcp-fb:${pt} nack`, `a=rtcp-fb:${pt} nack pli`, `a=rtcp-fb:${pt} ccm fir`, `a=rtcp-fb:${pt} goog-remb`]
      : [`a=fmtp:${pt} minptime=10;useinbandfec=1`]),
    `a=ssrc:${ssrc} cname:c${cred.id}`,
  ];
  return [
    'v=0', `o=- ${Date.now()} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
    `a=msid-semantic: WMS s${cred.id}`,
    ...media('audio', '0', 111, 'opus/48000/2', 1000 + Math.floor(Math.random() * 1e6)),
    ...media('video', '1', 96, 'VP8/90000', 2000000 + Math.floor(Math.random() * 1e6)),
  ].join('\r\n') + '\r\n';
}

/** An answer to Janus' offer: same m-lines and codecs, our own ICE/DTLS credentials. */
function answerSdp(offer, cred) {
  const drop = /^a=(candidate|end-of-candidates|ssrc|ssrc-group|msid|ice-ufrag|ice-pwd|ice-options|fingerprint|setup|extmap)/;
  const out = [];
  for (const line of offer.split(/\r?\n/)) {
    if (!line || drop.test(line)) continue;
    if (line.startsWith('o=')) { out.push(`o=- ${Date.now()} 2 IN IP4 127.0.0.1`); continue; }
    out.push(line);
    if (line.startsWith('a=mid:')) {
      out.push(`a=ice-ufrag:${cred.ufrag}`, `a=ice-pwd:${cred.pwd}`, `a=fingerprint:sha-256 ${cred.fp}`, 'a=setup:active');
    }
  }
  return out.join('\r\n') + '\r\n';
}

const newCred = () => ({ id: hex(4), ufrag: hex(4), pwd: hex(12), fp: fingerprint() });

/** The jsep the core attached to the plugin event `name` on this handle. */
async function eventJsep(who, name) {
  const ev = await who.handle.waitEvent(name);
  const msg = [...who.client.messages].reverse()
    .find((m) => m.sender === who.handle.id && m.plugindata?.data?.event === name && m.jsep);
  assert.ok(msg, `no jsep came with ${name}`);
  return { ev, jsep: msg.jsep };
}

/** Janus' admin handle_info of a consult handle (core view: flags, agent, plugin_specific). */
async function handleInfo(who) {
  const { json } = await ctx.janus.adminRaw({
    janus: 'handle_info', session_id: who.client.sessionId, handle_id: who.handle.id,
    admin_secret: ctx.janus.adminSecret, transaction: hex(6),
  });
  return json;
}

/** Waits until the handle has no ICE agent (PeerConnection freed) and is no forwarding leg. */
async function waitFreed(who, label) {
  let info = null;
  const deadline = Date.now() + 30000; // a deadline for a busy machine, not an expectation
  while (Date.now() < deadline) {
    info = (await handleInfo(who))?.info;
    if (info && info['agent-created'] === undefined && info.plugin_specific?.forward === undefined) return info;
    await sleep(100);
  }
  assert.fail(`${label}: PeerConnection or forwarding state left over: ${JSON.stringify({
    agent: info?.['agent-created'], flags: info?.flags, forward: info?.plugin_specific?.forward })}`);
}

async function stats() {
  const s = assertOk(await ctx.janus.admin({ request: 'stats' }));
  assert.equal(typeof s.forward, 'object', `stats.forward: ${JSON.stringify(s)}`);
  return s.forward;
}

async function call(practice = ctx.A, doctorIdx = 0) {
  const rec = await ctx.login(practice.receptions[0]);
  const doc = await ctx.login(practice.doctors[doctorIdx]);
  const p = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: practice.doctors[doctorIdx].id }),
    { practice: practice.slug });
  return { rec, doc, p };
}

/** forward + offer + answer; returns the credentials used. */
async function forwardedCall(doc, p, cause = 'timeout') {
  const r = assertOk(await doc.handle.request({ request: 'forward', cause }));
  assert.equal(r.e2ee, true);
  const fwd = await p.handle.waitEvent('forward');
  assert.equal(fwd.cause, cause);
  assert.equal(fwd.e2ee, true);
  const dc = newCred();
  assertOk(await doc.handle.request({ request: 'forward_offer' }, { jsep: { type: 'offer', sdp: offerSdp(dc), e2ee: true } }));
  const { ev: offEv, jsep: offer } = await eventJsep(p, 'forward_offer');
  const pc = newCred();
  assertOk(await p.handle.request({ request: 'forward_answer' },
    { jsep: { type: 'answer', sdp: answerSdp(offer.sdp, pc), e2ee: true } }));
  const { ev: ansEv, jsep: answer } = await eventJsep(doc, 'forward_answer');
  return { dc, pc, offer, answer, offEv, ansEv };
}

test('forward requests: who may send them, when, and with which jsep', async () => {
  const { doc, p } = await call(ctx.A, 0);
  // Not in a call yet.
  assertError(await doc.handle.request({ request: 'forward', cause: 'timeout' }), 'wrong_state', 412);
  assertError(await p.handle.request({ request: 'forward', cause: 'timeout' }), 'forbidden', 411);
  let r = await doc.handle.request({ request: 'forward_offer' });
  assertError(r, 'missing_field', 402);
  assert.equal(r.field, 'jsep');
  // A jsep on any other request is refused (and the core's PeerConnection closed again).
  r = await doc.handle.request({ request: 'waiting_list' }, { jsep: { type: 'offer', sdp: offerSdp(newCred()) } });
  assertError(r, 'wrong_state', 412);
  assert.equal(r.field, 'jsep');
  await waitFreed(doc, 'doctor after a refused jsep');
  // forward_offer outside a forwarded call: wrong_state, PeerConnection closed again.
  assertError(await doc.handle.request({ request: 'forward_offer' },
    { jsep: { type: 'offer', sdp: offerSdp(newCred()), e2ee: true } }), 'wrong_state', 412);
  await waitFreed(doc, 'doctor after forward_offer outside forwarding');

  await ctx.connectCall(doc, p);
  assertError(await p.handle.request({ request: 'forward', cause: 'timeout' }), 'forbidden', 411);
  r = await doc.handle.request({ request: 'forward', cause: 'bogus' });
  assertError(r, 'invalid_field', 403);
  assert.equal(r.field, 'cause');
  assertError(await doc.handle.request({ request: 'forward' }), 'missing_field', 402);
  assertError(await p.handle.request({ request: 'forward_offer' },
    { jsep: { type: 'offer', sdp: offerSdp(newCred()), e2ee: true } }), 'forbidden', 411);
  await waitFreed(p, 'patient after a forbidden forward_offer');
  // Not forwarding yet: answer refused.
  r = await p.handle.request({ request: 'forward_answer' });
  assertError(r, 'missing_field', 402);
  assert.equal(r.field, 'jsep');
  assert.equal(p.handle.pending('forward').length, 0, 'no forward event before the doctor asked');

  const before = await stats();
  r = assertOk(await doc.handle.request({ request: 'forward', cause: 'turn_failed' }));
  assert.equal(r.e2ee, true);
  const ev = await p.handle.waitEvent('forward');
  assert.deepEqual({ ...ev }, { consult: 'event', event: 'forward', cause: 'turn_failed', e2ee: true });
  assertError(await doc.handle.request({ request: 'forward', cause: 'timeout' }), 'wrong_state', 412);
  const during = await stats();
  assert.equal(during.active, before.active + 1);
  assert.equal(during.total, before.total + 1);
  assert.equal(during.fallbacks.turn_failed, before.fallbacks.turn_failed + 1);
  assert.equal(during.fallbacks.timeout, before.fallbacks.timeout);
  // The answer may not come before the offer.
  assertError(await p.handle.request({ request: 'forward_answer' }), 'missing_field', 402);

  assertOk(await doc.handle.request({ request: 'hangup' }));
  assert.equal((await p.handle.waitEvent('call_ended')).reason, 'doctor_hangup');
  assert.equal((await stats()).active, before.active);
  assertError(await doc.handle.request({ request: 'forward', cause: 'timeout' }), 'wrong_state', 412);
});

test('forwarded call: offer and answer pass through the Janus core with e2ee; hangup frees both PeerConnections', async () => {
  const { doc, p } = await call(ctx.A, 1);
  await ctx.connectCall(doc, p);
  const before = await stats();
  const { dc, pc, offer, answer, offEv, ansEv } = await forwardedCall(doc, p, 'ice_failed');
  // The patient got Janus' offer: its own ICE/DTLS, not the doctor's.
  assert.equal(offer.type, 'offer');
  assert.equal(offer.e2ee, true, 'the core marks the patient leg e2ee');
  assert.equal(offEv.e2ee, true);
  assert.match(offer.sdp, /m=audio /);
  assert.match(offer.sdp, /m=video /);
  assert.match(offer.sdp, /a=fingerprint:sha-256 /);
  assert.ok(!offer.sdp.includes(dc.fp), 'doctor fingerprint must not reach the patient');
  assert.ok(!offer.sdp.includes(dc.ufrag) && !offer.sdp.includes(dc.pwd), 'doctor ICE credentials must not reach the patient');
  assert.equal(answer.type, 'answer');
  assert.equal(answer.e2ee, true);
  assert.equal(ansEv.e2ee, true);
  assert.ok(!answer.sdp.includes(pc.fp) && !answer.sdp.includes(pc.ufrag), 'patient credentials must not reach the doctor');
  // Core view: both handles have a PeerConnection marked e2ee and are legs of one pair.
  const [di, pi] = [(await handleInfo(doc)).info, (await handleInfo(p)).info];
  assert.equal(di.flags.e2ee, true);
  assert.equal(pi.flags.e2ee, true);
  assert.ok(di['agent-created'] !== undefined && pi['agent-created'] !== undefined);
  assert.deepEqual([di.plugin_specific.forward.side, pi.plugin_specific.forward.side], ['doctor', 'patient']);
  assert.equal(di.plugin_specific.forward.cause, 'ice_failed');
  assert.equal(di.plugin_specific.forward.answered, true);
  const during = await stats();
  assert.equal(during.active, before.active + 1);
  assert.equal(during.fallbacks.ice_failed, before.fallbacks.ice_failed + 1);
  assertOk(await p.handle.request({ request: 'hangup' }));
  assert.equal((await doc.handle.waitEvent('call_ended')).reason, 'patient_hangup');
  await waitFreed(doc, 'doctor after hangup');
  await waitFreed(p, 'patient after hangup');
  assert.equal((await stats()).active, before.active);
});

test('an offer without e2ee is refused and the forwarded call fails closed', async () => {
  const { doc, p } = await call(ctx.A, 0);
  await ctx.connectCall(doc, p);
  const before = await stats();
  assertOk(await doc.handle.request({ request: 'forward', cause: 'timeout' }));
  await p.handle.waitEvent('forward');
  const r = await doc.handle.request({ request: 'forward_offer' }, { jsep: { type: 'offer', sdp: offerSdp(newCred()) } });
  assertError(r, 'invalid_field', 403);
  assert.equal(r.field, 'e2ee');
  assert.equal(p.handle.pending('forward_offer').length, 0, 'nothing reached the patient');
  // The doctor's PeerConnection is closed, which ends the pair and the call.
  assert.equal((await p.handle.waitEvent('call_ended')).reason, 'connection_lost');
  assert.equal((await doc.handle.waitEvent('call_ended')).reason, 'connection_lost');
  await waitFreed(doc, 'doctor after a refused offer');
  await waitFreed(p, 'patient after a refused offer');
  const after = await stats();
  assert.equal(after.active, before.active);
  assert.equal(after.legs_lost, before.legs_lost + 1);
});

test('a dropped patient browser in forwarding mode frees both legs; the call is held, then ends patient_dropped', async () => {
  const { rec, doc, p } = await call(ctx.A, 1);
  await ctx.connectCall(doc, p);
  const before = await stats();
  await forwardedCall(doc, p, 'timeout');
  const pSession = p.client.sessionId;
  const handles = async () => (await ctx.janus.admin({ request: 'health' })).handles;
  const count = await handles();
  await p.client.close();
  // The forwarded legs go with the patient's handle; the call is held for
  // the grace period (the patient may come back and forward again), then ends.
  await until(async () => (await handles()) < count);
  await ctx.advanceClock(6);
  const end = await doc.handle.waitEvent('call_ended');
  assert.equal(end.reason, 'patient_dropped');
  await waitFreed(doc, 'doctor after the patient dropped');
  // The patient's Janus session is gone altogether.
  const { json } = await ctx.janus.adminRaw({ janus: 'list_handles', session_id: pSession,
    admin_secret: ctx.janus.adminSecret, transaction: hex(6) });
  assert.ok(json.janus === 'error' || (json.handles ?? []).length === 0, `leftover handles: ${JSON.stringify(json)}`);
  assert.equal((await stats()).active, before.active);
  // The doctor's handle can forward the next call again.
  const p2 = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[1].id }));
  await ctx.connectCall(doc, p2);
  await forwardedCall(doc, p2, 'timeout');
  assertOk(await doc.handle.request({ request: 'hangup' }));
  await waitFreed(doc, 'doctor after the second forwarded call');
  await waitFreed(p2, 'patient of the second forwarded call');
});

test('a forwarded call whose patient re-attaches is forwarded again (server_restart): new legs, same visit', async () => {
  const { doc, p } = await call(ctx.A, 0);
  await ctx.connectCall(doc, p);
  await forwardedCall(doc, p, 'timeout');
  const handles = async () => (await ctx.janus.admin({ request: 'health' })).handles;
  const count = await handles();
  await p.client.close();
  await until(async () => (await handles()) < count);
  await waitFreed(doc, 'doctor leg after the patient handle went');
  // While the patient side is detached the doctor's page must wait.
  assertError(await doc.handle.request({ request: 'forward', cause: 'server_restart' }), 'wrong_state', 412);
  const { client, handle } = await ctx.connect();
  const back = assertOk(await handle.request({ request: 'join', practice: ctx.A.slug, code: p.appt.code,
    first_name: p.first, last_name: p.last, accept_terms: true, resume_call: p.reply.visit_id }));
  assert.equal(back.visit_id, p.reply.visit_id);
  assert.equal(back.state, 'in_call');
  const p2 = { client, handle, reply: back, appt: p.appt };
  const again = await forwardedCall(doc, p2, 'server_restart');
  assert.equal(again.offEv.e2ee, true);
  assertOk(await doc.handle.request({ request: 'hangup' }));
  assert.equal((await handle.waitEvent('call_ended')).reason, 'doctor_hangup');
  await waitFreed(doc, 'doctor after the second forwarding');
});

test('policy "never": forward_refused, the call ends with no_path, nothing is forwarded', async () => {
  assertOk(await ctx.janus.admin({ request: 'set_practice', practice: ctx.B.slug, forward: 'never' }));
  const { doc, p } = await call(ctx.B, 0);
  await ctx.connectCall(doc, p);
  const before = await stats();
  assertError(await doc.handle.request({ request: 'forward', cause: 'timeout' }), 'forward_refused', 447);
  assert.equal((await p.handle.waitEvent('call_ended')).reason, 'no_path');
  assert.equal((await doc.handle.waitEvent('call_ended')).reason, 'no_path');
  assert.equal(p.handle.pending('forward').length, 0);
  const after = await stats();
  assert.equal(after.active, before.active);
  assert.equal(after.total, before.total);
  assert.equal(after.refused, before.refused + 1);
  assertError(await doc.handle.request({ request: 'forward_offer' },
    { jsep: { type: 'offer', sdp: offerSdp(newCred()), e2ee: true } }), 'wrong_state', 412);
  assertOk(await ctx.janus.admin({ request: 'set_practice', practice: ctx.B.slug, forward: 'allowed' }));
});
