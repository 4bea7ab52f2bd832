//! Our ICE-lite responder and DTLS endpoint against a str0m peer playing
//! the browser (full ICE, controlling; `media::test_browser`), on a virtual
//! clock with 1 ms of latency. The test writes the SDP answer str0m reads
//! (the SDP side of a str0m-free leg does not exist yet); the exported keys
//! are shown to be str0m's by RTP protected with them reaching str0m, and
//! str0m's RTP opening with them.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use str0m::net::{Protocol, Receive};
use str0m::{Input, Output};

use super::super::*;
use crate::media::test_browser::Browser;
use crate::sdp::{Fingerprint, Limits, SessionDescription};
use crate::test_clock::epoch;

const GATEWAY: &str = "192.0.2.1:10000";
const BROWSER: &str = "198.51.100.7:50000";
/// The SSRC our answer declares, so str0m maps our packets to its m-line.
const OUR_SSRC: u32 = 0x5eed_0001;

/// What the browser's offer says that the transport needs.
struct Offer {
    ufrag: String,
    fingerprint: Fingerprint,
    mid: String,
}

fn read_offer(sdp: &str) -> Offer {
    let sdp = SessionDescription::parse(sdp.as_bytes(), &Limits::default()).unwrap();
    let m = &sdp.media[0];
    Offer {
        ufrag: m.ice_ufrag().or(sdp.ice_ufrag()).unwrap().to_owned(),
        fingerprint: m.fingerprints().chain(sdp.fingerprints()).next().unwrap(),
        mid: m.value("mid").unwrap().to_owned(),
    }
}

/// The answer a str0m-free leg would write: ICE-lite, one host candidate,
/// our fingerprint and role, Opus only, rtcp-mux, BUNDLE, our SSRC.
fn answer(offer: &Offer, creds: &IceCredentials, fp: &Fingerprint, role: DtlsRole) -> String {
    let setup = match role {
        DtlsRole::Server => "passive",
        DtlsRole::Client => "active",
    };
    let (ip, port) = GATEWAY.split_once(':').unwrap();
    let mid = &offer.mid;
    let (ufrag, pwd) = (&creds.ufrag, &creds.pwd);
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
        format!("a=ice-ufrag:{ufrag}"),
        format!("a=ice-pwd:{pwd}"),
        format!("a=fingerprint:{fp}"),
        format!("a=setup:{setup}"),
        format!("a=mid:{mid}"),
        "a=sendrecv".into(),
        "a=msid:gw gwtrack".into(),
        "a=rtcp-mux".into(),
        "a=rtpmap:111 opus/48000/2".into(),
        format!("a=ssrc:{OUR_SSRC} cname:gateway"),
        String::new(),
    ]
    .join("\r\n")
}

/// Our side of the call: the two transport parts, glued as a leg would.
struct Gateway {
    addr: SocketAddr,
    ice: IceLite,
    dtls: DtlsEndpoint,
    ice_events: Vec<IceEvent>,
    dtls_events: Vec<DtlsEvent>,
    /// DTLS records waiting for an address to go to (a client's first
    /// flight, before the browser's first check).
    pending: Vec<Vec<u8>>,
    /// SRTP and SRTCP received from a proved address.
    srtp: Vec<Vec<u8>>,
    /// Datagrams refused: DTLS or media from an address ICE never proved.
    unproved: usize,
    /// When consent expired.
    expired_at: Option<Instant>,
}

impl Gateway {
    fn keys(&self) -> Option<&SrtpKeys> {
        self.dtls_events.iter().find_map(|e| match e {
            DtlsEvent::Connected(k) => Some(k),
            _ => None,
        })
    }

    fn failure(&self) -> Option<DtlsFailure> {
        self.dtls_events.iter().find_map(|e| match e {
            DtlsEvent::Failed(f) => Some(*f),
            _ => None,
        })
    }

    fn receive(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        if self.ice.handle_input(now, from, self.addr, data) != CheckOutcome::NotStun {
            return;
        }
        if !self.ice.is_peer(from) {
            self.unproved += 1;
        } else if looks_like_dtls(data) {
            self.dtls.handle_input(now, data);
        } else if matches!(data.first(), Some(128..=191)) {
            self.srtp.push(data.to_vec());
        }
    }

    /// Where DTLS goes: the nominated address, else the last one proved.
    fn peer(&self) -> Option<SocketAddr> {
        self.ice.selected().or_else(|| {
            self.ice_events.iter().rev().find_map(|e| match e {
                IceEvent::PeerAddress(a) => Some(*a),
                _ => None,
            })
        })
    }

    fn deadline(&self) -> Option<Instant> {
        [self.ice.poll_timeout(), self.dtls.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }
}

struct Net {
    now: Instant,
    gw: Gateway,
    browser: Browser,
    wire: VecDeque<(SocketAddr, SocketAddr, Vec<u8>)>,
    /// What the browser sends is lost.
    browser_lost: bool,
    /// The browser's str0m may report errors (its handshake timing out).
    browser_may_fail: bool,
    browser_failed: bool,
}

impl Net {
    /// A browser offering, our transport answering in `role`; `tamper`
    /// changes the fingerprint our endpoint expects.
    fn new(role: DtlsRole, tamper: impl FnOnce(&mut Fingerprint)) -> Self {
        let now = epoch();
        let (mut browser, offer_sdp) = Browser::new(now, BROWSER);
        let offer = read_offer(&offer_sdp);
        let identity = DtlsIdentity::generate().unwrap();
        let creds = IceCredentials::random(&mut StdRng::seed_from_u64(11));
        let answer = answer(&offer, &creds, identity.fingerprint(), role);
        browser.accept_answer(&answer);
        let mut expected = offer.fingerprint.clone();
        tamper(&mut expected);
        let gw = Gateway {
            addr: GATEWAY.parse().unwrap(),
            ice: IceLite::new(now, creds, Some(offer.ufrag), CONSENT_TIMEOUT),
            dtls: DtlsEndpoint::new(now, &identity, role, expected).unwrap(),
            ice_events: Vec::new(),
            dtls_events: Vec::new(),
            pending: Vec::new(),
            srtp: Vec::new(),
            unproved: 0,
            expired_at: None,
        };
        Self {
            now,
            gw,
            browser,
            wire: VecDeque::new(),
            browser_lost: false,
            browser_may_fail: false,
            browser_failed: false,
        }
    }

    /// Takes what our side queued: responses and records onto the wire,
    /// events into the log.
    fn collect(&mut self) {
        let gw = &mut self.gw;
        while let Some(t) = gw.ice.poll_transmit() {
            self.wire.push_back((t.source, t.destination, t.contents));
        }
        while let Some(e) = gw.ice.poll_event() {
            if e == IceEvent::ConsentExpired {
                gw.expired_at = Some(self.now);
            }
            gw.ice_events.push(e);
        }
        while let Some(r) = gw.dtls.poll_transmit() {
            gw.pending.push(r);
        }
        if let Some(to) = gw.peer() {
            for r in gw.pending.drain(..) {
                self.wire.push_back((gw.addr, to, r));
            }
        }
        while let Some(e) = gw.dtls.poll_event() {
            gw.dtls_events.push(e);
        }
    }

    /// Takes what the browser queued: transmits onto the wire, events into
    /// its log, and its next deadline.
    fn collect_browser(&mut self) {
        let b = &mut self.browser;
        while !self.browser_failed {
            let output = match b.rtc.poll_output() {
                Ok(o) => o,
                // Its DTLS gives up when ours refused it; that is the point.
                Err(_) if self.browser_may_fail => {
                    self.browser_failed = true;
                    b.deadline = self.now + Duration::from_secs(3600);
                    break;
                }
                Err(e) => panic!("the browser peer runs: {e}"),
            };
            match output {
                Output::Transmit(t) => {
                    self.wire
                        .push_back((t.source, t.destination, t.contents.into()));
                }
                Output::Event(str0m::Event::Connected) => b.connected = true,
                Output::Event(str0m::Event::RtpPacket(p)) => b.rtp.push(p),
                Output::Event(_) => {}
                Output::Timeout(t) => {
                    b.deadline = t;
                    break;
                }
            }
        }
    }

    fn step(&mut self) {
        self.collect();
        self.collect_browser();
        let b = &self.browser;
        let next = [Some(b.deadline), self.gw.deadline()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.now);
        let step = Duration::from_millis(1);
        self.now = if self.wire.is_empty() {
            next.max(self.now + step)
        } else {
            self.now + step
        };
        let now = self.now;
        for (from, to, data) in std::mem::take(&mut self.wire) {
            if to == self.gw.addr {
                if !self.browser_lost {
                    self.gw.receive(now, from, &data);
                }
            } else {
                let r = Receive::new(Protocol::Udp, from, to, &data).unwrap();
                let ok = self
                    .browser
                    .rtc
                    .handle_input(Input::Receive(now, r))
                    .is_ok();
                assert!(
                    ok || self.browser_may_fail,
                    "the browser peer takes its input"
                );
                self.browser_failed |= !ok;
            }
        }
        self.gw.ice.handle_timeout(now);
        self.gw.dtls.handle_timeout(now);
        if self.browser.deadline <= now && !self.browser_failed {
            self.browser_failed |= self.browser.rtc.handle_input(Input::Timeout(now)).is_err();
        }
        self.collect();
        self.collect_browser();
    }

    fn run_until(&mut self, limit: Duration, done: impl Fn(&Self) -> bool) -> Duration {
        let start = self.now;
        while !done(self) {
            assert!(self.now - start < limit, "not done within {limit:?}");
            self.step();
        }
        self.now - start
    }

    fn connect(&mut self) -> Duration {
        self.run_until(Duration::from_secs(5), |n| {
            n.browser.connected && n.gw.keys().is_some()
        })
    }
}

/// An RTP packet with a 12-byte header.
fn rtp(ssrc: u32, seq: u16, ts: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 111];
    p.extend(seq.to_be_bytes());
    p.extend(ts.to_be_bytes());
    p.extend(ssrc.to_be_bytes());
    p.extend(payload);
    p
}

/// Media both ways with the exported keys: ours protect what str0m then
/// receives, str0m's packets open with the peer's keys.
fn media_flows(net: &mut Net) {
    let keys = net.gw.keys().unwrap().clone();
    // str0m and dimpl both prefer, and so agree on, AES-256-GCM.
    assert_eq!(keys.profile(), DtlsSrtpProfile::AeadAes256Gcm);
    assert_eq!(keys.local().key().len(), 32);
    assert_eq!(keys.local().salt().len(), 12);
    // The contexts of `media::srtp` the leg itself uses.
    let (mut out, mut inbound) = keys.contexts();
    let to = net.gw.ice.selected().expect("the browser nominated");
    assert_eq!(to, BROWSER.parse().unwrap());

    for k in 0..5u16 {
        let mut packet = rtp(
            OUR_SSRC,
            100 + k,
            960 * u32::from(k),
            format!("down {k}").as_bytes(),
        );
        out.protect_rtp(&mut packet).unwrap();
        net.wire.push_back((net.gw.addr, to, packet));
        let pt = net.browser.opus_pt();
        net.browser.send(
            net.now,
            pt,
            500 + u64::from(k),
            48 * u32::from(k),
            format!("up {k}").as_bytes(),
        );
        for _ in 0..20 {
            net.step();
        }
    }
    let got: Vec<_> = net
        .browser
        .rtp
        .iter()
        .map(|p| (p.header.sequence_number, p.payload.clone()))
        .collect();
    assert_eq!(got.len(), 5, "str0m received {got:?}");
    for (k, (seq, payload)) in got.into_iter().enumerate() {
        assert_eq!(seq, 100 + k as u16);
        assert_eq!(&payload[..], format!("down {k}").as_bytes());
    }

    let ours: Vec<Vec<u8>> = net
        .gw
        .srtp
        .iter()
        .filter(|d| !matches!(d.get(1), Some(192..=223)))
        .filter_map(|d| {
            let mut p = d.clone();
            let len = inbound.unprotect_rtp(&mut p).ok()?;
            p.truncate(len);
            Some(p)
        })
        .collect();
    assert_eq!(ours.len(), 5, "{} SRTP datagrams came", net.gw.srtp.len());
    for (k, p) in ours.iter().enumerate() {
        assert!(p.ends_with(format!("up {k}").as_bytes()), "{p:?}");
        assert_eq!(u16::from_be_bytes([p[2], p[3]]), 500 + k as u16);
    }
    // The wrong direction's key opens nothing.
    let (mut reversed, _) = keys.contexts();
    assert!(
        net.gw
            .srtp
            .iter()
            .all(|d| reversed.unprotect_rtp(&mut d.clone()).is_err())
    );
}

#[test]
fn ice_lite_and_dtls_server_connect_a_str0m_browser_and_its_keys_carry_rtp() {
    let mut net = Net::new(DtlsRole::Server, |_| {});
    let took = net.connect();
    // Two ICE round trips and two DTLS flights at 1 ms a hop.
    assert!(took < Duration::from_millis(20), "connecting took {took:?}");
    let peer: SocketAddr = BROWSER.parse().unwrap();
    assert_eq!(net.gw.ice_events[0], IceEvent::PeerAddress(peer));
    assert!(net.gw.ice_events.contains(&IceEvent::Nominated(peer)));
    assert_eq!(net.gw.failure(), None);
    assert_eq!(net.gw.unproved, 0);
    media_flows(&mut net);

    // The browser's SRTP proved it holds the keys: the handshake state goes.
    net.gw.dtls.release_handshake();
    assert_eq!(net.gw.dtls.poll_timeout(), None);
    // str0m keeps checking consent; the responder keeps answering, and
    // 40 s later the leg is alive.
    let start = net.now;
    while net.now - start < Duration::from_secs(40) {
        net.step();
    }
    assert!(net.gw.ice.is_alive());
    assert!(!net.gw.ice_events.contains(&IceEvent::ConsentExpired));
}

#[test]
fn as_dtls_client_too() {
    let mut net = Net::new(DtlsRole::Client, |_| {});
    net.connect();
    assert_eq!(net.gw.dtls.role(), DtlsRole::Client);
    media_flows(&mut net);
}

#[test]
fn a_browser_whose_certificate_is_not_the_offers_fails_dtls() {
    for role in [DtlsRole::Server, DtlsRole::Client] {
        let mut net = Net::new(role, |fp| fp.bytes[0] ^= 1);
        net.browser_may_fail = true;
        net.run_until(Duration::from_secs(5), |n| n.gw.failure().is_some());
        assert_eq!(net.gw.failure(), Some(DtlsFailure::FingerprintMismatch));
        assert!(net.gw.keys().is_none());
        assert!(net.gw.dtls.is_done());
        for _ in 0..200 {
            net.step();
        }
        assert!(!net.browser.connected, "{role:?}");
    }
}

#[test]
fn a_silent_browser_is_dead_after_thirty_seconds() {
    let mut net = Net::new(DtlsRole::Server, |_| {});
    net.connect();
    let lost_at = net.now;
    net.browser_lost = true;
    net.run_until(Duration::from_secs(31), |n| n.gw.expired_at.is_some());
    let took = net.gw.expired_at.unwrap() - lost_at;
    assert!(took <= Duration::from_secs(30), "{took:?}");
    assert!(took > Duration::from_secs(25), "{took:?}");
    assert!(!net.gw.ice.is_alive());
}
