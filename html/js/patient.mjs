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
import { ConsultClient } from './janus-client.mjs';
import { t, errorText, initLangToggle, onLangChange, fmtTime } from './i18n.mjs';
import { PeerCall, getLocalMedia, iceOptions, stopStream } from './rtc.mjs';
import { callInfo } from './callinfo.mjs';
import { audio, unlockAudio } from './sound.mjs';

const $ = (id) => document.getElementById(id);
const consult = { state: 'form', pc: null };
window.consult = consult;

const params = new URLSearchParams(location.search);
const slug = (params.get('p') || '').trim().toLowerCase();
const storeKey = 'consult.patient.' + slug;

let session = loadSession();          // {code, first, last, joined}
let client = null;
let call = null;
let pendingSignals = [];
let iceOpts = iceOptions(null);     // from `ringing`
let connState = 'new';
let problem = null;                  // PeerCall.onProblem: null/recovering/error
let lastSeq = -1;
let ahead = null;
let appointmentAt = null;
let practice = { name: '', phone: '' };
let doctorName = '';
let backoff = 1000;
let rejoinTimer = null;
let fatal = false;                     // taken over / visit ended: no reconnect
let noticeKey = null;
let endedKey = 'patient.ended.text';
let muted = false;
let cameraOff = false;
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
  $('start').disabled = s === 'joining';
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
  c.on('*', (ev) => { if (c === client) onEvent(ev); });
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
  try {
    const c = await ensureClient();
    const info = await c.request({ request: 'practice_info', practice: slug });
    practice = { name: info.name || '', phone: info.phone || '' };
    renderPractice();
  } catch (e) {
    if (e.error === 'not_found' || e.error === 'invalid_field') showError(t('err.practice_not_found'));
    else showError(errorText(e));
  }
}

// join: auto = silent rejoin (reconnect / reload)
async function join(auto) {
  const c = await ensureClient();
  if (!auto) setState('joining');
  let r;
  try {
    r = await c.request({
      request: 'join', practice: slug, code: session.code,
      first_name: session.first, last_name: session.last, accept_terms: true,
    });
  } catch (e) {
    if (e.error === 'transport' || e.error === 'disconnected') {
      if (client === c) { c.destroy(); client = null; }
    }
    if (!auto || !(e.error === 'transport' || e.error === 'disconnected' || e.error === 'internal' || e.error === 'rate_limited')) {
      if (auto) { session.joined = false; saveSession(); }
      setState('form');
      showNotice(null);
      showError(errorText(e, { phone: phoneSuffix() }));
    }
    throw e;
  }
  session.joined = true;
  saveSession();
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
function onEvent(ev) {
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
      if (call) call.handleSignal(ev);
      else pendingSignals.push(ev);
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
  if (call) call.close();
  call = null;
  consult.pc = null;
  pendingSignals = [];
  $('local-video').srcObject = null;
  $('remote-video').srcObject = null;
  info.setPath('');
}

function renderStatus() {
  let s = connState;
  // ICE is back a moment before connectionState follows: no "disturbed" blip
  if (!problem && s === 'disconnected' && call && /^(connected|completed)$/.test(call.pc.iceConnectionState)) s = 'connected';
  let text;
  if (problem === 'recovering') text = t('conn.recovering');
  else if (problem) text = t('conn.failed');
  else if (s === 'connected') text = doctorName ? t('patient.in.call', { doctor: doctorName }) : t('conn.connected');
  else text = t('conn.' + s);
  $('call-status').textContent = text;
  $('call').dataset.problem = problem || '';
}

function onConnState(s) {
  connState = s;
  renderStatus();
}

function onProblem(kind) {
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
  call = new PeerCall({
    client: c, ...iceOpts, localStream: stream, remoteVideo: $('remote-video'),
    offerer: false, onState: onConnState, onPath: (p) => info.setPath(p), onProblem, facing: 'user',
  });
  consult.pc = call.pc;
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
