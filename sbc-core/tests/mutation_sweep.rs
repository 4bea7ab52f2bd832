//! A deterministic mutation sweep over the SIP parser: the 49 RFC 4475
//! torture messages plus a realistic INVITE, 200 OK and REGISTER, each
//! mutated by every single-byte deletion, byte substitutions at every offset,
//! truncation at every offset, duplicated lines and splices of two messages.
//! Every mutant goes through datagram framing, both parsers, every typed
//! accessor, validation, the printer and a stream framer fed in uneven
//! chunks. Nothing may panic, and a few invariants must hold (a framed
//! message parses; printing is a fixpoint after one pass; a stream frames a
//! message where a datagram does). The only randomness is a fixed seed; a
//! failure is reported with the mutant as a hex dump.

use bytes::Bytes;
use sbc_core::sip::framing::{Frame, StreamFramer, frame_datagram};
use sbc_core::sip::headers::scalar::{parse_expires, parse_max_forwards};
use sbc_core::sip::headers::{CSeq, HeaderAccess, MediaType, NameAddr, Via};
use sbc_core::sip::uri::{Host, Uri};
use sbc_core::sip::validate::{
    UasPolicy, check_as_uas, is_for_uac, validate_request, validate_response,
};
use sbc_core::sip::{HeaderName, Limits, Message, MessageView};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

const SEED: u64 = 0x5EED_4475_0BAD_F00D;

/// The bytes substituted, one per offset in rotation.
const SUBSTITUTES: [u8; 13] = [
    0x00, b'\r', b'\n', b' ', b':', b';', b',', b'<', b'>', b'"', b'\\', b'%', 0xff,
];

const INVITE: &[u8] = b"INVITE sip:+15551234567@pbx.example.net;user=phone SIP/2.0\r\n\
Via: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK-3f1a9c;rport\r\n\
Via: SIP/2.0/TCP [2001:db8::17]:5061;branch=z9hG4bK-77e0;received=2001:db8::99\r\n\
Max-Forwards: 69\r\n\
Route: <sip:edge.example.net;lr>, <sip:core.example.net;lr;transport=tcp>\r\n\
From: \"Alice \\\"A\\\" Smith\" <sip:alice@example.com>;tag=a73kszlfl\r\n\
To: <sip:+15551234567@pbx.example.net;user=phone>\r\n\
Call-ID: 1j9FpLxk3uxtm8tn@203.0.113.7\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:alice@203.0.113.7:5060;transport=udp>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK\r\n\
Supported: replaces, timer, 100rel\r\n\
Session-Expires: 1800;refresher=uac\r\n\
User-Agent: Softphone/4.2\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 155\r\n\
\r\n\
v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 203.0.113.7\r\n\
s=-\r\n\
c=IN IP4 203.0.113.7\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0 8 101\r\n\
a=rtpmap:101 telephone-event/8000\r\n";

const OK_200: &[u8] = b"SIP/2.0 200 OK\r\n\
v: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK-3f1a9c;rport=5060;received=198.51.100.4\r\n\
Record-Route: <sip:core.example.net;lr;transport=tcp>,\r\n\x20<sip:edge.example.net;lr>\r\n\
f: \"Alice\" <sip:alice@example.com>;tag=a73kszlfl\r\n\
t: <sip:+15551234567@pbx.example.net;user=phone>;tag=as5e3a1b7c\r\n\
i: 1j9FpLxk3uxtm8tn@203.0.113.7\r\n\
CSeq: 1 INVITE\r\n\
m: <sip:pbx@192.0.2.10:5060>;expires=3600\r\n\
Require: timer\r\n\
Session-Expires: 1800;refresher=uac\r\n\
Server: PBX 18.2\r\n\
c: application/sdp\r\n\
l: 94\r\n\
\r\n\
v=0\r\n\
o=pbx 1 1 IN IP4 192.0.2.10\r\n\
s=pbx\r\n\
c=IN IP4 192.0.2.10\r\n\
t=0 0\r\n\
m=audio 18000 RTP/AVP 0\r\n";

const REGISTER: &[u8] = b"REGISTER sips:registrar.example.com SIP/2.0\r\n\
Via: SIP/2.0/TLS 10.1.2.3:50672;branch=z9hG4bKnashds7;alias\r\n\
Max-Forwards: 70\r\n\
From: Bob <sips:bob@example.com>;tag=456248\r\n\
To: Bob <sips:bob@example.com>\r\n\
Call-ID: 843817637684230@998sdasdh09\r\n\
CSeq: 1826 REGISTER\r\n\
Contact: <sips:bob@10.1.2.3:50672;transport=tls>;expires=7200;q=0.8,\r\n\
\x20\"Bob mobile\" <sip:bob@mobile.example.com>;expires=60\r\n\
Authorization: Digest username=\"bob\", realm=\"example.com\", nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\",\r\n\
\x20uri=\"sips:registrar.example.com\", response=\"dfe56131d1958046689d83306477ecc\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"0a4f113b\"\r\n\
Expires: 7200\r\n\
Accept: application/sdp, multipart/mixed\r\n\
Date: Sat, 21 Nov 2026 02:15:00 GMT\r\n\
Content-Length: 0\r\n\
\r\n";

/// SplitMix64: small, fast, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = format!("{}/tests/data/rfc4475", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "dat"))
        .collect();
    files.sort();
    let mut all: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| {
            let name = p.file_stem().expect("file name").to_string_lossy();
            (name.into_owned(), std::fs::read(p).expect("readable"))
        })
        .collect();
    assert_eq!(all.len(), 49, "RFC 4475 has 49 messages");
    for (name, bytes) in [
        ("invite", INVITE),
        ("ok200", OK_200),
        ("register", REGISTER),
    ] {
        all.push((name.to_owned(), bytes.to_vec()));
    }
    all
}

// ------------------------------------------------------------------ mutants

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Delete,
    Substitute,
    Truncate,
    DuplicateLine,
    Splice,
}

const KINDS: [Kind; 5] = [
    Kind::Delete,
    Kind::Substitute,
    Kind::Truncate,
    Kind::DuplicateLine,
    Kind::Splice,
];

/// Offsets just past each LF, with 0 and the end: the line boundaries.
fn line_starts(m: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        m.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1),
    );
    if *starts.last().expect("not empty") != m.len() {
        starts.push(m.len());
    }
    starts
}

/// Calls `f(description, mutant)` for every mutant of `kind` made from
/// message `i` of the corpus.
fn for_each_mutant(
    kind: Kind,
    i: usize,
    corpus: &[(String, Vec<u8>)],
    rng: &mut Rng,
    f: &mut dyn FnMut(String, Vec<u8>),
) {
    let (name, m) = &corpus[i];
    match kind {
        Kind::Delete => {
            for p in 0..m.len() {
                let mut x = m.clone();
                x.remove(p);
                f(format!("{name}: byte {p} deleted"), x);
            }
        }
        Kind::Substitute => {
            // One substitute per offset, rotating, so every substitute lands
            // on every 13th offset of every message.
            for p in 0..m.len() {
                let b = SUBSTITUTES[(p + i) % SUBSTITUTES.len()];
                let mut x = m.clone();
                x[p] = b;
                f(format!("{name}: byte {p} set to {b:#04x}"), x);
            }
        }
        Kind::Truncate => {
            for p in 0..m.len() {
                f(format!("{name}: truncated at {p}"), m[..p].to_vec());
            }
        }
        Kind::DuplicateLine => {
            let starts = line_starts(m);
            let lines = starts.len() - 1;
            for l in 0..lines {
                let (a, b) = (starts[l], starts[l + 1]);
                let mut x = m[..b].to_vec();
                x.extend_from_slice(&m[a..]);
                f(format!("{name}: line {l} doubled"), x);
            }
            for _ in 0..24 {
                let l = rng.below(lines);
                let at = starts[rng.below(starts.len())];
                let mut x = m[..at].to_vec();
                x.extend_from_slice(&m[starts[l]..starts[l + 1]]);
                x.extend_from_slice(&m[at..]);
                f(format!("{name}: line {l} copied to offset {at}"), x);
            }
        }
        Kind::Splice => {
            let (other_name, other) = &corpus[(i + 1) % corpus.len()];
            let mut both = m.clone();
            both.extend_from_slice(other);
            f(format!("{name} followed by {other_name}"), both);
            for _ in 0..24 {
                let (other_name, other) = &corpus[rng.below(corpus.len())];
                let cut = rng.below(m.len() + 1);
                let from = rng.below(other.len() + 1);
                let mut x = m[..cut].to_vec();
                x.extend_from_slice(&other[from..]);
                f(format!("{name}[..{cut}] + {other_name}[{from}..]"), x);
            }
        }
    }
}

// ------------------------------------------------------------ the pipeline

/// Every typed accessor, and every typed parser on every header value and
/// list element.
fn read_everything(m: &impl HeaderAccess) {
    if let Ok(v) = m.top_via() {
        let _ = (v.branch(), v.received(), v.rport(), v.sent_by());
        let _ = v.has_rfc3261_branch();
    }
    for v in m.vias().flatten() {
        let _ = v.params.iter().count();
    }
    for a in [m.header_from(), m.header_to()].into_iter().flatten() {
        let _ = (a.tag(), a.uri.params().count(), a.uri.param("transport"));
        let _ = (a.uri.headers(), a.uri.is_sip(), a.params.iter().count());
    }
    let _ = (m.call_id(), m.cseq(), m.max_forwards(), m.content_length());
    let _ = (m.expires(), m.is_wildcard_contact());
    if let Ok(Some(t)) = m.content_type() {
        let _ = (t.is("application", "sdp"), t.params.iter().count());
    }
    for a in m
        .contacts()
        .chain(m.routes())
        .chain(m.record_routes())
        .flatten()
    {
        let _ = (a.tag(), a.params.get("expires"), a.uri.param("lr"));
    }
    for name in [
        HeaderName::Supported,
        HeaderName::Require,
        HeaderName::ProxyRequire,
        HeaderName::Unsupported,
        HeaderName::Allow,
    ] {
        let _ = m.option_tags(name).count();
    }
}

fn parse_every_value(values: &mut dyn Iterator<Item = &[u8]>) {
    for value in values {
        let _ = (Via::parse(value), NameAddr::parse(value, "To"));
        let _ = (
            CSeq::parse(value),
            MediaType::parse(value),
            Uri::parse(value),
        );
        let _ = (
            Host::parse(value),
            parse_max_forwards(value),
            parse_expires(value),
        );
        for element in sbc_core::sip::headers::scalar::tokens(value) {
            let _ = element;
        }
    }
}

/// Everything a parsed message must survive. `seen` holds the frames of
/// this mutant already checked, so identical frames are checked once.
fn check_message(
    frame: &Bytes,
    m: &Message,
    policy: &UasPolicy,
    seen: &mut Vec<Bytes>,
) -> Result<(), String> {
    if seen.contains(frame) {
        return Ok(());
    }
    seen.push(frame.clone());
    read_everything(m);
    parse_every_value(&mut m.headers.iter().map(|h| &h.value[..]));
    if m.is_request() {
        let _ = validate_request(m);
        let _ = check_as_uas(m, policy);
    } else {
        let _ = (validate_response(m), is_for_uac(m));
    }
    // One print settles the message: the second print is byte-identical,
    // and only Content-Length lines may differ from what was parsed.
    let relaxed = Limits {
        max_message_size: usize::MAX,
        max_headers: usize::MAX,
    };
    let printed = m.to_bytes();
    let again = Message::parse(printed.clone(), &relaxed)
        .map_err(|e| format!("printed message does not parse ({e}):\n{}", hex(&printed)))?;
    if again.to_bytes() != printed {
        return Err(format!("printing is not a fixpoint:\n{}", hex(&printed)));
    }
    let not_length = |h: &&sbc_core::sip::Header| h.name != HeaderName::ContentLength;
    let same = again.start == m.start
        && again.body == m.body
        && again
            .headers
            .iter()
            .filter(not_length)
            .eq(m.headers.iter().filter(not_length));
    if !same {
        return Err(format!("printing changed the message:\n{}", hex(&printed)));
    }
    Ok(())
}

/// Feeds `raw` to a stream framer in chunks of 1..=64 bytes; returns the
/// first message frame, checking that every frame holds exactly one message.
fn stream(
    raw: &[u8],
    rng: &mut Rng,
    policy: &UasPolicy,
    seen: &mut Vec<Bytes>,
) -> Result<Option<Bytes>, String> {
    let mut framer = StreamFramer::new(Limits::default());
    let mut first = None;
    let mut rest = raw;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at((1 + rng.below(64)).min(rest.len()));
        rest = tail;
        if framer.push(chunk).is_err() {
            return Ok(first);
        }
        loop {
            match framer.poll_frame() {
                Ok(Some(Frame::Message(f))) => {
                    if !seen.contains(&f) {
                        let view = MessageView::parse(&f, &Limits::default())
                            .map_err(|e| format!("stream frame does not parse: {e}"))?;
                        let m = Message::from_view(&view, &f)
                            .map_err(|e| format!("stream frame does not parse: {e}"))?;
                        if view.head_len + m.body.len() != f.len() {
                            return Err("stream frame holds more than its message".into());
                        }
                        check_message(&f, &m, policy, seen)?;
                    }
                    first.get_or_insert(f);
                }
                Ok(Some(Frame::KeepAlive { .. })) => {}
                Ok(None) => break,
                Err(_) => return Ok(first),
            }
        }
    }
    Ok(first)
}

/// The whole pipeline on one mutant.
fn exercise(raw: &[u8], rng: &mut Rng, policy: &UasPolicy) -> Result<(), String> {
    let limits = Limits::default();
    let bytes = Bytes::copy_from_slice(raw);
    let seen = &mut Vec::new();
    if let Ok(view) = MessageView::parse(raw, &limits) {
        // The routing reads; the rest of the accessors run on the Message,
        // through the same HeaderAccess code.
        let _ = (
            view.method(),
            view.is_request(),
            view.call_id(),
            view.cseq(),
        );
        let _ = (view.top_via(), view.header_from(), view.header_to());
        let _ = (view.routes().count(), view.content_length());
    }
    let whole = Message::parse(bytes.clone(), &limits);
    if let Ok(m) = &whole {
        check_message(&bytes, m, policy, seen)?;
    }
    let datagram = match frame_datagram(bytes.clone(), &limits) {
        Ok(Frame::Message(f)) => {
            let m = if f == bytes {
                whole.map_err(|e| format!("framed datagram does not parse: {e}"))?
            } else {
                let m = Message::parse(f.clone(), &limits)
                    .map_err(|e| format!("framed datagram does not parse: {e}"))?;
                check_message(&f, &m, policy, seen)?;
                m
            };
            m.header(HeaderName::ContentLength).map(|_| f)
        }
        _ => None,
    };
    let streamed = stream(raw, rng, policy, seen)?;
    if let Some(d) = datagram
        && streamed.as_ref() != Some(&d)
    {
        return Err(format!(
            "a datagram frames a message with Content-Length but a stream {}",
            match streamed {
                Some(s) => format!("frames another:\n{}", hex(&s)),
                None => "frames none".into(),
            }
        ));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let hexes: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let text: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        out.push_str(&format!(
            "{:08x}  {:<48}  {text}\n",
            row * 16,
            hexes.join(" ")
        ));
    }
    out
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic".into())
}

thread_local! {
    /// Where the last panic on this thread happened.
    static PANIC_AT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

#[test]
fn no_mutant_panics_or_breaks_an_invariant() {
    let corpus = corpus();
    let jobs: Vec<(Kind, usize)> = KINDS
        .iter()
        .flat_map(|&k| (0..corpus.len()).map(move |i| (k, i)))
        .collect();
    let next_job = AtomicUsize::new(0);
    let counts: Vec<AtomicUsize> = KINDS.iter().map(|_| AtomicUsize::new(0)).collect();
    let failures = Mutex::new(Vec::<String>::new());
    let failed = AtomicUsize::new(0);
    let policy = UasPolicy::default();

    // Panics are caught and reported below with their mutant and where
    // they happened; keep the default hook from printing each one as well.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(ToString::to_string);
        PANIC_AT.with(|p| *p.borrow_mut() = at.unwrap_or_default());
    }));
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let j = next_job.fetch_add(1, Ordering::Relaxed);
                    let Some(&(kind, i)) = jobs.get(j) else { break };
                    // Seeded per job, so the sweep does not depend on threads.
                    let mut rng = Rng(SEED ^ (j as u64).wrapping_mul(0x9E37_79B9));
                    let mut stream_rng = Rng(rng.next());
                    let mut run = |what: String, mutant: Vec<u8>| {
                        counts[kind as usize].fetch_add(1, Ordering::Relaxed);
                        let outcome = catch_unwind(AssertUnwindSafe(|| {
                            exercise(&mutant, &mut stream_rng, &policy)
                        }));
                        let problem = match outcome {
                            Ok(Ok(())) => return,
                            Ok(Err(broken)) => broken,
                            Err(payload) => format!(
                                "panic at {}: {}",
                                PANIC_AT.with(|p| p.borrow().clone()),
                                panic_text(&*payload)
                            ),
                        };
                        if failed.fetch_add(1, Ordering::Relaxed) < 8 {
                            let report = format!("{what}: {problem}\nmutant:\n{}", hex(&mutant));
                            failures.lock().expect("not poisoned").push(report);
                        }
                    };
                    for_each_mutant(kind, i, &corpus, &mut rng, &mut run);
                }
            });
        }
    });
    std::panic::set_hook(hook);

    let counts: Vec<usize> = counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let total: usize = counts.iter().sum();
    let breakdown: Vec<String> = KINDS
        .iter()
        .zip(&counts)
        .map(|(k, n)| format!("{k:?} {n}"))
        .collect();
    println!(
        "mutation sweep: {total} mutants of {} messages ({})",
        corpus.len(),
        breakdown.join(", ")
    );
    let failed = failed.load(Ordering::Relaxed);
    let reports = failures.into_inner().expect("not poisoned");
    assert!(
        failed == 0,
        "{failed} of {total} mutants failed; the first ones:\n\n{}",
        reports.join("\n")
    );
}

#[test]
fn realistic_seeds_are_valid() {
    for raw in [INVITE, OK_200, REGISTER] {
        let Ok(Frame::Message(f)) = frame_datagram(Bytes::from_static(raw), &Limits::default())
        else {
            panic!("framing failed:\n{}", hex(raw));
        };
        assert_eq!(f.len(), raw.len(), "Content-Length covers the body");
        let m = Message::parse(f, &Limits::default()).expect("parses");
        let valid = if m.is_request() {
            validate_request(&m)
        } else {
            validate_response(&m)
        };
        assert_eq!(valid, Ok(()), "{}", String::from_utf8_lossy(raw));
    }
}
