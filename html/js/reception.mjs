// reception.mjs: the reception console. Contract (docs/pages.md):
// - login via staff.mjs (idle logout, touch keepalive, #logout).
// - create: #doctor, #date, #time, #appt-phone + #consent-sms, #appt-email +
//   #consent-email, #send-now / #send-later + #send-at (datetime-local, local
//   time), #create -> create_appointment; shows #result-link, #result-code
//   (once) and #result-deliveries. Error replies naming a field are shown
//   next to it in #err-<field> (phone, email, consent_sms, consent_email,
//   send_at, starts_at, doctor_id); others in #error.
// - list: #list-day + #list-span (1..14 days) -> list_appointments {from,to};
//   #appointments has one <tr data-appointment-id> per appointment with
//   .status[data-status], per channel/kind a .delivery[data-testid=
//   delivery-<channel>-<kind>][data-status][data-attempts][data-retried],
//   buttons button.cancel, button.resend[data-channel], button.erase.
//   Day header rows (tr.day-head) carry no data-appointment-id.
// - live: `delivery` events patch the rows in place; `appointment` events
//   re-fetch the list (debounced). Cancel, erase and resend ask in
//   #confirm-dialog, naming the patient when a name was booked.
// - names: #appt-name (patient_name, optional) and #appt-note (note) go with
//   create_appointment and are emptied after it; the row's .c-patient shows
//   the booked name ([data-testid=booked-name]), the name the patient typed
//   when it differs ([data-testid=typed-name]) and the note
//   ([data-testid=appt-note]); "–" when there is none.
// - messages: staffmsg.mjs (#msg-box); targets "all waiting patients of
//   <doctor>" (doctor_id) and each waiting appointment of the list
//   (appointment_id); rows with a patient in the waiting room have
//   button.msg[data-testid=msg-one].
import { t, errorText, initLangToggle, onLangChange, fmtTime, fmtDate, fmtDay } from './i18n.mjs';
import { startStaff } from './staff.mjs';
import { wireMessages } from './staffmsg.mjs';

const $ = (id) => document.getElementById(id);
const CHANNELS = ['email', 'sms'];
const KINDS = ['invite', 'reminder', 'cancel'];
const FIELDS = ['phone', 'email', 'consent_sms', 'consent_email', 'send_at', 'starts_at', 'doctor_id', 'patient_name', 'note'];
const FIELD_INPUT = {
  phone: 'appt-phone', email: 'appt-email', consent_sms: 'consent-sms', consent_email: 'consent-email',
  send_at: 'send-at', starts_at: 'date', doctor_id: 'doctor', patient_name: 'appt-name', note: 'appt-note',
};
// texts of this page for the name and note fields (reception.field.<error>.<field>)
const OWN_FIELD_TEXTS = new Set(['too_long.patient_name', 'too_long.note', 'invalid_utf8.patient_name', 'invalid_utf8.note',
  'invalid_field.patient_name', 'invalid_field.note']);
const NAME_MAX = 100;
const NOTE_MAX = 200;
const IN_ROOM = ['waiting', 'away', 'ringing'];    // a message reaches these (message_waiting)
let messages = null;

let client = null;
let appointments = [];
let doctors = [];
let refetchTimer = null;
let lastResult = null;
let me = '';
let listFrom = 0;          // local midnight of #list-day (unix)
let listTo = 0;
let listSpan = 1;
let fetchSeq = 0;
const recentDeliveries = new Map();   // delivery_id -> newest event (an event may beat the reply)

function pad(n) { return String(n).padStart(2, '0'); }
function nowUnix() { return Math.floor(Date.now() / 1000); }
function dateValue(d) { return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }
function localInputValue(d) { return `${dateValue(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}`; }

function setDefaults() {
  const d = new Date();
  d.setSeconds(0, 0);
  const q = 15 - (d.getMinutes() % 15);
  d.setMinutes(d.getMinutes() + q);          // next quarter hour
  $('date').value = dateValue(d);
  $('time').value = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  $('list-day').value = dateValue(new Date());
  $('list-span').value = '1';
}

function showError(text) {
  $('error').textContent = text || '';
  $('error').hidden = !text;
}

function showNotice(text) {
  $('notice').textContent = text || '';
  $('notice').hidden = !text;
}

// ---- field errors ----------------------------------------------------------
function clearFieldErrors() {
  for (const f of FIELDS) {
    const el = $('err-' + f);
    if (el) { el.textContent = ''; el.hidden = true; }
    const input = $(FIELD_INPUT[f]);
    if (input) input.removeAttribute('aria-invalid');
  }
  $('time').removeAttribute('aria-invalid');
}

function fieldErrorText(err) {
  const name = err.error || 'generic';
  if (OWN_FIELD_TEXTS.has(`${name}.${err.field}`)) return t(`reception.field.${name}.${err.field}`);
  for (const key of [`field.${name}.${err.field}`, `field.${name}`]) {
    const s = t(key);
    if (s !== key) return s;
  }
  return errorText(err);
}

/** Shows err next to its field; false if it names no field of the form. */
function showFieldError(err) {
  const field = err && err.field;
  const el = field && FIELDS.includes(field) ? $('err-' + field) : null;
  if (!el) return false;
  el.textContent = fieldErrorText(err);
  el.hidden = false;
  const input = $(FIELD_INPUT[field]);
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    if (field === 'starts_at') $('time').setAttribute('aria-invalid', 'true');
    input.focus();
  }
  return true;
}

// ---- doctors ---------------------------------------------------------------
function renderDoctors() {
  const sel = $('doctor');
  const keep = sel.value;
  const any = document.createElement('option');
  any.value = '';
  any.textContent = t('common.any.doctor');
  const opts = [any];
  for (const d of doctors) {
    const o = document.createElement('option');
    o.value = String(d.id);
    o.textContent = d.display_name;
    opts.push(o);
  }
  sel.replaceChildren(...opts);
  sel.value = doctors.some((d) => String(d.id) === keep) ? keep : '';
}

// ---- deliveries ------------------------------------------------------------
function when(unix) {
  if (!unix) return '';
  const today = new Date();
  const d = new Date(unix * 1000);
  return d.toDateString() === today.toDateString() ? fmtTime(unix) : `${fmtDate(unix)} ${fmtTime(unix)}`;
}

function deliveryText(d) {
  const n = d.attempts || 0;
  let s;
  switch (d.status) {
    case 'queued':
      if (n > 0) s = t('delivery.queued.retry', { n });
      else if (d.due_at && d.due_at > nowUnix() + 30) s = t('delivery.queued.due', { when: when(d.due_at) });
      else s = t('delivery.queued');
      break;
    case 'sending': s = t('delivery.sending'); break;
    case 'sent': s = t(n > 1 ? 'delivery.sent.retried' : 'delivery.sent', { when: when(d.sent_at), n }).trim(); break;
    case 'failed': s = t(n > 1 ? 'delivery.failed.retried' : 'delivery.failed', { n }); break;
    case 'dropped': s = t('delivery.dropped'); break;
    default: s = String(d.status || '');
  }
  if (d.error && (d.status === 'failed' || d.status === 'queued')) s += ' – ' + t('delivery.reason', { reason: d.error });
  return s;
}

/** Newest delivery per channel and kind. */
function newestDeliveries(list) {
  const m = new Map();
  for (const d of Array.isArray(list) ? list : []) {
    const k = d.channel + '-' + d.kind;
    const old = m.get(k);
    if (!old || (d.delivery_id || 0) > (old.delivery_id || 0)) m.set(k, d);
  }
  return m;
}

function deliveryEl(d, tag) {
  const el = document.createElement(tag);
  el.className = 'delivery';
  el.dataset.testid = `delivery-${d.channel}-${d.kind}`;
  el.dataset.status = d.status || '';
  el.dataset.attempts = String(d.attempts || 0);
  el.dataset.retried = String((d.attempts || 0) > 1);
  if (d.delivery_id) el.dataset.deliveryId = String(d.delivery_id);
  const kind = document.createElement('span');
  kind.className = 'kind';
  kind.textContent = t('kind.' + d.kind) + ': ';
  const st = document.createElement('span');
  st.className = 'dstatus';
  st.textContent = deliveryText(d);
  el.append(kind, st);
  return el;
}

function channelUsed(a, ch) {
  return !!(a[ch === 'sms' ? 'phone_hint' : 'email_hint']) || (a.deliveries || []).some((d) => d.channel === ch);
}

function renderInviteCell(td, a) {
  const newest = newestDeliveries(a.deliveries);
  let any = false;
  for (const ch of CHANNELS) {
    if (!channelUsed(a, ch)) continue;
    any = true;
    const box = document.createElement('div');
    box.className = 'channel-box';
    box.dataset.channel = ch;
    const head = document.createElement('div');
    head.className = 'channel-head';
    const hint = ch === 'sms' ? a.phone_hint : a.email_hint;
    head.textContent = t('channel.' + ch) + (hint ? ' · ' + hint : '');
    if (hint) head.dataset.testid = `${ch === 'sms' ? 'phone' : 'email'}-hint`;
    box.appendChild(head);
    for (const kind of KINDS) {
      const d = newest.get(ch + '-' + kind);
      if (d) box.appendChild(deliveryEl(d, 'div'));
    }
    td.appendChild(box);
  }
  if (!any) {
    const s = document.createElement('span');
    s.className = 'muted';
    s.textContent = t('reception.noinvite');
    td.appendChild(s);
  }
}

function canResend(a, ch) {
  if (a.status === 'cancelled' || a.status === 'ended') return false;
  if (a.valid_until && nowUnix() >= a.valid_until) return false;
  if (a.contact_wiped || a['consent_' + ch] === false) return false;   // fields of newer plugins
  const hint = ch === 'sms' ? a.phone_hint : a.email_hint;
  return !!hint && (a['consent_' + ch] === true || (a.deliveries || []).some((d) => d.channel === ch));
}

function sentChannels(a) {
  return CHANNELS.filter((ch) => (a.deliveries || []).some((d) => d.channel === ch && d.kind === 'invite' && d.status === 'sent'));
}

function channelList(chs) {
  return chs.map((c) => t('channel.' + c)).join(t('reception.and'));
}

// ---- names ------------------------------------------------------------------
const norm = (x) => String(x || '').toLocaleLowerCase('de').replace(/\s+/g, ' ').trim();

/** The name staff know the appointment by: the booked one, else the one the patient typed. */
function nameOf(a) {
  return a.booked_name || a.patient || '';
}

function renderPatientCell(td, a) {
  const booked = a.booked_name || '';
  const typed = a.patient || '';
  if (!booked && !typed && !a.note) { td.textContent = '–'; return; }
  if (booked) {
    const b = document.createElement('span');
    b.className = 'booked-name';
    b.dataset.testid = 'booked-name';
    b.textContent = booked;
    td.appendChild(b);
  }
  if (typed && norm(typed) !== norm(booked)) {
    const s = document.createElement('span');
    s.className = booked ? 'typed-name' : 'booked-name';
    s.dataset.testid = 'typed-name';
    s.textContent = booked ? t('reception.typed', { name: typed }) : typed;
    td.appendChild(s);
  }
  if (!booked && !typed) td.append('–');
  if (a.note) {
    const n = document.createElement('span');
    n.className = 'appt-note';
    n.dataset.testid = 'appt-note';
    n.textContent = a.note;
    td.appendChild(n);
  }
}

// i18n-keys: reception.cancel.confirm.name reception.erase.confirm.name reception.resend.confirm.name
/** "Termin von Erika Muster am …" when a name is known, else "Termin am …". */
function confirmText(key, a, vars = {}) {
  const name = nameOf(a);
  const v = { date: fmtDate(a.starts_at), time: fmtTime(a.starts_at), ...vars, name };
  return name ? t(key + '.name', v) : t(key, v);
}

function messageTargets() {
  const out = doctors.map((d) => ({ value: 'doctor:' + d.id, label: t('staff.msg.to.doctor', { doctor: d.display_name }) }));
  const rows = [...appointments].filter((a) => IN_ROOM.includes(a.status)).sort((a, b) => a.starts_at - b.starts_at || a.id - b.id);
  for (const a of rows) {
    const label = t('reception.msg.appt', { time: fmtTime(a.starts_at), name: nameOf(a) || '–' });
    out.push({ value: 'appointment:' + a.id, label: `${label} (${a.doctor_name || t('common.any.doctor')})` });
  }
  return out;
}

// ---- appointment rows ------------------------------------------------------
function button(cls, testid, text, label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = cls;
  b.dataset.testid = testid;
  b.textContent = text;
  if (label) b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}

function buildRow(a) {
  const tr = document.createElement('tr');
  tr.dataset.appointmentId = String(a.id);
  tr.dataset.testid = 'appointment-row';
  const inactive = a.status === 'cancelled' || a.status === 'ended';
  if (inactive) tr.classList.add('inactive');
  const cell = (text, cls) => {
    const td = document.createElement('td');
    if (cls) td.className = cls;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  };
  const at = fmtTime(a.starts_at);
  cell(at, 'c-time');
  cell(a.doctor_name || t('common.any.doctor'), 'c-doctor');
  renderPatientCell(cell('', 'c-patient'), a);
  const st = document.createElement('span');
  st.className = 'status';
  st.dataset.status = a.status;
  st.textContent = t('status.' + a.status);
  cell('', 'c-status').appendChild(st);
  renderInviteCell(cell('', 'c-invite'), a);
  const td = cell('', 'c-actions');
  const label = ` ${fmtDate(a.starts_at)} ${at}` + (nameOf(a) ? ` ${nameOf(a)}` : '');
  if (IN_ROOM.includes(a.status)) {
    td.appendChild(button('msg secondary', 'msg-one', t('staff.msg.one'), t('staff.msg.one.label', { name: nameOf(a) || label.trim() }),
      () => { if (messages) messages.select('appointment:' + a.id); }));
  }
  for (const ch of CHANNELS) {
    if (!canResend(a, ch)) continue;
    const b = button('resend secondary', 'resend-' + ch, t('reception.resend.' + ch), t('reception.resend.' + ch) + label, () => resend(a, ch, b));
    b.dataset.channel = ch;
    td.appendChild(b);
  }
  if (!inactive) {
    td.appendChild(button('cancel secondary', 'cancel', t('reception.cancel'), t('reception.cancel') + label, () => cancelAppointment(a)));
  }
  td.appendChild(button('erase danger-outline', 'erase', t('reception.erase'), t('reception.erase') + label, () => eraseAppointment(a)));
  return tr;
}

function dayKey(unix) { return new Date(unix * 1000).toDateString(); }

function renderAppointments() {
  const body = $('appointments');
  const rows = [...appointments].sort((a, b) => a.starts_at - b.starts_at || a.id - b.id);
  body.replaceChildren();
  let day = null;
  for (const a of rows) {
    if (listSpan > 1 && dayKey(a.starts_at) !== day) {
      day = dayKey(a.starts_at);
      const tr = document.createElement('tr');
      tr.className = 'day-head';
      const th = document.createElement('th');
      th.colSpan = 6;
      th.scope = 'rowgroup';
      th.textContent = fmtDay(a.starts_at);
      tr.appendChild(th);
      body.appendChild(tr);
    }
    body.appendChild(buildRow(a));
  }
  $('appointments-empty').hidden = rows.length > 0;
  $('appointments-empty').textContent = listSpan === 1 && isToday(listFrom) ? t('reception.none') : t('reception.none.range');
  renderListTitle();
  if (messages) messages.render();
}

function renderOneRow(id) {
  const a = appointments.find((x) => x.id === id);
  const old = $('appointments').querySelector(`tr[data-appointment-id="${id}"]`);
  if (!a || !old) return;
  old.replaceWith(buildRow(a));
}

function isToday(unix) { return unix && dayKey(unix) === new Date().toDateString(); }

function renderListTitle() {
  let s;
  if (listSpan === 1) s = isToday(listFrom) ? t('reception.list.today') : t('reception.list.day', { date: fmtDate(listFrom) });
  else s = t('reception.list.range', { from: fmtDate(listFrom), to: fmtDate(listTo - 1) });
  $('list-title').textContent = s;
}

function renderResult() {
  if (!lastResult) { $('result').hidden = true; return; }
  $('result').hidden = false;
  $('result-code').textContent = lastResult.code;
  $('result-link').textContent = lastResult.link;
  $('result-link').href = lastResult.link;
  $('result-when').textContent = t('reception.created.at', { date: fmtDate(lastResult.starts_at), time: fmtTime(lastResult.starts_at) });
  const ul = $('result-deliveries');
  ul.replaceChildren();
  const newest = newestDeliveries(lastResult.deliveries);
  for (const ch of CHANNELS) {
    for (const kind of KINDS) {
      const d = newest.get(ch + '-' + kind);
      if (!d) continue;
      const li = deliveryEl(d, 'li');
      li.querySelector('.kind').textContent = `${t('channel.' + ch)} – ${t('kind.' + kind)}: `;
      ul.appendChild(li);
    }
  }
  if (!ul.children.length) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = t('reception.result.nodelivery');
    ul.appendChild(li);
  }
}

function renderAll() {
  renderDoctors();
  renderAppointments();
  renderResult();
  $('who').textContent = me;
}

// ---- list range ------------------------------------------------------------
function readRange() {
  const v = $('list-day').value;
  let d = v ? new Date(`${v}T00:00`) : new Date();
  if (Number.isNaN(d.getTime())) d = new Date();
  d.setHours(0, 0, 0, 0);
  listSpan = Math.min(14, Math.max(1, Number($('list-span').value) || 1));
  listFrom = Math.floor(d.getTime() / 1000);
  const end = new Date(d);
  end.setDate(end.getDate() + listSpan);        // local days (DST-safe)
  listTo = Math.floor(end.getTime() / 1000);
}

function shiftDay(n) {
  const v = $('list-day').value;
  const d = v ? new Date(`${v}T00:00`) : new Date();
  if (Number.isNaN(d.getTime())) return;
  d.setDate(d.getDate() + n);
  $('list-day').value = dateValue(d);
  fetchAppointments();
}

async function fetchAppointments() {
  readRange();
  renderListTitle();
  if (!client) return;
  const seq = ++fetchSeq;
  try {
    const r = await client.request({ request: 'list_appointments', from: listFrom, to: listTo });
    if (seq !== fetchSeq) return;          // a newer fetch is under way
    appointments = Array.isArray(r.appointments) ? r.appointments : [];
    renderAppointments();
  } catch (e) {
    if (seq === fetchSeq) showError(errorText(e));
  }
}

function scheduleRefetch() {
  clearTimeout(refetchTimer);
  refetchTimer = setTimeout(fetchAppointments, 150);
}

// ---- live events -----------------------------------------------------------
function patchDelivery(list, ev) {
  const i = list.findIndex((d) => d.delivery_id === ev.delivery_id);
  const old = i >= 0 ? list[i] : {};
  const d = {
    ...old,
    delivery_id: ev.delivery_id,
    channel: ev.channel || old.channel,
    kind: ev.kind || old.kind,
    status: ev.status || old.status,
    attempts: typeof ev.attempts === 'number' ? ev.attempts : old.attempts || 0,
    error: ev.error !== undefined ? ev.error : old.error || null,
  };
  for (const k of ['due_at', 'sent_at']) if (typeof ev[k] === 'number') d[k] = ev[k];
  if (d.status === 'sent' && !d.sent_at) d.sent_at = nowUnix();
  if (i >= 0) list[i] = d; else list.push(d);
}

function onDelivery(ev) {
  if (!ev || typeof ev.delivery_id !== 'number') return;
  recentDeliveries.set(ev.delivery_id, ev);
  if (recentDeliveries.size > 500) recentDeliveries.delete(recentDeliveries.keys().next().value);
  const a = appointments.find((x) => x.id === ev.appointment_id);
  if (a) {
    if (!Array.isArray(a.deliveries)) a.deliveries = [];
    patchDelivery(a.deliveries, ev);
    renderOneRow(a.id);
  } else if (ev.appointment_id && (!lastResult || lastResult.appointment_id !== ev.appointment_id)) {
    scheduleRefetch();
  }
  if (lastResult && lastResult.appointment_id === ev.appointment_id) {
    patchDelivery(lastResult.deliveries, ev);
    renderResult();
  }
}

// ---- confirm dialog ----------------------------------------------------------
function confirmDialog(text, extra, okText) {
  const dlg = $('confirm-dialog');
  if (!dlg || typeof dlg.showModal !== 'function') {
    return Promise.resolve(window.confirm(extra ? `${text}\n\n${extra}` : text));
  }
  $('confirm-text').textContent = text;
  $('confirm-extra').textContent = extra || '';
  $('confirm-extra').hidden = !extra;
  $('confirm-ok').textContent = okText;
  return new Promise((resolve) => {
    const done = () => { dlg.removeEventListener('close', done); resolve(dlg.returnValue === 'ok'); };
    dlg.returnValue = '';
    dlg.addEventListener('close', done);
    dlg.showModal();
    $('confirm-no').focus();
  });
}

// ---- actions ---------------------------------------------------------------
async function cancelAppointment(a) {
  if (!client) return;
  const chs = sentChannels(a);
  const hasInvite = (a.deliveries || []).some((d) => d.kind === 'invite');
  const extra = chs.length ? t('reception.cancel.notify', { channels: channelList(chs) })
    : hasInvite ? t('reception.cancel.nonotify') : '';
  const ok = await confirmDialog(nameOf(a) ? confirmText('reception.cancel.confirm', a) : confirmText('reception.cancel.confirm.long', a),
    extra, t('reception.cancel.ok'));
  if (!ok || !client) return;
  try {
    await client.request({ request: 'cancel_appointment', appointment_id: a.id });
    showError('');
    showNotice(chs.length ? t('reception.cancel.done.notify', { channels: channelList(chs) }) : t('reception.cancel.done'));
  } catch (e) {
    showError(errorText(e));
  }
  fetchAppointments();
}

async function eraseAppointment(a) {
  if (!client) return;
  const ok = await confirmDialog(confirmText('reception.erase.confirm', a), '', t('reception.erase.ok'));
  if (!ok || !client) return;
  try {
    await client.request({ request: 'erase_appointment', appointment_id: a.id });
    showError('');
    appointments = appointments.filter((x) => x.id !== a.id);
    if (lastResult && lastResult.appointment_id === a.id) lastResult = null;
    renderAppointments();
    renderResult();
    showNotice(t('reception.erase.done'));
  } catch (e) {
    showError(errorText(e));
  }
  fetchAppointments();
}

async function resend(a, ch, btn) {
  if (!client) return;
  const ok = await confirmDialog(confirmText('reception.resend.confirm', a, { channel: t('channel.' + ch) }), '', t('reception.resend.ok'));
  if (!ok || !client) return;
  btn.disabled = true;
  try {
    const r = await client.request({ request: 'resend', appointment_id: a.id, channel: ch });
    showError('');
    showNotice(t('reception.resend.done'));
    if (r && typeof r.delivery_id === 'number') {
      onDelivery({ appointment_id: a.id, delivery_id: r.delivery_id, channel: ch, kind: 'invite', status: 'queued', attempts: 0, error: null });
    }
  } catch (e) {
    showError(e.field ? fieldErrorText(e) : errorText(e));
    btn.disabled = false;
  }
}

async function createAppointment(ev) {
  ev.preventDefault();
  if (!client) return;
  clearFieldErrors();
  showError('');
  const date = $('date').value;
  const time = $('time').value;
  const start = new Date(`${date}T${time}`);
  if (!date || !time || Number.isNaN(start.getTime())) {
    showFieldError({ error: 'missing_field', field: 'starts_at' });
    return;
  }
  const doc = $('doctor').value;
  const body = { request: 'create_appointment', starts_at: Math.floor(start.getTime() / 1000) };
  body.doctor_id = doc ? Number(doc) : null;
  const phone = $('appt-phone').value.trim();
  const email = $('appt-email').value.trim();
  const cSms = $('consent-sms').checked;
  const cEmail = $('consent-email').checked;
  // the plugin checks the same; asking first saves a round trip
  const local = [];
  if (phone && !cSms) local.push({ error: 'consent_required', field: 'consent_sms' });
  if (!phone && cSms) local.push({ error: 'missing_field', field: 'phone' });
  if (email && !cEmail) local.push({ error: 'consent_required', field: 'consent_email' });
  if (!email && cEmail) local.push({ error: 'missing_field', field: 'email' });
  const patientName = $('appt-name').value.replace(/\s+/g, ' ').trim();
  const note = $('appt-note').value.replace(/\s+/g, ' ').trim();
  if ([...patientName].length > NAME_MAX) local.push({ error: 'too_long', field: 'patient_name' });
  if ([...note].length > NOTE_MAX) local.push({ error: 'too_long', field: 'note' });
  if (patientName) body.patient_name = patientName;
  if (note) body.note = note;
  if (phone) body.phone = phone;
  if (email) body.email = email;
  if (phone || cSms) body.consent_sms = cSms;
  if (email || cEmail) body.consent_email = cEmail;
  if ($('send-later').checked && (cSms || cEmail)) {
    const v = $('send-at').value;
    const at = v ? new Date(v) : null;
    if (!at || Number.isNaN(at.getTime())) {
      local.push({ error: 'missing_field', field: 'send_at' });
    } else {
      body.send_at = Math.floor(at.getTime() / 1000);
    }
  }
  if (local.length) {
    for (const e of local.reverse()) {
      if (e.field === 'send_at' && e.error === 'missing_field') {
        $('err-send_at').textContent = t('reception.send.at.missing');
        $('err-send_at').hidden = false;
        $('send-at').setAttribute('aria-invalid', 'true');
        $('send-at').focus();
      } else {
        showFieldError(e);
      }
    }
    return;
  }
  $('create').disabled = true;
  try {
    const r = await client.request(body);
    lastResult = {
      appointment_id: r.appointment_id, code: r.code, link: r.link, starts_at: r.starts_at || body.starts_at,
      deliveries: Array.isArray(r.deliveries) ? r.deliveries.slice() : [],
    };
    for (const d of lastResult.deliveries) {
      const ev = recentDeliveries.get(d.delivery_id);
      if (ev) patchDelivery(lastResult.deliveries, ev);
    }
    showError('');
    showNotice('');
    $('copy-done').textContent = '';
    // contact data, name and note leave the form once they are stored
    $('appt-phone').value = '';
    $('appt-email').value = '';
    $('appt-name').value = '';
    $('appt-note').value = '';
    $('consent-sms').checked = false;
    $('consent-email').checked = false;
    $('send-now').checked = true;
    $('send-at').value = '';
    renderResult();
    $('result').scrollIntoView({ block: 'nearest' });
    fetchAppointments();
  } catch (e) {
    if (!showFieldError(e)) showError(errorText(e));
  } finally {
    $('create').disabled = false;
  }
}

async function copyLink() {
  if (!lastResult) return;
  try {
    await navigator.clipboard.writeText(lastResult.link);
  } catch (e) {
    const range = document.createRange();      // fallback: select the link text
    range.selectNodeContents($('result-link'));
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try { document.execCommand('copy'); } catch (e2) { /* user copies by hand */ }
  }
  $('copy-done').textContent = t('reception.copied');
}

function wireForm() {
  $('create-form').addEventListener('submit', createAppointment);
  $('copy-link').addEventListener('click', copyLink);
  // typing a time selects "later"; "now" clears it
  $('send-at').addEventListener('input', () => { if ($('send-at').value) $('send-later').checked = true; });
  $('send-now').addEventListener('change', () => {
    if (!$('send-now').checked) return;
    $('send-at').value = '';
    $('err-send_at').hidden = true;
    $('send-at').removeAttribute('aria-invalid');
  });
  $('send-later').addEventListener('change', () => {
    if ($('send-later').checked && !$('send-at').value) {
      const d = new Date(Date.now() + 60 * 60 * 1000);
      d.setMinutes(0, 0, 0);
      $('send-at').value = localInputValue(d);
    }
  });
  for (const f of FIELDS) {
    const input = $(FIELD_INPUT[f]);
    if (!input) continue;
    input.addEventListener(input.type === 'checkbox' ? 'change' : 'input', () => {
      const el = $('err-' + f);
      if (el && !el.hidden) { el.hidden = true; el.textContent = ''; input.removeAttribute('aria-invalid'); }
    });
  }
  $('list-day').addEventListener('change', fetchAppointments);
  $('list-span').addEventListener('change', fetchAppointments);
  $('day-prev').addEventListener('click', () => shiftDay(-1));
  $('day-next').addEventListener('click', () => shiftDay(1));
  $('day-today').addEventListener('click', () => { $('list-day').value = dateValue(new Date()); fetchAppointments(); });
}

// signalling state for tests (staff.mjs sets .signalling and .reattached)
window.consult = window.consult || {};

startStaff({
  roles: ['reception', 'doctor'],
  consult: window.consult,
  onClient: (c) => {
    c.on('appointment', () => { if (c === client) scheduleRefetch(); });
    c.on('delivery', (ev) => { if (c === client) onDelivery(ev); });
  },
  onLogin: async (c, info) => {
    client = c;
    me = info.display_name || '';
    showNotice('');
    showError('');
    renderAll();
    try {
      const r = await c.request({ request: 'list_doctors' });
      doctors = Array.isArray(r.doctors) ? r.doctors : [];
      renderDoctors();
      if (messages) messages.render();
    } catch (e) { showError(errorText(e)); }
    await fetchAppointments();
  },
  onLogout: () => {
    client = null;
    appointments = [];
    doctors = [];
    lastResult = null;
    me = '';
    clearFieldErrors();
    showNotice('');
    showError('');
    for (const id of ['appt-phone', 'appt-email', 'appt-name', 'appt-note']) $(id).value = '';
    if (messages) messages.reset();
    for (const id of ['consent-sms', 'consent-email']) $(id).checked = false;
    renderAll();
  },
  onReconnecting: () => { client = null; showNotice(t('common.reconnecting')); },
  onUnserved: () => showNotice(t('common.route.unserved')),
});

initLangToggle();
onLangChange(renderAll);
setDefaults();
readRange();
wireForm();
messages = wireMessages({
  client: () => client,
  presets: ['staff.msg.preset.practice.late15', 'staff.msg.preset.practice.late30', 'staff.msg.preset.patience', 'staff.msg.preset.call'],
  targets: messageTargets,
});
renderAll();
// a list that spans "today" rolls over at midnight and queued times age: re-render each minute
setInterval(() => { if (client) renderAppointments(); }, 60 * 1000);
