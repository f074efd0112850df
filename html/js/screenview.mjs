// screenview.mjs: the receiving side of a shared screen (docs/pages.md,
// "Screen sharing"): the patient's page when the practice shares (the
// doctor's page says so on the call channel, `screen` {on}), the doctor's
// page when the patient shares (told by doctor.mjs from the patient's
// `media` signal, listen: false). The picture itself comes on the same video
// track as the camera did. While it is on: the page's banner ("Die Praxis
// teilt den Bildschirm" / "Patient teilt den Bildschirm", role=status),
// #call[data-screen=on], and the
// picture can be enlarged: pinch and pan (zoom.mjs), a double tap, and the
// buttons "Vergrößern" / "Verkleinern" / "Ganzes Bild". Off, or the call
// ended: all of it goes, the picture is whole again.
// Contract:
//   const v = screenView({channel, consult, call, box, video, zoomBar, zoomIn,
//       zoomOut, zoomReset, listen = true}); the banner's text is the page's
//   tools' (it follows v.on). listen: the channel's `screen` messages
//   switch it (else only v.set).
//   v.on (the other side shares), v.set(on), v.render(); consult.remoteScreen
//   (tests), consult.zoom (the current {scale, x, y}).
//   const {view, renderBanner} = mountScreenView(tools, {consult, bannerKey,
//       listen}): the same in a call's tools (calltools.mjs mountCallTools):
//   .call-view > #screen-banner (role=status; the words of bannerKey while
//   the other side shares, empty otherwise) and #zoom-bar with #zoom-out,
//   #zoom-reset, #zoom-in, wired to a screenView; renderBanner() follows
//   view.on (called on the channel's state and `screen` messages here).
import { t } from './i18n.mjs';
import { attachZoom } from './zoom.mjs';

export function screenView({ channel, consult, call, box, video, zoomBar, zoomIn, zoomOut, zoomReset, listen = true }) {
  const v = { on: false };
  const zoom = attachZoom({
    box, target: video,
    media: () => [video.videoWidth, video.videoHeight],
    onChange: (view) => {
      consult.zoom = view;
      zoomOut.disabled = view.scale <= 1;
      zoomReset.disabled = view.scale <= 1;
    },
  });

  function set(on) {
    if (on === v.on) return;
    v.on = on;
    consult.remoteScreen = on;
    zoomBar.hidden = !on;
    call.dataset.screen = on ? 'on' : '';
    if (on) zoom.enable(); else zoom.disable();
  }

  zoomIn.addEventListener('click', () => zoom.zoomBy(1.5));
  zoomOut.addEventListener('click', () => zoom.zoomBy(1 / 1.5));
  zoomReset.addEventListener('click', () => zoom.reset());
  if (listen) channel.on('screen', (msg) => set(!!msg && msg.on === true));
  channel.onState((s) => { if (s === 'closed' || s === 'idle') set(false); });
  // the picture's size changes (screen <-> camera, a resized window): keep it inside
  video.addEventListener('resize', () => { if (v.on) zoom.set(zoom.view); });
  consult.remoteScreen = false;
  zoom.reset();
  v.render = () => {};
  v.set = (on) => set(!!on);
  v.zoom = zoom;
  return v;
}

export function mountScreenView(tools, { consult, bannerKey, listen = true }) {
  const { el, text, parts } = tools;
  const banner = el('p', { id: 'screen-banner', class: 'screen-banner', role: 'status' });
  // a symbol to see, words to hear (an aria-label that lacks the symbol
  // fails WCAG 2.5.3 "label in name", axe label-content-name-mismatch)
  const zoomButton = (id, symbol, key) => el('button', { type: 'button', id, class: 'zoom-btn' },
    el('span', { 'aria-hidden': 'true' }, symbol), text(el('span', { class: 'sr-only' }), key));
  const zoomOut = zoomButton('zoom-out', '−', 'patient.zoom.out');
  const zoomReset = zoomButton('zoom-reset', '1×', 'patient.zoom.reset');
  const zoomIn = zoomButton('zoom-in', '+', 'patient.zoom.in');
  const zoomBar = el('div', { id: 'zoom-bar', class: 'zoom-bar', hidden: true }, zoomOut, zoomReset, zoomIn);
  parts.view.append(banner, zoomBar);
  const view = screenView({
    channel: tools.channel, consult, call: parts.call, box: parts.view, video: document.getElementById('remote-video'),
    zoomBar, zoomIn, zoomOut, zoomReset, listen,
  });
  const renderBanner = () => {
    const s = view.on ? t(bannerKey) : '';
    if (banner.textContent !== s) banner.textContent = s;
  };
  if (listen) tools.channel.on('screen', () => renderBanner());
  tools.channel.onState(() => renderBanner());
  return { view, renderBanner };
}
