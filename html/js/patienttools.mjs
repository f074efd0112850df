// patienttools.mjs: the call tools of the patient's page (docs/pages.md,
// "Call tools"): the shared ones (calltools.mjs: chat, quality, torch) and
// the view of a screen the practice shares (screenview.mjs: banner, zoom).
// patient-call.mjs makes one and calls render() with its own.
// Contract: const tools = patientTools({session, consult})
//   Elements besides calltools.mjs': .call-view > #screen-banner
//   (role=status, empty while nothing is shared) and #zoom-bar with
//   #zoom-out, #zoom-reset, #zoom-in.
//   tools.render(), tools.screen (screenview.mjs)
import { t } from './i18n.mjs';
import { mountCallTools } from './calltools.mjs';
import { screenView } from './screenview.mjs';

export function patientTools({ session, consult }) {
  let screen = null;
  const tools = mountCallTools({
    role: 'patient', session, consult,
    them: () => t('call.chat.practice'),
    video: () => (screen && screen.on ? 'screen' : 'camera'),
    cameraOn: () => !session.cameraOff,
    toolsIn: 'view',
  });
  const { el, text, parts } = tools;
  const banner = el('p', { id: 'screen-banner', class: 'screen-banner', role: 'status' });
  const zoomOut = text(el('button', { type: 'button', id: 'zoom-out', class: 'zoom-btn' }, '−'), 'patient.zoom.out', 'aria-label');
  const zoomReset = text(el('button', { type: 'button', id: 'zoom-reset', class: 'zoom-btn' }, '1×'), 'patient.zoom.reset', 'aria-label');
  const zoomIn = text(el('button', { type: 'button', id: 'zoom-in', class: 'zoom-btn' }, '+'), 'patient.zoom.in', 'aria-label');
  const zoomBar = el('div', { id: 'zoom-bar', class: 'zoom-bar', hidden: true }, zoomOut, zoomReset, zoomIn);
  parts.view.append(banner, zoomBar);
  screen = screenView({
    channel: tools.channel, consult, call: parts.call, box: parts.view, video: document.getElementById('remote-video'),
    zoomBar, zoomIn, zoomOut, zoomReset,
  });
  const renderBanner = () => {
    const s = screen.on ? t('patient.screen.shared') : '';
    if (banner.textContent !== s) banner.textContent = s;
  };
  tools.channel.on('screen', () => renderBanner());
  tools.channel.onState(() => renderBanner());
  return {
    screen,
    render() { tools.render(); renderBanner(); },
  };
}
