//! The relay with SRTP on the browser side: per call a [`WebRtcLeg`]
//! connected to a str0m peer playing the browser, a [`Bridge`] and an
//! [`RtpLeg`] toward a PBX sending plain RTP. All browser legs share one
//! port and the [`Demux`], as in the gateway.
//!
//! Timed (the gateway's work, what a runtime would do per datagram):
//! - browser → PBX: [`Demux::route`], [`WebRtcLeg::handle_input`] (STUN
//!   answered, SRTP/SRTCP unprotected), its outputs polled; each RTP packet
//!   is written into a buffer, [`Bridge::handle_rtp`] rewrites it and it is
//!   copied into the PBX's sink (the socket send);
//! - PBX → browser: [`RtpLeg::handle_receive`], [`Bridge::handle_rtp`], the
//!   packet handed to [`WebRtcLeg::send_rtp`], the leg's outputs polled
//!   (SRTP protection happens there) and copied into the browser's sink;
//! - timers: the leg's, the bridge's (RTCP reports) and the RTP leg's.
//!
//! Not timed: the browser peer producing its SRTP datagrams and taking the
//! gateway's, the PBX writing its RTP packets, and checking what arrived.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sbc_core::media::bridge::{Bridge, Side};
use sbc_core::media::rtp::{RtpView, Ssrc, write_packet};
use sbc_core::media::rtp_leg::{Accepted, RtpLeg, RtpLegConfig};
use sbc_core::media::webrtc::{Demux, Event, LegId, Output, RtpPacket, WebRtcConfig, WebRtcLeg};

use super::browser::Browser;
use super::sink::Sink;
use super::{
    OPUS_PBX, RelayConfig, RelayReport, TICK, Timed, WARMUP_TICKS, addr, bridge_config,
    payload_len, timed,
};
use crate::live_bytes;

/// The gateway's address for browser media (the shared WebRTC port).
fn gateway_addr() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], 10_000))
}

/// The gateway's state of one call: what the memory figures count.
struct Call {
    leg: WebRtcLeg,
    bridge: Bridge,
    rtp: RtpLeg,
    /// When the leg's timers are next due.
    leg_deadline: Instant,
}

/// The gateway: its calls and the demux of the shared port.
struct Gateway {
    local: SocketAddr,
    demux: Demux,
    /// Boxed one by one, as a runtime holds its calls: the memory per call
    /// counts each call's own struct.
    #[allow(clippy::vec_box)]
    calls: Vec<Box<Call>>,
    /// The buffer a browser's decrypted RTP packet is written into for the
    /// bridge (one per thread in a runtime, not per call).
    scratch: Vec<u8>,
    unroutable: u64,
    rtcp_to_pbx: u64,
    rtcp_to_browser: u64,
}

/// The simulated peers of one call and the wires between them and the
/// gateway; not the gateway's memory.
struct Peers {
    browser: Browser,
    pbx: SocketAddr,
    pbx_ssrc: Ssrc,
    pbx_seq: u16,
    pbx_ts: u32,
    /// The browser's datagrams of this tick.
    to_gateway: Vec<Vec<u8>>,
    /// The PBX's packet of this tick (empty when it sends none).
    from_pbx: Vec<u8>,
    to_browser: Sink,
    to_pbx: Sink,
}

/// Counters of one phase of the run.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    browser_to_pbx: u64,
    pbx_to_browser: u64,
    arrived_at_pbx: u64,
    wrong_at_pbx: u64,
}

impl Counts {
    fn add(&mut self, c: Counts) {
        self.browser_to_pbx += c.browser_to_pbx;
        self.pbx_to_browser += c.pbx_to_browser;
        self.arrived_at_pbx += c.arrived_at_pbx;
        self.wrong_at_pbx += c.wrong_at_pbx;
    }
}

const PAYLOAD: [u8; 160] = [0xa5; 160];

/// Runs the benchmark with SRTP on the browser side.
pub fn run(config: RelayConfig) -> RelayReport {
    #[allow(clippy::disallowed_methods)]
    let epoch = Instant::now();
    let mut rng = StdRng::seed_from_u64(1);
    let local = gateway_addr();
    let n = config.calls;
    let mut gw = Gateway {
        local,
        demux: Demux::new(),
        calls: Vec::with_capacity(n),
        scratch: Vec::with_capacity(1500),
        unroutable: 0,
        rtcp_to_pbx: 0,
        rtcp_to_browser: 0,
    };
    // One configuration, and so one DTLS certificate, for every leg, as in
    // the gateway's media runtime.
    let webrtc = WebRtcConfig::new(local);
    let mut peers = Vec::with_capacity(n);
    let mut created = 0i64;
    for i in 0..n {
        let (mut browser, offer) = Browser::new(epoch, addr([10, 0, 0, 0], i, 50_000));
        let pbx = addr([172, 16, 0, 0], i, 4000);
        let before = live_bytes();
        let (leg, answer) = WebRtcLeg::accept_offer(epoch, &webrtc, &offer, &mut rng)
            .expect("the leg answers the browser's offer");
        let mut bridge = Bridge::new(epoch, bridge_config(browser.opus_pt()), 0, &mut rng);
        bridge.set_ssrc(Side::Browser, Ssrc(leg.ssrc()));
        let rtp = RtpLeg::new(epoch, RtpLegConfig::default(), Some(pbx));
        gw.demux.insert_leg(LegId(i as u64), leg.local_ufrag());
        gw.calls.push(Box::new(Call {
            leg,
            bridge,
            rtp,
            leg_deadline: epoch,
        }));
        // The answer goes to the browser; it is not the call's state.
        created += live_bytes() - before - answer.capacity() as i64;
        browser.accept_answer(&answer);
        peers.push(Peers {
            browser,
            pbx,
            pbx_ssrc: Ssrc(0x1000 + i as u32),
            pbx_seq: 0,
            pbx_ts: 0,
            to_gateway: Vec::new(),
            from_pbx: Vec::with_capacity(200),
            to_browser: Sink::default(),
            to_pbx: Sink::default(),
        });
    }

    // Connect (ICE, DTLS) in 1 ms steps, untimed.
    let mut now = epoch;
    let mut ignored = Timed::default();
    let mut k = 0;
    while !(gw.calls.iter().all(|c| c.leg.is_connected())
        && peers.iter().all(|p| p.browser.connected))
    {
        assert!(
            now - epoch < Duration::from_secs(10),
            "calls did not connect"
        );
        tick(&mut gw, &mut peers, now, None, &mut ignored);
        now += Duration::from_millis(1);
    }
    // Every tick's counts, for the check that all sent packets arrived.
    let mut all = Counts::default();
    for _ in 0..WARMUP_TICKS {
        all.add(tick(&mut gw, &mut peers, now, Some(k), &mut ignored));
        now += TICK;
        k += 1;
    }
    let mut time = Timed::default();
    let mut measured = Counts::default();
    for _ in 0..config.ticks() {
        let c = tick(&mut gw, &mut peers, now, Some(k), &mut time);
        measured.add(c);
        all.add(c);
        now += TICK;
        k += 1;
    }
    // Let the last packets arrive, untimed.
    for _ in 0..3 {
        all.add(tick(&mut gw, &mut peers, now, None, &mut ignored));
        now += TICK;
    }
    let sent = k * n as u64;
    let received: u64 = peers.iter().map(|p| p.browser.received).sum();
    let wrong: u64 = peers.iter().map(|p| p.browser.wrong_pt).sum();
    assert_eq!(gw.unroutable, 0, "the demux routes every datagram");

    let srtp_profile = gw.calls[0].leg.srtp_profile().map(|p| p.to_string());
    let held = live_bytes();
    let Gateway { calls, demux, .. } = gw;
    drop(calls);
    drop(demux);
    let after = held - live_bytes();

    RelayReport {
        config,
        browser_to_pbx: measured.browser_to_pbx,
        pbx_to_browser: measured.pbx_to_browser,
        lost: sent.abs_diff(all.arrived_at_pbx)
            + all.wrong_at_pbx
            + sent.abs_diff(received)
            + wrong,
        timed: time,
        bytes_per_call_created: created as f64 / n as f64,
        bytes_per_call_after: after as f64 / n as f64,
        srtp_profile,
    }
}

/// One tick at `now`: packet `k` of each stream when `media` is `Some(k)`.
fn tick(
    gw: &mut Gateway,
    peers: &mut [Peers],
    now: Instant,
    media: Option<u64>,
    time: &mut Timed,
) -> Counts {
    // The peers produce this tick's packets (untimed).
    for (i, p) in peers.iter_mut().enumerate() {
        p.to_gateway.clear();
        p.from_pbx.clear();
        if let Some(k) = media {
            p.browser.send_audio(now, payload_len(i, k));
            let len = payload_len(i + 1, k);
            write_packet(
                &mut p.from_pbx,
                OPUS_PBX,
                false,
                p.pbx_seq,
                p.pbx_ts,
                p.pbx_ssrc,
                &PAYLOAD[..len],
            );
            p.pbx_seq = p.pbx_seq.wrapping_add(1);
            p.pbx_ts = p.pbx_ts.wrapping_add(960);
        }
        p.browser.poll(now, &mut p.to_gateway);
    }

    let mut c = Counts {
        browser_to_pbx: timed(&mut time.browser_to_pbx, || {
            timed_browser_to_pbx(gw, peers, now)
        }),
        pbx_to_browser: timed(&mut time.pbx_to_browser, || {
            timed_pbx_to_browser(gw, peers, now)
        }),
        ..Counts::default()
    };
    timed(&mut time.timers, || timed_timers(gw, peers, now));

    // The peers take what the gateway sent (untimed).
    let local = gw.local;
    for (p, call) in peers.iter_mut().zip(&gw.calls) {
        for d in p.to_browser.packets() {
            p.browser.handle_datagram(now, local, d);
        }
        p.to_browser.clear();
        let (good, bad) = p.to_pbx.check(OPUS_PBX, call.bridge.ssrc(Side::Pbx));
        c.arrived_at_pbx += good;
        c.wrong_at_pbx += bad;
    }
    c
}

/// The gateway takes every browser datagram of the tick.
#[inline(never)]
fn timed_browser_to_pbx(gw: &mut Gateway, peers: &mut [Peers], now: Instant) -> u64 {
    let mut relayed = 0;
    for p in peers.iter_mut() {
        let from = p.browser.addr();
        for d in &p.to_gateway {
            let Some(id) = gw.demux.route(from, gw.local, d) else {
                gw.unroutable += 1;
                continue;
            };
            let call = &mut gw.calls[id.0 as usize];
            call.leg.handle_input(now, from, gw.local, d);
            relayed += drain(
                gw.local,
                id,
                call,
                &mut gw.demux,
                &mut gw.scratch,
                (&mut p.to_browser, &mut p.to_pbx),
                now,
            );
        }
    }
    relayed
}

/// The gateway takes every PBX packet of the tick.
#[inline(never)]
fn timed_pbx_to_browser(gw: &mut Gateway, peers: &mut [Peers], now: Instant) -> u64 {
    let mut relayed = 0;
    for (i, p) in peers.iter_mut().enumerate() {
        if p.from_pbx.is_empty() {
            continue;
        }
        let call = &mut gw.calls[i];
        if !matches!(
            call.rtp.handle_receive(now, p.pbx, &p.from_pbx),
            Ok(Accepted::Rtp(_))
        ) {
            continue;
        }
        if call
            .bridge
            .handle_rtp(now, Side::Pbx, &mut p.from_pbx)
            .is_err()
        {
            continue;
        }
        let v = RtpView::parse(&p.from_pbx).expect("the bridge relays valid RTP");
        let packet = RtpPacket {
            ssrc: v.ssrc().0,
            payload_type: v.payload_type(),
            sequence_number: v.sequence_number(),
            timestamp: v.timestamp(),
            marker: v.marker(),
            payload: Bytes::copy_from_slice(v.payload()),
        };
        if call.leg.send_rtp(now, &packet).is_ok() {
            relayed += 1;
        }
        let id = LegId(i as u64);
        drain(
            gw.local,
            id,
            call,
            &mut gw.demux,
            &mut gw.scratch,
            (&mut p.to_browser, &mut p.to_pbx),
            now,
        );
    }
    relayed
}

/// The gateway's due timers.
#[inline(never)]
fn timed_timers(gw: &mut Gateway, peers: &mut [Peers], now: Instant) {
    for (i, p) in peers.iter_mut().enumerate() {
        let call = &mut gw.calls[i];
        if call.leg_deadline <= now {
            call.leg.handle_timeout(now);
            let id = LegId(i as u64);
            drain(
                gw.local,
                id,
                call,
                &mut gw.demux,
                &mut gw.scratch,
                (&mut p.to_browser, &mut p.to_pbx),
                now,
            );
        }
        if call.bridge.poll_timeout().is_some_and(|t| t <= now) {
            call.bridge.handle_timeout(now);
            while let Some(t) = call.bridge.poll_transmit() {
                // The PBX's reports would go out on the RTP leg; the
                // browser's go through the leg (SRTCP).
                match t.to {
                    Side::Pbx => gw.rtcp_to_pbx += 1,
                    Side::Browser => {
                        gw.rtcp_to_browser += 1;
                        let _ = call.leg.send_rtcp(now, &t.packet);
                    }
                }
                std::hint::black_box(&t.packet);
            }
        }
        while call.bridge.poll_event().is_some() {}
        if call.rtp.poll_timeout().is_some_and(|t| t <= now) {
            call.rtp.handle_timeout(now);
        }
        while call.rtp.poll_event().is_some() {}
    }
}

/// Polls a leg until its next deadline: transmits go to the browser, RTP
/// packets through the bridge to the PBX. Returns the packets relayed.
fn drain(
    local: SocketAddr,
    id: LegId,
    call: &mut Call,
    demux: &mut Demux,
    scratch: &mut Vec<u8>,
    (to_browser, to_pbx): (&mut Sink, &mut Sink),
    now: Instant,
) -> u64 {
    let (mut relayed, mut fired) = (0, false);
    loop {
        match call.leg.poll_output() {
            Output::Transmit(t) => to_browser.deliver(&t.contents),
            Output::Event(Event::Rtp(p)) => {
                scratch.clear();
                write_packet(
                    scratch,
                    p.payload_type,
                    p.marker,
                    p.sequence_number,
                    p.timestamp,
                    Ssrc(p.ssrc),
                    &p.payload,
                );
                if call.bridge.handle_rtp(now, Side::Browser, scratch).is_ok() {
                    to_pbx.deliver(scratch);
                    relayed += 1;
                }
            }
            Output::Event(Event::Rtcp(report)) => {
                let _ = call.bridge.handle_rtcp(now, Side::Browser, &report);
            }
            Output::Event(Event::PeerAddress(a)) => demux.learn(id, a, local),
            Output::Event(Event::Disconnected(r)) => panic!("a leg died: {r:?}"),
            Output::Event(_) => {}
            // A deadline already due fires at once, as a runtime's timer
            // would: str0m sends what `send_rtp` queued on its timeout.
            Output::Timeout(t) if t <= now && !fired => {
                fired = true;
                call.leg.handle_timeout(now);
            }
            Output::Timeout(t) => {
                call.leg_deadline = t;
                return relayed;
            }
        }
    }
}
