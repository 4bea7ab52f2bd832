//! The gateway's SIP runtime as a peer meets it: the real binary on
//! loopback, answering OPTIONS over UDP, TCP and TLS, refusing malformed
//! requests with 400, dropping garbage, closing idle connections, surviving
//! a flood, answering SIPp, and stopping cleanly on SIGTERM.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Gateway {
    child: Child,
    port: u16,
    tls_port: u16,
    certs: PathBuf,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.certs);
    }
}

fn start(extra_env: &[(&str, &str)]) -> Gateway {
    let port = free_port();
    let tls_port = free_port();
    let certs = std::env::temp_dir().join(format!("sbc-test-certs-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&certs).unwrap();
    let listen = format!("udp:127.0.0.1:{port},tcp:127.0.0.1:{port},tls:127.0.0.1:{tls_port}");
    let mut command = Command::new(env!("CARGO_BIN_EXE_gateway"));
    command
        .env_remove("RUST_LOG")
        .env("SBC_SIP_LISTEN", listen)
        .env("SBC_SIP_TLS_CERT", certs.join("sip.pem"))
        .env("SBC_SIP_TLS_KEY", certs.join("sip-key.pem"))
        .env("SBC_HTTP_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("SBC_HTTP_CERT", certs.join("http.pem"))
        .env("SBC_HTTP_KEY", certs.join("http-key.pem"))
        .env("SBC_MEDIA_PUBLIC_IP", "127.0.0.1")
        .env("SBC_MEDIA_WEBRTC_PORT", free_port().to_string())
        .env("SBC_MEDIA_RTP_PORTS", common::rtp_ports_text(10))
        .env("SBC_LOG_LEVEL", "warn")
        .envs(extra_env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let child = command.spawn().expect("the gateway starts");
    let gw = Gateway {
        child,
        port,
        tls_port,
        certs,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if udp_exchange(gw.port, &options("UDP", 1), Duration::from_millis(200)).is_some() {
            return gw;
        }
    }
    panic!("the gateway did not answer OPTIONS within 20 s");
}

fn options(transport: &str, n: u32) -> String {
    format!(
        "OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/{transport} 192.0.2.99:5999;rport;branch=z9hG4bKtest{n}\r\n\
From: <sip:tester@127.0.0.1>;tag=t{n}\r\n\
To: <sip:gw@127.0.0.1>\r\n\
Call-ID: test-{n}@127.0.0.1\r\n\
CSeq: {n} OPTIONS\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n"
    )
}

fn udp_exchange(port: u16, msg: &str, wait: Duration) -> Option<String> {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    s.send_to(msg.as_bytes(), ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 65536];
    let n = s.recv(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

fn status_of(response: &str) -> u16 {
    response
        .get(8..11)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not a response: {response:?}"))
}

/// Reads one response (head + empty body) from a stream.
fn read_response(stream: &mut impl Read) -> String {
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    while !out.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => out.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn options_answered_over_udp_tcp_and_tls() {
    let gw = start(&[]);
    let udp = udp_exchange(gw.port, &options("UDP", 2), Duration::from_secs(5)).unwrap();
    assert_eq!(status_of(&udp), 200);
    assert!(udp.contains("Allow: INVITE"), "{udp}");
    assert!(udp.contains("z9hG4bKtest2"), "{udp}");
    // The Via says 192.0.2.99:5999 with rport: the response names the real
    // source (RFC 3261 §18.2.1, RFC 3581).
    assert!(udp.contains(";received=127.0.0.1"), "{udp}");
    assert!(!udp.contains(";rport;") && udp.contains(";rport="), "{udp}");

    let mut tcp = TcpStream::connect(("127.0.0.1", gw.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for n in 3..6 {
        tcp.write_all(options("TCP", n).as_bytes()).unwrap();
        let r = read_response(&mut tcp);
        assert_eq!(status_of(&r), 200, "{r}");
        assert!(r.contains(&format!("CSeq: {n} OPTIONS")), "{r}");
    }
    // A double-CRLF keep-alive ping gets its single CRLF pong.
    tcp.write_all(b"\r\n\r\n").unwrap();
    let mut pong = [0u8; 2];
    tcp.read_exact(&mut pong).unwrap();
    assert_eq!(&pong, b"\r\n");

    let ca = gw.certs.join("sip.pem");
    let client = gateway::tls::client_config(&ca).expect("the generated certificate is trusted");
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(client), name).unwrap();
    let sock = TcpStream::connect(("127.0.0.1", gw.tls_port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(options("TLS", 7).as_bytes()).unwrap();
    let r = read_response(&mut tls);
    assert_eq!(status_of(&r), 200, "{r}");
}

#[test]
fn bad_requests_get_400_or_are_dropped_and_harm_nothing() {
    let gw = start(&[]);
    let missing_headers = "INVITE sip:a@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKbad1\r\n\
CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    let r = udp_exchange(gw.port, missing_headers, Duration::from_secs(5)).unwrap();
    assert_eq!(status_of(&r), 400, "{r}");

    let bad_version = options("UDP", 20).replacen("SIP/2.0\r\n", "SIP/3.0\r\n", 1);
    let r = udp_exchange(gw.port, &bad_version, Duration::from_secs(5)).unwrap();
    assert_eq!(status_of(&r), 505, "{r}");

    let unknown = options("UDP", 21).replace("OPTIONS", "FROBNICATE");
    let r = udp_exchange(gw.port, &unknown, Duration::from_secs(5)).unwrap();
    assert_eq!(status_of(&r), 501, "{r}");

    let invite = options("UDP", 22).replace("OPTIONS", "INVITE");
    let r = udp_exchange(gw.port, &invite, Duration::from_secs(5)).unwrap();
    assert!(r.starts_with("SIP/2.0 100") || status_of(&r) == 480, "{r}");

    // Garbage, a CRLF keep-alive and an oversized datagram get no answer.
    for junk in [
        &b"\x00\xff garbage \r\n\r\n"[..],
        b"\r\n\r\n",
        &vec![b'A'; 65_000],
    ] {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        s.send_to(junk, ("127.0.0.1", gw.port)).unwrap();
        assert!(s.recv(&mut [0u8; 100]).is_err(), "no answer to junk");
    }

    // A stream that breaks framing is closed; others are unaffected.
    let mut tcp = TcpStream::connect(("127.0.0.1", gw.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    tcp.write_all(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKx\r\n\r\n")
        .unwrap();
    let mut rest = Vec::new();
    let _ = tcp.read_to_end(&mut rest);
    // A head that never ends (100 KB of one header) is cut off at the
    // per-connection buffer limit: the gateway closes that connection.
    let mut huge = TcpStream::connect(("127.0.0.1", gw.port)).unwrap();
    huge.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = huge.write_all(b"OPTIONS sip:a@b SIP/2.0\r\nX-Big: ");
    let _ = huge.write_all(&vec![b'a'; 100_000]);
    let mut rest = Vec::new();
    if let Err(e) = huge.read_to_end(&mut rest) {
        assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the oversized connection is still open"
        );
    }

    let r = udp_exchange(gw.port, &options("UDP", 23), Duration::from_secs(5)).unwrap();
    assert_eq!(status_of(&r), 200);
}

#[test]
fn idle_connections_close_and_floods_are_limited() {
    let gw = start(&[
        ("SBC_SIP_TCP_IDLE_TIMEOUT_SECS", "1"),
        ("SBC_SIP_RATE_LIMIT_PER_IP", "50"),
    ]);
    let mut idle = TcpStream::connect(("127.0.0.1", gw.port)).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    assert_eq!(idle.read(&mut buf).unwrap_or(0), 0, "closed by the gateway");
    assert!(started.elapsed() < Duration::from_secs(9));

    // 2,000 OPTIONS in a burst from one source: the limiter lets about a
    // burst's worth through (2 × 50) and drops the rest without falling over.
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    for n in 0..2000 {
        let _ = s.send_to(options("UDP", 1000 + n).as_bytes(), ("127.0.0.1", gw.port));
    }
    let mut answered = 0;
    let mut buf = [0u8; 4096];
    while s.recv(&mut buf).is_ok() {
        answered += 1;
    }
    assert!(
        answered > 0 && answered < 500,
        "answered {answered} of 2000"
    );
    std::thread::sleep(Duration::from_millis(1100));
    let r = udp_exchange(gw.port, &options("UDP", 9999), Duration::from_secs(5)).unwrap();
    assert_eq!(status_of(&r), 200, "served again once the flood stops");
}

#[test]
fn sipp_pings_over_udp_and_tcp() {
    let gw = start(&[("SBC_SIP_RATE_LIMIT_PER_IP", "0")]);
    for transport in ["u1", "t1"] {
        let out = Command::new("sipp")
            .args([
                "-sf",
                &sipp_scenario("options.xml"),
                "-t",
                transport,
                "-m",
                "500",
                "-r",
                "250",
            ])
            .args([
                "-i",
                "127.0.0.1",
                "-p",
                &free_port().to_string(),
                "-nostdin",
                "-timeout",
                "30s",
            ])
            .args(["-timeout_error", "-trace_err", "-error_file", "/dev/stderr"])
            .arg(format!("127.0.0.1:{}", gw.port))
            .output()
            .expect("sipp is installed (scripts/test.sh installs sip-tester)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "sipp over {transport} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            stdout.lines().rev().take(30).collect::<Vec<_>>().join("\n")
        );
    }
}

#[test]
fn sigterm_stops_cleanly() {
    let mut gw = start(&[]);
    let status = Command::new("kill")
        .args(["-TERM", &gw.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(exit) = gw.child.try_wait().unwrap() {
            assert!(exit.success(), "exit status {exit}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
