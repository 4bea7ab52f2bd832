//! Fuzz target: arbitrary SDP as a browser's offer, re-offer and answer to
//! the WebRTC leg. Nothing may panic; every SDP the leg writes must parse,
//! and must not carry the browser's ICE credentials back.
#![no_main]

use std::sync::OnceLock;
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use sbc_core::media::webrtc::{WebRtcConfig, WebRtcLeg};
use sbc_core::sdp::{CodecPolicy, Limits, SessionDescription};

/// One configuration (one DTLS certificate) for every run, as a gateway.
fn config() -> &'static WebRtcConfig {
    static CONFIG: OnceLock<WebRtcConfig> = OnceLock::new();
    CONFIG.get_or_init(|| WebRtcConfig::new("192.0.2.1:10000".parse().expect("an address")))
}

/// A deterministic RNG for ICE credentials and SSRCs.
struct Counter(u64);

impl rand::RngCore for Counter {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = self.next_u32() as u8;
        }
    }
}

fn parses(sdp: &str) {
    assert!(
        SessionDescription::parse(sdp.as_bytes(), &Limits::default()).is_ok(),
        "the leg wrote SDP that does not parse:\n{sdp}"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = Instant::now();
    let mut rng = Counter(1);
    let codecs = CodecPolicy::default().allowed;
    if let Ok((mut leg, answer)) = WebRtcLeg::accept_offer(now, config(), text, &mut rng) {
        parses(&answer);
        let theirs = SessionDescription::parse(data, &Limits::default()).expect("it was read");
        if let Some(ufrag) = theirs
            .media
            .iter()
            .find_map(|m| m.ice_ufrag())
            .or(theirs.ice_ufrag())
            && ufrag.len() > 4
        {
            assert!(!answer.contains(&format!("a=ice-ufrag:{ufrag}\r\n")));
        }
        if let Ok(again) = leg.accept_reoffer(text, &mut rng) {
            parses(&again);
        }
        let _ = leg.payload_types();
    }
    let (mut leg, offer) =
        WebRtcLeg::create_offer(now, config(), &codecs, &mut rng).expect("the leg offers");
    parses(&offer);
    let _ = leg.accept_answer(text);
    let _ = leg.payload_types();
});
