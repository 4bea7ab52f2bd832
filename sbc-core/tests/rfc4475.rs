//! The 49 torture messages of RFC 4475, each a named case: received as a UDP
//! datagram, framed, parsed, validated and checked as a UAS would, and the
//! outcome compared with the reaction the RFC expects. The messages are the
//! RFC's own test vectors (see `tests/data/rfc4475/README.md`).

use bytes::Bytes;
use sbc_core::sip::framing::{Frame, frame_datagram};
use sbc_core::sip::headers::HeaderAccess;
use sbc_core::sip::validate::{
    UasPolicy, check_as_uas, is_for_uac, validate_request, validate_response,
};
use sbc_core::sip::{Limits, Message, MessageView, Method};

/// What an element of ours does with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Accepted for processing.
    Process,
    /// Answered with this status instead.
    Reject(u16),
    /// Dropped without a response.
    Discard,
}
use Outcome::{Discard, Process, Reject};

/// A UA serving registrations and messages as well as calls, so that the
/// only rejections are the ones the torture messages provoke.
fn policy() -> UasPolicy {
    let mut p = UasPolicy::default();
    p.methods.extend([Method::Register, Method::Message]);
    p.body_types.push(("multipart", "mixed"));
    p
}

fn outcome(raw: &[u8]) -> Outcome {
    let is_response = raw.starts_with(b"SIP/");
    let refuse = |e: sbc_core::sip::Error| match e.status() {
        Some(code) if !is_response => Reject(code),
        _ => Discard,
    };
    let frame = match frame_datagram(Bytes::copy_from_slice(raw), &Limits::default()) {
        Ok(Frame::Message(m)) => m,
        Ok(Frame::KeepAlive { .. }) => return Discard,
        Err(e) => return refuse(e),
    };
    let msg = match Message::parse(frame, &Limits::default()) {
        Ok(m) => m,
        Err(e) => return refuse(e),
    };
    if msg.is_request() {
        if let Err(e) = validate_request(&msg) {
            return refuse(e);
        }
        match check_as_uas(&msg, &policy()) {
            Ok(()) => Process,
            Err(r) => Reject(r.code),
        }
    } else if validate_response(&msg).is_ok() && is_for_uac(&msg) {
        Process
    } else {
        Discard
    }
}

/// Each file with the outcome RFC 4475 asks for. Where the RFC allows two
/// reactions, the comment says which one this element chooses.
const CASES: &[(&str, Outcome)] = &[
    // 3.1.1 valid messages
    ("wsinv", Process),
    ("intmeth", Reject(501)), // unknown method: parsed, then 501
    ("esc01", Process),
    ("escnull", Process),
    ("esc02", Reject(501)), // unknown method RE%47IST%45R: 501
    ("lwsdisp", Process),
    ("longreq", Process),
    ("dblreq", Process), // the first message only
    ("semiuri", Process),
    ("transports", Process),
    ("mpart01", Process),
    ("unreason", Process),
    ("noreason", Process),
    // 3.1.2 invalid messages
    ("badinv01", Reject(400)),
    ("clerr", Discard), // UDP: Content-Length past the datagram is discarded
    ("ncl", Reject(400)),
    ("scalar02", Reject(400)),
    ("scalarlg", Discard),
    ("quotbal", Reject(400)),
    ("ltgtruri", Reject(400)),
    ("lwsruri", Reject(400)),
    ("lwsstart", Reject(400)),
    ("trws", Reject(400)),
    ("escruri", Reject(400)),
    ("baddate", Reject(400)), // a Date not in GMT is refused rather than ignored
    ("regbadct", Reject(400)),
    ("badaspec", Reject(400)),
    ("baddn", Reject(400)),
    ("badvers", Reject(505)),
    ("mismatch01", Reject(400)),
    ("mismatch02", Reject(400)), // CSeq method differs: 400 (rather than 501)
    ("bigcode", Discard),
    // 3.2 transaction layer
    ("badbranch", Process),
    // 3.3 application layer
    ("insuf", Reject(400)),
    ("unkscm", Reject(416)),
    ("novelsc", Reject(416)), // soap.beep is never meaningful here: 416
    ("unksm2", Process),
    ("bext01", Reject(420)),
    ("invut", Reject(415)),
    ("regaut01", Reject(401)),
    ("multi01", Reject(400)),
    ("mcl01", Reject(400)),
    ("bcast", Discard),
    ("zeromf", Process), // OPTIONS with Max-Forwards 0 is answered
    ("cparam01", Process),
    ("cparam02", Process),
    ("regescrt", Process),
    ("sdp01", Reject(406)),
    // 3.4 backward compatibility
    ("inv2543", Process),
];

/// Messages the RFC calls well-formed must get through the parser itself,
/// whatever the later layers decide.
const PARSE_THEN_REFUSE: &[&str] = &[
    "intmeth",
    "esc02",
    "insuf",
    "unkscm",
    "novelsc",
    "bext01",
    "invut",
    "regaut01",
    "bcast",
    "sdp01",
    "badbranch",
    "zeromf",
];

fn load(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/data/rfc4475/{name}.dat",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn all_49_torture_messages() {
    assert_eq!(CASES.len(), 49);
    let mut failures = Vec::new();
    for &(name, expected) in CASES {
        let got = outcome(&load(name));
        if got != expected {
            failures.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    let passed = CASES.len() - failures.len();
    println!("RFC 4475: {passed}/{} as the RFC expects", CASES.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn well_formed_messages_parse_and_yield_routing_headers() {
    for &(name, expected) in CASES {
        if expected != Process && !PARSE_THEN_REFUSE.contains(&name) {
            continue;
        }
        let raw = load(name);
        let Ok(Frame::Message(bytes)) = frame_datagram(Bytes::from(raw), &Limits::default()) else {
            panic!("{name}: framing failed");
        };
        let view = MessageView::parse(&bytes, &Limits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        if name == "insuf" {
            continue; // lacks the very headers checked below, by design
        }
        view.top_via()
            .unwrap_or_else(|e| panic!("{name}: Via: {e}"));
        view.call_id()
            .unwrap_or_else(|e| panic!("{name}: Call-ID: {e}"));
        view.cseq().unwrap_or_else(|e| panic!("{name}: CSeq: {e}"));
        view.header_from()
            .unwrap_or_else(|e| panic!("{name}: From: {e}"));
        view.header_to()
            .unwrap_or_else(|e| panic!("{name}: To: {e}"));
    }
}

#[test]
fn details_of_selected_messages() {
    let parse = |name: &str| {
        let Ok(Frame::Message(b)) = frame_datagram(Bytes::from(load(name)), &Limits::default())
        else {
            panic!("{name}");
        };
        Message::parse(b, &Limits::default()).unwrap()
    };
    let wsinv = parse("wsinv");
    assert_eq!(wsinv.max_forwards(), Ok(Some(68)));
    assert_eq!(wsinv.cseq().unwrap().seq, 9);
    assert_eq!(wsinv.vias().count(), 3);
    assert_eq!(wsinv.header_to().unwrap().tag(), Some(&b"1918181833n"[..]));
    assert_eq!(wsinv.header_from().unwrap().tag(), Some(&b"98asjd8"[..]));
    assert_eq!(wsinv.body.len(), 150);
    let contact = wsinv.contacts().next().unwrap().unwrap();
    assert_eq!(contact.params.get("q"), Some(Some(&b"0.33"[..])));

    let dblreq = parse("dblreq");
    assert_eq!(dblreq.method(), Some(&Method::Register));
    assert!(dblreq.body.is_empty());

    let longreq = parse("longreq");
    assert!(longreq.vias().count() > 10);

    let escnull = parse("escnull");
    assert_eq!(escnull.contacts().count(), 2);

    let inv2543 = parse("inv2543");
    assert!(!inv2543.top_via().unwrap().has_rfc3261_branch());
    assert_eq!(inv2543.max_forwards(), Ok(None));
}
