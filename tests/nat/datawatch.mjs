// datawatch.mjs - what Janus relays on the call channel in forwarding mode,
// seen where it comes out (tests/nat/callchannel.test.mjs, photo-forward).
//
// Why here: Janus' admin dumps (start_pcap / start_text2pcap) hold RTP and
// RTCP only - measured: a dump of a forwarded leg while channel messages
// flowed had 0 DATA records. Janus is the DTLS/SCTP endpoint of both legs
// and relays data-channel messages byte for byte (plugins/janus/forward.c
// relay_data), so the messages a page receives on its leg's data channel
// are exactly what Janus had in clear after DTLS. The plugin's admin stats
// count the same messages (forward.data_messages / data_bytes): when the
// pages' raw counts add up to the plugin's, the pages saw everything Janus
// relayed in that time.
//
// Contract:
// - watchRaw(page) in the page: every RTCDataChannel of the call channel's
//   current transport (window.consult.channel.transport.channels, also the
//   ones opening later) gets a raw 'message' listener that keeps each
//   message's bytes (window.__raw = {messages, bytes, frames: [Uint8Array]}).
// - rawSummary(page, needles) -> {messages, bytes, sealed (first byte 0x02
//   with a zero IV prefix), other, found: {name: count}} where needles is
//   {name: [byte, ...]}: occurrences of each byte sequence across all kept
//   messages.
// - rawTypes(page, from = 0) -> {type: {messages, bytes}} of the kept
//   messages from index `from` on, each opened in the page with the key of
//   its direction (the call channel's transport.keys.recv): what Janus
//   relayed, by message type ('ch-hello', 'quality', 'photo-chunk', ...;
//   '?' for a frame that does not open). The messages a page itself sends
//   every few seconds (quality reports) can then be told apart from what a
//   test sends, and a test can count its own types exactly.
// - photoNeedles(bytes, n = 8, len = 16) -> {name: [...]} the photo's first
//   16 bytes (JPEG SOI FF D8 FF and its header) and n more 16-byte windows
//   spread over it: a 16-byte window of the plain photo cannot occur in
//   ciphertext by chance (2^-128 per position), while a bare 3-byte FF D8 FF
//   does (about 0.3 times in 5 MB of random bytes), so the SOI marker is
//   checked together with the bytes that follow it in the photo.

export function watchRaw(page) {
  return page.evaluate(() => {
    const raw = { messages: 0, bytes: 0, frames: [] };
    window.__raw = raw;
    const t = window.consult.channel.transport;
    const seen = new WeakSet();
    const add = (dc) => {
      if (seen.has(dc)) return;
      seen.add(dc);
      dc.addEventListener('message', (ev) => {
        const d = ev.data;
        const u8 = d instanceof ArrayBuffer ? new Uint8Array(d.slice(0)) : new TextEncoder().encode(String(d));
        raw.messages += 1;
        raw.bytes += u8.length;
        raw.frames.push(u8);
      });
    };
    for (const dc of t.channels) add(dc);
    t.pc.addEventListener('datachannel', (ev) => add(ev.channel));
    return { channels: t.channels.size, mode: t.mode };
  });
}

export function rawSummary(page, needles = {}) {
  return page.evaluate((nd) => {
    const raw = window.__raw || { messages: 0, bytes: 0, frames: [] };
    const found = {};
    for (const name of Object.keys(nd)) found[name] = 0;
    let sealed = 0;
    let other = 0;
    for (const f of raw.frames) {
      if (f.length > 13 && f[0] === 2 && f[1] === 0 && f[2] === 0 && f[3] === 0 && f[4] === 0) sealed += 1; else other += 1;
      for (const [name, n] of Object.entries(nd)) {
        outer: for (let i = f.indexOf(n[0]); i >= 0 && i + n.length <= f.length; i = f.indexOf(n[0], i + 1)) {
          for (let k = 1; k < n.length; k++) if (f[i + k] !== n[k]) continue outer;
          found[name] += 1;
        }
      }
    }
    return { messages: raw.messages, bytes: raw.bytes, sealed, other, found };
  }, needles);
}

export function rawTypes(page, from = 0) {
  return page.evaluate(async (start) => {
    const raw = window.__raw || { frames: [] };
    const t = window.consult.channel.transport;
    const key = t && t.keys && t.keys.recv;
    const out = {};
    const add = (type, n) => { const o = out[type] || (out[type] = { messages: 0, bytes: 0 }); o.messages += 1; o.bytes += n; };
    for (const f of raw.frames.slice(start)) {
      let type = '?';
      if (key && f.length > 29 && f[0] === 2) {
        try {
          const plain = new Uint8Array(await crypto.subtle.decrypt(
            { name: 'AES-GCM', iv: f.slice(1, 13), additionalData: new Uint8Array([2]) }, key, f.subarray(13)));
          const n = (plain[1] << 8) | plain[2];
          type = String(JSON.parse(new TextDecoder().decode(plain.subarray(3, 3 + n))).t);
        } catch { /* stays '?' */ }
      }
      add(type, f.length);
    }
    return out;
  }, from);
}

export function photoNeedles(bytes, n = 8, len = 16) {
  const b = Uint8Array.from(bytes);
  const out = { head: [...b.subarray(0, len)] };
  for (let i = 1; i <= n; i++) {
    const off = Math.floor((b.length - len) * i / (n + 1));
    out[`at${off}`] = [...b.subarray(off, off + len)];
  }
  return out;
}
