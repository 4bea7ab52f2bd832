//! What the fuzz targets share: every typed accessor over a parsed message,
//! and the invariants a parsed or framed message must keep. An invariant
//! that breaks is an `assert!`, so libFuzzer records it as a crash.

use bytes::Bytes;
use sbc_core::sip::headers::scalar::{parse_expires, parse_max_forwards, tokens};
use sbc_core::sip::headers::{CSeq, HeaderAccess, MediaType, NameAddr, Via};
use sbc_core::sip::uri::{Host, Uri};
use sbc_core::sip::validate::{
    UasPolicy, check_as_uas, is_for_uac, validate_request, validate_response,
};
use sbc_core::sip::{HeaderName, Limits, Message, MessageView};

/// Calls every typed accessor of [`HeaderAccess`] and reads what they give.
pub fn read_everything(m: &impl HeaderAccess) {
    if let Ok(v) = m.top_via() {
        let _ = (v.branch(), v.received(), v.rport(), v.sent_by());
        let _ = v.has_rfc3261_branch();
    }
    for v in m.vias().flatten() {
        let _ = v.params.iter().count();
    }
    for a in [m.header_from(), m.header_to()].into_iter().flatten() {
        read_name_addr(&a);
    }
    let _ = (m.call_id(), m.cseq(), m.max_forwards(), m.content_length());
    let _ = (m.expires(), m.is_wildcard_contact());
    if let Ok(Some(t)) = m.content_type() {
        let _ = (t.is("application", "sdp"), t.params.iter().count());
    }
    for a in m
        .contacts()
        .chain(m.routes())
        .chain(m.record_routes())
        .flatten()
    {
        read_name_addr(&a);
    }
    for name in [
        HeaderName::Supported,
        HeaderName::Require,
        HeaderName::ProxyRequire,
        HeaderName::Unsupported,
        HeaderName::Allow,
    ] {
        let _ = m.option_tags(name).count();
    }
}

/// Reads every part of an address.
pub fn read_name_addr(a: &NameAddr<'_>) {
    let _ = (a.tag(), a.display, a.params.get("expires"));
    let _ = a.params.iter().count();
    read_uri(&a.uri);
}

/// Reads every part of a URI.
pub fn read_uri(u: &Uri<'_>) {
    let _ = (u.user, u.password, u.port, u.headers(), u.is_sip());
    let _ = (u.param("transport"), u.param("lr"), u.params().count());
    if let Some(h) = &u.host {
        let _ = h.to_string();
    }
}

/// Runs every typed parser on one header value.
pub fn parse_value(value: &[u8]) {
    if let Ok(v) = Via::parse(value) {
        let _ = (v.branch(), v.received(), v.rport(), v.sent_by());
    }
    for header in ["To", "Contact"] {
        if let Ok(a) = NameAddr::parse(value, header) {
            read_name_addr(&a);
        }
    }
    let _ = CSeq::parse(value);
    if let Ok(t) = MediaType::parse(value) {
        let _ = (t.is("application", "sdp"), t.params.iter().count());
    }
    if let Ok(u) = Uri::parse(value) {
        read_uri(&u);
    }
    let _ = (
        Host::parse(value),
        parse_max_forwards(value),
        parse_expires(value),
    );
    let _ = tokens(value).count();
}

/// Everything a parsed message must survive: accessors, every typed parser
/// on every value, validation, UAS checks, and printing, which must settle
/// the message in one pass (only Content-Length lines may change, and a
/// second print is byte-identical).
pub fn check_message(m: &Message) {
    read_everything(m);
    for h in m.headers.iter() {
        parse_value(&h.value);
    }
    if m.is_request() {
        let _ = validate_request(m);
        let _ = check_as_uas(m, &UasPolicy::default());
    } else {
        let _ = (validate_response(m), is_for_uac(m));
    }
    let relaxed = Limits {
        max_message_size: usize::MAX,
        max_headers: usize::MAX,
    };
    let printed = m.to_bytes();
    let again = Message::parse(printed.clone(), &relaxed).expect("a printed message parses");
    assert_eq!(again.to_bytes(), printed, "printing is a fixpoint");
    let not_length = |h: &&sbc_core::sip::Header| h.name != HeaderName::ContentLength;
    assert_eq!(again.start, m.start);
    assert_eq!(again.body, m.body);
    assert!(
        again
            .headers
            .iter()
            .filter(not_length)
            .eq(m.headers.iter().filter(not_length)),
        "printing keeps every header but Content-Length"
    );
}

/// A frame from either framer holds exactly one message, which parses.
pub fn check_frame(frame: &Bytes, limits: &Limits) -> Message {
    let view = MessageView::parse(frame, limits).expect("a framed message parses");
    let m = Message::from_view(&view, frame).expect("a framed message parses");
    assert_eq!(
        view.head_len + m.body.len(),
        frame.len(),
        "one message per frame"
    );
    check_message(&m);
    m
}
