//! Writing STUN responses (RFC 5389 §7): one [`MessageWriter`] per
//! message, attributes in order, then MESSAGE-INTEGRITY (if the request
//! authenticated) and FINGERPRINT last, each computed over what precedes it
//! with the header's length set as §15.4 and §15.5 say.

use std::net::SocketAddr;

use super::{CRC32, Class, FINGERPRINT_XOR, HEADER_LEN, INTEGRITY_LEN, MAGIC_COOKIE};
use super::{attr, integrity, message_type};

/// A STUN message being written.
#[derive(Debug)]
pub(crate) struct MessageWriter {
    buf: Vec<u8>,
}

impl MessageWriter {
    /// A message of `class` and `method` with `transaction_id`, no
    /// attributes yet. `capacity` is a hint for the whole message.
    pub(crate) fn new(
        class: Class,
        method: u16,
        transaction_id: &[u8; 12],
        capacity: usize,
    ) -> Self {
        let mut buf = Vec::with_capacity(capacity.max(HEADER_LEN));
        buf.extend(message_type(class, method).to_be_bytes());
        buf.extend([0, 0]);
        buf.extend(MAGIC_COOKIE.to_be_bytes());
        buf.extend(transaction_id);
        Self { buf }
    }

    /// Appends an attribute, zero-padded to 4 bytes. Values longer than a
    /// 16-bit length are cut (none of ours comes near).
    pub(crate) fn attribute(&mut self, t: u16, value: &[u8]) {
        let value = &value[..value.len().min(usize::from(u16::MAX) & !3)];
        self.buf.extend(t.to_be_bytes());
        self.buf.extend((value.len() as u16).to_be_bytes());
        self.buf.extend(value);
        let pad = value.len().next_multiple_of(4) - value.len();
        self.buf.extend(&[0; 3][..pad]);
    }

    /// Sets the header's length to the attributes written so far plus
    /// `extra` bytes still to come.
    fn set_len(&mut self, extra: usize) {
        let len = (self.buf.len() - HEADER_LEN + extra) as u16;
        self.buf[2..4].copy_from_slice(&len.to_be_bytes());
    }

    /// XOR-MAPPED-ADDRESS (RFC 5389 §15.2): the port XOR the cookie's top
    /// half; an IPv4 address XOR the cookie, an IPv6 one XOR cookie and
    /// transaction ID.
    pub(crate) fn xor_mapped_address(&mut self, addr: SocketAddr) {
        let cookie = MAGIC_COOKIE.to_be_bytes();
        let port = addr.port() ^ (MAGIC_COOKIE >> 16) as u16;
        let mut value = [0u8; 20];
        value[2..4].copy_from_slice(&port.to_be_bytes());
        let len = match addr {
            SocketAddr::V4(a) => {
                value[1] = 0x01;
                for (i, b) in a.ip().octets().into_iter().enumerate() {
                    value[4 + i] = b ^ cookie[i];
                }
                8
            }
            SocketAddr::V6(a) => {
                value[1] = 0x02;
                let mut mask = [0u8; 16];
                mask[..4].copy_from_slice(&cookie);
                mask[4..].copy_from_slice(&self.buf[8..20]);
                for (i, b) in a.ip().octets().into_iter().enumerate() {
                    value[4 + i] = b ^ mask[i];
                }
                20
            }
        };
        self.attribute(attr::XOR_MAPPED_ADDRESS, &value[..len]);
    }

    /// ERROR-CODE (RFC 5389 §15.6): class (hundreds), number, reason.
    pub(crate) fn error_code(&mut self, code: u16, reason: &str) {
        let mut value = Vec::with_capacity(4 + reason.len());
        value.extend([0, 0, (code / 100) as u8 & 0x07, (code % 100) as u8]);
        value.extend(reason.as_bytes());
        self.attribute(attr::ERROR_CODE, &value);
    }

    /// UNKNOWN-ATTRIBUTES (RFC 5389 §15.9): the types, 16 bits each.
    pub(crate) fn unknown_attributes(&mut self, types: &[u16]) {
        let value: Vec<u8> = types.iter().flat_map(|t| t.to_be_bytes()).collect();
        self.attribute(attr::UNKNOWN_ATTRIBUTES, &value);
    }

    /// MESSAGE-INTEGRITY keyed with `key` (RFC 5389 §15.4).
    pub(crate) fn message_integrity(&mut self, key: &[u8]) {
        self.set_len(4 + INTEGRITY_LEN);
        let tag = integrity(key, &[&self.buf]);
        self.attribute(attr::MESSAGE_INTEGRITY, tag.as_ref());
    }

    /// FINGERPRINT (RFC 5389 §15.5), last; the finished message.
    pub(crate) fn fingerprint(mut self) -> Vec<u8> {
        self.set_len(8);
        let crc = CRC32.checksum(&self.buf) ^ FINGERPRINT_XOR;
        self.attribute(attr::FINGERPRINT, &crc.to_be_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::super::BINDING;
    use super::super::message::Message;
    use super::super::message::tests::{
        RFC5769_PASSWORD, RFC5769_RESPONSE_V4, RFC5769_RESPONSE_V6,
    };
    use super::*;

    fn txid() -> [u8; 12] {
        let mut t = [0; 12];
        t.copy_from_slice(&RFC5769_RESPONSE_V4[8..20]);
        t
    }

    /// The RFC 5769 responses written again: header and XOR-MAPPED-ADDRESS
    /// byte for byte (SOFTWARE left out), MESSAGE-INTEGRITY and FINGERPRINT
    /// verified by the reader.
    #[test]
    fn xor_mapped_address_as_rfc5769_writes_it() {
        for (addr, vector) in [
            ("192.0.2.1:32853", &RFC5769_RESPONSE_V4[..]),
            (
                "[2001:db8:1234:5678:11:2233:4455:6677]:32853",
                &RFC5769_RESPONSE_V6[..],
            ),
        ] {
            let mut w = MessageWriter::new(Class::SuccessResponse, BINDING, &txid(), 0);
            w.xor_mapped_address(addr.parse().unwrap());
            w.message_integrity(RFC5769_PASSWORD);
            let out = w.fingerprint();
            // The vector's XOR-MAPPED-ADDRESS starts after its 16-byte SOFTWARE.
            let xma_len = out.len() - HEADER_LEN - 24 - 8;
            assert_eq!(
                out[HEADER_LEN..HEADER_LEN + xma_len],
                vector[36..36 + xma_len],
                "{addr}"
            );
            assert_eq!(out[..2], vector[..2]);
            assert_eq!(out[4..20], vector[4..20]);
            let m = Message::parse(&out).unwrap();
            let a = m.attributes().unwrap();
            assert!(m.integrity_ok(&a, RFC5769_PASSWORD), "{addr}");
            assert!(m.fingerprint_ok(&a), "{addr}");
        }
    }

    #[test]
    fn error_responses_carry_code_reason_and_unknown_types() {
        let mut w = MessageWriter::new(Class::ErrorResponse, BINDING, &txid(), 0);
        w.error_code(420, "Unknown Attribute");
        w.unknown_attributes(&[0x7777]);
        let out = w.fingerprint();
        assert_eq!(out[..2], [0x01, 0x11]);
        // ERROR-CODE: type, length 21, reserved, class 4, number 20, reason.
        assert_eq!(out[20..28], [0x00, 0x09, 0x00, 21, 0, 0, 4, 20]);
        assert_eq!(&out[28..45], b"Unknown Attribute");
        assert_eq!(out[45..48], [0, 0, 0]);
        assert_eq!(out[48..54], [0x00, 0x0a, 0x00, 0x02, 0x77, 0x77]);
        let m = Message::parse(&out).unwrap();
        let a = m.attributes().unwrap();
        assert!(m.fingerprint_ok(&a));
        assert!(!a.has_integrity());
    }
}
