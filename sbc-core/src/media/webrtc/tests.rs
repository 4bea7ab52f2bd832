//! Scenarios on a virtual clock: str0m peers in full-ICE, controlling mode
//! play browsers; they offer, [`WebRtcLeg`]s answer, and an in-memory
//! network carries the datagrams with 1 ms of latency.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::StdRng;
use str0m::net::{Protocol, Receive};
use str0m::{Input, Rtc};

use super::*;
use crate::media::test_browser::Browser;
use crate::test_clock::epoch;

const GATEWAY: &str = "192.0.2.1:10000";

/// One gateway leg and what it reported.
struct Gw {
    id: LegId,
    leg: WebRtcLeg,
    events: Vec<(Instant, Event)>,
    deadline: Instant,
}

/// The virtual network: one gateway port, a demux, legs and browsers.
struct Net {
    now: Instant,
    gateway: SocketAddr,
    /// One configuration, so one DTLS certificate, for every leg, as in the
    /// gateway's media runtime.
    config: WebRtcConfig,
    demux: Demux,
    legs: Vec<Gw>,
    browsers: Vec<Browser>,
    wire: VecDeque<(SocketAddr, SocketAddr, Vec<u8>)>,
    /// The last SRTP or SRTCP datagram a browser sent the gateway.
    last_srtp: Option<(SocketAddr, Vec<u8>)>,
    /// DTLS datagrams the browsers sent the gateway.
    dtls_to_gateway: usize,
    rng: StdRng,
}

impl Net {
    fn new() -> Self {
        let gateway = GATEWAY.parse().unwrap();
        Self {
            now: epoch(),
            gateway,
            config: WebRtcConfig::new(gateway),
            demux: Demux::new(),
            legs: Vec::new(),
            browsers: Vec::new(),
            wire: VecDeque::new(),
            last_srtp: None,
            dtls_to_gateway: 0,
            rng: StdRng::seed_from_u64(7),
        }
    }

    /// Adds a browser at `addr` and the leg answering it; `edit` may tamper
    /// with the offer on its way.
    fn call(&mut self, addr: &str, edit: impl FnOnce(String) -> String) -> usize {
        let (mut browser, offer) = Browser::new(self.now, addr);
        let (leg, answer) =
            WebRtcLeg::accept_offer(self.now, &self.config, &edit(offer), &mut self.rng)
                .expect("the leg answers");
        assert!(answer.contains("a=ice-lite"), "{answer}");
        assert!(
            answer.contains(&format!("{} typ host", self.gateway.port())),
            "{answer}"
        );
        assert!(answer.contains("a=rtcp-mux"), "{answer}");
        assert!(answer.contains("a=group:BUNDLE"), "{answer}");
        browser.accept_answer(&answer);
        let id = LegId(self.legs.len() as u64 + 1);
        self.demux.insert_leg(id, leg.local_ufrag());
        self.legs.push(Gw {
            id,
            leg,
            events: Vec::new(),
            deadline: self.now,
        });
        self.browsers.push(browser);
        self.legs.len() - 1
    }

    /// Adds a leg offering audio (a call from the PBX) and a browser at
    /// `addr` answering it.
    fn call_from_pbx(&mut self, addr: &str) -> usize {
        let (i, answer) = self.call_from_pbx_unanswered(addr);
        let leg = &mut self.legs[i].leg;
        leg.accept_answer(&answer)
            .expect("the leg takes the answer");
        assert!(matches!(
            leg.accept_answer(&answer),
            Err(WebRtcError::NoPendingOffer)
        ));
        i
    }

    /// [`Self::call_from_pbx`] with the browser's answer still on its way:
    /// returned, not given to the leg.
    fn call_from_pbx_unanswered(&mut self, addr: &str) -> (usize, String) {
        let codecs = crate::sdp::CodecPolicy::default().allowed;
        let (leg, offer) = WebRtcLeg::create_offer(self.now, &self.config, &codecs, &mut self.rng)
            .expect("the leg offers");
        for wanted in [
            "a=ice-lite",
            "a=setup:actpass",
            "a=group:BUNDLE",
            "a=rtcp-mux",
            "opus/48000/2",
        ] {
            assert!(offer.contains(wanted), "{wanted} missing: {offer}");
        }
        let (browser, answer) = Browser::answering(self.now, addr, &offer);
        (self.adopt(leg, browser), answer)
    }

    /// Puts `leg` and its `browser` on the network; their index.
    fn adopt(&mut self, leg: WebRtcLeg, browser: Browser) -> usize {
        let id = LegId(self.legs.len() as u64 + 1);
        self.demux.insert_leg(id, leg.local_ufrag());
        self.legs.push(Gw {
            id,
            leg,
            events: Vec::new(),
            deadline: self.now,
        });
        self.browsers.push(browser);
        self.legs.len() - 1
    }

    /// Drains every output, delivers what is on the wire 1 ms later, or
    /// jumps to the next deadline; then fires due timers.
    fn step(&mut self) {
        for gw in &mut self.legs {
            loop {
                match gw.leg.poll_output() {
                    Output::Transmit(t) => {
                        assert_eq!(t.source, self.gateway);
                        self.wire.push_back((t.source, t.destination, t.contents));
                    }
                    Output::Event(e) => {
                        if let Event::PeerAddress(a) = e {
                            self.demux.learn(gw.id, a, self.gateway);
                        }
                        gw.events.push((self.now, e));
                    }
                    Output::Timeout(t) => {
                        gw.deadline = t;
                        break;
                    }
                }
            }
        }
        for b in &mut self.browsers {
            loop {
                let output = match b.rtc.poll_output() {
                    Ok(o) => o,
                    // A silent browser's own DTLS handshake times out (its
                    // flights are lost); it is gone, which is the point.
                    Err(_) if b.silent => {
                        b.deadline = self.now + Duration::from_secs(3600);
                        break;
                    }
                    Err(e) => panic!("the browser peer runs: {e}"),
                };
                match output {
                    str0m::Output::Transmit(t) => {
                        if !b.silent {
                            self.wire
                                .push_back((t.source, t.destination, t.contents.into()));
                        }
                    }
                    str0m::Output::Event(str0m::Event::Connected) => b.connected = true,
                    str0m::Output::Event(str0m::Event::RtpPacket(p)) => b.rtp.push(p),
                    str0m::Output::Event(_) => {}
                    str0m::Output::Timeout(t) => {
                        b.deadline = t;
                        break;
                    }
                }
            }
        }
        let next = self
            .legs
            .iter()
            .map(|g| g.deadline)
            .chain(self.browsers.iter().map(|b| b.deadline))
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
            if to == self.gateway && matches!(data.first(), Some(128..=191)) {
                self.last_srtp = Some((from, data.clone()));
            }
            if to == self.gateway && matches!(data.first(), Some(20..=63)) {
                self.dtls_to_gateway += 1;
            }
            if to == self.gateway {
                if let Some(id) = self.demux.route(from, to, &data) {
                    let gw = self.legs.iter_mut().find(|g| g.id == id).unwrap();
                    gw.leg.handle_input(now, from, to, &data);
                }
            } else if let Some(b) = self.browsers.iter_mut().find(|b| b.addr == to) {
                let r = Receive::new(Protocol::Udp, from, to, &data).unwrap();
                b.rtc.handle_input(Input::Receive(now, r)).unwrap();
            }
        }
        for gw in &mut self.legs {
            if gw.deadline <= now {
                gw.leg.handle_timeout(now);
            }
        }
        for b in &mut self.browsers {
            if b.deadline <= now {
                let r = b.rtc.handle_input(Input::Timeout(now));
                assert!(r.is_ok() || b.silent, "the browser peer runs: {r:?}");
            }
        }
    }

    /// Steps until `done` or `limit` of virtual time passed; the time it took.
    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Self) -> bool) -> Duration {
        let start = self.now;
        while !done(self) {
            assert!(self.now - start < limit, "not done within {limit:?}");
            self.step();
        }
        self.now - start
    }

    fn leg_connected(&self, i: usize) -> bool {
        self.legs[i]
            .events
            .iter()
            .any(|(_, e)| *e == Event::Connected)
    }

    fn disconnect_reason(&self, i: usize) -> Option<(Instant, DisconnectReason)> {
        self.legs[i].events.iter().find_map(|(t, e)| match e {
            Event::Disconnected(r) => Some((*t, *r)),
            _ => None,
        })
    }

    fn rtp_at_leg(&self, i: usize) -> Vec<&RtpPacket> {
        self.legs[i]
            .events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Rtp(p) => Some(p),
                _ => None,
            })
            .collect()
    }

    fn connect(&mut self, i: usize) {
        self.run_until(Duration::from_secs(5), |n| {
            n.leg_connected(i) && n.browsers[i].connected
        });
    }
}

/// 50 Opus packets each way through a connected leg, 20 ms apart.
fn exchange(net: &mut Net, i: usize, base_seq: u16, base_ts: u32) {
    let pt = net.browsers[i].opus_pt();
    let offered: Vec<u8> = net.legs[i]
        .leg
        .payload_types()
        .iter()
        .map(|p| p.0)
        .collect();
    assert!(offered.contains(&pt), "{offered:?}");
    for k in 0..50u16 {
        let now = net.now;
        let seq = base_seq.wrapping_add(k);
        let ts = base_ts.wrapping_add(960 * u32::from(k));
        let up = format!("up {i} {k}");
        // str0m's writer takes the extended sequence number (its ROC feeds SRTP).
        let extended = u64::from(base_seq) + u64::from(k);
        net.browsers[i].send(now, pt, extended, ts, up.as_bytes());
        let down = RtpPacket {
            ssrc: 0,
            payload_type: pt,
            sequence_number: seq,
            timestamp: ts,
            marker: k == 0,
            payload: Bytes::from(format!("down {i} {k}")),
        };
        net.legs[i].leg.send_rtp(now, &down).expect("the leg sends");
        let until = now + Duration::from_millis(20);
        while net.now < until {
            net.step();
        }
    }
    let start = net.now;
    while !(net.rtp_at_leg(i).len() >= 50 && net.browsers[i].rtp.len() >= 50) {
        assert!(
            net.now - start < Duration::from_secs(1),
            "leg got {}, browser got {}",
            net.rtp_at_leg(i).len(),
            net.browsers[i].rtp.len()
        );
        net.step();
    }

    let up = net.rtp_at_leg(i);
    assert_eq!(up.len(), 50);
    for (k, p) in up.iter().enumerate() {
        assert_eq!(p.payload_type, pt);
        assert_eq!(p.sequence_number, base_seq.wrapping_add(k as u16));
        assert_eq!(p.timestamp, base_ts.wrapping_add(960 * k as u32));
        assert_eq!(&p.payload[..], format!("up {i} {k}").as_bytes());
    }
    let down = &net.browsers[i].rtp;
    assert_eq!(down.len(), 50);
    for (k, p) in down.iter().enumerate() {
        assert_eq!(*p.header.payload_type, pt);
        assert_eq!(p.header.sequence_number, base_seq.wrapping_add(k as u16));
        assert_eq!(p.header.timestamp, base_ts.wrapping_add(960 * k as u32));
        assert_eq!(p.header.marker, k == 0);
        assert_eq!(&p.payload[..], format!("down {i} {k}").as_bytes());
    }
}

#[test]
fn browser_connects_and_opus_flows_both_ways() {
    let mut net = Net::new();
    net.call("198.51.100.7:50000", |o| o);
    let took = net.run_until(Duration::from_secs(5), |n| {
        n.leg_connected(0) && n.browsers[0].connected
    });
    assert!(took < Duration::from_secs(1), "connecting took {took:?}");
    assert!(net.legs[0].leg.is_connected());
    exchange(&mut net, 0, 65_500, 4_294_000_000);
    let profile = net.legs[0].leg.srtp_profile().expect("a profile was seen");
    assert!(
        net.legs[0]
            .events
            .iter()
            .any(|(_, e)| *e == Event::SrtpProfile(profile))
    );
    // str0m offers AES-GCM first; both ends support it.
    assert_eq!(profile, SrtpProfile::AeadAes256Gcm);
    assert_eq!(net.disconnect_reason(0), None);
}

#[test]
fn a_certificate_not_matching_the_offer_fingerprint_fails_the_leg() {
    let mut net = Net::new();
    net.call("198.51.100.7:50000", |offer| {
        let at = offer.find("a=fingerprint:sha-256 ").expect("a fingerprint") + 22;
        let mut bytes = offer.into_bytes();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        String::from_utf8(bytes).unwrap()
    });
    net.run_until(Duration::from_secs(5), |n| n.disconnect_reason(0).is_some());
    let (_, reason) = net.disconnect_reason(0).unwrap();
    assert_eq!(reason, DisconnectReason::FingerprintMismatch);
    assert!(!net.leg_connected(0));
    assert!(!net.legs[0].leg.is_connected());
}

#[test]
fn a_silent_browser_is_reported_dead_within_30_seconds() {
    let mut net = Net::new();
    net.call("198.51.100.7:50000", |o| o);
    net.connect(0);
    let silent_at = net.now;
    net.browsers[0].silent = true;
    net.run_until(Duration::from_secs(31), |n| {
        n.disconnect_reason(0).is_some()
    });
    let (at, reason) = net.disconnect_reason(0).unwrap();
    assert!(
        at - silent_at <= Duration::from_secs(30),
        "{:?}",
        at - silent_at
    );
    assert_eq!(reason, DisconnectReason::ConsentExpired);
    let pt = net.browsers[0].opus_pt();
    let late = RtpPacket {
        ssrc: 0,
        payload_type: pt,
        sequence_number: 1,
        timestamp: 1,
        marker: false,
        payload: Bytes::from_static(b"late"),
    };
    assert!(matches!(
        net.legs[0].leg.send_rtp(net.now, &late),
        Err(WebRtcError::NotConnected)
    ));
}

#[test]
fn a_browser_that_never_checks_expires_after_30_seconds() {
    // Without candidates in the offer (a trickling browser) str0m's ICE-lite
    // agent has no pair to time out; the leg's own consent timer ends it.
    let mut net = Net::new();
    net.call("198.51.100.7:50000", |o| {
        o.lines()
            .filter(|l| !l.starts_with("a=candidate"))
            .map(|l| format!("{l}\r\n"))
            .collect()
    });
    net.browsers[0].silent = true;
    let start = net.now;
    net.run_until(Duration::from_secs(31), |n| {
        n.disconnect_reason(0).is_some()
    });
    let (at, reason) = net.disconnect_reason(0).unwrap();
    assert_eq!(reason, DisconnectReason::ConsentExpired);
    assert_eq!(at - start, Duration::from_secs(30));
}

#[test]
fn two_legs_share_one_port_and_do_not_cross() {
    let mut net = Net::new();
    net.call("198.51.100.7:50000", |o| o);
    net.call("203.0.113.9:40000", |o| o);
    net.run_until(Duration::from_secs(5), |n| {
        (0..2).all(|i| n.leg_connected(i) && n.browsers[i].connected)
    });
    exchange(&mut net, 0, 1, 1000);
    exchange(&mut net, 1, 30_000, 7);
    // `exchange` checked every payload names its own leg; nothing else came.
    assert_eq!(net.rtp_at_leg(0).len(), 50);
    assert_eq!(net.rtp_at_leg(1).len(), 50);
    let stats = net.demux.stats();
    assert!(stats.by_ufrag >= 2 && stats.by_address > 100, "{stats:?}");
    assert_eq!(stats.unknown_ufrag + stats.unroutable, 0, "{stats:?}");
}

/// The `a=fingerprint` value of an SDP.
fn fingerprint(sdp: &str) -> &str {
    sdp.lines()
        .find_map(|l| l.strip_prefix("a=fingerprint:"))
        .expect("the SDP has a fingerprint")
}

/// Legs answered with one configuration present its one certificate (no key
/// generation per call); another configuration has its own.
#[test]
fn legs_of_one_config_share_its_dtls_certificate() {
    let now = epoch();
    let mut rng = StdRng::seed_from_u64(1);
    let config = WebRtcConfig::new(GATEWAY.parse().unwrap());
    let mut answer = |config: &WebRtcConfig, addr: &str| {
        let (_, offer) = Browser::new(now, addr);
        let (leg, answer) = WebRtcLeg::accept_offer(now, config, &offer, &mut rng).unwrap();
        (leg, answer)
    };
    let (a, answer_a) = answer(&config, "198.51.100.7:50000");
    let (b, answer_b) = answer(&config.clone(), "203.0.113.9:40000");
    assert_ne!(a.local_ufrag(), b.local_ufrag());
    assert!(fingerprint(&answer_a).starts_with("sha-256 "), "{answer_a}");
    assert_eq!(fingerprint(&answer_a), fingerprint(&answer_b));
    let other = WebRtcConfig::new(GATEWAY.parse().unwrap());
    let (_, answer_c) = answer(&other, "192.0.2.77:30000");
    assert_ne!(fingerprint(&answer_a), fingerprint(&answer_c));
}

#[test]
fn an_offer_without_audio_is_refused() {
    let now = epoch();
    let mut rtc = Rtc::builder().build(now);
    let mut change = rtc.sdp_api();
    change.add_channel("chat".into());
    let (offer, _) = change.apply().unwrap();
    let config = WebRtcConfig::new(GATEWAY.parse().unwrap());
    let err = WebRtcLeg::accept_offer(
        now,
        &config,
        &offer.to_sdp_string(),
        &mut StdRng::seed_from_u64(1),
    )
    .unwrap_err();
    assert!(matches!(err, WebRtcError::NoAudio), "{err:?}");
    let err = WebRtcLeg::accept_offer(now, &config, "v=garbage", &mut StdRng::seed_from_u64(1))
        .unwrap_err();
    assert!(matches!(err, WebRtcError::OfferSyntax(_)), "{err:?}");
}

/// Chrome offers telephone-event at 48 and 8 kHz; the leg must accept both
/// on Chrome's payload types, or the browser's DTMF never reaches the
/// bridge (it used to answer Opus, G.722, PCMU and PCMA only).
#[test]
fn chromes_telephone_events_are_accepted() {
    let config = WebRtcConfig::new(GATEWAY.parse().unwrap());
    let offer = crate::sdp::tests::fixtures::CHROME_OFFER;
    let (leg, answer) =
        WebRtcLeg::accept_offer(epoch(), &config, offer, &mut StdRng::seed_from_u64(1)).unwrap();
    let events: Vec<(u8, u32)> = leg
        .payload_types()
        .into_iter()
        .filter(|p| p.1 == "telephone-event")
        .map(|p| (p.0, p.2))
        .collect();
    for (pt, rate) in [(126u8, 8000u32), (110, 48000)] {
        let rtpmap = format!("a=rtpmap:{pt} telephone-event/{rate}");
        assert!(offer.contains(&rtpmap), "fixture offers {rtpmap}");
        assert!(answer.contains(&rtpmap), "answer lacks {rtpmap}:\n{answer}");
        assert!(events.contains(&(pt, rate)), "{events:?}");
    }
}

#[test]
fn a_leg_that_offers_connects_and_opus_flows_both_ways() {
    let mut net = Net::new();
    let i = net.call_from_pbx("198.51.100.9:50000");
    net.connect(i);
    assert!(net.legs[i].leg.is_connected());
    exchange(&mut net, i, 1000, 90_000);
    assert_eq!(
        net.legs[i].leg.srtp_profile(),
        Some(SrtpProfile::AeadAes256Gcm)
    );
}

/// str0m answers the leg's `actpass` offer with `setup:passive`: the leg is
/// the DTLS client, and starts once the answer tells it so.
#[test]
fn a_leg_that_offers_is_the_dtls_client_when_the_browser_is_passive() {
    let mut net = Net::new();
    let (i, answer) = net.call_from_pbx_unanswered("198.51.100.11:50000");
    assert!(answer.contains("a=setup:passive"), "{answer}");
    let start = net.now;
    while net.now - start < Duration::from_millis(300) {
        net.step();
    }
    assert_eq!(net.dtls_to_gateway, 0, "the passive browser waits");
    assert!(!net.leg_connected(i));
    net.legs[i]
        .leg
        .accept_answer(&answer)
        .expect("the leg takes the answer");
    net.connect(i);
    exchange(&mut net, i, 7, 160);
}

/// Chromium answers `setup:active`, and its ClientHello may reach the leg
/// before its answer has crossed the signalling path: the leg keeps it and
/// completes the handshake once the answer gives the browser's
/// fingerprint. The browser here is a check written by hand and a DTLS
/// client of ours.
#[test]
fn a_client_hello_that_overtakes_the_browsers_answer_waits_for_it() {
    use crate::media::webrtc_lite::stun::attr;
    use crate::media::webrtc_lite::tests::ice::request;
    use crate::media::webrtc_lite::{DtlsEndpoint, DtlsEvent, DtlsIdentity, DtlsRole};

    let mut now = epoch();
    let gateway: SocketAddr = GATEWAY.parse().unwrap();
    let browser: SocketAddr = "198.51.100.12:50000".parse().unwrap();
    let config = WebRtcConfig::new(gateway);
    let mut rng = StdRng::seed_from_u64(5);
    let codecs = crate::sdp::CodecPolicy::default().allowed;
    let (mut leg, offer) = WebRtcLeg::create_offer(now, &config, &codecs, &mut rng).unwrap();
    let ufrag = leg.local_ufrag().to_owned();
    let pwd = offer
        .lines()
        .find_map(|l| l.strip_prefix("a=ice-pwd:"))
        .unwrap()
        .trim()
        .to_owned();
    let check = request(Some(&format!("{ufrag}:brUF")), Some(&pwd), |w| {
        w.attribute(attr::USE_CANDIDATE, &[]);
    });
    leg.handle_input(now, browser, gateway, &check);
    let browser_id = DtlsIdentity::generate().unwrap();
    let mut client = DtlsEndpoint::new(
        now,
        &browser_id,
        DtlsRole::Client,
        config.fingerprint().clone(),
    )
    .unwrap();
    let mut early = 0;
    while let Some(record) = client.poll_transmit() {
        leg.handle_input(now, browser, gateway, &record);
        early += 1;
    }
    assert!(early > 0, "the ClientHello went out");
    let answer = offer
        .replace(&format!("a=ice-ufrag:{ufrag}"), "a=ice-ufrag:brUF")
        .replace(&pwd, "the-browsers-password-0123456789")
        .replace(
            &config.fingerprint().to_string(),
            &browser_id.fingerprint().to_string(),
        )
        .replace("a=setup:actpass", "a=setup:active");
    let (mut leg_connected, mut client_connected) = (false, false);
    leg.accept_answer(&answer)
        .expect("the leg takes the answer");
    for _ in 0..100 {
        loop {
            match leg.poll_output() {
                Output::Transmit(t) if matches!(t.contents.first(), Some(20..=63)) => {
                    assert_eq!(t.destination, browser);
                    client.handle_input(now, &t.contents);
                }
                Output::Transmit(_) => {}
                Output::Event(Event::Connected) => leg_connected = true,
                Output::Event(Event::Disconnected(r)) => panic!("the leg died: {r:?}"),
                Output::Event(_) => {}
                Output::Timeout(_) => break,
            }
        }
        while let Some(e) = client.poll_event() {
            client_connected |= matches!(e, DtlsEvent::Connected(_));
        }
        while let Some(record) = client.poll_transmit() {
            leg.handle_input(now, browser, gateway, &record);
        }
        if leg_connected && client_connected {
            break;
        }
        now += Duration::from_millis(1);
        leg.handle_timeout(now);
        client.handle_timeout(now);
    }
    assert!(leg_connected && client_connected, "the handshake completed");
    assert_eq!(leg.srtp_profile(), Some(SrtpProfile::AeadAes256Gcm));
}

#[test]
fn srtp_from_an_unproven_address_replayed_or_damaged_reaches_nothing() {
    let mut net = Net::new();
    net.call("198.51.100.7:50000", |o| o);
    net.connect(0);
    exchange(&mut net, 0, 100, 1000);
    let (from, datagram) = net.last_srtp.clone().expect("the browser sent SRTP");
    let gateway = net.gateway;
    let stranger: SocketAddr = "203.0.113.66:4444".parse().unwrap();
    // A valid packet the leg has not seen yet, taken off the wire: from an
    // address that never passed ICE it reaches nothing; from the browser's
    // address it is relayed (so only the address was refused).
    let before = net.rtp_at_leg(0).len();
    let pt = net.browsers[0].opus_pt();
    let now = net.now;
    net.browsers[0].send(now, pt, 150, 48_000, b"fresh");
    // Polled here, not by `step`, so it never reaches the wire.
    let mut fresh = None;
    for _ in 0..100 {
        match net.browsers[0].rtc.poll_output().expect("the browser runs") {
            str0m::Output::Transmit(t) if matches!(t.contents.first(), Some(128..=191)) => {
                fresh = Some(Vec::from(t.contents));
                break;
            }
            str0m::Output::Timeout(at) => {
                let r = net.browsers[0]
                    .rtc
                    .handle_input(Input::Timeout(at.max(now)));
                r.expect("the browser runs");
            }
            _ => {}
        }
    }
    let fresh = fresh.expect("the browser sent its packet");
    net.legs[0].leg.handle_input(now, stranger, gateway, &fresh);
    net.step();
    assert_eq!(net.rtp_at_leg(0).len(), before, "SRTP from a stranger");
    net.legs[0].leg.handle_input(now, from, gateway, &fresh);
    net.step();
    assert_eq!(
        net.rtp_at_leg(0).len(),
        before + 1,
        "the same from the browser"
    );

    let received = net.rtp_at_leg(0).len();
    let now = net.now;
    let leg = &mut net.legs[0].leg;
    // An old packet from the stranger.
    leg.handle_input(now, stranger, gateway, &datagram);
    // The same packet again from the browser's address: a replay.
    leg.handle_input(now, from, gateway, &datagram);
    // Garbage of every kind and length from the browser's address, and
    // the real packet with each bit flipped in turn.
    let mut rng = StdRng::seed_from_u64(11);
    for k in 0..5_000usize {
        let mut junk = vec![0u8; k % 300];
        rand::RngCore::fill_bytes(&mut rng, &mut junk);
        if let Some(b) = junk.first_mut() {
            *b = [0, 1, 20, 63, 128, 191, 200, 255][k % 8];
        }
        leg.handle_input(now, from, gateway, &junk);
    }
    for bit in 0..datagram.len() * 8 {
        let mut flipped = datagram.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        leg.handle_input(now, from, gateway, &flipped);
    }
    net.step();
    assert_eq!(net.rtp_at_leg(0).len(), received);
    assert!(net.legs[0].leg.is_connected());
    // The browser's next packet still arrives.
    let pt = net.browsers[0].opus_pt();
    let now = net.now;
    net.browsers[0].send(now, pt, 151, 49_000, b"after");
    net.run_until(Duration::from_secs(1), |n| n.rtp_at_leg(0).len() > received);
    assert_eq!(&net.rtp_at_leg(0)[received].payload[..], b"after");
}

#[test]
fn a_reoffer_answers_hold_restarts_ice_and_refuses_a_new_certificate() {
    let now = epoch();
    let config = WebRtcConfig::new(GATEWAY.parse().unwrap());
    let mut rng = StdRng::seed_from_u64(3);
    let (_browser, offer) = Browser::new(now, "198.51.100.7:50000");
    let (mut leg, _) = WebRtcLeg::accept_offer(now, &config, &offer, &mut rng).unwrap();
    let ufrag = leg.local_ufrag().to_owned();

    let hold = offer.replace("a=sendrecv", "a=sendonly");
    let answer = leg.accept_reoffer(&hold, &mut rng).unwrap();
    assert!(answer.contains("a=recvonly\r\n"), "{answer}");
    assert!(answer.contains("a=setup:passive\r\n"), "{answer}");
    assert_eq!(leg.local_ufrag(), ufrag, "no ICE restart asked");

    let their_ufrag = offer
        .lines()
        .find_map(|l| l.strip_prefix("a=ice-ufrag:"))
        .unwrap()
        .trim()
        .to_owned();
    let restart = offer.replace(&their_ufrag, "NewUfragOfTheBrowser");
    let answer = leg.accept_reoffer(&restart, &mut rng).unwrap();
    assert_ne!(
        leg.local_ufrag(),
        ufrag,
        "an ICE restart gets new credentials"
    );
    assert!(answer.contains(&format!("a=ice-ufrag:{}\r\n", leg.local_ufrag())));

    let fingerprint = offer
        .lines()
        .find_map(|l| l.strip_prefix("a=fingerprint:sha-256 "))
        .unwrap()
        .trim()
        .to_owned();
    let mut other = fingerprint.clone().into_bytes();
    other[0] = if other[0] == b'0' { b'1' } else { b'0' };
    let forged = restart.replace(&fingerprint, std::str::from_utf8(&other).unwrap());
    assert!(matches!(
        leg.accept_reoffer(&forged, &mut rng),
        Err(WebRtcError::OfferRejected(_))
    ));
}

/// A call from the PBX rings at the browser for longer than the consent
/// timeout: the browser starts ICE only once its user answered, and the
/// leg counts consent from the answer.
#[test]
fn a_leg_that_offers_outlives_a_long_ring() {
    let mut net = Net::new();
    let codecs = crate::sdp::CodecPolicy::default().allowed;
    let (mut leg, offer) =
        WebRtcLeg::create_offer(net.now, &net.config, &codecs, &mut net.rng).unwrap();
    // A minute of ringing: the leg's timers run, nothing arrives.
    for _ in 0..60 {
        net.now += Duration::from_secs(1);
        leg.handle_timeout(net.now);
        loop {
            match leg.poll_output() {
                Output::Event(e) => assert!(!matches!(e, Event::Disconnected(_)), "{e:?}"),
                Output::Transmit(_) => {}
                Output::Timeout(_) => break,
            }
        }
    }
    let (browser, answer) = Browser::answering(net.now, "198.51.100.13:50000", &offer);
    leg.accept_answer(&answer)
        .expect("the leg takes the answer");
    let i = net.adopt(leg, browser);
    net.connect(i);
    exchange(&mut net, i, 1, 1);
    assert_eq!(net.disconnect_reason(i), None);
}
