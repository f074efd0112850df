// mediastate.mjs: each side of a call tells the other whether its microphone
// and camera are on (docs/protocol.md, `signal` type `media`), so a black
// picture or silence is explained ("Die Praxis hat die Kamera ausgeschaltet").
// Used by doctor.mjs and patient-call.mjs; rtc.mjs / forward.mjs ignore the type.
// Contract:
//   sendMediaState(session, {audio, video}) -> Promise<boolean>
//     session: a CallSession (its .client is used) or a ConsultClient. Sends
//     {"request":"signal","type":"media","audio":bool,"video":bool} on the
//     client's 'media' lane (requestInTurn: after the reply to the one
//     before, so the newest state is relayed last); true when
//     the plugin took it, false otherwise (no client, not in a call, an old
//     plugin). Never throws. Pages send it on every mute/camera toggle, once
//     after the call connects and after an audio-only accept.
//   localMediaState(session) -> {audio, video}: a CallSession's own state now
//     (on = not switched off and a live track of that kind exists).
//   isMediaSignal(ev) -> true for a `signal` event of type media.
//   mediaStateKey(prefix, state) -> the i18n key '<prefix>.media.audio_off',
//     '<prefix>.media.video_off' or '<prefix>.media.both_off' for the other
//     side's {audio, video}; null when both are on or state is null.
//   mediaStateText(prefix, state, vars) -> t(mediaStateKey(...), vars) or ''.
import { t } from './i18n.mjs';

export async function sendMediaState(session, { audio, video }) {
  const client = session && typeof session.request === 'function' ? session : session && session.client;
  if (!client || typeof client.requestInTurn !== 'function') return false;
  try {
    // one after the other (janus-client.mjs requestInTurn): the newest state last
    await client.requestInTurn('media', { request: 'signal', type: 'media', audio: !!audio, video: !!video });
    return true;
  } catch (e) {
    return false;
  }
}

function live(stream, kind) {
  if (!stream || typeof stream.getTracks !== 'function') return false;
  return stream.getTracks().some((tr) => tr.kind === kind && tr.readyState !== 'ended');
}

export function localMediaState(session) {
  const c = session && session.active;
  const stream = (c && c.localStream) || (session && session.localStream) || null;
  return {
    audio: !!session && !session.muted && live(stream, 'audio'),
    video: !!session && !session.cameraOff && live(stream, 'video'),
  };
}

export function isMediaSignal(ev) {
  return !!ev && ev.type === 'media' && typeof ev.audio === 'boolean' && typeof ev.video === 'boolean';
}

export function mediaStateKey(prefix, state) {
  if (!state) return null;
  const audio = state.audio !== false;
  const video = state.video !== false;
  if (audio && video) return null;
  return `${prefix}.media.${!audio && !video ? 'both_off' : audio ? 'video_off' : 'audio_off'}`;
}

export function mediaStateText(prefix, state, vars) {
  const key = mediaStateKey(prefix, state);
  return key ? t(key, vars) : '';
}
