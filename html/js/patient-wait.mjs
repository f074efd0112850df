// patient-wait.mjs: the patient page's green box and leaving it
// (docs/pages.md, #waiting, #leave-dialog, #left).
// #waiting has data-ahead="N" from `position` events and the join reply
// (older seq numbers are ignored); #wait-estimate [data-testid=wait-estimate]
// "Geschätzte Wartezeit: etwa 10–20 Minuten" (data-min, data-max) only while
// the newest position carries wait_min/wait_max (enough history today),
// else hidden: the count stays. #practice-message [data-testid=practice-
// message] (role=status, aria-live) holds the newest message of the
// practice (event `message`, or the join reply's `message`): "Nachricht von
// Dr. Weber · 10:05 Uhr" / "Nachricht Ihrer Praxis · …" and the text
// (#message-text, as text, never HTML).
// Leaving: #leave opens dialog#leave-dialog (modal, Esc or "Nein, weiter
// warten" keeps waiting, focus starts on that button); "Ja, verlassen" calls
// page.leave().
// Contract: const wait = waitingRoom(page)
//   wait.joined(reply)        position, estimate and message of a join reply
//   wait.position(ev)         a `position` event
//   wait.message(ev)          a `message` event
//   wait.render()             texts (language)
//   wait.closeDialog()        the dialog closes (a ring, the page leaves the room)
//   wait.wire()
import { t, fmtTime } from './i18n.mjs';

export function waitingRoom(page) {
  const $ = (id) => document.getElementById(id);
  let ahead = null;
  let lastSeq = -1;
  let appointmentAt = null;
  let estimate = null;            // {min, max} or null
  let message = null;             // {text, from, sent_at} or null

  function validEstimate(o) {
    const lo = o && o.wait_min;
    const hi = o && o.wait_max;
    return Number.isInteger(lo) && Number.isInteger(hi) && lo >= 0 && hi >= lo ? { min: lo, max: hi } : null;
  }

  function renderAhead() {
    if (ahead === null) return;
    $('waiting').dataset.ahead = String(ahead);
    const text = ahead === 0 ? t('patient.ahead.0') : ahead === 1 ? t('patient.ahead.1') : t('patient.ahead.n', { n: ahead });
    if ($('ahead-text').textContent !== text) $('ahead-text').textContent = text;
    $('appointment-text').textContent = appointmentAt ? t('patient.appointment', { time: fmtTime(appointmentAt) }) : '';
    const el = $('wait-estimate');
    el.hidden = !estimate;
    el.dataset.min = estimate ? String(estimate.min) : '';
    el.dataset.max = estimate ? String(estimate.max) : '';
    const est = !estimate ? '' : estimate.min === 0 ? t('patient.wait.estimate.upto', { max: estimate.max })
      : t('patient.wait.estimate', { min: estimate.min, max: estimate.max });
    if (el.textContent !== est) el.textContent = est;
  }

  function applyPosition(o) {
    if (!o || typeof o.ahead !== 'number') return;
    if (typeof o.seq === 'number') {
      if (o.seq <= lastSeq) return;
      lastSeq = o.seq;
    }
    ahead = o.ahead;
    estimate = validEstimate(o);
    renderAhead();
  }

  function validMessage(m) {
    return m && typeof m.text === 'string' && m.text ? {
      text: m.text,
      from: typeof m.from === 'string' && m.from ? m.from : null,
      sent_at: Number.isFinite(m.sent_at) ? m.sent_at : null,
    } : null;
  }

  function renderMessage() {
    const box = $('practice-message');
    box.hidden = !message;
    box.dataset.from = message && message.from ? message.from : '';
    if (!message) return;
    const time = message.sent_at ? fmtTime(message.sent_at) : '';
    const key = message.from ? (time ? 'patient.message.from' : 'patient.message.from.notime')
      : (time ? 'patient.message.practice' : 'patient.message.practice.notime');
    $('message-from').textContent = t(key, { from: message.from, time });
    $('message-text').textContent = message.text;
  }

  function setMessage(m) {
    const next = validMessage(m);
    if (JSON.stringify(next) === JSON.stringify(message)) return;   // no repeat for screen readers
    message = next;
    renderMessage();
  }

  function joined(r) {
    appointmentAt = r.appointment_at || null;
    lastSeq = -1;
    applyPosition(r);
    setMessage(r.message || null);   // the server keeps the newest one with the visit
  }

  // ---- leaving -------------------------------------------------------------------
  function askLeave() {
    const dlg = $('leave-dialog');
    if (typeof dlg.showModal !== 'function') {
      if (window.confirm(t('patient.leave.confirm.title') + '\n\n' + t('patient.leave.confirm.text'))) page.leave();
      return;
    }
    dlg.returnValue = '';
    dlg.showModal();
    $('leave-stay').focus();
  }

  function onDialogClose() {
    const dlg = $('leave-dialog');
    if (dlg.returnValue === 'leave' && page.consult.state === 'waiting') page.leave();
    else if (!$('leave').hidden) $('leave').focus();
  }

  function closeDialog() {
    const dlg = $('leave-dialog');
    if (dlg.open) dlg.close('');
  }

  function wire() {
    $('leave').addEventListener('click', askLeave);
    $('leave-dialog').addEventListener('close', onDialogClose);
  }

  return {
    joined, wire, closeDialog,
    position: applyPosition,
    message: (ev) => setMessage(ev),
    render() { renderAhead(); renderMessage(); },
  };
}
