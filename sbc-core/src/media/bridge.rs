//! The per-call relay between the browser leg and the PBX leg, working on
//! packet buffers in place.
//!
//! For each RTP packet from one side the bridge updates that side's receive
//! statistics, maps the payload type ([`PtMap`]; unknown types are dropped
//! and counted), decodes RFC 4733 events into [`BridgeEvent::Dtmf`], and
//! rewrites SSRC, sequence number and timestamp so that each side sees one
//! stable gateway SSRC with continuous numbering, even when the incoming
//! SSRC changes (re-INVITE, transfer): a change re-bases the offsets from
//! the last packet sent. The caller then sends the same buffer to the other
//! side. DTMF can be injected toward a side ([`Bridge::send_dtmf`]).
//!
//! RTCP is terminated per side, never forwarded: incoming reports update
//! that side's statistics (RTT from the peer's report on our stream), and
//! the bridge regenerates SR/RR toward each side from its own statistics,
//! with its own SSRCs ([`Bridge::poll_transmit`]).

mod inject;
mod report;

use super::dtmf::{DetectedDigit, DtmfError, DtmfReceiver, TelephoneEvent};
use super::emodel::{self, CodecImpairment};
use super::rtcp::RtcpError;
use super::rtp::{RtpError, RtpMut, Ssrc};
use super::stats::{ReceiveStats, SeqOutcome};
use rand::{Rng, RngCore};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// How far (in packets) a stream must have gone past an injection's floor
/// before the floor is forgotten: 20 s of 20 ms packets, far beyond any
/// reordering a jitter buffer or the SRTP replay window (64) would accept.
const FLOOR_HORIZON: u16 = 1000;

/// One of the two sides of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The WebRTC leg toward the browser.
    Browser,
    /// The RTP leg toward the PBX.
    Pbx,
}

impl Side {
    /// The side packets from this one are relayed to.
    pub fn other(self) -> Side {
        match self {
            Side::Browser => Side::Pbx,
            Side::Pbx => Side::Browser,
        }
    }

    fn idx(self) -> usize {
        self as usize
    }
}

/// Payload-type mapping from the numbers one side uses to those of the
/// other side (built from the two SDPs by the caller).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PtMap(HashMap<u8, u8>);

impl PtMap {
    /// An empty map: every payload type is dropped.
    pub fn new() -> Self {
        PtMap::default()
    }

    /// Maps incoming payload type `from` to outgoing `to`.
    pub fn insert(&mut self, from: u8, to: u8) {
        self.0.insert(from & 0x7f, to & 0x7f);
    }

    /// The outgoing payload type of incoming `pt`.
    pub fn get(&self, pt: u8) -> Option<u8> {
        self.0.get(&pt).copied()
    }

    /// The same mapping the other way round.
    pub fn inverse(&self) -> PtMap {
        PtMap(self.0.iter().map(|(&a, &b)| (b, a)).collect())
    }
}

impl FromIterator<(u8, u8)> for PtMap {
    fn from_iter<I: IntoIterator<Item = (u8, u8)>>(iter: I) -> Self {
        let mut m = PtMap::new();
        for (a, b) in iter {
            m.insert(a, b);
        }
        m
    }
}

/// What the bridge knows of one side's media.
#[derive(Debug, Clone)]
pub struct SideConfig {
    /// RTP clock rate of the audio codec (8000 for G.711, 48000 for Opus).
    pub clock_rate: u32,
    /// This side's telephone-event payload type, if negotiated.
    pub telephone_event_pt: Option<u8>,
    /// E-model values of the codec, for the MOS estimate.
    pub codec: CodecImpairment,
}

/// Configuration of a bridge.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// The browser side.
    pub browser: SideConfig,
    /// The PBX side.
    pub pbx: SideConfig,
    /// Browser payload types to PBX payload types.
    pub browser_to_pbx: PtMap,
    /// PBX payload types to browser payload types.
    pub pbx_to_browser: PtMap,
    /// The CNAME in the gateway's SDES (never one of the peers').
    pub cname: String,
    /// Interval between the gateway's RTCP reports to each side.
    pub rtcp_interval: Duration,
    /// Packet interval of injected DTMF.
    pub dtmf_interval: Duration,
}

/// Why the bridge dropped a packet or refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// A malformed RTP packet (the sender's fault).
    #[error("malformed RTP: {0}")]
    Rtp(#[from] RtpError),
    /// A malformed RTCP packet (the sender's fault).
    #[error("malformed RTCP: {0}")]
    Rtcp(#[from] RtcpError),
    /// A payload type the other side did not negotiate (dropped, counted).
    #[error("payload type {0} has no mapping")]
    UnknownPayloadType(u8),
    /// A sequence-number jump not yet confirmed by a second packet (A.1).
    #[error("sequence number jump")]
    SequenceJump,
    /// A packet arriving after a newer one was relayed and a DTMF packet
    /// was injected since: its sequence number on the other side is taken.
    #[error("late packet from before an injected DTMF packet")]
    LateAfterInjection,
    /// DTMF injection toward a side that has no telephone-event type.
    #[error("no telephone-event payload type toward this side")]
    NoTelephoneEvent,
    /// DTMF injection of a character that is not a key.
    #[error(transparent)]
    Dtmf(#[from] DtmfError),
}

/// What the bridge reports to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BridgeEvent {
    /// A DTMF key press received from a side (relayed as well).
    Dtmf {
        /// Where it came from.
        from: Side,
        /// The key press.
        digit: DetectedDigit,
    },
    /// A side's incoming SSRC changed; sequence and timestamp were re-based.
    SourceChanged {
        /// The side.
        side: Side,
        /// The new SSRC.
        ssrc: Ssrc,
    },
    /// A side sent an RTCP BYE.
    Bye {
        /// The side.
        side: Side,
    },
}

/// A packet the bridge itself produced (RTCP reports, injected DTMF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The side to send it to.
    pub to: Side,
    /// True for RTCP, false for RTP.
    pub rtcp: bool,
    /// The packet.
    pub packet: Vec<u8>,
}

/// Statistics of one side, as the gateway sees and sends to it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LegStats {
    /// RTP packets received from this side (dropped ones included).
    pub packets_received: u64,
    /// RTP payload bytes received from this side.
    pub bytes_received: u64,
    /// RTP packets sent to this side (relayed and injected).
    pub packets_sent: u64,
    /// RTP payload bytes sent to this side.
    pub bytes_sent: u64,
    /// Packets lost from this side's current stream.
    pub packets_lost: i64,
    /// Fraction lost from this side's current stream, 0.0..=1.0.
    pub loss_fraction: f64,
    /// Interarrival jitter of this side's stream.
    pub jitter: Duration,
    /// Round-trip time to this side, from its reports on our stream.
    pub rtt: Option<Duration>,
    /// Fraction of our stream this side last reported lost.
    pub remote_fraction_lost: Option<f64>,
    /// MOS estimate of what we receive from this side (E-model: one-way
    /// delay RTT/2 plus a jitter buffer of twice the jitter, loss as seen).
    pub mos: f64,
    /// Packets dropped for an unmapped payload type.
    pub dropped_unknown_pt: u64,
    /// Packets dropped as malformed or as unconfirmed sequence jumps.
    pub dropped_malformed: u64,
    /// Late packets dropped because a DTMF packet was injected after a
    /// newer one ([`BridgeError::LateAfterInjection`]).
    pub dropped_late: u64,
    /// Feedback packets (RTPFB/PSFB) received and not forwarded.
    pub feedback_received: u64,
}

/// The gateway's stream toward one side.
#[derive(Debug)]
struct Tx {
    ssrc: Ssrc,
    /// Re-base the offsets on the next relayed packet.
    resync: bool,
    seq_offset: u16,
    ts_offset: u32,
    /// Highest sequence number sent.
    max_seq: u16,
    /// The incoming sequence number of the newest packet relayed before the
    /// last injected one. An older packet arriving now would be renumbered,
    /// with the offset the injection moved, onto a sequence number already
    /// sent (twice the same SRTP index toward the browser): it is dropped.
    /// Forgotten once the stream is [`FLOOR_HORIZON`] packets past it.
    floor: Option<u16>,
    /// Timestamp of the newest packet sent, and when.
    last_ts: u32,
    last_at: Option<Instant>,
    packets: u64,
    bytes: u64,
}

impl Tx {
    /// The timestamp "now" on this stream, extrapolated from the last one.
    fn ts_at(&self, now: Instant, clock_rate: u32) -> u32 {
        let Some(at) = self.last_at else {
            return self.last_ts;
        };
        let elapsed = now.saturating_duration_since(at);
        let ticks = elapsed.as_micros() * u128::from(clock_rate) / 1_000_000;
        self.last_ts.wrapping_add(ticks as u32)
    }

    /// Records one packet sent with sequence number `seq`, timestamp `ts`.
    fn sent(&mut self, now: Instant, seq: u16, ts: Option<u32>, len: usize) {
        if seq.wrapping_sub(self.max_seq) < 0x8000 {
            self.max_seq = seq;
            if let Some(ts) = ts {
                self.last_ts = ts;
                self.last_at = Some(now);
            }
        }
        self.packets += 1;
        self.bytes += len as u64;
    }
}

/// One side: what we receive from it and what we send to it.
#[derive(Debug)]
struct SideState {
    config: SideConfig,
    rx_ssrc: Option<Ssrc>,
    rx: ReceiveStats,
    dtmf_rx: DtmfReceiver,
    tx: Tx,
    stats: LegStats,
    /// Compact NTP of the last SR received from this side, and when.
    last_sr: Option<(u32, Instant)>,
    next_report: Instant,
    dtmf_out: inject::DtmfOut,
}

/// The per-call relay core; see the module docs.
#[derive(Debug)]
pub struct Bridge {
    sides: [SideState; 2],
    maps: [PtMap; 2],
    cname: String,
    rtcp_interval: Duration,
    dtmf_interval: Duration,
    ntp: report::NtpClock,
    events: VecDeque<BridgeEvent>,
    transmits: VecDeque<Transmit>,
}

impl Bridge {
    /// A bridge created at `now`, when the wall clock reads `ntp_now` (a
    /// 64-bit NTP timestamp the runtime supplies; only used in SRs). The
    /// gateway's SSRCs, initial sequence numbers and timestamps and the
    /// phase of its RTCP reports come from `rng`.
    pub fn new(
        now: Instant,
        config: BridgeConfig,
        ntp_now: u64,
        rng: &mut (impl RngCore + ?Sized),
    ) -> Self {
        let browser_ssrc = Ssrc(rng.random_range(1..=u32::MAX));
        let mut pbx_ssrc = Ssrc(rng.random_range(1..=u32::MAX));
        while pbx_ssrc == browser_ssrc {
            pbx_ssrc = Ssrc(rng.random_range(1..=u32::MAX));
        }
        let interval = config.rtcp_interval.max(Duration::from_millis(100));
        let mut side = |c: SideConfig, ssrc: Ssrc| SideState {
            rx: ReceiveStats::new(c.clock_rate),
            config: c,
            rx_ssrc: None,
            dtmf_rx: DtmfReceiver::default(),
            tx: Tx {
                ssrc,
                resync: true,
                seq_offset: 0,
                ts_offset: 0,
                max_seq: rng.random(),
                floor: None,
                last_ts: rng.random(),
                last_at: None,
                packets: 0,
                bytes: 0,
            },
            stats: LegStats::default(),
            last_sr: None,
            // RFC 3550 §6.2: the first report after a random fraction of
            // the interval, so calls set up together do not report together.
            next_report: now + interval.mul_f64(rng.random_range(0.5..1.5)),
            dtmf_out: inject::DtmfOut::default(),
        };
        let sides = [
            side(config.browser, browser_ssrc),
            side(config.pbx, pbx_ssrc),
        ];
        Bridge {
            sides,
            maps: [config.browser_to_pbx, config.pbx_to_browser],
            cname: config.cname,
            rtcp_interval: interval,
            dtmf_interval: config.dtmf_interval.max(Duration::from_millis(10)),
            ntp: report::NtpClock::new(now, ntp_now),
            events: VecDeque::new(),
            transmits: VecDeque::new(),
        }
    }

    /// A new offer/answer (a re-INVITE, a codec change): new payload-type
    /// maps and side settings. The gateway's SSRCs stay, and the sequence
    /// numbers and timestamps it sends each side go on without a jump.
    pub fn renegotiate(&mut self, config: BridgeConfig) {
        let [browser, pbx] = &mut self.sides;
        for (side, c) in [(browser, config.browser), (pbx, config.pbx)] {
            if side.config.clock_rate != c.clock_rate {
                side.rx = ReceiveStats::new(c.clock_rate);
            }
            side.config = c;
            // What comes next may come from a new source or codec: the
            // gateway's numbering goes on from where it stands.
            side.tx.resync = true;
        }
        self.maps = [config.browser_to_pbx, config.pbx_to_browser];
    }

    /// Makes `ssrc` the gateway's SSRC toward `side`: the browser leg's,
    /// which its SDP announced. Should the other side's be the same, that
    /// one changes.
    pub fn set_ssrc(&mut self, side: Side, ssrc: Ssrc) {
        self.sides[side.idx()].tx.ssrc = ssrc;
        let other = &mut self.sides[1 - side.idx()].tx;
        if other.ssrc == ssrc {
            other.ssrc = Ssrc(ssrc.0.wrapping_add(1).max(1));
        }
    }

    /// The gateway's SSRC toward `side`: the only SSRC that side ever sees.
    pub fn ssrc(&self, side: Side) -> Ssrc {
        self.sides[side.idx()].tx.ssrc
    }

    /// Relays one RTP packet received from `from` at `now`, rewritten in
    /// place (same length) for the other side, whose [`Side`] is returned.
    /// On error the packet must be dropped.
    pub fn handle_rtp(
        &mut self,
        now: Instant,
        from: Side,
        buf: &mut [u8],
    ) -> Result<Side, BridgeError> {
        let to = from.other();
        let mut packet = match RtpMut::new(buf) {
            Ok(p) => p,
            Err(e) => {
                self.sides[from.idx()].stats.dropped_malformed += 1;
                return Err(e.into());
            }
        };
        let v = packet.view();
        let (pt, seq, ts, ssrc) = (
            v.payload_type(),
            v.sequence_number(),
            v.timestamp(),
            v.ssrc(),
        );
        let payload_len = v.payload().len();
        let event = TelephoneEvent::parse(v.payload()).ok();

        let src = &mut self.sides[from.idx()];
        src.stats.packets_received += 1;
        src.stats.bytes_received += payload_len as u64;
        let is_event = Some(pt) == src.config.telephone_event_pt;
        let mut resync = false;
        if src.rx_ssrc != Some(ssrc) {
            if src.rx_ssrc.is_some() {
                tracing::debug!(%ssrc, ?from, "bridge: incoming SSRC changed");
                self.events
                    .push_back(BridgeEvent::SourceChanged { side: from, ssrc });
            }
            src.rx_ssrc = Some(ssrc);
            src.rx = ReceiveStats::new(src.config.clock_rate);
            src.dtmf_rx = DtmfReceiver::default();
            src.last_sr = None;
            resync = true;
        }
        let mut late = false;
        match src.rx.record(now, seq, ts, payload_len, !is_event) {
            SeqOutcome::Jump => {
                src.stats.dropped_malformed += 1;
                return Err(BridgeError::SequenceJump);
            }
            SeqOutcome::Restarted => resync = true,
            SeqOutcome::Late => late = true,
            SeqOutcome::InOrder => {}
        }
        let floor = &mut self.sides[to.idx()].tx.floor;
        if let Some(f) = *floor {
            if late && !resync && f.wrapping_sub(seq) < 0x8000 {
                self.sides[from.idx()].stats.dropped_late += 1;
                return Err(BridgeError::LateAfterInjection);
            }
            // Far past the floor, "at or before it" in 16-bit serial
            // arithmetic would soon take in every late packet.
            if !late && seq.wrapping_sub(f) >= FLOOR_HORIZON {
                *floor = None;
            }
        }
        let src = &mut self.sides[from.idx()];
        let Some(out_pt) = self.maps[from.idx()].get(pt) else {
            src.stats.dropped_unknown_pt += 1;
            return Err(BridgeError::UnknownPayloadType(pt));
        };
        if is_event && let Some(digit) = event.and_then(|e| src.dtmf_rx.handle(ts, e)) {
            tracing::info!(?from, ?digit, "bridge: DTMF received");
            self.events.push_back(BridgeEvent::Dtmf { from, digit });
        }

        let dst = &mut self.sides[to.idx()];
        let tx = &mut dst.tx;
        if resync || tx.resync {
            tx.resync = false;
            tx.floor = None;
            let next_ts = tx.ts_at(now, dst.config.clock_rate);
            // Continue right after the last packet sent; leave at least one
            // tick between timestamps of different sources.
            let next_ts = if tx.last_at.is_some() {
                next_ts.wrapping_add(1)
            } else {
                next_ts
            };
            tx.seq_offset = tx.max_seq.wrapping_add(1).wrapping_sub(seq);
            tx.ts_offset = next_ts.wrapping_sub(ts);
            packet.set_marker(true);
        }
        let out_seq = seq.wrapping_add(tx.seq_offset);
        let out_ts = ts.wrapping_add(tx.ts_offset);
        packet.set_payload_type(out_pt);
        packet.set_ssrc(tx.ssrc);
        packet.set_sequence_number(out_seq);
        packet.set_timestamp(out_ts);
        tx.sent(now, out_seq, (!is_event).then_some(out_ts), payload_len);
        tracing::trace!(?from, seq, out_seq, "bridge: relayed");
        Ok(to)
    }

    /// Statistics of `side` at `now`.
    pub fn stats(&self, side: Side) -> LegStats {
        let s = &self.sides[side.idx()];
        let mut stats = s.stats;
        stats.packets_sent = s.tx.packets;
        stats.bytes_sent = s.tx.bytes;
        stats.packets_lost = s.rx.lost();
        stats.loss_fraction = s.rx.loss_fraction();
        stats.jitter = s.rx.jitter_duration();
        let rtt_ms = stats.rtt.map_or(0.0, |r| r.as_secs_f64() * 1000.0);
        let delay_ms = rtt_ms / 2.0 + 2.0 * stats.jitter.as_secs_f64() * 1000.0;
        stats.mos = emodel::mos(delay_ms, stats.loss_fraction * 100.0, s.config.codec);
        stats
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called:
    /// the next RTCP report or injected DTMF packet.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.sides
            .iter()
            .flat_map(|s| [Some(s.next_report), s.dtmf_out.next_due()])
            .flatten()
            .min()
    }

    /// Produces what is due at `now`: RTCP reports and DTMF packets.
    pub fn handle_timeout(&mut self, now: Instant) {
        for side in [Side::Browser, Side::Pbx] {
            self.inject_due(now, side);
            if now >= self.sides[side.idx()].next_report {
                self.report(now, side);
            }
        }
    }

    /// The next packet the bridge produced, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<BridgeEvent> {
        self.events.pop_front()
    }
}
