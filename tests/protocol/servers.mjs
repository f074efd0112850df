// servers.mjs - the real loopback servers the invitation tests talk to
// (not a test file): the SMTP server (tests/delivery/smtpd.py, aiosmtpd),
// the SMS gateway receiver (tests/delivery/sms_receiver.mjs) and a plain
// HTTP sink for Janus' sample event handler.
//
// Contract: each start* resolves once the server printed READY (or
// listens), returns {port, dir, stop()}; stop() sends SIGTERM and waits.
// Helpers read what arrived: mails(dir) -> sorted .eml paths,
// parseMail(path) -> python's parse (tests/delivery/parse_mail.py),
// smsRequests(log) -> the JSON lines. Every process is killed when node exits.
// deliveryConfig(smtp, sms) -> the plugin settings that send e-mail and SMS
// to these servers (templates of conf/messages, JSON SMS body, 10 s
// timeouts, 1 s retry backoff, reminders 120 min before).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { REPO } from '../../scripts/lib/janus.mjs';

const live = new Set();
process.on('exit', () => { for (const c of live) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

function startReady(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready: ${err}`)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, port: Number(m[1]) }); }
    });
    child.stderr.on('data', (d) => { err += d; });
    child.once('exit', (code) => { live.delete(child); clearTimeout(timer); reject(new Error(`${cmd} exited ${code}: ${err}`)); });
  });
}

function stopper(child) {
  return () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.once('exit', () => { live.delete(child); resolve(); });
    child.kill('SIGTERM');
  });
}

export function deliveryConfig(smtp, sms) {
  return {
    templates_dir: path.join(REPO, 'conf/messages'),
    smtp_url: `smtp://127.0.0.1:${smtp.port}`,
    smtp_starttls: false,
    smtp_from: 'videosprechstunde@praxis.example',
    smtp_timeout_seconds: 10,
    sms_url: `http://127.0.0.1:${sms.port}/send`,
    sms_body_format: 'json',
    sms_body: '{"to":"{{to}}","from":"{{sender}}","text":"{{text}}"}',
    sms_sender: 'Praxis',
    sms_timeout_seconds: 10,
    delivery_backoff_base_seconds: 1,
    reminder_minutes: 120,
  };
}

/** aiosmtpd on 127.0.0.1; mode via setMode(). port: fixed port (restart tests). */
export async function startSmtp({ dir, port = 0, mode = 'accept' } = {}) {
  dir = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'consult-smtp-'));
  const { child, port: p } = await startReady('/usr/bin/python3', [path.join(REPO, 'tests/delivery/smtpd.py'),
    '--port', String(port), '--dir', dir, '--mode', mode]);
  return {
    port: p, dir, stop: stopper(child),
    setMode: (m) => fs.writeFileSync(path.join(dir, 'mode'), m),
  };
}

export const mails = (dir) => fs.readdirSync(dir).filter((n) => n.endsWith('.eml'))
  .sort((a, b) => parseInt(a, 10) - parseInt(b, 10)).map((n) => path.join(dir, n));

export function parseMail(file) {
  return JSON.parse(execFileSync('/usr/bin/python3', [path.join(REPO, 'tests/delivery/parse_mail.py'), file], { encoding: 'utf8' }));
}

/** The SMS gateway receiver; setScript("503,200"). */
export async function startSms({ dir } = {}) {
  dir = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'consult-sms-'));
  const log = path.join(dir, 'requests.jsonl');
  const script = path.join(dir, 'script');
  fs.writeFileSync(script, '200');
  const { child, port } = await startReady('node', [path.join(REPO, 'tests/delivery/sms_receiver.mjs'),
    '--log', log, '--script', script]);
  return {
    port, dir, log, stop: stopper(child),
    setScript: (s) => fs.writeFileSync(script, s),
    requests: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []),
  };
}

/** A sink for Janus' sample event handler: keeps every POSTed body. */
export async function startEventSink() {
  const bodies = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => { bodies.push(body); res.writeHead(200); res.end(); });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/events`,
    text: () => bodies.join('\n'),
    count: () => bodies.length,
    stop: () => new Promise((r) => server.close(r)),
  };
}

/** Polls fn() until it returns a truthy value (or throws after ms). */
export async function until(fn, ms = 20000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
