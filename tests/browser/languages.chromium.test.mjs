// languages.chromium.test.mjs - the patient pages in every language they
// offer (de en tr ar ru uk pl), rendered by real Chromium at phone size
// (390x844) against real Janus + nginx, through every state a patient
// reaches: the first page, a wrong code and a mangled link (errors with the
// practice's phone), the waiting room, the ringing, a real P2P call, the
// closing page; index.html and terms.html too; links mangled by mail/SMS
// apps (%23 for '#', a full stop at the end) still open the appointment.
// In every state: <html lang> is the language (dir="rtl" for Arabic), no key
// is shown raw (visible text, aria-label/placeholder/title, the title), the
// page reported no unknown key and no German fallback (i18n.mjs marks both on
// <html data-i18n-missing / data-i18n-fallback> and logs console errors), and
// the main texts are the dictionary's. Arabic: the ringing buttons, the call
// controls, the self-view and the header are mirrored against German. A
// second Chromium with an Ukrainian browser language shows detection from
// navigator.languages, the switch (<select id=lang>) and that the choice is
// remembered (also on terms.html), while the staff pages stay German.
// Screenshots: tests/artifacts/languages-chromium/NN-<lang>-<state>.png.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  PASSWORDS, REPO, artifacts, closeAll, drive, harness, launchChromium, startStack, step, waitFor, waitForMedia, watchConsole,
} from './lib.mjs';

const LANGS = ['de', 'en', 'tr', 'ar', 'ru', 'uk', 'pl'];
const PHONE = { width: 390, height: 844 };
const dicts = {};
for (const l of LANGS) dicts[l] = (await import(pathToFileURL(path.join(REPO, 'html/js/i18n', l + '.mjs')).href)).default;
const DE_KEYS = Object.keys(dicts.de);
// Texts of the dictionary as the page shows them (textContent, spaces folded).
const txt = (l, key) => dicts[l][key].replace(/\s+/g, ' ').trim();

const cleanup = [];
after(() => closeAll(...cleanup.reverse()));

// What the page shows that must not be there. Runs in the page.
function audit(keys) {
  const known = new Set(keys);
  const html = document.documentElement;
  const tokens = (document.body.innerText.match(/[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+/g) || []).filter((k) => known.has(k));
  const attrs = [];
  for (const el of document.querySelectorAll('[aria-label], [placeholder], [title]')) {
    for (const a of ['aria-label', 'placeholder', 'title']) {
      const v = el.getAttribute(a);
      if (v && known.has(v.trim())) attrs.push(`${el.id || el.tagName}[${a}=${v}]`);
    }
  }
  if (known.has(document.title.replace(/^\W+/, '').trim())) attrs.push('title=' + document.title);
  return {
    lang: html.lang, dir: html.dir,
    missing: html.getAttribute('data-i18n-missing'), fallback: html.getAttribute('data-i18n-fallback'),
    raw: tokens, attrs,
    state: window.consult ? window.consult.state : null,
  };
}

async function check(d, l, where, consoleLines) {
  const a = await d.evaluate(audit, DE_KEYS);
  assert.equal(a.lang, l, `${where}: <html lang>`);
  assert.equal(a.dir, l === 'ar' ? 'rtl' : 'ltr', `${where}: <html dir>`);
  assert.equal(a.missing, null, `${where}: unknown keys asked for`);
  assert.equal(a.fallback, null, `${where}: German shown for keys missing in ${l}`);
  assert.deepEqual(a.raw, [], `${where}: raw keys in the visible text`);
  assert.deepEqual(a.attrs, [], `${where}: raw keys in attributes`);
  const i18nErrors = consoleLines.filter((c) => /i18n:/.test(c));
  assert.deepEqual(i18nErrors, [], `${where}: i18n console errors`);
  return a;
}

const rect = (d, sel) => d.evaluate((s) => {
  const r = document.querySelector(s).getBoundingClientRect();
  return { x: r.x, y: r.y, w: r.width, h: r.height, cx: r.x + r.width / 2 };
}, sel);

test('patient pages in every language: each state, no raw key, Arabic right to left, at 390x844', { timeout: 900_000 }, async () => {
  const { connectHandle } = await import(harness('client.mjs'));
  const art = artifacts('languages-chromium');
  const consoleLines = [];
  const stack = await step('start Janus + nginx + seed', startStack(), 90_000);
  cleanup.push(stack.stop);
  const { janus, origin, practice, doctor, reception } = stack;
  const staff = await connectHandle(janus.wsUrl);
  cleanup.push(() => staff.client.destroy());
  await staff.handle.call({ request: 'login', username: reception.username, password: PASSWORDS.reception });

  const browser = await step('launch Chromium (390x844)', launchChromium('languages', { viewport: PHONE }), 90_000);
  cleanup.push(browser);
  const docPage = await browser.newPage();
  watchConsole(docPage, 'doctor', consoleLines);
  const doc = drive(docPage, 'doctor');
  await doc.goto(`${origin}/doctor.html`);
  await doc.fill('#username', doctor.username);
  await doc.fill('#password', PASSWORDS.doctor);
  await doc.click('#login');
  await waitFor('doctor: logged in', async () => (await doc.evaluate(() => window.consult && window.consult.state)) === 'list', 30_000);

  // The mechanism the checks rely on: an unknown key is marked and logged.
  {
    const page = await browser.newPage();
    const lines = [];
    watchConsole(page, 'probe', lines);
    const d = drive(page, 'probe');
    await d.goto(`${origin}/index.html?lang=tr`);
    const shown = await d.evaluate(async () => (await import('/js/i18n.mjs')).t('patient.no.such.key'));
    assert.equal(shown, 'patient.no.such.key', 't() of an unknown key returns the key');
    const a = await d.evaluate(audit, [...DE_KEYS, 'patient.no.such.key']);
    assert.equal(a.missing, 'patient.no.such.key', 'the page marks the unknown key on <html data-i18n-missing>');
    assert.ok(lines.some((c) => /error: i18n: unknown key "patient\.no\.such\.key"/.test(c)), `a console error names it (${lines.join(' | ')})`);
    await page.close();
  }

  const ltr = {};        // positions measured in German, to compare Arabic with
  for (const l of LANGS) {
    const lines = [];
    const t = (k) => txt(l, k);

    // index.html and terms.html
    for (const f of ['index', 'terms']) {
      const page = await browser.newPage();
      watchConsole(page, `${f}-${l}`, lines);
      const d = drive(page, `${f}-${l}`);
      await d.goto(`${origin}/${f}.html?lang=${l}`);
      await waitFor(`${f}.html: language ${l} applied`, async () => (await d.evaluate(() => document.documentElement.lang)) === l, 10_000);
      await check(d, l, `${f}.html ${l}`, lines);
      assert.equal(await d.text('h1'), t(f === 'index' ? 'app.title' : 'terms.page.title'), `${f}.html ${l}: heading`);
      assert.equal(await d.evaluate(() => document.getElementById('lang').value), l, `${f}.html ${l}: the switch shows ${l}`);
      if (f === 'terms') {
        assert.equal(await d.text('[data-testid=terms-binding]'), t('terms.binding'));
        assert.equal(await d.evaluate(() => getComputedStyle(document.querySelector('.legal-de')).direction), 'ltr', 'the German full text stays left to right');
      }
      await art.shot(page, `${l}-${f}`);
      await page.close();
    }

    // a wrong code: the error names the practice's phone as a tel: link
    {
      const page = await browser.newPage();
      watchConsole(page, `wrong-${l}`, lines);
      const d = drive(page, `wrong-${l}`);
      await d.goto(`${origin}/patient.html?p=${practice.slug}&lang=${l}#ZZZZ-ZZZZ-ZZZZ`);
      await d.waitVisible('#code-error', 30_000);
      await waitFor(`wrong code ${l}: the phone is in the message`, async () => (await d.text('#code-error a')) === practice.phone, 30_000);
      assert.equal(await d.text('#code-error'), `${t('patient.code.invalid')}: ${practice.phone}.`);
      assert.equal(await d.attr('#code-error a', 'dir'), 'ltr');
      await check(d, l, `wrong code ${l}`, lines);
      await art.shot(page, `${l}-error-code`);
      await page.close();
    }
    // a mangled link (practice unknown): not "code invalid" but "broken link"
    {
      const page = await browser.newPage();
      watchConsole(page, `broken-${l}`, lines);
      const d = drive(page, `broken-${l}`);
      await d.goto(`${origin}/patient.html?p=praxis-e2&lang=${l}#ZZZZ-ZZZZ-ZZZZ`);
      await waitFor(`broken link ${l}: message`, async () => (await d.text('#error')) === t('patient.link.broken'), 30_000);
      assert.equal(await d.visible('#code-error'), false, 'no "code invalid" for an unknown practice');
      await check(d, l, `broken link ${l}`, lines);
      await page.close();
    }

    // the first page, waiting room, ringing, call and closing page
    const appt = await staff.handle.call({ request: 'create_appointment', doctor_id: doctor.id, starts_at: Math.floor(Date.now() / 1000) + 60 });
    if (l === 'de') {
      // links as mail and SMS apps mangle them still work: '#' sent as %23,
      // a full stop glued to the end, the slug in capitals
      for (const link of [`?p=${practice.slug}%23${appt.code}.`, `?p=${practice.slug.toUpperCase()}.#${appt.code}.`]) {
        const p = await browser.newPage();
        watchConsole(p, 'mangled', lines);
        const m = drive(p, 'mangled');
        await m.goto(`${origin}/patient.html${link}`);
        await m.waitVisible('#appt-info', 30_000);
        assert.equal(await m.visible('#error'), false, `${link}: no error`);
        assert.equal(await m.evaluate(() => location.search + location.hash), `?p=${practice.slug}`, `${link}: the code left the URL, the slug repaired`);
        await p.close();
      }
    }
    const page = await browser.newPage();
    watchConsole(page, `patient-${l}`, lines);
    const d = drive(page, `patient-${l}`);
    await d.goto(`${origin}/patient.html?p=${practice.slug}&lang=${l}#${appt.code}`);
    await d.waitVisible('#appt-info', 30_000);
    await waitFor(`form ${l}: practice name`, async () => (await d.text('#practice-name')) === practice.name, 30_000);
    assert.equal(await d.text('#start'), t('patient.start'));
    assert.equal(await d.text('#terms-title'), t('terms.title'));
    assert.equal(await d.text('#terms li:nth-child(4)'), t('terms.short.4'));
    assert.equal(await d.text('[data-testid=terms-binding]'), t('terms.binding'));
    assert.equal(await d.text('#appt-opens'), t('patient.appt.open'));
    await check(d, l, `form ${l}`, lines);
    await art.shot(page, `${l}-form`);
    await page.evaluate(() => document.getElementById('legal-terms-details').open = true);
    await waitFor(`form ${l}: legal text loaded`, () => d.evaluate(() => document.getElementById('legal-terms-details').dataset.loaded === 'yes'), 30_000);
    assert.equal(await d.evaluate(() => getComputedStyle(document.querySelector('[data-testid=legal-terms-text]')).direction), 'ltr');

    await d.fill('#first-name', 'Ayşe');
    await d.fill('#last-name', 'Sprachprüf');
    await d.check('#accept-terms');
    await d.click('#start');
    await d.waitVisible('#waiting', 30_000);
    await waitFor(`waiting ${l}: position`, async () => (await d.attr('#waiting', 'data-ahead')) === '0', 30_000);
    assert.equal(await d.text('#waiting .title'), t('patient.waiting.title'));
    assert.equal(await d.text('#ahead-text'), t('patient.ahead.0'));
    await check(d, l, `waiting ${l}`, lines);
    await art.shot(page, `${l}-waiting`);

    await waitFor('doctor: the patient can be called', () => doc.evaluate(() => {
      const b = document.querySelector('#waiting-list button.call');
      return !!b && !b.disabled;
    }), 30_000);
    await doc.click('#waiting-list button.call');
    await d.waitVisible('#ringing', 30_000);
    assert.equal(await d.text('#accept-call'), t('patient.accept'));
    assert.equal(await d.text('#ringing-title'), t('patient.ringing.title'));
    await check(d, l, `ringing ${l}`, lines);
    const acc = await rect(d, '#accept-call');
    const dec = await rect(d, '#decline-call');
    const brand = await rect(d, 'header .brand');
    const sel = await rect(d, '#lang');
    await art.shot(page, `${l}-ringing`);

    await d.click('#accept-call');
    await d.waitVisible('#call', 30_000);
    await waitForMedia(page, `patient ${l}`);
    await waitFor(`call ${l}: connection path shown`, async () => !!(await d.attr('#path', 'data-path')), 30_000);
    assert.equal(await d.text('#hangup'), t('common.hangup'));
    assert.equal(await d.text('#mute'), t('common.mute'));
    await check(d, l, `call ${l}`, lines);
    const mute = await rect(d, '#mute');
    const hang = await rect(d, '#hangup');
    const self = await rect(d, '#local-video');
    const remote = await rect(d, '#remote-video');
    await art.shot(page, `${l}-call`);

    await doc.click('#hangup');
    await d.waitVisible('#ended', 30_000);
    assert.equal(await d.text('#ended .title'), t('patient.ended.title'));
    await check(d, l, `ended ${l}`, lines);
    await art.shot(page, `${l}-ended`);
    await page.close();
    await waitFor('doctor: back to the list', async () => (await doc.evaluate(() => window.consult.state)) === 'list', 30_000);

    const pos = { acceptLeftOfDecline: acc.cx < dec.cx, muteLeftOfHangup: mute.cx < hang.cx, selfOnLeft: self.cx < remote.cx, brandLeftOfSwitch: brand.cx < sel.cx };
    if (l === 'de') Object.assign(ltr, pos);
    if (l === 'ar') {
      for (const [k, v] of Object.entries(pos)) assert.equal(v, !ltr[k], `ar: ${k} mirrored (German: ${ltr[k]})`);
    } else {
      assert.deepEqual(pos, ltr, `${l}: left-to-right layout as German`);
    }
    consoleLines.push(...lines);
  }
  fs.writeFileSync(path.join(art.dir, 'console.log'), consoleLines.join('\n') + '\n');
});

test('language from the browser, the switch, remembered; staff pages stay German', { timeout: 180_000 }, async () => {
  const art = artifacts('languages-detect-chromium');
  const stack = await step('start nginx (+ Janus)', startStack(), 90_000);
  cleanup.push(stack.stop);
  const { origin, practice } = stack;
  const browser = await step('launch Chromium (uk-UA)', launchChromium('languages-uk', { locale: 'uk-UA', viewport: PHONE }), 90_000);
  cleanup.push(browser);
  const lines = [];
  const page = await browser.newPage();
  watchConsole(page, 'uk', lines);
  const d = drive(page, 'uk');
  assert.deepEqual(await page.evaluate(() => navigator.languages.slice(0, 1)), ['uk-UA']);

  await d.goto(`${origin}/patient.html?p=${practice.slug}`);
  await waitFor('patient.html follows navigator.languages', async () => (await d.evaluate(() => document.documentElement.lang)) === 'uk', 10_000);
  assert.equal(await d.text('#start'), txt('uk', 'patient.start'));
  const options = await d.evaluate(() => [...document.querySelectorAll('#lang option')].map((o) => [o.value, o.textContent, o.lang]));
  assert.deepEqual(options.map((o) => o[0]), LANGS, 'the switch offers every patient language');
  assert.deepEqual(options.find((o) => o[0] === 'ar').slice(1), ['العربية', 'ar'], 'each language in its own name');
  assert.deepEqual(options.find((o) => o[0] === 'tr').slice(1), ['Türkçe', 'tr']);
  assert.equal(await d.evaluate(() => document.getElementById('lang').getAttribute('aria-label')), txt('uk', 'lang.label'));
  await art.shot(page, 'uk-detected');

  await page.selectOption('#lang', 'ar');
  await waitFor('switch to ar', async () => (await d.evaluate(() => document.documentElement.dir)) === 'rtl', 10_000);
  assert.equal(await d.text('#start'), txt('ar', 'patient.start'));
  assert.match(await d.evaluate(() => location.search), /lang=ar/, 'the URL keeps the choice');
  await art.shot(page, 'ar-switched');
  await page.selectOption('#lang', 'pl');
  await waitFor('switch to pl', async () => (await d.evaluate(() => document.documentElement.lang)) === 'pl', 10_000);
  assert.equal(await d.evaluate(() => document.documentElement.dir), 'ltr');

  for (const f of ['terms.html', 'index.html', `patient.html?p=${practice.slug}`]) {
    await d.goto(`${origin}/${f}`);
    await waitFor(`${f}: remembered pl`, async () => (await d.evaluate(() => document.documentElement.lang)) === 'pl', 10_000);
    await check(d, 'pl', f, lines);
  }
  await art.shot(page, 'pl-remembered');
  // staff pages offer de/en only and do not follow the browser: German
  await d.goto(`${origin}/doctor.html`);
  await waitFor('doctor.html in German', async () => (await d.text('#login')) === txt('de', 'common.login'), 10_000);
  assert.equal(await d.evaluate(() => document.documentElement.lang), 'de');
  assert.equal(await d.evaluate(() => document.getElementById('lang').tagName), 'BUTTON');
});
