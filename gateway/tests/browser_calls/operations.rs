//! What operators see: `/metrics` checked by promtool, `/readyz`
//! following the PBX, a real Prometheus scraping a call, and the admin API.

use super::*;

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
    let expected = [
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
    ];
    // The ended calls are counted as they end: scraped until they are (10 s).
    let mut text = String::new();
    for _ in 0..200 {
        text = scrape(&gw).await;
        if expected.iter().all(|e| text.contains(e)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("{text}");
    for expected in expected {
        assert!(text.contains(expected), "{expected} missing");
    }
    let complaints = promtool_check(&text);
    assert!(complaints.trim().is_empty(), "promtool: {complaints}");
    // One call record per call, as JSON lines (written as each call ends).
    let mut lines = String::new();
    common::poll_until(Duration::from_secs(10), || {
        lines = std::fs::read_to_string(&records).unwrap_or_default();
        lines.lines().count() >= 2
    })
    .await;
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
        &["--to", "600", "--seconds", "1", "--hangup", "gateway"],
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
    assert_ok(&result);
    assert_eq!(result["ended"]["reason"], "ended by the operator");
    let after = https_request(&gw, "GET", "/admin/calls", Some(token)).await;
    assert_eq!(after["body"]["calls"], serde_json::json!([]), "{after}");
    let gone = https_request(&gw, "GET", &format!("/admin/calls/{id}"), Some(token)).await;
    assert_eq!(gone["status"], 404);
    gw.stop().await;
}
