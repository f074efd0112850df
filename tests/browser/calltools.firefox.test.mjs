// calltools.firefox.test.mjs - chat with the PATIENT in Firefox ESR (and the
// doctor in Chromium), peer to peer on loopback: the call channel opens
// between the two browsers, a message goes each way through the chat
// panels (unread marker and announcement on the patient's page), the
// patient's quality level reaches the doctor's page, Firefox' fake camera
// offers no torch (hidden), and after the hang-up nothing of the chat is
// left on either page. docs/pages.md, "Call tools".
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { artifacts, launchChromium, launchFirefox, waitFor } from './lib.mjs';
import { chatLog, startCallPair } from './callpair.mjs';

let pair = null;
after(async () => { if (pair) await pair.close(); });

const DOC_MSG = 'Bitte schreiben Sie mir die Dosis: Prednisolon?';
const PAT_MSG = 'Prednisolon 20 mg, seit Montag';

test('chat with the patient in Firefox ESR: both ways, unread, announced, gone after the call', { timeout: 300_000 }, async () => {
  const art = artifacts('calltools-firefox');
  const consoleLines = [];
  try {
    pair = await startCallPair({
      name: 'calltools-firefox', consoleLines,
      launchPatient: () => launchFirefox('patient'),
      launchDoctor: () => launchChromium('doctor'),
    });
    const { pat, doc, patPage } = pair;
    for (const [who, d] of [['patient', pat], ['doctor', doc]]) {
      await waitFor(`${who}: call channel open (p2p)`, () => d.evaluate(() => window.consult.channel.state === 'open'
        && window.consult.channel.mode === 'p2p'), 30_000);
    }
    await doc.click('#chat-toggle');
    await doc.fill('#chat-input', DOC_MSG);
    await doc.click('#chat-send');
    const unread = await waitFor('patient (Firefox): unread and announced', () => pat.evaluate(() => {
      const b = document.getElementById('chat-toggle');
      const live = document.getElementById('chat-live').textContent;
      return b.dataset.unread === '1' && live ? { badge: document.getElementById('chat-unread').textContent, live } : null;
    }), 30_000);
    assert.deepEqual(unread, { badge: '1', live: `Nachricht von Praxis: ${DOC_MSG}` });
    await pat.click('#chat-toggle');
    assert.equal(await pat.evaluate(() => document.getElementById('chat-toggle').dataset.unread), '0');
    assert.deepEqual(await chatLog(pat), [{ from: 'them', state: '', text: DOC_MSG }]);
    await pat.fill('#chat-input', PAT_MSG);
    await pat.click('#chat-send');
    await waitFor('doctor: the answer from Firefox', async () => {
      const log = await chatLog(doc);
      return log.length === 2 && log[1].from === 'them' && log[1].text === PAT_MSG;
    }, 30_000);
    await waitFor('patient: own message sent', async () => (await chatLog(pat)).some((m) => m.from === 'me' && m.state === 'sent'), 15_000);
    await art.shot(patPage, 'patient-firefox-chat');
    const level = await waitFor('doctor: the level of the patient in Firefox', () => doc.evaluate(() => {
      const el = document.getElementById('quality-remote');
      return !el.hidden && el.dataset.level ? el.textContent : null;
    }), 30_000);
    assert.match(level, /^beim Patienten: (gut|mittel|schlecht)$/);
    assert.equal(await pat.evaluate(() => document.getElementById('torch').hidden), true, 'Firefox\' fake camera: no torch');

    await doc.click('#hangup');
    await pat.waitVisible('#ended', 30_000);
    for (const [who, d] of [['patient', pat], ['doctor', doc]]) {
      await waitFor(`${who}: the chat is gone`, () => d.evaluate((words) => document.querySelectorAll('#chat-log li').length === 0
        && !words.some((w) => document.documentElement.outerHTML.includes(w)), ['Prednisolon']), 15_000);
    }
  } catch (err) {
    if (consoleLines.length) err.message += `\n--- page consoles ---\n${consoleLines.slice(-40).join('\n')}`;
    throw err;
  }
});
