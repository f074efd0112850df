// A call that can go peer to peer is never forwarded: in the host lab (no
// NAT), the srflx lab (cone NATs, direct path open), the relay lab (NATs,
// direct path blocked, TURN works) and a relay-only practice (policy relay:
// TURN candidates only), with the product's default
// timer, two calls each: both pages connected in mode p2p on the lab's path
// (#path direct / relay), the doctor's page never asked `forward`, and
// Janus' admin stats count 0 forwarded calls (forward.total, every
// fallback cause, paths.forward) and each call under a P2P path (direct or
// relay: the plugin takes the doctor's connected report, and in the srflx
// lab a relay pair may be selected first and replaced by srflx later). The
// no-path evidence is looked for only before the first connection, so
// "connected and decoding in mode p2p" ends the window in which it could
// have forwarded.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { waitFor } from '../browser/lib.mjs';
import { cleanupAll, realCall, scenario, waitCallUp } from './lab.mjs';
import { callView } from './pcap.mjs';

after(cleanupAll);

const CALLS = 2;

async function neverForwarded(name, labOpts, path) {
  const sc = await scenario({ name, ...labOpts });
  let failed = true;
  try {
    for (let i = 1; i <= CALLS; i++) {
      if (i > 1) {
        for (const p of [sc.call.patPage, sc.call.docPage, sc.call.rec && sc.call.rec.page]) if (p) await p.close().catch(() => {});
        sc.call = await realCall({
          stack: sc.stack, staff: sc.staff, patient: sc.patient, consoleLines: sc.consoleLines, appointmentViaWs: true, mark: sc.mark,
        });
      }
      await waitCallUp(sc, { path, ms: 60_000, directOnly: path === 'direct' });
      for (const [who, page] of [['patient', sc.call.patPage], ['doctor', sc.call.docPage]]) {
        const v = await callView(page);
        assert.equal(v.mode, 'p2p', `call ${i}, ${who}: mode p2p`);
        assert.equal(v.path, path, `call ${i}, ${who}: #path ${path}`);
      }
      const asked = sc.call.sent.doctor.filter((b) => b.request === 'forward');
      assert.deepEqual(asked, [], `call ${i}: the doctor's page never asked forward`);
      assert.ok(!sc.consoleLines.some((l) => /no peer-to-peer path/.test(l)), `call ${i}: no no-path verdict`);
      // the doctor's connected report reaches the plugin: the call counts under a P2P path
      await waitFor(`admin stats: ${i} call(s) counted as direct or relay`, async () => {
        const st = await sc.stack.janus.admin({ request: 'stats' });
        const paths = st.practices.find((p) => p.slug === sc.stack.practice.slug).paths;
        return paths.direct + paths.relay >= i;
      }, 30_000, 250);
      await sc.call.doc.click('#hangup');
      await sc.call.pat.waitVisible('#ended', 30_000);
    }
    const stats = await sc.stack.janus.admin({ request: 'stats' });
    const pr = stats.practices.find((p) => p.slug === sc.stack.practice.slug);
    assert.equal(stats.forward.total, 0, `forward.total = 0 (${JSON.stringify(stats.forward)})`);
    assert.deepEqual(Object.values(stats.forward.fallbacks), [0, 0, 0, 0], `no fallback of any cause (${JSON.stringify(stats.forward.fallbacks)})`);
    assert.equal(pr.paths.forward, 0, `paths.forward = 0 (${JSON.stringify(pr.paths)})`);
    assert.equal(pr.paths.direct + pr.paths.relay, CALLS, `paths.direct + paths.relay = ${CALLS} (${JSON.stringify(pr.paths)})`);
    failed = false;
  } finally {
    await sc.finish(failed);
  }
}

test('host lab (no NAT): peer to peer, never forwarded', { timeout: 300_000 },
  () => neverForwarded('p2p-host', { nat: false }, 'direct'));

test('srflx lab (cone NATs, direct path open): peer to peer, never forwarded', { timeout: 300_000 },
  () => neverForwarded('p2p-srflx', { nat: true, block: false }, 'direct'));

test('relay lab (direct path blocked, TURN works): relayed, never forwarded', { timeout: 300_000 },
  () => neverForwarded('p2p-relay', { nat: true, block: true }, 'relay'));

// relay policy: no host or srflx candidate at all, the other side's first
// candidate is its TURN allocation (a page starved by a busy machine once
// sent none within 1.8 s and the call was forwarded)
test('relay-only practice (TURN only, no host candidates): relayed, never forwarded', { timeout: 300_000 },
  () => neverForwarded('p2p-relay-only', { nat: false, relayOnly: true }, 'relay'));
