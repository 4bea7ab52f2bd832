//! Calls from the PBX: re-offers that move its media (the RTP leg must
//! follow each new address, back to the first one too), and offers of
//! SDES-SRTP (taken only with `pbx.srtp = "sdes"`, re-keyed on a new key).

use super::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// A PBX offer of PCMU from `port` on 127.0.0.1, version `version`.
fn pbx_offer(port: u16, version: u32) -> String {
    format!(
        "v=0\r\no=pbx 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    )
}

/// A PBX offer of PCMU over SDES-SRTP from port 4000, with `key` (30
/// bytes, base64).
fn pbx_sdes_offer(key: &str, version: u32) -> String {
    format!(
        "v=0\r\no=pbx 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio 4000 RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
         a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key}\r\na=sendrecv\r\n"
    )
}

/// RFC 4568's example key, and another.
const PBX_KEY: &str = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
const PBX_NEW_KEY: &str = "YUJDZGVmZ2hpSktMbW5vcFFyc3RVVnd4eXoxMjM0";

/// A browser's answer of PCMU (the ICE and DTLS values are well formed;
/// no handshake happens here).
const BROWSER_ANSWER: &str = "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
    a=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\n\
    a=mid:0\r\na=ice-ufrag:brws\r\na=ice-pwd:browserpasswordof24chars\r\n\
    a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n\
    a=setup:active\r\na=rtcp-mux\r\na=sendrecv\r\na=rtpmap:0 PCMU/8000\r\n";

async fn sockets() -> PbxSockets {
    let rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let rtcp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    PbxSockets {
        rtp,
        rtcp,
        readers: [tokio::spawn(async {}), tokio::spawn(async {})],
    }
}

/// Where the call's RTP leg sends, as the SDP said.
fn pbx_rtp(call: &MediaCall) -> Option<SocketAddr> {
    call.answered.as_ref().and_then(|a| a.rtp.remote())
}

#[tokio::test]
async fn a_pbx_that_moves_its_media_and_back_is_followed_both_times() {
    let mut rng = StdRng::seed_from_u64(7);
    let now = Instant::now();
    let webrtc = WebRtcConfig::new("127.0.0.1:9".parse().unwrap());
    let mut call = incoming(Some(&pbx_offer(4000, 1)), false).await.unwrap();
    call.set_browser_answer(now, BROWSER_ANSWER, &mut rng)
        .unwrap();
    let at = |port: u16| Some(SocketAddr::from(([127, 0, 0, 1], port)));
    assert_eq!(pbx_rtp(&call), at(4000));
    // A → B: the leg follows.
    call.set_pbx_answer(now, &pbx_offer(5000, 2), &webrtc, &mut rng)
        .unwrap();
    assert_eq!(pbx_rtp(&call), at(5000));
    // B → A: compared with B (in use), not with the first offer's A.
    call.set_pbx_answer(now, &pbx_offer(4000, 3), &webrtc, &mut rng)
        .unwrap();
    assert_eq!(pbx_rtp(&call), at(4000));
}

/// A call from the PBX made over `offer` (`None`: a late offer), with or
/// without SDES.
async fn incoming(offer: Option<&str>, sdes: bool) -> Result<MediaCall, MediaError> {
    let mut rng = StdRng::seed_from_u64(9);
    let webrtc = WebRtcConfig::new("127.0.0.1:9".parse().unwrap());
    MediaCall::create_incoming(
        Instant::now(),
        MediaCallId(2),
        offer,
        &webrtc,
        "127.0.0.1".parse().unwrap(),
        sockets().await,
        RtpLegConfig::default(),
        sdes,
        &mut rng,
    )
    .map(|(call, _)| call)
}

#[tokio::test]
async fn an_sdes_offer_from_the_pbx_is_refused_unless_sdes_is_on() {
    let offer = pbx_sdes_offer(PBX_KEY, 1);
    assert!(matches!(
        incoming(Some(&offer), false).await,
        Err(MediaError::Sdp(TranslateError::UnsupportedTransport(_)))
    ));
    // A plain RTP offer is taken either way.
    assert!(incoming(Some(&pbx_offer(4000, 1)), true).await.is_ok());
}

#[tokio::test]
async fn an_sdes_call_from_the_pbx_is_answered_with_a_key_and_follows_a_new_one() {
    let mut rng = StdRng::seed_from_u64(11);
    let webrtc = WebRtcConfig::new("127.0.0.1:9".parse().unwrap());
    let now = Instant::now();
    let mut call = incoming(Some(&pbx_sdes_offer(PBX_KEY, 1)), true)
        .await
        .unwrap();
    let answer = call
        .set_browser_answer(now, BROWSER_ANSWER, &mut rng)
        .unwrap();
    assert!(answer.contains("m=audio "), "{answer}");
    assert!(answer.contains(" RTP/SAVP 0"), "{answer}");
    assert!(
        answer.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"),
        "{answer}"
    );
    assert!(!answer.contains(PBX_KEY), "the PBX's key is not echoed");
    let keys = |call: &MediaCall| {
        let srtp = call.answered.as_ref().unwrap().srtp.as_ref().unwrap();
        (srtp.keys.send.clone(), srtp.keys.receive.clone())
    };
    let (send, receive) = keys(&call);
    // The same key again changes nothing; a new one replaces the PBX's.
    call.set_pbx_answer(now, &pbx_sdes_offer(PBX_KEY, 2), &webrtc, &mut rng)
        .unwrap();
    assert!(keys(&call) == (send.clone(), receive.clone()));
    call.set_pbx_answer(now, &pbx_sdes_offer(PBX_NEW_KEY, 3), &webrtc, &mut rng)
        .unwrap();
    let (send_after, receive_after) = keys(&call);
    assert!(send_after == send, "the gateway's own key stays");
    assert!(receive_after != receive, "the PBX's new key is taken");
}

#[tokio::test]
async fn a_late_offer_to_the_pbx_is_of_sdes_when_sdes_is_on() {
    for (sdes, proto) in [(true, " RTP/SAVP "), (false, " RTP/AVP ")] {
        let mut rng = StdRng::seed_from_u64(13);
        let mut call = incoming(None, sdes).await.unwrap();
        let offer = call
            .set_browser_answer(Instant::now(), BROWSER_ANSWER, &mut rng)
            .unwrap();
        assert!(offer.contains(proto), "{offer}");
        assert_eq!(offer.contains("a=crypto:"), sdes, "{offer}");
    }
}
