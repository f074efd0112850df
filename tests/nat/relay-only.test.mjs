// Relay-only practice (admin set_practice relay_only true) on an open
// network (no NAT: a direct host path would work): the call connects
// relay/relay, both pages created the RTCPeerConnection with
// iceTransportPolicy "relay", and neither browser ever receives a host or
// srflx candidate of the other, nor the other's address at all: checked in
// every `signal` event the page received over its WebSocket and in every
// remote description / candidate the page applied.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cleanupAll, remoteSeen, scenario, signalCandidates, waitCallUp } from './lab.mjs';

after(cleanupAll);

test('relay-only practice on an open network: relay/relay, no host/srflx candidate crosses', { timeout: 300_000 }, async () => {
  const sc = await scenario({ name: 'relay-only', nat: false, block: false, relayOnly: true });
  let failed = true;
  try {
    const up = await waitCallUp(sc, { path: 'relay' });
    const own = { patient: sc.lab.patientInside, doctor: sc.lab.doctorInside };
    const other = { patient: 'doctor', doctor: 'patient' };
    for (const who of ['patient', 'doctor']) {
      const { pair } = up[who];
      assert.equal(pair.local.type, 'relay', `${who}: local relay (${JSON.stringify(pair)})`);
      assert.equal(pair.remote.type, 'relay', `${who}: remote relay (${JSON.stringify(pair)})`);
      assert.equal(up[who].dataPath, 'relay', `${who}: #path data-path`);
      const page = who === 'patient' ? sc.call.patPage : sc.call.docPage;
      const seen = await remoteSeen(page);
      assert.equal(seen.config?.iceTransportPolicy, 'relay', `${who}: pc created with iceTransportPolicy relay (${JSON.stringify(seen.config)})`);
      assert.ok(seen.remote.length > 0, `${who}: the page applied remote descriptions/candidates`);
      assert.ok(seen.types.length > 0 && seen.types.every((t) => t === 'relay'), `${who}: applied remote candidate types ${JSON.stringify(seen.types)}`);
      const sig = signalCandidates(sc.call.events[who]);
      assert.ok(sig.length > 0, `${who}: received candidates in signal events`);
      assert.deepEqual([...new Set(sig.map((c) => c.type))], ['relay'], `${who}: received candidate types ${JSON.stringify(sig)}`);
      // The other side's own address never reaches this browser.
      const theirs = own[other[who]];
      const received = JSON.stringify(sc.call.events[who]) + JSON.stringify(seen.remote);
      assert.ok(!received.includes(theirs), `${who}: never received the ${other[who]}'s address`);
      assert.ok(!seen.addrs.includes(theirs));
    }
    await sc.shot(sc.call.patPage, 'patient-relay-only');
    failed = false;
  } finally {
    await sc.finish(failed);
  }
});
