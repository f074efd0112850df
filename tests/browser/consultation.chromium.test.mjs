// End-to-end consultation with every participant in Chromium: reception
// books, the patient (own Chromium instance) joins and waits, the doctor
// calls, both browsers connect peer to peer (host/host, frames decoded),
// Janus' admin API shows no PeerConnection on any consult handle, the doctor
// hangs up and the patient sees the closing page. See flow.mjs for the
// steps; screenshots in tests/artifacts/consultation-chromium/.
import { after, test } from 'node:test';
import { cleanupAll, consultationFlow } from './flow.mjs';
import { launchChromium } from './lib.mjs';

after(cleanupAll);

test('consultation: reception -> patient (Chromium) -> doctor (Chromium) -> call -> hangup', { timeout: 300_000 }, async () => {
  await consultationFlow({
    testName: 'consultation-chromium',
    launchPatient: () => launchChromium('patient'),
  });
});
