// reception.mjs: the reception page. Contract (docs/dom.md): login, then
// create appointments (#doctor, #date, #time, #create -> #result-link,
// #result-code) and today's list in #appointments (rows with
// data-appointment-id, .status[data-status], button.cancel). The list is
// re-fetched on every `appointment` event (debounced).
import { t, errorText, initLangToggle, onLangChange, fmtTime, fmtDate } from './i18n.mjs';
import { startStaff } from './staff.mjs';

const $ = (id) => document.getElementById(id);
let client = null;
let appointments = [];
let doctors = [];
let refetchTimer = null;
let lastResult = null;
let me = '';

function pad(n) { return String(n).padStart(2, '0'); }

function setDefaults() {
  const d = new Date();
  d.setSeconds(0, 0);
  const q = 15 - (d.getMinutes() % 15);
  d.setMinutes(d.getMinutes() + q);          // next quarter hour
  $('date').value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  $('time').value = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function showError(text) {
  $('error').textContent = text || '';
  $('error').hidden = !text;
}

function showNotice(text) {
  $('notice').textContent = text || '';
  $('notice').hidden = !text;
}

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

function renderAppointments() {
  const body = $('appointments');
  const rows = [...appointments].sort((a, b) => a.starts_at - b.starts_at || a.id - b.id);
  body.replaceChildren();
  for (const a of rows) {
    const tr = document.createElement('tr');
    tr.dataset.appointmentId = String(a.id);
    const inactive = a.status === 'cancelled' || a.status === 'ended';
    if (inactive) tr.classList.add('inactive');
    const cell = (text) => { const td = document.createElement('td'); td.textContent = text; tr.appendChild(td); return td; };
    cell(fmtTime(a.starts_at));
    cell(a.doctor_name || t('common.any.doctor'));
    cell(a.patient || '–');
    const st = document.createElement('span');
    st.className = 'status';
    st.dataset.status = a.status;
    st.textContent = t('status.' + a.status);
    cell('').appendChild(st);
    const td = cell('');
    if (a.status !== 'cancelled' && a.status !== 'ended') {
      const btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'cancel secondary';
      btn.textContent = t('reception.cancel');
      btn.setAttribute('aria-label', t('reception.cancel') + ' ' + fmtTime(a.starts_at));
      btn.addEventListener('click', () => cancelAppointment(a));
      td.appendChild(btn);
    }
    body.appendChild(tr);
  }
  $('appointments-empty').hidden = rows.length > 0;
}

function renderResult() {
  if (!lastResult) { $('result').hidden = true; return; }
  $('result').hidden = false;
  $('result-code').textContent = lastResult.code;
  $('result-link').textContent = lastResult.link;
  $('result-link').href = lastResult.link;
  $('result-when').textContent = t('reception.created.at', { date: fmtDate(lastResult.starts_at), time: fmtTime(lastResult.starts_at) });
}

function renderAll() {
  renderDoctors();
  renderAppointments();
  renderResult();
  $('who').textContent = me;
}

async function fetchAppointments() {
  if (!client) return;
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  const from = Math.floor(d.getTime() / 1000);
  try {
    const r = await client.request({ request: 'list_appointments', from, to: from + 86400 });
    appointments = Array.isArray(r.appointments) ? r.appointments : [];
    renderAppointments();
  } catch (e) {
    showError(errorText(e));
  }
}

function scheduleRefetch() {
  clearTimeout(refetchTimer);
  refetchTimer = setTimeout(fetchAppointments, 150);
}

async function cancelAppointment(a) {
  if (!client) return;
  if (!window.confirm(t('reception.cancel.confirm', { time: fmtTime(a.starts_at) }))) return;
  try {
    await client.request({ request: 'cancel_appointment', appointment_id: a.id });
    showError('');
  } catch (e) {
    showError(errorText(e));
  }
  fetchAppointments();
}

async function createAppointment(ev) {
  ev.preventDefault();
  if (!client) return;
  const date = $('date').value;
  const time = $('time').value;
  const when = new Date(`${date}T${time}`);
  if (!date || !time || Number.isNaN(when.getTime())) {
    showError(t('err.invalid_field'));
    return;
  }
  const doc = $('doctor').value;
  const body = { request: 'create_appointment', starts_at: Math.floor(when.getTime() / 1000) };
  body.doctor_id = doc ? Number(doc) : null;
  $('create').disabled = true;
  try {
    const r = await client.request(body);
    lastResult = { code: r.code, link: r.link, starts_at: r.starts_at || body.starts_at };
    showError('');
    $('copy-done').textContent = '';
    renderResult();
    $('result').scrollIntoView({ block: 'nearest' });
    fetchAppointments();
  } catch (e) {
    showError(errorText(e));
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

startStaff({
  roles: ['reception', 'doctor'],
  onClient: (c) => {
    c.on('appointment', () => { if (c === client) scheduleRefetch(); });
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
    } catch (e) { showError(errorText(e)); }
    await fetchAppointments();
  },
  onLogout: () => {
    client = null;
    appointments = [];
    doctors = [];
    lastResult = null;
    me = '';
    renderAll();
  },
  onReconnecting: () => { client = null; showNotice(t('common.reconnecting')); },
});

initLangToggle();
onLangChange(renderAll);
setDefaults();
$('create-form').addEventListener('submit', createAppointment);
$('copy-link').addEventListener('click', copyLink);
renderAll();
