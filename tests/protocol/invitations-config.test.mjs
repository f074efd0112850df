// invitations-config.test.mjs - bad configuration of invitations, retention
// and forwarding stops the real Janus at start with one FATAL line naming
// the key (or the template file), never printing a secret value.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { REPO, startJanus } from '../../scripts/lib/janus.mjs';

function templatesWith(file, text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-tpl-'));
  for (const f of fs.readdirSync(path.join(REPO, 'conf/messages'))) fs.copyFileSync(path.join(REPO, 'conf/messages', f), path.join(dir, f));
  if (text === null) fs.rmSync(path.join(dir, file));
  else fs.writeFileSync(path.join(dir, file), text);
  return dir;
}

test('bad invitation/retention/forwarding configuration: one FATAL line, plugin not loaded', { timeout: 120000 }, async () => {
  const password = `pw-${crypto.randomBytes(6).toString('hex')}`;
  const smtp = { smtp_url: 'smtp://127.0.0.1:2525', smtp_from: 'praxis@example.org', templates_dir: path.join(REPO, 'conf/messages') };
  const cases = [
    [{ ...smtp, smtp_from: undefined }, /smtp_from \(the sender address\) is required/],
    [{ ...smtp, smtp_url: 'http://127.0.0.1:2525' }, /smtp_url must be smtp:\/\//],
    [{ ...smtp, smtp_from: 'praxis@example.org\\r\\nBcc: x@y.example' }, /smtp_from/],
    [{ ...smtp, smtp_user: 'u', smtp_password: undefined }, /smtp_user and smtp_password go together/],
    [{ ...smtp, smtp_user: 'u', smtp_password: password, smtp_starttls: 'maybe' }, /smtp_starttls must be true or false/],
    [{ ...smtp, templates_dir: templatesWith('invite.txt', 'Hallo {{patient_address}}\n') }, /invite\.txt is invalid \(placeholder "patient_address"/],
    [{ ...smtp, templates_dir: templatesWith('cancel.sms', null) }, /cancel\.sms missing or unreadable/],
    [{ sms_url: 'ftp://sms.example/send', sms_body: '{}' }, /sms_url must start with http/],
    [{ sms_url: 'https://sms.example/send' }, /sms_body .* is required with sms_url/],
    [{ sms_url: 'https://sms.example/send', sms_body: '{}', sms_method: 'PUT' }, /sms_method must be/],
    // The senders' own checks decide at start, not at the first send.
    [{ sms_url: 'https://sms.example/send', sms_body: '{"to":"{{number}}"}' }, /sms_body has the unknown placeholder "number"/],
    [{ sms_url: 'https://sms.example/send', sms_body: 'to={{to}}', sms_method: 'GET' }, /sms_body_format must be "form" with sms_method "GET"/],
    [{ sms_url: 'https://sms.example/send', sms_body: '{}', sms_auth_header: 'Bad Name: x' }, /sms_auth_header must be a header line/],
    [{ sms_url: 'https://sms.example/send', sms_body: '{}', sms_timeout_seconds: 121 }, /sms_timeout_seconds must be an integer in 1\.\.120/],
    [{ ...smtp, smtp_url: 'smtp://user@127.0.0.1:2525' }, /smtp_url must be smtp:\/\//],
    [{ retention_days: 91 }, /retention_days must be an integer in 1\.\.90/],
    [{ retention_days: 1, contact_hours: 25 }, /contact_hours must not be longer than retention_days/],
    [{ default_country: 'XX' }, /default_country must be one of/],
    [{ timezone: 'Mars/Olympus' }, /timezone must be an IANA time zone/],
    [{ staff_idle_minutes: 0 }, /staff_idle_minutes must be an integer in 1\.\.1440/],
    [{ p2p_timeout_seconds: 2 }, /p2p_timeout_seconds must be an integer in 3\.\.120/],
    [{ min_free_disk_mb: -1 }, /min_free_disk_mb must be an integer in 0\.\.1048576/],
    [{ forward_e2ee_test_off: true }, /forward_e2ee_test_off is for tests only/],
  ];
  for (const [cfg, re] of cases) {
    let err = null;
    try {
      const j = await startJanus({ extraPluginConfig: cfg, env: { CONSULT_TEST: '' } });
      await j.stop();
    } catch (e) {
      err = e;
    }
    assert.ok(err, `Janus must not start with ${JSON.stringify(cfg)}`);
    assert.match(err.message, /the consult plugin was not loaded|plugin not reachable/);
    const fatal = err.message.split('\n').filter((l) => /\[consult\] config:/.test(l));
    assert.equal(fatal.length, 1, `one config line for ${JSON.stringify(cfg)}: ${err.message.slice(-1500)}`);
    assert.match(fatal[0], re);
    assert.ok(!err.message.includes(password), 'the SMTP password is never logged');
    const dir = /\(dir ([^)]+)\)/.exec(err.message)?.[1];
    if (dir && dir.includes('consult-janus-')) fs.rmSync(dir, { recursive: true, force: true });
    if (cfg.templates_dir && cfg.templates_dir.includes('consult-tpl-')) fs.rmSync(cfg.templates_dir, { recursive: true, force: true });
  }
});
