//! Helpers shared by the gateway's integration tests: free loopback ports,
//! the SIPp scenario folder, a SIP configuration for in-process agents.
#![allow(dead_code)] // each test binary uses its own subset

use gateway::config::{Config, SipConfig};
use std::net::{TcpListener, UdpSocket};
use std::ops::RangeInclusive;

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

/// The lowest port of the ephemeral range (Linux's default
/// `ip_local_port_range` starts at 32768), where [`free_port`]'s ports are.
const EPHEMERAL_START: u16 = 32768;

/// An RTP port range of `len` ports starting on an even port, below the
/// ephemeral range: no port [`free_port`] hands out (for the WebRTC, SIP or
/// HTTP listeners, or a peer) can fall inside it, which consecutive free
/// ports could (the gateway refuses a WebRTC port inside its RTP range).
/// Ranges of tests running at once may overlap: the allocator skips pairs
/// that are taken.
pub fn rtp_ports(len: u16) -> RangeInclusive<u16> {
    let lowest = 20_000u16;
    let first = (lowest + rand::random_range(0..(EPHEMERAL_START - lowest - len))) & !1;
    first..=first + len - 1
}

/// [`rtp_ports`] as the `first-last` text of `media.rtp_ports`.
pub fn rtp_ports_text(len: u16) -> String {
    let range = rtp_ports(len);
    format!("{}-{}", range.start(), range.end())
}

/// Runs the `e2e/` Node script `script` with `args` (off the async
/// runtime) and returns the JSON line it printed, which it also echoes.
/// Panics with the script's output when it printed none.
pub async fn run_e2e(script: &str, args: Vec<String>) -> serde_json::Value {
    let mut all = vec![script.to_owned()];
    all.extend(args);
    let e2e = concat!(env!("CARGO_MANIFEST_DIR"), "/../e2e");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .args(&all)
            .current_dir(e2e)
            .output()
            .expect("node is installed (scripts/test.sh installs nodejs and runs npm ci in e2e/)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON from {script}:\n{stdout}\n{stderr}"));
    println!("{line}");
    serde_json::from_str(line).unwrap()
}

/// Checks `done` every 50 ms until it holds, for at most `limit`; whether
/// it held. Tests wait on a condition this way, never on a fixed sleep.
pub async fn poll_until(limit: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while !done() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    true
}
