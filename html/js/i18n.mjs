// i18n.mjs: the language of the consult pages and their strings; one
// dictionary module per language in i18n/ (de.mjs is the reference).
// Languages: a page offers those of <html data-langs="de en tr ar ru uk pl">
// (the patient pages); without data-langs only de and en (staff pages).
// Contract: lang() is the page's language, chosen once at load from
//   ?lang=xx (then remembered), else the remembered choice (localStorage
//   consult.lang: the last ?lang or switch), else -
//   only on pages with data-langs - the first of navigator.languages the
//   page offers, else 'de'; always one the page offers.
// t(key, vars) returns the string with {name} placeholders filled; in a
// right-to-left language each filled value is a bidi isolate (U+2068 ...
// U+2069) so phone numbers, times and Latin names keep their order. A key
// missing in the language falls back to German (de.mjs) and is reported;
// an unknown key returns the key itself and is reported: console.error and
// <html data-i18n-missing="key ..."> / data-i18n-fallback="key ..." (the
// browser tests read them). Staff keys exist in de and en only: staff pages
// never run in tr/ar/ru/uk/pl, and a stray staff key there would be German.
// applyI18n(root) sets <html lang dir>, textContent of [data-i18n], and
// attributes via [data-i18n-placeholder] / [data-i18n-aria-label] /
// [data-i18n-title]. initLangToggle() wires #lang: a <select> (filled with
// the page's languages, each in its own name) or a button (de <-> en);
// setLang(l) switches, remembers the choice and keeps ?lang=l in the URL;
// onLangChange(fn) re-renders dynamic text.
// errorText(err, vars) maps a ConsultError (error name) to a readable text.
// langInfo(l) -> {name, dir, locale}; pageLangs() the page's languages.

import de from './i18n/de.mjs';
import en from './i18n/en.mjs';
import tr from './i18n/tr.mjs';
import ar from './i18n/ar.mjs';
import ru from './i18n/ru.mjs';
import uk from './i18n/uk.mjs';
import pl from './i18n/pl.mjs';

const strings = { de, en, tr, ar, ru, uk, pl };
// Each language in its own name; locale for dates and times (Arabic with
// Latin digits, as phone numbers and codes are written).
const INFO = {
  de: { name: 'Deutsch', dir: 'ltr', locale: 'de-DE' },
  en: { name: 'English', dir: 'ltr', locale: 'en-GB' },
  tr: { name: 'Türkçe', dir: 'ltr', locale: 'tr-TR' },
  ar: { name: 'العربية', dir: 'rtl', locale: 'ar-u-nu-latn' },
  ru: { name: 'Русский', dir: 'ltr', locale: 'ru-RU' },
  uk: { name: 'Українська', dir: 'ltr', locale: 'uk-UA' },
  pl: { name: 'Polski', dir: 'ltr', locale: 'pl-PL' },
};
const STORE_KEY = 'consult.lang';
const listeners = new Set();
const reported = { missing: new Set(), fallback: new Set() };
const offered = pageLangs();
let current = detect();

export function langInfo(l = current) { return INFO[l] || INFO.de; }

/** The languages this page offers (data-langs on <html>; default de en). */
export function pageLangs() {
  let list = [];
  try {
    list = (document.documentElement.dataset.langs || '').split(/\s+/).filter((l) => strings[l]);
  } catch (e) { /* no document */ }
  return list.length ? list : ['de', 'en'];
}

function autoDetect() {
  try { return !!document.documentElement.dataset.langs; } catch (e) { return false; }
}

function detect() {
  const ok = (l) => (l && offered.includes(l) ? l : null);
  try {
    const q = ok(new URLSearchParams(location.search).get('lang'));
    if (q) {
      try { localStorage.setItem(STORE_KEY, q); } catch (e) { /* storage blocked */ }
      return q;
    }
  } catch (e) { /* ignore */ }
  try {
    const s = ok(localStorage.getItem(STORE_KEY));
    if (s) return s;
  } catch (e) { /* storage blocked */ }
  if (autoDetect()) {
    try {
      for (const tag of navigator.languages || [navigator.language]) {
        const l = ok(String(tag || '').toLowerCase().split('-')[0]);
        if (l) return l;
      }
    } catch (e) { /* ignore */ }
  }
  return 'de';
}

export function lang() { return current; }

function report(kind, key) {
  if (reported[kind].has(key)) return;
  reported[kind].add(key);
  try {
    console.error(`i18n: ${kind === 'missing' ? 'unknown key' : 'no ' + current + ' text, German shown for'} "${key}"`);
    document.documentElement.setAttribute('data-i18n-' + kind, [...reported[kind]].join(' '));
  } catch (e) { /* no document */ }
}

// A filled value as a bidi isolate, without its leading/trailing punctuation
// (": 0721 123" -> ": " + isolate("0721 123")), so the colon stays with the text.
function isolate(v) {
  const m = /^([^\p{L}\p{N}+]*)(.*?)([^\p{L}\p{N}]*)$/su.exec(v);
  return m && m[2] ? m[1] + '\u2068' + m[2] + '\u2069' + m[3] : v;
}

export function t(key, vars) {
  let s = strings[current][key];
  if (s === undefined) {
    s = de[key];
    if (s === undefined) { report('missing', key); return key; }
    if (current !== 'de') report('fallback', key);
  }
  if (vars) {
    const rtl = INFO[current].dir === 'rtl';
    s = s.replace(/\{(\w+)\}/g, (m, k) => {
      if (vars[k] === undefined || vars[k] === null) return '';
      const v = String(vars[k]);
      return rtl ? isolate(v) : v;
    });
  }
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
  document.documentElement.dir = INFO[current].dir;
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  for (const attr of ['placeholder', 'aria-label', 'title']) {
    const data = 'data-i18n-' + attr;
    root.querySelectorAll('[' + data + ']').forEach((el) => { el.setAttribute(attr, t(el.getAttribute(data))); });
  }
  const sel = document.getElementById('lang');
  if (sel && sel.tagName === 'SELECT') sel.value = current;
}

export function setLang(l) {
  if (!strings[l] || !offered.includes(l) || l === current) return;
  current = l;
  try { localStorage.setItem(STORE_KEY, l); } catch (e) { /* storage blocked */ }
  try {
    const u = new URL(location.href);
    if (l === 'de' && !autoDetect()) u.searchParams.delete('lang'); else u.searchParams.set('lang', l);
    history.replaceState(history.state, '', u.pathname + u.search + u.hash);
  } catch (e) { /* ignore */ }
  applyI18n();
  for (const fn of listeners) fn(current);
}

export function onLangChange(fn) { listeners.add(fn); }

/** Wires #lang (a <select> of the page's languages, or a de/en button) and applies the current language. */
export function initLangToggle() {
  const el = document.getElementById('lang');
  if (el && el.tagName === 'SELECT') {
    el.replaceChildren(...offered.map((l) => {
      const o = document.createElement('option');
      o.value = l;
      o.lang = l;
      o.dir = INFO[l].dir;
      o.textContent = INFO[l].name;
      return o;
    }));
    el.addEventListener('change', () => setLang(el.value));
  } else if (el) {
    el.addEventListener('click', () => setLang(current === 'de' ? 'en' : 'de'));
  }
  applyI18n();
}

/** Local time HH:MM of a Unix-seconds timestamp. */
export function fmtTime(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleTimeString(INFO[current].locale, { hour: '2-digit', minute: '2-digit' });
}

/** Long local date, e.g. "Montag, 30. November 2026". */
export function fmtDateLong(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleDateString(INFO[current].locale, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

/** Short local day, e.g. "Mo., 30.11.". */
export function fmtDay(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleDateString(INFO[current].locale, { weekday: 'short', day: '2-digit', month: '2-digit' });
}

/** Local date of a Unix-seconds timestamp. */
export function fmtDate(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleDateString(INFO[current].locale, { day: '2-digit', month: '2-digit', year: 'numeric' });
}
