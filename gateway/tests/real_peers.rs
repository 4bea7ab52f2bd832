//! Browser calls against real SIP peers: baresip as an auto-answering PBX
//! that plays a 1 kHz tone and records what it hears, and Kamailio as the
//! registrar and proxy between a baresip phone and a browser registered
//! through the gateway. Audio is proven both ways: Chromium's received
//! tone is measured in the page (`e2e/ws_call.mjs`, `e2e/ws_incoming.mjs`),
//! baresip's recording is measured here. Configurations are in
//! `tests/peers/`; everything runs on loopback in the suite's namespace.

mod common;

use gateway::app::{self, App};
use gateway::config::Config;
use gateway::metrics::{FrameLabels, Metrics};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The tone baresip plays.
const PBX_TONE: f64 = 1000.0;
/// The tone the browser plays.
const BROWSER_TONE: f64 = 440.0;

fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sbc-real-peers-{tag}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A 16-bit mono 8 kHz WAV of a sine at `hz`, `seconds` long.
fn write_tone_wav(path: &Path, hz: f64, seconds: u32) {
    let rate = 8000u32;
    let samples: Vec<i16> = (0..rate * seconds)
        .map(|n| {
            let t = f64::from(n) / f64::from(rate);
            (0.3 * f64::from(i16::MAX) * (2.0 * std::f64::consts::PI * hz * t).sin()) as i16
        })
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, out).unwrap();
}

/// The samples and rate of a 16-bit PCM WAV (the `data` chunk found by
/// walking the chunks).
fn read_wav(path: &Path) -> (Vec<f64>, u32) {
    let bytes = std::fs::read(path).unwrap();
    let rate = u32::from_le_bytes(bytes[24..28].try_into().unwrap());
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        if id == b"data" {
            let end = (at + 8 + len).min(bytes.len());
            let samples = bytes[at + 8..end]
                .chunks_exact(2)
                .map(|c| f64::from(i16::from_le_bytes([c[0], c[1]])))
                .collect();
            return (samples, rate);
        }
        at += 8 + len;
    }
    (Vec::new(), rate)
}

/// The frequency (5 Hz steps, 100–3000 Hz) with the most energy in the
/// loudest second of `path`, and that second's RMS level.
fn dominant_frequency(path: &Path) -> (f64, f64) {
    let (samples, rate) = read_wav(path);
    let second = rate as usize;
    let loudest = samples
        .chunks(second)
        .filter(|c| c.len() == second)
        .max_by(|a, b| energy(a).total_cmp(&energy(b)))
        .unwrap_or(&[]);
    let rms = (energy(loudest) / loudest.len().max(1) as f64).sqrt();
    let best = (20..=600)
        .map(|k| f64::from(k) * 5.0)
        .max_by(|a, b| goertzel(loudest, *a, rate).total_cmp(&goertzel(loudest, *b, rate)))
        .unwrap_or(0.0);
    (best, rms)
}

fn energy(x: &[f64]) -> f64 {
    x.iter().map(|s| s * s).sum()
}

/// Power of `hz` in `x` (Goertzel).
fn goertzel(x: &[f64], hz: f64, rate: u32) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / f64::from(rate);
    let c = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &v in x {
        let s = v + c * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - c * s1 * s2
}

/// A baresip instance with its own ports, tone and recording folder.
struct Baresip {
    child: Child,
    sip_port: u16,
    ctrl_port: u16,
    records: PathBuf,
}

impl Baresip {
    /// Starts baresip with `account` (an accounts-file line; `@SIP_PORT@`
    /// is filled in) playing `PBX_TONE`.
    fn start(account: &str) -> Baresip {
        let dir = tempdir("baresip");
        let records = dir.join("records");
        std::fs::create_dir_all(&records).unwrap();
        let tone = dir.join("tone.wav");
        write_tone_wav(&tone, PBX_TONE, 60);
        let sip_port = common::free_port();
        let ctrl_port = common::free_port();
        let template = include_str!("peers/baresip/config");
        let config = template
            .replace("@SIP_PORT@", &sip_port.to_string())
            .replace("@CTRL_PORT@", &ctrl_port.to_string())
            .replace("@RTP_PORTS@", &common::rtp_ports_text(20))
            .replace("@TONE_WAV@", &tone.display().to_string())
            .replace("@RECORD_DIR@", &records.display().to_string());
        std::fs::write(dir.join("config"), config).unwrap();
        std::fs::write(
            dir.join("accounts"),
            account.replace("@SIP_PORT@", &sip_port.to_string()),
        )
        .unwrap();
        let child = Command::new("baresip")
            .args(["-f", &dir.display().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("baresip is installed (scripts/test.sh installs baresip-core)");
        let b = Baresip {
            child,
            sip_port,
            ctrl_port,
            records,
        };
        b.wait_ready();
        b
    }

    /// Waits until its control port accepts connections.
    fn wait_ready(&self) {
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", self.ctrl_port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("baresip did not start");
    }

    /// Sends a ctrl_tcp command.
    fn command(&self, command: &str, params: &str) -> String {
        ctrl_command(self.ctrl_port, command, params)
    }

    /// The recording of what it heard in the (one) call, once it has a
    /// WAV header.
    fn heard(&self) -> Option<PathBuf> {
        std::fs::read_dir(&self.records)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
            .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 44))
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.command("quit", "");
        std::thread::sleep(Duration::from_millis(200));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a baresip ctrl_tcp command (netstring JSON) to `port` and returns
/// the answer.
fn ctrl_command(port: u16, command: &str, params: &str) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let json = format!(r#"{{"command":"{command}","params":"{params}","token":"t"}}"#);
    let _ = s.write_all(format!("{}:{json},", json.len()).as_bytes());
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = [0u8; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Sends `command` to baresip's control port, off the async threads.
async fn ctrl_now(port: u16, command: &'static str, params: String) -> String {
    tokio::task::spawn_blocking(move || ctrl_command(port, command, &params))
        .await
        .unwrap_or_default()
}

/// Kamailio on its own port.
struct Kamailio {
    child: Child,
    port: u16,
}

impl Kamailio {
    fn start() -> Kamailio {
        let dir = tempdir("kamailio");
        let port = common::free_port();
        let config = include_str!("peers/kamailio.cfg")
            .replace("@PORT@", &port.to_string())
            .replace("@RUN_DIR@", &dir.display().to_string());
        let cfg = dir.join("kamailio.cfg");
        std::fs::write(&cfg, config).unwrap();
        let child = Command::new("kamailio")
            .args([
                "-f",
                &cfg.display().to_string(),
                "-DD",
                "-E",
                "-m",
                "64",
                "-M",
                "8",
            ])
            .args(["-Y", &dir.display().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("kamailio is installed (scripts/test.sh installs it)");
        let kamailio = Kamailio { child, port };
        kamailio.wait_ready();
        kamailio
    }

    /// Waits until it answers an OPTIONS (with anything: a 404 will do).
    fn wait_ready(&self) {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let local = socket.local_addr().unwrap();
        let mut answer = [0u8; 2048];
        for n in 0..100 {
            let options = format!(
                "OPTIONS sip:ping@127.0.0.1:{port} SIP/2.0\r\n\
                 Via: SIP/2.0/UDP {local};branch=z9hG4bK-ready-{n}\r\n\
                 Max-Forwards: 70\r\nTo: <sip:ping@127.0.0.1>\r\n\
                 From: <sip:test@127.0.0.1>;tag=ready\r\nCall-ID: ready-{n}@127.0.0.1\r\n\
                 CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
                port = self.port
            );
            let _ = socket.send_to(options.as_bytes(), ("127.0.0.1", self.port));
            if socket
                .recv(&mut answer)
                .is_ok_and(|len| answer[..len].starts_with(b"SIP/2.0 "))
            {
                return;
            }
        }
        panic!("kamailio did not answer an OPTIONS within 10 s");
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_gateway(pbx: &str) -> App {
    start_gateway_with(pbx, "").await
}

/// [`start_gateway`], with more `[pbx]` keys.
async fn start_gateway_with(pbx: &str, more_pbx_keys: &str) -> App {
    let dir = tempdir("gw");
    let toml = format!(
        "[http]\nlisten = \"127.0.0.1:0\"\ncert = \"{dir}/gw.pem\"\nkey = \"{dir}/gw-key.pem\"\n\
         [sip]\nlisten = [\"udp:127.0.0.1:{sip}\"]\nrate_limit_per_ip = 0\n\
         [media]\npublic_ip = \"127.0.0.1\"\nwebrtc_port = {webrtc}\nrtp_ports = \"{rtp}\"\n\
         [pbx]\nuri = \"{pbx}\"\n{more_pbx_keys}",
        dir = dir.display(),
        sip = common::free_port(),
        webrtc = common::free_port(),
        rtp = common::rtp_ports_text(40),
    );
    let config = Config::from_sources(
        &toml,
        std::iter::empty::<(String, String)>(),
        "127.0.0.1".parse().unwrap(),
    )
    .unwrap();
    app::start(&config).await.expect("the gateway starts")
}

/// Runs an `e2e/` script against `gw`; its JSON line.
async fn run_node(script: &str, gw: &App, args: &[&str]) -> Value {
    let mut all = vec![
        "--url".to_owned(),
        format!("https://{}/healthz", gw.http.local_addr),
    ];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    common::run_e2e(script, all).await
}

/// What baresip heard: its dominant frequency must be the browser's tone.
/// Baresip writes its recording as the call ends: it is read until it holds
/// the browser's tone, for at most 10 s, and the last reading is judged.
async fn assert_pbx_heard_the_browser(b: &Baresip) {
    let heard = |(hz, rms): (f64, f64)| (hz - BROWSER_TONE).abs() <= 10.0 && rms > 300.0;
    let mut last = None;
    common::poll_until(Duration::from_secs(10), || {
        last = b.heard().map(|path| dominant_frequency(&path));
        last.is_some_and(heard)
    })
    .await;
    let Some((hz, rms)) = last else {
        panic!("baresip recorded nothing in {}", b.records.display());
    };
    println!("baresip heard {hz} Hz at RMS {rms:.0}");
    assert!((hz - BROWSER_TONE).abs() <= 10.0, "baresip heard {hz} Hz");
    assert!(rms > 300.0, "baresip heard near silence (RMS {rms:.0})");
}

/// Waits (at most 60 s) for the page's `ping` after it measured what it
/// heard (`ws_call.mjs --hangup remote`, `ws_incoming.mjs`).
async fn wait_until_the_page_heard(metrics: &Metrics) {
    let pings = || {
        metrics
            .ws_frames
            .get_or_create(&FrameLabels {
                direction: "in",
                r#type: "ping",
            })
            .get()
    };
    let heard = common::poll_until(Duration::from_secs(60), || pings() > 0).await;
    assert!(heard, "the page did not say it heard the call");
}

/// Baresip's account as the PBX: it answers at once, in G.711.
const AUTO_ANSWERING_PBX: &str =
    "<sip:pbx@127.0.0.1:@SIP_PORT@>;regint=0;answermode=auto;audio_codecs=pcmu,pcma";

/// `ws_call.mjs` calling baresip: the page plays 440 Hz, hears 1 kHz for
/// 3 s, then hangs up.
const CALL_THE_PBX_HEAR_ITS_TONE: [&str; 8] = [
    "--to",
    "pbx",
    "--tone",
    "440",
    "--expect",
    "1000",
    "--seconds",
    "3",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_and_baresip_hear_each_other_and_the_browser_hangs_up() {
    let pbx = Baresip::start(AUTO_ANSWERING_PBX);
    let gw = start_gateway(&format!("sip:127.0.0.1:{}", pbx.sip_port)).await;
    let result = run_node("ws_call.mjs", &gw, &CALL_THE_PBX_HEAR_ITS_TONE).await;
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["ended"]["by"], "local");
    assert_pbx_heard_the_browser(&pbx).await;
    gw.stop().await;
}

/// `pbx.srtp = "sdes"` against a baresip that requires SRTP
/// (`mediaenc=srtp-mand`): the browser hears baresip's tone and baresip
/// records the browser's, so both ends unprotected what the other
/// protected. The same baresip refuses the call of a gateway offering
/// plain RTP: SRTP was not optional.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_pbx_srtp_sdes_chromium_and_a_baresip_requiring_srtp_hear_each_other() {
    let pbx = Baresip::start(&format!("{AUTO_ANSWERING_PBX};mediaenc=srtp-mand"));
    let uri = format!("sip:127.0.0.1:{}", pbx.sip_port);
    let plain = start_gateway(&uri).await;
    let refused = run_node(
        "ws_call.mjs",
        &plain,
        &["--to", "pbx", "--expect-end", "488"],
    )
    .await;
    plain.stop().await;
    let gw = start_gateway_with(&uri, "srtp = \"sdes\"\n").await;
    let result = run_node("ws_call.mjs", &gw, &CALL_THE_PBX_HEAR_ITS_TONE).await;
    assert_eq!(refused["ok"], true, "plain RTP was not refused: {refused}");
    assert_eq!(result["ok"], true, "{result}");
    assert_pbx_heard_the_browser(&pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_hangs_up_and_the_browser_hears_ended_by_remote() {
    let pbx = Baresip::start(AUTO_ANSWERING_PBX);
    let gw = start_gateway(&format!("sip:127.0.0.1:{}", pbx.sip_port)).await;
    // Baresip hangs up once the page has heard it.
    let (metrics, ctrl) = (gw.metrics.clone(), pbx.ctrl_port);
    let hangup = tokio::spawn(async move {
        wait_until_the_page_heard(&metrics).await;
        ctrl_now(ctrl, "hangup", String::new()).await
    });
    let result = run_node(
        "ws_call.mjs",
        &gw,
        &[
            &CALL_THE_PBX_HEAR_ITS_TONE[..6],
            &["--seconds", "2", "--hangup", "remote"],
        ]
        .concat(),
    )
    .await;
    println!("baresip: {}", hangup.await.unwrap());
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["ended"]["by"], "remote");
    assert_pbx_heard_the_browser(&pbx).await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baresip_phone_calls_a_browser_registered_at_kamailio() {
    phone_calls_a_registered_browser("", "").await;
}

/// The same over SDES-SRTP: a phone that requires it (`mediaenc=srtp-mand`)
/// calls a gateway with `pbx.srtp = "sdes"`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baresip_phone_requiring_srtp_calls_a_browser_with_pbx_srtp_sdes() {
    phone_calls_a_registered_browser(";mediaenc=srtp-mand", "srtp = \"sdes\"\n").await;
}

/// A baresip phone (with `account_params`) dials user 1001 at Kamailio,
/// where the browser registered through a gateway (with `pbx_keys`); both
/// hear each other.
async fn phone_calls_a_registered_browser(account_params: &str, pbx_keys: &str) {
    let kamailio = Kamailio::start();
    let gw = start_gateway_with(&format!("sip:127.0.0.1:{}", kamailio.port), pbx_keys).await;
    let phone = Baresip::start(&format!(
        "<sip:1002@127.0.0.1:{}>;regint=0;answermode=manual;audio_codecs=pcmu,pcma{account_params}",
        kamailio.port
    ));
    let ctrl = phone.ctrl_port;
    let target = format!("sip:1001@127.0.0.1:{}", kamailio.port);
    let metrics = gw.metrics.clone();
    let dialer = tokio::spawn(async move {
        // The phone dials once the browser is registered (ws_incoming.mjs
        // registers at once), and hangs up once the page has heard it.
        common::poll_until(Duration::from_secs(30), || {
            metrics.registrations_active.get() > 0
        })
        .await;
        let dialled = ctrl_now(ctrl, "dial", target).await;
        wait_until_the_page_heard(&metrics).await;
        let hung_up = ctrl_now(ctrl, "hangup", String::new()).await;
        (dialled, hung_up)
    });
    let result = run_node(
        "ws_incoming.mjs",
        &gw,
        &["--user", "1001", "--tone", "440", "--expect", "1000"],
    )
    .await;
    println!("baresip: {:?}", dialer.await.unwrap());
    assert_eq!(result["ok"], true, "{result}");
    let from = result["incoming"]["from"].as_str().unwrap_or_default();
    assert!(from.starts_with("sip:1002@"), "{from}");
    assert_pbx_heard_the_browser(&phone).await;
    drop(kamailio);
    gw.stop().await;
}
