// verify.mjs: the short verification code both participants read to each
// other. Works in browsers and in node >= 20 (globalThis.crypto.subtle).
// Contract:
//   fingerprintFromSdp(sdp) -> 'sha-256 AB:CD:...' (the first a=fingerprint
//     line, session or media level; algorithm lower case, hex upper case) or
//     null when the SDP has none.
//   codeFromDigest(bytes) -> '123 456': first 4 bytes big-endian mod 10^6,
//     zero-padded to 6 digits, split 3+3.
//   verifyCodeFromFingerprints(fpA, fpB) -> Promise<'123 456'>
//     P2P mode: SHA-256 over the two normalized fingerprints, sorted
//     (string order), joined by "\n". Order of the arguments is irrelevant.
//   verifyCodeFromSdp(localSdp, remoteSdp) -> Promise<code>; rejects with
//     Error('no fingerprint') when either SDP has no a=fingerprint.
//   verifyCodeFromKeys(keyA, keyB) -> Promise<code>
//     Forward mode: SHA-256 over the two raw ECDH public keys (base64 strings
//     or Uint8Array/ArrayBuffer), sorted bytewise, concatenated.
//   compareBytes(a, b) -> -1 | 0 | 1 (lexicographic, shorter first on a tie)
// Nothing here logs; inputs are never echoed in errors.

const subtle = () => {
  const c = globalThis.crypto;
  if (!c || !c.subtle) throw new Error('WebCrypto unavailable');
  return c.subtle;
};

export function fingerprintFromSdp(sdp) {
  if (typeof sdp !== 'string') return null;
  const m = /^a=fingerprint:\s*(\S+)\s+([0-9A-Fa-f:]+)\s*$/m.exec(sdp);
  if (!m) return null;
  return `${m[1].toLowerCase()} ${m[2].toUpperCase()}`;
}

export function codeFromDigest(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (b.length < 4) throw new Error('digest too short');
  const n = ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3];
  const s = String(n % 1000000).padStart(6, '0');
  return `${s.slice(0, 3)} ${s.slice(3)}`;
}

export function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length === b.length ? 0 : (a.length < b.length ? -1 : 1);
}

export function toBytes(key) {
  if (key instanceof Uint8Array) return key;
  if (key instanceof ArrayBuffer) return new Uint8Array(key);
  if (ArrayBuffer.isView(key)) return new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
  if (typeof key === 'string') {
    const bin = atob(key);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i += 1) out[i] = bin.charCodeAt(i);
    return out;
  }
  throw new Error('key must be base64 or bytes');
}

async function sha256(bytes) {
  return new Uint8Array(await subtle().digest('SHA-256', bytes));
}

export async function verifyCodeFromFingerprints(fpA, fpB) {
  if (typeof fpA !== 'string' || typeof fpB !== 'string' || !fpA || !fpB) throw new Error('fingerprint missing');
  const joined = [fpA, fpB].sort().join('\n');
  return codeFromDigest(await sha256(new TextEncoder().encode(joined)));
}

export async function verifyCodeFromSdp(localSdp, remoteSdp) {
  const a = fingerprintFromSdp(localSdp);
  const b = fingerprintFromSdp(remoteSdp);
  if (!a || !b) throw new Error('no fingerprint');
  return verifyCodeFromFingerprints(a, b);
}

export async function verifyCodeFromKeys(keyA, keyB) {
  const a = toBytes(keyA);
  const b = toBytes(keyB);
  if (!a.length || !b.length) throw new Error('key missing');
  const [x, y] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
  const buf = new Uint8Array(x.length + y.length);
  buf.set(x, 0);
  buf.set(y, x.length);
  return codeFromDigest(await sha256(buf));
}
