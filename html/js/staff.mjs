// staff.mjs: login/logout/reconnect shared by doctor.mjs and reception.mjs.
// Contract: startStaff({roles, onLogin(client, info), onLogout(), onReconnecting()})
//   wires #username, #password, #login (form #login-form), #login-error,
//   #logout, and the sections #login-view / #app-view.
//   onLogin is called after every successful login (also after an automatic
//   re-login when the Janus connection dropped; the password is then kept in
//   memory only, never stored). roles: accepted roles ('doctor','reception').
//   onClient(client) runs right after a new connection, before login, so
//   event listeners miss nothing (events may arrive before the login reply).
import { ConsultClient } from './janus-client.mjs';
import { t, errorText } from './i18n.mjs';

export function startStaff({ roles, onClient = () => {}, onLogin, onLogout = () => {}, onReconnecting = () => {} }) {
  const $ = (id) => document.getElementById(id);
  const form = $('login-form');
  const errBox = $('login-error');
  let client = null;
  let creds = null;          // kept in memory for automatic re-login only
  let backoff = 1000;
  let reconnectTimer = null;
  let stopped = false;

  function showError(text) {
    errBox.textContent = text || '';
    errBox.hidden = !text;
  }

  function showLogin() {
    $('login-view').hidden = false;
    $('app-view').hidden = true;
    if ($('logout')) $('logout').hidden = true;
  }

  function showApp() {
    $('login-view').hidden = true;
    $('app-view').hidden = false;
    if ($('logout')) $('logout').hidden = false;
  }

  async function newClient() {
    const c = new ConsultClient();
    await c.connect();
    onClient(c);
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

  async function doLogin(username, password, auto) {
    if (!client) client = await newClient();
    let info;
    try {
      info = await client.request({ request: 'login', username, password });
    } catch (e) {
      if (e.error === 'wrong_state' && auto) {   // stale handle: start over
        client.destroy();
        client = null;
      }
      throw e;
    }
    if (!roles.includes(info.role)) {
      client.request({ request: 'logout' }).catch(() => {});
      const err = new Error('wrong role');
      err.error = 'wrong_role';
      throw err;
    }
    creds = { username, password };
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

  window.addEventListener('pagehide', () => {
    stopped = true;
    if (client) client.destroy();
  });

  showLogin();
  return { client: () => client };
}
