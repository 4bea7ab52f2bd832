//! SDES (RFC 4568) on the PBX side: whether the gateway speaks RTP/SAVP to
//! the PBX, the `a=crypto` line it writes, and the keys it reads back.
//!
//! Minimal by design: one key per line, no MKI, no session parameters
//! (`KDR`, `UNENCRYPTED_SRTP`…), which RFC 4568 §6.3.2 lets an answerer
//! refuse; a key lifetime is accepted and not enforced.

use super::{TranslateError, audio_index};
use crate::media::srtp::{MasterKey, SrtpProfile};
use crate::sdp::crypto::{Crypto, KeyParam};
use crate::sdp::model::{Attribute, MediaDescription, SessionDescription};

/// Whether the PBX leg uses SDES-SRTP.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PbxSrtp {
    /// Plain RTP/AVP; a PBX offering RTP/SAVP gets 488.
    #[default]
    Off,
    /// Offer RTP/SAVP with `AES_CM_128_HMAC_SHA1_80` and this key (the
    /// gateway's, drawn from the caller's RNG), and answer a PBX's RTP/SAVP
    /// offer with it. Plain RTP/AVP offers from the PBX are still answered.
    Sdes(MasterKey),
}

/// The SDES keys agreed for the PBX leg. `Debug` shows no key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesKeys {
    /// The tag of the agreed `a=crypto` line.
    pub tag: u32,
    /// The agreed suite.
    pub profile: SrtpProfile,
    /// The gateway's key: protects what it sends to the PBX.
    pub send: MasterKey,
    /// The PBX's key: unprotects what the PBX sends.
    pub receive: MasterKey,
}

/// The tag of the gateway's one offered line.
pub(super) const OFFER_TAG: u32 = 1;

/// The suite the gateway offers.
pub(super) const OFFER_PROFILE: SrtpProfile = SrtpProfile::AesCm128HmacSha1_80;

/// `RTP/SAVP` or `RTP/SAVPF`.
pub(super) fn is_sdes_proto(proto: &str) -> bool {
    proto.eq_ignore_ascii_case("RTP/SAVP") || proto.eq_ignore_ascii_case("RTP/SAVPF")
}

/// The `a=crypto` line for `key`.
pub(super) fn crypto_attribute(tag: u32, profile: SrtpProfile, key: &MasterKey) -> Attribute {
    let crypto = Crypto {
        tag,
        suite: profile.sdes_name().into(),
        keys: vec![KeyParam::Inline {
            key_salt: key.to_base64(),
            lifetime: None,
            mki: None,
        }],
        session_params: Vec::new(),
    };
    Attribute::new("crypto", crypto)
}

/// The suite and key of a line the gateway can use, if it can.
fn usable(c: &Crypto) -> Option<(SrtpProfile, MasterKey)> {
    let profile = SrtpProfile::from_sdes_name(&c.suite)?;
    if !c.session_params.is_empty() {
        return None;
    }
    match c.keys.as_slice() {
        [
            KeyParam::Inline {
                key_salt,
                mki: None,
                ..
            },
        ] => Some((profile, MasterKey::from_base64(key_salt)?)),
        _ => None,
    }
}

/// Answers a PBX offer: its first line the gateway can use (RFC 4568
/// §7.1.1: the offerer's order of preference), paired with `ours`; 488 if
/// there is none.
pub(super) fn choose_offered(
    m: &MediaDescription,
    ours: &MasterKey,
) -> Result<SdesKeys, TranslateError> {
    m.cryptos()
        .find_map(|c| {
            let (profile, receive) = usable(&c)?;
            Some(SdesKeys {
                tag: c.tag,
                profile,
                send: ours.clone(),
                receive,
            })
        })
        .ok_or(TranslateError::NoCryptoSuite)
}

/// The PBX answer's key for the gateway's offered line: same tag, same
/// suite (RFC 4568 §7.1.2).
pub(super) fn read_answer(
    m: &MediaDescription,
    ours: &MasterKey,
) -> Result<SdesKeys, TranslateError> {
    line_in_use(m, OFFER_TAG, OFFER_PROFILE, ours)
}

/// The PBX's keys in its re-offer of a call whose keys are `keys`: the
/// line of the tag and suite in use, since the gateway answers a re-offer
/// with its last description, that line's (RFC 4568 §7.1.4). The PBX's key
/// may be new; the gateway's stays. A re-offer without SRTP, or without
/// that line, is an error.
pub fn reoffered_keys(
    offer: &SessionDescription,
    keys: &SdesKeys,
) -> Result<SdesKeys, TranslateError> {
    let m = &offer.media[audio_index(offer)?];
    if !is_sdes_proto(&m.proto) {
        return Err(TranslateError::UnsupportedTransport(m.proto.clone()));
    }
    line_in_use(m, keys.tag, keys.profile, &keys.send)
}

/// The line of `tag`, which must be of suite `profile`, paired with `ours`.
fn line_in_use(
    m: &MediaDescription,
    tag: u32,
    profile: SrtpProfile,
    ours: &MasterKey,
) -> Result<SdesKeys, TranslateError> {
    let c = m
        .cryptos()
        .find(|c| c.tag == tag)
        .ok_or(TranslateError::Attribute("crypto"))?;
    match usable(&c) {
        Some((suite, receive)) if suite == profile => Ok(SdesKeys {
            tag,
            profile,
            send: ours.clone(),
            receive,
        }),
        _ => Err(TranslateError::Attribute("crypto")),
    }
}
