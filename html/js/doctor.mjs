// doctor.mjs: the doctor page (docs/pages.md, "html/doctor.html"): states
// login, list, calling, call in window.consult.state. Live waiting list from
// `waiting` events and the waiting_list reply; any waiting (not away) patient
// can be called. Flow: getUserMedia -> call (its reply's ICE servers: the
// offer is made ahead while it rings, session.mjs prepareOffer, nothing sent)
// -> (call_accepted) -> the call
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
// The list: li[data-visit-id][data-state=waiting|away] in queue order (away
// patients keep their place, greyed, "Verbindung unterbrochen"); per row the
// typed name, the booked name ([data-testid=booked-name]) and note
// ([data-testid=note]) of the appointment, the device check
// ([data-testid=readiness][data-readiness=ready|unchecked|problem]
// [data-camera][data-microphone]: "bereit", "Kamera blockiert", "kein
// Mikrofon", "nicht geprüft"), button.call and button.msg (message to this
// patient). #queue-count[data-count][data-away]. During a call the queue
// stays in sight in #queue-mini[data-count] (count, the next names) and a new
// arrival is announced in #queue-new (aria-live, data-visit-id).
// Honest status (#notice[data-key]): decline reasons (camera_blocked ->
// "Kamera blockiert"), reload/close vs hang-up, and a follow-up from the
// live list (still away at their place / waiting again / gone). The other
// side's microphone/camera from `signal` type media and an audio-only
// accept in #remote-media[data-audio][data-video][data-audio-only]; the
// patient's shared screen (`media` screen:true) only where call_accepted /
// resume said patient_share "allowed": #screen-banner "Patient teilt den
// Bildschirm", #call[data-screen=on], zoom (doctortools.mjs); this
// page sends its own state (mediastate.mjs) on every toggle, once connected
// and after a re-attach. A reload during a call: the resume gives the call
// up (the page lost its media); the notice says so (the visit id of the
// running call is kept in sessionStorage "consult.doctor.call").
// Messages to waiting patients: staffmsg.mjs (#msg-box), targets "all my
// waiting patients" (doctor_id = own staff_id) or one visit.
// A browser that cannot hold a call (no WebRTC, no getUserMedia, no
// WebSocket): section#unsupported (doctorsupport.mjs)
// says so from the login on; the rest of the page works.
import { t, errorText, initLangToggle, onLangChange, fmtTime } from './i18n.mjs';
import { getLocalMedia, iceOptions } from './rtc.mjs';
import { CallSession } from './session.mjs';
import { callInfo } from './callinfo.mjs';
import { startStaff } from './staff.mjs';
import { audio, unlockAudio } from './sound.mjs';
import { doctorTools } from './doctortools.mjs';
import { photoDoctor } from './photo-doctor.mjs';
import { isMediaSignal, localMediaState, mediaStateText, sendMediaState } from './mediastate.mjs';
import { wireMessages } from './staffmsg.mjs';
import { doctorUnsupportedNotice } from './doctorsupport.mjs';

const $ = (id) => document.getElementById(id);
const consult = { state: 'login' };
window.consult = consult;

let client = null;
let visits = [];
let current = null;        // {visit_id, name, first, last, appointment_at} of the patient rung / in call
let notice = null;          // {key, vars, follow}: follow = the patient a follow-up sentence is about
let error = null;           // [key|null, text|null]
let statusKey = null;       // [key, vars]
let me = '';
let errorName = '';         // patient name for #call-error
let pendingHangup = 0;      // visit hung up here while signalling was down
let listFresh = false;      // the list came from the current connection
let staffId = 0;            // this doctor's staff_id (message target "all my waiting patients")
let remoteMedia = null;     // {audio, video} of the patient (signal type media), null: unknown
let audioOnly = false;      // the patient accepted with audio only
let ringIce = null;         // iceOptions of the `call` reply: the offer made ahead while it rings
let patientShare = 'never'; // the practice's patient_share (call_accepted / resume): may the patient share a screen
let arrival = null;         // {visit_id} of the newest arrival announced during this call
let messages = null;        // staffmsg.mjs composer
const CALL_KEY = 'consult.doctor.call';
// i18n-keys: doctor.callerr.*  (callinfo.mjs builds <prefix>.callerr.<code>)
// i18n-keys: doctor.media.*  (mediastate.mjs builds <prefix>.media.<state>)
const info = callInfo({ prefix: 'doctor', vars: () => ({ name: errorName }) });
const session = new CallSession({
  role: 'doctor', consult, info,
  onStatus: (word) => {
    const name = current ? current.name : '';
    if (word === 'connected' && current && !current.mediaSent) {
      current.mediaSent = true;      // tell the patient once the call is up
      sendOwnMedia();
    }
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
const photos = photoDoctor({ channel: session.channel, consult });   // "Foto anfordern", #photos

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

function showNotice(key, vars, follow) {
  notice = key ? { key, vars, follow: follow || null } : null;
  renderNotice();
}

// Where is the patient of a notice now? From the live list: 'away' (still at
// their place, connection lost), 'waiting' (same visit, waiting again),
// 'rejoined' (a new visit of the same name and appointment: reloaded or
// joined again), 'gone' (only when f.gone: no longer listed), or ''.
function followKind(f) {
  if (!f) return '';
  const same = visits.find((v) => v.visit_id === f.visit_id);
  if (same) return same.state === 'away' ? 'away' : 'waiting';
  const back = f.first !== undefined && visits.find((v) => v.first_name === f.first && v.last_name === f.last
    && (v.appointment_at || 0) === (f.appointment_at || 0));
  if (back) return back.state === 'away' ? 'away' : 'rejoined';
  return f.gone ? 'gone' : '';
}

function renderNotice() {
  const el = $('notice');
  let text = '';
  let kind = '';
  if (notice) {
    const f = notice.follow;
    const listed = f && visits.find((v) => v.visit_id === f.visit_id);
    const name = (notice.vars && notice.vars.name) || (listed ? fullName(listed) : t('doctor.patient.someone'));
    kind = followKind(f);
    text = [t(notice.key, { ...notice.vars, name }), kind ? t('doctor.follow.' + kind, { name }) : ''].filter(Boolean).join(' ');
  }
  if (el.textContent !== text) el.textContent = text;   // aria-live: no repeats
  el.dataset.key = notice ? notice.key : '';
  el.dataset.follow = kind;
  el.hidden = !notice;
}

function showError(text) {
  $('error').textContent = text || '';
  $('error').hidden = !text;
}

function fullName(v) {
  return [v.first_name, v.last_name].filter(Boolean).join(' ');
}

function sameName(a, b) {
  const norm = (x) => String(x || '').toLocaleLowerCase('de').replace(/\s+/g, ' ').trim();
  return norm(a) === norm(b);
}

/** The device check of V (contract: camera/microphone unchecked|ok|blocked|missing); null from an older plugin. */
function readiness(v) {
  const cam = v.camera;
  const mic = v.microphone;
  if (cam === undefined && mic === undefined) return null;
  const problems = [];
  if (cam === 'blocked' || cam === 'missing') problems.push('camera_' + cam);
  if (mic === 'blocked' || mic === 'missing') problems.push('microphone_' + mic);
  if (problems.length) return { state: 'problem', keys: problems };
  if (cam === 'ok' && mic === 'ok') return { state: 'ready', keys: ['ready'] };
  return { state: 'unchecked', keys: ['unchecked'] };
}

function readinessEl(v) {
  const r = readiness(v);
  if (!r) return null;
  const el = document.createElement('span');
  el.className = 'readiness';
  el.dataset.testid = 'readiness';
  el.dataset.readiness = r.state;
  el.dataset.camera = v.camera || '';
  el.dataset.microphone = v.microphone || '';
  const label = document.createElement('span');
  label.className = 'sr-only';
  label.textContent = t('doctor.ready.label') + ' ';
  el.append(label, r.keys.map((k) => t('doctor.ready.' + k)).join(' · '));
  return el;
}

function countText(n, away) {
  const s = n === 0 ? t('doctor.queue.none') : n === 1 ? t('doctor.queue.one') : t('doctor.queue.many', { n });
  return away ? `${s} ${t('doctor.queue.away', { n: away })}` : s;
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
    li.dataset.state = v.state || 'waiting';
    const away = v.state === 'away';
    if (away) li.classList.add('away');
    const info = document.createElement('div');
    info.className = 'who-info';
    const name = document.createElement('div');
    name.className = 'name';
    const typed = document.createElement('span');
    typed.className = 'typed';
    typed.dataset.testid = 'typed-name';
    typed.textContent = fullName(v);
    name.appendChild(typed);
    if (v.booked_name) {
      const booked = document.createElement('span');
      booked.className = 'booked';
      booked.dataset.testid = 'booked-name';
      booked.dataset.match = String(sameName(v.booked_name, fullName(v)));
      booked.textContent = t('doctor.booked', { name: v.booked_name });
      name.append(' ', booked);
    }
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
    const ready = readinessEl(v);
    if (ready) meta.append(' ', ready);
    info.append(name, meta);
    if (v.note) {
      const note = document.createElement('div');
      note.className = 'meta note';
      note.dataset.testid = 'note';
      note.textContent = t('doctor.note', { note: v.note });
      info.appendChild(note);
    }
    if (away) {
      const st = document.createElement('div');
      st.className = 'meta state';
      st.dataset.testid = 'away';
      st.textContent = t('doctor.away');
      info.appendChild(st);
    }
    const btns = document.createElement('div');
    btns.className = 'row-actions';
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'call';
    btn.textContent = t('doctor.call');
    btn.disabled = away || stale || consult.state !== 'list';
    btn.setAttribute('aria-label', t('doctor.call') + ': ' + fullName(v));
    btn.addEventListener('click', () => callPatient(v));
    const msg = document.createElement('button');
    msg.type = 'button';
    msg.className = 'msg secondary';
    msg.dataset.testid = 'msg-one';
    msg.textContent = t('staff.msg.one');
    msg.setAttribute('aria-label', t('staff.msg.one.label', { name: fullName(v) }));
    msg.addEventListener('click', () => { if (messages) messages.select('visit:' + v.visit_id); });
    btns.append(btn, msg);
    li.append(info, btns);
    ul.appendChild(li);
  }
  $('waiting-empty').hidden = visits.length > 0;
  const away = visits.filter((v) => v.state === 'away').length;
  const count = $('queue-count');
  count.textContent = countText(visits.length, away);
  count.dataset.count = String(visits.length);
  count.dataset.away = String(away);
  renderMini();
  if (messages) messages.render();
  if (notice && notice.follow) renderNotice();
}

// The queue in compact form beside the call: count, the next names, the newest arrival.
const MINI_NEXT = 3;
function renderMini() {
  const box = $('queue-mini');
  const away = visits.filter((v) => v.state === 'away').length;
  box.dataset.count = String(visits.length);
  $('queue-mini-count').textContent = t('doctor.queue.mini', { n: visits.length }) + (away ? ' ' + t('doctor.queue.mini.away', { n: away }) : '');
  const ol = $('queue-mini-next');
  ol.replaceChildren();
  for (const v of visits.slice(0, MINI_NEXT)) {
    const li = document.createElement('li');
    li.dataset.visitId = String(v.visit_id);
    li.dataset.state = v.state || 'waiting';
    li.textContent = fullName(v) + (v.state === 'away' ? ` (${t('doctor.away.short')})` : '');
    if (arrival && arrival.visit_id === v.visit_id) li.classList.add('new');
    ol.appendChild(li);
  }
  if (visits.length > MINI_NEXT) {
    const li = document.createElement('li');
    li.className = 'more';
    li.textContent = t('doctor.queue.more', { n: visits.length - MINI_NEXT });
    ol.appendChild(li);
  }
  const el = $('queue-new');
  if (!arrival) { el.hidden = true; el.textContent = ''; el.dataset.visitId = ''; return; }
  const v = visits.find((x) => x.visit_id === arrival.visit_id);
  const text = v ? t('doctor.queue.new', { name: fullName(v) }) : t('doctor.arrived');
  if (el.textContent !== text) el.textContent = text;
  el.dataset.visitId = String(arrival.visit_id);
  el.hidden = false;
}

function renderRemoteMedia() {
  const el = $('remote-media');
  const name = current ? current.name : '';
  const parts = [];
  if (audioOnly) parts.push(t('doctor.audio.only', { name }));
  // a shared screen is the patient's picture, camera on or off
  const screen = tools.patientScreen.on;
  const state = remoteMedia && (audioOnly || screen) ? { audio: remoteMedia.audio, video: true } : remoteMedia;
  const media = mediaStateText('doctor', state, { name });
  if (media) parts.push(media);
  const text = parts.join(' ');
  if (el.textContent !== text) el.textContent = text;
  el.dataset.audio = String(!remoteMedia || remoteMedia.audio !== false);
  el.dataset.video = String(screen || (!audioOnly && (!remoteMedia || remoteMedia.video !== false)));
  el.dataset.audioOnly = String(audioOnly);
  el.hidden = !text;
}

/** This page's microphone/camera state to the patient (only in a call). */
function sendOwnMedia() {
  if (consult.state !== 'call' || !session.active) return;
  sendMediaState(session, localMediaState(session));
}

function rememberCall(id) {
  try {
    if (id) sessionStorage.setItem(CALL_KEY, String(id)); else sessionStorage.removeItem(CALL_KEY);
  } catch (e) { /* storage disabled: the reload notice is lost, nothing else */ }
}

function rememberedCall() {
  try { return Number(sessionStorage.getItem(CALL_KEY)) || 0; } catch (e) { return 0; }
}

function messageTargets() {
  const out = [];
  if (staffId) out.push({ value: 'doctor:' + staffId, label: t('staff.msg.to.mine') });
  for (const v of visits) {
    const at = v.appointment_at ? ` (${fmtTime(v.appointment_at)})` : '';
    out.push({ value: 'visit:' + v.visit_id, label: fullName(v) + at });
  }
  return out;
}

function renderAll() {
  renderList();
  renderNotice();
  renderRemoteMedia();
  if (statusKey) setStatus(statusKey[0], statusKey[1]);
  if (error && error[0]) showError(t(error[0]));
  session.render();
  tools.render();
  $('who').textContent = me ? t('doctor.logged.in', { name: me }) : '';
  info.render();
  photos.render();
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
      if (consult.state === 'call' || consult.state === 'calling') {
        // no chime into a consultation: the compact queue shows and announces it
        arrival = { visit_id: ev.visit_id };
        renderMini();
      } else {
        notifyArrival();
      }
      break;
    case 'call_accepted':
      if (current && ev.visit_id === current.visit_id && consult.state === 'calling') startCall(ev);
      break;
    case 'signal':
      if (isMediaSignal(ev)) {
        remoteMedia = { audio: ev.audio, video: ev.video };
        // the patient's shared screen only where the practice allows it (the
        // server refuses it elsewhere; this page ignores it all the same)
        tools.patientScreen.set(patientShare === 'allowed' && ev.screen === true);
        renderRemoteMedia();
      } else {
        session.signal(ev);
      }
      break;
    case 'forward_answer':
      session.forwardEvent(ev, jsep);
      break;
    case 'call_declined':
      if (current && ev.visit_id === current.visit_id) {
        const key = DECLINE_REASONS.includes(ev.reason) ? 'doctor.declined.' + ev.reason : 'doctor.declined';
        endCall(key, { follow: true });
      }
      break;
    case 'patient_away':
      if (current && ev.visit_id === current.visit_id) endCall('doctor.patient.away', { follow: true, gone: true });
      break;
    case 'call_ended':
      if (current && (ev.visit_id === current.visit_id || ev.visit_id === undefined)) {
        if (ev.reason === 'no_path') { noPath(); break; }
        // `left` in a call: the patient's page went (closed or reloaded), no button does that
        const reason = ENDED_REASONS.includes(ev.reason) ? ev.reason : 'patient_hangup';
        const key = reason === 'left' ? 'doctor.ended.page_left' : 'doctor.ended.' + reason;
        endCall(key, { follow: !NO_FOLLOW.includes(ev.reason) });
      }
      break;
    default:
      break;
  }
}

// ---- call ------------------------------------------------------------------
const DECLINE_REASONS = ['camera_blocked', 'microphone_blocked', 'no_devices'];
const NO_FOLLOW = ['doctor_hangup', 'cancelled', 'no_path'];
const ENDED_REASONS = ['patient_hangup', 'patient_dropped', 'left', 'cancelled', 'connection_lost', 'doctor_hangup'];

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
  current = { visit_id: v.visit_id, name: fullName(v), first: v.first_name, last: v.last_name, appointment_at: v.appointment_at };
  errorName = current.name;
  remoteMedia = null;
  audioOnly = false;
  arrival = null;
  session.clearSignals();
  session.setStream(stream);
  setStatus('doctor.ringing', { name: current.name });
  setState('calling');
  renderAll();
  try {
    const r = await client.request({ request: 'call', visit_id: v.visit_id });
    // The reply carries this doctor's ICE servers: the whole offer is made
    // now (nothing is sent before call_accepted), so ICE gathering and the
    // TURN allocation run while it rings instead of after the accept.
    if (r && Array.isArray(r.ice_servers) && consult.state === 'calling' && current && current.visit_id === v.visit_id) {
      ringIce = iceOptions(r);
      session.prepareOffer(ringIce);
    }
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
  audioOnly = ev.audio_only === true;
  patientShare = ev.patient_share === 'allowed' ? 'allowed' : 'never';
  const opts = iceOptions(ev);
  // The offer made at the ring used the `call` reply's servers and
  // credentials: the call keeps them where the servers and the policy are
  // the same (the credentials are as fresh as the patient's, minted at the
  // same moment); anything else closes it and a fresh offer is made.
  if (ringIce && ringIce.iceTransportPolicy === opts.iceTransportPolicy && serverUrls(ringIce) === serverUrls(opts)) {
    opts.iceServers = ringIce.iceServers;
  }
  ringIce = null;
  session.startP2P({ client, opts });
  rememberCall(current.visit_id);
  setState('call');
  setStatus('doctor.connecting', { name: current.name });
  renderRemoteMedia();
}

/** The URLs of an iceOptions' servers, without their credentials. */
const serverUrls = (o) => JSON.stringify(o.iceServers.map((sv) => [].concat((sv && sv.urls) || [])));

function cleanupCall() {
  ringIce = null;
  session.close();     // also closes an offer made at the ring (TURN allocation released)
  current = null;
  remoteMedia = null;
  audioOnly = false;
  patientShare = 'never';
  tools.patientScreen.set(false);
  arrival = null;
  rememberCall(0);
  setStatus(null);
  renderRemoteMedia();
}

// opts.follow: the notice goes on to say where the patient is now (live
// list); opts.gone: and says so when they are no longer listed.
function endCall(noticeKey, opts = {}) {
  const c = current;
  const name = c ? c.name : '';
  cleanupCall();
  setState('list');
  if (noticeKey) {
    const follow = opts.follow && c ? { ...c, gone: !!opts.gone } : null;
    showNotice(noticeKey, { name }, follow);
  }
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
    if (call.patient_share) patientShare = call.patient_share === 'allowed' ? 'allowed' : 'never';
    if (patientShare !== 'allowed') tools.patientScreen.set(false);
    session.reattach(c, call.ice_servers ? iceOptions(call) : null);
    if (session.needsForward) session.reforward('server_restart');
    sendOwnMedia();     // the patient may have missed a toggle while we were away
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
    staffId = Number(info.staff_id) || 0;
    const fresh = consult.state === 'login';     // a page load or a new login (not a reconnect)
    showNotice(null);
    showError('');
    error = null;
    if (how && how.resumed) reattachCall(c, info.call || null);
    else pendingHangup = 0;
    const held = rememberedCall();
    if (fresh && held) {
      // this page was reloaded during a call: its media is gone and the
      // resume gave the call up; the patient is back at the head of the list
      rememberCall(0);
      showNotice('doctor.reload.ended', {}, { visit_id: held });
    }
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
    staffId = 0;
    if (messages) messages.reset();
    listFresh = false;
    cleanupCall();
    photos.reset();
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
  // no instance has served the practice for a while (several instances)
  onUnserved: () => { if (!(consult.state === 'call' && session.active)) showNotice('common.route.unserved'); },
});

initLangToggle();
const noCalls = doctorUnsupportedNotice();   // this browser cannot hold a call: say so
onLangChange(() => { renderAll(); if (noCalls) noCalls.render(); });
$('login').addEventListener('click', askNotifyPermission);
$('notify').addEventListener('click', askNotifyPermission);
$('hangup').addEventListener('click', hangup);
$('cancel-call').addEventListener('click', cancelRinging);
$('mute').addEventListener('click', () => { session.toggleMute(); sendOwnMedia(); });
$('camera').addEventListener('click', () => { session.toggleCamera(); sendOwnMedia(); });
messages = wireMessages({
  client: () => (consult.signalling === 'up' ? client : null),
  presets: ['staff.msg.preset.doctor.late15', 'staff.msg.preset.doctor.late30', 'staff.msg.preset.soon', 'staff.msg.preset.patience'],
  targets: messageTargets,
});
renderAll();
