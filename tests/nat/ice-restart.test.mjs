// ICE restart: during a direct call through cone NATs, the patient's link
// in its namespace goes down (5 s; then, in a second call, 12 s, long
// enough for the doctor's page to restart ICE: a new offer and answer pass
// through the plugin) and comes back. The call resumes
// (connectionState connected again, framesDecoded grows again on both
// sides), and it is the same visit: no new call-in (the doctor clicked
// "call" once; the patient page never rang again; Janus' admin API lists
// one visit, in_call, with the original id).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { rtcSnapshot, waitFor } from '../browser/lib.mjs';
import { cleanupAll, scenario, waitCallUp } from './lab.mjs';

after(cleanupAll);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function outage({ name, downMs, requireRestart }) {
  const sc = await scenario({ name, nat: true, block: false });
  let failed = true;
  try {
    await waitCallUp(sc, { ms: 45_000 });
    const pages = { patient: sc.call.patPage, doctor: sc.call.docPage };
    // Count every state each pc goes through from now on, and every ring.
    for (const page of Object.values(pages)) {
      await page.evaluate(() => {
        const pc = window.consult.pc;
        window.__natlabStates = [];
        window.__natlabPc = pc;
        pc.addEventListener('iceconnectionstatechange', () => window.__natlabStates.push(pc.iceConnectionState));
      });
    }
    const offersBefore = sc.call.events.patient.filter((e) => e.event === 'signal' && e.type === 'offer').length;
    sc.lab.linkDown();
    sc.mark('patient link down');
    await sleep(downMs);
    const stalled = {};
    for (const [who, page] of Object.entries(pages)) stalled[who] = (await rtcSnapshot(page)).framesDecoded;
    sc.lab.linkUp();
    sc.mark('patient link up');
    for (const [who, page] of Object.entries(pages)) {
      await waitFor(`${who}: connected again with new frames`, async () => {
        const s = await rtcSnapshot(page);
        return s.connectionState === 'connected' && s.framesDecoded > stalled[who] + 10 ? s : null;
      }, 45_000, 250);
    }
    sc.mark('call resumed');
    for (const [who, page] of Object.entries(pages)) {
      const r = await page.evaluate(() => ({
        same: window.consult.pc === window.__natlabPc,
        states: window.__natlabStates,
        state: window.consult.state,
      }));
      assert.ok(r.same, `${who}: window.consult.pc is the same RTCPeerConnection`);
      assert.equal(r.state, 'call', `${who}: still in the call`);
      // A 5 s outage is at the edge of Chromium's consent-freshness timeout:
      // whether ICE reports "disconnected" at all is timing, not behaviour.
      // The long outage must be noticed (the restart depends on it).
      const noticed = r.states.some((s) => s === 'disconnected' || s === 'failed');
      if (requireRestart) assert.ok(noticed, `${who}: the outage was noticed (${r.states})`);
      else console.error(`# ${who}: ICE states during the short outage: ${r.states.join(',') || 'none'}`);
    }
    const rings = sc.call.events.patient.filter((e) => e.event === 'ringing').length;
    assert.equal(rings, 1, 'the patient was rung once (no new call-in)');
    // A restart offer queued during the outage may arrive only now (the
    // patient's WebSocket was cut too): the call must survive it as well.
    // Wait until signalling has settled: every offer the doctor's page sent
    // reached the patient's page, and both descriptions are stable; after
    // that no late offer can come.
    const settled = await waitFor('signalling settled: every offer the doctor sent reached the patient, both pcs stable', async () => {
      const sentOffers = sc.call.sent.doctor.filter((b) => b.request === 'signal' && b.type === 'offer').length;
      const gotOffers = sc.call.events.patient.filter((e) => e.event === 'signal' && e.type === 'offer').length;
      const states = [];
      for (const page of Object.values(pages)) states.push(await page.evaluate(() => window.consult.pc.signalingState));
      return sentOffers >= 1 && gotOffers >= sentOffers && states.every((s) => s === 'stable') ? { sentOffers, gotOffers } : null;
    }, 60_000, 250);
    sc.mark(`signalling settled (${settled.sentOffers} offers sent, ${settled.gotOffers} received)`);
    for (const [who, page] of Object.entries(pages)) {
      const a = await rtcSnapshot(page);
      const b = await waitFor(`${who}: still connected, frames still growing`, async () => {
        const s = await rtcSnapshot(page);
        return s.connectionState === 'connected' && s.framesDecoded > a.framesDecoded ? s : null;
      }, 30_000, 250);
      assert.ok(b.pair, `${who}: a selected pair`);
      const err = await page.evaluate(() => {
        const el = document.querySelector('#call-error');
        return el && !el.hidden ? el.getAttribute('data-error') : null;
      });
      assert.equal(err, null, `${who}: no #call-error after the recovery`);
    }
    const offersAfter = sc.call.events.patient.filter((e) => e.event === 'signal' && e.type === 'offer').length;
    console.error(`# offers through the plugin: ${offersBefore} before, ${offersAfter} after the outage`
      + ` (${offersAfter > offersBefore ? 'ICE restarted' : 'ICE recovered without a restart'})`);
    if (requireRestart) {
      assert.ok(offersAfter > offersBefore, 'the doctor\'s page restarted ICE: a new offer reached the patient through the plugin');
      const answers = sc.call.events.doctor.filter((e) => e.event === 'signal' && e.type === 'answer').length;
      assert.ok(answers >= 2, `the patient answered the restart offer (${answers} answers)`);
    }
    const visits = await sc.stack.janus.admin({ request: 'live_visits' });
    const rows = visits.visits || [];
    assert.equal(rows.length, 1, `one live visit (${JSON.stringify(rows)})`);
    assert.equal(String(rows[0].visit_id), String(sc.call.visitId), 'the same visit id');
    assert.equal(rows[0].state, 'in_call');
    await sc.shot(sc.call.patPage, 'patient-resumed');
    failed = false;
  } finally {
    await sc.finish(failed);
  }
}

test('the patient\'s link goes down for 5 s: the call recovers, same call, frames flow again', { timeout: 300_000 }, async () => {
  await outage({ name: 'ice-restart', downMs: 5_000, requireRestart: false });
});

// Long enough for "disconnected" to last > 2 s on the doctor's side (its
// page then restarts ICE), shorter than call_lost_seconds (20).
test('the patient\'s link goes down for 12 s: the doctor\'s page restarts ICE through the plugin, the call resumes', { timeout: 300_000 }, async () => {
  await outage({ name: 'ice-restart-long', downMs: 12_000, requireRestart: true });
});
