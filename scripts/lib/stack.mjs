#!/usr/bin/env node
// stack.mjs - run the whole consult stack locally (used by `scripts/run`).
//
// Contract: `node scripts/lib/stack.mjs --demo [--port 8080] [--janus-port
// 8188] [--admin-port 7088] [--turn-port 3478] [--data /var/lib/consult-demo]
// [--lan [ADDRESS]]` (flags: scripts/lib/run-usage.txt) first refuses, with
// the flag to change, any port another program holds, then starts coturn (conf/turnserver-local.conf via coturn.mjs: loopback only,
// TURN REST secret generated once and kept in <data>/secrets.json), Janus
// (with the consult plugin configured with stun_uris/turn_uris/turn_secret
// for that coturn, database and secrets kept in --data), a local mail sink
// (tests/delivery/smtpd.py, python3-aiosmtpd, on a free 127.0.0.1 port; every
// e-mail the plugin sends lands as <data>/mail/N.eml, the folder is emptied
// at each start; the plugin gets smtp_url to it, no STARTTLS, templates from
// conf/messages) and nginx (serving html/ and conf/legal/ at /legal/,
// proxying /janus) on 127.0.0.1, seeds the demo practice
// "Hautärzte am Marktplatz" (slug am-marktplatz) with a doctor (dr.weber)
// and a reception login (empfang) once, creates an appointment for now+10
// min through a reception login over WebSocket and prints the URLs, the
// patient link, the logins and the admin API URL, and writes
// <data>/consult-admin.json (admin URL and secret, mode 0600) that
// scripts/consult-admin reads when given no URL or secret. --lan: pages
// over HTTPS and coturn on the LAN address (default: the default route's
// source address), with a demo CA and server certificate made once in
// <data>/lan-tls (ca.crt also at /demo-ca.crt), and the patient link
// printed as a QR code (qrencode). Passwords are generated on
// first start and kept in <data>/demo-logins.json (mode 0600). Runs until
// SIGINT/SIGTERM, then stops nginx, Janus, the mail sink and coturn and exits
// 0 (1 on failure).
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO, startJanus, withParentDeath } from './janus.mjs';
import { startNginx } from './nginx.mjs';
import { startCoturn } from './coturn.mjs';
import { connectHandle } from './client.mjs';
import { seedPractice } from './seed.mjs';
import { portFree } from './ports.mjs';

const DEMO = {
  slug: 'am-marktplatz',
  name: 'Hautärzte am Marktplatz',
  phone: '0721-5163690',
  doctor: { username: 'dr.weber', display_name: 'Dr. Weber' },
  reception: { username: 'empfang', display_name: 'Empfang' },
};

const USAGE_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'run-usage.txt');

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

function parseArgs(argv) {
  const args = { demo: false, port: 8080, janusPort: 8188, adminPort: 7088, turnPort: 3478, data: '/var/lib/consult-demo', lan: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--lan') {
      args.lan = i + 1 < argv.length && !argv[i + 1].startsWith('-') ? argv[++i] : 'auto';
      if (args.lan !== 'auto' && !IPV4.test(args.lan)) throw new Error(`--lan: not an IPv4 address: ${args.lan}`);
    } else if (a === '--demo') args.demo = true;
    else if (a === '--port') args.port = Number(next());
    else if (a === '--janus-port') args.janusPort = Number(next());
    else if (a === '--admin-port') args.adminPort = Number(next());
    else if (a === '--turn-port') args.turnPort = Number(next());
    else if (a === '--data') args.data = next();
    else if (a === '-h' || a === '--help') args.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  for (const k of ['port', 'janusPort', 'adminPort', 'turnPort']) {
    if (!Number.isInteger(args[k]) || args[k] < 1 || args[k] > 65535) throw new Error(`bad port for ${k}`);
  }
  return args;
}

const PYTHON = '/usr/bin/python3'; // Debian's python: it has python3-aiosmtpd
const SMTPD = path.join(REPO, 'tests', 'delivery', 'smtpd.py');

/**
 * The demo's mail sink: smtpd.py accepting everything into dir. Resolves
 * {port, dir, pid, stop() -> Promise<{code, signal}>} once it printed READY.
 */
function startMailSink(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // smtpd.py numbers messages from 1 on every start: remove the old ones
  // instead of letting new mails overwrite them one by one.
  for (const n of fs.readdirSync(dir)) {
    if (/^\d+\.(eml|json)(\.tmp)?$/.test(n) || n === 'mode') fs.rmSync(path.join(dir, n), { force: true });
  }
  const [cmd, args] = withParentDeath([PYTHON, SMTPD, '--port', '0', '--dir', dir, '--mode', 'accept']);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => { exited = { code, signal }; resolve(exited); });
  });
  process.on('exit', () => { if (!exited) { try { child.kill('SIGKILL'); } catch { /* gone */ } } });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`mail sink not ready: ${err}`)); }, 15000);
    child.stderr.on('data', (d) => { err += d; });
    exitPromise.then((e) => { clearTimeout(timer); reject(new Error(`mail sink exited ${JSON.stringify(e)}: ${err}`)); });
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        port: Number(m[1]), dir, pid: child.pid,
        async stop() {
          if (!exited) {
            child.kill('SIGTERM');
            const t = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5000);
            await exitPromise;
            clearTimeout(t);
          }
          return exited;
        },
      });
    });
  });
}

const password = () => crypto.randomBytes(12).toString('base64url');

function readJson(file) {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return null; }
}

function writeSecretJson(file, obj) {
  fs.writeFileSync(file, JSON.stringify(obj, null, 2) + '\n', { mode: 0o600 });
}

async function seedDemo(janus, dataDir) {
  const loginsFile = path.join(dataDir, 'demo-logins.json');
  const first = await janus.admin({ request: 'list_staff', practice: DEMO.slug });
  if (!first.ok) {
    const logins = { doctor: password(), reception: password() };
    await seedPractice(janus, {
      slug: DEMO.slug, name: DEMO.name, phone: DEMO.phone,
      doctors: [{ ...DEMO.doctor, password: logins.doctor }],
      receptions: [{ ...DEMO.reception, password: logins.reception }],
    });
    writeSecretJson(loginsFile, logins);
    return logins;
  }
  let logins = readJson(loginsFile);
  if (!logins?.doctor || !logins?.reception) {
    logins = { doctor: password(), reception: password() };
    for (const [who, user] of [['doctor', DEMO.doctor], ['reception', DEMO.reception]]) {
      const r = await janus.admin({ request: 'reset_password', username: user.username, password: logins[who] });
      if (!r.ok) throw new Error(`reset_password ${user.username}: ${r.error}`);
    }
    writeSecretJson(loginsFile, logins);
  }
  return logins;
}

async function createDemoAppointment(janus, logins) {
  const { client, handle } = await connectHandle(janus.wsUrl);
  try {
    await handle.call({ request: 'login', username: DEMO.reception.username, password: logins.reception });
    const docs = await handle.call({ request: 'list_doctors' });
    const weber = docs.doctors.find((d) => d.display_name === DEMO.doctor.display_name);
    const appt = await handle.call({
      request: 'create_appointment',
      doctor_id: weber ? weber.id : null,
      starts_at: Math.floor(Date.now() / 1000) + 600,
    });
    return appt;
  } finally {
    await client.destroy();
  }
}

// A signal during start-up must not orphan Janus or nginx: remember it and
// stop once start-up has finished (or failed).
let stopSignal = null;
let onStopSignal = null;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    stopSignal = sig;
    if (onStopSignal) onStopSignal();
  });
}

/** The address of the default route's interface (what a phone in the same LAN reaches). */
function lanAddress() {
  let out = '';
  try { out = execFileSync('ip', ['-4', 'route', 'get', '192.0.2.255'], { encoding: 'utf8' }); } catch { /* no route */ }
  const m = / src (\d+\.\d+\.\d+\.\d+)/.exec(out);
  if (!m) throw new Error('--lan: no LAN address found (no default route); give one: --lan 192.168.1.20');
  return m[1];
}

/**
 * The demo CA and a server certificate for `address` in dir (made once; the
 * server certificate again when the address changed). The CA key never
 * leaves dir; phones may trust ca.crt (served at /demo-ca.crt).
 */
function lanTls(dir, address) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = (n) => path.join(dir, n);
  const ssl = (...a) => execFileSync('openssl', a, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (!fs.existsSync(f('ca.crt')) || !fs.existsSync(f('ca.key'))) {
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '825',
      '-subj', '/CN=consult demo CA (this machine only)', '-keyout', f('ca.key'), '-out', f('ca.crt'),
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    fs.rmSync(f('server.crt'), { force: true });
  }
  const stamp = f('server.address');
  if (!fs.existsSync(f('server.crt')) || (fs.existsSync(stamp) ? fs.readFileSync(stamp, 'utf8') : '') !== address) {
    const ext = f('server.ext');
    fs.writeFileSync(ext, `subjectAltName=IP:${address}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${address}`,
      '-keyout', f('server.key'), '-out', f('server.csr'));
    ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-days', '397', '-extfile', ext, '-out', f('server.crt'));
    fs.writeFileSync(stamp, address);
  }
  for (const n of ['ca.key', 'server.key']) fs.chmodSync(f(n), 0o600);
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

/** The patient link as a QR code for a terminal (qrencode, UTF-8 blocks). */
function qr(text) {
  try {
    return execFileSync('qrencode', ['-t', 'UTF8', '-m', '2', '-l', 'M', text], { encoding: 'utf8' });
  } catch (e) {
    return `(no QR code: ${e.code === 'ENOENT' ? 'qrencode is not installed' : e.message})\n`;
  }
}

/** Refuses to start when one of our ports is taken, naming the flag to change. */
async function checkPorts(args, pagesHost, turnHost) {
  const wanted = [
    [args.port, pagesHost, 'tcp', 'pages', '--port'],
    [args.janusPort, '127.0.0.1', 'tcp', 'Janus WebSocket', '--janus-port'],
    [args.adminPort, '127.0.0.1', 'tcp', 'Janus admin API', '--admin-port'],
    [args.turnPort, turnHost, 'udp', 'TURN', '--turn-port'],
    [args.turnPort, turnHost, 'tcp', 'TURN', '--turn-port'],
  ];
  const seen = new Map();
  for (const [port, host, proto, what, flag] of wanted) {
    const key = `${proto}:${port}`;
    if (seen.has(key) && seen.get(key) !== flag) throw new Error(`${flag} and ${seen.get(key)} are both ${port}: give them different ports`);
    seen.set(key, flag);
    if (!await portFree(port, host, proto)) {
      throw new Error(`port ${port} (${what}) is taken by another program on ${host}: choose another with ${flag} N, or stop that program`);
    }
  }
}

// A mistake of the caller (bad flag, taken port): its message only, no stack.
class StartError extends Error {}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    throw new StartError(`${e.message}\n${fs.readFileSync(USAGE_FILE, 'utf8')}`);
  }
  if (args.help || !args.demo) {
    process.stdout.write(fs.readFileSync(USAGE_FILE, 'utf8'));
    return args.help ? 0 : 2;
  }
  const lan = args.lan ? (args.lan === 'auto' ? lanAddress() : args.lan) : null;
  const pagesHost = lan || '127.0.0.1';
  try {
    await checkPorts(args, pagesHost, pagesHost);
  } catch (e) {
    throw new StartError(e.message);
  }
  fs.mkdirSync(args.data, { recursive: true, mode: 0o700 });
  const secretsFile = path.join(args.data, 'secrets.json');
  let secrets = readJson(secretsFile);
  if (!secrets?.codeSecret || !secrets?.adminSecret || !secrets?.turnSecret) {
    secrets = {
      codeSecret: secrets?.codeSecret || crypto.randomBytes(32).toString('hex'),
      adminSecret: secrets?.adminSecret || crypto.randomBytes(16).toString('hex'),
      turnSecret: crypto.randomBytes(32).toString('hex'),
    };
    writeSecretJson(secretsFile, secrets);
  }
  const tls = lan ? lanTls(path.join(args.data, 'lan-tls'), lan) : null;
  const publicUrl = lan ? `https://${lan}:${args.port}` : `http://127.0.0.1:${args.port}`;
  let janus = null;
  let nginx = null;
  let coturn = null;
  let mail = null;
  const stopAll = async () => {
    if (nginx) await nginx.stop().catch(() => {});
    if (janus) await janus.stop().catch(() => {});
    if (mail) await mail.stop().catch(() => {});
    if (coturn) await coturn.stop().catch(() => {});
  };
  try {
    coturn = await startCoturn({ listenIp: pagesHost, port: args.turnPort, secret: secrets.turnSecret });
    mail = await startMailSink(path.join(args.data, 'mail'));
    janus = await startJanus({
      wsPort: args.janusPort, adminPort: args.adminPort, dataDir: args.data,
      codeSecret: secrets.codeSecret, adminSecret: secrets.adminSecret, publicUrl, eventLoops: 2,
      extraPluginConfig: {
        stun_uris: coturn.stunUri,
        turn_uris: [coturn.uri('udp'), coturn.uri('tcp')].join(','),
        turn_secret: secrets.turnSecret,
        templates_dir: path.join(REPO, 'conf', 'messages'),
        smtp_url: `smtp://127.0.0.1:${mail.port}`,
        smtp_starttls: false,
        smtp_from: 'videosprechstunde@praxis.example',
      },
    });
    nginx = await startNginx({
      janusWsUrl: janus.wsUrl, port: args.port, listenHost: pagesHost, tls,
      // the CA certificate inline: nginx' workers cannot read the data folder (0700)
      extraLocations: tls ? `    location = /demo-ca.crt {\n      default_type application/x-x509-ca-cert;\n      return 200 "${fs.readFileSync(tls.ca, 'utf8')}";\n    }` : '',
    });
    // consult-admin finds this demo by itself (scripts/consult-admin: CONSULT_ADMIN_CONFIG, default
    // /var/lib/consult-demo/consult-admin.json)
    writeSecretJson(path.join(args.data, 'consult-admin.json'), { url: janus.adminUrl, admin_secret: secrets.adminSecret });
    const logins = await seedDemo(janus, args.data);
    const appt = await createDemoAppointment(janus, logins);
    const out = [
      '',
      `consult demo is running (data in ${args.data}, Janus log ${janus.logPath})`,
      '',
      `  Reception:  ${nginx.url}/reception.html`,
      `  Doctor:     ${nginx.url}/doctor.html`,
      `  Patient:    ${appt.link}`,
      `              (code ${appt.code}, appointment at ${new Date(appt.starts_at * 1000).toLocaleTimeString('de-DE')})`,
      '',
      `  Logins:     ${DEMO.doctor.username} / ${logins.doctor}   (doctor ${DEMO.doctor.display_name})`,
      `              ${DEMO.reception.username} / ${logins.reception}   (reception)`,
      '',
      ...(lan ? [
        `  On a phone in the same network (scan the code, then accept the certificate warning`,
        `  or first install the demo CA from ${nginx.url}/demo-ca.crt; see README "Trying it on a phone"):`,
        '',
        qr(appt.link).replace(/\n$/, ''),
        '',
      ] : []),
      `  Admin API:  ${janus.adminUrl}  (admin_secret in ${secretsFile};`,
      `              consult-admin reads ${path.join(args.data, 'consult-admin.json')}${args.data === '/var/lib/consult-demo' ? ' by itself' : ' with CONSULT_ADMIN_CONFIG'})`,
      `  WebSocket:  ${janus.wsUrl} (also ${nginx.url}/janus)`,
      `  TURN:       ${coturn.uri('udp')} (coturn, log ${coturn.logPath})`,
      `  E-Mails der Demo: ${mail.dir}  (SMTP sink 127.0.0.1:${mail.port}; one N.eml per message)`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ];
    if (!stopSignal) process.stdout.write(out.join('\n'));
  } catch (e) {
    process.stderr.write(`stack: ${e.message}\n`);
    await stopAll();
    return 1;
  }
  if (!stopSignal) await new Promise((resolve) => { onStopSignal = resolve; });
  process.stdout.write('\nstopping...\n');
  const nginxExit = await nginx.stop();
  const janusExit = await janus.stop();
  const mailExit = await mail.stop();
  const coturnExit = await coturn.stop();
  process.stdout.write(`nginx ${JSON.stringify(nginxExit)}, janus ${JSON.stringify(janusExit)}, mail ${JSON.stringify(mailExit)}, coturn ${JSON.stringify(coturnExit)}\n`);
  return janusExit.code === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`scripts/run: ${e instanceof StartError ? e.message : e.stack || e}\n`);
  process.exit(1);
});
