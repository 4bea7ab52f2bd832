//! Transaction identity: the opaque [`TransactionId`] handle the layer gives out, and the keys that match a
//! received message to its transaction (RFC 3261 §17.1.3 for responses,
//! §17.2.3 for requests, with the RFC 2543 fallback).

use super::error::Error;
use crate::sip::header_name::HeaderName;
use crate::sip::headers::HeaderAccess;
use crate::sip::message::Message;
use crate::sip::method::Method;
use bytes::Bytes;
use std::fmt;

/// An opaque handle on one transaction, unique for the life of its
/// [`TransactionLayer`](super::TransactionLayer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransactionId(u64);

impl TransactionId {
    /// The handle numbered `n`; only the layer mints these.
    pub(crate) fn new(n: u64) -> TransactionId {
        TransactionId(n)
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tx{}", self.0)
    }
}

/// Branch values are compared ignoring case (RFC 3261 §7.3.1: parameter
/// values are case-insensitive unless a header says otherwise).
fn folded(b: &[u8]) -> Bytes {
    Bytes::from(b.to_ascii_lowercase())
}

/// Matches a request to its server transaction (RFC 3261 §17.2.3).
///
/// An ACK is keyed as the INVITE it acknowledges. A CANCEL is a transaction
/// of its own; [`ServerKey::with_method`] gives the key of the transaction it
/// cancels.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerKey(ServerKeyKind);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ServerKeyKind {
    /// The top Via carries the magic cookie: branch, sent-by and method.
    Rfc3261 {
        branch: Bytes,
        sent_by: String,
        method: Method,
    },
    /// RFC 2543 fallback: Request-URI, From tag, Call-ID, CSeq number, top
    /// Via and method. The To tag is not compared: two requests equal in
    /// every other field are the same request, and an ACK carries the tag of
    /// the response instead of the one of its INVITE.
    Rfc2543 {
        request_uri: Bytes,
        from_tag: Option<Bytes>,
        call_id: Bytes,
        seq: u32,
        top_via: Bytes,
        method: Method,
    },
}

impl ServerKey {
    /// The key of a received request.
    pub fn from_request(request: &Message) -> Result<ServerKey, Error> {
        let (method, uri) = match (request.method(), request.request_uri()) {
            (Some(m), Some(u)) => (m, u),
            _ => return Err(Error::NotARequest),
        };
        let method = match method {
            Method::Ack => Method::Invite,
            m => m.clone(),
        };
        let via = request.top_via()?;
        if via.has_rfc3261_branch() {
            let branch = folded(via.branch().unwrap_or_default());
            return Ok(ServerKey(ServerKeyKind::Rfc3261 {
                branch,
                sent_by: via.sent_by().to_ascii_lowercase(),
                method,
            }));
        }
        let top_via = request
            .header_elements(HeaderName::Via)
            .next()
            .ok_or(crate::sip::Error::Missing("Via"))?;
        Ok(ServerKey(ServerKeyKind::Rfc2543 {
            request_uri: uri.clone(),
            from_tag: request.header_from()?.tag().map(Bytes::copy_from_slice),
            call_id: Bytes::copy_from_slice(request.call_id()?),
            seq: request.cseq()?.seq,
            top_via: Bytes::copy_from_slice(top_via),
            method,
        }))
    }

    /// The same key for another method: `with_method(Method::Invite)` on
    /// the key of a CANCEL finds the INVITE it cancels (RFC 3261 §9.2).
    pub fn with_method(&self, method: Method) -> ServerKey {
        let mut key = self.clone();
        match &mut key.0 {
            ServerKeyKind::Rfc3261 { method: m, .. } | ServerKeyKind::Rfc2543 { method: m, .. } => {
                *m = method;
            }
        }
        key
    }

    /// True for a key built from an RFC 3261 branch, false for the RFC 2543
    /// fallback.
    pub fn is_rfc3261(&self) -> bool {
        matches!(self.0, ServerKeyKind::Rfc3261 { .. })
    }
}

/// Matches a response to its client transaction (RFC 3261 §17.1.3): the
/// branch of the top Via and the method of the CSeq.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey {
    branch: Bytes,
    method: Method,
}

impl ClientKey {
    /// The key of a request about to be sent; its top Via must carry an
    /// RFC 3261 branch.
    pub fn from_request(request: &Message) -> Result<ClientKey, Error> {
        let method = request.method().ok_or(Error::NotARequest)?.clone();
        let via = request.top_via()?;
        if !via.has_rfc3261_branch() {
            return Err(Error::NoBranch);
        }
        Ok(ClientKey {
            branch: folded(via.branch().unwrap_or_default()),
            method,
        })
    }

    /// The key of a received response.
    pub fn from_response(response: &Message) -> Result<ClientKey, Error> {
        if response.status().is_none() {
            return Err(Error::NotAResponse);
        }
        let via = response.top_via()?;
        let branch = via.branch().ok_or(Error::NoBranch)?;
        Ok(ClientKey {
            branch: folded(branch),
            method: response.cseq()?.method,
        })
    }

    /// The same key for another method (a CANCEL finds its INVITE).
    pub fn with_method(&self, method: Method) -> ClientKey {
        ClientKey {
            branch: self.branch.clone(),
            method,
        }
    }
}

/// Finds the INVITE server transaction a 2xx ACK belongs to. That ACK is a
/// new transaction with a new branch; the dialog would match it properly,
/// here Call-ID, CSeq number and From tag stand in for the dialog.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct AckKey {
    call_id: Bytes,
    seq: u32,
    from_tag: Option<Bytes>,
}

impl AckKey {
    /// The key of an INVITE or of an ACK.
    pub(crate) fn from_request(request: &Message) -> Result<AckKey, Error> {
        Ok(AckKey {
            call_id: Bytes::copy_from_slice(request.call_id()?),
            seq: request.cseq()?.seq,
            from_tag: request.header_from()?.tag().map(Bytes::copy_from_slice),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Limits;

    fn parse(s: &str) -> Message {
        Message::parse(Bytes::copy_from_slice(s.as_bytes()), &Limits::default()).unwrap()
    }

    fn request(method: &str, via: &str, cseq: &str) -> Message {
        parse(&format!(
            "{method} sip:bob@example.com SIP/2.0\r\nVia: {via}\r\n\
             From: <sip:a@example.com>;tag=f1\r\nTo: <sip:bob@example.com>\r\n\
             Call-ID: c1\r\nCSeq: {cseq}\r\nMax-Forwards: 70\r\n\r\n"
        ))
    }

    #[test]
    fn ack_and_cancel_find_their_invite() {
        let via = "SIP/2.0/UDP Host.example.com:5060;branch=z9hG4bKabc";
        let invite = ServerKey::from_request(&request("INVITE", via, "1 INVITE")).unwrap();
        let ack = ServerKey::from_request(&request("ACK", via, "1 ACK")).unwrap();
        let cancel = ServerKey::from_request(&request("CANCEL", via, "1 CANCEL")).unwrap();
        assert!(invite.is_rfc3261());
        assert_eq!(ack, invite);
        assert_ne!(cancel, invite);
        assert_eq!(cancel.with_method(Method::Invite), invite);
        let other_host = "SIP/2.0/UDP other.example.com:5060;branch=z9hG4bKabc";
        let spoof = ServerKey::from_request(&request("INVITE", other_host, "1 INVITE")).unwrap();
        assert_ne!(spoof, invite);
        let case = "SIP/2.0/UDP host.EXAMPLE.com:5060;branch=z9hG4bKABC";
        let folded = ServerKey::from_request(&request("INVITE", case, "1 INVITE")).unwrap();
        assert_eq!(folded, invite);
    }

    #[test]
    fn rfc2543_fallback() {
        let via = "SIP/2.0/UDP old.example.com;branch=1234";
        let invite = ServerKey::from_request(&request("INVITE", via, "5 INVITE")).unwrap();
        assert!(!invite.is_rfc3261());
        let ack = ServerKey::from_request(&request("ACK", via, "5 ACK")).unwrap();
        assert_eq!(ack, invite);
        let next = ServerKey::from_request(&request("INVITE", via, "6 INVITE")).unwrap();
        assert_ne!(next, invite);
        let no_branch = "SIP/2.0/UDP old.example.com";
        let other = ServerKey::from_request(&request("INVITE", no_branch, "5 INVITE")).unwrap();
        assert_ne!(other, invite);
    }

    #[test]
    fn client_keys() {
        let via = "SIP/2.0/UDP gw.example.net;branch=z9hG4bKxyz";
        let invite = request("INVITE", via, "1 INVITE");
        let key = ClientKey::from_request(&invite).unwrap();
        let response = parse(&format!(
            "SIP/2.0 180 Ringing\r\nVia: {via}\r\nCSeq: 1 INVITE\r\n\r\n"
        ));
        assert_eq!(ClientKey::from_response(&response).unwrap(), key);
        let cancel_response = parse(&format!(
            "SIP/2.0 200 OK\r\nVia: {via}\r\nCSeq: 1 CANCEL\r\n\r\n"
        ));
        let cancel = ClientKey::from_response(&cancel_response).unwrap();
        assert_eq!(cancel.with_method(Method::Invite), key);
        let legacy = request("INVITE", "SIP/2.0/UDP h;branch=x", "1 INVITE");
        assert_eq!(ClientKey::from_request(&legacy), Err(Error::NoBranch));
    }
}
