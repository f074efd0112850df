// Forwarding mode across browsers (issue 5): the patient in Firefox ESR
// (in its own namespace behind a NAT, driven over WebDriver BiDi through
// lab.mjs' bridge), the doctor in Chromium, no direct path and no TURN:
// the call is forwarded through Janus with end-to-end encrypted frames
// (Firefox: RTCRtpScriptTransform), video decoded on both sides, both
// pages show the same verification code, and Firefox opens the sealed call
// channel messages in its channel worker (callchannel.mjs opening 'worker').
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { rtcSnapshot, waitFor } from '../browser/lib.mjs';
import { cleanupAll, scenario } from './lab.mjs';
import { callView, waitForwarded } from './pcap.mjs';

after(cleanupAll);

test('patient in Firefox ESR, doctor in Chromium: forwarded call, frames decoded on both sides', { timeout: 300_000 }, async () => {
  const sc = await scenario({
    name: 'forward-firefox', nat: true, block: true, turn: 'absent', patientBrowser: 'firefox',
    pluginConfig: { p2p_timeout_seconds: 3 },
  });
  let failed = true;
  try {
    assert.equal(sc.patient.kind, 'firefox');
    const ua = await sc.call.patPage.evaluate(() => navigator.userAgent);
    assert.match(ua, /Firefox\//, `the patient's browser is Firefox (${ua})`);
    const up = await waitForwarded(sc, { ms: 75_000 });
    for (const [who, page] of [['patient', sc.call.patPage], ['doctor', sc.call.docPage]]) {
      const first = up[who].snap;
      const later = await waitFor(`${who}: framesDecoded grows`, async () => {
        const s = await rtcSnapshot(page);
        return s.framesDecoded > first.framesDecoded + 5 ? s : null;
      }, 30_000, 250);
      assert.ok(later.framesDecoded > 5, `${who}: frames decoded (${later.framesDecoded})`);
      const v = await callView(page);
      assert.equal(v.mode, 'forward');
      assert.equal(v.path, 'forward', `${who}: #path data-path`);
      assert.ok(v.counters && v.counters.decrypted > 0 && v.counters.encrypted > 0, `${who}: E2EE counters ${JSON.stringify(v.counters)}`);
    }
    const codes = await waitFor('both verification codes', async () => {
      const p = (await callView(sc.call.patPage)).code;
      const d = (await callView(sc.call.docPage)).code;
      return p && d ? { p, d } : null;
    });
    assert.equal(codes.p, codes.d, 'the same verification code in Firefox and Chromium');
    // the call channel's sealed frames are opened in Firefox's channel worker (module worker, the key cloned into it)
    for (const [who, page] of [['patient', sc.call.patPage], ['doctor', sc.call.docPage]]) {
      await waitFor(`${who}: call channel open in mode forward`,
        () => page.evaluate(() => window.consult.channel.state === 'open' && window.consult.channel.mode === 'forward'), 30_000, 100);
    }
    await sc.call.docPage.evaluate(() => window.consult.channel.send('x-probe', { k: 1 }, new Uint8Array(3000).fill(7)));
    const got = await waitFor('patient (Firefox): the probe opened in its channel worker', () => sc.call.patPage.evaluate(() => {
      const ch = window.consult.channel;
      const c = ch.stats.types['x-probe'];
      return c && c.received >= 1 ? { via: ch.opening, inWorker: ch.openedInWorker, received: c.received, failed: ch.stats.failed } : null;
    }), 30_000, 100);
    assert.deepEqual({ via: got.via, received: got.received, failed: got.failed }, { via: 'worker', received: 1, failed: 0 });
    assert.ok(got.inWorker >= 1, `opened in the worker: ${got.inWorker}`);
    await sc.shot(sc.call.patPage, 'patient-firefox-forward');
    await sc.shot(sc.call.docPage, 'doctor-forward');
    failed = false;
  } finally {
    await sc.finish(failed);
  }
});
