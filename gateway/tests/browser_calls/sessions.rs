//! The WebSocket session itself: resume after a dropped socket, tokens,
//! and a page of another origin using the bundled client.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_resumed_with_its_call_after_a_drop_and_taken_over_from_a_live_socket() {
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

/// A page of another origin imports `sbc-client.js` from the gateway (a
/// CORS request) and opens a session with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_another_origin_imports_the_client_and_connects() {
    let gw = start_gateway("").await;
    let result = run_node("cross_origin.mjs", url_and(&gw, "https", "/healthz", &[])).await;
    assert_eq!(result["ok"], true, "{result}");
    gw.stop().await;
}
