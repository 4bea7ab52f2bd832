//! Calls the browser places: the demo PBX, SIPp playing the PBX's
//! answers (busy, early media, 407, hold, session timers, transfer, no
//! media), DTMF both ways, ICE restart, topology hiding, and two calls at once.

use super::*;

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
    let result = call_sipp("uas_busy.xml", "", &["--to", "600", "--expect-end", "486"]).await;
    assert_ok(&result);
    assert_eq!(result["ended"]["by"], "remote");
    assert_eq!(result["ended"]["reason"], "Busy Here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_media_of_a_183_is_heard_before_the_answer() {
    let result = call_sipp(
        "uas_early_media.xml",
        "",
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_up_while_ringing_cancels_the_invite() {
    // SIPp passes only if the CANCEL came and the 487 was ACKed.
    let result = call_sipp("uas_cancel.xml", "", &["--to", "600", "--hangup", "early"]).await;
    assert_ok(&result);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_and_resume_from_the_pbx_reach_the_browser_and_media_survives() {
    let result = call_sipp(
        "uas_hold.xml",
        "",
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
    assert_ok(&result);
    sipp_passed(pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_the_socket_gets_errors_and_harms_no_call() {
    let gw = start_gateway("").await;
    let result = run_node("ws_bad_input.mjs", url_and(&gw, "https", "/healthz", &[])).await;
    // The names of the checks that failed, as the left side of the message.
    assert_eq!(result["failed"], serde_json::json!([]), "{result}");
    assert_eq!(result["ok"], true, "{result}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_and_resume_from_the_browser_reinvite_the_pbx() {
    let result = call_sipp(
        "uas_held_by_browser.xml",
        "",
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
async fn the_gateway_refreshes_a_session_timer_it_was_given() {
    let result = call_sipp(
        "uas_session_timer.xml",
        "",
        &["--to", "600", "--seconds", "1", "--hangup", "remote"],
    )
    .await;
    assert_ok(&result);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_session_timer_ends_the_call_on_both_sides() {
    let result = call_sipp(
        "uas_session_timer_lapses.xml",
        "",
        &["--to", "600", "--seconds", "1", "--hangup", "gateway"],
    )
    .await;
    // The browser hears `ended` from the gateway, not from the PBX.
    assert_ok(&result);
    assert_eq!(result["ended"]["reason"], "session timer expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blind_transfer_refers_the_pbx_and_reports_its_progress() {
    let result = call_sipp(
        "uas_transfer.xml",
        "",
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
            "gateway",
        ],
    )
    .await;
    assert_ok(&result);
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
    // SIPp fails the call if the INVITE carries anything of the browser's
    // WebRTC side, drops the allowed X-Test header or passes Subject.
    // The browser fails the run if any frame carries the PBX's SDP origin,
    // its transport or its internal header.
    let result = call_sipp(
        "uas_topology.xml",
        "",
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
