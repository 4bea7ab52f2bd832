//! RTP packets (RFC 3550 §5.1): a zero-copy header view over a received
//! buffer, in-place rewriting of the fields a relay changes (payload type,
//! sequence number, timestamp, SSRC), header extensions (RFC 8285 one-byte
//! and two-byte forms) and the RTP/RTCP demultiplexing of a shared port
//! (RFC 5761 §4). Nothing here panics on any input: every offset is checked
//! against the buffer before it is read.

use std::fmt;

/// The only RTP version there is (RFC 3550 §5.1).
pub const RTP_VERSION: u8 = 2;
/// Length of the fixed RTP header, before CSRCs and extension.
pub const FIXED_HEADER_LEN: usize = 12;
/// Profile of the RFC 8285 one-byte header extension form.
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;
/// Profile of the RFC 8285 two-byte form, with its four "appbits" masked off.
pub const TWO_BYTE_PROFILE: u16 = 0x1000;

/// A synchronization source identifier (RFC 3550 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Ssrc(pub u32);

impl fmt::Display for Ssrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// Why a buffer is not a valid RTP packet. All of these are the sender's
/// fault; the packet is dropped and counted, nothing goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtpError {
    /// Shorter than the 12-byte fixed header.
    #[error("{len} bytes is shorter than an RTP header")]
    TooShort {
        /// Length of the buffer.
        len: usize,
    },
    /// The version field is not 2.
    #[error("RTP version {0}, expected 2")]
    Version(u8),
    /// The CSRC list runs past the end of the buffer.
    #[error("CSRC list past the end of the packet")]
    Csrc,
    /// The header extension runs past the end of the buffer.
    #[error("header extension past the end of the packet")]
    Extension,
    /// The padding count is zero or longer than the payload.
    #[error("invalid padding count")]
    Padding,
}

/// What a datagram arriving on a shared RTP/RTCP port is (RFC 5761 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// Version 2, second byte's low 7 bits outside 64..=95.
    Rtp,
    /// Version 2, packet type 192..=223 (marker bit plus PT 64..=95).
    Rtcp,
    /// Too short or not version 2 (STUN, DTLS, garbage).
    Other,
}

/// Classifies a datagram on a port shared by RTP and RTCP: RTP payload
/// types 64–95 would collide with RTCP packet types 192–223 and are
/// therefore read as RTCP (RFC 5761 §4).
pub fn classify(buf: &[u8]) -> PacketKind {
    if buf.len() < 4 || buf[0] >> 6 != RTP_VERSION {
        return PacketKind::Other;
    }
    match buf[1] & 0x7f {
        64..=95 => PacketKind::Rtcp,
        _ if buf.len() >= FIXED_HEADER_LEN => PacketKind::Rtp,
        _ => PacketKind::Other,
    }
}

/// A parsed, read-only view of an RTP packet. All accessors are O(1) reads
/// from the buffer; `parse` validated every length they depend on.
#[derive(Clone, Copy)]
pub struct RtpView<'a> {
    buf: &'a [u8],
    header_len: usize,
    payload_end: usize,
    extension: Option<ExtensionRange>,
}

impl fmt::Debug for RtpView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RtpView")
            .field("pt", &self.payload_type())
            .field("seq", &self.sequence_number())
            .field("ts", &self.timestamp())
            .field("ssrc", &self.ssrc())
            .field("marker", &self.marker())
            .field("payload_len", &self.payload().len())
            .finish()
    }
}

/// An extension's profile and the range of its data in the packet.
type ExtensionRange = (u16, usize, usize);

/// Where the header ends, where the payload ends and where the extension
/// sits, checked against `buf`.
fn layout(buf: &[u8]) -> Result<(usize, usize, Option<ExtensionRange>), RtpError> {
    if buf.len() < FIXED_HEADER_LEN {
        return Err(RtpError::TooShort { len: buf.len() });
    }
    let version = buf[0] >> 6;
    if version != RTP_VERSION {
        return Err(RtpError::Version(version));
    }
    let cc = usize::from(buf[0] & 0x0f);
    let mut header_len = FIXED_HEADER_LEN + 4 * cc;
    if header_len > buf.len() {
        return Err(RtpError::Csrc);
    }
    let mut extension = None;
    if buf[0] & 0x10 != 0 {
        let ext = buf
            .get(header_len..header_len + 4)
            .ok_or(RtpError::Extension)?;
        let profile = u16::from_be_bytes([ext[0], ext[1]]);
        let words = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
        let start = header_len + 4;
        let end = start + 4 * words;
        if end > buf.len() {
            return Err(RtpError::Extension);
        }
        extension = Some((profile, start, end));
        header_len = end;
    }
    let mut payload_end = buf.len();
    if buf[0] & 0x20 != 0 {
        let pad = usize::from(buf[buf.len() - 1]);
        if pad == 0 || pad > buf.len() - header_len {
            return Err(RtpError::Padding);
        }
        payload_end -= pad;
    }
    Ok((header_len, payload_end, extension))
}

impl<'a> RtpView<'a> {
    /// Parses and validates `buf` as one RTP packet.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RtpError> {
        let (header_len, payload_end, extension) = layout(buf)?;
        Ok(RtpView {
            buf,
            header_len,
            payload_end,
            extension,
        })
    }

    /// The padding bit.
    pub fn padding(&self) -> bool {
        self.buf[0] & 0x20 != 0
    }

    /// The marker bit (start of a talkspurt for audio).
    pub fn marker(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }

    /// The payload type, 0..=127.
    pub fn payload_type(&self) -> u8 {
        self.buf[1] & 0x7f
    }

    /// The 16-bit sequence number.
    pub fn sequence_number(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }

    /// The 32-bit media timestamp.
    pub fn timestamp(&self) -> u32 {
        u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]])
    }

    /// The synchronization source.
    pub fn ssrc(&self) -> Ssrc {
        Ssrc(u32::from_be_bytes([
            self.buf[8],
            self.buf[9],
            self.buf[10],
            self.buf[11],
        ]))
    }

    /// The contributing sources, in order.
    pub fn csrcs(&self) -> impl Iterator<Item = Ssrc> + 'a {
        let cc = usize::from(self.buf[0] & 0x0f);
        self.buf[FIXED_HEADER_LEN..FIXED_HEADER_LEN + 4 * cc]
            .chunks_exact(4)
            .map(|c| Ssrc(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
    }

    /// The header extension's profile and data, if the X bit is set.
    pub fn extension(&self) -> Option<(u16, &'a [u8])> {
        self.extension
            .map(|(profile, start, end)| (profile, &self.buf[start..end]))
    }

    /// The RFC 8285 extension elements `(id, data)`; empty when there is no
    /// extension or its profile is neither the one-byte nor the two-byte
    /// form. Iteration stops at the first malformed element.
    pub fn extension_elements(&self) -> ExtensionElements<'a> {
        let (form, data) = match self.extension() {
            Some((ONE_BYTE_PROFILE, d)) => (Some(ExtensionForm::OneByte), d),
            Some((p, d)) if p & 0xfff0 == TWO_BYTE_PROFILE => (Some(ExtensionForm::TwoByte), d),
            _ => (None, &[][..]),
        };
        ExtensionElements { form, data }
    }

    /// Length of the header: fixed part, CSRCs and extension.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The payload, without header and padding.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..self.payload_end]
    }
}

/// The two RFC 8285 header extension forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExtensionForm {
    OneByte,
    TwoByte,
}

/// Iterator over RFC 8285 header extension elements; see
/// [`RtpView::extension_elements`].
#[derive(Debug, Clone)]
pub struct ExtensionElements<'a> {
    form: Option<ExtensionForm>,
    data: &'a [u8],
}

impl<'a> Iterator for ExtensionElements<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let form = self.form?;
        loop {
            let (&first, rest) = self.data.split_first()?;
            if first == 0 {
                // Padding byte between elements (both forms).
                self.data = rest;
                continue;
            }
            let (id, len, rest) = match form {
                ExtensionForm::OneByte => {
                    let id = first >> 4;
                    if id == 15 {
                        // Reserved: stop processing (RFC 8285 §4.2).
                        self.data = &[];
                        return None;
                    }
                    (id, usize::from(first & 0x0f) + 1, rest)
                }
                ExtensionForm::TwoByte => {
                    let (&len, rest) = rest.split_first()?;
                    (first, usize::from(len), rest)
                }
            };
            if len > rest.len() {
                self.data = &[];
                return None;
            }
            let (value, rest) = rest.split_at(len);
            self.data = rest;
            return Some((id, value));
        }
    }
}

/// A validated RTP packet in a mutable buffer, for rewriting in place. The
/// setters cannot fail: construction checked the fixed header is there.
#[derive(Debug)]
pub struct RtpMut<'a> {
    buf: &'a mut [u8],
}

impl<'a> RtpMut<'a> {
    /// Validates `buf` as an RTP packet (as [`RtpView::parse`] does).
    pub fn new(buf: &'a mut [u8]) -> Result<Self, RtpError> {
        layout(buf)?;
        Ok(RtpMut { buf })
    }

    /// A read-only view of the packet as it is now.
    pub fn view(&self) -> RtpView<'_> {
        // The layout was validated in `new` and the setters change no length.
        RtpView::parse(self.buf).expect("validated in RtpMut::new; setters keep lengths")
    }

    /// Sets the payload type (the low 7 bits of `pt`), keeping the marker.
    pub fn set_payload_type(&mut self, pt: u8) {
        self.buf[1] = (self.buf[1] & 0x80) | (pt & 0x7f);
    }

    /// Sets or clears the marker bit.
    pub fn set_marker(&mut self, marker: bool) {
        self.buf[1] = (self.buf[1] & 0x7f) | if marker { 0x80 } else { 0 };
    }

    /// Sets the sequence number.
    pub fn set_sequence_number(&mut self, seq: u16) {
        self.buf[2..4].copy_from_slice(&seq.to_be_bytes());
    }

    /// Sets the timestamp.
    pub fn set_timestamp(&mut self, ts: u32) {
        self.buf[4..8].copy_from_slice(&ts.to_be_bytes());
    }

    /// Sets the SSRC.
    pub fn set_ssrc(&mut self, ssrc: Ssrc) {
        self.buf[8..12].copy_from_slice(&ssrc.0.to_be_bytes());
    }
}

/// Sets the payload type of the RTP packet in `buf`.
pub fn set_pt(buf: &mut [u8], pt: u8) -> Result<(), RtpError> {
    RtpMut::new(buf)?.set_payload_type(pt);
    Ok(())
}

/// Sets the sequence number of the RTP packet in `buf`.
pub fn set_seq(buf: &mut [u8], seq: u16) -> Result<(), RtpError> {
    RtpMut::new(buf)?.set_sequence_number(seq);
    Ok(())
}

/// Sets the timestamp of the RTP packet in `buf`.
pub fn set_ts(buf: &mut [u8], ts: u32) -> Result<(), RtpError> {
    RtpMut::new(buf)?.set_timestamp(ts);
    Ok(())
}

/// Sets the SSRC of the RTP packet in `buf`.
pub fn set_ssrc(buf: &mut [u8], ssrc: Ssrc) -> Result<(), RtpError> {
    RtpMut::new(buf)?.set_ssrc(ssrc);
    Ok(())
}

/// Writes a minimal RTP packet (no CSRC, no extension, no padding) to `out`.
pub fn write_packet(
    out: &mut Vec<u8>,
    pt: u8,
    marker: bool,
    seq: u16,
    ts: u32,
    ssrc: Ssrc,
    payload: &[u8],
) {
    out.push(RTP_VERSION << 6);
    out.push((pt & 0x7f) | if marker { 0x80 } else { 0 });
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&ts.to_be_bytes());
    out.extend_from_slice(&ssrc.0.to_be_bytes());
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn packet(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        write_packet(&mut v, pt, true, seq, ts, Ssrc(ssrc), payload);
        v
    }

    #[test]
    fn fixed_header_fields() {
        let p = packet(111, 0xabcd, 0x1234_5678, 0xdead_beef, b"hello");
        let v = RtpView::parse(&p).unwrap();
        assert_eq!(v.payload_type(), 111);
        assert!(v.marker());
        assert_eq!(v.sequence_number(), 0xabcd);
        assert_eq!(v.timestamp(), 0x1234_5678);
        assert_eq!(v.ssrc(), Ssrc(0xdead_beef));
        assert_eq!(v.payload(), b"hello");
        assert_eq!(v.header_len(), 12);
    }

    #[test]
    fn csrc_extension_and_padding_are_skipped() {
        // V=2 P=1 X=1 CC=2, M=0 PT=0
        let mut p = vec![0xb2, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        p.extend_from_slice(&[0, 0, 0, 10, 0, 0, 0, 11]); // CSRCs
        // one-byte extension, 2 words: id 1 len 1 [aa], pad, id 2 len 2 [bb cc dd]
        p.extend_from_slice(&[
            0xbe, 0xde, 0, 2, 0x10, 0xaa, 0x00, 0x22, 0xbb, 0xcc, 0xdd, 0,
        ]);
        p.extend_from_slice(b"pay");
        p.extend_from_slice(&[0, 0, 3]); // 3 bytes of padding
        let v = RtpView::parse(&p).unwrap();
        assert_eq!(v.csrcs().collect::<Vec<_>>(), [Ssrc(10), Ssrc(11)]);
        assert_eq!(v.header_len(), 12 + 8 + 12);
        assert_eq!(v.payload(), b"pay");
        let elems: Vec<_> = v.extension_elements().collect();
        assert_eq!(elems, [(1, &[0xaa][..]), (2, &[0xbb, 0xcc, 0xdd][..])]);
    }

    #[test]
    fn two_byte_extension_elements() {
        let mut p = packet(0, 1, 2, 3, b"");
        p[0] |= 0x10;
        p.extend_from_slice(&[0x10, 0x00, 0, 2, 5, 2, 1, 2, 0, 7, 0, 0]);
        let v = RtpView::parse(&p).unwrap();
        let elems: Vec<_> = v.extension_elements().collect();
        assert_eq!(elems, [(5, &[1, 2][..]), (7, &[][..])]);
    }

    #[test]
    fn malformed_packets_are_refused() {
        assert_eq!(
            RtpView::parse(&[0x80; 11]).unwrap_err(),
            RtpError::TooShort { len: 11 }
        );
        let mut p = packet(0, 1, 2, 3, b"x");
        p[0] = 0x40;
        assert_eq!(RtpView::parse(&p).unwrap_err(), RtpError::Version(1));
        p[0] = 0x81;
        assert_eq!(RtpView::parse(&p).unwrap_err(), RtpError::Csrc);
        p[0] = 0x90;
        assert_eq!(RtpView::parse(&p).unwrap_err(), RtpError::Extension);
        p[0] = 0xa0;
        *p.last_mut().unwrap() = 0;
        assert_eq!(RtpView::parse(&p).unwrap_err(), RtpError::Padding);
        *p.last_mut().unwrap() = 2;
        assert_eq!(RtpView::parse(&p).unwrap_err(), RtpError::Padding);
    }

    #[test]
    fn rewriting_in_place() {
        let mut p = packet(0, 1, 2, 3, b"abc");
        let mut m = RtpMut::new(&mut p).unwrap();
        m.set_payload_type(8);
        m.set_sequence_number(65535);
        m.set_timestamp(u32::MAX);
        m.set_ssrc(Ssrc(42));
        let v = m.view();
        assert_eq!((v.payload_type(), v.marker()), (8, true));
        assert_eq!(v.sequence_number(), 65535);
        assert_eq!(v.timestamp(), u32::MAX);
        assert_eq!(v.ssrc(), Ssrc(42));
        assert_eq!(v.payload(), b"abc");
        assert!(set_pt(&mut [0u8; 4], 1).is_err());
        set_seq(&mut p, 7).unwrap();
        set_ts(&mut p, 9).unwrap();
        set_ssrc(&mut p, Ssrc(1)).unwrap();
        set_pt(&mut p, 9).unwrap();
        let v = RtpView::parse(&p).unwrap();
        assert_eq!(
            (
                v.sequence_number(),
                v.timestamp(),
                v.ssrc(),
                v.payload_type()
            ),
            (7, 9, Ssrc(1), 9)
        );
    }

    #[test]
    fn rtp_and_rtcp_demux() {
        assert_eq!(classify(&packet(0, 1, 2, 3, b"")), PacketKind::Rtp);
        assert_eq!(classify(&packet(127, 1, 2, 3, b"")), PacketKind::Rtp);
        assert_eq!(classify(&[0x80, 200, 0, 6]), PacketKind::Rtcp);
        assert_eq!(classify(&[0x81, 223, 0, 1]), PacketKind::Rtcp);
        assert_eq!(classify(&[0x80, 96 | 0x80, 0, 1]), PacketKind::Other);
        assert_eq!(classify(&[0x00, 0x01, 0, 0]), PacketKind::Other); // STUN
        assert_eq!(classify(&[22, 254, 253]), PacketKind::Other); // DTLS
    }

    proptest! {
        #[test]
        fn never_panics(mut data in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = classify(&data);
            if let Ok(v) = RtpView::parse(&data) {
                prop_assert!(v.header_len() <= v.header_len() + v.payload().len());
                let _ = v.csrcs().count();
                let _ = v.extension_elements().count();
            }
            if let Ok(mut m) = RtpMut::new(&mut data) {
                m.set_sequence_number(1);
                m.set_payload_type(0xff);
                prop_assert_eq!(m.view().payload_type(), 0x7f);
            }
        }

        #[test]
        fn written_packets_parse_back(pt in 0u8..128, seq: u16, ts: u32, ssrc: u32,
                                      payload in proptest::collection::vec(any::<u8>(), 0..40)) {
            let p = packet(pt, seq, ts, ssrc, &payload);
            let v = RtpView::parse(&p).unwrap();
            prop_assert_eq!(v.payload_type(), pt);
            prop_assert_eq!(v.sequence_number(), seq);
            prop_assert_eq!(v.timestamp(), ts);
            prop_assert_eq!(v.ssrc(), Ssrc(ssrc));
            prop_assert_eq!(v.payload(), &payload[..]);
        }
    }
}
