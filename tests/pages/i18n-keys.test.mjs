// i18n-keys.test.mjs: every language has exactly the keys its pages use.
// No browser: the keys are found statically (i18n-extract.mjs) in html/*.html
// (data-i18n*) and in every module each page loads (t('...'), errorText, key
// literals, prefixes, "i18n-keys:" comments). A page offers the languages of
// <html data-langs> (patient pages: de en tr ar ru uk pl; staff pages de en).
// Fails on: a key a page uses that a language it offers lacks (the message
// lists them per language with the German and English text to translate -
// also: node tests/pages/i18n-extract.mjs [lang]), a key unknown to de.mjs or
// used by no page offering that language, {placeholders} that differ from
// German, a computed key nobody declared, a dictionary i18n.mjs does not load.
// The extractor itself is checked on a small fixture, so a broken scan cannot
// pass silently.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyse, todo } from './i18n-extract.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const result = await analyse(REPO);

test('every page declares languages that have a dictionary, and i18n.mjs loads each dictionary', () => {
  const src = fs.readFileSync(path.join(REPO, 'html/js/i18n.mjs'), 'utf8');
  for (const l of Object.keys(result.dicts)) {
    assert.match(src, new RegExp(`import ${l} from './i18n/${l}\\.mjs'`), `i18n.mjs does not import i18n/${l}.mjs`);
  }
  for (const p of result.pages) {
    for (const l of p.langs) assert.ok(result.dicts[l], `${p.file} offers ${l}, but html/js/i18n/${l}.mjs is missing`);
  }
  const patient = result.pages.find((p) => p.file === 'html/patient.html');
  assert.deepEqual([...patient.langs].sort(), ['ar', 'de', 'en', 'pl', 'ru', 'tr', 'uk']);
  for (const f of ['html/index.html', 'html/terms.html']) {
    assert.deepEqual(result.pages.find((p) => p.file === f).langs, patient.langs, `${f} offers the patient languages`);
  }
  for (const f of ['html/doctor.html', 'html/reception.html']) {
    assert.deepEqual(result.pages.find((p) => p.file === f).langs, ['de', 'en'], `${f} (staff) stays de/en`);
  }
});

test('the patient pages use keys from their HTML and from every module they load', () => {
  const patient = result.pages.find((p) => p.file === 'html/patient.html');
  for (const m of ['html/js/patient.mjs', 'html/js/patient-first.mjs', 'html/js/patient-call.mjs', 'html/js/session.mjs', 'html/js/callinfo.mjs']) {
    assert.ok(patient.modules.includes(m), `patient.html loads ${m}`);
  }
  // one of each source: an attribute, a literal, a prefix ('conn.' + w), a
  // template head (`call.path.${p}`), a declared family (callerr), errorText (err.)
  for (const k of ['terms.short.1', 'patient.ahead.n', 'conn.stalled', 'call.path.relay', 'patient.callerr.no_path', 'err.code_invalid', 'lang.label']) {
    assert.ok(patient.keys.has(k), `patient.html uses ${k}`);
  }
  assert.ok(!patient.keys.has('doctor.callerr.no_path'), 'the doctor\'s call errors are not a patient page key');
  assert.ok(!patient.keys.has('reception.create'), 'reception keys are not patient page keys');
});

test('no language lacks a key its pages use', () => {
  const lacking = result.langs.filter((l) => result.problems.missing[l].length);
  assert.equal(lacking.length, 0, '\n' + lacking.map((l) => todo(result, l)).join('\n'));
});

test('no language has a key that is unknown (not in de.mjs) or that none of its pages uses', () => {
  const extra = result.langs.filter((l) => result.problems.extra[l].length)
    .map((l) => `${l}: ${result.problems.extra[l].join(' ')}`);
  assert.deepEqual(extra, [], 'remove (or add to de.mjs / a page): ' + extra.join('; '));
});

test('every translation has the same {placeholders} as German', () => {
  const diffs = result.problems.placeholders.map((p) => `${p.lang} ${p.key}: {${p.got.join('},{')}} instead of {${p.want.join('},{')}}`);
  assert.deepEqual(diffs, []);
});

test('every computed key is declared with an "i18n-keys:" comment', () => {
  const u = result.problems.undeclared.map((x) => `${x.file}:${x.line} ${x.text} (${x.page})`);
  assert.deepEqual(u, []);
});

test('no translation is empty or still the German text of a sentence', () => {
  const bad = [];
  for (const [l, d] of Object.entries(result.dicts)) {
    if (l === 'de') continue;
    for (const [k, v] of Object.entries(d)) {
      if (typeof v !== 'string' || !v.trim()) bad.push(`${l} ${k}: empty`);
      else if (v === result.dicts.de[k] && v.split(' ').length > 3) bad.push(`${l} ${k}: German text`);
    }
  }
  assert.deepEqual(bad, []);
});

// The scan must be able to fail: a fixture with one page, a module and two
// dictionaries, each problem planted once.
test('the extractor reports a missing, an extra, a placeholder and an undeclared key', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-i18n-'));
  try {
    fs.mkdirSync(path.join(dir, 'html/js/i18n'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'html/p.html'),
      '<html data-langs="de tr"><script type="module" src="js/p.mjs"></script><h1 data-i18n="a.title"></h1></html>');
    fs.writeFileSync(path.join(dir, 'html/js/p.mjs'), [
      "import { t } from './i18n.mjs';",
      "t('a.hello', { name: 1 }); t('a.new.key');",
      "const re = /'a.not.a.key'/; t('a.' + 'x');",
      "t(`${x}.dyn.${y}`);",
      "t(`a.state.${s}`); // i18n-keys: nothing here",
    ].join('\n'));
    fs.writeFileSync(path.join(dir, 'html/js/i18n.mjs'), "export const t = (k) => k; const unused = 'err.' + 1;");
    fs.writeFileSync(path.join(dir, 'html/js/i18n/de.mjs'), `export default ${JSON.stringify({
      'a.title': 'Titel', 'a.hello': 'Hallo {name}', 'a.state.on': 'an', 'a.x': 'x', 'b.dyn.z': 'z', 'err.generic': 'Fehler',
    })};`);
    fs.writeFileSync(path.join(dir, 'html/js/i18n/tr.mjs'), `export default ${JSON.stringify({
      'a.title': 'Başlık', 'a.hello': 'Merhaba {isim}', 'a.x': 'x', 'a.gone': 'eski', 'err.generic': 'Hata',
    })};`);
    const r = await analyse(dir);
    const page = r.pages[0];
    assert.ok(page.keys.has('a.state.on'), 'template head a.state.${…} uses a.state.on');
    assert.ok(page.keys.has('a.x'), "prefix 'a.' + … uses a.x");
    assert.ok(!page.keys.has('a.not.a.key'), 'text inside a regular expression is no key');
    assert.deepEqual(r.problems.missing.de, ['a.new.key']);
    assert.deepEqual(r.problems.missing.tr, ['a.new.key', 'a.state.on']);
    assert.deepEqual(r.problems.extra.tr, ['a.gone']);
    assert.deepEqual(r.problems.placeholders.map((p) => `${p.lang} ${p.key}`), ['tr a.hello']);
    assert.equal(r.problems.undeclared.length, 1);
    assert.match(r.problems.undeclared[0].text, /dyn/);
    assert.match(todo(r, 'tr'), /'a\.new\.key': ''/);
    // declaring the computed key family clears it
    fs.appendFileSync(path.join(dir, 'html/js/p.mjs'), '\n// i18n-keys: b.dyn.* (built above)\n');
    const r2 = await analyse(dir);
    assert.equal(r2.problems.undeclared.length, 0);
    assert.ok(r2.pages[0].keys.has('b.dyn.z'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
