// photo.mjs: photos on request over the call channel (callchannel.mjs) - the
// message flow both pages share; photo-doctor.mjs and photo-patient.mjs put
// it on screen (docs/pages.md "Photo on request", docs/protocol.md "Call
// channel" for the messages). No text for people here; nothing is stored
// or logged anywhere but in the two pages' memory.
// Contract:
//   PHOTO_CHUNK (16 KiB of JPEG per photo-chunk), MAX_PHOTO_BYTES (15 MiB),
//   JPEG_QUALITY 0.92 (then LOWER_QUALITIES while the JPEG is too large)
//   sha256Hex(bytes) -> lowercase hex
//   const r = new PhotoReceiver(channel, {onChange(entry), onBytes(entry, bytes)})
//                                                                  doctor
//     onBytes: each chunk once it passed its order and size checks, as a
//     view of the entry's buffer (never changed; unverified until `done`),
//     before onChange; so the doctor's page can decode while it arrives
//     r.request() -> entry | null (null: not open, or a request runs)
//     r.cancel()  withdraws the running request (photo-cancel)
//     r.entries   [{n, state, received, size, sha256, width, height, bytes,
//                  unverified, error, requestedAt, doneAt, t}] numbered from
//                 1 per call; unverified: while 'checking', the very bytes
//                 being checked as a Uint8Array (to finish decoding early;
//                 shown only once done; never to be changed), else null;
//                 bytes: the same once `done` (the page takes them over and
//                 makes the Blob when it needs one: a 4 MB Blob costs the
//                 main thread 4-11 ms), else null;
//                 t {begin, end, checked}: when photo-begin and photo-end
//                 came and the checks passed (performance.timeOrigin +
//                 performance.now(), for bench/photo.mjs).
//                 state: requested -> opened (the patient sees the request)
//                 -> taken (the patient reviews a picture) -> receiving ->
//                 done | refused | failed (error 'hash' | 'size' |
//                 'dimensions' | 'decode' | 'protocol' | 'interrupted') |
//                 cancelled. A failed transfer other than 'interrupted' and
//                 a refusal end the request; 'interrupted' (the channel
//                 went away meanwhile) keeps it open for a new attempt.
//     r.pending   the entry of the running request or null
//     r.reset()   a new call: forget the entries (the page revokes URLs)
//   Checks before `done`: size <= MAX_PHOTO_BYTES and as announced, chunks
//   in order and of PHOTO_CHUNK bytes (the last one shorter), SHA-256 of the
//   bytes (computed chunk by chunk while they arrive, sha256.mjs: at
//   photo-end the digest is there; WebCrypto's digest of the whole photo at
//   the end added 10-25 ms there, bench/results/photo-2026-12-06.md) equal
//   to the announced one, a JPEG whose frame header (SOF) has
//   the announced width x height. Then photo-received {n, ok: true};
//   otherwise {n, ok: false, error}. Decoding is the viewer's (one decode of
//   a 5 MP JPEG costs 100-200 ms): a photo that passed the checks but does
//   not decode is reported with r.decodeFailed(n) (state failed, error
//   'decode', on the doctor's page only).
//   jpegDimensions(bytes) -> {width, height} | null (SOF marker)
//   const s = new PhotoSender(channel, {onRequest(n), onCancel(n),
//       onProgress(n, fraction), onResult(n, ok, error)})        patient
//     onProgress: never backwards; the larger of what the doctor's page
//     confirmed (photo-progress, peer to peer only) and what has left this
//     page's send buffer (measured here every 250 ms)
//     s.pending   n of the request the patient has not answered, or 0
//     s.opened(n) / s.taken(n)  tell the doctor's page (photo-state)
//     s.refuse(n) photo-refused - nothing of any picture is sent
//     await s.send(n, {bytes, width, height, sha256?}) -> {sha256, size,
//                 handedAt (when the last chunk was handed to the channel,
//                 performance.timeOrigin-based ms, for bench/photo.mjs)}:
//                 (sha256 computed here unless given: the patient page
//                 hashes while the patient looks at the preview) photo-begin,
//                 the chunks, photo-end; onResult when photo-received
//                 comes. Rejects (ChannelError / Error('too_large')) when it
//                 could not all be handed to the channel.
//   Only the doctor's page starts a request, and only one at a time; the
//   doctor's page takes a photo-begin only for the running request.

import { Sha256 } from './sha256.mjs';

export const PHOTO_CHUNK = 16 * 1024;
export const MAX_PHOTO_BYTES = 15 * 1024 * 1024;
export const JPEG_QUALITY = 0.92;
export const LOWER_QUALITIES = [0.85, 0.75, 0.6];
const PROGRESS_EVERY = 256 * 1024;   // doctor -> patient photo-progress ...
const PROGRESS_MS = 500;             // ... at most one per 500 ms, and none while forwarding (each answer
                                     // relayed during a forwarded transfer cost it ~65-175 ms, bench/photo-diag.mjs)
const LOCAL_MS = 250;                // patient: its own progress (bytes that left its send buffer) this often
const WINDOW = 64;                   // chunks handed to the channel ahead (this loop costs ~7 us per chunk; the
                                     // send buffer, never found empty, paces a transfer: bench/results/photo-*)
const SHA = /^[0-9a-f]{64}$/;
const now = () => performance.timeOrigin + performance.now();

/** {width, height} from a JPEG's SOF marker, or null (not a JPEG / no SOF). */
export function jpegDimensions(b) {
  if (!b || b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return null;
    const m = b[i + 1];
    if (m === 0xff) { i += 1; continue; }                 // fill byte
    const len = (b[i + 2] << 8) | b[i + 3];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: (b[i + 5] << 8) | b[i + 6], width: (b[i + 7] << 8) | b[i + 8] };
    }
    if (len < 2) return null;
    i += 2 + len;
  }
  return null;
}

export async function sha256Hex(bytes) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  let s = '';
  for (const b of d) s += b.toString(16).padStart(2, '0');
  return s;
}

const isN = (n) => Number.isInteger(n) && n >= 1 && n <= 10000;

export class PhotoReceiver {
  constructor(channel, { onChange = () => {}, onBytes = () => {} } = {}) {
    this.ch = channel;
    this.onChange = onChange;
    this.onBytes = onBytes;
    this.entries = [];
    this.pending = null;
    this.rx = null;            // {entry, buf, next, got} while receiving
    channel.on('photo-state', (m) => this.stateMsg(m));
    channel.on('photo-refused', (m) => this.refused(m));
    channel.on('photo-begin', (m) => this.begin(m));
    channel.on('photo-chunk', (m, b) => this.chunk(m, b));
    channel.on('photo-end', (m) => this.end(m));
    channel.on('photo-abort', (m) => this.abort(m));
    channel.onState((st) => {
      if (st === 'open') return;
      if (this.rx) this.fail(this.rx.entry, 'interrupted', false);
      if (st === 'closed' && this.pending) { this.pending.state = 'cancelled'; this.changed(this.pending); this.pending = null; }
    });
  }

  changed(e) {
    try { this.onChange(e); } catch (err) { console.error('photo view failed', err); }
  }

  reset() {
    this.entries = [];
    this.pending = null;
    this.rx = null;
  }

  request() {
    if (this.pending || this.ch.state !== 'open') return null;
    const e = {
      n: this.entries.length + 1, state: 'requested', received: 0, size: 0, sha256: '', width: 0, height: 0,
      bytes: null, unverified: null, error: '', requestedAt: Date.now(), doneAt: 0, t: { begin: 0, end: 0, checked: 0 },
    };
    this.entries.push(e);
    this.pending = e;
    this.ch.send('photo-request', { n: e.n }).catch(() => { if (this.pending === e) this.fail(e, 'interrupted', true); });
    this.changed(e);
    return e;
  }

  cancel() {
    const e = this.pending;
    if (!e) return;
    this.rx = null;
    this.pending = null;
    e.state = 'cancelled';
    this.ch.send('photo-cancel', { n: e.n }).catch(() => {});
    this.changed(e);
  }

  mine(m) { return !!(m && this.pending && m.n === this.pending.n); }

  stateMsg(m) {
    if (!this.mine(m) || this.rx) return;
    if (m.state === 'opened' || m.state === 'taken') { this.pending.state = m.state; this.changed(this.pending); }
  }

  refused(m) {
    if (!this.mine(m)) return;
    const e = this.pending;
    this.rx = null;
    this.pending = null;
    e.state = 'refused';
    e.received = 0;
    this.changed(e);
  }

  begin(m) {
    if (!this.mine(m)) return;
    const e = this.pending;
    const size = m.size;
    const ok = Number.isInteger(size) && size > 0 && size <= MAX_PHOTO_BYTES && m.chunk === PHOTO_CHUNK
      && typeof m.sha256 === 'string' && SHA.test(m.sha256) && m.type === 'image/jpeg'
      && Number.isInteger(m.width) && Number.isInteger(m.height) && m.width > 0 && m.height > 0
      && m.width <= 16384 && m.height <= 16384;
    if (!ok) { this.fail(e, size > MAX_PHOTO_BYTES ? 'size' : 'protocol', true); return; }
    Object.assign(e, { state: 'receiving', size, sha256: m.sha256, width: m.width, height: m.height, received: 0, error: '' });
    e.t = { begin: now(), end: 0, checked: 0 };
    // hashed while the chunks arrive: at photo-end the digest is there
    this.rx = { entry: e, buf: new Uint8Array(size), next: 0, got: 0, told: 0, toldAt: 0, hash: new Sha256() };
    this.changed(e);
  }

  chunk(m, bytes) {
    const rx = this.rx;
    if (!rx || !this.mine(m) || rx.entry !== this.pending) return;
    const e = rx.entry;
    const last = Math.ceil(e.size / PHOTO_CHUNK) - 1;
    const want = m.seq === last ? e.size - last * PHOTO_CHUNK : PHOTO_CHUNK;
    if (m.seq !== rx.next || m.seq > last || !bytes || bytes.length !== want) { this.fail(e, 'protocol', true); return; }
    rx.buf.set(bytes, m.seq * PHOTO_CHUNK);
    rx.hash.update(bytes);
    try { this.onBytes(e, rx.buf.subarray(m.seq * PHOTO_CHUNK, m.seq * PHOTO_CHUNK + want)); } catch (err) { console.error('photo bytes failed', err); }
    rx.next += 1;
    rx.got += bytes.length;
    e.received = rx.got;
    if (this.ch.mode !== 'forward' && rx.got - rx.told >= PROGRESS_EVERY && performance.now() - rx.toldAt >= PROGRESS_MS) {
      rx.told = rx.got;
      rx.toldAt = performance.now();
      this.ch.send('photo-progress', { n: e.n, received: rx.got }).catch(() => {});
    }
    this.changed(e);
  }

  async end(m) {
    const rx = this.rx;
    if (!rx || !this.mine(m)) return;
    const e = rx.entry;
    this.rx = null;
    e.t.end = now();
    if (rx.got !== e.size) { this.fail(e, 'size', true); return; }
    // the bytes the checks read: the doctor's page may finish decoding
    // them meanwhile and shows them only once `done`
    e.state = 'checking';
    e.unverified = rx.buf;
    this.changed(e);
    let error = '';
    try {
      if (rx.hash.hex() !== e.sha256) error = 'hash';
    } catch (err) { error = 'hash'; }
    if (!error) {
      const d = jpegDimensions(rx.buf);
      if (!d) error = 'decode';
      else if (d.width !== e.width || d.height !== e.height) error = 'dimensions';
    }
    e.unverified = null;
    if (this.pending !== e) return;       // cancelled meanwhile
    if (error) { this.fail(e, error, true); return; }
    this.pending = null;
    e.bytes = rx.buf;
    e.state = 'done';
    e.t.checked = now();
    e.doneAt = Date.now();
    this.ch.send('photo-received', { n: e.n, ok: true }).catch(() => {});
    this.changed(e);
  }

  /** The viewer could not decode a photo that passed the checks. */
  decodeFailed(n) {
    const e = this.entries.find((x) => x.n === n);
    if (!e || e.state !== 'done') return;
    e.state = 'failed';
    e.error = 'decode';
    this.changed(e);
  }

  abort(m) {
    if (!this.mine(m)) return;
    this.fail(this.pending, 'interrupted', false);
  }

  /** final: the request ends (the patient's page hears why); else it stays open. */
  fail(e, error, final) {
    if (this.rx && this.rx.entry === e) this.rx = null;
    e.error = error;
    e.received = 0;
    if (final) {
      e.state = 'failed';
      if (this.pending === e) this.pending = null;
      this.ch.send('photo-received', { n: e.n, ok: false, error }).catch(() => {});
    } else {
      e.state = 'interrupted';
    }
    this.changed(e);
  }
}

export class PhotoSender {
  constructor(channel, { onRequest = () => {}, onCancel = () => {}, onProgress = () => {}, onResult = () => {} } = {}) {
    this.ch = channel;
    this.hooks = { onRequest, onCancel, onProgress, onResult };
    this.pending = 0;
    this.sending = 0;
    this.told = 0;               // the progress told to the page (0..1) while sending
    this.localTimer = 0;
    channel.on('photo-request', (m) => {
      if (!m || !isN(m.n)) return;
      this.pending = m.n;
      this.call('onRequest', m.n);
    });
    channel.on('photo-cancel', (m) => {
      if (!m || m.n !== this.pending) return;
      this.pending = 0;
      this.call('onCancel', m.n);
    });
    channel.on('photo-progress', (m) => {
      if (!m || m.n !== this.sending || !(this.size > 0)) return;
      this.progress(m.n, Number(m.received) / this.size);
    });
    channel.on('photo-received', (m) => {
      if (!m || m.n !== this.pending) return;
      if (m.ok === true || m.error !== 'interrupted') this.pending = 0;
      this.sending = 0;
      this.call('onResult', m.n, m.ok === true, m.ok === true ? '' : String(m.error || 'protocol'));
    });
    channel.onState((st) => {
      if (st === 'closed') { this.pending = 0; this.sending = 0; }
    });
  }

  call(name, ...args) {
    try { this.hooks[name](...args); } catch (e) { console.error('photo view failed', e); }
  }

  /** onProgress with the larger of what was told before and fraction (never backwards). */
  progress(n, fraction) {
    if (!(fraction > this.told)) return;
    this.told = Math.min(1, fraction);
    this.call('onProgress', n, this.told);
  }

  /**
   * The page's own measure while sending: bytes handed to the channel that
   * have left its send buffer (the doctor's page confirms with
   * photo-progress only peer to peer), every LOCAL_MS until all have left
   * or the transfer ended.
   */
  watchLocal(n, handed) {
    const tick = () => {
      if (this.sending !== n) return;
      const left = Math.max(0, handed() - this.ch.bufferedAmount);
      this.progress(n, left / this.size);
      if (left < this.size) this.localTimer = setTimeout(tick, LOCAL_MS);
    };
    clearTimeout(this.localTimer);
    this.localTimer = setTimeout(tick, LOCAL_MS);
  }

  opened(n) { if (n === this.pending) this.ch.send('photo-state', { n, state: 'opened' }).catch(() => {}); }

  taken(n) { if (n === this.pending) this.ch.send('photo-state', { n, state: 'taken' }).catch(() => {}); }

  refuse(n) {
    if (n !== this.pending) return;
    this.pending = 0;
    this.ch.send('photo-refused', { n }).catch(() => {});
  }

  async send(n, { bytes, width, height, sha256: known }) {
    if (n !== this.pending) throw new Error('no_request');
    if (bytes.length > MAX_PHOTO_BYTES) throw new Error('too_large');
    const sha256 = known || await sha256Hex(bytes);
    const size = bytes.length;
    this.sending = n;
    this.size = size;
    this.told = 0;
    let handedAt = 0;
    let handed = 0;              // JPEG bytes handed to the channel
    this.watchLocal(n, () => handed);
    try {
      await this.ch.send('photo-begin', { n, size, sha256, type: 'image/jpeg', width, height, chunk: PHOTO_CHUNK });
      const inflight = [];
      for (let seq = 0, off = 0; off < size; seq++, off += PHOTO_CHUNK) {
        if (this.sending !== n) throw new Error('cancelled');
        const len = Math.min(size, off + PHOTO_CHUNK) - off;
        inflight.push(this.ch.send('photo-chunk', { n, seq }, bytes.subarray(off, off + len)).then(() => { handed += len; }));
        if (inflight.length >= WINDOW) await inflight.shift();
      }
      await Promise.all(inflight);
      handedAt = performance.timeOrigin + performance.now();
      await this.ch.send('photo-end', { n });
    } catch (e) {
      if (this.sending === n) this.sending = 0;
      if (this.ch.state === 'open') this.ch.send('photo-abort', { n }).catch(() => {});
      throw e;
    }
    return { sha256, size, handedAt };
  }
}
