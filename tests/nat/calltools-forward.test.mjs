// The call tools in forwarding mode (no direct path, no TURN: the call goes
// through Janus, media and the call channel end-to-end encrypted):
// 1. Chat both ways through the pages' chat panels. What Janus relayed is
//    read where it comes out of Janus (datawatch.mjs says why: Janus' dumps
//    hold no data-channel messages): the raw messages at both legs cover the
//    plugin's data_bytes / data_messages since the watch began (plus at most
//    a quality report in flight each way), every one is a sealed frame,
//    and neither chat text (nor a word of it) is in them. Control: the same
//    words pushed raw onto the doctor's data channel arrive in clear at the
//    patient's leg (the observation point sees plaintext when there is any)
//    and the patient's page drops them (no chat message appears).
// 2. Screen sharing through Janus: the doctor's camera is a magenta file, the
//    shared screen Chromium's green fake; the patient decodes the green
//    picture (frames decrypted keep growing), sees the banner, then the
//    magenta camera again after "Zurück zur Kamera".
// 3. The doctor's page shows the patient's quality level (sent sealed on the
//    channel) in this mode too.
// 4. The chat of 1. with the patient in Firefox ESR.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { rtcSnapshot, waitFor } from '../browser/lib.mjs';
import { chatLog, meanColour, solidY4m } from '../browser/callpair.mjs';
import { cleanupAll, scenario } from './lab.mjs';
import { waitForwarded } from './pcap.mjs';
import { rawSummary, watchRaw } from './datawatch.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-calltools-fwd-'));
after(async () => {
  await cleanupAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const DOC_MSG = 'Ihr Befund: Ekzem, bitte Cremeplan beachten';
const PAT_MSG = 'Danke, Juckreiz seit Dienstag';
const WORDS = ['Befund', 'Cremeplan', 'Juckreiz', 'Dienstag'];
const bytes = (s) => [...Buffer.from(s, 'utf8')];
const magenta = (c) => !!c && c.r > 180 && c.g < 90 && c.b > 180;
const green = (c) => !!c && c.g > 100 && c.r < 90 && c.b < 90;

/**
 * Chat both ways through the panels of a forwarded call (sc.call), and what
 * Janus relayed meanwhile: sealed frames only, no chat text; a clear control
 * frame is seen at the patient's leg and dropped by the patient's page.
 */
async function chatThroughJanus(sc) {
  const { pat, doc, patPage, docPage } = sc.call;
  for (const [who, page] of [['patient', patPage], ['doctor', docPage]]) {
    await waitFor(`${who}: call channel open in mode forward`,
      () => page.evaluate(() => window.consult.channel.state === 'open' && window.consult.channel.mode === 'forward'), 30_000, 100);
    await watchRaw(page);
  }
  const before = (await sc.stack.janus.admin({ request: 'stats' })).forward;
  await doc.click('#chat-toggle');
  await doc.fill('#chat-input', DOC_MSG);
  await doc.click('#chat-send');
  await waitFor('patient: the doctor\'s message arrives unread', () => pat.evaluate(() => document.getElementById('chat-toggle').dataset.unread === '1'), 30_000);
  await pat.click('#chat-toggle');
  assert.deepEqual(await chatLog(pat), [{ from: 'them', state: '', text: DOC_MSG }]);
  await pat.fill('#chat-input', PAT_MSG);
  await pat.click('#chat-send');
  await waitFor('doctor: the answer arrives', async () => {
    const log = await chatLog(doc);
    return log.length === 2 && log[1].from === 'them' && log[1].text === PAT_MSG;
  }, 30_000);
  await waitFor('both own messages sent', async () => (await chatLog(doc))[0].state === 'sent' && (await chatLog(pat))[1].state === 'sent', 15_000);
  await sc.shot(patPage, 'patient-chat');
  await sc.shot(docPage, 'doctor-chat');
  // What Janus relayed since `before` came out at the pages' legs, sealed.
  const needles = Object.fromEntries([
    ['docMsg', bytes(DOC_MSG)], ['patMsg', bytes(PAT_MSG)], ...WORDS.map((w) => [w, bytes(w)]),
  ]);
  const none = Object.fromEntries(Object.keys(needles).map((k) => [k, 0]));
  // The pages' raw watch started before `before` was read, so everything the
  // plugin relayed since then came out at a watched leg: the pages saw at
  // least that much. They may have seen a little more: a quality report
  // (the patient's page sends one every 2 s) that the plugin counted just
  // before `before` and delivered after it; at most one each way.
  let seen = null;
  await waitFor('the pages received every message the plugin relayed', async () => {
    const st = (await sc.stack.janus.admin({ request: 'stats' })).forward;
    const p = await rawSummary(patPage, needles);
    const d = await rawSummary(docPage, needles);
    seen = { relayed: st.data_bytes - before.data_bytes, messages: st.data_messages - before.data_messages, p, d };
    const extra = p.messages + d.messages - seen.messages;
    return seen.relayed > 0 && p.bytes + d.bytes >= seen.relayed && extra >= 0 && extra <= 2;
  }, 30_000, 250).catch((err) => { throw new Error(`${err.message}: ${JSON.stringify(seen)}`); });
  assert.ok(seen.p.messages >= 1 && seen.d.messages >= 1, `both directions relayed (${JSON.stringify(seen)})`);
  for (const [who, r] of [['patient', seen.p], ['doctor', seen.d]]) {
    assert.equal(r.other, 0, `${who}: every message Janus relayed is a sealed frame`);
    assert.deepEqual(r.found, none, `${who}: no chat text in what Janus relayed`);
  }
  // Control: the words in clear on the same data channel are seen, and dropped.
  const dropped0 = await pat.evaluate(() => window.consult.channel.stats.dropped);
  await doc.evaluate((text) => { window.consult.channel.dc.send(new TextEncoder().encode(text)); }, DOC_MSG);
  await waitFor('patient: the raw control frame arrives and is dropped',
    async () => (await pat.evaluate(() => window.consult.channel.stats.dropped)) > dropped0, 30_000, 100);
  const ctl = await rawSummary(patPage, needles);
  assert.equal(ctl.found.docMsg, 1, 'the control frame is seen in clear at the patient\'s leg');
  assert.equal(ctl.other, 1, 'one unsealed frame: the control');
  assert.equal((await chatLog(pat)).length, 2, 'the control frame added no chat message');
  fs.writeFileSync(path.join(sc.art.dir, 'relayed.json'), JSON.stringify(seen, null, 1) + '\n');
}

test('forwarding: chat both ways sealed through Janus, screen sharing decoded, the patient\'s quality at the doctor', { timeout: 400_000 }, async () => {
  const cam = path.join(tmp, 'magenta.y4m');
  solidY4m(cam);
  const sc = await scenario({
    name: 'calltools-forward', nat: true, block: true, turn: 'absent', pluginConfig: { p2p_timeout_seconds: 3 },
    staffArgs: [`--use-file-for-fake-video-capture=${cam}`],
  });
  let failed = true;
  try {
    await waitForwarded(sc, { ms: 60_000 });
    const { pat, doc, patPage } = sc.call;
    // --- 1. chat ---------------------------------------------------------------
    await chatThroughJanus(sc);

    // --- 2. screen sharing through Janus -------------------------------------
    await pat.click('#chat-close');
    await waitFor('patient: the doctor\'s magenta camera', async () => magenta(await meanColour(patPage)), 30_000);
    await doc.click('#share-screen');
    const snap0 = await rtcSnapshot(patPage);
    const dec0 = (await pat.evaluate(() => window.consult.e2ee.refreshCounters())).decrypted;
    await waitFor('patient: the green shared screen and the banner', async () => green(await meanColour(patPage))
      && (await pat.evaluate(() => document.getElementById('screen-banner').textContent)) === 'Die Praxis teilt den Bildschirm', 30_000);
    await waitFor('patient: shared frames decoded and decrypted', async () => (await rtcSnapshot(patPage)).framesDecoded > snap0.framesDecoded + 10
      && (await pat.evaluate(() => window.consult.e2ee.refreshCounters())).decrypted > dec0 + 10, 30_000);
    assert.equal(await pat.evaluate(() => window.consult.mode), 'forward');
    await sc.shot(patPage, 'patient-screen');
    await doc.click('#share-screen');
    await waitFor('patient: the magenta camera again, no banner', async () => magenta(await meanColour(patPage))
      && (await pat.evaluate(() => document.getElementById('screen-banner').textContent)) === '', 30_000);

    // --- 3. the patient's quality at the doctor -------------------------------
    const q = await waitFor('doctor: the patient\'s level in forwarding mode', () => doc.evaluate(() => {
      const el = document.getElementById('quality-remote');
      return !el.hidden && el.dataset.level ? el.textContent : null;
    }), 30_000);
    assert.match(q, /^beim Patienten: (gut|mittel|schlecht)$/);
    failed = false;
  } finally {
    await sc.finish(failed);
  }
});

test('forwarding with the patient in Firefox ESR: chat both ways, sealed through Janus', { timeout: 400_000 }, async () => {
  const sc = await scenario({
    name: 'calltools-forward-firefox', nat: true, block: true, turn: 'absent', pluginConfig: { p2p_timeout_seconds: 3 },
    patientBrowser: 'firefox',
  });
  let failed = true;
  try {
    await waitForwarded(sc, { ms: 60_000 });
    await chatThroughJanus(sc);
    failed = false;
  } finally {
    await sc.finish(failed);
  }
});
