// y4m.mjs - a high-resolution test camera for Chromium: writes a short
// YUV4MPEG2 file (4:2:0) of a known pattern for
// --use-file-for-fake-video-capture=<file>.y4m (tests/browser/photo*.test.mjs,
// tests/nat/photo-*.test.mjs, bench/photo.mjs).
//
// Contract: writeY4m(file, {width, height, frames = 2, detail = 24, seed = 1,
//   fps = 10}) writes the file (width x height; Chromium loops it at fps,
//   so a low rate keeps a large camera cheap) and returns its size in bytes.
//   Pattern per frame: eight vertical colour bars (luma and chroma), a 64 px
//   checkerboard in the top quarter, a diagonal ramp in the bottom quarter,
//   and deterministic per-pixel luma noise of +-detail (xorshift32 from
//   seed), standing in for skin texture: the noise decides how large a JPEG
//   of the frame gets (detail 0 -> a few hundred KB, 40 -> several MB at
//   1920x1080+). Frames differ only by the noise. Width and height even.
// The file is large (width*height*1.5 bytes a frame): keep frames low, put
// it in a temp folder and delete it after the test.
import fs from 'node:fs';

const BARS = [
  [235, 128, 128], [210, 16, 146], [170, 166, 16], [145, 54, 34],
  [106, 202, 222], [81, 90, 240], [41, 240, 110], [16, 128, 128],
];

export function writeY4m(file, { width, height, frames = 2, detail = 24, seed = 1, fps = 10 } = {}) {
  if (!(width > 0 && height > 0) || width % 2 || height % 2) throw new Error('y4m: width and height must be even and > 0');
  const fd = fs.openSync(file, 'w');
  let total = 0;
  const put = (buf) => { fs.writeSync(fd, buf); total += buf.length; };
  try {
    put(Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`));
    let s = (seed >>> 0) || 1;
    const cw = width / 2;
    const ch = height / 2;
    for (let f = 0; f < frames; f++) {
      const y = Buffer.alloc(width * height);
      for (let r = 0; r < height; r++) {
        for (let c = 0; c < width; c++) {
          let v = BARS[Math.floor(c * 8 / width)][0];
          if (r < height / 4 && ((Math.floor(r / 64) + Math.floor(c / 64)) & 1)) v = 255 - v;
          if (r >= height * 3 / 4) v = 16 + Math.floor(219 * ((r + c) % 512) / 511);
          s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
          if (detail) v += (s % (2 * detail + 1)) - detail;
          y[r * width + c] = v < 0 ? 0 : v > 255 ? 255 : v;
        }
      }
      const u = Buffer.alloc(cw * ch);
      const w = Buffer.alloc(cw * ch);
      for (let r = 0; r < ch; r++) {
        for (let c = 0; c < cw; c++) {
          const bar = BARS[Math.floor(c * 8 / cw)];
          u[r * cw + c] = bar[1];
          w[r * cw + c] = bar[2];
        }
      }
      put(Buffer.from('FRAME\n'));
      put(y);
      put(u);
      put(w);
    }
  } finally {
    fs.closeSync(fd);
  }
  return total;
}
