// The waiting room survives a crash of Janus: three patients with the same
// appointment time wait (real patient pages, one Chromium), the doctor's page
// is logged in; Janus is SIGKILLed and started again on the same
// configuration and database. Each patient page is back in its place within
// 10 s of Janus being up (same "N Patienten vor Ihnen": 0, 1, 2), with the
// same visit id (the page's join reply and window.consult.visitId), waiting
// times continue (waiting_since unchanged, the admin API's waiting_seconds
// not reset); the doctor's list is identical (same order, names,
// waiting_since, not marked stale). Screenshots and logs:
// tests/artifacts/resilience-waiting-room/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../browser/lib.mjs';
import {
  bookMany, doctorLogin, latestVisits, liveVisits, patientJoin, patientView, scenario, waitingRows,
} from './lib.mjs';

const PEOPLE = [
  { first: 'Anna', last: 'Erstwarter' },
  { first: 'Bernd', last: 'Zweitwarter' },
  { first: 'Carla', last: 'Drittwarterin' },
];
const BACK_WITHIN_MS = 10_000;

test('waiting room: SIGKILL Janus with three patients waiting, restart: same places, visits, waiting times, doctor list', { timeout: 240_000 }, async () => {
  await scenario('resilience-waiting-room', async (ctx) => {
    const stack = await ctx.startStack({ janus: { graceSeconds: 120 } });
    const { janus, origin, practice, doctor } = stack;
    ctx.mark('stack up');
    // Same appointment time for all three (a whole minute, 5 min from now).
    const startsAt = Math.ceil(Date.now() / 60_000) * 60 + 300;
    const appts = await bookMany(janus, practice, doctor.id, 3, startsAt);

    const browser = await ctx.launch('waiting-room');
    const patients = [];
    for (let i = 0; i < 3; i++) {
      const p = await ctx.page(browser, `patient${i}`);
      const rec = ctx.record(p, `patient${i}`);
      const d = await patientJoin(p, appts[i].link, PEOPLE[i]);
      await waitFor(`patient${i}: #waiting data-ahead=${i}`, async () => (await patientView(d)).ahead === String(i), 30_000);
      const join = rec.replies('join').at(-1);
      assert.ok(join && Number.isInteger(join.visit_id), `patient${i}: join reply with visit_id (${JSON.stringify(join)})`);
      patients.push({ d, rec, visitId: join.visit_id, ahead: String(i), aheadText: await d.text('#ahead-text') });
    }
    ctx.mark('three patients waiting');
    const docPage = await ctx.page(browser, 'doctor');
    const docRec = ctx.record(docPage, 'doctor');
    const doc = await doctorLogin(docPage, origin);
    const rowsBefore = await waitFor('doctor: three rows', async () => {
      const r = await waitingRows(doc);
      return r.length === 3 ? r : null;
    }, 30_000);
    assert.deepEqual(rowsBefore.map((r) => Number(r.id)), patients.map((p) => p.visitId), 'doctor: list in join order');
    const visitsBefore = latestVisits(docRec);
    assert.ok(visitsBefore && visitsBefore.length === 3, `doctor: the server's list (${JSON.stringify(visitsBefore)})`);
    const liveBefore = await liveVisits(janus);
    for (const p of patients) {
      const pv = await patientView(p.d);
      assert.equal(pv.visitId, p.visitId, `patient: window.consult.visitId = the join reply's visit id`);
    }
    await ctx.art.shot(patients[2].d.page, 'before-patient2');
    await ctx.art.shot(docPage, 'before-doctor');

    // --- crash and restart ------------------------------------------------
    const killed = await janus.kill('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    // Every reply from now on comes from the new Janus (pages may reach it
    // as soon as its port is open, before restart() has probed the plugin).
    const tDown = Date.now();
    ctx.mark('janus SIGKILLed');
    await janus.restart();
    const tUp = Date.now();
    ctx.mark('janus up again');

    // Each page re-joins by itself and is back in its place: polled for all
    // three at once; each one's time is when it first showed its old place
    // after a join answered by the new Janus.
    const back = patients.map(() => null);
    const deadline = Date.now() + 45_000;
    while (back.some((b) => !b) && Date.now() < deadline) {
      for (const [i, p] of patients.entries()) {
        if (back[i]) continue;
        const reply = p.rec.replies('join', tDown).at(-1);
        const view = await patientView(p.d);
        if (reply && view.state === 'waiting' && view.ahead === p.ahead) {
          back[i] = { reply, view, t: Date.now() };
          ctx.mark(`patient${i} back at ${p.ahead} (${back[i].t - tUp} ms after up)`);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await ctx.art.shot(patients[2].d.page, 'after-patient2');
    const problems = [];
    for (const [i, p] of patients.entries()) {
      if (!back[i]) {
        const view = await patientView(p.d);
        const replies = p.rec.replies('join', tDown).map((r) => ({ visit_id: r.visit_id, ahead: r.ahead, resumed: r.resumed, ok: r.ok, error: r.error }));
        problems.push(`patient${i}: not back at ahead=${p.ahead} (visit ${p.visitId}) within 45 s: page ${JSON.stringify(view)}, join replies since the restart ${JSON.stringify(replies)}`);
        continue;
      }
      const { reply, view } = back[i];
      if (reply.visit_id !== p.visitId) problems.push(`patient${i}: visit ${p.visitId} came back as ${reply.visit_id}`);
      if (reply.resumed !== true) problems.push(`patient${i}: join reply resumed=${reply.resumed}`);
      if (view.visitId !== p.visitId) problems.push(`patient${i}: page visit id ${view.visitId}, was ${p.visitId}`);
      const firstJoin = p.rec.replies('join', tDown)[0];
      if (firstJoin._t - tUp > BACK_WITHIN_MS) problems.push(`patient${i}: re-joined ${firstJoin._t - tUp} ms after Janus was up (> ${BACK_WITHIN_MS})`);
      if (back[i].t - tUp > BACK_WITHIN_MS) problems.push(`patient${i}: back in place ${back[i].t - tUp} ms after Janus was up (> ${BACK_WITHIN_MS})`);
      const text = await p.d.text('#ahead-text');
      if (text !== p.aheadText) problems.push(`patient${i}: "${text}", was "${p.aheadText}"`);
    }

    // Waiting times continued: same waiting_since, waiting_seconds not reset.
    const liveAfter = await liveVisits(janus);
    for (const v of liveBefore) {
      const a = liveAfter.find((x) => x.visit_id === v.visit_id);
      if (!a) problems.push(`live_visits: visit ${v.visit_id} gone after the restart (${JSON.stringify(liveAfter)})`);
      else if (a.waiting_seconds < v.waiting_seconds) problems.push(`live_visits: visit ${v.visit_id} waiting_seconds ${v.waiting_seconds} -> ${a.waiting_seconds}`);
    }

    // The doctor's list: identical (order, names, waiting_since).
    const strip = (vs) => vs.map((v) => ({ visit_id: v.visit_id, first_name: v.first_name, last_name: v.last_name, waiting_since: v.waiting_since, appointment_at: v.appointment_at }));
    try {
      await waitFor('doctor: the list after the restart equals the one before', async () => {
        const rows = await waitingRows(doc);
        const vs = latestVisits(docRec, tDown);
        const stale = await doc.attr('#waiting-list', 'data-stale');
        return stale !== 'true' && rows.length === 3 && vs && vs.length === 3 &&
          JSON.stringify(rows.map((r) => r.id)) === JSON.stringify(rowsBefore.map((r) => r.id)) &&
          JSON.stringify(strip(vs)) === JSON.stringify(strip(visitsBefore)) &&
          vs.every((v) => v.state === 'waiting');
      }, 45_000, 200);
    } catch (err) {
      problems.push(`${err.message}; rows ${JSON.stringify(await waitingRows(doc))}; server list ${JSON.stringify(latestVisits(docRec, tDown))} vs before ${JSON.stringify(visitsBefore)}`);
    }
    await ctx.art.shot(docPage, 'after-doctor');
    ctx.mark('checked');
    assert.deepEqual(problems, [], 'the waiting room came back as it was');
  });
});
