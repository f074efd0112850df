// callquality.mjs: the connection quality shown during a call (docs/pages.md,
// "Connection quality"): every SAMPLE_MS one getStats() of the call's
// RTCPeerConnection, judged by quality.mjs into "gut" / "mittel" /
// "schlecht", with a hint when it is bad. The patient's page sends its
// numbers to the doctor's page on the call channel (message `quality`,
// numbers only); the doctor's page judges them with the same rules and shows
// the patient's level next to its own. The numbers never reach the server.
// Contract:
//   const q = callQuality({session, channel, consult, role, els, video,
//       cameraOn, remote})
//     els: {own, hint, remote (doctor), remoteHint (doctor)}
//     video(): what this page receives: 'camera' | 'screen'
//     cameraOn(): this page's own camera is on (for the "Kamera
//       ausschalten" hint)
//     remote (doctor): {text(levelWord) -> "beim Patienten: …", hint('wifi'|'camera') -> text}
//   q.render()   texts in the page's language
//   consult.quality = {level, numbers, hint, remoteLevel, remoteNumbers,
//     remoteHint} (tests wait on it); level null while nothing is known
//     (no call, not connected yet).
//   Patient -> doctor: `quality` {rttMs, lossPct, fps, height, bitrateKbps,
//     video: 'camera'|'screen'} after each sample while the channel is open.
//     The doctor's page keeps them REMOTE_STALE_MS; older: not shown.
//   The first WARMUP_MS of a connection (and of the patient's numbers) are
//   judged by round trip and loss only (quality.mjs judge warm).
// i18n-keys: call.level.*
import { t } from './i18n.mjs';
import { isUp } from './media.mjs';
import { QualityMeter, WARMUP_MS, cleanNumbers, hintFor, judge, readStats } from './quality.mjs';

export const SAMPLE_MS = 2000;
export const REMOTE_STALE_MS = 8000;

const round = (v) => (v === null ? null : Math.round(v * 10) / 10);

export function callQuality({ session, channel, consult, role, els, video = () => 'camera', cameraOn = () => true, remote = null }) {
  const own = { meter: new QualityMeter(), prev: null, pc: null, since: 0, level: null, numbers: null, hint: null, poor: null };
  const other = { meter: new QualityMeter(), level: null, numbers: null, hint: null, poor: null, at: 0, since: 0 };
  let busy = false;

  function publish() {
    consult.quality = {
      level: own.level, numbers: own.numbers, hint: own.hint,
      remoteLevel: other.level, remoteNumbers: other.numbers, remoteHint: other.hint,
    };
  }

  function render() {
    const word = (l) => t('call.level.' + l);
    els.own.hidden = !own.level;
    els.own.dataset.level = own.level || '';
    els.own.textContent = own.level ? t('call.quality.own', { level: word(own.level) }) : '';
    const ownHint = own.hint ? t('call.quality.hint.' + own.hint) : '';
    let hint = ownHint;
    if (remote && els.remote) {
      els.remote.hidden = !other.level;
      els.remote.dataset.level = other.level || '';
      els.remote.textContent = other.level ? remote.text(word(other.level)) : '';
      if (other.level === 'poor') hint = [ownHint, remote.hint(other.hint)].filter(Boolean).join(' ');
    }
    // role=status: only a changed text is announced
    if (els.hint.textContent !== hint) els.hint.textContent = hint;
    publish();
  }

  function forget() {
    own.meter.reset();
    own.prev = null;
    own.pc = null;
    own.level = null;
    own.numbers = null;
    own.hint = null;
    own.poor = null;
  }

  function forgetRemote() {
    other.meter.reset();
    Object.assign(other, { level: null, numbers: null, hint: null, poor: null, at: 0 });
  }

  async function sample() {
    if (busy) return;
    const c = session.active;
    const pc = c && !c.closed ? c.pc : null;
    if (remote && other.level && Date.now() - other.at > REMOTE_STALE_MS) forgetRemote();
    if (!pc || !isUp(pc.iceConnectionState)) {
      if (own.level || own.pc) forget();
      render();
      return;
    }
    busy = true;
    let report;
    try {
      report = await pc.getStats();
    } catch (e) {
      return;           // closed meanwhile
    } finally {
      busy = false;
    }
    if (pc !== own.pc) { forget(); own.pc = pc; own.since = Date.now(); }   // a new connection (forwarding): fresh deltas
    const { numbers, state } = readStats(report, own.prev);
    own.prev = state;
    const kind = video();
    const verdict = judge(numbers, { video: kind, warm: Date.now() - own.since < WARMUP_MS });
    own.numbers = numbers;
    own.level = own.meter.push(verdict.level);
    if (verdict.level === 'poor') own.poor = verdict;     // the reasons of the level shown
    own.hint = own.level === 'poor' ? hintFor(own.poor, { cameraOn: cameraOn() }) || 'wifi' : null;
    render();
    if (role === 'patient' && channel && channel.state === 'open') {
      const msg = { video: kind };
      for (const [k, v] of Object.entries(numbers)) msg[k] = round(v);
      channel.send('quality', msg).catch(() => {});
    }
  }

  if (remote && channel) {
    channel.on('quality', (msg) => {
      const numbers = cleanNumbers(msg);
      const kind = msg && msg.video === 'screen' ? 'screen' : 'camera';
      if (!other.at) other.since = Date.now();
      const verdict = judge(numbers, { video: kind, warm: Date.now() - other.since < WARMUP_MS });
      other.numbers = numbers;
      other.at = Date.now();
      other.level = other.meter.push(verdict.level);
      if (verdict.level === 'poor') other.poor = verdict;
      other.hint = other.level === 'poor' ? hintFor(other.poor, { cameraOn: true }) || 'wifi' : null;
      render();
    });
    channel.onState((s) => { if (s === 'closed' || s === 'idle') { forgetRemote(); render(); } });
  }
  setInterval(sample, SAMPLE_MS);
  publish();
  return { render };
}
