// chat.mjs: text chat during a call (docs/pages.md, "Chat in the call"), for
// hearing-impaired patients, a failing microphone or a medication spelt out.
// The messages travel on the call channel (callchannel.mjs: peer to peer over
// DTLS, in forwarding mode sealed with the call's E2EE keys, so Janus relays
// ciphertext only). Nothing is stored: the messages live in the page's DOM
// and are removed when the call ends (channel state 'closed' / 'idle').
// Contract:
//   const c = callChat({channel, els, them: () => label, consult})
//     els: {toggle, unread, panel, log, form, input, send, close, live}
//     them(): the other side's name in the log ("Praxis" / "Patient/in")
//   Wire format: channel message `chat` {text}: 1..MAX_CHARS characters
//     after trimming; control characters other than newline and tab are
//     removed. Anything else received is ignored (counted in c.ignored).
//   Panel: #chat-toggle (aria-expanded, aria-controls) opens and closes
//     #chat; opening moves the focus to the input and clears the unread
//     count. A message that arrives while the panel is closed or the tab is
//     hidden counts as unread: #chat-unread shows the number, the toggle's
//     data-unread and aria-label say it. Incoming messages are announced to
//     screen readers through #chat-live (aria-live polite, outside the
//     panel, so they are heard with the panel closed too).
//   Own messages: li[data-from=me][data-state=pending|sent|failed]; pending
//     until the channel took it (it queues while the other page is not
//     reached yet), failed if the call ended first.
//   c.render()  texts in the page's language; c.clear() empties everything;
//   c.unread, c.open, c.ignored

import { t, fmtTime } from './i18n.mjs';

export const MAX_CHARS = 1000;

/** The text to send or show, or null when it is none (pure; tested). */
export function cleanText(v) {
  if (typeof v !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const s = v.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();
  if (!s || [...s].length > MAX_CHARS) return null;
  return s;
}

export function callChat({ channel, els, them, consult = {} }) {
  const c = { unread: 0, open: false, ignored: 0 };
  const list = [];   // {li, from, text, at, state}

  function announce(text) {
    els.live.textContent = '';
    // emptied first and filled a moment later: a repeated text is announced too
    // (not requestAnimationFrame: it does not run in a hidden tab)
    setTimeout(() => { els.live.textContent = text; }, 50);
  }

  function renderItem(m) {
    const who = m.from === 'me' ? t('call.chat.me') : them();
    m.li.dataset.from = m.from;
    m.li.dataset.state = m.state || '';
    m.who.textContent = who;
    m.meta.textContent = fmtTime(m.at) + (m.state === 'pending' ? ' · ' + t('call.chat.pending')
      : m.state === 'failed' ? ' · ' + t('call.chat.failed') : '');
  }

  function add(from, text, state) {
    const li = document.createElement('li');
    li.className = 'chat-msg';
    const head = document.createElement('p');
    head.className = 'chat-head-line';
    const who = document.createElement('span');
    who.className = 'chat-who';
    const meta = document.createElement('span');
    meta.className = 'chat-meta';
    head.append(who, ' ', meta);
    const body = document.createElement('p');
    body.className = 'chat-text';
    body.textContent = text;     // never HTML
    li.append(head, body);
    const m = { li, who, meta, from, text, state, at: Date.now() / 1000 };
    list.push(m);
    renderItem(m);
    els.log.appendChild(li);
    els.log.scrollTop = els.log.scrollHeight;
    return m;
  }

  function renderToggle() {
    els.unread.textContent = c.unread ? String(c.unread) : '';
    els.unread.hidden = !c.unread;
    els.toggle.dataset.unread = String(c.unread);
    els.toggle.setAttribute('aria-expanded', String(c.open));
    const label = c.unread ? t('call.chat.open.unread', { n: c.unread }) : t('call.chat.open');
    els.toggle.setAttribute('aria-label', label);
  }

  function setOpen(open) {
    c.open = open;
    els.panel.hidden = !open;
    if (open) {
      c.unread = 0;
      els.log.scrollTop = els.log.scrollHeight;
      els.input.focus();
    }
    renderToggle();
    consult.chatOpen = open;
  }

  c.render = () => {
    for (const m of list) renderItem(m);
    renderToggle();
  };

  c.clear = () => {
    list.length = 0;
    els.log.replaceChildren();
    els.input.value = '';
    els.live.textContent = '';
    c.unread = 0;
    if (c.open) setOpen(false); else renderToggle();
  };

  async function send(text) {
    const m = add('me', text, 'pending');
    try {
      await channel.send('chat', { text });
      m.state = 'sent';
    } catch (e) {
      m.state = 'failed';
    }
    if (list.includes(m)) renderItem(m);
  }

  els.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = cleanText(els.input.value);
    if (!text) return;
    els.input.value = '';
    send(text);
  });
  els.toggle.addEventListener('click', () => setOpen(!c.open));
  els.close.addEventListener('click', () => { setOpen(false); els.toggle.focus(); });
  els.panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { setOpen(false); els.toggle.focus(); }
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && c.open && c.unread) { c.unread = 0; renderToggle(); }
  });

  channel.on('chat', (msg) => {
    const text = cleanText(msg && msg.text);
    if (!text) { c.ignored += 1; return; }
    add('them', text, '');
    if (!c.open || document.hidden) c.unread += 1;
    renderToggle();
    announce(t('call.chat.from', { who: them(), text }));
  });
  channel.onState((s) => { if (s === 'closed' || s === 'idle') c.clear(); });
  renderToggle();
  return c;
}
