// camerastate.mjs: which camera the page sends, shared by the call's camera
// switch (media.mjs switchCameraTrack), the torch (torch.mjs) and the photo
// flow, which wants the rear camera the patient already chose during the
// call (docs/pages.md, "Torch and camera"). Memory only: nothing is stored.
// Contract:
//   noteCamera(track, facing)  the page now sends `track`, opened for facing
//     'user' | 'environment'. The facing is the track's own
//     getSettings().facingMode when the browser reports one (phones do),
//     else `facing`. A rear camera's deviceId is remembered (rearDeviceId)
//     until forgetCameras(). Listeners hear {facing, track}.
//   cameraState() -> {facing, track, rearDeviceId} (a copy)
//   rearCameraConstraints(extra) -> video constraints for the rear camera:
//     {deviceId: {exact: rearDeviceId}} once one was used, else
//     {facingMode: {exact: 'environment'}}; `extra` (e.g. width/height) is
//     merged in.
//   onCameraChange(fn) -> off()
//   forgetCameras()  the call is over: no track; the rear camera's id stays
//     for the next call of this page (the same device)

const state = { facing: 'user', track: null, rearDeviceId: null };
const listeners = new Set();

function settingsOf(track) {
  try { return (track && typeof track.getSettings === 'function' && track.getSettings()) || {}; } catch (e) { return {}; }
}

export function noteCamera(track, facing) {
  const s = settingsOf(track);
  const f = s.facingMode === 'user' || s.facingMode === 'environment' ? s.facingMode : facing === 'environment' ? 'environment' : 'user';
  state.facing = f;
  state.track = track || null;
  if (f === 'environment' && typeof s.deviceId === 'string' && s.deviceId) state.rearDeviceId = s.deviceId;
  for (const fn of [...listeners]) {
    try { fn({ facing: f, track: state.track }); } catch (e) { console.error('camera listener failed', e); }
  }
}

export function cameraState() { return { ...state }; }

export function rearCameraConstraints(extra = {}) {
  const base = state.rearDeviceId ? { deviceId: { exact: state.rearDeviceId } } : { facingMode: { exact: 'environment' } };
  return { ...extra, ...base };
}

export function onCameraChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function forgetCameras() {
  state.track = null;
  state.facing = 'user';
}
