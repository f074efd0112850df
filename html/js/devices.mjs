// devices.mjs: the patient's device check in the waiting room and the
// camera/microphone the call then uses (docs/pages.md, "Device check").
// After the join the card #device-check invites (not forces) the patient to
// check camera (live preview), microphone (level meter, WebAudio
// AnalyserNode), speaker (a test sound, on the chosen output where the
// browser can choose one) and to choose devices; getUserMedia runs only on
// the tap "Jetzt prüfen" / "Erneut versuchen" / a device choice (user
// gestures). The result per kind is 'unchecked' | 'ok' | 'blocked'
// (permission refused) | 'missing' (no such device, or it failed) and goes
// to the server as `readiness` (docs/protocol.md) as soon as it is known
// and again after every join (the server starts each join 'unchecked').
// The granted stream is kept, its tracks disabled (nothing is sent; Firefox
// and Safari switch the camera off), until the call: accepting then takes
// clones of its tracks, so no second permission prompt and the chosen
// devices; the originals stay for a later call. Result, chosen device ids
// and "checked/skipped" live in sessionStorage with the code (a reload
// re-sends the result; the stream itself is gone then).
// Contract: const dev = deviceCheck(page)   page: patient.mjs' shared state
//   dev.wire()              buttons and selects
//   dev.joined(reply)       after a join reply: re-sends the result, shows
//                           the invitation the first time
//   dev.show(on)            the card is shown only in the waiting room
//   dev.render()            texts (language)
//   dev.result              {camera, microphone}
//   await dev.callMedia({audioOnly}) -> {stream, camera, microphone}: the
//                           call's stream (clones; stream null when neither
//                           works); audioOnly: no camera at all
//   dev.warm({onGranted})   ringing: where camera and microphone are both
//                           already granted (navigator.permissions: no
//                           prompt can appear), opens what is not kept yet,
//                           tracks disabled (nothing is sent), so that
//                           Annehmen finds them ready; callMedia waits for
//                           a warm() still under way instead of asking twice.
//                           -> Promise<boolean>: both are granted and there
//                           (kept by the check or opened now).
//                           onGranted(): called once both are known to be
//                           granted (or kept), right after getUserMedia was
//                           asked and before it answers (100-400 ms for a
//                           camera that was closed): what needs only the
//                           permission starts there, not after the camera
//   dev.cool()              the ring ended without the call (declined,
//                           cancelled): stops what warm() opened
//   dev.sinkId              the chosen audio output ('' = default)
//   dev.release()           stops everything (the visit is over)
//   dev.helpInto(el)        fills el with the per-browser help (#dc-help,
//                           #ringing-help: data-browser = the detected one)
// window.consult.devices: {state, camera, microphone, gum (getUserMedia
// calls of this page), level (0..100, current), levelMax, sound (test
// sounds played), readiness (the last body sent), warm (what the last
// warm() did: 'kept' nothing to open, 'not_granted', 'opened', 'failed';
// '' before)} for tests.
// #device-check has data-state invite | asking | check | done | skipped |
// unsupported and data-camera / data-microphone (the result).
import { t } from './i18n.mjs';
import { audio, unlockAudio } from './sound.mjs';
import { stopStream } from './media.mjs';

const KINDS = { camera: 'video', microphone: 'audio' };
const LEVEL_MS = 100;

/** 'blocked' for a refused permission, 'missing' for anything else. */
export function classify(e) {
  const n = e && e.name;
  return n === 'NotAllowedError' || n === 'SecurityError' || n === 'PermissionDeniedError' ? 'blocked' : 'missing';
}

/** The browser family whose help comes first: ios, android, firefox, chrome. */
export function browserFamily(ua = navigator.userAgent, touch = navigator.maxTouchPoints || 0) {
  if (/iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && touch > 1)) return 'ios';
  if (/Android/.test(ua)) return 'android';
  if (/Firefox\//.test(ua)) return 'firefox';
  return 'chrome';
}

async function permState(kind) {
  try {
    const p = await navigator.permissions.query({ name: kind });
    return p.state;
  } catch (e) {
    return '';
  }
}

const live = (tr) => !!tr && tr.readyState === 'live';

export function deviceCheck(page) {
  const $ = (id) => document.getElementById(id);
  const { consult } = page;
  const stored = () => page.stored;
  const hook = consult.devices = {
    state: 'hidden', camera: 'unchecked', microphone: 'unchecked', gum: 0, level: 0, levelMax: 0, sound: 0, readiness: null,
    warm: '',
  };
  let kept = null;             // the granted stream (tracks disabled outside the check)
  let state = 'hidden';
  let shown = false;
  let levelTimer = null;
  let meter = null;            // {source, analyser, data}
  let soundEl = null;
  let busy = false;

  const result = { camera: 'unchecked', microphone: 'unchecked' };
  const prefs = () => stored().devices || (stored().devices = {});

  function restore() {
    const r = stored().readiness;
    if (r && typeof r === 'object') {
      result.camera = r.camera || 'unchecked';
      result.microphone = r.microphone || 'unchecked';
    }
  }

  // ---- getUserMedia ------------------------------------------------------------
  async function gum(constraints) {
    hook.gum += 1;
    return navigator.mediaDevices.getUserMedia(constraints);
  }

  function constraint(kind, usePrefs) {
    const id = usePrefs ? prefs()[kind] : '';
    if (kind === 'camera') {
      const c = { width: { ideal: 1280 }, height: { ideal: 720 } };
      if (id) c.deviceId = { exact: id }; else c.facingMode = 'user';
      return c;
    }
    return id ? { deviceId: { exact: id } } : true;
  }

  /**
   * Asks for the kinds in `want` ({camera, microphone} booleans) in one
   * request (one prompt); if it fails, finds out which kind failed without
   * prompting again for a refused one. -> {stream, camera, microphone}
   */
  async function acquire(want) {
    const out = { stream: new MediaStream(), camera: null, microphone: null };
    const kinds = Object.keys(KINDS).filter((k) => want[k]);
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      for (const k of kinds) out[k] = 'missing';
      return out;
    }
    const ask = async (ks, usePrefs) => {
      const c = {};
      for (const k of Object.keys(KINDS)) c[KINDS[k]] = ks.includes(k) ? constraint(k, usePrefs) : false;
      return gum(c);
    };
    const take = (s) => { for (const tr of s.getTracks()) out.stream.addTrack(tr); };
    const one = async (ks) => {
      try {
        return await ask(ks, true);
      } catch (e) {
        // a chosen device that is gone: the default one
        if (e && e.name === 'OverconstrainedError' && ks.some((k) => prefs()[k])) {
          for (const k of ks) delete prefs()[k];
          return ask(ks, false);
        }
        throw e;
      }
    };
    let first;
    try {
      take(await one(kinds));
      for (const k of kinds) out[k] = 'ok';
      return out;
    } catch (e) {
      first = classify(e);
    }
    if (kinds.length === 1) { out[kinds[0]] = first; return out; }
    for (const k of kinds) {
      // refused: ask alone only what the browser says is granted (no second prompt)
      if (first === 'blocked' && (await permState(k)) !== 'granted') { out[k] = 'blocked'; continue; }
      try {
        take(await one([k]));
        out[k] = 'ok';
      } catch (e) {
        out[k] = classify(e);
      }
    }
    return out;
  }

  /** Puts the tracks of s into the kept stream (replacing those of the same kind). */
  function keep(s, enabled) {
    if (!kept) kept = new MediaStream();
    for (const tr of s.getTracks()) {
      for (const old of kept.getTracks().filter((o) => o.kind === tr.kind)) { old.stop(); kept.removeTrack(old); }
      tr.enabled = enabled;
      tr.addEventListener('ended', () => onEnded(tr));
      kept.addTrack(tr);
    }
  }

  function onEnded(tr) {
    if (!kept || !kept.getTracks().includes(tr)) return;
    kept.removeTrack(tr);
    const kind = tr.kind === 'video' ? 'camera' : 'microphone';
    if (result[kind] === 'ok') setResult({ [kind]: 'missing' });
    render();
  }

  const track = (kind) => (kept ? kept.getTracks().find((tr) => tr.kind === KINDS[kind] && live(tr)) : null) || null;

  // ---- result and readiness ------------------------------------------------------
  function setResult(r, later = false) {
    let changed = false;
    for (const k of Object.keys(KINDS)) {
      if (r[k] && r[k] !== result[k]) { result[k] = r[k]; changed = true; }
    }
    hook.camera = result.camera;
    hook.microphone = result.microphone;
    stored().readiness = { ...result };
    page.save();
    // later: in a task of its own, behind the request the caller sends now
    if (changed) { if (later) setTimeout(sendReadiness, 0); else sendReadiness(); }
  }

  function sendReadiness() {
    if (result.camera === 'unchecked' && result.microphone === 'unchecked') return;
    const c = page.client;
    const s = consult.state;
    if (!c || consult.signalling !== 'up' || (s !== 'waiting' && s !== 'ringing')) return;
    const body = { request: 'readiness', camera: result.camera, microphone: result.microphone };
    hook.readiness = body;
    c.request(body).catch(() => { /* an older server, or not waiting any more */ });
  }

  async function joined() {
    restore();
    hook.camera = result.camera;
    hook.microphone = result.microphone;
    // a reload: the stream is gone; a permission withdrawn meanwhile says so
    if (!kept && navigator.permissions) {
      for (const k of Object.keys(KINDS)) {
        if (result[k] === 'ok' && (await permState(k)) === 'denied') result[k] = 'blocked';
      }
    }
    sendReadiness();
    if (state === 'hidden' || state === 'invite') {
      const st = stored().check;
      setState(st === 'done' ? 'done' : st === 'skipped' ? 'skipped' : 'invite');
    }
  }

  // ---- the check ---------------------------------------------------------------
  async function start() {
    if (busy) return;
    busy = true;
    unlockAudio();            // this tap also unlocks WebAudio for the meter
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      busy = false;
      setResult({ camera: 'missing', microphone: 'missing' });
      setState('unsupported');
      return;
    }
    setState('asking');
    try {
      const want = { camera: !track('camera'), microphone: !track('microphone') };
      if (want.camera || want.microphone) {
        const r = await acquire(want);
        keep(r.stream, true);
        setResult(r);
      }
      if (!shown) {
        // a call came meanwhile: the result counts, the preview waits
        stored().check = 'done';
        page.save();
        pause();
        setState('done');
        return;
      }
      for (const tr of kept ? kept.getTracks() : []) tr.enabled = true;
      setState('check');
      await fillSelects();
    } finally {
      busy = false;
    }
  }

  function finish() {
    stored().check = 'done';
    page.save();
    pause();
    setState('done');
  }

  function later() {
    stored().check = 'skipped';
    page.save();
    pause();
    setState('skipped');
  }

  /** Preview and meter off, tracks disabled (the stream stays for the call). */
  function pause() {
    stopMeter();
    const v = $('dc-preview');
    if (v.srcObject) v.srcObject = null;
    for (const tr of kept ? kept.getTracks() : []) tr.enabled = false;
  }

  // one device of a kind chosen in its select
  async function choose(kind, id) {
    if (busy) return;
    busy = true;
    try {
      prefs()[kind] = id;
      page.save();
      if (track(kind) && track(kind).getSettings().deviceId === id) return;
      const r = await acquire({ [kind]: true });
      keep(r.stream, true);
      setResult({ [kind]: r[kind] });
      await fillSelects();
    } finally {
      busy = false;
      render();
    }
  }

  async function fillSelects() {
    let list = [];
    try { list = await navigator.mediaDevices.enumerateDevices(); } catch (e) { list = []; }
    fill('dc-camera', list.filter((d) => d.kind === 'videoinput'), 'camera', track('camera'));
    fill('dc-microphone', list.filter((d) => d.kind === 'audioinput'), 'microphone', track('microphone'));
    const outs = list.filter((d) => d.kind === 'audiooutput');
    const canSink = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
    $('dc-speaker-row').hidden = !(canSink && outs.length > 1);
    if (canSink && outs.length > 1) fill('dc-speaker', outs, 'speaker', null);
    render();
  }

  function fill(id, devs, kind, tr) {
    const sel = $(id);
    const current = tr ? tr.getSettings().deviceId : prefs()[kind] || '';
    const opts = devs.filter((d) => d.deviceId).map((d, i) => {
      const o = document.createElement('option');
      o.value = d.deviceId;
      o.textContent = d.label || t('patient.device.unnamed', { kind: t('patient.device.' + kind), n: i + 1 });
      o.selected = d.deviceId === current;
      return o;
    });
    sel.replaceChildren(...opts);
    sel.disabled = opts.length < 2 && kind !== 'speaker';
    sel.closest('.dc-row').hidden = opts.length === 0;
  }

  // ---- level meter ---------------------------------------------------------------
  function startMeter() {
    stopMeter();
    const tr = track('microphone');
    const ctx = audio();
    if (!tr || !ctx) return;
    try {
      const source = ctx.createMediaStreamSource(new MediaStream([tr]));
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 1024;
      source.connect(analyser);
      meter = { source, analyser, data: new Uint8Array(analyser.fftSize) };
    } catch (e) {
      meter = null;
      return;
    }
    levelTimer = setInterval(sampleLevel, LEVEL_MS);
  }

  function sampleLevel() {
    if (!meter) return;
    meter.analyser.getByteTimeDomainData(meter.data);
    let sum = 0;
    for (const v of meter.data) sum += ((v - 128) / 128) ** 2;
    const rms = Math.sqrt(sum / meter.data.length);
    const level = Math.min(100, Math.round(rms * 400));
    hook.level = level;
    hook.levelMax = Math.max(hook.levelMax, level);
    const m = $('dc-level');
    m.value = level;
    m.dataset.level = String(level);
  }

  function stopMeter() {
    clearInterval(levelTimer);
    levelTimer = null;
    if (meter) {
      try { meter.source.disconnect(); } catch (e) { /* gone */ }
      meter = null;
    }
    hook.level = 0;
    $('dc-level').value = 0;
    $('dc-level').dataset.level = '0';
  }

  // ---- test sound ----------------------------------------------------------------
  // A short three-tone chime as a WAV in an <audio> element: it plays on the
  // chosen output (setSinkId), like the doctor's voice later.
  function chimeUrl() {
    const rate = 16000;
    const tones = [[660, 0, 0.22], [880, 0.28, 0.22], [990, 0.56, 0.4]];
    const n = Math.round(rate * 1.05);
    const buf = new ArrayBuffer(44 + n * 2);
    const v = new DataView(buf);
    const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
    str(0, 'RIFF'); v.setUint32(4, 36 + n * 2, true); str(8, 'WAVE'); str(12, 'fmt ');
    v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
    v.setUint32(24, rate, true); v.setUint32(28, rate * 2, true); v.setUint16(32, 2, true); v.setUint16(34, 16, true);
    str(36, 'data'); v.setUint32(40, n * 2, true);
    for (let i = 0; i < n; i++) {
      const s = i / rate;
      let x = 0;
      for (const [f, at, len] of tones) {
        if (s >= at && s < at + len) x += Math.sin(2 * Math.PI * f * (s - at)) * Math.min(1, (at + len - s) * 20, (s - at) * 50);
      }
      v.setInt16(44 + i * 2, Math.round(x * 0.3 * 32767), true);
    }
    return URL.createObjectURL(new Blob([buf], { type: 'audio/wav' }));
  }

  async function playSound() {
    if (!soundEl) { soundEl = new Audio(); soundEl.src = chimeUrl(); }
    const sink = prefs().speaker || '';
    try {
      if (typeof soundEl.setSinkId === 'function' && soundEl.sinkId !== sink) await soundEl.setSinkId(sink);
    } catch (e) { /* the default output */ }
    soundEl.currentTime = 0;
    try {
      await soundEl.play();
      hook.sound += 1;
      $('dc-sound-hint').hidden = false;
    } catch (e) {
      $('dc-sound-hint').hidden = false;
    }
  }

  // ---- the call's media ------------------------------------------------------------
  /**
   * The call's stream: clones of the kept tracks (enabled), after asking for
   * what is not there (accept is a tap: a prompt is allowed). audioOnly: no
   * camera is asked for. The result updates the readiness (sent in a task
   * of its own: the caller's `accept` goes first).
   */
  async function callMedia({ audioOnly = false } = {}) {
    if (warming) await warming;
    // what warm() opened belongs to the call now; the camera of a call
    // without it is closed (no camera light for a call without video)
    if (warmed) {
      const upd = {};
      for (const tr of warmed.tracks) {
        const k = tr.kind === 'video' ? 'camera' : 'microphone';
        if (k === 'camera' && audioOnly) drop(tr); else if (live(tr)) upd[k] = 'ok';
      }
      warmed = null;
      setResult(upd, true);      // `readiness` after `accept`, not ahead of it
    }
    const want = { microphone: !track('microphone'), camera: !audioOnly && !track('camera') };
    if (want.microphone || want.camera) {
      const r = await acquire(want);
      keep(r.stream, false);
      const upd = {};
      for (const k of Object.keys(KINDS)) if (want[k]) upd[k] = r[k];
      setResult(upd, true);
    }
    const tracks = [track('microphone'), audioOnly ? null : track('camera')].filter(Boolean);
    const stream = tracks.length ? new MediaStream(tracks.map((tr) => { const c = tr.clone(); c.enabled = true; return c; })) : null;
    return { stream, camera: result.camera, microphone: result.microphone };
  }

  // ---- ringing: open what is granted before the tap ------------------------------
  let warming = null;          // warm() under way
  let warmed = null;           // {tracks}: opened by warm(), not yet used by a call

  function warm({ onGranted = () => {} } = {}) {
    const can = navigator.mediaDevices && navigator.mediaDevices.getUserMedia && navigator.permissions;
    const granted = () => { try { onGranted(); } catch (e) { console.error('onGranted failed', e); } };
    if (!warming && !warmed && !busy && can) warming = (async () => {
      const want = { microphone: !track('microphone'), camera: !track('camera') };
      if (!want.microphone && !want.camera) { hook.warm = 'kept'; granted(); return; }
      const states = await Promise.all(Object.keys(KINDS).filter((k) => want[k]).map(permState));
      if (states.some((st) => st !== 'granted')) { hook.warm = 'not_granted'; return; }
      const asked = acquire(want);   // getUserMedia is asked (synchronously) before onGranted runs
      granted();
      const r = await asked;
      const tracks = r.stream.getTracks();
      if (!tracks.length) { hook.warm = 'failed'; return; }
      keep(r.stream, false);
      warmed = { tracks };
      hook.warm = 'opened';
    })().catch(() => { hook.warm = 'failed'; }).finally(() => { warming = null; });
    return Promise.resolve(warming).then(() => !!warmed || hook.warm === 'kept');
  }

  function drop(tr) {
    tr.stop();
    if (kept) kept.removeTrack(tr);
  }

  async function cool() {
    if (warming) await warming;
    if (!warmed) return;
    for (const tr of warmed.tracks) drop(tr);
    warmed = null;
  }

  function release() {
    warmed = null;
    pause();
    stopStream(kept);
    kept = null;
    setState('hidden');
  }

  // ---- view --------------------------------------------------------------------
  function setState(s) {
    state = s;
    hook.state = s;
    render();
  }

  function show(on) {
    shown = on;
    if (!on && (state === 'check' || state === 'asking')) {
      // the call comes (or the page leaves the waiting room): the stream stays
      stored().check = 'done';
      page.save();
      pause();
      if (state === 'check') state = hook.state = 'done';
    }
    render();
  }

  function statusText(kind) {
    return t('patient.device.' + kind + '.' + result[kind]);
  }

  function render() {
    const card = $('device-check');
    card.hidden = !shown || state === 'hidden';
    card.dataset.state = state;
    card.dataset.camera = result.camera;
    card.dataset.microphone = result.microphone;
    const inCheck = state === 'check';
    $('dc-states').hidden = !inCheck;
    $('dc-invite').hidden = state !== 'invite';
    $('dc-asking').hidden = state !== 'asking';
    $('dc-panel').hidden = !inCheck;
    $('dc-summary').hidden = !(state === 'done' || state === 'skipped' || state === 'unsupported');
    const anyBlocked = result.camera === 'blocked' || result.microphone === 'blocked';
    const anyMissing = result.camera === 'missing' || result.microphone === 'missing';
    const after = inCheck || state === 'done' || state === 'skipped';
    $('dc-help').hidden = !(anyBlocked && after);
    $('dc-missing').hidden = !(anyMissing && after);
    for (const k of Object.keys(KINDS)) {
      const el = $('dc-' + k + '-state');
      el.dataset.state = result[k];
      el.textContent = statusText(k);
    }
    // preview and meter only while checking
    const cam = inCheck ? track('camera') : null;
    const v = $('dc-preview');
    $('dc-preview-box').hidden = !cam;
    if (cam) {
      if (!v.srcObject || !v.srcObject.getTracks().includes(cam)) v.srcObject = new MediaStream([cam]);
      const p = v.play();
      if (p && p.catch) p.catch(() => {});
    }
    const mic = inCheck ? track('microphone') : null;
    $('dc-level-row').hidden = !mic;
    if (mic && !meter) startMeter();
    if (!mic && meter) stopMeter();
    $('dc-sound-row').hidden = !inCheck;
    $('dc-retry').hidden = !(inCheck && (result.camera !== 'ok' || result.microphone !== 'ok'));
    $('dc-done').textContent = t(result.camera === 'ok' && result.microphone === 'ok' ? 'patient.device.done' : 'patient.device.continue');
    // the summary line
    const known = result.camera !== 'unchecked' || result.microphone !== 'unchecked';
    let sum = '';
    if (state === 'unsupported') sum = t('patient.device.unsupported');
    else if (state === 'done' || (state === 'skipped' && known)) {
      sum = result.camera === 'ok' && result.microphone === 'ok' ? t('patient.device.ready')
        : statusText('camera') + ' · ' + statusText('microphone');
    } else if (state === 'skipped') sum = t('patient.device.skipped');
    $('dc-summary-text').textContent = sum;
    $('dc-again').textContent = t(state === 'skipped' ? 'patient.device.title' : 'patient.device.again');
    $('dc-again').hidden = state === 'unsupported';
  }

  /** Fills el with the help per browser: the patient's own one open, the others folded. */
  function helpInto(el) {
    const fam = browserFamily();
    el.dataset.browser = fam;
    const head = document.createElement('p');
    head.className = 'dc-help-title';
    head.textContent = t('patient.device.help.title');
    const items = [fam, ...['chrome', 'firefox', 'ios', 'android'].filter((x) => x !== fam)].map((b) => {
      const det = document.createElement('details');
      det.dataset.browser = b;
      det.open = b === fam;
      const sum = document.createElement('summary');
      sum.textContent = t('patient.device.help.' + b + '.title');
      const p = document.createElement('p');
      p.textContent = t('patient.device.help.' + b);
      det.append(sum, p);
      return det;
    });
    const after = document.createElement('p');
    after.className = 'small';
    after.textContent = t('patient.device.help.after');
    el.replaceChildren(head, ...items, after);
  }

  function wire() {
    restore();
    hook.camera = result.camera;
    hook.microphone = result.microphone;
    $('dc-start').addEventListener('click', start);
    $('dc-retry').addEventListener('click', () => {
      // ask again only for what is not working; a kept working track stays
      start();
    });
    $('dc-again').addEventListener('click', start);
    $('dc-later').addEventListener('click', later);
    $('dc-done').addEventListener('click', finish);
    $('dc-sound').addEventListener('click', playSound);
    $('dc-camera').addEventListener('change', (e) => choose('camera', e.target.value));
    $('dc-microphone').addEventListener('change', (e) => choose('microphone', e.target.value));
    $('dc-speaker').addEventListener('change', (e) => { prefs().speaker = e.target.value; page.save(); });
    helpInto($('dc-help'));
  }

  return {
    wire, joined, show, render, callMedia, warm, cool, release, helpInto, sendReadiness,
    get result() { return { ...result }; },
    get sinkId() { return prefs().speaker || ''; },
    renderHelp() { helpInto($('dc-help')); },
  };
}
