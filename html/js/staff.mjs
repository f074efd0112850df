// staff.mjs: login/logout/reconnect shared by doctor.mjs and reception.mjs.
// Contract: startStaff({roles, consult, onLogin(client, info, {resumed}),
//     onLogout(), onReconnecting(), resumeCall()})
//   wires #username, #password, #login (form #login-form), #login-error,
//   #logout, and the sections #login-view / #app-view.
//   onLogin is called after every successful login and after every resume
//   (resumed true; info is the `resume` reply, info.call the re-attached call
//   or null). roles: accepted roles ('doctor','reception').
//   onClient(client) runs right after a new connection, before login, so
//   event listeners miss nothing (events may arrive before the login reply).
//   Session token, never the password: the login reply's `session_token` is
//   kept in this tab's sessionStorage ("consult.staff.<roles[0]>", with the
//   user name); the password is forgotten right after the login. When the
//   connection drops (or the event `server_restarting` arrives) the page
//   calls onReconnecting() and reconnects with jittered backoff (backoff.mjs:
//   first try within 1 s, then at most every 3 s, at once on `online`) and
//   sends {"request":"resume","session_token":…,"resume_call":resumeCall()}
//   (resume_call only when resumeCall() gives a visit id). A page load with a
//   stored token tries `resume` first (#login-notice "Anmeldung wird
//   wiederhergestellt …"; the form's fields stay hidden during that first try,
//   and #login-view is hidden in the HTML until this runs), so a reload
//   keeps the login without a login form flashing up. `session_invalid`
//   (also an old plugin's unknown_request): the token is dropped, the login
//   form shows "Ihre Anmeldung ist abgelaufen …". Logout and every
//   `logged_out` drop the token; reason `taken_over` (another tab resumed
//   this session) has its own notice.
//   consult (window.consult, optional): .signalling 'up' | 'down' and
//   .reattached (resumes after a lost connection) for tests.
//   Idle logout: while logged in, user activity (pointer, key, touch, the tab
//   becoming visible) sends {"request":"touch"} at most once per minute (and
//   only if no other request went out in that minute; if the login reply has
//   `idle_seconds`, at most every idle_seconds/2). The
//   plugin's event `logged_out` ({reason:"idle"}) shows the login form with
//   #login-notice "Sie wurden nach längerer Inaktivität abgemeldet." (created
//   if the page lacks it), drops the session token (no automatic resume)
//   and calls onLogout(); the handle stays connected, anonymous.
//   Other reasons: "password_reset" and "disabled" (admin) show their own
//   notice; "password_reset" also forgets this browser's device token.
//   Device token: the login reply's `device_token` is kept in localStorage
//   per user name ("consult.device.<username>") and sent with every later
//   login of that user from this browser, so a lockout of the user name by
//   strangers does not lock this browser out (docs/protocol.md, "Login
//   protection"). A login answered `busy` (all password checks in use) is
//   retried automatically after retry_after seconds with a calm notice
//   (#login-notice, "common.login.busy"), up to BUSY_TRIES times.
//   Several instances (route.mjs): connections go to /janus; a login or
//   resume answered practice_elsewhere is sent again at once on the named
//   instance's /janus/i/<instance> (at most MAX_REDIRECTS in a row, then
//   with the reconnect backoff through /janus: a resume keeps trying, a
//   login up to LOGIN_ROUTE_WAITS times, then "err.practice_elsewhere");
//   the event practice_moved is a lost connection whose resume goes to the
//   named instance. Refused for route.mjs' UNSERVED_MS: onUnserved() (the
//   page says that no server serves the practice now). consult.instance:
//   the instance followed (null: /janus).
import { ConsultClient, serverUrl } from './janus-client.mjs';
import { t, errorText, onLangChange } from './i18n.mjs';
import { Retry, reconnectDelay } from './backoff.mjs';
import { Route } from './route.mjs';

const BUSY_TRIES = 30;
const LOGIN_ROUTE_WAITS = 8;
const deviceKey = (username) => `consult.device.${username}`;

function loadSession(key) {
  try {
    const v = JSON.parse(window.sessionStorage.getItem(key));
    return v && typeof v.token === 'string' && v.token ? v : null;
  } catch { return null; }
}

function saveSession(key, v) {
  try {
    if (v && v.token) window.sessionStorage.setItem(key, JSON.stringify({ token: v.token, username: v.username || '' }));
    else window.sessionStorage.removeItem(key);
  } catch { /* storage disabled: a lost connection then needs a new login */ }
}

// Errors after which a stored token is of no use
const TOKEN_DEAD = new Set(['session_invalid', 'unknown_request', 'wrong_role', 'invalid_field', 'missing_field']);

function loadDevice(username) {
  try { return window.localStorage.getItem(deviceKey(username)) || undefined; } catch { return undefined; }
}

function saveDevice(username, token) {
  try {
    if (token) window.localStorage.setItem(deviceKey(username), token);
    else window.localStorage.removeItem(deviceKey(username));
  } catch { /* storage disabled: logins still work, only without the device bonus */ }
}

const sleepMs = (ms) => new Promise((r) => setTimeout(r, ms));

export function startStaff({
  roles, consult = {}, onClient = () => {}, onLogin, onLogout = () => {}, onReconnecting = () => {},
  resumeCall = () => 0, onUnserved = () => {},
}) {
  const $ = (id) => document.getElementById(id);
  const form = $('login-form');
  const errBox = $('login-error');
  const storeKey = 'consult.staff.' + roles[0];
  let client = null;
  const route = new Route(serverUrl());
  let session = loadSession(storeKey);   // {token, username}: never the password
  let user = session ? session.username : '';   // who is logged in (for the device token)
  let lostAt = 0;                        // the connection dropped (0: not lost)
  const retry = new Retry(() => resumeOnce());
  let stopped = false;
  let loggedIn = false;
  let lastTouch = 0;
  let touchMs = 60 * 1000;     // at most one touch per minute; less if the idle time is short

  function showError(text) {
    errBox.textContent = text || '';
    errBox.hidden = !text;
  }

  function loginNotice() {
    let el = $('login-notice');
    if (!el && errBox) {
      el = document.createElement('div');
      el.id = 'login-notice';
      el.className = 'notice';
      el.setAttribute('role', 'status');
      el.setAttribute('aria-live', 'polite');
      el.dataset.testid = 'login-notice';
      el.hidden = true;
      errBox.parentNode.insertBefore(el, errBox);
    }
    return el;
  }

  function showLoginNotice(key) {
    const el = loginNotice();
    if (!el) return;
    el.dataset.i18nKey = key || '';
    el.textContent = key ? t(key) : '';
    el.hidden = !key;
  }

  // While a stored token is tried after a reload, the form's fields stay
  // hidden (only "Anmeldung wird wiederhergestellt …"): no login form flashes
  // up for a doctor who stays logged in. They come back as soon as the try
  // fails (token dead, or the server not reachable: the user may log in).
  const hiddenFields = new Set();
  function hideFields(on) {
    if (!form) return;
    if (on) {
      for (const el of form.children) {
        if (el.tagName === 'H1' || el.id === 'login-notice' || el === errBox || el.hidden) continue;
        el.hidden = true;
        hiddenFields.add(el);
      }
      form.dataset.resuming = 'true';
    } else {
      for (const el of hiddenFields) el.hidden = false;
      hiddenFields.clear();
      form.dataset.resuming = 'false';
    }
  }

  function showLogin() {
    loggedIn = false;
    hideFields(false);
    $('login-view').hidden = false;
    $('app-view').hidden = true;
    if ($('logout')) $('logout').hidden = true;
  }

  function showApp() {
    loggedIn = true;
    lastTouch = Date.now();     // the login itself counts as activity
    hideFields(false);
    showLoginNotice(null);
    $('login-view').hidden = true;
    $('app-view').hidden = false;
    if ($('logout')) $('logout').hidden = false;
  }

  consult.signalling = 'down';
  consult.reattached = 0;
  consult.instance = null;

  function followed() { consult.instance = route.instance; }

  async function newClient() {
    const c = new ConsultClient({ server: route.url() });
    try {
      await c.connect();
    } catch (e) {
      route.unreachable(Date.now());   // a followed instance gone: next through /janus
      followed();
      throw e;
    }
    consult.signalling = 'up';
    // every request resets the plugin's idle timer: a touch is needed only
    // after a minute without any
    const request = c.request.bind(c);
    c.request = (body, jsep) => {
      if (c === client && loggedIn) lastTouch = Date.now();
      return request(body, jsep);
    };
    onClient(c);
    c.on('logged_out', (ev) => {
      if (c !== client) return;
      onLoggedOut(ev && ev.reason);
    });
    c.on('disconnected', () => {
      if (c !== client) return;
      lost();
    });
    // another instance serves the practice now: this handle is anonymous
    c.on('practice_moved', (ev) => {
      if (c !== client) return;
      route.elsewhere(ev && ev.instance, Date.now());
      followed();
      c.destroy();
      lost();
    });
    return c;
  }

  function lost() {
    client = null;
    consult.signalling = 'down';
    if (stopped || !loggedIn) return;
    if (session && session.token) {
      onReconnecting();
      retry.reset();
      lostAt = lostAt || Date.now();
      retry.schedule();
    } else {
      // a plugin without session tokens: the user logs in again
      sessionEnded('common.session.invalid');
    }
  }

  /** practice_elsewhere: 'redirect' (try the named instance now) or 'wait'. */
  function elsewhere(e) {
    const now = Date.now();
    const how = route.elsewhere(e.data && e.data.instance, now);
    followed();
    if (how === 'wait' && route.unserved(now)) onUnserved();
    return how;
  }

  function setSession(v) {
    session = v;
    saveSession(storeKey, v);
  }

  /** The token is of no use any more: the login form with a notice. */
  function sessionEnded(noticeKey) {
    setSession(null);
    retry.cancel();
    lostAt = 0;
    const wasIn = loggedIn;
    showLogin();
    showLoginNotice(noticeKey);
    if (wasIn) onLogout();
  }

  // One resume on a new connection; failures are retried with backoff.
  async function resumeOnce() {
    if (!session || stopped || client) return;
    let c;
    try {
      c = await newClient();
    } catch (e) {
      hideFields(false);          // the server is not reachable: the form stays usable
      retry.schedule();
      return;
    }
    client = c;
    const call = Number(resumeCall()) || 0;
    let info;
    try {
      info = await c.request({ request: 'resume', session_token: session.token, ...(call > 0 ? { resume_call: call } : {}) });
      if (!roles.includes(info.role)) {
        c.request({ request: 'logout' }).catch(() => {});
        const err = new Error('wrong role');
        err.error = 'wrong_role';
        throw err;
      }
    } catch (e) {
      if (client && client !== c) return;        // a login of the user won meanwhile
      if (e && TOKEN_DEAD.has(e.error)) { sessionEnded('common.session.invalid'); return; }
      if (client === c) { client = null; c.destroy(); }
      consult.signalling = 'down';
      if (e && e.error === 'practice_elsewhere' && elsewhere(e) === 'redirect') { await resumeOnce(); return; }
      hideFields(false);
      retry.schedule(e && e.error === 'rate_limited' && e.retry_after ? e.retry_after * 1000 : 0);
      return;
    }
    if (client !== c) return;
    route.served();
    if (info.session_token) setSession({ token: info.session_token, username: session.username });
    idleFrom(info);
    if (lostAt) { consult.reattached += 1; lostAt = 0; }
    showError('');
    showApp();
    await onLogin(c, info, { resumed: true });
  }

  // The plugin ended the staff session (idle, password reset, disabled, taken over): the handle is anonymous now.
  function onLoggedOut(reason) {
    if (reason === 'password_reset' && user) saveDevice(user, null);   // revoked by the server
    setSession(null);             // never resume without the user
    retry.cancel();
    $('password').value = '';
    showLogin();
    showError('');
    const notices = {
      idle: 'common.idle.logout', password_reset: 'common.logged.out.password_reset',
      disabled: 'common.logged.out.disabled', taken_over: 'common.logged.out.taken_over',
    };
    showLoginNotice(notices[reason] || 'common.logged.out');
    onLogout();
  }

  function idleFrom(info) {
    // optional: a plugin that tells its idle limit gets touches often enough
    const idle = Number(info.idle_seconds);
    touchMs = idle > 0 ? Math.max(5000, Math.min(60 * 1000, idle * 500)) : 60 * 1000;
  }

  // Activity keepalive: at most one touch per minute, only while logged in.
  function activity() {
    if (!loggedIn || !client || stopped) return;
    const now = Date.now();
    if (now - lastTouch < touchMs) return;
    lastTouch = now;
    client.request({ request: 'touch' }).catch(() => {});   // unknown_request on an old plugin: harmless
  }

  // One login request with this browser's device token; `busy` is retried
  // after retry_after with a calm notice; a token the plugin refuses as
  // malformed is dropped once.
  async function loginRequest(username, password) {
    let token = loadDevice(username);
    for (let i = 1; ; i++) {
      try {
        const info = await client.request({ request: 'login', username, password, ...(token ? { device_token: token } : {}) });
        if (i > 1) showLoginNotice(null);
        return info;
      } catch (e) {
        if (e && e.field === 'device_token' && token) {
          saveDevice(username, null);
          token = undefined;
          continue;
        }
        if (!e || e.error !== 'busy' || i >= BUSY_TRIES) {
          if (i > 1) showLoginNotice(null);
          throw e;
        }
        showLoginNotice('common.login.busy');
        await sleepMs(Math.max(1, Math.min(10, Number(e.retry_after) || 1)) * 1000);
        if (!client || stopped) throw e;
      }
    }
  }

  async function doLogin(username, password) {
    retry.cancel();               // the user logs in: no resume of an old token
    lostAt = 0;
    if (!client) client = await newClient();
    let info;
    for (let waits = 0; ;) {
      try {
        info = await loginRequest(username, password);
        break;
      } catch (e) {
        if (e.error === 'wrong_state' || e.error === 'practice_elsewhere') {
          // not anonymous (a resume won meanwhile?), or served elsewhere: start over
          client.destroy();
          client = null;
        }
        if (e.error !== 'practice_elsewhere') throw e;
        if (elsewhere(e) === 'wait') {
          if (++waits > LOGIN_ROUTE_WAITS) throw e;
          await sleepMs(reconnectDelay(waits));
        }
        if (stopped) throw e;
        client = await newClient();
      }
    }
    route.served();
    if (info.device_token) saveDevice(username, info.device_token);
    if (!roles.includes(info.role)) {
      client.request({ request: 'logout' }).catch(() => {});
      const err = new Error('wrong role');
      err.error = 'wrong_role';
      throw err;
    }
    user = username;
    setSession(info.session_token ? { token: info.session_token, username } : null);
    idleFrom(info);
    showError('');
    showApp();
    await onLogin(client, info, { resumed: false });
    return info;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const username = $('username').value.trim();
    const password = $('password').value;
    if (!username || !password) { showError(t('err.missing_field')); return; }
    const btn = $('login');
    btn.disabled = true;
    try {
      await doLogin(username, password);
      $('password').value = '';
    } catch (e) {
      if (e.error === 'transport' || e.error === 'disconnected') { if (client) client.destroy(); client = null; }
      showError(e.error === 'wrong_role' ? t('common.wrong.role') : errorText(e));
    } finally {
      btn.disabled = false;
    }
  });

  const logoutBtn = $('logout');
  if (logoutBtn) {
    logoutBtn.addEventListener('click', async () => {
      setSession(null);
      retry.cancel();
      if (client) await client.request({ request: 'logout' }).catch(() => {});
      showLogin();
      onLogout();
    });
  }

  for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart']) {
    window.addEventListener(type, activity, { passive: true, capture: true });
  }
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') activity();
  });
  onLangChange(() => {
    const el = $('login-notice');
    if (el && el.dataset.i18nKey) el.textContent = t(el.dataset.i18nKey);
  });

  window.addEventListener('pagehide', () => {
    stopped = true;
    if (client) client.destroy();
  });

  showLogin();
  if (session) {
    // a reload (or a restored tab): keep the login if the token still works
    hideFields(true);
    showLoginNotice('common.session.resuming');
    lostAt = 0;
    retry.reset();
    retry.schedule(0);
    retry.now();
  }
  return { client: () => client, touch: activity };
}
