// Cone NAT on both sides, no block: the real pages connect through
// server-reflexive candidates (selected pair has a srflx/prflx side and no
// relay side), #path data-path="direct" on both pages. On the same call:
// the SDP each browser received through the plugin is the other browser's
// own (the a=fingerprint of the doctor's localDescription is the one in
// the patient's remoteDescription and vice versa, and the `signal` events
// carried exactly those SDPs): no one in the middle.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cleanupAll, fingerprints, scenario, waitCallUp } from './lab.mjs';

let sc = null;
let failed = false;
before(async () => {
  sc = await scenario({ name: 'srflx', nat: true, block: false });
}, { timeout: 300_000 });
after(async () => {
  if (sc) await sc.finish(failed);
  await cleanupAll();
});

test('cone NAT, direct path open: connects through srflx candidates, #path direct', { timeout: 300_000 }, async () => {
  try {
    // Relay pairs may succeed first; Chromium then switches to srflx.
    const up = await waitCallUp(sc, { path: 'direct', directOnly: true, ms: 60_000 });
    for (const who of ['patient', 'doctor']) {
      const { pair } = up[who];
      const types = [pair.local.type, pair.remote.type];
      assert.ok(!types.includes('relay'), `${who}: not relayed (${JSON.stringify(pair)})`);
      assert.ok(types.some((t) => t === 'srflx' || t === 'prflx'), `${who}: srflx/prflx on the selected pair (${JSON.stringify(pair)})`);
      assert.ok(up[who].framesDecoded > 0, `${who}: frames decoded`);
      assert.equal(up[who].dataPath, 'direct', `${who}: #path data-path`);
    }
    // The addresses are the NATs' outside addresses, not the private ones.
    assert.equal(up.patient.pair.remote.address, sc.lab.doctorOutside, 'patient talks to the doctor NAT outside address');
    assert.equal(up.doctor.pair.remote.address, sc.lab.patientOutside, 'doctor talks to the patient NAT outside address');
    await sc.shot(sc.call.patPage, 'patient-direct');
    await sc.shot(sc.call.docPage, 'doctor-direct');
  } catch (err) { failed = true; throw err; }
});

test('the SDP each browser receives through the plugin is the other one\'s (DTLS fingerprints match)', { timeout: 300_000 }, async () => {
  try {
    const read = (page) => page.evaluate(() => ({
      local: window.consult.pc.localDescription && window.consult.pc.localDescription.sdp,
      remote: window.consult.pc.remoteDescription && window.consult.pc.remoteDescription.sdp,
    }));
    const pat = await read(sc.call.patPage);
    const doc = await read(sc.call.docPage);
    const fp = {
      patLocal: fingerprints(pat.local), patRemote: fingerprints(pat.remote),
      docLocal: fingerprints(doc.local), docRemote: fingerprints(doc.remote),
    };
    for (const [k, v] of Object.entries(fp)) assert.equal(v.length > 0, true, `${k}: has an a=fingerprint`);
    assert.deepEqual(fp.patRemote, fp.docLocal, 'patient remote fingerprint = doctor local fingerprint');
    assert.deepEqual(fp.docRemote, fp.patLocal, 'doctor remote fingerprint = patient local fingerprint');
    assert.notDeepEqual(fp.patLocal, fp.docLocal, 'two different browsers, two different certificates');
    // The SDPs relayed by the plugin are the ones the other side sent.
    const sigSdp = (events, type) => events.filter((e) => e.event === 'signal' && e.type === type).map((e) => e.sdp);
    const offers = sigSdp(sc.call.events.patient, 'offer');
    const answers = sigSdp(sc.call.events.doctor, 'answer');
    assert.ok(offers.length >= 1 && answers.length >= 1, `signal offer/answer seen (${offers.length}/${answers.length})`);
    // Chromium updates a description with trickled candidates (a=candidate,
    // the default candidate in c= and the m= port): compare without those.
    const strip = (sdp) => String(sdp).split(/\r?\n/)
      .filter((l) => !/^(a=candidate|a=end-of-candidates|c=)/.test(l))
      .map((l) => l.replace(/^m=(\S+) \d+ /, 'm=$1 PORT '))
      .join('\n');
    assert.equal(strip(offers.at(-1)), strip(doc.local), 'the offer the patient got = the doctor\'s local description');
    assert.equal(strip(answers.at(-1)), strip(pat.local), 'the answer the doctor got = the patient\'s local description');
    assert.equal(strip(pat.remote), strip(doc.local), 'patient remoteDescription = doctor localDescription');
    assert.equal(strip(doc.remote), strip(pat.local), 'doctor remoteDescription = patient localDescription');
  } catch (err) { failed = true; throw err; }
});
