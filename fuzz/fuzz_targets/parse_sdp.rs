//! Fuzz target: arbitrary bytes through the SDP parser; whatever parses must
//! print and parse back to the same model, every typed accessor must hold,
//! and every translation must return without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sbc_core::media::srtp::MasterKey;
use sbc_core::sdp::translate::{
    GatewayOrigin, IceCredentials, PbxSide, PbxSrtp, RtcpMode, SipSideAddr, WebRtcSide,
    browser_offer_to_pbx, pbx_offer_to_browser,
};
use sbc_core::sdp::{CodecPolicy, Fingerprint, HashFunction, Limits, SessionDescription, Setup};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let Ok(sdp) = SessionDescription::parse(data, &limits) else {
        return;
    };
    let printed = sdp.to_string();
    let again = SessionDescription::parse(printed.as_bytes(), &limits).expect("printed SDP parses");
    assert_eq!(again, sdp);
    for m in &sdp.media {
        let _ = (
            m.rtpmaps().count(),
            m.fmtps().count(),
            m.candidates().count(),
        );
        let _ = (
            m.cryptos().count(),
            m.ssrcs().count(),
            m.ssrc_groups().count(),
        );
        let _ = (
            m.extmaps().count(),
            m.rtcp_fbs().count(),
            m.msid(),
            m.rtcp(),
        );
        let _ = (m.ptime(), m.maxptime(), m.setup(), m.fingerprints().count());
        let _ = sdp.effective_direction(m);
    }
    let _ = (sdp.bundle(), sdp.ice_lite());

    let origin = GatewayOrigin {
        session_id: 1,
        version: 1,
    };
    let pbx = PbxSide {
        addr: SipSideAddr {
            ip: [10, 0, 0, 1].into(),
            rtp_port: 20000,
        },
        rtcp: RtcpMode::NextPort,
        codecs: CodecPolicy::default(),
        ptime: Some(20),
        srtp: PbxSrtp::Sdes(MasterKey::from_bytes(&[7; 30]).expect("30 bytes")),
    };
    let webrtc = WebRtcSide {
        public_ip: [203, 0, 113, 1].into(),
        port: 10000,
        ice: IceCredentials {
            ufrag: "u".into(),
            pwd: "p".into(),
        },
        fingerprint: Fingerprint {
            hash: HashFunction::Sha256,
            bytes: vec![0; 32],
        },
        setup_when_actpass: Setup::Passive,
    };
    if let Ok(out) = browser_offer_to_pbx(&sdp, &pbx, origin) {
        assert!(SessionDescription::parse(out.sdp.to_string().as_bytes(), &limits).is_ok());
    }
    if let Ok(out) = pbx_offer_to_browser(&sdp, &webrtc, &CodecPolicy::default(), &pbx.srtp, origin) {
        assert!(SessionDescription::parse(out.sdp.to_string().as_bytes(), &limits).is_ok());
    }
});
