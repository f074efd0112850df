// janus.mjs - start a private Janus 1.1.2 that loads the consult plugin.
//
// Contract: startJanus(opts) creates a fresh temp folder with its own
// configuration (WebSocket API and HTTP admin API on 127.0.0.1 only, other
// transports and loggers disabled), a plugins folder holding only a symlink
// to the consult plugin, runs /usr/bin/janus there (stdout+stderr ->
// <dir>/janus.log) and resolves once the WebSocket port accepts connections
// and the plugin answered an admin request; it rejects with the log tail if
// Janus exits or the plugin is missing. Ports it picked itself (freePort(),
// never the same twice in one process) are picked anew, up to 3 attempts,
// if another process bound one first. The returned object:
//   {wsUrl, adminUrl, adminSecret, dir, dataDir, logPath, pid,
//    admin(request) -> plugin reply object (the `response` of Janus' reply),
//    adminRaw(body) -> {status, json} (no secret or plugin added),
//    alive() -> bool (process running and not a zombie),
//    stop(timeoutMs?) -> Promise<{code, signal}> (SIGTERM, SIGKILL after
//      timeoutMs, default opts.stopTimeoutMs or 20 s: a deadline for a
//      busy machine; tests assert a clean exit 0, which a SIGKILL would break),
//    log() -> string, sanitizerReports() -> [{file, text}] (non-empty only),
//    kill(signal = 'SIGKILL') -> Promise<{code, signal}> (signal the running
//      Janus and wait until it has exited; SIGTERM is followed by SIGKILL
//      after stopTimeoutMs; the folder stays),
//    restart() -> Promise<handle> (after kill() or an exit of its own: the
//      same configuration, database and ports, appending to janus.log; ready
//      as at the first start; handle.pid is the new process')}
// With CONSULT_PROTOCOL_PG=1 and CONSULT_TEST_STORE a postgresql:// URL
// (scripts/lib/with-postgres), a Janus whose options name no database gets
// a schema of its own there instead of an SQLite file (pgUrl in the
// returned object; null otherwise): the protocol suite on PostgreSQL.
// Every Janus started here is SIGKILLed if the node process exits first,
// and gets SIGTERM (setpriv --pdeathsig) if it is killed by a signal.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ownsPort } from './ports.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const JANUS_BIN = process.env.JANUS_BIN || '/usr/bin/janus';
export const ASAN_LIB = '/usr/lib/gcc/x86_64-linux-gnu/12/libasan.so';
export const PLUGIN_PACKAGE = 'janus.plugin.consult';
const SETPRIV = '/usr/bin/setpriv';

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

// Ports freePort() handed out in this process: the kernel may offer a port
// again once its probe socket is closed, and two servers of one test (Janus'
// WebSocket and admin ports, nginx, coturn) must never get the same one.
const handedOut = new Set();

function probePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago, never one this process got before. */
export async function freePort() {
  for (let i = 0; i < 100; i++) {
    const port = await probePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: no new free port after 100 tries');
}

/** Resolves true once host:port accepts a TCP connection. */
export function canConnect(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => { sock.destroy(); resolve(false); });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * [cmd, args] that run argv so the child gets SIGTERM when this process
 * dies, even by a signal (setpriv --pdeathsig; exec keeps the pid).
 */
export function withParentDeath(argv) {
  if (fs.existsSync(SETPRIV)) return [SETPRIV, ['--pdeathsig', 'TERM', ...argv]];
  return [argv[0], argv.slice(1)];
}

/** Serialise a plain object as a libconfig (.jcfg) document. */
export function jcfg(obj, indent = '') {
  const out = [];
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined || value === null) continue;
    out.push(`${indent}${key}${jcfgValue(value, indent)}`);
  }
  return out.join('\n') + (indent ? '' : '\n');
}

function jcfgValue(value, indent) {
  if (typeof value === 'boolean') return ` = ${value ? 'true' : 'false'}`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('jcfg: bad number');
    return ` = ${value}`;
  }
  if (typeof value === 'string') return ` = ${jcfgString(value)}`;
  if (Array.isArray(value)) return ` = [${value.map(jcfgString).join(', ')}]`;
  if (typeof value === 'object') {
    return `: {\n${jcfg(value, indent + '\t')}\n${indent}}`;
  }
  throw new Error(`jcfg: unsupported value type ${typeof value}`);
}

function jcfgString(s) {
  return '"' + String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

function tail(text, lines = 40) {
  return text.split('\n').slice(-lines).join('\n');
}

function isZombieOrGone(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/**
 * Start Janus with the consult plugin. See the contract at the top.
 * opts: plugin, graceSeconds, joinBeforeMinutes, joinAfterMinutes, publicUrl,
 * passwordCost, extraPluginConfig, asan, debugLevel, wsPort, adminPort,
 * dataDir (folder of the database; default the temp folder), codeSecret,
 * adminSecret, startTimeoutMs, keepDir,
 * eventLoops (integer 1..128: `event_loops = N` in janus.jcfg general, a
 *   fixed pool of N GLib loop threads shared by all handles instead of one
 *   thread per handle; default unset, or $CONSULT_EVENT_LOOPS),
 * wsJson ('indented' | 'plain' | 'compact': the WebSocket transport's JSON
 *   format; default 'indented'),
 * stopTimeoutMs (SIGKILL this long after SIGTERM in stop(); default 20000),
 * env (extra environment variables for Janus, e.g. {CONSULT_TEST: '1'}),
 * eventsBackend (URL: enable Janus' sample event handler posting all
 *   events there; default off),
 * extraPlugins (array of plugin .so paths symlinked into the plugins folder
 *   next to consult's, e.g. Janus' libjanus_videocall.so; default none),
 * rtpPortRange (Janus' media rtp_port_range for forwarded calls; default
 *   '20000-40000' as in conf/janus.jcfg.sample).
 */
const WS_JSON = ['indented', 'plain', 'compact'];

// CONSULT_PROTOCOL_PG=1 (see the contract): a fresh schema's URL, or null.
function pgSchemaUrl(opts) {
  const base = process.env.CONSULT_TEST_STORE || '';
  if (process.env.CONSULT_PROTOCOL_PG !== '1' || !/^postgres(ql)?:\/\//.test(base) || opts.extraPluginConfig?.database) return null;
  const psql = ['/usr/lib/postgresql/15/bin/psql', '/usr/bin/psql'].find((p) => fs.existsSync(p));
  const schema = `janus_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  execFileSync(psql, ['-X', '-q', '-d', base, '-c', `CREATE SCHEMA ${schema}`]);
  return `${base}${base.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`;
}

function eventLoopsOption(opts) {
  const raw = opts.eventLoops ?? (process.env.CONSULT_EVENT_LOOPS || undefined);
  if (raw === undefined || raw === null) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 128) throw new Error(`eventLoops must be an integer 1..128, not ${raw}`);
  return n;
}

// Janus' lines when its WebSocket or admin port was taken by another process
// between freePort() and Janus' bind (other test runs share the machine).
const PORT_TAKEN = /Error creating vhost for Websockets server|Couldn't start admin\/monitor webserver/;

export async function startJanus(opts = {}) {
  // Ports chosen here are retried with fresh ones if another process took
  // them first; ports given by the caller are not.
  const retries = opts.wsPort || opts.adminPort ? 1 : 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startJanusOnce(opts);
    } catch (err) {
      if (!err.portTaken || attempt >= retries) throw err;
      process.stderr.write(`janus: a port was taken by another process, retrying with new ports\n`);
    }
  }
}

async function startJanusOnce(opts) {
  const eventLoops = eventLoopsOption(opts);
  const wsJson = opts.wsJson ?? 'indented';
  if (!WS_JSON.includes(wsJson)) throw new Error(`wsJson must be one of ${WS_JSON.join(', ')}`);
  const stopTimeoutMs = opts.stopTimeoutMs ?? 20000;
  if (!Number.isFinite(stopTimeoutMs) || stopTimeoutMs < 0) throw new Error('stopTimeoutMs must be >= 0');
  const plugin = path.resolve(opts.plugin || process.env.CONSULT_PLUGIN ||
    path.join(REPO, 'build/.libs/libjanus_consult.so'));
  if (!fs.existsSync(plugin)) throw new Error(`consult plugin not found: ${plugin}`);
  const asan = opts.asan ?? process.env.CONSULT_ASAN === '1';
  const debugLevel = opts.debugLevel ?? 4;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-janus-'));
  const confDir = path.join(dir, 'conf');
  const pluginsDir = path.join(dir, 'plugins');
  const dataDir = opts.dataDir || dir;
  fs.mkdirSync(confDir);
  fs.mkdirSync(pluginsDir);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.symlinkSync(plugin, path.join(pluginsDir, 'libjanus_consult.so'));
  // Other plugins next to consult's (e.g. Janus' own videocall for a benchmark).
  for (const so of opts.extraPlugins || []) {
    if (!fs.existsSync(so)) throw new Error(`extra plugin not found: ${so}`);
    fs.symlinkSync(path.resolve(so), path.join(pluginsDir, path.basename(so)));
  }

  const wsPort = opts.wsPort || await freePort();
  const adminPort = opts.adminPort || await freePort();
  const adminSecret = opts.adminSecret || crypto.randomBytes(16).toString('hex');
  const codeSecret = opts.codeSecret || crypto.randomBytes(32).toString('hex');
  const wsUrl = `ws://127.0.0.1:${wsPort}`;
  const adminUrl = `http://127.0.0.1:${adminPort}/admin`;
  const publicUrl = opts.publicUrl || 'http://127.0.0.1:8080';

  fs.writeFileSync(path.join(confDir, 'janus.jcfg'), jcfg({
    general: {
      admin_secret: adminSecret,
      session_timeout: 60,
      debug_level: debugLevel,
      event_loops: eventLoops, // undefined: not written (one loop thread per handle)
    },
    // as conf/janus.jcfg.sample: forwarded calls' ports never meet
    // coturn's relay range (49160-49999)
    media: { rtp_port_range: opts.rtpPortRange || '20000-40000' },
    nat: { nice_debug: false },
    plugins: {},
    transports: {
      disable: 'libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so',
    },
    loggers: { disable: 'libjanus_jsonlog.so' },
    events: opts.eventsBackend
      ? { broadcast: true, disable: 'libjanus_gelfevh.so,libjanus_mqttevh.so,libjanus_nanomsgevh.so,libjanus_rabbitmqevh.so,libjanus_wsevh.so' }
      : { broadcast: false },
  }));
  if (opts.eventsBackend) {
    // Janus' sample event handler POSTs every event (core, sessions,
    // handles, plugins, WebRTC) as JSON to this URL: tests scan it for
    // personal data.
    fs.writeFileSync(path.join(confDir, 'janus.eventhandler.sampleevh.jcfg'), jcfg({
      general: { enabled: true, events: 'all', grouping: false, json: 'plain', backend: opts.eventsBackend },
    }));
  }
  fs.writeFileSync(path.join(confDir, 'janus.transport.websockets.jcfg'), jcfg({
    general: { json: wsJson, ws: true, ws_ip: '127.0.0.1', ws_port: wsPort, wss: false },
    admin: { admin_ws: false, admin_wss: false },
  }));
  fs.writeFileSync(path.join(confDir, 'janus.transport.http.jcfg'), jcfg({
    general: { json: 'indented', http: false, https: false },
    admin: {
      admin_http: true, admin_ip: '127.0.0.1', admin_port: adminPort,
      admin_base_path: '/admin', admin_https: false,
    },
  }));
  const pgUrl = pgSchemaUrl(opts);
  fs.writeFileSync(path.join(confDir, `${PLUGIN_PACKAGE}.jcfg`), jcfg({
    general: {
      database: pgUrl ?? path.join(dataDir, 'consult.sqlite'),
      code_secret: codeSecret,
      public_url: publicUrl,
      grace_seconds: opts.graceSeconds ?? 120,
      join_before_minutes: opts.joinBeforeMinutes ?? 30,
      join_after_minutes: opts.joinAfterMinutes ?? 120,
      password_cost: opts.passwordCost || 'interactive',
      ...(opts.extraPluginConfig || {}),
    },
  }));

  const logPath = path.join(dir, 'janus.log');
  // CONSULT_LOCK_CHECK: a change of a practice without its lock aborts (plock.h).
  const env = { CONSULT_LOCK_CHECK: '1', ...process.env, ...(opts.env || {}) };
  const preload = [];
  if (asan) {
    // LD_PRELOAD is set by env(1) right before Janus, not for setpriv.
    preload.push(`LD_PRELOAD=${ASAN_LIB}`);
    env.ASAN_OPTIONS = `detect_leaks=0:abort_on_error=0:halt_on_error=1:log_path=${path.join(dir, 'asan')}`;
    env.UBSAN_OPTIONS = `print_stacktrace=1:halt_on_error=1:log_path=${path.join(dir, 'ubsan')}`;
  }
  const janusArgs = ['-F', confDir, '-P', pluginsDir, '-o', '-D', '-d', String(debugLevel)];
  const [cmd, args] = withParentDeath([...preload.length ? ['/usr/bin/env', ...preload] : [], JANUS_BIN, ...janusArgs]);

  // The running process; kill()/restart() replace it (same folder,
  // configuration, database and ports).
  let child = null;
  let exited = null;
  let exitPromise = null;
  let logStart = 0; // where the current process' part of janus.log begins
  const spawnJanus = () => {
    try { logStart = fs.statSync(logPath).size; } catch { logStart = 0; }
    const logFd = fs.openSync(logPath, 'a');
    const c = spawn(cmd, args, { cwd: dir, env, stdio: ['ignore', logFd, logFd] });
    fs.closeSync(logFd);
    live.add(c);
    child = c;
    exited = null;
    exitPromise = new Promise((resolve) => {
      c.once('exit', (code, signal) => {
        const status = { code, signal };
        live.delete(c);
        if (child === c) exited = status;
        resolve(status);
      });
    });
  };
  spawnJanus();

  let cachedLog = null;
  let cachedReports = null;
  const readLog = () => {
    if (cachedLog !== null) return cachedLog;
    try { return fs.readFileSync(logPath, 'utf8'); } catch { return ''; }
  };
  // The log of the current process only (a restart appends to janus.log).
  const readCurrentLog = () => {
    try {
      const buf = fs.readFileSync(logPath);
      return buf.subarray(Math.min(logStart, buf.length)).toString('utf8');
    } catch { return ''; }
  };
  const readReports = () => {
    if (cachedReports) return cachedReports;
    let names = [];
    try { names = fs.readdirSync(dir); } catch { return []; }
    return names.filter((n) => /^(asan|ubsan)(\.|$)/.test(n))
      .map((n) => ({ file: path.join(dir, n), text: fs.readFileSync(path.join(dir, n), 'utf8') }))
      .filter((r) => r.text.trim() !== '');
  };

  async function adminRaw(body) {
    const res = await fetch(adminUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { json = null; }
    return { status: res.status, json, text };
  }

  async function admin(request) {
    const transaction = crypto.randomBytes(6).toString('hex');
    const { json, text } = await adminRaw({
      janus: 'message_plugin', plugin: PLUGIN_PACKAGE, admin_secret: adminSecret,
      transaction, request,
    });
    if (!json) throw new Error(`admin: not JSON: ${text.slice(0, 200)}`);
    if (json.janus !== 'success') {
      const err = new Error(`admin: janus ${json.janus} ${json.error?.code} ${json.error?.reason}`);
      err.janus = json.error;
      throw err;
    }
    return json.response;
  }

  let stopping = null;
  function stop(timeoutMs = stopTimeoutMs) {
    if (stopping) return stopping;
    stopping = (async () => {
      if (restarting) await restarting.catch(() => {});
      if (!exited) {
        child.kill('SIGTERM');
        const c = child;
        const timer = setTimeout(() => { if (!exited && child === c) c.kill('SIGKILL'); }, timeoutMs);
        await exitPromise;
        clearTimeout(timer);
      }
      await sleep(50); // let sanitizer log files be flushed and closed
      cachedLog = readLog();
      cachedReports = readReports();
      const clean = exited.code === 0 && cachedReports.length === 0;
      const keep = opts.keepDir || process.env.CONSULT_KEEP_TMP === '1' || !clean;
      if (!keep) fs.rmSync(dir, { recursive: true, force: true });
      else if (!opts.keepDir) process.stderr.write(`janus: kept ${dir} (exit ${JSON.stringify(exited)})\n`);
      return exited;
    })();
    return stopping;
  }

  // kill(signal): send signal (default SIGKILL) to the running Janus and
  // resolve with its exit status once it is gone; with SIGTERM a SIGKILL
  // follows after timeoutMs. The folder stays (restart() needs it).
  async function kill(signal = 'SIGKILL', timeoutMs = stopTimeoutMs) {
    if (stopping) throw new Error('janus: kill() after stop()');
    if (exited) return exited;
    const c = child;
    c.kill(signal);
    const timer = signal === 'SIGKILL' ? null
      : setTimeout(() => { if (!exited && child === c) c.kill('SIGKILL'); }, timeoutMs);
    const status = await exitPromise;
    clearTimeout(timer);
    return status;
  }

  // restart(): start Janus again on the same configuration, database and
  // ports once the previous process has exited (kill() it first); resolves
  // when it is ready as at the first start (ports open, plugin answering).
  let restarting = null;
  async function restart() {
    if (stopping) throw new Error('janus: restart() after stop()');
    if (!exited) throw new Error('janus: restart() while Janus runs (kill() it first)');
    restarting = (async () => {
      spawnJanus();
      handle.pid = child.pid;
      await waitReady(false);
    })();
    try { await restarting; } finally { restarting = null; }
    return handle;
  }

  const handle = {
    wsUrl, adminUrl, adminSecret, codeSecret, dir, dataDir, logPath, wsPort, adminPort, pgUrl,
    pid: child.pid, eventLoops, wsJson,
    admin, adminRaw, stop, kill, restart,
    log: readLog,
    sanitizerReports: readReports,
    alive: () => !exited && !isZombieOrGone(child.pid),
    exitStatus: () => exited,
  };

  // Wait for: WebSocket port open, then the plugin answering through admin.
  // first: the first start (a failure removes a folder whose port was taken);
  // a restart keeps the folder and leaves the process to the caller's stop().
  async function waitReady(first) {
    const deadline = Date.now() + (opts.startTimeoutMs ?? (asan ? 60000 : 30000));
    const fail = async (why) => {
      if (!exited) { child.kill('SIGKILL'); await exitPromise; }
      const text = readCurrentLog();
      const portTaken = PORT_TAKEN.test(text);
      const err = new Error(`janus did not ${first ? 'start' : 'restart'}: ${portTaken ? 'a port was taken by another process' : why} (dir ${dir})\n--- log tail ---\n${tail(text)}`);
      err.portTaken = first && portTaken;
      if (err.portTaken) fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    };
    for (;;) {
      if (exited) return fail(`exited ${JSON.stringify(exited)}`);
      if (Date.now() > deadline) return fail('timeout waiting for the WebSocket port');
      // Janus itself must hold both ports: another program answering there
      // would otherwise pass for a started Janus.
      if (await canConnect(wsPort) && await canConnect(adminPort) &&
          ownsPort(child.pid, wsPort) && ownsPort(child.pid, adminPort)) break;
      await sleep(50);
    }
    // Janus loads plugins before it opens its transports, so its log names
    // the plugin by now; if it does not, the ports answered for another
    // process that took them between freePort() and Janus' bind: wait on.
    for (;;) {
      const text = readCurrentLog();
      if (/could not be initialized/.test(text)) return fail('the consult plugin was not loaded');
      if (/Loading plugin 'libjanus_consult\.so'/.test(text)) break;
      if (exited) return fail(`exited ${JSON.stringify(exited)}`);
      if (Date.now() > deadline) return fail('the consult plugin was not loaded');
      await sleep(50);
    }
    // Janus answers 460 (no such plugin) if the plugin failed to initialise.
    const probe = await adminRaw({
      janus: 'message_plugin', plugin: PLUGIN_PACKAGE, admin_secret: adminSecret,
      transaction: 'probe', request: { request: 'health' },
    }).catch((e) => ({ json: null, text: String(e) }));
    if (!probe.json || probe.json.error?.code === 460) {
      return fail(`plugin not reachable through the admin API: ${probe.text?.slice(0, 200)}`);
    }
    return handle;
  }
  return waitReady(true);
}
