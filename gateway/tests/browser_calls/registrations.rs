//! Registering the browser at a PBX through the gateway, and calls from
//! the PBX to a registered browser (with an offer, and a late offer).

use super::*;

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
    let result = sipp_calls_alice("registrar_then_calls.xml").await;
    assert_eq!(result["incoming"]["display"], "Bob");
    assert_eq!(result["incoming"]["to"], "alice");
    let from = result["incoming"]["from"].as_str().unwrap_or_default();
    assert!(from.starts_with("sip:1002@"), "{from}");
}

/// SIPp playing `scenario` as registrar and PBX: the browser registers as
/// alice and answers its call (`ws_incoming.mjs`, 440 Hz), which must go
/// well on both sides; the page's result.
async fn sipp_calls_alice(scenario: &str) -> Value {
    // A grace period of 1 s: the registration is removed soon after the
    // browser's socket closes, which SIPp waits for.
    let port = common::free_port();
    let pbx_uri = format!("[pbx]\nuri = \"sip:127.0.0.1:{port}\"\n{NO_PINGS}");
    let gw = start_gateway_with(&pbx_uri, &[("SBC_HTTP_RESUME_GRACE_SECS", "1")]).await;
    let pbx = sipp(scenario, port, &[]);
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
    result
}

/// A PBX that calls without an offer (RFC 3261 late offer): the gateway
/// offers G.711 to the browser, then offers the PBX the codec the browser
/// chose in its 200; the PBX answers in the ACK; the browser's tone comes
/// back through SIPp's echo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_from_the_pbx_without_an_offer_is_offered_in_the_200() {
    sipp_calls_alice("registrar_then_late_offer.xml").await;
}
