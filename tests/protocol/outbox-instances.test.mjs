// outbox-instances.test.mjs - two instances on one store (leases), each
// invitation received exactly once: A is in the middle of sending an
// invitation of its practice (a real aiosmtpd holds the end of DATA) when B
// crashes and starts again. B must neither requeue nor send A's row (a live
// claim of another instance, of a practice B does not hold); B's own
// practice's invitation goes out meanwhile (B's worker is not stuck on A's
// row); once the server answers, A's row is sent, and every address has
// exactly one mail.
//
// Which instance serves which practice is set in the store before the
// instances start (lease rows far in the future, each instance reclaims
// its own), so no timer race decides it. Runs on SQLite and, behind
// scripts/lib/with-postgres (CONSULT_TEST_STORE), on a fresh PostgreSQL
// schema as well. The URL and the addresses are kept out of the logs.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { REPO, startJanus } from '../../scripts/lib/janus.mjs';
import { connectHandle } from '../../scripts/lib/client.mjs';
import { seedPractice } from '../../scripts/lib/seed.mjs';
import { assertOk, now, rand } from './helpers.mjs';
import { mails, startSmtp, until } from './servers.mjs';
import { STORES, testStore } from './stores.mjs';

const LEASE = 6;

const held = (dir) => fs.readdirSync(dir).filter((n) => /^held-\d+\.json$/.test(n))
  .map((n) => JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')));
const rcpts = (file) => JSON.parse(fs.readFileSync(file.replace(/\.eml$/, '.json'), 'utf8')).rcpt_tos;

for (const store of STORES) {
  test(`${store}: B restarts while A is mid-send: A's invitation is neither requeued nor sent by B, each address gets one mail`, async (t) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-outbox-pair-'));
    const db = testStore(store, dataDir, 'outbox');
    const smtp = await startSmtp({ mode: 'hold' });
    const tag = rand(3);
    const names = { a: `inst-a-${tag}`, b: `inst-b-${tag}` };
    const secrets = [...db.secrets];
    const clients = [];
    const logs = [];
    const running = [];
    const opts = (instance) => ({
      dataDir, codeSecret, graceSeconds: 120, publicUrl: 'https://praxis.example',
      extraPluginConfig: {
        ...db.config, instance, lease_seconds: LEASE,
        templates_dir: path.join(REPO, 'conf/messages'),
        smtp_url: `smtp://127.0.0.1:${smtp.port}`, smtp_starttls: false,
        smtp_from: 'videosprechstunde@praxis.example',
        // longer than the hold below: A's attempt must end with the server's answer
        smtp_timeout_seconds: 120, delivery_backoff_base_seconds: 1, reminder_minutes: 0,
      },
    });
    const codeSecret = crypto.randomBytes(32).toString('hex');
    const start = async (instance) => {
      const j = await startJanus(opts(instance));
      running.push(j);
      return j;
    };
    const stopAll = async () => {
      for (const c of clients) await c.close().catch(() => {});
      clients.length = 0;
      for (const j of running) {
        if (j.alive()) assert.deepEqual(await j.stop(), { code: 0, signal: null });
        logs.push(j.log());
        assert.deepEqual(j.sanitizerReports().map((r) => r.file), []);
        fs.rmSync(j.dir, { recursive: true, force: true });
      }
      running.length = 0;
    };
    t.after(async () => {
      await stopAll();
      await smtp.stop();
      const all = logs.join('\n');
      const leaked = secrets.filter((x) => x && x.length >= 4 && all.includes(x));
      assert.deepEqual(leaked.map((x) => x.slice(0, 3) + '…'), [], 'personal data in a Janus log');
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(smtp.dir, { recursive: true, force: true });
      db.drop();
    });
    const held_ = async (janus) => assertOk(await janus.admin({ request: 'health' })).lease.practices
      .map((p) => p.practice_id);
    const reception = async (janus, practice) => {
      const c = await connectHandle(janus.wsUrl);
      clients.push(c.client);
      assertOk(await c.handle.request({ request: 'login', username: practice.receptions[0].username, password: practice.receptions[0].password }));
      return c.handle;
    };
    const practice = (janus, name) => seedPractice(janus, {
      slug: `praxis-${name}-${tag}`, name: `Praxis ${name}`, phone: '0721 1',
      doctors: [{ username: `dr.${name}.${tag}`, display_name: `Dr. ${name}`, password: `Pw-${rand(8)}` }],
      receptions: [{ username: `empfang.${name}.${tag}`, display_name: 'Empfang', password: `Pw-${rand(8)}` }],
    });
    // Each instance keeps "its" lease row (far in the future) until it renews it.
    const lease = (practiceId, instance) => db.exec(`DELETE FROM leases WHERE practice_id = ${practiceId};`
      + ` INSERT INTO leases(practice_id, holder, expires_at) VALUES (${practiceId}, '${instance}', ${Date.now() + 120000})`);

    // The practices, then P on A and Q on B.
    let A = await start(names.a);
    const P = await practice(A, 'eins');
    const Q = await practice(A, 'zwei');
    await stopAll();
    lease(P.practiceId, names.a);
    lease(Q.practiceId, names.b);
    A = await start(names.a);
    let B = await start(names.b);
    await until(async () => (await held_(A)).join() === String(P.practiceId)
      && (await held_(B)).join() === String(Q.practiceId), 20000, 'P served by A, Q by B');

    // A's invitation reaches the end of DATA and waits for the server's answer.
    const addrA = `hold-${rand(4)}@example.org`;
    const addrB = `frei-${rand(4)}@example.org`;
    secrets.push(addrA, addrB);
    const recA = await reception(A, P);
    const ra = assertOk(await recA.request({ request: 'create_appointment', starts_at: now() + 3600, email: addrA, consent_email: true }));
    secrets.push(ra.code, ra.code.replace(/-/g, ''));
    await until(() => held(smtp.dir).length >= 1, 30000, "A's attempt at the server");
    const row = (appt) => db.query(`SELECT status, attempts FROM outbox WHERE appointment_id = ${appt}`)[0];
    assert.deepEqual(row(ra.appointment_id), { status: 'sending', attempts: 1 });

    // B crashes and starts again (keeping Q: its lease row is renewed in the store).
    process.kill(B.pid, 'SIGKILL');
    await B.stop();
    lease(Q.practiceId, names.b);
    B = await start(names.b);
    await until(async () => (await held_(B)).join() === String(Q.practiceId), 20000, 'B serves Q again');
    assert.deepEqual(row(ra.appointment_id), { status: 'sending', attempts: 1 }, "A's live claim survived B's start");

    // B's own invitation goes out while A's is still held; by then B's worker
    // has had every chance to take A's row (it would have reached the server
    // as a second held attempt first).
    const recB = await reception(B, Q);
    const rb = assertOk(await recB.request({ request: 'create_appointment', starts_at: now() + 3600, email: addrB, consent_email: true }));
    secrets.push(rb.code, rb.code.replace(/-/g, ''));
    await until(() => held(smtp.dir).length >= 2 || mails(smtp.dir).some((f) => rcpts(f).includes(addrB)), 60000,
      "B's invitation, or a second attempt at A's");
    assert.equal(held(smtp.dir).length, 1, "A's invitation reached the server once while A was sending it");
    assert.deepEqual(row(ra.appointment_id), { status: 'sending', attempts: 1 });

    // The server answers: A's row is sent, once.
    smtp.setMode('accept');
    await until(() => row(ra.appointment_id)?.status === 'sent' && row(rb.appointment_id)?.status === 'sent', 60000,
      'both rows marked sent');
    const to = mails(smtp.dir).map(rcpts);
    assert.equal(to.filter((r) => r.includes(addrA)).length, 1, "A's invitation exactly once");
    assert.equal(to.filter((r) => r.includes(addrB)).length, 1, "B's invitation exactly once");
    assert.equal(held(smtp.dir).length, 1);
    assert.equal(row(ra.appointment_id).attempts, 1);
  });
}
