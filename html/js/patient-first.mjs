// patient-first.mjs: the patient page's first page, before joining
// (docs/pages.md, "html/patient.html?p=<practice slug>#<code>").
// The code is read from the URL fragment, removed from the visible URL, and
// kept in sessionStorage (per practice) with the name, so a reload or a
// dropped connection rejoins with the same code and name.
// practice_info and appointment_info {practice, code} fill #practice-name and
// #appt-info (#appt-time, #appt-doctor, #appt-opens[data-open]); while the
// waiting room is closed (open:false or join -> too_early) #start stays
// disabled and the code is asked about again at opens_at. code_invalid shows
// #error > #code-error with the practice phone as a tel: link (never saying
// whether the code existed) and the code field; the phone is asked for
// (practice_info) if it is not known yet. A practice the server does not know
// (a mangled link) shows "patient.link.broken" instead of "code invalid".
// linkParts() repairs what mail and SMS apps do to the link: '#' sent as
// %23 (the code inside ?p=), punctuation glued to the slug or the code.
// A join that failed `internal` INTERNAL_TRIES times shows #error > #internal-error.
// #legal-terms-details / #legal-privacy-details load /legal/*.html on open.
// Contract: linkParts() -> {slug, code} of this page's link (repaired)
//   takeCodeFromUrl(stored) -> stored with the link's code; the code leaves the URL
//   const first = firstPage(page)   page: patient.mjs' shared state
//   first.load()          practice_info (+ appointment_info for a stored code)
//   first.validate()      the form's input: true when a join may go out
//   first.render()        #practice-name, #appt-info, errors (language)
//   first.renderState(s)  #start / #appt-info for the page state s
//   first.joined()        stops asking appointment_info
//   first.showError(text) #error ('' hides it)
//   first.showJoinError(e) why the join failed
//   first.wire()          the code field and the legal texts
import { t, errorText, fmtTime, fmtDateLong } from './i18n.mjs';

export const INTERNAL_TRIES = 3;       // join answered `internal`: tries before "call the practice"

export function loadStored(key) {
  try { return JSON.parse(sessionStorage.getItem(key)) || {}; } catch (e) { return {}; }
}

export function saveStored(key, value) {
  try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
}

function decoded(s) {
  try { return decodeURIComponent(s); } catch (e) { return s; }
}

/** Slug and code of the link ?p=<slug>#<code>, repaired: a '#' that arrived as
 *  %23 (the code then sits in p), punctuation or spaces glued to either end. */
export function linkParts(loc = location) {
  let p = new URLSearchParams(loc.search).get('p') || '';
  let code = loc.hash.length > 1 ? decoded(loc.hash.slice(1)) : '';
  const cut = p.indexOf('#');
  if (cut >= 0) {
    if (!code) code = p.slice(cut + 1);
    p = p.slice(0, cut);
  }
  const slug = (/[a-z0-9-]+/.exec(p.trim().toLowerCase()) || [''])[0];   // the slug's characters only
  code = code.replace(/^[^0-9a-z]+|[^0-9a-z]+$/gi, '').slice(0, 32);
  return { slug, code };
}

/** The code of the link (a new code starts a new stored session); the code leaves the visible URL. */
export function takeCodeFromUrl(stored) {
  const { slug, code } = linkParts();
  const params = new URLSearchParams(location.search);
  const raw = params.get('p');
  if (!code && (raw === null || raw === slug)) return stored;
  const next = code && code !== stored.code ? { code } : stored;
  if (raw !== null) params.set('p', slug);
  const q = params.toString();
  history.replaceState(null, '', location.pathname + (q ? '?' + q : ''));
  return next;
}

export function firstPage(page) {
  const $ = (id) => document.getElementById(id);
  let apptInfo = null;                   // appointment_info reply
  let gateUntil = 0;                     // waiting room closed until (unix), 0 = open/unknown
  let gateTimer = null;
  let tooEarlyShown = false;             // #error shows the too_early text
  let codeInvalid = false;               // #error shows #code-error
  let codeCheckSeq = 0;
  let checkedCode = '';                  // the code appointment_info was last asked about
  let practiceKnown = false;             // practice_info answered
  let practiceUnknown = false;           // practice_info: no such practice (a mangled link)
  let practiceAsk = null;                // practice_info in flight
  let linkBrokenShown = false;           // #error shows patient.link.broken

  function showError(text) {
    codeInvalid = false;
    tooEarlyShown = false;
    linkBrokenShown = false;
    $('error').textContent = text || '';
    $('error').hidden = !text;
  }

  function renderPractice() {
    $('practice-name').textContent = page.practice.name || '';
  }

  function renderState(s) {
    $('start').disabled = s === 'joining' || gateUntil > 0;
    $('appt-info').hidden = !(apptInfo && (s === 'form' || s === 'joining'));
  }

  function setPractice(p) {
    if (!p) return;
    page.practice = { name: p.name || page.practice.name || '', phone: p.phone || page.practice.phone || '' };
    renderPractice();
  }

  // practice_info (once it answered, never again); a practice the server
  // does not know marks the link as broken.
  function askPractice() {
    if (!practiceAsk) {
      practiceAsk = (async () => {
        try {
          const c = await page.ensureClient();
          setPractice(await c.request({ request: 'practice_info', practice: page.slug }));
          practiceKnown = true;
        } catch (e) {
          if (e.error === 'not_found' || e.error === 'invalid_field') { practiceKnown = practiceUnknown = true; }
          throw e;
        } finally {
          practiceAsk = null;
        }
      })();
    }
    return practiceAsk;
  }

  async function load() {
    if (!page.slug) { showError(t('patient.missing.practice')); $('start').disabled = true; return; }
    let codeCheck = Promise.resolve();
    try {
      await page.ensureClient();
      // in parallel; not after leaving (that page asks by itself)
      if (page.stored.code && !page.stored.joined && !page.stored.left) codeCheck = checkCode(page.stored.code);
      await askPractice();
    } catch (e) {
      if (practiceUnknown) showLinkBroken();
      else showError(errorText(e));
    }
    await codeCheck;
    render();
  }

  function showLinkBroken() {
    showError(t('patient.link.broken'));
    linkBrokenShown = true;
  }

  // appointment_info for `code`; renders #appt-info or the code error.
  async function checkCode(code) {
    clearTimeout(gateTimer);
    checkedCode = code;
    const seq = ++codeCheckSeq;
    let r;
    try {
      const c = await page.ensureClient();
      r = await c.request({ request: 'appointment_info', practice: page.slug, code });
    } catch (e) {
      if (seq !== codeCheckSeq) return;
      if (e.error === 'code_invalid') {
        apptInfo = null;
        setGate(0);
        showCodeInvalid();
      } else if (e.error === 'rate_limited') {
        showError(errorText(e));
        gateTimer = setTimeout(() => checkCode(code), Math.max(5, e.retry_after || 60) * 1000);
      } else if (gateUntil && Date.now() / 1000 >= gateUntil) {
        setGate(0);                 // cannot ask now (transport): the join will tell
      }
      renderFirstPage();
      return;
    }
    if (seq !== codeCheckSeq) return;
    apptInfo = r;
    setPractice(r.practice);
    if (codeInvalid) showError('');
    setGate(r.open === false && r.opens_at ? r.opens_at : 0);
    renderFirstPage();
  }

  // Closes the start button until `until` (unix; 0 opens) and asks again then.
  function setGate(until) {
    clearTimeout(gateTimer);
    gateUntil = until || 0;
    $('start').disabled = page.consult.state === 'joining' || gateUntil > 0;
    if (!gateUntil) {
      if (tooEarlyShown) showError('');
      return;
    }
    const left = gateUntil * 1000 - Date.now();
    const ms = left <= 0 ? 15000 : Math.min(left + 500, 30 * 60 * 1000);
    gateTimer = setTimeout(() => {
      if (page.consult.state === 'form' && checkedCode) checkCode(checkedCode);
      else if (Date.now() / 1000 >= gateUntil) setGate(0);
    }, ms);
  }

  function renderFirstPage() {
    const a = apptInfo;
    $('appt-info').hidden = !(a && (page.consult.state === 'form' || page.consult.state === 'joining'));
    if (a) {
      $('appt-time').textContent = a.appointment_at
        ? t('patient.appt.when', { date: fmtDateLong(a.appointment_at), time: fmtTime(a.appointment_at) }) : '';
      $('appt-doctor').hidden = !a.doctor;
      $('appt-doctor').textContent = a.doctor ? t('patient.appt.doctor', { doctor: a.doctor }) : '';
    }
    const opens = gateUntil || (a && a.open === false ? a.opens_at : 0);
    const el = $('appt-opens');
    el.dataset.open = String(!opens);
    el.textContent = opens ? t('patient.appt.opens', { date: fmtDateLong(opens), time: fmtTime(opens) }) : t('patient.appt.open');
    if (codeInvalid) showCodeInvalid();
    else if (linkBrokenShown) showLinkBroken();
    else if (tooEarlyShown && gateUntil) showTooEarly(gateUntil);
  }

  function render() {
    renderPractice();
    renderFirstPage();
  }

  // #error > span#<id> "<text>: <phone as tel: link>."
  function showCallText(id, key) {
    const span = document.createElement('span');
    span.id = id;
    span.dataset.testid = id;
    span.append(t(key));
    const phone = page.practice.phone;
    if (phone) {
      span.append(': ');
      const a = document.createElement('a');
      a.dir = 'ltr';                        // digits keep their order in right-to-left text
      a.href = 'tel:' + phone.replace(/[^0-9+]/g, '');
      a.textContent = phone;
      span.append(a);
    }
    span.append('.');
    tooEarlyShown = false;
    codeInvalid = false;
    $('error').replaceChildren(span);
    $('error').hidden = false;
  }

  // The one message for unknown, cancelled, expired and foreign codes; for a
  // practice the server does not know, that the link is broken. Without the
  // practice's phone yet (practice_info still out or failed), it is asked for.
  function showCodeInvalid() {
    if (practiceUnknown) { showLinkBroken(); return; }
    showCallText('code-error', 'patient.code.invalid');
    codeInvalid = true;
    if (!practiceKnown && page.slug) {
      askPractice().catch(() => {}).then(() => { if (codeInvalid && practiceKnown) showCodeInvalid(); });
    }
    if ($('code-row').hidden) {            // let the patient type another code
      $('code-row').hidden = false;
      if (!$('code-input').value && page.stored.code) $('code-input').value = page.stored.code;
    }
  }

  function showTooEarly(opensAt) {
    showError(t('patient.too.early', { date: fmtDateLong(opensAt), time: fmtTime(opensAt) }));
    tooEarlyShown = true;
  }

  function showJoinError(e) {
    if (e.error === 'code_invalid') {
      apptInfo = null;
      setGate(0);
      showCodeInvalid();
    } else if (e.error === 'too_early' && e.data && typeof e.data.opens_at === 'number') {
      if (apptInfo) apptInfo = { ...apptInfo, open: false, opens_at: e.data.opens_at };
      setGate(e.data.opens_at);
      showTooEarly(e.data.opens_at);
    } else if (e.error === 'internal') {
      showCallText('internal-error', 'patient.internal.call');   // the server failed INTERNAL_TRIES times
    } else {
      showError(errorText(e, { phone: page.phoneSuffix() }));
    }
    renderFirstPage();
  }

  function validate() {
    const first = $('first-name').value.trim();
    const last = $('last-name').value.trim();
    const stored = page.stored;
    if (!$('code-row').hidden) {
      const code = $('code-input').value.trim();
      if (!code) { showError(t('patient.missing.code')); $('code-input').focus(); return false; }
      stored.code = code.slice(0, 32);
    }
    if (!page.slug) { showError(t('patient.missing.practice')); return false; }
    if (!stored.code) { $('code-row').hidden = false; showError(t('patient.missing.code')); return false; }
    if (gateUntil > Date.now() / 1000) { showTooEarly(gateUntil); return false; }
    if (!first || !last) { showError(t('patient.missing.name')); (first ? $('last-name') : $('first-name')).focus(); return false; }
    if (!$('accept-terms').checked) { showError(t('patient.missing.terms')); $('accept-terms').focus(); return false; }
    stored.first = first;
    stored.last = last;
    return true;
  }

  // Full legal texts inside the page: fetched from /legal/ on first open.
  async function loadLegal(det) {
    if (!det.open || det.dataset.loaded) return;
    det.dataset.loaded = 'loading';
    const box = det.querySelector('.legal-text');
    box.textContent = t('patient.legal.loading');
    try {
      const res = await fetch(det.dataset.src, { credentials: 'omit', cache: 'no-cache' });
      if (!res.ok) throw new Error('http ' + res.status);
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const main = doc.querySelector('main') || doc.body;
      main.querySelectorAll('script, style, link, meta, iframe, object, embed, form, img, header, footer, nav').forEach((el) => el.remove());
      for (const el of main.querySelectorAll('*')) {
        for (const a of [...el.attributes]) {
          if (/^on/i.test(a.name) || a.name === 'id' || a.name === 'style' || (a.name === 'href' && /^\s*javascript:/i.test(a.value))) el.removeAttribute(a.name);
        }
        if (el.tagName === 'A') { el.target = '_blank'; el.rel = 'noopener'; }
      }
      box.replaceChildren(...[...main.childNodes].map((n) => document.importNode(n, true)));
      det.dataset.loaded = 'yes';
    } catch (e) {
      box.textContent = t('patient.legal.failed');
      delete det.dataset.loaded;
    }
  }

  function wire() {
    $('code-row').hidden = !!page.stored.code;
    if (page.stored.first) $('first-name').value = page.stored.first;
    if (page.stored.last) $('last-name').value = page.stored.last;
    $('code-input').addEventListener('change', () => {
      const v = $('code-input').value.trim().slice(0, 32);
      if (page.slug && v.replace(/[\s-]/g, '').length === 12 && page.consult.state === 'form') checkCode(v);
    });
    for (const det of document.querySelectorAll('details.legal')) {
      det.addEventListener('toggle', () => loadLegal(det));
    }
  }

  return {
    load, validate, render, renderState, showError, showJoinError, wire, setPractice,
    joined() { clearTimeout(gateTimer); },
  };
}
