//! Where the gateway's output goes: datagrams are copied into one reused
//! buffer (the copy a socket send would make), and read, checked and
//! forgotten outside the timed sections.

use sbc_core::media::rtp::{RtpView, Ssrc};

/// Length-prefixed packets, in a buffer reused from tick to tick.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    buf: Vec<u8>,
}

impl Sink {
    /// "Sends" one datagram: copies it in.
    #[inline]
    pub fn deliver(&mut self, packet: &[u8]) {
        let len = u16::try_from(packet.len()).expect("an RTP packet fits a UDP datagram");
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(packet);
    }

    /// The packets delivered, in order.
    pub fn packets(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest = &self.buf[..];
        std::iter::from_fn(move || {
            let [a, b, tail @ ..] = rest else {
                return None;
            };
            let (packet, tail) = tail.split_at(usize::from(u16::from_be_bytes([*a, *b])));
            rest = tail;
            Some(packet)
        })
    }

    /// Forgets what was delivered (keeps the buffer).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Checks and forgets what was delivered: returns how many packets were
    /// well-formed RTP with payload type `pt` and SSRC `ssrc`, and how many
    /// were not.
    pub fn check(&mut self, pt: u8, ssrc: Ssrc) -> (u64, u64) {
        let (mut good, mut bad) = (0, 0);
        for packet in self.packets() {
            match RtpView::parse(packet) {
                Ok(v) if v.payload_type() == pt && v.ssrc() == ssrc => good += 1,
                _ => bad += 1,
            }
        }
        self.buf.clear();
        (good, bad)
    }
}
