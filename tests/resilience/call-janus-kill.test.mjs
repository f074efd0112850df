// SIGKILL Janus during a P2P call: media keeps flowing on both sides while the
// server is away (same RTCPeerConnection, frames decoded throughout), both
// pages re-attach to the same visit, the doctor hangs up through the page
// and the patient sees the closing page; reception's status stays in_call
// until the hang-up, then ended. Steps: call.mjs; evidence in
// tests/artifacts/resilience-call-janus-kill/.
import { test } from 'node:test';
import { callOutage } from './call.mjs';

test('SIGKILL Janus during a P2P call: the call goes on, re-attaches, hangs up normally', { timeout: 300_000 }, async () => {
  await callOutage({ name: 'resilience-call-janus-kill', outage: 'janus-kill', relay: false });
});
