# syntax=docker/dockerfile:1
#
# The gateway in a container: `docker build -t sbc-gateway .`, or the lab:
# `docker compose up --build` (docker-compose.yml, README "Lab").
#
# Build stage: the official Rust image on Debian bookworm. The workspace's
# rust-version is 1.89 (the oldest compiler it supports); the default here
# is the one this release build was checked with (rustc 1.95.0). Another
# can be chosen, e.g. --build-arg RUST_VERSION=1.89.
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# The registry and target/ are BuildKit caches (kept between builds, not in
# the image), so the binary is taken out in the same step. The release
# profile keeps debug line tables for profiling (debug = 1, 147 MB);
# the image gets the binary without them (18 MB), symbols kept, so a
# panic's backtrace still names its functions.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release -p gateway --locked \
    && strip --strip-debug -o /usr/local/bin/gateway target/release/gateway

# Runtime stage: Debian bookworm slim, the same glibc as the build stage.
# The binary links only glibc and libgcc_s dynamically: its TLS and WebRTC
# crypto (rustls on ring, str0m and SDES-SRTP on aws-lc-rs) is compiled
# into it, so no libssl is needed. distroless/cc would run it as well, but
# it is not on Docker Hub and has no shell, which the HEALTHCHECK below
# needs; bookworm-slim with ca-certificates is a few MB more.
FROM debian:bookworm-slim

# ca-certificates only: the usual trust store in /etc/ssl/certs (the
# gateway reads none today: it verifies no TLS peer against public CAs),
# and openssl, which ca-certificates depends on and the HEALTHCHECK uses.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# Not root. The working directory is the gateway's: the relative default
# paths of http.cert and http.key (certs/gateway.pem, certs/gateway-key.pem)
# land in /var/lib/sbc-gateway/certs, where it generates its self-signed
# pair on first start when both are missing (mount a volume there to keep
# it, or your own certificate; see certs/README.md).
RUN groupadd --system --gid 10001 sbc \
    && useradd --system --uid 10001 --gid sbc --no-create-home \
       --home-dir /var/lib/sbc-gateway --shell /usr/sbin/nologin sbc \
    && install -d -o sbc -g sbc /var/lib/sbc-gateway /var/lib/sbc-gateway/certs

COPY --from=build /usr/local/bin/gateway /usr/local/bin/gateway

WORKDIR /var/lib/sbc-gateway
USER 10001:10001

# 8443/tcp  HTTPS: web client, /ws, /metrics, /healthz, /readyz (http.listen)
# 5060      SIP over UDP and TCP (sip.listen)
# 10000/udp WebRTC media of every browser call (media.webrtc_port)
# 20000-20099/udp  RTP toward the PBX as the lab configures it
#           (SBC_MEDIA_RTP_PORTS=20000-20099 in docker-compose.yml; the
#           binary's default media.rtp_ports is 20000-29999): publish the
#           range you configure.
# Inside a container, media.public_ip defaults to the container's own
# address; set SBC_MEDIA_PUBLIC_IP to the address browsers reach.
EXPOSE 8443/tcp 5060/udp 5060/tcp 10000/udp 20000-20099/udp

# Liveness: GET /healthz over HTTPS on the default http.listen port, with
# the openssl that ca-certificates brings (no curl in this image). Not
# /readyz: that one is 503 while the PBX does not answer or while draining,
# which is no reason to call the process unhealthy.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD printf 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' \
        | openssl s_client -quiet -connect 127.0.0.1:8443 2>/dev/null \
        | head -n 1 | grep -q ' 200 '

# On SIGTERM the gateway drains: it turns not-ready (/readyz 503), refuses
# new calls and lets calls in progress go on for shutdown.grace_secs
# (default 300), then ends the rest with BYE and exits; a second SIGTERM
# ends them at once. Give `docker stop -t` (compose: stop_grace_period)
# more than shutdown.grace_secs, or Docker kills it before the drain ends.
STOPSIGNAL SIGTERM

ENTRYPOINT ["/usr/local/bin/gateway"]
