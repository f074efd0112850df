// booking-names.test.mjs - the patient's name and a note as reception books
// them, against the real Janus, a real SMTP server (aiosmtpd) and a real SMS
// receiver: checked at booking (limits in characters, no control
// characters, nothing stored on error), shown to the practice's staff only
// (list_appointments, appointment events, the doctor's waiting list beside
// the name the patient types) and never to a patient, the invitation,
// reminder and cancellation greeting by the booked name ("Guten Tag,"
// without one), and gone with the appointment (erase, retention purge) -
// from the database files too - but not with the contact data. Every name
// and note is registered with ctx.secret, so the Janus log and the event
// handler output are scanned for them (helpers.mjs).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { assertError, assertOk, now, useStack, uniqueName } from './helpers.mjs';
import { deliveryConfig, mails, parseMail, startSms, startSmtp, until } from './servers.mjs';

const servers = {};
const janusOpts = {};

async function setup() {
  servers.smtp = await startSmtp();
  servers.sms = await startSms();
  Object.assign(janusOpts, {
    env: { CONSULT_TEST: '1' },
    extraPluginConfig: deliveryConfig(servers.smtp, servers.sms),
  });
}

const ctx = useStack({ janus: janusOpts, setup });

after(async () => {
  await servers.smtp.stop();
  await servers.sms.stop();
});

/** A booked name of letters only (unique, so the scans can find it). */
const bookedName = () => ctx.secret(`${uniqueName('Erika')} ${uniqueName('Muster')}`);
const note = () => ctx.secret(`Notiz ${uniqueName('n')}: Befund besprechen`);
const email = () => ctx.secret(`${uniqueName('pat')}@example.org`);
function mobile() {
  const digits = String(1000000 + Math.floor(Math.random() * 8999999));
  ctx.secret(digits, `+49170${digits}`);
  return { typed: `0170 ${digits}`, e164: `+49170${digits}` };
}

async function create(h, fields) {
  const r = await h.request({ request: 'create_appointment', starts_at: now() + 60, ...fields });
  if (r.ok) ctx.secret(r.code, r.code.replace(/-/g, ''), r.link);
  return r;
}
const rowOf = async (h, id) => (await h.call({ request: 'list_appointments' })).appointments.find((a) => a.id === id);

async function deliveryOf(h, apptId, channel, kind) {
  return until(async () => {
    const row = await rowOf(h, apptId);
    const d = row && row.deliveries.find((x) => x.channel === channel && x.kind === kind && x.status === 'sent');
    return d || null;
  }, 120000, `${channel} ${kind} of ${apptId} sent`);
}

/** The received mails to addr, parsed, oldest first. */
function mailsTo(addr) {
  return mails(servers.smtp.dir).filter((f) => fs.readFileSync(f, 'utf8').includes(addr)).map(parseMail);
}

/** The SMS texts sent to a number. */
const smsTo = (e164) => servers.sms.requests().map((q) => JSON.parse(q.body)).filter((b) => b.to === e164).map((b) => b.text);

function dbFiles() {
  const file = fs.readFileSync(path.join(ctx.janus.dataDir, 'consult.sqlite'));
  const wal = path.join(ctx.janus.dataDir, 'consult.sqlite-wal');
  return [file, fs.existsSync(wal) ? fs.readFileSync(wal) : Buffer.alloc(0)];
}
const inFiles = (s) => dbFiles().some((b) => b.includes(s));
/** The first line of a mail's text part (CRLF as sent). */
const firstLine = (text) => text.split(/\r?\n/)[0];

test('bad names and notes are refused with their field and change nothing', async () => {
  const { handle: rec } = await ctx.login(ctx.A.receptions[0]);
  const before = ctx.db('SELECT count(*) AS n FROM appointments')[0].n;
  const cases = [
    [{ patient_name: 'x'.repeat(101) }, 'too_long', 'patient_name'],
    [{ patient_name: 'ü'.repeat(101) }, 'too_long', 'patient_name'],
    [{ patient_name: 'Erika\nMuster' }, 'invalid_utf8', 'patient_name'],
    [{ patient_name: 'Erika\u200BM\u0085' }, 'invalid_utf8', 'patient_name'],
    [{ patient_name: '   ' }, 'invalid_field', 'patient_name'],
    [{ patient_name: '' }, 'invalid_field', 'patient_name'],
    [{ patient_name: 42 }, 'invalid_field', 'patient_name'],
    [{ patient_name: ['Erika'] }, 'invalid_field', 'patient_name'],
    [{ note: 'n'.repeat(201) }, 'too_long', 'note'],
    [{ note: 'Zeile 1\r\nZeile 2' }, 'invalid_utf8', 'note'],
    [{ note: '\t' }, 'invalid_utf8', 'note'],
    [{ note: ' ' }, 'invalid_field', 'note'],
    [{ note: { text: 'x' } }, 'invalid_field', 'note'],
    // a good name does not let a bad note through (one commit, nothing stored)
    [{ patient_name: 'Erika Muster', note: 'x'.repeat(201) }, 'too_long', 'note'],
  ];
  for (const [fields, error, field] of cases) {
    const r = await create(rec, fields);
    assertError(r, error);
    assert.equal(r.field, field, JSON.stringify(fields).slice(0, 80));
  }
  assert.equal(ctx.db('SELECT count(*) AS n FROM appointments')[0].n, before, 'nothing stored');
  // At the limits, counted in characters: 100 umlauts are 200 bytes.
  const r = assertOk(await create(rec, { patient_name: 'ü'.repeat(100), note: '€'.repeat(200) }));
  assert.equal(r.booked_name, 'ü'.repeat(100));
  assert.equal(r.note, '€'.repeat(200));
  assertOk(await rec.request({ request: 'erase_appointment', appointment_id: r.appointment_id }));
});

test('booked name and note: to the staff (list, events, the doctor\'s list beside the typed name), never to the patient', async () => {
  const rec = await ctx.login(ctx.A.receptions[0]);
  const watcher = await ctx.login(ctx.A.receptions[0]); // a second reception page
  const doc = await ctx.login(ctx.A.doctors[0]);
  const name = bookedName(), text = note();
  const r = assertOk(await create(rec.handle, { doctor_id: ctx.A.doctors[0].id, patient_name: `  ${name} `, note: ` ${text}` }));
  assert.equal(r.booked_name, name, 'trimmed');
  assert.equal(r.note, text);
  assert.deepEqual(ctx.db(`SELECT booked_name, note FROM appointments WHERE id = ${r.appointment_id}`)[0], { booked_name: name, note: text });
  const booked = await watcher.handle.waitEvent('appointment', { filter: (e) => e.appointment_id === r.appointment_id });
  assert.deepEqual({ ...booked }, { consult: 'event', event: 'appointment', appointment_id: r.appointment_id, status: 'booked', patient: null, booked_name: name });
  let row = await rowOf(rec.handle, r.appointment_id);
  assert.equal(row.booked_name, name);
  assert.equal(row.note, text);
  assert.equal(row.patient, null);
  // without a booking both are null
  const plain = assertOk(await create(rec.handle, {}));
  assert.equal(plain.booked_name, null);
  assert.equal(plain.note, null);
  const plainRow = await rowOf(rec.handle, plain.appointment_id);
  assert.equal(plainRow.booked_name, null);
  assert.equal(plainRow.note, null);
  // another practice sees neither the row nor the name
  const recB = await ctx.login(ctx.B.receptions[0]);
  const listB = assertOk(await recB.handle.request({ request: 'list_appointments' }));
  assert.ok(!JSON.stringify(listB).includes(name));

  // The patient types their own name; the doctor sees both.
  const p = await ctx.patient(r);
  assertOk(p.reply);
  const waiting = await doc.handle.waitEvent('waiting', { filter: (e) => e.visits.some((v) => v.visit_id === p.reply.visit_id) });
  const v = waiting.visits.find((x) => x.visit_id === p.reply.visit_id);
  assert.deepEqual([v.first_name, v.last_name, v.booked_name, v.note], [p.first, p.last, name, text]);
  const list = assertOk(await doc.handle.request({ request: 'waiting_list' }));
  const lv = list.visits.find((x) => x.visit_id === p.reply.visit_id);
  assert.deepEqual([lv.booked_name, lv.note], [name, text]);
  const arrived = await watcher.handle.waitEvent('appointment', { filter: (e) => e.appointment_id === r.appointment_id && e.status === 'waiting' });
  assert.equal(arrived.patient, `${p.first} ${p.last}`);
  assert.equal(arrived.booked_name, name);
  row = await rowOf(rec.handle, r.appointment_id);
  assert.deepEqual([row.patient, row.booked_name], [`${p.first} ${p.last}`, name]);
  // A patient without a booking is listed with nulls.
  const p2 = await ctx.patient(await ctx.appointment(rec.handle, { doctorId: ctx.A.doctors[0].id }));
  const l2 = assertOk(await doc.handle.request({ request: 'waiting_list' }));
  const v2 = l2.visits.find((x) => x.visit_id === p2.reply.visit_id);
  assert.deepEqual([v2.booked_name, v2.note], [null, null]);
  assertOk(await p2.handle.request({ request: 'leave' }));

  // The patient never learns what was booked: not in replies, not in events.
  const anon = await ctx.connect(); // what the patient's first page asks before joining
  const info = assertOk(await anon.handle.request({ request: 'appointment_info', practice: ctx.A.slug, code: r.code }));
  assertOk(await doc.handle.request({ request: 'call', visit_id: p.reply.visit_id }));
  await p.handle.waitEvent('ringing');
  assertOk(await p.handle.request({ request: 'decline' }));
  await doc.handle.waitEvent('call_declined');
  await p.handle.sync();
  const seen = JSON.stringify([p.reply, info, p.handle.events]);
  assert.ok(!seen.includes(name) && !seen.includes(text), 'booked name or note reached the patient');

  // Cancel with the patient waiting: the staff's event still names the booking.
  assertOk(await rec.handle.request({ request: 'cancel_appointment', appointment_id: r.appointment_id }));
  assert.equal((await p.handle.waitEvent('visit_ended')).reason, 'cancelled');
  const cancelled = await watcher.handle.waitEvent('appointment', { filter: (e) => e.appointment_id === r.appointment_id && e.status === 'cancelled' });
  assert.equal(cancelled.booked_name, name);
  // Cancel without a visit: the event is built from the stored row.
  const name2 = bookedName();
  const r2 = assertOk(await create(rec.handle, { patient_name: name2 }));
  assertOk(await rec.handle.request({ request: 'cancel_appointment', appointment_id: r2.appointment_id }));
  const c2 = await watcher.handle.waitEvent('appointment', { filter: (e) => e.appointment_id === r2.appointment_id && e.status === 'cancelled' });
  assert.equal(c2.booked_name, name2);

  // Erase: gone from the rows, the event and the database files.
  assert.ok(inFiles(name), 'the booked name is in the database files before the erase');
  assertOk(await rec.handle.request({ request: 'erase_appointment', appointment_id: r.appointment_id }));
  const erased = await watcher.handle.waitEvent('appointment', { filter: (e) => e.appointment_id === r.appointment_id && e.status === 'erased' });
  assert.deepEqual([erased.patient, erased.booked_name], [null, null]);
  assert.equal(await rowOf(rec.handle, r.appointment_id), undefined);
  for (const s of [name, text, p.first, p.last]) assert.ok(!inFiles(s), 'erased data still in the database files');
});

test('the invitation greets by the booked name in the e-mail (text, HTML escaped) and the SMS; "Guten Tag," without one', async () => {
  const { handle: rec } = await ctx.login(ctx.A.receptions[0]);
  const name = ctx.secret(`${uniqueName('Ren')} O'Neil-${uniqueName('M')}`);
  const addr = email(), m = mobile();
  const r = assertOk(await create(rec, {
    patient_name: name, note: note(), email: addr, consent_email: true, phone: m.typed, consent_sms: true,
  }));
  await deliveryOf(rec, r.appointment_id, 'email', 'invite');
  await deliveryOf(rec, r.appointment_id, 'sms', 'invite');
  const [mail] = mailsTo(addr);
  assert.deepEqual(mail.defects, []);
  assert.equal(firstLine(mail.text), `Guten Tag ${name},`);
  assert.ok(mail.html.includes(`<p>Guten Tag ${name.replace("'", '&#39;')},</p>`), 'escaped in the HTML part');
  assert.ok(!mail.html.includes(name), 'the raw apostrophe is not in the HTML');
  assert.match(mail.text, /Warteraum/);
  assert.doesNotMatch(mail.text + mail.html, /Wartezimmer/);
  assert.ok(!mail.subject.includes(name), 'the subject does not carry the name');
  const [sms] = smsTo(m.e164);
  assert.ok(sms.startsWith(`Guten Tag ${name}, Hautärzte am Marktplatz: `), sms);
  assert.ok(sms.includes(r.link));

  // Without a booked name: "Guten Tag," and no name anywhere; the SMS starts with the practice.
  const addr2 = email(), m2 = mobile();
  const r2 = assertOk(await create(rec, { email: addr2, consent_email: true, phone: m2.typed, consent_sms: true }));
  await deliveryOf(rec, r2.appointment_id, 'email', 'invite');
  await deliveryOf(rec, r2.appointment_id, 'sms', 'invite');
  const [plain] = mailsTo(addr2);
  assert.equal(firstLine(plain.text), 'Guten Tag,');
  assert.ok(plain.html.includes('<p>Guten Tag,</p>'));
  assert.ok(!plain.text.includes(name) && !plain.html.includes('Neil'));
  const [sms2] = smsTo(m2.e164);
  assert.ok(sms2.startsWith('Hautärzte am Marktplatz: Videosprechstunde '), sms2);

  // The cancellation greets by the booked name too.
  assertOk(await rec.request({ request: 'cancel_appointment', appointment_id: r.appointment_id }));
  await deliveryOf(rec, r.appointment_id, 'email', 'cancel');
  await deliveryOf(rec, r.appointment_id, 'sms', 'cancel');
  const notice = mailsTo(addr).find((x) => /abgesagt/i.test(x.subject));
  assert.ok(notice, 'cancel notice received');
  assert.equal(firstLine(notice.text), `Guten Tag ${name},`);
  assert.match(notice.text, /abgesagt/);
  const cancelSms = smsTo(m.e164).find((t) => /abgesagt/.test(t));
  assert.ok(cancelSms.startsWith(`Guten Tag ${name}, Hautärzte am Marktplatz: `), cancelSms);
});

test('retention: the contact wipe keeps the booking, the purge deletes it from the files', async () => {
  const { handle: rec } = await ctx.login(ctx.B.receptions[0]);
  const name = bookedName(), text = note(), addr = email();
  const startsAt = now() + 120;
  const r = assertOk(await create(rec, { patient_name: name, note: text, email: addr, consent_email: true, starts_at: startsAt }));
  await deliveryOf(rec, r.appointment_id, 'email', 'invite');
  const day = 86400;
  const p1 = assertOk(await ctx.janus.admin({ request: 'purge', now: startsAt + day + 60 }));
  assert.ok(p1.contacts_wiped >= 1);
  // A purge dated a day ahead also ends every staff session unused that
  // long, this reception's too: the serving instance's revocation check
  // (every 5 s) may log it out at any moment now. So the row is read on a
  // new login (at real time a purge never reaches a session in use).
  const { handle: rec2 } = await ctx.login(ctx.B.receptions[0]);
  const row = await rowOf(rec2, r.appointment_id);
  assert.equal(row.contact_wiped, true);
  assert.deepEqual([row.booked_name, row.note], [name, text], 'kept with the appointment');
  const p2 = assertOk(await ctx.janus.admin({ request: 'purge', now: startsAt + 90 * day + 60 }));
  assert.ok(p2.appointments >= 1, JSON.stringify(p2));
  assert.equal(ctx.db(`SELECT count(*) AS n FROM appointments WHERE id = ${r.appointment_id}`)[0].n, 0);
  for (const s of [name, text, addr]) assert.ok(!inFiles(s), 'purged data still in the database files');
});

test('the reminder greets by the booked name (sent on the plugin\'s test clock)', async () => {
  const { handle: rec } = await ctx.login(ctx.A.receptions[0]);
  const name = bookedName(), addr = email();
  const startsAt = now() + 3 * 3600; // reminder_minutes 120: due in an hour
  const r = assertOk(await create(rec, { patient_name: name, email: addr, consent_email: true, starts_at: startsAt }));
  await deliveryOf(rec, r.appointment_id, 'email', 'invite');
  // 61 minutes on: past staff_idle_minutes (60), so the timer's next tick
  // logs the reception out, unless a request of it arrives first (that one
  // counts as activity). Either is right; the test waits for the logout and
  // asks on a new login instead of racing the timer.
  await ctx.advanceClock(3600 + 60);
  const out = await rec.waitEvent('logged_out', { timeout: 60000 });
  assert.equal(out.reason, 'idle');
  assertError(await rec.request({ request: 'list_appointments' }), 'not_authenticated', 410);
  const { handle: rec2 } = await ctx.login(ctx.A.receptions[0]);
  await deliveryOf(rec2, r.appointment_id, 'email', 'reminder');
  const reminder = await until(() => mailsTo(addr).find((x) => /Erinnerung/.test(x.subject)), 30000, 'the reminder mail');
  assert.equal(firstLine(reminder.text), `Guten Tag ${name},`);
  assert.ok(reminder.html.includes(`<p>Guten Tag ${name},</p>`));
  assert.match(reminder.text, /Der Warteraum öffnet/);
});
