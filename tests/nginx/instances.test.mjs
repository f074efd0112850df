// instances.test.mjs - the two-instance samples (conf/nginx-consult-
// upstreams.conf, conf/nginx-consult-instances.conf, the plugin samples'
// instance names and lease) in Debian's nginx in front of two real Janus
// instances sharing one SQLite file (tests/nginx/instances.mjs changes only
// the addresses). What the pages rely on: /janus/i/<instance> reaches
// exactly that instance (its own answer tells: the non-holder answers
// practice_elsewhere naming the holder, the holder serves); /janus?p=<slug>
// reaches a live instance, also right after one was SIGKILLed (nginx's
// next upstream); a dead instance's location fails at once instead of
// hanging; an unknown instance's path is no WebSocket at all; the survivor
// serves the practice on /janus once the lease expired, same visit.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startJanus } from '../../scripts/lib/janus.mjs';
import { startNginx } from '../../scripts/lib/nginx.mjs';
import { JanusClient, connectHandle } from '../../scripts/lib/client.mjs';
import { seedPractice } from '../../scripts/lib/seed.mjs';
import { nginxForInstances, pluginSamples } from './instances.mjs';

async function until(what, fn, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timeout: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const held = async (janus) => {
  const h = await janus.admin({ request: 'health' });
  return h.lease.practices.map((p) => p.practice_id);
};

test('two instances behind the sample nginx: per-instance paths, /janus with a dead instance, takeover', { timeout: 120_000 }, async (t) => {
  const samples = pluginSamples();
  const [na, nb] = [samples.a.instance, samples.b.instance];
  assert.ok(na && nb && na !== nb, 'the samples name two instances');
  assert.equal(samples.a.lease_seconds, samples.b.lease_seconds, 'one lease for both');
  assert.ok(samples.a.lease_seconds >= 3, 'leases on');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-instances-'));
  const base = { dataDir, codeSecret: crypto.randomBytes(32).toString('hex') };
  const cfg = (s) => ({ instance: s.instance, lease_seconds: s.lease_seconds, grace_seconds: s.grace_seconds });
  const clients = [];
  let A = null;
  let B = null;
  let nginx = null;
  t.after(async () => {
    for (const c of clients) c.close();
    if (nginx) await nginx.stop();
    for (const j of [A, B]) if (j) { if (j.alive()) await j.stop(); fs.rmSync(j.dir, { recursive: true, force: true }); }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  A = await startJanus({ ...base, extraPluginConfig: cfg(samples.a) });
  const tag = crypto.randomBytes(3).toString('hex');
  const P = await seedPractice(A, {
    slug: `praxis-route-${tag}`, name: 'Praxis Route',
    receptions: [{ username: `empfang.${tag}`, display_name: 'Empfang', password: `Pw-${tag}-route-1` }],
  });
  await until('A serves the practice', async () => (await held(A)).includes(P.practiceId), 20_000);
  B = await startJanus({ ...base, extraPluginConfig: cfg(samples.b) });
  nginx = await startNginx(nginxForInstances({ [na]: A.wsPort, [nb]: B.wsPort }));
  const ws = (p) => nginx.url.replace(/^http/, 'ws') + p;
  const open = async (p) => { const c = await connectHandle(ws(p)); clients.push(c.client); return c; };

  // an appointment, booked on the holder
  const rec = await open(`/janus/i/${na}`);
  await rec.handle.call({ request: 'login', username: P.receptions[0].username, password: P.receptions[0].password });
  const appt = await rec.handle.call({ request: 'create_appointment', starts_at: Math.floor(Date.now() / 1000) + 600 });
  const join = { request: 'join', practice: P.slug, code: appt.code, first_name: 'Erika', last_name: 'Muster', accept_terms: true };

  // B's path: B answers, naming A
  const viaB = await open(`/janus/i/${nb}`);
  const refused = await viaB.handle.request(join);
  assert.equal(refused.ok, false);
  assert.equal(refused.error, 'practice_elsewhere');
  assert.equal(refused.instance, na, 'the holder named');
  // A's path: A serves
  const viaA = await open(`/janus/i/${na}`);
  const joined = await viaA.handle.request(join);
  assert.equal(joined.ok, true, JSON.stringify(joined));
  // the generic path reaches an instance
  const generic = await open(`/janus?p=${P.slug}`);
  assert.ok(generic.handle, 'a session through /janus');
  // an instance nginx does not know, or a path that is not one: no WebSocket
  for (const p of ['/janus/i/consult-x', '/janus/i/', '/janus/i/../janus', `/janus/i/${na}/x`]) {
    await assert.rejects(JanusClient.connect(ws(p), { timeout: 10_000 }), /Unexpected server response: (404|400)/, p);
  }

  // A dies
  await A.kill('SIGKILL');
  const failed = await JanusClient.connect(ws(`/janus/i/${na}`), { timeout: 10_000 }).then(() => null, (e) => e);
  assert.ok(failed, 'the dead instance\'s path does not connect');
  assert.match(failed.message, /Unexpected server response: 502/, 'nginx answers 502 (not a connect timeout)');
  // /janus: every try reaches B, whichever instance the hash prefers
  for (let i = 0; i < 3; i++) {
    const c = await open(`/janus?p=${P.slug}`);
    const r = await c.handle.request(join);
    if (r.ok) { assert.equal(r.visit_id, joined.visit_id); break; }
    assert.equal(r.error, 'practice_elsewhere', JSON.stringify(r));
    assert.equal(r.instance, na, 'B (the only one alive) names the dead holder until its lease expires');
  }
  // once the lease expired, /janus serves the practice (on B), same visit
  const back = await until('the practice served through /janus', async () => {
    const c = await open(`/janus?p=${P.slug}`);
    const r = await c.handle.request(join);
    if (r.ok) return r;
    c.client.close();
    return null;
  }, (samples.a.lease_seconds + 10) * 1000);
  assert.equal(back.visit_id, joined.visit_id, 'the same visit');
  assert.ok((await held(B)).includes(P.practiceId), 'B serves it now');
});
