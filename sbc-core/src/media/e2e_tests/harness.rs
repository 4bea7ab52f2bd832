//! The whole media path of one call on a virtual clock: a str0m browser, an
//! impaired network, the gateway (the [`WebRtcLeg`], the [`Bridge`] and the
//! [`RtpLeg`], glued together as `gateway`'s runtime glues them), another
//! impaired network, and a plain RTP peer playing the PBX.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use str0m::format::{Codec as StrCodec, FormatParams};
use str0m::media::Frequency;
use str0m::net::{Protocol, Receive};
use str0m::{Input, Rtc};

use crate::media::bridge::{
    Bridge, BridgeConfig, BridgeEvent, PtMap, Side, SideConfig, Transmit as BridgeTransmit,
};
use crate::media::emodel::CodecImpairment;
use crate::media::rtp::{PacketKind, RtpView, Ssrc, classify, write_packet};
use crate::media::rtp_leg::{Accepted, RtpLeg, RtpLegConfig};
use crate::media::test_browser::Browser;
use crate::media::webrtc::{
    Demux, Event, LegId, Output, RtpPacket, WebRtcConfig, WebRtcError, WebRtcLeg,
};
use crate::sdp::translate::{
    GatewayOrigin, PbxSide, PbxSrtp, RtcpMode, SipSideAddr, browser_offer_to_pbx, pbx_answer_media,
};
use crate::sdp::{Codec, CodecPolicy, Limits, SessionDescription};
use crate::test_clock::epoch;

pub(super) const BROWSER: &str = "198.51.100.7:50000";
pub(super) const GATEWAY_WEBRTC: &str = "192.0.2.1:10000";
pub(super) const GATEWAY_SIP: &str = "10.0.0.1:20000";
/// The PBX's address, as its SDP answer gives it.
pub(super) const PBX: &str = "10.0.0.50:4000";

/// The browser's numbering (Chrome's).
pub(super) const OPUS_BROWSER: u8 = 111;
pub(super) const TE48_BROWSER: u8 = 110;
pub(super) const TE8_BROWSER: u8 = 126;
/// The PBX's numbering.
pub(super) const OPUS_PBX: u8 = 102;
pub(super) const TE_PBX: u8 = 101;

/// What one direction of a network path does to datagrams.
#[derive(Debug, Clone, Copy)]
pub(super) struct Impairment {
    pub latency: Duration,
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Probability that a datagram is held back and delivered after the
    /// next one on the same path (an adjacent pair swapped).
    pub swap: f64,
}

impl Impairment {
    pub(super) const CLEAN: Self = Self {
        latency: Duration::from_millis(5),
        loss: 0.0,
        swap: 0.0,
    };
}

/// What a path did.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PathStats {
    pub sent: u64,
    /// RTP datagrams given to the path.
    pub sent_rtp: u64,
    /// RTP datagrams lost (SRTP on the browser's side: its header is clear).
    pub lost_rtp: u64,
    /// Other datagrams lost (STUN, DTLS, RTCP).
    pub lost_other: u64,
    /// Adjacent pairs of RTP datagrams delivered swapped.
    pub swapped_rtp: u64,
}

#[derive(Debug, Clone)]
struct Datagram {
    from: SocketAddr,
    to: SocketAddr,
    data: Vec<u8>,
}

/// One direction of the network, with its own seeded RNG.
struct Path {
    imp: Impairment,
    /// Impairments start once the call is up (handshakes are not the topic).
    impaired: bool,
    rng: StdRng,
    held: Option<Datagram>,
    stats: PathStats,
    /// The sequence number of every RTP datagram given to the path (the
    /// header is clear in SRTP too).
    rtp_seqs: Vec<u16>,
}

impl Path {
    fn new(imp: Impairment, seed: u64) -> Self {
        Self {
            imp,
            impaired: false,
            rng: StdRng::seed_from_u64(seed),
            held: None,
            stats: PathStats::default(),
            rtp_seqs: Vec::new(),
        }
    }

    fn send(&mut self, now: Instant, d: Datagram, wire: &mut Wire) {
        self.stats.sent += 1;
        if classify(&d.data) == PacketKind::Rtp {
            self.stats.sent_rtp += 1;
            self.rtp_seqs
                .push(u16::from_be_bytes([d.data[2], d.data[3]]));
        }
        let at = now + self.imp.latency;
        if !self.impaired {
            wire.push(at, d);
            return;
        }
        let is_rtp = |d: &Datagram| classify(&d.data) == PacketKind::Rtp;
        if self.rng.random_bool(self.imp.loss) {
            if is_rtp(&d) {
                self.stats.lost_rtp += 1;
            } else {
                self.stats.lost_other += 1;
            }
            return;
        }
        if self.held.is_none() && self.rng.random_bool(self.imp.swap) {
            self.held = Some(d);
            return;
        }
        let both_rtp = is_rtp(&d) && self.held.as_ref().is_some_and(is_rtp);
        wire.push(at, d);
        if let Some(h) = self.held.take() {
            self.stats.swapped_rtp += u64::from(both_rtp);
            wire.push(at, h);
        }
    }
}

/// Datagrams in flight, by arrival time, then sending order.
#[derive(Default)]
struct Wire {
    q: BTreeMap<(Instant, u64), Datagram>,
    n: u64,
}

impl Wire {
    fn push(&mut self, at: Instant, d: Datagram) {
        self.n += 1;
        self.q.insert((at, self.n), d);
    }
}

/// The gateway's half of the call, glued as `gateway/src/runtime/media/call.rs`
/// glues it.
pub(super) struct Gateway {
    pub demux: Demux,
    pub leg: WebRtcLeg,
    leg_deadline: Instant,
    pub leg_events: Vec<Event>,
    pub rtp: RtpLeg,
    pub bridge: Bridge,
    pub bridge_events: Vec<BridgeEvent>,
    /// Packets the browser leg refused to send (not connected, unknown PT).
    pub refused_to_browser: u64,
    webrtc_addr: SocketAddr,
    sip_addr: SocketAddr,
    buf: Vec<u8>,
}

/// Datagrams leaving the gateway, by network side.
#[derive(Default)]
struct Outbox {
    browser: Vec<Datagram>,
    pbx: Vec<Datagram>,
}

const LEG: LegId = LegId(1);

impl Gateway {
    fn handle_webrtc(&mut self, now: Instant, d: &Datagram, out: &mut Outbox) {
        if self.demux.route(d.from, d.to, &d.data) == Some(LEG) {
            self.leg.handle_input(now, d.from, d.to, &d.data);
        }
        self.drive(now, out);
    }

    fn handle_sip(&mut self, now: Instant, d: &mut Datagram, out: &mut Outbox) {
        match self.rtp.handle_receive(now, d.from, &d.data) {
            Ok(Accepted::Rtp(_)) => {
                if self.bridge.handle_rtp(now, Side::Pbx, &mut d.data).is_ok() {
                    let p = to_leg_packet(&d.data).expect("the bridge relays RTP");
                    self.send_to_browser(now, &p);
                }
            }
            Ok(Accepted::Rtcp) => {
                let _ = self.bridge.handle_rtcp(now, Side::Pbx, &d.data);
            }
            Err(_) => {}
        }
        self.drive(now, out);
    }

    fn deadline(&self) -> Instant {
        [self.bridge.poll_timeout(), self.rtp.poll_timeout()]
            .into_iter()
            .flatten()
            .fold(self.leg_deadline, Instant::min)
    }

    fn handle_timeout(&mut self, now: Instant, out: &mut Outbox) {
        if now >= self.leg_deadline {
            self.leg.handle_timeout(now);
        }
        self.bridge.handle_timeout(now);
        self.rtp.handle_timeout(now);
        self.drive(now, out);
    }

    fn send_to_browser(&mut self, now: Instant, p: &RtpPacket) {
        if let Err(e) = self.leg.send_rtp(now, p) {
            assert!(
                matches!(e, WebRtcError::NotConnected),
                "the leg refused {p:?}: {e}"
            );
            self.refused_to_browser += 1;
        }
    }

    fn send_to_pbx(&self, packet: Vec<u8>, out: &mut Outbox) {
        if let Some(to) = self.rtp.destination() {
            out.pbx.push(Datagram {
                from: self.sip_addr,
                to,
                data: packet,
            });
        }
    }

    fn drive(&mut self, now: Instant, out: &mut Outbox) {
        loop {
            loop {
                match self.leg.poll_output() {
                    Output::Transmit(t) => out.browser.push(Datagram {
                        from: t.source,
                        to: t.destination,
                        data: t.contents,
                    }),
                    Output::Event(e) => self.on_leg_event(now, e, out),
                    Output::Timeout(at) => {
                        self.leg_deadline = at;
                        break;
                    }
                }
            }
            let mut to_browser = Vec::new();
            while let Some(t) = self.bridge.poll_transmit() {
                match t {
                    BridgeTransmit {
                        to: Side::Pbx,
                        packet,
                        ..
                    } => self.send_to_pbx(packet, out),
                    BridgeTransmit {
                        rtcp: true, packet, ..
                    } => {
                        // Refused only before DTLS is up.
                        let _ = self.leg.send_rtcp(now, &packet);
                    }
                    BridgeTransmit { packet, .. } => to_browser.extend(to_leg_packet(&packet)),
                }
            }
            self.bridge_events
                .extend(std::iter::from_fn(|| self.bridge.poll_event()));
            while self.rtp.poll_event().is_some() {}
            if to_browser.is_empty() {
                return;
            }
            for p in &to_browser {
                self.send_to_browser(now, p);
            }
        }
    }

    fn on_leg_event(&mut self, now: Instant, e: Event, out: &mut Outbox) {
        match e {
            Event::PeerAddress(a) => self.demux.learn(LEG, a, self.webrtc_addr),
            Event::Rtp(p) => {
                self.buf.clear();
                write_packet(
                    &mut self.buf,
                    p.payload_type,
                    p.marker,
                    p.sequence_number,
                    p.timestamp,
                    Ssrc(p.ssrc),
                    &p.payload,
                );
                if self
                    .bridge
                    .handle_rtp(now, Side::Browser, &mut self.buf)
                    .is_ok()
                {
                    let packet = self.buf.clone();
                    self.send_to_pbx(packet, out);
                }
                self.leg_events.push(Event::Rtp(p));
            }
            Event::Rtcp(report) => {
                let _ = self.bridge.handle_rtcp(now, Side::Browser, &report);
            }
            other => self.leg_events.push(other),
        }
    }
}

/// A plain RTP packet as the browser leg takes it.
fn to_leg_packet(buf: &[u8]) -> Option<RtpPacket> {
    let v = RtpView::parse(buf).ok()?;
    Some(RtpPacket {
        ssrc: v.ssrc().0,
        payload_type: v.payload_type(),
        sequence_number: v.sequence_number(),
        timestamp: v.timestamp(),
        marker: v.marker(),
        payload: Bytes::copy_from_slice(v.payload()),
    })
}

/// The plain RTP peer playing the PBX: what it received, from where.
pub(super) struct PbxPeer {
    /// The address it sends from (its SDP address, or a NAT's).
    pub source: SocketAddr,
    pub rtp: Vec<Vec<u8>>,
    pub rtcp: Vec<Vec<u8>>,
}

/// How the call is set up.
pub(super) struct Setup {
    pub seed: u64,
    /// Browser → gateway and back.
    pub browser_net: Impairment,
    /// PBX → gateway and back.
    pub pbx_net: Impairment,
    /// Where the PBX's packets come from (a NAT hides its SDP address).
    pub pbx_source: SocketAddr,
    /// Tampering with the browser's offer on its way.
    pub edit_offer: fn(String) -> String,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            seed: 7,
            browser_net: Impairment::CLEAN,
            pbx_net: Impairment::CLEAN,
            pbx_source: PBX.parse().unwrap(),
            edit_offer: |o| o,
        }
    }
}

/// The whole call and the network between its parties.
pub(super) struct Call {
    pub now: Instant,
    pub browser: Browser,
    pub gw: Gateway,
    pub pbx: PbxPeer,
    /// Browser → gateway, gateway → browser, PBX → gateway, gateway → PBX.
    paths: [Path; 4],
    wire: Wire,
    webrtc_addr: SocketAddr,
    sip_addr: SocketAddr,
    stepped: Option<Instant>,
}

pub(super) const TO_GW_FROM_BROWSER: usize = 0;
pub(super) const TO_BROWSER: usize = 1;
pub(super) const TO_GW_FROM_PBX: usize = 2;
pub(super) const TO_PBX: usize = 3;

impl Call {
    /// Browser offer (Opus 111, telephone-event 110/48000 and 126/8000) →
    /// the leg's answer; the same offer → the PBX's offer through the SDP
    /// translation → the PBX's answer in its own numbering (Opus 102,
    /// telephone-event 101) → payload map → bridge.
    pub(super) fn new(setup: Setup) -> Self {
        let now = epoch();
        let mut rng = StdRng::seed_from_u64(setup.seed);
        let webrtc_addr: SocketAddr = GATEWAY_WEBRTC.parse().unwrap();
        let sip_addr: SocketAddr = GATEWAY_SIP.parse().unwrap();

        let mut config = Rtc::builder().clear_codecs().enable_opus(true, false);
        for (pt, rate) in [
            (TE48_BROWSER, Frequency::FORTY_EIGHT_KHZ),
            (TE8_BROWSER, Frequency::EIGHT_KHZ),
        ] {
            config.codec_config().add_config(
                pt.into(),
                None,
                StrCodec::Tele,
                rate,
                None,
                FormatParams::default(),
            );
        }
        let (mut browser, offer) = Browser::with_config(now, BROWSER, config);
        assert_eq!(browser.opus_pt(), OPUS_BROWSER);
        let offer = (setup.edit_offer)(offer);
        let leg_config = WebRtcConfig::new(webrtc_addr);
        let (leg, answer) =
            WebRtcLeg::accept_offer(now, &leg_config, &offer, &mut rng).expect("the leg answers");
        browser.accept_answer(&answer);

        let parsed = SessionDescription::parse(offer.as_bytes(), &Limits::default())
            .expect("the offer parses");
        let pbx_side = PbxSide {
            addr: SipSideAddr {
                ip: sip_addr.ip(),
                rtp_port: sip_addr.port(),
            },
            rtcp: RtcpMode::Mux,
            codecs: CodecPolicy {
                allowed: leg
                    .payload_types()
                    .into_iter()
                    .map(|(_, name, rate, ch)| Codec::from_parts(&name, rate, ch.into()))
                    .collect(),
            },
            ptime: None,
            srtp: PbxSrtp::Off,
        };
        let origin = GatewayOrigin {
            session_id: 1,
            version: 1,
        };
        let pbx_offer = browser_offer_to_pbx(&parsed, &pbx_side, origin).expect("a PBX offer");
        let pbx_offer_sdp = pbx_offer.sdp.to_string();
        assert!(pbx_offer_sdp.contains("RTP/AVP"), "{pbx_offer_sdp}");
        assert!(!pbx_offer_sdp.contains("198.51.100.7"), "{pbx_offer_sdp}");
        let pbx: SocketAddr = PBX.parse().unwrap();
        let pbx_answer = format!(
            "v=0\r\no=pbx 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP {OPUS_PBX} {TE_PBX}\r\n\
             a=rtpmap:{OPUS_PBX} opus/48000/2\r\na=rtpmap:{TE_PBX} telephone-event/48000\r\n\
             a=fmtp:{TE_PBX} 0-16\r\na=rtcp-mux\r\na=sendrecv\r\n",
            ip = pbx.ip(),
            port = pbx.port()
        );
        let answer = SessionDescription::parse(pbx_answer.as_bytes(), &Limits::default())
            .expect("the PBX answer parses");
        let media = pbx_answer_media(&pbx_offer.pending, &answer).expect("the PBX answer fits");
        assert_eq!(media.pbx.rtp, Some(pbx));

        let map = &media.payload_map;
        let events = map.telephone_event_for(&Codec::Opus);
        let side = |pt: Option<u8>| SideConfig {
            clock_rate: 48_000,
            telephone_event_pt: pt,
            codec: CodecImpairment::OPUS,
        };
        let browser_to_pbx: PtMap = map.pairs().iter().map(|p| (p.browser, p.pbx)).collect();
        let bridge_config = BridgeConfig {
            browser: side(events.map(|p| p.browser)),
            pbx: side(events.map(|p| p.pbx)),
            pbx_to_browser: browser_to_pbx.inverse(),
            browser_to_pbx,
            cname: "gw-e2e".into(),
            rtcp_interval: Duration::from_secs(1),
            dtmf_interval: Duration::from_millis(20),
        };
        let mut bridge = Bridge::new(now, bridge_config, 0xe000_0000_0000_0000, &mut rng);
        bridge.set_ssrc(Side::Browser, Ssrc(leg.ssrc()));
        let rtp = RtpLeg::new(now, RtpLegConfig::default(), media.pbx.rtp);

        let mut demux = Demux::new();
        demux.insert_leg(LEG, leg.local_ufrag());
        let gw = Gateway {
            demux,
            leg,
            leg_deadline: now,
            leg_events: Vec::new(),
            rtp,
            bridge,
            bridge_events: Vec::new(),
            refused_to_browser: 0,
            webrtc_addr,
            sip_addr,
            buf: Vec::with_capacity(1500),
        };
        let paths = [
            Path::new(setup.browser_net, setup.seed ^ 0x11),
            Path::new(setup.browser_net, setup.seed ^ 0x22),
            Path::new(setup.pbx_net, setup.seed ^ 0x33),
            Path::new(setup.pbx_net, setup.seed ^ 0x44),
        ];
        Self {
            now,
            browser,
            gw,
            pbx: PbxPeer {
                source: setup.pbx_source,
                rtp: Vec::new(),
                rtcp: Vec::new(),
            },
            paths,
            wire: Wire::default(),
            webrtc_addr,
            sip_addr,
            stepped: None,
        }
    }

    /// Loss and swaps start now on every path.
    pub(super) fn impair(&mut self) {
        for p in &mut self.paths {
            p.impaired = true;
        }
    }

    pub(super) fn path(&self, i: usize) -> PathStats {
        self.paths[i].stats
    }

    /// The sequence numbers of the RTP datagrams sent on path `i`.
    pub(super) fn rtp_seqs(&self, i: usize) -> &[u16] {
        &self.paths[i].rtp_seqs
    }

    /// The PBX sends one datagram to the gateway's RTP port from `from`.
    pub(super) fn pbx_send_from(&mut self, from: SocketAddr, data: Vec<u8>) {
        let d = Datagram {
            from,
            to: self.sip_addr,
            data,
        };
        self.paths[TO_GW_FROM_PBX].send(self.now, d, &mut self.wire);
    }

    /// The PBX sends one datagram from its source.
    pub(super) fn pbx_send(&mut self, data: Vec<u8>) {
        self.pbx_send_from(self.pbx.source, data);
    }

    pub(super) fn connected(&self) -> bool {
        self.browser.connected && self.gw.leg_events.contains(&Event::Connected)
    }

    pub(super) fn disconnected(&self) -> Option<crate::media::webrtc::DisconnectReason> {
        self.gw.leg_events.iter().find_map(|e| match e {
            Event::Disconnected(r) => Some(*r),
            _ => None,
        })
    }

    /// Runs every party and the network until `until` (included).
    pub(super) fn run_until(&mut self, until: Instant) {
        loop {
            self.drive();
            let next = self
                .wire
                .q
                .keys()
                .next()
                .map(|k| k.0)
                .into_iter()
                .chain([self.gw.deadline(), self.browser.deadline])
                .min()
                .expect("there is always a deadline");
            // A deadline that stays due after its step moves on by 1 ms.
            let next = if Some(self.now) == self.stepped && next <= self.now {
                self.now + Duration::from_millis(1)
            } else {
                next
            };
            if next > until {
                self.now = self.now.max(until);
                return;
            }
            self.now = self.now.max(next);
            self.stepped = Some(self.now);
            self.step();
        }
    }

    /// Runs until `done`, for at most `limit`.
    pub(super) fn run_while(&mut self, limit: Duration, done: impl Fn(&Self) -> bool) {
        let end = self.now + limit;
        while !done(self) {
            assert!(self.now < end, "not done within {limit:?}");
            let next = self.now + Duration::from_millis(1);
            self.run_until(next);
        }
    }

    /// Delivers what is due and fires due timers.
    fn step(&mut self) {
        let now = self.now;
        let mut out = Outbox::default();
        while let Some(entry) = self.wire.q.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let mut d = entry.remove();
            if d.to == self.webrtc_addr {
                self.gw.handle_webrtc(now, &d, &mut out);
            } else if d.to == self.sip_addr {
                self.gw.handle_sip(now, &mut d, &mut out);
            } else if d.to == self.browser.addr {
                let r = Receive::new(Protocol::Udp, d.from, d.to, &d.data).unwrap();
                // A browser whose DTLS failed refuses what still comes.
                let _ = self.browser.rtc.handle_input(Input::Receive(now, r));
                // In RTP mode str0m holds one received packet until the
                // next poll: poll before the next datagram.
                self.drive_browser();
            } else if d.to == self.pbx.source || Some(d.to) == self.gw.rtp.destination() {
                match classify(&d.data) {
                    PacketKind::Rtp => self.pbx.rtp.push(d.data),
                    _ => self.pbx.rtcp.push(d.data),
                }
            }
        }
        if self.gw.deadline() <= now {
            self.gw.handle_timeout(now, &mut out);
        }
        if self.browser.deadline <= now {
            let _ = self.browser.rtc.handle_input(Input::Timeout(now));
        }
        self.send(out);
    }

    /// Drains every party's output onto the network.
    fn drive(&mut self) {
        let mut out = Outbox::default();
        self.gw.drive(self.now, &mut out);
        self.send(out);
        self.drive_browser();
    }

    fn drive_browser(&mut self) {
        let b = &mut self.browser;
        loop {
            let output = match b.rtc.poll_output() {
                Ok(o) => o,
                // A browser whose DTLS failed is gone.
                Err(_) => {
                    b.deadline = self.now + Duration::from_secs(3600);
                    break;
                }
            };
            match output {
                str0m::Output::Transmit(t) => {
                    let d = Datagram {
                        from: t.source,
                        to: t.destination,
                        data: t.contents.into(),
                    };
                    self.paths[TO_GW_FROM_BROWSER].send(self.now, d, &mut self.wire);
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

    fn send(&mut self, out: Outbox) {
        for d in out.browser {
            self.paths[TO_BROWSER].send(self.now, d, &mut self.wire);
        }
        for d in out.pbx {
            self.paths[TO_PBX].send(self.now, d, &mut self.wire);
        }
    }

    /// Delivers what the paths hold back and what is in flight.
    pub(super) fn flush(&mut self) {
        for i in 0..4 {
            if let Some(h) = self.paths[i].held.take() {
                let at = self.now + self.paths[i].imp.latency;
                self.wire.push(at, h);
            }
        }
        let until = self.now + Duration::from_millis(200);
        self.run_until(until);
    }
}
