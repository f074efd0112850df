// doctor-ring-offer.chromium.test.mjs - the doctor's offer made while it
// rings (session.mjs prepareOffer; docs/protocol.md `call`), on the real
// doctor page in Chromium (nginx, Janus; the patient is a raw WebSocket
// handle, so every event it gets is seen):
// 1. the doctor calls: the page makes its RTCPeerConnection and sets the
//    offer before any answer, and the patient gets no `signal`; the patient
//    declines: that connection is closed, still no `signal`;
// 2. the doctor calls again and cancels the ring: closed again, no `signal`;
// 3. the doctor calls again, gathering finishes while it rings, the patient
//    accepts: it gets the offer of the connection made at the ring (no other
//    connection made), with its candidates inline, and none of them is
//    trickled; end-of-candidates too, once. The page sends end-of-candidates
//    right behind the offer without waiting for its reply, and Janus handles
//    a handle's plugin messages on a thread pool, so it may be relayed first
//    (docs/protocol.md, Transport): only the offer's content is checked, not
//    which of the two comes first.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { closeAll, launchChromium, step, waitFor } from './lib.mjs';
import { rows, startStaffStack, staffPage, unix, wsPatient, wsStaff } from './staffkit.mjs';

const open = new Set();
after(async () => {
  const items = [...open].reverse();
  open.clear();
  await closeAll(...items);
});

// every RTCPeerConnection of the page, kept for a look at its state
function KEEP_PCS() {
  window.__pcs = [];
  window.RTCPeerConnection = new Proxy(window.RTCPeerConnection, {
    construct(Target, args) {
      const pc = Reflect.construct(Target, args);
      window.__pcs.push(pc);
      return pc;
    },
  });
}

const pcs = (doc) => doc.evaluate(() => window.__pcs.map((pc) => ({
  signaling: pc.signalingState, gathering: pc.iceGatheringState, current: window.consult.pc === pc,
})));

test('doctor: the offer is made while it rings, closed when the ring ends, sent only after the accept', { timeout: 240_000 }, async () => {
  const stack = await step('start Janus + nginx + seed', startStaffStack(), 90_000);
  open.add({ close: () => stack.stop() });
  const { janus, origin, practice } = stack;
  const [dr] = stack.doctors;
  const rec = await wsStaff(janus, stack.reception, open);
  const ap = await rec.call({ request: 'create_appointment', doctor_id: dr.id, starts_at: unix(0) });
  const P = await wsPatient(janus, practice, ap.code, 'Rita', 'Rufer', open);
  const browser = await step('launch Chromium', launchChromium('doctor-ring-offer'), 90_000);
  open.add(browser);
  await browser.context.addInitScript(KEEP_PCS);
  const doc = await staffPage(browser, origin, 'doctor', dr, []);
  await waitFor('doctor: patient listed', async () => (await rows(doc)).some((r) => r.id === P.joined.visit_id && r.callable), 30_000);

  const signals = () => P.handle.events.filter((e) => e.event === 'signal');
  const ring = async (n) => {
    await waitFor('call button enabled', async () => (await rows(doc)).some((r) => r.id === P.joined.visit_id && r.callable), 30_000);
    await doc.click(`#waiting-list li[data-visit-id="${P.joined.visit_id}"] button.call`);
    await P.handle.waitEvent('ringing', { timeout: 30_000 });
    await waitFor(`doctor: connection ${n} made and its offer set while it rings`, async () => {
      const l = await pcs(doc);
      return l.length === n && l[n - 1].signaling === 'have-local-offer';
    }, 30_000);
    assert.equal(await doc.evaluate(() => window.consult.state), 'calling');
  };
  const allClosed = async (what) => {
    await waitFor(`doctor: back to the list (${what})`, async () => (await doc.evaluate(() => window.consult.state)) === 'list', 30_000);
    await waitFor(`doctor: no open connection (${what})`, async () => (await pcs(doc)).every((x) => x.signaling === 'closed'), 30_000);
  };

  // 1. declined
  await ring(1);
  assert.deepEqual(signals(), [], 'no signal while it rings');
  await P.handle.call({ request: 'decline' });
  await allClosed('declined');
  assert.deepEqual(signals(), [], 'no signal after the decline');

  // 2. cancelled by the doctor
  await ring(2);
  await doc.click('#cancel-call');
  await P.handle.waitEvent('ring_cancelled', { timeout: 30_000 });
  await allClosed('cancelled');
  assert.deepEqual(signals(), [], 'no signal after the cancelled ring');

  // 3. accepted: the offer made at the ring goes out
  await ring(3);
  await waitFor('doctor: gathering done while it rings', async () => (await pcs(doc))[2].gathering === 'complete', 30_000);
  assert.deepEqual(signals(), [], 'no signal before the accept');
  await P.handle.call({ request: 'accept' });
  const offer = await P.handle.waitEvent('signal', { timeout: 30_000, filter: (e) => e.type === 'offer' });
  const inline = offer.sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2));
  assert.ok(inline.length > 0, 'the candidates gathered while it rang are in the offer');
  await P.handle.waitEvent('signal', { timeout: 30_000, filter: (e) => e.type === 'end-of-candidates' });
  const sent = signals().filter((e) => e.type !== 'media');
  assert.equal(sent.filter((e) => e.type === 'offer').length, 1, 'one offer');
  assert.equal(sent.filter((e) => e.type === 'end-of-candidates').length, 1, 'one end-of-candidates');
  const trickled = sent.filter((e) => e.type === 'candidate').map((e) => e.candidate.candidate);
  for (const c of trickled) assert.ok(!inline.includes(c), `not trickled again: ${c}`);
  const l = await pcs(doc);
  assert.equal(l.length, 3, 'no other connection made at the accept');
  assert.equal(l[2].current, true, 'the call runs on the connection made at the ring');
  await doc.click('#hangup');
  await allClosed('hung up');
});
