//! Typed attribute views and codecs on the realistic descriptions.

use super::fixtures::*;
use crate::sdp::crypto::KeyParam;
use crate::sdp::*;

#[test]
fn chrome_offer_typed_views() {
    let sdp: SessionDescription = CHROME_OFFER.parse().unwrap();
    let m = &sdp.media[0];
    assert_eq!(sdp.bundle().unwrap().mids, ["0"]);
    assert!(!sdp.ice_lite());
    assert_eq!(m.mid(), Some("0"));
    assert_eq!(m.ice_ufrag(), Some("Xb9q"));
    assert_eq!(m.ice_pwd(), Some("Ybp3K9xJ4nQwL8vR2tZ7mA1c"));
    assert_eq!(m.ice_options().collect::<Vec<_>>(), ["trickle"]);
    assert_eq!(m.setup(), Some(Setup::ActPass));
    assert!(m.rtcp_mux());
    assert_eq!(m.direction(), Some(Direction::SendRecv));
    let fp = m.fingerprints().next().unwrap();
    assert_eq!(fp.hash, HashFunction::Sha256);
    assert_eq!(fp.bytes.len(), 32);
    assert_eq!((fp.bytes[0], fp.bytes[31]), (0x6B, 0x08));
    assert_eq!(
        m.value("fingerprint").unwrap(),
        fp.to_string(),
        "prints back in upper case"
    );

    let cands: Vec<Candidate> = m.candidates().collect();
    assert_eq!(cands.len(), 2);
    assert_eq!(cands[0].ip(), Some("127.0.0.1".parse().unwrap()));
    assert_eq!((cands[0].port, cands[0].component), (51234, 1));
    assert_eq!(cands[0].typ, CandidateType::Host);
    assert_eq!(cands[0].priority, 2122260223);
    assert_eq!(
        cands[0].extensions,
        [
            ("generation".into(), "0".into()),
            ("network-id".into(), "1".into())
        ]
    );
    assert!(cands[1].address.ends_with(".local") && cands[1].ip().is_none());
    for (c, text) in cands.iter().zip(m.values("candidate")) {
        assert_eq!(c.to_string(), text);
    }

    assert_eq!(
        m.rtpmap(111).unwrap(),
        Rtpmap {
            payload_type: 111,
            encoding: "opus".into(),
            clock_rate: 48000,
            channels: Some(2)
        }
    );
    let fmtp = m.fmtp(111).unwrap();
    assert_eq!(
        fmtp.pairs().collect::<Vec<_>>(),
        [("minptime", "10"), ("useinbandfec", "1")]
    );
    let ext: Vec<Extmap> = m.extmaps().collect();
    assert_eq!(ext.len(), 4);
    assert_eq!(ext[0].uri, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
    let fb = m.rtcp_fbs().next().unwrap();
    assert_eq!(
        (fb.payload_type, fb.kind.as_str(), fb.param),
        (Some(111), "transport-cc", None)
    );
    let ssrcs: Vec<Ssrc> = m.ssrcs().collect();
    assert_eq!(ssrcs[0].ssrc, 1001669237);
    assert_eq!(ssrcs[0].attribute, "cname");
    assert_eq!(
        m.msid().unwrap().track.as_deref(),
        Some("3f1c9a7e-2b4d-4c6e-8f0a-1b2c3d4e5f60")
    );
    let rtcp = m.rtcp().unwrap();
    assert_eq!(rtcp.port, 9);
    assert_eq!(rtcp.connection.unwrap().address, "0.0.0.0");
}

#[test]
fn asterisk_answer_typed_views() {
    let sdp: SessionDescription = ASTERISK_ANSWER.parse().unwrap();
    let m = &sdp.media[0];
    assert_eq!((m.ptime(), m.maxptime()), (Some(20), Some(150)));
    assert_eq!(sdp.effective_direction(m), Direction::SendRecv);
    assert_eq!(
        sdp.connection.as_ref().unwrap().ip_addr(),
        Some("192.168.1.20".parse().unwrap())
    );
    let formats = PayloadFormat::all_of(m);
    assert_eq!(formats[0].codec, Codec::Pcmu);
    assert_eq!(formats[1].codec, Codec::TelephoneEvent { clock_rate: 8000 });
    assert_eq!(formats[1].fmtp.as_deref(), Some("0-16"));
}

#[test]
fn other_attribute_grammars() {
    let c = Crypto::parse("1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 UNENCRYPTED_SRTCP").unwrap();
    assert_eq!((c.tag, c.suite.as_str()), (1, "AES_CM_128_HMAC_SHA1_80"));
    assert_eq!(
        c.keys[0],
        KeyParam::Inline {
            key_salt: "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz".into(),
            lifetime: Some("2^20".into()),
            mki: Some((1, 4)),
        }
    );
    assert_eq!(c.session_params, ["UNENCRYPTED_SRTCP"]);
    assert_eq!(
        c.to_string(),
        "1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 UNENCRYPTED_SRTCP"
    );
    assert!(Crypto::parse("0 AES_CM_128_HMAC_SHA1_80 inline:abc").is_none());
    assert!(Crypto::parse("1 AES_CM_128_HMAC_SHA1_80").is_none());

    let g = SsrcGroup::parse("FID 1 2").unwrap();
    assert_eq!(
        (g.semantics.as_str(), g.ssrcs.as_slice()),
        ("FID", &[1, 2][..])
    );
    let e = Extmap::parse("3/sendonly urn:x attr").unwrap();
    assert_eq!(
        (e.id, e.direction, e.attributes.as_deref()),
        (3, Some(Direction::SendOnly), Some("attr"))
    );
    assert_eq!(e.to_string(), "3/sendonly urn:x attr");
    assert!(Extmap::parse("0 urn:x").is_none());
    let fb = RtcpFb::parse("* nack pli").unwrap();
    assert_eq!((fb.payload_type, fb.param.as_deref()), (None, Some("pli")));
    assert_eq!(fb.to_string(), "* nack pli");

    let cand = Candidate::parse(
        "candidate:2 1 TCP 1518280447 192.0.2.7 9 typ srflx raddr 10.0.0.2 rport 0 tcptype active",
    )
    .unwrap();
    assert_eq!(cand.typ, CandidateType::ServerReflexive);
    assert_eq!(cand.related_address.as_deref(), Some("10.0.0.2"));
    assert_eq!(cand.related_port, Some(0));
    assert!(!cand.is_udp());
    assert!(Candidate::parse("1 1 udp 1 1.2.3.4 5 host").is_none());
    assert!(Candidate::parse("1 1 udp 1 1.2.3.4 5 typ host generation").is_none());

    assert!(
        Fingerprint::parse("sha-256 AB:CD").is_none(),
        "wrong length"
    );
    assert!(
        Fingerprint::parse("sha-1 zz:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00")
            .is_none()
    );
    assert_eq!(Setup::ActPass.answer(Setup::Passive), Setup::Passive);
    assert_eq!(Setup::ActPass.answer(Setup::Active), Setup::Active);
    assert_eq!(Setup::Active.answer(Setup::Active), Setup::Passive);
    assert_eq!(Setup::Passive.answer(Setup::Passive), Setup::Active);
    assert!(Rtpmap::parse("200 x/8000").is_none());
    assert!(Rtpmap::parse("96 x/8000/2/1").is_none());
}

#[test]
fn directions_answer_and_hold() {
    use Direction::*;
    assert_eq!(SendOnly.answer(SendRecv), RecvOnly);
    assert_eq!(RecvOnly.answer(SendRecv), SendOnly);
    assert_eq!(Inactive.answer(SendRecv), Inactive);
    assert_eq!(SendRecv.answer(RecvOnly), RecvOnly);
    assert_eq!(SendRecv.without_receive(), SendOnly);
    assert_eq!(RecvOnly.without_receive(), Inactive);
}

#[test]
fn codecs_and_the_payload_map() {
    let g722 = Codec::from_rtpmap(&Rtpmap::parse("9 G722/8000").unwrap());
    assert_eq!((g722.clone(), g722.clock_rate()), (Codec::G722, 8000));
    assert_eq!(Codec::from_parts("OPUS", 48000, 2), Codec::Opus);
    assert!(matches!(
        Codec::from_parts("G722", 16000, 1),
        Codec::Other { .. }
    ));
    assert_eq!(Codec::Opus.rtpmap(96).to_string(), "96 opus/48000/2");
    assert_eq!(Codec::Pcmu.rtpmap(0).to_string(), "0 PCMU/8000");

    let chrome: SessionDescription = CHROME_OFFER.parse().unwrap();
    let browser = CodecPolicy::default().filter(&PayloadFormat::all_of(&chrome.media[0]));
    let pts: Vec<u8> = browser.iter().map(|f| f.payload_type).collect();
    assert_eq!(pts, [111, 9, 0, 8, 110, 126], "red and CN are not relayed");

    let fs: SessionDescription = FREESWITCH_OFFER.parse().unwrap();
    let pbx = PayloadFormat::all_of(&fs.media[0]);
    let map = PayloadMap::negotiate(&browser, &pbx, true);
    assert_eq!(map.to_pbx(111), Some(102));
    assert_eq!(map.to_browser(102), Some(111));
    assert_eq!(map.to_pbx(126), Some(101), "telephone-event/8000");
    assert_eq!(
        map.to_pbx(110),
        None,
        "FreeSWITCH offers no telephone-event/48000"
    );
    assert_eq!(map.to_browser(13), None, "CN is not shared");
    assert_eq!(map.telephone_event_for(&Codec::Pcmu).unwrap().browser, 126);
    assert!(map.telephone_event_for(&Codec::Opus).is_none());
    assert!(map.has_audio());
}
