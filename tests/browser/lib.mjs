// Shared helpers for the browser end-to-end tests (tests/browser).
//
// Contract:
// - launchChromium(name, {extraArgs, withoutArgs, locale, viewport}) starts
//   Debian's /usr/bin/chromium (playwright-core, persistent context in a
//   fresh temp profile; HOME/XDG/TMPDIR point there) and returns { context,
//   newPage(), close() }. close() never throws and removes the profile. The
//   browser's language is `locale` (default de-DE, as a German practice's
//   patients and staff mostly have; the patient pages follow
//   navigator.languages). withoutArgs drops some of CHROMIUM_ARGS (e.g.
//   '--use-fake-ui-for-media-stream', so a permission set to "denied" really
//   refuses getUserMedia).
// - launchFirefox(name, {prefs}) starts /usr/bin/firefox-esr headless via
//   puppeteer-core over WebDriver BiDi with fake media prefs (language
//   de-DE, intl.accept_languages; plus prefs); returns
//   { browser, newPage(), close() }. Headless Firefox here has no audio
//   output, so WebAudio stays suspended; FIREFOX_AUDIO_PREFS (cubeb's mock
//   context) lets it run, e.g. for a level meter.
// - drive(page) wraps a Playwright or Puppeteer page in one small API
//   (goto, fill, click, waitVisible, waitHidden, attr, text, evaluate, shot)
//   so one patient flow runs in either browser. Every wait has a timeout and
//   fails with an error naming the step.
// - rtcSnapshot(page, path) reads the RTCPeerConnection at window[path...]
//   and returns { connectionState, iceConnectionState, framesDecoded,
//   framesEncoded, pair: {state, bytesReceived, bytesSent,
//   local:{type,address,port,protocol}, remote:{...}} } (pair: the selected
//   candidate pair, its byte counters from getStats).
// - waitFor(step, fn, ms) polls fn until it returns a truthy value.
// - artifacts(testName) gives a fresh tests/artifacts/<testName>/ folder and
//   shot(page, label) which writes NN-label.png there.
// - startStack() starts Janus (scripts/lib/janus.mjs) + nginx, seeds a
//   practice; consultHandleInfos()/janusMediaFindings() read Janus' plain
//   admin API (list_sessions/list_handles/handle_info) to prove that no
//   consult handle has a PeerConnection.
// Browsers run one after the other on the 2-core CI machine; callers await
// each launch before the next.
// Environment: CONSULT_PLUGIN (plugin .so, read by the harness),
// CONSULT_CHROMIUM, CONSULT_FIREFOX (browser binaries), CONSULT_HARNESS_DIR
// (another copy of scripts/lib), CONSULT_E2E_DUMP_HANDLES=1 (print the
// handle_info objects).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const CHROMIUM = process.env.CONSULT_CHROMIUM || '/usr/bin/chromium';
export const FIREFOX = process.env.CONSULT_FIREFOX || '/usr/bin/firefox-esr';

// No --disable-features here: Chromium keeps only the last one, which would
// drop Playwright's own list; with the fake media permission granted host
// candidates are raw addresses anyway (measured, see notes/webrtc-tests.md).
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

export const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.navigator.permission.fake': true,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  // Keep the headless profile quiet and off the network.
  'browser.shell.checkDefaultBrowser': false,
  'app.update.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  // navigator.languages: the patient pages choose their language from it
  'intl.accept_languages': 'de-DE, de',
};

// WebAudio runs (an AudioContext resumes) without a sound device.
export const FIREFOX_AUDIO_PREFS = { 'media.cubeb.force_mock_context': true };

function tempHome(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `consult-${prefix}-`));
  for (const sub of ['profile', 'home', 'tmp', 'config', 'cache']) fs.mkdirSync(path.join(dir, sub));
  const env = {
    ...process.env,
    HOME: path.join(dir, 'home'),
    TMPDIR: path.join(dir, 'tmp'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
  };
  return { dir, env };
}

function rmQuiet(dir) {
  try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
}

/** Launch Chromium with a fresh profile. */
export async function launchChromium(name = 'chromium', {
  extraArgs = [], withoutArgs = [], locale = 'de-DE', viewport = { width: 1000, height: 800 },
} = {}) {
  const { chromium } = await import('playwright-core');
  const { dir, env } = tempHome(name);
  let context;
  try {
    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS.filter((a) => !withoutArgs.includes(a)), ...extraArgs],
      env,
      locale,
      viewport,
      // Pulsing buttons (#accept-call) never count as "stable" for
      // Playwright's click; the pages honour prefers-reduced-motion.
      reducedMotion: 'reduce',
      timeout: 60_000,
    });
  } catch (err) {
    rmQuiet(dir);
    throw new Error(`launch Chromium (${name}) failed: ${err.message}`);
  }
  let closed = false;
  return {
    kind: 'chromium',
    context,
    async newPage() {
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      return page;
    },
    async close() {
      if (closed) return;
      closed = true;
      try { await context.close(); } catch { /* already gone */ }
      rmQuiet(dir);
    },
  };
}

/** Launch Firefox ESR headless over WebDriver BiDi. */
export async function launchFirefox(name = 'firefox', { prefs = {} } = {}) {
  const puppeteer = (await import('puppeteer-core')).default;
  const { dir, env } = tempHome(name);
  let browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: path.join(dir, 'profile'),
      extraPrefsFirefox: { ...FIREFOX_PREFS, ...prefs },
      env,
      defaultViewport: { width: 1000, height: 800 },
      protocolTimeout: 30_000,
      timeout: 60_000,
    });
  } catch (err) {
    rmQuiet(dir);
    throw new Error(`launch Firefox (${name}) failed: ${err.message}`);
  }
  let closed = false;
  return {
    kind: 'firefox',
    browser,
    async newPage() {
      const page = await browser.newPage();
      page.setDefaultTimeout(30_000);
      return page;
    },
    async close() {
      if (closed) return;
      closed = true;
      const proc = browser.process();
      try {
        await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 10_000))]);
      } catch { /* already gone */ }
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        try { proc.kill('SIGKILL'); } catch { /* gone */ }
      }
      rmQuiet(dir);
    },
  };
}

/** Poll fn() until it returns something truthy; the error names the step. */
export async function waitFor(step, fn, ms = 15_000, interval = 100) {
  const t0 = Date.now();
  let last;
  let lastErr;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() - t0 > ms) {
      const detail = lastErr ? `; last error: ${lastErr.message}` : `; last value: ${JSON.stringify(last)}`;
      throw new Error(`step "${step}" timed out after ${ms} ms${detail}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Run a promise with a step name and a timeout. */
export async function step(name, promiseOrFn, ms = 15_000) {
  let timer;
  const p = typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn;
  try {
    return await Promise.race([
      p,
      new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`step "${name}" timed out after ${ms} ms`)), ms); }),
    ]);
  } catch (err) {
    if (err.message.startsWith(`step "${name}"`)) throw err;
    throw new Error(`step "${name}" failed: ${err.message}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Fresh artifact folder for a test plus a numbered screenshot helper. */
export function artifacts(testName) {
  const dir = path.join(REPO, 'tests', 'artifacts', testName);
  rmQuiet(dir);
  fs.mkdirSync(dir, { recursive: true });
  let n = 0;
  return {
    dir,
    async shot(page, label) {
      n += 1;
      const file = path.join(dir, `${String(n).padStart(2, '0')}-${label}.png`);
      try {
        await step(`screenshot ${label}`, page.screenshot({ path: file }), 15_000);
      } catch (err) {
        // A screenshot is evidence, not the assertion: note and go on.
        console.error(`# screenshot ${label} failed: ${err.message}`);
      }
      return file;
    },
  };
}

// Playwright pages have context(); Puppeteer pages have browserContext().
const isPuppeteer = (page) => typeof page.context !== 'function';

/**
 * One API for Playwright (Chromium) and Puppeteer (Firefox) pages.
 * Selectors are CSS. Every method names its step in errors.
 */
export function drive(page, who = 'page') {
  const pup = isPuppeteer(page);
  const label = (s) => `${who}: ${s}`;
  return {
    page,
    async goto(url) {
      await step(label(`open ${new URL(url).pathname}`), page.goto(url, { waitUntil: 'load', timeout: 45_000 }), 50_000);
    },
    async waitVisible(sel, ms = 30_000) {
      const opts = pup ? { visible: true, timeout: ms } : { state: 'visible', timeout: ms };
      await step(label(`wait for ${sel} visible`), page.waitForSelector(sel, opts), ms + 2000);
    },
    async waitHidden(sel, ms = 30_000) {
      const opts = pup ? { hidden: true, timeout: ms } : { state: 'hidden', timeout: ms };
      await step(label(`wait for ${sel} hidden`), page.waitForSelector(sel, opts), ms + 2000);
    },
    async fill(sel, value) {
      await this.waitVisible(sel);
      if (pup) {
        await step(label(`fill ${sel}`), async () => {
          await page.$eval(sel, (el) => { el.value = ''; });
          await page.type(sel, value);
        });
      } else {
        await step(label(`fill ${sel}`), page.fill(sel, value));
      }
    },
    async click(sel) {
      await this.waitVisible(sel);
      await step(label(`click ${sel}`), page.click(sel));
    },
    async check(sel) {
      await this.waitVisible(sel);
      const checked = await this.evaluate((s) => document.querySelector(s).checked, sel);
      if (!checked) await step(label(`check ${sel}`), page.click(sel));
      const now = await this.evaluate((s) => document.querySelector(s).checked, sel);
      if (!now) throw new Error(label(`${sel} is not checked after click`));
    },
    async attr(sel, name) {
      return this.evaluate(([s, n]) => {
        const el = document.querySelector(s);
        return el ? el.getAttribute(n) : null;
      }, [sel, name]);
    },
    async text(sel) {
      return this.evaluate((s) => {
        const el = document.querySelector(s);
        return el ? el.textContent.replace(/\s+/g, ' ').trim() : null;
      }, sel);
    },
    async value(sel) {
      return this.evaluate((s) => {
        const el = document.querySelector(s);
        if (!el) return null;
        return 'value' in el && el.tagName !== 'BUTTON' ? el.value : (el.getAttribute('href') || el.textContent.trim());
      }, sel);
    },
    async visible(sel) {
      return this.evaluate((s) => {
        const el = document.querySelector(s);
        if (!el) return false;
        const st = getComputedStyle(el);
        const r = el.getBoundingClientRect();
        return st.display !== 'none' && st.visibility !== 'hidden' && r.width > 0 && r.height > 0;
      }, sel);
    },
    async evaluate(fn, arg) {
      return page.evaluate(fn, arg);
    },
  };
}

/**
 * Snapshot of the RTCPeerConnection at window.<dotted path> (default
 * consult.pc): states, video frames and the selected candidate pair.
 */
export async function rtcSnapshot(page, pcPath = 'consult.pc') {
  return page.evaluate(async (p) => {
    const pc = p.split('.').reduce((o, k) => (o == null ? o : o[k]), window);
    if (!pc || typeof pc.getStats !== 'function') return { missing: true };
    const stats = await pc.getStats();
    const byId = new Map();
    stats.forEach((s) => byId.set(s.id, s));
    let framesDecoded = 0;
    let framesEncoded = 0;
    let inboundVideo = 0;
    let pairId = null;
    let selectedPair = null;
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && (s.kind || s.mediaType) === 'video') {
        inboundVideo += 1;
        framesDecoded += s.framesDecoded || 0;
      }
      if (s.type === 'outbound-rtp' && (s.kind || s.mediaType) === 'video') framesEncoded += s.framesEncoded || 0;
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
      if (s.type === 'candidate-pair' && s.selected === true) selectedPair = s; // Firefox
    });
    const pair = (pairId && byId.get(pairId)) || selectedPair;
    const cand = (id) => {
      const c = id && byId.get(id);
      return c ? { type: c.candidateType, address: c.address || c.ip || null, port: c.port ?? null, protocol: c.protocol || null } : null;
    };
    const bytes = pair ? { bytesReceived: pair.bytesReceived ?? 0, bytesSent: pair.bytesSent ?? 0 } : {};
    return {
      connectionState: pc.connectionState,
      iceConnectionState: pc.iceConnectionState,
      signalingState: pc.signalingState,
      inboundVideo,
      framesDecoded,
      framesEncoded,
      pair: pair ? { state: pair.state, ...bytes, local: cand(pair.localCandidateId), remote: cand(pair.remoteCandidateId) } : null,
    };
  }, pcPath);
}

/** Wait until the pc is connected and has decoded video; returns the snapshot. */
export async function waitForMedia(page, who, { pcPath = 'consult.pc', ms = 45_000 } = {}) {
  let last = null;
  try {
    return await waitFor(`${who}: connected with video frames decoded`, async () => {
      last = await rtcSnapshot(page, pcPath);
      return last.connectionState === 'connected' && last.framesDecoded > 0 && last.pair ? last : null;
    }, ms, 200);
  } catch (err) {
    throw new Error(`${err.message}; last snapshot: ${JSON.stringify(last)}`);
  }
}

/** Call close() on every item, in order, swallowing errors. */
export async function closeAll(...items) {
  for (const it of items) {
    if (!it) continue;
    try {
      if (typeof it === 'function') await it();
      else if (typeof it.close === 'function') await it.close();
      else if (typeof it.stop === 'function') await it.stop();
    } catch (err) {
      console.error(`# cleanup failed: ${err.message}`);
    }
  }
}

// ---------------------------------------------------------------------------
// The stack: Janus with the consult plugin + nginx serving html/, seeded.

// The shared harness (scripts/lib). CONSULT_HARNESS_DIR may point at another
// copy (for trying a harness change without touching the tree).
export function harness(file) {
  const dir = process.env.CONSULT_HARNESS_DIR || path.join(REPO, 'scripts', 'lib');
  return pathToFileURL(path.join(path.resolve(dir), file)).href;
}

export const PASSWORDS = {
  doctor: 'doctor-pass-' + Math.random().toString(36).slice(2, 10),
  reception: 'empfang-pass-' + Math.random().toString(36).slice(2, 10),
};

/** The plugin's e-mail settings for a tests/protocol/servers.mjs
 * startSmtp() server (templates of conf/messages, quick retries). */
export function smtpConfig(smtp) {
  return {
    templates_dir: path.join(REPO, 'conf', 'messages'),
    smtp_url: `smtp://127.0.0.1:${smtp.port}`,
    smtp_starttls: false,
    smtp_from: 'videosprechstunde@praxis.example',
    smtp_timeout_seconds: 20,
    delivery_backoff_base_seconds: 1,
  };
}

/**
 * Start Janus (public_url = the nginx origin, so the reception's link is
 * directly usable), nginx, and seed one practice with a doctor and a
 * reception login. Returns { janus, nginx, practice, doctor, reception,
 * stop() } (stop never throws and keeps the logs readable).
 * opts.janus: extra startJanus() options (e.g. graceSeconds,
 * extraPluginConfig for TURN). opts.practice: another seedPractice() spec
 * than the default practice (doctor, reception: its first ones).
 */
export async function startStack(opts = {}) {
  const { startJanus, freePort } = await import(harness('janus.mjs'));
  const { startNginx } = await import(harness('nginx.mjs'));
  const { seedPractice } = await import(harness('seed.mjs'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  let janus = null;
  let nginx = null;
  const stop = async () => {
    const out = {};
    if (nginx) {
      try {
        out.nginxAccess = nginx.accessLog ? nginx.accessLog() : '';
        out.nginxError = nginx.errorLog ? nginx.errorLog() : '';
      } catch { /* gone */ }
      try { out.nginx = await nginx.stop(); } catch (err) { out.nginx = String(err); }
    }
    if (janus) {
      try { out.janus = await janus.stop(); } catch (err) { out.janus = String(err); }
      try { out.janusLog = janus.log(); } catch { out.janusLog = ''; }
    }
    nginx = null;
    janus = null;
    return out;
  };
  try {
    janus = await startJanus({ publicUrl: origin, ...(opts.janus || {}) });
    nginx = await startNginx({ root: path.join(REPO, 'html'), janusWsUrl: janus.wsUrl, port });
    const practice = await seedPractice(janus, opts.practice || {
      slug: 'praxis-e2e',
      name: 'Hautärzte am Prüfstand',
      phone: '0721-5550100',
      doctors: [{ username: 'dr.pruef', display_name: 'Dr. Prüf', password: PASSWORDS.doctor }],
      receptions: [{ username: 'empfang', display_name: 'Empfang', password: PASSWORDS.reception }],
    });
    return {
      janus, nginx, origin, practice,
      doctor: practice.doctors[0],
      reception: practice.receptions[0],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Plain Janus admin request (not message_plugin). */
export async function janusAdmin(janus, body) {
  const { json, text, status } = await janus.adminRaw({
    transaction: Math.random().toString(36).slice(2),
    admin_secret: janus.adminSecret,
    ...body,
  });
  if (!json || json.janus !== 'success') {
    throw new Error(`admin ${body.janus}: HTTP ${status} ${text.slice(0, 200)}`);
  }
  return json;
}

/** handle_info.info of every handle attached to the consult plugin. */
export async function consultHandleInfos(janus) {
  const out = [];
  const { sessions = [] } = await janusAdmin(janus, { janus: 'list_sessions' });
  for (const session_id of sessions) {
    let handles = [];
    try {
      ({ handles = [] } = await janusAdmin(janus, { janus: 'list_handles', session_id }));
    } catch { continue; } // session went away meanwhile
    for (const handle_id of handles) {
      let info;
      try {
        ({ info } = await janusAdmin(janus, { janus: 'handle_info', session_id, handle_id }));
      } catch { continue; }
      if (info && info.plugin === 'janus.plugin.consult') out.push(info);
    }
  }
  return out;
}

/**
 * What in a handle_info shows that Janus terminated WebRTC on that handle.
 * Measured on Janus 1.1.2 with an echotest call (negative control): a handle
 * with a PeerConnection has flags got-offer/got-answer/negotiated/ready
 * true, an ICE agent (agent-created, ice-mode, ice-role), sdps.local/remote
 * and a `webrtc` object with ice/dtls state and media counters. A handle
 * that only relays plugin messages has none of these. Returns the list of
 * findings (empty = no media through Janus).
 */
export function janusMediaFindings(info) {
  const f = [];
  const flags = info.flags || {};
  for (const k of ['got-offer', 'got-answer', 'negotiated', 'ready', 'has-audio', 'has-video']) {
    if (flags[k]) f.push(`flags.${k}=true`);
  }
  for (const k of ['webrtc', 'agent-created', 'agent-started', 'ice-mode', 'ice-role', 'streams']) {
    if (k in info) f.push(`${k} present`);
  }
  if (info.sdps && (info.sdps.local || info.sdps.remote)) f.push('sdps has local/remote SDP');
  if (!info.flags) f.push('no flags object (unexpected handle_info shape)');
  return f;
}

// Collects a page's console lines and uncaught errors into sink (for evidence).
export function watchConsole(page, who, sink) {
  page.on('console', (m) => sink.push(`[${who}] ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => sink.push(`[${who}] pageerror: ${e.message || e}`));
}

// Picks an <option> by value once it exists, as a user would (input+change).
export async function selectValue(d, sel, value) {
  await waitFor(`${sel} has option ${value}`, () => d.evaluate(([s, v]) => {
    const el = document.querySelector(s);
    return !!el && [...el.options].some((o) => o.value === v);
  }, [sel, value]), 30_000);
  await d.evaluate(([s, v]) => {
    const el = document.querySelector(s);
    el.value = v;
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, [sel, value]);
}
