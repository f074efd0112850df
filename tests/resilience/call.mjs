// A running call survives signalling going away (not a test file itself).
//
// Contract: callOutage({name, outage, relay}) runs, against a fresh stack
// (fresh database; with relay also a coturn on 127.0.0.1 and the practice
// relay_only):
//   reception books (over WebSocket) -> the patient page (own Chromium)
//   joins -> the doctor page (own Chromium) calls, the patient accepts ->
//   media on both sides (relay/relay when relay) -> both pages' pcs are
//   tagged and sampled (frameSampler) -> the outage:
//     outage 'janus-kill' | 'janus-term': Janus gets SIGKILL / SIGTERM (then
//       both pages must have received server_restarting) and stays down
//       until both pages decoded new frames four times after it went;
//       started again on the same config and database;
//     outage 'nginx': a full nginx restart (SIGTERM, then start once both
//       pages decoded new frames four times after nginx went);
//     outage 'nginx-reload': nginx reloaded (SIGHUP); the old worker closes
//       the pages' WebSockets after worker_shutdown_timeout (10 s);
//   -> the patient page re-attaches (a join answered by the server with
//   state in_call and the same visit), the doctor page too (resume with the
//   call, or for nginx whatever the page does), frames keep being decoded
//   on both sides throughout (same pc, never closed, no stall over
//   STALL_MS, counters never reset) -> the doctor hangs up by clicking
//   #hangup, the patient page shows #ended -> reception's status
//   (list_appointments, polled over WebSocket) was in_call from the call's
//   start until the hang-up, then ended. All problems are collected and
//   asserted together at the end, so one run names every deviation.
// Screenshots, page consoles, WebSocket frames (on failure) and server logs:
// tests/artifacts/<name>/.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { harness, rtcSnapshot, waitFor, waitForMedia } from '../browser/lib.mjs';
import {
  bookMany, doctorLogin, patientJoin, patientView, scenario, statusWatch, waitingRows, frameSampler,
} from './lib.mjs';

const PATIENT = { first: 'Heike', last: 'Durchhalterin' };

export async function callOutage({ name, outage, relay = false }) {
  await scenario(name, async (ctx) => {
    const problems = [];
    let janusOpts = { graceSeconds: 120 };
    if (relay) {
      const { startCoturn } = await import(harness('coturn.mjs'));
      const secret = crypto.randomBytes(24).toString('hex');
      const turn = ctx.track(await startCoturn({ secret, extraLines: ['allow-loopback-peers'] }));
      janusOpts = {
        ...janusOpts,
        extraPluginConfig: { stun_uris: turn.stunUri, turn_uris: turn.uri('udp'), turn_secret: secret },
      };
    }
    const stack = await ctx.startStack({ janus: janusOpts });
    const { janus, nginx, origin, practice, doctor } = stack;
    if (relay) {
      const r = await janus.admin({ request: 'set_practice', practice: practice.slug, relay_only: true });
      assert.equal(r.ok, true, `set_practice relay_only: ${JSON.stringify(r)}`);
    }
    ctx.mark('stack up');
    const [appt] = await bookMany(janus, practice, doctor.id, 1, Math.floor(Date.now() / 1000) + 300);
    const status = ctx.track(await statusWatch(janus, appt.appointment_id));

    const patBrowser = await ctx.launch('patient');
    const patPage = await ctx.page(patBrowser, 'patient');
    const patRec = ctx.record(patPage, 'patient');
    const pat = await patientJoin(patPage, appt.link, PATIENT);
    const visitId = patRec.replies('join').at(-1).visit_id;
    const staffBrowser = await ctx.launch('doctor');
    const docPage = await ctx.page(staffBrowser, 'doctor');
    const docRec = ctx.record(docPage, 'doctor');
    const doc = await doctorLogin(docPage, origin);
    await waitFor('doctor: the patient is listed', async () => (await waitingRows(doc)).some((r) => r.id === String(visitId)), 30_000);
    await doc.click(`#waiting-list [data-visit-id="${visitId}"] button.call`);
    await pat.click('#accept-call');
    await pat.waitVisible('#call', 30_000);
    const patStats = await waitForMedia(patPage, 'patient');
    const docStats = await waitForMedia(docPage, 'doctor');
    if (relay) {
      for (const [who, s] of [['patient', patStats], ['doctor', docStats]]) {
        assert.equal(s.pair?.local?.type, 'relay', `${who}: relayed call (${JSON.stringify(s.pair)})`);
      }
    }
    await status.waitStatus('in_call', 30_000);
    const tCall = status.seen.find((s) => s.status === 'in_call').t;
    ctx.mark('call up');
    await ctx.art.shot(patPage, 'call-before');

    const samplers = [frameSampler(patPage, 'patient'), frameSampler(docPage, 'doctor')];
    ctx.track(async () => { for (const s of samplers) await s.stop(); });
    for (const s of samplers) await s.mark();
    const tMark = Date.now();
    for (const s of samplers) await s.waitBeyond('frames before the outage', tMark, 30_000);

    // --- the outage -------------------------------------------------------
    const tDown = Date.now();
    // While the server is away: both pages go on decoding (twice beyond the
    // moment it went, so several samples fall into the outage).
    // Four successive increases per side after the server has gone: the
    // outage spans several samples and the pages' first reconnect tries.
    const whileDown = async () => {
      const tGone = Date.now();
      ctx.mark(`${outage}: down`);
      for (const s of samplers) {
        let t = tGone;
        for (let i = 1; i <= 4; i++) t = (await s.waitBeyond(`frames while the server is down (${i})`, t, 30_000)).t;
      }
      const [pv, dv] = [await patientView(pat), await doc.evaluate(() => window.consult.state)];
      ctx.mark(`while down: patient ${JSON.stringify(pv)}, doctor state ${dv}`);
      if (pv.state !== 'call') problems.push(`patient page left the call while the server was down (state ${pv.state})`);
      if (dv !== 'call') problems.push(`doctor page left the call while the server was down (state ${dv})`);
      if (!/wiederhergestellt/.test(pv.notice)) problems.push(`patient page shows no reconnect notice while the server is down ("${pv.notice}")`);
      await ctx.art.shot(patPage, 'call-server-down');
    };
    let tUp;
    if (outage === 'nginx-reload') {
      // The old worker keeps the pages' WebSockets until
      // worker_shutdown_timeout, then closes them: the pages reconnect
      // through the new worker while the call goes on.
      const { old } = await nginx.reload();
      ctx.mark(`nginx reloaded (old workers ${old.join(',')})`);
      const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
      await waitFor('the old nginx worker exits (worker_shutdown_timeout)', () => old.every((p) => !alive(p)), 40_000, 100);
      tUp = Date.now();
    } else if (outage === 'nginx') {
      await nginx.restart({ signal: 'SIGTERM', between: whileDown });
      tUp = Date.now();
    } else {
      const sig = outage === 'janus-term' ? 'SIGTERM' : 'SIGKILL';
      const exit = await janus.kill(sig);
      ctx.mark(`janus exit ${JSON.stringify(exit)}`);
      if (sig === 'SIGTERM' && exit.code !== 0) problems.push(`janus did not exit cleanly on SIGTERM: ${JSON.stringify(exit)}`);
      if (sig === 'SIGTERM') {
        // The graceful stop told both pages at once.
        for (const [who, rec] of [['patient', patRec], ['doctor', docRec]]) {
          if (!rec.events('server_restarting', tDown).length) problems.push(`${who}: no server_restarting event before Janus stopped`);
        }
      }
      await whileDown();
      await janus.restart();
      tUp = Date.now();
    }
    ctx.mark(`${outage}: up again`);

    // --- re-attached --------------------------------------------------------
    const before = problems.length;
    // Both sides at once (a failing run should not wait out two deadlines).
    const [patBack, docBack] = await Promise.allSettled([
      waitFor('patient: re-attached to its call (join reply state in_call, same visit)', () => {
        const r = patRec.replies('join', tDown).at(-1);
        return r && r.ok !== false && r.visit_id === visitId && r.state === 'in_call' ? r : null;
      }, 45_000, 200),
      waitFor('doctor: re-attached to its call (resume reply with the call)', () => {
        const r = docRec.replies('resume', tDown).at(-1);
        return r && r.ok !== false && r.call && r.call.visit_id === visitId ? r : null;
      }, 45_000, 200),
    ]);
    if (patBack.status === 'rejected') problems.push(`${patBack.reason.message}; join replies since the outage: ${JSON.stringify(patRec.replies('join', tDown))}`);
    else ctx.mark(`patient re-attached (${patBack.value._t - tUp} ms after up)`);
    if (docBack.status === 'rejected') {
      problems.push(`${docBack.reason.message}; resume replies: ${JSON.stringify(docRec.replies('resume', tDown))}, login replies: ${JSON.stringify(docRec.replies('login', tDown).map((r) => ({ ok: r.ok, error: r.error })))}`);
    } else ctx.mark(`doctor re-attached (${docBack.value._t - tUp} ms after up)`);
    // Not re-attached: the rest would only wait out its deadlines.
    if (problems.length > before) {
      for (const s of samplers) problems.push(...s.check(tMark, Date.now()));
      assert.deepEqual(problems, [], 'the call went on through the outage');
    }
    try {
      await waitFor('patient: the reconnect notice is gone', async () => !/wiederhergestellt/.test((await patientView(pat)).notice), 30_000, 200);
    } catch (err) { problems.push(err.message); }
    for (const s of samplers) {
      try {
        const a = await s.waitBeyond('frames after the server is back', Date.now(), 30_000);
        await s.waitBeyond('more frames after the server is back', a.t, 30_000);
      } catch (err) { problems.push(err.message); }
    }
    const tEnd = Date.now();
    for (const s of samplers) problems.push(...s.check(tMark, tEnd));
    ctx.mark('media checked');
    await ctx.art.shot(patPage, 'call-after');
    await ctx.art.shot(docPage, 'doctor-call-after');

    // --- hang up through the page -----------------------------------------
    const tHang = Date.now();
    try {
      await doc.click('#hangup');
      await pat.waitVisible('#ended', 30_000);
      const st = await patientView(pat);
      if (st.state !== 'ended') problems.push(`patient page state after hangup: ${st.state}`);
      await ctx.art.shot(patPage, 'ended');
      const callEnded = patRec.events('call_ended', tHang).at(-1);
      if (!callEnded || callEnded.reason !== 'doctor_hangup') problems.push(`patient: call_ended ${JSON.stringify(callEnded)}`);
      await status.waitStatus('ended', 30_000, tHang);
    } catch (err) {
      problems.push(`hang up after the outage: ${err.message}`);
    }
    for (const s of samplers) await s.stop();

    // Reception saw in_call from the call's start until the hang-up.
    const wrong = status.seen.filter((s) => s.t >= tCall && s.t < tHang && s.status !== 'in_call');
    if (wrong.length) problems.push(`reception status not in_call during the call: ${JSON.stringify(wrong.slice(0, 5).map((s) => ({ at: s.t - tDown, status: s.status })))}`);
    const afterUp = status.seen.filter((s) => s.t >= tUp && s.t < tHang);
    if (!afterUp.length) problems.push('reception status was never read between the restart and the hang-up');
    ctx.mark(`reception: ${afterUp.length} reads between up and hangup`);
    const snap = await rtcSnapshot(patPage).catch(() => null);
    ctx.mark(`patient pc after hangup: ${snap && snap.connectionState}`);
    assert.deepEqual(problems, [], 'the call went on through the outage');
  });
}
