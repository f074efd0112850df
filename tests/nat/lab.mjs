// lab.mjs - a NAT lab of network namespaces for the TURN tests (tests/nat)
// and the call-setup benchmark (bench/callsetup.mjs).
//
// Contract:
// - Must run inside a network namespace that is NOT the machine's root one
//   (scripts/lib/in-lo-netns); requireLabNetns() throws otherwise. That
//   namespace is the PUBLIC network and router: Janus, nginx and coturn run
//   there as ordinary children; the server address SERVER_IP (198.18.0.1)
//   sits on its lo.
// - createLab({nat, block}) builds, with veth pairs created only between
//   namespaces made here:
//     nat=true:  patient(10.1.0.2) - natP(10.1.0.1 | 198.51.100.2) - public
//                (198.51.100.1 | 203.0.113.1) - natD(203.0.113.2 | 10.2.0.1)
//                - doctor(10.2.0.2); nft masquerade on the NAT boxes
//                (cone-like: plain masquerade, forward policy drop, and
//                unsolicited packets on the outside INPUT dropped).
//     nat=false: patient(198.51.100.2) - public - doctor(203.0.113.2), no NAT.
//     block=true: the public router drops every packet between the two
//                outside ranges, and packets from them to coturn's relay
//                ports on SERVER_IP (a peer may reach only TURN's listening
//                port, so a srflx -> relay pair cannot form either): only
//                relay/relay works. The rule names SERVER_IP: Janus' media
//                ports are ephemeral ports on the two router addresses
//                (198.51.100.1, 203.0.113.1), and each browser reaches
//                Janus only on the address of its own side; a rule by
//                port alone dropped a forwarded leg whenever Janus drew a
//                port in 49160-49999 (~3 % per leg: ICE failed after ~25 s).
//   IPv6 is off in every lab namespace. lab.destroy() deletes every
//   namespace and undoes the public namespace's changes (nft table, the
//   server address); it never throws, also runs from a process 'exit'
//   handler, and is idempotent. lab.degradePatient({lossPct, rateKbit}) /
//   lab.restorePatient(): a bad patient link without netem (this kernel
//   has no sch_netem): the public router drops lossPct % of the packets
//   from and to the patient's side at random (nft numgen, silently, in its
//   forward path) and, with rateKbit, limits the router's link towards the
//   patient (tbf: a queue, so delay, then loss); restore removes both
//   (destroy does too). lab.linkDown()/linkUp() take the patient's
//   link down / up again (re-adding its default route).
// - startCoturn({secret}) runs turnserver (scripts/lib/coturn.mjs) on
//   SERVER_IP:3478 (UDP, no TLS, use-auth-secret) with the lab's public
//   ranges allowed as peers; returns coturn.mjs' object with uri (string),
//   peerUsage() -> [{rp, rb, sp, sb}] from its log, and two waits on the
//   live log (coturn flushes every line): waitPeerUsage(what, pred, ms)
//   until a peer usage line satisfies pred, waitLog(what, re, ms) until the
//   log matches re. coturn 4.6.1 writes a peer usage line for an allocation
//   every 4096 packets it counts and when the allocation is released
//   (counters reset after each line), never on SIGTERM: a running relayed
//   call is certain to produce one, a call's end is not.
// - launchIn(ns, name, {origin}) starts Debian's Chromium inside namespace
//   ns (playwright-core, executablePath = a wrapper that does
//   `ip netns exec NS chromium`), with lib.mjs' CHROMIUM_ARGS plus
//   --unsafely-treat-insecure-origin-as-secure=origin; same shape as
//   tests/browser/lib.mjs launchChromium.
// - startLabStack(lab, {turnSecret, coturnSecret, relayOnly}) starts coturn,
//   Janus (TURN config pointing at coturn; turnSecret may differ from
//   coturn's to forge credentials), nginx on SERVER_IP, seeds a practice
//   (relay_only through the admin API when asked); stop() returns the logs.
// - realCall(...) drives the real pages: reception (staff browser) books,
//   the patient joins from the link, the doctor calls, the patient accepts.
// Options for forwarding mode (issue 5; every default keeps the behaviour
// above):
// - startLabStack(lab, {turn, pluginConfig, janusEnv, janusOptions,
//   forward}): turn 'on' (default) | 'absent' (no coturn, no STUN/TURN in
//   the plugin config: browsers get no ice_servers) | 'blocked' (coturn
//   runs and is configured, but lab.blockTurn() drops every packet from
//   the lab's ranges to SERVER_IP:3478); pluginConfig is merged into the
//   plugin's jcfg general section (e.g. {p2p_timeout_seconds: 3}); janusEnv
//   is Janus' extra environment (e.g. {CONSULT_TEST: '1'}); janusOptions is
//   spread into scripts/lib/janus.mjs startJanus(); forward ('allowed' |
//   'never') is set per practice through the admin API.
// - lab.blockTurn(): see turn 'blocked' (own nft table, removed by destroy).
// - lab.blockUdp(): the public router drops every UDP packet from the lab's
//   outside ranges (to coturn, to Janus, to the other side): a network that
//   lets only TCP out. lab.udpBlockedPackets() counts what it dropped.
// - startLabStack(lab, {turnTransports}): the transports of turn_uris
//   (default ['udp']; e.g. ['udp', 'tcp'] offers TURN over TCP as well, as
//   conf/janus.plugin.consult.jcfg.sample does).
// - scenario({udpBlocked, turnTransports}) passes these on (udpBlocked:
//   lab.blockUdp() before the stack starts).
// TURN over TLS:
// - startLabStack(lab, {turnTls: true}): coturn listens for TURN over TLS
//   on SERVER_IP:TURN_TLS_PORT as well, with a self-signed certificate
//   (P-256, subjectAltName IP:SERVER_IP) made with openssl into a temp
//   folder for this stack (removed by stop()); 'tls' in turnTransports then
//   offers turns:SERVER_IP:TURN_TLS_PORT?transport=tcp. stack.turnTlsSpki
//   is the base64 SHA-256 of the certificate's public key: Chromium trusts
//   it for TURN/TLS with --ignore-certificate-errors-spki-list=<it>
//   (measured with Chromium 156: without a flag the allocation fails with
//   icecandidateerror 701; the SPKI list trusts this key only).
// - startLabStack(lab, {blockTurnTransports}): lab.blockTurn(list) once
//   coturn runs; lab.blockTurn(transports = ['udp', 'tcp', 'tls']) drops
//   the lab's packets to coturn on the given ones (udp/tcp: port
//   TURN_PORT, tls: TURN_TLS_PORT; turn 'blocked' drops all three).
// - scenario({turnTls, blockTurnTransports}) passes these on and starts
//   both browsers trusting the stack's TURN certificate.
// - launchFirefoxIn(ns, name, {origin}) starts Debian's Firefox ESR inside
//   namespace ns, headless, driven by puppeteer-core over WebDriver BiDi:
//   Firefox' BiDi port listens on the namespace's own 127.0.0.1, so this
//   process serves the same TCP port on its 127.0.0.1 (Firefox checks the
//   Host header) and bridges each connection
//   through `ip netns exec ns node` (stdin/stdout <-> the BiDi port).
//   origin is treated as secure (dom.securecontext.allowlist) so that
//   getUserMedia works over plain http. Same shape as launchIn():
//   {kind: 'firefox', browser, ns, newPage(), close()}.
// - scenario({..., turn, pluginConfig, janusEnv, janusOptions, forward,
//   patientBrowser, staffBrowser: 'chromium' | 'firefox'}) passes these on
//   (staffBrowser: reception's and the doctor's page; with Firefox book
//   over the WebSocket, appointmentViaWs: it types the reception form's
//   date fields differently); patientArgs
//   are extra Chromium flags of the patient's browser (e.g. a camera fed
//   from a y4m file, tests/nat/photo.test.mjs), staffArgs those of the
//   staff browser (the doctor's page: tests/nat/calltools-forward.test.mjs).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CHROMIUM, CHROMIUM_ARGS, PASSWORDS, REPO, drive, harness, selectValue, step, waitFor, watchConsole,
} from '../browser/lib.mjs';

export { watchConsole };

export const SERVER_IP = '198.18.0.1';
export const TURN_PORT = 3478;
export const TURN_TLS_PORT = 5349;
const IP = '/usr/sbin/ip';
const NFT = '/usr/sbin/nft';

function run(cmd, args, { input, quiet = false } = {}) {
  try {
    return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    if (quiet) return null;
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(err.stderr || err.message || '').trim()}`);
  }
}
const ip = (...a) => run(IP, a);
const inNs = (ns, cmd, args, opts) => run(IP, ['netns', 'exec', ns, cmd, ...args], opts);
const sysctl = (ns, key, value) => {
  const file = `/proc/sys/${key.replace(/\./g, '/')}`;
  if (ns) inNs(ns, '/bin/sh', ['-c', `echo ${value} > ${file}`]);
  else fs.writeFileSync(file, String(value));
};

/** Throws unless this process runs in its own (non-root) network namespace. */
export function requireLabNetns() {
  // The root namespace has no name; in-lo-netns' namespace has one.
  const name = (run(IP, ['netns', 'identify', String(process.pid)], { quiet: true }) || '').trim();
  if (!name) {
    throw new Error('tests/nat must run inside its own named network namespace: '
      + 'scripts/lib/in-lo-netns node --test --test-concurrency=1 tests/nat/');
  }
  if (process.getuid && process.getuid() !== 0) throw new Error('tests/nat need root (network namespaces)');
  if (!fs.existsSync(NFT)) throw new Error('nft is missing: apt-get install nftables');
}

// Every live lab, so the 'exit' handler can remove what a crash left.
const liveLabs = new Set();
process.on('exit', () => { for (const lab of liveLabs) lab.destroySync(); });
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => { for (const lab of liveLabs) lab.destroySync(); process.exit(130); });
}

let labCounter = 0;

export function createLab({ nat = true, block = false } = {}) {
  requireLabNetns();
  labCounter += 1;
  const tag = `${process.pid}-${labCounter}`;
  const names = {
    patient: `natlab-${tag}-pat`,
    doctor: `natlab-${tag}-doc`,
    natP: nat ? `natlab-${tag}-natp` : null,
    natD: nat ? `natlab-${tag}-natd` : null,
  };
  const table = `natlab_${tag.replace(/-/g, '_')}`;
  const turnTable = `${table}_turn`;
  const degradeTable = `${table}_degrade`;
  const pubP = `nlp${tag}`.slice(0, 15);
  const pubD = `nld${tag}`.slice(0, 15);
  const udpTable = `${table}_udp`;
  const created = [];
  let addedServerIp = false;
  let destroyed = false;
  const lab = {
    nat, block, ns: names, serverIp: SERVER_IP, table,
    patientOutside: '198.51.100.2', doctorOutside: '203.0.113.2',
    patientInside: nat ? '10.1.0.2' : '198.51.100.2',
    doctorInside: nat ? '10.2.0.2' : '203.0.113.2',
    destroySync() {
      if (destroyed) return;
      destroyed = true;
      liveLabs.delete(lab);
      for (const ns of created.reverse()) run(IP, ['netns', 'del', ns], { quiet: true });
      run(NFT, ['delete', 'table', 'inet', table], { quiet: true });
      run(NFT, ['delete', 'table', 'inet', turnTable], { quiet: true });
      run(NFT, ['delete', 'table', 'inet', degradeTable], { quiet: true });
      run(NFT, ['delete', 'table', 'inet', udpTable], { quiet: true });
      if (addedServerIp) run(IP, ['addr', 'del', `${SERVER_IP}/32`, 'dev', 'lo'], { quiet: true });
    },
    async destroy() { lab.destroySync(); },
  };
  liveLabs.add(lab);
  const addNs = (ns) => {
    run(IP, ['netns', 'del', ns], { quiet: true }); // a leftover of a killed run
    ip('netns', 'add', ns);
    created.push(ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    // One shell per namespace: IPv6 off, forwarding on (NAT boxes use it).
    inNs(ns, '/bin/sh', ['-c', 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; '
      + 'echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; echo 1 > /proc/sys/net/ipv4/ip_forward']);
  };
  // veth a (in nsA, or the public ns when nsA is null) <-> b (in nsB).
  const veth = (nsA, a, nsB, b) => {
    const first = ['link', 'add', a];
    if (nsA) first.push('netns', nsA);
    ip(...first, 'type', 'veth', 'peer', 'name', b, 'netns', nsB);
    if (nsA) ip('-n', nsA, 'link', 'set', a, 'up'); else ip('link', 'set', a, 'up');
    ip('-n', nsB, 'link', 'set', b, 'up');
  };
  const addr = (ns, dev, cidr) => (ns ? ip('-n', ns, 'addr', 'add', cidr, 'dev', dev) : ip('addr', 'add', cidr, 'dev', dev));
  try {
    // The public side: this process's namespace.
    ip('link', 'set', 'lo', 'up');
    if (!ip('-4', 'addr', 'show', 'dev', 'lo').includes(`${SERVER_IP}/32`)) {
      addr(null, 'lo', `${SERVER_IP}/32`);
      addedServerIp = true;
    }
    sysctl(null, 'net.ipv4.ip_forward', 1);
    for (const ns of Object.values(names)) if (ns) addNs(ns);
    if (nat) {
      for (const [box, inner, innerNet, outerAddr, pubDev, pubAddr] of [
        [names.natP, names.patient, '10.1.0', '198.51.100.2/24', pubP, '198.51.100.1/24'],
        [names.natD, names.doctor, '10.2.0', '203.0.113.2/24', pubD, '203.0.113.1/24'],
      ]) {
        veth(null, pubDev, box, 'out');
        addr(null, pubDev, pubAddr);
        addr(box, 'out', outerAddr);
        ip('-n', box, 'route', 'add', 'default', 'via', pubAddr.split('/')[0]);
        veth(box, 'in', inner, 'eth0');
        addr(box, 'in', `${innerNet}.1/24`);
        addr(inner, 'eth0', `${innerNet}.2/24`);
        ip('-n', inner, 'route', 'add', 'default', 'via', `${innerNet}.1`);
        inNs(box, NFT, ['-f', '-'], {
          input: `table ip natlab {
  chain post { type nat hook postrouting priority srcnat; policy accept; oifname "out" masquerade; }
  chain forward { type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "in" oifname "out" accept
  }
  chain input { type filter hook input priority filter; policy accept;
    iifname "out" ct state established,related accept
    iifname "out" drop
  }
}
`,
        });
      }
    } else {
      for (const [inner, pubDev, pubAddr, innerAddr] of [
        [names.patient, pubP, '198.51.100.1/24', '198.51.100.2/24'],
        [names.doctor, pubD, '203.0.113.1/24', '203.0.113.2/24'],
      ]) {
        veth(null, pubDev, inner, 'eth0');
        addr(null, pubDev, pubAddr);
        addr(inner, 'eth0', innerAddr);
        ip('-n', inner, 'route', 'add', 'default', 'via', pubAddr.split('/')[0]);
      }
    }
    if (block) {
      run(NFT, ['-f', '-'], {
        input: `table inet ${table} {
  chain forward { type filter hook forward priority filter; policy accept;
    ip saddr 198.51.100.0/24 ip daddr 203.0.113.0/24 counter drop
    ip saddr 203.0.113.0/24 ip daddr 198.51.100.0/24 counter drop
  }
  chain input { type filter hook input priority filter; policy accept;
    ip saddr { 198.51.100.0/24, 203.0.113.0/24 } ip daddr ${SERVER_IP} udp dport 49160-49999 counter drop
  }
}
`,
      });
    }
    lab.gateway = nat ? '10.1.0.1' : '198.51.100.1';
  } catch (err) {
    lab.destroySync();
    throw err;
  }
  lab.degradePatient = ({ lossPct = 15, rateKbit = 0 } = {}) => {
    const side = '198.51.100.0/24';
    const n = Math.max(0, Math.min(100, Math.round(lossPct)));
    run(NFT, ['-f', '-'], {
      input: `table inet ${degradeTable} {
  chain forward { type filter hook forward priority filter - 10; policy accept;
    ip saddr ${side} numgen random mod 100 < ${n} counter drop
    ip daddr ${side} numgen random mod 100 < ${n} counter drop
  }
}
`,
    });
    if (rateKbit > 0) run('/usr/sbin/tc', ['qdisc', 'replace', 'dev', pubP, 'root', 'tbf', 'rate', `${rateKbit}kbit`, 'burst', '8kb', 'latency', '500ms']);
  };
  lab.restorePatient = () => {
    run(NFT, ['delete', 'table', 'inet', degradeTable], { quiet: true });
    run('/usr/sbin/tc', ['qdisc', 'del', 'dev', pubP, 'root'], { quiet: true });
  };
  /** Packets the degraded link dropped on purpose (nft counters). */
  lab.degradedPackets = () => {
    const out = run(NFT, ['list', 'table', 'inet', degradeTable], { quiet: true }) || '';
    return [...out.matchAll(/packets (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  };
  lab.linkDown = () => inNs(names.patient, IP, ['link', 'set', 'eth0', 'down']);
  lab.linkUp = () => {
    inNs(names.patient, IP, ['link', 'set', 'eth0', 'up']);
    run(IP, ['-n', names.patient, 'route', 'replace', 'default', 'via', lab.gateway]);
  };
  /** Drops every packet from the lab's ranges to TURN/STUN over the given transports. */
  lab.blockTurn = (transports = ['udp', 'tcp', 'tls']) => {
    const rule = {
      udp: `udp dport ${TURN_PORT}`, tcp: `tcp dport ${TURN_PORT}`, tls: `tcp dport ${TURN_TLS_PORT}`,
    };
    const rules = transports.map((t) => {
      if (!rule[t]) throw new Error(`blockTurn: unknown transport ${t}`);
      return `    ip saddr { 198.51.100.0/24, 203.0.113.0/24 } ip daddr ${SERVER_IP} ${rule[t]} counter drop`;
    });
    run(NFT, ['-f', '-'], {
      input: `table inet ${turnTable} {
  chain input { type filter hook input priority filter; policy accept;
${rules.join('\n')}
  }
}
`,
    });
  };
  /** Drops every UDP packet from the lab's outside ranges: to the public side and through it. */
  lab.blockUdp = () => {
    run(NFT, ['-f', '-'], {
      input: `table inet ${udpTable} {
  chain input { type filter hook input priority filter; policy accept;
    ip saddr { 198.51.100.0/24, 203.0.113.0/24 } meta l4proto udp counter drop
  }
  chain forward { type filter hook forward priority filter; policy accept;
    ip saddr { 198.51.100.0/24, 203.0.113.0/24 } meta l4proto udp counter drop
  }
}
`,
    });
  };
  /** Packets dropped by blockUdp()'s rules. */
  lab.udpBlockedPackets = () => {
    const out = run(NFT, ['list', 'table', 'inet', udpTable], { quiet: true }) || '';
    return [...out.matchAll(/packets (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  };
  /** Packets dropped by blockTurn()'s rules. */
  lab.turnBlockedPackets = () => {
    const out = run(NFT, ['list', 'table', 'inet', turnTable], { quiet: true }) || '';
    return [...out.matchAll(/packets (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  };
  /** Counters of the public router's block rules (packets dropped). */
  lab.blockedPackets = () => {
    if (!block) return 0;
    const out = run(NFT, ['list', 'table', 'inet', table], { quiet: true }) || '';
    return [...out.matchAll(/packets (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
  };
  return lab;
}

// ---------------------------------------------------------------------------
// coturn

/** Lines of peer usage ("rb=" received, "sb=" sent bytes per peer) in a coturn log. */
export function peerUsage(text) {
  return [...String(text).matchAll(/peer usage:[^\n]*?rp=(\d+), rb=(\d+), sp=(\d+), sb=(\d+)/g)]
    .map((m) => ({ rp: +m[1], rb: +m[2], sp: +m[3], sb: +m[4] }));
}

/**
 * coturn on SERVER_IP:3478 via scripts/lib/coturn.mjs (conf/turnserver-local
 * .conf based). The lab's ranges are special-purpose test ranges: a deny
 * list refuses them, so they are allowed here explicitly (allowed-peer-ip
 * beats denied-peer-ip); the private 10/8 inside the NATs stays denied.
 */
export async function startCoturn({ secret, extraLines = [], tls = null } = {}) {
  const { startCoturn: start } = await import(harness('coturn.mjs'));
  const c = await start({
    listenIp: SERVER_IP, port: TURN_PORT, secret, realm: 'lab.consult.test',
    minPort: 49160, maxPort: 49999, ...(tls ? { tls: { ...tls, port: TURN_TLS_PORT } } : {}),
    extraLines: [
      'verbose',
      'allowed-peer-ip=198.51.100.0-198.51.100.255',
      'allowed-peer-ip=203.0.113.0-203.0.113.255',
      ...extraLines,
    ],
  });
  return {
    ...c,
    uri: c.uri('udp'),
    tlsUri: tls ? c.uri('tls') : null,
    secret,
    peerUsage: () => peerUsage(c.log()),
    waitPeerUsage: (what, pred, ms = 60_000) => waitFor(`coturn's log: a peer usage line with ${what}`, () => {
      const usage = peerUsage(c.log());
      return usage.some(pred) ? usage : null;
    }, ms, 250).catch((err) => { throw new Error(`${err.message}; peer usage so far: ${JSON.stringify(peerUsage(c.log()))}`); }),
    waitLog: (what, re, ms = 30_000) => waitFor(`coturn's log: ${what}`, () => re.test(c.log()), ms, 250),
  };
}

// ---------------------------------------------------------------------------
// Chromium inside a namespace

export async function launchIn(ns, name, { origin, extraArgs = [] } = {}) {
  const { chromium } = await import('playwright-core');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `consult-nat-${name}-`));
  for (const sub of ['profile', 'home', 'tmp', 'config', 'cache']) fs.mkdirSync(path.join(dir, sub));
  const wrapper = path.join(dir, 'chromium-in-ns');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${IP} netns exec '${ns}' '${CHROMIUM}' "$@"\n`, { mode: 0o755 });
  const env = {
    ...process.env,
    HOME: path.join(dir, 'home'),
    TMPDIR: path.join(dir, 'tmp'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
  };
  const args = [...CHROMIUM_ARGS, ...extraArgs];
  if (origin) args.push(`--unsafely-treat-insecure-origin-as-secure=${origin}`);
  let context;
  try {
    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: wrapper,
      headless: true,
      args,
      env,
      locale: 'de-DE',      // the patient pages follow navigator.languages
      viewport: { width: 1000, height: 800 },
      reducedMotion: 'reduce',
      timeout: 60_000,
    });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`launch Chromium (${name}) in ${ns} failed: ${err.message}`);
  }
  let closed = false;
  return {
    kind: 'chromium',
    context,
    ns,
    async newPage() {
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      return page;
    },
    async close() {
      if (closed) return;
      closed = true;
      try { await Promise.race([context.close(), new Promise((r) => setTimeout(r, 10_000))]); } catch { /* gone */ }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------
// Firefox ESR inside a namespace (WebDriver BiDi bridged across namespaces)

// Runs inside the namespace: one connection, stdin/stdout <-> 127.0.0.1:PORT.
const BIDI_PIPE = "const s=require('net').connect(+process.argv[1],'127.0.0.1');"
  + "process.stdin.pipe(s);s.pipe(process.stdout);"
  + "s.on('error',()=>process.exit(1));s.on('close',()=>process.exit(0));process.stdin.on('end',()=>s.end());";

export async function launchFirefoxIn(ns, name, { origin, prefs = {} } = {}) {
  const net = await import('node:net');
  const { spawn } = await import('node:child_process');
  const { createProfile, Browser } = await import('@puppeteer/browsers');
  const puppeteer = (await import('puppeteer-core')).default;
  const { FIREFOX, FIREFOX_PREFS } = await import('../browser/lib.mjs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `consult-nat-ff-${name}-`));
  for (const sub of ['profile', 'home', 'tmp', 'config', 'cache']) fs.mkdirSync(path.join(dir, sub));
  const host = origin ? new URL(origin).hostname : null;
  await createProfile(Browser.FIREFOX, {
    path: path.join(dir, 'profile'),
    preferences: {
      ...FIREFOX_PREFS,
      // Plain http on the lab address: a secure context for getUserMedia.
      ...(host ? { 'dom.securecontext.allowlist': host } : {}),
      'media.devices.insecure.enabled': true,
      'media.getusermedia.insecure.enabled': true,
      'fission.webContentIsolationStrategy': 0,
      ...prefs,
    },
  });
  const env = {
    ...process.env,
    HOME: path.join(dir, 'home'),
    TMPDIR: path.join(dir, 'tmp'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    MOZ_CRASHREPORTER_DISABLE: '1',
  };
  const children = new Set();
  const ff = spawn(IP, ['netns', 'exec', ns, FIREFOX, '--headless', '--no-remote',
    '--profile', path.join(dir, 'profile'), '--remote-debugging-port=0', 'about:blank'],
  { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(ff);
  let server = null;
  let browser = null;
  let closed = false;
  const killAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
  };
  process.once('exit', killAll);
  const close = async () => {
    if (closed) return;
    closed = true;
    if (browser) { try { await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 10_000))]); } catch { /* gone */ } }
    if (server) server.close();
    const exited = ff.exitCode !== null || ff.signalCode !== null ? Promise.resolve()
      : new Promise((r) => { ff.once('exit', r); setTimeout(r, 5_000); });
    if (ff.exitCode === null && ff.signalCode === null) { try { ff.kill('SIGTERM'); } catch { /* gone */ } }
    await exited;
    killAll();
    process.removeListener('exit', killAll);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const bidiPort = await new Promise((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`no BiDi endpoint after 60 s: ${buf.slice(-500)}`)), 60_000);
      ff.stderr.on('data', (d) => {
        buf += d.toString();
        const m = /WebDriver BiDi listening on ws:\/\/[^:\s]+:(\d+)/.exec(buf);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      ff.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`Firefox exited ${code ?? sig}: ${buf.slice(-500)}`)); });
    });
    ff.stderr.resume();
    server = net.createServer((sock) => {
      const pipe = spawn(IP, ['netns', 'exec', ns, process.execPath, '-e', BIDI_PIPE, String(bidiPort)],
        { stdio: ['pipe', 'pipe', 'ignore'] });
      children.add(pipe);
      pipe.once('exit', () => { children.delete(pipe); sock.destroy(); });
      sock.pipe(pipe.stdin);
      pipe.stdout.pipe(sock);
      sock.on('error', () => {});
      pipe.stdin.on('error', () => {});
      sock.on('close', () => { try { pipe.kill('SIGTERM'); } catch { /* gone */ } });
    });
    // The same port number as inside: Firefox checks the Host header.
    await new Promise((resolve, reject) => { server.once('error', reject); server.listen(bidiPort, '127.0.0.1', resolve); });
    browser = await puppeteer.connect({
      browserWSEndpoint: `ws://127.0.0.1:${server.address().port}/session`,
      protocol: 'webDriverBiDi',
      defaultViewport: { width: 1000, height: 800 },
      protocolTimeout: 30_000,
    });
  } catch (err) {
    await close();
    throw new Error(`launch Firefox (${name}) in ${ns} failed: ${err.message}`);
  }
  return {
    kind: 'firefox',
    browser,
    ns,
    async newPage() {
      const page = await browser.newPage();
      page.setDefaultTimeout(30_000);
      return page;
    },
    close,
  };
}

// ---------------------------------------------------------------------------
// Janus + nginx + coturn on the public side

/**
 * A self-signed certificate for coturn's TLS listener in dir: P-256,
 * CN and subjectAltName IP:SERVER_IP (the turns: URL names the address),
 * one day. -> {cert, pkey, spki} (spki: base64 SHA-256 of the public key,
 * for Chromium's --ignore-certificate-errors-spki-list).
 */
export function turnCertificate(dir) {
  const cert = path.join(dir, 'turn-cert.pem');
  const pkey = path.join(dir, 'turn-key.pem');
  run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', pkey, '-out', cert, '-days', '1', '-subj', `/CN=${SERVER_IP}`, '-addext', `subjectAltName=IP:${SERVER_IP}`]);
  const pub = run('openssl', ['x509', '-in', cert, '-pubkey', '-noout']);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  const spki = crypto.createHash('sha256').update(der).digest('base64');
  return { cert, pkey, spki };
}

export async function startLabStack(lab, {
  coturnSecret = 'lab-secret-' + Math.random().toString(36).slice(2, 14),
  turnSecret = coturnSecret, relayOnly = false, callLostSeconds,
  turn = 'on', pluginConfig = {}, janusEnv, janusOptions = {}, forward, turnTransports = ['udp'],
  turnTls = false, blockTurnTransports = null,
} = {}) {
  if (!['on', 'absent', 'blocked'].includes(turn)) throw new Error(`startLabStack: turn must be on, absent or blocked, not ${turn}`);
  const { startJanus, freePort } = await import(harness('janus.mjs'));
  const { startNginx } = await import(harness('nginx.mjs'));
  const { seedPractice, adminOk } = await import(harness('seed.mjs'));
  let coturn = null;
  let janus = null;
  let nginx = null;
  let tlsDir = null;
  const stop = async () => {
    const out = {};
    if (tlsDir) { fs.rmSync(tlsDir, { recursive: true, force: true }); tlsDir = null; }
    if (nginx) { try { out.nginx = await nginx.stop(); } catch (e) { out.nginx = String(e); } }
    if (janus) {
      try { out.janus = await janus.stop(); } catch (e) { out.janus = String(e); }
      try { out.janusLog = janus.log(); } catch { out.janusLog = ''; }
    }
    if (coturn) {
      try { out.coturn = await coturn.stop(); } catch (e) { out.coturn = String(e); }
      out.coturnLog = coturn.log();
    }
    nginx = null; janus = null;
    return out;
  };
  try {
    let tls = null;
    if (turnTls && turn !== 'absent') {
      tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-turntls-'));
      tls = turnCertificate(tlsDir);
    }
    if (turn !== 'absent') coturn = await startCoturn({ secret: coturnSecret, tls });
    if (turn === 'blocked') lab.blockTurn();
    if (blockTurnTransports) lab.blockTurn(blockTurnTransports);
    if (turnTransports.includes('tls') && !(coturn && coturn.tlsUri)) throw new Error('startLabStack: turnTransports tls needs turnTls');
    const port = await freePort();
    const origin = `http://${SERVER_IP}:${port}`;
    janus = await startJanus({
      ...janusOptions,
      publicUrl: origin,
      ...(janusEnv ? { env: { ...(janusOptions.env || {}), ...janusEnv } } : {}),
      extraPluginConfig: {
        ...(coturn ? {
          stun_uris: coturn.stunUri,
          turn_uris: turnTransports.map((t) => (t === 'tls' ? coturn.tlsUri : coturn.uri.replace(/\?transport=\w+$/, `?transport=${t}`))).join(','),
          turn_secret: turnSecret,
          turn_ttl: 600,
        } : {}),
        ...(callLostSeconds ? { call_lost_seconds: callLostSeconds } : {}),
        ...pluginConfig,
      },
    });
    nginx = await startNginx({ root: path.join(REPO, 'html'), janusWsUrl: janus.wsUrl, port, listenHost: SERVER_IP });
    const practice = await seedPractice(janus, {
      slug: 'praxis-nat',
      name: 'Praxis am Übergang',
      phone: '0721-5550199',
      doctors: [{ username: 'dr.nat', display_name: 'Dr. Nat', password: PASSWORDS.doctor }],
      receptions: [{ username: 'empfang', display_name: 'Empfang', password: PASSWORDS.reception }],
    });
    if (relayOnly) await adminOk(janus, { request: 'set_practice', practice: practice.slug, relay_only: true });
    if (forward) await adminOk(janus, { request: 'set_practice', practice: practice.slug, forward });
    return {
      coturn, janus, nginx, origin, practice, doctor: practice.doctors[0], stop, turnTlsSpki: tls ? tls.spki : null,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------
// The real pages: reception books, patient joins, doctor calls, patient accepts.


/**
 * Records, in the page, every remote description and every remote ICE
 * candidate the page applies (window.__natlab.remote = [{kind, text}]).
 */
/** OBSERVE_REMOTE in every document of page: Playwright (Chromium) addInitScript, Puppeteer (Firefox) evaluateOnNewDocument. */
function observeRemote(page) {
  return typeof page.addInitScript === 'function' ? page.addInitScript(OBSERVE_REMOTE) : page.evaluateOnNewDocument(OBSERVE_REMOTE);
}

export const OBSERVE_REMOTE = () => {
  const rec = { remote: [], local: [], errors: [] };
  window.__natlab = rec;
  const P = RTCPeerConnection.prototype;
  const srd = P.setRemoteDescription;
  P.setRemoteDescription = function (desc, ...rest) {
    try { rec.remote.push({ kind: 'sdp', type: desc && desc.type, text: (desc && desc.sdp) || '' }); } catch { /* */ }
    return srd.call(this, desc, ...rest);
  };
  const aic = P.addIceCandidate;
  P.addIceCandidate = function (c, ...rest) {
    try { rec.remote.push({ kind: 'candidate', text: c ? (typeof c === 'string' ? c : c.candidate || '') : '' }); } catch { /* */ }
    return aic.call(this, c, ...rest);
  };
  const Orig = window.RTCPeerConnection;
  // Track icecandidateerror events too (evidence for the 401 test).
  window.RTCPeerConnection = function (...a) {
    const pc = new Orig(...a);
    rec.config = a[0] ? JSON.parse(JSON.stringify({ ...a[0], iceServers: (a[0].iceServers || []).map((s) => ({ urls: s.urls })) })) : null;
    pc.addEventListener('icecandidateerror', (e) => rec.errors.push({ code: e.errorCode, url: e.url, text: e.errorText }));
    pc.addEventListener('icecandidate', (e) => { if (e.candidate) rec.local.push(e.candidate.candidate); });
    return pc;
  };
  window.RTCPeerConnection.prototype = Orig.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Orig);
};

/**
 * Drive the pages up to the accepted call. staff/patient are launchIn()
 * browsers. Returns {rec, doc, pat, patPage, docPage, visitId, acceptAt,
 * events: {patient, doctor} (consult events received, captureEvents),
 * sent: {patient, doctor} (plugin request bodies sent)}. With
 * {appointmentViaWs: true} the appointment is booked over the WebSocket
 * (benchmark: faster, the reception page is not what is measured);
 * {ringMs: N} lets it ring N ms before the accept (benchmark: a person's
 * time to answer), else the accept follows the ringing at once.
 */
export async function realCall({
  stack, staff, patient, consoleLines = [], shot = async () => {}, appointmentViaWs = false, accept = true, mark = () => {}, ringMs = 0,
}) {
  const { origin, practice, doctor } = stack;
  let link;
  let rec = null;
  if (appointmentViaWs) {
    const { connectHandle } = await import(harness('client.mjs'));
    const ws = await connectHandle(stack.janus.wsUrl);
    try {
      await ws.handle.call({ request: 'login', username: 'empfang', password: PASSWORDS.reception });
      const appt = await ws.handle.call({ request: 'create_appointment', doctor_id: doctor.id, starts_at: Math.floor(Date.now() / 1000) + 60 });
      link = appt.link;
    } finally {
      await ws.client.destroy();
    }
  } else {
    const recPage = await staff.newPage();
    watchConsole(recPage, 'reception', consoleLines);
    rec = drive(recPage, 'reception');
    await rec.goto(`${origin}/reception.html`);
    await rec.fill('#username', 'empfang');
    await rec.fill('#password', PASSWORDS.reception);
    await rec.click('#login');
    await rec.waitVisible('#create');
    await selectValue(rec, '#doctor', String(doctor.id));
    const when = await rec.evaluate(() => {
      const d = new Date(Date.now() + 5 * 60_000);
      const p = (n) => String(n).padStart(2, '0');
      return { date: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`, time: `${p(d.getHours())}:${p(d.getMinutes())}` };
    });
    await rec.fill('#date', when.date);
    await rec.fill('#time', when.time);
    await rec.click('#create');
    link = await waitFor('reception: #result-link holds the patient link',
      async () => { const v = await rec.value('#result-link'); return v && /\/patient\.html\?p=[^#]+#./.test(v) ? v : null; }, 30_000);
  }
  mark('appointment booked');
  if (!link.startsWith(`${origin}/patient.html?p=${practice.slug}#`)) throw new Error(`unexpected patient link origin (${new URL(link).origin})`);

  const events = { patient: [], doctor: [] };
  const sent = { patient: [], doctor: [] };
  const patPage = await patient.newPage();
  captureEvents(patPage, events.patient, sent.patient);
  await observeRemote(patPage);
  watchConsole(patPage, 'patient', consoleLines);
  const pat = drive(patPage, 'patient');
  await pat.goto(link);
  await pat.fill('#first-name', 'Erika');
  await pat.fill('#last-name', 'Natprüf');
  await pat.check('#accept-terms');
  await pat.click('#start');
  await pat.waitVisible('#waiting');
  mark('patient waiting');

  const docPage = await staff.newPage();
  captureEvents(docPage, events.doctor, sent.doctor);
  await observeRemote(docPage);
  watchConsole(docPage, 'doctor', consoleLines);
  const doc = drive(docPage, 'doctor');
  await doc.goto(`${origin}/doctor.html`);
  await doc.fill('#username', 'dr.nat');
  await doc.fill('#password', PASSWORDS.doctor);
  await doc.click('#login');
  const visitId = await waitFor('doctor: one waiting patient', () => doc.evaluate(() => {
    const rows = [...document.querySelectorAll('#waiting-list [data-visit-id]')];
    return rows.length === 1 ? rows[0].getAttribute('data-visit-id') : null;
  }), 30_000);
  mark('doctor sees the patient');
  await doc.click(`#waiting-list [data-visit-id="${visitId}"] button.call`);
  await pat.waitVisible('#ringing', 30_000);
  await shot(patPage, 'ringing');
  let acceptAt = null;
  if (accept) {
    // benchmark only: a person's time to answer (the pages prepare the call
    // while it rings); tests accept at once
    if (ringMs > 0) await new Promise((r) => setTimeout(r, ringMs));
    await pat.evaluate(() => {
      document.querySelector('#accept-call').addEventListener('click', () => { window.__natlabAcceptAt = Date.now(); }, { capture: true });
    });
    await pat.click('#accept-call');
    acceptAt = await pat.evaluate(() => window.__natlabAcceptAt || null);
  }
  return { rec, doc, pat, patPage, docPage, visitId, acceptAt, events, sent };
}

/**
 * Every consult event a page receives over its Janus WebSocket, in order
 * (the `signal` events carry the other side's SDP and candidates); with
 * sentSink also the body of every plugin request the page sends.
 * Playwright pages only (a Puppeteer page records nothing).
 */
export function captureEvents(page, sink, sentSink = null) {
  const parse = (f) => {
    try { return JSON.parse(typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8')); } catch { return null; }
  };
  page.on('websocket', (ws) => {
    ws.on('framereceived', (f) => {
      const msg = parse(f);
      const d = msg && msg.plugindata && msg.plugindata.data;
      if (d && d.event) sink.push(d);
    });
    if (sentSink) {
      ws.on('framesent', (f) => {
        const msg = parse(f);
        if (msg && msg.janus === 'message' && msg.body && msg.body.request) sentSink.push(msg.body);
      });
    }
  });
  return sink;
}

/** Candidate lines in a set of received `signal` events: [{type, addr}]. */
export function signalCandidates(events) {
  const out = [];
  const add = (line) => {
    const m = /candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ (\S+)/.exec(line || '');
    if (m) out.push({ addr: m[1], type: m[2] });
  };
  for (const e of events) {
    if (e.event !== 'signal') continue;
    if (e.sdp) String(e.sdp).split(/\r?\n/).forEach(add);
    if (e.candidate) add(typeof e.candidate === 'string' ? e.candidate : e.candidate.candidate);
  }
  return out;
}

/** Wall-clock time (Date.now() in the page) of the first decoded video frame. */
export function firstFrameAt(page, ms = 30_000) {
  return page.evaluate(async (limit) => {
    const t0 = Date.now();
    for (;;) {
      const pc = window.consult && window.consult.pc;
      if (pc && typeof pc.getStats === 'function') {
        const stats = await pc.getStats();
        let f = 0;
        stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') f += s.framesDecoded || 0; });
        if (f > 0) return Date.now();
      }
      if (Date.now() - t0 > limit) return null;
      await new Promise((r) => setTimeout(r, 10));
    }
  }, ms);
}

/** The remote SDPs/candidates a page applied, and the candidate types in them. */
export async function remoteSeen(page) {
  const rec = await page.evaluate(() => window.__natlab || null);
  if (!rec) return null;
  const types = new Set();
  const addrs = new Set();
  const collect = (line) => {
    const m = /candidate:\S+ \d+ \S+ \d+ (\S+) (\d+) typ (\S+)/.exec(line);
    if (m) { types.add(m[3]); addrs.add(m[1]); }
  };
  for (const r of rec.remote) {
    if (r.kind === 'sdp') r.text.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')).forEach(collect);
    else collect(r.text);
  }
  return { ...rec, types: [...types], addrs: [...addrs] };
}

export const fingerprints = (sdp) => [...String(sdp || '').matchAll(/^a=fingerprint:(.+)$/gm)].map((m) => m[1].trim());

export { step };

// ---------------------------------------------------------------------------
// One scenario = lab + stack + two browsers + the real call, with cleanup and
// evidence (tests/artifacts/nat-<name>/: console, janus/coturn logs, shots).

const openItems = new Set();
/** after() hook of every test file: close whatever a scenario left open. */
export async function cleanupAll() {
  const items = [...openItems].reverse();
  openItems.clear();
  for (const it of items) {
    try { await it(); } catch (err) { console.error(`# cleanup failed: ${err.message}`); }
  }
}

/**
 * scenario({name, nat, block, relayOnly, turnSecret, accept, appointmentViaWs})
 * -> {lab, stack, staff, patient, call, art, consoleLines, shot, finish(failed)}
 * The call is accepted unless accept=false. finish() closes everything and
 * writes the evidence; it is also registered for cleanupAll().
 */
export async function scenario({
  name, nat = true, block = false, relayOnly = false, turnSecret, coturnSecret, accept = true,
  appointmentViaWs = false, callLostSeconds, artifactsDir = true,
  turn = 'on', pluginConfig, janusEnv, janusOptions, forward, patientBrowser = 'chromium', patientArgs = [], staffBrowser = 'chromium',
  staffArgs = [], udpBlocked = false, turnTransports, turnTls = false, blockTurnTransports,
}) {
  const { artifacts } = await import('../browser/lib.mjs');
  const art = artifactsDir ? artifacts(`nat-${name}`) : { dir: null, shot: async () => {} };
  const consoleLines = [];
  const t0 = Date.now();
  const timings = [];
  const mark = (label) => {
    const line = `${String(Date.now() - t0).padStart(6)} ms  ${label}`;
    timings.push(line);
    if (process.env.CONSULT_NAT_VERBOSE) console.error(`# [${name}] ${line}`);
  };
  const sc = { art, consoleLines, shot: art.shot, mark };
  let finished = null;
  sc.finish = (failed = false) => {
    if (finished) return finished;
    finished = (async () => {
      openItems.delete(sc.finish);
      if (failed && sc.call) {
        for (const [who, p] of [['patient', sc.call.patPage], ['doctor', sc.call.docPage]]) {
          if (p) await art.shot(p, `failure-${who}`);
        }
      }
      for (const b of [sc.patient, sc.staff]) if (b) await b.close();
      if (sc.stack) {
        sc.logs = await sc.stack.stop();
        if (art.dir) {
          fs.writeFileSync(path.join(art.dir, 'janus.log'), sc.logs.janusLog || '');
          fs.writeFileSync(path.join(art.dir, 'coturn.log'), sc.logs.coturnLog || '');
        }
      }
      if (sc.lab) sc.lab.destroySync();
      mark('finished');
      if (art.dir) fs.writeFileSync(path.join(art.dir, 'console.log'), consoleLines.join('\n') + '\n');
      if (art.dir) fs.writeFileSync(path.join(art.dir, 'timings.txt'), timings.join('\n') + '\n');
      if (failed && consoleLines.length) console.error('# page console:\n# ' + consoleLines.slice(-30).join('\n# '));
      return sc.logs;
    })();
    return finished;
  };
  openItems.add(sc.finish);
  try {
    sc.lab = createLab({ nat, block });
    if (udpBlocked) sc.lab.blockUdp();
    mark('lab created');
    sc.stack = await step('start coturn + Janus + nginx', startLabStack(sc.lab, {
      turnSecret, coturnSecret, relayOnly, callLostSeconds, turn, pluginConfig, janusEnv, janusOptions, forward, turnTransports,
      turnTls, blockTurnTransports,
    }), 120_000);
    mark('stack started');
    // both browsers trust the TURN server's test certificate (its key only)
    const trust = sc.stack.turnTlsSpki ? [`--ignore-certificate-errors-spki-list=${sc.stack.turnTlsSpki}`] : [];
    staffArgs = [...staffArgs, ...trust];
    patientArgs = [...patientArgs, ...trust];
    // extraArgs are Chromium's: Firefox gets none
    const launch = async (kind, ns, name, extraArgs) => {
      const firefox = kind === 'firefox';
      const b = firefox
        ? await step(`launch Firefox ESR (${name}, ${ns})`, launchFirefoxIn(ns, name, { origin: sc.stack.origin }), 150_000)
        : await step(`launch Chromium (${name}, ${ns})`, launchIn(ns, name, { origin: sc.stack.origin, extraArgs }), 120_000);
      mark(`${name} ${firefox ? 'Firefox' : 'Chromium'} launched`);
      return b;
    };
    sc.staff = await launch(staffBrowser, sc.lab.ns.doctor, 'staff', staffArgs);
    sc.patient = await launch(patientBrowser, sc.lab.ns.patient, 'patient', patientArgs);
    sc.call = await realCall({
      stack: sc.stack, staff: sc.staff, patient: sc.patient, consoleLines, shot: art.shot, accept, appointmentViaWs, mark,
    });
    mark(accept ? 'accepted' : 'ringing');
  } catch (err) {
    await sc.finish(true);
    throw err;
  }
  return sc;
}

/** Wait until both pages are connected, decode video and show data-path=path (if given). */
export async function waitCallUp(sc, { path: want, ms = 60_000, directOnly = false } = {}) {
  const { rtcSnapshot } = await import('../browser/lib.mjs');
  const out = {};
  for (const [who, page] of [['patient', sc.call.patPage], ['doctor', sc.call.docPage]]) {
    let last = null;
    try {
      out[who] = await waitFor(`${who}: connected, frames decoded${want ? `, #path ${want}` : ''}`, async () => {
        const s = await rtcSnapshot(page);
        const dataPath = await page.evaluate(() => document.querySelector('#path')?.getAttribute('data-path') ?? null);
        last = { ...s, dataPath };
        if (s.connectionState !== 'connected' || !(s.framesDecoded > 0) || !s.pair) return null;
        if (directOnly && (s.pair.local.type === 'relay' || s.pair.remote.type === 'relay')) return null;
        if (want && dataPath !== want) return null;
        return last;
      }, ms, 250);
    } catch (err) {
      throw new Error(`${err.message}; last: ${JSON.stringify(last)}`);
    }
  }
  return out;
}
