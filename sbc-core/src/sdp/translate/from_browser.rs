//! Calls from the browser: its offer becomes the PBX's offer, and the PBX's
//! answer becomes the browser's answer.

use super::sdes::{self, OFFER_PROFILE, OFFER_TAG, PbxSrtp, SdesKeys};
use super::{
    BrowserMedia, GatewayOrigin, PbxMedia, PbxSide, TranslateError, WebRtcSide, answer_formats,
    audio_index, browser_description, browser_media, is_plain_rtp_proto, is_webrtc_proto,
    pbx_description, pbx_media, refused,
};
use crate::media::srtp::MasterKey;
use crate::sdp::codec::{PayloadFormat, PayloadMap};
use crate::sdp::direction::Direction;
use crate::sdp::dtls::Setup;
use crate::sdp::model::SessionDescription;

/// The browser's offer, as far as the answer to it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserOffer {
    /// The whole offer (its other sections are refused in the answer).
    pub offer: SessionDescription,
    /// Which section is the relayed audio.
    pub audio: usize,
    /// The browser's transport.
    pub browser: BrowserMedia,
    /// The formats offered to the PBX, with the browser's payload types.
    pub formats: Vec<PayloadFormat>,
    /// The direction the browser offered.
    pub direction: Direction,
    /// The gateway's key, when the PBX was offered RTP/SAVP.
    pub sdes: Option<MasterKey>,
}

/// The result of [`browser_offer_to_pbx`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxOffer {
    /// The offer to send to the PBX.
    pub sdp: SessionDescription,
    /// What [`pbx_answer_to_browser`] needs.
    pub pending: BrowserOffer,
}

/// The result of [`pbx_answer_to_browser`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserAnswer {
    /// The answer to send to the browser.
    pub sdp: SessionDescription,
    /// Browser payload type ⇄ PBX payload type.
    pub payload_map: PayloadMap,
    /// The browser's transport, from its offer.
    pub browser: BrowserMedia,
    /// The PBX's media endpoint, from its answer.
    pub pbx: PbxMedia,
    /// The gateway's DTLS role (`passive`: DTLS server; `active`: client).
    pub setup: Setup,
    /// The direction written in the browser's answer.
    pub direction: Direction,
    /// The SDES keys of the PBX leg, when it is SRTP.
    pub sdes: Option<SdesKeys>,
}

/// Turns a browser's WebRTC offer into an RTP/AVP offer for the PBX on the
/// gateway's SIP-side address, with the browser's codecs that the policy
/// allows (and their payload types) and the browser's direction. With
/// [`PbxSrtp::Sdes`] the offer is RTP/SAVP with
/// `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<the gateway's key>`.
pub fn browser_offer_to_pbx(
    offer: &SessionDescription,
    pbx: &PbxSide,
    origin: GatewayOrigin,
) -> Result<PbxOffer, TranslateError> {
    let audio = audio_index(offer)?;
    let m = &offer.media[audio];
    if !is_webrtc_proto(&m.proto) {
        return Err(TranslateError::UnsupportedTransport(m.proto.clone()));
    }
    // RFC 4145 §4.1: an offer without a=setup means active.
    let browser = browser_media(offer, m, Setup::Active)?;
    let formats = pbx.codecs.filter(&PayloadFormat::all_of(m));
    if formats.iter().all(|f| f.codec.is_telephone_event()) {
        return Err(TranslateError::NoCommonCodec);
    }
    let direction = offer.effective_direction(m);
    let sdes = match &pbx.srtp {
        PbxSrtp::Off => None,
        PbxSrtp::Sdes(key) => Some(key.clone()),
    };
    let crypto = sdes
        .as_ref()
        .map(|key| sdes::crypto_attribute(OFFER_TAG, OFFER_PROFILE, key));
    let sdp = pbx_description(pbx, origin, &formats, direction, None, crypto);
    Ok(PbxOffer {
        sdp,
        pending: BrowserOffer {
            offer: offer.clone(),
            audio,
            browser,
            formats,
            direction,
            sdes,
        },
    })
}

/// What the PBX's answer to a browser offer says about media, without the
/// browser's answer: for a browser leg that answered the browser itself
/// (the WebRTC leg writes that answer) and only needs the relay's side of
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxAnswerMedia {
    /// Browser payload type ⇄ PBX payload type.
    pub payload_map: PayloadMap,
    /// The PBX's media endpoint.
    pub pbx: PbxMedia,
    /// The formats of the PBX's answer, in its order.
    pub pbx_formats: Vec<PayloadFormat>,
    /// The SDES keys, when the PBX was offered RTP/SAVP (its answer must
    /// be RTP/SAVP with a key on the offered tag and suite).
    pub sdes: Option<SdesKeys>,
}

/// Reads the PBX's answer to the offer [`browser_offer_to_pbx`] made: the
/// payload map against the browser's offered formats and the PBX's media
/// endpoint. [`pbx_answer_to_browser`] is this plus the browser's answer.
pub fn pbx_answer_media(
    pending: &BrowserOffer,
    answer: &SessionDescription,
) -> Result<PbxAnswerMedia, TranslateError> {
    let m = answer
        .media
        .iter()
        .find(|m| m.media == "audio")
        .ok_or(TranslateError::AnswerMismatch)?;
    if m.port == 0 {
        return Err(TranslateError::Rejected);
    }
    let sdes = match &pending.sdes {
        None if is_plain_rtp_proto(&m.proto) => None,
        Some(ours) if sdes::is_sdes_proto(&m.proto) => Some(sdes::read_answer(m, ours)?),
        _ => return Err(TranslateError::UnsupportedTransport(m.proto.clone())),
    };
    let pbx = pbx_media(answer, m)?;
    let pbx_formats = PayloadFormat::all_of(m);
    let payload_map = PayloadMap::negotiate(&pending.formats, &pbx_formats, true);
    if !payload_map.has_audio() {
        return Err(TranslateError::NoCommonCodec);
    }
    Ok(PbxAnswerMedia {
        payload_map,
        pbx,
        pbx_formats,
        sdes,
    })
}

/// Turns the PBX's answer into the browser's answer: ICE-lite on the
/// gateway's candidate, its fingerprint, the setup role answering the
/// browser's, the offer's `mid` in a BUNDLE group, rtcp-mux, the PBX's codecs
/// on the browser's payload types, and the PBX's direction.
pub fn pbx_answer_to_browser(
    pending: &BrowserOffer,
    answer: &SessionDescription,
    webrtc: &WebRtcSide,
    origin: GatewayOrigin,
) -> Result<BrowserAnswer, TranslateError> {
    let PbxAnswerMedia {
        payload_map,
        pbx,
        pbx_formats,
        sdes,
    } = pbx_answer_media(pending, answer)?;
    let formats = answer_formats(&payload_map, true, &pending.formats, &pbx_formats);
    let setup = pending.browser.setup.answer(webrtc.setup_when_actpass);
    let direction = pending.direction.answer(pbx.direction);
    let mid = pending.browser.mid.as_deref().unwrap_or("0");
    let mut sdp = browser_description(webrtc, origin, mid, setup, &formats, direction, pbx.ptime);
    let audio = sdp
        .media
        .pop()
        .expect("browser_description writes one section");
    for (i, offered) in pending.offer.media.iter().enumerate() {
        if i == pending.audio {
            sdp.media.push(audio.clone());
        } else {
            sdp.media.push(refused(offered));
        }
    }
    Ok(BrowserAnswer {
        sdp,
        payload_map,
        browser: pending.browser.clone(),
        pbx,
        setup,
        direction,
        sdes,
    })
}
