// snapshot.test.mjs - the per-practice snapshot of practice options and
// staff (plugins/janus/snapshot.c) never hides an admin change for long:
// a change through this instance's admin API is honoured by the very next
// request (relay_only in ice_servers, forward and audio_only in the next
// ringing, a disabled or new doctor in create_appointment); a change
// written by ANOTHER instance on the same store is honoured within the
// snapshot's TTL (core/snapshot.h, CONSULT_SNAPSHOT_TTL_MS, 3 s), waited
// for as a condition with a bound well above it.
//
// Every test runs on SQLite and, when CONSULT_TEST_STORE is a postgresql://
// URL (scripts/lib/with-postgres), once more on a fresh PostgreSQL schema
// (as failover.test.mjs does it). The URL is a secret (kept out of the logs).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startJanus } from '../../scripts/lib/janus.mjs';
import { connectHandle } from '../../scripts/lib/client.mjs';
import { seedPractice } from '../../scripts/lib/seed.mjs';
import { assertError, assertOk, now, rand, uniqueName } from './helpers.mjs';
import { until } from './servers.mjs';
import { STORES, closeInstances, testStore } from './stores.mjs';

const TTL_MS = 3000; // CONSULT_SNAPSHOT_TTL_MS

/** One instance (A), or two (A and B) on one store with leases; a seeded practice served by A. */
async function stack(t, store, { two = false } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-snap-'));
  const db = testStore(store, dataDir, 'snapshot');
  const s = { clients: [], secrets: [...db.secrets], logs: [], instances: [] };
  t.after(async () => {
    await closeInstances(s);
    fs.rmSync(dataDir, { recursive: true, force: true });
    db.drop();
  });
  const base = {
    dataDir, codeSecret: crypto.randomBytes(32).toString('hex'), graceSeconds: 120, publicUrl: 'https://praxis.example',
  };
  const tag = rand(3);
  const lease = two ? { instance: `snap-a-${tag}`, lease_seconds: 6 } : {};
  s.A = await startJanus({ ...base, extraPluginConfig: { ...db.config, ...lease } });
  s.instances.push(s.A);
  const pw = () => { const p = `Pw-${rand(8)}`; s.secrets.push(p); return p; };
  s.P = await seedPractice(s.A, {
    slug: `praxis-snap-${tag}`, name: 'Praxis Schnappschuss', phone: '0721 1',
    doctors: [
      { username: `dr.eins.${tag}`, display_name: 'Dr. Eins', password: pw() },
      { username: `dr.zwei.${tag}`, display_name: 'Dr. Zwei', password: pw() },
    ],
    receptions: [{ username: `empfang.${tag}`, display_name: 'Empfang', password: pw() }],
  });
  if (two) {
    // B starts once A serves the practice (else B might claim it first)
    const held = async () => assertOk(await s.A.admin({ request: 'health' })).lease.practices.map((p) => p.practice_id);
    await until(async () => (await held()).includes(s.P.practiceId), 20000, 'A serves the practice');
    s.B = await startJanus({ ...base, extraPluginConfig: { ...db.config, instance: `snap-b-${tag}`, lease_seconds: 6 } });
    s.instances.push(s.B);
  }
  s.connect = async (janus) => {
    const c = await connectHandle(janus.wsUrl);
    s.clients.push(c.client);
    return c;
  };
  s.login = async (janus, who) => {
    const c = await s.connect(janus);
    assertOk(await c.handle.request({ request: 'login', username: who.username, password: who.password }));
    return c;
  };
  s.book = (rec, doctorId) => rec.handle.request({ request: 'create_appointment', doctor_id: doctorId, starts_at: now() + 60 });
  /** A patient of doctor d rung by that doctor, on instance janus: {doc, p, ring}. */
  s.ringing = async (janus, rec, doc, d = 0) => {
    const appt = assertOk(await s.book(rec, s.P.doctors[d].id));
    s.secrets.push(appt.code, appt.code.replace(/-/g, ''));
    const first = uniqueName('Eri');
    const last = uniqueName('Mus');
    s.secrets.push(first, last);
    const p = await s.connect(janus);
    p.reply = assertOk(await p.handle.request({
      request: 'join', practice: s.P.slug, code: appt.code, first_name: first, last_name: last, accept_terms: true,
    }));
    assertOk(await doc.handle.request({ request: 'call', visit_id: p.reply.visit_id }));
    const ring = await p.handle.waitEvent('ringing');
    return { p, ring };
  };
  return s;
}

const policy = async (h) => assertOk(await h.request({ request: 'ice_servers' })).ice_transport_policy;

for (const store of STORES) {
  test(`${store}: an admin change on this instance is honoured by the next request at once`, async (t) => {
    const s = await stack(t, store);
    const rec = await s.login(s.A, s.P.receptions[0]);
    const doc = await s.login(s.A, s.P.doctors[0]);
    const first = await s.ringing(s.A, rec, doc);
    assert.equal(first.ring.ice_transport_policy, 'all');
    assert.equal(first.ring.forward, 'allowed');
    assert.equal(first.ring.audio_only, 'allowed');
    assertOk(await first.p.handle.request({ request: 'accept' }));
    await doc.handle.waitEvent('call_accepted');
    assert.equal(await policy(doc.handle), 'all');

    // relay_only on and off: the very next ice_servers of both sides says so
    assertOk(await s.A.admin({ request: 'set_practice', practice: s.P.slug, relay_only: true }));
    assert.equal(await policy(doc.handle), 'relay');
    assert.equal(await policy(first.p.handle), 'relay');
    assertOk(await s.A.admin({ request: 'set_practice', practice: s.P.slug, relay_only: false }));
    assert.equal(await policy(doc.handle), 'all');

    // forward and audio_only: the next call rings with the new policies,
    // and an audio-only accept is refused at once
    assertOk(await s.A.admin({ request: 'set_practice', practice: s.P.slug, forward: 'never', audio_only: 'never' }));
    assertOk(await doc.handle.request({ request: 'hangup' }));
    await first.p.handle.waitEvent('call_ended');
    const second = await s.ringing(s.A, rec, doc);
    assert.equal(second.ring.forward, 'never');
    assert.equal(second.ring.audio_only, 'never');
    assertError(await second.p.handle.request({ request: 'accept', audio_only: true }), 'forbidden', 411);
    assertOk(await doc.handle.request({ request: 'cancel_call' }));

    // staff: a doctor disabled is refused for a booking at once, enabled
    // again accepted at once; a doctor added is bookable at once
    const zwei = s.P.doctors[1];
    assertOk(await s.book(rec, zwei.id));
    assertOk(await s.A.admin({ request: 'set_disabled', username: zwei.username, disabled: true }));
    const refused = await s.book(rec, zwei.id);
    assertError(refused, 'not_found', 440);
    assert.equal(refused.field, 'doctor_id');
    assertOk(await s.A.admin({ request: 'set_disabled', username: zwei.username, disabled: false }));
    assertOk(await s.book(rec, zwei.id));
    const pw = `Pw-${rand(8)}`;
    s.secrets.push(pw);
    const added = assertOk(await s.A.admin({ request: 'add_staff', practice: s.P.slug, username: `dr.drei.${rand(3)}`,
      display_name: 'Dr. Drei', role: 'doctor', password: pw }));
    assertOk(await s.book(rec, added.staff_id));
  });

  test(`${store}: a change written by another instance on the same store is honoured within the snapshot TTL`, async (t) => {
    const s = await stack(t, store, { two: true });
    const rec = await s.login(s.A, s.P.receptions[0]);
    const doc = await s.login(s.A, s.P.doctors[0]);
    const { p } = await s.ringing(s.A, rec, doc);
    assertOk(await p.handle.request({ request: 'accept' }));
    await doc.handle.waitEvent('call_accepted');
    assert.equal(await policy(doc.handle), 'all'); // A's snapshot holds "all" now

    // B (which does not serve the practice) changes the option in the store
    const at = Date.now();
    assertOk(await s.B.admin({ request: 'set_practice', practice: s.P.slug, relay_only: true }));
    await until(async () => (await policy(doc.handle)) === 'relay', TTL_MS + 10000, 'A hands out relay');
    const seen = Date.now() - at;
    t.diagnostic(`relay_only written on B seen on A after ${seen} ms (TTL ${TTL_MS} ms)`);
    assert.equal(await policy(p.handle), 'relay');

    // a doctor disabled on B: A refuses to book for them within the TTL
    const zwei = s.P.doctors[1];
    assertOk(await s.book(rec, zwei.id));
    assertOk(await s.B.admin({ request: 'set_disabled', username: zwei.username, disabled: true }));
    const refusedBy = async () => {
      const r = await s.book(rec, zwei.id);
      return r.ok === false && r.error === 'not_found' && r.field === 'doctor_id';
    };
    await until(refusedBy, TTL_MS + 10000, 'A refuses the disabled doctor');
    assertOk(await doc.handle.request({ request: 'hangup' }));
  });
}
