#!/usr/bin/env node
// photo-diag.mjs - where a forwarded photo's transfer time goes (a
// diagnostic, not a benchmark; bench/photo.mjs is the benchmark). In the NAT
// lab's forwarding call (as bench/photo.mjs, 8 MP camera) or --mode p2p:
// - per photo (--runs N): on the patient page each seal (crypto.subtle.
//   encrypt call -> resolved) and each hand-over to the data channel (time,
//   bufferedAmount); on the doctor page each message event on its leg,
//   opens on the main thread (decrypt call -> resolved; 0 when the channel
//   worker opens them) and a V8 CPU profile of the doctor's page over the
//   transfer (self time per function; "(program)" = native work, "(idle)").
//   Odd runs: the doctor page sends no photo-progress (A/B of the answers).
//   Printed: per 250 ms how many chunks the patient handed over and how many
//   message events the doctor's page got.
// - --rawsizes 16384,16449,...: instead of photos, 4 MiB of random bytes
//   straight onto the data channel in messages of each size, then 256
//   sealed 16 KiB channel messages one way (diag-y) and with the doctor
//   answering every 16 (diag-z); ms from the first send to the last arrival.
// Usage (root; re-executes itself in scripts/lib/in-lo-netns):
// - Janus' SCTP relay per transfer: its log's EAGAIN lines (a relayed
//   message met a full usrsctp send buffer; everything after it waits for
//   SCTP_SENDER_DRY) and UDP datagrams dropped for a full socket receive
//   buffer (RcvbufErrors) in Janus' and the browsers' namespaces.
// - --rcvbuf BYTES: Janus' UDP sockets get SO_RCVBUF(FORCE) BYTES (a socket()
//   wrapper LD_PRELOADed into Janus, bench/lib/janus-rcvbuf.mjs) - the A/B
//   of the receive-buffer drops.
// - --settle MS: even photo runs wait MS longer between the preview and "Senden".
//   node bench/photo-diag.mjs [--runs 3] [--mode forward|p2p] [--rawsizes LIST] [--rcvbuf BYTES] [--settle MS]
// Environment: CONSULT_PLUGIN (the plugin .so), CONSULT_CHROMIUM.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rerunInLoNetns } from './lib/netns.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
const RUNS = Number(opt('--runs', 3));
const MODE = opt('--mode', 'forward');

const q = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN; };
const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

function instrument() {
  const d = { enc: [], dec: [], ev: [], sends: [], gaps: [], stop: false };
  window.__diag = d;
  const now = () => performance.timeOrigin + performance.now();
  const subtle = crypto.subtle;
  if (!window.__origEnc) { window.__origEnc = subtle.encrypt.bind(subtle); window.__origDec = subtle.decrypt.bind(subtle); }
  subtle.encrypt = (...a) => { const t0 = now(); return window.__origEnc(...a).then((r) => { d.enc.push([t0, now()]); return r; }); };
  subtle.decrypt = (...a) => { const t0 = now(); return window.__origDec(...a).then((r) => { d.dec.push([t0, now()]); return r; }, (e) => { d.dec.push([t0, now()]); throw e; }); };
  const tr = window.consult.channel.transport;
  for (const dc of tr.channels) {
    if (window.__diagOn) dc.removeEventListener('message', window.__diagOn);
    if (!dc.__origSend) { dc.__origSend = dc.send.bind(dc); }
    dc.send = (x) => { d.sends.push([now(), dc.bufferedAmount, x.byteLength || x.length || 0]); return dc.__origSend(x); };
  }
  window.__diagOn = (ev) => { d.ev.push([now(), ev.data.byteLength || 0]); };
  for (const dc of tr.channels) dc.addEventListener('message', window.__diagOn);
  const mc = new MessageChannel();
  let last = now();
  mc.port1.onmessage = () => {
    const t = now();
    if (t - last > 4) d.gaps.push([last, t - last]);
    last = t;
    if (!d.stop) setTimeout(() => mc.port2.postMessage(0), 0);
  };
  if (!window.__noProbe) mc.port2.postMessage(0);
  // bytes the browser's data channel has received (counted off the page's
  // main thread), polled every 25 ms: arrival at the browser vs the page's
  // message events
  d.net = [];
  const poll = async () => {
    if (d.stop) return;
    try {
      const rep = await tr.pc.getStats();
      let b = 0;
      rep.forEach((x) => { if (x.type === 'data-channel') b += x.bytesReceived || 0; });
      d.net.push([now(), b]);
    } catch { /* closed */ }
    setTimeout(poll, 25);
  };
  poll();
}

async function main() {
  const status = rerunInLoNetns(REPO);
  if (status !== null) return status;
  const lab = await import('../tests/nat/lab.mjs');
  const pcap = await import('../tests/nat/pcap.mjs');
  const flow = await import('../tests/nat/photoflow.mjs');
  const { waitFor } = await import('../tests/browser/lib.mjs');
  const { writeY4m } = await import('../tests/browser/y4m.mjs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-photo-diag-'));
  const y4m = path.join(dir, 'camera.y4m');
  writeY4m(y4m, { width: 3264, height: 2448, frames: 2, detail: 40, fps: 5 });
  const rcvbuf = Number(opt('--rcvbuf', 0));
  let janusEnv;
  if (rcvbuf > 0) {
    const { janusRcvbufEnv } = await import('./lib/janus-rcvbuf.mjs');
    janusEnv = janusRcvbufEnv(rcvbuf, dir);
    console.log(`Janus' UDP sockets: SO_RCVBUF ${rcvbuf}`);
  }
  const sc = await lab.scenario({
    name: `diag-photo-${MODE}`, artifactsDir: false, turn: 'absent', janusEnv,
    ...(MODE === 'p2p' ? { nat: false } : { nat: true, block: true, pluginConfig: { p2p_timeout_seconds: 3 } }),
    patientArgs: [`--use-file-for-fake-video-capture=${y4m}`],
  });
  let failed = true;
  try {
    if (MODE === 'p2p') await lab.waitCallUp(sc, { ms: 60_000 }); else await pcap.waitForwarded(sc, { ms: 60_000 });
    const { doc, pat } = sc.call;
    for (const page of [doc, pat]) {
      await waitFor('channel open', () => page.evaluate((m) => window.consult.channel.state === 'open' && window.consult.channel.mode === m, MODE), 30_000, 100);
    }
    // Janus' SCTP send path (src/sctp.c of 1.1.2): a relayed message that meets
    // a full usrsctp send buffer is queued ("Got EAGAIN ..."), and so is
    // everything after it ("Couldn't send all pending ..."), until the
    // association reports SCTP_SENDER_DRY (all sent data acknowledged)
    let logSeen = 0;
    const sctpLog = () => {
      const all = sc.stack.janus.log();
      const s = all.slice(logSeen);
      logSeen = all.length;
      const n = (re) => (s.match(re) || []).length;
      return `janus log: ${n(/Got EAGAIN when trying to send/g)} EAGAIN, ${n(/Couldn't send all pending messages/g)} queued behind, ${n(/Got EAGAIN when trying to resend/g)} EAGAIN on resend`;
    };
    // UDP datagrams dropped for a full socket receive buffer (RcvbufErrors)
    // in Janus' namespace and in the two browsers' namespaces: a dropped
    // SCTP packet costs a retransmission, at the end of a burst a timeout
    const udpDrops = () => {
      const read = (text) => {
        const l = text.split('\n').filter((x) => x.startsWith('Udp:'));
        if (l.length < 2) return NaN;
        const k = l[0].split(/\s+/);
        const v = l[1].split(/\s+/);
        return Number(v[k.indexOf('RcvbufErrors')]);
      };
      const ns = (n) => { try { return read(execFileSync('/usr/sbin/ip', ['netns', 'exec', n, 'cat', '/proc/net/snmp'], { encoding: 'utf8' })); } catch { return NaN; } };
      let j = NaN;
      try { j = read(fs.readFileSync(`/proc/${sc.stack.janus.pid}/net/snmp`, 'utf8')); } catch { /* gone */ }
      return { janus: j, patient: ns(sc.lab.ns.patient), doctor: ns(sc.lab.ns.doctor) };
    };
    // per socket of Janus (local port: drops so far), to tell the legs apart
    const sockDrops = () => {
      try {
        return fs.readFileSync(`/proc/${sc.stack.janus.pid}/net/udp`, 'utf8').split('\n').slice(1).filter(Boolean)
          .map((l) => l.trim().split(/\s+/)).filter((c) => Number(c.at(-1)) > 0)
          .map((c) => `${parseInt(c[1].split(':')[1], 16)}:${c.at(-1)}`).join(' ');
      } catch { return ''; }
    };
    let dropsSeen = udpDrops();
    const dropLog = () => {
      const d = udpDrops();
      const out = `UDP rcvbuf drops: janus ${d.janus - dropsSeen.janus} (per port so far ${sockDrops()}), patient ${d.patient - dropsSeen.patient}, doctor ${d.doctor - dropsSeen.doctor}`;
      dropsSeen = d;
      return out;
    };
    sctpLog();
    try {
      const ss = execFileSync('nsenter', ['-t', String(sc.stack.janus.pid), '-n', 'ss', '-uanmp'], { encoding: 'utf8' });
      const rb = [...ss.matchAll(/skmem:\(r\d+,rb(\d+)/g)].map((m) => m[1]);
      console.log(`UDP sockets in Janus' namespace, receive buffer (rb): ${rb.join(' ')}`);
    } catch (e) { console.log(`ss failed: ${e.message}`); }
    const sizes = opt('--rawsizes', '').split(',').filter(Boolean).map(Number);
    if (sizes.length) {
      await pat.evaluate(() => {
        const u = new Uint8Array(4 * 1024 * 1024);
        for (let o = 0; o < u.length; o += 65536) crypto.getRandomValues(u.subarray(o, o + 65536));
        window.__benchBytes = u;
      });
      for (let r = 1; r <= RUNS; r++) {
        for (const sz of sizes) {
          await doc.evaluate(() => {
            const st = { got: 0, want: 4 * 1024 * 1024, done: 0 };
            window.__raw = st;
            const on = (ev) => { if (st.done) return; st.got += ev.data.byteLength || 0; if (st.got >= st.want) st.done = performance.timeOrigin + performance.now(); };
            for (const dc of window.consult.channel.transport.channels) { if (window.__rawOn) dc.removeEventListener('message', window.__rawOn); dc.addEventListener('message', on); }
            window.__rawOn = on;
          });
          const t0 = await pat.evaluate(async (n) => {
            const b = window.__benchBytes;
            const dc = window.consult.channel.dc;
            const t = performance.timeOrigin + performance.now();
            for (let off = 0; off < b.length; off += n) {
              while (dc.bufferedAmount > 1024 * 1024) await new Promise((x) => dc.addEventListener('bufferedamountlow', x, { once: true }));
              dc.send(b.subarray(off, Math.min(b.length, off + n)));
            }
            return t;
          }, sz);
          const done = await waitFor('raw done', () => doc.evaluate(() => window.__raw.done || null), 60_000, 20);
          console.log(`raw ${sz} B messages, run ${r}: ${f(done - t0)} ms; ${sctpLog()}; ${dropLog()}`);
        }
        for (const type of ['diag-y', 'diag-z', 'diag-y', 'diag-z']) {
          await doc.evaluate((ty) => {
            const ch = window.consult.channel;
            const st = { got: 0, want: 256, done: 0 };
            window.__ch = st;
            if (window.__chOff) window.__chOff();
            const fn = () => { st.got += 1; if (ty === 'diag-z' && st.got % 16 === 0) ch.send('diag-r', { n: 1, received: st.got * 16384 }).catch(() => {}); if (st.got >= st.want) st.done = performance.timeOrigin + performance.now(); };
            const o1 = ch.on('diag-y', fn); const o2 = ch.on('diag-z', fn);
            window.__chOff = () => { o1(); o2(); };
            window.__chBase = (ch.stats.types['diag-x'] || { received: 0 }).received;
          }, type);
          const t0 = await pat.evaluate(async (ty) => {
            const b = window.__benchBytes;
            const ch = window.consult.channel;
            const t = performance.timeOrigin + performance.now();
            const inflight = [];
            for (let seq = 0; seq < 256; seq++) {
              inflight.push(ch.send(ty, { n: 1, seq }, b.subarray(seq * 16384, seq * 16384 + 16384)));
              if (inflight.length >= 64) await inflight.shift();
            }
            await Promise.all(inflight);
            return t;
          }, type);
          const done = await waitFor('ch done', () => doc.evaluate((ty) => {
            const ch = window.consult.channel;
            if (ty !== 'diag-x') return window.__ch.done || null;
            const c = ch.stats.types['diag-x'];
            return c && c.received - window.__chBase >= 256 ? performance.timeOrigin + performance.now() : null;
          }, type), 60_000, 20);
          console.log(`channel ${type} (sealed, ${type === 'diag-z' ? 'doctor answers every 16' : 'one way'}), run ${r}: ${f(done - t0)} ms; ${sctpLog()}; ${dropLog()}`);
        }
      }
    }
    for (let r = 1; r <= (sizes.length ? 0 : RUNS); r++) {
      const n = await flow.requestPhoto(doc, pat);
      await flow.takePhoto(doc, pat, n);
      await pat.evaluate(async () => { await document.getElementById('photo-preview').decode(); await new Promise((x) => requestAnimationFrame(() => requestAnimationFrame(x))); });
      // --settle MS: even runs wait MS more before "Senden" (does the photo's
      // context - the capture and the dialog just before - slow its start?)
      const settle = Number(opt('--settle', 0));
      if (settle > 0 && r % 2 === 0) {
        console.log(`run ${r}: ${settle} ms more before "Senden"`);
        await new Promise((x) => setTimeout(x, settle));
      }
      await doc.evaluate((quiet) => {
        window.__noProbe = true;
        const ch = window.consult.channel;
        if (!ch.__origSend) ch.__origSend = ch.send.bind(ch);
        ch.send = quiet ? (t, ...a) => (t === 'photo-progress' ? Promise.resolve() : ch.__origSend(t, ...a)) : ch.__origSend;
      }, r % 2 === 1);
      console.log(`run ${r}: doctor sends photo-progress: ${r % 2 === 1 ? 'no' : 'yes'}`);
      await doc.evaluate(instrument);
      await pat.evaluate(instrument);
      const cdp = await sc.call.docPage.context().newCDPSession(sc.call.docPage);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 250 });
      await cdp.send('Profiler.start');
      const { sent, entry, shown } = await flow.sendPhoto(doc, pat, n);
      const { profile } = await cdp.send('Profiler.stop');
      {
        const byId = new Map(profile.nodes.map((x) => [x.id, x]));
        const self = new Map();
        let total = 0;
        profile.samples.forEach((id, i) => {
          const node = byId.get(id);
          const dt = (profile.timeDeltas[i] || 0) / 1000;
          total += dt;
          const cf = node.callFrame;
          const k = `${cf.functionName || '(anon)'} ${cf.url.split('/').pop()}:${cf.lineNumber + 1}`;
          self.set(k, (self.get(k) || 0) + dt);
        });
        const top = [...self.entries()].sort((x, y) => y[1] - x[1]).slice(0, 14);
        console.log(`  doctor CPU profile over ${total.toFixed(0)} ms (self time):`);
        for (const [k, v] of top) console.log(`    ${v.toFixed(1).padStart(8)} ms  ${k}`);
      }
      await cdp.detach();
      const get = () => { window.__diag.stop = true; return window.__diag; };
      const D = await doc.evaluate(get);
      const P = await pat.evaluate(get);
      const t0 = sent.sendAt;
      const big = D.ev.filter(([, s]) => s > 4096);
      const pbig = P.sends.filter(([, , s]) => s > 4096);
      const decLat = D.dec.map(([a, b]) => b - a);
      const encLat = P.enc.map(([a, b]) => b - a);
      const gapsIn = (G, a, b) => G.filter(([t]) => t >= a && t <= b);
      const dg = gapsIn(D.gaps, entry.t.begin, entry.t.end);
      const pg = gapsIn(P.gaps, t0, sent.handedAt);
      console.log(`run ${r}: ${sctpLog()}; ${dropLog()}`);
      console.log(`run ${r}: size ${sent.size}, total ${f(shown.at - t0)} ms, transfer ${f(entry.t.end - entry.t.begin)}, check ${f(entry.t.checked - entry.t.end)}, show ${f(shown.at - entry.t.checked)}`);
      console.log(`  patient: first big send +${f(pbig[0]?.[0] - t0)}, last big send +${f(pbig.at(-1)?.[0] - t0)} (${pbig.length} sends, size ${pbig[0]?.[2]}); bufferedAmount at send median ${f(q(pbig.map((x) => x[1]), 0.5) / 1024)} KiB, p10 ${f(q(pbig.map((x) => x[1]), 0.1) / 1024)} KiB`);
      console.log(`  patient: ${encLat.length} encrypts, latency median ${f(q(encLat, 0.5))} p90 ${f(q(encLat, 0.9))} max ${f(q(encLat, 1))} ms; main-thread gaps >4ms while sending: ${pg.length}, sum ${f(pg.reduce((a, [, g]) => a + g, 0))} ms, max ${f(Math.max(0, ...pg.map((x) => x[1])))}`);
      console.log(`  doctor: first big event +${f(big[0]?.[0] - t0)}, last +${f(big.at(-1)?.[0] - t0)} (${big.length} events); photo-begin +${f(entry.t.begin - t0)}, photo-end +${f(entry.t.end - t0)}`);
      console.log(`  doctor: ${decLat.length} decrypts, latency median ${f(q(decLat, 0.5))} p90 ${f(q(decLat, 0.9))} max ${f(q(decLat, 1))} ms; main-thread gaps >4ms in transfer: ${dg.length}, sum ${f(dg.reduce((a, [, g]) => a + g, 0))} ms, max ${f(Math.max(0, ...dg.map((x) => x[1])))}`);
      // arrival rate over time: events per 250 ms bucket at the doctor vs sends at the patient
      const bucket = (xs) => { const b = []; for (const t of xs) { const i = Math.floor((t - t0) / 250); b[i] = (b[i] || 0) + 1; } return Array.from(b, (x) => x || 0).join(' '); };
      console.log(`  per 250 ms: patient sends [${bucket(pbig.map((x) => x[0]))}]`);
      console.log(`              doctor events [${bucket(big.map((x) => x[0]))}]`);
      {
        // KiB that reached the doctor's browser per 250 ms (getStats), same buckets
        const b = [];
        for (let i = 1; i < D.net.length; i++) {
          const k = Math.floor((D.net[i][0] - t0) / 250);
          if (k >= 0) b[k] = (b[k] || 0) + (D.net[i][1] - D.net[i - 1][1]) / 1024;
        }
        console.log(`              doctor browser KiB [${Array.from(b, (x) => Math.round(x || 0)).join(' ')}] (getStats, ${D.net.length} polls)`);
      }
      console.log(`              doctor decrypt done [${bucket(D.dec.map((x) => x[1]))}]`);
      await doc.click('#viewer-close');
    }
    failed = false;
  } finally {
    await sc.finish(failed);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}
main().then((c) => process.exit(c), (e) => { console.error(e); process.exit(2); });
