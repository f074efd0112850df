// patient.mjs: the patient page (patient.html?p=<slug>#<code>).
// Contract (docs/dom.md): states form, joining, waiting, ringing, call,
// ended, error in window.consult.state; window.consult.pc is the call's
// RTCPeerConnection (the same object across ICE restarts). In a call:
// #path (data-path direct/relay), #e2e, and #call-error (data-error
// turn_auth / ice_failed / connection_lost, also kept on the closing page);
// a later offer from the doctor (ICE restart) is answered by PeerCall.
// The code is read from the URL fragment, removed from the visible URL, and
// kept in memory and sessionStorage (per practice) so a reload or a dropped
// connection rejoins with the same code and name.
// First page (before joining): practice_info and appointment_info {practice,
// code} fill #practice-name and #appt-info (#appt-time, #appt-doctor,
// #appt-opens[data-open]); while the waiting room is closed (open:false or
// join -> too_early) #start stays disabled and the code is re-checked at
// opens_at. code_invalid shows #error > #code-error with the practice phone
// as a tel: link (never saying whether the code existed) and the code field.
// An old plugin without appointment_info (unknown_request): no info box.
// #legal-terms-details / #legal-privacy-details load /legal/*.html on open.
// Forwarding mode (issue 5, forward.mjs): on the event `forward` {cause,
// e2ee} the P2P RTCPeerConnection is closed (camera/microphone stay), the
// key goes out as `signal` e2ee-key, the doctor's `forward_offer` (jsep) is
// answered through janus.js once the key is set. #verify-code shows the
// code from the DTLS fingerprints (P2P) or the keys (forward); call_ended
// no_path shows #call-error no_path. window.consult: mode ('p2p'|'forward'),
// pc (the active RTCPeerConnection), verifyCode, e2ee (E2eeSession or null).
// A join answered `internal` (the practice's server cannot write, e.g. a
// full disk) is sent again by itself after 1 s and 2 s; the third failure
// shows #error > #internal-error "... bitte rufen Sie die Praxis an: <phone>"
// (tel: link). A rejoin keeps trying after that (backoff up to 15 s) with
// the same text in #notice.
import { ConsultClient } from './janus-client.mjs';
import { t, errorText, initLangToggle, onLangChange, fmtTime, fmtDateLong } from './i18n.mjs';
import { PeerCall, getLocalMedia, iceOptions, stopStream } from './rtc.mjs';
import { Forwarder } from './forward.mjs';
import { callInfo } from './callinfo.mjs';
import { audio, unlockAudio } from './sound.mjs';

const $ = (id) => document.getElementById(id);
const consult = {
  state: 'form',
  mode: 'p2p',
  verifyCode: '',
  get pc() { return (call && call.pc) || null; },
  get e2ee() { return (call && call.session) || null; },
};
window.consult = consult;

const params = new URLSearchParams(location.search);
const slug = (params.get('p') || '').trim().toLowerCase();
const storeKey = 'consult.patient.' + slug;

let session = loadSession();          // {code, first, last, joined}
let client = null;
let call = null;
let pendingSignals = [];
let pendingKeys = [];                 // e2ee-key signals before the Forwarder exists
let iceOpts = iceOptions(null);     // from `ringing`
let connState = 'new';
let problem = null;                  // PeerCall.onProblem: null/recovering/error
let lastSeq = -1;
let ahead = null;
let appointmentAt = null;
let practice = { name: '', phone: '' };
let doctorName = '';
let backoff = 1000;
const INTERNAL_TRIES = 3;              // join answered `internal`: tries before "call the practice"
const INTERNAL_BACKOFF_MS = 1000;      // doubling: 1 s, 2 s
let rejoinTimer = null;
let fatal = false;                     // taken over / visit ended: no reconnect
let noticeKey = null;
let endedKey = 'patient.ended.text';
let muted = false;
let cameraOff = false;
let apptInfo = null;                   // appointment_info reply (first page)
let gateUntil = 0;                     // waiting room closed until (unix), 0 = open/unknown
let gateTimer = null;
let tooEarlyShown = false;             // #error shows the too_early text
let codeInvalid = false;               // #error shows #code-error
let codeCheckSeq = 0;
let checkedCode = '';                  // the code appointment_info was last asked about
const info = callInfo({ prefix: 'patient', vars: () => ({ phone: phoneSuffix() }) });

// ---- session storage -------------------------------------------------------
function loadSession() {
  try { return JSON.parse(sessionStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
}
function saveSession() {
  try { sessionStorage.setItem(storeKey, JSON.stringify(session)); } catch (e) { /* private mode */ }
}
function takeCodeFromUrl() {
  const raw = location.hash.length > 1 ? location.hash.slice(1) : '';
  if (!raw) return;
  let code = raw;
  try { code = decodeURIComponent(raw); } catch (e) { /* keep raw */ }
  code = code.trim().slice(0, 32);
  if (code && code !== session.code) {
    session = { code };   // a new code starts a new session
  }
  saveSession();
  history.replaceState(null, '', location.pathname + location.search);
}

// ---- view ------------------------------------------------------------------
function setState(s) {
  consult.state = s;
  document.body.dataset.state = s;
  $('join-form').hidden = !(s === 'form' || s === 'joining');
  $('start').disabled = s === 'joining' || gateUntil > 0;
  $('appt-info').hidden = !(apptInfo && (s === 'form' || s === 'joining'));
  $('waiting').hidden = s !== 'waiting';
  $('leave').hidden = s !== 'waiting';
  $('ringing').hidden = s !== 'ringing';
  $('call').hidden = s !== 'call';
  $('ended').hidden = s !== 'ended';
  $('terms').hidden = !(s === 'form' || s === 'joining');
  if (s !== 'call' && s !== 'ended' && info.error) info.setError(null);
  if (s !== 'ringing') stopRing();
  keepAwake(s === 'waiting' || s === 'ringing' || s === 'call');
  document.title = (s === 'ringing' ? '📞 ' : '') + t('app.title');
}

function showError(text) {
  codeInvalid = false;
  tooEarlyShown = false;
  $('error').textContent = text || '';
  $('error').hidden = !text;
}

function showNotice(key, vars) {
  noticeKey = key ? [key, vars] : null;
  $('notice').textContent = key ? t(key, vars) : '';
  $('notice').hidden = !key;
}

function renderPractice() {
  $('practice-name').textContent = practice.name || '';
}

function renderAhead() {
  const box = $('waiting');
  if (ahead === null) return;
  box.dataset.ahead = String(ahead);
  $('ahead-text').textContent = ahead === 0 ? t('patient.ahead.0')
    : ahead === 1 ? t('patient.ahead.1') : t('patient.ahead.n', { n: ahead });
  $('appointment-text').textContent = appointmentAt ? t('patient.appointment', { time: fmtTime(appointmentAt) }) : '';
}

function renderAll() {
  renderPractice();
  renderFirstPage();
  renderAhead();
  if (noticeKey) showNotice(noticeKey[0], noticeKey[1]);
  $('ringing-by').textContent = doctorName ? t('patient.ringing.by', { doctor: doctorName }) : '';
  $('ended-text').textContent = t(endedKey, { phone: phoneSuffix() });
  info.render();
  renderStatus();
  $('mute').textContent = t(muted ? 'common.unmute' : 'common.mute');
  $('camera').textContent = t(cameraOff ? 'common.camera.on' : 'common.camera.off');
}

function phoneSuffix() {
  return practice.phone ? ': ' + practice.phone : '';
}

// ---- ring tone (WebAudio, no file) and wake lock --------------------------
let ringTimer = null;


function ringBurst() {
  const audioCtx = audio();
  if (!audioCtx) return;
  const now = audioCtx.currentTime;
  for (const start of [0, 0.55]) {
    const gain = audioCtx.createGain();
    gain.gain.setValueAtTime(0, now + start);
    gain.gain.linearRampToValueAtTime(0.18, now + start + 0.03);
    gain.gain.setValueAtTime(0.18, now + start + 0.37);
    gain.gain.linearRampToValueAtTime(0, now + start + 0.4);
    gain.connect(audioCtx.destination);
    for (const f of [440, 480]) {
      const osc = audioCtx.createOscillator();
      osc.type = 'sine';
      osc.frequency.value = f;
      osc.connect(gain);
      osc.start(now + start);
      osc.stop(now + start + 0.42);
    }
  }
  const ua = navigator.userActivation;
  if (navigator.vibrate && (!ua || ua.hasBeenActive)) navigator.vibrate([400, 150, 400]);
}

function startRing() {
  stopRing();
  unlockAudio();
  ringBurst();
  ringTimer = setInterval(ringBurst, 3000);
}

function stopRing() {
  if (!ringTimer) return;
  clearInterval(ringTimer);
  ringTimer = null;
  const ua = navigator.userActivation;
  if (navigator.vibrate && (!ua || ua.hasBeenActive)) navigator.vibrate(0);
}

let wakeLock = null;
let wantAwake = false;
async function keepAwake(on) {
  wantAwake = on;
  if (!('wakeLock' in navigator)) return;
  if (on && !wakeLock && document.visibilityState === 'visible') {
    try {
      wakeLock = await navigator.wakeLock.request('screen');
      wakeLock.addEventListener('release', () => { wakeLock = null; });
    } catch (e) { wakeLock = null; }
  } else if (!on && wakeLock) {
    const w = wakeLock;
    wakeLock = null;
    w.release().catch(() => {});
  }
}
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && wantAwake) keepAwake(true);
});

// ---- connection ------------------------------------------------------------
async function ensureClient() {
  if (client && client.connected) return client;
  const c = new ConsultClient({ destroyOnUnload: false });
  await c.connect();
  c.on('*', (ev, jsep) => { if (c === client) onEvent(ev, jsep); });
  c.on('disconnected', () => { if (c === client) onDisconnected(); });
  client = c;
  return c;
}

function onDisconnected() {
  client = null;
  if (fatal) return;
  const s = consult.state;
  if (s === 'waiting' || s === 'ringing' || s === 'call' || s === 'joining') {
    closeCall();
    setState('waiting');
    showNotice('patient.reconnecting');
    scheduleRejoin();
  }
}

function scheduleRejoin() {
  clearTimeout(rejoinTimer);
  rejoinTimer = setTimeout(async () => {
    try {
      await join(true);
      backoff = 1000;
    } catch (e) {
      if (e && (e.error === 'transport' || e.error === 'disconnected' || e.error === 'internal' || e.error === 'rate_limited')) {
        backoff = Math.min(backoff * 2, 15000);
        if (e.error === 'rate_limited' && e.retry_after) backoff = Math.max(backoff, e.retry_after * 1000);
        scheduleRejoin();
      }
    }
  }, backoff);
}

async function loadPractice() {
  if (!slug) { showError(t('patient.missing.practice')); $('start').disabled = true; return; }
  let codeCheck = Promise.resolve();
  try {
    const c = await ensureClient();
    if (session.code && !session.joined) codeCheck = checkCode(session.code);   // in parallel
    const info = await c.request({ request: 'practice_info', practice: slug });
    practice = { name: info.name || practice.name || '', phone: info.phone || practice.phone || '' };
  } catch (e) {
    if (e.error === 'not_found' || e.error === 'invalid_field') showError(t('err.practice_not_found'));
    else showError(errorText(e));
  }
  await codeCheck;
  renderPractice();
  renderFirstPage();
}

// ---- first page: appointment info, waiting-room gate, code errors ----------
// appointment_info for `code`; renders #appt-info or the code error.
async function checkCode(code) {
  clearTimeout(gateTimer);
  checkedCode = code;
  const seq = ++codeCheckSeq;
  let r;
  try {
    const c = await ensureClient();
    r = await c.request({ request: 'appointment_info', practice: slug, code });
  } catch (e) {
    if (seq !== codeCheckSeq) return;
    if (e.error === 'code_invalid') {
      apptInfo = null;
      setGate(0);
      showCodeInvalid();
    } else if (e.error === 'rate_limited') {
      showError(errorText(e));
      gateTimer = setTimeout(() => checkCode(code), Math.max(5, e.retry_after || 60) * 1000);
    } else if (gateUntil && Date.now() / 1000 >= gateUntil) {
      setGate(0);                 // cannot ask (old plugin, transport): join will tell
    }
    // unknown_request (plugin without appointment_info) and the rest: no info box
    renderFirstPage();
    return;
  }
  if (seq !== codeCheckSeq) return;
  apptInfo = r;
  if (r.practice) {
    practice = { name: r.practice.name || practice.name, phone: r.practice.phone || practice.phone };
    renderPractice();
  }
  if (codeInvalid) showError('');
  setGate(r.open === false && r.opens_at ? r.opens_at : 0);
  renderFirstPage();
}

// Closes the start button until `until` (unix; 0 opens) and re-checks then.
function setGate(until) {
  clearTimeout(gateTimer);
  gateUntil = until || 0;
  $('start').disabled = consult.state === 'joining' || gateUntil > 0;
  if (!gateUntil) {
    if (tooEarlyShown) showError('');
    return;
  }
  const left = gateUntil * 1000 - Date.now();
  const ms = left <= 0 ? 15000 : Math.min(left + 500, 30 * 60 * 1000);
  gateTimer = setTimeout(() => {
    if (consult.state === 'form' && checkedCode) checkCode(checkedCode);
    else if (Date.now() / 1000 >= gateUntil) setGate(0);
  }, ms);
}

function renderFirstPage() {
  const a = apptInfo;
  $('appt-info').hidden = !(a && (consult.state === 'form' || consult.state === 'joining'));
  if (a) {
    $('appt-time').textContent = a.appointment_at
      ? t('patient.appt.when', { date: fmtDateLong(a.appointment_at), time: fmtTime(a.appointment_at) }) : '';
    $('appt-doctor').hidden = !a.doctor;
    $('appt-doctor').textContent = a.doctor ? t('patient.appt.doctor', { doctor: a.doctor }) : '';
  }
  const opens = gateUntil || (a && a.open === false ? a.opens_at : 0);
  const el = $('appt-opens');
  el.dataset.open = String(!opens);
  el.textContent = opens ? t('patient.appt.opens', { date: fmtDateLong(opens), time: fmtTime(opens) }) : t('patient.appt.open');
  if (codeInvalid) showCodeInvalid();
  else if (tooEarlyShown && gateUntil) showTooEarly(gateUntil);
}

// The one message for unknown, cancelled, expired and foreign codes.
function showCodeInvalid() {
  const span = document.createElement('span');
  span.id = 'code-error';
  span.dataset.testid = 'code-error';
  span.append(t('patient.code.invalid'));
  if (practice.phone) {
    span.append(': ');
    const a = document.createElement('a');
    a.href = 'tel:' + practice.phone.replace(/[^0-9+]/g, '');
    a.textContent = practice.phone;
    span.append(a);
  }
  span.append('.');
  tooEarlyShown = false;
  codeInvalid = true;
  $('error').replaceChildren(span);
  $('error').hidden = false;
  if ($('code-row').hidden) {            // let the patient type another code
    $('code-row').hidden = false;
    if (!$('code-input').value && session.code) $('code-input').value = session.code;
  }
}

// The server failed INTERNAL_TRIES times in a row: ask to phone the practice.
function showCallPractice() {
  const span = document.createElement('span');
  span.id = 'internal-error';
  span.dataset.testid = 'internal-error';
  span.append(t('patient.internal.call'));
  if (practice.phone) {
    span.append(': ');
    const a = document.createElement('a');
    a.href = 'tel:' + practice.phone.replace(/[^0-9+]/g, '');
    a.textContent = practice.phone;
    span.append(a);
  }
  span.append('.');
  tooEarlyShown = false;
  codeInvalid = false;
  $('error').replaceChildren(span);
  $('error').hidden = false;
}

// Sends body; an `internal` answer is sent again after a short, doubling
// pause, INTERNAL_TRIES times in all (the store may be back meanwhile).
async function requestRetrying(c, body) {
  for (let i = 1; ; i++) {
    try {
      return await c.request(body);
    } catch (e) {
      if (!e || e.error !== 'internal' || i >= INTERNAL_TRIES || client !== c) throw e;
      await new Promise((r) => setTimeout(r, INTERNAL_BACKOFF_MS * 2 ** (i - 1)));
    }
  }
}

function showTooEarly(opensAt) {
  showError(t('patient.too.early', { date: fmtDateLong(opensAt), time: fmtTime(opensAt) }));
  tooEarlyShown = true;
}

// The join failed: show why on the first page.
function showJoinError(e) {
  if (e.error === 'code_invalid') {
    apptInfo = null;
    setGate(0);
    showCodeInvalid();
  } else if (e.error === 'too_early' && e.data && typeof e.data.opens_at === 'number') {
    if (apptInfo) apptInfo = { ...apptInfo, open: false, opens_at: e.data.opens_at };
    setGate(e.data.opens_at);
    showTooEarly(e.data.opens_at);
  } else if (e.error === 'internal') {
    showCallPractice();
  } else {
    showError(errorText(e, { phone: phoneSuffix() }));
  }
  renderFirstPage();
}

// Full legal texts inside the page: fetched from /legal/ on first open.
async function loadLegal(det) {
  if (!det.open || det.dataset.loaded) return;
  det.dataset.loaded = 'loading';
  const box = det.querySelector('.legal-text');
  box.textContent = t('patient.legal.loading');
  try {
    const res = await fetch(det.dataset.src, { credentials: 'omit', cache: 'no-cache' });
    if (!res.ok) throw new Error('http ' + res.status);
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const main = doc.querySelector('main') || doc.body;
    main.querySelectorAll('script, style, link, meta, iframe, object, embed, form, img, header, footer, nav').forEach((el) => el.remove());
    for (const el of main.querySelectorAll('*')) {
      for (const a of [...el.attributes]) {
        if (/^on/i.test(a.name) || a.name === 'id' || a.name === 'style' || (a.name === 'href' && /^\s*javascript:/i.test(a.value))) el.removeAttribute(a.name);
      }
      if (el.tagName === 'A') { el.target = '_blank'; el.rel = 'noopener'; }
    }
    box.replaceChildren(...[...main.childNodes].map((n) => document.importNode(n, true)));
    det.dataset.loaded = 'yes';
  } catch (e) {
    box.textContent = t('patient.legal.failed');
    delete det.dataset.loaded;
  }
}

// join: auto = silent rejoin (reconnect / reload)
async function join(auto) {
  const c = await ensureClient();
  if (!auto) setState('joining');
  let r;
  try {
    r = await requestRetrying(c, {
      request: 'join', practice: slug, code: session.code,
      first_name: session.first, last_name: session.last, accept_terms: true,
    });
  } catch (e) {
    if (e.error === 'transport' || e.error === 'disconnected') {
      if (client === c) { c.destroy(); client = null; }
    }
    if (auto && e.error === 'internal') showNotice('patient.internal.notice', { phone: phoneSuffix() });
    if (!auto || !(e.error === 'transport' || e.error === 'disconnected' || e.error === 'internal' || e.error === 'rate_limited')) {
      if (auto) { session.joined = false; saveSession(); }
      setState('form');
      showNotice(null);
      showJoinError(e);
    }
    throw e;
  }
  session.joined = true;
  saveSession();
  clearTimeout(gateTimer);
  if (r.practice) { practice = { name: r.practice.name || practice.name, phone: r.practice.phone || practice.phone }; renderPractice(); }
  appointmentAt = r.appointment_at || null;
  lastSeq = -1;
  applyPosition(r.ahead, r.seq);
  showError('');
  if (auto || noticeKey && noticeKey[0] === 'patient.reconnecting') showNotice(null);
  if (consult.state !== 'ringing' && consult.state !== 'call') setState('waiting');
  return r;
}

function applyPosition(n, seq) {
  if (typeof n !== 'number') return;
  if (typeof seq === 'number') {
    if (seq <= lastSeq) return;
    lastSeq = seq;
  }
  ahead = n;
  renderAhead();
}

// ---- events ----------------------------------------------------------------
function onEvent(ev, jsep) {
  switch (ev.event) {
    case 'position':
      applyPosition(ev.ahead, ev.seq);
      break;
    case 'ringing':
      iceOpts = iceOptions(ev);
      info.setError(null);
      doctorName = ev.doctor || '';
      pendingSignals = [];
      showNotice(null);
      showError('');
      $('ringing-by').textContent = doctorName ? t('patient.ringing.by', { doctor: doctorName }) : '';
      $('accept-call').disabled = false;
      $('decline-call').disabled = false;
      setState('ringing');
      startRing();
      $('accept-call').focus();
      break;
    case 'ring_cancelled':
      if (consult.state === 'ringing' || consult.state === 'call') {
        closeCall();
        setState('waiting');
        showNotice('patient.ring.cancelled');
      }
      break;
    case 'signal':
      if (ev.type === 'e2ee-key' && !(call instanceof Forwarder)) pendingKeys.push(ev);
      else if (call) call.handleSignal(ev);
      else pendingSignals.push(ev);
      break;
    case 'forward':
      startForward(ev);
      break;
    case 'forward_offer':
      if (call instanceof Forwarder) call.handleEvent(ev, jsep);
      break;
    case 'doctor_left':
      closeCall();
      setState('waiting');
      showNotice('patient.doctor.left');
      break;
    case 'call_ended': {
      const wasBroken = problem === 'recovering' || problem === 'connection_lost';
      closeCall();
      if (ev.reason === 'cancelled') finish('error', 'patient.visit.cancelled');
      else if (ev.reason === 'patient_hangup') finish('ended', 'patient.ended.self');
      else if (ev.reason === 'patient_dropped') { setState('waiting'); showNotice('patient.call.dropped'); }
      else if (ev.reason === 'no_path') {
        info.setError('no_path');
        finish('ended', 'patient.ended.no_path');
      }
      // the doctor gave up a broken connection (an older plugin says doctor_hangup)
      else if (ev.reason === 'connection_lost' || (wasBroken && ev.reason === 'doctor_hangup')) {
        info.setError('connection_lost');
        finish('ended', 'patient.ended.connection_lost');
      }
      else finish('ended', 'patient.ended.text');
      break;
    }
    case 'taken_over':
      fatal = true;
      closeCall();
      setState('error');
      showNotice(null);
      showError(t('patient.taken.over'));
      if (client) { const c = client; client = null; c.destroy(); }
      break;
    case 'visit_ended': {
      closeCall();
      const key = ev.reason === 'cancelled' ? 'patient.visit.cancelled'
        : ev.reason === 'grace_expired' ? 'patient.visit.grace_expired' : 'patient.visit.other';
      finish('error', key);
      break;
    }
    default:
      break;
  }
}

// The visit is over: forget the code, show the closing page or an error.
function finish(state, key) {
  fatal = true;
  session.joined = false;
  saveSession();
  showNotice(null);
  if (state === 'ended') {
    endedKey = key;
    $('ended-text').textContent = t(key, { phone: phoneSuffix() });
    showError('');
  } else {
    showError(t(key));
  }
  setState(state);
  if (client) { const c = client; client = null; c.destroy(); }
}

// ---- call ------------------------------------------------------------------
function closeCall() {
  clearTimeout(heldTimer);
  if (call) call.close();
  call = null;
  pendingSignals = [];
  pendingKeys = [];
  consult.mode = 'p2p';
  consult.verifyCode = '';
  info.setCode('');
  $('local-video').srcObject = null;
  $('remote-video').srcObject = null;
  info.setPath('');
}

function renderStatus() {
  let s = connState;
  // ICE is back a moment before connectionState follows: no "disturbed" blip
  if (!problem && s === 'disconnected' && call && call.pc && /^(connected|completed)$/.test(call.pc.iceConnectionState)) s = 'connected';
  let text;
  if (call instanceof Forwarder && !problem && s !== 'connected') text = t('conn.forwarding');
  else if (problem === 'recovering') text = t('conn.recovering');
  else if (problem) text = t('conn.failed');
  else if (s === 'connected') text = doctorName ? t('patient.in.call', { doctor: doctorName }) : t('conn.connected');
  else text = t('conn.' + s);
  $('call-status').textContent = text;
  $('call').dataset.problem = problem || '';
}

function onConnState(s, which) {
  if (which && which !== call) return;
  connState = s;
  renderStatus();
}

// A P2P attempt that never connected may still be rescued by forwarding
// (the doctor's page decides): hold its final error back for a while.
const FORWARD_GRACE_MS = 20000;
let heldTimer = null;

function onProblem(kind, which) {
  if (which && which !== call) return;
  clearTimeout(heldTimer);
  if (which instanceof PeerCall && !which.everConnected && (kind === 'ice_failed' || kind === 'turn_auth')
      && iceOpts.forward === 'allowed') {
    if (!which.heldUntil) which.heldUntil = Date.now() + FORWARD_GRACE_MS;
    const left = which.heldUntil - Date.now();
    if (left > 0) {
      heldTimer = setTimeout(() => { if (call === which) onProblem(kind, which); }, left);
      return;
    }
  }
  problem = kind;
  // errors stay on screen; 'recovering' and null only change the status line
  if (kind && kind !== 'recovering') info.setError(kind);
  else if (!kind && info.error) info.setError(null);
  renderStatus();
}

async function acceptCall() {
  stopRing();
  $('accept-call').disabled = true;
  $('decline-call').disabled = true;
  unlockAudio();
  let stream;
  try {
    stream = await getLocalMedia('user');
  } catch (e) {
    showError(t('common.media.denied'));
    if (client) await client.request({ request: 'decline' }).catch(() => {});
    if (consult.state === 'ringing') setState('waiting');
    return;
  }
  if (consult.state !== 'ringing' || !client) { stopStream(stream); return; }
  // with camera permission granted the device list is complete: hide the
  // switch button where only one camera exists
  navigator.mediaDevices.enumerateDevices().then((d) => {
    $('switch-camera').hidden = d.filter((x) => x.kind === 'videoinput').length < 2;
  }).catch(() => {});
  const c = client;
  muted = false;
  cameraOff = false;
  problem = null;
  info.setError(null);
  info.setPath('');
  consult.mode = 'p2p';
  consult.verifyCode = '';
  info.setCode('');
  pendingKeys = [];
  const pc = new PeerCall({
    client: c, ...iceOpts, localStream: stream, remoteVideo: $('remote-video'),
    offerer: false, facing: 'user',
    onState: (st) => onConnState(st, pc),
    onPath: (p) => { if (call === pc) info.setPath(p); },
    onProblem: (kind) => onProblem(kind, pc),
    onVerify: (code) => setVerify(code, pc),
  });
  call = pc;
  $('local-video').srcObject = stream;
  $('local-video').classList.add('mirror');
  showError('');
  onConnState('new');
  renderAll();
  setState('call');
  const queued = pendingSignals;
  pendingSignals = [];
  for (const ev of queued) call.handleSignal(ev);
  try {
    await c.request({ request: 'accept' });
  } catch (e) {
    closeCall();
    if (consult.state === 'call') setState('waiting');
    if (e.error !== 'transport' && e.error !== 'disconnected') showNotice('patient.ring.cancelled');
  }
}

function setVerify(code, which) {
  if (which !== call) return;
  consult.verifyCode = code || '';
  info.setCode(consult.verifyCode);
}

// The doctor's page gave up on P2P and the plugin forwards the call.
function startForward(ev) {
  const old = call;
  if (!(old instanceof PeerCall) || consult.state !== 'call' || !client) return;
  const e2ee = ev.e2ee !== false;
  clearTimeout(heldTimer);
  old.close({ keepTracks: true });
  problem = null;
  connState = 'new';
  info.setError(null);
  consult.mode = 'forward';
  consult.verifyCode = '';
  info.setCode('');
  info.setPath('forward', { e2ee });
  const f = new Forwarder({
    client, role: 'patient', e2ee, localStream: old.localStream, remoteVideo: $('remote-video'),
    facing: old.facing, callLostSeconds: iceOpts.callLostSeconds,
    onCode: (code) => setVerify(code, f),
    onState: (st) => onConnState(st, f),
    onProblem: (kind) => onProblem(kind, f),
  });
  call = f;
  f.setMuted(muted);
  f.setCameraOff(cameraOff);
  const keys = pendingKeys;
  pendingKeys = [];
  renderStatus();
  for (const k of keys) f.handleSignal(k);
  f.start().catch((e) => {
    console.warn('forwarding failed', e && (e.error || e.message));
    onProblem('ice_failed', f);
  });
}

async function declineCall() {
  stopRing();
  $('accept-call').disabled = true;
  $('decline-call').disabled = true;
  if (client) await client.request({ request: 'decline' }).catch(() => {});
  if (consult.state === 'ringing') {
    setState('waiting');
    showNotice('patient.declined');
  }
}

async function hangup() {
  const c = client;
  if (c) await c.request({ request: 'hangup' }).catch(() => {});
  closeCall();
  finish('ended', 'patient.ended.self');
}

async function switchCamera() {
  if (!call) return;
  const btn = $('switch-camera');
  btn.disabled = true;
  try {
    const facing = await call.switchCamera();
    const v = $('local-video');
    v.srcObject = null;
    v.srcObject = call.localStream;
    v.classList.toggle('mirror', facing === 'user');
  } catch (e) {
    showError(t('common.media.denied'));
  } finally {
    btn.disabled = false;
  }
}

// ---- wiring ----------------------------------------------------------------
function onSubmit(ev) {
  ev.preventDefault();
  showError('');
  unlockAudio();   // unlock audio on this user gesture, for the ring tone later
  const first = $('first-name').value.trim();
  const last = $('last-name').value.trim();
  if (!$('code-row').hidden) {
    const code = $('code-input').value.trim();
    if (!code) { showError(t('patient.missing.code')); $('code-input').focus(); return; }
    session.code = code.slice(0, 32);
  }
  if (!slug) { showError(t('patient.missing.practice')); return; }
  if (!session.code) { $('code-row').hidden = false; showError(t('patient.missing.code')); return; }
  if (gateUntil > Date.now() / 1000) { showTooEarly(gateUntil); return; }
  if (!first || !last) { showError(t('patient.missing.name')); (first ? $('last-name') : $('first-name')).focus(); return; }
  if (!$('accept-terms').checked) { showError(t('patient.missing.terms')); $('accept-terms').focus(); return; }
  session.first = first;
  session.last = last;
  saveSession();
  fatal = false;
  join(false).catch(() => {});
}

function onPageHide(e) {
  clearTimeout(rejoinTimer);
  const c = client;
  if (!c) return;
  const s = consult.state;
  if (!e.persisted && (s === 'waiting' || s === 'ringing' || s === 'call')) {
    c.send({ request: 'leave' });   // best effort; a reload rejoins from sessionStorage
  }
  client = null;
  c.destroy();
}

function onPageShow(e) {
  if (e.persisted && session.joined && !fatal && !client) {
    setState('waiting');
    showNotice('patient.reconnecting');
    scheduleRejoin();
  }
}

function init() {
  initLangToggle();
  onLangChange(() => { renderAll(); setState(consult.state); });
  takeCodeFromUrl();
  $('code-row').hidden = !!session.code;
  if (session.first) $('first-name').value = session.first;
  if (session.last) $('last-name').value = session.last;
  $('join-form').addEventListener('submit', onSubmit);
  $('code-input').addEventListener('change', () => {
    const v = $('code-input').value.trim().slice(0, 32);
    if (slug && v.replace(/[\s-]/g, '').length === 12 && consult.state === 'form') checkCode(v);
  });
  for (const det of document.querySelectorAll('details.legal')) {
    det.addEventListener('toggle', () => loadLegal(det));
  }
  $('accept-call').addEventListener('click', acceptCall);
  $('decline-call').addEventListener('click', declineCall);
  $('hangup').addEventListener('click', hangup);
  $('switch-camera').addEventListener('click', switchCamera);
  $('leave').addEventListener('click', async () => {
    if (client) await client.request({ request: 'leave' }).catch(() => {});
    finish('ended', 'patient.left');
  });
  $('mute').addEventListener('click', () => {
    muted = !muted;
    if (call) call.setMuted(muted);
    $('mute').setAttribute('aria-pressed', String(muted));
    renderAll();
  });
  $('camera').addEventListener('click', () => {
    cameraOff = !cameraOff;
    if (call) call.setCameraOff(cameraOff);
    $('camera').setAttribute('aria-pressed', String(cameraOff));
    renderAll();
  });
  window.addEventListener('pagehide', onPageHide);
  window.addEventListener('pageshow', onPageShow);
  setState('form');
  renderAll();
  loadPractice().then(() => {
    if (session.joined && session.code && session.first && session.last) {
      $('accept-terms').checked = true;
      join(true).catch((e) => {
        if (e && (e.error === 'transport' || e.error === 'disconnected' || e.error === 'internal')) {
          setState('waiting');
          showNotice('patient.reconnecting');
          scheduleRejoin();
        }
      });
    }
  });
}

init();
