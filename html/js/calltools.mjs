// calltools.mjs: the tools of a running call that both pages share - chat
// (chat.mjs), connection quality (callquality.mjs) and the camera's light
// (torch.mjs) - and the elements they need, added to #call when the page
// loads (docs/pages.md, "Call tools"). doctortools.mjs and patienttools.mjs
// add what only one side has (screen sharing, its viewer).
// Contract:
//   const tools = mountCallTools({role, session, consult, them, remote,
//       video, cameraOn, toolsIn})
//     role 'doctor' | 'patient'; session: the page's CallSession (its
//     .channel is the call channel, callchannel.mjs); them(): the other
//     side's name for the chat log; remote: doctor only, callquality.mjs'
//     remote labels; video(): what this page receives ('camera' |
//     'screen'); cameraOn(): the page's own camera is on; toolsIn
//     'controls' (default: a row of its own above the call's controls) or
//     'view' (over the picture's bottom corner at the inline start: phones
//     have no room for another row, tests/browser/layout.chromium.test.mjs).
//   Elements (ids are the page contract, docs/pages.md):
//     #call-tools (in .controls or .call-view): #chat-toggle (with
//       #chat-unread), #torch
//     .call-view > #chat: #chat-log, #chat-form, #chat-input, #chat-send,
//       #chat-close; #call > #chat-live (screen readers)
//     .call-info: #quality [data-level] (after #path, on its line),
//       #quality-hint (role=status, a line of its own)
//   tools.render()  every text in the page's language (call it from the
//     page's render, which runs on a language switch)
//   tools.el(tag, attrs, ...children) / tools.text(el, key, attr) for the
//     side modules: create an element / give it a translated text that
//     render() renews.
//   tools.chat, tools.quality, tools.torch, tools.channel, tools.parts
//     {call, view, info, controls, bar}
import { t } from './i18n.mjs';
import { callChat } from './chat.mjs';
import { callQuality } from './callquality.mjs';
import { torchControl } from './torch.mjs';
import { cameraState, forgetCameras, noteCamera, onCameraChange } from './camerastate.mjs';

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'class') e.className = v;
    else if (k === 'hidden') e.hidden = true;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  e.append(...children);
  return e;
}

export function mountCallTools({
  role, session, consult, them, remote = null, video = () => 'camera', cameraOn = () => true, toolsIn = 'controls',
}) {
  const call = document.getElementById('call');
  const view = call.querySelector('.call-view');
  const info = call.querySelector('.call-info');
  const controls = call.querySelector('.controls');
  const channel = session.channel;
  const texts = [];   // [element, key, attribute or null]
  const text = (e, key, attr = null) => { texts.push([e, key, attr]); return e; };

  // the tool bar: a row of its own above the call's main controls, or over
  // the picture's corner
  const bar = el('div', { id: 'call-tools', class: 'call-tools' });
  const unread = el('span', { id: 'chat-unread', class: 'badge', hidden: true });
  const toggleLabel = text(el('span', { class: 'tool-label' }), 'call.chat.open');
  const toggle = el('button', {
    type: 'button', id: 'chat-toggle', class: 'secondary tool', 'aria-controls': 'chat', 'aria-expanded': 'false',
  }, toggleLabel, unread);
  const torchBtn = el('button', { type: 'button', id: 'torch', class: 'secondary tool', 'aria-pressed': 'false', hidden: true });
  bar.append(toggle, torchBtn);
  if (toolsIn === 'view') view.appendChild(bar); else controls.prepend(bar);

  // the chat panel lies over the picture, never over the controls
  const title = text(el('h2', { id: 'chat-title', class: 'chat-title' }), 'call.chat.title');
  // a symbol to see, words to hear (WCAG 2.5.3 label in name)
  const close = el('button', { type: 'button', id: 'chat-close', class: 'chat-close' },
    el('span', { 'aria-hidden': 'true' }, '×'), text(el('span', { class: 'sr-only' }), 'call.chat.close'));
  const note = text(el('p', { id: 'chat-note', class: 'chat-note' }), 'call.chat.note');
  const log = el('ol', { id: 'chat-log', class: 'chat-log', 'aria-labelledby': 'chat-title', tabindex: '0' });
  const input = text(el('input', {
    type: 'text', id: 'chat-input', maxlength: '1000', autocomplete: 'off', enterkeyhint: 'send', spellcheck: 'true',
  }), 'call.chat.input', 'placeholder');
  const label = text(el('label', { for: 'chat-input', class: 'sr-only' }), 'call.chat.input');
  const send = text(el('button', { type: 'submit', id: 'chat-send' }), 'call.chat.send');
  const form = el('form', { id: 'chat-form', class: 'chat-form', novalidate: true }, label, input, send);
  const panel = el('section', { id: 'chat', class: 'chat', 'aria-labelledby': 'chat-title', hidden: true },
    el('div', { class: 'chat-bar' }, title, close), note, log, form);
  view.appendChild(panel);
  const live = el('div', { id: 'chat-live', class: 'sr-only', 'aria-live': 'polite', 'aria-atomic': 'true' });
  call.appendChild(live);

  // quality: in the call info line, the hint on a line of its own
  const own = el('span', { id: 'quality', class: 'quality', 'data-level': '', hidden: true });
  const hint = el('p', { id: 'quality-hint', class: 'quality-hint', role: 'status' });
  let remoteEl = null;
  if (remote) remoteEl = el('span', { id: 'quality-remote', class: 'quality', 'data-level': '', hidden: true });
  const path = info.querySelector('#path');
  if (path) path.after(...[own, remoteEl].filter(Boolean)); else info.append(...[own, remoteEl].filter(Boolean));
  info.append(hint);

  const chat = callChat({
    channel, consult, them,
    els: { toggle, unread, panel, log, form, input, send, close, live },
  });
  const quality = callQuality({
    session, channel, consult, role, video, cameraOn, remote,
    els: { own, hint, remote: remoteEl },
  });
  const liveTrack = () => {
    const c = session.active;
    const s = (c && !c.closed && c.localStream) || session.localStream;
    const tr = s ? s.getVideoTracks()[0] : null;
    return tr && tr.readyState !== 'ended' ? tr : null;
  };
  const torch = torchControl({ button: torchBtn, track: liveTrack });
  onCameraChange(() => torch.update());
  channel.onState((st) => {
    // the camera of a new call (a switch later tells camerastate.mjs itself)
    const tr = liveTrack();
    if (st === 'connecting' && tr && cameraState().track !== tr) noteCamera(tr, (session.active && session.active.facing) || 'user');
    else if (st === 'closed' || st === 'idle') forgetCameras();
    torch.update();
  });

  function render() {
    for (const [e, key, attr] of texts) {
      if (attr) e.setAttribute(attr, t(key)); else e.textContent = t(key);
    }
    chat.render();
    quality.render();
    torch.update();
  }
  render();
  return {
    render, chat, quality, torch, channel, el,
    text: (e, key, attr) => { text(e, key, attr); if (attr) e.setAttribute(attr, t(key)); else e.textContent = t(key); return e; },
    renderTexts: render,
    parts: { call, view, info, controls, bar },
  };
}
