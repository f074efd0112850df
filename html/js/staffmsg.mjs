// staffmsg.mjs: the short message to waiting patients, shared by doctor.mjs
// and reception.mjs (docs/protocol.md, `message_waiting`).
// Contract: wireMessages({client, presets, targets}) wires the page's
//   #msg-box (details), #msg-form, #msg-target (select), #msg-preset
//   (select: a preset fills #msg-text), #msg-text (1..MAX_CHARS characters,
//   no line breaks: they become spaces), #msg-count ("n/280", data-count,
//   data-over), #msg-error, #msg-send and #msg-result (role=status,
//   data-delivered = the reply's `delivered`, data-target = the value sent).
//   client() -> the logged-in ConsultClient or null; presets: i18n keys;
//   targets() -> [{value, label}] with value "visit:<id>", "appointment:<id>"
//   or "doctor:<id>" (the request's target field). Returns {render(),
//   select(value), reset()}: render() rebuilds the selects (list or language
//   changed; the target the user chose is kept while it exists, else the
//   first one, "all waiting patients", is chosen); select(value) opens the
//   box with that target chosen and focuses the text; reset() (logout)
//   empties text, result and error. Nothing of a message is kept after it
//   was sent (the field is emptied on success).
//   The page holds only the empty details#msg-box.card.msg-box
//   [data-testid=msg-box]; wireMessages() builds its summary ("Nachricht an
//   Wartende") and form (the elements above, with their data-testid, labels
//   and data-i18n texts) once, for the doctor and the reception page alike.
import { t, errorText, applyI18n } from './i18n.mjs';

export const MAX_CHARS = 280;
const FIELDS = { visit: 'visit_id', appointment: 'appointment_id', doctor: 'doctor_id' };
// errors with a text of their own here (staff.msg.err.<error>); others: errorText
const OWN_ERRORS = ['missing_field', 'too_long', 'not_found', 'invalid_utf8', 'invalid_field', 'unknown_request', 'disconnected'];

const $ = (id) => document.getElementById(id);
const chars = (s) => [...s].length;

/** One line of text without control characters, as the plugin accepts it. */
export function cleanText(s) {
  // eslint-disable-next-line no-control-regex
  return String(s || '').replace(/[\r\n\t]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '');
}

/** {"visit_id":17} for "visit:17"; null for anything else. */
export function targetOf(value) {
  const m = /^(visit|appointment|doctor):(\d+)$/.exec(String(value || ''));
  return m ? { [FIELDS[m[1]]]: Number(m[2]) } : null;
}

// The box's content, built once (texts by data-i18n, applyI18n).
// i18n-keys: staff.msg.title staff.msg.to staff.msg.preset staff.msg.text staff.msg.hint staff.msg.send
function buildBox(box) {
  const el = (tag, attrs = {}, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    e.append(...kids);
    return e;
  };
  const field = (id, label, testid) => el('div', {},
    el('label', { for: id, 'data-i18n': label }), el('select', { id, 'data-testid': testid }));
  box.replaceChildren(
    el('summary', { 'data-i18n': 'staff.msg.title' }),
    el('form', { id: 'msg-form', class: 'msg-form', novalidate: '' },
      el('div', { class: 'grid2' },
        field('msg-target', 'staff.msg.to', 'msg-target'),
        field('msg-preset', 'staff.msg.preset', 'msg-preset')),
      el('label', { for: 'msg-text', 'data-i18n': 'staff.msg.text' }),
      el('textarea', { id: 'msg-text', 'data-testid': 'msg-text', maxlength: String(MAX_CHARS), rows: '2', 'aria-describedby': 'msg-count msg-hint' }),
      el('p', { class: 'msg-meta' },
        el('span', { id: 'msg-hint', class: 'field-hint', 'data-i18n': 'staff.msg.hint' }), ' ',
        el('span', { id: 'msg-count', class: 'field-hint msg-count', 'data-testid': 'msg-count' }, `0/${MAX_CHARS}`)),
      el('p', { id: 'msg-error', class: 'field-error', 'data-testid': 'msg-error', role: 'alert', hidden: '' }),
      el('button', { type: 'submit', id: 'msg-send', 'data-testid': 'msg-send', 'data-i18n': 'staff.msg.send' }),
      el('p', { id: 'msg-result', class: 'msg-result', role: 'status', 'aria-live': 'polite', 'data-testid': 'msg-result', 'data-delivered': '' })));
  applyI18n(box);
}

export function wireMessages({ client, presets = [], targets }) {
  const box = $('msg-box');
  if (!$('msg-form')) buildBox(box);
  const text = $('msg-text');
  const sel = $('msg-target');
  const preset = $('msg-preset');
  let result = null;        // [delivered] of the last send, for re-rendering
  let error = null;          // the last error object
  let chosen = '';           // the target the user chose (kept while it exists; else the first)

  function renderCount() {
    const n = chars(text.value);
    const el = $('msg-count');
    el.textContent = t('staff.msg.count', { n, max: MAX_CHARS });
    el.dataset.count = String(n);
    el.dataset.over = String(n > MAX_CHARS);
  }

  function renderResult() {
    const el = $('msg-result');
    if (!result) { el.textContent = ''; el.dataset.delivered = ''; return; }
    const n = result.delivered;
    el.dataset.delivered = String(n);
    el.textContent = n === 0 ? t('staff.msg.sent.none') : n === 1 ? t('staff.msg.sent.one') : t('staff.msg.sent.many', { n });
  }

  function showError(e) {
    error = e;
    const el = $('msg-error');
    if (!e) { el.textContent = ''; el.hidden = true; return; }
    el.textContent = OWN_ERRORS.includes(e.error) ? t(`staff.msg.err.${e.error}`) : errorText(e);
    el.hidden = false;
  }

  function render() {
    const opts = (targets() || []).map(({ value, label }) => {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = label;
      return o;
    });
    if (chosen && !opts.some((o) => o.value === chosen)) {
      // the chosen patient is no longer there: never fall back to "all" silently
      const gone = document.createElement('option');
      gone.value = '';
      gone.textContent = t('staff.msg.to.gone');
      opts.unshift(gone);
      sel.replaceChildren(...opts);
      sel.value = '';
    } else {
      sel.replaceChildren(...opts);
      if (chosen) sel.value = chosen;
      else if (opts.length) sel.selectedIndex = 0;
    }
    $('msg-send').disabled = opts.length === 0;
    const none = document.createElement('option');
    none.value = '';
    none.textContent = t('staff.msg.preset.none');
    preset.replaceChildren(none, ...presets.map((key) => {
      const o = document.createElement('option');
      o.value = key;
      o.textContent = t(key);
      return o;
    }));
    renderCount();
    renderResult();
    if (error) showError(error);
  }

  function select(value) {
    chosen = value;
    render();
    box.open = true;
    box.scrollIntoView({ block: 'nearest' });
    text.focus();
  }

  async function send(ev) {
    ev.preventDefault();
    const c = client();
    const body = cleanText(text.value).trim();
    const target = targetOf(sel.value);
    showError(null);
    result = null;
    renderResult();
    if (!body) { showError({ error: 'missing_field' }); text.focus(); return; }
    if (chars(body) > MAX_CHARS) { showError({ error: 'too_long' }); text.focus(); return; }
    if (!c || !target) { showError({ error: c ? 'not_found' : 'disconnected' }); return; }
    const btn = $('msg-send');
    btn.disabled = true;
    try {
      const r = await c.request({ request: 'message_waiting', text: body, ...target });
      result = { delivered: Number(r && r.delivered) || 0 };
      $('msg-result').dataset.target = sel.value;
      text.value = '';
      preset.value = '';
      renderCount();
      renderResult();
    } catch (e) {
      showError(e);
    } finally {
      btn.disabled = sel.options.length === 0;
    }
  }

  text.addEventListener('input', () => {
    let clean = cleanText(text.value);
    if (chars(clean) > MAX_CHARS) clean = [...clean].slice(0, MAX_CHARS).join('');   // a paste past the limit
    if (clean !== text.value) text.value = clean;
    renderCount();
  });
  text.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); $('msg-form').requestSubmit(); }
  });
  preset.addEventListener('change', () => {
    if (preset.value) { text.value = t(preset.value); renderCount(); text.focus(); }
  });
  sel.addEventListener('change', () => { chosen = sel.value; result = null; renderResult(); showError(null); });
  function reset() {
    text.value = '';
    chosen = '';
    result = null;
    showError(null);
    box.open = false;
    render();
  }

  $('msg-form').addEventListener('submit', send);
  render();
  return { render, select, reset };
}
