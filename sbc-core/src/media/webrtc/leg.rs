//! [`WebRtcLeg`]: one browser peer connection, answered as ICE-lite with
//! DTLS-SRTP in str0m's RTP mode.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::RngCore;
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::{Codec, FormatParams, PayloadParams};
use str0m::media::{Direction, Frequency, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{Extension, RtpWrite, SeqNo};
use str0m::{Candidate, IceConnectionState, IceCreds, Input, Rtc, RtcError};
use tracing::{debug, trace, warn};

use super::consent::{CONSENT_TIMEOUT, Consent};
use super::error::WebRtcError;
use super::identity::DtlsIdentity;
use super::srtp_profile::{self, SrtpProfile};
use crate::sdp::{Codec as SdpCodec, CodecPolicy};

/// How far ahead a dead leg's timeout lies: it has nothing left to do.
const IDLE: Duration = Duration::from_secs(3600);

/// How many sent or received packets are remembered while the SRTP profile
/// is still unknown.
const PROBES: usize = 16;

/// str0m's defaults for an audio stream's resend cache (its
/// `send_buffer_audio` and `DEFAULT_RTX_CACHE_DURATION`), restated where the
/// leg reconfigures that cache.
const RESEND_CACHE_PACKETS: usize = 50;
const RESEND_CACHE_AGE: Duration = Duration::from_secs(3);

/// The telephone-event formats the leg accepts, with the payload types of
/// its own offers (an answer takes the browser's): Opus's and G.711's rates.
const TELEPHONE_EVENTS: [(u8, Frequency); 2] = [
    (126, Frequency::FORTY_EIGHT_KHZ),
    (101, Frequency::EIGHT_KHZ),
];

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
    /// The DTLS certificate and key of every leg answered with this
    /// configuration, and the crypto provider (shared by clones).
    dtls: DtlsIdentity,
}

impl WebRtcConfig {
    /// A configuration answering from `local_addr`, with the RFC's 30 s
    /// consent timeout and a freshly generated DTLS certificate (ECDSA
    /// P-256, self-signed, valid for a year; browsers check only its
    /// fingerprint). Generating it takes a key generation and a signature:
    /// do it once, not per call.
    pub fn new(local_addr: SocketAddr) -> Self {
        Self {
            local_addr,
            consent_timeout: CONSENT_TIMEOUT,
            dtls: DtlsIdentity::generate(),
        }
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
    /// own SSRC (the one in its answer).
    pub ssrc: u32,
    /// Payload type, in the numbering the browser's offer gave it.
    pub payload_type: u8,
    /// RTP sequence number.
    pub sequence_number: u16,
    /// RTP timestamp, in the codec's clock rate.
    pub timestamp: u32,
    /// The marker bit.
    pub marker: bool,
    /// The payload, without header or padding.
    pub payload: Bytes,
}

/// Why a leg is dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// No consent check from the browser within the consent timeout
    /// (RFC 7675): the browser is gone or unreachable.
    ConsentExpired,
    /// ICE lost every candidate pair.
    IceFailed,
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
    /// The SRTP profile DTLS negotiated, reported once, as soon as the
    /// first measurable SRTP packet went out or came in.
    SrtpProfile(SrtpProfile),
    /// The browser proved it holds this address (an authenticated ICE check
    /// came from it): the demux may route this 5-tuple to the leg.
    PeerAddress(SocketAddr),
    /// An RTP packet from the browser, decrypted.
    Rtp(RtpPacket),
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

/// One browser peer connection: ICE-lite, DTLS-SRTP, rtcp-mux, BUNDLE, RTP
/// mode. Sans-IO: time and datagrams in, transmits, events and the next
/// deadline out.
pub struct WebRtcLeg {
    rtc: Rtc,
    local_addr: SocketAddr,
    local_ufrag: String,
    state: State,
    consent: Consent,
    audio: Mid,
    /// Our offer, until the browser's answer (calls from the PBX).
    pending_offer: Option<SdpPendingOffer>,
    tx_seq: Option<u64>,
    srtp: Option<SrtpProfile>,
    probes_in: VecDeque<(u32, u16, usize, usize)>,
    probes_out: VecDeque<(u32, u16, usize)>,
    peers: Vec<SocketAddr>,
    events: VecDeque<Event>,
    last_now: Instant,
}

impl std::fmt::Debug for WebRtcLeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebRtcLeg")
            .field("local_ufrag", &self.local_ufrag)
            .field("state", &self.state)
            .field("srtp", &self.srtp)
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
        let creds = IceCreds {
            ufrag: ice_chars(rng, 16),
            pass: ice_chars(rng, 32),
        };
        let mut rtc = build_rtc(now, config, codecs, &creds)?;
        let offer = SdpOffer::from_sdp_string(offer)
            .map_err(|e| WebRtcError::OfferSyntax(e.to_string()))?;
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| WebRtcError::OfferRejected(e.to_string()))?
            .to_sdp_string();
        let audio = audio_mid(&answer)
            .filter(|mid| rtc.media(*mid).is_some())
            .ok_or(WebRtcError::NoAudio)?;
        drop_resend_ratio_cap(&mut rtc, audio);
        let leg = Self::with_rtc(now, config, rtc, creds, audio, None);
        debug!(ufrag = %leg.local_ufrag, "webrtc leg answered the offer");
        Ok((leg, answer))
    }

    /// Offers audio with `codecs` to the browser (a call from the PBX):
    /// returns the leg and the SDP offer (ICE-lite, one host candidate,
    /// `setup:actpass`, BUNDLE, rtcp-mux). The leg takes part in ICE and
    /// DTLS at once; [`Self::accept_answer`] completes the negotiation.
    pub fn create_offer(
        now: Instant,
        config: &WebRtcConfig,
        codecs: &[SdpCodec],
        rng: &mut impl RngCore,
    ) -> Result<(Self, String), WebRtcError> {
        let creds = IceCreds {
            ufrag: ice_chars(rng, 16),
            pass: ice_chars(rng, 32),
        };
        let mut rtc = build_rtc(now, config, codecs, &creds)?;
        let mut change = rtc.sdp_api();
        let audio = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let (offer, pending) = change
            .apply()
            .ok_or_else(|| WebRtcError::OfferRejected("nothing to offer".into()))?;
        let leg = Self::with_rtc(now, config, rtc, creds, audio, Some(pending));
        debug!(ufrag = %leg.local_ufrag, "webrtc leg offered audio");
        Ok((leg, offer.to_sdp_string()))
    }

    /// A new offer from the browser in a call already set up (an ICE
    /// restart, a direction change): returns the leg's answer. After an
    /// ICE restart the leg has new ICE credentials: its
    /// [`local_ufrag`](Self::local_ufrag) changes, and the demux must learn
    /// it.
    pub fn accept_reoffer(&mut self, offer: &str) -> Result<String, WebRtcError> {
        if self.pending_offer.is_some() {
            return Err(WebRtcError::OfferRejected(
                "an offer of the gateway's is waiting for its answer".into(),
            ));
        }
        let offer = SdpOffer::from_sdp_string(offer)
            .map_err(|e| WebRtcError::OfferSyntax(e.to_string()))?;
        let answer = self
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| WebRtcError::OfferRejected(e.to_string()))?
            .to_sdp_string();
        let value = |name: &str| {
            answer
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
        };
        if let (Some(ufrag), Some(pwd)) = (value("a=ice-ufrag:"), value("a=ice-pwd:"))
            && ufrag != self.local_ufrag
        {
            debug!(old = %self.local_ufrag, new = %ufrag, "webrtc leg: ICE restart");
            self.consent.set_credentials(ufrag.clone(), pwd);
            self.local_ufrag = ufrag;
        }
        Ok(answer)
    }

    /// The browser's answer to [`Self::create_offer`]'s offer.
    pub fn accept_answer(&mut self, answer: &str) -> Result<(), WebRtcError> {
        let pending = self
            .pending_offer
            .take()
            .ok_or(WebRtcError::NoPendingOffer)?;
        let answer = SdpAnswer::from_sdp_string(answer)
            .map_err(|e| WebRtcError::AnswerRejected(e.to_string()))?;
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|e| WebRtcError::AnswerRejected(e.to_string()))?;
        if self.rtc.media(self.audio).is_none() {
            return Err(WebRtcError::NoAudio);
        }
        drop_resend_ratio_cap(&mut self.rtc, self.audio);
        Ok(())
    }

    fn with_rtc(
        now: Instant,
        config: &WebRtcConfig,
        rtc: Rtc,
        creds: IceCreds,
        audio: Mid,
        pending_offer: Option<SdpPendingOffer>,
    ) -> Self {
        let consent = Consent::new(
            now,
            config.consent_timeout,
            creds.ufrag.clone(),
            creds.pass,
            config.dtls.crypto().clone(),
        );
        Self {
            rtc,
            local_addr: config.local_addr,
            local_ufrag: creds.ufrag,
            state: State::Connecting,
            consent,
            audio,
            pending_offer,
            tx_seq: None,
            srtp: None,
            probes_in: VecDeque::new(),
            probes_out: VecDeque::new(),
            peers: Vec::new(),
            events: VecDeque::new(),
            last_now: now,
        }
    }

    /// The gateway's ICE ufrag of this leg: the first half of the USERNAME
    /// of every check the browser sends, which the [`super::Demux`] routes on.
    pub fn local_ufrag(&self) -> &str {
        &self.local_ufrag
    }

    /// The SRTP profile, once one packet showed it.
    pub fn srtp_profile(&self) -> Option<SrtpProfile> {
        self.srtp
    }

    /// Whether ICE, DTLS and SRTP are up and the leg is not dead.
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// The payload types the browser accepted for audio, with their
    /// parameters as `(pt, codec name, clock rate, channels)`.
    pub fn payload_types(&self) -> Vec<(u8, String, u32, u8)> {
        let Some(media) = self.rtc.media(self.audio) else {
            return Vec::new();
        };
        let remote = media.remote_pts();
        self.rtc
            .codec_config()
            .params()
            .iter()
            .filter(|p| remote.contains(&p.pt()))
            .map(|p: &PayloadParams| {
                let spec = p.spec();
                (
                    *p.pt(),
                    spec.codec.to_string(),
                    spec.clock_rate.get(),
                    spec.channels.unwrap_or(1),
                )
            })
            .collect()
    }

    /// A datagram arrived on the shared port from `from` to `to`.
    ///
    /// Drain [`Self::poll_output`] before the next datagram: in RTP mode
    /// str0m holds only one received RTP packet until it is polled, and a
    /// second `handle_input` would silently replace it.
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
        if self.consent.observe(now, datagram) && !self.peers.contains(&from) {
            self.peers.push(from);
            self.events.push_back(Event::PeerAddress(from));
        }
        let unknown_profile = self.srtp.is_none();
        if let Some((ssrc, seq, header)) =
            srtp_profile::srtp_header(datagram).filter(|_| unknown_profile)
        {
            push_probe(&mut self.probes_in, (ssrc, seq, header, datagram.len()));
        }
        let receive = match Receive::new(Protocol::Udp, from, to, datagram) {
            Ok(r) => r,
            Err(e) => {
                trace!(error = %e, "webrtc leg drops an unparsable datagram");
                return;
            }
        };
        if let Err(e) = self.rtc.handle_input(Input::Receive(now, receive)) {
            self.on_error(e);
        }
    }

    /// The deadline of the last [`Output::Timeout`] passed (or earlier).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
        if self.state == State::Dead {
            return;
        }
        if self.consent.expired(now) {
            warn!(ufrag = %self.local_ufrag, "webrtc leg: browser consent expired");
            self.die(DisconnectReason::ConsentExpired);
            return;
        }
        if let Err(e) = self.rtc.handle_input(Input::Timeout(now)) {
            self.on_error(e);
        }
    }

    /// The next thing to do: transmit, event, or the deadline until which
    /// there is nothing. Call until it returns [`Output::Timeout`].
    pub fn poll_output(&mut self) -> Output {
        loop {
            if let Some(e) = self.events.pop_front() {
                return Output::Event(e);
            }
            if self.state == State::Dead {
                return Output::Timeout(self.last_now + IDLE);
            }
            match self.rtc.poll_output() {
                Ok(str0m::Output::Timeout(at)) => {
                    return Output::Timeout(at.min(self.consent.deadline()));
                }
                Ok(str0m::Output::Transmit(t)) => {
                    let contents: Vec<u8> = t.contents.into();
                    self.probe_out(&contents);
                    return Output::Transmit(Transmit {
                        source: t.source,
                        destination: t.destination,
                        contents,
                    });
                }
                Ok(str0m::Output::Event(e)) => self.on_event(e),
                Err(e) => self.on_error(e),
            }
        }
    }

    /// Sends one RTP packet to the browser, with the leg's own SSRC.
    /// `packet.payload_type` must be one the browser accepted.
    pub fn send_rtp(&mut self, now: Instant, packet: &RtpPacket) -> Result<(), WebRtcError> {
        self.advance(now);
        if self.state != State::Connected {
            return Err(WebRtcError::NotConnected);
        }
        let mid = self.audio;
        let pt = packet.payload_type.into();
        let accepted = self
            .rtc
            .media(mid)
            .is_some_and(|m| m.remote_pts().contains(&pt));
        if !accepted {
            return Err(WebRtcError::UnknownPayloadType(packet.payload_type));
        }
        let seq = extend_seq(self.tx_seq, packet.sequence_number);
        self.tx_seq = Some(self.tx_seq.map_or(seq, |last| last.max(seq)));
        let mut api = self.rtc.direct_api();
        let tx = api
            .stream_tx_by_mid(mid, None)
            .ok_or(WebRtcError::NotConnected)?;
        if self.srtp.is_none() {
            push_probe(
                &mut self.probes_out,
                (*tx.ssrc(), packet.sequence_number, packet.payload.len()),
            );
        }
        let write = RtpWrite::new(
            pt,
            SeqNo::from(seq),
            packet.timestamp,
            now,
            packet.payload.as_ref(),
        )
        .marker(packet.marker);
        tx.write_rtp(write);
        Ok(())
    }

    fn advance(&mut self, now: Instant) {
        if now > self.last_now {
            self.last_now = now;
        }
    }

    fn on_event(&mut self, e: str0m::Event) {
        match e {
            str0m::Event::Connected => {
                debug!(ufrag = %self.local_ufrag, "webrtc leg connected");
                self.state = State::Connected;
                self.events.push_back(Event::Connected);
            }
            str0m::Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                warn!(ufrag = %self.local_ufrag, "webrtc leg: ICE lost every pair");
                self.die(DisconnectReason::IceFailed);
            }
            str0m::Event::RtpPacket(p) => {
                let key = (*p.header.ssrc, p.header.sequence_number);
                self.probe_in(key, p.payload.len());
                self.events.push_back(Event::Rtp(RtpPacket {
                    ssrc: *p.header.ssrc,
                    payload_type: *p.header.payload_type,
                    sequence_number: p.header.sequence_number,
                    timestamp: p.header.timestamp,
                    marker: p.header.marker,
                    payload: Bytes::from_owner(p.payload),
                }));
            }
            str0m::Event::Closed => self.die(DisconnectReason::ClosedByPeer),
            other => trace!(event = ?other, "webrtc leg ignores a str0m event"),
        }
    }

    /// str0m reports an error; it is fatal when str0m gave the connection up.
    fn on_error(&mut self, e: RtcError) {
        if self.rtc.is_alive() {
            debug!(error = %e, "webrtc leg: str0m refused an input");
            return;
        }
        let reason = match &e {
            RtcError::RemoteSdp(m) if m.contains("fingerprint") => {
                DisconnectReason::FingerprintMismatch
            }
            RtcError::Ice(_) => DisconnectReason::IceFailed,
            _ => DisconnectReason::DtlsFailed,
        };
        warn!(ufrag = %self.local_ufrag, error = %e, ?reason, "webrtc leg failed");
        self.die(reason);
    }

    fn die(&mut self, reason: DisconnectReason) {
        if self.state == State::Dead {
            return;
        }
        self.state = State::Dead;
        self.rtc.disconnect();
        self.events.push_back(Event::Disconnected(reason));
    }

    fn probe_in(&mut self, key: (u32, u16), payload_len: usize) {
        if self.srtp.is_some() {
            return;
        }
        let found = self
            .probes_in
            .iter()
            .find(|(ssrc, seq, _, _)| (*ssrc, *seq) == key)
            .and_then(|&(_, _, header, len)| srtp_profile::from_tag_len(len, header, payload_len));
        if let Some(p) = found {
            self.found_profile(p);
        }
    }

    fn probe_out(&mut self, datagram: &[u8]) {
        if self.srtp.is_some() {
            return;
        }
        let Some((ssrc, seq, header)) = srtp_profile::srtp_header(datagram) else {
            return;
        };
        let found = self
            .probes_out
            .iter()
            .find(|(s, q, _)| (*s, *q) == (ssrc, seq))
            .and_then(|&(_, _, payload)| {
                srtp_profile::from_tag_len(datagram.len(), header, payload)
            });
        if let Some(p) = found {
            self.found_profile(p);
        }
    }

    fn found_profile(&mut self, profile: SrtpProfile) {
        debug!(ufrag = %self.local_ufrag, %profile, "webrtc leg SRTP profile");
        self.srtp = Some(profile);
        self.probes_in = VecDeque::new();
        self.probes_out = VecDeque::new();
        self.events.push_back(Event::SrtpProfile(profile));
    }

    /// The source address of this leg's transmits.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

/// The mid of the first accepted (port not 0) audio m-line of `sdp`.
/// A str0m `Rtc` in RTP mode, ICE-lite with `creds`, the configuration's
/// DTLS certificate, audio with `codecs` only (telephone-event at both
/// clock rates when it is among them), and the host candidate.
fn build_rtc(
    now: Instant,
    config: &WebRtcConfig,
    codecs: &[SdpCodec],
    creds: &IceCreds,
) -> Result<Rtc, WebRtcError> {
    let allows = |c: SdpCodec| codecs.iter().any(|a| a.same_family(&c));
    let mut builder = Rtc::builder()
        .set_rtp_mode(true)
        .set_ice_lite(true)
        .set_local_ice_credentials(creds.clone())
        .set_crypto_provider(config.dtls.crypto().clone())
        .set_dtls_cert(config.dtls.cert())
        .set_stats_interval(None)
        // Audio level and mid only. Not transport-cc: the leg does no
        // bandwidth estimation, and with transport-cc str0m keeps a record
        // of each of the last 1000 packets sent (~88 KB per call, see
        // docs/benchmarks.md) and sends feedback per packet received. Nor
        // abs-send-time (also for estimation), nor the video extensions.
        .clear_extension_map()
        .set_extension(1, Extension::AudioLevel)
        .set_extension(4, Extension::RtpMid)
        .clear_codecs()
        .enable_opus(allows(SdpCodec::Opus), false)
        .enable_g722(allows(SdpCodec::G722), false)
        .enable_pcmu(allows(SdpCodec::Pcmu), false)
        .enable_pcma(allows(SdpCodec::Pcma), false);
    // RFC 4733 DTMF at each audio clock rate: str0m adds no telephone-event
    // on its own, and without it the browser's key presses never reach the
    // bridge.
    if allows(SdpCodec::TelephoneEvent { clock_rate: 8000 }) {
        for (pt, rate) in TELEPHONE_EVENTS {
            builder.codec_config().add_config(
                pt.into(),
                None,
                Codec::Tele,
                rate,
                None,
                FormatParams::default(),
            );
        }
    }
    let mut rtc = builder.build(now);
    let host = Candidate::host(config.local_addr, "udp")
        .map_err(|e| WebRtcError::OfferRejected(e.to_string()))?;
    rtc.add_local_candidate(host);
    Ok(rtc)
}

fn audio_mid(sdp: &str) -> Option<Mid> {
    let mut in_audio = false;
    for line in sdp.lines() {
        if let Some(m) = line.strip_prefix("m=") {
            let mut fields = m.split(' ');
            in_audio = fields.next() == Some("audio") && fields.next() != Some("0");
        } else if let Some(mid) = line.strip_prefix("a=mid:").filter(|_| in_audio) {
            return Some(Mid::from(mid.trim()));
        }
    }
    None
}

/// Turns off the resend-ratio cap of the stream the leg sends on.
///
/// str0m caps resends (answers to NACKs) at a share of the bytes sent, and
/// for that keeps a history of every packet sent in the last second (a
/// `VecDeque` of 64 entries, 1.5 KB per call). The leg writes its packets
/// not nackable (audio is not retransmitted; the answer offers no RTX), so
/// str0m caches none and never resends: the cap has nothing to cap. The
/// resend cache keeps str0m's sizes (50 packets, 3 s); it stays empty.
fn drop_resend_ratio_cap(rtc: &mut Rtc, audio: Mid) {
    if let Some(tx) = rtc.direct_api().stream_tx_by_mid(audio, None) {
        tx.set_rtx_cache(RESEND_CACHE_PACKETS, RESEND_CACHE_AGE, None);
    }
}

fn push_probe<T>(q: &mut VecDeque<T>, probe: T) {
    if q.len() == PROBES {
        q.pop_front();
    }
    q.push_back(probe);
}

/// The extended sequence number nearest to `last` whose low 16 bits are
/// `seq` (RFC 3711 §3.3.1 index estimation).
fn extend_seq(last: Option<u64>, seq: u16) -> u64 {
    let Some(last) = last else {
        return u64::from(seq);
    };
    let roc = last >> 16;
    [roc.checked_sub(1), Some(roc), Some(roc + 1)]
        .into_iter()
        .flatten()
        .map(|r| (r << 16) | u64::from(seq))
        .min_by_key(|c| c.abs_diff(last))
        .unwrap_or(u64::from(seq))
}

/// `n` ICE characters (RFC 8839 §5.4: ALPHA / DIGIT / "+" / "/"); ours are
/// alphanumeric only.
fn ice_chars(rng: &mut impl RngCore, n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| char::from(ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()]))
        .collect()
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn sequence_numbers_extend_across_wrap() {
        assert_eq!(extend_seq(None, 65535), 65535);
        assert_eq!(extend_seq(Some(65535), 0), 65536);
        assert_eq!(extend_seq(Some(65536), 65535), 65535);
        assert_eq!(extend_seq(Some(3 << 16), 2), (3 << 16) + 2);
        assert_eq!(extend_seq(Some(5), 65530), 65530);
    }
}
