// vanish.test.mjs: the host of an instance vanishes (power loss, a cut
// link) and closes no socket; the waiting pages notice it by themselves
// (html/js/liveness.mjs: silence, an unanswered keepalive) instead of
// waiting for nginx's proxy_read_timeout (60 s), and are back at their
// places on the other instance within 25 s (detection at most 15 s after
// the last message, then nginx's 2 s connect timeout and the reconnect).
// Two Janus instances behind nginx (the two-instance samples, as
// instances.test.mjs runs them) on PostgreSQL when CONSULT_TEST_STORE is a
// postgresql:// URL (the resilience stage runs behind
// scripts/lib/with-postgres), else on one SQLite file; two practices, both
// held by A, two patients of each waiting on A (a page that nginx's hash
// sends to B first follows practice_elsewhere to /janus/i/A).
// The vanish, inside the test's own loopback-only namespace: an nft table
// drops every packet to and from A's WebSocket port (nginx's connections to
// A stay "open" and silent, a new connection's SYN goes unanswered, so
// nginx's proxy_connect_timeout 2 s + proxy_next_upstream send new
// connections to B), and A is frozen with SIGSTOP at the same moment: a
// vanished host renews no lease either (A's store connection cannot be
// told apart from B's by port, so freezing is what stops its renewals;
// while A is frozen its kernel would still answer TCP, which the nft drop
// prevents). Once every page is back on B, A is SIGKILLed (it never comes
// back; the packets its dying sockets send are dropped too).
// Asserts: each waiting page sent a liveness keepalive (transaction
// alive-N) after the vanish, joined again (same visit, join answered after
// the vanish) and shows the same place ("N Patienten vor Ihnen", same
// data-ahead) within 25 s, not following A; B holds both practices and
// lists every visit waiting. The times are printed.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PASSWORDS, harness, waitFor } from '../browser/lib.mjs';
import { nginxForInstances, pluginSamples } from '../nginx/instances.mjs';
import { bookMany, liveVisits, patientView, scenario, waitingOn } from './lib.mjs';

const WAITING = [
  [{ first: 'Anna', last: 'Erstwarter' }, { first: 'Bernd', last: 'Zweitwarter' }],
  [{ first: 'Clara', last: 'Drittwarter' }, { first: 'Dieter', last: 'Viertwarter' }],
];
// detection (liveness.mjs: at most QUIET_MS + ANSWER_MS = 15 s after the last
// message), nginx's 2 s connect timeout, the reconnect backoff and the join
const BACK_WITHIN_MS = 25_000;
const GIVE_UP_MS = 40_000;     // nginx's proxy_read_timeout (60 s) would come later
const NFT = '/usr/sbin/nft';

const PG_BASE = process.env.CONSULT_TEST_STORE || '';
const ON_PG = /^postgres(ql)?:\/\//.test(PG_BASE);
const PSQL = ['/usr/lib/postgresql/15/bin/psql', '/usr/bin/psql'].find((p) => fs.existsSync(p));

function makeStore() {
  if (!ON_PG) return { kind: 'sqlite', config: {}, drop: () => {} };
  const schema = `vanish_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
  const url = `${PG_BASE}${PG_BASE.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
  const psql = (sql) => execFileSync(PSQL, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', PG_BASE, '-c', sql], { encoding: 'utf8', stdio: 'pipe' });
  psql(`CREATE SCHEMA ${schema}`);
  return { kind: 'postgresql', config: { database: url }, drop: () => psql(`DROP SCHEMA ${schema} CASCADE`) };
}

const heldBy = async (janus) => (await janus.admin({ request: 'health' })).lease.practices.map((p) => p.practice_id);

// Drops every packet to and from one TCP port (all of this namespace's
// traffic passes the output hook: loopback only). -> remove()
function dropPort(port) {
  const table = `consult_vanish_${process.pid}`;
  execFileSync(NFT, ['-f', '-'], {
    input: `table inet ${table} {\n chain out {\n  type filter hook output priority 0; policy accept;\n`
      + `  tcp dport ${port} counter drop\n  tcp sport ${port} counter drop\n }\n}\n`,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return {
    counters: () => execFileSync(NFT, ['list', 'table', 'inet', table], { encoding: 'utf8' }).match(/packets \d+/g) || [],
    remove: () => { try { execFileSync(NFT, ['delete', 'table', 'inet', table], { stdio: 'pipe' }); } catch { /* gone */ } },
  };
}

test(`two instances (${ON_PG ? 'postgresql' : 'sqlite'}): the holder's host vanishes without closing a socket: every waiting page notices it and shows its place on the other within 25 s`, { timeout: 240_000 }, async (t) => {
  assert.ok(fs.existsSync(NFT), 'nft is missing: apt-get install nftables');
  await scenario(`resilience-vanish-${ON_PG ? 'postgresql' : 'sqlite'}`, async (ctx) => {
    const { startJanus, freePort } = await import(harness('janus.mjs'));
    const { startNginx } = await import(harness('nginx.mjs'));
    const { seedPractice } = await import(harness('seed.mjs'));
    const samples = pluginSamples();
    const names = { a: samples.a.instance, b: samples.b.instance };
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-vanish-'));
    const db = makeStore();
    const base = { dataDir, codeSecret: crypto.randomBytes(32).toString('hex'), publicUrl: origin };
    const cfg = (s) => ({ ...db.config, instance: s.instance, lease_seconds: s.lease_seconds, grace_seconds: s.grace_seconds });
    let A = null;
    let B = null;
    let nginx = null;
    let drop = null;
    try {
      A = await startJanus({ ...base, extraPluginConfig: cfg(samples.a) });
      const practices = [
        await seedPractice(A, {
          slug: 'praxis-zwei', name: 'Hautärzte an zwei Servern', phone: '0721-5550100',
          doctors: [{ username: 'dr.pruef', display_name: 'Dr. Prüf', password: PASSWORDS.doctor }],
          receptions: [{ username: 'empfang', display_name: 'Empfang', password: PASSWORDS.reception }],
        }),
        await seedPractice(A, {
          slug: 'praxis-nachbar', name: 'Hausarztpraxis nebenan', phone: '0721-5550200',
          doctors: [{ username: 'dr.nachbar', display_name: 'Dr. Nachbar', password: PASSWORDS.doctor }],
          receptions: [{ username: 'empfang.nachbar', display_name: 'Empfang', password: PASSWORDS.reception }],
        }),
      ];
      const ids = practices.map((p) => p.practiceId);
      await waitFor(`${names.a} serves both practices`, async () => {
        const held = await heldBy(A);
        return ids.every((id) => held.includes(id));
      }, 20_000);
      B = await startJanus({ ...base, extraPluginConfig: cfg(samples.b) });
      nginx = await startNginx({ port, ...nginxForInstances({ [names.a]: A.wsPort, [names.b]: B.wsPort }) });
      ctx.mark(`stack up (${db.kind}): ${names.a} holds both practices, ${names.b} waits`);

      const startsAt = Math.ceil(Date.now() / 60_000) * 60 + 300;
      const appts = [];
      for (const P of practices) appts.push(await bookMany(A, P, P.doctors[0].id, 2, startsAt));
      // One browser per practice: Chromium opens one WebSocket at a time
      // per host and port within a profile, so pages of one browser would
      // queue behind each other's 2 s connect timeouts; patients have a
      // phone each (a browser per patient costs more than this machine has
      // to spare).
      const patients = [];
      for (const [k, list] of appts.entries()) {
        const browser = await ctx.launch(`waiting-${k}`);
        for (const [i, appt] of list.entries()) {
          patients.push(await waitingOn(ctx, browser, { who: `patient-${k}-${i}`, link: appt.link, person: WAITING[k][i], ahead: i, holder: names.a }));
        }
      }
      assert.deepEqual((await liveVisits(A)).map((v) => v.visit_id).sort(), patients.map((p) => p.visitId).sort(), `every visit live on ${names.a}`);
      await ctx.art.shot(patients[0].d.page, 'before');

      // A's host vanishes: its packets dropped, its process frozen.
      drop = dropPort(A.wsPort);
      process.kill(A.pid, 'SIGSTOP');
      const tVanish = Date.now();
      ctx.mark(`${names.a} vanished (packets to/from port ${A.wsPort} dropped, SIGSTOP)`);

      const back = patients.map(() => null);
      const deadline = tVanish + GIVE_UP_MS;
      while (back.some((b) => !b) && Date.now() < deadline) {
        for (const [i, p] of patients.entries()) {
          if (back[i]) continue;
          const reply = p.rec.replies('join', tVanish).filter((r) => r.ok).at(-1);
          const view = await patientView(p.d);
          if (reply && view.state === 'waiting' && view.ahead === p.ahead) {
            back[i] = { reply, view, t: Date.now() };
            ctx.mark(`${p.who} back at ${p.ahead} (${back[i].t - tVanish} ms)`);
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      await ctx.art.shot(patients[0].d.page, 'after');
      ctx.mark(`nft: ${drop.counters().join(', ')}`);

      const problems = [];
      for (const [i, p] of patients.entries()) {
        const probes = p.rec.frames.filter((f) => f.dir === 'out' && f.t >= tVanish && f.msg?.janus === 'keepalive' && /^alive-/.test(f.msg.transaction || ''));
        if (!probes.length) problems.push(`${p.who}: no liveness keepalive sent after the vanish`);
        // what the page did when (ms after the vanish): probes, new sessions, joins
        const steps = p.rec.frames.filter((f) => f.t >= tVanish && f.dir === 'out'
          && (f.msg?.janus === 'create' || f.msg?.body?.request === 'join' || /^alive-/.test(f.msg?.transaction || '')))
          .map((f) => `${f.msg.body?.request || (f.msg.janus === 'create' ? 'create' : 'probe')}@${f.t - tVanish}`);
        ctx.mark(`${p.who}: ${steps.join(' ')}`);
        if (!back[i]) {
          const replies = p.rec.replies('join', tVanish).map((r) => ({ ok: r.ok, error: r.error, instance: r.instance }));
          problems.push(`${p.who}: not back at ahead=${p.ahead} within ${GIVE_UP_MS} ms: page ${JSON.stringify(await patientView(p.d))}, join replies ${JSON.stringify(replies)}`);
          continue;
        }
        const { reply, view } = back[i];
        if (back[i].t - tVanish > BACK_WITHIN_MS) problems.push(`${p.who}: place shown after ${back[i].t - tVanish} ms (> ${BACK_WITHIN_MS})`);
        if (reply.visit_id !== p.visitId || view.visitId !== p.visitId) problems.push(`${p.who}: visit ${p.visitId} came back as ${reply.visit_id} (page ${view.visitId})`);
        const text = await p.d.text('#ahead-text');
        if (text !== p.aheadText) problems.push(`${p.who}: "${text}", was "${p.aheadText}"`);
        const followed = await p.d.evaluate(() => window.consult.instance);
        if (followed === names.a) problems.push(`${p.who}: still follows ${names.a}`);
      }
      const times = back.map((b) => (b ? b.t - tVanish : null));
      const got = times.filter((x) => x !== null);
      const line = `waiting pages back at their places on ${names.b} after ${times.map((x) => x ?? 'never').join(', ')} ms (max ${got.length ? Math.max(...got) : '-'})`;
      ctx.mark(line);
      t.diagnostic(line);
      assert.deepEqual(problems, [], 'every waiting page back on B within 25 s of the vanish');

      // A never comes back.
      await A.kill('SIGKILL');
      ctx.mark(`${names.a} SIGKILLed`);
      const held = await heldBy(B);
      assert.ok(ids.every((id) => held.includes(id)), `${names.b} serves both practices (holds ${JSON.stringify(held)})`);
      const waiting = (await liveVisits(B)).filter((v) => v.state === 'waiting').map((v) => v.visit_id).sort();
      assert.deepEqual(waiting, patients.map((p) => p.visitId).sort(), `every waiting visit waiting on ${names.b}`);
    } finally {
      if (drop) drop.remove();
      if (nginx) {
        await nginx.stop().catch(() => {});
        for (const [f, read] of [['nginx-access.log', nginx.accessLog], ['nginx-error.log', nginx.errorLog]]) {
          try { fs.writeFileSync(path.join(ctx.art.dir, f), read()); } catch { /* gone */ }
        }
      }
      for (const [name, j] of [[names.a, A], [names.b, B]]) {
        if (!j) continue;
        try { process.kill(j.pid, 'SIGCONT'); } catch { /* not running */ }
        if (j.alive()) await j.stop().catch(() => {});
        try { fs.writeFileSync(path.join(ctx.art.dir, `janus-${name}.log`), j.log()); } catch { /* gone */ }
        fs.rmSync(j.dir, { recursive: true, force: true });
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
      db.drop();
    }
  });
});
