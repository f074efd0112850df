// demo.test.mjs - the local demo (scripts/run -> scripts/lib/stack.mjs) as a
// new user meets it: `--help` installs and starts nothing; a port another
// program holds is refused with the flag to change, before anything starts
// (the program answering on it does not pass for our nginx); --lan serves
// HTTPS with the demo CA, prints the patient link and a QR code of it
// (decoded with zbarimg, Debian's zbar-tools), serves the CA at
// /demo-ca.crt; consult-admin finds the demo through the settings file the
// demo writes. Real Janus, nginx, coturn, mail sink.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { REPO, freePort } from '../../scripts/lib/janus.mjs';
import { until } from './servers.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-demo-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Starts stack.mjs; resolves {child, out(), err(), exit: Promise<{code, signal}>}. */
function startStack(args) {
  const child = spawn(process.execPath, [path.join(REPO, 'scripts/lib/stack.mjs'), '--demo', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, out: () => out, err: () => err, exit };
}

async function freePorts() {
  return { port: await freePort(), janus: await freePort(), admin: await freePort(), turn: await freePort() };
}

const portArgs = (p, data) => ['--port', String(p.port), '--janus-port', String(p.janus), '--admin-port', String(p.admin),
  '--turn-port', String(p.turn), '--data', data];

/** The UTF-8 block QR code of qrencode -t UTF8 as a PGM image, 8 pixels per module. */
function qrToPgm(lines) {
  const rows = [];
  for (const line of lines) {
    const top = [];
    const bottom = [];
    for (const ch of line) {
      // qrencode draws light modules as blocks (dark terminal): '█' both light,
      // '▀' top light, '▄' bottom light, ' ' both dark
      top.push(ch === '█' || ch === '▀' ? 255 : 0);
      bottom.push(ch === '█' || ch === '▄' ? 255 : 0);
    }
    rows.push(top, bottom);
  }
  const scale = 8;
  const w = Math.max(...rows.map((r) => r.length)) * scale;
  const h = rows.length * scale;
  const px = Buffer.alloc(w * h, 255);
  rows.forEach((r, y) => r.forEach((v, x) => {
    for (let dy = 0; dy < scale; dy++) px.fill(v, (y * scale + dy) * w + x * scale, (y * scale + dy) * w + (x + 1) * scale);
  }));
  return Buffer.concat([Buffer.from(`P5\n${w} ${h}\n255\n`), px]);
}

function fetchTls(url, ca) {
  return new Promise((resolve, reject) => {
    https.get(url, { ca, timeout: 20000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

test('scripts/run --help prints the flags and installs nothing', () => {
  // an empty PATH: bash built-ins only, so nothing is installed, built or started
  const out = execFileSync('/bin/bash', [path.join(REPO, 'scripts/run'), '--help'], { encoding: 'utf8', env: { PATH: '/nonexistent', HOME: tmp } });
  for (const flag of ['--port', '--janus-port', '--admin-port', '--turn-port', '--data', '--lan', '--help']) assert.match(out, new RegExp(flag));
});

test('a taken port is refused with the flag to change, nothing starts', async () => {
  const p = await freePorts();
  // another web server answers on the pages port
  const other = net.createServer((s) => s.end('HTTP/1.0 200 OK\r\n\r\nnot consult'));
  await new Promise((r) => other.listen(p.port, '127.0.0.1', r));
  try {
    const s = startStack(portArgs(p, path.join(tmp, 'taken')));
    const { code } = await s.exit;
    assert.equal(code, 1, s.out() + s.err());
    assert.match(s.err(), new RegExp(`port ${p.port} \\(pages\\) is taken by another program.*--port`));
    assert.doesNotMatch(s.out(), /demo is running/);
    assert.ok(!fs.existsSync(path.join(tmp, 'taken', 'consult.sqlite')), 'nothing was started');
  } finally {
    other.close();
  }
});

test('--lan: HTTPS with the demo CA, the patient link as a QR code, consult-admin finds the demo', async () => {
  const p = await freePorts();
  const data = path.join(tmp, 'lan');
  const s = startStack([...portArgs(p, data), '--lan', '127.0.0.1']);
  let stopped = false;
  try {
    await until(() => /Press Ctrl-C to stop/.test(s.out()) || s.child.exitCode !== null, 120000, 'the demo to start');
    assert.match(s.out(), /demo is running/, s.err());
    const link = /Patient:\s+(\S+)/.exec(s.out())[1];
    assert.ok(link.startsWith(`https://127.0.0.1:${p.port}/`), link);

    // the QR code: the block lines between the phone hint and the admin line
    const lines = s.out().split('\n');
    const qrLines = lines.filter((l) => /^[█▀▄ ]+$/.test(l) && /[█▀▄]/.test(l));
    assert.ok(qrLines.length >= 10, 'a QR code was printed');
    const img = path.join(tmp, 'qr.pgm');
    fs.writeFileSync(img, qrToPgm(qrLines));
    const decoded = execFileSync('zbarimg', ['--quiet', '--raw', img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    assert.equal(decoded, link);

    // HTTPS verified against the demo CA (a client without it is refused)
    const ca = fs.readFileSync(path.join(data, 'lan-tls', 'ca.crt'));
    const page = await fetchTls(link, ca);
    assert.equal(page.status, 200);
    assert.match(page.body.toString(), /<html/i);
    const served = await fetchTls(`https://127.0.0.1:${p.port}/demo-ca.crt`, ca);
    assert.equal(served.status, 200);
    assert.deepEqual(served.body, ca);
    await assert.rejects(fetchTls(link, undefined), /self[- ]signed|unable to (get|verify)/i);

    // consult-admin with no URL and no secret: the demo's settings file
    const env = { ...process.env, CONSULT_ADMIN_CONFIG: path.join(data, 'consult-admin.json') };
    delete env.CONSULT_ADMIN_URL;
    delete env.CONSULT_ADMIN_SECRET;
    delete env.CONSULT_ADMIN_SECRET_FILE;
    const health = execFileSync(process.execPath, [path.join(REPO, 'scripts/consult-admin'), 'health'], { encoding: 'utf8', env });
    assert.match(health, /status\s+ok/);
    const staff = execFileSync(process.execPath, [path.join(REPO, 'scripts/consult-admin'), 'list-staff', 'am-marktplatz'], { encoding: 'utf8', env });
    assert.match(staff, /dr\.weber/);
    assert.equal((fs.statSync(path.join(data, 'consult-admin.json')).mode & 0o777), 0o600);

    s.child.kill('SIGINT');
    const { code } = await s.exit;
    stopped = true;
    assert.equal(code, 0, s.out() + s.err());
  } finally {
    if (!stopped) { s.child.kill('SIGINT'); await s.exit; }
  }
});
