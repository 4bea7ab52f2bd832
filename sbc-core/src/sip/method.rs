//! SIP request methods.

use bytes::Bytes;
use std::fmt;

/// A request method; methods this crate does not know are kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// INVITE (RFC 3261).
    Invite,
    /// ACK (RFC 3261).
    Ack,
    /// BYE (RFC 3261).
    Bye,
    /// CANCEL (RFC 3261).
    Cancel,
    /// OPTIONS (RFC 3261).
    Options,
    /// REGISTER (RFC 3261).
    Register,
    /// PRACK (RFC 3262).
    Prack,
    /// SUBSCRIBE (RFC 6665).
    Subscribe,
    /// NOTIFY (RFC 6665).
    Notify,
    /// PUBLISH (RFC 3903).
    Publish,
    /// INFO (RFC 6086).
    Info,
    /// REFER (RFC 3515).
    Refer,
    /// MESSAGE (RFC 3428).
    Message,
    /// UPDATE (RFC 3311).
    Update,
    /// Any other token, case preserved (methods are case-sensitive).
    Extension(Bytes),
}

const KNOWN: [(&[u8], Method); 14] = [
    (b"INVITE", Method::Invite),
    (b"ACK", Method::Ack),
    (b"BYE", Method::Bye),
    (b"CANCEL", Method::Cancel),
    (b"OPTIONS", Method::Options),
    (b"REGISTER", Method::Register),
    (b"PRACK", Method::Prack),
    (b"SUBSCRIBE", Method::Subscribe),
    (b"NOTIFY", Method::Notify),
    (b"PUBLISH", Method::Publish),
    (b"INFO", Method::Info),
    (b"REFER", Method::Refer),
    (b"MESSAGE", Method::Message),
    (b"UPDATE", Method::Update),
];

impl Method {
    /// Interprets a method token; allocates only for extension methods.
    /// The caller has checked that `s` is a token.
    pub fn from_bytes(s: &[u8]) -> Method {
        for (name, m) in &KNOWN {
            if *name == s {
                return m.clone();
            }
        }
        Method::Extension(Bytes::copy_from_slice(s))
    }

    /// The method as it is written on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Method::Extension(b) => b,
            known => KNOWN
                .iter()
                .find(|(_, m)| m == known)
                .map_or(&b""[..], |(n, _)| n),
        }
    }

    /// The methods the gateway's own user agents implement, for `Allow`.
    pub const ALLOWED: &'static str =
        "INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, UPDATE, INFO, REFER, NOTIFY";
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_extension() {
        assert_eq!(Method::from_bytes(b"INVITE"), Method::Invite);
        assert_eq!(Method::Invite.as_bytes(), b"INVITE");
        let m = Method::from_bytes(b"RE%47IST%45R");
        assert_eq!(m.as_bytes(), b"RE%47IST%45R");
        assert_eq!(Method::from_bytes(b"invite").as_bytes(), b"invite");
    }
}
