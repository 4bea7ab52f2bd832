//! The comparison with rtpengine must not rot: `relay_vs_rtpengine` runs
//! with 2 calls for 1 s against a real rtpengine (`scripts/test.sh`
//! installs `rtpengine-daemon`) and against our media runtime, and packets
//! must have flowed both ways through both relays. Nothing else is
//! asserted: no time, no rate. A missing rtpengine fails the test; it never
//! skips. Run it where only loopback is up (`scripts/test.sh` runs the
//! suite inside `unshare --net`): the relays take RTP ports 20000-29999.

use std::process::Command;

#[test]
fn packets_flow_both_ways_through_both_relays() {
    let out = Command::new(env!("CARGO_BIN_EXE_relay_vs_rtpengine"))
        .args(["--calls", "2", "--seconds", "1", "--warmup-ms", "200"])
        .output()
        .expect("the benchmark binary starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "relay_vs_rtpengine failed ({}); rtpengine must be installed \
         (scripts/test.sh installs rtpengine-daemon):\n{stderr}",
        out.status
    );
    for relay in ["rtpengine", "ours"] {
        let prefix = format!("RESULT relay={relay} ");
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no RESULT line for {relay}:\n{stdout}\n{stderr}"));
        let field = |name: &str| -> u64 {
            line.split(' ')
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in {line}"))
        };
        assert!(
            field("pbx_received") > 0,
            "nothing went browser -> PBX through {relay}: {line}"
        );
        assert!(
            field("browser_received") > 0,
            "nothing went PBX -> browser through {relay}: {line}"
        );
    }
}
