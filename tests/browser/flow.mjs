// The end-to-end consultation flow shared by the browser tests (not a test
// file itself).
//
// Contract: consultationFlow({ testName, launchPatient }) runs, against a
// fresh stack (Janus + consult plugin + nginx serving html/):
//   reception (Chromium) logs in and books the doctor for now+5 min, reads
//   #result-link -> the patient (launchPatient(): Chromium or Firefox) opens
//   it, fills the form and joins (#waiting data-ahead=0) -> a second
//   patient (raw WebSocket) with an earlier appointment joins (ahead=1), the
//   doctor (Chromium) sees both in queue order, the second patient leaves
//   (ahead=0 again) -> the doctor calls, the patient accepts -> both
//   RTCPeerConnections connected, video frames decoded on both sides, the
//   selected pair host/host on both sides -> Janus' admin API shows no
//   PeerConnection on any consult handle -> the doctor hangs up, the patient
//   sees #ended. The reception table's data-status follows (booked, waiting,
//   in_call, ended); these and the log-privacy checks are collected and
//   asserted at the end so the main flow still runs to the end.
// Screenshots: tests/artifacts/<testName>/NN-<step>.png (patient steps, plus
// staff views prefixed staff-); on failure every page is captured and the
// page consoles and server logs are written next to them. Every browser is
// closed and nginx/Janus stopped even when a step fails.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  artifacts, closeAll, consultHandleInfos, drive, harness, janusMediaFindings, launchChromium,
  PASSWORDS, rtcSnapshot, selectValue, startStack, step, waitFor, waitForMedia, watchConsole,
} from './lib.mjs';

const PATIENT = { first: 'Jürgen', last: 'Müllerprüf' };
const SECOND = { first: 'Zweitpatientin', last: 'Vorderfrau' };
const CODE_RE = /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/;


const rowStatus = (d, id) => d.evaluate((i) => {
  const row = document.querySelector(`#appointments [data-appointment-id="${i}"]`);
  const st = row && row.querySelector('.status');
  return st ? st.getAttribute('data-status') : null;
}, String(id));

const waitingRows = (d) => d.evaluate(() => [...document.querySelectorAll('#waiting-list [data-visit-id]')]
  .map((el) => ({ id: el.getAttribute('data-visit-id'), text: el.textContent.replace(/\s+/g, ' ').trim() })));

// Everything a running flow has opened, so an after() hook can close it even
// when the test was cancelled by its timeout (closes are idempotent).
const open = new Set();
export async function cleanupAll() {
  const items = [...open].reverse();
  open.clear();
  await closeAll(...items);
}
const track = (x, close) => { if (x) open.add(close || x); return x; };

export async function consultationFlow({ testName, launchPatient }) {
  const art = artifacts(testName);
  const consoleLines = [];
  const soft = [];
  const softCheck = async (name, fn) => {
    try { await fn(); } catch (err) { soft.push(`${name}: ${err.message}`); }
  };
  let stack = null;
  let staff = null;
  let patientBrowser = null;
  const pages = {};
  let ws = null;
  const t0 = Date.now();
  const timings = [];
  const mark = (label) => timings.push(`${String(Date.now() - t0).padStart(6)} ms  ${label}`);
  let failed = true;
  let logs = {};
  const secrets = [];
  try {
    stack = track(await step('start Janus + nginx + seed', startStack(), 90_000));
    mark('stack started');
    const { janus, origin, practice, doctor } = stack;

    // --- reception books an appointment -----------------------------------
    staff = track(await step('launch Chromium (staff)', launchChromium('staff'), 90_000));
    mark('staff Chromium launched');
    const recPage = await staff.newPage();
    watchConsole(recPage, 'reception', consoleLines);
    const rec = drive(recPage, 'reception');
    pages.reception = rec;
    await rec.goto(`${origin}/reception.html`);
    await rec.fill('#username', 'empfang');
    await rec.fill('#password', PASSWORDS.reception);
    await rec.click('#login');
    await rec.waitVisible('#create');
    await selectValue(rec, '#doctor', String(doctor.id));
    const when = await rec.evaluate(() => {
      const d = new Date(Date.now() + 5 * 60_000);
      const p = (n) => String(n).padStart(2, '0');
      return { date: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`, time: `${p(d.getHours())}:${p(d.getMinutes())}` };
    });
    await rec.fill('#date', when.date);
    await rec.fill('#time', when.time);
    await rec.click('#create');
    const link = await waitFor('reception: #result-link holds the patient link',
      async () => { const v = await rec.value('#result-link'); return v && /\/patient\.html\?p=[^#]+#./.test(v) ? v : null; }, 30_000);
    const code = (await rec.text('#result-code')) || (await rec.value('#result-code'));
    assert.match(code, CODE_RE, 'reception: #result-code is a formatted access code');
    assert.equal(link, `${origin}/patient.html?p=${practice.slug}#${code}`, 'reception: link = public_url/patient.html?p=slug#code');
    await art.shot(recPage, 'staff-reception-created');
    mark('appointment created');
    const apptId = await waitFor('reception: the new appointment row appears', () => rec.evaluate(() => {
      const rows = [...document.querySelectorAll('#appointments [data-appointment-id]')];
      return rows.length === 1 ? rows[0].getAttribute('data-appointment-id') : null;
    }), 30_000);
    await softCheck('reception row status booked', () => waitFor('reception: status booked',
      async () => (await rowStatus(rec, apptId)) === 'booked', 30_000));

    // --- the patient joins --------------------------------------------------
    patientBrowser = track(await step('launch patient browser', launchPatient(), 90_000));
    mark('patient browser launched');
    const patPage = await patientBrowser.newPage();
    watchConsole(patPage, 'patient', consoleLines);
    const pat = drive(patPage, 'patient');
    pages.patient = pat;
    await pat.goto(link);
    await waitFor('patient: #practice-name shows the practice',
      async () => (await pat.text('#practice-name')) === practice.name, 30_000);
    assert.equal(await pat.visible('#code-input'), false, 'patient: #code-input hidden when the link has a code');
    await pat.fill('#first-name', PATIENT.first);
    await pat.fill('#last-name', PATIENT.last);
    await pat.check('#accept-terms');
    await art.shot(patPage, 'form-filled');
    await pat.click('#start');
    await pat.waitVisible('#waiting');
    await waitFor('patient: #waiting data-ahead="0"', async () => (await pat.attr('#waiting', 'data-ahead')) === '0', 30_000);
    assert.match(await pat.text('#waiting'), /Sie sind als Nächste\/r dran/, 'patient: text for position 0');
    assert.equal(await pat.evaluate(() => window.consult && window.consult.state), 'waiting');
    await art.shot(patPage, 'waiting-next');
    mark('patient waiting');
    await softCheck('reception row status waiting', () => waitFor('reception: status waiting',
      async () => (await rowStatus(rec, apptId)) === 'waiting', 30_000));

    // --- a second patient with an earlier appointment joins over WebSocket --
    const { connectHandle } = await import(harness('client.mjs'));
    ws = await connectHandle(janus.wsUrl);
    track(ws, () => ws.client.destroy());
    await ws.handle.call({ request: 'login', username: 'empfang', password: PASSWORDS.reception });
    const appt2 = await ws.handle.call({ request: 'create_appointment', doctor_id: doctor.id, starts_at: Math.floor(Date.now() / 1000) - 300 });
    const p2 = await connectHandle(janus.wsUrl);
    ws.p2 = p2;
    track(p2, () => p2.client.destroy());
    const joined2 = await p2.handle.call({
      request: 'join', practice: practice.slug, code: appt2.code,
      first_name: SECOND.first, last_name: SECOND.last, accept_terms: true,
    });
    assert.equal(joined2.ahead, 0, 'second patient (earlier appointment) is first in the queue');
    await waitFor('patient: #waiting data-ahead="1" after an earlier patient joined',
      async () => (await pat.attr('#waiting', 'data-ahead')) === '1', 30_000);
    assert.match(await pat.text('#waiting'), /1 Patient(en)? vor Ihnen/, 'patient: text for position 1');
    await art.shot(patPage, 'waiting-one-ahead');
    mark('second patient joined');

    // --- the doctor logs in and sees both, in queue order -------------------
    const docPage = await staff.newPage();
    watchConsole(docPage, 'doctor', consoleLines);
    const doc = drive(docPage, 'doctor');
    pages.doctor = doc;
    await doc.goto(`${origin}/doctor.html`);
    await doc.fill('#username', 'dr.pruef');
    await doc.fill('#password', PASSWORDS.doctor);
    await doc.click('#login');
    const rows = await waitFor('doctor: #waiting-list shows both patients',
      async () => { const r = await waitingRows(doc); return r.length === 2 ? r : null; }, 30_000);
    assert.equal(rows[0].id, String(joined2.visit_id), 'doctor: the earlier appointment is listed first');
    assert.ok(rows[1].text.includes(PATIENT.first) && rows[1].text.includes(PATIENT.last),
      `doctor: second row shows the patient's name (got "${rows[1].text}")`);
    await art.shot(docPage, 'staff-doctor-list-two');
    mark('doctor list');

    // The second patient leaves: positions and the list update live.
    await p2.handle.call({ request: 'leave' });
    await waitFor('patient: #waiting data-ahead="0" after the earlier patient left',
      async () => (await pat.attr('#waiting', 'data-ahead')) === '0', 30_000);
    await art.shot(patPage, 'waiting-next-again');
    const rows1 = await waitFor('doctor: #waiting-list shrinks to one patient',
      async () => { const r = await waitingRows(doc); return r.length === 1 ? r : null; }, 30_000);
    const visitId = rows1[0].id;

    // --- the call -----------------------------------------------------------
    await doc.click(`#waiting-list [data-visit-id="${visitId}"] button.call`);
    await pat.waitVisible('#ringing', 30_000);
    assert.equal(await pat.evaluate(() => window.consult.state), 'ringing');
    await art.shot(patPage, 'ringing');
    mark('ringing');
    await pat.click('#accept-call');
    await pat.waitVisible('#call', 30_000);
    mark('accepted');
    const patStats = await waitForMedia(patPage, 'patient');
    const docStats = await waitForMedia(docPage, 'doctor');
    mark('media on both sides');
    await art.shot(patPage, 'in-call');
    await art.shot(docPage, 'staff-doctor-in-call');
    const sides = [['patient', patStats, docStats], ['doctor', docStats, patStats]];
    for (const [who, s, other] of sides) {
      assert.equal(s.connectionState, 'connected', `${who}: connectionState`);
      assert.ok(s.framesDecoded > 0, `${who}: video frames decoded (${s.framesDecoded})`);
      assert.equal(s.pair?.local?.type, 'host', `${who}: selected local candidate is host (${JSON.stringify(s.pair)})`);
      assert.equal(remoteTypeSeen(s.pair, other.pair), 'host', `${who}: selected remote candidate is host (${JSON.stringify(s.pair)} / other side ${JSON.stringify(other.pair)})`);
    }
    assert.equal(await doc.evaluate(() => window.consult.state), 'call');
    assert.equal(await pat.evaluate(() => window.consult.state), 'call');

    // Janus carried no media: no consult handle has a PeerConnection.
    const infos = await step('Janus admin: handle_info of every consult handle', consultHandleInfos(janus), 30_000);
    // reception page, doctor page, patient page, the reception WS client, the second patient's WS client.
    assert.ok(infos.length >= 3, `expected >= 3 consult handles, got ${infos.length}`);
    for (const info of infos) {
      assert.deepEqual(janusMediaFindings(info), [], `Janus terminated media on consult handle ${info.handle_id}`);
    }
    // The two call handles are among them (the plugin's query_session reports kind/role/state).
    const ps = infos.map((i) => i.plugin_specific || {});
    assert.ok(ps.some((p) => p.kind === 'patient' && p.state === 'in_call'), `no patient handle in_call among ${JSON.stringify(ps)}`);
    assert.ok(ps.some((p) => p.role === 'doctor' && p.state === 'in_call'), `no doctor handle in_call among ${JSON.stringify(ps)}`);
    mark(`Janus admin: ${infos.length} consult handles, none with a PeerConnection`);
    if (process.env.CONSULT_E2E_DUMP_HANDLES) console.error(JSON.stringify(infos, null, 1));
    await softCheck('reception row status in_call', () => waitFor('reception: status in_call',
      async () => (await rowStatus(rec, apptId)) === 'in_call', 30_000));
    // Media keeps flowing: more frames a moment later on the patient side.
    await waitFor('patient: frames keep being decoded',
      async () => (await rtcSnapshot(patPage)).framesDecoded > patStats.framesDecoded, 30_000);

    // --- hang up ------------------------------------------------------------
    await doc.click('#hangup');
    await pat.waitVisible('#ended', 30_000);
    assert.equal(await pat.evaluate(() => window.consult.state), 'ended');
    await art.shot(patPage, 'ended');
    mark('ended');
    await waitFor('doctor: back to the list after hangup',
      async () => (await doc.evaluate(() => window.consult.state)) === 'list', 30_000);
    await softCheck('patient pc closed after hangup', () => waitFor('patient: pc closed or gone', () => pat.evaluate(() => {
      const pc = window.consult.pc;
      return !pc || pc.connectionState === 'closed' || pc.signalingState === 'closed';
    }), 30_000));
    await softCheck('reception row status ended', () => waitFor('reception: status ended',
      async () => (await rowStatus(rec, apptId)) === 'ended', 30_000));
    await art.shot(recPage, 'staff-reception-ended');

    secrets.push(PATIENT.last, SECOND.last, code, appt2.code);
    failed = false;
  } finally {
    if (failed) {
      for (const [who, d] of Object.entries(pages)) {
        try {
          const st = await Promise.race([d.evaluate(() => window.consult && window.consult.state), new Promise((r) => setTimeout(() => r('?'), 3000))]);
          consoleLines.push(`[${who}] final state: ${st}`);
        } catch { /* page gone */ }
        await art.shot(d.page, `failure-${who}`);
      }
      if (soft.length) consoleLines.push(...soft.map((s) => `[soft] ${s}`));
    }
    if (ws) {
      await closeAll(() => ws.p2 && ws.p2.client.destroy(), () => ws.client.destroy());
    }
    await closeAll(patientBrowser, staff);
    mark('browsers closed');
    if (stack) {
      logs = await stack.stop();
      if (logs.janusLog) fs.writeFileSync(path.join(art.dir, 'janus.log'), logs.janusLog);
      if (logs.nginxError) fs.writeFileSync(path.join(art.dir, 'nginx-error.log'), logs.nginxError);
    }
    mark('stack stopped');
    fs.writeFileSync(path.join(art.dir, 'console.log'), consoleLines.join('\n') + '\n');
    fs.writeFileSync(path.join(art.dir, 'timings.txt'), timings.join('\n') + '\n');
    if (failed && consoleLines.length) console.error(`# page console (also in ${art.dir}/console.log):\n# ` + consoleLines.slice(-40).join('\n# '));
  }

  // Only reached when the flow passed. Privacy: no patient name or code in
  // the Janus log; the code (URL fragment) never reaches nginx. Janus, stopped
  // after every client had gone, exits 0.
  await softCheck('janus exited cleanly', async () => assert.equal(logs.janus?.code, 0, `janus exit ${JSON.stringify(logs.janus)}`));
  for (const secret of secrets) {
    await softCheck(`janus log free of "${secret.slice(0, 3)}..."`, async () => assert.ok(!(logs.janusLog || '').includes(secret)));
  }
  await softCheck('nginx access log free of the codes', async () => {
    for (const c of secrets.slice(2)) assert.ok(!(logs.nginxAccess || '').includes(c));
  });
  assert.deepEqual(soft, [], 'secondary checks failed');
}

// The type of the remote end of a selected pair. A connectivity check that
// arrives before the trickled candidate makes the remote candidate
// "peer-reflexive" (both browsers keep that label; on a busy machine the
// candidate, which travels through Janus, is often the later one); it is
// still the other browser's host candidate when the other side's selected
// local candidate is a host candidate with the very same address and port.
// Chromium does not report a prflx candidate's address (null): then the port
// must match and the other side's selected pair must point back at this
// side's local candidate (address and port).
function remoteTypeSeen(pair, otherPair) {
  const r = pair?.remote, l = otherPair?.local;
  if (r?.type === 'prflx' && l?.type === 'host' && r.port != null && r.port === l.port) {
    if (r.address === l.address) return 'host';
    const back = otherPair?.remote, mine = pair?.local;
    if (r.address == null && back && mine && back.address === mine.address && back.port === mine.port) return 'host';
  }
  return r?.type;
}
