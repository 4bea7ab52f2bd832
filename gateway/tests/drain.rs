//! Graceful drain of the real binary: a call in progress survives the
//! first SIGTERM (the gateway turns not-ready and refuses new calls with
//! `overloaded`), and is ended cleanly when the grace period is over: the
//! PBX (SIPp) gets its BYE, the browser its `ended` by gateway, and the
//! process exits with success.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn node(args: &[String]) -> (bool, String) {
    let e2e = concat!(env!("CARGO_MANIFEST_DIR"), "/../e2e");
    let out = Command::new("node")
        .args(args)
        .current_dir(e2e)
        .output()
        .expect("node is installed");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn get(url: &str) -> (bool, String) {
    node(&["scrape.mjs".into(), url.into()])
}

fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{what} did not happen");
}

fn gateway(http: u16, sipp_port: u16, dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
        .env_remove("RUST_LOG")
        .env("SBC_HTTP_LISTEN", format!("127.0.0.1:{http}"))
        .env("SBC_HTTP_CERT", dir.join("gw.pem"))
        .env("SBC_HTTP_KEY", dir.join("gw-key.pem"))
        .env(
            "SBC_SIP_LISTEN",
            format!("udp:127.0.0.1:{}", common::free_port()),
        )
        .env("SBC_MEDIA_PUBLIC_IP", "127.0.0.1")
        .env("SBC_MEDIA_WEBRTC_PORT", common::free_port().to_string())
        .env("SBC_MEDIA_RTP_PORTS", common::rtp_ports_text(20))
        .env("SBC_PBX_URI", format!("sip:127.0.0.1:{sipp_port}"))
        .env("SBC_PBX_OPTIONS_INTERVAL_SECS", "0")
        .env("SBC_SHUTDOWN_GRACE_SECS", "4")
        .env("SBC_LOG_LEVEL", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the gateway starts")
}

#[test]
fn a_call_survives_sigterm_and_ends_cleanly_at_the_grace_limit() {
    let dir = std::env::temp_dir().join(format!("sbc-drain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let http = common::free_port();
    let sipp_port = common::free_port();
    let mut gw = gateway(http, sipp_port, &dir);
    let base = format!("https://127.0.0.1:{http}");
    wait_until("the gateway ready", || get(&format!("{base}/readyz")).0);

    let pbx = Command::new("sipp")
        .args(["-sf", &common::sipp_scenario("uas_expects_bye.xml")])
        .args(["-i", "127.0.0.1", "-p", &sipp_port.to_string()])
        .args([
            "-mi",
            "127.0.0.1",
            "-mp",
            &common::free_port().to_string(),
            "-rtp_echo",
        ])
        .args(["-m", "1", "-nostdin", "-timeout", "40s"])
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::null())
        .spawn()
        .expect("sipp is installed");

    // The call: it waits for the gateway to end it.
    let call_args: Vec<String> = [
        "ws_call.mjs",
        "--url",
        &format!("{base}/healthz"),
        "--to",
        "600",
        "--seconds",
        "1",
        "--hangup",
        "gateway",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let browser = std::thread::spawn(move || node(&call_args));
    wait_until("the call up", || {
        get(&format!("{base}/metrics"))
            .1
            .contains("sbc_calls_active 1")
    });

    let pid = gw.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    wait_until("not ready while draining", || {
        !get(&format!("{base}/readyz")).0
    });
    let (refused, answer) = node(&[
        "ws_try_call.mjs".into(),
        "--url".into(),
        format!("wss://127.0.0.1:{http}/ws"),
        "--expect".into(),
        "overloaded".into(),
    ]);
    assert!(refused, "a new call during the drain: {answer}");
    assert!(
        get(&format!("{base}/metrics"))
            .1
            .contains("sbc_calls_active 1"),
        "the call survives the first SIGTERM"
    );

    let (call_ok, out) = browser.join().unwrap();
    println!("{out}");
    assert!(
        call_ok,
        "the call went as ws_call expects (tone heard, ended by the gateway)"
    );
    let line = out
        .lines()
        .find(|l| l.starts_with('{'))
        .expect("a JSON line");
    let result: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(result["ended"]["by"], "gateway", "{result}");
    assert_eq!(result["ended"]["reason"], "the gateway is shutting down");
    let status = gw.wait().unwrap();
    assert!(status.success(), "the gateway exits cleanly: {status}");
    let sipp = pbx.wait_with_output().unwrap();
    assert!(sipp.status.success(), "SIPp got its BYE");
    let _ = std::fs::remove_dir_all(&dir);
}
