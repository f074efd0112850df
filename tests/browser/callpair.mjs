// callpair.mjs - a running peer-to-peer call between the real pages, for the
// call tools tests (tests/browser/calltools.*.test.mjs; not a test itself).
//
// Contract:
// - startCallPair({name, launchPatient, launchDoctor, consoleLines, onStack,
//   preparePatient}) starts
//   Janus + nginx (lib.mjs startStack; then onStack(stack), e.g. a practice
//   setting), books an appointment over the
//   WebSocket, lets the patient join from launchPatient()'s browser (its
//   page first given to preparePatient(page), e.g. an init script) and the
//   doctor (launchDoctor()'s browser) call; the patient accepts; resolves
//   once both pages are connected with video frames decoded. Returns
//   {stack, pat, doc (drive() wrappers), patPage, docPage, close()};
//   close() never throws, stops the browsers and the stack and returns the
//   stack's logs.
// - solidY4m(file, {width, height, y, u, v}) writes a two-frame 4:2:0
//   YUV4MPEG2 file of one colour (default magenta, 640x360): a fake camera
//   whose picture cannot be mistaken for Chromium's fake screen (green).
// - meanColour(page) -> {w, h, r, g, b}: #remote-video's size and the mean
//   colour of its current frame (drawn into a small canvas).
// - chatLog(page) -> [{from, state, text}] of #chat-log.
import fs from 'node:fs';
import {
  PASSWORDS, closeAll, drive, harness, startStack, step, waitFor, waitForMedia, watchConsole,
} from './lib.mjs';

export function solidY4m(file, { width = 640, height = 360, y = 105, u = 212, v = 234 } = {}) {
  const frame = Buffer.concat([
    Buffer.from('FRAME\n'), Buffer.alloc(width * height, y), Buffer.alloc(width * height / 4, u), Buffer.alloc(width * height / 4, v),
  ]);
  fs.writeFileSync(file, Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420jpeg\n`), frame, frame]));
}

export const meanColour = (page) => page.evaluate(() => {
  const v = document.getElementById('remote-video');
  if (!v || !v.videoWidth) return null;
  const c = document.createElement('canvas');
  c.width = 64;
  c.height = 36;
  const g = c.getContext('2d', { willReadFrequently: true });
  g.drawImage(v, 0, 0, 64, 36);
  const d = g.getImageData(0, 0, 64, 36).data;
  const sum = [0, 0, 0];
  for (let i = 0; i < d.length; i += 4) { sum[0] += d[i]; sum[1] += d[i + 1]; sum[2] += d[i + 2]; }
  const n = d.length / 4;
  return { w: v.videoWidth, h: v.videoHeight, r: Math.round(sum[0] / n), g: Math.round(sum[1] / n), b: Math.round(sum[2] / n) };
});

export const chatLog = (page) => page.evaluate(() => [...document.querySelectorAll('#chat-log li')].map((li) => ({
  from: li.dataset.from, state: li.dataset.state, text: li.querySelector('.chat-text').textContent,
})));

export async function startCallPair({
  name, launchPatient, launchDoctor, consoleLines = [], onStack = null, preparePatient = null,
}) {
  const { connectHandle } = await import(harness('client.mjs'));
  const open = [];
  const out = {};
  out.close = async () => {
    const items = open.splice(0).reverse();
    await closeAll(...items);
    return out.logs || {};
  };
  try {
    const stack = await step('start Janus + nginx + seed', startStack(), 90_000);
    out.stack = stack;
    open.push(async () => { out.logs = await stack.stop(); });
    const { janus, origin, practice, doctor, reception } = stack;
    if (onStack) await onStack(stack);
    const ws = await connectHandle(janus.wsUrl);
    try {
      await ws.handle.call({ request: 'login', username: reception.username, password: PASSWORDS.reception });
      out.appt = await ws.handle.call({ request: 'create_appointment', doctor_id: doctor.id, starts_at: Math.floor(Date.now() / 1000) + 60 });
    } finally {
      await ws.client.destroy();
    }
    const patBrowser = await step(`launch patient browser (${name})`, launchPatient(), 90_000);
    open.push(patBrowser);
    out.patPage = await patBrowser.newPage();
    watchConsole(out.patPage, 'patient', consoleLines);
    if (preparePatient) await preparePatient(out.patPage);
    out.pat = drive(out.patPage, 'patient');
    await out.pat.goto(`${origin}/patient.html?p=${practice.slug}#${out.appt.code}`);
    await out.pat.fill('#first-name', 'Hanna');
    await out.pat.fill('#last-name', 'Werkzeugprüf');
    await out.pat.check('#accept-terms');
    await out.pat.click('#start');
    await out.pat.waitVisible('#waiting');

    const docBrowser = await step(`launch doctor browser (${name})`, launchDoctor(), 90_000);
    open.push(docBrowser);
    out.docPage = await docBrowser.newPage();
    watchConsole(out.docPage, 'doctor', consoleLines);
    out.doc = drive(out.docPage, 'doctor');
    await out.doc.goto(`${origin}/doctor.html`);
    await out.doc.fill('#username', doctor.username);
    await out.doc.fill('#password', PASSWORDS.doctor);
    await out.doc.click('#login');
    await waitFor('doctor: the patient can be called', () => out.doc.evaluate(() => {
      const b = document.querySelector('#waiting-list button.call');
      return !!b && !b.disabled;
    }), 30_000);
    await out.doc.click('#waiting-list button.call');
    await out.pat.waitVisible('#ringing', 30_000);
    await out.pat.click('#accept-call');
    await waitForMedia(out.patPage, 'patient');
    await waitForMedia(out.docPage, 'doctor');
    return out;
  } catch (err) {
    await out.close();
    throw err;
  }
}
