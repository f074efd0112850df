// patient.mjs: the patient page (docs/pages.md, "html/patient.html?p=<practice
// slug>#<code>"): the page state, the connection and the join; the first page
// is patient-first.mjs, the green box and leaving patient-wait.mjs, the
// device check devices.mjs, the ringing and the call patient-call.mjs.
// window.consult.state: form, joining, waiting, ringing, call, ended, left,
// error
// (.mode, .pc, .verifyCode, .e2ee from the call session, session.mjs).
// A join answered `internal` (the practice's server cannot write, e.g. a
// full disk) is sent again by itself after 1 s and 2 s; the third failure
// shows #error > #internal-error "... bitte rufen Sie die Praxis an: <phone>"
// (tel: link). A lost connection rejoins by itself and keeps trying (backoff
// up to 15 s), with that advice in #notice while the server fails.
// Signalling lost (socket closed, or the event `server_restarting`): the
// page reconnects with jittered backoff (backoff.mjs: first try within 1 s,
// then at most every 3 s; at once on `online`) and joins again with the code
// kept in this tab's sessionStorage. During a call the RTCPeerConnection and
// the camera stay; #notice says "Verbindung zum Server wird wiederhergestellt
// – das Gespräch läuft weiter" and the join carries resume_call: <visit_id>.
// Reply state in_call: the call goes on with the new connection; state
// ended (nothing joined): the closing page as for call_ended with the
// reply's reason (patient_dropped: the page joins anew and waits); any other
// state: the call ended meanwhile (closed, "patient.call.ended.meanwhile").
// window.consult.signalling 'up' | 'down', .reattached (re-attaches so far),
// .visitId (of the last join reply; null before).
// Leaving (confirmed in #leave-dialog): `leave`, then state 'left': #left
// "Sie haben den Warteraum verlassen." with #rejoin ("Wieder beitreten",
// data-rejoin="true") while appointment_info still knows the code, else
// data-rejoin="false" and the practice's phone. The code stays in
// sessionStorage (a reload shows #left again); #rejoin joins anew with it
// and waits at the usual place in the queue.
// Hung up while signalling is down: the page shows the closing page at once
// and, in the background, joins once more with resume_call when the server
// is back and sends `hangup` (or `leave` if the call was over meanwhile);
// tried with the reconnect backoff for HANGUP_LATER_MS.
// Several instances (route.mjs): the page connects to /janus?p=<slug>; a
// join answered practice_elsewhere is sent again at once on the named
// instance's /janus/i/<instance> (at most route.mjs' MAX_REDIRECTS in a row,
// then with the reconnect backoff on /janus); the event practice_moved is a
// lost connection whose next try goes to the named instance. Refused for
// UNSERVED_MS: #notice "patient.route.unserved" (no server serves the
// practice now; the page keeps trying). window.consult.instance: the
// instance followed (null: /janus).
import { ConsultClient, serverUrl } from './janus-client.mjs';
import { t, errorText, initLangToggle, onLangChange } from './i18n.mjs';
import { callInfo } from './callinfo.mjs';
import { unlockAudio } from './sound.mjs';
import { INTERNAL_TRIES, firstPage, linkParts, loadStored, saveStored, takeCodeFromUrl } from './patient-first.mjs';
import { callPage } from './patient-call.mjs';
import { waitingRoom } from './patient-wait.mjs';
import { deviceCheck } from './devices.mjs';
import { Retry } from './backoff.mjs';
import { unsupportedNotice } from './support.mjs';
import { Route, withPractice } from './route.mjs';

const $ = (id) => document.getElementById(id);
const consult = { state: 'form', signalling: 'down', reattached: 0, visitId: null, instance: null };
window.consult = consult;

const slug = linkParts().slug;          // repaired: %23 for '#', punctuation
const storeKey = 'consult.patient.' + slug;
const INTERNAL_BACKOFF_MS = 1000;      // doubling: 1 s, 2 s
const HANGUP_LATER_MS = 120000;

let client = null;
const route = new Route(withPractice(serverUrl(), slug));
let backoff = 1000;                    // after `internal`: doubling up to 15 s
let lostAt = 0;                        // the connection dropped (0: not lost)
const rejoin = new Retry(() => rejoinOnce());
let noticeKey = null;
let endedKey = 'patient.ended.text';

// What the first page and the call page share.
const page = {
  consult,
  slug,
  stored: loadStored(storeKey),        // {code, first, last, joined}
  practice: { name: '', phone: '' },
  fatal: false,                        // taken over / visit ended: no reconnect
  visitId: 0,                          // from the join reply (memory only)
  // i18n-keys: patient.callerr.*  (callinfo.mjs builds <prefix>.callerr.<code>)
  info: callInfo({ prefix: 'patient', vars: () => ({ phone: phoneSuffix() }) }),
  get client() { return client; },
  dropClient,
  ensureClient,
  setState,
  showNotice,
  showError: (text) => first.showError(text),
  finish,
  hangupLater,
  reattaching: () => lostAt !== 0,     // lost, and not joined again yet
  phoneSuffix,
  renderAll,
  save: () => saveSession(),
  leave,
};
const first = firstPage(page);
page.dev = deviceCheck(page);
page.wait = waitingRoom(page);
const room = callPage(page);
const noCalls = unsupportedNotice(page);   // this browser cannot hold a call: say so, never join

function saveSession() {
  saveStored(storeKey, page.stored);
}

function phoneSuffix() {
  return page.practice.phone ? ': ' + page.practice.phone : '';
}

// ---- view ------------------------------------------------------------------
function setState(s) {
  consult.state = s;
  document.body.dataset.state = s;
  $('join-form').hidden = !(s === 'form' || s === 'joining');
  first.renderState(s);
  $('waiting').hidden = s !== 'waiting';
  $('leave').hidden = s !== 'waiting';
  page.dev.show(s === 'waiting');
  if (s !== 'waiting') page.wait.closeDialog();
  $('left').hidden = s !== 'left';
  $('ringing').hidden = s !== 'ringing';
  $('call').hidden = s !== 'call';
  $('ended').hidden = s !== 'ended';
  $('terms').hidden = !(s === 'form' || s === 'joining');
  if (s !== 'call' && s !== 'ended' && page.info.error) page.info.setError(null);
  if (s !== 'ringing') room.stopRing();
  keepAwake(s === 'waiting' || s === 'ringing' || s === 'call');
  document.title = (s === 'ringing' ? '📞 ' : '') + t('app.title');
}

function showNotice(key, vars) {
  noticeKey = key ? [key, vars] : null;
  $('notice').textContent = key ? t(key, vars) : '';
  $('notice').hidden = !key;
}

function renderAll() {
  first.render();
  if (noticeKey) showNotice(noticeKey[0], noticeKey[1]);
  $('ended-text').textContent = t(endedKey, { phone: phoneSuffix() });
  page.info.render();
  page.wait.render();
  page.dev.render();
  page.dev.renderHelp();
  renderLeft();
  room.render();
  if (noCalls) noCalls.render();
}

// ---- wake lock ---------------------------------------------------------------
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
  const c = new ConsultClient({ destroyOnUnload: false, server: route.url() });
  await connectRouted(c);
  c.on('*', (ev, jsep) => { if (c === client) room.onEvent(ev, jsep); });
  c.on('disconnected', () => { if (c === client) onDisconnected(); });
  c.on('practice_moved', (ev) => { if (c === client) onMoved(ev); });
  client = c;
  consult.signalling = 'up';
  return c;
}

// connect(); a followed instance that cannot be reached sends the next try to /janus
async function connectRouted(c) {
  try {
    await c.connect();
  } catch (e) {
    route.unreachable(Date.now());
    consult.instance = route.instance;
    throw e;
  }
}

// Another instance serves the practice now: this handle is anonymous; the
// page reconnects (to that instance if named) and joins as after a lost connection.
function onMoved(ev) {
  route.elsewhere(ev && ev.instance, Date.now());
  consult.instance = route.instance;
  dropClient();
  onDisconnected();
}

function dropClient() {
  if (!client) return;
  const c = client;
  client = null;
  consult.signalling = 'down';
  c.destroy();
}

function onDisconnected() {
  client = null;
  consult.signalling = 'down';
  if (page.fatal) return;
  const s = consult.state;
  if (s === 'call' && room.holdsCall()) {
    // the media is peer to peer: the call goes on while we reconnect
    room.suspend();
    showNotice('common.signalling.call');
    scheduleRejoin(true);
  } else if (s === 'waiting' || s === 'ringing' || s === 'call' || s === 'joining') {
    room.close();
    setState('waiting');
    showNotice('patient.reconnecting');
    scheduleRejoin(true);
  }
}

const retryable = (e) => e && (e.error === 'transport' || e.error === 'disconnected' || e.error === 'internal' || e.error === 'rate_limited'
  || e.error === 'practice_elsewhere');

// fresh: the connection just dropped (the first try comes within 1 s)
function scheduleRejoin(fresh) {
  if (fresh) { rejoin.reset(); backoff = 1000; lostAt = lostAt || Date.now(); }
  rejoin.schedule();
}

async function rejoinOnce() {
  if (page.fatal) return;
  try {
    await join(true);
    backoff = 1000;
  } catch (e) {
    if (!retryable(e) || page.fatal) return;
    let min = 0;
    if (e.error === 'internal') { min = backoff; backoff = Math.min(backoff * 2, 15000); }
    if (e.error === 'rate_limited' && e.retry_after) min = e.retry_after * 1000;
    rejoin.schedule(min);
  }
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

// join: auto = silent rejoin (reconnect / reload)
async function join(auto) {
  const c = await ensureClient();
  if (!auto) setState('joining');
  const stored = page.stored;
  // this page still holds the media of its call: ask to keep it
  const held = room.holdsCall() && page.visitId ? page.visitId : 0;
  let r;
  try {
    r = await requestRetrying(c, {
      request: 'join', practice: slug, code: stored.code,
      first_name: stored.first, last_name: stored.last, accept_terms: true,
      ...(held ? { resume_call: held } : {}),
    });
  } catch (e) {
    if (e.error === 'practice_elsewhere') return joinElsewhere(c, e, auto);
    if (e.error === 'transport' || e.error === 'disconnected') {
      if (client === c) dropClient();
    }
    if (auto && e.error === 'internal') showNotice('patient.internal.notice', { phone: phoneSuffix() });
    if (!auto || !retryable(e)) {
      if (auto) { stored.joined = false; saveSession(); }
      if (room.holdsCall()) room.close();
      setState('form');
      showNotice(null);
      first.showJoinError(e);
    }
    throw e;
  }
  if (held && r.state === 'ended') {
    // the call ended while we were away; nothing was joined
    if (lostAt) { consult.reattached += 1; lostAt = 0; }
    showNotice(null);
    if (r.reason !== 'patient_dropped') {
      room.onEvent({ event: 'call_ended', visit_id: r.visit_id, reason: r.reason });   // the closing page
      return r;
    }
    // the held call expired: wait anew (without resume_call)
    room.close();
    setState('waiting');
    const again = await join(true);
    showNotice('patient.call.ended.meanwhile');
    return again;
  }
  route.served();
  consult.instance = route.instance;
  stored.joined = true;
  saveSession();
  if (typeof r.visit_id === 'number') page.visitId = consult.visitId = r.visit_id;
  first.joined();
  first.setPractice(r.practice);
  page.wait.joined(r);
  first.showError('');
  let ended = false;
  if (held && room.holdsCall()) {
    if (r.state === 'in_call' && r.resumed !== false && r.visit_id === held) room.reattached(c, r);
    else { room.close(); ended = true; }       // the call ended while we were away
  }
  if (lostAt) { consult.reattached += 1; lostAt = 0; }
  if (ended) { setState('waiting'); showNotice('patient.call.ended.meanwhile'); }
  else if (auto || (noticeKey && (noticeKey[0] === 'patient.reconnecting' || noticeKey[0] === 'common.signalling.call'))) showNotice(null);
  if (consult.state !== 'ringing' && consult.state !== 'call') setState('waiting');
  page.dev.joined(r);                    // re-sends the readiness of the check
  return r;
}

// The join was answered practice_elsewhere: again at once on the named
// instance, or later (backoff) through /janus; rejects with e then.
async function joinElsewhere(c, e, auto) {
  if (client === c) dropClient();
  const now = Date.now();
  const how = route.elsewhere(e.data && e.data.instance, now);
  consult.instance = route.instance;
  if (how === 'redirect') return join(auto);
  if (route.unserved(now)) showNotice('patient.route.unserved', { phone: phoneSuffix() });
  else if (auto && !room.holdsCall()) showNotice('patient.reconnecting');
  if (!auto) { rejoin.reset(); rejoin.schedule(); }   // the first join: keeps trying by itself
  throw e;
}

// ---- leave and rejoin ----------------------------------------------------------
let rejoinable = 'unknown';              // 'true' | 'false' | 'unknown' (appointment_info)

async function leave() {
  const c = client;
  rejoin.cancel();
  if (c) await c.request({ request: 'leave' }).catch(() => {});
  room.close();
  page.dev.release();
  page.fatal = true;                     // no reconnect: the patient left
  dropClient();                          // a patient handle stays one: a fresh one asks and rejoins
  page.stored.joined = false;
  page.stored.left = true;
  saveSession();
  showNotice(null);
  first.showError('');
  rejoinable = 'unknown';
  setState('left');
  renderLeft();
  $('left').focus();
  checkRejoin();
}

// May the code join again? appointment_info answers for a valid appointment
// (on a connection of its own, closed again: the page may stay open for hours).
async function checkRejoin() {
  const c = new ConsultClient({ destroyOnUnload: true, server: route.url() });
  try {
    await c.connect();
    await c.request({ request: 'appointment_info', practice: slug, code: page.stored.code });
    rejoinable = 'true';
  } catch (e) {
    rejoinable = e && e.error === 'code_invalid' ? 'false' : 'unknown';
  } finally {
    c.destroy();
  }
  renderLeft();
}

function renderLeft() {
  $('left').dataset.rejoin = rejoinable;
  $('rejoin').hidden = rejoinable === 'false';
  const el = $('left-text');
  const phone = page.practice.phone;
  if (rejoinable !== 'false') el.textContent = t('patient.leave.done.text');
  else if (!phone) el.textContent = t('patient.leave.expired', { phone: '' });
  else {
    // "... rufen Sie bitte die Praxis an: <a href=tel:...>phone</a>."
    const [before, after] = t('patient.leave.expired', { phone: ': \u0000' }).split('\u0000');
    const a = document.createElement('a');
    a.href = 'tel:' + phone.replace(/[^0-9+]/g, '');
    a.textContent = phone;
    el.replaceChildren(before, a, after || '');
  }
}

async function rejoinAfterLeave() {
  const btn = $('rejoin');
  btn.disabled = true;
  first.showError('');
  page.fatal = false;
  page.stored.left = false;
  saveSession();
  try {
    await join(true);
  } catch (e) {
    // code_invalid and other final answers: the first page says why (join())
    if (consult.state === 'left') {
      page.stored.left = true;
      saveSession();
      first.showError(errorText(e, { phone: phoneSuffix() }));
    }
  } finally {
    btn.disabled = false;
  }
}

// ---- hang-up while signalling is down -------------------------------------------
const later = { visitId: 0, until: 0, retry: null };

function hangupLater() {
  if (!page.visitId) return;
  later.visitId = page.visitId;
  later.until = Date.now() + HANGUP_LATER_MS;
  if (!later.retry) later.retry = new Retry(() => hangupOnce());
  later.retry.reset();
  later.retry.schedule();
}

async function hangupOnce() {
  if (!later.visitId || Date.now() > later.until) return;
  const c = new ConsultClient({ destroyOnUnload: false, server: route.url() });   // not the page's: no events for the closed page
  const s = page.stored;
  try {
    await connectRouted(c);
    const r = await c.request({
      request: 'join', practice: slug, code: s.code, first_name: s.first, last_name: s.last,
      accept_terms: true, resume_call: later.visitId,
    });
    await c.request(r.state === 'in_call' && r.visit_id === later.visitId ? { request: 'hangup' } : { request: 'leave' });
    later.visitId = 0;
  } catch (e) {
    if (e.error === 'practice_elsewhere') route.elsewhere(e.data && e.data.instance, Date.now());
    if (retryable(e)) later.retry.schedule(e.error === 'rate_limited' && e.retry_after ? e.retry_after * 1000 : 0);
    else later.visitId = 0;       // e.g. code_invalid: the visit is over anyway
  } finally {
    c.destroy();
  }
}

// The visit is over: forget the code, show the closing page or an error.
function finish(state, key) {
  page.fatal = true;
  page.dev.release();
  page.stored.joined = false;
  saveSession();
  showNotice(null);
  if (state === 'ended') {
    endedKey = key;
    $('ended-text').textContent = t(key, { phone: phoneSuffix() });
    first.showError('');
  } else {
    first.showError(t(key));
  }
  setState(state);
  dropClient();
}

// ---- wiring ----------------------------------------------------------------
function onSubmit(ev) {
  ev.preventDefault();
  first.showError('');
  unlockAudio();   // unlock audio on this user gesture, for the ring tone later
  if (noCalls) return;
  if (!first.validate()) return;
  page.stored.left = false;
  saveSession();
  page.fatal = false;
  join(false).catch(() => {});
}

function onPageHide() {
  rejoin.cancel();
  const c = client;
  if (!c) return;
  // A page cannot tell a reload from a closed tab, so it just goes: waiting
  // or ringing, the server keeps the place for grace_seconds (the patient
  // counts in nobody's "vor Ihnen" meanwhile, the doctor reads "Verbindung
  // unterbrochen") and a reload comes back to the same place; in a call the
  // server holds the call, and the reloaded page (its media gone) ends it as
  // patient_dropped and waits again. Only the confirmed "Warteraum
  // verlassen" ends the visit.
  client = null;
  c.destroy();
}

function onPageShow(e) {
  if (e.persisted && page.stored.joined && !page.fatal && !client) {
    setState('waiting');
    showNotice('patient.reconnecting');
    scheduleRejoin(true);
  }
}

function init() {
  initLangToggle();
  onLangChange(() => { renderAll(); setState(consult.state); });
  page.stored = takeCodeFromUrl(page.stored);
  saveSession();
  first.wire();
  room.wire();
  page.wait.wire();
  page.dev.wire();
  $('rejoin').addEventListener('click', rejoinAfterLeave);
  $('join-form').addEventListener('submit', onSubmit);
  window.addEventListener('pagehide', onPageHide);
  window.addEventListener('pageshow', onPageShow);
  setState('form');
  renderAll();
  first.load().then(() => {
    if (noCalls) { noCalls.render(); return; }
    const stored = page.stored;
    if (stored.left && stored.code && stored.first && stored.last) {
      // left before this reload: the same page as right after leaving
      page.fatal = true;
      setState('left');
      renderLeft();
      checkRejoin();
    } else if (stored.joined && stored.code && stored.first && stored.last) {
      $('accept-terms').checked = true;
      join(true).catch((e) => {
        if (e && (e.error === 'transport' || e.error === 'disconnected' || e.error === 'internal' || e.error === 'practice_elsewhere')) {
          setState('waiting');
          showNotice('patient.reconnecting');
          scheduleRejoin(true);
        }
      });
    }
  });
}

init();
