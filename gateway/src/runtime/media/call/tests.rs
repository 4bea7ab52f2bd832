//! A call from the PBX whose re-offers move its media: the RTP leg must
//! follow each new address, back to the first one too.

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
    let (mut call, _browser_offer) = MediaCall::create_incoming(
        now,
        MediaCallId(1),
        Some(&pbx_offer(4000, 1)),
        &webrtc,
        "127.0.0.1".parse().unwrap(),
        sockets().await,
        RtpLegConfig::default(),
        &mut rng,
    )
    .unwrap();
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
