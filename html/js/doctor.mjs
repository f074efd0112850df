// doctor.mjs: the doctor page (docs/pages.md, "html/doctor.html"): states
// login, list, calling, call in window.consult.state. Live waiting list from
// `waiting` events and the waiting_list reply; any waiting (not away) patient
// can be called. Flow: getUserMedia -> call -> (call_accepted) -> the call
// session (session.mjs) offers P2P and switches to forwarding when P2P does
// not come up; forward_refused -> #call-error no_path. #call-error stays
// visible after the call until the next call. A lost call (not back within
// call_lost_seconds) is ended with {request:'hangup', reason:'connection_lost'}.
// Signalling lost (staff.mjs reconnects and resumes with the session token):
// a running call goes on (the RTCPeerConnection and camera stay), #notice
// says "Verbindung zum Server wird wiederhergestellt – das Gespräch läuft
// weiter", and `resume` carries resume_call: <visit_id>. The reply's `call`
// non-null: the call uses the new connection (a forwarded call asks
// `forward` again, cause server_restart); null: the call ended meanwhile
// ("doctor.call.ended.meanwhile"). A hang-up while signalling is down ends
// the call here and is sent once the call is re-attached. Meanwhile the
// waiting list is stale: #waiting-list[data-stale=true] greyed, #list-stale
// "Liste wird aktualisiert …", call buttons disabled; fresh again with the
// `waiting` event the plugin sends with the resume reply (or, without it,
// the waiting_list reply). window.consult.signalling / .reattached (staff.mjs),
// .mediaFlowing (session.mjs).
import { t, errorText, initLangToggle, onLangChange, fmtTime } from './i18n.mjs';
import { getLocalMedia, iceOptions } from './rtc.mjs';
import { CallSession } from './session.mjs';
import { callInfo } from './callinfo.mjs';
import { startStaff } from './staff.mjs';
import { audio, unlockAudio } from './sound.mjs';
import { doctorTools } from './doctortools.mjs';

const $ = (id) => document.getElementById(id);
const consult = { state: 'login' };
window.consult = consult;

let client = null;
let visits = [];
let current = null;        // {visit_id, name} of the patient rung / in call
let notice = null;          // [key, vars]
let error = null;           // [key|null, text|null]
let statusKey = null;       // [key, vars]
let me = '';
let errorName = '';         // patient name for #call-error
let pendingHangup = 0;      // visit hung up here while signalling was down
let listFresh = false;      // the list came from the current connection
// i18n-keys: doctor.callerr.*  (callinfo.mjs builds <prefix>.callerr.<code>)
const info = callInfo({ prefix: 'doctor', vars: () => ({ name: errorName }) });
const session = new CallSession({
  role: 'doctor', consult, info,
  onStatus: (word) => {
    const name = current ? current.name : '';
    if (word === 'connected') setStatus('doctor.in.call', { name });
    else if (word === 'new' || word === 'connecting') setStatus('doctor.connecting', { name });
    else setStatus('conn.' + word);
  },
  onLost: connectionLost,
  onNoPath: noPath,
  onStartError: (e) => showError(errorText(e)),
});
// chat, connection quality, screen sharing, torch (docs/pages.md, "Call tools")
const tools = doctorTools({ session, consult });

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
  const text = key ? t(key, vars) : '';
  if ($('call-status').textContent !== text) $('call-status').textContent = text;   // aria-live: no repeats
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
  const stale = consult.state !== 'login' && (!listFresh || consult.signalling !== 'up');
  ul.dataset.stale = String(stale);
  ul.setAttribute('aria-busy', String(stale));
  $('list-stale').hidden = !stale;
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
    btn.disabled = away || stale || consult.state !== 'list';
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
  session.render();
  tools.render();
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
      listFresh = true;
      renderList();
      break;
    case 'patient_arrived':
      notifyArrival();
      break;
    case 'call_accepted':
      if (current && ev.visit_id === current.visit_id && consult.state === 'calling') startCall(ev);
      break;
    case 'signal':
      session.signal(ev);
      break;
    case 'forward_answer':
      session.forwardEvent(ev, jsep);
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
  if (consult.state !== 'list' || !client || !listFresh || consult.signalling !== 'up' || v.state === 'away') return;
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
  current = { visit_id: v.visit_id, name: fullName(v) };
  errorName = current.name;
  session.clearSignals();
  session.setStream(stream);
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

// No path at all and forwarding refused: the plugin ends the call for both.
function noPath() {
  info.setError('no_path');
  endCall('doctor.ended.no_path');
}

// Not back within call_lost_seconds: end the visit for both sides.
async function connectionLost() {
  if (client) await client.request({ request: 'hangup', reason: 'connection_lost' }).catch(() => {});
  endCall(null);   // #call-error says it all
}

function startCall(ev) {
  session.startP2P({ client, opts: iceOptions(ev) });
  setState('call');
  setStatus('doctor.connecting', { name: current.name });
}

function cleanupCall() {
  session.close();
  current = null;
  setStatus(null);
}

function endCall(noticeKey) {
  const name = current ? current.name : '';
  cleanupCall();
  setState('list');
  if (noticeKey) showNotice(noticeKey, { name });
}

async function hangup() {
  info.setError(null);
  // signalling down: the plugin holds the call; hang it up after the resume
  if (consult.signalling !== 'up' && current) pendingHangup = current.visit_id;
  else if (client) await client.request({ request: 'hangup' }).catch(() => {});
  endCall('doctor.ended.doctor_hangup');
}

/** The visit this page still holds the media of (or hung up while away). */
function heldCall() {
  if (consult.state === 'call' && current && session.active) return current.visit_id;
  return pendingHangup;
}

// After a resume: keep the held call on the new connection, or end it.
function reattachCall(c, call) {
  if (pendingHangup) {
    const id = pendingHangup;
    pendingHangup = 0;
    if (call && call.visit_id === id) c.request({ request: 'hangup' }).catch(() => {});
  }
  if (consult.state !== 'call' || !current || !session.active) return;
  if (call && call.visit_id === current.visit_id) {
    session.reattach(c, call.ice_servers ? iceOptions(call) : null);
    if (session.needsForward) session.reforward('server_restart');
  } else {
    endCall('doctor.call.ended.meanwhile');
  }
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
  consult,
  resumeCall: heldCall,
  onClient: (c) => {
    c.on('*', (ev, jsep) => { if (c === client) onEvent(ev, jsep); });
    client = c;
  },
  onLogin: async (c, info, how) => {
    client = c;
    me = info.display_name || '';
    showNotice(null);
    showError('');
    error = null;
    if (how && how.resumed) reattachCall(c, info.call || null);
    else pendingHangup = 0;
    if (consult.state === 'login' || !session.active) setState('list');
    renderAll();
    updateNotifyButton();
    // the plugin pushes `waiting` with the login/resume reply; ask only
    // when it has not arrived (an older plugin)
    if (!listFresh) {
      try {
        const r = await c.request({ request: 'waiting_list' });
        visits = Array.isArray(r.visits) ? r.visits : [];
        if (c === client) listFresh = true;
        renderList();
      } catch (e) { showError(errorText(e)); }
    }
    clearInterval(tick);
    tick = setInterval(renderList, 30000);
  },
  onLogout: () => {
    pendingHangup = 0;
    listFresh = false;
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
    listFresh = false;
    if (consult.state === 'call' && session.active) {
      // the media is peer to peer: the call goes on while we reconnect
      session.suspend();
      showNotice('common.signalling.call');
      renderList();
      return;
    }
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
$('mute').addEventListener('click', () => session.toggleMute());
$('camera').addEventListener('click', () => session.toggleCamera());
renderAll();
