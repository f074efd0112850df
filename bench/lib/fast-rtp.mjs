// fast-rtp.mjs - werift's RtpHeader.deSerialize (run on every received and
// decrypted SRTP packet) reads the header's bit fields through strings
// (bits.toString(2).split('')...), about a fifth of the benchmark
// generator's CPU. patchRtpHeader() replaces it with the same parse done
// with bit operations: the same fields and values (checked against the
// original by sameAsOriginal() on the benchmark's own packets).
import { RtpHeader } from 'werift';

const original = RtpHeader.deSerialize;

function fast(raw) {
  const h = new RtpHeader();
  const b0 = raw[0];
  h.version = b0 >> 6;
  h.padding = (b0 & 0x20) !== 0;
  h.extension = (b0 & 0x10) !== 0;
  h.csrcLength = b0 & 0x0f;
  h.csrc = [];
  for (let i = 0; i < h.csrcLength; i++) h.csrc.push(raw.readUInt32BE(12 + 4 * i));
  let off = 12 + 4 * h.csrcLength;
  const b1 = raw[1];
  h.marker = (b1 & 0x80) !== 0;
  h.payloadType = b1 & 0x7f;
  h.sequenceNumber = raw.readUInt16BE(2);
  h.timestamp = raw.readUInt32BE(4);
  h.ssrc = raw.readUInt32BE(8);
  if (h.extension) {
    h.extensionProfile = raw.readUInt16BE(off);
    const len = raw.readUInt16BE(off + 2) * 4;
    h.extensionLength = len;
    off += 4;
    const end = off + len;
    const ext = [];
    if (h.extensionProfile === 0xbede) {
      while (off < end) {
        if (raw[off] === 0) { off++; continue; }
        const id = raw[off] >> 4;
        const l = (raw[off] & 0x0f) + 1;
        off++;
        if (id === 15) break;
        ext.push({ id, payload: raw.subarray(off, off + l) });
        off += l;
      }
    } else if (h.extensionProfile === 0x1000) {
      while (off < end) {
        if (raw[off] === 0) { off++; continue; }
        const id = raw[off++];
        const l = raw[off++];
        ext.push({ id, payload: raw.subarray(off, off + l) });
        off += l;
      }
    } else {
      ext.push({ id: 0, payload: raw.subarray(off, off + len) });
      off += len;
    }
    h.extensions = ext;
  }
  h.payloadOffset = off;
  if (h.padding) h.paddingSize = raw[raw.length - 1];
  return h;
}

export function patchRtpHeader() {
  RtpHeader.deSerialize = fast;
}

/** True if the fast parse of raw equals werift's own (field by field). */
export function sameAsOriginal(raw) {
  const a = original.call(RtpHeader, raw);
  const b = fast(raw);
  const plain = (h) => JSON.stringify({ ...h, extensions: h.extensions.map((e) => [e.id, e.payload.toString('hex')]) });
  return plain(a) === plain(b);
}
