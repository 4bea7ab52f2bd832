//! DTLS-SRTP against an independent implementation, OpenSSL's `s_client`,
//! for the profile no browser picks, SRTP_AES128_CM_HMAC_SHA1_80, and for
//! the one Chromium picks, SRTP_AEAD_AES_256_GCM.
//!
//! Chromium, str0m and dimpl all offer AES-GCM first, and the gateway's
//! DTLS (dimpl) picks GCM whenever it is offered, so AES-CM over DTLS is
//! only reached with a peer that offers nothing else. `openssl s_client
//! -dtls1_2 -use_srtp SRTP_AES128_CM_SHA1_80` is such a peer. The gateway's
//! [`DtlsEndpoint`] plays the DTLS server, as it does for a browser that
//! answered `setup:active`, on a loopback UDP socket driven by this test.
//!
//! Checked: the handshake completes with the peer's certificate matched
//! against its fingerprint; the negotiated profile is AES-CM; the keys the
//! endpoint exported are byte for byte the keying material OpenSSL exported
//! (RFC 5764 §4.2: client key, server key, client salt, server salt); and
//! SRTP and SRTCP protected with OpenSSL's client key are accepted by the
//! endpoint's receiving context, and the other way round.
//!
//! The peer's certificate is made by `openssl req` into a scratch folder
//! (nothing is committed). `scripts/test.sh` installs `openssl`. This test
//! lives in `gateway` because it owns a socket and a thread, which the
//! sans-IO `sbc-core` does not allow itself.

use sbc_core::media::srtp::{MasterKey, SrtpContext};
use sbc_core::media::webrtc_lite::{
    DtlsEndpoint, DtlsEvent, DtlsIdentity, DtlsRole, DtlsSrtpProfile, SrtpKeys,
};
use sbc_core::sdp::Fingerprint;
use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long the handshake and the export may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// A scratch folder for the peer's certificate and key.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sbc-dtls-openssl-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A self-signed P-256 certificate for the peer; its SDP-style fingerprint.
fn peer_certificate(dir: &Path) -> Fingerprint {
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec"])
        .args(["-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-subj", "/CN=openssl-peer", "-days", "1"])
        .arg("-keyout")
        .arg(dir.join("peer-key.pem"))
        .arg("-out")
        .arg(dir.join("peer.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl is installed (scripts/test.sh installs it)");
    assert!(status.success(), "openssl req failed");
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(dir.join("peer.pem"))
        .output()
        .unwrap();
    // "sha256 Fingerprint=AB:CD:…"
    let text = String::from_utf8(out.stdout).unwrap();
    let hex = text.trim().split_once('=').expect("a fingerprint line").1;
    Fingerprint::parse(&format!("sha-256 {hex}")).expect("a SHA-256 fingerprint")
}

/// `openssl s_client` connecting to `port` over DTLS 1.2, offering only
/// `profile`, presenting the peer certificate, and printing
/// `material_len` bytes of DTLS-SRTP keying material once connected. Its stdin is kept open (closing it ends
/// the session).
fn s_client(dir: &Path, port: u16, profile: &str, material_len: usize) -> Child {
    Command::new("openssl")
        .args(["s_client", "-dtls1_2", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-use_srtp", profile])
        .args(["-keymatexport", "EXTRACTOR-dtls_srtp"])
        .arg("-keymatexportlen")
        .arg(material_len.to_string())
        .arg("-cert")
        .arg(dir.join("peer.pem"))
        .arg("-key")
        .arg(dir.join("peer-key.pem"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl is installed (scripts/test.sh installs it)")
}

/// What `s_client` printed that the test checks: the SRTP profile it
/// reports and the exported keying material.
#[derive(Debug, Default)]
struct PeerReport {
    profile: Option<String>,
    material: Option<Vec<u8>>,
}

/// Reads `s_client`'s output on a thread until it has printed its keying
/// material; the report comes on the returned channel.
fn read_report(child: &mut Child) -> mpsc::Receiver<PeerReport> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut report = PeerReport::default();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let line = line.trim();
            if let Some(p) = line.strip_prefix("SRTP Extension negotiated, profile=") {
                report.profile = Some(p.to_owned());
            }
            if let Some(hex) = line.strip_prefix("Keying material: ") {
                report.material = Some(decode_hex(hex));
                break;
            }
        }
        let _ = tx.send(report);
    });
    rx
}

fn decode_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex from openssl"))
        .collect()
}

/// Runs the endpoint's side of the handshake on `socket` until it reports
/// its keys, or the event that ended it instead.
fn serve_handshake(
    socket: &UdpSocket,
    dtls: &mut DtlsEndpoint,
) -> Result<SrtpKeys, Box<DtlsEvent>> {
    let started = Instant::now();
    let mut peer = None;
    let mut buf = [0u8; 2048];
    loop {
        assert!(started.elapsed() < PATIENCE, "no DTLS handshake in time");
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                peer = Some(from);
                dtls.handle_input(Instant::now(), &buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("receive: {e}"),
        }
        dtls.handle_timeout(Instant::now());
        if let Some(to) = peer {
            while let Some(record) = dtls.poll_transmit() {
                socket.send_to(&record, to).unwrap();
            }
        }
        match dtls.poll_event() {
            Some(DtlsEvent::Connected(keys)) => return Ok(keys),
            Some(other) => return Err(Box::new(other)),
            None => {}
        }
    }
}

/// An RTP packet: version 2, PT 0, the given sequence number, SSRC and
/// payload.
fn rtp_packet(seq: u16, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// An RTCP receiver report with no report blocks.
fn rtcp_packet(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 201, 0x00, 0x01];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p
}

#[test]
fn aes_cm_dtls_srtp_with_openssl_exports_the_same_keys_and_carries_srtp_both_ways() {
    interoperate(
        "SRTP_AES128_CM_SHA1_80",
        DtlsSrtpProfile::Aes128CmHmacSha1_80,
    );
}

/// The profile Chromium negotiates, with OpenSSL as a second peer.
#[test]
fn aes_256_gcm_dtls_srtp_with_openssl_exports_the_same_keys_and_carries_srtp_both_ways() {
    interoperate("SRTP_AEAD_AES_256_GCM", DtlsSrtpProfile::AeadAes256Gcm);
}

/// OpenSSL presenting a certificate other than the one its fingerprint
/// names: the handshake fails and no keys come out.
#[test]
fn a_peer_whose_certificate_is_not_the_fingerprint_is_refused() {
    let dir = scratch();
    let _ = peer_certificate(&dir);
    let other = scratch();
    let someone_else = peer_certificate(&other);
    let identity = DtlsIdentity::generate().unwrap();
    let mut dtls =
        DtlsEndpoint::new(Instant::now(), &identity, DtlsRole::Server, someone_else).unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    let mut peer = s_client(&dir, port, "SRTP_AES128_CM_SHA1_80", 60);
    let outcome = serve_handshake(&socket, &mut dtls);
    let _ = peer.kill();
    let _ = peer.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other);
    match outcome.map_err(|e| *e) {
        Err(DtlsEvent::Failed(why)) => println!("refused: {why:?}"),
        Err(other) => panic!("expected a failed handshake, got {other:?}"),
        Ok(_) => panic!("keys were handed out for a certificate the fingerprint does not name"),
    }
    assert!(dtls.is_done());
}

/// One handshake with `s_client` offering only `openssl_profile`, which
/// must be negotiated as `expected`; keys and SRTP checked as the module
/// docs say.
fn interoperate(openssl_profile: &str, expected: DtlsSrtpProfile) {
    let dir = scratch();
    let peer_fingerprint = peer_certificate(&dir);
    let identity = DtlsIdentity::generate().unwrap();
    let mut dtls = DtlsEndpoint::new(
        Instant::now(),
        &identity,
        DtlsRole::Server,
        peer_fingerprint,
    )
    .unwrap();

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let port = socket.local_addr().unwrap().port();
    let mut peer = s_client(&dir, port, openssl_profile, expected.keying_material_len());
    let report = read_report(&mut peer);

    let keys = serve_handshake(&socket, &mut dtls).expect("a handshake with OpenSSL");
    assert_eq!(keys.profile(), expected);

    // Keep answering the peer (a retransmitted Finished, say) while it
    // prints its report.
    let started = Instant::now();
    let report = loop {
        if let Ok(r) = report.try_recv() {
            break r;
        }
        assert!(started.elapsed() < PATIENCE, "s_client printed no keys");
        let mut buf = [0u8; 2048];
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            dtls.handle_input(Instant::now(), &buf[..n]);
            while let Some(record) = dtls.poll_transmit() {
                socket.send_to(&record, from).unwrap();
            }
        }
    };
    drop(peer.stdin.take());
    let _ = peer.kill();
    let _ = peer.wait();
    let _ = std::fs::remove_dir_all(&dir);

    assert_eq!(
        report.profile.as_deref(),
        Some(openssl_profile),
        "{report:?}"
    );
    let material = report.material.expect("OpenSSL exported keying material");
    // RFC 5764 §4.2: client key | server key | client salt | server salt.
    let (key_len, salt_len) = (expected.master_key_len(), expected.master_salt_len());
    assert_eq!(material.len(), 2 * (key_len + salt_len));
    let (client_key, rest) = material.split_at(key_len);
    let (server_key, rest) = rest.split_at(key_len);
    let (client_salt, server_salt) = rest.split_at(salt_len);
    // The endpoint is the server: its own key is the server's.
    assert_eq!(keys.local().key(), server_key);
    assert_eq!(keys.local().salt(), server_salt);
    assert_eq!(keys.remote().key(), client_key);
    assert_eq!(keys.remote().salt(), client_salt);

    // SRTP both ways, with the peer's contexts built from OpenSSL's
    // material and the endpoint's from its own export.
    let profile = expected.srtp_profile();
    let master = |k: &[u8], s: &[u8]| MasterKey::from_parts(profile, k, s).unwrap();
    let mut peer_tx = SrtpContext::new(profile, &master(client_key, client_salt));
    let mut peer_rx = SrtpContext::new(profile, &master(server_key, server_salt));
    let (mut ours_tx, mut ours_rx) = keys.contexts();

    let sent = rtp_packet(1, 0x1234_5678, &[0xd5; 160]);
    let mut wire = sent.clone();
    peer_tx.protect_rtp(&mut wire).unwrap();
    assert_eq!(wire.len(), sent.len() + profile.rtp_tag_len());
    let n = ours_rx.unprotect_rtp(&mut wire).unwrap();
    assert_eq!(&wire[..n], &sent[..]);

    let sent = rtp_packet(7, 0x0bad_cafe, &[0x55; 160]);
    let mut wire = sent.clone();
    ours_tx.protect_rtp(&mut wire).unwrap();
    let n = peer_rx.unprotect_rtp(&mut wire).unwrap();
    assert_eq!(&wire[..n], &sent[..]);

    let report_packet = rtcp_packet(0x1234_5678);
    let mut wire = report_packet.clone();
    peer_tx.protect_rtcp(&mut wire).unwrap();
    let n = ours_rx.unprotect_rtcp(&mut wire).unwrap();
    assert_eq!(&wire[..n], &report_packet[..]);

    // A packet protected with the other direction's key is refused.
    let mut wire = rtp_packet(2, 0x1234_5678, &[0xd5; 160]);
    peer_rx.protect_rtp(&mut wire).unwrap();
    assert!(ours_rx.unprotect_rtp(&mut wire).is_err());
}
