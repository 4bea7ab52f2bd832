// SDP the way the gateway's browser leg writes it, for tests that stand in
// for the gateway: an ICE-lite answer to a browser's offer, and an ICE-lite
// offer for an incoming call. They are accepted by the browser's
// setRemoteDescription; the candidate points at 127.0.0.1:9 (discard), so
// no media ever flows.
import { randomBytes } from 'node:crypto';

const CANDIDATE = 'a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host';

function fingerprint() {
  return `a=fingerprint:sha-256 ${[...randomBytes(32)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')}`;
}

function iceCredentials() {
  return [`a=ice-ufrag:${randomBytes(4).toString('hex')}`, `a=ice-pwd:${randomBytes(12).toString('hex')}`];
}

/**
 * Answers a browser's offer: every offered line kept but the browser's own
 * ICE credentials, candidates, fingerprint, stream ids and SSRCs, which are
 * replaced by the gateway's; passive DTLS role; ICE-lite.
 * @param {string} offer
 * @returns {string}
 */
export function answerFor(offer) {
  const dropped = /^a=(candidate|end-of-candidates|ice-ufrag|ice-pwd|ice-options|fingerprint|setup|msid|ssrc|ssrc-group|extmap-allow-mixed)\b/;
  const out = [];
  let media = false;
  for (const line of offer.split(/\r?\n/)) {
    if (!line || dropped.test(line)) continue;
    if (line.startsWith('m=')) {
      if (!media) out.push('a=ice-lite');
      media = true;
      out.push(line, ...iceCredentials(), fingerprint(), 'a=setup:passive', CANDIDATE, 'a=msid:gateway gateway-audio');
      continue;
    }
    out.push(line);
  }
  return `${out.join('\r\n')}\r\n`;
}

/**
 * An audio offer like the one the gateway sends with `incoming`.
 * @returns {string}
 */
export function gatewayOffer() {
  return [
    'v=0',
    `o=- ${Date.now()} 1 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=ice-lite',
    'a=group:BUNDLE 0',
    'a=msid-semantic: WMS gateway',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126',
    'c=IN IP4 127.0.0.1',
    'a=rtcp:9 IN IP4 0.0.0.0',
    ...iceCredentials(),
    fingerprint(),
    'a=setup:actpass',
    'a=mid:0',
    'a=sendrecv',
    'a=msid:gateway gateway-audio',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:126 telephone-event/8000',
    'a=ssrc:1111 cname:gateway',
    CANDIDATE,
    '',
  ].join('\r\n');
}
