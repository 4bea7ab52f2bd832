//! Browser calls end to end, through the whole gateway started in-process
//! (`gateway::app`): headless Chromium speaks protocol v1 on `/ws`
//! (`e2e/ws_call.mjs`), the SIP leg goes to the demo PBX or to SIPp
//! playing a scenario, and audio is proven by the dominant frequency of
//! what the browser hears. Runs inside the test suite's private network
//! namespace (loopback only).
//!
//! The tests are grouped by what they exercise: `calls.rs` (calls the
//! browser places, their media and mid-call features), `registrations.rs`
//! (registering, and calls from the PBX to a registered browser),
//! `sessions.rs` (resume, tokens, other origins) and `operations.rs`
//! (metrics, readiness, Prometheus, the admin API). This file holds what
//! they share: starting the gateway, the `e2e/` scripts and SIPp.

#[path = "../common/mod.rs"]
mod common;

mod calls;
mod operations;
mod registrations;
mod sessions;

use gateway::app::{self, App};
use gateway::config::Config;
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The gateway with `extra` TOML appended to a loopback configuration
/// (its own SIP port, RTP range and certificate folder).
async fn start_gateway(extra: &str) -> App {
    start_gateway_with(extra, &[]).await
}

/// [`start_gateway`] with `SBC_*` variables as well.
async fn start_gateway_with(extra: &str, env: &[(&str, &str)]) -> App {
    let dir = tempdir();
    let toml = format!(
        "[http]\nlisten = \"127.0.0.1:0\"\ncert = \"{dir}/gw.pem\"\nkey = \"{dir}/gw-key.pem\"\n\
         [sip]\nlisten = [\"udp:127.0.0.1:{sip}\"]\nrate_limit_per_ip = 0\n\
         [media]\npublic_ip = \"127.0.0.1\"\nwebrtc_port = {webrtc}\nrtp_ports = \"{rtp}\"\n{extra}",
        dir = dir.display(),
        sip = common::free_port(),
        webrtc = common::free_port(),
        rtp = common::rtp_ports_text(40),
    );
    let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
    let config = Config::from_sources(&toml, env, "127.0.0.1".parse().unwrap()).unwrap();
    app::start(&config).await.expect("the gateway starts")
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sbc-browser-calls-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the `e2e/` script `script` with `args`; its JSON line.
async fn run_node(script: &str, args: Vec<String>) -> Value {
    common::run_e2e(script, args).await
}

/// `--url <gateway url><path>` followed by `args`.
fn url_and(gw: &App, scheme: &str, path: &str, args: &[&str]) -> Vec<String> {
    let url = format!("{scheme}://{}{path}", gw.http.local_addr);
    ["--url".to_owned(), url]
        .into_iter()
        .chain(args.iter().map(|a| (*a).to_owned()))
        .collect()
}

/// Runs `e2e/ws_call.mjs` against `gw` with `args`.
async fn ws_call(gw: &App, args: &[&str]) -> Value {
    run_node("ws_call.mjs", url_and(gw, "https", "/healthz", args)).await
}

/// Runs `e2e/ws_register.mjs` against `gw` with `args`.
async fn ws_register(gw: &App, args: &[&str]) -> Value {
    run_node("ws_register.mjs", url_and(gw, "wss", "/ws", args)).await
}

fn assert_ok(result: &Value) {
    assert_eq!(
        result["ok"], true,
        "the call did not go as expected: {result}"
    );
}

/// No OPTIONS pings to a SIPp PBX: its scenario expects only the call.
const NO_PINGS: &str = "options_interval_secs = 0\n";

/// SIPp playing `scenario` as the PBX on `port`, echoing RTP on a media
/// port of its own.
fn sipp(scenario: &str, port: u16, extra: &[&str]) -> Child {
    sipp_media(scenario, port, extra, true)
}

/// [`sipp`], with or without the RTP echo.
fn sipp_media(scenario: &str, port: u16, extra: &[&str], echo: bool) -> Child {
    let media_port = common::free_port().to_string();
    let echo = if echo { &["-rtp_echo"][..] } else { &[][..] };
    Command::new("sipp")
        .args(["-sf", &common::sipp_scenario(scenario)])
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-mi", "127.0.0.1", "-mp", &media_port])
        .args(echo)
        .args(if extra.contains(&"-m") {
            &[][..]
        } else {
            &["-m", "1"][..]
        })
        .args(["-nostdin", "-timeout", "40s"])
        .args(extra)
        // Its log files (-trace_*) go to a scratch folder, not the crate.
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sipp is installed (scripts/test.sh installs sip-tester)")
}

/// Waits for SIPp to finish; its exit status must say the scenario passed.
async fn sipp_passed(mut child: Child) {
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "SIPp's scenario failed: {status}");
}

/// One browser call (`e2e/ws_call.mjs` with `args`) through a gateway
/// configured with `gateway_extra` to SIPp playing `scenario` as the PBX.
/// SIPp's scenario must pass; the browser's result is returned for the
/// test's own checks.
async fn call_sipp(scenario: &str, gateway_extra: &str, args: &[&str]) -> Value {
    let (gw, port) = gateway_to_sipp(gateway_extra).await;
    let mut pbx = sipp(scenario, port, &[]);
    let result = ws_call(&gw, args).await;
    let status = tokio::task::spawn_blocking(move || pbx.wait())
        .await
        .unwrap()
        .unwrap();
    gw.stop().await;
    assert!(
        status.success(),
        "SIPp's scenario {scenario} failed ({status}); the browser saw: {result}"
    );
    result
}

async fn gateway_to_sipp(extra: &str) -> (App, u16) {
    let port = common::free_port();
    let gw = start_gateway(&format!(
        "[pbx]\nuri = \"sip:127.0.0.1:{port}\"\n{NO_PINGS}{extra}"
    ))
    .await;
    (gw, port)
}

/// An HTTPS request to the gateway through `e2e/http.mjs`:
/// `{"status": …, "body": …}`.
async fn https_request(gw: &App, method: &str, path: &str, token: Option<&str>) -> Value {
    let mut args = vec![
        "http.mjs".to_owned(),
        method.to_owned(),
        format!("https://{}{path}", gw.http.local_addr),
    ];
    args.extend(token.map(str::to_owned));
    run_node("http.mjs", args.split_off(1)).await
}

/// GETs `path` of the admin API until `done` holds of the answer (at most
/// 10 s); the last answer.
async fn admin_poll(gw: &App, path: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut answer = Value::Null;
    for _ in 0..40 {
        answer = https_request(gw, "GET", path, Some(token)).await;
        if done(&answer) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    answer
}
