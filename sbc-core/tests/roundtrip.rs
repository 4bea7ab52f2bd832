//! Round-trip property tests of the SIP parser and printer.
//!
//! Structured random messages (requests with known and extension methods,
//! responses, URIs with every host form, Via lists, quoted display names
//! with escapes, compact and long header names in random case, folded lines,
//! comma-separated lists, extension headers with arbitrary printable values,
//! bodies) are rendered to bytes together with the typed view a correct
//! parser must give back. Each is then parsed by [`MessageView::parse`] and
//! [`Message::parse`] and compared with that expectation, printed and parsed
//! again (the printer must be idempotent), and framed as a datagram and as a
//! stream. The typed parsers (`Uri`, `Via`, `NameAddr`, `CSeq`) get the same
//! treatment on their own.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use sbc_core::sip::framing::{Frame, StreamFramer, frame_datagram};
use sbc_core::sip::headers::{CSeq, HeaderAccess, NameAddr, Params, Via};
use sbc_core::sip::uri::{Host, Scheme, Uri};
use sbc_core::sip::validate::{validate_request, validate_response};
use sbc_core::sip::{HeaderName, Limits, Message, MessageView};
use std::net::{Ipv4Addr, Ipv6Addr};

#[path = "roundtrip/generators.rs"]
mod generators;
use generators::*;

// ---------------------------------------------------------------- white space

/// Where the grammar allows white space, how much goes there is drawn from
/// this per-case tape, so a failing case shrinks towards no extra space.
#[derive(Debug, Clone)]
struct Tape {
    bytes: Vec<u8>,
    at: usize,
}

impl Tape {
    fn new(bytes: Vec<u8>) -> Self {
        Tape { bytes, at: 0 }
    }

    fn next(&mut self) -> usize {
        if self.bytes.is_empty() {
            return 0;
        }
        let b = self.bytes[self.at % self.bytes.len()];
        self.at += 1;
        usize::from(b)
    }

    fn pick(&mut self, choices: &[&'static str]) -> &'static str {
        choices[self.next() % choices.len()]
    }

    /// Optional white space (SWS), folds included.
    fn sws(&mut self) -> &'static str {
        self.pick(&["", "", "", " ", "\t", "  ", "\r\n ", " \r\n\t "])
    }

    /// Required white space (LWS).
    fn lws(&mut self) -> &'static str {
        self.pick(&[" ", " ", "\t", "   ", "\r\n ", " \r\n\t"])
    }

    /// Blanks between a header name and its colon (no fold there).
    fn wsp(&mut self) -> &'static str {
        self.pick(&["", "", "", " ", "\t", "  "])
    }

    /// A header name in random case, its compact form sometimes.
    fn spell(&mut self, long: &str, compact: Option<&str>) -> String {
        let name = match compact {
            Some(c) if self.next().is_multiple_of(3) => c,
            _ => long,
        };
        name.chars()
            .map(|ch| match self.next() % 4 {
                0 => ch.to_ascii_lowercase(),
                1 => ch.to_ascii_uppercase(),
                _ => ch,
            })
            .collect()
    }
}

// ------------------------------------------------ expected (owned) typed views

type B = Vec<u8>;
type ParamList = Vec<(B, Option<B>)>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostX {
    Domain(B),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

fn host_x(h: &Host<'_>) -> HostX {
    match h {
        Host::Domain(d) => HostX::Domain(d.to_vec()),
        Host::V4(a) => HostX::V4(*a),
        Host::V6(a) => HostX::V6(*a),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct UriX {
    scheme: String,
    user: Option<B>,
    password: Option<B>,
    host: Option<HostX>,
    port: Option<u16>,
    params: ParamList,
    headers: Option<B>,
}

fn uri_x(u: &Uri<'_>) -> UriX {
    let scheme = match u.scheme {
        Scheme::Sip => "sip".to_owned(),
        Scheme::Sips => "sips".to_owned(),
        Scheme::Tel => "tel".to_owned(),
        Scheme::Other(s) => String::from_utf8_lossy(s).to_ascii_lowercase(),
    };
    UriX {
        scheme,
        user: u.user.map(<[u8]>::to_vec),
        password: u.password.map(<[u8]>::to_vec),
        host: u.host.as_ref().map(host_x),
        port: u.port,
        params: u
            .params()
            .map(|(n, v)| (n.to_vec(), v.map(<[u8]>::to_vec)))
            .collect(),
        headers: u.headers().map(<[u8]>::to_vec),
    }
}

fn params_x(p: &Params<'_>) -> ParamList {
    p.iter()
        .map(|(n, v)| (n.to_vec(), v.map(<[u8]>::to_vec)))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct NaX {
    display: Option<B>,
    uri: UriX,
    params: ParamList,
    tag: Option<B>,
}

fn na_x(n: &NameAddr<'_>) -> NaX {
    NaX {
        display: n.display.map(<[u8]>::to_vec),
        uri: uri_x(&n.uri),
        params: params_x(&n.params),
        tag: n.tag().map(<[u8]>::to_vec),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ViaX {
    transport: B,
    host: HostX,
    port: Option<u16>,
    params: ParamList,
    branch: Option<B>,
}

fn via_x(v: &Via<'_>) -> ViaX {
    ViaX {
        transport: v.transport.to_vec(),
        host: host_x(&v.host),
        port: v.port,
        params: params_x(&v.params),
        branch: v.branch().map(<[u8]>::to_vec),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum StartX {
    Request { method: B, uri: UriX },
    Response { code: u16, reason: B },
}

/// Everything the tests compare of a parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Summary {
    start: StartX,
    vias: Vec<ViaX>,
    from: NaX,
    to: NaX,
    call_id: B,
    cseq: (u32, B),
    max_forwards: Option<u8>,
    routes: Vec<NaX>,
    record_routes: Vec<NaX>,
    contacts: Vec<NaX>,
    supported: Vec<B>,
    content_type: Option<(B, B)>,
    /// Extension headers, name as written and value, in order.
    unknown: Vec<(B, B)>,
    body: B,
}

/// The summary of a parsed message, through [`HeaderAccess`] only.
fn summarize(start: StartX, m: &impl HeaderAccess, unknown: Vec<(B, B)>, body: B) -> Summary {
    fn nas<'a>(it: impl Iterator<Item = Result<NameAddr<'a>, sbc_core::sip::Error>>) -> Vec<NaX> {
        it.map(|n| na_x(&n.expect("name-addr"))).collect()
    }
    let cseq = m.cseq().expect("CSeq");
    Summary {
        start,
        vias: m.vias().map(|v| via_x(&v.expect("Via"))).collect(),
        from: na_x(&m.header_from().expect("From")),
        to: na_x(&m.header_to().expect("To")),
        call_id: m.call_id().expect("Call-ID").to_vec(),
        cseq: (cseq.seq, cseq.method.as_bytes().to_vec()),
        max_forwards: m.max_forwards().expect("Max-Forwards"),
        routes: nas(m.routes()),
        record_routes: nas(m.record_routes()),
        contacts: nas(m.contacts()),
        supported: m
            .option_tags(HeaderName::Supported)
            .map(|t| t.expect("option tag").to_vec())
            .collect(),
        content_type: m
            .content_type()
            .expect("Content-Type")
            .map(|t| (t.kind.to_vec(), t.subtype.to_vec())),
        unknown,
        body,
    }
}

fn summarize_view(v: &MessageView<'_>) -> Summary {
    let start = match v.start {
        sbc_core::sip::parse::StartLineView::Request { method, uri } => StartX::Request {
            method: method.to_vec(),
            uri: uri_x(&Uri::parse(uri).expect("Request-URI")),
        },
        sbc_core::sip::parse::StartLineView::Response { code, reason } => StartX::Response {
            code,
            reason: reason.to_vec(),
        },
    };
    let unknown = v
        .headers
        .iter()
        .filter(|h| h.name == HeaderName::Other)
        .map(|h| (h.raw_name.to_vec(), h.value.to_vec()))
        .collect();
    let len = v
        .content_length()
        .expect("Content-Length")
        .expect("present");
    summarize(start, v, unknown, v.rest[..len].to_vec())
}

fn summarize_message(m: &Message) -> Summary {
    let start = match &m.start {
        sbc_core::sip::StartLine::Request { method, uri } => StartX::Request {
            method: method.as_bytes().to_vec(),
            uri: uri_x(&Uri::parse(uri).expect("Request-URI")),
        },
        sbc_core::sip::StartLine::Response { code, reason } => StartX::Response {
            code: *code,
            reason: reason.to_vec(),
        },
    };
    let unknown = m
        .headers
        .iter()
        .filter(|h| h.name == HeaderName::Other)
        .map(|h| (h.raw_name.to_vec(), h.value.to_vec()))
        .collect();
    summarize(start, m, unknown, m.body.to_vec())
}

// ------------------------------------------------------------------ properties

fn limits() -> Limits {
    Limits::default()
}

/// Feeds `bytes` to a stream framer in chunks sized from `sizes` and returns
/// every frame it gives.
fn stream_frames(bytes: &[u8], sizes: &[u8]) -> Vec<Frame> {
    let mut framer = StreamFramer::new(limits());
    let mut frames = Vec::new();
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let size = 1 + usize::from(sizes.get(i % sizes.len().max(1)).copied().unwrap_or(255));
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        framer.push(chunk).expect("within limits");
        while let Some(f) = framer.poll_frame().expect("well-framed stream") {
            frames.push(f);
        }
        rest = tail;
        i += 1;
    }
    assert_eq!(framer.buffered(), 0, "bytes left in the framer");
    frames
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn messages_round_trip(g in message()) {
        let (wire, expected) = render(&g);
        let text = String::from_utf8_lossy(&wire).into_owned();

        let view = MessageView::parse(&wire, &limits())
            .unwrap_or_else(|e| panic!("view: {e}\n{text}"));
        prop_assert_eq!(&summarize_view(&view), &expected, "view of\n{}", text);

        let m = Message::parse(Bytes::from(wire.clone()), &limits())
            .unwrap_or_else(|e| panic!("message: {e}\n{text}"));
        prop_assert_eq!(&summarize_message(&m), &expected, "message of\n{}", text);
        let valid = if m.is_request() { validate_request(&m) } else { validate_response(&m) };
        prop_assert_eq!(valid, Ok(()), "validation of\n{}", text);

        // The printer is idempotent: parse(print(parse(x))) == parse(x).
        let printed = m.to_bytes();
        let again = Message::parse(printed.clone(), &limits())
            .unwrap_or_else(|e| panic!("reparse: {e}\n{}", String::from_utf8_lossy(&printed)));
        prop_assert_eq!(&again, &m);
        prop_assert_eq!(again.to_bytes(), printed);

        // Framed whole as a datagram, and from any chunking of a stream.
        prop_assert_eq!(
            frame_datagram(Bytes::from(wire.clone()), &limits()),
            Ok(Frame::Message(Bytes::from(wire.clone())))
        );
        prop_assert_eq!(
            stream_frames(&wire, &g.tape),
            vec![Frame::Message(Bytes::from(wire.clone()))]
        );
    }

    #[test]
    fn uris_round_trip(u in sip_uri(false, true)) {
        let text = u.render();
        let parsed = Uri::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"));
        prop_assert_eq!(uri_x(&parsed), u.expect(), "{}", text);
        prop_assert_eq!(parsed.as_bytes(), text.as_bytes());
    }

    #[test]
    fn vias_round_trip(v in via(), tape in vec(any::<u8>(), 0..16)) {
        let (text, expected) = v.render(&mut Tape::new(tape));
        let parsed = Via::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text:?}"));
        prop_assert_eq!(via_x(&parsed), expected, "{:?}", text);
    }

    #[test]
    fn name_addrs_round_trip(n in name_addr(true), tape in vec(any::<u8>(), 0..16)) {
        let (text, expected) = n.render(&mut Tape::new(tape));
        let parsed = NameAddr::parse(text.as_bytes(), "To")
            .unwrap_or_else(|e| panic!("{e}: {text:?}"));
        prop_assert_eq!(na_x(&parsed), expected, "{:?}", text);
    }

    #[test]
    fn cseqs_round_trip(seq in 0u32..(1 << 31), m in method(), tape in vec(any::<u8>(), 0..4)) {
        let t = &mut Tape::new(tape);
        let text = format!("{}{seq}{}{m}{}", t.sws(), t.lws(), t.sws());
        let parsed = CSeq::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text:?}"));
        prop_assert_eq!((parsed.seq, parsed.method.as_bytes()), (seq, m.as_bytes()));
    }
}
