//! Fuzz target: arbitrary bytes through the STUN USERNAME extraction that
//! routes datagrams on the shared WebRTC port, then through the demux.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbc_core::media::webrtc::{Demux, LegId, stun_username};

fuzz_target!(|data: &[u8]| {
    if let Some((local, remote)) = stun_username(data) {
        assert!(!local.contains(':'));
        let _ = remote.len();
    }
    let mut demux = Demux::new();
    demux.insert_leg(LegId(1), "ufrag");
    let from = "198.51.100.7:5000".parse().expect("a literal address");
    let to = "192.0.2.1:10000".parse().expect("a literal address");
    let _ = demux.route(from, to, data);
});
