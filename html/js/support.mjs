// support.mjs: can this browser hold a video consultation at all?
// (docs/pages.md, "Browsers that cannot hold a call")
// A call needs RTCPeerConnection (WebRTC), navigator.mediaDevices.getUserMedia
// (camera and microphone; only in a secure context) and WebSocket (the
// signalling). Without one of them the patient could wait, but the call the
// doctor starts could never connect: so the patient page says so at once,
// before "Sitzung starten", with the practice's phone number and what to
// use instead, and does not join.
// Contract:
//   browserSupport(win = window) -> { calls, missing }: missing lists what
//     is absent ('webrtc', 'media', 'websocket'); calls = missing is empty.
//     'insecure' is added beside 'media' when the page is not in a secure
//     context (http:): then the server, not the browser, is at fault.
//   unsupportedNotice(page, support = browserSupport()) -> null when calls
//     are possible; else { render() } after it has set body[data-calls=none]
//     (consult.css hides #join-form then) and created
//     section#unsupported [data-testid=unsupported][data-missing="webrtc …"]
//     (a region named by its h2) before #appt-info: a title, what to do
//     (another browser; for 'insecure' only: call the practice),
//     #unsupported-phone [data-testid=unsupported-phone] "Fragen? Rufen Sie
//     Ihre Praxis an: <phone>" (a tel: link; without a known phone: "wenden
//     Sie sich an Ihre Praxis"), the personal link with the code
//     (input#unsupported-link readonly, button#unsupported-copy "Link
//     kopieren", the result in #unsupported-copied, aria-live) and a hint
//     for links opened inside an app. render() fills the texts in the
//     current language from page.practice.phone and page.stored.code; call
//     it again when either changes. The page must not join while it exists.
import { t } from './i18n.mjs';

export function browserSupport(win = window) {
  const missing = [];
  if (typeof win.RTCPeerConnection !== 'function') missing.push('webrtc');
  const md = win.navigator && win.navigator.mediaDevices;
  if (!md || typeof md.getUserMedia !== 'function') {
    missing.push('media');
    if (win.isSecureContext === false) missing.push('insecure');
  }
  if (typeof win.WebSocket !== 'function') missing.push('websocket');
  return { calls: missing.length === 0, missing };
}

export function unsupportedNotice(page, support = browserSupport()) {
  if (support.calls) return null;
  const $ = (id) => document.getElementById(id);
  const insecure = support.missing.includes('insecure');
  document.body.dataset.calls = 'none';

  const el = (tag, props = {}) => Object.assign(document.createElement(tag), props);
  const box = el('section', { id: 'unsupported', className: 'notice unsupported' });
  box.dataset.testid = 'unsupported';
  box.dataset.missing = support.missing.join(' ');
  box.setAttribute('aria-labelledby', 'unsupported-title');
  const title = el('h2', { id: 'unsupported-title' });
  const what = el('p', { id: 'unsupported-what' });
  const inApp = el('p', { id: 'unsupported-app', className: 'small' });
  const linkLabel = el('label', { htmlFor: 'unsupported-link' });
  const link = el('input', { id: 'unsupported-link', type: 'text', readOnly: true, spellcheck: false, dir: 'ltr' });
  link.setAttribute('autocomplete', 'off');
  const copy = el('button', { id: 'unsupported-copy', type: 'button', className: 'secondary' });
  const copied = el('p', { id: 'unsupported-copied', className: 'small' });
  copied.setAttribute('role', 'status');
  copied.setAttribute('aria-live', 'polite');
  const phone = el('p', { id: 'unsupported-phone' });
  phone.dataset.testid = 'unsupported-phone';
  const linkRow = el('div', { className: 'unsupported-link' });
  linkRow.append(linkLabel, link, copy, copied);
  box.append(title, what, phone, linkRow, inApp);   // the phone number high up: visible on a small phone
  if (insecure) { inApp.hidden = true; linkRow.hidden = true; }
  const before = $('appt-info') || $('join-form');
  before.parentNode.insertBefore(box, before);

  let copiedKey = null;

  // The link from the invitation, with the code the page took from it.
  function personalLink() {
    const code = page.stored && page.stored.code;
    return location.origin + location.pathname + location.search + (code ? '#' + encodeURIComponent(code) : '');
  }

  async function copyLink() {
    link.focus();
    link.select();
    let ok = false;
    try {
      await navigator.clipboard.writeText(link.value);
      ok = true;
    } catch (e) {
      try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
    }
    copiedKey = ok ? 'support.copied' : 'support.copy.failed';
    render();
  }
  copy.addEventListener('click', () => { copyLink(); });
  link.addEventListener('focus', () => link.select());

  function render() {
    title.textContent = t(insecure ? 'support.insecure.title' : 'support.title');
    what.textContent = t(insecure ? 'support.insecure.text' : 'support.text');
    inApp.textContent = t('support.app');
    linkLabel.textContent = t('support.link');
    link.value = personalLink();
    copy.textContent = t('support.copy');
    copied.textContent = copiedKey ? t(copiedKey) : '';
    const number = page.practice && page.practice.phone;
    if (number) {
      const a = el('a', { href: 'tel:' + number.replace(/[^0-9+]/g, ''), textContent: number, dir: 'ltr' });   // digits in order in Arabic too
      phone.replaceChildren(t('support.phone') + ': ', a, '.');
    } else {
      phone.replaceChildren(t('support.phone.none'));
    }
  }

  render();
  return { render, missing: support.missing };
}
