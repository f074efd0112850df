// Helpers for the WebKit tests (tests/webkit): Debian's WebKitGTK
// (webkit2gtk-driver: WebKitWebDriver driving MiniBrowser) under Xvfb,
// through a small W3C WebDriver client (classic HTTP protocol, node's fetch).
//
// Contract:
// - startWebKit(name, {args}) starts Xvfb on a free display (Xvfb picks it
//   itself: -displayfd), WebKitWebDriver on a free port (ready once GET
//   /status says ready) and one session with MiniBrowser (MINIBROWSER_ARGS:
//   mock camera and microphone, full-screen mode so the window has no
//   toolbar and the web view is the whole window) and returns
//   { session, display, close() }. close() never throws: it ends the
//   session, then stops the driver, the processes the driver started
//   (MiniBrowser and its helpers; found by parent PID before the driver
//   goes) and Xvfb, each
//   by its PID (SIGTERM, SIGKILL after a deadline), and removes the temp
//   folder (HOME, XDG dirs, TMPDIR of the browser). Every process started
//   here is SIGKILLed if the node process exits first and gets SIGTERM
//   (setpriv --pdeathsig) if node is killed by a signal.
// - Session (one browser window): navigate(url), setViewport(w, h) (the
//   window is resized until innerWidth/innerHeight are exactly w x h; throws
//   if the browser cannot), exec(fn, ...args) (fn runs in the page, may be
//   async; its JSON result is returned; a throw in the page rejects),
//   find(css) -> element reference, click(css) (a real click through the
//   browser: a user gesture), type(css, text), screenshot(file),
//   visibleBox(css) -> {x, y, width, height, visible, inViewport, vw, vh}
//   or null, waitFor(step, fn, ms) (polls fn until truthy; the error names
//   the step), consoleLines() (what the page wrote to console.* and
//   uncaught errors since the last navigate(); collected by a hook
//   exec() installs), close().
// - Every WebDriver command has a deadline (busy machine: generous) and
//   fails with an error naming the command and WebDriver's error.
// - gtkConfig: MiniBrowser's own widgets (its hidden toolbar) keep a window
//   from shrinking below ~450 px; a GTK style for the browser chrome (never
//   the web content) in the temp XDG_CONFIG_HOME lets it go down to 320 px.
// Environment: CONSULT_MINIBROWSER, CONSULT_WEBKIT_DRIVER, CONSULT_XVFB
// (binaries), CONSULT_WEBKIT_KEEP=1 (keep the temp folder).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { harness, waitFor, step } from '../browser/lib.mjs';

export { startStack, harness, waitFor, step, closeAll, PASSWORDS } from '../browser/lib.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WEBDRIVER = process.env.CONSULT_WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver';
export const XVFB = process.env.CONSULT_XVFB || '/usr/bin/Xvfb';

// The MiniBrowser of the WebKitGTK library the driver belongs to (Debian's
// webkit2gtk-driver depends on libwebkit2gtk-4.1-0).
const MINIBROWSER_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
  '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
  '/usr/lib/x86_64-linux-gnu/webkitgtk-6.0/MiniBrowser',
  '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.0/MiniBrowser',
];
export function miniBrowserPath() {
  if (process.env.CONSULT_MINIBROWSER) return process.env.CONSULT_MINIBROWSER;
  const found = MINIBROWSER_CANDIDATES.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`MiniBrowser not found (tried ${MINIBROWSER_CANDIDATES.join(', ')}); install webkit2gtk-driver (scripts/install-deps)`);
  return found;
}

// --automation: driven by WebKitWebDriver. --full-screen: no toolbar, so the
// window size is the viewport. Mock capture devices: getUserMedia gets a
// moving test picture and a tone without a permission prompt.
export const MINIBROWSER_ARGS = [
  '--automation',
  '--full-screen',
  '--enable-media-stream=true',
  '--enable-mock-capture-devices=true',
];

const GTK_CSS = '/* the browser chrome only (hidden in full-screen mode): lets the window shrink to 320 px */\n'
  + 'label, entry, button { font-size: 1px; min-width: 0; min-height: 0; padding: 0; margin: 0; }\n';

// WebDriver command deadlines (a busy 2-core machine; not expectations).
const COMMAND_MS = 30_000;
const NAVIGATE_MS = 60_000;
const SESSION_MS = 90_000;

const live = new Set();   // pids to SIGKILL if node exits first
process.on('exit', () => {
  for (const pid of live) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

function alive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** PIDs descending from pid (children first, then theirs). */
function descendantsOf(pid) {
  const parent = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone meanwhile */ }
  }
  const out = [];
  for (let i = -1; i < out.length; i++) {
    const of = i < 0 ? pid : out[i];
    for (const [p, pp] of parent) if (pp === of) out.push(p);
  }
  return out;
}

/** SIGTERM pid, wait until it is gone, SIGKILL after ms. */
async function stopPid(pid, ms = 10_000) {
  if (!pid || !alive(pid)) { live.delete(pid); return; }
  try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  try {
    await waitFor(`process ${pid} exits after SIGTERM`, () => !alive(pid), ms, 50);
  } catch {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    try { await waitFor(`process ${pid} exits after SIGKILL`, () => !alive(pid), 5000, 50); } catch { /* reported below */ }
  }
  live.delete(pid);
}

/** A child process whose exit is observed (child.exited: null or {code, signal}). */
async function spawnTracked(argv, opts) {
  const { withParentDeath } = await import(harness('janus.mjs'));
  const [cmd, args] = withParentDeath(argv);
  const child = spawn(cmd, args, opts);
  child.exited = null;
  child.once('exit', (code, signal) => { child.exited = { code, signal }; live.delete(child.pid); });
  if (child.pid) live.add(child.pid);
  return child;
}

/** Xvfb on a display number of its own choosing (-displayfd); resolves once it accepts clients. */
async function startXvfb(dir) {
  const logPath = path.join(dir, 'xvfb.log');
  const log = fs.openSync(logPath, 'a');
  const child = await spawnTracked([XVFB, '-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp', '-noreset'],
    { stdio: ['ignore', log, log, 'pipe'] });
  fs.closeSync(log);
  let out = '';
  child.stdio[3].on('data', (b) => { out += b.toString(); });
  try {
    const display = await waitFor('Xvfb reports its display', () => {
      if (child.exited) throw new Error(`Xvfb exited ${JSON.stringify(child.exited)}: ${fs.readFileSync(logPath, 'utf8').slice(-500)}`);
      const m = /^(\d+)\n/.exec(out);
      return m ? m[1] : null;
    }, 30_000, 50);
    return { child, display: `:${display}` };
  } catch (err) {
    await stopPid(child.pid);
    throw err;
  }
}

class WebDriverError extends Error {
  constructor(what, status, value) {
    super(`${what}: ${value && value.error ? `${value.error}: ${value.message}` : `HTTP ${status}`}`);
    this.error = value && value.error;
  }
}

async function wdRequest(base, method, p, body, ms = COMMAND_MS) {
  const what = `WebDriver ${method} ${p.replace(/^\/session\/[^/]+/, '')}`;
  let res;
  try {
    res = await fetch(base + p, {
      method,
      headers: body ? { 'content-type': 'application/json; charset=utf-8' } : {},
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(ms),
    });
  } catch (err) {
    throw new Error(`${what}: ${err.name === 'TimeoutError' ? `no answer within ${ms} ms` : err.message}`);
  }
  let json = null;
  try { json = await res.json(); } catch { /* not JSON */ }
  const value = json ? json.value : null;
  if (!res.ok) throw new WebDriverError(what, res.status, value);
  return value;
}

const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf';

// Runs in the page (execute/async): the last argument is WebDriver's
// callback; the others are JSON arguments of fn. The first call on a page
// also installs the console hook consoleLines() reads.
const EXEC_WRAPPER = `
const done = arguments[arguments.length - 1];
const args = Array.prototype.slice.call(arguments, 0, -1);
if (!window.__wkConsole) {
  const lines = window.__wkConsole = [];
  for (const k of ['log', 'info', 'warn', 'error']) {
    const orig = console[k];
    console[k] = function () {
      try { lines.push(k + ': ' + Array.prototype.map.call(arguments, (a) => (a && a.stack) ? a.stack : String(a)).join(' ')); } catch (e) { /* unprintable */ }
      return orig.apply(console, arguments);
    };
  }
  window.addEventListener('error', (e) => lines.push('pageerror: ' + e.message));
  window.addEventListener('unhandledrejection', (e) => lines.push('unhandledrejection: ' + (e.reason && e.reason.message || e.reason)));
}
let p;
try { p = Promise.resolve((FN).apply(null, args)); } catch (e) { p = Promise.reject(e); }
p.then((v) => done({ ok: v === undefined ? null : v }),
  (e) => done({ err: String(e && e.stack || e) }));
`;

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
    this.closed = false;
    this.chrome = null;   // setViewport: the window's size minus the page's
  }

  cmd(method, p, body, ms) {
    return wdRequest(this.base, method, `/session/${this.id}${p}`, body, ms);
  }

  async navigate(url) {
    await this.cmd('POST', '/url', { url }, NAVIGATE_MS);
  }

  /**
   * Resize the window until the page's viewport is exactly w x h. The
   * window has chrome around the web view: its size is measured (the
   * window's size minus the page's, while nothing is being resized) and
   * added. A resize reaches the page only some time after the command
   * returned (long on a busy machine), so each try waits until the page
   * sees w x h; if it never does, the chrome is measured anew and the
   * window asked again.
   */
  async setViewport(w, h) {
    const inner = () => this.exec(() => [window.innerWidth, window.innerHeight]);
    for (let i = 0; i < 3; i++) {
      if (!this.chrome) {
        const win = await this.cmd('GET', '/window/rect');
        const [iw, ih] = await inner();
        this.chrome = { width: Math.max(0, win.width - iw), height: Math.max(0, win.height - ih) };
      }
      await this.cmd('POST', '/window/rect', { width: w + this.chrome.width, height: h + this.chrome.height });
      try {
        await this.waitFor(`viewport ${w}x${h}`, async () => {
          const [iw, ih] = await inner();
          return iw === w && ih === h;
        }, 15_000, 50);
        return;
      } catch { this.chrome = null; }   // measured while a resize ran, or changed: again
    }
    const [iw, ih] = await inner();
    throw new Error(`viewport ${w}x${h} not reachable: the page sees ${iw}x${ih}`);
  }

  async exec(fn, ...args) {
    const script = EXEC_WRAPPER.replace('FN', () => String(fn));
    const r = await this.cmd('POST', '/execute/async', { script, args }, COMMAND_MS + 5000);
    if (r && 'err' in r) throw new Error(`in the page: ${r.err}`);
    return r ? r.ok : r;
  }

  async consoleLines() {
    return this.exec(() => window.__wkConsole || []);
  }

  async find(css) {
    const v = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return v[ELEMENT_KEY];
  }

  async click(css) {
    const el = await this.find(css);
    await this.cmd('POST', `/element/${el}/click`, {});
  }

  async type(css, text) {
    const el = await this.find(css);
    await this.cmd('POST', `/element/${el}/clear`, {});
    await this.cmd('POST', `/element/${el}/value`, { text });
  }

  async screenshot(file) {
    const b64 = await this.cmd('GET', '/screenshot', undefined, COMMAND_MS);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, Buffer.from(b64, 'base64'));
    return file;
  }

  /** Where css is on screen: its box, whether it is rendered, and whether it lies inside the viewport. */
  async visibleBox(css) {
    return this.exec((sel) => {
      const el = document.querySelector(sel);
      if (!el) return null;
      const r = el.getBoundingClientRect();
      const st = getComputedStyle(el);
      const vw = document.documentElement.clientWidth;
      const vh = document.documentElement.clientHeight;
      const visible = st.display !== 'none' && st.visibility !== 'hidden' && r.width > 0 && r.height > 0 && !el.closest('[hidden]');
      return {
        x: r.x, y: r.y, width: r.width, height: r.height, vw, vh, visible,
        inViewport: r.left >= 0 && r.top >= 0 && r.right <= vw && r.bottom <= vh,
      };
    }, css);
  }

  waitFor(stepName, fn, ms = 30_000, interval = 100) {
    return waitFor(stepName, fn, ms, interval);
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await wdRequest(this.base, 'DELETE', `/session/${this.id}`, undefined, 20_000);
  }
}

function tempDir(name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `consult-webkit-${name}-`));
  for (const sub of ['home', 'tmp', 'config/gtk-3.0', 'config/gtk-4.0', 'cache', 'data']) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
  }
  fs.writeFileSync(path.join(dir, 'config/gtk-3.0/gtk.css'), GTK_CSS);
  fs.writeFileSync(path.join(dir, 'config/gtk-4.0/gtk.css'), GTK_CSS);
  return dir;
}

/**
 * Xvfb + WebKitWebDriver + one MiniBrowser session. opts.args replaces
 * MINIBROWSER_ARGS (e.g. without the media flags).
 */
export async function startWebKit(name = 'webkit', opts = {}) {
  const { freePort } = await import(harness('janus.mjs'));
  const binary = miniBrowserPath();
  const dir = tempDir(name);
  let xvfb = null;
  let driver = null;
  let session = null;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    if (session) {
      try { await session.close(); } catch (err) { console.error(`# webkit: ending the session failed: ${err.message}`); }
    }
    if (driver) {
      // MiniBrowser and its web/network processes, if ending the session left any
      const browsers = descendantsOf(driver.pid);
      await stopPid(driver.pid);
      for (const pid of browsers) await stopPid(pid);
    }
    if (xvfb) await stopPid(xvfb.child.pid);
    if (process.env.CONSULT_WEBKIT_KEEP !== '1') {
      try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
    }
  };
  try {
    xvfb = await startXvfb(dir);
    const env = {
      ...process.env,
      DISPLAY: xvfb.display,
      HOME: path.join(dir, 'home'),
      TMPDIR: path.join(dir, 'tmp'),
      XDG_CONFIG_HOME: path.join(dir, 'config'),
      XDG_CACHE_HOME: path.join(dir, 'cache'),
      XDG_DATA_HOME: path.join(dir, 'data'),
      XDG_RUNTIME_DIR: path.join(dir, 'tmp'),
      NO_AT_BRIDGE: '1',                   // no accessibility bus to look for
      GTK_A11Y: 'none',
      LIBGL_ALWAYS_SOFTWARE: '1',
    };
    delete env.WAYLAND_DISPLAY;
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const logPath = path.join(dir, 'webdriver.log');
    let lastErr = null;
    for (let attempt = 1; attempt <= 3 && !driver; attempt++) {
      const port = await freePort();
      const log = fs.openSync(logPath, 'a');
      const child = await spawnTracked([WEBDRIVER, `--port=${port}`, '--host=local'], { env, stdio: ['ignore', log, log] });
      fs.closeSync(log);
      const base = `http://127.0.0.1:${port}`;
      try {
        await waitFor('WebKitWebDriver ready', async () => {
          if (child.exited) throw new Error(`WebKitWebDriver exited ${JSON.stringify(child.exited)}`);
          const st = await wdRequest(base, 'GET', '/status', undefined, 5000);
          return st && st.ready;
        }, 30_000, 100);
        driver = { child, pid: child.pid, base, logPath };
      } catch (err) {
        lastErr = err;
        await stopPid(child.pid);   // e.g. the port was taken meanwhile: try another
      }
    }
    if (!driver) throw new Error(`WebKitWebDriver did not start: ${lastErr && lastErr.message}; log: ${fs.readFileSync(logPath, 'utf8').slice(-800)}`);
    const caps = {
      capabilities: {
        alwaysMatch: {
          browserName: 'MiniBrowser',
          'webkitgtk:browserOptions': { binary, args: opts.args || MINIBROWSER_ARGS },
        },
      },
    };
    const created = await step('WebKit: new session', wdRequest(driver.base, 'POST', '/session', caps, SESSION_MS), SESSION_MS + 5000);
    session = new Session(driver.base, created.sessionId);
    session.capabilities = created.capabilities;
    return {
      session,
      display: xvfb.display,
      dir,
      driverLog: () => { try { return fs.readFileSync(logPath, 'utf8'); } catch { return ''; } },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * A second nginx in front of the stack's Janus that serves html/ as the
 * stack's does, but puts tests/webkit/pages/rtc-standin.js into
 * patient.html ahead of every other script (sub_filter), and serves
 * tests/webkit/pages/ at /__webkit/. WebKitGTK has no WebRTC, Safari has:
 * through this origin the patient page runs in WebKit's engine as it does
 * in Safari up to the call. Returns { origin, stop() }.
 */
export async function startStandIn(stack) {
  const { startNginx } = await import(harness('nginx.mjs'));
  const pages = path.join(REPO, 'tests', 'webkit', 'pages');
  const extraLocations = `
    location = /patient.html {
      sub_filter '<head>' '<head>\n<script src="/__webkit/rtc-standin.js"></script>';
      sub_filter_once on;
    }
    location /__webkit/ { alias ${pages}/; }`;
  const nginx = await startNginx({ root: path.join(REPO, 'html'), janusWsUrl: stack.janus.wsUrl, extraLocations });
  return {
    origin: nginx.url.replace(/\/$/, ''),
    nginx,
    async stop() {
      try { await nginx.stop(); } catch (err) { console.error(`# stand-in nginx: ${err.message}`); }
    },
  };
}

/** A fresh tests/artifacts/<name>/ folder and shot(session, label) writing NN-label.png. */
export function artifacts(name) {
  const dir = path.join(REPO, 'tests', 'artifacts', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  let n = 0;
  return {
    dir,
    async shot(session, label) {
      n += 1;
      const file = path.join(dir, `${String(n).padStart(2, '0')}-${label}.png`);
      try {
        await session.screenshot(file);
      } catch (err) {
        // a screenshot is evidence, not the assertion
        console.error(`# screenshot ${label} failed: ${err.message}`);
      }
      return file;
    },
    write(file, text) {
      fs.writeFileSync(path.join(dir, file), text);
    },
  };
}
