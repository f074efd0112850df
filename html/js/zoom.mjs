// zoom.mjs: pinch, pan and buttons to enlarge a picture inside its box - the
// practice's shared screen on a phone (screenview.mjs). The picture element
// gets a CSS transform; the box clips it.
// Contract (pure, tested in tests/pages/zoom.test.mjs):
//   MIN_SCALE = 1, MAX_SCALE = 6
//   clampView(view, box, content) -> view with scale in [MIN, MAX] and x/y
//     such that the scaled picture covers the box where it is larger than
//     the box, and is centred where it is smaller (no panning into empty
//     space); view {scale, x, y}: translate(x, y) scale(scale) with origin
//     top left; box {w, h}; content {x, y, w, h}: the picture inside the
//     unscaled element (object-fit: contain leaves bars), default the box.
//   contentBox(box, mediaW, mediaH) -> that content box for object-fit:
//     contain (the box itself when the size is unknown).
//   zoomAt(view, factor, px, py, box, content) -> the view scaled by factor
//     around the box point (px, py) (that point stays under the finger),
//     clamped.
//   panBy(view, dx, dy, box, content) -> moved and clamped.
// DOM:
//   const z = attachZoom({box, target, media: () => [w, h], onChange(view)})
//     media: the picture's own size (a video's videoWidth/videoHeight)
//     two pointers on the picture pinch (and move), one pointer pans a zoomed
//     picture, a double tap / double click toggles 1x and 2.5x at that
//     point, Ctrl + wheel zooms. While enabled, box has touch-action: none
//     (the browser would zoom the whole page) - set by the CSS class
//     `zoomable` that enable() adds.
//     z.enable() / z.disable() (disable resets), z.reset(), z.zoomBy(f)
//     (around the centre: the + and - buttons), z.view, z.enabled

export const MIN_SCALE = 1;
export const MAX_SCALE = 6;
const DOUBLE_MS = 350;
const TAP_SLOP = 12;

export function contentBox(box, mediaW, mediaH) {
  if (!(mediaW > 0) || !(mediaH > 0)) return { x: 0, y: 0, w: box.w, h: box.h };
  const s = Math.min(box.w / mediaW, box.h / mediaH);
  const w = mediaW * s;
  const h = mediaH * s;
  return { x: (box.w - w) / 2, y: (box.h - h) / 2, w, h };
}

// one axis: offset t of the element, content from c0 over length len, box size b
function clampAxis(t, scale, c0, len, b) {
  const size = len * scale;
  if (size <= b) return (b - size) / 2 - c0 * scale;
  return Math.min(-c0 * scale, Math.max(b - (c0 + len) * scale, t));
}

const zero = (v) => (Math.abs(v) < 1e-9 ? 0 : v);

export function clampView(view, box, content) {
  const c = content || { x: 0, y: 0, w: box.w, h: box.h };
  const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, Number(view.scale) || 1));
  if (scale === 1) return { scale: 1, x: 0, y: 0 };
  return {
    scale,
    x: zero(clampAxis(Number(view.x) || 0, scale, c.x, c.w, box.w)),
    y: zero(clampAxis(Number(view.y) || 0, scale, c.y, c.h, box.h)),
  };
}

export function zoomAt(view, factor, px, py, box, content) {
  const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, view.scale * factor));
  const f = scale / view.scale;
  // the content point under (px, py) stays there: px = x + c * scale
  return clampView({ scale, x: px - (px - view.x) * f, y: py - (py - view.y) * f }, box, content);
}

export function panBy(view, dx, dy, box, content) {
  return clampView({ scale: view.scale, x: view.x + dx, y: view.y + dy }, box, content);
}

export function attachZoom({ box, target, media = () => [0, 0], onChange = () => {} }) {
  const pointers = new Map();   // pointerId -> {x, y} (box coordinates)
  let pinch = null;             // {dist, mid, view}
  let lastTap = null;           // {at, x, y}
  let downAt = null;
  const size = () => ({ w: box.clientWidth || 1, h: box.clientHeight || 1 });
  const content = () => {
    const [w, h] = media() || [0, 0];
    return contentBox(size(), w, h);
  };
  const local = (e) => {
    const r = box.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const z = {
    enabled: false,
    view: { scale: 1, x: 0, y: 0 },
    set(v) {
      z.view = clampView(v, size(), content());
      const { scale, x, y } = z.view;
      target.style.transformOrigin = '0 0';
      target.style.transform = scale === 1 ? '' : `translate(${x}px, ${y}px) scale(${scale})`;
      box.dataset.zoom = scale === 1 ? '' : scale.toFixed(2);
      try { onChange(z.view); } catch (e) { console.error('zoom listener failed', e); }
    },
    reset() { z.set({ scale: 1, x: 0, y: 0 }); },
    zoomBy(f) {
      const b = size();
      z.set(zoomAt(z.view, f, b.w / 2, b.h / 2, b, content()));
    },
    enable() {
      z.enabled = true;
      box.classList.add('zoomable');
    },
    disable() {
      z.enabled = false;
      box.classList.remove('zoomable');
      pointers.clear();
      pinch = null;
      z.reset();
    },
  };

  const distance = (a, b) => Math.hypot(a.x - b.x, a.y - b.y);
  const middle = (a, b) => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });

  box.addEventListener('pointerdown', (e) => {
    // only on the picture (not on what lies over it: self-view, chat, buttons)
    if (!z.enabled || (e.target !== target && e.target !== box)) return;
    pointers.set(e.pointerId, local(e));
    try { box.setPointerCapture(e.pointerId); } catch (err) { /* synthetic */ }
    if (pointers.size === 1) downAt = { ...local(e) };
    if (pointers.size === 2) {
      const [a, b] = [...pointers.values()];
      pinch = { dist: distance(a, b) || 1, mid: middle(a, b), view: { ...z.view } };
    }
  });
  box.addEventListener('pointermove', (e) => {
    if (!z.enabled || !pointers.has(e.pointerId)) return;
    const prev = pointers.get(e.pointerId);
    const now = local(e);
    pointers.set(e.pointerId, now);
    const b = size();
    if (pointers.size >= 2 && pinch) {
      const [p, q] = [...pointers.values()];
      const mid = middle(p, q);
      const c = content();
      const v = zoomAt(pinch.view, distance(p, q) / pinch.dist, pinch.mid.x, pinch.mid.y, b, c);
      z.set(panBy(v, mid.x - pinch.mid.x, mid.y - pinch.mid.y, b, c));
    } else if (pointers.size === 1 && z.view.scale > 1) {
      z.set(panBy(z.view, now.x - prev.x, now.y - prev.y, b, content()));
    }
  });
  const up = (e) => {
    if (!pointers.has(e.pointerId)) return;
    const p = pointers.get(e.pointerId);
    pointers.delete(e.pointerId);
    if (pointers.size < 2) pinch = null;
    if (pointers.size === 0 && e.type === 'pointerup' && downAt && distance(p, downAt) < TAP_SLOP) {
      const at = Date.now();
      if (lastTap && at - lastTap.at < DOUBLE_MS && distance(p, lastTap) < 3 * TAP_SLOP) {
        lastTap = null;
        const b = size();
        z.set(z.view.scale > 1 ? { scale: 1, x: 0, y: 0 } : zoomAt(z.view, 2.5, p.x, p.y, b, content()));
      } else {
        lastTap = { at, x: p.x, y: p.y };
      }
    }
    if (pointers.size === 0) downAt = null;
  };
  box.addEventListener('pointerup', up);
  box.addEventListener('pointercancel', up);
  box.addEventListener('wheel', (e) => {
    if (!z.enabled || !e.ctrlKey) return;
    e.preventDefault();
    const p = local(e);
    z.set(zoomAt(z.view, Math.exp(-e.deltaY / 200), p.x, p.y, size(), content()));
  }, { passive: false });
  return z;
}
