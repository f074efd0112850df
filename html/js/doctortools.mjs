// doctortools.mjs: the call tools of the doctor's page (docs/pages.md, "Call
// tools"): the shared ones (calltools.mjs: chat, quality, torch) with the
// doctor's words for the patient, the patient's quality level, and screen
// sharing (screenshare.mjs). doctor.mjs makes one and calls render() with
// its own.
// Contract: const tools = doctorTools({session, consult})
//   Elements besides calltools.mjs': #share-screen in #call-tools,
//   #share-note (role=status) in .call-info, #quality-remote.
//   tools.render(), tools.share (screenshare.mjs)
import { t } from './i18n.mjs';
import { mountCallTools } from './calltools.mjs';
import { screenShare } from './screenshare.mjs';

export function doctorTools({ session, consult }) {
  let share = null;
  const tools = mountCallTools({
    role: 'doctor', session, consult,
    them: () => t('doctor.chat.patient'),
    remote: {
      text: (level) => t('doctor.quality.patient', { level }),
      hint: (kind) => t(kind === 'camera' ? 'doctor.quality.patient.hint.camera' : 'doctor.quality.patient.hint.wifi'),
    },
    cameraOn: () => !session.cameraOff && !(share && share.sharing),
  });
  const { el, parts } = tools;
  const button = el('button', { type: 'button', id: 'share-screen', class: 'secondary tool', 'aria-pressed': 'false' });
  parts.bar.appendChild(button);
  const note = el('p', { id: 'share-note', class: 'share-note', role: 'status' });
  parts.info.appendChild(note);
  share = screenShare({
    session, channel: tools.channel, consult, button, note, localVideo: document.getElementById('local-video'),
  });
  return {
    share,
    render() { tools.render(); share.render(); },
  };
}
