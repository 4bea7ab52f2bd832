//! RTCP (RFC 3550 §6): compound packet parsing (SR, RR, SDES, BYE, APP;
//! transport- and payload-specific feedback of RFC 4585 kept opaque),
//! report blocks, building SR/RR compounds with an SDES CNAME, and the
//! round-trip time from a report's LSR/DLSR (§6.4.1).

use super::rtp::{RTP_VERSION, Ssrc};
use std::time::Duration;

/// Sender report packet type.
pub const PT_SR: u8 = 200;
/// Receiver report packet type.
pub const PT_RR: u8 = 201;
/// Source description packet type.
pub const PT_SDES: u8 = 202;
/// Goodbye packet type.
pub const PT_BYE: u8 = 203;
/// Application-defined packet type.
pub const PT_APP: u8 = 204;
/// Transport-layer feedback (RFC 4585).
pub const PT_RTPFB: u8 = 205;
/// Payload-specific feedback (RFC 4585).
pub const PT_PSFB: u8 = 206;

/// Why a buffer is not a valid RTCP compound packet; the sender's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtcpError {
    /// Shorter than a 4-byte common header, or a packet's length field
    /// runs past the end of the buffer.
    #[error("RTCP packet truncated")]
    Truncated,
    /// The version field is not 2.
    #[error("RTCP version {0}, expected 2")]
    Version(u8),
    /// A packet's body is too short for its type and count.
    #[error("RTCP packet type {0} too short for its contents")]
    Malformed(u8),
    /// The padding count is zero or larger than the packet.
    #[error("invalid RTCP padding")]
    Padding,
}

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: Ssrc,
    /// Fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost, 24-bit signed (duplicates can make it < 0).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received, 0 if none.
    pub lsr: u32,
    /// Delay since that SR in 1/65536 s, 0 if none.
    pub dlsr: u32,
}

impl ReportBlock {
    const LEN: usize = 24;

    fn parse(b: &[u8]) -> Self {
        let w = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        // Sign-extend the 24-bit cumulative loss.
        let cumulative_lost = (i32::from_be_bytes([b[5], b[6], b[7], 0])) >> 8;
        ReportBlock {
            ssrc: Ssrc(w(0)),
            fraction_lost: b[4],
            cumulative_lost,
            highest_seq: w(8),
            jitter: w(12),
            lsr: w(16),
            dlsr: w(20),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ssrc.0.to_be_bytes());
        out.push(self.fraction_lost);
        let lost = self.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff);
        out.extend_from_slice(&lost.to_be_bytes()[1..]);
        for w in [self.highest_seq, self.jitter, self.lsr, self.dlsr] {
            out.extend_from_slice(&w.to_be_bytes());
        }
    }

    /// The fraction lost as a number in 0.0..1.0.
    pub fn fraction_lost_f64(&self) -> f64 {
        f64::from(self.fraction_lost) / 256.0
    }

    /// Round-trip time computed from this block's LSR/DLSR by the sender of
    /// that SR, given the arrival time of this block in compact NTP.
    pub fn rtt(&self, arrival_ntp_compact: u32) -> Option<Duration> {
        rtt(arrival_ntp_compact, self.lsr, self.dlsr)
    }
}

/// The sender information of an SR (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// 64-bit NTP timestamp of the report.
    pub ntp: u64,
    /// The RTP timestamp corresponding to `ntp`.
    pub rtp_ts: u32,
    /// Packets sent since the start of transmission.
    pub packet_count: u32,
    /// Payload octets sent since the start of transmission.
    pub octet_count: u32,
}

/// A sender report, or a receiver report when `sender` is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// The reporter's SSRC.
    pub ssrc: Ssrc,
    /// Present in an SR.
    pub sender: Option<SenderInfo>,
    /// Up to 31 reception report blocks.
    pub blocks: Vec<ReportBlock>,
}

/// One SDES chunk: a source and its items `(type, value)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesChunk<'a> {
    /// The source described.
    pub ssrc: Ssrc,
    /// Items as `(type, value)`; type 1 is CNAME.
    pub items: Vec<(u8, &'a [u8])>,
}

/// One packet of a compound RTCP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpPacket<'a> {
    /// A sender or receiver report.
    Report(Report),
    /// Source descriptions.
    Sdes(Vec<SdesChunk<'a>>),
    /// Sources leaving, with an optional reason.
    Bye {
        /// The sources leaving.
        ssrcs: Vec<Ssrc>,
        /// The reason text, if any.
        reason: Option<&'a [u8]>,
    },
    /// Application-defined.
    App {
        /// The 5-bit subtype.
        subtype: u8,
        /// The sender.
        ssrc: Ssrc,
        /// Four ASCII characters.
        name: [u8; 4],
        /// Application data.
        data: &'a [u8],
    },
    /// RTPFB or PSFB (RFC 4585), kept opaque.
    Feedback {
        /// [`PT_RTPFB`] or [`PT_PSFB`].
        packet_type: u8,
        /// The FMT field.
        fmt: u8,
        /// The packet sender.
        sender: Ssrc,
        /// The media source the feedback is about.
        media: Ssrc,
        /// Feedback control information.
        fci: &'a [u8],
    },
    /// Any other packet type (XR, ...), kept opaque.
    Other {
        /// The packet type.
        packet_type: u8,
        /// The 5-bit count field.
        count: u8,
        /// The body after the common header, without padding.
        body: &'a [u8],
    },
}

/// Parses a compound RTCP packet into its packets. Every packet must be
/// well formed; one bad length refuses the whole compound (RFC 3550 A.2).
pub fn parse_compound(buf: &[u8]) -> Result<Vec<RtcpPacket<'_>>, RtcpError> {
    let mut out = Vec::new();
    let mut rest = buf;
    if rest.is_empty() {
        return Err(RtcpError::Truncated);
    }
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(RtcpError::Truncated);
        }
        let version = rest[0] >> 6;
        if version != RTP_VERSION {
            return Err(RtcpError::Version(version));
        }
        let len = 4 * (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1);
        if len > rest.len() {
            return Err(RtcpError::Truncated);
        }
        let (packet, tail) = rest.split_at(len);
        rest = tail;
        let mut body = &packet[4..];
        if packet[0] & 0x20 != 0 {
            let pad = usize::from(packet[len - 1]);
            if pad == 0 || pad > body.len() {
                return Err(RtcpError::Padding);
            }
            body = &body[..body.len() - pad];
        }
        out.push(parse_one(packet[1], packet[0] & 0x1f, body)?);
    }
    Ok(out)
}

fn word(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn parse_one(pt: u8, count: u8, body: &[u8]) -> Result<RtcpPacket<'_>, RtcpError> {
    let bad = RtcpError::Malformed(pt);
    let n = usize::from(count);
    match pt {
        PT_SR | PT_RR => {
            let info_len = if pt == PT_SR { 20 } else { 0 };
            if body.len() < 4 + info_len + n * ReportBlock::LEN {
                return Err(bad);
            }
            let sender = (pt == PT_SR).then(|| SenderInfo {
                ntp: (u64::from(word(body, 4)) << 32) | u64::from(word(body, 8)),
                rtp_ts: word(body, 12),
                packet_count: word(body, 16),
                octet_count: word(body, 20),
            });
            let blocks = body[4 + info_len..]
                .chunks_exact(ReportBlock::LEN)
                .take(n)
                .map(ReportBlock::parse)
                .collect();
            Ok(RtcpPacket::Report(Report {
                ssrc: Ssrc(word(body, 0)),
                sender,
                blocks,
            }))
        }
        PT_SDES => parse_sdes(body, n).map(RtcpPacket::Sdes).ok_or(bad),
        PT_BYE => {
            if body.len() < 4 * n {
                return Err(bad);
            }
            let ssrcs = (0..n).map(|i| Ssrc(word(body, 4 * i))).collect();
            let reason = match body.get(4 * n) {
                Some(&len) => Some(
                    body.get(4 * n + 1..4 * n + 1 + usize::from(len))
                        .ok_or(bad)?,
                ),
                None => None,
            };
            Ok(RtcpPacket::Bye { ssrcs, reason })
        }
        PT_APP => {
            if body.len() < 8 {
                return Err(bad);
            }
            Ok(RtcpPacket::App {
                subtype: count,
                ssrc: Ssrc(word(body, 0)),
                name: [body[4], body[5], body[6], body[7]],
                data: &body[8..],
            })
        }
        PT_RTPFB | PT_PSFB => {
            if body.len() < 8 {
                return Err(bad);
            }
            Ok(RtcpPacket::Feedback {
                packet_type: pt,
                fmt: count,
                sender: Ssrc(word(body, 0)),
                media: Ssrc(word(body, 4)),
                fci: &body[8..],
            })
        }
        _ => Ok(RtcpPacket::Other {
            packet_type: pt,
            count,
            body,
        }),
    }
}

fn parse_sdes(mut body: &[u8], chunks: usize) -> Option<Vec<SdesChunk<'_>>> {
    let mut out = Vec::with_capacity(chunks.min(31));
    for _ in 0..chunks {
        let ssrc = Ssrc(word(body.get(..4)?, 0));
        let mut i = 4;
        let mut items = Vec::new();
        loop {
            let ty = *body.get(i)?;
            if ty == 0 {
                // End of list, then pad to the next 32-bit boundary.
                i = (i + 4) & !3;
                break;
            }
            let len = usize::from(*body.get(i + 1)?);
            items.push((ty, body.get(i + 2..i + 2 + len)?));
            i += 2 + len;
        }
        body = body.get(i..)?;
        out.push(SdesChunk { ssrc, items });
    }
    Some(out)
}

fn header(out: &mut Vec<u8>, count: u8, pt: u8) -> usize {
    let start = out.len();
    out.extend_from_slice(&[(RTP_VERSION << 6) | (count & 0x1f), pt, 0, 0]);
    start
}

fn finish(out: &mut [u8], start: usize) {
    let words = (out.len() - start) / 4 - 1;
    let words = u16::try_from(words).expect("RTCP packets we build are far below 256 KiB");
    out[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
}

impl Report {
    /// Appends this report as an SR (with sender info) or RR to `out`. At
    /// most 31 blocks are written (the count field has 5 bits).
    pub fn write(&self, out: &mut Vec<u8>) {
        let blocks = &self.blocks[..self.blocks.len().min(31)];
        let count = u8::try_from(blocks.len()).expect("at most 31 blocks");
        let pt = if self.sender.is_some() { PT_SR } else { PT_RR };
        let start = header(out, count, pt);
        out.extend_from_slice(&self.ssrc.0.to_be_bytes());
        if let Some(s) = &self.sender {
            out.extend_from_slice(&s.ntp.to_be_bytes());
            for w in [s.rtp_ts, s.packet_count, s.octet_count] {
                out.extend_from_slice(&w.to_be_bytes());
            }
        }
        for b in blocks {
            b.write(out);
        }
        finish(out, start);
    }
}

/// Appends an SDES packet with one chunk carrying a CNAME (truncated to 255
/// bytes) to `out`.
pub fn write_sdes_cname(out: &mut Vec<u8>, ssrc: Ssrc, cname: &[u8]) {
    let cname = &cname[..cname.len().min(255)];
    let start = header(out, 1, PT_SDES);
    out.extend_from_slice(&ssrc.0.to_be_bytes());
    out.push(1);
    out.push(u8::try_from(cname.len()).expect("truncated to 255"));
    out.extend_from_slice(cname);
    // The null item ending the list, then padding to a word boundary.
    out.push(0);
    while !(out.len() - start).is_multiple_of(4) {
        out.push(0);
    }
    finish(out, start);
}

/// Appends a BYE for `ssrc` to `out`.
pub fn write_bye(out: &mut Vec<u8>, ssrc: Ssrc) {
    let start = header(out, 1, PT_BYE);
    out.extend_from_slice(&ssrc.0.to_be_bytes());
    finish(out, start);
}

/// The middle 32 bits of a 64-bit NTP timestamp ("compact NTP", the unit of
/// LSR and of the arrival time in [`rtt`]).
pub fn ntp_compact(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// A duration in 1/65536 s (the DLSR unit), saturating.
pub fn to_compact(d: Duration) -> u32 {
    let units = (d.as_secs() << 16) | ((u64::from(d.subsec_nanos()) << 16) / 1_000_000_000);
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// Round-trip time by RFC 3550 §6.4.1: `A − LSR − DLSR`, where `A` is the
/// arrival time of the report in compact NTP. `None` when no SR was received
/// by the reporter yet (LSR 0) or the result is negative (clock trouble).
pub fn rtt(arrival_ntp_compact: u32, lsr: u32, dlsr: u32) -> Option<Duration> {
    if lsr == 0 {
        return None;
    }
    let units = arrival_ntp_compact.wrapping_sub(lsr).wrapping_sub(dlsr);
    if units > 1 << 31 {
        return None;
    }
    let nanos = (u64::from(units) * 1_000_000_000) >> 16;
    Some(Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn block(ssrc: u32, lost: i32) -> ReportBlock {
        ReportBlock {
            ssrc: Ssrc(ssrc),
            fraction_lost: 12,
            cumulative_lost: lost,
            highest_seq: 0x0001_0005,
            jitter: 80,
            lsr: 0x1234_5678,
            dlsr: 0x0001_8000,
        }
    }

    #[test]
    fn sr_sdes_bye_round_trip() {
        let sr = Report {
            ssrc: Ssrc(7),
            sender: Some(SenderInfo {
                ntp: 0x0102_0304_0506_0708,
                rtp_ts: 160,
                packet_count: 50,
                octet_count: 8000,
            }),
            blocks: vec![block(9, -3), block(10, 0x7f_ffff)],
        };
        let mut buf = Vec::new();
        sr.write(&mut buf);
        write_sdes_cname(&mut buf, Ssrc(7), b"gw@example");
        write_bye(&mut buf, Ssrc(7));
        let packets = parse_compound(&buf).unwrap();
        assert_eq!(packets.len(), 3);
        assert_eq!(packets[0], RtcpPacket::Report(sr));
        assert_eq!(
            packets[1],
            RtcpPacket::Sdes(vec![SdesChunk {
                ssrc: Ssrc(7),
                items: vec![(1, &b"gw@example"[..])]
            }])
        );
        assert_eq!(
            packets[2],
            RtcpPacket::Bye {
                ssrcs: vec![Ssrc(7)],
                reason: None
            }
        );
    }

    #[test]
    fn rr_app_and_feedback() {
        let rr = Report {
            ssrc: Ssrc(1),
            sender: None,
            blocks: vec![block(2, 5)],
        };
        let mut buf = Vec::new();
        rr.write(&mut buf);
        // PLI: PSFB FMT 1, sender 1, media 2.
        buf.extend_from_slice(&[0x81, PT_PSFB, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
        // APP subtype 3 name "test", 4 bytes of data.
        buf.extend_from_slice(&[
            0x83, PT_APP, 0, 3, 0, 0, 0, 1, b't', b'e', b's', b't', 1, 2, 3, 4,
        ]);
        let p = parse_compound(&buf).unwrap();
        assert_eq!(p[0], RtcpPacket::Report(rr));
        assert!(matches!(
            p[1],
            RtcpPacket::Feedback {
                packet_type: PT_PSFB,
                fmt: 1,
                media: Ssrc(2),
                ..
            }
        ));
        assert!(matches!(
            p[2],
            RtcpPacket::App {
                subtype: 3,
                name: [b't', b'e', b's', b't'],
                data: [1, 2, 3, 4],
                ..
            }
        ));
    }

    #[test]
    fn malformed_compounds_are_refused() {
        assert_eq!(parse_compound(&[]), Err(RtcpError::Truncated));
        assert_eq!(
            parse_compound(&[0x80, PT_RR, 0, 1]),
            Err(RtcpError::Truncated)
        );
        assert_eq!(
            parse_compound(&[0x40, PT_RR, 0, 0]),
            Err(RtcpError::Version(1))
        );
        // RR claiming one block without room for it.
        assert_eq!(
            parse_compound(&[0x81, PT_RR, 0, 1, 0, 0, 0, 1]),
            Err(RtcpError::Malformed(PT_RR))
        );
        assert_eq!(
            parse_compound(&[0xa0, PT_RR, 0, 1, 0, 0, 0, 9]),
            Err(RtcpError::Padding)
        );
    }

    #[test]
    fn rtt_from_lsr_and_dlsr() {
        // RFC 3550 §6.4.1 example: A = 0xb710:8000 (46864.500 s),
        // LSR = 0xb705:2000 (46853.125 s), DLSR = 0x0005:4000 (5.250 s)
        // gives 6.125 s.
        let r = rtt(0xb710_8000, 0xb705_2000, 0x0005_4000).unwrap();
        assert_eq!(r, Duration::from_millis(6125));
        assert_eq!(rtt(0xb710_8000, 0, 0x0005_4000), None);
        assert_eq!(rtt(0xb705_2000, 0xb705_2000, 1), None);
        assert_eq!(to_compact(Duration::from_millis(5250)), 0x0005_4000);
        assert_eq!(ntp_compact(0x0000_b710_8000_0000), 0xb710_8000);
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = parse_compound(&data);
        }

        #[test]
        fn report_round_trip(ssrc: u32, lost in -0x80_0000i32..0x80_0000, seq: u32, sr: bool) {
            let r = Report {
                ssrc: Ssrc(ssrc),
                sender: sr.then_some(SenderInfo { ntp: u64::from(seq) << 20, rtp_ts: seq, packet_count: 1, octet_count: 2 }),
                blocks: vec![ReportBlock { cumulative_lost: lost, highest_seq: seq, ..block(ssrc, 0) }],
            };
            let mut buf = Vec::new();
            r.write(&mut buf);
            prop_assert_eq!(parse_compound(&buf).unwrap(), vec![RtcpPacket::Report(r)]);
        }
    }
}
