// Forwarding mode through a crash of Janus (NAT lab: patient and doctor
// behind NATs, the direct path blocked, no TURN, p2p_timeout_seconds 3, as in
// forward.test.mjs). A forwarded call runs; Janus is SIGKILLed, which takes
// the forwarding legs with it, and started again on the same configuration
// and database. Within 15 s of Janus being up the call is forwarded again:
// both pages in mode 'forward', connected, decoding new frames, E2EE on
// (window.consult.e2ee, #path not marked e2ee=false) with new keys (a new
// verification code, equal on both pages), the same visit (the patient's
// join reply: state in_call, same visit_id), and no call-in: the doctor page
// sent no `call`, the patient page got no `ringing` after the crash; the
// doctor's page asked `forward` with cause server_restart.
// Evidence: tests/artifacts/nat-forward-restart/.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { rtcSnapshot, waitFor } from '../browser/lib.mjs';
import { cleanupAll, scenario } from './lab.mjs';
import { callView, waitForwarded } from './pcap.mjs';
import { recordWs } from '../resilience/lib.mjs';

const BACK_WITHIN_MS = 15_000;

after(cleanupAll);

test('forwarded call, Janus SIGKILLed and restarted: forwarded again within 15 s, E2EE, same visit, no call-in', { timeout: 300_000 }, async () => {
  const sc = await scenario({
    name: 'forward-restart', nat: true, block: true, turn: 'absent',
    pluginConfig: { p2p_timeout_seconds: 3 }, janusOptions: { graceSeconds: 120 },
  });
  let failed = true;
  try {
    const before = await waitForwarded(sc, { ms: 60_000 });
    const visitId = Number(sc.call.visitId);
    const codeBefore = before.doctor.view.code;
    assert.ok(codeBefore, `a verification code before the crash (${JSON.stringify(before.doctor.view)})`);
    // New sockets from here on (the reconnects) are recorded.
    const patRec = recordWs(sc.call.patPage, 'patient');
    const docRec = recordWs(sc.call.docPage, 'doctor');
    sc.mark('forwarded call up');

    const { janus } = sc.stack;
    const tDown = Date.now();
    await janus.kill('SIGKILL');
    sc.mark('janus SIGKILLed');
    await janus.restart();
    const tUp = Date.now();
    sc.mark('janus up again');

    const back = {};
    for (const [who, page] of [['patient', sc.call.patPage], ['doctor', sc.call.docPage]]) {
      let last = null;
      try {
        back[who] = await waitFor(`${who}: forwarded again after the restart`, async () => {
          const view = await callView(page);
          const snap = view.mode === 'forward' ? await rtcSnapshot(page) : null;
          const hasE2ee = await page.evaluate(() => !!(window.consult && window.consult.e2ee));
          last = { view, snap, hasE2ee };
          if (!snap || snap.connectionState !== 'connected' || !(snap.framesDecoded > 0) || !snap.pair) return null;
          if (!view.code || view.code === codeBefore) return null; // new keys
          return { ...last, t: Date.now() };
        }, 60_000, 250);
      } catch (err) {
        throw new Error(`${err.message}; last: ${JSON.stringify(last)}; patient join replies since the crash: ${JSON.stringify(patRec.replies('join', tDown))}; doctor forward requests: ${JSON.stringify(docRec.sent('forward', tDown))}`);
      }
      sc.mark(`${who} forwarded again (${back[who].t - tUp} ms after up)`);
    }
    const problems = [];
    for (const who of ['patient', 'doctor']) {
      const b = back[who];
      if (b.t - tUp > BACK_WITHIN_MS) problems.push(`${who}: forwarded again ${b.t - tUp} ms after Janus was up (> ${BACK_WITHIN_MS})`);
      if (!b.hasE2ee) problems.push(`${who}: no E2EE session on the forwarded call`);
      if (b.view.pathE2ee === 'false') problems.push(`${who}: #path says e2ee=false`);
      if (b.view.path !== 'forward') problems.push(`${who}: #path data-path ${b.view.path}`);
    }
    if (back.patient.view.code !== back.doctor.view.code) problems.push(`verification codes differ: ${back.patient.view.code} / ${back.doctor.view.code}`);
    // Frames keep coming on the new legs.
    for (const [who, page] of [['patient', sc.call.patPage], ['doctor', sc.call.docPage]]) {
      const f0 = back[who].snap.framesDecoded;
      try {
        await waitFor(`${who}: frames grow on the new legs`, async () => (await rtcSnapshot(page)).framesDecoded > f0, 30_000, 250);
      } catch (err) { problems.push(err.message); }
    }
    const join = patRec.replies('join', tDown).at(-1);
    if (!join || join.visit_id !== visitId || join.state !== 'in_call') problems.push(`patient: join reply after the crash ${JSON.stringify(join)} (visit ${visitId}, state in_call expected)`);
    const calls = docRec.sent('call', tDown);
    if (calls.length) problems.push(`doctor page called again: ${JSON.stringify(calls)}`);
    const rings = patRec.events('ringing', tDown);
    if (rings.length) problems.push(`patient page rang again (${rings.length} ringing events)`);
    const fwd = docRec.sent('forward', tDown);
    if (!fwd.some((f) => f.cause === 'server_restart')) problems.push(`doctor: no forward with cause server_restart (${JSON.stringify(fwd)})`);
    const st = await Promise.all([sc.call.patPage, sc.call.docPage].map((p) => p.evaluate(() => window.consult.state)));
    if (st[0] !== 'call' || st[1] !== 'call') problems.push(`page states ${JSON.stringify(st)}`);
    await sc.shot(sc.call.patPage, 'patient-forwarded-again');
    await sc.shot(sc.call.docPage, 'doctor-forwarded-again');
    assert.deepEqual(problems, [], 'the forwarded call came back through Janus');
    failed = false;
  } finally {
    await sc.finish(failed);
  }
});
