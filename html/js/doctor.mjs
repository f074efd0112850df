// doctor.mjs: the doctor page. Contract (docs/dom.md): states login, list,
// calling, call in window.consult.state; window.consult.pc is the call's
// RTCPeerConnection. Live waiting list from `waiting` events and the
// waiting_list reply; any waiting (not away) patient can be called.
// Flow: getUserMedia -> call -> (call_accepted) -> PeerCall offerer.
// In a call: #path (data-path direct/relay), #e2e; #call-error (data-error
// turn_auth / ice_failed / connection_lost) stays visible after the call
// until the next call. The PeerCall restarts ICE itself; when the call is
// lost (not back within call_lost_seconds) this page sends
// {request:'hangup', reason:'connection_lost'}.
// Forwarding mode (issue 5, forward.mjs): if ICE is not connected within
// p2p_timeout_seconds after the offer went out (only when call_accepted says
// forward "allowed"), or fails before it ever connected (also with "never":
// the plugin then ends the call with no_path), the page sends
// {request:'forward', cause}; ok -> the P2P RTCPeerConnection is closed (the
// camera/microphone tracks stay), a Forwarder negotiates through Janus with
// end-to-end encrypted frames; forward_refused -> #call-error no_path.
// #verify-code: from the DTLS fingerprints (P2P) or the e2ee keys (forward).
// window.consult: state, mode ('p2p'|'forward'), pc (the active
// RTCPeerConnection, in forwarding mode the handle's), verifyCode, e2ee
// (the E2eeSession with its counters, or null).
import { t, errorText, initLangToggle, onLangChange, fmtTime } from './i18n.mjs';
import { PeerCall, getLocalMedia, iceOptions, stopStream } from './rtc.mjs';
import { Forwarder, causeOf } from './forward.mjs';
import { callInfo } from './callinfo.mjs';
import { startStaff } from './staff.mjs';
import { audio, unlockAudio } from './sound.mjs';

const $ = (id) => document.getElementById(id);
const consult = {
  state: 'login',
  mode: 'p2p',
  verifyCode: '',
  get pc() { return (call && call.pc) || null; },
  get e2ee() { return (call && call.session) || null; },
};
window.consult = consult;

let client = null;
let visits = [];
let current = null;        // {visit_id, name} of the patient rung / in call
let localStream = null;
let call = null;
let pendingSignals = [];
let callOpts = null;       // iceOptions() of call_accepted
let p2pTimer = null;
let forwardState = '';     // '' | 'asking' | 'on' | 'refused' | 'unavailable'
let pendingKeys = [];      // e2ee-key signals before the Forwarder exists
let notice = null;          // [key, vars]
let error = null;           // [key|null, text|null]
let statusKey = null;       // [key, vars]
let muted = false;
let cameraOff = false;
let me = '';
let errorName = '';         // patient name for #call-error
const info = callInfo({ prefix: 'doctor', vars: () => ({ name: errorName }) });

// ---- view ------------------------------------------------------------------
function setState(s) {
  consult.state = s;
  const inCall = s === 'calling' || s === 'call';
  $('list-view').hidden = inCall;
  $('call').hidden = !inCall;
  $('cancel-call').hidden = s !== 'calling';
  $('hangup').hidden = s !== 'call';
  renderList();
}

function setStatus(key, vars) {
  statusKey = key ? [key, vars] : null;
  $('call-status').textContent = key ? t(key, vars) : '';
}

function showNotice(key, vars) {
  notice = key ? [key, vars] : null;
  $('notice').textContent = key ? t(key, vars) : '';
  $('notice').hidden = !key;
}

function showError(text) {
  $('error').textContent = text || '';
  $('error').hidden = !text;
}

function fullName(v) {
  return [v.first_name, v.last_name].filter(Boolean).join(' ');
}

function renderList() {
  const ul = $('waiting-list');
  const now = Date.now() / 1000;
  ul.replaceChildren();
  for (const v of visits) {
    const li = document.createElement('li');
    li.dataset.visitId = String(v.visit_id);
    const away = v.state === 'away';
    if (away) li.classList.add('away');
    const info = document.createElement('div');
    const name = document.createElement('div');
    name.className = 'name';
    name.textContent = fullName(v);
    const meta = document.createElement('div');
    meta.className = 'meta';
    const parts = [];
    if (v.appointment_at) parts.push(t('doctor.appointment', { time: fmtTime(v.appointment_at) }));
    if (v.doctor_id === null || v.doctor_id === undefined) parts.push(t('doctor.any'));
    const since = document.createElement('span');
    since.className = 'since';
    const mins = Math.max(0, Math.floor((now - (v.waiting_since || now)) / 60));
    since.textContent = mins < 1 ? t('doctor.since.now') : t('doctor.since', { mins });
    meta.textContent = parts.join(' · ') + (parts.length ? ' · ' : '');
    meta.appendChild(since);
    info.append(name, meta);
    if (away) {
      const st = document.createElement('div');
      st.className = 'meta state';
      st.textContent = t('doctor.away');
      info.appendChild(st);
    }
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'call';
    btn.textContent = t('doctor.call');
    btn.disabled = away || consult.state !== 'list';
    btn.setAttribute('aria-label', t('doctor.call') + ': ' + fullName(v));
    btn.addEventListener('click', () => callPatient(v));
    li.append(info, btn);
    ul.appendChild(li);
  }
  $('waiting-empty').hidden = visits.length > 0;
}

function renderAll() {
  renderList();
  if (notice) showNotice(notice[0], notice[1]);
  if (statusKey) setStatus(statusKey[0], statusKey[1]);
  if (error && error[0]) showError(t(error[0]));
  $('mute').textContent = t(muted ? 'common.unmute' : 'common.mute');
  $('camera').textContent = t(cameraOff ? 'common.camera.on' : 'common.camera.off');
  $('who').textContent = me ? t('doctor.logged.in', { name: me }) : '';
  info.render();
}

// ---- sound and notification -------------------------------------------------

function chime() {
  const audioCtx = audio();
  if (!audioCtx) return;
  const now = audioCtx.currentTime;
  [[660, 0], [880, 0.18]].forEach(([f, at]) => {
    const osc = audioCtx.createOscillator();
    const gain = audioCtx.createGain();
    osc.type = 'sine';
    osc.frequency.value = f;
    gain.gain.setValueAtTime(0, now + at);
    gain.gain.linearRampToValueAtTime(0.2, now + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.001, now + at + 0.35);
    osc.connect(gain).connect(audioCtx.destination);
    osc.start(now + at);
    osc.stop(now + at + 0.4);
  });
}

function askNotifyPermission() {
  unlockAudio();
  if ('Notification' in window && Notification.permission === 'default') {
    try { Notification.requestPermission().then(updateNotifyButton).catch(() => {}); } catch (e) { /* old Safari */ }
  }
}

function updateNotifyButton() {
  $('notify').hidden = !('Notification' in window) || Notification.permission !== 'default' || consult.state === 'login';
}

function notifyArrival() {
  chime();
  if ('Notification' in window && Notification.permission === 'granted') {
    try {
      const n = new Notification(t('doctor.arrived'), { tag: 'consult-arrival', body: t('doctor.heading') });
      n.onclick = () => { window.focus(); n.close(); };
    } catch (e) { /* mobile browsers need a service worker: the chime suffices */ }
  }
}

// ---- events ----------------------------------------------------------------
function onEvent(ev, jsep) {
  switch (ev.event) {
    case 'waiting':
      visits = Array.isArray(ev.visits) ? ev.visits : [];
      renderList();
      break;
    case 'patient_arrived':
      notifyArrival();
      break;
    case 'call_accepted':
      if (current && ev.visit_id === current.visit_id && consult.state === 'calling') startCall(ev);
      break;
    case 'signal':
      if (ev.type === 'e2ee-key' && !(call instanceof Forwarder)) pendingKeys.push(ev);
      else if (call) call.handleSignal(ev); else pendingSignals.push(ev);
      break;
    case 'forward_answer':
      if (call instanceof Forwarder) call.handleEvent(ev, jsep);
      break;
    case 'call_declined':
      if (current && ev.visit_id === current.visit_id) endCall('doctor.declined');
      break;
    case 'patient_away':
      if (current && ev.visit_id === current.visit_id) endCall('doctor.patient.away');
      break;
    case 'call_ended':
      if (current && (ev.visit_id === current.visit_id || ev.visit_id === undefined)) {
        if (ev.reason === 'no_path') { noPath(); break; }
        const key = 'doctor.ended.' + (ev.reason || 'patient_hangup');
        endCall(t(key) === key ? 'doctor.ended.patient_hangup' : key);
      }
      break;
    default:
      break;
  }
}

// ---- call ------------------------------------------------------------------
async function callPatient(v) {
  if (consult.state !== 'list' || !client || v.state === 'away') return;
  unlockAudio();
  showError('');
  error = null;
  showNotice(null);
  info.setError(null);
  consult.state = 'calling';   // block double clicks while the camera opens
  renderList();
  let stream;
  try {
    stream = await getLocalMedia('user');
  } catch (e) {
    error = ['common.media.denied'];
    showError(t('common.media.denied'));
    setState('list');
    return;
  }
  localStream = stream;
  muted = false;
  cameraOff = false;
  $('mute').setAttribute('aria-pressed', 'false');
  $('camera').setAttribute('aria-pressed', 'false');
  current = { visit_id: v.visit_id, name: fullName(v) };
  pendingSignals = [];
  $('local-video').srcObject = stream;
  setStatus('doctor.ringing', { name: current.name });
  setState('calling');
  renderAll();
  try {
    await client.request({ request: 'call', visit_id: v.visit_id });
  } catch (e) {
    if (consult.state === 'calling') {
      cleanupCall();
      setState('list');
      error = [null];
      showError(errorText(e));
    }
  }
}

let connState = 'new';
let problem = null;

function renderCallStatus() {
  $('call').dataset.problem = problem || '';
  if (!call) return;
  const iceUp = !!call.pc && /^(connected|completed)$/.test(call.pc.iceConnectionState);
  if (forwardState === 'asking' || (forwardState === 'on' && !problem && connState !== 'connected')) setStatus('conn.forwarding');
  else if (problem === 'recovering') setStatus('conn.recovering');
  else if (!problem && connState === 'disconnected' && iceUp) setStatus('doctor.in.call', { name: current ? current.name : '' });
  else if (problem) setStatus('conn.failed');
  else if (connState === 'connected') setStatus('doctor.in.call', { name: current ? current.name : '' });
  else if (connState === 'new' || connState === 'connecting') setStatus('doctor.connecting', { name: current ? current.name : '' });
  else setStatus('conn.' + connState);
}

function onProblem(kind, which) {
  if (which !== call) return;
  // P2P never came up: try the practice server before showing an error
  if (which instanceof PeerCall && !which.everConnected && (kind === 'ice_failed' || kind === 'turn_auth')) {
    if (forwardState === 'asking') return;
    if (!forwardState) { goForward(causeOf(which, 'ice_failed')); return; }
  }
  problem = kind;
  if (kind && kind !== 'recovering') {
    errorName = current ? current.name : '';
    info.setError(kind);
  } else if (!kind && info.error) {
    info.setError(null);
  }
  renderCallStatus();
  if (kind === 'connection_lost' || (kind === 'ice_failed' && which instanceof Forwarder)) connectionLost();
}

// ---- forwarding mode (issue 5) -----------------------------------------------
function setVerify(code, which) {
  if (which !== call) return;
  consult.verifyCode = code || '';
  info.setCode(consult.verifyCode);
}

async function goForward(cause) {
  const pc = call;
  if (forwardState || !(pc instanceof PeerCall) || !client) return;
  forwardState = 'asking';
  clearTimeout(p2pTimer);
  renderCallStatus();
  let r;
  try {
    r = await client.request({ request: 'forward', cause });
  } catch (e) {
    if (call !== pc) return;
    if (e.error === 'forward_refused') { forwardState = 'refused'; noPath(); return; }
    // a plugin without forwarding, or the call is over: P2P's own verdict stands
    forwardState = 'unavailable';
    const kind = pc.problem && pc.problem !== 'recovering' ? pc.problem : null;
    if (kind) onProblem(kind, pc); else renderCallStatus();
    return;
  }
  if (call !== pc) return;
  pc.close({ keepTracks: true });
  startForward(r.e2ee !== false);
}

function startForward(e2ee) {
  forwardState = 'on';
  connState = 'new';
  problem = null;
  info.setError(null);
  consult.mode = 'forward';
  consult.verifyCode = '';
  info.setCode('');
  info.setPath('forward', { e2ee });
  const f = new Forwarder({
    client, role: 'doctor', e2ee, localStream, remoteVideo: $('remote-video'),
    callLostSeconds: callOpts ? callOpts.callLostSeconds : undefined,
    onCode: (code) => setVerify(code, f),
    onState: (st) => { if (call === f) { connState = st; renderCallStatus(); } },
    onProblem: (kind) => onProblem(kind, f),
  });
  call = f;
  call.setMuted(muted);
  call.setCameraOff(cameraOff);
  const keys = pendingKeys;
  pendingKeys = [];
  renderCallStatus();
  f.start()
    .then(() => { for (const ev of keys) f.handleSignal(ev); })
    .catch((e) => { console.warn('forwarding failed', e && (e.error || e.message)); onProblem('ice_failed', f); });
}

// No path at all and forwarding refused: the plugin ends the call for both.
function noPath() {
  errorName = current ? current.name : '';
  info.setError('no_path');
  endCall('doctor.ended.no_path');
}

// Not back within call_lost_seconds: end the visit for both sides.
async function connectionLost() {
  const c = client;
  if (c) {
    try {
      await c.request({ request: 'hangup', reason: 'connection_lost' });
    } catch (e) {
      // a plugin without `reason` support: a plain hangup still ends the call
      if (e.error !== 'transport' && e.error !== 'disconnected') await c.request({ request: 'hangup' }).catch(() => {});
    }
  }
  endCall(null);   // #call-error says it all
}

function startCall(ev) {
  connState = 'new';
  problem = null;
  forwardState = '';
  pendingKeys = [];
  consult.mode = 'p2p';
  consult.verifyCode = '';
  info.setCode('');
  info.setPath('');
  callOpts = iceOptions(ev);
  const pc = new PeerCall({
    client, ...callOpts, localStream, remoteVideo: $('remote-video'), offerer: true,
    onState: (s) => { if (call === pc) { connState = s; renderCallStatus(); } },
    onPath: (p) => { if (call === pc) info.setPath(p); },
    onProblem: (kind) => onProblem(kind, pc),
    onVerify: (code) => setVerify(code, pc),
  });
  call = pc;
  call.setMuted(muted);
  call.setCameraOff(cameraOff);
  setState('call');
  setStatus('doctor.connecting', { name: current.name });
  const queued = pendingSignals;
  pendingSignals = [];
  call.start().then(() => {
    for (const ev of queued) if (call === pc) pc.handleSignal(ev);
    // P2P not connected within p2p_timeout_seconds after the offer: forward
    if (call === pc && callOpts.forward === 'allowed') {
      clearTimeout(p2pTimer);
      p2pTimer = setTimeout(() => {
        if (call === pc && !pc.everConnected && !/^(connected|completed)$/.test(pc.pc.iceConnectionState)) {
          goForward(causeOf(pc, 'timeout'));
        }
      }, callOpts.p2pTimeoutSeconds * 1000);
    }
  }).catch((e) => { showError(errorText(e)); });
}

function cleanupCall() {
  clearTimeout(p2pTimer);
  if (call) call.close();
  call = null;
  forwardState = '';
  pendingKeys = [];
  consult.mode = 'p2p';
  consult.verifyCode = '';
  info.setCode('');
  stopStream(localStream);
  localStream = null;
  current = null;
  pendingSignals = [];
  $('local-video').srcObject = null;
  $('remote-video').srcObject = null;
  setStatus(null);
  info.setPath('');
  problem = null;
  $('call').dataset.problem = '';
}

function endCall(noticeKey) {
  const name = current ? current.name : '';
  cleanupCall();
  setState('list');
  if (noticeKey) showNotice(noticeKey, { name });
}

async function hangup() {
  info.setError(null);
  if (client) await client.request({ request: 'hangup' }).catch(() => {});
  endCall('doctor.ended.doctor_hangup');
}

async function cancelRinging() {
  if (!client) { endCall(null); return; }
  try {
    await client.request({ request: 'cancel_call' });
    endCall(null);
  } catch (e) {
    // wrong_state: the patient accepted meanwhile; call_accepted follows
    if (e.error === 'transport' || e.error === 'disconnected') endCall(null);
  }
}

// ---- wiring ----------------------------------------------------------------
let tick = null;

startStaff({
  roles: ['doctor'],
  onClient: (c) => {
    c.on('*', (ev, jsep) => { if (c === client) onEvent(ev, jsep); });
    client = c;
  },
  onLogin: async (c, info) => {
    client = c;
    me = info.display_name || '';
    showNotice(null);
    showError('');
    error = null;
    if (consult.state === 'login' || !call) setState('list');
    renderAll();
    updateNotifyButton();
    try {
      const r = await c.request({ request: 'waiting_list' });
      visits = Array.isArray(r.visits) ? r.visits : [];
      renderList();
    } catch (e) { showError(errorText(e)); }
    clearInterval(tick);
    tick = setInterval(renderList, 30000);
  },
  onLogout: () => {
    cleanupCall();
    info.setError(null);
    visits = [];
    me = '';
    consult.state = 'login';
    clearInterval(tick);
    renderAll();
    updateNotifyButton();
  },
  onReconnecting: () => {
    if (current) cleanupCall();
    setState('list');
    showNotice('common.reconnecting');
  },
});

initLangToggle();
onLangChange(renderAll);
$('login').addEventListener('click', askNotifyPermission);
$('notify').addEventListener('click', askNotifyPermission);
$('hangup').addEventListener('click', hangup);
$('cancel-call').addEventListener('click', cancelRinging);
$('mute').addEventListener('click', () => {
  muted = !muted;
  if (call) call.setMuted(muted);
  else if (localStream) localStream.getAudioTracks().forEach((tr) => { tr.enabled = !muted; });
  $('mute').setAttribute('aria-pressed', String(muted));
  renderAll();
});
$('camera').addEventListener('click', () => {
  cameraOff = !cameraOff;
  if (call) call.setCameraOff(cameraOff);
  else if (localStream) localStream.getVideoTracks().forEach((tr) => { tr.enabled = !cameraOff; });
  $('camera').setAttribute('aria-pressed', String(cameraOff));
  renderAll();
});
renderAll();
