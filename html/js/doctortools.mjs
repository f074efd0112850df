// doctortools.mjs: the call tools of the doctor's page (docs/pages.md, "Call
// tools"): the shared ones (calltools.mjs: chat, quality, torch) with the
// doctor's words for the patient, the patient's quality level, screen
// sharing (screenshare.mjs) and the view of a screen the patient shares
// (screenview.mjs: banner, zoom; doctor.mjs switches it from the patient's
// `media` signal where the practice allows it). doctor.mjs makes one and
// calls render() with its own.
// Contract: const tools = doctorTools({session, consult})
//   Elements besides calltools.mjs': #share-screen in #call-tools,
//   #share-note (role=status) in .call-info, #quality-remote,
//   .call-view > #screen-banner (role=status, "Patient teilt den
//   Bildschirm", empty otherwise) and #zoom-bar with #zoom-out,
//   #zoom-reset, #zoom-in.
//   tools.render(), tools.share (screenshare.mjs), tools.patientScreen
//   (screenview.mjs: .set(on), .on)
import { t } from './i18n.mjs';
import { mountCallTools } from './calltools.mjs';
import { screenShare } from './screenshare.mjs';
import { mountScreenView } from './screenview.mjs';

export function doctorTools({ session, consult }) {
  let share = null;
  let viewer = null;
  const tools = mountCallTools({
    role: 'doctor', session, consult,
    them: () => t('doctor.chat.patient'),
    remote: {
      text: (level) => t('doctor.quality.patient', { level }),
      hint: (kind) => t(kind === 'camera' ? 'doctor.quality.patient.hint.camera' : 'doctor.quality.patient.hint.wifi'),
    },
    cameraOn: () => !session.cameraOff && !(share && share.sharing),
    video: () => (viewer && viewer.on ? 'screen' : 'camera'),
  });
  const { el, parts } = tools;
  const button = el('button', { type: 'button', id: 'share-screen', class: 'secondary tool', 'aria-pressed': 'false' });
  parts.bar.appendChild(button);
  const note = el('p', { id: 'share-note', class: 'share-note', role: 'status' });
  parts.info.appendChild(note);
  share = screenShare({
    session, channel: tools.channel, consult, button, note, localVideo: document.getElementById('local-video'),
    keys: {
      share: 'doctor.screen.share', stop: 'doctor.screen.stop', sharing: 'doctor.screen.sharing', failed: 'doctor.screen.failed',
    },
  });
  // the patient's shared screen: banner and zoom as on the patient's page
  const mounted = mountScreenView(tools, { consult, bannerKey: 'doctor.screen.patient', listen: false });
  viewer = mounted.view;
  const { renderBanner } = mounted;
  const patientScreen = {
    get on() { return viewer.on; },
    set(on) { viewer.set(on); renderBanner(); },
  };
  return {
    share, patientScreen,
    render() { tools.render(); share.render(); renderBanner(); },
  };
}
