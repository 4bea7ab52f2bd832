//! Translation between the browser's WebRTC SDP and the PBX's RTP/AVP SDP,
//! both ways, as pure functions of explicit inputs: the gateway's addresses,
//! ICE credentials and certificate fingerprint come in as [`WebRtcSide`] and
//! [`PbxSide`], the `o=` line as [`GatewayOrigin`]. Nothing of one side's
//! description is copied to the other but codecs, their format parameters,
//! packet times and the direction: no address, ICE credential, fingerprint,
//! SSRC, `mid` or header extension crosses.
//!
//! Calls from the browser: [`browser_offer_to_pbx`] then
//! [`pbx_answer_to_browser`]. Calls from the PBX: [`pbx_offer_to_browser`]
//! then [`browser_answer_to_pbx`]. The first step of each returns the state
//! the second needs; the second returns the [`PayloadMap`] the relay applies
//! and both peers' media endpoints as typed values.
//!
//! Toward the PBX the transport is RTP/AVP, or RTP/SAVP with SDES keys
//! when [`PbxSide::srtp`] says so; the agreed keys come back as
//! [`SdesKeys`].
//!
//! Only the first audio section is relayed; other sections are refused in
//! the answer (port 0), as RFC 3264 §6 requires.

mod from_browser;
mod from_pbx;
mod sdes;

pub use from_browser::{
    BrowserAnswer, BrowserOffer, PbxAnswerMedia, PbxOffer, browser_offer_to_pbx, pbx_answer_media,
    pbx_answer_to_browser,
};
pub use from_pbx::{
    BrowserOfferOut, PbxAnswer, PbxOffered, browser_answer_to_pbx, pbx_offer_to_browser,
    read_pbx_offer,
};
pub use sdes::{PbxSrtp, SdesKeys, reoffered_keys};

use super::candidate::Candidate;
use super::codec::{CodecPolicy, PayloadFormat, PayloadMap};
use super::direction::Direction;
use super::dtls::{Fingerprint, Setup};
use super::error::ParseError;
use super::model::{Attribute, Connection, MediaDescription, Origin, SessionDescription};
use super::rtp_attrs::{Fmtp, Group, Rtcp};
use std::net::{IpAddr, SocketAddr};

/// Why a description could not be translated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TranslateError {
    /// The description does not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// No audio section with a port other than 0.
    #[error("no audio stream")]
    NoAudio,
    /// The two sides share no codec the gateway relays.
    #[error("no codec in common")]
    NoCommonCodec,
    /// The audio section uses a transport the gateway does not speak on
    /// that side.
    #[error("unsupported transport {0}")]
    UnsupportedTransport(String),
    /// The answer refused the audio stream (port 0).
    #[error("audio stream refused by the answer")]
    Rejected,
    /// An attribute the transport requires is missing or malformed
    /// (`ice-ufrag`, `ice-pwd`, `fingerprint`, `setup`).
    #[error("missing or malformed a={0}")]
    Attribute(&'static str),
    /// No usable connection address for the audio stream.
    #[error("no connection address")]
    NoConnection,
    /// The answer's media sections do not line up with the offer's.
    #[error("answer does not match the offer")]
    AnswerMismatch,
    /// An RTP/SAVP offer with no `a=crypto` line the gateway can use.
    #[error("no supported SDES crypto suite")]
    NoCryptoSuite,
}

impl TranslateError {
    /// The SIP status this error earns: 488 where the description is valid
    /// but offers nothing the gateway can use, 400 where it is malformed.
    pub fn sip_status(&self) -> u16 {
        match self {
            TranslateError::NoAudio
            | TranslateError::NoCommonCodec
            | TranslateError::UnsupportedTransport(_)
            | TranslateError::NoCryptoSuite
            | TranslateError::Rejected => 488,
            TranslateError::Parse(e) => e.sip_status(),
            TranslateError::Attribute(_)
            | TranslateError::NoConnection
            | TranslateError::AnswerMismatch => 400,
        }
    }
}

/// How the PBX-side RTCP is announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RtcpMode {
    /// RTCP on the RTP port + 1, written as `a=rtcp:<port+1>`.
    #[default]
    NextPort,
    /// RTCP on the RTP port (`a=rtcp-mux`, RFC 5761).
    Mux,
}

/// The gateway's RTP address toward the PBX (`media.sip_ip` and a port of
/// `media.rtp_ports`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipSideAddr {
    /// The address written into PBX-side `c=` and `o=`.
    pub ip: IpAddr,
    /// The RTP port allocated for this call.
    pub rtp_port: u16,
}

/// What the gateway writes into PBX-side descriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxSide {
    /// The gateway's RTP address for this call.
    pub addr: SipSideAddr,
    /// How RTCP is announced.
    pub rtcp: RtcpMode,
    /// Which codecs are relayed.
    pub codecs: CodecPolicy,
    /// `a=ptime` to write, if any.
    pub ptime: Option<u32>,
    /// Plain RTP or SDES-SRTP (RFC 4568).
    pub srtp: PbxSrtp,
}

/// ICE credentials (RFC 8839 §5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceCredentials {
    /// `ice-ufrag`
    pub ufrag: String,
    /// `ice-pwd`
    pub pwd: String,
}

/// What the gateway writes into browser-side descriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebRtcSide {
    /// `media.public_ip`: the host candidate's address.
    pub public_ip: IpAddr,
    /// `media.webrtc_port`: the one UDP port of all browser legs.
    pub port: u16,
    /// The gateway's ICE credentials for this leg.
    pub ice: IceCredentials,
    /// The fingerprint of the gateway's DTLS certificate.
    pub fingerprint: Fingerprint,
    /// The role taken when the browser offers `actpass` (`passive` unless
    /// configured otherwise).
    pub setup_when_actpass: Setup,
}

/// The gateway's `o=` line for one side: session id and version (the caller
/// keeps them per dialog and bumps the version on each new offer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayOrigin {
    /// `sess-id`
    pub session_id: u64,
    /// `sess-version`
    pub version: u64,
}

/// What the browser said about its end of the media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserMedia {
    /// Its ICE credentials.
    pub ice: IceCredentials,
    /// Its certificate fingerprints (the DTLS peer must match one).
    pub fingerprints: Vec<Fingerprint>,
    /// Its `a=setup`.
    pub setup: Setup,
    /// Its candidates (mDNS names kept as written).
    pub candidates: Vec<Candidate>,
    /// Whether it has sent all its candidates.
    pub end_of_candidates: bool,
    /// The `mid` of its audio section.
    pub mid: Option<String>,
}

/// What the PBX said about its end of the media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxMedia {
    /// Where the PBX receives RTP; `None` on hold with `c=0.0.0.0` or when
    /// the address is a host name.
    pub rtp: Option<SocketAddr>,
    /// Where it receives RTCP (the RTP address when muxed).
    pub rtcp: Option<SocketAddr>,
    /// Whether RTCP is muxed on the RTP port.
    pub rtcp_mux: bool,
    /// Its direction, with a `c=0.0.0.0` hold folded in.
    pub direction: Direction,
    /// Its `a=ptime`.
    pub ptime: Option<u32>,
}

/// Index of the first audio section with a non-zero port.
fn audio_index(sdp: &SessionDescription) -> Result<usize, TranslateError> {
    sdp.media
        .iter()
        .position(|m| m.media == "audio" && m.port != 0)
        .ok_or(TranslateError::NoAudio)
}

fn is_webrtc_proto(proto: &str) -> bool {
    proto.eq_ignore_ascii_case("UDP/TLS/RTP/SAVPF")
        || proto.eq_ignore_ascii_case("UDP/TLS/RTP/SAVP")
}

fn is_plain_rtp_proto(proto: &str) -> bool {
    proto.eq_ignore_ascii_case("RTP/AVP") || proto.eq_ignore_ascii_case("RTP/AVPF")
}

/// Reads the browser's transport attributes (media level, else session
/// level, as Firefox writes its fingerprint).
fn browser_media(
    sdp: &SessionDescription,
    m: &MediaDescription,
    default_setup: Setup,
) -> Result<BrowserMedia, TranslateError> {
    let ufrag = m.ice_ufrag().or(sdp.ice_ufrag());
    let pwd = m.ice_pwd().or(sdp.ice_pwd());
    let (Some(ufrag), Some(pwd)) = (ufrag, pwd) else {
        return Err(TranslateError::Attribute("ice-ufrag"));
    };
    let mut fingerprints: Vec<Fingerprint> = m.fingerprints().collect();
    if fingerprints.is_empty() {
        fingerprints = sdp.fingerprints().collect();
    }
    if fingerprints.is_empty() {
        return Err(TranslateError::Attribute("fingerprint"));
    }
    let setup = match m.value("setup").or(sdp.value("setup")) {
        Some(v) => Setup::parse(v).ok_or(TranslateError::Attribute("setup"))?,
        None => default_setup,
    };
    Ok(BrowserMedia {
        ice: IceCredentials {
            ufrag: ufrag.into(),
            pwd: pwd.into(),
        },
        fingerprints,
        setup,
        candidates: m.candidates().collect(),
        end_of_candidates: m.end_of_candidates() || sdp.has("end-of-candidates"),
        mid: m.mid().map(str::to_owned),
    })
}

/// Reads the PBX's media endpoint and direction.
fn pbx_media(sdp: &SessionDescription, m: &MediaDescription) -> Result<PbxMedia, TranslateError> {
    let conn = m
        .connection
        .as_ref()
        .or(sdp.connection.as_ref())
        .ok_or(TranslateError::NoConnection)?;
    let hold = conn.is_unspecified();
    let mut direction = sdp.effective_direction(m);
    if hold {
        direction = direction.without_receive();
    }
    let ip = conn.ip_addr().filter(|ip| !ip.is_unspecified());
    let rtp = ip.map(|ip| SocketAddr::new(ip, m.port));
    let rtcp_mux = m.rtcp_mux();
    let rtcp = match (m.rtcp(), rtcp_mux) {
        (_, true) => rtp,
        (Some(Rtcp { port, connection }), false) => {
            let ip = match connection {
                Some(c) => c.ip_addr(),
                None => ip,
            };
            ip.filter(|ip| !ip.is_unspecified())
                .map(|ip| SocketAddr::new(ip, port))
        }
        (None, false) => ip.and_then(|ip| Some(SocketAddr::new(ip, m.port.checked_add(1)?))),
    };
    Ok(PbxMedia {
        rtp,
        rtcp,
        rtcp_mux,
        direction,
        ptime: m.ptime(),
    })
}

fn origin(ip: IpAddr, o: GatewayOrigin) -> Origin {
    Origin {
        username: "-".into(),
        session_id: o.session_id.to_string(),
        session_version: o.version.to_string(),
        address: Connection::ip(ip),
    }
}

/// Writes the formats, `rtpmap` and `fmtp` lines of `formats`.
fn write_formats(m: &mut MediaDescription, formats: &[PayloadFormat]) {
    m.formats = formats.iter().map(|f| f.payload_type.to_string()).collect();
    for f in formats {
        m.attributes
            .push(Attribute::new("rtpmap", f.codec.rtpmap(f.payload_type)));
        if let Some(params) = &f.fmtp {
            let fmtp = Fmtp {
                payload_type: f.payload_type,
                params: params.clone(),
            };
            m.attributes.push(Attribute::new("fmtp", fmtp));
        }
    }
}

/// A PBX-side description on the gateway's SIP-side address: RTP/AVP, or
/// RTP/SAVP with the gateway's `a=crypto` line.
fn pbx_description(
    side: &PbxSide,
    o: GatewayOrigin,
    formats: &[PayloadFormat],
    direction: Direction,
    ptime: Option<u32>,
    crypto: Option<Attribute>,
) -> SessionDescription {
    let mut sdp = SessionDescription::new(origin(side.addr.ip, o));
    sdp.connection = Some(Connection::ip(side.addr.ip));
    let proto = if crypto.is_some() {
        "RTP/SAVP"
    } else {
        "RTP/AVP"
    };
    let mut m = MediaDescription::new("audio", side.addr.rtp_port, proto, Vec::new());
    write_formats(&mut m, formats);
    m.attributes.extend(crypto);
    if let Some(p) = ptime.or(side.ptime) {
        m.attributes.push(Attribute::new("ptime", p));
    }
    match side.rtcp {
        RtcpMode::Mux => m.attributes.push(Attribute::flag("rtcp-mux")),
        RtcpMode::NextPort => {
            if let Some(port) = side.addr.rtp_port.checked_add(1) {
                m.attributes.push(Attribute::new("rtcp", port));
            }
        }
    }
    m.set_direction(direction);
    sdp.media.push(m);
    sdp
}

/// A browser-side description: ICE-lite, one host candidate, DTLS, BUNDLE
/// on `mid`, rtcp-mux.
fn browser_description(
    side: &WebRtcSide,
    o: GatewayOrigin,
    mid: &str,
    setup: Setup,
    formats: &[PayloadFormat],
    direction: Direction,
    ptime: Option<u32>,
) -> SessionDescription {
    let mut sdp = SessionDescription::new(origin(side.public_ip, o));
    sdp.attributes.push(Attribute::flag("ice-lite"));
    let bundle = Group {
        semantics: "BUNDLE".into(),
        mids: vec![mid.into()],
    };
    sdp.attributes.push(Attribute::new("group", bundle));
    let mut m = MediaDescription::new("audio", side.port, "UDP/TLS/RTP/SAVPF", Vec::new());
    m.connection = Some(Connection::ip(side.public_ip));
    let a = &mut m.attributes;
    a.push(Attribute::new("mid", mid));
    a.push(Attribute::new("ice-ufrag", &side.ice.ufrag));
    a.push(Attribute::new("ice-pwd", &side.ice.pwd));
    a.push(Attribute::new("fingerprint", &side.fingerprint));
    a.push(Attribute::new("setup", setup));
    a.push(Attribute::new(
        "candidate",
        Candidate::host("1", side.public_ip, side.port),
    ));
    a.push(Attribute::flag("end-of-candidates"));
    a.push(Attribute::flag("rtcp-mux"));
    write_formats(&mut m, formats);
    if let Some(p) = ptime {
        m.attributes.push(Attribute::new("ptime", p));
    }
    m.set_direction(direction);
    sdp.media.push(m);
    sdp
}

/// A refused copy of an offered section, for the answer (RFC 3264 §6): port
/// 0, the first format, and the `mid` when the offer had one.
fn refused(offered: &MediaDescription) -> MediaDescription {
    let fmt = offered.formats.first().cloned().into_iter().collect();
    let mut m = MediaDescription::new(&offered.media, 0, &offered.proto, fmt);
    if let Some(mid) = offered.mid() {
        m.attributes.push(Attribute::new("mid", mid));
    }
    m
}

/// The answerer's formats for the agreed pairs, with the answerer's
/// `fmtp` where it wrote one and the offerer's otherwise.
fn answer_formats(
    map: &PayloadMap,
    to_browser: bool,
    browser: &[PayloadFormat],
    pbx: &[PayloadFormat],
) -> Vec<PayloadFormat> {
    let fmtp = |side: &[PayloadFormat], pt: u8| {
        side.iter()
            .find(|f| f.payload_type == pt)
            .and_then(|f| f.fmtp.clone())
    };
    map.pairs()
        .iter()
        .map(|p| {
            let (pt, own, other) = if to_browser {
                (p.browser, fmtp(pbx, p.pbx), fmtp(browser, p.browser))
            } else {
                (p.pbx, fmtp(browser, p.browser), fmtp(pbx, p.pbx))
            };
            PayloadFormat {
                payload_type: pt,
                codec: p.codec.clone(),
                fmtp: own.or(other),
            }
        })
        .collect()
}
