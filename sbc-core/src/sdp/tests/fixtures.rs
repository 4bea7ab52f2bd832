//! Realistic session descriptions, as browsers and PBXs write them.

/// An offer in the style Chromium 12x emits for one audio track.
pub const CHROME_OFFER: &str = "v=0\r
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
a=group:BUNDLE 0\r
a=extmap-allow-mixed\r
a=msid-semantic: WMS 8b0b2e1c-6d0c-4f3a-9d49-5d7e0c1f2a3b\r
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r
c=IN IP4 0.0.0.0\r
a=rtcp:9 IN IP4 0.0.0.0\r
a=candidate:3124587610 1 udp 2122260223 127.0.0.1 51234 typ host generation 0 network-id 1\r
a=candidate:1876313031 1 udp 2122194687 4f2a7c1e-3b6d-4e8f-9a0b-1c2d3e4f5a6b.local 51235 typ host generation 0 network-id 2\r
a=ice-ufrag:Xb9q\r
a=ice-pwd:Ybp3K9xJ4nQwL8vR2tZ7mA1c\r
a=ice-options:trickle\r
a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r
a=setup:actpass\r
a=mid:0\r
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=sendrecv\r
a=msid:8b0b2e1c-6d0c-4f3a-9d49-5d7e0c1f2a3b 3f1c9a7e-2b4d-4c6e-8f0a-1b2c3d4e5f60\r
a=rtcp-mux\r
a=rtcp-rsize\r
a=rtpmap:111 opus/48000/2\r
a=rtcp-fb:111 transport-cc\r
a=fmtp:111 minptime=10;useinbandfec=1\r
a=rtpmap:63 red/48000/2\r
a=fmtp:63 111/111\r
a=rtpmap:9 G722/8000\r
a=rtpmap:0 PCMU/8000\r
a=rtpmap:8 PCMA/8000\r
a=rtpmap:13 CN/8000\r
a=rtpmap:110 telephone-event/48000\r
a=rtpmap:126 telephone-event/8000\r
a=ssrc:1001669237 cname:k3Jw9mZpQ2xY7vTb\r
a=ssrc:1001669237 msid:8b0b2e1c-6d0c-4f3a-9d49-5d7e0c1f2a3b 3f1c9a7e-2b4d-4c6e-8f0a-1b2c3d4e5f60\r
";

/// Asterisk (chan_pjsip) answering with PCMU and telephone-event/101.
pub const ASTERISK_ANSWER: &str = "v=0\r
o=- 1718000000 1718000002 IN IP4 192.168.1.20\r
s=Asterisk\r
c=IN IP4 192.168.1.20\r
t=0 0\r
m=audio 17826 RTP/AVP 0 101\r
a=rtpmap:0 PCMU/8000\r
a=rtpmap:101 telephone-event/8000\r
a=fmtp:101 0-16\r
a=ptime:20\r
a=maxptime:150\r
a=sendrecv\r
";

/// Asterisk putting the call on hold the RFC 2543 way, in a re-INVITE.
pub const ASTERISK_HOLD_OFFER: &str = "v=0\r
o=- 1718000000 1718000003 IN IP4 192.168.1.20\r
s=Asterisk\r
c=IN IP4 0.0.0.0\r
t=0 0\r
m=audio 17826 RTP/AVP 0 101\r
a=rtpmap:0 PCMU/8000\r
a=rtpmap:101 telephone-event/8000\r
a=fmtp:101 0-16\r
a=ptime:20\r
a=sendrecv\r
";

/// FreeSWITCH offering a call toward the browser (bare LF line ends, as
/// some proxies rewrite them).
pub const FREESWITCH_OFFER: &str = "v=0
o=FreeSWITCH 1718012345 1718012346 IN IP4 10.20.30.40
s=FreeSWITCH
c=IN IP4 10.20.30.40
t=0 0
m=audio 24680 RTP/AVP 102 9 0 8 101 13
a=rtpmap:102 opus/48000/2
a=fmtp:102 useinbandfec=1; maxaveragebitrate=30000; maxplaybackrate=48000; ptime=20; minptime=10; maxptime=40
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=rtpmap:13 CN/8000
a=ptime:20
a=sendrecv
a=rtcp:24681 IN IP4 10.20.30.40
";

/// Chrome answering the gateway's offer made from [`FREESWITCH_OFFER`].
pub const CHROME_ANSWER: &str = "v=0\r
o=- 2890844526 2 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
a=group:BUNDLE 0\r
a=msid-semantic: WMS\r
m=audio 9 UDP/TLS/RTP/SAVPF 102 9 0 8 101\r
c=IN IP4 0.0.0.0\r
a=rtcp:9 IN IP4 0.0.0.0\r
a=candidate:3124587610 1 udp 2122260223 127.0.0.1 53012 typ host generation 0 network-id 1\r
a=ice-ufrag:Qz7w\r
a=ice-pwd:Pf8s1kD3rT6yU9iO2pA5sD7f\r
a=ice-options:trickle\r
a=fingerprint:sha-256 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00\r
a=setup:active\r
a=mid:0\r
a=sendrecv\r
a=msid:- 5e1a6b9c-0d2f-4a3b-8c7d-6e5f4a3b2c1d\r
a=rtcp-mux\r
a=rtpmap:102 opus/48000/2\r
a=fmtp:102 minptime=10;useinbandfec=1\r
a=rtpmap:9 G722/8000\r
a=rtpmap:0 PCMU/8000\r
a=rtpmap:8 PCMA/8000\r
a=rtpmap:101 telephone-event/8000\r
a=ssrc:2231627014 cname:Yk8qR3mZ0pWc5xNe\r
";
