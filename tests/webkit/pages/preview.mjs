// preview.mjs: the test driver of tests/webkit/pages/preview.html (a test
// page, not part of the product). window.T:
//   T.result          null, then {labels} after the tap on #start got the
//                     camera and microphone into #preview, or {error: name}
//   T.unmuted()       plays a stream with sound (a tone, no camera) in the
//                     unmuted #sound element; -> 'playing' or the error name
//                     (NotAllowedError: the browser refuses sound without a
//                     tap or a running capture)
//   T.switchCamera()  takes the other camera (deviceId exact), stops the old
//                     track first (phones have one camera open at a time);
//                     -> the new track's label
const $ = (id) => document.getElementById(id);
let stream = null;
let audioCtx = null;

const T = {
  result: null,
  async unmuted() {
    if (!audioCtx) audioCtx = new AudioContext();
    const osc = audioCtx.createOscillator();
    const dest = audioCtx.createMediaStreamDestination();
    osc.connect(dest);
    osc.start();
    const el = $('sound');
    el.srcObject = dest.stream;
    try {
      await el.play();
      return el.paused ? 'paused' : 'playing';
    } catch (e) {
      return e.name;
    }
  },
  async switchCamera() {
    const now = stream.getVideoTracks()[0];
    const cams = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
    const other = cams.find((d) => d.deviceId !== now.getSettings().deviceId);
    if (!other) throw new Error('only one camera');
    now.stop();
    stream.removeTrack(now);
    const s = await navigator.mediaDevices.getUserMedia({ video: { deviceId: { exact: other.deviceId } } });
    const track = s.getVideoTracks()[0];
    stream.addTrack(track);
    const v = $('preview');
    v.srcObject = new MediaStream(stream.getTracks());
    // a new srcObject restarts the element's load; WebKit's autoplay does
    // not always resume it, so play() as a page must (muted: allowed)
    v.play().catch(() => {});
    return track.label;
  },
};
window.T = T;

$('start').addEventListener('click', async () => {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    $('preview').srcObject = stream;
    T.result = { labels: stream.getTracks().map((t) => `${t.kind}:${t.label}`) };
  } catch (e) {
    T.result = { error: e.name };
  }
});
