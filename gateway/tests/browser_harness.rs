//! The browser harness itself, before any gateway is involved: headless
//! Chromium (Debian's, driven by playwright-core from `e2e/`) sends its fake
//! microphone's 440 Hz tone from one peer connection to another on loopback,
//! and the received audio's dominant frequency must be 440 Hz. Later browser
//! tests put the gateway between the two ends; this one proves the tools.

use std::process::Command;

#[test]
fn chromium_sends_and_measures_a_440_hz_tone() {
    let e2e = concat!(env!("CARGO_MANIFEST_DIR"), "/../e2e");
    let out = Command::new("node")
        .arg("selftest.mjs")
        .current_dir(e2e)
        .output()
        .expect("node is installed (scripts/test.sh installs nodejs and runs npm ci in e2e/)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("\"ok\":true"),
        "browser self-test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
