// support.test.mjs - html/js/support.mjs' browserSupport() on described
// windows (no browser): which missing part makes a browser unable to hold a
// call, and that an http: page is the server's fault, not the browser's.
// The real browser case (WebKitGTK without WebRTC) is webkit.test.mjs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSupport } from '../../html/js/support.mjs';

function win({ pc = true, gum = true, media = true, ws = true, secure = true } = {}) {
  return {
    RTCPeerConnection: pc ? function RTCPeerConnection() {} : undefined,
    WebSocket: ws ? function WebSocket() {} : undefined,
    isSecureContext: secure,
    navigator: { mediaDevices: media ? { getUserMedia: gum ? async () => ({}) : undefined } : undefined },
  };
}

test('browserSupport: calls only with RTCPeerConnection, getUserMedia and WebSocket', () => {
  assert.deepEqual(browserSupport(win()), { calls: true, missing: [] });
  assert.deepEqual(browserSupport(win({ pc: false })), { calls: false, missing: ['webrtc'] });
  assert.deepEqual(browserSupport(win({ media: false })), { calls: false, missing: ['media'] });
  assert.deepEqual(browserSupport(win({ gum: false })), { calls: false, missing: ['media'] });
  assert.deepEqual(browserSupport(win({ ws: false })), { calls: false, missing: ['websocket'] });
  assert.deepEqual(browserSupport(win({ pc: false, media: false, ws: false })), { calls: false, missing: ['webrtc', 'media', 'websocket'] });
});

test('browserSupport: no getUserMedia on an http: page is marked insecure (the server is at fault)', () => {
  assert.deepEqual(browserSupport(win({ media: false, secure: false })), { calls: false, missing: ['media', 'insecure'] });
  // a secure page without getUserMedia is the browser's lack
  assert.deepEqual(browserSupport(win({ media: false, secure: true })), { calls: false, missing: ['media'] });
});
