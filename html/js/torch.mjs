// torch.mjs: the camera's light during the call, where the camera has one
// (docs/pages.md, "Torch and camera"). Used by calltools.mjs on both pages.
// Contract:
//   torchSupported(track) -> true when track.getCapabilities().torch
//     offers `true` (a boolean true or an array holding true); false for no
//     track, an ended one, or a browser without getCapabilities.
//   setTorch(track, on) -> Promise<boolean>: applyConstraints({advanced:
//     [{torch: on}]}); true when the track reports the new value (or has no
//     way to say), false when refused. Never throws.
//   const tc = torchControl({button, track: () => MediaStreamTrack|null})
//     tc.update()   the button is shown only while the current track
//                   supports the torch; a new track starts with the light
//                   off (aria-pressed false). Call on every track change
//                   (call start, camera switch).
//     tc.render()   the button's label in the page's language
//     tc.on         the light is on (as far as the page knows)
//   Button texts: call.torch.on "Licht an" / call.torch.off "Licht aus".
import { t } from './i18n.mjs';

export function torchSupported(track) {
  if (!track || track.readyState === 'ended' || typeof track.getCapabilities !== 'function') return false;
  let caps;
  try { caps = track.getCapabilities() || {}; } catch (e) { return false; }
  const v = caps.torch;
  return v === true || (Array.isArray(v) && v.includes(true));
}

export async function setTorch(track, on) {
  if (!torchSupported(track)) return false;
  try {
    await track.applyConstraints({ advanced: [{ torch: !!on }] });
  } catch (e) {
    return false;
  }
  try {
    const s = track.getSettings ? track.getSettings() : {};
    return s.torch === undefined || s.torch === !!on;
  } catch (e) {
    return true;
  }
}

export function torchControl({ button, track }) {
  let current = null;
  const tc = {
    on: false,
    update() {
      const tr = track();
      if (tr !== current) { current = tr; tc.on = false; }
      button.hidden = !torchSupported(tr);
      tc.render();
    },
    render() {
      button.textContent = t(tc.on ? 'call.torch.off' : 'call.torch.on');
      button.setAttribute('aria-pressed', String(tc.on));
    },
  };
  button.addEventListener('click', async () => {
    const tr = track();
    if (!tr) return;
    button.disabled = true;
    const want = !tc.on;
    try {
      if (await setTorch(tr, want)) tc.on = want;
    } finally {
      button.disabled = false;
      tc.update();
    }
  });
  return tc;
}
