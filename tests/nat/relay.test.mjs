// Patient and doctor each behind their own NAT, the direct path between the
// NAT outside ranges blocked on the public router: the real pages connect
// relay/relay through coturn (selected pair: both candidates relay, on
// coturn's relay address), video is decoded on both sides, #path says
// data-path="relay" on both pages, the selected pair keeps receiving bytes,
// and coturn itself counted the relayed media: its log gets a peer usage
// line with rb/sb > 0 while the call runs (coturn writes one per 4096
// packets of an allocation, so this is certain for a running call and does
// not depend on when the browsers release their allocations).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { rtcSnapshot, waitFor } from '../browser/lib.mjs';
import { SERVER_IP, cleanupAll, scenario, waitCallUp } from './lab.mjs';

after(cleanupAll);

test('NAT on both sides, direct path blocked: relay/relay through coturn', { timeout: 300_000 }, async () => {
  const sc = await scenario({ name: 'relay', nat: true, block: true });
  let failed = true;
  try {
    const up = await waitCallUp(sc, { path: 'relay' });
    const pages = { patient: sc.call.patPage, doctor: sc.call.docPage };
    for (const [who, page] of Object.entries(pages)) {
      const s = up[who];
      assert.equal(s.pair.local.type, 'relay', `${who}: local candidate relay (${JSON.stringify(s.pair)})`);
      assert.equal(s.pair.remote.type, 'relay', `${who}: remote candidate relay (${JSON.stringify(s.pair)})`);
      assert.equal(s.pair.local.address, SERVER_IP, `${who}: local relay address is coturn's (${JSON.stringify(s.pair)})`);
      assert.equal(s.pair.remote.address, SERVER_IP, `${who}: remote relay address is coturn's (${JSON.stringify(s.pair)})`);
      assert.ok(s.framesDecoded > 0, `${who}: frames decoded`);
      assert.equal(s.dataPath, 'relay', `${who}: #path data-path`);
      const text = await page.evaluate(() => document.querySelector('#path').textContent.trim());
      assert.ok(text.length > 0, `${who}: #path has a text`);
    }
    // Media keeps flowing over the relayed pair (getStats of both browsers).
    for (const [who, page] of Object.entries(pages)) {
      const before = up[who].pair.bytesReceived;
      const later = await waitFor(`${who}: the relayed pair receives more bytes`, async () => {
        const s = await rtcSnapshot(page);
        return s.pair && s.pair.local.type === 'relay' && s.pair.remote.type === 'relay'
          && s.pair.bytesReceived > before + 10_000 ? s : null;
      }, 30_000, 250);
      assert.ok(later.framesDecoded > up[who].framesDecoded, `${who}: more frames decoded`);
    }
    await sc.shot(sc.call.patPage, 'patient-relay');
    await sc.shot(sc.call.docPage, 'doctor-relay');
    await waitFor('the public router dropped direct attempts between the NATs', () => sc.lab.blockedPackets() > 0, 30_000, 250);
    // coturn's own counters, from its live log while the call runs.
    const usage = await sc.stack.coturn.waitPeerUsage('rb and sb > 10000', (u) => u.rb > 10_000 && u.sb > 10_000, 90_000);
    assert.ok(usage.some((u) => u.rb > 10_000 && u.sb > 10_000), `coturn relayed media (peer usage rb/sb): ${JSON.stringify(usage)}`);
    await sc.call.doc.click('#hangup');
    await sc.call.pat.waitVisible('#ended', 30_000);
    failed = false;
  } finally {
    await sc.finish(failed);
  }
});
