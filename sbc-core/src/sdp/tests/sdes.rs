//! SDES toward the PBX: the RTP/SAVP offer and answer both ways, the keys
//! handed back (and never shown in `Debug`), and the offers refused.

use super::fixtures::*;
use super::translate::{ORIGIN, pbx_side, sdp, webrtc_side};
use crate::media::srtp::{MasterKey, SrtpContext, SrtpProfile};
use crate::sdp::translate::*;
use crate::sdp::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn keys() -> (MasterKey, MasterKey) {
    let mut rng = StdRng::seed_from_u64(4568);
    (MasterKey::random(&mut rng), MasterKey::random(&mut rng))
}

fn sdes_side(ours: &MasterKey) -> PbxSide {
    PbxSide {
        srtp: PbxSrtp::Sdes(ours.clone()),
        ..pbx_side()
    }
}

/// Asterisk's answer as RTP/SAVP with `crypto` lines appended.
fn savp_answer(crypto: &str) -> String {
    ASTERISK_ANSWER.replace("RTP/AVP", "RTP/SAVP") + crypto
}

#[test]
fn browser_call_offers_savp_and_takes_the_pbx_key() {
    let (ours, theirs) = keys();
    let offer = browser_offer_to_pbx(&sdp(CHROME_OFFER), &sdes_side(&ours), ORIGIN).unwrap();
    // The printed offer parses back to the line we meant.
    let reparsed = sdp(&offer.sdp.to_string());
    let m = &reparsed.media[0];
    assert_eq!(m.proto, "RTP/SAVP");
    let crypto: Vec<Crypto> = m.cryptos().collect();
    assert_eq!(crypto.len(), 1);
    assert_eq!(
        (crypto[0].tag, crypto[0].suite.as_str()),
        (1, "AES_CM_128_HMAC_SHA1_80")
    );
    let text = offer.sdp.to_string();
    assert!(text.contains(&format!(
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{}\r\n",
        ours.to_base64()
    )));
    assert_eq!(reparsed, offer.sdp);

    let answer = savp_answer(&format!(
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{}|2^31\r\n",
        theirs.to_base64()
    ));
    let ans = pbx_answer_to_browser(&offer.pending, &sdp(&answer), &webrtc_side(), ORIGIN).unwrap();
    let sdes = ans.sdes.clone().unwrap();
    assert_eq!(sdes.profile, SrtpProfile::AesCm128HmacSha1_80);
    assert_eq!((&sdes.send, &sdes.receive), (&ours, &theirs));
    // Neither key reaches the browser, nor any Debug output.
    let browser_text = ans.sdp.to_string();
    let debug = format!("{ans:?} {offer:?} {:?}", sdes_side(&ours));
    for key in [ours.to_base64(), theirs.to_base64()] {
        assert!(!browser_text.contains(&key));
        assert!(!debug.contains(&key), "key in {debug}");
    }
    assert!(!browser_text.contains("crypto"));
}

#[test]
fn a_pbx_answer_without_our_line_is_refused() {
    let (ours, theirs) = keys();
    let offer = browser_offer_to_pbx(&sdp(CHROME_OFFER), &sdes_side(&ours), ORIGIN).unwrap();
    let answer = |text: &str| pbx_answer_media(&offer.pending, &sdp(text));
    // Plain RTP to an SRTP offer, another tag, another suite, a bad key.
    assert!(matches!(
        answer(ASTERISK_ANSWER),
        Err(TranslateError::UnsupportedTransport(_))
    ));
    let k = theirs.to_base64();
    for line in [
        format!("a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:{k}\r\n"),
        format!("a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:{k}\r\n"),
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=\r\n".to_owned(),
        String::new(),
    ] {
        assert_eq!(
            answer(&savp_answer(&line)),
            Err(TranslateError::Attribute("crypto")),
            "{line}"
        );
    }
    // Without SDES configured, an RTP/SAVP answer is refused too.
    let plain = browser_offer_to_pbx(&sdp(CHROME_OFFER), &pbx_side(), ORIGIN).unwrap();
    let line = format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{k}\r\n");
    assert!(matches!(
        pbx_answer_media(&plain.pending, &sdp(&savp_answer(&line))),
        Err(TranslateError::UnsupportedTransport(_))
    ));
}

/// FreeSWITCH offering RTP/SAVP with the given `crypto` lines.
fn savp_offer(crypto: &str) -> String {
    FREESWITCH_OFFER.replace("RTP/AVP", "RTP/SAVP") + crypto
}

#[test]
fn pbx_call_is_answered_on_its_first_supported_suite() {
    let (ours, theirs) = keys();
    let k = theirs.to_base64();
    let offer = savp_offer(&format!(
        "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:{k}{k}\n\
         a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:{k} UNENCRYPTED_SRTP\n\
         a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:{k}|1:1\n\
         a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:{k}\n\
         a=crypto:5 AES_CM_128_HMAC_SHA1_80 inline:{k}\n"
    ));
    let srtp = PbxSrtp::Sdes(ours.clone());
    let out = pbx_offer_to_browser(
        &sdp(&offer),
        &webrtc_side(),
        &CodecPolicy::default(),
        &srtp,
        ORIGIN,
    )
    .unwrap();
    assert!(!out.sdp.to_string().contains("crypto"));
    let ans = browser_answer_to_pbx(&out.pending, &sdp(CHROME_ANSWER), &sdes_side(&ours), ORIGIN)
        .unwrap();
    let sdes = ans.sdes.clone().unwrap();
    assert_eq!(
        (sdes.tag, sdes.profile),
        (4, SrtpProfile::AesCm128HmacSha1_32)
    );
    assert_eq!((&sdes.send, &sdes.receive), (&ours, &theirs));
    let reparsed = sdp(&ans.sdp.to_string());
    let m = &reparsed.media[0];
    assert_eq!(m.proto, "RTP/SAVP");
    let crypto: Vec<Crypto> = m.cryptos().collect();
    assert_eq!(crypto.len(), 1);
    assert_eq!(
        crypto[0].to_string(),
        format!("4 AES_CM_128_HMAC_SHA1_32 inline:{}", ours.to_base64())
    );
    assert!(!format!("{ans:?}{out:?}").contains(&ours.to_base64()));

    // The keys work: what the PBX protects with its key, the gateway
    // unprotects with `receive`, and the other way round.
    let mut pbx_tx = SrtpContext::new(sdes.profile, &theirs);
    let mut gw_rx = SrtpContext::new(sdes.profile, &sdes.receive);
    let mut packet = vec![0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 42, 0xd5, 0xd5];
    pbx_tx.protect_rtp(&mut packet).unwrap();
    assert_eq!(packet.len(), 14 + 4);
    assert_eq!(gw_rx.unprotect_rtp(&mut packet), Ok(14));
    let mut gw_tx = SrtpContext::new(sdes.profile, &sdes.send);
    let mut pbx_rx = SrtpContext::new(sdes.profile, &ours);
    let mut rtcp = vec![0x80, 201, 0, 1, 0, 0, 0, 7];
    gw_tx.protect_rtcp(&mut rtcp).unwrap();
    assert_eq!(pbx_rx.unprotect_rtcp(&mut rtcp), Ok(8));
}

#[test]
fn a_pbx_offering_only_unsupported_suites_gets_488() {
    let (ours, theirs) = keys();
    let k = theirs.to_base64();
    let srtp = PbxSrtp::Sdes(ours);
    let offer = |text: &str, srtp: &PbxSrtp| {
        pbx_offer_to_browser(
            &sdp(text),
            &webrtc_side(),
            &CodecPolicy::default(),
            srtp,
            ORIGIN,
        )
        .unwrap_err()
    };
    let err = offer(
        &savp_offer(&format!(
            "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:{k}{k}\n\
             a=crypto:2 AEAD_AES_128_GCM inline:{k}\n"
        )),
        &srtp,
    );
    assert_eq!(err, TranslateError::NoCryptoSuite);
    assert_eq!(err.sip_status(), 488);
    assert_eq!(offer(&savp_offer(""), &srtp), TranslateError::NoCryptoSuite);
    // SDES not configured: RTP/SAVP is a transport the gateway does not speak.
    let line = format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{k}\n");
    let err = offer(&savp_offer(&line), &PbxSrtp::Off);
    assert_eq!(err.sip_status(), 488);
    // A plain offer is still answered plainly when SDES is configured.
    let plain = pbx_offer_to_browser(
        &sdp(FREESWITCH_OFFER),
        &webrtc_side(),
        &CodecPolicy::default(),
        &srtp,
        ORIGIN,
    )
    .unwrap();
    assert_eq!(plain.pending.sdes, None);
}

#[test]
fn crypto_attributes_hide_their_keys_in_debug() {
    let a = Attribute::new(
        "crypto",
        "1 AES_CM_128_HMAC_SHA1_80 INLINE:c2VjcmV0|2^20;inline:c2VjcmV0Mg UNENCRYPTED_SRTCP",
    );
    let debug = format!("{a:?}");
    assert!(!debug.contains("c2VjcmV0"), "{debug}");
    assert!(
        debug.contains("INLINE:..|2^20;inline:.. UNENCRYPTED_SRTCP"),
        "{debug}"
    );
    assert!(a.to_string().contains("c2VjcmV0"), "the wire form keeps it");
}

#[test]
fn a_pbx_reoffer_is_read_on_the_line_in_use_whatever_comes_first() {
    let (ours, theirs) = keys();
    let mut rng = StdRng::seed_from_u64(4);
    let new = MasterKey::random(&mut rng);
    let in_use = SdesKeys {
        tag: 4,
        profile: SrtpProfile::AesCm128HmacSha1_32,
        send: ours.clone(),
        receive: theirs.clone(),
    };
    let (k, n) = (theirs.to_base64(), new.to_base64());
    // The PBX now puts another usable line first and re-keys tag 4.
    let offer = savp_offer(&format!(
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{k}\n\
         a=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:{n}\n"
    ));
    let again = reoffered_keys(&sdp(&offer), &in_use).unwrap();
    assert_eq!((again.tag, again.profile), (4, in_use.profile));
    assert_eq!((&again.send, &again.receive), (&ours, &new));
    // Tag 4 of another suite, or gone, or plain RTP: errors.
    let other_suite = savp_offer(&format!("a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:{n}\n"));
    assert!(reoffered_keys(&sdp(&other_suite), &in_use).is_err());
    let gone = savp_offer(&format!("a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:{n}\n"));
    assert!(reoffered_keys(&sdp(&gone), &in_use).is_err());
    assert!(matches!(
        reoffered_keys(&sdp(FREESWITCH_OFFER), &in_use),
        Err(TranslateError::UnsupportedTransport(_))
    ));
}
