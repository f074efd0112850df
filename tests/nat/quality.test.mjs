// The connection quality shown during a call (html/js/quality.mjs,
// callquality.mjs) follows the network: a peer-to-peer call in the lab (no
// NAT, no TURN: host to host through the public router) is "gut" on both
// pages; then the patient's link turns bad - the router drops 15 % of the
// packets from and to the patient's side and queues the link towards the
// patient at 400 kbit/s (lab.degradePatient; this kernel has no netem, so
// loss and delay come from nft and tbf) - and both pages say "schlecht"
// with the hint "… bitte näher an den WLAN-Router", the doctor's page also
// for the patient's side (the numbers the patient's page sent on the call
// channel) with its own hint. Once the link is good again, "schlecht" goes.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { waitFor } from '../browser/lib.mjs';
import { cleanupAll, scenario, waitCallUp } from './lab.mjs';

after(cleanupAll);

const view = (page) => page.evaluate(() => {
  const q = window.consult.quality || {};
  const $ = (id) => document.getElementById(id);
  return {
    level: q.level, remoteLevel: q.remoteLevel, numbers: q.numbers, remoteNumbers: q.remoteNumbers,
    shown: $('quality').hidden ? '' : $('quality').textContent,
    remoteShown: $('quality-remote') && !$('quality-remote').hidden ? $('quality-remote').textContent : '',
    hint: $('quality-hint').textContent,
  };
});

test('quality levels follow a degraded link: gut -> schlecht (with hints) -> no longer schlecht', { timeout: 400_000 }, async () => {
  const sc = await scenario({ name: 'quality', nat: false, turn: 'absent' });
  let failed = true;
  const trail = [];
  const watch = async (what, fn, ms) => {
    let last = null;
    try {
      return await waitFor(what, async () => {
        last = { patient: await view(sc.call.patPage), doctor: await view(sc.call.docPage) };
        return fn(last) ? last : null;
      }, ms, 500);
    } catch (err) {
      throw new Error(`${err.message}; last: ${JSON.stringify(last)}`);
    } finally {
      if (last) trail.push({ what, last });
    }
  };
  try {
    await waitCallUp(sc, { ms: 60_000 });
    const good = await watch('both pages "gut", the doctor\'s page also for the patient', (v) => v.patient.level === 'good'
      && v.doctor.level === 'good' && v.doctor.remoteLevel === 'good', 90_000);
    assert.equal(good.patient.shown, 'Qualität: gut');
    assert.equal(good.doctor.remoteShown, 'beim Patienten: gut');
    assert.equal(good.patient.hint, '');
    await sc.shot(sc.call.docPage, 'doctor-good');

    sc.lab.degradePatient({ lossPct: 15, rateKbit: 400 });
    sc.mark('link degraded');
    const bad = await watch('both pages "schlecht", the doctor\'s page also for the patient', (v) => v.patient.level === 'poor'
      && v.doctor.level === 'poor' && v.doctor.remoteLevel === 'poor', 90_000);
    assert.ok(sc.lab.degradedPackets() > 0, 'the router dropped packets on purpose');
    assert.equal(bad.patient.shown, 'Qualität: schlecht');
    assert.equal(bad.patient.hint, 'Verbindung schlecht – bitte näher an den WLAN-Router.', 'loss: the router hint');
    assert.equal(bad.doctor.remoteShown, 'beim Patienten: schlecht');
    assert.match(bad.doctor.hint, /Beim Patienten ist die Verbindung schlecht/);
    assert.ok(bad.patient.numbers.lossPct >= 8, `the patient's page measured the loss (${JSON.stringify(bad.patient.numbers)})`);
    await sc.shot(sc.call.patPage, 'patient-poor');
    await sc.shot(sc.call.docPage, 'doctor-poor');

    sc.lab.restorePatient();
    sc.mark('link restored');
    const better = await watch('"schlecht" goes once the link is good again', (v) => v.patient.level && v.patient.level !== 'poor'
      && v.doctor.level && v.doctor.level !== 'poor' && v.doctor.remoteLevel && v.doctor.remoteLevel !== 'poor', 120_000);
    assert.equal(better.patient.hint, '');
    await sc.shot(sc.call.docPage, 'doctor-recovered');
    failed = false;
  } finally {
    if (sc.art.dir) (await import('node:fs')).writeFileSync(`${sc.art.dir}/quality-trail.json`, JSON.stringify(trail, null, 1));
    await sc.finish(failed);
  }
});
