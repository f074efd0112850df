// The call channel (html/js/callchannel.mjs) between the real pages, in both
// modes, and what Janus sees of it.
// 1. Peer to peer (lab without NAT, no TURN): both pages' channels open in
//    mode 'p2p'; messages with and without bytes go both ways in order; the
//    plugin relayed no data-channel message (admin stats forward
//    data_messages/data_bytes 0, no forwarded call) and no consult handle
//    has a PeerConnection (Janus never saw the channel).
// 2. Forwarding (no direct path, no TURN): the channels open again in mode
//    'forward'; messages both ways. What Janus relayed is read where it
//    comes out of Janus (datawatch.mjs says why: Janus' dumps hold no
//    data-channel messages): the raw messages on both pages' legs add up
//    to the plugin's data_bytes / data_messages since the start (plus at
//    most a quality report each way that was on its way then), every one
//    is a sealed frame (0x02, counter IV) and none holds the sent text
//    marker or the bytes FF D8 FF E0 00 00 00 the messages carried.
//    Opened with the pages' keys (datawatch.mjs rawTypes), the patient's
//    leg had exactly 20 test-ping and the doctor's exactly 5 test-pong
//    messages: none lost or repeated on the way through Janus (the pages'
//    own messages, e.g. the patient's quality reports every 2 s, are other
//    types and do not disturb the counts).
//    Control: bytes the test pushes raw onto the same data channel DO show
//    up in clear at the other leg, and the receiving page drops them
//    (stats.dropped), as it would drop anything Janus injected.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { waitFor } from '../browser/lib.mjs';
import { cleanupAll, scenario, waitCallUp } from './lab.mjs';
import { consultHandles, pcInfo, waitForwarded } from './pcap.mjs';
import { rawSummary, rawTypes, watchRaw } from './datawatch.mjs';

after(cleanupAll);

const MARK = 'Klartext-Marke-7f3a';
const SOI = [0xff, 0xd8, 0xff, 0xe0];

/** Registers a collector for `type` in the page (window.__got[type]). */
const collect = (page, type) => page.evaluate((t) => {
  window.__got = window.__got || {};
  window.__got[t] = [];
  window.consult.channel.on(t, (msg, bytes) => window.__got[t].push({ msg, bytes: bytes ? [...bytes] : null }));
}, type);

const got = (page, type) => page.evaluate((t) => (window.__got && window.__got[t]) || [], type);

async function exchange(sc) {
  const { patPage, docPage } = sc.call;
  await collect(patPage, 'test-ping');
  await collect(docPage, 'test-pong');
  for (const [who, page] of [['patient', patPage], ['doctor', docPage]]) {
    await waitFor(`${who}: call channel open`, () => page.evaluate(() => window.consult.channel.state === 'open'), 30_000, 100);
  }
  await docPage.evaluate(async ([mark, soi]) => {
    for (let i = 0; i < 20; i++) {
      const bytes = new Uint8Array(3000 + i);
      bytes.set(soi, 0);
      await window.consult.channel.send('test-ping', { i, text: mark }, bytes);
    }
  }, [MARK, SOI]);
  await patPage.evaluate(async (mark) => {
    for (let i = 0; i < 5; i++) await window.consult.channel.send('test-pong', { i, text: mark });
  }, MARK);
  const pings = await waitFor('patient: 20 pings', async () => { const g = await got(patPage, 'test-ping'); return g.length >= 20 ? g : null; }, 30_000, 100);
  const pongs = await waitFor('doctor: 5 pongs', async () => { const g = await got(docPage, 'test-pong'); return g.length >= 5 ? g : null; }, 30_000, 100);
  assert.deepEqual(pings.map((p) => p.msg.i), [...Array(20).keys()], 'pings in order');
  assert.ok(pings.every((p, i) => p.msg.text === MARK && p.bytes.length === 3000 + i && p.bytes[0] === 0xff), 'ping bodies intact');
  assert.deepEqual(pongs.map((p) => [p.msg.i, p.bytes]), [0, 1, 2, 3, 4].map((i) => [i, null]), 'pongs in order, no bytes');
}

test('peer to peer: the call channel opens, messages both ways, Janus relays no data', { timeout: 300_000 }, async () => {
  const sc = await scenario({ name: 'callchannel-p2p', nat: false, turn: 'absent' });
  let failed = true;
  try {
    await waitCallUp(sc, { ms: 60_000 });
    await exchange(sc);
    for (const page of [sc.call.patPage, sc.call.docPage]) {
      assert.equal(await page.evaluate(() => window.consult.channel.mode), 'p2p');
    }
    const stats = await sc.stack.janus.admin({ request: 'stats' });
    assert.equal(stats.forward.total, 0, 'no forwarded call');
    assert.equal(stats.forward.data_messages, 0, 'the plugin relayed no data-channel message');
    assert.equal(stats.forward.data_bytes, 0, 'the plugin relayed no data-channel byte');
    for (const h of await consultHandles(sc.stack.janus)) {
      assert.deepEqual(pcInfo(h.info), [], `consult handle ${h.handle_id}: no PeerConnection in Janus`);
    }
    failed = false;
  } finally {
    await sc.finish(failed);
  }
});

test('forwarding: the channel opens through Janus, which relays only sealed frames', { timeout: 300_000 }, async () => {
  const sc = await scenario({
    name: 'callchannel-forward', nat: true, block: true, turn: 'absent', pluginConfig: { p2p_timeout_seconds: 3 },
  });
  let failed = true;
  try {
    await waitForwarded(sc, { ms: 60_000 });
    const { patPage, docPage } = sc.call;
    for (const [who, page] of [['patient', patPage], ['doctor', docPage]]) {
      await waitFor(`${who}: call channel open in mode forward`,
        () => page.evaluate(() => window.consult.channel.state === 'open' && window.consult.channel.mode === 'forward'), 30_000, 100);
      await watchRaw(page);
    }
    const before = (await sc.stack.janus.admin({ request: 'stats' })).forward;
    await exchange(sc);
    // Everything the plugin relayed since `before` arrived at the pages' legs.
    const needles = { marker: [...Buffer.from(MARK)], soiHeader: [...SOI, 0, 0, 0] };
    let seen = null;
    await waitFor('the pages received every message the plugin relayed', async () => {
      const st = (await sc.stack.janus.admin({ request: 'stats' })).forward;
      const p = await rawSummary(patPage, needles);
      const d = await rawSummary(docPage, needles);
      const st2 = (await sc.stack.janus.admin({ request: 'stats' })).forward;
      // a quality report relayed while the legs were read: read again
      if (st2.data_messages !== st.data_messages || st2.data_bytes !== st.data_bytes) return false;
      seen = { relayed: st.data_bytes - before.data_bytes, messages: st.data_messages - before.data_messages, p, d };
      // the legs' watch began before `before`: a quality report (the
      // patient page sends one every 2 s) relayed just before it and
      // delivered after it is seen in addition - at most one each way
      const extra = p.messages + d.messages - seen.messages;
      const extraBytes = p.bytes + d.bytes - seen.relayed;
      return seen.relayed > 0 && extra >= 0 && extra <= 2 && extraBytes >= 0 && extraBytes <= 2 * 1024 && (extra > 0 || extraBytes === 0);
    }, 30_000, 250).catch((err) => { throw new Error(`${err.message}: ${JSON.stringify(seen)}`); });
    assert.ok(seen.p.messages >= 20 && seen.d.messages >= 5, `both directions relayed (${JSON.stringify(seen)})`);
    for (const [who, r] of [['patient', seen.p], ['doctor', seen.d]]) {
      assert.equal(r.other, 0, `${who}: every relayed message is a sealed frame`);
      assert.deepEqual(r.found, { marker: 0, soiHeader: 0 }, `${who}: no marker text, no FF D8 FF E0 00 00 00 in what Janus relayed`);
    }
    const pTypes = await rawTypes(patPage);
    const dTypes = await rawTypes(docPage);
    assert.equal(pTypes['test-ping'] && pTypes['test-ping'].messages, 20, `patient's leg: each ping once (${JSON.stringify(pTypes)})`);
    assert.equal(dTypes['test-pong'] && dTypes['test-pong'].messages, 5, `doctor's leg: each pong once (${JSON.stringify(dTypes)})`);
    assert.ok(!pTypes['?'] && !dTypes['?'], 'every relayed frame opens with the call\'s keys');
    // Control: bytes pushed raw onto the doctor's data channel reach the
    // patient's leg as they are (the observation point sees plaintext when
    // there is any), and the patient's channel drops them.
    const dropped0 = await patPage.evaluate(() => window.consult.channel.stats.dropped);
    await docPage.evaluate(([mark, soi]) => {
      window.consult.channel.dc.send(new Uint8Array([...soi, 0, 0, 0, ...new TextEncoder().encode(mark)]));
    }, [MARK, SOI]);
    await waitFor('patient: the raw control frame arrives and is dropped',
      async () => (await patPage.evaluate(() => window.consult.channel.stats.dropped)) > dropped0, 30_000, 100);
    const ctl = await rawSummary(patPage, needles);
    assert.deepEqual(ctl.found, { marker: 1, soiHeader: 1 }, 'the control frame is seen in clear');
    assert.equal(ctl.other, 1, 'one unsealed frame: the control');
    assert.equal((await rawTypes(patPage))['?'].messages, 1, 'the control frame is the one that does not open');
    const got0 = (await got(patPage, 'test-ping')).length;
    assert.equal(got0, 20, 'the control frame delivered nothing');
    fs.writeFileSync(path.join(sc.art.dir, 'relayed.json'), JSON.stringify(seen, null, 1) + '\n');
    failed = false;
  } finally {
    await sc.finish(failed);
  }
});
