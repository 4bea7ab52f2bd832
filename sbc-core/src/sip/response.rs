//! Building a response from the request it answers (RFC 3261 §8.2.6): the
//! headers a response copies from its request, and the To tag a UAS adds.

use super::header_name::HeaderName;
use super::headers::NameAddr;
use super::message::Message;
use bytes::{Bytes, BytesMut};

/// A response to `request` with status `code`: copies every Via (in order),
/// From, To, Call-ID and CSeq, and for a 100 also Timestamp (§8.2.6.1).
///
/// `to_tag` is added to To when To has no tag yet; give one for every
/// response but 100 Trying (§8.2.6.2). A To that does not parse is copied
/// as it is. No body, no Contact: the caller adds what its method needs.
pub fn response_to(
    request: &Message,
    code: u16,
    reason: impl Into<Bytes>,
    to_tag: Option<&str>,
) -> Message {
    let mut response = Message::response(code, reason);
    for h in request.headers.iter() {
        match h.name {
            HeaderName::Via | HeaderName::From | HeaderName::CallId | HeaderName::CSeq => {
                response.headers.push(h.name, h.value.clone());
            }
            HeaderName::To => {
                response.headers.push(h.name, with_tag(&h.value, to_tag));
            }
            HeaderName::Other if code == 100 && h.raw_name.eq_ignore_ascii_case(b"Timestamp") => {
                response
                    .headers
                    .push_raw(Bytes::from_static(b"Timestamp"), h.value.clone());
            }
            _ => {}
        }
    }
    response
}

/// `to` with `;tag=<tag>` appended, unless it already has a tag, `tag` is
/// `None`, or `to` does not parse.
fn with_tag(to: &Bytes, tag: Option<&str>) -> Bytes {
    let Some(tag) = tag else {
        return to.clone();
    };
    match NameAddr::parse(to, "To") {
        Ok(addr) if addr.tag().is_none() => {
            let mut out = BytesMut::with_capacity(to.len() + 5 + tag.len());
            out.extend_from_slice(to);
            out.extend_from_slice(b";tag=");
            out.extend_from_slice(tag.as_bytes());
            out.freeze()
        }
        _ => to.clone(),
    }
}

/// The reason phrase the gateway sends with `code`: the RFC 3261 §21 (and
/// RFC 3262, 3265, 4028, 3329) phrase where there is one, else a phrase for
/// the code's class. Reason phrases are for people; nothing may act on them.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        422 => "Session Interval Too Small",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        489 => "Bad Event",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => class_phrase(code),
    }
}

/// A phrase for `code`'s class, for codes without a phrase of their own.
fn class_phrase(code: u16) -> &'static str {
    match code / 100 {
        1 => "Progress",
        2 => "OK",
        3 => "Redirection",
        4 => "Request Failure",
        5 => "Server Failure",
        _ => "Global Failure",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Limits;
    use crate::sip::headers::HeaderAccess;

    const INVITE: &[u8] = b"INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bK1\r\n\
v: SIP/2.0/UDP a.example.com;branch=z9hG4bK2;received=192.0.2.1\r\n\
Max-Forwards: 69\r\nFrom: <sip:a@example.com>;tag=fa\r\nt: Bob <sip:bob@example.com>\r\n\
Call-ID: cid\r\nCSeq: 7 INVITE\r\nTimestamp: 54\r\nContact: <sip:a@192.0.2.1>\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn copies_the_transaction_headers() {
        let req = Message::parse(Bytes::from_static(INVITE), &Limits::default()).unwrap();
        let trying = response_to(&req, 100, "Trying", None);
        assert_eq!(trying.status(), Some(100));
        assert_eq!(trying.vias().count(), 2);
        assert_eq!(trying.header_to().unwrap().tag(), None);
        assert_eq!(trying.headers.get_raw("timestamp").unwrap(), "54");
        assert!(trying.headers.get(HeaderName::Contact).is_none());
        assert!(trying.headers.get(HeaderName::MaxForwards).is_none());

        let ok = response_to(&req, 200, "OK", Some("uas1"));
        assert_eq!(ok.header_to().unwrap().tag(), Some(&b"uas1"[..]));
        assert_eq!(ok.header_from().unwrap().tag(), Some(&b"fa"[..]));
        assert_eq!(ok.call_id().unwrap(), b"cid");
        assert_eq!(ok.cseq().unwrap().seq, 7);
        assert!(ok.headers.get_raw("Timestamp").is_none());
        let printed = ok.to_bytes();
        let again = Message::parse(printed, &Limits::default()).unwrap();
        assert_eq!(again.top_via().unwrap().branch(), Some(&b"z9hG4bK1"[..]));

        let again_tagged = response_to(&ok, 200, "OK", Some("other"));
        assert_eq!(again_tagged.header_to().unwrap().tag(), Some(&b"uas1"[..]));
    }
}
