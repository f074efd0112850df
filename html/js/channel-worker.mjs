// channel-worker.mjs: opens the call channel's sealed frames (forwarding
// mode) off the page's main thread (module worker, started by
// callchannel.mjs, one per forwarded transport; docs/protocol.md "Call
// channel" for the frame format). The page stays in charge: it checks the
// counters, decodes the frames and delivers them; here only AES-GCM opens.
// Contract:
//   page -> worker  {type: 'key', key: CryptoKey}  the receiving direction's
//                   AES-GCM key (structured clone; never leaves the two)
//                   {type: 'open', id, buf: ArrayBuffer}  one received frame
//   worker -> page  {type: 'ready'} once the key is held
//                   {type: 'opened', items: [{id, counter, plain}]} in the
//                   order the frames came; counter -1 / plain null exactly as
//                   callchannel.mjs unseal() (null result: counter -1, plain
//                   null, bad: true). Items are batched: whatever opened
//                   while the worker was busy goes back in one message (at
//                   most BATCH), so the page handles many frames per task.
// Nothing is logged; frame contents never leave the two threads.
import { unseal } from './callchannel.mjs';

const BATCH = 32;
let key = null;
let chain = Promise.resolve();
let out = [];
let transfer = [];
let timer = 0;

function flush() {
  clearTimeout(timer);
  timer = 0;
  if (!out.length) return;
  const items = out;
  const tr = transfer;
  out = [];
  transfer = [];
  self.postMessage({ type: 'opened', items }, tr);
}

self.onmessage = (ev) => {
  const m = ev.data || {};
  if (m.type === 'key') {
    key = m.key;
    self.postMessage({ type: 'ready' });
    return;
  }
  if (m.type !== 'open') return;
  // decryption starts at once (several in parallel); results go back in order
  const opened = key ? unseal(key, new Uint8Array(m.buf)) : Promise.resolve(null);
  chain = chain.then(() => opened).then((r) => {
    const item = r ? { id: m.id, counter: r.counter, plain: r.plain ? r.plain.buffer : null } : { id: m.id, counter: -1, plain: null, bad: true };
    out.push(item);
    if (item.plain) transfer.push(item.plain);
    if (out.length >= BATCH) flush();
    else if (!timer) timer = setTimeout(flush, 0);
  }, () => {
    out.push({ id: m.id, counter: -1, plain: null, bad: true });
    if (!timer) timer = setTimeout(flush, 0);
  });
};
