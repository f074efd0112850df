// calltools.chromium.test.mjs - the tools of a running call between the real
// pages (Chromium on both sides, peer to peer on loopback; docs/pages.md,
// "Call tools"). The doctor's fake camera is a magenta 640x360 file, so its
// picture cannot be taken for Chromium's fake screen (green, 1280x720); the
// patient's browser has a phone's viewport (390x844).
// 1. Quality: both pages show a level; the doctor's page shows the
//    patient's level, judged from the numbers the patient's page sent on
//    the call channel. Torch: the fake camera has none, so #torch is hidden.
// 2. Chat both ways: the doctor's message (with HTML in it, shown as text)
//    arrives unread (badge, data-unread, the aria-live region says it),
//    opening the panel clears it and puts the focus into the input; the
//    open panel leaves the patient's controls on screen and uncovered; the
//    patient answers with Enter. Janus relays no data-channel message (P2P).
// 3. Screen sharing: "Bildschirm teilen" replaces the camera - the patient
//    decodes a green 1280-wide picture instead of the magenta 640-wide one
//    (framesDecoded grows), sees "Die Praxis teilt den Bildschirm" and can
//    zoom (buttons, a two-finger pinch); "Zurück zur Kamera" brings the
//    magenta camera back and the picture whole; the browser's own "stop
//    sharing" (the track's ended event) does the same; with the doctor's
//    camera switched off the shared screen is shown without the remark
//    "Die Praxis hat die Kamera ausgeschaltet" (it returns after sharing).
// 4. Torch where the camera offers it (capabilities stubbed in the page: no
//    fake camera has a light): shown, and a tap asks the track for torch on.
// 5. Hang-up: the chat is gone from both pages (DOM and storage); Janus'
//    log never held the chat text.
// axe-core (WCAG 2.1 AA, as tests/browser/a11y.chromium.test.mjs) finds no
// serious or critical violation with the chat open on both pages, nor on the
// patient's page while the practice shares its screen.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { artifacts, launchChromium, rtcSnapshot, waitFor } from './lib.mjs';
import { chatLog, meanColour, solidY4m, startCallPair } from './callpair.mjs';
import { axeCheck } from './a11y.mjs';

const DOC_MSG = 'Bitte zweimal täglich <b>Ibuprofen</b> 400 mg – nach dem Essen.';
const PAT_MSG = 'Verstanden, danke! Wie lange?';
let pair = null;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-calltools-'));
after(async () => {
  if (pair) await pair.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function noAxeFindings(page, label) {
  const ax = await axeCheck(page, { label });
  assert.deepEqual(ax.failing.map((v) => v.id), [], ax.summary);
}

const magenta = (c) => !!c && c.r > 180 && c.g < 90 && c.b > 180;
const green = (c) => !!c && c.g > 100 && c.r < 90 && c.b < 90;

// Each of sels inside the viewport and on top at its centre.
const uncovered = (page, sels) => page.evaluate((list) => list.map((s) => {
  const el = document.querySelector(s);
  if (!el) return `${s}: missing`;
  const r = el.getBoundingClientRect();
  if (r.width < 1 || r.height < 1) return `${s}: not shown`;
  if (r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight) return `${s}: outside the viewport`;
  const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return top === el || el.contains(top) ? null : `${s}: covered by ${top ? top.id || top.className || top.tagName : 'nothing'}`;
}).filter(Boolean), sels);

test('call tools (Chromium): quality, chat, screen sharing, torch; nothing left after the call', { timeout: 300_000 }, async () => {
  const art = artifacts('calltools-chromium');
  const consoleLines = [];
  const cam = path.join(tmp, 'magenta.y4m');
  solidY4m(cam);
  try {
    pair = await startCallPair({
      name: 'calltools', consoleLines,
      launchPatient: () => launchChromium('patient', { viewport: { width: 390, height: 844 } }),
      launchDoctor: () => launchChromium('doctor', { extraArgs: [`--use-file-for-fake-video-capture=${cam}`] }),
    });
    const { pat, doc, patPage, docPage, stack } = pair;

    // --- 1. quality and torch ---------------------------------------------
    const words = /^(gut|mittel|schlecht)$/;
    const own = await waitFor('patient: a quality level is shown', () => pat.evaluate(() => {
      const q = document.getElementById('quality');
      return !q.hidden && q.dataset.level ? { level: q.dataset.level, text: q.textContent, numbers: window.consult.quality.numbers } : null;
    }), 30_000);
    assert.match(own.text, /^Qualität: /);
    assert.match(own.text.slice('Qualität: '.length), words);
    assert.ok(Number.isFinite(own.numbers.rttMs), `round-trip time measured (${JSON.stringify(own.numbers)})`);
    const remote = await waitFor('doctor: the patient\'s level arrived on the call channel', () => doc.evaluate(() => {
      const q = document.getElementById('quality-remote');
      const s = window.consult.quality;
      return !q.hidden && q.dataset.level && s.remoteNumbers ? { level: q.dataset.level, text: q.textContent, s } : null;
    }), 30_000);
    assert.match(remote.text, /^beim Patienten: (gut|mittel|schlecht)$/);
    assert.equal(remote.level, remote.s.remoteLevel);
    assert.ok(Number.isFinite(remote.s.remoteNumbers.rttMs), `the patient's numbers (${JSON.stringify(remote.s.remoteNumbers)})`);
    await waitFor('doctor: its own level too', () => doc.evaluate(() => !!document.getElementById('quality').dataset.level), 30_000);
    for (const [who, d] of [['patient', pat], ['doctor', doc]]) {
      const t = await d.evaluate(() => {
        const tr = window.consult.pc.getSenders().find((s) => s.track && s.track.kind === 'video').track;
        return { hidden: document.getElementById('torch').hidden, torch: (tr.getCapabilities() || {}).torch ?? null };
      });
      assert.deepEqual(t, { hidden: true, torch: null }, `${who}: the fake camera has no torch, #torch hidden`);
    }
    await art.shot(patPage, 'patient-in-call');

    // --- 2. chat ------------------------------------------------------------
    await doc.click('#chat-toggle');
    assert.equal(await doc.evaluate(() => document.activeElement.id), 'chat-input', 'doctor: focus in the input');
    await doc.fill('#chat-input', DOC_MSG);
    await docPage.press('#chat-input', 'Enter');
    const unread = await waitFor('patient: the message arrives unread', () => pat.evaluate(() => {
      const b = document.getElementById('chat-toggle');
      return b.dataset.unread === '1' && document.getElementById('chat-live').textContent ? {
        badge: document.getElementById('chat-unread').textContent, badgeHidden: document.getElementById('chat-unread').hidden,
        label: b.getAttribute('aria-label'), live: document.getElementById('chat-live').textContent,
        liveAttr: document.getElementById('chat-live').getAttribute('aria-live'), panelHidden: document.getElementById('chat').hidden,
      } : null;
    }), 30_000);
    assert.deepEqual(unread, {
      badge: '1', badgeHidden: false, label: 'Chat – ungelesen: 1',
      live: `Nachricht von Praxis: ${DOC_MSG}`, liveAttr: 'polite', panelHidden: true,
    });
    await waitFor('doctor: own message sent', async () => (await chatLog(doc)).some((m) => m.from === 'me' && m.state === 'sent' && m.text === DOC_MSG), 15_000);
    await art.shot(patPage, 'patient-chat-unread');
    assert.deepEqual(await uncovered(patPage, ['#chat-toggle', '#mute', '#camera', '#hangup']), [], 'patient (390x844): the chat button over the picture, free');
    await pat.click('#chat-toggle');
    const opened = await pat.evaluate(() => ({
      focus: document.activeElement.id, unread: document.getElementById('chat-toggle').dataset.unread,
      badgeHidden: document.getElementById('chat-unread').hidden, bold: document.querySelectorAll('#chat-log b').length,
    }));
    assert.deepEqual(opened, { focus: 'chat-input', unread: '0', badgeHidden: true, bold: 0 });
    assert.deepEqual(await chatLog(pat), [{ from: 'them', state: '', text: DOC_MSG }], 'patient: the text as sent, HTML shown as text');
    assert.deepEqual(await uncovered(patPage, ['#mute', '#camera', '#hangup', '#chat-input', '#chat-send', '#chat-close']), [],
      'patient (390x844): the open chat covers none of the controls');
    await art.shot(patPage, 'patient-chat-open');
    await noAxeFindings(patPage, 'patient, chat open');
    await pat.fill('#chat-input', PAT_MSG);
    await pat.click('#chat-send');
    await waitFor('doctor: the answer arrives (panel open: not unread)', async () => {
      const log = await chatLog(doc);
      return log.length === 2 && log[1].from === 'them' && log[1].text === PAT_MSG;
    }, 30_000);
    assert.equal(await doc.evaluate(() => document.getElementById('chat-toggle').dataset.unread), '0');
    await waitFor('doctor: the answer is announced', async () => (await doc.evaluate(() => document.getElementById('chat-live').textContent))
      === `Nachricht von Patient/in: ${PAT_MSG}`, 15_000);
    await waitFor('patient: own message sent', async () => (await chatLog(pat)).some((m) => m.from === 'me' && m.state === 'sent'), 15_000);
    assert.equal(await pat.evaluate(() => window.consult.channel.mode), 'p2p');
    const fwd = (await stack.janus.admin({ request: 'stats' })).forward;
    assert.equal(fwd.data_messages, 0, 'peer to peer: the plugin relayed no data-channel message');
    await art.shot(docPage, 'doctor-chat');
    await noAxeFindings(docPage, 'doctor, chat open');
    await pat.click('#chat-close');
    await doc.click('#chat-close');

    // --- 3. screen sharing ---------------------------------------------------
    const before = await waitFor('patient: the doctor\'s magenta camera', async () => {
      const c = await meanColour(patPage);
      return magenta(c) ? c : null;
    }, 30_000);
    assert.ok(before.w <= 640, `camera picture at most 640 wide (${before.w}; the encoder may scale down on a busy machine)`);
    await doc.click('#share-screen');
    const sharing = await waitFor('doctor: sharing', () => doc.evaluate(() => (window.consult.screenSharing ? {
      label: document.getElementById('share-screen').textContent, pressed: document.getElementById('share-screen').getAttribute('aria-pressed'),
      note: document.getElementById('share-note').textContent,
    } : null)), 15_000);
    assert.deepEqual(sharing, {
      label: 'Zurück zur Kamera', pressed: 'true', note: 'Sie teilen Ihren Bildschirm – er ersetzt beim Patienten Ihr Kamerabild.',
    });
    const snap0 = await rtcSnapshot(patPage);
    const shown = await waitFor('patient: the green screen instead of the camera, with the banner', async () => {
      const c = await meanColour(patPage);
      const v = await pat.evaluate(() => ({
        banner: document.getElementById('screen-banner').textContent, on: window.consult.remoteScreen,
        data: document.getElementById('call').dataset.screen, zoomBar: !document.getElementById('zoom-bar').hidden,
      }));
      return green(c) && v.on ? { c, v } : null;
    }, 30_000);
    assert.deepEqual(shown.v, { banner: 'Die Praxis teilt den Bildschirm', on: true, data: 'on', zoomBar: true });
    assert.ok(shown.c.w > 640, `the shared screen is wider than the camera (${shown.c.w}x${shown.c.h})`);
    await waitFor('patient: frames of the shared screen keep being decoded', async () => (await rtcSnapshot(patPage)).framesDecoded > snap0.framesDecoded + 10, 30_000);
    assert.equal(await pat.evaluate(() => window.consult.quality.level !== undefined), true);
    await art.shot(patPage, 'patient-screen');
    await art.shot(docPage, 'doctor-sharing');
    // zoom: the buttons, then a two-finger pinch on the picture
    await pat.click('#zoom-in');
    const z1 = await pat.evaluate(() => ({ scale: window.consult.zoom.scale, transform: document.getElementById('remote-video').style.transform }));
    assert.ok(Math.abs(z1.scale - 1.5) < 1e-9 && /scale\(1\.5\)/.test(z1.transform), `zoomed in by the button (${JSON.stringify(z1)})`);
    await noAxeFindings(patPage, 'patient, shared screen zoomed');
    const z2 = await pat.evaluate(() => {
      const v = document.getElementById('remote-video');
      const r = v.getBoundingClientRect();
      const cx = r.left + r.width / 2;
      const cy = r.top + r.height / 2;
      const ev = (type, id, x) => v.dispatchEvent(new PointerEvent(type, {
        pointerId: id, pointerType: 'touch', isPrimary: id === 1, clientX: x, clientY: cy, bubbles: true,
      }));
      ev('pointerdown', 1, cx - 20);
      ev('pointerdown', 2, cx + 20);
      ev('pointermove', 1, cx - 60);
      ev('pointermove', 2, cx + 60);
      ev('pointerup', 1, cx - 60);
      ev('pointerup', 2, cx + 60);
      return window.consult.zoom.scale;
    });
    assert.ok(z2 > 4 && z2 <= 6, `a pinch spreading the fingers 3x zooms to about 3 x 1.5 (${z2})`);
    await art.shot(patPage, 'patient-screen-zoomed');
    await pat.click('#zoom-reset');
    assert.equal(await pat.evaluate(() => window.consult.zoom.scale), 1);
    // back to the camera with one click
    await doc.click('#share-screen');
    let last = null;
    await waitFor('patient: the magenta camera again, banner gone, picture whole', async () => {
      const c = await meanColour(patPage);
      const v = await pat.evaluate(() => ({
        banner: document.getElementById('screen-banner').textContent, on: window.consult.remoteScreen,
        transform: document.getElementById('remote-video').style.transform,
      }));
      last = { c, v };
      return magenta(c) && c.w <= 640 && !v.on && v.banner === '' && v.transform === '';
    }, 30_000).catch((err) => { throw new Error(`${err.message}: ${JSON.stringify(last)}`); });
    assert.equal(await doc.evaluate(() => document.getElementById('share-screen').textContent), 'Bildschirm teilen');
    // the browser's own "stop sharing" ends the track
    await doc.click('#share-screen');
    await waitFor('patient: sharing again', async () => green(await meanColour(patPage)), 30_000);
    await doc.evaluate(() => {
      const tr = window.consult.pc.getSenders().find((s) => s.track && s.track.kind === 'video').track;
      if (!/screen/.test(tr.label)) throw new Error(`not the screen track: ${tr.label}`);
      tr.dispatchEvent(new Event('ended'));
    });
    await waitFor('patient: camera again after the browser ended the sharing', async () => magenta(await meanColour(patPage))
      && (await pat.evaluate(() => !window.consult.remoteScreen)), 30_000);
    assert.deepEqual(await doc.evaluate(() => ({ on: window.consult.screenSharing, label: document.getElementById('share-screen').textContent })),
      { on: false, label: 'Bildschirm teilen' });
    // the camera switched off: its remark goes while the screen is shared
    const remoteMedia = () => pat.evaluate(() => ({
      video: document.getElementById('remote-media').dataset.video, text: document.getElementById('remote-media-text').textContent,
    }));
    await doc.click('#camera');
    await waitFor('patient: "Die Praxis hat die Kamera ausgeschaltet"', async () => (await remoteMedia()).video === 'off', 30_000);
    await doc.click('#share-screen');
    await waitFor('patient: the shared screen with the camera off', async () => green(await meanColour(patPage))
      && (await pat.evaluate(() => window.consult.remoteScreen)), 30_000);
    await waitFor('patient: no camera remark over the shared screen', async () => {
      const m = await remoteMedia();
      return m.video === 'on' && m.text === '';
    }, 15_000);
    // the microphone remark, the banner and the tools over the picture's bottom lie apart
    await doc.click('#mute');
    await waitFor('patient: the microphone remark', () => pat.evaluate(() => document.getElementById('remote-media').dataset.audio === 'off'), 30_000);
    const overlaps = await pat.evaluate(() => {
      const boxes = ['#remote-media', '#screen-banner', '#call-tools', '#zoom-bar'].map((s) => [s, document.querySelector(s).getBoundingClientRect()]);
      const out = [];
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const [a, p] = boxes[i];
          const [b, q] = boxes[j];
          if (p.width && q.width && p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1) out.push(`${a} / ${b}`);
        }
      }
      return out;
    });
    assert.deepEqual(overlaps, [], 'patient (390x844): remark, banner, tools and zoom buttons apart');
    await art.shot(patPage, 'patient-screen-mic-off');
    await doc.click('#mute');
    await doc.click('#share-screen');
    await waitFor('patient: camera off again once the sharing ends', async () => (await remoteMedia()).video === 'off', 30_000);
    await doc.click('#camera');
    await waitFor('patient: the magenta camera again', async () => magenta(await meanColour(patPage)) && (await remoteMedia()).video === 'on', 30_000);

    // --- 4. torch where the camera has one ---------------------------------
    await pat.evaluate(() => {
      window.__torch = [];
      const P = MediaStreamTrack.prototype;
      const caps = P.getCapabilities;
      P.getCapabilities = function () { return this.kind === 'video' ? { ...caps.call(this), torch: true } : caps.call(this); };
      const apply = P.applyConstraints;
      P.applyConstraints = function (c) { window.__torch.push(JSON.stringify(c)); return this.kind === 'video' ? Promise.resolve() : apply.call(this, c); };
    });
    await pat.evaluate(() => {   // any re-render looks again: a language switch
      const s = document.getElementById('lang');
      s.value = 'en';
      s.dispatchEvent(new Event('change'));
    });
    await waitFor('patient: #torch shown ("Light on")', () => pat.evaluate(() => {
      const b = document.getElementById('torch');
      return !b.hidden && b.textContent === 'Light on';
    }), 15_000);
    await pat.click('#torch');
    await waitFor('patient: torch on asked, button says "Light off"', () => pat.evaluate(() => {
      const b = document.getElementById('torch');
      return b.getAttribute('aria-pressed') === 'true' && b.textContent === 'Light off';
    }), 15_000);
    assert.deepEqual(await pat.evaluate(() => window.__torch), ['{"advanced":[{"torch":true}]}']);
    await pat.evaluate(() => {
      const s = document.getElementById('lang');
      s.value = 'de';
      s.dispatchEvent(new Event('change'));
    });

    // --- 5. hang-up: nothing left -------------------------------------------
    await doc.click('#hangup');
    await pat.waitVisible('#ended', 30_000);
    await waitFor('doctor: back to the list', () => doc.evaluate(() => window.consult.state === 'list'), 30_000);
    for (const [who, d] of [['patient', pat], ['doctor', doc]]) {
      const left = await d.evaluate((texts) => ({
        log: document.querySelectorAll('#chat-log li').length,
        inPage: texts.filter((x) => document.documentElement.outerHTML.includes(x) || document.body.innerText.includes(x)),
        stored: texts.filter((x) => JSON.stringify({ ...localStorage }).includes(x) || JSON.stringify({ ...sessionStorage }).includes(x)),
        unread: document.getElementById('chat-toggle').dataset.unread,
        live: document.getElementById('chat-live').textContent,
      }), ['Ibuprofen', 'Verstanden, danke']);
      assert.deepEqual(left, { log: 0, inPage: [], stored: [], unread: '0', live: '' }, `${who}: the chat is gone with the call`);
    }
    const logs = await pair.close();
    pair = null;
    for (const x of ['Ibuprofen', 'Verstanden, danke']) assert.ok(!(logs.janusLog || '').includes(x), `Janus' log never held "${x}"`);
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
});
