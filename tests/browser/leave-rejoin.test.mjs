// leave-rejoin.test.mjs - leaving the waiting room asks first, and the
// patient may join again while the appointment is valid (patient page in
// Chromium and in Firefox ESR; real Janus + nginx; the doctor is a raw
// WebSocket handle). Phone size 390x844.
//
// "Warteraum verlassen" opens dialog#leave-dialog (modal, focus on "Nein,
// weiter warten"); Escape keeps the patient waiting (still in the doctor's
// list, focus back on the button). Confirmed by keyboard (Enter, Tab,
// Enter): state 'left', #left "Sie haben den Warteraum verlassen." with
// "Wieder beitreten" (not "Die Sprechstunde ist beendet"); the doctor's
// list no longer has the visit. A reload shows the same page. Before
// leaving, a reload is not a leave: the page sends no `leave` (counted in
// Chromium), comes back to the same visit (same id, same waiting_since) and
// the doctor's list never loses it. "Wieder
// beitreten" joins again with the kept code and waits anew (a new visit in
// the doctor's list). Cancelled by the practice after leaving: the page
// no longer offers to rejoin and names the practice's phone.
// A reload during a call (Chromium) sends no `leave` either: the doctor's
// `call_ended` says patient_dropped (not left) and the patient waits again.
// Screenshots: tests/artifacts/leave-rejoin-<browser>/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { artifacts, closeAll, drive, launchChromium, launchFirefox, waitFor, watchConsole } from './lib.mjs';
import { a11yClean, eventAfter, joinPatient, patientStack } from './patient-lib.mjs';

async function setPhone(page) {
  if (typeof page.setViewportSize === 'function') await page.setViewportSize({ width: 390, height: 844 });
  else await page.setViewport({ width: 390, height: 844 });
}

// An init script: every `leave` the page hands to a WebSocket is counted in
// sessionStorage (a reload keeps it). Playwright's `framesent` misses the
// frames of a page being unloaded, and whether the server still handles a
// `leave` sent just before the socket closes is a race: the count sees it
// either way.
function COUNT_LEAVES() {
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (typeof data === 'string' && data.includes('"request":"leave"')) {
      sessionStorage.setItem('__leaves', String(Number(sessionStorage.getItem('__leaves') || 0) + 1));
    }
    return send.call(this, data);
  };
}
const leavesSent = (d) => d.evaluate(() => Number(sessionStorage.getItem('__leaves') || 0));

const focused = (d) => d.evaluate(() => document.activeElement && document.activeElement.id);
const dialogOpen = (d) => d.evaluate(() => {
  const dlg = document.getElementById('leave-dialog');
  return dlg.open && dlg.matches(':modal');
});

async function leaveAndRejoin(launch, name) {
  const art = artifacts(`leave-rejoin-${name}`);
  // the Tab walk of the focus rings in Chromium: headless Firefox's window
  // never has the system focus, so :focus styles do not apply there
  const walk = name === 'chromium';
  const consoleLines = [];
  let env = null, browser = null;
  try {
    env = await patientStack();
    const { origin, practice, reception } = env;
    const appt = await env.book();
    browser = await launch();
    const page = await browser.newPage();
    await setPhone(page);
    if (name === 'chromium') watchConsole(page, 'patient', consoleLines);
    // Chromium: every `leave` the page hands to a WebSocket is counted (the
    // count survives the reload)
    const counting = name === 'chromium';
    if (counting) await page.addInitScript(COUNT_LEAVES);
    const pat = drive(page, 'patient');
    await joinPatient(pat, origin, practice.slug, appt.code);
    const visit1 = await pat.evaluate(() => window.consult.visitId);
    await waitFor('doctor: the patient is listed', () => env.entry(visit1), 30_000);

    // --- a reload is not a leave: the same visit, back at its place ------------------
    // A `leave` on the way out ends the visit (the doctor's list drops it at
    // once) if it reaches the server before the socket closes; the new page
    // then joins as a new visit. Kept: the doctor's list never loses the
    // visit (at most `away` meanwhile), the page comes back with its id.
    const listsFrom = env.doctor.handle.events.length;
    const before = await env.entry(visit1);
    await page.reload();
    await waitFor('patient: back in the waiting room after the reload', () => pat.evaluate(
      () => window.consult.state === 'waiting' && window.consult.visitId != null), 30_000);
    if (counting) assert.equal(await leavesSent(pat), 0, 'no leave sent on the reload');
    assert.equal(await pat.evaluate(() => window.consult.visitId), visit1, 'the reload resumed the same visit');
    await waitFor('doctor: the same visit listed and waiting again', async () => {
      const e = await env.entry(visit1);
      return e && e.state === 'waiting';
    }, 30_000);
    const lists = env.doctor.handle.events.slice(listsFrom).filter((e) => e.event === 'waiting');
    for (const l of lists) {
      assert.ok((l.visits || []).some((v) => v.visit_id === visit1),
        `the doctor's list kept the visit through the reload: ${JSON.stringify(l.visits)}`);
    }
    const after = await env.entry(visit1);
    assert.equal(after.waiting_since, before.waiting_since, 'the same place: waiting since the first join');

    // --- asked first; Escape keeps waiting -----------------------------------------
    await pat.click('#leave');
    await waitFor('patient: the leave dialog is open (modal)', () => dialogOpen(pat), 30_000);
    assert.equal(await focused(pat), 'leave-stay', 'focus starts on "Nein, weiter warten"');
    assert.match(await pat.text('#leave-dialog'), /Warteraum verlassen\?/);
    assert.equal(await pat.attr('#leave-dialog', 'aria-labelledby'), 'leave-dialog-title');
    await art.shot(page, 'leave-dialog');
    await a11yClean(page, 'leave dialog', { tab: walk });
    await page.keyboard.press('Escape');
    await waitFor('patient: the dialog closed', async () => !(await dialogOpen(pat)), 30_000);
    assert.equal(await pat.evaluate(() => window.consult.state), 'waiting', 'Escape: still waiting');
    assert.equal(await focused(pat), 'leave', 'focus back on "Warteraum verlassen"');
    assert.ok(await env.entry(visit1), 'still in the doctor\'s list');

    // --- confirmed by keyboard ---------------------------------------------------------
    await page.keyboard.press('Enter');          // #leave has the focus
    await waitFor('patient: the dialog opened by keyboard', () => dialogOpen(pat), 30_000);
    await page.keyboard.press('Tab');
    assert.equal(await focused(pat), 'leave-confirm', 'Tab reaches "Ja, verlassen"');
    await page.keyboard.press('Enter');
    await waitFor('patient: left the waiting room', () => pat.evaluate(() => window.consult.state === 'left'), 30_000);
    await pat.waitVisible('#left');
    const leftText = await pat.text('#left');
    assert.match(leftText, /Sie haben den Warteraum verlassen\./);
    assert.doesNotMatch(await pat.evaluate(() => document.body.innerText), /Die Sprechstunde ist beendet/);
    await waitFor('patient: rejoin offered', async () => (await pat.attr('#left', 'data-rejoin')) === 'true', 30_000);
    assert.ok(await pat.visible('#rejoin'), '"Wieder beitreten" is shown');
    await waitFor('doctor: the visit is gone from the list', async () => !(await env.entry(visit1)), 30_000);
    await art.shot(page, 'left');
    await a11yClean(page, 'left the waiting room', { tab: walk });

    // --- a reload shows the same page ------------------------------------------------------
    await page.reload({ waitUntil: 'load' });
    await pat.waitVisible('#left');
    assert.equal(await pat.evaluate(() => window.consult.state), 'left');
    await waitFor('patient: rejoin offered after the reload', async () => (await pat.attr('#left', 'data-rejoin')) === 'true', 30_000);
    assert.equal(await env.entry(visit1), null, 'the reload did not join');

    // --- rejoin ----------------------------------------------------------------------------
    await pat.click('#rejoin');
    const visit2 = await waitFor('patient: waiting again', () => pat.evaluate(() => window.consult.state === 'waiting' && window.consult.visitId), 30_000);
    assert.notEqual(visit2, visit1, 'a new visit');
    await pat.waitVisible('#waiting');
    await waitFor('patient: position shown', async () => (await pat.attr('#waiting', 'data-ahead')) === '0', 30_000);
    await waitFor('doctor: the patient is listed again', () => env.entry(visit2), 30_000);
    await art.shot(page, 'rejoined');

    // --- left, then the practice cancels: no rejoin, the phone instead ------------------------
    await pat.click('#leave');
    await waitFor('patient: the leave dialog is open again', () => dialogOpen(pat), 30_000);
    await pat.click('#leave-confirm');
    await waitFor('patient: left again', () => pat.evaluate(() => window.consult.state === 'left'), 30_000);
    await reception.handle.call({ request: 'cancel_appointment', appointment_id: appt.appointment_id });
    await page.reload({ waitUntil: 'load' });
    await pat.waitVisible('#left');
    await waitFor('patient: no rejoin for a cancelled appointment', async () => (await pat.attr('#left', 'data-rejoin')) === 'false', 30_000);
    assert.equal(await pat.visible('#rejoin'), false);
    assert.match(await pat.text('#left-text'), /nicht mehr gültig.*0721-5550100/);
    await art.shot(page, 'left-expired');
  } catch (err) {
    if (consoleLines.length) err.message += `\n--- page console ---\n${consoleLines.slice(-40).join('\n')}`;
    throw err;
  } finally {
    await closeAll(browser);
    if (env) await env.close();
  }
}

test('leave asks first, then "Wieder beitreten" (Chromium)', { timeout: 180_000 }, async () => {
  await leaveAndRejoin(() => launchChromium('leave-rejoin'), 'chromium');
});

test('leave asks first, then "Wieder beitreten" (Firefox ESR)', { timeout: 180_000 }, async () => {
  await leaveAndRejoin(() => launchFirefox('leave-rejoin'), 'firefox');
});

// A reload during a call: the page sends no `leave` (that would tell the
// doctor "hat den Warteraum verlassen" and end the visit as `left`). The
// server holds the call for grace_seconds; the reloaded page holds no media,
// so its join (without resume_call) ends the held call as `patient_dropped`
// ("Die Verbindung von ... ist abgebrochen") and the patient waits again.
test('a reload during a call sends no leave (Chromium)', { timeout: 180_000 }, async () => {
  const consoleLines = [];
  let env = null, browser = null;
  try {
    env = await patientStack();
    const { origin, practice, doctor } = env;
    const appt = await env.book();
    browser = await launchChromium('leave-rejoin-call');
    const page = await browser.newPage();
    await setPhone(page);
    watchConsole(page, 'patient', consoleLines);
    await page.addInitScript(COUNT_LEAVES);
    const pat = drive(page, 'patient');
    await joinPatient(pat, origin, practice.slug, appt.code);
    const visit = await pat.evaluate(() => window.consult.visitId);
    await waitFor('doctor: the patient is listed', () => env.entry(visit), 30_000);

    let from = doctor.handle.events.length;
    await doctor.handle.call({ request: 'call', visit_id: visit });
    await pat.waitVisible('#ringing');
    await pat.click('#accept-call');
    await waitFor('patient: in the call', () => pat.evaluate(() => window.consult.state === 'call'), 30_000);
    await eventAfter(doctor.handle, 'call_accepted', from);

    from = doctor.handle.events.length;
    await page.reload();
    const ended = await eventAfter(doctor.handle, 'call_ended', from, (e) => e.visit_id === visit);
    assert.equal(await leavesSent(pat), 0, 'no leave sent on the reload');
    assert.equal(ended.reason, 'patient_dropped', `the doctor reads a dropped connection, not a leave: ${JSON.stringify(ended)}`);
    const again = await waitFor('patient: waiting again after the reload', () => pat.evaluate(
      () => window.consult.state === 'waiting' && window.consult.visitId), 30_000);
    await waitFor('doctor: the patient is listed again', () => env.entry(again), 30_000);
  } catch (err) {
    if (consoleLines.length) err.message += `\n--- page console ---\n${consoleLines.slice(-40).join('\n')}`;
    throw err;
  } finally {
    await closeAll(browser);
    if (env) await env.close();
  }
});
