// Forwarding mode (issue 5) in the NAT lab: patient and doctor each behind
// a NAT, the direct path between the NATs blocked and no TURN at all (no
// coturn, no ice_servers), Janus reachable; the product's default
// p2p_timeout_seconds (10).
// 1. The call moves to forwarding through Janus by itself, on evidence (the
//    fallback is counted as ice_failed, never timeout; nothing dropped while
//    the second leg came up): both pages in
//    mode 'forward', connected, video decoded (framesDecoded grows,
//    videoWidth > 0), each browser's selected pair's remote address is one
//    of Janus' own candidates on that browser's handle (admin handle_info),
//    #path shows the server wording, both verification codes equal and
//    shown; admin stats: paths.forward >= 1, a fallback counted.
// 2. Janus cannot read the media: a pcap dump (Janus' admin start_pcap, RTP
//    after SRTP decryption) of the doctor's handle, both directions, has no
//    VP8 keyframe start code at the keyframe position and Opus TOC bytes
//    spread like random bytes (forward-plain.test.mjs is the control that
//    finds them with e2ee off).
// 3. A hang-up frees both handles (no PeerConnection, no forwarding leg).
// 4. A second forwarded call, then the patient's page is closed (a dropped
//    browser): the patient's session is gone and the doctor's handle has no
//    PeerConnection left; Janus exits 0 at stop.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { rtcSnapshot, waitFor } from '../browser/lib.mjs';
import { cleanupAll, realCall, scenario } from './lab.mjs';
import {
  analyse, callView, candidateAddrs, consultHandles, legs, payloadTypes, pcInfo, readDump,
  startDump, stopDump, waitDump, waitForwarded, waitLegs,
} from './pcap.mjs';

let sc = null;
const GRACE_S = 120; // grace_seconds of this file's Janus
let failed = false;
let up = null;
let dumpLeg = null;
let dumpFile = null;

// The dump runs on the call's doctor handle, started before the patient
// accepts (before()).
async function dumpDoctorLeg() {
  const l = await waitLegs(sc.stack.janus);
  dumpLeg = l.doctor;
  dumpFile = 'doctor-leg.pcap';
  await startDump(sc.stack.janus, dumpLeg, { folder: sc.art.dir, filename: dumpFile });
}

before(async () => {
  sc = await scenario({
    name: 'forward', nat: true, block: true, turn: 'absent',
    // the plugin's clock can be moved (test_clock): a held call's grace passes without waiting
    janusEnv: { CONSULT_TEST: '1' }, janusOptions: { graceSeconds: GRACE_S },
  });
  // Dump from the start (before the forwarded PeerConnection exists) so the
  // first keyframes are in it: Chromium sends keyframes only on request.
  await dumpDoctorLeg();
}, { timeout: 300_000 });

after(async () => {
  if (sc) await sc.finish(failed);
  await cleanupAll();
});

const guard = (fn) => async () => { try { await fn(); } catch (err) { failed = true; throw err; } };

test('no direct path, no TURN: the call is forwarded through Janus, video both ways, pairs point at Janus', { timeout: 300_000 }, guard(async () => {
  up = await waitForwarded(sc, { ms: 60_000 });
  const l = await legs(sc.stack.janus);
  const janusAddrs = {
    patient: candidateAddrs(l.patient.info.sdps && l.patient.info.sdps.local),
    doctor: candidateAddrs(l.doctor.info.sdps && l.doctor.info.sdps.local),
  };
  const own = { patient: [sc.lab.patientInside, sc.lab.patientOutside], doctor: [sc.lab.doctorInside, sc.lab.doctorOutside] };
  for (const who of ['patient', 'doctor']) {
    const page = who === 'patient' ? sc.call.patPage : sc.call.docPage;
    const { snap } = up[who];
    assert.ok(janusAddrs[who].length > 0, `${who}: Janus offered candidates on its handle (${JSON.stringify(janusAddrs[who])})`);
    assert.ok(janusAddrs[who].includes(snap.pair.remote.address),
      `${who}: selected pair's remote ${snap.pair.remote.address} is one of Janus' candidates ${JSON.stringify(janusAddrs[who])}`);
    const other = who === 'patient' ? own.doctor : own.patient;
    assert.ok(!other.includes(snap.pair.remote.address), `${who}: not talking to the other browser`);
    assert.notEqual(snap.pair.remote.type, 'relay', `${who}: no TURN relay involved`);
    // Frames keep coming, and the <video> really shows a picture.
    const later = await waitFor(`${who}: framesDecoded grows`, async () => {
      const s = await rtcSnapshot(page);
      return s.framesDecoded > snap.framesDecoded + 5 ? s : null;
    }, 30_000, 250);
    assert.ok(later.framesDecoded > snap.framesDecoded, `${who}: frames decoded grow`);
    const view = await waitFor(`${who}: #remote-video has a picture`, async () => {
      const v = await callView(page);
      return v.videoWidth > 0 ? v : null;
    }, 30_000, 250);
    assert.equal(view.mode, 'forward');
    assert.equal(view.path, 'forward', `${who}: #path data-path`);
    assert.match(view.pathText, /Praxis-Server, Ende-zu-Ende verschlüsselt|practice server, end-to-end encrypted/, `${who}: #path wording`);
    assert.equal(view.error, null, `${who}: no #call-error`);
  }
  // The verification code: the same on both sides, and shown.
  const views = {
    patient: await waitFor('patient: verification code', async () => { const v = await callView(sc.call.patPage); return v.code ? v : null; }),
    doctor: await waitFor('doctor: verification code', async () => { const v = await callView(sc.call.docPage); return v.code ? v : null; }),
  };
  assert.match(views.patient.code, /^\d{3} \d{3}$/, 'code format "123 456"');
  assert.equal(views.patient.code, views.doctor.code, 'both verification codes equal');
  for (const who of ['patient', 'doctor']) {
    assert.equal(views[who].shownCode, views[who].code, `${who}: [data-testid=verify-code] data-code`);
    assert.ok(views[who].shownText.includes(views[who].code), `${who}: the code is visible`);
    const page = who === 'patient' ? sc.call.patPage : sc.call.docPage;
    await waitFor(`${who}: frames encrypted and decrypted in the page`, async () => {
      const c = (await callView(page)).counters;
      return c && c.encrypted > 0 && c.decrypted > 0;
    }, 30_000, 250);
  }
  // Counters grow while media flows: wait for the limit, never read once.
  let stats = null;
  await waitFor('admin stats: the plugin relayed > 100 RTP packets', async () => {
    stats = await sc.stack.janus.admin({ request: 'stats' });
    return stats.forward.rtp_packets > 100;
  }, 60_000, 250).catch((err) => { throw new Error(`${err.message} (rtp_packets ${stats && stats.forward.rtp_packets})`); });
  const pr = stats.practices.find((p) => p.slug === sc.stack.practice.slug);
  assert.ok(pr.paths && pr.paths.forward >= 1, `paths.forward >= 1 (${JSON.stringify(pr.paths)})`);
  // what one leg sent before the other was up (its first keyframe among it)
  // was held and relayed (held: 0 when both legs came up together); RTP is
  // dropped only when a leg's hold was full (256 packets: a very slow second
  // leg on a loaded machine), never instead of holding. Data-channel
  // messages before the other leg's channel is ready are counted apart
  // (data_dropped; the call channel's hello covers them).
  if (stats.forward.dropped > 0) {
    assert.ok(stats.forward.held >= 256, `RTP dropped only from a full hold (dropped ${stats.forward.dropped}, held ${stats.forward.held})`);
  }
  console.error(`# held for the leg that came up second: ${stats.forward.held} packets`);
  const fb = stats.forward.fallbacks;
  assert.equal(fb.ice_failed, 1, `the fallback came from evidence (${JSON.stringify(fb)})`);
  assert.equal(fb.timeout, 0, `not from the timer (${JSON.stringify(fb)})`);
  assert.equal(stats.forward.active, 1, 'one forwarded call active');
  await sc.shot(sc.call.patPage, 'patient-forward');
  await sc.shot(sc.call.docPage, 'doctor-forward');
}));

test('Janus sees only ciphertext: no VP8 keyframe start code, no Opus TOC pattern in its dump', { timeout: 300_000 }, guard(async () => {
  assert.ok(up, 'the forwarded call is up');
  const l = await legs(sc.stack.janus);
  assert.equal(l.doctor.handle_id, dumpLeg.handle_id, 'the dump runs on the current call\'s doctor handle');
  const pts = payloadTypes(`${l.doctor.info.sdps.local}\n${l.doctor.info.sdps.remote}`);
  assert.ok(pts.vp8.size > 0 && pts.opus.size > 0, `VP8 and Opus negotiated (${[...pts.vp8]} / ${[...pts.opus]})`);
  // Keyframes passed through Janus while it dumped: the receivers decrypted
  // them (the wait fails unless both pages count one).
  await waitFor('both pages decrypted a forwarded keyframe', async () => {
    const doc = await callView(sc.call.docPage);
    const pat = await callView(sc.call.patPage);
    return doc.counters && pat.counters && doc.counters.keyframesIn > 0 && pat.counters.keyframesIn > 0;
  }, 30_000, 250);
  // Record until the dump holds enough of both directions for the analysis.
  const file = path.join(sc.art.dir, dumpFile);
  await waitDump(file, 'per direction >= 50 video packets, >= 10 VP8 frame starts, >= 100 audio packets; > 200 audio in all', (p) => {
    const dir = (incoming) => analyse(p.filter((x) => x.incoming === incoming), pts);
    const enough = (a) => a.video >= 50 && a.videoStarts >= 10 && a.audio >= 100;
    return enough(dir(true)) && enough(dir(false)) && analyse(p, pts).audio > 200;
  }, 60_000);
  await stopDump(sc.stack.janus, dumpLeg);
  const doc = await callView(sc.call.docPage);
  const pat = await callView(sc.call.patPage);
  assert.equal(doc.counters.startCodeOut + pat.counters.startCodeOut, 0, 'the pages\' own check: no start code left their encryptors');
  const packets = readDump(file);
  const both = analyse(packets, pts);
  const dirs = {
    in: analyse(packets.filter((p) => p.incoming), pts),
    out: analyse(packets.filter((p) => !p.incoming), pts),
  };
  console.error(`# dump: ${packets.length} packets, ${both.rtp} RTP, video ${both.video} (${both.videoStarts} frame starts, `
    + `${both.startCodes} start codes), audio ${both.audio} (${both.tocDistinct} distinct TOC bytes)`);
  for (const [d, a] of Object.entries(dirs)) {
    assert.ok(a.video >= 50, `${d}: video packets in the dump (${a.video})`);
    assert.ok(a.videoStarts >= 10, `${d}: VP8 frame starts parsed (${a.videoStarts})`);
    assert.ok(a.audio >= 100, `${d}: audio packets in the dump (${a.audio})`);
  }
  assert.equal(both.startCodes, 0, 'no VP8 keyframe start code 9d 01 2a at the keyframe position');
  assert.ok(both.audio > 200, `> 200 audio packets (${both.audio})`);
  assert.ok(both.tocDistinct > 40, `Opus TOC byte spread out (${both.tocDistinct} distinct values over ${both.audio} packets)`);
  const top = Math.max(...both.tocValues.values());
  assert.ok(top < both.audio / 10, `no TOC byte dominates (${top} of ${both.audio}; plain Opus: most packets share one)`);
}));

test('hang-up in forwarding mode frees both handles', { timeout: 300_000 }, guard(async () => {
  const before = await legs(sc.stack.janus);
  assert.ok(pcInfo(before.patient.info).length > 0 && pcInfo(before.doctor.info).length > 0, 'both legs have a PeerConnection');
  await sc.call.doc.click('#hangup');
  await sc.call.pat.waitVisible('#ended', 30_000);
  const left = await waitFor('no consult handle holds a PeerConnection or a forwarding leg', async () => {
    const hs = await consultHandles(sc.stack.janus);
    return hs.every((h) => pcInfo(h.info).length === 0) ? hs : null;
  }, 30_000, 250).catch(async (err) => {
    const hs = await consultHandles(sc.stack.janus);
    throw new Error(`${err.message}: ${JSON.stringify(hs.map((h) => ({ kind: h.info.plugin_specific, found: pcInfo(h.info) })))}`);
  });
  const doc = left.find((h) => h.handle_id === before.doctor.handle_id);
  assert.ok(doc, 'the doctor\'s handle is still there (logged in), without a PeerConnection');
  const pat = left.find((h) => h.handle_id === before.patient.handle_id);
  assert.ok(!pat || pcInfo(pat.info).length === 0, 'the patient\'s handle is gone or without a PeerConnection');
  const stats = await waitFor('admin stats: no forwarded call active', async () => {
    const st = await sc.stack.janus.admin({ request: 'stats' });
    return st.forward.active === 0 ? st : null;
  }, 30_000, 250);
  assert.equal(stats.forward.total, 1, 'forward.total counts the call');
  assert.equal(stats.forward.legs_lost, 0, 'no forwarded leg was lost');
}));

test('a dropped browser in forwarding mode frees both handles; Janus exits 0', { timeout: 300_000 }, guard(async () => {
  for (const p of [sc.call.patPage, sc.call.docPage, sc.call.rec && sc.call.rec.page]) if (p) await p.close().catch(() => {});
  sc.call = await realCall({
    stack: sc.stack, staff: sc.staff, patient: sc.patient, consoleLines: sc.consoleLines, appointmentViaWs: true, mark: sc.mark,
  });
  await waitForwarded(sc, { ms: 60_000 });
  const before = await legs(sc.stack.janus);
  assert.ok(pcInfo(before.patient.info).length > 0 && pcInfo(before.doctor.info).length > 0, 'both legs have a PeerConnection');
  const handles0 = (await sc.stack.janus.admin({ request: 'health' })).handles;
  await sc.call.patPage.close();
  sc.mark('patient page closed');
  // The patient's handle goes with its page: the call is held for the
  // grace period (the patient may come back); the doctor's page meanwhile
  // asks to forward again. Nobody comes back: once the grace period has
  // passed on the plugin's clock the visit ends (patient_dropped).
  await waitFor('the patient\'s handle is gone', async () => {
    const hs = await consultHandles(sc.stack.janus);
    return !hs.some((h) => h.handle_id === before.patient.handle_id || h.session_id === before.patient.session_id);
  }, 30_000, 250);
  // ... and the plugin has let it go (its destroy_session dated the drop;
  // the Janus core lists the handle as gone before that runs): only then is
  // the clock moved, else the drop is dated after the move and the grace
  // period has not passed
  await waitFor('the plugin has let the patient\'s handle go', async () => (
    (await sc.stack.janus.admin({ request: 'health' })).handles < handles0), 30_000, 250);
  const clock = await sc.stack.janus.admin({ request: 'test_clock', offset_seconds: GRACE_S + 30 });
  assert.equal(clock.ok, true, JSON.stringify(clock));
  await waitFor('doctor: the call ended', async () => (await callView(sc.call.docPage)).state === 'list', 30_000, 250);
  await waitFor('the patient\'s session is gone, the doctor\'s handle has no PeerConnection', async () => {
    const hs = await consultHandles(sc.stack.janus);
    const pat = hs.find((h) => h.handle_id === before.patient.handle_id || h.session_id === before.patient.session_id);
    const doc = hs.find((h) => h.handle_id === before.doctor.handle_id);
    return !pat && doc && pcInfo(doc.info).length === 0 && hs.every((h) => pcInfo(h.info).length === 0);
  }, 30_000, 250);
  const stats = await waitFor('admin stats: no forwarded call active', async () => {
    const st = await sc.stack.janus.admin({ request: 'stats' });
    return st.forward.active === 0 ? st : null;
  }, 30_000, 250);
  assert.ok(stats.forward.total >= 2, 'forward.total counts both calls');
  const logs = await sc.finish(false);
  assert.deepEqual(logs.janus, { code: 0, signal: null }, 'Janus exits 0');
}));
