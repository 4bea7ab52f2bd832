//! The requests a client transaction derives from its INVITE: the ACK of a
//! non-2xx final response (RFC 3261 §17.1.1.3) and the CANCEL (§9.1). Both
//! travel on the INVITE's branch, so the same hop matches them.

use crate::sip::Error;
use crate::sip::header_name::HeaderName;
use crate::sip::headers::HeaderAccess;
use crate::sip::message::Message;
use crate::sip::method::Method;
use bytes::Bytes;

/// A CANCEL for `invite` (RFC 3261 §9.1): same Request-URI, Call-ID, From,
/// To and CSeq number, method CANCEL, the INVITE's top Via only, its Route
/// headers; no Require, Proxy-Require or body.
pub fn build_cancel(invite: &Message) -> Result<Message, Error> {
    derived(invite, Method::Cancel, None)
}

/// The ACK for a non-2xx final `response` to `invite` (RFC 3261
/// §17.1.1.3): the INVITE's Request-URI, Call-ID, From and top Via, the To
/// of the response (with its tag), CSeq number with method ACK, the
/// INVITE's Route headers.
pub fn build_ack(invite: &Message, response: &Message) -> Result<Message, Error> {
    let to = response.headers.get(HeaderName::To);
    derived(invite, Method::Ack, to)
}

fn derived(invite: &Message, method: Method, to: Option<&Bytes>) -> Result<Message, Error> {
    let uri = invite.request_uri().ok_or(Error::StartLine)?;
    let seq = invite.cseq()?.seq;
    let top_via = invite
        .header_elements(HeaderName::Via)
        .next()
        .ok_or(Error::Missing("Via"))?;
    let mut m = Message::request(method.clone(), uri.clone());
    m.headers
        .push(HeaderName::Via, Bytes::copy_from_slice(top_via));
    let max_forwards = invite
        .headers
        .get(HeaderName::MaxForwards)
        .cloned()
        .unwrap_or(Bytes::from_static(b"70"));
    m.headers.push(HeaderName::MaxForwards, max_forwards);
    for h in invite.headers.iter() {
        match h.name {
            HeaderName::Route | HeaderName::From | HeaderName::CallId => {
                m.headers.push(h.name, h.value.clone());
            }
            HeaderName::To => {
                m.headers
                    .push(h.name, to.cloned().unwrap_or_else(|| h.value.clone()));
            }
            _ => {}
        }
    }
    m.headers
        .push(HeaderName::CSeq, Bytes::from(format!("{seq} {method}")));
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Limits;

    fn parse(s: &'static [u8]) -> Message {
        Message::parse(Bytes::from_static(s), &Limits::default()).unwrap()
    }

    const INVITE: &[u8] = b"INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP gw.example.net;branch=z9hG4bKgw, SIP/2.0/UDP a.example.com;branch=z9hG4bKa\r\n\
Route: <sip:p1.example.com;lr>\r\nRoute: <sip:p2.example.com;lr>\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=fa\r\nTo: <sip:bob@example.com>\r\n\
Call-ID: cid\r\nCSeq: 9 INVITE\r\nRequire: 100rel\r\nContent-Type: application/sdp\r\n\
Content-Length: 4\r\n\r\nv=0\n";

    #[test]
    fn ack_for_a_failure_response() {
        let invite = parse(INVITE);
        let busy = parse(
            b"SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP gw.example.net;branch=z9hG4bKgw\r\n\
From: <sip:a@example.com>;tag=fa\r\nTo: <sip:bob@example.com>;tag=b7\r\n\
Call-ID: cid\r\nCSeq: 9 INVITE\r\n\r\n",
        );
        let ack = build_ack(&invite, &busy).unwrap();
        assert_eq!(ack.method(), Some(&Method::Ack));
        assert_eq!(ack.request_uri().unwrap(), "sip:bob@example.com");
        let vias: Vec<_> = ack.vias().collect();
        assert_eq!(vias.len(), 1);
        assert_eq!(vias[0].as_ref().unwrap().branch(), Some(&b"z9hG4bKgw"[..]));
        assert_eq!(ack.header_to().unwrap().tag(), Some(&b"b7"[..]));
        assert_eq!(ack.header_from().unwrap().tag(), Some(&b"fa"[..]));
        let cseq = ack.cseq().unwrap();
        assert_eq!((cseq.seq, cseq.method), (9, Method::Ack));
        assert_eq!(ack.routes().count(), 2);
        assert!(ack.body.is_empty());
        assert!(ack.headers.get(HeaderName::Require).is_none());
        assert!(ack.headers.get(HeaderName::ContentType).is_none());
    }

    #[test]
    fn cancel_mirrors_the_invite() {
        let cancel = build_cancel(&parse(INVITE)).unwrap();
        assert_eq!(cancel.method(), Some(&Method::Cancel));
        assert_eq!(cancel.vias().count(), 1);
        assert_eq!(cancel.header_to().unwrap().tag(), None);
        assert_eq!(cancel.cseq().unwrap().method, Method::Cancel);
        assert_eq!(cancel.routes().count(), 2);
        assert!(cancel.headers.get(HeaderName::Require).is_none());
        let text = cancel.to_bytes();
        assert!(Message::parse(text, &Limits::default()).is_ok());
        let response = parse(b"SIP/2.0 200 OK\r\n\r\n");
        assert_eq!(build_cancel(&response), Err(Error::StartLine));
    }
}
