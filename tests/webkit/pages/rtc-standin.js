// rtc-standin.js: for the WebKit tests only, never part of the pages. A test
// nginx (tests/webkit/lib.mjs, startStandIn) puts it into patient.html ahead
// of every other script. WebKitGTK is built without WebRTC; Safari has it.
// With this stand-in the page sees an RTCPeerConnection (and
// RTCRtpSender.getCapabilities, which janus.js asks Safari), as in Safari, so
// what comes before a call (first page, waiting room, device check) can be
// checked in WebKit's engine as a Safari user gets it. It cannot connect
// anything: constructing it throws and is counted in
// window.__rtcStandinUsed (the tests require 0: nothing before a call may
// need a PeerConnection).
(function () {
  'use strict';
  if (typeof window.RTCPeerConnection === 'function') return;   // a browser with WebRTC: leave it
  window.__rtcStandinUsed = 0;
  function RTCPeerConnection() {
    window.__rtcStandinUsed += 1;
    throw new DOMException('WebKitGTK test browser: no WebRTC (rtc-standin.js)', 'NotSupportedError');
  }
  RTCPeerConnection.prototype = {};
  window.RTCPeerConnection = RTCPeerConnection;
  // janus.js asks Safari (webrtc-adapter's browser detection) for its codecs
  // at init: the answer Safari gives, never used for a call here.
  function RTCRtpSender() { throw new TypeError('Illegal constructor'); }
  RTCRtpSender.getCapabilities = function (kind) {
    return kind === 'video'
      ? { codecs: [{ mimeType: 'video/H264', clockRate: 90000 }, { mimeType: 'video/VP8', clockRate: 90000 }], headerExtensions: [] }
      : { codecs: [{ mimeType: 'audio/opus', clockRate: 48000, channels: 2 }], headerExtensions: [] };
  };
  window.RTCRtpSender = RTCRtpSender;
})();
