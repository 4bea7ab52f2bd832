//! A real browser through the media runtime: headless Chromium sends its
//! fake microphone's 440 Hz tone over DTLS-SRTP to the gateway's shared
//! WebRTC port; the bridge relays it as plain RTP to a UDP echo playing the
//! PBX, which sends every datagram back; the gateway relays the echo back to
//! Chromium, whose received audio must have its dominant frequency at
//! 440 Hz. The same again with SDES-SRTP (RTP/SAVP, RFC 4568) on the PBX
//! side: the echo reflects what the gateway protected, and the gateway must
//! unprotect it for the tone to come back.
//!
//! The signaling is test-only, until the WebSocket front exists: a
//! hand-rolled HTTP/1.1 server serves an empty page at `/` (so the page's
//! origin is loopback) and answers `POST /offer` (body: the browser's offer)
//! with the browser's answer, after answering the gateway's PBX offer on the
//! echo's behalf. Everything stays on 127.0.0.1.

mod common;

use gateway::runtime::media::{MediaEvent, MediaHandle, MediaSettings, start_media};
use sbc_core::media::rtp_leg::RtpLegConfig;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::Command;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Sends every datagram back to where it came from.
async fn udp_echo() -> SocketAddr {
    let socket = UdpSocket::bind((LOOPBACK, 0)).await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let _ = socket.send_to(&buf[..n], from).await;
        }
    });
    addr
}

/// The echo's answer to the gateway's PBX offer: the offer's first format
/// (with its rtpmap and fmtp) to the echo, in the offer's profile. Under
/// SDES (RTP/SAVP) the echo declares the gateway's own key as its key, since
/// what it sends back is what the gateway protected.
fn echo_answer(offer: &str, echo: SocketAddr) -> String {
    let media_line: Vec<&str> = offer
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .expect("the PBX offer has an audio section")
        .split(' ')
        .collect();
    let profile = media_line[1];
    let formats = &media_line[2..];
    let pt = formats[0];
    let attrs: String = offer
        .lines()
        .filter(|l| {
            l.strip_prefix("a=rtpmap:")
                .or_else(|| l.strip_prefix("a=fmtp:"))
                .is_some_and(|rest| rest.split(' ').next() == Some(pt))
        })
        .chain(offer.lines().filter(|l| l.starts_with("a=crypto:")))
        .map(|l| format!("{l}\r\n"))
        .collect();
    format!(
        "v=0\r\no=echo 1 1 IN IP4 {ip}\r\ns=echo\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} {profile} {pt}\r\n{attrs}a=sendrecv\r\n",
        ip = echo.ip(),
        port = echo.port(),
    )
}

/// One HTTP/1.1 exchange: `GET /` gets an empty page, `POST /offer` a
/// browser answer from a new media call bridged to the echo.
async fn serve(mut stream: TcpStream, media: MediaHandle, echo: SocketAddr) {
    let mut req = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let Ok(n) = stream.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        req.extend_from_slice(&buf[..n]);
        if let Some(i) = req.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&req[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while req.len() < head_end + length {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let body = String::from_utf8_lossy(&req[head_end..head_end + length]).to_string();
    let request_line = head.lines().next().unwrap_or_default();
    let (status, content_type, reply) = if request_line.starts_with("GET / ") {
        (
            "200 OK",
            "text/html",
            "<!doctype html><title>media</title>".to_string(),
        )
    } else if request_line.starts_with("POST /offer ") {
        match offer(&media, body, echo).await {
            Ok(answer) => ("200 OK", "application/sdp", answer),
            Err(e) => ("488 Not Acceptable Here", "text/plain", e),
        }
    } else {
        ("404 Not Found", "text/plain", String::new())
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{reply}",
        reply.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn offer(media: &MediaHandle, sdp: String, echo: SocketAddr) -> Result<String, String> {
    let call = media.create_call(sdp).await.map_err(|e| e.to_string())?;
    println!("PBX offer:\n{}", call.pbx_offer);
    let answer = echo_answer(&call.pbx_offer, echo);
    media
        .set_pbx_answer(call.id, answer)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the first PBX answer gave no browser answer".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_tone_returns_through_the_gateway_and_an_rtp_echo() {
    tone_through_an_echo(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_tone_returns_through_sdes_srtp_toward_the_pbx() {
    tone_through_an_echo(true).await;
}

/// One browser call bridged to the echo, with plain RTP or SDES-SRTP
/// (RTP/SAVP) on the PBX side.
async fn tone_through_an_echo(pbx_sdes: bool) {
    let media = start_media(MediaSettings {
        webrtc_bind: SocketAddr::new(LOOPBACK, 0),
        public_ip: LOOPBACK,
        rtp_ports: common::rtp_ports(100),
        sip_ip: LOOPBACK,
        rtp_leg: RtpLegConfig::default(),
        pbx_sdes,
    })
    .await
    .unwrap();
    let echo = udp_echo().await;
    let http = TcpListener::bind((LOOPBACK, 0)).await.unwrap();
    let url = format!("http://{}/", http.local_addr().unwrap());
    let handle = media.handle.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = http.accept().await {
            tokio::spawn(serve(stream, handle.clone(), echo));
        }
    });

    let e2e = concat!(env!("CARGO_MANIFEST_DIR"), "/../e2e");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["webrtc_echo.mjs", "--url", &url, "--tone", "440"])
            .current_dir(e2e)
            .output()
            .expect("node is installed (scripts/test.sh installs nodejs and runs npm ci in e2e/)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);

    let mut events = media.events;
    let mut seen = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(10), events.recv()).await {
        seen.push(e);
    }
    println!("gateway media events: {seen:?}");
    let json_line = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no JSON from webrtc_echo.mjs:\n{stdout}\n{stderr}"));
    println!("{json_line}");
    let result: serde_json::Value = serde_json::from_str(json_line).unwrap();
    let frequency = result["frequency"].as_f64().unwrap_or(0.0);
    println!(
        "PBX side {}: browser received {frequency:.1} Hz; connected in {} ms; Chromium's SRTP cipher {}",
        if pbx_sdes { "SDES-SRTP" } else { "plain RTP" },
        result["connectMs"],
        result["srtpCipher"]
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, MediaEvent::Connected { .. })),
        "the browser leg never connected: {seen:?}\n{stderr}"
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, MediaEvent::PbxLatched { source, .. } if *source == echo)),
        "no RTP came back from the echo: {seen:?}"
    );
    assert_eq!(result["ok"], true, "{json_line}\n{stderr}");
    let bin = 48_000.0 / 8192.0;
    assert!(
        (frequency - 440.0).abs() <= 2.0 * bin,
        "dominant frequency {frequency} Hz"
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
}
