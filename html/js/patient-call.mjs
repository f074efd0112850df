// patient-call.mjs: the patient page after joining: the waiting room, the
// ringing and the call (docs/pages.md, #waiting, #ringing, #call, #ended).
// #waiting (the green box) has data-ahead="N" from `position` events and the
// join reply (older seq numbers are ignored). `ringing` rings (WebAudio, no
// file; vibration) and keeps the screen awake; Annehmen opens the camera and
// starts the call session (session.mjs, the answering side: a later offer of
// the doctor, an ICE restart, is answered too; the `forward` event switches to
// forwarding mode), Ablehnen keeps the place in the queue. call_ended shows
// the closing page with the reason (no_path and connection_lost also in
// #call-error, which stays there).
// Contract: const room = callPage(page)   page: patient.mjs' shared state
//   room.onEvent(ev, jsep)   every plugin event
//   room.joined(reply)       a join reply: appointment time and position
//   room.close()             ends a call (disconnect, ring cancelled, ...)
//   room.holdsCall()         the page is in a call (its media still runs)
//   room.suspend()           the connection dropped during the call: the
//                            call goes on (session.mjs suspend())
//   room.reattached(c, r)    the join reply (state in_call) re-attached the
//                            call on client c: the call uses c from now on
//   room.stopRing() / room.render() / room.wire()
import { t, fmtTime } from './i18n.mjs';
import { getLocalMedia, iceOptions } from './rtc.mjs';
import { stopStream } from './media.mjs';
import { CallSession } from './session.mjs';
import { audio, unlockAudio } from './sound.mjs';
import { patientTools } from './patienttools.mjs';
import { photoPatient } from './photo-patient.mjs';

export function callPage(page) {
  const $ = (id) => document.getElementById(id);
  const { consult, info } = page;
  let ahead = null;
  let lastSeq = -1;
  let appointmentAt = null;
  let doctorName = '';
  let iceOpts = iceOptions(null);        // from `ringing`
  const session = new CallSession({
    role: 'patient', consult, info,
    onStatus: (word) => {
      let text;
      if (word === 'connected') text = doctorName ? t('patient.in.call', { doctor: doctorName }) : t('conn.connected');
      else text = t('conn.' + word);
      if ($('call-status').textContent !== text) $('call-status').textContent = text;   // aria-live: no repeats
    },
  });
  // chat, connection quality, the practice's shared screen, torch (docs/pages.md, "Call tools")
  const tools = patientTools({ session, consult });
  const photo = photoPatient({ channel: session.channel, session, consult, notice: (k) => page.showNotice(k) });

  // ---- waiting room ----------------------------------------------------------
  function renderAhead() {
    if (ahead === null) return;
    $('waiting').dataset.ahead = String(ahead);
    $('ahead-text').textContent = ahead === 0 ? t('patient.ahead.0')
      : ahead === 1 ? t('patient.ahead.1') : t('patient.ahead.n', { n: ahead });
    $('appointment-text').textContent = appointmentAt ? t('patient.appointment', { time: fmtTime(appointmentAt) }) : '';
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

  function joined(r) {
    appointmentAt = r.appointment_at || null;
    lastSeq = -1;
    applyPosition(r.ahead, r.seq);
  }

  function render() {
    renderAhead();
    $('ringing-by').textContent = doctorName ? t('patient.ringing.by', { doctor: doctorName }) : '';
    session.render();
    tools.render();
    photo.render();
  }

  // ---- ring tone (WebAudio, no file) -----------------------------------------
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

  // ---- events ------------------------------------------------------------------
  function onEvent(ev, jsep) {
    switch (ev.event) {
      case 'position':
        applyPosition(ev.ahead, ev.seq);
        break;
      case 'ringing':
        iceOpts = iceOptions(ev);
        info.setError(null);
        doctorName = ev.doctor || '';
        session.clearSignals();
        page.showNotice(null);
        page.showError('');
        $('ringing-by').textContent = doctorName ? t('patient.ringing.by', { doctor: doctorName }) : '';
        $('accept-call').disabled = false;
        $('decline-call').disabled = false;
        page.setState('ringing');
        startRing();
        $('accept-call').focus();
        break;
      case 'ring_cancelled':
        if (consult.state === 'ringing' || consult.state === 'call') {
          session.close();
          page.setState('waiting');
          page.showNotice('patient.ring.cancelled');
        }
        break;
      case 'signal':
        session.signal(ev);
        break;
      case 'forward':
        if (consult.state === 'call' && page.client) session.forward(page.client, ev.e2ee !== false);
        break;
      case 'forward_offer':
        session.forwardEvent(ev, jsep);
        break;
      case 'doctor_left':
        session.close();
        page.setState('waiting');
        page.showNotice('patient.doctor.left');
        break;
      case 'call_ended':
        session.close();
        if (ev.reason === 'cancelled') page.finish('error', 'patient.visit.cancelled');
        else if (ev.reason === 'patient_hangup') page.finish('ended', 'patient.ended.self');
        else if (ev.reason === 'patient_dropped') { page.setState('waiting'); page.showNotice('patient.call.dropped'); }
        else if (ev.reason === 'no_path' || ev.reason === 'connection_lost') {
          info.setError(ev.reason);
          page.finish('ended', 'patient.ended.' + ev.reason);
        } else page.finish('ended', 'patient.ended.text');
        break;
      case 'taken_over':
        page.fatal = true;
        session.close();
        page.setState('error');
        page.showNotice(null);
        page.showError(t('patient.taken.over'));
        page.dropClient();
        break;
      case 'visit_ended': {
        session.close();
        const key = ev.reason === 'cancelled' ? 'patient.visit.cancelled'
          : ev.reason === 'grace_expired' ? 'patient.visit.grace_expired' : 'patient.visit.other';
        page.finish('error', key);
        break;
      }
      default:
        break;
    }
  }

  // ---- call ------------------------------------------------------------------
  async function acceptCall() {
    stopRing();
    $('accept-call').disabled = true;
    $('decline-call').disabled = true;
    unlockAudio();
    let stream;
    try {
      stream = await getLocalMedia('user');
    } catch (e) {
      page.showError(t('common.media.denied'));
      if (page.client) await page.client.request({ request: 'decline' }).catch(() => {});
      if (consult.state === 'ringing') page.setState('waiting');
      return;
    }
    const c = page.client;
    if (consult.state !== 'ringing' || !c) { stopStream(stream); return; }
    // with camera permission granted the device list is complete: hide the
    // switch button where only one camera exists
    navigator.mediaDevices.enumerateDevices().then((d) => {
      $('switch-camera').hidden = d.filter((x) => x.kind === 'videoinput').length < 2;
    }).catch(() => {});
    session.setStream(stream);
    $('local-video').classList.add('mirror');
    session.startP2P({ client: c, opts: iceOpts, facing: 'user' });
    page.showError('');
    page.renderAll();
    page.setState('call');
    try {
      await c.request({ request: 'accept' });
    } catch (e) {
      session.close();
      if (consult.state === 'call') page.setState('waiting');
      if (e.error !== 'transport' && e.error !== 'disconnected') page.showNotice('patient.ring.cancelled');
    }
  }

  async function declineCall() {
    stopRing();
    $('accept-call').disabled = true;
    $('decline-call').disabled = true;
    if (page.client) await page.client.request({ request: 'decline' }).catch(() => {});
    if (consult.state === 'ringing') {
      page.setState('waiting');
      page.showNotice('patient.declined');
    }
  }

  async function hangup() {
    if (page.client && consult.signalling === 'up' && !page.reattaching()) await page.client.request({ request: 'hangup' }).catch(() => {});
    else page.hangupLater();        // the server holds the call: hang it up once it is back
    session.close();
    page.finish('ended', 'patient.ended.self');
  }

  async function switchCamera() {
    const btn = $('switch-camera');
    btn.disabled = true;
    try {
      const facing = await session.switchCamera();
      if (facing) $('local-video').classList.toggle('mirror', facing === 'user');
    } catch (e) {
      page.showError(t('common.media.denied'));
    } finally {
      btn.disabled = false;
    }
  }

  function wire() {
    $('accept-call').addEventListener('click', acceptCall);
    $('decline-call').addEventListener('click', declineCall);
    $('hangup').addEventListener('click', hangup);
    $('switch-camera').addEventListener('click', switchCamera);
    $('leave').addEventListener('click', async () => {
      if (page.client) await page.client.request({ request: 'leave' }).catch(() => {});
      page.finish('ended', 'patient.left');
    });
    $('mute').addEventListener('click', () => session.toggleMute());
    $('camera').addEventListener('click', () => session.toggleCamera());
  }

  function reattached(c, r) {
    if (r.doctor) doctorName = r.doctor;
    session.reattach(c, r.ice_servers ? iceOptions(r) : null);
  }

  return {
    onEvent, joined, render, wire, stopRing, reattached,
    close: () => session.close(),
    holdsCall: () => consult.state === 'call' && !!session.active,
    suspend: () => session.suspend(),
  };
}
