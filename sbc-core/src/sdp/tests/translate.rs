//! Translation tests on realistic descriptions: what each side receives,
//! payload-type mapping both ways, setup roles, directions and hold, and
//! that nothing of one side leaks into the other side's description.

use super::fixtures::*;
use crate::sdp::translate::*;
use crate::sdp::*;

const SIP_IP: &str = "10.0.0.1";
const PUBLIC_IP: &str = "203.0.113.10";

pub(super) fn pbx_side() -> PbxSide {
    PbxSide {
        addr: SipSideAddr {
            ip: SIP_IP.parse().unwrap(),
            rtp_port: 20_000,
        },
        rtcp: RtcpMode::NextPort,
        codecs: CodecPolicy::default(),
        ptime: Some(20),
        srtp: PbxSrtp::Off,
    }
}

pub(super) fn webrtc_side() -> WebRtcSide {
    WebRtcSide {
        public_ip: PUBLIC_IP.parse().unwrap(),
        port: 10_000,
        ice: IceCredentials {
            ufrag: "gw01".into(),
            pwd: "gatewaypassword0123456789".into(),
        },
        fingerprint: Fingerprint {
            hash: HashFunction::Sha256,
            bytes: (0..32).collect(),
        },
        setup_when_actpass: Setup::Passive,
    }
}

pub(super) const ORIGIN: GatewayOrigin = GatewayOrigin {
    session_id: 7_000_000,
    version: 1,
};

pub(super) fn sdp(text: &str) -> SessionDescription {
    text.parse().unwrap()
}

fn assert_absent(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(!text.contains(n), "{n:?} leaked into:\n{text}");
    }
}

const BROWSER_SECRETS: &[&str] = &[
    "127.0.0.1",
    "0.0.0.0",
    ".local",
    "Xb9q",
    "Ybp3K9xJ4nQwL8vR2tZ7mA1c",
    "6B:8B:F0",
    "1001669237",
    "k3Jw9mZpQ2xY7vTb",
    "8b0b2e1c",
    "extmap",
    "ice-",
    "fingerprint",
    "candidate",
    "mid",
    "ssrc",
    "rtcp-fb",
    "setup",
    "BUNDLE",
    "SAVPF",
];

#[test]
fn chrome_offer_becomes_a_plain_rtp_offer() {
    let out = browser_offer_to_pbx(&sdp(CHROME_OFFER), &pbx_side(), ORIGIN).unwrap();
    let text = out.sdp.to_string();
    assert_absent(&text, BROWSER_SECRETS);
    assert_absent(&text, &["red/", "CN/"]);
    let m = &out.sdp.media[0];
    assert_eq!((m.port, m.proto.as_str()), (20_000, "RTP/AVP"));
    assert_eq!(m.formats, ["111", "9", "0", "8", "110", "126"]);
    assert_eq!(m.rtcp().unwrap().port, 20_001);
    assert_eq!(m.ptime(), Some(20));
    assert_eq!(m.direction(), Some(Direction::SendRecv));
    assert_eq!(m.fmtp(111).unwrap().params, "minptime=10;useinbandfec=1");
    assert_eq!(
        out.sdp.connection.as_ref().unwrap().address,
        SIP_IP,
        "c= is the gateway's"
    );
    assert_eq!(out.sdp.origin.address.address, SIP_IP);
    assert!(text.starts_with("v=0\r\no=- 7000000 1 IN IP4 10.0.0.1\r\n"));
    let b = &out.pending.browser;
    assert_eq!(b.ice.ufrag, "Xb9q");
    assert_eq!(b.setup, Setup::ActPass);
    assert_eq!(b.candidates.len(), 2);
    assert_eq!(b.mid.as_deref(), Some("0"));

    let mut mux = pbx_side();
    mux.rtcp = RtcpMode::Mux;
    let out = browser_offer_to_pbx(&sdp(CHROME_OFFER), &mux, ORIGIN).unwrap();
    assert!(out.sdp.media[0].rtcp_mux() && out.sdp.media[0].rtcp().is_none());
}

#[test]
fn asterisk_answer_becomes_the_browsers_answer() {
    let offer = browser_offer_to_pbx(&sdp(CHROME_OFFER), &pbx_side(), ORIGIN).unwrap();
    let ans = pbx_answer_to_browser(
        &offer.pending,
        &sdp(ASTERISK_ANSWER),
        &webrtc_side(),
        ORIGIN,
    )
    .unwrap();
    let text = ans.sdp.to_string();
    assert_absent(&text, &["192.168.1.20", "Asterisk", "17826", "1718000000"]);
    let m = &ans.sdp.media[0];
    assert_eq!((m.port, m.proto.as_str()), (10_000, "UDP/TLS/RTP/SAVPF"));
    assert_eq!(
        m.formats,
        ["0", "126"],
        "the browser's telephone-event/8000"
    );
    assert_eq!(m.fmtp(126).unwrap().params, "0-16");
    assert_eq!(m.ptime(), Some(20));
    assert!(ans.sdp.ice_lite());
    assert_eq!(ans.sdp.bundle().unwrap().mids, ["0"]);
    assert_eq!(m.mid(), Some("0"));
    assert!(m.rtcp_mux());
    assert_eq!(m.ice_ufrag(), Some("gw01"));
    assert_eq!(m.fingerprints().next(), Some(webrtc_side().fingerprint));
    assert_eq!(m.setup(), Some(Setup::Passive));
    assert_eq!(ans.setup, Setup::Passive);
    let cands: Vec<_> = m.candidates().collect();
    assert_eq!(cands.len(), 1);
    assert_eq!(cands[0].ip(), Some(PUBLIC_IP.parse().unwrap()));
    assert_eq!(
        (cands[0].port, cands[0].typ.clone()),
        (10_000, CandidateType::Host)
    );
    assert!(m.end_of_candidates());
    assert_eq!(m.direction(), Some(Direction::SendRecv));

    assert_eq!(ans.payload_map.to_pbx(0), Some(0));
    assert_eq!(ans.payload_map.to_pbx(126), Some(101));
    assert_eq!(ans.payload_map.to_browser(101), Some(126));
    assert_eq!(ans.payload_map.to_pbx(111), None);
    assert_eq!(ans.pbx.rtp, Some("192.168.1.20:17826".parse().unwrap()));
    assert_eq!(ans.pbx.rtcp, Some("192.168.1.20:17827".parse().unwrap()));
    assert_eq!(ans.browser.ice.pwd, "Ybp3K9xJ4nQwL8vR2tZ7mA1c");
}

#[test]
fn pbx_answer_media_is_the_relay_half_of_the_browser_answer() {
    let offer = browser_offer_to_pbx(&sdp(CHROME_OFFER), &pbx_side(), ORIGIN).unwrap();
    let media = pbx_answer_media(&offer.pending, &sdp(ASTERISK_ANSWER)).unwrap();
    let full = pbx_answer_to_browser(
        &offer.pending,
        &sdp(ASTERISK_ANSWER),
        &webrtc_side(),
        ORIGIN,
    )
    .unwrap();
    assert_eq!(media.payload_map, full.payload_map);
    assert_eq!(media.pbx, full.pbx);
    let pts: Vec<u8> = media.pbx_formats.iter().map(|f| f.payload_type).collect();
    assert_eq!(pts, [0, 101]);
}

#[test]
fn setup_roles_answer_the_browser() {
    for (offered, answered) in [
        ("actpass", Setup::Passive),
        ("active", Setup::Passive),
        ("passive", Setup::Active),
    ] {
        let text = CHROME_OFFER.replace("a=setup:actpass", &format!("a=setup:{offered}"));
        let offer = browser_offer_to_pbx(&sdp(&text), &pbx_side(), ORIGIN).unwrap();
        let ans = pbx_answer_to_browser(
            &offer.pending,
            &sdp(ASTERISK_ANSWER),
            &webrtc_side(),
            ORIGIN,
        )
        .unwrap();
        assert_eq!(ans.setup, answered, "{offered}");
        assert_eq!(ans.sdp.media[0].setup(), Some(answered));
    }
    let mut active = webrtc_side();
    active.setup_when_actpass = Setup::Active;
    let offer = browser_offer_to_pbx(&sdp(CHROME_OFFER), &pbx_side(), ORIGIN).unwrap();
    let ans = pbx_answer_to_browser(&offer.pending, &sdp(ASTERISK_ANSWER), &active, ORIGIN);
    assert_eq!(ans.unwrap().setup, Setup::Active);
}

#[test]
fn freeswitch_offer_becomes_a_webrtc_offer_and_back() {
    let fs = sdp(FREESWITCH_OFFER);
    let out = pbx_offer_to_browser(
        &fs,
        &webrtc_side(),
        &CodecPolicy::default(),
        &PbxSrtp::Off,
        ORIGIN,
    )
    .unwrap();
    let text = out.sdp.to_string();
    assert_absent(
        &text,
        &["10.20.30.40", "FreeSWITCH", "24680", "CN/", "1718012345"],
    );
    let m = &out.sdp.media[0];
    assert_eq!(
        m.formats,
        ["102", "9", "0", "8", "101"],
        "the PBX's numbers"
    );
    assert_eq!(m.setup(), Some(Setup::ActPass));
    assert_eq!(m.mid(), Some("0"));
    assert!(out.sdp.ice_lite() && m.rtcp_mux());
    assert_eq!(out.sdp.bundle().unwrap().mids, ["0"]);
    assert_eq!(
        out.pending.pbx.rtp,
        Some("10.20.30.40:24680".parse().unwrap())
    );
    assert_eq!(
        out.pending.pbx.rtcp,
        Some("10.20.30.40:24681".parse().unwrap())
    );

    let ans =
        browser_answer_to_pbx(&out.pending, &sdp(CHROME_ANSWER), &pbx_side(), ORIGIN).unwrap();
    let text = ans.sdp.to_string();
    assert_absent(&text, BROWSER_SECRETS);
    assert_absent(
        &text,
        &["Qz7w", "Pf8s1kD3", "11:22:33", "2231627014", "Yk8qR3mZ"],
    );
    let m = &ans.sdp.media[0];
    assert_eq!((m.port, m.proto.as_str()), (20_000, "RTP/AVP"));
    assert_eq!(m.formats, ["102", "9", "0", "8", "101"]);
    assert_eq!(m.fmtp(102).unwrap().params, "minptime=10;useinbandfec=1");
    assert_eq!(ans.setup, Setup::Passive, "the browser is active");
    assert_eq!(ans.browser.ice.ufrag, "Qz7w");
    assert_eq!(ans.browser.fingerprints[0].bytes[0], 0x11);
    assert_eq!(ans.payload_map.to_browser(102), Some(102));
    assert_eq!(ans.direction, Direction::SendRecv);
}

#[test]
fn payload_types_differ_per_side() {
    // The browser answers with its own numbers for the same codecs.
    let fs = sdp(FREESWITCH_OFFER);
    let out = pbx_offer_to_browser(
        &fs,
        &webrtc_side(),
        &CodecPolicy::default(),
        &PbxSrtp::Off,
        ORIGIN,
    )
    .unwrap();
    let renumbered = CHROME_ANSWER
        .replace(" 102 9 0 8 101", " 111 0 126")
        .replace("rtpmap:102", "rtpmap:111")
        .replace("fmtp:102", "fmtp:111")
        .replace("rtpmap:101", "rtpmap:126");
    let ans = browser_answer_to_pbx(&out.pending, &sdp(&renumbered), &pbx_side(), ORIGIN).unwrap();
    assert_eq!(ans.sdp.media[0].formats, ["102", "0", "101"]);
    assert_eq!(ans.payload_map.to_pbx(111), Some(102));
    assert_eq!(ans.payload_map.to_pbx(126), Some(101));
    assert_eq!(ans.payload_map.to_browser(0), Some(0));
}

#[test]
fn hold_maps_across() {
    // RFC 2543 hold from the PBX: c=0.0.0.0 with sendrecv means sendonly.
    let hold = sdp(ASTERISK_HOLD_OFFER);
    let out = pbx_offer_to_browser(
        &hold,
        &webrtc_side(),
        &CodecPolicy::default(),
        &PbxSrtp::Off,
        ORIGIN,
    )
    .unwrap();
    assert_eq!(out.sdp.media[0].direction(), Some(Direction::SendOnly));
    assert_eq!(out.pending.pbx.rtp, None);
    assert_absent(&out.sdp.to_string(), &["0.0.0.0"]);
    let browser_answer = CHROME_ANSWER
        .replace(" 102 9 0 8 101", " 0 101")
        .replace("a=sendrecv", "a=recvonly");
    let ans =
        browser_answer_to_pbx(&out.pending, &sdp(&browser_answer), &pbx_side(), ORIGIN).unwrap();
    assert_eq!(ans.sdp.media[0].direction(), Some(Direction::RecvOnly));

    // c=0.0.0.0 with recvonly means inactive.
    let hold = sdp(&ASTERISK_HOLD_OFFER.replace("a=sendrecv", "a=recvonly"));
    let out = pbx_offer_to_browser(
        &hold,
        &webrtc_side(),
        &CodecPolicy::default(),
        &PbxSrtp::Off,
        ORIGIN,
    )
    .unwrap();
    assert_eq!(out.sdp.media[0].direction(), Some(Direction::Inactive));

    // The browser holds: sendonly to the PBX, the PBX's recvonly back.
    let offer = sdp(&CHROME_OFFER.replace("a=sendrecv", "a=sendonly"));
    let out = browser_offer_to_pbx(&offer, &pbx_side(), ORIGIN).unwrap();
    assert_eq!(out.sdp.media[0].direction(), Some(Direction::SendOnly));
    let answer = sdp(&ASTERISK_ANSWER.replace("a=sendrecv", "a=recvonly"));
    let ans = pbx_answer_to_browser(&out.pending, &answer, &webrtc_side(), ORIGIN).unwrap();
    assert_eq!(ans.sdp.media[0].direction(), Some(Direction::RecvOnly));
    // An answer that ignores the hold is narrowed to what the offer allows.
    let ans =
        pbx_answer_to_browser(&out.pending, &sdp(ASTERISK_ANSWER), &webrtc_side(), ORIGIN).unwrap();
    assert_eq!(ans.direction, Direction::RecvOnly);
    // inactive stays inactive.
    let offer = sdp(&CHROME_OFFER.replace("a=sendrecv", "a=inactive"));
    let out = browser_offer_to_pbx(&offer, &pbx_side(), ORIGIN).unwrap();
    assert_eq!(out.sdp.media[0].direction(), Some(Direction::Inactive));
}

#[test]
fn other_sections_are_refused_in_the_answer() {
    let with_video = format!(
        "{}m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\n",
        CHROME_OFFER.replace("BUNDLE 0", "BUNDLE 0 1")
    );
    let out = browser_offer_to_pbx(&sdp(&with_video), &pbx_side(), ORIGIN).unwrap();
    assert_eq!(out.sdp.media.len(), 1, "the PBX is offered audio only");
    let ans =
        pbx_answer_to_browser(&out.pending, &sdp(ASTERISK_ANSWER), &webrtc_side(), ORIGIN).unwrap();
    assert_eq!(ans.sdp.media.len(), 2);
    assert_eq!(ans.sdp.media[1].port, 0);
    assert_eq!(ans.sdp.media[1].mid(), Some("1"));
    assert_eq!(ans.sdp.bundle().unwrap().mids, ["0"]);
}

#[test]
fn errors_and_their_sip_status() {
    let only_red = CHROME_OFFER.replace("111 63 9 0 8 13 110 126", "63 13 110");
    let err = browser_offer_to_pbx(&sdp(&only_red), &pbx_side(), ORIGIN).unwrap_err();
    assert_eq!(
        (err.clone(), err.sip_status()),
        (TranslateError::NoCommonCodec, 488)
    );

    let offer = browser_offer_to_pbx(&sdp(CHROME_OFFER), &pbx_side(), ORIGIN).unwrap();
    let g729 = ASTERISK_ANSWER
        .replace("RTP/AVP 0 101", "RTP/AVP 18 101")
        .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000");
    let err =
        pbx_answer_to_browser(&offer.pending, &sdp(&g729), &webrtc_side(), ORIGIN).unwrap_err();
    assert_eq!(err.sip_status(), 488);
    let refused = ASTERISK_ANSWER.replace("m=audio 17826", "m=audio 0");
    let err =
        pbx_answer_to_browser(&offer.pending, &sdp(&refused), &webrtc_side(), ORIGIN).unwrap_err();
    assert_eq!(err, TranslateError::Rejected);

    let no_fp = CHROME_OFFER
        .lines()
        .filter(|l| !l.starts_with("a=fingerprint"))
        .collect::<Vec<_>>()
        .join("\n");
    let err = browser_offer_to_pbx(&sdp(&no_fp), &pbx_side(), ORIGIN).unwrap_err();
    assert_eq!(
        (err.clone(), err.sip_status()),
        (TranslateError::Attribute("fingerprint"), 400)
    );
    let plain = CHROME_OFFER.replace("UDP/TLS/RTP/SAVPF", "RTP/AVP");
    let err = browser_offer_to_pbx(&sdp(&plain), &pbx_side(), ORIGIN).unwrap_err();
    assert_eq!(err.sip_status(), 488);
    let parse_err: TranslateError = "v=1".parse::<SessionDescription>().unwrap_err().into();
    assert_eq!(parse_err.sip_status(), 400);
    let no_audio = FREESWITCH_OFFER.replace("m=audio 24680", "m=audio 0");
    let err = pbx_offer_to_browser(
        &sdp(&no_audio),
        &webrtc_side(),
        &CodecPolicy::default(),
        &PbxSrtp::Off,
        ORIGIN,
    )
    .unwrap_err();
    assert_eq!(err, TranslateError::NoAudio);
}
