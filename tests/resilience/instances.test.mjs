// Two Janus instances behind nginx (the two-instance samples, made runnable
// by tests/nginx/instances.mjs: only the addresses changed), sharing one
// store: PostgreSQL (the samples' store) in a fresh schema of a throw-away
// server when CONSULT_TEST_STORE is a postgresql:// URL (the resilience
// stage runs behind scripts/lib/with-postgres), and one SQLite file (WAL;
// instances on one host may share it) for the SIGKILL scenario always.
// Two practices, both held by instance A; patients of both wait on A (two
// each; a page that nginx's hash sends to B first follows
// practice_elsewhere to /janus/i/A).
// - SIGKILL with a call running: the doctor of the first practice is in a
//   peer-to-peer call with a third patient of it (own Chromium each, fake
//   camera, real pages) when A is SIGKILLed. Within 15 s (lease 5 s +
//   restore + reconnect; the times are printed) each waiting page shows
//   the same place ("N Patienten vor Ihnen", same visit id) again, joined
//   on B by itself. Both call pages keep decoding frames throughout (same
//   RTCPeerConnection, never closed, no stall over STALL_MS), re-attach on
//   B (patient: a join answered with state in_call on the same visit;
//   doctor: a resume answered with the call), B's live_visits shows the
//   call in_call and the waiting visits waiting; the doctor hangs up by
//   clicking #hangup on B: the patient page shows #ended with call_ended
//   doctor_hangup, the doctor page leaves the call, and B's admin API no
//   longer lists the visit (stats: no call of the practice in_call).
// - SIGSTOP (the primary store only): A is paused until B has taken both
//   practices over, then runs again: A tells its pages practice_moved
//   naming B, each page follows that name to /janus/i/B
//   (window.consult.instance) and shows the same place there; the doctor's
//   page resumes on B. A page whose liveness watch gave the frozen A up
//   before (html/js/liveness.mjs: A is frozen about as long as the watch
//   waits) reconnects by itself instead and must be back the same way.
// In both, every instance's `health` is polled throughout (lease.practices
// with since_ms..until_ms): no practice is ever served by A and B at once,
// A served both before, B both after. That the lease alone guarantees this
// when renewals are late (a slow database: CONSULT_TEST_LEASE_RENEW_DELAY_MS,
// handovers back and forth) is shown at protocol level, on both stores, by
// tests/protocol/failover.test.mjs; the pages add nothing to that proof.
// Screenshots, page consoles, WebSocket frames (on failure), both Janus
// logs and a timeline: tests/artifacts/resilience-instances-*/.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PASSWORDS, harness, waitFor, waitForMedia } from '../browser/lib.mjs';
import { nginxForInstances, pluginSamples } from '../nginx/instances.mjs';
import {
  bookMany, doctorLogin, frameSampler, liveVisits, patientJoin, patientView, scenario, waitingRows, waitingOn,
} from './lib.mjs';

// Waiting patients: two per practice.
const WAITING = [
  [{ first: 'Anna', last: 'Erstwarter' }, { first: 'Bernd', last: 'Zweitwarter' }],
  [{ first: 'Clara', last: 'Drittwarter' }, { first: 'Dieter', last: 'Viertwarter' }],
];
const IN_CALL = { first: 'Heike', last: 'Durchhalterin' };
const BACK_WITHIN_MS = 15_000;

const PG_BASE = process.env.CONSULT_TEST_STORE || '';
const ON_PG = /^postgres(ql)?:\/\//.test(PG_BASE);
const PSQL = ['/usr/lib/postgresql/15/bin/psql', '/usr/bin/psql'].find((p) => fs.existsSync(p));
const PRIMARY = ON_PG ? 'postgresql' : 'sqlite';
const KILL_STORES = ON_PG ? ['postgresql', 'sqlite'] : ['sqlite'];

// Where the two instances keep their data: extra plugin config and a drop().
function makeStore(kind) {
  if (kind === 'sqlite') return { config: {}, drop: () => {} };
  const schema = `instances_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
  const url = `${PG_BASE}${PG_BASE.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
  const psql = (sql) => execFileSync(PSQL, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', PG_BASE, '-c', sql], { encoding: 'utf8', stdio: 'pipe' });
  psql(`CREATE SCHEMA ${schema}`);
  return { config: { database: url }, drop: () => psql(`DROP SCHEMA ${schema} CASCADE`) };
}

const health = async (janus) => (await janus.admin({ request: 'health' })).lease;
const heldBy = async (janus) => (await health(janus)).practices.map((p) => p.practice_id);

// Polls each instance's health on its own loop (a paused instance answers
// late, a killed one not at all) and keeps every span of service seen:
// key instance/practice/since -> {inst, practice, since, until} (ms, the
// instance's own clock: one host here). overlaps() -> the spans of one
// practice on A and B that intersect.
function holderWatch() {
  const spans = new Map();
  let running = true;
  const loop = async (name, janus) => {
    while (running && janus.alive()) {
      try {
        const l = await health(janus);
        for (const p of l.practices) {
          const key = `${name}/${p.practice_id}/${p.since_ms}`;
          const old = spans.get(key);
          spans.set(key, { inst: name, practice: p.practice_id, since: p.since_ms, until: Math.max(p.until_ms, old ? old.until : 0) });
        }
      } catch { /* killed, or stopped meanwhile */ }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const loops = [];
  return {
    watch(name, janus) { loops.push(loop(name, janus)); },
    spans: () => [...spans.values()],
    served: (name, practice) => [...spans.values()].some((x) => x.inst === name && x.practice === practice),
    overlaps() {
      const all = [...spans.values()];
      const out = [];
      for (const x of all) {
        for (const y of all) {
          if (x.inst < y.inst && x.practice === y.practice && !(x.until <= y.since || y.until <= x.since)) {
            out.push(`practice ${x.practice}: ${x.inst} ${x.since}..${x.until} and ${y.inst} ${y.since}..${y.until}`);
          }
        }
      }
      return out;
    },
    stop() { running = false; return Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 5000))]); },
  };
}

// A (holding both practices), B, nginx from the samples; two patients of
// each practice waiting, the first practice's doctor logged in through
// nginx, with `call` also in a call with a third patient of it. Runs
// fn(setup), stops everything.
async function withTwoInstances(ctx, { store, call }, fn) {
  const { startJanus, freePort } = await import(harness('janus.mjs'));
  const { startNginx } = await import(harness('nginx.mjs'));
  const { seedPractice } = await import(harness('seed.mjs'));
  const samples = pluginSamples();
  const names = { a: samples.a.instance, b: samples.b.instance };
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-instances-'));
  const db = makeStore(store);
  const base = { dataDir, codeSecret: crypto.randomBytes(32).toString('hex'), publicUrl: origin };
  const cfg = (s) => ({ ...db.config, instance: s.instance, lease_seconds: s.lease_seconds, grace_seconds: s.grace_seconds });
  const s = { names, origin, A: null, B: null, nginx: null, patients: [], holders: holderWatch() };
  try {
    s.A = await startJanus({ ...base, extraPluginConfig: cfg(samples.a) });
    assert.match(s.A.log(), store === 'sqlite' ? /\[consult\] store: SQLite/ : /\[consult\] store: PostgreSQL/);
    s.practices = [
      await seedPractice(s.A, {
        slug: 'praxis-zwei', name: 'Hautärzte an zwei Servern', phone: '0721-5550100',
        doctors: [{ username: 'dr.pruef', display_name: 'Dr. Prüf', password: PASSWORDS.doctor }],
        receptions: [{ username: 'empfang', display_name: 'Empfang', password: PASSWORDS.reception }],
      }),
      await seedPractice(s.A, {
        slug: 'praxis-nachbar', name: 'Hausarztpraxis nebenan', phone: '0721-5550200',
        doctors: [{ username: 'dr.nachbar', display_name: 'Dr. Nachbar', password: PASSWORDS.doctor }],
        receptions: [{ username: 'empfang.nachbar', display_name: 'Empfang', password: PASSWORDS.reception }],
      }),
    ];
    s.ids = s.practices.map((p) => p.practiceId);
    await waitFor(`${names.a} serves both practices`, async () => {
      const held = await heldBy(s.A);
      return s.ids.every((id) => held.includes(id));
    }, 20_000);
    s.holders.watch('A', s.A);
    s.B = await startJanus({ ...base, extraPluginConfig: cfg(samples.b) });
    s.holders.watch('B', s.B);
    s.nginx = await startNginx({ port, ...nginxForInstances({ [names.a]: s.A.wsPort, [names.b]: s.B.wsPort }) });
    ctx.mark(`stack up (${store}): ${names.a} holds both practices, ${names.b} waits`);

    const startsAt = Math.ceil(Date.now() / 60_000) * 60 + 300;
    const [P, Q] = s.practices;
    const appts = [
      await bookMany(s.A, P, P.doctors[0].id, call ? 3 : 2, startsAt),
      await bookMany(s.A, Q, Q.doctors[0].id, 2, startsAt),
    ];
    // The doctor logs in once someone waits (an empty list stays hidden).
    const docBrowser = await ctx.launch('doctor');
    const docPage = await ctx.page(docBrowser, 'doctor');
    s.docRec = ctx.record(docPage, 'doctor');
    const login = async () => {
      s.doctor = await doctorLogin(docPage, origin);
      ctx.mark(`doctor logged in (followed instance: ${await s.doctor.evaluate(() => window.consult.instance)})`);
    };

    if (call) {
      // The call first: the waiting patients' places do not move after.
      const patBrowser = await ctx.launch('call-patient');
      const patPage = await ctx.page(patBrowser, 'call-patient');
      const rec = ctx.record(patPage, 'call-patient');
      const d = await patientJoin(patPage, appts[0].pop().link, IN_CALL);
      const visitId = rec.replies('join').at(-1).visit_id;
      await login();
      await waitFor('doctor: the patient is listed', async () => (await waitingRows(s.doctor)).some((r) => r.id === String(visitId)), 30_000);
      await s.doctor.click(`#waiting-list [data-visit-id="${visitId}"] button.call`);
      await d.click('#accept-call');
      await d.waitVisible('#call', 30_000);
      await waitForMedia(patPage, 'call-patient');
      await waitForMedia(docPage, 'doctor');
      s.call = { d, rec, visitId, page: patPage, docPage };
      ctx.mark(`call up (visit ${visitId})`);
    }

    const browser = await ctx.launch('waiting');
    for (const [k, list] of appts.entries()) {
      for (const [i, appt] of list.entries()) {
        s.patients.push(await waitingOn(ctx, browser, { who: `patient-${k}-${i}`, link: appt.link, person: WAITING[k][i], ahead: i, holder: names.a }));
      }
    }
    if (!call) await login();
    const live = (await liveVisits(s.A)).map((v) => v.visit_id).sort();
    const expected = [...s.patients.map((p) => p.visitId), ...(call ? [s.call.visitId] : [])].sort();
    assert.deepEqual(live, expected, `every visit live on ${names.a}`);
    await waitFor('doctor: two rows', async () => (await waitingRows(s.doctor)).length === 2, 30_000);
    await ctx.art.shot(s.patients[1].d.page, 'before-patient1');
    await fn(s);
    // No practice was ever served by both; A served each before, B after.
    await s.holders.stop();
    ctx.mark(`holders: ${JSON.stringify(s.holders.spans())}`);
    assert.deepEqual(s.holders.overlaps(), [], 'a practice served by A and B at once');
    for (const id of s.ids) {
      assert.ok(s.holders.served('A', id) && s.holders.served('B', id), `practice ${id} served by A, then by B: ${JSON.stringify(s.holders.spans())}`);
    }
  } finally {
    await s.holders.stop();
    if (s.nginx) await s.nginx.stop().catch(() => {});
    for (const [name, j] of [[names.a, s.A], [names.b, s.B]]) {
      if (!j) continue;
      try { process.kill(j.pid, 'SIGCONT'); } catch { /* not running */ }
      if (j.alive()) await j.stop().catch(() => {});
      try { fs.writeFileSync(path.join(ctx.art.dir, `janus-${name}.log`), j.log()); } catch { /* gone */ }
      fs.rmSync(j.dir, { recursive: true, force: true });
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
    db.drop();
  }
}

// Every waiting patient page back at its place with a join answered after
// `since` (polled; each one's time noted), following `instance` (a name, or
// a function of the patient) if given. -> {problems, times}.
async function placesBack(ctx, s, since, { instance } = {}) {
  const back = s.patients.map(() => null);
  const deadline = since + 45_000;
  while (back.some((b) => !b) && Date.now() < deadline) {
    for (const [i, p] of s.patients.entries()) {
      if (back[i]) continue;
      const reply = p.rec.replies('join', since).filter((r) => r.ok).at(-1);
      const view = await patientView(p.d);
      if (reply && view.state === 'waiting' && view.ahead === p.ahead) {
        back[i] = { reply, view, t: Date.now() };
        ctx.mark(`${p.who} back at ${p.ahead} (${back[i].t - since} ms)`);
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await ctx.art.shot(s.patients[1].d.page, 'after-patient1');
  const problems = [];
  for (const [i, p] of s.patients.entries()) {
    if (!back[i]) {
      const replies = p.rec.replies('join', since).map((r) => ({ ok: r.ok, error: r.error, instance: r.instance }));
      problems.push(`${p.who}: not back at ahead=${p.ahead} within 45 s: page ${JSON.stringify(await patientView(p.d))}, join replies ${JSON.stringify(replies)}`);
      continue;
    }
    const { reply, view } = back[i];
    if (reply._t - since > BACK_WITHIN_MS) problems.push(`${p.who}: joined again after ${reply._t - since} ms (> ${BACK_WITHIN_MS})`);
    if (back[i].t - since > BACK_WITHIN_MS) problems.push(`${p.who}: place shown after ${back[i].t - since} ms (> ${BACK_WITHIN_MS})`);
    if (reply.visit_id !== p.visitId) problems.push(`${p.who}: visit ${p.visitId} came back as ${reply.visit_id}`);
    if (view.visitId !== p.visitId) problems.push(`${p.who}: page visit id ${view.visitId}, was ${p.visitId}`);
    const text = await p.d.text('#ahead-text');
    if (text !== p.aheadText) problems.push(`${p.who}: "${text}", was "${p.aheadText}"`);
    const followed = await p.d.evaluate(() => window.consult.instance);
    if (followed === s.names.a) problems.push(`${p.who}: still follows ${s.names.a}`);
    const want = typeof instance === 'function' ? instance(p) : instance;
    if (want !== undefined && followed !== want) problems.push(`${p.who}: follows ${followed}, not ${want}`);
  }
  const times = back.map((b) => (b ? b.t - since : null));
  return { problems, times };
}

async function servedByB(s, { inCall } = {}) {
  const held = await heldBy(s.B);
  assert.ok(s.ids.every((id) => held.includes(id)), `${s.names.b} serves both practices (holds ${JSON.stringify(held)})`);
  const visits = await liveVisits(s.B);
  const waiting = visits.filter((v) => v.state === 'waiting').map((v) => v.visit_id).sort();
  assert.deepEqual(waiting, s.patients.map((p) => p.visitId).sort(), `every waiting visit waiting on ${s.names.b}`);
  if (inCall) {
    assert.deepEqual(visits.filter((v) => v.state === 'in_call').map((v) => v.visit_id), [inCall], `the call in_call on ${s.names.b}`);
  }
}

async function doctorBack(ctx, s, since, instance) {
  await waitFor('doctor: resumed with two rows', async () => {
    const st = await s.doctor.evaluate(() => ({ s: window.consult.signalling, r: window.consult.reattached, i: window.consult.instance }));
    return st.s === 'up' && st.r >= 1 && (instance === undefined || st.i === instance) && (await waitingRows(s.doctor)).length === 2;
  }, 30_000);
  ctx.mark(`doctor resumed (${Date.now() - since} ms)`);
}

for (const store of KILL_STORES) {
  test(`two instances (${store}): SIGKILL the holder with patients of two practices waiting and a P2P call running: places back on the other within 15 s, the call goes on and hangs up there`, { timeout: 300_000 }, async (t) => {
    await scenario(`resilience-instances-kill-${store}`, async (ctx) => {
      await withTwoInstances(ctx, { store, call: true }, async (s) => {
        const { call } = s;
        const samplers = [frameSampler(call.page, 'call-patient'), frameSampler(call.docPage, 'doctor')];
        ctx.track(async () => { for (const x of samplers) await x.stop(); });
        for (const x of samplers) await x.mark();
        const tMark = Date.now();
        for (const x of samplers) await x.waitBeyond('frames before the kill', tMark, 30_000);

        const killed = await s.A.kill('SIGKILL');
        assert.equal(killed.signal, 'SIGKILL');
        const tKill = Date.now();
        ctx.mark(`${s.names.a} SIGKILLed`);
        const problems = [];

        // The call pages re-attach on B (the only instance left) while the
        // waiting pages come back; all polled at once.
        const [places, patBack, docBack] = await Promise.allSettled([
          placesBack(ctx, s, tKill),
          waitFor('call-patient: re-attached to its call (join reply state in_call, same visit)', () => {
            const r = call.rec.replies('join', tKill).at(-1);
            return r && r.ok !== false && r.visit_id === call.visitId && r.state === 'in_call' ? r : null;
          }, 45_000, 200),
          waitFor('doctor: re-attached to its call (resume reply with the call)', () => {
            const r = s.docRec.replies('resume', tKill).at(-1);
            return r && r.ok !== false && r.call && r.call.visit_id === call.visitId ? r : null;
          }, 45_000, 200),
        ]);
        if (places.status === 'rejected') throw places.reason;
        problems.push(...places.value.problems);
        const times = places.value.times;
        const summary = [`waiting pages back at their places on ${s.names.b} after ${times.join(', ')} ms (max ${Math.max(...times.filter((x) => x !== null))})`];
        if (patBack.status === 'rejected') problems.push(`${patBack.reason.message}; join replies since the kill: ${JSON.stringify(call.rec.replies('join', tKill))}`);
        else summary.push(`call patient re-attached after ${patBack.value._t - tKill} ms`);
        if (docBack.status === 'rejected') problems.push(`${docBack.reason.message}; resume replies: ${JSON.stringify(s.docRec.replies('resume', tKill))}`);
        else summary.push(`doctor re-attached after ${docBack.value._t - tKill} ms`);
        for (const line of summary) { ctx.mark(line); t.diagnostic(`${store}: ${line}`); }
        if (patBack.status === 'rejected' || docBack.status === 'rejected') {
          for (const x of samplers) problems.push(...x.check(tMark, Date.now()));
          assert.deepEqual(problems, [], 'the failover with a call running');
        }

        // Media went on throughout and still goes on after the re-attach.
        for (const x of samplers) {
          try {
            const a = await x.waitBeyond('frames after the re-attach', Date.now(), 30_000);
            await x.waitBeyond('more frames after the re-attach', a.t, 30_000);
          } catch (err) { problems.push(err.message); }
        }
        for (const x of samplers) problems.push(...x.check(tMark, Date.now()));
        ctx.mark('media checked');
        const pv = await patientView(call.d);
        if (pv.state !== 'call') problems.push(`call-patient page left the call (state ${pv.state})`);
        await servedByB(s, { inCall: call.visitId });
        await ctx.art.shot(call.page, 'call-after-failover');
        await ctx.art.shot(call.docPage, 'doctor-after-failover');

        // The doctor hangs up, on B.
        const tHang = Date.now();
        try {
          await s.doctor.click('#hangup');
          await call.d.waitVisible('#ended', 30_000);
          const st = await patientView(call.d);
          if (st.state !== 'ended') problems.push(`call-patient page state after hangup: ${st.state}`);
          const ended = call.rec.events('call_ended', tHang).at(-1);
          if (!ended || ended.reason !== 'doctor_hangup') problems.push(`call-patient: call_ended ${JSON.stringify(ended)}`);
          await waitFor('doctor: out of the call', async () => (await s.doctor.evaluate(() => window.consult.state)) !== 'call', 30_000);
          await waitFor(`${s.names.b}: the visit no longer live`, async () => !(await liveVisits(s.B)).some((v) => v.visit_id === call.visitId), 30_000);
          const stats = (await s.B.admin({ request: 'stats', practice: s.practices[0].slug })).practices[0];
          if (stats.in_call !== 0) problems.push(`${s.names.b} stats: in_call ${stats.in_call} after the hang-up`);
          await ctx.art.shot(call.page, 'ended');
        } catch (err) {
          problems.push(`hang up on ${s.names.b}: ${err.message}`);
        }
        for (const x of samplers) await x.stop();
        await doctorBack(ctx, s, tKill);
        assert.deepEqual(problems, [], 'the failover with a call running');
      });
    });
  });
}

test(`two instances (${PRIMARY}): the holder paused past its lease, running again: practice_moved names the other, the pages follow it there`, { timeout: 240_000 }, async () => {
  await scenario(`resilience-instances-moved-${PRIMARY}`, async (ctx) => {
    await withTwoInstances(ctx, { store: PRIMARY, call: false }, async (s) => {
      // sockets each page (and the doctor's) opened so far
      const opened = new Map([...s.patients.map((p) => [p.who, p.rec.sockets()]), ['doctor', s.docRec.sockets()]]);
      process.kill(s.A.pid, 'SIGSTOP');
      const tStop = Date.now();
      ctx.mark(`${s.names.a} SIGSTOPped`);
      await waitFor(`${s.names.b} took both practices over`, async () => {
        const held = await heldBy(s.B);
        return s.ids.every((id) => held.includes(id));
      }, 30_000);
      // a page that gave A up: its connection is down, or it opened a new one
      const gaveUp = async (who, d, rec) => rec.sockets() > opened.get(who) || (await d.evaluate(() => window.consult.signalling)) !== 'up';
      const left = new Set();
      for (const p of s.patients) if (await gaveUp(p.who, p.d, p.rec)) left.add(p.who);
      const docLeft = await gaveUp('doctor', s.doctor, s.docRec);
      const tCont = Date.now();
      process.kill(s.A.pid, 'SIGCONT');
      ctx.mark(`${s.names.a} running again`);
      // A frozen longer than the pages' liveness watch allows (html/js/
      // liveness.mjs: no answer to a keepalive within 4 s) is a lost
      // connection to a page: such a page (down, or on a new socket, when
      // A runs again) reconnects by itself and must be back at its place, not
      // on A; every page still on A when it runs again hears practice_moved
      // naming B and follows that name.
      ctx.mark(`pages that left the frozen ${s.names.a} by themselves: ${[...left].join(', ') || 'none'}`);
      for (const p of s.patients) {
        if (left.has(p.who)) continue;
        await waitFor(`${p.who}: practice_moved naming ${s.names.b}`,
          () => p.rec.events('practice_moved', tCont).find((e) => e.instance === s.names.b), 30_000);
      }
      const { problems } = await placesBack(ctx, s, tStop, { instance: (p) => (left.has(p.who) ? undefined : s.names.b) });
      assert.deepEqual(problems, []);
      await servedByB(s);
      if (docLeft) ctx.mark(`the doctor's page left the frozen ${s.names.a} by itself`);
      await doctorBack(ctx, s, tCont, docLeft ? undefined : s.names.b);
    });
  });
});
