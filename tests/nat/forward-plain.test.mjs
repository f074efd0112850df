// The control for forward.test.mjs' "Janus sees only ciphertext": the same
// lab (no direct path, no TURN) and the same dump of the doctor's handle,
// but Janus runs with the test-only forward_e2ee_test_off = true
// (CONSULT_TEST=1 in its environment), so the pages do not encrypt. Then
// the dump DOES show VP8 keyframe start codes at the keyframe position and
// Opus TOC bytes of nearly only two values (SILK, then CELT): the parsers in
// pcap.mjs can see plain media, so their "nothing found" with E2EE means
// something. The pages say that this forwarding is not end-to-end encrypted
// (test mode wording).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { cleanupAll, scenario } from './lab.mjs';
import {
  analyse, callView, legs, payloadTypes, readDump, startDump, stopDump, waitDump, waitForwarded, waitLegs,
} from './pcap.mjs';

after(cleanupAll);

test('forward_e2ee_test_off: the same dump finds plain VP8 keyframes and nearly only two Opus TOC bytes', { timeout: 300_000 }, async () => {
  const sc = await scenario({
    name: 'forward-plain', nat: true, block: true, turn: 'absent',
    pluginConfig: { p2p_timeout_seconds: 3, forward_e2ee_test_off: true }, janusEnv: { CONSULT_TEST: '1' },
  });
  let failed = true;
  try {
    // The dump runs on the call's doctor handle from before the forwarded PeerConnection exists.
    const l0 = await waitLegs(sc.stack.janus);
    const file = path.join(sc.art.dir, 'doctor-leg.pcap');
    await startDump(sc.stack.janus, l0.doctor, { folder: sc.art.dir, filename: path.basename(file) });
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
    // Record until the dump holds a keyframe (by its VP8 tag) and 600 Opus
    // packets (~6 s each way, what 5 s of recording gave on an idle machine).
    await waitDump(file, 'a VP8 keyframe tag and 600 Opus packets', (p) => {
      const x = analyse(p, pts);
      return x.keyframeTags >= 1 && x.audio >= 600;
    }, 120_000);
    await stopDump(sc.stack.janus, l0.doctor);
    const packets = readDump(file);
    const a = analyse(packets, pts);
    console.error(`# dump (e2ee off): ${packets.length} packets, video ${a.video} (${a.videoStarts} frame starts, `
      + `${a.keyframeTags} keyframe tags, ${a.startCodes} start codes), audio ${a.audio} (TOC bytes ${JSON.stringify([...a.tocValues])})`);
    assert.ok(a.startCodes >= 1, `plain VP8 keyframe start code found (${a.startCodes})`);
    assert.equal(a.startCodes, a.keyframeTags, 'every keyframe tag is followed by the start code (parser consistent)');
    assert.ok(a.audio > 200, `> 200 audio packets (${a.audio})`);
    // Measured: 2-4 distinct TOC bytes. Chromium's Opus starts in SILK (TOC
    // 0x78) for ~1-3 s, then stays in CELT (0xf8): which of the two is the
    // most common depends on how long the dump ran (dumps of 241 and 572
    // packets split 120/117 and 230/330), but together they are >= 94 % of
    // the packets. Encrypted TOC bytes are spread like random bytes (two
    // values ~1 %; forward.test.mjs).
    const [first = 0, second = 0] = [...a.tocValues.values()].sort((x, y) => y - x);
    assert.ok(a.tocDistinct <= 8, `Opus TOC byte nearly constant (${a.tocDistinct} distinct values)`);
    assert.ok(first + second >= 0.9 * a.audio, `two TOC bytes in >= 90 % of the packets (${first} + ${second} of ${a.audio})`);
    const stats = await sc.stack.janus.admin({ request: 'stats' });
    assert.ok(stats.forward.total >= 1);
    failed = false;
  } finally {
    await sc.finish(failed);
  }
});
