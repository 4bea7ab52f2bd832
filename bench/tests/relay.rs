//! The relay benchmark's workload relays every packet, intact, both ways.

use sbc_bench::relay::{self, RelayConfig};

const CONFIG: RelayConfig = RelayConfig {
    calls: 3,
    seconds: 1,
};

#[test]
fn srtp_relay_delivers_every_packet() {
    let r = relay::srtp::run(CONFIG);
    assert_eq!(r.lost, 0);
    assert_eq!(r.browser_to_pbx, 150);
    assert_eq!(r.pbx_to_browser, 150);
    assert!(r.srtp_profile.is_some());
}

#[test]
fn plain_relay_delivers_every_packet() {
    let r = relay::plain::run(CONFIG);
    assert_eq!(r.lost, 0);
    assert_eq!(r.relayed(), 300);
}
