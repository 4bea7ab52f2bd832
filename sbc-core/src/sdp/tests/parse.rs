//! Parser and printer on realistic and broken descriptions.

use super::fixtures::*;
use crate::sdp::{Direction, Limits, ParseError, SessionDescription};

fn parse(s: &str) -> Result<SessionDescription, ParseError> {
    SessionDescription::parse(s.as_bytes(), &Limits::default())
}

#[test]
fn chrome_offer_parses_and_prints_back_verbatim() {
    let sdp = parse(CHROME_OFFER).unwrap();
    assert_eq!(sdp.origin.session_id, "4611731400430051336");
    assert_eq!(sdp.media.len(), 1);
    let m = &sdp.media[0];
    assert_eq!((m.media.as_str(), m.port), ("audio", 9));
    assert_eq!(m.proto, "UDP/TLS/RTP/SAVPF");
    assert_eq!(
        m.payload_types().collect::<Vec<_>>(),
        [111, 63, 9, 0, 8, 13, 110, 126]
    );
    assert_eq!(sdp.to_string(), CHROME_OFFER);
}

#[test]
fn bare_lf_blank_lines_and_trailing_space_are_accepted() {
    let sdp = parse(FREESWITCH_OFFER).unwrap();
    assert_eq!(sdp.media[0].rtcp().unwrap().port, 24681);
    let sdp =
        parse("v=0\n\no=- 1 1 IN IP4 10.0.0.1  \ns=\nm=audio 4000 RTP/AVP 0\na=sendonly \n\n")
            .unwrap();
    assert_eq!(sdp.session_name, "");
    assert_eq!(sdp.timings.len(), 1, "a missing t= is supplied");
    assert_eq!(sdp.media[0].direction(), Some(Direction::SendOnly));
    assert!(sdp.to_string().ends_with("a=sendonly\r\n"));
}

#[test]
fn unknown_attributes_are_kept_in_order() {
    let text = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\na=x-foo:bar baz\r\na=zz\r\nm=audio 1 RTP/AVP 0\r\na=x-one\r\na=rtpmap:0 PCMU/8000\r\na=x-two:2\r\n";
    let sdp = parse(text).unwrap();
    assert_eq!(sdp.value("x-foo"), Some("bar baz"));
    assert!(sdp.has("zz"));
    let names: Vec<_> = sdp.media[0].attributes.iter().map(|a| &a.name).collect();
    assert_eq!(names, ["x-one", "rtpmap", "x-two"]);
    assert_eq!(sdp.to_string(), text);
}

#[test]
fn strict_where_it_matters() {
    let head = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n";
    let cases: &[(&str, ParseError)] = &[
        ("o=- 1 1 IN IP4 1.2.3.4\r\n", ParseError::MissingVersion),
        ("", ParseError::MissingVersion),
        ("v=1\r\n", ParseError::Version),
        ("v=0\r\ns=-\r\n", ParseError::MissingOrigin),
    ];
    for (text, err) in cases {
        assert_eq!(parse(text).unwrap_err(), *err, "{text:?}");
    }
    for (tail, field) in [
        ("m=audio 70000 RTP/AVP 0\r\n", "port"),
        ("m=audio x RTP/AVP 0\r\n", "port"),
        ("m=audio 4000 RTP/AVP\r\n", "m="),
        ("m=audio\r\n", "m="),
        ("c=IN IP4\r\n", "c="),
        ("b=AS\r\n", "b="),
        ("t=0\r\n", "t="),
    ] {
        let err = parse(&format!("{head}{tail}")).unwrap_err();
        assert!(
            matches!(err, ParseError::Field { line: 5, field: f } if f == field),
            "{tail:?}: {err:?}"
        );
    }
    assert_eq!(
        parse(&format!("{head}x=1\r\n")).unwrap_err(),
        ParseError::Line { line: 5 }
    );
    assert_eq!(
        parse(&format!("{head}garbage\r\n")).unwrap_err(),
        ParseError::Line { line: 5 }
    );
    assert_eq!(
        parse(&format!(
            "{head}m=audio 1 RTP/AVP 0\r\nc=IN IP4 1.1.1.1\r\nc=IN IP4 1.1.1.1\r\n"
        ))
        .unwrap_err(),
        ParseError::Duplicate {
            line: 7,
            field: "c="
        }
    );
    assert_eq!(
        parse(&format!("{head}m=audio 1 RTP/AVP 0\r\nt=0 0\r\n")).unwrap_err(),
        ParseError::Line { line: 6 }
    );
    assert_eq!(
        parse(&format!("{head}v=0\r\n")).unwrap_err().sip_status(),
        400
    );
}

#[test]
fn bounded() {
    let limits = Limits {
        max_size: 10_000,
        max_lines: 20,
        max_media: 2,
    };
    let head = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n";
    let many_media = format!("{head}{}", "m=audio 1 RTP/AVP 0\r\n".repeat(3));
    assert_eq!(
        SessionDescription::parse(many_media.as_bytes(), &limits).unwrap_err(),
        ParseError::TooManyMedia { limit: 2 }
    );
    let many_lines = format!("{head}{}", "a=x\r\n".repeat(17));
    assert_eq!(
        SessionDescription::parse(many_lines.as_bytes(), &limits).unwrap_err(),
        ParseError::TooManyLines { limit: 20 }
    );
    let ok = format!("{head}{}", "a=x\r\n".repeat(16));
    assert!(SessionDescription::parse(ok.as_bytes(), &limits).is_ok());
    let big = format!("{head}a={}\r\n", "x".repeat(10_000));
    assert_eq!(
        SessionDescription::parse(big.as_bytes(), &limits).unwrap_err(),
        ParseError::TooLarge { limit: 10_000 }
    );
}

#[test]
fn session_level_direction_is_the_default_for_media() {
    let sdp = parse("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\na=inactive\r\nm=audio 1 RTP/AVP 0\r\nm=audio 2 RTP/AVP 0\r\na=recvonly\r\n").unwrap();
    assert_eq!(sdp.effective_direction(&sdp.media[0]), Direction::Inactive);
    assert_eq!(sdp.effective_direction(&sdp.media[1]), Direction::RecvOnly);
}

#[test]
fn non_utf8_bytes_do_not_fail() {
    let mut bytes = b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=caf".to_vec();
    bytes.extend_from_slice(&[0xe9, b'\r', b'\n']);
    let sdp = SessionDescription::parse(&bytes, &Limits::default()).unwrap();
    assert_eq!(sdp.session_name, "caf\u{fffd}");
}

#[test]
fn every_fixture_round_trips() {
    for text in [
        CHROME_OFFER,
        CHROME_ANSWER,
        ASTERISK_ANSWER,
        ASTERISK_HOLD_OFFER,
        FREESWITCH_OFFER,
    ] {
        let sdp = parse(text).unwrap();
        assert_eq!(parse(&sdp.to_string()).unwrap(), sdp);
        assert_eq!(
            sdp.to_string(),
            text.replace("\r\n", "\n").replace('\n', "\r\n")
        );
    }
}
