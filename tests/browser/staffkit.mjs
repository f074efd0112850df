// Shared helpers for the staff page tests (doctor-day, doctor-status,
// staff-messages, reception-names); not a test file itself.
//
// Contract:
// - startStaffStack({janus, smtp}) starts Janus (public_url = the nginx
//   origin) and nginx serving html/, seeds one practice with two doctors
//   (Dr. Tag, Dr. Zwei) and one reception login (random passwords). smtp: a
//   tests/protocol/servers.mjs startSmtp() server: the plugin sends e-mail
//   there (templates of conf/messages). Returns {janus, origin, practice,
//   doctors: [d1, d2], reception, stop()}; stop() never throws and returns
//   {janusLog, nginxAccess, ...}.
// - wsStaff(janus, who): a raw WebSocket handle logged in as who.
// - wsPatient(janus, practice, code, first, last): a raw patient handle that
//   joined; {handle, client, joined, code}. rejoin(p) joins again on a new
//   handle with the same code and names.
// - staffPage(browser, origin, file, who, consoleLines): opens
//   /<file>.html in a new page, logs in and waits for #app-view; returns drive().
// - unix(minutesFromNow), rand(), rows(d) (the doctor's list rows:
//   {id, state, typed, booked, note, readiness, readinessText, away}).
// Everything opened goes into the caller's `open` set for after() cleanup.
import crypto from 'node:crypto';
import { drive, harness, smtpConfig, startStack, waitFor, watchConsole } from './lib.mjs';

export const rand = (n = 3) => crypto.randomBytes(n).toString('hex');
export const unix = (minutes = 0) => Math.floor(Date.now() / 1000) + Math.round(minutes * 60);

export async function startStaffStack({ janus: janusOpts = {}, smtp = null } = {}) {
  const pw = () => `Pw-${rand(8)}`;
  const stack = await startStack({
    janus: { ...janusOpts, extraPluginConfig: { ...(smtp ? smtpConfig(smtp) : {}), ...(janusOpts.extraPluginConfig || {}) } },
    practice: {
      slug: `praxis-staff-${rand(2)}`,
      name: 'Praxis am Tagesablauf',
      phone: '0721-5550123',
      doctors: [
        { username: `dr.tag.${rand(2)}`, display_name: 'Dr. Tag', password: pw() },
        { username: `dr.zwei.${rand(2)}`, display_name: 'Dr. Zwei', password: pw() },
      ],
      receptions: [{ username: `empfang.${rand(2)}`, display_name: 'Empfang', password: pw() }],
    },
  });
  const { janus, nginx, origin, practice, reception, stop } = stack;
  return { janus, nginx, origin, practice, doctors: practice.doctors, reception, stop };
}

export async function wsStaff(janus, who, open) {
  const { connectHandle } = await import(harness('client.mjs'));
  const c = await connectHandle(janus.wsUrl);
  if (open) open.add({ close: () => c.client.destroy() });
  await c.handle.call({ request: 'login', username: who.username, password: who.password });
  return c.handle;
}

export async function wsPatient(janus, practice, code, first, last, open) {
  const { connectHandle } = await import(harness('client.mjs'));
  const c = await connectHandle(janus.wsUrl);
  if (open) open.add({ close: () => c.client.destroy() });
  const joined = await c.handle.call({
    request: 'join', practice: practice.slug, code, first_name: first, last_name: last, accept_terms: true,
  });
  return { handle: c.handle, client: c.client, joined, code, first, last, practice, janus, open };
}

export async function rejoin(p) {
  return wsPatient(p.janus, p.practice, p.code, p.first, p.last, p.open);
}

export async function staffPage(browser, origin, file, who, consoleLines) {
  const page = await browser.newPage();
  if (consoleLines) watchConsole(page, file, consoleLines);
  const d = drive(page, file);
  await d.goto(`${origin}/${file}.html`);
  await d.fill('#username', who.username);
  await d.fill('#password', who.password);
  await d.click('#login');
  await d.waitVisible('#app-view', 30_000);
  return d;
}

/** The doctor's list as the page shows it. */
export function rows(d) {
  return d.evaluate(() => [...document.querySelectorAll('#waiting-list li[data-visit-id]')].map((li) => {
    const q = (s) => li.querySelector(s);
    const txt = (s) => (q(s) ? q(s).textContent.replace(/\s+/g, ' ').trim() : null);
    return {
      id: Number(li.dataset.visitId),
      state: li.dataset.state,
      typed: txt('[data-testid=typed-name]'),
      booked: txt('[data-testid=booked-name]'),
      note: txt('[data-testid=note]'),
      readiness: q('[data-testid=readiness]') ? q('[data-testid=readiness]').dataset.readiness : null,
      readinessText: txt('[data-testid=readiness]'),
      away: txt('[data-testid=away]'),
      callable: !!q('button.call') && !q('button.call').disabled,
    };
  }));
}

/** Waits until the doctor's list has exactly the visit ids given, in that order. */
export async function waitRows(d, ids, what, ms = 30_000) {
  return waitFor(`doctor: list ${what}`, async () => {
    const r = await rows(d);
    return r.length === ids.length && r.every((x, i) => x.id === ids[i]) ? r : null;
  }, ms);
}
