// limits.test.mjs - the per-address limits of conf/nginx-consult.conf act,
// with the numbers configured there: Debian's nginx runs the sample's server
// blocks on 127.0.0.1 in front of a real Janus with the consult plugin.
// - WebSocket handshakes on /janus: the configured burst at once passes
//   (a waiting room behind one carrier-grade NAT address reconnecting), more
//   get 429; once the bucket has drained, handshakes at half the configured
//   rate all pass.
// - Pages: the same for page requests on one keep-alive connection.
// - Concurrent WebSockets: with the configured number held open from one
//   address the next handshake gets 429, and after one closes a new one
//   is accepted.
// Nothing waits for a fixed time: loops end on a status; pacing only ever
// lowers the rate, so a slow machine cannot turn a pass into a failure.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import https from 'node:https';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { startJanus, sleep } from '../../scripts/lib/janus.mjs';
import { sampleLimits, startSampleNginx } from './sample.mjs';

const LIMITS = sampleLimits();
const WS_ZONE = 'consult_ws';
const PAGES_ZONE = 'consult_pages';
const WS_CONN = 'consult_ws_conn';
const RECOVER_MS = 60000;

let janus;
before(async () => { janus = await startJanus(); });
after(async () => { if (janus) assert.equal((await janus.stop()).code, 0, 'Janus exits cleanly'); });

/** A fresh nginx per test: its limit zones start empty. */
async function withNginx(fn) {
  const nginx = await startSampleNginx({ janusPort: janus.wsPort });
  try {
    return await fn(nginx);
  } finally {
    await nginx.stop();
  }
}

function limitOf(zone) {
  const z = LIMITS.zones[zone];
  const r = LIMITS.req[zone];
  assert.ok(z && r, `conf/nginx-consult.conf has limit_req_zone and limit_req for ${zone}: ${JSON.stringify(LIMITS)}`);
  assert.ok(r.nodelay, `${zone}: burst with nodelay (no queueing of a waiting room's reconnect)`);
  return { rate: z.rate, burst: r.burst };
}

/**
 * Opens a WebSocket to /janus over TLS (subprotocol janus-protocol); resolves
 * {status, sock} once the response head arrived. keep=false closes it.
 */
function handshake(nginx, keep = false) {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port: nginx.httpsPort, servername: nginx.serverName, rejectUnauthorized: false });
    let data = '';
    sock.setEncoding('latin1');
    sock.setTimeout(20000, () => sock.destroy(new Error('no handshake answer in 20 s')));
    sock.on('secureConnect', () => sock.write(
      `GET /janus HTTP/1.1\r\nHost: ${nginx.serverName}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
      'Sec-WebSocket-Protocol: janus-protocol\r\n\r\n'));
    const onData = (d) => {
      data += d;
      if (!data.includes('\r\n\r\n')) return;
      sock.off('data', onData);
      sock.setTimeout(0);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1]);
      if (!keep || status !== 101) sock.destroy();
      resolve({ status, sock });
    };
    sock.on('data', onData);
    sock.on('error', (e) => { if (!data.includes('\r\n\r\n')) reject(e); });
  });
}

/**
 * Sends requests one after the other until the first 429. Asserts that at
 * least burst + 1 passed (nginx lets burst requests exceed the rate) and that
 * the 429 came no later than the rate allows for the time the run took.
 */
async function burstUntilLimited(send, okStatus, { rate, burst }, what) {
  const t0 = Date.now();
  let passed = 0;
  for (;;) {
    const status = await send();
    const allowed = burst + 1 + Math.ceil((rate * (Date.now() - t0)) / 1000) + 1;
    if (status === 429) break;
    assert.equal(status, okStatus, `${what}: request ${passed + 1}`);
    passed++;
    assert.ok(passed <= allowed, `${what}: ${passed} passed at once, the limit allows ${allowed}`);
  }
  assert.ok(passed >= burst + 1, `${what}: the configured burst passes (${passed} of ${burst + 1})`);
  return passed;
}

/** After a 429: waits until one passes, then paces at half the rate; all must pass. */
async function normalRatePasses(send, okStatus, { rate }, what) {
  const interval = Math.ceil(2000 / rate);
  const deadline = Date.now() + RECOVER_MS;
  for (;;) {
    const status = await send();
    if (status === okStatus) break;
    assert.equal(status, 429, `${what}: while limited`);
    assert.ok(Date.now() < deadline, `${what}: still limited after ${RECOVER_MS} ms`);
    await sleep(interval);
  }
  for (let i = 0; i < 10; i++) {
    await sleep(interval);
    assert.equal(await send(), okStatus, `${what}: request ${i + 1} at half the configured rate`);
  }
}

test('WebSocket handshakes: the configured burst passes, more get 429, the normal rate passes', { timeout: 180000 }, async () => {
  const lim = limitOf(WS_ZONE);
  await withNginx(async (nginx) => {
    const send = async () => (await handshake(nginx)).status;
    await burstUntilLimited(send, 101, lim, '/janus');
    await normalRatePasses(send, 101, lim, '/janus');
  });
});

test('pages: the configured burst passes, more get 429, the normal rate passes', { timeout: 180000 }, async () => {
  const lim = limitOf(PAGES_ZONE);
  await withNginx(async (nginx) => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false, servername: nginx.serverName });
    const send = () => new Promise((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port: nginx.httpsPort, path: '/patient.html', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
    });
    try {
      await burstUntilLimited(send, 200, lim, '/patient.html');
      await normalRatePasses(send, 200, lim, '/patient.html');
    } finally {
      agent.destroy();
    }
  });
});

test('concurrent WebSockets per address: the configured number is held, one more gets 429', { timeout: 180000 }, async () => {
  const max = LIMITS.conn[WS_CONN];
  assert.ok(Number.isInteger(max), `conf/nginx-consult.conf has limit_conn ${WS_CONN} N: ${JSON.stringify(LIMITS)}`);
  const { burst } = limitOf(WS_ZONE);
  // The handshake burst covers max + 1 at once: the 429 below can only come
  // from the connection limit.
  assert.ok(burst >= max, `handshake burst ${burst} >= concurrent connections ${max}`);
  await withNginx(async (nginx) => {
    const held = [];
    try {
      for (let i = 0; i < max; i++) {
        const r = await handshake(nginx, true);
        assert.equal(r.status, 101, `connection ${i + 1} of ${max}`);
        held.push(r.sock);
      }
      assert.equal((await handshake(nginx)).status, 429, `connection ${max + 1} while ${max} are open`);
      // One closes; nginx notices and the next handshake is accepted.
      const gone = held.pop();
      await new Promise((resolve) => { gone.once('close', resolve); gone.end(); });
      const deadline = Date.now() + RECOVER_MS;
      for (;;) {
        const r = await handshake(nginx, true);
        if (r.status === 101) { held.push(r.sock); break; }
        assert.equal(r.status, 429);
        assert.ok(Date.now() < deadline, `no connection accepted ${RECOVER_MS} ms after one closed`);
        await sleep(100);
      }
    } finally {
      for (const s of held) s.destroy();
    }
  });
});
