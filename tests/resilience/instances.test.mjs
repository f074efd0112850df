// Two Janus instances behind nginx (the two-instance samples, made runnable
// by tests/nginx/instances.mjs: only the addresses changed), sharing one
// SQLite file (WAL; the samples' PostgreSQL is replaced to keep this stage
// quick: the leases and the restore are the same code on both backends,
// tests/protocol/failover.test.mjs and postgres.test.mjs cover the store).
// Two patients of one practice wait on instance A (the holder: a page that
// nginx's hash sends to B first follows practice_elsewhere to /janus/i/A),
// the doctor's page is logged in.
// - A is SIGKILLed: within 15 s each patient page shows the same place
//   ("N Patienten vor Ihnen", same visit id) again, joined on B by itself
//   (B serves the practice, the join reply came after the kill), and the
//   doctor's page resumed with both patients listed.
// - A is paused (SIGSTOP) until B has taken the practice over, then runs
//   again: A tells its pages practice_moved naming B, and each page follows
//   that name to /janus/i/B (window.consult.instance) and shows the same
//   place there; the doctor's page resumes on B.
// Screenshots, page WebSocket traffic and both Janus logs:
// tests/artifacts/resilience-instances-*/.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PASSWORDS, harness, waitFor } from '../browser/lib.mjs';
import { nginxForInstances, pluginSamples } from '../nginx/instances.mjs';
import { bookMany, doctorLogin, patientJoin, patientView, scenario, waitingRows } from './lib.mjs';

const PEOPLE = [
  { first: 'Anna', last: 'Erstwarter' },
  { first: 'Bernd', last: 'Zweitwarter' },
];
const BACK_WITHIN_MS = 15_000;

const heldBy = async (janus) => (await janus.admin({ request: 'health' })).lease.practices.map((p) => p.practice_id);

// A (holding the practice), B, nginx from the samples; two patients waiting
// and the doctor logged in through nginx. Runs fn(setup), stops everything.
async function withTwoInstances(ctx, fn) {
  const { startJanus, freePort } = await import(harness('janus.mjs'));
  const { startNginx } = await import(harness('nginx.mjs'));
  const { seedPractice } = await import(harness('seed.mjs'));
  const samples = pluginSamples();
  const names = { a: samples.a.instance, b: samples.b.instance };
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-instances-'));
  const base = { dataDir, codeSecret: crypto.randomBytes(32).toString('hex'), publicUrl: origin };
  const cfg = (s) => ({ instance: s.instance, lease_seconds: s.lease_seconds, grace_seconds: s.grace_seconds });
  const s = { names, origin, A: null, B: null, nginx: null, patients: [] };
  try {
    s.A = await startJanus({ ...base, extraPluginConfig: cfg(samples.a) });
    s.practice = await seedPractice(s.A, {
      slug: 'praxis-zwei', name: 'Hautärzte an zwei Servern', phone: '0721-5550100',
      doctors: [{ username: 'dr.pruef', display_name: 'Dr. Prüf', password: PASSWORDS.doctor }],
      receptions: [{ username: 'empfang', display_name: 'Empfang', password: PASSWORDS.reception }],
    });
    await waitFor(`${names.a} serves the practice`, async () => (await heldBy(s.A)).includes(s.practice.practiceId), 20_000);
    s.B = await startJanus({ ...base, extraPluginConfig: cfg(samples.b) });
    s.nginx = await startNginx({ port, ...nginxForInstances({ [names.a]: s.A.wsPort, [names.b]: s.B.wsPort }) });
    ctx.mark(`stack up: ${names.a} holds the practice, ${names.b} waits`);

    const startsAt = Math.ceil(Date.now() / 60_000) * 60 + 300;
    const appts = await bookMany(s.A, s.practice, s.practice.doctors[0].id, 2, startsAt);
    const browser = await ctx.launch('instances');
    for (let i = 0; i < 2; i++) {
      const p = await ctx.page(browser, `patient${i}`);
      const rec = ctx.record(p, `patient${i}`);
      const d = await patientJoin(p, appts[i].link, PEOPLE[i]);
      await waitFor(`patient${i}: #waiting data-ahead=${i}`, async () => (await patientView(d)).ahead === String(i), 30_000);
      const join = rec.replies('join').at(-1);
      assert.ok(join && join.ok && Number.isInteger(join.visit_id), `patient${i}: join reply (${JSON.stringify(join)})`);
      const instance = await d.evaluate(() => window.consult.instance);
      assert.ok(instance === null || instance === names.a, `patient${i}: served by ${names.a} (followed: ${instance})`);
      s.patients.push({ d, rec, visitId: join.visit_id, ahead: String(i), aheadText: await d.text('#ahead-text') });
      ctx.mark(`patient${i} waiting (followed instance: ${instance})`);
    }
    const live = (await s.A.admin({ request: 'live_visits' })).visits.map((v) => v.visit_id).sort();
    assert.deepEqual(live, s.patients.map((p) => p.visitId).sort(), `both visits live on ${names.a}`);
    const docPage = await ctx.page(browser, 'doctor');
    s.doctor = await doctorLogin(docPage, origin);
    await waitFor('doctor: two rows', async () => (await waitingRows(s.doctor)).length === 2, 30_000);
    ctx.mark(`doctor logged in (followed instance: ${await s.doctor.evaluate(() => window.consult.instance)})`);
    await ctx.art.shot(s.patients[1].d.page, 'before-patient1');
    await fn(s);
  } finally {
    if (s.nginx) await s.nginx.stop().catch(() => {});
    for (const [name, j] of [[names.a, s.A], [names.b, s.B]]) {
      if (!j) continue;
      try { process.kill(j.pid, 'SIGCONT'); } catch { /* not running */ }
      if (j.alive()) await j.stop().catch(() => {});
      try { fs.writeFileSync(path.join(ctx.art.dir, `janus-${name}.log`), j.log()); } catch { /* gone */ }
      fs.rmSync(j.dir, { recursive: true, force: true });
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

// Every patient page back at its place with a join answered after `since`
// (polled; each one's time noted). -> list of problems.
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
        ctx.mark(`patient${i} back at ${p.ahead} (${back[i].t - since} ms)`);
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await ctx.art.shot(s.patients[1].d.page, 'after-patient1');
  const problems = [];
  for (const [i, p] of s.patients.entries()) {
    if (!back[i]) {
      const replies = p.rec.replies('join', since).map((r) => ({ ok: r.ok, error: r.error, instance: r.instance }));
      problems.push(`patient${i}: not back at ahead=${p.ahead} within 45 s: page ${JSON.stringify(await patientView(p.d))}, join replies ${JSON.stringify(replies)}`);
      continue;
    }
    const { reply, view } = back[i];
    if (reply._t - since > BACK_WITHIN_MS) problems.push(`patient${i}: joined again after ${reply._t - since} ms (> ${BACK_WITHIN_MS})`);
    if (back[i].t - since > BACK_WITHIN_MS) problems.push(`patient${i}: place shown after ${back[i].t - since} ms (> ${BACK_WITHIN_MS})`);
    if (reply.visit_id !== p.visitId) problems.push(`patient${i}: visit ${p.visitId} came back as ${reply.visit_id}`);
    if (view.visitId !== p.visitId) problems.push(`patient${i}: page visit id ${view.visitId}, was ${p.visitId}`);
    const text = await p.d.text('#ahead-text');
    if (text !== p.aheadText) problems.push(`patient${i}: "${text}", was "${p.aheadText}"`);
    const followed = await p.d.evaluate(() => window.consult.instance);
    if (followed === s.names.a) problems.push(`patient${i}: still follows ${s.names.a}`);
    if (instance !== undefined && followed !== instance) problems.push(`patient${i}: follows ${followed}, not ${instance}`);
  }
  return problems;
}

async function servedByB(s) {
  assert.ok((await heldBy(s.B)).includes(s.practice.practiceId), `${s.names.b} serves the practice`);
  const liveB = (await s.B.admin({ request: 'live_visits' })).visits.filter((v) => v.state === 'waiting').map((v) => v.visit_id).sort();
  assert.deepEqual(liveB, s.patients.map((p) => p.visitId).sort(), `both visits waiting on ${s.names.b}`);
}

async function doctorBack(ctx, s, since, instance) {
  await waitFor('doctor: resumed with two rows', async () => {
    const st = await s.doctor.evaluate(() => ({ s: window.consult.signalling, r: window.consult.reattached, i: window.consult.instance }));
    return st.s === 'up' && st.r >= 1 && (instance === undefined || st.i === instance) && (await waitingRows(s.doctor)).length === 2;
  }, 30_000);
  ctx.mark(`doctor resumed (${Date.now() - since} ms)`);
}

test('two instances: SIGKILL the holder with two patients waiting: each page shows its place on the other instance within 15 s', { timeout: 240_000 }, async () => {
  await scenario('resilience-instances-kill', async (ctx) => {
    await withTwoInstances(ctx, async (s) => {
      const killed = await s.A.kill('SIGKILL');
      assert.equal(killed.signal, 'SIGKILL');
      const tKill = Date.now();
      ctx.mark(`${s.names.a} SIGKILLed`);
      assert.deepEqual(await placesBack(ctx, s, tKill), []);
      await servedByB(s);
      await doctorBack(ctx, s, tKill);
    });
  });
});

test('two instances: the holder paused past its lease, running again: practice_moved names the other, the pages follow it there', { timeout: 240_000 }, async () => {
  await scenario('resilience-instances-moved', async (ctx) => {
    await withTwoInstances(ctx, async (s) => {
      process.kill(s.A.pid, 'SIGSTOP');
      ctx.mark(`${s.names.a} SIGSTOPped`);
      await waitFor(`${s.names.b} took the practice over`, async () => (await heldBy(s.B)).includes(s.practice.practiceId), 30_000);
      const tCont = Date.now();
      process.kill(s.A.pid, 'SIGCONT');
      ctx.mark(`${s.names.a} running again`);
      for (const [i, p] of s.patients.entries()) {
        await waitFor(`patient${i}: practice_moved naming ${s.names.b}`,
          () => p.rec.events('practice_moved', tCont).find((e) => e.instance === s.names.b), 30_000);
      }
      assert.deepEqual(await placesBack(ctx, s, tCont, { instance: s.names.b }), []);
      await servedByB(s);
      await doctorBack(ctx, s, tCont, s.names.b);
    });
  });
});
