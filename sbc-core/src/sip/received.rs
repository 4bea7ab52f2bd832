//! Stamping a received request's top Via with where it really came from
//! (RFC 3261 §18.2.1, RFC 3581): `received` when the Via's host is not the
//! packet's source address, and the source port in a valueless `rport`.
//! Responses copy the Via, so they tell a client behind NAT its public
//! address, and a proxy between us and the client can route them back.

use super::error::Error;
use super::header_name::HeaderName;
use super::headers::HeaderAccess;
use super::message::Message;
use super::uri::Host;
use bytes::Bytes;
use std::net::{IpAddr, SocketAddr};

/// Adds `received` and fills `rport` on the top Via of `request`, received
/// from `source`. Leaves the request untouched when neither is needed.
pub fn stamp_received(request: &mut Message, source: SocketAddr) -> Result<(), Error> {
    let via = request.top_via()?;
    let host_is_source = match via.host {
        Host::V4(ip) => IpAddr::V4(ip) == source.ip(),
        Host::V6(ip) => IpAddr::V6(ip) == source.ip(),
        Host::Domain(_) => false,
    };
    let rport_requested = via.rport() == Some(None);
    if host_is_source && !rport_requested {
        return Ok(());
    }
    let Some(first) = request.header_elements(HeaderName::Via).next() else {
        return Err(Error::Missing("Via"));
    };
    let mut stamped = Vec::with_capacity(first.len() + 48);
    let mut copied = 0;
    for (name, value) in via.params.iter() {
        let name_start = name.as_ptr() as usize - first.as_ptr() as usize;
        let name_end = name_start + name.len();
        if name.eq_ignore_ascii_case(b"rport") && value.is_none() {
            stamped.extend_from_slice(&first[copied..name_end]);
            stamped.extend_from_slice(format!("={}", source.port()).as_bytes());
            copied = name_end;
        } else if name.eq_ignore_ascii_case(b"received") && !host_is_source {
            // An upstream `received` is replaced by ours below: drop it with
            // the `;` before it.
            let param_end = value.map_or(name_end, |v| {
                v.as_ptr() as usize - first.as_ptr() as usize + v.len()
            });
            let semi = first[..name_start]
                .iter()
                .rposition(|&b| b == b';')
                .unwrap_or(name_start);
            stamped.extend_from_slice(&first[copied..semi]);
            copied = param_end;
        }
    }
    stamped.extend_from_slice(&first[copied..]);
    if !host_is_source {
        stamped.extend_from_slice(format!(";received={}", source.ip()).as_bytes());
    }
    request.headers.pop_front(HeaderName::Via);
    request
        .headers
        .push_front(HeaderName::Via, Bytes::from(stamped));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::parse::Limits;

    fn request(via: &str) -> Message {
        let text = format!(
            "OPTIONS sip:a@b SIP/2.0\r\nVia: {via}\r\nVia: SIP/2.0/UDP second.example.com\r\n\
             From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n"
        );
        Message::parse(Bytes::from(text), &Limits::default()).unwrap()
    }

    fn top(m: &Message) -> String {
        String::from_utf8(m.header_elements(HeaderName::Via).next().unwrap().to_vec()).unwrap()
    }

    #[test]
    fn nat_client_gets_received_and_rport() {
        let mut m = request("SIP/2.0/UDP 10.0.0.7:5060;rport;branch=z9hG4bK1");
        stamp_received(&mut m, "203.0.113.9:40123".parse().unwrap()).unwrap();
        assert_eq!(
            top(&m),
            "SIP/2.0/UDP 10.0.0.7:5060;rport=40123;branch=z9hG4bK1;received=203.0.113.9"
        );
        let via = m.top_via().unwrap();
        assert_eq!(via.rport(), Some(Some(40123)));
        assert_eq!(via.received(), Some(&b"203.0.113.9"[..]));
        assert_eq!(m.vias().count(), 2, "the second Via is kept");
    }

    #[test]
    fn matching_host_without_rport_is_untouched() {
        let mut m = request("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1");
        let before = m.clone();
        stamp_received(&mut m, "192.0.2.1:5060".parse().unwrap()).unwrap();
        assert_eq!(m, before);
    }

    #[test]
    fn domain_hosts_ipv6_and_stale_received() {
        let mut m = request("SIP/2.0/TCP pc.example.com;received=198.51.100.1;branch=z9hG4bK2");
        stamp_received(&mut m, "[2001:db8::5]:5070".parse().unwrap()).unwrap();
        assert_eq!(
            top(&m),
            "SIP/2.0/TCP pc.example.com;branch=z9hG4bK2;received=2001:db8::5"
        );
        assert_eq!(m.top_via().unwrap().received(), Some(&b"2001:db8::5"[..]));
        let mut same = request("SIP/2.0/UDP 192.0.2.1;rport");
        stamp_received(&mut same, "192.0.2.1:5062".parse().unwrap()).unwrap();
        assert_eq!(top(&same), "SIP/2.0/UDP 192.0.2.1;rport=5062");
    }
}
