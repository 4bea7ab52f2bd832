#!/usr/bin/env bash
# Seeds the fuzz corpora from the RFC 4475 torture messages, at run time:
# fuzz/corpus/ is git-ignored and rebuilt from sbc-core/tests/data/rfc4475.
#   parse_message, frame_datagram: each message as it is;
#   stream_framer: each message behind a control byte and two chunk sizes
#     (see fuzz_targets/stream_framer.rs), and every message twice in a row;
#   parse_uri: each Request-URI and each <…> URI of the messages;
#   parse_headers: each header value of the messages;
#   parse_sdp: each message body (most are SDP).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="$here/../sbc-core/tests/data/rfc4475"
corpus="$here/corpus"
mkdir -p "$corpus"/{parse_message,frame_datagram,stream_framer,parse_uri,parse_headers,parse_sdp,webrtc_sdp}

for f in "$data"/*.dat; do
    name="$(basename "$f" .dat)"
    cp "$f" "$corpus/parse_message/$name"
    cp "$f" "$corpus/frame_datagram/$name"
    { printf '\001\037\006'; cat "$f"; } > "$corpus/stream_framer/$name"
    { printf '\002\377\010\077'; cat "$f" "$f"; } > "$corpus/stream_framer/$name-twice"
    # The Request-URI, and every URI between angle brackets.
    head -n 1 "$f" | LC_ALL=C awk '{ print $2 }' | tr -d '\n' > "$corpus/parse_uri/$name-ruri"
    { LC_ALL=C grep -ao '<[^<>]*>' "$f" || true; } | tr -d '<>' | LC_ALL=C awk -v d="$corpus/parse_uri" -v n="$name" \
        '{ f = sprintf("%s/%s-%d", d, n, NR); printf "%s", $0 > f; close(f) }'
    # Every header value up to the blank line (folded lines stay separate).
    LC_ALL=C awk -v d="$corpus/parse_headers" -v n="$name" '
        NR == 1 { next }
        /^\r?$/ { exit }
        { sub(/\r$/, ""); v = $0; if (v !~ /^[ \t]/) sub(/^[^:]*:[ \t]*/, "", v);
          f = sprintf("%s/%s-%d", d, n, NR); printf "%s", v > f; close(f) }' "$f"
    # The body: everything after the first blank line.
    LC_ALL=C awk 'body { print } /^\r?$/ { body = 1 }' "$f" > "$corpus/parse_sdp/$name"
    [[ -s "$corpus/parse_sdp/$name" ]] || rm -f "$corpus/parse_sdp/$name"
done
# webrtc_sdp: the SDP bodies, and a browser offer as Chromium writes one
# (audio with a data channel), with a re-offer that restarts ICE.
cp "$corpus"/parse_sdp/* "$corpus/webrtc_sdp/"
offer='v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 9 0 8 110 126\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F:20\r\na=setup:actpass\r\na=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\na=ssrc:1111 cname:browser\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sctp-port:5000\r\n'
printf "$offer" > "$corpus/webrtc_sdp/chromium-offer"
printf "${offer//abcd/wxyz}" > "$corpus/webrtc_sdp/chromium-offer-ice-restart"
printf "${offer//actpass/active}" > "$corpus/webrtc_sdp/chromium-answer"
for t in parse_message frame_datagram stream_framer parse_uri parse_headers parse_sdp webrtc_sdp; do
    echo "$t: $(find "$corpus/$t" -type f | wc -l) seeds"
done
