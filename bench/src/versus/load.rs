//! The load generator: N calls through one relay, set up over NG exactly
//! as a WebRTC gateway sets them up (`offer` with the browser's offer,
//! toward a plain RTP/AVP PBX without ICE; `answer` with the PBX's answer,
//! toward the browser as UDP/TLS/RTP/SAVPF with ICE), then media both ways.
//!
//! Per call: a [`Browser`] (str0m, ICE + DTLS-SRTP) on a loopback socket of
//! its own, and a PBX on an RTP and an RTCP socket sending plain RTP. Once
//! every browser is connected, each side sends one 160-byte PCMU frame
//! every 20 ms (50 packets/s each way per call), the calls spread evenly
//! over the 20 ms, for the warm-up and then the measured window; what
//! arrives is counted at the other end (the right call's payload, PCMU,
//! 160 bytes) during a drain period after the last send.
//!
//! Everything runs as tasks of the caller's runtime, in this process: none
//! of the generator's CPU time is in the relay's figures, which are read
//! from `/proc` at the start and the end of the measured window.

use super::bencode::Value;
use super::browser::{Browser, BrowserError, PCMU, Polled};
use super::ng::{NgClient, NgError};
use super::proc_stat::{self, UdpDrops, Usage};
use super::relays::RelayProcess;
use super::sdp;
use sbc_core::media::rtp::{RtpView, Ssrc, write_packet};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::sleep_until;

/// One frame: 20 ms of audio.
pub const FRAME: Duration = Duration::from_millis(20);
/// PCMU payload bytes in 20 ms (8 kHz, one byte per sample).
pub const PAYLOAD: usize = 160;
/// How long an NG request may take.
const NG_WAIT: Duration = Duration::from_secs(5);
/// Largest datagram read.
const MAX_DATAGRAM: usize = 2048;

/// What to run against one relay.
#[derive(Debug, Clone, Copy)]
pub struct LoadConfig {
    /// Calls at once.
    pub calls: usize,
    /// Media before the measured window.
    pub warmup: Duration,
    /// The measured window.
    pub measured: Duration,
    /// How long the ends keep counting arrivals after the last send.
    pub drain: Duration,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A socket of the generator failed.
    #[error("load generator socket: {0}")]
    Io(#[from] io::Error),
    /// An NG request failed.
    #[error(transparent)]
    Ng(#[from] NgError),
    /// A browser peer failed during set-up.
    #[error("browser peer: {0}")]
    Browser(#[from] BrowserError),
    /// The relay's PBX offer names no audio address.
    #[error("the relay's PBX offer has no audio address:\n{0}")]
    NoAudio(String),
    /// Not every browser connected.
    #[error("{connected} of {calls} browsers connected (ICE + DTLS) within {waited:?}")]
    NotConnected {
        /// Connected browsers.
        connected: u64,
        /// Calls.
        calls: usize,
        /// How long we waited.
        waited: Duration,
    },
    /// The relay's `/proc` entries could not be read (it died?).
    #[error("reading the relay's /proc entries: {0}")]
    Proc(io::Error),
}

/// Counts over all calls of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Frames the browsers wrote.
    pub browser_sent: u64,
    /// Of them, arrived at the right PBX, intact.
    pub pbx_received: u64,
    /// Frames the PBXs sent.
    pub pbx_sent: u64,
    /// Of them, arrived (decrypted) at the right browser, intact.
    pub browser_received: u64,
    /// Arrivals that were not a frame of the call's other end.
    pub wrong: u64,
    /// Failed sends and str0m errors in the generator.
    pub errors: u64,
}

impl Counts {
    /// Packets the relay delivered, both ways.
    pub fn relayed(&self) -> u64 {
        self.pbx_received + self.browser_received
    }

    fn since(&self, earlier: &Counts) -> Counts {
        Counts {
            browser_sent: self.browser_sent - earlier.browser_sent,
            pbx_received: self.pbx_received - earlier.pbx_received,
            pbx_sent: self.pbx_sent - earlier.pbx_sent,
            browser_received: self.browser_received - earlier.browser_received,
            wrong: self.wrong - earlier.wrong,
            errors: self.errors - earlier.errors,
        }
    }
}

/// The counters and the relay's use at one instant.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// When.
    pub at: Instant,
    /// The counts so far.
    pub counts: Counts,
    /// The relay process's use so far.
    pub relay: Usage,
    /// This process's (the generator's) CPU time so far.
    pub generator_cpu: Duration,
    /// The namespace's UDP drop counters so far.
    pub udp: UdpDrops,
}

/// Datagrams dropped because a socket's receive buffer was full, by whose
/// socket it was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SocketDrops {
    /// The relay's sockets (what the generator sent it).
    pub relay: u64,
    /// The generator's sockets (what the relay sent it).
    pub generator: u64,
}

/// What one run against one relay measured.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Calls.
    pub calls: usize,
    /// From the first offer until every browser was connected.
    pub setup: Duration,
    /// The relay before the first call.
    pub idle: Usage,
    /// At the start of the measured window.
    pub start: Snapshot,
    /// At its end.
    pub end: Snapshot,
    /// Everything, after the drain.
    pub total: Counts,
    /// The SRTP profile of the first call's browser side, as the relay
    /// reports it (NG `query`, `crypto suite`).
    pub crypto_suite: Option<String>,
    /// Receive-buffer drops on each side's sockets, at the end of the drain.
    pub socket_drops: SocketDrops,
    /// The namespace's UDP drops from the first offer to the end of the
    /// drain (every socket's: the relay's and the generator's).
    pub udp_drops: UdpDrops,
    /// The first generator error, if any.
    pub first_error: Option<String>,
    /// SRTP bytes after the payload in what the browsers received (the
    /// authentication tag: 16 for AEAD AES-GCM, 10 for AES-CM +
    /// HMAC-SHA1-80), when seen.
    pub srtp_tag: Option<u64>,
}

impl RunReport {
    /// The counts of the measured window.
    pub fn window(&self) -> Counts {
        self.end.counts.since(&self.start.counts)
    }

    /// The relay's CPU time in the measured window.
    pub fn relay_cpu(&self) -> Duration {
        self.end.relay.cpu.saturating_sub(self.start.relay.cpu)
    }

    /// The generator's CPU time in the measured window.
    pub fn generator_cpu(&self) -> Duration {
        self.end
            .generator_cpu
            .saturating_sub(self.start.generator_cpu)
    }

    /// The measured window's wall-clock length.
    pub fn wall(&self) -> Duration {
        self.end.at.duration_since(self.start.at)
    }

    /// Relay CPU microseconds per packet delivered in the window.
    pub fn cpu_us_per_packet(&self) -> f64 {
        self.relay_cpu().as_secs_f64() * 1e6 / self.window().relayed().max(1) as f64
    }

    /// Packets per second one core relays at that cost.
    pub fn packets_per_core_second(&self) -> f64 {
        self.window().relayed() as f64 / self.relay_cpu().as_secs_f64().max(1e-9)
    }

    /// Resident memory growth from idle to the end of the window, per call.
    pub fn rss_per_call(&self) -> f64 {
        (self.end.relay.rss as f64 - self.idle.rss as f64) / self.calls.max(1) as f64
    }

    /// Delivered share browser → PBX over the run, percent.
    pub fn delivered_to_pbx(&self) -> f64 {
        percent(self.total.pbx_received, self.total.browser_sent)
    }

    /// Delivered share PBX → browser over the run, percent.
    pub fn delivered_to_browser(&self) -> f64 {
        percent(self.total.browser_received, self.total.pbx_sent)
    }

    /// Delivered share both ways over the run, percent.
    pub fn delivered(&self) -> f64 {
        percent(
            self.total.relayed(),
            self.total.browser_sent + self.total.pbx_sent,
        )
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

/// Runs `config` against `relay`.
pub async fn run(relay: &RelayProcess, config: &LoadConfig) -> Result<RunReport, LoadError> {
    let counters = Arc::new(Counters::default());
    let idle = relay.usage().map_err(LoadError::Proc)?;
    let udp_before = proc_stat::udp_drops().unwrap_or_default();
    let (schedule, schedule_rx) = watch::channel(Schedule::Connect);
    let mut ng = NgClient::new(relay.ng).await?;

    let setup_start = Instant::now();
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    let mut call_ids = Vec::new();
    let result = async {
        for index in 0..config.calls {
            let call = Call::set_up(&mut ng, index, config.calls).await?;
            call_ids.push(call.call_id.clone());
            tasks.push(tokio::spawn(
                call.run(counters.clone(), schedule_rx.clone()),
            ));
        }
        wait_connected(&counters, config.calls).await?;
        let setup = setup_start.elapsed();

        let first = Instant::now() + Duration::from_millis(100);
        let window = first + config.warmup;
        let stop = window + config.measured;
        let _ = schedule.send(Schedule::Media { first, stop });
        sleep_until(window.into()).await;
        let start = snapshot(relay, &counters)?;
        sleep_until(stop.into()).await;
        let end = snapshot(relay, &counters)?;
        tokio::time::sleep(config.drain).await;
        let socket_drops = SocketDrops {
            relay: proc_stat::socket_drops(relay.pid()).map_err(LoadError::Proc)?,
            generator: proc_stat::socket_drops(std::process::id()).unwrap_or_default(),
        };
        let crypto_suite = match call_ids.first() {
            Some(id) => ng
                .request(&query_request(id), NG_WAIT)
                .await?
                .find_str("crypto suite")
                .map(str::to_string),
            None => None,
        };
        Ok(RunReport {
            calls: config.calls,
            setup,
            idle,
            start,
            end,
            total: counters.counts(),
            crypto_suite,
            socket_drops,
            udp_drops: proc_stat::udp_drops()
                .unwrap_or_default()
                .since(&udp_before),
            first_error: counters.first_error(),
            srtp_tag: match counters.srtp_tag.load(Relaxed) {
                0 => None,
                n => Some(n),
            },
        })
    }
    .await;
    let _ = schedule.send(Schedule::Stop);
    for task in tasks {
        let _ = task.await;
    }
    if result.is_ok() {
        for call_id in &call_ids {
            ng.request(&delete_request(call_id), NG_WAIT).await?;
        }
    }
    result
}

async fn wait_connected(counters: &Counters, calls: usize) -> Result<(), LoadError> {
    let waited = Duration::from_secs(10) + Duration::from_millis(20) * calls as u32;
    let give_up = Instant::now() + waited;
    loop {
        let connected = counters.connected.load(Relaxed);
        if connected >= calls as u64 {
            return Ok(());
        }
        if Instant::now() >= give_up {
            return Err(LoadError::NotConnected {
                connected,
                calls,
                waited,
            });
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn snapshot(relay: &RelayProcess, counters: &Counters) -> Result<Snapshot, LoadError> {
    let at = Instant::now();
    let counts = counters.counts();
    let relay = relay.usage().map_err(LoadError::Proc)?;
    let generator_cpu = proc_stat::usage(std::process::id())
        .map(|u| u.cpu)
        .unwrap_or_default();
    Ok(Snapshot {
        at,
        counts,
        relay,
        generator_cpu,
        udp: proc_stat::udp_drops().unwrap_or_default(),
    })
}

fn offer_request(call_id: &str, sdp: &str) -> Value {
    Value::dict([
        ("command", Value::str("offer")),
        ("call-id", Value::str(call_id)),
        ("from-tag", Value::str("browser")),
        ("sdp", Value::str(sdp)),
        ("transport-protocol", Value::str("RTP/AVP")),
        ("ICE", Value::str("remove")),
        ("rtcp-mux", Value::str_list(&["demux"])),
    ])
}

fn answer_request(call_id: &str, sdp: &str) -> Value {
    Value::dict([
        ("command", Value::str("answer")),
        ("call-id", Value::str(call_id)),
        ("from-tag", Value::str("browser")),
        ("to-tag", Value::str("pbx")),
        ("sdp", Value::str(sdp)),
        ("transport-protocol", Value::str("UDP/TLS/RTP/SAVPF")),
        ("ICE", Value::str("force")),
    ])
}

fn query_request(call_id: &str) -> Value {
    Value::dict([
        ("command", Value::str("query")),
        ("call-id", Value::str(call_id)),
    ])
}

fn delete_request(call_id: &str) -> Value {
    Value::dict([
        ("command", Value::str("delete")),
        ("call-id", Value::str(call_id)),
        ("from-tag", Value::str("browser")),
    ])
}

/// What the calls do now.
#[derive(Debug, Clone, Copy)]
enum Schedule {
    /// ICE and DTLS only.
    Connect,
    /// Send frames from `first` (plus the call's offset) until `stop`.
    Media { first: Instant, stop: Instant },
    /// End.
    Stop,
}

#[derive(Default)]
struct Counters {
    connected: AtomicU64,
    browser_sent: AtomicU64,
    pbx_received: AtomicU64,
    pbx_sent: AtomicU64,
    browser_received: AtomicU64,
    wrong: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
    srtp_tag: AtomicU64,
}

impl Counters {
    fn counts(&self) -> Counts {
        Counts {
            browser_sent: self.browser_sent.load(Relaxed),
            pbx_received: self.pbx_received.load(Relaxed),
            pbx_sent: self.pbx_sent.load(Relaxed),
            browser_received: self.browser_received.load(Relaxed),
            wrong: self.wrong.load(Relaxed),
            errors: self.errors.load(Relaxed),
        }
    }
}

impl Counters {
    /// Counts a generator error and keeps the first one's text.
    fn error(&self, what: std::fmt::Arguments<'_>) {
        bump(&self.errors);
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert_with(|| what.to_string());
        }
    }

    fn first_error(&self) -> Option<String> {
        self.first_error.lock().ok().and_then(|f| f.clone())
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

/// One call's two ends.
struct Call {
    call_id: String,
    /// Where in the 20 ms this call sends.
    offset: Duration,
    /// The call's frame: its index, then PCMU silence.
    payload: [u8; PAYLOAD],
    browser: Browser,
    browser_socket: UdpSocket,
    browser_send: std::net::UdpSocket,
    browser_deadline: Instant,
    connected: bool,
    pbx_rtp: UdpSocket,
    pbx_send: std::net::UdpSocket,
    pbx_rtcp: UdpSocket,
    /// Where the relay takes the PBX's RTP.
    relay_pbx_side: SocketAddr,
    pbx_ssrc: u32,
    pbx_seq: u16,
    pbx_ts: u32,
    pbx_buf: Vec<u8>,
}

impl Call {
    /// Offer, PBX answer, browser answer: the call exists at the relay and
    /// the browser starts ICE when its task first runs.
    async fn set_up(ng: &mut NgClient, index: usize, calls: usize) -> Result<Call, LoadError> {
        let (browser_socket, browser_send) = socket_pair()?;
        let now = Instant::now();
        let (mut browser, offer) = Browser::new(now, browser_socket.local_addr()?)?;
        let call_id = format!("bench-{index}");
        let reply = ng
            .request(&offer_request(&call_id, &offer), NG_WAIT)
            .await?;
        let pbx_offer = NgClient::sdp(&reply, "offer")?;
        let relay_pbx_side =
            sdp::audio_addr(pbx_offer).ok_or_else(|| LoadError::NoAudio(pbx_offer.into()))?;
        let (pbx_rtp, pbx_send, pbx_rtcp) = rtp_rtcp_pair()?;
        let pbx_ssrc = 0x5000_0000 + index as u32;
        let answer = sdp::pbx_answer(
            pbx_rtp.local_addr()?,
            pbx_rtcp.local_addr()?.port(),
            pbx_ssrc,
        );
        let reply = ng
            .request(&answer_request(&call_id, &answer), NG_WAIT)
            .await?;
        let answer = NgClient::sdp(&reply, "answer")?;
        browser.accept_answer(&sdp::with_bundle(answer, &browser.mid()))?;
        let mut payload = [0xff; PAYLOAD];
        payload[..4].copy_from_slice(&(index as u32).to_be_bytes());
        Ok(Call {
            call_id,
            offset: FRAME * index as u32 / calls.max(1) as u32,
            payload,
            browser,
            browser_socket,
            browser_send,
            browser_deadline: now,
            connected: false,
            pbx_rtp,
            pbx_send,
            pbx_rtcp,
            relay_pbx_side,
            pbx_ssrc,
            pbx_seq: 1,
            pbx_ts: 0,
            pbx_buf: Vec::with_capacity(12 + PAYLOAD),
        })
    }

    async fn run(mut self, counters: Arc<Counters>, mut schedule: watch::Receiver<Schedule>) {
        let mut browser_buf = vec![0u8; MAX_DATAGRAM];
        let mut pbx_buf = vec![0u8; MAX_DATAGRAM];
        let mut rtcp_buf = vec![0u8; MAX_DATAGRAM];
        let mut next_send: Option<Instant> = None;
        let mut stop = Instant::now();
        let mut started = false;
        self.drive(Instant::now(), &counters);
        loop {
            let send_at = next_send;
            tokio::select! {
                r = self.browser_socket.recv_from(&mut browser_buf) => {
                    let Ok((n, from)) = r else { continue };
                    let now = Instant::now();
                    note_srtp_tag(&browser_buf[..n], &counters);
                    if let Err(e) = self.browser.handle_datagram(now, from, &browser_buf[..n]) {
                        counters.error(format_args!("browser input: {e}"));
                    }
                    self.drive(now, &counters);
                }
                r = self.pbx_rtp.recv_from(&mut pbx_buf) => {
                    let Ok((n, _)) = r else { continue };
                    let intact = RtpView::parse(&pbx_buf[..n])
                        .is_ok_and(|v| v.payload_type() == PCMU && v.payload() == self.payload);
                    bump(if intact { &counters.pbx_received } else { &counters.wrong });
                }
                // The relay's RTCP toward the PBX: read and dropped.
                _ = self.pbx_rtcp.recv_from(&mut rtcp_buf) => {}
                () = sleep_until(self.browser_deadline.into()) => {
                    let now = Instant::now();
                    if let Err(e) = self.browser.handle_timeout(now) {
                        counters.error(format_args!("browser timeout: {e}"));
                    }
                    self.drive(now, &counters);
                }
                () = sleep_until(send_at.unwrap_or(stop).into()), if send_at.is_some() => {
                    let at = send_at.unwrap_or(stop);
                    self.send_frames(Instant::now(), &counters);
                    next_send = Some(at + FRAME).filter(|&t| t < stop);
                }
                changed = schedule.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let now_schedule = *schedule.borrow_and_update();
                    match now_schedule {
                        Schedule::Media { first, stop: s } if !started => {
                            started = true;
                            stop = s;
                            next_send = Some(first + self.offset).filter(|&t| t < stop);
                        }
                        Schedule::Stop => break,
                        _ => {}
                    }
                }
            }
        }
    }

    /// One frame each way.
    fn send_frames(&mut self, now: Instant, counters: &Counters) {
        match self.browser.send_audio(now, &self.payload) {
            Ok(()) => bump(&counters.browser_sent),
            Err(e) => counters.error(format_args!("browser send: {e}")),
        }
        self.drive(now, counters);
        self.pbx_buf.clear();
        write_packet(
            &mut self.pbx_buf,
            PCMU,
            false,
            self.pbx_seq,
            self.pbx_ts,
            Ssrc(self.pbx_ssrc),
            &self.payload,
        );
        self.pbx_seq = self.pbx_seq.wrapping_add(1);
        self.pbx_ts = self.pbx_ts.wrapping_add(PAYLOAD as u32);
        match self.pbx_send.send_to(&self.pbx_buf, self.relay_pbx_side) {
            Ok(_) => bump(&counters.pbx_sent),
            Err(e) => counters.error(format_args!("PBX send: {e}")),
        }
    }

    /// Sends what the browser has to send and counts what it received.
    fn drive(&mut self, now: Instant, counters: &Counters) {
        loop {
            match self.browser.poll(now) {
                Ok(Polled::Transmit(to, data)) => {
                    if let Err(e) = self.browser_send.send_to(&data, to) {
                        counters.error(format_args!("browser send to {to}: {e}"));
                    }
                }
                Ok(Polled::Connected) => {
                    if !self.connected {
                        self.connected = true;
                        bump(&counters.connected);
                    }
                }
                Ok(Polled::Rtp(pt, payload)) => {
                    let intact = pt == PCMU && payload[..] == self.payload[..];
                    bump(if intact {
                        &counters.browser_received
                    } else {
                        &counters.wrong
                    });
                }
                Ok(Polled::Timeout(at)) => {
                    self.browser_deadline = at;
                    return;
                }
                Err(e) => {
                    counters.error(format_args!("browser poll: {e}"));
                    self.browser_deadline = now + FRAME;
                    return;
                }
            }
        }
    }
}

/// A loopback socket, non-blocking, twice: tokio's half receives, the
/// other sends from the call's synchronous code (tokio's `try_send_to`
/// refuses until the reactor has seen the socket writable once).
fn socket_pair() -> io::Result<(UdpSocket, std::net::UdpSocket)> {
    let socket = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    socket.set_nonblocking(true)?;
    let send = socket.try_clone()?;
    Ok((UdpSocket::from_std(socket)?, send))
}

/// The PBX's sockets: RTP on an even port (with its sending twin, as in
/// [`socket_pair`]) and RTCP on the port above, as RFC 3550 §11 has it.
fn rtp_rtcp_pair() -> io::Result<(UdpSocket, std::net::UdpSocket, UdpSocket)> {
    for _ in 0..1000 {
        let (rtp, send) = socket_pair()?;
        let port = rtp.local_addr()?.port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        let Ok(rtcp) = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, port + 1)) else {
            continue;
        };
        rtcp.set_nonblocking(true)?;
        return Ok((rtp, send, UdpSocket::from_std(rtcp)?));
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        "no free even/odd port pair on loopback",
    ))
}

/// Notes the SRTP tag length of an SRTP PCMU packet from the relay (RTP
/// version 2, payload type 0, not padded): what follows the header (CSRCs
/// and header extension included) and the 160-byte payload.
fn note_srtp_tag(datagram: &[u8], counters: &Counters) {
    let [first, second, ..] = *datagram else {
        return;
    };
    if first >> 6 != 2 || first & 0x20 != 0 || second & 0x7f != PCMU {
        return;
    }
    let mut header = 12 + 4 * usize::from(first & 0x0f);
    if first & 0x10 != 0 {
        let Some(words) = datagram.get(header + 2..header + 4) else {
            return;
        };
        header += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    if let Some(tag) = datagram.len().checked_sub(header + PAYLOAD) {
        counters.srtp_tag.store(tag as u64, Relaxed);
    }
}
