// Practice policy forward "never" (issue 5) in the lab where neither a
// direct path nor TURN exists: the peer-to-peer attempt fails, the doctor's
// page asks to forward, the plugin refuses (forward_refused) and ends the
// call for both with reason no_path: both pages show the clear message
// (#call-error data-error="no_path" with advice), the patient's page ends;
// admin stats: forward.active = 0, refused >= 1, nothing forwarded; no
// consult handle ever got a PeerConnection (admin handle_info).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { waitFor } from '../browser/lib.mjs';
import { cleanupAll, scenario } from './lab.mjs';
import { callView, consultHandles, pcInfo } from './pcap.mjs';

after(cleanupAll);

test('policy never: no path -> the call ends with no_path on both pages, nothing forwarded', { timeout: 300_000 }, async () => {
  const sc = await scenario({
    name: 'forward-never', nat: true, block: true, turn: 'absent', forward: 'never',
    pluginConfig: { p2p_timeout_seconds: 3 },
  });
  let failed = true;
  try {
    const stats0 = await sc.stack.janus.admin({ request: 'stats' });
    assert.equal(stats0.practices.find((p) => p.slug === sc.stack.practice.slug).forward, 'never', 'the practice forbids forwarding');
    // ICE needs ~15-30 s to give up on the unreachable host candidates.
    const views = {};
    for (const [who, page] of [['patient', sc.call.patPage], ['doctor', sc.call.docPage]]) {
      let last = null;
      views[who] = await waitFor(`${who}: #call-error no_path`, async () => {
        last = await callView(page);
        return last.error === 'no_path' ? last : null;
      }, 90_000, 250).catch((err) => { throw new Error(`${err.message}; last: ${JSON.stringify(last)}`); });
      assert.notEqual(views[who].mode, 'forward', `${who}: never in forwarding mode`);
      assert.match(views[who].errorText, /Keine Verbindung möglich|No connection possible/, `${who}: the clear message`);
      assert.match(views[who].errorText, /anderes Netz|another network/, `${who}: with advice`);
    }
    await sc.call.pat.waitVisible('#ended', 30_000);
    await waitFor('doctor: back at the list', async () => (await callView(sc.call.docPage)).state === 'list', 30_000, 250);
    const ended = sc.call.events.patient.filter((e) => e.event === 'call_ended');
    assert.deepEqual(ended.map((e) => e.reason), ['no_path'], 'the patient got call_ended reason no_path');
    assert.ok(sc.call.events.patient.every((e) => e.event !== 'forward' && e.event !== 'forward_offer'), 'no forward event reached the patient');
    await sc.shot(sc.call.patPage, 'patient-no-path');
    await sc.shot(sc.call.docPage, 'doctor-no-path');
    const stats = await sc.stack.janus.admin({ request: 'stats' });
    assert.equal(stats.forward.active, 0, 'forward.active = 0');
    assert.equal(stats.forward.total, 0, 'forward.total = 0');
    assert.ok(stats.forward.refused >= 1, `forward.refused >= 1 (${stats.forward.refused})`);
    assert.equal(stats.forward.rtp_packets, 0, 'no RTP forwarded');
    const pr = stats.practices.find((p) => p.slug === sc.stack.practice.slug);
    assert.equal(pr.paths.forward, 0, 'no call counted as forwarded');
    const hs = await consultHandles(sc.stack.janus);
    assert.ok(hs.length >= 2, `consult handles listed (${hs.length})`);
    for (const h of hs) assert.deepEqual(pcInfo(h.info), [], `handle ${JSON.stringify(h.info.plugin_specific)}: no PeerConnection`);
    failed = false;
  } finally {
    await sc.finish(failed);
  }
});
