//! STUN (RFC 5389) as far as an ICE-lite responder needs it: reading Binding
//! requests (`message`) with their short-term-credential
//! MESSAGE-INTEGRITY (HMAC-SHA1) and FINGERPRINT (CRC-32), and writing the
//! answers (`writer`): success responses with XOR-MAPPED-ADDRESS, and
//! error responses (400, 401, 420, 487).
//!
//! Nothing here panics on any input: every length is checked before it is
//! used, and a datagram that is not well-formed STUN is refused with a
//! `message::ParseError`.

pub(crate) mod message;
pub(crate) mod writer;

use aws_lc_rs::hmac;

/// The fixed STUN header: type, length, magic cookie, transaction ID.
pub(crate) const HEADER_LEN: usize = 20;
/// RFC 5389 §6: the magic cookie, in every STUN message since RFC 5389.
pub(crate) const MAGIC_COOKIE: u32 = 0x2112_A442;
/// The Binding method.
pub(crate) const BINDING: u16 = 0x001;
/// RFC 5389 §15.5: the FINGERPRINT CRC-32 is XORed with "STUN".
const FINGERPRINT_XOR: u32 = 0x5354_554e;
/// The length of an HMAC-SHA1 MESSAGE-INTEGRITY value.
const INTEGRITY_LEN: usize = 20;

/// CRC-32 as ISO-HDLC / IEEE 802.3 defines it (the one RFC 5389 §15.5
/// names), table computed at compile time.
const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// The attribute types the responder reads or writes (RFC 5389 §18.2,
/// RFC 8445 §16.1). Types below 0x8000 are comprehension-required.
pub(crate) mod attr {
    /// MAPPED-ADDRESS.
    pub(crate) const MAPPED_ADDRESS: u16 = 0x0001;
    /// USERNAME: `<recipient ufrag>:<sender ufrag>` in ICE.
    pub(crate) const USERNAME: u16 = 0x0006;
    /// MESSAGE-INTEGRITY: HMAC-SHA1 keyed with the recipient's password.
    pub(crate) const MESSAGE_INTEGRITY: u16 = 0x0008;
    /// ERROR-CODE.
    pub(crate) const ERROR_CODE: u16 = 0x0009;
    /// UNKNOWN-ATTRIBUTES.
    pub(crate) const UNKNOWN_ATTRIBUTES: u16 = 0x000A;
    /// REALM (long-term credentials; understood, unused).
    pub(crate) const REALM: u16 = 0x0014;
    /// NONCE (long-term credentials; understood, unused).
    pub(crate) const NONCE: u16 = 0x0015;
    /// XOR-MAPPED-ADDRESS.
    pub(crate) const XOR_MAPPED_ADDRESS: u16 = 0x0020;
    /// PRIORITY of the peer-reflexive candidate the check would create.
    pub(crate) const PRIORITY: u16 = 0x0024;
    /// USE-CANDIDATE: the controlling agent nominates this pair.
    pub(crate) const USE_CANDIDATE: u16 = 0x0025;
    /// FINGERPRINT: CRC-32 of the message, XOR 0x5354554e.
    pub(crate) const FINGERPRINT: u16 = 0x8028;
    /// ICE-CONTROLLED and its tie-breaker.
    pub(crate) const ICE_CONTROLLED: u16 = 0x8029;
    /// ICE-CONTROLLING and its tie-breaker.
    pub(crate) const ICE_CONTROLLING: u16 = 0x802A;

    /// Whether an agent must understand the type to process the message
    /// (RFC 5389 §15: 0x0000–0x7FFF).
    pub(crate) fn comprehension_required(t: u16) -> bool {
        t < 0x8000
    }

    /// The comprehension-required types this responder understands.
    pub(crate) fn known(t: u16) -> bool {
        matches!(
            t,
            MAPPED_ADDRESS
                | USERNAME
                | MESSAGE_INTEGRITY
                | ERROR_CODE
                | UNKNOWN_ATTRIBUTES
                | REALM
                | NONCE
                | XOR_MAPPED_ADDRESS
                | PRIORITY
                | USE_CANDIDATE
        )
    }
}

/// The message classes (RFC 5389 §6: the C1 and C0 bits of the type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Request,
    Indication,
    SuccessResponse,
    ErrorResponse,
}

impl Class {
    fn bits(self) -> u16 {
        match self {
            Class::Request => 0x0000,
            Class::Indication => 0x0010,
            Class::SuccessResponse => 0x0100,
            Class::ErrorResponse => 0x0110,
        }
    }
}

/// The message type of `method` in `class`: the class bits interleave with
/// the 12 method bits (RFC 5389 §6, figure 3).
pub(crate) fn message_type(class: Class, method: u16) -> u16 {
    let m = method & 0x0fff;
    (m & 0x000f) | ((m & 0x0070) << 1) | ((m & 0x0f80) << 2) | class.bits()
}

/// The class and method of a message type (the first two bits must be 0).
pub(crate) fn split_type(t: u16) -> (Class, u16) {
    let class = match t & 0x0110 {
        0x0000 => Class::Request,
        0x0010 => Class::Indication,
        0x0100 => Class::SuccessResponse,
        _ => Class::ErrorResponse,
    };
    let method = (t & 0x000f) | ((t & 0x00e0) >> 1) | ((t & 0x3e00) >> 2);
    (class, method)
}

/// Whether `datagram` may be STUN, by its first byte (RFC 7983 §7: 0–3),
/// before any parsing.
pub fn looks_like_stun(datagram: &[u8]) -> bool {
    matches!(datagram.first(), Some(0..=3))
}

/// The USERNAME of a STUN message split at its first `:` into (recipient's
/// ufrag, sender's ufrag), or `None` if `datagram` is not well-formed STUN
/// or has no such USERNAME. Nothing is verified: this is for routing a
/// check to the leg whose ufrag it names, which then verifies it.
pub fn stun_username(datagram: &[u8]) -> Option<(&str, &str)> {
    if !looks_like_stun(datagram) {
        return None;
    }
    let msg = message::Message::parse(datagram).ok()?;
    std::str::from_utf8(msg.attributes().ok()?.username?)
        .ok()?
        .split_once(':')
}

/// HMAC-SHA1 of `parts` keyed with `key` (a short-term password).
fn integrity(key: &[u8], parts: &[&[u8]]) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let mut ctx = hmac::Context::with_key(&key);
    for p in parts {
        ctx.update(p);
    }
    ctx.sign()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_interleave_class_and_method() {
        assert_eq!(message_type(Class::Request, BINDING), 0x0001);
        assert_eq!(message_type(Class::Indication, BINDING), 0x0011);
        assert_eq!(message_type(Class::SuccessResponse, BINDING), 0x0101);
        assert_eq!(message_type(Class::ErrorResponse, BINDING), 0x0111);
        for t in [0x0001, 0x0011, 0x0101, 0x0111, 0x0003, 0x0113, 0x3eef] {
            let (class, method) = split_type(t);
            assert_eq!(message_type(class, method), t, "{t:#06x}");
        }
    }

    #[test]
    fn crc32_is_the_ieee_one() {
        // The check value of CRC-32/ISO-HDLC.
        assert_eq!(CRC32.checksum(b"123456789"), 0xcbf4_3926);
    }
}
