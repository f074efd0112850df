// photo-patient.mjs: the patient's side of "photo on request" (docs/pages.md,
// "Photo on request"): the dialog #photo explains what the practice asks,
// shows the camera large (the rear one on phones), offers the light where
// the camera has a torch, takes the picture at the camera's full resolution,
// shows it, and sends it only when the patient presses "Senden"
// ("Neu aufnehmen" takes another, "Abbrechen" refuses: nothing is sent).
// Contract: const p = photoPatient({channel, session, consult, notice(key)})
//   channel: the call session's CallChannel; session: its CallSession (the
//   camera track, switchCamera); notice(key) shows a short patient notice.
//   p.render() (language change).
//   consult.photo -> {step, n, width, height, size, sha256, url, sendAt,
//   result, sent} (tests and bench/photo.mjs): step '' | 'ask' | 'review' |
//   'sending' | 'sent' | 'failed'; url the preview's object URL; sendAt the
//   "Senden" click (performance.timeOrigin + performance.now()); result
//   'ok' or the doctor's page's error; sent {n, sha256, size, width,
//   height, handedAt} of the last photo handed to the channel (SHA-256 as announced
//   in photo-begin).
// Camera: the photo uses a clone of the call's video track (enabled even
//   when the patient switched the camera off for the call: the practice
//   sees nothing but the picture the patient sends); a call without a
//   camera track opens one for the photo alone (getUserMedia, facingMode
//   environment preferred), stopped when the picture is taken. Phones with a front
//   and a rear camera switch the call to the rear one for the photo and back
//   afterwards (session.switchCamera: phones cannot open two cameras).
// Capture (captureFull): ImageCapture.takePhoto at the largest
//   imageWidth/imageHeight of getPhotoCapabilities (Chromium, Android);
//   otherwise (Firefox, Safari) the clone is set to the largest width/height
//   of getCapabilities with applyConstraints and one frame at that size is
//   drawn onto a canvas. Either way the picture is encoded once more as
//   JPEG at photo.mjs JPEG_QUALITY (0.92; lower only if larger than
//   MAX_PHOTO_BYTES): the same format from every browser, and no EXIF
//   metadata (location, device) leaves the phone.
// Torch: shown when the clone's getCapabilities().torch is true; switched
//   with applyConstraints({advanced: [{torch}]}); off when the dialog closes.
import { t } from './i18n.mjs';
import { JPEG_QUALITY, LOWER_QUALITIES, MAX_PHOTO_BYTES, PhotoSender, sha256Hex } from './photo.mjs';

const $ = (id) => document.getElementById(id);
const FRAME_WAIT_MS = 3000;

function toBlob(canvas, quality) {
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('encode'))), 'image/jpeg', quality));
}

/** One frame of the track at its largest size (no ImageCapture). */
async function largestFrame(track) {
  const caps = typeof track.getCapabilities === 'function' ? track.getCapabilities() : {};
  const w = caps.width && caps.width.max;
  const h = caps.height && caps.height.max;
  try {
    await track.applyConstraints(w && h ? { width: { ideal: w }, height: { ideal: h } } : { width: { ideal: 4096 } });
  } catch (e) { /* keep the current size */ }
  const want = track.getSettings();
  const v = document.createElement('video');
  v.muted = true;
  v.playsInline = true;
  v.srcObject = new MediaStream([track]);
  try {
    await v.play();
    const until = Date.now() + FRAME_WAIT_MS;
    // wait for a frame at the new size (the camera may restart to deliver it)
    while (Date.now() < until && !(v.videoWidth && (!want.width || v.videoWidth === want.width))) {
      await new Promise((r) => (v.requestVideoFrameCallback ? v.requestVideoFrameCallback(() => r()) : setTimeout(r, 50)));
    }
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    c.getContext('2d').drawImage(v, 0, 0, c.width, c.height);
    return c;
  } finally {
    v.pause();
    v.srcObject = null;
  }
}

/** {bytes, width, height} of a JPEG at the camera's full resolution. */
export async function captureFull(track) {
  let canvas = null;
  if (typeof ImageCapture === 'function') {
    try {
      const ic = new ImageCapture(track);
      let settings = {};
      try {
        const pc = await ic.getPhotoCapabilities();
        if (pc && pc.imageWidth && pc.imageWidth.max && pc.imageHeight && pc.imageHeight.max) {
          settings = { imageWidth: pc.imageWidth.max, imageHeight: pc.imageHeight.max };
        }
      } catch (e) { /* takePhoto's own default */ }
      let blob;
      try { blob = await ic.takePhoto(settings); } catch (e) { blob = await ic.takePhoto(); }
      const bm = await createImageBitmap(blob);
      canvas = document.createElement('canvas');
      canvas.width = bm.width;
      canvas.height = bm.height;
      canvas.getContext('2d').drawImage(bm, 0, 0);
      bm.close();
    } catch (e) {
      console.warn('takePhoto failed, using a video frame', e && e.name);
      canvas = null;
    }
  }
  if (!canvas) canvas = await largestFrame(track);
  if (!canvas.width || !canvas.height) throw new Error('no frame');
  let blob = null;
  for (const q of [JPEG_QUALITY, ...LOWER_QUALITIES]) {
    blob = await toBlob(canvas, q);
    if (blob.size <= MAX_PHOTO_BYTES) break;
  }
  if (blob.size > MAX_PHOTO_BYTES) throw new Error('too_large');
  const out = { bytes: new Uint8Array(await blob.arrayBuffer()), width: canvas.width, height: canvas.height };
  canvas.width = 0;      // free the pixels now
  return out;
}

export function photoPatient({ channel, session, consult, notice = () => {} }) {
  let step = '';
  let n = 0;
  let live = null;            // the cloned track shown and captured
  let switched = false;       // we moved the call to the rear camera
  let torchOn = false;
  let shot = null;            // {bytes, width, height}
  let url = null;
  let statusKey = '';
  let statusVars = null;
  const info = { step: '', n: 0, width: 0, height: 0, size: 0, sha256: '', url: null, sendAt: 0, result: '', sent: null };
  consult.photo = info;

  const sender = new PhotoSender(channel, {
    onRequest: (k) => ask(k),
    onCancel: () => { close(); notice('photo.withdrawn'); },
    onProgress: (k, f) => { if (step === 'sending') $('photo-progress').value = f; },
    onResult: (k, ok, error) => {
      if (step !== 'sending' && step !== 'failed') return;
      if (ok) {
        info.result = 'ok';
        setStep('sent', 'photo.sent');
        close();
        notice('photo.sent');
      } else {
        info.result = error;
        setStep('failed', error === 'interrupted' ? 'photo.interrupted' : 'photo.failed');
      }
    },
  });
  channel.onState((st) => {
    if (st === 'closed' && step) close();
  });

  function setStep(s, key, vars) {
    step = s;
    info.step = s;
    statusKey = key || '';
    statusVars = vars || null;
    render();
  }

  function render() {
    const box = $('photo');
    box.hidden = !step || step === 'sent';
    box.dataset.step = step;
    const text = statusKey ? t(statusKey, statusVars || {}) : '';
    if ($('photo-status').textContent !== text) $('photo-status').textContent = text;
    $('photo-live').hidden = step !== 'ask';
    $('photo-preview').hidden = !(step === 'review' || step === 'sending' || step === 'failed');
    $('photo-preview').alt = t('photo.preview');
    $('photo-take').hidden = step !== 'ask';
    $('photo-take').disabled = !live;
    $('photo-send').hidden = !(step === 'review' || step === 'failed');
    $('photo-send').textContent = t(step === 'failed' ? 'photo.send.again' : 'photo.send');
    $('photo-send').disabled = channel.state !== 'open';
    $('photo-retake').hidden = !(step === 'review' || step === 'failed');
    $('photo-cancel').hidden = step === 'sending';
    const torch = $('photo-torch');
    torch.hidden = !(step === 'ask' && live && hasTorch(live));
    torch.textContent = t(torchOn ? 'photo.torch.off' : 'photo.torch.on');
    torch.setAttribute('aria-pressed', String(torchOn));
    $('photo-progress').hidden = step !== 'sending';
  }

  function hasTorch(track) {
    try { return !!(typeof track.getCapabilities === 'function' && track.getCapabilities().torch); } catch (e) { return false; }
  }

  function callTrack() {
    const s = (session.active && session.active.localStream) || session.localStream;
    return s ? s.getVideoTracks()[0] || null : null;
  }

  async function rearCamera() {
    const c = session.active;
    if (!c || c.facing !== 'user' || !navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    // phones: the camera says it faces the user; desktop webcams say nothing
    const tr = callTrack();
    let facings = [];
    try { facings = (tr && typeof tr.getCapabilities === 'function' && tr.getCapabilities().facingMode) || []; } catch (e) { facings = []; }
    if (!facings.includes('user')) return;
    try {
      const d = await navigator.mediaDevices.enumerateDevices();
      if (d.filter((x) => x.kind === 'videoinput').length < 2) return;
      const facing = await session.switchCamera();
      if (facing === 'environment') {
        switched = true;
        $('local-video').classList.remove('mirror');
      }
    } catch (e) { console.warn('rear camera not available', e && e.name); }
  }

  async function startCamera(k) {
    await rearCamera();
    if (n !== k || step !== 'ask') return;
    const tr = callTrack();
    if (tr && tr.readyState === 'live') {
      live = tr.clone();
      live.enabled = true;
    } else {
      // a call without a camera track (audio only): a camera for the photo alone
      try {
        const s = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' } } });
        if (n !== k || step !== 'ask') { s.getTracks().forEach((x) => x.stop()); return; }
        live = s.getVideoTracks()[0];
      } catch (e) {
        setStep('ask', 'photo.no.camera');
        return;
      }
    }
    const v = $('photo-live');
    v.srcObject = new MediaStream([live]);
    v.classList.toggle('mirror', !switched && session.active && session.active.facing === 'user');
    v.play().catch(() => {});
    render();
  }

  async function ask(k) {
    if (step === 'sending') return;      // one at a time; the doctor's page waits
    cleanupShot();
    stopLive();
    n = k;
    info.n = k;
    info.result = '';
    setStep('ask', '');
    sender.opened(k);
    $('photo-take').focus();
    await startCamera(k);
  }

  async function take() {
    if (step !== 'ask' || !live) return;
    $('photo-take').disabled = true;
    setStep('ask', 'photo.taking');
    try {
      shot = await captureFull(live);
    } catch (e) {
      console.warn('photo capture failed', e && (e.name || e.message));
      setStep('ask', e && e.message === 'too_large' ? 'photo.too.large' : 'photo.take.failed');
      return;
    }
    if (step !== 'ask') { shot = null; return; }
    shot.sha256 = await sha256Hex(shot.bytes);   // now, not after "Senden"
    if (step !== 'ask') { shot = null; return; }
    if (url) URL.revokeObjectURL(url);
    url = URL.createObjectURL(new Blob([shot.bytes], { type: 'image/jpeg' }));
    Object.assign(info, { url, width: shot.width, height: shot.height, size: shot.bytes.length, sha256: '' });
    $('photo-preview').src = url;
    stopLive();                  // the camera clone is not needed while the patient decides (torch off too)
    setStep('review', 'photo.review');
    sender.taken(n);
    $('photo-send').focus();
  }

  async function send() {
    if (!shot || (step !== 'review' && step !== 'failed')) return;
    info.sendAt = performance.timeOrigin + performance.now();
    $('photo-progress').value = 0;
    setStep('sending', 'photo.sending');
    try {
      const { width, height } = shot;
      const r = await sender.send(n, shot);
      info.sent = { n, sha256: r.sha256, size: r.size, width, height, handedAt: r.handedAt };
      if (info.url) Object.assign(info, { sha256: r.sha256, size: r.size });
      if (step === 'sending') setStep('sending', 'photo.checking');
    } catch (e) {
      if (step === 'sending') setStep('failed', 'photo.interrupted');
    }
  }

  function retake() {
    if (step !== 'review' && step !== 'failed') return;
    cleanupShot();
    setStep('ask', '');
    if (!live) startCamera(n); else render();
    $('photo-take').focus();
  }

  function refuse() {
    if (!step || step === 'sending') return;
    sender.refuse(n);
    close();
  }

  async function torch(on) {
    if (!live || !hasTorch(live)) { torchOn = false; return; }
    try {
      await live.applyConstraints({ advanced: [{ torch: on }] });
      torchOn = on;
    } catch (e) { torchOn = false; }
    render();
  }

  function cleanupShot() {
    shot = null;
    if (url) URL.revokeObjectURL(url);
    url = null;
    $('photo-preview').removeAttribute('src');
    Object.assign(info, { url: null, width: 0, height: 0, size: 0, sha256: '' });
  }

  function stopLive() {
    if (live) {
      if (torchOn) { try { live.applyConstraints({ advanced: [{ torch: false }] }).catch(() => {}); } catch (e) { /* gone */ } }
      live.stop();
    }
    live = null;
    torchOn = false;
    $('photo-live').srcObject = null;
  }

  function close() {
    const wasOpen = !!step;
    stopLive();
    cleanupShot();
    if (switched && session.active) {
      switched = false;
      session.switchCamera().then((f) => $('local-video').classList.toggle('mirror', f === 'user')).catch(() => {});
    }
    switched = false;
    setStep('', '');
    if (wasOpen && !$('hangup').hidden) $('hangup').focus();
  }

  $('photo-take').addEventListener('click', take);
  $('photo-send').addEventListener('click', send);
  $('photo-retake').addEventListener('click', retake);
  $('photo-cancel').addEventListener('click', refuse);
  $('photo-torch').addEventListener('click', () => torch(!torchOn));
  $('photo').addEventListener('keydown', (ev) => { if (ev.key === 'Escape') refuse(); });
  channel.onState(() => { if (step) render(); });
  render();

  return { render };
}
