// sms_receiver.mjs - a scriptable SMS gateway on loopback for the delivery
// tests.
//
// Contract: `node sms_receiver.mjs --log FILE --script FILE [--port N]`
// listens on 127.0.0.1 (port 0 = any free port) and prints `READY <port>`
// once listening. Every request is appended to the log as one JSON line
// {method, url, headers, body} (body as UTF-8 text). The answer is the next
// entry of the script file, re-read on every request: comma-separated
// steps, e.g. "503,200"; a step is an HTTP status (answered with a small
// JSON body; 3xx with a Location), "garbage" (non-HTTP bytes, then the connection is closed) or
// "big" (200 with a 100 KiB body); text after '#' is ignored (a tag that
// lets a test restart an identical script). When the file's content changes the
// sequence starts again; after the last step the last one repeats. Missing
// file: 200. Stops on SIGTERM. Node built-ins only.
import fs from 'node:fs';
import http from 'node:http';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const logFile = opt('log');
const scriptFile = opt('script');
const port = Number(opt('port', '0'));
if (!logFile || !scriptFile) {
  console.error('usage: sms_receiver.mjs --log FILE --script FILE [--port N]');
  process.exit(2);
}

let lastScript = null;
let step = 0;

function nextStep() {
  let text = '200';
  try {
    text = fs.readFileSync(scriptFile, 'utf8').trim() || '200';
  } catch { /* no file: 200 */ }
  if (text !== lastScript) {
    lastScript = text;
    step = 0;
  }
  const steps = text.split('#')[0].split(',').map((s) => s.trim());
  const s = steps[Math.min(step, steps.length - 1)];
  step++;
  return s;
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    fs.appendFileSync(logFile, JSON.stringify({
      method: req.method, url: req.url, headers: req.headers, body,
    }) + '\n');
    const s = nextStep();
    if (s === 'garbage') {
      req.socket.end('\x00\x01 this is not HTTP at all \xff\r\n\r\n');
      req.socket.destroySoon?.();
      return;
    }
    if (s === 'big') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('x'.repeat(100 * 1024));
      return;
    }
    const status = Number(s) || 200;
    const hdrs = { 'Content-Type': 'application/json' };
    if (status >= 300 && status < 400) hdrs.Location = '/redirected';
    res.writeHead(status, hdrs);
    res.end(JSON.stringify({ status, id: 'msg-1' }));
  });
});
server.listen(port, '127.0.0.1', () => {
  console.log(`READY ${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
