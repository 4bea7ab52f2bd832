//! Fuzz target: arbitrary bytes as a header value through every typed
//! header parser (Via, name-addr, CSeq, media type, scalars, option tags),
//! as header parameters after a fixed prefix (`<sip:x>`, `a/b`), and as the
//! value of list headers read through `HeaderAccess`, which splits elements
//! at commas.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbc_core::sip::headers::{MediaType, NameAddr};
use sbc_core::sip::{HeaderName, Message, Method};

fuzz_target!(|data: &[u8]| {
    sbc_core_fuzz::parse_value(data);

    // Header parameters on their own.
    let mut with_prefix = b"<sip:x>".to_vec();
    with_prefix.extend_from_slice(data);
    if let Ok(a) = NameAddr::parse(&with_prefix, "To") {
        sbc_core_fuzz::read_name_addr(&a);
    }
    let mut with_prefix = b"a/b".to_vec();
    with_prefix.extend_from_slice(data);
    if let Ok(t) = MediaType::parse(&with_prefix) {
        let _ = t.params.iter().count();
    }

    // As the value of every header with a typed view.
    let mut m = Message::request(Method::Options, "sip:a@b");
    let value = bytes::Bytes::copy_from_slice(data);
    for name in [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
        HeaderName::Contact,
        HeaderName::Route,
        HeaderName::RecordRoute,
        HeaderName::MaxForwards,
        HeaderName::ContentLength,
        HeaderName::ContentType,
        HeaderName::Expires,
        HeaderName::Supported,
        HeaderName::Require,
        HeaderName::Accept,
        HeaderName::Date,
        HeaderName::Authorization,
    ] {
        m.headers.push(name, value.clone());
    }
    sbc_core_fuzz::read_everything(&m);
    let _ = sbc_core::sip::validate::validate_request(&m);
    let _ = sbc_core::sip::validate::check_as_uas(&m, &Default::default());
});
