// doctor-support.chromium.test.mjs - the doctor page in a browser that cannot
// hold a call (Chromium with RTCPeerConnection and webkitRTCPeerConnection
// deleted before the page's scripts run; real Janus + nginx).
// The page says so at once, before the login: section#unsupported
// [data-testid=unsupported][data-missing=webrtc] "Mit diesem Browser können
// Sie keine Videogespräche führen" (English after "English"), a region named
// by its title, no serious axe-core finding. The login and the list still
// work and the notice stays. In a browser with WebRTC the page has none.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORDS, artifacts, closeAll, drive, launchChromium, step, startStack, waitFor, watchConsole } from './lib.mjs';
import { axeCheck } from './a11y.mjs';

function NO_WEBRTC() {
  delete window.RTCPeerConnection;
  delete window.webkitRTCPeerConnection;
}

test('doctor page: a browser without WebRTC is told at once, German and English', { timeout: 180_000 }, async () => {
  const art = artifacts('doctor-support-chromium');
  const consoleLines = [];
  let stack = null, browser = null;
  try {
    stack = await step('start Janus + nginx', startStack(), 90_000);
    browser = await launchChromium('doctor-support');

    // --- a browser with WebRTC: no notice ------------------------------------------
    const okPage = await browser.newPage();
    const ok = drive(okPage, 'doctor (WebRTC)');
    await ok.goto(`${stack.origin}/doctor.html`);
    await ok.waitVisible('#login-view');
    assert.equal(await ok.evaluate(() => document.getElementById('unsupported')), null, 'no notice where calls work');
    await okPage.close();

    // --- without WebRTC ------------------------------------------------------------
    const page = await browser.newPage();
    watchConsole(page, 'doctor', consoleLines);
    await page.addInitScript(NO_WEBRTC);
    const doc = drive(page, 'doctor (no WebRTC)');
    await doc.goto(`${stack.origin}/doctor.html`);
    await doc.waitVisible('#login-view');
    assert.equal(await doc.evaluate(() => typeof window.RTCPeerConnection), 'undefined', 'the page really has no WebRTC');
    await doc.waitVisible('[data-testid=unsupported]');
    assert.equal(await doc.attr('#unsupported', 'data-missing'), 'webrtc');
    assert.equal(await doc.attr('#unsupported', 'aria-labelledby'), 'unsupported-title');
    assert.equal(await doc.text('#unsupported-title'), 'Mit diesem Browser können Sie keine Videogespräche führen');
    assert.match(await doc.text('#unsupported-what'), /Warteliste und Nachrichten funktionieren, Aufrufen nicht/);
    await art.shot(page, 'login-de');
    const ax = await step('axe-core', axeCheck(page, { label: 'doctor page without WebRTC' }), 60_000);
    assert.equal(ax.failing.length, 0, ax.summary);

    await doc.click('#lang');
    await waitFor('the notice in English', async () => (await doc.text('#unsupported-title')) === 'You cannot hold video calls in this browser', 30_000);
    assert.match(await doc.text('#unsupported-what'), /calling patients does not/);
    await doc.click('#lang');
    await waitFor('the notice in German again', async () => /^Mit diesem Browser/.test(await doc.text('#unsupported-title')), 30_000);

    // --- the rest of the page works; the notice stays -------------------------------
    await doc.fill('#username', stack.doctor.username);
    await doc.fill('#password', PASSWORDS.doctor);
    await doc.click('#login');
    await doc.waitVisible('#app-view');
    await waitFor('doctor: the list state', () => doc.evaluate(() => window.consult.state === 'list'), 30_000);
    assert.ok(await doc.visible('#unsupported'), 'the notice stays after the login');
    await art.shot(page, 'list-de');
  } catch (err) {
    if (consoleLines.length) err.message += `\n--- page console ---\n${consoleLines.slice(-40).join('\n')}`;
    throw err;
  } finally {
    await closeAll(browser);
    if (stack) await stack.stop();
  }
});
