// An nginx reload during a P2P call with worker_shutdown_timeout (as
// conf/nginx-consult-main.conf): the old worker exits within the timeout
// instead of keeping the pages' WebSockets for an hour, closing them; both
// pages reconnect through the new worker and re-attach to the same visit,
// media keeps flowing throughout, the doctor hangs up through the page and
// the patient sees the closing page; reception's status stays in_call until
// the hang-up. Steps: call.mjs; evidence in
// tests/artifacts/resilience-call-nginx-reload/.
import { test } from 'node:test';
import { callOutage } from './call.mjs';

test('an nginx reload during a P2P call: old worker gone after worker_shutdown_timeout, the call goes on and re-attaches', { timeout: 300_000 }, async () => {
  await callOutage({ name: 'resilience-call-nginx-reload', outage: 'nginx-reload' });
});
