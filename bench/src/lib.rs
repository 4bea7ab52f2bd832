//! The workload of the SIP parser benchmark: a realistic ~1 KB INVITE is
//! parsed and the headers an SBC routes on are read (top Via branch and
//! sent-by, the Route list, Call-ID, CSeq, From tag, To tag, Max-Forwards,
//! Content-Length), once with sbc-core's zero-copy parser and once with
//! rsip 0.4. Both report what they read to a [`Sink`], so a test can check
//! that they read the same values and the benchmark can hide them from the
//! optimiser. [`CountingAlloc`] counts the allocations of either path.
//!
//! The workload of the relay benchmark (`--bin relay`) is in [`relay`]; the
//! comparison of our media relay with rtpengine (`--bin relay_vs_rtpengine`)
//! is in [`versus`].

mod alloc;
pub mod relay;
pub mod versus;

pub use alloc::{CountingAlloc, count_allocations, live_bytes};

use sbc_core::sip::headers::HeaderAccess;
use sbc_core::sip::uri::Host;
use sbc_core::sip::{Limits, MessageView};
use std::hint::black_box;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The benchmark message: two Vias, Max-Forwards, two Routes, a
/// Record-Route, From, To, Call-ID, CSeq, Contact, Allow, Supported,
/// User-Agent, Content-Type, Content-Length and a 278-byte SDP body;
/// 1092 bytes in all.
pub const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK74bf9c1.1\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;received=192.0.2.10;rport=5060\r\n\
Max-Forwards: 69\r\n\
Route: <sip:edge.biloxi.example.com;lr>\r\n\
Route: <sip:core.biloxi.example.com:5060;transport=tcp;lr>\r\n\
Record-Route: <sip:198.51.100.1;lr>\r\n\
From: \"Alice Liddell\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
To: \"Bob\" <sip:bob@biloxi.example.com>\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@192.0.2.10:5060;transport=udp>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, REFER, NOTIFY, INFO\r\n\
Supported: replaces, timer, 100rel\r\n\
User-Agent: ExampleSoftphone/5.1.3 (Linux x86_64)\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 278\r\n\
\r\n\
v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n\
s=-\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0 8 9 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=maxptime:150\r\n\
a=sendrecv\r\n";

/// The routing fields both paths read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    /// The branch of the top Via.
    Branch,
    /// The host of the top Via's sent-by.
    SentByHost,
    /// The port of the top Via's sent-by.
    SentByPort,
    /// The host of one Route URI, in order.
    RouteHost,
    /// The Call-ID.
    CallId,
    /// The CSeq number.
    CSeqNumber,
    /// The CSeq method.
    CSeqMethod,
    /// The From tag.
    FromTag,
    /// The To tag, when there is one.
    ToTag,
    /// Max-Forwards.
    MaxForwards,
    /// Content-Length.
    ContentLength,
}

/// Where the paths put what they read.
pub trait Sink {
    /// A text value.
    fn text(&mut self, field: Field, value: &[u8]);
    /// A number.
    fn number(&mut self, field: Field, value: u64);
    /// An IP address.
    fn ip(&mut self, field: Field, value: IpAddr);
}

/// Hides every value from the optimiser and keeps nothing.
#[derive(Debug, Default)]
pub struct Opaque;

impl Sink for Opaque {
    fn text(&mut self, field: Field, value: &[u8]) {
        black_box((field, value));
    }
    fn number(&mut self, field: Field, value: u64) {
        black_box((field, value));
    }
    fn ip(&mut self, field: Field, value: IpAddr) {
        black_box((field, value));
    }
}

/// Keeps every value, as text, in the order read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Collect(pub Vec<(Field, String)>);

impl Sink for Collect {
    fn text(&mut self, field: Field, value: &[u8]) {
        self.0
            .push((field, String::from_utf8_lossy(value).into_owned()));
    }
    fn number(&mut self, field: Field, value: u64) {
        self.0.push((field, value.to_string()));
    }
    fn ip(&mut self, field: Field, value: IpAddr) {
        self.0.push((field, value.to_string()));
    }
}

fn our_host(sink: &mut impl Sink, field: Field, host: &Host<'_>) {
    match host {
        Host::Domain(d) => sink.text(field, d),
        Host::V4(a) => sink.ip(field, IpAddr::V4(*a)),
        Host::V6(a) => sink.ip(field, IpAddr::V6(*a)),
    }
}

/// sbc-core: [`MessageView::parse`] and the typed views of [`HeaderAccess`].
pub fn ours(buf: &[u8], sink: &mut impl Sink) -> Result<(), sbc_core::sip::Error> {
    let m = MessageView::parse(buf, &Limits::default())?;
    let via = m.top_via()?;
    sink.text(Field::Branch, via.branch().unwrap_or_default());
    our_host(sink, Field::SentByHost, &via.host);
    sink.number(Field::SentByPort, via.port.map_or(0, u64::from));
    for route in m.routes() {
        if let Some(host) = &route?.uri.host {
            our_host(sink, Field::RouteHost, host);
        }
    }
    sink.text(Field::CallId, m.call_id()?);
    let cseq = m.cseq()?;
    sink.number(Field::CSeqNumber, u64::from(cseq.seq));
    sink.text(Field::CSeqMethod, cseq.method.as_bytes());
    sink.text(Field::FromTag, m.header_from()?.tag().unwrap_or_default());
    if let Some(tag) = m.header_to()?.tag() {
        sink.text(Field::ToTag, tag);
    }
    let max_forwards = m.max_forwards()?.unwrap_or(70);
    sink.number(Field::MaxForwards, u64::from(max_forwards));
    let length = m.content_length()?.unwrap_or(0);
    sink.number(Field::ContentLength, length as u64);
    Ok(())
}

fn rsip_host(sink: &mut impl Sink, field: Field, host: &rsip::Host) {
    match host {
        rsip::Host::Domain(d) => sink.text(field, d.value().as_bytes()),
        rsip::Host::IpAddr(a) => sink.ip(field, *a),
    }
}

fn rsip_method(m: &rsip::Method) -> &'static str {
    use rsip::Method::*;
    match m {
        Ack => "ACK",
        Bye => "BYE",
        Cancel => "CANCEL",
        Info => "INFO",
        Invite => "INVITE",
        Message => "MESSAGE",
        Notify => "NOTIFY",
        Options => "OPTIONS",
        PRack => "PRACK",
        Publish => "PUBLISH",
        Refer => "REFER",
        Register => "REGISTER",
        Subscribe => "SUBSCRIBE",
        Update => "UPDATE",
    }
}

/// rsip 0.4: `SipMessage::try_from` and its typed headers.
pub fn rsip(buf: &[u8], sink: &mut impl Sink) -> Result<(), rsip::Error> {
    use rsip::prelude::*;
    let m = rsip::SipMessage::try_from(buf)?;
    let via = m.via_header()?.typed()?;
    let branch = via.branch().map_or("", |b| b.value());
    sink.text(Field::Branch, branch.as_bytes());
    rsip_host(sink, Field::SentByHost, &via.uri.host_with_port.host);
    let port = via
        .uri
        .host_with_port
        .port
        .map_or(0, |p| u64::from(*p.value()));
    sink.number(Field::SentByPort, port);
    for header in m.headers().iter() {
        if let rsip::Header::Route(route) = header {
            for uri in route.typed()?.uris() {
                rsip_host(sink, Field::RouteHost, &uri.uri.host_with_port.host);
            }
        }
    }
    sink.text(Field::CallId, m.call_id_header()?.value().as_bytes());
    let cseq = m.cseq_header()?.typed()?;
    sink.number(Field::CSeqNumber, u64::from(cseq.seq));
    sink.text(Field::CSeqMethod, rsip_method(&cseq.method).as_bytes());
    let from_tag = m.from_header()?.tag()?;
    sink.text(
        Field::FromTag,
        from_tag.as_ref().map_or("", |t| t.value()).as_bytes(),
    );
    if let Some(tag) = m.to_header()?.tag()? {
        sink.text(Field::ToTag, tag.value().as_bytes());
    }
    sink.number(
        Field::MaxForwards,
        u64::from(m.max_forwards_header()?.num()?),
    );
    let length = m.headers().iter().find_map(|h| match h {
        rsip::Header::ContentLength(l) => Some(l),
        _ => None,
    });
    let length = length.map(|l| l.length()).transpose()?.unwrap_or(0);
    sink.number(Field::ContentLength, u64::from(length));
    Ok(())
}

/// Nanoseconds per call of `f`: the median of 31 samples of about 20 ms
/// each, after 200 ms of warm-up.
pub fn nanos_per_call(mut f: impl FnMut()) -> f64 {
    let warm_up = Instant::now();
    let mut calls_per_sample: u64 = 0;
    while warm_up.elapsed() < Duration::from_millis(200) {
        f();
        calls_per_sample += 1;
    }
    let calls_per_sample = (calls_per_sample / 10).max(1);
    let mut samples: Vec<f64> = (0..31)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls_per_sample {
                f();
            }
            start.elapsed().as_nanos() as f64 / calls_per_sample as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
