// i18n.mjs: the language of the consult pages and their strings; one
// dictionary module per language in i18n/ (de.mjs is the reference).
// Contract: lang() is 'de' (default) or 'en' (?lang=en). t(key, vars)
// returns the string with {name} placeholders filled (unknown key: the key).
// applyI18n(root) sets textContent of [data-i18n], and attributes via
// [data-i18n-placeholder] / [data-i18n-aria-label] / [data-i18n-title].
// initLangToggle() wires button#lang; onLangChange(fn) re-renders dynamic text.
// errorText(err, vars) maps a ConsultError (error name) to a readable text.

import de from './i18n/de.mjs';
import en from './i18n/en.mjs';

const strings = { de, en };
const listeners = new Set();
let current = detect();

function detect() {
  try {
    const q = new URLSearchParams(location.search).get('lang');
    if (q === 'en' || q === 'de') return q;
  } catch (e) { /* ignore */ }
  return 'de';
}

export function lang() { return current; }

export function t(key, vars) {
  let s = strings[current][key];
  if (s === undefined) s = de[key];
  if (s === undefined) return key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined && vars[k] !== null ? String(vars[k]) : ''));
  return s;
}

export function errorText(err, vars = {}) {
  const name = (err && err.error) || 'generic';
  const v = { ...vars };
  if (name === 'rate_limited') v.secs = (err && err.retry_after) || 60;
  if (name === 'busy') v.secs = (err && err.retry_after) || 1;
  const key = 'err.' + name;
  return strings.de[key] ? t(key, v) : t('err.generic');
}

export function applyI18n(root = document) {
  document.documentElement.lang = current;
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  for (const attr of ['placeholder', 'aria-label', 'title']) {
    const data = 'data-i18n-' + attr;
    root.querySelectorAll('[' + data + ']').forEach((el) => { el.setAttribute(attr, t(el.getAttribute(data))); });
  }
}

export function setLang(l) {
  if (!strings[l] || l === current) return;
  current = l;
  try {
    const u = new URL(location.href);
    if (l === 'de') u.searchParams.delete('lang'); else u.searchParams.set('lang', l);
    history.replaceState(history.state, '', u.pathname + u.search + u.hash);
  } catch (e) { /* ignore */ }
  applyI18n();
  for (const fn of listeners) fn(current);
}

export function onLangChange(fn) { listeners.add(fn); }

/** Wires button#lang (if present) and applies the current language. */
export function initLangToggle() {
  applyI18n();
  const btn = document.getElementById('lang');
  if (btn) {
    btn.addEventListener('click', () => setLang(current === 'de' ? 'en' : 'de'));
  }
}

/** Local time HH:MM of a Unix-seconds timestamp. */
export function fmtTime(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleTimeString(current === 'en' ? 'en-GB' : 'de-DE', { hour: '2-digit', minute: '2-digit' });
}

/** Long local date, e.g. "Montag, 30. November 2026". */
export function fmtDateLong(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleDateString(current === 'en' ? 'en-GB' : 'de-DE', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

/** Short local day, e.g. "Mo., 30.11.". */
export function fmtDay(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleDateString(current === 'en' ? 'en-GB' : 'de-DE', { weekday: 'short', day: '2-digit', month: '2-digit' });
}

/** Local date of a Unix-seconds timestamp. */
export function fmtDate(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleDateString(current === 'en' ? 'en-GB' : 'de-DE', { day: '2-digit', month: '2-digit', year: 'numeric' });
}
