// The control for forward.test.mjs' "Janus sees only ciphertext": the same
// lab (no direct path, no TURN) and the same dump of the doctor's handle,
// but Janus runs with the test-only forward_e2ee_test_off = true
// (CONSULT_TEST=1 in its environment), so the pages do not encrypt. Then
// the dump DOES show VP8 keyframe start codes at the keyframe position and
// a nearly constant Opus TOC byte: the parsers in pcap.mjs can see plain
// media, so their "nothing found" with E2EE means something. The pages say
// that this forwarding is not end-to-end encrypted (test mode wording).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { cleanupAll, scenario } from './lab.mjs';
import { analyse, callView, legs, payloadTypes, readDump, startDump, stopDump, waitDump, waitForwarded } from './pcap.mjs';

after(cleanupAll);

test('forward_e2ee_test_off: the same dump finds plain VP8 keyframes and a constant Opus TOC byte', { timeout: 300_000 }, async () => {
  const sc = await scenario({
    name: 'forward-plain', nat: true, block: true, turn: 'absent',
    pluginConfig: { p2p_timeout_seconds: 3, forward_e2ee_test_off: true }, janusEnv: { CONSULT_TEST: '1' },
  });
  let failed = true;
  try {
    const l0 = await legs(sc.stack.janus);
    assert.ok(l0.doctor, 'the doctor\'s consult handle exists');
    await startDump(sc.stack.janus, l0.doctor, { folder: sc.art.dir, filename: 'doctor-leg.pcap' });
    await waitForwarded(sc, { ms: 60_000 });
    for (const [who, page] of [['patient', sc.call.patPage], ['doctor', sc.call.docPage]]) {
      const v = await callView(page);
      assert.equal(v.path, 'forward', `${who}: #path data-path`);
      assert.equal(v.pathE2ee, 'false', `${who}: #path says not end-to-end encrypted`);
      assert.doesNotMatch(v.pathText, /Ende-zu-Ende|end-to-end/, `${who}: no E2EE promise in the wording (${v.pathText})`);
      assert.equal(v.counters, null, `${who}: no E2EE session`);
    }
    const l = await legs(sc.stack.janus);
    const pts = payloadTypes(`${l.doctor.info.sdps.local}\n${l.doctor.info.sdps.remote}`);
    const file = path.join(sc.art.dir, 'doctor-leg.pcap');
    // Record until the dump holds a keyframe (by its VP8 tag) and > 200
    // audio packets: what the assertions below need, however slow the machine.
    await waitDump(file, 'a VP8 keyframe tag and > 200 Opus packets', (p) => {
      const x = analyse(p, pts);
      return x.keyframeTags >= 1 && x.audio > 200;
    }, 60_000);
    await stopDump(sc.stack.janus, l0.doctor);
    const packets = readDump(file);
    const a = analyse(packets, pts);
    console.error(`# dump (e2ee off): ${packets.length} packets, video ${a.video} (${a.videoStarts} frame starts, `
      + `${a.keyframeTags} keyframe tags, ${a.startCodes} start codes), audio ${a.audio} (TOC bytes ${JSON.stringify([...a.tocValues])})`);
    assert.ok(a.startCodes >= 1, `plain VP8 keyframe start code found (${a.startCodes})`);
    assert.equal(a.startCodes, a.keyframeTags, 'every keyframe tag is followed by the start code (parser consistent)');
    assert.ok(a.audio > 200, `> 200 audio packets (${a.audio})`);
    // Measured: 3-4 distinct TOC bytes (the encoder switches SILK/CELT modes),
    // the most common one in ~2/3 of the packets.
    const top = Math.max(...a.tocValues.values());
    assert.ok(a.tocDistinct <= 8, `Opus TOC byte nearly constant (${a.tocDistinct} distinct values)`);
    assert.ok(top >= a.audio / 2, `one TOC byte in most packets (${top} of ${a.audio})`);
    const stats = await sc.stack.janus.admin({ request: 'stats' });
    assert.ok(stats.forward.total >= 1);
    failed = false;
  } finally {
    await sc.finish(failed);
  }
});
