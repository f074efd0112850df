// store-failure.chromium.test.mjs - the patient page on a full disk (real
// Chromium, nginx, Janus; the SQLite file on a small tmpfs mounted for this
// test; needs root, runs in the loopback namespace like every browser test).
//
// The join is answered `internal` (SQLITE_FULL): the page sends it again by
// itself, and after the third failure shows #internal-error "… bitte rufen
// Sie die Praxis an: <phone>" with a tel: link. Once the filler file is
// gone, the next click on #start joins the waiting room without a restart.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { REPO, artifacts, closeAll, drive, harness, launchChromium, step, waitFor, watchConsole } from './lib.mjs';

const PHONE = '0721-5550199';

test('patient page: join fails on a full disk, retried by itself, then "bitte rufen Sie die Praxis an" with the number; joins after space is freed', { timeout: 180_000 }, async () => {
  const { startJanus, freePort } = await import(harness('janus.mjs'));
  const { startNginx } = await import(harness('nginx.mjs'));
  const { seedPractice } = await import(harness('seed.mjs'));
  const { connectHandle } = await import(harness('client.mjs'));
  const art = artifacts('store-failure-chromium');
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'consult-disk-'));
  const filler = path.join(mnt, 'filler');
  const consoleLines = [];
  let mounted = false, janus = null, nginx = null, browser = null, staff = null;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0700', 'consult-test-disk', mnt]);
    mounted = true;
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    janus = await step('start Janus', startJanus({ publicUrl: origin, dataDir: mnt }), 40_000);
    nginx = await step('start nginx', startNginx({ root: path.join(REPO, 'html'), janusWsUrl: janus.wsUrl, port }), 20_000);
    const tag = Math.random().toString(36).slice(2, 8);
    const practice = await seedPractice(janus, {
      slug: `praxis-disk-${tag}`, name: 'Praxis Volle Platte', phone: PHONE,
      receptions: [{ username: `empfang.${tag}`, display_name: 'Empfang', password: `empfang-pass-${tag}` }],
    });
    staff = await connectHandle(janus.wsUrl);
    await staff.handle.call({ request: 'login', username: practice.receptions[0].username, password: practice.receptions[0].password });
    const appt = await staff.handle.call({ request: 'create_appointment', starts_at: Math.floor(Date.now() / 1000) + 60 });

    // The disk fills up while Janus runs. First wait until the timer's
    // checkpoint has emptied the -wal file after the writes above: a
    // truncation after the fill would free space, and the next join would
    // pass.
    const wal = path.join(mnt, 'consult.sqlite-wal');
    await waitFor('the -wal file emptied by the timer', () => { try { return fs.statSync(wal).size === 0; } catch { return true; } }, 60_000);
    try { execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' }); } catch { /* ENOSPC */ }
    try { execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=512', 'oflag=append', 'conv=notrunc'], { stdio: 'ignore' }); } catch { /* ENOSPC */ }
    const h = await janus.admin({ request: 'health' });
    assert.equal(h.store, 'failing', JSON.stringify(h));

    browser = await step('launch Chromium', launchChromium('patient'), 40_000);
    const page = await browser.newPage();
    watchConsole(page, 'patient', consoleLines);
    const pat = drive(page, 'patient');
    await pat.goto(`${origin}/patient.html?p=${practice.slug}#${appt.code}`);
    await pat.fill('#first-name', 'Volker');
    await pat.fill('#last-name', 'Platte');
    await pat.check('#accept-terms');
    await pat.click('#start');
    const joinFailures = () => (janus.log().match(/\[consult\] join failed: internal \(SQLITE_FULL\)/g) || []).length;
    await pat.waitVisible('#internal-error', 20_000);
    await art.shot(page, 'internal-error');
    const text = await pat.text('#internal-error');
    assert.match(text, /bitte rufen Sie die Praxis an: 0721-5550199\.$/, text);
    assert.equal(await pat.attr('#internal-error a', 'href'), 'tel:07215550199');
    assert.equal(await pat.evaluate(() => window.consult.state), 'form');
    // Three joins reached the plugin: the first and two retries by the page.
    await waitFor('three failed joins in the Janus log', () => joinFailures() >= 3, 10_000);
    assert.equal(joinFailures(), 3, 'the page stops after three tries');

    // Space is back: no restart, the next click joins the waiting room.
    fs.rmSync(filler);
    await waitFor('health ok again', async () => (await janus.admin({ request: 'health' })).store === 'ok', 20_000);
    await pat.click('#start');
    await pat.waitVisible('#waiting', 20_000);
    assert.equal(await pat.evaluate(() => window.consult.state), 'waiting');
    assert.equal(await pat.visible('#internal-error'), false);
    await art.shot(page, 'waiting');
  } catch (err) {
    if (consoleLines.length) console.log(consoleLines.slice(-20).join('\n'));
    if (janus) console.log(janus.log().split('\n').filter((l) => l.includes('[consult]')).slice(-20).join('\n'));
    throw err;
  } finally {
    await closeAll(browser, staff && staff.client, nginx);
    if (janus) {
      const exit = await janus.stop();
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(!/Volker|Platte/.test(janus.log()), 'patient names in the Janus log');
    }
    if (mounted) {
      try { execFileSync('umount', [mnt]); } catch { execFileSync('umount', ['-l', mnt]); }
    }
    fs.rmSync(mnt, { recursive: true, force: true });
  }
});
