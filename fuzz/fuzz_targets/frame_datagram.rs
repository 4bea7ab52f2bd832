//! Fuzz target: arbitrary bytes as one UDP datagram through
//! `framing::frame_datagram`; whatever it frames as a message must parse.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sbc_core::sip::Limits;
use sbc_core::sip::framing::{Frame, frame_datagram};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(Frame::Message(f)) = frame_datagram(Bytes::copy_from_slice(data), &limits) {
        assert!(f.len() <= data.len());
        sbc_core_fuzz::check_frame(&f, &limits);
    }
});
