// zoom.test.mjs: the arithmetic of html/js/zoom.mjs (pinch and pan of the
// shared screen on a phone) in node: the point under the fingers stays put,
// the picture never leaves an empty edge where it is larger than the box and
// stays centred where it is smaller, the scale stays within its limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_SCALE, clampView, contentBox, panBy, zoomAt,
} from '../../html/js/zoom.mjs';

const near = (a, b, what) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} != ${b}`);

test('contentBox: object-fit contain of a 16:9 picture in a phone held upright', () => {
  assert.deepEqual(contentBox({ w: 360, h: 640 }, 1280, 720), { x: 0, y: 218.75, w: 360, h: 202.5 });
  assert.deepEqual(contentBox({ w: 400, h: 300 }, 0, 0), { x: 0, y: 0, w: 400, h: 300 });
});

test('zoomAt: the point under the fingers stays under them', () => {
  const box = { w: 400, h: 300 };
  const v = zoomAt({ scale: 1, x: 0, y: 0 }, 2, 100, 75, box);
  assert.equal(v.scale, 2);
  // content point (100, 75) is drawn at x + 100 * 2
  near(v.x + 100 * 2, 100, 'x');
  near(v.y + 75 * 2, 75, 'y');
  const w = zoomAt(v, 1.5, 300, 200, box);
  near(w.scale, 3, 'scale');
  const cx = (300 - v.x) / v.scale;   // the content point that was under (300, 200)
  const cy = (200 - v.y) / v.scale;
  near(w.x + cx * w.scale, 300, 'x after the second pinch');
  near(w.y + cy * w.scale, 200, 'y after the second pinch');
});

test('clampView: no empty edge, scale within limits, back to 1 means no offset', () => {
  const box = { w: 400, h: 300 };
  assert.deepEqual(clampView({ scale: 0.3, x: 50, y: 50 }, box), { scale: 1, x: 0, y: 0 });
  assert.equal(clampView({ scale: 40, x: 0, y: 0 }, box).scale, MAX_SCALE);
  assert.deepEqual(clampView({ scale: 2, x: 80, y: 10 }, box), { scale: 2, x: 0, y: 0 }, 'cannot pull the left/top edge in');
  assert.deepEqual(clampView({ scale: 2, x: -900, y: -900 }, box), { scale: 2, x: -400, y: -300 }, 'nor the right/bottom edge');
  assert.deepEqual(panBy({ scale: 2, x: -100, y: -100 }, -50, 30, box), { scale: 2, x: -150, y: -70 });
});

test('clampView: a letterboxed picture stays centred until it fills the box, then covers it', () => {
  const box = { w: 360, h: 640 };
  const c = contentBox(box, 1280, 720);     // 360x202.5 at y 218.75
  // 2x: 720x405 - wider than the box (pannable), lower than it (centred)
  const v = clampView({ scale: 2, x: 50, y: 0 }, box, c);
  assert.equal(v.x, 0, 'left edge of the picture at the box edge');
  near(v.y + c.y * 2, (640 - 405) / 2, 'the picture is centred vertically');
  const far = clampView({ scale: 2, x: -5000, y: 0 }, box, c);
  near(far.x + (c.x + c.w) * 2, 360, 'right edge of the picture at the box edge');
  // 4x: 1440x810 - higher than the box: no bar above or below
  const tall = clampView({ scale: 4, x: 0, y: 1000 }, box, c);
  near(tall.y + c.y * 4, 0, 'top of the picture at the top of the box');
  const low = clampView({ scale: 4, x: 0, y: -99999 }, box, c);
  near(low.y + (c.y + c.h) * 4, 640, 'bottom of the picture at the bottom of the box');
});
