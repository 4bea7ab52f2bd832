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
mkdir -p "$corpus"/{parse_message,frame_datagram,stream_framer,parse_uri,parse_headers,parse_sdp}

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
for t in parse_message frame_datagram stream_framer parse_uri parse_headers parse_sdp; do
    echo "$t: $(find "$corpus/$t" -type f | wc -l) seeds"
done
