// liveness.mjs: is the page's connection to the server still alive while its
// WebSocket claims to be open? A host that vanished (power loss, a cut link)
// or a phone that silently lost its path (Wi-Fi to mobile, a NAT that
// dropped the mapping) closes no socket: the browser would notice only when
// nginx gives up (proxy_read_timeout, 60 s) or TCP does (minutes).
// janus-client.mjs drives it (docs/pages.md, "Reconnect and re-attach").
// Contract:
//   const w = new LivenessWatch({probe(), lost(), clock})
//     probe(): send one cheap request that the server always answers at
//       once (janus-client.mjs: a Janus `keepalive`, answered with `ack` by
//       the Janus core itself, never queued behind a plugin request)
//     lost(): no answer: the connection counts as lost (called once; the
//       watch is stopped then)
//     clock: {now(), setTimeout(fn, ms), clearTimeout(t)}; default the
//       browser's (tests pass a fake one)
//   w.start()  connected: watching from now (counts as heard)
//   w.heard()  any message from the server arrived: a sign of life, also a
//              slow reply or an event; answers an outstanding probe
//   w.wake()   the page became visible again: an outstanding probe is sent
//              anew and waited for afresh (timers were throttled)
//   w.stop()   no more timers, no lost()
//   w.probes   probes sent (for tests)
// Decision: nothing heard for QUIET_MS -> probe(); nothing heard within
// ANSWER_MS after the probe -> lost(). So on an idle healthy connection one
// probe per QUIET_MS (and its answer), a dead one is noticed at most
// QUIET_MS + ANSWER_MS after the last message. A timer that fires more than
// LATE_MS after it was due means the page slept (a background tab's
// throttled timers, a frozen page, a suspended laptop): the silence seen
// then proves nothing (the messages may wait behind the timer), so the
// watch probes again and waits ANSWER_MS anew instead of giving up. A page
// in the background whose timers fire once a minute therefore never
// declares its connection dead; it does within ANSWER_MS of becoming
// visible (wake()).
// Numbers: the Janus core answers a keepalive in well under a millisecond
// on loopback; through nginx and a poor mobile network a round trip may
// take a second or two (a congested uplink during a call queues it behind
// media), plus one TCP retransmission: ANSWER_MS 5 s is over twice such a
// round trip, and CPU contention on a busy 2-core server adds milliseconds,
// not seconds. QUIET_MS 10 s is what the probes cost: a waiting room is
// mostly silent, so every idle page probes once per QUIET_MS; 10,000
// waiting patients on one server (bench/results/load-*) make 1,000
// keepalives a second through nginx and Janus' WebSocket thread (3,333 at
// 3 s, a sizeable share of a 2-core server), and a phone's radio wakes
// once per QUIET_MS. Detection within 15 s of the last message; with
// nginx's 2 s connect timeout to skip the dead instance and the reconnect
// backoff a page is on another instance after about 15-20 s instead of
// nginx's 60 s. A false alarm costs one reconnect (the place and a P2P
// call are kept), a missed one a minute.
export const QUIET_MS = 10000;
export const ANSWER_MS = 5000;
export const LATE_MS = 1500;

const realClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t),
};

export class LivenessWatch {
  constructor({ probe, lost, clock = realClock, quietMs = QUIET_MS, answerMs = ANSWER_MS, lateMs = LATE_MS }) {
    this.probeFn = probe;
    this.lostFn = lost;
    this.clock = clock;
    this.quietMs = quietMs;
    this.answerMs = answerMs;
    this.lateMs = lateMs;
    this.timer = null;
    this.due = 0;            // when the pending timer should fire
    this.lastHeard = 0;
    this.probeAt = 0;        // 0: no probe outstanding
    this.running = false;
    this.probes = 0;
  }

  start() {
    this.running = true;
    this.lastHeard = this.clock.now();
    this.probeAt = 0;
    this.schedule(this.lastHeard + this.quietMs);
  }

  heard() {
    if (!this.running) return;
    // without a probe outstanding the pending timer looks at lastHeard when
    // it fires: no timer churn per message
    this.lastHeard = this.clock.now();
    if (this.probeAt) {
      this.probeAt = 0;
      this.schedule(this.lastHeard + this.quietMs);
    }
  }

  wake() {
    if (!this.running || !this.probeAt) return;
    this.sendProbe(this.clock.now());
  }

  stop() {
    this.running = false;
    this.probeAt = 0;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  schedule(at) {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.due = at;
    this.timer = this.clock.setTimeout(() => { this.timer = null; this.check(); }, Math.max(0, at - this.clock.now()));
  }

  sendProbe(now) {
    this.probeAt = now;
    this.probes += 1;
    this.schedule(now + this.answerMs);
    try { this.probeFn(); } catch (e) { /* the deadline decides */ }
  }

  check() {
    if (!this.running) return;
    const now = this.clock.now();
    const late = now - this.due > this.lateMs;
    if (!this.probeAt) {
      if (now - this.lastHeard >= this.quietMs) this.sendProbe(now);
      else this.schedule(this.lastHeard + this.quietMs);
    } else if (late) {
      this.sendProbe(now);     // the page slept: ask again, wait afresh
    } else if (now - this.probeAt >= this.answerMs) {
      this.stop();
      this.lostFn();
    } else {
      this.schedule(this.probeAt + this.answerMs);
    }
  }
}
