// sha256.test.mjs: html/js/sha256.mjs (the doctor's page hashes a photo while
// its chunks arrive) against node's own SHA-256: empty input, the padding
// edges (55/56/63/64/65 bytes), and random inputs fed in random pieces,
// including 16 KiB chunks as photo.mjs feeds them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Sha256 } from '../../html/js/sha256.mjs';

const ref = (b) => crypto.createHash('sha256').update(b).digest('hex');

function hashPieces(bytes, sizes) {
  const h = new Sha256();
  let off = 0;
  for (const n of sizes) { h.update(bytes.subarray(off, off + n)); off += n; }
  h.update(bytes.subarray(off));
  return h.hex();
}

test('known inputs and every padding edge', () => {
  assert.equal(new Sha256().hex(), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  const abc = new Sha256();
  abc.update(new TextEncoder().encode('abc'));
  assert.equal(abc.hex(), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  for (const n of [1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000]) {
    const b = crypto.randomBytes(n);
    const h = new Sha256();
    h.update(b);
    assert.equal(h.hex(), ref(b), `length ${n}`);
  }
});

test('random inputs fed in random pieces and in 16 KiB chunks', () => {
  for (let round = 0; round < 20; round++) {
    const b = new Uint8Array(crypto.randomBytes(1 + crypto.randomInt(300_000)));
    const sizes = [];
    for (let left = b.length; left > 0;) { const n = Math.min(left, crypto.randomInt(0, 5000)); sizes.push(n); left -= n; }
    assert.equal(hashPieces(b, sizes), ref(b), `round ${round}, ${b.length} bytes`);
  }
  const photo = new Uint8Array(crypto.randomBytes(4 * 1024 * 1024 + 1234));
  const chunks = [];
  for (let off = 0; off < photo.length; off += 16384) chunks.push(Math.min(16384, photo.length - off));
  assert.equal(hashPieces(photo, chunks), ref(photo));
});
