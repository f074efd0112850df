// Forged TURN credentials: Janus mints them with a secret that is not
// coturn's, the practice is relay-only (so only TURN could connect): coturn
// refuses them (401 for a request that carried the minted user name, and no
// allocation succeeds) and both pages show #call-error (data-error
// "turn_auth", "ice_failed" or, once the doctor's page asked to forward and
// the practice forbids it, "no_path") within a bounded time instead of
// hanging. The practice's forwarding policy is "never" here: with
// forwarding allowed the call would move through Janus (tests/nat/forward*).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { waitFor } from '../browser/lib.mjs';
import { cleanupAll, scenario } from './lab.mjs';

after(cleanupAll);

const ERROR_WITHIN_MS = 90_000;

test('forged TURN credentials: coturn says 401, the pages show #call-error', { timeout: 300_000 }, async () => {
  const sc = await scenario({
    name: 'forged', nat: true, block: true, relayOnly: true, forward: 'never',
    coturnSecret: 'coturn-real-secret-0123456789', turnSecret: 'forged-secret-not-coturns-9876543210',
  });
  let failed = true;
  try {
    for (const [who, page] of [['patient', sc.call.patPage], ['doctor', sc.call.docPage]]) {
      const err = await waitFor(`${who}: #call-error visible with data-error`, () => page.evaluate(() => {
        const el = document.querySelector('#call-error');
        if (!el || el.hidden) return null;
        const st = getComputedStyle(el);
        if (st.display === 'none' || st.visibility === 'hidden') return null;
        const code = el.getAttribute('data-error');
        return code ? { code, text: el.textContent.replace(/\s+/g, ' ').trim() } : null;
      }), ERROR_WITHIN_MS, 250);
      assert.ok(['turn_auth', 'ice_failed', 'no_path'].includes(err.code), `${who}: data-error ${err.code}`);
      assert.ok(err.text.length > 10, `${who}: #call-error has a message (${err.text})`);
      await sc.shot(page, `${who}-call-error`);
    }
    const state = await sc.call.patPage.evaluate(() => window.consult.pc && window.consult.pc.connectionState);
    assert.notEqual(state, 'connected', 'patient: no connection without TURN');
    // coturn's live log (flushed per line), waited on while it runs.
    await sc.stack.coturn.waitLog('a 401 for a request with the minted user name', /user <\d+:[^>]+>[^\n]*error 401/);
    failed = false;
  } finally {
    await sc.finish(failed);
  }
  // Read after coturn exited: every line it ever wrote is in the file.
  const log = sc.logs.coturnLog || '';
  assert.match(log, /user <\d+:[^>]+>[^\n]*error 401/, 'coturn: 401 for a request with the minted user name');
  assert.doesNotMatch(log, /ALLOCATE processed, success/, 'coturn: no allocation succeeded');
});
