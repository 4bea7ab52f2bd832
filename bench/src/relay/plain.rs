//! The relay without SRTP: plain RTP on both sides, an [`RtpLeg`] each
//! (the browser side latched like the PBX side) and the [`Bridge`]: the
//! bridge's own cost.
//!
//! Timed, per direction: [`RtpLeg::handle_receive`] on the receiving side,
//! [`Bridge::handle_rtp`] rewriting the packet in place, and its copy into
//! the other side's sink (the socket send); then the legs' and the
//! bridge's due timers (RTCP reports). Not timed: the peers writing their
//! packets, and checking what arrived.

use std::net::SocketAddr;
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use sbc_core::media::bridge::{Bridge, Side};
use sbc_core::media::rtp::{Ssrc, write_packet};
use sbc_core::media::rtp_leg::{Accepted, RtpLeg, RtpLegConfig};

use super::sink::Sink;
use super::{
    OPUS_PBX, RelayConfig, RelayReport, TICK, Timed, WARMUP_TICKS, addr, bridge_config,
    payload_len, timed,
};
use crate::live_bytes;

/// The browser side's Opus payload type in this setup.
const OPUS_BROWSER: u8 = 111;

const PAYLOAD: [u8; 160] = [0xa5; 160];

/// The gateway's state of one call: what the memory figures count.
struct Call {
    browser: RtpLeg,
    bridge: Bridge,
    pbx: RtpLeg,
}

/// One side's simulated peer: its address, stream, and what it receives.
struct Peer {
    addr: SocketAddr,
    ssrc: Ssrc,
    pt: u8,
    seq: u16,
    ts: u32,
    /// Its packet of this tick (empty when it sends none).
    out: Vec<u8>,
    /// What the gateway sent it.
    inbox: Sink,
}

impl Peer {
    fn new(addr: SocketAddr, ssrc: u32, pt: u8) -> Self {
        Self {
            addr,
            ssrc: Ssrc(ssrc),
            pt,
            seq: 0,
            ts: 0,
            out: Vec::with_capacity(200),
            inbox: Sink::default(),
        }
    }

    fn write(&mut self, len: usize) {
        self.out.clear();
        write_packet(
            &mut self.out,
            self.pt,
            false,
            self.seq,
            self.ts,
            self.ssrc,
            &PAYLOAD[..len],
        );
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(960);
    }
}

/// Runs the benchmark with plain RTP on both sides.
pub fn run(config: RelayConfig) -> RelayReport {
    #[allow(clippy::disallowed_methods)]
    let epoch = Instant::now();
    let mut rng = StdRng::seed_from_u64(1);
    let n = config.calls;
    let mut calls = Vec::with_capacity(n);
    let mut peers = Vec::with_capacity(n);
    let mut created = 0i64;
    for i in 0..n {
        let browser = Peer::new(
            addr([10, 0, 0, 0], i, 50_000),
            0x2000 + i as u32,
            OPUS_BROWSER,
        );
        let pbx = Peer::new(addr([172, 16, 0, 0], i, 4000), 0x1000 + i as u32, OPUS_PBX);
        let before = live_bytes();
        calls.push(Box::new(Call {
            browser: RtpLeg::new(epoch, RtpLegConfig::default(), Some(browser.addr)),
            bridge: Bridge::new(epoch, bridge_config(OPUS_BROWSER), 0, &mut rng),
            pbx: RtpLeg::new(epoch, RtpLegConfig::default(), Some(pbx.addr)),
        }));
        created += live_bytes() - before;
        peers.push([browser, pbx]);
    }

    let mut now = epoch;
    let mut ignored = Timed::default();
    let (mut relayed, mut arrived, mut wrong) = ([0; 2], [0; 2], 0);
    let mut time = Timed::default();
    for k in 0..WARMUP_TICKS + config.ticks() {
        let t = if k < WARMUP_TICKS {
            &mut ignored
        } else {
            &mut time
        };
        let (r, a, w) = tick(&mut calls, &mut peers, now, k, t);
        if k >= WARMUP_TICKS {
            relayed[0] += r[0];
            relayed[1] += r[1];
        }
        arrived[0] += a[0];
        arrived[1] += a[1];
        wrong += w;
        now += TICK;
    }
    let sent = (WARMUP_TICKS + config.ticks()) * n as u64;

    let held = live_bytes();
    drop(calls);
    let after = held - live_bytes();
    RelayReport {
        config,
        browser_to_pbx: relayed[0],
        pbx_to_browser: relayed[1],
        lost: sent.abs_diff(arrived[0]) + sent.abs_diff(arrived[1]) + wrong,
        timed: time,
        bytes_per_call_created: created as f64 / n as f64,
        bytes_per_call_after: after as f64 / n as f64,
        srtp_profile: None,
    }
}

/// One tick at `now`, packet `k` of each stream: relayed and arrived packets
/// per direction (browser → PBX first), and packets that arrived wrong.
fn tick(
    calls: &mut [Box<Call>],
    peers: &mut [[Peer; 2]],
    now: Instant,
    k: u64,
    time: &mut Timed,
) -> ([u64; 2], [u64; 2], u64) {
    for (i, [browser, pbx]) in peers.iter_mut().enumerate() {
        browser.write(payload_len(i, k));
        pbx.write(payload_len(i + 1, k));
    }
    let relayed = [
        timed(&mut time.browser_to_pbx, || {
            timed_relay(calls, peers, now, Side::Browser)
        }),
        timed(&mut time.pbx_to_browser, || {
            timed_relay(calls, peers, now, Side::Pbx)
        }),
    ];
    timed(&mut time.timers, || timed_timers(calls, peers, now));

    let (mut arrived, mut wrong) = ([0; 2], 0);
    for (call, [browser, pbx]) in calls.iter().zip(peers.iter_mut()) {
        let (good, bad) = pbx.inbox.check(OPUS_PBX, call.bridge.ssrc(Side::Pbx));
        arrived[0] += good;
        wrong += bad;
        let (good, bad) = browser
            .inbox
            .check(OPUS_BROWSER, call.bridge.ssrc(Side::Browser));
        arrived[1] += good;
        wrong += bad;
    }
    (relayed, arrived, wrong)
}

/// The gateway takes every packet of the tick from side `from`.
#[inline(never)]
fn timed_relay(calls: &mut [Box<Call>], peers: &mut [[Peer; 2]], now: Instant, from: Side) -> u64 {
    let mut relayed = 0;
    for (call, pair) in calls.iter_mut().zip(peers.iter_mut()) {
        let (leg, src, dst) = match (from, pair) {
            (Side::Browser, [b, p]) => (&mut call.browser, b, p),
            (Side::Pbx, [b, p]) => (&mut call.pbx, p, b),
        };
        if !matches!(
            leg.handle_receive(now, src.addr, &src.out),
            Ok(Accepted::Rtp(_))
        ) {
            continue;
        }
        if call.bridge.handle_rtp(now, from, &mut src.out).is_ok() {
            dst.inbox.deliver(&src.out);
            relayed += 1;
        }
    }
    relayed
}

/// The gateway's due timers.
#[inline(never)]
fn timed_timers(calls: &mut [Box<Call>], peers: &mut [[Peer; 2]], now: Instant) {
    for (call, _) in calls.iter_mut().zip(peers.iter_mut()) {
        if call.bridge.poll_timeout().is_some_and(|t| t <= now) {
            call.bridge.handle_timeout(now);
            while let Some(t) = call.bridge.poll_transmit() {
                std::hint::black_box(&t.packet);
            }
        }
        while call.bridge.poll_event().is_some() {}
        for leg in [&mut call.browser, &mut call.pbx] {
            if leg.poll_timeout().is_some_and(|t| t <= now) {
                leg.handle_timeout(now);
            }
            while leg.poll_event().is_some() {}
        }
    }
}
