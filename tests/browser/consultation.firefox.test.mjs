// End-to-end consultation with the PATIENT in Firefox ESR (puppeteer-core
// over WebDriver BiDi) and reception and doctor in Chromium: same flow as
// the Chromium test (flow.mjs), so Firefox <-> Chromium interoperability of
// the signaling (offer/answer/candidates in plugin messages) is proven with
// frames decoded on both sides and a host/host path. Screenshots in
// tests/artifacts/consultation-firefox/.
import { after, test } from 'node:test';
import { cleanupAll, consultationFlow } from './flow.mjs';
import { launchFirefox } from './lib.mjs';

after(cleanupAll);

test('consultation: reception -> patient (Firefox ESR) -> doctor (Chromium) -> call -> hangup', { timeout: 300_000 }, async () => {
  await consultationFlow({
    testName: 'consultation-firefox',
    launchPatient: () => launchFirefox('patient'),
  });
});
