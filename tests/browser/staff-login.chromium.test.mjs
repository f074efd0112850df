// Staff login protection in the real page (reception.html in Chromium; Janus
// with password_checks = 1, nginx): the login reply's device token is kept in
// localStorage per user name and sent with the next login, so this browser
// gets in although strangers locked the user name; a login answered `busy`
// (all password checks taken by a storm) shows the calm notice and is
// retried by the page itself until it succeeds; after an operator's
// reset_password the page shows its notice and forgets the device token.
// Screenshots: tests/artifacts/staff-login-chromium/.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, test } from 'node:test';
import { artifacts, closeAll, drive, harness, launchChromium, REPO, step, waitFor, watchConsole } from './lib.mjs';

const rand = (n = 4) => crypto.randomBytes(n).toString('hex');
const open = new Set();
after(async () => {
  const items = [...open].reverse();
  open.clear();
  await closeAll(...items);
});

async function startLoginStack() {
  const { startJanus, freePort } = await import(harness('janus.mjs'));
  const { startNginx } = await import(harness('nginx.mjs'));
  const { seedPractice } = await import(harness('seed.mjs'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const janus = await startJanus({ publicUrl: origin, extraPluginConfig: { password_checks: 1 } });
  open.add({ close: () => janus.stop() });
  const nginx = await startNginx({ root: path.join(REPO, 'html'), janusWsUrl: janus.wsUrl, port });
  open.add({ close: () => nginx.stop() });
  const pw = () => `Pw-${rand(8)}`;
  const practice = await seedPractice(janus, {
    slug: `praxis-login-${rand(2)}`, name: 'Praxis Anmeldung', phone: '0721-1',
    doctors: [],
    receptions: [
      { username: `empfang.${rand(2)}`, display_name: 'Empfang', password: pw() },
      { username: `empfang.b.${rand(2)}`, display_name: 'Empfang B', password: pw() },
    ],
  });
  return { janus, origin, practice };
}

const stats = async (janus) => (await janus.admin({ request: 'stats' })).logins;

test('staff page: device token kept and used under a user-name lockout; busy retried with a notice; reset_password notice', { timeout: 180_000 }, async () => {
  const { janus, origin, practice } = await step('start Janus + nginx', startLoginStack(), 60_000);
  const { connectHandle } = await import(harness('client.mjs'));
  const clients = [];
  open.add({ close: async () => { for (const c of clients) await c.close().catch(() => {}); } });
  const handle = async () => {
    const c = await connectHandle(janus.wsUrl);
    clients.push(c.client);
    return c.handle;
  };
  const [rec, recB] = practice.receptions;
  const art = artifacts('staff-login-chromium');
  const browser = await launchChromium('staff-login');
  open.add(browser);
  const page = await browser.newPage();
  const consoleLines = [];
  watchConsole(page, 'reception', consoleLines);
  const d = drive(page, 'reception');
  const login = async (who) => {
    await d.fill('#username', who.username);
    await d.fill('#password', who.password);
    await d.click('#login');
  };

  // 1. First login: the page keeps the device token for this user name.
  await d.goto(`${origin}/reception.html`);
  await login(rec);
  await d.waitVisible('#app-view');
  const token = await page.evaluate((u) => window.localStorage.getItem(`consult.device.${u}`), rec.username);
  assert.match(token || '', /^[A-Za-z0-9_-]{43}$/, 'device token in localStorage');
  await d.click('#logout');
  await d.waitVisible('#login-view');

  // 2. Strangers lock the user name; this browser still gets in (token sent).
  for (let i = 0; i < 5; i++) {
    const h = await handle();
    const r = await h.request({ request: 'login', username: rec.username, password: `wrong-${i}-${rand(3)}` });
    assert.equal(r.error, 'login_failed');
  }
  const h = await handle();
  assert.equal((await h.request({ request: 'login', username: rec.username, password: rec.password })).error, 'rate_limited');
  await login(rec);
  await d.waitVisible('#app-view');
  await art.shot(page, 'in-despite-lockout');
  const token2 = await page.evaluate((u) => window.localStorage.getItem(`consult.device.${u}`), rec.username);
  assert.ok(token2 && token2 !== token, 'the rotated token replaced the old one');

  // 3. reset_password: the page shows why it was logged out and forgets the token.
  const newPw = `Pw-${rand(8)}`;
  assert.equal((await janus.admin({ request: 'reset_password', username: rec.username, password: newPw })).ok, true);
  await d.waitVisible('#login-view');
  await waitFor('password_reset notice', async () => /Passwort wurde geändert/.test(await d.text('#login-notice')));
  await art.shot(page, 'password-reset-notice');
  assert.equal(await page.evaluate((u) => window.localStorage.getItem(`consult.device.${u}`), rec.username), null);

  // 4. A storm holds the only password check: the page's login (user B, no
  //    token on this browser) is answered busy, says so calmly and retries.
  let storming = true;
  const storm = Array.from({ length: 6 }, async (_, i) => {
    const sh = await handle();
    while (storming) {
      await sh.request({ request: 'login', username: `ghost${i}.${rand(3)}`, password: `wrong-${rand(4)}` }, { timeout: 60_000 });
    }
  });
  await waitFor('storm holds the check', async () => (await stats(janus)).active >= 1, 20_000, 1);
  const busy0 = (await stats(janus)).busy;
  // The page's first request may (rarely) find the check free between two
  // storm requests: then log out, forget the token and try again.
  for (let attempt = 1; ; attempt++) {
    await login(recB);
    const seen = await waitFor('busy notice or logged in', async () => {
      if (/automatisch wiederholt/.test(await d.text('#login-notice'))) return 'busy';
      return (await page.isVisible('#app-view')) ? 'in' : null;
    }, 20_000, 5);
    if (seen === 'busy' || attempt >= 3) break;
    await d.click('#logout');
    await d.waitVisible('#login-view');
    await page.evaluate((u) => window.localStorage.removeItem(`consult.device.${u}`), recB.username);
  }
  assert.match(await d.text('#login-notice'), /automatisch wiederholt/, 'the page showed the busy notice');
  await art.shot(page, 'busy-notice');
  assert.ok((await stats(janus)).busy > busy0, 'the plugin answered busy');
  storming = false;
  await Promise.all(storm);
  await d.waitVisible('#app-view', 30_000);
  await waitFor('notice gone after the login', async () => !(await page.isVisible('#login-notice')));
  assert.match(await page.evaluate((u) => window.localStorage.getItem(`consult.device.${u}`), recB.username) || '', /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(consoleLines.filter((l) => /error/i.test(l) && !/favicon/.test(l)), []);
});
