//! Which SRTP protection profile DTLS negotiated (RFC 5764 §4.1.2,
//! RFC 7714 §14).
//!
//! str0m 0.25 keeps the negotiated profile to itself, so the leg reads it off
//! the wire: the RTP header of an SRTP packet is in clear text, so the
//! length of the authentication tag is the datagram length minus the header
//! minus the payload the leg knows (it wrote it, or str0m decrypted it).
//! AES-CM with HMAC-SHA1-80 appends a 10-byte tag, AEAD AES-GCM a 16-byte
//! one (RFC 7714 §7.2).

use std::fmt;

/// The SRTP protection profile of a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SrtpProfile {
    /// `SRTP_AES128_CM_HMAC_SHA1_80` (RFC 5764).
    AesCm128HmacSha1_80,
    /// `SRTP_AEAD_AES_128_GCM` or `SRTP_AEAD_AES_256_GCM` (RFC 7714); both
    /// have a 16-byte tag, so the wire does not tell them apart.
    AeadAesGcm,
}

impl fmt::Display for SrtpProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Self::AeadAesGcm => "AEAD_AES_GCM",
        })
    }
}

/// The clear-text part of an SRTP packet: (ssrc, sequence number, header
/// length), or `None` if `datagram` is not an RTP packet whose header can be
/// measured (RTCP, padding, truncated). Never panics.
pub(crate) fn srtp_header(datagram: &[u8]) -> Option<(u32, u16, usize)> {
    let first = *datagram.first()?;
    // RFC 7983: RTP/RTCP start with 128..=191; RTCP packet types 192..=223
    // sit where RTP's marker bit and payload type are.
    if !(128..=191).contains(&first) || (192..=223).contains(datagram.get(1)?) {
        return None;
    }
    if first & 0x20 != 0 {
        return None; // padding: the payload length alone says nothing
    }
    let csrc = usize::from(first & 0x0f);
    let mut len = 12 + 4 * csrc;
    if first & 0x10 != 0 {
        let words = datagram.get(len + 2..len + 4)?;
        len += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    if datagram.len() < len {
        return None;
    }
    let seq = u16::from_be_bytes([datagram[2], datagram[3]]);
    let ssrc = u32::from_be_bytes([datagram[8], datagram[9], datagram[10], datagram[11]]);
    Some((ssrc, seq, len))
}

/// The profile whose tag fills what is left of an SRTP packet of
/// `datagram_len` bytes after its `header_len`-byte header and
/// `payload_len`-byte payload.
pub(crate) fn from_tag_len(
    datagram_len: usize,
    header_len: usize,
    payload_len: usize,
) -> Option<SrtpProfile> {
    match datagram_len.checked_sub(header_len + payload_len)? {
        10 => Some(SrtpProfile::AesCm128HmacSha1_80),
        16 => Some(SrtpProfile::AeadAesGcm),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_of_plain_and_extended_packets() {
        let mut p = vec![0x80, 111, 0, 7, 0, 0, 0, 1, 0, 0, 0, 9];
        p.extend([0; 20]);
        assert_eq!(srtp_header(&p), Some((9, 7, 12)));
        p[0] = 0x90; // extension of one word
        p[14..16].copy_from_slice(&[0, 1]);
        assert_eq!(srtp_header(&p), Some((9, 7, 20)));
        assert_eq!(
            from_tag_len(p.len(), 20, 2),
            Some(SrtpProfile::AesCm128HmacSha1_80)
        );
        assert_eq!(from_tag_len(p.len(), 12, 4), Some(SrtpProfile::AeadAesGcm));
    }

    #[test]
    fn rtcp_padding_and_garbage_are_not_measured() {
        assert_eq!(srtp_header(&[0x80, 200, 0, 1]), None);
        assert_eq!(srtp_header(&[0xa0; 40]), None);
        assert_eq!(srtp_header(&[0x9f, 0, 0]), None);
        assert_eq!(srtp_header(&[]), None);
        assert_eq!(from_tag_len(3, 12, 0), None);
    }
}
