//! Reading a STUN message (RFC 5389 §6, §15): the header, the attributes an
//! ICE-lite responder acts on, and the two checks, MESSAGE-INTEGRITY
//! (§15.4, short-term credentials) and FINGERPRINT (§15.5).
//!
//! [`Message::parse`] checks the header only (two zero bits, the magic
//! cookie, a length that is a multiple of 4 and matches the datagram), so a
//! request whose attributes are malformed still has a transaction ID to
//! answer 400 to; [`Message::attributes`] then walks the attributes.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use smallvec::SmallVec;
use thiserror::Error;

use super::{CRC32, Class, FINGERPRINT_XOR, HEADER_LEN, INTEGRITY_LEN, MAGIC_COOKIE};
use super::{attr, integrity, split_type};

/// RFC 5389 §15.3: USERNAME is shorter than 513 bytes.
const MAX_USERNAME: usize = 512;
/// How many unknown comprehension-required types are kept for a 420.
const MAX_UNKNOWN: usize = 8;

/// Why a datagram is not a well-formed STUN message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Shorter than the 20-byte header.
    #[error("shorter than a STUN header")]
    TooShort,
    /// The first two bits are not 0 or the magic cookie is missing: not
    /// STUN (RFC 5389 §6), or the RFC 3489 STUN ICE does not speak.
    #[error("not a STUN message (leading bits or magic cookie)")]
    NotStun,
    /// The header's length is not a multiple of 4 or does not match the
    /// datagram.
    #[error("the STUN length does not match the datagram")]
    LengthMismatch,
    /// An attribute runs past the end of the message.
    #[error("a STUN attribute runs past the end of the message")]
    AttributeOverrun,
    /// An attribute the responder reads has a length its type does not allow.
    #[error("STUN attribute {attr:#06x} has a bad length")]
    BadAttributeLength {
        /// The attribute type.
        attr: u16,
    },
    /// An attribute follows FINGERPRINT, which must be last (§15.5).
    #[error("a STUN attribute follows FINGERPRINT")]
    AfterFingerprint,
}

/// A STUN message whose header checked out; a view over the datagram.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Message<'a> {
    bytes: &'a [u8],
    pub(crate) class: Class,
    pub(crate) method: u16,
    pub(crate) transaction_id: [u8; 12],
}

/// The attributes of a message that the responder acts on, first
/// occurrence of each (RFC 5389 §15), and where the two checks sit.
#[derive(Debug, Clone, Default)]
pub(crate) struct Attributes<'a> {
    pub(crate) username: Option<&'a [u8]>,
    pub(crate) priority: Option<u32>,
    pub(crate) use_candidate: bool,
    pub(crate) ice_controlling: Option<u64>,
    pub(crate) ice_controlled: Option<u64>,
    /// The offset of the MESSAGE-INTEGRITY attribute's header, and its value.
    integrity: Option<(usize, &'a [u8])>,
    /// The offset of the FINGERPRINT attribute's header, and its value.
    fingerprint: Option<(usize, u32)>,
    /// Comprehension-required types this responder does not understand,
    /// before MESSAGE-INTEGRITY (at most [`MAX_UNKNOWN`]).
    pub(crate) unknown: SmallVec<[u16; 4]>,
}

impl Attributes<'_> {
    /// Whether the message carries MESSAGE-INTEGRITY.
    pub(crate) fn has_integrity(&self) -> bool {
        self.integrity.is_some()
    }
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be64(b: &[u8]) -> u64 {
    u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// The value length an attribute the responder reads must have, if fixed.
fn fixed_len(t: u16) -> Option<usize> {
    match t {
        attr::MESSAGE_INTEGRITY => Some(INTEGRITY_LEN),
        attr::FINGERPRINT | attr::PRIORITY => Some(4),
        attr::ICE_CONTROLLING | attr::ICE_CONTROLLED => Some(8),
        attr::USE_CANDIDATE => Some(0),
        _ => None,
    }
}

impl<'a> Message<'a> {
    /// Checks the header of `datagram` (RFC 5389 §6).
    pub(crate) fn parse(datagram: &'a [u8]) -> Result<Self, ParseError> {
        let header = datagram.get(..HEADER_LEN).ok_or(ParseError::TooShort)?;
        let t = be16(&header[0..2]);
        if t & 0xc000 != 0 || be32(&header[4..8]) != MAGIC_COOKIE {
            return Err(ParseError::NotStun);
        }
        let len = usize::from(be16(&header[2..4]));
        if len % 4 != 0 || HEADER_LEN + len != datagram.len() {
            return Err(ParseError::LengthMismatch);
        }
        let (class, method) = split_type(t);
        let mut transaction_id = [0; 12];
        transaction_id.copy_from_slice(&header[8..20]);
        Ok(Self {
            bytes: datagram,
            class,
            method,
            transaction_id,
        })
    }

    /// Walks the attributes (RFC 5389 §15): after MESSAGE-INTEGRITY only
    /// FINGERPRINT counts (§15.4), and nothing may follow FINGERPRINT.
    pub(crate) fn attributes(&self) -> Result<Attributes<'a>, ParseError> {
        let bytes = self.bytes;
        let mut out = Attributes::default();
        let mut at = HEADER_LEN;
        while at < bytes.len() {
            if out.fingerprint.is_some() {
                return Err(ParseError::AfterFingerprint);
            }
            let head = bytes.get(at..at + 4).ok_or(ParseError::AttributeOverrun)?;
            let (t, len) = (be16(&head[0..2]), usize::from(be16(&head[2..4])));
            let value = bytes
                .get(at + 4..at + 4 + len)
                .ok_or(ParseError::AttributeOverrun)?;
            let padded = len.div_ceil(4) * 4;
            if at + 4 + padded > bytes.len() {
                return Err(ParseError::AttributeOverrun);
            }
            if fixed_len(t).is_some_and(|n| n != len) {
                return Err(ParseError::BadAttributeLength { attr: t });
            }
            let after_integrity = out.integrity.is_some();
            match t {
                attr::FINGERPRINT => out.fingerprint = Some((at, be32(value))),
                _ if after_integrity => {}
                attr::MESSAGE_INTEGRITY => out.integrity = Some((at, value)),
                attr::USERNAME if out.username.is_none() => {
                    if len > MAX_USERNAME {
                        return Err(ParseError::BadAttributeLength { attr: t });
                    }
                    out.username = Some(value);
                }
                attr::PRIORITY => {
                    out.priority.get_or_insert(be32(value));
                }
                attr::USE_CANDIDATE => out.use_candidate = true,
                attr::ICE_CONTROLLING => {
                    out.ice_controlling.get_or_insert(be64(value));
                }
                attr::ICE_CONTROLLED => {
                    out.ice_controlled.get_or_insert(be64(value));
                }
                t if attr::comprehension_required(t)
                    && !attr::known(t)
                    && out.unknown.len() < MAX_UNKNOWN
                    && !out.unknown.contains(&t) =>
                {
                    out.unknown.push(t);
                }
                _ => {}
            }
            at += 4 + padded;
        }
        Ok(out)
    }

    /// Whether the FINGERPRINT of `attrs` is present and matches the
    /// message (RFC 5389 §15.5).
    pub(crate) fn fingerprint_ok(&self, attrs: &Attributes<'_>) -> bool {
        let Some((at, value)) = attrs.fingerprint else {
            return false;
        };
        // FINGERPRINT is last, so the header's length already covers it.
        CRC32.checksum(&self.bytes[..at]) ^ FINGERPRINT_XOR == value
    }

    /// Whether the MESSAGE-INTEGRITY of `attrs` is present and is the
    /// HMAC-SHA1, keyed with `key`, of the message up to it, the header's
    /// length counting up to its end (RFC 5389 §15.4). Compared in
    /// constant time.
    pub(crate) fn integrity_ok(&self, attrs: &Attributes<'_>, key: &[u8]) -> bool {
        let Some((at, mac)) = attrs.integrity else {
            return false;
        };
        let mut header = [0; HEADER_LEN];
        header.copy_from_slice(&self.bytes[..HEADER_LEN]);
        // `at` is below the 16-bit length of the message, so this fits.
        let len = (at + 4 + INTEGRITY_LEN - HEADER_LEN) as u16;
        header[2..4].copy_from_slice(&len.to_be_bytes());
        let tag = integrity(key, &[&header, &self.bytes[HEADER_LEN..at]]);
        verify_slices_are_equal(tag.as_ref(), mac).is_ok()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// RFC 5769 §2.1: a Binding request with USERNAME "evtj:h6vY", PRIORITY,
    /// ICE-CONTROLLED, SOFTWARE ("STUN test client"), MESSAGE-INTEGRITY keyed with
    /// [`RFC5769_PASSWORD`] and FINGERPRINT; its padding is spaces.
    pub(crate) const RFC5769_REQUEST: [u8; 108] = [
        0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
        0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74,
        0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e,
        0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
        0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20,
        0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,
        0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5,
        0x7a, 0x3b, 0xcf,
    ];
    /// The password of the RFC 5769 test vectors.
    pub(crate) const RFC5769_PASSWORD: &[u8] = b"VOkJxbRl1RmTxUk/WvJxBt";

    /// RFC 5769 §2.2: the IPv4 success response (192.0.2.1:32853).
    pub(crate) const RFC5769_RESPONSE_V4: [u8; 80] = [
        0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
        0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76,
        0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1,
        0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
        0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00,
        0x04, 0xc0, 0x7d, 0x4c, 0x96,
    ];

    /// RFC 5769 §2.3: the IPv6 success response
    /// ([2001:db8:1234:5678:11:2233:4455:6677]:32853).
    pub(crate) const RFC5769_RESPONSE_V6: [u8; 92] = [
        0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
        0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76,
        0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01,
        0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
        0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9,
        0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb,
        0x0b, 0x4c,
    ];

    #[test]
    fn rfc5769_request_parses_and_verifies() {
        let m = Message::parse(&RFC5769_REQUEST).unwrap();
        assert_eq!((m.class, m.method), (Class::Request, super::super::BINDING));
        assert_eq!(m.transaction_id[..4], [0xb7, 0xe7, 0xa7, 0x01]);
        let a = m.attributes().unwrap();
        assert_eq!(a.username, Some(&b"evtj:h6vY"[..]));
        assert_eq!(a.priority, Some(0x6e00_01ff));
        assert_eq!(a.ice_controlled, Some(0x932f_f9b1_5126_3b36));
        assert_eq!(a.ice_controlling, None);
        assert!(!a.use_candidate);
        assert!(a.unknown.is_empty());
        assert!(m.fingerprint_ok(&a));
        assert!(m.integrity_ok(&a, RFC5769_PASSWORD));
        assert!(!m.integrity_ok(&a, b"VOkJxbRl1RmTxUk/WvJxBu"));
    }

    #[test]
    fn rfc5769_responses_verify() {
        for v in [&RFC5769_RESPONSE_V4[..], &RFC5769_RESPONSE_V6[..]] {
            let m = Message::parse(v).unwrap();
            assert_eq!(m.class, Class::SuccessResponse);
            let a = m.attributes().unwrap();
            assert!(m.fingerprint_ok(&a));
            assert!(m.integrity_ok(&a, RFC5769_PASSWORD));
        }
    }

    #[test]
    fn a_wrong_fingerprint_or_a_flipped_bit_fails() {
        let mut v = RFC5769_REQUEST;
        v[107] ^= 1;
        let m = Message::parse(&v).unwrap();
        let a = m.attributes().unwrap();
        assert!(!m.fingerprint_ok(&a));
        assert!(
            m.integrity_ok(&a, RFC5769_PASSWORD),
            "FINGERPRINT is not covered"
        );
        let mut v = RFC5769_REQUEST;
        v[30] ^= 0x40; // inside SOFTWARE
        let m = Message::parse(&v).unwrap();
        let a = m.attributes().unwrap();
        assert!(!m.fingerprint_ok(&a));
        assert!(!m.integrity_ok(&a, RFC5769_PASSWORD));
    }

    #[test]
    fn headers_that_are_not_stun_are_refused() {
        assert_eq!(Message::parse(&[]).unwrap_err(), ParseError::TooShort);
        assert_eq!(
            Message::parse(&RFC5769_REQUEST[..19]).unwrap_err(),
            ParseError::TooShort
        );
        let mut v = RFC5769_REQUEST;
        v[0] = 0x40;
        assert_eq!(Message::parse(&v).unwrap_err(), ParseError::NotStun);
        let mut v = RFC5769_REQUEST;
        v[5] = 0;
        assert_eq!(Message::parse(&v).unwrap_err(), ParseError::NotStun);
        let mut v = RFC5769_REQUEST;
        v[3] = 0x59;
        assert_eq!(Message::parse(&v).unwrap_err(), ParseError::LengthMismatch);
        assert_eq!(
            Message::parse(&RFC5769_REQUEST[..104]).unwrap_err(),
            ParseError::LengthMismatch
        );
    }

    #[test]
    fn attribute_errors() {
        // A header claiming 8 bytes of attributes holding one whose length
        // runs past them.
        let mut v = RFC5769_REQUEST[..20].to_vec();
        v[2..4].copy_from_slice(&8u16.to_be_bytes());
        v.extend([0x00, 0x06, 0x00, 0x09, b'a', b':', b'b', b'c']);
        let m = Message::parse(&v).unwrap();
        assert_eq!(m.attributes().unwrap_err(), ParseError::AttributeOverrun);
        // PRIORITY of 8 bytes.
        let mut v = RFC5769_REQUEST[..20].to_vec();
        v[2..4].copy_from_slice(&12u16.to_be_bytes());
        v.extend([0x00, 0x24, 0x00, 0x08, 0, 0, 0, 1, 0, 0, 0, 2]);
        let m = Message::parse(&v).unwrap();
        assert_eq!(
            m.attributes().unwrap_err(),
            ParseError::BadAttributeLength {
                attr: attr::PRIORITY
            }
        );
        // Something after FINGERPRINT.
        let mut v = RFC5769_REQUEST.to_vec();
        v.extend([0x80, 0x22, 0x00, 0x00]);
        let len = (v.len() - HEADER_LEN) as u16;
        v[2..4].copy_from_slice(&len.to_be_bytes());
        let m = Message::parse(&v).unwrap();
        assert_eq!(m.attributes().unwrap_err(), ParseError::AfterFingerprint);
    }

    #[test]
    fn unknown_comprehension_required_types_are_collected() {
        let mut v = RFC5769_REQUEST[..20].to_vec();
        v[2..4].copy_from_slice(&12u16.to_be_bytes());
        // 0x7777 (required, unknown) and 0xC057 (optional, ignored).
        v.extend([0x77, 0x77, 0x00, 0x00, 0xc0, 0x57, 0x00, 0x04, 0, 1, 0, 0]);
        let m = Message::parse(&v).unwrap();
        assert_eq!(m.attributes().unwrap().unknown.as_slice(), &[0x7777]);
    }

    #[test]
    fn username_for_routing() {
        assert_eq!(
            super::super::stun_username(&RFC5769_REQUEST),
            Some(("evtj", "h6vY"))
        );
        assert_eq!(super::super::stun_username(&[0x80; 40]), None);
        assert_eq!(super::super::stun_username(&[]), None);
    }
}
