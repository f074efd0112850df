// staff.mjs: login/logout/reconnect shared by doctor.mjs and reception.mjs.
// Contract: startStaff({roles, onLogin(client, info), onLogout(), onReconnecting()})
//   wires #username, #password, #login (form #login-form), #login-error,
//   #logout, and the sections #login-view / #app-view.
//   onLogin is called after every successful login (also after an automatic
//   re-login when the Janus connection dropped; the password is then kept in
//   memory only, never stored). roles: accepted roles ('doctor','reception').
//   onClient(client) runs right after a new connection, before login, so
//   event listeners miss nothing (events may arrive before the login reply).
//   Idle logout: while logged in, user activity (pointer, key, touch, the tab
//   becoming visible) sends {"request":"touch"} at most once per minute (and
//   only if no other request went out in that minute; if the login reply has
//   `idle_seconds`, at most every idle_seconds/2). The
//   plugin's event `logged_out` ({reason:"idle"}) shows the login form with
//   #login-notice "Sie wurden nach längerer Inaktivität abgemeldet." (created
//   if the page lacks it), forgets the in-memory password (no automatic
//   re-login) and calls onLogout(); the handle stays connected, anonymous.
//   Other reasons: "password_reset" and "disabled" (admin) show their own
//   notice; "password_reset" also forgets this browser's device token.
//   Device token: the login reply's `device_token` is kept in localStorage
//   per user name ("consult.device.<username>") and sent with every later
//   login of that user from this browser, so a lockout of the user name by
//   strangers does not lock this browser out (docs/protocol.md, "Login
//   protection"). A login answered `busy` (all password checks in use) is
//   retried automatically after retry_after seconds with a calm notice
//   (#login-notice, "common.login.busy"), up to BUSY_TRIES times.
import { ConsultClient } from './janus-client.mjs';
import { t, errorText, onLangChange } from './i18n.mjs';

const BUSY_TRIES = 30;
const deviceKey = (username) => `consult.device.${username}`;

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

export function startStaff({ roles, onClient = () => {}, onLogin, onLogout = () => {}, onReconnecting = () => {} }) {
  const $ = (id) => document.getElementById(id);
  const form = $('login-form');
  const errBox = $('login-error');
  let client = null;
  let creds = null;          // kept in memory for automatic re-login only
  let backoff = 1000;
  let reconnectTimer = null;
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

  function showLogin() {
    loggedIn = false;
    $('login-view').hidden = false;
    $('app-view').hidden = true;
    if ($('logout')) $('logout').hidden = true;
  }

  function showApp() {
    loggedIn = true;
    lastTouch = Date.now();     // the login itself counts as activity
    showLoginNotice(null);
    $('login-view').hidden = true;
    $('app-view').hidden = false;
    if ($('logout')) $('logout').hidden = false;
  }

  async function newClient() {
    const c = new ConsultClient();
    await c.connect();
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
      client = null;
      if (creds && !stopped) {
        onReconnecting();
        scheduleReconnect();
      }
    });
    return c;
  }

  // The plugin ended the staff session (idle, password reset, disabled): the handle is anonymous now.
  function onLoggedOut(reason) {
    if (reason === 'password_reset' && creds) saveDevice(creds.username, null);   // revoked by the server
    creds = null;                 // never log in again without the user
    clearTimeout(reconnectTimer);
    $('password').value = '';
    showLogin();
    showError('');
    const notices = { idle: 'common.idle.logout', password_reset: 'common.logged.out.password_reset', disabled: 'common.logged.out.disabled' };
    showLoginNotice(notices[reason] || 'common.logged.out');
    onLogout();
  }

  // Activity keepalive: at most one touch per minute, only while logged in.
  function activity() {
    if (!loggedIn || !client || stopped) return;
    const now = Date.now();
    if (now - lastTouch < touchMs) return;
    lastTouch = now;
    client.request({ request: 'touch' }).catch(() => {});   // unknown_request on an old plugin: harmless
  }

  function scheduleReconnect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(async () => {
      try {
        await doLogin(creds.username, creds.password, true);
        backoff = 1000;
      } catch (e) {
        if (e && (e.error === 'login_failed' || e.error === 'wrong_role')) {
          creds = null;
          showLogin();
          showError(e.error === 'wrong_role' ? t('common.wrong.role') : errorText(e));
          onLogout();
          return;
        }
        backoff = Math.min(backoff * 2, 15000);
        scheduleReconnect();
      }
    }, backoff);
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

  async function doLogin(username, password, auto) {
    if (!client) client = await newClient();
    let info;
    try {
      info = await loginRequest(username, password);
    } catch (e) {
      if (e.error === 'wrong_state' && auto) {   // stale handle: start over
        client.destroy();
        client = null;
      }
      throw e;
    }
    if (info.device_token) saveDevice(username, info.device_token);
    if (!roles.includes(info.role)) {
      client.request({ request: 'logout' }).catch(() => {});
      const err = new Error('wrong role');
      err.error = 'wrong_role';
      throw err;
    }
    creds = { username, password };
    // optional: a plugin that tells its idle limit gets touches often enough
    const idle = Number(info.idle_seconds);
    touchMs = idle > 0 ? Math.max(5000, Math.min(60 * 1000, idle * 500)) : 60 * 1000;
    showError('');
    showApp();
    await onLogin(client, info);
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
      await doLogin(username, password, false);
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
      creds = null;
      clearTimeout(reconnectTimer);
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
  return { client: () => client, touch: activity };
}
