//! The Via a UA puts on its own requests (RFC 3261 §8.1.1.7, RFC 3581):
//! the transport and `sent-by` it sends from, and the printing of a top Via
//! with a fresh branch and `rport`.

use super::RequestError;
use super::ids::Branch;
use crate::sip::headers::Via;
use bytes::{BufMut, Bytes, BytesMut};

pub use crate::sip::transport::Transport;

/// Where this UA sends a request from: the transport and `sent-by`
/// (`host[:port]`) of the Via it adds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalVia {
    transport: Transport,
    sent_by: Bytes,
}

impl LocalVia {
    /// Checks that `sent_by` is a `host[:port]` (IPv6 in brackets).
    pub fn new(transport: Transport, sent_by: &str) -> Result<LocalVia, RequestError> {
        let err = RequestError::Invalid { field: "sent-by" };
        let text = format!("SIP/2.0/{transport} {sent_by}");
        let via = Via::parse(text.as_bytes()).map_err(|_| err.clone())?;
        if !via.params.is_empty() || sent_by.trim() != sent_by {
            return Err(err);
        }
        Ok(LocalVia {
            transport,
            sent_by: Bytes::copy_from_slice(sent_by.as_bytes()),
        })
    }

    /// The transport and `sent-by` of a parsed Via (this UA's own, at the
    /// top of a request it sent).
    pub fn from_via(via: &Via<'_>) -> Result<LocalVia, RequestError> {
        let transport =
            Transport::from_bytes(via.transport).ok_or(RequestError::Invalid { field: "Via" })?;
        Ok(LocalVia {
            transport,
            sent_by: Bytes::from(via.sent_by()),
        })
    }

    /// The transport.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The `sent-by` text.
    pub fn sent_by(&self) -> &[u8] {
        &self.sent_by
    }

    /// `SIP/2.0/<TRANSPORT> <sent-by>;branch=<branch>;rport`.
    pub fn header_value(&self, branch: &Branch) -> Bytes {
        let mut out = BytesMut::with_capacity(32 + self.sent_by.len() + branch.as_bytes().len());
        out.put_slice(b"SIP/2.0/");
        out.put_slice(self.transport.as_str().as_bytes());
        out.put_u8(b' ');
        out.put_slice(&self.sent_by);
        out.put_slice(b";branch=");
        out.put_slice(branch.as_bytes());
        out.put_slice(b";rport");
        out.freeze()
    }
}

/// Reprints one Via element with its branch replaced by `branch` and every
/// other parameter kept (for resending a request as a new transaction).
pub(crate) fn rebranch(via: &Via<'_>, branch: &Branch) -> Bytes {
    let mut out = BytesMut::with_capacity(64);
    out.put_slice(b"SIP/2.0/");
    out.put_slice(via.transport);
    out.put_u8(b' ');
    out.put_slice(via.sent_by().as_bytes());
    out.put_slice(b";branch=");
    out.put_slice(branch.as_bytes());
    for (name, value) in via.params.iter() {
        if name.eq_ignore_ascii_case(b"branch") {
            continue;
        }
        out.put_u8(b';');
        out.put_slice(name);
        if let Some(value) = value {
            out.put_u8(b'=');
            let plain = value
                .iter()
                .all(|&b| crate::sip::scan::is_token(b) || matches!(b, b'[' | b']' | b':'));
            if plain {
                out.put_slice(value);
            } else {
                // It was a quoted string; its escapes are still in place.
                out.put_u8(b'"');
                out.put_slice(value);
                out.put_u8(b'"');
            }
        }
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_via_prints_branch_and_rport() {
        let via = LocalVia::new(Transport::Tcp, "[2001:db8::1]:5061").unwrap();
        let branch = Branch::new("z9hG4bKabc").unwrap();
        let value = via.header_value(&branch);
        assert_eq!(
            &value[..],
            b"SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bKabc;rport"
        );
        let parsed = Via::parse(&value).unwrap();
        assert_eq!(parsed.branch(), Some(&b"z9hG4bKabc"[..]));
        assert_eq!(LocalVia::from_via(&parsed).unwrap(), via);
    }

    #[test]
    fn rejects_bad_sent_by() {
        for bad in [
            "",
            "host;branch=x",
            "host:99999",
            "a b",
            " host",
            "host\r\nX: y",
        ] {
            assert!(LocalVia::new(Transport::Udp, bad).is_err(), "{bad:?}");
        }
        assert!(LocalVia::new(Transport::Udp, "gw.example.net:5060").is_ok());
    }

    #[test]
    fn rebranch_keeps_other_params() {
        let via = Via::parse(b"SIP/2.0/UDP h:5060;rport;branch=z9hG4bKold;x=\"a b\"").unwrap();
        let new = rebranch(&via, &Branch::new("z9hG4bKnew").unwrap());
        assert_eq!(
            &new[..],
            b"SIP/2.0/UDP h:5060;branch=z9hG4bKnew;rport;x=\"a b\""
        );
        assert!(Via::parse(&new).is_ok());
    }
}
