//! Calls from the PBX: its offer becomes the browser's offer, and the
//! browser's answer becomes the PBX's answer.

use super::sdes::{self, PbxSrtp, SdesKeys};
use super::{
    BrowserMedia, GatewayOrigin, PbxMedia, PbxSide, TranslateError, WebRtcSide, answer_formats,
    audio_index, browser_description, browser_media, is_plain_rtp_proto, is_webrtc_proto,
    pbx_description, pbx_media, refused,
};
use crate::sdp::codec::{CodecPolicy, PayloadFormat, PayloadMap};
use crate::sdp::direction::Direction;
use crate::sdp::dtls::Setup;
use crate::sdp::model::SessionDescription;

/// The `mid` of the audio section in the gateway's offers.
const MID: &str = "0";

/// The PBX's offer, as far as the answer to it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxOffered {
    /// The whole offer (its other sections are refused in the answer).
    pub offer: SessionDescription,
    /// Which section is the relayed audio.
    pub audio: usize,
    /// The PBX's media endpoint.
    pub pbx: PbxMedia,
    /// The formats offered to the browser, with the PBX's payload types.
    pub formats: Vec<PayloadFormat>,
    /// The SDES keys, when the PBX offered RTP/SAVP: its key and the
    /// gateway's, for the answer's `a=crypto` line.
    pub sdes: Option<SdesKeys>,
}

/// The result of [`pbx_offer_to_browser`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserOfferOut {
    /// The offer to send to the browser.
    pub sdp: SessionDescription,
    /// What [`browser_answer_to_pbx`] needs.
    pub pending: PbxOffered,
}

/// The result of [`browser_answer_to_pbx`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxAnswer {
    /// The answer to send to the PBX.
    pub sdp: SessionDescription,
    /// Browser payload type ⇄ PBX payload type.
    pub payload_map: PayloadMap,
    /// The browser's transport, from its answer.
    pub browser: BrowserMedia,
    /// The PBX's media endpoint, from its offer.
    pub pbx: PbxMedia,
    /// The gateway's DTLS role: the opposite of the browser's.
    pub setup: Setup,
    /// The direction written in the PBX's answer.
    pub direction: Direction,
    /// The SDES keys of the PBX leg, when it is SRTP.
    pub sdes: Option<SdesKeys>,
}

/// Turns a PBX's RTP/AVP offer into a WebRTC offer for the browser: the
/// gateway's ICE-lite credentials, candidate and fingerprint, `setup:actpass`,
/// `mid` 0 in a BUNDLE group, rtcp-mux, and the PBX's allowed codecs with the
/// PBX's payload types. A `c=0.0.0.0` hold becomes `sendonly` (or
/// `inactive`).
///
/// An RTP/SAVP offer is taken only with [`PbxSrtp::Sdes`]: the first
/// `a=crypto` line with a supported suite is answered with the gateway's
/// key (488 if there is none).
pub fn pbx_offer_to_browser(
    offer: &SessionDescription,
    webrtc: &WebRtcSide,
    codecs: &CodecPolicy,
    srtp: &PbxSrtp,
    origin: GatewayOrigin,
) -> Result<BrowserOfferOut, TranslateError> {
    let pending = read_pbx_offer(offer, codecs, srtp)?;
    let sdp = browser_description(
        webrtc,
        origin,
        MID,
        Setup::ActPass,
        &pending.formats,
        pending.pbx.direction,
        pending.pbx.ptime,
    );
    Ok(BrowserOfferOut { sdp, pending })
}

/// What a PBX's offer says, for a browser offer written elsewhere (the
/// WebRTC leg writes its own): the audio section, the PBX's endpoint, the
/// allowed formats on the PBX's payload types, and the SDES keys.
pub fn read_pbx_offer(
    offer: &SessionDescription,
    codecs: &CodecPolicy,
    srtp: &PbxSrtp,
) -> Result<PbxOffered, TranslateError> {
    let audio = audio_index(offer)?;
    let m = &offer.media[audio];
    let sdes = match srtp {
        _ if is_plain_rtp_proto(&m.proto) => None,
        PbxSrtp::Sdes(ours) if sdes::is_sdes_proto(&m.proto) => {
            Some(sdes::choose_offered(m, ours)?)
        }
        _ => return Err(TranslateError::UnsupportedTransport(m.proto.clone())),
    };
    let pbx = pbx_media(offer, m)?;
    let formats = codecs.filter(&PayloadFormat::all_of(m));
    if formats.iter().all(|f| f.codec.is_telephone_event()) {
        return Err(TranslateError::NoCommonCodec);
    }
    Ok(PbxOffered {
        offer: offer.clone(),
        audio,
        pbx,
        formats,
        sdes,
    })
}

/// Turns the browser's answer into the PBX's answer: RTP/AVP (RTP/SAVP with
/// the gateway's key on the PBX's chosen tag, if it offered SDES) on the
/// gateway's SIP-side address, the codecs the browser accepted on the PBX's
/// payload types, and the browser's direction.
pub fn browser_answer_to_pbx(
    pending: &PbxOffered,
    answer: &SessionDescription,
    pbx_side: &PbxSide,
    origin: GatewayOrigin,
) -> Result<PbxAnswer, TranslateError> {
    let m = answer
        .media
        .iter()
        .find(|m| m.media == "audio")
        .ok_or(TranslateError::AnswerMismatch)?;
    if m.port == 0 {
        return Err(TranslateError::Rejected);
    }
    if !is_webrtc_proto(&m.proto) {
        return Err(TranslateError::UnsupportedTransport(m.proto.clone()));
    }
    // RFC 4145 §4.1: an answer without a=setup means active.
    let browser = browser_media(answer, m, Setup::Active)?;
    let setup = match browser.setup {
        Setup::Active => Setup::Passive,
        Setup::Passive => Setup::Active,
        Setup::HoldConn => Setup::HoldConn,
        Setup::ActPass => return Err(TranslateError::Attribute("setup")),
    };
    let browser_formats = PayloadFormat::all_of(m);
    let payload_map = PayloadMap::negotiate(&pending.formats, &browser_formats, false);
    if !payload_map.has_audio() {
        return Err(TranslateError::NoCommonCodec);
    }
    let formats = answer_formats(&payload_map, false, &browser_formats, &pending.formats);
    let direction = pending.pbx.direction.answer(answer.effective_direction(m));
    let crypto = pending
        .sdes
        .as_ref()
        .map(|k| sdes::crypto_attribute(k.tag, k.profile, &k.send));
    let mut sdp = pbx_description(pbx_side, origin, &formats, direction, None, crypto);
    let audio = sdp.media.pop().expect("pbx_description writes one section");
    for (i, offered) in pending.offer.media.iter().enumerate() {
        if i == pending.audio {
            sdp.media.push(audio.clone());
        } else {
            sdp.media.push(refused(offered));
        }
    }
    Ok(PbxAnswer {
        sdp,
        payload_map,
        browser,
        pbx: pending.pbx.clone(),
        setup,
        direction,
        sdes: pending.sdes.clone(),
    })
}
