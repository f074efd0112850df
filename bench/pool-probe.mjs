// pool-probe.mjs: does Chromium's ICE candidate pool bring the candidates
// forward? In the relay lab of tests/nat (patient namespace behind its NAT,
// direct path blocked, coturn on the public side), one Chromium page makes
// an RTCPeerConnection with the lab's STUN/TURN servers (fresh TURN REST
// credentials), waits, then answers an offer of a second local connection
// and logs when, after its setLocalDescription, the gathering state and the
// first host / srflx / relay candidate come. Variants: pool 0 or 1, made
// just before the description or 150 ms / 1 s ahead (the patient page makes
// its connection at the ringing, rtc.mjs prepareConnection).
//   scripts/lib/in-lo-netns node bench/pool-probe.mjs [--rounds 3]
// (root: the lab builds network namespaces; run under the bench lock.)
// Output: one line per variant and round, ms after setLocalDescription.
// Measured with Chromium 156 (bench/results/callsetup-2026-12-06.md): the
// relay candidate comes 55-70 ms after the description in every variant.
import os from 'node:os';

const i = process.argv.indexOf('--rounds');
const ROUNDS = Math.min(20, Math.max(1, Number(i > 0 ? process.argv[i + 1] : 3) || 3));
const lab = await import('../tests/nat/lab.mjs');
const { turnCredentials } = await import('../scripts/lib/coturn.mjs');

const VARIANTS = [
  ['pool 0, balanced, made at the description', { pool: 0, bundle: 'balanced', ahead: 0 }],
  ['pool 0, balanced, made 1 s ahead', { pool: 0, bundle: 'balanced', ahead: 1000 }],
  ['pool 1, max-bundle, made at the description', { pool: 1, bundle: 'max-bundle', ahead: 0 }],
  ['pool 1, max-bundle, made 150 ms ahead', { pool: 1, bundle: 'max-bundle', ahead: 150 }],
  ['pool 1, max-bundle, made 1 s ahead', { pool: 1, bundle: 'max-bundle', ahead: 1000 }],
];

const L = lab.createLab({ nat: true, block: true });
let stack = null;
let browser = null;
try {
  stack = await lab.startLabStack(L, { turn: 'on' });
  browser = await lab.launchIn(L.ns.patient, 'pool-probe', { origin: stack.origin });
  const page = await browser.newPage();
  const url = `${stack.origin}/bench/pool-probe.html`;
  await page.route(url, (r) => r.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>pool probe</title>' }));
  await page.goto(url);
  await page.evaluate(() => navigator.mediaDevices.getUserMedia({ audio: true, video: true }).then((s) => { window.stream = s; }));
  const c = stack.coturn;
  const config = () => {
    const { username, password } = turnCredentials(c.secret, Math.random().toString(16).slice(2, 18).padEnd(16, '0'), 600);
    return { iceServers: [{ urls: [c.stunUri] }, { urls: [c.uri], username, credential: password }] };
  };
  console.log(`Chromium pool probe, relay lab, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, v] of VARIANTS) {
      // made in one task, the description in a later one (as on the patient page)
      await page.evaluate(({ v: o, cfg }) => {
        const pc = new RTCPeerConnection({ ...cfg, iceCandidatePoolSize: o.pool, bundlePolicy: o.bundle });
        const ev = [];
        window.probe = { pc, made: performance.now(), ev };
        pc.onicecandidate = (e) => ev.push([performance.now(), e.candidate ? (/ typ (\w+)/.exec(e.candidate.candidate) || [])[1] : 'end']);
        pc.onicecandidateerror = (e) => ev.push([performance.now(), `error ${e.errorCode}`]);
        pc.onicegatheringstatechange = () => ev.push([performance.now(), pc.iceGatheringState]);
      }, { v, cfg: config() });
      if (v.ahead) await new Promise((r) => setTimeout(r, v.ahead));
      const r = await page.evaluate(async () => {
        const { pc, made, ev } = window.probe;
        const off = new RTCPeerConnection();
        for (const t of window.stream.getTracks()) off.addTrack(t, window.stream);
        await off.setLocalDescription();
        for (const t of window.stream.getTracks()) pc.addTrack(t, window.stream);
        await pc.setRemoteDescription(off.localDescription);
        await pc.setLocalDescription();
        const sld = performance.now();
        await new Promise((res) => setTimeout(res, 1500));
        pc.close();
        off.close();
        const first = (k) => { const e = ev.find((x) => x[1] === k); return e ? Math.round(e[0] - sld) : null; };
        return {
          ahead: Math.round(sld - made), gathering: first('gathering'), host: first('host'), srflx: first('srflx'), relay: first('relay'),
          before: ev.filter((x) => x[0] < sld).length,
        };
      });
      console.log(`round ${round} ${name.padEnd(44)} made ${String(r.ahead).padStart(4)} ms ahead; events before the description ${r.before}; after it: gathering ${r.gathering}, host ${r.host}, srflx ${r.srflx}, relay ${r.relay}`);
    }
  }
} finally {
  if (browser) await browser.close();
  if (stack) await stack.stop();
  L.destroySync();
}
