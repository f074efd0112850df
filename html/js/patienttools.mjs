// patienttools.mjs: the call tools of the patient's page (docs/pages.md,
// "Call tools"): the shared ones (calltools.mjs: chat, quality, torch) and
// the view of a screen the practice shares (screenview.mjs: banner, zoom),
// and the patient's own screen sharing where the practice allows it
// (screenshare.mjs; told to the doctor's page by the `media` signal, which
// the server refuses where the practice does not allow it).
// patient-call.mjs makes one and calls render() with its own.
// Contract: const tools = patientTools({session, consult, announce, allowed})
//   announce(on) -> Promise: sends the page's `media` signal (it reads
//   tools.share.sharing); allowed(): the practice's patient_share is
//   "allowed" (the call's `ringing`).
//   Elements besides calltools.mjs': .call-view > #screen-banner
//   (role=status, empty while nothing is shared) and #zoom-bar with
//   #zoom-out, #zoom-reset, #zoom-in; #share-screen in #call-tools
//   (hidden unless allowed and getDisplayMedia exists), #share-note
//   (role=status) in .call-info.
//   tools.render(), tools.screen (screenview.mjs), tools.share (screenshare.mjs)
import { t } from './i18n.mjs';
import { mountCallTools } from './calltools.mjs';
import { mountScreenView } from './screenview.mjs';
import { screenShare } from './screenshare.mjs';

export function patientTools({ session, consult, announce, allowed }) {
  let screen = null;
  let share = null;
  const tools = mountCallTools({
    role: 'patient', session, consult,
    them: () => t('call.chat.practice'),
    video: () => (screen && screen.on ? 'screen' : 'camera'),
    cameraOn: () => !session.cameraOff && !(share && share.sharing),
    toolsIn: 'view',
  });
  const { el, parts } = tools;
  const mounted = mountScreenView(tools, { consult, bannerKey: 'patient.screen.shared' });
  screen = mounted.view;
  const { renderBanner } = mounted;
  // the patient's own screen, where the practice allows it
  const button = el('button', { type: 'button', id: 'share-screen', class: 'secondary tool', 'aria-pressed': 'false', hidden: true });
  parts.bar.appendChild(button);
  const note = el('p', { id: 'share-note', class: 'share-note', role: 'status' });
  parts.info.appendChild(note);
  share = screenShare({
    session, channel: tools.channel, consult, button, note, localVideo: document.getElementById('local-video'),
    keys: {
      share: 'patient.screen.share', stop: 'patient.screen.stop', sharing: 'patient.screen.sharing',
      failed: 'patient.screen.failed', refused: 'patient.screen.refused',
    },
    announce, allowed,
    mirror: () => !session.active || (session.active.facing || 'user') === 'user',
  });
  return {
    screen, share,
    render() { tools.render(); renderBanner(); share.render(); },
  };
}
