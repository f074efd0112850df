// backoff.mjs: when the pages try to reach the server again after the
// signalling connection dropped (docs/pages.md, "Reconnect and re-attach").
// Contract:
//   reconnectDelay(attempt, rand) -> ms: attempt 0 within 1 s (100-900 ms),
//     then 1 s, 2 s, 2 s, ... each with jitter (60-100 %), never above
//     MAX_RECONNECT_MS; rand defaults to Math.random. The cap bounds how
//     long a page waits after the server is back: at most 2 s plus its own
//     re-attach (bench/reconnect.mjs measures it for 1,110 pages).
//   const r = new Retry(fn)   fn: async, one attempt; it calls r.schedule()
//     itself when it wants another one.
//     r.schedule(minMs)  next attempt after reconnectDelay(n) (at least minMs);
//                        n counts the attempts since r.reset()
//     r.now()            a pending attempt runs at once (also on the
//                        browser's `online` event)
//     r.reset() / r.cancel() / r.pending
// Jitter spreads the reconnects of many pages after a server restart.
export const MAX_RECONNECT_MS = 2000;

export function reconnectDelay(attempt, rand = Math.random) {
  if (!(attempt > 0)) return Math.round(100 + rand() * 800);
  const base = Math.min(MAX_RECONNECT_MS, 1000 * attempt);
  return Math.round(base * (0.6 + 0.4 * rand()));
}

export class Retry {
  constructor(fn) {
    this.fn = fn;
    this.attempt = 0;
    this.timer = null;
    this.pending = false;
    this.running = false;
    window.addEventListener('online', () => this.now());
  }

  schedule(minMs = 0) {
    clearTimeout(this.timer);
    const ms = Math.max(minMs, reconnectDelay(this.attempt));
    this.attempt += 1;
    this.pending = true;
    this.timer = setTimeout(() => this.fire(), ms);
  }

  now() {
    if (!this.pending || this.running) return;
    clearTimeout(this.timer);
    this.fire();
  }

  async fire() {
    this.pending = false;
    this.running = true;
    try { await this.fn(); } catch (e) { console.warn('reconnect attempt failed', e && (e.error || e.message)); } finally { this.running = false; }
  }

  reset() { this.attempt = 0; }

  cancel() {
    clearTimeout(this.timer);
    this.pending = false;
  }
}
