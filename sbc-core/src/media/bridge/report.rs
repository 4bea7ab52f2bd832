//! RTCP terminated per side: incoming compounds update that side's
//! statistics (the peer's SR for our LSR/DLSR, its report blocks on our
//! stream for RTT and the loss it sees); outgoing SR/RR + SDES CNAME are
//! generated from the gateway's own statistics with its own SSRC.

use super::{Bridge, BridgeError, BridgeEvent, Side, Transmit};
use crate::media::rtcp::{
    Report, RtcpPacket, SenderInfo, ntp_compact, parse_compound, to_compact, write_sdes_cname,
};
use std::time::Instant;

/// Maps the monotonic `Instant`s of the core onto NTP time, from one
/// wall-clock reading the runtime gave at creation.
#[derive(Debug, Clone, Copy)]
pub(super) struct NtpClock {
    anchor: Instant,
    ntp: u64,
}

impl NtpClock {
    pub(super) fn new(anchor: Instant, ntp: u64) -> Self {
        NtpClock { anchor, ntp }
    }

    /// The 64-bit NTP timestamp at `now`.
    pub(super) fn at(&self, now: Instant) -> u64 {
        let d = now.saturating_duration_since(self.anchor);
        let frac = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
        self.ntp.wrapping_add(d.as_secs() << 32).wrapping_add(frac)
    }
}

impl Bridge {
    /// Takes one RTCP compound received from `from` at `now`. It is never
    /// forwarded; the other side gets the gateway's own reports.
    pub fn handle_rtcp(&mut self, now: Instant, from: Side, buf: &[u8]) -> Result<(), BridgeError> {
        let s = &mut self.sides[from.idx()];
        let packets = match parse_compound(buf) {
            Ok(p) => p,
            Err(e) => {
                s.stats.dropped_malformed += 1;
                return Err(e.into());
            }
        };
        let arrival = ntp_compact(self.ntp.at(now));
        for p in packets {
            match p {
                RtcpPacket::Report(r) => {
                    if let Some(info) = r.sender
                        && s.rx_ssrc.is_none_or(|ssrc| ssrc == r.ssrc)
                    {
                        s.last_sr = Some((ntp_compact(info.ntp), now));
                    }
                    for b in r.blocks.iter().filter(|b| b.ssrc == s.tx.ssrc) {
                        if let Some(rtt) = b.rtt(arrival) {
                            s.stats.rtt = Some(rtt);
                        }
                        s.stats.remote_fraction_lost = Some(b.fraction_lost_f64());
                    }
                }
                RtcpPacket::Bye { .. } => self.events.push_back(BridgeEvent::Bye { side: from }),
                RtcpPacket::Feedback { .. } => s.stats.feedback_received += 1,
                _ => {}
            }
        }
        Ok(())
    }

    /// Queues the gateway's report toward `side`: an SR if it has sent
    /// media there, else an RR; a report block on the stream received from
    /// that side; an SDES CNAME.
    pub(super) fn report(&mut self, now: Instant, side: Side) {
        let ntp = self.ntp.at(now);
        let s = &mut self.sides[side.idx()];
        let block = s.rx_ssrc.map(|ssrc| {
            let (lsr, dlsr) = s.last_sr.map_or((0, 0), |(lsr, at)| {
                (lsr, to_compact(now.saturating_duration_since(at)))
            });
            s.rx.report_block(ssrc, lsr, dlsr)
        });
        let sender = (s.tx.packets > 0).then(|| SenderInfo {
            ntp,
            rtp_ts: s.tx.ts_at(now, s.config.clock_rate),
            // Both counters wrap, as RFC 3550 §6.4.1 lets them.
            packet_count: s.tx.packets as u32,
            octet_count: s.tx.bytes as u32,
        });
        let mut packet = Vec::with_capacity(96);
        Report {
            ssrc: s.tx.ssrc,
            sender,
            blocks: block.into_iter().collect(),
        }
        .write(&mut packet);
        write_sdes_cname(&mut packet, s.tx.ssrc, self.cname.as_bytes());
        self.transmits.push_back(Transmit {
            to: side,
            rtcp: true,
            packet,
        });
        s.next_report += self.rtcp_interval;
        if s.next_report <= now {
            s.next_report = now + self.rtcp_interval;
        }
    }
}
