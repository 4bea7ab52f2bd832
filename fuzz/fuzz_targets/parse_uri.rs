//! Fuzz target: arbitrary bytes through `Uri::parse` and `Host::parse`,
//! then every part of the URI read back; a parsed URI is exactly its input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbc_core::sip::uri::{Host, Uri};

fuzz_target!(|data: &[u8]| {
    if let Ok(u) = Uri::parse(data) {
        assert_eq!(u.as_bytes(), data);
        sbc_core_fuzz::read_uri(&u);
    }
    if let Ok(h) = Host::parse(data) {
        let _ = h.to_string();
    }
});
