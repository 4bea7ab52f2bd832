//! Fuzz target: arbitrary bytes as one datagram on a shared RTP/RTCP port:
//! classified (RFC 5761), parsed as RTP (every accessor read, every field
//! rewritten in place) and as a compound RTCP packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbc_core::media::rtcp::parse_compound;
use sbc_core::media::rtp::{RtpMut, RtpView, Ssrc, classify};

fuzz_target!(|data: &[u8]| {
    let _ = classify(data);
    if let Ok(v) = RtpView::parse(data) {
        assert!(v.header_len() + v.payload().len() <= data.len());
        let _ = (v.marker(), v.payload_type(), v.sequence_number(), v.timestamp(), v.ssrc());
        let _ = v.csrcs().count();
        for (_, value) in v.extension_elements() {
            assert!(value.len() <= data.len());
        }
    }
    let mut buf = data.to_vec();
    if let Ok(mut m) = RtpMut::new(&mut buf) {
        m.set_payload_type(0xff);
        m.set_sequence_number(1);
        m.set_timestamp(2);
        m.set_ssrc(Ssrc(3));
        let v = m.view();
        assert_eq!((v.payload_type(), v.sequence_number(), v.timestamp(), v.ssrc()), (0x7f, 1, 2, Ssrc(3)));
    }
    let _ = parse_compound(data);
});
