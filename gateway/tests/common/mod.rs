//! Helpers shared by the gateway's integration tests: free loopback ports,
//! the SIPp scenario folder, a SIP configuration for in-process agents.
#![allow(dead_code)] // each test binary uses its own subset

use gateway::config::{Config, SipConfig};
use std::net::{TcpListener, UdpSocket};

/// A port free for both UDP and TCP on loopback right now.
pub fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The path of a SIPp scenario of `tests/sipp/`.
pub fn sipp_scenario(name: &str) -> String {
    format!("{}/tests/sipp/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A SIP configuration listening on `listen` (`udp:127.0.0.1:5070`), with
/// the per-source rate limit off (load tests come from one address).
pub fn sip_config(listen: &str) -> SipConfig {
    let toml = format!("[sip]\nlisten = [\"{listen}\"]\nrate_limit_per_ip = 0\n");
    let no_env = std::iter::empty::<(String, String)>();
    Config::from_sources(&toml, no_env, "127.0.0.1".parse().unwrap())
        .unwrap()
        .sip
}
