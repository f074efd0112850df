// Invitation by e-mail, end to end in Chromium: reception books an
// appointment with an e-mail address and ONLY the e-mail consent ticked; the
// page shows the e-mail invitation turning to "sent" live (delivery event);
// the message arrives at a real SMTP server on loopback (aiosmtpd,
// tests/delivery/smtpd.py) and is parsed with Python's email package; the
// link in its text part equals the one reception saw once; a second,
// separate Chromium opens that link, sees the practice name, the appointment
// time and the legal links (served by nginx at /legal/), joins with a name
// and lands in the green waiting room. Also: no SMS row exists for that
// appointment; the legal pages answer 200 text/html without login; the Janus
// log, the Janus event handler output and nginx's access log hold neither
// the e-mail address, the code nor the patient's names.
// Screenshots: tests/artifacts/invitation-chromium/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  artifacts, closeAll, drive, launchChromium, PASSWORDS,
  selectValue, smtpConfig, startStack, step, waitFor, watchConsole,
} from './lib.mjs';
import { mails, parseMail, startEventSink, startSmtp } from '../protocol/servers.mjs';

const rand = () => Math.random().toString(36).slice(2, 8);
const PATIENT = { first: 'Wilhelmine', last: `Einladungsprüf${rand()}` };
const EMAIL = `w.einladung.${rand()}@patient.example`;
const CODE_RE = /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/;
const LEGAL = ['/legal/nutzungsbedingungen.html', '/legal/datenschutz.html'];

const open = new Set();
const track = (x, close) => { if (x) open.add(close || x); return x; };
after(async () => {
  const items = [...open].reverse();
  open.clear();
  await closeAll(...items);
});

/** Janus (e-mail configured to the test SMTP server) + nginx + a practice. */
function startInvitationStack(smtp, evh) {
  return startStack({
    janus: { eventsBackend: evh.url, extraPluginConfig: { events: true, ...smtpConfig(smtp) } },
    practice: {
      slug: 'praxis-einladung',
      name: 'Hausarztpraxis am Prüfweg',
      phone: '0721-5550199',
      doctors: [{ username: 'dr.einlad', display_name: 'Dr. Einlad', password: PASSWORDS.doctor }],
      receptions: [{ username: 'empfang', display_name: 'Empfang', password: PASSWORDS.reception }],
    },
  });
}

// Every value the e-mail invitation's delivery cell took, in order (records
// through re-renders: the cell element is replaced when the list re-renders).
function recordDeliveryStates() {
  window.__deliverySeen = [];
  const note = () => {
    for (const el of document.querySelectorAll('[data-testid="delivery-email-invite"]')) {
      const where = el.closest('#result-deliveries') ? 'result' : 'list';
      const seen = window.__deliverySeen;
      const last = [...seen].reverse().find((s) => s.where === where);
      if (!last || last.status !== el.dataset.status) seen.push({ where, status: el.dataset.status });
    }
  };
  new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
}

test('invitation: reception books with e-mail consent only -> mail at SMTP -> its link in Chromium -> waiting room', { timeout: 420_000 }, async () => {
  const art = artifacts('invitation-chromium');
  const consoleLines = [];
  const pages = {};
  let stack = null;
  let logs = {};
  let failed = true;
  let code = null;
  const smtp = track(await step('start SMTP server', startSmtp(), 20_000));
  const evh = track(await step('start event sink', startEventSink(), 30_000));
  try {
    stack = track(await step('start Janus + nginx + seed', startInvitationStack(smtp, evh), 90_000), () => stack && stack.stop());
    const { origin, practice, doctor } = stack;

    // --- the legal texts: plain pages through nginx, no login --------------
    for (const p of LEGAL) {
      const res = await fetch(origin + p);
      const body = await res.text();
      assert.equal(res.status, 200, `GET ${p}`);
      assert.match(res.headers.get('content-type') || '', /^text\/html/, `${p} content-type`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${p} gets the pages' headers`);
      assert.match(body, /<main[\s>]/, `${p} has a <main>`);
      const post = await fetch(origin + p, { method: 'POST', body: 'x' });
      await post.text();
      assert.notEqual(post.status, 200, `POST ${p} is refused (read-only)`);
    }

    // --- reception books with e-mail consent only --------------------------
    const staff = track(await step('launch Chromium (reception)', launchChromium('reception'), 90_000));
    const recPage = await staff.newPage();
    watchConsole(recPage, 'reception', consoleLines);
    const rec = drive(recPage, 'reception');
    pages.reception = rec;
    await rec.goto(`${origin}/reception.html`);
    await rec.fill('#username', 'empfang');
    await rec.fill('#password', PASSWORDS.reception);
    await rec.click('#login');
    await rec.waitVisible('#create');
    await selectValue(rec, '#doctor', String(doctor.id));
    const when = await rec.evaluate(() => {
      const d = new Date(Date.now() + 5 * 60_000);
      const p = (n) => String(n).padStart(2, '0');
      return { date: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`, time: `${p(d.getHours())}:${p(d.getMinutes())}` };
    });
    await rec.fill('#date', when.date);
    await rec.fill('#time', when.time);
    await rec.fill('#appt-email', EMAIL);
    await rec.check('#consent-email');
    assert.equal(await rec.value('#appt-phone'), '', 'no phone number entered');
    assert.equal(await rec.evaluate(() => document.querySelector('#consent-sms').checked), false, 'SMS consent not ticked');
    assert.equal(await rec.evaluate(() => document.querySelector('#send-now').checked), true, 'send at once');
    await art.shot(recPage, 'reception-form-email-only');
    await rec.evaluate(recordDeliveryStates);
    await rec.click('#create');
    const link = await waitFor('reception: #result-link holds the patient link',
      async () => { const v = await rec.value('#result-link'); return v && /\/patient\.html\?p=[^#]+#./.test(v) ? v : null; }, 30_000);
    code = (await rec.text('#result-code')) || (await rec.value('#result-code'));
    assert.match(code, CODE_RE, 'reception: #result-code is a formatted access code');
    assert.equal(link, `${origin}/patient.html?p=${practice.slug}#${code}`, 'reception: link = public_url/patient.html?p=slug#code');

    // The invitation turns to "sent" in place (delivery event, no reload).
    const navigations = [];
    recPage.on('framenavigated', (f) => { if (f === recPage.mainFrame()) navigations.push(f.url()); });
    const resultSel = '#result-deliveries [data-testid="delivery-email-invite"]';
    await waitFor('reception: result shows the e-mail invitation as sent', async () =>
      (await rec.attr(resultSel, 'data-status')) === 'sent', 60_000);
    const apptId = await waitFor('reception: the new appointment row appears', () => rec.evaluate(() => {
      const rows = [...document.querySelectorAll('#appointments [data-appointment-id]')];
      return rows.length === 1 ? rows[0].getAttribute('data-appointment-id') : null;
    }), 30_000);
    const rowSel = `#appointments [data-appointment-id="${apptId}"]`;
    await waitFor('reception: list row shows the e-mail invitation as sent', async () =>
      (await rec.attr(`${rowSel} [data-testid="delivery-email-invite"]`, 'data-status')) === 'sent', 30_000);
    assert.deepEqual(navigations, [], 'reception page was not reloaded');
    // The observer saw the result cell's states; before "sent" only
    // queued/sending (the reply of create_appointment says queued).
    const seen = (await rec.evaluate(() => window.__deliverySeen)).filter((s) => s.where === 'result').map((s) => s.status);
    assert.equal(seen.at(-1), 'sent', `result cell states: ${seen}`);
    assert.ok(seen.slice(0, -1).every((s) => s === 'queued' || s === 'sending'), `result cell states: ${seen}`);
    console.error(`# e-mail invitation states seen at reception: ${seen.join(' -> ')}`);
    assert.equal(await rec.attr(resultSel, 'data-attempts'), '1', 'sent at the first attempt');
    // No SMS anywhere for this appointment: no row, no channel box, no hint.
    const smsCount = await rec.evaluate((sel) => document.querySelectorAll(
      `#result-deliveries [data-testid^="delivery-sms"], ${sel} [data-testid^="delivery-sms"], ${sel} [data-channel="sms"], ${sel} [data-testid="phone-hint"], ${sel} [data-testid="resend-sms"]`).length, rowSel);
    assert.equal(smsCount, 0, 'no SMS delivery, channel or hint for an e-mail-only appointment');
    const emailHint = await rec.text(`${rowSel} [data-testid="email-hint"]`);
    assert.ok(emailHint && emailHint.includes('@patient.example') && !emailHint.includes(EMAIL),
      `list shows only a hint of the address (got "${emailHint}")`);
    await art.shot(recPage, 'reception-email-sent');

    // --- the e-mail at the SMTP server ---------------------------------------
    const [file] = await waitFor('SMTP server received the invitation', () => {
      const m = mails(smtp.dir);
      return m.length ? m : null;
    }, 30_000);
    const meta = JSON.parse(fs.readFileSync(file.replace(/\.eml$/, '.json'), 'utf8'));
    assert.deepEqual(meta.rcpt_tos, [EMAIL], 'envelope recipient');
    assert.equal(meta.mail_from, 'videosprechstunde@praxis.example', 'envelope sender');
    const mail = parseMail(file);
    fs.copyFileSync(file, path.join(art.dir, 'invitation.eml'));
    assert.deepEqual(mail.defects, [], 'no MIME defects');
    assert.equal(mail.to_addr, EMAIL);
    assert.ok(mail.tree.includes('text/plain') && mail.tree.includes('text/html'), `both parts: ${mail.tree}`);
    assert.ok(mail.tree.includes('text/calendar'), `calendar attachment: ${mail.tree}`);
    const links = mail.text.match(/https?:\/\/[^\s<>"]+\/patient\.html\?p=[^\s<>"#]+#[0-9A-Za-z-]+/g) || [];
    assert.equal(links.length >= 1, true, 'the text part carries the patient link');
    assert.ok(links.every((l) => l === link), `every link in the text part equals reception's link (${links.length})`);
    assert.ok(mail.text.includes(code), 'the text part carries the code');
    assert.ok(mail.text.includes(practice.name), 'the text part names the practice');
    assert.ok(mail.html.includes(link), 'the HTML part carries the same link');
    assert.equal(mails(smtp.dir).length, 1, 'exactly one message (no SMS fallback, no duplicate)');

    // --- the patient opens the link from the e-mail (own Chromium) ---------
    const patientBrowser = track(await step('launch Chromium (patient)', launchChromium('patient'), 90_000));
    const patPage = await patientBrowser.newPage();
    watchConsole(patPage, 'patient', consoleLines);
    const pat = drive(patPage, 'patient');
    pages.patient = pat;
    await pat.goto(links[0]);
    await waitFor('patient: #practice-name shows the practice',
      async () => (await pat.text('#practice-name')) === practice.name, 30_000);
    await pat.waitVisible('#appt-info', 30_000);
    const apptTime = await waitFor('patient: #appt-time filled', () => pat.text('#appt-time'), 30_000);
    assert.ok(apptTime.includes(when.time), `patient: #appt-time "${apptTime}" shows ${when.time}`);
    assert.equal(await pat.attr('#appt-opens', 'data-open'), 'true', 'waiting room open 5 min before');
    assert.match(await pat.text('#appt-doctor'), /Dr\. Einlad/, 'patient: the doctor is named');
    assert.equal(await pat.visible('#code-input'), false, 'patient: no code input when the link has a code');
    assert.equal(await pat.attr('#legal-terms', 'href'), LEGAL[0]);
    assert.equal(await pat.attr('#legal-privacy', 'href'), LEGAL[1]);
    // The inline copy of the terms is fetched from /legal/ on open.
    await pat.evaluate(() => { document.querySelector('#legal-terms-details').open = true; });
    await waitFor('patient: terms shown inline from /legal/', async () =>
      /Nutzungsbedingungen/.test((await pat.text('[data-testid="legal-terms-text"]')) || ''), 30_000);
    await pat.evaluate(() => { document.querySelector('#legal-terms-details').open = false; });
    await art.shot(patPage, 'patient-first-page');
    await pat.fill('#first-name', PATIENT.first);
    await pat.fill('#last-name', PATIENT.last);
    await pat.check('#accept-terms');
    await art.shot(patPage, 'patient-form-filled');
    await pat.click('#start');
    await pat.waitVisible('#waiting');
    await waitFor('patient: #waiting data-ahead="0"', async () => (await pat.attr('#waiting', 'data-ahead')) === '0', 30_000);
    assert.match(await pat.text('#waiting'), /Sie sind als Nächste\/r dran/);
    assert.equal(await pat.evaluate(() => window.consult && window.consult.state), 'waiting');
    await art.shot(patPage, 'patient-waiting');
    await waitFor('reception: status waiting', async () => rec.evaluate((sel) => {
      const st = document.querySelector(`${sel} .status`);
      return st && st.getAttribute('data-status') === 'waiting';
    }, rowSel), 30_000);
    await art.shot(recPage, 'reception-patient-waiting');
    failed = false;
  } finally {
    if (failed) {
      for (const [who, d] of Object.entries(pages)) await art.shot(d.page, `failure-${who}`);
    }
    const browsers = [...open].filter((x) => x && x.kind === 'chromium');
    await closeAll(...browsers.reverse());
    for (const b of browsers) open.delete(b);
    if (stack) {
      logs = await stack.stop();
      if (logs.janusLog) fs.writeFileSync(path.join(art.dir, 'janus.log'), logs.janusLog);
      if (logs.nginxError) fs.writeFileSync(path.join(art.dir, 'nginx-error.log'), logs.nginxError);
    }
    fs.writeFileSync(path.join(art.dir, 'console.log'), consoleLines.join('\n') + '\n');
    if (failed && consoleLines.length) console.error('# page console:\n# ' + consoleLines.slice(-30).join('\n# '));
  }

  // --- no personal data in Janus' log, the event handler output or nginx ---
  assert.equal(logs.janus?.code, 0, `janus exit ${JSON.stringify(logs.janus)}`);
  const janusLog = logs.janusLog || '';
  assert.ok(janusLog.length > 0 && /consult/.test(janusLog), 'the Janus log was captured (the scan must be able to fail)');
  const events = evh.text();
  assert.ok(evh.count() > 0, 'the event handler received events (the scan must be able to fail)');
  const secrets = {
    email: EMAIL, 'e-mail local part': EMAIL.split('@')[0], code, 'code without dashes': code.replace(/-/g, ''),
    'first name': PATIENT.first, 'last name': PATIENT.last,
  };
  for (const [what, s] of Object.entries(secrets)) {
    assert.ok(!janusLog.includes(s), `the Janus log contains the ${what}`);
    assert.ok(!events.includes(s), `the event handler output contains the ${what}`);
  }
  for (const s of [code, code.replace(/-/g, ''), EMAIL]) {
    assert.ok(!(logs.nginxAccess || '').includes(s), 'nginx access log free of code and address');
  }
  assert.ok((logs.nginxAccess || '').includes('/legal/nutzungsbedingungen.html'), 'nginx served the legal page (access log captured)');
});
