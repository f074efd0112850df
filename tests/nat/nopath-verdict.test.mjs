// rtc.mjs noPathVerdict(): the rule by which the doctor's page decides,
// before the first connection, that no peer-to-peer path can come up (and
// forwards at once instead of waiting for p2p_timeout_seconds). Pure: the
// snapshots are the shapes measured in the NAT lab (tests/nat/forward-*
// show the rule in the real pages); the clock is an input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_PATH, noPathQuietEnd, noPathVerdict } from '../../html/js/rtc.mjs';

const pair = (requestsSent, more = {}) => ({ state: 'in-progress', requestsSent, responsesReceived: 0, requestsReceived: 0, ...more });
// offer at 1000 (our first candidate at 1005), answer at 1100 (their first
// candidate at 1110); signalling round trip 5 ms
const base = (over = {}) => ({
  now: 1100 + 500, offerAt: 1000, answerAt: 1100, rttMs: 5, gathered: true, localSince: 1005,
  localCandidates: 2, remoteCandidates: 2, remoteSince: 1110, remoteEnded: true, pairs: [pair(1), pair(1)], ...over,
});

test('no verdict before the answer, or while checks are still few', () => {
  assert.equal(noPathVerdict(base({ answerAt: 0 })), null, 'no answer yet');
  assert.equal(noPathVerdict(base()), null, 'one check per pair is no evidence');
  assert.equal(noPathVerdict(base({ pairs: [pair(NO_PATH.checks), pair(NO_PATH.checks - 1)] })), null, 'one pair still below the count');
});

test('every pair unanswered after the check count, both sides done gathering: pairs_failed', () => {
  const v = noPathVerdict(base({ pairs: [pair(NO_PATH.checks), pair(NO_PATH.checks + 3)] }));
  assert.deepEqual(v, { reason: 'pairs_failed', pairs: 2, checks: NO_PATH.checks, remote: 'ended' });
  // Chromium's own failed state counts too
  assert.equal(noPathVerdict(base({ pairs: [pair(1, { state: 'failed' }), pair(NO_PATH.checks)] })).reason, 'pairs_failed');
});

test('anything answered on any pair: a path exists, no verdict', () => {
  const dead = pair(50);
  assert.equal(noPathVerdict(base({ pairs: [dead, pair(50, { responsesReceived: 1 })] })), null, 'a response');
  assert.equal(noPathVerdict(base({ pairs: [dead, pair(50, { requestsReceived: 1 })] })), null, 'a check from the other side (prflx, hole punching)');
  assert.equal(noPathVerdict(base({ pairs: [dead, pair(50, { state: 'succeeded' })] })), null, 'a succeeded pair');
});

test('candidates may still come: no verdict until gathering ended or ran quiet since the side\'s first candidate', () => {
  const dead = [pair(20), pair(20)];
  // a STUN/TURN server not answered yet (gathering running) on our side
  assert.equal(noPathVerdict(base({ gathered: false, pairs: dead, now: 1005 + NO_PATH.quietMs - 1 })), null);
  assert.equal(noPathVerdict(base({ gathered: false, pairs: dead, now: 1005 + NO_PATH.quietMs })).reason, 'pairs_failed');
  // the other side has not said end-of-candidates: the same time from its answer on
  assert.equal(noPathVerdict(base({ remoteEnded: false, pairs: dead, now: 1100 + NO_PATH.quietMs - 1 })), null);
  assert.deepEqual(noPathVerdict(base({ remoteEnded: false, pairs: dead, now: 1100 + NO_PATH.quietMs })), { reason: 'pairs_failed', pairs: 2, checks: NO_PATH.checks, remote: 'answer' });
});

test('the other side\'s quiet time counts from its answer, not from its first candidate (handed over late)', () => {
  // measured (bench/forward.mjs --timeline): Chromium hands the answerer's
  // candidates over 100-600 ms after its answer; its gathering ran since it
  // set the answer, before sending it
  const dead = [pair(20), pair(20)];
  const s = { remoteEnded: false, remoteSince: 1100 + 400, pairs: dead };
  assert.deepEqual(noPathVerdict(base({ ...s, now: 1100 + NO_PATH.quietMs })), { reason: 'pairs_failed', pairs: 2, checks: NO_PATH.checks, remote: 'answer' });
  // but only once it has shown a candidate at all (a starved page is waited for)
  assert.equal(noPathVerdict(base({ ...s, remoteSince: 0, remoteCandidates: 0, pairs: [], now: 1100 + 10 * NO_PATH.quietMs })), null);
  // and a candidate that arrives late makes new pairs: no verdict until they too had their checks
  assert.equal(noPathVerdict(base({ ...s, pairs: [...dead, pair(1)], now: 1100 + NO_PATH.quietMs })), null);
  // a candidate before the answer (not how the pages send them): the earlier one counts
  assert.equal(noPathVerdict(base({ ...s, remoteSince: 1050, now: 1050 + NO_PATH.quietMs })).remote, 'candidate');
});

test('a side that has shown no candidate yet is waited for (a slow browser), however long', () => {
  // a relay-only patient whose page is starved: no candidate, no end-of-candidates
  const s = { remoteEnded: false, remoteCandidates: 0, remoteSince: 0, pairs: [], now: 1100 + 100 * NO_PATH.quietMs };
  assert.equal(noPathVerdict(base(s)), null);
  // once it says end-of-candidates without any: nothing to pair
  assert.deepEqual(noPathVerdict(base({ ...s, remoteEnded: true })), { reason: 'no_remote_candidates', pairs: 0 });
  // our side the same: no candidate and gathering still running -> wait
  assert.equal(noPathVerdict(base({ gathered: false, localCandidates: 0, localSince: 0, pairs: [], now: 1e9 })), null);
});

test('the quiet time grows with the signalling round trip (slow links answer late)', () => {
  const rttMs = 600; // e.g. satellite: TURN over TCP needs several round trips
  const quiet = NO_PATH.rttFactor * rttMs;
  assert.ok(quiet > NO_PATH.quietMs);
  const s = { gathered: false, remoteEnded: false, rttMs, pairs: [pair(40), pair(40)] };
  assert.equal(noPathVerdict(base({ ...s, now: 1110 + NO_PATH.quietMs })), null, 'the fixed minimum is not enough');
  assert.equal(noPathVerdict(base({ ...s, now: 1100 + quiet - 1 })), null);
  assert.equal(noPathVerdict(base({ ...s, now: 1100 + quiet })).reason, 'pairs_failed');
});

test('the quiet time grows with the time the other side took to answer (a busy machine)', () => {
  const answerAt = 1000 + 1000; // 1 s from our offer to its answer
  const quiet = NO_PATH.answerFactor * 1000;
  assert.ok(quiet > NO_PATH.quietMs);
  const s = { answerAt, remoteSince: answerAt + 10, remoteEnded: false, pairs: [pair(40), pair(40)] };
  assert.equal(noPathVerdict(base({ ...s, now: answerAt + 10 + NO_PATH.quietMs })), null);
  assert.equal(noPathVerdict(base({ ...s, now: answerAt + quiet - 1 })), null);
  assert.equal(noPathVerdict(base({ ...s, now: answerAt + quiet })).reason, 'pairs_failed');
});

test('nothing to pair: no local or no remote candidate, or no pair formed', () => {
  // relay-only policy and TURN refused: gathering ends without a candidate
  assert.deepEqual(noPathVerdict(base({ localCandidates: 0, localSince: 0, pairs: [] })), { reason: 'no_local_candidates', pairs: 0 });
  assert.deepEqual(noPathVerdict(base({ remoteCandidates: 0, remoteSince: 0, pairs: [] })), { reason: 'no_remote_candidates', pairs: 0 });
  assert.deepEqual(noPathVerdict(base({ pairs: [] })), { reason: 'unpairable', pairs: 0 });
  // but not while our gathering may still bring one
  assert.equal(noPathVerdict(base({ localCandidates: 0, localSince: 0, pairs: [], gathered: false })), null);
});

test('noPathQuietEnd: when the quiet times end, so that the page looks right then', () => {
  const s = base({ gathered: false, remoteEnded: false, remoteSince: 1100 + 300, pairs: [pair(20), pair(20)] });
  const end = noPathQuietEnd(s);
  assert.equal(end, 1100 + NO_PATH.quietMs, 'the later of ours (first candidate) and theirs (answer)');
  assert.equal(noPathVerdict({ ...s, now: end - 1 }), null);
  assert.equal(noPathVerdict({ ...s, now: end }).reason, 'pairs_failed');
  assert.equal(noPathQuietEnd(base({ answerAt: 0 })), 0, 'no answer yet: unknown');
  assert.equal(noPathQuietEnd(base({ remoteEnded: false, remoteSince: 0 })), 0, 'a side without a candidate: unknown');
  assert.equal(noPathQuietEnd(base()), 1100, 'both ended gathering: at the answer');
});

test('many pairs: minChecks unanswered checks on each suffice once the newest pair exists for the check span', () => {
  // measured (tests/nat TURN-refused lab): Chromium sends one check every
  // 50-65 ms over all pairs, 6 pairs each got one every ~300-380 ms, so 5
  // per pair came 1.9-2.1 s after the offer, after both quiet times
  const few = NO_PATH.minChecks;
  const dead = [pair(few), pair(few + 1), pair(few), pair(few + 2), pair(few), pair(few)];
  // the newest candidate of either side: theirs at 1300 (a late host candidate)
  const s = { remoteEnded: false, remoteLast: 1300, localLast: 1200, pairs: dead };
  const end = Math.max(1300 + NO_PATH.checkSpanMs, 1100 + NO_PATH.quietMs);
  assert.equal(noPathVerdict(base({ ...s, now: end - 1 })), null, 'before the span and the quiet time');
  assert.deepEqual(noPathVerdict(base({ ...s, now: end })), { reason: 'pairs_failed', pairs: 6, checks: few, remote: 'answer' });
  // one pair below minChecks: its own checks first (the full count for it, or minChecks)
  assert.equal(noPathVerdict(base({ ...s, pairs: [...dead, pair(few - 1)], now: end + 10_000 })), null);
  // a failed pair counts as fully checked
  assert.equal(noPathVerdict(base({ ...s, pairs: [...dead, pair(0, { state: 'failed' })], now: end })).reason, 'pairs_failed');
  // still: anything answered anywhere is a path
  assert.equal(noPathVerdict(base({ ...s, pairs: [...dead, pair(few, { requestsReceived: 1 })], now: end + 10_000 })), null);
});

test('the check span counts from the newest candidate of either side (new pairs), and grows with the round trip', () => {
  const few = NO_PATH.minChecks;
  const dead = [pair(few), pair(few)];
  // a candidate of ours that came late (e.g. a relay allocation): its pairs are new
  const late = 2000;
  assert.equal(noPathVerdict(base({ localLast: late, pairs: dead, now: late + NO_PATH.checkSpanMs - 1 })), null);
  assert.equal(noPathVerdict(base({ localLast: late, pairs: dead, now: late + NO_PATH.checkSpanMs })).reason, 'pairs_failed');
  // theirs the same
  assert.equal(noPathVerdict(base({ remoteLast: late, pairs: dead, now: late + NO_PATH.checkSpanMs - 1 })), null);
  assert.equal(noPathVerdict(base({ remoteLast: late, pairs: dead, now: late + NO_PATH.checkSpanMs })).reason, 'pairs_failed');
  // without later candidates: from the newest of the answer and the first
  // candidates (their first one at 1110)
  assert.equal(noPathVerdict(base({ pairs: dead, now: 1110 + NO_PATH.checkSpanMs - 1 })), null);
  assert.equal(noPathVerdict(base({ pairs: dead, now: 1110 + NO_PATH.checkSpanMs })).reason, 'pairs_failed');
  // the quiet time still holds where it ends later (our gathering still running)
  const quietEnd = 1005 + NO_PATH.quietMs;
  assert.ok(quietEnd > 1110 + NO_PATH.checkSpanMs);
  assert.equal(noPathVerdict(base({ gathered: false, pairs: dead, now: quietEnd - 1 })), null);
  assert.equal(noPathVerdict(base({ gathered: false, pairs: dead, now: quietEnd })).reason, 'pairs_failed');
  // a slow link: spanRttFactor round trips at least
  const rttMs = 500;
  const span = NO_PATH.spanRttFactor * rttMs;
  assert.ok(span > NO_PATH.checkSpanMs);
  const slow = { rttMs, gathered: true, remoteEnded: true, pairs: dead };
  assert.equal(noPathVerdict(base({ ...slow, now: 1110 + span - 1 })), null);
  assert.equal(noPathVerdict(base({ ...slow, now: 1110 + span })).reason, 'pairs_failed');
});
