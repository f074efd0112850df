// outbox-restart.test.mjs - delivery survives a Janus restart: an invitation
// queued while the SMTP server is down is sent after Janus restarts and the
// server is back, exactly once (real Janus twice on one SQLite file, real
// aiosmtpd on a fixed loopback port).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { REPO, freePort, startJanus } from '../../scripts/lib/janus.mjs';
import { connectHandle } from '../../scripts/lib/client.mjs';
import { seedPractice } from '../../scripts/lib/seed.mjs';
import { mails, parseMail, startSmtp, until } from './servers.mjs';

const now = () => Math.floor(Date.now() / 1000);

test('queued while SMTP is down, Janus restarts, server back: delivered exactly once', async (t) => {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-restart-'));
  const codeSecret = crypto.randomBytes(32).toString('hex');
  const opts = {
    dataDir, codeSecret, publicUrl: 'https://praxis.example', joinBeforeMinutes: 30, joinAfterMinutes: 120,
    extraPluginConfig: {
      templates_dir: path.join(REPO, 'conf/messages'),
      smtp_url: `smtp://127.0.0.1:${port}`, smtp_starttls: false, smtp_from: 'videosprechstunde@praxis.example',
      smtp_timeout_seconds: 3, delivery_backoff_base_seconds: 1, delivery_max_attempts: 20, reminder_minutes: 0,
    },
  };
  const db = (sql) => JSON.parse(execFileSync('sqlite3', ['-readonly', '-json', path.join(dataDir, 'consult.sqlite'), sql], { encoding: 'utf8' }) || '[]');
  const addr = `restart-${crypto.randomBytes(4).toString('hex')}@example.org`;
  const secrets = [addr];
  let smtp = null;
  let janus = await startJanus(opts);
  const logs = [];
  try {
    const tag = crypto.randomBytes(3).toString('hex');
    const A = await seedPractice(janus, {
      slug: `praxis-r-${tag}`, name: 'Praxis Neustart', phone: '0721 1',
      doctors: [{ username: `dr.r.${tag}`, display_name: 'Dr. R', password: `Pw-${tag}-long-enough` }],
      receptions: [{ username: `empfang.r.${tag}`, display_name: 'Empfang', password: `Pw-${tag}-reception` }],
    });
    const { client, handle } = await connectHandle(janus.wsUrl);
    const login = await handle.call({ request: 'login', username: A.receptions[0].username, password: A.receptions[0].password });
    assert.equal(login.role, 'reception');
    const r = await handle.call({ request: 'create_appointment', starts_at: now() + 3600, email: addr, consent_email: true });
    secrets.push(r.code, r.code.replace(/-/g, ''));
    // The server is down: attempts fail with "connection refused", the row stays queued.
    await until(() => {
      const [row] = db(`SELECT status, attempts, error FROM outbox WHERE appointment_id = ${r.appointment_id}`);
      return row && row.attempts >= 1 && row.status === 'queued' && row.error === 'connection refused';
    }, 15000, 'a failed attempt');
    await client.close().catch(() => {});
    const exit = await janus.stop();
    assert.deepEqual(exit, { code: 0, signal: null });
    logs.push(janus.log());
    const [before] = db(`SELECT status FROM outbox WHERE appointment_id = ${r.appointment_id}`);
    assert.equal(before.status, 'queued', 'still queued after the stop');

    smtp = await startSmtp({ port });
    janus = await startJanus(opts);
    const [file] = await until(() => { const m = mails(smtp.dir); return m.length ? m : null; }, 60000, 'the mail');
    // Once the row says sent, no further attempt can come: count then.
    await until(() => db(`SELECT status FROM outbox WHERE appointment_id = ${r.appointment_id}`)[0]?.status === 'sent', 60000, 'the row marked sent');
    assert.equal(mails(smtp.dir).length, 1, 'exactly once');
    const mail = parseMail(file);
    assert.equal(mail.to_addr, addr);
    assert.ok(mail.text.includes(r.code), 'the code survived the restart (sealed in the store)');
    const [row] = db(`SELECT status, attempts FROM outbox WHERE appointment_id = ${r.appointment_id}`);
    assert.equal(row.status, 'sent');
    assert.ok(row.attempts >= 2);
  } finally {
    const exit = await janus.stop();
    logs.push(janus.log());
    if (smtp) await smtp.stop();
    assert.deepEqual(exit, { code: 0, signal: null });
    const all = logs.join('\n');
    const leaked = secrets.filter((s) => s && all.includes(s));
    assert.deepEqual(leaked.map((s) => s.slice(0, 3) + '…'), [], 'personal data in the Janus log');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
