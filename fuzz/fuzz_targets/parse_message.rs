//! Fuzz target: arbitrary bytes through `MessageView::parse` and
//! `Message::parse`, then every typed accessor, validation, the UAS checks
//! and the printer (see `sbc_core_fuzz::check_message`).
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sbc_core::sip::headers::HeaderAccess;
use sbc_core::sip::{Limits, Message, MessageView};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(view) = MessageView::parse(data, &limits) {
        let _ = (view.method(), view.is_request());
        sbc_core_fuzz::read_everything(&view);
        let _ = view.header_elements(sbc_core::sip::HeaderName::Via).count();
    }
    if let Ok(m) = Message::parse(Bytes::copy_from_slice(data), &limits) {
        sbc_core_fuzz::check_message(&m);
    }
});
