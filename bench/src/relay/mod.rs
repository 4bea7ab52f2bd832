//! The workload of the relay benchmark (`--bin relay`): N calls relayed
//! through sbc-core's media path on a virtual clock, 50 packets/s each way
//! per call, 20 ms Opus-sized payloads of 80 to 160 bytes, no sockets and no
//! sleeping.
//!
//! Two setups:
//! - [`srtp`]: the browser side is a [`WebRtcLeg`](sbc_core::media::webrtc::WebRtcLeg)
//!   connected (ICE-lite, DTLS-SRTP) to a str0m peer playing the browser, the
//!   PBX side an [`RtpLeg`](sbc_core::media::rtp_leg::RtpLeg) with plain RTP.
//! - [`plain`]: plain RTP on both sides: an `RtpLeg` each, and the bridge.
//!
//! Time advances in 20 ms ticks. Each tick: the simulated peers produce
//! their packets (not timed); the gateway takes the browser's, then the
//! PBX's, then runs its due timers (three timed sections); the peers take
//! what the gateway sent (not timed). Only the gateway's work is in the
//! timed sections; see `docs/benchmarks.md` for exactly what that is.

pub mod plain;
pub mod srtp;

mod browser;
mod sink;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use sbc_core::media::bridge::{BridgeConfig, PtMap, SideConfig};
use sbc_core::media::emodel::CodecImpairment;

/// Packets per second each way per call: one every 20 ms.
pub const TICK: Duration = Duration::from_millis(20);

/// Ticks of traffic before the measured run (1 s), so that latching, SSRC
/// learning and the SRTP profile probe are behind.
pub const WARMUP_TICKS: u64 = 50;

/// The Opus payload type on the PBX side.
pub const OPUS_PBX: u8 = 107;

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct RelayConfig {
    /// Calls relayed at once.
    pub calls: usize,
    /// Seconds of virtual time measured (after the warm-up).
    pub seconds: u64,
}

impl RelayConfig {
    /// Ticks of the measured run.
    pub fn ticks(&self) -> u64 {
        self.seconds * 1000 / TICK.as_millis() as u64
    }
}

/// Wall-clock time spent in the timed sections.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timed {
    /// The gateway taking the browser's datagrams and relaying to the PBX.
    pub browser_to_pbx: Duration,
    /// The gateway taking the PBX's datagrams and relaying to the browser.
    pub pbx_to_browser: Duration,
    /// The gateway's due timers (str0m's, the bridge's RTCP, the RTP leg's).
    pub timers: Duration,
}

impl Timed {
    /// All three sections.
    pub fn total(&self) -> Duration {
        self.browser_to_pbx + self.pbx_to_browser + self.timers
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct RelayReport {
    /// The run.
    pub config: RelayConfig,
    /// Packets the gateway relayed from the browser to the PBX.
    pub browser_to_pbx: u64,
    /// Packets the gateway relayed from the PBX to the browser.
    pub pbx_to_browser: u64,
    /// Packets sent by the peers over the whole run (warm-up included) that
    /// did not arrive at the other peer, or arrived wrong (should be 0).
    pub lost: u64,
    /// Time in the timed sections.
    pub timed: Timed,
    /// Bytes the gateway's per-call state allocated when the call was
    /// created (summed over calls, divided by the number of calls).
    pub bytes_per_call_created: f64,
    /// Bytes the gateway's per-call state held after the run (measured by
    /// dropping it), divided by the number of calls.
    pub bytes_per_call_after: f64,
    /// The SRTP profile negotiated, when there is SRTP.
    pub srtp_profile: Option<String>,
}

impl RelayReport {
    /// Packets relayed both ways.
    pub fn relayed(&self) -> u64 {
        self.browser_to_pbx + self.pbx_to_browser
    }

    /// Relayed packets per second of gateway time (one thread: per core).
    pub fn packets_per_second(&self) -> f64 {
        self.relayed() as f64 / self.timed.total().as_secs_f64()
    }

    /// Gateway nanoseconds per relayed packet, timers included.
    pub fn ns_per_packet(&self) -> f64 {
        ns_per(self.timed.total(), self.relayed())
    }
}

/// Nanoseconds of `d` per one of `n`.
pub fn ns_per(d: Duration, n: u64) -> f64 {
    d.as_nanos() as f64 / n.max(1) as f64
}

/// The payload length of packet `k` of call `call`: 80 to 160 bytes, varied.
pub(crate) fn payload_len(call: usize, k: u64) -> usize {
    80 + ((k * 37 + call as u64 * 11) % 81) as usize
}

/// A distinct address per call, `base` + the call's index in the low 24 bits.
pub(crate) fn addr(base: [u8; 4], call: usize, port: u16) -> SocketAddr {
    let ip = u32::from(Ipv4Addr::from(base)) + call as u32 + 1;
    SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port)
}

/// The bridge's configuration: Opus both sides (the browser's payload type
/// `browser_opus`, the PBX's [`OPUS_PBX`]), RTCP every 5 s, no DTMF.
pub(crate) fn bridge_config(browser_opus: u8) -> BridgeConfig {
    let side = SideConfig {
        clock_rate: 48_000,
        telephone_event_pt: None,
        codec: CodecImpairment::OPUS,
    };
    BridgeConfig {
        browser: side.clone(),
        pbx: side,
        browser_to_pbx: PtMap::from_iter([(browser_opus, OPUS_PBX)]),
        pbx_to_browser: PtMap::from_iter([(OPUS_PBX, browser_opus)]),
        cname: "gateway".into(),
        rtcp_interval: Duration::from_secs(5),
        dtmf_interval: Duration::from_millis(20),
    }
}

/// Runs `f` and adds the wall-clock time it took to `into`.
#[allow(clippy::disallowed_methods)]
pub(crate) fn timed<R>(into: &mut Duration, f: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let r = f();
    *into += start.elapsed();
    r
}
