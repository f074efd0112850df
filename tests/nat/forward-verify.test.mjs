// The verification code (issue 5) in both modes, and a test that tampers
// in transit (window.consultTestTamper, the pages' test-only hook called on
// every outgoing offer/answer and e2ee-key `signal` body):
// 1. Peer-to-peer (cone NATs, direct path open): both pages show the same
//    code, from the two DTLS fingerprints.
// 2. Same lab, next call: the doctor's outgoing offer gets a different
//    a=fingerprint (a man in the middle would have to do this): the codes
//    differ.
// 3. Forwarding (no direct path, no TURN): the patient's outgoing e2ee-key
//    is replaced by another valid P-256 public key: the codes differ.
// (forward.test.mjs shows equal codes in forwarding mode without tampering.)
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { waitFor } from '../browser/lib.mjs';
import { cleanupAll, realCall, scenario, waitCallUp } from './lab.mjs';
import { callView } from './pcap.mjs';

after(cleanupAll);

const codes = (sc, mode, ms = 45_000) => waitFor(`both pages: a verification code in mode ${mode}`, async () => {
  const p = await callView(sc.call.patPage);
  const d = await callView(sc.call.docPage);
  return p.mode === mode && d.mode === mode && p.code && d.code ? { patient: p, doctor: d } : null;
}, ms, 100);

async function acceptWith(sc, page, hook) {
  await page.evaluate(hook);
  await sc.call.pat.click('#accept-call');
}

test('peer-to-peer: equal codes; a fingerprint altered in the offer: different codes', { timeout: 300_000 }, async () => {
  const sc = await scenario({ name: 'forward-verify-p2p', nat: true, block: false, turn: 'on' });
  let failed = true;
  try {
    await waitCallUp(sc, { ms: 45_000 });
    const c1 = await codes(sc, 'p2p');
    assert.match(c1.patient.code, /^\d{3} \d{3}$/);
    assert.equal(c1.patient.code, c1.doctor.code, 'P2P: both pages show the same code');
    assert.equal(c1.patient.shownCode, c1.patient.code, 'patient: [data-testid=verify-code]');
    assert.equal(c1.doctor.shownCode, c1.doctor.code, 'doctor: [data-testid=verify-code]');
    await sc.call.doc.click('#hangup');
    await sc.call.pat.waitVisible('#ended', 30_000);
    for (const p of [sc.call.patPage, sc.call.docPage, sc.call.rec && sc.call.rec.page]) if (p) await p.close().catch(() => {});

    sc.call = await realCall({
      stack: sc.stack, staff: sc.staff, patient: sc.patient, consoleLines: sc.consoleLines, appointmentViaWs: true, accept: false, mark: sc.mark,
    });
    await acceptWith(sc, sc.call.docPage, () => {
      window.__tampered = 0;
      window.consultTestTamper = (body) => {
        if (body && body.type === 'offer' && typeof body.sdp === 'string') {
          // Flip the first byte of every fingerprint: what a relay that
          // terminates DTLS itself would have to send.
          body.sdp = body.sdp.replace(/^(a=fingerprint:\S+ )([0-9A-Fa-f]{2})/gm,
            (m, pre, hex) => pre + ((parseInt(hex, 16) ^ 0xff).toString(16).padStart(2, '0').toUpperCase()));
          window.__tampered += 1;
        }
        return body;
      };
    });
    const c2 = await codes(sc, 'p2p', 30_000);
    assert.ok(await sc.call.docPage.evaluate(() => window.__tampered) >= 1, 'the offer was tampered with');
    assert.notEqual(c2.patient.code, c2.doctor.code, `altered fingerprint: the codes differ (${c2.patient.code} / ${c2.doctor.code})`);
    await sc.call.doc.click('#hangup').catch(() => {});
    failed = false;
  } finally {
    await sc.finish(failed);
  }
});

test('forwarding: the e2ee key replaced in transit: different codes', { timeout: 300_000 }, async () => {
  const sc = await scenario({
    name: 'forward-verify-key', nat: true, block: true, turn: 'absent', accept: false, pluginConfig: { p2p_timeout_seconds: 3 },
  });
  let failed = true;
  try {
    await acceptWith(sc, sc.call.patPage, async () => {
      const kp = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
      const raw = new Uint8Array(await crypto.subtle.exportKey('raw', kp.publicKey));
      const evil = btoa(String.fromCharCode(...raw));
      window.__tampered = 0;
      window.consultTestTamper = (body) => {
        if (body && body.type === 'e2ee-key') { body.key = evil; window.__tampered += 1; }
        return body;
      };
    });
    const c = await codes(sc, 'forward', 60_000);
    assert.equal(await sc.call.patPage.evaluate(() => window.__tampered), 1, 'the patient\'s e2ee key was replaced once');
    assert.match(c.patient.code, /^\d{3} \d{3}$/);
    assert.match(c.doctor.code, /^\d{3} \d{3}$/);
    assert.notEqual(c.patient.code, c.doctor.code, `replaced key: the codes differ (${c.patient.code} / ${c.doctor.code})`);
    failed = false;
  } finally {
    await sc.finish(failed);
  }
});
