// coturn.mjs - start a private coturn (Debian's turnserver) for the demo and
// the tests.
//
// Contract: startCoturn({listenIp='127.0.0.1', port, secret, realm, relayIp,
// minPort, maxPort, extraLines=[], netns, dir, tls}) writes a temp folder with a
// configuration derived from conf/turnserver-local.conf (loopback only,
// use-auth-secret; listening-ip, relay-ip, listening-port, realm and the
// relay port range replaced by the options, `extraLines` appended, userdb,
// pid and log file inside the folder, the shared secret as
// static-auth-secret in the file (mode 0600, not on the command line)),
// runs /usr/bin/turnserver -c on it (inside `ip netns exec NETNS` if netns
// is given) and resolves once it listens: its TCP port on listenIp accepts
// a connection (root namespace) or, with netns, its verbose log says the
// UDP listener on listenIp:port is open. tls {cert, pkey, port}: TURN over
// TLS as well, on listenIp:tls.port (PEM files; the base file's no-tls
// removed); the handle's uri('tls') is then turns:listenIp:tls.port
// ?transport=tcp. Rejects with the log tail if it exits or does not
// come up within 30 s (a busy machine). Returns {port, listenIp, realm, dir, logPath, pid,
// uri(transport), stunUri, log(), stop() -> Promise<{code, signal}>}.
// stop() sends SIGTERM (SIGKILL after 4 s) and removes the folder unless
// CONSULT_KEEP_TMP=1. restart({signal, between}) -> Promise<{code, signal}>:
// a full stop and start on the same configuration and port (the log is
// appended to; readiness is read from the new part). coturn is SIGKILLed if node exits first and gets
// SIGTERM if node dies by a signal (setpriv --pdeathsig).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO, canConnect, freePort, sleep, withParentDeath } from './janus.mjs';

export const TURNSERVER_BIN = '/usr/bin/turnserver';
export const LOCAL_CONF = path.join(REPO, 'conf/turnserver-local.conf');

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/** The lines of conf text with `key` (key=value or bare key) set to value (null: removed). */
export function setConfLine(lines, key, value) {
  const re = new RegExp(`^\\s*${key.replace(/[-]/g, '\\-')}\\s*(=|$)`);
  const out = lines.filter((l) => !re.test(l));
  if (value !== null && value !== undefined) out.push(value === true ? key : `${key}=${value}`);
  return out;
}

/** TURN REST API credentials as coturn checks them (for tests). */
export function turnCredentials(secret, id, ttl = 3600, now = Math.floor(Date.now() / 1000)) {
  const username = `${now + ttl}:${id}`;
  const password = crypto.createHmac('sha1', secret).update(username).digest('base64');
  return { username, password };
}

export async function startCoturn(opts = {}) {
  if (!fs.existsSync(TURNSERVER_BIN)) throw new Error(`${TURNSERVER_BIN} not found (apt-get install coturn)`);
  const listenIp = opts.listenIp || '127.0.0.1';
  const relayIp = opts.relayIp || listenIp;
  const port = opts.port || await freePort();
  const realm = opts.realm || 'consult.local';
  const secret = opts.secret;
  if (!secret || !/^[\x21-\x7e]{16,256}$/.test(secret) || /[#"'\\]/.test(secret)) {
    throw new Error('startCoturn: secret must be 16..256 printable ASCII characters without # quotes or backslash');
  }
  const dir = fs.mkdtempSync(path.join(opts.dir || os.tmpdir(), 'consult-coturn-'));
  const logPath = path.join(dir, 'turnserver.log');
  let lines = fs.readFileSync(LOCAL_CONF, 'utf8').split('\n');
  lines = setConfLine(lines, 'listening-ip', listenIp);
  lines = setConfLine(lines, 'relay-ip', relayIp);
  lines = setConfLine(lines, 'listening-port', port);
  lines = setConfLine(lines, 'realm', realm);
  if (opts.minPort) lines = setConfLine(lines, 'min-port', opts.minPort);
  if (opts.maxPort) lines = setConfLine(lines, 'max-port', opts.maxPort);
  if (relayIp !== '127.0.0.1') {
    // coturn's own relay address must be a permitted peer for relay-to-relay.
    lines.push(`allowed-peer-ip=${relayIp}`);
  }
  lines = setConfLine(lines, 'static-auth-secret', secret);
  lines = setConfLine(lines, 'userdb', path.join(dir, 'turndb'));
  lines = setConfLine(lines, 'pidfile', path.join(dir, 'turnserver.pid'));
  lines = setConfLine(lines, 'log-file', logPath);
  // In a namespace the port cannot be probed from here: readiness comes
  // from the listener lines, which coturn prints in verbose mode only.
  if (opts.netns) lines = setConfLine(lines, 'verbose', true);
  if (opts.tls) {
    lines = setConfLine(lines, 'no-tls', null);
    lines = setConfLine(lines, 'cert', opts.tls.cert);
    lines = setConfLine(lines, 'pkey', opts.tls.pkey);
    lines = setConfLine(lines, 'tls-listening-port', opts.tls.port);
  }
  lines.push(...(opts.extraLines || []));
  const confPath = path.join(dir, 'turnserver.conf');
  fs.writeFileSync(confPath, lines.join('\n') + '\n', { mode: 0o600 });

  const argv = [TURNSERVER_BIN, '-c', confPath];
  const [cmd, args] = withParentDeath(opts.netns ? ['/usr/sbin/ip', 'netns', 'exec', opts.netns, ...argv] : argv);
  // The running turnserver; restart() replaces it (same folder, config, port).
  let child = null;
  let stderr = '';
  let exited = null;
  let exitP = null;
  let logStart = 0; // where the current process' part of the log begins
  const spawnTurn = () => {
    try { logStart = fs.statSync(logPath).size; } catch { logStart = 0; }
    const c = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    exited = null;
    stderr = '';
    live.add(c);
    c.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    exitP = new Promise((resolve) => c.once('exit', (code, signal) => {
      live.delete(c);
      if (child === c) exited = { code, signal };
      resolve({ code, signal });
    }));
  };
  let cachedLog = null;
  const readLog = () => {
    if (cachedLog !== null) return cachedLog;
    try { return fs.readFileSync(logPath, 'utf8'); } catch { return ''; }
  };
  const readCurrentLog = () => {
    try {
      const buf = fs.readFileSync(logPath);
      return buf.subarray(Math.min(logStart, buf.length)).toString('utf8');
    } catch { return ''; }
  };
  const halt = async (signal) => {
    if (exited) return exited;
    const c = child;
    c.kill(signal);
    const t = setTimeout(() => { if (!exited && child === c) c.kill('SIGKILL'); }, 4000);
    const status = await exitP;
    clearTimeout(t);
    return status;
  };

  let stopping = null;
  const stop = () => {
    if (stopping) return stopping;
    stopping = (async () => {
      await halt('SIGTERM');
      cachedLog = readLog();
      if (process.env.CONSULT_KEEP_TMP !== '1') fs.rmSync(dir, { recursive: true, force: true });
      return exited;
    })();
    return stopping;
  };

  const ready = new RegExp(`UDP listener opened on *: *${listenIp.replace(/\./g, '\\.')}:${port}\\b`);
  const waitReady = async (first) => {
    const deadline = Date.now() + (opts.startTimeoutMs ?? 30000);
    const isReady = async () => ready.test(readCurrentLog()) ||
      (!opts.netns && /Total General servers/.test(readCurrentLog()) && await canConnect(port, listenIp));
    while (!await isReady()) {
      if (exited || Date.now() > deadline) {
        const why = exited ? `exited ${JSON.stringify(exited)}` : 'timeout';
        const tail = readCurrentLog().split('\n').slice(-30).join('\n');
        if (first) await stop();
        else await halt('SIGKILL');
        throw new Error(`coturn did not ${first ? 'start' : 'restart'}: ${why}\n${stderr.slice(-1000)}\n${tail}`);
      }
      await sleep(50);
    }
  };
  spawnTurn();
  await waitReady(true);
  const host = listenIp.includes(':') ? `[${listenIp}]` : listenIp;
  const handle = {
    port, listenIp, relayIp, realm, dir, logPath, pid: child.pid,
    uri: (transport = 'udp') => (transport === 'tls' && opts.tls
      ? `turns:${host}:${opts.tls.port}?transport=tcp`
      : `turn:${host}:${port}?transport=${transport}`),
    stunUri: `stun:${host}:${port}`,
    log: readLog,
    alive: () => !exited,
    stop,
    // A full restart: signal (default SIGTERM; SIGKILL after 4 s), wait for
    // the exit, optionally await between() while it is down, start again
    // on the same configuration and port; resolves once it listens.
    async restart({ signal = 'SIGTERM', between } = {}) {
      if (stopping) throw new Error('coturn: restart() after stop()');
      const status = await halt(signal);
      if (between) await between(status);
      spawnTurn();
      handle.pid = child.pid;
      await waitReady(false);
      return status;
    },
  };
  return handle;
}
