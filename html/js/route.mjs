// route.mjs: which Janus instance a page's WebSocket goes to when several
// instances share the practices (docs/operations.md, "Running more than one
// instance"; docs/pages.md, "Several instances"). Pure: no DOM, no timers;
// times are arguments.
// Contract:
//   validInstance(name) -> true for 1..64 of A-Z a-z 0-9 . _ - (the plugin's
//     rule for `instance`), not only dots (no "." or ".." path segment)
//   instanceUrl(base, name) -> base's URL with the path <path>/i/<name>
//     (query kept), or null if name is not valid or base not a URL
//   withPractice(base, slug) -> base with ?p=<slug> (nginx hashes on it, so
//     every page of a practice asks the same instance first); base
//     unchanged without a slug
//   const r = new Route(base, {maxRedirects, unservedMs})
//     r.url()        where to connect now: base, or the named instance's URL
//     r.instance     the instance followed now (null: base)
//     r.elsewhere(instance, now) -> 'redirect' | 'wait': the answer
//                    practice_elsewhere, or the event practice_moved, named
//                    this holder (null: unknown). 'redirect': connect to it
//                    now (r.url() is its URL) and join / resume again;
//                    'wait': back to base, retry with the reconnect backoff.
//                    'wait' when the name is null or not valid, when it is
//                    the instance just followed (it sent us away itself),
//                    when its URL was the last one that could not be reached
//                    (asked once more only on the following refusal), or
//                    after maxRedirects redirects without being served (no
//                    ping-pong between two instances that each name the
//                    other; the count starts again after each 'wait')
//     r.unreachable(now)  the connect to r.url() failed: back to base (an
//                    instance that died: the others take its practices over
//                    once its leases expire); base itself failing changes
//                    nothing (the ordinary reconnect)
//     r.served()     a join / resume / login was answered: counts reset; the
//                    page keeps its instance for its next reconnect
//     r.unserved(now) -> true once the page has been refused or cut off
//                    (elsewhere / unreachable) for unservedMs without being
//                    served in between: the page says that no server serves
//                    the practice right now (and keeps trying)
export const MAX_REDIRECTS = 3;
export const UNSERVED_MS = 20000;

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function validInstance(name) {
  return typeof name === 'string' && NAME.test(name) && !/^\.+$/.test(name);
}

export function instanceUrl(base, name) {
  if (!validInstance(name)) return null;
  let u;
  try { u = new URL(base); } catch (e) { return null; }
  u.pathname = u.pathname.replace(/\/+$/, '') + '/i/' + name;
  return u.toString();
}

export function withPractice(base, slug) {
  if (!slug) return base;
  try {
    const u = new URL(base);
    u.searchParams.set('p', slug);
    return u.toString();
  } catch (e) {
    return base;
  }
}

export class Route {
  constructor(base, { maxRedirects = MAX_REDIRECTS, unservedMs = UNSERVED_MS } = {}) {
    this.base = base;
    this.maxRedirects = maxRedirects;
    this.unservedMs = unservedMs;
    this.instance = null;
    this.redirects = 0;       // since the last 'wait' or the last time served
    this.down = null;         // the instance whose URL could not be reached last
    this.refusedSince = 0;    // first refusal since last served (0: none)
  }

  url() {
    return (this.instance && instanceUrl(this.base, this.instance)) || this.base;
  }

  refused(now) {
    if (!this.refusedSince) this.refusedSince = now || 1;
  }

  toBase() {
    this.instance = null;
    this.redirects = 0;
    return 'wait';
  }

  elsewhere(instance, now) {
    this.refused(now);
    if (!validInstance(instance) || instance === this.instance) return this.toBase();
    if (instance === this.down) {
      this.down = null;          // the next refusal naming it tries it again
      return this.toBase();
    }
    if (this.redirects >= this.maxRedirects) return this.toBase();
    this.redirects += 1;
    this.instance = instance;
    return 'redirect';
  }

  unreachable(now) {
    if (!this.instance) return;   // base itself: the ordinary reconnect
    this.refused(now);
    this.down = this.instance;
    this.toBase();
  }

  served() {
    this.redirects = 0;
    this.down = null;
    this.refusedSince = 0;
  }

  unserved(now) {
    return this.refusedSince > 0 && now - this.refusedSince >= this.unservedMs;
  }
}
