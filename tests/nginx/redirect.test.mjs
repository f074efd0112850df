// redirect.test.mjs - the HTTP server of conf/nginx-consult.conf (run by
// Debian's nginx on 127.0.0.1) redirects to HTTPS on the fixed server name
// with the raw request URI: an encoded CR LF in the path cannot add a
// header, a client's Host header cannot pick the target, and the query
// string (the practice of a patient link) survives.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { startSampleNginx } from './sample.mjs';

let nginx;
before(async () => {
  // The HTTP server never proxies: any port will do for the upstream.
  nginx = await startSampleNginx({ janusPort: 9 });
});
after(async () => { if (nginx) await nginx.stop(); });

/** Sends raw bytes, returns {status, headers: [[name, value]], head}. */
function raw(port, request) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let data = '';
    sock.setEncoding('latin1');
    sock.setTimeout(10000, () => sock.destroy(new Error('no answer in 10 s')));
    sock.on('connect', () => sock.write(request));
    sock.on('data', (d) => {
      data += d;
      if (data.includes('\r\n\r\n')) sock.destroy();
    });
    sock.on('error', reject);
    sock.on('close', () => {
      const head = data.split('\r\n\r\n')[0];
      const [statusLine, ...lines] = head.split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
      const headers = lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
      resolve({ status, headers, head });
    });
  });
}

const get = (target, host = 'attacker.example') =>
  raw(nginx.httpPort, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

test('an encoded CR LF in the path adds no header; Location is the fixed name + raw URI', async () => {
  const target = '/patient.html%0d%0aSet-Cookie:%20x=y';
  const r = await get(target);
  assert.equal(r.status, 301, r.head);
  assert.deepEqual(r.headers.filter(([n]) => n === 'set-cookie'), [], `no injected header:\n${r.head}`);
  for (const [n, v] of r.headers) assert.ok(n && !/[\r\n]/.test(v), `well-formed header line: ${n}`);
  const loc = r.headers.filter(([n]) => n === 'location');
  assert.equal(loc.length, 1, r.head);
  assert.equal(loc[0][1], `https://${nginx.serverName}${target}`);
});

test('the redirect keeps the query string and ignores the Host header', async () => {
  const r = await get('/patient.html?p=am-marktplatz', 'evil.example');
  assert.equal(r.status, 301, r.head);
  assert.deepEqual(r.headers.filter(([n]) => n === 'location').map(([, v]) => v),
    [`https://${nginx.serverName}/patient.html?p=am-marktplatz`]);
});
