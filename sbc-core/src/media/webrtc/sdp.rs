//! The SDP of a browser leg: what the leg reads from the browser's offer or
//! answer ([`Remote`]) and the answer or offer it writes (JSEP, RFC 8829):
//! one audio m-line, ICE-lite with one host candidate, the gateway's DTLS
//! fingerprint, rtcp-mux and BUNDLE. Every other m-line of a browser offer
//! (video, data channels, a second audio) is rejected with port 0.
//!
//! The leg's answer carries no `a=extmap` (the browser then sends no header
//! extensions the relay would have to strip or honour) and no `a=rtcp-fb`
//! (no NACK, no transport-cc: audio is not retransmitted and the gateway
//! does no bandwidth estimation). It names its one SSRC with a CNAME and an
//! `a=msid`, so the browser's track belongs to a stream.

use std::net::SocketAddr;

use crate::sdp::{
    Attribute, Candidate, Codec, CodecPolicy, Connection, Direction, Fingerprint, Limits,
    MediaDescription, Origin, PayloadFormat, SessionDescription, Setup,
};

use super::error::WebRtcError;
use crate::media::webrtc_lite::IceCredentials;

/// The transport protocols of a WebRTC audio m-line (RFC 8829 §5.1.2;
/// `UDP/TLS/RTP/SAVP` is what some older peers write).
const WEBRTC_PROTOS: [&str; 2] = ["UDP/TLS/RTP/SAVPF", "UDP/TLS/RTP/SAVP"];

/// The mid of the audio m-line of the leg's own offers.
pub(super) const OFFER_MID: &str = "0";

/// What the browser's SDP tells the leg about its audio.
#[derive(Debug, Clone)]
pub(super) struct Remote {
    /// The audio m-line's `a=mid`.
    pub mid: String,
    /// The browser's ICE ufrag.
    pub ice_ufrag: String,
    /// The browser's certificate fingerprint.
    pub fingerprint: Fingerprint,
    /// The browser's `a=setup`.
    pub setup: Setup,
    /// The audio formats both sides may use, in the browser's order and
    /// numbering.
    pub formats: Vec<PayloadFormat>,
    /// The browser's direction.
    pub direction: Direction,
}

/// What the leg's own SDP says.
pub(super) struct Local<'a> {
    /// The `o=` session id and version.
    pub session_id: u64,
    pub version: u64,
    /// The one host candidate (`media.public_ip`, `media.webrtc_port`).
    pub addr: SocketAddr,
    pub ice: &'a IceCredentials,
    pub fingerprint: &'a Fingerprint,
    pub setup: Setup,
    pub ssrc: u32,
    pub cname: &'a str,
}

/// A browser's offer, read: the description, the index of the audio m-line
/// the leg takes, and what it says.
pub(super) struct ReadOffer {
    pub sdp: SessionDescription,
    pub audio: usize,
    pub remote: Remote,
}

fn parse(text: &str) -> Result<SessionDescription, String> {
    SessionDescription::parse(text.as_bytes(), &Limits::default()).map_err(|e| e.to_string())
}

/// A media-level value, else the session's (ICE and DTLS attributes may sit
/// at either level, RFC 8839 §5.4, RFC 8122 §5).
fn either<'a>(sdp: &'a SessionDescription, m: &'a MediaDescription, name: &str) -> Option<&'a str> {
    m.value(name).or_else(|| sdp.value(name))
}

/// What the browser's section `m` says, with the formats kept by `keep`.
fn remote_of(
    sdp: &SessionDescription,
    m: &MediaDescription,
    keep: impl Fn(&PayloadFormat) -> bool,
) -> Result<Remote, String> {
    let mid = m.mid().ok_or("the audio m-line has no a=mid")?.to_owned();
    let ice_ufrag = either(sdp, m, "ice-ufrag")
        .ok_or("no a=ice-ufrag")?
        .to_owned();
    either(sdp, m, "ice-pwd").ok_or("no a=ice-pwd")?;
    let fingerprint = m
        .fingerprints()
        .next()
        .or_else(|| sdp.values("fingerprint").find_map(Fingerprint::parse))
        .ok_or("no a=fingerprint")?;
    // RFC 4145 §4: an absent a=setup means active.
    let setup = m
        .setup()
        .or_else(|| sdp.value("setup").and_then(Setup::parse))
        .unwrap_or(Setup::Active);
    let formats: Vec<PayloadFormat> = PayloadFormat::all_of(m).into_iter().filter(keep).collect();
    if !formats.iter().any(|f| !f.codec.is_telephone_event()) {
        return Err("no audio codec in common".into());
    }
    Ok(Remote {
        mid,
        ice_ufrag,
        fingerprint,
        setup,
        formats,
        direction: sdp.effective_direction(m),
    })
}

/// Reads a browser's offer: the first audio m-line on a WebRTC transport,
/// with the formats of `codecs` (matched by family; telephone-event only at
/// a kept codec's clock rate).
pub(super) fn read_offer(offer: &str, codecs: &[Codec]) -> Result<ReadOffer, WebRtcError> {
    let sdp = parse(offer).map_err(WebRtcError::OfferSyntax)?;
    let audio = sdp
        .media
        .iter()
        .position(|m| m.media == "audio" && m.port != 0 && WEBRTC_PROTOS.contains(&&*m.proto))
        .ok_or(WebRtcError::NoAudio)?;
    let policy = CodecPolicy {
        allowed: codecs.to_vec(),
    };
    let m = &sdp.media[audio];
    let kept = policy.filter(&PayloadFormat::all_of(m));
    let remote = remote_of(&sdp, m, |f| kept.contains(f)).map_err(WebRtcError::OfferRejected)?;
    Ok(ReadOffer { sdp, audio, remote })
}

/// Reads the browser's answer to the leg's offer of `offered`.
pub(super) fn read_answer(answer: &str, offered: &[PayloadFormat]) -> Result<Remote, WebRtcError> {
    let sdp = parse(answer).map_err(WebRtcError::AnswerRejected)?;
    let m = sdp
        .media
        .iter()
        .find(|m| m.media == "audio" && m.port != 0)
        .ok_or(WebRtcError::NoAudio)?;
    remote_of(&sdp, m, |f| {
        offered
            .iter()
            .any(|o| o.payload_type == f.payload_type && o.codec.matches(&f.codec))
    })
    .map_err(WebRtcError::AnswerRejected)
}

/// The leg's formats for an offer of `codecs`: the payload types browsers
/// use for them (Opus 111, G.722 9, PCMU 0, PCMA 8; telephone-event 126 at
/// 48 kHz next to Opus, 101 at 8 kHz next to the others).
pub(super) fn offer_formats(codecs: &[Codec]) -> Vec<PayloadFormat> {
    let has = |c: &Codec| codecs.iter().any(|a| a.same_family(c));
    let format = |pt: u8, codec: Codec, fmtp: Option<&str>| PayloadFormat {
        payload_type: pt,
        codec,
        fmtp: fmtp.map(str::to_owned),
    };
    let mut out: Vec<PayloadFormat> = codecs
        .iter()
        .filter_map(|codec| match codec {
            Codec::Opus => Some(format(111, Codec::Opus, Some("minptime=10;useinbandfec=1"))),
            Codec::G722 => Some(format(9, Codec::G722, None)),
            Codec::Pcmu => Some(format(0, Codec::Pcmu, None)),
            Codec::Pcma => Some(format(8, Codec::Pcma, None)),
            _ => None,
        })
        .collect();
    let events = has(&Codec::TelephoneEvent { clock_rate: 8000 });
    let rates: Vec<u32> = out.iter().map(|f| f.codec.clock_rate()).collect();
    if events && rates.contains(&48000) {
        out.push(format(
            126,
            Codec::TelephoneEvent { clock_rate: 48000 },
            Some("0-16"),
        ));
    }
    if events && rates.contains(&8000) {
        out.push(format(
            101,
            Codec::TelephoneEvent { clock_rate: 8000 },
            Some("0-16"),
        ));
    }
    out
}

/// The leg's answer to `offer`: the audio m-line `audio` accepted with
/// `formats` and `direction`, every other one rejected.
pub(super) fn write_answer(
    offer: &SessionDescription,
    audio: usize,
    local: &Local<'_>,
    formats: &[PayloadFormat],
    direction: Direction,
) -> String {
    let mut sdp = session(local);
    for (i, m) in offer.media.iter().enumerate() {
        if i == audio {
            let mid = m.mid().unwrap_or(OFFER_MID);
            sdp.attributes
                .push(Attribute::new("group", format!("BUNDLE {mid}")));
            sdp.media
                .push(audio_section(local, mid, formats, direction));
        } else {
            sdp.media.push(rejected(m));
        }
    }
    sdp.to_string()
}

/// The leg's offer of `formats` (a call from the PBX): `a=setup:actpass`.
pub(super) fn write_offer(local: &Local<'_>, formats: &[PayloadFormat]) -> String {
    let mut sdp = session(local);
    sdp.attributes
        .push(Attribute::new("group", format!("BUNDLE {OFFER_MID}")));
    sdp.media.push(audio_section(
        local,
        OFFER_MID,
        formats,
        Direction::SendRecv,
    ));
    sdp.to_string()
}

fn session(local: &Local<'_>) -> SessionDescription {
    let mut sdp = SessionDescription::new(Origin {
        username: "-".into(),
        session_id: local.session_id.to_string(),
        session_version: local.version.to_string(),
        address: Connection::ip(local.addr.ip()),
    });
    sdp.attributes.push(Attribute::flag("ice-lite"));
    sdp.attributes
        .push(Attribute::new("msid-semantic", " WMS *"));
    sdp
}

fn audio_section(
    local: &Local<'_>,
    mid: &str,
    formats: &[PayloadFormat],
    direction: Direction,
) -> MediaDescription {
    let pts = formats.iter().map(|f| f.payload_type.to_string()).collect();
    let mut m = MediaDescription::new("audio", local.addr.port(), WEBRTC_PROTOS[0], pts);
    m.connection = Some(Connection::ip(local.addr.ip()));
    let a = &mut m.attributes;
    a.push(Attribute::new("mid", mid));
    a.push(Attribute::new("ice-ufrag", &local.ice.ufrag));
    a.push(Attribute::new("ice-pwd", &local.ice.pwd));
    a.push(Attribute::new("fingerprint", local.fingerprint));
    a.push(Attribute::new("setup", local.setup));
    a.push(Attribute::flag(direction.as_str()));
    a.push(Attribute::flag("rtcp-mux"));
    for f in formats {
        a.push(Attribute::new("rtpmap", f.codec.rtpmap(f.payload_type)));
        if let Some(params) = &f.fmtp {
            a.push(Attribute::new(
                "fmtp",
                format!("{} {params}", f.payload_type),
            ));
        }
    }
    a.push(Attribute::new(
        "msid",
        format!("{cname} {cname}-audio", cname = local.cname),
    ));
    a.push(Attribute::new(
        "ssrc",
        format!("{} cname:{}", local.ssrc, local.cname),
    ));
    let host = Candidate::host("1", local.addr.ip(), local.addr.port());
    a.push(Attribute::new("candidate", host));
    a.push(Attribute::flag("end-of-candidates"));
    m
}

/// An offered m-line the leg does not take: port 0, its first format, its
/// mid (RFC 8843 §7.3.3: a rejected section keeps its mid, outside BUNDLE).
fn rejected(m: &MediaDescription) -> MediaDescription {
    let formats = m.formats.first().cloned().into_iter().collect();
    let mut out = MediaDescription::new(&m.media, 0, &m.proto, formats);
    if let Some(mid) = m.mid() {
        out.attributes.push(Attribute::new("mid", mid));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        a=group:BUNDLE 0 1\r\na=msid-semantic: WMS\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\n\
        a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n\
        a=ice-options:trickle\r\n\
        a=fingerprint:sha-256 01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F:20\r\n\
        a=setup:actpass\r\na=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
        a=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n\
        a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\na=rtpmap:9 G722/8000\r\n\
        a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\n\
        a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n\
        a=ssrc:1111 cname:browser\r\n\
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n\
        a=sctp-port:5000\r\n";

    fn local<'a>(ice: &'a IceCredentials, fp: &'a Fingerprint) -> Local<'a> {
        Local {
            session_id: 7,
            version: 1,
            addr: "203.0.113.5:3478".parse().unwrap(),
            ice,
            fingerprint: fp,
            setup: Setup::Passive,
            ssrc: 4242,
            cname: "gwcname",
        }
    }

    #[test]
    fn a_chrome_offer_is_answered_with_audio_only_and_the_data_channel_rejected() {
        let read = read_offer(CHROME_OFFER, &CodecPolicy::default().allowed).unwrap();
        let pts: Vec<u8> = read.remote.formats.iter().map(|f| f.payload_type).collect();
        assert_eq!(pts, [111, 9, 0, 8, 110, 126], "red and CN are not relayed");
        assert_eq!(read.remote.setup, Setup::ActPass);
        assert_eq!(read.remote.ice_ufrag, "abcd");
        let ice = IceCredentials {
            ufrag: "ours".into(),
            pwd: "ourpassword".into(),
        };
        let fp = read.remote.fingerprint.clone();
        let answer = write_answer(
            &read.sdp,
            read.audio,
            &local(&ice, &fp),
            &read.remote.formats,
            Direction::SendRecv,
        );
        for line in [
            "a=ice-lite",
            "a=group:BUNDLE 0",
            "m=audio 3478 UDP/TLS/RTP/SAVPF 111 9 0 8 110 126",
            "c=IN IP4 203.0.113.5",
            "a=setup:passive",
            "a=rtcp-mux",
            "a=rtpmap:111 opus/48000/2",
            "a=fmtp:111 minptime=10;useinbandfec=1",
            "a=ssrc:4242 cname:gwcname",
            "a=candidate:1 1 UDP 2130706431 203.0.113.5 3478 typ host",
            "m=application 0 UDP/DTLS/SCTP webrtc-datachannel",
            "a=mid:1",
        ] {
            assert!(
                answer.contains(&format!("{line}\r\n")),
                "{line} in\n{answer}"
            );
        }
        assert!(!answer.contains("extmap") && !answer.contains("rtcp-fb"));
        assert!(!answer.contains("1111") && !answer.contains("abcd"));
    }

    #[test]
    fn offers_without_a_usable_audio_line_or_credentials_are_refused() {
        let video_only = CHROME_OFFER.replace("m=audio", "m=video");
        assert!(matches!(
            read_offer(&video_only, &CodecPolicy::default().allowed),
            Err(WebRtcError::NoAudio)
        ));
        let plain = CHROME_OFFER.replace("UDP/TLS/RTP/SAVPF", "RTP/AVP");
        assert!(matches!(
            read_offer(&plain, &CodecPolicy::default().allowed),
            Err(WebRtcError::NoAudio)
        ));
        let no_fp: String = CHROME_OFFER
            .split("\r\n")
            .filter(|l| !l.starts_with("a=fingerprint"))
            .map(|l| format!("{l}\r\n"))
            .collect();
        assert!(matches!(
            read_offer(&no_fp, &CodecPolicy::default().allowed),
            Err(WebRtcError::OfferRejected(_))
        ));
        assert!(matches!(
            read_offer(
                CHROME_OFFER,
                &[Codec::Other {
                    name: "G729".into(),
                    clock_rate: 8000,
                    channels: 1
                }]
            ),
            Err(WebRtcError::OfferRejected(_))
        ));
        assert!(matches!(
            read_offer("garbage", &[]),
            Err(WebRtcError::OfferSyntax(_))
        ));
    }

    #[test]
    fn the_legs_offer_reads_back_as_the_browsers_answer_would() {
        let formats = offer_formats(&[
            Codec::Pcmu,
            Codec::Opus,
            Codec::TelephoneEvent { clock_rate: 8000 },
        ]);
        let pts: Vec<u8> = formats.iter().map(|f| f.payload_type).collect();
        assert_eq!(pts, [0, 111, 126, 101]);
        let ice = IceCredentials {
            ufrag: "ours".into(),
            pwd: "ourpassword".into(),
        };
        let fp = Fingerprint::parse("sha-256 01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F:20").unwrap();
        let mut l = local(&ice, &fp);
        l.setup = Setup::ActPass;
        let offer = write_offer(&l, &formats);
        assert!(offer.contains("a=setup:actpass\r\n"), "{offer}");
        // The leg's own offer, read as if the browser had answered with it.
        let remote = read_answer(&offer, &formats).unwrap();
        assert_eq!(remote.formats, formats);
        assert_eq!(remote.mid, OFFER_MID);
    }
}
