//! Tests of out-of-dialog request building and of the requests derived from
//! one already sent.

use super::*;
use crate::sip::Limits;
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

fn via() -> LocalVia {
    LocalVia::new(Transport::Udp, "192.0.2.1:5060").unwrap()
}

/// Prints, parses and prints again: the two prints must be equal.
fn reparse(m: &Message) -> Message {
    let printed = m.to_bytes();
    let parsed = Message::parse(printed.clone(), &Limits::default()).unwrap();
    assert_eq!(parsed.to_bytes(), printed);
    parsed
}

fn invite() -> RequestBuilder {
    RequestBuilder::new(
        Method::Invite,
        "sip:bob@biloxi.example.com",
        "\"Alice\" <sip:alice@atlanta.example.com>",
        "Bob <sip:bob@biloxi.example.com>",
        via(),
    )
    .contact("<sip:alice@192.0.2.1:5060>")
}

#[test]
fn builds_an_invite_per_8_1_1() {
    let req = invite()
        .route("<sip:p1.example.com;lr>")
        .route("<sip:p2.example.com;lr>")
        .user_agent("sbc/0.1")
        .supported("timer, 100rel")
        .header(HeaderName::Allow, Method::ALLOWED)
        .header_raw("X-Call-Ref", "42")
        .body("application/sdp", "v=0\r\n")
        .build(&mut rng())
        .unwrap();
    let m = reparse(req.message());
    assert_eq!(m.method(), Some(&Method::Invite));
    assert_eq!(&m.request_uri().unwrap()[..], b"sip:bob@biloxi.example.com");
    assert_eq!(m.call_id().unwrap(), req.call_id().as_bytes());
    assert!(m.call_id().unwrap().len() >= 16);
    assert_eq!(
        m.header_from().unwrap().tag(),
        Some(req.from_tag().as_bytes())
    );
    assert_eq!(m.header_from().unwrap().display, Some(&b"Alice"[..]));
    assert_eq!(m.header_to().unwrap().tag(), None);
    let cseq = m.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (1, Method::Invite));
    assert_eq!(m.max_forwards().unwrap(), Some(70));
    let top = m.top_via().unwrap();
    assert_eq!(top.transport, b"UDP");
    assert_eq!(top.sent_by(), "192.0.2.1:5060");
    assert_eq!(top.branch(), Some(req.branch().as_bytes()));
    assert!(top.has_rfc3261_branch());
    assert_eq!(top.rport(), Some(None));
    let routes: Vec<_> = m.routes().map(|r| r.unwrap().uri.as_bytes()).collect();
    assert_eq!(
        routes,
        [&b"sip:p1.example.com;lr"[..], b"sip:p2.example.com;lr"]
    );
    assert_eq!(m.contacts().count(), 1);
    assert_eq!(
        &m.headers.get(HeaderName::UserAgent).unwrap()[..],
        b"sbc/0.1"
    );
    assert_eq!(&m.headers.get_raw("x-call-ref").unwrap()[..], b"42");
    assert!(m.content_type().unwrap().unwrap().is("application", "sdp"));
    assert_eq!(m.body, "v=0\r\n");
}

#[test]
fn fresh_identifiers_per_request() {
    let mut rng = rng();
    let a = invite().build(&mut rng).unwrap();
    let b = invite().build(&mut rng).unwrap();
    assert_ne!(a.call_id(), b.call_id());
    assert_ne!(a.from_tag(), b.from_tag());
    assert_ne!(a.branch(), b.branch());
}

#[test]
fn register_reuses_call_id_and_allows_wildcard_contact() {
    let call_id = CallId::new("reg-1@gw.example.net").unwrap();
    let req = RequestBuilder::new(
        Method::Register,
        "sip:registrar.example.com",
        "<sip:gw@example.com>",
        "<sip:gw@example.com>",
        via(),
    )
    .call_id(call_id.clone())
    .cseq(8)
    .contact("*")
    .header(HeaderName::Expires, "0")
    .build(&mut rng())
    .unwrap();
    let m = reparse(req.message());
    assert_eq!(m.call_id().unwrap(), call_id.as_bytes());
    assert_eq!(m.cseq().unwrap().seq, 8);
    assert!(m.is_wildcard_contact());
}

#[test]
fn refuses_bad_input() {
    let expect = |b: RequestBuilder, e: RequestError| assert_eq!(b.build(&mut rng()), Err(e));
    let b = |method, ruri: &'static str, from: &'static str, to: &'static str| {
        RequestBuilder::new(method, ruri, from, to, via()).contact("<sip:a@192.0.2.1>")
    };
    expect(
        b(Method::Options, "sip:b@h", "<sip:a@h>;tag=1", "<sip:b@h>"),
        RequestError::UnexpectedTag { field: "From" },
    );
    expect(
        b(Method::Options, "sip:b@h", "<sip:a@h>", "<sip:b@h>;tag=2"),
        RequestError::UnexpectedTag { field: "To" },
    );
    expect(
        b(Method::Options, "<sip:b@h>", "<sip:a@h>", "<sip:b@h>"),
        RequestError::Invalid {
            field: "Request-URI",
        },
    );
    expect(
        b(
            Method::Options,
            "sip:b@h?Subject=x",
            "<sip:a@h>",
            "<sip:b@h>",
        ),
        RequestError::Invalid {
            field: "Request-URI",
        },
    );
    expect(
        b(Method::Options, "sip:b@h", "<sip:a@h", "<sip:b@h>"),
        RequestError::Invalid { field: "From" },
    );
    expect(
        b(Method::Ack, "sip:b@h", "<sip:a@h>", "<sip:b@h>"),
        RequestError::Method {
            method: Method::Ack,
            action: "built out of dialog",
        },
    );
    let no_contact =
        RequestBuilder::new(Method::Invite, "sip:b@h", "<sip:a@h>", "<sip:b@h>", via());
    expect(
        no_contact,
        RequestError::Missing {
            method: Method::Invite,
            field: "Contact",
        },
    );
    expect(
        invite().contact("*"),
        RequestError::Invalid { field: "Contact" },
    );
    expect(
        invite().user_agent("x\r\nVia: SIP/2.0/UDP evil"),
        RequestError::Invalid {
            field: "User-Agent",
        },
    );
    expect(
        invite().header(HeaderName::Via, "SIP/2.0/UDP evil"),
        RequestError::OwnedHeader(HeaderName::Via),
    );
    expect(
        invite().header_raw("v", "SIP/2.0/UDP evil"),
        RequestError::OwnedHeader(HeaderName::Via),
    );
    expect(
        invite().header_raw("X Bad", "1"),
        RequestError::Invalid {
            field: "extra header name",
        },
    );
    expect(
        invite().route("<sip:a;lr>, <sip:b;lr>"),
        RequestError::Invalid { field: "Route" },
    );
    expect(
        invite().cseq(1 << 31),
        RequestError::CSeqOutOfRange(1 << 31),
    );
    expect(
        invite().body("sdp", "v=0"),
        RequestError::Invalid {
            field: "Content-Type",
        },
    );
}

#[test]
fn next_attempt_after_a_challenge() {
    let mut rng = rng();
    let first = invite()
        .route("<sip:p1.example.com;lr>")
        .body("application/sdp", "v=0\r\n")
        .build(&mut rng)
        .unwrap();
    let mut sent = first.message().clone();
    sent.headers
        .push(HeaderName::ProxyAuthorization, "Digest username=\"a\"");
    let next = reparse(&next_attempt(&sent, &mut rng).unwrap());
    assert_eq!(next.call_id().unwrap(), first.call_id().as_bytes());
    assert_eq!(
        next.header_from().unwrap().tag(),
        Some(first.from_tag().as_bytes())
    );
    let cseq = next.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (2, Method::Invite));
    let via = next.top_via().unwrap();
    assert!(via.has_rfc3261_branch());
    assert_ne!(via.branch(), Some(first.branch().as_bytes()));
    assert_eq!(via.rport(), Some(None));
    assert_eq!(next.vias().count(), 1);
    assert_eq!(next.routes().count(), 1);
    assert_eq!(next.body, "v=0\r\n");
    assert!(next.headers.get(HeaderName::ProxyAuthorization).is_none());
    assert_eq!(next.request_uri(), first.message().request_uri());

    let ack = Message::request(Method::Ack, "sip:b@h");
    assert!(matches!(
        next_attempt(&ack, &mut rng),
        Err(RequestError::Method { .. })
    ));
    assert_eq!(
        next_attempt(&Message::response(200, "OK"), &mut rng),
        Err(RequestError::NotARequest)
    );
    let mut last = sent.clone();
    last.headers.set(HeaderName::CSeq, "2147483647 INVITE");
    assert_eq!(
        next_attempt(&last, &mut rng),
        Err(RequestError::CSeqOutOfRange(1 << 31))
    );
    let mut broken = sent;
    broken.headers.set(HeaderName::Via, "garbage");
    assert!(matches!(
        next_attempt(&broken, &mut rng),
        Err(RequestError::Malformed(_))
    ));
}

#[test]
fn cancel_matches_the_invite() {
    let invite = invite()
        .route("<sip:p1.example.com;lr>")
        .build(&mut rng())
        .unwrap();
    let cancel = reparse(&cancel_for(invite.message()).unwrap());
    let i = invite.message();
    assert_eq!(cancel.method(), Some(&Method::Cancel));
    assert_eq!(cancel.request_uri(), i.request_uri());
    assert_eq!(cancel.top_via().unwrap(), i.top_via().unwrap());
    assert_eq!(cancel.vias().count(), 1);
    assert_eq!(cancel.call_id().unwrap(), i.call_id().unwrap());
    assert_eq!(cancel.header_from().unwrap(), i.header_from().unwrap());
    assert_eq!(cancel.header_to().unwrap(), i.header_to().unwrap());
    let cseq = cancel.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (1, Method::Cancel));
    assert_eq!(cancel.routes().count(), 1);
    assert!(cancel.body.is_empty());
    let options = Message::request(Method::Options, "sip:b@h");
    assert!(matches!(
        cancel_for(&options),
        Err(RequestError::Method { .. })
    ));
}

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(vec![
        Method::Invite,
        Method::Options,
        Method::Register,
        Method::Message,
        Method::Subscribe,
        Method::Info,
        Method::Update,
        Method::Refer,
        Method::Bye,
        Method::Notify,
        Method::Publish,
    ])
}

fn transport() -> impl Strategy<Value = Transport> {
    prop::sample::select(vec![
        Transport::Udp,
        Transport::Tcp,
        Transport::Tls,
        Transport::Sctp,
        Transport::Ws,
        Transport::Wss,
    ])
}

const HOST: &str = "[a-z][a-z0-9-]{0,8}(\\.[a-z]{1,6}){0,2}";

fn address() -> impl Strategy<Value = String> {
    (
        prop::option::of("[A-Za-z0-9 ]{0,12}"),
        "[a-z0-9+._-]{1,12}",
        HOST,
        prop::option::of(1u16..),
    )
        .prop_map(|(display, user, host, port)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            match display {
                Some(d) => format!("\"{d}\" <sip:{user}@{host}{port}>"),
                None => format!("<sip:{user}@{host}{port}>"),
            }
        })
}

proptest! {
    #[test]
    fn built_requests_parse_back(
        method in method(),
        transport in transport(),
        sent_by in HOST,
        user in "[a-z0-9]{1,10}",
        host in HOST,
        from in address(),
        to in address(),
        routes in prop::collection::vec((HOST, any::<bool>()), 0..3),
        seq in 0u32..(1 << 31),
        body in prop::option::of("[ -~]{0,40}"),
        seed in any::<u64>(),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let via = LocalVia::new(transport, &sent_by).unwrap();
        let ruri = format!("sip:{user}@{host}");
        let mut b = RequestBuilder::new(method.clone(), ruri.clone(), from, to, via)
            .contact(format!("<sip:{user}@{sent_by}>"))
            .cseq(seq);
        for (h, lr) in routes {
            b = b.route(format!("<sip:{h}{}>", if lr { ";lr" } else { "" }));
        }
        if let Some(body) = body {
            b = b.body("text/plain", body);
        }
        let req = b.build(&mut rng).unwrap();
        let m = reparse(req.message());
        prop_assert_eq!(m.call_id().unwrap(), req.call_id().as_bytes());
        prop_assert_eq!(m.header_from().unwrap().tag(), Some(req.from_tag().as_bytes()));
        prop_assert_eq!(m.header_to().unwrap().tag(), None);
        let cseq = m.cseq().unwrap();
        prop_assert_eq!((cseq.seq, &cseq.method), (seq, &method));
        prop_assert_eq!(m.top_via().unwrap().branch(), Some(req.branch().as_bytes()));
        prop_assert_eq!(&m.request_uri().unwrap()[..], ruri.as_bytes());
        prop_assert_eq!(&m.body, &req.message().body);
    }
}
