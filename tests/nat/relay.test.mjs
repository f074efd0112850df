// Patient and doctor each behind their own NAT, the direct path between the
// NAT outside ranges blocked on the public router: the real pages connect
// relay/relay through coturn (selected pair), video is decoded on both
// sides, #path says data-path="relay" on both pages, and coturn's log shows
// the relayed bytes (peer usage rb/sb > 0) once the call ended.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cleanupAll, scenario, waitCallUp } from './lab.mjs';

after(cleanupAll);

test('NAT on both sides, direct path blocked: relay/relay through coturn', { timeout: 120_000 }, async () => {
  const sc = await scenario({ name: 'relay', nat: true, block: true });
  let failed = true;
  try {
    const up = await waitCallUp(sc, { path: 'relay' });
    for (const who of ['patient', 'doctor']) {
      const s = up[who];
      assert.equal(s.pair.local.type, 'relay', `${who}: local candidate relay (${JSON.stringify(s.pair)})`);
      assert.equal(s.pair.remote.type, 'relay', `${who}: remote candidate relay (${JSON.stringify(s.pair)})`);
      assert.ok(s.framesDecoded > 0, `${who}: frames decoded`);
      assert.equal(s.dataPath, 'relay', `${who}: #path data-path`);
      const text = await sc.call[who === 'patient' ? 'patPage' : 'docPage'].evaluate(() => document.querySelector('#path').textContent.trim());
      assert.ok(text.length > 0, `${who}: #path has a text`);
    }
    await sc.shot(sc.call.patPage, 'patient-relay');
    await sc.shot(sc.call.docPage, 'doctor-relay');
    assert.ok(sc.lab.blockedPackets() > 0, 'the public router dropped direct attempts between the NATs');
    // Hang up so the browsers release their allocations: coturn logs usage.
    await sc.call.doc.click('#hangup');
    await sc.call.pat.waitVisible('#ended', 15_000);
    failed = false;
  } finally {
    await sc.finish(failed);
  }
  const usage = sc.stack.coturn.peerUsage();
  assert.ok(usage.some((u) => u.rb > 10_000 && u.sb > 10_000),
    `coturn relayed media (peer usage rb/sb): ${JSON.stringify(usage)}`);
});
