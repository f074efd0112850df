// Each network shape where the peer-to-peer attempt cannot work reaches the
// forwarded call on evidence, with the product's default timer
// (p2p_timeout_seconds 10, not set here): the doctor's page asks `forward`
// with cause ice_failed or turn_failed, never timeout (admin stats
// forward.fallbacks), both pages end up forwarded, connected, decoding.
// 1. TURN blocked (every packet to coturn dropped), cone NATs, direct path
//    between the NATs open: no server answers, only the private host
//    candidates exist, no pair ever gets an answer.
// 2. Everything but Janus blocked: as 1, and the direct path blocked too.
// 3. TURN refused: coturn answers, but with 401 (the plugin's turn_secret is
//    not coturn's); STUN works, the srflx pairs get no answer (direct path
//    blocked): cause turn_failed. Each page says end-of-candidates as soon as
//    its TURN was refused and STUN answered (Chromium's gathering itself does
//    not end in time).
// 4. UDP blocked entirely (a network that lets only TCP out), TURN over TCP
//    offered: the right outcome is NOT forwarding (Janus' media is UDP and
//    unreachable too) but relay over TCP: both pages connected relay/relay
//    with the local relay candidate allocated over TCP, #path relay,
//    forward.total = 0 and the doctor's page never asked `forward`.
// 5. UDP blocked entirely and TURN over plain TCP (port 3478) blocked too:
//    only TURN over TLS gets through (coturn's TLS listener with the lab's
//    self-signed certificate, which both Chromiums trust by its key): relay
//    over TLS, not forwarded (as 4).
// 6. TURN offered over UDP, TCP and TLS, all three blocked, direct path
//    blocked (Janus reachable): forwarded on evidence, the unanswered TLS
//    connection does not hold the verdict back: the patient's side counts as
//    done gathering by its answer's clock (rtc.mjs noPathVerdict, "their side
//    done: answer"), no TURN/TCP or TURN/TLS error comes before the verdict
//    (a dropped SYN gives none). (With UDP blocked entirely
//    as well, nothing can carry media: Janus' ICE is UDP only.)
// (No TURN configured at all is forward.test.mjs.)
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { waitFor } from '../browser/lib.mjs';
import { cleanupAll, scenario, waitCallUp } from './lab.mjs';
import { callView, waitForwarded } from './pcap.mjs';

after(cleanupAll);

const forwardAsked = (sc) => sc.call.sent.doctor.filter((b) => b.request === 'forward');

// cause: the one expected, or a list of those allowed (where the lab's
// loopback candidates may add a 701 for a turn: URL, the page says
// turn_failed rather than ice_failed: both are evidence, neither the timer)
async function expectForwarded(sc, cause) {
  const causes = [].concat(cause);
  const up = await waitForwarded(sc, { ms: 60_000 });
  for (const who of ['patient', 'doctor']) {
    assert.equal(up[who].view.mode, 'forward', `${who}: forwarding mode`);
    assert.equal(up[who].view.path, 'forward', `${who}: #path forward`);
    assert.notEqual(up[who].snap.pair.remote.type, 'relay', `${who}: talks to Janus, not through TURN`);
  }
  const asked = forwardAsked(sc);
  assert.equal(asked.length, 1, `the doctor's page asked forward once (${JSON.stringify(asked)})`);
  assert.ok(causes.includes(asked[0].cause), `cause ${asked[0].cause} is one of ${causes}`);
  const stats = await sc.stack.janus.admin({ request: 'stats' });
  const fb = stats.forward.fallbacks;
  assert.equal(fb.timeout, 0, `not the timer (${JSON.stringify(fb)})`);
  assert.equal(fb[asked[0].cause], 1, `one fallback with cause ${asked[0].cause} (${JSON.stringify(fb)})`);
  assert.equal(stats.forward.total, 1, 'one forwarded call');
  assert.equal(stats.forward.legs_lost, 0, 'no forwarded leg lost');
  // the page logged the evidence (reason and counts only, no address)
  const line = sc.consoleLines.find((l) => /no peer-to-peer path: /.test(l));
  assert.ok(line, 'the doctor\'s page logged the no-path verdict');
  assert.doesNotMatch(line, /\d+\.\d+\.\d+\.\d+/, 'no address in the log line');
  return { up, stats, line };
}

/** The relay transport of the selected pair's local candidate ('udp' | 'tcp' | 'tls'). */
const relayProtocol = (page) => page.evaluate(async () => {
  const st = await window.consult.pc.getStats();
  let out = null;
  st.forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) {
      const pair = st.get(r.selectedCandidatePairId);
      const local = pair && st.get(pair.localCandidateId);
      out = local ? local.relayProtocol : null;
    }
  });
  return out;
});

async function run(name, opts, fn) {
  const sc = await scenario({ name, nat: true, ...opts });
  let failed = true;
  try {
    await fn(sc);
    failed = false;
  } finally {
    await sc.finish(failed);
  }
}

test('TURN blocked, direct path open: forwarded on evidence, not by the timer', { timeout: 300_000 }, () => run(
  'shape-turn-blocked', { block: false, turn: 'blocked' }, async (sc) => {
    const r = await expectForwarded(sc, ['ice_failed', 'turn_failed']);
    assert.ok(sc.lab.turnBlockedPackets() > 0, 'the STUN/TURN packets were dropped');
    console.error(`# ${r.line.trim()}`);
  },
));

test('everything but Janus blocked: forwarded on evidence, not by the timer', { timeout: 300_000 }, () => run(
  'shape-only-janus', { block: true, turn: 'blocked' }, async (sc) => {
    const r = await expectForwarded(sc, ['ice_failed', 'turn_failed']);
    // (without STUN nobody learns the other NAT's outside address, so the
    // direct-path rule itself has nothing to drop here)
    assert.ok(sc.lab.turnBlockedPackets() > 0, 'the STUN/TURN packets were dropped');
    console.error(`# ${r.line.trim()}`);
  },
));

test('TURN refused (401), direct path blocked: forwarded on evidence (cause turn_failed), not by the timer', { timeout: 300_000 }, () => run(
  'shape-turn-refused', { block: true, turnSecret: 'not-the-secret-of-this-coturn-0123' }, async (sc) => {
    const r = await expectForwarded(sc, 'turn_failed');
    const errs = await sc.call.docPage.evaluate(() => window.__natlab.errors);
    assert.ok(errs.some((e) => e.code === 401 && /^turns?:/.test(e.url)), `the doctor's TURN allocation was refused with 401 (${JSON.stringify(errs)})`);
    // both pages said end-of-candidates during the peer-to-peer attempt
    // (before the forward), though Chromium's gathering never ended: TURN
    // refused for good and STUN answered (rtc.mjs endEarlyIfRefused)
    for (const who of ['patient', 'doctor']) {
      const sent = sc.call.sent[who];
      const end = sent.findIndex((b) => b.request === 'signal' && b.type === 'end-of-candidates');
      const fwd = sent.findIndex((b) => b.request === 'forward' || b.request === 'forward_answer');
      assert.ok(end >= 0 && (fwd < 0 || end < fwd), `${who}: end-of-candidates before forwarding (${sent.map((b) => b.type || b.request).join(', ')})`);
    }
    console.error(`# ${r.line.trim()}`);
  },
));

test('UDP blocked entirely, TURN over TCP offered: relay over TCP, not forwarded', { timeout: 300_000 }, () => run(
  'shape-udp-blocked', { block: true, udpBlocked: true, turnTransports: ['udp', 'tcp'] }, async (sc) => {
    const up = await waitCallUp(sc, { path: 'relay', ms: 60_000 });
    for (const [who, page] of [['patient', sc.call.patPage], ['doctor', sc.call.docPage]]) {
      assert.equal(up[who].pair.local.type, 'relay', `${who}: local candidate relay`);
      assert.equal(await relayProtocol(page), 'tcp', `${who}: the relay was allocated over TCP`);
      const v = await callView(page);
      assert.equal(v.mode, 'p2p', `${who}: not forwarded`);
    }
    assert.ok(sc.lab.udpBlockedPackets() > 0, 'UDP was dropped');
    assert.deepEqual(forwardAsked(sc), [], 'the doctor\'s page never asked forward');
    const stats = await sc.stack.janus.admin({ request: 'stats' });
    assert.equal(stats.forward.total, 0, 'nothing forwarded');
    const pr = stats.practices.find((p) => p.slug === sc.stack.practice.slug);
    assert.equal(pr.paths.forward, 0, 'no call counted as forwarded');
    await waitFor('admin stats: the call counted as relay', async () => {
      const st = await sc.stack.janus.admin({ request: 'stats' });
      return st.practices.find((p) => p.slug === sc.stack.practice.slug).paths.relay >= 1;
    }, 30_000, 250);
  },
));

test('UDP blocked entirely, plain TCP to TURN blocked: relay over TURN/TLS, not forwarded', { timeout: 300_000 }, () => run(
  'shape-tls-only', {
    block: true, udpBlocked: true, turnTls: true, turnTransports: ['udp', 'tcp', 'tls'], blockTurnTransports: ['tcp'],
  }, async (sc) => {
    const offered = sc.call.events.patient.find((e) => e.event === 'ringing');
    assert.ok(offered.ice_servers.some((s) => [].concat(s.urls).some((u) => /^turns:/.test(u))), 'the ringing offers a turns: URL');
    const up = await waitCallUp(sc, { path: 'relay', ms: 60_000 });
    for (const [who, page] of [['patient', sc.call.patPage], ['doctor', sc.call.docPage]]) {
      assert.equal(up[who].pair.local.type, 'relay', `${who}: local candidate relay`);
      assert.equal(await relayProtocol(page), 'tls', `${who}: the relay was allocated over TLS`);
      const v = await callView(page);
      assert.equal(v.mode, 'p2p', `${who}: not forwarded`);
    }
    assert.ok(sc.lab.udpBlockedPackets() > 0, 'UDP was dropped');
    assert.ok(sc.lab.turnBlockedPackets() > 0, 'TCP to TURN\'s plain port was dropped');
    // coturn: the allocations came over TLS (one session per browser at least)
    await sc.stack.coturn.waitLog('two TURN sessions over TLS', /session \d+: new,[^\n]*method=TLS[\s\S]*session \d+: new,[^\n]*method=TLS/);
    assert.deepEqual(forwardAsked(sc), [], 'the doctor\'s page never asked forward');
    const stats = await sc.stack.janus.admin({ request: 'stats' });
    assert.equal(stats.forward.total, 0, 'nothing forwarded');
  },
));

test('TURN over UDP, TCP and TLS all blocked, direct path blocked: forwarded on evidence, not by the timer', { timeout: 300_000 }, () => run(
  'shape-tls-blocked', {
    block: true, turn: 'blocked', turnTls: true, turnTransports: ['udp', 'tcp', 'tls'],
  }, async (sc) => {
    const r = await expectForwarded(sc, ['ice_failed', 'turn_failed']);
    assert.ok(sc.lab.turnBlockedPackets() > 0, 'the STUN/TURN packets were dropped');
    // the evidence: every pair unanswered, and the patient's side quiet since
    // its answer (its gathering never ends: the TURN/TCP and TURN/TLS
    // connections get no answer, not even a RST, and no icecandidateerror)
    assert.match(r.line, /no peer-to-peer path: pairs_failed \(\d+ pairs; their side done: answer\)/, 'verdict on the answer\'s clock');
    const errs = await sc.call.docPage.evaluate(() => window.__natlab.errors);
    assert.ok(!errs.some((e) => /^turns:|transport=tcp/.test(e.url)), `no error for TURN over TCP/TLS before the verdict (${JSON.stringify(errs)})`);
    console.error(`# ${r.line.trim()}`);
  },
));
