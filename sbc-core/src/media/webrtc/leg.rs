//! [`WebRtcLeg`]: one browser peer connection, answered (or offered) as an
//! ICE-lite endpoint with DTLS-SRTP, rtcp-mux and BUNDLE, built from the
//! transport parts of [`crate::media::webrtc_lite`] ([`IceLite`],
//! [`DtlsEndpoint`]) and the SRTP contexts of [`crate::media::srtp`].
//!
//! One datagram on the shared port is, by its first byte (RFC 7983): STUN
//! (0–3), answered by the ICE responder; DTLS (20–63), accepted only from
//! an address that passed an authenticated ICE check; SRTP or SRTCP
//! (128–191), accepted only from such an address and only once DTLS has
//! produced keys from a peer whose certificate matched its SDP fingerprint.
//! Anything else is dropped.
//!
//! RTCP is not generated here: the bridge reports on the browser's streams
//! ([`WebRtcLeg::send_rtcp`]) and reads the browser's reports
//! ([`Event::Rtcp`]).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::RngCore;
use tracing::{debug, trace, warn};

use super::error::WebRtcError;
use super::sdp::{self, Local, OFFER_MID, ReadOffer};
use crate::media::rtp::{PacketKind, RtpView, Ssrc, classify, write_packet};
use crate::media::srtp::{SrtpContext, SrtpProfile};
use crate::media::webrtc_lite::{
    CONSENT_TIMEOUT, DtlsEndpoint, DtlsEvent, DtlsFailure, DtlsIdentity, DtlsRole, IceCredentials,
    IceEvent, IceLite,
};
use crate::sdp::{Codec as SdpCodec, CodecPolicy, Direction, Fingerprint, PayloadFormat, Setup};

/// How far ahead a dead leg's timeout lies: it has nothing left to do.
const IDLE: Duration = Duration::from_secs(3600);

/// How many DTLS records from the browser wait for its answer to our offer
/// (its ClientHello may overtake the answer on the signalling path).
const EARLY_RECORDS: usize = 8;

/// Configuration of a WebRTC leg, with the gateway's DTLS certificate.
///
/// Make one per process (or per listening address) and clone it: every leg
/// answered with it, and with its clones, presents the same certificate
/// (see [`WebRtcConfig::new`]).
#[derive(Debug, Clone)]
pub struct WebRtcConfig {
    /// The gateway's address for browser media: `media.public_ip` and the
    /// shared `media.webrtc_port`. It is the one host candidate of the
    /// answer and the source of every transmit.
    pub local_addr: SocketAddr,
    /// How long the leg lives without a consent check from the browser
    /// (RFC 7675 §5.1: 30 s).
    pub consent_timeout: Duration,
    /// The DTLS certificate and key of every leg made with this
    /// configuration (shared by clones).
    dtls: DtlsIdentity,
}

impl WebRtcConfig {
    /// A configuration answering from `local_addr`, with the RFC's 30 s
    /// consent timeout and a freshly generated DTLS certificate (ECDSA
    /// P-256, self-signed; browsers check only its fingerprint). Generating
    /// it takes a key generation and a signature: do it once, not per call.
    ///
    /// # Panics
    /// If the crypto backend cannot generate a P-256 key pair, which only a
    /// broken build can cause.
    pub fn new(local_addr: SocketAddr) -> Self {
        Self {
            local_addr,
            consent_timeout: CONSENT_TIMEOUT,
            dtls: DtlsIdentity::generate()
                .expect("the crypto backend generates P-256 certificates"),
        }
    }

    /// The certificate fingerprint every leg of this configuration puts in
    /// its SDP.
    pub fn fingerprint(&self) -> &Fingerprint {
        self.dtls.fingerprint()
    }
}

/// A datagram to send from the shared WebRTC port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The local address to send from (the configured `local_addr`).
    pub source: SocketAddr,
    /// The browser's address.
    pub destination: SocketAddr,
    /// The datagram: STUN, DTLS, SRTP or SRTCP.
    pub contents: Vec<u8>,
}

/// One RTP packet as the bridge relays it: the header fields and the
/// payload, decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket {
    /// SSRC. Received: the browser's. Sent: ignored, the leg sends with its
    /// own SSRC (the one in its SDP, [`WebRtcLeg::ssrc`]).
    pub ssrc: u32,
    /// Payload type, in the numbering the browser's SDP gave it.
    pub payload_type: u8,
    /// RTP sequence number.
    pub sequence_number: u16,
    /// RTP timestamp, in the codec's clock rate.
    pub timestamp: u32,
    /// The marker bit.
    pub marker: bool,
    /// The payload, without header, extensions or padding.
    pub payload: Bytes,
}

/// Why a leg is dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// No consent check from the browser within the consent timeout
    /// (RFC 7675): the browser is gone or unreachable.
    ConsentExpired,
    /// The browser's DTLS certificate does not match the fingerprint in its
    /// SDP (RFC 8122 §5): someone else is at the other end.
    FingerprintMismatch,
    /// The DTLS handshake or the SRTP setup failed.
    DtlsFailed,
    /// The browser closed DTLS (close_notify).
    ClosedByPeer,
}

/// What the leg reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// ICE, DTLS (fingerprint checked) and SRTP are up: media can flow.
    Connected,
    /// The SRTP profile DTLS negotiated, reported once, with
    /// [`Event::Connected`].
    SrtpProfile(SrtpProfile),
    /// The browser proved it holds this address (an authenticated ICE check
    /// came from it): the demux may route this 5-tuple to the leg.
    PeerAddress(SocketAddr),
    /// An RTP packet from the browser, decrypted.
    Rtp(RtpPacket),
    /// An RTCP compound packet from the browser, decrypted (for the
    /// bridge's per-leg statistics).
    Rtcp(Vec<u8>),
    /// The leg is dead; it reports nothing more and can be dropped.
    Disconnected(DisconnectReason),
}

/// What [`WebRtcLeg::poll_output`] hands out.
#[derive(Debug)]
pub enum Output {
    /// A datagram to send.
    Transmit(Transmit),
    /// Something happened.
    Event(Event),
    /// Nothing more until this time or the next input: call
    /// [`WebRtcLeg::handle_timeout`] then.
    Timeout(Instant),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Connecting,
    Connected,
    Dead,
}

/// The DTLS side of the leg.
enum Dtls {
    /// Our offer is out; the browser's answer (its fingerprint, its setup
    /// role) is not in. Records from proven addresses wait here.
    AwaitingAnswer(Vec<Vec<u8>>),
    /// The handshake runs or ran.
    Running(Box<DtlsEndpoint>),
}

/// The SRTP contexts DTLS keyed.
struct Srtp {
    profile: SrtpProfile,
    /// Protects what the leg sends.
    send: SrtpContext,
    /// Unprotects what the browser sends.
    receive: SrtpContext,
    /// The browser's first packet authenticated: it holds the keys, and the
    /// DTLS handshake state has been released.
    proven: bool,
}

/// One browser peer connection: ICE-lite, DTLS-SRTP, rtcp-mux, BUNDLE.
/// Sans-IO: time and datagrams in, transmits, events and the next deadline
/// out.
pub struct WebRtcLeg {
    local_addr: SocketAddr,
    identity: DtlsIdentity,
    ice: IceLite,
    dtls: Dtls,
    srtp: Option<Srtp>,
    state: State,
    /// The leg's SSRC and CNAME, in its SDP.
    ssrc: u32,
    cname: String,
    /// The `o=` line's session id and version.
    session_id: u64,
    version: u64,
    /// The audio m-line's mid.
    mid: String,
    /// The audio formats negotiated, in the browser's numbering.
    formats: Vec<PayloadFormat>,
    /// The browser's certificate fingerprint, once its SDP gave it.
    remote_fingerprint: Option<Fingerprint>,
    /// Our offer's formats, until the browser's answer.
    offered: Option<Vec<PayloadFormat>>,
    /// The address DTLS came from last, and the first proven address: where
    /// DTLS goes, and media before the browser nominates.
    dtls_peer: Option<SocketAddr>,
    first_peer: Option<SocketAddr>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    last_now: Instant,
}

impl std::fmt::Debug for WebRtcLeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebRtcLeg")
            .field("local_ufrag", &self.ice.local_ufrag())
            .field("state", &self.state)
            .field("srtp", &self.srtp_profile())
            .finish_non_exhaustive()
    }
}

impl WebRtcLeg {
    /// Answers the browser's SDP `offer`: returns the leg and the SDP answer
    /// (ICE-lite, one host candidate on `config.local_addr`, the gateway's
    /// DTLS fingerprint). ICE credentials come from `rng`. Every codec the
    /// relay passes through may be accepted.
    pub fn accept_offer(
        now: Instant,
        config: &WebRtcConfig,
        offer: &str,
        rng: &mut impl RngCore,
    ) -> Result<(Self, String), WebRtcError> {
        Self::accept_offer_with(now, config, offer, &CodecPolicy::default().allowed, rng)
    }

    /// [`Self::accept_offer`], accepting only the codecs of `codecs`
    /// (matched by family): the B2BUA answers the browser once the PBX has
    /// chosen, with exactly the PBX's codecs, so the browser never sends a
    /// codec the PBX did not take.
    pub fn accept_offer_with(
        now: Instant,
        config: &WebRtcConfig,
        offer: &str,
        codecs: &[SdpCodec],
        rng: &mut impl RngCore,
    ) -> Result<(Self, String), WebRtcError> {
        let ReadOffer { sdp, audio, remote } = sdp::read_offer(offer, codecs)?;
        // RFC 5763 §5: we answer an actpass offer as the DTLS server.
        let (role, setup) = match remote.setup {
            Setup::ActPass | Setup::Active => (DtlsRole::Server, Setup::Passive),
            Setup::Passive => (DtlsRole::Client, Setup::Active),
            Setup::HoldConn => {
                return Err(WebRtcError::OfferRejected("a=setup:holdconn".into()));
            }
        };
        let dtls = DtlsEndpoint::new(now, &config.dtls, role, remote.fingerprint.clone())
            .map_err(|e| WebRtcError::OfferRejected(e.to_string()))?;
        let mut leg = Self::new(
            now,
            config,
            Some(remote.ice_ufrag),
            Dtls::Running(Box::new(dtls)),
            rng,
        );
        leg.mid = remote.mid;
        leg.formats = remote.formats;
        leg.remote_fingerprint = Some(remote.fingerprint);
        let direction = remote.direction.answer(Direction::SendRecv);
        let answer = sdp::write_answer(&sdp, audio, &leg.local(setup), &leg.formats, direction);
        leg.pump();
        debug!(ufrag = %leg.local_ufrag(), "webrtc leg answered the offer");
        Ok((leg, answer))
    }

    /// Offers audio with `codecs` to the browser (a call from the PBX):
    /// returns the leg and the SDP offer (ICE-lite, one host candidate,
    /// `setup:actpass`, BUNDLE, rtcp-mux). The leg answers ICE checks at
    /// once; [`Self::accept_answer`] completes the negotiation and starts
    /// DTLS. Consent (RFC 7675) is counted from the answer: until then the
    /// call may ring for as long as the signalling lets it.
    pub fn create_offer(
        now: Instant,
        config: &WebRtcConfig,
        codecs: &[SdpCodec],
        rng: &mut impl RngCore,
    ) -> Result<(Self, String), WebRtcError> {
        let formats = sdp::offer_formats(codecs);
        if !formats.iter().any(|f| !f.codec.is_telephone_event()) {
            return Err(WebRtcError::OfferRejected("nothing to offer".into()));
        }
        let mut leg = Self::new(now, config, None, Dtls::AwaitingAnswer(Vec::new()), rng);
        leg.mid = OFFER_MID.into();
        let offer = sdp::write_offer(&leg.local(Setup::ActPass), &formats);
        leg.formats = formats.clone();
        leg.offered = Some(formats);
        debug!(ufrag = %leg.local_ufrag(), "webrtc leg offered audio");
        Ok((leg, offer))
    }

    fn new(
        now: Instant,
        config: &WebRtcConfig,
        remote_ufrag: Option<String>,
        dtls: Dtls,
        rng: &mut impl RngCore,
    ) -> Self {
        let creds = IceCredentials::random(rng);
        let ice = IceLite::new(now, creds, remote_ufrag, config.consent_timeout);
        Self {
            local_addr: config.local_addr,
            identity: config.dtls.clone(),
            ice,
            dtls,
            srtp: None,
            state: State::Connecting,
            ssrc: rng.next_u32().max(1),
            cname: format!("gw{:016x}", rng.next_u64()),
            session_id: u64::from(rng.next_u32()),
            version: 1,
            mid: String::new(),
            formats: Vec::new(),
            remote_fingerprint: None,
            offered: None,
            dtls_peer: None,
            first_peer: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            last_now: now,
        }
    }

    /// What the leg's SDP says of itself, with `setup`.
    fn local(&self, setup: Setup) -> Local<'_> {
        Local {
            session_id: self.session_id,
            version: self.version,
            addr: self.local_addr,
            ice: self.ice.local_credentials(),
            fingerprint: self.identity.fingerprint(),
            setup,
            ssrc: self.ssrc,
            cname: &self.cname,
        }
    }

    /// A new offer from the browser in a call already set up (an ICE
    /// restart, a direction change): returns the leg's answer. After an
    /// ICE restart the leg has new ICE credentials from `rng`: its
    /// [`local_ufrag`](Self::local_ufrag) changes, and the demux must learn
    /// it. The codecs stay those of the first negotiation; a new DTLS
    /// fingerprint is refused (the browser keeps its certificate for the
    /// life of a peer connection).
    pub fn accept_reoffer(
        &mut self,
        offer: &str,
        rng: &mut impl RngCore,
    ) -> Result<String, WebRtcError> {
        if self.offered.is_some() {
            return Err(WebRtcError::OfferRejected(
                "an offer of the gateway's is waiting for its answer".into(),
            ));
        }
        let codecs: Vec<SdpCodec> = self.formats.iter().map(|f| f.codec.clone()).collect();
        let ReadOffer { sdp, audio, remote } = sdp::read_offer(offer, &codecs)?;
        if self.remote_fingerprint.as_ref() != Some(&remote.fingerprint) {
            return Err(WebRtcError::OfferRejected(
                "the DTLS fingerprint changed mid-call".into(),
            ));
        }
        if self.ice.remote_ufrag() != Some(remote.ice_ufrag.as_str()) {
            let creds = IceCredentials::random(rng);
            debug!(old = %self.local_ufrag(), new = %creds.ufrag, "webrtc leg: ICE restart");
            self.ice.restart(creds, Some(remote.ice_ufrag));
        }
        self.mid = remote.mid;
        self.formats = remote.formats;
        self.version += 1;
        let setup = match &self.dtls {
            Dtls::Running(d) if d.role() == DtlsRole::Client => Setup::Active,
            _ => Setup::Passive,
        };
        let direction = remote.direction.answer(Direction::SendRecv);
        Ok(sdp::write_answer(
            &sdp,
            audio,
            &self.local(setup),
            &self.formats,
            direction,
        ))
    }

    /// The browser's answer to [`Self::create_offer`]'s offer: its ICE
    /// ufrag, its fingerprint and setup role (DTLS starts), and the codecs
    /// it chose.
    pub fn accept_answer(&mut self, answer: &str) -> Result<(), WebRtcError> {
        let offered = self.offered.take().ok_or(WebRtcError::NoPendingOffer)?;
        let remote = sdp::read_answer(answer, &offered)?;
        let role = match remote.setup {
            Setup::Active => DtlsRole::Server,
            Setup::Passive => DtlsRole::Client,
            other => {
                return Err(WebRtcError::AnswerRejected(format!(
                    "a=setup:{other} in an answer"
                )));
            }
        };
        let now = self.last_now;
        let mut dtls = DtlsEndpoint::new(now, &self.identity, role, remote.fingerprint.clone())
            .map_err(|e| WebRtcError::AnswerRejected(e.to_string()))?;
        if let Dtls::AwaitingAnswer(early) = &mut self.dtls {
            for record in early.drain(..) {
                dtls.handle_input(now, &record);
            }
        }
        self.dtls = Dtls::Running(Box::new(dtls));
        self.ice.set_remote_ufrag(remote.ice_ufrag);
        self.ice.restart_consent(now);
        self.formats = remote.formats;
        self.remote_fingerprint = Some(remote.fingerprint);
        self.pump();
        Ok(())
    }

    /// The gateway's ICE ufrag of this leg: the first half of the USERNAME
    /// of every check the browser sends, which the [`super::Demux`] routes on.
    pub fn local_ufrag(&self) -> &str {
        self.ice.local_ufrag()
    }

    /// The leg's SSRC: every RTP packet and report it sends carries it.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The SRTP profile DTLS negotiated, once it has.
    pub fn srtp_profile(&self) -> Option<SrtpProfile> {
        self.srtp.as_ref().map(|s| s.profile)
    }

    /// Whether ICE, DTLS and SRTP are up and the leg is not dead.
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// The payload types negotiated for audio, with their parameters as
    /// `(pt, codec name, clock rate, channels)`.
    pub fn payload_types(&self) -> Vec<(u8, String, u32, u8)> {
        self.formats
            .iter()
            .map(|f| {
                (
                    f.payload_type,
                    f.codec.name().to_owned(),
                    f.codec.clock_rate(),
                    u8::try_from(f.codec.channels()).unwrap_or(u8::MAX),
                )
            })
            .collect()
    }

    /// The source address of this leg's transmits.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A datagram arrived on the shared port from `from` to `to`.
    pub fn handle_input(
        &mut self,
        now: Instant,
        from: SocketAddr,
        to: SocketAddr,
        datagram: &[u8],
    ) {
        self.advance(now);
        if self.state == State::Dead {
            return;
        }
        match datagram.first() {
            Some(0..=3) => {
                self.ice.handle_input(now, from, to, datagram);
            }
            Some(20..=63) if self.ice.is_peer(from) => self.dtls_input(now, from, datagram),
            Some(128..=191) if self.ice.is_peer(from) => self.srtp_input(datagram),
            _ => trace!(
                ufrag = %self.ice.local_ufrag(),
                len = datagram.len(),
                "webrtc leg drops a datagram (unknown kind, or from an unproven address)"
            ),
        }
        self.pump();
    }

    fn dtls_input(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        self.dtls_peer = Some(from);
        match &mut self.dtls {
            Dtls::Running(d) => d.handle_input(now, datagram),
            Dtls::AwaitingAnswer(early) if early.len() < EARLY_RECORDS => {
                early.push(datagram.to_vec());
            }
            Dtls::AwaitingAnswer(_) => {
                trace!("webrtc leg: too many DTLS records before the answer")
            }
        }
    }

    fn srtp_input(&mut self, datagram: &[u8]) {
        let Some(srtp) = &mut self.srtp else {
            trace!("webrtc leg: SRTP before DTLS keyed it, dropped");
            return;
        };
        let mut buf = datagram.to_vec();
        let kind = classify(&buf);
        let opened = match kind {
            PacketKind::Rtcp => srtp.receive.unprotect_rtcp(&mut buf),
            PacketKind::Rtp => srtp.receive.unprotect_rtp(&mut buf),
            PacketKind::Other => return,
        };
        let len = match opened {
            Ok(len) => len,
            Err(e) => {
                trace!(error = %e, "webrtc leg: SRTP dropped");
                return;
            }
        };
        buf.truncate(len);
        if !srtp.proven {
            // The browser holds the keys: it never needs our last flight.
            srtp.proven = true;
            if let Dtls::Running(d) = &mut self.dtls {
                d.release_handshake();
            }
        }
        if kind == PacketKind::Rtcp {
            self.events.push_back(Event::Rtcp(buf));
            return;
        }
        let Ok(view) = RtpView::parse(&buf) else {
            trace!("webrtc leg: malformed RTP inside SRTP, dropped");
            return;
        };
        let (start, end) = (view.header_len(), view.header_len() + view.payload().len());
        let packet = RtpPacket {
            ssrc: view.ssrc().0,
            payload_type: view.payload_type(),
            sequence_number: view.sequence_number(),
            timestamp: view.timestamp(),
            marker: view.marker(),
            payload: Bytes::new(),
        };
        let payload = Bytes::from(buf).slice(start..end);
        self.events
            .push_back(Event::Rtp(RtpPacket { payload, ..packet }));
    }

    /// The deadline of the last [`Output::Timeout`] passed (or earlier).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
        if self.state == State::Dead {
            return;
        }
        // An offer waiting for its answer waits for a person: the browser
        // checks only once its user answered, so consent counts from then.
        if !matches!(self.dtls, Dtls::AwaitingAnswer(_)) {
            self.ice.handle_timeout(now);
        }
        if let Dtls::Running(d) = &mut self.dtls
            && d.poll_timeout().is_some_and(|at| at <= now)
        {
            d.handle_timeout(now);
        }
        self.pump();
    }

    /// The next thing to do: transmit, event, or the deadline until which
    /// there is nothing. Call until it returns [`Output::Timeout`].
    pub fn poll_output(&mut self) -> Output {
        if let Some(e) = self.events.pop_front() {
            return Output::Event(e);
        }
        if let Some(t) = self.transmits.pop_front() {
            return Output::Transmit(t);
        }
        let idle = self.last_now + IDLE;
        if self.state == State::Dead {
            return Output::Timeout(idle);
        }
        let (ice, dtls) = match &self.dtls {
            Dtls::Running(d) => (self.ice.poll_timeout(), d.poll_timeout()),
            Dtls::AwaitingAnswer(_) => (None, None),
        };
        let at = [ice, dtls].into_iter().flatten().min().unwrap_or(idle);
        Output::Timeout(at)
    }

    /// Sends one RTP packet to the browser, with the leg's own SSRC.
    /// `packet.payload_type` must be one the browser accepted.
    pub fn send_rtp(&mut self, now: Instant, packet: &RtpPacket) -> Result<(), WebRtcError> {
        self.advance(now);
        if !self
            .formats
            .iter()
            .any(|f| f.payload_type == packet.payload_type)
        {
            return Err(WebRtcError::UnknownPayloadType(packet.payload_type));
        }
        let mut out = Vec::with_capacity(12 + packet.payload.len() + 16);
        write_packet(
            &mut out,
            packet.payload_type,
            packet.marker,
            packet.sequence_number,
            packet.timestamp,
            Ssrc(self.ssrc),
            &packet.payload,
        );
        self.send_protected(out, false)
    }

    /// Sends one RTCP compound packet (the bridge's report on this leg) to
    /// the browser; its sender SSRC should be [`Self::ssrc`].
    pub fn send_rtcp(&mut self, now: Instant, compound: &[u8]) -> Result<(), WebRtcError> {
        self.advance(now);
        self.send_protected(compound.to_vec(), true)
    }

    fn send_protected(&mut self, mut packet: Vec<u8>, rtcp: bool) -> Result<(), WebRtcError> {
        let destination = self.media_destination();
        let (Some(srtp), Some(destination), State::Connected) =
            (&mut self.srtp, destination, self.state)
        else {
            return Err(WebRtcError::NotConnected);
        };
        let protected = if rtcp {
            srtp.send.protect_rtcp(&mut packet)
        } else {
            srtp.send.protect_rtp(&mut packet)
        };
        protected.map_err(|e| WebRtcError::Send(e.to_string()))?;
        self.transmits.push_back(Transmit {
            source: self.local_addr,
            destination,
            contents: packet,
        });
        Ok(())
    }

    /// Where media goes: the nominated address, else the one DTLS ran with.
    fn media_destination(&self) -> Option<SocketAddr> {
        self.ice.selected().or(self.dtls_peer).or(self.first_peer)
    }

    fn advance(&mut self, now: Instant) {
        if now > self.last_now {
            self.last_now = now;
        }
    }

    /// Moves what the responder and the endpoint produced into the leg's
    /// queues, and reacts to their events.
    fn pump(&mut self) {
        while let Some(t) = self.ice.poll_transmit() {
            self.transmits.push_back(Transmit {
                source: t.source,
                destination: t.destination,
                contents: t.contents,
            });
        }
        while let Some(e) = self.ice.poll_event() {
            match e {
                IceEvent::PeerAddress(a) => {
                    self.first_peer.get_or_insert(a);
                    self.events.push_back(Event::PeerAddress(a));
                }
                IceEvent::Nominated(_) => {}
                IceEvent::ConsentExpired => {
                    warn!(ufrag = %self.ice.local_ufrag(), "webrtc leg: browser consent expired");
                    self.die(DisconnectReason::ConsentExpired);
                    return;
                }
            }
        }
        let destination = self.dtls_peer.or(self.first_peer);
        let Dtls::Running(dtls) = &mut self.dtls else {
            return;
        };
        if let Some(destination) = destination {
            while let Some(record) = dtls.poll_transmit() {
                self.transmits.push_back(Transmit {
                    source: self.local_addr,
                    destination,
                    contents: record,
                });
            }
        }
        while let Some(e) = dtls.poll_event() {
            match e {
                DtlsEvent::Connected(keys) => {
                    let (send, receive) = keys.contexts();
                    let profile = keys.profile().srtp_profile();
                    debug!(ufrag = %self.ice.local_ufrag(), %profile, "webrtc leg connected");
                    self.srtp = Some(Srtp {
                        profile,
                        send,
                        receive,
                        proven: false,
                    });
                    self.state = State::Connected;
                    self.events.push_back(Event::Connected);
                    self.events.push_back(Event::SrtpProfile(profile));
                }
                DtlsEvent::Failed(why) => {
                    warn!(ufrag = %self.ice.local_ufrag(), error = %why, "webrtc leg: DTLS failed");
                    let reason = match why {
                        DtlsFailure::FingerprintMismatch => DisconnectReason::FingerprintMismatch,
                        _ => DisconnectReason::DtlsFailed,
                    };
                    self.die(reason);
                    return;
                }
                DtlsEvent::ClosedByPeer => {
                    self.die(DisconnectReason::ClosedByPeer);
                    return;
                }
            }
        }
    }

    fn die(&mut self, reason: DisconnectReason) {
        if self.state == State::Dead {
            return;
        }
        self.state = State::Dead;
        let destination = self.dtls_peer.or(self.first_peer);
        if let Dtls::Running(d) = &mut self.dtls {
            d.close();
            while let Some(record) = d.poll_transmit() {
                if let Some(destination) = destination {
                    self.transmits.push_back(Transmit {
                        source: self.local_addr,
                        destination,
                        contents: record,
                    });
                }
            }
        }
        self.srtp = None;
        self.events.push_back(Event::Disconnected(reason));
    }
}
