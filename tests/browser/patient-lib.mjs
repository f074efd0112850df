// Helpers of the patient page tests (device check, status, leave and rejoin);
// not a test file.
//
// Contract:
// - patientStack(opts) starts Janus + nginx (lib.mjs startStack) and logs in
//   two raw WebSocket handles: `reception` (books appointments, sends
//   messages) and `doctor` (the doctor's side: waiting_list, call, hangup,
//   signals; its events in doctor.handle.events). Returns
//   { stack, origin, practice, doctorInfo, reception, doctor, book(), entry(),
//   close() }.
//   book({minutes}) -> the create_appointment reply (starts now + minutes).
//   entry(visitId) -> the doctor's waiting_list entry of that visit or null.
//   close() never throws.
// - joinPatient(d, origin, slug, code, name) opens the link in the driven
//   page, fills the form and starts the session; resolves once #waiting is
//   visible (window.consult.state 'waiting').
// - COUNT_GUM: an init script (page function) that counts every
//   getUserMedia call of the page in window.__gum, independent of the page's
//   own counter.
// - eventAfter(handle, name, from, filter) waits for an event `name` at
//   index >= from of handle.events that passes filter (conditions, no time).
// - a11yClean(page, label, {tab}) runs axe-core (a11y.mjs: no serious or
//   critical WCAG 2.1 AA violation) and, with tab (default true), the Tab
//   walk (every focused element shows a focus ring of >= 3:1) and the font
//   check on the page's current state; throws with the findings.
import { PASSWORDS, harness, startStack, step, waitFor } from './lib.mjs';
import { axeCheck, focusRingFindings, fontFindings } from './a11y.mjs';

export function COUNT_GUM() {
  window.__gum = 0;
  const orig = MediaDevices.prototype.getUserMedia;
  MediaDevices.prototype.getUserMedia = function (...args) {
    window.__gum += 1;
    return orig.apply(this, args);
  };
}

export async function patientStack(opts = {}) {
  const { connectHandle } = await import(harness('client.mjs'));
  const stack = await step('start Janus + nginx + seed', startStack(opts), 90_000);
  const { janus, origin, practice } = stack;
  let reception = null;
  let doctor = null;
  const close = async () => {
    for (const h of [doctor, reception]) {
      try { if (h) await h.client.destroy(); } catch { /* gone */ }
    }
    try { await stack.stop(); } catch { /* gone */ }
  };
  try {
    reception = await connectHandle(janus.wsUrl);
    await reception.handle.call({ request: 'login', username: stack.reception.username, password: PASSWORDS.reception });
    doctor = await connectHandle(janus.wsUrl);
    await doctor.handle.call({ request: 'login', username: stack.doctor.username, password: PASSWORDS.doctor });
  } catch (err) {
    await close();
    throw err;
  }
  return {
    stack, origin, practice, doctorInfo: stack.doctor, reception, doctor, close,
    async book({ minutes = 1 } = {}) {
      return reception.handle.call({
        request: 'create_appointment', doctor_id: stack.doctor.id, starts_at: Math.floor(Date.now() / 1000) + minutes * 60,
      });
    },
    async entry(visitId) {
      const r = await doctor.handle.call({ request: 'waiting_list' });
      return (r.visits || []).find((v) => v.visit_id === visitId) || null;
    },
  };
}

export async function joinPatient(d, origin, slug, code, { first = 'Erika', last = 'Musterprüf' } = {}) {
  await d.goto(`${origin}/patient.html?p=${slug}#${code}`);
  await d.fill('#first-name', first);
  await d.fill('#last-name', last);
  await d.check('#accept-terms');
  await d.click('#start');
  await d.waitVisible('#waiting');
  await waitFor('patient: state waiting with a visit id', () => d.evaluate(() => window.consult.state === 'waiting' && window.consult.visitId), 30_000);
}

export async function eventAfter(handle, name, from, filter = () => true, ms = 30_000) {
  return waitFor(`event ${name}`, () => handle.events.slice(from).find((e) => e.event === name && filter(e)) || null, ms, 50);
}

export async function a11yClean(page, label, { tab = true } = {}) {
  const problems = [];
  const ax = await step(`${label}: axe-core`, axeCheck(page, { label }), 60_000);
  if (ax.failing.length) problems.push(ax.summary);
  if (tab) {
    const ring = await step(`${label}: focus rings`, focusRingFindings(page), 60_000);
    if (!ring.visited.length) problems.push(`${label}: the Tab key reached nothing`);
    for (const f of ring.findings) problems.push(`${label}: ${f}`);
    for (const f of await fontFindings(page)) problems.push(`${label}: ${f}`);
  }
  if (problems.length) throw new Error(`accessibility findings:\n${problems.join('\n')}`);
}
