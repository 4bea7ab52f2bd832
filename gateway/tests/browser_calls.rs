//! Browser calls end to end, through the whole gateway started in-process
//! (`gateway::app`): headless Chromium speaks protocol v1 on `/ws`
//! (`e2e/ws_call.mjs`), the SIP leg goes to the demo PBX or to SIPp
//! playing a scenario, and audio is proven by the dominant frequency of
//! what the browser hears. Runs inside the test suite's private network
//! namespace (loopback only).

mod common;

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
    let rtp = common::free_port() & !1;
    let toml = format!(
        "[http]\nlisten = \"127.0.0.1:0\"\ncert = \"{dir}/gw.pem\"\nkey = \"{dir}/gw-key.pem\"\n\
         [sip]\nlisten = [\"udp:127.0.0.1:{sip}\"]\nrate_limit_per_ip = 0\n\
         [media]\npublic_ip = \"127.0.0.1\"\nwebrtc_port = {webrtc}\nrtp_ports = \"{rtp}-{end}\"\n{extra}",
        dir = dir.display(),
        sip = common::free_port(),
        webrtc = common::free_port(),
        end = rtp.saturating_add(39),
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
    let mut all = vec![script.to_owned()];
    all.extend(args);
    let e2e = concat!(env!("CARGO_MANIFEST_DIR"), "/../e2e");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
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

async fn gateway_to_sipp(extra: &str) -> (App, u16) {
    let port = common::free_port();
    let gw = start_gateway(&format!(
        "[pbx]\nuri = \"sip:127.0.0.1:{port}\"\n{NO_PINGS}{extra}"
    ))
    .await;
    (gw, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_pbx_echoes_on_600_plays_a_tone_on_601_and_refuses_others() {
    let gw = start_gateway("").await;
    assert!(gw.demo.is_some(), "no pbx.uri: the demo PBX runs");
    let echo = ws_call(
        &gw,
        &[
            "--to",
            "600",
            "--tone",
            "440",
            "--seconds",
            "6",
            "--expect-quality",
        ],
    )
    .await;
    assert_ok(&echo);
    assert_eq!(echo["srtpCipher"], "SRTP_AEAD_AES_256_GCM");
    let tone = ws_call(&gw, &["--to", "601", "--tone", "440", "--expect", "1000"]).await;
    assert_ok(&tone);
    let unknown = ws_call(&gw, &["--to", "699", "--expect-end", "404"]).await;
    assert_ok(&unknown);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_pbx_ends_the_call_with_486() {
    let (gw, port) = gateway_to_sipp("").await;
    let pbx = sipp("uas_busy.xml", port, &[]);
    let result = ws_call(&gw, &["--to", "600", "--expect-end", "486"]).await;
    assert_ok(&result);
    assert_eq!(result["ended"]["by"], "remote");
    assert_eq!(result["ended"]["reason"], "Busy Here");
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_media_of_a_183_is_heard_before_the_answer() {
    let (gw, port) = gateway_to_sipp("").await;
    let pbx = sipp("uas_early_media.xml", port, &[]);
    let result = ws_call(
        &gw,
        &[
            "--to",
            "600",
            "--tone",
            "440",
            "--early-seconds",
            "1.5",
            "--seconds",
            "1",
        ],
    )
    .await;
    assert_ok(&result);
    let frames: Vec<&str> = result["frames"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(frames.contains(&"progress:183"), "{frames:?}");
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_up_while_ringing_cancels_the_invite() {
    let (gw, port) = gateway_to_sipp("").await;
    let pbx = sipp("uas_cancel.xml", port, &[]);
    let result = ws_call(&gw, &["--to", "600", "--hangup", "early"]).await;
    assert_ok(&result);
    // SIPp passes only if the CANCEL came and the 487 was ACKed.
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_and_resume_from_the_pbx_reach_the_browser_and_media_survives() {
    let (gw, port) = gateway_to_sipp("").await;
    let pbx = sipp("uas_hold.xml", port, &[]);
    let result = ws_call(
        &gw,
        &[
            "--to",
            "600",
            "--tone",
            "440",
            "--seconds",
            "2",
            "--hangup",
            "remote",
            "--expect-frames",
            "held,resumed",
        ],
    )
    .await;
    assert_ok(&result);
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pbx_challenging_the_invite_with_407_gets_credentials() {
    let (gw, port) = gateway_to_sipp("username = \"alice\"\npassword = \"wonderland\"\n").await;
    let pbx = sipp("uas_auth_407.xml", port, &["-trace_logs"]);
    let result = ws_call(&gw, &["--to", "service", "--tone", "440", "--seconds", "1"]).await;
    assert_ok(&result);
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_dtmf_reaches_the_pbx_as_rfc4733_on_its_payload_type() {
    let sink = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let sink_port = sink.local_addr().unwrap().port().to_string();
    let (gw, port) = gateway_to_sipp("").await;
    let pbx = sipp("uas_dtmf.xml", port, &["-key", "rtp_port", &sink_port]);
    let collect = tokio::spawn(async move {
        let mut events = Vec::new();
        let mut buf = [0u8; 2048];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while let Ok(Ok((n, _))) = tokio::time::timeout_at(deadline, sink.recv_from(&mut buf)).await
        {
            if n >= 16 && buf[1] & 0x7f == 96 {
                let (event, end) = (buf[12], buf[13] & 0x80 != 0);
                if end && events.last() != Some(&event) {
                    events.push(event);
                }
                if events.len() == 3 {
                    break;
                }
            }
        }
        events
    });
    let result = ws_call(
        &gw,
        &[
            "--to",
            "600",
            "--dtmf",
            "12#",
            "--expect",
            "none",
            "--hangup",
            "remote",
            "--seconds",
            "1",
        ],
    )
    .await;
    let events = collect.await.unwrap();
    // 1, 2 and # are events 1, 2 and 11 (RFC 4733 §3.2).
    assert_eq!(
        events,
        vec![1, 2, 11],
        "telephone-events on payload type 96"
    );
    assert_eq!(result["ended"]["by"], "remote", "{result}");
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_the_socket_gets_errors_and_harms_no_call() {
    let gw = start_gateway("").await;
    let result = run_node("ws_bad_input.mjs", url_and(&gw, "https", "/healthz", &[])).await;
    assert_eq!(result["ok"], true, "{result}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_and_resume_from_the_browser_reinvite_the_pbx() {
    let (gw, port) = gateway_to_sipp("").await;
    let pbx = sipp("uas_held_by_browser.xml", port, &[]);
    let result = ws_call(
        &gw,
        &[
            "--to",
            "600",
            "--tone",
            "440",
            "--seconds",
            "2",
            "--hold",
            "--expect-frames",
            "held,resumed",
        ],
    )
    .await;
    assert_ok(&result);
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_client_calls_600_on_the_demo_pbx_and_hears_its_own_tone() {
    let gw = start_gateway("").await;
    let args = url_and(&gw, "https", "/", &["--to", "600"]);
    let result = run_node("softphone_call.mjs", args).await;
    assert_eq!(result["ok"], true, "{result}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_answers_the_challenge_refreshes_and_unregisters() {
    let token = "the admin token of the registrar test";
    let (gw, port) = gateway_to_sipp(&format!("[admin]\ntoken = \"{token}\"\n")).await;
    let registrar = sipp("uas_registrar.xml", port, &[]);
    let args = url_and(
        &gw,
        "wss",
        "/ws",
        &[
            "--user",
            "alice",
            "--password",
            "wonderland",
            "--hold-seconds",
            "4",
        ],
    );
    let register = tokio::spawn(run_node("ws_register.mjs", args));
    // While the binding holds, the admin API lists it.
    let listed = admin_poll(&gw, "/admin/registrations", token, |v| {
        v["body"]["registrations"][0]["user"] == "alice"
    })
    .await;
    assert_eq!(
        listed["body"]["registrations"][0]["user"], "alice",
        "{listed}"
    );
    let result = register.await.unwrap();
    assert_eq!(result["ok"], true, "{result}");
    let after = https_request(&gw, "GET", "/admin/registrations", Some(token)).await;
    assert_eq!(
        after["body"]["registrations"],
        serde_json::json!([]),
        "{after}"
    );
    // SIPp passes only if the credentials were right, the binding was
    // refreshed before its 4 s ran out, and then removed.
    sipp_passed(registrar).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_registration_is_an_error_and_an_event() {
    let (gw, port) = gateway_to_sipp("").await;
    let mut registrar = sipp("uas_registrar.xml", port, &[]);
    let result = ws_register(
        &gw,
        &[
            "--user",
            "alice",
            "--password",
            "wrong",
            "--expect-fail",
            "403",
        ],
    )
    .await;
    let _ = registrar.kill();
    let _ = registrar.wait();
    assert_eq!(result["ok"], true, "{result}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_browser_answers_a_call_from_the_pbx() {
    // A grace period of 1 s: the registration is removed soon after the
    // browser's socket closes, which SIPp waits for.
    let port = common::free_port();
    let pbx_uri = format!("[pbx]\nuri = \"sip:127.0.0.1:{port}\"\n{NO_PINGS}");
    let gw = start_gateway_with(&pbx_uri, &[("SBC_HTTP_RESUME_GRACE_SECS", "1")]).await;
    let pbx = sipp("registrar_then_calls.xml", port, &[]);
    let args = url_and(
        &gw,
        "https",
        "/healthz",
        &["--user", "alice", "--tone", "440"],
    );
    let result = run_node("ws_incoming.mjs", args).await;
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["incoming"]["display"], "Bob");
    assert_eq!(result["incoming"]["to"], "alice");
    let from = result["incoming"]["from"].as_str().unwrap_or_default();
    assert!(from.starts_with("sip:1002@"), "{from}");
    sipp_passed(pbx).await;
    gw.stop().await;
}

/// A PBX that calls without an offer (RFC 3261 late offer): the gateway
/// offers G.711 to the browser, then offers the PBX the codec the browser
/// chose in its 200; the PBX answers in the ACK; the browser's tone comes
/// back through SIPp's echo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_from_the_pbx_without_an_offer_is_offered_in_the_200() {
    let port = common::free_port();
    let pbx_uri = format!("[pbx]\nuri = \"sip:127.0.0.1:{port}\"\n{NO_PINGS}");
    let gw = start_gateway_with(&pbx_uri, &[("SBC_HTTP_RESUME_GRACE_SECS", "1")]).await;
    let pbx = sipp("registrar_then_late_offer.xml", port, &[]);
    let args = url_and(
        &gw,
        "https",
        "/healthz",
        &["--user", "alice", "--tone", "440"],
    );
    let result = run_node("ws_incoming.mjs", args).await;
    assert_eq!(result["ok"], true, "{result}");
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_socket_is_resumed_with_its_call() {
    let gw = start_gateway("").await;
    let result = run_node("ws_resume.mjs", url_and(&gw, "https", "/healthz", &[])).await;
    assert_eq!(result["ok"], true, "{result}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_not_resumed_in_time_ends_its_calls_with_bye() {
    let port = common::free_port();
    let pbx_uri = format!("[pbx]\nuri = \"sip:127.0.0.1:{port}\"\n{NO_PINGS}");
    let gw = start_gateway_with(&pbx_uri, &[("SBC_HTTP_RESUME_GRACE_SECS", "1")]).await;
    let pbx = sipp("uas_expects_bye.xml", port, &[]);
    let result = ws_call(&gw, &["--to", "600", "--seconds", "1", "--hangup", "drop"]).await;
    assert_ok(&result);
    // SIPp passes only if the gateway's BYE came after the socket went.
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_refreshes_a_session_timer_it_was_given() {
    let (gw, port) = gateway_to_sipp("").await;
    let pbx = sipp("uas_session_timer.xml", port, &[]);
    let result = ws_call(
        &gw,
        &["--to", "600", "--seconds", "1", "--hangup", "remote"],
    )
    .await;
    assert_ok(&result);
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_session_timer_ends_the_call_on_both_sides() {
    let (gw, port) = gateway_to_sipp("").await;
    let pbx = sipp("uas_session_timer_lapses.xml", port, &[]);
    let result = ws_call(
        &gw,
        &["--to", "600", "--seconds", "1", "--hangup", "remote"],
    )
    .await;
    // The browser hears `ended` from the gateway, not from the PBX.
    assert_eq!(result["ended"]["by"], "gateway", "{result}");
    assert_eq!(result["ended"]["reason"], "session timer expired");
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blind_transfer_refers_the_pbx_and_reports_its_progress() {
    let (gw, port) = gateway_to_sipp("").await;
    let pbx = sipp("uas_transfer.xml", port, &[]);
    let result = ws_call(
        &gw,
        &[
            "--to",
            "600",
            "--seconds",
            "1",
            "--transfer",
            "602",
            "--hangup",
            "remote",
            "--expect-frames",
            "transfer:100,transfer:200,ended",
        ],
    )
    .await;
    assert_ok(&result);
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pbx_that_sends_no_media_is_hung_up_after_the_media_timeout() {
    let port = common::free_port();
    let pbx_uri = format!("[pbx]\nuri = \"sip:127.0.0.1:{port}\"\n{NO_PINGS}");
    let gw = start_gateway_with(&pbx_uri, &[("SBC_MEDIA_TIMEOUT_SECS", "2")]).await;
    // No RTP echo: the PBX answers and stays silent.
    let pbx = sipp_media("uas_expects_bye.xml", port, &[], false);
    let result = ws_call(
        &gw,
        &[
            "--to",
            "600",
            "--expect",
            "none",
            "--seconds",
            "1",
            "--hangup",
            "remote",
        ],
    )
    .await;
    assert_eq!(result["ended"]["by"], "gateway", "{result}");
    assert_eq!(result["ended"]["reason"], "no media from the PBX");
    // SIPp passes only if the gateway's BYE came.
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ice_restart_from_the_browser_keeps_the_call_and_its_audio() {
    let gw = start_gateway("").await;
    let result = ws_call(
        &gw,
        &[
            "--to",
            "600",
            "--tone",
            "440",
            "--seconds",
            "1",
            "--ice-restart",
        ],
    )
    .await;
    assert_ok(&result);
    assert_eq!(result["restart"]["gatewayUfragChanged"], true, "{result}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_of_one_side_reaches_the_other() {
    let (gw, port) = gateway_to_sipp("").await;
    // SIPp fails the call if the INVITE carries anything of the browser's
    // WebRTC side, drops the allowed X-Test header or passes Subject.
    let pbx = sipp("uas_topology.xml", port, &[]);
    // The browser fails the run if any frame carries the PBX's SDP origin,
    // its transport or its internal header.
    let result = ws_call(
        &gw,
        &[
            "--to",
            "600",
            "--seconds",
            "1",
            "--forbid",
            "o=sipp,RTP/AVP,X-Internal-Route,pbx-cluster-7",
        ],
    )
    .await;
    assert_ok(&result);
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtmf_from_the_pbx_reaches_the_browser_as_info_and_as_rfc4733() {
    // INFO from SIPp.
    let (gw, port) = gateway_to_sipp("").await;
    let pbx = sipp("uas_dtmf_info.xml", port, &[]);
    let info = ws_call(
        &gw,
        &[
            "--to",
            "600",
            "--seconds",
            "1",
            "--hangup",
            "remote",
            "--expect-frames",
            "dtmf,ended",
        ],
    )
    .await;
    assert_ok(&info);
    sipp_passed(pbx).await;
    gw.stop().await;
    // RFC 4733 from the demo PBX's echo: the browser's keys go out as
    // telephone-events, come back from the PBX and are reported.
    let gw = start_gateway("").await;
    let echoed = ws_call(
        &gw,
        // Chrome plays the echoed events as tones for a moment: the
        // measurement window is long enough for the echo to dominate.
        &[
            "--to",
            "600",
            "--seconds",
            "4",
            "--dtmf",
            "7#",
            "--expect-frames",
            "dtmf,dtmf,ended",
        ],
    )
    .await;
    assert_ok(&echoed);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_calls_of_one_session_each_carry_their_own_audio() {
    let gw = start_gateway("").await;
    let result = run_node("ws_two_calls.mjs", url_and(&gw, "https", "/healthz", &[])).await;
    assert_eq!(result["ok"], true, "{result}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_secret_hello_needs_a_valid_token() {
    use gateway::signaling::token::{Claims, TokenKey};
    let secret = "a test secret of some length";
    let gw = start_gateway_with("", &[("SBC_AUTH_TOKEN_SECRET", secret)]).await;
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let token = TokenKey::new(secret.as_bytes()).mint(&Claims {
        sub: "alice".into(),
        exp,
    });
    let result = run_node(
        "ws_auth.mjs",
        url_and(&gw, "wss", "/ws", &["--token", &token]),
    )
    .await;
    assert_eq!(result["ok"], true, "{result}");
    gw.stop().await;
}

/// The gateway's `/metrics`.
async fn scrape(gw: &App) -> String {
    let url = format!("https://{}/metrics", gw.http.local_addr);
    let e2e = concat!(env!("CARGO_MANIFEST_DIR"), "/../e2e");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["scrape.mjs", &url])
            .current_dir(e2e)
            .output()
            .expect("node is installed")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `promtool check metrics` on `text`: its complaints (empty when clean).
fn promtool_check(text: &str) -> String {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (scripts/test.sh installs prometheus)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "promtool failed: {out:?}");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_a_call_and_promtool_finds_them_clean() {
    let records = std::env::temp_dir().join(format!(
        "sbc-cdr-{}-{}.jsonl",
        std::process::id(),
        rand::random::<u32>()
    ));
    let path = records.display().to_string();
    let gw = start_gateway_with("", &[("SBC_CDR_PATH", path.as_str())]).await;
    let result = ws_call(&gw, &["--to", "600", "--seconds", "2"]).await;
    assert_ok(&result);
    let refused = ws_call(&gw, &["--to", "699", "--expect-end", "404"]).await;
    assert_ok(&refused);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = scrape(&gw).await;
    println!("{text}");
    for expected in [
        "sbc_calls_total{direction=\"outbound\",result=\"answered\"} 1",
        "sbc_calls_total{direction=\"outbound\",result=\"rejected\"} 1",
        "sbc_calls_active 0",
        "sbc_call_setup_seconds_count 1",
        "sbc_call_duration_seconds_count 1",
        "sbc_ws_frames_total{direction=\"in\",type=\"call\"} 2",
        "sbc_sip_requests_total{method=\"INVITE\"}",
        "sbc_sip_responses_total{class=\"2xx\"}",
        "sbc_rtp_packets_total{leg=\"browser\",direction=\"in\"}",
        "sbc_call_mos_count 1",
        "process_resident_memory_bytes",
    ] {
        assert!(text.contains(expected), "{expected} missing");
    }
    let complaints = promtool_check(&text);
    assert!(complaints.trim().is_empty(), "promtool: {complaints}");
    // One call record per call, as JSON lines.
    let lines = std::fs::read_to_string(&records).unwrap();
    println!("{lines}");
    let records: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{lines}");
    let answered = &records[0];
    assert_eq!(answered["result"], "answered");
    assert_eq!(answered["ended_by"], "local");
    assert!(answered["answer"].is_string());
    assert_eq!(answered["pbx"]["codec"], "PCMU");
    assert!(answered["pbx"]["packets_received"].as_u64().unwrap() > 50);
    assert!(answered["pbx"]["mos"].as_f64().unwrap() > 4.0);
    let rejected = &records[1];
    assert_eq!(rejected["result"], "rejected");
    assert_eq!(rejected["sip_status"], 404);
    assert!(rejected.get("answer").is_none());
    gw.stop().await;
}

/// Whether `path` of the gateway answers 200.
async fn get_ok(gw: &App, path: &str) -> bool {
    let url = format!("https://{}{path}", gw.http.local_addr);
    let e2e = concat!(env!("CARGO_MANIFEST_DIR"), "/../e2e");
    tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["scrape.mjs", &url])
            .current_dir(e2e)
            .output()
            .expect("node is installed")
            .status
            .success()
    })
    .await
    .unwrap()
}

/// Polls `path` until its answer is `ok` (or fails after 20 s).
async fn until_ready(gw: &App, ok: bool) {
    for _ in 0..40 {
        if get_ok(gw, "/readyz").await == ok {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!(
        "/readyz never became {}",
        if ok { "ready" } else { "not ready" }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_the_pbxs_answers_to_options_pings() {
    let port = common::free_port();
    let pbx_uri = format!("[pbx]\nuri = \"sip:127.0.0.1:{port}\"\n{NO_PINGS}");
    let gw = start_gateway_with(
        &pbx_uri,
        &[
            ("SBC_PBX_OPTIONS_INTERVAL_SECS", "1"),
            ("SBC_SIP_T1_MS", "100"),
        ],
    )
    .await;
    assert!(get_ok(&gw, "/healthz").await, "alive from the start");
    until_ready(&gw, false).await;
    // SIPp answers three pings, then is gone.
    let pbx = sipp("uas_options.xml", port, &["-m", "3"]);
    until_ready(&gw, true).await;
    assert!(scrape(&gw).await.contains("sbc_pbx_up 1"));
    sipp_passed(pbx).await;
    until_ready(&gw, false).await;
    assert!(scrape(&gw).await.contains("sbc_pbx_up 0"));
    gw.stop().await;
}

/// A plain HTTP GET (for Prometheus' API on loopback); the body.
fn http_get(addr: std::net::SocketAddr, path: &str) -> Option<String> {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split_once("\r\n\r\n").map(|(_, body)| body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_call_and_answers_for_it() {
    let metrics_port = common::free_port();
    let gw = start_gateway_with(
        "",
        &[(
            "SBC_METRICS_LISTEN",
            format!("127.0.0.1:{metrics_port}").as_str(),
        )],
    )
    .await;
    assert_eq!(gw.metrics_addr.map(|a| a.port()), Some(metrics_port));
    let dir = std::env::temp_dir().join(format!(
        "sbc-prometheus-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: sbc\n    static_configs:\n      \
             - targets: ['127.0.0.1:{metrics_port}']\n"
        ),
    )
    .unwrap();
    let prom_port = common::free_port();
    let mut prometheus = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus is installed (scripts/test.sh installs it)");
    let result = ws_call(&gw, &["--to", "600", "--seconds", "2"]).await;
    assert_ok(&result);
    let prom: std::net::SocketAddr = format!("127.0.0.1:{prom_port}").parse().unwrap();
    let query = "/api/v1/query?query=sbc_calls_total%7Bresult%3D%22answered%22%7D";
    let mut answer = String::new();
    for _ in 0..60 {
        answer = tokio::task::spawn_blocking(move || http_get(prom, query).unwrap_or_default())
            .await
            .unwrap();
        if answer.contains("\"1\"]") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!("Prometheus: {answer}");
    let _ = prometheus.kill();
    let _ = prometheus.wait();
    let v: Value = serde_json::from_str(&answer).expect("Prometheus answered JSON");
    assert_eq!(v["status"], "success", "{answer}");
    let sample = &v["data"]["result"][0];
    assert_eq!(sample["metric"]["direction"], "outbound", "{answer}");
    assert_eq!(sample["value"][1], "1", "{answer}");
    let _ = std::fs::remove_dir_all(&dir);
    gw.stop().await;
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

/// A page of another origin imports `sbc-client.js` from the gateway (a
/// CORS request) and opens a session with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_another_origin_imports_the_client_and_connects() {
    let gw = start_gateway("").await;
    let result = run_node("cross_origin.mjs", url_and(&gw, "https", "/healthz", &[])).await;
    assert_eq!(result["ok"], true, "{result}");
    gw.stop().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_lists_shows_and_ends_a_call() {
    let token = "an admin token of some length";
    let gw = start_gateway_with("", &[("SBC_ADMIN_TOKEN", token)]).await;
    let unauthorized = https_request(&gw, "GET", "/admin/calls", None).await;
    assert_eq!(unauthorized["status"], 401);
    let wrong = https_request(&gw, "GET", "/admin/calls", Some("not the token")).await;
    assert_eq!(wrong["status"], 401);
    // A call that only the operator ends.
    let args = url_and(
        &gw,
        "https",
        "/healthz",
        &["--to", "600", "--seconds", "1", "--hangup", "remote"],
    );
    let call = tokio::spawn(run_node("ws_call.mjs", args));
    let listed = admin_poll(&gw, "/admin/calls", token, |v| {
        v["body"]["calls"][0]["state"] == "in-call"
    })
    .await;
    let entry = &listed["body"]["calls"][0];
    assert_eq!(entry["state"], "in-call", "{listed}");
    assert_eq!(entry["direction"], "outbound");
    let id = entry["id"].as_str().unwrap().to_owned();
    let shown = https_request(&gw, "GET", &format!("/admin/calls/{id}"), Some(token)).await;
    assert_eq!(shown["status"], 200, "{shown}");
    assert_eq!(shown["body"]["media"]["codec"], "PCMU", "{shown}");
    let regs = https_request(&gw, "GET", "/admin/registrations", Some(token)).await;
    assert_eq!(regs["body"]["registrations"], serde_json::json!([]));
    let ended = https_request(&gw, "DELETE", &format!("/admin/calls/{id}"), Some(token)).await;
    assert_eq!(ended["status"], 202, "{ended}");
    let result = call.await.unwrap();
    assert_eq!(result["ended"]["by"], "gateway", "{result}");
    assert_eq!(result["ended"]["reason"], "ended by the operator");
    let after = https_request(&gw, "GET", "/admin/calls", Some(token)).await;
    assert_eq!(after["body"]["calls"], serde_json::json!([]), "{after}");
    let gone = https_request(&gw, "GET", &format!("/admin/calls/{id}"), Some(token)).await;
    assert_eq!(gone["status"], 404);
    gw.stop().await;
}
