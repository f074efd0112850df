// Helpers for the resilience scenarios (tests/resilience): a consultation
// survives Janus and nginx going away (docs/operations.md).
//
// Contract (on top of tests/browser/lib.mjs, whose stack and browsers these
// reuse; nothing here sleeps for a fixed time, every wait is a condition
// with a deadline):
// - recordWs(page, who) records every Janus message the page sends and
//   receives on its WebSockets (Playwright's websocket events, so it sees
//   the page's traffic without relying on the page's own API). rec.replies(
//   request, since?) -> plugin reply data of that request in arrival order
//   (each with ._t = receive time, ms), rec.events(name, since?) -> plugin
//   events, rec.sockets() -> number of sockets the page opened.
// - bookMany(janus, practice, doctorId, n, startsAt): n appointments with the
//   same start time through a reception login over WebSocket ->
//   [{appointment_id, code, link}].
// - patientJoin(page, link, person): the real patient page: form, terms,
//   Start; resolves once #waiting is shown.
// - doctorLogin(page, origin, password) / receptionLogin(...): the real staff
//   pages.
// - patientView(d): {state, ahead, visitId} as the page shows it
//   (window.consult, #waiting data-ahead).
// - waitingRows(d): the doctor page's list [{id, text}] in order.
// - frameSampler(page, who): samples the page's RTCPeerConnection
//   (window.consult.pc) every ~300 ms in the background; .mark() tags the pc
//   object so .samePc() can tell whether the page kept it; .samples;
//   .waitBeyond(what, t, ms) waits for a sample after time t whose
//   framesDecoded exceeds the newest one taken at or before t;
//   .check(from, to) -> list of problems in [from, to]: a counter going
//   back, a different or closed/failed pc, or a sample without a new frame
//   more than STALL_MS after the last one with progress. stop() ends
//   sampling.
// - statusWatch(janus, appointmentId): a reception login over WebSocket that
//   polls list_appointments while Janus is up, reconnecting after a
//   restart; .seen -> [{t, status}], .waitStatus(s, ms), .stop().
// - liveVisits(janus): the admin API's live_visits (ids, states,
//   waiting_seconds; no names).
// - waitingOn(ctx, browser, {who, link, person, ahead, holder}): a new page
//   of the scenario ctx in browser joins with the link and waits at place
//   `ahead` on the instance named holder (the page's followed instance is
//   null or holder) -> {who, d, rec, visitId, ahead, aheadText}.
import assert from 'node:assert/strict';
import { drive, harness, PASSWORDS, rtcSnapshot, selectValue, waitFor } from '../browser/lib.mjs';

export const STALL_MS = 4000;

export function recordWs(page, who) {
  const frames = [];
  let sockets = 0;
  const tx = new Map(); // transaction -> request name
  page.on('websocket', (ws) => {
    sockets += 1;
    ws.on('framesent', ({ payload }) => {
      let m;
      try { m = JSON.parse(String(payload)); } catch { return; }
      if (m && m.transaction && m.body && m.body.request) tx.set(m.transaction, m.body.request);
      frames.push({ t: Date.now(), dir: 'out', msg: m });
    });
    ws.on('framereceived', ({ payload }) => {
      let m;
      try { m = JSON.parse(String(payload)); } catch { return; }
      frames.push({ t: Date.now(), dir: 'in', msg: m });
    });
  });
  const pluginData = (since) => frames
    .filter((f) => f.dir === 'in' && f.t >= (since || 0) && f.msg?.plugindata?.data)
    .map((f) => ({ ...f.msg.plugindata.data, _t: f.t, _tx: f.msg.transaction }));
  return {
    who,
    frames,
    sockets: () => sockets,
    replies(request, since) {
      return pluginData(since).filter((d) => d.consult !== 'event' && d._tx && tx.get(d._tx) === request);
    },
    events(name, since) {
      return pluginData(since).filter((d) => d.consult === 'event' && (!name || d.event === name));
    },
    sent(request, since) {
      return frames.filter((f) => f.dir === 'out' && f.t >= (since || 0) && f.msg?.body?.request === request)
        .map((f) => ({ ...f.msg.body, _t: f.t }));
    },
  };
}

export async function bookMany(janus, practice, doctorId, n, startsAt) {
  const { connectHandle } = await import(harness('client.mjs'));
  const rec = await connectHandle(janus.wsUrl);
  try {
    await rec.handle.call({ request: 'login', username: practice.receptions[0].username, password: PASSWORDS.reception });
    const out = [];
    for (let i = 0; i < n; i++) {
      const a = await rec.handle.call({ request: 'create_appointment', doctor_id: doctorId, starts_at: startsAt });
      out.push(a);
    }
    return out;
  } finally {
    await rec.client.destroy().catch(() => {});
  }
}

export async function patientJoin(page, link, person) {
  const d = drive(page, `patient ${person.last}`);
  await d.goto(link);
  await d.fill('#first-name', person.first);
  await d.fill('#last-name', person.last);
  await d.check('#accept-terms');
  await d.click('#start');
  await d.waitVisible('#waiting', 45_000);
  return d;
}

export async function staffLogin(page, origin, file, username, password, readySel) {
  const d = drive(page, file.replace('.html', ''));
  await d.goto(`${origin}/${file}`);
  await d.fill('#username', username);
  await d.fill('#password', password);
  await d.click('#login');
  await d.waitVisible(readySel, 45_000);
  return d;
}

export const doctorLogin = (page, origin, username = 'dr.pruef') =>
  staffLogin(page, origin, 'doctor.html', username, PASSWORDS.doctor, '#waiting-list');

export const receptionLogin = (page, origin) =>
  staffLogin(page, origin, 'reception.html', 'empfang', PASSWORDS.reception, '#create');

export async function waitingOn(ctx, browser, { who, link, person, ahead, holder }) {
  const p = await ctx.page(browser, who);
  const rec = ctx.record(p, who);
  const d = await patientJoin(p, link, person);
  await waitFor(`${who}: #waiting data-ahead=${ahead}`, async () => (await patientView(d)).ahead === String(ahead), 30_000);
  const join = rec.replies('join').at(-1);
  assert.ok(join && join.ok && Number.isInteger(join.visit_id), `${who}: join reply (${JSON.stringify(join)})`);
  const instance = await d.evaluate(() => window.consult.instance);
  assert.ok(instance === null || instance === holder, `${who}: served by ${holder} (followed: ${instance})`);
  ctx.mark(`${who} waiting (followed instance: ${instance})`);
  return { who, d, rec, visitId: join.visit_id, ahead: String(ahead), aheadText: await d.text('#ahead-text') };
}

export function patientView(d) {
  return d.evaluate(() => {
    const c = window.consult || {};
    const w = document.querySelector('#waiting');
    const v = c.visitId ?? c.visit_id ?? c.visit?.id ?? null;
    return {
      state: c.state || null,
      ahead: w && !w.hidden ? w.getAttribute('data-ahead') : null,
      visitId: v == null ? null : Number(v),
      notice: (() => { const n = document.querySelector('#notice'); return n && !n.hidden ? n.textContent.trim() : ''; })(),
    };
  });
}

export const waitingRows = (d) => d.evaluate(() => [...document.querySelectorAll('#waiting-list [data-visit-id]')]
  .map((el) => ({ id: el.getAttribute('data-visit-id'), text: el.textContent.replace(/\s+/g, ' ').trim() })));

// The doctor's newest list as the server sent it: the latest `waiting` event
// or waiting_list reply on the page's WebSocket.
export function latestVisits(rec, since) {
  const all = [...rec.events('waiting', since), ...rec.replies('waiting_list', since)]
    .sort((a, b) => a._t - b._t);
  const last = all[all.length - 1];
  return last ? last.visits : null;
}

export function frameSampler(page, who, pcPath = 'consult.pc') {
  const samples = [];
  let running = true;
  let markId = null;
  const loop = (async () => {
    while (running) {
      const t = Date.now();
      try {
        const s = await rtcSnapshot(page, pcPath);
        const tag = await page.evaluate((p) => {
          const pc = p.split('.').reduce((o, k) => (o == null ? o : o[k]), window);
          return pc ? pc.__resilienceMark || null : null;
        }, pcPath);
        samples.push({ t, tEnd: Date.now(), frames: s.framesDecoded ?? null, conn: s.connectionState ?? null, missing: !!s.missing, tag });
      } catch (err) {
        samples.push({ t, tEnd: Date.now(), error: err.message });
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  return {
    who,
    samples,
    async mark() {
      markId = `${who}-${Date.now()}`;
      await page.evaluate(([p, id]) => {
        const pc = p.split('.').reduce((o, k) => (o == null ? o : o[k]), window);
        if (pc) pc.__resilienceMark = id;
      }, [pcPath, markId]);
      return markId;
    },
    latest() { return samples[samples.length - 1]; },
    async waitBeyond(what, t, ms = 30_000) {
      const base = [...samples].reverse().find((s) => s.t <= t && typeof s.frames === 'number');
      const floor = base ? base.frames : 0;
      try {
        return await waitFor(`${who}: ${what} (frames decoded beyond ${floor})`,
          () => samples.find((s) => s.t > t && typeof s.frames === 'number' && s.frames > floor), ms, 200);
      } catch (err) {
        throw new Error(`${err.message}; newest sample ${JSON.stringify(samples.at(-1))}`);
      }
    },
    check(from, to) {
      const probs = [];
      const win = samples.filter((s) => s.t >= from && s.t <= to);
      if (win.length < 3) probs.push(`${who}: only ${win.length} samples in the window`);
      let lastFrames = null;
      let lastProgress = from;
      for (const s of win) {
        if (s.error) { probs.push(`${who}: sample failed at +${s.t - from} ms: ${s.error}`); continue; }
        if (s.missing) { probs.push(`${who}: no RTCPeerConnection at +${s.t - from} ms`); continue; }
        if (markId && s.tag !== markId) probs.push(`${who}: another RTCPeerConnection at +${s.t - from} ms (mark ${s.tag})`);
        if (s.conn === 'closed' || s.conn === 'failed') probs.push(`${who}: connectionState ${s.conn} at +${s.t - from} ms`);
        if (lastFrames !== null && s.frames < lastFrames) probs.push(`${who}: framesDecoded went back ${lastFrames} -> ${s.frames} at +${s.t - from} ms`);
        // A stall is a sample without a new frame more than STALL_MS after
        // the last one with progress (a sample that itself came late on a
        // busy machine but shows progress is no stall).
        if (lastFrames === null || s.frames > lastFrames) lastProgress = s.t;
        else if (s.t - lastProgress > STALL_MS) probs.push(`${who}: no new frame for ${s.t - lastProgress} ms at +${s.t - from} ms`);
        lastFrames = s.frames;
      }
      // One line per kind of problem (its first occurrence).
      const kinds = new Map();
      for (const p of probs) {
        const k = p.replace(/[0-9]+/g, 'N');
        if (!kinds.has(k)) kinds.set(k, p);
        else kinds.set(k, kinds.get(k).replace(/( \(and later\))?$/, ' (and later)'));
      }
      return [...kinds.values()];
    },
    async stop() { running = false; await loop; },
  };
}

export async function liveVisits(janus) {
  const r = await janus.admin({ request: 'live_visits' });
  if (!r.ok) throw new Error(`live_visits: ${r.error}`);
  return r.visits;
}

export async function statusWatch(janus, appointmentId) {
  const { connectHandle } = await import(harness('client.mjs'));
  const seen = [];
  let running = true;
  let conn = null;
  const drop = () => { const c = conn; conn = null; if (c) c.client.close(); };
  const loop = (async () => {
    while (running) {
      try {
        if (!conn) {
          conn = await connectHandle(janus.wsUrl);
          await conn.handle.call({ request: 'login', username: 'empfang', password: PASSWORDS.reception });
        }
        const r = await conn.handle.call({ request: 'list_appointments' }, { timeout: 5000 });
        const row = r.appointments.find((a) => a.id === appointmentId);
        seen.push({ t: Date.now(), status: row ? row.status : null });
      } catch {
        drop();
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    drop();
  })();
  return {
    seen,
    waitStatus(status, ms = 30_000, since = 0) {
      return waitFor(`reception status ${status}`, () => seen.find((s) => s.t >= since && s.status === status), ms, 100);
    },
    async stop() { running = false; await loop; },
  };
}

export { selectValue };

// scenario(name, fn): runs fn(ctx) with ctx = {art, log(line), pages (who ->
// drive()), track(x), startStack(opts), launch(name)}; afterwards (also on
// failure) screenshots every page if it failed, closes browsers and stops
// the stack, writing console.log, janus.log, nginx-error.log and
// timeline.txt into tests/artifacts/<name>/.
export async function scenario(name, fn) {
  const { artifacts, closeAll, launchChromium, startStack, watchConsole } = await import('../browser/lib.mjs');
  const fs = await import('node:fs');
  const path = await import('node:path');
  const art = artifacts(name);
  const lines = [];
  const t0 = Date.now();
  const timeline = [];
  const opened = [];
  let stack = null;
  const pages = {};
  const recs = [];
  const ctx = {
    art,
    pages,
    // recordWs() for a page, its frames written to ws-<who>.json on failure.
    record(page, who) { const r = recordWs(page, who); recs.push(r); return r; },
    mark(label) { timeline.push(`${String(Date.now() - t0).padStart(7)} ms  ${label}`); },
    async startStack(opts) { stack = await startStack(opts); return stack; },
    async launch(who) { const b = await launchChromium(who); opened.push(b); return b; },
    async page(browser, who) {
      const p = await browser.newPage();
      watchConsole(p, who, lines);
      pages[who] = drive(p, who);
      return p;
    },
    track(x) { opened.push(x); return x; },
  };
  let failed = true;
  try {
    await fn(ctx);
    failed = false;
  } finally {
    if (failed) {
      for (const [who, d] of Object.entries(pages)) {
        try {
          const st = await Promise.race([d.evaluate(() => JSON.stringify({ state: window.consult?.state, notice: document.querySelector('#notice')?.textContent })), new Promise((r) => setTimeout(() => r('?'), 3000))]);
          lines.push(`[${who}] final: ${st}`);
        } catch { /* page gone */ }
        await art.shot(d.page, `failure-${who}`);
      }
      for (const r of recs) {
        fs.writeFileSync(path.join(art.dir, `ws-${r.who}.json`),
          JSON.stringify({ sockets: r.sockets(), frames: r.frames.map((f) => ({ t: f.t - t0, dir: f.dir, msg: f.msg })) }, null, 1));
      }
    }
    await closeAll(...opened.reverse());
    if (stack) {
      const logs = await stack.stop();
      if (logs.janusLog) fs.writeFileSync(path.join(art.dir, 'janus.log'), logs.janusLog);
      if (logs.nginxError) fs.writeFileSync(path.join(art.dir, 'nginx-error.log'), logs.nginxError);
    }
    fs.writeFileSync(path.join(art.dir, 'console.log'), lines.join('\n') + '\n');
    fs.writeFileSync(path.join(art.dir, 'timeline.txt'), timeline.join('\n') + '\n');
    if (failed) console.error(`# ${name}: timeline\n# ${timeline.join('\n# ')}\n# page console tail:\n# ${lines.slice(-30).join('\n# ')}`);
  }
}
