// senders.test.mjs - the delivery layer against real loopback servers:
// plugins/deliver/smtp.c and sms_http.c, driven through the test CLI
// tests/delivery/deliver_cli (core/compose + core/mime + conf/messages).
//
// Contract: starts tests/delivery/smtpd.py (Debian's python3-aiosmtpd;
// plain with AUTH, STARTTLS-required, and implicit TLS instances with a
// throw-away certificate) and tests/delivery/sms_receiver.mjs on
// 127.0.0.1 with free ports, and stops every process it started (after
// hook, also on failure). Proves: a composed invitation arrives and parses
// with Python's email package (From/To, RFC 2047 subject, text + HTML +
// .ics, link, code, DTSTART); 451 / 550 at RCPT or after DATA, a hanging
// server, a drop mid-message, a closed port and bad credentials are
// classified (temporary / permanent) with a reason free of personal data,
// and nothing is stored for them; SMS bodies (JSON, form, GET query) are
// exactly the template with escaped values, E.164, auth header; 503 then
// 200; 404; garbage; a huge response body.
// Environment: CONSULT_BUILD_DIR (default <repo>/build), CONSULT_PYTHON
// (default /usr/bin/python3). Needs openssl for the TLS cases.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD = path.resolve(process.env.CONSULT_BUILD_DIR || path.join(ROOT, 'build'));
const CLI = path.join(BUILD, 'tests/delivery/deliver_cli');
const PY = process.env.CONSULT_PYTHON || '/usr/bin/python3';
const HERE = path.join(ROOT, 'tests/delivery');
const TEMPLATES = path.join(ROOT, 'conf/messages');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-deliver-'));
const procs = new Set();

// Test data (all fictitious). Every value here must stay out of results.
const PRACTICE = 'Hautärzte am Marktplatz';
const PHONE = '0721 5163690';
const CODE = 'ABCD-EFGH-JKMN';
const LINK = `https://video.hautarzt.example/patient.html?p=hautarzt1#${CODE}`;
const FROM = 'praxis@hautarzt.example';
const RCPT = 'erika.muster@example.org';
const STARTS = 1796031000;        // Montag, 30. November 2026, 10:30 CET
const USER = 'mailer';
const PASS = 'pa55 wörd';
const MOBILE = '+4917112345678';

function startServer(cmd, args, name) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.add(p);
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${err}`)), 20000);
    p.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc: p, port: Number(m[1]) });
      }
    });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => {
      procs.delete(p);
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}): ${err}`));
    });
  });
}

function stop(p) {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    p.once('exit', () => { clearTimeout(t); resolve(); });
    p.kill('SIGTERM');
  });
}

/** Runs the CLI; resolves with the parsed result line and the raw output. */
function cli(args, timeoutMs = 30000) {
  return new Promise((resolve) => {
    const p = spawn(CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.add(p);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      procs.delete(p);
      let res = null;
      try { res = JSON.parse(out.trim().split('\n').pop()); } catch { /* none */ }
      resolve({ code, res, out, err });
    });
  });
}

function assertNoPersonalData(text) {
  for (const v of [RCPT, FROM, MOBILE, CODE, PASS, USER, 'erika', 'Hautärzte', '5163690', '17112345678']) {
    assert.ok(!text.includes(v), `personal data "${v}" in: ${text}`);
  }
}

const mailDirs = {};
let smtp;          // plain, AUTH required
let smtpTls;       // STARTTLS required
let smtps;         // implicit TLS
let sms;
let smsLog;
let smsScript;
let cert;

function mailArgs(port, extra = {}) {
  const a = {
    url: `smtp://127.0.0.1:${port}`, from: FROM, to: RCPT, user: USER, pass: PASS,
    templates: TEMPLATES, kind: 'invite', practice: PRACTICE, phone: PHONE,
    starts_at: String(STARTS), offset: '60', link: LINK, code: CODE, toname: 'Erika Müller',
    timeout: '20', ...extra,
  };
  return ['mail', ...Object.entries(a).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`)];
}

function setMode(dir, mode) {
  fs.writeFileSync(path.join(dir, 'mode'), `${mode}\n`);
}

function emls(dir) {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.eml')).sort((a, b) => parseInt(a) - parseInt(b));
}

function parseMail(file) {
  const out = execFileSync(PY, [path.join(HERE, 'parse_mail.py'), file], { encoding: 'utf8', timeout: 20000 });
  return JSON.parse(out);
}

before(async () => {
  if (!fs.existsSync(CLI)) {
    execFileSync('make', ['-s', 'tests/delivery/deliver_cli'], { cwd: BUILD, stdio: 'inherit', timeout: 300000 });
  }
  cert = { crt: path.join(tmp, 'cert.pem'), key: path.join(tmp, 'key.pem') };
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', cert.key, '-out', cert.crt], { stdio: 'ignore', timeout: 20000 });
  for (const n of ['plain', 'starttls', 'smtps']) {
    mailDirs[n] = path.join(tmp, `mail-${n}`);
    fs.mkdirSync(mailDirs[n]);
  }
  smsLog = path.join(tmp, 'sms.jsonl');
  smsScript = path.join(tmp, 'sms.script');
  [smtp, smtpTls, smtps, sms] = await Promise.all([
    startServer(PY, [path.join(HERE, 'smtpd.py'), '--dir', mailDirs.plain, '--user', USER, '--password', PASS], 'smtpd'),
    startServer(PY, [path.join(HERE, 'smtpd.py'), '--dir', mailDirs.starttls, '--cert', cert.crt, '--key', cert.key,
      '--require-starttls'], 'smtpd starttls'),
    startServer(PY, [path.join(HERE, 'smtpd.py'), '--dir', mailDirs.smtps, '--cert', cert.crt, '--key', cert.key,
      '--implicit-tls'], 'smtpd smtps'),
    startServer(process.execPath, [path.join(HERE, 'sms_receiver.mjs'), '--log', smsLog, '--script', smsScript], 'sms receiver'),
  ]);
});

after(async () => {
  await Promise.all([...procs].map(stop));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('smtp', () => {
  test('a composed invitation arrives and parses', async () => {
    setMode(mailDirs.plain, 'accept');
    const before_ = emls(mailDirs.plain).length;
    const r = await cli(mailArgs(smtp.port));
    assert.equal(r.code, 0, r.err);
    assert.deepEqual({ cls: r.res.cls, code: r.res.code, reason: r.res.reason }, { cls: 'ok', code: 250, reason: '' });
    const files = emls(mailDirs.plain);
    assert.equal(files.length, before_ + 1);
    const file = path.join(mailDirs.plain, files.at(-1));
    const meta = JSON.parse(fs.readFileSync(file.replace(/\.eml$/, '.json'), 'utf8'));
    assert.equal(meta.mail_from, FROM);
    assert.deepEqual(meta.rcpt_tos, [RCPT]);
    assert.equal(meta.auth_user, USER);
    const m = parseMail(file);
    assert.deepEqual(m.defects, []);
    assert.equal(m.from_addr, FROM);
    assert.equal(m.from_name, PRACTICE);
    assert.equal(m.to_addr, RCPT);
    assert.match(m.to, /Erika Müller/);
    assert.equal(m.subject, `Ihre Videosprechstunde am Montag, 30. November 2026 um 10:30 Uhr – ${PRACTICE}`);
    assert.match(m.raw_subject, /^Subject: =\?UTF-8\?B\?/);          // RFC 2047 on the wire
    assert.match(m.message_id, /^<[0-9a-f]{32}@hautarzt\.example>$/);
    assert.equal(m.auto_submitted, 'auto-generated');
    assert.deepEqual(m.tree, ['multipart/mixed', 'multipart/alternative', 'text/plain', 'text/html', 'text/calendar']);
    assert.ok(m.max_line <= 998, `line of ${m.max_line}`);
    assert.equal(m.bare_lf, false);
    for (const body of [m.text, m.html]) {
      assert.ok(body.includes('Montag, 30. November 2026'));
      assert.ok(body.includes('10:30'));
      assert.ok(body.includes(CODE));
      assert.ok(body.includes(PHONE));
      assert.ok(body.includes('Chrome, Firefox oder Safari'));
    }
    assert.ok(m.text.includes(LINK));
    assert.ok(m.html.includes(`href="${LINK}"`));
    assert.ok(m.text.includes(`für Sie ist bei ${PRACTICE} eine Videosprechstunde eingeplant`));
    // the .ics
    assert.equal(m.ics_filename, 'termin.ics');
    assert.equal(m.ics_method, 'PUBLISH');
    assert.equal(m.ics_lines[0], 'BEGIN:VCALENDAR');
    assert.equal(m.ics_lines.at(-1), 'END:VCALENDAR');
    for (const l of ['VERSION:2.0', 'METHOD:PUBLISH', 'BEGIN:VEVENT', 'END:VEVENT', 'DTSTART:20261130T093000Z',
      'DTEND:20261130T094500Z', 'STATUS:CONFIRMED', 'UID:appt-test-1@consult.test', 'SEQUENCE:0', `LOCATION:${LINK}`]) {
      assert.ok(m.ics_lines.includes(l), `${l} missing in ${m.ics_lines.join('|')}`);
    }
    assert.ok(m.ics_lines.some((l) => /^DTSTAMP:\d{8}T\d{6}Z$/.test(l)));
    assert.ok(m.ics_lines.includes(`SUMMARY:Videosprechstunde – ${PRACTICE}`));
  });

  test('a cancellation carries STATUS:CANCELLED', async () => {
    setMode(mailDirs.plain, 'accept');
    const r = await cli(mailArgs(smtp.port, { kind: 'cancel', link: null, code: null }));
    assert.equal(r.res?.cls, 'ok', r.err);
    const m = parseMail(path.join(mailDirs.plain, emls(mailDirs.plain).at(-1)));
    assert.match(m.subject, /^Abgesagt: /);
    assert.ok(m.text.includes('wurde abgesagt'));
    assert.ok(!m.text.includes(CODE));
    assert.ok(m.ics_lines.includes('STATUS:CANCELLED'));
    assert.ok(m.ics_lines.includes('SEQUENCE:1'));
    assert.ok(m.ics_lines.includes('UID:appt-test-1@consult.test'));
  });

  const refusals = [
    ['451', 'temporary', 451],
    ['550', 'permanent', 550],
    ['data451', 'temporary', 451],
    ['data550', 'permanent', 550],
  ];
  for (const [mode, cls, code] of refusals) {
    test(`server answers ${mode}: ${cls}, nothing stored`, async () => {
      setMode(mailDirs.plain, mode);
      const n = emls(mailDirs.plain).length;
      const r = await cli(mailArgs(smtp.port));
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(r.res ? { cls: r.res.cls, code: r.res.code, reason: r.res.reason } : null,
        { cls, code, reason: `smtp ${code}` });
      assert.equal(emls(mailDirs.plain).length, n);
      assertNoPersonalData(r.out);
    });
  }

  test('a hanging server: temporary within the timeout', async () => {
    setMode(mailDirs.plain, 'hang');
    const n = emls(mailDirs.plain).length;
    const t0 = Date.now();
    const r = await cli(mailArgs(smtp.port, { timeout: '2' }), 60000);
    const ms = Date.now() - t0;
    setMode(mailDirs.plain, 'accept');
    assert.equal(r.res?.cls, 'temporary', r.err);
    assert.equal(r.res.code, 0);
    assert.equal(r.res.reason, 'timeout');
    // It waited for its 2 s timeout and then gave up by itself: the upper
    // bound only tells "gave up" from "hung" (a busy machine may be slow).
    assert.ok(ms >= 1800, `gave up after ${ms} ms, before its 2 s timeout`);
    assert.ok(ms < 30000, `took ${ms} ms: the 2 s timeout was not applied`);
    assert.equal(emls(mailDirs.plain).length, n);
  });

  test('a connection dropped after DATA: temporary, nothing stored', async () => {
    setMode(mailDirs.plain, 'drop');
    const n = emls(mailDirs.plain).length;
    const r = await cli(mailArgs(smtp.port));
    setMode(mailDirs.plain, 'accept');
    assert.equal(r.res?.cls, 'temporary', r.err);
    assert.equal(r.res.reason, 'connection dropped');
    assert.equal(emls(mailDirs.plain).length, n);
    assert.equal(fs.readdirSync(mailDirs.plain).filter((f) => f.endsWith('.tmp')).length, 0);
  });

  test('a closed port: temporary "connection refused"', async () => {
    const srv = await new Promise((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = srv.address().port;
    await new Promise((resolve) => srv.close(resolve));
    const r = await cli(mailArgs(port));
    assert.deepEqual(r.res && { cls: r.res.cls, code: r.res.code, reason: r.res.reason },
      { cls: 'temporary', code: 0, reason: 'connection refused' });
  });

  test('wrong password: permanent smtp 535, nothing stored', async () => {
    setMode(mailDirs.plain, 'accept');
    const n = emls(mailDirs.plain).length;
    const r = await cli(mailArgs(smtp.port, { pass: 'wrong' }));
    assert.equal(r.res?.cls, 'permanent', r.out + r.err);
    assert.equal(r.res.code, 535);
    assert.equal(r.res.reason, 'smtp 535');
    assert.equal(emls(mailDirs.plain).length, n);
  });

  test('STARTTLS required: delivered over TLS with the CA file', async () => {
    const r = await cli(mailArgs(smtpTls.port, { user: null, pass: null, starttls: '1', ca: cert.crt }));
    assert.equal(r.res?.cls, 'ok', r.out + r.err);
    const files = emls(mailDirs.starttls);
    assert.equal(files.length, 1);
    const meta = JSON.parse(fs.readFileSync(path.join(mailDirs.starttls, files[0].replace(/\.eml$/, '.json')), 'utf8'));
    assert.equal(meta.tls, true);
  });

  test('STARTTLS required but the server has none: temporary, nothing sent in clear', async () => {
    setMode(mailDirs.plain, 'accept');
    const n = emls(mailDirs.plain).length;
    const r = await cli(mailArgs(smtp.port, { starttls: '1' }));
    assert.equal(r.res?.cls, 'temporary', r.out + r.err);
    assert.equal(r.res.reason, 'starttls unavailable');
    assert.equal(emls(mailDirs.plain).length, n);
  });

  test('STARTTLS with an unknown certificate: refused (tls error)', async () => {
    const r = await cli(mailArgs(smtpTls.port, { user: null, pass: null, starttls: '1', ca: '/etc/ssl/certs/ca-certificates.crt' }));
    assert.equal(r.res?.cls, 'temporary', r.out + r.err);
    assert.equal(r.res.reason, 'tls error');
    assert.equal(emls(mailDirs.starttls).length, 1);
  });

  test('smtps (implicit TLS): delivered', async () => {
    const r = await cli(mailArgs(smtps.port, { url: `smtps://127.0.0.1:${smtps.port}`, user: null, pass: null, ca: cert.crt }));
    assert.equal(r.res?.cls, 'ok', r.out + r.err);
    assert.equal(emls(mailDirs.smtps).length, 1);
  });
});

describe('sms gateway', () => {
  const smsBase = (port, extra = {}) => {
    const a = { url: `http://127.0.0.1:${port}/api/sms?key=1`, method: 'POST', format: 'json',
      body: '{"to":"{{to}}","from":"{{sender}}","message":"{{text}}"}', auth: 'Authorization: Bearer s3cret-token',
      sender: 'Praxis', to: MOBILE, timeout: '20', ...extra };
    return ['sms', ...Object.entries(a).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`)];
  };
  const requests = () => (fs.existsSync(smsLog)
    ? fs.readFileSync(smsLog, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
  let scriptN = 0;
  // A unique tag each time so the receiver's sequence restarts.
  const fresh = (s) => fs.writeFileSync(smsScript, `${s}#${++scriptN}\n`);

  test('JSON POST: body exactly as the template, escaped, E.164, auth header', async () => {
    fresh('200');
    const text = 'Termin "heute" 10:30\nLink: https://x.example/a?b=1&c=2#K \\ Ä';
    const n = requests().length;
    const r = await cli(smsBase(sms.port, { text }));
    assert.deepEqual(r.res && { cls: r.res.cls, code: r.res.code }, { cls: 'ok', code: 200 }, r.err);
    const reqs = requests();
    assert.equal(reqs.length, n + 1);
    const q = reqs.at(-1);
    assert.equal(q.method, 'POST');
    assert.equal(q.url, '/api/sms?key=1');
    assert.equal(q.headers['content-type'], 'application/json');
    assert.equal(q.headers.authorization, 'Bearer s3cret-token');
    assert.equal(q.body, `{"to":"${MOBILE}","from":"Praxis","message":"Termin \\"heute\\" 10:30\\nLink: https://x.example/a?b=1&c=2#K \\\\ Ä"}`);
    assert.deepEqual(JSON.parse(q.body), { to: MOBILE, from: 'Praxis', message: text });
  });

  test('form POST: body exactly form-encoded', async () => {
    fresh('200');
    const text = 'Ihr Termin: 10:30 Uhr & mehr = gut?';
    const r = await cli(smsBase(sms.port, { format: 'form', body: 'to={{to}}&text={{text}}&from={{sender}}', text }));
    assert.equal(r.res?.cls, 'ok', r.err);
    const q = requests().at(-1);
    assert.equal(q.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(q.body, 'to=%2B4917112345678&text=Ihr+Termin%3A+10%3A30+Uhr+%26+mehr+%3D+gut%3F&from=Praxis');
    const p = new URLSearchParams(q.body);
    assert.equal(p.get('to'), MOBILE);
    assert.equal(p.get('text'), text);
  });

  test('GET: the form body as the query string, no body', async () => {
    fresh('200');
    const r = await cli(smsBase(sms.port, { method: 'GET', format: 'form', body: 'to={{to}}&text={{text}}', text: 'Hallo Welt' }));
    assert.equal(r.res?.cls, 'ok', r.err);
    const q = requests().at(-1);
    assert.equal(q.method, 'GET');
    assert.equal(q.url, '/api/sms?key=1&to=%2B4917112345678&text=Hallo+Welt');
    assert.equal(q.body, '');
    assert.equal(q.headers.authorization, 'Bearer s3cret-token');
  });

  test('the composed invitation SMS: one GSM-7 part, as rendered', async () => {
    fresh('200');
    const r = await cli(smsBase(sms.port, { templates: TEMPLATES, kind: 'invite', practice: PRACTICE, phone: PHONE,
      starts_at: String(STARTS), offset: '60', link: LINK, code: CODE }));
    assert.equal(r.res?.cls, 'ok', r.err);
    assert.equal(r.res.parts, 1);
    const q = requests().at(-1);
    assert.equal(JSON.parse(q.body).message,
      `${PRACTICE}: Videosprechstunde Montag, 30. November 2026, 10:30 Uhr: ${LINK}`);
  });

  test('503 then 200: temporary, then ok; two requests', async () => {
    fresh('503,200');
    const n = requests().length;
    const r1 = await cli(smsBase(sms.port, { text: 'x' }));
    assert.deepEqual(r1.res && [r1.res.cls, r1.res.code, r1.res.reason], ['temporary', 503, 'http 503']);
    const r2 = await cli(smsBase(sms.port, { text: 'x' }));
    assert.deepEqual(r2.res && [r2.res.cls, r2.res.code, r2.res.reason], ['ok', 200, '']);
    assert.equal(requests().length, n + 2);
  });

  test('404: permanent', async () => {
    fresh('404');
    const r = await cli(smsBase(sms.port, { text: 'x' }));
    assert.deepEqual(r.res && [r.res.cls, r.res.code, r.res.reason], ['permanent', 404, 'http 404']);
  });

  test('429 and 302: temporary and permanent (no redirect followed)', async () => {
    fresh('429,302');
    const n = requests().length;
    const r1 = await cli(smsBase(sms.port, { text: 'x' }));
    assert.deepEqual(r1.res && [r1.res.cls, r1.res.code], ['temporary', 429]);
    const r2 = await cli(smsBase(sms.port, { text: 'x' }));
    assert.deepEqual(r2.res && [r2.res.cls, r2.res.code], ['permanent', 302]);
    assert.equal(requests().length, n + 2);
    assert.ok(!requests().some((q) => q.url === '/redirected'));
  });

  test('garbage instead of HTTP: temporary, no status', async () => {
    fresh('garbage');
    const r = await cli(smsBase(sms.port, { text: 'x' }));
    assert.deepEqual(r.res && [r.res.cls, r.res.code, r.res.reason], ['temporary', 0, 'bad response'], r.out + r.err);
    assertNoPersonalData(r.out);
  });

  test('a huge response body: still ok (read bounded)', async () => {
    fresh('big');
    const r = await cli(smsBase(sms.port, { text: 'x' }));
    assert.deepEqual(r.res && [r.res.cls, r.res.code], ['ok', 200], r.err);
  });

  test('a national number is refused before any request', async () => {
    fresh('200');
    const n = requests().length;
    const r = await cli(smsBase(sms.port, { to: '017112345678', text: 'x' }));
    assert.deepEqual(r.res && [r.res.cls, r.res.reason], ['permanent', 'bad recipient']);
    assert.equal(requests().length, n);
  });

  test('config check: unknown placeholder, GET with JSON, bad header', async () => {
    let r = await cli(smsBase(sms.port, { body: '{"to":"{{number}}"}', text: 'x' }));
    assert.equal(r.code, 2);
    assert.match(r.err, /invalid_field.*sms_body.*placeholder=number/);
    r = await cli(smsBase(sms.port, { method: 'GET', format: 'json', text: 'x' }));
    assert.equal(r.code, 2);
    assert.match(r.err, /sms_body_format/);
    r = await cli(smsBase(sms.port, { auth: 'no colon here', text: 'x' }));
    assert.equal(r.code, 2);
    assert.match(r.err, /sms_auth_header/);
    r = await cli(smsBase(sms.port, { url: 'ftp://127.0.0.1/x', text: 'x' }));
    assert.equal(r.code, 2);
    assert.match(r.err, /sms_url/);
  });
});
