// photo-doctor.mjs: "Foto anfordern" on the doctor's page (docs/pages.md,
// "Photo on request"): the request button in the call's controls, #photos
// (status, progress, the numbered photos of the call) and the viewer
// #photo-viewer (full size, zoom, pan, "Speichern" as a download from an
// object URL). The photos live in this page's memory only: from their
// arrival until the next call begins, a logout or the page is left; never
// on the server, never in a log.
// Contract: const p = photoDoctor({channel, consult})   channel: the call
//   session's CallChannel. p.render() (language change), p.reset() (logout:
//   forget the photos). consult.photos -> [{n, state, received, size,
//   sha256, width, height, error, url}] (photo.mjs PhotoReceiver entries;
//   url: the verified JPEG's object URL, null until the viewer's first
//   sight of it is on screen), consult.photoShown -> {n, at,
//   via} once the viewer shows photo n decoded (at: performance.timeOrigin-
//   based ms of the frame after it was put on screen; via 'scaled': decoded
//   at about the viewer's size (ImageDecoder) at photo-end, 'streamed': the
//   same, fed while the photo arrived, 'decoded': the full image;
//   for bench/photo.mjs), consult.photoViewer -> {n, zoom} while open.
// The request button is shown while the call channel is open (both pages
// reached) and disabled while a request runs. A new call (the channel
// begins again) starts a fresh numbering and forgets the old photos.
import { t, fmtTime } from './i18n.mjs';
import { PhotoReceiver } from './photo.mjs';

const $ = (id) => document.getElementById(id);
const ZOOM_MIN = 0.05;
const ZOOM_MAX = 8;
const PROGRESS_MS = 250;

/** Sets a property only when it changes (no style work for equal values). */
function put(el, key, value) {
  if (el[key] !== value) el[key] = value;
}

// a partial picture of the streamed decode is asked for every this many
// chunks (16 KiB each) while none is pending: each answer is a picture
// copied out and closed
const PARTIAL_EVERY = 16;

export function photoDoctor({ channel, consult }) {
  const verified = new Map(); // n -> the verified JPEG's bytes until its Blob is made (urlOf)
  const urls = new Map();     // n -> object URL of the verified photo
  const blobs = new Map();    // n -> its Blob (the same bytes; the viewer's first, reduced decode reads it)
  const early = new Map();    // n -> Promise of its reduced decode, started while the checks ran (shown only once done)
  const streams = new Map();  // n -> its reduced decode fed while the bytes arrive (streamDecoder)
  const streamed = new Set(); // n whose early picture came from that decode
  const thumbs = new Set();   // n whose thumbnail may load (after the viewer showed it: one decode at a time)
  let listSig = '';
  let viewing = 0;            // n shown in the viewer
  let zoom = 1;
  let progressTimer = 0;
  const receiver = new PhotoReceiver(channel, { onChange: (e) => changed(e), onBytes: (e, b) => bytesIn(e, b) });

  Object.defineProperties(consult, {
    photos: {
      get: () => receiver.entries.map((e) => ({
        n: e.n, state: e.state, received: e.received, size: e.size, sha256: e.sha256,
        width: e.width, height: e.height, error: e.error, url: urls.get(e.n) || null, t: { ...e.t },
      })),
      enumerable: true, configurable: true,
    },
    photoViewer: { get: () => (viewing ? { n: viewing, zoom } : null), enumerable: true, configurable: true },
  });
  consult.photoShown = null;

  let lastChannel = channel.state;
  channel.onState((st) => {
    // a new call: fresh numbering, the last call's photos go
    if (st === 'connecting' && (lastChannel === 'closed' || lastChannel === 'idle')) reset();
    lastChannel = st;
    render();
  });

  /** The object URL of verified photo n, its Blob made on first use (after the first sight: not on its way); null if none. */
  function urlOf(n) {
    if (!urls.has(n) && verified.has(n)) {
      const blob = new Blob([verified.get(n)], { type: 'image/jpeg' });
      verified.delete(n);
      blobs.set(n, blob);
      urls.set(n, URL.createObjectURL(blob));
    }
    return urls.get(n) || null;
  }

  const isVerified = (n) => urls.has(n) || verified.has(n);

  function changed(e) {
    if (e.state === 'failed') {        // checks failed (nothing held), or the viewer could not decode it
      if (urls.has(e.n)) URL.revokeObjectURL(urls.get(e.n));
      urls.delete(e.n);
      blobs.delete(e.n);
      verified.delete(e.n);
    }
    if (e.state === 'checking' && e.unverified) decodeEarly(e);
    else if (e.state !== 'done' && e.state !== 'receiving') dropEarly(e.n);   // failed, cancelled, interrupted: never shown
    if (e.state === 'done' && e.bytes && !isVerified(e.n)) {
      verified.set(e.n, e.bytes);
      e.bytes = null;           // this page holds the bytes from now on
      open(e.n);
    }
    if (e.state === 'receiving') {
      // the progress bar four times a second, not per chunk: the page's
      // main thread also takes the chunks
      if (!progressTimer) progressTimer = setTimeout(() => { progressTimer = 0; renderStatus(); }, PROGRESS_MS);
      return;
    }
    render();
  }

  function statusText(e) {
    if (!e) return '';
    const v = { n: e.n };
    switch (e.state) {
      case 'requested': return t('doctor.photo.requested', v);
      case 'opened': return t('doctor.photo.opened', v);
      case 'taken': return t('doctor.photo.taken', v);
      case 'receiving': return t('doctor.photo.receiving', v);   // the amount: #photo-progress
      case 'checking': return t('doctor.photo.checking', v);
      case 'done': return t('doctor.photo.done', v);
      case 'refused': return t('doctor.photo.refused', v);
      case 'cancelled': return t('doctor.photo.cancelled', v);
      case 'interrupted': return t('doctor.photo.interrupted', v);
      // i18n-keys: doctor.photo.error.*
      case 'failed': return t('doctor.photo.failed', v) + ' ' + t('doctor.photo.error.' + (e.error || 'protocol'));
      default: return '';
    }
  }

  /** The button, the status line and the progress bar (cheap: also while receiving). */
  function renderStatus() {
    const btn = $('photo-request');
    const open = channel.state === 'open';
    put(btn, 'hidden', !open && !receiver.pending);
    put(btn, 'disabled', !open || !!receiver.pending);
    const entries = receiver.entries;
    put($('photos'), 'hidden', entries.length === 0);
    const cur = receiver.pending || entries[entries.length - 1] || null;
    put($('photo-status'), 'textContent', statusText(cur));   // aria-live: no repeats
    const st = $('photo-status');
    if (st.dataset.state !== (cur ? cur.state : '')) st.dataset.state = cur ? cur.state : '';
    const prog = $('photo-progress');
    put(prog, 'hidden', !(cur && (cur.state === 'receiving' || cur.state === 'checking')));
    put(prog, 'value', cur && cur.size ? cur.received / cur.size : 0);
    put($('photo-withdraw'), 'hidden', !receiver.pending);
  }

  function render() {
    renderStatus();
    // the list only when what it shows changed (no new thumbnails per chunk)
    const entries = receiver.entries;
    const sig = `${t('doctor.photo.save')}|` + entries.map((e) => `${e.n}:${e.state}:${urls.has(e.n)}:${thumbs.has(e.n)}`).join(',');
    if (sig !== listSig) {
      listSig = sig;
      $('photo-list').replaceChildren(...entries.map(item));
    }
    if (viewing) renderViewer();
  }

  function item(e) {
    const li = document.createElement('li');
    li.dataset.n = String(e.n);
    li.dataset.state = e.state;
    const url = urls.get(e.n);
    if (url) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'photo-open';
      const img = document.createElement('img');
      if (thumbs.has(e.n)) img.src = url;
      img.alt = '';
      img.decoding = 'async';
      const label = document.createElement('span');
      label.textContent = t('doctor.photo.label', { n: e.n, time: fmtTime(Math.floor((e.doneAt || Date.now()) / 1000)) });
      b.append(img, label);
      b.setAttribute('aria-label', t('doctor.photo.open', { n: e.n }));
      b.addEventListener('click', () => open(e.n));
      const save = saveLink(e);
      li.append(b, save);
    } else {
      const span = document.createElement('span');
      span.textContent = statusText(e);
      li.appendChild(span);
    }
    return li;
  }

  function fileName(e) {
    const d = new Date(e.doneAt || Date.now());
    const p = (x) => String(x).padStart(2, '0');
    return `${t('doctor.photo.file')}-${e.n}_${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}-${p(d.getMinutes())}.jpg`;
  }

  function saveLink(e) {
    const a = document.createElement('a');
    a.className = 'photo-save button secondary';
    a.href = urls.get(e.n);
    a.download = fileName(e);
    a.textContent = t('doctor.photo.save');
    a.setAttribute('aria-label', t('doctor.photo.save.n', { n: e.n }));
    return a;
  }

  // ---- viewer ---------------------------------------------------------------------
  // First sight at the stage's size: where WebCodecs' ImageDecoder exists
  // (Chromium, Firefox), the JPEG is decoded straight at about the fitted size
  // (libjpeg's reduced-size decoding in eighths: an 8 MP photo in a ~1000 px
  // viewer at 3/8, a fraction of the full decode's work), converted to an
  // ImageBitmap off the frames that show it (drawing the decoder's
  // VideoFrame on a 2D canvas cost the main thread 9-33 ms) and put on a
  // bitmaprenderer canvas over the image. The <img> with the full, verified bytes lies
  // underneath for zoom, pan and "Speichern"; the canvas goes at the first
  // zoom; it loads only after the first sight is drawn (no full decode
  // competing with it). The reduced decode is fed the chunks while they
  // arrive (streamDecoder) and finished while the checks (SHA-256, size,
  // frame header) run, on the very bytes they read (without streams: the
  // whole photo is decoded then); it is put on screen only once they
  // passed; a photo that fails them is never drawn. The Blob and object
  // URL of the full image are made only after the first sight (a 4 MB Blob
  // costs 4-11 ms of this thread). Elsewhere (no ImageDecoder) the full
  // image is decoded (img.decode()).
  // consult.photoShown: the frame after the decoded picture was put on screen.
  let preview = null;                 // the first-sight canvas while at the fitted size

  function dropPreview() {
    if (preview) preview.remove();
    preview = null;
  }

  /** Resolves once the frame with the picture was produced (two animation frames later). */
  function markShown(n, via) {
    const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
    return (async () => {
      await frame();
      await frame();                    // the frame with the picture was produced
      if (viewing !== n) return;
      consult.photoShown = { n, at: performance.timeOrigin + performance.now(), via };
      thumbs.add(n);
      render();
    })();
  }

  /** The photo's fitted size in CSS pixels in a box of boxW x boxH. */
  function fitted(nat, boxW, boxH) {
    const z = Math.min(1, boxW / nat.w, boxH / nat.h);
    return { w: nat.w * z, h: nat.h * z };
  }

  /**
   * Decodes a JPEG (Blob or Uint8Array) of nat.w x nat.h at the smallest eighth of its size that
   * still covers cssW CSS pixels (sharp, yet reduced): a VideoFrame (the
   * caller closes it), or null where ImageDecoder does not exist.
   */
  async function decodeReduced(blob, nat, cssW) {
    if (typeof ImageDecoder === 'undefined' || !blob || !nat || !(cssW > 0)) return null;
    // bytes at hand (while checking) are decoded as they are; a Blob is read first
    const dec = new ImageDecoder({
      data: blob instanceof Uint8Array ? blob : await blob.arrayBuffer(), type: 'image/jpeg', ...reducedSize(nat, cssW),
    });
    try {
      return await toBitmap((await dec.decode()).image);
    } finally {
      dec.close();
    }
  }

  /** The decoded VideoFrame as an ImageBitmap (converted off the frames that show it; the frame is closed). */
  function toBitmap(frame) {
    return createImageBitmap(frame).finally(() => frame.close());
  }

  /** ImageDecoder's desired size: the smallest eighth of nat that still covers cssW CSS pixels. */
  function reducedSize(nat, cssW) {
    const dpr = window.devicePixelRatio || 1;
    const eighths = Math.min(8, Math.max(1, Math.ceil((8 * cssW * dpr) / nat.w)));
    return { desiredWidth: Math.ceil((nat.w * eighths) / 8), desiredHeight: Math.ceil((nat.h * eighths) / 8) };
  }

  /**
   * The reduced decode of a photo fed while its chunks arrive (Chromium's
   * ImageDecoder on a stream). While a partial picture is asked for,
   * libjpeg decodes the rows as they come (Chromium 156 answers the first
   * ask at once and, for a baseline JPEG, the next one only when the image
   * is complete), so at photo-end little decoding is left: the picture is
   * ready 10-40 ms after the last byte in the doctor's page during a call
   * (0.1-0.4 ms in an idle page) against 60-90 ms for one reduced decode of
   * the whole 3-4 MB (bench/results/photo-2026-12-07.md). Partial pictures
   * are closed at once: nothing of an unverified photo is drawn.
   * {push(bytes), finish() -> Promise of an ImageBitmap or null, close()};
   * null where ImageDecoder or streams are missing. finish() gives null
   * where the streamed decode failed or came out empty (Firefox 153 after
   * a partial ask): the whole photo is decoded at photo-end then.
   */
  function streamDecoder(nat, cssW) {
    if (typeof ImageDecoder === 'undefined' || typeof ReadableStream === 'undefined') return null;
    let feed = null;
    const data = new ReadableStream({ start(c) { feed = c; } });
    let dec;
    try {
      dec = new ImageDecoder({ data, type: 'image/jpeg', ...reducedSize(nat, cssW) });
    } catch (err) {
      return null;
    }
    let chunks = 0;
    let asking = false;
    let done = false;
    const partial = () => {
      asking = true;
      dec.decode({ completeFramesOnly: false })
        .then((r) => r.image.close(), () => {})
        .finally(() => { asking = false; });
    };
    return {
      push(bytes) {
        if (done) return;
        feed.enqueue(bytes);
        chunks += 1;
        if (chunks % PARTIAL_EVERY === 0 && !asking) partial();
      },
      finish() {
        if (done) return Promise.resolve(null);
        done = true;
        feed.close();
        return dec.decode({ completeFramesOnly: true })
          .then((r) => {
            if (r.image.displayWidth > 0 && r.image.displayHeight > 0) return toBitmap(r.image);
            r.image.close();            // Firefox 153 answers a stream asked for partial pictures with an empty frame
            return null;
          })
          .catch(() => null)
          .finally(() => dec.close());
      },
      close() {
        if (done) return;
        done = true;
        try { feed.close(); } catch (err) { /* closed */ }
        dec.close();
      },
    };
  }

  /** A chunk of photo e arrived (checked for order and size, not yet verified): into its reduced decode. */
  function bytesIn(e, bytes) {
    let sd = streams.get(e.n);
    if (sd === undefined) {
      const nat = { w: e.width, h: e.height };
      sd = streamDecoder(nat, fitted(nat, window.innerWidth, window.innerHeight).w);
      streams.set(e.n, sd);
    }
    if (sd) sd.push(bytes);
  }

  function dropStream(n) {
    const sd = streams.get(n);
    streams.delete(n);
    if (sd) sd.close();
  }

  /** Starts the reduced decode of photo e while its checks run (the viewer is still closed: the window bounds its size). */
  function decodeEarly(e) {
    const sd = streams.get(e.n);
    streams.delete(e.n);
    if (early.has(e.n) || typeof ImageDecoder === 'undefined') { if (sd) sd.close(); return; }
    const nat = { w: e.width, h: e.height };
    const bytes = e.unverified;
    const whole = () => decodeReduced(bytes, nat, fitted(nat, window.innerWidth, window.innerHeight).w);
    // fed while it arrived: finished now; else (or if that failed) the whole photo at once
    const fromStream = (image) => {
      if (!image) return whole();
      streamed.add(e.n);
      return image;
    };
    const p = (sd ? sd.finish().then(fromStream) : whole()).catch(() => null);
    early.set(e.n, p);
  }

  function dropEarly(n) {
    dropStream(n);
    const p = early.get(n);
    if (!p) return;
    early.delete(n);
    p.then((image) => { if (image) image.close(); });
  }

  /** Puts the decoded picture (an ImageBitmap, taken over) over the (fitted) image of the viewer. */
  function drawFirst(image) {
    const img = $('viewer-img');
    const cssW = parseFloat(img.style.width) || 0;
    const cssH = parseFloat(img.style.height) || 0;
    if (!cssW || !cssH) return false;
    const c = document.createElement('canvas');
    c.width = image.width;
    c.height = image.height;
    c.getContext('bitmaprenderer').transferFromImageBitmap(image);
    const stage = $('viewer-stage');
    if (getComputedStyle(stage).position === 'static') stage.style.position = 'relative';
    Object.assign(c.style, {
      position: 'absolute', left: `${img.offsetLeft}px`, top: `${img.offsetTop}px`,
      width: `${cssW}px`, height: `${cssH}px`, pointerEvents: 'none',
    });
    c.className = 'viewer-first';
    c.setAttribute('aria-hidden', 'true');
    dropPreview();
    preview = c;
    stage.appendChild(c);
    return true;
  }

  function open(n) {
    const e = receiver.entries.find((x) => x.n === n);
    if (!isVerified(n) || !e) return;
    if (viewing && viewing !== n) urlOf(viewing);   // left before its full image loaded: the list still gets it
    const img = $('viewer-img');
    viewing = n;
    dropPreview();
    $('photo-viewer').hidden = false;
    consult.photoShown = null;
    img.decoding = 'async';
    img.removeAttribute('src');
    fit();                              // sized before the bytes load (width x height checked against the SOF)
    let shown = false;
    img.onerror = () => { if (viewing === n) { close(); receiver.decodeFailed(n); } };
    /** The full image; decoded first only where there is no reduced first sight. */
    const full = (decodeFirst) => {
      if (viewing !== n) return;
      img.onload = decodeFirst ? async () => {
        if (viewing !== n || shown) return;
        try { await img.decode(); } catch (err) { /* shown anyway */ }
        if (viewing !== n || shown) return;
        shown = true;
        markShown(n, 'decoded');
      } : null;
      img.src = urlOf(n);
      render();                         // the list's entry and "Speichern" get the URL
    };
    // decoded while the chunks arrived or the checks ran (now passed), else
    // now; the full image loads once the first sight is on screen, so its
    // decode (8 MP: 100-200 ms of a raster thread) does not compete with
    // the frames that show it
    const ready = early.get(n) || decodeReduced(blobs.get(n) || verified.get(n), natural(), parseFloat(img.style.width));
    early.delete(n);
    ready.then((image) => {
      const via = streamed.delete(n) ? 'streamed' : 'scaled';
      if (!image) { full(true); return; }
      try {
        if (viewing === n && drawFirst(image)) shown = true;
      } catch (err) {
        console.warn('photo: first sight failed, the full image instead', err && err.name);
      } finally {
        image.close();
      }
      if (shown) markShown(n, via).then(() => full(false));
      else full(true);
    }, () => full(true));
    renderViewer();
    $('viewer-close').focus();
  }

  function close() {
    const n = viewing;
    viewing = 0;
    dropPreview();
    if (n && isVerified(n) && !thumbs.has(n)) { urlOf(n); thumbs.add(n); render(); }
    $('photo-viewer').hidden = true;
    $('viewer-img').removeAttribute('src');
    const back = document.querySelector(`#photo-list [data-n="${n}"] .photo-open`) || $('photo-request');
    if (back && !back.hidden) back.focus();
  }

  function renderViewer() {
    const e = receiver.entries.find((x) => x.n === viewing);
    if (!e) { close(); return; }
    $('viewer-title').textContent = t('doctor.photo.viewer', {
      n: e.n, width: e.width, height: e.height, size: (e.size / 1048576).toFixed(1),
    });
    $('viewer-zoom').textContent = `${Math.round(zoom * 100)} %`;
    const save = $('viewer-save');
    save.href = urls.get(e.n) || '';
    save.download = fileName(e);
  }

  /** The viewed photo's size in pixels (announced and checked against its SOF before `done`). */
  function natural() {
    const e = receiver.entries.find((x) => x.n === viewing);
    return e && e.width > 0 && e.height > 0 ? { w: e.width, h: e.height } : null;
  }

  function setZoom(z, cx, cy) {
    const stage = $('viewer-stage');
    const img = $('viewer-img');
    const nat = natural();
    if (!nat) return;
    const old = zoom;
    zoom = Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, z));
    // keep the point under (cx, cy) of the stage where it is
    const px = cx === undefined ? stage.clientWidth / 2 : cx;
    const py = cy === undefined ? stage.clientHeight / 2 : cy;
    const ix = (stage.scrollLeft + px) / old;
    const iy = (stage.scrollTop + py) / old;
    img.style.width = `${Math.round(nat.w * zoom)}px`;
    img.style.height = `${Math.round(nat.h * zoom)}px`;
    if (preview && preview.style.width !== img.style.width) dropPreview();   // zoomed: the full image
    stage.scrollLeft = ix * zoom - px;
    stage.scrollTop = iy * zoom - py;
    $('viewer-zoom').textContent = `${Math.round(zoom * 100)} %`;
  }

  function fit() {
    const stage = $('viewer-stage');
    const nat = natural();
    if (!nat) return;
    setZoom(Math.min(1, stage.clientWidth / nat.w, stage.clientHeight / nat.h));
  }

  function wirePan() {
    const stage = $('viewer-stage');
    let drag = null;
    stage.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      drag = { x: ev.clientX, y: ev.clientY, l: stage.scrollLeft, t: stage.scrollTop };
      stage.setPointerCapture(ev.pointerId);
      stage.classList.add('dragging');
    });
    stage.addEventListener('pointermove', (ev) => {
      if (!drag) return;
      stage.scrollLeft = drag.l - (ev.clientX - drag.x);
      stage.scrollTop = drag.t - (ev.clientY - drag.y);
    });
    const end = () => { drag = null; stage.classList.remove('dragging'); };
    stage.addEventListener('pointerup', end);
    stage.addEventListener('pointercancel', end);
    stage.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const r = stage.getBoundingClientRect();
      setZoom(zoom * (ev.deltaY < 0 ? 1.25 : 0.8), ev.clientX - r.left, ev.clientY - r.top);
    }, { passive: false });
    stage.addEventListener('keydown', (ev) => {
      if (ev.key === '+' || ev.key === '=') setZoom(zoom * 1.25);
      else if (ev.key === '-') setZoom(zoom * 0.8);
    });
  }

  function reset() {
    if (viewing) close();
    clearTimeout(progressTimer);
    progressTimer = 0;
    for (const u of urls.values()) URL.revokeObjectURL(u);
    urls.clear();
    blobs.clear();
    verified.clear();
    for (const n of [...early.keys()]) dropEarly(n);
    for (const n of [...streams.keys()]) dropStream(n);
    streamed.clear();
    thumbs.clear();
    listSig = '';
    receiver.reset();
    consult.photoShown = null;
    render();
  }

  $('photo-request').addEventListener('click', () => { receiver.request(); });
  $('photo-withdraw').addEventListener('click', () => receiver.cancel());
  $('viewer-close').addEventListener('click', close);
  $('viewer-in').addEventListener('click', () => setZoom(zoom * 1.25));
  $('viewer-out').addEventListener('click', () => setZoom(zoom * 0.8));
  $('viewer-fit').addEventListener('click', fit);
  $('viewer-actual').addEventListener('click', () => setZoom(1));
  $('photo-viewer').addEventListener('keydown', (ev) => { if (ev.key === 'Escape') close(); });
  wirePan();
  render();

  return { render, reset };
}
