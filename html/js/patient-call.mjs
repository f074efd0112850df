// patient-call.mjs: the patient page after joining: the ringing and the
// call (docs/pages.md, #ringing, #call, #ended); the green box is
// patient-wait.mjs, the device check devices.mjs.
// `ringing` rings (WebAudio, no file; vibration) and keeps the screen awake;
// Annehmen takes the call's camera and microphone from the device check
// (devices.mjs callMedia: the granted stream, no second prompt; opened at
// the ringing already where both are granted, devices.mjs warm(); asked
// for now, in this tap, where neither) and starts the call session
// (session.mjs, the answering side: a later offer of the doctor, an ICE
// restart, is answered too; the `forward` event switches to forwarding
// mode), Ablehnen keeps the place in the queue. Where camera and microphone
// are granted (warm() onGranted: as soon as navigator.permissions says so,
// while the camera still opens), the call's RTCPeerConnection is made at
// the ringing with its ICE servers (session.prepareP2P: not made in the tap;
// Chromium gathers only from the answer on all the same, rtc.mjs; closed if
// the ring ends without the call; without permission Chromium would gather
// mDNS host names only).
// After the tap the PeerCall on it and the `accept` request come first, the
// call view after them: its rendering overlaps the way of `accept` to the
// doctor's page and of its offer back, instead of delaying them. No camera
// at call time (blocked or missing) while the microphone works: when the ringing says
// audio_only "allowed", #ringing-media says so and #accept-audio ("Nur mit
// Ton teilnehmen") accepts with audio_only:true; Ablehnen then declines with
// the reason (camera_blocked / no_devices); with "never" the page declines
// at once with that reason (microphone_blocked / no_devices without a
// microphone) and says why in #notice. call_ended shows the closing page
// with the reason (no_path and connection_lost also in #call-error, which
// stays there).
// Media state: the page sends `signal` type media {audio, video} after the
// accept, once the call is connected, after a re-attach and on every mute /
// camera switch, with `screen` (the patient shares a screen, #share-screen:
// only offered where the ringing said patient_share "allowed"; a refusal by
// the server ends the share and hides the button) where the practice
// allows it and on every share / back to the camera; the doctor's one
// fills #remote-media [data-testid=
// remote-media] (data-audio on|off, data-video on|off|none: "Die Praxis hat
// die Kamera ausgeschaltet.", "… das Mikrofon …", and "none": sound
// arrives but no new video frame for 3 s, "Von der Praxis kommt gerade
// kein Bild."). The remote <video> is played once in the
// accept tap (iOS then allows its sound); a play() the browser refuses
// shows #play-remote.
// Contract: const room = callPage(page)   page: patient.mjs' shared state
//   (page.dev: devices.mjs, page.wait: patient-wait.mjs)
//   room.onEvent(ev, jsep)   every plugin event
//   room.close()             ends a call (disconnect, ring cancelled, ...)
//   room.holdsCall()         the page is in a call (its media still runs)
//   room.suspend()           the connection dropped during the call: the
//                            call goes on (session.mjs suspend())
//   room.reattached(c, r)    the join reply (state in_call) re-attached the
//                            call on client c: the call uses c from now on
//   room.stopRing() / room.render() / room.wire()
import { t } from './i18n.mjs';
import { iceOptions } from './rtc.mjs';
import { stopStream } from './media.mjs';
import { CallSession } from './session.mjs';
import { audio, unlockAudio } from './sound.mjs';
import { patientTools } from './patienttools.mjs';
import { photoPatient } from './photo-patient.mjs';

const REMOTE_CHECK_MS = 1000;
const NO_PICTURE_MS = 3000;          // no new frame this long while sound flows: "kein Bild"
const live = (tr) => tr.readyState === 'live';

export function callPage(page) {
  const $ = (id) => document.getElementById(id);
  const { consult, info } = page;
  let doctorName = '';
  let iceOpts = iceOptions(null);        // from `ringing`
  let audioOnlyPolicy = 'never';         // `ringing` audio_only
  let sharePolicy = 'never';             // `ringing` patient_share: may this page share a screen
  let ringReason = '';                   // why this ring cannot take the camera (decline reason)
  let ringPrepared = false;              // this ring tried its RTCPeerConnection (prepareRing)
  let audioOnly = false;                 // this call runs without the camera
  let remote = { audio: true, video: true };   // the doctor's `media` signal
  let remoteTimer = null;
  let sentConnected = false;
  const session = new CallSession({
    role: 'patient', consult, info,
    onStatus: (word) => {
      let text;
      if (word === 'connected') text = doctorName ? t('patient.in.call', { doctor: doctorName }) : t('conn.connected');
      else text = t('conn.' + word);
      if ($('call-status').textContent !== text) $('call-status').textContent = text;   // aria-live: no repeats
      if (word === 'connected' && !sentConnected) { sentConnected = true; sendMedia(); }
      renderRemote();
    },
  });
  // chat, connection quality, the practice's shared screen, the patient's
  // own where allowed, torch (docs/pages.md, "Call tools")
  const tools = patientTools({
    session, consult, allowed: () => sharePolicy === 'allowed',
    announce: (on) => sendMedia(on).catch((e) => {
      if (e && e.error === 'forbidden' && e.field === 'screen') sharePolicy = 'never';   // the practice changed its mind
      throw e;
    }),
  });
  const photo = photoPatient({ channel: session.channel, session, consult, notice: (k) => page.showNotice(k) });

  function render() {
    $('ringing-by').textContent = doctorName ? t('patient.ringing.by', { doctor: doctorName }) : '';
    renderRinging();
    renderRemote();
    renderOwn();
    page.dev.helpInto($('ringing-help'));
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

  // ---- ringing: camera and microphone ----------------------------------------
  // #ringing-media explains a camera or microphone problem of this ring;
  // #accept-audio offers the call without the camera where allowed.
  function renderRinging() {
    const el = $('ringing-media');
    el.dataset.reason = ringReason;
    el.hidden = !ringReason;
    el.textContent = ringReason ? t('patient.ringing.' + ringReason + (audioOnlyPolicy === 'allowed' ? '.audio' : '')) : '';
    $('accept-audio').hidden = !(ringReason && audioOnlyPolicy === 'allowed' && ringReason !== 'microphone_blocked');
    $('ringing-help').hidden = !(ringReason === 'camera_blocked' || ringReason === 'microphone_blocked');
  }

  function setRingButtons(enabled) {
    for (const id of ['accept-call', 'accept-audio', 'decline-call']) $(id).disabled = !enabled;
  }

  /** The decline reason for a call-time media result, '' when the call can go on. */
  function reasonOf(m, wantAudioOnly) {
    if (m.microphone !== 'ok') return m.microphone === 'blocked' ? 'microphone_blocked' : 'no_devices';
    if (wantAudioOnly || m.camera === 'ok') return '';
    return m.camera === 'blocked' ? 'camera_blocked' : 'no_devices';
  }

  // ---- events ------------------------------------------------------------------
  function onEvent(ev, jsep) {
    switch (ev.event) {
      case 'position':
        page.wait.position(ev);
        break;
      case 'message':
        page.wait.message(ev);
        break;
      case 'ringing':
        iceOpts = iceOptions(ev);
        audioOnlyPolicy = ev.audio_only === 'allowed' ? 'allowed' : 'never';
        sharePolicy = ev.patient_share === 'allowed' ? 'allowed' : 'never';
        ringReason = '';
        info.setError(null);
        doctorName = ev.doctor || '';
        session.clearSignals();
        page.showNotice(null);
        page.showError('');
        page.wait.closeDialog();
        $('ringing-by').textContent = doctorName ? t('patient.ringing.by', { doctor: doctorName }) : '';
        renderRinging();
        setRingButtons(true);
        page.setState('ringing');
        startRing();
        $('accept-call').focus();
        // where camera and microphone are granted: the connection too, made
        // as soon as the permissions say so (not after the camera opened:
        // a tap within that time found none, and gathering started later)
        session.dropPrepared();
        ringPrepared = false;
        page.dev.warm({ onGranted: prepareRing }).then((ready) => { if (ready) prepareRing(); });
        break;
      case 'ring_cancelled':
        if (consult.state === 'ringing' || consult.state === 'call') {
          closeCall();
          page.setState('waiting');
          page.showNotice('patient.ring.cancelled');
        }
        break;
      case 'signal':
        if (ev.type === 'media') {
          // the doctor's microphone/camera (not through mediastate.mjs: its
          // computed doctor keys would count as patient page keys)
          if (typeof ev.audio === 'boolean' && typeof ev.video === 'boolean') remote = { audio: ev.audio, video: ev.video };
          renderRemote();
        } else session.signal(ev);
        break;
      case 'forward':
        if (consult.state === 'call' && page.client) session.forward(page.client, ev.e2ee !== false);
        break;
      case 'forward_offer':
        session.forwardEvent(ev, jsep);
        break;
      case 'doctor_left':
        closeCall();
        page.setState('waiting');
        page.showNotice('patient.doctor.left');
        break;
      case 'call_ended':
        closeCall();
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
        closeCall();
        page.dev.release();
        page.setState('error');
        page.showNotice(null);
        page.showError(t('patient.taken.over'));
        page.dropClient();
        break;
      case 'visit_ended': {
        closeCall();
        const key = ev.reason === 'cancelled' ? 'patient.visit.cancelled'
          : ev.reason === 'grace_expired' ? 'patient.visit.grace_expired' : 'patient.visit.other';
        page.finish('error', key);
        break;
      }
      default:
        break;
    }
  }

  // the call's RTCPeerConnection of this ring, tried once (session.prepareP2P;
  // a browser that refuses it gets no second try)
  function prepareRing() {
    if (ringPrepared || consult.state !== 'ringing' || session.active) return;
    ringPrepared = true;
    session.prepareP2P(iceOpts);
  }

  // ---- call ------------------------------------------------------------------
  // iOS lets a media element play with sound later once it was played in a tap
  function blessRemote() {
    const v = $('remote-video');
    if (!v.paused) return;
    try {
      const p = v.play();
      if (p && p.catch) p.catch(() => {});
    } catch (e) { /* no source yet */ }
  }

  async function acceptCall(wantAudioOnly) {
    stopRing();
    setRingButtons(false);
    unlockAudio();
    blessRemote();
    let m;
    try {
      m = await page.dev.callMedia({ audioOnly: wantAudioOnly });
    } catch (e) {
      m = { stream: null, camera: 'missing', microphone: 'missing' };
    }
    const c = page.client;
    if (consult.state !== 'ringing' || !c) { stopStream(m.stream); return; }
    const reason = reasonOf(m, wantAudioOnly);
    if (reason) {
      stopStream(m.stream);
      ringReason = reason;
      renderRinging();
      if (reason !== 'microphone_blocked' && m.microphone === 'ok' && audioOnlyPolicy === 'allowed') {
        setRingButtons(true);            // the patient chooses: sound only, or decline
        $('accept-audio').focus();
        return;
      }
      await declineCall();
      return;
    }
    audioOnly = wantAudioOnly || !m.stream.getVideoTracks().length;
    sentConnected = false;
    remote = { audio: true, video: true };
    // the connection and `accept` first (the critical path), the call view after
    session.setStream(m.stream);
    session.startP2P({ client: c, opts: iceOpts, facing: 'user' });
    const accepted = c.request({ request: 'accept', ...(audioOnly ? { audio_only: true } : {}) });
    // with camera permission granted the device list is complete: hide the
    // switch button where only one camera exists
    navigator.mediaDevices.enumerateDevices().then((d) => {
      $('switch-camera').hidden = audioOnly || d.filter((x) => x.kind === 'videoinput').length < 2;
    }).catch(() => {});
    useSink();
    $('local-video').classList.add('mirror');
    page.showError('');
    page.setState('call');
    render();                   // the call view; the other sections are hidden
    page.info.render();
    watchRemote();
    try {
      await accepted;
      sendMedia();
    } catch (e) {
      closeCall();
      if (e.error === 'forbidden' && audioOnly && consult.state === 'call') {
        // the practice does not take calls without the camera: still ringing
        audioOnlyPolicy = 'never';
        page.setState('ringing');
        renderRinging();
        setRingButtons(true);
        return;
      }
      if (consult.state === 'call') page.setState('waiting');
      if (e.error !== 'transport' && e.error !== 'disconnected') page.showNotice('patient.ring.cancelled');
    }
  }

  async function declineCall() {
    const reason = ringReason;
    stopRing();
    setRingButtons(false);
    page.dev.cool();
    session.dropPrepared();
    const c = page.client;
    if (c) {
      try {
        await c.request({ request: 'decline', ...(reason ? { reason } : {}) });
      } catch (e) {
        // a server without decline reasons: decline all the same
        if (reason && e && e.error === 'invalid_field') await c.request({ request: 'decline' }).catch(() => {});
      }
    }
    if (consult.state === 'ringing') {
      page.setState('waiting');
      page.showNotice(reason ? 'patient.device.declined.' + reason : 'patient.declined');
    }
  }

  async function hangup() {
    if (page.client && consult.signalling === 'up' && !page.reattaching()) await page.client.request({ request: 'hangup' }).catch(() => {});
    else page.hangupLater();        // the server holds the call: hang it up once it is back
    closeCall();
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

  function closeCall() {
    page.dev.cool();            // a ring that ended without the call: what warm() opened
    session.close();
    clearInterval(remoteTimer);
    remoteTimer = null;
    audioOnly = false;
    remote = { audio: true, video: true };
    $('play-remote').hidden = true;
    renderRemote();
    renderOwn();
  }

  // ---- media state: ours to the doctor, the doctor's on screen ---------------------
  // with `screen` only where the practice allows the patient to share (the
  // server refuses screen:true elsewhere); a refused share rejects the
  // promise for screenshare.mjs, which ends it
  // screenOn: what to say about the screen (default: whether it is shared now)
  function sendMedia(screenOn) {
    const c = page.client;
    if (!c || consult.state !== 'call' || !session.active || consult.signalling !== 'up') return Promise.resolve();
    const s = session.localStream;
    const has = (kind) => !!s && s.getTracks().some((tr) => tr.kind === kind && live(tr));
    const screen = typeof screenOn === 'boolean' ? screenOn : !!(tools.share && tools.share.sharing);
    const sent = c.requestInTurn('media', {   // one after the other: the newest state last
      request: 'signal', type: 'media',
      audio: has('audio') && !session.muted,
      video: has('video') && !session.cameraOff,
      ...(sharePolicy === 'allowed' || screen ? { screen } : {}),
    });
    sent.catch(() => { /* not in the call any more, or an older server */ });
    return sent;
  }

  function useSink() {
    const v = $('remote-video');
    const id = page.dev.sinkId;
    if (id && typeof v.setSinkId === 'function' && v.sinkId !== id) v.setSinkId(id).catch(() => {});
  }

  // Pictures arriving: inbound video framesDecoded of the call must grow
  // (sound may flow without them: a stopped camera, a call without video).
  const frames = { pc: null, n: 0, at: 0, busy: false };

  async function sampleFrames() {
    const pc = consult.pc;
    if (!pc || frames.busy) return;
    frames.busy = true;
    let n = 0;
    try {
      const stats = await pc.getStats();
      stats.forEach((r) => { if (r.type === 'inbound-rtp' && (r.kind || r.mediaType) === 'video') n += Number(r.framesDecoded) || 0; });
    } catch (e) {
      return;
    } finally {
      frames.busy = false;
    }
    if (frames.pc !== pc) Object.assign(frames, { pc, n, at: Date.now() });
    else if (n > frames.n) Object.assign(frames, { n, at: Date.now() });
    renderRemote();
  }

  function watchRemote() {
    clearInterval(remoteTimer);
    Object.assign(frames, { pc: null, n: 0, at: Date.now() });
    remoteTimer = setInterval(() => { renderRemote(); sampleFrames(); }, REMOTE_CHECK_MS);
    renderRemote();
  }

  // data-video: 'off' (the doctor switched the camera off), 'none' (sound
  // arrives but no picture: no video track, or no new frame for
  // NO_PICTURE_MS), 'on' (also while the practice shares its screen)
  function renderRemote() {
    const box = $('remote-media');
    // a shared screen (screenview.mjs) is the practice's picture, camera on or off,
    // and a still document sends few frames
    const screen = !!consult.remoteScreen;
    let video = remote.video || screen ? 'on' : 'off';
    if (video === 'on' && !screen && consult.state === 'call' && consult.mediaFlowing) {
      const s = $('remote-video').srcObject;
      const vt = s && s.getVideoTracks ? s.getVideoTracks()[0] : null;
      if (!vt || !live(vt) || (frames.pc && Date.now() - frames.at >= NO_PICTURE_MS)) video = 'none';
    }
    const sound = remote.audio ? 'on' : 'off';
    box.dataset.video = video;
    box.dataset.audio = sound;
    const lines = [];
    if (video === 'off') lines.push(t('patient.remote.camera.off'));
    else if (video === 'none') lines.push(t('patient.remote.no.video'));
    if (sound === 'off') lines.push(t('patient.remote.mic.off'));
    const text = lines.join(' ');
    if ($('remote-media-text').textContent !== text) $('remote-media-text').textContent = text;
    box.classList.toggle('cover', video !== 'on');
    box.classList.toggle('badge', video === 'on' && sound === 'off');
  }

  function renderOwn() {
    $('own-media').hidden = !audioOnly;
    $('own-media').textContent = audioOnly ? t('patient.remote.own.audio.only') : '';
    $('camera').hidden = audioOnly;
    $('local-video').hidden = audioOnly;
    if (audioOnly) $('switch-camera').hidden = true;
  }

  function wire() {
    $('accept-call').addEventListener('click', () => acceptCall(false));
    $('accept-audio').addEventListener('click', () => acceptCall(true));
    $('decline-call').addEventListener('click', declineCall);
    $('hangup').addEventListener('click', hangup);
    $('switch-camera').addEventListener('click', switchCamera);
    $('mute').addEventListener('click', () => { session.toggleMute(); sendMedia(); });
    $('camera').addEventListener('click', () => { session.toggleCamera(); sendMedia(); });
    $('remote-video').addEventListener('consult-play-blocked', () => { $('play-remote').hidden = false; });
    $('remote-video').addEventListener('playing', () => { $('play-remote').hidden = true; });
    $('play-remote').addEventListener('click', () => {
      const p = $('remote-video').play();
      if (p && p.then) p.then(() => { $('play-remote').hidden = true; }).catch(() => {});
    });
  }

  function reattached(c, r) {
    if (r.doctor) doctorName = r.doctor;
    if (r.patient_share) sharePolicy = r.patient_share === 'allowed' ? 'allowed' : 'never';
    tools.render();
    session.reattach(c, r.ice_servers ? iceOptions(r) : null);
    sendMedia();
  }

  return {
    onEvent, render, wire, stopRing, reattached,
    close: closeCall,
    holdsCall: () => consult.state === 'call' && !!session.active,
    suspend: () => session.suspend(),
  };
}
