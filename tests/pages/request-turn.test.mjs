// request-turn.test.mjs: html/js/janus-client.mjs requestInTurn and its use
// for the `media` states (mediastate.mjs sendMediaState). Janus may handle two
// requests of one handle in either order, so a lane sends its next request
// only once the one before is answered or failed: a quick "camera off, on"
// reaches the server as off, then on. The transport is a fake request()
// whose replies the test releases one by one, in any order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsultClient } from '../../html/js/janus-client.mjs';
import { sendMediaState } from '../../html/js/mediastate.mjs';

function fakeClient() {
  const c = new ConsultClient({ server: 'ws://127.0.0.1:1/unused' });
  c.sent = [];                               // bodies in the order they went out
  c.request = (body) => new Promise((resolve, reject) => {
    c.sent.push({ body, resolve: () => resolve({ ok: true }), reject: () => reject(new Error('refused')) });
  });
  return c;
}

const settle = () => new Promise((r) => setImmediate(r));
const states = (c) => c.sent.map((s) => s.body.video);

test('requestInTurn: the next request of a lane goes out only after the reply to the one before', async () => {
  const c = fakeClient();
  const first = c.requestInTurn('media', { request: 'signal', type: 'media', audio: true, video: false });
  const second = c.requestInTurn('media', { request: 'signal', type: 'media', audio: true, video: true });
  await settle();
  assert.deepEqual(states(c), [false], 'only the first is sent while it is unanswered');
  c.sent[0].resolve();
  assert.deepEqual(await first, { ok: true });
  await settle();
  assert.deepEqual(states(c), [false, true], 'the second follows the first reply');
  c.sent[1].resolve();
  assert.deepEqual(await second, { ok: true });
});

test('requestInTurn: a failed request rejects its own promise only and does not hold the lane', async () => {
  const c = fakeClient();
  const first = c.requestInTurn('media', { request: 'signal', type: 'media', audio: false, video: false });
  const second = c.requestInTurn('media', { request: 'signal', type: 'media', audio: true, video: true });
  await settle();
  c.sent[0].reject();
  await assert.rejects(first, /refused/);
  await settle();
  assert.equal(c.sent.length, 2, 'the second is sent after the first failed');
  c.sent[1].resolve();
  assert.deepEqual(await second, { ok: true });
});

test('requestInTurn: an idle lane sends at once; lanes are independent; plain request() is never held', async () => {
  const c = fakeClient();
  c.requestInTurn('media', { request: 'signal', type: 'media', audio: true, video: true });
  c.requestInTurn('other', { request: 'touch' });
  c.request({ request: 'signal', type: 'candidate' });
  await settle();
  assert.deepEqual(c.sent.map((s) => s.body.request + (s.body.type ? `/${s.body.type}` : '')),
    ['signal/media', 'touch', 'signal/candidate']);
});

test('sendMediaState: toggles sent in quick succession reach the transport one at a time, newest last', async () => {
  const c = fakeClient();
  const session = { client: c };
  const done = [false, true, false].map((video) => sendMediaState(session, { audio: true, video }));
  for (let i = 0; i < 3; i++) {
    await settle();
    assert.equal(c.sent.length, i + 1, `state ${i + 1} sent only after the reply to the one before`);
    c.sent[i].resolve();
  }
  assert.deepEqual(await Promise.all(done), [true, true, true]);
  assert.deepEqual(states(c), [false, true, false], 'in the order the page changed them');
});
