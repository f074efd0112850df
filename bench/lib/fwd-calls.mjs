// fwd-calls.mjs - set up and end one call between two rtp-leg.mjs
// endpoints in one of three ways, for bench/forward-scale.mjs:
//   direct    - the legs negotiate with each other (no Janus: the floor of
//               the generator, its loss and latency without a relay);
//   consult   - a consult call in forwarding mode: a patient joins with an
//               appointment code, the doctor calls, the patient accepts,
//               the doctor sends `forward` and the offer/answer go through
//               forward_offer / forward_answer with e2ee:true (the jsep
//               flag; the payload is synthetic ciphertext either way), as
//               in docs/protocol.md "Forwarding mode";
//   videocall - Janus' janus.plugin.videocall: register, call (offer),
//               incomingcall, accept (answer), accepted.
// Contract: setupCall(kind, ctx, doctorLeg, patientLeg, i) resolves with
// an object for endCall(kind, ctx, call) once both legs are negotiated (the
// caller waits for connected()). ctx: {janus, wsUrl, practice, reception,
// doctors: [{client, handle}]} (consult: doctor i is logged in on
// ctx.doctors[i]). endCall hangs up and destroys the Janus sessions it made.
import { JanusClient } from '../../scripts/lib/client.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The newest message on client matching pred after index `from`, waiting up to ms. */
async function waitMsg(client, pred, ms = 20000, from = 0) {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = client.messages.slice(from).find(pred);
    if (m) return m;
    if (Date.now() > deadline) throw new Error('timeout waiting for a Janus message');
    await sleep(10);
  }
}

async function completed(client, handleId) {
  await client.send({ janus: 'trickle', session_id: client.sessionId, handle_id: handleId, candidate: { completed: true } });
}

async function consultCall(ctx, doc, pat, i) {
  const d = ctx.doctors[i];
  const appt = await ctx.reception.handle.call({
    request: 'create_appointment', doctor_id: ctx.practice.doctors[i].id, starts_at: Math.floor(Date.now() / 1000) + 60,
  });
  const client = await JanusClient.connect(ctx.wsUrl);
  await client.createSession();
  const ph = await client.attach();
  const joined = await ph.call({
    request: 'join', practice: ctx.practice.slug, code: appt.code, first_name: 'Bench', last_name: `Patient ${i}`,
    accept_terms: true,
  });
  const visitId = joined.visit_id;
  await d.handle.call({ request: 'call', visit_id: visitId });
  await ph.waitEvent('ringing');
  await ph.call({ request: 'accept' });
  await d.handle.waitEvent('call_accepted', { filter: (e) => e.visit_id === visitId });
  await d.handle.call({ request: 'forward', cause: 'timeout' });
  await ph.waitEvent('forward');
  const offer = await doc.offer();
  const dFrom = d.client.messages.length;
  const pFrom = client.messages.length;
  await d.handle.call({ request: 'forward_offer' }, { jsep: { type: 'offer', sdp: offer, e2ee: true } });
  await completed(d.client, d.handle.id);
  const off = await waitMsg(client, (m) => m.sender === ph.id && m.plugindata?.data?.event === 'forward_offer' && m.jsep,
    20000, pFrom);
  const answer = await pat.answer(off.jsep.sdp);
  await ph.call({ request: 'forward_answer' }, { jsep: { type: 'answer', sdp: answer, e2ee: true } });
  await completed(client, ph.id);
  const ans = await waitMsg(d.client,
    (m) => m.sender === d.handle.id && m.plugindata?.data?.event === 'forward_answer' && m.jsep, 20000, dFrom);
  await doc.accept(ans.jsep.sdp);
  return { d, client, ph, visitId };
}

async function videocallHandle(ctx, name) {
  const client = await JanusClient.connect(ctx.wsUrl);
  await client.createSession();
  const r = await client.send({ janus: 'attach', session_id: client.sessionId, plugin: 'janus.plugin.videocall' });
  const id = r.data.id;
  const msg = (body, jsep) => client.send({
    janus: 'message', session_id: client.sessionId, handle_id: id, body, ...(jsep ? { jsep } : {}),
  }, { kind: 'message' });
  const reg = await msg({ request: 'register', username: name });
  if (reg.plugindata?.data?.result?.event !== 'registered') {
    throw new Error(`videocall register: ${JSON.stringify(reg.plugindata?.data)}`);
  }
  return { client, id, msg };
}

async function videocallCall(ctx, doc, pat, i) {
  const tag = `${process.pid}-${ctx.seq = (ctx.seq || 0) + 1}-${i}`;
  const a = await videocallHandle(ctx, `d${tag}`);
  const b = await videocallHandle(ctx, `p${tag}`);
  const offer = await doc.offer();
  const aFrom = a.client.messages.length;
  const bFrom = b.client.messages.length;
  await a.msg({ request: 'call', username: `p${tag}` }, { type: 'offer', sdp: offer });
  await completed(a.client, a.id);
  const inc = await waitMsg(b.client, (m) => m.plugindata?.data?.result?.event === 'incomingcall' && m.jsep, 20000, bFrom);
  const answer = await pat.answer(inc.jsep.sdp);
  await b.msg({ request: 'accept' }, { type: 'answer', sdp: answer });
  await completed(b.client, b.id);
  const acc = await waitMsg(a.client, (m) => m.plugindata?.data?.result?.event === 'accepted' && m.jsep, 20000, aFrom);
  await doc.accept(acc.jsep.sdp);
  return { a, b };
}

export async function setupCall(kind, ctx, doc, pat, i) {
  if (kind === 'direct') {
    await doc.accept(await pat.answer(await doc.offer()));
    return {};
  }
  if (kind === 'consult') return consultCall(ctx, doc, pat, i);
  if (kind === 'videocall') return videocallCall(ctx, doc, pat, i);
  throw new Error(`unknown kind ${kind}`);
}

export async function endCall(kind, ctx, call) {
  if (kind === 'consult') {
    await call.d.handle.request({ request: 'hangup' }).catch(() => {});
    await call.ph.waitEvent('call_ended', { timeout: 20000 }).catch(() => {});
    await call.client.destroy();
    call.d.handle.drain();
  } else if (kind === 'videocall') {
    await call.a.msg({ request: 'hangup' }).catch(() => {});
    await call.a.client.destroy();
    await call.b.client.destroy();
  }
}
