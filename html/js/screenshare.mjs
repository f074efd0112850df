// screenshare.mjs: one side of a call shows the other a screen - the doctor
// findings, images, a document; the patient, where the practice allows it
// (docs/pages.md, "Screen sharing"). Both pages; the words and how the
// other side is told come from the page (doctortools.mjs, patienttools.mjs).
// The shared screen REPLACES the camera on the call's video sender
// (RTCRtpSender.replaceTrack): no renegotiation, so it works the same peer
// to peer and in forwarding mode (one offer/answer per forwarded call; the
// E2EE transform stays on the sender), and the patient's phone shows one
// picture, the document, at full size. The doctor's voice goes on; the
// doctor's face returns with "Zurück zur Kamera" (one click) or when the
// browser's own "stop sharing" ends the track.
// Contract:
//   const s = screenShare({session, channel, consult, button, note, localVideo,
//       keys, announce?, allowed?, mirror?})
//     button: #share-screen ("Bildschirm teilen" / "Zurück zur Kamera",
//       aria-pressed); hidden where getDisplayMedia does not exist (phones)
//       or allowed() is false (s.render() looks again).
//     note: #share-note (role=status): "Sie teilen Ihren Bildschirm." or an
//       error; empty otherwise.
//     keys {share, stop, sharing, failed, refused?}: the i18n keys.
//     announce(on) -> Promise: tells the other side (default: channel
//       message `screen` {on}); asked before the screen replaces the
//       camera: a rejection with error 'forbidden' (the server refused the
//       share) ends it before anything was shown and shows keys.refused.
//     mirror(): the camera's self-view is mirrored (default true).
//   await s.start()  getDisplayMedia (video only, at most 1920x1080 and 30
//     frames/s; contentHint 'detail'; sender degradationPreference
//     'maintain-resolution': text stays sharp, the frame rate gives way),
//     replaceTrack on the current call's video sender, the self-view shows
//     the shared screen, channel message `screen` {on: true}. A refused or
//     cancelled choice changes nothing. Not while allowed() is false.
//   await s.stop()   the camera track (the stream's current one, on or off as
//     the camera button left it) back on the sender, the screen track
//     stopped, `screen` {on: false}.
//   The call channel (re)opens (a new call, the switch to forwarding, new
//   legs): while sharing, the new sender gets the screen track again and
//   `screen` {on: true} goes out again. The call ends (channel 'closed'):
//   the screen track is stopped.
//   consult.screenSharing: true while sharing (tests).
import { t } from './i18n.mjs';

const CONSTRAINTS = {
  video: { width: { max: 1920 }, height: { max: 1080 }, frameRate: { ideal: 15, max: 30 } },
  audio: false,
};

export function screenShare({
  session, channel, consult, button, note, localVideo, keys,
  announce: tell = null, allowed = () => true, mirror = () => true,
}) {
  const s = { sharing: false };
  let track = null;
  let busy = false;
  let noteKey = null;
  const supported = !!(navigator.mediaDevices && typeof navigator.mediaDevices.getDisplayMedia === 'function');
  consult.screenSharing = false;

  function render() {
    button.hidden = !supported || (!s.sharing && !allowed());
    button.textContent = t(s.sharing ? keys.stop : keys.share);
    button.setAttribute('aria-pressed', String(s.sharing));
    const text = noteKey ? t(noteKey) : '';
    if (note.textContent !== text) note.textContent = text;
    note.hidden = !text;
  }

  function setNote(key) {
    noteKey = key;
    render();
  }

  function sender() {
    const c = session.active;
    return c && !c.closed && typeof c.videoSender === 'function' ? c.videoSender() : null;
  }

  async function prefer(snd, pref) {
    try {
      const p = snd.getParameters();
      if (p.degradationPreference === pref) return;
      p.degradationPreference = pref;
      await snd.setParameters(p);
    } catch (e) { /* not supported: the browser's default */ }
  }

  /** The screen track on the current call's sender (after a transport change too). */
  async function apply() {
    const snd = sender();
    if (!snd || !track) return false;
    if (snd.track !== track) await snd.replaceTrack(track);
    await prefer(snd, 'maintain-resolution');
    return true;
  }

  function announce(on) {
    if (tell) {
      Promise.resolve(tell(on)).catch((e) => {
        if (on && e && e.error === 'forbidden' && s.sharing) s.stop().then(() => setNote(keys.refused || keys.failed));
      });
      return;
    }
    if (channel.state === 'idle' || channel.state === 'closed') return;
    channel.send('screen', { on }).catch(() => {});
  }

  // A page's own announcement (tell) is asked before the picture goes out:
  // a refusal ('forbidden') stops the screen track and nothing was shown.
  // Another failure (a lost connection) shares all the same; the page's
  // next media state tells the other side.
  async function permitted(tr) {
    if (!tell) return true;
    try {
      await tell(true);
      return true;
    } catch (e) {
      if (!e || e.error !== 'forbidden') return true;
      tr.stop();
      setNote(keys.refused || keys.failed);
      return false;
    }
  }

  s.start = async () => {
    if (s.sharing || busy || !supported || !allowed()) return;
    if (!sender()) { setNote(keys.failed); return; }
    busy = true;
    button.disabled = true;
    let stream = null;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia(CONSTRAINTS);
    } catch (e) {
      // NotAllowedError: the doctor cancelled the choice - nothing to say
      if (!e || e.name !== 'NotAllowedError') setNote(keys.failed);
    }
    try {
      const tr = stream && stream.getVideoTracks()[0];
      if (!tr) return;
      if (!sender()) { tr.stop(); return; }         // the call ended meanwhile
      if (!(await permitted(tr))) return;
      if (!sender()) { tr.stop(); if (tell) announce(false); return; }
      try { tr.contentHint = 'detail'; } catch (e) { /* old browser */ }
      track = tr;
      tr.addEventListener('ended', () => { if (track === tr) s.stop(); });
      try {
        await apply();
      } catch (e) {
        track = null;
        tr.stop();
        setNote(keys.failed);
        if (tell) announce(false);
        return;
      }
      s.sharing = true;
      consult.screenSharing = true;
      localVideo.srcObject = new MediaStream([tr]);
      localVideo.classList.remove('mirror');
      noteKey = keys.sharing;
      if (!tell) announce(true);
    } finally {
      busy = false;
      button.disabled = false;
      render();
    }
  };

  s.stop = async ({ quiet = false } = {}) => {
    if (!s.sharing) return;
    const tr = track;
    s.sharing = false;
    track = null;
    consult.screenSharing = false;
    noteKey = null;
    const snd = sender();
    const stream = session.active ? session.active.localStream : null;
    const cam = stream ? stream.getVideoTracks()[0] || null : null;
    if (snd) {
      try {
        await snd.replaceTrack(cam);
        await prefer(snd, 'balanced');
      } catch (e) { console.warn('back to the camera failed', e && e.name); }
    }
    if (tr) tr.stop();
    if (!quiet) {
      localVideo.srcObject = stream;
      localVideo.classList.toggle('mirror', mirror());
      announce(false);
    }
    render();
  };

  button.addEventListener('click', () => (s.sharing ? s.stop() : s.start()));
  channel.onState((st) => {
    if (st === 'open' && s.sharing) {
      apply().then((ok) => { if (ok) announce(true); }, (e) => console.warn('screen on the new connection failed', e && e.name));
    } else if (st === 'closed' || st === 'idle') {
      noteKey = null;
      if (s.sharing) s.stop({ quiet: true }); else render();
    }
  });
  s.render = render;
  render();
  return s;
}
