//! The memory of the str0m-free transport (`--bin lite_memory`): what one
//! call's [`IceLite`] responder and [`DtlsEndpoint`] keep, measured with
//! [`crate::CountingAlloc`] the way the relay benchmark measures a call.
//!
//! Each call is answered by the two parts, boxed together as a leg would
//! hold them, and runs against its own str0m peer playing the browser (full
//! ICE, DTLS client) on a virtual clock with 1 ms of latency: ICE, the DTLS
//! handshake, then `linger` seconds of the browser's consent checks. The
//! peer, the wire and every datagram are then dropped, so the live bytes
//! this thread gained since just before the call are the leg's. Calls stay
//! alive until the end, so nothing is freed and reused between them.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use sbc_core::media::srtp::{MasterKey, SrtpContext, SrtpProfile};
use sbc_core::media::webrtc_lite::{
    CONSENT_TIMEOUT, CheckOutcome, DtlsEndpoint, DtlsEvent, DtlsIdentity, DtlsRole, IceCredentials,
    IceLite, looks_like_dtls,
};
use sbc_core::sdp::{Limits, SessionDescription};
use str0m::change::SdpAnswer;
use str0m::media::{Direction, MediaKind};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Input, Output, Rtc};

use crate::live_bytes;

const GATEWAY: &str = "192.0.2.1:10000";

/// One call's transport, as a leg would hold it.
pub struct LiteLeg {
    ice: IceLite,
    dtls: DtlsEndpoint,
}

/// Bytes per call, averaged over the calls.
#[derive(Debug, Clone, Copy)]
pub struct LiteReport {
    /// Calls measured (after one warm-up call, not counted).
    pub calls: usize,
    /// `size_of::<IceLite>()`, inline in the leg's box.
    pub ice_inline: usize,
    /// `size_of::<DtlsEndpoint>()`, inline in the leg's box.
    pub dtls_inline: usize,
    /// Live bytes of one leg just made (ICE credentials, dimpl's instance).
    pub at_creation: f64,
    /// Wall-clock time to make one leg (`IceLite::new` and
    /// `DtlsEndpoint::new`, which parses the private key), mean.
    pub setup: Duration,
    /// After the handshake and the consent checks, dimpl's state kept.
    pub connected: f64,
    /// The same after [`DtlsEndpoint::release_handshake`].
    pub released: f64,
    /// Two AES-CM SRTP contexts of `sbc_core::media::srtp` (one per
    /// direction), each with one stream, for the full-leg estimate.
    pub two_srtp_contexts: f64,
}

/// The browser's offer: its ufrag, fingerprint and mid.
fn offer_facts(sdp: &str) -> (String, sbc_core::sdp::Fingerprint, String) {
    let sdp = SessionDescription::parse(sdp.as_bytes(), &Limits::default()).expect("str0m's offer");
    let m = &sdp.media[0];
    (
        m.ice_ufrag().expect("a ufrag").to_owned(),
        m.fingerprints().next().expect("a fingerprint"),
        m.value("mid").expect("a mid").to_owned(),
    )
}

/// The SDP answer a str0m-free leg would write.
fn answer(mid: &str, creds: &IceCredentials, identity: &DtlsIdentity) -> String {
    let (ip, port) = GATEWAY.split_once(':').expect("host:port");
    [
        "v=0".to_owned(),
        "o=- 1 1 IN IP4 0.0.0.0".into(),
        "s=-".into(),
        "t=0 0".into(),
        format!("a=group:BUNDLE {mid}"),
        "a=ice-lite".into(),
        "m=audio 9 UDP/TLS/RTP/SAVPF 111".into(),
        "c=IN IP4 0.0.0.0".into(),
        format!("a=candidate:1 1 udp 2130706431 {ip} {port} typ host"),
        format!("a=ice-ufrag:{}", creds.ufrag),
        format!("a=ice-pwd:{}", creds.pwd),
        format!("a=fingerprint:{}", identity.fingerprint()),
        "a=setup:passive".into(),
        format!("a=mid:{mid}"),
        "a=sendrecv".into(),
        "a=rtcp-mux".into(),
        "a=rtpmap:111 opus/48000/2".into(),
        "a=ssrc:1 cname:gateway".into(),
        String::new(),
    ]
    .join("\r\n")
}

/// Makes one call's leg at `now` and runs it against a str0m browser at
/// `browser` until connected and `linger` later; returns the leg, the bytes
/// it held when made, the wall-clock time making it took, and the virtual
/// time the call ended.
fn call(
    now: Instant,
    identity: &DtlsIdentity,
    browser: SocketAddr,
    rng: &mut StdRng,
    linger: Duration,
) -> (Box<LiteLeg>, i64, Duration, Instant) {
    let gateway: SocketAddr = GATEWAY.parse().expect("an address");
    let mut rtc = Rtc::builder()
        .set_rtp_mode(true)
        .set_stats_interval(None)
        .build(now);
    rtc.add_local_candidate(Candidate::host(browser, "udp").expect("a candidate"));
    let mut change = rtc.sdp_api();
    change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
    let (offer, pending) = change.apply().expect("an offer");
    let (ufrag, fingerprint, mid) = offer_facts(&offer.to_sdp_string());
    let creds = IceCredentials::random(rng);
    let sdp = answer(&mid, &creds, identity);

    let before = live_bytes();
    let started = Instant::now();
    let mut leg = Box::new(LiteLeg {
        ice: IceLite::new(now, creds, Some(ufrag), CONSENT_TIMEOUT),
        dtls: DtlsEndpoint::new(now, identity, DtlsRole::Server, fingerprint).expect("an endpoint"),
    });
    let at_creation = live_bytes() - before;
    let setup = started.elapsed();

    let answer = SdpAnswer::from_sdp_string(&sdp).expect("our answer parses");
    rtc.sdp_api()
        .accept_answer(pending, answer)
        .expect("str0m takes our answer");

    let mut now = now;
    let mut wire: VecDeque<(SocketAddr, SocketAddr, Vec<u8>)> = VecDeque::new();
    let mut browser_deadline: Instant;
    let (mut ours_up, mut theirs_up) = (false, false);
    let mut end: Option<Instant> = None;
    while end.is_none_or(|e| now < e) {
        while let Some(t) = leg.ice.poll_transmit() {
            wire.push_back((t.source, t.destination, t.contents));
        }
        while leg.ice.poll_event().is_some() {}
        let to = leg.ice.selected().unwrap_or(browser);
        while let Some(r) = leg.dtls.poll_transmit() {
            wire.push_back((gateway, to, r));
        }
        while let Some(e) = leg.dtls.poll_event() {
            match e {
                DtlsEvent::Connected(_) => ours_up = true,
                other => panic!("the handshake fails: {other:?}"),
            }
        }
        loop {
            match rtc.poll_output().expect("the browser runs") {
                Output::Transmit(t) => wire.push_back((t.source, t.destination, t.contents.into())),
                Output::Event(str0m::Event::Connected) => theirs_up = true,
                Output::Event(_) => {}
                Output::Timeout(t) => {
                    browser_deadline = t;
                    break;
                }
            }
        }
        if ours_up && theirs_up && end.is_none() {
            end = Some(now + linger);
        }
        let next = [
            Some(browser_deadline),
            leg.ice.poll_timeout(),
            leg.dtls.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(now);
        let tick = Duration::from_millis(1);
        now = if wire.is_empty() {
            next.max(now + tick)
        } else {
            now + tick
        };
        for (from, to, data) in std::mem::take(&mut wire) {
            if to == gateway {
                let stun = leg.ice.handle_input(now, from, to, &data);
                if stun == CheckOutcome::NotStun && leg.ice.is_peer(from) && looks_like_dtls(&data)
                {
                    leg.dtls.handle_input(now, &data);
                }
            } else {
                let r = Receive::new(Protocol::Udp, from, to, &data).expect("a datagram");
                rtc.handle_input(Input::Receive(now, r))
                    .expect("the browser takes it");
            }
        }
        leg.ice.handle_timeout(now);
        leg.dtls.handle_timeout(now);
        if browser_deadline <= now {
            rtc.handle_input(Input::Timeout(now))
                .expect("the browser runs");
        }
        assert!(leg.ice.is_alive(), "consent holds");
    }
    (leg, at_creation, setup, now)
}

/// Measures `calls` calls (and one warm-up call before them, so that
/// whatever is made once per process is not counted), each lingering
/// `linger` after connecting.
pub fn run(calls: usize, linger: Duration) -> LiteReport {
    let identity = DtlsIdentity::generate().expect("an identity");
    let mut rng = StdRng::seed_from_u64(5);
    let mut now = Instant::now();
    let browser = |i: usize| -> SocketAddr {
        SocketAddr::from((
            [198, 51, 100, (i % 250) as u8 + 1],
            50_000 + (i / 250) as u16,
        ))
    };
    let (warm, _, _, t) = call(now, &identity, browser(0), &mut rng, linger);
    drop(warm);
    now = t;

    let mut legs: Vec<Box<LiteLeg>> = Vec::with_capacity(calls);
    let mut creation = 0i64;
    let mut setup = Duration::ZERO;
    let before = live_bytes();
    for i in 0..calls {
        let (leg, at_creation, took, t) = call(now, &identity, browser(i + 1), &mut rng, linger);
        creation += at_creation;
        setup += took;
        legs.push(leg);
        now = t;
    }
    let connected = live_bytes() - before;
    for leg in &mut legs {
        leg.dtls.release_handshake();
    }
    let released = live_bytes() - before;

    let mut contexts: Vec<Box<SrtpContext>> = Vec::with_capacity(2 * calls);
    let srtp_before = live_bytes();
    for _ in 0..2 * calls {
        let key = MasterKey::random(&mut rng);
        let mut ctx = Box::new(SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &key));
        let mut rtp = vec![0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7];
        rtp.extend([0u8; 100]);
        ctx.protect_rtp(&mut rtp).expect("an RTP packet");
        contexts.push(ctx);
    }
    let srtp = live_bytes() - srtp_before;

    let per = |b: i64| b as f64 / calls as f64;
    let report = LiteReport {
        calls,
        ice_inline: size_of::<IceLite>(),
        dtls_inline: size_of::<DtlsEndpoint>(),
        at_creation: per(creation),
        setup: setup / calls as u32,
        connected: per(connected),
        released: per(released),
        two_srtp_contexts: per(srtp),
    };
    drop(legs);
    drop(contexts);
    report
}
