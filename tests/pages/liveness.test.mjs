// liveness.test.mjs: html/js/liveness.mjs with a fake clock, the decision
// when a connection whose socket is still open counts as lost: an idle
// healthy connection (every probe answered) gets one probe per quiet period
// and is never lost; silence plus an unanswered probe -> lost() exactly
// once, ANSWER_MS after the probe; any message (a slow reply, an event)
// counts as an answer and restarts the quiet period; timers that fire late
// (a throttled background tab, a frozen page) never make it give up, and a
// page coming back (wake) probes afresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANSWER_MS, LATE_MS, LivenessWatch, QUIET_MS } from '../../html/js/liveness.mjs';

// Timers run only when the test advances the clock; sleep(ms) moves the
// clock without running them (a page whose timers are held back), so they
// fire late at the next advance.
function fakeClock() {
  let now = 1_000_000;
  let seq = 0;
  const timers = new Map();
  const clock = {
    now: () => now,
    setTimeout(fn, ms) { seq += 1; timers.set(seq, { at: now + Math.max(0, ms), fn }); return seq; },
    clearTimeout(id) { timers.delete(id); },
    pending: () => timers.size,
    advance(ms) {
      const end = now + ms;
      for (;;) {
        let next = null;
        for (const [id, t] of timers) if (t.at <= end && (!next || t.at < next[1].at)) next = [id, t];
        if (!next) break;
        timers.delete(next[0]);
        now = Math.max(now, next[1].at);
        next[1].fn();
      }
      now = end;
    },
    sleep(ms) { now += ms; },
  };
  return clock;
}

function setup({ answerAfter = null } = {}) {
  const clock = fakeClock();
  const seen = { probes: [], lost: [] };
  const w = new LivenessWatch({
    clock,
    probe: () => {
      seen.probes.push(clock.now());
      // a server that answers each probe answerAfter ms later (null: never)
      if (answerAfter !== null) clock.setTimeout(() => w.heard(), answerAfter);
    },
    lost: () => seen.lost.push(clock.now()),
  });
  return { clock, w, seen };
}

test('the numbers: a dead connection is noticed within 15 s of its last message, never sooner than a few seconds', () => {
  assert.ok(QUIET_MS >= 3000 && ANSWER_MS >= 3000, 'generous for a slow phone network');
  assert.ok(QUIET_MS + ANSWER_MS <= 15000, 'well below nginx\'s 60 s');
  assert.ok(LATE_MS > 1000, 'a hidden tab\'s 1 s timer alignment is not "late"');
});

test('an idle healthy connection: one probe per quiet period, each answered; never lost', () => {
  const { clock, w, seen } = setup({ answerAfter: 300 });
  w.start();
  const hour = 3_600_000;
  clock.advance(hour);
  assert.deepEqual(seen.lost, []);
  // at most one probe per QUIET_MS + answer time: no storm
  assert.ok(seen.probes.length <= Math.ceil(hour / QUIET_MS), `${seen.probes.length} probes in an hour`);
  assert.ok(seen.probes.length >= Math.floor(hour / (QUIET_MS + 300)) - 1, `${seen.probes.length} probes in an hour`);
  for (let i = 1; i < seen.probes.length; i++) {
    assert.ok(seen.probes[i] - seen.probes[i - 1] >= QUIET_MS, `probes ${i - 1} and ${i} ${seen.probes[i] - seen.probes[i - 1]} ms apart`);
  }
  assert.equal(w.probes, seen.probes.length);
  assert.equal(clock.pending() <= 2, true, 'one watch timer (plus the fake server\'s answer)');
  w.stop();
  const n = seen.probes.length;
  clock.advance(hour);
  assert.equal(seen.probes.length, n, 'stopped: no more probes');
  assert.deepEqual(seen.lost, []);
});

test('a connection with steady traffic is never probed', () => {
  const { clock, w, seen } = setup({ answerAfter: null });
  w.start();
  for (let i = 0; i < 1000; i++) {
    clock.advance(QUIET_MS - 1);
    w.heard();
  }
  assert.equal(seen.probes.length, 0);
  assert.deepEqual(seen.lost, []);
});

test('silence and an unanswered probe: lost once, QUIET_MS + ANSWER_MS after the last message', () => {
  const { clock, w, seen } = setup({ answerAfter: null });
  w.start();
  clock.advance(1000);
  w.heard();
  const last = clock.now();
  clock.advance(QUIET_MS - 1);
  assert.equal(seen.probes.length, 0, 'no probe before QUIET_MS of silence');
  clock.advance(1);
  assert.deepEqual(seen.probes, [last + QUIET_MS]);
  clock.advance(ANSWER_MS - 1);
  assert.deepEqual(seen.lost, [], 'not before ANSWER_MS');
  clock.advance(1);
  assert.deepEqual(seen.lost, [last + QUIET_MS + ANSWER_MS]);
  clock.advance(600_000);
  w.heard();
  w.wake();
  clock.advance(600_000);
  assert.equal(seen.lost.length, 1, 'lost only once');
  assert.equal(seen.probes.length, 1, 'no probes after lost');
  assert.equal(clock.pending(), 0);
});

test('a slow answer (a long login, a slow network) within ANSWER_MS keeps the connection', () => {
  const { clock, w, seen } = setup({ answerAfter: ANSWER_MS - 1 });
  w.start();
  clock.advance(600_000);
  assert.deepEqual(seen.lost, []);
  assert.ok(seen.probes.length > 10);
});

test('any message resets it: an event instead of the probe\'s answer, and silence counted from the newest message', () => {
  const { clock, w, seen } = setup({ answerAfter: null });
  w.start();
  clock.advance(QUIET_MS);
  assert.equal(seen.probes.length, 1);
  clock.advance(ANSWER_MS - 10);
  w.heard();                       // e.g. a position event, or a reply
  clock.advance(10);
  assert.deepEqual(seen.lost, [], 'the message answered the probe');
  const after = clock.now() - 10;
  clock.advance(QUIET_MS - 20);
  assert.equal(seen.probes.length, 1, 'the quiet period starts again at the message');
  clock.advance(10);
  assert.equal(seen.probes.length, 2);
  assert.equal(seen.probes[1], after + QUIET_MS);
  clock.advance(ANSWER_MS);
  assert.equal(seen.lost.length, 1, 'and lost once nothing comes any more');
});

test('late timers (background tab, frozen page): never lost on their word; a fresh probe is waited for', () => {
  const { clock, w, seen } = setup({ answerAfter: null });
  w.start();
  clock.advance(QUIET_MS);
  assert.equal(seen.probes.length, 1);
  // the page sleeps through the deadline: its timer fires 60 s late
  for (let i = 0; i < 10; i++) {
    clock.sleep(ANSWER_MS + 60_000);
    clock.advance(0);
    assert.deepEqual(seen.lost, [], `sleep ${i}: not lost on a late timer`);
  }
  assert.equal(seen.probes.length, 11, 'one fresh probe per late wake-up');
  // the page wakes for good: the fresh probe is answered -> connection kept
  w.heard();
  clock.advance(QUIET_MS - 1);
  assert.deepEqual(seen.lost, []);
  // throttled to 1 s alignment (hidden tab): not "late", the verdict stands
  clock.advance(1);
  assert.equal(seen.probes.length, 12);
  clock.sleep(ANSWER_MS + 1000);
  clock.advance(0);
  assert.equal(seen.lost.length, 1, 'a timer 1 s late still decides');
});

test('wake(): an outstanding probe is sent anew and waited for afresh; without one nothing happens', () => {
  const { clock, w, seen } = setup({ answerAfter: null });
  w.start();
  w.wake();
  assert.equal(seen.probes.length, 0, 'no probe outstanding: wake changes nothing');
  clock.advance(QUIET_MS);
  clock.advance(ANSWER_MS - 100);
  w.wake();
  assert.equal(seen.probes.length, 2);
  clock.advance(ANSWER_MS - 1);
  assert.deepEqual(seen.lost, [], 'the wait started again at wake()');
  clock.advance(1);
  assert.equal(seen.lost.length, 1);
});

test('a probe that throws is judged by its deadline like any unanswered one', () => {
  const clock = fakeClock();
  const lost = [];
  const w = new LivenessWatch({ clock, probe: () => { throw new Error('socket closing'); }, lost: () => lost.push(clock.now()) });
  w.start();
  clock.advance(QUIET_MS + ANSWER_MS);
  assert.equal(lost.length, 1);
});
