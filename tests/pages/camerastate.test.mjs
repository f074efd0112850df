// camerastate.test.mjs: the camera switch remembers the rear camera
// (html/js/camerastate.mjs, media.mjs switchCameraTrack) for the photo flow
// and the torch. In node with a stand-in for navigator.mediaDevices and
// tracks that report their settings as a phone's do (Chromium's fake
// cameras on Linux have no facing mode, so a browser cannot show this).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cameraState, forgetCameras, noteCamera, onCameraChange, rearCameraConstraints,
} from '../../html/js/camerastate.mjs';
import { switchCameraTrack } from '../../html/js/media.mjs';

// A phone: one front camera, two rear ones (main and wide angle).
const CAMERAS = [
  { deviceId: 'front', facingMode: 'user' },
  { deviceId: 'rear-main', facingMode: 'environment' },
  { deviceId: 'rear-wide', facingMode: 'environment' },
];

function track(cam) {
  return {
    kind: 'video', enabled: true, readyState: 'live', cam,
    stop() { this.readyState = 'ended'; },
    getSettings() { return { deviceId: cam.deviceId, facingMode: cam.facingMode }; },
  };
}

function phone() {
  const asked = [];
  const gum = async ({ video }) => {
    asked.push(JSON.parse(JSON.stringify(video)));
    let cam;
    if (video.deviceId) cam = CAMERAS.find((c) => c.deviceId === video.deviceId.exact);
    else if (video.facingMode && video.facingMode.exact) cam = CAMERAS.find((c) => c.facingMode === video.facingMode.exact);
    else cam = CAMERAS.find((c) => c.facingMode === video.facingMode) || CAMERAS[0];
    if (!cam) throw Object.assign(new Error('no such camera'), { name: 'OverconstrainedError' });
    return { getVideoTracks: () => [track(cam)] };
  };
  Object.defineProperty(globalThis, 'navigator', { value: { mediaDevices: { getUserMedia: gum } }, configurable: true });
  const tracks = [track(CAMERAS[0])];
  const stream = {
    getVideoTracks: () => tracks.filter((t) => t.kind === 'video'),
    removeTrack: (t) => tracks.splice(tracks.indexOf(t), 1),
    addTrack: (t) => tracks.push(t),
  };
  const sent = [];
  const sender = { replaceTrack: async (t) => { sent.push(t); } };
  return { asked, stream, sender, sent };
}

test('noteCamera: a rear camera is remembered by its id; the front one does not overwrite it', () => {
  forgetCameras();
  const heard = [];
  const off = onCameraChange((c) => heard.push(c.facing));
  assert.deepEqual(rearCameraConstraints({ width: { ideal: 4096 } }), { width: { ideal: 4096 }, facingMode: { exact: 'environment' } },
    'nothing remembered yet: any rear camera');
  noteCamera(track(CAMERAS[2]), 'user');      // the track's own facingMode wins over the asked one
  assert.equal(cameraState().facing, 'environment');
  assert.equal(cameraState().rearDeviceId, 'rear-wide');
  noteCamera(track(CAMERAS[0]), 'environment');
  assert.equal(cameraState().facing, 'user');
  assert.deepEqual(rearCameraConstraints(), { deviceId: { exact: 'rear-wide' } });
  forgetCameras();
  assert.equal(cameraState().track, null, 'the call ended: no track');
  assert.equal(cameraState().rearDeviceId, 'rear-wide', 'the rear camera stays known for the next call');
  off();
  assert.deepEqual(heard, ['environment', 'user']);
});

test('switchCameraTrack: to the rear, then back, then to the same rear camera again (by its id)', async () => {
  const { asked, stream, sender, sent } = phone();
  noteCamera(track(CAMERAS[0]), 'user');      // the call starts on the front camera
  const first = await switchCameraTrack(stream, sender, 'user');
  assert.equal(first, 'environment');
  assert.equal(sent.at(-1).cam.deviceId, 'rear-wide', 'remembered from the test above');
  // the patient picks the main rear camera some other way (a page reload
  // would forget; here: noteCamera as the photo flow would after opening it)
  noteCamera(track(CAMERAS[1]), 'environment');
  const back = await switchCameraTrack(stream, sender, 'environment');
  assert.equal(back, 'user');
  assert.equal(sent.at(-1).cam.deviceId, 'front');
  const again = await switchCameraTrack(stream, sender, 'user');
  assert.equal(again, 'environment');
  assert.equal(sent.at(-1).cam.deviceId, 'rear-main', 'the rear camera used last, not just any');
  assert.deepEqual(asked, [
    { deviceId: { exact: 'rear-wide' } },
    { facingMode: { exact: 'user' } },
    { deviceId: { exact: 'rear-main' } },
  ]);
  assert.equal(cameraState().track, sent.at(-1), 'camerastate follows the switch');
  assert.equal(stream.getVideoTracks().length, 1, 'one video track in the stream');
});

test('switchCameraTrack: a remembered rear camera that is gone falls back to any rear camera', async () => {
  const { asked, stream, sender, sent } = phone();
  noteCamera(track({ deviceId: 'unplugged', facingMode: 'environment' }), 'environment');
  noteCamera(track(CAMERAS[0]), 'user');
  const now = await switchCameraTrack(stream, sender, 'user');
  assert.equal(now, 'environment');
  assert.equal(sent.at(-1).cam.facingMode, 'environment');
  assert.deepEqual(asked, [{ deviceId: { exact: 'unplugged' } }, { facingMode: 'environment' }]);
});
