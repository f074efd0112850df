// denylist.test.mjs - the production coturn sample (conf/turnserver.conf)
// against Debian's real turnserver 4.6.1 and turnutils_uclient.
//
// Contract: creates a network namespace that has only `lo` (so a deny rule
// that fails cannot send a packet anywhere), runs turnserver, an echo peer
// (turnutils_peer) and the TURN clients inside it, and always removes the
// namespace and every process it started (after hook, also on failure).
// Asserts: every deny line parses; special-purpose peers (127.0.0.1,
// ::ffff:127.0.0.1, ::1, 169.254.169.254, 10.0.0.1, ...) get 403 Forbidden
// IP; global peers do not (no over-blocking); controls show the harness can
// see a relay that is NOT refused; TURN REST credentials computed here with
// node:crypto are accepted and forged/expired ones get 401; the local demo
// variant (conf/turnserver-local.conf) relays to 127.0.0.1 only.
// Needs root (ip netns). Node built-ins only. Every step is time-bound.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// CONSULT_TURN_CONF: another production config to check (used to prove
// that these tests fail on a broken deny list).
const PROD_CONF = process.env.CONSULT_TURN_CONF || path.join(ROOT, 'conf/turnserver.conf');
const LOCAL_CONF = path.join(ROOT, 'conf/turnserver-local.conf');
const NS = `consult-turn-${process.pid}`;
const SECRET = crypto.randomBytes(24).toString('hex');
const REALM = 'consult.test';
const PEER_PORT = 3480;                    // turnutils_uclient's default peer port
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-turn-'));
const procs = new Set();
let nsCreated = false;
let nextPort = 3500;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sh(cmd, args, timeout = 10000) {
  return execFileSync(cmd, args, { timeout, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a command to completion (killed after timeoutMs); resolves with its output. */
function run(cmd, args, timeoutMs) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.add(p);
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      procs.delete(p);
      resolve({ code, signal, out, timedOut: signal === 'SIGKILL' });
    });
  });
}

/** Starts a long-running process; returns it (tracked for cleanup). */
function start(cmd, args) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.add(p);
  p.output = '';
  p.stdout.on('data', (d) => { p.output += d; });
  p.stderr.on('data', (d) => { p.output += d; });
  p.exited = new Promise((r) => p.on('exit', (code, signal) => { procs.delete(p); r({ code, signal }); }));
  return p;
}

async function stop(p, ms = 5000) {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), ms);
  await p.exited;
  clearTimeout(t);
}

const inNs = (...args) => ['netns', 'exec', NS, ...args];

/** TURN REST API credentials (same scheme as plugins/core/turn.c). */
function creds(id, ttl = 600, secret = SECRET) {
  const username = `${Math.floor(Date.now() / 1000) + ttl}:${id}`;
  const password = crypto.createHmac('sha1', secret).update(username).digest('base64');
  return { username, password };
}

const activeLines = (text, key) =>
  text.split('\n').filter((l) => l.trim().startsWith(`${key}=`) || l.trim() === key);

/** The production sample with its placeholders filled in for the namespace. */
function prodConfig(name, port) {
  let t = fs.readFileSync(PROD_CONF, 'utf8');
  const set = (key, value) => {
    const re = new RegExp(`^${key}=.*$`, 'm');
    assert.match(t, re, `${key} missing from the sample`);
    t = t.replace(re, value);
  };
  set('listening-ip', 'listening-ip=127.0.0.1\nlistening-ip=::1');
  set('relay-ip', 'relay-ip=127.0.0.1\nrelay-ip=::1');
  set('static-auth-secret', `static-auth-secret=${SECRET}`);
  set('realm', `realm=${REALM}`);
  set('listening-port', `listening-port=${port}`);
  set('tls-listening-port', `tls-listening-port=${port + 1}`);
  // each instance its own relay range, large enough for allocations that
  // linger until their lifetime ends (uclient does not release them)
  set('min-port', `min-port=${20000 + (port - 3500) * 50}`);
  set('max-port', `max-port=${20000 + (port - 3500) * 50 + 399}`);
  set('log-file', `log-file=${path.join(tmp, name + '.log')}\nuserdb=${path.join(tmp, name + '.db')}\npidfile=${path.join(tmp, name + '.pid')}`);
  t = t.replace(/^(cert|pkey|cipher-list)=.*$/gm, '# (test: no TLS)');
  t += '\n# test additions\nno-tls\n';
  const left = t.split('\n').filter((l) => !l.trim().startsWith('#') && l.includes('CHANGE_ME'));
  assert.deepEqual(left, [], 'every placeholder must be replaced');
  return t;
}

/** UDP ports bound inside the namespace (its /proc/net/udp and udp6). */
function udpPortsInNs() {
  const out = sh('ip', inNs('cat', '/proc/net/udp', '/proc/net/udp6'));
  const ports = new Set();
  for (const line of out.split('\n')) {
    const m = /^\s*\d+: [0-9A-F]+:([0-9A-F]{4}) /.exec(line);
    if (m) ports.add(parseInt(m[1], 16));
  }
  return ports;
}

/** Polls cond() until it is truthy; fails naming what after ms. */
async function until(what, cond, ms = 30000, interval = 100) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(interval);
  }
}

/**
 * Writes a config and starts turnserver on it inside the namespace; returns
 * once it answers an Allocate on 127.0.0.1:port (401 + realm and nonce),
 * not after a fixed time.
 */
async function startTurn(name, text, extraArgs = [], port = null) {
  const file = path.join(tmp, name + '.conf');
  fs.writeFileSync(file, text);
  const log = path.join(tmp, name + '.log');
  const p = start('ip', inNs('turnserver', '-c', file, ...extraArgs));
  const readLog = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
  const deadline = Date.now() + 30000;
  const up = async () => {
    if (!readLog().includes('Total General servers')) return false;
    if (port === null) return true;
    const r = await allocate(port, { username: '-', password: '-' }, 2000).catch(() => null);
    return r && r.stage === 'first' && r.code === 401;
  };
  while (!await up()) {
    if (p.exitCode !== null || Date.now() > deadline) {
      await stop(p);
      assert.fail(`turnserver ${name} did not start: ${p.output.slice(-500)}`);
    }
    await sleep(100);
  }
  return { p, log: readLog };
}

async function startProd(name, edit = (t) => t) {
  const port = nextPort;
  nextPort += 10;
  const turn = await startTurn(name, edit(prodConfig(name, port)), [], port);
  turn.port = port;
  return turn;
}

/** One turnutils_uclient run through the TURN server to peer. */
async function relayTo(port, peer, id, opts = {}) {
  const c = opts.creds ?? creds(id);
  const args = ['-n', '2', '-c', '-p', String(port), '-u', c.username, '-w', c.password, '-e', peer];
  if (peer.includes(':')) args.unshift('-x');           // IPv6 relay for an IPv6 peer
  const r = await run('ip', inNs('turnutils_uclient', ...args, '127.0.0.1'), opts.timeoutMs ?? 40000);
  assert.equal(r.timedOut, false, `uclient to ${peer} timed out`);
  const m = [...r.out.matchAll(/tot_recv_msgs=(\d+)/g)].pop();   // the final summary
  return {
    peer,
    out: r.out,
    refused: /error 403 \(Forbidden IP\)/.test(r.out),
    received: m ? Number(m[1]) : -1,
  };
}

/** Runs relayTo for many peers, a few at a time. */
async function relayAll(port, peers, tag, width = 4) {
  const res = [];
  for (let i = 0; i < peers.length; i += width) {
    const batch = peers.slice(i, i + width);
    res.push(...await Promise.all(batch.map((peer, j) => relayTo(port, peer, `${tag}-${i + j}`))));
  }
  return res;
}

// A minimal STUN/TURN client (RFC 5389/5766) run inside the namespace:
// Allocate without credentials (expects 401 + realm + nonce), then with
// USERNAME/REALM/NONCE/MESSAGE-INTEGRITY. Prints {"type":..,"code":..}.
const STUN_CLIENT = `
import dgram from 'node:dgram';
import crypto from 'node:crypto';
const [port, user, pass, waitMs] = process.argv.slice(-4);
const MAGIC = 0x2112a442;
const attr = (type, value) => {
  const pad = (4 - (value.length % 4)) % 4;
  const b = Buffer.alloc(4 + value.length + pad);
  b.writeUInt16BE(type, 0); b.writeUInt16BE(value.length, 2); value.copy(b, 4);
  return b;
};
function message(attrs, key) {
  const tid = crypto.randomBytes(12);
  let body = Buffer.concat(attrs);
  const head = Buffer.alloc(20);
  head.writeUInt16BE(0x0003, 0); head.writeUInt32BE(MAGIC, 4); tid.copy(head, 8);
  if (key) {
    head.writeUInt16BE(body.length + 24, 2);
    const mac = crypto.createHmac('sha1', key).update(Buffer.concat([head, body])).digest();
    body = Buffer.concat([body, attr(0x0008, mac)]);
  }
  head.writeUInt16BE(body.length, 2);
  return { tid, buf: Buffer.concat([head, body]) };
}
function parse(b) {
  const out = { type: b.readUInt16BE(0), tid: b.subarray(8, 20), attrs: {} };
  for (let o = 20; o + 4 <= b.length;) {
    const t = b.readUInt16BE(o), l = b.readUInt16BE(o + 2);
    out.attrs[t] = b.subarray(o + 4, o + 4 + l);
    o += 4 + l + ((4 - (l % 4)) % 4);
  }
  if (out.attrs[0x0009]) out.code = (out.attrs[0x0009][2] & 7) * 100 + out.attrs[0x0009][3];
  return out;
}
const sock = dgram.createSocket('udp4');
function ask(m) {
  return new Promise((resolve, reject) => {
    const giveUp = Date.now() + Number(waitMs);
    const send = () => {
      if (Date.now() > giveUp) { sock.off('message', on); reject(new Error('no answer')); return; }
      sock.send(m.buf, Number(port), '127.0.0.1');
      timer = setTimeout(send, 500);
    };
    let timer;
    const on = (b) => {
      const r = parse(b);
      if (!r.tid.equals(m.tid)) return;
      clearTimeout(timer); sock.off('message', on); resolve(r);
    };
    sock.on('message', on);
    send();
  });
}
const transport = attr(0x0019, Buffer.from([17, 0, 0, 0]));
const first = await ask(message([transport]));
const realm = first.attrs[0x0014], nonce = first.attrs[0x0015];
if (first.code !== 401 || !realm || !nonce || user === '-') {
  console.log(JSON.stringify({ stage: 'first', type: first.type, code: first.code ?? null }));
} else {
  const key = crypto.createHash('md5').update(user + ':' + realm.toString() + ':' + pass).digest();
  const second = await ask(message([transport, attr(0x0006, Buffer.from(user)), attr(0x0014, realm), attr(0x0015, nonce)], key));
  console.log(JSON.stringify({ stage: 'second', type: second.type, code: second.code ?? null }));
}
sock.close();
`;

// (user name '-': only the first, unauthenticated Allocate: a readiness probe)
async function allocate(port, c, waitMs = 20000) {
  const r = await run('ip', inNs(process.execPath, '--input-type=module', '-e', STUN_CLIENT, '--',
    String(port), c.username, c.password, String(waitMs)), 2 * waitMs + 15000);
  assert.equal(r.timedOut, false, 'STUN client timed out');
  const line = r.out.trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    assert.fail(`STUN client output: ${r.out.slice(-400)}`);
  }
}

let prod;                                   // the production sample, shared

before(async () => {
  assert.equal(process.getuid(), 0, 'needs root for ip netns');
  for (const bin of ['turnserver', 'turnutils_uclient', 'turnutils_peer'])
    sh('sh', ['-c', `command -v ${bin}`]);
  sh('ip', ['netns', 'add', NS]);
  nsCreated = true;
  sh('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  const links = sh('ip', ['-n', NS, '-o', 'link', 'show']).trim().split('\n');
  assert.equal(links.length, 1, `namespace must have only lo: ${links}`);
  assert.match(links[0], /: lo:/);
  const peer = start('ip', inNs('turnutils_peer', '-L', '127.0.0.1', '-L', '::1', '-p', String(PEER_PORT)));
  // Ready once its UDP port is bound in the namespace (both addresses).
  await until('turnutils_peer bound to its UDP port', () => {
    assert.equal(peer.exitCode, null, `turnutils_peer died: ${peer.output}`);
    return udpPortsInNs().has(PEER_PORT);
  });
  prod = await startProd('prod');
});

function cleanup() {
  for (const p of procs) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
  if (nsCreated) {
    try { execFileSync('ip', ['netns', 'del', NS], { timeout: 5000, stdio: 'ignore' }); } catch { /* gone */ }
    nsCreated = false;
  }
}
process.on('exit', cleanup);

after(async () => {
  for (const p of [...procs]) await stop(p, 3000);
  cleanup();
  let present = '';
  try { present = sh('ip', ['netns', 'list']); } catch { /* none */ }
  assert.ok(!present.includes(NS), 'namespace removed');
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('every deny line of the sample parses (coturn logs each as Black listing)', () => {
  const conf = fs.readFileSync(PROD_CONF, 'utf8');
  const lines = activeLines(conf, 'denied-peer-ip');
  assert.ok(lines.length >= 30, `deny list looks short: ${lines.length}`);
  assert.ok(!lines.some((l) => l.includes('/')), 'coturn 4.6.1 has no CIDR syntax');
  assert.ok(!lines.some((l) => /^denied-peer-ip=::(-|$)/.test(l.trim())),
    'a range starting at :: denies every peer in coturn 4.6.1');
  const log = prod.log();
  assert.doesNotMatch(log, /Wrong address format|error resolving/i);
  const listed = log.split('\n').filter((l) => l.includes('Black listing:'));
  assert.equal(listed.length, lines.length);
  for (const must of ['use-auth-secret', 'no-cli', 'no-multicast-peers', 'fingerprint', 'no-tlsv1', 'no-tlsv1_1',
    'no-software-attribute', 'no-rfc5780', 'no-stun-backward-compatibility'])
    assert.equal(activeLines(conf, must).length, 1, `${must} set`);
  assert.equal(activeLines(conf, 'allow-loopback-peers').length, 0, 'production allows no loopback peers');
  assert.equal(activeLines(conf, 'allowed-peer-ip').length, 0, 'production allows no peer explicitly');
});

test('coturn 4.6.1 ignores CIDR deny lines (why the sample uses A-B ranges)', async () => {
  const turn = await startProd('cidr', (t) => t.replace(/^denied-peer-ip=.*$/gm, '') +
    'denied-peer-ip=10.0.0.0/8\n');
  try {
    assert.match(turn.log(), /ERROR: Wrong address format: 10\.0\.0\.0\/8/);
    assert.ok(!turn.log().includes('Black listing'), 'nothing denied');
  } finally {
    await stop(turn.p);
  }
});

test('production deny list refuses special-purpose peers with 403 Forbidden IP', async () => {
  const peers = [
    '127.0.0.1', '::ffff:127.0.0.1', '::1', '169.254.169.254', '10.0.0.1',
    '0.0.0.0', '::', '100.64.0.1', '172.16.0.1', '192.168.1.1', '198.18.0.1',
    '224.0.0.1', '255.255.255.255', '::ffff:10.0.0.1', '::ffff:169.254.169.254',
    '::127.0.0.1', '::10.0.0.0', '64:ff9b::a9fe:a9fe', '2002:7f00:1::1',
    'fd00::1', 'fe80::1', 'ff02::1',
  ];
  const res = await relayAll(prod.port, peers, 'deny');
  const passed = res.filter((r) => !r.refused).map((r) => `${r.peer}: ${r.out.trim().split('\n').slice(-2).join(' | ')}`);
  assert.deepEqual(passed, [], 'peers that were not refused');
  for (const r of res) assert.ok(r.received <= 0, `${r.peer} must not be relayed`);
});

test('the deny list itself refuses loopback, even with allow-loopback-peers', async () => {
  const turn = await startProd('loop', (t) => t + 'allow-loopback-peers\n');
  try {
    const res = await relayAll(turn.port, ['127.0.0.1', '::ffff:127.0.0.1', '::1', '127.1.2.3'], 'loop');
    for (const r of res) assert.ok(r.refused, `${r.peer} refused: ${r.out.slice(-300)}`);
  } finally {
    await stop(turn.p);
  }
});

test('global peers are not refused (no over-blocking)', async () => {
  const res = await relayAll(prod.port, ['9.9.9.9', '1.1.1.1', '2620:fe::fe', '2a00:1450:4001::1'], 'global');
  for (const r of res) {
    assert.ok(!r.refused, `${r.peer} wrongly refused`);
    assert.match(r.out, /tot_send_msgs=2/, `${r.peer}: allocation and permission worked`);
  }
});

test('control: without the deny lines and with allow-loopback-peers, 127.0.0.1 is relayed', async () => {
  const turn = await startProd('open', (t) => t.replace(/^denied-peer-ip=.*$/gm, '') + 'allow-loopback-peers\n');
  try {
    assert.ok(!turn.log().includes('Black listing'));
    const r = await relayTo(turn.port, '127.0.0.1', 'open-1');
    assert.ok(!r.refused, r.out.slice(-300));
    assert.ok(r.received > 0, `echo came back through the relay: ${r.out.slice(-300)}`);
  } finally {
    await stop(turn.p);
  }
});

test('control: coturn 4.6.1 needs the ::ffff: line (the IPv4 lines miss mapped peers)', async (t) => {
  const version = sh('turnserver', ['--version']).trim();
  if (!version.startsWith('4.6.')) {
    t.skip(`coturn ${version}: mapped-address handling differs`);
    return;
  }
  const turn = await startProd('mapped', (c) => c.replace(/^denied-peer-ip=::ffff:.*$/gm, '') + 'allow-loopback-peers\n');
  try {
    const [mapped, plain] = await Promise.all([
      relayTo(turn.port, '::ffff:127.0.0.1', 'mapped-1'),
      relayTo(turn.port, '127.0.0.1', 'mapped-2'),
    ]);
    assert.ok(plain.refused, '127.0.0.1 still refused by the IPv4 line');
    assert.ok(!mapped.refused, '::ffff:127.0.0.1 passes the IPv4 line in 4.6.1');
  } finally {
    await stop(turn.p);
  }
});

test('TURN REST credentials: valid accepted, forged and expired get 401', async () => {
  const good = creds('auth-good');
  const ok = await allocate(prod.port, good);
  assert.deepEqual(ok, { stage: 'second', type: 0x0103, code: null }, 'Allocate success');

  const forged = { ...creds('auth-forged') };
  forged.password = crypto.createHmac('sha1', 'not-the-secret-0123456789').update(forged.username).digest('base64');
  assert.deepEqual(await allocate(prod.port, forged), { stage: 'second', type: 0x0113, code: 401 });

  const swapped = { username: creds('auth-other').username, password: good.password };
  assert.deepEqual(await allocate(prod.port, swapped), { stage: 'second', type: 0x0113, code: 401 });

  const expired = creds('auth-expired', -60);
  assert.deepEqual(await allocate(prod.port, expired), { stage: 'second', type: 0x0113, code: 401 });

  // and turnutils_uclient with a forged password cannot allocate at all
  const r = await relayTo(prod.port, '9.9.9.9', 'x', { creds: forged, timeoutMs: 30000 });
  assert.match(r.out, /Cannot complete Allocation/);
  assert.ok(!r.refused && r.received <= 0);
});

test('local demo variant relays to 127.0.0.1 only', async () => {
  const name = 'local';
  const extra = [`--userdb=${path.join(tmp, name + '.db')}`, `--log-file=${path.join(tmp, name + '.log')}`,
    `--pidfile=${path.join(tmp, name + '.pid')}`, `--static-auth-secret=${SECRET}`];
  const turn = await startTurn(name, fs.readFileSync(LOCAL_CONF, 'utf8'), extra, 3478);
  try {
    assert.doesNotMatch(turn.log(), /Wrong address format|error resolving/i);
    // IPv4 only (no IPv6 relay address), so IPv6 peers cannot even be tried
    const [loop, other, meta, priv] = await Promise.all([
      relayTo(3478, '127.0.0.1', 'l1'), relayTo(3478, '127.0.0.2', 'l2'),
      relayTo(3478, '169.254.169.254', 'l3'), relayTo(3478, '10.0.0.1', 'l4'),
    ]);
    assert.ok(!loop.refused && loop.received > 0, `127.0.0.1 relayed: ${loop.out.slice(-300)}`);
    for (const r of [other, meta, priv]) assert.ok(r.refused, `${r.peer} refused`);
    assert.deepEqual(await allocate(3478, creds('local-forged', 600, 'another-secret-0123456789')),
      { stage: 'second', type: 0x0113, code: 401 });
  } finally {
    await stop(turn.p);
  }
});
