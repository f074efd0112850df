// patient-share.chromium.test.mjs - the patient shares a screen only where
// the practice allows it (docs/pages.md "Call tools", docs/protocol.md
// `signal` `media`), between the real pages (Chromium on both sides, peer
// to peer on loopback). The patient's fake camera is a magenta 640x360
// file, so its picture cannot be taken for Chromium's fake screen (green,
// 1280x720); the patient is on a computer (getDisplayMedia exists).
// 1. patient_share "allowed" (admin set_practice before the call): the
//    patient's page shows "Bildschirm teilen"; a click replaces the camera -
//    the doctor decodes the green 1280-wide picture (framesDecoded grows),
//    reads "Patient teilt den Bildschirm" (#call[data-screen=on], zoom as on
//    the patient's side); "Zurück zur Kamera" brings the magenta camera
//    back and the banner goes. Then the practice forbids it during the
//    call: the next click is refused by the server before the screen
//    replaces the camera ("Die Praxis erlaubt das Teilen des Bildschirms
//    nicht.", the button goes) and the doctor shows nothing.
// 2. "never" (the default): no button. A forced share (a page that ignores
//    the policy: the patient's own Janus handle sends `media` with
//    screen:true, and a `screen` message on the call channel) is refused by
//    the server (forbidden, field screen) and not shown at the doctor. Then
//    the practice allows it during the call: the server relays the next
//    forced `screen:true`, and the doctor's page - whose call said "never" -
//    still ignores it. Each negative is read after a later message on the
//    same path (or the forced signal's own microphone "off") arrived, never
//    after a fixed wait.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { artifacts, launchChromium, rtcSnapshot, waitFor } from './lib.mjs';
import { chatLog, meanColour, solidY4m, startCallPair } from './callpair.mjs';

let pair = null;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-patient-share-'));
const cam = path.join(tmp, 'magenta.y4m');
solidY4m(cam);
after(async () => {
  if (pair) await pair.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const magenta = (c) => !!c && c.r > 180 && c.g < 90 && c.b > 180;
const green = (c) => !!c && c.g > 100 && c.r < 90 && c.b < 90;

// The patient page's own Janus session and handle (from its `join`), so the
// test can send what a page ignoring the policy would send.
function recordJanusHandle() {
  const Orig = window.WebSocket;
  window.WebSocket = class extends Orig {
    constructor(...args) {
      super(...args);
      const send = this.send.bind(this);
      this.send = (d) => {
        try {
          const m = JSON.parse(d);
          if (m && m.body && m.body.request === 'join') window.__janus = { ws: this, session_id: m.session_id, handle_id: m.handle_id };
        } catch (e) { /* not JSON */ }
        return send(d);
      };
    }
  };
}

/** A `media` signal with screen:true on the patient's own handle; resolves with the plugin's reply. */
const forceScreenSignal = (pat, audio = true) => pat.evaluate((mic) => new Promise((resolve, reject) => {
  const j = window.__janus;
  if (!j) { reject(new Error('no join seen')); return; }
  const tx = `forced-${Math.random().toString(36).slice(2)}`;
  const timer = setTimeout(() => reject(new Error('no reply')), 15000);
  const on = (e) => {
    const m = JSON.parse(e.data);
    if (m.transaction !== tx || m.janus === 'ack') return;
    clearTimeout(timer);
    j.ws.removeEventListener('message', on);
    resolve(m.plugindata ? m.plugindata.data : m);
  };
  j.ws.addEventListener('message', on);
  j.ws.send(JSON.stringify({
    janus: 'message', session_id: j.session_id, handle_id: j.handle_id, transaction: tx,
    body: { request: 'signal', type: 'media', audio: mic, video: true, screen: true },
  }));
}), audio);

const doctorView = (doc) => doc.evaluate(() => ({
  on: window.consult.remoteScreen === true,
  banner: document.getElementById('screen-banner').textContent,
  data: document.getElementById('call').dataset.screen || '',
  zoomBar: !document.getElementById('zoom-bar').hidden,
}));

async function withPair(name, opts, body) {
  const art = artifacts(name);
  const consoleLines = [];
  try {
    pair = await startCallPair({
      name, consoleLines,
      launchPatient: () => launchChromium('patient', { extraArgs: [`--use-file-for-fake-video-capture=${cam}`] }),
      launchDoctor: () => launchChromium('doctor'),
      preparePatient: (page) => page.addInitScript(recordJanusHandle),
      ...opts,
    });
    await body(pair, art);
    await pair.close();
    pair = null;
  } catch (err) {
    if (pair) {
      await art.shot(pair.patPage, 'failure-patient');
      await art.shot(pair.docPage, 'failure-doctor');
    }
    if (consoleLines.length) err.message += `\n--- page consoles ---\n${consoleLines.slice(-40).join('\n')}`;
    throw err;
  } finally {
    fs.writeFileSync(path.join(art.dir, 'console.log'), consoleLines.join('\n') + '\n');
  }
}

test('patient_share allowed: the patient shares, the doctor decodes it with "Patient teilt den Bildschirm", then the camera again', { timeout: 300_000 }, async () => {
  await withPair('patient-share-allowed', {
    onStack: async (stack) => {
      const r = await stack.janus.admin({ request: 'set_practice', practice: stack.practice.slug, patient_share: 'allowed' });
      assert.equal(r.ok, true, `set_practice patient_share allowed: ${JSON.stringify(r)}`);
    },
  }, async ({ stack, pat, doc, patPage, docPage }, art) => {
    const button = await waitFor('patient: "Bildschirm teilen" offered', () => pat.evaluate(() => {
      const b = document.getElementById('share-screen');
      return b && !b.hidden ? { text: b.textContent, pressed: b.getAttribute('aria-pressed') } : null;
    }), 15_000);
    assert.deepEqual(button, { text: 'Bildschirm teilen', pressed: 'false' });
    const before = await waitFor('doctor: the patient\'s magenta camera', async () => {
      const c = await meanColour(docPage);
      return magenta(c) ? c : null;
    }, 30_000);
    assert.ok(before.w <= 640, `camera picture at most 640 wide (${before.w})`);
    assert.deepEqual(await doctorView(doc), { on: false, banner: '', data: '', zoomBar: false });

    await pat.click('#share-screen');
    const sharing = await waitFor('patient: sharing', () => pat.evaluate(() => (window.consult.screenSharing ? {
      label: document.getElementById('share-screen').textContent,
      pressed: document.getElementById('share-screen').getAttribute('aria-pressed'),
      note: document.getElementById('share-note').textContent,
    } : null)), 15_000);
    assert.deepEqual(sharing, {
      label: 'Zurück zur Kamera', pressed: 'true', note: 'Sie teilen Ihren Bildschirm – die Praxis sieht ihn statt Ihres Kamerabilds.',
    });
    const snap0 = await rtcSnapshot(docPage);
    const shown = await waitFor('doctor: the green screen instead of the camera, with the banner', async () => {
      const c = await meanColour(docPage);
      const v = await doctorView(doc);
      return green(c) && v.on ? { c, v } : null;
    }, 30_000);
    assert.deepEqual(shown.v, { on: true, banner: 'Patient teilt den Bildschirm', data: 'on', zoomBar: true });
    assert.ok(shown.c.w > 640, `the shared screen is wider than the camera (${shown.c.w}x${shown.c.h})`);
    await waitFor('doctor: frames of the shared screen keep being decoded',
      async () => (await rtcSnapshot(docPage)).framesDecoded > snap0.framesDecoded + 10, 30_000);
    // sized like the practice's share on the patient's side: fitted, and zoomable
    await doc.click('#zoom-in');
    const z = await doc.evaluate(() => window.consult.zoom.scale);
    assert.ok(Math.abs(z - 1.5) < 1e-9, `doctor: zoomed in by the button (${z})`);
    await art.shot(docPage, 'doctor-patient-screen');
    await art.shot(patPage, 'patient-sharing');

    // back to the camera with one click
    await pat.click('#share-screen');
    let last = null;
    await waitFor('doctor: the magenta camera again, banner gone, picture whole', async () => {
      const c = await meanColour(docPage);
      const v = await doctorView(doc);
      const transform = await doc.evaluate(() => document.getElementById('remote-video').style.transform);
      last = { c, v, transform };
      return magenta(c) && c.w <= 640 && !v.on && v.banner === '' && v.data === '' && transform === '';
    }, 30_000).catch((err) => { throw new Error(`${err.message}: ${JSON.stringify(last)}`); });
    assert.deepEqual(await pat.evaluate(() => ({
      on: window.consult.screenSharing, label: document.getElementById('share-screen').textContent,
    })), { on: false, label: 'Bildschirm teilen' });

    // the practice forbids it during the call: the next share is refused by
    // the server before the screen replaces the camera; the page says so
    // and offers it no more
    const set = await stack.janus.admin({ request: 'set_practice', practice: stack.practice.slug, patient_share: 'never' });
    assert.equal(set.ok, true, JSON.stringify(set));
    await pat.click('#share-screen');
    const refused = await waitFor('patient: the refusal shown', () => pat.evaluate(() => {
      const note = document.getElementById('share-note').textContent;
      return note ? {
        note, hidden: document.getElementById('share-screen').hidden, sharing: window.consult.screenSharing,
        sent: window.consult.pc.getSenders().find((x) => x.track && x.track.kind === 'video').track.label,
      } : null;
    }), 15_000);
    assert.equal(refused.note, 'Die Praxis erlaubt das Teilen des Bildschirms nicht.');
    assert.deepEqual([refused.hidden, refused.sharing], [true, false]);
    assert.doesNotMatch(refused.sent, /screen/, 'the camera stayed on the sender');
    await pat.click('#camera');
    await waitFor('doctor: the camera-off signal after the refused share', () => doc.evaluate(() => document.getElementById('remote-media').dataset.video === 'false'), 30_000);
    assert.deepEqual(await doctorView(doc), { on: false, banner: '', data: '', zoomBar: false });
    await art.shot(patPage, 'patient-share-refused');
  });
});

test('patient_share never (the default): no button; a forced share is refused by the server and not shown at the doctor', { timeout: 300_000 }, async () => {
  await withPair('patient-share-never', {}, async ({ stack, pat, doc, docPage }, art) => {
    await waitFor('doctor: the patient\'s magenta camera', async () => magenta(await meanColour(docPage)), 30_000);
    assert.deepEqual(await pat.evaluate(() => ({
      hidden: document.getElementById('share-screen').hidden, sharing: window.consult.screenSharing,
    })), { hidden: true, sharing: false }, 'patient: no "Bildschirm teilen"');
    // the hidden button, clicked by a script: the page does not share
    await pat.evaluate(() => document.getElementById('share-screen').click());
    assert.equal(await pat.evaluate(() => window.consult.screenSharing), false);

    // forced: the media signal with screen:true on the patient's own handle
    const refused = await forceScreenSignal(pat);
    assert.equal(refused.ok, false, JSON.stringify(refused));
    assert.deepEqual([refused.error, refused.error_code, refused.field], ['forbidden', 411, 'screen']);
    // forced: the channel message the practice's page uses for its own share
    await pat.evaluate(() => window.consult.channel.send('screen', { on: true }));
    // later messages on both paths arrive in order: once they are there, a
    // relayed share would have been seen
    await pat.click('#chat-toggle');
    await pat.fill('#chat-input', 'Markierung nach dem Bildschirm');
    await pat.click('#chat-send');
    await waitFor('doctor: the chat marker after the channel message', async () => (await chatLog(doc)).some((m) => m.text === 'Markierung nach dem Bildschirm'), 30_000);
    await pat.click('#camera');
    await waitFor('doctor: the camera-off signal after the refused one', () => doc.evaluate(() => document.getElementById('remote-media').dataset.video === 'false'), 30_000);
    assert.deepEqual(await doctorView(doc), { on: false, banner: '', data: '', zoomBar: false }, 'doctor: no patient share shown');
    await pat.click('#camera');
    await waitFor('doctor: the camera on again', () => doc.evaluate(() => document.getElementById('remote-media').dataset.video === 'true'), 30_000);

    // the practice allows it during the call: the server relays the next
    // share, the doctor's page (its call said "never") still ignores it
    const set = await stack.janus.admin({ request: 'set_practice', practice: stack.practice.slug, patient_share: 'allowed' });
    assert.equal(set.ok, true, JSON.stringify(set));
    // (the microphone "off" in the same forced signal marks its arrival;
    // a signal of the page itself would carry no screen and clear it)
    const relayed = await forceScreenSignal(pat, false);
    assert.equal(relayed.ok, true, `relayed now: ${JSON.stringify(relayed)}`);
    await waitFor('doctor: the relayed forced signal arrived', () => doc.evaluate(() => document.getElementById('remote-media').dataset.audio === 'false'), 30_000);
    assert.deepEqual(await doctorView(doc), { on: false, banner: '', data: '', zoomBar: false }, 'doctor: its call said never - nothing shown');
    assert.equal(await pat.evaluate(() => document.getElementById('share-screen').hidden), true, 'patient: the policy of its call holds');
    await art.shot(docPage, 'doctor-forced-share-ignored');
  });
});
