// sound.mjs - one shared WebAudio context for the ring tone and the chime.
// Browsers only allow sound after a user gesture: call unlockAudio() from a
// click handler; audio() is then the running context, or null where the
// browser has none. No audio files are needed.
let ctx = null;

export function unlockAudio() {
  try {
    if (!ctx) {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (AC) ctx = new AC();
    }
    if (ctx && ctx.state === 'suspended') ctx.resume().catch(() => {});
  } catch (e) { ctx = null; }
}

export function audio() {
  return ctx;
}
