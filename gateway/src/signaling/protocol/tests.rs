//! Frame parsing: every request shape, and every way a frame can be wrong.

use super::*;

fn err(text: &str) -> ProtocolError {
    parse_frame(text).unwrap_err()
}

#[test]
fn every_request_type_parses() {
    let frames = [
        r#"{"type":"hello","id":1,"token":"t","resume":"r"}"#,
        r#"{"type":"ping","id":"a"}"#,
        r#"{"type":"register","id":2,"user":"1001","password":"p","domain":"d","expires":600}"#,
        r#"{"type":"unregister","id":3}"#,
        r#"{"type":"call","id":4,"call":"c1","to":"600","sdp":"v=0","headers":{"X-Foo":"bar"}}"#,
        r#"{"type":"answer","id":5,"call":"in-7","sdp":"v=0"}"#,
        r#"{"type":"ringing","id":6,"call":"in-7"}"#,
        r#"{"type":"reject","id":7,"call":"in-7","code":603}"#,
        r#"{"type":"hangup","id":8,"call":"c1"}"#,
        r#"{"type":"dtmf","id":9,"call":"c1","digits":"12#","duration_ms":100}"#,
        r#"{"type":"hold","id":10,"call":"c1"}"#,
        r#"{"type":"unhold","id":10,"call":"c1"}"#,
        r#"{"type":"transfer","id":11,"call":"c1","to":"602"}"#,
        r#"{"type":"sdp","id":12,"call":"c1","sdp":"v=0"}"#,
        r#"{"type":"candidate","call":"c1","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0}}"#,
        r#"{"type":"candidate","call":"c1","candidate":null}"#,
    ];
    for f in frames {
        parse_frame(f).unwrap_or_else(|e| panic!("{f}: {e:?}"));
    }
    let call =
        parse_frame(r#"{"type":"call","id":4,"call":"c1","to":"600","sdp":"v=0","extra":true}"#)
            .unwrap();
    assert_eq!(call.id, Some(json!(4)));
    assert!(matches!(call.request, Request::Call { ref headers, .. } if headers.is_empty()));
}

#[test]
fn malformed_frames_are_bad_requests_with_the_id_when_readable() {
    for text in [
        "",
        "{",
        "[1,2]",
        "42",
        "\"hello\"",
        "{\"id\":1}",
        "{\"type\":5,\"id\":1}",
    ] {
        assert_eq!(err(text).code, ErrorCode::BadRequest, "{text:?}");
    }
    assert_eq!(
        err(r#"{"type":"ping","id":{"x":1}}"#).code,
        ErrorCode::BadRequest
    );
    let e = err(r#"{"type":"call","id":"x","call":"c1"}"#);
    assert_eq!((e.code, e.id), (ErrorCode::BadRequest, Some(json!("x"))));
    let e = err(r#"{"type":"ping"}"#);
    assert_eq!(e.code, ErrorCode::BadRequest, "requests need an id");
    let e = err(r#"{"type":"call","id":1,"call":"","to":"600","sdp":"v=0"}"#);
    assert_eq!(e.code, ErrorCode::BadRequest);
    let e = err(r#"{"type":"dtmf","id":1,"call":"c","digits":"12x"}"#);
    assert_eq!(e.code, ErrorCode::BadRequest);
    let e = err(r#"{"type":"reject","id":1,"call":"c","code":200}"#);
    assert_eq!(e.code, ErrorCode::BadRequest);
    let e = err(r#"{"type":"call","id":1,"call":"c","to":600,"sdp":"v=0"}"#);
    assert_eq!(e.code, ErrorCode::BadRequest);
}

#[test]
fn unknown_types_and_oversized_frames() {
    let e = err(r#"{"type":"teleport","id":3}"#);
    assert_eq!((e.code, e.id), (ErrorCode::UnknownType, Some(json!(3))));
    let big = format!(
        r#"{{"type":"ping","id":1,"pad":"{}"}}"#,
        "x".repeat(MAX_FRAME)
    );
    assert_eq!(err(&big).code, ErrorCode::BadRequest);
}

#[test]
fn answers_and_events_have_the_protocol_shape() {
    assert_eq!(
        ok(&json!(1), json!({"version": 1})),
        json!({"type":"ok","id":1,"version":1})
    );
    let e = ProtocolError {
        sip_status: Some(486),
        ..ProtocolError::new(Some(json!("a")), ErrorCode::NoRoute, "busy")
    };
    assert_eq!(
        e.to_frame(),
        json!({"type":"error","id":"a","code":"no_route","message":"busy","sip_status":486})
    );
    assert_eq!(
        ended("c1", EndedBy::Remote, Some(486), "Busy Here"),
        json!({"type":"ended","call":"c1","by":"remote","sip_status":486,"reason":"Busy Here"})
    );
    assert_eq!(
        progress("c1", 180, None),
        json!({"type":"progress","call":"c1","sip_status":180})
    );
    assert_eq!(
        answered("c1", Some("v=0")),
        json!({"type":"answered","call":"c1","sdp":"v=0"})
    );
}

#[test]
fn the_id_of_a_frame_is_read_without_checking_the_rest() {
    assert_eq!(request_id_of(r#"{"type":"ping","id":7}"#), Some(json!(7)));
    assert_eq!(
        request_id_of(r#"{"id":"x","whatever":[1]}"#),
        Some(json!("x"))
    );
    assert_eq!(request_id_of(r#"{"id":{"a":1}}"#), None);
    assert_eq!(request_id_of("not json"), None);
}
