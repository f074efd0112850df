// honest-state.chromium.test.mjs - the pages never say "connected" over
// frozen media (real Chromium, nginx, Janus, a P2P call on loopback).
//
// During a running call the doctor's page stops sending (replaceTrack(null)
// on its senders: ICE stays connected, nothing arrives at the patient). The
// patient page's status turns from "Sprechstunde mit …" to "Bild/Ton steht –
// Verbindung wird geprüft …" and window.consult.mediaFlowing to false while
// the RTCPeerConnection still says connected; once the doctor sends again
// both come back. docs/pages.md, "Honest state".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PASSWORDS, artifacts, closeAll, drive, harness, launchChromium, startStack, step, waitFor, waitForMedia, watchConsole,
} from './lib.mjs';

const view = (d) => d.evaluate(() => ({
  flowing: window.consult.mediaFlowing,
  status: document.getElementById('call-status').textContent,
  ice: window.consult.pc ? window.consult.pc.iceConnectionState : null,
}));

test('honest state: frozen media is "Bild/Ton steht", not "verbunden"; back when media flows again', { timeout: 180_000 }, async () => {
  const { connectHandle } = await import(harness('client.mjs'));
  const art = artifacts('honest-state-chromium');
  const consoleLines = [];
  let stack = null, browser = null, staff = null;
  try {
    stack = await step('start Janus + nginx + seed', startStack(), 90_000);
    const { janus, origin, practice, doctor, reception } = stack;
    staff = await connectHandle(janus.wsUrl);
    await staff.handle.call({ request: 'login', username: reception.username, password: PASSWORDS.reception });
    const appt = await staff.handle.call({ request: 'create_appointment', doctor_id: doctor.id, starts_at: Math.floor(Date.now() / 1000) + 60 });

    browser = await step('launch Chromium', launchChromium('honest'), 90_000);
    const patPage = await browser.newPage();
    watchConsole(patPage, 'patient', consoleLines);
    const pat = drive(patPage, 'patient');
    await pat.goto(`${origin}/patient.html?p=${practice.slug}#${appt.code}`);
    await pat.fill('#first-name', 'Frieda');
    await pat.fill('#last-name', 'Standbild');
    await pat.check('#accept-terms');
    await pat.click('#start');
    await pat.waitVisible('#waiting');

    const docPage = await browser.newPage();
    watchConsole(docPage, 'doctor', consoleLines);
    const doc = drive(docPage, 'doctor');
    await doc.goto(`${origin}/doctor.html`);
    await doc.fill('#username', doctor.username);
    await doc.fill('#password', PASSWORDS.doctor);
    await doc.click('#login');
    await waitFor('doctor: the patient can be called', () => doc.evaluate(() => {
      const b = document.querySelector('#waiting-list button.call');
      return !!b && !b.disabled;
    }), 30_000);
    await doc.click('#waiting-list button.call');
    await pat.waitVisible('#ringing', 30_000);
    await pat.click('#accept-call');
    await waitForMedia(patPage, 'patient');
    await waitForMedia(docPage, 'doctor');

    const flowing = await waitFor('patient: media flows, status says the call is on', async () => {
      const v = await view(pat);
      return v.flowing === true && /Sprechstunde mit/.test(v.status) ? v : null;
    }, 30_000);
    assert.equal(flowing.ice === 'connected' || flowing.ice === 'completed', true, `ICE up (${flowing.ice})`);
    await art.shot(patPage, 'flowing');

    // The doctor's page stops sending: ICE stays up, nothing arrives.
    await doc.evaluate(() => {
      window.__kept = window.consult.pc.getSenders().map((s) => s.track);
      return Promise.all(window.consult.pc.getSenders().map((s) => s.replaceTrack(null)));
    });
    const frozen = await waitFor('patient: "Bild/Ton steht" while nothing arrives', async () => {
      const v = await view(pat);
      return v.flowing === false && /Bild\/Ton steht/.test(v.status) ? v : null;
    }, 20_000);
    assert.ok(frozen.ice === 'connected' || frozen.ice === 'completed', `ICE still says connected (${frozen.ice})`);
    assert.doesNotMatch(frozen.status, /Sprechstunde mit|Verbunden/);
    await art.shot(patPage, 'frozen');

    // Sending again: the status comes back.
    await doc.evaluate(() => Promise.all(window.consult.pc.getSenders().map((s, i) => s.replaceTrack(window.__kept[i]))));
    await waitFor('patient: the call is on again once media arrives', async () => {
      const v = await view(pat);
      return v.flowing === true && /Sprechstunde mit/.test(v.status);
    }, 20_000);
    await art.shot(patPage, 'flowing-again');
  } catch (err) {
    if (consoleLines.length) err.message += `\n--- page consoles ---\n${consoleLines.slice(-40).join('\n')}`;
    throw err;
  } finally {
    await closeAll(browser, staff && { close: () => staff.client.destroy() });
    if (stack) await stack.stop();
  }
});
