// The booked name and note at reception (Chromium, nginx, Janus, a real SMTP
// server on loopback, tests/delivery/smtpd.py): reception books with the
// patient's name, a note and an e-mail address; the list shows name and note
// (an appointment at the same time without a name shows "–"); the
// invitation greets by the booked name and does not carry the note; when the
// patient joins with a differently typed name, the list shows it beside the
// booked one; the cancel, erase and resend dialogs name the patient ("Termin
// von Erika Musterbuch am … um … Uhr wirklich absagen?"). Name and note never
// reach the Janus log. Screenshots: tests/artifacts/reception-names-chromium/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { artifacts, closeAll, launchChromium, selectValue, step, waitFor } from './lib.mjs';
import { mails, parseMail, startSmtp } from '../protocol/servers.mjs';
import { rand, startStaffStack, staffPage, wsPatient } from './staffkit.mjs';

const NAME = 'Erika Musterbuch';
const NOTE = 'Kontrolle Muttermal links';
const EMAIL = `e.musterbuch.${rand()}@patient.example`;

const open = new Set();
after(async () => {
  const items = [...open].reverse();
  open.clear();
  await closeAll(...items);
});

const cell = (d, id) => d.evaluate((i) => {
  const td = document.querySelector(`#appointments tr[data-appointment-id="${i}"] td.c-patient`);
  if (!td) return null;
  const txt = (s) => (td.querySelector(s) ? td.querySelector(s).textContent.trim() : null);
  return { text: td.textContent.trim(), booked: txt('[data-testid=booked-name]'), typed: txt('[data-testid=typed-name]'), note: txt('[data-testid=appt-note]') };
}, String(id));

/** Opens a row's dialog with the button, reads it, answers "Zurück". */
async function dialogText(d, id, button) {
  await d.click(`#appointments tr[data-appointment-id="${id}"] ${button}`);
  await d.waitVisible('#confirm-dialog', 15_000);
  const text = await d.text('#confirm-text');
  const ok = await d.text('#confirm-ok');
  return { text, ok, close: async () => { await d.click('#confirm-no'); await d.waitHidden('#confirm-dialog', 15_000); } };
}

test('reception: booked name and note in the list, the mail\'s greeting and the dialogs; the typed name beside it', { timeout: 300_000 }, async () => {
  const art = artifacts('reception-names-chromium');
  const consoleLines = [];
  let stack = null;
  let rec = null;
  let failed = true;
  const smtp = await step('start SMTP server', startSmtp(), 20_000);
  open.add(smtp);
  try {
    stack = await step('start Janus + nginx + seed', startStaffStack({ smtp }), 90_000);
    open.add({ close: () => stack.stop() });
    const { janus, origin, practice } = stack;
    const [dr] = stack.doctors;
    const browser = await step('launch Chromium', launchChromium('reception-names'), 90_000);
    open.add(browser);
    rec = await staffPage(browser, origin, 'reception', stack.reception, consoleLines);

    // --- book with name, note and e-mail ---------------------------------------
    await selectValue(rec, '#doctor', String(dr.id));
    const when = await rec.evaluate(() => {
      const d = new Date(Date.now() + 5 * 60_000);
      const p = (n) => String(n).padStart(2, '0');
      return { date: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`, time: `${p(d.getHours())}:${p(d.getMinutes())}`,
        day: `${p(d.getDate())}.${p(d.getMonth() + 1)}.${d.getFullYear()}` };
    });
    await rec.fill('#date', when.date);
    await rec.fill('#time', when.time);
    await rec.fill('#appt-name', NAME);
    await rec.fill('#appt-note', NOTE);
    await rec.fill('#appt-email', EMAIL);
    await rec.check('#consent-email');
    await art.shot(rec.page, 'form-with-name-note');
    await rec.click('#create');
    await waitFor('reception: the result shows the link', async () => /\/patient\.html\?p=/.test((await rec.value('#result-link')) || ''), 30_000);
    const code = await rec.text('#result-code');
    assert.equal(await rec.value('#appt-name'), '', 'the name left the form');
    assert.equal(await rec.value('#appt-note'), '', 'the note left the form');
    const named = await waitFor('reception: the row appears', () => rec.evaluate(() => {
      const r = [...document.querySelectorAll('#appointments tr[data-appointment-id]')];
      return r.length === 1 ? Number(r[0].dataset.appointmentId) : null;
    }), 30_000);

    // a second appointment at the same time, without a name
    await rec.fill('#date', when.date);
    await rec.fill('#time', when.time);
    await rec.click('#create');
    const unnamed = await waitFor('reception: the second row appears', () => rec.evaluate((first) => {
      const r = [...document.querySelectorAll('#appointments tr[data-appointment-id]')].map((x) => Number(x.dataset.appointmentId));
      return r.length === 2 ? r.find((x) => x !== first) : null;
    }, named), 30_000);

    const c1 = await waitFor('reception: name and note in the row', async () => {
      const c = await cell(rec, named);
      return c && c.booked === NAME && c.note === NOTE ? c : null;
    }, 30_000);
    assert.equal(c1.typed, null, 'nobody joined yet: no typed name');
    assert.equal((await cell(rec, unnamed)).text, '–', 'no name: "–"');
    await art.shot(rec.page, 'list-name-note');

    // --- the invitation greets by the booked name -------------------------------
    const [file] = await waitFor('SMTP: the invitation arrived', () => {
      const m = mails(smtp.dir);
      return m.length ? m : null;
    }, 60_000);
    const mail = parseMail(file);
    fs.copyFileSync(file, path.join(art.dir, 'invitation.eml'));
    assert.equal(mail.to_addr, EMAIL);
    assert.match(mail.text, new RegExp(`Guten Tag ${NAME},`), 'the text part greets by the booked name');
    assert.ok(mail.html.includes(NAME), 'the HTML part names the patient too');
    assert.ok(!mail.text.includes(NOTE) && !mail.html.includes(NOTE), 'the practice\'s note stays out of the mail');

    // --- the patient joins with the name they type -------------------------------
    await wsPatient(janus, practice, code, 'Erika', 'Muster', open);
    const c2 = await waitFor('reception: the typed name beside the booked one', async () => {
      const c = await cell(rec, named);
      return c && c.typed ? c : null;
    }, 30_000);
    assert.equal(c2.booked, NAME);
    assert.match(c2.typed, /angemeldet als Erika Muster/);
    await art.shot(rec.page, 'list-typed-beside-booked');

    // --- the dialogs name the patient ---------------------------------------------
    const cancel = await dialogText(rec, named, 'button.cancel');
    assert.equal(cancel.text, `Termin von ${NAME} am ${when.day} um ${when.time} Uhr wirklich absagen?`);
    await art.shot(rec.page, 'cancel-dialog-named');
    await cancel.close();
    const cancel2 = await dialogText(rec, unnamed, 'button.cancel');
    assert.equal(cancel2.text, `Termin am ${when.day} um ${when.time} Uhr wirklich absagen?`, 'without a name: as before');
    await cancel2.close();
    const erase = await dialogText(rec, named, 'button.erase');
    assert.match(erase.text, new RegExp(`^Termin von ${NAME} am ${when.day.replace(/\./g, '\\.')} um ${when.time} Uhr und alle zugehörigen Daten`));
    await erase.close();
    const resend = await dialogText(rec, named, 'button.resend');
    assert.equal(resend.text, `Einladung an ${NAME} (Termin am ${when.day} um ${when.time} Uhr) erneut per E-Mail senden?`);
    assert.equal(resend.ok, 'Erneut senden');
    await resend.close();
    assert.equal(mails(smtp.dir).length, 1, '"Zurück" sent nothing again');
    const status = await rec.evaluate((i) => document.querySelector(`#appointments tr[data-appointment-id="${i}"] .status`).dataset.status, String(named));
    assert.equal(status, 'waiting', '"Zurück" cancelled nothing');
    failed = false;
  } finally {
    if (failed && rec) await art.shot(rec.page, 'failure-reception');
    const browsers = [...open].filter((x) => x && x.kind === 'chromium');
    await closeAll(...browsers);
    for (const b of browsers) open.delete(b);
    if (stack) {
      const logs = await stack.stop();
      if (logs.janusLog) fs.writeFileSync(path.join(art.dir, 'janus.log'), logs.janusLog);
      if (!failed) {
        assert.ok((logs.janusLog || '').length > 0, 'the Janus log was captured');
        for (const s of [NAME, NOTE, 'Musterbuch', EMAIL]) assert.ok(!logs.janusLog.includes(s), `Janus log free of "${s.slice(0, 6)}…"`);
      }
    }
    fs.writeFileSync(path.join(art.dir, 'console.log'), consoleLines.join('\n') + '\n');
    if (failed && consoleLines.length) console.error('# page console:\n# ' + consoleLines.slice(-30).join('\n# '));
  }
});
